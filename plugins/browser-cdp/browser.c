/*
 * browser-cdp: one browser (launched over a pipe or reached over a
 * websocket), its contexts and tabs, and the state kept from CDP events.
 * Events arrive on the transport's reader thread and update the state
 * under b->lock; worker threads wait on their context's condvar. The
 * reader never waits for a reply: what it must send (dialog answers,
 * proxy credentials, tab setup) it posts.
 */
#include "cdp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CHROMIUM "/usr/lib/chromium/chromium"

/* --- configuration ------------------------------------------------------ */

static char *find_on_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy = cdp_strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
	char *found = NULL;
	for (char *d = strtok_r(copy, ":", &save); d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char *p = cdp_asprintf("%s/%s", d, name);
		if (p && access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

static char *default_path(void)
{
	static const char *const names[] = {"chromium", "chromium-browser",
	                                    "google-chrome", "chrome"};
	if (access(DEFAULT_CHROMIUM, X_OK) == 0)
		return cdp_strdup(DEFAULT_CHROMIUM);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *p = find_on_path(names[i]);
		if (p)
			return p;
	}
	return cdp_strdup("chromium");
}

/* A config value from the JSON section, else the host's lookup
 * ("browser.<key>", which also reads SKYENGINE_BROWSER_<KEY>). */
static char *config_str(const sky_host_ctx *host, json_t *cfg, const char *key)
{
	const char *v = cdp_jstr(cfg, key);
	if (v && *v)
		return cdp_strdup(v);
	if (cdp_host && cdp_host->config_get) {
		char k[64];
		snprintf(k, sizeof k, "browser.%s", key);
		char *h = cdp_host->config_get(host, k);
		if (h) {
			char *out = cdp_strdup(h);
			cdp_host->free(h);
			if (out && *out)
				return out;
			free(out);
		}
	}
	return NULL;
}

/* A boolean from the JSON section (true/false), else the host's lookup
 * ("0", "false", "off", "no" are off; anything else on). */
static int config_flag(const sky_host_ctx *host, json_t *cfg, const char *key,
                       int dflt)
{
	json_t *v = json_object_get(cfg, key);
	if (json_is_boolean(v))
		return json_is_true(v);
	char *s = json_is_string(v) || !v ? config_str(host, cfg, key) : NULL;
	if (!s)
		return dflt;
	int on = strcmp(s, "0") && strcasecmp(s, "false") &&
	         strcasecmp(s, "off") && strcasecmp(s, "no");
	free(s);
	return on;
}

/* "cdp_connect_headers": {"Name": "value"} for the websocket handshake
 * (and /json/version) of cdp_url. The values may be credentials: no
 * message names them. */
static int connect_headers(cdp_browser *b, json_t *h)
{
	if (!h || json_is_null(h))
		return 0;
	if (!json_is_object(h))
		return cdp_fail(SKY_EINVALID, "browser.cdp_connect_headers "
		                              "must be an object of strings");
	b->connect_headers =
	    calloc(2 * json_object_size(h) + 1, sizeof *b->connect_headers);
	if (!b->connect_headers)
		return cdp_fail(SKY_ENOMEM, "out of memory");
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach (h, k, v) {
		const char *val = json_string_value(v);
		int ok = *k && val && strlen(k) < 200;
		for (const char *c = k; ok && *c; c++)
			ok = *c > 32 && *c < 127 &&
			     !strchr("()<>@,;:\\\"/[]?={}", *c);
		for (const char *c = val; ok && *c; c++)
			ok = *c != '\r' && *c != '\n';
		if (!ok)
			return cdp_fail(
			    SKY_EINVALID,
			    "browser.cdp_connect_headers: \"%.64s\" is "
			    "not a header name with a one-line "
			    "string value",
			    k);
		b->connect_headers[n++] = cdp_strdup(k);
		b->connect_headers[n++] = cdp_strdup(val);
	}
	return 0;
}

int cdp_browser_create(const sky_host_ctx *host, const char *config_json,
                       cdp_browser **out)
{
	json_error_t jerr;
	json_t *cfg = NULL;
	*out = NULL;
	if (config_json && *config_json) {
		cfg = json_loads(config_json, 0, &jerr);
		if (!json_is_object(cfg)) {
			json_decref(cfg);
			return cdp_fail(
			    SKY_EINVALID,
			    "browser config is not a JSON object: %s",
			    jerr.text);
		}
	}
	cdp_browser *b = calloc(1, sizeof *b);
	if (!b) {
		json_decref(cfg);
		return cdp_fail(SKY_ENOMEM, "out of memory");
	}
	b->host = host;
	pthread_mutex_init(&b->launch_lock, NULL);
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->spare_cond, &ca);
	pthread_condattr_destroy(&ca);
	b->spare_on = config_flag(host, cfg, "spare_context", 1);
	b->path = config_str(host, cfg, "path");
	if (!b->path)
		b->path = default_path();
	b->cdp_url = config_str(host, cfg, "cdp_url");
	b->headless = cdp_jbool(cfg, "headless", 1);
	b->call_timeout_ms = (int)cdp_jint(cfg, "call_timeout_ms", 30000);
	if (b->call_timeout_ms <= 0)
		b->call_timeout_ms = 30000;
	b->launch_timeout_ms = (int)cdp_jint(cfg, "launch_timeout_ms", 30000);
	if (b->launch_timeout_ms < b->call_timeout_ms)
		b->launch_timeout_ms = b->call_timeout_ms;
	b->profile_base = config_str(host, cfg, "profile_dir");
	json_t *args = json_object_get(cfg, "args");
	if (args && !json_is_array(args)) {
		json_decref(cfg);
		cdp_browser_destroy(b);
		return cdp_fail(SKY_EINVALID,
		                "browser.args must be an array of strings");
	}
	b->args = calloc(json_array_size(args) + 1, sizeof *b->args);
	size_t i, n = 0;
	json_t *a;
	json_array_foreach (args, i, a) {
		if (json_is_string(a))
			b->args[n++] = cdp_strdup(json_string_value(a));
	}
	int hrc =
	    connect_headers(b, json_object_get(cfg, "cdp_connect_headers"));
	json_decref(cfg);
	if (hrc) {
		cdp_browser_destroy(b);
		return hrc;
	}
	if (b->cdp_url && strncmp(b->cdp_url, "ws://", 5) &&
	    strncmp(b->cdp_url, "wss://", 6) &&
	    strncmp(b->cdp_url, "http://", 7)) {
		int rc = cdp_fail(SKY_EINVALID,
		                  "browser.cdp_url must start with ws://, "
		                  "wss:// or http:// (got \"%s\")",
		                  b->cdp_url);
		cdp_browser_destroy(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* --- sessions and lookups (b->lock held) ---------------------------------- */

static cdp_session *session_find(cdp_browser *b, const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < b->n_sessions; i++)
		if (!strcmp(b->sessions[i]->id, id))
			return b->sessions[i];
	return NULL;
}

static void session_add(cdp_browser *b, const char *id, const char *target,
                        cdp_tab *tab, int is_main)
{
	cdp_session *s = calloc(1, sizeof *s);
	cdp_session **ns =
	    realloc(b->sessions, (b->n_sessions + 1) * sizeof *ns);
	if (!s || !ns) {
		free(s);
		return;
	}
	b->sessions = ns;
	s->id = cdp_strdup(id);
	s->target_id = cdp_strdup(target);
	s->tab = tab;
	s->is_main = is_main;
	b->sessions[b->n_sessions++] = s;
}

static void session_free(cdp_session *s)
{
	free(s->id);
	free(s->target_id);
	free(s);
}

static void sessions_drop_tab(cdp_browser *b, cdp_tab *t)
{
	size_t j = 0;
	for (size_t i = 0; i < b->n_sessions; i++) {
		if (b->sessions[i]->tab == t)
			session_free(b->sessions[i]);
		else
			b->sessions[j++] = b->sessions[i];
	}
	b->n_sessions = j;
}

static cdp_ctx *ctx_find(cdp_browser *b, cdp_conn *c, const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < b->n_ctxs; i++)
		if (b->ctxs[i]->conn == c && b->ctxs[i]->id &&
		    !strcmp(b->ctxs[i]->id, id))
			return b->ctxs[i];
	return NULL;
}

static void world_clear(cdp_world *w)
{
	free(w->frame_id);
	free(w->session);
	free(w->loader_id);
	free(w->prefix);
	free(w->parent_prefix);
	free(w->owner_ref);
	memset(w, 0, sizeof *w);
}

/* Forget the worlds of a frame (its document is gone). */
static void worlds_drop_frame(cdp_tab *t, const char *frame_id)
{
	size_t j = 0;
	t->frame_nav_seq++;
	for (size_t i = 0; i < t->n_worlds; i++) {
		if (!strcmp(t->worlds[i].frame_id, frame_id))
			world_clear(&t->worlds[i]);
		else
			t->worlds[j++] = t->worlds[i];
	}
	t->n_worlds = j;
}

static void tab_free(cdp_tab *t)
{
	if (!t)
		return;
	free(t->target_id);
	free(t->session);
	free(t->main_frame);
	free(t->loader_id);
	free(t->url);
	free(t->status_loader);
	free(t->nav_error);
	json_decref(t->drag_data);
	for (size_t i = 0; i < t->n_reqs; i++) {
		free(t->reqs[i].id);
		free(t->reqs[i].loader);
	}
	free(t->reqs);
	for (size_t i = 0; i < t->n_worlds; i++)
		world_clear(&t->worlds[i]);
	free(t->worlds);
	for (size_t i = 0; i < t->n_prefix; i++)
		free(t->prefix_frames[i]);
	free(t->prefix_frames);
	free(t->next_ids);
	for (size_t i = 0; i < t->n_frames; i++)
		free(t->frames[i]);
	free(t->frames);
	free(t);
}

static void tab_frame_add(cdp_tab *t, const char *id)
{
	if (!id)
		return;
	for (size_t i = 0; i < t->n_frames; i++)
		if (!strcmp(t->frames[i], id))
			return;
	char **nf = realloc(t->frames, (t->n_frames + 1) * sizeof *nf);
	if (!nf)
		return;
	t->frames = nf;
	t->frames[t->n_frames++] = cdp_strdup(id);
}

static void tab_frame_del(cdp_tab *t, const char *id)
{
	for (size_t i = 0; i < t->n_frames; i++) {
		if (!strcmp(t->frames[i], id)) {
			free(t->frames[i]);
			t->frames[i] = t->frames[--t->n_frames];
			return;
		}
	}
}

static cdp_tab *tab_by_frame(cdp_browser *b, cdp_conn *c, const char *fid,
                             cdp_ctx **ctx_out)
{
	for (size_t i = 0; i < b->n_ctxs; i++) {
		cdp_ctx *x = b->ctxs[i];
		if (x->conn != c)
			continue;
		for (size_t k = 0; k < x->n_tabs; k++) {
			cdp_tab *t = x->tabs[k];
			for (size_t f = 0; f < t->n_frames; f++)
				if (!strcmp(t->frames[f], fid)) {
					*ctx_out = x;
					return t;
				}
		}
	}
	return NULL;
}

/* --- tab setup (posted from the reader) ------------------------------------ */

static json_t *auto_attach_params(const char *type)
{
	return json_pack("{s:b,s:b,s:b,s:[{s:s}]}", "autoAttach", 1,
	                 "waitForDebuggerOnStart", 1, "flatten", 1, "filter",
	                 "type", type);
}

/* Commands on one session are handled in order, so a worker's first
 * command on the tab runs after all of these. */
static void setup_session(cdp_conn *c, cdp_ctx *ctx, const char *sid,
                          int is_main)
{
	cdp_post(c, sid, "Page.enable", NULL);
	cdp_post(c, sid, "Inspector.enable", NULL);
	cdp_post(c, sid, "Network.enable", NULL);
	if (ctx->headers)
		cdp_post(c, sid, "Network.setExtraHTTPHeaders",
		         json_pack("{s:O}", "headers", ctx->headers));
	if (ctx->user_agent)
		cdp_post(c, sid, "Network.setUserAgentOverride",
		         json_pack("{s:s}", "userAgent", ctx->user_agent));
	if (ctx->proxy_user)
		cdp_post(c, sid, "Fetch.enable",
		         json_pack("{s:b,s:[{s:s}]}", "handleAuthRequests", 1,
		                   "patterns", "urlPattern", "*"));
	if (is_main)
		cdp_post(c, sid, "Emulation.setDeviceMetricsOverride",
		         json_pack("{s:i,s:i,s:i,s:b}", "width", ctx->vw,
		                   "height", ctx->vh, "deviceScaleFactor", 1,
		                   "mobile", 0));
	cdp_page_hooks(c, sid);
	cdp_post(c, sid, "Target.setAutoAttach", auto_attach_params("iframe"));
	cdp_post(c, sid, "Runtime.runIfWaitingForDebugger", NULL);
}

static void release_target(cdp_conn *c, const char *parent, const char *sid,
                           int waiting)
{
	if (waiting)
		cdp_post(c, sid, "Runtime.runIfWaitingForDebugger", NULL);
	cdp_post(c, parent, "Target.detachFromTarget",
	         json_pack("{s:s}", "sessionId", sid));
}

static void on_attached(cdp_browser *b, cdp_conn *c, json_t *p,
                        const char *parent)
{
	const char *sid = cdp_jstr(p, "sessionId");
	json_t *ti = json_object_get(p, "targetInfo");
	const char *type = cdp_jstr(ti, "type");
	const char *tid = cdp_jstr(ti, "targetId");
	int waiting = cdp_jbool(p, "waitingForDebugger", 0);
	if (!sid || !type || !tid)
		return;

	if (!parent) {
		cdp_ctx *ctx = ctx_find(b, c, cdp_jstr(ti, "browserContextId"));
		if (!ctx || ctx->closing || strcmp(type, "page")) {
			release_target(c, NULL, sid, waiting);
			return;
		}
		cdp_tab *t = calloc(1, sizeof *t);
		cdp_tab **nt =
		    realloc(ctx->tabs, (ctx->n_tabs + 1) * sizeof *nt);
		if (!t || !nt) {
			free(t);
			return;
		}
		ctx->tabs = nt;
		t->ctx = ctx;
		t->target_id = cdp_strdup(tid);
		t->session = cdp_strdup(sid);
		t->main_frame = cdp_strdup(tid); /* a page's main frame id */
		t->url = cdp_strdup(cdp_jstr(ti, "url"));
		t->opened_seq = ++ctx->tab_seq;
		t->last_net_ms = cdp_now_ms();
		t->mouse_x = t->mouse_y = -1;
		tab_frame_add(t, tid);
		ctx->tabs[ctx->n_tabs++] = t;
		/* A tab the page opened (window.open, target=_blank) becomes
		 * the active one, as it would for a person. */
		if (cdp_jstr(ti, "openerId"))
			ctx->active = ctx->n_tabs - 1;
		session_add(b, sid, tid, t, 1);
		setup_session(c, ctx, sid, 1);
		pthread_cond_broadcast(&ctx->cond);
		return;
	}
	cdp_session *ps = session_find(b, parent);
	if (!ps || strcmp(type, "iframe")) {
		release_target(c, parent, sid, waiting);
		return;
	}
	session_add(b, sid, tid, ps->tab, 0);
	tab_frame_add(ps->tab, tid);
	setup_session(c, ps->tab->ctx, sid, 0);
}

static void tab_close_locked(cdp_browser *b, cdp_tab *t)
{
	cdp_ctx *ctx = t->ctx;
	for (size_t i = 0; i < ctx->n_tabs; i++) {
		if (ctx->tabs[i] != t)
			continue;
		memmove(ctx->tabs + i, ctx->tabs + i + 1,
		        (ctx->n_tabs - i - 1) * sizeof *ctx->tabs);
		ctx->n_tabs--;
		if (ctx->active > i || ctx->active >= ctx->n_tabs)
			ctx->active = ctx->active ? ctx->active - 1 : 0;
		break;
	}
	t->closed = 1;
	sessions_drop_tab(b, t);
	/* Workers may still hold the pointer: keep it until the context
	 * goes away. */
	cdp_tab **g =
	    realloc(ctx->graveyard, (ctx->n_graveyard + 1) * sizeof *g);
	if (g) {
		ctx->graveyard = g;
		ctx->graveyard[ctx->n_graveyard++] = t;
	}
	pthread_cond_broadcast(&ctx->cond);
}

static void on_detached(cdp_browser *b, json_t *p)
{
	cdp_session *s = session_find(b, cdp_jstr(p, "sessionId"));
	if (!s)
		return;
	if (s->is_main) {
		tab_close_locked(b, s->tab);
		return;
	}
	cdp_tab *t = s->tab;
	tab_frame_del(t, s->target_id);
	worlds_drop_frame(t, s->target_id);
	for (size_t i = 0; i < b->n_sessions; i++)
		if (b->sessions[i] == s) {
			b->sessions[i] = b->sessions[--b->n_sessions];
			break;
		}
	session_free(s);
}

/* --- network bookkeeping --------------------------------------------------- */

static void req_add(cdp_tab *t, const char *id, const char *type,
                    const char *loader, int own)
{
	int64_t now = cdp_now_ms();
	if (!own)
		t->last_net_ms = t->last_start_ms = now;
	for (size_t i = 0; i < t->n_reqs; i++)
		if (!strcmp(t->reqs[i].id, id)) {
			/* a redirect keeps its request id */
			t->reqs[i].responded = t->reqs[i].streaming = 0;
			return;
		}
	if (t->n_reqs == t->cap_reqs) {
		size_t cap = t->cap_reqs ? t->cap_reqs * 2 : 32;
		cdp_req *r = realloc(t->reqs, cap * sizeof *r);
		if (!r)
			return;
		t->reqs = r;
		t->cap_reqs = cap;
	}
	t->reqs[t->n_reqs].id = cdp_strdup(id);
	t->reqs[t->n_reqs].loader =
	    loader && *loader ? cdp_strdup(loader) : NULL;
	t->reqs[t->n_reqs].start_ms = now;
	t->reqs[t->n_reqs].long_lived = type && (!strcmp(type, "EventSource") ||
	                                         !strcmp(type, "WebSocket"));
	t->reqs[t->n_reqs].responded = t->reqs[t->n_reqs].streaming = 0;
	t->reqs[t->n_reqs].own = own;
	t->n_reqs++;
}

static cdp_req *req_find(cdp_tab *t, const char *id)
{
	for (size_t i = 0; i < t->n_reqs; i++)
		if (!strcmp(t->reqs[i].id, id))
			return &t->reqs[i];
	return NULL;
}

/* The head of a response arrived. An event stream stays counted (as a
 * request in flight, until the long-request cut-off), like a long poll
 * that has not answered yet. */
static void req_responded(cdp_tab *t, const char *id, json_t *response)
{
	cdp_req *r = req_find(t, id);
	const char *mime = cdp_jstr(response, "mimeType");
	if (!r || (mime && !strcmp(mime, "text/event-stream")))
		return;
	r->responded = 1;
	if (!r->own)
		t->last_net_ms = cdp_now_ms();
}

/* Body data after the head: the body is being received (and soon
 * finished) or streamed; either way the request counts again. */
static void req_data(cdp_tab *t, const char *id)
{
	cdp_req *r = req_find(t, id);
	if (r && r->responded)
		r->streaming = 1;
}

static int req_counts(const cdp_req *r)
{
	return !r->long_lived && !r->own && (!r->responded || r->streaming);
}

/* A new document in the main frame: what the documents before it (and
 * their frames) asked for is theirs, not the new page's. Chromium does
 * not always report those requests failed (a long poll the old page
 * left open), and they would hold the next settle until the long-request
 * cut-off. Requests without a loader (workers) are kept. */
static void req_drop_others(cdp_tab *t, const char *loader)
{
	if (!loader)
		return;
	for (size_t i = 0; i < t->n_reqs;) {
		if (t->reqs[i].loader && strcmp(t->reqs[i].loader, loader)) {
			free(t->reqs[i].id);
			free(t->reqs[i].loader);
			t->reqs[i] = t->reqs[--t->n_reqs];
		} else {
			i++;
		}
	}
}

static void req_del(cdp_tab *t, const char *id)
{
	cdp_req *r = req_find(t, id);
	if (!r || !r->own)
		t->last_net_ms = cdp_now_ms();
	for (size_t i = 0; i < t->n_reqs; i++) {
		if (!strcmp(t->reqs[i].id, id)) {
			free(t->reqs[i].id);
			free(t->reqs[i].loader);
			t->reqs[i] = t->reqs[--t->n_reqs];
			return;
		}
	}
}

size_t cdp_tab_inflight(cdp_tab *t, int64_t now, int64_t long_ms)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n_reqs; i++)
		if (req_counts(&t->reqs[i]) &&
		    now - t->reqs[i].start_ms < long_ms)
			n++;
	return n;
}

