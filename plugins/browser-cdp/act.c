/*
 * browser-cdp: the browser actions of docs/internals.md section 3, each
 * answered with a precise result (section 4). Elements are found through
 * the page script's registry in their frame's isolated world; clicks and
 * keys are real input events (Input.*), with the fallbacks a person
 * would use (the label of a hidden control); a covered element is a
 * failure that names what covers it, never a click that lands elsewhere.
 */
#include "cdp.h"
#include "datefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define ACTION_TIMEOUT_MS 10000
#define NAV_WAIT_MS 10000
#define DOWNLOAD_START_MS 10000
#define DOWNLOAD_DONE_MS 120000

/* An element resolved to its frame's world. */
typedef struct el_ref {
	const char *id;
	cdp_world w;
} el_ref;

static int valid_id(const char *id)
{
	size_t n = 0;
	if (!id)
		return 0;
	for (const char *p = id; *p; p++, n++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || *p == '.'))
			return 0;
	return n >= 1 && n <= 16;
}

/*
 * Result of a page-side step: 0 and *res, or 0 and *fail (the action
 * failed on the page), or a negative code when the browser failed.
 */
static int page_error(int rc, json_t **fail)
{
	switch (rc) {
	case SKY_EBROWSER:
		return rc;
	case SKY_ENOTFOUND:
		*fail = cdp_failure("element_not_found", "%s", cdp_errmsg());
		return 0;
	case SKY_ETIMEDOUT:
		*fail = cdp_failure("timeout", "%s", cdp_errmsg());
		return 0;
	default:
		*fail = cdp_failure("browser_error", "%s", cdp_errmsg());
		return 0;
	}
}

/* {ok:false, error, message, ...} from the page script -> a result. */
static json_t *script_failure(json_t *r)
{
	const char *kind = cdp_jstr(r, "error");
	const char *msg = cdp_jstr(r, "message");
	json_t *f = cdp_failure(kind ? kind : "browser_error", "%s",
	                        msg ? msg : "the page script failed");
	const char *cov = cdp_jstr(r, "covered_by");
	if (cov)
		json_object_set_new(f, "covered_by", json_string(cov));
	json_t *opts = json_object_get(r, "options");
	if (opts)
		json_object_set(f, "options", opts);
	return f;
}

static int wcall(cdp_ctx *ctx, const el_ref *e, const char *fn, json_t *args,
                 json_t **res, json_t **fail)
{
	*res = NULL;
	*fail = NULL;
	int rc = cdp_world_call(ctx, &e->w, fn, args, ACTION_TIMEOUT_MS, res);
	if (rc)
		return page_error(rc, fail);
	if (json_is_object(*res) &&
	    json_is_false(json_object_get(*res, "ok"))) {
		*fail = script_failure(*res);
		json_decref(*res);
		*res = NULL;
	}
	return 0;
}

static int resolve(cdp_ctx *ctx, cdp_tab *t, const char *id, el_ref *e,
                   json_t **fail)
{
	char prefix[24] = "";
	memset(e, 0, sizeof *e);
	*fail = NULL;
	if (!valid_id(id)) {
		*fail = cdp_failure("invalid_action",
		                    "element_id \"%s\" is not an element id of "
		                    "the snapshot",
		                    id ? id : "");
		return 0;
	}
	const char *dot = strrchr(id, '.');
	if (dot)
		snprintf(prefix, sizeof prefix, "%.*s", (int)(dot - id + 1),
		         id);
	e->id = id;
	int rc = cdp_world_get(ctx, t, prefix, &e->w);
	if (rc == SKY_ENOTFOUND) {
		*fail =
		    cdp_failure("element_not_found",
		                "no element with id %s: %s", id, cdp_errmsg());
		return 0;
	}
	return rc ? page_error(rc, fail) : 0;
}

static void el_free(el_ref *e)
{
	cdp_world_free(&e->w);
}

/* A renderer round trip: events the page emitted before it (navigation
 * requests, dialogs) have been received when it returns. */
static void flush(cdp_ctx *ctx, cdp_tab *t)
{
	cdp_call(ctx->conn, t->session, "Runtime.evaluate",
	         json_pack("{s:s}", "expression", "0"), ACTION_TIMEOUT_MS,
	         NULL);
}

/* --- input events ----------------------------------------------------- */

static int mouse(cdp_ctx *ctx, cdp_tab *t, const char *type, double x, double y,
                 int clicks, int wait)
{
	json_t *p = json_pack("{s:s,s:f,s:f}", "type", type, "x", x, "y", y);
	if (clicks) {
		json_object_set_new(p, "button", json_string("left"));
		json_object_set_new(p, "clickCount", json_integer(clicks));
		json_object_set_new(
		    p, "buttons", json_integer(!strcmp(type, "mousePressed")));
	}
	if (!wait)
		return cdp_post(ctx->conn, t->session,
		                "Input.dispatchMouseEvent", p);
	return cdp_call(ctx->conn, t->session, "Input.dispatchMouseEvent", p,
	                ACTION_TIMEOUT_MS, NULL);
}

/* Move, press, release (twice for a double click); only the last event
 * is waited for: the Input domain keeps the order. */
static int click_at(cdp_ctx *ctx, cdp_tab *t, double x, double y, int count)
{
	int rc = mouse(ctx, t, "mouseMoved", x, y, 0, 0);
	for (int i = 1; i <= count && rc == 0; i++) {
		rc = mouse(ctx, t, "mousePressed", x, y, i, 0);
		if (rc == 0)
			rc =
			    mouse(ctx, t, "mouseReleased", x, y, i, i == count);
	}
	t->mouse_x = x;
	t->mouse_y = y;
	return rc;
}

static int key_event(cdp_ctx *ctx, cdp_tab *t, const cdp_key *k, int mods,
                     int wait)
{
	json_t *down =
	    json_pack("{s:s,s:s,s:s,s:i,s:i,s:i}", "type",
	              k->text ? "keyDown" : "rawKeyDown", "key", k->key, "code",
	              k->code, "windowsVirtualKeyCode", k->keycode,
	              "nativeVirtualKeyCode", k->keycode, "modifiers", mods);
	if (k->text) {
		json_object_set_new(down, "text", json_string(k->text));
		json_object_set_new(down, "unmodifiedText",
		                    json_string(k->text));
	}
	int rc =
	    cdp_post(ctx->conn, t->session, "Input.dispatchKeyEvent", down);
	if (rc)
		return rc;
	json_t *up = json_pack(
	    "{s:s,s:s,s:s,s:i,s:i,s:i}", "type", "keyUp", "key", k->key, "code",
	    k->code, "windowsVirtualKeyCode", k->keycode,
	    "nativeVirtualKeyCode", k->keycode, "modifiers", mods);
	if (!wait)
		return cdp_post(ctx->conn, t->session, "Input.dispatchKeyEvent",
		                up);
	return cdp_call(ctx->conn, t->session, "Input.dispatchKeyEvent", up,
	                ACTION_TIMEOUT_MS, NULL);
}

static int press(cdp_ctx *ctx, cdp_tab *t, const char *name)
{
	cdp_key k;
	int mods;
	char tb[8];
	if (cdp_key_parse(name, &k, &mods, tb))
		return cdp_fail(SKY_EINVALID, "unknown key \"%s\"", name);
	return key_event(ctx, t, &k, mods, 1);
}

/* --- results ---------------------------------------------------------- */

