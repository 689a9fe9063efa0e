/* Integration tests: the lws HTTP client (net/http_client) against the
 * loopback test server, including misbehaving peers and a CONNECT proxy. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <skyengine.h>

#include "engine/engine_internal.h"
#include "httpd.h"
#include "net/http_client.h"
#include "net/url.h"
#include "util/fs.h"
#include "plugin/loader.h"
#include "skytest.h"
#include "util/error.h"
#include <skyx/str.h>
#include <skyx/time.h>

/* --- the server side ------------------------------------------------------ */

/* What the handler saw last (one request at a time in these tests). */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen_method[16], seen_path[256], seen_query[256];
static char seen_ctype[128], seen_test_hdr[128], seen_ua[128], seen_host[128];
static char *seen_body;
static size_t seen_body_len;
static long seen_content_length = -1;

static void remember(const skytest_req *req)
{
	const char *v;
	pthread_mutex_lock(&seen_lock);
	snprintf(seen_method, sizeof seen_method, "%s", req->method);
	snprintf(seen_path, sizeof seen_path, "%s", req->path);
	snprintf(seen_query, sizeof seen_query, "%s", req->query);
	v = skytest_req_header(req, "content-type");
	snprintf(seen_ctype, sizeof seen_ctype, "%s", v ? v : "");
	v = skytest_req_header(req, "x-test");
	snprintf(seen_test_hdr, sizeof seen_test_hdr, "%s", v ? v : "");
	v = skytest_req_header(req, "user-agent");
	snprintf(seen_ua, sizeof seen_ua, "%s", v ? v : "");
	v = skytest_req_header(req, "host");
	snprintf(seen_host, sizeof seen_host, "%s", v ? v : "");
	v = skytest_req_header(req, "content-length");
	seen_content_length = v ? atol(v) : -1;
	free(seen_body);
	seen_body = malloc(req->body_len + 1);
	memcpy(seen_body, req->body, req->body_len + 1);
	seen_body_len = req->body_len;
	pthread_mutex_unlock(&seen_lock);
}

static char *pattern(size_t n)
{
	char *b = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		b[i] = (char)('a' + (i * 7 + i / 13) % 26);
	b[n] = '\0';
	return b;
}

static void handler(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (!strcmp(req->path, "/echo")) {
		remember(req);
		skytest_resp_text(resp, 200, "application/json",
		                  "{\"ok\":true}");
		skytest_resp_header(resp, "X-Request-Id", "req-123");
		skytest_resp_header(resp, "Retry-After", "7");
	} else if (!strcmp(req->path, "/created")) {
		remember(req);
		resp->status = 201;
		resp->content_type = strdup("application/octet-stream");
		resp->body = malloc(req->body_len + 1);
		memcpy(resp->body, req->body, req->body_len + 1);
		resp->body_len = req->body_len;
	} else if (!strcmp(req->path, "/status")) {
		char *code = skytest_req_query(req, "code");
		skytest_resp_text(resp, atoi(code), "text/plain",
		                  "status body");
		free(code);
	} else if (!strcmp(req->path, "/big")) {
		char *n = skytest_req_query(req, "n");
		resp->body_len = (size_t)atol(n);
		resp->body = pattern(resp->body_len);
		resp->content_type = strdup("text/plain");
		free(n);
		n = skytest_req_query(req, "chunked");
		resp->chunked = n != NULL;
		free(n);
	} else if (!strcmp(req->path, "/slow-head")) {
		char *ms = skytest_req_query(req, "ms");
		skytest_resp_text(resp, 200, "text/plain", "late");
		resp->delay_ms = atoi(ms);
		free(ms);
	} else if (!strcmp(req->path, "/slow-body")) {
		char *ms = skytest_req_query(req, "ms");
		skytest_resp_text(resp, 200, "text/plain", "late body");
		resp->body_delay_ms = atoi(ms);
		free(ms);
	} else if (!strcmp(req->path, "/truncated")) {
		resp->body_len = 100;
		resp->body = pattern(100);
		resp->truncate_to = 10;
		char *ch = skytest_req_query(req, "chunked");
		resp->chunked = ch != NULL;
		free(ch);
	} else if (!strcmp(req->path, "/drop")) {
		resp->drop = 1;
	} else if (!strcmp(req->path, "/n")) {
		char *i = skytest_req_query(req, "i");
		skytest_resp_text(resp, 200, "text/plain", i ? i : "");
		free(i);
	} else {
		skytest_resp_text(resp, 404, "text/plain", "no such page");
	}
}

static skytest_httpd *srv;
static sky_http_client *client;

static void setup(void)
{
	srv = skytest_httpd_start(handler, NULL);
	ck_assert_ptr_nonnull(srv);
	sky_http_client_options o = {0};
	o.http_proxy = "";
	o.https_proxy = "";
	ck_assert_int_eq(sky_http_client_new(&o, &client), 0);
}

static void teardown(void)
{
	sky_http_client_free(client);
	client = NULL;
	skytest_httpd_stop(srv);
	srv = NULL;
	free(seen_body);
	seen_body = NULL;
}

