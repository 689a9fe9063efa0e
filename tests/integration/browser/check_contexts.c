/* One browser, many contexts: cookies and storage do not cross, worker
 * threads drive different contexts at once, and each context has its own
 * extra headers, viewport, proxy (with credentials) and download dir.
 * The spare context (made ahead, taken by the next open) is such a
 * context too, and is disposed of when the browser goes. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "httpc.h"
#include "skybrowser.h"
#include "skytest.h"
#include "util/fs.h"
#include <skyengine/log.h>
#include <skyx/str.h>
#include <skyx/time.h>

static skyb_site *site;
static void *browser;

static void setup(void)
{
	site = skyb_site_start();
	browser = skyb_browser_shared();
}

static void teardown(void)
{
	skyb_provider()->destroy(browser);
	skyb_site_stop(site);
}

static char *page_text(void *ctx, const char *path)
{
	char *url = skyb_url(site, path);
	json_decref(skyb_navigate(ctx, url));
	free(url);
	return skyb_eval_str(ctx, "document.body.innerText");
}

/* --- worker threads: no ck_assert off the main thread, they report ---- */

typedef struct worker {
	int n;
	char err[512];
} worker;

#define WFAIL(w, ...)                                                          \
	do {                                                                   \
		snprintf((w)->err, sizeof(w)->err, __VA_ARGS__);               \
		goto out;                                                      \
	} while (0)

static void *work(void *arg)
{
	worker *w = arg;
	const sky_browser_provider *p = skyb_provider();
	void *ctx = NULL;
	char *res = NULL, *err = NULL, *url = NULL, *act = NULL;
	char mine[32];
	json_t *snap = NULL;
	snprintf(mine, sizeof mine, "worker%d", w->n);
	if (p->context_open(browser, NULL, &ctx, &err))
		WFAIL(w, "context_open: %s", err);
	for (int round = 0; round < 3; round++) {
		free(url);
		url = skyx_asprintf("%s/cookie/set?v=%s", skyb_site_url(site),
		                    mine);
		free(res);
		res = NULL;
		if (p->navigate(ctx, url, NULL, &res, &err))
			WFAIL(w, "navigate: %s", err);
		free(url);
		url = skyx_asprintf("%s/form.html", skyb_site_url(site));
		free(res);
		res = NULL;
		if (p->navigate(ctx, url, NULL, &res, &err))
			WFAIL(w, "navigate: %s", err);
		free(res);
		res = NULL;
		if (p->snapshot(ctx, skyb_script(), NULL, &res, &err))
			WFAIL(w, "snapshot: %s", err);
		json_decref(snap);
		snap = json_loads(res, 0, NULL);
		json_t *first = skyb_find(snap, "input", "First name");
		if (!first)
			WFAIL(w, "no First name field");
		free(act);
		act = skyx_asprintf(
		    "{\"action_type\":\"input_text\","
		    "\"element_id\":\"%s\",\"text\":\"%s\"}",
		    json_string_value(json_object_get(first, "id")), mine);
		free(res);
		res = NULL;
		if (p->act(ctx, act, &res, &err) ||
		    !strstr(res, "\"success\":true"))
			WFAIL(w, "input: %s", res ? res : err);
		free(res);
		res = NULL;
		if (p->evaluate(ctx, "document.getElementById('first').value",
		                &res, &err))
			WFAIL(w, "evaluate: %s", err);
		char want[64];
		snprintf(want, sizeof want, "\"%s\"", mine);
		if (strcmp(res, want))
			WFAIL(w, "field holds %s, expected %s", res, want);
		free(url);
		url = skyx_asprintf("%s/cookie/show", skyb_site_url(site));
		free(res);
		res = NULL;
		if (p->navigate(ctx, url, NULL, &res, &err))
			WFAIL(w, "navigate: %s", err);
		free(res);
		res = NULL;
		if (p->evaluate(ctx, "document.getElementById('h').textContent",
		                &res, &err))
			WFAIL(w, "evaluate: %s", err);
		/* the Cookie header the server saw: exactly ours */
		char cookie[64];
		snprintf(cookie, sizeof cookie, "sky=%s", mine);
		json_t *outer = json_loads(res, JSON_DECODE_ANY, NULL);
		json_t *hdrs = json_loads(json_string_value(outer), 0, NULL);
		const char *got =
		    json_string_value(json_object_get(hdrs, "cookie"));
		int same = got && !strcmp(got, cookie);
		char seen[128];
		snprintf(seen, sizeof seen, "%s", got ? got : "(none)");
		json_decref(hdrs);
		json_decref(outer);
		if (!same)
			WFAIL(w, "Cookie header is \"%s\", expected \"%s\"",
			      seen, cookie);
	}
out:
	json_decref(snap);
	free(res);
	free(err);
	free(url);
	free(act);
	if (ctx)
		p->context_close(ctx);
	return NULL;
}

