/*
 * The agent end to end: real Chromium, the real store, fixture pages on
 * loopback, and the llm-replay plugin answering from scripted JSONL (the
 * only test double: the model). Each test grades by what the site
 * received and what the store says, not by the engine's own claim.
 */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <skyengine.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpd.h"
#include "skybrowser.h"
#include "skytest.h"
#include "util/fs.h"
#include <skyx/str.h>

/* --- the fixture site ---------------------------------------------------- */

typedef struct site {
	skytest_httpd *h;
	char *root;
	pthread_mutex_t lock;
	json_t *posts;  /* bodies POSTed to /submit */
	json_t *visits; /* [{"run": k, "cookie": "..."}] for /visit */
	int visitors;
} site;

static site S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void handler(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	if (!strcmp(req->method, "POST") && !strcmp(req->path, "/submit")) {
		pthread_mutex_lock(&S.lock);
		json_array_append_new(S.posts, json_string(req->body));
		pthread_mutex_unlock(&S.lock);
		skytest_resp_file(resp, S.root, "/thanks.html");
		return;
	}
	if (!strcmp(req->path, "/visit")) {
		/* Each context gets its own visitor cookie on its first
		 * visit; a second visit must bring back only its own. */
		const char *cookie = skytest_req_header(req, "cookie");
		char *run = skytest_req_query(req, "run");
		pthread_mutex_lock(&S.lock);
		json_array_append_new(
		    S.visits, json_pack("{s:s, s:s}", "run", run ? run : "?",
		                        "cookie", cookie ? cookie : ""));
		if (!cookie) {
			char set[64];
			snprintf(set, sizeof set, "visitor=v%d; Path=/",
			         ++S.visitors);
			skytest_resp_header(resp, "Set-Cookie", set);
		}
		pthread_mutex_unlock(&S.lock);
		free(run);
		skytest_resp_text(resp, 200, NULL,
		                  "<!doctype html><title>Visit</title><h1>Hello"
		                  "</h1><a href='/form.html'>Apply</a>");
		return;
	}
	if (!skytest_resp_file(resp, S.root, req->path))
		skytest_resp_text(resp, 404, "text/plain", "not found");
}

/* Ids of the form page, read from a real snapshot once. */
static char id_name[32], id_email[32], id_send[32], id_remove[32], id_gone[32];

static void ids_from_snapshot(void)
{
	void *b = skyb_browser(NULL);
	void *ctx = skyb_context(b, "{}");
	char *url = skyx_asprintf("%s/form.html", skytest_httpd_url(S.h));
	json_decref(skyb_navigate(ctx, url));
	json_t *snap = skyb_snapshot(ctx);
	snprintf(id_name, sizeof id_name, "%s",
	         skyb_id(snap, "input", "Full name"));
	snprintf(id_email, sizeof id_email, "%s",
	         skyb_id(snap, "input", "Email"));
	snprintf(id_send, sizeof id_send, "%s",
	         skyb_id(snap, "button", "Send application"));
	snprintf(id_remove, sizeof id_remove, "%s",
	         skyb_id(snap, "button", "Remove the other button"));
	snprintf(id_gone, sizeof id_gone, "%s",
	         skyb_id(snap, "button", "Vanishing button"));
	json_decref(snap);
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(b);
	free(url);
}

static void site_start(void)
{
	S.root = skytest_src_path("tests/pages/agent");
	S.posts = json_array();
	S.visits = json_array();
	S.h = skytest_httpd_start(handler, NULL);
	ck_assert_ptr_nonnull(S.h);
	ids_from_snapshot();
}

static void site_stop(void)
{
	skytest_httpd_stop(S.h);
	json_decref(S.posts);
	json_decref(S.visits);
	free(S.root);
}

/* --- an engine on scripted answers ----------------------------------------- */

typedef struct rig {
	char *dir;
	char *replay;
	sky_engine *e;
} rig;

/* Write the replay file from lines (purpose, order, retry, answer). */
static void script(rig *r, const char *const *lines)
{
	skyx_buf b = {0};
	for (int i = 0; lines[i]; i++) {
		skyx_buf_puts(&b, lines[i]);
		skyx_buf_putc(&b, '\n');
	}
	ck_assert_int_eq(sky_write_file(r->replay, b.data, b.len), 0);
	skyx_buf_free(&b);
}

static char *config_json(const rig *r, int check_goal)
{
	return skyx_asprintf(
	    "{\"llm\":{\"replay_file\":\"%s\",\"replay_sequential\":true,"
	    "\"replay_strict\":false},\"agent\":{\"check_goal\":%d,"
	    "\"settle_max_ms\":3000,\"wait_max_s\":10}}",
	    r->replay, check_goal);
}

static void rig_start(rig *r, int workers, int check_goal)
{
	sky_engine_options o;
	r->dir = r->dir ? r->dir : skytest_tmpdir("agent");
	r->replay =
	    r->replay ? r->replay : skyx_asprintf("%s/answers.jsonl", r->dir);
	char *cfg = config_json(r, check_goal);
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = r->dir;
	o.llm = "replay";
	o.workers = workers;
	o.config_json = cfg;
	ck_assert_msg(sky_engine_new(&r->e, &o) == 0, "engine: %s",
	              sky_error_last());
	free(cfg);
}