static char *url(const char *path)
{
	return skyx_asprintf("%s%s", skytest_httpd_url(srv), path);
}

static int do_get(const char *path, int timeout_ms, size_t max,
                  sky_http_response **out)
{
	char *u = url(path);
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	r.method = "GET";
	r.url = u;
	r.timeout_ms = timeout_ms;
	r.max_response_bytes = max;
	int rc = sky_http_client_request(client, &r, out);
	free(u);
	return rc;
}

static const char *hdr(const sky_http_response *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (!strcmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

/* --- requests and responses ------------------------------------------------ */

START_TEST(get_sends_headers_and_returns_lowercase_headers)
{
	char *u = url("/echo?a=1&b=two");
	sky_http_header h[] = {{"X-Test", "hello world"},
	                       {"Accept", "application/json"}};
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	sky_http_response *resp = NULL;
	r.method = "GET";
	r.url = u;
	r.headers = h;
	r.n_headers = 2;
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp), 0);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->body, "{\"ok\":true}");
	ck_assert_uint_eq(resp->body_len, 11);
	ck_assert_str_eq(hdr(resp, "content-type"), "application/json");
	ck_assert_str_eq(hdr(resp, "content-length"), "11");
	ck_assert_str_eq(hdr(resp, "retry-after"), "7");
	/* A non-standard header from the probe list, lower-cased. */
	ck_assert_str_eq(hdr(resp, "x-request-id"), "req-123");
	sky_http_response_free(resp);

	pthread_mutex_lock(&seen_lock);
	ck_assert_str_eq(seen_method, "GET");
	ck_assert_str_eq(seen_path, "/echo");
	ck_assert_str_eq(seen_query, "a=1&b=two");
	ck_assert_str_eq(seen_test_hdr, "hello world");
	ck_assert(skyx_str_startswith(seen_ua, "skyengine/"));
	/* Non-default port: the Host header carries it. */
	char host[64];
	snprintf(host, sizeof host, "127.0.0.1:%d", skytest_httpd_port(srv));
	ck_assert_str_eq(seen_host, host);
	ck_assert_int_eq(seen_content_length, -1);
	pthread_mutex_unlock(&seen_lock);
	free(u);
}
END_TEST

START_TEST(post_sends_body_and_length)
{
	const char *json =
	    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}";
	char *u = url("/created");
	sky_http_header h[] = {{"Content-Type", "application/json"},
	                       {"User-Agent", "custom-agent/1"}};
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	sky_http_response *resp = NULL;
	r.method = "POST";
	r.url = u;
	r.headers = h;
	r.n_headers = 2;
	r.body = json;
	r.body_len = strlen(json);
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp), 0);
	ck_assert_int_eq(resp->status, 201);
	ck_assert_str_eq(resp->body, json);
	sky_http_response_free(resp);
	pthread_mutex_lock(&seen_lock);
	ck_assert_str_eq(seen_method, "POST");
	ck_assert_str_eq(seen_ctype, "application/json");
	ck_assert_str_eq(seen_ua, "custom-agent/1");
	ck_assert_int_eq(seen_content_length, (long)strlen(json));
	ck_assert_str_eq(seen_body, json);
	pthread_mutex_unlock(&seen_lock);

	/* An empty POST still says Content-Length: 0. */
	r.body = NULL;
	r.body_len = 0;
	r.n_headers = 0;
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp), 0);
	ck_assert_int_eq(resp->status, 201);
	ck_assert_uint_eq(resp->body_len, 0);
	ck_assert_str_eq(resp->body, "");
	sky_http_response_free(resp);
	pthread_mutex_lock(&seen_lock);
	ck_assert_int_eq(seen_content_length, 0);
	pthread_mutex_unlock(&seen_lock);
	free(u);
}
END_TEST

START_TEST(large_body_both_ways)
{
	/* 3 MiB up (many write slices), echoed back. */
	size_t n = 3u << 20;
	char *big = pattern(n);
	char *u = url("/created");
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	sky_http_response *resp = NULL;
	r.method = "PUT";
	r.url = u;
	r.body = big;
	r.body_len = n;
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp), 0);
	ck_assert_int_eq(resp->status, 201);
	ck_assert_uint_eq(resp->body_len, n);
	ck_assert(memcmp(resp->body, big, n) == 0);
	sky_http_response_free(resp);
	pthread_mutex_lock(&seen_lock);
	ck_assert_str_eq(seen_method, "PUT");
	ck_assert_uint_eq(seen_body_len, n);
	ck_assert(memcmp(seen_body, big, n) == 0);
	pthread_mutex_unlock(&seen_lock);
	free(big);
	free(u);
}
END_TEST

START_TEST(chunked_response_is_dechunked)
{
	sky_http_response *resp = NULL;
	size_t n = 300000;
	char *want = pattern(n);
	ck_assert_int_eq(do_get("/big?n=300000&chunked=1", 0, 0, &resp), 0);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(hdr(resp, "transfer-encoding"), "chunked");
	ck_assert_uint_eq(resp->body_len, n);
	ck_assert(memcmp(resp->body, want, n) == 0);
	ck_assert_int_eq(resp->body[n], '\0');
	sky_http_response_free(resp);
	free(want);
}
END_TEST

