/* Model answers -> validated actions (internals §3) and the answers of the
 * other purposes. Tolerant about syntax, strict about meaning: every action
 * is checked on its own against the current page, and one bad action is
 * reported with a precise reason without losing the others. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planner/lenient.h"
#include "planner/planner.h"
#include "planner/util.h"
#include "util/error.h"
#include "util/json.h"
#include <skyx/str.h>

#define MAX_START_TRIES 64
#define MAX_OPTIONS_LISTED 8
#define WAIT_MAX_SECONDS 30.0
#define WAIT_DEFAULT_SECONDS 5.0
#define SCROLL_MAX_PX 20000
#define HOVER_MAX_MS 10000
#define DRAG_MAX_STEPS 100
#define POINT_MAX_PX 100000.0

/* ---- finding the JSON in an answer ----------------------------------- */

/* Whether a candidate value has the shape the caller wants; pass 1 is
 * picky, pass 2 settles for less. */
typedef int (*shape_fn)(const json_t *v, int pass, const void *arg);

struct region {
	const char *s; /* where the JSON is searched */
	size_t n;
	const char *outer; /* the region with its fence markers */
	const char *outer_end;
	int fenced;
};

static int only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!isspace((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* ```json ... ``` blocks; an unclosed one (a truncated answer) runs to
 * the end of the text. */
static size_t find_fences(const char *t, size_t n, struct region *r, size_t max)
{
	size_t k = 0;
	const char *p = t, *end = t + n;
	while (k < max && (p = strstr(p, "```"))) {
		const char *body = p + 3;
		while (body < end && !isspace((unsigned char)*body))
			body++; /* language tag */
		const char *close = strstr(body, "```");
		const char *oe = close ? close + 3 : end;
		if (!close)
			close = end;
		r[k++] =
		    (struct region){body, (size_t)(close - body), p, oe, 1};
		if (!*oe || close == end)
			break;
		p = oe;
	}
	return k;
}

/* Name what surrounded the JSON: prose, or a doubled "{" prefill. */
static unsigned int surroundings(const char *t, size_t n,
                                 const struct region *r, const char *js,
                                 const char *je)
{
	unsigned int rep = 0;
	const char *re = r->s + r->n, *te = t + n;
	/* The lenient parser may close a truncated value past the region's
	 * end: nothing is left after it then. */
	if (je > re)
		je = re;
	if (!only_space(t, (size_t)(r->outer - t)) ||
	    (r->outer_end < te &&
	     !only_space(r->outer_end, (size_t)(te - r->outer_end))) ||
	    !only_space(je, (size_t)(re - je)))
		rep |= SKY_PLANNER_REPAIR_PROSE;
	size_t before = (size_t)(js - r->s), braces = 0, other = 0;
	for (size_t k = 0; k < before; k++) {
		if (r->s[k] == '{')
			braces++;
		else if (!isspace((unsigned char)r->s[k]))
			other++;
	}
	if (other)
		rep |= SKY_PLANNER_REPAIR_PROSE;
	else if (braces)
		rep |= SKY_PLANNER_REPAIR_PREFILL;
	return rep;
}

static json_t *find_json(const char *text, shape_fn want, const void *arg,
                         int mark, unsigned int *repairs)
{
	const char *t = text;
	if (!t)
		return NULL;
	while (!strncmp(t, "\xEF\xBB\xBF", 3)) {
		*repairs |= SKY_PLANNER_REPAIR_BOM;
		t += 3;
	}
	size_t n = strlen(t);
	struct region rs[9];
	size_t nr = find_fences(t, n, rs, 8);
	rs[nr++] = (struct region){t, n, t, t + n, 0};
	for (int pass = 1; pass <= 2; pass++) {
		for (size_t ri = 0; ri < nr; ri++) {
			const struct region *r = &rs[ri];
			int tries = 0;
			for (size_t i = 0; i < r->n && tries < MAX_START_TRIES;
			     i++) {
				if (r->s[i] != '{' && r->s[i] != '[')
					continue;
				tries++;
				unsigned int rep = 0;
				size_t end = 0;
				json_t *v = sky_planner__json_lenient(
				    r->s + i, r->n - i, mark, &end, &rep);
				if (!v)
					continue;
				if (!want(v, pass, arg)) {
					json_decref(v);
					continue;
				}
				*repairs |= rep;
				if (r->fenced)
					*repairs |= SKY_PLANNER_REPAIR_FENCE;
				*repairs |= surroundings(t, n, r, r->s + i,
				                         r->s + i + end);
				return v;
			}
		}
	}
	return NULL;
}

/* ---- small helpers ------------------------------------------------------ */

static const json_t *get_any(const json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);
		if (v && !json_is_null(v))
			return v;
	}
	return NULL;
}

static const char *get_str(const json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		const char *s = sky_json_str(o, *keys);
		if (s)
			return s;
	}
	return NULL;
}

/* true/false, "true"/"yes"/"1", 1/0; -1 when absent or unreadable. */
static int as_bool(const json_t *v)
{
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
		    !strcmp(s, "1"))
			return 1;
		if (!strcasecmp(s, "false") || !strcasecmp(s, "no") ||
		    !strcmp(s, "0"))
			return 0;
	}
	return -1;
}

static int as_number(const json_t *v, double *d)
{
	if (json_is_number(v)) {
		*d = json_number_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		char *end;
		const char *s = json_string_value(v);
		*d = strtod(s, &end);
		while (isspace((unsigned char)*end) || *end == '%')
			end++;
		if (end != s && !*end && isfinite(*d))
			return 0;
	}
	return -1;
}

static char *json_excerpt(const json_t *v, size_t cap)
{
	char *s = sky_json_dumps(v);
	char *c = sky_planner__cut(s, cap);
	free(s);
	return c;
}

/* ---- the element index ------------------------------------------------ */

struct vctx {
	const sky_planner_parse_ctx *ctx;
	json_t *index; /* id -> flattened element (new refs) */
	json_t *notes;
	json_t *files; /* file names from the goal and payload */
};

static const char *el_tag(const json_t *el)
{
	const char *t = sky_json_str(el, "tag");
	return t ? t : "";
}

static const char *el_type(const json_t *el)
{
	const char *t = sky_json_str(el, "type");
	return t ? t : "";
}

static int str_in(const char *s, const char *const *set)
{
	for (; *set; set++) {
		if (!strcasecmp(s, *set))
			return 1;
	}
	return 0;
}

static const char *const text_input_types[] = {
    "",       "text", "email",          "password", "search", "tel",  "url",
    "number", "date", "datetime-local", "month",    "week",   "time", NULL};
static const char *const text_roles[] = {"textbox", "searchbox", "combobox",
                                         "spinbutton", NULL};
static const char *const non_text_roles[] = {
    "button",   "link", "checkbox", "radio", "switch", "option",
    "menuitem", "tab",  "slider",   "img",   NULL};
static const char *const non_text_tags[] = {"select", "button", "a",   "img",
                                            "option", "label",  "svg", NULL};
static const char *const check_roles[] = {
    "checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio", NULL};

/* "<input type=checkbox>", "<div role=button>" */
static char *el_describe(const json_t *el)
{
	const char *role = sky_json_str(el, "role");
	if (!strcmp(el_tag(el), "input") && *el_type(el))
		return skyx_asprintf("<input type=%s>", el_type(el));
	if (role && *role)
		return skyx_asprintf("<%s role=%s>", el_tag(el), role);
	return skyx_asprintf("<%s>", el_tag(el));
}

static int el_is_text(const json_t *el)
{
	const char *tag = el_tag(el);
	const char *role = sky_json_str(el, "role");
	if (!strcmp(tag, "textarea") ||
	    json_is_true(json_object_get(el, "editable")))
		return 1;
	if (!strcmp(tag, "input"))
		return str_in(el_type(el), text_input_types);
	if (str_in(tag, non_text_tags))
		return 0;
	if (role && str_in(role, text_roles))
		return 1;
	if (role && str_in(role, non_text_roles))
		return 0;
	/* A generic element may be contenteditable without the snapshot
	 * saying so; the browser reports it if it is not. */
	return 1;
}

static int el_is_check(const json_t *el, int *radio)
{
	const char *tag = el_tag(el);
	const char *type = el_type(el);
	const char *role = sky_json_str(el, "role");
	*radio = (!strcmp(tag, "input") && !strcasecmp(type, "radio")) ||
	         (role && !strcasecmp(role, "radio"));
	if (!strcmp(tag, "input"))
		return !strcasecmp(type, "checkbox") ||
		       !strcasecmp(type, "radio");
	if (role && str_in(role, check_roles))
		return 1;
	if (!strcmp(tag, "label"))
		return 1;
	return !str_in(
	    tag, (const char *const[]){"select", "textarea", "a", "img", NULL});
}