static void rig_stop(rig *r, int remove)
{
	sky_engine_free(r->e);
	r->e = NULL;
	sky_global_shutdown();
	if (remove) {
		skyx_rm_rf(r->dir);
		free(r->dir);
		free(r->replay);
		r->dir = r->replay = NULL;
	}
}

static char *submit(rig *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *submit(rig *r, const char *fmt, ...)
{
	va_list ap;
	skyx_buf b = {0};
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *out = NULL;
	int status = 0;
	ck_assert_msg(sky_tasks_api_run_submit(&out, &status, r->e, NULL,
	                                       b.data, NULL) == 0,
	              "submit %d: %s", status, out);
	json_t *j = json_loads(out, 0, NULL);
	char *id = skyx_strdup(json_string_value(json_object_get(j, "run_id")));
	json_decref(j);
	sky_free(out);
	skyx_buf_free(&b);
	return id;
}

static json_t *wait_final(rig *r, const char *id)
{
	char *out = NULL;
	int rc = sky_tasks_api_run_wait(&out, r->e, NULL, id, 180000);
	json_t *j = json_loads(out ? out : "{}", 0, NULL);
	ck_assert_msg(rc == 0, "run %s not final: %s", id, out);
	sky_free(out);
	return j;
}

static json_t *steps_of(rig *r, const char *id)
{
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_run_steps_list(&out, r->e, NULL, id), 0);
	json_t *j = json_loads(out, 0, NULL);
	sky_free(out);
	return j;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static char *url(const char *path)
{
	return skyx_asprintf("%s%s", skytest_httpd_url(S.h), path);
}

static int posts_count(void)
{
	pthread_mutex_lock(&S.lock);
	int n = (int)json_array_size(S.posts);
	pthread_mutex_unlock(&S.lock);
	return n;
}

/* --- tests ------------------------------------------------------------------- */

START_TEST(completes_with_extraction_output)
{
	rig r = {0};
	rig_start(&r, 1, 1);
	char a0[512], c1[256];
	snprintf(a0, sizeof a0,
	         "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"INPUT_TEXT\","
	         "\"id\":\"%s\",\"text\":\"Ada Lovelace\"},{\"action_type\":"
	         "\"input_text\",\"id\":\"%s\",\"text\":\"ada@example.com\"},"
	         "{\"action_type\":\"click\",\"id\":\"%s\"}]},"
	         "\"tokens\":{\"input\":1000,\"output\":50}}",
	         id_name, id_email, id_send);
	snprintf(c1, sizeof c1,
	         "{\"purpose\":\"extract-actions\",\"order\":1,\"retry\":0,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"complete\","
	         "\"reasoning\":\"the confirmation is shown\"}]}}");
	const char *lines[] = {
	    a0, c1,
	    "{\"purpose\":\"check-goal\",\"answer\":{\"status\":\"complete\","
	    "\"reason\":\"Thank you page\"}}",
	    "{\"purpose\":\"extract-data\",\"answer\":{\"application_success\":"
	    "\"true\"}}",
	    NULL};
	script(&r, lines);
	int before = posts_count();
	char *u = url("/form.html");
	char *id = submit(&r,
	                  "{\"prompt\":\"Apply as Ada Lovelace, "
	                  "ada@example.com\",\"url\":\"%s\",\"engine\":"
	                  "\"skyvern-1.0\",\"data_extraction_schema\":"
	                  "{\"application_success\":{\"type\":\"boolean\"}}}",
	                  u);
	json_t *run = wait_final(&r, id);
	ck_assert_msg(skyx_str_eq(str(run, "status"), "completed"), "%s: %s",
	              str(run, "status"), str(run, "failure_reason"));
	/* The schema's boolean, coerced from the model's "true". */
	ck_assert(json_is_true(json_object_get(json_object_get(run, "output"),
	                                       "application_success")));
	/* The site got exactly one submission with both fields. */
	ck_assert_int_eq(posts_count(), before + 1);
	pthread_mutex_lock(&S.lock);
	const char *body = json_string_value(json_array_get(S.posts, before));
	ck_assert_ptr_nonnull(strstr(body, "name=Ada+Lovelace"));
	ck_assert_ptr_nonnull(strstr(body, "email=ada%40example.com"));
	pthread_mutex_unlock(&S.lock);
	/* Steps: two, tokens on the first, actions and results recorded. */
	json_t *steps = steps_of(&r, id);
	ck_assert_uint_eq(json_array_size(steps), 2);
	json_t *s0 = json_array_get(steps, 0);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(s0, "input_token_count")), 1000);
	json_t *pairs = json_object_get(json_object_get(s0, "output"),
	                                "actions_and_results");
	ck_assert_uint_eq(json_array_size(pairs), 3);
	ck_assert(json_is_true(json_object_get(
	    json_array_get(json_array_get(json_array_get(pairs, 2), 1), 0),
	    "success")));
	ck_assert(
	    json_is_true(json_object_get(json_array_get(steps, 1), "is_last")));
	/* Artifacts: what the planner saw and said, and a recording. */
	char *arts = NULL;
	ck_assert_int_eq(sky_tasks_api_run_artifacts_list(&arts, r.e, NULL, id),
	                 0);
	ck_assert_ptr_nonnull(strstr(arts, "\"screenshot_llm\""));
	ck_assert_ptr_nonnull(strstr(arts, "\"element_tree\""));
	ck_assert_ptr_nonnull(strstr(arts, "\"llm_prompt\""));
	ck_assert_ptr_nonnull(strstr(arts, "\"recording\""));
	sky_free(arts);
	json_decref(steps);
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
}
END_TEST

