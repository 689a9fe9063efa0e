/*
 * Browser profiles end to end (issue 17): a skyengine-server child process
 * running the offline planner in real Chromium against a fixture site on
 * loopback that grades from its side. Its login sets an httpOnly session
 * cookie and its home page a localStorage value; a later page reports
 * that value back to the site. A run logs in once, a profile is saved
 * from it, the server restarts, and a new run with the profile lands
 * logged in: the site saw the session cookie on its first request and
 * read the stored value. A session backed by a profile survives a
 * restart; organizations are walled off; wrong ids get the contract's
 * 404; a damaged profile file is a clear error, never a crash.
 */
#include <pthread.h>
#include <skyengine.h>
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "httpd.h"

#define USER "ada"
#define PASS "Lovelace-1815"
#define KEY_B "profiles-org-b-key-0123456789"
#define AUTH_B "x-api-key: " KEY_B "\r\n"

static skytest_server srv;
static char *dir, *data, *cfg_path;

/* --- the site --------------------------------------------------------------- */

typedef struct site {
	pthread_mutex_t lock;
	skytest_httpd *h;
	json_t *log; /* [{"method", "path", "signed_in"}] */
	char token[64];
	int logins;
} site;

static site S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void redirect(skytest_resp *resp, const char *to)
{
	skytest_resp_text(resp, 303, "text/plain", "");
	skytest_resp_header(resp, "Location", to);
}

/* Signed in: the request carried the session cookie of the last login. */
static int signed_in(const skytest_req *req)
{
	const char *cookie = skytest_req_header(req, "cookie");
	char want[96];
	pthread_mutex_lock(&S.lock);
	snprintf(want, sizeof want, "sess=%s", S.token);
	int in = S.token[0] && cookie && strstr(cookie, want) != NULL;
	pthread_mutex_unlock(&S.lock);
	return in;
}

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (!strcmp(req->path, "/favicon.ico")) {
		skytest_resp_text(resp, 404, "text/plain", "none");
		return;
	}
	int in = signed_in(req);
	char *path = req->query && *req->query
	                 ? skyx_asprintf("%s?%s", req->path, req->query)
	                 : skyx_strdup(req->path);
	pthread_mutex_lock(&S.lock);
	json_array_append_new(S.log, json_pack("{s:s, s:s, s:b}", "method",
	                                       req->method, "path", path,
	                                       "signed_in", in));
	pthread_mutex_unlock(&S.lock);
	free(path);
	if (!strcmp(req->method, "POST") && !strcmp(req->path, "/login")) {
		char want[128];
		snprintf(want, sizeof want, "username=%s&password=%s", USER,
		         PASS);
		if (!req->body || strcmp(req->body, want)) {
			redirect(resp, "/login");
			return;
		}
		pthread_mutex_lock(&S.lock);
		S.logins++;
		snprintf(S.token, sizeof S.token, "t%d-%ld", S.logins,
		         (long)getpid());
		char *c = skyx_asprintf("sess=%s; Path=/; HttpOnly", S.token);
		pthread_mutex_unlock(&S.lock);
		redirect(resp, "/home");
		skytest_resp_header(resp, "Set-Cookie", c);
		free(c);
		return;
	}
	if (!strcmp(req->path, "/login")) {
		skytest_resp_text(
		    resp, 200, NULL,
		    "<title>Sign in</title><h1>Sign in</h1><form method=post "
		    "action=/login><label for=u>Username</label><input id=u "
		    "name=username required><label for=p>Password</label>"
		    "<input id=p name=password type=password required>"
		    "<button>Sign in</button></form>");
		return;
	}
	if (!strcmp(req->path, "/report")) {
		skytest_resp_text(resp, 200, "text/plain", "noted");
		return;
	}
	if (!in) {
		redirect(resp, "/login");
		return;
	}
	if (!strcmp(req->path, "/home"))
		skytest_resp_text(
		    resp, 200, NULL,
		    "<title>Home</title><h1>Welcome back, Ada</h1><a "
		    "href='/orders'>Orders</a><script>if (!localStorage."
		    "getItem('theme')) localStorage.setItem('theme', "
		    "'dark-ada');</script>");
	else if (!strcmp(req->path, "/orders"))
		skytest_resp_text(resp, 200, NULL,
		                  "<title>Orders</title><h1>Your orders</h1>"
		                  "<p>Order A-17: 9.50</p>");
	else if (!strcmp(req->path, "/prefs"))
		skytest_resp_text(
		    resp, 200, NULL,
		    "<title>Preferences</title><h1>Preferences</h1><p "
		    "id=t></p><a href='/orders'>Orders</a><script>var t = "
		    "localStorage.getItem('theme'); document.getElementById"
		    "('t').textContent = 'Theme: ' + t; fetch('/report?theme="
		    "' + encodeURIComponent(t));</script>");
	else
		skytest_resp_text(resp, 404, "text/plain", "not found");
}

