/*
 * Browser sessions, downloads and published workflows end to end: a
 * skyengine-server child process executing runs with the offline planner
 * in real Chromium, against a fixture shop on loopback that grades from
 * its side (who logged in, which pages were fetched with which cookie).
 * Sessions: log in with one task and act as the logged-in user with the
 * next, one run at a time, close, inactivity timeout, restarts.
 * Downloads: a PDF served as an attachment and a CSV made by JavaScript,
 * listed with checksum and size and served back byte for byte.
 * Workflows: publish_workflow, the list, a run from it with overrides.
 */
#include <pthread.h>
#include <signal.h>
#include <skyengine.h>
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "httpd.h"
#include "util/hash.h"

#define USER "ada"
#define PASS "Lovelace-1815"
#define SID "sid=s3ss10n-ada"

static const char PDF[] = "%PDF-1.4\n1 0 obj <</Type/Catalog>> endobj\n"
                          "\x01\x02\xfe\xff binary part\n%%EOF\n";
#define CSV "id,total\n1,9.50\n2,12.00\n"

static skytest_server srv;
static char *dir;

/* --- the shop ------------------------------------------------------------ */

typedef struct shop {
	pthread_mutex_t lock;
	skytest_httpd *h;
	json_t *log; /* [{"method", "path", "signed_in"}] */
	int logins;
} shop;

static shop S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *page_of(const char *path)
{
	if (!strcmp(path, "/"))
		return "<title>Acme</title><h1>Acme</h1><a href='/pricing'>"
		       "Pricing</a> <a href='/about'>About</a>";
	if (!strcmp(path, "/pricing"))
		return "<title>Pricing</title><h1>Pricing</h1><p>12 EUR</p>";
	if (!strcmp(path, "/about"))
		return "<title>About</title><h1>About</h1><p>Since 1843</p>";
	if (!strcmp(path, "/downloads.html"))
		return "<title>Reports</title><h1>Reports</h1><a href="
		       "'/files/report.pdf'>Download report</a>";
	if (!strcmp(path, "/export.html"))
		return "<title>Export</title><h1>Export</h1><button id=x "
		       "onclick='exportCsv()'>Export CSV</button><script>"
		       "function exportCsv() {"
		       " var b = new Blob(['id,total\\n1,9.50\\n2,12.00\\n'],"
		       " {type: 'text/csv'});"
		       " var a = document.createElement('a');"
		       " a.href = URL.createObjectURL(b);"
		       " a.download = 'export.csv';"
		       " document.body.appendChild(a); a.click(); }</script>";
	if (!strcmp(path, "/login"))
		return "<title>Sign in</title><h1>Sign in</h1><form "
		       "method=post "
		       "action=/login><label for=u>Username</label><input id=u "
		       "name=username required><label for=p>Password</label>"
		       "<input id=p name=password type=password required>"
		       "<button>Sign in</button></form>";
	return NULL;
}

static void redirect(skytest_resp *resp, const char *to)
{
	skytest_resp_text(resp, 303, "text/plain", "");
	skytest_resp_header(resp, "Location", to);
}

