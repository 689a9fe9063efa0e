/*
 * Browser faults during runs, through the engine (real Chromium, the
 * real store, llm-replay scripted answers): Chromium killed in the middle
 * of a step, a page that never answers, a page whose images never load,
 * a page that navigates away while an action types into it, and a page
 * that raises alerts forever. Each run ends (retried in a relaunched
 * browser, or failed with a reason that says what happened); none hangs.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "httpd.h"
#include "rel.h"
#include "rig.h"
#include "skybrowser.h"

/* --- the site ------------------------------------------------------------ */

#define FORM_BODY                                                              \
	"<h1>Apply</h1><form action=\"/submit\" method=\"post\">"              \
	"<p><label for=\"n\">Full name</label> <input id=\"n\" name=\"name\">" \
	"</p><p><label for=\"e\">Email</label> <input id=\"e\" name=\"email\"" \
	"></p><p><button type=\"submit\">Send application</button></p></form>"

typedef struct site {
	skytest_httpd *h;
	pthread_mutex_t lock;
	pthread_cond_t release;
	int hang; /* /never answers only when released */
	int released;
	int posts;
	int form_gets;
	char last_post[512];
} site;
static site S = {.lock = PTHREAD_MUTEX_INITIALIZER,
                 .release = PTHREAD_COND_INITIALIZER};

/* Hold a connection open without answering, until the test ends (or a
 * minute passes). */
static void hold(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	pthread_mutex_lock(&S.lock);
	while (S.hang && !S.released)
		if (pthread_cond_timedwait(&S.release, &S.lock, &ts) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&S.lock);
}

static void page(skytest_resp *resp, const char *title, const char *body)
{
	char *html = skyx_asprintf("<!doctype html><html><head><title>%s"
	                           "</title></head><body>%s</body></html>",
	                           title, body);
	skytest_resp_text(resp, 200, NULL, html);
	free(html);
}

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	const char *p = req->path;
	if (!strcmp(p, "/form")) {
		pthread_mutex_lock(&S.lock);
		S.form_gets++;
		pthread_mutex_unlock(&S.lock);
		page(resp, "Apply", FORM_BODY);
	} else if (!strcmp(p, "/submit")) {
		pthread_mutex_lock(&S.lock);
		S.posts++;
		snprintf(S.last_post, sizeof S.last_post, "%s", req->body);
		pthread_mutex_unlock(&S.lock);
		page(resp, "Thank you",
		     "<h1>Thank you!</h1><p>Application "
		     "received.</p>");
	} else if (!strcmp(p, "/never")) {
		hold();
		resp->drop = 1;
	} else if (!strcmp(p, "/images")) {
		/* The document loads; its images never do. */
		page(resp, "Apply",
		     FORM_BODY
		     "<img src=\"/never?1\" alt=\"\"><img src=\"/never"
		     "?2\" alt=\"\">");
	} else if (!strcmp(p, "/typeahead")) {
		/* Typing three letters sends the visitor elsewhere. */
		page(
		    resp, "Search",
		    "<h1>Search</h1><p><label for=\"q\">Search</label> <input "
		    "id=\"q\" oninput=\"if (this.value.length > 2) "
		    "location.href='/results?q=' + this.value\"></p><p><button "
		    "type=\"button\" onclick=\"document.title='went'\">Go"
		    "</button></p>");
	} else if (!strcmp(p, "/results")) {
		page(resp, "Results", "<h1>Results</h1><p>Nothing found.</p>");
	} else if (!strcmp(p, "/alerts")) {
		page(resp, "Alerts",
		     "<h1>Are you sure?</h1><script>setTimeout(function () { "
		     "for (;;) alert('Are you sure?'); }, 200);</script>");
	} else {
		skytest_resp_text(resp, 404, "text/plain", "not found");
	}
}

/* Element ids of the pages, read from real snapshots once. */
static char id_name[32], id_email[32], id_send[32], id_q[32], id_go[32];