size_t cdp_tab_cut_off(cdp_tab *t, int64_t now, int64_t long_ms)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n_reqs; i++)
		if (req_counts(&t->reqs[i]) &&
		    now - t->reqs[i].start_ms >= long_ms)
			n++;
	return n;
}

/* --- downloads ---------------------------------------------------------------- */

static cdp_download *download_find(cdp_browser *b, cdp_conn *c,
                                   const char *guid, cdp_ctx **ctx_out)
{
	for (size_t i = 0; i < b->n_ctxs; i++) {
		cdp_ctx *x = b->ctxs[i];
		if (x->conn != c)
			continue;
		for (size_t k = 0; k < x->n_downloads; k++)
			if (!strcmp(x->downloads[k].guid, guid)) {
				*ctx_out = x;
				return &x->downloads[k];
			}
	}
	return NULL;
}

/* A file name safe to create in the download dir. */
static char *safe_name(const char *suggested)
{
	const char *base = suggested ? strrchr(suggested, '/') : NULL;
	base = base ? base + 1 : suggested;
	if (!base || !*base || !strcmp(base, ".") || !strcmp(base, ".."))
		base = "download";
	char *s = cdp_strdup(base);
	for (char *p = s; p && *p; p++)
		if ((unsigned char)*p < 32 || *p == '\\')
			*p = '_';
	return s;
}