static int build_index(struct vctx *v)
{
	const sky_planner_parse_ctx *c = v->ctx;
	json_t *flat = NULL;
	const json_t *els = c ? c->elements : NULL;
	if (!els && c && c->snapshot) {
		int rc = sky_planner_flatten(c->snapshot, &flat);
		if (rc)
			return rc;
		els = flat;
	}
	v->index = json_object();
	size_t i;
	json_t *el;
	json_array_foreach (els, i, el) {
		const char *id = sky_json_str(el, "id");
		if (id)
			json_object_set(v->index, id, el);
	}
	json_decref(flat);
	return 0;
}

/* ---- file names the user supplied ------------------------------------- */

static int looks_like_file(const char *w)
{
	if (strstr(w, "://") || w[0] == '/' || !strncmp(w, "~/", 2) ||
	    !strncmp(w, "./", 2))
		return 1;
	const char *dot = strrchr(w, '.');
	if (!dot || dot == w || !dot[1])
		return 0;
	size_t ext = strlen(dot + 1);
	for (const char *p = dot + 1; *p; p++) {
		if (!isalnum((unsigned char)*p))
			return 0;
	}
	return ext <= 5;
}

/* Every word of the goal that looks like a file name or URL.  A word ends
 * at white space or a quote/angle bracket; those and opening brackets are
 * skipped between words.  Each pass of the loop consumes at least one byte,
 * whatever the goal holds (a lone '>' used to stop both inner loops and spin
 * the worker forever). */
static void add_goal_files(json_t *files, const char *goal)
{
	static const char ends[] = "'\"`<>";
	static const char skips[] = "'\"`<>([{";
	const char *p = goal;
	while (p && *p) {
		if (isspace((unsigned char)*p) || strchr(skips, *p)) {
			p++;
			continue;
		}
		const char *s = p;
		while (*p && !isspace((unsigned char)*p) && !strchr(ends, *p))
			p++;
		size_t len = (size_t)(p - s);
		while (len && strchr(".,;:)]}>", s[len - 1]))
			len--;
		if (!len)
			continue;
		char *w = skyx_strndup(s, len);
		if (w && looks_like_file(w))
			json_array_append_new(files, json_string(w));
		free(w);
	}
}

static void add_payload_files(json_t *files, const json_t *v, int depth)
{
	if (depth > 16)
		return;
	if (json_is_string(v) && json_string_length(v) &&
	    json_string_length(v) < 4096) {
		json_array_append(files, (json_t *)v);
		return;
	}
	size_t i;
	const char *k;
	json_t *x;
	if (json_is_array(v)) {
		json_array_foreach (v, i, x)
			add_payload_files(files, x, depth + 1);
	} else if (json_is_object(v)) {
		json_object_foreach ((json_t *)v, k, x)
			add_payload_files(files, x, depth + 1);
	}
}

static const char *base_name(const char *p, size_t *len)
{
	size_t n = strcspn(p, "?#");
	const char *b = p + n;
	while (b > p && b[-1] != '/')
		b--;
	*len = (size_t)(p + n - b);
	return b;
}

/* The supplied name the model meant, or NULL when it named no such file. */
static const char *match_file(const struct vctx *v, const char *want)
{
	size_t i;
	json_t *f;
	json_array_foreach (v->files, i, f) {
		if (!strcmp(json_string_value(f), want))
			return json_string_value(f);
	}
	/* "resume.pdf" for "https://x.test/files/resume.pdf": accept when
	 * exactly one supplied file has that name. */
	size_t wl, fl;
	const char *wb = base_name(want, &wl);
	const char *hit = NULL;
	int hits = 0;
	json_array_foreach (v->files, i, f) {
		const char *fs = json_string_value(f);
		const char *fb = base_name(fs, &fl);
		if (wl && fl == wl && !strncmp(fb, wb, wl) &&
		    !skyx_str_eq(hit, fs)) {
			hit = fs;
			hits++;
		}
	}
	return hits == 1 ? hit : NULL;
}

/* ---- action types ------------------------------------------------------ */

enum {
	A_DOUBLE = 1,
	A_ENTER = 2,
	A_CHECK = 4,
	A_UNCHECK = 8,
	A_DOWN = 16,
	A_UP = 32,
};

static const struct alias {
	const char *name; /* compared without '_' and case */
	const char *type; /* NULL: a known no-op */
	int flags;
} aliases[] = {
    {"click", "click", 0},
    {"double_click", "click", A_DOUBLE},
    {"dblclick", "click", A_DOUBLE},
    {"input_text", "input_text", 0},
    {"type", "input_text", 0},
    {"type_text", "input_text", 0},
    {"fill", "input_text", 0},
    {"fill_text", "input_text", 0},
    {"input", "input_text", 0},
    {"enter_text", "input_text", 0},
    {"select_option", "select_option", 0},
    {"select", "select_option", 0},
    {"checkbox", "checkbox", 0},
    {"check", "checkbox", A_CHECK},
    {"uncheck", "checkbox", A_UNCHECK},
    {"upload_file", "upload_file", 0},
    {"upload", "upload_file", 0},
    {"download_file", "download_file", 0},
    {"download", "download_file", 0},
    {"keypress", "keypress", 0},
    {"press_key", "keypress", 0},
    {"press_keys", "keypress", 0},
    {"press", "keypress", 0},
    {"press_enter", "keypress", A_ENTER},
    {"scroll", "scroll", 0},
    {"scroll_down", "scroll", A_DOWN},
    {"scroll_up", "scroll", A_UP},
    {"hover", "hover", 0},
    {"drag", "drag", 0},
    {"drag_and_drop", "drag", 0},
    {"drag_drop", "drag", 0},
    {"drag_to", "drag", 0},
    {"go_back", "go_back", 0},
    {"back", "go_back", 0},
    {"go_forward", "go_forward", 0},
    {"reload_page", "reload_page", 0},
    {"reload", "reload_page", 0},
    {"refresh", "reload_page", 0},
    {"goto_url", "goto_url", 0},
    {"goto", "goto_url", 0},
    {"navigate", "goto_url", 0},
    {"open_url", "goto_url", 0},
    {"new_tab", "new_tab", 0},
    {"switch_tab", "switch_tab", 0},
    {"close_tab", "close_tab", 0},
    {"close_page", "close_tab", 0},
    {"wait", "wait", 0},
    {"extract", "extract", 0},
    {"extract_information", "extract", 0},
    {"extract_data", "extract", 0},
    {"solve_captcha", "solve_captcha", 0},
    {"verification_code", "verification_code", 0},
    {"enter_verification_code", "verification_code", 0},
    {"complete", "complete", 0},
    {"terminate", "terminate", 0},
    {"null_action", NULL, 0},
};

/* Compare ignoring case and underscores/dashes/spaces: "InputText",
 * "INPUT-TEXT" and "input_text" are one type. */
static int type_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_' || *a == '-' || *a == ' ')
			a++;
		while (*b == '_' || *b == '-' || *b == ' ')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		a++, b++;
	}
}

static const struct alias *find_alias(const char *raw)
{
	/* "ActionType.CLICK", a Python enum's repr. */
	const char *dot = strrchr(raw, '.');
	if (dot && dot[1])
		raw = dot + 1;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
		if (type_eq(raw, aliases[i].name))
			return &aliases[i];
	}
	return NULL;
}

/* ---- validation of one action ----------------------------------------- */

struct verdict {
	const char *code;
	char *reason;
};

static json_t *reject(struct verdict *vd, const char *code, char *reason)
{
	/* A later, more precise verdict replaces an earlier one. */
	free(vd->reason);
	vd->code = code;
	vd->reason = reason;
	return NULL;
}

static const char *const id_keys[] = {
    "element_id", "id", "elementId", "element", "elementID", "target_id", NULL};

/* An element id value as a string, "" when absent; NULL when
 * malformed. */
static char *id_text(const json_t *v)
{
	char buf[64];
	if (!v)
		return skyx_strdup("");
	if (json_is_integer(v)) {
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
		return skyx_strdup(buf);
	}
	if (json_is_real(v) && json_real_value(v) >= 0 &&
	    json_real_value(v) == floor(json_real_value(v)) &&
	    json_real_value(v) < 1e15) {
		snprintf(buf, sizeof buf, "%.0f", json_real_value(v));
		return skyx_strdup(buf);
	}
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '#')
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n > 16)
		return n ? NULL : skyx_strdup("");
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '.')
			return NULL;
	}
	return skyx_strndup(s, n);
}

/* The element id of an action (id_text). */
static char *read_id(const json_t *raw)
{
	return id_text(get_any(raw, id_keys));
}