START_TEST(threads_drive_contexts_without_cross_talk)
{
	enum { N = 4 };
	pthread_t th[N];
	worker w[N];
	memset(w, 0, sizeof w);
	for (int i = 0; i < N; i++) {
		w[i].n = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++)
		ck_assert_msg(!w[i].err[0], "worker %d: %s", i, w[i].err);
}
END_TEST

START_TEST(storage_is_per_context)
{
	void *a = skyb_context(browser, NULL);
	void *b = skyb_context(browser, NULL);
	char *url = skyb_url(site, "basic.html");
	json_decref(skyb_navigate(a, url));
	json_decref(skyb_navigate(b, url));
	json_decref(skyb_eval(a, "localStorage.setItem('k', 'from-a'), 1"));
	char *v = skyb_eval_str(b, "String(localStorage.getItem('k'))");
	ck_assert_str_eq(v, "null");
	free(v);
	v = skyb_eval_str(a, "localStorage.getItem('k')");
	ck_assert_str_eq(v, "from-a");
	free(v);
	free(url);
	skyb_provider()->context_close(a);
	skyb_provider()->context_close(b);
}
END_TEST

START_TEST(headers_viewport_and_user_agent_per_context)
{
	void *a =
	    skyb_context(browser, "{\"extra_http_headers\": {\"X-Sky-Run\": "
	                          "\"run-a\"}, \"viewport\": {\"width\": 800, "
	                          "\"height\": 600}, \"user_agent\": "
	                          "\"SkyTest/1.0\"}");
	void *b = skyb_context(browser, NULL);
	char *ta = page_text(a, "headers");
	char *tb = page_text(b, "headers");
	ck_assert_ptr_nonnull(strstr(ta, "\"x-sky-run\":\"run-a\""));
	ck_assert_ptr_nonnull(strstr(ta, "\"user-agent\":\"SkyTest/1.0\""));
	ck_assert_ptr_null(strstr(tb, "x-sky-run"));
	ck_assert_ptr_null(strstr(tb, "SkyTest"));
	ck_assert_int_eq(skyb_eval_int(a, "innerWidth"), 800);
	ck_assert_int_eq(skyb_eval_int(a, "innerHeight"), 600);
	ck_assert_int_eq(skyb_eval_int(b, "innerWidth"), 1280);
	free(ta);
	free(tb);
	skyb_provider()->context_close(a);
	skyb_provider()->context_close(b);

	char *err = NULL;
	void *bad = NULL;
	ck_assert_int_eq(
	    skyb_provider()->context_open(
	        browser, "{\"viewport\": {\"width\": 5}}", &bad, &err),
	    SKY_EINVALID);
	free(err);
	err = NULL;
	ck_assert_int_eq(
	    skyb_provider()->context_open(
	        browser, "{\"proxy\": {\"username\": \"x\"}}", &bad, &err),
	    SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(err, "server"));
	free(err);
}
END_TEST

START_TEST(proxy_with_credentials_per_context)
{
	/* The fixture server doubles as an HTTP proxy that wants
	 * user:pass; Chromium asks through Fetch.authRequired. */
	char *opts = skyx_asprintf("{\"proxy\": {\"server\": \"%s\", "
	                           "\"username\": \"user\", \"password\": "
	                           "\"pass\"}}",
	                           skyb_site_url(site));
	void *a = skyb_context(browser, opts);
	free(opts);
	json_t *r = skyb_navigate(a, "http://shop.example.invalid/cart");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 200);
	json_decref(r);
	char *t = skyb_eval_str(a, "document.getElementById('via')."
	                           "textContent");
	ck_assert_str_eq(t, "proxied http://shop.example.invalid/cart");
	free(t);
	int refused = 0;
	ck_assert_int_ge(skyb_site_proxied(site, &refused), 1);
	ck_assert_int_ge(refused, 1); /* the challenge came first */

	/* a context without the proxy does not go through it */
	void *b = skyb_context(browser, NULL);
	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->navigate(b, "http://shop.example.invalid/x",
	                                   "{\"retries\": 0}", &res, &err);
	ck_assert_int_lt(rc, 0);
	free(err);
	ck_assert_int_eq(
	    skyb_site_was_proxied(site, "http://shop.example.invalid/x"), 0);

	/* wrong credentials: refused, and the navigation ends */
	opts = skyx_asprintf("{\"proxy\": {\"server\": \"%s\", \"username\": "
	                     "\"user\", \"password\": \"wrong\"}}",
	                     skyb_site_url(site));
	void *c = skyb_context(browser, opts);
	free(opts);
	res = NULL;
	err = NULL;
	rc = skyb_provider()->navigate(c, "http://shop.example.invalid/y",
	                               "{\"retries\": 0, \"timeout_ms\": "
	                               "10000}",
	                               &res, &err);
	if (rc == 0) {
		json_t *j = json_loads(res, 0, NULL);
		ck_assert_int_eq(
		    json_integer_value(json_object_get(j, "status")), 407);
		json_decref(j);
		free(res);
	} else {
		free(err);
	}
	skyb_provider()->context_close(a);
	skyb_provider()->context_close(b);
	skyb_provider()->context_close(c);
}
END_TEST