static void download_finish(cdp_ctx *ctx, cdp_download *d)
{
	/* Placed once: a second "completed" (after a state the browser
	 * should never send back) must not move the file again. */
	if (d->path)
		return;
	char *name = safe_name(d->suggested);
	char *src = cdp_asprintf("%s/%s", ctx->download_dir, d->guid);
	char *dst = NULL;
	struct stat st;
	for (int i = 0; i < 1000; i++) {
		free(dst);
		if (i == 0) {
			dst = cdp_asprintf("%s/%s", ctx->download_dir, name);
		} else {
			const char *dot = strrchr(name, '.');
			int stem = dot && dot != name ? (int)(dot - name)
			                              : (int)strlen(name);
			dst = cdp_asprintf("%s/%.*s (%d)%s", ctx->download_dir,
			                   stem, name, i,
			                   dot && dot != name ? dot : "");
		}
		if (dst && stat(dst, &st) < 0)
			break;
	}
	if (src && dst && rename(src, dst) == 0) {
		d->path = dst;
		dst = NULL;
	} else {
		d->path = src;
		src = NULL;
	}
	free(src);
	free(dst);
	free(name);
}

static cdp_download *download_append(cdp_download **arr, size_t *n)
{
	cdp_download *nd = realloc(*arr, (*n + 1) * sizeof *nd);
	if (!nd)
		return NULL;
	*arr = nd;
	memset(&nd[*n], 0, sizeof *nd);
	return &nd[(*n)++];
}

static void download_clear(cdp_download *d)
{
	free(d->guid);
	free(d->url);
	free(d->suggested);
	free(d->path);
	free(d->state);
}

static void on_download_begin(cdp_browser *b, cdp_conn *c, json_t *p)
{
	cdp_ctx *ctx = NULL;
	const char *fid = cdp_jstr(p, "frameId");
	const char *guid = cdp_jstr(p, "guid");
	cdp_download *d;
	/* The guid names the file in the download dir: without one (or
	 * with a path in it) the download can never be placed. */
	if (!guid || !*guid || strchr(guid, '/'))
		return;
	if (fid && tab_by_frame(b, c, fid, &ctx))
		d = download_append(&ctx->downloads, &ctx->n_downloads);
	else /* placed when it completes, by the directory it lands in */
		d = download_append(&b->orphans, &b->n_orphans);
	if (!d)
		return;
	d->guid = cdp_strdup(guid);
	d->url = cdp_strdup(cdp_jstr(p, "url"));
	d->suggested = cdp_strdup(cdp_jstr(p, "suggestedFilename"));
	d->state = cdp_strdup("inProgress");
	if (ctx) {
		d->seq = ++ctx->dl_seq;
		pthread_cond_broadcast(&ctx->cond);
	}
}

