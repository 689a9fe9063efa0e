/* The corpus server: serves tests/sites/<name>/, records what each site
 * receives, runs the declared server-side behaviours, and grades. */
#include "sites.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"
#include "util/hash.h"
#include <skyx/str.h>

#define COOKIE_NAME "skysite_session"

struct site {
	char *name;
	char *dir;
	json_t *task;
	json_t *routes;   /* array, maybe empty */
	json_t *requests; /* array, under s->lock */
	json_t *sessions; /* token -> {"verified": bool}, under s->lock */
};

struct skytest_sites {
	skytest_httpd *httpd;
	pthread_mutex_t lock;
	struct site *sites;
	size_t n;
	long seq;
};

/* ---- small helpers ---------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* URL-decode n bytes (form encoding: '+' is a space); malloc'd. */
static char *url_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n &&
		           hexval((unsigned char)s[i + 1]) >= 0 &&
		           hexval((unsigned char)s[i + 2]) >= 0) {
			*o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 +
			              hexval((unsigned char)s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Add name=value to obj; a repeated name turns into an array. */
static void add_value(json_t *obj, const char *name, json_t *value)
{
	json_t *old = json_object_get(obj, name);
	if (!old) {
		json_object_set_new(obj, name, value);
	} else if (json_is_array(old)) {
		json_array_append_new(old, value);
	} else {
		json_t *arr = json_array();
		json_array_append(arr, old);
		json_array_append_new(arr, value);
		json_object_set_new(obj, name, arr);
	}
}

static void parse_urlencoded(json_t *obj, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(s + i, '=', j - i);
			size_t kl = eq ? (size_t)(eq - (s + i)) : j - i;
			char *k = url_decode(s + i, kl);
			char *v =
			    eq ? url_decode(eq + 1, (size_t)(s + j - eq - 1))
			       : strdup("");
			add_value(obj, k, json_string(v));
			free(k);
			free(v);
		}
		i = j + 1;
	}
}

/* Value of `attr="..."` in a Content-Disposition line; malloc'd. */
static char *disp_param(const char *line, size_t n, const char *attr)
{
	size_t al = strlen(attr);
	for (size_t i = 0; i + al + 2 <= n; i++) {
		if ((i == 0 || line[i - 1] == ' ' || line[i - 1] == ';') &&
		    !strncasecmp(line + i, attr, al) && line[i + al] == '=') {
			const char *v = line + i + al + 1;
			const char *end = line + n;
			if (*v == '"') {
				const char *q =
				    memchr(v + 1, '"', (size_t)(end - v - 1));
				return q ? strndup(v + 1, (size_t)(q - v - 1))
				         : NULL;
			}
			const char *sc = memchr(v, ';', (size_t)(end - v));
			return strndup(v, (size_t)((sc ? sc : end) - v));
		}
	}
	return NULL;
}

/* Header value inside a multipart part head; malloc'd. */
static char *part_header(const char *head, size_t n, const char *name)
{
	size_t nl = strlen(name);
	const char *p = head, *end = head + n;
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) &&
		    p[nl] == ':') {
			const char *v = p + nl + 1;
			while (v < eol && *v == ' ')
				v++;
			return strndup(v, (size_t)(eol - v));
		}
		p = eol + 2;
	}
	return NULL;
}

static void parse_multipart(json_t *fields, json_t *files, const char *ctype,
                            const char *body, size_t n)
{
	char *b = disp_param(ctype, strlen(ctype), "boundary");
	if (!b)
		return;
	char *delim = skyx_asprintf("--%s", b);
	size_t dl = strlen(delim);
	const char *p = memmem(body, n, delim, dl);
	const char *end = body + n;
	while (p && p + dl < end) {
		p += dl;
		if (p + 2 <= end && !memcmp(p, "--", 2))
			break;
		if (p + 2 <= end && !memcmp(p, "\r\n", 2))
			p += 2;
		const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend)
			break;
		const char *data = hend + 4;
		const char *next =
		    memmem(data, (size_t)(end - data), delim, dl);
		if (!next)
			break;
		size_t len = (size_t)(next - data);
		if (len >= 2 && !memcmp(next - 2, "\r\n", 2))
			len -= 2;
		char *disp =
		    part_header(p, (size_t)(hend - p), "Content-Disposition");
		char *name =
		    disp ? disp_param(disp, strlen(disp), "name") : NULL;
		char *fname =
		    disp ? disp_param(disp, strlen(disp), "filename") : NULL;
		if (name && fname) {
			char *pct =
			    part_header(p, (size_t)(hend - p), "Content-Type");
			if (*fname) /* an empty file input sends filename="" */
				add_value(
				    files, name,
				    json_pack("{s:s, s:I, s:s}", "filename",
				              fname, "size", (json_int_t)len,
				              "content_type", pct ? pct : ""));
			free(pct);
		} else if (name) {
			char *v = strndup(data, len);
			add_value(fields, name, json_string(v ? v : ""));
			free(v);
		}
		free(disp);
		free(name);
		free(fname);
		p = next;
	}
	free(delim);
	free(b);
}

