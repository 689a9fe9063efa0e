/*
 * Every field of POST /v1/run/tasks that Skyvern acts on is honoured or
 * refused with a 400, over real HTTP: `model` is mapped to the configured
 * provider (the fake OpenAI-compatible endpoint here sees the mapped model
 * name in the run's own calls), unknown models, browser profiles, CUA
 * engines, cdp_connect_headers without browser_address and
 * max_screenshot_scrolls above 0 are refused with Skyvern's words where
 * Skyvern has them.
 */
#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "httpc.h"
#include "httpd.h"
#include "skytest.h"
#include "srvproc.h"
#include "util/fs.h"
#include "util/json.h"
#include <skyx/str.h>

#define KEY "fields-key-0123456789"
#define AUTH "x-api-key: " KEY "\r\n"
#define JSONH "content-type: application/json\r\n"

static skytest_server srv;
static skytest_httpd *fake;
static char *dir;

/* The fake model API records the model of every chat completion and
 * refuses it (the run then fails: only the model name matters here); it
 * also serves the page the run opens. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen[4096];
static skyx_buf bodies; /* every request body the model API received */

static void on_fake(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (strcmp(req->method, "POST")) {
		skytest_resp_text(resp, 200, "text/html",
		                  "<html><body><h1>Hello</h1><form><input "
		                  "name=q><button>Go</button></form></body>"
		                  "</html>");
		return;
	}
	json_t *b = json_loads(req->body, 0, NULL);
	const char *m = sky_json_str(b, "model");
	pthread_mutex_lock(&seen_lock);
	size_t n = strlen(seen);
	snprintf(seen + n, sizeof seen - n, "%s;", m ? m : "(none)");
	skyx_buf_puts(&bodies, req->body);
	pthread_mutex_unlock(&seen_lock);
	json_decref(b);
	skytest_resp_text(resp, 400, "application/json",
	                  "{\"error\":{\"message\":\"fake: no answers "
	                  "here\",\"type\":\"invalid_request_error\"}}");
}