/* An orphan download that completed: find the context whose directory
 * holds the file and move the record there. */
static cdp_download *orphan_adopt(cdp_browser *b, cdp_conn *c, size_t k,
                                  cdp_ctx **ctx_out)
{
	struct stat st;
	for (size_t i = 0; i < b->n_ctxs; i++) {
		cdp_ctx *x = b->ctxs[i];
		if (x->conn != c || !x->download_dir)
			continue;
		char *p =
		    cdp_asprintf("%s/%s", x->download_dir, b->orphans[k].guid);
		int here = p && stat(p, &st) == 0;
		free(p);
		if (!here)
			continue;
		cdp_download *d =
		    download_append(&x->downloads, &x->n_downloads);
		if (!d)
			return NULL;
		*d = b->orphans[k];
		b->orphans[k] = b->orphans[--b->n_orphans];
		d->seq = ++x->dl_seq;
		*ctx_out = x;
		return d;
	}
	return NULL;
}

static void on_download_progress(cdp_browser *b, cdp_conn *c, json_t *p)
{
	cdp_ctx *ctx = NULL;
	const char *guid = cdp_jstr(p, "guid");
	const char *state = cdp_jstr(p, "state");
	cdp_download *d = guid ? download_find(b, c, guid, &ctx) : NULL;
	if (!state || !guid)
		return;
	if (!d && !strcmp(state, "completed"))
		for (size_t k = 0; k < b->n_orphans && !d; k++)
			if (!strcmp(b->orphans[k].guid, guid))
				d = orphan_adopt(b, c, k, &ctx);
	if (!d)
		return;
	d->received = (int64_t)cdp_jnum(p, "receivedBytes", 0);
	if (strcmp(d->state, state)) {
		free(d->state);
		d->state = cdp_strdup(state);
		if (!strcmp(state, "completed"))
			download_finish(ctx, d);
		pthread_cond_broadcast(&ctx->cond);
	}
}

/* --- the event pump ------------------------------------------------------------- */

static void on_page_event(cdp_conn *c, cdp_session *s, const char *m, json_t *p)
{
	cdp_tab *t = s->tab;
	cdp_ctx *ctx = t->ctx;
	const char *fid = cdp_jstr(p, "frameId");
	int main_frame =
	    s->is_main && fid && t->main_frame && !strcmp(fid, t->main_frame);

	if (!strcmp(m, "Page.frameNavigated")) {
		json_t *f = json_object_get(p, "frame");
		const char *id = cdp_jstr(f, "id");
		if (!id)
			return;
		tab_frame_add(t, id);
		worlds_drop_frame(t, id);
		if (s->is_main && !cdp_jstr(f, "parentId")) {
			free(t->main_frame);
			t->main_frame = cdp_strdup(id);
			free(t->loader_id);
			t->loader_id = cdp_strdup(cdp_jstr(f, "loaderId"));
			req_drop_others(t, t->loader_id);
			free(t->url);
			t->url = cdp_strdup(cdp_jstr(f, "url"));
			t->commit_seq++;
			t->crashed = 0; /* a new document in a new renderer */
		}
	} else if (!strcmp(m, "Page.navigatedWithinDocument")) {
		if (main_frame) {
			free(t->url);
			t->url = cdp_strdup(cdp_jstr(p, "url"));
			t->samedoc_seq++;
		}
	} else if (!strcmp(m, "Page.frameAttached")) {
		tab_frame_add(t, fid);
	} else if (!strcmp(m, "Page.frameDetached")) {
		if (fid) {
			worlds_drop_frame(t, fid);
			const char *why = cdp_jstr(p, "reason");
			if (!why || strcmp(why, "swap"))
				tab_frame_del(t, fid);
		}
	} else if (!strcmp(m, "Page.frameStartedLoading")) {
		if (main_frame) {
			t->loading = 1;
			t->nav_seq++;
		}
	} else if (!strcmp(m, "Page.frameRequestedNavigation")) {
		if (main_frame)
			t->nav_seq++;
	} else if (!strcmp(m, "Page.frameStoppedLoading")) {
		if (main_frame) {
			t->loading = 0;
			t->stop_seq++;
		}
	} else if (!strcmp(m, "Page.loadEventFired")) {
		if (s->is_main)
			t->load_seq++;
	} else if (!strcmp(m, "Page.javascriptDialogOpening")) {
		/* Accept at once (a dialog blocks the page's scripts) and
		 * remember the text for the next prompt. */
		const char *dflt = cdp_jstr(p, "defaultPrompt");
		cdp_post(c, s->id, "Page.handleJavaScriptDialog",
		         json_pack("{s:b,s:s}", "accept", 1, "promptText",
		                   dflt ? dflt : ""));
		/* A page in an alert loop opens thousands: keep the first
		 * few for the prompt, not all of them in memory. */
		if (json_array_size(ctx->dialogs) >= CDP_MAX_DIALOGS)
			return;
		json_array_append_new(
		    ctx->dialogs,
		    json_pack(
		        "{s:s,s:s,s:s}", "type",
		        cdp_jstr(p, "type") ? cdp_jstr(p, "type") : "alert",
		        "message",
		        cdp_jstr(p, "message") ? cdp_jstr(p, "message") : "",
		        "url", cdp_jstr(p, "url") ? cdp_jstr(p, "url") : ""));
	}
}

static void on_network_event(cdp_session *s, const char *m, json_t *p)
{
	cdp_tab *t = s->tab;
	const char *rid = cdp_jstr(p, "requestId");
	if (!rid)
		return;
	if (!strcmp(m, "Network.requestWillBeSent")) {
		const char *type = cdp_jstr(p, "type");
		const char *init =
		    cdp_jstr(json_object_get(p, "initiator"), "type");
		/* what the browser fetches for itself beside a page (its
		 * icon); a page's own requests have another type */
		int own = type && !strcmp(type, "Other") && init &&
		          !strcmp(init, "other");
		req_add(t, rid, type, cdp_jstr(p, "loaderId"), own);
	} else if (!strcmp(m, "Network.loadingFinished") ||
	           !strcmp(m, "Network.loadingFailed")) {
		req_del(t, rid);
	} else if (!strcmp(m, "Network.dataReceived")) {
		req_data(t, rid);
	} else if (!strcmp(m, "Network.responseReceived")) {
		const char *type = cdp_jstr(p, "type");
		req_responded(t, rid, json_object_get(p, "response"));
		if (cdp_jint(json_object_get(p, "response"), "status", 0) !=
		    407)
			t->ctx->auth_answers = 0;
		const char *fid = cdp_jstr(p, "frameId");
		if (s->is_main && type && !strcmp(type, "Document") && fid &&
		    t->main_frame && !strcmp(fid, t->main_frame)) {
			json_t *r = json_object_get(p, "response");
			t->status = (int)cdp_jint(r, "status", 0);
			free(t->status_loader);
			t->status_loader = cdp_strdup(cdp_jstr(p, "loaderId"));
		}
	}
}