START_TEST(error_statuses_are_data)
{
	sky_http_response *resp = NULL;
	int codes[] = {400, 401, 404, 429, 500, 503};
	for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
		char path[64];
		snprintf(path, sizeof path, "/status?code=%d", codes[i]);
		ck_assert_int_eq(do_get(path, 0, 0, &resp), 0);
		ck_assert_int_eq(resp->status, codes[i]);
		ck_assert_str_eq(resp->body, "status body");
		sky_http_response_free(resp);
	}
	/* A redirect is returned, not followed. */
	ck_assert_int_eq(do_get("/status?code=302", 0, 0, &resp), 0);
	ck_assert_int_eq(resp->status, 302);
	sky_http_response_free(resp);
}
END_TEST

START_TEST(response_slower_than_5s_default_is_fine)
{
	/* lws 4.1 kills a client waiting > 5 s for headers unless the
	 * context's timeout_secs is raised: the request's own timeout must
	 * be what counts. */
	sky_http_response *resp = NULL;
	ck_assert_int_eq(do_get("/slow-head?ms=6500", 20000, 0, &resp), 0);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->body, "late");
	sky_http_response_free(resp);
}
END_TEST

/* --- misbehaving peers ------------------------------------------------------ */

START_TEST(slow_headers_time_out)
{
	sky_http_response *resp = NULL;
	int64_t t0 = skyx_time_mono_ms();
	int rc = do_get("/slow-head?ms=4000", 400, 0, &resp);
	int64_t took = skyx_time_mono_ms() - t0;
	ck_assert_int_eq(rc, SKY_ETIMEDOUT);
	ck_assert_ptr_null(resp);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "timed out after 400 ms"));
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "no response headers"));
	/* Bounded: the worker came back long before the peer answered. */
	ck_assert_int_lt(took, 3000);
	/* The client is still usable afterwards. */
	ck_assert_int_eq(do_get("/echo", 0, 0, &resp), 0);
	sky_http_response_free(resp);
}
END_TEST

START_TEST(slow_body_times_out)
{
	sky_http_response *resp = NULL;
	int64_t t0 = skyx_time_mono_ms();
	int rc = do_get("/slow-body?ms=4000", 500, 0, &resp);
	ck_assert_int_eq(rc, SKY_ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "reading the body"));
	ck_assert_int_lt(skyx_time_mono_ms() - t0, 3000);
}
END_TEST

START_TEST(stalled_body_hits_idle_timer)
{
	sky_http_client *c2 = NULL;
	sky_http_client_options o = {0};
	sky_http_response *resp = NULL;
	o.idle_timeout_ms = 300;
	o.http_proxy = o.https_proxy = "";
	ck_assert_int_eq(sky_http_client_new(&o, &c2), 0);
	char *u = url("/slow-body?ms=4000");
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	r.method = "GET";
	r.url = u;
	r.timeout_ms = 60000;
	int64_t t0 = skyx_time_mono_ms();
	ck_assert_int_eq(sky_http_client_request(c2, &r, &resp), SKY_ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "stalled"));
	ck_assert_int_lt(skyx_time_mono_ms() - t0, 3000);
	free(u);
	sky_http_client_free(c2);
}
END_TEST

START_TEST(truncated_body_is_an_error)
{
	sky_http_response *resp = NULL;
	ck_assert_int_eq(do_get("/truncated", 5000, 0, &resp), SKY_EHTTP);
	ck_assert_ptr_null(resp);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "truncated"));
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "10 of 100"));
	ck_assert_int_eq(do_get("/truncated?chunked=1", 5000, 0, &resp),
	                 SKY_EHTTP);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "truncated"));
}
END_TEST

START_TEST(oversized_response_is_refused)
{
	sky_http_response *resp = NULL;
	/* Declared length over the limit: refused before reading it. */
	ck_assert_int_eq(do_get("/big?n=2000000", 0, 1000000, &resp),
	                 SKY_ETOOBIG);
	ck_assert_ptr_null(resp);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "limit of 1000000"));
	/* Chunked (no length): cut while streaming. */
	ck_assert_int_eq(do_get("/big?n=2000000&chunked=1", 0, 1000000, &resp),
	                 SKY_ETOOBIG);
	/* Exactly at the limit is fine. */
	ck_assert_int_eq(do_get("/big?n=1000000", 0, 1000000, &resp), 0);
	ck_assert_uint_eq(resp->body_len, 1000000);
	sky_http_response_free(resp);
}
END_TEST

/* A port with nothing listening. */
static int closed_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd);
	return ntohs(a.sin_port);
}

