/* Unit tests: the test forward proxy (tests/support/proxy.c), driven with
 * raw sockets against a tests/support/httpd.h origin. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"
#include "proxy.h"
#include "skytest.h"
#include "util/hash.h"
#include <skyx/str.h>

#define USER "runner"
#define PASS "s3cret:with-colon"
#define TIMEOUT 10000

/* The origin tells what it received. */
static void origin(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	unsigned long sum = 0;
	for (size_t i = 0; i < req->body_len; i++)
		sum = sum * 31 + (unsigned char)req->body[i];
	const char *via = skytest_req_header(req, "via");
	const char *pa = skytest_req_header(req, "proxy-authorization");
	char *body = skyx_asprintf("method=%s path=%s query=%s via=%s pauth=%s "
	                           "len=%zu sum=%lu",
	                           req->method, req->path, req->query,
	                           via ? via : "none", pa ? "yes" : "no",
	                           req->body_len, sum);
	if (!strcmp(req->path, "/chunked"))
		resp->chunked = 1;
	skytest_resp_text(resp, 200, "text/plain", body);
	free(body);
}

static skytest_httpd *web;
static skytest_proxy *px;
static char auth[256];

static void setup(void)
{
	web = skytest_httpd_start(origin, NULL);
	px = skytest_proxy_start(USER, PASS);
	ck_assert_ptr_nonnull(web);
	ck_assert_ptr_nonnull(px);
	char *b64 = skyx_base64_encode(USER ":" PASS, strlen(USER ":" PASS));
	snprintf(auth, sizeof auth, "Proxy-Authorization: Basic %s\r\n", b64);
	free(b64);
}

static void teardown(void)
{
	skytest_proxy_stop(px);
	skytest_httpd_stop(web);
}