START_TEST(terminates_with_a_mapped_error_code)
{
	rig r = {0};
	rig_start(&r, 1, 0);
	const char *lines[] = {
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	    "\"answer\":{\"actions\":[{\"action_type\":\"TERMINATE\","
	    "\"reasoning\":\"The job is no longer open\",\"errors\":["
	    "{\"error_code\":\"JOB_CLOSED\",\"reasoning\":\"closed\"},"
	    "{\"error_code\":\"MADE_UP\",\"reasoning\":\"not mapped\"}]}]}}",
	    "{\"purpose\":\"surface-error-codes\",\"answer\":{\"errors\":["
	    "{\"error_code\":\"NOT_IN_MAPPING\",\"reasoning\":\"x\"}]}}",
	    NULL};
	script(&r, lines);
	char *u = url("/list.html");
	char *id = submit(&r,
	                  "{\"prompt\":\"Apply for the designer job\",\"url\":"
	                  "\"%s\",\"engine\":\"skyvern-1.0\","
	                  "\"error_code_mapping\":{\"JOB_CLOSED\":\"the job is "
	                  "closed\",\"NO_FORM\":\"no form found\"}}",
	                  u);
	json_t *run = wait_final(&r, id);
	ck_assert_str_eq(str(run, "status"), "terminated");
	ck_assert_ptr_nonnull(
	    strstr(str(run, "failure_reason"), "The job is no longer open"));
	ck_assert_ptr_nonnull(strstr(str(run, "failure_reason"), "JOB_CLOSED"));
	json_t *errors = json_object_get(run, "errors");
	ck_assert_uint_eq(json_array_size(errors), 1);
	ck_assert_str_eq(str(json_array_get(errors, 0), "error_code"),
	                 "JOB_CLOSED");
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
}
END_TEST

START_TEST(max_steps_reached)
{
	rig r = {0};
	rig_start(&r, 1, 0);
#define SCROLL(n)                                                              \
	"{\"purpose\":\"extract-actions\",\"order\":" #n ",\"answer\":"        \
	"{\"actions\":[{\"action_type\":\"scroll\",\"direction\":\"down\"}]}}"
	const char *lines[] = {SCROLL(0), SCROLL(1), SCROLL(2), NULL};
	script(&r, lines);
	char *u = url("/list.html");
	char *id = submit(&r,
	                  "{\"prompt\":\"Find the cafeteria menu\",\"url\":"
	                  "\"%s\",\"engine\":\"skyvern-1.0\",\"max_steps\":3}",
	                  u);
	json_t *run = wait_final(&r, id);
	ck_assert_str_eq(str(run, "status"), "failed");
	ck_assert_msg(skyx_str_startswith(str(run, "failure_reason"),
	                                  "Reached the maximum steps (3). "
	                                  "Possible failure reasons: "),
	              "%s", str(run, "failure_reason"));
	json_t *steps = steps_of(&r, id);
	ck_assert_uint_eq(json_array_size(steps), 3);
	json_decref(steps);
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
}
END_TEST

START_TEST(garbage_answers_are_retried)
{
	rig r = {0};
	rig_start(&r, 1, 0);
	const char *lines[] = {
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	    "\"answer\":\"I'm sorry, I can't help with that.\"}",
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":1,"
	    "\"answer\":\"{\\\"actions\\\": [{\\\"action_type\\\": "
	    "\\\"fly\\\"}\"}",
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":2,"
	    "\"answer\":{\"actions\":[{\"action_type\":\"complete\","
	    "\"reasoning\":\"the list is shown\"}]}}",
	    NULL};
	script(&r, lines);
	char *u = url("/list.html");
	char *id =
	    submit(&r,
	           "{\"prompt\":\"Open the openings list\",\"url\":\"%s\","
	           "\"engine\":\"skyvern-1.0\"}",
	           u);
	json_t *run = wait_final(&r, id);
	ck_assert_str_eq(str(run, "status"), "completed");
	json_t *steps = steps_of(&r, id);
	ck_assert_uint_eq(json_array_size(steps), 3);
	for (int i = 0; i < 3; i++) {
		json_t *s = json_array_get(steps, (size_t)i);
		ck_assert_int_eq(
		    json_integer_value(json_object_get(s, "order")), 0);
		ck_assert_int_eq(
		    json_integer_value(json_object_get(s, "retry_index")), i);
		ck_assert_str_eq(str(s, "status"),
		                 i < 2 ? "failed" : "completed");
	}
	/* The rejected action is reported with its reason. */
	json_t *rej =
	    json_object_get(json_object_get(json_array_get(steps, 1), "output"),
	                    "rejected_actions");
	ck_assert_uint_ge(json_array_size(rej), 1);
	json_decref(steps);
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
}
END_TEST