START_TEST(refused_connection)
{
	char u[64];
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	sky_http_response *resp = NULL;
	snprintf(u, sizeof u, "http://127.0.0.1:%d/x", closed_port());
	r.method = "GET";
	r.url = u;
	r.timeout_ms = 10000;
	int64_t t0 = skyx_time_mono_ms();
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "cannot connect"));
	/* Refusal is reported at once, not at the deadline. */
	ck_assert_int_lt(skyx_time_mono_ms() - t0, 5000);
	/* "localhost" resolves on the caller's thread and tries each
	 * address (::1, 127.0.0.1) before reporting. */
	snprintf(u, sizeof u, "http://localhost:%d/x", closed_port());
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_ECONNREFUSED);
	r.url = "http://no-such-host.invalid/";
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "cannot resolve"));
}
END_TEST

START_TEST(dropped_connection)
{
	sky_http_response *resp = NULL;
	ck_assert_int_eq(do_get("/drop", 10000, 0, &resp), SKY_EHTTP);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "closed before"));
}
END_TEST

/* A peer that accepts TCP (the kernel's backlog) but never reads. */
START_TEST(silent_peer_never_hangs)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	char u[64];
	snprintf(u, sizeof u, "http://127.0.0.1:%d/", ntohs(a.sin_port));
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	sky_http_response *resp = NULL;
	r.method = "POST";
	r.url = u;
	r.body = "x";
	r.body_len = 1;
	r.timeout_ms = 300;
	int64_t t0 = skyx_time_mono_ms();
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_ETIMEDOUT);
	ck_assert_int_lt(skyx_time_mono_ms() - t0, 3000);
	close(fd);
}
END_TEST

START_TEST(bad_requests_are_refused_up_front)
{
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	sky_http_response *resp = NULL;
	char *u = url("/echo");
	r.method = "GET";
	r.url = "ftp://example.com/";
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "http://"));
	r.url = "http://user:pw@example.com/";
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_EINVALID);
	ck_assert_ptr_null(strstr(sky_error_last(), "pw"));
	r.url = "http://127.0.0.1:99999/";
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_EINVALID);
	r.url = u;
	sky_http_header inj[] = {{"X-Test", "a\r\nX-Evil: 1"}};
	r.headers = inj;
	r.n_headers = 1;
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_EINVALID);
	sky_http_header host[] = {{"Host", "evil"}};
	r.headers = host;
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "Host"));
	r.n_headers = 0;
	r.method = "get";
	ck_assert_int_eq(sky_http_client_request(client, &r, &resp),
	                 SKY_EINVALID);
	ck_assert_ptr_null(resp);
	ck_assert_int_eq(sky_http_client_request(client, NULL, &resp),
	                 SKY_EINVALID);
	free(u);
}
END_TEST

/* --- concurrency, leaks, shutdown ----------------------------------------- */

struct worker_arg {
	int id;
	int ok;
};

static void *worker(void *p)
{
	struct worker_arg *w = p;
	for (int i = 0; i < 50; i++) {
		char path[64], want[32];
		sky_http_response *resp = NULL;
		snprintf(want, sizeof want, "%d-%d", w->id, i);
		snprintf(path, sizeof path, "/n?i=%s", want);
		if (do_get(path, 20000, 0, &resp) == 0 && resp->status == 200 &&
		    !strcmp(resp->body, want))
			w->ok++;
		sky_http_response_free(resp);
	}
	return NULL;
}

START_TEST(sixteen_threads_fifty_requests_each)
{
	pthread_t t[16];
	struct worker_arg a[16];
	for (int i = 0; i < 16; i++) {
		a[i] = (struct worker_arg){i, 0};
		pthread_create(&t[i], NULL, worker, &a[i]);
	}
	int total = 0;
	for (int i = 0; i < 16; i++) {
		pthread_join(t[i], NULL);
		total += a[i].ok;
	}
	ck_assert_int_eq(total, 16 * 50);
}
END_TEST

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

START_TEST(no_fd_leak_over_many_requests)
{
	sky_http_response *resp = NULL;
	ck_assert_int_eq(do_get("/echo", 0, 0, &resp), 0);
	sky_http_response_free(resp);
	/* The server's connection threads close their sockets a moment
	 * after answering; let them settle before each count. */
	skyx_time_sleep_ms(200);
	int before = count_fds();
	for (int i = 0; i < 300; i++) {
		const char *paths[] = {"/echo", "/truncated", "/drop",
		                       "/big?n=2000&chunked=1",
		                       "/status?code=500"};
		resp = NULL;
		do_get(paths[i % 5], 5000, 0, &resp);
		sky_http_response_free(resp);
	}
	ck_assert_int_eq(do_get("/slow-head?ms=3000", 50, 0, &resp),
	                 SKY_ETIMEDOUT);
	skyx_time_sleep_ms(3500);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

struct pending {
	int rc;
};

static void *slow_caller(void *p)
{
	struct pending *pd = p;
	sky_http_response *resp = NULL;
	pd->rc = do_get("/slow-head?ms=4000", 60000, 0, &resp);
	sky_http_response_free(resp);
	return NULL;
}

START_TEST(free_fails_in_flight_requests)
{
	pthread_t t[3];
	struct pending pd[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, slow_caller, &pd[i]);
	skyx_time_sleep_ms(300); /* let them get on the wire */
	int64_t t0 = skyx_time_mono_ms();
	sky_http_client_free(client);
	client = NULL;
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(pd[i].rc, SKY_ESHUTDOWN);
	}
	ck_assert_int_lt(skyx_time_mono_ms() - t0, 3000);
}
END_TEST