/* Look the element up; NULL with a verdict when it is not on the page. */
static const json_t *need_element(struct vctx *v, const char *type,
                                  const char *id, struct verdict *vd)
{
	if (!*id) {
		reject(vd, "missing_element",
		       skyx_asprintf("%s needs the id of an element", type));
		return NULL;
	}
	json_t *el = json_object_get(v->index, id);
	if (!el)
		reject(vd, "unknown_element",
		       skyx_asprintf("element id '%s' is not on the current "
		                     "page",
		                     id));
	return el;
}

static json_t *new_action(const char *type, const char *id)
{
	json_t *a = json_object();
	json_object_set_new(a, "action_type", json_string(type));
	if (id && *id)
		json_object_set_new(a, "element_id", json_string(id));
	return a;
}

static json_t *v_input_text(struct vctx *v, const json_t *raw, const char *id,
                            struct verdict *vd)
{
	const json_t *el = need_element(v, "input_text", id, vd);
	if (!el)
		return NULL;
	const json_t *t =
	    get_any(raw, (const char *const[]){"text", "value", "input",
	                                       "content", NULL});
	char num[64];
	const char *text = NULL;
	if (json_is_string(t)) {
		text = json_string_value(t);
	} else if (json_is_integer(t)) {
		snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(t));
		text = num;
	} else if (json_is_real(t)) {
		snprintf(num, sizeof num, "%.15g", json_real_value(t));
		text = num;
	}
	if (!text)
		return reject(vd, "missing_text",
		              skyx_asprintf("input_text on element %s has no "
		                            "text",
		                            id));
	if (!el_is_text(el)) {
		char *d = el_describe(el);
		const char *hint =
		    !strcmp(el_tag(el), "select") ? "; use select_option"
		    : !strcmp(el_type(el), "checkbox") ||
		            !strcmp(el_type(el), "radio")
		        ? "; use checkbox"
		    : !strcmp(el_type(el), "file") ? "; use upload_file"
		                                   : "";
		json_t *r = reject(vd, "not_text_field",
		                   skyx_asprintf("element %s is a %s, not a "
		                                 "text field%s",
		                                 id, d, hint));
		free(d);
		return r;
	}
	json_t *a = new_action("input_text", id);
	json_object_set_new(a, "text", json_string(text));
	if (as_bool(json_object_get(raw, "press_enter")) == 1)
		json_object_set_new(a, "press_enter", json_true());
	return a;
}

/* Option text as the snapshot has it. */
static const char *opt_text(const json_t *o)
{
	const char *t = sky_json_str(o, "text");
	return t ? t : sky_json_str(o, "label");
}

static int trim_case_eq(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	while (isspace((unsigned char)*a))
		a++;
	while (isspace((unsigned char)*b))
		b++;
	size_t la = strlen(a), lb = strlen(b);
	while (la && isspace((unsigned char)a[la - 1]))
		la--;
	while (lb && isspace((unsigned char)b[lb - 1]))
		lb--;
	return la == lb && !strncasecmp(a, b, la);
}

static const json_t *opt_by_text(const json_t *opts, const char *s)
{
	size_t i;
	json_t *o;
	json_array_foreach (opts, i, o) {
		if (trim_case_eq(opt_text(o), s))
			return o;
	}
	return NULL;
}

static const json_t *opt_by_value(const json_t *opts, const char *s)
{
	size_t i;
	json_t *o;
	json_array_foreach (opts, i, o) {
		if (skyx_str_eq(sky_json_str(o, "value"), s))
			return o;
	}
	json_array_foreach (opts, i, o) {
		if (trim_case_eq(sky_json_str(o, "value"), s))
			return o;
	}
	return NULL;
}

static const json_t *opt_by_index(const json_t *opts, json_int_t ix)
{
	size_t i;
	json_t *o;
	json_array_foreach (opts, i, o) {
		if (sky_json_int(o, "index", (json_int_t)i) == ix)
			return o;
	}
	return NULL;
}

static char *options_list(const json_t *opts)
{
	skyx_buf b = {0};
	size_t i;
	json_t *o;
	json_array_foreach (opts, i, o) {
		if (i == MAX_OPTIONS_LISTED) {
			skyx_buf_printf(&b, ", ... (%zu in all)",
			                json_array_size(opts));
			break;
		}
		char *c = sky_planner__cut(opt_text(o) ? opt_text(o) : "", 40);
		skyx_buf_printf(&b, "%s\"%s\"", i ? ", " : "", c ? c : "");
		free(c);
	}
	return skyx_buf_steal(&b);
}

static json_t *v_select(struct vctx *v, const json_t *raw, const char *id,
                        struct verdict *vd)
{
	const json_t *el = need_element(v, "select_option", id, vd);
	if (!el)
		return NULL;
	json_t *opts = json_object_get(el, "options");
	if (!json_array_size(opts)) {
		char *d = el_describe(el);
		json_t *r =
		    reject(vd, "not_select",
		           strcmp(el_tag(el), "select")
		               ? skyx_asprintf("element %s is a %s without "
		                               "options; click it to open its "
		                               "list, then click the option",
		                               id, d)
		               : skyx_asprintf("element %s is a <select> with "
		                               "no options",
		                               id));
		free(d);
		return r;
	}
	/* Where the model put the choice: "option": {...} | "text" |
	 * index, or label/value/index/text beside the action. */
	const json_t *o = json_object_get(raw, "option");
	const char *label = NULL, *value = NULL;
	json_int_t index = -1;
	if (json_is_object(o)) {
		label = sky_json_str(o, "label");
		if (!label)
			label = sky_json_str(o, "text");
		value = sky_json_str(o, "value");
		index = sky_json_int(o, "index", -1);
	} else if (json_is_string(o)) {
		label = json_string_value(o);
	} else if (json_is_integer(o)) {
		index = json_integer_value(o);
	} else {
		label =
		    get_str(raw, (const char *const[]){"label", "text",
		                                       "option_label", NULL});
		value = sky_json_str(raw, "value");
		index = sky_json_int(raw, "index", -1);
	}
	if (!label && !value && index < 0)
		return reject(vd, "missing_option",
		              skyx_asprintf("select_option on element %s names "
		                            "no option",
		                            id));
	const json_t *hit = NULL;
	if (label)
		hit = opt_by_text(opts, label);
	if (!hit && value)
		hit = opt_by_value(opts, value);
	if (!hit && label)
		hit = opt_by_value(opts, label); /* a value written as label */
	if (!hit && value)
		hit = opt_by_text(opts, value);
	if (!hit && index >= 0 && !label && !value)
		hit = opt_by_index(opts, index);
	if (!hit) {
		char *list = options_list(opts);
		char *want =
		    label || value
		        ? skyx_asprintf("\"%s\"", label ? label : value)
		        : skyx_asprintf("index %" JSON_INTEGER_FORMAT, index);
		json_t *r = reject(vd, "unknown_option",
		                   skyx_asprintf("option %s is not among the "
		                                 "options of element %s: %s",
		                                 want, id, list ? list : ""));
		free(list);
		free(want);
		return r;
	}
	json_t *a = new_action("select_option", id);
	json_t *opt = json_object();
	if (opt_text(hit))
		json_object_set_new(opt, "label", json_string(opt_text(hit)));
	if (sky_json_str(hit, "value"))
		json_object_set_new(opt, "value",
		                    json_string(sky_json_str(hit, "value")));
	json_t *hix = json_object_get(hit, "index");
	if (json_is_integer(hix))
		json_object_set(opt, "index", hix);
	json_object_set_new(a, "option", opt);
	return a;
}

static json_t *v_checkbox(struct vctx *v, const json_t *raw, const char *id,
                          int flags, struct verdict *vd)
{
	const json_t *el = need_element(v, "checkbox", id, vd);
	if (!el)
		return NULL;
	int want = flags & A_CHECK ? 1 : flags & A_UNCHECK ? 0 : -1;
	if (want < 0)
		want = as_bool(
		    get_any(raw, (const char *const[]){"is_checked", "checked",
		                                       "value", NULL}));
	if (want < 0)
		return reject(
		    vd, "missing_field",
		    skyx_asprintf("checkbox on element %s does not say "
		                  "is_checked true or false",
		                  id));
	int radio;
	if (!el_is_check(el, &radio)) {
		char *d = el_describe(el);
		json_t *r = reject(vd, "not_checkbox",
		                   skyx_asprintf("element %s is a %s, not a "
		                                 "checkbox or radio button",
		                                 id, d));
		free(d);
		return r;
	}
	if (radio && !want)
		return reject(
		    vd, "radio_uncheck",
		    skyx_asprintf("element %s is a radio button, which "
		                  "cannot be unchecked; check another "
		                  "option of its group",
		                  id));
	json_t *a = new_action("checkbox", id);
	json_object_set_new(a, "is_checked", json_boolean(want));
	return a;
}

