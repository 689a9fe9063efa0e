/*
 * The reference server over real HTTP on loopback, runs stored but not
 * executed (--no-execute): every route and error path of the Tasks API,
 * auth, paging, cancel, idempotency, body limits, webhooks on cancel with
 * signature checks and a failing first attempt, the viewer's signed
 * links, slow and broken clients, graceful SIGTERM.
 */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <skyengine.h>

#include "httpc.h"
#include "httpd.h"
#include "skytest.h"
#include "srvproc.h"
#include "util/fs.h"
#include "util/hash.h"
#include <skyx/str.h>

#define KEY "test-key-0123456789"
#define AUTH "x-api-key: " KEY "\r\n"
#define JSONH "content-type: application/json\r\n"

static skytest_server srv;
static char *dir;

/* --- a webhook receiver that fails its first delivery ------------------- */

typedef struct hook {
	pthread_mutex_t lock;
	int attempts;
	char body[65536];
	char signature[80];
	char timestamp[32];
} hook;
static hook hk = {PTHREAD_MUTEX_INITIALIZER, 0, "", "", ""};

static void on_hook(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&hk.lock);
	int n = ++hk.attempts;
	snprintf(hk.body, sizeof hk.body, "%s", req->body);
	const char *sig = skytest_req_header(req, "x-skyvern-signature");
	const char *ts = skytest_req_header(req, "x-skyvern-timestamp");
	snprintf(hk.signature, sizeof hk.signature, "%s", sig ? sig : "");
	snprintf(hk.timestamp, sizeof hk.timestamp, "%s", ts ? ts : "");
	pthread_mutex_unlock(&hk.lock);
	skytest_resp_text(resp, n == 1 ? 500 : 200, "application/json", "{}");
}

