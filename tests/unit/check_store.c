/* Unit tests: store/ (status machines, concurrency, durability across
 * SIGKILL, migrations). The "store" cases run on a SQLite file and again
 * ("store_pg") on PostgreSQL, each test in a fresh schema of the server
 * scripts/test starts ($SKYTEST_PG_URL). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <skyengine.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine_internal.h"
#include "pgtest.h"
#include "skytest.h"
#include "store/store.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/id.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

static sky_store *S;
/* The lease the tests claim with (one owner, long enough). */
static const sky_lease LEASE = {"n_test", 600000};
static char *D;
/* How S was opened (.url for PostgreSQL), so a test can open the same
 * store again, as another process would. */
static sky_store_options OPTS;
static char *SCHEMA;

static void setup(void)
{
	D = skytest_tmpdir("store");
	ck_assert_ptr_nonnull(D);
	ck_assert_int_eq(sky_store_open(&S, D, NULL), 0);
}

static void setup_pg(void)
{
	char *url;
	D = skytest_tmpdir("store");
	ck_assert_ptr_nonnull(D);
	url = skytest_pg_schema(&SCHEMA);
	ck_assert_ptr_nonnull(url);
	OPTS.url = url;
	ck_assert_int_eq(sky_store_open(&S, D, &OPTS), 0);
	ck_assert(sky_store_is_pg(S));
}

static void teardown(void)
{
	sky_store_close(S);
	S = NULL;
	skyx_rm_rf(D);
	free(D);
	D = NULL;
	if (SCHEMA)
		skytest_pg_drop(SCHEMA);
	free(SCHEMA);
	SCHEMA = NULL;
	free((char *)OPTS.url);
	memset(&OPTS, 0, sizeof OPTS);
}

/* A second handle on S's store, with a data dir of its own: what another
 * process (or host) sharing the store has. */
static sky_store *open_second(char **dir)
{
	sky_store_options o = OPTS;
	sky_store *s2 = NULL;
	*dir = skytest_tmpdir("store2");
	if (!o.url)
		o.path = sky_store_path(S);
	ck_assert_int_eq(sky_store_open(&s2, *dir, &o), 0);
	return s2;
}

/* A minimal valid task; returns its id (malloc'd). */
static char *mk_task(sky_store *s, const char *org, const char *run_type,
                     const char *parent, int queued)
{
	sky_task_new in = {0};
	sky_task_rec *r = NULL;
	char *id;

	in.organization_id = org;
	in.run_type = run_type ? run_type : SKY_RUN_TYPE_V1;
	in.engine = "skyvern-1.0";
	in.prompt = "do the thing";
	in.parent_task_id = parent;
	in.queued = queued;
	ck_assert_msg(sky_store_task_create(s, &in, &r, NULL) == 0, "%s",
	              sky_error_last());
	id = strdup(r->task_id);
	sky_task_rec_free(r);
	return id;
}

static sky_task_rec *get_task(const char *id)
{
	sky_task_rec *r = NULL;
	ck_assert_msg(sky_store_task_get(S, NULL, id, &r) == 0, "%s",
	              sky_error_last());
	return r;
}

static sky_task_status task_status(const char *id)
{
	sky_task_rec *r = get_task(id);
	sky_task_status st = r->status;
	sky_task_rec_free(r);
	return st;
}

/* ---- the status machines as the spec writes them (design.md §3) ------- */

static int spec_task_legal(sky_task_status f, sky_task_status t)
{
	static const char *const legal[] = {
	    "created>queued",    "created>running",  "created>timed_out",
	    "created>failed",    "created>canceled", "queued>running",
	    "queued>timed_out",  "queued>failed",    "queued>canceled",
	    "running>completed", "running>failed",   "running>terminated",
	    "running>timed_out", "running>canceled",
	};
	char pair[64];
	snprintf(pair, sizeof pair, "%s>%s", sky_task_status_name(f),
	         sky_task_status_name(t));
	for (size_t i = 0; i < sizeof legal / sizeof *legal; i++)
		if (!strcmp(pair, legal[i]))
			return 1;
	return 0;
}

static int spec_step_legal(sky_step_status f, sky_step_status t)
{
	static const char *const legal[] = {
	    "created>running",   "created>failed",    "created>canceled",
	    "created>completed", "running>completed", "running>failed",
	    "running>canceled",
	};
	char pair[64];
	snprintf(pair, sizeof pair, "%s>%s", sky_step_status_name(f),
	         sky_step_status_name(t));
	for (size_t i = 0; i < sizeof legal / sizeof *legal; i++)
		if (!strcmp(pair, legal[i]))
			return 1;
	return 0;
}

START_TEST(status_helpers_match_spec)
{
	for (int f = 0; f < SKY_TASK_STATUS_COUNT; f++) {
		sky_task_status back;
		ck_assert_int_eq(
		    sky_task_status_from_name(sky_task_status_name(f), &back),
		    0);
		ck_assert_int_eq(back, f);
		for (int t = 0; t < SKY_TASK_STATUS_COUNT; t++)
			ck_assert_int_eq(sky_task_status_can_transition(f, t),
			                 spec_task_legal(f, t));
	}
	for (int f = 0; f < SKY_STEP_STATUS_COUNT; f++) {
		sky_step_status back;
		ck_assert_int_eq(
		    sky_step_status_from_name(sky_step_status_name(f), &back),
		    0);
		ck_assert_int_eq(back, f);
		for (int t = 0; t < SKY_STEP_STATUS_COUNT; t++)
			ck_assert_int_eq(sky_step_status_can_transition(f, t),
			                 spec_step_legal(f, t));
	}
	ck_assert(sky_task_status_is_final(SKY_TASK_TIMED_OUT));
	ck_assert(sky_task_status_is_final(SKY_TASK_CANCELED));
	ck_assert(!sky_task_status_is_final(SKY_TASK_QUEUED));
	ck_assert(sky_step_status_is_final(SKY_STEP_CANCELED));
	ck_assert(!sky_step_status_is_final(SKY_STEP_RUNNING));
	ck_assert(sky_task_status_needs_reason(SKY_TASK_TERMINATED));
	ck_assert(!sky_task_status_needs_reason(SKY_TASK_CANCELED));
	ck_assert_str_eq(sky_task_status_name(99), "unknown");
	sky_task_status st;
	ck_assert_int_eq(sky_task_status_from_name("Completed", &st),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_task_status_from_name(NULL, &st), SKY_EINVALID);
}
END_TEST

/* Drive a fresh task to `target` along legal moves. */
static char *task_in(sky_task_status target)
{
	char *id = mk_task(S, NULL, NULL, NULL, 0);
	static const sky_task_status via_running[] = {SKY_TASK_COMPLETED,
	                                              SKY_TASK_TERMINATED};
	int need_running = target == SKY_TASK_RUNNING;

	for (size_t i = 0; i < 2; i++)
		need_running |= target == via_running[i];
	if (target == SKY_TASK_CREATED)
		return id;
	if (need_running)
		ck_assert_int_eq(sky_store_task_set_status(
		                     S, id, SKY_TASK_RUNNING, NULL, NULL),
		                 0);
	if (target != SKY_TASK_RUNNING)
		ck_assert_msg(
		    sky_store_task_set_status(S, id, target, "why", NULL) == 0,
		    "%s", sky_error_last());
	ck_assert_int_eq(task_status(id), target);
	return id;
}

START_TEST(task_every_transition_pair)
{
	for (int f = 0; f < SKY_TASK_STATUS_COUNT; f++) {
		for (int t = 0; t < SKY_TASK_STATUS_COUNT; t++) {
			char *id = task_in(f);
			sky_task_rec *r = NULL;
			int rc =
			    sky_store_task_set_status(S, id, t, "reason", &r);
			if (spec_task_legal(f, t)) {
				ck_assert_msg(rc == 0, "%s -> %s: %s",
				              sky_task_status_name(f),
				              sky_task_status_name(t),
				              sky_error_last());
				ck_assert_int_eq(r->status, t);
				ck_assert_int_eq(task_status(id), t);
			} else {
				char want[160];
				snprintf(want, sizeof want,
				         "Invalid task status transition from "
				         "%s to %s for %s",
				         sky_task_status_name(f),
				         sky_task_status_name(t), id);
				ck_assert_int_eq(rc, SKY_EINVALID);
				ck_assert_ptr_null(r);
				ck_assert_str_eq(sky_error_last(), want);
				ck_assert_int_eq(task_status(id), f);
			}
			sky_task_rec_free(r);
			free(id);
		}
	}
}
END_TEST

START_TEST(task_failure_reason_required)
{
	char *a = mk_task(S, NULL, NULL, NULL, 0);
	char *b = task_in(SKY_TASK_RUNNING);
	sky_task_rec *r = NULL;

	ck_assert_int_eq(
	    sky_store_task_set_status(S, a, SKY_TASK_FAILED, NULL, NULL),
	    SKY_EINVALID);
	ck_assert(strstr(sky_error_last(), "failure_reason"));
	ck_assert_int_eq(
	    sky_store_task_set_status(S, a, SKY_TASK_FAILED, "", NULL),
	    SKY_EINVALID);
	ck_assert_int_eq(
	    sky_store_task_set_status(S, b, SKY_TASK_TERMINATED, NULL, NULL),
	    SKY_EINVALID);
	ck_assert_int_eq(task_status(a), SKY_TASK_CREATED);
	ck_assert_int_eq(task_status(b), SKY_TASK_RUNNING);

	ck_assert_int_eq(sky_store_task_set_status(S, b, SKY_TASK_TERMINATED,
	                                           "the job posting is closed",
	                                           &r),
	                 0);
	ck_assert_str_eq(r->failure_reason, "the job posting is closed");
	sky_task_rec_free(r);
	/* Canceled needs no reason. */
	ck_assert_int_eq(
	    sky_store_task_set_status(S, a, SKY_TASK_CANCELED, NULL, &r), 0);
	ck_assert_ptr_null(r->failure_reason);
	sky_task_rec_free(r);
	/* An unknown task is a not-found, not an invalid move. */
	ck_assert_int_eq(sky_store_task_set_status(
	                     S, "tsk_404", SKY_TASK_RUNNING, NULL, NULL),
	                 SKY_ENOTFOUND);
	ck_assert_str_eq(sky_error_last(), "Task run not found tsk_404");
	free(a);
	free(b);
}
END_TEST

