/*
 * Replay (issue 18, docs/replay.md): a completed run's steps become a
 * plan, and a later run with run_with "code" executes the plan without
 * the model. This file is the agent's second consumer of its run
 * environment (sky_run, the env's callbacks): it records the plan while
 * the step loop acts, stores it when the run completes, and replays it:
 * each step checks the page before acting (URL path, every target found
 * by what it is, not by its snapshot id) and each action's effect after
 * (the value read back, the page the next step expects). A mismatch
 * hands over to the agent (ai_fallback) or fails the run naming the step.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "page/page.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/hash.h>
#include <skyx/str.h>
#include <skyx/time.h>

#define PLAN_FORMAT 1

/* ---- small helpers --------------------------------------------------- */

/* The path of a URL, without scheme, host, query or fragment
 * (malloc'd); "/" when it has none. */
static char *url_path(const char *url)
{
	if (!url)
		return skyx_strdup("");
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : url;
	if (!p)
		return skyx_strdup("/");
	size_t n = strcspn(p, "?#");
	return skyx_strndup(p, n);
}

/* origin + path of a URL (no query, no fragment), malloc'd. */
static char *url_origin_path(const char *url)
{
	if (!url)
		return skyx_strdup("");
	return skyx_strndup(url, strcspn(url, "?#"));
}

static int ieq(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	/* whitespace-insensitive at the ends, case-insensitive */
	while (isspace((unsigned char)*a))
		a++;
	while (isspace((unsigned char)*b))
		b++;
	size_t na = strlen(a), nb = strlen(b);
	while (na && isspace((unsigned char)a[na - 1]))
		na--;
	while (nb && isspace((unsigned char)b[nb - 1]))
		nb--;
	return na == nb && !strncasecmp(a, b, na);
}

/* An attribute of an element: the flattened elements (internals §5)
 * carry type, name and placeholder at the top level; a snapshot element
 * under "attrs". */
static const char *attr(const json_t *el, const char *k)
{
	const char *v = sky_json_str(el, k);
	return v ? v : sky_json_str(json_object_get(el, "attrs"), k);
}

static const json_t *find_element(const json_t *elements, const char *id)
{
	size_t i;
	json_t *e;
	if (!id)
		return NULL;
	json_array_foreach (elements, i, e)
		if (json_is_object(e) && skyx_str_eq(sky_json_str(e, "id"), id))
			return e;
	return NULL;
}

/* The kind of an element for matching: its role, else its tag. */
static const char *kind(const json_t *el)
{
	const char *r = sky_json_str(el, "role");
	return r ? r : sky_json_str(el, "tag");
}

/* "button:1,checkbox:1,textbox:4": interactable elements by kind, a
 * structural fingerprint of the page (malloc'd). */
static char *fingerprint(const json_t *elements)
{
	json_t *counts = json_object();
	size_t i;
	json_t *e;
	json_array_foreach (elements, i, e) {
		if (!json_is_object(e) || !sky_json_str(e, "id"))
			continue;
		const char *k = kind(e);
		if (!k)
			continue;
		json_object_set_new(
		    counts, k, json_integer(sky_json_int(counts, k, 0) + 1));
	}
	skyx_buf b = {0};
	const char **keys = calloc(json_object_size(counts) + 1, sizeof *keys);
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach (counts, k, v)
		keys[n++] = k;
	/* sorted, so the same page gives the same text */
	for (size_t a = 1; a < n; a++)
		for (size_t c = a; c > 0 && strcmp(keys[c - 1], keys[c]) > 0;
		     c--) {
			const char *t = keys[c];
			keys[c] = keys[c - 1];
			keys[c - 1] = t;
		}
	for (size_t a = 0; a < n; a++)
		skyx_buf_printf(&b, "%s%s:%lld", a ? "," : "", keys[a],
		                (long long)sky_json_int(counts, keys[a], 0));
	free(keys);
	json_decref(counts);
	return b.len ? skyx_buf_steal(&b) : skyx_strdup("");
}

/* Two elements describe the same thing for "position among similar". */
static int similar(const json_t *a, const json_t *b)
{
	return skyx_str_eq(sky_json_str(a, "tag"), sky_json_str(b, "tag")) &&
	       skyx_str_eq(kind(a), kind(b)) &&
	       ((!sky_json_str(a, "label") && !sky_json_str(b, "label")) ||
	        ieq(sky_json_str(a, "label"), sky_json_str(b, "label")));
}

/* What is known about an element at action time, without its snapshot
 * id: tag, role, label, text, the name/type/placeholder/id attributes,
 * and its position among similar elements. */
static json_t *describe(const json_t *elements, const json_t *el)
{
	json_t *t = json_object();
	static const char *const own[] = {"tag", "role", "label", "text", NULL};
	static const char *const attrs[] = {"name", "type", "placeholder",
	                                    NULL};
	const char *tag = sky_json_str(el, "tag");
	int field = skyx_str_eq(tag, "input") || skyx_str_eq(tag, "textarea") ||
	            skyx_str_eq(tag, "select");
	for (int i = 0; own[i]; i++) {
		/* A field's text is its content, which a run changes. */
		if (field && !strcmp(own[i], "text"))
			continue;
		const char *v = sky_json_str(el, own[i]);
		if (v && *v)
			json_object_set_new(t, own[i], json_string(v));
	}
	for (int i = 0; attrs[i]; i++) {
		const char *v = attr(el, attrs[i]);
		if (v && *v)
			json_object_set_new(t, attrs[i], json_string(v));
	}
	int nth = 0;
	size_t i;
	json_t *e;
	json_array_foreach (elements, i, e) {
		if (e == el)
			break;
		if (json_is_object(e) && sky_json_str(e, "id") &&
		    similar(e, el))
			nth++;
	}
	json_object_set_new(t, "nth", json_integer(nth));
	return t;
}

/* Score of an element against a description: -1 when it cannot be it. */
static int score(const json_t *target, const json_t *el)
{
	if (!json_is_object(el) || !sky_json_str(el, "id"))
		return -1;
	if (!skyx_str_eq(sky_json_str(target, "tag"), sky_json_str(el, "tag")))
		return -1;
	if (!skyx_str_eq(sky_json_str(target, "role"),
	                 sky_json_str(el, "role")))
		return -1;
	int s = 0, ids = 0, hits = 0;
	static const char *const a_keys[] = {"name", "placeholder", NULL};
	for (int i = 0; a_keys[i]; i++) {
		const char *want = sky_json_str(target, a_keys[i]);
		if (!want)
			continue;
		ids++;
		if (skyx_str_eq(want, attr(el, a_keys[i]))) {
			s += 4;
			hits++;
		}
	}
	static const char *const o_keys[] = {"label", "text", NULL};
	for (int i = 0; o_keys[i]; i++) {
		const char *want = sky_json_str(target, o_keys[i]);
		if (!want)
			continue;
		ids++;
		if (ieq(want, sky_json_str(el, o_keys[i]))) {
			s += 3;
			hits++;
		}
	}
	if (skyx_str_eq(sky_json_str(target, "type"), attr(el, "type")))
		s += 1;
	/* Something that named it must still name it. */
	if (ids && !hits)
		return -1;
	/* A field whose name attribute changed is another field. */
	if (sky_json_str(target, "name") &&
	    !skyx_str_eq(sky_json_str(target, "name"), attr(el, "name")))
		return -1;
	return s;
}

/* The element of `elements` the description names, or NULL (*ambiguous
 * when several fit equally and the position does not decide). */
static const json_t *resolve(const json_t *elements, const json_t *target)
{
	size_t i;
	json_t *e;
	int best = -1;
	json_array_foreach (elements, i, e) {
		int s = score(target, e);
		if (s > best)
			best = s;
	}
	if (best < 0)
		return NULL;
	/* Among the best, the nth similar one as recorded, else the first. */
	int want = (int)sky_json_int(target, "nth", 0), seen = 0;
	const json_t *first = NULL;
	json_array_foreach (elements, i, e) {
		if (score(target, e) != best)
			continue;
		if (!first)
			first = e;
		if (seen++ == want)
			return e;
	}
	return first;
}

/* How many elements fit a description at least as well as *best (when
 * *best < 0, the best score of these elements: it is set; 0 when none
 * fits). Counted before and after an action: fewer after is an element
 * gone. */
static int count_like(const json_t *elements, const json_t *target, int *best)
{
	size_t i;
	json_t *e;
	int n = 0;
	if (*best < 0) {
		json_array_foreach (elements, i, e) {
			int s = score(target, e);
			if (s > *best)
				*best = s;
		}
		if (*best < 0)
			return 0;
	}
	json_array_foreach (elements, i, e)
		if (score(target, e) >= *best)
			n++;
	return n;
}

/* "textbox "First name *" (name first_name)" for messages (malloc'd). */
static char *target_text(const json_t *t)
{
	const char *label = sky_json_str(t, "label");
	if (!label)
		label = sky_json_str(t, "text");
	const char *name = sky_json_str(t, "name");
	const char *k = sky_json_str(t, "role");
	if (!k)
		k = sky_json_str(t, "tag");
	return skyx_asprintf("%s%s%s%s%s%s", k ? k : "element",
	                     label ? " \"" : "", label ? label : "",
	                     label ? "\"" : "", name ? " named " : "",
	                     name ? name : "");
}

/* ---- where a typed value came from ------------------------------------ */

/* The payload path ("a.b") whose value is `text`, or NULL. */
static char *payload_key(const json_t *v, const char *prefix, const char *text)
{
	const char *k;
	json_t *x;
	if (!json_is_object(v))
		return NULL;
	json_object_foreach ((json_t *)v, k, x) {
		char *path =
		    prefix ? skyx_asprintf("%s.%s", prefix, k) : skyx_strdup(k);
		char num[64] = "";
		if (json_is_integer(x))
			snprintf(num, sizeof num, "%lld",
			         (long long)json_integer_value(x));
		if ((json_is_string(x) &&
		     !strcmp(json_string_value(x), text)) ||
		    (*num && !strcmp(num, text)))
			return path;
		char *deeper = payload_key(x, path, text);
		free(path);
		if (deeper)
			return deeper;
	}
	return NULL;
}

/* The value at payload path `key` as text (malloc'd), or NULL. */
static char *payload_value(const json_t *payload, const char *key)
{
	const json_t *v = payload;
	char *dup = skyx_strdup(key), *save = NULL;
	for (char *t = strtok_r(dup, ".", &save); t && v;
	     t = strtok_r(NULL, ".", &save))
		v = json_is_object(v) ? json_object_get(v, t) : NULL;
	free(dup);
	if (json_is_string(v))
		return skyx_strdup(json_string_value(v));
	if (json_is_integer(v))
		return skyx_asprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return skyx_asprintf("%g", json_real_value(v));
	return NULL;
}

/* {"from": "payload", "key"} | {"from": "placeholder"|"goal"|"literal",
 * "text"} | {"from": "secret"}: never the value of a payload field or a
 * registered secret. */
