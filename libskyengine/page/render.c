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
 * other origins become {{uN}} placeholders. A table of LONG_ROWS rows or
 * more is a legend line and one CSV line per row (r_csv_row).
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
	/* a long table (LONG_ROWS rows or more): its rows are CSV lines
	 * (r_csv_row), and a link's href is written only when its shape differs
	 * from the last one written (href_shape) */
	int long_rows;
	char href_shape[128];
	char last_text[128];
} rs;

/* The columns of a long table, as its CSV lines write them. */
#define CSV_COLS 64
typedef struct csv_col {
	char name[48]; /* the header cell's text, or "" */
	char *usual;   /* key (cell_key) of the cell most rows hold, or NULL */
	const char *tag; /* "a" or "button": most cells hold one such element;
	                    written N:text */
} csv_col;

typedef struct csv_table {
	csv_col col[CSV_COLS];
} csv_table;

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

/* ---- long tables: one CSV line per row --------------------------------
 *
 * A table of LONG_ROWS rows or more is written as a legend line, then its
 * rows as CSV lines (the header row first). What every row repeats is
 * said once, in the legend, instead of on every line:
 *   - a column whose cells mostly hold one link (or one button) writes
 *     such a cell as "N:text", N being the element's id;
 *   - a column whose cells mostly hold the same text (or the same
 *     element text) writes that text only in the legend: such a cell is
 *     empty, or its bare id.
 * A cell that does not fit its column's pattern (another kind of element,
 * attributes to show, more than one element) is written as HTML, as
 * anywhere else. Every element keeps its id on its row's line. */

static void r_node(rs *s, json_t *e, int in_widget, const char *ptag);

/* The text of e and everything under it, words joined by one space. */
static void flat_text(json_t *e, skyx_buf *b)
{
	if (json_is_string(e)) {
		const char *p = json_string_value(e);
		for (; *p; p++) {
			int sp =
			    *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
			if (sp) {
				if (b->len && b->data[b->len - 1] != ' ')
					skyx_buf_putc(b, ' ');
			} else {
				skyx_buf_putc(b, *p);
			}
		}
		return;
	}
	if (!json_is_object(e))
		return;
	json_t *t = json_object_get(e, "text");
	if (json_is_string(t)) {
		if (b->len && b->data[b->len - 1] != ' ')
			skyx_buf_putc(b, ' ');
		flat_text(t, b);
	}
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(e, "children"), i, c) {
		if (json_is_object(c) && b->len && b->data[b->len - 1] != ' ')
			skyx_buf_putc(b, ' ');
		flat_text(c, b);
	}
}

/* The first interactable element under e (e itself excluded). */
static json_t *first_widget(json_t *e)
{
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(e, "children"), i, c) {
		if (!json_is_object(c))
			continue;
		if (jstr(c, "id") && jtrue(c, "interactable"))
			return c;
		json_t *w = first_widget(c);
		if (w)
			return w;
	}
	return NULL;
}

/* What a cell holds, as a key that equal cells share: "T" + its text,
 * or "W<tag>" + its text when it holds exactly one element (a link or a
 * button): *tag is then that element's tag. Widget cells, and cells
 * holding several elements, have no key (""), so that they never count
 * as the usual text of their column. */
static void cell_key(json_t *cell, skyx_buf *key, const char **tag)
{
	skyx_buf_reset(key);
	*tag = NULL;
	if (jtrue(cell, "interactable") && jstr(cell, "id"))
		return;
	size_t n = count_interactable(json_object_get(cell, "children"));
	json_t *w = n == 1 ? first_widget(cell) : NULL;
	if (n > 1 || (n == 1 && !w))
		return;
	if (w) {
		const char *t = jstr(w, "tag");
		if (!t || (strcmp(t, "a") && strcmp(t, "button")))
			return;
		*tag = t;
		skyx_buf_printf(key, "W%s\x1f", t);
	} else {
		skyx_buf_puts(key, "T\x1f");
	}
	size_t at = key->len;
	flat_text(cell, key);
	while (key->len > at && key->data[key->len - 1] == ' ')
		key->data[--key->len] = '\0';
	if (key->len > at && key->data[at] == ' ') {
		memmove(key->data + at, key->data + at + 1, key->len - at);
		key->len--;
	}
}