static void add_nav(cdp_ctx *ctx, cdp_tab *t, json_t *r, int navigated)
{
	pthread_mutex_lock(&ctx->b->lock);
	cdp_tab *active = ctx->n_tabs ? ctx->tabs[ctx->active] : t;
	json_object_set_new(r, "navigated", json_boolean(navigated));
	json_object_set_new(r, "url",
	                    json_string(active->url ? active->url : ""));
	if (active != t)
		json_object_set_new(r, "tab_index",
		                    json_integer((json_int_t)ctx->active));
	pthread_mutex_unlock(&ctx->b->lock);
}

/* After an action: the navigation it started, if any. `flushed`: the
 * action's last call was a round trip to the tab's own renderer (a read
 * in its main frame), which is the flush already. */
static int after_input_ex(cdp_ctx *ctx, cdp_tab *t, const cdp_nav_mark *m,
                          json_t *r, int flushed)
{
	int navigated = 0;
	if (!flushed)
		flush(ctx, t);
	int rc = cdp_wait_navigation(ctx, t, m, NAV_WAIT_MS, &navigated);
	if (rc)
		return rc;
	add_nav(ctx, t, r, navigated);
	return 0;
}

static int after_input(cdp_ctx *ctx, cdp_tab *t, const cdp_nav_mark *m,
                       json_t *r)
{
	return after_input_ex(ctx, t, m, r, 0);
}

/* --- click ------------------------------------------------------------ */

/*
 * Where input events reach an element, in the tab's window: prepare()
 * in the element's frame finds a point whose hit-test is the element (or
 * inside it), then each ancestor frame brings that point into its own
 * view (an iframe placed low on a page, a frame inside a frame) and
 * checks that the iframe receives it. A point outside the window fails
 * with not_visible. On success *p is prepare()'s answer with x and y in
 * window coordinates.
 */
static int aim(cdp_ctx *ctx, cdp_tab *t, el_ref *e, json_t *opts, json_t **p,
               json_t **fail)
{
	int rc =
	    wcall(ctx, e, "prepare", json_pack("[s,o]", e->id, opts), p, fail);
	if (rc || *fail)
		return rc;
	double x = cdp_jnum(*p, "x", 0), y = cdp_jnum(*p, "y", 0);
	char *owner = cdp_strdup(e->w.owner_ref);
	char *up = cdp_strdup(e->w.parent_prefix ? e->w.parent_prefix : "");
	int framed = e->w.prefix && *e->w.prefix;
	for (int depth = 0; framed && depth < 16; depth++) {
		el_ref pe = {owner ? owner : "", {0}};
		json_t *fp = NULL;
		rc = cdp_world_get(ctx, t, up, &pe.w);
		if (rc) {
			rc = page_error(rc, fail);
			break;
		}
		rc = wcall(ctx, &pe, "framePoint",
		           json_pack("[s,f,f]", pe.id, x, y), &fp, fail);
		if (rc == 0 && !*fail) {
			x = cdp_jnum(fp, "x", 0);
			y = cdp_jnum(fp, "y", 0);
		}
		json_decref(fp);
		framed = pe.w.prefix && *pe.w.prefix;
		free(owner);
		free(up);
		owner = cdp_strdup(pe.w.owner_ref);
		up = cdp_strdup(pe.w.parent_prefix ? pe.w.parent_prefix : "");
		el_free(&pe);
		if (rc || *fail)
			break;
	}
	free(owner);
	free(up);
	if (rc == 0 && !*fail &&
	    (x < 0 || y < 0 || (ctx->vw > 0 && x >= ctx->vw) ||
	     (ctx->vh > 0 && y >= ctx->vh)))
		*fail =
		    cdp_failure("not_visible",
		                "element %s is at (%.0f, %.0f), outside the "
		                "window (%dx%d)",
		                e->id, x, y, ctx->vw, ctx->vh);
	if (rc || *fail) {
		json_decref(*p);
		*p = NULL;
		return rc;
	}
	json_object_set_new(*p, "x", json_real(x));
	json_object_set_new(*p, "y", json_real(y));
	return 0;
}

/* Click an element by input events at a point whose hit-test is the
 * element (or inside it). A covered element is not clicked: the failure
 * names what covers it, for the planner to close or scroll away (a
 * JavaScript click would fire none of the pointer events many widgets
 * listen to, and would go through a dialog a person cannot). *res is the
 * success result (no navigation info yet). */
static int click_el(cdp_ctx *ctx, cdp_tab *t, el_ref *e, int count,
                    json_t **res, json_t **fail)
{
	json_t *p = NULL;
	*res = NULL;
	int rc = aim(ctx, t, e, json_object(), &p, fail);
	if (rc || *fail)
		return rc;
	double x = cdp_jnum(p, "x", 0), y = cdp_jnum(p, "y", 0);
	rc = click_at(ctx, t, x, y, count);
	if (rc) {
		json_decref(p);
		return rc;
	}
	*res = cdp_ok();
	const char *via = cdp_jstr(p, "via");
	if (via && strcmp(via, "self"))
		json_object_set_new(*res, "via", json_string(via));
	/* aimed off the element's centre: say what received the click */
	if (cdp_jstr(p, "hit"))
		json_object_set(*res, "clicked", json_object_get(p, "hit"));
	json_decref(p);
	return 0;
}

static int wait_download(cdp_ctx *ctx, unsigned dl_before, int start_ms,
                         json_t **out);

/* An action's end: on an error (rc) neither result is kept; otherwise
 * the failure when there is one, else the result. */
static int finish(int rc, json_t *res, json_t *fail, json_t **out)
{
	if (rc) {
		json_decref(res);
		json_decref(fail);
		return rc;
	}
	*out = fail ? fail : res;
	return 0;
}

static int act_click(cdp_ctx *ctx, cdp_tab *t, json_t *a, int download,
                     json_t **out)
{
	el_ref e;
	json_t *fail = NULL, *res = NULL;
	cdp_nav_mark m;
	const char *id = cdp_jstr(a, "element_id");
	int count = cdp_jbool(a, "double_click", 0) ? 2 : 1;
	int rc = resolve(ctx, t, id, &e, &fail);
	if (rc || fail)
		goto out;
	cdp_nav_mark_get(ctx, t, &m);
	rc = click_el(ctx, t, &e, count, &res, &fail);
	if (rc || fail)
		goto out;
	if (download || cdp_jbool(a, "download", 0)) {
		json_t *dl = NULL;
		rc = wait_download(
		    ctx, m.dl,
		    (int)cdp_jint(a, "timeout_ms", DOWNLOAD_START_MS), &dl);
		if (rc == 0 && json_is_false(json_object_get(dl, "success"))) {
			json_decref(res);
			res = NULL;
			fail = dl;
			goto out;
		}
		if (rc == 0)
			json_object_set_new(
			    res, "download",
			    json_incref(json_object_get(dl, "download")));
		json_decref(dl);
		if (rc == 0)
			add_nav(ctx, t, res, 0);
	} else {
		rc = after_input(ctx, t, &m, res);
	}
out:
	el_free(&e);
	return finish(rc, res, fail, out);
}

/* --- downloads -------------------------------------------------------- */

