/*
 * browser-cdp: browser profiles. A context's state is its cookies (all of
 * them, httpOnly included, from Storage.getCookies on the context) and,
 * per origin, localStorage and sessionStorage read in the main frame of
 * every open tab. Loading sets the cookies on the context, then visits
 * each saved origin in the context's first tab with every request
 * answered by an empty page (Fetch), so the site itself is never asked,
 * writes the storage there, and leaves the tab blank with an empty
 * history. docs/browser.md "Browser profiles" says what is not kept.
 */
#include "cdp.h"

#include <stdlib.h>
#include <string.h>

#define STATE_FORMAT "skyengine-browser-state"

/* What the main world of a tab holds for its origin, or null. */
static const char READ_JS[] =
    "(() => { if (!/^https?:$/.test(location.protocol)) return null;"
    " const d = (f) => { const r = {}; try { const s = f();"
    " for (let i = 0; i < s.length; i++) { const k = s.key(i);"
    " r[k] = s.getItem(k); } } catch (e) {} return r; };"
    " return {origin: location.origin,"
    " localStorage: d(() => localStorage),"
    " sessionStorage: d(() => sessionStorage)}; })()";

/* The main sessions of the context's open tabs (malloc'd, NULL ended). */
static char **tab_sessions(cdp_ctx *ctx)
{
	cdp_browser *b = ctx->b;
	pthread_mutex_lock(&b->lock);
	char **v = calloc(ctx->n_tabs + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; v && i < ctx->n_tabs; i++) {
		cdp_tab *t = ctx->tabs[i];
		if (!t->closed && !t->crashed && t->session)
			v[n++] = cdp_strdup(t->session);
	}
	pthread_mutex_unlock(&b->lock);
	return v;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static json_t *find_origin(json_t *origins, const char *origin)
{
	size_t i;
	json_t *o;
	json_array_foreach (origins, i, o) {
		const char *k = cdp_jstr(o, "origin");
		if (k && !strcmp(k, origin))
			return o;
	}
	return NULL;
}

int cdp_state_save(cdp_ctx *ctx, json_t **out)
{
	json_t *res = NULL;
	*out = NULL;
	if (cdp_ctx_alive(ctx))
		return cdp_errcode();
	int tmo = ctx->b->call_timeout_ms;
	int rc = cdp_call(ctx->conn, NULL, "Storage.getCookies",
	                  json_pack("{s:s}", "browserContextId", ctx->id), tmo,
	                  &res);
	if (rc)
		return rc;
	json_t *cookies = json_object_get(res, "cookies");
	json_t *state = json_pack("{s:s,s:i,s:o,s:[]}", "format", STATE_FORMAT,
	                          "version", 1, "cookies",
	                          json_is_array(cookies) ? json_incref(cookies)
	                                                 : json_array(),
	                          "origins");
	json_decref(res);
	if (!state)
		return cdp_fail(SKY_ENOMEM, "out of memory");
	json_t *origins = json_object_get(state, "origins");
	char **sess = tab_sessions(ctx);
	for (size_t i = 0; sess && sess[i]; i++) {
		res = NULL;
		/* A tab that does not answer (a dialog, a busy page) keeps
		 * what the profile had for its origin. */
		if (cdp_call(ctx->conn, sess[i], "Runtime.evaluate",
		             json_pack("{s:s,s:b}", "expression", READ_JS,
		                       "returnByValue", 1),
		             tmo, &res) == 0 &&
		    !json_object_get(res, "exceptionDetails")) {
			json_t *v = json_object_get(
			    json_object_get(res, "result"), "value");
			const char *o = cdp_jstr(v, "origin");
			if (o && !find_origin(origins, o))
				json_array_append(origins, v);
		}
		json_decref(res);
	}
	free_strv(sess);
	cdp_err_clear();
	size_t i;
	json_t *o;
	json_array_foreach (ctx->loaded_origins, i, o) {
		const char *k = cdp_jstr(o, "origin");
		if (k && !find_origin(origins, k))
			json_array_append(origins, o);
	}
	*out = state;
	return 0;
}

/* Only the fields Storage.setCookies takes (CookieParam). */
static json_t *cookie_param(const json_t *c)
{
	static const char *const keep[] = {
	    "name",      "value",        "domain",     "path",
	    "secure",    "httpOnly",     "sameSite",   "priority",
	    "sameParty", "sourceScheme", "sourcePort", NULL};
	json_t *p = json_object();
	for (size_t i = 0; keep[i]; i++) {
		json_t *v = json_object_get(c, keep[i]);
		if (v)
			json_object_set(p, keep[i], v);
	}
	/* session cookies have no expiry (-1) */
	json_t *exp = json_object_get(c, "expires");
	if (json_is_number(exp) && json_number_value(exp) > 0 &&
	    !cdp_jbool(c, "session", 0))
		json_object_set(p, "expires", exp);
	return p;
}

static int storage_empty(const json_t *o)
{
	return !json_object_size(json_object_get(o, "localStorage")) &&
	       !json_object_size(json_object_get(o, "sessionStorage"));
}

/* Write one origin's storage in tab `t`, at a blank page of the origin. */
static int load_origin(cdp_ctx *ctx, const json_t *o)
{
	const char *origin = cdp_jstr(o, "origin");
	json_t *res = NULL;
	if (!origin ||
	    (strncmp(origin, "http://", 7) && strncmp(origin, "https://", 8)))
		return 0;
	char *url = cdp_asprintf("%s/", origin);
	char opts[64];
	snprintf(opts, sizeof opts, "{\"timeout_ms\":%d,\"retries\":0}",
	         ctx->b->call_timeout_ms);
	int rc = cdp_navigate(ctx, url, opts, &res);
	json_decref(res);
	res = NULL;
	free(url);
	if (rc)
		return rc;
	json_t *data =
	    json_pack("{s:O?,s:O?}", "l", json_object_get(o, "localStorage"),
	              "s", json_object_get(o, "sessionStorage"));
	char *dj = cdp_json_dumps(data);
	json_decref(data);
	char *expr = cdp_asprintf(
	    "((d) => { for (const [k, v] of Object.entries(d.l || {}))"
	    " localStorage.setItem(k, String(v));"
	    " for (const [k, v] of Object.entries(d.s || {}))"
	    " sessionStorage.setItem(k, String(v)); return true; })(%s)",
	    dj ? dj : "{}");
	free(dj);
	cdp_tab *t = cdp_ctx_tab(ctx);
	rc = t ? cdp_call(ctx->conn, t->session, "Runtime.evaluate",
	                  json_pack("{s:s,s:b}", "expression", expr,
	                            "returnByValue", 1),
	                  ctx->b->call_timeout_ms, &res)
	       : cdp_errcode();
	free(expr);
	if (!rc && json_object_get(res, "exceptionDetails"))
		rc = cdp_fail(SKY_ERROR, "could not write the storage of %s",
		              origin);
	json_decref(res);
	return rc;
}

static void set_restoring(cdp_ctx *ctx, int on)
{
	pthread_mutex_lock(&ctx->b->lock);
	ctx->restoring = on;
	pthread_mutex_unlock(&ctx->b->lock);
}

int cdp_state_load(cdp_ctx *ctx, const char *state_json)
{
	json_error_t je;
	json_t *st = json_loads(state_json, 0, &je);
	json_t *res = NULL;
	int rc = 0;
	if (!json_is_object(st) || !cdp_jstr(st, "format") ||
	    strcmp(cdp_jstr(st, "format"), STATE_FORMAT)) {
		json_decref(st);
		return cdp_fail(SKY_EINVALID, "not a saved browser state");
	}
	if ((rc = cdp_ctx_alive(ctx))) {
		json_decref(st);
		return cdp_errcode();
	}
	int tmo = ctx->b->call_timeout_ms;
	json_t *cookies = json_array(), *c;
	size_t i;
	json_array_foreach (json_object_get(st, "cookies"), i, c)
		if (json_is_object(c))
			json_array_append_new(cookies, cookie_param(c));
	if (json_array_size(cookies))
		rc = cdp_call(ctx->conn, NULL, "Storage.setCookies",
		              json_pack("{s:o,s:s}", "cookies", cookies,
		                        "browserContextId", ctx->id),
		              tmo, &res);
	else
		json_decref(cookies);
	json_decref(res);
	res = NULL;
	json_t *origins = json_object_get(st, "origins");
	int any = 0;
	json_array_foreach (origins, i, c)
		any |= !storage_empty(c);
	cdp_tab *t = NULL;
	if (!rc && any && (t = cdp_ctx_tab_for_navigation(ctx))) {
		char *sid = NULL;
		pthread_mutex_lock(&ctx->b->lock);
		sid = cdp_strdup(t->session);
		int proxy_fetch = ctx->proxy_user != NULL;
		pthread_mutex_unlock(&ctx->b->lock);
		set_restoring(ctx, 1);
		/* with a proxy login, Fetch already pauses every request */
		if (!proxy_fetch)
			rc = cdp_call(ctx->conn, sid, "Fetch.enable",
			              json_pack("{s:[{s:s}]}", "patterns",
			                        "urlPattern", "*"),
			              tmo, NULL);
		json_array_foreach (origins, i, c) {
			if (rc)
				break;
			if (!storage_empty(c))
				rc = load_origin(ctx, c);
		}
		if (!proxy_fetch)
			cdp_call(ctx->conn, sid, "Fetch.disable", NULL, tmo,
			         NULL);
		set_restoring(ctx, 0);
		if (!rc) {
			char opts[64];
			snprintf(opts, sizeof opts,
			         "{\"timeout_ms\":%d,\"retries\":0}", tmo);
			rc = cdp_navigate(ctx, "about:blank", opts, &res);
			json_decref(res);
			res = NULL;
		}
		if (!rc)
			cdp_call(ctx->conn, sid, "Page.resetNavigationHistory",
			         NULL, tmo, NULL);
		free(sid);
	} else if (!rc && any) {
		rc = cdp_errcode();
	}
	if (!rc) {
		json_decref(ctx->loaded_origins);
		ctx->loaded_origins = json_incref(origins);
	}
	json_decref(st);
	return rc;
}
