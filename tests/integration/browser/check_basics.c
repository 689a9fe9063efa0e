/* Browser basics against real Chromium over the pipe transport:
 * navigation (status, title, errors, retries), evaluate, settle waiting
 * for late XHR content, screenshots (PNG, JPEG, full page, multi-MB),
 * page state. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "skybrowser.h"
#include "skytest.h"

static skyb_site *site;
static void *browser, *ctx;

static void setup(void)
{
	site = skyb_site_start();
	browser = skyb_browser(NULL);
	ctx = skyb_context(browser, NULL);
}

static void teardown(void)
{
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(browser);
	skyb_site_stop(site);
}

START_TEST(navigate_reports_status_title_and_url)
{
	char *url = skyb_url(site, "basic.html");
	json_t *r = skyb_navigate(ctx, url);
	ck_assert_str_eq(json_string_value(json_object_get(r, "url")), url);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 200);
	ck_assert_str_eq(json_string_value(json_object_get(r, "title")),
	                 "Basic page");
	ck_assert(json_is_true(json_object_get(r, "loaded")));
	json_decref(r);
	char *h1 = skyb_eval_str(ctx, "document.querySelector('h1')"
	                              ".textContent");
	ck_assert_str_eq(h1, "Hello");
	free(h1);
	free(url);

	url = skyb_url(site, "missing.html");
	r = skyb_navigate(ctx, url);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 404);
	json_decref(r);
	free(url);
}
END_TEST

/* A loopback port nobody listens on: bound, read back, closed. */
static int closed_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

START_TEST(navigate_to_a_closed_port_fails_clearly)
{
	char *res = NULL, *err = NULL, url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed_port());
	int rc =
	    skyb_provider()->navigate(ctx, url, "{\"retries\": 1}", &res, &err);
	ck_assert_int_eq(rc, SKY_ECONNREFUSED);
	ck_assert_ptr_null(res);
	ck_assert_ptr_nonnull(strstr(err, "ERR_CONNECTION_REFUSED"));
	free(err);
	/* the context still works afterwards */
	char *ok = skyb_url(site, "basic.html");
	json_decref(skyb_navigate(ctx, ok));
	free(ok);
}
END_TEST

START_TEST(evaluate_returns_json_values_and_errors)
{
	json_t *v = skyb_eval(ctx, "({a: [1, 2, 3], b: 'x', c: null})");
	ck_assert_int_eq(json_array_size(json_object_get(v, "a")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(v, "b")), "x");
	json_decref(v);
	v = skyb_eval(ctx, "new Promise(r => setTimeout(() => r(42), 10))");
	ck_assert_int_eq(json_integer_value(v), 42);
	json_decref(v);

	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->evaluate(ctx, "nosuchthing.x", &res, &err);
	ck_assert_int_lt(rc, 0);
	ck_assert_ptr_nonnull(strstr(err, "nosuchthing"));
	free(err);
}
END_TEST

/* PNG: signature, then IHDR width and height. */
static void png_size(const unsigned char *d, size_t n, unsigned *w, unsigned *h)
{
	static const unsigned char sig[8] = {0x89, 'P',  'N',  'G',
	                                     0x0d, 0x0a, 0x1a, 0x0a};
	ck_assert_uint_gt(n, 24);
	ck_assert_int_eq(memcmp(d, sig, 8), 0);
	*w = (unsigned)d[16] << 24 | d[17] << 16 | d[18] << 8 | d[19];
	*h = (unsigned)d[20] << 24 | d[21] << 16 | d[22] << 8 | d[23];
}

START_TEST(screenshots_viewport_full_page_and_jpeg)
{
	char *url = skyb_url(site, "noise.html");
	json_decref(skyb_navigate(ctx, url));
	free(url);
	unsigned char *img = NULL;
	size_t len = 0;
	unsigned w, h;
	char *err = NULL;
	ck_assert_int_eq(
	    skyb_provider()->screenshot(ctx, NULL, &img, &len, &err), 0);
	png_size(img, len, &w, &h);
	ck_assert_uint_eq(w, 1280);
	ck_assert_uint_eq(h, 800);
	free(img);
	/* the whole 2400 px page in one multi-megabyte message */
	ck_assert_int_eq(skyb_provider()->screenshot(
	                     ctx, "{\"full_page\": true}", &img, &len, &err),
	                 0);
	png_size(img, len, &w, &h);
	ck_assert_uint_eq(h, 2400);
	ck_assert_uint_gt(len, 4 * 1024 * 1024);
	free(img);
	ck_assert_int_eq(skyb_provider()->screenshot(
	                     ctx, "{\"format\": \"jpeg\", \"quality\": 50}",
	                     &img, &len, &err),
	                 0);
	ck_assert_uint_gt(len, 3);
	ck_assert(img[0] == 0xff && img[1] == 0xd8 && img[2] == 0xff);
	free(img);
	ck_assert_int_eq(skyb_provider()->screenshot(
	                     ctx, "{\"format\": \"gif\"}", &img, &len, &err),
	                 SKY_EINVALID);
	free(err);
}
END_TEST

START_TEST(page_state_lists_tabs_and_the_page)
{
	char *url = skyb_url(site, "basic.html");
	json_decref(skyb_navigate(ctx, url));
	json_t *st = skyb_state(ctx);
	ck_assert_str_eq(json_string_value(json_object_get(st, "url")), url);
	ck_assert_str_eq(json_string_value(json_object_get(st, "title")),
	                 "Basic page");
	json_t *tabs = json_object_get(st, "tabs");
	ck_assert_int_eq(json_array_size(tabs), 1);
	ck_assert(
	    json_is_true(json_object_get(json_array_get(tabs, 0), "active")));
	ck_assert_int_eq(json_array_size(json_object_get(st, "dialogs")), 0);
	json_decref(st);
	free(url);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_basics");
	SKYB_TEST(s, navigate_reports_status_title_and_url, setup, teardown,
	          60);
	SKYB_TEST(s, navigate_to_a_closed_port_fails_clearly, setup, teardown,
	          60);
	SKYB_TEST(s, evaluate_returns_json_values_and_errors, setup, teardown,
	          60);
	SKYB_TEST(s, screenshots_viewport_full_page_and_jpeg, setup, teardown,
	          60);
	SKYB_TEST(s, page_state_lists_tabs_and_the_page, setup, teardown, 60);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
