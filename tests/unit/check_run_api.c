/* Unit tests: the typed run API (include/skyengine/run.h) on a real store,
 * without executing runs (no_execute): submit with sky_task_options and
 * read back through the accessors, options versions, organization
 * scoping, wait with a timeout, subscriptions. */
#include <pthread.h>
#include <skyengine.h>
#include <string.h>
#include <unistd.h>

#include "skytest.h"
#include "util/fs.h"
#include "util/json.h"

static char *dir;
static sky_engine *eng;

static void setup(void)
{
	sky_engine_options o;
	ck_assert_int_ge(sky_global_init(), 1);
	dir = skytest_tmpdir("run-api");
	ck_assert_int_eq(
	    sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION), 0);
	o.data_dir = dir;
	o.no_execute = 1;
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

static sky_run *submit(const char *org, const char *prompt)
{
	sky_task_options t = SKY_TASK_OPTIONS_INIT;
	sky_run *r = NULL;
	t.prompt = prompt;
	t.url = "https://example.com/apply";
	ck_assert_msg(sky_run_submit(&r, eng, org, &t) == 0, "%s",
	              sky_error_last());
	ck_assert_ptr_nonnull(r);
	return r;
}

START_TEST(submit_with_task_options_reads_back_through_accessors)
{
	sky_task_options t;
	sky_run *r = NULL, *again = NULL;
	ck_assert_int_eq(sky_task_options_init(&t, SKY_TASK_OPTIONS_VERSION),
	                 0);
	ck_assert_ptr_null(t.prompt);
	t.prompt = "Apply for a job on behalf of Chris P Bacon";
	t.url = "https://example.com/apply";
	t.engine = "skyvern-1.0";
	t.title = "typed title";
	t.data_extraction_schema =
	    "{\"application_success\": {\"type\": \"boolean\"}}";
	t.navigation_payload = "{\"name\": \"Chris P Bacon\"}";
	t.max_steps = 7;
	t.request_json = "{\"title\": \"from request_json\", "
	                 "\"totp_identifier\": \"me@example.com\"}";
	ck_assert_msg(sky_run_submit(&r, eng, NULL, &t) == 0, "%s",
	              sky_error_last());
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(sky_run_type(r), "task_v1");
	ck_assert_int_eq(strncmp(sky_run_id(r), "tsk_", 4), 0);
	ck_assert_int_eq(sky_run_status_get(r), SKY_RUN_CREATED);
	ck_assert_str_eq(sky_run_status_name(sky_run_status_get(r)), "created");
	ck_assert(!sky_run_status_is_final(sky_run_status_get(r)));
	ck_assert_str_eq(sky_run_prompt(r), t.prompt);
	ck_assert_str_eq(sky_run_url(r), "https://example.com/apply");
	/* A typed field wins over the same key of request_json. */
	ck_assert_str_eq(sky_run_title(r), "typed title");
	ck_assert_ptr_null(sky_run_output_json(r));
	ck_assert_ptr_null(sky_run_failure_reason(r));
	ck_assert_ptr_null(sky_run_errors_json(r));
	ck_assert_int_eq(sky_run_step_count(r), 0);
	ck_assert_int_gt(sky_run_created_at(r), 0);
	ck_assert_int_ge(sky_run_modified_at(r), sky_run_created_at(r));
	ck_assert_int_eq(sky_run_finished_at(r), 0);

	/* The same run, read again, and through the adapter. */
	ck_assert_int_eq(sky_run_get(&again, eng, NULL, sky_run_id(r)), 0);
	ck_assert_str_eq(sky_run_id(again), sky_run_id(r));
	ck_assert_str_eq(sky_run_title(again), "typed title");
	char *json = NULL;
	ck_assert_int_eq(sky_tasks_api_run_get(&json, eng, NULL, sky_run_id(r)),
	                 0);
	json_t *j = sky_json_loads(json);
	ck_assert_str_eq(sky_json_str(j, "run_id"), sky_run_id(r));
	json_t *req = json_object_get(j, "run_request");
	ck_assert_int_eq(json_integer_value(json_object_get(req, "max_steps")),
	                 7);
	/* A field given only in request_json arrives too. */
	ck_assert_str_eq(sky_json_str(req, "totp_identifier"),
	                 "me@example.com");
	json_decref(j);
	sky_free(json);
	sky_run_free(again);
	sky_run_free(r);
	sky_run_free(NULL);
}
END_TEST

