/* A threaded HTTP forward proxy on loopback for tests, and a raw-socket
 * client (see proxy.h). */
#ifndef _GNU_SOURCE
#	define _GNU_SOURCE
#endif
#include "proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/hash.h"
#include <skyx/str.h>

#define MAX_CONNS 128
#define MAX_HEAD (64 * 1024)
#define MAX_MSG (32 * 1024 * 1024)
#define IO_TIMEOUT_MS 30000
#define VIA "1.1 skytest-proxy"

struct conn {
	int fd;
	int origin; /* -1 when none */
	pthread_t thread;
	int used;
	int done;
	skytest_proxy *p;
};

struct host_count {
	char *name;
	long n;
};

struct skytest_proxy {
	int lfd;
	int port;
	char url[64];
	char *credentials; /* "user:pass", NULL when none is required */
	pthread_t accept_thread;
	pthread_mutex_t lock; /* stats, hosts, conns */
	volatile int stopping;
	skytest_proxy_stats stats;
	struct host_count *hosts;
	size_t n_hosts;
	struct conn conns[MAX_CONNS];
};

/* ---- buffered socket reading ------------------------------------------- */

struct rbuf {
	int fd;
	char *data;
	size_t len;
	size_t cap;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read more bytes; 1 when some came, 0 on orderly close, -1 on error,
 * timeout, the size cap or `stop`. */
static int rbuf_fill(struct rbuf *b, int64_t deadline, volatile int *stop)
{
	if (b->len + 1 >= b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16384;
		if (cap > MAX_MSG)
			return -1;
		char *n = realloc(b->data, cap);
		if (!n)
			return -1;
		b->data = n;
		b->cap = cap;
	}
	for (;;) {
		if (stop && *stop)
			return -1;
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -1;
		struct pollfd pfd = {b->fd, POLLIN, 0};
		int pr = poll(&pfd, 1, left < 200 ? (int)left : 200);
		if (pr < 0 && errno != EINTR)
			return -1;
		if (pr <= 0)
			continue;
		ssize_t r =
		    recv(b->fd, b->data + b->len, b->cap - b->len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? 0 : -1;
		b->len += (size_t)r;
		b->data[b->len] = '\0';
		return 1;
	}
}

/* Length of the head (through the blank line), reading as needed; -1 when
 * none arrives. */
static long rbuf_head(struct rbuf *b, int64_t deadline, volatile int *stop)
{
	for (;;) {
		char *end =
		    b->len ? memmem(b->data, b->len, "\r\n\r\n", 4) : NULL;
		if (end)
			return (long)(end - b->data) + 4;
		if (b->len >= MAX_HEAD || rbuf_fill(b, deadline, stop) <= 0)
			return -1;
	}
}

/* Until at least `want` bytes are buffered; 0 or -1. */
static int rbuf_need(struct rbuf *b, size_t want, int64_t deadline,
                     volatile int *stop)
{
	while (b->len < want)
		if (rbuf_fill(b, deadline, stop) <= 0)
			return -1;
	return 0;
}

/* Drop the first n bytes. */
static void rbuf_consume(struct rbuf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	if (b->data)
		b->data[b->len] = '\0';
}

/* Where a chunked body starting at `start` ends (after the last CRLF),
 * reading as needed; 0 when it never completes. */
static size_t rbuf_chunked_end(struct rbuf *b, size_t start, int64_t deadline,
                               volatile int *stop)
{
	size_t pos = start;
	for (;;) {
		char *eol;
		while (!(eol = b->len > pos ? memmem(b->data + pos,
		                                     b->len - pos, "\r\n", 2)
		                            : NULL))
			if (rbuf_fill(b, deadline, stop) <= 0)
				return 0;
		unsigned long size = strtoul(b->data + pos, NULL, 16);
		pos = (size_t)(eol - b->data) + 2;
		if (size == 0) {
			/* Trailers (normally none) end with a blank line. */
			for (;;) {
				while (!(eol = b->len > pos
				                   ? memmem(b->data + pos,
				                            b->len - pos,
				                            "\r\n", 2)
				                   : NULL))
					if (rbuf_fill(b, deadline, stop) <= 0)
						return 0;
				int blank = eol == b->data + pos;
				pos = (size_t)(eol - b->data) + 2;
				if (blank)
					return pos;
			}
		}
		if (size > MAX_MSG ||
		    rbuf_need(b, pos + size + 2, deadline, stop))
			return 0;
		pos += size + 2;
	}
}

/* ---- small HTTP helpers ------------------------------------------------ */

char *skytest_raw_header(const char *head, const char *name)
{
	size_t nl = strlen(name);
	const char *end = strstr(head, "\r\n\r\n");
	for (const char *l = strstr(head, "\r\n"); l && (!end || l < end);
	     l = strstr(l + 2, "\r\n")) {
		const char *line = l + 2;
		if (!strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return skyx_strndup(v, strcspn(v, "\r\n"));
		}
	}
	return NULL;
}

int skytest_raw_status(const char *response)
{
	int status;
	if (!response || sscanf(response, "HTTP/%*s %d", &status) != 1)
		return -1;
	return status;
}

const char *skytest_raw_body(const char *response)
{
	const char *e = response ? strstr(response, "\r\n\r\n") : NULL;
	return e ? e + 4 : NULL;
}

static int header_has_token(const char *head, const char *name,
                            const char *token)
{
	char *v = skytest_raw_header(head, name);
	int has = v && strcasestr(v, token);
	free(v);
	return has;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * One complete message from `b`: head plus body as framed by
 * Content-Length, chunked encoding or (`to_close`) the end of the
 * stream. Returns its length (it stays in the buffer) or -1.
 * `no_body` for answers to HEAD and 1xx/204/304.
 */
static long read_message(struct rbuf *b, int to_close, int no_body,
                         int64_t deadline, volatile int *stop)
{
	long hl = rbuf_head(b, deadline, stop);
	if (hl < 0)
		return -1;
	char saved = b->data[hl];
	b->data[hl] = '\0';
	char *cl = skytest_raw_header(b->data, "content-length");
	int chunked = header_has_token(b->data, "transfer-encoding", "chunked");
	b->data[hl] = saved;
	long total = -1;
	if (no_body) {
		total = hl;
	} else if (chunked) {
		size_t end = rbuf_chunked_end(b, (size_t)hl, deadline, stop);
		total = end ? (long)end : -1;
	} else if (cl) {
		char *stop_at;
		unsigned long n = strtoul(cl, &stop_at, 10);
		if (*cl && !*stop_at && n <= MAX_MSG &&
		    !rbuf_need(b, (size_t)hl + n, deadline, stop))
			total = hl + (long)n;
	} else if (to_close) {
		int r;
		while ((r = rbuf_fill(b, deadline, stop)) > 0)
			;
		total = r == 0 ? (long)b->len : -1;
	} else {
		total = hl; /* a request without a body */
	}
	free(cl);
	return total;
}

/* ---- raw client -------------------------------------------------------- */

int skytest_raw_connect(int port)
{
	struct sockaddr_in a = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
		close(fd);
		return -1;
	}
	return fd;
}

int skytest_raw_send(int fd, const char *s, size_t len)
{
	return send_all(fd, s, len);
}

char *skytest_raw_read_response(int fd, int timeout_ms, size_t *len)
{
	struct rbuf b = {fd, NULL, 0, 0};
	long n = read_message(&b, 1, 0, mono_ms() + timeout_ms, NULL);
	if (n < 0) {
		free(b.data);
		return NULL;
	}
	/* Bytes after the message (a pipelined answer) are dropped. */
	b.data[n] = '\0';
	if (len)
		*len = (size_t)n;
	return b.data;
}

char *skytest_raw_read_head(int fd, int timeout_ms)
{
	struct rbuf b = {fd, NULL, 0, 0};
	long n = rbuf_head(&b, mono_ms() + timeout_ms, NULL);
	if (n < 0) {
		free(b.data);
		return NULL;
	}
	b.data[n] = '\0';
	return b.data;
}

char *skytest_raw_request(int port, const char *request, int timeout_ms)
{
	int fd = skytest_raw_connect(port);
	char *resp = NULL;
	if (fd < 0)
		return NULL;
	if (!send_all(fd, request, strlen(request)))
		resp = skytest_raw_read_response(fd, timeout_ms, NULL);
	close(fd);
	return resp;
}

/* ---- the proxy --------------------------------------------------------- */

static void count(skytest_proxy *p, long *field)
{
	pthread_mutex_lock(&p->lock);
	(*field)++;
	pthread_mutex_unlock(&p->lock);
}

static void record_host(skytest_proxy *p, const char *hostport)
{
	pthread_mutex_lock(&p->lock);
	p->stats.forwarded++;
	for (size_t i = 0; i < p->n_hosts; i++) {
		if (!strcmp(p->hosts[i].name, hostport)) {
			p->hosts[i].n++;
			pthread_mutex_unlock(&p->lock);
			return;
		}
	}
	struct host_count *n = realloc(p->hosts, (p->n_hosts + 1) * sizeof *n);
	if (n) {
		p->hosts = n;
		n[p->n_hosts].name = skyx_strdup(hostport);
		n[p->n_hosts].n = 1;
		p->n_hosts++;
	}
	pthread_mutex_unlock(&p->lock);
}

static int reply(int fd, int status, const char *reason,
                 const char *extra_headers, const char *body, int closing)
{
	char *msg = skyx_asprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain"
	                          "\r\nContent-Length: %zu\r\n%s%s\r\n%s",
	                          status, reason, strlen(body),
	                          extra_headers ? extra_headers : "",
	                          closing ? "Connection: close\r\n" : "", body);
	int rc = msg ? send_all(fd, msg, strlen(msg)) : -1;
	free(msg);
	return rc;
}

/* Does the head carry the configured Basic credentials? */
static int authorized(skytest_proxy *p, const char *head)
{
	if (!p->credentials)
		return 1;
	char *v = skytest_raw_header(head, "proxy-authorization");
	int ok = 0;
	if (v && !strncasecmp(v, "Basic ", 6)) {
		size_t n = 0;
		unsigned char *dec = sky_base64_decode(v + 6, &n);
		ok = dec && skyx_ct_equal(dec, n, p->credentials,
		                          strlen(p->credentials));
		free(dec);
	}
	free(v);
	return ok;
}

/* Split "host:port" / "[v6]:port"; only loopback hosts are accepted.
 * Returns the port, or -1 (not loopback / malformed). */
static int loopback_target(const char *hostport, int dflt_port, int *v6)
{
	char host[256];
	const char *port_s = NULL;
	if (hostport[0] == '[') {
		const char *e = strchr(hostport, ']');
		if (!e || (size_t)(e - hostport) >= sizeof host)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(e - hostport - 1),
		         hostport + 1);
		port_s = e[1] == ':' ? e + 2 : NULL;
	} else {
		size_t hl = strcspn(hostport, ":");
		if (hl >= sizeof host)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)hl, hostport);
		port_s = hostport[hl] == ':' ? hostport + hl + 1 : NULL;
	}
	int port = port_s ? atoi(port_s) : dflt_port;
	if (port <= 0 || port > 65535)
		return -1;
	struct in_addr a4;
	struct in6_addr a6;
	*v6 = 0;
	if (!strcasecmp(host, "localhost"))
		return port;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127 ? port : -1;
	if (inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6)) {
		*v6 = 1;
		return port;
	}
	return -1;
}

