/*
 * Benchmark of the browser plugin (not a test): snapshot time and
 * element-tree size against Chromium's own Accessibility.getFullAXTree
 * and DOMSnapshot.captureSnapshot on the same pages, click and type
 * round trips against a bare CDP floor, and the browser's PSS with 1, 4
 * and 8 concurrent contexts under several process-model settings; with
 * --settle, only the settle on the late-content pages of
 * tests/pages/browser/settle/ (time, how it ended, content seen); with
 * --capture, only what a screenshot costs (wall and the browser's CPU).
 * Run it through bench/browser.sh.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <skyengine/errors.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "page/page.h"
#include "plugin/loader.h"
#include "util/fs.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define CHROMIUM "/usr/lib/chromium/chromium"

extern char **environ;

static const sky_browser_provider *prov;
static char *dir;   /* scratch: profiles of the raw browser */
static char *pages; /* bench/pages: the peer benchmark's pages */
static int http_port;

static void die(const char *what, const char *err)
{
	fprintf(stderr, "bench_browser: %s: %s\n", what, err ? err : "?");
	exit(1);
}

/* --- a tiny HTTP server for the pages (same-origin links, as on real
 * sites; one connection at a time is plenty here) --------------------- */

/* One request. "/slow?ms=N" (the settle fixtures' late data, a long
 * poll) answers a small JSON document after N ms, so each connection
 * has its own thread. */
static void *serve_one(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char req[4096], path[512] = "/";
	ssize_t n = recv(fd, req, sizeof req - 1, 0);
	if (n > 0) {
		req[n] = '\0';
		sscanf(req, "%*s %511s", path);
	}
	char *q = strchr(path, '?');
	if (q)
		*q++ = '\0';
	char *file = NULL, *body = NULL;
	size_t len = 0;
	const char *type = "text/html";
	if (!strcmp(path, "/slow")) {
		const char *ms = q ? strstr(q, "ms=") : NULL;
		skyx_time_sleep_ms(ms ? atoi(ms + 3) : 800);
		body = skyx_strdup("{\"items\": [\"alpha\", \"beta\", "
		                   "\"gamma\"]}");
		len = strlen(body);
		type = "application/json";
	} else {
		file = strstr(path, "..") ? NULL
		                          : skyx_asprintf("%s%s", pages, path);
		body = file ? skyx_read_file(file, &len) : NULL;
	}
	char head[256];
	int hl =
	    snprintf(head, sizeof head,
	             "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	             "Content-Length: %zu\r\nConnection: close"
	             "\r\n\r\n",
	             body ? "200 OK" : "404 Not Found", type, body ? len : 0);
	if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl && body)
		send(fd, body, len, MSG_NOSIGNAL);
	free(body);
	free(file);
	close(fd);
	return NULL;
}

static void *serve(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		pthread_t th;
		if (pthread_create(&th, NULL, serve_one, (void *)(intptr_t)fd))
			serve_one((void *)(intptr_t)fd);
		else
			pthread_detach(th);
	}
}

static void start_server(void)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 64) ||
	    getsockname(lfd, (struct sockaddr *)&a, &al))
		die("listen", strerror(errno));
	http_port = ntohs(a.sin_port);
	pthread_t th;
	pthread_create(&th, NULL, serve, (void *)(intptr_t)lfd);
	pthread_detach(th);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* --- the pages (bench/pages, shared with the peer benchmark) ----------- */

static char *page_url(const char *name)
{
	return skyx_asprintf("http://127.0.0.1:%d/%s", http_port, name);
}

/* --- a bare CDP client over a pipe, for Chromium's own snapshots ---------- */

typedef struct raw {
	pid_t pid;
	int wfd, rfd;
	char *buf;
	size_t len, cap;
	int next;
	char *profile;
} raw;