static void setup(void)
{
	dir = skytest_tmpdir("server");
	char *cfg = skyx_asprintf("%s/config.json", dir);
	const char *json = "{\"webhook\":{\"backoff_ms\":100,"
	                   "\"timeout_ms\":5000}}";
	sky_write_file(cfg, json, strlen(json));
	const char *args[] = {"--no-execute", "--api-key", KEY,
	                      "--config",     cfg,         NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
	free(cfg);
}

static void teardown(void)
{
	ck_assert_int_eq(skytest_server_stop(&srv), 0); /* graceful */
	free(srv.data_dir);
	free(srv.log_path);
	skyx_rm_rf(dir);
	free(dir);
}

static json_t *call(const char *method, const char *path, const char *hdrs,
                    const char *body, int want_status)
{
	skytest_hc_resp r;
	ck_assert_int_eq(skytest_hc(srv.port, method, path, hdrs, body, &r), 0);
	ck_assert_msg(r.status == want_status, "%s %s: want %d got %d: %s",
	              method, path, want_status, r.status, r.body);
	json_t *j = json_loads(r.body, JSON_DECODE_ANY, NULL);
	skytest_hc_free(&r);
	return j;
}

static const char *detail(json_t *j)
{
	return json_string_value(json_object_get(j, "detail"));
}

static char *submit(const char *body)
{
	json_t *j = call("POST", "/v1/run/tasks", AUTH JSONH, body, 200);
	char *id = skyx_strdup(json_string_value(json_object_get(j, "run_id")));
	json_decref(j);
	return id;
}

START_TEST(open_routes_and_auth)
{
	json_t *j = call("GET", "/api/v1/heartbeat", NULL, NULL, 200);
	json_decref(j);
	j = call("GET", "/openapi.json", NULL, NULL, 200);
	ck_assert_ptr_nonnull(
	    json_object_get(json_object_get(j, "paths"), "/v1/run/tasks"));
	/* Every route the server answers is described. */
	static const char *const described[][2] = {
	    {"/api/v1/tasks", "post"},
	    {"/api/v1/tasks/{task_id}", "get"},
	    {"/api/v1/tasks/{task_id}/cancel", "post"},
	    {"/api/v1/tasks/{task_id}/retry_webhook", "post"},
	    {"/api/v1/tasks/{task_id}/actions", "get"},
	    {"/api/v1/tasks/{task_id}/steps/{step_id}/artifacts", "get"},
	    {"/api/v1/{entity_type}/{entity_id}/artifacts", "get"},
	    {"/api/v1/runs", "get"},
	    {"/api/v2/tasks", "post"},
	    {"/api/v2/tasks/{task_id}", "get"},
	    {"/v1/artifacts/{artifact_id}", "get"},
	    {"/v1/artifacts/{artifact_id}/signed-url", "get"},
	    {"/v1/credentials/totp", "get"},
	    {"/v1/credentials", "post"},
	    {"/v1/credentials/{credential_id}/update", "post"},
	    {"/v1/run/tasks/login", "post"},
	    {"/v1/upload_file", "post"},
	    {"/api/v1/upload_file", "post"},
	    {"/v1/files/{file_id}", "delete"},
	    {"/v1/files/{file_id}/content", "get"},
	    {"/v1/runs/{run_id}/timeline", "get"},
	    {"/api/v1/version", "get"},
	    {"/api/v1/models", "get"},
	};
	for (size_t i = 0; i < sizeof described / sizeof *described; i++)
		ck_assert_msg(
		    json_object_get(json_object_get(json_object_get(j, "paths"),
		                                    described[i][0]),
		                    described[i][1]) != NULL,
		    "openapi.json lacks %s %s", described[i][1],
		    described[i][0]);
	json_decref(j);
	j = call("GET", "/v1/version", NULL, NULL, 403);
	ck_assert_str_eq(detail(j), "Invalid credentials");
	json_decref(j);
	j = call("GET", "/v1/version", "x-api-key: nope-nope-nope\r\n", NULL,
	         403);
	ck_assert_str_eq(detail(j), "Could not validate credentials");
	json_decref(j);
	j = call("GET", "/v1/version", "authorization: Bearer abc\r\n", NULL,
	         403);
	ck_assert_str_eq(detail(j), "Invalid authentication method");
	json_decref(j);
	j = call("GET", "/v1/version/", AUTH, NULL, 200); /* trailing slash */
	ck_assert_str_eq(json_string_value(json_object_get(j, "version")),
	                 sky_version());
	json_decref(j);
	/* The key never reaches the log. */
	char *log = skytest_server_log(&srv);
	ck_assert_ptr_null(strstr(log, KEY));
	free(log);
}
END_TEST

START_TEST(submit_get_and_errors)
{
	char *id = submit("{\"prompt\":\"Apply\",\"url\":\"http://127.0.0.1:1/"
	                  "a\",\"engine\":\"skyvern-1.0\"}");
	ck_assert(skyx_str_startswith(id, "tsk_"));
	char path[256];
	snprintf(path, sizeof path, "/v1/runs/%s", id);
	json_t *j = call("GET", path, AUTH, NULL, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")),
	                 "created");
	ck_assert_str_eq(json_string_value(json_object_get(j, "run_type")),
	                 "task_v1");
	json_decref(j);
	snprintf(path, sizeof path, "/v1/run/tasks/%s/", id);
	j = call("GET", path, AUTH, NULL, 200);
	json_decref(j);
	j = call("GET", "/v1/runs/tsk_123", AUTH, NULL, 404);
	ck_assert_str_eq(detail(j), "Task run not found tsk_123");
	json_decref(j);

	/* 422 missing prompt, 400 bad URL, 422 malformed JSON before auth. */
	j = call("POST", "/v1/run/tasks", AUTH JSONH, "{\"url\":\"a.com\"}",
	         422);
	json_t *d0 = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d0, "type")),
	                 "missing");
	json_decref(j);
	j = call("POST", "/v1/run/tasks", AUTH JSONH,
	         "{\"prompt\":\"p\",\"url\":\"javascript:alert(1)\"}", 400);
	ck_assert(skyx_str_startswith(detail(j), "Invalid URL: "));
	json_decref(j);
	j = call("POST", "/v1/run/tasks", JSONH, "{\"prompt\": ", 422);
	d0 = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d0, "type")),
	                 "json_invalid");
	json_decref(j);
	j = call("POST", "/v1/run/tasks", AUTH "content-type: text/plain\r\n",
	         "{\"prompt\":\"p\"}", 422);
	json_decref(j);
	/* Wrong method and unknown path. */
	skytest_hc_resp r;
	ck_assert_int_eq(skytest_hc(srv.port, "DELETE", path, AUTH, NULL, &r),
	                 0);
	ck_assert_int_eq(r.status, 405);
	char *allow = skytest_hc_header(&r, "allow");
	ck_assert_str_eq(allow, "GET");
	free(allow);
	skytest_hc_free(&r);
	j = call("GET", "/v2/nothing", AUTH, NULL, 404);
	ck_assert_str_eq(detail(j), "Not Found");
	json_decref(j);
	free(id);
}
END_TEST

