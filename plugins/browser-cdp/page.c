/*
 * browser-cdp: page-level operations of a context's active tab: isolated
 * worlds running the engine's page script, navigation, settling,
 * snapshots across frames, screenshots, page state and evaluation.
 */
#include "cdp.h"

#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORLD_NAME "skyengine"

static int call_timeout(cdp_ctx *ctx)
{
	return ctx->b->call_timeout_ms;
}

/* Index of a prefix in t->next_ids: "" -> 0, "f3." -> 3. */
static size_t prefix_index(const char *prefix)
{
	if (!prefix || prefix[0] != 'f')
		return 0;
	return (size_t)strtoul(prefix + 1, NULL, 10);
}

/* b->lock held */
static long long next_id_get(cdp_tab *t, const char *prefix)
{
	size_t i = prefix_index(prefix);
	return i < t->n_next_ids ? t->next_ids[i] : 1;
}

static void next_id_put(cdp_tab *t, const char *prefix, long long n)
{
	size_t i = prefix_index(prefix);
	if (i >= t->n_next_ids) {
		long long *nv = realloc(t->next_ids, (i + 1) * sizeof *nv);
		if (!nv)
			return;
		for (size_t k = t->n_next_ids; k <= i; k++)
			nv[k] = 1;
		t->next_ids = nv;
		t->n_next_ids = i + 1;
	}
	if (n > t->next_ids[i])
		t->next_ids[i] = n;
}

/* --- listener notes in the page's world (hooks.js) ---------------------- */