static void raw_start(raw *r)
{
	int cmd[2], rep[2];
	memset(r, 0, sizeof *r);
	r->profile = skyx_asprintf("%s/raw-profile", dir);
	sky_mkdir_p(r->profile);
	char *udd = skyx_asprintf("--user-data-dir=%s", r->profile);
	char *argv[] = {CHROMIUM,
	                "--headless",
	                "--no-sandbox",
	                "--disable-gpu",
	                "--no-first-run",
	                "--disable-background-networking",
	                "--disable-component-update",
	                "--disable-sync",
	                "--disable-features=NetworkTimeServiceQuerying",
	                "--no-proxy-server",
	                "--remote-debugging-pipe",
	                udd,
	                "about:blank",
	                NULL};
	if (pipe2(cmd, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
		die("pipe", strerror(errno));
	int hr = fcntl(cmd[0], F_DUPFD_CLOEXEC, 10);
	int hw = fcntl(rep[1], F_DUPFD_CLOEXEC, 10);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, hr, 3);
	posix_spawn_file_actions_adddup2(&fa, hw, 4);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
	if (posix_spawn(&r->pid, CHROMIUM, &fa, &sa, argv, environ))
		die("spawn", CHROMIUM);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(hr);
	close(hw);
	close(cmd[0]);
	close(rep[1]);
	r->wfd = cmd[1];
	r->rfd = rep[0];
	r->next = 1;
	free(udd);
}

/* One whole message (NUL-terminated on the wire); malloc'd. */
static char *raw_read(raw *r, size_t *n)
{
	for (;;) {
		char *nul = r->len ? memchr(r->buf, '\0', r->len) : NULL;
		if (nul) {
			size_t m = (size_t)(nul - r->buf);
			char *msg = skyx_strndup(r->buf, m);
			memmove(r->buf, nul + 1, r->len - m - 1);
			r->len -= m + 1;
			*n = m;
			return msg;
		}
		if (r->cap - r->len < 65536) {
			r->cap = r->cap ? r->cap * 2 : 1 << 20;
			r->buf = realloc(r->buf, r->cap);
		}
		ssize_t got = read(r->rfd, r->buf + r->len, r->cap - r->len);
		if (got <= 0)
			die("raw read", "browser gone");
		r->len += (size_t)got;
	}
}

/* A call; returns the reply text (malloc'd) and its size. */
static char *raw_call(raw *r, const char *session, const char *method,
                      const char *params, size_t *size)
{
	int id = r->next++;
	char *msg =
	    skyx_asprintf("{\"id\":%d,\"method\":\"%s\"%s%s%s,\"params\""
	                  ":%s}",
	                  id, method, session ? ",\"sessionId\":\"" : "",
	                  session ? session : "", session ? "\"" : "",
	                  params ? params : "{}");
	if (write(r->wfd, msg, strlen(msg) + 1) < 0)
		die("raw write", strerror(errno));
	free(msg);
	char prefix[32];
	int pl = snprintf(prefix, sizeof prefix, "{\"id\":%d,", id);
	for (;;) {
		size_t n;
		char *m = raw_read(r, &n);
		if (!strncmp(m, prefix, (size_t)pl)) {
			if (size)
				*size = n;
			return m;
		}
		free(m);
	}
}

static void raw_wait_event(raw *r, const char *method)
{
	for (;;) {
		size_t n;
		char *m = raw_read(r, &n);
		int hit = strstr(m, method) != NULL;
		free(m);
		if (hit)
			return;
	}
}

/* A tab on `url`; returns its session id (malloc'd). */
static char *raw_open(raw *r, const char *url)
{
	char *rep = raw_call(r, NULL, "Target.createTarget",
	                     "{\"url\":\"about:blank\"}", NULL);
	json_t *j = json_loads(rep, 0, NULL);
	char *p = skyx_asprintf("{\"targetId\":\"%s\",\"flatten\":true}",
	                        json_string_value(json_object_get(
	                            json_object_get(j, "result"), "targetId")));
	json_decref(j);
	free(rep);
	rep = raw_call(r, NULL, "Target.attachToTarget", p, NULL);
	free(p);
	j = json_loads(rep, 0, NULL);
	char *sid = skyx_strdup(json_string_value(
	    json_object_get(json_object_get(j, "result"), "sessionId")));
	json_decref(j);
	free(rep);
	free(raw_call(r, sid, "Page.enable", NULL, NULL));
	p = skyx_asprintf("{\"url\":\"%s\"}", url);
	free(raw_call(r, sid, "Page.navigate", p, NULL));
	free(p);
	raw_wait_event(r, "Page.loadEventFired");
	return sid;
}

static void raw_stop(raw *r)
{
	free(raw_call(r, NULL, "Browser.close", NULL, NULL));
	close(r->wfd);
	close(r->rfd);
	kill(-r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	skyx_rm_rf(r->profile);
	free(r->profile);
	free(r->buf);
}

/* --- through the plugin ------------------------------------------------- */

static void *browser_new(const char *cfg)
{
	void *b = NULL;
	char *err = NULL;
	if (prov->create(NULL, cfg, &b, &err))
		die("create", err);
	size_t len;
	prov->set_page_script(b, sky_page_script(&len), &err);
	return b;
}

static void *ctx_new(void *b)
{
	void *c = NULL;
	char *err = NULL;
	if (prov->context_open(b, NULL, &c, &err))
		die("context_open", err);
	return c;
}

static void nav(void *c, const char *url)
{
	char *res = NULL, *err = NULL;
	if (prov->navigate(c, url, NULL, &res, &err))
		die("navigate", err);
	free(res);
	if (prov->settle(c, NULL, &res, &err))
		die("settle", err);
	free(res);
}

static char *snap(void *c)
{
	char *res = NULL, *err = NULL;
	size_t len;
	if (prov->snapshot(c, sky_page_script(&len), NULL, &res, &err))
		die("snapshot", err);
	return res;
}

typedef struct row {
	const char *page;
	double ours_ms, render_ms, script_ms, ax_ms, dom_ms;
	size_t tree_bytes, snap_bytes, ax_bytes, dom_bytes;
} row;

#define ROUNDS 15

static void bench_page(const char *name, void *c, raw *r, row *out)
{
	char *url = page_url(name);
	double ours[ROUNDS], rend[ROUNDS], script[ROUNDS], ax[ROUNDS],
	    dom[ROUNDS];
	nav(c, url);
	char *sid = raw_open(r, url);
	for (int i = -3; i < ROUNDS; i++) { /* three warm-up rounds */
		int64_t t0 = skyx_time_mono_us();
		char *s = snap(c);
		int64_t t1 = skyx_time_mono_us();
		sky_page_tree *t = NULL;
		if (sky_page_render(s, NULL, &t))
			die("render", sky_error_last());
		int64_t t2 = skyx_time_mono_us();
		size_t axn = 0, domn = 0;
		char *a =
		    raw_call(r, sid, "Accessibility.getFullAXTree", NULL, &axn);
		int64_t t3 = skyx_time_mono_us();
		char *d = raw_call(r, sid, "DOMSnapshot.captureSnapshot",
		                   "{\"computedStyles\":[]}", &domn);
		int64_t t4 = skyx_time_mono_us();
		if (i >= 0) {
			json_t *j = json_loads(s, 0, NULL);
			ours[i] = (double)(t1 - t0) / 1000;
			rend[i] = (double)(t2 - t1) / 1000;
			script[i] = json_number_value(
			    json_object_get(json_object_get(j, "stats"), "ms"));
			ax[i] = (double)(t3 - t2) / 1000;
			dom[i] = (double)(t4 - t3) / 1000;
			out->tree_bytes = sky_page_tree_bytes(t);
			out->snap_bytes = strlen(s);
			out->ax_bytes = axn;
			out->dom_bytes = domn;
			json_decref(j);
		}
		free(a);
		free(d);
		free(s);
		sky_page_tree_free(t);
	}
	out->page = name;
	out->ours_ms = median(ours, ROUNDS);
	out->render_ms = median(rend, ROUNDS);
	out->script_ms = median(script, ROUNDS);
	out->ax_ms = median(ax, ROUNDS);
	out->dom_ms = median(dom, ROUNDS);
	free(sid);
	free(url);
}

static double act_ms(void *c, const char *action)
{
	double v[ROUNDS];
	for (int i = -3; i < ROUNDS; i++) {
		char *res = NULL, *err = NULL;
		int64_t t0 = skyx_time_mono_us();
		if (prov->act(c, action, &res, &err) ||
		    !strstr(res, "\"success\":true"))
			die(action, res ? res : err);
		int64_t t1 = skyx_time_mono_us();
		if (i >= 0)
			v[i] = (double)(t1 - t0) / 1000;
		free(res);
	}
	return median(v, ROUNDS);
}

static double eval_ms(void *c, const char *expr)
{
	double v[ROUNDS * 4];
	for (int i = -3; i < ROUNDS * 4; i++) {
		char *res = NULL, *err = NULL;
		int64_t t0 = skyx_time_mono_us();
		if (prov->evaluate(c, expr, &res, &err))
			die("evaluate", err);
		int64_t t1 = skyx_time_mono_us();
		if (i >= 0)
			v[i] = (double)(t1 - t0) / 1000;
		free(res);
	}
	return median(v, ROUNDS * 4);
}

static double raw_ms(raw *r, const char *sid, const char *method,
                     const char *params)
{
	double v[ROUNDS * 4];
	for (int i = -3; i < ROUNDS * 4; i++) {
		int64_t t0 = skyx_time_mono_us();
		free(raw_call(r, sid, method, params, NULL));
		int64_t t1 = skyx_time_mono_us();
		if (i >= 0)
			v[i] = (double)(t1 - t0) / 1000;
	}
	return median(v, ROUNDS * 4);
}

/* --- settle on pages whose content comes late ------------------------------ */

/* The late-content fixtures of tests/pages/browser/settle/ (BENCH_SETTLE
 * names that directory's parent): navigate, settle with the defaults,
 * snapshot; the content must be there. Prints the settle time and how
 * it ended. */
static void bench_settle(void *c)
{
	static const struct {
		const char *path, *text;
	} fx[] = {
	    {"settle/late.html?ms=50", "Orders: alpha, beta, gamma"},
	    {"settle/late.html?ms=200", "Orders: alpha, beta, gamma"},
	    {"settle/late.html?ms=600", "Orders: alpha, beta, gamma"},
	    {"settle/spinner.html", "Balance: 1,204.50 EUR"},
	    {"settle/longpoll.html", "Inbox: 3 new messages"},
	    {"settle/websocket.html", "Lions 3 : 1 Tigers"},
	    {"settle/animate.html", "Welcome back, Sam"},
	    {"settle/unread.html", "Signed in as Dana"},
	    {"settle/ticker.html", "Central bank holds rates"},
	    {"settle/raf.html", "Chart ready: 12 points"},
	    {"settle/idle.html", "Feed: 5 stories"},
	    {"settle/channel.html", "Cart: 2 items"},
	    {"settle/heavy.html", "Report ready: 42 rows"},
	    {"settle/chain.html", "Profile: Ada Lovelace"},
	};
	enum { REPS = 5 };
	printf("\n## Settle on late-content pages (median of %d; "
	       "defaults)\n\n",
	       REPS);
	printf("| page | settle ms | ended | final content seen |\n"
	       "|---|---:|---|---:|\n");
	for (size_t i = 0; i < sizeof fx / sizeof *fx; i++) {
		double ms[REPS];
		int seen = 0;
		char ended[32] = "?";
		for (int k = 0; k < REPS; k++) {
			char *url = page_url(fx[i].path);
			char *res = NULL, *err = NULL;
			if (prov->navigate(c, url, NULL, &res, &err))
				die("navigate", err);
			free(res);
			free(url);
			int64_t t0 = skyx_time_mono_ms();
			if (prov->settle(c, NULL, &res, &err))
				die("settle", err);
			ms[k] = (double)(skyx_time_mono_ms() - t0);
			json_t *st = json_loads(res, 0, NULL);
			const char *e =
			    json_string_value(json_object_get(st, "ended"));
			snprintf(ended, sizeof ended, "%s", e ? e : "?");
			json_decref(st);
			free(res);
			char *sn = snap(c);
			json_t *j = json_loads(sn, 0, NULL);
			const char *text =
			    json_string_value(json_object_get(j, "text"));
			seen += text && strstr(text, fx[i].text);
			json_decref(j);
			free(sn);
		}
		printf("| %s | %.0f | %s | %d/%d |\n", fx[i].path,
		       median(ms, REPS), ended, seen, REPS);
	}
}

/* --- memory -------------------------------------------------------------- */

/* The sum of the smaps_rollup lines of a process that start with one of
 * `keys` (NULL-terminated), kB. */
static long rollup_kb(int pid, const char *const *keys)
{
	char path[64], line[256];
	long kb = 0;
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		for (const char *const *k = keys; *k; k++)
			if (!strncmp(line, *k, strlen(*k)))
				kb += strtol(line + strlen(*k), NULL, 10);
	fclose(f);
	return kb;
}

static long pss_kb(int pid)
{
	static const char *const keys[] = {"Pss:", NULL};
	return rollup_kb(pid, keys);
}

/* Private (unshared) memory of a process: what it frees when it exits. */
static long uss_kb(int pid)
{
	static const char *const keys[] = {
	    "Private_Clean:", "Private_Dirty:", NULL};
	return rollup_kb(pid, keys);
}

/* The fields of /proc/<pid>/stat from the state on (after "(comm) "),
 * read into buf; NULL when the process is gone. */
static const char *stat_fields(int pid, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *close = strrchr(buf, ')');
	return close && close[1] ? close + 2 : NULL;
}

static int ppid_of(int pid)
{
	char buf[1024], st;
	const char *f = stat_fields(pid, buf, sizeof buf);
	int pp = -1;
	if (!f || sscanf(f, "%c %d", &st, &pp) != 2)
		return -1;
	return pp;
}

/* PSS of every process descending from us, except the raw browser. */
static double tree_pss_mb(pid_t except, int *procs)
{
	int pids[4096], n = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 4096)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			pids[n++] = atoi(e->d_name);
	if (d)
		closedir(d);
	long total = 0;
	*procs = 0;
	for (int i = 0; i < n; i++) {
		int p = pids[i], mine = 0;
		for (int up = p, depth = 0; up > 1 && depth < 32; depth++) {
			if (up == except)
				break;
			int pp = ppid_of(up);
			if (pp == getpid()) {
				mine = up != except;
				break;
			}
			up = pp;
		}
		if (mine && p != getpid()) {
			total += pss_kb(p);
			(*procs)++;
		}
	}
	return (double)total / 1024;
}

static void memory(const char *label, const char *cfg, pid_t except)
{
	void *b = browser_new(cfg);
	void *ctx[8];
	char *url = page_url("login.html");
	double pss[9] = {0};
	int procs[9] = {0};
	for (int i = 0; i < 8; i++) {
		ctx[i] = ctx_new(b);
		nav(ctx[i], url);
		if (i == 0 || i == 3 || i == 7) {
			skyx_time_sleep_ms(
			    1500); /* let the new processes settle */
			pss[i + 1] = tree_pss_mb(except, &procs[i + 1]);
		}
	}
	printf("| %-44s | %7.0f (%2d) | %7.0f (%2d) | %7.0f (%2d) | %6.1f |\n",
	       label, pss[1], procs[1], pss[4], procs[4], pss[8], procs[8],
	       (pss[8] - pss[1]) / 7);
	for (int i = 0; i < 8; i++)
		prov->context_close(ctx[i]);
	prov->destroy(b);
	free(url);
}

/* "tab reuse": runs share one context, one tab each */
static void memory_tabs(pid_t except)
{
	void *b = browser_new(NULL);
	void *c = ctx_new(b);
	char *url = page_url("login.html");
	double pss[9] = {0};
	int procs[9] = {0};
	char *act =
	    skyx_asprintf("{\"action_type\":\"new_tab\",\"url\":\"%s\"}", url);
	nav(c, url);
	skyx_time_sleep_ms(1500);
	pss[1] = tree_pss_mb(except, &procs[1]);
	for (int i = 1; i < 8; i++) {
		char *res = NULL, *err = NULL;
		if (prov->act(c, act, &res, &err))
			die("new_tab", err);
		free(res);
		if (i == 3 || i == 7) {
			skyx_time_sleep_ms(1500);
			pss[i + 1] = tree_pss_mb(except, &procs[i + 1]);
		}
	}
	printf("| %-44s | %7.0f (%2d) | %7.0f (%2d) | %7.0f (%2d) | %6.1f |\n",
	       "tabs of one shared context (no isolation)", pss[1], procs[1],
	       pss[4], procs[4], pss[8], procs[8], (pss[8] - pss[1]) / 7);
	prov->context_close(c);
	prov->destroy(b);
	free(act);
	free(url);
}

/* The processes descending from us (at most `max`). */
static int tree_pids(int *out, int max)
{
	int pids[4096], n = 0, k = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 4096)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			pids[n++] = atoi(e->d_name);
	if (d)
		closedir(d);
	for (int i = 0; i < n && k < max; i++) {
		for (int up = pids[i], depth = 0; up > 1 && depth < 32;
		     depth++) {
			int pp = ppid_of(up);
			if (pp == getpid()) {
				out[k++] = pids[i];
				break;
			}
			up = pp;
		}
	}
	return k;
}

