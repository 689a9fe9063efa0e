/*
 * A worker stuck in engine or plugin code (issue 13: a goal holding '>'
 * spun the goal parser forever). The engine's watchdog must fail such a
 * run with a reason that says so and replace its worker, so later runs
 * still execute; a cancel must let go of a stuck run; shutdown must not
 * wait for it. The stuck code is the llm-stuck fixture provider, which
 * never returns for a prompt holding "[hang]" until the test releases it.
 * Also: the exact goal runs to the end with the offline planner.
 */
#include <pthread.h>
#include <sys/stat.h>

#include "httpd.h"
#include "rel.h"
#include "rig.h"
#include "sites.h"
#include "store/store.h"

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)req;
	(void)ud;
	skytest_resp_text(resp, 200, NULL,
	                  "<!doctype html><title>Notice</title><h1>Opening "
	                  "hours</h1><p>We are open from 9 to 5.</p>");
}

/* An engine on the fixture and browser plugins with a small watchdog. */
static void start(rel_rig *r, const char *tag, int workers, const char *release,
                  int watchdog_s, int stop_grace_s)
{
	sky_engine_options o;
	memset(r, 0, sizeof *r);
	r->dir = skytest_tmpdir(tag);
	ck_assert_ptr_nonnull(r->dir);
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	char *cfg =
	    skyx_asprintf("{\"stuck\":{\"release_file\":\"%s\"},"
	                  "\"engine\":{\"watchdog_s\":%d,\"cancel_grace_s\":1,"
	                  "\"stop_grace_s\":%d},"
	                  "\"agent\":{\"check_goal\":0,\"settle_max_ms\":1000,"
	                  "\"vision\":0,\"screenshots\":0}}",
	                  release, watchdog_s, stop_grace_s);
	o.data_dir = r->dir;
	o.llm = "stuck";
	o.plugin_path = SKY_TEST_FIXTURE_DIR;
	o.workers = workers;
	o.config_json = cfg;
	ck_assert_msg(sky_engine_new(&r->e, &o) == 0, "engine: %s",
	              sky_error_last());
	free(cfg);
}

static const char *reason(json_t *run)
{
	const char *s = rel_str(run, "failure_reason");
	return s ? s : "";
}

static char *submit(rel_rig *r, skytest_httpd *site, const char *goal)
{
	return rel_rig_submit(r,
	                      "{\"prompt\":\"%s\",\"url\":\"%s/\","
	                      "\"engine\":\"skyvern-1.0\"}",
	                      goal, skytest_httpd_url(site));
}

/* Status of a run now. */
static char *status_of(rel_rig *r, const char *id)
{
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_run_get(&out, r->e, NULL, id), 0);
	json_t *j = json_loads(out, 0, NULL);
	sky_free(out);
	char *s = skyx_strdup(rel_str(j, "status"));
	json_decref(j);
	return s;
}

/* Wait until a call is stuck inside the fixture (bounded). */
static void wait_stuck(const char *release)
{
	char *in = skyx_asprintf("%s.in", release);
	for (int i = 0; i < 600 && access(in, F_OK); i++)
		usleep(50 * 1000);
	ck_assert_msg(access(in, F_OK) == 0, "no call got stuck");
	unlink(in);
	free(in);
}

/* Wait until the run is `running` (bounded). */
static void wait_running(rel_rig *r, const char *id)
{
	for (int i = 0; i < 300; i++) {
		char *s = status_of(r, id);
		int ok = skyx_str_eq(s, "running");
		free(s);
		if (ok)
			return;
		usleep(50 * 1000);
	}
	ck_abort_msg("run %s never started", id);
}

