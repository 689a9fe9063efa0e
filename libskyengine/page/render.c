/*
 * The element tree text: a snapshot rendered as compact HTML-like text
 * for prompts (docs/internals.md section 2), under a token budget.
 *
 * Only what helps a model act is written: interactable elements with
 * their id and a whitelist of attributes; semantic structure (headings,
 * forms, fieldsets, tables, lists, dialogs, labels); text. Generic
 * wrappers (div, span, section ...) are not written, their text flows.
 *
 * Drop order when the text is over the budget (tokens = bytes / 4). The
 * renderer tries each level in turn and keeps the first that fits:
 *   0  nothing dropped.
 *   1  text outside interactable elements clipped to 200 characters.
 *   2  rows of each table and items of each list beyond the first
 *      keep_rows that hold no interactable element are dropped; one
 *      "[... N more rows]" line says so.
 *   3  text outside interactable elements clipped to 80 characters,
 *      text of interactable elements to 100.
 *   4  rows and items beyond the first N are dropped even when they hold
 *      interactable elements (the marker counts those); N is the largest
 *      number that fits.
 *   5  as 4, and text outside interactable elements is dropped except in
 *      headings, labels, legends, captions and table cells.
 *   6  hard cut at the budget: later elements are not written and a last
 *      line says how many interactable elements were left out.
 * Interactable elements are what a run needs most, so they go last.
 *
 * Compactness: ids are written without quotes (they are [A-Za-z0-9.]),
 * closing tags that HTML lets one omit (</td>, </th>,
 * </tr>, </li>, </option>, </dt>, </dd>) are omitted, and links to the
 * page's own origin are written as paths ("/staff/7"); longer URLs of
 * other origins become {{uN}} placeholders.
 */
#include <stdlib.h>
#include <string.h>

#include "page/render_internal.h"
#include "util/error.h"
#include <skyx/str.h>

#define MAX_LEVEL 6
#define ROWS_LEVEL 4 /* first level that cuts rows with elements */
#define LONG_ROWS 30 /* a table this long is written compactly */

enum { NONE, TEXT, OPEN, CLOSE };

typedef struct rs {
	skyx_buf b;
	int level;
	const sky_page_render_options *o;
	sky_page_tree *t;
	json_t *labelled;   /* ids named by a rendered <label for> */
	size_t budget;      /* level 6: bytes */
	size_t omitted;     /* level 6: interactables not written */
	size_t rows;        /* levels 4, 5: rows kept per table or list */
	const char *origin; /* "http://host:port" of the page, or NULL */
	size_t origin_len;
	int line_start;
	int last;  /* what was written last: TEXT, OPEN or CLOSE */
	int cells; /* cells written so far in the current row */
	/* a long table (LONG_ROWS rows or more): its data rows are bare
	 * lines, and a link's href is written only when its shape differs
	 * from the last one written (href_shape) */
	int long_rows, bare_row;
	char href_shape[128];
	char last_text[128];
} rs;

static const char *const BLOCK_TAGS[] = {
    "h1",     "h2",     "h3",      "h4",     "h5",  "h6", "form", "fieldset",
    "legend", "table",  "tr",      "ul",     "ol",  "li", "dl",   "dt",
    "dd",     "dialog", "caption", "iframe", "div", NULL};
static const char *const SEMANTIC_TAGS[] = {
    "h1",       "h2",     "h3",     "h4", "h5", "h6",     "form",
    "fieldset", "legend", "table",  "tr", "th", "td",     "ul",
    "ol",       "li",     "dl",     "dt", "dd", "dialog", "caption",
    "label",    "img",    "iframe", NULL};
static const char *const KEEP_TEXT_TAGS[] = {"h1",      "h2", "h3",    "h4",
                                             "h5",      "h6", "label", "legend",
                                             "caption", "th", "td",    NULL};
static const char *const OPTIONAL_CLOSE[] = {"td", "th", "tr", "li",
                                             "dt", "dd", NULL};