/* --- the screenshot's cost ------------------------------------------------ */

/* CPU time (ms) the processes descending from us have used. */
static double tree_cpu_ms(void)
{
	int pids[512], n = tree_pids(pids, 512);
	long long ticks = 0;
	for (int i = 0; i < n; i++) {
		char buf[1024];
		const char *f = stat_fields(pids[i], buf, sizeof buf);
		long long ut = 0, st = 0;
		/* utime and stime: fields 14 and 15, the 12th and 13th
		 * from the state on */
		if (f && sscanf(f,
		                "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		                "%lld %lld",
		                &ut, &st) == 2)
			ticks += ut + st;
	}
	return (double)ticks * 1000 / (double)sysconf(_SC_CLK_TCK);
}

/* A CDP call repeated: median wall ms; *cpu: the browser's CPU ms per
 * call (all its processes). */
static double raw_cost(raw *r, const char *sid, const char *method,
                       const char *params, double *cpu)
{
	double v[ROUNDS];
	for (int i = 0; i < 3; i++)
		free(raw_call(r, sid, method, params, NULL));
	double c0 = tree_cpu_ms();
	for (int i = 0; i < ROUNDS; i++) {
		int64_t t0 = skyx_time_mono_us();
		free(raw_call(r, sid, method, params, NULL));
		v[i] = (double)(skyx_time_mono_us() - t0) / 1000;
	}
	*cpu = (tree_cpu_ms() - c0) / ROUNDS;
	return median(v, ROUNDS);
}