static json_t *v_upload(struct vctx *v, const json_t *raw, const char *id,
                        struct verdict *vd)
{
	const json_t *el = need_element(v, "upload_file", id, vd);
	if (!el)
		return NULL;
	const char *f =
	    get_str(raw, (const char *const[]){"file_url", "file_path", "file",
	                                       "path", "url", NULL});
	if (!f || !*f)
		return reject(
		    vd, "missing_file",
		    skyx_asprintf("upload_file on element %s names no "
		                  "file",
		                  id));
	const char *real = match_file(v, f);
	if (!real) {
		char *c = sky_planner__cut(f, 120);
		json_t *r =
		    reject(vd, "file_not_named",
		           skyx_asprintf("file '%s' is not named in the "
		                         "goal or the navigation payload",
		                         c ? c : ""));
		free(c);
		return r;
	}
	json_t *a = new_action("upload_file", id);
	json_object_set_new(a, "file_url", json_string(real));
	return a;
}

/* Canonical key name, or NULL when unsupported. */
static const char *norm_key(const char *k, char one[8])
{
	static const struct {
		const char *in;
		const char *out;
	} keys[] = {
	    {"enter", "Enter"},
	    {"return", "Enter"},
	    {"tab", "Tab"},
	    {"escape", "Escape"},
	    {"esc", "Escape"},
	    {"backspace", "Backspace"},
	    {"arrowup", "ArrowUp"},
	    {"up", "ArrowUp"},
	    {"arrowdown", "ArrowDown"},
	    {"down", "ArrowDown"},
	    {"arrowleft", "ArrowLeft"},
	    {"left", "ArrowLeft"},
	    {"arrowright", "ArrowRight"},
	    {"right", "ArrowRight"},
	    {"pageup", "PageUp"},
	    {"pagedown", "PageDown"},
	    {"home", "Home"},
	    {"end", "End"},
	    {"space", "Space"},
	    {"spacebar", "Space"},
	    {" ", "Space"},
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (type_eq(k, keys[i].in) && (*k != ' ' || !k[1]))
			return keys[i].out;
	}
	/* One printable character. */
	size_t n = strlen(k);
	unsigned char c = (unsigned char)k[0];
	size_t cl = c < 0x80             ? 1
	            : (c & 0xE0) == 0xC0 ? 2
	            : (c & 0xF0) == 0xE0 ? 3
	            : (c & 0xF8) == 0xF0 ? 4
	                                 : 0;
	if (n && cl == n && skyx_utf8_valid(k, n) &&
	    (c >= 0x80 || isprint(c))) {
		memcpy(one, k, n);
		one[n] = '\0';
		return one;
	}
	return NULL;
}

static json_t *v_keypress(struct vctx *v, const json_t *raw, const char *id,
                          int flags, struct verdict *vd)
{
	if (*id && !need_element(v, "keypress", id, vd))
		return NULL;
	json_t *keys = json_array();
	const json_t *k =
	    get_any(raw, (const char *const[]){"keys", "key", NULL});
	if (flags & A_ENTER)
		json_array_append_new(keys, json_string("Enter"));
	else if (json_is_string(k))
		json_array_append_new(keys, json_string(json_string_value(k)));
	else if (json_is_array(k))
		json_array_extend(keys, (json_t *)k);
	if (!json_array_size(keys)) {
		json_decref(keys);
		return reject(vd, "missing_key",
		              skyx_strdup("keypress names no key"));
	}
	json_t *out = json_array();
	size_t i;
	json_t *x;
	json_array_foreach (keys, i, x) {
		char one[8];
		const char *name = json_string_value(x);
		const char *canon = name ? norm_key(name, one) : NULL;
		if (!canon) {
			char *ex = json_excerpt(x, 40);
			json_decref(keys);
			json_decref(out);
			json_t *r = reject(
			    vd, "unsupported_key",
			    skyx_asprintf("key %s is not supported (Enter, "
			                  "Tab, Escape, Backspace, arrows, "
			                  "PageUp/PageDown, Home, End, Space "
			                  "or one character)",
			                  ex ? ex : "?"));
			free(ex);
			return r;
		}
		json_array_append_new(out, json_string(canon));
	}
	json_decref(keys);
	json_t *a = new_action("keypress", id);
	json_object_set_new(a, "keys", out);
	return a;
}

static json_t *v_scroll(struct vctx *v, const json_t *raw, const char *id,
                        int flags, struct verdict *vd)
{
	if (*id && !need_element(v, "scroll", id, vd))
		return NULL;
	const char *dir = flags & A_DOWN ? "down" : flags & A_UP ? "up" : NULL;
	double amount = 0, d;
	const char *rd = sky_json_str(raw, "direction");
	if (!dir && rd) {
		static const char *const dirs[] = {"up", "down", "left",
		                                   "right", NULL};
		for (int i = 0; dirs[i]; i++) {
			if (!strcasecmp(rd, dirs[i]))
				dir = dirs[i];
		}
		if (!dir)
			return reject(
			    vd, "bad_direction",
			    skyx_asprintf("scroll direction '%.20s' is "
			                  "not up, down, left or right",
			                  rd));
	}
	/* Skyvern-style deltas: scroll_y > 0 is down. */
	if (!dir &&
	    !as_number(get_any(raw, (const char *const[]){"scroll_y", "y",
	                                                  "delta_y", NULL}),
	               &d) &&
	    d != 0) {
		dir = d > 0 ? "down" : "up";
		amount = fabs(d);
	}
	if (!dir &&
	    !as_number(get_any(raw, (const char *const[]){"scroll_x", "x",
	                                                  "delta_x", NULL}),
	               &d) &&
	    d != 0) {
		dir = d > 0 ? "right" : "left";
		amount = fabs(d);
	}
	if (!dir)
		return reject(vd, "missing_direction",
		              skyx_strdup("scroll needs a direction (up, down, "
		                          "left or right)"));
	if (!as_number(
	        get_any(raw, (const char *const[]){"amount", "pixels", NULL}),
	        &d) &&
	    d > 0)
		amount = d;
	json_t *a = new_action("scroll", id);
	json_object_set_new(a, "direction", json_string(dir));
	if (amount > 0)
		json_object_set_new(
		    a, "amount",
		    json_integer((json_int_t)fmin(amount, SCROLL_MAX_PX)));
	return a;
}

static json_t *v_url(struct vctx *v, const json_t *raw, const char *type,
                     struct verdict *vd)
{
	const char *u =
	    get_str(raw, (const char *const[]){"url", "href", "link", NULL});
	if (!u || !*u)
		return reject(vd, "missing_url",
		              skyx_asprintf("%s needs a url", type));
	/* Restore {{uN}} placeholders of the element tree. */
	skyx_buf b = {0};
	const char *p = u;
	while (*p) {
		const char *o = strstr(p, "{{");
		const char *c = o ? strstr(o + 2, "}}") : NULL;
		if (!o || !c) {
			skyx_buf_puts(&b, p);
			break;
		}
		skyx_buf_append(&b, p, (size_t)(o - p));
		char *key = skyx_strndup(o + 2, (size_t)(c - o - 2));
		const char *real = sky_json_str(v->ctx ? v->ctx->url_map : NULL,
		                                key ? key : "");
		if (!real) {
			json_t *r =
			    reject(vd, "unknown_placeholder",
			           skyx_asprintf("URL placeholder {{%.20s}} "
			                         "is not on the current page",
			                         key ? key : ""));
			free(key);
			skyx_buf_free(&b);
			return r;
		}
		json_array_append_new(
		    v->notes, json_sprintf("restored {{%s}} in %s", key, type));
		free(key);
		skyx_buf_puts(&b, real);
		p = c + 2;
	}
	char *full = sky_planner__url_resolve(v->ctx ? v->ctx->page_url : NULL,
	                                      b.data ? b.data : "");
	skyx_buf_free(&b);
	if (!sky_planner__url_ok(full)) {
		char *c = sky_planner__cut(full ? full : u, 100);
		free(full);
		json_t *r =
		    reject(vd, "bad_url",
		           skyx_asprintf("'%s' is not an absolute http(s) "
		                         "URL",
		                         c ? c : ""));
		free(c);
		return r;
	}
	json_t *a = new_action(type, NULL);
	json_object_set_new(a, "url", json_string(full));
	free(full);
	return a;
}