static int wait_download(cdp_ctx *ctx, unsigned dl_before, int start_ms,
                         json_t **out)
{
	struct timespec dl;
	cdp_download *d = NULL;
	char *path = NULL, *name = NULL, *url = NULL, *state = NULL;
	int64_t received = 0;

	if (start_ms <= 0 || start_ms > 600000)
		start_ms = DOWNLOAD_START_MS;
	cdp_deadline(&dl, start_ms);
	pthread_mutex_lock(&ctx->b->lock);
	for (;;) {
		for (size_t i = 0; i < ctx->n_downloads && !d; i++)
			if (ctx->downloads[i].seq > dl_before)
				d = &ctx->downloads[i];
		if (d || cdp_conn_dead(ctx->conn) ||
		    cdp_ctx_wait(ctx, &dl) == ETIMEDOUT)
			break;
	}
	if (d) {
		char *guid = cdp_strdup(d->guid);
		cdp_deadline(&dl, DOWNLOAD_DONE_MS);
		for (;;) {
			/* the array may move: look the record up again */
			d = NULL;
			for (size_t i = 0; i < ctx->n_downloads && !d; i++)
				if (!strcmp(ctx->downloads[i].guid, guid))
					d = &ctx->downloads[i];
			if (!d || strcmp(d->state, "inProgress") ||
			    cdp_conn_dead(ctx->conn) ||
			    cdp_ctx_wait(ctx, &dl) == ETIMEDOUT)
				break;
		}
		free(guid);
		if (d) {
			path = cdp_strdup(d->path);
			name = cdp_strdup(d->suggested);
			url = cdp_strdup(d->url);
			state = cdp_strdup(d->state);
			received = d->received;
			d->reported = !strcmp(d->state, "completed");
		}
	}
	pthread_mutex_unlock(&ctx->b->lock);
	int rc = cdp_ctx_alive(ctx);
	if (rc)
		goto out;
	if (!state) {
		*out = cdp_failure("timeout",
		                   "no download started within %d ms of the "
		                   "click",
		                   start_ms);
	} else if (strcmp(state, "completed")) {
		*out = cdp_failure("browser_error", "the download of %s %s",
		                   url ? url : "the file",
		                   !strcmp(state, "canceled")
		                       ? "was canceled"
		                       : "did not finish in time");
	} else {
		char hex[65];
		int64_t size = received;
		if (!path || skyx_sha256_file_hex(path, hex, &size)) {
			*out =
			    cdp_failure("browser_error",
			                "the downloaded file cannot be read");
		} else {
			const char *base = strrchr(path, '/');
			*out = cdp_ok();
			json_object_set_new(
			    *out, "download",
			    json_pack("{s:s,s:s,s:I,s:s,s:s}", "filename",
			              base ? base + 1 : path, "path", path,
			              "size", (json_int_t)size, "sha256", hex,
			              "url", url ? url : ""));
		}
	}
out:
	free(path);
	free(name);
	free(url);
	free(state);
	return rc;
}

/* --- text input --------------------------------------------------------- */

/* Letters and digits only, lower case: a masked field ("(555) 010") still
 * holds what was typed. */
static char *alnum(const char *s)
{
	char *o = malloc(strlen(s) + 1), *p = o;
	for (; o && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x80 || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z'))
			*p++ = (char)c;
		else if (c >= 'A' && c <= 'Z')
			*p++ = (char)(c - 'A' + 'a');
	}
	if (o)
		*p = '\0';
	return o;
}

static int same_value(const char *want, const char *got)
{
	if (!strcmp(want, got))
		return 2;
	char *a = alnum(want), *b = alnum(got);
	int same = a && b && *a && !strcmp(a, b);
	free(a);
	free(b);
	return same;
}

/* Clear the focused, selected field and type text as one insertion. */
static int type_text(cdp_ctx *ctx, cdp_tab *t, const char *text, int had)
{
	int rc = 0;
	if (had)
		rc = press(ctx, t, "Backspace");
	if (rc == 0 && *text)
		rc = cdp_call(ctx->conn, t->session, "Input.insertText",
		              json_pack("{s:s}", "text", text),
		              ACTION_TIMEOUT_MS, NULL);
	return rc;
}

static int read_value(cdp_ctx *ctx, el_ref *e, char **val, json_t **fail)
{
	json_t *st = NULL;
	*val = NULL;
	int rc = wcall(ctx, e, "state", json_pack("[s]", e->id), &st, fail);
	if (rc || *fail)
		return rc;
	*val = cdp_strdup(cdp_jstr(st, "value") ? cdp_jstr(st, "value") : "");
	json_decref(st);
	return 0;
}

static int act_input(cdp_ctx *ctx, cdp_tab *t, json_t *a, json_t **out)
{
	el_ref e;
	json_t *fail = NULL, *f = NULL, *res = NULL;
	char *got = NULL;
	cdp_nav_mark m;
	const char *id = cdp_jstr(a, "element_id");
	const char *text = cdp_jstr(a, "text");
	int rc;

	memset(&e, 0, sizeof e);
	if (!text) {
		*out = cdp_failure("invalid_action",
		                   "input_text needs a \"text\" string");
		return 0;
	}
	rc = resolve(ctx, t, id, &e, &fail);
	if (rc || fail)
		goto out;
	cdp_nav_mark_get(ctx, t, &m);
	int password = 0, match = 0;
	char conv[48];
	const char *want = text, *format = NULL;
	for (int attempt = 0; attempt < 2 && !match; attempt++) {
		json_decref(f);
		rc = wcall(ctx, &e, "focus", json_pack("[s,b]", id, 1), &f,
		           &fail);
		if (rc || fail)
			goto out;
		const char *kind = cdp_jstr(f, "kind");
		password = cdp_jbool(f, "password", 0);
		if (kind && !strcmp(kind, "other")) {
			fail =
			    cdp_failure("not_interactable",
			                "element %s is not a text field", id);
			goto out;
		}
		if (kind && !strcmp(kind, "value")) {
			/* date, time, colour, range: no typing, set it; a
			 * date as the page shows it becomes the value format */
			const char *type = cdp_jstr(f, "type");
			int cv = cdp_date_value(type, text, conv, sizeof conv,
			                        &format);
			if (cv < 0) {
				fail = cdp_failure(
				    "invalid_action",
				    "element %s is an <input type=%s>, which "
				    "takes %s; \"%.100s\" cannot be read as "
				    "one",
				    id, type, format, text);
				goto out;
			}
			want = cv > 0 ? conv : text;
			json_t *sv = NULL;
			rc = wcall(ctx, &e, "setValue",
			           json_pack("[s,s]", id, want), &sv, &fail);
			json_decref(sv);
		} else {
			const char *had = cdp_jstr(f, "value");
			rc = type_text(ctx, t, text, had && *had);
		}
		if (rc || fail)
			goto out;
		free(got);
		rc = read_value(ctx, &e, &got, &fail);
		if (rc || fail)
			goto out;
		match = same_value(want, got);
	}
	if (!match) {
		long long maxlen = cdp_jint(f, "maxlength", 0);
		if (password)
			fail = cdp_failure(
			    "value_mismatch",
			    "the password field did not take the "
			    "text (%zu characters typed, %zu shown)",
			    strlen(text), strlen(got));
		else if (format)
			fail = cdp_failure(
			    "value_mismatch",
			    "set \"%.100s\" but the field shows \"%.100s\"; it "
			    "takes %s (is the value outside its min/max or "
			    "step?)",
			    want, got, format);
		else
			fail = cdp_failure(
			    "value_mismatch",
			    "typed \"%.200s\" but the field shows \"%.200s\"%s",
			    text, got,
			    maxlen && (long long)strlen(text) > maxlen
			        ? " (it takes at most maxlength "
			          "characters)"
			        : "");
		goto out;
	}
	res = cdp_ok();
	json_object_set_new(res, "value", json_string(password ? "****" : got));
	if (want != text && strcmp(want, text))
		json_object_set_new(
		    res, "message",
		    json_pack_ex(NULL, 0, "s++", "the text was converted to ",
		                 want, ", the value format of the field"));
	else if (match == 1)
		json_object_set_new(
		    res, "message",
		    json_string("the field formatted the text"));
	int enter = cdp_jbool(a, "press_enter", 0);
	if (enter) {
		rc = press(ctx, t, "Enter");
		if (rc)
			goto out;
	}
	/* the value was just read back from the field: a round trip to the
	 * renderer when the field is in the tab's main session */
	rc = after_input_ex(ctx, t, &m, res,
	                    !enter && e.w.session && t->session &&
	                        !strcmp(e.w.session, t->session));
out:
	json_decref(f);
	free(got);
	el_free(&e);
	if (rc) {
		json_decref(res);
		json_decref(fail);
		return rc == SKY_EINVALID
		           ? (*out = cdp_failure("invalid_action", "%s",
		                                 cdp_errmsg()),
		              0)
		           : rc;
	}
	*out = fail ? fail : res;
	return 0;
}