static char *exchange(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *exchange(int fd, const char *fmt, ...)
{
	va_list ap;
	skyx_buf b = {0};
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(skytest_raw_send(fd, b.data, b.len), 0);
	skyx_buf_free(&b);
	char *resp = skytest_raw_read_response(fd, TIMEOUT, NULL);
	ck_assert_msg(resp != NULL, "no response");
	return resp;
}

static void assert_has(const char *hay, const char *needle)
{
	ck_assert_msg(hay && strstr(hay, needle), "'%s' lacks '%s'",
	              hay ? hay : "(null)", needle);
}

START_TEST(challenge_then_forward_with_via)
{
	int port = skytest_httpd_port(web);
	int fd = skytest_raw_connect(skytest_proxy_port(px));
	ck_assert_int_ge(fd, 0);
	/* Like Chromium: first without credentials. */
	char *r = exchange(fd,
	                   "GET http://127.0.0.1:%d/hello?x=1 HTTP/1.1\r\n"
	                   "Host: 127.0.0.1:%d\r\n\r\n",
	                   port, port);
	ck_assert_int_eq(skytest_raw_status(r), 407);
	char *challenge = skytest_raw_header(r, "proxy-authenticate");
	ck_assert_str_eq(challenge, "Basic realm=\"skytest-proxy\"");
	free(challenge);
	free(r);
	ck_assert_int_eq(skytest_httpd_count(web), 0);

	/* The retry on the same connection goes through. */
	r = exchange(fd,
	             "GET http://127.0.0.1:%d/hello?x=1 HTTP/1.1\r\n"
	             "Host: 127.0.0.1:%d\r\n%s\r\n",
	             port, port, auth);
	ck_assert_int_eq(skytest_raw_status(r), 200);
	assert_has(skytest_raw_body(r), "method=GET path=/hello query=x=1 "
	                                "via=1.1 skytest-proxy pauth=no");
	free(r);
	/* Keep-alive: a second request on the connection. */
	r = exchange(fd,
	             "GET http://127.0.0.1:%d/again HTTP/1.1\r\n"
	             "Host: 127.0.0.1:%d\r\n%s\r\n",
	             port, port, auth);
	ck_assert_int_eq(skytest_raw_status(r), 200);
	assert_has(skytest_raw_body(r), "path=/again");
	free(r);
	close(fd);

	skytest_proxy_stats st;
	skytest_proxy_stats_get(px, &st);
	ck_assert_int_eq(st.total, 3);
	ck_assert_int_eq(st.challenged, 1);
	ck_assert_int_eq(st.authenticated, 2);
	ck_assert_int_eq(st.forwarded, 2);
	ck_assert_int_eq(st.refused, 0);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	ck_assert_int_eq(skytest_proxy_host_count(px, hp), 2);
	char *hosts = skytest_proxy_hosts(px);
	ck_assert_str_eq(hosts, strcat(hp, "\n"));
	free(hosts);
	ck_assert_int_eq(skytest_httpd_count(web), 2);
}
END_TEST

START_TEST(wrong_credentials_are_challenged)
{
	int port = skytest_httpd_port(web);
	char *bad = skyx_base64_encode(USER ":nope", strlen(USER ":nope"));
	char *req = skyx_asprintf("GET http://127.0.0.1:%d/ HTTP/1.1\r\n"
	                          "Proxy-Authorization: Basic %s\r\n"
	                          "Connection: close\r\n\r\n",
	                          port, bad);
	char *r = skytest_raw_request(skytest_proxy_port(px), req, TIMEOUT);
	ck_assert_int_eq(skytest_raw_status(r), 407);
	free(r);
	free(req);
	req = skyx_asprintf("GET http://127.0.0.1:%d/ HTTP/1.1\r\n"
	                    "Proxy-Authorization: Digest x\r\n\r\n",
	                    port);
	r = skytest_raw_request(skytest_proxy_port(px), req, TIMEOUT);
	ck_assert_int_eq(skytest_raw_status(r), 407);
	free(r);
	free(req);
	free(bad);
	skytest_proxy_stats st;
	skytest_proxy_stats_get(px, &st);
	ck_assert_int_eq(st.challenged, 2);
	ck_assert_int_eq(st.authenticated, 0);
	ck_assert_int_eq(skytest_httpd_count(web), 0);
}
END_TEST

START_TEST(post_bodies_arrive_intact)
{
	int port = skytest_httpd_port(web);
	size_t n = 200 * 1024;
	char *body = malloc(n + 1);
	unsigned long sum = 0;
	for (size_t i = 0; i < n; i++) {
		body[i] = (char)('a' + i % 26);
		sum = sum * 31 + (unsigned char)body[i];
	}
	body[n] = '\0';
	int fd = skytest_raw_connect(skytest_proxy_port(px));
	char *r = exchange(fd,
	                   "POST http://localhost:%d/submit HTTP/1.1\r\n"
	                   "Host: localhost:%d\r\n%sContent-Type: text/plain"
	                   "\r\nContent-Length: %zu\r\n\r\n%s",
	                   port, port, auth, n, body);
	ck_assert_int_eq(skytest_raw_status(r), 200);
	char want[128];
	snprintf(want, sizeof want, "method=POST path=/submit");
	assert_has(r, want);
	snprintf(want, sizeof want, "len=%zu sum=%lu", n, sum);
	assert_has(r, want);
	free(r);
	/* A 407 with a body also leaves the connection in step. */
	r = exchange(fd,
	             "POST http://localhost:%d/x HTTP/1.1\r\n"
	             "Content-Length: 5\r\n\r\nhello",
	             port);
	ck_assert_int_eq(skytest_raw_status(r), 407);
	free(r);
	r = exchange(fd,
	             "POST http://localhost:%d/y HTTP/1.1\r\n%s"
	             "Content-Length: 5\r\n\r\nworld",
	             port, auth);
	ck_assert_int_eq(skytest_raw_status(r), 200);
	assert_has(r, "path=/y");
	assert_has(r, "len=5");
	free(r);
	close(fd);
	free(body);
	char hp[64];
	snprintf(hp, sizeof hp, "localhost:%d", port);
	ck_assert_int_eq(skytest_proxy_host_count(px, hp), 2);
}
END_TEST

START_TEST(non_loopback_targets_are_refused)
{
	int fd = skytest_raw_connect(skytest_proxy_port(px));
	const char *targets[] = {"GET http://example.com/ HTTP/1.1",
	                         "GET http://10.0.0.1:8080/ HTTP/1.1",
	                         "GET http://[2001:db8::1]:80/ HTTP/1.1",
	                         "CONNECT example.com:443 HTTP/1.1",
	                         "CONNECT 192.168.1.1:443 HTTP/1.1"};
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		char *r = exchange(fd, "%s\r\n%s\r\n", targets[i], auth);
		ck_assert_msg(skytest_raw_status(r) == 403, "%s: %s",
		              targets[i], r);
		free(r);
	}
	close(fd);
	skytest_proxy_stats st;
	skytest_proxy_stats_get(px, &st);
	ck_assert_int_eq(st.refused, 5);
	ck_assert_int_eq(st.forwarded, 0);
	char *hosts = skytest_proxy_hosts(px);
	ck_assert_str_eq(hosts, "");
	free(hosts);
	/* Not a proxy request at all. */
	char *req = skyx_asprintf("GET /direct HTTP/1.1\r\n%s\r\n", auth);
	char *r = skytest_raw_request(skytest_proxy_port(px), req, TIMEOUT);
	free(req);
	ck_assert_int_eq(skytest_raw_status(r), 400);
	free(r);
}
END_TEST