static json_t *value_source(const sky_run *r, const char *text)
{
	char *key = NULL;
	if (!text)
		return NULL;
	if (strstr(text, "{{") && strstr(text, "}}") &&
	    !(key = payload_key(r->payload, NULL, text)))
		return json_pack("{s:s, s:s}", "from", "placeholder", "text",
		                 text);
	if (key || (key = payload_key(r->payload, NULL, text))) {
		json_t *o =
		    json_pack("{s:s, s:s}", "from", "payload", "key", key);
		free(key);
		return o;
	}
	char *red = sky_redact(text);
	int secret = red && strcmp(red, text);
	free(red);
	if (secret)
		return json_pack("{s:s}", "from", "secret");
	if (r->task->prompt && strstr(r->task->prompt, text))
		return json_pack("{s:s, s:s}", "from", "goal", "text", text);
	return json_pack("{s:s, s:s}", "from", "literal", "text", text);
}

/* The value a source gives in this run (malloc'd), or NULL and *why. */
static char *source_value(const sky_run *r, const json_t *src, char **why)
{
	const char *from = sky_json_str(src, "from");
	*why = NULL;
	if (skyx_str_eq(from, "payload")) {
		const char *k = sky_json_str(src, "key");
		char *v = payload_value(r->payload, k ? k : "");
		if (!v)
			*why = skyx_asprintf("the navigation_payload has no "
			                     "value for %s",
			                     k ? k : "?");
		return v;
	}
	if (skyx_str_eq(from, "goal")) {
		const char *t = sky_json_str(src, "text");
		if (t && r->task->prompt && strstr(r->task->prompt, t))
			return skyx_strdup(t);
		*why = skyx_strdup("a typed value came from the goal, which "
		                   "changed");
		return NULL;
	}
	if (skyx_str_eq(from, "placeholder") || skyx_str_eq(from, "literal"))
		return skyx_strdup(sky_json_str(src, "text"));
	*why = skyx_strdup("a typed value was a secret the plan does not "
	                   "keep");
	return NULL;
}

/* ---- where extracted data was found ----------------------------------- */

/*
 * The page's text as places: each line of text (text runs between
 * block boundaries) in its nearest kept element, each kept element's own
 * text, and each field's value, in document order:
 * [{"tag", "role"?, "label"?, "text"}]. A value the extraction gave is
 * found on one of them, and described by the element it is in, the text
 * right before and after it on the line, and, for a line that is the
 * value alone, the line before it (a definition list's term, a label).
 */
#define PLACE_CONTEXT 40

static char *collapse(const char *s)
{
	skyx_buf b = {0};
	int space = 0;
	for (; s && *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = b.len > 0;
			continue;
		}
		if (space)
			skyx_buf_putc(&b, ' ');
		space = 0;
		skyx_buf_putc(&b, *s);
	}
	return b.len ? skyx_buf_steal(&b) : NULL;
}

/* Where a place is among repeated structure: the row ("unit": a table
 * row or a list item) it is in, which cell of that row, and the element
 * holding the rows (a table body, a list). unit < 0: in no row. */
typedef struct place_row {
	int unit, cell, group;
	const char *tag; /* the row's kind: "tr", "li", "row", "listitem" */
} place_row;

static void place_add(json_t *places, const json_t *in, const char *text,
                      const char *label, const place_row *row)
{
	char *t = collapse(text);
	if (!t)
		return;
	json_t *p = json_pack(
	    "{s:s, s:s}", "tag",
	    in ? (sky_json_str(in, "tag") ? sky_json_str(in, "tag") : "") : "",
	    "text", t);
	const char *role = in ? sky_json_str(in, "role") : NULL;
	if (role)
		json_object_set_new(p, "role", json_string(role));
	if (label && *label)
		json_object_set_new(p, "label", json_string(label));
	if (row->unit >= 0)
		json_object_set_new(p, "_row",
		                    json_pack("{s:i, s:i, s:i, s:s}", "u",
		                              row->unit, "c", row->cell, "g",
		                              row->group, "kind", row->tag));
	json_array_append_new(places, p);
	free(t);
}

/* A row of repeated structure: its kind, or NULL. */
static const char *row_kind(const json_t *el)
{
	const char *tag = sky_json_str(el, "tag");
	const char *role = sky_json_str(el, "role");
	if (skyx_str_eq(role, "row") || skyx_str_eq(role, "listitem"))
		return role;
	if (skyx_str_eq(tag, "tr") || skyx_str_eq(tag, "li"))
		return tag;
	return NULL;
}

typedef struct places_ctx {
	json_t *places;
	int serial; /* kept elements seen, in document order */
} places_ctx;

/* kids of `in` (serial in_ser); row: the row they are in; in_row: `in`
 * is that row itself (its element children are its cells). */
static void places_walk(places_ctx *pc, const json_t *kids, const json_t *in,
                        int in_ser, place_row row, int in_row, int depth)
{
	skyx_buf line = {0};
	size_t i;
	json_t *k;
	int cell = 0;
	if (depth > 200)
		return;
	json_array_foreach (kids, i, k) {
		if (json_is_string(k)) {
			const char *s = json_string_value(k);
			const char *nl;
			while ((nl = strchr(s, '\n'))) {
				skyx_buf_append(&line, s, (size_t)(nl - s));
				if (line.len) {
					place_add(pc->places, in, line.data,
					          NULL, &row);
					line.len = 0;
					line.data[0] = '\0';
				}
				s = nl + 1;
			}
			if (line.len)
				skyx_buf_putc(&line, ' ');
			skyx_buf_append(&line, s, strlen(s));
			continue;
		}
		if (!json_is_object(k))
			continue;
		if (line.len) {
			place_add(pc->places, in, line.data, NULL, &row);
			line.len = 0;
			line.data[0] = '\0';
		}
		place_row here = row;
		if (in_row)
			here.cell = cell++;
		int ser = pc->serial++;
		const char *own = sky_json_str(k, "text");
		if (own)
			place_add(pc->places, k, own, NULL, &here);
		const char *tag = sky_json_str(k, "tag");
		const char *val = sky_json_str(k, "value");
		if (val && *val && !skyx_str_eq(val, "****") &&
		    (skyx_str_eq(tag, "input") ||
		     skyx_str_eq(tag, "textarea") ||
		     skyx_str_eq(tag, "select")))
			place_add(pc->places, k, val, sky_json_str(k, "label"),
			          &here);
		const char *kind = row_kind(k);
		if (kind) {
			place_row r = {ser, -1, in_ser, kind};
			places_walk(pc, json_object_get(k, "children"), k, ser,
			            r, 1, depth + 1);
		} else {
			places_walk(pc, json_object_get(k, "children"), k, ser,
			            here, 0, depth + 1);
		}
	}
	if (line.len)
		place_add(pc->places, in, line.data, NULL, &row);
	free(line.data);
}

/* Each row's position: "row", its index among the rows of its group,
 * and "group", the index of its group among the groups holding rows of
 * that kind, both in document order. */
static void places_number_rows(json_t *places)
{
	json_t *units = json_object(), *groups = json_object();
	json_t *rows_in = json_object(), *p;
	size_t i;
	json_array_foreach (places, i, p) {
		json_t *rw = json_object_get(p, "_row");
		if (!rw)
			continue;
		char u[32], g[160];
		const char *kind = sky_json_str(rw, "kind");
		snprintf(u, sizeof u, "%lld",
		         (long long)sky_json_int(rw, "u", 0));
		snprintf(g, sizeof g, "%s/%lld", kind,
		         (long long)sky_json_int(rw, "g", 0));
		if (!json_object_get(groups, g)) {
			/* groups of this kind so far */
			char kk[160];
			snprintf(kk, sizeof kk, "#%s", kind);
			json_int_t n = sky_json_int(groups, kk, 0);
			json_object_set_new(groups, g, json_integer(n));
			json_object_set_new(groups, kk, json_integer(n + 1));
		}
		if (!json_object_get(units, u)) {
			json_int_t n = sky_json_int(rows_in, g, 0);
			json_object_set_new(units, u, json_integer(n));
			json_object_set_new(rows_in, g, json_integer(n + 1));
		}
		json_object_set_new(rw, "row",
		                    json_integer(sky_json_int(units, u, 0)));
		json_object_set_new(rw, "group",
		                    json_integer(sky_json_int(groups, g, 0)));
	}
	json_decref(units);
	json_decref(groups);
	json_decref(rows_in);
}

static json_t *places_of(const sky_obs *o)
{
	places_ctx pc = {json_array(), 0};
	place_row none = {-1, -1, -1, NULL};
	if (o)
		places_walk(&pc, json_object_get(o->snapshot, "elements"), NULL,
		            -1, none, 0, 0);
	places_number_rows(pc.places);
	return pc.places;
}

/* The text of a place before `p` (its context), or NULL. */
static const char *context_of(const json_t *places, size_t p)
{
	return p ? sky_json_str(json_array_get(places, p - 1), "text") : NULL;
}

/* The value of a place a description names: 1 and *start and *len when the
 * place fits (tag, role, the text around the value), else 0. */
static int place_fits(const json_t *at, const json_t *place, size_t *start,
                      size_t *len)
{
	if (!skyx_str_eq(sky_json_str(at, "tag"), sky_json_str(place, "tag")) ||
	    !skyx_str_eq(sky_json_str(at, "role"), sky_json_str(place, "role")))
		return 0;
	if (sky_json_str(at, "label") &&
	    !ieq(sky_json_str(at, "label"), sky_json_str(place, "label")))
		return 0;
	const char *text = sky_json_str(place, "text");
	const char *before = sky_json_str(at, "before");
	const char *after = sky_json_str(at, "after");
	if (!text)
		return 0;
	size_t s = 0, e = strlen(text);
	if (before && *before) {
		const char *b = strstr(text, before);
		if (!b)
			return 0;
		s = (size_t)(b - text) + strlen(before);
	}
	if (after && *after) {
		const char *a = s < e ? strstr(text + s + 1, after) : NULL;
		if (!a)
			return 0;
		e = (size_t)(a - text);
	}
	while (s < e && isspace((unsigned char)text[s]))
		s++;
	while (e > s && isspace((unsigned char)text[e - 1]))
		e--;
	if (e <= s)
		return 0;
	*start = s;
	*len = e - s;
	return 1;
}

/* Is the place in the cell a description's "in_row" names: its kind of
 * row, group, cell, and row when given (absent for an array's items:
 * every row of the group)? */
static int row_fits(const json_t *want, const json_t *place)
{
	const json_t *rw = json_object_get(place, "_row");
	return rw &&
	       skyx_str_eq(sky_json_str(want, "kind"),
	                   sky_json_str(rw, "kind")) &&
	       sky_json_int(want, "group", 0) ==
	           sky_json_int(rw, "group", -1) &&
	       sky_json_int(want, "cell", -1) == sky_json_int(rw, "c", -2) &&
	       (!json_object_get(want, "row") ||
	        sky_json_int(want, "row", 0) == sky_json_int(rw, "row", -1));
}

static json_t *fitting_by(const json_t *places, const json_t *at,
                          const char *ctx, const json_t *row)
{
	json_t *out = json_array(), *p;
	size_t i, s, n;
	json_array_foreach (places, i, p) {
		if (!place_fits(at, p, &s, &n))
			continue;
		if (ctx && !ieq(ctx, context_of(places, i)))
			continue;
		if (row && !row_fits(row, p))
			continue;
		json_array_append_new(out, json_integer((json_int_t)i));
	}
	return out;
}

