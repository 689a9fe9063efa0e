/* Unit tests: the public run API on a real store, without executing runs
 * (no_execute): submit, validation errors, idempotency, get, lists,
 * cancel, wait, events, the data-dir lock. */
#include <pthread.h>
#include <skyengine.h>
#include <skyengine/run.h>
#include <string.h>

#include "skytest.h"
#include "util/fs.h"
#include "util/json.h"
#include <skyx/str.h>

static char *dir;
static sky_engine *eng;

static void setup(void)
{
	sky_engine_options o;
	ck_assert_int_ge(sky_global_init(), 1);
	dir = skytest_tmpdir("runs");
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = dir;
	o.no_execute = 1;
	o.config_json = "{\"server\":{\"public_url\":\"http://127.0.0.1:9\"}}";
	ck_assert_int_eq(sky_engine_new(&eng, &o), 0);
}

static void teardown(void)
{
	sky_engine_free(eng);
	eng = NULL;
	skyx_rm_rf(dir);
	free(dir);
	sky_global_shutdown();
}

static json_t *submit_ok(const char *body, const char *key)
{
	sky_submit_options so = SKY_SUBMIT_OPTIONS_INIT;
	char *out = NULL;
	int status = 0;
	so.idempotency_key = key;
	ck_assert_int_eq(
	    sky_tasks_api_run_submit(&out, &status, eng, NULL, body, &so), 0);
	ck_assert_int_eq(status, 200);
	json_t *j = sky_json_loads(out);
	ck_assert_ptr_nonnull(j);
	sky_free(out);
	return j;
}

START_TEST(submit_returns_the_contract_shape)
{
	json_t *r = submit_ok(
	    "{\"prompt\":\"Apply for a job on behalf of this person: name: "
	    "Chris P Bacon. email: chris@pbacon.com\",\"url\":"
	    "\"127.0.0.1:8080/apply\",\"data_extraction_schema\":"
	    "{\"application_success\":{\"type\":\"boolean\"}},"
	    "\"unknown_field\":1}",
	    NULL);
	static const char *keys[] = {"run_id",
	                             "status",
	                             "output",
	                             "downloaded_files",
	                             "recording_url",
	                             "recording_archived",
	                             "screenshot_urls",
	                             "failure_reason",
	                             "created_at",
	                             "modified_at",
	                             "queued_at",
	                             "started_at",
	                             "finished_at",
	                             "app_url",
	                             "browser_session_id",
	                             "browser_profile_id",
	                             "max_screenshot_scrolls",
	                             "script_run",
	                             "errors",
	                             "step_count",
	                             "run_type",
	                             "run_request"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		ck_assert_msg(json_object_get(r, keys[i]), "missing key %s",
		              keys[i]);
	ck_assert(skyx_str_startswith(sky_json_str(r, "run_id"), "tsk_v2_"));
	ck_assert_str_eq(sky_json_str(r, "status"), "created");
	ck_assert_str_eq(sky_json_str(r, "run_type"), "task_v2");
	ck_assert(json_is_null(json_object_get(r, "output")));
	/* Timestamps carry an explicit Z. */
	const char *c = sky_json_str(r, "created_at");
	ck_assert_int_eq(c[strlen(c) - 1], 'Z');
	/* The echo keeps the request, normalized. */
	json_t *rr = json_object_get(r, "run_request");
	ck_assert_str_eq(sky_json_str(rr, "url"),
	                 "https://127.0.0.1:8080/apply");
	ck_assert_str_eq(sky_json_str(rr, "engine"), "skyvern-2.0");
	/* The viewer link points at our server and is signed. */
	const char *app = sky_json_str(r, "app_url");
	ck_assert_msg(
	    skyx_str_startswith(app, "http://127.0.0.1:9/runs/tsk_v2_") &&
	        strstr(app, "signature="),
	    "%s", app);

	char *got = NULL;
	ck_assert_int_eq(
	    sky_tasks_api_run_get(&got, eng, NULL, sky_json_str(r, "run_id")),
	    0);
	json_t *g = sky_json_loads(got);
	ck_assert_str_eq(sky_json_str(g, "run_id"), sky_json_str(r, "run_id"));
	json_decref(g);
	sky_free(got);
	ck_assert_int_eq(sky_tasks_api_run_get(&got, eng, NULL, "tsk_404"),
	                 SKY_ENOTFOUND);
	json_decref(r);
}
END_TEST

START_TEST(validation_errors_have_the_api_shape)
{
	char *out = NULL;
	int status = 0;
	ck_assert_int_eq(sky_tasks_api_run_submit(&out, &status, eng, NULL,
	                                          "{\"url\":\"x.com\"}", NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(status, 422);
	json_t *j = sky_json_loads(out);
	json_t *d = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(sky_json_str(d, "type"), "missing");
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(d, "loc"), 1)),
	    "prompt");
	json_decref(j);
	sky_free(out);

	ck_assert_int_ne(sky_tasks_api_run_submit(&out, &status, eng, NULL,
	                                          "{\"prompt\":\"p\",\"url\":"
	                                          "\"ftp://x.com/a\"}",
	                                          NULL),
	                 0);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(out,
	                 "{\"detail\":\"Invalid URL: ftp://x.com/a. Skyvern "
	                 "supports HTTP and HTTPS urls with max 2083 "
	                 "character length.\"}");
	sky_free(out);

	ck_assert_int_ne(sky_tasks_api_run_submit(&out, &status, eng, NULL,
	                                          "{not json", NULL),
	                 0);
	ck_assert_int_eq(status, 422);
	ck_assert_ptr_nonnull(strstr(out, "json_invalid"));
	sky_free(out);

	ck_assert_int_eq(
	    sky_tasks_api_run_submit(&out, &status, eng, NULL,
	                             "{\"prompt\":\"p\","
	                             "\"browser_session_id\":\"pbs_1\"}",
	                             NULL),
	    SKY_ENOTFOUND);
	ck_assert_int_eq(status, 404);
	ck_assert_str_eq(out, "{\"detail\":\"Browser session pbs_1 does not "
	                      "exist or is not live.\"}");
	sky_free(out);
}
END_TEST