START_TEST(downloads_go_to_each_contexts_dir)
{
	char *da = skytest_tmpdir("dl-a"), *db = skytest_tmpdir("dl-b");
	char *oa = skyx_asprintf("{\"download_dir\": \"%s\"}", da);
	char *ob = skyx_asprintf("{\"download_dir\": \"%s\"}", db);
	void *a = skyb_context(browser, oa);
	void *b = skyb_context(browser, ob);
	void *ctxs[2] = {a, b};
	const char *dirs[2] = {da, db};
	for (int i = 0; i < 2; i++) {
		char *url = skyb_url(site, "download.html");
		json_decref(skyb_navigate(ctxs[i], url));
		free(url);
		json_t *s = skyb_snapshot(ctxs[i]);
		json_t *r = skyb_act_ok(ctxs[i],
		                        "{\"action_type\":\"download_file\","
		                        "\"element_id\":\"%s\"}",
		                        skyb_id(s, "a", "Download the report"));
		const char *path = json_string_value(
		    json_object_get(json_object_get(r, "download"), "path"));
		char *want = skyx_path_join(dirs[i], "report.csv");
		ck_assert_str_eq(path, want);
		free(want);
		json_decref(r);
		json_decref(s);
	}
	/* a second download of the same name does not overwrite the first */
	json_t *s = skyb_snapshot(a);
	json_t *r = skyb_act_ok(a,
	                        "{\"action_type\":\"download_file\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "a", "Download the report"));
	const char *path = json_string_value(
	    json_object_get(json_object_get(r, "download"), "path"));
	ck_assert_ptr_nonnull(strstr(path, "report (1).csv"));
	json_decref(r);
	json_decref(s);
	skyb_provider()->context_close(a);
	skyb_provider()->context_close(b);
	skyx_rm_rf(da);
	skyx_rm_rf(db);
	free(da);
	free(db);
	free(oa);
	free(ob);
}
END_TEST

/* --- the spare context ---------------------------------------------------
 * The plugin says at debug level when it starts making a spare, when one
 * is ready and when an open took it: the tests count those lines to know
 * that the context under test is the spare, and assert on what a user of
 * the context sees. */

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static int spares_making, spares_ready, spares_taken;

static void spare_log(sky_log_level level, const char *component,
                      const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	if (strcmp(component, "browser-cdp"))
		return;
	pthread_mutex_lock(&spare_lock);
	if (strstr(msg, "making a spare context"))
		spares_making++;
	else if (strstr(msg, "spare context ready"))
		spares_ready++;
	else if (strstr(msg, "context opened from the spare"))
		spares_taken++;
	pthread_mutex_unlock(&spare_lock);
}

static int spare_count(int *n)
{
	pthread_mutex_lock(&spare_lock);
	int v = *n;
	pthread_mutex_unlock(&spare_lock);
	return v;
}

/* Wait (30 s at most) until *n reaches `want`. */
static void spare_wait(int *n, int want, const char *what)
{
	for (int i = 0; i < 600 && spare_count(n) < want; i++)
		usleep(50 * 1000);
	ck_assert_msg(spare_count(n) >= want, "no %s after 30 s", what);
}

static void spare_setup(void)
{
	setup();
	spares_making = spares_ready = spares_taken = 0;
	sky_log_set(spare_log, SKY_LOG_DEBUG, NULL);
}

static void spare_teardown(void)
{
	teardown();
	sky_log_set(NULL, SKY_LOG_WARN, NULL);
}

/* A context with the site's cookie and storage set, left open. */
static void *dirty_context(const char *value)
{
	void *c = skyb_context(browser, NULL);
	char *path = skyx_asprintf("cookie/set?v=%s", value);
	free(page_text(c, path));
	free(path);
	char *js = skyx_asprintf("localStorage.setItem('k', '%s'), "
	                         "sessionStorage.setItem('s', '%s'), 1",
	                         value, value);
	json_decref(skyb_eval(c, js));
	free(js);
	return c;
}

START_TEST(spare_has_nothing_of_earlier_contexts)
{
	/* the first open starts the browser and takes the spare made
	 * at its start */
	void *a = dirty_context("closed-one");
	void *b = dirty_context("open-one");
	/* a closes: a spare is made, and the next open takes it */
	skyb_provider()->context_close(a);
	spare_wait(&spares_ready, 2, "spare after a context closed");
	int taken = spare_count(&spares_taken);
	void *c = skyb_context(browser, NULL);
	ck_assert_int_eq(spare_count(&spares_taken), taken + 1);
	/* it was never anywhere but about:blank */
	char *v = skyb_eval_str(c, "location.href");
	ck_assert_str_eq(v, "about:blank");
	free(v);
	ck_assert_int_eq(skyb_eval_int(c, "history.length"), 1);
	/* the site sees no cookie, the origin no storage */
	char *t = page_text(c, "cookie/show");
	ck_assert_msg(!strstr(t, "sky="), "the spare sent a cookie: %s", t);
	free(t);
	v = skyb_eval_str(c, "String(localStorage.getItem('k')) + ' ' + "
	                     "String(sessionStorage.getItem('s'))");
	ck_assert_str_eq(v, "null null");
	free(v);
	/* and its own cookie stays its own */
	free(page_text(c, "cookie/set?v=spare"));
	t = page_text(b, "cookie/show");
	ck_assert_ptr_nonnull(strstr(t, "sky=open-one"));
	ck_assert_ptr_null(strstr(t, "spare"));
	free(t);
	skyb_provider()->context_close(b);
	skyb_provider()->context_close(c);
}
END_TEST

START_TEST(spare_gets_the_requested_options)
{
	skyb_provider()->context_close(skyb_context(browser, NULL));
	spare_wait(&spares_ready, 2, "spare after a context closed");
	char *dir = skytest_tmpdir("dl-spare");
	char *opts = skyx_asprintf(
	    "{\"extra_http_headers\": {\"X-Sky-Run\": \"run-s\"}, "
	    "\"viewport\": {\"width\": 800, \"height\": 600}, "
	    "\"user_agent\": \"SkyTest/1.0\", \"download_dir\": \"%s\"}",
	    dir);
	int taken = spare_count(&spares_taken);
	void *c = skyb_context(browser, opts);
	ck_assert_int_eq(spare_count(&spares_taken), taken + 1);
	char *t = page_text(c, "headers");
	ck_assert_ptr_nonnull(strstr(t, "\"x-sky-run\":\"run-s\""));
	ck_assert_ptr_nonnull(strstr(t, "\"user-agent\":\"SkyTest/1.0\""));
	free(t);
	ck_assert_int_eq(skyb_eval_int(c, "innerWidth"), 800);
	ck_assert_int_eq(skyb_eval_int(c, "innerHeight"), 600);
	char *ua = skyb_eval_str(c, "navigator.userAgent");
	ck_assert_str_eq(ua, "SkyTest/1.0");
	free(ua);
	/* downloads land in the directory asked for */
	char *url = skyb_url(site, "download.html");
	json_decref(skyb_navigate(c, url));
	free(url);
	json_t *s = skyb_snapshot(c);
	json_t *r = skyb_act_ok(c,
	                        "{\"action_type\":\"download_file\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "a", "Download the report"));
	char *want = skyx_path_join(dir, "report.csv");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(r, "download"), "path")),
	                 want);
	free(want);
	json_decref(r);
	json_decref(s);
	skyb_provider()->context_close(c);
	skyx_rm_rf(dir);
	free(dir);
	free(opts);
}
END_TEST