static const char *const ROLE_DIVS[] = {
    "dialog",  "alertdialog", "alert",  "listbox", "menu",
    "menubar", "tablist",     "tree",   "grid",    "radiogroup",
    "group",   "tabpanel",    "status", NULL};
static const char *const STATE_ATTRS[] = {
    "aria-expanded", "aria-selected", "aria-checked",      "aria-pressed",
    "aria-current",  "aria-haspopup", "aria-invalid",      "aria-valuenow",
    "aria-valuemin", "aria-valuemax", "aria-autocomplete", NULL};

static int in_list(const char *s, const char *const *list)
{
	if (!s)
		return 0;
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int jtrue(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

/* Roles a tag has anyway: not worth writing. */
static int implicit_role(const char *tag, const char *role)
{
	static const char *const pairs[][2] = {
	    {"a", "link"},           {"button", "button"},
	    {"select", "combobox"},  {"select", "listbox"},
	    {"textarea", "textbox"}, {"summary", "button"},
	    {"input", "textbox"},    {"input", "checkbox"},
	    {"input", "radio"},      {"input", "button"},
	    {"input", "spinbutton"}, {"input", "slider"},
	    {"input", "searchbox"},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
		if (!strcmp(tag, pairs[i][0]) && !strcmp(role, pairs[i][1]))
			return 1;
	return 0;
}

static void nl(rs *s)
{
	if (!s->line_start) {
		skyx_buf_putc(&s->b, '\n');
		s->line_start = 1;
		s->last = NONE;
	}
}

static void put(rs *s, const char *str)
{
	skyx_buf_puts(&s->b, str);
	if (*str)
		s->line_start = str[strlen(str) - 1] == '\n';
}

/* Text content: '<' escaped, whitespace collapsed, clipped. */
static void put_text(rs *s, const char *str, size_t max)
{
	size_t n = 0;
	int space = 0;
	for (const char *p = str; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			space = n > 0;
			continue;
		}
		if (max && n >= max) {
			/* stop at a UTF-8 boundary */
			if ((c & 0xc0) == 0x80) {
				skyx_buf_putc(&s->b, (char)c);
				continue;
			}
			skyx_buf_puts(&s->b, "\xe2\x80\xa6");
			break;
		}
		if (n == 0 && !s->line_start &&
		    (s->last == TEXT || s->last == CLOSE) &&
		    !strchr(".,;:!?)", (char)c))
			skyx_buf_putc(&s->b, ' ');
		if (space) {
			skyx_buf_putc(&s->b, ' ');
			n++;
			space = 0;
		}
		if (c == '<')
			skyx_buf_puts(&s->b, "&lt;");
		else
			skyx_buf_putc(&s->b, (char)c);
		n++;
	}
	if (n) {
		s->line_start = 0;
		s->last = TEXT;
	}
}

/* Writes name="v" clipped to max bytes (0: all); returns how many
 * bytes of v were written. */
static size_t put_attr(rs *s, const char *name, const char *v, size_t max)
{
	skyx_buf_printf(&s->b, " %s=\"", name);
	size_t n = 0;
	const char *p;
	for (p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (max && n >= max && (c & 0xc0) != 0x80) {
			skyx_buf_puts(&s->b, "\xe2\x80\xa6");
			break;
		}
		if (c == '"')
			skyx_buf_puts(&s->b, "&quot;");
		else if (c == '\n' || c == '\r' || c == '\t')
			skyx_buf_putc(&s->b, ' ');
		else
			skyx_buf_putc(&s->b, (char)c);
		n++;
	}
	skyx_buf_putc(&s->b, '"');
	return (size_t)(p - v);
}

/* Are a and b the same text but for whitespace? */
static int same_words(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '\n' || *a == '\t' || *a == '\r')
			a++;
		while (*b == ' ' || *b == '\n' || *b == '\t' || *b == '\r')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (*a++ != *b++)
			return 0;
	}
}

/* A value, clipped to max bytes (at a character boundary); a clipped
 * one says how many characters are left out (the page text given to
 * extraction has all of it). */