static size_t log_size(void)
{
	pthread_mutex_lock(&S.lock);
	size_t n = json_array_size(S.log);
	pthread_mutex_unlock(&S.lock);
	return n;
}

/* Requests since `from`, as "METHOD path(+)" lines ("+": signed in). */
static char *log_since(size_t from)
{
	skyx_buf b = {0};
	skyx_buf_puts(&b, "");
	pthread_mutex_lock(&S.lock);
	for (size_t i = from; i < json_array_size(S.log); i++) {
		json_t *e = json_array_get(S.log, i);
		skyx_buf_printf(
		    &b, "%s %s%s\n", jstr(e, "method"), jstr(e, "path"),
		    json_is_true(json_object_get(e, "signed_in")) ? "+" : "");
	}
	pthread_mutex_unlock(&S.lock);
	return skyx_buf_steal(&b);
}

static char *site_url(const char *path)
{
	return skyx_asprintf("%s%s", skytest_httpd_url(S.h), path);
}

/* --- the server ------------------------------------------------------------ */

static void server_start(void)
{
	const char *args[] = {"--api-key", KEY, "--config", cfg_path,
	                      "--workers", "2", NULL};
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
}

static void server_free(void)
{
	free(srv.data_dir);
	free(srv.log_path);
	memset(&srv, 0, sizeof srv);
}

static void server_restart(void)
{
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	server_free();
	server_start();
}

/* Organization B and its key, through the host API, before the server
 * opens the data dir. */
static void make_org_b(void)
{
	sky_engine_options o;
	sky_engine *e = NULL;
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = data;
	o.no_execute = 1;
	ck_assert_int_eq(sky_engine_new(&e, &o), 0);
	char *org = NULL;
	ck_assert_int_eq(sky_organization_create(&org, e, "tenant b"), 0);
	ck_assert_int_eq(sky_api_key_add(e, org, KEY_B), 0);
	sky_free(org);
	sky_engine_free(e);
	sky_global_shutdown();
}

static void setup(void)
{
	dir = skytest_tmpdir("profiles");
	data = skyx_asprintf("%s/data", dir);
	S.log = json_array();
	S.token[0] = 0;
	S.logins = 0;
	S.h = skytest_httpd_start(on_site, NULL);
	ck_assert_ptr_nonnull(S.h);
	cfg_path = skyx_asprintf("%s/config.json", dir);
	const char *json = "{\"agent\":{\"settle_max_ms\":3000}}";
	ck_assert_int_eq(sky_write_file(cfg_path, json, strlen(json)), 0);
	make_org_b();
	server_start();
}

static void teardown(void)
{
	if (srv.pid > 0)
		ck_assert_int_eq(skytest_server_stop(&srv), 0);
	server_free();
	skytest_httpd_stop(S.h);
	json_decref(S.log);
	free(cfg_path);
	if (!getenv("SKYTEST_KEEP"))
		skyx_rm_rf(dir);
	free(dir);
	free(data);
}

/* --- helpers ----------------------------------------------------------------- */

static json_t *api_patch(const char *path, const char *body, int status)
{
	return api_call(&srv, "PATCH", path, AUTH JSONH, body, status);
}

static void assert_completed(json_t *run)
{
	ck_assert_msg(!strcmp(jstr(run, "status"), "completed"), "%s: %s",
	              jstr(run, "status"), jstr(run, "failure_reason"));
}