START_TEST(refused_tasks_say_why)
{
	sky_task_options t = SKY_TASK_OPTIONS_INIT;
	sky_run *r = (sky_run *)&t; /* must be reset to NULL */
	t.url = "https://example.com/";
	ck_assert_int_eq(sky_run_submit(&r, eng, NULL, &t), SKY_EINVALID);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "prompt"));

	t.prompt = "p";
	t.data_extraction_schema = "{not json";
	ck_assert_int_eq(sky_run_submit(&r, eng, NULL, &t), SKY_EINVALID);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "data_extraction_schema"));

	t.data_extraction_schema = NULL;
	t.request_json = "[1]";
	ck_assert_int_eq(sky_run_submit(&r, eng, NULL, &t), SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "request_json"));

	/* A run belongs to one organization. */
	t.request_json = NULL;
	ck_assert_int_eq(sky_run_submit(&r, eng, SKY_ORGANIZATION_ANY, &t),
	                 SKY_EINVALID);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(options_with_an_unknown_version_are_refused)
{
	sky_task_options t = SKY_TASK_OPTIONS_INIT;
	sky_run *r = NULL;
	t.prompt = "p";
	t.version = 99;
	ck_assert_int_eq(sky_run_submit(&r, eng, NULL, &t), SKY_EINVALID);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "sky_task_options version 99"));
	t.version = 0;
	ck_assert_int_eq(sky_run_submit(&r, eng, NULL, &t), SKY_EINVALID);
	ck_assert_int_eq(sky_task_options_init(&t, 99), SKY_EINVALID);

	/* The adapter's options are read too: before 1.0 they carried the
	 * organization, a struct of that layout must not be misread. */
	sky_submit_options so = SKY_SUBMIT_OPTIONS_INIT;
	char *out = NULL;
	int status = 0;
	so.version = 1;
	ck_assert_int_eq(sky_tasks_api_run_submit(&out, &status, eng, NULL,
	                                          "{\"prompt\": \"p\"}", &so),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "sky_submit_options version 1"));
	ck_assert_ptr_null(out);
	ck_assert_int_eq(sky_submit_options_init(&so, 7), SKY_EINVALID);
	ck_assert_int_eq(
	    sky_submit_options_init(&so, SKY_SUBMIT_OPTIONS_VERSION), 0);

	sky_list_options lo;
	ck_assert_int_eq(sky_list_options_init(&lo, SKY_LIST_OPTIONS_VERSION),
	                 0);
	ck_assert_int_eq(lo.page, 0);
	lo.version = 2;
	ck_assert_int_eq(sky_tasks_api_runs_list(&out, eng, NULL, &lo),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "sky_list_options version 2"));
	ck_assert_int_eq(sky_tasks_api_tasks_list(&out, eng, NULL, &lo),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_tasks_api_runs_list_legacy(&out, eng, NULL, &lo),
	                 SKY_EINVALID);
	ck_assert_ptr_null(out);

	/* A run type list with an unknown name is refused, not ignored. */
	lo.version = SKY_LIST_OPTIONS_VERSION;
	lo.run_types = "task_v1,bogus";
	ck_assert_int_eq(sky_tasks_api_runs_list(&out, eng, NULL, &lo),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "bogus"));
	/* Skyvern's run types this engine never creates match nothing;
	 * with a task type beside them, that type's runs are listed. */
	lo.run_types = "workflow_run";
	ck_assert_int_eq(sky_tasks_api_runs_list(&out, eng, NULL, &lo), 0);
	ck_assert_str_eq(out, "[]");
	sky_free(out);
	out = NULL;
	sky_run *listed = submit(NULL, "a listed run");
	lo.run_types = "workflow_run,task_v2";
	ck_assert_int_eq(sky_tasks_api_runs_list(&out, eng, NULL, &lo), 0);
	ck_assert_ptr_nonnull(strstr(out, sky_run_id(listed)));
	sky_free(out);
	sky_run_free(listed);
}
END_TEST