START_TEST(bodies_headers_and_slow_clients)
{
	/* Over 1 MiB: 413 before the body is read. */
	size_t n = 1024 * 1024 + 10;
	char *big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	json_t *j = call("POST", "/v1/run/tasks", AUTH JSONH, big, 413);
	json_decref(j);
	free(big);
	/* Chunked bodies: 411. */
	const char *chunked =
	    "POST /v1/run/tasks HTTP/1.1\r\nHost: x\r\n" AUTH JSONH
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5\r\n{\"a\":\r\n0\r\n\r\n";
	skytest_hc_resp r;
	skytest_hc_raw(srv.port, chunked, strlen(chunked), 5000, &r);
	ck_assert_int_eq(r.status, 411);
	skytest_hc_free(&r);
	/* Headers over the limit: the connection is dropped, nothing else. */
	size_t hn = 40000;
	char *huge = malloc(hn + 200);
	int k =
	    snprintf(huge, 200, "GET /api/v1/heartbeat HTTP/1.1\r\nX-Big: ");
	memset(huge + k, 'b', hn);
	memcpy(huge + k + hn, "\r\n\r\n", 5);
	skytest_hc_raw(srv.port, huge, strlen(huge), 5000, &r);
	ck_assert_int_ne(r.status, 200);
	skytest_hc_free(&r);
	free(huge);
	/* A client that announces a body and stalls does not block others. */
	const char *half =
	    "POST /v1/run/tasks HTTP/1.1\r\nHost: x\r\n" AUTH JSONH
	    "Content-Length: 100\r\n\r\n{\"pro";
	skytest_hc_raw(srv.port, half, strlen(half), 200, &r);
	skytest_hc_free(&r);
	j = call("GET", "/api/v1/heartbeat", NULL, NULL, 200);
	json_decref(j);
}
END_TEST

START_TEST(lists_paging_cancel_idempotency)
{
	char *ids[5];
	for (int i = 0; i < 5; i++) {
		char body[96];
		snprintf(body, sizeof body,
		         "{\"prompt\":\"t%d\",\"engine\":\"skyvern-1.0\"}", i);
		ids[i] = submit(body);
	}
	json_t *j =
	    call("GET", "/api/v1/tasks?page=2&page_size=2", AUTH, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 2);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(j, 0), "task_id")),
	    ids[2]);
	json_decref(j);
	j = call("GET", "/api/v1/tasks?page=0", AUTH, NULL, 422);
	json_t *loc = json_object_get(
	    json_array_get(json_object_get(j, "detail"), 0), "loc");
	ck_assert_str_eq(json_string_value(json_array_get(loc, 0)), "query");
	ck_assert_str_eq(json_string_value(json_array_get(loc, 1)), "page");
	json_decref(j);
	j = call("GET", "/api/v1/tasks?task_status=nope", AUTH, NULL, 422);
	json_decref(j);
	j = call("GET", "/v1/runs?page_size=101", AUTH, NULL, 422);
	json_decref(j);
	j = call("GET", "/v1/runs?page=101", AUTH, NULL, 422);
	json_decref(j);
	j = call("GET", "/v1/runs?search_key=abc", AUTH, NULL, 400);
	ck_assert_str_eq(detail(j), "search_key is not supported by skyengine");
	json_decref(j);

	char path[256];
	snprintf(path, sizeof path, "/v1/runs/%s/cancel", ids[0]);
	j = call("POST", path, AUTH, NULL, 200);
	ck_assert(json_is_null(j));
	j = call("POST", path, AUTH, NULL, 400);
	ck_assert_ptr_nonnull(strstr(detail(j), "already canceled"));
	json_decref(j);
	j = call("POST", "/v1/runs/tsk_9/cancel", AUTH, NULL, 404);
	ck_assert_str_eq(detail(j), "Run not found tsk_9");
	json_decref(j);
	j = call("GET", "/api/v1/tasks?task_status=canceled", AUTH, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 1);
	json_decref(j);
	char body[256];
	snprintf(body, sizeof body, "{\"run_ids\":[\"%s\",\"%s\",\"tsk_0\"]}",
	         ids[1], ids[0]);
	j = call("POST", "/v1/runs/cancel", AUTH JSONH, body, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "cancelled")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "failed")), 2);
	json_decref(j);

	/* A client's retry with the same Idempotency-Key: one run. */
	json_t *a = call("POST", "/v1/run/tasks",
	                 AUTH JSONH "Idempotency-Key: k-42\r\n",
	                 "{\"prompt\":\"once\"}", 200);
	json_t *b = call("POST", "/v1/run/tasks",
	                 AUTH JSONH "Idempotency-Key: k-42\r\n",
	                 "{\"prompt\":\"once\"}", 200);
	ck_assert_str_eq(json_string_value(json_object_get(a, "run_id")),
	                 json_string_value(json_object_get(b, "run_id")));
	json_decref(a);
	json_decref(b);

	snprintf(path, sizeof path, "/api/v1/tasks/%s/steps", ids[3]);
	j = call("GET", path, AUTH, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
	j = call("GET", "/api/v1/tasks/tsk_404/steps", AUTH, NULL, 200);
	ck_assert(json_is_array(j));
	json_decref(j);
	for (int i = 0; i < 5; i++)
		free(ids[i]);
}
END_TEST