/* A run logs in at /login and keeps its browser state; its id. */
static char *log_in_run(void)
{
	char *login = site_url("/login");
	char *body = skyx_asprintf(
	    "{\"prompt\":\"Log in with username " USER " and password " PASS
	    "\",\"url\":\"%s\",\"engine\":\"skyvern-1.0\","
	    "\"persist_browser_session\":true}",
	    login);
	free(login);
	size_t before = log_size();
	char *id = api_submit(&srv, body);
	free(body);
	json_t *run = api_wait(&srv, id);
	assert_completed(run);
	json_decref(run);
	char *seen = log_since(before);
	ck_assert_msg(strstr(seen, "POST /login\nGET /home+\n") != NULL,
	              "the login run made: %s", seen);
	free(seen);
	return id;
}

/* POST /v1/browser_profiles; the answer. */
static json_t *profile_new(const char *body, int status)
{
	return api_post(&srv, "/v1/browser_profiles", body, status);
}

static char *profile_path(const char *id, const char *tail)
{
	return skyx_asprintf("/v1/browser_profiles/%s%s", id, tail);
}

/* --- tests ------------------------------------------------------------------ */

START_TEST(log_in_once_then_land_logged_in_after_a_restart)
{
	char *run1 = log_in_run();
	ck_assert_int_eq(S.logins, 1);

	char *body = skyx_asprintf("{\"name\":\" Ada at the shop \","
	                           "\"description\":\"signed in\","
	                           "\"workflow_run_id\":\"%s\"}",
	                           run1);
	json_t *p = profile_new(body, 200);
	free(body);
	const char *bp = jstr(p, "browser_profile_id");
	ck_assert_msg(skyx_str_startswith(bp, "bp_"), "id %s", bp);
	char *id = skyx_strdup(bp);
	ck_assert_str_eq(jstr(p, "name"), "Ada at the shop");
	ck_assert_str_eq(jstr(p, "description"), "signed in");
	ck_assert(json_is_false(json_object_get(p, "is_managed")));
	ck_assert(json_is_null(json_object_get(p, "deleted_at")));
	ck_assert_ptr_nonnull(jstr(p, "created_at"));
	json_decref(p);

	/* The cookie and the stored value are not on disk in the clear. */
	char *clear = scan_files(data, S.token);
	ck_assert_msg(!*clear, "session token in the clear in: %s", clear);
	free(clear);
	clear = scan_files(data, "dark-ada");
	ck_assert_msg(!*clear, "stored value in the clear in: %s", clear);
	free(clear);

	server_restart();

	char *path = profile_path(id, "");
	p = api_get(&srv, path, 200);
	ck_assert_str_eq(jstr(p, "browser_profile_id"), id);
	json_decref(p);

	/* A new run with the profile: its first request to the site is
	 * already signed in, and the page reads the stored value. */
	char *prefs = site_url("/prefs");
	body = skyx_asprintf("{\"prompt\":\"Open the Orders page.\",\"url\":"
	                     "\"%s\",\"engine\":\"skyvern-2.0\","
	                     "\"browser_profile_id\":\"%s\"}",
	                     prefs, id);
	free(prefs);
	size_t before = log_size();
	char *run2 = api_submit(&srv, body);
	free(body);
	json_t *run = api_wait(&srv, run2);
	ck_assert_msg(!json_is_string(json_object_get(run, "failure_reason")) ||
	                  !strstr(jstr(run, "failure_reason"), "profile"),
	              "run: %s", jstr(run, "failure_reason"));
	ck_assert_str_eq(jstr(run, "browser_profile_id"), id);
	json_decref(run);
	char *seen = log_since(before);
	ck_assert_msg(skyx_str_startswith(seen, "GET /prefs+\n"),
	              "the run with the profile made: %s", seen);
	ck_assert_msg(strstr(seen, "GET /report?theme=dark-ada+\n") != NULL,
	              "the page did not read the stored value: %s", seen);
	ck_assert_ptr_null(strstr(seen, "/login"));
	free(seen);
	ck_assert_int_eq(S.logins, 1);

	/* Usage counts the run that loaded it. */
	char *upath = profile_path(id, "/usage");
	json_t *u = api_get(&srv, upath, 200);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(u, "recent_seeded_run_count")),
	    1);
	ck_assert(json_is_array(json_object_get(u, "workflows")));
	ck_assert(json_is_array(json_object_get(u, "credentials")));
	json_decref(u);
	free(upath);
	free(path);
	free(run1);
	free(run2);
	free(id);
}
END_TEST