/* JSON bodies: top-level members become fields (non-strings as JSON). */
static void parse_json_body(json_t *fields, const char *body, size_t n)
{
	json_t *v = json_loadb(body, n, 0, NULL);
	const char *k;
	json_t *m;
	if (!json_is_object(v)) {
		json_decref(v);
		return;
	}
	json_object_foreach (v, k, m) {
		if (json_is_string(m)) {
			json_object_set(fields, k, m);
		} else {
			char *t = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY);
			json_object_set_new(fields, k, json_string(t ? t : ""));
			free(t);
		}
	}
	json_decref(v);
}

/* The session token from the Cookie header, malloc'd or NULL. */
static char *session_cookie(const skytest_req *req)
{
	const char *c = skytest_req_header(req, "cookie");
	size_t nl = strlen(COOKIE_NAME);
	while (c && *c) {
		while (*c == ' ' || *c == ';')
			c++;
		const char *sc = strchr(c, ';');
		size_t len = sc ? (size_t)(sc - c) : strlen(c);
		if (len > nl && !strncmp(c, COOKIE_NAME, nl) && c[nl] == '=')
			return strndup(c + nl + 1, len - nl - 1);
		c = sc;
	}
	return NULL;
}

json_t *skytest_sites_form_fields(const char *body)
{
	json_t *f = json_object();
	if (body)
		parse_urlencoded(f, body, strlen(body));
	return f;
}

/* ---- TOTP --------------------------------------------------------------- */

int skytest_sites_totp(const char *secret_base32, int64_t unix_time,
                       char out[7])
{
	size_t klen = 0;
	unsigned char *key = skyx_base32_decode(secret_base32, &klen);
	unsigned char msg[8], mac[64];
	uint64_t counter = (uint64_t)(unix_time / 30);
	if (!key)
		return -1;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	int ml = skyx_hmac("sha1", key, klen, msg, sizeof msg, mac);
	free(key);
	if (ml < 20)
		return -1;
	int off = mac[ml - 1] & 0x0f;
	uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) |
	               ((uint32_t)mac[off + 1] << 16) |
	               ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	snprintf(out, 7, "%06u", bin % 1000000u);
	return 0;
}

/* ---- serving ------------------------------------------------------------ */

static struct site *find_site(const skytest_sites *s, const char *name,
                              size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->sites[i].name) == len &&
		    !strncmp(s->sites[i].name, name, len))
			return &s->sites[i];
	return NULL;
}

static void redirect(skytest_resp *resp, const struct site *site,
                     const char *to)
{
	char *loc = skyx_asprintf("/%s/%s", site->name, to);
	resp->status = 303;
	skytest_resp_header(resp, "Location", loc);
	skytest_resp_text(resp, 303, "text/plain", "See other");
	free(loc);
}

/* Serve a file of the site; 0 when it does not exist or is private. */
static int serve_file(skytest_resp *resp, const struct site *site,
                      const char *rel)
{
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	if (!strcmp(base, "task.json") || !strcmp(base, "server.json") ||
	    !strncmp(base, "snapshot", 8))
		return 0;
	return skytest_resp_file(resp, site->dir, rel);
}

static int fields_match(const json_t *want, const json_t *got)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)want, k, v) {
		json_t *g = json_object_get(got, k);
		if (!g || !json_is_string(g) || !json_is_string(v) ||
		    strcmp(json_string_value(g), json_string_value(v)))
			return 0;
	}
	return 1;
}

static void serve_totp(skytest_sites *s, struct site *site, const json_t *cfg,
                       const json_t *fields, const char *token,
                       skytest_resp *resp)
{
	const char *field = json_string_value(json_object_get(cfg, "field"));
	const char *secret =
	    json_string_value(json_object_get(cfg, "secret_base32"));
	const char *code =
	    json_string_value(json_object_get(fields, field ? field : "otp"));
	int ok = 0;
	int64_t now = (int64_t)time(NULL);
	for (int d = -1; d <= 1 && code && secret && !ok; d++) {
		char want[7];
		if (!skytest_sites_totp(secret, now + d * 30, want))
			ok = !strcmp(want, code);
	}
	if (ok && token) {
		pthread_mutex_lock(&s->lock);
		json_t *sess = json_object_get(site->sessions, token);
		if (sess)
			json_object_set_new(sess, "verified", json_true());
		pthread_mutex_unlock(&s->lock);
	}
	const char *to = json_string_value(
	    json_object_get(cfg, ok ? "redirect" : "failure_redirect"));
	redirect(resp, site, to ? to : "");
}