struct sky_resource {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct sky_resource sky_resources_cdp[];

/* The token that names hooks.js's events: random per process, so that
 * a page can neither ask for the notes nor forge one. */
static char hooks_token[40];
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void hooks_token_init(void)
{
	unsigned char r[16];
	if (RAND_bytes(r, sizeof r) != 1) {
		/* no entropy: the notes stay off (the snapshot goes without) */
		hooks_token[0] = '\0';
		return;
	}
	char *p = hooks_token + sprintf(hooks_token, "sky");
	for (size_t i = 0; i < sizeof r; i++)
		p += sprintf(p, "%02x", r[i]);
}

static const char *hooks_token_get(void)
{
	pthread_once(&hooks_once, hooks_token_init);
	return hooks_token;
}

void cdp_page_hooks(cdp_conn *c, const char *session)
{
	const char *tok = hooks_token_get();
	const char *src = (const char *)sky_resources_cdp[0].data;
	if (!*tok || !src)
		return;
	char *expr = cdp_asprintf("%s(\"%s\");", src, tok);
	if (!expr)
		return;
	cdp_post(c, session, "Page.addScriptToEvaluateOnNewDocument",
	         json_pack("{s:s}", "source", expr));
	free(expr);
}

/* --- isolated worlds ----------------------------------------------------- */

static void world_copy(cdp_world *dst, const cdp_world *src)
{
	dst->frame_id = cdp_strdup(src->frame_id);
	dst->session = cdp_strdup(src->session);
	dst->loader_id = cdp_strdup(src->loader_id);
	dst->ctx_id = src->ctx_id;
	dst->script_gen = src->script_gen;
	dst->prefix = cdp_strdup(src->prefix);
	dst->parent_prefix = cdp_strdup(src->parent_prefix);
	dst->owner_ref = cdp_strdup(src->owner_ref);
}

void cdp_world_free(cdp_world *w)
{
	if (!w)
		return;
	free(w->frame_id);
	free(w->session);
	free(w->loader_id);
	free(w->prefix);
	free(w->parent_prefix);
	free(w->owner_ref);
	memset(w, 0, sizeof *w);
}

/* b->lock held */
static cdp_world *world_by_frame(cdp_tab *t, const char *frame_id)
{
	for (size_t i = 0; i < t->n_worlds; i++)
		if (!strcmp(t->worlds[i].frame_id, frame_id))
			return &t->worlds[i];
	return NULL;
}

static cdp_world *world_by_prefix(cdp_tab *t, const char *prefix)
{
	for (size_t i = 0; i < t->n_worlds; i++)
		if (t->worlds[i].prefix && !strcmp(t->worlds[i].prefix, prefix))
			return &t->worlds[i];
	return NULL;
}

static void world_forget(cdp_ctx *ctx, cdp_tab *t, int ctx_id)
{
	pthread_mutex_lock(&ctx->b->lock);
	for (size_t i = 0; i < t->n_worlds; i++) {
		if (t->worlds[i].ctx_id == ctx_id) {
			cdp_world_free(&t->worlds[i]);
			t->worlds[i] = t->worlds[--t->n_worlds];
			break;
		}
	}
	pthread_mutex_unlock(&ctx->b->lock);
}

static int exception_fail(json_t *res, const char *what)
{
	json_t *ex = json_object_get(res, "exceptionDetails");
	json_t *exo = json_object_get(ex, "exception");
	const char *d = cdp_jstr(exo, "description");
	if (!d)
		d = cdp_jstr(ex, "text");
	return cdp_fail(SKY_ERROR, "%s threw: %.400s", what,
	                d ? d : "an exception");
}

/* Is this protocol error the world's document going away? */
static int context_gone(void)
{
	const char *m = cdp_errmsg();
	return strstr(m, "context with specified id") ||
	       strstr(m, "context was destroyed") ||
	       strstr(m, "Execution context") || strstr(m, "No frame");
}

/*
 * The world of `frame_id` with the current page script, created and
 * installed when missing. parent_prefix/owner_ref describe where the
 * frame sits (NULL for the main frame).
 */
static int world_ensure(cdp_ctx *ctx, cdp_tab *t, const char *session,
                        const char *frame_id, const char *prefix,
                        const char *parent_prefix, const char *owner_ref,
                        cdp_world *out)
{
	cdp_browser *b = ctx->b;
	json_t *res = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&b->lock);
	cdp_world *w = world_by_frame(t, frame_id);
	if (w && w->script_gen == b->script_gen) {
		if (owner_ref &&
		    (!w->owner_ref || strcmp(w->owner_ref, owner_ref))) {
			free(w->owner_ref);
			w->owner_ref = cdp_strdup(owner_ref);
			free(w->parent_prefix);
			w->parent_prefix = cdp_strdup(parent_prefix);
		}
		world_copy(out, w);
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	int existing_ctx = w ? w->ctx_id : 0;
	char *script = cdp_strdup(b->script);
	unsigned gen = b->script_gen;
	unsigned nav = t->frame_nav_seq;
	long long base = next_id_get(t, prefix);
	pthread_mutex_unlock(&b->lock);
	if (!script)
		return cdp_fail(SKY_EINVALID,
		                "no page script yet: call snapshot() or "
		                "set_page_script() first");

	int ctx_id = existing_ctx;
	if (!ctx_id) {
		rc = cdp_call(ctx->conn, session, "Page.createIsolatedWorld",
		              json_pack("{s:s,s:s,s:b}", "frameId", frame_id,
		                        "worldName", WORLD_NAME,
		                        "grantUniveralAccess", 0),
		              call_timeout(ctx), &res);
		if (rc) {
			free(script);
			return rc;
		}
		ctx_id = (int)cdp_jint(res, "executionContextId", 0);
		json_decref(res);
		res = NULL;
	}
	rc = cdp_call(ctx->conn, session, "Runtime.evaluate",
	              json_pack("{s:s,s:i,s:b}", "expression", script,
	                        "contextId", ctx_id, "returnByValue", 1),
	              call_timeout(ctx), &res);
	free(script);
	if (rc)
		return rc;
	if (json_object_get(res, "exceptionDetails")) {
		rc = exception_fail(res, "the page script");
		json_decref(res);
		return rc;
	}
	json_decref(res);
	res = NULL;
	if (!existing_ctx && base > 1) {
		char expr[64];
		snprintf(expr, sizeof expr, "globalThis.__sky.setBase(%lld)",
		         base);
		rc = cdp_call(ctx->conn, session, "Runtime.evaluate",
		              json_pack("{s:s,s:i}", "expression", expr,
		                        "contextId", ctx_id),
		              call_timeout(ctx), NULL);
		if (rc)
			return rc;
	}

	out->frame_id = cdp_strdup(frame_id);
	out->session = cdp_strdup(session);
	out->ctx_id = ctx_id;
	out->script_gen = gen;
	out->prefix = cdp_strdup(prefix);
	out->parent_prefix = cdp_strdup(parent_prefix);
	out->owner_ref = cdp_strdup(owner_ref);
	pthread_mutex_lock(&b->lock);
	/* A frame that navigated meanwhile may have taken the world along:
	 * use it this once, cache it only when nothing moved. */
	if (t->frame_nav_seq == nav) {
		w = world_by_frame(t, frame_id);
		if (w) {
			cdp_world_free(w);
			world_copy(w, out);
		} else {
			cdp_world *nw =
			    realloc(t->worlds, (t->n_worlds + 1) * sizeof *nw);
			if (nw) {
				t->worlds = nw;
				world_copy(&t->worlds[t->n_worlds++], out);
			}
		}
	}
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static int world_main(cdp_ctx *ctx, cdp_tab *t, cdp_world *out)
{
	pthread_mutex_lock(&ctx->b->lock);
	char *frame = cdp_strdup(t->main_frame);
	pthread_mutex_unlock(&ctx->b->lock);
	int rc = world_ensure(ctx, t, t->session, frame, "", NULL, NULL, out);
	free(frame);
	return rc;
}

int cdp_world_get(cdp_ctx *ctx, cdp_tab *t, const char *prefix,
                  cdp_world *world)
{
	memset(world, 0, sizeof *world);
	if (!prefix || !*prefix)
		return world_main(ctx, t, world);
	pthread_mutex_lock(&ctx->b->lock);
	cdp_world *w = world_by_prefix(t, prefix);
	if (w)
		world_copy(world, w);
	pthread_mutex_unlock(&ctx->b->lock);
	if (!w)
		return cdp_fail(
		    SKY_ENOTFOUND,
		    "the frame of these ids (%.*s) has navigated or "
		    "is gone since the snapshot",
		    (int)strlen(prefix) - 1, prefix);
	return 0;
}

static json_t *call_params(const cdp_world *w, const char *fn, json_t *args,
                           int by_value)
{
	char decl[160];
	snprintf(decl, sizeof decl,
	         "function(...a){return globalThis.__sky.%s(...a)}", fn);
	json_t *argv = json_array();
	size_t i;
	json_t *a;
	json_array_foreach (args, i, a)
		json_array_append_new(argv, json_pack("{s:O}", "value", a));
	return json_pack("{s:s,s:i,s:o,s:b,s:b}", "functionDeclaration", decl,
	                 "executionContextId", w->ctx_id, "arguments", argv,
	                 "returnByValue", by_value, "awaitPromise", 1);
}

static int world_call_raw(cdp_ctx *ctx, const cdp_world *w, const char *fn,
                          json_t *args, int by_value, int timeout_ms,
                          json_t **res)
{
	json_t *params = call_params(w, fn, args, by_value);
	if (!by_value)
		json_object_set_new(params, "objectGroup", json_string("sky"));
	json_decref(args);
	int rc =
	    cdp_call(ctx->conn, w->session, "Runtime.callFunctionOn", params,
	             timeout_ms > 0 ? timeout_ms : call_timeout(ctx), res);
	if (rc == SKY_ERROR && context_gone())
		return cdp_fail(SKY_ENOTFOUND,
		                "the page changed (its document was replaced) "
		                "while calling %s",
		                fn);
	if (rc)
		return rc;
	if (json_object_get(*res, "exceptionDetails")) {
		char what[64];
		snprintf(what, sizeof what, "__sky.%s", fn);
		rc = exception_fail(*res, what);
		json_decref(*res);
		*res = NULL;
	}
	return rc;
}

int cdp_world_call(cdp_ctx *ctx, const cdp_world *w, const char *fn,
                   json_t *args, int timeout_ms, json_t **result)
{
	json_t *res = NULL;
	*result = NULL;
	int rc = world_call_raw(ctx, w, fn, args, 1, timeout_ms, &res);
	if (rc)
		return rc;
	json_t *r = json_object_get(res, "result");
	json_t *v = json_object_get(r, "value");
	*result = v ? json_incref(v) : json_null();
	json_decref(res);
	return 0;
}

int cdp_world_object(cdp_ctx *ctx, const cdp_world *w, const char *fn,
                     json_t *args, char **object_id)
{
	json_t *res = NULL;
	*object_id = NULL;
	int rc = world_call_raw(ctx, w, fn, args, 0, 0, &res);
	if (rc)
		return rc;
	*object_id =
	    cdp_strdup(cdp_jstr(json_object_get(res, "result"), "objectId"));
	json_decref(res);
	return 0;
}

int cdp_frame_offset(cdp_ctx *ctx, cdp_tab *t, const char *prefix, double *x,
                     double *y)
{
	cdp_world w, parent;
	*x = *y = 0;
	char *cur = cdp_strdup(prefix);
	int rc = 0;
	/* Walk up the frame chain adding each iframe's content origin. */
	for (int depth = 0; cur && *cur && depth < 16; depth++) {
		rc = cdp_world_get(ctx, t, cur, &w);
		if (rc)
			break;
		rc = cdp_world_get(
		    ctx, t, w.parent_prefix ? w.parent_prefix : "", &parent);
		if (rc) {
			cdp_world_free(&w);
			break;
		}
		json_t *off = NULL;
		rc = cdp_world_call(
		    ctx, &parent, "frameOffset",
		    json_pack("[s]", w.owner_ref ? w.owner_ref : ""), 0, &off);
		if (rc == 0 && !json_is_object(off))
			rc = cdp_fail(SKY_ENOTFOUND,
			              "the frame's element is gone from its "
			              "parent page");
		if (rc == 0) {
			*x += cdp_jnum(off, "x", 0);
			*y += cdp_jnum(off, "y", 0);
		}
		json_decref(off);
		free(cur);
		cur = cdp_strdup(w.parent_prefix ? w.parent_prefix : "");
		cdp_world_free(&w);
		cdp_world_free(&parent);
		if (rc)
			break;
	}
	free(cur);
	return rc;
}

/* --- navigation ------------------------------------------------------------- */

static int nav_errcode(const char *text)
{
	if (strstr(text, "ERR_CONNECTION_REFUSED") ||
	    strstr(text, "ERR_NAME_NOT_RESOLVED") ||
	    strstr(text, "ERR_ADDRESS_UNREACHABLE"))
		return SKY_ECONNREFUSED;
	if (strstr(text, "TIMED_OUT"))
		return SKY_ETIMEDOUT;
	return SKY_EHTTP;
}

static char *tab_title(cdp_ctx *ctx, cdp_tab *t)
{
	json_t *res = NULL;
	if (cdp_call(ctx->conn, NULL, "Target.getTargetInfo",
	             json_pack("{s:s}", "targetId", t->target_id),
	             call_timeout(ctx), &res))
		return cdp_strdup("");
	char *title =
	    cdp_strdup(cdp_jstr(json_object_get(res, "targetInfo"), "title"));
	json_decref(res);
	return title ? title : cdp_strdup("");
}

static json_t *nav_result(cdp_ctx *ctx, cdp_tab *t, const char *loader,
                          int loaded)
{
	char *title = tab_title(ctx, t);
	pthread_mutex_lock(&ctx->b->lock);
	int status =
	    loader && t->status_loader && !strcmp(loader, t->status_loader)
	        ? t->status
	        : 0;
	json_t *r =
	    json_pack("{s:s,s:i,s:s,s:b}", "url", t->url ? t->url : "",
	              "status", status, "title", title, "loaded", loaded);
	pthread_mutex_unlock(&ctx->b->lock);
	free(title);
	return r;
}

/* Wait until the main frame committed `loader` and fired load. Returns
 * 1 loaded, 0 committed only, -1 nothing by the deadline. */
static int wait_load(cdp_ctx *ctx, cdp_tab *t, const char *loader,
                     unsigned load_before, int64_t end)
{
	struct timespec dl;
	int out = -1;
	cdp_deadline(&dl, end - cdp_now_ms());
	pthread_mutex_lock(&ctx->b->lock);
	for (;;) {
		int committed = t->loader_id && !strcmp(t->loader_id, loader);
		if (committed && (t->load_seq != load_before ||
		                  (!t->loading && t->stop_seq)))
			out = 1;
		else if (committed)
			out = 0;
		if (out == 1 || cdp_conn_dead(ctx->conn) || t->closed)
			break;
		if (cdp_ctx_wait(ctx, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&ctx->b->lock);
	return out;
}

static int navigate_once(cdp_ctx *ctx, cdp_tab *t, const char *url, int64_t end,
                         json_t **result)
{
	json_t *res = NULL;
	pthread_mutex_lock(&ctx->b->lock);
	unsigned load_before = t->load_seq;
	pthread_mutex_unlock(&ctx->b->lock);
	int64_t left = end - cdp_now_ms();
	/* The reader keeps answering events (auth, dialogs) while this
	 * worker waits for the commit. */
	int rc = cdp_call(ctx->conn, t->session, "Page.navigate",
	                  json_pack("{s:s}", "url", url),
	                  (int)(left > 0 ? left : 1), &res);
	if (rc == SKY_ETIMEDOUT)
		return cdp_fail(SKY_ETIMEDOUT,
		                "navigation to %s did not commit in time", url);
	if (rc)
		return rc;
	const char *etext = cdp_jstr(res, "errorText");
	if (etext && *etext) {
		rc = cdp_fail(nav_errcode(etext), "navigation to %s failed: %s",
		              url, etext);
		json_decref(res);
		return rc;
	}
	char *loader = cdp_strdup(cdp_jstr(res, "loaderId"));
	json_decref(res);
	if (!loader) { /* same-document navigation */
		*result = nav_result(ctx, t, NULL, 1);
		return 0;
	}
	int st = wait_load(ctx, t, loader, load_before, end);
	if ((rc = cdp_ctx_alive(ctx)) != 0) {
		free(loader);
		return rc;
	}
	if (st < 0) {
		free(loader);
		return cdp_fail(SKY_ETIMEDOUT,
		                "navigation to %s did not commit in time", url);
	}
	/* Committed but still loading at the deadline: the page is there,
	 * which is what a person would work with ("loaded": false). */
	*result = nav_result(ctx, t, loader, st == 1);
	free(loader);
	return 0;
}

int cdp_navigate(cdp_ctx *ctx, const char *url, const char *opts_json,
                 json_t **result)
{
	json_t *opts = opts_json ? json_loads(opts_json, 0, NULL) : NULL;
	int timeout_ms = (int)cdp_jint(opts, "timeout_ms", 30000);
	int retries = (int)cdp_jint(opts, "retries", 2);
	json_decref(opts);
	*result = NULL;
	if (!*url)
		return cdp_fail(SKY_EINVALID, "empty URL");
	if (timeout_ms <= 0)
		timeout_ms = 30000;
	if (retries < 0 || retries > 10)
		retries = 2;
	cdp_shot_stale(ctx);
	int rc = SKY_ERROR, timed_out = 0;
	for (int attempt = 0; attempt <= retries; attempt++) {
		cdp_tab *t = cdp_ctx_tab_for_navigation(ctx);
		if (!t)
			return cdp_errcode();
		rc = navigate_once(ctx, t, url, cdp_now_ms() + timeout_ms,
		                   result);
		if (rc == 0 || rc == SKY_EBROWSER || rc == SKY_EINVALID)
			break;
		cdp_log(SKY_HOST_LOG_INFO, "attempt %d: %s", attempt + 1,
		        cdp_errmsg());
		if (rc == SKY_ETIMEDOUT) {
			/* Cancel the pending load: a navigation started over
			 * it would only be reported as net::ERR_ABORTED. */
			timed_out = 1;
			cdp_call(ctx->conn, t->session, "Page.stopLoading",
			         NULL, call_timeout(ctx), NULL);
		}
	}
	if (rc && rc != SKY_EBROWSER && timed_out)
		rc = cdp_fail(SKY_ETIMEDOUT,
		              "navigation to %s timed out: no page within %d "
		              "ms (%d attempts)",
		              url, timeout_ms, retries + 1);
	return rc;
}

void cdp_nav_mark_get(cdp_ctx *ctx, cdp_tab *t, cdp_nav_mark *m)
{
	pthread_mutex_lock(&ctx->b->lock);
	m->nav = t->nav_seq;
	m->commit = t->commit_seq;
	m->samedoc = t->samedoc_seq;
	m->dl = ctx->dl_seq;
	pthread_mutex_unlock(&ctx->b->lock);
}

int cdp_wait_navigation(cdp_ctx *ctx, cdp_tab *t, const cdp_nav_mark *m,
                        int timeout_ms, int *navigated)
{
	struct timespec dl;
	int64_t start = cdp_now_ms(), end = start + timeout_ms;
	*navigated = 0;
	pthread_mutex_lock(&ctx->b->lock);
	for (;;) {
		int64_t now = cdp_now_ms();
		/* A new document: loaded, or committed when the caller
		 * settles next (the settle waits for the load). */
		if (t->commit_seq != m->commit &&
		    (!t->loading || t->act_until_commit)) {
			*navigated = 1;
			t->load_pending = t->loading;
			break;
		}
		if (t->nav_seq == m->nav && t->commit_seq == m->commit &&
		    !t->loading)
			break; /* nothing was started */
		/* Requested but not (yet) loading: cancelled, turned into a
		 * download, or same-document; give it a short grace. */
		if (!t->loading && t->commit_seq == m->commit &&
		    (t->samedoc_seq != m->samedoc || ctx->dl_seq != m->dl ||
		     now - start > 1500))
			break;
		if (now >= end || cdp_conn_dead(ctx->conn) || t->closed) {
			*navigated = t->commit_seq != m->commit;
			break;
		}
		int64_t until = t->loading ? end : start + 1500;
		cdp_deadline(&dl, (until < end ? until : end) - now);
		cdp_ctx_wait(ctx, &dl);
	}
	pthread_mutex_unlock(&ctx->b->lock);
	return cdp_ctx_alive(ctx);
}

void cdp_wait_pending_load(cdp_ctx *ctx, cdp_tab *t, int timeout_ms)
{
	struct timespec dl;
	cdp_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&ctx->b->lock);
	while (t->load_pending && t->loading && !t->closed &&
	       !cdp_conn_dead(ctx->conn) && cdp_ctx_wait(ctx, &dl) != ETIMEDOUT)
		;
	t->load_pending = 0;
	pthread_mutex_unlock(&ctx->b->lock);
}

/* --- screenshots taken ahead ------------------------------------------------ */

/* Page.captureScreenshot's parameters for the options of a screenshot
 * call; *key names what they ask for (NULL for a full page). */
static int shot_params(const char *opts_json, json_t **params, int *full,
                       char **key)
{
	json_t *opts = opts_json ? json_loads(opts_json, 0, NULL) : NULL;
	const char *f = cdp_jstr(opts, "format");
	int jpeg = f && !strcmp(f, "jpeg");
	int quality = (int)cdp_jint(opts, "quality", 80);
	*full = cdp_jbool(opts, "full_page", 0);
	*params = NULL;
	if (key)
		*key = NULL;
	if (f && strcmp(f, "png") && !jpeg) {
		json_decref(opts);
		return cdp_fail(SKY_EINVALID,
		                "screenshot format must be png or jpeg");
	}
	json_decref(opts);
	quality = quality < 1 ? 1 : quality > 100 ? 100 : quality;
	*params = json_pack("{s:s}", "format", jpeg ? "jpeg" : "png");
	if (jpeg) {
		json_object_set_new(*params, "quality", json_integer(quality));
		/* the faster JPEG encoder: the same picture, a little larger */
		json_object_set_new(*params, "optimizeForSpeed", json_true());
	}
	if (key && !*full)
		*key = cdp_asprintf("%s:%d", jpeg ? "jpeg" : "png",
		                    jpeg ? quality : 0);
	return 0;
}

static int shot_decode(json_t *res, unsigned char **data, size_t *len)
{
	json_t *d = json_object_get(res, "data");
	if (!json_is_string(d))
		return cdp_fail(SKY_EBROWSER, "no image data in the reply");
	*data = skyx_base64_decode(json_string_value(d), json_string_length(d),
	                           len);
	return *data ? 0 : cdp_fail(SKY_EBROWSER, "bad base64 image data");
}

/*
 * A screenshot taken ahead. The settle knows the page has gone quiet
 * before it can say so: its quiet windows still have to pass. Asked to
 * ("screenshot": the options of the screenshot call that follows), it
 * sends the capture when only the network window is left to run, on a
 * thread, and marks it fresh when the settle ends with nothing changed
 * since it was sent: no request, navigation, DOM change or short timer
 * of the site after it. The next screenshot call with those options gets
 * it without a capture of its own; anything else drops it.
 */
typedef struct cdp_shot {
	pthread_t th;
	cdp_conn *conn; /* referenced */
	char *session;
	json_t *params; /* the call takes it */
	char *key;      /* the options it answers (shot_params) */
	int timeout_ms;
	unsigned nav, commit; /* the tab's, when sent */
	int64_t net_mark;     /* the tab's last_net_ms, when sent */
	int64_t sent_ms;
	int fresh; /* the settle ended with nothing changed since sent */
	int done;  /* atomic: the capture answered */
	int joined;
	int rc;
	unsigned char *data;
	size_t len;
} cdp_shot;

#define SHOTS_PER_SETTLE 3

static void *shot_main(void *arg)
{
	cdp_shot *s = arg;
	json_t *res = NULL, *params = s->params;
	s->params = NULL;
	s->rc = cdp_call(s->conn, s->session, "Page.captureScreenshot", params,
	                 s->timeout_ms, &res);
	if (s->rc == 0)
		s->rc = shot_decode(res, &s->data, &s->len);
	json_decref(res);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Waits for the capture (at once when it answered) and frees it. */
static void shot_free(cdp_shot *s)
{
	if (!s)
		return;
	if (!s->joined)
		pthread_join(s->th, NULL);
	cdp_conn_unref(s->conn);
	json_decref(s->params);
	free(s->session);
	free(s->key);
	free(s->data);
	free(s);
}

/* The page is as it was when s was sent (browser lock held). */
static int shot_current(const cdp_shot *s, const cdp_tab *t)
{
	return s->nav == t->nav_seq && s->commit == t->commit_seq &&
	       s->net_mark == t->last_net_ms && !t->loading &&
	       !strcmp(s->session, t->session);
}

/* In the settle, browser lock held: the page looks quiet, so capture it
 * now unless a capture of this page is on its way or done; a capture of
 * an older state is replaced once it answered, a few times at most. */
static void shot_ahead(cdp_ctx *ctx, cdp_tab *t, const char *key,
                       const json_t *params, int *n)
{
	cdp_shot *s = ctx->shot;
	if (s) {
		if (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
			return;
		if (shot_current(s, t) && !strcmp(s->key, key))
			return;
		if (*n >= SHOTS_PER_SETTLE)
			return;
		ctx->shot = NULL;
		shot_free(s); /* answered: the join does not wait */
	}
	if (*n >= SHOTS_PER_SETTLE || !t->session)
		return;
	s = calloc(1, sizeof *s);
	if (!s)
		return;
	(*n)++;
	s->conn = ctx->conn;
	cdp_conn_ref(s->conn);
	s->session = cdp_strdup(t->session);
	s->params = json_deep_copy(params);
	s->key = cdp_strdup(key);
	s->timeout_ms = call_timeout(ctx) * 2;
	s->nav = t->nav_seq;
	s->commit = t->commit_seq;
	s->net_mark = t->last_net_ms;
	s->sent_ms = cdp_now_ms();
	if (pthread_create(&s->th, NULL, shot_main, s)) {
		cdp_conn_unref(s->conn);
		json_decref(s->params);
		free(s->session);
		free(s->key);
		free(s);
		return;
	}
	ctx->shot = s;
}

void cdp_shot_stale(cdp_ctx *ctx)
{
	pthread_mutex_lock(&ctx->b->lock);
	if (ctx->shot)
		ctx->shot->fresh = 0;
	pthread_mutex_unlock(&ctx->b->lock);
}

void cdp_shot_drop(cdp_ctx *ctx)
{
	pthread_mutex_lock(&ctx->b->lock);
	cdp_shot *s = ctx->shot;
	ctx->shot = NULL;
	pthread_mutex_unlock(&ctx->b->lock);
	shot_free(s);
}

/* --- settle ------------------------------------------------------------------ */

void cdp_settle_note_action(cdp_ctx *ctx, const char *action_json,
                            int64_t began_ms, const json_t *result)
{
	json_t *a = json_loads(action_json, 0, NULL);
	const char *type = cdp_jstr(a, "action_type");
	int typing =
	    type && (!strcmp(type, "input_text") || !strcmp(type, "keypress"));
	json_decref(a);
	if (!typing || !cdp_jbool(result, "success", 0) ||
	    cdp_jbool(result, "navigated", 0))
		return;
	pthread_mutex_lock(&ctx->b->lock);
	cdp_tab *t = ctx->n_tabs ? ctx->tabs[ctx->active] : NULL;
	if (t) {
		t->keys_ms = cdp_now_ms();
		t->keys_began_ms = began_ms;
		t->keys_nav = t->nav_seq;
	}
	pthread_mutex_unlock(&ctx->b->lock);
}

/* After typing, a page reacts late on purpose: a search box waits a few
 * hundred ms after the last key (a debounce) before it fetches and lists
 * suggestions, and until then the page looks settled. So wait until the
 * DOM changes after the last key or a request has started since the
 * typing began (a search-as-you-type request may start with the first
 * key), for at most react_ms after the last key; a page that does not
 * react costs only what is left of that window.
 * Returns what came ("dom", "network", "none"), or NULL when no typing is
 * pending; *rc is set when the browser failed. */
static const char *await_reaction(cdp_ctx *ctx, cdp_tab *t, int64_t react_ms,
                                  int64_t end, int *rc)
{
	pthread_mutex_lock(&ctx->b->lock);
	int64_t keys = t->keys_ms, began = t->keys_began_ms;
	unsigned nav = t->keys_nav;
	int have_script = ctx->b->script != NULL;
	t->keys_ms = 0;
	pthread_mutex_unlock(&ctx->b->lock);
	if (!keys || !have_script || react_ms <= 0)
		return NULL;
	int64_t until = keys + react_ms < end ? keys + react_ms : end;
	for (;;) {
		int64_t now = cdp_now_ms();
		pthread_mutex_lock(&ctx->b->lock);
		int net = t->loading || t->nav_seq != nav ||
		          t->last_start_ms >= began;
		pthread_mutex_unlock(&ctx->b->lock);
		if (net)
			return "network";
		if (now >= until)
			return "none";
		/* the page script watches the DOM; ask in short slices so
		 * that a request that starts meanwhile is seen too */
		int64_t slice = until - now < 100 ? until - now : 100;
		cdp_world w;
		json_t *q = NULL;
		*rc = world_main(ctx, t, &w);
		if (*rc == 0) {
			*rc = cdp_world_call(
			    ctx, &w, "waitChange",
			    json_pack("[I,I,s]", (json_int_t)(now - keys),
			              (json_int_t)slice, hooks_token_get()),
			    (int)slice + 2000, &q);
			cdp_world_free(&w);
		}
		if (*rc == SKY_EBROWSER)
			return NULL;
		int changed = *rc || cdp_jbool(q, "changed", 0);
		*rc = 0; /* a document that went away has changed too */
		json_decref(q);
		if (changed)
			return "dom";
	}
}

/*
 * Settle: the page loaded, no request in flight for network_quiet_ms,
 * then no DOM change for dom_quiet_ms (the page script's observer).
 * The result says how it ended ("ended"):
 *   quiet         all of the above
 *   busy          the DOM never went quiet, but after busy_ms only
 *                 repeating changes were left (text or attributes of the
 *                 same nodes changing again and again: a ticker, a
 *                 clock); content that comes meanwhile is waited for
 *   long_request  a request still open after long_request_ms was set
 *                 aside to call the network quiet
 *   no_dom        no page script yet: load and network only
 *   cap           not settled within max_ms
 */
int cdp_settle(cdp_ctx *ctx, const char *opts_json, json_t **result)
{
	json_t *opts = opts_json ? json_loads(opts_json, 0, NULL) : NULL;
	int64_t max_ms = cdp_jint(opts, "max_ms", 5000);
	int64_t net_quiet = cdp_jint(opts, "network_quiet_ms", 50);
	int64_t dom_quiet = cdp_jint(opts, "dom_quiet_ms", 50);
	int64_t long_ms = cdp_jint(opts, "long_request_ms", 3000);
	int64_t react_ms = cdp_jint(opts, "reaction_ms", 500);
	int64_t busy_ms = cdp_jint(opts, "busy_ms", 1000);
	/* "screenshot": the options of the screenshot call that follows */
	json_t *shot_opts = json_object_get(opts, "screenshot");
	json_t *shot_req = NULL;
	char *shot_key = NULL;
	int shots = 0, full = 0;
	if (json_is_object(shot_opts)) {
		char *so = cdp_json_dumps(shot_opts);
		if (so && shot_params(so, &shot_req, &full, &shot_key) == 0 &&
		    !shot_key) {
			json_decref(shot_req);
			shot_req = NULL;
		}
		free(so);
		cdp_err_clear();
	}
	json_decref(opts);
	if (max_ms < 0 || max_ms > 120000)
		max_ms = 5000;
	int64_t start = cdp_now_ms(), end = start + max_ms;
	const char *reason = "deadline", *ended = "cap", *reaction = NULL;
	char why[256] = "";
	int settled = 0, dom_checked = 0, busy = 0;
	size_t inflight = 0, cut_off = 0;
	int64_t dom_last = INT64_MAX; /* the DOM's last change, our clock */
	int rc = 0;
	*result = NULL;

	cdp_shot_drop(ctx);
	cdp_tab *t = cdp_ctx_tab(ctx);
	if (!t) {
		rc = cdp_errcode();
		goto out;
	}
	reaction = await_reaction(ctx, t, react_ms, end, &rc);
	if (rc)
		goto out;
	/* A loaded document whose network window is still running: put the
	 * page script (and its MutationObserver) in now, so the DOM window
	 * runs alongside the network one instead of after it. */
	pthread_mutex_lock(&ctx->b->lock);
	int early = ctx->b->script && !t->loading && !t->closed &&
	            cdp_now_ms() - t->last_net_ms < net_quiet;
	/* A page already loaded with nothing in flight: the capture sent
	 * now overlaps the page script's setup and both windows (it is kept
	 * only if nothing changes after it was sent, as below). */
	if (shot_key && !t->loading && !t->closed &&
	    !cdp_tab_inflight(t, cdp_now_ms(), long_ms))
		shot_ahead(ctx, t, shot_key, shot_req, &shots);
	pthread_mutex_unlock(&ctx->b->lock);
	if (early) {
		cdp_world w0;
		if (world_main(ctx, t, &w0) == 0)
			cdp_world_free(&w0);
	}
	while (cdp_now_ms() < end) {
		struct timespec dl;
		pthread_mutex_lock(&ctx->b->lock);
		for (;;) {
			int64_t now = cdp_now_ms();
			int64_t until = end;
			if (now >= end || cdp_conn_dead(ctx->conn) || t->closed)
				break;
			inflight = cdp_tab_inflight(t, now, long_ms);
			if (t->loading) {
				reason = "the page was still loading";
			} else if (inflight) {
				reason = "requests were still in flight";
				/* wake when the oldest turns long-lived */
				for (size_t i = 0; i < t->n_reqs; i++)
					if (!t->reqs[i].long_lived &&
					    t->reqs[i].start_ms + long_ms <
					        until)
						until = t->reqs[i].start_ms +
						        long_ms;
			} else if (now - t->last_net_ms < net_quiet) {
				reason = "the network was not quiet";
				until = t->last_net_ms + net_quiet;
				if (shot_key)
					shot_ahead(ctx, t, shot_key, shot_req,
					           &shots);
			} else {
				break;
			}
			cdp_deadline(&dl, (until > end ? end : until) - now);
			cdp_ctx_wait(ctx, &dl);
		}
		unsigned nav_mark = t->nav_seq;
		int64_t net_mark = t->last_net_ms;
		int ready = !t->loading && !inflight &&
		            cdp_now_ms() - t->last_net_ms >= net_quiet;
		cut_off = cdp_tab_cut_off(t, cdp_now_ms(), long_ms);
		if (ready && shot_key)
			shot_ahead(ctx, t, shot_key, shot_req, &shots);
		pthread_mutex_unlock(&ctx->b->lock);
		rc = cdp_ctx_alive(ctx);
		if (rc)
			goto out;
		if (!ready || cdp_now_ms() >= end)
			break;

		/* The DOM: quiet for dom_quiet ms, as seen by the page
		 * script's MutationObserver. */
		cdp_world w;
		pthread_mutex_lock(&ctx->b->lock);
		int have_script = ctx->b->script != NULL;
		pthread_mutex_unlock(&ctx->b->lock);
		if (!have_script) {
			snprintf(why, sizeof why,
			         "DOM not observed (no page script yet)");
			settled = 1;
			break;
		}
		rc = world_main(ctx, t, &w);
		json_t *q = NULL;
		if (rc == 0) {
			int64_t now = cdp_now_ms(), left = end - now;
			int64_t busy_left = start + busy_ms - now;
			json_t *args =
			    json_pack("[I,I]", (json_int_t)dom_quiet,
			              (json_int_t)(left > 0 ? left : 0));
			/* without busy_ms, wait for quiet only */
			json_array_append_new(
			    args,
			    busy_ms > 0
			        ? json_integer(busy_left > 0 ? busy_left : 0)
			        : json_null());
			json_array_append_new(args,
			                      json_string(hooks_token_get()));
			rc = cdp_world_call(ctx, &w, "waitQuiet", args,
			                    (int)(left + 2000), &q);
			cdp_world_free(&w);
		}
		if (rc == SKY_EBROWSER)
			goto out;
		if (rc) /* the document went away: start over */
			continue;
		dom_checked = 1;
		/* when the DOM last changed (or a short timer of the site is
		 * due): the answer's time, a little late, less how long it
		 * had been quiet */
		long long since = cdp_jint(q, "since_ms", -1);
		dom_last = since >= 0 ? cdp_now_ms() - since : INT64_MAX;
		int quiet = cdp_jbool(q, "quiet", 0);
		busy = !quiet && cdp_jbool(q, "busy", 0);
		json_decref(q);
		if (!quiet && !busy) {
			reason = "the DOM kept changing";
			continue;
		}
		pthread_mutex_lock(&ctx->b->lock);
		int moved = t->loading || t->nav_seq != nav_mark ||
		            t->last_net_ms != net_mark;
		pthread_mutex_unlock(&ctx->b->lock);
		if (!moved) {
			settled = 1;
			break;
		}
	}
	if (settled)
		ended = cut_off        ? "long_request"
		        : !dom_checked ? "no_dom"
		        : busy         ? "busy"
		                       : "quiet";
	if (settled && !why[0])
		snprintf(why, sizeof why, "loaded, network quiet %lld ms%s%s",
		         (long long)net_quiet,
		         !dom_checked ? ""
		         : busy       ? ", DOM busy (only repeating changes)"
		                      : ", DOM quiet",
		         cut_off ? " (long requests set aside)" : "");
	else if (!settled)
		snprintf(why, sizeof why, "not settled after %lld ms: %s",
		         (long long)max_ms, reason);
	*result = json_pack("{s:b,s:I,s:s,s:s}", "settled", settled,
	                    "waited_ms", (json_int_t)(cdp_now_ms() - start),
	                    "reason", why, "ended", ended);
	if (reaction)
		json_object_set_new(*result, "reaction", json_string(reaction));
	if (shot_key) {
		/* The capture sent ahead is of the settled page when nothing
		 * changed after it was sent. */
		pthread_mutex_lock(&ctx->b->lock);
		cdp_shot *s = ctx->shot;
		if (s)
			s->fresh = settled && dom_checked && !busy &&
			           !strcmp(s->key, shot_key) &&
			           shot_current(s, t) && dom_last < s->sent_ms;
		int ahead = s && s->fresh;
		pthread_mutex_unlock(&ctx->b->lock);
		json_object_set_new(*result, "screenshot_ahead",
		                    json_boolean(ahead));
	}
	rc = 0;
out:
	json_decref(shot_req);
	free(shot_key);
	return rc;
}

/* --- snapshot ------------------------------------------------------------------ */

typedef struct snap_frame {
	char *id, *parent, *session, *url, *origin;
	char *prefix;
	char *raw;  /* the script's JSON text */
	json_t *js; /* parsed, when splicing */
	int spliced;
} snap_frame;

typedef struct snap_frames {
	snap_frame *v;
	size_t n;
} snap_frames;

static void collect_tree(snap_frames *fs, json_t *node, const char *session)
{
	json_t *f = json_object_get(node, "frame");
	const char *id = cdp_jstr(f, "id");
	if (id) {
		for (size_t i = 0; i < fs->n; i++)
			if (!strcmp(fs->v[i].id, id))
				goto children;
		snap_frame *nv = realloc(fs->v, (fs->n + 1) * sizeof *nv);
		if (!nv)
			return;
		fs->v = nv;
		snap_frame *sf = &fs->v[fs->n++];
		memset(sf, 0, sizeof *sf);
		sf->id = cdp_strdup(id);
		sf->parent = cdp_strdup(cdp_jstr(f, "parentId"));
		sf->session = cdp_strdup(session);
		sf->url = cdp_strdup(cdp_jstr(f, "url"));
		sf->origin = cdp_strdup(cdp_jstr(f, "securityOrigin"));
	}
children:;
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(node, "childFrames"), i, c)
		collect_tree(fs, c, session);
}

static void frames_free(snap_frames *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		snap_frame *f = &fs->v[i];
		free(f->id);
		free(f->parent);
		free(f->session);
		free(f->url);
		free(f->origin);
		free(f->prefix);
		free(f->raw);
		json_decref(f->js);
	}
	free(fs->v);
}

/* "f<N>." for a child frame, stable for the tab's life. b->lock held. */
static char *frame_prefix(cdp_tab *t, const char *frame_id)
{
	for (size_t i = 0; i < t->n_prefix; i++)
		if (!strcmp(t->prefix_frames[i], frame_id))
			return cdp_asprintf("f%zu.", i + 1);
	char **np = realloc(t->prefix_frames, (t->n_prefix + 1) * sizeof *np);
	if (!np)
		return NULL;
	t->prefix_frames = np;
	t->prefix_frames[t->n_prefix++] = cdp_strdup(frame_id);
	return cdp_asprintf("f%zu.", t->n_prefix);
}

static int frames_list(cdp_ctx *ctx, cdp_tab *t, snap_frames *fs)
{
	char **sess = NULL;
	size_t ns = 0;
	cdp_browser *b = ctx->b;
	pthread_mutex_lock(&b->lock);
	sess = calloc(b->n_sessions + 1, sizeof *sess);
	sess[ns++] = cdp_strdup(t->session);
	for (size_t i = 0; i < b->n_sessions; i++)
		if (b->sessions[i]->tab == t && !b->sessions[i]->is_main)
			sess[ns++] = cdp_strdup(b->sessions[i]->id);
	pthread_mutex_unlock(&b->lock);
	int rc = 0;
	for (size_t i = 0; i < ns; i++) {
		json_t *res = NULL;
		int r = cdp_call(ctx->conn, sess[i], "Page.getFrameTree", NULL,
		                 call_timeout(ctx), &res);
		if (r == 0)
			collect_tree(fs, json_object_get(res, "frameTree"),
			             sess[i]);
		else if (i == 0)
			rc = r; /* the main session must answer */
		json_decref(res);
	}
	for (size_t i = 0; i < ns; i++)
		free(sess[i]);
	free(sess);
	if (rc == 0 && fs->n == 0)
		rc = cdp_fail(SKY_EBROWSER, "the tab has no frames");
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < fs->n; i++)
		fs->v[i].prefix =
		    i == 0 ? cdp_strdup("") : frame_prefix(t, fs->v[i].id);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

static int snap_one(cdp_ctx *ctx, cdp_tab *t, snap_frame *f, json_t *opts)
{
	cdp_world w;
	char *parent_prefix = NULL;
	if (f->parent) {
		pthread_mutex_lock(&ctx->b->lock);
		cdp_world *pw = world_by_frame(t, f->parent);
		parent_prefix = cdp_strdup(pw ? pw->prefix : "");
		pthread_mutex_unlock(&ctx->b->lock);
	}
	int rc = world_ensure(ctx, t, f->session, f->id, f->prefix,
	                      parent_prefix, NULL, &w);
	free(parent_prefix);
	if (rc)
		return rc;
	json_t *o = json_deep_copy(opts);
	json_object_set_new(o, "prefix", json_string(f->prefix));
	json_object_set_new(o, "hooks", json_string(hooks_token_get()));
	json_t *v = NULL;
	rc = cdp_world_call(ctx, &w, "snapshot", json_pack("[o]", o), 0, &v);
	if (rc == SKY_ENOTFOUND) {
		/* the document changed under us: retry once in a new world */
		world_forget(ctx, t, w.ctx_id);
		cdp_world_free(&w);
		rc = world_ensure(ctx, t, f->session, f->id, f->prefix, NULL,
		                  NULL, &w);
		if (rc)
			return rc;
		o = json_deep_copy(opts);
		json_object_set_new(o, "prefix", json_string(f->prefix));
		json_object_set_new(o, "hooks", json_string(hooks_token_get()));
		rc = cdp_world_call(ctx, &w, "snapshot", json_pack("[o]", o), 0,
		                    &v);
	}
	cdp_world_free(&w);
	if (rc)
		return rc;
	if (!json_is_string(v)) {
		json_decref(v);
		return cdp_fail(SKY_ERROR,
		                "the page script returned no snapshot");
	}
	f->raw = cdp_strdup(json_string_value(v));
	json_decref(v);
	/* the counter is near the end (stats); no need to parse it all */
	const char *k =
	    f->raw
	        ? strstr(f->raw +
	                     (strlen(f->raw) > 400 ? strlen(f->raw) - 400 : 0),
	                 "\"next_id\":")
	        : NULL;
	if (k) {
		pthread_mutex_lock(&ctx->b->lock);
		next_id_put(t, f->prefix, strtoll(k + 10, NULL, 10));
		pthread_mutex_unlock(&ctx->b->lock);
	}
	return 0;
}

/* Depth-first search for iframe placeholders. */
static void find_placeholders(json_t *arr, json_t *out)
{
	size_t i;
	json_t *n;
	json_array_foreach (arr, i, n) {
		if (!json_is_object(n))
			continue;
		if (cdp_jstr(n, "frame_ref"))
			json_array_append(out, n);
		find_placeholders(json_object_get(n, "children"), out);
	}
}

static snap_frame *frame_by_id(snap_frames *fs, const char *id)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].id && !strcmp(fs->v[i].id, id))
			return &fs->v[i];
	return NULL;
}