static void on_fetch_event(cdp_conn *c, cdp_session *s, const char *m,
                           json_t *p)
{
	cdp_ctx *ctx = s->tab->ctx;
	const char *rid = cdp_jstr(p, "requestId");
	if (!rid)
		return;
	if (!strcmp(m, "Fetch.requestPaused") && ctx->restoring) {
		/* state.c: an empty document of the origin, never the site */
		cdp_post(
		    c, s->id, "Fetch.fulfillRequest",
		    json_pack("{s:s,s:i,s:[{s:s,s:s}],s:s}", "requestId", rid,
		              "responseCode", 200, "responseHeaders", "name",
		              "Content-Type", "value", "text/html", "body",
		              "PCFkb2N0eXBlIGh0bWw+PGh0bWw+PGhlYWQ+PC9oZWFk"
		              "Pjxib2R5PjwvYm9keT48L2h0bWw+"));
		return;
	}
	if (!strcmp(m, "Fetch.requestPaused")) {
		cdp_post(c, s->id, "Fetch.continueRequest",
		         json_pack("{s:s}", "requestId", rid));
		return;
	}
	/* Fetch.authRequired: credentials only for our proxy, never for
	 * the sites themselves. */
	json_t *ch = json_object_get(p, "authChallenge");
	const char *src = cdp_jstr(ch, "source");
	json_t *resp;
	/* Wrong credentials would be asked for again and again: give up
	 * after a few answers without a response in between. */
	if (src && !strcmp(src, "Proxy") && ctx->proxy_user &&
	    ++ctx->auth_answers > 3)
		resp = json_pack("{s:s}", "response", "CancelAuth");
	else if (src && !strcmp(src, "Proxy") && ctx->proxy_user)
		resp =
		    json_pack("{s:s,s:s,s:s}", "response", "ProvideCredentials",
		              "username", ctx->proxy_user, "password",
		              ctx->proxy_pass ? ctx->proxy_pass : "");
	else
		resp = json_pack("{s:s}", "response", "Default");
	cdp_post(c, s->id, "Fetch.continueWithAuth",
	         json_pack("{s:s,s:o}", "requestId", rid,
	                   "authChallengeResponse", resp));
}

static void on_event(void *ud, cdp_conn *c, const char *m, json_t *p,
                     const char *sid)
{
	cdp_browser *b = ud;
	pthread_mutex_lock(&b->lock);
	if (!strcmp(m, "Target.attachedToTarget")) {
		on_attached(b, c, p, sid);
		goto out;
	}
	if (!strcmp(m, "Target.detachedFromTarget")) {
		on_detached(b, p);
		goto out;
	}
	if (!strcmp(m, "Browser.downloadWillBegin")) {
		on_download_begin(b, c, p);
		goto out;
	}
	if (!strcmp(m, "Browser.downloadProgress")) {
		on_download_progress(b, c, p);
		goto out;
	}
	cdp_session *s = session_find(b, sid);
	if (!s)
		goto out;
	if (!strcmp(m, "Page.screencastFrame"))
		cdp_cast_frame(c, s, p);
	else if (!strncmp(m, "Page.", 5))
		on_page_event(c, s, m, p);
	else if (!strncmp(m, "Network.", 8))
		on_network_event(s, m, p);
	else if (!strncmp(m, "Fetch.", 6))
		on_fetch_event(c, s, m, p);
	else if (!strcmp(m, "Input.dragIntercepted")) {
		/* a drag action's HTML5 drag: act.c drops it */
		json_decref(s->tab->drag_data);
		s->tab->drag_data = json_incref(json_object_get(p, "data"));
		s->tab->drag_seq++;
	} else if (!strcmp(m, "Inspector.targetCrashed")) {
		if (s->is_main)
			s->tab->crashed = 1;
		/* its calls in flight will never be answered */
		cdp_conn_fail_session(c, s->id,
		                      "the tab's renderer crashed; navigate "
		                      "again or open a new tab");
	}
	pthread_cond_broadcast(&s->tab->ctx->cond);
out:
	pthread_mutex_unlock(&b->lock);
}

static void on_death(void *ud, cdp_conn *c, const char *reason)
{
	cdp_browser *b = ud;
	(void)reason;
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n_ctxs; i++)
		if (b->ctxs[i]->conn == c)
			pthread_cond_broadcast(&b->ctxs[i]->cond);
	pthread_mutex_unlock(&b->lock);
}

/* --- launching ------------------------------------------------------------------ */

static void spare_request(cdp_browser *b);
static void spare_shutdown(cdp_browser *b);

static int make_profile_dir(cdp_browser *b)
{
	const char *base = b->profile_base;
	char *def = NULL;
	if (!base) {
		const char *dd = cdp_host && cdp_host->data_dir
		                     ? cdp_host->data_dir(b->host)
		                     : NULL;
		if (dd && *dd && strcmp(dd, ".")) {
			def = cdp_asprintf("%s/browser", dd);
			base = def;
		} else {
			const char *tmp = getenv("TMPDIR");
			base = tmp && *tmp ? tmp : "/tmp";
		}
	}
	if (cdp_mkdir_p(base) < 0) {
		int rc = cdp_fail(SKY_EIO, "cannot create %s: %s", base,
		                  strerror(errno));
		free(def);
		return rc;
	}
	char *tmpl = cdp_asprintf("%s/sky-chromium-XXXXXX", base);
	free(def);
	if (!tmpl || !mkdtemp(tmpl)) {
		int rc = cdp_fail(SKY_EIO, "cannot create a profile dir: %s",
		                  strerror(errno));
		free(tmpl);
		return rc;
	}
	b->profile_dir = tmpl;
	return 0;
}

static void drop_profile_dir(cdp_browser *b)
{
	if (b->profile_dir) {
		cdp_rm_rf(b->profile_dir);
		free(b->profile_dir);
		b->profile_dir = NULL;
	}
}

static int start(cdp_browser *b, cdp_conn **out)
{
	int rc;
	cdp_conn *c = NULL;
	if (b->cdp_url) {
		rc = cdp_ws_connect(
		    b->cdp_url, (const char *const *)b->connect_headers,
		    b->launch_timeout_ms, on_event, on_death, b, &c);
	} else {
		drop_profile_dir(b);
		rc = make_profile_dir(b);
		if (rc)
			return rc;
		char *log = cdp_asprintf("%s/chromium.log", b->profile_dir);
		cdp_launch l = {
		    .path = b->path,
		    .args = b->args,
		    .headless = b->headless,
		    .profile_dir = b->profile_dir,
		    .log_path = log,
		};
		rc = cdp_pipe_launch(&l, on_event, on_death, b, &c);
		free(log);
	}
	if (rc)
		return rc;
	/* Every page target is attached as it appears (ours are kept,
	 * others released), paused until its session is set up. */
	rc = cdp_call(c, NULL, "Target.setAutoAttach",
	              auto_attach_params("page"), b->launch_timeout_ms, NULL);
	if (rc) {
		cdp_conn_unref(c);
		return cdp_fail(SKY_EBROWSER, "the browser did not answer: %s",
		                cdp_errmsg());
	}
	*out = c;
	return 0;
}

int cdp_browser_conn(cdp_browser *b, cdp_conn **out)
{
	int rc = 0;
	pthread_mutex_lock(&b->launch_lock);
	pthread_mutex_lock(&b->lock);
	cdp_conn *c = b->conn;
	pthread_mutex_unlock(&b->lock);
	if (c && !cdp_conn_dead(c)) {
		cdp_conn_ref(c);
		*out = c;
		goto out;
	}
	if (c) {
		cdp_log(SKY_HOST_LOG_INFO, "%s the browser",
		        b->cdp_url ? "reconnecting to" : "relaunching");
		pthread_mutex_lock(&b->lock);
		b->conn = NULL;
		pthread_mutex_unlock(&b->lock);
		cdp_conn_unref(c);
	}
	rc = start(b, &c);
	if (rc)
		goto out;
	pthread_mutex_lock(&b->lock);
	b->conn = c;
	b->generation++;
	pthread_mutex_unlock(&b->lock);
	cdp_conn_ref(c);
	*out = c;
	spare_request(b);
out:
	pthread_mutex_unlock(&b->launch_lock);
	return rc;
}

int cdp_browser_adopt(cdp_browser *b, const cdp_transport *tp, void *tp_state,
                      cdp_conn **out)
{
	cdp_conn *c = cdp_conn_new(tp, tp_state, on_event, on_death, b);
	if (!c)
		return cdp_fail(SKY_ENOMEM, "out of memory");
	pthread_mutex_lock(&b->launch_lock);
	pthread_mutex_lock(&b->lock);
	cdp_conn *old = b->conn;
	b->conn = c;
	b->generation++;
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_unlock(&b->launch_lock);
	cdp_conn_unref(old);
	cdp_conn_ref(c);
	*out = c;
	return 0;
}

void cdp_browser_set_script(cdp_browser *b, const char *src, size_t len)
{
	pthread_mutex_lock(&b->lock);
	if (!b->script || b->script_len != len || memcmp(b->script, src, len)) {
		char *copy = malloc(len + 1);
		if (copy) {
			memcpy(copy, src, len);
			copy[len] = '\0';
			free(b->script);
			b->script = copy;
			b->script_len = len;
			b->script_gen++;
		}
	}
	pthread_mutex_unlock(&b->lock);
}