static void serve_login(skytest_sites *s, struct site *site, const json_t *cfg,
                        const json_t *fields, skytest_resp *resp)
{
	int ok = fields_match(json_object_get(cfg, "fields"), fields);
	const char *to = json_string_value(
	    json_object_get(cfg, ok ? "redirect" : "failure_redirect"));
	redirect(resp, site, to ? to : "");
	if (!ok)
		return;
	char *token = skyx_random_hex(16);
	int pending = json_is_true(json_object_get(cfg, "pending"));
	pthread_mutex_lock(&s->lock);
	json_object_set_new(site->sessions, token,
	                    json_pack("{s:b}", "verified", !pending));
	pthread_mutex_unlock(&s->lock);
	char *cookie = skyx_asprintf("%s=%s; Path=/%s/; HttpOnly", COOKIE_NAME,
	                             token, site->name);
	skytest_resp_header(resp, "Set-Cookie", cookie);
	free(cookie);
	free(token);
}

static void serve_download(const struct site *site, const json_t *cfg,
                           skytest_resp *resp)
{
	const char *file = json_string_value(json_object_get(cfg, "file"));
	const char *fname = json_string_value(json_object_get(cfg, "filename"));
	const char *ct =
	    json_string_value(json_object_get(cfg, "content_type"));
	if (!file || !skytest_resp_file(resp, site->dir, file)) {
		skytest_resp_text(resp, 404, "text/plain", "no such file");
		return;
	}
	free(resp->content_type);
	resp->content_type = strdup(ct ? ct : "application/octet-stream");
	char *d =
	    skyx_asprintf("attachment; filename=\"%s\"", fname ? fname : file);
	skytest_resp_header(resp, "Content-Disposition", d);
	free(d);
}

/* Trimmed, case-insensitive equality (contains: substring). */
static int query_value_ok(const char *want, const char *got, int contains)
{
	while (*got == ' ')
		got++;
	size_t gl = strlen(got), wl = strlen(want);
	while (gl && got[gl - 1] == ' ')
		gl--;
	if (!contains)
		return gl == wl && !strncasecmp(want, got, wl);
	for (size_t i = 0; i + wl <= gl; i++)
		if (!strncasecmp(got + i, want, wl))
			return 1;
	return 0;
}

/* Does the request's query hold every value a route's "query" (equal)
 * and "query_contains" (substring) ask for? A missing parameter reads as
 * "". */
static int route_query_ok(const json_t *route, const char *query)
{
	json_t *q = json_object();
	const char *k;
	json_t *v;
	int ok = 1;
	parse_urlencoded(q, query, strlen(query));
	for (int contains = 0; contains <= 1 && ok; contains++) {
		json_object_foreach (
		    json_object_get(route,
		                    contains ? "query_contains" : "query"),
		    k, v) {
			json_t *g = json_object_get(q, k);
			if (json_is_array(g))
				g = json_array_get(g, 0);
			const char *w = json_string_value(v);
			const char *gs = g ? json_string_value(g) : "";
			if (!w || !query_value_ok(w, gs ? gs : "", contains)) {
				ok = 0;
				break;
			}
		}
	}
	json_decref(q);
	return ok;
}

/* Run the first route matching method and path; 1 when it answered. */
static int run_route(skytest_sites *s, struct site *site,
                     const skytest_req *req, const char *rel,
                     const json_t *fields, const char *token, int logged_in,
                     int verified, skytest_resp *resp)
{
	size_t i;
	json_t *r;
	json_array_foreach (site->routes, i, r) {
		const char *m = json_string_value(json_object_get(r, "method"));
		const char *p = json_string_value(json_object_get(r, "path"));
		const char *to;
		json_t *cfg;
		if ((m && strcasecmp(m, req->method)) || !p || strcmp(p, rel) ||
		    !route_query_ok(r, req->query))
			continue;
		if ((to = json_string_value(
		         json_object_get(r, "require_login"))) &&
		    !logged_in) {
			redirect(resp, site, to);
			return 1;
		}
		if ((to = json_string_value(
		         json_object_get(r, "require_verified"))) &&
		    !verified) {
			redirect(resp, site, to);
			return 1;
		}
		if ((cfg = json_object_get(r, "login"))) {
			serve_login(s, site, cfg, fields, resp);
			return 1;
		}
		if ((cfg = json_object_get(r, "totp"))) {
			serve_totp(s, site, cfg, fields, token, resp);
			return 1;
		}
		if ((cfg = json_object_get(r, "download"))) {
			serve_download(site, cfg, resp);
			return 1;
		}
		int status =
		    (int)json_integer_value(json_object_get(r, "status"));
		if ((cfg = json_object_get(r, "json"))) {
			char *t =
			    json_dumps(cfg, JSON_COMPACT | JSON_ENCODE_ANY);
			skytest_resp_text(resp, status ? status : 200,
			                  "application/json", t);
			free(t);
			return 1;
		}
		if ((to = json_string_value(json_object_get(r, "respond")))) {
			if (!serve_file(resp, site, to))
				skytest_resp_text(resp, 500, "text/plain",
				                  "route file missing");
			else if (status)
				resp->status = status;
			return 1;
		}
		if ((to = json_string_value(json_object_get(r, "redirect")))) {
			redirect(resp, site, to);
			return 1;
		}
		if (status) {
			skytest_resp_text(resp, status, "text/plain", "");
			return 1;
		}
		return 0; /* only guards: fall through to the file */
	}
	return 0;
}