/* A provider's host context reaches the HTTP client of its plugin host
 * (its engine's), and only that one. */
START_TEST(host_context_uses_its_engines_client)
{
	const sky_host_api *api = sky_host_api_get();
	sky_http_client *c = NULL;
	sky_plugins *with = NULL, *without = NULL;
	sky_http_response *resp = NULL;
	char *err = NULL;
	char *u = url("/echo");
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	r.method = "GET";
	r.url = u;

	ck_assert_int_eq(sky_http_client_from_config("{\"http\":{}}", &c), 0);
	ck_assert_int_eq(sky_plugins_new(SKY_TEST_FIXTURE_DIR, &with), 0);
	ck_assert_int_eq(sky_plugins_new(SKY_TEST_FIXTURE_DIR, &without), 0);
	ck_assert_int_eq(sky_plugins_set_engine(with, NULL, NULL, c), 0);
	const sky_host_ctx *ctx =
	    sky_plugins_ctx(with, sky_plugins_llm(with, "fixture"));
	const sky_host_ctx *none =
	    sky_plugins_ctx(without, sky_plugins_llm(without, "fixture"));
	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_nonnull(none);

	ck_assert_int_eq(api->http_request(ctx, &r, &resp, &err), 0);
	ck_assert_int_eq(resp->status, 200);
	api->http_response_free(resp);
	resp = NULL;
	/* Errors come back as text for the plugin. */
	r.url = "http://127.0.0.1:1/";
	ck_assert_int_eq(api->http_request(ctx, &r, &resp, &err),
	                 SKY_ECONNREFUSED);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err, "cannot connect"));
	free(err);
	err = NULL;
	r.url = u;
	/* A host without a client does not borrow another engine's. */
	ck_assert_int_eq(api->http_request(none, &r, &resp, &err),
	                 SKY_ESHUTDOWN);
	ck_assert_ptr_null(resp);
	free(err);
	sky_plugins_free(with);
	sky_plugins_free(without);
	sky_http_client_free(c);
	free(u);
}
END_TEST

/* Every engine starts its own client and gives it to its plugins. */
START_TEST(engine_starts_and_stops_the_client)
{
	sky_engine *e = NULL, *f = NULL;
	sky_engine_options o;
	char *dir = skytest_tmpdir("http-engine");
	char *dir2 = skytest_tmpdir("http-engine2");
	const sky_host_api *api = sky_host_api_get();
	sky_http_response *resp = NULL;
	char *err = NULL;
	char *u = url("/echo");
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	r.method = "GET";
	r.url = u;
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = dir;
	o.plugin_path = SKY_TEST_FIXTURE_DIR;
	o.no_execute = 1;
	ck_assert_int_ge(sky_global_init(), 1);
	ck_assert_int_eq(sky_engine_new(&e, &o), 0);
	o.data_dir = dir2;
	ck_assert_int_eq(sky_engine_new(&f, &o), 0);
	sky_plugins *pe = e->plugins;
	const sky_host_ctx *ctx =
	    sky_plugins_ctx(pe, sky_plugins_llm(pe, "fixture"));
	ck_assert_int_eq(api->http_request(ctx, &r, &resp, &err), 0);
	ck_assert_int_eq(resp->status, 200);
	api->http_response_free(resp);
	resp = NULL;
	/* Freeing another engine does not stop this one's client. */
	sky_engine_free(f);
	ck_assert_int_eq(api->http_request(ctx, &r, &resp, &err), 0);
	ck_assert_int_eq(resp->status, 200);
	api->http_response_free(resp);
	sky_engine_free(e);
	sky_global_shutdown();
	skyx_rm_rf(dir);
	skyx_rm_rf(dir2);
	free(u);
	free(dir);
	free(dir2);
}
END_TEST

/* --- proxies ----------------------------------------------------------------- */

/* A CONNECT proxy that answers the tunnelled request itself. */
struct fake_proxy {
	int fd;
	int stop; /* atomic */
	int port;
	pthread_t thread;
	int connects;
	char connect_line[256];
	char tunnelled[512];
	char auth[128];
};