/* --- select ------------------------------------------------------------------ */

static int wait_quiet(cdp_ctx *ctx, el_ref *e, int quiet, int max)
{
	json_t *q = NULL, *fail = NULL;
	int rc = wcall(ctx, e, "waitQuiet", json_pack("[i,i]", quiet, max), &q,
	               &fail);
	json_decref(q);
	json_decref(fail);
	return rc;
}

static int lower_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (!n)
		return 1;
	for (const char *p = hay; *p; p++)
		if (!strncasecmp(p, needle, n))
			return 1;
	return 0;
}

static int act_select(cdp_ctx *ctx, cdp_tab *t, json_t *a, json_t **out)
{
	el_ref e, oe;
	json_t *fail = NULL, *res = NULL, *st = NULL, *found = NULL;
	cdp_nav_mark m;
	const char *id = cdp_jstr(a, "element_id");
	json_t *opt = json_object_get(a, "option");
	int rc;

	memset(&e, 0, sizeof e);
	memset(&oe, 0, sizeof oe);
	if (!json_is_object(opt) ||
	    (!json_object_get(opt, "label") && !json_object_get(opt, "value") &&
	     !json_object_get(opt, "index"))) {
		*out = cdp_failure("invalid_action",
		                   "select_option needs \"option\": {label, "
		                   "value or index}");
		return 0;
	}
	rc = resolve(ctx, t, id, &e, &fail);
	if (rc || fail)
		goto out;
	cdp_nav_mark_get(ctx, t, &m);
	rc = wcall(ctx, &e, "state", json_pack("[s]", id), &st, &fail);
	if (rc || fail)
		goto out;
	const char *tag = cdp_jstr(st, "tag");
	if (tag && !strcmp(tag, "select")) {
		json_t *r = NULL;
		rc = wcall(ctx, &e, "selectOption", json_pack("[s,O]", id, opt),
		           &r, &fail);
		if (rc || fail)
			goto out;
		res = cdp_ok();
		json_object_set(res, "selected",
		                json_object_get(r, "selected"));
		json_object_set(res, "changed", json_object_get(r, "changed"));
		json_decref(r);
		rc = after_input(ctx, t, &m, res);
		goto out;
	}
	/* A custom dropdown: open it, find the option that appeared, click
	 * it, and read the widget back. */
	json_t *mk = NULL;
	rc = wcall(ctx, &e, "mark", json_pack("[]"), &mk, &fail);
	json_decref(mk);
	if (rc || fail)
		goto out;
	json_t *c = NULL;
	rc = click_el(ctx, t, &e, 1, &c, &fail);
	json_decref(c);
	if (rc || fail)
		goto out;
	rc = wait_quiet(ctx, &e, 100, 2000);
	if (rc)
		goto out;
	rc = wcall(ctx, &e, "findOption", json_pack("[s,O]", id, opt), &found,
	           &fail);
	if (rc || fail)
		goto out;
	oe.id = cdp_jstr(found, "id");
	cdp_world_free(&oe.w);
	rc = cdp_world_get(ctx, t, e.w.prefix ? e.w.prefix : "", &oe.w);
	if (rc) {
		rc = page_error(rc, &fail);
		goto out;
	}
	rc = click_el(ctx, t, &oe, 1, &c, &fail);
	json_decref(c);
	if (rc || fail)
		goto out;
	rc = wait_quiet(ctx, &e, 100, 2000);
	if (rc)
		goto out;
	json_decref(st);
	st = NULL;
	rc = wcall(ctx, &e, "state", json_pack("[s]", id), &st, &fail);
	if (rc || fail)
		goto out;
	const char *picked = cdp_jstr(found, "text");
	const char *shown = cdp_jstr(st, "value");
	if (!shown || !*shown)
		shown = cdp_jstr(st, "text");
	if (!shown)
		shown = "";
	if (picked && !lower_contains(shown, picked) &&
	    !lower_contains(picked, shown)) {
		fail = cdp_failure("value_mismatch",
		                   "clicked the option \"%s\" but the dropdown "
		                   "shows \"%.200s\"",
		                   picked, shown);
		goto out;
	}
	res = cdp_ok();
	json_object_set_new(res, "selected",
	                    json_pack("{s:s}", "text", picked ? picked : ""));
	json_object_set_new(res, "value", json_string(shown));
	rc = after_input(ctx, t, &m, res);
out:
	json_decref(st);
	json_decref(found);
	el_free(&e);
	cdp_world_free(&oe.w);
	return finish(rc, res, fail, out);
}

/* --- checkbox ------------------------------------------------------------------- */

static int read_checked(cdp_ctx *ctx, el_ref *e, json_t **st, json_t **fail)
{
	return wcall(ctx, e, "state", json_pack("[s]", e->id), st, fail);
}

static int act_checkbox(cdp_ctx *ctx, cdp_tab *t, json_t *a, json_t **out)
{
	el_ref e;
	json_t *fail = NULL, *res = NULL, *st = NULL;
	cdp_nav_mark m;
	const char *id = cdp_jstr(a, "element_id");
	json_t *want_j = json_object_get(a, "is_checked");
	int rc;

	memset(&e, 0, sizeof e);
	if (!json_is_boolean(want_j)) {
		*out = cdp_failure("invalid_action",
		                   "checkbox needs \"is_checked\": true or "
		                   "false");
		return 0;
	}
	int want = json_is_true(want_j);
	rc = resolve(ctx, t, id, &e, &fail);
	if (rc || fail)
		goto out;
	cdp_nav_mark_get(ctx, t, &m);
	rc = read_checked(ctx, &e, &st, &fail);
	if (rc || fail)
		goto out;
	json_t *cj = json_object_get(st, "checked");
	if (!json_is_boolean(cj) && !json_is_string(cj)) {
		fail = cdp_failure(
		    "invalid_action",
		    "element %s is not a checkbox or radio button", id);
		goto out;
	}
	const char *type = cdp_jstr(st, "type");
	int is_radio = type && !strcmp(type, "radio");
	if (json_is_true(cj) == want) {
		res = cdp_ok();
		json_object_set_new(res, "checked", json_boolean(want));
		json_object_set_new(res, "changed", json_false());
		add_nav(ctx, t, res, 0);
		goto out;
	}
	if (is_radio && !want) {
		fail = cdp_failure("unsupported",
		                   "a radio button cannot be unchecked; choose "
		                   "another option of its group");
		goto out;
	}
	json_t *c = NULL;
	rc = click_el(ctx, t, &e, 1, &c, &fail);
	json_decref(c);
	if (rc || fail)
		goto out;
	for (int attempt = 0; attempt < 2; attempt++) {
		json_decref(st);
		st = NULL;
		rc = read_checked(ctx, &e, &st, &fail);
		if (rc || fail)
			goto out;
		if (json_is_true(json_object_get(st, "checked")) == want)
			break;
		if (attempt == 0) { /* the click did not take: a JS click */
			json_t *j = NULL;
			rc = wcall(ctx, &e, "jsClick", json_pack("[s]", id), &j,
			           &fail);
			json_decref(j);
			if (rc || fail)
				goto out;
		}
	}
	if (json_is_true(json_object_get(st, "checked")) != want) {
		fail = cdp_failure("value_mismatch",
		                   "element %s is still %s after clicking it",
		                   id, want ? "unchecked" : "checked");
		goto out;
	}
	res = cdp_ok();
	json_object_set_new(res, "checked", json_boolean(want));
	json_object_set_new(res, "changed", json_true());
	rc = after_input(ctx, t, &m, res);
out:
	json_decref(st);
	el_free(&e);
	return finish(rc, res, fail, out);
}