START_TEST(click_on_an_element_that_is_gone)
{
	rig r = {0};
	rig_start(&r, 1, 0);
	char a0[512], a1[512];
	/* The first click removes the button the second one aims at. */
	snprintf(a0, sizeof a0,
	         "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"click\",\"id\":"
	         "\"%s\"},{\"action_type\":\"click\",\"id\":\"%s\"}]}}",
	         id_remove, id_gone);
	snprintf(a1, sizeof a1,
	         "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":1,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"terminate\","
	         "\"reasoning\":\"the button is gone\"}]}}");
	const char *lines[] = {a0, a1, NULL};
	script(&r, lines);
	char *u = url("/form.html");
	char *id = submit(&r,
	                  "{\"prompt\":\"Click the vanishing button\",\"url\":"
	                  "\"%s\",\"engine\":\"skyvern-1.0\"}",
	                  u);
	json_t *run = wait_final(&r, id);
	ck_assert_str_eq(str(run, "status"), "terminated");
	json_t *steps = steps_of(&r, id);
	json_t *s0 = json_array_get(steps, 0);
	ck_assert_str_eq(str(s0, "status"), "failed");
	json_t *pairs = json_object_get(json_object_get(s0, "output"),
	                                "actions_and_results");
	json_t *res =
	    json_array_get(json_array_get(json_array_get(pairs, 1), 1), 0);
	ck_assert(json_is_false(json_object_get(res, "success")));
	ck_assert_str_eq(str(res, "error"), "element_not_found");
	json_decref(steps);
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
}
END_TEST

typedef struct canceler {
	rig *r;
	const char *id;
} canceler;

START_TEST(cancel_in_the_middle_of_a_step)
{
	rig r = {0};
	rig_start(&r, 1, 0);
	char a0[512];
	/* A long wait, then a submit that must never run. */
	snprintf(a0, sizeof a0,
	         "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"wait\","
	         "\"seconds\":10},{\"action_type\":\"click\",\"id\":\"%s\"}]}}",
	         id_send);
	const char *lines[] = {a0, NULL};
	script(&r, lines);
	int before = posts_count();
	char *u = url("/form.html");
	char *id = submit(&r,
	                  "{\"prompt\":\"Send the form\",\"url\":\"%s\","
	                  "\"engine\":\"skyvern-1.0\"}",
	                  u);
	/* Wait until the step is running, then cancel. */
	for (int i = 0; i < 600; i++) {
		json_t *steps = steps_of(&r, id);
		int running =
		    json_array_size(steps) &&
		    skyx_str_eq(str(json_array_get(steps, 0), "status"),
		                "running");
		json_decref(steps);
		if (running)
			break;
		usleep(100000);
	}
	usleep(500000); /* inside the wait */
	ck_assert_int_eq(sky_tasks_api_run_cancel(NULL, NULL, r.e, NULL, id),
	                 0);
	json_t *run = wait_final(&r, id);
	ck_assert_str_eq(str(run, "status"), "canceled");
	/* The worker stopped: the step is canceled, the click never ran. */
	for (int i = 0; i < 100; i++) {
		json_t *steps = steps_of(&r, id);
		int done = skyx_str_eq(str(json_array_get(steps, 0), "status"),
		                       "canceled");
		json_decref(steps);
		if (done)
			break;
		usleep(100000);
	}
	json_t *steps = steps_of(&r, id);
	ck_assert_str_eq(str(json_array_get(steps, 0), "status"), "canceled");
	json_decref(steps);
	usleep(500000);
	ck_assert_int_eq(posts_count(), before);
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
}
END_TEST

START_TEST(v2_run_with_two_mini_goals)
{
	rig r = {0};
	rig_start(&r, 1, 0);
	char a0[512];
	snprintf(a0, sizeof a0,
	         "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"input_text\","
	         "\"id\":\"%s\",\"text\":\"Grace Hopper\"},{\"action_type\":"
	         "\"input_text\",\"id\":\"%s\",\"text\":\"grace@example.com\"},"
	         "{\"action_type\":\"click\",\"id\":\"%s\"},{\"action_type\":"
	         "\"complete\",\"reasoning\":\"sent\"}]}}",
	         id_name, id_email, id_send);
	const char *lines[] = {
	    "{\"purpose\":\"plan\",\"answer\":{\"thoughts\":\"first the "
	    "form\",\"user_goal_achieved\":false,\"should_terminate\":false,"
	    "\"task_type\":\"navigate\",\"plan\":\"Fill in and send the "
	    "application form\"}}",
	    a0,
	    "{\"purpose\":\"plan\",\"answer\":{\"thoughts\":\"now read the "
	    "confirmation\",\"user_goal_achieved\":false,"
	    "\"should_terminate\":false,\"task_type\":\"extract\","
	    "\"plan\":\"Extract the confirmation message\"}}",
	    "{\"purpose\":\"extract-data\",\"answer\":{\"message\":\"Your "
	    "application was received.\"}}",
	    "{\"purpose\":\"plan\",\"answer\":{\"thoughts\":\"done\","
	    "\"user_goal_achieved\":true,\"should_terminate\":false,"
	    "\"task_type\":\"navigate\",\"plan\":\"\"}}",
	    "{\"purpose\":\"summarize\",\"answer\":{\"description\":\"Applied "
	    "and read the confirmation\",\"output\":{\"confirmation\":\"Your "
	    "application was received.\"}}}",
	    NULL};
	script(&r, lines);
	int before = posts_count();
	char *u = url("/form.html");
	char *id = submit(&r,
	                  "{\"prompt\":\"Apply as Grace Hopper "
	                  "(grace@example.com), then tell me what the "
	                  "confirmation says\",\"url\":\"%s\"}",
	                  u);
	ck_assert(skyx_str_startswith(id, "tsk_v2_"));
	json_t *run = wait_final(&r, id);
	ck_assert_msg(skyx_str_eq(str(run, "status"), "completed"), "%s",
	              str(run, "failure_reason"));
	ck_assert_str_eq(str(json_object_get(run, "output"), "confirmation"),
	                 "Your application was received.");
	ck_assert_int_eq(posts_count(), before + 1);
	/* Both mini-goals are steps of the run. */
	json_t *steps = steps_of(&r, id);
	ck_assert_uint_eq(json_array_size(steps), 2);
	ck_assert_str_eq(
	    str(json_object_get(json_array_get(steps, 0), "output"),
	        "mini_goal"),
	    "Fill in and send the application form");
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_array_get(steps, 1), "order")),
	                 1);
	json_decref(steps);
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
}
END_TEST