START_TEST(connect_tunnels_to_loopback)
{
	int port = skytest_httpd_port(web);
	int fd = skytest_raw_connect(skytest_proxy_port(px));
	char *r = exchange(fd,
	                   "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	                   "Host: 127.0.0.1:%d\r\n\r\n",
	                   port, port);
	ck_assert_int_eq(skytest_raw_status(r), 407);
	free(r);
	char *req = skyx_asprintf("CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	                          "Host: 127.0.0.1:%d\r\n%s\r\n",
	                          port, port, auth);
	ck_assert_int_eq(skytest_raw_send(fd, req, strlen(req)), 0);
	free(req);
	r = skytest_raw_read_head(fd, TIMEOUT);
	ck_assert_int_eq(skytest_raw_status(r), 200);
	free(r);
	/* Now bytes go straight to the origin: no Via inside a tunnel. */
	for (int i = 0; i < 2; i++) {
		r = exchange(fd,
		             "GET /tunnel%d HTTP/1.1\r\nHost: 127.0.0.1:%d"
		             "\r\n\r\n",
		             i, port);
		ck_assert_int_eq(skytest_raw_status(r), 200);
		char want[64];
		snprintf(want, sizeof want, "path=/tunnel%d", i);
		assert_has(r, want);
		assert_has(r, "via=none");
		free(r);
	}
	close(fd);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	ck_assert_int_eq(skytest_proxy_host_count(px, hp), 1);
	ck_assert_int_eq(skytest_httpd_count(web), 2);
}
END_TEST

START_TEST(chunked_answers_and_dead_origins)
{
	int port = skytest_httpd_port(web);
	int fd = skytest_raw_connect(skytest_proxy_port(px));
	char *r =
	    exchange(fd, "GET http://127.0.0.1:%d/chunked HTTP/1.1\r\n%s\r\n",
	             port, auth);
	ck_assert_int_eq(skytest_raw_status(r), 200);
	char *te = skytest_raw_header(r, "transfer-encoding");
	ck_assert_str_eq(te, "chunked");
	free(te);
	assert_has(r, "path=/chunked");
	assert_has(r, "\r\n0\r\n\r\n");
	free(r);
	/* The connection is still usable after a chunked answer. */
	r = exchange(fd, "GET http://127.0.0.1:%d/after HTTP/1.1\r\n%s\r\n",
	             port, auth);
	assert_has(r, "path=/after");
	free(r);
	close(fd);

	/* Nobody listens on the port the stopped server had. */
	skytest_httpd *gone = skytest_httpd_start(origin, NULL);
	int dead = skytest_httpd_port(gone);
	skytest_httpd_stop(gone);
	char *req = skyx_asprintf("GET http://127.0.0.1:%d/ HTTP/1.1\r\n%s\r\n",
	                          dead, auth);
	r = skytest_raw_request(skytest_proxy_port(px), req, TIMEOUT);
	ck_assert_int_eq(skytest_raw_status(r), 502);
	free(r);
	free(req);
}
END_TEST

START_TEST(open_proxy_without_credentials)
{
	skytest_proxy *open = skytest_proxy_start(NULL, NULL);
	int port = skytest_httpd_port(web);
	char *req = skyx_asprintf("GET http://127.0.0.1:%d/free HTTP/1.1\r\n"
	                          "Connection: close\r\n\r\n",
	                          port);
	char *r = skytest_raw_request(skytest_proxy_port(open), req, TIMEOUT);
	ck_assert_int_eq(skytest_raw_status(r), 200);
	assert_has(r, "via=1.1 skytest-proxy");
	free(r);
	free(req);
	skytest_proxy_stats st;
	skytest_proxy_stats_get(open, &st);
	ck_assert_int_eq(st.forwarded, 1);
	ck_assert_int_eq(st.challenged, 0);
	ck_assert_int_eq(st.authenticated, 0);
	skytest_proxy_stop(open);
}
END_TEST

START_TEST(stop_closes_idle_connections_and_tunnels)
{
	int port = skytest_httpd_port(web);
	int idle = skytest_raw_connect(skytest_proxy_port(px));
	int tun = skytest_raw_connect(skytest_proxy_port(px));
	char *req = skyx_asprintf("CONNECT 127.0.0.1:%d HTTP/1.1\r\n%s\r\n",
	                          port, auth);
	ck_assert_int_eq(skytest_raw_send(tun, req, strlen(req)), 0);
	free(req);
	char *r = skytest_raw_read_head(tun, TIMEOUT);
	ck_assert_int_eq(skytest_raw_status(r), 200);
	free(r);
	skytest_proxy_stop(px);
	px = NULL;
	char c;
	ck_assert_int_le(read(idle, &c, 1), 0);
	ck_assert_int_le(read(tun, &c, 1), 0);
	close(idle);
	close(tun);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("test_proxy");
	TCase *tc = tcase_create("proxy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, challenge_then_forward_with_via);
	tcase_add_test(tc, wrong_credentials_are_challenged);
	tcase_add_test(tc, post_bodies_arrive_intact);
	tcase_add_test(tc, non_loopback_targets_are_refused);
	tcase_add_test(tc, connect_tunnels_to_loopback);
	tcase_add_test(tc, chunked_answers_and_dead_origins);
	tcase_add_test(tc, open_proxy_without_credentials);
	tcase_add_test(tc, stop_closes_idle_connections_and_tunnels);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
