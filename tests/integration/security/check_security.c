/*
 * Security of the real server over loopback:
 *  - secrets: a run that signs in with a password from its goal, a TOTP
 *    code from a stored secret, through a proxy with credentials, with
 *    an API key and an LLM key in the environment; then the server's log,
 *    every file of the data dir and the SQLite file are searched for them;
 *  - URL policy: task, webhook and TOTP URLs at metadata and (hosted)
 *    private addresses refused through the API, in tricky spellings;
 *  - artifacts: path traversal, a symlink planted in the data dir, no
 *    key, bad signatures;
 *  - organizations: a key of one never sees another's runs, steps,
 *    artifacts or idempotency keys.
 */
#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <skyengine.h>

#include "../reliability/rel.h"
#include "httpd.h"
#include "proxy.h"
#include "twofa.h"
#include "util/fs.h"
#include <skyx/otp.h>

#define PASSWORD "Tr0ub4dor-and-3-horses"
#define TOTP_SECRET "KRUGS4ZANFZSAYJAONSWG4TFOQQGE6LUMVZQ"
#define PROXY_PASS "pr0xy-pa55-9f8e7d"
#define OPENAI_KEY "sk-sec-test-abcdefghijklmnop0123456789"
#define KEY_B "org-b-key-0123456789abcdef"

/* --- searching ----------------------------------------------------------- */

typedef struct needle {
	const char *what;
	char text[128];
} needle;

static int file_has(const char *path, const char *s)
{
	size_t len = 0;
	char *data = skyx_read_file(path, &len);
	int found = data && memmem(data, len, s, strlen(s)) != NULL;
	free(data);
	return found;
}

/* Every regular file under dir (recursively) holding a needle fails the
 * test, except the SQLite files when skip_db. Returns files searched. */
static int search_tree(const char *dir, const needle *n, int nn, int skip_db)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = skyx_asprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			files += search_tree(p, n, nn, skip_db);
		} else if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		           !(skip_db && strstr(e->d_name, "skyengine.db"))) {
			files++;
			for (int i = 0; i < nn; i++)
				ck_assert_msg(!file_has(p, n[i].text),
				              "%s found in %s", n[i].what, p);
		}
		free(p);
	}
	if (d)
		closedir(d);
	return files;
}

/* Every text cell of every table, but the columns named in `except`
 * ("table.column" list). */
static int search_db(const char *dir, const needle *n, int nn,
                     const char *const *except)
{
	char *db = skyx_asprintf("%s/skyengine.db", dir);
	sqlite3 *h = NULL;
	sqlite3_stmt *tables = NULL;
	int cells = 0;
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL),
	                 SQLITE_OK);
	sqlite3_prepare_v2(h,
	                   "SELECT name FROM sqlite_master WHERE type="
	                   "'table'",
	                   -1, &tables, NULL);
	while (sqlite3_step(tables) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(tables, 0);
		char *sql = skyx_asprintf("SELECT * FROM \"%s\"", t);
		sqlite3_stmt *rows = NULL;
		sqlite3_prepare_v2(h, sql, -1, &rows, NULL);
		while (rows && sqlite3_step(rows) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(rows); c++) {
				char col[160];
				snprintf(col, sizeof col, "%s.%s", t,
				         sqlite3_column_name(rows, c));
				int skip = 0;
				for (int k = 0; except && except[k]; k++)
					skip |= !strcmp(except[k], col);
				const char *v =
				    (const char *)sqlite3_column_text(rows, c);
				if (skip || !v)
					continue;
				cells++;
				for (int i = 0; i < nn; i++)
					ck_assert_msg(!strstr(v, n[i].text),
					              "%s found in %s",
					              n[i].what, col);
			}
		}
		sqlite3_finalize(rows);
		free(sql);
	}
	sqlite3_finalize(tables);
	sqlite3_close(h);
	free(db);
	return cells;
}

/* --- secrets ----------------------------------------------------------- */