/* Which frame an iframe element shows: DOM.describeNode of the element
 * in the parent's world. */
static char *owner_frame(cdp_ctx *ctx, const cdp_world *pw, const char *ref)
{
	char *oid = NULL;
	json_t *res = NULL;
	char *fid = NULL;
	if (cdp_world_object(ctx, pw, "el", json_pack("[s]", ref), &oid) ||
	    !oid)
		return NULL;
	if (cdp_call(ctx->conn, pw->session, "DOM.describeNode",
	             json_pack("{s:s}", "objectId", oid), call_timeout(ctx),
	             &res) == 0)
		fid = cdp_strdup(
		    cdp_jstr(json_object_get(res, "node"), "frameId"));
	json_decref(res);
	free(oid);
	return fid;
}

static void set_owner(cdp_ctx *ctx, cdp_tab *t, const char *frame_id,
                      const char *parent_prefix, const char *ref)
{
	pthread_mutex_lock(&ctx->b->lock);
	cdp_world *w = world_by_frame(t, frame_id);
	if (w) {
		free(w->owner_ref);
		w->owner_ref = cdp_strdup(ref);
		free(w->parent_prefix);
		w->parent_prefix = cdp_strdup(parent_prefix);
	}
	pthread_mutex_unlock(&ctx->b->lock);
}