/* What a screenshot costs Chromium on a 1280x800 page (the step's
 * picture for the recording: JPEG quality 70): wall time and the
 * browser's CPU time per capture, against smaller captures and a bare
 * evaluate, on a raw pipe; then the step's call through the plugin. */
static void bench_capture(raw *r)
{
	static const struct {
		const char *what, *params;
	} caps[] = {
	    {"JPEG q70, 1280x800 (the step's picture)",
	     "{\"format\":\"jpeg\",\"quality\":70,\"optimizeForSpeed\":true}"},
	    {"PNG, 1280x800", "{\"format\":\"png\"}"},
	    {"JPEG q70, 1280x800 at scale 0.5",
	     "{\"format\":\"jpeg\",\"quality\":70,\"optimizeForSpeed\":true,"
	     "\"clip\":{\"x\":0,\"y\":0,\"width\":1280,\"height\":800,"
	     "\"scale\":0.5}}"},
	    {"JPEG q70, a 100x100 clip",
	     "{\"format\":\"jpeg\",\"quality\":70,\"optimizeForSpeed\":true,"
	     "\"clip\":{\"x\":0,\"y\":0,\"width\":100,\"height\":100,"
	     "\"scale\":1}}"},
	    {"floor: Runtime.evaluate 1+1", NULL},
	};
	static const char *const names[] = {"login.html", "table.html"};
	printf("\n## Screenshot cost (median wall ms of %d; browser CPU ms "
	       "per call, all its processes)\n\n",
	       ROUNDS);
	printf("| capture | login: wall | login: CPU | table: wall | table: "
	       "CPU |\n|---|---|---|---|---|\n");
	enum { NCAPS = sizeof caps / sizeof *caps };
	double w[NCAPS][2], cpu[NCAPS][2];
	/* one page at a time: headless draws only the tab in front, and a
	 * capture of another waits for a frame that never comes */
	for (int k = 0; k < 2; k++) {
		char *url = page_url(names[k]);
		char *sid = raw_open(r, url);
		free(raw_call(r, sid, "Emulation.setDeviceMetricsOverride",
		              "{\"width\":1280,\"height\":800,"
		              "\"deviceScaleFactor\":1,\"mobile\":false}",
		              NULL));
		for (size_t i = 0; i < NCAPS; i++)
			w[i][k] =
			    caps[i].params
			        ? raw_cost(r, sid, "Page.captureScreenshot",
			                   caps[i].params, &cpu[i][k])
			        : raw_cost(r, sid, "Runtime.evaluate",
			                   "{\"expression\":\"1+1\"}",
			                   &cpu[i][k]);
		free(raw_call(r, sid, "Page.close", NULL, NULL));
		free(sid);
		free(url);
	}
	for (size_t i = 0; i < NCAPS; i++)
		printf("| %s | %.1f | %.1f | %.1f | %.1f |\n", caps[i].what,
		       w[i][0], cpu[i][0], w[i][1], cpu[i][1]);

	/* the step's call, through the plugin: a fresh capture each time */
	void *b = browser_new(NULL);
	void *c = ctx_new(b);
	char *url = page_url("login.html");
	nav(c, url);
	double v[ROUNDS];
	for (int i = -3; i < ROUNDS; i++) {
		unsigned char *data = NULL;
		size_t len = 0;
		char *err = NULL;
		int64_t t0 = skyx_time_mono_us();
		if (prov->screenshot(c, "{\"format\":\"jpeg\",\"quality\":70}",
		                     &data, &len, &err))
			die("screenshot", err);
		if (i >= 0)
			v[i] = (double)(skyx_time_mono_us() - t0) / 1000;
		free(data);
	}
	printf("| the step's screenshot through the plugin, login | %.1f | "
	       "| | |\n",
	       median(v, ROUNDS));
	free(url);
	prov->context_close(c);
	prov->destroy(b);
}

