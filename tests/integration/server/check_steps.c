/*
 * Steps as Skyvern records them, over real HTTP with real Chromium: a run
 * whose start URL does not open has that step, failed, holding the
 * goto_url action (Skyvern creates the step before it navigates); a task
 * v2 shows its start URL as a goto_url block of its timeline. And POST
 * /v1/run/tasks/download_files: the file is downloaded and listed in the
 * run's downloaded_files.
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
#include "util/hash.h"
#include "util/json.h"
#include <skyx/str.h>

#define KEY "steps-key-0123456789"
#define AUTH "x-api-key: " KEY "\r\n"
#define JSONH "content-type: application/json\r\n"

static skytest_server srv;
static char *dir;
static skytest_httpd *site;
static char dead[64]; /* a loopback URL nothing listens on */

static const char PDF[] = "%PDF-1.4\n1 0 obj <</Type/Catalog>> endobj\n"
                          "trailer <</Root 1 0 R>>\n%%EOF\n";

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
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
	if (!strcmp(req->path, "/"))
		skytest_resp_text(resp, 200, NULL,
		                  "<title>Reports</title><h1>Reports</h1>"
		                  "<p>Monthly figures.</p><a href="
		                  "'/files/report.pdf'>Download report</a>");
	else
		skytest_resp_text(resp, 404, "text/plain", "none");
}

