/*
 * Several skyengine-server processes on one store (issue 16, "How it
 * must be shown"). Each process has its own data dir (browser,
 * artifacts, node id) and names the same store with --store: a SQLite
 * file, or, when $SKYTEST_PG_URL names a PostgreSQL server (scripts/test
 * starts a throwaway one), a fresh database on it. Every test runs once
 * per store kind with the same body; without $SKYTEST_PG_URL the
 * PostgreSQL pass says so and is skipped.
 *
 * What a user would notice is checked from outside only: the API, the
 * loopback form site (which counts page loads and submissions per run
 * and which browser made them), a webhook receiver (deliveries per run
 * id) and the files each process writes under its own data dir (a run's
 * directory appears on the host that executes it). Nothing reads the
 * store behind the engine's back, so the test is the same for both.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef SKYTEST_HAVE_PQ
#	include <libpq-fe.h>
#endif

#include "httpd.h"
#include "../reliability/rel.h"
#include "util/fs.h"
#include <skyx/fs.h>
#include <skyx/hash.h>

#define NRUNS 30
#define NHOSTS 3
#define LEASE_MS 2000
/* The remote browser's requests carry this in their User-Agent. */
#define REMOTE_UA "skytest-remote-browser/1.0"

extern char **environ;

/* ---- processes: every one this program starts is listed in a file, so
 * that main() kills what a failed test (a forked child that exited
 * early) left running ---------------------------------------------------- */

static char pids_file[128];

static void track(pid_t pid, int group)
{
	FILE *f = fopen(pids_file, "a");
	if (f) {
		fprintf(f, "pid %d %d\n", (int)pid, group);
		fclose(f);
	}
}

static void track_db(const char *name)
{
	FILE *f = fopen(pids_file, "a");
	if (f) {
		fprintf(f, "db %s 0\n", name);
		fclose(f);
	}
}

static void pg_drop_leftover(const char *name);

/* What a case that failed half way left: its processes (killed by pid)
 * and its PostgreSQL databases (dropped). */
static void kill_leftovers(void)
{
	FILE *f = fopen(pids_file, "r");
	char what[8], name[96];
	int group;
	while (f && fscanf(f, "%7s %95s %d", what, name, &group) == 3) {
		int pid = atoi(name);
		if (!strcmp(what, "pid") && pid > 0 && rel_alive(pid)) {
			fprintf(stderr, "cluster: killing leftover pid %d\n",
			        pid);
			kill(group ? -pid : pid, SIGKILL);
		}
	}
	if (f)
		rewind(f);
	while (f && fscanf(f, "%7s %95s %d", what, name, &group) == 3)
		if (!strcmp(what, "db"))
			pg_drop_leftover(name);
	if (f)
		fclose(f);
	unlink(pids_file);
}

static void start_server(skytest_server *s, const char *dir,
                         const char *const *args, const char *what)
{
	int rc = skytest_server_start(s, dir, args);
	if (s->pid > 0)
		track(s->pid, 0);
	if (rc) {
		char *log = skytest_server_log(s);
		ck_abort_msg("%s did not start: %s", what, log ? log : "");
	}
}

static void free_server(skytest_server *s)
{
	free(s->data_dir);
	free(s->log_path);
	memset(s, 0, sizeof *s);
}

/* ---- the store ----------------------------------------------------------- */

typedef struct store {
	int pg;
	char *arg;    /* what --store gets: a file, or a postgresql:// URL */
	char *pg_db;  /* the database this test created */
	char *pg_url; /* $SKYTEST_PG_URL */
} store;

#ifdef SKYTEST_HAVE_PQ
static PGconn *pg_admin(const char *url)
{
	PGconn *c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK,
	              "cannot reach $SKYTEST_PG_URL: %s", PQerrorMessage(c));
	return c;
}

static void pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql,
	              PQerrorMessage(c));
	PQclear(r);
}

static void url_escape(skyx_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || strchr("-._~", ch))
			skyx_buf_printf(b, "%c", ch);
		else
			skyx_buf_printf(b, "%%%02X", ch);
	}
}

/* A fresh database on the server, and a URL naming it with the
 * connection parameters the admin connection really used (host may be a
 * socket directory). */