START_TEST(concurrent_runs_do_not_share_cookies)
{
	rig r = {0};
	rig_start(&r, 3, 0);
	const char *lines[] = {
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"answer\":"
	    "{\"actions\":[{\"action_type\":\"reload_page\"}]}}",
	    "{\"purpose\":\"extract-actions\",\"order\":1,\"answer\":"
	    "{\"actions\":[{\"action_type\":\"complete\",\"reasoning\":"
	    "\"visited twice\"}]}}",
	    NULL};
	script(&r, lines);
	char *ids[3];
	for (int k = 0; k < 3; k++) {
		char path[64];
		snprintf(path, sizeof path, "/visit?run=%d", k);
		char *u = url(path);
		ids[k] = submit(&r,
		                "{\"prompt\":\"Visit twice\",\"url\":\"%s\","
		                "\"engine\":\"skyvern-1.0\"}",
		                u);
		free(u);
	}
	for (int k = 0; k < 3; k++) {
		json_t *run = wait_final(&r, ids[k]);
		ck_assert_str_eq(str(run, "status"), "completed");
		json_decref(run);
	}
	/* Per run: the first visit had no cookie, later visits only the
	 * cookie that run was given, and no two runs share one. */
	char seen[3][32] = {"", "", ""};
	pthread_mutex_lock(&S.lock);
	size_t i;
	json_t *v;
	json_array_foreach (S.visits, i, v) {
		int k = atoi(str(v, "run"));
		const char *c = str(v, "cookie");
		ck_assert(k >= 0 && k < 3);
		if (!seen[k][0]) {
			ck_assert_msg(!*c, "run %d came with cookie '%s'", k,
			              c);
			snprintf(seen[k], sizeof seen[k], "%s", "first");
		} else if (!strcmp(seen[k], "first")) {
			ck_assert(skyx_str_startswith(c, "visitor=v"));
			ck_assert_ptr_null(
			    strchr(c, ';')); /* one cookie only */
			snprintf(seen[k], sizeof seen[k], "%s", c);
		} else {
			ck_assert_str_eq(c, seen[k]);
		}
	}
	pthread_mutex_unlock(&S.lock);
	ck_assert_str_ne(seen[0], seen[1]);
	ck_assert_str_ne(seen[1], seen[2]);
	ck_assert_str_ne(seen[0], seen[2]);
	for (int k = 0; k < 3; k++)
		free(ids[k]);
	rig_stop(&r, 1);
}
END_TEST

/* The engine process is SIGKILLed mid-run (a real separate process:
 * skyctl), then an engine on the same data dir resumes the run. */
