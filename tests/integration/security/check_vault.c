/*
 * The credentials vault through the real server:
 *  - a run that names a credential (username, password, authenticator
 *    secret) signs in on the two-factor fixture site (the site checks the
 *    posted password and the RFC 6238 code), while the model only ever
 *    sees {{credential.*}} placeholders; then the server's log, every
 *    file of the data dir (prompts, answers, element trees, the
 *    recording), the SQLite file byte for byte, every API answer and
 *    every webhook body are searched for the password, the TOTP secret
 *    and the codes around the run;
 *  - the routes: Skyvern's shapes, 404s for unknown ids and for another
 *    organization's credentials (read, list, update, delete, use in a
 *    run), 422 for a bad body;
 *  - a sealed value altered in the store: the API still answers (it never
 *    unseals), a run with it fails with a clear reason, the server lives.
 */
#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <skyengine.h>

#include "../reliability/rel.h"
#include "httpd.h"
#include "twofa.h"
#include "util/fs.h"
#include <skyx/otp.h>

#define PASSWORD "Vault-Pa55w0rd-horse-battery"
#define TOTP_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define KEY_B "org-b-vault-key-0123456789"
#define AUTH_B "x-api-key: " KEY_B "\r\n"

/* --- a webhook receiver that keeps every body ---------------------------- */

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static skyx_buf hook_bodies;
static int hook_count;

static void on_hook(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&hook_lock);
	skyx_buf_append(&hook_bodies, req->body, req->body_len);
	skyx_buf_putc(&hook_bodies, '\n');
	hook_count++;
	pthread_mutex_unlock(&hook_lock);
	skytest_resp_text(resp, 200, "application/json", "{}");
}

/* --- searching ----------------------------------------------------------- */

typedef struct needle {
	const char *what;
	char text[128];
} needle;

static int mem_has(const char *data, size_t len, const char *s)
{
	return data && memmem(data, len, s, strlen(s)) != NULL;
}

static int file_has(const char *path, const char *s)
{
	size_t len = 0;
	char *data = skyx_read_file(path, &len);
	int found = mem_has(data, len, s);
	free(data);
	return found;
}

/* Every regular file under `dir` (the SQLite file and its WAL included)
 * holding a needle fails the test. Returns files searched. */
static int search_tree(const char *dir, const needle *n, int nn)
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
			files += search_tree(p, n, nn);
		} else if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
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

/* Counts the model prompts under `dir` holding `s`, and those holding
 * `bad` (a sign the real value was in the prompt before redaction). */
static void scan_prompts(const char *dir, const char *s, const char *bad,
                         int *with, int *with_bad, int *total)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = skyx_asprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			scan_prompts(p, s, bad, with, with_bad, total);
		} else if (strstr(e->d_name, "extract-actions.prompt")) {
			(*total)++;
			*with += file_has(p, s);
			*with_bad += file_has(p, bad);
		}
		free(p);
	}
	if (d)
		closedir(d);
}

static void assert_clean(const char *what, const char *text, const needle *n,
                         int nn)
{
	for (int i = 0; i < nn; i++)
		ck_assert_msg(!text || !strstr(text, n[i].text), "%s in %s",
		              n[i].what, what);
}

/* GET path (with %s = a) as JSON text (malloc'd); *status. */
static char *get_text(int port, const char *hdrs, const char *fmt,
                      const char *a, int *status)
{
	char *path = skytest_subst(fmt, a);
	skytest_hc_resp r;
	*status = 0;
	char *out = NULL;
	if (skytest_hc(port, "GET", path, hdrs, NULL, &r) == 0) {
		*status = r.status;
		out = skyx_strdup(r.body ? r.body : "");
	}
	skytest_hc_free(&r);
	free(path);
	return out;
}

static char *create_credential(int port, const char *hdrs, const char *body)
{
	json_t *j = NULL;
	int st = rel_call(port, "POST", "/v1/credentials", hdrs, body, &j);
	ck_assert_msg(st == 201, "create credential: %d", st);
	char *id = skyx_strdup(rel_str(j, "credential_id"));
	ck_assert_ptr_nonnull(id);
	ck_assert_msg(!strncmp(id, "cred_", 5), "id %s", id);
	json_decref(j);
	return id;
}

