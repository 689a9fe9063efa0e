/* Helpers for the browser tests (see skybrowser.h). */
#include "skybrowser.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skyengine/errors.h>

#include "plugin/loader.h"
#include "skytest.h"
#include "util/fs.h"
#include "util/resource.h"
#include <skyx/str.h>

#define MAX_SUBMIT 32

struct skyb_site {
	skytest_httpd *h;
	char *root;
	pthread_mutex_t lock;
	char *names[MAX_SUBMIT];
	char *bodies[MAX_SUBMIT];
	int proxied, refused;
	skyx_buf proxied_urls; /* each proxied URL and '\n' */
};

unsigned char *skyb_big_file(size_t *len)
{
	size_t n = 300000;
	unsigned char *d = malloc(n);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d[i] = (unsigned char)x;
	}
	*len = n;
	return d;
}

static void record(skyb_site *s, const char *name, const char *body)
{
	pthread_mutex_lock(&s->lock);
	int slot = -1;
	for (int i = 0; i < MAX_SUBMIT && slot < 0; i++)
		if (!s->names[i] || !strcmp(s->names[i], name))
			slot = i;
	if (slot >= 0) {
		free(s->names[slot]);
		free(s->bodies[slot]);
		s->names[slot] = skyx_strdup(name);
		s->bodies[slot] = skyx_strdup(body);
	}
	pthread_mutex_unlock(&s->lock);
}

static void table_page(const skytest_req *req, skytest_resp *resp)
{
	char *rows_s = skytest_req_query(req, "rows");
	int rows = rows_s ? atoi(rows_s) : 100;
	free(rows_s);
	static const char *const depts[] = {"Engineering", "Sales", "Finance",
	                                    "Support", "Legal"};
	skyx_buf b = {0};
	skyx_buf_puts(&b, "<!doctype html><html><head><title>Staff directory"
	                  "</title></head><body><h1>Staff directory</h1>"
	                  "<table><thead><tr><th>Name</th><th>Email</th>"
	                  "<th>Department</th><th>Salary</th><th>Action</th>"
	                  "</tr></thead><tbody>");
	for (int i = 1; i <= rows; i++)
		skyx_buf_printf(&b,
		                "<tr><td>Person %d</td><td>person%d@example.com"
		                "</td><td>%s</td><td>$%d</td><td><a href=\"/"
		                "staff/%d\">Edit</a></td></tr>",
		                i, i, depts[i % 5], 30000 + i * 37, i);
	skyx_buf_puts(&b, "</tbody></table></body></html>");
	resp->body = skyx_buf_steal(&b);
	resp->body_len = strlen(resp->body);
}

