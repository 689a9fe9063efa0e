/*
 * Load on the real server: 200 concurrent API clients (keep-alive
 * connections, one thread each) for a bounded time while 8 runs execute
 * on the offline planner. Every answer must be the status the request
 * calls for, with a JSON body. The server's resident memory is measured
 * after a warm-up, after the first round and after a second identical
 * round: the second round may not add more than LOAD_RSS_SLACK_KB.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "httpd.h"
#include "rel.h"
#include "util/fs.h"

#define CLIENTS 200
#define RUNS 8
#define ROUND_MS 6000
/* What a second identical round may add to the server's RSS. Under
 * AddressSanitizer the server keeps freed memory in ASan's quarantine (up
 * to 256 MB) and its RSS climbs for a while with no leak at all (206 MB
 * after warm-up, +44 MB, then +9 MB in one CI run): the bound there only
 * catches gross growth; the plain build (CI's first pass) holds the real
 * 8 MiB bound, and LeakSanitizer looks for leaks in this one. */
#if defined(__SANITIZE_ADDRESS__)
#	define LOAD_UNDER_ASAN 1
#elif defined(__has_feature)
#	if __has_feature(address_sanitizer)
#		define LOAD_UNDER_ASAN 1
#	endif
#endif
#ifdef LOAD_UNDER_ASAN
#	define LOAD_RSS_SLACK_KB (48 * 1024)
#else
#	define LOAD_RSS_SLACK_KB (8 * 1024)
#endif

/* --- the site the runs work on ------------------------------------------ */

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (!strcmp(req->method, "POST")) {
		skytest_resp_text(resp, 200, NULL,
		                  "<!doctype html><title>Thank you</title><h1>"
		                  "Thank you!</h1><p>Your application was "
		                  "received.</p>");
		return;
	}
	/* A slow page keeps the runs busy while the clients hammer. */
	resp->delay_ms = 1500;
	skytest_resp_text(resp, 200, NULL,
	                  "<!doctype html><title>Apply</title><h1>Apply</h1>"
	                  "<form action=\"/submit\" method=\"post\"><p><label "
	                  "for=\"n\">Full name</label> <input id=\"n\" "
	                  "name=\"name\"></p><p><label for=\"e\">Email</label>"
	                  " <input id=\"e\" name=\"email\" type=\"email\"></p>"
	                  "<p><button type=\"submit\">Send application</button>"
	                  "</p></form>");
}

/* --- one client ---------------------------------------------------------- */

typedef struct client {
	int port;
	int idx;
	char **run_ids;
	int64_t until;
	long ok, bad, reconnects;
	char first_bad[256];
} client;

typedef struct probe {
	const char *method;
	const char *path; /* "%s" is a run id */
	const char *headers;
	const char *body;
	int want;
} probe;

static const probe probes[] = {
    {"GET", "/v1/runs/%s", REL_AUTH, NULL, 200},
    {"GET", "/api/v1/tasks/%s/steps", REL_AUTH, NULL, 200},
    {"GET", "/api/v1/tasks?page_size=5", REL_AUTH, NULL, 200},
    {"GET", "/v1/runs?page_size=10&status=completed", REL_AUTH, NULL, 200},
    {"GET", "/api/v1/heartbeat", "", NULL, 200},
    {"GET", "/v1/runs/tsk_000000000000000000", REL_AUTH, NULL, 404},
    {"POST", "/v1/run/tasks", REL_AUTH REL_JSONH, "{\"url\":\"x.com\"}", 422},
    {"GET", "/v1/version", "x-api-key: not-a-key-at-all\r\n", NULL, 403},
    {"DELETE", "/v1/runs/%s", REL_AUTH, NULL, 405},
    {"GET", "/v1/runs/%s/artifacts", REL_AUTH, NULL, 200},
};