START_TEST(crash_recovery_resumes_the_run)
{
	rig r = {0};
	r.dir = skytest_tmpdir("crash");
	r.replay = skyx_asprintf("%s/answers.jsonl", r.dir);
	char a1[512];
	snprintf(a1, sizeof a1,
	         "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":1,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"input_text\","
	         "\"id\":\"%s\",\"text\":\"Resumed Person\"},{\"action_type\":"
	         "\"input_text\",\"id\":\"%s\",\"text\":\"r@example.com\"},"
	         "{\"action_type\":\"click\",\"id\":\"%s\"},{\"action_type\":"
	         "\"complete\",\"reasoning\":\"sent\"}]}}",
	         id_name, id_email, id_send);
	const char *lines[] = {
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	    "\"answer\":{\"actions\":[{\"action_type\":\"wait\","
	    "\"seconds\":10}]}}",
	    a1, NULL};
	script(&r, lines);
	char *cfg = config_json(&r, 0);
	char *u = url("/form.html");
	char *skyctl = skyx_asprintf("%s/tools/skyctl/skyctl", SKY_BINARY_DIR);
	pid_t child = fork();
	if (child == 0) {
		setenv("SKYENGINE_LLM", "replay", 1);
		setenv("SKYENGINE_PLUGIN_PATH", SKY_TEST_PLUGIN_BUILD_DIR, 1);
		int devnull = open("/dev/null", 1);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(skyctl, skyctl, "run", "Send the form as Resumed Person",
		      "--url", u, "--engine", "skyvern-1.0", "--data", r.dir,
		      "--config", cfg, (char *)NULL);
		_exit(127);
	}
	/* Watch the store from this process (a stored-only engine). */
	sky_engine_options o;
	sky_engine *watch = NULL;
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = r.dir;
	o.no_execute = 1;
	char *id = NULL;
	for (int i = 0; i < 600 && !id; i++) {
		if (!watch && sky_engine_new(&watch, &o))
			watch = NULL;
		char *out = NULL;
		sky_list_options lo = SKY_LIST_OPTIONS_INIT;
		if (watch &&
		    sky_tasks_api_tasks_list(&out, watch, NULL, &lo) == 0) {
			json_t *l = json_loads(out, 0, NULL);
			json_t *t = json_array_get(l, 0);
			if (t && skyx_str_eq(str(t, "status"), "running") &&
			    json_integer_value(
			        json_object_get(t, "step_count")) > 0)
				id = skyx_strdup(str(t, "task_id"));
			json_decref(l);
		}
		sky_free(out);
		if (!id)
			usleep(100000);
	}
	ck_assert_ptr_nonnull(id);
	usleep(1000000); /* inside the step's wait */
	kill(child, SIGKILL);
	int st;
	waitpid(child, &st, 0);
	sky_engine_free(watch);
	sky_global_shutdown();

	/* The run is left running; a new engine resumes it. */
	int before = posts_count();
	rig_start(&r, 1, 0);
	json_t *run = wait_final(&r, id);
	ck_assert_msg(skyx_str_eq(str(run, "status"), "completed"), "%s",
	              str(run, "failure_reason"));
	ck_assert_int_eq(posts_count(), before + 1);
	json_t *steps = steps_of(&r, id);
	json_t *s0 = json_array_get(steps, 0);
	ck_assert_str_eq(str(s0, "status"), "failed");
	ck_assert(json_is_true(
	    json_object_get(json_object_get(s0, "output"), "interrupted")));
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_array_get(steps, 1), "retry_index")),
	                 1);
	json_decref(steps);
	json_decref(run);
	free(id);
	free(u);
	free(cfg);
	free(skyctl);
	rig_stop(&r, 1);
}
END_TEST

/* --- a model on loopback (OpenAI chat completions) -------------------------- */

/* It answers like a careful model would, from what its prompt shows: the
 * check-goal says complete only when it can see the extracted title. */

static struct {
	pthread_mutex_t lock;
	json_t *prompts; /* the request bodies, in order */
} M = {.lock = PTHREAD_MUTEX_INITIALIZER};

#define TITLE "Senior Widget Engineer"
#define OFFICE "Lisbon harbour office"

static void on_model(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	const char *b = req->body;
	pthread_mutex_lock(&M.lock);
	json_array_append_new(M.prompts, json_string(b));
	pthread_mutex_unlock(&M.lock);
	const char *content;
	if (strstr(b, "You check the work of a browser agent"))
		content = strstr(b, TITLE)
		              ? "{\"page_info\":\"openings\",\"thoughts\":"
		                "\"the title was extracted\",\"status\":"
		                "\"complete\",\"reason\":\"the title "
		                "is extracted\"}"
		              : "{\"page_info\":\"openings\",\"thoughts\":"
		                "\"nothing was extracted yet\",\"status\":"
		                "\"continue\",\"reason\":\"no title "
		                "extracted yet\"}";
	else if (strstr(b, "You read information off a web page"))
		content = strstr(b, "the office") ? "{\"office\":\"" OFFICE
		                                    "\"}"
		                                  : "{\"title\":\"" TITLE "\"}";
	else if (strstr(b, TITLE))
		content = "{\"actions\":[{\"action_type\":\"complete\","
		          "\"reasoning\":\"the title is extracted\"}]}";
	else if (strstr(b, "[two]"))
		content =
		    "{\"actions\":[{\"action_type\":\"extract\","
		    "\"data_extraction_goal\":\"the job title\"},"
		    "{\"action_type\":\"extract\",\"data_extraction_goal\":"
		    "\"the office\"},{\"action_type\":\"complete\","
		    "\"reasoning\":\"both are extracted\"}]}";
	else
		content = "{\"actions\":[{\"action_type\":\"extract\","
		          "\"data_extraction_goal\":\"the job title\"},"
		          "{\"action_type\":\"complete\",\"reasoning\":\"the "
		          "title is extracted\"}]}";
	json_t *j = json_pack(
	    "{s:s, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i}}", "id",
	    "chatcmpl-agent", "model", "gpt-4o", "choices", "index", 0,
	    "message", "role", "assistant", "content", content, "finish_reason",
	    "stop", "usage", "prompt_tokens", 900, "completion_tokens", 40);
	char *txt = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	skytest_resp_text(resp, 200, "application/json", txt);
	free(txt);
}