/* Skyvern's legacy task routes: shapes, errors and 404 texts. */
START_TEST(legacy_task_routes)
{
	/* POST /api/v1/tasks: a TaskRequest; the answer is {"task_id"}. */
	json_t *j = call("POST", "/api/v1/tasks", AUTH JSONH,
	                 "{\"navigation_goal\":\"x\"}", 422);
	json_t *d0 = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d0, "type")),
	                 "missing");
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(d0, "loc"), 1)),
	    "url");
	json_decref(j);
	j = call("POST", "/api/v1/tasks", AUTH JSONH,
	         "{\"url\":\"http://127.0.0.1:1/\",\"navigation_goal\":5}",
	         422);
	d0 = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(d0, "loc"), 1)),
	    "navigation_goal");
	json_decref(j);
	j = call("POST", "/api/v1/tasks", AUTH JSONH,
	         "{\"url\":\"http://127.0.0.1:1/\",\"task_type\":"
	         "\"validation\"}",
	         400);
	ck_assert_str_eq(detail(j),
	                 "task_type validation and action are not "
	                 "supported by skyengine: tasks are general");
	json_decref(j);
	j = call("POST", "/api/v1/tasks",
	         AUTH JSONH "x-max-steps-override: many\r\n",
	         "{\"url\":\"http://127.0.0.1:1/\"}", 422);
	json_decref(j);
	const char *legacy =
	    "{\"url\":\"http://127.0.0.1:1/jobs\",\"navigation_goal\":"
	    "\"Apply\",\"data_extraction_goal\":\"the confirmation number\","
	    "\"navigation_payload\":{\"name\":\"Chris\"},"
	    "\"complete_criterion\":\"a thank-you page shows\","
	    "\"terminate_criterion\":\"the job is closed\","
	    "\"application\":\"crm\",\"webhook_callback_url\":null,"
	    "\"extracted_information_schema\":{\"n\":{\"type\":\"string\"}}}";
	j = call("POST", "/api/v1/tasks",
	         AUTH JSONH "x-max-steps-override: 3\r\n", legacy, 200);
	ck_assert_uint_eq(json_object_size(j), 1);
	char *id =
	    skyx_strdup(json_string_value(json_object_get(j, "task_id")));
	ck_assert(skyx_str_startswith(id, "tsk_") &&
	          !skyx_str_startswith(id, "tsk_v2_"));
	json_decref(j);

	/* GET /api/v1/tasks/{id}: TaskResponse, not the run shape. */
	char path[256];
	snprintf(path, sizeof path, "/api/v1/tasks/%s", id);
	j = call("GET", path, AUTH, NULL, 200);
	ck_assert_ptr_null(json_object_get(j, "run_id"));
	ck_assert_str_eq(json_string_value(json_object_get(j, "task_id")), id);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(j, "max_steps_per_run")), 3);
	json_t *rq = json_object_get(j, "request");
	ck_assert_str_eq(
	    json_string_value(json_object_get(rq, "navigation_goal")), "Apply");
	ck_assert_str_eq(
	    json_string_value(json_object_get(rq, "data_extraction_goal")),
	    "the confirmation number");
	ck_assert_str_eq(
	    json_string_value(json_object_get(rq, "complete_criterion")),
	    "a thank-you page shows");
	ck_assert_str_eq(
	    json_string_value(json_object_get(rq, "terminate_criterion")),
	    "the job is closed");
	ck_assert_str_eq(json_string_value(json_object_get(rq, "application")),
	                 "crm");
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_object_get(rq, "navigation_payload"), "name")),
	    "Chris");
	json_decref(j);
	j = call("GET", "/api/v1/tasks/tsk_404", AUTH, NULL, 404);
	ck_assert_str_eq(detail(j), "Task tsk_404 not found");
	json_decref(j);
	/* application filters the list. */
	j = call("GET", "/api/v1/tasks?application=crm", AUTH, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 1);
	json_decref(j);
	j = call("GET", "/api/v1/tasks?application=erp", AUTH, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
	/* actions: none yet (runs are not executed here); unknown: []. */
	snprintf(path, sizeof path, "/api/v1/tasks/%s/actions", id);
	j = call("GET", path, AUTH, NULL, 200);
	ck_assert(json_is_array(j) && json_array_size(j) == 0);
	json_decref(j);
	j = call("GET", "/api/v1/tasks/tsk_404/actions", AUTH, NULL, 200);
	ck_assert(json_is_array(j));
	json_decref(j);
	/* retry_webhook answers the task; cancel as Skyvern's. */
	snprintf(path, sizeof path, "/api/v1/tasks/%s/retry_webhook", id);
	j = call("POST", path, AUTH, NULL, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "task_id")), id);
	json_decref(j);
	j = call("POST", "/api/v1/tasks/tsk_404/retry_webhook", AUTH, NULL,
	         404);
	ck_assert_str_eq(detail(j), "Task not found tsk_404");
	json_decref(j);
	snprintf(path, sizeof path, "/api/v1/tasks/%s/cancel", id);
	j = call("POST", path, AUTH, NULL, 200);
	ck_assert(json_is_null(j));
	j = call("POST", path, AUTH, NULL, 400);
	ck_assert_ptr_nonnull(strstr(detail(j), "already canceled"));
	json_decref(j);
	j = call("POST", "/api/v1/tasks/tsk_404/cancel", AUTH, NULL, 404);
	ck_assert_str_eq(detail(j), "Task not found tsk_404");
	json_decref(j);

	/* /api/v2/tasks: a TaskV2Request in, the TaskV2 out. */
	j = call("POST", "/api/v2/tasks", AUTH JSONH, "{\"url\":\"a.com\"}",
	         422);
	d0 = json_array_get(json_object_get(j, "detail"), 0);
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(d0, "loc"), 1)),
	    "user_prompt");
	json_decref(j);
	j = call("POST", "/api/v2/tasks", AUTH JSONH,
	         "{\"user_prompt\":\"Find the price\",\"url\":"
	         "\"http://127.0.0.1:1/shop\",\"extracted_information_schema\":"
	         "{\"price\":{\"type\":\"number\"}}}",
	         200);
	char *v2 =
	    skyx_strdup(json_string_value(json_object_get(j, "task_id")));
	ck_assert(skyx_str_startswith(v2, "tsk_v2_"));
	ck_assert_str_eq(json_string_value(json_object_get(j, "prompt")),
	                 "Find the price");
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")),
	                 "created");
	ck_assert_ptr_nonnull(json_object_get(
	    json_object_get(j, "extracted_information_schema"), "price"));
	json_decref(j);
	snprintf(path, sizeof path, "/api/v2/tasks/%s", v2);
	j = call("GET", path, AUTH, NULL, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "task_id")), v2);
	json_decref(j);
	snprintf(path, sizeof path, "/api/v2/tasks/%s", id);
	j = call("GET", path, AUTH, NULL, 404);
	char want[128];
	snprintf(want, sizeof want, "Task v2 %s not found", id);
	ck_assert_str_eq(detail(j), want);
	json_decref(j);
	snprintf(path, sizeof path, "/api/v1/tasks/%s", v2);
	j = call("GET", path, AUTH, NULL, 404); /* not a task v1 */
	json_decref(j);
	j = call("POST", "/api/v2/tasks",
	         AUTH JSONH "x-max-iterations-override: 3\r\n",
	         "{\"user_prompt\":\"p\"}", 400);
	json_decref(j);

	/* /api/v1/runs: the task (Task) and the task v2 (WorkflowRun). */
	j = call("GET", "/api/v1/runs?page_size=100", AUTH, NULL, 200);
	int seen_v1 = 0, seen_v2 = 0;
	size_t i;
	json_t *it;
	json_array_foreach (j, i, it) {
		seen_v1 |= skyx_str_eq(
		    json_string_value(json_object_get(it, "task_id")), id);
		seen_v2 |= skyx_str_eq(
		    json_string_value(json_object_get(it, "workflow_run_id")),
		    v2);
	}
	ck_assert(seen_v1 && seen_v2);
	json_decref(j);
	j = call("GET", "/api/v1/runs?page=11", AUTH, NULL, 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);

	/* Bulk cancel: run ids in both lists, a repeated id tried once. */
	char body[256];
	snprintf(body, sizeof body, "{\"run_ids\":[\"%s\",\"%s\",\"%s\"]}", v2,
	         v2, id);
	j = call("POST", "/v1/runs/cancel", AUTH JSONH, body, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "cancelled")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(j, "cancelled"), 0)),
	                 v2);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "failed")), 1);
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(j, "failed"), 0)),
	    id); /* canceled already */
	json_decref(j);
	free(v2);
	free(id);
}
END_TEST

