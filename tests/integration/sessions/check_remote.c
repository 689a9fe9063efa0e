/*
 * Browsers apart from the engine, over real HTTP with real Chromium: a
 * second Chromium this test starts with --remote-debugging-port, reached
 * through a loopback relay ("tap") that records the head of every request
 * made through it and whether the browser's side of the traffic named a
 * page. A run with browser_address works in that browser (never in one
 * the server launches), sends cdp_connect_headers on the handshake only,
 * never logs them, and leaves the browser running. A pool of endpoints
 * (browser.cdp_urls) skips a dead one and spreads runs over live ones.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "api.h"
#include "httpd.h"
#include "skybrowser.h"
#include <skyx/fs.h>

#define SECRET "Bearer tok-5ecr3t-0f-the-grid"

/* --- the site ------------------------------------------------------------ */

static pthread_mutex_t site_lock = PTHREAD_MUTEX_INITIALIZER;
static skyx_buf site_log; /* "GET /path\n" */

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&site_lock);
	skyx_buf_printf(&site_log, "%s %s\n", req->method, req->path);
	pthread_mutex_unlock(&site_lock);
	if (!strcmp(req->path, "/"))
		skytest_resp_text(resp, 200, NULL,
		                  "<title>Acme</title><h1>Acme</h1><a "
		                  "href='/pricing'>Pricing</a>");
	else if (!strcmp(req->path, "/pricing"))
		skytest_resp_text(resp, 200, NULL,
		                  "<title>Pricing</title><h1>Pricing</h1>"
		                  "<p>12 EUR</p>");
	else
		skytest_resp_text(resp, 404, "text/plain", "none");
}

static int site_saw(const char *line)
{
	pthread_mutex_lock(&site_lock);
	int n = 0;
	for (const char *p = site_log.data; p && (p = strstr(p, line));
	     p += strlen(line))
		n++;
	pthread_mutex_unlock(&site_lock);
	return n;
}

/* --- the tap: a TCP relay to the browser's port ---------------------------- */

typedef struct tap {
	int lfd, port, to_port;
	pthread_t thread;
	pthread_mutex_t lock;
	skyx_buf heads; /* every request head relayed, in order */
	int handshakes; /* websocket upgrades */
	int saw_needle; /* the browser's side named `needle` */
	char needle[64];
	int stop;
} tap;

typedef struct pipe_arg {
	tap *t;
	int down, up;
} pipe_arg;

static void *relay(void *arg)
{
	pipe_arg *a = arg;
	tap *t = a->t;
	char buf[65536], head[8192];
	size_t hl = 0;
	/* the head of the request, recorded, then passed on */
	while (hl < sizeof head - 1) {
		ssize_t r = recv(a->down, head + hl, sizeof head - 1 - hl, 0);
		if (r <= 0)
			goto out;
		hl += (size_t)r;
		head[hl] = '\0';
		if (strstr(head, "\r\n\r\n"))
			break;
	}
	pthread_mutex_lock(&t->lock);
	skyx_buf_puts(&t->heads, head);
	if (strcasestr(head, "upgrade: websocket"))
		t->handshakes++;
	pthread_mutex_unlock(&t->lock);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)t->to_port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	a->up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->up < 0 || connect(a->up, (struct sockaddr *)&sa, sizeof sa) ||
	    send(a->up, head, hl, MSG_NOSIGNAL) != (ssize_t)hl)
		goto out;
	/* the needle may straddle two reads: keep the tail of the last */
	char window[sizeof buf + 64];
	size_t keep = 0, nl = strlen(t->needle);
	for (;;) {
		struct pollfd p[2] = {{a->down, POLLIN, 0}, {a->up, POLLIN, 0}};
		if (poll(p, 2, 200) < 0 && errno != EINTR)
			break;
		pthread_mutex_lock(&t->lock);
		int stop = t->stop;
		pthread_mutex_unlock(&t->lock);
		if (stop)
			break;
		if (p[0].revents) {
			ssize_t r = recv(a->down, buf, sizeof buf, 0);
			if (r <= 0 ||
			    send(a->up, buf, (size_t)r, MSG_NOSIGNAL) != r)
				break;
		}
		if (p[1].revents) {
			ssize_t r = recv(a->up, buf, sizeof buf, 0);
			if (r <= 0 ||
			    send(a->down, buf, (size_t)r, MSG_NOSIGNAL) != r)
				break;
			memcpy(window + keep, buf, (size_t)r);
			size_t wl = keep + (size_t)r;
			if (nl && memmem(window, wl, t->needle, nl)) {
				pthread_mutex_lock(&t->lock);
				t->saw_needle = 1;
				pthread_mutex_unlock(&t->lock);
			}
			keep = wl < 63 ? wl : 63;
			memmove(window, window + wl - keep, keep);
		}
	}