static json_t *v_tab(struct vctx *v, const json_t *raw, const char *type,
                     struct verdict *vd)
{
	const json_t *t =
	    get_any(raw, (const char *const[]){"tab_index", "index", NULL});
	double d;
	if (as_number(t, &d) || d < 0 || d > 1e6 || d != floor(d))
		return reject(vd, "missing_tab",
		              skyx_asprintf("%s needs a tab_index", type));
	const json_t *tabs = v->ctx ? v->ctx->tabs : NULL;
	if (json_is_array(tabs) && d >= (double)json_array_size(tabs))
		return reject(vd, "bad_tab",
		              skyx_asprintf("there is no tab %.0f (%zu open)",
		                            d, json_array_size(tabs)));
	json_t *a = new_action(type, NULL);
	json_object_set_new(a, "tab_index", json_integer((json_int_t)d));
	return a;
}

/* errors[] of complete/terminate: only codes of the mapping survive. */
static json_t *filter_errors(struct vctx *v, const json_t *errs)
{
	const json_t *map = v->ctx ? v->ctx->error_code_mapping : NULL;
	json_t *out = json_array();
	size_t i;
	json_t *e;
	json_array_foreach (errs, i, e) {
		const char *code = sky_json_str(e, "error_code");
		if (!code)
			code = sky_json_str(e, "code");
		const char *canon = NULL;
		const char *k;
		json_t *dv;
		json_object_foreach ((json_t *)map, k, dv) {
			if (code && !strcasecmp(k, code))
				canon = k;
		}
		if (!canon) {
			json_array_append_new(
			    v->notes,
			    json_sprintf("dropped error code '%.40s': not in "
			                 "error_code_mapping",
			                 code ? code : "(none)"));
			continue;
		}
		double conf = 1.0;
		as_number(get_any(e, (const char *const[]){"confidence_float",
		                                           "confidence", NULL}),
		          &conf);
		json_t *o = json_object();
		json_object_set_new(o, "error_code", json_string(canon));
		const char *why = sky_json_str(e, "reasoning");
		json_object_set_new(o, "reasoning",
		                    json_string(why ? why : ""));
		json_object_set_new(o, "confidence_float",
		                    json_real(fmin(fmax(conf, 0), 1)));
		json_array_append_new(out, o);
	}
	return out;
}

static json_t *v_decisive(struct vctx *v, const json_t *raw, const char *type)
{
	json_t *a = new_action(type, NULL);
	const char *why = sky_json_str(raw, "reasoning");
	if (!why || !*why)
		why = !strcmp(type, "terminate")
		          ? "the model terminated without giving a reason"
		          : "the model reported the goal as reached";
	json_object_set_new(a, "reasoning", json_string(why));
	json_t *errs = json_object_get(raw, "errors");
	if (json_is_array(errs) && json_array_size(errs)) {
		json_t *f = filter_errors(v, errs);
		if (json_array_size(f))
			json_object_set_new(a, "errors", f);
		else
			json_decref(f);
	}
	return a;
}

/* The largest coordinate a point may have: the snapshot's viewport
 * when it is known. */
static double point_max(const struct vctx *v, const char *axis)
{
	const json_t *vp = json_object_get(
	    v->ctx ? (json_t *)v->ctx->snapshot : NULL, "viewport");
	double d;
	if (!as_number(json_object_get(vp, axis), &d) && d > 0)
		return d;
	return POINT_MAX_PX;
}

/* One end of a drag into a (id_key or pt_key): an element id under one
 * of ids, or a point {"x", "y"} (also as xs/ys flat keys), or an object
 * under one of objs holding either. 1 found, 0 absent, -1 rejected. */
static int drag_side(struct vctx *v, const json_t *raw, const char *const *ids,
                     const char *const *objs, const char *const *xs,
                     const char *const *ys, const char *what, json_t *a,
                     const char *id_key, const char *pt_key, struct verdict *vd)
{
	const json_t *idv = get_any(raw, ids);
	const json_t *o = get_any(raw, objs);
	const json_t *xv = get_any(raw, xs), *yv = get_any(raw, ys);
	if (json_is_object(o)) {
		if (!idv)
			idv = get_any(o, id_keys);
		if (!xv)
			xv = json_object_get(o, "x");
		if (!yv)
			yv = json_object_get(o, "y");
	} else if (o && !idv) {
		idv = o; /* "to": "12" */
	}
	if (idv) {
		char *id = id_text(idv);
		if (!id || !*id) {
			char *ex = json_excerpt(idv, 40);
			reject(vd, "bad_element_id",
			       skyx_asprintf("the drag's %s %s is not a valid "
			                     "element id",
			                     what, ex ? ex : "?"));
			free(ex);
			free(id);
			return -1;
		}
		int ok = need_element(v, "drag", id, vd) != NULL;
		if (ok)
			json_object_set_new(a, id_key, json_string(id));
		free(id);
		return ok ? 1 : -1;
	}
	if (!xv && !yv)
		return 0;
	double x, y;
	if (as_number(xv, &x) || as_number(yv, &y)) {
		reject(vd, "bad_point",
		       skyx_asprintf(
		           "the drag's %s point needs numbers x and y", what));
		return -1;
	}
	double mx = point_max(v, "width"), my = point_max(v, "height");
	if (x < 0 || y < 0 || x >= mx || y >= my) {
		reject(vd, "bad_point",
		       skyx_asprintf("the drag's %s point (%g, %g) is outside "
		                     "the page's window (%gx%g)",
		                     what, x, y, mx, my));
		return -1;
	}
	json_object_set_new(a, pt_key, json_pack("{s:f,s:f}", "x", x, "y", y));
	return 1;
}

/* drag: from an element or point to an element or point. */
static json_t *v_drag(struct vctx *v, const json_t *raw, struct verdict *vd)
{
	json_t *a = new_action("drag", NULL);
	int src = drag_side(
	    v, raw,
	    (const char *const[]){
	        "element_id", "source_id", "source_element_id", "from_id",
	        "from_element_id", "id", "elementId", "element", NULL},
	    (const char *const[]){"from", "source", "start", NULL},
	    (const char *const[]){"from_x", "start_x", "source_x", "x", NULL},
	    (const char *const[]){"from_y", "start_y", "source_y", "y", NULL},
	    "source", a, "element_id", "from", vd);
	int dst =
	    src < 0
	        ? -1
	        : drag_side(
	              v, raw,
	              (const char *const[]){"target_element_id", "target_id",
	                                    "to_id", "to_element_id", "drop_id",
	                                    "destination_id", NULL},
	              (const char *const[]){"to", "target", "end",
	                                    "destination", "drop", NULL},
	              (const char *const[]){"to_x", "end_x", "target_x", NULL},
	              (const char *const[]){"to_y", "end_y", "target_y", NULL},
	              "target", a, "target_element_id", "to", vd);
	if (src == 0 || (src > 0 && dst == 0)) {
		reject(
		    vd, "missing_field",
		    skyx_asprintf("drag needs a %s: an element id or a point "
		                  "{\"x\", \"y\"}",
		                  src == 0 ? "source (\"id\" or \"from\")"
		                           : "target (\"target_id\" or "
		                             "\"to\")"));
		src = -1;
	}
	const char *sid = sky_json_str(a, "element_id");
	if (src > 0 && dst > 0 && sid &&
	    skyx_str_eq(sid, sky_json_str(a, "target_element_id"))) {
		reject(vd, "same_element",
		       skyx_asprintf("the drag's source and target are both "
		                     "element %s",
		                     sid));
		src = -1;
	}
	if (src < 0 || dst < 0) {
		json_decref(a);
		return NULL;
	}
	double st;
	if (!as_number(json_object_get(raw, "steps"), &st) && st >= 1)
		json_object_set_new(
		    a, "steps",
		    json_integer((json_int_t)fmin(st, DRAG_MAX_STEPS)));
	return a;
}

static void hover_hold(json_t *a, const json_t *raw)
{
	double ms, sec;
	if (as_number(json_object_get(raw, "hold_ms"), &ms)) {
		if (as_number(json_object_get(raw, "hold_seconds"), &sec))
			return;
		ms = sec * 1000;
	}
	json_object_set_new(
	    a, "hold_ms",
	    json_integer((json_int_t)fmin(fmax(ms, 0), HOVER_MAX_MS)));
}

