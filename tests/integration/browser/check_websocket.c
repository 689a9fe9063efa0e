/* The websocket transport against a Chromium this test launches itself
 * with --remote-debugging-port=0 (as a remote browser would run): both
 * URL forms, real work through it, multi-megabyte screenshots, a proxy
 * in the environment that lws must not use, and the browser's death. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skybrowser.h"
#include "skytest.h"
#include "util/fs.h"
#include <skyx/str.h>

static skyb_site *site;
static pid_t chrome = -1;
static char *profile;
static int port;
static char ws_path[256];

static void launch(void)
{
	profile = skytest_tmpdir("wschrome");
	chrome = skyb_chromium_launch(profile, &port, ws_path);
	ck_assert_int_gt(chrome, 0);
}

static void setup(void)
{
	site = skyb_site_start();
	launch();
}

static void teardown(void)
{
	skyb_chromium_kill(chrome);
	chrome = -1;
	skyx_rm_rf(profile);
	free(profile);
	port = 0;
	skyb_site_stop(site);
}

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

static void work_through(void *b)
{
	void *ctx = skyb_context(b, NULL);
	char *url = skyb_url(site, "form.html");
	json_decref(skyb_navigate(ctx, url));
	free(url);
	json_t *s = skyb_snapshot(ctx);
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":"
	                        "\"Remote\"}",
	                        skyb_id(s, "input", "First name")));
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "button", "Submit application")));
	char *body = skyb_site_submitted(site, "form");
	ck_assert_ptr_nonnull(strstr(body, "first_name=Remote"));
	free(body);
	json_decref(s);

	/* several megabytes in one message */
	url = skyb_url(site, "noise.html");
	json_decref(skyb_navigate(ctx, url));
	free(url);
	unsigned char *img = NULL;
	size_t len = 0;
	char *err = NULL;
	ck_assert_int_eq(skyb_provider()->screenshot(
	                     ctx, "{\"full_page\": true}", &img, &len, &err),
	                 0);
	unsigned w, h;
	png_size(img, len, &w, &h);
	ck_assert_uint_eq(w, 1280);
	ck_assert_uint_eq(h, 2400);
	ck_assert_uint_gt(len, 4 * 1024 * 1024);
	free(img);
	skyb_provider()->context_close(ctx);
}

START_TEST(http_endpoint_url_and_big_screenshot)
{
	/* lws reads $http_proxy for every client connection; ours must
	 * opt out or this loopback connection would go to a dead proxy */
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	char *cfg =
	    skyx_asprintf("{\"cdp_url\": \"http://127.0.0.1:%d\"}", port);
	void *b = skyb_browser(cfg);
	free(cfg);
	work_through(b);
	skyb_provider()->destroy(b);
	/* we only disconnected: the browser is still there */
	ck_assert_int_eq(waitpid(chrome, NULL, WNOHANG), 0);
}
END_TEST

typedef struct call {
	void *ctx;
	int rc;
	char *err;
} call;

static void *hang(void *arg)
{
	call *c = arg;
	char *res = NULL;
	c->rc = skyb_provider()->evaluate(c->ctx, "new Promise(() => {})", &res,
	                                  &c->err);
	free(res);
	return NULL;
}

START_TEST(ws_url_and_the_browser_going_away)
{
	char *cfg = skyx_asprintf("{\"cdp_url\": \"ws://127.0.0.1:%d%s\"}",
	                          port, ws_path);
	void *b = skyb_browser(cfg);
	free(cfg);
	work_through(b);

	void *ctx = skyb_context(b, NULL);
	char *url = skyb_url(site, "basic.html");
	json_decref(skyb_navigate(ctx, url));
	free(url);
	call c = {ctx, 0, NULL};
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, hang, &c), 0);
	usleep(300 * 1000);
	kill(-chrome, SIGKILL);
	waitpid(chrome, NULL, 0);
	chrome = -1;
	pthread_join(th, NULL);
	ck_assert_int_eq(c.rc, SKY_EBROWSER);
	ck_assert_ptr_nonnull(c.err);
	free(c.err);
	/* nothing to reconnect to: a clear error, not a hang */
	void *ctx2 = NULL;
	char *err = NULL;
	ck_assert_int_eq(skyb_provider()->context_open(b, NULL, &ctx2, &err),
	                 SKY_EBROWSER);
	ck_assert_ptr_nonnull(err);
	free(err);
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_websocket");
	SKYB_TEST(s, http_endpoint_url_and_big_screenshot, setup, teardown,
	          120);
	SKYB_TEST(s, ws_url_and_the_browser_going_away, setup, teardown, 120);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