START_TEST(proxy_context_does_not_take_the_spare)
{
	skyb_provider()->context_close(skyb_context(browser, NULL));
	spare_wait(&spares_ready, 2, "spare after a context closed");
	int taken = spare_count(&spares_taken);
	char *opts = skyx_asprintf("{\"proxy\": {\"server\": \"%s\", "
	                           "\"username\": \"user\", \"password\": "
	                           "\"pass\"}}",
	                           skyb_site_url(site));
	void *a = skyb_context(browser, opts);
	free(opts);
	json_t *r = skyb_navigate(a, "http://shop.example.invalid/cart");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 200);
	json_decref(r);
	ck_assert_int_eq(
	    skyb_site_was_proxied(site, "http://shop.example.invalid/cart"), 1);
	ck_assert_int_eq(spare_count(&spares_taken), taken);
	/* the spare is still there for the next open without a proxy,
	 * which does not go through the proxy */
	void *b = skyb_context(browser, NULL);
	ck_assert_int_eq(spare_count(&spares_taken), taken + 1);
	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->navigate(b, "http://shop.example.invalid/x",
	                                   "{\"retries\": 0}", &res, &err);
	ck_assert_int_lt(rc, 0);
	free(err);
	ck_assert_int_eq(
	    skyb_site_was_proxied(site, "http://shop.example.invalid/x"), 0);
	skyb_provider()->context_close(a);
	skyb_provider()->context_close(b);
}
END_TEST