/* An engine whose model is the one above; returns the model server. */
static skytest_httpd *model_rig_start_vision(rig *r, int vision)
{
	skytest_httpd *m = skytest_httpd_start(on_model, NULL);
	ck_assert_ptr_nonnull(m);
	pthread_mutex_lock(&M.lock);
	json_decref(M.prompts);
	M.prompts = json_array();
	pthread_mutex_unlock(&M.lock);
	setenv("OPENAI_API_KEY", "sk-test-agent", 1);
	r->dir = skytest_tmpdir("agent");
	char *cfg = skyx_asprintf(
	    "{\"llm\":{\"base_url\":\"%s/v1\",\"model\":\"gpt-4o\","
	    "\"max_retries\":0},\"agent\":{\"check_goal\":1,"
	    "\"settle_max_ms\":3000,\"vision\":%d}}",
	    skytest_httpd_url(m), vision);
	sky_engine_options o;
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = r->dir;
	o.llm = "openai";
	o.workers = 1;
	o.config_json = cfg;
	ck_assert_msg(sky_engine_new(&r->e, &o) == 0, "engine: %s",
	              sky_error_last());
	free(cfg);
	return m;
}

/* The bodies of the model requests whose prompt holds `marker`. */
static json_t *prompts_with(const char *marker)
{
	json_t *out = json_array();
	size_t i;
	json_t *p;
	pthread_mutex_lock(&M.lock);
	json_array_foreach (M.prompts, i, p)
		if (strstr(json_string_value(p), marker))
			json_array_append(out, p);
	pthread_mutex_unlock(&M.lock);
	return out;
}

static size_t model_calls(void)
{
	pthread_mutex_lock(&M.lock);
	size_t n = json_array_size(M.prompts);
	pthread_mutex_unlock(&M.lock);
	return n;
}

static skytest_httpd *model_rig_start(rig *r)
{
	return model_rig_start_vision(r, 0);
}

/* The step's screenshot: a vision model gets it with the planner's
 * prompt; without vision it is taken beside the model call, for the
 * recording only. Either way the run keeps it as a JPEG. */
START_TEST(the_screenshot_goes_to_a_vision_model_and_to_the_recording)
{
	for (int vision = 0; vision <= 1; vision++) {
		rig r = {0};
		skytest_httpd *m = model_rig_start_vision(&r, vision);
		char *u = url("/list.html");
		char *id = submit(&r,
		                  "{\"prompt\":\"Find the title of the first "
		                  "opening\",\"url\":\"%s\",\"engine\":"
		                  "\"skyvern-1.0\"}",
		                  u);
		json_t *run = wait_final(&r, id);
		ck_assert_msg(skyx_str_eq(str(run, "status"), "completed"),
		              "%s: %s", str(run, "status"),
		              str(run, "failure_reason"));
		json_t *plans = prompts_with("Fence nonce of this request");
		ck_assert_uint_ge(json_array_size(plans), 1);
		const char *plan = json_string_value(json_array_get(plans, 0));
		ck_assert_msg(!strstr(plan, "data:image/jpeg;base64,") ==
		                  !vision,
		              "vision %d: the planner's request %s an image",
		              vision, vision ? "lacks" : "has");
		char *arts = NULL;
		ck_assert_int_eq(
		    sky_tasks_api_run_artifacts_list(&arts, r.e, NULL, id), 0);
		json_t *rows = json_loads(arts, 0, NULL);
		sky_free(arts);
		int jpegs = 0;
		size_t i;
		json_t *row;
		json_array_foreach (rows, i, row) {
			if (!skyx_str_eq(str(row, "artifact_type"),
			                 "screenshot_llm"))
				continue;
			size_t len = 0;
			const char *uri = str(row, "uri");
			unsigned char *img =
			    (unsigned char *)skyx_read_file(uri + 7, &len);
			jpegs += img && len > 100 && img[0] == 0xff &&
			         img[1] == 0xd8;
			free(img);
		}
		ck_assert_msg(jpegs >= 1, "vision %d: no screenshot recorded",
		              vision);
		/* The recording is complete: each step has its screenshot. */
		char *steps = NULL;
		ck_assert_int_eq(
		    sky_tasks_api_run_steps_list(&steps, r.e, NULL, id), 0);
		json_t *sl = json_loads(steps, 0, NULL);
		sky_free(steps);
		json_t *st;
		json_array_foreach (sl, i, st) {
			int n = 0;
			size_t k;
			json_array_foreach (rows, k, row)
				n += skyx_str_eq(str(row, "artifact_type"),
				                 "screenshot_llm") &&
				     skyx_str_eq(str(row, "step_id"),
				                 str(st, "step_id"));
			ck_assert_msg(n == 1,
			              "vision %d: step %zu has %d screenshots",
			              vision, i, n);
		}
		ck_assert_uint_ge(json_array_size(sl), 1);
		json_decref(sl);
		json_decref(rows);
		json_decref(plans);
		json_decref(run);
		free(id);
		free(u);
		rig_stop(&r, 1);
		skytest_httpd_stop(m);
	}
}
END_TEST