START_TEST(task_timestamps_stamped_on_transitions)
{
	char *id = mk_task(S, NULL, NULL, NULL, 0);
	sky_task_rec *r = get_task(id), *q = NULL, *run = NULL, *done = NULL;
	int64_t before = r->created_at;

	ck_assert_int_gt(r->created_at, 1700000000000LL);
	ck_assert_int_eq(r->modified_at, r->created_at);
	ck_assert_int_eq(r->queued_at, 0);
	ck_assert_int_eq(r->started_at, 0);
	ck_assert_int_eq(r->finished_at, 0);

	ck_assert_int_eq(
	    sky_store_task_set_status(S, id, SKY_TASK_QUEUED, NULL, &q), 0);
	ck_assert_int_ge(q->queued_at, before);
	ck_assert_int_eq(q->started_at, 0);
	ck_assert_int_eq(q->finished_at, 0);
	ck_assert_int_eq(q->modified_at, q->queued_at);

	ck_assert_int_eq(
	    sky_store_task_set_status(S, id, SKY_TASK_RUNNING, NULL, &run), 0);
	ck_assert_int_eq(run->queued_at, q->queued_at);
	ck_assert_int_ge(run->started_at, q->queued_at);
	ck_assert_int_eq(run->finished_at, 0);

	ck_assert_int_eq(
	    sky_store_task_set_status(S, id, SKY_TASK_COMPLETED, NULL, &done),
	    0);
	ck_assert_int_eq(done->queued_at, q->queued_at);
	ck_assert_int_eq(done->started_at, run->started_at);
	ck_assert_int_ge(done->finished_at, run->started_at);
	ck_assert_int_eq(done->modified_at, done->finished_at);
	ck_assert_int_eq(done->created_at, r->created_at);
	sky_task_rec_free(r);
	sky_task_rec_free(q);
	sky_task_rec_free(run);
	sky_task_rec_free(done);
	free(id);

	/* created -> canceled: finished, never started. */
	id = mk_task(S, NULL, NULL, NULL, 0);
	ck_assert_int_eq(
	    sky_store_task_set_status(S, id, SKY_TASK_CANCELED, NULL, &r), 0);
	ck_assert_int_gt(r->finished_at, 0);
	ck_assert_int_eq(r->started_at, 0);
	ck_assert_int_eq(r->queued_at, 0);
	sky_task_rec_free(r);
	free(id);

	/* Created queued: queued_at from the start. */
	id = mk_task(S, NULL, NULL, NULL, 1);
	r = get_task(id);
	ck_assert_int_eq(r->status, SKY_TASK_QUEUED);
	ck_assert_int_eq(r->queued_at, r->created_at);
	sky_task_rec_free(r);
	free(id);
}
END_TEST

/* Drive a fresh step to `target`. */
static char *step_in(const char *task, int order, sky_step_status target)
{
	sky_step_rec *r = NULL;
	char *id;
	ck_assert_int_eq(sky_store_step_create(S, task, order, 0, &r), 0);
	id = strdup(r->step_id);
	sky_step_rec_free(r);
	if (target == SKY_STEP_CREATED)
		return id;
	ck_assert_int_eq(
	    sky_store_step_set_status(S, id, SKY_STEP_RUNNING, NULL), 0);
	if (target != SKY_STEP_RUNNING)
		ck_assert_int_eq(sky_store_step_set_status(S, id, target, NULL),
		                 0);
	return id;
}

START_TEST(step_every_transition_pair)
{
	char *task = mk_task(S, NULL, NULL, NULL, 0);
	int order = 0;
	for (int f = 0; f < SKY_STEP_STATUS_COUNT; f++) {
		for (int t = 0; t < SKY_STEP_STATUS_COUNT; t++) {
			char *id = step_in(task, order++, f);
			sky_step_rec *r = NULL;
			int rc = sky_store_step_set_status(S, id, t, &r);
			if (spec_step_legal(f, t)) {
				ck_assert_msg(rc == 0, "%s", sky_error_last());
				ck_assert_int_eq(r->status, t);
			} else {
				char want[160];
				snprintf(want, sizeof want,
				         "Invalid step status transition from "
				         "%s to %s for %s",
				         sky_step_status_name(f),
				         sky_step_status_name(t), id);
				ck_assert_int_eq(rc, SKY_EINVALID);
				ck_assert_str_eq(sky_error_last(), want);
				ck_assert_int_eq(sky_store_step_get(S, id, &r),
				                 0);
				ck_assert_int_eq(r->status, f);
			}
			sky_step_rec_free(r);
			free(id);
		}
	}
	free(task);
}
END_TEST

START_TEST(task_fields_round_trip)
{
	sky_task_new in = {0};
	sky_task_rec *r = NULL, *g = NULL;
	int existed = -1;

	in.run_type = SKY_RUN_TYPE_V2;
	in.engine = "skyvern-2.0";
	in.title = "Job Application Task";
	in.url = "https://jobs.example.com/apply";
	in.prompt = "Apply for a job: name: Chris P Bacon. ünïcödé ✓";
	in.data_extraction_goal = "did it work";
	in.proxy_location = "\"RESIDENTIAL\"";
	in.data_extraction_schema =
	    "{\"application_success\":{\"type\":\"boolean\"}}";
	in.error_code_mapping = "{\"NO_JOB\":\"the job is closed\"}";
	in.navigation_payload = "{\"phone\":\"555-0100\"}";
	in.max_steps = 7;
	in.webhook_url = "https://hooks.example.com/x";
	in.totp_identifier = "chris@pbacon.com";
	in.totp_url = "https://totp.example.com/";
	in.browser_session_id = "pbs_1";
	in.publish_workflow = 1;
	in.extra_http_headers = "{\"X-A\":\"b\"}";
	in.include_action_history_in_verification = 1;
	in.max_screenshot_scrolls = 0;
	in.browser_address = "ws://127.0.0.1:9222/devtools/browser/x";
	in.run_request = "{\"prompt\":\"x\",\"url\":null}";
	in.idempotency_key = "idem-1";
	in.workflow_permanent_id = "wpid_9";
	ck_assert_int_eq(sky_store_task_create(S, &in, &r, &existed), 0);
	ck_assert_int_eq(existed, 0);
	ck_assert(skyx_str_startswith(r->task_id, "tsk_v2_"));
	ck_assert_int_eq(
	    sky_store_task_get(S, sky_store_default_org(S), r->task_id, &g), 0);
	ck_assert_str_eq(g->organization_id, sky_store_default_org(S));
	ck_assert(skyx_str_startswith(g->organization_id, "o_"));
	ck_assert_str_eq(g->run_type, "task_v2");
	ck_assert_str_eq(g->engine, "skyvern-2.0");
	ck_assert_int_eq(g->status, SKY_TASK_CREATED);
	ck_assert_str_eq(g->title, in.title);
	ck_assert_str_eq(g->url, in.url);
	ck_assert_str_eq(g->prompt, in.prompt);
	ck_assert_str_eq(g->data_extraction_goal, in.data_extraction_goal);
	ck_assert_str_eq(g->proxy_location, in.proxy_location);
	ck_assert_str_eq(g->data_extraction_schema, in.data_extraction_schema);
	ck_assert_str_eq(g->error_code_mapping, in.error_code_mapping);
	ck_assert_str_eq(g->navigation_payload, in.navigation_payload);
	ck_assert_int_eq(g->max_steps, 7);
	ck_assert_str_eq(g->webhook_url, in.webhook_url);
	ck_assert_str_eq(g->totp_identifier, in.totp_identifier);
	ck_assert_str_eq(g->totp_url, in.totp_url);
	ck_assert_str_eq(g->browser_session_id, in.browser_session_id);
	ck_assert_int_eq(g->publish_workflow, 1);
	ck_assert_str_eq(g->extra_http_headers, in.extra_http_headers);
	ck_assert_int_eq(g->include_action_history_in_verification, 1);
	ck_assert_int_eq(g->max_screenshot_scrolls, 0);
	ck_assert_str_eq(g->browser_address, in.browser_address);
	ck_assert_str_eq(g->run_request, in.run_request);
	ck_assert_str_eq(g->idempotency_key, "idem-1");
	ck_assert_str_eq(g->workflow_permanent_id, "wpid_9");
	ck_assert_ptr_null(g->output);
	ck_assert_ptr_null(g->errors);
	ck_assert_ptr_null(g->parent_task_id);
	ck_assert_int_eq(g->step_count, 0);
	sky_task_rec_free(g);

	/* Setters. */
	ck_assert_int_eq(sky_store_task_set_output(S, r->task_id,
	                                           "{\"application_success\""
	                                           ":true}"),
	                 0);
	ck_assert_int_eq(sky_store_task_set_errors(
	                     S, r->task_id, "[{\"error_code\":\"NO_JOB\"}]"),
	                 0);
	ck_assert_int_eq(sky_store_task_set_webhook_failure_reason(
	                     S, r->task_id, "HTTP 500"),
	                 0);
	ck_assert_int_eq(sky_store_task_set_step_count(S, r->task_id, 4), 0);
	ck_assert_int_eq(sky_store_task_set_proxy_applied(
	                     S, r->task_id, "{\"server\":\"none\"}"),
	                 0);
	ck_assert_int_eq(sky_store_task_set_notes(S, r->task_id, "[1]"), 0);
	g = get_task(r->task_id);
	ck_assert_str_eq(g->output, "{\"application_success\":true}");
	ck_assert_str_eq(g->errors, "[{\"error_code\":\"NO_JOB\"}]");
	ck_assert_str_eq(g->webhook_failure_reason, "HTTP 500");
	ck_assert_int_eq(g->step_count, 4);
	ck_assert_str_eq(g->proxy_applied, "{\"server\":\"none\"}");
	ck_assert_str_eq(g->notes, "[1]");
	ck_assert_int_ge(g->modified_at, g->created_at);
	sky_task_rec_free(g);
	/* Bad JSON never lands, and its text is not echoed. */
	ck_assert_int_eq(
	    sky_store_task_set_output(S, r->task_id, "{\"secret\": hunter2"),
	    SKY_EINVALID);
	ck_assert(strstr(sky_error_last(), "output is not valid JSON"));
	ck_assert(!strstr(sky_error_last(), "hunter2"));
	ck_assert_int_eq(sky_store_task_set_errors(S, r->task_id, "{}"),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_task_set_output(S, "tsk_1", "1"),
	                 SKY_ENOTFOUND);
	g = get_task(r->task_id);
	ck_assert_str_eq(g->output, "{\"application_success\":true}");
	sky_task_rec_free(g);
	/* Clearing with NULL. */
	ck_assert_int_eq(sky_store_task_set_output(S, r->task_id, NULL), 0);
	g = get_task(r->task_id);
	ck_assert_ptr_null(g->output);
	sky_task_rec_free(g);
	sky_task_rec_free(r);
}
END_TEST

START_TEST(task_create_validates)
{
	sky_task_new in = {0};
	sky_task_rec *r = (sky_task_rec *)1;

	in.run_type = SKY_RUN_TYPE_V1;
	in.engine = "skyvern-1.0";
	ck_assert_int_eq(sky_store_task_create(S, &in, &r, NULL), SKY_EINVALID);
	ck_assert_ptr_null(r);
	in.prompt = "";
	in.run_type = "task_v9";
	ck_assert_int_eq(sky_store_task_create(S, &in, &r, NULL), SKY_EINVALID);
	ck_assert(strstr(sky_error_last(), "task_v9"));
	in.run_type = SKY_RUN_TYPE_V1;
	in.navigation_payload = "{nope";
	ck_assert_int_eq(sky_store_task_create(S, &in, &r, NULL), SKY_EINVALID);
	ck_assert(strstr(sky_error_last(), "navigation_payload"));
	in.navigation_payload = NULL;
	in.organization_id = "o_404";
	ck_assert_int_eq(sky_store_task_create(S, &in, &r, NULL),
	                 SKY_ENOTFOUND);
	ck_assert(strstr(sky_error_last(), "o_404"));
	in.organization_id = NULL;
	in.parent_task_id = "tsk_v2_404";
	ck_assert_int_eq(sky_store_task_create(S, &in, &r, NULL),
	                 SKY_ENOTFOUND);
	in.parent_task_id = NULL;
	/* An empty prompt is allowed (the API allows it). */
	ck_assert_int_eq(sky_store_task_create(S, &in, &r, NULL), 0);
	ck_assert_str_eq(r->prompt, "");
	ck_assert(skyx_str_startswith(r->task_id, "tsk_"));
	ck_assert(!skyx_str_startswith(r->task_id, "tsk_v2_"));
	ck_assert_int_eq(r->max_steps, 0);
	ck_assert_int_eq(r->max_screenshot_scrolls, 0);
	sky_task_rec_free(r);
}
END_TEST