static json_t *record(skytest_sites *s, struct site *site,
                      const skytest_req *req, const char *rel,
                      const char *token, int *logged_in, int *verified)
{
	json_t *q = json_object(), *fields = json_object(),
	       *files = json_object();
	const char *ct = skytest_req_header(req, "content-type");
	parse_urlencoded(q, req->query, strlen(req->query));
	if (req->body_len && ct) {
		if (!strncasecmp(ct, "application/x-www-form-urlencoded", 33))
			parse_urlencoded(fields, req->body, req->body_len);
		else if (!strncasecmp(ct, "multipart/form-data", 19))
			parse_multipart(fields, files, ct, req->body,
			                req->body_len);
		else if (!strncasecmp(ct, "application/json", 16))
			parse_json_body(fields, req->body, req->body_len);
	}
	pthread_mutex_lock(&s->lock);
	json_t *sess = token ? json_object_get(site->sessions, token) : NULL;
	*logged_in = sess != NULL;
	*verified = sess && json_is_true(json_object_get(sess, "verified"));
	json_t *rec =
	    json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:b, s:b}", "seq",
	              (json_int_t)s->seq++, "method", req->method, "path", rel,
	              "query", q, "fields", fields, "files", files, "logged_in",
	              *logged_in, "verified", *verified);
	json_array_append(site->requests, rec);
	pthread_mutex_unlock(&s->lock);
	return rec;
}

static void handle(const skytest_req *req, skytest_resp *resp, void *ud)
{
	skytest_sites *s = ud;
	const char *p = req->path + (req->path[0] == '/');
	const char *slash = strchr(p, '/');
	struct site *site =
	    find_site(s, p, slash ? (size_t)(slash - p) : strlen(p));
	if (!site) {
		skytest_resp_text(resp, 404, "text/plain", "no such site");
		return;
	}
	if (!slash) { /* "/name" -> "/name/" so relative links resolve */
		redirect(resp, site, "");
		return;
	}
	char *rel = url_decode(slash, strlen(slash));
	char *token = session_cookie(req);
	int logged_in = 0, verified = 0;
	json_t *rec = record(s, site, req, rel, token, &logged_in, &verified);
	json_t *fields = json_object_get(rec, "fields");

	if (!run_route(s, site, req, rel, fields, token, logged_in, verified,
	               resp)) {
		const char *file = strcmp(rel, "/") ? rel : "/index.html";
		if ((!strcmp(req->method, "GET") ||
		     !strcmp(req->method, "HEAD") ||
		     !strcmp(req->method, "POST")) &&
		    serve_file(resp, site, file)) {
			if (!strcmp(req->method, "HEAD"))
				resp->body_len = 0;
		} else {
			skytest_resp_text(resp, 404, "text/html",
			                  "<h1>Not found</h1>");
		}
	}
	json_decref(rec);
	free(token);
	free(rel);
}

/* ---- corpus loading ----------------------------------------------------- */

static int cmp_site(const void *a, const void *b)
{
	return strcmp(((const struct site *)a)->name,
	              ((const struct site *)b)->name);
}

static char *check_site(struct site *site)
{
	json_t *t = site->task;
	size_t i;
	json_t *r;
	if (!json_is_string(json_object_get(t, "goal")) ||
	    !json_is_string(json_object_get(t, "url")) ||
	    !json_is_object(json_object_get(t, "expect")))
		return skyx_asprintf("%s/task.json: needs \"goal\", \"url\" "
		                     "(strings) and \"expect\" (object)",
		                     site->name);
	if (!json_is_array(site->routes))
		return skyx_asprintf("%s/server.json: \"routes\" must be an "
		                     "array",
		                     site->name);
	json_array_foreach (site->routes, i, r) {
		const char *p = json_string_value(json_object_get(r, "path"));
		if (!p || p[0] != '/')
			return skyx_asprintf("%s/server.json: route %zu needs "
			                     "a \"path\" starting with '/'",
			                     site->name, i);
	}
	return NULL;
}

