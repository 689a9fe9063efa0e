/*
 * Several skyengine-server processes on one store. Each has its own data
 * dir (browser, artifacts, node id) and names the same SQLite file with
 * --store; runs are claimed under leases, so a process that dies leaves
 * its runs to the others once their leases expire, and a cancel sent to
 * any process stops the run where it executes. The offline planner
 * drives a loopback form site that counts submissions per run.
 */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>

#include "httpd.h"
#include "../reliability/rel.h"
#include "util/fs.h"

#define NRUNS 12
#define LEASE_MS 2000

static struct {
	pthread_mutex_t lock;
	int hold_ms;      /* page loads are held this long */
	int gets[NRUNS];  /* GET /form per run */
	int posts[NRUNS]; /* POST /submit per run */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

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
		resp->delay_ms = S.hold_ms;
		pthread_mutex_unlock(&S.lock);
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

/* Running runs whose lease `owner` holds, read from the shared file. */
static int held_by(const char *db, const char *owner)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h,
	                       "SELECT count(*) FROM tasks WHERE "
	                       "status='running' AND lease_owner=?1",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static char *node_of(const char *dir)
{
	char *p = skyx_asprintf("%s/node.id", dir);
	char *id = skyx_read_file(p, NULL);
	free(p);
	if (id)
		id[strcspn(id, "\r\n")] = 0;
	return id;
}

static char *write_config(const char *dir)
{
	char *path = skyx_asprintf("%s/config.json", dir);
	char *json = skyx_asprintf("{\"cluster\":{\"lease_ms\":%d},"
	                           "\"agent\":{\"settle_max_ms\":2000}}",
	                           LEASE_MS);
	sky_write_file(path, json, strlen(json));
	free(json);
	return path;
}

START_TEST(three_processes_one_store_a_killed_ones_runs_are_finished)
{
	char *root = skytest_tmpdir("cluster");
	char *db = skyx_asprintf("%s/shared.db", root);
	char *dirs[3], *cfgs[3];
	skytest_server srv[3];
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	ck_assert_ptr_nonnull(site);
	S.hold_ms = 1500;
	/* A and C take requests and execute; B only executes. */
	for (int i = 0; i < 3; i++) {
		dirs[i] = skyx_asprintf("%s/host%c", root, 'A' + i);
		sky_mkdir_p(dirs[i]);
		cfgs[i] = write_config(dirs[i]);
		const char *args[] = {
		    "--api-key", REL_KEY,    "--workers",
		    "2",         "--config", cfgs[i],
		    "--store",   db,         i == 1 ? "--worker-only" : NULL,
		    NULL};
		ck_assert_msg(skytest_server_start(&srv[i], dirs[i], args) == 0,
		              "host %c did not start", 'A' + i);
	}
	char *b_node = node_of(dirs[1]);
	ck_assert_ptr_nonnull(b_node);

	char *ids[NRUNS];
	for (int k = 0; k < NRUNS; k++) {
		char *body = skyx_asprintf(
		    "{\"prompt\":\"Apply for the position: name: Run %d. "
		    "email: r%d@example.com\",\"url\":\"%s/form?run=%d\","
		    "\"engine\":\"skyvern-1.0\"}",
		    k, k, skytest_httpd_url(site), k);
		ids[k] = rel_submit(srv[k % 2 ? 2 : 0].port, body);
		free(body);
	}
	/* Kill B once it holds runs. */
	int64_t end = skyx_time_mono_ms() + 120000;
	int held = 0;
	while (skyx_time_mono_ms() < end && (held = held_by(db, b_node)) < 1)
		usleep(20 * 1000);
	ck_assert_msg(held >= 1, "host B never claimed a run");
	skytest_server_kill(&srv[1]);
	fprintf(stderr, "cluster: killed host B holding %d runs\n", held);

	json_t *runs[NRUNS];
	ck_assert_int_eq(rel_wait_all(srv[0].port, ids, NRUNS, 300000, runs),
	                 NRUNS);
	/* B held its runs until it died; the others finished them. */
	ck_assert_int_eq(held_by(db, b_node), 0);
	int completed = 0;
	for (int k = 0; k < NRUNS; k++) {
		const char *st = rel_str(runs[k], "status");
		const char *why = rel_str(runs[k], "failure_reason");
		/* Each application sent once, never twice. */
		ck_assert_msg(S.posts[k] <= 1, "run %d submitted %d times", k,
		              S.posts[k]);
		if (skyx_str_eq(st, "completed")) {
			ck_assert_msg(S.posts[k] == 1,
			              "run %d completed without submitting", k);
			completed++;
		} else {
			/* Only a run cut right after its submit may stop,
			 * and it says so. */
			ck_assert_msg(skyx_str_eq(st, "terminated") && why &&
			                  strstr(why, "outcome is unknown"),
			              "run %d: %s: %s", k, st, why);
		}
		json_decref(runs[k]);
		free(ids[k]);
	}
	fprintf(stderr, "cluster: %d of %d completed\n", completed, NRUNS);
	ck_assert_int_ge(completed, NRUNS - held);
	for (int i = 0; i < 3; i += 2) {
		char *log = skytest_server_log(&srv[i]);
		if (log && strstr(log, "resuming it"))
			fprintf(stderr, "cluster: host %c resumed B's runs\n",
			        'A' + i);
		free(log);
		ck_assert_int_eq(skytest_server_stop(&srv[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		free(srv[i].data_dir);
		free(srv[i].log_path);
		free(dirs[i]);
		free(cfgs[i]);
	}
	skytest_httpd_stop(site);
	free(b_node);
	skyx_rm_rf(root);
	free(root);
	free(db);
}
END_TEST

START_TEST(cancel_through_one_process_stops_the_run_on_another)
{
	char *root = skytest_tmpdir("cluster-cancel");
	char *db = skyx_asprintf("%s/shared.db", root);
	char *da = skyx_asprintf("%s/hostA", root);
	char *dbb = skyx_asprintf("%s/hostB", root);
	sky_mkdir_p(da);
	sky_mkdir_p(dbb);
	char *ca = write_config(da), *cb = write_config(dbb);
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	S.hold_ms = 4000;
	/* A takes requests and executes nothing; B executes. */
	const char *aa[] = {"--api-key", REL_KEY, "--config",     ca,
	                    "--store",   db,      "--no-execute", NULL};
	const char *ab[] = {"--api-key", REL_KEY, "--config",      cb,
	                    "--store",   db,      "--worker-only", NULL};
	skytest_server a, b;
	ck_assert_int_eq(skytest_server_start(&a, da, aa), 0);
	setenv("SKYENGINE_LOG", "info", 1); /* B says when it stops */
	ck_assert_int_eq(skytest_server_start(&b, dbb, ab), 0);
	unsetenv("SKYENGINE_LOG");
	char *body = skyx_asprintf(
	    "{\"prompt\":\"Apply for the position: name: Run 0. email: "
	    "r0@example.com\",\"url\":\"%s/form?run=0\",\"engine\":"
	    "\"skyvern-1.0\"}",
	    skytest_httpd_url(site));
	char *id = rel_submit(a.port, body);
	free(body);
	/* B is loading the page (held 4 s) when A gets the cancel. */
	int64_t end = skyx_time_mono_ms() + 60000;
	while (skyx_time_mono_ms() < end && !S.gets[0])
		usleep(20 * 1000);
	ck_assert_int_eq(S.gets[0], 1);
	char path[160];
	snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
	ck_assert_int_eq(rel_call(a.port, "POST", path, REL_AUTH, NULL, NULL),
	                 200);
	json_t *run = NULL;
	ck_assert_int_eq(rel_wait_all(a.port, &id, 1, 60000, &run), 1);
	ck_assert_str_eq(rel_str(run, "status"), "canceled");
	/* B stops at its next check: it says so, and the form it would
	 * have filled once the page arrived is never sent. */
	char *log = NULL;
	end = skyx_time_mono_ms() + 30000;
	while (skyx_time_mono_ms() < end) {
		free(log);
		log = skytest_server_log(&b);
		if (log && strstr(log, "canceled through another process"))
			break;
		usleep(100 * 1000);
	}
	ck_assert_msg(log && strstr(log, "canceled through another process"),
	              "host B never saw the cancel:\n%s", log ? log : "");
	free(log);
	usleep(3000 * 1000); /* past the held page load and a step */
	ck_assert_int_eq(S.posts[0], 0);
	json_decref(run);
	free(id);
	ck_assert_int_eq(skytest_server_stop(&b), 0);
	ck_assert_int_eq(skytest_server_stop(&a), 0);
	free(a.data_dir);
	free(a.log_path);
	free(b.data_dir);
	free(b.log_path);
	skytest_httpd_stop(site);
	skyx_rm_rf(root);
	free(root);
	free(db);
	free(da);
	free(dbb);
	free(ca);
	free(cb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("store");
	tcase_set_timeout(tc, 500);
	tcase_add_test(
	    tc, three_processes_one_store_a_killed_ones_runs_are_finished);
	tcase_add_test(tc, cancel_through_one_process_stops_the_run_on_another);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