START_TEST(organizations_are_isolated_through_the_typed_api)
{
	char *org = NULL;
	sky_run *r = NULL, *got = NULL;
	ck_assert_int_eq(sky_organization_create(&org, eng, "acme"), 0);
	sky_run *mine = submit(org, "acme's run");
	const char *id = sky_run_id(mine);

	/* Another organization (here the default one) does not see it. */
	ck_assert_int_eq(sky_run_get(&r, eng, NULL, id), SKY_ENOTFOUND);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(sky_run_wait(&r, eng, NULL, id, 1), SKY_ENOTFOUND);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(sky_run_cancel(eng, NULL, id), SKY_ENOTFOUND);
	/* "*" is an organization id like any other, not a wildcard. */
	ck_assert_int_eq(sky_run_get(&r, eng, "*", id), SKY_ENOTFOUND);

	ck_assert_int_eq(sky_run_get(&got, eng, org, id), 0);
	sky_run_free(got);
	ck_assert_int_eq(sky_run_get(&got, eng, SKY_ORGANIZATION_ANY, id), 0);
	sky_run_free(got);

	/* Cancel in the owner's organization; a second cancel is refused. */
	ck_assert_int_eq(sky_run_cancel(eng, org, id), 0);
	ck_assert_int_eq(sky_run_cancel(eng, org, id), SKY_EINVALID);
	ck_assert_int_eq(sky_run_wait(&got, eng, org, id, 0), 0);
	ck_assert_int_eq(sky_run_status_get(got), SKY_RUN_CANCELED);
	ck_assert(sky_run_status_is_final(sky_run_status_get(got)));
	sky_run_free(got);

	/* The adapter lists scope the same way. */
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_runs_list(&out, eng, NULL, NULL), 0);
	ck_assert_ptr_null(strstr(out, id));
	sky_free(out);
	ck_assert_int_eq(sky_tasks_api_runs_list(&out, eng, org, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, id));
	sky_free(out);
	sky_run_free(mine);
	sky_free(org);
}
END_TEST

START_TEST(wait_with_a_timeout_returns_the_current_run)
{
	sky_run *r = submit(NULL, "nobody executes this");
	/* The Tasks API's default engine. */
	ck_assert_str_eq(sky_run_type(r), "task_v2");
	sky_run *now = NULL;
	/* no_execute: the run stays created, so the wait times out. */
	ck_assert_int_eq(sky_run_wait(&now, eng, NULL, sky_run_id(r), 50),
	                 SKY_ETIMEDOUT);
	ck_assert_ptr_nonnull(now);
	ck_assert_str_eq(sky_run_id(now), sky_run_id(r));
	ck_assert_int_eq(sky_run_status_get(now), SKY_RUN_CREATED);
	sky_run_free(now);
	ck_assert_int_eq(sky_run_wait(&now, eng, NULL, "tsk_404", 50),
	                 SKY_ENOTFOUND);
	ck_assert_ptr_null(now);
	sky_run_free(r);
}
END_TEST

/* --- subscriptions ------------------------------------------------------- */

static int counts[24];

static void count_event(const sky_event *ev, void *ud)
{
	(void)ev;
	__atomic_add_fetch((int *)ud, 1, __ATOMIC_SEQ_CST);
}