START_TEST(complete_is_verified_with_the_steps_own_actions)
{
	rig r = {0};
	skytest_httpd *m = model_rig_start(&r);
	char *u = url("/list.html");
	char *id = submit(&r,
	                  "{\"prompt\":\"Find the title of the first opening"
	                  "\",\"url\":\"%s\",\"engine\":\"skyvern-1.0\"}",
	                  u);
	json_t *run = wait_final(&r, id);
	ck_assert_msg(skyx_str_eq(str(run, "status"), "completed"), "%s: %s",
	              str(run, "status"), str(run, "failure_reason"));
	/* The verification saw the extraction made earlier in the same
	 * step, so one step did it: plan, extract, verify. */
	json_t *checks = prompts_with("You check the work of a browser agent");
	ck_assert_uint_eq(json_array_size(checks), 1);
	const char *check = json_string_value(json_array_get(checks, 0));
	ck_assert_ptr_nonnull(strstr(check, "this step, so far"));
	ck_assert_ptr_nonnull(strstr(check, "extract"));
	ck_assert_ptr_nonnull(strstr(check, TITLE));
	ck_assert_uint_eq(model_calls(), 3);
	json_t *steps = steps_of(&r, id);
	ck_assert_uint_eq(json_array_size(steps), 1);
	json_decref(steps);
	json_decref(checks);
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
	skytest_httpd_stop(m);
}
END_TEST

/* The file an artifact row points to, malloc'd (NULL when unreadable). */
static char *artifact_text(json_t *row)
{
	const char *uri = str(row, "uri");
	ck_assert_ptr_nonnull(uri);
	ck_assert(!strncmp(uri, "file://", 7));
	size_t len = 0;
	return skyx_read_file(uri + 7, &len);
}

START_TEST(every_model_call_keeps_its_own_artifact_files)
{
	rig r = {0};
	skytest_httpd *m = model_rig_start(&r);
	char *u = url("/list.html");
	char *id = submit(&r,
	                  "{\"prompt\":\"Note the details of the "
	                  "first opening [two]\",\"url\":\"%s\",\"engine\":"
	                  "\"skyvern-1.0\"}",
	                  u);
	json_t *run = wait_final(&r, id);
	ck_assert_msg(skyx_str_eq(str(run, "status"), "completed"), "%s: %s",
	              str(run, "status"), str(run, "failure_reason"));
	/* Two extract-data calls in one step: two prompts and two answers,
	 * each row pointing to a file of its own with its own text. */
	char *arts = NULL;
	ck_assert_int_eq(sky_tasks_api_run_artifacts_list(&arts, r.e, NULL, id),
	                 0);
	json_t *rows = json_loads(arts, 0, NULL);
	sky_free(arts);
	json_t *uris = json_object();
	int prompts = 0, answers = 0, title_q = 0, office_q = 0, title_a = 0,
	    office_a = 0;
	size_t i;
	json_t *row;
	json_array_foreach (rows, i, row) {
		const char *kind = str(row, "artifact_type");
		const char *uri = str(row, "uri");
		int is_prompt = skyx_str_eq(kind, "llm_prompt");
		if (!is_prompt && !skyx_str_eq(kind, "llm_response"))
			continue;
		ck_assert_msg(!json_object_get(uris, uri),
		              "two artifact rows share %s", uri);
		json_object_set_new(uris, uri, json_true());
		char *text = artifact_text(row);
		ck_assert_msg(text, "no file behind %s", uri);
		if (is_prompt && strstr(text, "You read information off")) {
			prompts++;
			title_q += !!strstr(text, "the job title");
			office_q += !!strstr(text, "the office");
		} else if (!is_prompt && strstr(uri, "extract-data")) {
			answers++;
			title_a += !!strstr(text, TITLE);
			office_a += !!strstr(text, OFFICE);
		}
		free(text);
	}
	ck_assert_int_eq(prompts, 2);
	ck_assert_int_eq(answers, 2);
	ck_assert_int_eq(title_q, 1);
	ck_assert_int_eq(office_q, 1);
	ck_assert_int_eq(title_a, 1);
	ck_assert_int_eq(office_a, 1);
	json_decref(uris);
	json_decref(rows);
	json_decref(run);
	free(id);
	free(u);
	rig_stop(&r, 1);
	skytest_httpd_stop(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("runs");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, site_start, site_stop);
	tcase_add_test(tc, completes_with_extraction_output);
	tcase_add_test(tc, terminates_with_a_mapped_error_code);
	tcase_add_test(tc, max_steps_reached);
	tcase_add_test(tc, garbage_answers_are_retried);
	tcase_add_test(tc, click_on_an_element_that_is_gone);
	tcase_add_test(tc, cancel_in_the_middle_of_a_step);
	tcase_add_test(tc, v2_run_with_two_mini_goals);
	tcase_add_test(tc, concurrent_runs_do_not_share_cookies);
	tcase_add_test(tc, crash_recovery_resumes_the_run);
	tcase_add_test(tc, complete_is_verified_with_the_steps_own_actions);
	tcase_add_test(
	    tc, the_screenshot_goes_to_a_vision_model_and_to_the_recording);
	tcase_add_test(tc, every_model_call_keeps_its_own_artifact_files);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