out:
	close(a->down);
	if (a->up >= 0)
		close(a->up);
	free(a);
	return NULL;
}

static void *tap_main(void *arg)
{
	tap *t = arg;
	for (;;) {
		struct pollfd p = {t->lfd, POLLIN, 0};
		poll(&p, 1, 200);
		pthread_mutex_lock(&t->lock);
		int stop = t->stop;
		pthread_mutex_unlock(&t->lock);
		if (stop)
			break;
		if (!(p.revents & POLLIN))
			continue;
		int fd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pipe_arg *a = calloc(1, sizeof *a);
		a->t = t;
		a->down = fd;
		a->up = -1;
		pthread_t th;
		if (pthread_create(&th, NULL, relay, a)) {
			close(fd);
			free(a);
			continue;
		}
		pthread_detach(th);
	}
	return NULL;
}

/* Every tap stays reachable until the process ends: a detached relay
 * may still hold one after tap_stop (it ends with its sockets). */
static tap *taps[16];
static int n_taps;

static tap *tap_start(int to_port, const char *needle)
{
	tap *t = calloc(1, sizeof *t);
	ck_assert_int_lt(n_taps, 16);
	taps[n_taps++] = t;
	pthread_mutex_init(&t->lock, NULL);
	t->to_port = to_port;
	snprintf(t->needle, sizeof t->needle, "%s", needle);
	t->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	ck_assert_int_eq(bind(t->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(t->lfd, 16), 0);
	getsockname(t->lfd, (struct sockaddr *)&sa, &sl);
	t->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&t->thread, NULL, tap_main, t), 0);
	return t;
}

/* Relays end with their sockets (the server and browser stop first). */
static void tap_stop(tap *t)
{
	pthread_mutex_lock(&t->lock);
	t->stop = 1;
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	close(t->lfd);
}

static char *tap_heads(tap *t)
{
	pthread_mutex_lock(&t->lock);
	char *s = skyx_strdup(t->heads.data ? t->heads.data : "");
	pthread_mutex_unlock(&t->lock);
	return s;
}

static int tap_int(tap *t, const int *field)
{
	pthread_mutex_lock(&t->lock);
	int v = *field;
	pthread_mutex_unlock(&t->lock);
	return v;
}

/* --- fixtures ------------------------------------------------------------ */

static skytest_server srv;
static char *dir, *profile;
static skytest_httpd *site;
static pid_t chrome = -1;
static int cport;
static char cws_path[256]; /* "/devtools/browser/<id>" */

static void setup(void)
{
	dir = skytest_tmpdir("remote");
	profile = skytest_tmpdir("remote-chrome");
	site = skytest_httpd_start(on_site, NULL);
	ck_assert_ptr_nonnull(site);
	chrome = skyb_chromium_launch(profile, &cport, cws_path);
	ck_assert_int_gt(chrome, 0);
}

/* The server, with `config` (JSON) or none; logging at debug, so that
 * whatever the engine says about browsers is in its log. */
static void server_start(const char *config)
{
	const char *args[] = {"--api-key", KEY, "--config", NULL, NULL};
	char *path = skyx_path_join(dir, "config.json");
	ck_assert_int_eq(skyx_write_file(path, config ? config : "{}",
	                                 strlen(config ? config : "{}")),
	                 0);
	args[3] = path;
	setenv("SKYENGINE_LOG", "debug", 1);
	ck_assert_int_eq(skytest_server_start(&srv, dir, args), 0);
	free(path);
}

static void teardown(void)
{
	if (srv.pid > 0)
		skytest_server_stop(&srv);
	free(srv.data_dir);
	free(srv.log_path);
	memset(&srv, 0, sizeof srv);
	if (chrome > 0)
		skyb_chromium_kill(chrome);
	chrome = -1;
	skytest_httpd_stop(site);
	skyx_rm_rf(profile);
	free(profile);
	skyx_rm_rf(dir);
	free(dir);
	skyx_buf_free(&site_log);
}

/* Page targets of the test's Chromium (GET /json/list on its port). */
static size_t chrome_pages(void)
{
	skytest_hc_resp r;
	ck_assert_int_eq(skytest_hc(cport, "GET", "/json/list", "", NULL, &r),
	                 0);
	ck_assert_int_eq(r.status, 200);
	json_t *list = json_loads(r.body, 0, NULL);
	skytest_hc_free(&r);
	size_t n = 0, i;
	json_t *t;
	json_array_foreach (list, i, t)
		n += !strcmp(jstr(t, "type"), "page");
	json_decref(list);
	return n;
}