static void put_value(rs *s, const char *v, size_t max)
{
	const char *rest = v + put_attr(s, "value", v, max);
	if (!*rest)
		return;
	size_t chars = 0;
	for (const char *p = rest; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	s->b.len--; /* reopen the quote */
	s->b.data[s->b.len] = '\0';
	skyx_buf_printf(&s->b, " [%zu more characters]\"", chars);
}

/* What to write for a URL: `shown` (the path, for the page's own
 * origin) unless it is long; then a placeholder that maps to `url`. */
static const char *short_url(rs *s, const char *shown, const char *url)
{
	static __thread char ph[32];
	if (strlen(shown) <= s->o->url_max ||
	    !strncmp(shown, "javascript:", 11))
		return shown;
	json_t *n = json_object_get(s->t->url_ids, url);
	if (!n) {
		json_array_append_new(s->t->urls, json_string(url));
		n = json_integer((json_int_t)json_array_size(s->t->urls));
		json_object_set_new(s->t->url_ids, url, n);
	}
	snprintf(ph, sizeof ph, "{{u%lld}}", (long long)json_integer_value(n));
	return ph;
}

static size_t count_interactable(json_t *arr)
{
	size_t n = 0, i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		if (jtrue(e, "interactable"))
			n++;
		n += count_interactable(json_object_get(e, "children"));
	}
	return n;
}

static size_t count_one(json_t *e)
{
	return (jtrue(e, "interactable") ? 1 : 0) +
	       count_interactable(json_object_get(e, "children"));
}

static void r_nodes(rs *s, json_t *arr, int in_widget, const char *ptag);

/* A text run or non-widget text, cut by level. */
static void r_text(rs *s, const char *txt, int in_widget, const char *ptag)
{
	size_t max = 0;
	if (!strcmp(txt, "\n")) {
		nl(s);
		return;
	}
	if (in_widget) {
		max = s->level >= 3 ? 100 : 300;
	} else if (!in_list(ptag, KEEP_TEXT_TAGS)) {
		if (s->level >= 5)
			return;
		max = s->level >= 3 ? 80 : s->level >= 1 ? 200 : 0;
	}
	if (s->budget && s->b.len >= s->budget)
		return;
	put_text(s, txt, max);
	snprintf(s->last_text, sizeof s->last_text, "%s", txt);
}

static void r_options(rs *s, json_t *opts)
{
	size_t i;
	json_t *o;
	json_array_foreach (opts, i, o) {
		skyx_buf_printf(&s->b, "<option index=%zu", i);
		if (jtrue(o, "selected"))
			put(s, " selected");
		if (jtrue(o, "disabled"))
			put(s, " disabled");
		put(s, ">");
		s->last = OPEN;
		const char *t = jstr(o, "text");
		put_text(s, t ? t : "", 80);
		s->last = CLOSE;
	}
}

static int has_interactable(json_t *e)
{
	return count_one(e) > 0;
}

/* Rows of a table (through thead/tbody/tfoot) or items of a list. */
static void collect_rows(json_t *arr, json_t *rows, const char *row_tag)
{
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		const char *tag = jstr(e, "tag");
		if (tag && !strcmp(tag, row_tag))
			json_array_append(rows, e);
		else if (tag &&
		         (!strcmp(tag, "thead") || !strcmp(tag, "tbody") ||
		          !strcmp(tag, "tfoot")))
			collect_rows(json_object_get(e, "children"), rows,
			             row_tag);
	}
}