static void handler(const skytest_req *req, skytest_resp *resp, void *ud)
{
	skyb_site *s = ud;
	const char *path = req->path;

	if (!strncmp(path, "http://", 7)) {
		/* absolute form: we are somebody's proxy */
		const char *auth =
		    skytest_req_header(req, "proxy-authorization");
		pthread_mutex_lock(&s->lock);
		int ok = auth && !strcmp(auth, "Basic dXNlcjpwYXNz");
		if (ok) {
			s->proxied++;
			skyx_buf_puts(&s->proxied_urls, path);
			skyx_buf_puts(&s->proxied_urls, "\n");
		} else
			s->refused++;
		pthread_mutex_unlock(&s->lock);
		if (!ok) {
			skytest_resp_text(resp, 407, NULL, "proxy auth needed");
			skytest_resp_header(resp, "Proxy-Authenticate",
			                    "Basic realm=\"test\"");
			return;
		}
		char *body = skyx_asprintf(
		    "<html><head><title>via proxy</title></head><body>"
		    "<p id=via>proxied %s</p></body></html>",
		    path);
		skytest_resp_text(resp, 200, NULL, body);
		free(body);
		return;
	}
	if (!strncmp(path, "/submit/", 8) && !strcmp(req->method, "POST")) {
		record(s, path + 8, req->body);
		skyx_buf b = {0};
		skyx_buf_puts(&b, "<!doctype html><html><head><title>Submitted"
		                  "</title></head><body><h1>Thank you</h1>"
		                  "<pre id=body>");
		skyx_buf_html(&b, req->body);
		skyx_buf_puts(&b, "</pre></body></html>");
		resp->body = skyx_buf_steal(&b);
		resp->body_len = strlen(resp->body);
		return;
	}
	if (!strcmp(path, "/slow")) {
		char *ms = skytest_req_query(req, "ms");
		char *body_ms = skytest_req_query(req, "body_ms");
		resp->delay_ms = ms ? atoi(ms) : 800;
		resp->body_delay_ms = body_ms ? atoi(body_ms) : 0;
		free(ms);
		free(body_ms);
		skytest_resp_text(resp, 200, "application/json",
		                  "{\"items\": [\"alpha\", \"beta\", "
		                  "\"gamma\"]}");
		return;
	}
	if (!strcmp(path, "/download/report.csv")) {
		skytest_resp_text(resp, 200, "text/csv",
		                  "id,total\n1,10.50\n2,99.99\n");
		skytest_resp_header(resp, "Content-Disposition",
		                    "attachment; filename=\"report.csv\"");
		return;
	}
	if (!strcmp(path, "/download/big.bin")) {
		resp->body = (char *)skyb_big_file(&resp->body_len);
		resp->content_type = skyx_strdup("application/octet-stream");
		skytest_resp_header(resp, "Content-Disposition",
		                    "attachment; filename=\"big.bin\"");
		return;
	}
	if (!strcmp(path, "/cookie/set")) {
		char *v = skytest_req_query(req, "v");
		char *h = skyx_asprintf("sky=%s; Path=/", v ? v : "");
		skytest_resp_header(resp, "Set-Cookie", h);
		skytest_resp_text(resp, 200, NULL,
		                  "<html><body>cookie set</body></html>");
		free(h);
		free(v);
		return;
	}
	if (!strcmp(path, "/cookie/show") || !strcmp(path, "/headers")) {
		json_t *o = json_object();
		for (size_t i = 0; i < req->n_headers; i++)
			json_object_set_new(o, req->headers[i].name,
			                    json_string(req->headers[i].value));
		char *js = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		skyx_buf b = {0};
		skyx_buf_puts(&b, "<html><body><pre id=h>");
		skyx_buf_html(&b, js);
		skyx_buf_puts(&b, "</pre></body></html>");
		free(js);
		resp->body = skyx_buf_steal(&b);
		resp->body_len = strlen(resp->body);
		return;
	}
	if (!strcmp(path, "/table")) {
		table_page(req, resp);
		return;
	}
	if (!skytest_resp_file(resp, s->root, path))
		skytest_resp_text(resp, 404, NULL, "not found");
}

skyb_site *skyb_site_start(void)
{
	skyb_site *s = calloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	s->root = skytest_src_path("tests/pages/browser");
	s->h = skytest_httpd_start(handler, s);
	ck_assert_msg(s->h != NULL, "could not start the fixture server");
	return s;
}

void skyb_site_stop(skyb_site *s)
{
	if (!s)
		return;
	skytest_httpd_stop(s->h);
	for (int i = 0; i < MAX_SUBMIT; i++) {
		free(s->names[i]);
		free(s->bodies[i]);
	}
	free(s->root);
	skyx_buf_free(&s->proxied_urls);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *skyb_site_url(skyb_site *s)
{
	return skytest_httpd_url(s->h);
}

char *skyb_url(skyb_site *s, const char *path)
{
	return skyx_asprintf("%s/%s", skytest_httpd_url(s->h),
	                     path[0] == '/' ? path + 1 : path);
}

char *skyb_site_submitted(skyb_site *s, const char *name)
{
	char *out = NULL;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < MAX_SUBMIT; i++)
		if (s->names[i] && !strcmp(s->names[i], name))
			out = skyx_strdup(s->bodies[i]);
	pthread_mutex_unlock(&s->lock);
	return out;
}