static void assert_completed(const char *id)
{
	json_t *run = api_wait(&srv, id);
	ck_assert_msg(!strcmp(jstr(run, "status"), "completed"), "%s: %s", id,
	              json_dumps(run, 0));
	json_decref(run);
}

/* No Chromium of the server's own was ever launched: its profile
 * directories live under <data>/browser. */
static void assert_no_own_browser(void)
{
	char *own = skyx_path_join(dir, "browser");
	DIR *d = opendir(own);
	struct dirent *de;
	while (d && (de = readdir(d)))
		ck_assert_msg(!skyx_str_startswith(de->d_name, "sky-chromium"),
		              "the server launched a browser: %s", de->d_name);
	if (d)
		closedir(d);
	free(own);
}

/* --- tests --------------------------------------------------------------- */

START_TEST(run_attaches_to_browser_address)
{
	tap *t = tap_start(cport, "/pricing");
	/* the engine's own handshake headers are for its configured
	 * browsers: a run's address never gets them */
	server_start("{\"browser\": {\"cdp_connect_headers\": "
	             "{\"X-Engine-Key\": \"engine-only-key\"}}}");
	size_t pages_before = chrome_pages();
	char *home = skyx_asprintf("%s/", skytest_httpd_url(site));
	char *body = skyx_asprintf(
	    "{\"prompt\":\"Open the Pricing page.\",\"url\":\"%s\","
	    "\"browser_address\":\"http://127.0.0.1:%d\","
	    "\"cdp_connect_headers\":{\"Authorization\":\"" SECRET "\","
	    "\"X-Grid-Tenant\":\"acme\"}}",
	    home, t->port);
	json_t *j = api_post(&srv, "/v1/run/tasks", body, 200);
	free(body);
	char *id = skyx_strdup(jstr(j, "run_id"));
	/* the answer shows the address, never the headers */
	char *answer = json_dumps(j, 0);
	ck_assert_ptr_null(strstr(answer, "tok-5ecr3t"));
	free(answer);
	json_decref(j);
	assert_completed(id);

	/* It worked in the test's browser, through the tap: the discovery
	 * request and the websocket handshake carried the headers, and the
	 * browser's side of the traffic named the page the run opened. */
	ck_assert_int_ge(site_saw("GET /pricing\n"), 1);
	char *heads = tap_heads(t);
	ck_assert_msg(strstr(heads, "GET /json/version "), "%s", heads);
	ck_assert_int_eq(tap_int(t, &t->handshakes), 1);
	const char *hs = strcasestr(heads, "upgrade: websocket");
	ck_assert_ptr_nonnull(hs);
	ck_assert_msg(strstr(heads, "Authorization: " SECRET "\r\n") ||
	                  strstr(heads, "authorization: " SECRET "\r\n"),
	              "%s", heads);
	ck_assert(strcasestr(heads, "x-grid-tenant: acme\r\n"));
	/* both requests carried them */
	const char *first = strstr(heads, SECRET);
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(strstr(first + 1, SECRET));
	ck_assert_int_eq(tap_int(t, &t->saw_needle), 1);
	ck_assert_ptr_null(strstr(heads, "engine-only-key"));
	free(heads);
	assert_no_own_browser();

	/* The browser is still there, with the pages it had: the run's
	 * context and tab went, the browser stayed. */
	ck_assert_int_eq(waitpid(chrome, NULL, WNOHANG), 0);
	ck_assert_uint_eq(chrome_pages(), pages_before);

	/* The credential is in no log and no file the server wrote (the
	 * database keeps it with the run, as it keeps extra_http_headers). */
	char *log = skytest_server_log(&srv);
	ck_assert_ptr_nonnull(strstr(log, id)); /* the log is there */
	ck_assert_msg(!strstr(log, "tok-5ecr3t"), "the log has the secret");
	free(log);
	char *hits = scan_files(dir, "tok-5ecr3t");
	ck_assert_msg(!*hits, "files with the secret:\n%s", hits);
	free(hits);
	/* nor does GET /v1/runs */
	char path[160];
	snprintf(path, sizeof path, "/v1/runs/%s", id);
	j = api_get(&srv, path, 200);
	answer = json_dumps(j, 0);
	ck_assert_ptr_null(strstr(answer, "tok-5ecr3t"));
	free(answer);
	json_decref(j);

	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	srv.pid = 0;
	ck_assert_int_eq(waitpid(chrome, NULL, WNOHANG), 0);
	tap_stop(t);
	free(home);
	free(id);
}
END_TEST