static void read_ids(void)
{
	void *b = skyb_browser(NULL);
	void *ctx = skyb_context(b, "{}");
	char *u = skyx_asprintf("%s/form", skytest_httpd_url(S.h));
	json_decref(skyb_navigate(ctx, u));
	json_t *snap = skyb_snapshot(ctx);
	snprintf(id_name, sizeof id_name, "%s",
	         skyb_id(snap, "input", "Full name"));
	snprintf(id_email, sizeof id_email, "%s",
	         skyb_id(snap, "input", "Email"));
	snprintf(id_send, sizeof id_send, "%s",
	         skyb_id(snap, "button", "Send application"));
	json_decref(snap);
	free(u);
	/* Ids are numbered per document load of a context: a fresh one. */
	skyb_provider()->context_close(ctx);
	ctx = skyb_context(b, "{}");
	u = skyx_asprintf("%s/typeahead", skytest_httpd_url(S.h));
	json_decref(skyb_navigate(ctx, u));
	snap = skyb_snapshot(ctx);
	snprintf(id_q, sizeof id_q, "%s", skyb_id(snap, "input", "Search"));
	snprintf(id_go, sizeof id_go, "%s", skyb_id(snap, "button", "Go"));
	json_decref(snap);
	free(u);
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(b);
}

/* Per test (Check forks each one): the site's threads live in the
 * process that counts. */
static void setup(void)
{
	S.h = skytest_httpd_start(on_site, NULL);
	ck_assert_ptr_nonnull(S.h);
	pthread_mutex_lock(&S.lock);
	S.hang = 1;
	S.released = 0;
	S.posts = S.form_gets = 0;
	pthread_mutex_unlock(&S.lock);
}

static void teardown(void)
{
	pthread_mutex_lock(&S.lock);
	S.released = 1;
	pthread_cond_broadcast(&S.release);
	pthread_mutex_unlock(&S.lock);
	skytest_httpd_stop(S.h);
	S.h = NULL;
}

/* --- an engine on scripted answers --------------------------------------- */

static void rig_with_answers(rel_rig *r, const char *const *lines)
{
	char *dir = skytest_tmpdir("bfaults-answers");
	char *file = skyx_asprintf("%s/answers.jsonl", dir);
	skyx_buf b = {0};
	for (int i = 0; lines[i]; i++) {
		skyx_buf_puts(&b, lines[i]);
		skyx_buf_putc(&b, '\n');
	}
	ck_assert_int_eq(sky_write_file(file, b.data ? b.data : "", b.len), 0);
	skyx_buf_free(&b);
	char *cfg = skyx_asprintf(
	    "{\"llm\":{\"replay_file\":\"%s\",\"replay_sequential\":true,"
	    "\"replay_strict\":false},\"agent\":{\"check_goal\":0,"
	    "\"settle_max_ms\":1500,\"navigate_timeout_ms\":3000,"
	    "\"wait_max_s\":10},\"browser\":{\"call_timeout_ms\":4000}}",
	    file);
	setenv("SKYENGINE_MAX_RETRIES", "2", 1);
	rel_rig_start(r, "bfaults", "replay", 1, cfg);
	free(cfg);
	free(file);
	free(dir);
}

static char *url(const char *path)
{
	return skyx_asprintf("%s%s", skytest_httpd_url(S.h), path);
}

/* The Chromium browser process this process launched (not a renderer),
 * or 0. */
static pid_t our_chromium(void)
{
	pid_t pids[256];
	int n = rel_chromium_of(getpid(), pids, 256);
	for (int i = 0; i < n; i++) {
		rel_proc p;
		if (rel_proc_read(pids[i], &p) == 0 && p.ppid == getpid())
			return pids[i];
	}
	return 0;
}

static const char *reason(json_t *run)
{
	const char *r = rel_str(run, "failure_reason");
	return r ? r : "";
}

/* --- tests ------------------------------------------------------------- */