typedef struct spare_mem {
	double tree_before, tree_after; /* PSS of the tree, MiB */
	int procs_before, procs_after;
	double new_pss, new_uss; /* of the processes that appeared */
	int new_procs;
} spare_mem;

/* One context open with a page; then a second one opened, used and
 * closed, which (spare_context on) leaves a spare made in its place:
 * the processes that appeared meanwhile are the spare's. The tree's
 * PSS moves with whatever else maps the same files on the machine (other
 * Chromiums); the new processes' private memory does not. */
static void memory_spare_one(const char *cfg, spare_mem *m)
{
	int before[512], after[512];
	void *b = browser_new(cfg);
	char *url = page_url("login.html");
	void *c = ctx_new(b);
	nav(c, url);
	skyx_time_sleep_ms(2000);
	m->tree_before = tree_pss_mb(0, &m->procs_before);
	int nb = tree_pids(before, 512);
	void *d = ctx_new(b);
	nav(d, url);
	prov->context_close(d);
	skyx_time_sleep_ms(3000); /* the spare made, the old renderer gone */
	m->tree_after = tree_pss_mb(0, &m->procs_after);
	int na = tree_pids(after, 512);
	long pss = 0, uss = 0;
	m->new_procs = 0;
	for (int i = 0; i < na; i++) {
		int seen = 0;
		for (int k = 0; k < nb && !seen; k++)
			seen = before[k] == after[i];
		if (!seen) {
			pss += pss_kb(after[i]);
			uss += uss_kb(after[i]);
			m->new_procs++;
		}
	}
	m->new_pss = (double)pss / 1024;
	m->new_uss = (double)uss / 1024;
	prov->context_close(c);
	prov->destroy(b);
	free(url);
}