/* Tables and lists: rows beyond keep_rows may be dropped (levels 2, 4). */
static void r_rows(rs *s, json_t *e, const char *row_tag)
{
	json_t *kids = json_object_get(e, "children");
	json_t *rows = json_array();
	collect_rows(kids, rows, row_tag);
	size_t keep = s->o->keep_rows ? s->o->keep_rows : 20;
	size_t dropped = 0, dropped_widgets = 0, i;
	json_t *c;
	/* what is not a row (caption, stray text) stays in place */
	json_array_foreach (kids, i, c) {
		const char *tag = json_is_object(c) ? jstr(c, "tag") : NULL;
		int rowish =
		    tag && (!strcmp(tag, row_tag) || !strcmp(tag, "thead") ||
		            !strcmp(tag, "tbody") || !strcmp(tag, "tfoot"));
		if (!rowish) {
			json_t *one = json_array();
			json_array_append(one, c);
			r_nodes(s, one, 0, jstr(e, "tag"));
			json_decref(one);
		}
	}
	int was_long = s->long_rows;
	char was_shape[sizeof s->href_shape];
	memcpy(was_shape, s->href_shape, sizeof was_shape);
	s->long_rows =
	    !strcmp(row_tag, "tr") && json_array_size(rows) >= LONG_ROWS;
	s->href_shape[0] = '\0';
	json_array_foreach (rows, i, c) {
		int cut =
		    (i >= keep && s->level >= 2 && !has_interactable(c)) ||
		    (s->level >= ROWS_LEVEL && i >= s->rows);
		if (cut) {
			dropped++;
			dropped_widgets += count_one(c);
			continue;
		}
		json_t *one = json_array();
		json_array_append(one, c);
		r_nodes(s, one, 0, jstr(e, "tag"));
		json_decref(one);
	}
	s->long_rows = was_long;
	memcpy(s->href_shape, was_shape, sizeof was_shape);
	if (dropped) {
		nl(s);
		if (dropped_widgets)
			skyx_buf_printf(
			    &s->b,
			    "[\xe2\x80\xa6 %zu more %s with %zu "
			    "interactable elements]",
			    dropped, !strcmp(row_tag, "tr") ? "rows" : "items",
			    dropped_widgets);
		else
			skyx_buf_printf(
			    &s->b, "[\xe2\x80\xa6 %zu more %s]", dropped,
			    !strcmp(row_tag, "tr") ? "rows" : "items");
		s->line_start = 0;
		nl(s);
	}
	json_decref(rows);
}

/* In a long table, links of every row usually differ only in a number
 * ("/order.html?id=10001", "?id=10002" ...): the href of a link whose
 * shape (digits aside) is that of the last one written is left out, as
 * its text and its id say which row it is. 1 when left out. */
static int same_href_shape(rs *s, const char *href)
{
	char shape[sizeof s->href_shape];
	size_t n = 0;
	if (!s->long_rows)
		return 0;
	for (const char *p = href; *p; p++) {
		if (n + 1 >= sizeof shape)
			return 0; /* too long to compare: write it */
		if (*p >= '0' && *p <= '9') {
			if (n && shape[n - 1] == '#')
				continue;
			shape[n++] = '#';
		} else {
			shape[n++] = *p;
		}
	}
	shape[n] = '\0';
	if (!strcmp(shape, s->href_shape))
		return 1;
	memcpy(s->href_shape, shape, n + 1);
	return 0;
}