START_TEST(chromium_killed_mid_step_is_relaunched)
{
	char a1[512];
	snprintf(a1, sizeof a1,
	         "{\"purpose\":\"extract-actions\",\"order\":1,\"retry\":1,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"input_text\","
	         "\"id\":\"%s\",\"text\":\"Ada Lovelace\"},{\"action_type\":"
	         "\"input_text\",\"id\":\"%s\",\"text\":\"ada@example.com\"},"
	         "{\"action_type\":\"click\",\"id\":\"%s\"},{\"action_type\":"
	         "\"complete\",\"reasoning\":\"sent\"}]}}",
	         id_name, id_email, id_send);
	const char *lines[] = {
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	    "\"answer\":{\"actions\":[{\"action_type\":\"wait\","
	    "\"seconds\":3}]}}",
	    a1, NULL};
	rel_rig r;
	rig_with_answers(&r, lines);
	char *u = url("/form");
	char *id = rel_rig_submit(&r,
	                          "{\"prompt\":\"Apply as Ada Lovelace, "
	                          "ada@example.com\",\"url\":\"%s\","
	                          "\"engine\":\"skyvern-1.0\"}",
	                          u);
	/* Kill the browser while step 0 waits. */
	pid_t pid = 0;
	for (int i = 0; i < 300 && !pid; i++) {
		json_t *steps = rel_rig_steps(&r, id);
		if (skyx_str_eq(rel_step_status(steps, 0, 0), "running"))
			pid = our_chromium();
		json_decref(steps);
		if (!pid)
			usleep(50 * 1000);
	}
	ck_assert_int_gt(pid, 0);
	usleep(500 * 1000);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);

	json_t *run = rel_rig_wait(&r, id, 120000);
	ck_assert_msg(skyx_str_eq(rel_str(run, "status"), "completed"),
	              "%s: %s", rel_str(run, "status"), reason(run));
	/* The form was sent once, from a new browser at the run's page. */
	ck_assert_int_eq(S.posts, 1);
	ck_assert_ptr_nonnull(strstr(S.last_post, "name=Ada+Lovelace"));
	ck_assert_int_eq(S.form_gets, 2);
	pid_t pid2 = our_chromium();
	ck_assert_int_gt(pid2, 0);
	ck_assert_int_ne(pid2, pid);
	/* The step that found the browser gone failed and says so; its
	 * retry completed. */
	/* A step found the browser gone and failed saying so; the step
	 * after it (in the new browser) completed the run. */
	json_t *steps = rel_rig_steps(&r, id);
	size_t n = json_array_size(steps), lost = n;
	for (size_t i = 0; i < n && lost == n; i++) {
		json_t *st = json_array_get(steps, i);
		char *out = json_dumps(json_object_get(st, "output"), 0);
		if (skyx_str_eq(rel_str(st, "status"), "failed") &&
		    strstr(out, "killed by signal 9"))
			lost = i;
		free(out);
	}
	ck_assert_msg(lost < n - 1, "no failed step before the last one");
	ck_assert_str_eq(rel_str(json_array_get(steps, n - 1), "status"),
	                 "completed");
	json_decref(steps);
	json_decref(run);
	free(id);
	free(u);
	rel_rig_stop(&r, 1);
}
END_TEST

START_TEST(a_page_that_never_answers_fails_the_run_clearly)
{
	const char *lines[] = {
	    "{\"purpose\":\"extract-actions\",\"answer\":{\"actions\":"
	    "[{\"action_type\":\"complete\",\"reasoning\":\"read\"}]}}",
	    NULL};
	rel_rig r;
	rig_with_answers(&r, lines);
	char *u = url("/never");
	char *id =
	    rel_rig_submit(&r,
	                   "{\"prompt\":\"Read the page\",\"url\":\"%s\","
	                   "\"engine\":\"skyvern-1.0\"}",
	                   u);
	json_t *run = rel_rig_wait(&r, id, 120000);
	ck_assert_str_eq(rel_str(run, "status"), "failed");
	ck_assert_msg(
	    skyx_str_startswith(reason(run), "Failed to navigate to URL. URL:"),
	    "%s", reason(run));
	ck_assert_msg(strcasestr(reason(run), "time"), "%s", reason(run));
	json_decref(run);
	free(id);
	free(u);
	rel_rig_stop(&r, 1);
}
END_TEST

START_TEST(images_that_never_load_do_not_stop_the_run)
{
	char a0[512];
	snprintf(a0, sizeof a0,
	         "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"input_text\","
	         "\"id\":\"%s\",\"text\":\"Grace Hopper\"},{\"action_type\":"
	         "\"input_text\",\"id\":\"%s\",\"text\":\"grace@example.com\"},"
	         "{\"action_type\":\"click\",\"id\":\"%s\"},{\"action_type\":"
	         "\"complete\",\"reasoning\":\"sent\"}]}}",
	         id_name, id_email, id_send);
	const char *lines[] = {a0, NULL};
	rel_rig r;
	rig_with_answers(&r, lines);
	char *u = url("/images");
	char *id = rel_rig_submit(&r,
	                          "{\"prompt\":\"Apply as Grace Hopper, "
	                          "grace@example.com\",\"url\":\"%s\","
	                          "\"engine\":\"skyvern-1.0\"}",
	                          u);
	json_t *run = rel_rig_wait(&r, id, 120000);
	ck_assert_msg(skyx_str_eq(rel_str(run, "status"), "completed"),
	              "%s: %s", rel_str(run, "status"), reason(run));
	ck_assert_int_eq(S.posts, 1);
	ck_assert_ptr_nonnull(strstr(S.last_post, "name=Grace+Hopper"));
	json_decref(run);
	free(id);
	free(u);
	rel_rig_stop(&r, 1);
}
END_TEST

