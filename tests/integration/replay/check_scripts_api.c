/*
 * The scripts routes over HTTP (docs/replay.md, docs/server.md): a
 * completed run leaves a script; GET /v1/scripts lists it, GET
 * /v1/scripts/{id} shows its plan, /versions its versions; another
 * organization sees none of it (404 as unknown); DELETE removes it (204,
 * then 404), and the next run_with "code" finds no plan: the agent runs
 * and records a new one. A publish_workflow run's plan is keyed by its
 * workflow, and a POST /v1/run/workflows with run_with "code" and a new
 * payload replays it.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <skyengine.h>

#include "../reliability/rel.h"
#include "util/fs.h"
#include "httpd.h"
#include "sites.h"

#define KEY_B "replay-tenant-b-key-0123456789"
#define AUTH_B "x-api-key: " KEY_B "\r\n"

static const char FORM[] =
    "<!doctype html><title>Join</title><h1>Join the club</h1>"
    "<form method=post action=/joined><label>Full name <input "
    "name=full_name></label><label>Email <input name=email "
    "type=email></label><button>Join</button></form>";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char last_body[1024];

static void on_page(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (!strcmp(req->method, "POST")) {
		pthread_mutex_lock(&lock);
		snprintf(last_body, sizeof last_body, "%s", req->body);
		pthread_mutex_unlock(&lock);
		skytest_resp_text(resp, 200, NULL,
		                  "<!doctype html><title>Welcome</title>"
		                  "<h1>Welcome to the club!</h1>");
		return;
	}
	skytest_resp_text(resp, 200, NULL, FORM);
}

static int has_body(const char *part)
{
	pthread_mutex_lock(&lock);
	int yes = strstr(last_body, part) != NULL;
	pthread_mutex_unlock(&lock);
	return yes;
}

static json_t *wait_run(int port, const char *id)
{
	json_t *out[1];
	char *ids[1] = {(char *)id};
	ck_assert_int_eq(rel_wait_all(port, ids, 1, 120000, out), 1);
	return out[0];
}

static json_t *get(int port, const char *auth, const char *path, int want)
{
	json_t *j = NULL;
	int st = rel_call(port, "GET", path, auth, NULL, &j);
	ck_assert_msg(st == want, "GET %s: %d (want %d)", path, st, want);
	return j;
}

START_TEST(scripts_routes)
{
	char *dir = skytest_tmpdir("scripts-api");
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
	skytest_httpd *site = skytest_httpd_start(on_page, NULL);
	const char *args[] = {"--api-key", REL_KEY, NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, data, args), 0);
	int port = srv.port;

	/* Nothing yet. */
	json_t *j = get(port, REL_AUTH, "/v1/scripts", 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
	j = get(port, REL_AUTH, "/v1/scripts/s_nope", 404);
	ck_assert_str_eq(rel_str(j, "detail"), "Script not found s_nope");
	json_decref(j);

	char *body = skyx_asprintf(
	    "{\"prompt\":\"Join the club with the details given.\","
	    "\"url\":\"%s/\",\"engine\":\"skyvern-1.0\","
	    "\"navigation_payload\":{\"full_name\":\"Ada Lovelace\","
	    "\"email\":\"ada@example.org\"}}",
	    skytest_httpd_url(site));
	char *id = rel_submit(port, body);
	j = wait_run(port, id);
	ck_assert_str_eq(rel_str(j, "status"), "completed");
	ck_assert(json_is_null(json_object_get(j, "script_run")));
	json_decref(j);
	free(id);

	j = get(port, REL_AUTH, "/v1/scripts", 200);
	ck_assert_uint_eq(json_array_size(j), 1);
	json_t *s0 = json_array_get(j, 0);
	char *sid = skyx_strdup(rel_str(s0, "script_id"));
	ck_assert(!strncmp(sid, "s_", 2));
	ck_assert_int_eq(json_integer_value(json_object_get(s0, "version")), 1);
	ck_assert_ptr_nonnull(rel_str(s0, "script_revision_id"));
	ck_assert(json_is_null(json_object_get(s0, "deleted_at")));
	json_decref(j);

	char path[256];
	snprintf(path, sizeof path, "/v1/scripts/%s", sid);
	j = get(port, REL_AUTH, path, 200);
	ck_assert(json_is_object(json_object_get(j, "plan")));
	ck_assert_str_eq(rel_str(j, "goal_template"),
	                 "Join the club with the details given.");
	json_decref(j);
	/* Another organization: as if it did not exist. */
	j = get(port, AUTH_B, path, 404);
	json_decref(j);
	j = get(port, AUTH_B, "/v1/scripts", 200);
	ck_assert_uint_eq(json_array_size(j), 0);
	json_decref(j);
	ck_assert_int_eq(rel_call(port, "DELETE", path, AUTH_B, NULL, NULL),
	                 404);
	snprintf(path, sizeof path, "/v1/scripts/%s/versions", sid);
	j = get(port, REL_AUTH, path, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "versions")), 1);
	json_decref(j);

	/* Replay over HTTP with another person. */
	char *body2 = skyx_asprintf(
	    "{\"prompt\":\"Join the club with the details given.\","
	    "\"url\":\"%s/\",\"engine\":\"skyvern-1.0\",\"run_with\":"
	    "\"code\",\"navigation_payload\":{\"full_name\":\"Grace "
	    "Hopper\",\"email\":\"grace@example.org\"}}",
	    skytest_httpd_url(site));
	id = rel_submit(port, body2);
	j = wait_run(port, id);
	ck_assert_str_eq(rel_str(j, "status"), "completed");
	json_t *sr = json_object_get(j, "script_run");
	ck_assert(json_is_false(json_object_get(sr, "ai_fallback_triggered")));
	ck_assert_str_eq(rel_str(sr, "script_id"), sid);
	ck_assert(has_body("grace%40example.org"));
	json_decref(j);
	free(id);

	/* Deleted: 204, then gone, and the next code run records anew. */
	snprintf(path, sizeof path, "/v1/scripts/%s", sid);
	ck_assert_int_eq(rel_call(port, "DELETE", path, REL_AUTH, NULL, NULL),
	                 204);
	j = get(port, REL_AUTH, path, 404);
	json_decref(j);
	ck_assert_int_eq(rel_call(port, "DELETE", path, REL_AUTH, NULL, NULL),
	                 404);
	id = rel_submit(port, body2);
	j = wait_run(port, id);
	ck_assert_str_eq(rel_str(j, "status"), "completed");
	sr = json_object_get(j, "script_run");
	ck_assert(json_is_null(json_object_get(sr, "script_id")));
	json_decref(j);
	free(id);
	j = get(port, REL_AUTH, "/v1/scripts", 200);
	ck_assert_uint_eq(json_array_size(j), 1);
	ck_assert_str_ne(rel_str(json_array_get(j, 0), "script_id"), sid);
	json_decref(j);

	/* A published workflow: its plan is keyed by the workflow, and a
	 * workflow run with run_with code replays it with new values. */
	char *pub = skyx_asprintf(
	    "{\"prompt\":\"Sign up for the club newsletter using the "
	    "payload.\",\"url\":\"%s/\",\"publish_workflow\":true,"
	    "\"navigation_payload\":{\"full_name\":\"Alan Turing\","
	    "\"email\":\"alan@example.org\"}}",
	    skytest_httpd_url(site));
	id = rel_submit(port, pub);
	j = wait_run(port, id);
	ck_assert_str_eq(rel_str(j, "status"), "completed");
	char *wpid = skyx_strdup(rel_str(j, "workflow_permanent_id"));
	ck_assert_ptr_nonnull(wpid);
	json_decref(j);
	free(id);
	j = get(port, REL_AUTH, "/v1/scripts", 200);
	int keyed = 0;
	size_t i;
	json_t *it;
	json_array_foreach (j, i, it)
		keyed |= !strcmp(rel_str(it, "cache_key"), wpid);
	ck_assert_msg(keyed, "no script keyed by %s", wpid);
	json_decref(j);
	char *wbody = skyx_asprintf(
	    "{\"workflow_id\":\"%s\",\"overrides\":{\"run_with\":\"code\","
	    "\"navigation_payload\":{\"full_name\":\"Edsger Dijkstra\","
	    "\"email\":\"edsger@example.org\"}}}",
	    wpid);
	json_t *w = NULL;
	ck_assert_int_eq(rel_call(port, "POST", "/v1/run/workflows",
	                          REL_AUTH REL_JSONH, wbody, &w),
	                 200);
	id = skyx_strdup(rel_str(w, "run_id"));
	json_decref(w);
	j = wait_run(port, id);
	ck_assert_str_eq(rel_str(j, "status"), "completed");
	sr = json_object_get(j, "script_run");
	ck_assert_msg(json_is_string(json_object_get(sr, "script_id")),
	              "the workflow run found no plan");
	ck_assert(json_is_false(json_object_get(sr, "ai_fallback_triggered")));
	ck_assert(has_body("edsger%40example.org"));
	json_decref(j);
	free(id);

	free(wbody);
	free(pub);
	free(wpid);
	free(body);
	free(body2);
	free(sid);
	skytest_server_stop(&srv);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(site);
	skyx_rm_rf(dir);
	free(data);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scripts_api");
	TCase *tc = tcase_create("http");
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc, scripts_routes);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