static void memory_spare(void)
{
	printf("\n## Memory: the spare context (MiB)\n\n");
	printf("| spare_context | tree PSS, one context (processes) | after a "
	       "second one opened and closed | new processes | their PSS | "
	       "their private memory |\n|---|---|---|---|---|---|\n");
	for (int round = 0; round < 3; round++) {
		spare_mem on, off;
		memory_spare_one("{\"spare_context\": true}", &on);
		memory_spare_one("{\"spare_context\": false}", &off);
		const spare_mem *ms[2] = {&on, &off};
		for (int i = 0; i < 2; i++)
			printf("| %s | %.0f (%d) | %.0f (%d) | %d | %.1f | "
			       "%.1f |\n",
			       i ? "off" : "on", ms[i]->tree_before,
			       ms[i]->procs_before, ms[i]->tree_after,
			       ms[i]->procs_after, ms[i]->new_procs,
			       ms[i]->new_pss, ms[i]->new_uss);
	}
}

int main(int argc, char **argv)
{
	sky_plugins *plugins = NULL;
	int mem_only = argc > 1 && !strcmp(argv[1], "--memory");
	int no_mem = argc > 1 && !strcmp(argv[1], "--no-memory");
	int settle_only = argc > 1 && !strcmp(argv[1], "--settle");
	int spare_only = argc > 1 && !strcmp(argv[1], "--spare");
	int capture_only = argc > 1 && !strcmp(argv[1], "--capture");
	if (sky_plugins_new(NULL, &plugins))
		die("plugins", sky_error_last());
	prov = sky_plugins_browser(plugins, "cdp");
	if (!prov)
		die("cdp provider", sky_error_last());
	char tmpl[] = "/tmp/bench-browser-XXXXXX";
	dir = mkdtemp(tmpl);
	if (!dir)
		die("mkdtemp", strerror(errno));
	pages = getenv("BENCH_PAGES");
	if (!pages || access(pages, R_OK))
		die("BENCH_PAGES", "set it to the bench/pages directory");
	if (settle_only) {
		/* the fixtures and their /slow data, from the tests' pages */
		pages = getenv("BENCH_SETTLE");
		if (!pages || access(pages, R_OK))
			die("BENCH_SETTLE",
			    "set it to the tests/pages/browser directory");
		start_server();
		void *b = browser_new(NULL);
		void *c = ctx_new(b);
		bench_settle(c);
		prov->context_close(c);
		prov->destroy(b);
		return 0;
	}
	start_server();
	if (spare_only) {
		memory_spare();
		return 0;
	}

	raw r;
	raw_start(&r);
	if (capture_only) {
		bench_capture(&r);
		raw_stop(&r);
		return 0;
	}
	if (!mem_only) {
		void *b = browser_new(NULL);
		void *c = ctx_new(b);
		row rows[2];
		bench_page("login.html", c, &r, &rows[0]);
		bench_page("table.html", c, &r, &rows[1]);
		printf(
		    "\n## Snapshot (median of %d, after 3 warm-up rounds)\n\n",
		    ROUNDS);
		printf("| page | ours: snapshot() ms (script ms) | render ms "
		       "| tree bytes (~tokens) | snapshot JSON bytes | "
		       "AX tree ms | AX bytes (~tokens) | DOMSnapshot ms | "
		       "DOMSnapshot bytes (~tokens) |\n");
		printf("|---|---|---|---|---|---|---|---|---|\n");
		for (int i = 0; i < 2; i++)
			printf("| %s | %.1f (%.1f) | %.2f | %zu (%zu) | %zu | "
			       "%.1f | %zu (%zu) | %.1f | %zu (%zu) |\n",
			       rows[i].page, rows[i].ours_ms, rows[i].script_ms,
			       rows[i].render_ms, rows[i].tree_bytes,
			       (rows[i].tree_bytes + 3) / 4, rows[i].snap_bytes,
			       rows[i].ax_ms, rows[i].ax_bytes,
			       (rows[i].ax_bytes + 3) / 4, rows[i].dom_ms,
			       rows[i].dom_bytes, (rows[i].dom_bytes + 3) / 4);

		/* actions on the login page */
		char *url = page_url("login.html");
		nav(c, url);
		char *s = snap(c);
		json_t *j = json_loads(s, 0, NULL);
		free(s);
		sky_page_tree *t = NULL;
		sky_page_render_json(j, NULL, &t);
		const char *btn = NULL, *email = NULL;
		size_t i;
		json_t *e;
		json_array_foreach (sky_page_tree_elements(t), i, e) {
			const char *lab =
			    json_string_value(json_object_get(e, "label"));
			const char *tag =
			    json_string_value(json_object_get(e, "tag"));
			const char *txt =
			    json_string_value(json_object_get(e, "text"));
			if (!lab)
				lab = txt;
			/* a click that does not leave the page */
			if (lab && !strcmp(lab, "Remember me") &&
			    !strcmp(tag, "input"))
				btn =
				    json_string_value(json_object_get(e, "id"));
			if (lab && !strcmp(lab, "Username") &&
			    !strcmp(tag, "input"))
				email =
				    json_string_value(json_object_get(e, "id"));
		}
		if (!btn || !email)
			die("login page", "no checkbox or username field");
		char *click = skyx_asprintf("{\"action_type\":\"click\","
		                            "\"element_id\":\"%s\"}",
		                            btn);
		char *type = skyx_asprintf("{\"action_type\":\"input_text\","
		                           "\"element_id\":\"%s\",\"text\":"
		                           "\"ada@example.com\"}",
		                           email);
		double click_ms = act_ms(c, click);
		double type_ms = act_ms(c, type);
		double eval = eval_ms(c, "1+1");
		char *sid = raw_open(&r, url);
		double raw_eval = raw_ms(&r, sid, "Runtime.evaluate",
		                         "{\"expression\":\"1+1\"}");
		double raw_ver = raw_ms(&r, NULL, "Browser.getVersion", NULL);
		printf("\n## Actions (median of %d; floors median of %d)\n\n",
		       ROUNDS, ROUNDS * 4);
		printf("| operation | ms | x Runtime.evaluate(1+1) via the "
		       "plugin |\n|---|---|---|\n");
		printf("| click (act, a checkbox) | %.2f | %.1f |\n", click_ms,
		       click_ms / eval);
		printf("| input_text 15 chars (act) | %.2f | %.1f |\n", type_ms,
		       type_ms / eval);
		printf("| floor: evaluate(\"1+1\") through the plugin | %.2f | "
		       "1.0 |\n",
		       eval);
		printf("| floor: bare Runtime.evaluate 1+1 (raw pipe) | %.2f | "
		       "%.1f |\n",
		       raw_eval, raw_eval / eval);
		printf("| floor: bare Browser.getVersion (raw pipe) | %.2f | "
		       "%.1f |\n",
		       raw_ver, raw_ver / eval);
		free(sid);
		free(click);
		free(type);
		free(url);
		sky_page_tree_free(t);
		json_decref(j);
		prov->context_close(c);
		prov->destroy(b);
	}
	if (!no_mem) {
		printf("\n## Memory: PSS of the browser's process tree, MiB "
		       "(processes)\n\n");
		printf("| setting | 1 context | 4 contexts | 8 contexts | "
		       "per extra context |\n|---|---|---|---|---|\n");
		memory("our flags (the plugin's default)", NULL, r.pid);
		memory("omnibox popup WebUIs left on (Chromium's own)",
		       "{\"args\": [\"--disable-features="
		       "NetworkTimeServiceQuerying,BackForwardCache\"]}",
		       r.pid);
		memory("+ --renderer-process-limit=2",
		       "{\"args\": [\"--renderer-process-limit=2\"]}", r.pid);
		memory("+ --process-per-site",
		       "{\"args\": [\"--process-per-site\"]}", r.pid);
		memory("+ --js-flags=--lite-mode",
		       "{\"args\": [\"--js-flags=--lite-mode\"]}", r.pid);
		memory("+ --disable-site-isolation-trials",
		       "{\"args\": [\"--disable-site-isolation-trials\"]}",
		       r.pid);
		memory_tabs(r.pid);
	}
	raw_stop(&r);
	skyx_rm_rf(dir);
	sky_plugins_free(plugins);
	return 0;
}