static char *load_site(struct site *site, const char *root, const char *name)
{
	json_error_t je;
	site->name = strdup(name);
	site->dir = skyx_asprintf("%s/%s", root, name);
	char *tp = skyx_asprintf("%s/task.json", site->dir);
	char *sp = skyx_asprintf("%s/server.json", site->dir);
	char *err = NULL;
	site->requests = json_array();
	site->sessions = json_object();
	site->task = json_load_file(tp, 0, &je);
	if (!site->task) {
		err = skyx_asprintf("%s: %s (line %d)", tp, je.text, je.line);
		goto out;
	}
	if (access(sp, F_OK) == 0) {
		json_t *srv = json_load_file(sp, 0, &je);
		if (!srv) {
			err = skyx_asprintf("%s: %s (line %d)", sp, je.text,
			                    je.line);
			goto out;
		}
		site->routes = json_incref(json_object_get(srv, "routes"));
		json_decref(srv);
	} else {
		site->routes = json_array();
	}
	err = check_site(site);
out:
	free(tp);
	free(sp);
	return err;
}

static void free_site(struct site *site)
{
	free(site->name);
	free(site->dir);
	json_decref(site->task);
	json_decref(site->routes);
	json_decref(site->requests);
	json_decref(site->sessions);
}

skytest_sites *skytest_sites_start(const char *root, char **err)
{
	skytest_sites *s = calloc(1, sizeof *s);
	char *absroot = realpath(root, NULL);
	DIR *d = absroot ? opendir(absroot) : NULL;
	struct dirent *e;
	*err = NULL;
	if (!d) {
		*err = skyx_asprintf("cannot open corpus %s: %s", root,
		                     strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&s->lock, NULL);
	while ((e = readdir(d)) && !*err) {
		char *tp;
		if (e->d_name[0] == '.')
			continue;
		tp = skyx_asprintf("%s/%s/task.json", absroot, e->d_name);
		int has = access(tp, F_OK) == 0;
		free(tp);
		if (!has)
			continue;
		s->sites = realloc(s->sites, (s->n + 1) * sizeof *s->sites);
		memset(&s->sites[s->n], 0, sizeof *s->sites);
		*err = load_site(&s->sites[s->n], absroot, e->d_name);
		s->n++;
	}
	closedir(d);
	if (*err)
		goto fail;
	qsort(s->sites, s->n, sizeof *s->sites, cmp_site);
	s->httpd = skytest_httpd_start(handle, s);
	if (!s->httpd) {
		*err = strdup("cannot start the HTTP server");
		goto fail;
	}
	free(absroot);
	return s;
fail:
	free(absroot);
	skytest_sites_stop(s);
	return NULL;
}

void skytest_sites_stop(skytest_sites *s)
{
	if (!s)
		return;
	skytest_httpd_stop(s->httpd);
	for (size_t i = 0; i < s->n; i++)
		free_site(&s->sites[i]);
	free(s->sites);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *skytest_sites_base(const skytest_sites *s)
{
	return skytest_httpd_url(s->httpd);
}

size_t skytest_sites_count(const skytest_sites *s)
{
	return s->n;
}

const char *skytest_sites_name(const skytest_sites *s, size_t i)
{
	return i < s->n ? s->sites[i].name : NULL;
}

const char *skytest_sites_dir(const skytest_sites *s, const char *name)
{
	struct site *site = find_site(s, name, strlen(name));
	return site ? site->dir : NULL;
}

static char *replace_all(const char *in, const char *what, const char *with)
{
	skyx_buf b = {0};
	size_t wl = strlen(what);
	const char *p = in, *hit;
	while ((hit = strstr(p, what))) {
		skyx_buf_append(&b, p, (size_t)(hit - p));
		skyx_buf_puts(&b, with);
		p = hit + wl;
	}
	skyx_buf_puts(&b, p);
	return skyx_buf_steal(&b);
}

static json_t *substitute(const json_t *v, const char *dir, const char *base)
{
	if (json_is_string(v)) {
		char *a =
		    replace_all(json_string_value(v), "{{site_dir}}", dir);
		char *b = replace_all(a, "{{base_url}}", base);
		json_t *out = json_string(b);
		free(a);
		free(b);
		return out;
	}
	if (json_is_object(v)) {
		json_t *out = json_object();
		const char *k;
		json_t *m;
		json_object_foreach ((json_t *)v, k, m)
			json_object_set_new(out, k, substitute(m, dir, base));
		return out;
	}
	if (json_is_array(v)) {
		json_t *out = json_array();
		size_t i;
		json_t *m;
		json_array_foreach (v, i, m)
			json_array_append_new(out, substitute(m, dir, base));
		return out;
	}
	return json_deep_copy(v);
}

json_t *skytest_sites_task(const skytest_sites *s, const char *name)
{
	struct site *site = find_site(s, name, strlen(name));
	if (!site)
		return NULL;
	char *base = skyx_asprintf("%s/%s/", skytest_sites_base(s), name);
	json_t *t = substitute(site->task, site->dir, base);
	const char *url = json_string_value(json_object_get(t, "url"));
	if (url && !strstr(url, "://")) {
		char *abs = skyx_asprintf("%s%s", base, url);
		json_object_set_new(t, "url", json_string(abs));
		free(abs);
	}
	free(base);
	return t;
}

json_t *skytest_sites_requests(skytest_sites *s, const char *name)
{
	struct site *site = find_site(s, name, strlen(name));
	if (!site)
		return NULL;
	pthread_mutex_lock(&s->lock);
	json_t *copy = json_deep_copy(site->requests);
	pthread_mutex_unlock(&s->lock);
	return copy;
}

void skytest_sites_reset(skytest_sites *s, const char *name)
{
	struct site *site = find_site(s, name, strlen(name));
	if (!site)
		return;
	pthread_mutex_lock(&s->lock);
	json_array_clear(site->requests);
	json_object_clear(site->sessions);
	pthread_mutex_unlock(&s->lock);
}

/* ---- grading ------------------------------------------------------------ */

static int ci_contains(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);
	for (; hay && *hay; hay++)
		if (!strncasecmp(hay, needle, nl))
			return 1;
	return nl == 0;
}

/* Deep equality where numbers compare by value (1 == 1.0). */
static int json_same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return fabs(json_number_value(a) - json_number_value(b)) < 1e-9;
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *v;
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach ((json_t *)a, k, v)
			if (!json_same(v, json_object_get(b, k)))
				return 0;
		return 1;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!json_same(json_array_get(a, i),
			               json_array_get(b, i)))
				return 0;
		return 1;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

