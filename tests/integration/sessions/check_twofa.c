/*
 * Two-step verification and proxies end to end: a skyengine-server child
 * process executing runs with the offline planner in real Chromium.
 * Runs log in to the twofa fixture (whose server checks RFC 6238 codes)
 * with each code source: a code pushed through POST /v1/credentials/totp
 * while the run waits, a totp_url endpoint (signed requests), and the
 * totp-secret provider; a run without a source terminates saying so.
 * Then no log line, prompt, answer or artifact may hold a code or the
 * secret. Proxies: a location mapped by proxy-static to a loopback proxy
 * that wants credentials, NONE going direct, unknown locations refused.
 * Plus the push route's validation and parsing.
 */
#include <pthread.h>
#include <skyengine.h>
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "httpd.h"
#include "proxy.h"
#include "twofa.h"
#include "util/hash.h"
#include <skyx/otp.h>

#define SECRET "KRUGKIDROVUWG2ZAMJZG653OEBTG66BAEE"
#define USER "alice"
#define PASS "Wonderland!1"
#define GOAL "Log in with username " USER " and password " PASS

static skytest_server srv;
static char *dir, *cfg_dir; /* the config (it names the secret) lives
                               outside the data dir that is scanned */

/* --- sites: one twofa site per code source (codes are single use) ----- */

typedef struct site {
	skytest_twofa *t;
	skytest_httpd *h;
} site;

static site site_new(void)
{
	site s;
	s.t = skytest_twofa_new(USER, PASS, SECRET);
	ck_assert_ptr_nonnull(s.t);
	s.h = skytest_httpd_start(skytest_twofa_handler, s.t);
	ck_assert_ptr_nonnull(s.h);
	return s;
}

static void site_free(site *s)
{
	skytest_httpd_stop(s->h);
	skytest_twofa_free(s->t);
}

static skytest_twofa_stats stats_of(const site *s)
{
	skytest_twofa_stats st;
	skytest_twofa_stats_get(s->t, &st);
	return st;
}

/* --- a totp_url endpoint: no code at first, then the site's code ------- */

typedef struct codes_ep {
	pthread_mutex_t lock;
	site *site;
	int requests;
	int bad_signatures;
	char body[1024];
	char served[16];
} codes_ep;

static codes_ep ep = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_code_request(const skytest_req *req, skytest_resp *resp,
                            void *ud)
{
	(void)ud;
	char want[SKYX_SHA256_HEX_LEN];
	skyx_hmac_sha256_hex(KEY, strlen(KEY), req->body, req->body_len, want);
	const char *sig = skytest_req_header(req, "x-skyvern-signature");
	pthread_mutex_lock(&ep.lock);
	int n = ++ep.requests;
	ep.bad_signatures += !sig || strcmp(sig, want) ||
	                     !skytest_req_header(req, "x-skyvern-timestamp");
	snprintf(ep.body, sizeof ep.body, "%s", req->body);
	char code[SKYX_OTP_CODE_MAX] = "";
	if (n >= 2 && skytest_twofa_code_now(ep.site->t, code) == 0)
		snprintf(ep.served, sizeof ep.served, "%s", code);
	pthread_mutex_unlock(&ep.lock);
	char *body = n >= 2
	                 ? skyx_asprintf("{\"verification_code\":\"%s\"}", code)
	                 : skyx_strdup("{}");
	skytest_resp_text(resp, 200, "application/json", body);
	free(body);
}

/* --- an origin for the proxy runs, recording the Via header ------------ */

typedef struct origin {
	pthread_mutex_t lock;
	int requests, via;
} origin;

static origin org_site = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_origin(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	const char *via = skytest_req_header(req, "via");
	pthread_mutex_lock(&org_site.lock);
	org_site.requests++;
	org_site.via += via && strstr(via, "skytest-proxy") != NULL;
	pthread_mutex_unlock(&org_site.lock);
	if (!strcmp(req->path, "/pricing"))
		skytest_resp_text(
		    resp, 200, NULL,
		    "<!doctype html><title>Pricing</title>"
		    "<h1>Pricing</h1><p>Team: 12 EUR a seat.</p>");
	else
		skytest_resp_text(resp, 200, NULL,
		                  "<!doctype html><title>Acme</title><h1>Acme"
		                  "</h1><a href='/pricing'>Pricing</a>");
}