START_TEST(task_idempotency_key)
{
	sky_task_new in = {0};
	sky_task_rec *a = NULL, *b = NULL, *c = NULL;
	sky_org_rec *org = NULL;
	sky_task_list *l = NULL;
	sky_task_query q = {0};
	int existed = -1;

	ck_assert_int_eq(sky_store_org_create(S, "acme", &org), 0);
	in.run_type = SKY_RUN_TYPE_V1;
	in.engine = "skyvern-1.0";
	in.prompt = "first";
	in.idempotency_key = "order-42";
	ck_assert_int_eq(sky_store_task_create(S, &in, &a, &existed), 0);
	ck_assert_int_eq(existed, 0);
	in.prompt = "second";
	ck_assert_int_eq(sky_store_task_create(S, &in, &b, &existed), 0);
	ck_assert_int_eq(existed, 1);
	ck_assert_str_eq(b->task_id, a->task_id);
	ck_assert_str_eq(b->prompt, "first");
	/* Keys are per organization. */
	in.organization_id = org->organization_id;
	ck_assert_int_eq(sky_store_task_create(S, &in, &c, &existed), 0);
	ck_assert_int_eq(existed, 0);
	ck_assert_str_ne(c->task_id, a->task_id);
	ck_assert_int_eq(sky_store_task_list(S, &q, &l), 0);
	ck_assert_int_eq(l->total, 2);
	/* The other organization cannot see the first task. */
	sky_task_rec *g = NULL;
	ck_assert_int_eq(
	    sky_store_task_get(S, org->organization_id, a->task_id, &g),
	    SKY_ENOTFOUND);
	char want[96];
	snprintf(want, sizeof want, "Task run not found %s", a->task_id);
	ck_assert_str_eq(sky_error_last(), want);
	ck_assert_ptr_null(g);
	sky_task_list_free(l);
	sky_task_rec_free(a);
	sky_task_rec_free(b);
	sky_task_rec_free(c);
	sky_org_rec_free(org);
}
END_TEST

static char **page_ids(sky_task_query *q, int *total, size_t *n)
{
	sky_task_list *l = NULL;
	char **ids;
	ck_assert_msg(sky_store_task_list(S, q, &l) == 0, "%s",
	              sky_error_last());
	ids = calloc(l->count + 1, sizeof *ids);
	for (size_t i = 0; i < l->count; i++)
		ids[i] = strdup(l->items[i].task_id);
	*total = (int)l->total;
	*n = l->count;
	sky_task_list_free(l);
	return ids;
}

static void free_ids(char **ids)
{
	for (char **p = ids; *p; p++)
		free(*p);
	free(ids);
}

