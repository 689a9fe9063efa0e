/* One browser, many contexts: cookies and storage do not cross, worker
 * threads drive different contexts at once, and each context has its own
 * extra headers, viewport, proxy (with credentials) and download dir. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "skybrowser.h"
#include "skytest.h"
#include "util/fs.h"
#include <skyx/str.h>

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
	int before = skyb_site_proxied(site, NULL);
	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->navigate(b, "http://shop.example.invalid/x",
	                                   "{\"retries\": 0}", &res, &err);
	ck_assert_int_lt(rc, 0);
	free(err);
	ck_assert_int_eq(skyb_site_proxied(site, NULL), before);

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
	return s;
}

int main(void)
{
	skyb_shared_start();
	int rc = skytest_run(suite());
	skyb_shared_stop();
	return rc;
}