static void on_shop(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	const char *cookie = skytest_req_header(req, "cookie");
	int in = cookie && strstr(cookie, SID) != NULL;
	if (!strcmp(req->path, "/favicon.ico")) { /* the browser's own */
		skytest_resp_text(resp, 404, "text/plain", "none");
		return;
	}
	pthread_mutex_lock(&S.lock);
	json_array_append_new(S.log, json_pack("{s:s, s:s, s:b}", "method",
	                                       req->method, "path", req->path,
	                                       "signed_in", in));
	if (!strcmp(req->method, "POST") && !strcmp(req->path, "/login")) {
		char want[128];
		snprintf(want, sizeof want, "username=%s&password=%s", USER,
		         PASS);
		int ok = req->body && !strcmp(req->body, want);
		S.logins += ok;
		pthread_mutex_unlock(&S.lock);
		if (ok) {
			redirect(resp, "/home");
			skytest_resp_header(resp, "Set-Cookie", SID "; Path=/");
		} else {
			redirect(resp, "/login");
		}
		return;
	}
	pthread_mutex_unlock(&S.lock);
	if (!strcmp(req->path, "/home") || !strcmp(req->path, "/orders")) {
		if (!in)
			redirect(resp, "/login");
		else if (!strcmp(req->path, "/home"))
			skytest_resp_text(
			    resp, 200, NULL,
			    "<title>Home</title><h1>Welcome back, "
			    "Ada</h1><a href='/orders'>Orders</a>");
		else
			skytest_resp_text(
			    resp, 200, NULL,
			    "<title>Orders</title><h1>Your orders"
			    "</h1><table><tr><th>Order</th><th>Total"
			    "</th></tr><tr><td>A-17</td><td>9.50"
			    "</td></tr></table>");
		return;
	}
	if (!strcmp(req->path, "/files/report.pdf")) {
		resp->status = 200;
		resp->content_type = skyx_strdup("application/pdf");
		resp->body = malloc(sizeof PDF - 1);
		memcpy(resp->body, PDF, sizeof PDF - 1);
		resp->body_len = sizeof PDF - 1;
		skytest_resp_header(resp, "Content-Disposition",
		                    "attachment; filename=\"report.pdf\"");
		return;
	}
	const char *html = page_of(req->path);
	if (html)
		skytest_resp_text(resp, 200, NULL, html);
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

static char *shop_url(const char *path)
{
	return skyx_asprintf("%s%s", skytest_httpd_url(S.h), path);
}

/* --- the server ------------------------------------------------------------ */

static char *cfg_path;

static void server_start(void)
{
	const char *args[] = {"--api-key", KEY, "--config", cfg_path,
	                      "--workers", "2", NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
}

static void server_free(void)
{
	free(srv.data_dir);
	free(srv.log_path);
	memset(&srv, 0, sizeof srv);
}

static void setup(void)
{
	dir = skytest_tmpdir("sessions");
	S.log = json_array();
	S.h = skytest_httpd_start(on_shop, NULL);
	ck_assert_ptr_nonnull(S.h);
	cfg_path = skyx_asprintf("%s/config.json", dir);
	/* A session's timeout counts in units of 1 s here instead of
	 * minutes, so that an idle session times out within the test. */
	const char *json = "{\"agent\":{\"settle_max_ms\":3000},"
	                   "\"browser_sessions\":{\"timeout_unit_ms\":1000}}";
	ck_assert_int_eq(sky_write_file(cfg_path, json, strlen(json)), 0);
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
	if (!getenv("SKYTEST_KEEP")) /* for a look after a failure */
		skyx_rm_rf(dir);
	free(dir);
}

/* --- helpers ----------------------------------------------------------------- */

static json_t *session_new(const char *body)
{
	return api_post(&srv, "/v1/browser_sessions", body, 200);
}

static json_t *session_get(const char *id, int status)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/browser_sessions/%s", id);
	return api_get(&srv, path, status);
}

static void assert_completed(json_t *run)
{
	ck_assert_msg(!strcmp(jstr(run, "status"), "completed"), "%s: %s",
	              jstr(run, "status"), jstr(run, "failure_reason"));
}

/* The path and query of an absolute URL (borrowed). */
static const char *path_of(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? strchr(p + 3, '/') : url;
}

/* --- tests ------------------------------------------------------------------ */

START_TEST(log_in_with_one_task_act_with_the_next)
{
	char *login = shop_url("/login");
	char *body = skyx_asprintf("{\"url\":\"%s\",\"timeout\":30}", login);
	json_t *s = session_new(body);
	free(body);
	const char *sid = jstr(s, "browser_session_id");
	ck_assert(skyx_str_startswith(sid, "pbs_"));
	ck_assert_str_eq(jstr(s, "status"), "running");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "timeout")), 30);
	ck_assert(json_is_null(json_object_get(s, "warning")));
	/* The session opened its URL. */
	char *seen = log_since(0);
	ck_assert_ptr_nonnull(strstr(seen, "GET /login\n"));
	free(seen);
	json_t *list = api_get(&srv, "/v1/browser_sessions", 200);
	ck_assert_uint_eq(json_array_size(list), 1);
	ck_assert_str_eq(jstr(json_array_get(list, 0), "browser_session_id"),
	                 sid);
	json_decref(list);

	/* Task 1 signs in, on the page the session shows (no url). */
	body = skyx_asprintf("{\"prompt\":\"Log in with username " USER
	                     " and password " PASS "\",\"engine\":"
	                     "\"skyvern-1.0\",\"browser_session_id\":\"%s\"}",
	                     sid);
	size_t before = log_size();
	char *id1 = api_submit(&srv, body);
	/* One run at a time: a second submit is refused while it works. */
	json_t *busy = api_post(&srv, "/v1/run/tasks", body, 409);
	ck_assert_ptr_nonnull(strstr(jstr(busy, "detail"), id1));
	json_decref(busy);
	free(body);
	json_t *run1 = api_wait(&srv, id1);
	assert_completed(run1);
	ck_assert_str_eq(jstr(run1, "browser_session_id"), sid);
	seen = log_since(before);
	ck_assert_msg(skyx_str_startswith(seen, "POST /login\nGET /home+\n"),
	              "task 1 made: %s", seen);
	free(seen);
	ck_assert_int_eq(S.logins, 1);

	/* Task 2 goes on from there, as the signed-in user. */
	body = skyx_asprintf("{\"prompt\":\"Open the Orders page.\",\"engine\":"
	                     "\"skyvern-1.0\",\"browser_session_id\":\"%s\"}",
	                     sid);
	before = log_size();
	char *id2 = api_submit(&srv, body);
	free(body);
	json_t *run2 = api_wait(&srv, id2);
	assert_completed(run2);
	seen = log_since(before);
	ck_assert_msg(skyx_str_startswith(seen, "GET /orders+\n"),
	              "task 2 made: %s", seen);
	ck_assert_ptr_null(strstr(seen, "/login"));
	free(seen);
	ck_assert_int_eq(S.logins, 1);
	json_t *now = session_get(sid, 200);
	ck_assert_str_eq(jstr(now, "runnable_id"), id2);
	ck_assert_str_eq(jstr(now, "status"), "running");
	json_decref(now);

	/* Closed: no longer listed, and runs cannot use it. */
	char path[128];
	snprintf(path, sizeof path, "/v1/browser_sessions/%s/close", sid);
	json_t *closed = api_post(&srv, path, "", 200);
	ck_assert_str_eq(jstr(closed, "message"), "Browser session closed");
	json_decref(closed);
	now = session_get(sid, 200);
	ck_assert_str_eq(jstr(now, "status"), "completed");
	ck_assert_ptr_nonnull(jstr(now, "completed_at"));
	json_decref(now);
	list = api_get(&srv, "/v1/browser_sessions/", 200);
	ck_assert_uint_eq(json_array_size(list), 0);
	json_decref(list);
	body = skyx_asprintf("{\"prompt\":\"x\",\"browser_session_id\":\"%s\"}",
	                     sid);
	json_t *gone = api_post(&srv, "/v1/run/tasks", body, 404);
	char want[160];
	snprintf(want, sizeof want,
	         "Browser session %s does not exist or is not live.", sid);
	ck_assert_str_eq(jstr(gone, "detail"), want);
	json_decref(gone);
	free(body);
	json_t *unknown = session_get("pbs_123", 404);
	ck_assert_str_eq(jstr(unknown, "detail"),
	                 "Browser session pbs_123 not found");
	json_decref(unknown);

	json_decref(run1);
	json_decref(run2);
	json_decref(s);
	free(id1);
	free(id2);
	free(login);
}
END_TEST