/* --- upload ------------------------------------------------------------------------ */

static int act_upload(cdp_ctx *ctx, cdp_tab *t, json_t *a, json_t **out)
{
	el_ref e;
	json_t *fail = NULL, *res = NULL, *names = NULL;
	char *oid = NULL;
	const char *id = cdp_jstr(a, "element_id");
	const char *path = cdp_jstr(a, "file_path");
	struct stat st;
	int rc;

	memset(&e, 0, sizeof e);
	if (!path || path[0] != '/') {
		*out =
		    cdp_failure("invalid_action",
		                "upload_file needs an absolute \"file_path\"");
		return 0;
	}
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		*out = cdp_failure("file_not_found", "no file at %s", path);
		return 0;
	}
	rc = resolve(ctx, t, id, &e, &fail);
	if (rc || fail)
		goto out;
	rc = cdp_world_object(ctx, &e.w, "fileInput", json_pack("[s]", id),
	                      &oid);
	if (rc) {
		rc = page_error(rc, &fail);
		goto out;
	}
	if (!oid) {
		fail = cdp_failure("not_interactable",
		                   "element %s is not a file input and no file "
		                   "input belongs to it",
		                   id);
		goto out;
	}
	rc = cdp_call(ctx->conn, e.w.session, "DOM.setFileInputFiles",
	              json_pack("{s:[s],s:s}", "files", path, "objectId", oid),
	              ACTION_TIMEOUT_MS, NULL);
	if (rc) {
		rc = page_error(rc, &fail);
		goto out;
	}
	rc = cdp_call(ctx->conn, e.w.session, "Runtime.callFunctionOn",
	              json_pack("{s:s,s:s,s:b}", "functionDeclaration",
	                        "function(){return [...this.files].map("
	                        "f => f.name)}",
	                        "objectId", oid, "returnByValue", 1),
	              ACTION_TIMEOUT_MS, &names);
	if (rc) {
		rc = page_error(rc, &fail);
		goto out;
	}
	json_t *list =
	    json_object_get(json_object_get(names, "result"), "value");
	const char *base = strrchr(path, '/') + 1;
	int ok = 0;
	size_t i;
	json_t *n;
	json_array_foreach (list, i, n)
		if (json_is_string(n) && !strcmp(json_string_value(n), base))
			ok = 1;
	if (!ok) {
		fail = cdp_failure("value_mismatch",
		                   "the file input does not hold %s after the "
		                   "upload",
		                   base);
		goto out;
	}
	res = cdp_ok();
	json_object_set(res, "files", list);
	add_nav(ctx, t, res, 0);
out:
	if (oid)
		cdp_call(ctx->conn, e.w.session, "Runtime.releaseObject",
		         json_pack("{s:s}", "objectId", oid), ACTION_TIMEOUT_MS,
		         NULL);
	free(oid);
	json_decref(names);
	el_free(&e);
	return finish(rc, res, fail, out);
}

/* --- keys, scroll, hover ------------------------------------------------------------------ */

static int act_keypress(cdp_ctx *ctx, cdp_tab *t, json_t *a, json_t **out)
{
	json_t *keys = json_object_get(a, "keys");
	json_t *one = NULL, *fail = NULL, *res = NULL;
	const char *id = cdp_jstr(a, "element_id");
	cdp_nav_mark m;
	int rc = 0;

	if (json_is_string(keys) || (!keys && cdp_jstr(a, "key"))) {
		one = json_pack("[s]", json_is_string(keys)
		                           ? json_string_value(keys)
		                           : cdp_jstr(a, "key"));
		keys = one;
	}
	if (!json_is_array(keys) || !json_array_size(keys) ||
	    json_array_size(keys) > 50) {
		json_decref(one);
		*out = cdp_failure("invalid_action",
		                   "keypress needs \"keys\": [\"Enter\", ...]");
		return 0;
	}
	size_t i;
	json_t *k;
	json_array_foreach (keys, i, k) {
		cdp_key key;
		int mods;
		char tb[8];
		if (!json_is_string(k) ||
		    cdp_key_parse(json_string_value(k), &key, &mods, tb)) {
			*out =
			    cdp_failure("invalid_action", "unknown key %s",
			                json_is_string(k) ? json_string_value(k)
			                                  : "(not a string)");
			json_decref(one);
			return 0;
		}
	}
	if (id) {
		el_ref e;
		json_t *f = NULL;
		rc = resolve(ctx, t, id, &e, &fail);
		if (rc == 0 && !fail)
			rc = wcall(ctx, &e, "focus", json_pack("[s,b]", id, 0),
			           &f, &fail);
		json_decref(f);
		el_free(&e);
		if (rc || fail)
			goto out;
	}
	cdp_nav_mark_get(ctx, t, &m);
	json_array_foreach (keys, i, k) {
		rc = press(ctx, t, json_string_value(k));
		if (rc)
			goto out;
	}
	res = cdp_ok();
	rc = after_input(ctx, t, &m, res);
out:
	json_decref(one);
	return finish(rc, res, fail, out);
}