static char *dump(const json_t *v)
{
	char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	return t ? t : strdup("null");
}

/* Does a recorded value equal an expected one (string, or array as a
 * set of strings)? */
static int value_matches(const json_t *want, const json_t *got)
{
	json_t *parts = json_object_get(want, "contains");
	if (json_is_object(want) && json_is_array(parts)) {
		size_t i;
		json_t *w;
		if (!json_is_string(got))
			return 0;
		json_array_foreach (parts, i, w)
			if (!json_is_string(w) ||
			    !ci_contains(json_string_value(got),
			                 json_string_value(w)))
				return 0;
		return 1;
	}
	if (json_is_string(want))
		return json_is_string(got) &&
		       !strcmp(json_string_value(want), json_string_value(got));
	if (json_is_array(want)) {
		size_t i;
		json_t *w;
		if (!json_is_array(got) ||
		    json_array_size(got) != json_array_size(want)) {
			/* one expected value may arrive as a plain string */
			return json_array_size(want) == 1 &&
			       value_matches(json_array_get(want, 0), got);
		}
		json_array_foreach (want, i, w) {
			int found = 0;
			for (size_t j = 0; j < json_array_size(got) && !found;
			     j++)
				found =
				    value_matches(w, json_array_get(got, j));
			if (!found)
				return 0;
		}
		return 1;
	}
	return json_same(want, got);
}

/* Why a recorded request does not satisfy an expected one; NULL when it
 * does. */
static char *request_mismatch(const json_t *want, const json_t *got)
{
	const char *k;
	json_t *v;
	size_t i;
	json_t *files = json_object_get(want, "files");
	json_object_foreach (json_object_get(want, "query"), k, v) {
		json_t *g = json_object_get(json_object_get(got, "query"), k);
		if (!value_matches(v, g)) {
			char *a = dump(v), *b = dump(g), *m;
			m = skyx_asprintf("query %s was %s, expected %s", k, b,
			                  a);
			free(a);
			free(b);
			return m;
		}
	}
	json_object_foreach (json_object_get(want, "fields"), k, v) {
		json_t *g = json_object_get(json_object_get(got, "fields"), k);
		if (!value_matches(v, g)) {
			char *a = dump(v), *b = g ? dump(g) : strdup("missing");
			char *m = skyx_asprintf("field %s was %s, expected %s",
			                        k, b, a);
			free(a);
			free(b);
			return m;
		}
	}
	json_array_foreach (json_object_get(want, "absent_fields"), i, v) {
		const char *name = json_string_value(v);
		if (name &&
		    json_object_get(json_object_get(got, "fields"), name))
			return skyx_asprintf("field %s was sent but should not "
			                     "have been",
			                     name);
	}
	json_object_foreach (files, k, v) {
		json_t *g = json_object_get(json_object_get(got, "files"), k);
		const char *fn =
		    json_string_value(json_object_get(v, "filename"));
		json_t *size = json_object_get(v, "size");
		if (!g)
			return skyx_asprintf("no file was uploaded as %s", k);
		const char *gfn =
		    json_string_value(json_object_get(g, "filename"));
		if (fn && (!gfn || strcmp(fn, gfn)))
			return skyx_asprintf(
			    "file %s was named %s, expected %s", k,
			    gfn ? gfn : "(none)", fn);
		if (size && !json_same(size, json_object_get(g, "size")))
			return skyx_asprintf(
			    "file %s had %lld bytes, expected "
			    "%lld",
			    k,
			    (long long)json_integer_value(
			        json_object_get(g, "size")),
			    (long long)json_integer_value(size));
	}
	if (json_is_true(json_object_get(want, "logged_in")) &&
	    !json_is_true(json_object_get(got, "logged_in")))
		return strdup("it was sent without a login session");
	return NULL;
}