START_TEST(every_subscriber_is_called)
{
	int subs[24];
	memset(counts, 0, sizeof counts);
	for (int i = 0; i < 24; i++) {
		ck_assert_int_eq(sky_engine_subscribe(&subs[i], eng,
		                                      count_event, &counts[i]),
		                 0);
		ck_assert_int_gt(subs[i], 0);
	}
	sky_run *r = submit(NULL, "an event for everyone");
	for (int i = 0; i < 24; i++)
		ck_assert_msg(counts[i] >= 1, "subscriber %d was not called",
		              i + 1);
	for (int i = 0; i < 24; i++)
		sky_engine_unsubscribe(eng, subs[i]);
	int before = counts[0];
	sky_run_free(r);
	r = submit(NULL, "nobody listens");
	ck_assert_int_eq(counts[0], before);
	sky_run_free(r);
}
END_TEST

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int entered, released, unsub_returned, returned_seen_in_callback;
static int self_sub, self_calls;

static void blocking_event(const sky_event *ev, void *ud)
{
	(void)ev;
	(void)ud;
	pthread_mutex_lock(&mu);
	entered = 1;
	pthread_cond_broadcast(&cv);
	while (!released)
		pthread_cond_wait(&cv, &mu);
	/* Still inside the callback: unsubscribe must not have returned. */
	returned_seen_in_callback |= unsub_returned;
	pthread_mutex_unlock(&mu);
}

static void *submitter(void *arg)
{
	(void)arg;
	sky_run_free(submit(NULL, "an event that blocks"));
	return NULL;
}

static void *unsubscriber(void *arg)
{
	sky_engine_unsubscribe(eng, *(int *)arg);
	pthread_mutex_lock(&mu);
	unsub_returned = 1;
	pthread_mutex_unlock(&mu);
	return NULL;
}

START_TEST(unsubscribe_waits_for_a_running_callback)
{
	int sub = 0;
	pthread_t a, b;
	entered = released = unsub_returned = returned_seen_in_callback = 0;
	ck_assert_int_eq(sky_engine_subscribe(&sub, eng, blocking_event, NULL),
	                 0);
	pthread_create(&a, NULL, submitter, NULL);
	pthread_mutex_lock(&mu);
	while (!entered)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	pthread_create(&b, NULL, unsubscriber, &sub);
	/* Give the unsubscriber every chance to return early (a wrong
	 * library would); the assertion below does not depend on time. */
	usleep(200 * 1000);
	pthread_mutex_lock(&mu);
	released = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	ck_assert_int_eq(returned_seen_in_callback, 0);
	ck_assert_int_eq(unsub_returned, 1);
}
END_TEST

static void self_unsubscribing_event(const sky_event *ev, void *ud)
{
	(void)ev;
	(void)ud;
	self_calls++;
	/* Must not wait for itself. */
	sky_engine_unsubscribe(eng, self_sub);
}

START_TEST(a_callback_may_unsubscribe_itself)
{
	self_calls = 0;
	ck_assert_int_eq(sky_engine_subscribe(&self_sub, eng,
	                                      self_unsubscribing_event, NULL),
	                 0);
	sky_run_free(submit(NULL, "first"));
	ck_assert_int_eq(self_calls, 1);
	sky_run_free(submit(NULL, "second"));
	ck_assert_int_eq(self_calls, 1);
}
END_TEST

/* A client polls GET /v1/runs/{id}; answers are cached between polls,
 * but every change shows in the next poll, and a cached answer never
 * reaches another organization. */
static char *status_in(const char *json)
{
	json_t *j = json_loads(json, 0, NULL);
	ck_assert_ptr_nonnull(j);
	char *s = strdup(json_string_value(json_object_get(j, "status")));
	json_decref(j);
	return s;
}