START_TEST(a_session_backed_by_a_profile_survives_a_restart)
{
	/* A blank profile, loaded into a session that then logs in. */
	json_t *p = profile_new("{\"name\":\"blank\"}", 200);
	char *bp = skyx_strdup(jstr(p, "browser_profile_id"));
	json_decref(p);
	char *home = site_url("/home");
	char *body = skyx_asprintf("{\"url\":\"%s\",\"browser_profile_id\":"
	                           "\"%s\"}",
	                           home, bp);
	json_t *s = api_post(&srv, "/v1/browser_sessions", body, 200);
	free(body);
	char *sid = skyx_strdup(jstr(s, "browser_session_id"));
	ck_assert_str_eq(jstr(s, "browser_profile_id"), bp);
	json_decref(s);
	body = skyx_asprintf("{\"prompt\":\"Log in with username " USER
	                     " and password " PASS "\",\"engine\":"
	                     "\"skyvern-1.0\",\"browser_session_id\":\"%s\"}",
	                     sid);
	char *r1 = api_submit(&srv, body);
	free(body);
	json_t *run = api_wait(&srv, r1);
	assert_completed(run);
	json_decref(run);
	ck_assert_int_eq(S.logins, 1);

	server_restart();

	/* Open again, from the profile: its page came back signed in. */
	char spath[128];
	snprintf(spath, sizeof spath, "/v1/browser_sessions/%s", sid);
	s = api_get(&srv, spath, 200);
	ck_assert_str_eq(jstr(s, "status"), "running");
	json_decref(s);
	size_t before = log_size();
	body = skyx_asprintf("{\"prompt\":\"Open the Orders page.\",\"engine\":"
	                     "\"skyvern-1.0\",\"browser_session_id\":\"%s\"}",
	                     sid);
	char *r2 = api_submit(&srv, body);
	free(body);
	run = api_wait(&srv, r2);
	assert_completed(run);
	json_decref(run);
	char *seen = log_since(before);
	ck_assert_msg(strstr(seen, "GET /orders+\n") != NULL,
	              "after the restart the session made: %s", seen);
	ck_assert_ptr_null(strstr(seen, "/login"));
	free(seen);
	ck_assert_int_eq(S.logins, 1);

	/* PATCH: Skyvern's one field; an ended session refuses it. */
	s = api_patch(spath, "{\"generate_browser_profile\":true}", 200);
	ck_assert(json_is_true(json_object_get(s, "generate_browser_profile")));
	json_decref(s);
	json_t *e = api_patch(spath, "{}", 422);
	ck_assert_str_eq(
	    jstr(json_array_get(json_object_get(e, "detail"), 0), "type"),
	    "missing");
	json_decref(e);
	char cpath[160];
	snprintf(cpath, sizeof cpath, "/v1/browser_sessions/%s/close", sid);
	json_decref(api_post(&srv, cpath, "", 200));
	e = api_patch(spath, "{\"generate_browser_profile\":false}", 409);
	json_decref(e);
	/* The state it kept at close makes a profile. */
	body = skyx_asprintf("{\"name\":\"from the session\","
	                     "\"browser_session_id\":\"%s\"}",
	                     sid);
	p = profile_new(body, 200);
	free(body);
	ck_assert(skyx_str_startswith(jstr(p, "browser_profile_id"), "bp_"));
	json_decref(p);
	e = api_patch("/v1/browser_sessions/pbs_1",
	              "{\"generate_browser_"
	              "profile\":true}",
	              404);
	json_decref(e);
	free(home);
	free(r1);
	free(r2);
	free(sid);
	free(bp);
}
END_TEST

