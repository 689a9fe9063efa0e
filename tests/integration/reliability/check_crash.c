/*
 * Crash recovery of the real server: skyengine-server executes runs on
 * the offline planner against a loopback form site and is SIGKILLed while
 * runs are queued, running (held in a slow page load) and webhooks are
 * pending (one mid-send, others waiting for a retry). Its Chromium must
 * not outlive it. Restarted on the same data dir, every run reaches a
 * final status, each form is submitted once, no finished run executes
 * again, and each run's webhook reaches the receiver once (copies of an
 * interrupted delivery carry the same x-skyengine-webhook-id).
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "httpd.h"
#include "rel.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/hash.h"

#define NRUNS 8

/* --- the form site ----------------------------------------------------- */

typedef struct site {
	pthread_mutex_t lock;
	int phase;        /* 1 before the kill, 2 after */
	int fast_left;    /* phase 1: page loads answered at once */
	int gets[NRUNS];  /* GET /form per run */
	int posts[NRUNS]; /* POST /submit per run */
} site;
static site S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int run_of(const skytest_req *req)
{
	char *v = skytest_req_query(req, "run");
	int k = v ? atoi(v) : -1;
	free(v);
	return k >= 0 && k < NRUNS ? k : -1;
}

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	int k = run_of(req);
	if (k < 0) {
		skytest_resp_text(resp, 404, "text/plain", "no such run");
		return;
	}
	if (!strcmp(req->path, "/form")) {
		pthread_mutex_lock(&S.lock);
		S.gets[k]++;
		int slow = S.phase == 1 && S.fast_left-- <= 0;
		pthread_mutex_unlock(&S.lock);
		/* Before the kill, all but the first runs hang in their page
		 * load: running, and sure not to have submitted anything. */
		if (slow)
			resp->delay_ms = 4000;
		char *html = skyx_asprintf(
		    "<!doctype html><html><head><title>Apply</title></head>"
		    "<body><h1>Apply for the position</h1>"
		    "<form action=\"/submit?run=%d\" method=\"post\">"
		    "<p><label for=\"n\">Full name</label> <input id=\"n\" "
		    "name=\"name\"></p><p><label for=\"e\">Email</label> "
		    "<input id=\"e\" name=\"email\" type=\"email\"></p>"
		    "<p><button type=\"submit\">Send application</button>"
		    "</p></form></body></html>",
		    k);
		skytest_resp_text(resp, 200, NULL, html);
		free(html);
		return;
	}
	if (!strcmp(req->path, "/submit") && !strcmp(req->method, "POST")) {
		pthread_mutex_lock(&S.lock);
		S.posts[k]++;
		pthread_mutex_unlock(&S.lock);
		skytest_resp_text(resp, 200, NULL,
		                  "<!doctype html><title>Thank you</title>"
		                  "<h1>Thank you!</h1><p>Your application was "
		                  "received.</p>");
		return;
	}
	skytest_resp_text(resp, 404, "text/plain", "not found");
}

/* --- the webhook receiver ---------------------------------------------- */

typedef struct hook {
	pthread_mutex_t lock;
	int phase;
	int seen;
	json_t *got; /* [{"run_id", "status", "id"}] in arrival order */
} hook;
static hook H = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_hook(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	json_t *p = json_loads(req->body, 0, NULL);
	const char *id = skytest_req_header(req, "x-skyengine-webhook-id");
	pthread_mutex_lock(&H.lock);
	const char *sig = skytest_req_header(req, "x-skyvern-signature");
	json_array_append_new(H.got,
	                      json_pack("{s:s?, s:s?, s:s?, s:s?, s:s}",
	                                "run_id", rel_str(p, "run_id"),
	                                "status", rel_str(p, "status"), "id",
	                                id, "sig", sig, "body", req->body));
	int n = ++H.seen, phase = H.phase;
	pthread_mutex_unlock(&H.lock);
	json_decref(p);
	if (phase == 1 && n == 1) {
		/* The first delivery is still in flight at the kill. */
		resp->delay_ms = 8000;
	} else if (phase == 1) {
		skytest_resp_header(resp, "Retry-After", "1");
		skytest_resp_text(resp, 503, "application/json", "{}");
		return;
	}
	skytest_resp_text(resp, 200, "application/json", "{}");
}