static int act_scroll(cdp_ctx *ctx, cdp_tab *t, json_t *a, json_t **out)
{
	const char *dir = cdp_jstr(a, "direction");
	const char *id = cdp_jstr(a, "element_id");
	long long amount = cdp_jint(a, "amount", 500);
	double dx = 0, dy = 0;
	json_t *fail = NULL, *r = NULL;
	el_ref e;
	int rc;

	if (amount <= 0 || amount > 100000)
		amount = 500;
	if (!dir)
		dir = "down";
	if (!strcmp(dir, "down"))
		dy = (double)amount;
	else if (!strcmp(dir, "up"))
		dy = -(double)amount;
	else if (!strcmp(dir, "right"))
		dx = (double)amount;
	else if (!strcmp(dir, "left"))
		dx = -(double)amount;
	else {
		*out = cdp_failure("invalid_action",
		                   "scroll direction must be up, down, left or "
		                   "right");
		return 0;
	}
	if (id) {
		rc = resolve(ctx, t, id, &e, &fail);
	} else {
		memset(&e, 0, sizeof e);
		rc = cdp_world_get(ctx, t, "", &e.w);
		if (rc == SKY_EINVALID) {
			/* no page script: a wheel turn at the viewport centre */
			cdp_err_clear();
			rc = cdp_call(
			    ctx->conn, t->session, "Input.dispatchMouseEvent",
			    json_pack("{s:s,s:i,s:i,s:f,s:f}", "type",
			              "mouseWheel", "x", ctx->vw / 2, "y",
			              ctx->vh / 2, "deltaX", dx, "deltaY", dy),
			    ACTION_TIMEOUT_MS, NULL);
			if (rc == 0) {
				*out = cdp_ok();
				add_nav(ctx, t, *out, 0);
			}
			return rc;
		}
		if (rc)
			rc = page_error(rc, &fail);
	}
	if (rc == 0 && !fail)
		rc = wcall(ctx, &e, "scroll", json_pack("[s?,f,f]", id, dx, dy),
		           &r, &fail);
	el_free(&e);
	if (rc)
		return rc;
	if (fail) {
		*out = fail;
		return 0;
	}
	*out = cdp_ok();
	json_object_set_new(*out, "moved",
	                    json_incref(json_object_get(r, "moved")));
	json_object_set_new(*out, "scroll",
	                    json_pack("{s:O,s:O,s:O,s:O}", "x",
	                              json_object_get(r, "x"), "y",
	                              json_object_get(r, "y"), "max_x",
	                              json_object_get(r, "max_x"), "max_y",
	                              json_object_get(r, "max_y")));
	json_object_set(*out, "target", json_object_get(r, "target"));
	if (!json_is_true(json_object_get(r, "moved")))
		json_object_set_new(*out, "message",
		                    json_string("already at the end; nothing "
		                                "moved"));
	json_decref(r);
	add_nav(ctx, t, *out, 0);
	return 0;
}