START_TEST(profiles_api_organizations_and_not_found)
{
	json_t *p =
	    profile_new("{\"name\":\"one\",\"description\":\"d\"}", 200);
	char *id = skyx_strdup(jstr(p, "browser_profile_id"));
	json_decref(p);
	/* Names are unique in an organization. */
	json_t *e = profile_new("{\"name\":\"one\"}", 409);
	ck_assert_ptr_nonnull(strstr(jstr(e, "detail"), "already exists"));
	json_decref(e);
	e = profile_new("{\"description\":\"no name\"}", 422);
	json_decref(e);
	e = profile_new("{\"name\":\"x\",\"workflow_run_id\":\"tsk_1\","
	                "\"browser_session_id\":\"pbs_1\"}",
	                422);
	json_decref(e);
	e = profile_new("{\"name\":\"x\",\"workflow_run_id\":\"tsk_1\"}", 404);
	ck_assert_str_eq(jstr(e, "detail"), "WorkflowRun tsk_1 not found");
	json_decref(e);
	e = profile_new("{\"name\":\"x\",\"browser_session_id\":\"pbs_1\"}",
	                404);
	json_decref(e);

	/* Rename, list, search. */
	char *path = profile_path(id, "");
	p = api_patch(path, "{\"name\":\"renamed\"}", 200);
	ck_assert_str_eq(jstr(p, "name"), "renamed");
	ck_assert_str_eq(jstr(p, "description"), "d");
	json_decref(p);
	json_t *l = api_get(&srv, "/v1/browser_profiles?search_key=RENAM", 200);
	ck_assert_uint_eq(json_array_size(l), 1);
	json_decref(l);

	/* Organization B sees none of it. */
	l = api_call(&srv, "GET", "/v1/browser_profiles", AUTH_B, NULL, 200);
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	json_decref(api_call(&srv, "GET", path, AUTH_B, NULL, 404));
	json_decref(api_call(&srv, "PATCH", path, AUTH_B JSONH,
	                     "{\"name\":\"mine\"}", 404));
	json_decref(api_call(&srv, "DELETE", path, AUTH_B, NULL, 404));
	char *upath = profile_path(id, "/usage");
	json_decref(api_call(&srv, "GET", upath, AUTH_B, NULL, 404));
	char *body =
	    skyx_asprintf("{\"prompt\":\"x\",\"engine\":\"skyvern-2.0\","
	                  "\"browser_profile_id\":\"%s\"}",
	                  id);
	json_decref(
	    api_call(&srv, "POST", "/v1/run/tasks", AUTH_B JSONH, body, 404));
	free(body);
	body = skyx_asprintf("{\"browser_profile_id\":\"%s\"}", id);
	json_decref(api_call(&srv, "POST", "/v1/browser_sessions", AUTH_B JSONH,
	                     body, 404));
	free(body);

	/* Wrong ids: the contract's 404. */
	e = api_get(&srv, "/v1/browser_profiles/bp_404", 404);
	ck_assert(skyx_str_startswith(jstr(e, "detail"),
	                              "Browser profile bp_404 not found"));
	json_decref(e);
	json_decref(api_get(&srv, "/v1/browser_profiles/bp_404/usage", 404));
	json_decref(
	    api_patch("/v1/browser_profiles/bp_404", "{\"name\":\"n\"}", 404));
	json_decref(api_call(&srv, "DELETE", "/v1/browser_profiles/bp_404",
	                     AUTH, NULL, 404));
	/* Skyvern's rules for runs: not on skyvern-1.0. */
	body = skyx_asprintf("{\"prompt\":\"x\",\"engine\":\"skyvern-1.0\","
	                     "\"browser_profile_id\":\"%s\"}",
	                     id);
	json_decref(api_post(&srv, "/v1/run/tasks", body, 400));
	free(body);

	/* Delete: gone from the list, 404 after. */
	skytest_hc_resp r;
	ck_assert_int_eq(skytest_hc(srv.port, "DELETE", path, AUTH, NULL, &r),
	                 0);
	ck_assert_int_eq(r.status, 204);
	skytest_hc_free(&r);
	json_decref(api_get(&srv, path, 404));
	l = api_get(&srv, "/v1/browser_profiles", 200);
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);
	l = api_get(&srv, "/v1/browser_profiles?include_deleted=true", 200);
	ck_assert_uint_eq(json_array_size(l), 1);
	ck_assert_ptr_nonnull(jstr(json_array_get(l, 0), "deleted_at"));
	json_decref(l);
	/* Every route is described. */
	static const char *const described[][2] = {
	    {"/v1/browser_profiles", "post"},
	    {"/v1/browser_profiles", "get"},
	    {"/v1/browser_profiles/{profile_id}", "get"},
	    {"/v1/browser_profiles/{profile_id}", "patch"},
	    {"/v1/browser_profiles/{profile_id}", "delete"},
	    {"/v1/browser_profiles/{profile_id}/usage", "get"},
	    {"/v1/browser_sessions/{browser_session_id}", "patch"},
	};
	json_t *spec = api_call(&srv, "GET", "/openapi.json", NULL, NULL, 200);
	for (size_t i = 0; i < sizeof described / sizeof *described; i++)
		ck_assert_msg(
		    json_object_get(
		        json_object_get(json_object_get(spec, "paths"),
		                        described[i][0]),
		        described[i][1]),
		    "openapi.json lacks %s %s", described[i][1],
		    described[i][0]);
	json_decref(spec);
	free(upath);
	free(path);
	free(id);
}
END_TEST