/* --- the test ---------------------------------------------------------- */

static int count_status(int port, char **ids, const char *st)
{
	int n = 0;
	for (int i = 0; i < NRUNS; i++) {
		json_t *r = rel_run(port, ids[i]);
		n += skyx_str_eq(rel_str(r, "status"), st);
		json_decref(r);
	}
	return n;
}

static int count_final(int port, char **ids)
{
	int n = 0;
	for (int i = 0; i < NRUNS; i++) {
		json_t *r = rel_run(port, ids[i]);
		n += rel_is_final(rel_str(r, "status"));
		json_decref(r);
	}
	return n;
}

/* Rows of the outbox by state, read from the SQLite file itself. */
static int outbox_count(const char *dir, const char *where)
{
	char *db = skyx_asprintf("%s/skyengine.db", dir);
	char *sql = skyx_asprintf(
	    "SELECT count(*) FROM webhook_outbox WHERE %s", where);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(db);
	free(sql);
	return n;
}

START_TEST(sigkill_with_runs_queued_running_and_webhooks_pending)
{
	char *dir = skytest_tmpdir("crash");
	skytest_httpd *site_h = skytest_httpd_start(on_site, NULL);
	skytest_httpd *hook_h = skytest_httpd_start(on_hook, NULL);
	ck_assert_ptr_nonnull(site_h);
	ck_assert_ptr_nonnull(hook_h);
	S.phase = H.phase = 1;
	S.fast_left = 2;
	H.got = json_array();
	char *cfg = skyx_asprintf("%s/config.json", dir);
	const char *json = "{\"webhook\":{\"backoff_ms\":100,\"timeout_ms\":"
	                   "20000},\"agent\":{\"settle_max_ms\":2000}}";
	sky_write_file(cfg, json, strlen(json));
	const char *args[] = {"--api-key", REL_KEY, "--workers", "2",
	                      "--config",  cfg,     NULL};
	skytest_server srv;
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);

	char *ids[NRUNS];
	for (int k = 0; k < NRUNS; k++) {
		char *body = skyx_asprintf(
		    "{\"prompt\":\"Apply for the position: name: Run %d. "
		    "email: r%d@example.com\",\"url\":\"%s/form?run=%d\","
		    "\"engine\":\"skyvern-1.0\",\"webhook_url\":\"%s/hook\"}",
		    k, k, skytest_httpd_url(site_h), k,
		    skytest_httpd_url(hook_h));
		ids[k] = rel_submit(srv.port, body);
		free(body);
	}

	/* Two runs finish; the next two hang in their page load. */
	int64_t t_start = skyx_time_mono_ms();
	int64_t end = t_start + 120000;
	int finals = 0, running = 0;
	while (skyx_time_mono_ms() < end) {
		finals = count_final(srv.port, ids);
		running = count_status(srv.port, ids, "running");
		if (finals >= 2 && running >= 2)
			break;
		usleep(50 * 1000);
	}
	ck_assert_msg(finals >= 2 && running >= 2,
	              "never reached the crash point: %d final, %d running",
	              finals, running);
	/* Let the webhook thread pick up both deliveries. */
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&H.lock);
		int seen = H.seen;
		pthread_mutex_unlock(&H.lock);
		if (seen >= 1)
			break;
		usleep(50 * 1000);
	}
	pid_t chromium[256];
	int nchrom = rel_chromium_of(srv.pid, chromium, 256);
	ck_assert_int_gt(nchrom, 0);
	fprintf(stderr, "crash: killing at %lld ms with %d final, %d running\n",
	        (long long)(skyx_time_mono_ms() - t_start), finals, running);
	skytest_server_kill(&srv);

	/* The scene of the crash, from the files it left. */
	ck_assert_int_ge(outbox_count(dir, "status IN ('pending',"
	                                   "'delivering')"),
	                 1);
	int queued = 0;
	{
		char *db = skyx_asprintf("%s/skyengine.db", dir);
		sqlite3 *h = NULL;
		sqlite3_stmt *st = NULL;
		if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) ==
		        SQLITE_OK &&
		    sqlite3_prepare_v2(
		        h,
		        "SELECT count(*) FROM tasks WHERE status "
		        "IN ('created','queued')",
		        -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			queued = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(h);
		free(db);
	}
	ck_assert_int_ge(queued, 1);

	/* Its Chromium went down with it. */
	int alive = 0;
	for (int i = 0; i < 100; i++) {
		alive = 0;
		for (int k = 0; k < nchrom; k++)
			alive += rel_alive(chromium[k]);
		if (!alive)
			break;
		usleep(100 * 1000);
	}
	ck_assert_msg(!alive,
	              "%d of %d Chromium processes outlived the "
	              "server",
	              alive, nchrom);

	/* Restart on the same data dir: everything fast now. */
	pthread_mutex_lock(&S.lock);
	S.phase = 2;
	int gets_before[NRUNS], posts_before[NRUNS];
	memcpy(gets_before, S.gets, sizeof gets_before);
	memcpy(posts_before, S.posts, sizeof posts_before);
	pthread_mutex_unlock(&S.lock);
	pthread_mutex_lock(&H.lock);
	H.phase = 2;
	pthread_mutex_unlock(&H.lock);
	free(srv.data_dir);
	free(srv.log_path);
	const char *args2[] = {"--api-key", REL_KEY, "--workers", "4",
	                       "--config",  cfg,     NULL};
	ck_assert_int_eq(skytest_server_start(&srv, dir, args2), 0);

	json_t *runs[NRUNS];
	int done = rel_wait_all(srv.port, ids, NRUNS, 240000, runs);
	ck_assert_int_eq(done, NRUNS);
	fprintf(stderr, "crash: all final at %lld ms\n",
	        (long long)(skyx_time_mono_ms() - t_start));
	for (int k = 0; k < NRUNS; k++) {
		ck_assert_msg(
		    skyx_str_eq(rel_str(runs[k], "status"), "completed"),
		    "run %d: %s: %s", k, rel_str(runs[k], "status"),
		    rel_str(runs[k], "failure_reason"));
		/* Submitted exactly once. */
		ck_assert_msg(S.posts[k] == 1, "run %d submitted %d times", k,
		              S.posts[k]);
		/* A run that had finished before the kill did not run
		 * again: no new page load. */
		if (posts_before[k])
			ck_assert_msg(S.gets[k] == gets_before[k],
			              "finished run %d executed again", k);
	}

	/* Each run's webhook arrives; wait for all, then a little more for
	 * any duplicate. */
	end = skyx_time_mono_ms() + 60000;
	int have = 0;
	while (skyx_time_mono_ms() < end && have < NRUNS) {
		have = 0;
		pthread_mutex_lock(&H.lock);
		for (int k = 0; k < NRUNS; k++) {
			size_t i;
			json_t *g;
			int found = 0;
			json_array_foreach (H.got, i, g)
				found |=
				    skyx_str_eq(rel_str(g, "run_id"), ids[k]);
			have += found;
		}
		pthread_mutex_unlock(&H.lock);
		usleep(100 * 1000);
	}
	ck_assert_int_eq(have, NRUNS);
	usleep(1500 * 1000);
	pthread_mutex_lock(&H.lock);
	for (int k = 0; k < NRUNS; k++) {
		const char *first_id = NULL;
		int copies = 0;
		size_t i;
		json_t *g;
		json_array_foreach (H.got, i, g) {
			if (!skyx_str_eq(rel_str(g, "run_id"), ids[k]))
				continue;
			ck_assert_str_eq(rel_str(g, "status"), "completed");
			ck_assert_ptr_nonnull(rel_str(g, "id"));
			/* Signed, also when finished after the restart. */
			char want[SKYX_SHA256_HEX_LEN];
			const char *b = rel_str(g, "body");
			skyx_hmac_sha256_hex(REL_KEY, strlen(REL_KEY), b,
			                     strlen(b), want);
			ck_assert_msg(skyx_str_eq(rel_str(g, "sig"), want),
			              "run %d: bad signature %s", k,
			              rel_str(g, "sig"));
			if (!first_id)
				first_id = rel_str(g, "id");
			/* Deduplicated by the stable id: one delivery. */
			ck_assert_msg(skyx_str_eq(first_id, rel_str(g, "id")),
			              "run %d: two deliveries %s and %s", k,
			              first_id, rel_str(g, "id"));
			copies++;
		}
		ck_assert_int_ge(copies, 1);
	}
	fprintf(stderr, "crash: %zu deliveries for %d runs\n",
	        json_array_size(H.got), NRUNS);
	pthread_mutex_unlock(&H.lock);
	/* Every delivery ended delivered; none failed. */
	ck_assert_int_eq(outbox_count(dir, "status<>'delivered'"), 0);
	ck_assert_int_eq(outbox_count(dir, "1"), NRUNS);

	for (int k = 0; k < NRUNS; k++) {
		json_decref(runs[k]);
		free(ids[k]);
	}
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	free(srv.data_dir);
	free(srv.log_path);
	skytest_httpd_stop(site_h);
	skytest_httpd_stop(hook_h);
	json_decref(H.got);
	skyx_rm_rf(dir);
	free(dir);
	free(cfg);
}
END_TEST