static origin origin_get(void)
{
	pthread_mutex_lock(&org_site.lock);
	origin o = org_site;
	pthread_mutex_unlock(&org_site.lock);
	return o;
}

/* --- the server ------------------------------------------------------------ */

static skytest_proxy *proxy;
static skytest_httpd *endpoint, *origin_h;

static void setup(void)
{
	dir = skytest_tmpdir("twofa");
	cfg_dir = skytest_tmpdir("twofa-cfg");
	proxy = skytest_proxy_start("puser", "ppass");
	endpoint = skytest_httpd_start(on_code_request, NULL);
	origin_h = skytest_httpd_start(on_origin, NULL);
	ck_assert(proxy && endpoint && origin_h);
	char *cfg = skyx_asprintf("%s/config.json", cfg_dir);
	char *json = skyx_asprintf(
	    "{\"agent\":{\"totp_wait_ms\":60000,\"settle_max_ms\":3000},"
	    "\"totp\":{\"provider\":\"secret\",\"llm_fallback\":true,"
	    "\"secrets\":{\"acme-c\":\"%s\"}},"
	    "\"proxy\":{\"provider\":\"static\",\"locations\":"
	    "{\"RESIDENTIAL_GB\":\"http://puser:ppass@127.0.0.1:%d\"}}}",
	    SECRET, skytest_proxy_port(proxy));
	ck_assert_int_eq(sky_write_file(cfg, json, strlen(json)), 0);
	/* Every log line there is, for the secrets check. */
	setenv("SKYENGINE_LOG", "debug", 1);
	const char *args[] = {"--api-key", KEY, "--config", cfg,
	                      "--workers", "3", NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
	free(cfg);
	free(json);
}

static void teardown(void)
{
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	skytest_httpd_stop(endpoint);
	skytest_httpd_stop(origin_h);
	skytest_proxy_stop(proxy);
	free(srv.data_dir);
	free(srv.log_path);
	if (!getenv("SKYTEST_KEEP")) /* for a look after a failure */
		skyx_rm_rf(dir);
	skyx_rm_rf(cfg_dir);
	free(dir);
	free(cfg_dir);
}

/* --- tests ------------------------------------------------------------------ */

static char *run_body(const site *s, const char *extra)
{
	return skyx_asprintf("{\"prompt\":\"%s\",\"url\":\"%s/\","
	                     "\"engine\":\"skyvern-1.0\",\"proxy_location\":"
	                     "\"NONE\"%s}",
	                     GOAL, skytest_httpd_url(s->h), extra);
}

static void assert_signed_in(const site *s, json_t *run, const char *what)
{
	skytest_twofa_stats st = stats_of(s);
	ck_assert_msg(st.verified,
	              "%s: the site saw no verified session "
	              "(run %s: %s)",
	              what, jstr(run, "status"), jstr(run, "failure_reason"));
	ck_assert_int_eq(st.codes_failed, 0);
	ck_assert_msg(!strcmp(jstr(run, "status"), "completed"), "%s: %s: %s",
	              what, jstr(run, "status"), jstr(run, "failure_reason"));
}

/* Codes of the secret around now: whatever the provider computed. */
static void secret_codes(char out[7][SKYX_OTP_CODE_MAX])
{
	skyx_otp_params p = SKYX_OTP_PARAMS_INIT;
	int64_t now = time(NULL);
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(skyx_otp_totp_base32(
		                     SECRET, &p, now + (i - 5) * 30, out[i]),
		                 0);
}

static void assert_nowhere(const char *needle, const char *what)
{
	char *hits = scan_files(dir, needle);
	ck_assert_msg(!*hits, "%s \"%s\" found in:\n%s", what, needle, hits);
	free(hits);
}

START_TEST(two_factor_login_with_each_code_source)
{
	site a = site_new(), b = site_new(), c = site_new(), none = site_new();
	ep.site = &b;
	char *body;
	char extra[512];

	/* (b) totp_url: polled until it has a code, signed like webhooks. */
	snprintf(extra, sizeof extra, ",\"totp_url\":\"%s/code\"",
	         skytest_httpd_url(endpoint));
	body = run_body(&b, extra);
	char *id_b = api_submit(&srv, body);
	free(body);
	/* (c) the totp-secret provider, by totp_identifier. */
	body = run_body(&c, ",\"totp_identifier\":\"acme-c\"");
	char *id_c = api_submit(&srv, body);
	free(body);
	/* No source at all. */
	body = run_body(&none, "");
	char *id_none = api_submit(&srv, body);
	free(body);
	/* (a) a code pushed through the API while the run waits for it. */
	body = run_body(&a, ",\"totp_identifier\":\"acme-a\"");
	char *id_a = api_submit(&srv, body);
	free(body);
	for (int i = 0; i < 1200 && !stats_of(&a).logins_ok; i++)
		usleep(100000);
	ck_assert_int_eq(stats_of(&a).logins_ok, 1);
	ck_assert_int_eq(stats_of(&a).verified, 0);
	char code_a[SKYX_OTP_CODE_MAX];
	ck_assert_int_eq(skytest_twofa_code_now(a.t, code_a), 0);
	char *push = skyx_asprintf("{\"totp_identifier\":\"acme-a\","
	                           "\"content\":\"Your Acme Portal code is "
	                           "%s. It expires in 10 minutes.\","
	                           "\"source\":\"sms\"}",
	                           code_a);
	json_t *pushed = api_post(&srv, "/v1/credentials/totp", push, 200);
	ck_assert_str_eq(jstr(pushed, "code"), code_a);
	json_decref(pushed);
	free(push);

	json_t *run_a = api_wait(&srv, id_a);
	json_t *run_b = api_wait(&srv, id_b);
	json_t *run_c = api_wait(&srv, id_c);
	json_t *run_n = api_wait(&srv, id_none);
	assert_signed_in(&a, run_a, "pushed code");
	assert_signed_in(&b, run_b, "totp_url");
	assert_signed_in(&c, run_c, "totp-secret");

	/* The endpoint was asked again until it had a code; every request
	 * was signed with the submitting key; the body names the run. */
	pthread_mutex_lock(&ep.lock);
	ck_assert_int_ge(ep.requests, 2);
	ck_assert_int_eq(ep.bad_signatures, 0);
	ck_assert_ptr_nonnull(strstr(ep.body, id_b));
	char code_b[16];
	snprintf(code_b, sizeof code_b, "%s", ep.served);
	pthread_mutex_unlock(&ep.lock);

	/* Without a source: terminated, saying why, no code submitted. */
	ck_assert_str_eq(jstr(run_n, "status"), "terminated");
	ck_assert_ptr_nonnull(
	    strstr(jstr(run_n, "failure_reason"), "verification code"));
	ck_assert_int_eq(stats_of(&none).logins_ok, 1);
	ck_assert_int_eq(
	    stats_of(&none).codes_ok + stats_of(&none).codes_failed, 0);

	/* No code and no secret in any log line, prompt, answer, artifact
	 * or step record. */
	char steps_path[128];
	const char *ids[] = {id_a, id_b, id_c, id_none};
	for (int i = 0; i < 4; i++) {
		snprintf(steps_path, sizeof steps_path,
		         "/api/v1/tasks/%s/steps", ids[i]);
		json_t *steps = api_get(&srv, steps_path, 200);
		char *text = json_dumps(steps, 0);
		char *dump = skyx_asprintf("%s/steps-%d.json", dir, i);
		sky_write_file(dump, text, strlen(text));
		free(dump);
		free(text);
		json_decref(steps);
	}
	char codes_c[7][SKYX_OTP_CODE_MAX];
	secret_codes(codes_c);
	assert_nowhere(code_a, "pushed code");
	assert_nowhere(code_b, "totp_url code");
	for (int i = 0; i < 7; i++)
		assert_nowhere(codes_c[i], "totp-secret code");
	assert_nowhere(SECRET, "TOTP secret");
	/* The scan did look at the prompts and the log. */
	char *seen = scan_files(dir, "\"" USER "\"");
	ck_assert_ptr_nonnull(strstr(seen, "extract-actions.prompt.txt"));
	ck_assert_ptr_nonnull(strstr(seen, "steps-0.json"));
	free(seen);
	seen = scan_files(dir, id_a);
	ck_assert_ptr_nonnull(strstr(seen, "server.log"));
	free(seen);

	json_decref(run_a);
	json_decref(run_b);
	json_decref(run_c);
	json_decref(run_n);
	free(id_a);
	free(id_b);
	free(id_c);
	free(id_none);
	site_free(&a);
	site_free(&b);
	site_free(&c);
	site_free(&none);
}
END_TEST

START_TEST(proxy_location_through_an_authenticating_proxy)
{
	skytest_proxy_stats before, after, after_none;
	char body[512];
	skytest_proxy_stats_get(proxy, &before);
	origin o0 = origin_get();
	snprintf(body, sizeof body,
	         "{\"prompt\":\"Open the Pricing page.\",\"url\":\"%s/\","
	         "\"engine\":\"skyvern-1.0\",\"proxy_location\":"
	         "\"RESIDENTIAL_GB\"}",
	         skytest_httpd_url(origin_h));
	char *id = api_submit(&srv, body);
	json_t *run = api_wait(&srv, id);
	ck_assert_msg(!strcmp(jstr(run, "status"), "completed"), "%s: %s",
	              jstr(run, "status"), jstr(run, "failure_reason"));
	json_t *applied = json_object_get(run, "proxy_applied");
	ck_assert(json_is_true(json_object_get(applied, "applied")));
	ck_assert_str_eq(jstr(applied, "mode"), "provider");
	/* The credentials stay out of what the API shows. */
	char *shown = json_dumps(applied, 0);
	ck_assert_ptr_null(strstr(shown, "ppass"));
	free(shown);
	skytest_proxy_stats_get(proxy, &after);
	origin o1 = origin_get();
	ck_assert_int_gt(after.challenged, before.challenged);
	ck_assert_int_gt(after.authenticated, before.authenticated);
	ck_assert_int_gt(after.forwarded, before.forwarded);
	ck_assert_int_gt(o1.requests, o0.requests);
	ck_assert_int_eq(o1.via - o0.via, o1.requests - o0.requests);
	json_decref(run);
	free(id);

	/* NONE: straight to the origin. */
	snprintf(body, sizeof body,
	         "{\"prompt\":\"Open the Pricing page.\",\"url\":\"%s/\","
	         "\"engine\":\"skyvern-1.0\",\"proxy_location\":\"NONE\"}",
	         skytest_httpd_url(origin_h));
	id = api_submit(&srv, body);
	run = api_wait(&srv, id);
	ck_assert_str_eq(jstr(run, "status"), "completed");
	ck_assert_str_eq(jstr(json_object_get(run, "proxy_applied"), "mode"),
	                 "direct");
	skytest_proxy_stats_get(proxy, &after_none);
	origin o2 = origin_get();
	ck_assert_int_eq(after_none.total, after.total);
	ck_assert_int_gt(o2.requests, o1.requests);
	ck_assert_int_eq(o2.via, o1.via);
	json_decref(run);
	free(id);

	/* An unknown location is a 422 naming the field. */
	snprintf(body, sizeof body,
	         "{\"prompt\":\"x\",\"url\":\"%s/\",\"proxy_location\":"
	         "\"RESIDENTIAL_MARS\"}",
	         skytest_httpd_url(origin_h));
	json_t *err = api_post(&srv, "/v1/run/tasks", body, 422);
	json_t *item = json_array_get(json_object_get(err, "detail"), 0);
	ck_assert_str_eq(jstr(item, "type"), "enum");
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(item, "loc"), 1)),
	    "proxy_location");
	json_decref(err);
	/* The proxy password never reached the log. */
	char *log = skytest_server_log(&srv);
	ck_assert_ptr_null(strstr(log, "ppass"));
	free(log);
}
END_TEST