START_TEST(task_list_paging_sorting_filters)
{
	enum { N = 23 };
	char *ids[N];
	sky_org_rec *org = NULL;
	sky_task_query q = {0};
	char **got;
	size_t n;
	int total;

	ck_assert_int_eq(sky_store_org_create(S, "other", &org), 0);
	for (int i = 0; i < N; i++)
		ids[i] = mk_task(S, NULL, i % 3 == 2 ? SKY_RUN_TYPE_V2 : NULL,
		                 NULL, 0);
	/* Noise in another organization and a sub-task. */
	free(mk_task(S, org->organization_id, NULL, NULL, 0));
	char *sub = mk_task(S, NULL, NULL, ids[2], 0);

	/* Newest first by default, 10 a page, total ignores paging. */
	q.organization_id = sky_store_default_org(S);
	q.top_level_only = 1;
	q.page_size = 10;
	for (int page = 1; page <= 3; page++) {
		q.page = page;
		got = page_ids(&q, &total, &n);
		ck_assert_int_eq(total, N);
		ck_assert_uint_eq(n, page < 3 ? 10 : 3);
		for (size_t i = 0; i < n; i++)
			ck_assert_str_eq(got[i],
			                 ids[N - 1 - ((page - 1) * 10 + i)]);
		free_ids(got);
	}
	q.page = 4;
	got = page_ids(&q, &total, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(total, N);
	free_ids(got);

	/* Ascending. */
	q.page = 1;
	q.ascending = 1;
	got = page_ids(&q, &total, &n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(got[i], ids[i]);
	free_ids(got);

	/* Sub-tasks count unless left out. */
	q.top_level_only = 0;
	q.page_size = 0;
	got = page_ids(&q, &total, &n);
	ck_assert_int_eq(total, N + 1);
	ck_assert_str_eq(got[N], sub);
	free_ids(got);
	q.top_level_only = 1;

	/* Status filter with several statuses. */
	sky_store_task_set_status(S, ids[0], SKY_TASK_RUNNING, NULL, NULL);
	sky_store_task_set_status(S, ids[1], SKY_TASK_CANCELED, NULL, NULL);
	sky_store_task_set_status(S, ids[4], SKY_TASK_RUNNING, NULL, NULL);
	sky_store_task_set_status(S, ids[4], SKY_TASK_COMPLETED, NULL, NULL);
	q.status_mask =
	    SKY_TASK_MASK(SKY_TASK_RUNNING) | SKY_TASK_MASK(SKY_TASK_CANCELED);
	got = page_ids(&q, &total, &n);
	ck_assert_int_eq(total, 2);
	ck_assert_str_eq(got[0], ids[0]);
	ck_assert_str_eq(got[1], ids[1]);
	free_ids(got);
	q.status_mask = SKY_TASK_MASK(SKY_TASK_COMPLETED);
	got = page_ids(&q, &total, &n);
	ck_assert_int_eq(total, 1);
	ck_assert_str_eq(got[0], ids[4]);
	free_ids(got);
	q.status_mask = 0;

	/* run_type filter. */
	q.run_type = SKY_RUN_TYPE_V2;
	got = page_ids(&q, &total, &n);
	ck_assert_int_eq(total, N / 3);
	for (size_t i = 0; i < n; i++)
		ck_assert(skyx_str_startswith(got[i], "tsk_v2_"));
	free_ids(got);
	q.run_type = NULL;

	/* modified_at: touch three tasks, a millisecond apart so their
	 * order is defined, and they come first (newest first). */
	for (int i = 10; i < 13; i++) {
		skyx_time_sleep_ms(2);
		ck_assert_int_eq(sky_store_task_set_output(S, ids[i], "1"), 0);
	}
	q.sort = SKY_TASK_SORT_MODIFIED_AT;
	q.ascending = 0;
	q.page_size = 3;
	got = page_ids(&q, &total, &n);
	ck_assert_str_eq(got[0], ids[12]);
	ck_assert_str_eq(got[1], ids[11]);
	ck_assert_str_eq(got[2], ids[10]);
	free_ids(got);

	/* Every organization, and a bad filter. */
	q = (sky_task_query){0};
	got = page_ids(&q, &total, &n);
	ck_assert_int_eq(total, N + 2);
	free_ids(got);
	q.status_mask = 1u << 20;
	sky_task_list *l = NULL;
	ck_assert_int_eq(sky_store_task_list(S, &q, &l), SKY_EINVALID);
	q.status_mask = 0;
	q.page = -1;
	ck_assert_int_eq(sky_store_task_list(S, &q, &l), SKY_EINVALID);

	/* Recovery view: every running task, oldest first. */
	sky_store_task_set_status(S, ids[7], SKY_TASK_RUNNING, NULL, NULL);
	ck_assert_int_eq(
	    sky_store_task_list_status(S, SKY_TASK_MASK(SKY_TASK_RUNNING), &l),
	    0);
	ck_assert_uint_eq(l->count, 2);
	ck_assert_str_eq(l->items[0].task_id, ids[0]);
	ck_assert_str_eq(l->items[1].task_id, ids[7]);
	sky_task_list_free(l);

	for (int i = 0; i < N; i++)
		free(ids[i]);
	free(sub);
	sky_org_rec_free(org);
}
END_TEST

/* ---- claims under concurrency ---------------------------------------- */

#define CLAIM_TASKS 300
#define CLAIM_THREADS 4

struct claimer {
	sky_store *s;
	char *ids[CLAIM_TASKS];
	int n;
	int errors;
};

static void *claim_worker(void *arg)
{
	struct claimer *c = arg;
	for (;;) {
		sky_task_rec *r = NULL;
		if (sky_store_task_claim(c->s, &LEASE, NULL, &r, NULL)) {
			c->errors++;
			break;
		}
		if (!r)
			break;
		if (r->status != SKY_TASK_RUNNING || r->started_at == 0)
			c->errors++;
		c->ids[c->n++] = strdup(r->task_id);
		sky_task_rec_free(r);
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Half the claimers on S, half on a second handle: threads of one
 * process and processes sharing the store. */
START_TEST(claim_each_task_exactly_once)
{
	static struct claimer cl[CLAIM_THREADS];
	pthread_t th[CLAIM_THREADS];
	char *all[CLAIM_TASKS];
	char *dir2;
	sky_store *s2 = open_second(&dir2);
	int n = 0;

	for (int i = 0; i < CLAIM_TASKS; i++)
		free(mk_task(S, NULL, NULL, NULL, i % 2));
	for (int t = 0; t < CLAIM_THREADS; t++) {
		cl[t].s = t % 2 ? s2 : S;
		pthread_create(&th[t], NULL, claim_worker, &cl[t]);
	}
	for (int t = 0; t < CLAIM_THREADS; t++)
		pthread_join(th[t], NULL);
	sky_store_close(s2);
	skyx_rm_rf(dir2);
	free(dir2);
	for (int t = 0; t < CLAIM_THREADS; t++) {
		ck_assert_int_eq(cl[t].errors, 0);
		for (int i = 0; i < cl[t].n; i++)
			all[n++] = cl[t].ids[i];
	}
	ck_assert_int_eq(n, CLAIM_TASKS);
	qsort(all, (size_t)n, sizeof *all, cmp_str);
	for (int i = 1; i < n; i++)
		ck_assert_str_ne(all[i - 1], all[i]);
	for (int i = 0; i < n; i++)
		free(all[i]);
	sky_task_list *l = NULL;
	ck_assert_int_eq(
	    sky_store_task_list_status(S, SKY_TASK_MASK_ACTIVE, &l), 0);
	ck_assert_uint_eq(l->count, CLAIM_TASKS);
	for (size_t i = 0; i < l->count; i++)
		ck_assert_int_eq(l->items[i].status, SKY_TASK_RUNNING);
	sky_task_list_free(l);
}
END_TEST

START_TEST(claim_oldest_first_and_filters)
{
	char *a = mk_task(S, NULL, NULL, NULL, 0);
	char *b = mk_task(S, NULL, SKY_RUN_TYPE_V2, NULL, 1);
	char *c = mk_task(S, NULL, NULL, NULL, 0);
	char *sub = mk_task(S, NULL, NULL, b, 0);
	sky_task_rec *r = NULL;

	/* Canceled tasks are not runnable. */
	ck_assert_int_eq(
	    sky_store_task_set_status(S, a, SKY_TASK_CANCELED, NULL, NULL), 0);
	ck_assert_int_eq(
	    sky_store_task_claim(S, &LEASE, SKY_RUN_TYPE_V1, &r, NULL), 0);
	ck_assert_str_eq(r->task_id, c);
	sky_task_rec_free(r);
	ck_assert_int_eq(sky_store_task_claim(S, &LEASE, NULL, &r, NULL), 0);
	ck_assert_str_eq(r->task_id, b);
	ck_assert_int_gt(r->queued_at, 0);
	ck_assert_int_gt(r->started_at, 0);
	sky_task_rec_free(r);
	/* The sub-task belongs to its v2 run, not to the queue. */
	ck_assert_int_eq(sky_store_task_claim(S, &LEASE, NULL, &r, NULL), 0);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(task_status(sub), SKY_TASK_CREATED);
	free(a);
	free(b);
	free(c);
	free(sub);
}
END_TEST

/* Leases: a claimed run is held by its owner while renewed, handed to
 * another owner once the lease expires (a resume), let go of at once by
 * a drop, and lost to its old owner when another holds it or it ends. */
START_TEST(lease_expiry_hands_a_run_to_another_owner)
{
	sky_lease a = {"n_a", 200}, b = {"n_b", 600000};
	char *id = mk_task(S, NULL, NULL, NULL, 0);
	const char *ids[1] = {id};
	sky_task_rec *r = NULL;
	int re = -1, lost[1] = {-1}, n = -1;

	ck_assert_int_eq(sky_store_task_claim(S, &a, NULL, &r, &re), 0);
	ck_assert_str_eq(r->task_id, id);
	ck_assert_int_eq(re, 0);
	sky_task_rec_free(r);
	/* Held: nobody else gets it. */
	ck_assert_int_eq(sky_store_task_claim(S, &b, NULL, &r, &re), 0);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(sky_store_task_lease_renew(S, &a, ids, 1, lost), 0);
	ck_assert_int_eq(lost[0], 0);
	/* a stops renewing (its process died): b takes the run over. */
	usleep(400 * 1000);
	ck_assert_int_eq(sky_store_task_claim(S, &b, NULL, &r, &re), 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->task_id, id);
	ck_assert_int_eq(r->status, SKY_TASK_RUNNING);
	ck_assert_int_eq(re, 1);
	sky_task_rec_free(r);
	/* a, back, finds it lost; b keeps it. */
	ck_assert_int_eq(sky_store_task_lease_renew(S, &a, ids, 1, lost), 0);
	ck_assert_int_eq(lost[0], 1);
	ck_assert_int_eq(sky_store_task_lease_renew(S, &b, ids, 1, lost), 0);
	ck_assert_int_eq(lost[0], 0);
	/* A drop by an owner lets go of its own runs only. */
	ck_assert_int_eq(sky_store_task_lease_drop(S, "n_a", NULL, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sky_store_task_lease_drop(S, "n_b", NULL, &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(sky_store_task_claim(S, &a, NULL, &r, &re), 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(re, 1);
	sky_task_rec_free(r);
	/* A final run is no one's: renewing reports it lost, nobody
	 * claims it. */
	ck_assert_int_eq(
	    sky_store_task_set_status(S, id, SKY_TASK_COMPLETED, NULL, NULL),
	    0);
	ck_assert_int_eq(sky_store_task_lease_renew(S, &a, ids, 1, lost), 0);
	ck_assert_int_eq(lost[0], 1);
	usleep(400 * 1000);
	ck_assert_int_eq(sky_store_task_claim(S, &b, NULL, &r, &re), 0);
	ck_assert_ptr_null(r);
	/* Bad leases are refused. */
	sky_lease bad = {NULL, 1000}, zero = {"n_a", 0};
	ck_assert_int_eq(sky_store_task_claim(S, &bad, NULL, &r, &re),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_task_claim(S, &zero, NULL, &r, &re),
	                 SKY_EINVALID);
	free(id);
}
END_TEST

/* Several runnable tasks: the queue hands them out oldest first (the
 * test above has one candidate per claim, so it says nothing of order). */
START_TEST(claim_takes_the_oldest_of_several)
{
	enum { N = 4 };
	char *ids[N];
	for (int i = 0; i < N; i++)
		ids[i] = mk_task(S, NULL, NULL, NULL, 0);
	for (int i = 0; i < N; i++) {
		sky_task_rec *r = NULL;
		ck_assert_int_eq(
		    sky_store_task_claim(S, &LEASE, NULL, &r, NULL), 0);
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(r->task_id, ids[i]);
		sky_task_rec_free(r);
	}
	sky_task_rec *none = NULL;
	ck_assert_int_eq(sky_store_task_claim(S, &LEASE, NULL, &none, NULL), 0);
	ck_assert_ptr_null(none);
	for (int i = 0; i < N; i++)
		free(ids[i]);
}
END_TEST

/* ---- readers beside the writer ----------------------------------------- */

struct rw_arg {
	char **ids;
	int n;
	int errors;
	int *stop;
};

static void *reader_worker(void *arg)
{
	struct rw_arg *a = arg;
	int i = 0;
	while (!__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) {
		sky_task_rec *r = NULL;
		if (sky_store_task_get(S, NULL, a->ids[i++ % a->n], &r))
			a->errors++;
		sky_task_rec_free(r);
	}
	return NULL;
}

START_TEST(readers_run_beside_writer)
{
	enum { N = 50, R = 4 };
	char *ids[N];
	struct rw_arg args[R];
	pthread_t th[R];
	int stop = 0;

	for (int i = 0; i < N; i++)
		ids[i] = mk_task(S, NULL, NULL, NULL, 0);
	for (int t = 0; t < R; t++) {
		args[t] = (struct rw_arg){ids, N, 0, &stop};
		pthread_create(&th[t], NULL, reader_worker, &args[t]);
	}
	/* The writer moves every task through its life while readers read;
	 * a reader sees each write that returned before its read began. */
	for (int i = 0; i < N; i++) {
		sky_task_rec *r = NULL;
		ck_assert_int_eq(sky_store_task_set_status(
		                     S, ids[i], SKY_TASK_RUNNING, NULL, NULL),
		                 0);
		ck_assert_int_eq(sky_store_task_get(S, NULL, ids[i], &r), 0);
		ck_assert_int_eq(r->status, SKY_TASK_RUNNING);
		sky_task_rec_free(r);
		ck_assert_int_eq(sky_store_task_set_status(
		                     S, ids[i], SKY_TASK_COMPLETED, NULL, NULL),
		                 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int t = 0; t < R; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(args[t].errors, 0);
	}
	for (int i = 0; i < N; i++)
		free(ids[i]);
}
END_TEST

/* ---- ids ------------------------------------------------------------- */

#define ID_THREADS 4
#define ID_PER_THREAD 250

static void *create_worker(void *arg)
{
	char **out = arg;
	for (int i = 0; i < ID_PER_THREAD; i++) {
		sky_task_new in = {0};
		sky_task_rec *r = NULL;
		in.run_type = i % 2 ? SKY_RUN_TYPE_V2 : SKY_RUN_TYPE_V1;
		in.engine = "skyvern-2.0";
		in.prompt = "p";
		if (sky_store_task_create(S, &in, &r, NULL))
			return (void *)1;
		out[i] = strdup(r->task_id);
		sky_task_rec_free(r);
	}
	return NULL;
}

START_TEST(ids_unique_under_threads)
{
	static char *ids[ID_THREADS * ID_PER_THREAD];
	pthread_t th[ID_THREADS];
	sky_task_list *l = NULL;
	sky_task_query q = {0};

	for (int t = 0; t < ID_THREADS; t++)
		pthread_create(&th[t], NULL, create_worker,
		               &ids[t * ID_PER_THREAD]);
	for (int t = 0; t < ID_THREADS; t++) {
		void *res;
		pthread_join(th[t], &res);
		ck_assert_ptr_null(res);
	}
	qsort(ids, ID_THREADS * ID_PER_THREAD, sizeof *ids, cmp_str);
	for (int i = 1; i < ID_THREADS * ID_PER_THREAD; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
	for (int i = 0; i < ID_THREADS * ID_PER_THREAD; i++)
		free(ids[i]);
	q.page_size = 1;
	ck_assert_int_eq(sky_store_task_list(S, &q, &l), 0);
	ck_assert_int_eq(l->total, ID_THREADS * ID_PER_THREAD);
	sky_task_list_free(l);
}
END_TEST

/* ---- steps, actions, artifacts ------------------------------------------ */

START_TEST(steps_order_tokens_and_count)
{
	char *task = mk_task(S, NULL, NULL, NULL, 0);
	sky_step_rec *a = NULL, *b = NULL, *c = NULL, *g = NULL;
	sky_step_list *l = NULL;
	sky_step_usage u = {100, 20, 5, 50, 0.25, "gpt-test"};

	/* Inserted out of order; listed by (order, retry_index). */
	ck_assert_int_eq(sky_store_step_create(S, task, 1, 0, &c), 0);
	ck_assert_int_eq(sky_store_step_create(S, task, 0, 1, &b), 0);
	ck_assert_int_eq(sky_store_step_create(S, task, 0, 0, &a), 0);
	ck_assert(skyx_str_startswith(a->step_id, "stp_"));
	ck_assert_str_eq(a->organization_id, sky_store_default_org(S));
	ck_assert_int_eq(sky_store_step_create(S, task, 0, 1, NULL),
	                 SKY_EEXISTS);
	ck_assert(strstr(sky_error_last(), "order 0, retry_index 1"));
	ck_assert_int_eq(sky_store_step_create(S, "tsk_404", 0, 0, NULL),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(sky_store_step_create(S, task, -1, 0, NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_step_list(S, task, &l), 0);
	ck_assert_uint_eq(l->count, 3);
	ck_assert_str_eq(l->items[0].step_id, a->step_id);
	ck_assert_str_eq(l->items[1].step_id, b->step_id);
	ck_assert_str_eq(l->items[2].step_id, c->step_id);
	sky_step_list_free(l);
	sky_task_rec *t = get_task(task);
	ck_assert_int_eq(t->step_count, 3);
	sky_task_rec_free(t);

	/* Usage adds up, model is the last one named. */
	ck_assert_int_eq(sky_store_step_add_usage(S, a->step_id, &u), 0);
	u.model = NULL;
	ck_assert_int_eq(sky_store_step_add_usage(S, a->step_id, &u), 0);
	u.model = "gpt-other";
	u.cost = 0.5;
	ck_assert_int_eq(sky_store_step_add_usage(S, a->step_id, &u), 0);
	ck_assert_int_eq(sky_store_step_set_last(S, a->step_id), 0);
	ck_assert_int_eq(
	    sky_store_step_set_output(S, a->step_id, "{\"action_results\":[]}"),
	    0);
	ck_assert_int_eq(sky_store_step_set_output(S, a->step_id, "{"),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_step_get(S, a->step_id, &g), 0);
	ck_assert_int_eq(g->input_token_count, 300);
	ck_assert_int_eq(g->output_token_count, 60);
	ck_assert_int_eq(g->reasoning_token_count, 15);
	ck_assert_int_eq(g->cached_token_count, 150);
	ck_assert(g->step_cost > 0.999 && g->step_cost < 1.001);
	ck_assert_str_eq(g->last_llm_model, "gpt-other");
	ck_assert_int_eq(g->is_last, 1);
	ck_assert_str_eq(g->output, "{\"action_results\":[]}");
	sky_step_rec_free(g);
	u.input_tokens = -1;
	ck_assert_int_eq(sky_store_step_add_usage(S, a->step_id, &u),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_step_get(S, "stp_404", &g), SKY_ENOTFOUND);
	ck_assert_int_eq(sky_store_step_list(S, "tsk_404", &l), 0);
	ck_assert_uint_eq(l->count, 0);
	sky_step_list_free(l);
	sky_step_rec_free(a);
	sky_step_rec_free(b);
	sky_step_rec_free(c);
	free(task);
}
END_TEST

START_TEST(actions_append_and_history)
{
	char *task = mk_task(S, NULL, NULL, NULL, 0);
	sky_step_rec *s0 = NULL, *s0r = NULL, *s1 = NULL;
	sky_action_list *l = NULL;
	sky_action_rec *a = NULL;

	sky_store_step_create(S, task, 0, 0, &s0);
	sky_store_step_create(S, task, 1, 0, &s1);
	sky_store_step_create(S, task, 0, 1, &s0r);
	ck_assert_int_eq(sky_store_action_append(
	                     S, s1->step_id,
	                     "{\"action_type\":\"complete\",\"reasoning\""
	                     ":\"done\"}",
	                     "{\"success\":true}", "completed", &a),
	                 0);
	ck_assert_int_eq(a->action_index, 0);
	ck_assert_str_eq(a->action_type, "complete");
	ck_assert_ptr_null(a->element_id);
	ck_assert_int_eq(a->step_order, 1);
	ck_assert(skyx_str_startswith(a->action_id, "act_"));
	sky_action_rec_free(a);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(sky_store_action_append(
		                     S, s0->step_id,
		                     "{\"action_type\":\"input_text\","
		                     "\"element_id\":\"12\",\"text\":\"x\"}",
		                     "{\"success\":false,\"error\":"
		                     "\"not_visible\"}",
		                     "failed", &a),
		                 0);
		ck_assert_int_eq(a->action_index, i);
		ck_assert_str_eq(a->element_id, "12");
		ck_assert_str_eq(a->task_id, task);
		sky_action_rec_free(a);
	}
	ck_assert_int_eq(sky_store_action_append(
	                     S, s0r->step_id,
	                     "{\"action_type\":\"click\",\"element_id\":7}",
	                     NULL, "pending", NULL),
	                 0);
	/* History: (order, retry, index). */
	ck_assert_int_eq(sky_store_action_list(S, task, NULL, &l), 0);
	ck_assert_uint_eq(l->count, 5);
	ck_assert_str_eq(l->items[0].step_id, s0->step_id);
	ck_assert_int_eq(l->items[2].action_index, 2);
	ck_assert_str_eq(l->items[3].step_id, s0r->step_id);
	ck_assert_str_eq(l->items[3].element_id, "7");
	ck_assert_ptr_null(l->items[3].result);
	ck_assert_str_eq(l->items[4].action_type, "complete");
	ck_assert_str_eq(l->items[4].result, "{\"success\":true}");
	sky_action_list_free(l);
	ck_assert_int_eq(sky_store_action_list(S, task, s0->step_id, &l), 0);
	ck_assert_uint_eq(l->count, 3);
	sky_action_list_free(l);

	ck_assert_int_eq(sky_store_action_append(S, s0->step_id, "[1]", NULL,
	                                         "failed", NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_action_append(S, s0->step_id,
	                                         "{\"action_type\":\"x\"}",
	                                         "{bad", "failed", NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_action_append(S, "stp_404",
	                                         "{\"action_type\":\"x\"}",
	                                         NULL, "failed", NULL),
	                 SKY_ENOTFOUND);
	ck_assert_str_eq(sky_error_last(), "Step not found stp_404");
	sky_step_rec_free(s0);
	sky_step_rec_free(s0r);
	sky_step_rec_free(s1);
	free(task);
}
END_TEST

/* Write-ahead: an issued action is finished once, with its result. */
START_TEST(issued_action_is_finished_once)
{
	char *task = mk_task(S, NULL, NULL, NULL, 0);
	sky_step_rec *st = NULL;
	sky_action_rec *a = NULL;
	sky_action_list *l = NULL;
	sky_store_step_create(S, task, 0, 0, &st);
	ck_assert_int_eq(sky_store_action_append(
	                     S, st->step_id,
	                     "{\"action_type\":\"click\",\"element_id\":\"5\"}",
	                     NULL, SKY_ACTION_ISSUED, &a),
	                 0);
	ck_assert_int_eq(sky_store_action_finish(S, a->action_id,
	                                         "{\"success\":true}",
	                                         "completed"),
	                 0);
	ck_assert_int_eq(sky_store_action_list(S, task, NULL, &l), 0);
	ck_assert_uint_eq(l->count, 1);
	ck_assert_str_eq(l->items[0].status, "completed");
	ck_assert_str_eq(l->items[0].result, "{\"success\":true}");
	ck_assert_str_eq(l->items[0].element_id, "5");
	sky_action_list_free(l);
	/* Only once: a finished action keeps its result. */
	ck_assert_int_eq(sky_store_action_finish(
	                     S, a->action_id, "{\"success\":false}", "failed"),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(sky_store_action_finish(S, "act_404", NULL, "failed"),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(
	    sky_store_action_finish(S, a->action_id, NULL, SKY_ACTION_ISSUED),
	    SKY_EINVALID);
	ck_assert_int_eq(
	    sky_store_action_finish(S, a->action_id, "{bad", "failed"),
	    SKY_EINVALID);
	sky_action_rec_free(a);
	sky_step_rec_free(st);
	free(task);
}
END_TEST

START_TEST(artifacts_index)
{
	char *task = mk_task(S, NULL, NULL, NULL, 0);
	char *other = mk_task(S, NULL, NULL, NULL, 0);
	sky_step_rec *st = NULL, *ost = NULL;
	sky_artifact_rec *a = NULL, *g = NULL;
	sky_artifact_list *l = NULL;
	sky_org_rec *org = NULL;

	sky_store_step_create(S, task, 0, 0, &st);
	sky_store_step_create(S, other, 0, 0, &ost);
	ck_assert_int_eq(sky_store_artifact_add(
	                     S, task, st->step_id, SKY_ARTIFACT_SCREENSHOT_LLM,
	                     "artifacts/tsk/1.png", 1234, NULL, &a),
	                 0);
	ck_assert(skyx_str_startswith(a->artifact_id, "a_"));
	ck_assert_int_eq(
	    sky_store_artifact_add(S, task, NULL, SKY_ARTIFACT_RECORDING,
	                           "artifacts/tsk/rec.webm", 9, "ab12", NULL),
	    0);
	ck_assert_int_eq(sky_store_artifact_add(S, task, st->step_id,
	                                        SKY_ARTIFACT_LLM_PROMPT,
	                                        "p.txt", 1, NULL, NULL),
	                 0);
	ck_assert_int_eq(sky_store_artifact_list(S, task, NULL, &l), 0);
	ck_assert_uint_eq(l->count, 3);
	ck_assert_str_eq(l->items[0].artifact_id, a->artifact_id);
	ck_assert_int_eq(l->items[0].size, 1234);
	ck_assert_ptr_null(l->items[1].step_id);
	ck_assert_str_eq(l->items[1].sha256, "ab12");
	sky_artifact_list_free(l);
	ck_assert_int_eq(sky_store_artifact_list(S, task, "recording", &l), 0);
	ck_assert_uint_eq(l->count, 1);
	sky_artifact_list_free(l);

	/* Paths that could leave the data dir, bad kinds, wrong step. */
	const char *bad[] = {"/etc/passwd", "../x", "a/../../x", "a/./b",
	                     "a//b",        "",     "a\\..\\b",  "dir/"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ck_assert_msg(sky_store_artifact_add(S, task, NULL, "log",
		                                     bad[i], 0, NULL,
		                                     NULL) == SKY_EINVALID,
		              "%s", bad[i]);
	ck_assert_int_eq(sky_store_artifact_add(S, task, NULL, "Screen Shot",
	                                        "x", 0, NULL, NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_artifact_add(S, task, ost->step_id, "log",
	                                        "x", 0, NULL, NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_artifact_add(S, "tsk_404", NULL, "log", "x",
	                                        0, NULL, NULL),
	                 SKY_ENOTFOUND);

	/* Scoped get. */
	ck_assert_int_eq(sky_store_artifact_get(S, sky_store_default_org(S),
	                                        a->artifact_id, &g),
	                 0);
	ck_assert_str_eq(g->path, "artifacts/tsk/1.png");
	sky_artifact_rec_free(g);
	sky_store_org_create(S, "x", &org);
	ck_assert_int_eq(
	    sky_store_artifact_get(S, org->organization_id, a->artifact_id, &g),
	    SKY_ENOTFOUND);
	sky_org_rec_free(org);
	sky_artifact_rec_free(a);
	sky_step_rec_free(st);
	sky_step_rec_free(ost);
	free(task);
	free(other);
}
END_TEST

/* ---- TOTP ----------------------------------------------------------- */

START_TEST(totp_newest_unused_unexpired)
{
	sky_totp_new in = {0};
	sky_totp_rec *r = NULL;
	char *task = mk_task(S, NULL, NULL, NULL, 0);
	int64_t t0 = skyx_time_now_ms();

	in.totp_identifier = "chris@pbacon.com";
	in.content = "Your code is 111111";
	in.code = "111111";
	ck_assert_int_eq(sky_store_totp_add(S, &in, &r), 0);
	ck_assert(skyx_str_startswith(r->totp_code_id, "totp_"));
	ck_assert_str_eq(r->status, "unused");
	ck_assert_str_eq(r->otp_type, "totp");
	sky_totp_rec_free(r);
	skyx_time_sleep_ms(2);
	in.content = in.code = "222222";
	in.task_id = task;
	ck_assert_int_eq(sky_store_totp_add(S, &in, NULL), 0);
	skyx_time_sleep_ms(2);
	in.content = in.code = "333333";
	in.task_id = "tsk_someone_else";
	ck_assert_int_eq(sky_store_totp_add(S, &in, NULL), 0);
	in.content = in.code = "444444";
	in.task_id = NULL;
	in.expired_at = t0 - 1;
	ck_assert_int_eq(sky_store_totp_add(S, &in, NULL), 0);
	in.expired_at = 0;
	in.content = "a long message without a code in it";
	in.code = NULL;
	ck_assert_int_eq(sky_store_totp_add(S, &in, &r), 0);
	ck_assert_str_eq(r->status, "raw_pending");
	ck_assert_str_eq(r->code, "");
	sky_totp_rec_free(r);

	/* The code is a secret from now on. */
	char *red = sky_redact("typed 222222 into the form");
	ck_assert(!strstr(red, "222222"));
	free(red);

	/* Newest first among those for this task or for no task. */
	ck_assert_int_eq(
	    sky_store_totp_take(S, NULL, "chris@pbacon.com", task, 0, &r), 0);
	ck_assert_str_eq(r->code, "222222");
	ck_assert_str_eq(r->status, "used");
	ck_assert_int_gt(r->used_at, 0);
	sky_totp_rec_free(r);
	/* created_after leaves out the older one. */
	ck_assert_int_eq(sky_store_totp_take(S, NULL, "chris@pbacon.com", task,
	                                     skyx_time_now_ms() + 1000, &r),
	                 0);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(
	    sky_store_totp_take(S, NULL, "chris@pbacon.com", task, 0, &r), 0);
	ck_assert_str_eq(r->code, "111111");
	sky_totp_rec_free(r);
	/* Used, expired, raw and foreign codes are never handed out. */
	ck_assert_int_eq(
	    sky_store_totp_take(S, NULL, "chris@pbacon.com", task, 0, &r), 0);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(sky_store_totp_take(S, NULL, "nobody", NULL, 0, &r),
	                 0);
	ck_assert_ptr_null(r);
	in.totp_identifier = NULL;
	ck_assert_int_eq(sky_store_totp_add(S, &in, NULL), SKY_EINVALID);
	free(task);
}
END_TEST

#define TOTP_THREADS 8

static void *totp_taker(void *arg)
{
	int *won = arg;
	sky_totp_rec *r = NULL;
	if (sky_store_totp_take(S, NULL, "race", NULL, 0, &r) == 0 && r)
		*won = 1;
	sky_totp_rec_free(r);
	return NULL;
}

START_TEST(totp_single_use_under_concurrency)
{
	for (int round = 0; round < 20; round++) {
		sky_totp_new in = {0};
		pthread_t th[TOTP_THREADS];
		int won[TOTP_THREADS] = {0}, total = 0;
		in.totp_identifier = "race";
		in.content = in.code = "987654";
		ck_assert_int_eq(sky_store_totp_add(S, &in, NULL), 0);
		for (int t = 0; t < TOTP_THREADS; t++)
			pthread_create(&th[t], NULL, totp_taker, &won[t]);
		for (int t = 0; t < TOTP_THREADS; t++) {
			pthread_join(th[t], NULL);
			total += won[t];
		}
		ck_assert_int_eq(total, 1);
	}
}
END_TEST

/* ---- browser sessions, workflows, API keys --------------------------- */

START_TEST(browser_sessions)
{
	sky_bsession_rec *a = NULL, *b = NULL, *g = NULL;
	sky_bsession_list *l = NULL;
	sky_org_rec *org = NULL;

	ck_assert_int_eq(sky_store_bsession_create(S, NULL, 60,
	                                           "https://example.com/",
	                                           "\"RESIDENTIAL\"", &a),
	                 0);
	ck_assert(skyx_str_startswith(a->browser_session_id, "pbs_"));
	ck_assert_str_eq(a->status, "created");
	ck_assert_int_eq(sky_store_bsession_create(S, NULL, 5, NULL, NULL, &b),
	                 0);
	ck_assert_int_eq(
	    sky_store_bsession_create(S, NULL, 0, NULL, NULL, NULL),
	    SKY_EINVALID);
	ck_assert_int_eq(sky_store_bsession_set_status(S, a->browser_session_id,
	                                               "running", "tsk_1",
	                                               "ws://127.0.0.1:1/x"),
	                 0);
	ck_assert_int_eq(
	    sky_store_bsession_get(S, NULL, a->browser_session_id, &g), 0);
	ck_assert_str_eq(g->status, "running");
	ck_assert_str_eq(g->runnable_id, "tsk_1");
	ck_assert_str_eq(g->browser_address, "ws://127.0.0.1:1/x");
	ck_assert_str_eq(g->proxy_location, "\"RESIDENTIAL\"");
	ck_assert_int_gt(g->started_at, 0);
	ck_assert_int_eq(g->completed_at, 0);
	sky_bsession_rec_free(g);
	ck_assert_int_eq(sky_store_bsession_list_active(S, NULL, &l), 0);
	ck_assert_uint_eq(l->count, 2);
	ck_assert_str_eq(l->items[0].browser_session_id, b->browser_session_id);
	sky_bsession_list_free(l);

	ck_assert_int_eq(sky_store_bsession_set_status(S, b->browser_session_id,
	                                               "completed", NULL, NULL),
	                 0);
	ck_assert_int_eq(sky_store_bsession_set_status(S, b->browser_session_id,
	                                               "running", NULL, NULL),
	                 SKY_EINVALID);
	ck_assert(strstr(sky_error_last(), "from completed to running"));
	ck_assert_int_eq(sky_store_bsession_set_status(S, a->browser_session_id,
	                                               "created", NULL, NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_store_bsession_set_status(S, a->browser_session_id,
	                                               "paused", NULL, NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(
	    sky_store_bsession_get(S, NULL, b->browser_session_id, &g), 0);
	ck_assert_int_gt(g->completed_at, 0);
	sky_bsession_rec_free(g);
	ck_assert_int_eq(sky_store_bsession_list_active(S, NULL, &l), 0);
	ck_assert_uint_eq(l->count, 1);
	sky_bsession_list_free(l);

	sky_store_org_create(S, "y", &org);
	ck_assert_int_eq(sky_store_bsession_get(S, org->organization_id,
	                                        a->browser_session_id, &g),
	                 SKY_ENOTFOUND);
	char want[96];
	snprintf(want, sizeof want, "Browser session %s not found",
	         a->browser_session_id);
	ck_assert_str_eq(sky_error_last(), want);
	ck_assert_int_eq(
	    sky_store_bsession_list_active(S, org->organization_id, &l), 0);
	ck_assert_uint_eq(l->count, 0);
	sky_bsession_list_free(l);
	sky_org_rec_free(org);
	sky_bsession_rec_free(a);
	sky_bsession_rec_free(b);
}
END_TEST

START_TEST(workflows)
{
	char *ids[5];
	sky_workflow_rec *w = NULL;
	sky_workflow_list *l = NULL;

	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(sky_store_workflow_create(S, NULL, "t",
		                                           "{\"prompt\":\"p\"}",
		                                           "tsk_1", &w),
		                 0);
		ck_assert(
		    skyx_str_startswith(w->workflow_permanent_id, "wpid_"));
		ids[i] = strdup(w->workflow_permanent_id);
		sky_workflow_rec_free(w);
	}
	ck_assert_int_eq(
	    sky_store_workflow_create(S, NULL, "t", "{", NULL, NULL),
	    SKY_EINVALID);
	ck_assert_int_eq(sky_store_workflow_get(S, NULL, ids[2], &w), 0);
	ck_assert_str_eq(w->request, "{\"prompt\":\"p\"}");
	ck_assert_str_eq(w->source_task_id, "tsk_1");
	sky_workflow_rec_free(w);
	ck_assert_int_eq(sky_store_workflow_get(S, "o_1", ids[2], &w),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(sky_store_workflow_list(S, NULL, 2, 2, &l), 0);
	ck_assert_uint_eq(l->count, 2);
	ck_assert_str_eq(l->items[0].workflow_permanent_id, ids[2]);
	ck_assert_str_eq(l->items[1].workflow_permanent_id, ids[1]);
	sky_workflow_list_free(l);
	ck_assert_int_eq(sky_store_workflow_list(S, NULL, 1, 0, &l), 0);
	ck_assert_uint_eq(l->count, 5);
	sky_workflow_list_free(l);
	for (int i = 0; i < 5; i++)
		free(ids[i]);
}
END_TEST

/* 1 if `needle` occurs in the file at `path`. */
static int file_contains(const char *path, const char *needle)
{
	size_t len = 0;
	char *data = skyx_read_file(path, &len);
	int found = 0;
	if (!data)
		return 0;
	for (size_t i = 0; i + strlen(needle) <= len && !found; i++)
		found = !memcmp(data + i, needle, strlen(needle));
	free(data);
	return found;
}

START_TEST(api_keys_stored_hashed)
{
	const char *key = "skyk_9f86d081884c7d659a2feaa0c55ad015";
	char hex[SKYX_SHA256_HEX_LEN];
	sky_apikey_rec *r = NULL, *f = NULL;
	int64_t n = -1;

	ck_assert_int_eq(sky_store_apikey_count(S, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sky_store_apikey_add(S, NULL, key, &r), 0);
	ck_assert_str_eq(r->key_prefix, "skyk_9");
	ck_assert_str_eq(r->organization_id, sky_store_default_org(S));
	ck_assert_int_eq(sky_store_apikey_add(S, NULL, key, NULL), SKY_EEXISTS);
	ck_assert(!strstr(sky_error_last(), key));
	ck_assert_int_eq(sky_store_apikey_add(S, NULL, "short", NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(
	    sky_store_apikey_add(S, "o_404", "another-long-enough-key", NULL),
	    SKY_ENOTFOUND);
	ck_assert_int_eq(sky_store_apikey_count(S, &n), 0);
	ck_assert_int_eq(n, 1);
	skyx_sha256_hex(key, strlen(key), hex);
	ck_assert_int_eq(sky_store_apikey_find(S, hex, &f), 0);
	ck_assert_int_eq(f->key_id, r->key_id);
	ck_assert_int_eq(f->revoked_at, 0);
	sky_apikey_rec_free(f);
	ck_assert_int_eq(sky_store_apikey_find(S, "00", &f), SKY_ENOTFOUND);

	/* The key's text is nowhere in the database. */
	if (SCHEMA) {
		char *q = skyx_asprintf("SELECT count(*) FROM api_keys WHERE "
		                        "key_sha256='%s'",
		                        hex);
		ck_assert_int_eq(skytest_pg_query_int(SCHEMA, q), 1);
		free(q);
		q = skyx_asprintf("SELECT count(*) FROM api_keys WHERE "
		                  "position('%s' in key_sha256 || key_prefix "
		                  "|| organization_id) > 0",
		                  key);
		ck_assert_int_eq(skytest_pg_query_int(SCHEMA, q), 0);
		free(q);
	} else {
		char *db = skyx_path_join(D, SKY_STORE_FILE);
		char *wal = skyx_asprintf("%s-wal", db);
		ck_assert(!file_contains(db, key));
		ck_assert(!file_contains(wal, key));
		ck_assert(file_contains(wal, hex) || file_contains(db, hex));
		free(db);
		free(wal);
	}

	ck_assert_int_eq(sky_store_apikey_revoke(S, r->key_id), 0);
	ck_assert_int_eq(sky_store_apikey_count(S, &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(sky_store_apikey_find(S, hex, &f), 0);
	ck_assert_int_gt(f->revoked_at, 0);
	sky_apikey_rec_free(f);
	ck_assert_int_eq(sky_store_apikey_revoke(S, 999999), SKY_ENOTFOUND);
	sky_apikey_rec_free(r);
}
END_TEST

/* ---- webhook outbox ---------------------------------------------------- */

START_TEST(webhook_outbox_lifecycle)
{
	char *task = mk_task(S, NULL, NULL, NULL, 0);
	sky_webhook_rec *w[3] = {0}, *g = NULL;
	sky_webhook_list *l = NULL;
	int64_t now;

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(sky_store_webhook_enqueue(
		                     S, task, "http://127.0.0.1:9/hook",
		                     "{\"status\":\"completed\"}", "abc",
		                     &w[i]),
		                 0);
		ck_assert(skyx_str_startswith(w[i]->webhook_id, "wh_"));
		ck_assert_int_eq(w[i]->status, SKY_WEBHOOK_PENDING);
	}
	ck_assert_int_eq(sky_store_webhook_enqueue(S, "tsk_404", "http://x",
	                                           "{}", NULL, NULL),
	                 SKY_ENOTFOUND);
	now = skyx_time_now_ms();
	ck_assert_int_eq(sky_store_webhook_claim_due(S, NULL, now, 2, &l), 0);
	ck_assert_uint_eq(l->count, 2);
	ck_assert_str_eq(l->items[0].webhook_id, w[0]->webhook_id);
	ck_assert_str_eq(l->items[1].webhook_id, w[1]->webhook_id);
	ck_assert_int_eq(l->items[0].status, SKY_WEBHOOK_DELIVERING);
	ck_assert_str_eq(l->items[0].signature, "abc");
	sky_webhook_list_free(l);

	/* w0 delivered, w1 retried in a minute. */
	ck_assert_int_eq(sky_store_webhook_record(S, w[0]->webhook_id, NULL,
	                                          SKY_WEBHOOK_OUTCOME_DELIVERED,
	                                          0, NULL),
	                 0);
	ck_assert_int_eq(sky_store_webhook_record(S, w[1]->webhook_id, NULL,
	                                          SKY_WEBHOOK_OUTCOME_RETRY,
	                                          now + 60000, "HTTP 503"),
	                 0);
	/* Only a delivering row can be recorded. */
	ck_assert_int_eq(sky_store_webhook_record(S, w[0]->webhook_id, NULL,
	                                          SKY_WEBHOOK_OUTCOME_FAILED, 0,
	                                          "x"),
	                 SKY_EINVALID);
	ck_assert(strstr(sky_error_last(), "delivered, not delivering"));
	ck_assert_int_eq(sky_store_webhook_record(S, "wh_404", NULL,
	                                          SKY_WEBHOOK_OUTCOME_FAILED, 0,
	                                          "x"),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(sky_store_webhook_claim_due(S, NULL, now, 10, &l), 0);
	ck_assert_uint_eq(l->count, 1);
	ck_assert_str_eq(l->items[0].webhook_id, w[2]->webhook_id);
	sky_webhook_list_free(l);
	/* w1 is not due yet; in a minute it is. */
	ck_assert_int_eq(
	    sky_store_webhook_claim_due(S, NULL, now + 59999, 10, &l), 0);
	ck_assert_uint_eq(l->count, 0);
	sky_webhook_list_free(l);
	ck_assert_int_eq(
	    sky_store_webhook_claim_due(S, NULL, now + 60000, 10, &l), 0);
	ck_assert_uint_eq(l->count, 1);
	ck_assert_int_eq(l->items[0].attempts, 1);
	ck_assert_str_eq(l->items[0].last_error, "HTTP 503");
	sky_webhook_list_free(l);
	ck_assert_int_eq(sky_store_webhook_record(S, w[1]->webhook_id, NULL,
	                                          SKY_WEBHOOK_OUTCOME_FAILED, 0,
	                                          "HTTP 500"),
	                 0);

	ck_assert_int_eq(sky_store_webhook_get(S, w[0]->webhook_id, &g), 0);
	ck_assert_int_eq(g->status, SKY_WEBHOOK_DELIVERED);
	ck_assert_int_gt(g->delivered_at, 0);
	ck_assert_int_eq(g->attempts, 1);
	sky_webhook_rec_free(g);
	ck_assert_int_eq(sky_store_webhook_get(S, w[1]->webhook_id, &g), 0);
	ck_assert_int_eq(g->status, SKY_WEBHOOK_FAILED);
	ck_assert_int_eq(g->attempts, 2);
	ck_assert_int_eq(g->delivered_at, 0);
	sky_webhook_rec_free(g);
	for (int i = 0; i < 3; i++)
		sky_webhook_rec_free(w[i]);
	free(task);
}
END_TEST

/* ---- crashes: SIGKILL mid-stream ---------------------------------------- */

/* Write all of buf or die. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3);
		buf += n;
		len -= (size_t)n;
	}
}

/* Child: create runs forever, reporting each id once it is accepted. */
static void durability_child(const char *dir, int fd)
{
	sky_store *s = NULL;
	sky_id_reseed();
	if (sky_store_open(&s, dir, NULL))
		_exit(2);
	for (;;) {
		sky_task_new in = {0};
		sky_task_rec *r = NULL;
		char line[SKY_ID_MAX + 2];
		in.run_type = SKY_RUN_TYPE_V1;
		in.engine = "skyvern-1.0";
		in.prompt = "durable";
		if (sky_store_task_create(s, &in, &r, NULL))
			_exit(4);
		snprintf(line, sizeof line, "%s\n", r->task_id);
		sky_task_rec_free(r);
		write_all(fd, line, strlen(line));
	}
}

START_TEST(accepted_runs_survive_sigkill)
{
	char *dir = skytest_tmpdir("durable");
	char buf[65536];
	skyx_buf got = {0};
	int fds[2], status, lines = 0, found = 0;
	sky_store *s = NULL;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		durability_child(dir, fds[1]);
	}
	close(fds[1]);
	/* Let it get going, then kill it in the middle of its loop. */
	while (lines < 300) {
		ssize_t n = read(fds[0], buf, sizeof buf);
		ck_assert_int_gt(n, 0);
		skyx_buf_append(&got, buf, (size_t)n);
		lines = 0;
		for (size_t i = 0; i < got.len; i++)
			lines += got.data[i] == '\n';
	}
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Everything it reported before dying is in the pipe. */
	for (;;) {
		ssize_t n = read(fds[0], buf, sizeof buf);
		if (n <= 0)
			break;
		skyx_buf_append(&got, buf, (size_t)n);
	}
	close(fds[0]);

	ck_assert_int_eq(sky_store_open(&s, dir, NULL), 0);
	lines = 0;
	for (char *line = got.data, *nl; (nl = strchr(line, '\n'));
	     line = nl + 1) {
		sky_task_rec *r = NULL;
		*nl = '\0';
		lines++;
		if (sky_store_task_get(s, NULL, line, &r) == 0 &&
		    !strcmp(r->prompt, "durable"))
			found++;
		sky_task_rec_free(r);
	}
	ck_assert_int_ge(lines, 300);
	ck_assert_int_eq(found, lines);
	sky_store_close(s);
	skyx_buf_free(&got);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(outbox_recovers_after_crash)
{
	char *dir = skytest_tmpdir("outbox");
	sky_webhook_list *l = NULL;
	sky_store *s = NULL;
	int fds[2], status, n = -1;
	char ready;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Queue two deliveries, start sending one, then die. */
		sky_webhook_list *cl = NULL;
		sky_task_new in = {0};
		sky_task_rec *t = NULL;
		close(fds[0]);
		sky_id_reseed();
		if (sky_store_open(&s, dir, NULL))
			_exit(2);
		in.run_type = SKY_RUN_TYPE_V1;
		in.engine = "skyvern-1.0";
		in.prompt = "p";
		if (sky_store_task_create(s, &in, &t, NULL) ||
		    sky_store_webhook_enqueue(s, t->task_id, "http://h/1",
		                              "{\"n\":1}", NULL, NULL) ||
		    sky_store_webhook_enqueue(s, t->task_id, "http://h/2",
		                              "{\"n\":2}", NULL, NULL) ||
		    sky_store_webhook_claim_due(s, NULL, skyx_time_now_ms(), 1,
		                                &cl) ||
		    cl->count != 1)
			_exit(3);
		write_all(fds[1], "r", 1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &ready, 1), 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);

	ck_assert_int_eq(sky_store_open(&s, dir, NULL), 0);
	ck_assert_int_eq(sky_store_webhook_list_pending(s, &l), 0);
	ck_assert_uint_eq(l->count, 1);
	ck_assert_str_eq(l->items[0].payload, "{\"n\":2}");
	sky_webhook_list_free(l);
	ck_assert_int_eq(sky_store_webhook_recover(s, NULL, &n), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(sky_store_webhook_list_pending(s, &l), 0);
	ck_assert_uint_eq(l->count, 2);
	ck_assert_str_eq(l->items[0].payload, "{\"n\":1}");
	sky_webhook_list_free(l);
	ck_assert_int_eq(
	    sky_store_webhook_claim_due(s, NULL, skyx_time_now_ms(), 5, &l), 0);
	ck_assert_uint_eq(l->count, 2);
	sky_webhook_list_free(l);
	ck_assert_int_eq(sky_store_webhook_recover(s, NULL, &n), 0);
	ck_assert_int_eq(n, 2);
	sky_store_close(s);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

/* ---- files: migrations and refusals ------------------------------------- */

static int64_t pragma_int(const char *path, const char *pragma)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, pragma, -1, &st, NULL),
	                 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int pragma_is(const char *path, const char *pragma, const char *want)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int same = 0;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, pragma, -1, &st, NULL),
	                 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		same = !strcmp((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return same;
}

static void exec_on(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(migrates_new_and_empty_files)
{
	char *dir = skytest_tmpdir("migrate");
	char *db = skyx_path_join(dir, SKY_STORE_FILE);
	char org[SKY_ID_MAX], *id;
	sky_store *s = NULL;
	sky_task_rec *r = NULL;

	/* A zero-byte file is an empty database: upgraded. */
	ck_assert_int_eq(sky_write_file(db, "", 0), 0);
	ck_assert_int_eq(sky_store_open(&s, dir, NULL), 0);
	ck_assert_str_eq(sky_store_path(s), db);
	snprintf(org, sizeof org, "%s", sky_store_default_org(s));
	id = mk_task(s, NULL, NULL, NULL, 0);
	sky_store_close(s);
	ck_assert_int_eq(pragma_int(db, "PRAGMA user_version"),
	                 SKY_STORE_SCHEMA_VERSION);
	ck_assert_int_eq(pragma_int(db, "PRAGMA application_id"), 0x536b7945);
	ck_assert_int_eq(pragma_int(db, "SELECT count(*) FROM sqlite_schema "
	                                "WHERE type='table' AND name IN "
	                                "('organizations','api_keys','tasks',"
	                                "'steps','actions','artifacts',"
	                                "'totp_codes','browser_sessions',"
	                                "'webhook_outbox','workflows')"),
	                 10);
	ck_assert(pragma_is(db, "PRAGMA journal_mode", "wal"));
	/* Reopening keeps data and the default organization. */
	ck_assert_int_eq(sky_store_open(&s, dir, NULL), 0);
	ck_assert_str_eq(sky_store_default_org(s), org);
	ck_assert_int_eq(sky_store_task_get(s, org, id, &r), 0);
	sky_task_rec_free(r);
	sky_store_close(s);
	ck_assert_int_eq(pragma_int(db, "SELECT count(*) FROM organizations"),
	                 1);
	free(id);
	free(db);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(refuses_newer_and_foreign_files)
{
	char junk[200];
	char *dir = skytest_tmpdir("refuse");
	char *db = skyx_path_join(dir, SKY_STORE_FILE);
	sky_store *s = NULL;

	ck_assert_int_eq(sky_store_open(&s, dir, NULL), 0);
	free(mk_task(s, NULL, NULL, NULL, 0));
	sky_store_close(s);
	exec_on(db, "PRAGMA user_version=99");
	ck_assert_int_eq(sky_store_open(&s, dir, NULL), SKY_EUNSUPPORTED);
	ck_assert_ptr_null(s);
	ck_assert(strstr(sky_error_last(), "schema version 99"));
	ck_assert(strstr(sky_error_last(), "newer"));
	ck_assert(strstr(sky_error_last(), db));
	/* Refused without being touched. */
	ck_assert_int_eq(pragma_int(db, "PRAGMA user_version"), 99);
	ck_assert_int_eq(pragma_int(db, "SELECT count(*) FROM tasks"), 1);

	/* Another application's database. */
	unlink(db);
	exec_on(db, "CREATE TABLE notes(x)");
	ck_assert_int_eq(sky_store_open(&s, dir, NULL), SKY_EUNSUPPORTED);
	ck_assert(strstr(sky_error_last(), "another application"));
	ck_assert_int_eq(pragma_int(db, "SELECT count(*) FROM sqlite_schema"),
	                 1);

	/* Not a database at all. */
	unlink(db);
	memset(junk, 'x', sizeof junk);
	memcpy(junk, "hello, this is not SQLite", 25);
	ck_assert_int_eq(sky_write_file(db, junk, sizeof junk), 0);
	ck_assert_int_eq(sky_store_open(&s, dir, NULL), SKY_EIO);
	ck_assert(strstr(sky_error_last(), "not a usable SQLite database"));

	ck_assert_int_eq(sky_store_open(&s, NULL, NULL), SKY_EINVALID);
	free(db);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(engine_opens_its_store)
{
	char *dir = skytest_tmpdir("engine");
	sky_engine_options o;
	sky_engine *e = NULL;
	struct stat sb;
	char *db = skyx_path_join(dir, SKY_STORE_FILE);

	ck_assert_int_ge(sky_global_init(), 1);
	ck_assert_int_eq(
	    sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION), 0);
	o.data_dir = dir;
	ck_assert_msg(sky_engine_new(&e, &o) == 0, "%s", sky_error_last());
	ck_assert_ptr_nonnull(e->store);
	ck_assert_str_eq(sky_store_path(e->store), db);
	ck_assert_int_eq(stat(db, &sb), 0);
	free(mk_task(e->store, NULL, NULL, NULL, 0));
	sky_engine_free(e);
	/* Closed cleanly: the WAL was checkpointed into the file. */
	ck_assert_int_eq(pragma_int(db, "SELECT count(*) FROM tasks"), 1);
	sky_global_shutdown();
	free(db);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

/* ---- hosts sharing the store ------------------------------------------ */

#define WH_N 40

struct wh_claimer {
	sky_store *s;
	const char *owner;
	char *ids[WH_N];
	int n;
};

static void *wh_claim_worker(void *arg)
{
	struct wh_claimer *c = arg;
	sky_lease l = {c->owner, 600000};
	for (;;) {
		sky_webhook_list *wl = NULL;
		if (sky_store_webhook_claim_due(c->s, &l, skyx_time_now_ms(), 3,
		                                &wl))
			break;
		size_t n = wl->count;
		for (size_t i = 0; i < n; i++)
			c->ids[c->n++] = strdup(wl->items[i].webhook_id);
		sky_webhook_list_free(wl);
		if (!n)
			break;
	}
	return NULL;
}

/* Two processes deliver from one outbox: each row goes to one of them;
 * a row's outcome is recorded only by its lease holder; a host that died
 * mid-delivery leaves its rows to the other once the lease runs out; a
 * restart gives back only the restarting host's rows. */
START_TEST(webhooks_claimed_once_across_hosts_under_leases)
{
	char *dir2;
	sky_store *s2 = open_second(&dir2);
	struct wh_claimer a = {.s = S, .owner = "n_a"};
	struct wh_claimer b = {.s = s2, .owner = "n_b"};
	char *task = mk_task(S, NULL, NULL, NULL, 1);
	pthread_t ta, tb;

	for (int i = 0; i < WH_N; i++)
		ck_assert_int_eq(sky_store_webhook_enqueue(S, task, "http://h/",
		                                           "{}", NULL, NULL),
		                 0);
	pthread_create(&ta, NULL, wh_claim_worker, &a);
	pthread_create(&tb, NULL, wh_claim_worker, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert_int_eq(a.n + b.n, WH_N);
	char *all[WH_N];
	int n = 0;
	for (int i = 0; i < a.n; i++)
		all[n++] = a.ids[i];
	for (int i = 0; i < b.n; i++)
		all[n++] = b.ids[i];
	qsort(all, (size_t)n, sizeof *all, cmp_str);
	for (int i = 1; i < n; i++)
		ck_assert_str_ne(all[i - 1], all[i]);

	/* Fencing: B cannot record A's delivery; A can. */
	if (a.n) {
		ck_assert_int_eq(sky_store_webhook_record(
		                     s2, a.ids[0], "n_b",
		                     SKY_WEBHOOK_OUTCOME_DELIVERED, 0, NULL),
		                 SKY_EINVALID);
		ck_assert_ptr_nonnull(strstr(sky_error_last(), "lease"));
		ck_assert_int_eq(sky_store_webhook_record(
		                     S, a.ids[0], "n_a",
		                     SKY_WEBHOOK_OUTCOME_DELIVERED, 0, NULL),
		                 0);
	}
	/* B restarts: only its own rows go back to pending. */
	int back = -1;
	ck_assert_int_eq(sky_store_webhook_recover(s2, "n_b", &back), 0);
	ck_assert_int_eq(back, b.n);
	/* A "dies": its rows are claimable again once the lease runs out,
	 * not before. */
	sky_lease lb = {"n_b", 600000};
	sky_webhook_list *wl = NULL;
	ck_assert_int_eq(
	    sky_store_webhook_claim_due(s2, &lb, skyx_time_now_ms(), WH_N, &wl),
	    0);
	ck_assert_uint_eq(wl->count, (size_t)b.n);
	sky_webhook_list_free(wl);
	ck_assert_int_eq(sky_store_webhook_claim_due(
	                     s2, &lb, skyx_time_now_ms() + 600001, WH_N, &wl),
	                 0);
	ck_assert_uint_eq(wl->count, (size_t)(a.n ? a.n - 1 : 0) + b.n);
	sky_webhook_list_free(wl);

	for (int i = 0; i < n; i++)
		free(all[i]);
	free(task);
	sky_store_close(s2);
	skyx_rm_rf(dir2);
	free(dir2);
}
END_TEST

/* Every engine on the store gets its own number for its ids; the same
 * node id gets its number back; a silent node's number is reused. */
START_TEST(node_numbers_are_unique_among_live_engines)
{
	char *dir2;
	sky_store *s2 = open_second(&dir2);
	int a = -1, b = -1, c = -1, again = -1;

	ck_assert_int_eq(sky_store_node_register(S, "n_one", 600000, &a), 0);
	ck_assert_int_eq(sky_store_node_register(s2, "n_two", 600000, &b), 0);
	ck_assert_int_eq(sky_store_node_register(S, "n_three", 600000, &c), 0);
	ck_assert_int_ne(a, b);
	ck_assert_int_ne(b, c);
	ck_assert_int_ne(a, c);
	ck_assert_int_eq(sky_store_node_register(s2, "n_one", 600000, &again),
	                 0);
	ck_assert_int_eq(again, a);
	ck_assert_int_eq(sky_store_node_seen(S, "n_two"), 0);
	/* With a 1 ms staleness, the others are forgotten: the newcomer
	 * takes the lowest number. */
	skyx_time_sleep_ms(5);
	int d = -1;
	ck_assert_int_eq(sky_store_node_register(S, "n_four", 1, &d), 0);
	ck_assert_int_eq(d, 0);
	sky_store_close(s2);
	skyx_rm_rf(dir2);
	free(dir2);
}
END_TEST

/* A run naming a live session is claimed only by the engine holding the
 * session; any engine takes it once the session is closed. */
START_TEST(a_run_naming_a_session_goes_to_its_holder)
{
	sky_bsession_rec *bs = NULL;
	sky_task_new in = {0};
	sky_task_rec *t = NULL, *r = NULL;
	sky_lease mine = {"n_holder", 600000}, other = {"n_other", 600000};

	ck_assert_int_eq(
	    sky_store_bsession_create(S, NULL, 60, NULL, NULL, &bs), 0);
	ck_assert_int_eq(sky_store_bsession_set_holder(
	                     S, bs->browser_session_id, "n_holder"),
	                 0);
	ck_assert_int_eq(sky_store_bsession_set_status(
	                     S, bs->browser_session_id, "running", NULL, NULL),
	                 0);
	in.run_type = SKY_RUN_TYPE_V1;
	in.engine = "skyvern-1.0";
	in.prompt = "use the session";
	in.browser_session_id = bs->browser_session_id;
	in.queued = 1;
	ck_assert_int_eq(sky_store_task_create(S, &in, &t, NULL), 0);
	ck_assert_int_eq(sky_store_task_claim(S, &other, NULL, &r, NULL), 0);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(sky_store_task_claim(S, &mine, NULL, &r, NULL), 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->task_id, t->task_id);
	sky_task_rec_free(r);
	r = NULL;

	/* Another host's live sessions are not its own to close at start. */
	sky_bsession_list *l = NULL;
	ck_assert_int_eq(sky_store_bsession_list_live_all(S, "n_other", &l), 0);
	ck_assert_uint_eq(l->count, 0);
	sky_bsession_list_free(l);
	ck_assert_int_eq(sky_store_bsession_list_live_all(S, "n_holder", &l),
	                 0);
	ck_assert_uint_eq(l->count, 1);
	sky_bsession_list_free(l);

	/* Closed: whoever claims the next such run fails it clearly. */
	ck_assert_int_eq(sky_store_bsession_set_status(S,
	                                               bs->browser_session_id,
	                                               "completed", NULL, NULL),
	                 0);
	sky_task_rec *t2 = NULL;
	ck_assert_int_eq(sky_store_task_create(S, &in, &t2, NULL), 0);
	ck_assert_int_eq(sky_store_task_claim(S, &other, NULL, &r, NULL), 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->task_id, t2->task_id);
	sky_task_rec_free(r);
	sky_task_rec_free(t2);
	sky_task_rec_free(t);
	sky_bsession_rec_free(bs);
}
END_TEST

static void add_store_tests(Suite *s, TCase *tc);

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *pure = tcase_create("status");
	TCase *tc = tcase_create("store");
	TCase *files = tcase_create("files");

	tcase_add_test(pure, status_helpers_match_spec);
	suite_add_tcase(s, pure);

	tcase_add_checked_fixture(tc, setup, teardown);
	add_store_tests(s, tc);
	if (skytest_pg_url()) {
		TCase *pg = tcase_create("store_pg");
		tcase_add_checked_fixture(pg, setup_pg, teardown);
		add_store_tests(s, pg);
	} else {
		fprintf(stderr, "check_store: no $SKYTEST_PG_URL: the "
		                "PostgreSQL cases do not run\n");
	}

	tcase_set_timeout(files, 120);
	tcase_add_test(files, accepted_runs_survive_sigkill);
	tcase_add_test(files, outbox_recovers_after_crash);
	tcase_add_test(files, migrates_new_and_empty_files);
	tcase_add_test(files, refuses_newer_and_foreign_files);
	tcase_add_test(files, engine_opens_its_store);
	suite_add_tcase(s, files);
	return s;
}

/* The cases every backend runs. */
static void add_store_tests(Suite *s, TCase *tc)
{
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, task_every_transition_pair);
	tcase_add_test(tc, task_failure_reason_required);
	tcase_add_test(tc, task_timestamps_stamped_on_transitions);
	tcase_add_test(tc, step_every_transition_pair);
	tcase_add_test(tc, task_fields_round_trip);
	tcase_add_test(tc, task_create_validates);
	tcase_add_test(tc, task_idempotency_key);
	tcase_add_test(tc, task_list_paging_sorting_filters);
	tcase_add_test(tc, claim_each_task_exactly_once);
	tcase_add_test(tc, claim_oldest_first_and_filters);
	tcase_add_test(tc, claim_takes_the_oldest_of_several);
	tcase_add_test(tc, lease_expiry_hands_a_run_to_another_owner);
	tcase_add_test(tc, readers_run_beside_writer);
	tcase_add_test(tc, ids_unique_under_threads);
	tcase_add_test(tc, steps_order_tokens_and_count);
	tcase_add_test(tc, actions_append_and_history);
	tcase_add_test(tc, issued_action_is_finished_once);
	tcase_add_test(tc, artifacts_index);
	tcase_add_test(tc, totp_newest_unused_unexpired);
	tcase_add_test(tc, totp_single_use_under_concurrency);
	tcase_add_test(tc, browser_sessions);
	tcase_add_test(tc, workflows);
	tcase_add_test(tc, api_keys_stored_hashed);
	tcase_add_test(tc, webhook_outbox_lifecycle);
	tcase_add_test(tc, webhooks_claimed_once_across_hosts_under_leases);
	tcase_add_test(tc, node_numbers_are_unique_among_live_engines);
	tcase_add_test(tc, a_run_naming_a_session_goes_to_its_holder);
	suite_add_tcase(s, tc);
}

int main(void)
{
	return skytest_run(store_suite());
}