static const char *key_text(const char *key)
{
	const char *p = strchr(key, '\x1f');
	return p ? p + 1 : key;
}

static int is_cell(json_t *c)
{
	const char *tag = json_is_object(c) ? jstr(c, "tag") : NULL;
	return tag && (!strcmp(tag, "td") || !strcmp(tag, "th"));
}

/* A header row: every cell a <th>. */
static int header_row(json_t *row)
{
	size_t i, n = 0;
	json_t *c;
	json_array_foreach (json_object_get(row, "children"), i, c) {
		if (!json_is_object(c))
			continue;
		if (!is_cell(c) || strcmp(jstr(c, "tag"), "th"))
			return 0;
		n++;
	}
	return n > 0;
}

/* The usual cell and the element kind of each column, over the data
 * rows; the names from the first header row. */
static void csv_analyse(json_t *rows, csv_table *ct)
{
	json_t *counts[CSV_COLS] = {0};
	size_t tags[CSV_COLS][2] = {{0}};
	size_t data = 0, i, j;
	json_t *row, *c;
	skyx_buf key = {0};
	int named = 0;
	memset(ct, 0, sizeof *ct);
	json_array_foreach (rows, i, row) {
		int head = header_row(row);
		size_t col = 0;
		data += !head;
		json_array_foreach (json_object_get(row, "children"), j, c) {
			if (!is_cell(c))
				continue;
			if (col >= CSV_COLS)
				break;
			if (head && !named) {
				skyx_buf name = {0};
				flat_text(c, &name);
				snprintf(ct->col[col].name,
				         sizeof ct->col[col].name, "%s",
				         name.data
				             ? name.data + (name.data[0] == ' ')
				             : "");
				skyx_buf_free(&name);
			}
			if (!head) {
				const char *tag;
				cell_key(c, &key, &tag);
				if (tag)
					tags[col][!strcmp(tag, "button")]++;
				if (key.len && *key_text(key.data)) {
					if (!counts[col])
						counts[col] = json_object();
					json_t *n = json_object_get(counts[col],
					                            key.data);
					json_object_set_new(
					    counts[col], key.data,
					    json_integer(
					        n ? json_integer_value(n) + 1
					          : 1));
				}
			}
			col++;
		}
		named |= head;
	}
	for (size_t k = 0; k < CSV_COLS; k++) {
		if (tags[k][0] * 2 > data)
			ct->col[k].tag = "a";
		else if (tags[k][1] * 2 > data)
			ct->col[k].tag = "button";
		const char *best = NULL;
		json_int_t most = 0;
		const char *kk;
		json_t *v;
		json_object_foreach (counts[k], kk, v) {
			if (json_integer_value(v) > most) {
				most = json_integer_value(v);
				best = kk;
			}
		}
		/* the usual text: most rows hold it, and it is short; an
		 * element's only if the column writes elements as N:text */
		if (best && (size_t)most * 2 > data &&
		    strlen(key_text(best)) <= 40 &&
		    (best[0] == 'T' ||
		     (ct->col[k].tag &&
		      !strncmp(best + 1, ct->col[k].tag,
		               strlen(ct->col[k].tag)) &&
		      best[1 + strlen(ct->col[k].tag)] == '\x1f')))
			ct->col[k].usual = skyx_strdup(best);
		json_decref(counts[k]);
	}
	skyx_buf_free(&key);
}

static void csv_free(csv_table *ct)
{
	for (size_t k = 0; k < CSV_COLS; k++)
		free(ct->col[k].usual);
}

static void put_col_name(rs *s, const csv_table *ct, size_t k)
{
	if (ct->col[k].name[0])
		skyx_buf_printf(&s->b, "%s", ct->col[k].name);
	else
		skyx_buf_printf(&s->b, "column %zu", k + 1);
}