/* --- a login with a credential ------------------------------------------ */

START_TEST(a_credential_signs_in_and_its_secrets_appear_nowhere)
{
	char *dir = skytest_tmpdir("vault");
	char *data = skyx_asprintf("%s/data", dir);
	skytest_twofa *tf = skytest_twofa_new("alice", PASSWORD, TOTP_SECRET);
	skytest_httpd *site = skytest_httpd_start(skytest_twofa_handler, tf);
	skytest_httpd *hook = skytest_httpd_start(on_hook, NULL);
	char *cfg = skyx_asprintf("%s/config.json", dir);
	const char *json = "{\"agent\":{\"settle_max_ms\":1500}}";
	sky_write_file(cfg, json, strlen(json));
	setenv("SKYENGINE_LOG", "debug", 1);
	const char *args[] = {"--api-key", REL_KEY, "--workers", "1",
	                      "--config",  cfg,     NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);

	char *cred = create_credential(
	    srv.port, REL_AUTH REL_JSONH,
	    "{\"name\":\"Fixture login\",\"credential_type\":\"password\","
	    "\"credential\":{\"username\":\"alice\",\"password\":\"" PASSWORD
	    "\",\"totp\":\"" TOTP_SECRET "\"}}");
	char *body = skyx_asprintf(
	    "{\"prompt\":\"Sign in, then open the account page.\",\"url\":"
	    "\"%s/\",\"engine\":\"skyvern-1.0\",\"credential_id\":\"%s\","
	    "\"webhook_url\":\"%s/hook\",\"max_steps\":8}",
	    skytest_httpd_url(site), cred, skytest_httpd_url(hook));
	char *id = rel_submit(srv.port, body);
	char *ids[1] = {id};
	json_t *run[1];
	ck_assert_int_eq(rel_wait_all(srv.port, ids, 1, 300000, run), 1);
	int64_t now = skyx_time_now_ms() / 1000;

	/* Signed in for real: the site checked the password and the code
	 * made from the credential's authenticator secret. */
	skytest_twofa_stats st;
	skytest_twofa_stats_get(tf, &st);
	ck_assert_msg(st.logins_ok >= 1, "no login: %s: %s",
	              rel_str(run[0], "status"),
	              rel_str(run[0], "failure_reason"));
	ck_assert_msg(st.codes_ok >= 1, "no code accepted: %s: %s",
	              rel_str(run[0], "status"),
	              rel_str(run[0], "failure_reason"));
	ck_assert_int_eq(st.verified, 1);
	ck_assert_str_eq(rel_str(run[0], "status"), "completed");

	/* What to look for: the password, the secret, every code valid
	 * around the run. */
	needle n[40];
	int nn = 0;
	n[nn++] = (needle){"the password", PASSWORD};
	n[nn++] = (needle){"the TOTP secret", TOTP_SECRET};
	skyx_otp_params op = SKYX_OTP_PARAMS_INIT;
	for (int64_t t = now - 600; t <= now + 60 && nn < 38; t += 30) {
		char code[SKYX_OTP_CODE_MAX];
		if (skyx_otp_totp_base32(TOTP_SECRET, &op, t, code) == 0) {
			n[nn] = (needle){"a TOTP code", ""};
			snprintf(n[nn].text, sizeof n[nn].text, "%s", code);
			nn++;
		}
	}

	/* API answers: the run, its steps and actions, the credential. */
	int status = 0;
	char *t = get_text(srv.port, REL_AUTH, "/v1/runs/%s", id, &status);
	ck_assert_int_eq(status, 200);
	assert_clean("the run", t, n, nn);
	free(t);
	t = get_text(srv.port, REL_AUTH, "/api/v1/tasks/%s/actions", id,
	             &status);
	ck_assert_int_eq(status, 200);
	assert_clean("the actions", t, n, nn);
	/* The actions typed placeholders, not values. */
	ck_assert_msg(strstr(t, "{{credential.password}}"), "%s", t);
	free(t);
	t = get_text(srv.port, REL_AUTH, "/api/v1/tasks/%s/steps", id, &status);
	assert_clean("the steps", t, n, nn);
	free(t);
	t = get_text(srv.port, REL_AUTH, "/v1/credentials/%s", cred, &status);
	ck_assert_int_eq(status, 200);
	assert_clean("the credential", t, n, nn);
	ck_assert_msg(strstr(t, "\"username\":\"alice\""), "%s", t);
	ck_assert_msg(strstr(t, "\"totp_type\":\"authenticator\""), "%s", t);
	free(t);
	t = get_text(srv.port, REL_AUTH, "/v1/credentials%s", "", &status);
	ck_assert_int_eq(status, 200);
	assert_clean("the credential list", t, n, nn);
	free(t);

	/* The webhook went out, without a secret. */
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&hook_lock);
		int got = hook_count;
		pthread_mutex_unlock(&hook_lock);
		if (got)
			break;
		usleep(100 * 1000);
	}
	pthread_mutex_lock(&hook_lock);
	ck_assert_int_ge(hook_count, 1);
	skyx_buf_putc(&hook_bodies, '\0');
	assert_clean("a webhook body", hook_bodies.data, n, nn);
	pthread_mutex_unlock(&hook_lock);

	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	unsetenv("SKYENGINE_LOG");

	/* The model saw placeholders, and never the value: a prompt that
	 * had held it would show it redacted. */
	int with = 0, with_bad = 0, total = 0;
	scan_prompts(data, "{{credential.password}}", "[REDACTED]", &with,
	             &with_bad, &total);
	ck_assert_int_gt(total, 0);
	ck_assert_int_gt(with, 0);
	ck_assert_int_eq(with_bad, 0);

	/* Logs, artifacts, recording, the SQLite file (sealed values
	 * only) and its WAL: nothing. */
	ck_assert_int_gt(search_tree(data, n, nn), 3);
	char *log = skytest_server_log(&srv);
	assert_clean("the server log", log, n, nn);
	ck_assert_msg(strstr(log, cred), "the log names the credential");
	free(log);

	json_decref(run[0]);
	free(id);
	free(body);
	free(cred);
	free(cfg);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(hook);
	skytest_httpd_stop(site);
	skytest_twofa_free(tf);
	skyx_rm_rf(dir);
	free(dir);
	free(data);
}
END_TEST