static void pg_create(store *st)
{
	PGconn *c = pg_admin(st->pg_url);
	st->pg_db = skyx_asprintf("skytest_cluster_%d_%lld", (int)getpid(),
	                          (long long)skyx_time_now_ms());
	char *sql = skyx_asprintf("CREATE DATABASE %s", st->pg_db);
	pg_exec(c, sql);
	track_db(st->pg_db);
	free(sql);
	skyx_buf b = {0};
	skyx_buf_printf(&b, "postgresql:///%s", st->pg_db);
	PQconninfoOption *opts = PQconninfo(c);
	const char *keep[] = {"host",     "hostaddr", "port", "user",
	                      "password", "sslmode",  NULL};
	char sep = '?';
	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		int wanted = 0;
		for (int i = 0; keep[i]; i++)
			wanted |= !strcmp(o->keyword, keep[i]);
		if (!wanted || !o->val || !*o->val)
			continue;
		skyx_buf_printf(&b, "%c%s=", sep, o->keyword);
		url_escape(&b, o->val);
		sep = '&';
	}
	PQconninfoFree(opts);
	PQfinish(c);
	st->arg = skyx_strdup(b.data);
	skyx_buf_free(&b);
}

static void pg_drop(store *st)
{
	PGconn *c = pg_admin(st->pg_url);
	char *sql =
	    skyx_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", st->pg_db);
	pg_exec(c, sql);
	free(sql);
	PQfinish(c);
}
#endif