static int splice(cdp_ctx *ctx, cdp_tab *t, snap_frames *fs, char **out)
{
	for (size_t i = 0; i < fs->n; i++) {
		if (!fs->v[i].raw)
			continue;
		fs->v[i].js = json_loads(fs->v[i].raw, 0, NULL);
	}
	json_t *root = fs->v[0].js;
	if (!json_is_object(root))
		return cdp_fail(SKY_ERROR, "the page script's snapshot is not "
		                           "JSON");
	json_t *frames = json_array();
	cdp_buf text = {0};
	const char *mt = cdp_jstr(root, "text");
	cdp_buf_puts(&text, mt ? mt : "");
	json_t *stats = json_object_get(root, "stats");

	for (size_t i = 0; i < fs->n; i++) {
		snap_frame *pf = &fs->v[i];
		if (!pf->js)
			continue;
		json_t *ph = json_array();
		find_placeholders(json_object_get(pf->js, "elements"), ph);
		cdp_world pw;
		if (json_array_size(ph) &&
		    cdp_world_get(ctx, t, pf->prefix, &pw) == 0) {
			size_t k;
			json_t *node;
			json_array_foreach (ph, k, node) {
				const char *ref = cdp_jstr(node, "frame_ref");
				char *fid = owner_frame(ctx, &pw, ref);
				snap_frame *cf =
				    fid ? frame_by_id(fs, fid) : NULL;
				free(fid);
				if (!cf || !cf->js || cf->spliced)
					continue;
				cf->spliced = 1;
				set_owner(ctx, t, cf->id, pf->prefix, ref);
				json_object_set(
				    node, "children",
				    json_object_get(cf->js, "elements"));
				char fname[32];
				snprintf(fname, sizeof fname, "%.*s",
				         (int)strlen(cf->prefix) - 1,
				         cf->prefix);
				json_object_set_new(node, "frame",
				                    json_string(fname));
				int cross = !cf->origin || !fs->v[0].origin ||
				            strcmp(cf->origin, fs->v[0].origin);
				json_array_append_new(
				    frames,
				    json_pack("{s:s,s:s,s:b}", "id", fname,
				              "url", cf->url ? cf->url : "",
				              "cross_origin", cross));
				const char *ct = cdp_jstr(cf->js, "text");
				if (ct && *ct) {
					cdp_buf_puts(&text, "\n");
					cdp_buf_puts(&text, ct);
				}
				json_t *cs = json_object_get(cf->js, "stats");
				const char *keys[] = {"nodes", "kept",
				                      "interactable"};
				for (int s = 0; s < 3 && stats; s++)
					json_object_set_new(
					    stats, keys[s],
					    json_integer(
					        cdp_jint(stats, keys[s], 0) +
					        cdp_jint(cs, keys[s], 0)));
			}
			cdp_world_free(&pw);
		}
		json_decref(ph);
	}
	json_object_set_new(root, "frames", frames);
	json_object_set_new(root, "text",
	                    json_string(text.data ? text.data : ""));
	cdp_buf_free(&text);
	*out = cdp_json_dumps(root);
	return *out ? 0 : cdp_fail(SKY_ENOMEM, "out of memory");
}