/* --- routes, organizations, a tampered value ---------------------------- */

static int call(int port, const char *method, const char *path,
                const char *hdrs, const char *body, json_t **out)
{
	return rel_call(port, method, path, hdrs, body, out);
}

static int call_s(int port, const char *method, const char *fmt, const char *a,
                  const char *hdrs, const char *body, json_t **out)
{
	char *path = skytest_subst(fmt, a);
	int st = call(port, method, path, hdrs, body, out);
	free(path);
	return st;
}

#define PW_BODY                                                                \
	"{\"name\":\"n\",\"credential_type\":\"password\",\"credential\":"     \
	"{\"username\":\"bob\",\"password\":\"" PASSWORD "\"}}"

START_TEST(routes_organizations_and_a_tampered_value)
{
	char *dir = skytest_tmpdir("vault-api");
	char *data = skyx_asprintf("%s/data", dir);
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
	const char *args[] = {"--api-key", REL_KEY, "--workers", "1", NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	int p = srv.port;
	json_t *j = NULL;

	/* Shapes: each kind, nothing secret in the answers. */
	char *pw = create_credential(p, REL_AUTH REL_JSONH, PW_BODY);
	char *card = create_credential(
	    p, REL_AUTH REL_JSONH,
	    "{\"name\":\"Card\",\"credential_type\":\"credit_card\","
	    "\"credential\":{\"card_number\":\"4111 1111 1111 4242\","
	    "\"card_cvv\":\"987\",\"card_exp_month\":\"12\","
	    "\"card_exp_year\":\"2031\",\"card_brand\":\"visa\","
	    "\"card_holder_name\":\"Bob Card\"}}");
	ck_assert_int_eq(
	    call_s(p, "GET", "/v1/credentials/%s", card, REL_AUTH, NULL, &j),
	    200);
	json_t *inner = json_object_get(j, "credential");
	ck_assert_str_eq(rel_str(inner, "last_four"), "4242");
	ck_assert_str_eq(rel_str(inner, "brand"), "visa");
	ck_assert_int_eq(json_object_size(inner), 2);
	ck_assert_str_eq(rel_str(j, "vault_type"), "skyvern");
	json_decref(j);
	char *sec = create_credential(
	    p, REL_AUTH REL_JSONH,
	    "{\"name\":\"Token\",\"credential_type\":\"secret\","
	    "\"credential\":{\"secret_value\":\"tok-0123456789abcdef\","
	    "\"secret_label\":\"api\"}}");
	ck_assert_int_eq(
	    call(p, "GET", "/v1/credentials?page_size=2", REL_AUTH, NULL, &j),
	    200);
	ck_assert_int_eq(json_array_size(j), 2);
	char *text = json_dumps(j, 0);
	ck_assert_ptr_null(strstr(text, "tok-0123456789abcdef"));
	ck_assert_ptr_null(strstr(text, "4111"));
	free(text);
	json_decref(j);
	ck_assert_int_eq(call(p, "GET",
	                      "/v1/credentials?credential_type=secret",
	                      REL_AUTH, NULL, &j),
	                 200);
	ck_assert_int_eq(json_array_size(j), 1);
	ck_assert_str_eq(rel_str(json_array_get(j, 0), "credential_id"), sec);
	json_decref(j);

	/* 422: a password credential without its password. */
	ck_assert_int_eq(
	    call(p, "POST", "/v1/credentials", REL_AUTH REL_JSONH,
	         "{\"name\":\"n\",\"credential_type\":\"password\","
	         "\"credential\":{\"username\":\"bob\"}}",
	         &j),
	    422);
	json_t *loc = json_object_get(
	    json_array_get(json_object_get(j, "detail"), 0), "loc");
	ck_assert_str_eq(json_string_value(json_array_get(loc, 2)), "password");
	json_decref(j);

	/* Unknown ids: the contract's 404s. */
	ck_assert_int_eq(
	    call(p, "GET", "/v1/credentials/cred_404", REL_AUTH, NULL, &j),
	    404);
	ck_assert_str_eq(rel_str(j, "detail"), "Credential not found");
	json_decref(j);
	ck_assert_int_eq(call(p, "POST", "/v1/credentials/cred_404/delete",
	                      REL_AUTH, NULL, &j),
	                 404);
	ck_assert_str_eq(rel_str(j, "detail"),
	                 "Credential not found, credential_id=cred_404");
	json_decref(j);
	ck_assert_int_eq(call(p, "POST", "/v1/credentials/cred_404/update",
	                      REL_AUTH REL_JSONH, PW_BODY, &j),
	                 404);
	json_decref(j);

	/* Another organization sees nothing of these. */
	ck_assert_int_eq(
	    call_s(p, "GET", "/v1/credentials/%s", pw, AUTH_B, NULL, &j), 404);
	json_decref(j);
	ck_assert_int_eq(call(p, "GET", "/v1/credentials", AUTH_B, NULL, &j),
	                 200);
	ck_assert_int_eq(json_array_size(j), 0);
	json_decref(j);
	ck_assert_int_eq(call_s(p, "POST", "/v1/credentials/%s/update", pw,
	                        AUTH_B REL_JSONH, PW_BODY, &j),
	                 404);
	json_decref(j);
	ck_assert_int_eq(call_s(p, "POST", "/v1/credentials/%s/delete", pw,
	                        AUTH_B, NULL, &j),
	                 404);
	json_decref(j);
	char *use = skyx_asprintf("{\"prompt\":\"Sign in.\",\"url\":"
	                          "\"http://127.0.0.1:9/\",\"engine\":"
	                          "\"skyvern-1.0\",\"credential_id\":\"%s\"}",
	                          pw);
	ck_assert_int_eq(
	    call(p, "POST", "/v1/run/tasks", AUTH_B REL_JSONH, use, &j), 404);
	ck_assert_msg(strstr(rel_str(j, "detail"), "not found"), "%s",
	              rel_str(j, "detail"));
	json_decref(j);
	/* ... and its own credential of the same name lives apart. */
	char *b_own = create_credential(p, AUTH_B REL_JSONH, PW_BODY);
	ck_assert_int_eq(
	    call(p, "GET", "/v1/credentials?page_size=10", REL_AUTH, NULL, &j),
	    200);
	ck_assert_int_eq(json_array_size(j), 3);
	json_decref(j);

	/* Update keeps the id; delete answers 204, then 404. */
	ck_assert_int_eq(
	    call_s(p, "POST", "/v1/credentials/%s/update", sec,
	           REL_AUTH REL_JSONH,
	           "{\"name\":\"Renamed\",\"credential_type\":\"secret\","
	           "\"credential\":{\"secret_value\":\"tok-new-0123456789\"}}",
	           &j),
	    200);
	ck_assert_str_eq(rel_str(j, "credential_id"), sec);
	ck_assert_str_eq(rel_str(j, "name"), "Renamed");
	json_decref(j);
	ck_assert_int_eq(call_s(p, "POST", "/v1/credentials/%s/delete", sec,
	                        REL_AUTH, NULL, NULL),
	                 204);
	ck_assert_int_eq(
	    call_s(p, "GET", "/v1/credentials/%s", sec, REL_AUTH, NULL, NULL),
	    404);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);

	/* A sealed value altered in the store (one character of the
	 * ciphertext). */
	char *db = skyx_asprintf("%s/skyengine.db", data);
	sqlite3 *h = NULL;
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	char *sql = skyx_asprintf(
	    "UPDATE credentials SET sealed = substr(sealed, 1, 20) || "
	    "CASE substr(sealed, 21, 1) WHEN 'A' THEN 'B' ELSE 'A' END || "
	    "substr(sealed, 22) WHERE credential_id = '%s'",
	    pw);
	ck_assert_int_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_changes(h), 1);
	free(sql);
	sqlite3_close(h);
	free(db);
	free(srv.data_dir);
	free(srv.log_path);
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	p = srv.port;
	/* The API never unseals: it still answers. */
	ck_assert_int_eq(
	    call_s(p, "GET", "/v1/credentials/%s", pw, REL_AUTH, NULL, &j),
	    200);
	json_decref(j);
	char *run_id = rel_submit(p, use);
	char *ids[1] = {run_id};
	json_t *run[1];
	ck_assert_int_eq(rel_wait_all(p, ids, 1, 120000, run), 1);
	ck_assert_str_eq(rel_str(run[0], "status"), "failed");
	const char *why = rel_str(run[0], "failure_reason");
	ck_assert_msg(why && strstr(why, pw) && strstr(why, "altered"), "%s",
	              why ? why : "(none)");
	json_decref(run[0]);
	ck_assert_int_eq(call(p, "GET", "/api/v1/heartbeat", NULL, NULL, NULL),
	                 200);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);

	free(run_id);
	free(use);
	free(b_own);
	free(pw);
	free(card);
	free(sec);
	free(srv.data_dir);
	free(srv.log_path);
	skyx_rm_rf(dir);
	free(dir);
	free(data);
}
END_TEST