static void setup(void)
{
	dir = skytest_tmpdir("steps");
	site = skytest_httpd_start(on_site, NULL);
	ck_assert_ptr_nonnull(site);
	/* A port that was just listening and is closed now. */
	skytest_httpd *gone = skytest_httpd_start(on_site, NULL);
	ck_assert_ptr_nonnull(gone);
	snprintf(dead, sizeof dead, "%s/", skytest_httpd_url(gone));
	skytest_httpd_stop(gone);
	const char *args[] = {"--api-key", KEY, NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	skytest_httpd_stop(site);
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
	ck_assert_msg(r.status == want_status, "%s %s: want %d got %d: %s",
	              method, path, want_status, r.status, r.body);
	json_t *j = json_loads(r.body, JSON_DECODE_ANY, NULL);
	skytest_hc_free(&r);
	return j;
}

static json_t *wait_final(const char *id)
{
	char path[160];
	snprintf(path, sizeof path, "/v1/runs/%s", id);
	for (int i = 0; i < 3000; i++) { /* the run's timeouts bound it */
		json_t *j = call("GET", path, NULL, 200);
		const char *st = sky_json_str(j, "status");
		if (strcmp(st, "created") && strcmp(st, "queued") &&
		    strcmp(st, "running"))
			return j;
		json_decref(j);
		usleep(100000);
	}
	ck_abort_msg("run %s never ended", id);
	return NULL;
}

/* The object has exactly these keys. */
static void assert_keys(const json_t *o, const char *const *keys)
{
	size_t n = 0;
	for (; keys[n]; n++)
		ck_assert_msg(json_object_get(o, keys[n]), "no key %s in %s",
		              keys[n], json_dumps(o, 0));
	ck_assert_msg(json_object_size(o) == n, "extra keys in %s",
	              json_dumps(o, 0));
}

/* Skyvern's Step as GET /api/v1/tasks/{id}/steps dumps it (None
 * excluded) for a step that made no model call. */
static const char *const step_keys[] = {"created_at",
                                        "modified_at",
                                        "task_id",
                                        "step_id",
                                        "status",
                                        "output",
                                        "order",
                                        "is_last",
                                        "retry_index",
                                        "organization_id",
                                        "input_token_count",
                                        "output_token_count",
                                        "step_cost",
                                        "is_speculative",
                                        NULL};

/* The one failed step of a run whose start URL did not open. */
static void assert_nav_step(const char *id)
{
	char path[160];
	snprintf(path, sizeof path, "/api/v1/tasks/%s/steps", id);
	json_t *steps = call("GET", path, NULL, 200);
	ck_assert_msg(json_array_size(steps) == 1, "steps: %s",
	              json_dumps(steps, 0));
	json_t *st = json_array_get(steps, 0);
	assert_keys(st, step_keys);
	ck_assert_str_eq(sky_json_str(st, "task_id"), id);
	ck_assert(skyx_str_startswith(sky_json_str(st, "step_id"), "stp_"));
	ck_assert_str_eq(sky_json_str(st, "status"), "failed");
	ck_assert_int_eq(sky_json_int(st, "order", -1), 0);
	ck_assert_int_eq(sky_json_int(st, "retry_index", -1), 0);
	ck_assert(json_is_false(json_object_get(st, "is_last")));
	ck_assert_int_eq(sky_json_int(st, "input_token_count", -1), 0);
	json_t *out = json_object_get(st, "output");
	ck_assert_str_eq(sky_json_str(out, "url"), dead);
	const char *err = json_string_value(
	    json_array_get(json_object_get(out, "errors"), 0));
	ck_assert_ptr_nonnull(err);
	ck_assert(skyx_str_startswith(err, "Failed to navigate to URL. URL:"));
	char *step_id = skyx_strdup(sky_json_str(st, "step_id"));
	json_decref(steps);

	snprintf(path, sizeof path, "/api/v1/tasks/%s/actions", id);
	json_t *acts = call("GET", path, NULL, 200);
	ck_assert_uint_eq(json_array_size(acts), 1);
	json_t *a = json_array_get(acts, 0);
	ck_assert_str_eq(sky_json_str(a, "action_type"), "goto_url");
	ck_assert_str_eq(sky_json_str(a, "status"), "failed");
	ck_assert_str_eq(sky_json_str(a, "step_id"), step_id);
	ck_assert_int_eq(sky_json_int(a, "step_order", -1), 0);
	json_decref(acts);
	free(step_id);
}

START_TEST(failed_first_navigation_keeps_its_step)
{
	/* Task v1, through the legacy route. */
	char *body = skyx_asprintf(
	    "{\"url\":\"%s\",\"navigation_goal\":\"Click Download\"}", dead);
	json_t *j = call("POST", "/api/v1/tasks", body, 200);
	char *id = skyx_strdup(sky_json_str(j, "task_id"));
	json_decref(j);
	free(body);
	j = wait_final(id);
	ck_assert_str_eq(sky_json_str(j, "status"), "failed");
	char *want =
	    skyx_asprintf("Failed to navigate to URL. URL:%s, Error:", dead);
	ck_assert_msg(
	    skyx_str_startswith(sky_json_str(j, "failure_reason"), want),
	    "failure_reason: %s", sky_json_str(j, "failure_reason"));
	json_decref(j);
	assert_nav_step(id);
	/* The task's step count says so too. */
	char path[160];
	snprintf(path, sizeof path, "/api/v1/tasks/%s", id);
	j = call("GET", path, NULL, 200);
	ck_assert_int_eq(sky_json_int(j, "step_count", -1), 1);
	json_decref(j);
	free(id);

	/* Task v2: the same step, shown as the goto_url block Skyvern's
	 * timeline has for the start URL. */
	body = skyx_asprintf("{\"prompt\":\"Download the report\",\"url\":"
	                     "\"%s\",\"engine\":\"skyvern-2.0\"}",
	                     dead);
	j = call("POST", "/v1/run/tasks", body, 200);
	id = skyx_strdup(sky_json_str(j, "run_id"));
	json_decref(j);
	free(body);
	j = wait_final(id);
	ck_assert_str_eq(sky_json_str(j, "status"), "failed");
	ck_assert(skyx_str_startswith(sky_json_str(j, "failure_reason"), want));
	json_decref(j);
	assert_nav_step(id);
	snprintf(path, sizeof path, "/v1/runs/%s/timeline", id);
	json_t *tl = call("GET", path, NULL, 200);
	ck_assert_msg(json_array_size(tl) == 1, "timeline: %s",
	              json_dumps(tl, 0));
	json_t *it = json_array_get(tl, 0);
	ck_assert_str_eq(sky_json_str(it, "type"), "block");
	ck_assert(json_is_null(json_object_get(it, "thought")));
	json_t *b = json_object_get(it, "block");
	static const char *const block_keys[] = {
	    "workflow_run_block_id",
	    "block_workflow_run_id",
	    "workflow_run_id",
	    "organization_id",
	    "description",
	    "parent_workflow_run_block_id",
	    "block_type",
	    "label",
	    "status",
	    "output",
	    "continue_on_failure",
	    "failure_reason",
	    "error_codes",
	    "engine",
	    "task_id",
	    "url",
	    "final_url",
	    "navigation_goal",
	    "navigation_payload",
	    "data_extraction_goal",
	    "data_schema",
	    "terminate_criterion",
	    "complete_criterion",
	    "actions",
	    "created_at",
	    "modified_at",
	    "include_action_history_in_verification",
	    "include_extracted_text",
	    "duration",
	    NULL};
	assert_keys(b, block_keys);
	ck_assert_str_eq(sky_json_str(b, "block_type"), "goto_url");
	ck_assert_str_eq(sky_json_str(b, "label"), "goto_url_1");
	ck_assert_str_eq(sky_json_str(b, "status"), "failed");
	ck_assert_str_eq(sky_json_str(b, "url"), dead);
	ck_assert_str_eq(sky_json_str(b, "workflow_run_id"), id);
	char *goal = skyx_asprintf("Go to this website: %s", dead);
	ck_assert_str_eq(sky_json_str(b, "description"), goal);
	free(goal);
	ck_assert(json_is_null(json_object_get(b, "navigation_goal")));
	ck_assert(skyx_str_startswith(sky_json_str(b, "failure_reason"), want));
	json_t *acts = json_object_get(b, "actions");
	ck_assert_uint_eq(json_array_size(acts), 1);
	ck_assert_str_eq(sky_json_str(json_array_get(acts, 0), "action_type"),
	                 "goto_url");
	json_decref(tl);
	free(want);
	free(id);
}
END_TEST

START_TEST(download_files_route)
{
	/* Skyvern's own 422 and our refusals first: nothing is stored. */
	json_t *j = call("POST", "/v1/run/tasks/download_files",
	                 "{\"url\":\"http://127.0.0.1:1/\"}", 422);
	json_t *item = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(sky_json_str(item, "type"), "missing");
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(item, "loc"), 1)),
	    "navigation_goal");
	json_decref(j);
	j = call("POST", "/v1/run/tasks/download_files",
	         "{\"navigation_goal\":\"Download it\",\"download_suffix\":"
	         "\"x.pdf\"}",
	         400);
	ck_assert(skyx_str_startswith(sky_json_str(j, "detail"),
	                              "download_suffix is not supported"));
	json_decref(j);
	j = call("POST", "/v1/run/tasks/download_files",
	         "{\"navigation_goal\":\"Download it\",\"download_timeout\":5}",
	         400);
	ck_assert(skyx_str_startswith(sky_json_str(j, "detail"),
	                              "download_timeout is not supported"));
	json_decref(j);
	j = call("GET", "/v1/runs?page_size=100", NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);

	char *body = skyx_asprintf("{\"navigation_goal\":\"Click Download "
	                           "report.\",\"url\":\"%s/\","
	                           "\"max_steps_per_run\":3}",
	                           skytest_httpd_url(site));
	j = call("POST", "/v1/run/tasks/download_files", body, 200);
	free(body);
	ck_assert_str_eq(sky_json_str(j, "run_type"), "task_v1");
	char *id = skyx_strdup(sky_json_str(j, "run_id"));
	ck_assert_str_eq(
	    sky_json_str(json_object_get(j, "run_request"), "prompt"),
	    "Click Download report.");
	ck_assert_int_eq(
	    sky_json_int(json_object_get(j, "run_request"), "max_steps", -1),
	    3);
	json_decref(j);
	j = wait_final(id);
	ck_assert_msg(!strcmp(sky_json_str(j, "status"), "completed"),
	              "run: %s", json_dumps(j, 0));
	json_t *files = json_object_get(j, "downloaded_files");
	ck_assert_msg(json_array_size(files) == 1, "downloaded_files: %s",
	              json_dumps(files, 0));
	json_t *f = json_array_get(files, 0);
	char hex[SKYX_SHA256_HEX_LEN];
	skyx_sha256_hex(PDF, sizeof PDF - 1, hex);
	ck_assert_str_eq(sky_json_str(f, "filename"), "report.pdf");
	ck_assert_str_eq(sky_json_str(f, "checksum"), hex);
	json_decref(j);
	free(id);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("steps");
	TCase *tc = tcase_create("steps");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, failed_first_navigation_keeps_its_step);
	tcase_add_test(tc, download_files_route);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