START_TEST(session_timeouts_and_restarts)
{
	/* Validation and the cap. */
	json_t *j =
	    api_post(&srv, "/v1/browser_sessions", "{\"timeout\":4}", 422);
	json_t *item = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(jstr(item, "type"), "greater_than_equal");
	json_decref(j);
	j = api_post(&srv, "/v1/browser_sessions",
	             "{\"proxy_location\":\"MOON\"}", 422);
	json_decref(j);
	json_t *capped = session_new("{\"timeout\":300}");
	ck_assert_int_eq(json_integer_value(json_object_get(capped, "timeout")),
	                 240);
	ck_assert_ptr_nonnull(strstr(jstr(capped, "warning"), "240"));

	/* Idle for its timeout (5 units of 1 s here): closed. */
	json_t *idle = session_new("{\"timeout\":5}");
	const char *idle_id = jstr(idle, "browser_session_id");
	json_t *st = NULL;
	for (int i = 0; i < 300; i++) {
		st = session_get(idle_id, 200);
		if (!strcmp(jstr(st, "status"), "timed_out"))
			break;
		json_decref(st);
		st = NULL;
		usleep(100000);
	}
	ck_assert_msg(st != NULL, "the idle session never timed out");
	json_decref(st);

	/* A graceful stop closes live sessions... */
	const char *capped_id = jstr(capped, "browser_session_id");
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	server_free();
	server_start();
	st = session_get(capped_id, 200);
	ck_assert_str_eq(jstr(st, "status"), "completed");
	json_decref(st);
	/* ...and after a crash they are marked timed_out at start-up:
	 * a browser context cannot outlive its browser. */
	json_t *doomed = session_new("{}");
	const char *doomed_id = jstr(doomed, "browser_session_id");
	skytest_server_kill(&srv);
	server_free();
	server_start();
	st = session_get(doomed_id, 200);
	ck_assert_str_eq(jstr(st, "status"), "timed_out");
	json_decref(st);
	json_t *list = api_get(&srv, "/v1/browser_sessions", 200);
	ck_assert_uint_eq(json_array_size(list), 0);
	json_decref(list);

	json_decref(doomed);
	json_decref(idle);
	json_decref(capped);
}
END_TEST