static int connect_origin(int port, int v6)
{
	int fd;
	if (v6) {
		struct sockaddr_in6 a = {0};
		a.sin6_family = AF_INET6;
		a.sin6_port = htons((uint16_t)port);
		a.sin6_addr = in6addr_loopback;
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a)) {
			close(fd);
			fd = -1;
		}
		return fd;
	}
	return skytest_raw_connect(port);
}

static int is_hop_by_hop(const char *line, size_t n)
{
	static const char *const hop[] = {"proxy-authorization",
	                                  "proxy-connection",
	                                  "connection",
	                                  "keep-alive",
	                                  "te",
	                                  "trailer",
	                                  "upgrade",
	                                  "via",
	                                  NULL};
	for (int i = 0; hop[i]; i++) {
		size_t hl = strlen(hop[i]);
		if (n > hl && !strncasecmp(line, hop[i], hl) && line[hl] == ':')
			return 1;
	}
	return 0;
}

/* The head the origin gets: origin-form target, hop-by-hop headers
 * dropped, Via added, one request per origin connection. */
static char *origin_head(const char *method, const char *path, const char *head,
                         const char *hostport)
{
	skyx_buf b = {0};
	char *via = skytest_raw_header(head, "via");
	int has_host = 0;
	skyx_buf_printf(&b, "%s %s HTTP/1.1\r\n", method, path);
	const char *end = strstr(head, "\r\n\r\n");
	for (const char *l = strstr(head, "\r\n"); l && l < end;) {
		const char *line = l + 2;
		const char *eol = strstr(line, "\r\n");
		size_t n = (size_t)(eol - line);
		if (n && !is_hop_by_hop(line, n)) {
			has_host |= !strncasecmp(line, "host:", 5);
			skyx_buf_append(&b, line, n + 2);
		}
		l = eol;
	}
	if (!has_host)
		skyx_buf_printf(&b, "Host: %s\r\n", hostport);
	skyx_buf_printf(&b, "Via: %s%s" VIA "\r\nConnection: close\r\n\r\n",
	                via ? via : "", via ? ", " : "");
	free(via);
	return skyx_buf_steal(&b);
}