/* Page targets of the shared Chromium (GET /json/list). */
static int chrome_pages(void)
{
	skytest_hc_resp r;
	ck_assert_int_eq(
	    skytest_hc(skyb_shared_port(), "GET", "/json/list", "", NULL, &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	json_t *list = json_loads(r.body, 0, NULL);
	skytest_hc_free(&r);
	int n = 0;
	size_t i;
	json_t *t;
	json_array_foreach (list, i, t)
		n += !strcmp(json_string_value(json_object_get(t, "type")),
		             "page");
	json_decref(list);
	return n;
}

START_TEST(shutdown_with_a_spare_being_made_is_clean)
{
	int pages = chrome_pages();
	void *b2 = skyb_browser_shared();
	void *c = skyb_context(b2, NULL);
	free(page_text(c, "basic.html"));
	int making = spare_count(&spares_making);
	skyb_provider()->context_close(c);
	/* destroyed while the spare is being made */
	spare_wait(&spares_making, making + 1, "spare being made");
	int64_t t0 = skyx_time_mono_ms();
	skyb_provider()->destroy(b2);
	int64_t took = skyx_time_mono_ms() - t0;
	ck_assert_msg(took < 10000, "destroy took %lld ms", (long long)took);
	/* nothing of it is left in the browser */
	for (int i = 0; i < 100 && chrome_pages() != pages; i++)
		usleep(50 * 1000);
	ck_assert_int_eq(chrome_pages(), pages);
	/* a browser destroyed with a spare ready leaves nothing either */
	b2 = skyb_browser_shared();
	int ready = spare_count(&spares_ready);
	skyb_provider()->context_close(skyb_context(b2, NULL));
	spare_wait(&spares_ready, ready + 2, "spare after a context closed");
	ck_assert_int_eq(chrome_pages(), pages + 1);
	skyb_provider()->destroy(b2);
	for (int i = 0; i < 100 && chrome_pages() != pages; i++)
		usleep(50 * 1000);
	ck_assert_int_eq(chrome_pages(), pages);
}
END_TEST

START_TEST(spare_can_be_turned_off)
{
	char *cfg = skyx_asprintf("{\"cdp_url\": \"http://127.0.0.1:%d\", "
	                          "\"spare_context\": false}",
	                          skyb_shared_port());
	void *b2 = skyb_browser(cfg);
	free(cfg);
	skyb_provider()->context_close(skyb_context(b2, NULL));
	void *c = skyb_context(b2, NULL);
	free(page_text(c, "basic.html"));
	skyb_provider()->context_close(c);
	usleep(300 * 1000);
	ck_assert_int_eq(spare_count(&spares_making), 0);
	ck_assert_int_eq(spare_count(&spares_taken), 0);
	skyb_provider()->destroy(b2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_contexts");
	SKYB_TEST(s, threads_drive_contexts_without_cross_talk, setup, teardown,
	          180);
	SKYB_TEST(s, storage_is_per_context, setup, teardown, 90);
	SKYB_TEST(s, headers_viewport_and_user_agent_per_context, setup,
	          teardown, 90);
	SKYB_TEST(s, proxy_with_credentials_per_context, setup, teardown, 90);
	SKYB_TEST(s, downloads_go_to_each_contexts_dir, setup, teardown, 90);
	SKYB_TEST(s, spare_has_nothing_of_earlier_contexts, spare_setup,
	          spare_teardown, 90);
	SKYB_TEST(s, spare_gets_the_requested_options, spare_setup,
	          spare_teardown, 90);
	SKYB_TEST(s, proxy_context_does_not_take_the_spare, spare_setup,
	          spare_teardown, 90);
	SKYB_TEST(s, shutdown_with_a_spare_being_made_is_clean, spare_setup,
	          spare_teardown, 90);
	SKYB_TEST(s, spare_can_be_turned_off, spare_setup, spare_teardown, 60);
	return s;
}

int main(void)
{
	skyb_shared_start();
	int rc = skytest_run(suite());
	skyb_shared_stop();
	return rc;
}