void cdp_browser_destroy(cdp_browser *b)
{
	if (!b)
		return;
	spare_shutdown(b);
	while (b->n_ctxs)
		cdp_ctx_close(b->ctxs[0]);
	cdp_conn_unref(b->conn);
	b->conn = NULL;
	drop_profile_dir(b);
	for (size_t i = 0; i < b->n_sessions; i++)
		session_free(b->sessions[i]);
	free(b->sessions);
	for (size_t i = 0; i < b->n_orphans; i++)
		download_clear(&b->orphans[i]);
	free(b->orphans);
	free(b->ctxs);
	free(b->path);
	free(b->cdp_url);
	for (char **h = b->connect_headers; h && *h; h++) {
		explicit_bzero(*h, strlen(*h));
		free(*h);
	}
	free(b->connect_headers);
	free(b->profile_base);
	for (char **a = b->args; a && *a; a++)
		free(*a);
	free(b->args);
	free(b->script);
	pthread_cond_destroy(&b->spare_cond);
	pthread_mutex_destroy(&b->launch_lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static int tab_make_ready(cdp_ctx *ctx, cdp_tab *t);

/* --- contexts ----------------------------------------------------------------------- */

static int parse_ctx_options(cdp_ctx *ctx, json_t *o, json_t **proxy_out)
{
	json_t *proxy = json_object_get(o, "proxy");
	json_t *hdrs = json_object_get(o, "extra_http_headers");
	json_t *vp = json_object_get(o, "viewport");
	*proxy_out = NULL;
	if (proxy && !json_is_null(proxy)) {
		const char *server = cdp_jstr(proxy, "server");
		if (!json_is_object(proxy) || !server || !*server)
			return cdp_fail(SKY_EINVALID,
			                "proxy needs a \"server\" like "
			                "http://host:port");
		ctx->proxy_user = cdp_strdup(cdp_jstr(proxy, "username"));
		ctx->proxy_pass = cdp_strdup(cdp_jstr(proxy, "password"));
		*proxy_out = proxy;
	}
	if (hdrs && !json_is_null(hdrs)) {
		const char *k;
		json_t *v;
		if (!json_is_object(hdrs))
			return cdp_fail(
			    SKY_EINVALID,
			    "extra_http_headers must be an object of "
			    "strings");
		json_object_foreach (hdrs, k, v) {
			if (!json_is_string(v))
				return cdp_fail(
				    SKY_EINVALID,
				    "extra_http_headers.%s is not a "
				    "string",
				    k);
		}
		ctx->headers = json_incref(hdrs);
	}
	ctx->vw = (int)cdp_jint(vp, "width", 1280);
	ctx->vh = (int)cdp_jint(vp, "height", 800);
	if (ctx->vw < 100 || ctx->vw > 8192 || ctx->vh < 100 || ctx->vh > 8192)
		return cdp_fail(SKY_EINVALID,
		                "viewport must be between 100 and 8192 pixels");
	ctx->user_agent = cdp_strdup(cdp_jstr(o, "user_agent"));
	ctx->download_dir = cdp_strdup(cdp_jstr(o, "download_dir"));
	if (ctx->download_dir && ctx->download_dir[0] != '/')
		return cdp_fail(SKY_EINVALID,
		                "download_dir must be an absolute path");
	return 0;
}

static void ctx_free(cdp_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->n_tabs; i++)
		tab_free(ctx->tabs[i]);
	free(ctx->tabs);
	for (size_t i = 0; i < ctx->n_graveyard; i++)
		tab_free(ctx->graveyard[i]);
	free(ctx->graveyard);
	for (size_t i = 0; i < ctx->n_downloads; i++)
		download_clear(&ctx->downloads[i]);
	free(ctx->downloads);
	json_decref(ctx->dialogs);
	json_decref(ctx->headers);
	json_decref(ctx->loaded_origins);
	free(ctx->id);
	if (ctx->own_download_dir && ctx->download_dir)
		cdp_rm_rf(ctx->download_dir);
	free(ctx->download_dir);
	free(ctx->proxy_user);
	free(ctx->proxy_pass);
	free(ctx->user_agent);
	free(ctx->cast_session);
	pthread_cond_destroy(&ctx->cond);
	if (ctx->conn)
		cdp_conn_unref(ctx->conn);
	free(ctx);
}

static void ctx_register(cdp_browser *b, cdp_ctx *ctx)
{
	pthread_mutex_lock(&b->lock);
	cdp_ctx **n = realloc(b->ctxs, (b->n_ctxs + 1) * sizeof *n);
	if (n) {
		b->ctxs = n;
		b->ctxs[b->n_ctxs++] = ctx;
	}
	pthread_mutex_unlock(&b->lock);
}

static void ctx_unregister(cdp_browser *b, cdp_ctx *ctx)
{
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n_ctxs; i++)
		if (b->ctxs[i] == ctx) {
			memmove(b->ctxs + i, b->ctxs + i + 1,
			        (b->n_ctxs - i - 1) * sizeof *b->ctxs);
			b->n_ctxs--;
			break;
		}
	for (size_t i = 0; i < ctx->n_tabs; i++)
		sessions_drop_tab(b, ctx->tabs[i]);
	pthread_mutex_unlock(&b->lock);
}

static char *bypass_list(json_t *proxy)
{
	const char *user = cdp_jstr(proxy, "bypass");
	/* Chromium never proxies loopback unless told so; a proxy given
	 * for a run applies to every host the run visits. */
	if (user && *user)
		return cdp_asprintf("%s;<-loopback>", user);
	return cdp_strdup("<-loopback>");
}

static cdp_ctx *ctx_alloc(cdp_browser *b)
{
	cdp_ctx *ctx = calloc(1, sizeof *ctx);
	if (!ctx)
		return NULL;
	ctx->b = b;
	ctx->dialogs = json_array();
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ctx->cond, &ca);
	pthread_condattr_destroy(&ca);
	return ctx;
}

/* The context's download dir (a private one, removed with the context,
 * when none was given), and the browser told to save there. */
static int ctx_downloads(cdp_ctx *ctx)
{
	cdp_browser *b = ctx->b;
	if (!ctx->download_dir) {
		const char *base = b->profile_dir;
		const char *tmp = getenv("TMPDIR");
		char *tmpl = base ? cdp_asprintf("%s/downloads-XXXXXX", base)
		                  : cdp_asprintf("%s/sky-downloads-XXXXXX",
		                                 tmp && *tmp ? tmp : "/tmp");
		if (!tmpl || !mkdtemp(tmpl)) {
			free(tmpl);
			return cdp_fail(SKY_EIO,
			                "cannot create a download dir: %s",
			                strerror(errno));
		}
		/* the reader looks for downloads in registered contexts */
		pthread_mutex_lock(&b->lock);
		ctx->download_dir = tmpl;
		ctx->own_download_dir = 1;
		pthread_mutex_unlock(&b->lock);
	}
	if (cdp_mkdir_p(ctx->download_dir) < 0)
		return cdp_fail(SKY_EIO, "cannot create download dir %s: %s",
		                ctx->download_dir, strerror(errno));
	return cdp_call(ctx->conn, NULL, "Browser.setDownloadBehavior",
	                json_pack("{s:s,s:s,s:s,s:b}", "behavior",
	                          "allowAndName", "browserContextId", ctx->id,
	                          "downloadPath", ctx->download_dir,
	                          "eventsEnabled", 1),
	                b->call_timeout_ms, NULL);
}

/* --- the spare context ----------------------------------------------------
 *
 * Opening a context costs a new renderer process and a few round trips
 * (hundreds of ms). When a context is closed, and when the browser
 * starts or reconnects, spare_thread makes one context ahead (not right
 * after an open: it would compete with the run that just opened): no
 * proxy, one about:blank tab set up as any new tab (setup_session) and
 * ready, never navigated. context_open takes it when the options asked
 * for can all be applied after creation: everything but a proxy (its
 * server is fixed by Target.createBrowserContext). The headers, user
 * agent, viewport and download dir are applied when it is taken, before
 * the caller gets it, so it is the context a fresh open would have made.
 * An open that finds one being made waits for it (one caller, bounded).
 * The spare is in b->ctxs (its attach events must find it) with
 * ctx->spare set; a failure to make it is logged at debug and the next
 * open simply makes its own context.
 */