/* The origin's answer as the client gets it: its own Connection headers
 * replaced by ours. Returns 1 when the client connection must close. */
static int relay_response(int client, const char *resp, size_t len,
                          int head_request)
{
	const char *end = strstr(resp, "\r\n\r\n");
	if (!end)
		return -1;
	int status = skytest_raw_status(resp);
	skyx_buf b = {0};
	const char *eol = strstr(resp, "\r\n");
	skyx_buf_append(&b, resp, (size_t)(eol - resp) + 2);
	for (const char *l = eol; l < end;) {
		const char *line = l + 2;
		const char *e = strstr(line, "\r\n");
		size_t n = (size_t)(e - line);
		if (n && !is_hop_by_hop(line, n))
			skyx_buf_append(&b, line, n + 2);
		l = e;
	}
	/* Without a length or chunking the body ends at close. */
	char *cl = skytest_raw_header(resp, "content-length");
	int framed = cl ||
	             header_has_token(resp, "transfer-encoding", "chunked") ||
	             head_request || status == 204 || status == 304 ||
	             (status >= 100 && status < 200);
	free(cl);
	if (!framed)
		skyx_buf_puts(&b, "Connection: close\r\n");
	skyx_buf_puts(&b, "\r\n");
	size_t hl = (size_t)(end - resp) + 4;
	int rc = send_all(client, b.data, b.len) ||
	         send_all(client, resp + hl, len - hl);
	skyx_buf_free(&b);
	return rc ? -1 : !framed;
}