int cdp_snapshot(cdp_ctx *ctx, const char *script, const char *opts_json,
                 char **out)
{
	snap_frames fs = {0};
	json_t *opts = NULL;
	int rc;
	int64_t t0 = cdp_now_ms();

	*out = NULL;
	if (opts_json && *opts_json) {
		opts = json_loads(opts_json, 0, NULL);
		if (!json_is_object(opts)) {
			json_decref(opts);
			return cdp_fail(
			    SKY_EINVALID,
			    "snapshot options are not a JSON object");
		}
	} else {
		opts = json_object();
	}
	cdp_browser_set_script(ctx->b, script, strlen(script));
	cdp_tab *t = cdp_ctx_tab(ctx);
	if (!t) {
		json_decref(opts);
		return cdp_errcode();
	}
	rc = frames_list(ctx, t, &fs);
	if (rc)
		goto out;
	rc = snap_one(ctx, t, &fs.v[0], opts);
	if (rc)
		goto out;
	int others = 0;
	for (size_t i = 1; i < fs.n; i++) {
		/* a frame that fails (detached meanwhile, about:blank without
		 * a document) is left out, not fatal */
		if (snap_one(ctx, t, &fs.v[i], opts) == 0)
			others++;
		else if (cdp_errcode() == SKY_EBROWSER) {
			rc = SKY_EBROWSER;
			goto out;
		}
	}
	if (!others) {
		*out = fs.v[0].raw;
		fs.v[0].raw = NULL;
	} else {
		rc = splice(ctx, t, &fs, out);
		/* element handles made while splicing; releasing them can
		 * take milliseconds, so nobody waits for it */
		for (size_t i = 0; i < fs.n; i++)
			if (fs.v[i].session &&
			    (i == 0 ||
			     strcmp(fs.v[i].session, fs.v[0].session)))
				cdp_post(
				    ctx->conn, fs.v[i].session,
				    "Runtime.releaseObjectGroup",
				    json_pack("{s:s}", "objectGroup", "sky"));
	}
	cdp_log(SKY_HOST_LOG_DEBUG, "snapshot of %zu frame(s) in %lld ms", fs.n,
	        (long long)(cdp_now_ms() - t0));
out:
	if (rc == SKY_ETIMEDOUT) {
		/* A page stuck in a loop (an alert after another, a busy
		 * script): stop its script so the next look can read it,
		 * and say what kept it busy. */
		cdp_post(ctx->conn, t->session, "Runtime.terminateExecution",
		         NULL);
		pthread_mutex_lock(&ctx->b->lock);
		size_t nd = json_array_size(ctx->dialogs);
		pthread_mutex_unlock(&ctx->b->lock);
		if (nd) {
			char *msg = cdp_strdup(cdp_errmsg());
			rc =
			    cdp_fail(SKY_ETIMEDOUT,
			             "%s (the page kept opening dialogs: %zu%s "
			             "accepted since the last look; its script "
			             "was stopped)",
			             msg ? msg : "timed out", nd,
			             nd >= CDP_MAX_DIALOGS ? " or more" : "");
			free(msg);
		}
	}
	frames_free(&fs);
	json_decref(opts);
	return rc;
}

