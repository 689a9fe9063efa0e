/* When things go wrong: Chromium killed in the middle of a call (the
 * call fails clearly, the next context relaunches it, nothing is left
 * unreaped), bad configuration, a missing binary, a page stuck in a loop,
 * and a proxy in the environment that must not leak into the browser. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skybrowser.h"
#include "skytest.h"
#include <skyengine/log.h>

static skyb_site *site;

static void setup(void)
{
	site = skyb_site_start();
}

static void teardown(void)
{
	skyb_site_stop(site);
}

/* Our child processes named chromium (the browser we launched). */
static pid_t browser_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	while (d && (e = readdir(d))) {
		char path[300], buf[512];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *close = strrchr(buf, ')');
		int ppid = 0;
		char state;
		if (close && sscanf(close + 2, "%c %d", &state, &ppid) == 2 &&
		    ppid == getpid() && strstr(buf, "(chrom") && state != 'Z')
			found = (pid_t)atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

typedef struct call {
	void *ctx;
	int rc;
	char *err;
} call;

static void *hang(void *arg)
{
	call *c = arg;
	char *res = NULL;
	/* never settles: in flight until the browser goes away */
	c->rc = skyb_provider()->evaluate(c->ctx, "new Promise(() => {})", &res,
	                                  &c->err);
	free(res);
	return NULL;
}

START_TEST(killed_browser_fails_calls_and_relaunches)
{
	void *b = skyb_browser(NULL);
	void *ctx = skyb_context(b, NULL);
	char *url = skyb_url(site, "basic.html");
	json_decref(skyb_navigate(ctx, url));
	pid_t pid = browser_pid();
	ck_assert_int_gt(pid, 0);

	call c = {ctx, 0, NULL};
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, hang, &c), 0);
	usleep(300 * 1000); /* let the call go out */
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	pthread_join(th, NULL);
	ck_assert_int_eq(c.rc, SKY_EBROWSER);
	ck_assert_msg(strstr(c.err, "killed by signal 9"), "message: %s",
	              c.err);
	free(c.err);

	/* the plugin reaped it: no zombie left */
	errno = 0;
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);

	/* the old context says so; a new one brings a new browser */
	char *res = NULL, *err = NULL;
	ck_assert_int_eq(skyb_provider()->navigate(ctx, url, NULL, &res, &err),
	                 SKY_EBROWSER);
	ck_assert_ptr_nonnull(strstr(err, "open a new context"));
	free(err);
	void *ctx2 = skyb_context(b, NULL);
	json_t *r = skyb_navigate(ctx2, url);
	ck_assert_str_eq(json_string_value(json_object_get(r, "title")),
	                 "Basic page");
	json_decref(r);
	pid_t pid2 = browser_pid();
	ck_assert_int_gt(pid2, 0);
	ck_assert_int_ne(pid2, pid);
	skyb_provider()->context_close(ctx); /* the dead one: no hang */
	skyb_provider()->context_close(ctx2);
	skyb_provider()->destroy(b);
	/* destroy ends and reaps the browser */
	errno = 0;
	ck_assert_int_eq(waitpid(pid2, NULL, WNOHANG), -1);
	ck_assert_int_eq(browser_pid(), 0);
	free(url);
}
END_TEST

/* The plugin's debug lines about its spare context (browser.c). */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static int spares_ready, spares_taken, spares_stale;

static void spare_log(sky_log_level level, const char *component,
                      const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	pthread_mutex_lock(&spare_lock);
	if (!strcmp(component, "browser-cdp")) {
		spares_ready += !!strstr(msg, "spare context ready");
		spares_taken += !!strstr(msg, "context opened from the spare");
		spares_stale += !!strstr(msg, "the spare context is stale");
	}
	pthread_mutex_unlock(&spare_lock);
}

static int spare_count(int *n)
{
	pthread_mutex_lock(&spare_lock);
	int v = *n;
	pthread_mutex_unlock(&spare_lock);
	return v;
}

START_TEST(killed_browser_with_a_spare_ready_opens_a_fresh_context)
{
	sky_log_set(spare_log, SKY_LOG_DEBUG, NULL);
	void *b = skyb_browser(NULL);
	void *ctx0 = skyb_context(b, NULL);
	skyb_provider()->context_close(skyb_context(b, NULL));
	/* the one made at start was taken; the close made another */
	for (int i = 0; i < 600 && spare_count(&spares_ready) < 2; i++)
		usleep(50 * 1000);
	ck_assert_int_eq(spare_count(&spares_ready), 2);
	pid_t pid = browser_pid();
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	/* the plugin saw it go */
	int rc = 0;
	for (int i = 0; i < 200 && rc != SKY_EBROWSER; i++) {
		char *res = NULL, *err = NULL;
		rc = skyb_provider()->evaluate(ctx0, "1", &res, &err);
		free(res);
		free(err);
		if (rc != SKY_EBROWSER)
			usleep(50 * 1000);
	}
	ck_assert_int_eq(rc, SKY_EBROWSER);
	int taken = spare_count(&spares_taken);
	/* the spare died with the browser: a fresh context in a new one */
	void *ctx = skyb_context(b, NULL);
	ck_assert_int_eq(spare_count(&spares_taken), taken);
	ck_assert_int_eq(spare_count(&spares_stale), 1);
	char *url = skyb_url(site, "basic.html");
	json_t *r = skyb_navigate(ctx, url);
	ck_assert_str_eq(json_string_value(json_object_get(r, "title")),
	                 "Basic page");
	json_decref(r);
	free(url);
	ck_assert_int_ne(browser_pid(), pid);
	skyb_provider()->context_close(ctx0);
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(b);
	ck_assert_int_eq(browser_pid(), 0);
	sky_log_set(NULL, SKY_LOG_WARN, NULL);
}
END_TEST