static int route_matches(const json_t *want, const json_t *got)
{
	const char *m = json_string_value(json_object_get(want, "method"));
	const char *p = json_string_value(json_object_get(want, "path"));
	const char *gm = json_string_value(json_object_get(got, "method"));
	const char *gp = json_string_value(json_object_get(got, "path"));
	return (!m || (gm && !strcasecmp(m, gm))) &&
	       (!p || (gp && !strcmp(p, gp)));
}

static char *seen_summary(const json_t *requests)
{
	skyx_buf b = {0};
	size_t i;
	json_t *r;
	json_array_foreach (requests, i, r) {
		const char *p = json_string_value(json_object_get(r, "path"));
		size_t pl = strlen(p);
		if (pl > 4 &&
		    (!strcmp(p + pl - 4, ".css") ||
		     !strcmp(p + pl - 3, ".js") || !strcmp(p + pl - 4, ".ico")))
			continue;
		skyx_buf_printf(&b, "%s%s %s", b.len ? ", " : "",
		                json_string_value(json_object_get(r, "method")),
		                p);
	}
	if (!b.len)
		skyx_buf_puts(&b, "nothing");
	return skyx_buf_steal(&b);
}

static char *check_requests(const json_t *expect, const json_t *requests)
{
	size_t i, from = 0;
	json_t *want;
	json_array_foreach (json_object_get(expect, "requests"), i, want) {
		char *near = NULL;
		size_t j, hit = (size_t)-1;
		for (j = from; j < json_array_size(requests); j++) {
			json_t *got = json_array_get(requests, j);
			char *why;
			if (!route_matches(want, got))
				continue;
			why = request_mismatch(want, got);
			if (!why) {
				hit = j;
				break;
			}
			free(near);
			near = why;
		}
		const char *m =
		    json_string_value(json_object_get(want, "method"));
		const char *p =
		    json_string_value(json_object_get(want, "path"));
		if (hit != (size_t)-1) {
			free(near);
			from = hit + 1;
			continue;
		}
		char *seen = seen_summary(requests), *msg;
		if (near)
			msg = skyx_asprintf("%s %s was received but %s",
			                    m ? m : "*", p ? p : "*", near);
		else
			msg = skyx_asprintf("no %s %s was received%s (saw: %s)",
			                    m ? m : "request to", p ? p : "*",
			                    i ? " after the previous expected "
			                        "request"
			                      : "",
			                    seen);
		free(near);
		free(seen);
		return msg;
	}
	json_array_foreach (json_object_get(expect, "no_requests"), i, want) {
		json_t *got;
		size_t j;
		json_array_foreach (requests, j, got)
			if (route_matches(want, got))
				return skyx_asprintf(
				    "unexpected %s %s was "
				    "received",
				    json_string_value(
				        json_object_get(got, "method")),
				    json_string_value(
				        json_object_get(got, "path")));
	}
	return NULL;
}

static char *check_outcome(const json_t *expect, const json_t *outcome)
{
	const char *want = json_string_value(json_object_get(expect, "status"));
	const char *status =
	    json_string_value(json_object_get(outcome, "status"));
	const char *reason =
	    json_string_value(json_object_get(outcome, "failure_reason"));
	json_t *v;
	size_t i;
	if (want && (!status || strcmp(want, status)))
		return skyx_asprintf("the run ended %s (%s), expected %s",
		                     status ? status : "without a status",
		                     reason ? reason : "no reason", want);
	json_array_foreach (json_object_get(expect, "reason_contains"), i, v)
		if (!ci_contains(reason, json_string_value(v)))
			return skyx_asprintf("the failure "
			                     "reason \"%s\" "
			                     "does not "
			                     "mention \"%s\"",
			                     reason ? reason : "",
			                     json_string_value(v));
	json_array_foreach (json_object_get(expect, "errors"), i, v) {
		json_t *e;
		size_t j;
		int found = 0;
		json_array_foreach (json_object_get(outcome, "errors"), j, e) {
			const char *code =
			    json_string_value(json_object_get(e, "error_code"));
			found |= json_is_string(v) && code &&
			         !strcmp(json_string_value(v), code);
		}
		if (!found) {
			char *got = dump(json_object_get(outcome, "errors"));
			char *m =
			    skyx_asprintf("error code %s was not surfaced "
			                  "(errors: %s)",
			                  json_string_value(v), got);
			free(got);
			return m;
		}
	}
	if ((v = json_object_get(expect, "output")) &&
	    !json_same(v, json_object_get(outcome, "output"))) {
		char *a = dump(v),
		     *b = dump(json_object_get(outcome, "output"));
		char *m = skyx_asprintf("the output was %s, expected %s", b, a);
		free(a);
		free(b);
		return m;
	}
	return NULL;
}