static void setup(void)
{
	dir = skytest_tmpdir("fields");
	fake = skytest_httpd_start(on_fake, NULL);
	ck_assert_ptr_nonnull(fake);
	char *cfg = skyx_asprintf("%s/config.json", dir);
	char *json = skyx_asprintf(
	    "{\"llm\":{\"base_url\":\"%s/v1\",\"auth\":\"none\","
	    "\"model\":\"m-default\",\"models\":{\"fast\":\"m-fast\"}}}",
	    skytest_httpd_url(fake));
	sky_write_file(cfg, json, strlen(json));
	setenv("SKYENGINE_LLM", "openai", 1); /* the child inherits it */
	const char *args[] = {"--api-key", KEY, "--config", cfg, NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
	free(cfg);
	free(json);
}

static void teardown(void)
{
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	skytest_httpd_stop(fake);
	free(srv.data_dir);
	free(srv.log_path);
	skyx_rm_rf(dir);
	free(dir);
}

static json_t *call(const char *method, const char *path, const char *body,
                    int want_status)
{
	skytest_hc_resp r;
	ck_assert_int_eq(
	    skytest_hc(srv.port, method, path, AUTH JSONH, body, &r), 0);
	ck_assert_msg(r.status == want_status, "%s %s %s: want %d got %d: %s",
	              method, path, body ? body : "", want_status, r.status,
	              r.body);
	json_t *j = json_loads(r.body, JSON_DECODE_ANY, NULL);
	skytest_hc_free(&r);
	return j;
}

/* POST the body, expect 400 with exactly this detail. */
static void refused(const char *body, const char *detail)
{
	json_t *j = call("POST", "/v1/run/tasks", body, 400);
	ck_assert_str_eq(sky_json_str(j, "detail"), detail);
	json_decref(j);
}

/* Poll until the run is final (the run's own timeouts bound it). */
static json_t *wait_final(const char *id)
{
	char path[160];
	snprintf(path, sizeof path, "/v1/runs/%s", id);
	for (int i = 0; i < 3000; i++) {
		json_t *j = call("GET", path, NULL, 200);
		const char *st = sky_json_str(j, "status");
		if (strcmp(st, "created") && strcmp(st, "queued") &&
		    strcmp(st, "running"))
			return j;
		json_decref(j);
		usleep(100000);
	}
	ck_abort_msg("run %s never finished", id);
	return NULL;
}

static char *run_with_body(const char *extra)
{
	char *body = skyx_asprintf("{\"prompt\":\"Search for shoes\",\"url\":"
	                           "\"%s/\",\"engine\":\"skyvern-1.0\"%s}",
	                           skytest_httpd_url(fake), extra);
	json_t *j = call("POST", "/v1/run/tasks", body, 200);
	char *id = skyx_strdup(sky_json_str(j, "run_id"));
	json_decref(j);
	free(body);
	json_decref(wait_final(id));
	return id;
}

START_TEST(model_is_mapped_to_the_configured_provider)
{
	pthread_mutex_lock(&seen_lock);
	seen[0] = '\0';
	pthread_mutex_unlock(&seen_lock);
	char *a = run_with_body(",\"model\":{\"model_name\":\"fast\"}");
	pthread_mutex_lock(&seen_lock);
	ck_assert_msg(skyx_str_startswith(seen, "m-fast;") &&
	                  !strstr(seen, "m-default"),
	              "the model API saw: %s", seen);
	seen[0] = '\0';
	pthread_mutex_unlock(&seen_lock);
	/* Without a model, and naming the default itself: the default. */
	char *b = run_with_body("");
	char *c = run_with_body(",\"model\":{\"model_name\":\"m-default\"}");
	pthread_mutex_lock(&seen_lock);
	ck_assert_msg(skyx_str_startswith(seen, "m-default;") &&
	                  !strstr(seen, "m-fast"),
	              "the model API saw: %s", seen);
	pthread_mutex_unlock(&seen_lock);
	/* The run says which model it asked for. */
	char path[160];
	snprintf(path, sizeof path, "/v1/runs/%s", a);
	json_t *j = call("GET", path, NULL, 200);
	ck_assert_str_eq(
	    sky_json_str(
	        json_object_get(json_object_get(j, "run_request"), "model"),
	        "model_name"),
	    "fast");
	json_decref(j);
	j = call("GET", "/api/v1/models", NULL, 200);
	ck_assert_str_eq(sky_json_str(json_object_get(j, "models"), "fast"),
	                 "fast");
	ck_assert_uint_eq(json_object_size(json_object_get(j, "models")), 2);
	json_decref(j);
	refused("{\"prompt\":\"p\",\"model\":{\"model_name\":\"gpt-4o\"}}",
	        "Unknown model gpt-4o: this server's models are fast, "
	        "m-default");
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(unhonoured_fields_are_refused)
{
	refused("{\"prompt\":\"p\",\"engine\":\"skyvern-1.0\","
	        "\"browser_profile_id\":\"bp_1\"}",
	        "browser_profile_id is not supported for the skyvern_v1 or "
	        "CUA task engines; use engine=skyvern_v2.");
	refused("{\"prompt\":\"p\",\"engine\":\"skyvern-1.0\","
	        "\"start_fresh_browser\":true}",
	        "start_fresh_browser is not supported for the skyvern_v1 or "
	        "CUA task engines; use engine=skyvern_v2.");
	refused("{\"prompt\":\"p\",\"browser_profile_id\":\"bp_1\","
	        "\"browser_session_id\":\"pbs_1\"}",
	        "browser_profile_id cannot be combined with "
	        "browser_session_id: the session's browser is the run's "
	        "browser (load the profile into the session instead)");
	static const char *const cua[] = {"openai-cua", "anthropic-cua",
	                                  "ui-tars"};
	for (int i = 0; i < 3; i++) {
		char body[96], want[160];
		snprintf(body, sizeof body,
		         "{\"prompt\":\"p\",\"engine\":\"%s\"}", cua[i]);
		snprintf(want, sizeof want,
		         "Engine %s is not supported by skyengine; use "
		         "skyvern-1.0 or skyvern-2.0",
		         cua[i]);
		refused(body, want);
	}
	refused("{\"prompt\":\"p\",\"cdp_connect_headers\":{\"a\":\"b\"}}",
	        "cdp_connect_headers apply to browser_address, which the "
	        "request does not give");
	refused("{\"prompt\":\"p\",\"max_screenshot_scrolls\":2}",
	        "max_screenshot_scrolls above 0 is not supported by "
	        "skyengine: post-action screenshots are one viewport (0 or "
	        "null)");
	/* Nothing was stored for any of them. */
	json_t *j = call("GET", "/v1/runs", NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
}
END_TEST

/* POST /api/v1/tasks: the legacy fields reach the model's prompts, the
 * header caps the steps. */
START_TEST(legacy_task_fields_reach_the_model)
{
	pthread_mutex_lock(&seen_lock);
	skyx_buf_free(&bodies);
	pthread_mutex_unlock(&seen_lock);
	char *body = skyx_asprintf(
	    "{\"url\":\"%s/\",\"navigation_goal\":\"Search for red shoes\","
	    "\"data_extraction_goal\":\"the number of results shown\","
	    "\"navigation_payload\":{\"colour\":\"crimson-17\"},"
	    "\"complete_criterion\":\"a results list is visible\","
	    "\"terminate_criterion\":\"the shop says it is closed\"}",
	    skytest_httpd_url(fake));
	skytest_hc_resp r;
	ck_assert_int_eq(skytest_hc(srv.port, "POST", "/api/v1/tasks",
	                            AUTH JSONH "x-max-steps-override: 2\r\n",
	                            body, &r),
	                 0);
	ck_assert_int_eq(r.status, 200);
	json_t *j = json_loads(r.body, 0, NULL);
	char *id = skyx_strdup(sky_json_str(j, "task_id"));
	json_decref(j);
	skytest_hc_free(&r);
	json_decref(wait_final(id));
	pthread_mutex_lock(&seen_lock);
	const char *all = bodies.data ? bodies.data : "";
	ck_assert_msg(strstr(all, "Search for red shoes") &&
	                  strstr(all, "the number of results shown") &&
	                  strstr(all, "crimson-17") &&
	                  strstr(all, "a results list is visible") &&
	                  strstr(all, "the shop says it is closed"),
	              "the model's prompts lack a legacy field: %.2000s", all);
	pthread_mutex_unlock(&seen_lock);
	char path[160];
	snprintf(path, sizeof path, "/api/v1/tasks/%s", id);
	j = call("GET", path, NULL, 200);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(j, "max_steps_per_run")), 2);
	json_decref(j);
	free(body);
	free(id);
}
END_TEST

/* One artifact, a step's, an entity's; the pushed codes. */
START_TEST(artifacts_by_id_step_and_entity_and_totp_list)
{
	char *id = run_with_body("");
	char path[256];
	snprintf(path, sizeof path, "/v1/runs/%s/artifacts", id);
	json_t *all = call("GET", path, NULL, 200);
	json_t *one = NULL, *it;
	size_t i;
	json_array_foreach (all, i, it)
		if (!one && sky_json_str(it, "step_id"))
			one = it;
	ck_assert_msg(one != NULL, "no step artifact among %zu",
	              json_array_size(all));
	const char *aid = sky_json_str(one, "artifact_id");
	const char *sid = sky_json_str(one, "step_id");
	snprintf(path, sizeof path, "/v1/artifacts/%s", aid);
	json_t *j = call("GET", path, NULL, 200);
	ck_assert_str_eq(sky_json_str(j, "artifact_id"), aid);
	ck_assert_str_eq(sky_json_str(j, "artifact_type"),
	                 sky_json_str(one, "artifact_type"));
	ck_assert_str_eq(sky_json_str(j, "task_id"), id);
	json_decref(j);
	/* A fresh signed link that opens without a key. */
	snprintf(path, sizeof path, "/v1/artifacts/%s/signed-url", aid);
	j = call("GET", path, NULL, 200);
	ck_assert_str_eq(sky_json_str(j, "artifact_id"), aid);
	ck_assert(json_integer_value(json_object_get(j, "expires_at")) > 0);
	const char *su =
	    strstr(sky_json_str(j, "signed_url"), "/v1/artifacts/");
	skytest_hc_resp raw;
	ck_assert_int_eq(skytest_hc(srv.port, "GET", su, NULL, NULL, &raw), 0);
	ck_assert_int_eq(raw.status, 200);
	ck_assert_uint_gt(raw.body_len, 0);
	skytest_hc_free(&raw);
	json_decref(j);
	j = call("GET", "/v1/artifacts/a_404", NULL, 404);
	ck_assert_str_eq(sky_json_str(j, "detail"), "Artifact not found a_404");
	json_decref(j);
	/* A step's artifacts: only that step's, the one above among them. */
	snprintf(path, sizeof path, "/api/v1/tasks/%s/steps/%s/artifacts", id,
	         sid);
	j = call("GET", path, NULL, 200);
	int found = 0;
	ck_assert_uint_gt(json_array_size(j), 0);
	json_array_foreach (j, i, it) {
		ck_assert_str_eq(sky_json_str(it, "step_id"), sid);
		found |= skyx_str_eq(sky_json_str(it, "artifact_id"), aid);
	}
	ck_assert(found);
	size_t step_n = json_array_size(j);
	json_decref(j);
	snprintf(path, sizeof path, "/api/v1/step/%s/artifacts", sid);
	j = call("GET", path, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), step_n);
	json_decref(j);
	snprintf(path, sizeof path, "/api/v1/task/%s/artifacts", id);
	j = call("GET", path, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), json_array_size(all));
	json_decref(j);
	snprintf(path, sizeof path, "/api/v1/thought/%s/artifacts", id);
	j = call("GET", path, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
	j = call("GET", "/api/v1/planet/x/artifacts", NULL, 422);
	json_decref(j);
	json_decref(all);
	free(id);

	/* Pushed codes, newest first, filtered and limited. */
	json_decref(call("POST", "/v1/credentials/totp",
	                 "{\"totp_identifier\":\"a@x.com\",\"content\":"
	                 "\"111111\"}",
	                 200));
	json_decref(call("POST", "/v1/credentials/totp",
	                 "{\"totp_identifier\":\"b@x.com\",\"content\":"
	                 "\"222222\"}",
	                 200));
	json_decref(call("POST", "/v1/credentials/totp",
	                 "{\"totp_identifier\":\"a@x.com\",\"content\":"
	                 "\"333333\"}",
	                 200));
	j = call("GET", "/v1/credentials/totp", NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 3);
	ck_assert_str_eq(sky_json_str(json_array_get(j, 0), "code"), "333333");
	json_decref(j);
	j = call("GET", "/v1/credentials/totp?totp_identifier=a@x.com&limit=1",
	         NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 1);
	ck_assert_str_eq(sky_json_str(json_array_get(j, 0), "code"), "333333");
	json_decref(j);
	j = call("GET", "/v1/credentials/totp?limit=0", NULL, 422);
	json_decref(j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fields");
	TCase *tc = tcase_create("fields");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unhonoured_fields_are_refused);
	tcase_add_test(tc, model_is_mapped_to_the_configured_provider);
	tcase_add_test(tc, legacy_task_fields_reach_the_model);
	tcase_add_test(tc, artifacts_by_id_step_and_entity_and_totp_list);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