/* Relay bytes both ways until either side closes or the proxy stops. */
static void tunnel(skytest_proxy *p, int a, int b)
{
	char buf[16384];
	for (;;) {
		struct pollfd pfd[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
		int pr = poll(pfd, 2, 200);
		if (p->stopping)
			return;
		if (pr < 0 && errno != EINTR)
			return;
		for (int i = 0; i < 2 && pr > 0; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = recv(pfd[i].fd, buf, sizeof buf, 0);
			if (r <= 0 || send_all(i ? a : b, buf, (size_t)r))
				return;
		}
	}
}

static void set_origin(struct conn *c, int fd)
{
	pthread_mutex_lock(&c->p->lock);
	c->origin = fd;
	pthread_mutex_unlock(&c->p->lock);
}

/* Handle one request whose head is in `in` (length hl). Returns 1 to keep
 * the client connection, 0 to close it. */
static int handle(struct conn *c, struct rbuf *in, long hl)
{
	skytest_proxy *p = c->p;
	char method[16] = "", target[4096] = "", path[4096] = "/";
	int keep = !header_has_token(in->data, "connection", "close") &&
	           !header_has_token(in->data, "proxy-connection", "close");
	if (sscanf(in->data, "%15s %4095s", method, target) != 2) {
		reply(c->fd, 400, "Bad Request", NULL, "bad request line\n", 1);
		return 0;
	}
	count(p, &p->stats.total);
	if (header_has_token(in->data, "transfer-encoding", "chunked")) {
		reply(c->fd, 411, "Length Required", NULL,
		      "skytest proxy: send a Content-Length\n", 1);
		return 0;
	}
	/* The whole request (body included) is read before answering, so
	 * a 407 leaves the connection ready for the retry. */
	long total =
	    read_message(in, 0, 0, mono_ms() + IO_TIMEOUT_MS, &p->stopping);
	if (total < 0)
		return 0;
	if (!authorized(p, in->data)) {
		count(p, &p->stats.challenged);
		reply(c->fd, 407, "Proxy Authentication Required",
		      "Proxy-Authenticate: Basic realm=\"skytest-proxy\"\r\n",
		      "proxy credentials required\n", !keep);
		rbuf_consume(in, (size_t)total);
		return keep;
	}
	if (p->credentials)
		count(p, &p->stats.authenticated);

	int connect_req = !strcmp(method, "CONNECT");
	char hostport[512];
	if (connect_req) {
		snprintf(hostport, sizeof hostport, "%.511s", target);
	} else if (!strncasecmp(target, "http://", 7)) {
		const char *h = target + 7;
		size_t n = strcspn(h, "/?#");
		snprintf(hostport, sizeof hostport, "%.*s",
		         (int)(n < 511 ? n : 511), h);
		snprintf(path, sizeof path, "%s%s", h[n] == '/' ? "" : "/",
		         h + n);
	} else {
		reply(c->fd, 400, "Bad Request", NULL,
		      "skytest proxy: absolute http:// URI or CONNECT only\n",
		      1);
		return 0;
	}
	int v6 = 0;
	int port = loopback_target(hostport, connect_req ? 443 : 80, &v6);
	if (port < 0) {
		count(p, &p->stats.refused);
		reply(c->fd, 403, "Forbidden", NULL,
		      "skytest proxy: loopback targets only\n", !keep);
		rbuf_consume(in, (size_t)total);
		return keep;
	}
	int origin = connect_origin(port, v6);
	if (origin < 0) {
		reply(c->fd, 502, "Bad Gateway", NULL,
		      "skytest proxy: origin refused the connection\n", 1);
		return 0;
	}
	set_origin(c, origin);
	record_host(p, hostport);
	int result = 0;
	if (connect_req) {
		const char *ok = "HTTP/1.1 200 Connection Established\r\n"
		                 "Via: " VIA "\r\n\r\n";
		if (!send_all(c->fd, ok, strlen(ok)) &&
		    (in->len == (size_t)total ||
		     !send_all(origin, in->data + total,
		               in->len - (size_t)total)))
			tunnel(p, c->fd, origin);
		goto done; /* the tunnel owned the connection */
	}
	char *head = origin_head(method, path, in->data, hostport);
	struct rbuf out = {origin, NULL, 0, 0};
	if (head && !send_all(origin, head, strlen(head)) &&
	    !send_all(origin, in->data + hl, (size_t)(total - hl))) {
		long n = read_message(&out, 1, !strcmp(method, "HEAD"),
		                      mono_ms() + IO_TIMEOUT_MS, &p->stopping);
		if (n < 0) {
			reply(c->fd, 502, "Bad Gateway", NULL,
			      "skytest proxy: no answer from the origin\n", 1);
		} else {
			int r = relay_response(c->fd, out.data, (size_t)n,
			                       !strcmp(method, "HEAD"));
			result = r == 0 && keep;
		}
	}
	free(head);
	free(out.data);
	rbuf_consume(in, (size_t)total);
done:
	set_origin(c, -1);
	close(origin);
	return result;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	skytest_proxy *p = c->p;
	struct rbuf in = {c->fd, NULL, 0, 0};
	for (;;) {
		/* Idle keep-alive connections wait until the proxy stops. */
		long hl = rbuf_head(&in, INT64_MAX, &p->stopping);
		if (hl < 0 || !handle(c, &in, hl))
			break;
	}
	free(in.data);
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	pthread_mutex_lock(&p->lock);
	c->done = 1;
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void reap(skytest_proxy *p, int all)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &p->conns[i];
		pthread_mutex_lock(&p->lock);
		int ready = c->used && (c->done || all);
		pthread_mutex_unlock(&p->lock);
		if (!ready)
			continue;
		pthread_join(c->thread, NULL);
		pthread_mutex_lock(&p->lock);
		c->used = 0;
		c->done = 0;
		pthread_mutex_unlock(&p->lock);
	}
}