static json_t *validate(struct vctx *v, const json_t *raw, struct verdict *vd)
{
	const char *rt =
	    get_str(raw, (const char *const[]){"action_type", "type", "action",
	                                       "actionType", NULL});
	if (!rt)
		return reject(vd, "missing_type",
		              skyx_strdup("the action has no action_type"));
	const struct alias *al = find_alias(rt);
	if (!al)
		return reject(vd, "unknown_type",
		              skyx_asprintf("unknown action type '%.40s'", rt));
	if (!al->type)
		return reject(vd, "null_action",
		              skyx_asprintf("'%.40s' does nothing", rt));
	const char *t = al->type;
	char *id = read_id(raw);
	if (!id) {
		char *ex = json_excerpt(get_any(raw, id_keys), 40);
		json_t *r = reject(vd, "bad_element_id",
		                   skyx_asprintf("%s is not a valid element id",
		                                 ex ? ex : "?"));
		free(ex);
		return r;
	}
	json_t *a = NULL;
	if (!strcmp(t, "click") || !strcmp(t, "download_file") ||
	    !strcmp(t, "hover")) {
		if (need_element(v, t, id, vd)) {
			a = new_action(t, id);
			if (!strcmp(t, "click")) {
				double rep = 0;
				as_number(json_object_get(raw, "repeat"), &rep);
				if ((al->flags & A_DOUBLE) || rep >= 2 ||
				    as_bool(json_object_get(
				        raw, "double_click")) == 1)
					json_object_set_new(a, "double_click",
					                    json_true());
				if (as_bool(json_object_get(raw, "download")) ==
				    1)
					json_object_set_new(a, "download",
					                    json_true());
			}
			if (!strcmp(t, "hover"))
				hover_hold(a, raw);
		}
	} else if (!strcmp(t, "drag")) {
		a = v_drag(v, raw, vd);
	} else if (!strcmp(t, "input_text")) {
		a = v_input_text(v, raw, id, vd);
	} else if (!strcmp(t, "select_option")) {
		a = v_select(v, raw, id, vd);
	} else if (!strcmp(t, "checkbox")) {
		a = v_checkbox(v, raw, id, al->flags, vd);
	} else if (!strcmp(t, "upload_file")) {
		a = v_upload(v, raw, id, vd);
	} else if (!strcmp(t, "keypress")) {
		a = v_keypress(v, raw, id, al->flags, vd);
	} else if (!strcmp(t, "scroll")) {
		a = v_scroll(v, raw, id, al->flags, vd);
	} else if (!strcmp(t, "goto_url") || !strcmp(t, "new_tab")) {
		a = v_url(v, raw, t, vd);
	} else if (!strcmp(t, "switch_tab") || !strcmp(t, "close_tab")) {
		a = v_tab(v, raw, t, vd);
	} else if (!strcmp(t, "go_back") || !strcmp(t, "go_forward") ||
	           !strcmp(t, "reload_page")) {
		a = new_action(t, NULL);
	} else if (!strcmp(t, "wait")) {
		double s = WAIT_DEFAULT_SECONDS;
		as_number(
		    get_any(raw, (const char *const[]){"seconds", "duration",
		                                       "time", NULL}),
		    &s);
		a = new_action(t, NULL);
		json_object_set_new(
		    a, "seconds",
		    json_real(fmin(fmax(s, 0.0), WAIT_MAX_SECONDS)));
	} else if (!strcmp(t, "extract")) {
		a = new_action(t, NULL);
		const char *g =
		    get_str(raw, (const char *const[]){"data_extraction_goal",
		                                       "goal", NULL});
		if (g)
			json_object_set_new(a, "data_extraction_goal",
			                    json_string(g));
		const json_t *s =
		    get_any(raw, (const char *const[]){
		                     "schema", "data_extraction_schema", NULL});
		if (json_is_object(s))
			json_object_set(a, "schema", (json_t *)s);
	} else if (!strcmp(t, "solve_captcha")) {
		/* Skyvern's open-source build sleeps and calls that a
		 * success; we stop and say so. */
		const char *ct = sky_json_str(raw, "captcha_type");
		a = new_action("terminate", NULL);
		json_object_set_new(
		    a, "reasoning",
		    json_sprintf("The page asks to solve a CAPTCHA%s%s%s; "
		                 "skyengine does not solve CAPTCHAs.",
		                 ct ? " (" : "", ct ? ct : "", ct ? ")" : ""));
		json_object_set_new(a, "captcha_type",
		                    json_string(ct ? ct : "unknown"));
	} else if (!strcmp(t, "verification_code")) {
		if (!v->ctx || !v->ctx->totp_available) {
			reject(vd, "no_totp",
			       skyx_strdup("no verification-code (TOTP) source "
			                   "is configured for this run"));
		} else {
			const json_t *el = need_element(v, t, id, vd);
			if (el && !el_is_text(el)) {
				char *d = el_describe(el);
				reject(
				    vd, "not_text_field",
				    skyx_asprintf("element %s is a %s, not a "
				                  "field for a code",
				                  id, d));
				free(d);
			} else if (el) {
				a = new_action(t, id);
			}
		}
	} else {
		a = v_decisive(v, raw, t);
	}
	free(id);
	if (!a)
		return NULL;
	/* Fields every action may carry. */
	const char *why = sky_json_str(raw, "reasoning");
	if (why && !json_object_get(a, "reasoning"))
		json_object_set_new(a, "reasoning", json_string(why));
	double conf;
	if (!as_number(
	        get_any(raw, (const char *const[]){"confidence",
	                                           "confidence_float", NULL}),
	        &conf)) {
		if (conf > 1 && conf <= 100)
			conf /= 100; /* "90" meant 90 % */
		json_object_set_new(a, "confidence",
		                    json_real(fmin(fmax(conf, 0), 1)));
	}
	return a;
}

/* ---- extract-actions --------------------------------------------------- */

static int looks_like_action(const json_t *v)
{
	return json_is_object(v) &&
	       get_any(v, (const char *const[]){"action_type", "actionType",
	                                        "type", "action", NULL});
}

/* Pass 1: {"actions": ...}. Pass 2: a bare list of actions, or one. */
static int shape_actions(const json_t *v, int pass, const void *arg)
{
	(void)arg;
	if (json_is_object(v)) {
		json_t *a = json_object_get(v, "actions");
		if (json_is_array(a) || json_is_object(a))
			return 1;
		return pass == 2 && looks_like_action(v);
	}
	return pass == 2 && looks_like_action(json_array_get(v, 0));
}

void sky_planner_actions_free(sky_planner_actions *a)
{
	if (!a)
		return;
	json_decref(a->actions);
	json_decref(a->rejected);
	json_decref(a->notes);
	free(a->user_goal_stage);
	free(a->action_plan);
	free(a);
}

static void add_rejected(sky_planner_actions *res, size_t index,
                         const char *code, const char *reason,
                         const json_t *raw)
{
	json_t *r = json_object();
	json_object_set_new(r, "index", json_integer((json_int_t)index));
	json_object_set_new(r, "code", json_string(code));
	json_object_set_new(r, "reason", json_string(reason ? reason : code));
	json_object_set(r, "action", raw ? (json_t *)raw : json_null());
	json_array_append_new(res->rejected, r);
}

/* Skyvern's TOTP fields beside the actions: turn them into the action. */
static void totp_fields(struct vctx *v, const json_t *root,
                        sky_planner_actions *res, int ended, size_t index)
{
	if (!v->ctx || !v->ctx->totp_available || ended ||
	    as_bool(json_object_get(root, "should_enter_verification_code")) !=
	        1)
		return;
	size_t i;
	json_t *a;
	json_array_foreach (res->actions, i, a) {
		if (skyx_str_eq(sky_json_str(a, "action_type"),
		                "verification_code"))
			return;
	}
	json_t *raw = json_object();
	json_object_set_new(raw, "action_type",
	                    json_string("verification_code"));
	json_t *place =
	    json_object_get(root, "place_to_enter_verification_code");
	if (place)
		json_object_set(raw, "id", place);
	struct verdict vd = {0};
	json_t *act = validate(v, raw, &vd);
	if (act) {
		json_array_append_new(res->actions, act);
		json_array_append_new(
		    v->notes, json_string("verification_code action made "
		                          "from "
		                          "place_to_enter_verification_"
		                          "code"));
	} else {
		add_rejected(res, index, vd.code, vd.reason, raw);
	}
	free(vd.reason);
	json_decref(raw);
}

