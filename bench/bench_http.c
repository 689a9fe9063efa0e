/*
 * Benchmark: per-request overhead of the lws HTTP client (net/) on
 * loopback, against a raw blocking-socket request to the same server in
 * the same run. Prints p50/p90/p99 per request and the difference.
 * Usage: bench_http [requests] [post_bytes]   (see bench/http.sh)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_client.h"
#include "plugin/loader.h"
#include "util/error.h"
#include <skyx/str.h>
#include <skyx/time.h>

/* --- a minimal loopback server: one thread per connection ----------------- */

static int srv_fd;
static volatile int srv_stop;

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[65536];
	size_t have = 0;
	long left = -1; /* body bytes still to read */
	char *end = NULL;
	while (!end && have < sizeof buf - 1) {
		ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
		if (r <= 0)
			goto out;
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		goto out;
	char *cl = strcasestr(buf, "content-length:");
	left = (cl && cl < end ? atol(cl + 15) : 0) -
	       (long)(have - (size_t)(end + 4 - buf));
	while (left > 0) {
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r <= 0)
			goto out;
		left -= r;
	}
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	                   "Content-Length: 2\r\nConnection: close\r\n\r\nok";
	send(fd, resp, strlen(resp), MSG_NOSIGNAL);
out:
	close(fd);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	while (!srv_stop) {
		int fd = accept(srv_fd, NULL, NULL);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, conn_main, (void *)(intptr_t)fd))
			close(fd);
		pthread_attr_destroy(&at);
	}
	return NULL;
}

static int server_start(void)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	int one = 1;
	pthread_t t;
	srv_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv_fd, (struct sockaddr *)&a, sizeof a) ||
	    listen(srv_fd, 512) ||
	    getsockname(srv_fd, (struct sockaddr *)&a, &al))
		return -1;
	pthread_create(&t, NULL, accept_main, NULL);
	pthread_detach(t);
	return ntohs(a.sin_port);
}

/* --- the two clients --------------------------------------------------------- */

/* Baseline: connect, write, read to EOF, close, on the calling thread. */
static int raw_request(int port, const char *body, size_t blen)
{
	struct sockaddr_in a = {0};
	char head[256], buf[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = 0;
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
		close(fd);
		return -1;
	}
	int n = snprintf(head, sizeof head,
	                 "%s /bench HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	                 "User-Agent: raw\r\nContent-Length: %zu\r\n"
	                 "Connection: close\r\n\r\n",
	                 blen ? "POST" : "GET", port, blen);
	send(fd, head, (size_t)n, MSG_NOSIGNAL);
	for (size_t off = 0; off < blen;) {
		ssize_t w = send(fd, body + off, blen - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	ssize_t r;
	size_t got = 0;
	while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
		got += (size_t)r;
	ok = got > 12 && !memcmp(buf, "HTTP/1.1 200", 12);
	close(fd);
	return ok ? 0 : -1;
}

static int client_request(sky_http_client *c, const char *url, const char *body,
                          size_t blen)
{
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	sky_http_response *resp = NULL;
	r.method = blen ? "POST" : "GET";
	r.url = url;
	r.body = body;
	r.body_len = blen;
	r.timeout_ms = 10000;
	int rc = sky_http_client_request(c, &r, &resp);
	int ok = rc == 0 && resp->status == 200 && !strcmp(resp->body, "ok");
	sky_http_response_free(resp);
	return ok ? 0 : -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, int n, double p)
{
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	size_t blen = argc > 2 ? (size_t)atol(argv[2]) : 0;
	sky_http_client *c = NULL;
	sky_http_client_options o = {0};
	int port, fails = 0;
	char url[64];

	if (n < 10)
		n = 10;
	port = server_start();
	if (port < 0) {
		fprintf(stderr, "cannot start the server\n");
		return 1;
	}
	o.http_proxy = o.https_proxy = "";
	if (sky_http_client_new(&o, &c)) {
		fprintf(stderr, "client: %s\n", sky_error_last());
		return 1;
	}
	snprintf(url, sizeof url, "http://127.0.0.1:%d/bench", port);
	char *body = blen ? malloc(blen) : NULL;
	if (blen)
		memset(body, 'x', blen);
	int64_t *raw = calloc((size_t)n, sizeof *raw);
	int64_t *cli = calloc((size_t)n, sizeof *cli);

	for (int i = 0; i < 100; i++) { /* warm-up */
		raw_request(port, body, blen);
		client_request(c, url, body, blen);
	}
	/* Interleaved in rounds so drift hits both equally. */
	for (int i = 0; i < n; i += 50) {
		for (int j = i; j < i + 50 && j < n; j++) {
			int64_t t0 = skyx_time_mono_us();
			fails += raw_request(port, body, blen) != 0;
			raw[j] = skyx_time_mono_us() - t0;
		}
		for (int j = i; j < i + 50 && j < n; j++) {
			int64_t t0 = skyx_time_mono_us();
			fails += client_request(c, url, body, blen) != 0;
			cli[j] = skyx_time_mono_us() - t0;
		}
	}
	qsort(raw, (size_t)n, sizeof *raw, cmp_i64);
	qsort(cli, (size_t)n, sizeof *cli, cmp_i64);
	printf("loopback %s, %zu-byte body, %d requests each, new TCP "
	       "connection per request\n",
	       blen ? "POST" : "GET", blen, n);
	printf("%-22s %8s %8s %8s\n", "us per request", "p50", "p90", "p99");
	printf("%-22s %8lld %8lld %8lld\n", "raw blocking socket",
	       (long long)pct(raw, n, .5), (long long)pct(raw, n, .9),
	       (long long)pct(raw, n, .99));
	printf("%-22s %8lld %8lld %8lld\n", "sky_http_client",
	       (long long)pct(cli, n, .5), (long long)pct(cli, n, .9),
	       (long long)pct(cli, n, .99));
	printf("%-22s %8lld %8lld %8lld\n", "overhead (difference)",
	       (long long)(pct(cli, n, .5) - pct(raw, n, .5)),
	       (long long)(pct(cli, n, .9) - pct(raw, n, .9)),
	       (long long)(pct(cli, n, .99) - pct(raw, n, .99)));
	printf("%-22s %8.2f %8.2f %8.2f\n", "ratio client / raw",
	       (double)pct(cli, n, .5) / (double)pct(raw, n, .5),
	       (double)pct(cli, n, .9) / (double)pct(raw, n, .9),
	       (double)pct(cli, n, .99) / (double)pct(raw, n, .99));
	if (fails)
		printf("FAILED requests: %d\n", fails);
	sky_http_client_free(c);
	srv_stop = 1;
	shutdown(srv_fd, SHUT_RDWR);
	close(srv_fd);
	free(raw);
	free(cli);
	free(body);
	return fails ? 1 : 0;
}