/* Places that fit a description, in order (indexes; new reference):
 * a line that was the value alone also needs the line before it
 * (context) or, when that line is found nowhere (it was data, and
 * changed), its row and cell (in_row): then *by_row, and the first one
 * fitting is it. */
static json_t *fitting(const json_t *places, const json_t *at, int *by_row)
{
	const char *ctx = sky_json_str(at, "context");
	const json_t *row = json_object_get(at, "in_row");
	*by_row = !ctx && row;
	json_t *out = fitting_by(places, at, ctx, ctx ? NULL : row);
	if (!json_array_size(out) && ctx && row) {
		json_decref(out);
		out = fitting_by(places, at, NULL, row);
		*by_row = 1;
	}
	return out;
}

static void collect_values(const json_t *v, const char *prefix, json_t *acc);

/* The part of `text` (n bytes) with no navigation_payload value in it:
 * after the last one (keep_end) or before the first (malloc'd). The text
 * around a value found stays the same for another person. */
static char *without_payload(const json_t *vals, const char *text, size_t n,
                             int keep_end)
{
	size_t from = 0, to = n, i;
	json_t *pair;
	char *t = skyx_strndup(text, n);
	json_array_foreach (vals, i, pair) {
		const char *v = json_string_value(json_array_get(pair, 0));
		size_t vn = strlen(v);
		for (const char *h = strstr(t, v); h; h = strstr(h + 1, v)) {
			size_t at = (size_t)(h - t);
			if (keep_end && at + vn > from)
				from = at + vn;
			if (!keep_end && at < to)
				to = at;
		}
	}
	char *out = from < to ? skyx_strndup(t + from, to - from) : NULL;
	free(t);
	return out;
}

static json_t *describe_hit(const json_t *places, size_t best, size_t pre,
                            size_t hit_len, const json_t *vals);

/* The row a place is in, or -1. */
static int row_of(const json_t *place)
{
	return (int)sky_json_int(json_object_get(place, "_row"), "u", -1);
}

/* Does place i (text of len bytes) hold a value better than the best so
 * far: in the row `unit` (the row the item's other values were found in:
 * two rows may show the same quantity), else shorter. */
static int better(const json_t *places, size_t i, size_t len, size_t best,
                  size_t best_len, int unit)
{
	if (best == (size_t)-1)
		return 1;
	if (unit >= 0) {
		int a = row_of(json_array_get(places, i)) == unit;
		int b = row_of(json_array_get(places, best)) == unit;
		if (a != b)
			return a;
	}
	return len < best_len;
}

/* Describe where `repr` is in the places: NULL when it is nowhere.
 * `vals`: the payload's values ([value, key] pairs), kept out of the
 * description; unit: the row preferred, or -1. */
static json_t *place_describe(const json_t *places, const char *repr,
                              const json_t *vals, int unit)
{
	size_t i, best = (size_t)-1, best_len = 0;
	json_t *p;
	json_array_foreach (places, i, p) {
		const char *t = sky_json_str(p, "text");
		if (!t || !strstr(t, repr))
			continue;
		size_t n = strlen(t);
		if (better(places, i, n, best, best_len, unit)) {
			best = i;
			best_len = n;
		}
	}
	if (best == (size_t)-1)
		return NULL;
	const char *t = sky_json_str(json_array_get(places, best), "text");
	return describe_hit(places, best, (size_t)(strstr(t, repr) - t),
	                    strlen(repr), vals);
}

/* The number `want` written in the places any way a page writes it
 * ("1.234,56 €", "(12.50)"): the shortest place holding it, described
 * like a text, with the decimal mark its text showed ("decimal"), or
 * NULL. */
static json_t *number_describe(const json_t *places, double want,
                               const json_t *vals, int unit)
{
	size_t i, best = (size_t)-1, best_len = 0, best_at = 0, best_n = 0;
	char mark = 0;
	json_t *p;
	json_array_foreach (places, i, p) {
		const char *t = sky_json_str(p, "text");
		size_t from = 0, s, n, len = t ? strlen(t) : 0;
		while (t && sky_agent_number_next(t, from, &s, &n)) {
			char *tok = skyx_strndup(t + s, n);
			from = s + (n ? n : 1);
			sky_number a, b;
			int hit = 0;
			char m = 0;
			/* Either reading of a lone separator ("1.234"):
			 * the value says which the page meant. */
			if (!sky_agent_number_parse(tok, '.', &a) &&
			    fabs(a.value - want) < 1e-9 * (1 + fabs(want))) {
				hit = 1;
				m = a.decimal;
			} else if (!sky_agent_number_parse(tok, ',', &b) &&
			           fabs(b.value - want) <
			               1e-9 * (1 + fabs(want))) {
				hit = 1;
				m = b.decimal;
			}
			free(tok);
			if (hit &&
			    better(places, i, len, best, best_len, unit)) {
				best = i;
				best_len = len;
				best_at = s;
				best_n = n;
				mark = m;
			}
		}
	}
	if (best == (size_t)-1)
		return NULL;
	json_t *at = describe_hit(places, best, best_at, best_n, vals);
	if (mark)
		json_object_set_new(at, "decimal", json_sprintf("%c", mark));
	return at;
}

/* The place `best` holds the value at bytes [pre, pre + hit_len) of its
 * text: describe it. */
static json_t *describe_hit(const json_t *places, size_t best, size_t pre,
                            size_t hit_len, const json_t *vals)
{
	size_t i;
	json_t *p = json_array_get(places, best);
	const char *t = sky_json_str(p, "text");
	const char *hit = t + pre;
	size_t post = strlen(hit + hit_len);
	json_t *at = json_pack("{s:s}", "tag", sky_json_str(p, "tag"));
	if (sky_json_str(p, "role"))
		json_object_set_new(at, "role",
		                    json_string(sky_json_str(p, "role")));
	if (sky_json_str(p, "label"))
		json_object_set_new(at, "label",
		                    json_string(sky_json_str(p, "label")));
	/* The text right around it: enough to find it, not the page. */
	size_t bn = pre > PLACE_CONTEXT ? PLACE_CONTEXT : pre;
	size_t an = post > PLACE_CONTEXT ? PLACE_CONTEXT : post;
	char *b = bn ? without_payload(vals, hit - bn, bn, 1) : NULL;
	char *a = an ? without_payload(vals, hit + hit_len, an, 0) : NULL;
	if (b && *b)
		json_object_set_new(at, "before", json_string(b));
	if (a && *a)
		json_object_set_new(at, "after", json_string(a));
	const char *ctx = context_of(places, best);
	const json_t *rw = json_object_get(p, "_row");
	/* In a table row or list item, the line before is the row's header
	 * cell, a label cell, or data (the previous cell, the row above,
	 * a header that carries a date): the row and cell are kept too, and
	 * when the line before is found nowhere (it was data, and changed)
	 * they find the value. */
	if (!bn && !an && rw)
		json_object_set_new(
		    at, "in_row",
		    json_pack("{s:s, s:I, s:I, s:I}", "kind",
		              sky_json_str(rw, "kind"), "group",
		              (json_int_t)sky_json_int(rw, "group", 0), "row",
		              (json_int_t)sky_json_int(rw, "row", 0), "cell",
		              (json_int_t)sky_json_int(rw, "c", -1)));
	if (!bn && !an && ctx && strlen(ctx) <= 2 * PLACE_CONTEXT) {
		char *c = without_payload(vals, ctx, strlen(ctx), 1);
		/* A line that names a person is no anchor for another. */
		if (c && !strcmp(c, ctx))
			json_object_set_new(at, "context", json_string(c));
		free(c);
	}
	free(b);
	free(a);
	/* Its position among the places that fit the description. */
	int by_row = 0;
	json_t *f = fitting(places, at, &by_row), *x;
	int nth = 0;
	json_array_foreach (f, i, x) {
		if ((size_t)json_integer_value(x) == best)
			break;
		nth++;
	}
	json_decref(f);
	json_object_set_new(at, "nth", json_integer(nth));
	/* Which place: for finding the rows of an array (dropped after). */
	json_object_set_new(at, "_p", json_integer((json_int_t)best));
	return at;
}

#define LOCATE_MAX_FIELDS 500

/* Each leaf of `v` at `path` (a JSON array of keys and indexes) into
 * fields, or its path into unlocated. */
static void locate_leaves(const json_t *places, const json_t *vals,
                          const json_t *v, json_t *path, json_t *fields,
                          json_t *unlocated, int *unit)
{
	if (json_array_size(fields) + json_array_size(unlocated) >
	    LOCATE_MAX_FIELDS) {
		json_array_append(unlocated, path);
		return;
	}
	if (json_is_object(v) || json_is_array(v)) {
		const char *k;
		json_t *x;
		size_t i;
		/* An array item's words first: the row they are in is
		 * where its numbers are looked for first (unit: NULL
		 * outside an array). */
		for (int pass = 0; pass < 2 && json_is_object(v); pass++)
			json_object_foreach ((json_t *)v, k, x) {
				if (json_is_number(x) != pass)
					continue;
				json_t *p = json_copy(path);
				json_array_append_new(p, json_string(k));
				locate_leaves(places, vals, x, p, fields,
				              unlocated, unit);
				json_decref(p);
			}
		if (json_is_array(v))
			json_array_foreach (v, i, x) {
				json_t *p = json_copy(path);
				int own = -1;
				json_array_append_new(
				    p, json_integer((json_int_t)i));
				locate_leaves(places, vals, x, p, fields,
				              unlocated, &own);
				json_decref(p);
			}
		if (!json_object_size(v) && !json_array_size(v))
			json_array_append_new(
			    fields,
			    json_pack("{s:O, s:O}", "path", path, "value", v));
		return;
	}
	if (json_is_null(v)) {
		/* Not on the page when recorded: not read on replay. */
		json_array_append_new(
		    fields, json_pack("{s:O, s:n}", "path", path, "value"));
		return;
	}
	char *repr = NULL;
	const char *type = json_is_integer(v) ? "integer"
	                   : json_is_real(v)  ? "number"
	                                      : "string";
	if (json_is_string(v))
		repr = collapse(json_string_value(v));
	json_t *at = NULL;
	if (json_is_number(v))
		/* However the page writes it: "1.234,56 €", "(12.50)". */
		at = number_describe(places, json_number_value(v), vals,
		                     unit ? *unit : -1);
	else if (repr)
		at = place_describe(places, repr, vals, unit ? *unit : -1);
	if (at && unit && *unit < 0)
		*unit = row_of(
		    json_array_get(places, (size_t)sky_json_int(at, "_p", 0)));
	if (at)
		json_array_append_new(fields,
		                      json_pack("{s:O, s:s, s:o}", "path", path,
		                                "type", type, "at", at));
	else
		json_array_append(unlocated, path);
	free(repr);
}

/* The longest common prefix (suffix) of the strings of `strs`, or NULL.
 * One string alone: cut at its first (last) digit, which is data. */