static void *proxy_main(void *p)
{
	struct fake_proxy *fp = p;
	for (;;) {
		struct pollfd pf = {fp->fd, POLLIN, 0};
		if (__atomic_load_n(&fp->stop, __ATOMIC_ACQUIRE))
			return NULL;
		if (poll(&pf, 1, 100) <= 0)
			continue;
		int c = accept(fp->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char buf[4096];
		size_t have = 0;
		ssize_t r;
		while (have < sizeof buf - 1 &&
		       (r = recv(c, buf + have, sizeof buf - 1 - have, 0)) >
		           0) {
			have += (size_t)r;
			buf[have] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		buf[have] = '\0';
		fp->connects++;
		snprintf(fp->connect_line, sizeof fp->connect_line, "%.*s",
		         (int)strcspn(buf, "\r"), buf);
		const char *au = strcasestr(buf, "proxy-authorization:");
		if (au)
			snprintf(fp->auth, sizeof fp->auth, "%.*s",
			         (int)strcspn(au, "\r"), au);
		const char *ok = "HTTP/1.1 200 Connection established\r\n\r\n";
		send(c, ok, strlen(ok), MSG_NOSIGNAL);
		have = 0;
		while (have < sizeof buf - 1 &&
		       (r = recv(c, buf + have, sizeof buf - 1 - have, 0)) >
		           0) {
			have += (size_t)r;
			buf[have] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		buf[have] = '\0';
		size_t tl = have < sizeof fp->tunnelled - 1
		                ? have
		                : sizeof fp->tunnelled - 1;
		memcpy(fp->tunnelled, buf, tl);
		fp->tunnelled[tl] = '\0';
		const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
		                   "Connection: close\r\n\r\nproxied";
		send(c, resp, strlen(resp), MSG_NOSIGNAL);
		close(c);
	}
}

static void proxy_start(struct fake_proxy *fp)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	memset(fp, 0, sizeof *fp);
	fp->fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fp->fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fp->fd, 16), 0);
	getsockname(fp->fd, (struct sockaddr *)&a, &al);
	fp->port = ntohs(a.sin_port);
	pthread_create(&fp->thread, NULL, proxy_main, fp);
}

static void proxy_stop(struct fake_proxy *fp)
{
	__atomic_store_n(&fp->stop, 1, __ATOMIC_RELEASE);
	pthread_join(fp->thread, NULL);
	close(fp->fd);
}

START_TEST(proxy_only_when_asked)
{
	struct fake_proxy fp;
	sky_http_client *pc = NULL;
	sky_http_client_options o = {0};
	sky_http_response *resp = NULL;
	char proxy[96];
	proxy_start(&fp);
	snprintf(proxy, sizeof proxy, "http://bob:s3cret@127.0.0.1:%d",
	         fp.port);
	o.http_proxy = proxy;
	o.https_proxy = "";
	o.no_proxy = "internal.example,.corp.example";
	ck_assert_int_eq(sky_http_client_new(&o, &pc), 0);

	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	r.method = "GET";
	r.url = "http://api.example.invalid/v1/models";
	r.timeout_ms = 5000;
	r.use_env_proxy = 1;
	ck_assert_int_eq(sky_http_client_request(pc, &r, &resp), 0);
	ck_assert_str_eq(resp->body, "proxied");
	sky_http_response_free(resp);
	ck_assert_int_eq(fp.connects, 1);
	ck_assert_str_eq(fp.connect_line,
	                 "CONNECT api.example.invalid:80 HTTP/1.1");
	ck_assert_ptr_nonnull(strstr(fp.tunnelled, "GET /v1/models HTTP/1.1"));
	ck_assert_ptr_nonnull(strstr(fp.auth, "basic Ym9iOnMzY3JldA=="));

	/* Not asked: direct, so the .invalid name fails to resolve. */
	r.use_env_proxy = 0;
	ck_assert_int_eq(sky_http_client_request(pc, &r, &resp),
	                 SKY_ECONNREFUSED);
	/* no_proxy entries and loopback bypass the proxy. */
	r.use_env_proxy = 1;
	r.url = "http://svc.corp.example/";
	ck_assert_int_eq(sky_http_client_request(pc, &r, &resp),
	                 SKY_ECONNREFUSED);
	char *u = url("/echo");
	r.url = u;
	ck_assert_int_eq(sky_http_client_request(pc, &r, &resp), 0);
	ck_assert_str_eq(resp->body, "{\"ok\":true}");
	sky_http_response_free(resp);
	ck_assert_int_eq(fp.connects, 1);
	free(u);
	sky_http_client_free(pc);
	proxy_stop(&fp);
}
END_TEST

START_TEST(env_http_proxy_does_not_leak_into_direct_requests)
{
	/* lws reads $http_proxy for every vhost unless told otherwise; a
	 * direct loopback request must not go to this (dead) proxy. */
	sky_http_client *ec = NULL;
	sky_http_response *resp = NULL;
	char dead[64];
	snprintf(dead, sizeof dead, "http://127.0.0.1:%d", closed_port());
	setenv("http_proxy", dead, 1);
	ck_assert_int_eq(sky_http_client_new(NULL, &ec), 0);
	char *u = url("/echo");
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	r.method = "GET";
	r.url = u;
	r.use_env_proxy = 1; /* loopback is never proxied */
	ck_assert_int_eq(sky_http_client_request(ec, &r, &resp), 0);
	ck_assert_int_eq(resp->status, 200);
	sky_http_response_free(resp);
	/* A remote host with use_env_proxy goes to the (dead) proxy. */
	r.url = "http://api.example.invalid/";
	ck_assert_int_eq(sky_http_client_request(ec, &r, &resp),
	                 SKY_ECONNREFUSED);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "proxy"));
	unsetenv("http_proxy");
	sky_http_client_free(ec);
	free(u);
}
END_TEST