/* The legend line: what the rows' lines leave out. */
static void csv_legend(rs *s, const csv_table *ct, json_t *rows)
{
	size_t data = 0, i;
	json_t *r;
	json_array_foreach (rows, i, r)
		data += !header_row(r);
	nl(s);
	skyx_buf_printf(&s->b, "[%zu rows as CSV%s.", data,
	                header_row(json_array_get(rows, 0)) ? ", header first"
	                                                    : "");
	int n = 0;
	for (size_t k = 0; k < CSV_COLS; k++) {
		if (!ct->col[k].tag)
			continue;
		skyx_buf_puts(&s->b, n++ ? ", "
		                         : " N:text is the element "
		                           "with id N and that text: ");
		skyx_buf_puts(&s->b, !strcmp(ct->col[k].tag, "a") ? "links"
		                                                  : "buttons");
		skyx_buf_puts(&s->b, " in ");
		put_col_name(s, ct, k);
	}
	if (n)
		skyx_buf_putc(&s->b, '.');
	n = 0;
	for (size_t k = 0; k < CSV_COLS; k++) {
		if (!ct->col[k].usual)
			continue;
		skyx_buf_puts(&s->b,
		              n++ ? ", "
		                  : " An empty cell, or N alone, has its "
		                    "column's usual text: ");
		skyx_buf_putc(&s->b, '"');
		for (const char *p = key_text(ct->col[k].usual); *p; p++)
			skyx_buf_putc(&s->b, *p == '"' ? '\'' : *p);
		skyx_buf_puts(&s->b, "\" in ");
		put_col_name(s, ct, k);
	}
	skyx_buf_puts(&s->b, n ? ".]" : "]");
	s->line_start = 0;
	nl(s);
}