START_TEST(no_secret_reaches_logs_artifacts_or_the_store)
{
	char *dir = skytest_tmpdir("secrets");
	char *data = skyx_asprintf("%s/data", dir);
	skytest_twofa *tf = skytest_twofa_new("alice", PASSWORD, TOTP_SECRET);
	skytest_httpd *site = skytest_httpd_start(skytest_twofa_handler, tf);
	skytest_proxy *px = skytest_proxy_start("puser", PROXY_PASS);
	ck_assert_ptr_nonnull(px);
	char *cfg = skyx_asprintf("%s/config.json", dir);
	char *json = skyx_asprintf(
	    "{\"totp\":{\"provider\":\"secret\",\"secrets\":{\"alice@"
	    "example.com\":\"%s\"}},\"proxy\":{\"provider\":\"static\","
	    "\"locations\":{\"RESIDENTIAL_GB\":\"http://puser:%s@127.0.0.1:"
	    "%d\"}},\"agent\":{\"settle_max_ms\":1500}}",
	    TOTP_SECRET, PROXY_PASS, skytest_proxy_port(px));
	sky_write_file(cfg, json, strlen(json));
	setenv("OPENAI_API_KEY", OPENAI_KEY, 1);
	setenv("SKYENGINE_LOG", "debug", 1);
	const char *args[] = {"--api-key", REL_KEY, "--workers", "1",
	                      "--config",  cfg,     NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	char *body = skyx_asprintf(
	    "{\"prompt\":\"Sign in with username: alice. password: %s. "
	    "Then open the account page.\",\"url\":\"%s/\",\"engine\":"
	    "\"skyvern-1.0\",\"totp_identifier\":\"alice@example.com\","
	    "\"proxy_location\":\"RESIDENTIAL_GB\",\"max_steps\":6}",
	    PASSWORD, skytest_httpd_url(site));
	char *id = rel_submit(srv.port, body);
	char *ids[1] = {id};
	json_t *run[1];
	ck_assert_int_eq(rel_wait_all(srv.port, ids, 1, 240000, run), 1);
	int64_t now = skyx_time_now_ms() / 1000;
	/* The secrets were used: signed in, the code accepted, through
	 * the proxy. */
	skytest_twofa_stats st;
	skytest_twofa_stats_get(tf, &st);
	skytest_proxy_stats ps;
	skytest_proxy_stats_get(px, &ps);
	ck_assert_msg(st.logins_ok >= 1, "%s: %s", rel_str(run[0], "status"),
	              rel_str(run[0], "failure_reason"));
	ck_assert_msg(st.codes_ok >= 1, "no code accepted: %s: %s",
	              rel_str(run[0], "status"),
	              rel_str(run[0], "failure_reason"));
	ck_assert_int_ge(ps.authenticated, 1);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	unsetenv("SKYENGINE_LOG");

	/* What to look for: every code valid around the run, too. */
	needle n[32];
	int nn = 0;
	n[nn++] = (needle){"the API key", REL_KEY};
	n[nn++] = (needle){"the LLM key", OPENAI_KEY};
	n[nn++] = (needle){"the proxy password", PROXY_PASS};
	n[nn++] = (needle){"the TOTP secret", TOTP_SECRET};
	int first_code = nn;
	skyx_otp_params op = SKYX_OTP_PARAMS_INIT;
	for (int64_t t = now - 600; t <= now + 60 && nn < 30; t += 30) {
		char code[SKYX_OTP_CODE_MAX];
		if (skyx_otp_totp_base32(TOTP_SECRET, &op, t, code) == 0) {
			n[nn] = (needle){"a TOTP code", ""};
			snprintf(n[nn].text, sizeof n[nn].text, "%s", code);
			nn++;
		}
	}
	ck_assert_int_gt(nn, first_code);
	n[nn++] = (needle){"the password", PASSWORD};
	/* Logs, artifacts (prompts, answers, element trees, screenshots,
	 * the recording): nothing. */
	int files = search_tree(data, n, nn, 1);
	ck_assert_int_gt(files, 3);
	/* The store: the request as sent is kept (the run needs its goal
	 * to run and to resume), nothing derived from it may repeat the
	 * password; the other secrets are nowhere in it. */
	const char *request_columns[] = {"tasks.prompt", "tasks.run_request",
	                                 "webhook_outbox.payload", NULL};
	ck_assert_int_gt(search_db(data, n, nn, request_columns), 10);
	char *db = skyx_asprintf("%s/skyengine.db", data);
	for (int i = 0; i < nn - 1; i++)
		ck_assert_msg(!file_has(db, n[i].text), "%s in the SQLite file",
		              n[i].what);
	free(db);

	json_decref(run[0]);
	free(id);
	free(body);
	free(json);
	free(cfg);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(site);
	skytest_twofa_free(tf);
	skytest_proxy_stop(px);
	skyx_rm_rf(dir);
	free(dir);
	free(data);
}
END_TEST

/* --- URL policy ------------------------------------------------------------ */

static int submit_status(int port, const char *field, const char *url,
                         char **detail)
{
	char *body =
	    skyx_asprintf("{\"prompt\":\"p\",\"%s\":\"%s\"}", field, url);
	json_t *j = NULL;
	int st = rel_call(port, "POST", "/v1/run/tasks", REL_AUTH REL_JSONH,
	                  body, &j);
	char *d = json_dumps(json_object_get(j, "detail"), JSON_ENCODE_ANY);
	*detail = d;
	json_decref(j);
	free(body);
	return st;
}

static const char *const metadata_urls[] = {
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",          /* decimal */
    "http://0xA9FEA9FE/",          /* hex */
    "http://0xa9.0xfe.0xa9.0xfe/", /* hex per part */
    "http://0251.0376.0251.0376/", /* octal */
    "http://169.254.43518/",       /* a.b.c16 */
    "http://169.16689662/",        /* a.b24 */
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.GOOGLE.INTERNAL./",
    "http://metadata/",
    "http://100.100.100.200/",
    "http://user:pw@169.254.169.254:80/",
    "169.254.169.254/latest", /* no scheme: https:// prepended */
    NULL};

static const char *const private_urls[] = {"http://127.0.0.1/",
                                           "http://2130706433/",
                                           "http://127.1/",
                                           "http://0x7f000001/",
                                           "http://0/",
                                           "http://0.0.0.0/",
                                           "http://localhost:8080/",
                                           "http://LOCALHOST./",
                                           "http://a.localhost/",
                                           "http://10.1.2.3/",
                                           "http://172.16.0.1/",
                                           "http://192.168.1.1/",
                                           "http://[::1]/",
                                           "http://[::ffff:127.0.0.1]/",
                                           "http://[fc00::1]/",
                                           "http://db.internal/",
                                           "http://printer.local/",
                                           NULL};

static void expect_refused(int port, const char *const *urls)
{
	static const char *const fields[] = {"url", "webhook_url", "totp_url"};
	for (int i = 0; urls[i]; i++) {
		for (int f = 0; f < 3; f++) {
			char *d = NULL;
			int st = submit_status(port, fields[f], urls[i], &d);
			ck_assert_msg(st == 400 || st == 422,
			              "%s=%s accepted (%d)", fields[f], urls[i],
			              st);
			ck_assert_msg(d && strstr(d, "blocked"), "%s=%s: %s",
			              fields[f], urls[i], d);
			free(d);
		}
	}
}

static void expect_accepted(int port, const char *const *urls)
{
	for (int i = 0; urls[i]; i++) {
		char *d = NULL;
		int st = submit_status(port, "url", urls[i], &d);
		ck_assert_msg(st == 200, "url=%s refused (%d): %s", urls[i], st,
		              d);
		free(d);
	}
}

START_TEST(metadata_and_private_urls_are_refused_when_configured)
{
	static const char *const public_urls[] = {
	    "https://example.com/",
	    "http://93.184.216.34/",
	    "http://169.255.0.1/",
	    "http://[2606:4700::1111]/",
	    "http://metadata.google.internal.example.com/",
	    NULL};
	char *dir = skytest_tmpdir("urls");
	char *cfg = skyx_asprintf("%s/config.json", dir);
	char *data = skyx_asprintf("%s/meta", dir);
	const char *meta = "{\"security\":{\"block_metadata_urls\":true}}";
	sky_write_file(cfg, meta, strlen(meta));
	const char *args[] = {"--no-execute", "--api-key", REL_KEY,
	                      "--config",     cfg,         NULL};
	skytest_server srv;
	/* Metadata blocked, private allowed (the default host). */
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	expect_refused(srv.port, metadata_urls);
	expect_accepted(srv.port, private_urls);
	expect_accepted(srv.port, public_urls);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	free(srv.data_dir);
	free(srv.log_path);
	/* Hosted: private ranges too. */
	const char *hosted = "{\"security\":{\"block_metadata_urls\":true,"
	                     "\"block_private_urls\":true}}";
	sky_write_file(cfg, hosted, strlen(hosted));
	free(data);
	data = skyx_asprintf("%s/hosted", dir);
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	expect_refused(srv.port, metadata_urls);
	expect_refused(srv.port, private_urls);
	expect_accepted(srv.port, public_urls);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	free(srv.data_dir);
	free(srv.log_path);
	skyx_rm_rf(dir);
	free(dir);
	free(cfg);
	free(data);
}
END_TEST

/* --- artifacts and organizations ---------------------------------------- */

static void on_page(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (!strcmp(req->method, "POST")) {
		skytest_resp_text(
		    resp, 200, NULL,
		    "<!doctype html><title>Thanks</title><h1>Thank "
		    "you!</h1><p>Received.</p>");
		return;
	}
	skytest_resp_text(resp, 200, NULL,
	                  "<!doctype html><title>Apply</title><form action="
	                  "\"/s\" method=\"post\"><label for=\"n\">Full name"
	                  "</label><input id=\"n\" name=\"name\"><button>Send"
	                  "</button></form>");
}

static int get(int port, const char *hdrs, const char *fmt, const char *a,
               json_t **out)
{
	char *path = skytest_subst(fmt, a);
	int rc = rel_call(port, "GET", path, hdrs, NULL, out);
	free(path);
	return rc;
}

#define AUTH_B "x-api-key: " KEY_B "\r\n"

/* Poll a run with the key of its organization until it is final. */
static void wait_final(int port, const char *hdrs, const char *id)
{
	for (int i = 0; i < 2400; i++) {
		json_t *j = NULL;
		get(port, hdrs, "/v1/runs/%s", id, &j);
		int done = rel_is_final(rel_str(j, "status"));
		json_decref(j);
		if (done)
			return;
		usleep(100 * 1000);
	}
	ck_abort_msg("run %s never final", id);
}

START_TEST(artifacts_and_organizations_are_walled_off)
{
	char *dir = skytest_tmpdir("walls");
	char *data = skyx_asprintf("%s/data", dir);
	/* Organization B and its key, through the host API. */
	{
		sky_engine_options o;
		sky_engine *e = NULL;
		ck_assert_int_ge(sky_global_init(), 1);
		sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
		o.data_dir = data;
		o.no_execute = 1;
		ck_assert_int_eq(sky_engine_new(&e, &o), 0);
		char *org = NULL;
		ck_assert_int_eq(sky_organization_create(&org, e, "tenant b"),
		                 0);
		ck_assert_int_eq(sky_api_key_add(e, org, KEY_B), 0);
		sky_free(org);
		sky_engine_free(e);
		sky_global_shutdown();
	}
	skytest_httpd *site = skytest_httpd_start(on_page, NULL);
	const char *args[] = {"--api-key", REL_KEY, "--workers", "2", NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	char *body = skyx_asprintf("{\"prompt\":\"Apply: name: Ada.\",\"url\":"
	                           "\"%s/\",\"engine\":\"skyvern-1.0\"}",
	                           skytest_httpd_url(site));
	char *a = rel_submit(srv.port, body);
	json_t *jb = NULL;
	ck_assert_int_eq(rel_call(srv.port, "POST", "/v1/run/tasks",
	                          AUTH_B REL_JSONH "Idempotency-Key: same\r\n",
	                          body, &jb),
	                 200);
	char *b = skyx_strdup(rel_str(jb, "run_id"));
	json_decref(jb);
	wait_final(srv.port, REL_AUTH, a);
	wait_final(srv.port, AUTH_B, b);

	/* A's artifacts, seen by A. */
	json_t *arts = NULL;
	ck_assert_int_eq(
	    get(srv.port, REL_AUTH, "/v1/runs/%s/artifacts", a, &arts), 200);
	ck_assert_uint_gt(json_array_size(arts), 0);
	const char *art = NULL, *signed_url = NULL;
	size_t i;
	json_t *it;
	json_array_foreach (arts, i, it)
		if (skyx_str_eq(rel_str(it, "artifact_type"), "element_tree")) {
			art = rel_str(it, "artifact_id");
			signed_url = rel_str(it, "signed_url");
		}
	ck_assert_ptr_nonnull(art);
	ck_assert_ptr_nonnull(signed_url);
	json_t *j = NULL;
	ck_assert_int_eq(
	    get(srv.port, REL_AUTH, "/v1/artifacts/%s/content", art, NULL),
	    200);

	/* B sees nothing of A's, and A nothing of B's. */
	ck_assert_int_eq(get(srv.port, AUTH_B, "/v1/runs/%s", a, NULL), 404);
	ck_assert_int_eq(get(srv.port, AUTH_B, "/v1/run/tasks/%s", a, NULL),
	                 404);
	ck_assert_int_eq(get(srv.port, AUTH_B, "/api/v1/tasks/%s", a, NULL),
	                 404);
	ck_assert_int_eq(get(srv.port, AUTH_B, "/api/v1/tasks/%s/steps", a, &j),
	                 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
	ck_assert_int_eq(
	    get(srv.port, AUTH_B, "/v1/runs/%s/artifacts", a, NULL), 404);
	ck_assert_int_eq(
	    get(srv.port, AUTH_B, "/v1/artifacts/%s/content", art, NULL), 404);
	ck_assert_int_eq(get(srv.port, AUTH_B, "/runs/%s", a, NULL), 404);
	ck_assert_int_eq(get(srv.port, AUTH_B, "/v1/runs/%s/timeline", a, NULL),
	                 404);
	char path[256];
	snprintf(path, sizeof path, "/v1/runs/%s/cancel", a);
	ck_assert_int_eq(rel_call(srv.port, "POST", path, AUTH_B, NULL, NULL),
	                 404);
	snprintf(path, sizeof path, "/v1/runs/%s/retry_webhook", a);
	ck_assert_int_eq(rel_call(srv.port, "POST", path, AUTH_B, NULL, NULL),
	                 404);
	ck_assert_int_eq(get(srv.port, AUTH_B, "/api/v1/tasks%s", "", &j), 200);
	ck_assert_uint_eq(json_array_size(j), 1);
	ck_assert_str_eq(rel_str(json_array_get(j, 0), "task_id"), b);
	json_decref(j);
	ck_assert_int_eq(get(srv.port, AUTH_B, "/v1/runs%s", "", &j), 200);
	ck_assert_uint_eq(json_array_size(j), 1);
	json_decref(j);
	ck_assert_int_eq(get(srv.port, REL_AUTH, "/v1/runs/%s", b, NULL), 404);
	/* The same idempotency key in A is A's own. */
	ck_assert_int_eq(
	    rel_call(srv.port, "POST", "/v1/run/tasks",
	             REL_AUTH REL_JSONH "Idempotency-Key: same\r\n", body, &j),
	    200);
	ck_assert_str_ne(rel_str(j, "run_id"), b);
	json_decref(j);

	/* Browser sessions and published workflows are walled off too. */
	ck_assert_int_eq(rel_call(srv.port, "POST", "/v1/browser_sessions",
	                          REL_AUTH REL_JSONH, "{}", &j),
	                 200);
	char *bs = skyx_strdup(rel_str(j, "browser_session_id"));
	json_decref(j);
	ck_assert_ptr_nonnull(bs);
	ck_assert_int_eq(
	    get(srv.port, AUTH_B, "/v1/browser_sessions/%s", bs, NULL), 404);
	ck_assert_int_eq(
	    get(srv.port, AUTH_B, "/v1/browser_sessions%s", "", &j), 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
	snprintf(path, sizeof path, "/v1/browser_sessions/%s/close", bs);
	ck_assert_int_eq(rel_call(srv.port, "POST", path, AUTH_B, NULL, NULL),
	                 404);
	char *in_bs = skyx_asprintf(
	    "{\"prompt\":\"x\",\"url\":\"%s/\",\"browser_session_id\":"
	    "\"%s\"}",
	    skytest_httpd_url(site), bs);
	ck_assert_int_eq(rel_call(srv.port, "POST", "/v1/run/tasks",
	                          AUTH_B REL_JSONH, in_bs, NULL),
	                 404);
	free(in_bs);
	ck_assert_int_eq(
	    get(srv.port, REL_AUTH, "/v1/browser_sessions/%s", bs, NULL), 200);
	ck_assert_int_eq(rel_call(srv.port, "POST", path, REL_AUTH, NULL, NULL),
	                 200);
	free(bs);
	char *pub = skyx_asprintf("{\"prompt\":\"Apply: name: Ada.\",\"url\":"
	                          "\"%s/\",\"engine\":\"skyvern-1.0\","
	                          "\"publish_workflow\":true}",
	                          skytest_httpd_url(site));
	ck_assert_int_eq(rel_call(srv.port, "POST", "/v1/run/tasks",
	                          REL_AUTH REL_JSONH, pub, &j),
	                 200);
	free(pub);
	char *wf = skyx_strdup(rel_str(j, "workflow_permanent_id"));
	char *pub_run = skyx_strdup(rel_str(j, "run_id"));
	json_decref(j);
	ck_assert_ptr_nonnull(wf);
	ck_assert_int_eq(get(srv.port, AUTH_B, "/v1/workflows%s", "", &j), 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
	char *run_wf = skyx_asprintf("{\"workflow_id\":\"%s\"}", wf);
	ck_assert_int_eq(rel_call(srv.port, "POST", "/v1/run/workflows",
	                          AUTH_B REL_JSONH, run_wf, NULL),
	                 404);
	free(run_wf);
	free(wf);
	wait_final(srv.port, REL_AUTH, pub_run);
	free(pub_run);

	/* No key, a bad key, a tampered or moved signature: refused. */
	ck_assert_int_eq(
	    get(srv.port, NULL, "/v1/artifacts/%s/content", art, NULL), 403);
	ck_assert_int_eq(get(srv.port, "x-api-key: nope-nope-nope\r\n",
	                     "/v1/artifacts/%s/content", art, NULL),
	                 403);
	const char *rel = strstr(signed_url + strlen("http://"), "/");
	ck_assert_int_eq(rel_call(srv.port, "GET", rel, NULL, NULL, NULL), 200);
	char *tampered = skyx_strdup(rel);
	char *sig = strstr(tampered, "signature=") + 10;
	sig[0] = sig[0] == '0' ? '1' : '0';
	ck_assert_int_eq(rel_call(srv.port, "GET", tampered, NULL, NULL, NULL),
	                 403);
	free(tampered);
	/* The signature of one artifact does not open another. */
	char *moved = skyx_asprintf("/v1/artifacts/%s/content%s", "a_0",
	                            strchr(rel, '?'));
	ck_assert_int_eq(rel_call(srv.port, "GET", moved, NULL, NULL, NULL),
	                 403);
	free(moved);

	/* Traversal in every spelling: never a file outside the store. */
	static const char *const evil[] = {
	    "/v1/artifacts/..%2F..%2F..%2Fetc%2Fpasswd/content",
	    "/v1/artifacts/%2e%2e/content",
	    "/v1/artifacts/%2Fetc%2Fpasswd/content",
	    "/v1/artifacts/../../etc/passwd/content",
	    "/v1/artifacts/..%252F..%252Fetc%252Fpasswd/content",
	    "/v1/artifacts/a_1%00.txt/content",
	    "/runs/..%2F..%2Fetc%2Fpasswd",
	    NULL};
	for (int k = 0; evil[k]; k++) {
		skytest_hc_resp r;
		int rc =
		    skytest_hc(srv.port, "GET", evil[k], REL_AUTH, NULL, &r);
		/* A NUL in the path: libwebsockets drops the connection. */
		if (rc != 0 && strstr(evil[k], "%00")) {
			skytest_hc_free(&r);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: no answer", evil[k]);
		ck_assert_msg(r.status == 404 || r.status == 400 ||
		                  r.status == 403,
		              "%s: %d", evil[k], r.status);
		ck_assert_ptr_null(strstr(r.body ? r.body : "", "root:"));
		skytest_hc_free(&r);
	}

	/* A symlink planted in the data dir in place of an artifact's file
	 * does not lead out of it. */
	char *secret = skyx_asprintf("%s/outside-secret.txt", dir);
	sky_write_file(secret, "TOP-SECRET-OUTSIDE", 18);
	char *runs_dir =
	    skyx_asprintf("%s/runs/%s/steps/000-0/element_tree.txt", data, a);
	ck_assert_int_eq(unlink(runs_dir), 0);
	ck_assert_int_eq(symlink(secret, runs_dir), 0);
	skytest_hc_resp r;
	snprintf(path, sizeof path, "/v1/artifacts/%s/content", art);
	ck_assert_int_eq(skytest_hc(srv.port, "GET", path, REL_AUTH, NULL, &r),
	                 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_ptr_null(strstr(r.body ? r.body : "", "TOP-SECRET"));
	skytest_hc_free(&r);

	json_decref(arts);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	free(runs_dir);
	free(secret);
	free(a);
	free(b);
	free(body);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(site);
	skyx_rm_rf(dir);
	free(dir);
	free(data);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("security");
	TCase *tc = tcase_create("security");
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc,
	               metadata_and_private_urls_are_refused_when_configured);
	tcase_add_test(tc, artifacts_and_organizations_are_walled_off);
	tcase_add_test(tc, no_secret_reaches_logs_artifacts_or_the_store);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