/* POST a multipart form with a file of `len` bytes (and retention_days
 * when non-NULL); the response in *r. */
static void upload(const char *data, size_t len, const char *retention,
                   skytest_hc_resp *r)
{
	skyx_buf form = {0}, req = {0};
	const char *bd = "xYzBoundary42";
	if (retention)
		skyx_buf_printf(&form,
		                "--%s\r\nContent-Disposition: form-data; "
		                "name=\"retention_days\"\r\n\r\n%s\r\n",
		                bd, retention);
	skyx_buf_printf(
	    &form,
	    "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
	    "filename=\"my resume.pdf\"\r\nContent-Type: "
	    "application/pdf\r\n\r\n",
	    bd);
	skyx_buf_append(&form, data, len);
	skyx_buf_printf(&form, "\r\n--%s--\r\n", bd);
	skyx_buf_printf(&req,
	                "POST /v1/upload_file HTTP/1.1\r\nHost: x\r\n" AUTH
	                "Content-Type: multipart/form-data; boundary=%s\r\n"
	                "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	                bd, form.len);
	skyx_buf_append(&req, form.data, form.len);
	ck_assert_int_eq(skytest_hc_raw(srv.port, req.data, req.len, 30000, r),
	                 0);
	skyx_buf_free(&form);
	skyx_buf_free(&req);
}

START_TEST(upload_and_delete_files)
{
	/* Bytes a naive parser would trip on: NULs, CRLFs, a fake delimiter. */
	static const char content[] = "%PDF-1.4\r\n\0\x01\xff--xYzBoundary4\r\n"
	                              "end";
	size_t clen = sizeof content - 1;
	skytest_hc_resp r;
	upload(content, clen, NULL, &r);
	ck_assert_msg(r.status == 200, "upload: %d %s", r.status, r.body);
	json_t *j = json_loads(r.body, 0, NULL);
	skytest_hc_free(&r);
	const char *fid = json_string_value(json_object_get(j, "file_id"));
	ck_assert(skyx_str_startswith(fid, "file_"));
	ck_assert(skyx_str_startswith(
	    json_string_value(json_object_get(j, "s3_uri")), "file://"));
	ck_assert(json_is_null(json_object_get(j, "expires_at")));
	/* The presigned URL needs no key and gives back the very bytes. */
	const char *url =
	    json_string_value(json_object_get(j, "presigned_url"));
	const char *path = strstr(url, "/v1/files/");
	ck_assert_ptr_nonnull(path);
	ck_assert_int_eq(skytest_hc(srv.port, "GET", path, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, clen);
	ck_assert(!memcmp(r.body, content, clen));
	char *cd = skytest_hc_header(&r, "content-disposition");
	ck_assert_str_eq(cd, "attachment; filename=\"my resume.pdf\"");
	free(cd);
	skytest_hc_free(&r);
	char del[128];
	snprintf(del, sizeof del, "/v1/files/%s", fid);
	ck_assert_int_eq(skytest_hc(srv.port, "DELETE", del, AUTH, NULL, &r),
	                 0);
	ck_assert_int_eq(r.status, 204);
	ck_assert_uint_eq(r.body_len, 0);
	skytest_hc_free(&r);
	ck_assert_int_eq(skytest_hc(srv.port, "GET", path, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 404);
	skytest_hc_free(&r);
	json_t *d = call("DELETE", del, AUTH, NULL, 404);
	char want[96];
	snprintf(want, sizeof want, "File %s not found", fid);
	ck_assert_str_eq(detail(d), want);
	json_decref(d);
	json_decref(j);

	/* retention_days: 1..365, else 422; with it, an expiry. */
	upload("x", 1, "0", &r);
	ck_assert_int_eq(r.status, 422);
	skytest_hc_free(&r);
	upload("x", 1, "30", &r);
	ck_assert_int_eq(r.status, 200);
	j = json_loads(r.body, 0, NULL);
	ck_assert(json_is_string(json_object_get(j, "expires_at")));
	json_decref(j);
	skytest_hc_free(&r);
	/* Files over the JSON body limit (1 MiB) are fine up to 10 MiB. */
	size_t big = 3 * 1024 * 1024;
	char *buf = malloc(big);
	memset(buf, 'b', big);
	upload(buf, big, NULL, &r);
	ck_assert_msg(r.status == 200, "3 MiB upload: %d %s", r.status, r.body);
	skytest_hc_free(&r);
	free(buf);
	/* No file field: FastAPI's 422. */
	d = call("POST", "/v1/upload_file", AUTH JSONH, "{}", 422);
	json_t *d0 = json_array_get(json_object_get(d, "detail"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d0, "type")),
	                 "missing");
	json_decref(d);
}
END_TEST

START_TEST(webhook_on_cancel_is_signed_and_retried)
{
	skytest_httpd *recv = skytest_httpd_start(on_hook, NULL);
	char body[512];
	snprintf(body, sizeof body,
	         "{\"prompt\":\"p\",\"engine\":\"skyvern-1.0\","
	         "\"webhook_url\":\"%s/hook\"}",
	         skytest_httpd_url(recv));
	char *id = submit(body);
	char path[256];
	snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
	json_decref(call("POST", path, AUTH, NULL, 200));
	/* First attempt answers 500; the retry comes after the backoff. */
	for (int i = 0; i < 600; i++) { /* up to 30 s on a loaded machine */
		pthread_mutex_lock(&hk.lock);
		int n = hk.attempts;
		pthread_mutex_unlock(&hk.lock);
		if (n >= 2)
			break;
		usleep(50000);
	}
	pthread_mutex_lock(&hk.lock);
	ck_assert_int_eq(hk.attempts, 2);
	char want[SKYX_SHA256_HEX_LEN];
	skyx_hmac_sha256_hex(KEY, strlen(KEY), hk.body, strlen(hk.body), want);
	ck_assert_str_eq(hk.signature, want);
	ck_assert_int_gt(atol(hk.timestamp), 1700000000);
	json_t *p = json_loads(hk.body, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(p, "status")),
	                 "canceled");
	ck_assert_str_eq(json_string_value(json_object_get(p, "run_id")), id);
	json_decref(p);
	pthread_mutex_unlock(&hk.lock);
	/* The delivery succeeded: no failure recorded. */
	snprintf(path, sizeof path, "/api/v1/tasks?task_status=canceled");
	json_t *l = call("GET", path, AUTH, NULL, 200);
	ck_assert(json_is_null(
	    json_object_get(json_array_get(l, 0), "webhook_failure_reason")));
	json_decref(l);
	/* Replay on demand. */
	snprintf(path, sizeof path, "/v1/runs/%s/retry_webhook", id);
	json_t *rep = call("POST", path, AUTH, NULL, 200);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(rep, "status_code")), 200);
	json_decref(rep);
	ck_assert_int_eq(hk.attempts, 3);
	skytest_httpd_stop(recv);
	free(id);
}
END_TEST