static void r_widget_attrs(rs *s, json_t *e, const char *tag, const char *id,
                           const char *parent_tag)
{
	json_t *attrs = json_object_get(e, "attrs");
	const char *type = jstr(attrs, "type");
	const char *label = jstr(e, "label");
	const char *text = jstr(e, "text");
	const char *role = jstr(e, "role");

	if (type && strcmp(tag, "input") == 0 && strcmp(type, "text"))
		put_attr(s, "type", type, 40);
	if (jstr(attrs, "name"))
		put_attr(s, "name", jstr(attrs, "name"), 60);
	if (role && !implicit_role(tag, role))
		put_attr(s, "role", role, 30);
	int named = (parent_tag && !strcmp(parent_tag, "label")) ||
	            json_object_get(s->labelled, id) ||
	            (text && label && same_words(text, label)) ||
	            (label && same_words(label, s->last_text));
	/* a <label> is named by its text unless its name differs (five
	 * rating stars titled "1 star" .. "5 stars") */
	if (label && *label && !named)
		put_attr(s, "label", label, 120);
	const char *ph = jstr(attrs, "placeholder");
	if (ph && (!label || strcmp(ph, label)))
		put_attr(s, "placeholder", ph, 80);
	const char *value = jstr(e, "value");
	if (value && *value && strcmp(tag, "select"))
		put_value(s, value, strcmp(tag, "textarea") ? 200 : 1500);
	else if (jstr(attrs, "value") && type &&
	         (!strcmp(type, "checkbox") || !strcmp(type, "radio")))
		put_attr(s, "value", jstr(attrs, "value"), 60);
	const char *href = jstr(attrs, "href");
	const char *shown = href;
	if (href && s->origin && !strncmp(href, s->origin, s->origin_len) &&
	    href[s->origin_len] == '/')
		shown = href + s->origin_len; /* same origin: the path */
	if (href && !same_href_shape(s, shown))
		put_attr(s, "href", short_url(s, shown, href), 0);
	const char *alt = jstr(attrs, "alt");
	if (alt && (!label || strcmp(alt, label)))
		put_attr(s, "alt", alt, 80);
	const char *title = jstr(attrs, "title");
	if (title && (!label || strcmp(title, label)) &&
	    (!text || strcmp(title, text)))
		put_attr(s, "title", title, 80);
	for (int i = 0; STATE_ATTRS[i]; i++)
		if (jstr(attrs, STATE_ATTRS[i]))
			put_attr(s, STATE_ATTRS[i], jstr(attrs, STATE_ATTRS[i]),
			         40);
	static const char *const plain[] = {
	    "accept",  "min",          "max", "maxlength",
	    "pattern", "autocomplete", NULL};
	for (int i = 0; plain[i]; i++)
		if (jstr(attrs, plain[i]))
			put_attr(s, plain[i], jstr(attrs, plain[i]), 60);
	json_t *ch = json_object_get(e, "checked");
	if (json_is_true(ch))
		put(s, " checked");
	else if (json_is_string(ch))
		put_attr(s, "checked", json_string_value(ch), 10);
	if (jtrue(e, "disabled"))
		put(s, " disabled");
	if (jtrue(e, "required"))
		put(s, " required");
	if (jtrue(e, "readonly"))
		put(s, " readonly");
	if (json_object_get(attrs, "multiple"))
		put(s, " multiple");
}