int skytest_sites_grade_expect(const json_t *expect, const json_t *requests,
                               const json_t *outcome, char **why)
{
	char *fail;
	if (!json_is_object(expect)) {
		*why = strdup("no expectation to grade");
		return 0;
	}
	fail = check_requests(expect, requests);
	if (!fail)
		fail = check_outcome(expect, outcome);
	if (fail) {
		*why = fail;
		return 0;
	}
	*why =
	    skyx_asprintf("passed (%zu expected requests, %zu received)",
	                  json_array_size(json_object_get(expect, "requests")),
	                  json_array_size(requests));
	return 1;
}

int skytest_sites_grade(skytest_sites *s, const char *name,
                        const json_t *outcome, char **why)
{
	struct site *site = find_site(s, name, strlen(name));
	if (!site) {
		*why = skyx_asprintf("unknown site %s", name);
		return -1;
	}
	json_t *reqs = skytest_sites_requests(s, name);
	int r = skytest_sites_grade_expect(
	    json_object_get(site->task, "expect"), reqs, outcome, why);
	json_decref(reqs);
	return r;
}

/* ---- a small HTTP client ------------------------------------------------ */

int skytest_http(const char *method, const char *url, const char *headers,
                 const char *body, size_t body_len, skytest_http_resp *out)
{
	char host[256];
	int port = 80;
	const char *path;
	skyx_buf req = {0}, in = {0};
	int fd = -1, rc = -1;
	struct sockaddr_in a = {0};
	memset(out, 0, sizeof *out);
	if (strncmp(url, "http://", 7))
		return -1;
	const char *h = url + 7;
	path = strchr(h, '/');
	if (!path)
		path = "/";
	size_t hl = (size_t)(path - h);
	if (hl >= sizeof host)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *colon = strchr(host, ':');
	if (colon) {
		*colon = '\0';
		port = atoi(colon + 1);
	}
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a))
		goto out;
	skyx_buf_printf(&req,
	                "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
	                "Content-Length: %zu\r\n%s\r\n",
	                method, path, host, port, body_len,
	                headers ? headers : "");
	if (body_len)
		skyx_buf_append(&req, body, body_len);
	for (size_t off = 0; off < req.len;) {
		ssize_t w =
		    send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	for (;;) {
		char chunk[8192];
		struct pollfd pfd = {fd, POLLIN, 0};
		if (poll(&pfd, 1, 10000) <= 0)
			goto out;
		ssize_t r = recv(fd, chunk, sizeof chunk, 0);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		skyx_buf_append(&in, chunk, (size_t)r);
	}
	if (!in.data)
		goto out;
	char *hend = memmem(in.data, in.len, "\r\n\r\n", 4);
	if (!hend || sscanf(in.data, "HTTP/1.%*d %d", &out->status) != 1)
		goto out;
	char *first = strstr(in.data, "\r\n");
	out->headers = strndup(first + 2, (size_t)(hend + 2 - first - 2));
	out->body_len = in.len - (size_t)(hend + 4 - in.data);
	out->body = malloc(out->body_len + 1);
	memcpy(out->body, hend + 4, out->body_len);
	out->body[out->body_len] = '\0';
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	skyx_buf_free(&req);
	skyx_buf_free(&in);
	if (rc)
		skytest_http_resp_free(out);
	return rc;
}

void skytest_http_resp_free(skytest_http_resp *r)
{
	if (!r)
		return;
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof *r);
}

char *skytest_http_header(const skytest_http_resp *r, const char *name)
{
	size_t nl = strlen(name);
	const char *p = r->headers;
	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			eol = p + strlen(p);
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) &&
		    p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			return strndup(v, (size_t)(eol - v));
		}
		p = *eol ? eol + 2 : eol;
	}
	return NULL;
}

int skytest_sites_selected(const char *list, const char *name)
{
	if (!list || !*list)
		return 1;
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == n && !strncmp(p, name, n))
			return 1;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

char *skytest_sites_request(const json_t *task, const char *engine)
{
	if (!engine || !*engine)
		engine = json_string_value(json_object_get(task, "engine"));
	json_t *req = json_pack(
	    "{s:s?, s:s?, s:s, s:s}", "prompt",
	    json_string_value(json_object_get(task, "goal")), "url",
	    json_string_value(json_object_get(task, "url")), "engine",
	    engine ? engine : "skyvern-1.0", "proxy_location", "NONE");
	static const char *const copy[] = {
	    "max_steps", "data_extraction_schema", "navigation_payload",
	    "error_code_mapping", NULL};
	for (int i = 0; req && copy[i]; i++) {
		json_t *v = json_object_get(task, copy[i]);
		if (v)
			json_object_set(req, copy[i], v);
	}
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	return text;
}