START_TEST(polled_answers_follow_every_change)
{
	char *org = NULL, *a = NULL, *b = NULL;
	ck_assert_int_eq(sky_organization_create(&org, eng, "acme"), 0);
	sky_run *r = submit(org, "a polled run");
	const char *id = sky_run_id(r);

	ck_assert_int_eq(sky_tasks_api_run_get(&a, eng, org, id), 0);
	ck_assert_int_eq(sky_tasks_api_run_get(&b, eng, org, id), 0);
	ck_assert_str_eq(a, b);
	sky_free(b);
	b = NULL;
	/* Cached for acme, still unseen by the default organization. */
	ck_assert_int_eq(sky_tasks_api_run_get(&b, eng, NULL, id),
	                 SKY_ENOTFOUND);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(
	    sky_tasks_api_run_get(&b, eng, SKY_ORGANIZATION_ANY, id), 0);
	ck_assert_str_eq(a, b);
	sky_free(b);
	b = NULL;

	ck_assert_int_eq(sky_run_cancel(eng, org, id), 0);
	ck_assert_int_eq(sky_tasks_api_run_get(&b, eng, org, id), 0);
	char *before = status_in(a), *after = status_in(b);
	ck_assert_str_ne(before, "canceled");
	ck_assert_str_eq(after, "canceled");
	free(before);
	free(after);
	sky_free(a);
	sky_free(b);
	sky_run_free(r);
	sky_free(org);
}
END_TEST

/* A live view is only given of a run of the caller's organization. */
static void no_frame(void *ud, const unsigned char *jpeg, size_t len, int w,
                     int h, const char *url)
{
	(void)ud, (void)jpeg, (void)len, (void)w, (void)h, (void)url;
}

START_TEST(live_view_is_scoped_to_the_organization)
{
	char *org = NULL;
	uint64_t watch = 0;
	ck_assert_int_eq(sky_organization_create(&org, eng, "acme"), 0);
	sky_run *r = submit(org, "a watched run");
	const char *id = sky_run_id(r);
	ck_assert_int_eq(sky_run_watch(&watch, eng, NULL, id, no_frame, NULL),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(
	    sky_run_watch(&watch, eng, org, "tsk_v2_0", no_frame, NULL),
	    SKY_ENOTFOUND);
	ck_assert(watch == 0);
	int rc = sky_run_watch(&watch, eng, org, id, no_frame, NULL);
	ck_assert_int_ne(rc, SKY_ENOTFOUND);
	if (rc == 0) {
		ck_assert(watch > 0);
		sky_run_unwatch(eng, watch);
	}
	sky_run_free(r);
	sky_free(org);
}
END_TEST

START_TEST(url_verify_answers_zero_or_a_code)
{
	char *url = NULL;
	ck_assert_int_eq(sky_url_sign(&url, eng, "/v1/artifacts/a_1/content"),
	                 0);
	const char *q = strchr(url, '?');
	ck_assert_ptr_nonnull(q);
	char exp[32] = "", sig[128] = "";
	ck_assert_int_eq(
	    sscanf(q, "?expires=%31[^&]&signature=%127s", exp, sig), 2);
	ck_assert_int_eq(
	    sky_url_verify(eng, "/v1/artifacts/a_1/content", exp, sig), 0);
	ck_assert_int_eq(
	    sky_url_verify(eng, "/v1/artifacts/a_2/content", exp, sig),
	    SKY_EAUTH);
	sky_free(url);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("run_api");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	               submit_with_task_options_reads_back_through_accessors);
	tcase_add_test(tc, refused_tasks_say_why);
	tcase_add_test(tc, options_with_an_unknown_version_are_refused);
	tcase_add_test(tc, organizations_are_isolated_through_the_typed_api);
	tcase_add_test(tc, wait_with_a_timeout_returns_the_current_run);
	tcase_add_test(tc, every_subscriber_is_called);
	tcase_add_test(tc, unsubscribe_waits_for_a_running_callback);
	tcase_add_test(tc, a_callback_may_unsubscribe_itself);
	tcase_add_test(tc, url_verify_answers_zero_or_a_code);
	tcase_add_test(tc, polled_answers_follow_every_change);
	tcase_add_test(tc, live_view_is_scoped_to_the_organization);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