static void *accept_main(void *arg)
{
	skytest_proxy *p = arg;
	while (!p->stopping) {
		struct pollfd pfd = {p->lfd, POLLIN, 0};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		int fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		reap(p, 0);
		struct conn *slot = NULL;
		pthread_mutex_lock(&p->lock);
		for (int i = 0; i < MAX_CONNS && !slot; i++)
			if (!p->conns[i].used)
				slot = &p->conns[i];
		if (slot) {
			slot->used = 1;
			slot->done = 0;
			slot->fd = fd;
			slot->origin = -1;
			slot->p = p;
		}
		pthread_mutex_unlock(&p->lock);
		if (!slot ||
		    pthread_create(&slot->thread, NULL, conn_main, slot)) {
			if (slot) {
				pthread_mutex_lock(&p->lock);
				slot->used = 0;
				pthread_mutex_unlock(&p->lock);
			}
			close(fd);
		}
	}
	return NULL;
}

skytest_proxy *skytest_proxy_start(const char *user, const char *pass)
{
	skytest_proxy *p = calloc(1, sizeof *p);
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	int one = 1;
	if (!p)
		return NULL;
	if (user)
		p->credentials = skyx_asprintf("%s:%s", user, pass ? pass : "");
	pthread_mutex_init(&p->lock, NULL);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (p->lfd < 0 ||
	    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    bind(p->lfd, (struct sockaddr *)&a, sizeof a) ||
	    listen(p->lfd, 128) ||
	    getsockname(p->lfd, (struct sockaddr *)&a, &al))
		goto fail;
	p->port = ntohs(a.sin_port);
	snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", p->port);
	if (pthread_create(&p->accept_thread, NULL, accept_main, p))
		goto fail;
	return p;
fail:
	if (p->lfd >= 0)
		close(p->lfd);
	pthread_mutex_destroy(&p->lock);
	free(p->credentials);
	free(p);
	return NULL;
}