START_TEST(idempotency_key_returns_the_first_run)
{
	json_t *a = submit_ok("{\"prompt\":\"one\"}", "key-1");
	json_t *b = submit_ok("{\"prompt\":\"one\"}", "key-1");
	json_t *c = submit_ok("{\"prompt\":\"one\"}", "key-2");
	ck_assert_str_eq(sky_json_str(a, "run_id"), sky_json_str(b, "run_id"));
	ck_assert_str_ne(sky_json_str(a, "run_id"), sky_json_str(c, "run_id"));
	char *out = NULL;
	sky_list_options lo = SKY_LIST_OPTIONS_INIT;
	ck_assert_int_eq(sky_tasks_api_runs_list(&out, eng, NULL, &lo), 0);
	json_t *l = sky_json_loads(out);
	ck_assert_uint_eq(json_array_size(l), 2);
	json_decref(l);
	sky_free(out);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}
END_TEST

START_TEST(lists_page_filter_and_sort)
{
	char ids[12][64];
	for (int i = 0; i < 12; i++) {
		char body[128];
		snprintf(body, sizeof body,
		         "{\"prompt\":\"task %d\",\"engine\":\"%s\"}", i,
		         i % 3 ? "skyvern-1.0" : "skyvern-2.0");
		json_t *r = submit_ok(body, NULL);
		snprintf(ids[i], sizeof ids[i], "%s",
		         sky_json_str(r, "run_id"));
		json_decref(r);
	}
	/* /api/v1/tasks: v1 tasks only (8), newest first, 5 per page. */
	sky_list_options lo = SKY_LIST_OPTIONS_INIT;
	lo.page_size = 5;
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_tasks_list(&out, eng, NULL, &lo), 0);
	json_t *l = sky_json_loads(out);
	ck_assert_uint_eq(json_array_size(l), 5);
	ck_assert_str_eq(sky_json_str(json_array_get(l, 0), "task_id"),
	                 ids[11]);
	ck_assert_str_eq(
	    sky_json_str(json_object_get(json_array_get(l, 0), "request"),
	                 "navigation_goal"),
	    "task 11");
	json_decref(l);
	sky_free(out);
	lo.page = 2;
	ck_assert_int_eq(sky_tasks_api_tasks_list(&out, eng, NULL, &lo), 0);
	l = sky_json_loads(out);
	ck_assert_uint_eq(json_array_size(l), 3);
	json_decref(l);
	sky_free(out);
	/* Oldest first. */
	lo.page = 1;
	lo.ascending = 1;
	ck_assert_int_eq(sky_tasks_api_tasks_list(&out, eng, NULL, &lo), 0);
	l = sky_json_loads(out);
	ck_assert_str_eq(sky_json_str(json_array_get(l, 0), "task_id"), ids[1]);
	json_decref(l);
	sky_free(out);
	/* Status filter after a cancel. */
	ck_assert_int_eq(
	    sky_tasks_api_run_cancel(NULL, NULL, eng, NULL, ids[1]), 0);
	lo.statuses = "canceled";
	ck_assert_int_eq(sky_tasks_api_tasks_list(&out, eng, NULL, &lo), 0);
	l = sky_json_loads(out);
	ck_assert_uint_eq(json_array_size(l), 1);
	ck_assert_str_eq(sky_json_str(json_array_get(l, 0), "status"),
	                 "canceled");
	json_decref(l);
	sky_free(out);
	lo.statuses = "bogus";
	ck_assert_int_eq(sky_tasks_api_tasks_list(&out, eng, NULL, &lo),
	                 SKY_EINVALID);
	/* /v1/runs: both types, filter by type. */
	sky_list_options ro = SKY_LIST_OPTIONS_INIT;
	ro.page_size = 100;
	ro.run_types = "task_v2";
	ck_assert_int_eq(sky_tasks_api_runs_list(&out, eng, NULL, &ro), 0);
	l = sky_json_loads(out);
	ck_assert_uint_eq(json_array_size(l), 4);
	ck_assert_str_eq(sky_json_str(json_array_get(l, 0), "task_run_type"),
	                 "task_v2");
	json_decref(l);
	sky_free(out);
}
END_TEST