static json_t *push(const char *path, const char *body, int status)
{
	return api_post(&srv, path, body, status);
}

START_TEST(pushed_codes_are_validated_and_parsed)
{
	/* Validation: /v1/credentials* items are only {loc, msg, type}. */
	json_t *j =
	    push("/v1/credentials/totp", "{\"totp_identifier\":\"x\"}", 422);
	json_t *item = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_uint_eq(json_object_size(item), 3);
	ck_assert_str_eq(jstr(item, "type"), "missing");
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(item, "loc"), 1)),
	    "content");
	json_decref(j);
	j = push("/v1/credentials/totp", "{\"totp_identifier\": 5,", 422);
	item = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(jstr(item, "type"), "json_invalid");
	ck_assert_uint_eq(json_object_size(item), 3);
	json_decref(j);
	/* The legacy route answers FastAPI's usual items. */
	j = push("/api/v1/totp", "{\"totp_identifier\":\"x\",\"content\":7}",
	         422);
	item = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(jstr(item, "type"), "string_type");
	ck_assert_ptr_nonnull(json_object_get(item, "input"));
	json_decref(j);
	j = push("/v1/credentials/totp",
	         "{\"totp_identifier\":\"x\",\"content\":\"123456\","
	         "\"task_id\":\"tsk_404\"}",
	         400);
	ck_assert_str_eq(jstr(j, "detail"), "Invalid task id: tsk_404");
	json_decref(j);
	j = push("/v1/credentials/totp",
	         "{\"totp_identifier\":\"x\",\"content\":\"1\","
	         "\"expired_at\":\"yesterday\"}",
	         422);
	json_decref(j);

	/* Short content is the code as sent (trimmed). */
	j = push(
	    "/v1/credentials/totp",
	    "{\"totp_identifier\":\"id-1\",\"content\":\" 80 4417 \","
	    "\"source\":\"email\",\"expired_at\":\"2030-01-02T03:04:05Z\"}",
	    200);
	ck_assert_str_eq(jstr(j, "code"), "80 4417");
	ck_assert(skyx_str_startswith(jstr(j, "totp_code_id"), "totp_"));
	ck_assert_str_eq(jstr(j, "otp_type"), "totp");
	ck_assert_str_eq(jstr(j, "totp_identifier"), "id-1");
	ck_assert_str_eq(jstr(j, "source"), "email");
	ck_assert_str_eq(jstr(j, "content"), " 80 4417 ");
	ck_assert_str_eq(jstr(j, "expired_at"), "2030-01-02T03:04:05.000Z");
	ck_assert(skyx_str_startswith(jstr(j, "organization_id"), "o_"));
	ck_assert_ptr_nonnull(jstr(j, "created_at"));
	json_decref(j);
	/* An SMS: the pattern rules find the code. */
	j = push("/api/v1/totp",
	         "{\"totp_identifier\":\"id-1\",\"content\":\"Acme Bank: "
	         "391 847 is your verification code. Never share it. Order "
	         "#55120.\"}",
	         200);
	ck_assert_str_eq(jstr(j, "code"), "391847");
	ck_assert_str_eq(jstr(j, "status"), "unused");
	json_decref(j);
	/* A sign-in e-mail: a magic link. */
	j = push("/v1/credentials/totp",
	         "{\"totp_identifier\":\"id-1\",\"content\":\"<p>Click to "
	         "sign in to Acme:</p><a href=\\\"https://acme.example/auth/"
	         "magic?token=Zx81Qp0aL7mN3vB2cD9e\\\">Sign in</a>\"}",
	         200);
	ck_assert_str_eq(jstr(j, "otp_type"), "magic_link");
	ck_assert(skyx_str_startswith(jstr(j, "code"),
	                              "https://acme.example/auth/magic"));
	json_decref(j);
	/* The rules find nothing; the configured fallback (the offline
	 * planner here) reads the one number on its own line. */
	j = push("/v1/credentials/totp",
	         "{\"totp_identifier\":\"id-1\",\"content\":\"Hello Chris,"
	         "\\n\\n739164\\n\\nThanks, the Acme team\"}",
	         200);
	ck_assert_str_eq(jstr(j, "code"), "739164");
	ck_assert_str_eq(jstr(j, "status"), "unused");
	json_decref(j);
	/* Nothing anywhere: stored raw, pending. */
	j = push("/v1/credentials/totp",
	         "{\"totp_identifier\":\"id-1\",\"content\":\"Your password "
	         "was changed. If this was not you, call us.\"}",
	         200);
	ck_assert_str_eq(jstr(j, "code"), "");
	ck_assert_str_eq(jstr(j, "status"), "raw_pending");
	json_decref(j);
	/* Codes stay out of the log. */
	char *log = skytest_server_log(&srv);
	ck_assert_ptr_null(strstr(log, "391847"));
	ck_assert_ptr_null(strstr(log, "739164"));
	free(log);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("twofa");
	TCase *tc = tcase_create("server");
	tcase_set_timeout(tc, 400);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pushed_codes_are_validated_and_parsed);
	tcase_add_test(tc, proxy_location_through_an_authenticating_proxy);
	tcase_add_test(tc, two_factor_login_with_each_code_source);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