START_TEST(stuck_runs_fail_and_their_workers_are_replaced)
{
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	char *tmp = skytest_tmpdir("wdrel");
	char *release = skyx_asprintf("%s-release", tmp);
	free(tmp);
	rel_rig r;
	/* One worker: the later runs execute only if it is replaced. */
	start(&r, "watchdog", 1, release, 8, 15);

	/* A first run starts the browser: a cold Chromium launch on a busy
	 * machine took longer than a 2 s watchdog, and the stuck run must be
	 * caught inside its step, not before it. 8 s leaves launch room. */
	char *warm = submit(&r, site, "Tell me the opening hours");
	json_t *run = rel_rig_wait(&r, warm, 60000);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	json_decref(run);
	free(warm);
	char *stuck = submit(&r, site, "Tell me the opening hours [hang]");
	char *after = submit(&r, site, "Tell me the opening hours");
	run = rel_rig_wait(&r, stuck, 60000);
	ck_assert_str_eq(rel_str(run, "status"), "failed");
	ck_assert_msg(strstr(reason(run), "no progress") &&
	                  strstr(reason(run), "step 0"),
	              "reason: %s", reason(run));
	json_decref(run);
	json_t *steps = rel_rig_steps(&r, stuck);
	ck_assert_str_eq(rel_step_status(steps, 0, 0), "failed");
	json_decref(steps);
	run = rel_rig_wait(&r, after, 60000);
	ck_assert_msg(skyx_str_eq(rel_str(run, "status"), "completed"),
	              "the run after a stuck one: %s %s",
	              rel_str(run, "status"), reason(run));
	json_decref(run);

	/* A canceled run whose worker is stuck: `canceled` at once, and the
	 * worker is let go of after the grace period. */
	char *canceled = submit(&r, site, "Read the page again [hang]");
	wait_running(&r, canceled);
	wait_stuck(release);
	char *out = NULL;
	int http = 0;
	ck_assert_int_eq(
	    sky_tasks_api_run_cancel(&out, &http, r.e, NULL, canceled), 0);
	sky_free(out);
	char *next = submit(&r, site, "Tell me the opening hours once more");
	run = rel_rig_wait(&r, next, 60000);
	ck_assert_msg(skyx_str_eq(rel_str(run, "status"), "completed"),
	              "the run after a canceled stuck one: %s %s",
	              rel_str(run, "status"), reason(run));
	json_decref(run);
	run = rel_rig_wait(&r, canceled, 1000);
	ck_assert_str_eq(rel_str(run, "status"), "canceled");
	json_decref(run);

	/* Released, the stuck calls return: their late writes are refused,
	 * the final statuses stay as the watchdog and the cancel left them. */
	FILE *f = fopen(release, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	usleep(500 * 1000);
	run = rel_rig_wait(&r, stuck, 1000);
	ck_assert_str_eq(rel_str(run, "status"), "failed");
	ck_assert_ptr_nonnull(strstr(reason(run), "no progress"));
	json_decref(run);
	run = rel_rig_wait(&r, canceled, 1000);
	ck_assert_str_eq(rel_str(run, "status"), "canceled");
	json_decref(run);

	rel_rig_stop(&r, 1);
	unlink(release);
	skytest_httpd_stop(site);
	free(stuck);
	free(after);
	free(canceled);
	free(next);
	free(release);
}
END_TEST

/* Shutdown with a worker stuck (watchdog far away): sky_engine_free()
 * returns after the grace period instead of waiting forever; the run is
 * left `running` for the next start, as after a crash. */
START_TEST(shutdown_does_not_wait_for_a_stuck_worker)
{
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	char *tmp = skytest_tmpdir("wdrel2");
	char *release = skyx_asprintf("%s-release", tmp);
	free(tmp);
	rel_rig r;
	start(&r, "wdstop", 1, release, 600, 1);
	char *stuck = submit(&r, site, "Tell me the opening hours [hang]");
	wait_running(&r, stuck);
	wait_stuck(release);
	char *dir = r.dir;
	r.dir = NULL;
	/* Check's timeout fails this test if it hangs. */
	sky_engine_free(r.e);
	r.e = NULL;

	/* The store still says running: the next start resumes it. */
	sky_store *s = NULL;
	ck_assert_int_eq(sky_store_open(&s, dir, NULL), 0);
	sky_task_rec *t = NULL;
	ck_assert_int_eq(sky_store_task_get(s, NULL, stuck, &t), 0);
	ck_assert_int_eq(t->status, SKY_TASK_RUNNING);
	sky_task_rec_free(t);
	sky_store_close(s);

	/* The stuck call is never released: its thread stays blocked, and
	 * the engine it uses allocated, until this test's process exits. */
	skytest_httpd_stop(site);
	free(stuck);
	free(dir);
	free(release);
}
END_TEST

/* The goal, verbatim, through the whole engine with the offline
 * planner: the run ends, and the site received the application. */
START_TEST(a_goal_with_angle_brackets_runs_to_the_end)
{
	char *err = NULL;
	skytest_sites *sites =
	    skytest_sites_start(SKY_SOURCE_DIR "/tests/sites", &err);
	ck_assert_msg(sites != NULL, "%s", err);
	rel_rig r;
	rel_rig_start(&r, "anglegoal", "rules", 1,
	              "{\"agent\":{\"settle_max_ms\":1000}}");
	char *id = rel_rig_submit(
	    &r,
	    "{\"prompt\":\"Apply for a job on behalf of this person: name: "
	    "Chris > Bacon. email: chris@pbacon.com <cv.pdf>\","
	    "\"url\":\"%s/job-apply/index.html\",\"engine\":\"skyvern-1.0\"}",
	    skytest_sites_base(sites));
	json_t *run = rel_rig_wait(&r, id, 120000);
	const char *st = rel_str(run, "status");
	ck_assert_msg(skyx_str_eq(st, "completed") ||
	                  skyx_str_eq(st, "terminated"),
	              "status %s: %s", st, reason(run));
	json_t *reqs = skytest_sites_requests(sites, "job-apply");
	if (skyx_str_eq(st, "completed")) {
		/* Completed means the form reached the site. */
		char *dump = json_dumps(reqs, JSON_COMPACT);
		ck_assert_msg(strstr(dump, "chris@pbacon.com"), "requests: %s",
		              dump);
		free(dump);
	}
	json_decref(reqs);
	json_decref(run);
	free(id);
	rel_rig_stop(&r, 1);
	skytest_sites_stop(sites);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("watchdog");
	TCase *tc = tcase_create("stuck");
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, stuck_runs_fail_and_their_workers_are_replaced);
	tcase_add_test(tc, shutdown_does_not_wait_for_a_stuck_worker);
	tcase_add_test(tc, a_goal_with_angle_brackets_runs_to_the_end);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