static char *common_affix(const json_t *strs, int suffix)
{
	const char *first = json_string_value(json_array_get(strs, 0));
	if (!first)
		return NULL;
	size_t n = strlen(first), i;
	json_t *x;
	json_array_foreach (strs, i, x) {
		const char *t = json_string_value(x);
		size_t tn = t ? strlen(t) : 0, k = 0;
		while (k < n && k < tn &&
		       (suffix ? first[strlen(first) - 1 - k] == t[tn - 1 - k]
		               : first[k] == t[k]))
			k++;
		n = k;
	}
	const char *from = suffix ? first + strlen(first) - n : first;
	if (json_array_size(strs) == 1) {
		size_t k = 0;
		if (suffix) {
			for (k = n;
			     k > 0 && !isdigit((unsigned char)from[k - 1]); k--)
				;
			from += k;
			n -= k;
		} else {
			while (k < n && !isdigit((unsigned char)from[k]))
				k++;
			n = k;
		}
	}
	return n ? skyx_strndup(from, n) : NULL;
}

/* The fields of one array's items as one pattern: every item in a row
 * of its own (a table row, a list item) of one group, each sub-field in
 * the same cell of its row with the same kind of element. NULL when
 * they are not (the items stay recorded one by one). members: [{"i",
 * "item", "sub"}] indexes into fields. New reference. */
static json_t *array_pattern(const json_t *places, const json_t *prefix,
                             const json_t *members, const json_t *fields)
{
	json_t *subs = json_object(), *units = json_object();
	json_t *item_unit = json_object(), *m;
	const char *kind = NULL;
	json_int_t group = -1;
	size_t i;
	json_array_foreach (members, i, m) {
		const json_t *f =
		    json_array_get(fields, (size_t)sky_json_int(m, "i", 0));
		char *sk = sky_json_dumps(json_object_get(m, "sub"));
		json_t *sub = json_object_get(subs, sk);
		if (!sub) {
			sub = json_pack("{s:O, s:[], s:[], s:i}", "path",
			                json_object_get(m, "sub"), "before",
			                "after", "nulls", 0);
			json_object_set_new(subs, sk, sub);
		}
		free(sk);
		const json_t *at = json_object_get(f, "at");
		if (!at) {
			if (!json_is_null(json_object_get(f, "value")))
				goto no;
			json_object_set_new(
			    sub, "nulls",
			    json_integer(sky_json_int(sub, "nulls", 0) + 1));
			continue;
		}
		const json_t *pl =
		    json_array_get(places, (size_t)sky_json_int(at, "_p", -1));
		const json_t *rw = json_object_get(pl, "_row");
		if (!rw)
			goto no;
		if (!kind) {
			kind = sky_json_str(rw, "kind");
			group = sky_json_int(rw, "group", 0);
		}
		if (!skyx_str_eq(kind, sky_json_str(rw, "kind")) ||
		    group != sky_json_int(rw, "group", -1))
			goto no;
		/* One row per item, one item per row. */
		char ik[32], uk[32];
		snprintf(ik, sizeof ik, "%lld",
		         (long long)sky_json_int(m, "item", 0));
		snprintf(uk, sizeof uk, "%lld",
		         (long long)sky_json_int(rw, "u", 0));
		const char *was = sky_json_str(units, uk);
		if ((was && strcmp(was, ik)) ||
		    (json_object_get(item_unit, ik) &&
		     sky_json_int(item_unit, ik, 0) !=
		         sky_json_int(rw, "u", 0)))
			goto no;
		json_object_set_new(units, uk, json_string(ik));
		json_object_set_new(item_unit, ik,
		                    json_integer(sky_json_int(rw, "u", 0)));
		/* The same cell and element in every row. */
		json_t *shape = json_pack(
		    "{s:s?, s:s?, s:s?, s:I, s:s?}", "tag",
		    sky_json_str(at, "tag"), "role", sky_json_str(at, "role"),
		    "label", sky_json_str(at, "label"), "cell",
		    (json_int_t)sky_json_int(rw, "c", -1), "type",
		    sky_json_str(f, "type"));
		json_t *had = json_object_get(sub, "shape");
		if (had && !json_equal(had, shape)) {
			json_decref(shape);
			goto no;
		}
		if (!had)
			json_object_set_new(sub, "shape", shape);
		else
			json_decref(shape);
		json_array_append_new(
		    json_object_get(sub, "before"),
		    json_string(sky_json_str(at, "before")
		                    ? sky_json_str(at, "before")
		                    : ""));
		json_array_append_new(
		    json_object_get(sub, "after"),
		    json_string(sky_json_str(at, "after")
		                    ? sky_json_str(at, "after")
		                    : ""));
		if (sky_json_str(at, "decimal") &&
		    !json_object_get(sub, "decimal"))
			json_object_set_new(
			    sub, "decimal",
			    json_string(sky_json_str(at, "decimal")));
	}
	if (!kind)
		goto no;
	json_t *pf = json_array();
	const char *k;
	json_t *sub;
	json_object_foreach (subs, k, sub) {
		const json_t *shape = json_object_get(sub, "shape");
		if (!shape) {
			json_array_append_new(
			    pf,
			    json_pack("{s:O, s:n}", "path",
			              json_object_get(sub, "path"), "value"));
			continue;
		}
		json_t *at =
		    json_pack("{s:s?, s:s?, s:s?, s:{s:s, s:I, s:I}}", "tag",
		              sky_json_str(shape, "tag"), "role",
		              sky_json_str(shape, "role"), "label",
		              sky_json_str(shape, "label"), "in_row", "kind",
		              kind, "group", group, "cell",
		              (json_int_t)sky_json_int(shape, "cell", -1));
		static const char *const maybe[] = {"tag", "role", "label",
		                                    NULL};
		for (int q = 0; maybe[q]; q++)
			if (json_is_null(json_object_get(at, maybe[q])))
				json_object_del(at, maybe[q]);
		char *b = common_affix(json_object_get(sub, "before"), 1);
		char *a = common_affix(json_object_get(sub, "after"), 0);
		if (b)
			json_object_set_new(at, "before", json_string(b));
		if (a)
			json_object_set_new(at, "after", json_string(a));
		free(b);
		free(a);
		if (json_object_get(sub, "decimal"))
			json_object_set(at, "decimal",
			                json_object_get(sub, "decimal"));
		json_t *o = json_pack("{s:O, s:s, s:o}", "path",
		                      json_object_get(sub, "path"), "type",
		                      sky_json_str(shape, "type"), "at", at);
		/* A cell some rows left empty may be empty. */
		if (sky_json_int(sub, "nulls", 0))
			json_object_set_new(o, "optional", json_true());
		json_array_append_new(pf, o);
	}
	json_t *out = json_pack(
	    "{s:O, s:{s:I, s:o}}", "path", prefix, "items", "recorded",
	    (json_int_t)json_object_size(item_unit), "fields", pf);
	json_decref(subs);
	json_decref(units);
	json_decref(item_unit);
	return out;
no:
	json_decref(subs);
	json_decref(units);
	json_decref(item_unit);
	return NULL;
}

/* Arrays whose items sit in rows become patterns (array_pattern): a
 * replay reads every row of the group that fits. The rest stay as they
 * were; the place indexes are dropped. New reference. */
static json_t *find_arrays(const json_t *places, json_t *fields)
{
	json_t *arrays = json_object(), *f, *out = json_array();
	json_t *taken = json_object();
	size_t i;
	json_array_foreach (fields, i, f) {
		const json_t *path = json_object_get(f, "path");
		size_t ints = 0, pos = 0, j;
		json_t *k;
		json_array_foreach (path, j, k)
			if (json_is_integer(k)) {
				ints++;
				pos = j;
			}
		if (ints != 1)
			continue;
		json_t *prefix = json_array(), *sub = json_array();
		json_array_foreach (path, j, k)
			if (j != pos)
				json_array_append(j < pos ? prefix : sub, k);
		char *key = sky_json_dumps(prefix);
		json_t *a = json_object_get(arrays, key);
		if (!a) {
			a = json_pack("{s:O, s:[]}", "prefix", prefix,
			              "members");
			json_object_set_new(arrays, key, a);
		}
		free(key);
		json_array_append_new(
		    json_object_get(a, "members"),
		    json_pack("{s:I, s:O, s:o}", "i", (json_int_t)i, "item",
		              json_array_get(path, pos), "sub", sub));
		json_decref(prefix);
	}
	const char *key;
	json_t *a;
	json_object_foreach (arrays, key, a) {
		json_t *pat =
		    array_pattern(places, json_object_get(a, "prefix"),
		                  json_object_get(a, "members"), fields);
		if (!pat)
			continue;
		json_t *m;
		json_array_foreach (json_object_get(a, "members"), i, m) {
			char ik[32];
			snprintf(ik, sizeof ik, "%lld",
			         (long long)sky_json_int(m, "i", 0));
			json_object_set_new(taken, ik, json_true());
		}
		json_array_append_new(out, pat);
	}
	json_array_foreach (fields, i, f) {
		char ik[32];
		snprintf(ik, sizeof ik, "%zu", i);
		if (json_object_get(taken, ik))
			continue;
		json_object_del(json_object_get(f, "at"), "_p");
		json_array_append(out, f);
	}
	json_decref(arrays);
	json_decref(taken);
	return out;
}

void sky_agent_plan_locate(sky_run *r, const sky_obs *o, const json_t *value)
{
	json_decref(r->plan_extraction);
	r->plan_extraction = NULL;
	if (!o || !value)
		return;
	json_t *places = places_of(o);
	json_t *fields = json_array(), *unlocated = json_array();
	json_t *root = json_array();
	json_t *vals = json_array();
	if (json_is_object(r->payload))
		collect_values(r->payload, NULL, vals);
	locate_leaves(places, vals, value, root, fields, unlocated, NULL);
	json_decref(vals);
	json_decref(root);
	char *path = url_path(o->url);
	if (json_array_size(unlocated)) {
		/* Part of it was not read off the page (a boolean the page
		 * implies, a value the model worded): a replay asks the
		 * model, and records again. */
		r->plan_extraction = json_pack("{s:s, s:o}", "url_path", path,
		                               "unlocated", unlocated);
		json_decref(fields);
	} else {
		json_t *kept = find_arrays(places, fields);
		json_decref(fields);
		r->plan_extraction =
		    json_pack("{s:s, s:o}", "url_path", path, "fields", kept);
		json_decref(unlocated);
	}
	json_decref(places);
	free(path);
}

/* A path as text: "jobs[0].title" (malloc'd). */
static char *path_text(const json_t *path)
{
	skyx_buf b = {0};
	size_t i;
	json_t *k;
	json_array_foreach (path, i, k) {
		if (json_is_integer(k))
			skyx_buf_printf(&b, "[%lld]",
			                (long long)json_integer_value(k));
		else
			skyx_buf_printf(&b, "%s%s", b.len ? "." : "",
			                json_string_value(k));
	}
	return b.len ? skyx_buf_steal(&b) : skyx_strdup("the value");
}