enum { SPARE_NONE, SPARE_WANTED, SPARE_MAKING, SPARE_READY };

/* What a context with no options has (parse_ctx_options). */
#define SPARE_VW 1280
#define SPARE_VH 800
/* The longest an open waits for a spare being made. */
#define SPARE_WAIT_MS 5000

static int spare_make(cdp_browser *b, cdp_ctx **out)
{
	json_t *res = NULL;
	int rc = 0;
	*out = NULL;
	cdp_ctx *ctx = ctx_alloc(b);
	if (!ctx)
		return cdp_fail(SKY_ENOMEM, "out of memory");
	ctx->spare = 1;
	ctx->vw = SPARE_VW;
	ctx->vh = SPARE_VH;
	/* Only a browser that is up: the spare never launches or
	 * reconnects one. */
	pthread_mutex_lock(&b->lock);
	if (b->conn) {
		ctx->conn = b->conn;
		cdp_conn_ref(ctx->conn);
	}
	pthread_mutex_unlock(&b->lock);
	if (!ctx->conn || cdp_conn_dead(ctx->conn)) {
		ctx_free(ctx);
		return cdp_fail(SKY_EBROWSER, "no browser running");
	}
	rc = cdp_call(ctx->conn, NULL, "Target.createBrowserContext",
	              json_pack("{s:b}", "disposeOnDetach", 1),
	              b->call_timeout_ms, &res);
	ctx->id = rc ? NULL : cdp_strdup(cdp_jstr(res, "browserContextId"));
	json_decref(res);
	if (!ctx->id) {
		if (!rc)
			rc = cdp_fail(SKY_EBROWSER, "no browserContextId");
		ctx_free(ctx);
		return rc;
	}
	ctx_register(b, ctx);
	pthread_mutex_lock(&b->lock);
	int stop = b->spare_stop;
	b->spare_making = stop ? NULL : ctx;
	pthread_mutex_unlock(&b->lock);
	rc = stop ? cdp_fail(SKY_ECANCELED, "the browser is shutting down")
	          : cdp_ctx_new_tab(ctx, NULL);
	pthread_mutex_lock(&b->lock);
	b->spare_making = NULL;
	pthread_mutex_unlock(&b->lock);
	if (rc) {
		cdp_ctx_close(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

static void *spare_main(void *arg)
{
	cdp_browser *b = arg;
	pthread_mutex_lock(&b->lock);
	while (!b->spare_stop) {
		if (b->spare_state != SPARE_WANTED) {
			pthread_cond_wait(&b->spare_cond, &b->lock);
			continue;
		}
		b->spare_state = SPARE_MAKING;
		pthread_mutex_unlock(&b->lock);
		cdp_ctx *ctx = NULL;
		int64_t t0 = cdp_now_ms();
		cdp_log(SKY_HOST_LOG_DEBUG, "making a spare context");
		if (spare_make(b, &ctx))
			cdp_log(SKY_HOST_LOG_DEBUG, "no spare context: %s",
			        cdp_errmsg());
		else
			cdp_log(SKY_HOST_LOG_DEBUG,
			        "spare context ready (%lld ms)",
			        (long long)(cdp_now_ms() - t0));
		pthread_mutex_lock(&b->lock);
		if (ctx && !b->spare_stop) {
			b->spare = ctx;
			b->spare_state = SPARE_READY;
			ctx = NULL;
		} else {
			b->spare_state = SPARE_NONE;
		}
		pthread_cond_broadcast(&b->spare_cond);
		if (ctx) {
			pthread_mutex_unlock(&b->lock);
			cdp_ctx_close(ctx);
			pthread_mutex_lock(&b->lock);
		}
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/* Have a spare made if there is none (never waits for it). */
static void spare_request(cdp_browser *b)
{
	pthread_mutex_lock(&b->lock);
	if (b->spare_on && !b->spare_stop && b->spare_state == SPARE_NONE) {
		if (!b->spare_thread_on)
			b->spare_thread_on = !pthread_create(
			    &b->spare_thread, NULL, spare_main, b);
		if (b->spare_thread_on) {
			b->spare_state = SPARE_WANTED;
			pthread_cond_signal(&b->spare_cond);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

/* Stop the thread (a spare being made is given up) and dispose of the
 * ready spare. */
static void spare_shutdown(cdp_browser *b)
{
	pthread_mutex_lock(&b->lock);
	b->spare_stop = 1;
	if (b->spare_making) {
		b->spare_making->closing = 1;
		pthread_cond_broadcast(&b->spare_making->cond);
	}
	pthread_cond_broadcast(&b->spare_cond);
	cdp_ctx *sp = b->spare;
	b->spare = NULL;
	b->spare_state = SPARE_NONE;
	int joined = b->spare_thread_on;
	b->spare_thread_on = 0;
	pthread_mutex_unlock(&b->lock);
	if (joined)
		pthread_join(b->spare_thread, NULL);
	cdp_ctx_close(sp);
}

/* The ready spare, taken, if it still serves the browser's connection
 * `c` with its one blank tab; a stale one (the browser was relaunched
 * or reconnected, its renderer crashed) is disposed of. */
static cdp_ctx *spare_take(cdp_browser *b, cdp_conn *c)
{
	pthread_mutex_lock(&b->lock);
	/* One being made started earlier than a context this caller would
	 * open now: wait for it (one caller; bounded, then the normal
	 * path). */
	if ((b->spare_state == SPARE_WANTED ||
	     b->spare_state == SPARE_MAKING) &&
	    !b->spare_waiter) {
		struct timespec dl;
		cdp_deadline(&dl, b->launch_timeout_ms < SPARE_WAIT_MS
		                      ? b->launch_timeout_ms
		                      : SPARE_WAIT_MS);
		b->spare_waiter = 1;
		while ((b->spare_state == SPARE_WANTED ||
		        b->spare_state == SPARE_MAKING) &&
		       !b->spare_stop &&
		       pthread_cond_timedwait(&b->spare_cond, &b->lock, &dl) !=
		           ETIMEDOUT)
			;
		b->spare_waiter = 0;
	}
	cdp_ctx *sp = b->spare_state == SPARE_READY ? b->spare : NULL;
	if (sp) {
		b->spare = NULL;
		b->spare_state = SPARE_NONE;
	}
	cdp_tab *t = sp && sp->n_tabs == 1 ? sp->tabs[0] : NULL;
	int ok = t && sp->conn == c && !sp->closing && t->ready && !t->closed &&
	         !t->crashed && t->url && !strcmp(t->url, "about:blank");
	pthread_mutex_unlock(&b->lock);
	if (sp && !ok) {
		cdp_log(SKY_HOST_LOG_DEBUG, "the spare context is stale");
		cdp_ctx_close(sp);
		return NULL;
	}
	return sp;
}

/* Give the spare the options parsed into `want` (which keeps its own
 * copies): what setup_session would have applied, and the downloads. */
static int spare_adopt(cdp_ctx *sp, const cdp_ctx *want)
{
	cdp_browser *b = sp->b;
	int tmo = b->call_timeout_ms;
	pthread_mutex_lock(&b->lock);
	char *sid = cdp_strdup(sp->tabs[0]->session);
	sp->headers = json_incref(want->headers);
	sp->user_agent = cdp_strdup(want->user_agent);
	sp->vw = want->vw;
	sp->vh = want->vh;
	sp->download_dir = cdp_strdup(want->download_dir);
	sp->spare = 0;
	pthread_mutex_unlock(&b->lock);
	int rc =
	    sid ? ctx_downloads(sp) : cdp_fail(SKY_ENOMEM, "out of memory");
	if (!rc && sp->headers)
		rc = cdp_call(sp->conn, sid, "Network.setExtraHTTPHeaders",
		              json_pack("{s:O}", "headers", sp->headers), tmo,
		              NULL);
	if (!rc && sp->user_agent)
		rc = cdp_call(sp->conn, sid, "Network.setUserAgentOverride",
		              json_pack("{s:s}", "userAgent", sp->user_agent),
		              tmo, NULL);
	if (!rc && (sp->vw != SPARE_VW || sp->vh != SPARE_VH))
		rc = cdp_call(
		    sp->conn, sid, "Emulation.setDeviceMetricsOverride",
		    json_pack("{s:i,s:i,s:i,s:b}", "width", sp->vw, "height",
		              sp->vh, "deviceScaleFactor", 1, "mobile", 0),
		    tmo, NULL);
	free(sid);
	return rc;
}

int cdp_ctx_open(cdp_browser *b, const char *options_json, cdp_ctx **out)
{
	json_error_t jerr;
	json_t *o = NULL, *proxy = NULL, *res = NULL;
	cdp_ctx *ctx = NULL;
	int rc;

	*out = NULL;
	if (options_json && *options_json) {
		o = json_loads(options_json, 0, &jerr);
		if (!json_is_object(o)) {
			json_decref(o);
			return cdp_fail(
			    SKY_EINVALID,
			    "context options are not a JSON object: "
			    "%s",
			    jerr.text);
		}
	}
	ctx = ctx_alloc(b);
	if (!ctx) {
		json_decref(o);
		return cdp_fail(SKY_ENOMEM, "out of memory");
	}
	rc = parse_ctx_options(ctx, o, &proxy);
	if (rc)
		goto fail;
	rc = cdp_browser_conn(b, &ctx->conn);
	if (rc)
		goto fail;
	cdp_ctx *sp = proxy ? NULL : spare_take(b, ctx->conn);
	if (sp && spare_adopt(sp, ctx) == 0) {
		cdp_log(SKY_HOST_LOG_DEBUG, "context opened from the spare");
		json_decref(o);
		ctx_free(ctx);
		*out = sp;
		return 0;
	}
	if (sp) {
		cdp_log(SKY_HOST_LOG_DEBUG, "the spare context failed: %s",
		        cdp_errmsg());
		cdp_ctx_close(sp);
		cdp_err_clear();
	}

	json_t *params = json_pack("{s:b}", "disposeOnDetach", 1);
	if (proxy) {
		char *bp = bypass_list(proxy);
		json_object_set_new(params, "proxyServer",
		                    json_string(cdp_jstr(proxy, "server")));
		json_object_set_new(params, "proxyBypassList", json_string(bp));
		free(bp);
	}
	rc = cdp_call(ctx->conn, NULL, "Target.createBrowserContext", params,
	              b->call_timeout_ms, &res);
	if (rc)
		goto fail;
	ctx->id = cdp_strdup(cdp_jstr(res, "browserContextId"));
	json_decref(res);
	res = NULL;
	if (!ctx->id) {
		rc = cdp_fail(SKY_EBROWSER, "no browserContextId in the reply");
		goto fail;
	}
	ctx_register(b, ctx);
	rc = ctx_downloads(ctx);
	if (rc == 0)
		rc = cdp_ctx_new_tab(ctx, NULL);
	if (rc) {
		ctx_unregister(b, ctx);
		goto fail_ctx;
	}
	json_decref(o);
	*out = ctx;
	return 0;

fail_ctx:
	cdp_call(ctx->conn, NULL, "Target.disposeBrowserContext",
	         json_pack("{s:s}", "browserContextId", ctx->id), 5000, NULL);
fail:
	json_decref(o);
	json_decref(res);
	ctx_free(ctx);
	return rc;
}

int cdp_ctx_new_tab(cdp_ctx *ctx, cdp_tab **out)
{
	cdp_browser *b = ctx->b;
	json_t *res = NULL;
	struct timespec dl;
	int rc = cdp_call(ctx->conn, NULL, "Target.createTarget",
	                  json_pack("{s:s,s:s}", "url", "about:blank",
	                            "browserContextId", ctx->id),
	                  b->call_timeout_ms, &res);
	if (rc)
		return rc;
	char *tid = cdp_strdup(cdp_jstr(res, "targetId"));
	json_decref(res);
	if (!tid)
		return cdp_fail(SKY_EBROWSER, "no targetId in the reply");
	/* The attach event may come before or after the reply. */
	/* a new tab may need a new renderer process: launch-sized wait */
	cdp_deadline(&dl, b->launch_timeout_ms);
	pthread_mutex_lock(&b->lock);
	cdp_tab *found = NULL;
	for (;;) {
		for (size_t i = 0; i < ctx->n_tabs && !found; i++)
			if (!strcmp(ctx->tabs[i]->target_id, tid)) {
				found = ctx->tabs[i];
				ctx->active = i;
			}
		if (found || ctx->closing || cdp_conn_dead(ctx->conn))
			break;
		if (pthread_cond_timedwait(&ctx->cond, &b->lock, &dl) ==
		    ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&b->lock);
	free(tid);
	if (!found)
		return cdp_ctx_alive(ctx)
		           ? cdp_ctx_alive(ctx)
		           : cdp_fail(SKY_EBROWSER, "the new tab was not "
		                                    "attached in time");
	rc = tab_make_ready(ctx, found);
	if (rc == 0 && out)
		*out = found;
	return rc;
}

void cdp_ctx_close(cdp_ctx *ctx)
{
	if (!ctx)
		return;
	cdp_browser *b = ctx->b;
	pthread_mutex_lock(&b->lock);
	ctx->closing = 1;
	ctx->cast_fn = NULL; /* no frame after close */
	pthread_mutex_unlock(&b->lock);
	int refill = !ctx->spare;
	cdp_shot_drop(ctx);
	if (ctx->id && !cdp_conn_dead(ctx->conn))
		cdp_call(ctx->conn, NULL, "Target.disposeBrowserContext",
		         json_pack("{s:s}", "browserContextId", ctx->id), 10000,
		         NULL);
	ctx_unregister(b, ctx);
	ctx_free(ctx);
	/* a run ended: the next one finds a context ready */
	if (refill)
		spare_request(b);
}

int cdp_ctx_alive(cdp_ctx *ctx)
{
	if (!ctx || !ctx->conn)
		return cdp_fail(SKY_EINVALID, "no context");
	pthread_mutex_lock(&ctx->conn->lock);
	int dead = ctx->conn->dead;
	pthread_mutex_unlock(&ctx->conn->lock);
	if (dead)
		return cdp_fail(SKY_EBROWSER,
		                "the browser of this context is gone (%s); "
		                "open a new context",
		                ctx->conn->dead_reason);
	return 0;
}

/*
 * Commands the reader posted to set a tab up go partly to the renderer,
 * which may still be starting; browser-side commands (Page.navigate)
 * would overtake them and events would be missed. A renderer round trip
 * from the worker, queued after them, waits until they are all applied.
 */
static int tab_make_ready(cdp_ctx *ctx, cdp_tab *t)
{
	pthread_mutex_lock(&ctx->b->lock);
	int ready = t->ready;
	pthread_mutex_unlock(&ctx->b->lock);
	if (ready)
		return 0;
	int rc = cdp_call(ctx->conn, t->session, "Runtime.evaluate",
	                  json_pack("{s:s}", "expression", "0"),
	                  ctx->b->launch_timeout_ms, NULL);
	if (rc)
		return rc;
	pthread_mutex_lock(&ctx->b->lock);
	t->ready = 1;
	pthread_mutex_unlock(&ctx->b->lock);
	return 0;
}

static cdp_tab *ctx_tab(cdp_ctx *ctx, int allow_crashed)
{
	if (cdp_ctx_alive(ctx))
		return NULL;
	cdp_browser *b = ctx->b;
	pthread_mutex_lock(&b->lock);
	cdp_tab *t = ctx->n_tabs ? ctx->tabs[ctx->active] : NULL;
	int crashed = t && t->crashed;
	pthread_mutex_unlock(&b->lock);
	if (!t) {
		/* every tab was closed: open a fresh one */
		if (cdp_ctx_new_tab(ctx, &t))
			return NULL;
	}
	if (crashed && !allow_crashed) {
		cdp_fail(SKY_EBROWSER,
		         "the tab's renderer crashed; navigate again or open "
		         "a new tab");
		return NULL;
	}
	if (!crashed && tab_make_ready(ctx, t))
		return NULL;
	return t;
}

cdp_tab *cdp_ctx_tab(cdp_ctx *ctx)
{
	return ctx_tab(ctx, 0);
}

cdp_tab *cdp_ctx_tab_for_navigation(cdp_ctx *ctx)
{
	return ctx_tab(ctx, 1);
}

int cdp_ctx_wait(cdp_ctx *ctx, const struct timespec *deadline)
{
	return pthread_cond_timedwait(&ctx->cond, &ctx->b->lock, deadline);
}
