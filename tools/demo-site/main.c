/*
 * skyengine-demo-site: a small job-application site on loopback for the
 * quick start and the demos. Serves examples/demo-site; POST /apply
 * checks the form like a real site would and answers a confirmation;
 * GET /applications.json lists what was received (so a run can be graded
 * by the site, not by the engine's own claim).
 *
 *   skyengine-demo-site [--port 8090] [--root DIR] [--port-file FILE]
 */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include <skyx/codec.h>
#include <skyx/fs.h>
#include <skyx/str.h>

static const char *root;
static json_t *received;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stop_flag;

static void on_signal(int s)
{
	(void)s;
	stop_flag = 1;
}

/* application/x-www-form-urlencoded -> object. */
static json_t *parse_form(const char *body)
{
	json_t *o = json_object();
	char *copy = skyx_strdup(body ? body : ""), *save = NULL;
	for (char *kv = strtok_r(copy, "&", &save); kv;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
		char *k = skyx_pct_decode(kv, kl, SKYX_PCT_PLUS_SPACE);
		char *v =
		    skyx_pct_decode(eq ? eq + 1 : "", eq ? strlen(eq + 1) : 0,
		                    SKYX_PCT_PLUS_SPACE);
		json_t *jv = k && v ? json_string(v) : NULL;
		if (jv)
			json_object_set_new(o, k, jv);
		free(k);
		free(v);
	}
	free(copy);
	return o;
}

static void page(srv_resp *r, int status, const char *title, const char *html)
{
	skyx_buf b = {0};
	skyx_buf_printf(&b,
	                "<!doctype html><html lang=en><meta charset=utf-8>"
	                "<title>%s · Skylark Robotics</title><link "
	                "rel=stylesheet href=/site.css><header><a "
	                "class=brand href=/>Skylark Robotics</a></header>"
	                "<main>%s</main></html>",
	                title, html);
	srv_resp_take(r, status, "text/html; charset=utf-8", b.data, b.len);
}

static void apply(const srv_req *req, srv_resp *resp)
{
	json_t *f = parse_form(req->body);
	const char *name = json_string_value(json_object_get(f, "name"));
	const char *email = json_string_value(json_object_get(f, "email"));
	const char *consent = json_string_value(json_object_get(f, "consent"));
	skyx_buf b = {0};
	if (!name || !*name || !email || !strchr(email, '@') || !consent) {
		skyx_buf_puts(&b, "<h1>Please check your application</h1><p "
		                  "id=error>Missing or invalid: ");
		skyx_buf_puts(&b, !name || !*name ? "name " : "");
		skyx_buf_puts(&b,
		              !email || !strchr(email, '@') ? "email " : "");
		skyx_buf_puts(&b, !consent ? "consent" : "");
		skyx_buf_puts(&b, "</p><p><a href=/apply.html>Back to the "
		                  "form</a></p>");
		page(resp, 400, "Application incomplete", b.data);
		skyx_buf_free(&b);
		json_decref(f);
		return;
	}
	pthread_mutex_lock(&lock);
	json_array_append(received, f);
	pthread_mutex_unlock(&lock);
	printf("demo-site: application received from %s <%s>\n", name, email);
	fflush(stdout);
	skyx_buf_puts(&b, "<h1>Thank you!</h1><div class=ok id=confirmation>"
	                  "<p>Your application has been received, ");
	skyx_buf_html(&b, name);
	skyx_buf_puts(&b, ". We will reply to ");
	skyx_buf_html(&b, email);
	skyx_buf_puts(&b, " within five working days.</p></div>");
	page(resp, 200, "Application received", b.data);
	skyx_buf_free(&b);
	json_decref(f);
}

static const char *ctype(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && !strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (dot && !strcmp(dot, ".png"))
		return "image/png";
	return "text/html; charset=utf-8";
}

static void handle(void *ud, const srv_req *req, srv_resp *resp)
{
	(void)ud;
	if (req->method == SRV_POST && !strcmp(req->path, "/apply")) {
		apply(req, resp);
		return;
	}
	if (req->method == SRV_GET &&
	    !strcmp(req->path, "/applications.json")) {
		pthread_mutex_lock(&lock);
		char *s = json_dumps(received, JSON_COMPACT);
		pthread_mutex_unlock(&lock);
		srv_resp_take(resp, 200, "application/json", s, strlen(s));
		return;
	}
	if (req->method != SRV_GET && req->method != SRV_HEAD) {
		page(resp, 405, "Not allowed", "<h1>Method not allowed</h1>");
		return;
	}
	const char *p = !strcmp(req->path, "/") ? "/index.html" : req->path;
	char *file = strstr(p, "..") ? NULL : skyx_asprintf("%s%s", root, p);
	size_t len = 0;
	char *data = file ? skyx_read_file(file, &len) : NULL;
	if (!data)
		page(resp, 404, "Not found", "<h1>Page not found</h1>");
	else
		srv_resp_take(resp, 200, ctype(p), data, len);
	free(file);
}

static int is_dir(const char *p)
{
	struct stat st;
	return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(int argc, char **argv)
{
	int port = 8090, ch;
	const char *port_file = NULL;
	static const struct option o[] = {
	    {"port", required_argument, 0, 'p'},
	    {"root", required_argument, 0, 'r'},
	    {"port-file", required_argument, 0, 'f'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	while ((ch = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (ch) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			root = optarg;
			break;
		case 'f':
			port_file = optarg;
			break;
		case 'h':
			puts("usage: skyengine-demo-site [--port 8090] [--root "
			     "DIR] [--port-file FILE]");
			return 0;
		default:
			return 2;
		}
	}
	char exe[4096], *rel = NULL;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		/* <prefix>/bin/skyengine-demo-site -> <prefix>/share/... */
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			rel = skyx_asprintf("%s/../share/skyengine/demo-site",
			                    exe);
		}
	}
	if (!root)
		root = is_dir(rel) ? rel
		       : is_dir(SKY_DEMO_SITE_INSTALLED)
		           ? SKY_DEMO_SITE_INSTALLED
		           : SKY_DEMO_SITE_SRC;
	if (!is_dir(root)) {
		fprintf(stderr, "skyengine-demo-site: no site at %s\n", root);
		return 1;
	}
	received = json_array();
	srv_http *h = NULL;
	srv_http_options ho = {0};
	ho.port = port;
	ho.handler = handle;
	if (srv_http_start(&ho, &h)) {
		fprintf(stderr,
		        "skyengine-demo-site: cannot listen on "
		        "127.0.0.1:%d\n",
		        port);
		return 1;
	}
	port = srv_http_port(h);
	if (port_file) {
		char b[32];
		snprintf(b, sizeof b, "%d\n", port);
		skyx_write_file(port_file, b, strlen(b));
	}
	printf("demo-site: http://127.0.0.1:%d/ (serving %s)\n", port, root);
	fflush(stdout);
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop_flag)
		pause();
	srv_http_stop(h);
	json_decref(received);
	free(rel);
	return 0;
}