START_TEST(a_page_that_navigates_away_during_an_action)
{
	char a0[512];
	snprintf(a0, sizeof a0,
	         "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	         "\"answer\":{\"actions\":[{\"action_type\":\"input_text\","
	         "\"id\":\"%s\",\"text\":\"lovelace\"},{\"action_type\":"
	         "\"click\",\"id\":\"%s\"}]}}",
	         id_q, id_go);
	const char *lines[] = {
	    a0,
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":1,"
	    "\"answer\":{\"actions\":[{\"action_type\":\"terminate\","
	    "\"reasoning\":\"the search has no results\"}]}}",
	    NULL};
	rel_rig r;
	rig_with_answers(&r, lines);
	char *u = url("/typeahead");
	char *id = rel_rig_submit(&r,
	                          "{\"prompt\":\"Search for lovelace\",\"url\":"
	                          "\"%s\",\"engine\":\"skyvern-1.0\"}",
	                          u);
	json_t *run = rel_rig_wait(&r, id, 120000);
	ck_assert_msg(skyx_str_eq(rel_str(run, "status"), "terminated"),
	              "%s: %s", rel_str(run, "status"), reason(run));
	ck_assert_str_eq(reason(run), "the search has no results");
	/* Whatever the typing and the click met on the way (the old page,
	 * the one loading, the new one), each action has a result, a
	 * failed one says why, and the next look saw the new page. */
	json_t *steps = rel_rig_steps(&r, id);
	ck_assert_uint_ge(json_array_size(steps), 2);
	json_t *s0 = json_array_get(steps, 0);
	json_t *results =
	    json_object_get(json_object_get(s0, "output"), "action_results");
	ck_assert_uint_eq(json_array_size(results), 2);
	size_t i;
	json_t *res;
	json_array_foreach (results, i, res)
		if (!json_is_true(json_object_get(res, "success")))
			ck_assert_ptr_nonnull(rel_str(res, "error"));
	json_t *last = json_array_get(steps, json_array_size(steps) - 1);
	ck_assert_ptr_nonnull(strstr(
	    rel_str(json_object_get(last, "output"), "url"), "/results?q="));
	json_decref(steps);
	json_decref(run);
	free(id);
	free(u);
	rel_rig_stop(&r, 1);
}
END_TEST

START_TEST(an_endless_alert_loop_ends_the_run_with_a_reason)
{
	const char *lines[] = {
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	    "\"answer\":{\"actions\":[{\"action_type\":\"complete\","
	    "\"reasoning\":\"the page asks a question\"}]}}",
	    NULL};
	rel_rig r;
	rig_with_answers(&r, lines);
	char *u = url("/alerts");
	char *id =
	    rel_rig_submit(&r,
	                   "{\"prompt\":\"Read the page\",\"url\":\"%s\","
	                   "\"engine\":\"skyvern-1.0\"}",
	                   u);
	json_t *run = rel_rig_wait(&r, id, 120000);
	const char *st = rel_str(run, "status");
	ck_assert_msg(rel_is_final(st), "%s", st);
	if (!skyx_str_eq(st, "completed"))
		ck_assert_msg(*reason(run), "%s without a reason", st);
	fprintf(stderr, "alert loop: %s: %s\n", st, reason(run));
	json_decref(run);
	free(id);
	free(u);
	rel_rig_stop(&r, 1);
}
END_TEST

/* Once, in the parent (an unchecked fixture): a site of its own for
 * the snapshots. */
static void ids_once(void)
{
	S.h = skytest_httpd_start(on_site, NULL);
	ck_assert_ptr_nonnull(S.h);
	read_ids();
	skytest_httpd_stop(S.h);
	S.h = NULL;
}

int main(void)
{
	Suite *s = suite_create("browser_faults_in_runs");
	TCase *tc = tcase_create("runs");
	tcase_add_unchecked_fixture(tc, ids_once, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, chromium_killed_mid_step_is_relaunched);
	tcase_add_test(tc, a_page_that_never_answers_fails_the_run_clearly);
	tcase_add_test(tc, images_that_never_load_do_not_stop_the_run);
	tcase_add_test(tc, a_page_that_navigates_away_during_an_action);
	tcase_add_test(tc, an_endless_alert_loop_ends_the_run_with_a_reason);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