int skyb_site_proxied(skyb_site *s, int *refused)
{
	pthread_mutex_lock(&s->lock);
	int n = s->proxied;
	if (refused)
		*refused = s->refused;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int skyb_site_was_proxied(skyb_site *s, const char *url)
{
	pthread_mutex_lock(&s->lock);
	char *line = skyx_asprintf("%s\n", url);
	const char *all = s->proxied_urls.data ? s->proxied_urls.data : "";
	int n = 0;
	for (const char *p = all; (p = strstr(p, line)); p += strlen(line))
		n += p == all || p[-1] == '\n';
	free(line);
	pthread_mutex_unlock(&s->lock);
	return n;
}

static sky_plugins *plugins;

const sky_browser_provider *skyb_provider(void)
{
	if (!plugins) {
		ck_assert_int_eq(
		    sky_plugins_new(SKY_TEST_PLUGIN_BUILD_DIR, &plugins), 0);
	}
	const sky_browser_provider *p = sky_plugins_browser(plugins, "cdp");
	ck_assert_msg(p != NULL, "cdp provider: %s", sky_error_last());
	return p;
}

const sky_host_ctx *skyb_ctx(void)
{
	return sky_plugins_ctx(plugins, skyb_provider());
}

const char *skyb_script(void)
{
	size_t len = 0;
	const char *s = sky_resource_get("page/snapshot.js", &len);
	ck_assert_msg(s && len, "page/snapshot.js is not embedded");
	return s;
}

void *skyb_browser(const char *config_json)
{
	void *b = NULL;
	char *err = NULL;
	const sky_browser_provider *p = skyb_provider();
	int rc = p->create(sky_plugins_ctx(plugins, p), config_json, &b, &err);
	ck_assert_msg(rc == 0, "create: %s", err ? err : "?");
	if (skyb_provider()->set_page_script)
		skyb_provider()->set_page_script(b, skyb_script(), NULL);
	return b;
}

extern char **environ;

pid_t skyb_chromium_launch(const char *profile_dir, int *port,
                           char ws_path[256])
{
	char *udd = skyx_asprintf("--user-data-dir=%s", profile_dir);
	char *argv[] = {"/usr/lib/chromium/chromium",
	                "--headless",
	                "--no-sandbox",
	                "--disable-gpu",
	                "--no-first-run",
	                "--disable-background-networking",
	                "--disable-component-update",
	                "--disable-sync",
	                "--disable-features=NetworkTimeServiceQuerying,"
	                "BackForwardCache,WebUIOmniboxPopup,"
	                "WebUIOmniboxAimPopup",
	                "--no-proxy-server",
	                "--remote-debugging-port=0",
	                udd,
	                "about:blank",
	                NULL};
	/* fork + exec (not posix_spawn) to ask for SIGKILL when the test
	 * process dies, however it dies: a failed or timed-out test must
	 * not leave a browser behind */
	pid_t parent = getpid();
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid = fork();
	int e = 0;
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
	if (pid < 0)
		e = errno;
	close(null);
	free(udd);
	/* no ck_assert here: this also runs outside tests (main) */
	if (e) {
		fprintf(stderr, "cannot start Chromium: %s\n", strerror(e));
		return -1;
	}
	/* "PORT\n/devtools/browser/UUID" appears when it is ready */
	char *file = skyx_path_join(profile_dir, "DevToolsActivePort");
	*port = 0;
	for (int i = 0; i < 1200 && !*port; i++) {
		size_t len = 0;
		char *s = skyx_read_file(file, &len);
		if (!(s && strchr(s, '\n') &&
		      sscanf(s, "%d\n%255s", port, ws_path) == 2))
			*port = 0;
		free(s);
		if (!*port)
			usleep(50 * 1000);
	}
	free(file);
	if (!*port) {
		skyb_chromium_kill(pid);
		fprintf(stderr, "Chromium did not write DevToolsActivePort\n");
		return -1;
	}
	return pid;
}

void skyb_chromium_kill(pid_t pid)
{
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static pid_t shared_pid = -1, shared_owner = -1;
static char *shared_profile;
static char shared_url[512];
static int shared_port;

void skyb_shared_start(void)
{
	int port = 0;
	char path[256] = "";
	shared_profile = skytest_tmpdir("sharedchrome");
	shared_pid = skyb_chromium_launch(shared_profile, &port, path);
	if (shared_pid < 0)
		exit(EXIT_FAILURE);
	shared_owner = getpid();
	shared_port = port;
	snprintf(shared_url, sizeof shared_url, "ws://127.0.0.1:%d%s", port,
	         path);
}

void skyb_shared_stop(void)
{
	/* only the process that started it (tests run in forked copies) */
	if (shared_pid > 0 && getpid() == shared_owner) {
		skyb_chromium_kill(shared_pid);
		skyx_rm_rf(shared_profile);
		free(shared_profile);
		shared_pid = -1;
	}
}

void *skyb_browser_shared(void)
{
	ck_assert_msg(shared_pid > 0, "skyb_shared_start() was not called");
	char *cfg = skyx_asprintf("{\"cdp_url\": \"%s\"}", shared_url);
	void *b = skyb_browser(cfg);
	free(cfg);
	return b;
}

int skyb_shared_port(void)
{
	return shared_port;
}

void *skyb_context(void *browser, const char *options_json)
{
	void *c = NULL;
	char *err = NULL;
	int rc = skyb_provider()->context_open(browser, options_json, &c, &err);
	ck_assert_msg(rc == 0, "context_open: %s", err ? err : "?");
	return c;
}

static json_t *parse_or_fail(char *text, const char *what)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	ck_assert_msg(v != NULL, "%s: bad JSON: %s", what, text);
	free(text);
	return v;
}

json_t *skyb_navigate(void *ctx, const char *url)
{
	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->navigate(ctx, url, NULL, &res, &err);
	ck_assert_msg(rc == 0, "navigate %s: %s", url, err ? err : "?");
	return parse_or_fail(res, "navigate");
}

json_t *skyb_settle(void *ctx)
{
	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->settle(ctx, NULL, &res, &err);
	ck_assert_msg(rc == 0, "settle: %s", err ? err : "?");
	return parse_or_fail(res, "settle");
}

json_t *skyb_snapshot(void *ctx)
{
	char *res = NULL, *err = NULL;
	int rc =
	    skyb_provider()->snapshot(ctx, skyb_script(), NULL, &res, &err);
	ck_assert_msg(rc == 0, "snapshot: %s", err ? err : "?");
	return parse_or_fail(res, "snapshot");
}

json_t *skyb_act(void *ctx, const char *action_json)
{
	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->act(ctx, action_json, &res, &err);
	ck_assert_msg(rc == 0, "act %s: %s", action_json, err ? err : "?");
	return parse_or_fail(res, "act");
}

json_t *skyb_act_ok(void *ctx, const char *fmt, ...)
{
	va_list ap;
	char *action = NULL;
	va_start(ap, fmt);
	ck_assert(vasprintf(&action, fmt, ap) >= 0);
	va_end(ap);
	json_t *r = skyb_act(ctx, action);
	char *txt = json_dumps(r, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(r, "success")),
	              "action %s failed: %s", action, txt);
	free(txt);
	free(action);
	return r;
}