/* Set path[i..] under the container cur to v (stolen). */
static void put_in(json_t *cur, const json_t *path, size_t i, json_t *v)
{
	json_t *k = json_array_get(path, i);
	int last = i + 1 == json_array_size(path);
	json_t *child = NULL;
	if (json_is_integer(k) && json_is_array(cur)) {
		size_t idx = (size_t)json_integer_value(k);
		while (json_array_size(cur) <= idx)
			json_array_append_new(cur, json_null());
		child = json_array_get(cur, idx);
		if (last || json_is_null(child)) {
			json_t *n =
			    last ? v
			    : json_is_integer(json_array_get(path, i + 1))
			        ? json_array()
			        : json_object();
			json_array_set_new(cur, idx, n);
			child = n;
		}
	} else if (json_is_string(k) && json_is_object(cur)) {
		const char *key = json_string_value(k);
		child = json_object_get(cur, key);
		if (last || !child || json_is_null(child)) {
			json_t *n =
			    last ? v
			    : json_is_integer(json_array_get(path, i + 1))
			        ? json_array()
			        : json_object();
			json_object_set_new(cur, key, n);
			child = n;
		}
	} else {
		json_decref(v);
		return;
	}
	if (!last)
		put_in(child, path, i + 1, v);
}

/* Set `v` (stolen) at `path` under *root, making objects and arrays on
 * the way. */
static void put_at(json_t **root, const json_t *path, json_t *v)
{
	if (!json_array_size(path)) {
		json_decref(*root);
		*root = v;
		return;
	}
	if (!*root)
		*root = json_is_integer(json_array_get(path, 0))
		            ? json_array()
		            : json_object();
	put_in(*root, path, 0, v);
}

/* The text found converted to the recorded type, or NULL: a number as
 * the page writes it, read with the decimal mark the recorded run's
 * text showed (`mark`, 0 when it did not tell). */
static json_t *typed(const char *type, const char *text, char mark)
{
	if (skyx_str_eq(type, "string"))
		return json_string(text);
	sky_number n;
	if (sky_agent_number_parse(text, mark, &n))
		return NULL;
	if (skyx_str_eq(type, "integer") && n.value == floor(n.value) &&
	    fabs(n.value) < 9e15)
		return json_integer((json_int_t)n.value);
	return json_real(n.value);
}

/* An array recorded as a pattern (array_pattern): one item for every
 * row of the group in which each of its fields fits. 0 and *value, or 1
 * and *why (no row fits, or a text not of its type). */
static int replay_items(const json_t *places, const json_t *f, json_t **value,
                        char **why)
{
	const json_t *items = json_object_get(f, "items");
	const json_t *subs = json_object_get(items, "fields"), *sf;
	const json_t *anchor = NULL;
	size_t i, j;
	json_t *p;
	*value = NULL;
	json_array_foreach (subs, i, sf)
		if ((anchor =
		         json_object_get(json_object_get(sf, "at"), "in_row")))
			break;
	char *pt = path_text(json_object_get(f, "path"));
	/* The rows of the group, in order. */
	json_t *rows = json_array(), *seen = json_object();
	json_array_foreach (places, i, p) {
		const json_t *rw = json_object_get(p, "_row");
		if (!anchor || !rw ||
		    !skyx_str_eq(sky_json_str(rw, "kind"),
		                 sky_json_str(anchor, "kind")) ||
		    sky_json_int(rw, "group", -1) !=
		        sky_json_int(anchor, "group", 0))
			continue;
		char uk[32];
		snprintf(uk, sizeof uk, "%lld",
		         (long long)sky_json_int(rw, "u", 0));
		if (json_object_get(seen, uk))
			continue;
		json_object_set_new(seen, uk, json_true());
		json_array_append_new(rows,
		                      json_integer(sky_json_int(rw, "u", 0)));
	}
	json_decref(seen);
	json_t *out = json_array(), *u;
	json_array_foreach (rows, j, u) {
		json_t *item = NULL;
		int fits = 1;
		json_array_foreach (subs, i, sf) {
			const json_t *at = json_object_get(sf, "at");
			if (!at) {
				put_at(&item, json_object_get(sf, "path"),
				       json_null());
				continue;
			}
			size_t pi, s = 0, n = 0;
			const json_t *hit = NULL;
			json_array_foreach (places, pi, p) {
				if (sky_json_int(json_object_get(p, "_row"),
				                 "u",
				                 -1) == json_integer_value(u) &&
				    row_fits(json_object_get(at, "in_row"),
				             p) &&
				    place_fits(at, p, &s, &n)) {
					hit = p;
					break;
				}
			}
			if (!hit) {
				if (json_is_true(
				        json_object_get(sf, "optional"))) {
					put_at(&item,
					       json_object_get(sf, "path"),
					       json_null());
					continue;
				}
				fits = 0;
				break;
			}
			char *text =
			    skyx_strndup(sky_json_str(hit, "text") + s, n);
			const char *mark = sky_json_str(at, "decimal");
			json_t *v = typed(sky_json_str(sf, "type"), text,
			                  mark ? *mark : 0);
			if (!v) {
				char *sp =
				    path_text(json_object_get(sf, "path"));
				*why = skyx_asprintf(
				    "the text \"%s\" found for %s[%zu]%s%s is "
				    "not a %s",
				    text, pt, json_array_size(out),
				    json_array_size(json_object_get(sf, "path"))
				        ? "."
				        : "",
				    json_array_size(json_object_get(sf, "path"))
				        ? sp
				        : "",
				    sky_json_str(sf, "type"));
				free(sp);
				free(text);
				json_decref(item);
				goto fail;
			}
			free(text);
			put_at(&item, json_object_get(sf, "path"), v);
		}
		if (fits && item)
			json_array_append_new(out, item);
		else
			json_decref(item);
	}
	if (!json_array_size(out)) {
		*why = skyx_asprintf(
		    "the page has no row for %s where the recorded "
		    "run found its %lld items (%s rows, cell %lld)",
		    pt, (long long)sky_json_int(items, "recorded", 0),
		    anchor ? sky_json_str(anchor, "kind") : "?",
		    (long long)sky_json_int(anchor, "cell", -1));
		goto fail;
	}
	json_decref(rows);
	free(pt);
	*value = out;
	return 0;
fail:
	json_decref(rows);
	json_decref(out);
	free(pt);
	return 1;
}

/* Read an extraction where the recorded one found its data: 0 and
 * *value, or 1 and *why (what was not found or did not fit). */
static int extract_replay(sky_run *r, const sky_obs *o, const json_t *spec,
                          json_t **value, char **why)
{
	json_t *places = places_of(o), *out = NULL, *f;
	size_t i;
	*value = NULL;
	*why = NULL;
	json_array_foreach (json_object_get(spec, "fields"), i, f) {
		const json_t *path = json_object_get(f, "path");
		const json_t *at = json_object_get(f, "at");
		if (json_object_get(f, "items")) {
			json_t *arr = NULL;
			if (replay_items(places, f, &arr, why))
				goto fail;
			put_at(&out, path, arr);
			continue;
		}
		if (!at) {
			put_at(&out, path,
			       json_deep_copy(json_object_get(f, "value")));
			continue;
		}
		int by_row = 0;
		json_t *fit = fitting(places, at, &by_row);
		int nth = by_row && sky_json_str(at, "context")
		              ? 0
		              : (int)sky_json_int(at, "nth", 0);
		json_t *pi = json_array_get(fit, (size_t)nth);
		size_t s = 0, n = 0;
		const json_t *p =
		    pi ? json_array_get(places, (size_t)json_integer_value(pi))
		       : NULL;
		json_decref(fit);
		char *pt = path_text(path);
		if (!p || !place_fits(at, p, &s, &n)) {
			const char *ctx = sky_json_str(at, "context");
			const char *bef = sky_json_str(at, "before");
			*why = skyx_asprintf(
			    "the data for %s is no longer where it was found "
			    "(a %s%s%s%s%s%s)",
			    pt,
			    *sky_json_str(at, "tag") ? sky_json_str(at, "tag")
			                             : "text line",
			    bef ? " after \"" : "", bef ? bef : "",
			    bef ? "\"" : "", ctx ? " under \"" : "",
			    ctx ? ctx : "");
			if (ctx) {
				char *w = skyx_asprintf("%s\")", *why);
				free(*why);
				*why = w;
			}
			free(pt);
			goto fail;
		}
		char *text = skyx_strndup(sky_json_str(p, "text") + s, n);
		const char *mark = sky_json_str(at, "decimal");
		json_t *v =
		    typed(sky_json_str(f, "type"), text, mark ? *mark : 0);
		if (!v) {
			*why = skyx_asprintf("the text \"%s\" found for %s is "
			                     "not a %s",
			                     text, pt, sky_json_str(f, "type"));
			free(text);
			free(pt);
			goto fail;
		}
		free(text);
		free(pt);
		put_at(&out, path, v);
	}
	if (!out)
		out = json_object();
	/* The schema's own checks, as for the model's answer. */
	if (!json_is_null(r->schema)) {
		char *txt = sky_json_dumps(out);
		json_t *norm = NULL, *msgs = NULL;
		int rc = sky_planner_parse_data(txt, r->schema, &norm, &msgs);
		free(txt);
		if (rc || json_array_size(msgs)) {
			const char *m =
			    json_string_value(json_array_get(msgs, 0));
			*why = skyx_asprintf("the data found does not fit the "
			                     "schema: %s",
			                     m ? m : "not JSON");
			json_decref(norm);
			json_decref(msgs);
			goto fail;
		}
		json_decref(msgs);
		json_decref(out);
		out = norm;
	}
	json_decref(places);
	*value = out;
	return 0;
fail:
	json_decref(places);
	json_decref(out);
	return 1;
}

/* ---- recording -------------------------------------------------------- */

/* The page's elements now: settled, then a snapshot. Not the page state
 * (sky_agent_observe's), whose dialogs and downloads since the last call
 * the next observation must still report. 0 and *elements, *url
 * (malloc'd), or -1. */
static int page_now(sky_run *r, json_t **elements, char **url)
{
	char *text = NULL, *err = NULL;
	*elements = NULL;
	*url = NULL;
	if (r->bvt->settle) {
		char opts[48];
		snprintf(opts, sizeof opts, "{\"max_ms\":%d}",
		         r->env->config->settle_max_ms);
		r->bvt->settle(r->ctx, opts, &text, &err);
		free(text);
		free(err);
		text = err = NULL;
	}
	int rc =
	    r->bvt->snapshot(r->ctx, sky_page_script(NULL), "{}", &text, &err);
	free(err);
	json_t *snap = rc ? NULL : sky_json_loads(text);
	free(text);
	sky_page_tree *tree = NULL;
	sky_page_render_options ro;
	sky_page_render_options_init(&ro);
	ro.max_tokens = 0;
	if (!snap || sky_page_render_json(snap, &ro, &tree)) {
		json_decref(snap);
		return -1;
	}
	*elements = json_incref(sky_page_tree_elements(tree));
	*url = skyx_strdup(sky_json_str(snap, "url"));
	sky_page_tree_free(tree);
	json_decref(snap);
	return 0;
}