/* Wait on the context (wakes early only when the browser dies). */
static int hold(cdp_ctx *ctx, int64_t ms)
{
	struct timespec dl;
	int64_t end = cdp_now_ms() + ms;
	cdp_deadline(&dl, ms);
	pthread_mutex_lock(&ctx->b->lock);
	while (!cdp_conn_dead(ctx->conn) && cdp_now_ms() < end)
		if (cdp_ctx_wait(ctx, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&ctx->b->lock);
	return cdp_ctx_alive(ctx);
}

static int act_hover(cdp_ctx *ctx, cdp_tab *t, json_t *a, json_t **out)
{
	el_ref e;
	json_t *fail = NULL, *p = NULL, *st = NULL;
	const char *id = cdp_jstr(a, "element_id");
	long long hold_ms = cdp_jint(a, "hold_ms", 0);
	int rc = resolve(ctx, t, id, &e, &fail);
	if (rc || fail)
		goto out;
	rc = aim(ctx, t, &e, json_pack("{s:b}", "allowDisabled", 1), &p, &fail);
	if (rc || fail)
		goto out;
	double x = cdp_jnum(p, "x", 0), y = cdp_jnum(p, "y", 0);
	rc = mouse(ctx, t, "mouseMoved", x, y, 0, 1);
	t->mouse_x = x;
	t->mouse_y = y;
	if (rc == 0 && hold_ms > 0)
		rc = hold(ctx, hold_ms > 10000 ? 10000 : hold_ms);
	if (rc == 0)
		rc = wcall(ctx, &e, "state", json_pack("[s]", id), &st, &fail);
	if (rc == 0 && !fail) {
		*out = cdp_ok();
		json_object_set(*out, "hovered",
		                json_object_get(st, "hovered"));
		add_nav(ctx, t, *out, 0);
	}
out:
	json_decref(p);
	json_decref(st);
	el_free(&e);
	if (rc) {
		json_decref(fail);
		return rc;
	}
	if (fail)
		*out = fail;
	return 0;
}

/* --- drag ------------------------------------------------------------------------------ */

#define DRAG_STEPS 10

/* Move with the left button held. */
static int drag_move(cdp_ctx *ctx, cdp_tab *t, double x, double y, int wait)
{
	json_t *p = json_pack("{s:s,s:f,s:f,s:s,s:i}", "type", "mouseMoved",
	                      "x", x, "y", y, "button", "left", "buttons", 1);
	if (!wait)
		return cdp_post(ctx->conn, t->session,
		                "Input.dispatchMouseEvent", p);
	return cdp_call(ctx->conn, t->session, "Input.dispatchMouseEvent", p,
	                ACTION_TIMEOUT_MS, NULL);
}

/* One end of a drag in window coordinates: an element, aimed at like a
 * click, or a point {"x", "y"} of the window. */
static int drag_end(cdp_ctx *ctx, cdp_tab *t, json_t *a, const char *idkey,
                    const char *ptkey, int scroll, double *x, double *y,
                    json_t **fail)
{
	const char *id = cdp_jstr(a, idkey);
	json_t *pt = json_object_get(a, ptkey);
	if (id) {
		el_ref e;
		json_t *p = NULL;
		int rc = resolve(ctx, t, id, &e, fail);
		if (rc == 0 && !*fail)
			rc = aim(ctx, t, &e,
			         json_pack("{s:b,s:b}", "scroll", scroll,
			                   "allowDisabled", /* a drop target */
			                   strcmp(idkey, "element_id") != 0),
			         &p, fail);
		if (rc == 0 && !*fail) {
			*x = cdp_jnum(p, "x", 0);
			*y = cdp_jnum(p, "y", 0);
		}
		json_decref(p);
		el_free(&e);
		return rc;
	}
	if (json_is_object(pt) && json_is_number(json_object_get(pt, "x")) &&
	    json_is_number(json_object_get(pt, "y"))) {
		*x = cdp_jnum(pt, "x", 0);
		*y = cdp_jnum(pt, "y", 0);
		if (*x < 0 || *y < 0 || (ctx->vw > 0 && *x >= ctx->vw) ||
		    (ctx->vh > 0 && *y >= ctx->vh))
			*fail =
			    cdp_failure("invalid_action",
			                "the point (%.0f, %.0f) is outside the "
			                "window (%dx%d)",
			                *x, *y, ctx->vw, ctx->vh);
		return 0;
	}
	*fail = cdp_failure("invalid_action",
	                    "drag needs \"%s\" (an element id) or \"%s\": "
	                    "{\"x\": .., \"y\": ..} (a point of the window)",
	                    idkey, ptkey);
	return 0;
}

/* Whether the moves started an HTML5 drag (its data in *data): the
 * browser reports it right after the move that started it; a page that
 * drags by mouse events never does, and costs this short wait. */
static int html5_drag(cdp_ctx *ctx, cdp_tab *t, unsigned seq, json_t **data)
{
	struct timespec dl;
	*data = NULL;
	flush(ctx, t);
	cdp_deadline(&dl, 100);
	pthread_mutex_lock(&ctx->b->lock);
	while (t->drag_seq == seq && !cdp_conn_dead(ctx->conn))
		if (cdp_ctx_wait(ctx, &dl) == ETIMEDOUT)
			break;
	if (t->drag_seq != seq && t->drag_data)
		*data = json_incref(t->drag_data);
	pthread_mutex_unlock(&ctx->b->lock);
	return cdp_ctx_alive(ctx);
}

/* Enter, hover and drop an intercepted HTML5 drag at the target. */
static int drop(cdp_ctx *ctx, cdp_tab *t, json_t *data, double x, double y)
{
	static const char *const steps[] = {"dragEnter", "dragOver", "drop"};
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = cdp_call(ctx->conn, t->session, "Input.dispatchDragEvent",
		              json_pack("{s:s,s:f,s:f,s:O}", "type", steps[i],
		                        "x", x, "y", y, "data", data),
		              ACTION_TIMEOUT_MS, NULL);
	return rc;
}

/* Press at the source, move in steps with the button held, release at
 * the target: what a person's drag sends (a calendar slot range, a
 * slider thumb, a sortable list item). */
static int act_drag(cdp_ctx *ctx, cdp_tab *t, json_t *a, json_t **out)
{
	double sx = 0, sy = 0, tx = 0, ty = 0;
	json_t *fail = NULL, *res = NULL;
	cdp_nav_mark m;
	long long steps = cdp_jint(a, "steps", DRAG_STEPS);
	if (steps < 1 || steps > 100)
		steps = DRAG_STEPS;
	int rc = drag_end(ctx, t, a, "element_id", "from", 1, &sx, &sy, &fail);
	if (rc == 0 && !fail)
		rc = drag_end(ctx, t, a, "target_element_id", "to", 1, &tx, &ty,
		              &fail);
	/* bringing the target into view may have moved the source: aim at
	 * it again where it is now, without scrolling */
	if (rc == 0 && !fail && cdp_jstr(a, "element_id")) {
		rc = drag_end(ctx, t, a, "element_id", "from", 0, &sx, &sy,
		              &fail);
		if (rc == 0 && fail) {
			json_t *why = fail;
			fail =
			    cdp_failure(cdp_jstr(why, "error"),
			                "the source and the target of the drag "
			                "are not in view together: %s",
			                cdp_jstr(why, "message"));
			json_decref(why);
		}
	}
	if (rc || fail)
		goto out;
	cdp_nav_mark_get(ctx, t, &m);
	/* an HTML5 drag (draggable elements) is not carried out by mouse
	 * events alone: the browser hands it to us to drop */
	pthread_mutex_lock(&ctx->b->lock);
	unsigned seq = t->drag_seq;
	pthread_mutex_unlock(&ctx->b->lock);
	/* a browser without it still drags by mouse events */
	int intercept =
	    cdp_call(ctx->conn, t->session, "Input.setInterceptDrags",
	             json_pack("{s:b}", "enabled", 1), ACTION_TIMEOUT_MS,
	             NULL) == 0;
	if (!intercept)
		cdp_err_clear();
	rc = mouse(ctx, t, "mouseMoved", sx, sy, 0, 0);
	int pressed = 0;
	if (rc == 0)
		pressed =
		    (rc = mouse(ctx, t, "mousePressed", sx, sy, 1, 0)) == 0;
	for (long long i = 1; i <= steps && rc == 0; i++)
		rc = drag_move(
		    ctx, t, sx + (tx - sx) * (double)i / (double)steps,
		    sy + (ty - sy) * (double)i / (double)steps, i == steps);
	json_t *data = NULL;
	if (rc == 0 && intercept)
		rc = html5_drag(ctx, t, seq, &data);
	int html5 = data != NULL;
	if (rc == 0 && data)
		rc = drop(ctx, t, data, tx, ty);
	json_decref(data);
	if (pressed) { /* never leave the button down */
		int rel = mouse(ctx, t, "mouseReleased", tx, ty, 1, 1);
		if (rc == 0)
			rc = rel;
	}
	if (intercept)
		cdp_call(ctx->conn, t->session, "Input.setInterceptDrags",
		         json_pack("{s:b}", "enabled", 0), ACTION_TIMEOUT_MS,
		         NULL);
	t->mouse_x = tx;
	t->mouse_y = ty;
	if (rc)
		goto out;
	res = cdp_ok();
	if (html5)
		json_object_set_new(res, "html5", json_true());
	json_object_set_new(res, "from",
	                    json_pack("{s:f,s:f}", "x", sx, "y", sy));
	json_object_set_new(res, "to",
	                    json_pack("{s:f,s:f}", "x", tx, "y", ty));
	rc = after_input(ctx, t, &m, res);
out:
	return finish(rc, res, fail, out);
}

/* --- history, tabs ------------------------------------------------------------------------ */

static int act_history(cdp_ctx *ctx, cdp_tab *t, int delta, json_t **out)
{
	json_t *h = NULL;
	cdp_nav_mark m;
	int rc = cdp_call(ctx->conn, t->session, "Page.getNavigationHistory",
	                  NULL, ACTION_TIMEOUT_MS, &h);
	if (rc)
		return rc;
	long long cur = cdp_jint(h, "currentIndex", 0) + delta;
	json_t *entries = json_object_get(h, "entries");
	json_t *entry = cur >= 0 ? json_array_get(entries, (size_t)cur) : NULL;
	if (!entry) {
		json_decref(h);
		*out = cdp_failure("navigation_failed", "there is no %s page",
		                   delta < 0 ? "previous" : "next");
		return 0;
	}
	cdp_nav_mark_get(ctx, t, &m);
	rc = cdp_call(
	    ctx->conn, t->session, "Page.navigateToHistoryEntry",
	    json_pack("{s:I}", "entryId", (json_int_t)cdp_jint(entry, "id", 0)),
	    ACTION_TIMEOUT_MS, NULL);
	json_decref(h);
	if (rc)
		return rc;
	*out = cdp_ok();
	return after_input(ctx, t, &m, *out);
}

static int act_reload(cdp_ctx *ctx, cdp_tab *t, json_t **out)
{
	cdp_nav_mark m;
	cdp_nav_mark_get(ctx, t, &m);
	int rc = cdp_call(ctx->conn, t->session, "Page.reload", NULL,
	                  ACTION_TIMEOUT_MS, NULL);
	if (rc)
		return rc;
	*out = cdp_ok();
	return after_input(ctx, t, &m, *out);
}

static int act_goto(cdp_ctx *ctx, const char *url, json_t **out)
{
	json_t *r = NULL;
	if (!url || !*url) {
		*out =
		    cdp_failure("invalid_action", "goto_url needs a \"url\"");
		return 0;
	}
	int rc = cdp_navigate(ctx, url, NULL, &r);
	if (rc == SKY_EBROWSER)
		return rc;
	if (rc) {
		*out = cdp_failure(rc == SKY_ETIMEDOUT ? "timeout"
		                                       : "navigation_failed",
		                   "%s", cdp_errmsg());
		return 0;
	}
	*out = cdp_ok();
	json_object_set_new(*out, "navigated", json_true());
	json_object_update(*out, r);
	json_decref(r);
	return 0;
}

static int set_active(cdp_ctx *ctx, size_t index, json_t **out)
{
	pthread_mutex_lock(&ctx->b->lock);
	if (index >= ctx->n_tabs) {
		size_t n = ctx->n_tabs;
		pthread_mutex_unlock(&ctx->b->lock);
		*out = cdp_failure("invalid_action",
		                   "there is no tab %zu (%zu open)", index, n);
		return 0;
	}
	ctx->active = index;
	char *tid = cdp_strdup(ctx->tabs[index]->target_id);
	char *url = cdp_strdup(ctx->tabs[index]->url);
	pthread_mutex_unlock(&ctx->b->lock);
	int rc = cdp_call(ctx->conn, NULL, "Target.activateTarget",
	                  json_pack("{s:s}", "targetId", tid),
	                  ACTION_TIMEOUT_MS, NULL);
	free(tid);
	if (rc == 0) {
		*out = cdp_ok();
		json_object_set_new(*out, "tab_index",
		                    json_integer((json_int_t)index));
		json_object_set_new(*out, "url", json_string(url ? url : ""));
	}
	free(url);
	return rc;
}

static int act_new_tab(cdp_ctx *ctx, const char *url, json_t **out)
{
	cdp_tab *nt = NULL;
	int rc = cdp_ctx_new_tab(ctx, &nt);
	if (rc)
		return rc;
	if (url && *url)
		return act_goto(ctx, url, out);
	*out = cdp_ok();
	pthread_mutex_lock(&ctx->b->lock);
	json_object_set_new(*out, "tab_index",
	                    json_integer((json_int_t)ctx->active));
	pthread_mutex_unlock(&ctx->b->lock);
	return 0;
}

static int act_close_tab(cdp_ctx *ctx, json_t *a, json_t **out)
{
	struct timespec dl;
	pthread_mutex_lock(&ctx->b->lock);
	long long idx = cdp_jint(a, "tab_index", (long long)ctx->active);
	if (idx < 0 || (size_t)idx >= ctx->n_tabs) {
		size_t n = ctx->n_tabs;
		pthread_mutex_unlock(&ctx->b->lock);
		*out = cdp_failure("invalid_action",
		                   "there is no tab %lld (%zu open)", idx, n);
		return 0;
	}
	cdp_tab *victim = ctx->tabs[idx];
	char *tid = cdp_strdup(victim->target_id);
	pthread_mutex_unlock(&ctx->b->lock);
	int rc = cdp_call(ctx->conn, NULL, "Target.closeTarget",
	                  json_pack("{s:s}", "targetId", tid),
	                  ACTION_TIMEOUT_MS, NULL);
	free(tid);
	if (rc)
		return rc;
	cdp_deadline(&dl, ACTION_TIMEOUT_MS);
	pthread_mutex_lock(&ctx->b->lock);
	while (!victim->closed && !cdp_conn_dead(ctx->conn))
		if (cdp_ctx_wait(ctx, &dl) == ETIMEDOUT)
			break;
	size_t left = ctx->n_tabs;
	pthread_mutex_unlock(&ctx->b->lock);
	if (!left) { /* a context always has a tab to work in */
		rc = cdp_ctx_new_tab(ctx, NULL);
		if (rc)
			return rc;
	}
	*out = cdp_ok();
	pthread_mutex_lock(&ctx->b->lock);
	json_object_set_new(*out, "tab_index",
	                    json_integer((json_int_t)ctx->active));
	json_object_set_new(*out, "tabs",
	                    json_integer((json_int_t)ctx->n_tabs));
	pthread_mutex_unlock(&ctx->b->lock);
	return 0;
}

/* --- dispatch --------------------------------------------------------------------------------- */

static int act_json(cdp_ctx *ctx, json_t *a, json_t **result);

int cdp_act(cdp_ctx *ctx, const char *action_json, json_t **result)
{
	json_error_t jerr;
	*result = NULL;
	json_t *a = json_loads(action_json, 0, &jerr);
	if (!json_is_object(a)) {
		json_decref(a);
		return cdp_fail(SKY_EINVALID,
		                "the action is not a JSON object: %s",
		                jerr.text);
	}
	return act_json(ctx, a, result);
}

int cdp_drag(cdp_ctx *ctx, const char *action_json, json_t **result)
{
	json_error_t jerr;
	*result = NULL;
	json_t *a = json_loads(action_json, 0, &jerr);
	if (!json_is_object(a)) {
		json_decref(a);
		return cdp_fail(SKY_EINVALID,
		                "the drag is not a JSON object: %s", jerr.text);
	}
	json_object_set_new(a, "action_type", json_string("drag"));
	return act_json(ctx, a, result);
}

/* Perform the action a (consumed). */
static int act_json(cdp_ctx *ctx, json_t *a, json_t **result)
{
	const char *type = cdp_jstr(a, "action_type");
	int rc = 0;
	if (!type) {
		*result = cdp_failure("invalid_action", "no action_type");
		json_decref(a);
		return 0;
	}
	cdp_tab *t = cdp_ctx_tab(ctx);
	if (!t) {
		json_decref(a);
		return cdp_errcode();
	}
	const char *nw = cdp_jstr(a, "navigation_wait");
	cdp_shot_stale(ctx);
	cdp_wait_pending_load(ctx, t, NAV_WAIT_MS);
	pthread_mutex_lock(&ctx->b->lock);
	t->act_until_commit = nw && !strcmp(nw, "commit");
	pthread_mutex_unlock(&ctx->b->lock);
	if (!strcmp(type, "click"))
		rc = act_click(ctx, t, a, 0, result);
	else if (!strcmp(type, "download_file"))
		rc = act_click(ctx, t, a, 1, result);
	else if (!strcmp(type, "input_text"))
		rc = act_input(ctx, t, a, result);
	else if (!strcmp(type, "select_option"))
		rc = act_select(ctx, t, a, result);
	else if (!strcmp(type, "checkbox"))
		rc = act_checkbox(ctx, t, a, result);
	else if (!strcmp(type, "upload_file"))
		rc = act_upload(ctx, t, a, result);
	else if (!strcmp(type, "keypress"))
		rc = act_keypress(ctx, t, a, result);
	else if (!strcmp(type, "scroll"))
		rc = act_scroll(ctx, t, a, result);
	else if (!strcmp(type, "hover"))
		rc = act_hover(ctx, t, a, result);
	else if (!strcmp(type, "drag"))
		rc = act_drag(ctx, t, a, result);
	else if (!strcmp(type, "go_back"))
		rc = act_history(ctx, t, -1, result);
	else if (!strcmp(type, "go_forward"))
		rc = act_history(ctx, t, 1, result);
	else if (!strcmp(type, "reload_page"))
		rc = act_reload(ctx, t, result);
	else if (!strcmp(type, "goto_url"))
		rc = act_goto(ctx, cdp_jstr(a, "url"), result);
	else if (!strcmp(type, "new_tab"))
		rc = act_new_tab(ctx, cdp_jstr(a, "url"), result);
	else if (!strcmp(type, "switch_tab"))
		rc = set_active(ctx, (size_t)cdp_jint(a, "tab_index", -1),
		                result);
	else if (!strcmp(type, "close_tab"))
		rc = act_close_tab(ctx, a, result);
	else if (!strcmp(type, "wait")) {
		double s = cdp_jnum(a, "seconds", 1);
		if (s < 0 || s > 60)
			s = s < 0 ? 0 : 60;
		rc = hold(ctx, (int64_t)(s * 1000));
		if (rc == 0)
			*result = cdp_ok();
	} else
		*result = cdp_failure("unsupported",
		                      "the browser does not perform \"%s\" "
		                      "actions",
		                      type);
	pthread_mutex_lock(&ctx->b->lock);
	t->act_until_commit = 0;
	pthread_mutex_unlock(&ctx->b->lock);
	json_decref(a);
	if (rc < 0) {
		json_decref(*result);
		*result = NULL;
		if (rc != SKY_EBROWSER && rc != SKY_EINVALID) {
			/* a page-level problem the planner can act on */
			*result = cdp_failure(
			    rc == SKY_ETIMEDOUT ? "timeout" : "browser_error",
			    "%s", cdp_errmsg());
			return 0;
		}
	}
	return rc;
}