json_t *skyb_state(void *ctx)
{
	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->page_state(ctx, &res, &err);
	ck_assert_msg(rc == 0, "page_state: %s", err ? err : "?");
	return parse_or_fail(res, "page_state");
}

json_t *skyb_eval(void *ctx, const char *expr)
{
	char *res = NULL, *err = NULL;
	int rc = skyb_provider()->evaluate(ctx, expr, &res, &err);
	ck_assert_msg(rc == 0, "evaluate %s: %s", expr, err ? err : "?");
	return parse_or_fail(res, "evaluate");
}

char *skyb_eval_str(void *ctx, const char *expr)
{
	json_t *v = skyb_eval(ctx, expr);
	char *s = skyx_strdup(json_is_string(v) ? json_string_value(v) : "");
	json_decref(v);
	return s;
}

long long skyb_eval_int(void *ctx, const char *expr)
{
	json_t *v = skyb_eval(ctx, expr);
	long long n =
	    json_is_number(v) ? (long long)json_number_value(v) : -999999;
	json_decref(v);
	return n;
}

static int matches(json_t *n, const char *tag, const char *what)
{
	static const char *const keys[] = {"label", "text"};
	if (tag &&
	    !skyx_str_eq(json_string_value(json_object_get(n, "tag")), tag))
		return 0;
	if (!what)
		return 1;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const char *v = json_string_value(json_object_get(n, keys[i]));
		if (v && !strcmp(v, what))
			return 1;
	}
	json_t *attrs = json_object_get(n, "attrs");
	static const char *const akeys[] = {"name", "placeholder", "aria-label",
	                                    "value"};
	for (size_t i = 0; i < sizeof akeys / sizeof *akeys; i++) {
		const char *v =
		    json_string_value(json_object_get(attrs, akeys[i]));
		if (v && !strcmp(v, what))
			return 1;
	}
	return 0;
}

static json_t *find_in(json_t *arr, const char *tag, const char *what)
{
	size_t i;
	json_t *n;
	json_array_foreach (arr, i, n) {
		if (!json_is_object(n))
			continue;
		if (matches(n, tag, what))
			return n;
		json_t *r = find_in(json_object_get(n, "children"), tag, what);
		if (r)
			return r;
	}
	return NULL;
}

json_t *skyb_find(json_t *snap, const char *tag, const char *what)
{
	return find_in(json_object_get(snap, "elements"), tag, what);
}

const char *skyb_id(json_t *snap, const char *tag, const char *what)
{
	json_t *n = skyb_find(snap, tag, what);
	ck_assert_msg(n != NULL, "no <%s> \"%s\" in the snapshot",
	              tag ? tag : "*", what ? what : "");
	const char *id = json_string_value(json_object_get(n, "id"));
	ck_assert_msg(id != NULL, "<%s> \"%s\" has no id", tag ? tag : "*",
	              what ? what : "");
	return id;
}

static size_t count_in(json_t *arr, const char *tag)
{
	size_t i, n = 0;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		if (!tag ||
		    skyx_str_eq(json_string_value(json_object_get(e, "tag")),
		                tag))
			n++;
		n += count_in(json_object_get(e, "children"), tag);
	}
	return n;
}

size_t skyb_count(json_t *snap, const char *tag)
{
	return count_in(json_object_get(snap, "elements"), tag);
}