static int events_seen;
static char last_status[32];
static void on_event(const sky_event *ev, void *ud)
{
	(void)ud;
	if (ev->type == SKY_EVENT_RUN_STATUS) {
		__atomic_add_fetch(&events_seen, 1, __ATOMIC_SEQ_CST);
		snprintf(last_status, sizeof last_status, "%s", ev->status);
	}
}

START_TEST(cancel_rules_and_events)
{
	int sub = 0;
	ck_assert_int_eq(sky_engine_subscribe(&sub, eng, on_event, NULL), 0);
	ck_assert_int_gt(sub, 0);
	json_t *r = submit_ok("{\"prompt\":\"p\"}", NULL);
	const char *id = sky_json_str(r, "run_id");
	ck_assert_int_eq(events_seen, 1);
	ck_assert_str_eq(last_status, "created");

	char *err = NULL;
	int status = 0;
	ck_assert_int_eq(sky_tasks_api_run_cancel(&err, &status, eng, NULL, id),
	                 0);
	ck_assert_int_eq(status, 200);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(last_status, "canceled");

	ck_assert_int_eq(sky_tasks_api_run_cancel(&err, &status, eng, NULL, id),
	                 SKY_EINVALID);
	ck_assert_int_eq(status, 400);
	ck_assert_ptr_nonnull(strstr(err, "already canceled"));
	sky_free(err);

	ck_assert_int_eq(
	    sky_tasks_api_run_cancel(&err, &status, eng, NULL, "tsk_1"),
	    SKY_ENOTFOUND);
	ck_assert_int_eq(status, 404);
	ck_assert_str_eq(err, "{\"detail\":\"Run not found tsk_1\"}");
	sky_free(err);

	/* A final run: wait returns at once, with finished_at stamped. */
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_run_wait(&out, eng, NULL, id, 5000), 0);
	json_t *w = sky_json_loads(out);
	ck_assert_str_eq(sky_json_str(w, "status"), "canceled");
	ck_assert_ptr_nonnull(sky_json_str(w, "finished_at"));
	json_decref(w);
	sky_free(out);

	/* Steps of an unknown task: [] as the API answers. */
	ck_assert_int_eq(
	    sky_tasks_api_run_steps_list(&out, eng, NULL, "tsk_nope"), 0);
	ck_assert_str_eq(out, "[]");
	sky_free(out);

	sky_engine_unsubscribe(eng, sub);
	json_decref(submit_ok("{\"prompt\":\"q\"}", NULL));
	ck_assert_int_eq(events_seen, 2); /* unsubscribed: not counted */
	json_decref(r);
}
END_TEST

START_TEST(wait_times_out_on_a_run_nobody_executes)
{
	json_t *r = submit_ok("{\"prompt\":\"p\"}", NULL);
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_run_wait(&out, eng, NULL,
	                                        sky_json_str(r, "run_id"), 300),
	                 SKY_ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(out, "\"status\":\"created\""));
	sky_free(out);
	json_decref(r);
}
END_TEST

START_TEST(one_executing_engine_per_data_dir)
{
	sky_engine_options o;
	sky_engine *a = NULL, *b = NULL;
	char *d = skytest_tmpdir("lock");
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = d;
	o.workers = 1;
	ck_assert_int_eq(sky_engine_new(&a, &o), 0);
	ck_assert_int_eq(sky_engine_new(&b, &o), SKY_EBUSY);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "another engine"));
	sky_engine_free(a);
	/* Released with the first one. */
	ck_assert_int_eq(sky_engine_new(&b, &o), 0);
	sky_engine_free(b);
	skyx_rm_rf(d);
	free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runs");
	TCase *tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, submit_returns_the_contract_shape);
	tcase_add_test(tc, validation_errors_have_the_api_shape);
	tcase_add_test(tc, idempotency_key_returns_the_first_run);
	tcase_add_test(tc, lists_page_filter_and_sort);
	tcase_add_test(tc, cancel_rules_and_events);
	tcase_add_test(tc, wait_times_out_on_a_run_nobody_executes);
	tcase_add_test(tc, one_executing_engine_per_data_dir);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