static void r_node(rs *s, json_t *e, int in_widget, const char *ptag)
{
	const char *tag = jstr(e, "tag");
	const char *id = jstr(e, "id");
	const char *role = jstr(e, "role");
	json_t *attrs = json_object_get(e, "attrs");
	int widget = id && jtrue(e, "interactable");

	if (!tag)
		return;
	if (s->budget && s->b.len >= s->budget) {
		s->omitted += count_one(e);
		return;
	}
	/* a label whose control is written carries no id of its own */
	const char *lfor = !strcmp(tag, "label") ? jstr(attrs, "for") : NULL;
	int label_of_shown = lfor && json_object_get(s->t->index, lfor);
	if (label_of_shown)
		widget = 0;

	const char *out_tag = NULL;
	if (widget || in_list(tag, SEMANTIC_TAGS))
		out_tag = tag;
	else if (role && in_list(role, ROLE_DIVS))
		out_tag = "div";
	if (out_tag && !strcmp(out_tag, "img") && s->level >= 5)
		return;

	if (!out_tag) { /* generic wrapper: only its content */
		const char *txt = jstr(e, "text");
		if (txt)
			r_text(s, txt, in_widget, ptag);
		r_nodes(s, json_object_get(e, "children"), in_widget, ptag);
		return;
	}
	/* Cells after a row's first are written as a tab, not <td>: a
	 * 300-row table costs ~10% fewer tokens and reads like TSV. A cell
	 * that is itself a widget keeps its tag (it carries an id). */
	/* A data row of a long table is a bare line: its cells, tab
	 * separated, after the <tr><th> line of the header. */
	json_t *cell0 = json_array_get(json_object_get(e, "children"), 0);
	if (s->long_rows && !widget && !in_widget && !strcmp(tag, "tr") &&
	    json_is_object(cell0) && jstr(cell0, "tag") &&
	    !strcmp(jstr(cell0, "tag"), "td")) {
		int bare = s->bare_row;
		nl(s);
		s->cells = 0;
		s->bare_row = 1;
		r_nodes(s, json_object_get(e, "children"), 0, tag);
		s->bare_row = bare;
		s->line_start = 0;
		s->last = CLOSE;
		nl(s);
		return;
	}
	int is_cell = !strcmp(out_tag, "td") || !strcmp(out_tag, "th");
	if (is_cell && ptag && !strcmp(ptag, "tr") &&
	    (s->cells++ > 0 || s->bare_row) && !widget) {
		if (s->cells > 1)
			skyx_buf_putc(&s->b, '\t');
		s->line_start = 0;
		s->last = OPEN;
		const char *ctxt = jstr(e, "text");
		if (ctxt)
			r_text(s, ctxt, in_widget, tag);
		r_nodes(s, json_object_get(e, "children"), in_widget, tag);
		s->line_start = 0;
		s->last = CLOSE;
		return;
	}
	int block = in_list(out_tag, BLOCK_TAGS);
	if (block)
		nl(s);
	else if (s->last == TEXT)
		skyx_buf_putc(&s->b, ' ');
	skyx_buf_printf(&s->b, "<%s", out_tag);
	s->line_start = 0;
	s->last = OPEN;
	if (widget) {
		/* ids are [A-Za-z0-9.] only: no quotes needed */
		skyx_buf_printf(&s->b, " id=%s", id);
		json_object_set_new(s->t->shown, id, json_true());
		r_widget_attrs(s, e, tag, id, ptag);
	} else if (!strcmp(out_tag, "div")) {
		put_attr(s, "role", role, 30);
	} else if (!strcmp(tag, "img") && jstr(attrs, "alt")) {
		put_attr(s, "alt", jstr(attrs, "alt"), 80);
	} else if (!strcmp(tag, "iframe")) {
		if (jstr(e, "frame"))
			put_attr(s, "frame", jstr(e, "frame"), 0);
		if (jstr(attrs, "title"))
			put_attr(s, "title", jstr(attrs, "title"), 80);
	}
	if (label_of_shown)
		skyx_buf_printf(&s->b, " for=%s", lfor);
	put(s, ">");
	if (!strcmp(tag, "input") || !strcmp(tag, "img")) {
		s->last = CLOSE;
		return; /* void elements */
	}
	int inner_widget = in_widget || widget;
	const char *txt = jstr(e, "text");
	if (txt)
		r_text(s, txt, inner_widget, tag);
	if (!strcmp(tag, "select"))
		r_options(s, json_object_get(e, "options"));
	else if (!strcmp(tag, "table")) {
		int cells = s->cells; /* a table inside a cell */
		r_rows(s, e, "tr");
		s->cells = cells;
	} else if (!strcmp(tag, "tr")) {
		int bare = s->bare_row;
		s->cells = 0;
		s->bare_row = 0;
		r_nodes(s, json_object_get(e, "children"), inner_widget, tag);
		s->bare_row = bare;
	} else if (!strcmp(tag, "ul") || !strcmp(tag, "ol"))
		r_rows(s, e, "li");
	else
		r_nodes(s, json_object_get(e, "children"), inner_widget, tag);
	if (!in_list(out_tag, OPTIONAL_CLOSE))
		skyx_buf_printf(&s->b, "</%s>", out_tag);
	s->line_start = 0;
	s->last = CLOSE;
	if (block)
		nl(s);
}

static void r_nodes(rs *s, json_t *arr, int in_widget, const char *ptag)
{
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (json_is_string(e))
			r_text(s, json_string_value(e), in_widget, ptag);
		else if (json_is_object(e))
			r_node(s, e, in_widget, ptag);
	}
}

/* Ids of controls that a label in the tree names (they need no label
 * attribute of their own). */
static void find_labelled(json_t *arr, json_t *set)
{
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		const char *tag = jstr(e, "tag");
		const char *f = jstr(json_object_get(e, "attrs"), "for");
		if (tag && !strcmp(tag, "label") && f)
			json_object_set_new(set, f, json_true());
		find_labelled(json_object_get(e, "children"), set);
	}
}