/*
 * "Element gone" effects. When an action is noted, what it targeted is
 * counted on the page it acted on (elements that fit its description as
 * well as it does: one for a banner's button, one per row for a row's
 * Delete), and counted again on the same page after: for a click at
 * once (page_now: a settle and a snapshot, since a step's later actions
 * may go on from the page the click left), for other actions on the next
 * observation (the next step's, or the end page's when the plan is
 * saved). Fewer after: the action made them go, and the plan says so
 * ("effect": {"gone": n}), so a replay checks it (check_gone). A
 * navigation is no such effect: the next step's page check sees it.
 */
static void resolve_probe(json_t *a, const json_t *elements, const char *url)
{
	json_t *pr = json_object_get(a, "_probe");
	if (!pr)
		return;
	int best = (int)sky_json_int(pr, "score", 0);
	int before = (int)sky_json_int(pr, "like", 0);
	char *path = elements ? url_path(url) : NULL;
	if (path && skyx_str_eq(path, sky_json_str(pr, "path"))) {
		int now =
		    count_like(elements, json_object_get(a, "target"), &best);
		if (now < before)
			json_object_set_new(
			    a, "effect",
			    json_pack("{s:i}", "gone", before - now));
	}
	free(path);
	json_object_del(a, "_probe");
}

static void resolve_probes(json_t *step, const sky_obs *after)
{
	size_t i;
	json_t *a;
	json_array_foreach (json_object_get(step, "actions"), i, a)
		resolve_probe(a, after ? after->elements : NULL,
		              after ? after->url : NULL);
}

static int has_probes(const json_t *step)
{
	size_t i;
	json_t *a;
	json_array_foreach (json_object_get(step, "actions"), i, a)
		if (json_object_get(a, "_probe"))
			return 1;
	return 0;
}

void sky_agent_plan_before_action(sky_run *r)
{
	if (!r->plan_probe_pending || !r->plan_step)
		return;
	r->plan_probe_pending = 0;
	if (!has_probes(r->plan_step))
		return;
	json_t *now = NULL;
	char *url = NULL;
	int64_t t0 = skyx_time_mono_ms();
	if (!page_now(r, &now, &url)) {
		resolve_probes(r->plan_step,
		               &(sky_obs){.elements = now, .url = url});
		sky_log_debug("agent",
		              "run %s: what a click made go, read before the "
		              "next action in %d ms",
		              r->task->task_id,
		              (int)(skyx_time_mono_ms() - t0));
	}
	json_decref(now);
	free(url);
}

void sky_agent_plan_begin_step(sky_run *r, const sky_obs *o)
{
	r->plan_probe_pending = 0;
	if (!r->plan_rec)
		r->plan_rec = json_array();
	if (r->plan_step)
		resolve_probes(r->plan_step, o);
	char *path = url_path(o->url);
	char *fp = fingerprint(o->elements);
	json_t *st = json_pack("{s:s, s:s, s:[]}", "url_path", path,
	                       "fingerprint", fp, "actions");
	free(path);
	free(fp);
	json_array_append_new(r->plan_rec, st);
	r->plan_step = st;
}

/* Action fields that do not go into a plan: the snapshot id, the
 * model's words, and the typed text (kept as its source). */
static const char *const dropped[] = {"element_id",
                                      "reasoning",
                                      "text",
                                      "confidence_float",
                                      "id",
                                      "user_detail_query",
                                      "user_detail_answer",
                                      "intention",
                                      "response",
                                      "action_id",
                                      "skyvern_element_hash",
                                      NULL};

void sky_agent_plan_note(sky_run *r, const sky_obs *o, const json_t *action,
                         const json_t *result)
{
	const char *type = sky_json_str(action, "action_type");
	if (!r->plan_step || !type)
		return;
	if (!strcmp(type, "complete")) {
		json_object_set_new(r->plan_step, "final", json_true());
		return;
	}
	if (!strcmp(type, "terminate") || !strcmp(type, "solve_captcha"))
		return;
	json_t *a = json_deep_copy(action);
	for (int i = 0; dropped[i]; i++)
		json_object_del(a, dropped[i]);
	const char *id = sky_json_str(action, "element_id");
	if (id && o) {
		const json_t *el = find_element(o->elements, id);
		if (!el) {
			/* Not describable: the plan cannot replay it. */
			json_object_set_new(a, "unresolvable", json_true());
		} else {
			json_t *t = describe(o->elements, el);
			int best = -1;
			int like = count_like(o->elements, t, &best);
			char *path = url_path(o->url);
			json_object_set_new(a, "target", t);
			if (like > 0)
				json_object_set_new(
				    a, "_probe",
				    json_pack("{s:i, s:i, s:s}", "score", best,
				              "like", like, "path", path));
			free(path);
			/* A click that stayed on its page is counted again
			 * before the step's next action, if one runs
			 * (sky_agent_plan_before_action); otherwise the next
			 * observation counts it, at no cost of its own. A
			 * click that loaded a page or opened a tab made
			 * nothing go: the next step's page says where. */
			if (like > 0 && !strcmp(type, "click") &&
			    !json_is_true(
			        json_object_get(result, "navigated")) &&
			    !json_object_get(result, "tab_index"))
				r->plan_probe_pending = 1;
		}
	}
	/* Where the extraction found its data (sky_agent_plan_locate). */
	if (!strcmp(type, "extract") && r->plan_extraction) {
		json_object_set_new(a, "extraction", r->plan_extraction);
		r->plan_extraction = NULL;
	}
	const char *text = sky_json_str(action, "text");
	if (text && strcmp(type, "verification_code"))
		json_object_set_new(a, "value", value_source(r, text));
	/* A select's option picked by the payload's value. */
	json_t *opt = json_object_get(a, "option");
	const char *ol = sky_json_str(opt, "label");
	if (ol) {
		json_t *src = value_source(r, ol);
		if (skyx_str_eq(sky_json_str(src, "from"), "payload") ||
		    skyx_str_eq(sky_json_str(src, "from"), "secret")) {
			json_object_del(opt, "label");
			json_object_del(opt, "value");
			json_object_set_new(a, "option_value", src);
		} else {
			json_decref(src);
		}
	}
	json_array_append_new(json_object_get(r->plan_step, "actions"), a);
}

/* ---- keys ------------------------------------------------------------- */

/* The goal with every payload value of 3+ characters written as
 * {{key}}, whitespace collapsed (malloc'd). */
static void abstract_values(skyx_buf *out, const char *goal,
                            const json_t *payload);

static void collect_values(const json_t *v, const char *prefix, json_t *acc)
{
	const char *k;
	json_t *x;
	json_object_foreach ((json_t *)v, k, x) {
		char *path =
		    prefix ? skyx_asprintf("%s.%s", prefix, k) : skyx_strdup(k);
		if (json_is_string(x) && strlen(json_string_value(x)) >= 3)
			json_array_append_new(
			    acc,
			    json_pack("[s, s]", json_string_value(x), path));
		else if (json_is_object(x))
			collect_values(x, path, acc);
		free(path);
	}
}

static void abstract_values(skyx_buf *out, const char *goal,
                            const json_t *payload)
{
	json_t *vals = json_array();
	if (json_is_object(payload))
		collect_values(payload, NULL, vals);
	const char *p = goal ? goal : "";
	int space = 0;
	while (*p) {
		size_t best = 0;
		const char *key = NULL;
		size_t i;
		json_t *pair;
		json_array_foreach (vals, i, pair) {
			const char *v =
			    json_string_value(json_array_get(pair, 0));
			size_t n = strlen(v);
			if (n > best && !strncmp(p, v, n)) {
				best = n;
				key =
				    json_string_value(json_array_get(pair, 1));
			}
		}
		if (best) {
			skyx_buf_printf(out, "%s{{%s}}", space ? " " : "", key);
			space = 0;
			p += best;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			space = out->len > 0;
			p++;
			continue;
		}
		if (space)
			skyx_buf_putc(out, ' ');
		space = 0;
		skyx_buf_putc(out, *p++);
	}
	json_decref(vals);
}

char *sky_agent_plan_goal_template(const sky_task_rec *t)
{
	json_t *payload = sky_json_or_null(t->navigation_payload);
	skyx_buf b = {0};
	abstract_values(&b, t->prompt, payload);
	json_decref(payload);
	return b.len ? skyx_buf_steal(&b) : skyx_strdup("");
}

char *sky_agent_plan_key(const sky_task_rec *t)
{
	json_t *notes = sky_json_loads(t->notes);
	const char *client = sky_json_str(notes, "cache_key");
	char *out = NULL;
	if (t->workflow_permanent_id)
		out = skyx_strdup(t->workflow_permanent_id);
	else if (client)
		out = skyx_asprintf("client:%s", client);
	json_decref(notes);
	if (out)
		return out;
	char *tmpl = sky_agent_plan_goal_template(t);
	char *where = url_origin_path(t->url);
	char *text = skyx_asprintf("%s\n%s\n%s", t->run_type, tmpl, where);
	char hex[SKYX_SHA256_HEX_LEN];
	skyx_sha256_hex(text, strlen(text), hex);
	out = skyx_asprintf("k_%.32s", hex);
	free(text);
	free(tmpl);
	free(where);
	return out;
}

/* ---- storing ---------------------------------------------------------- */

/* The recorded steps worth keeping: those with actions, and the final. */
static json_t *kept_steps(const json_t *rec)
{
	json_t *out = json_array(), *st;
	size_t i;
	json_array_foreach (rec, i, st) {
		if (json_array_size(json_object_get(st, "actions")) ||
		    json_is_true(json_object_get(st, "final")))
			json_array_append(out, st);
	}
	return out;
}

static json_t *end_of(json_t *steps)
{
	return json_array_get(steps, json_array_size(steps) - 1);
}

/* Steps as compared between versions: what is done and where, without
 * the fingerprints and the end page (informative, and the end is only
 * observed for a plan that is stored), and where the final extraction
 * found its data. New reference. */
static json_t *comparable(const json_t *steps, const json_t *extraction)
{
	json_t *c = json_deep_copy(steps), *st;
	size_t i;
	json_array_foreach (c, i, st) {
		json_object_del(st, "fingerprint");
		json_object_del(st, "end");
	}
	return json_pack("{s:o, s:O?}", "steps", c, "extraction", extraction);
}