/* --- HTTPS -------------------------------------------------------------------- */

/* A self-signed certificate for "localhost", made for this run. */
static void make_cert(const char *dir, char **cert, char **key)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	ck_assert_ptr_nonnull(pkey);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pkey);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	                           (const unsigned char *)"localhost", -1, -1,
	                           0);
	X509_set_issuer_name(x, n);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(
	    NULL, &v3, NID_subject_alt_name, "DNS:localhost");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ck_assert_int_gt(X509_sign(x, pkey, EVP_sha256()), 0);
	*cert = skyx_asprintf("%s/cert.pem", dir);
	*key = skyx_asprintf("%s/key.pem", dir);
	FILE *f = fopen(*cert, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(*key, "w");
	PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

/* A one-connection-at-a-time HTTPS server on 127.0.0.1. */
struct tls_srv {
	SSL_CTX *ctx;
	int fd;
	int port;
	int stop; /* atomic */
	pthread_t thread;
	int served;
	char sni[64];
	char request[512];
};

static void *tls_main(void *p)
{
	struct tls_srv *t = p;
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pf = {t->fd, POLLIN, 0};
		if (poll(&pf, 1, 100) <= 0)
			continue;
		int c = accept(t->fd, NULL, NULL);
		if (c < 0)
			continue;
		struct timeval tv = {5, 0};
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		SSL *ssl = SSL_new(t->ctx);
		SSL_set_fd(ssl, c);
		if (SSL_accept(ssl) == 1) {
			char buf[2048];
			int have = 0, r;
			while (have < (int)sizeof buf - 1 &&
			       (r = SSL_read(ssl, buf + have,
			                     (int)sizeof buf - 1 - have)) > 0) {
				have += r;
				buf[have] = '\0';
				if (strstr(buf, "\r\n\r\n"))
					break;
			}
			buf[have] = '\0';
			const char *sn =
			    SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
			snprintf(t->sni, sizeof t->sni, "%s", sn ? sn : "");
			snprintf(t->request, sizeof t->request, "%.*s",
			         (int)strcspn(buf, "\r"), buf);
			const char *resp =
			    "HTTP/1.1 200 OK\r\nContent-Length: 6"
			    "\r\nConnection: close\r\n\r\nsecure";
			SSL_write(ssl, resp, (int)strlen(resp));
			SSL_shutdown(ssl);
			t->served++;
		}
		SSL_free(ssl);
		close(c);
	}
	return NULL;
}

static void tls_start(struct tls_srv *t, const char *cert, const char *key)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	memset(t, 0, sizeof *t);
	t->ctx = SSL_CTX_new(TLS_server_method());
	ck_assert_int_eq(
	    SSL_CTX_use_certificate_file(t->ctx, cert, SSL_FILETYPE_PEM), 1);
	ck_assert_int_eq(
	    SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM), 1);
	t->fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(t->fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(t->fd, 16), 0);
	getsockname(t->fd, (struct sockaddr *)&a, &al);
	t->port = ntohs(a.sin_port);
	pthread_create(&t->thread, NULL, tls_main, t);
}

static void tls_stop(struct tls_srv *t)
{
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t->thread, NULL);
	close(t->fd);
	SSL_CTX_free(t->ctx);
}

START_TEST(https_with_a_trusted_certificate)
{
	char *dir = skytest_tmpdir("http-tls"), *cert, *key;
	struct tls_srv t;
	sky_http_client *tc = NULL;
	sky_http_client_options o = {0};
	sky_http_response *resp = NULL;
	char u[96];
	make_cert(dir, &cert, &key);
	tls_start(&t, cert, key);
	o.ca_file = cert;
	o.http_proxy = o.https_proxy = "";
	ck_assert_int_eq(sky_http_client_new(&o, &tc), 0);

	/* "localhost" resolves to ::1 first on most hosts; the server only
	 * listens on 127.0.0.1, so this also walks the address list. */
	snprintf(u, sizeof u, "https://localhost:%d/v1/secure?x=1", t.port);
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION};
	r.method = "GET";
	r.url = u;
	r.timeout_ms = 10000;
	ck_assert_int_eq(sky_http_client_request(tc, &r, &resp), 0);
	ck_assert_int_eq(resp->status, 200);
	ck_assert_str_eq(resp->body, "secure");
	sky_http_response_free(resp);
	ck_assert_str_eq(t.sni, "localhost");
	ck_assert_str_eq(t.request, "GET /v1/secure?x=1 HTTP/1.1");

	/* The certificate names localhost, not 127.0.0.1. */
	snprintf(u, sizeof u, "https://127.0.0.1:%d/", t.port);
	ck_assert_int_eq(sky_http_client_request(tc, &r, &resp), SKY_EHTTP);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "TLS"));
	sky_http_client_free(tc);

	/* Without the CA file the self-signed certificate is refused. */
	o.ca_file = NULL;
	ck_assert_int_eq(sky_http_client_new(&o, &tc), 0);
	snprintf(u, sizeof u, "https://localhost:%d/", t.port);
	ck_assert_int_eq(sky_http_client_request(tc, &r, &resp), SKY_EHTTP);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "TLS"));
	ck_assert_int_eq(t.served, 1);
	sky_http_client_free(tc);

	/* A CA file that does not exist is a clear error at start. */
	o.ca_file = "/nonexistent/ca.pem";
	ck_assert_int_eq(sky_http_client_new(&o, &tc), SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "/nonexistent/ca.pem"));
	tls_stop(&t);
	free(cert);
	free(key);
	free(dir);
}
END_TEST