START_TEST(a_damaged_profile_file_is_a_clear_error)
{
	json_t *p = profile_new("{\"name\":\"to be damaged\"}", 200);
	char *id = skyx_strdup(jstr(p, "browser_profile_id"));
	json_decref(p);
	char *file = skyx_asprintf("%s/profiles/%s", data, id);
	size_t len = 0;
	char *text = skyx_read_file(file, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_gt(len, 10);
	text[len - 3] = text[len - 3] == 'A' ? 'B' : 'A'; /* one byte */
	ck_assert_int_eq(sky_write_file(file, text, len), 0);
	free(text);
	char want[160];
	snprintf(want, sizeof want, "browser profile %s cannot be read: ", id);

	char *url = site_url("/home");
	char *body = skyx_asprintf("{\"prompt\":\"Open the Orders page.\","
	                           "\"url\":\"%s\",\"engine\":\"skyvern-2.0\","
	                           "\"browser_profile_id\":\"%s\"}",
	                           url, id);
	size_t before = log_size();
	char *rid = api_submit(&srv, body);
	free(body);
	json_t *run = api_wait(&srv, rid);
	ck_assert_str_eq(jstr(run, "status"), "failed");
	ck_assert_msg(strstr(jstr(run, "failure_reason"), want) != NULL,
	              "failure_reason: %s", jstr(run, "failure_reason"));
	json_decref(run);
	ck_assert_uint_eq(log_size(), before); /* the site never asked */

	body = skyx_asprintf("{\"url\":\"%s\",\"browser_profile_id\":\"%s\"}",
	                     url, id);
	json_t *e = api_post(&srv, "/v1/browser_sessions", body, 400);
	ck_assert_msg(strstr(jstr(e, "detail"), want) != NULL, "detail: %s",
	              jstr(e, "detail"));
	json_decref(e);
	free(body);
	/* A file that is gone says so too; the server still answers. */
	ck_assert_int_eq(remove(file), 0);
	body = skyx_asprintf("{\"browser_profile_id\":\"%s\"}", id);
	e = api_post(&srv, "/v1/browser_sessions", body, 400);
	ck_assert_ptr_nonnull(strstr(jstr(e, "detail"), want));
	json_decref(e);
	free(body);
	json_decref(api_get(&srv, "/v1/browser_profiles", 200));
	free(url);
	free(rid);
	free(file);
	free(id);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("profiles");
	TCase *tc = tcase_create("profiles");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_in_once_then_land_logged_in_after_a_restart);
	tcase_add_test(tc, a_session_backed_by_a_profile_survives_a_restart);
	tcase_add_test(tc, profiles_api_organizations_and_not_found);
	tcase_add_test(tc, a_damaged_profile_file_is_a_clear_error);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