int sky_agent_plan_save(sky_run *r)
{
	const sky_task_rec *t = r->task;
	sky_obs *o = NULL;
	if (!r->plan_rec || r->resumed)
		return 0;
	/* The last step's effects are seen on the page the run ended on. */
	if (has_probes(r->plan_step) && sky_agent_observe(r, 0, &o)) {
		sky_obs_free(o);
		o = NULL;
	}
	size_t si;
	json_t *st;
	json_array_foreach (r->plan_rec, si, st)
		resolve_probes(st, st == r->plan_step ? o : NULL);
	json_t *steps = kept_steps(r->plan_rec);
	if (!json_array_size(steps)) {
		json_decref(steps);
		sky_obs_free(o);
		return 0;
	}
	char *key = sky_agent_plan_key(t);
	sky_script_rec *old = NULL;
	int rc = 0;
	if (!sky_store_script_find(r->env->store, t->organization_id, key,
	                           &old)) {
		json_t *prev = sky_json_loads(old->plan);
		json_t *a = comparable(json_object_get(prev, "steps"),
		                       json_object_get(prev, "extraction"));
		json_t *b = comparable(steps, r->plan_extraction);
		int same = json_equal(a, b);
		json_decref(a);
		json_decref(b);
		json_decref(prev);
		if (same) {
			/* Nothing new to learn from this run. */
			sky_script_rec_free(old);
			json_decref(steps);
			free(key);
			sky_obs_free(o);
			return 0;
		}
	}
	sky_script_rec_free(old);
	/* The page the run ended on: the last step's effect, checked at the
	 * end of a replay. */
	if (o || !sky_agent_observe(r, 0, &o)) {
		char *path = url_path(o->url);
		char *fp = fingerprint(o->elements);
		json_object_set_new(end_of(steps), "end",
		                    json_pack("{s:s, s:s}", "url_path", path,
		                              "fingerprint", fp));
		free(path);
		free(fp);
	}
	sky_obs_free(o);
	/* The goal and URL as stored are redacted too: a goal may spell out
	 * a password the payload does not hold. */
	char *raw_tmpl = sky_agent_plan_goal_template(t);
	char *raw_where = url_origin_path(t->url);
	char *tmpl = sky_redact(raw_tmpl), *where = sky_redact(raw_where);
	free(raw_tmpl);
	free(raw_where);
	json_t *plan = json_pack("{s:i, s:s, s:s, s:s, s:s?, s:o}", "format",
	                         PLAN_FORMAT, "run_type", t->run_type, "engine",
	                         t->engine, "goal_template", tmpl, "start_url",
	                         t->url ? where : NULL, "steps", steps);
	/* The run's final extraction: where it found its data. */
	if (r->plan_extraction)
		json_object_set(plan, "extraction", r->plan_extraction);
	char *text = sky_json_dumps(plan);
	/* Belt and braces: a registered secret never reaches the store. */
	char *clean = text ? sky_redact(text) : NULL;
	sky_script_new in = {0};
	in.organization_id = t->organization_id;
	in.cache_key = key;
	in.workflow_permanent_id = t->workflow_permanent_id;
	in.run_id = t->task_id;
	in.run_type = t->run_type;
	in.goal_template = tmpl;
	in.url = t->url ? where : NULL;
	in.plan = clean ? clean : text;
	sky_script_rec *rec = NULL;
	if (in.plan && (rc = sky_store_script_add(r->env->store, &in, &rec)))
		sky_log_warn("agent", "run %s: the plan was not stored: %s",
		             t->task_id, sky_error_last());
	else if (rec)
		sky_log_info("agent", "run %s: plan %s version %d stored",
		             t->task_id, rec->script_id, rec->version);
	sky_script_rec_free(rec);
	free(clean);
	free(text);
	json_decref(plan);
	free(tmpl);
	free(where);
	free(key);
	return rc;
}

/* ---- replaying -------------------------------------------------------- */

static void emit_step(sky_run *r, sky_event_type type)
{
	json_t *o = json_pack(
	    "{s:s, s:i, s:i, s:s, s:b}", "step_id", r->step->step_id, "order",
	    r->step->order, "retry_index", r->step->retry_index, "status",
	    sky_step_status_name(r->step->status), "replayed", 1);
	char *s = sky_json_dumps(o);
	sky_agent_emit(r, type, sky_step_status_name(r->step->status),
	               r->step->order, r->step->retry_index, s);
	free(s);
	json_decref(o);
}

static int set_step(sky_run *r, sky_step_status st)
{
	sky_step_rec *n = NULL;
	int rc =
	    sky_store_step_set_status(r->env->store, r->step->step_id, st, &n);
	if (!rc) {
		sky_step_rec_free(r->step);
		r->step = n;
	}
	return rc;
}

static void record(sky_run *r, json_t *pairs, json_t *hist,
                   const json_t *action, const json_t *result,
                   const char *intent_id)
{
	int ok = json_is_true(json_object_get(result, "success"));
	const char *status = ok ? "completed" : "failed";
	char *aj = sky_json_dumps(action), *rj = sky_json_dumps(result);
	char *caj = sky_redact(aj), *crj = sky_redact(rj);
	/* Written ahead when it was dispatched (intent.c): finish it. */
	if (intent_id)
		sky_store_action_finish(r->env->store, intent_id,
		                        crj ? crj : rj, status);
	else
		sky_store_action_append(r->env->store, r->step->step_id,
		                        caj ? caj : aj, crj ? crj : rj, status,
		                        NULL);
	json_array_append_new(pairs, json_pack("[O,[O]]", action, result));
	json_array_append_new(
	    hist, json_pack("{s:O, s:O}", "action", action, "result", result));
	json_t *ev =
	    json_pack("{s:O, s:O}", "action", action, "result", result);
	char *evs = sky_json_dumps(ev);
	sky_agent_emit(r, SKY_EVENT_ACTION, status, r->step->order,
	               r->step->retry_index, evs);
	free(evs);
	json_decref(ev);
	free(caj);
	free(crj);
	free(aj);
	free(rj);
}

/* The path of the page the run is on, from the browser's page state: a
 * cheap check (no settle, no snapshot) for what needs only the URL
 * (malloc'd; NULL when the browser did not say). */
static char *current_path(sky_run *r)
{
	char *text = NULL, *err = NULL, *out = NULL;
	if (!r->ctx || !r->bvt->page_state)
		return NULL;
	int rc = r->bvt->page_state(r->ctx, &text, &err);
	free(err);
	json_t *st = rc ? NULL : sky_json_loads(text);
	free(text);
	const char *url = sky_json_str(st, "url");
	if (url) {
		out = url_path(url);
		free(r->last_url);
		r->last_url = skyx_strdup(url);
	}
	json_decref(st);
	return out;
}

/* How long a replay waits for an element the recorded action made go:
 * the observation's settle (which waits for the page's short timers and
 * its DOM to be quiet), then, while it is still there, each next change
 * of the page, until this much time has passed since the action. */
#define GONE_WAIT_MS 3000

/* Wait in the page for its next DOM change, at most ms: 1 changed, 0 not
 * (or the browser cannot tell: no evaluate). A MutationObserver in the
 * page's world: woken by the change, not polled. */
static int next_change(sky_run *r, int ms)
{
	if (!r->bvt->evaluate || ms <= 0)
		return 0;
	char *expr = skyx_asprintf(
	    "new Promise(function (done) {"
	    " var over = false, m = new MutationObserver(function () {"
	    "  if (!over) { over = true; m.disconnect(); done(true); } });"
	    " m.observe(document, {subtree: true, childList: true,"
	    "  attributes: true, characterData: true});"
	    " setTimeout(function () {"
	    "  if (!over) { over = true; m.disconnect(); done(false); } }, %d);"
	    "})",
	    ms);
	char *out = NULL, *err = NULL;
	int rc = r->bvt->evaluate(r->ctx, expr, &out, &err);
	int changed = !rc && out && !strcmp(out, "true");
	free(expr);
	free(out);
	free(err);
	return changed;
}

/* After an action whose recorded effect was elements gone: are they? 0
 * yes, 1 no (*why). o: the page before the action. */
static int check_gone(sky_run *r, int index, const json_t *pa, const sky_obs *o,
                      int64_t acted_ms, char **why)
{
	const json_t *target = json_object_get(pa, "target");
	int gone = (int)sky_json_int(json_object_get(pa, "effect"), "gone", 0);
	int best = -1;
	int before = count_like(o->elements, target, &best);
	int want = before - gone, now = before;
	char *was = url_path(o->url);
	for (;;) {
		json_t *elements = NULL;
		char *url = NULL;
		if (page_now(r, &elements, &url))
			break;
		char *is = url_path(url);
		int moved = strcmp(was, is) != 0;
		now = moved ? 0 : count_like(elements, target, &best);
		free(is);
		free(url);
		json_decref(elements);
		/* Another page: the next step's page check judges it. */
		if (moved || now <= want) {
			free(was);
			return 0;
		}
		int left = (int)(acted_ms + GONE_WAIT_MS - skyx_time_mono_ms());
		if (!next_change(r, left))
			break;
	}
	free(was);
	char *tt = target_text(target);
	*why = skyx_asprintf("step %d: after %s on %s: the %s is still on the "
	                     "page (%d like it before the action, %d after; "
	                     "the recorded run saw %d go)",
	                     index, sky_json_str(pa, "action_type"), tt, tt,
	                     before, now, gone);
	free(tt);
	return 1;
}