/* --- screenshot, state, evaluate ------------------------------------------------------ */

int cdp_screenshot(cdp_ctx *ctx, const char *opts_json, unsigned char **data,
                   size_t *len)
{
	json_t *params = NULL, *res = NULL;
	char *key = NULL;
	int full = 0;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = shot_params(opts_json, &params, &full, &key)))
		return rc;
	cdp_tab *t = cdp_ctx_tab(ctx);
	if (!t) {
		json_decref(params);
		free(key);
		return cdp_errcode();
	}
	/* The capture the settle took ahead, when it is of the page as it
	 * is and in these options. */
	pthread_mutex_lock(&ctx->b->lock);
	cdp_shot *s = ctx->shot;
	ctx->shot = NULL;
	int ahead =
	    s && key && s->fresh && !strcmp(s->key, key) && shot_current(s, t);
	pthread_mutex_unlock(&ctx->b->lock);
	free(key);
	if (s) {
		pthread_join(s->th, NULL);
		s->joined = 1;
		if (ahead && s->rc == 0) {
			*data = s->data;
			*len = s->len;
			s->data = NULL;
		}
		shot_free(s);
		if (*data) {
			json_decref(params);
			return 0;
		}
	}
	if (full) {
		rc = cdp_call(ctx->conn, t->session, "Page.getLayoutMetrics",
		              NULL, call_timeout(ctx), &res);
		if (rc) {
			json_decref(params);
			return rc;
		}
		json_t *cs = json_object_get(res, "cssContentSize");
		double w = cdp_jnum(cs, "width", ctx->vw);
		double h = cdp_jnum(cs, "height", ctx->vh);
		json_decref(res);
		res = NULL;
		if (h > 16384) /* Chromium's texture limit */
			h = 16384;
		json_object_set_new(params, "captureBeyondViewport",
		                    json_true());
		json_object_set_new(params, "clip",
		                    json_pack("{s:i,s:i,s:f,s:f,s:i}", "x", 0,
		                              "y", 0, "width", w, "height", h,
		                              "scale", 1));
	}
	rc = cdp_call(ctx->conn, t->session, "Page.captureScreenshot", params,
	              call_timeout(ctx) * 2, &res);
	if (rc)
		return rc;
	rc = shot_decode(res, data, len);
	json_decref(res);
	return rc;
}