START_TEST(bad_configuration_is_refused_clearly)
{
	const sky_browser_provider *p = skyb_provider();
	void *b = NULL;
	char *err = NULL;
	ck_assert_int_eq(p->create(skyb_ctx(), "{not json", &b, &err),
	                 SKY_EINVALID);
	free(err);
	err = NULL;
	ck_assert_int_eq(
	    p->create(skyb_ctx(), "{\"cdp_url\": \"ftp://x\"}", &b, &err),
	    SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(err, "cdp_url"));
	free(err);
	err = NULL;
	ck_assert_int_eq(
	    p->create(skyb_ctx(), "{\"args\": \"--foo\"}", &b, &err),
	    SKY_EINVALID);
	free(err);
	err = NULL;
	/* handshake headers that could split a request; the message names
	 * the header, never its value (a credential) */
	ck_assert_int_eq(p->create(skyb_ctx(),
	                           "{\"cdp_url\": \"http://127.0.0.1:1\", "
	                           "\"cdp_connect_headers\": {\"X-Key\": "
	                           "\"s3cret\\r\\nHost: evil\"}}",
	                           &b, &err),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(err, "X-Key"));
	ck_assert_ptr_null(strstr(err, "s3cret"));
	free(err);
	err = NULL;
	ck_assert_int_eq(p->create(skyb_ctx(),
	                           "{\"cdp_connect_headers\": [\"x\"]}", &b,
	                           &err),
	                 SKY_EINVALID);
	free(err);
	err = NULL;

	/* a missing binary: creating is lazy, opening a context says why */
	ck_assert_int_eq(p->create(skyb_ctx(),
	                           "{\"path\": \"/nonexistent/chromium\"}", &b,
	                           &err),
	                 0);
	void *ctx = NULL;
	ck_assert_int_eq(p->context_open(b, NULL, &ctx, &err), SKY_EBROWSER);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/chromium"));
	free(err);
	p->destroy(b);

	/* nothing listens there */
	err = NULL;
	ck_assert_int_eq(p->create(skyb_ctx(),
	                           "{\"cdp_url\": \"http://127.0.0.1:1\"}", &b,
	                           &err),
	                 0);
	ck_assert_int_eq(p->context_open(b, NULL, &ctx, &err), SKY_EBROWSER);
	ck_assert_ptr_nonnull(err);
	free(err);
	p->destroy(b);
}
END_TEST

START_TEST(a_page_stuck_in_a_loop_times_out_and_recovers)
{
	void *b = skyb_browser("{\"call_timeout_ms\": 1500}");
	void *ctx = skyb_context(b, NULL);
	char *url = skyb_url(site, "basic.html");
	json_decref(skyb_navigate(ctx, url));
	free(url);
	char *res = NULL, *err = NULL;
	ck_assert_int_eq(
	    skyb_provider()->evaluate(ctx, "for (;;) {}", &res, &err),
	    SKY_ETIMEDOUT);
	free(err);
	/* the loop was stopped: the page answers again */
	ck_assert_int_eq(skyb_eval_int(ctx, "6 * 7"), 42);
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(b);
}
END_TEST

START_TEST(environment_proxy_does_not_leak_into_the_browser)
{
	/* a proxy that does not exist: if Chromium used it, loading the
	 * loopback site would fail */
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("https_proxy", "http://127.0.0.1:9", 1);
	setenv("all_proxy", "http://127.0.0.1:9", 1);
	void *b = skyb_browser(NULL);
	void *ctx = skyb_context(b, NULL);
	char *url = skyb_url(site, "basic.html");
	json_t *r = skyb_navigate(ctx, url);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 200);
	json_decref(r);
	free(url);
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(b);
}
END_TEST

START_TEST(a_crashed_tab_says_so_and_navigating_revives_it)
{
	void *b = skyb_browser(NULL);
	void *ctx = skyb_context(b, NULL);
	char *url = skyb_url(site, "basic.html");
	json_decref(skyb_navigate(ctx, url));
	char *res = NULL, *err = NULL;
	/* a debug URL that kills the renderer */
	skyb_provider()->navigate(ctx, "chrome://crash",
	                          "{\"retries\": 0, "
	                          "\"timeout_ms\": 5000}",
	                          &res, &err);
	free(res);
	free(err);
	res = NULL;
	err = NULL;
	int rc =
	    skyb_provider()->snapshot(ctx, skyb_script(), NULL, &res, &err);
	ck_assert_int_eq(rc, SKY_EBROWSER);
	ck_assert_msg(strstr(err, "crashed"), "message: %s", err);
	free(err);
	/* the browser is fine; the tab comes back with a navigation */
	json_t *r = skyb_navigate(ctx, url);
	ck_assert_str_eq(json_string_value(json_object_get(r, "title")),
	                 "Basic page");
	json_decref(r);
	json_t *s = skyb_snapshot(ctx);
	ck_assert_ptr_nonnull(skyb_find(s, "a", "Second page"));
	json_decref(s);
	free(url);
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_faults");
	SKYB_TEST(s, killed_browser_fails_calls_and_relaunches, setup, teardown,
	          120);
	SKYB_TEST(s, killed_browser_with_a_spare_ready_opens_a_fresh_context,
	          setup, teardown, 90);
	SKYB_TEST(s, bad_configuration_is_refused_clearly, setup, teardown, 60);
	SKYB_TEST(s, a_page_stuck_in_a_loop_times_out_and_recovers, setup,
	          teardown, 60);
	SKYB_TEST(s, environment_proxy_does_not_leak_into_the_browser, setup,
	          teardown, 60);
	SKYB_TEST(s, a_crashed_tab_says_so_and_navigating_revives_it, setup,
	          teardown, 90);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