/* --- POST /v1/run/tasks/login ------------------------------------------- */

START_TEST(the_login_route_signs_in_with_a_credential)
{
	char *dir = skytest_tmpdir("vault-login");
	char *data = skyx_asprintf("%s/data", dir);
	skytest_twofa *tf = skytest_twofa_new("carol", PASSWORD, TOTP_SECRET);
	skytest_httpd *site = skytest_httpd_start(skytest_twofa_handler, tf);
	const char *args[] = {"--api-key", REL_KEY, "--workers", "1", NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	int p = srv.port;
	json_t *j = NULL;
	char *cred = create_credential(
	    p, REL_AUTH REL_JSONH,
	    "{\"name\":\"Carol\",\"credential_type\":\"password\","
	    "\"credential\":{\"username\":\"carol\",\"password\":\"" PASSWORD
	    "\",\"totp\":\"" TOTP_SECRET "\"}}");

	/* Refusals in Skyvern's words. */
	ck_assert_int_eq(call(p, "POST", "/v1/run/tasks/login",
	                      REL_AUTH REL_JSONH,
	                      "{\"url\":\"http://x.test/\"}", &j),
	                 422);
	json_decref(j);
	ck_assert_int_eq(call(p, "POST", "/v1/run/tasks/login",
	                      REL_AUTH REL_JSONH,
	                      "{\"credential_type\":\"skyvern\"}", &j),
	                 400);
	ck_assert_str_eq(rel_str(j, "detail"),
	                 "credential_id is required to login with Skyvern "
	                 "credential");
	json_decref(j);
	ck_assert_int_eq(call(p, "POST", "/v1/run/tasks/login",
	                      REL_AUTH REL_JSONH,
	                      "{\"credential_type\":\"skyvern\","
	                      "\"credential_id\":\"cred_404\"}",
	                      &j),
	                 404);
	ck_assert_str_eq(rel_str(j, "detail"), "Credential cred_404 not found");
	json_decref(j);
	ck_assert_int_eq(call(p, "POST", "/v1/run/tasks/login",
	                      REL_AUTH REL_JSONH,
	                      "{\"credential_type\":\"bitwarden\","
	                      "\"bitwarden_item_id\":\"x\"}",
	                      &j),
	                 400);
	json_decref(j);
	char *prof = skyx_asprintf("{\"credential_type\":\"skyvern\","
	                           "\"credential_id\":\"%s\","
	                           "\"browser_profile_id\":\"bp_1\"}",
	                           cred);
	ck_assert_int_eq(call(p, "POST", "/v1/run/tasks/login",
	                      REL_AUTH REL_JSONH, prof, &j),
	                 400);
	ck_assert_msg(strstr(rel_str(j, "detail"), "not supported yet"), "%s",
	              rel_str(j, "detail"));
	json_decref(j);
	free(prof);

	/* The login itself: no prompt, the default login goal. */
	char *body = skyx_asprintf("{\"credential_type\":\"skyvern\","
	                           "\"credential_id\":\"%s\",\"url\":\"%s/\"}",
	                           cred, skytest_httpd_url(site));
	ck_assert_int_eq(call(p, "POST", "/v1/run/tasks/login",
	                      REL_AUTH REL_JSONH, body, &j),
	                 200);
	char *id = skyx_strdup(rel_str(j, "run_id"));
	ck_assert_ptr_nonnull(id);
	json_decref(j);
	char *ids[1] = {id};
	json_t *run[1];
	ck_assert_int_eq(rel_wait_all(p, ids, 1, 300000, run), 1);
	skytest_twofa_stats st;
	skytest_twofa_stats_get(tf, &st);
	ck_assert_msg(st.verified == 1, "not signed in: %s: %s",
	              rel_str(run[0], "status"),
	              rel_str(run[0], "failure_reason"));
	ck_assert_msg(!strcmp(rel_str(run[0], "status"), "completed"), "%s: %s",
	              rel_str(run[0], "status"),
	              rel_str(run[0], "failure_reason"));
	char *text = json_dumps(run[0], 0);
	ck_assert_ptr_null(strstr(text, PASSWORD));
	free(text);
	json_decref(run[0]);
	/* The login kept its browser state: it becomes a profile. */
	char *pb = skyx_asprintf("{\"name\":\"after login\","
	                         "\"workflow_run_id\":\"%s\"}",
	                         id);
	int pst =
	    call(p, "POST", "/v1/browser_profiles", REL_AUTH REL_JSONH, pb, &j);
	ck_assert_msg(pst == 200, "profile from the login: %d %s", pst,
	              j ? rel_str(j, "detail") : "");
	ck_assert(skyx_str_startswith(rel_str(j, "browser_profile_id"), "bp_"));
	json_decref(j);
	free(pb);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);

	free(id);
	free(body);
	free(cred);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(site);
	skytest_twofa_free(tf);
	skyx_rm_rf(dir);
	free(dir);
	free(data);
}
END_TEST