static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* One request on a keep-alive connection: the status, the body in
 * *body (malloc'd), *closed when the server closes after it. -1 on an
 * I/O error before a whole response. */
static int exchange(int fd, const char *req, size_t len, char **body,
                    int *closed)
{
	*body = NULL;
	*closed = 0;
	for (size_t sent = 0; sent < len;) {
		ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		sent += (size_t)w;
	}
	size_t cap = 8192, have = 0;
	char *buf = malloc(cap + 1);
	char *end = NULL;
	while (!end) {
		if (have == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		ssize_t r = recv(fd, buf + have, cap - have, 0);
		if (r <= 0) {
			free(buf);
			return -1;
		}
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	size_t head = (size_t)(end - buf) + 4;
	int status = atoi(buf + 9);
	char *cl = strcasestr(buf, "\r\ncontent-length:");
	if (!cl || cl > end) {
		free(buf);
		return -1;
	}
	size_t want = (size_t)atol(cl + 17);
	char *conn = strcasestr(buf, "\r\nconnection: close");
	*closed = conn && conn < end;
	while (have - head < want) {
		if (have == cap) {
			cap = head + want;
			buf = realloc(buf, cap + 1);
		}
		ssize_t r = recv(fd, buf + have, cap - have, 0);
		if (r <= 0) {
			free(buf);
			return -1;
		}
		have += (size_t)r;
	}
	*body = malloc(want + 1);
	memcpy(*body, buf + head, want);
	(*body)[want] = '\0';
	free(buf);
	return status;
}

static void note_bad(client *c, const char *what)
{
	if (!c->bad++)
		snprintf(c->first_bad, sizeof c->first_bad, "%s", what);
}

static void *client_main(void *arg)
{
	client *c = arg;
	int fd = dial(c->port);
	unsigned seed = (unsigned)c->idx * 2654435761u;
	char req[1024], path[256];
	while (skyx_time_mono_ms() < c->until) {
		if (fd < 0) {
			c->reconnects++;
			fd = dial(c->port);
			if (fd < 0) {
				note_bad(c, "connect failed");
				usleep(10 * 1000);
				continue;
			}
		}
		seed = seed * 1103515245u + 12345u;
		const probe *p =
		    &probes[(seed >> 16) % (sizeof probes / sizeof *probes)];
		char *filled =
		    skytest_subst(p->path, c->run_ids[(seed >> 8) % RUNS]);
		snprintf(path, sizeof path, "%s", filled ? filled : "/");
		free(filled);
		int n = snprintf(req, sizeof req,
		                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
		                 "Content-Length: %zu\r\n\r\n%s",
		                 p->method, path, p->headers,
		                 p->body ? strlen(p->body) : (size_t)0,
		                 p->body ? p->body : "");
		char *body = NULL;
		int closed = 0;
		int st = exchange(fd, req, (size_t)n, &body, &closed);
		json_t *j =
		    body ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
		if (st != p->want || !j) {
			char *what = skyx_asprintf("%s %s: got %d (want %d), "
			                           "body %.60s",
			                           p->method, path, st, p->want,
			                           body ? body : "(none)");
			note_bad(c, what);
			free(what);
		} else {
			c->ok++;
		}
		json_decref(j);
		free(body);
		if (st < 0 || closed) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* 200 clients for ROUND_MS; returns requests answered as expected and
 * fails the test on any other answer. */
static long round_of_load(int port, char **run_ids, double *rps)
{
	static client cs[CLIENTS];
	pthread_t th[CLIENTS];
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	int64_t t0 = skyx_time_mono_ms();
	for (int i = 0; i < CLIENTS; i++) {
		cs[i] = (client){.port = port,
		                 .idx = i,
		                 .run_ids = run_ids,
		                 .until = t0 + ROUND_MS};
		ck_assert_int_eq(
		    pthread_create(&th[i], &at, client_main, &cs[i]), 0);
	}
	long ok = 0, bad = 0, rec = 0;
	const char *first = NULL;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(th[i], NULL);
		ok += cs[i].ok;
		bad += cs[i].bad;
		rec += cs[i].reconnects;
		if (cs[i].bad && !first)
			first = cs[i].first_bad;
	}
	pthread_attr_destroy(&at);
	*rps = ok * 1000.0 / (double)(skyx_time_mono_ms() - t0);
	ck_assert_msg(bad == 0, "%ld bad answers of %ld; first: %s", bad,
	              ok + bad, first);
	fprintf(stderr, "load: %ld requests, %.0f/s, %ld reconnects\n", ok,
	        *rps, rec);
	return ok;
}

static void submit_runs(int port, const char *site, char **ids)
{
	for (int k = 0; k < RUNS; k++) {
		char *body = skyx_asprintf(
		    "{\"prompt\":\"Apply: name: Load %d. email: l%d@example"
		    ".com\",\"url\":\"%s/form?k=%d\",\"engine\":"
		    "\"skyvern-1.0\"}",
		    k, k, site, k);
		ids[k] = rel_submit(port, body);
		free(body);
	}
}

static void wait_runs(int port, char **ids)
{
	json_t *runs[RUNS];
	int done = rel_wait_all(port, ids, RUNS, 240000, runs);
	ck_assert_int_eq(done, RUNS);
	for (int k = 0; k < RUNS; k++) {
		ck_assert_msg(
		    skyx_str_eq(rel_str(runs[k], "status"), "completed"),
		    "run %d: %s", k, rel_str(runs[k], "failure_reason"));
		json_decref(runs[k]);
	}
}

START_TEST(two_hundred_clients_while_runs_execute)
{
	char *dir = skytest_tmpdir("load");
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	const char *args[] = {"--api-key", REL_KEY, "--workers", "8", NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);

	/* Warm-up: plugins loaded, Chromium up, caches filled. */
	char *ids[RUNS];
	submit_runs(srv.port, skytest_httpd_url(site), ids);
	double rps0;
	round_of_load(srv.port, ids, &rps0);
	wait_runs(srv.port, ids);
	long rss0 = rel_rss_kb(srv.pid);

	long rss[2];
	double rps[2];
	for (int round = 0; round < 2; round++) {
		char *more[RUNS];
		submit_runs(srv.port, skytest_httpd_url(site), more);
		round_of_load(srv.port, more, &rps[round]);
		wait_runs(srv.port, more);
		rss[round] = rel_rss_kb(srv.pid);
		for (int k = 0; k < RUNS; k++)
			free(more[k]);
	}
	fprintf(stderr,
	        "load: server RSS %ld KiB after warm-up, %ld after round 1, "
	        "%ld after round 2 (%+ld)\n",
	        rss0, rss[0], rss[1], rss[1] - rss[0]);
	ck_assert_int_gt(rss0, 0);
	ck_assert_msg(rss[1] - rss[0] <= LOAD_RSS_SLACK_KB,
	              "round 2 added %ld KiB to the server (bound %d)",
	              rss[1] - rss[0], LOAD_RSS_SLACK_KB);
	/* Still healthy, and stops cleanly. */
	json_t *j = NULL;
	ck_assert_int_eq(
	    rel_call(srv.port, "GET", "/api/v1/heartbeat", NULL, NULL, &j),
	    200);
	json_decref(j);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	for (int k = 0; k < RUNS; k++)
		free(ids[k]);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(site);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("load");
	TCase *tc = tcase_create("load");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, two_hundred_clients_while_runs_execute);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