START_TEST(url_helpers)
{
	sky_url u;
	ck_assert_int_eq(sky_url_parse("https://API.example.com/v1?x=1#f", &u),
	                 0);
	ck_assert_int_eq(u.tls, 1);
	ck_assert_str_eq(u.host, "api.example.com");
	ck_assert_int_eq(u.port, 443);
	ck_assert_str_eq(u.path, "/v1?x=1");
	sky_url_clear(&u);
	ck_assert_int_eq(sky_url_parse("http://[::1]:8080", &u), 0);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 8080);
	ck_assert_str_eq(u.path, "/");
	sky_url_clear(&u);
	ck_assert_int_eq(sky_url_parse("http://a b/", &u), SKY_EINVALID);
	/* One normalizer with sky_url_validate: IDN hosts as punycode, IPv4
	 * forms as dotted quads, dot segments resolved. */
	ck_assert_int_eq(
	    sky_url_parse("HTTP://Bücher.example:8080/a/../b#x", &u), 0);
	ck_assert_str_eq(u.host, "xn--bcher-kva.example");
	ck_assert_int_eq(u.port, 8080);
	ck_assert_int_eq(u.port_explicit, 1);
	ck_assert_str_eq(u.path, "/b");
	sky_url_clear(&u);
	ck_assert_int_eq(sky_url_parse("http://0x7f.1/", &u), 0);
	ck_assert_str_eq(u.host, "127.0.0.1");
	ck_assert(sky_url_host_is_loopback(u.host));
	sky_url_clear(&u);
	ck_assert_int_eq(sky_url_parse("http://h:0/", &u), SKY_EINVALID);
	ck_assert_int_eq(sky_url_parse("https://u:p@h/", &u), SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "credentials"));
	ck_assert_int_eq(sky_url_parse("ftp://h/", &u), SKY_EINVALID);
	ck_assert(sky_url_host_is_loopback("127.9.9.9"));
	ck_assert(sky_url_host_is_loopback("::1"));
	ck_assert(sky_url_host_is_loopback("app.localhost"));
	ck_assert(!sky_url_host_is_loopback("10.0.0.1"));
	ck_assert(sky_url_no_proxy_match("foo.com, .bar.org", "x.bar.org"));
	ck_assert(sky_url_no_proxy_match("foo.com, .bar.org", "bar.org"));
	ck_assert(sky_url_no_proxy_match("foo.com:8080", "api.foo.com"));
	ck_assert(!sky_url_no_proxy_match("foo.com", "notfoo.com"));
	ck_assert(sky_url_no_proxy_match("*", "anything"));
	ck_assert(!sky_url_no_proxy_match("", "anything"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("client");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, get_sends_headers_and_returns_lowercase_headers);
	tcase_add_test(tc, post_sends_body_and_length);
	tcase_add_test(tc, large_body_both_ways);
	tcase_add_test(tc, chunked_response_is_dechunked);
	tcase_add_test(tc, error_statuses_are_data);
	tcase_add_test(tc, response_slower_than_5s_default_is_fine);
	tcase_add_test(tc, slow_headers_time_out);
	tcase_add_test(tc, slow_body_times_out);
	tcase_add_test(tc, stalled_body_hits_idle_timer);
	tcase_add_test(tc, truncated_body_is_an_error);
	tcase_add_test(tc, oversized_response_is_refused);
	tcase_add_test(tc, refused_connection);
	tcase_add_test(tc, dropped_connection);
	tcase_add_test(tc, silent_peer_never_hangs);
	tcase_add_test(tc, bad_requests_are_refused_up_front);
	tcase_add_test(tc, sixteen_threads_fifty_requests_each);
	tcase_add_test(tc, no_fd_leak_over_many_requests);
	tcase_add_test(tc, free_fails_in_flight_requests);
	tcase_add_test(tc, host_context_uses_its_engines_client);
	tcase_add_test(tc, engine_starts_and_stops_the_client);
	tcase_add_test(tc, proxy_only_when_asked);
	tcase_add_test(tc, env_http_proxy_does_not_leak_into_direct_requests);
	tcase_add_test(tc, https_with_a_trusted_certificate);
	tcase_add_test(tc, url_helpers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