/* One plan step: 0 done, 1 mismatch (*why), -1 stop (*res). */
static int replay_step(sky_run *r, int index, const json_t *ps, char **why,
                       sky_agent_result *res)
{
	sky_obs *o = NULL;
	json_t *pairs = json_array(), *hist = json_array();
	int out = 0, rc;
	int64_t t0 = skyx_time_mono_ms();
	*why = NULL;

	/* The previous step's record is done with. */
	sky_step_rec_free(r->step);
	r->step = NULL;
	if ((rc = sky_store_step_create(r->env->store, r->task->task_id,
	                                r->next_order, 0, &r->step)) ||
	    (rc = set_step(r, SKY_STEP_RUNNING))) {
		*why = skyx_asprintf("could not record step %d: %s",
		                     r->next_order, sky_error_last());
		*res = SKY_AGENT_FAILED;
		json_decref(pairs);
		json_decref(hist);
		return -1;
	}
	memset(&r->t, 0, sizeof r->t);
	emit_step(r, SKY_EVENT_STEP_STARTED);
	const char *want_path = sky_json_str(ps, "url_path");
	/* A step with nothing to do on its page (the page a run completed
	 * on) needs only its URL: the page is read in full (settled) only
	 * when the URL does not match, to tell a late redirect from a
	 * mismatch. */
	if (!json_array_size(json_object_get(ps, "actions"))) {
		char *now = current_path(r);
		if (now && (!want_path || !strcmp(want_path, now))) {
			json_t *st = json_pack(
			    "{s:s, s:s, s:[]}", "url_path", now, "fingerprint",
			    sky_json_str(ps, "fingerprint")
			        ? sky_json_str(ps, "fingerprint")
			        : "",
			    "actions");
			json_array_append_new(
			    r->plan_rec ? r->plan_rec
			                : (r->plan_rec = json_array()),
			    st);
			r->plan_step = st;
			free(now);
			goto acted;
		}
		free(now);
	}
	if ((rc = sky_agent_observe(r, 0, &o))) {
		r->browser_lost |= rc == SKY_EBROWSER;
		*why = skyx_asprintf("step %d: could not read the page: %s",
		                     index, sky_error_last());
		out = 1;
		goto done;
	}
	r->t.settle = o->settle_ms;
	r->t.snapshot = o->snapshot_ms;
	r->t.tree = o->tree_ms;
	r->t.state = o->state_ms;
	free(r->last_url);
	r->last_url = skyx_strdup(o->url);
	/* The page this step expects. */
	char *have_path = url_path(o->url);
	if (want_path && strcmp(want_path, have_path)) {
		*why = skyx_asprintf("step %d: expected the page %s, found %s",
		                     index, want_path, have_path);
		free(have_path);
		out = 1;
		goto done;
	}
	free(have_path);
	/* Record this step into the run's own plan as it replays. */
	sky_agent_plan_begin_step(r, o);

	size_t i;
	json_t *pa;
	json_array_foreach (json_object_get(ps, "actions"), i, pa) {
		if (sky_agent_canceled(r)) {
			*res = SKY_AGENT_CANCELED;
			out = -1;
			goto done;
		}
		const char *type = sky_json_str(pa, "action_type");
		const json_t *target = json_object_get(pa, "target");
		json_t *a = json_deep_copy(pa), *result = NULL;
		json_object_del(a, "target");
		json_object_del(a, "value");
		json_object_del(a, "option_value");
		json_object_del(a, "unresolvable");
		json_object_set_new(
		    a, "reasoning",
		    json_sprintf("replayed from plan step %d", index));
		if (json_is_true(json_object_get(pa, "unresolvable"))) {
			*why = skyx_asprintf("step %d: action %zu (%s) has no "
			                     "target the plan could describe",
			                     index, i, type ? type : "?");
			json_decref(a);
			out = 1;
			goto done;
		}
		if (target) {
			const json_t *el = resolve(o->elements, target);
			if (!el) {
				char *tt = target_text(target);
				char *p = url_path(o->url);
				*why = skyx_asprintf("step %d: no %s on the "
				                     "page %s",
				                     index, tt, p);
				free(tt);
				free(p);
				json_decref(a);
				out = 1;
				goto done;
			}
			json_object_set_new(
			    a, "element_id",
			    json_string(sky_json_str(el, "id")));
		}
		char *text = NULL, *vwhy = NULL;
		const json_t *src = json_object_get(pa, "value");
		if (src) {
			if (!(text = source_value(r, src, &vwhy))) {
				*why =
				    skyx_asprintf("step %d: %s", index, vwhy);
				free(vwhy);
				json_decref(a);
				out = 1;
				goto done;
			}
			json_object_set_new(a, "text", json_string(text));
		}
		const json_t *osrc = json_object_get(pa, "option_value");
		if (osrc) {
			char *ov = source_value(r, osrc, &vwhy);
			if (!ov) {
				*why =
				    skyx_asprintf("step %d: %s", index, vwhy);
				free(vwhy);
				free(text);
				json_decref(a);
				out = 1;
				goto done;
			}
			json_t *opt = json_object_get(a, "option");
			if (!json_is_object(opt))
				json_object_set_new(a, "option",
				                    opt = json_object());
			json_object_set_new(opt, "label", json_string(ov));
			free(ov);
		}
		char *intent = NULL;
		int64_t ta = skyx_time_mono_ms();
		const json_t *spec = json_object_get(pa, "extraction");
		if (skyx_str_eq(type, "extract") &&
		    json_object_get(spec, "fields")) {
			/* Read where the recorded run found the data: the
			 * page as it is now (an earlier action may have
			 * changed it). */
			json_t *value = NULL;
			char *ewhy = NULL;
			sky_obs *now = o;
			if (i > 0 && sky_agent_observe(r, 0, &now))
				now = NULL;
			int erc =
			    now ? extract_replay(r, now, spec, &value, &ewhy)
			        : 1;
			if (now != o)
				sky_obs_free(now);
			if (erc) {
				*why = skyx_asprintf(
				    "step %d: extraction: %s", index,
				    ewhy ? ewhy : "the page could not be read");
				free(ewhy);
				json_decref(a);
				out = 1;
				goto done;
			}
			json_decref(r->output);
			r->output = json_incref(value);
			result = json_pack("{s:b, s:o}", "success", 1, "data",
			                   value);
		} else if (skyx_str_eq(type, "extract")) {
			json_t *value = NULL;
			/* Not located when recorded: the model reads it
			 * (and the plan learns where, below). */
			int erc = sky_agent_extract(
			    r, r->task->prompt,
			    sky_json_str(a, "data_extraction_goal"), &value);
			result =
			    erc ? json_pack("{s:b, s:s, s:s}", "success", 0,
			                    "error", "extraction_failed",
			                    "message", sky_error_last())
			        : json_pack("{s:b, s:O}", "success", 1, "data",
			                    value);
			json_decref(value);
		} else {
			intent = sky_agent_intent_issue(r, a, o);
			rc = sky_agent_act(r, a, o, &result);
			r->browser_lost |= rc == SKY_EBROWSER;
		}
		r->t.act += (int)(skyx_time_mono_ms() - ta);
		int ok = json_is_true(json_object_get(result, "success"));
		/* The effect: a typed value reads back as typed. */
		const char *back = sky_json_str(result, "value");
		if (ok && text && back && strcmp(back, "****") &&
		    skyx_str_eq(type, "input_text") && strcmp(back, text)) {
			ok = 0;
			json_object_set_new(result, "success", json_false());
			json_object_set_new(
			    result, "message",
			    json_string("the value read back differs from "
			                "the value typed"));
		}
		record(r, pairs, hist, a, result, intent);
		free(intent);
		intent = NULL;
		/* The effect: what the recorded action made go is gone. */
		if (ok && target &&
		    sky_json_int(json_object_get(pa, "effect"), "gone", 0) >
		        0 &&
		    check_gone(r, index, pa, o, ta, why)) {
			free(text);
			json_decref(result);
			json_decref(a);
			out = 1;
			goto done;
		}
		if (ok) {
			/* The plan keeps the source, not the value. */
			json_t *keep = json_deep_copy(pa);
			if (skyx_str_eq(type, "extract") &&
			    r->plan_extraction) {
				json_object_set_new(keep, "extraction",
				                    r->plan_extraction);
				r->plan_extraction = NULL;
			}
			json_array_append_new(
			    json_object_get(r->plan_step, "actions"), keep);
		} else {
			char *tt = target ? target_text(target) : NULL;
			const char *msg = sky_json_str(result, "message");
			*why =
			    skyx_asprintf("step %d: %s%s%s failed: %s", index,
			                  type ? type : "?", tt ? " on " : "",
			                  tt ? tt : "", msg ? msg : "?");
			free(tt);
			out = 1;
		}
		free(text);
		json_decref(result);
		json_decref(a);
		if (out)
			goto done;
	}
acted:
	if (json_is_true(json_object_get(ps, "final")))
		json_object_set_new(r->plan_step, "final", json_true());
done:
	r->t.total = (int)(skyx_time_mono_ms() - t0);
	json_t *so = json_pack(
	    "{s:O, s:[], s:s?, s:b, s:i, s:{s:i, s:i, s:i, s:i, s:i, s:i}}",
	    "actions_and_results", pairs, "errors", "url", r->last_url,
	    "replayed", 1, "plan_step", index, "timings_ms", "settle",
	    r->t.settle, "snapshot", r->t.snapshot, "tree", r->t.tree, "state",
	    r->t.state, "act", r->t.act, "total", r->t.total);
	if (*why)
		json_array_append_new(json_object_get(so, "errors"),
		                      json_string(*why));
	char *txt = sky_json_dumps(so);
	char *clean = sky_redact(txt);
	sky_store_step_set_output(r->env->store, r->step->step_id,
	                          clean ? clean : txt);
	free(clean);
	free(txt);
	json_decref(so);
	json_array_append_new(
	    r->history,
	    json_pack("{s:i, s:i, s:s, s:O}", "order", r->step->order,
	              "retry_index", r->step->retry_index, "status",
	              out ? "failed" : "completed", "actions", hist));
	set_step(r, out == 0 ? SKY_STEP_COMPLETED
	            : (out < 0 && *res == SKY_AGENT_CANCELED)
	                ? SKY_STEP_CANCELED
	                : SKY_STEP_FAILED);
	emit_step(r, SKY_EVENT_STEP_FINISHED);
	r->next_order++;
	if (*why)
		sky_agent_note_error(r, "%s", *why);
	sky_obs_free(o);
	json_decref(pairs);
	json_decref(hist);
	return out;
}

sky_agent_result sky_agent_replay(sky_run *r, const json_t *plan,
                                  json_t *report, char **reason)
{
	json_t *steps = json_object_get(plan, "steps");
	json_t *done = json_object_get(report, "steps_replayed");
	size_t i;
	json_t *ps;
	*reason = NULL;
	json_array_foreach (steps, i, ps) {
		sky_agent_result res = SKY_AGENT_FAILED;
		if (sky_agent_stopping(r))
			return SKY_AGENT_PARKED;
		if (sky_agent_canceled(r))
			return SKY_AGENT_CANCELED;
		if (sky_agent_timed_out(r))
			return SKY_AGENT_TIMED_OUT;
		char *why = NULL;
		int order = r->next_order;
		int rc = replay_step(r, (int)i, ps, &why, &res);
		if (rc < 0) {
			*reason = why;
			return res;
		}
		if (rc > 0) {
			json_object_set_new(report, "mismatch",
			                    json_string(why));
			json_object_set_new(report, "mismatch_step",
			                    json_integer((json_int_t)i));
			*reason = why;
			return SKY_AGENT_FAILED;
		}
		free(why);
		json_array_append_new(done,
		                      json_pack("{s:i, s:i}", "plan_step",
		                                (int)i, "step_order", order));
	}
	/* The last step's effect: the page the recorded run ended on. */
	const json_t *end = json_object_get(end_of(steps), "end");
	const json_t *spec = json_object_get(plan, "extraction");
	int extracts =
	    (!json_is_null(r->schema) || r->task->data_extraction_goal) &&
	    !r->output && json_object_get(spec, "fields");
	const char *want = sky_json_str(end, "url_path");
	sky_obs *o = NULL;
	char *why = NULL;
	if (want && !extracts) {
		/* Only the URL is checked: the page state says it; the page
		 * is read (settled) only when it does not match. */
		char *now = current_path(r);
		int same = now && !strcmp(now, want);
		free(now);
		if (same)
			return SKY_AGENT_COMPLETED;
	}
	if ((want || extracts) && sky_agent_observe(r, 0, &o)) {
		sky_obs_free(o);
		o = NULL;
	}
	char *have = o ? url_path(o->url) : NULL;
	if (want && (!have || strcmp(want, have)))
		why = skyx_asprintf("after step %d: expected the page %s, "
		                    "found %s",
		                    (int)json_array_size(steps) - 1, want,
		                    have ? have : "no page");
	/* The run's final extraction: read where the recorded run found
	 * its data, with no model. */
	json_t *value = NULL;
	char *ewhy = NULL;
	if (!why && extracts &&
	    (!o || extract_replay(r, o, spec, &value, &ewhy)))
		why = skyx_asprintf("after step %d: the final extraction: %s",
		                    (int)json_array_size(steps) - 1,
		                    ewhy ? ewhy : "the page could not be read");
	free(ewhy);
	free(have);
	sky_obs_free(o);
	if (why) {
		sky_agent_note_error(r, "%s", why);
		json_object_set_new(report, "mismatch", json_string(why));
		json_object_set_new(
		    report, "mismatch_step",
		    json_integer((json_int_t)json_array_size(steps)));
		*reason = why;
		return SKY_AGENT_FAILED;
	}
	if (value) {
		json_decref(r->output);
		r->output = value;
		/* This run's plan finds it where the plan did. */
		json_decref(r->plan_extraction);
		r->plan_extraction = json_deep_copy(spec);
	}
	return SKY_AGENT_COMPLETED;
}