/* The run's one downloaded file, checked against `want` and fetched
 * back through the server (signed link; key; neither). */
static void check_download(json_t *run, const char *name, const void *want,
                           size_t want_len)
{
	json_t *files = json_object_get(run, "downloaded_files");
	ck_assert_msg(json_array_size(files) == 1, "downloaded_files: %s",
	              json_dumps(files, 0));
	json_t *f = json_array_get(files, 0);
	char hex[SKYX_SHA256_HEX_LEN];
	skyx_sha256_hex(want, want_len, hex);
	ck_assert_str_eq(jstr(f, "filename"), name);
	ck_assert_str_eq(jstr(f, "checksum"), hex);
	ck_assert_int_eq(json_integer_value(json_object_get(f, "file_size")),
	                 (json_int_t)want_len);
	ck_assert(skyx_str_startswith(jstr(f, "artifact_id"), "a_"));
	const char *url = jstr(f, "url");
	ck_assert_ptr_nonnull(strstr(url, "/v1/artifacts/"));
	ck_assert_ptr_nonnull(strstr(url, "signature="));
	skytest_hc_resp r;
	ck_assert_int_eq(
	    skytest_hc(srv.port, "GET", path_of(url), NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, want_len);
	ck_assert(!memcmp(r.body, want, want_len));
	skytest_hc_free(&r);
	/* Without the signature the key is needed. */
	char *bare = skyx_strndup(path_of(url), strcspn(path_of(url), "?"));
	ck_assert_int_eq(skytest_hc(srv.port, "GET", bare, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 403);
	skytest_hc_free(&r);
	ck_assert_int_eq(skytest_hc(srv.port, "GET", bare, AUTH, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, want_len);
	skytest_hc_free(&r);
	free(bare);
}

START_TEST(downloads_are_listed_and_served)
{
	char *u = shop_url("/downloads.html");
	char *body = skyx_asprintf("{\"prompt\":\"Click Download report.\","
	                           "\"url\":\"%s\",\"engine\":\"skyvern-1.0\"}",
	                           u);
	char *id = api_submit(&srv, body);
	json_t *run = api_wait(&srv, id);
	assert_completed(run);
	check_download(run, "report.pdf", PDF, sizeof PDF - 1);
	/* No proxy provider here: the default location was not applied,
	 * and the run says so instead of failing. */
	json_t *applied = json_object_get(run, "proxy_applied");
	ck_assert(json_is_false(json_object_get(applied, "applied")));
	ck_assert_str_eq(jstr(applied, "reason"),
	                 "no proxy provider is configured");
	json_decref(run);
	free(id);
	free(body);
	free(u);

	u = shop_url("/export.html");
	body = skyx_asprintf("{\"prompt\":\"Click Export CSV.\",\"url\":\"%s\","
	                     "\"engine\":\"skyvern-1.0\"}",
	                     u);
	id = api_submit(&srv, body);
	run = api_wait(&srv, id);
	assert_completed(run);
	check_download(run, "export.csv", CSV, strlen(CSV));
	json_decref(run);
	free(id);
	free(body);
	free(u);
}
END_TEST

START_TEST(published_workflows_run_again)
{
	char *u = shop_url("/");
	char *body = skyx_asprintf("{\"prompt\":\"Open the Pricing page.\","
	                           "\"url\":\"%s\",\"title\":\"Pricing check\","
	                           "\"publish_workflow\":true}",
	                           u);
	json_t *first = api_post(&srv, "/v1/run/tasks", body, 200);
	free(body);
	const char *id1 = jstr(first, "run_id");
	const char *wpid = jstr(first, "workflow_permanent_id");
	ck_assert(skyx_str_startswith(wpid, "wpid_"));
	ck_assert_str_eq(jstr(first, "run_type"), "task_v2");

	json_t *list = api_get(&srv, "/v1/workflows?page=1&page_size=10", 200);
	ck_assert_uint_eq(json_array_size(list), 1);
	json_t *w = json_array_get(list, 0);
	ck_assert_str_eq(jstr(w, "workflow_permanent_id"), wpid);
	ck_assert_str_eq(jstr(w, "title"), "Pricing check");
	ck_assert_str_eq(jstr(w, "source_run_id"), id1);
	json_t *req = json_object_get(w, "request");
	ck_assert_str_eq(jstr(req, "prompt"), "Open the Pricing page.");
	ck_assert_ptr_null(json_object_get(req, "publish_workflow"));
	json_decref(list);
	list = api_get(&srv, "/v1/workflows?page=2&page_size=1", 200);
	ck_assert_uint_eq(json_array_size(list), 0);
	json_decref(list);
	json_decref(api_get(&srv, "/v1/workflows?page_size=0", 422));

	json_t *run1 = api_wait(&srv, id1);
	assert_completed(run1);
	json_decref(run1);

	/* Again, with an override, validated as a new request. */
	size_t before = log_size();
	body = skyx_asprintf("{\"workflow_id\":\"%s\",\"overrides\":"
	                     "{\"prompt\":\"Open the About page.\"}}",
	                     wpid);
	json_t *second = api_post(&srv, "/v1/run/workflows", body, 200);
	free(body);
	ck_assert_str_eq(jstr(second, "workflow_permanent_id"), wpid);
	ck_assert_str_eq(jstr(json_object_get(second, "run_request"), "prompt"),
	                 "Open the About page.");
	ck_assert_str_ne(jstr(second, "run_id"), id1);
	json_t *run2 = api_wait(&srv, jstr(second, "run_id"));
	assert_completed(run2);
	char *seen = log_since(before);
	ck_assert_ptr_nonnull(strstr(seen, "GET /about\n"));
	ck_assert_ptr_null(strstr(seen, "GET /pricing\n"));
	free(seen);
	json_decref(run2);
	/* Still one workflow: running one publishes nothing. */
	list = api_get(&srv, "/v1/workflows", 200);
	ck_assert_uint_eq(json_array_size(list), 1);
	json_decref(list);

	body = skyx_asprintf("{\"workflow_id\":\"%s\",\"overrides\":"
	                     "{\"max_steps\":0}}",
	                     wpid);
	json_t *bad = api_post(&srv, "/v1/run/workflows", body, 422);
	ck_assert_str_eq(
	    json_string_value(json_array_get(
	        json_object_get(
	            json_array_get(json_object_get(bad, "detail"), 0), "loc"),
	        1)),
	    "max_steps");
	json_decref(bad);
	free(body);
	bad = api_post(&srv, "/v1/run/workflows",
	               "{\"workflow_id\":\"wpid_1\"}", 404);
	ck_assert_str_eq(jstr(bad, "detail"),
	                 "Workflow not found. workflow_permanent_id=wpid_1");
	json_decref(bad);
	json_decref(api_post(&srv, "/v1/run/workflows", "{}", 422));

	/* Without a configured fallback, a message the rules cannot read
	 * is kept raw. */
	json_t *raw = api_post(&srv, "/v1/credentials/totp",
	                       "{\"totp_identifier\":\"x\",\"content\":"
	                       "\"Hello,\\n\\n739164\\n\\nThe Acme team\"}",
	                       200);
	ck_assert_str_eq(jstr(raw, "status"), "raw_pending");
	ck_assert_str_eq(jstr(raw, "code"), "");
	json_decref(raw);

	/* The description of the API lists what was added. */
	json_t *spec = api_call(&srv, "GET", "/openapi.json", NULL, NULL, 200);
	json_t *paths = json_object_get(spec, "paths");
	const char *added[] = {
	    "/v1/credentials/totp",
	    "/api/v1/totp",
	    "/v1/browser_sessions",
	    "/v1/browser_sessions/{browser_session_id}",
	    "/v1/browser_sessions/{browser_session_id}/close",
	    "/v1/workflows",
	    "/v1/run/workflows"};
	for (size_t i = 0; i < sizeof added / sizeof added[0]; i++)
		ck_assert_msg(json_object_get(paths, added[i]) != NULL,
		              "openapi.json lacks %s", added[i]);
	json_decref(spec);

	json_decref(second);
	json_decref(first);
	free(u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sessions");
	TCase *tc = tcase_create("server");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_in_with_one_task_act_with_the_next);
	tcase_add_test(tc, session_timeouts_and_restarts);
	tcase_add_test(tc, downloads_are_listed_and_served);
	tcase_add_test(tc, published_workflows_run_again);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