int sky_planner_parse_actions(const char *text,
                              const sky_planner_parse_ctx *ctx,
                              sky_planner_actions **out)
{
	*out = NULL;
	unsigned int repairs = 0;
	json_t *root = find_json(text, shape_actions, NULL, 1, &repairs);
	if (!root)
		return sky_error_set(
		    SKY_EPARSE,
		    "the answer (%zu bytes) holds no JSON with "
		    "an actions list",
		    text ? strlen(text) : 0);
	struct vctx v = {.ctx = ctx};
	sky_planner_actions *res = calloc(1, sizeof *res);
	int rc = 0;
	if (!res) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto cleanup;
	}
	res->actions = json_array();
	res->rejected = json_array();
	res->notes = json_array();
	v.notes = res->notes;
	res->repairs = repairs;
	res->user_goal_achieved = -1;
	v.files = json_array();
	if (ctx) {
		add_goal_files(v.files, ctx->goal);
		add_payload_files(v.files, ctx->navigation_payload, 0);
	}
	if ((rc = build_index(&v)))
		goto cleanup;

	json_t *list;
	if (json_is_array(root)) {
		list = json_incref(root);
	} else if (json_is_array(json_object_get(root, "actions"))) {
		list = json_incref(json_object_get(root, "actions"));
	} else {
		/* A single action, bare or as "actions": {...}. */
		json_t *one = json_object_get(root, "actions");
		list = json_array();
		json_array_append(list, one ? one : root);
	}
	if (json_is_object(root)) {
		const char *s = sky_json_str(root, "user_goal_stage");
		res->user_goal_stage = skyx_strdup(s);
		res->action_plan =
		    skyx_strdup(sky_json_str(root, "action_plan"));
		res->user_goal_achieved =
		    as_bool(json_object_get(root, "user_goal_achieved"));
	}
	size_t i;
	json_t *raw;
	int ended = 0;
	const char *ended_by = NULL;
	size_t ended_at = 0;
	json_array_foreach (list, i, raw) {
		if (ended) {
			char *why = skyx_asprintf(
			    "comes after %s (action %zu); nothing runs "
			    "after complete or terminate",
			    ended_by, ended_at);
			add_rejected(res, i, "after_terminal", why, raw);
			free(why);
			continue;
		}
		json_t *tr = json_object_get(raw, SKY_LENIENT_TRUNCATED);
		json_t *gb = json_object_get(raw, SKY_LENIENT_GARBLED);
		if (tr || gb) {
			add_rejected(res, i, tr ? "truncated" : "garbled",
			             tr ? "the answer was cut off inside this "
			                  "action; dropped"
			                : "this action is not readable JSON",
			             tr ? tr : gb);
			continue;
		}
		if (!json_is_object(raw)) {
			add_rejected(res, i, "not_an_object",
			             "an action must be a JSON object", raw);
			continue;
		}
		struct verdict vd = {0};
		json_t *act = validate(&v, raw, &vd);
		if (!act) {
			add_rejected(res, i, vd.code, vd.reason, raw);
			free(vd.reason);
			continue;
		}
		/* A verdict an alternative reading overcame (a drag's side
		 * given both ways) is not needed. */
		free(vd.reason);
		const char *t = sky_json_str(act, "action_type");
		if (!strcmp(t, "complete") || !strcmp(t, "terminate")) {
			ended = 1;
			ended_by = t;
			ended_at = i;
			if (json_object_get(act, "captcha_type"))
				json_array_append_new(
				    res->notes,
				    json_string("solve_captcha turned into "
				                "terminate"));
		}
		json_array_append_new(res->actions, act);
	}
	if (json_is_object(root))
		totp_fields(&v, root, res, ended, json_array_size(list));
	json_decref(list);
	*out = res;
	res = NULL;
cleanup:
	sky_planner_actions_free(res);
	json_decref(v.index);
	json_decref(v.files);
	json_decref(root);
	return rc;
}

/* ---- other purposes ---------------------------------------------------- */

static int shape_object_with(const json_t *v, int pass, const void *arg)
{
	const char *const *keys = arg;
	if (!json_is_object(v))
		return 0;
	if (pass == 2)
		return 1;
	for (; *keys; keys++) {
		if (json_object_get(v, *keys))
			return 1;
	}
	return 0;
}

static const char *const check_keys[] = {"status", "user_goal_achieved", NULL};

void sky_planner_check_free(sky_planner_check *c)
{
	if (!c)
		return;
	free(c->reason);
	free(c->page_info);
	free(c->thoughts);
	free(c);
}

static int status_of(const char *s, sky_goal_status *st)
{
	static const char *const complete[] = {
	    "complete",  "completed", "done",    "success",
	    "succeeded", "achieved",  "reached", NULL};
	static const char *const terminate[] = {
	    "terminate",  "terminated", "fail",    "failed", "failure",
	    "impossible", "abort",      "aborted", NULL};
	static const char *const cont[] = {
	    "continue",     "in_progress", "inprogress", "incomplete",
	    "not_complete", "pending",     "ongoing",    NULL};
	if (!s)
		return -1;
	for (int i = 0; complete[i]; i++)
		if (type_eq(s, complete[i]))
			return *st = SKY_GOAL_COMPLETE, 0;
	for (int i = 0; terminate[i]; i++)
		if (type_eq(s, terminate[i]))
			return *st = SKY_GOAL_TERMINATE, 0;
	for (int i = 0; cont[i]; i++)
		if (type_eq(s, cont[i]))
			return *st = SKY_GOAL_CONTINUE, 0;
	return -1;
}

int sky_planner_parse_check(const char *text, sky_planner_check **out)
{
	*out = NULL;
	unsigned int repairs = 0;
	json_t *root =
	    find_json(text, shape_object_with, check_keys, 0, &repairs);
	if (!root)
		return sky_error_set(
		    SKY_EPARSE,
		    "the check-goal answer (%zu bytes) holds no "
		    "JSON object",
		    text ? strlen(text) : 0);
	sky_goal_status st = SKY_GOAL_CONTINUE;
	const char *s = sky_json_str(root, "status");
	int rc = 0;
	if (status_of(s, &st)) {
		int achieved =
		    as_bool(json_object_get(root, "user_goal_achieved"));
		int term = as_bool(json_object_get(root, "should_terminate"));
		if (achieved < 0 && term < 0) {
			rc = sky_error_set(
			    SKY_EPARSE,
			    s ? "check-goal status '%.30s' is not "
			        "complete, terminate or continue"
			      : "check-goal answer has no status%.0s",
			    s ? s : "");
			goto cleanup;
		}
		st = achieved == 1 ? SKY_GOAL_COMPLETE
		     : term == 1   ? SKY_GOAL_TERMINATE
		                   : SKY_GOAL_CONTINUE;
	}
	sky_planner_check *c = calloc(1, sizeof *c);
	if (!c) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto cleanup;
	}
	c->status = st;
	const char *why =
	    get_str(root, (const char *const[]){"reason", "reasoning",
	                                        "thoughts", NULL});
	c->reason = skyx_strdup(why && *why ? why : "no reason given");
	c->page_info = skyx_strdup(sky_json_str(root, "page_info"));
	c->thoughts = skyx_strdup(sky_json_str(root, "thoughts"));
	c->repairs = repairs;
	*out = c;
cleanup:
	json_decref(root);
	return rc;
}

static const char *const plan_keys[] = {"plan", "user_goal_achieved",
                                        "should_terminate", NULL};

void sky_planner_plan_free(sky_planner_plan *p)
{
	if (!p)
		return;
	free(p->plan);
	free(p->task_type);
	free(p->url);
	free(p->thoughts);
	free(p->termination_reason);
	json_decref(p->notes);
	free(p);
}

int sky_planner_parse_plan(const char *text, const sky_planner_parse_ctx *ctx,
                           sky_planner_plan **out)
{
	*out = NULL;
	unsigned int repairs = 0;
	json_t *root =
	    find_json(text, shape_object_with, plan_keys, 0, &repairs);
	if (!root)
		return sky_error_set(
		    SKY_EPARSE,
		    "the plan answer (%zu bytes) holds no JSON "
		    "object",
		    text ? strlen(text) : 0);
	int rc = 0;
	sky_planner_plan *p = calloc(1, sizeof *p);
	if (!p) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto cleanup;
	}
	p->notes = json_array();
	p->repairs = repairs;
	p->thoughts = skyx_strdup(sky_json_str(root, "thoughts"));
	int achieved = as_bool(json_object_get(root, "user_goal_achieved"));
	int term = as_bool(json_object_get(root, "should_terminate"));
	const char *plan = sky_json_str(root, "plan");
	if (achieved == 1) {
		p->decision = SKY_PLAN_DONE;
		if (term == 1)
			json_array_append_new(p->notes,
			                      json_string("both achieved and "
			                                  "terminate: taken as "
			                                  "achieved"));
	} else if (term == 1) {
		p->decision = SKY_PLAN_TERMINATE;
		const char *why = get_str(
		    root, (const char *const[]){"termination_reason", "reason",
		                                "thoughts", NULL});
		p->termination_reason = skyx_strdup(
		    why && *why ? why : "the planner gave up without a reason");
	} else if (plan && *plan) {
		p->decision = SKY_PLAN_NEXT;
		p->plan = skyx_strdup(plan);
		const char *tt = sky_json_str(root, "task_type");
		if (tt && (type_eq(tt, "extract") || type_eq(tt, "extraction")))
			p->task_type = skyx_strdup("extract");
		else
			p->task_type = skyx_strdup("navigate");
		if (tt && !type_eq(tt, "navigate") &&
		    strcmp(p->task_type, "extract"))
			json_array_append_new(
			    p->notes,
			    json_sprintf("task_type '%.20s' run as navigate",
			                 tt));
		const char *u = sky_json_str(root, "url");
		if (u && *u) {
			struct vctx v = {.ctx = ctx, .notes = p->notes};
			struct verdict vd = {0};
			json_t *raw = json_pack("{s:s}", "url", u);
			json_t *a = v_url(&v, raw, "goto_url", &vd);
			json_decref(raw);
			if (a)
				p->url = skyx_strdup(sky_json_str(a, "url"));
			else
				json_array_append_new(
				    p->notes,
				    json_sprintf("url dropped: %s",
				                 vd.reason ? vd.reason : ""));
			free(vd.reason);
			json_decref(a);
		}
	} else {
		rc = sky_error_set(SKY_EPARSE,
		                   "the plan answer is neither done, nor "
		                   "terminate, nor a next mini-goal");
		sky_planner_plan_free(p);
		goto cleanup;
	}
	*out = p;