START_TEST(viewer_signed_links)
{
	char *id = submit("{\"prompt\":\"show me\"}");
	char path[256];
	snprintf(path, sizeof path, "/v1/runs/%s", id);
	json_t *run = call("GET", path, AUTH, NULL, 200);
	const char *app = json_string_value(json_object_get(run, "app_url"));
	ck_assert_ptr_nonnull(app);
	const char *rel = strstr(app + strlen("http://"), "/");
	/* The signed link works without a key... */
	skytest_hc_resp r;
	ck_assert_int_eq(skytest_hc(srv.port, "GET", rel, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, id));
	ck_assert_ptr_nonnull(strstr(r.body, "show me"));
	skytest_hc_free(&r);
	/* ...a tampered one does not... */
	char *bad = skyx_strdup(rel);
	char *sig = strstr(bad, "signature=") + 10;
	sig[0] = sig[0] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(skytest_hc(srv.port, "GET", bad, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 403);
	skytest_hc_free(&r);
	free(bad);
	/* ...and without a signature the key is required. */
	snprintf(path, sizeof path, "/runs/%s", id);
	ck_assert_int_eq(skytest_hc(srv.port, "GET", path, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 403);
	skytest_hc_free(&r);
	ck_assert_int_eq(skytest_hc(srv.port, "GET", path, AUTH, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	skytest_hc_free(&r);
	json_decref(run);
	free(id);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("api");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_routes_and_auth);
	tcase_add_test(tc, submit_get_and_errors);
	tcase_add_test(tc, bodies_headers_and_slow_clients);
	tcase_add_test(tc, lists_paging_cancel_idempotency);
	tcase_add_test(tc, legacy_task_routes);
	tcase_add_test(tc, upload_and_delete_files);
	tcase_add_test(tc, webhook_on_cancel_is_signed_and_retried);
	tcase_add_test(tc, viewer_signed_links);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