/* Is x exactly <tag id=ID>TEXT</tag>, TEXT free of markup? */
static int plain_widget(const char *x, const char *tag, const char **id,
                        size_t *id_len, const char **text, size_t *text_len)
{
	size_t tl = strlen(tag);
	if (x[0] != '<' || strncmp(x + 1, tag, tl) ||
	    strncmp(x + 1 + tl, " id=", 4))
		return 0;
	*id = x + 1 + tl + 4;
	*id_len = strspn(
	    *id,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.");
	if (!*id_len || (*id)[*id_len] != '>')
		return 0;
	*text = *id + *id_len + 1;
	const char *end = strchr(*text, '<');
	if (!end || end[1] != '/' || strncmp(end + 2, tag, tl) ||
	    strcmp(end + 2 + tl, ">"))
		return 0;
	*text_len = (size_t)(end - *text);
	return 1;
}

/* One cell of a CSV line. */
static void r_csv_cell(rs *s, json_t *cell, const csv_col *col, int data)
{
	skyx_buf key = {0};
	const char *wtag;
	cell_key(cell, &key, &wtag);
	int usual = data && col && col->usual && key.len &&
	            !strcmp(key.data, col->usual);
	if (usual && key.data[0] == 'T') { /* the legend says it */
		skyx_buf_free(&key);
		return;
	}
	/* the cell as it would be written anywhere, into its own buffer */
	skyx_buf outer = s->b;
	size_t budget = s->budget;
	int cells = s->cells;
	memset(&s->b, 0, sizeof s->b);
	if (budget)
		s->budget = budget > outer.len ? budget - outer.len : 1;
	s->line_start = 1;
	s->last = NONE;
	if (jtrue(cell, "interactable") && jstr(cell, "id")) {
		r_node(s, cell, 0, "tr");
	} else {
		const char *tag = jstr(cell, "tag");
		const char *txt = jstr(cell, "text");
		if (txt)
			r_text(s, txt, 0, tag);
		r_nodes(s, json_object_get(cell, "children"), 0, tag);
	}
	skyx_buf in = s->b;
	s->b = outer;
	s->budget = budget;
	s->cells = cells;
	/* one line, trimmed */
	char *x = in.data ? in.data : "";
	for (char *p = x; *p; p++)
		if (*p == '\n')
			*p = ' ';
	while (*x == ' ')
		x++;
	size_t n = strlen(x);
	while (n && x[n - 1] == ' ')
		x[--n] = '\0';
	const char *id, *text;
	size_t id_len, text_len;
	skyx_buf out = {0};
	if (wtag && col && col->tag && !strcmp(wtag, col->tag) &&
	    plain_widget(x, wtag, &id, &id_len, &text, &text_len)) {
		skyx_buf_append(&out, id, id_len);
		if (!usual) {
			skyx_buf_putc(&out, ':');
			skyx_buf_append(&out, text, text_len);
		}
	} else {
		skyx_buf_puts(&out, x);
	}
	const char *o = out.data ? out.data : "";
	if (!*o && data && col && col->usual) {
		/* truly empty, where an empty cell means the usual text */
		skyx_buf_puts(&s->b, "\"\"");
	} else if (strchr(o, ',') || o[0] == '"') {
		skyx_buf_putc(&s->b, '"');
		for (; *o; o++) {
			if (*o == '"')
				skyx_buf_putc(&s->b, '"');
			skyx_buf_putc(&s->b, *o);
		}
		skyx_buf_putc(&s->b, '"');
	} else {
		skyx_buf_puts(&s->b, o);
	}
	skyx_buf_free(&out);
	skyx_buf_free(&in);
	skyx_buf_free(&key);
}

/* One row of a long table: its cells on one line, comma separated. */
static void r_csv_row(rs *s, json_t *row, const csv_table *ct)
{
	if (s->budget && s->b.len >= s->budget) {
		s->omitted += count_one(row);
		return;
	}
	if (jtrue(row, "interactable") && jstr(row, "id")) {
		/* a row that is itself an element keeps its tag */
		json_t *one = json_array();
		json_array_append(one, row);
		r_nodes(s, one, 0, "table");
		json_decref(one);
		return;
	}
	int data = !header_row(row);
	size_t col = 0, i;
	json_t *c;
	nl(s);
	json_array_foreach (json_object_get(row, "children"), i, c) {
		if (json_is_string(c)) {
			const char *p = json_string_value(c);
			if (!p[strspn(p, " \t\r\n")])
				continue; /* whitespace between cells */
		}
		if (col)
			skyx_buf_putc(&s->b, ',');
		if (is_cell(c)) {
			r_csv_cell(s, c, col < CSV_COLS ? &ct->col[col] : NULL,
			           data);
		} else {
			json_t *fake = json_pack("{s:s, s:[O]}", "tag", "td",
			                         "children", c);
			r_csv_cell(s, fake, NULL, 0);
			json_decref(fake);
		}
		col++;
	}
	s->line_start = 0;
	s->last = CLOSE;
	nl(s);
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
	csv_table *ct = NULL;
	int legend = 0;
	if (s->long_rows) {
		ct = malloc(sizeof *ct);
		if (ct)
			csv_analyse(rows, ct);
	}
	json_array_foreach (rows, i, c) {
		int cut =
		    (i >= keep && s->level >= 2 && !has_interactable(c)) ||
		    (s->level >= ROWS_LEVEL && i >= s->rows);
		if (cut) {
			dropped++;
			dropped_widgets += count_one(c);
			continue;
		}
		if (ct) {
			if (!legend++)
				csv_legend(s, ct, rows);
			r_csv_row(s, c, ct);
			continue;
		}
		json_t *one = json_array();
		json_array_append(one, c);
		r_nodes(s, one, 0, jstr(e, "tag"));
		json_decref(one);
	}
	if (ct) {
		csv_free(ct);
		free(ct);
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
	 * table costs ~10% fewer tokens and reads like TSV. A cell that is
	 * itself a widget keeps its tag (it carries an id). Rows of a long
	 * table are CSV lines (r_csv_row). */
	int is_cell = !strcmp(out_tag, "td") || !strcmp(out_tag, "th");
	if (is_cell && ptag && !strcmp(ptag, "tr") && s->cells++ > 0 &&
	    !widget) {
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
		s->cells = 0;
		r_nodes(s, json_object_get(e, "children"), inner_widget, tag);
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