int cdp_page_state(cdp_ctx *ctx, json_t **out)
{
	json_t *res = NULL;
	cdp_browser *b = ctx->b;
	*out = NULL;
	cdp_tab *t = cdp_ctx_tab(ctx);
	if (!t)
		return cdp_errcode();
	int rc = cdp_call(ctx->conn, NULL, "Target.getTargets", NULL,
	                  call_timeout(ctx), &res);
	if (rc)
		return rc;
	json_t *infos = json_object_get(res, "targetInfos");
	json_t *tabs = json_array();
	json_t *st = json_object();
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < ctx->n_tabs; i++) {
		cdp_tab *x = ctx->tabs[i];
		const char *url = x->url ? x->url : "", *title = "";
		size_t k;
		json_t *ti;
		json_array_foreach (infos, k, ti) {
			const char *id = cdp_jstr(ti, "targetId");
			if (id && !strcmp(id, x->target_id)) {
				title = cdp_jstr(ti, "title");
				if (cdp_jstr(ti, "url"))
					url = cdp_jstr(ti, "url");
			}
		}
		json_array_append_new(
		    tabs, json_pack("{s:i,s:s,s:s,s:b}", "index", (int)i, "url",
		                    url, "title", title ? title : "", "active",
		                    i == ctx->active));
		if (i == ctx->active) {
			json_object_set_new(st, "url", json_string(url));
			json_object_set_new(st, "title",
			                    json_string(title ? title : ""));
		}
	}
	json_object_set_new(st, "tabs", tabs);
	json_object_set_new(st, "dialogs", ctx->dialogs);
	ctx->dialogs = json_array();
	json_t *dls = json_array();
	int in_progress = 0;
	for (size_t i = 0; i < ctx->n_downloads; i++) {
		cdp_download *d = &ctx->downloads[i];
		in_progress += !strcmp(d->state, "inProgress");
		if (d->reported || !strcmp(d->state, "inProgress"))
			continue;
		d->reported = 1;
		json_array_append_new(
		    dls, json_pack("{s:s,s:s,s:s,s:s?,s:I}", "state", d->state,
		                   "url", d->url ? d->url : "", "filename",
		                   d->suggested ? d->suggested : "", "path",
		                   d->path, "size", (json_int_t)d->received));
	}
	json_object_set_new(st, "downloads", dls);
	/* Not listed until they finish; a caller may want to wait. */
	json_object_set_new(st, "downloads_in_progress",
	                    json_integer(in_progress));
	json_object_set_new(st, "download_dir", json_string(ctx->download_dir));
	pthread_mutex_unlock(&b->lock);
	json_decref(res);
	*out = st;
	return 0;
}

int cdp_evaluate(cdp_ctx *ctx, const char *expression, char **out)
{
	json_t *res = NULL;
	*out = NULL;
	cdp_shot_stale(ctx);
	cdp_tab *t = cdp_ctx_tab(ctx);
	if (!t)
		return cdp_errcode();
	int rc = cdp_call(ctx->conn, t->session, "Runtime.evaluate",
	                  json_pack("{s:s,s:b,s:b}", "expression", expression,
	                            "returnByValue", 1, "awaitPromise", 1),
	                  call_timeout(ctx), &res);
	if (rc == SKY_ETIMEDOUT) /* a page stuck in a loop: stop it */
		cdp_post(ctx->conn, t->session, "Runtime.terminateExecution",
		         NULL);
	if (rc)
		return rc;
	if (json_object_get(res, "exceptionDetails")) {
		rc = exception_fail(res, "the expression");
		json_decref(res);
		return rc;
	}
	json_t *v = json_object_get(json_object_get(res, "result"), "value");
	*out = cdp_json_dumps(v ? v : json_null());
	json_decref(res);
	return *out ? 0 : cdp_fail(SKY_ENOMEM, "out of memory");
}