/* "scheme://host[:port]" of a URL: its length, or 0. */
static size_t origin_len(const char *url)
{
	const char *p = url ? strstr(url, "://") : NULL;
	if (!p || (strncmp(url, "http", 4)))
		return 0;
	const char *slash = strchr(p + 3, '/');
	return slash ? (size_t)(slash - url) : strlen(url);
}

static void render_level(sky_page_tree *t, const sky_page_render_options *o,
                         int level, size_t rows, json_t *labelled)
{
	rs s = {0};
	s.level = level;
	s.rows = rows;
	s.o = o;
	s.t = t;
	s.labelled = labelled;
	s.line_start = 1;
	s.origin = jstr(t->snapshot, "url");
	s.origin_len = origin_len(s.origin);
	if (!s.origin_len)
		s.origin = NULL;
	if (level >= MAX_LEVEL && o->max_tokens)
		s.budget =
		    o->max_tokens * 4 > 200 ? o->max_tokens * 4 - 200 : 1;
	json_array_clear(t->urls);
	json_object_clear(t->url_ids);
	json_object_clear(t->shown);
	r_nodes(&s, json_object_get(t->snapshot, "elements"), 0, NULL);
	if (s.omitted) {
		nl(&s);
		skyx_buf_printf(
		    &s.b,
		    "[\xe2\x80\xa6 %zu more interactable elements not "
		    "shown: the page is too large]\n",
		    s.omitted);
	}
	/* trim trailing newlines */
	while (s.b.len && s.b.data[s.b.len - 1] == '\n')
		s.b.data[--s.b.len] = '\0';
	free(t->text);
	t->len = s.b.len;
	t->text = s.b.data ? skyx_buf_steal(&s.b) : skyx_strdup("");
	t->level = level;
}

/* The longest table or list: the upper bound of rows worth keeping. */
static size_t max_rows(json_t *arr)
{
	size_t most = 0, i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		size_t n = json_array_size(json_object_get(e, "children"));
		if (n > most)
			most = n;
		n = max_rows(json_object_get(e, "children"));
		if (n > most)
			most = n;
	}
	return most;
}

int sky_page_render_json(json_t *snapshot, const sky_page_render_options *opts,
                         sky_page_tree **out)
{
	sky_page_render_options o;
	*out = NULL;
	if (!json_is_object(snapshot) ||
	    !json_is_array(json_object_get(snapshot, "elements")))
		return sky_error_set(SKY_EPARSE,
		                     "not a snapshot (no \"elements\" array)");
	if (opts && opts->version == SKY_PAGE_RENDER_OPTIONS_VERSION)
		o = *opts;
	else
		sky_page_render_options_init(&o);
	if (!o.url_max)
		o.url_max = 80;
	sky_page_tree *t = calloc(1, sizeof *t);
	if (!t)
		return sky_error_set(SKY_ENOMEM, "out of memory");
	t->snapshot = json_incref(snapshot);
	t->urls = json_array();
	t->url_ids = json_object();
	t->shown = json_object();
	sky_page__index(t);
	json_t *labelled = json_object();
	find_labelled(json_object_get(snapshot, "elements"), labelled);
	size_t most = max_rows(json_object_get(snapshot, "elements"));
	for (int level = 0; level <= MAX_LEVEL; level++) {
		if (level == 4 || level == 5) {
			/* the most rows that fit, by bisection */
			size_t lo = 0, hi = most;
			while (lo < hi) {
				size_t mid = lo + (hi - lo + 1) / 2;
				render_level(t, &o, level, mid, labelled);
				if ((t->len + 3) / 4 <= o.max_tokens)
					lo = mid;
				else
					hi = mid - 1;
			}
			render_level(t, &o, level, lo, labelled);
		} else {
			render_level(t, &o, level, o.keep_rows, labelled);
		}
		if (!o.max_tokens || (t->len + 3) / 4 <= o.max_tokens)
			break;
	}
	json_decref(labelled);
	*out = t;
	return 0;
}