/* --- a credentials provider plugin (credentials-command) ------------------ */

#define PM_PASSWORD "Pm-Pa55-from-the-manager-77"

START_TEST(a_password_manager_command_provides_the_credential)
{
	char *dir = skytest_tmpdir("vault-pm");
	char *data = skyx_asprintf("%s/data", dir);
	skytest_twofa *tf = skytest_twofa_new("dave", PM_PASSWORD, TOTP_SECRET);
	skytest_httpd *site = skytest_httpd_start(skytest_twofa_handler, tf);
	/* A fake password-manager CLI: one item, exit 2 for the rest. */
	char *script = skyx_asprintf("%s/pm-fields.sh", dir);
	const char *sh =
	    "#!/bin/sh\n"
	    "case \"$2\" in\n"
	    "  bitwarden:item-7) printf '{\"username\":\"dave\",\"password\":"
	    "\"%s\",\"totp\":\"%s\"}' \"" PM_PASSWORD "\" \"" TOTP_SECRET
	    "\" ;;\n"
	    "  *) echo \"no such item $2\" >&2; exit 2 ;;\n"
	    "esac\n";
	ck_assert_int_eq(sky_write_file(script, sh, strlen(sh)), 0);
	ck_assert_int_eq(chmod(script, 0700), 0);
	char *cfg = skyx_asprintf("%s/config.json", dir);
	char *json = skyx_asprintf("{\"credentials\":{\"provider\":"
	                           "\"command\",\"command\":[\"%s\","
	                           "\"--get\"]}}",
	                           script);
	sky_write_file(cfg, json, strlen(json));
	setenv("SKYENGINE_LOG", "debug", 1);
	const char *args[] = {"--api-key", REL_KEY, "--workers", "1",
	                      "--config",  cfg,     NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	int p = srv.port;
	json_t *j = NULL;

	/* Skyvern's Bitwarden login, answered by the command. */
	char *body = skyx_asprintf("{\"credential_type\":\"bitwarden\","
	                           "\"bitwarden_item_id\":\"item-7\",\"url\":"
	                           "\"%s/\"}",
	                           skytest_httpd_url(site));
	ck_assert_int_eq(call(p, "POST", "/v1/run/tasks/login",
	                      REL_AUTH REL_JSONH, body, &j),
	                 200);
	char *id = skyx_strdup(rel_str(j, "run_id"));
	json_decref(j);
	/* An item the manager does not have: the run says so. */
	ck_assert_int_eq(call(p, "POST", "/v1/run/tasks", REL_AUTH REL_JSONH,
	                      "{\"prompt\":\"Sign in.\",\"url\":"
	                      "\"http://127.0.0.1:9/\",\"engine\":"
	                      "\"skyvern-1.0\",\"credential_id\":"
	                      "\"bitwarden:nope\"}",
	                      &j),
	                 200);
	char *missing = skyx_strdup(rel_str(j, "run_id"));
	json_decref(j);
	char *ids[2] = {id, missing};
	json_t *run[2];
	ck_assert_int_eq(rel_wait_all(p, ids, 2, 300000, run), 2);
	skytest_twofa_stats st;
	skytest_twofa_stats_get(tf, &st);
	ck_assert_msg(st.verified == 1, "not signed in: %s: %s",
	              rel_str(run[0], "status"),
	              rel_str(run[0], "failure_reason"));
	ck_assert_str_eq(rel_str(run[1], "status"), "failed");
	ck_assert_msg(strstr(rel_str(run[1], "failure_reason"),
	                     "bitwarden:nope not found"),
	              "%s", rel_str(run[1], "failure_reason"));
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	unsetenv("SKYENGINE_LOG");
	needle n[2] = {{"the password", PM_PASSWORD},
	               {"the TOTP secret", TOTP_SECRET}};
	ck_assert_int_gt(search_tree(data, n, 2), 3);
	char *log = skytest_server_log(&srv);
	assert_clean("the server log", log, n, 2);
	free(log);

	json_decref(run[0]);
	json_decref(run[1]);
	free(id);
	free(missing);
	free(body);
	free(json);
	free(cfg);
	free(script);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(site);
	skytest_twofa_free(tf);
	skyx_rm_rf(dir);
	free(dir);
	free(data);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vault");
	TCase *tc = tcase_create("vault");
	tcase_set_timeout(tc, 500);
	tcase_add_test(tc, routes_organizations_and_a_tampered_value);
	tcase_add_test(tc,
	               a_credential_signs_in_and_its_secrets_appear_nowhere);
	tcase_add_test(tc, the_login_route_signs_in_with_a_credential);
	tcase_add_test(tc, a_password_manager_command_provides_the_credential);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