void skytest_proxy_stop(skytest_proxy *p)
{
	if (!p)
		return;
	p->stopping = 1;
	pthread_join(p->accept_thread, NULL);
	close(p->lfd);
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &p->conns[i];
		if (!c->used || c->done)
			continue;
		shutdown(c->fd, SHUT_RDWR);
		if (c->origin >= 0)
			shutdown(c->origin, SHUT_RDWR);
	}
	pthread_mutex_unlock(&p->lock);
	reap(p, 1);
	for (size_t i = 0; i < p->n_hosts; i++)
		free(p->hosts[i].name);
	free(p->hosts);
	free(p->credentials);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int skytest_proxy_port(const skytest_proxy *p)
{
	return p->port;
}

const char *skytest_proxy_url(const skytest_proxy *p)
{
	return p->url;
}

void skytest_proxy_stats_get(skytest_proxy *p, skytest_proxy_stats *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->stats;
	pthread_mutex_unlock(&p->lock);
}

long skytest_proxy_host_count(skytest_proxy *p, const char *hostport)
{
	long n = 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_hosts; i++)
		if (!strcmp(p->hosts[i].name, hostport))
			n = p->hosts[i].n;
	pthread_mutex_unlock(&p->lock);
	return n;
}

char *skytest_proxy_hosts(skytest_proxy *p)
{
	skyx_buf b = {0};
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_hosts; i++)
		skyx_buf_printf(&b, "%s\n", p->hosts[i].name);
	pthread_mutex_unlock(&p->lock);
	return b.data ? skyx_buf_steal(&b) : skyx_strdup("");
}