START_TEST(pool_skips_a_dead_endpoint_and_spreads)
{
	/* Two endpoints of the one test browser (two taps: the engine
	 * cannot tell), and one that refuses connections. */
	tap *a = tap_start(cport, "/pricing");
	tap *b = tap_start(cport, "/pricing");
	skytest_httpd *gone = skytest_httpd_start(on_site, NULL);
	int dead = skytest_httpd_port(gone);
	skytest_httpd_stop(gone);
	char *cfg = skyx_asprintf("{\"browser\": {\"cdp_urls\": ["
	                          "\"http://127.0.0.1:%d\", "
	                          "\"http://127.0.0.1:%d\", "
	                          "\"ws://127.0.0.1:%d%s\"]}}",
	                          dead, a->port, b->port, cws_path);
	server_start(cfg);
	free(cfg);
	char *home = skyx_asprintf("%s/", skytest_httpd_url(site));
	char *body = skyx_asprintf(
	    "{\"prompt\":\"Open the Pricing page.\",\"url\":\"%s\"}", home);
	/* one run after the other: each endpoint's load is back to 0 when
	 * the next run picks, so the picks go round the live ones */
	for (int i = 0; i < 4; i++) {
		char *id = api_submit(&srv, body);
		assert_completed(id);
		free(id);
	}
	ck_assert_int_eq(site_saw("GET /pricing\n"), 4);
	/* both live endpoints served runs (each connected once and kept
	 * its connection); the dead one served none */
	ck_assert_int_eq(tap_int(a, &a->handshakes), 1);
	ck_assert_int_eq(tap_int(b, &b->handshakes), 1);
	ck_assert_int_eq(tap_int(a, &a->saw_needle), 1);
	ck_assert_int_eq(tap_int(b, &b->saw_needle), 1);
	assert_no_own_browser();
	char *log = skytest_server_log(&srv);
	char *want = skyx_asprintf("http://127.0.0.1:%d failed", dead);
	ck_assert_msg(strstr(log, want), "%s", log);
	free(want);
	free(log);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	srv.pid = 0;
	tap_stop(a);
	tap_stop(b);
	free(body);
	free(home);
}
END_TEST

/* artifacts.root: the run's files go there (not into the data dir), the
 * API names and serves them from there. */
START_TEST(artifacts_under_a_configured_root)
{
	char *root = skytest_tmpdir("remote-artifacts");
	char *cfg = skyx_asprintf("{\"artifacts\": {\"root\": \"%s\"}}", root);
	server_start(cfg);
	free(cfg);
	char *home = skyx_asprintf("%s/", skytest_httpd_url(site));
	char *body = skyx_asprintf(
	    "{\"prompt\":\"Open the Pricing page.\",\"url\":\"%s\"}", home);
	char *id = api_submit(&srv, body);
	assert_completed(id);
	char *mine = skyx_asprintf("%s/runs/%s", root, id);
	struct stat st;
	ck_assert_int_eq(stat(mine, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	char *in_data = skyx_asprintf("%s/runs/%s", dir, id);
	ck_assert_int_ne(stat(in_data, &st), 0);

	char path[160];
	snprintf(path, sizeof path, "/v1/runs/%s/artifacts", id);
	json_t *arts = api_get(&srv, path, 200);
	ck_assert_uint_gt(json_array_size(arts), 0);
	size_t i, served = 0;
	json_t *a;
	char *prefix = skyx_asprintf("file://%s/runs/%s/", root, id);
	json_array_foreach (arts, i, a) {
		const char *uri = jstr(a, "uri");
		ck_assert_msg(skyx_str_startswith(uri, prefix), "%s", uri);
		if (served)
			continue;
		/* served back byte for byte from the root */
		size_t len = 0;
		char *want = skyx_read_file(uri + 7, &len);
		ck_assert_ptr_nonnull(want);
		snprintf(path, sizeof path, "/v1/artifacts/%s/content",
		         jstr(a, "artifact_id"));
		skytest_hc_resp r;
		ck_assert_int_eq(
		    skytest_hc(srv.port, "GET", path, AUTH, NULL, &r), 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_uint_eq(r.body_len, len);
		ck_assert_int_eq(memcmp(r.body, want, len), 0);
		skytest_hc_free(&r);
		free(want);
		served++;
	}
	ck_assert_uint_eq(served, 1);
	json_decref(arts);
	ck_assert_int_eq(skytest_server_stop(&srv), 0);
	srv.pid = 0;
	free(prefix);
	free(in_data);
	free(mine);
	free(id);
	free(body);
	free(home);
	skyx_rm_rf(root);
	free(root);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("remote");
	SKYB_TEST(s, run_attaches_to_browser_address, setup, teardown, 300);
	SKYB_TEST(s, pool_skips_a_dead_endpoint_and_spreads, setup, teardown,
	          400);
	SKYB_TEST(s, artifacts_under_a_configured_root, setup, teardown, 300);
	return skytest_run(s);
}