/* The crash window between storing a run's final status and queueing
 * its webhook: the store is left exactly as such a crash leaves it (a
 * completed run with a webhook_url and no delivery), then the server
 * starts on it twice. One delivery, signed, and only one. */
START_TEST(final_run_without_a_queued_webhook_gets_it_at_restart)
{
	char *dir = skytest_tmpdir("unqueued");
	skytest_httpd *hook_h = skytest_httpd_start(on_hook, NULL);
	H.phase = 2;
	H.seen = 0;
	H.got = json_array();
	sky_store *st = NULL;
	ck_assert_int_eq(sky_store_open(&st, dir, NULL), 0);
	char *url = skyx_asprintf("%s/hook", skytest_httpd_url(hook_h));
	sky_task_new tn = {0};
	tn.run_type = SKY_RUN_TYPE_V1;
	tn.engine = "skyvern-1.0";
	tn.prompt = "done before the crash";
	tn.webhook_url = url;
	tn.max_screenshot_scrolls = -1;
	sky_task_rec *t = NULL;
	ck_assert_int_eq(sky_store_task_create(st, &tn, &t, NULL), 0);
	ck_assert_int_eq(sky_store_task_set_status(
	                     st, t->task_id, SKY_TASK_RUNNING, NULL, NULL),
	                 0);
	ck_assert_int_eq(sky_store_task_set_status(
	                     st, t->task_id, SKY_TASK_COMPLETED, NULL, NULL),
	                 0);
	sky_store_close(st);
	ck_assert_int_eq(outbox_count(dir, "1"), 0);

	/* SKYENGINE_API_KEY signs what is queued after a restart. */
	setenv("SKYENGINE_API_KEY", REL_KEY, 1);
	const char *args[] = {"--workers", "1", NULL};
	skytest_server srv;
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
		for (int i = 0; i < 100 && round == 0; i++) {
			pthread_mutex_lock(&H.lock);
			int seen = H.seen;
			pthread_mutex_unlock(&H.lock);
			if (seen)
				break;
			usleep(50 * 1000);
		}
		ck_assert_int_eq(skytest_server_stop(&srv), 0);
		free(srv.data_dir);
		free(srv.log_path);
	}
	unsetenv("SKYENGINE_API_KEY");
	pthread_mutex_lock(&H.lock);
	ck_assert_int_eq(json_array_size(H.got), 1);
	json_t *g = json_array_get(H.got, 0);
	ck_assert_str_eq(rel_str(g, "run_id"), t->task_id);
	ck_assert_str_eq(rel_str(g, "status"), "completed");
	char want[SKYX_SHA256_HEX_LEN];
	const char *body = rel_str(g, "body");
	skyx_hmac_sha256_hex(REL_KEY, strlen(REL_KEY), body, strlen(body),
	                     want);
	ck_assert_str_eq(rel_str(g, "sig"), want);
	pthread_mutex_unlock(&H.lock);
	ck_assert_int_eq(outbox_count(dir, "status='delivered'"), 1);
	json_decref(H.got);
	sky_task_rec_free(t);
	skytest_httpd_stop(hook_h);
	free(url);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("crash");
	tcase_set_timeout(tc, 400);
	tcase_add_test(tc,
	               sigkill_with_runs_queued_running_and_webhooks_pending);
	tcase_add_test(tc,
	               final_run_without_a_queued_webhook_gets_it_at_restart);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