cleanup:
	json_decref(root);
	return rc;
}

static const char *const summary_keys[] = {"description", "output", NULL};

void sky_planner_summary_free(sky_planner_summary *s)
{
	if (!s)
		return;
	free(s->description);
	json_decref(s->output);
	free(s);
}

int sky_planner_parse_summary(const char *text, sky_planner_summary **out)
{
	*out = NULL;
	unsigned int repairs = 0;
	json_t *root =
	    find_json(text, shape_object_with, summary_keys, 0, &repairs);
	if (!root)
		return sky_error_set(SKY_EPARSE,
		                     "the summary answer (%zu bytes) holds no "
		                     "JSON object",
		                     text ? strlen(text) : 0);
	sky_planner_summary *s = calloc(1, sizeof *s);
	if (!s) {
		json_decref(root);
		return sky_error_from_code(SKY_ENOMEM);
	}
	const char *d = get_str(
	    root, (const char *const[]){"description", "summary", NULL});
	s->description = skyx_strdup(d ? d : "");
	json_t *o = json_object_get(root, "output");
	s->output = o ? json_incref(o) : json_null();
	s->repairs = repairs;
	json_decref(root);
	*out = s;
	return 0;
}

static int shape_errors(const json_t *v, int pass, const void *arg)
{
	(void)arg;
	if (json_is_object(v))
		return json_is_array(json_object_get(v, "errors")) ||
		       (pass == 2 && json_object_get(v, "error_code"));
	return pass == 2 && json_is_array(v);
}

int sky_planner_parse_errors(const char *text, const json_t *mapping,
                             json_t **errors, json_t **dropped)
{
	*errors = NULL;
	if (dropped)
		*dropped = NULL;
	unsigned int repairs = 0;
	json_t *root = find_json(text, shape_errors, NULL, 0, &repairs);
	if (!root)
		return sky_error_set(
		    SKY_EPARSE,
		    "the error-code answer (%zu bytes) holds no "
		    "errors list",
		    text ? strlen(text) : 0);
	json_t *list;
	if (json_is_array(root))
		list = json_incref(root);
	else if (json_is_array(json_object_get(root, "errors")))
		list = json_incref(json_object_get(root, "errors"));
	else
		list = json_pack("[O]", root);
	json_t *out = json_array();
	json_t *drop = json_array();
	size_t i;
	json_t *e;
	json_array_foreach (list, i, e) {
		const char *code = sky_json_str(e, "error_code");
		if (!code)
			code = sky_json_str(e, "code");
		const char *canon = NULL;
		const char *k;
		json_t *dv;
		json_object_foreach ((json_t *)mapping, k, dv) {
			if (code && !strcasecmp(k, code))
				canon = k;
		}
		int dup = 0;
		size_t j;
		json_t *x;
		json_array_foreach (out, j, x) {
			if (canon &&
			    skyx_str_eq(sky_json_str(x, "error_code"), canon))
				dup = 1;
		}
		if (!canon) {
			json_array_append_new(drop,
			                      json_string(code ? code : ""));
			continue;
		}
		if (dup)
			continue;
		double conf = 1.0;
		as_number(get_any(e, (const char *const[]){"confidence_float",
		                                           "confidence", NULL}),
		          &conf);
		const char *why = sky_json_str(e, "reasoning");
		json_array_append_new(
		    out, json_pack("{s:s,s:s,s:f}", "error_code", canon,
		                   "reasoning", why ? why : "",
		                   "confidence_float", fmin(fmax(conf, 0), 1)));
	}
	json_decref(list);
	json_decref(root);
	*errors = out;
	if (dropped)
		*dropped = drop;
	else
		json_decref(drop);
	return 0;
}

static int shape_data(const json_t *v, int pass, const void *arg)
{
	const json_t *schema = arg;
	if (pass == 2 || !schema)
		return 1;
	const char *t = sky_json_str(schema, "type");
	if (!t)
		return json_is_object(v) ? 1 : 0;
	if (!strcmp(t, "array"))
		return json_is_array(v);
	if (!strcmp(t, "object"))
		return json_is_object(v);
	return 1;
}

int sky_planner_parse_data(const char *text, const json_t *schema,
                           json_t **value, json_t **messages)
{
	*value = NULL;
	if (messages)
		*messages = NULL;
	json_t *norm = NULL;
	int rc;
	if (schema && !json_is_null(schema) &&
	    (rc = sky_planner_schema_normalize(schema, &norm)))
		return rc;
	unsigned int repairs = 0;
	json_t *v = find_json(text, shape_data, norm, 0, &repairs);
	if (!v && text) {
		/* A bare scalar answer: "null", "42", "\"Paris\"". */
		const char *s = text;
		while (isspace((unsigned char)*s))
			s++;
		v = sky_json_loads(s);
		if (!v) {
			size_t n = strlen(s);
			while (n && isspace((unsigned char)s[n - 1]))
				n--;
			char *t = skyx_strndup(s, n);
			v = sky_json_loads(t);
			free(t);
		}
	}
	if (!v) {
		json_decref(norm);
		return sky_error_set(SKY_EPARSE,
		                     "the extraction answer (%zu bytes) holds "
		                     "no JSON",
		                     text ? strlen(text) : 0);
	}
	if (!norm) {
		*value = v;
		if (messages)
			*messages = json_array();
		return 0;
	}
	rc = sky_planner_schema_apply(norm, v, value, messages);
	json_decref(v);
	json_decref(norm);
	return rc;
}

/* ---- repairs ------------------------------------------------------------ */

char *sky_planner_repairs_str(unsigned int repairs)
{
	static const char *names[] = {"fence",
	                              "prose",
	                              "bom",
	                              "prefill",
	                              "trailing_comma",
	                              "missing_comma",
	                              "truncated",
	                              "smart_quotes",
	                              "single_quotes",
	                              "comments",
	                              "unquoted_keys",
	                              "python_literals",
	                              "bare_words",
	                              "string_escapes",
	                              "brackets",
	                              "garbled",
	                              "utf8"};
	skyx_buf b = {0};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (repairs & (1u << i))
			skyx_buf_printf(&b, "%s%s", b.len ? "," : "", names[i]);
	}
	return skyx_buf_steal(&b);
}

/* ---- parse-verification-code ---------------------------------------------- */

static const char *const code_keys[] = {"code", NULL};

int sky_planner_parse_code(const char *text, char **code, int *magic_link)
{
	unsigned int repairs = 0;
	*code = NULL;
	*magic_link = 0;
	json_t *root =
	    find_json(text, shape_object_with, code_keys, 0, &repairs);
	if (!root)
		return sky_error_set(SKY_EPARSE,
		                     "the parse-verification-code answer (%zu "
		                     "bytes) holds no JSON object with a code",
		                     text ? strlen(text) : 0);
	const json_t *c = json_object_get(root, "code");
	const char *type =
	    get_str(root, (const char *const[]){"type", "otp_type", NULL});
	/* A model may answer a number for a numeric code. */
	if (json_is_integer(c) && json_integer_value(c) >= 0)
		*code = skyx_asprintf("%" JSON_INTEGER_FORMAT,
		                      json_integer_value(c));
	else if (json_is_string(c))
		*code = skyx_strdup(json_string_value(c));
	if (*code) {
		/* Nothing but spaces, or a word for "none", is no code. */
		char *p = *code, *e = p + strlen(p);
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		while (e > p &&
		       (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
			e--;
		memmove(*code, p, (size_t)(e - p));
		(*code)[e - p] = '\0';
		if (!**code || !strcasecmp(*code, "null") ||
		    !strcasecmp(*code, "none") || !strcasecmp(*code, "n/a")) {
			free(*code);
			*code = NULL;
		}
	}
	*magic_link = *code && ((type && !strcmp(type, "magic_link")) ||
	                        skyx_str_startswith(*code, "https://") ||
	                        skyx_str_startswith(*code, "http://"));
	json_decref(root);
	return 0;
}