/* Outside a test (main): no assertions. */
static void pg_drop_leftover(const char *name)
{
#ifdef SKYTEST_HAVE_PQ
	const char *url = getenv("SKYTEST_PG_URL");
	PGconn *c = url ? PQconnectdb(url) : NULL;
	if (c && PQstatus(c) == CONNECTION_OK) {
		char *sql = skyx_asprintf(
		    "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
		PQclear(PQexec(c, sql));
		free(sql);
	}
	PQfinish(c);
#else
	(void)name;
#endif
}

/* 0: ready; 1: this store kind is not available here (skipped). */
static int store_open(store *st, int pg, const char *root)
{
	memset(st, 0, sizeof *st);
	st->pg = pg;
	if (!pg) {
		st->arg = skyx_asprintf("%s/shared.db", root);
		return 0;
	}
	const char *url = getenv("SKYTEST_PG_URL");
	if (!url || !*url) {
		fprintf(stderr, "cluster: $SKYTEST_PG_URL is not set: the "
		                "PostgreSQL pass is skipped (scripts/test "
		                "starts a throwaway server and sets it)\n");
		return 1;
	}
#ifdef SKYTEST_HAVE_PQ
	st->pg_url = skyx_strdup(url);
	pg_create(st);
	return 0;
#else
	ck_abort_msg("$SKYTEST_PG_URL is set but this test was built "
	             "without libpq (install libpq-dev and reconfigure)");
	return 1;
#endif
}

static void store_close(store *st)
{
#ifdef SKYTEST_HAVE_PQ
	if (st->pg_db)
		pg_drop(st);
#endif
	free(st->arg);
	free(st->pg_db);
	free(st->pg_url);
}

static const char *kind(int pg)
{
	return pg ? "PostgreSQL" : "SQLite";
}

/* ---- the form site ------------------------------------------------------- */

static struct {
	pthread_mutex_t lock;
	int hold_ms;            /* page loads are held this long */
	int gets[NRUNS];        /* GET /form per run */
	int posts[NRUNS];       /* POST /submit per run */
	int remote_reqs[NRUNS]; /* ... made by the test's own Chromium */
	int hooks[NRUNS];       /* webhooks received per run */
	int hooks_unknown;      /* webhooks for no run of ours */
	int hooks_badsig;       /* not signed with the hosts' key */
	char *ids[NRUNS];       /* run ids, for the webhook receiver */
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
	const char *ua = skytest_req_header(req, "user-agent");
	int remote = ua && strstr(ua, REMOTE_UA);
	if (!strcmp(req->path, "/form")) {
		pthread_mutex_lock(&S.lock);
		S.gets[k]++;
		S.remote_reqs[k] += remote;
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
		S.remote_reqs[k] += remote;
		pthread_mutex_unlock(&S.lock);
		skytest_resp_text(resp, 200, NULL,
		                  "<!doctype html><title>Thank you</title>"
		                  "<h1>Thank you!</h1><p>Your application was "
		                  "received.</p>");
		return;
	}
	skytest_resp_text(resp, 404, "text/plain", "not found");
}

static int site_count(const int *field)
{
	pthread_mutex_lock(&S.lock);
	int v = *field;
	pthread_mutex_unlock(&S.lock);
	return v;
}

/* The webhook receiver: deliveries counted per run id. */
static void on_hook(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	json_t *j = json_loadb(req->body, req->body_len, 0, NULL);
	const char *id = rel_str(j, "run_id");
	/* every host has the same API key: whichever sends a webhook, it
	 * is signed the same */
	char want[SKYX_SHA256_HEX_LEN];
	skyx_hmac_sha256_hex(REL_KEY, strlen(REL_KEY), req->body, req->body_len,
	                     want);
	const char *sig = skytest_req_header(req, "x-skyvern-signature");
	pthread_mutex_lock(&S.lock);
	S.hooks_badsig += !sig || strcmp(sig, want);
	int k = -1;
	for (int i = 0; id && i < NRUNS; i++)
		if (S.ids[i] && !strcmp(S.ids[i], id))
			k = i;
	if (k >= 0)
		S.hooks[k]++;
	else
		S.hooks_unknown++;
	pthread_mutex_unlock(&S.lock);
	json_decref(j);
	skytest_resp_text(resp, 200, "text/plain", "ok");
}

/* ---- helpers ------------------------------------------------------------- */

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

/* The host with data dir `dir` executed (at least began) run `id`: the
 * engine makes runs/<id> under its artifact root (the data dir) when it
 * starts or resumes a run. */
static int ran_on(const char *dir, const char *id)
{
	char *p = skyx_asprintf("%s/runs/%s", dir, id);
	struct stat st;
	int yes = stat(p, &st) == 0;
	free(p);
	return yes;
}

static char *apply_body(int k, const char *site, const char *extra)
{
	return skyx_asprintf(
	    "{\"prompt\":\"Apply for the position: name: Run %d. "
	    "email: r%d@example.com\",\"url\":\"%s/form?run=%d\","
	    "\"engine\":\"skyvern-1.0\"%s}",
	    k, k, site, k, extra ? extra : "");
}

/* ---- tests --------------------------------------------------------------- */

/*
 * Three hosts, 30 runs submitted round robin, one host SIGKILLed while it
 * executes runs: every run ends, every form is sent at most once (exactly
 * once by each completed run), every webhook arrives once per run id, and
 * the runs the dead host held are finished by the others (once its
 * leases expire: lease + one step, which the test does not time).
 */
START_TEST(three_hosts_one_killed_every_run_ends_once)
{
	int pg = _i;
	char *root = skytest_tmpdir("cluster");
	store st;
	if (store_open(&st, pg, root)) {
		skyx_rm_rf(root);
		free(root);
		return;
	}
	fprintf(stderr, "cluster: %s store %s\n", kind(pg),
	        pg ? st.pg_db : st.arg);
	char *dirs[NHOSTS], *cfgs[NHOSTS];
	skytest_server srv[NHOSTS];
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	skytest_httpd *hook = skytest_httpd_start(on_hook, NULL);
	ck_assert_ptr_nonnull(site);
	ck_assert_ptr_nonnull(hook);
	S.hold_ms = 1500;
	setenv("SKYENGINE_LOG", "warn", 1); /* "resuming it" is a warning */
	for (int i = 0; i < NHOSTS; i++) {
		char what[8] = "host A";
		what[5] = (char)('A' + i);
		dirs[i] = skyx_asprintf("%s/host%c", root, 'A' + i);
		sky_mkdir_p(dirs[i]);
		cfgs[i] = write_config(dirs[i]);
		const char *args[] = {"--api-key", REL_KEY,    "--workers",
		                      "2",         "--config", cfgs[i],
		                      "--store",   st.arg,     NULL};
		start_server(&srv[i], dirs[i], args, what);
	}
	unsetenv("SKYENGINE_LOG");

	char *hook_url = skyx_asprintf(",\"webhook_url\":\"%s/hook\"",
	                               skytest_httpd_url(hook));
	for (int k = 0; k < NRUNS; k++) {
		char *body = apply_body(k, skytest_httpd_url(site), hook_url);
		char *id = rel_submit(srv[k % NHOSTS].port, body);
		pthread_mutex_lock(&S.lock);
		S.ids[k] = id;
		pthread_mutex_unlock(&S.lock);
		free(body);
	}
	free(hook_url);

	/* Kill B while it is inside a run: it has begun one (its run
	 * directory is there) whose page load the site is holding or
	 * whose form is not sent yet. */
	int64_t end = skyx_time_mono_ms() + 180000;
	int busy = -1;
	while (busy < 0 && skyx_time_mono_ms() < end) {
		for (int k = 0; k < NRUNS && busy < 0; k++)
			if (ran_on(dirs[1], S.ids[k]) &&
			    site_count(&S.gets[k]) >= 1 &&
			    site_count(&S.posts[k]) == 0)
				busy = k;
		if (busy < 0)
			usleep(20 * 1000);
	}
	ck_assert_msg(busy >= 0, "host B never held a run mid-way");
	skytest_server_kill(&srv[1]);
	/* What B held when it died: runs it began and had not sent. */
	int held[NRUNS], n_held = 0;
	for (int k = 0; k < NRUNS; k++)
		if (ran_on(dirs[1], S.ids[k]) && site_count(&S.posts[k]) == 0)
			held[n_held++] = k;
	fprintf(stderr, "cluster: killed host B inside run %d; it held %d\n",
	        busy, n_held);
	ck_assert_int_ge(n_held, 1);

	json_t *runs[NRUNS];
	int done = rel_wait_all(srv[0].port, S.ids, NRUNS, 400000, runs);
	ck_assert_msg(done == NRUNS, "%d of %d runs ended", done, NRUNS);
	int completed = 0, unknown = 0;
	for (int k = 0; k < NRUNS; k++) {
		const char *status = rel_str(runs[k], "status");
		const char *why = rel_str(runs[k], "failure_reason");
		int posts = site_count(&S.posts[k]);
		/* Each application sent once, never twice. */
		ck_assert_msg(posts <= 1, "run %d submitted %d times", k,
		              posts);
		if (skyx_str_eq(status, "completed")) {
			ck_assert_msg(posts == 1,
			              "run %d completed without submitting", k);
			completed++;
		} else {
			/* Only a run cut right after its submit may stop,
			 * and it says so. */
			ck_assert_msg(skyx_str_eq(status, "terminated") &&
			                  why &&
			                  strstr(why, "outcome is unknown"),
			              "run %d: %s: %s", k, status, why);
			unknown++;
		}
	}
	fprintf(stderr,
	        "cluster: %d of %d completed, %d ended \"outcome unknown\"\n",
	        completed, NRUNS, unknown);
	ck_assert_int_le(unknown, n_held);
	/* B's unfinished runs were taken over: each ended, and A or C
	 * executed it after B died. */
	for (int i = 0; i < n_held; i++) {
		const char *id = S.ids[held[i]];
		ck_assert_msg(ran_on(dirs[0], id) || ran_on(dirs[2], id),
		              "run %d (%s), held by the killed host, was "
		              "not taken over",
		              held[i], id);
	}
	for (int i = 0; i < NHOSTS; i += 2) {
		char *log = skytest_server_log(&srv[i]);
		int n = 0;
		for (const char *p = log; p && (p = strstr(p, "resuming it"));
		     p++)
			n++;
		fprintf(stderr, "cluster: host %c resumed %d runs\n", 'A' + i,
		        n);
		free(log);
	}

	/* Every webhook once per run id: wait until each has come, then
	 * give a second copy (if any) time to show before counting. */
	end = skyx_time_mono_ms() + 120000;
	int missing = NRUNS;
	while (missing && skyx_time_mono_ms() < end) {
		missing = 0;
		for (int k = 0; k < NRUNS; k++)
			missing += site_count(&S.hooks[k]) == 0;
		if (missing)
			usleep(100 * 1000);
	}
	usleep(3 * LEASE_MS * 1000);
	for (int k = 0; k < NRUNS; k++)
		ck_assert_msg(site_count(&S.hooks[k]) == 1,
		              "run %d (%s): %d webhooks", k, S.ids[k],
		              site_count(&S.hooks[k]));
	ck_assert_int_eq(site_count(&S.hooks_unknown), 0);
	ck_assert_int_eq(site_count(&S.hooks_badsig), 0);

	for (int k = 0; k < NRUNS; k++)
		json_decref(runs[k]);
	for (int i = 0; i < NHOSTS; i += 2)
		ck_assert_int_eq(skytest_server_stop(&srv[i]), 0);
	for (int i = 0; i < NHOSTS; i++) {
		free_server(&srv[i]);
		free(dirs[i]);
		free(cfgs[i]);
	}
	for (int k = 0; k < NRUNS; k++)
		free(S.ids[k]);
	skytest_httpd_stop(hook);
	skytest_httpd_stop(site);
	store_close(&st);
	skyx_rm_rf(root);
	free(root);
}
END_TEST

START_TEST(cancel_through_one_host_stops_the_run_on_another)
{
	int pg = _i;
	char *root = skytest_tmpdir("cluster-cancel");
	store st;
	if (store_open(&st, pg, root)) {
		skyx_rm_rf(root);
		free(root);
		return;
	}
	char *da = skyx_asprintf("%s/hostA", root);
	char *dbb = skyx_asprintf("%s/hostB", root);
	sky_mkdir_p(da);
	sky_mkdir_p(dbb);
	char *ca = write_config(da), *cb = write_config(dbb);
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	S.hold_ms = 4000;
	/* A takes requests and executes nothing; B executes. */
	const char *aa[] = {"--api-key", REL_KEY, "--config",     ca,
	                    "--store",   st.arg,  "--no-execute", NULL};
	const char *ab[] = {"--api-key", REL_KEY, "--config",      cb,
	                    "--store",   st.arg,  "--worker-only", NULL};
	skytest_server a, b;
	start_server(&a, da, aa, "host A");
	setenv("SKYENGINE_LOG", "info", 1); /* B says when it stops */
	start_server(&b, dbb, ab, "host B");
	unsetenv("SKYENGINE_LOG");
	char *body = apply_body(0, skytest_httpd_url(site), NULL);
	char *id = rel_submit(a.port, body);
	free(body);
	/* B is loading the page (held 4 s) when A gets the cancel. */
	int64_t end = skyx_time_mono_ms() + 60000;
	while (skyx_time_mono_ms() < end && !site_count(&S.gets[0]))
		usleep(20 * 1000);
	ck_assert_int_eq(site_count(&S.gets[0]), 1);
	ck_assert(ran_on(dbb, id));
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
	ck_assert_int_eq(site_count(&S.posts[0]), 0);
	json_decref(run);
	free(id);
	ck_assert_int_eq(skytest_server_stop(&b), 0);
	ck_assert_int_eq(skytest_server_stop(&a), 0);
	free_server(&a);
	free_server(&b);
	skytest_httpd_stop(site);
	store_close(&st);
	skyx_rm_rf(root);
	free(root);
	free(da);
	free(dbb);
	free(ca);
	free(cb);
}
END_TEST

/* A second Chromium, as a browser pool would run it: its own profile, a
 * DevTools port, a User-Agent the site recognises. It dies with this
 * process. Returns its pid; *port is its DevTools port. */
static pid_t remote_chromium(const char *profile, int *port)
{
	char *udd = skyx_asprintf("--user-data-dir=%s", profile);
	char *argv[] = {"/usr/lib/chromium/chromium",
	                "--headless",
	                "--no-sandbox",
	                "--disable-gpu",
	                "--no-first-run",
	                "--disable-background-networking",
	                "--disable-component-update",
	                "--disable-sync",
	                "--no-proxy-server",
	                "--user-agent=Mozilla/5.0 " REMOTE_UA,
	                "--remote-debugging-port=0",
	                udd,
	                "about:blank",
	                NULL};
	pid_t parent = getpid();
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		setpgid(0, 0);
		dup2(null, 1);
		dup2(null, 2);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	close(null);
	free(udd);
	ck_assert_int_gt(pid, 0);
	track(pid, 1);
	char *file = skyx_asprintf("%s/DevToolsActivePort", profile);
	*port = 0;
	int64_t end = skyx_time_mono_ms() + 60000;
	while (!*port && skyx_time_mono_ms() < end) {
		char *s = skyx_read_file(file, NULL);
		if (!(s && strchr(s, '\n') && sscanf(s, "%d", port) == 1))
			*port = 0;
		free(s);
		if (!*port)
			usleep(50 * 1000);
	}
	free(file);
	ck_assert_msg(*port > 0, "the remote Chromium did not start");
	return pid;
}

/*
 * A run naming a browser_address, submitted to one host and executed by
 * another, works in that browser: every request of the run's pages came
 * from it (the engine's own browser made none, and none was launched),
 * and the browser is still running afterwards.
 */
START_TEST(run_with_browser_address_completes_in_that_browser)
{
	int pg = _i;
	char *root = skytest_tmpdir("cluster-remote");
	store st;
	if (store_open(&st, pg, root)) {
		skyx_rm_rf(root);
		free(root);
		return;
	}
	char *da = skyx_asprintf("%s/hostA", root);
	char *dbb = skyx_asprintf("%s/hostB", root);
	char *profile = skyx_asprintf("%s/remote-chrome", root);
	sky_mkdir_p(da);
	sky_mkdir_p(dbb);
	sky_mkdir_p(profile);
	char *ca = write_config(da), *cb = write_config(dbb);
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	int cport = 0;
	pid_t chrome = remote_chromium(profile, &cport);
	const char *aa[] = {"--api-key", REL_KEY, "--config",     ca,
	                    "--store",   st.arg,  "--no-execute", NULL};
	const char *ab[] = {"--api-key", REL_KEY, "--config",      cb,
	                    "--store",   st.arg,  "--worker-only", NULL};
	skytest_server a, b;
	start_server(&a, da, aa, "host A");
	start_server(&b, dbb, ab, "host B");
	char *extra = skyx_asprintf(
	    ",\"browser_address\":\"http://127.0.0.1:%d\"", cport);
	char *body = apply_body(0, skytest_httpd_url(site), extra);
	char *id = rel_submit(a.port, body);
	free(body);
	free(extra);
	json_t *run = NULL;
	ck_assert_int_eq(rel_wait_all(a.port, &id, 1, 180000, &run), 1);
	ck_assert_msg(skyx_str_eq(rel_str(run, "status"), "completed"),
	              "%s: %s", rel_str(run, "status"),
	              rel_str(run, "failure_reason"));
	ck_assert(ran_on(dbb, id));
	/* the page and the submission, all from the remote browser */
	int gets = site_count(&S.gets[0]), posts = site_count(&S.posts[0]);
	ck_assert_int_ge(gets, 1);
	ck_assert_int_eq(posts, 1);
	ck_assert_int_eq(site_count(&S.remote_reqs[0]), gets + posts);
	/* B launched no browser of its own (profiles live in
	 * <data>/browser/sky-chromium*) */
	char *own = skyx_asprintf("%s/browser", dbb);
	DIR *d = opendir(own);
	struct dirent *de;
	while (d && (de = readdir(d)))
		ck_assert_msg(!skyx_str_startswith(de->d_name, "sky-chromium"),
		              "host B launched a browser: %s", de->d_name);
	if (d)
		closedir(d);
	free(own);
	/* the remote browser is not closed at the end of the run */
	ck_assert_int_eq(waitpid(chrome, NULL, WNOHANG), 0);
	json_decref(run);
	free(id);
	ck_assert_int_eq(skytest_server_stop(&b), 0);
	ck_assert_int_eq(skytest_server_stop(&a), 0);
	ck_assert_int_eq(waitpid(chrome, NULL, WNOHANG), 0);
	kill(-chrome, SIGKILL);
	waitpid(chrome, NULL, 0);
	free_server(&a);
	free_server(&b);
	skytest_httpd_stop(site);
	store_close(&st);
	skyx_rm_rf(root);
	free(root);
	free(da);
	free(dbb);
	free(profile);
	free(ca);
	free(cb);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(pids_file, sizeof pids_file, "/tmp/skytest-cluster-%d.pids",
	         (int)getpid());
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("store");
	/* each test runs twice: _i = 0 on a SQLite file, 1 on PostgreSQL */
	tcase_set_timeout(tc, 500);
	tcase_add_loop_test(tc, three_hosts_one_killed_every_run_ends_once, 0,
	                    2);
	tcase_add_loop_test(
	    tc, cancel_through_one_host_stops_the_run_on_another, 0, 2);
	tcase_add_loop_test(
	    tc, run_with_browser_address_completes_in_that_browser, 0, 2);
	suite_add_tcase(s, tc);
	int rc = skytest_run(s);
	kill_leftovers();
	return rc;
}
