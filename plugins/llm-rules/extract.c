/* llm-rules: answering a data_extraction_schema from the page: labelled
 * values, definition lists, tables (arrays from rows), booleans such as
 * application_success from confirmation messages; numbers and dates
 * parsed. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

#define LABEL_MIN 0.5

typedef struct kv {
	char *label, *value;
} kv;

typedef struct table {
	char **head;
	size_t ncols;
	char ***rows; /* rows[r][c] */
	size_t *rowlen;
	size_t nrows;
} table;

typedef struct facts {
	kv *kv;
	size_t nkv;
	table *t;
	size_t nt;
	char ***lists; /* lists[i] = NULL-terminated item texts */
	char **list_head;
	size_t nl;
} facts;

static const char *tag_of(const json_t *n)
{
	const char *t = json_string_value(json_object_get(n, "tag"));
	/* ARIA grids built of divs read like tables */
	const char *role = json_string_value(json_object_get(n, "role"));
	if (!role) {
		json_t *attrs = json_object_get(n, "attributes");
		role = json_string_value(json_object_get(attrs, "role"));
	}
	if (role) {
		if (!strcmp(role, "grid") || !strcmp(role, "table") ||
		    !strcmp(role, "treegrid"))
			return "table";
		if (!strcmp(role, "row"))
			return "tr";
		if (!strcmp(role, "gridcell") || !strcmp(role, "cell"))
			return "td";
		if (!strcmp(role, "columnheader") || !strcmp(role, "rowheader"))
			return "th";
		if (!strcmp(role, "rowgroup"))
			return "tbody";
	}
	return t ? t : "";
}

static void add_kv(facts *f, const char *label, const char *value)
{
	char *l = sky_rules__squash(label), *v = sky_rules__squash(value);
	size_t ll = strlen(l);
	while (ll && (l[ll - 1] == ':' || l[ll - 1] == ' '))
		l[--ll] = '\0';
	if (!*l || !*v || ll > 60) {
		free(l);
		free(v);
		return;
	}
	f->kv = realloc(f->kv, (f->nkv + 1) * sizeof *f->kv);
	if (!f->kv)
		abort();
	f->kv[f->nkv].label = l;
	f->kv[f->nkv].value = v;
	f->nkv++;
}

/* ---- tables ----------------------------------------------------------------- */

typedef struct rowacc {
	char **cells;
	size_t n;
	int all_th, section; /* 0 none, 1 thead, 2 tbody, 3 tfoot */
} rowacc;

static void collect_rows(const json_t *n, int section, rowacc **rows,
                         size_t *nrows)
{
	const char *tag = tag_of(n);
	size_t i;
	json_t *c;
	if (!strcmp(tag, "thead"))
		section = 1;
	else if (!strcmp(tag, "tbody"))
		section = 2;
	else if (!strcmp(tag, "tfoot"))
		section = 3;
	else if (!strcmp(tag, "table") && *nrows)
		return; /* a nested table is its own */
	if (!strcmp(tag, "tr")) {
		rowacc r = {0};
		r.all_th = 1;
		r.section = section;
		json_array_foreach (json_object_get(n, "children"), i, c) {
			const char *ct = tag_of(c);
			if (strcmp(ct, "td") && strcmp(ct, "th"))
				continue;
			r.cells = realloc(r.cells, (r.n + 1) * sizeof *r.cells);
			if (!r.cells)
				abort();
			r.cells[r.n++] = sky_rules__node_text(c);
			r.all_th &= !strcmp(ct, "th");
		}
		const char *own = json_string_value(json_object_get(n, "text"));
		if (!r.n && own && strchr(own, '\n')) {
			/* one text with a line per cell */
			r.all_th = 0;
			char *copy = sky_rules__strdup(own), *save = NULL;
			for (char *t = strtok_r(copy, "\n", &save); t;
			     t = strtok_r(NULL, "\n", &save)) {
				char *q = sky_rules__squash(t);
				if (!*q) {
					free(q);
					continue;
				}
				r.cells = realloc(r.cells,
				                  (r.n + 1) * sizeof *r.cells);
				if (!r.cells)
					abort();
				r.cells[r.n++] = q;
			}
			free(copy);
		}
		/* a role=row whose gridcells the snapshot kept only as text
		 * runs: each run is a cell */
		if (!r.n) {
			r.all_th = 0;
			json_array_foreach (json_object_get(n, "children"), i,
			                    c) {
				char *t = json_is_string(c)
				              ? sky_rules__squash(
				                    json_string_value(c))
				              : sky_rules__node_text(c);
				if (!*t) {
					free(t);
					continue;
				}
				r.cells = realloc(r.cells,
				                  (r.n + 1) * sizeof *r.cells);
				if (!r.cells)
					abort();
				r.cells[r.n++] = t;
			}
		}
		*rows = realloc(*rows, (*nrows + 1) * sizeof **rows);
		if (!*rows)
			abort();
		(*rows)[(*nrows)++] = r;
		return;
	}
	json_array_foreach (json_object_get(n, "children"), i, c)
		collect_rows(c, section, rows, nrows);
}

static void add_table(facts *f, const json_t *n)
{
	rowacc *rows = NULL;
	size_t nrows = 0, hdr = (size_t)-1;
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(n, "children"), i, c)
		collect_rows(c, 0, &rows, &nrows);
	for (size_t r = 0; r < nrows && hdr == (size_t)-1; r++)
		if (rows[r].n && (rows[r].section == 1 || rows[r].all_th))
			hdr = r;
	/* key/value tables ("<th>Weight</th><td>2 kg</td>") are pairs */
	for (size_t r = 0; r < nrows; r++)
		if (r != hdr && rows[r].n == 2 && rows[r].section != 1)
			add_kv(f, rows[r].cells[0], rows[r].cells[1]);
	if (hdr != (size_t)-1) {
		table t = {0};
		t.head = rows[hdr].cells;
		t.ncols = rows[hdr].n;
		rows[hdr].cells = NULL;
		for (size_t r = 0; r < nrows; r++) {
			if (r == hdr || !rows[r].cells ||
			    rows[r].section == 3 || rows[r].section == 1 ||
			    rows[r].all_th)
				continue;
			t.rows =
			    realloc(t.rows, (t.nrows + 1) * sizeof *t.rows);
			t.rowlen =
			    realloc(t.rowlen, (t.nrows + 1) * sizeof *t.rowlen);
			if (!t.rows || !t.rowlen)
				abort();
			t.rows[t.nrows] = rows[r].cells;
			t.rowlen[t.nrows++] = rows[r].n;
			rows[r].cells = NULL;
		}
		f->t = realloc(f->t, (f->nt + 1) * sizeof *f->t);
		if (!f->t)
			abort();
		f->t[f->nt++] = t;
	}
	for (size_t r = 0; r < nrows; r++) {
		for (size_t k = 0; rows[r].cells && k < rows[r].n; k++)
			free(rows[r].cells[k]);
		free(rows[r].cells);
	}
	free(rows);
}

/* ---- the walk --------------------------------------------------------------- */

static void add_list(facts *f, const json_t *n, const char *head)
{
	size_t i, m = 0;
	json_t *c;
	char **items = calloc(
	    json_array_size(json_object_get(n, "children")) + 1, sizeof *items);
	if (!items)
		abort();
	json_array_foreach (json_object_get(n, "children"), i, c)
		if (!strcmp(tag_of(c), "li"))
			items[m++] = sky_rules__node_text(c);
	if (!m) {
		free(items);
		return;
	}
	f->lists = realloc(f->lists, (f->nl + 1) * sizeof *f->lists);
	f->list_head =
	    realloc(f->list_head, (f->nl + 1) * sizeof *f->list_head);
	if (!f->lists || !f->list_head)
		abort();
	f->lists[f->nl] = items;
	f->list_head[f->nl++] = sky_rules__strdup(head ? head : "");
}

static void walk(facts *f, const json_t *n, char **last_heading)
{
	const char *tag = tag_of(n);
	size_t i;
	json_t *c;
	if (json_is_string(n)) {
		/* a text run "Label: value" */
		const char *t = json_string_value(n);
		const char *colon = strchr(t, ':');
		if (colon && colon > t && colon - t <= 40 && colon[1]) {
			char *l = sky_rules__strndup(t, (size_t)(colon - t));
			add_kv(f, l, colon + 1);
			free(l);
		}
		return;
	}
	if (!strcmp(tag, "table")) {
		add_table(f, n);
		return;
	}
	if (!strcmp(tag, "dl")) {
		char *label = NULL;
		json_array_foreach (json_object_get(n, "children"), i, c) {
			const char *ct = tag_of(c);
			if (!strcmp(ct, "dt")) {
				free(label);
				label = sky_rules__node_text(c);
			} else if (!strcmp(ct, "dd") && label) {
				char *v = sky_rules__node_text(c);
				add_kv(f, label, v);
				free(v);
			}
		}
		free(label);
		return;
	}
	if (!strcmp(tag, "ul") || !strcmp(tag, "ol"))
		add_list(f, n, *last_heading);
	if (tag[0] == 'h' && isdigit((unsigned char)tag[1]) && !tag[2]) {
		free(*last_heading);
		*last_heading = sky_rules__node_text(n);
	}
	/* "Label: value" in one node */
	const char *own = json_string_value(json_object_get(n, "text"));
	const char *colon = own ? strchr(own, ':') : NULL;
	if (colon && colon > own && colon - own <= 40 && colon[1]) {
		char *l = sky_rules__strndup(own, (size_t)(colon - own));
		add_kv(f, l, colon + 1);
		free(l);
	}
	/* an element holding a label and its value as two texts */
	json_t *kids = json_object_get(n, "children");
	if (own && colon && !colon[1 + strspn(colon + 1, " ")] &&
	    json_array_size(kids) >= 1) {
		char *v = sky_rules__node_text(json_array_get(kids, 0));
		char *l = sky_rules__strndup(own, (size_t)(colon - own));
		add_kv(f, l, v);
		free(l);
		free(v);
	}
	/* "<b>Total:</b> $12" and "<span>Total</span><span>$12</span>" */
	size_t nk = 0;
	json_t *a = NULL, *b = NULL;
	json_array_foreach (kids, i, c) {
		char *t = sky_rules__node_text(c);
		if (*t) {
			a = nk == 0 ? c : a;
			b = nk == 1 ? c : b;
			nk++;
		}
		free(t);
	}
	if (!own && nk == 2) {
		if (!json_array_size(json_object_get(a, "children")) &&
		    !json_object_get(a, "id") && !json_object_get(b, "id")) {
			char *l = sky_rules__node_text(a),
			     *v = sky_rules__node_text(b);
			add_kv(f, l, v);
			free(l);
			free(v);
		}
	}
	/* controls show their values under their labels */
	if (json_object_get(n, "id")) {
		const char *lab =
		    json_string_value(json_object_get(n, "label"));
		const char *val =
		    json_string_value(json_object_get(n, "value"));
		if (lab && val && *val && strcmp(val, "****"))
			add_kv(f, lab, val);
	}
	json_array_foreach (kids, i, c)
		walk(f, c, last_heading);
}

static void facts_free(facts *f)
{
	for (size_t i = 0; i < f->nkv; i++) {
		free(f->kv[i].label);
		free(f->kv[i].value);
	}
	for (size_t t = 0; t < f->nt; t++) {
		for (size_t c = 0; c < f->t[t].ncols; c++)
			free(f->t[t].head[c]);
		for (size_t r = 0; r < f->t[t].nrows; r++) {
			for (size_t c = 0; c < f->t[t].rowlen[r]; c++)
				free(f->t[t].rows[r][c]);
			free(f->t[t].rows[r]);
		}
		free(f->t[t].head);
		free(f->t[t].rows);
		free(f->t[t].rowlen);
	}
	for (size_t l = 0; l < f->nl; l++) {
		for (char **it = f->lists[l]; *it; it++)
			free(*it);
		free(f->lists[l]);
		free(f->list_head[l]);
	}
	free(f->kv);
	free(f->t);
	free(f->lists);
	free(f->list_head);
}

/* ---- schema ----------------------------------------------------------------- */

/* The schema's type ("string", ...), looking through ["x", "null"]. */
static const char *type_of(const json_t *schema)
{
	json_t *t = json_object_get(schema, "type");
	if (json_is_string(t))
		return json_string_value(t);
	if (json_is_array(t)) {
		size_t i;
		json_t *x;
		json_array_foreach (t, i, x)
			if (json_is_string(x) &&
			    strcmp(json_string_value(x), "null"))
				return json_string_value(x);
	}
	if (json_object_get(schema, "properties"))
		return "object";
	if (json_object_get(schema, "items"))
		return "array";
	return "string";
}

/* Skyvern's shorthand {"a": {"type": ...}} is an object schema. */
static json_t *normalize(const json_t *schema)
{
	if (json_is_string(schema)) {
		json_t *v = json_loads(json_string_value(schema), 0, NULL);
		json_t *n = v ? normalize(v) : json_object();
		json_decref(v);
		return n;
	}
	if (!json_is_object(schema))
		return json_object();
	if (json_object_get(schema, "type") ||
	    json_object_get(schema, "properties") ||
	    json_object_get(schema, "items"))
		return json_incref((json_t *)schema);
	return json_pack("{s:s, s:O}", "type", "object", "properties", schema);
}

/* What a property is called for matching: its name, title, description. */
static char *prop_words(const char *name, const json_t *schema)
{
	const char *title = json_string_value(json_object_get(schema, "title"));
	return sky_rules__strdup(title ? title : name ? name : "");
}

static json_t *convert(const char *text, const json_t *schema)
{
	const char *type = type_of(schema);
	const char *fmt = json_string_value(json_object_get(schema, "format"));
	double d;
	if (!text)
		return json_null();
	if (!strcmp(type, "number")) {
		if (sky_rules__parse_number(text, &d))
			return json_null();
		return json_real(d);
	}
	if (!strcmp(type, "integer")) {
		if (sky_rules__parse_number(text, &d))
			return json_null();
		return json_integer((json_int_t)llround(d));
	}
	if (!strcmp(type, "boolean")) {
		int b = sky_rules__parse_bool(text);
		return b < 0 ? json_null() : json_boolean(b);
	}
	if (!strcmp(type, "array")) {
		json_t *arr = json_array(),
		       *items = json_object_get(schema, "items");
		char *copy = sky_rules__strdup(text), *save = NULL;
		for (char *t = strtok_r(copy, ",;", &save); t;
		     t = strtok_r(NULL, ",;", &save)) {
			char *s = sky_rules__squash(t);
			if (*s)
				json_array_append_new(arr, convert(s, items));
			free(s);
		}
		free(copy);
		return arr;
	}
	if (fmt && (!strcmp(fmt, "date") || !strcmp(fmt, "date-time"))) {
		char iso[11];
		if (!sky_rules__parse_date(text, iso))
			return json_string(iso);
	}
	return json_string(text);
}

static const char *const SUCCESS_WORDS[] = {
    "success",   "successful", "succeeded", "submitted", "applied",
    "confirmed", "completed",  "received",  "sent",      "registered",
    "created",   "saved",      "placed",    "booked",    "subscribed",
    "done",      "ok",         "accepted",  NULL,
};

/* ---- extraction ---------------------------------------------------------------- */

typedef struct ex {
	const sky_rules_page *p;
	facts f;
	const char *goal;
} ex;

static json_t *extract_value(ex *x, const char *name, const json_t *schema);
static char *prop_all_words(const char *name, const json_t *schema);
static double label_fit(const char *pw, const char *line);
static json_t *line_convert(const char *text, const char *pw,
                            const json_t *schema);

static const kv *best_kv(const ex *x, const char *name)
{
	const kv *best = NULL;
	double bs = LABEL_MIN - 1e-9;
	for (size_t i = 0; i < x->f.nkv; i++) {
		double s = sky_rules__similarity(name, x->f.kv[i].label);
		if (s > bs) {
			bs = s;
			best = &x->f.kv[i];
		}
	}
	return best;
}

/* Map each property of an item schema to a column; returns how many. */
static size_t map_columns(const table *t, const json_t *props, int *col_of,
                          const char **names, size_t *nprops)
{
	const char *k;
	json_t *v;
	size_t n = 0, mapped = 0;
	int used[64] = {0};
	json_object_foreach ((json_t *)props, k, v) {
		if (n == 64)
			break;
		names[n] = k;
		col_of[n] = -1;
		char *w = prop_words(k, v);
		double bs = LABEL_MIN - 1e-9;
		for (size_t c = 0; c < t->ncols && c < 64; c++) {
			double s = sky_rules__similarity(w, t->head[c]);
			if (s > bs && !used[c]) {
				bs = s;
				col_of[n] = (int)c;
			}
		}
		if (col_of[n] >= 0) {
			used[col_of[n]] = 1;
			mapped++;
		}
		free(w);
		n++;
	}
	*nprops = n;
	return mapped;
}

static json_t *table_objects(ex *x, const json_t *items)
{
	const json_t *props = json_object_get(items, "properties");
	const table *best = NULL;
	size_t bm = 0;
	int col_of[64], bcol[64];
	const char *names[64];
	size_t nprops = 0;
	for (size_t t = 0; t < x->f.nt; t++) {
		size_t np;
		size_t m = map_columns(&x->f.t[t], props, col_of, names, &np);
		if (m > bm) {
			bm = m;
			best = &x->f.t[t];
			memcpy(bcol, col_of, sizeof col_of);
			nprops = np;
		}
	}
	/* no list on the page at all: nothing found, not an empty list */
	if (!best)
		return json_null();
	json_t *arr = json_array();
	/* "every user with the Admin role", "orders placed by Hollis Garden
	 * Supply": a column no property takes whose values the goal names
	 * for some rows only keeps those rows */
	int keep_col = -1;
	char *pg = sky_rules__plain(x->goal ? x->goal : "");
	for (size_t c = 0; c < best->ncols && c < 64 && keep_col < 0; c++) {
		int mapped = 0, named = 0, other = 0;
		for (size_t k = 0; k < nprops; k++)
			mapped |= bcol[k] == (int)c;
		if (mapped)
			continue;
		for (size_t r = 0; r < best->nrows; r++) {
			const char *cell =
			    c < best->rowlen[r] ? best->rows[r][c] : "";
			char *pc = sky_rules__plain(cell);
			if (strlen(pc) >= 3 && sky_rules__has_phrase(pg, pc))
				named++;
			else
				other++;
			free(pc);
		}
		if (named && other)
			keep_col = (int)c;
	}
	for (size_t r = 0; r < best->nrows; r++) {
		if (keep_col >= 0) {
			const char *cell = (size_t)keep_col < best->rowlen[r]
			                       ? best->rows[r][keep_col]
			                       : "";
			char *pc = sky_rules__plain(cell);
			int keep =
			    strlen(pc) >= 3 && sky_rules__has_phrase(pg, pc);
			free(pc);
			if (!keep)
				continue;
		}
		json_t *o = json_object();
		for (size_t k = 0; k < nprops; k++) {
			int c = bcol[k];
			const char *cell = c >= 0 && (size_t)c < best->rowlen[r]
			                       ? best->rows[r][c]
			                       : NULL;
			json_object_set_new(
			    o, names[k],
			    convert(cell && *cell ? cell : NULL,
			            json_object_get(props, names[k])));
		}
		json_array_append_new(arr, o);
	}
	free(pg);
	return arr;
}

static json_t *array_value(ex *x, const char *name, const json_t *schema)
{
	const json_t *items = json_object_get(schema, "items");
	if (!strcmp(type_of(items), "object"))
		return table_objects(x, items);
	/* scalars: a column named like the property, else a list */
	char *w = prop_words(name ? name : x->goal, schema);
	const kv *hit = best_kv(x, w);
	if (hit) {
		free(w);
		return convert(hit->value, schema);
	}
	json_t *arr = json_array();
	for (size_t t = 0; t < x->f.nt; t++) {
		const table *tb = &x->f.t[t];
		for (size_t c = 0; c < tb->ncols; c++) {
			if (sky_rules__similarity(w, tb->head[c]) < LABEL_MIN)
				continue;
			for (size_t r = 0; r < tb->nrows; r++)
				if (c < tb->rowlen[r])
					json_array_append_new(
					    arr,
					    convert(tb->rows[r][c], items));
			free(w);
			return arr;
		}
	}
	size_t pick = x->f.nl;
	for (size_t l = 0; l < x->f.nl && pick == x->f.nl; l++)
		if (sky_rules__similarity(w, x->f.list_head[l]) >= LABEL_MIN)
			pick = l;
	if (pick == x->f.nl && x->f.nl == 1)
		pick = 0;
	if (pick < x->f.nl)
		for (char **it = x->f.lists[pick]; *it; it++)
			json_array_append_new(arr, convert(*it, items));
	free(w);
	return arr;
}

static json_t *bool_value(ex *x, const char *w, const kv *hit)
{
	if (hit) {
		int b = sky_rules__parse_bool(hit->value);
		if (b >= 0)
			return json_boolean(b);
	}
	if (sky_rules__find_any(w, SUCCESS_WORDS)) {
		char *conf = sky_rules__page_confirmation(x->p);
		int ok = conf != NULL;
		free(conf);
		return json_boolean(ok);
	}
	/* "publicly traded?": what the page says of its ownership */
	static const char *const PUBLIC_Q[] = {"public", "publicly", "listed",
	                                       "traded", NULL};
	static const char *const PRIVATE[] = {
	    "privately held",
	    "privately owned",
	    "private company",
	    "family-owned",
	    "family owned",
	    "not publicly",
	    "not listed",
	    "no plans to sell shares",
	    NULL,
	};
	static const char *const LISTED[] = {
	    "publicly traded", "listed on",        "listed its shares",
	    "stock exchange",  "under the ticker", NULL,
	};
	if (sky_rules__find_any(w, PUBLIC_Q)) {
		if (sky_rules__find_any(x->p->text, PRIVATE))
			return json_false();
		if (sky_rules__find_any(x->p->text, LISTED))
			return json_true();
	}
	return json_null();
}

/* A single value read from a table's first row, when the goal asks for
 * the latest of a list shown newest first ("my most recent card
 * transaction": its description and amount). */
static json_t *first_row_value(ex *x, const char *name, const json_t *schema)
{
	static const char *const LATEST[] = {"most recent", "latest", "newest",
	                                     "last", NULL};
	if (!sky_rules__find_any(x->goal, LATEST))
		return NULL;
	char *pw = prop_all_words(name, schema);
	json_t *v = NULL;
	for (size_t t = 0; t < x->f.nt && !v; t++) {
		const table *tb = &x->f.t[t];
		if (!tb->nrows)
			continue;
		for (size_t c = 0; c < tb->ncols && !v; c++) {
			if (label_fit(pw, tb->head[c]) < 1.0 ||
			    c >= tb->rowlen[0])
				continue;
			const char *cell = tb->rows[0][c];
			v = line_convert(cell, pw, schema);
			if (!v && !strcmp(type_of(schema), "string"))
				v = json_string(cell);
		}
	}
	free(pw);
	return v;
}

/* The times in text ("9:00 am – 5:30 pm", "09:00-17:30", "noon") as
 * minutes after midnight; returns how many (at most max). */
static size_t times_in(const char *text, int *out, size_t max)
{
	size_t n = 0;
	for (const char *c = text; *c && n < max; c++) {
		if (!isdigit((unsigned char)*c) ||
		    (c > text &&
		     (isdigit((unsigned char)c[-1]) || c[-1] == ':')))
			continue;
		char *end;
		long h = strtol(c, &end, 10), m = 0;
		int has_min = 0;
		if (*end == ':' ||
		    (*end == '.' && isdigit((unsigned char)end[1]) &&
		     isdigit((unsigned char)end[2]) &&
		     !isdigit((unsigned char)end[3]))) {
			m = strtol(end + 1, &end, 10);
			has_min = 1;
		}
		const char *q = end;
		while (*q == ' ')
			q++;
		int pm = -1;
		if ((q[0] == 'a' || q[0] == 'A' || q[0] == 'p' ||
		     q[0] == 'P') &&
		    (q[1] == 'm' || q[1] == 'M' || q[1] == '.'))
			pm = q[0] == 'p' || q[0] == 'P';
		if ((!has_min && pm < 0) || h > 24 || m > 59) {
			c = end - 1;
			continue;
		}
		if (pm == 1 && h < 12)
			h += 12;
		if (pm == 0 && h == 12)
			h = 0;
		out[n++] = (int)(h * 60 + m);
		c = end - 1;
	}
	return n;
}

/* A property asking for a time ("24-hour time, HH:MM", "opens"): the
 * first or second time of a range, as HH:MM; NULL when not a time. */
static json_t *time_value(const char *name, const json_t *schema,
                          const char *text)
{
	const char *desc =
	    json_string_value(json_object_get(schema, "description"));
	char *pn = sky_rules__plain(name ? name : "");
	int wants =
	    (desc && (strstr(desc, "HH:MM") || strcasestr(desc, "time"))) ||
	    strstr(pn, "time") || strstr(pn, "open") || strstr(pn, "close");
	int second = strstr(pn, "close") || strstr(pn, "end") ||
	             strstr(pn, "until") || strstr(pn, "to ");
	free(pn);
	if (!wants || !text)
		return NULL;
	int t[4];
	size_t n = times_in(text, t, 4);
	if (!n)
		return NULL;
	int v = second && n >= 2 ? t[1] : t[0];
	char buf[8];
	snprintf(buf, sizeof buf, "%02d:%02d", (v / 60) % 24, v % 60);
	return json_string(buf);
}

/* ---- people by their role: "Who is the CFO, and what's her email?" ---- */

static const struct {
	const char *abbr, *title;
} ROLES[] = {
    {"ceo", "chief executive officer"},  {"cfo", "chief financial officer"},
    {"cto", "chief technology officer"}, {"coo", "chief operating officer"},
    {"cmo", "chief marketing officer"},  {"cio", "chief information officer"},
    {"cso", "chief science officer"},
};

/* The name of the person whose role line the goal asks about (the line
 * just before "Chief Financial Officer" on a leadership page); malloc'd
 * or NULL. */
static char *person_by_role(const ex *x)
{
	if (!x->p->lines)
		return NULL;
	char *pg = sky_rules__plain(x->goal ? x->goal : "");
	const char *title = NULL;
	for (size_t i = 0; i < sizeof ROLES / sizeof ROLES[0] && !title; i++)
		if (sky_rules__has_phrase(pg, ROLES[i].abbr) ||
		    sky_rules__has_phrase(pg, ROLES[i].title))
			title = ROLES[i].title;
	free(pg);
	if (!title)
		return NULL;
	char *copy = sky_rules__strdup(x->p->lines), *save = NULL, *prev = NULL;
	char *who = NULL;
	for (char *t = strtok_r(copy, "\n", &save); t && !who;
	     t = strtok_r(NULL, "\n", &save)) {
		char *sq = sky_rules__squash(t);
		if (!*sq) {
			free(sq);
			continue;
		}
		char *pl = sky_rules__plain(sq);
		/* the role itself, not "Co-founder & Chief ..." of another one:
		 * the whole line is the title */
		const char *at = strstr(pl, title);
		int is_role = at && strlen(pl) <= strlen(title) + 20;
		free(pl);
		if (is_role && prev && strlen(prev) <= 40 &&
		    strchr(prev, ' ') && isupper((unsigned char)prev[0]))
			who = sky_rules__strdup(prev);
		free(prev);
		prev = sq;
	}
	free(prev);
	free(copy);
	return who;
}

/* The e-mail of a person: the mailto link that names them. */
static json_t *email_of(const ex *x, const char *who)
{
	char first[64];
	snprintf(first, sizeof first, "%s", who);
	char *sp = strchr(first, ' ');
	if (sp)
		*sp = '\0';
	for (size_t i = 0; i < x->p->nels; i++) {
		const sky_rules_el *e = &x->p->els[i];
		if (!e->href || strncasecmp(e->href, "mailto:", 7))
			continue;
		char *addr = sky_rules__strdup(e->href + 7);
		char *q = strchr(addr, '?');
		if (q)
			*q = '\0';
		if (strcasestr(addr, first) || strcasestr(e->text, first)) {
			json_t *v = json_string(addr);
			free(addr);
			return v;
		}
		free(addr);
	}
	return NULL;
}

static json_t *role_value(ex *x, const char *name, const json_t *schema)
{
	if (strcmp(type_of(schema), "string") || !name)
		return NULL;
	char *nw = sky_rules__words(name);
	int is_name = !strcmp(nw, "name") || strstr(nw, "name") != NULL;
	int is_email = strstr(nw, "email") != NULL;
	free(nw);
	if (!is_name && !is_email)
		return NULL;
	char *who = person_by_role(x);
	if (!who)
		return NULL;
	json_t *v = is_email ? email_of(x, who) : json_string(who);
	free(who);
	return v;
}

/* ---- reading the page's lines like a person: "Label" then its value --- */

/* Words of a property and its description ("balance" + "available balance
 * in dollars"), space-padded for whole-word tests. */
static char *prop_all_words(const char *name, const json_t *schema)
{
	const char *desc =
	    json_string_value(json_object_get(schema, "description"));
	const char *title = json_string_value(json_object_get(schema, "title"));
	char *raw = sky_rules__printf("%s %s %s", name ? name : "",
	                              title ? title : "", desc ? desc : "");
	char *w = sky_rules__words(raw);
	char *pad = sky_rules__printf(" %s ", w);
	free(raw);
	free(w);
	return pad;
}

/* Share of a line's content words that are words of the property. */
static double label_fit(const char *pw, const char *line)
{
	char *w = sky_rules__words(line), *save = NULL;
	int n = 0, hit = 0;
	for (char *t = strtok_r(w, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		char *pad = sky_rules__printf(" %s ", t);
		n++;
		hit += strstr(pw, pad) != NULL;
		free(pad);
	}
	free(w);
	return n ? (double)hit / n : 0;
}

/* How many of the property's words a text says. */
static int words_shared(const char *pw, const char *text)
{
	char *w = sky_rules__words(text), *save = NULL;
	int hit = 0;
	for (char *t = strtok_r(w, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		char *pad = sky_rules__printf(" %s ", t);
		hit += strstr(pw, pad) != NULL;
		free(pad);
	}
	free(w);
	return hit;
}

/* The number in text the property means: a money amount with its
 * multiplier ("$48M"), else the number followed by the most property
 * words ("30 hours with ANC on (38 hours off)"). 0 or -1. */
static int number_in(const char *text, const char *pw, double *out)
{
	int best_sc = -1;
	for (const char *c = text; *c; c++) {
		if (!isdigit((unsigned char)*c) ||
		    (c > text && (isdigit((unsigned char)c[-1]) ||
		                  c[-1] == '.' || c[-1] == ',')))
			continue;
		/* the numeric run */
		const char *e = c;
		while (
		    isdigit((unsigned char)*e) ||
		    ((*e == '.' || *e == ',') && isdigit((unsigned char)e[1])))
			e++;
		char *num = sky_rules__strndup(c, (size_t)(e - c));
		double v;
		if (sky_rules__parse_number(num, &v)) {
			free(num);
			continue;
		}
		free(num);
		int money = c > text && strchr("$\xa3", c[-1]);
		if (c > text + 1 && (unsigned char)c[-1] >= 0x80)
			money = 1; /* €, £ */
		const char *q = e;
		while (*q == ' ')
			q++;
		double mult = 1;
		if ((*q == 'k' || *q == 'K') && !isalpha((unsigned char)q[1]))
			mult = 1e3;
		else if ((*q == 'M' || *q == 'm') &&
		         !isalpha((unsigned char)q[1]) && money)
			mult = 1e6;
		else if (!strncasecmp(q, "million", 7))
			mult = 1e6;
		else if (!strncasecmp(q, "bn", 2) ||
		         !strncasecmp(q, "billion", 7) ||
		         ((*q == 'B') && !isalpha((unsigned char)q[1])))
			mult = 1e9;
		/* the words after it, up to the next number or bracket */
		const char *w = q;
		while (*w && !isdigit((unsigned char)*w) && *w != '(' &&
		       w - q < 40)
			w++;
		char *after = sky_rules__strndup(q, (size_t)(w - q));
		int sc = words_shared(pw, after) * 2 + money;
		free(after);
		/* a minus before the number or its currency sign */
		const char *m = c;
		while (m > text &&
		       (strchr("$", m[-1]) || (unsigned char)m[-1] >= 0x80))
			m--;
		if (m > text && m[-1] == '-')
			v = -v;
		if (sc > best_sc) {
			best_sc = sc;
			*out = v * mult;
		}
		c = e - 1;
	}
	return best_sc >= 0 ? 0 : -1;
}

/* A string value: the part of "Series C · $48M" the property asks for
 * (the segment sharing a word with its description), else the whole. */
static json_t *string_in(const char *text, const json_t *schema)
{
	const char *desc =
	    json_string_value(json_object_get(schema, "description"));
	if (!desc)
		return json_string(text);
	char *dw = sky_rules__printf(" %s ", desc);
	char *dwords = sky_rules__words(dw);
	char *pad = sky_rules__printf(" %s ", dwords);
	char *copy = sky_rules__strdup(text), *save = NULL;
	json_t *v = NULL;
	for (char *seg = strtok_r(copy, "\xc2\xb7|;", &save); seg && !v;
	     seg = strtok_r(NULL, "\xc2\xb7|;", &save)) {
		char *sq = sky_rules__squash(seg);
		if (*sq && words_shared(pad, sq))
			v = json_string(sq);
		free(sq);
	}
	free(copy);
	free(pad);
	free(dwords);
	free(dw);
	return v ? v : json_string(text);
}

static json_t *line_convert(const char *text, const char *pw,
                            const json_t *schema)
{
	const char *type = type_of(schema);
	const char *fmt = json_string_value(json_object_get(schema, "format"));
	double d;
	if (!strcmp(type, "number") || !strcmp(type, "integer")) {
		if (number_in(text, pw, &d))
			return NULL;
		return !strcmp(type, "integer")
		           ? json_integer((json_int_t)llround(d))
		           : json_real(d);
	}
	if (!strcmp(type, "string")) {
		if (fmt && !strcmp(fmt, "date")) {
			/* the longest run of words that reads as a date */
			char *w = sky_rules__strdup(text);
			json_t *v = NULL;
			for (char *c = w; *c && !v; c++) {
				if (c != w && c[-1] != ' ')
					continue;
				for (size_t len = strlen(c); len >= 6 && !v;
				     len--) {
					char iso[11];
					char *t = sky_rules__strndup(c, len);
					if (!sky_rules__parse_date(t, iso))
						v = json_string(iso);
					free(t);
				}
			}
			free(w);
			return v;
		}
		return string_in(text, schema);
	}
	return NULL;
}

/* One sentence of prose that answers a property: a year next to the
 * word it is about ("founded"), the capitalised name that holds the
 * property's words ("Oslo Stock Exchange"), or the code in capitals
 * right after its word ("ticker HMAR"). */
static json_t *prose_value(const char *line, const char *pw, const char *name,
                           const json_t *schema)
{
	const char *type = type_of(schema);
	if (strlen(line) < 60)
		return NULL; /* prose, not labels */
	char *copy = sky_rules__strdup(line), *save = NULL;
	json_t *v = NULL;
	char *pn = sky_rules__words(name ? name : "");
	for (char *sent = strtok_r(copy, ".;", &save); sent && !v;
	     sent = strtok_r(NULL, ".;", &save)) {
		/* the property's own words ("found" of founded_year) */
		char *sw = sky_rules__words(sent);
		char *pad = sky_rules__printf(" %s ", sw);
		char *nw = sky_rules__strdup(pn), *s2 = NULL;
		int about = 0;
		for (char *t = strtok_r(nw, " ", &s2); t;
		     t = strtok_r(NULL, " ", &s2)) {
			char *tp = sky_rules__printf(" %s", t);
			if (strlen(t) >= 4 && strcmp(t, "year") &&
			    strstr(pad, tp))
				about++;
			free(tp);
		}
		free(nw);
		if (about && !strcmp(type, "integer") && strstr(pn, "year")) {
			for (const char *c = sent; *c && !v; c++)
				if (isdigit((unsigned char)c[0]) &&
				    isdigit((unsigned char)c[1]) &&
				    isdigit((unsigned char)c[2]) &&
				    isdigit((unsigned char)c[3]) &&
				    !isdigit((unsigned char)c[4]) &&
				    (c == sent ||
				     !isalnum((unsigned char)c[-1])))
					v = json_integer(atoi(c));
		} else if (about && !strcmp(type, "string")) {
			/* capitals right after the word: "ticker HMAR" */
			char *w = sky_rules__strdup(sent), *s3 = NULL,
			     *prev = NULL;
			for (char *t = strtok_r(w, " ,()", &s3); t && !v;
			     t = strtok_r(NULL, " ,()", &s3)) {
				size_t tl = strlen(t);
				int caps = tl >= 2 && tl <= 6;
				for (size_t k = 0; k < tl && caps; k++)
					caps = isupper((unsigned char)t[k]) ||
					       isdigit((unsigned char)t[k]);
				if (caps && prev && label_fit(pw, prev) > 0)
					v = json_string(t);
				prev = t;
			}
			free(w);
			/* a capitalised run that holds the property's words */
			const char *c = sent;
			while (*c && !v) {
				while (*c && !isupper((unsigned char)*c))
					c++;
				const char *a = c, *e = c;
				while (*e) {
					const char *we = e;
					while (*we && *we != ' ')
						we++;
					if (!isupper((unsigned char)*e))
						break;
					e = we;
					if (*e == ' ' &&
					    isupper((unsigned char)e[1]))
						e++;
					else
						break;
				}
				if (e > a) {
					char *run = sky_rules__strndup(
					    a, (size_t)(e - a));
					if (strchr(run, ' ') &&
					    words_shared(pw, run) >= 2)
						v = json_string(run);
					free(run);
				}
				c = *e ? e + 1 : e;
			}
		}
		free(sw);
		free(pad);
	}
	free(pn);
	free(copy);
	return v;
}

/*
 * The property read off the page's lines: a short label line that names
 * it ("Available balance", "Weight", "Founded") and the line after it, or
 * a line that says the property's words with a value ("$15 per user /
 * month if billed monthly"). Among several, the one under a line the goal
 * names ("High-Yield Savings", "Team") wins.
 */
static json_t *line_value(ex *x, const char *name, const json_t *schema)
{
	if (!x->p->lines)
		return NULL;
	const char *type = type_of(schema);
	if (strcmp(type, "number") && strcmp(type, "integer") &&
	    strcmp(type, "string"))
		return NULL;
	char *copy = sky_rules__strdup(x->p->lines), *save = NULL;
	char *ls[2048];
	size_t n = 0;
	for (char *t = strtok_r(copy, "\n", &save); t && n < 2048;
	     t = strtok_r(NULL, "\n", &save)) {
		char *sq = sky_rules__squash(t);
		if (*sq)
			ls[n++] = sq;
		else
			free(sq);
	}
	free(copy);
	char *pw = prop_all_words(name, schema);
	char *pg = sky_rules__plain(x->goal ? x->goal : "");
	json_t *best = NULL;
	long best_sc = -1;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(ls[i]);
		int label = len <= 40 && !strpbrk(ls[i], "0123456789$") &&
		            label_fit(pw, ls[i]) >= 0.5;
		/* values: the next few lines after a label, or this line */
		for (size_t k = label ? i + 1 : i;
		     k < n && k <= i + (label ? 3 : 0); k++) {
			if (!label && (!strpbrk(ls[k], "0123456789") ||
			               words_shared(pw, ls[k]) < 2 ||
			               !strcmp(type, "string")))
				continue;
			/* a value is short; a paragraph is prose to read, not
			 * a value to copy */
			if (!strcmp(type, "string") && strlen(ls[k]) > 80)
				continue;
			json_t *v = line_convert(ls[k], pw, schema);
			if (!v)
				continue;
			/* the nearest line before it that the goal names */
			long anchor = 0;
			for (size_t a = i; a > 0 && i - a < 12; a--) {
				const char *al = ls[a - 1];
				char *pa = sky_rules__plain(al);
				int named = strlen(pa) >= 3 &&
				            strlen(al) <= 40 &&
				            sky_rules__has_phrase(pg, pa) &&
				            label_fit(pw, al) < 1.0;
				free(pa);
				if (named) {
					anchor = 100 - (long)(i - a);
					break;
				}
			}
			long sc = anchor * 1000 + (label ? 200 : 0) +
			          words_shared(pw, ls[k]) * 10 - (long)(k - i);
			if (sc > best_sc) {
				json_decref(best);
				best = v;
				best_sc = sc;
			} else {
				json_decref(v);
			}
			if (label && strcmp(type, "string"))
				; /* numbers: the best line of the window */
			else if (label)
				break; /* strings: the line right after */
		}
	}
	/* no label: the price under the line that names the goal's item
	 * ("Ember 1.7 L Electric Kettle" then "$64.99 $79.99": the first
	 * amount is the current one) */
	for (size_t i = 0; i < n && !best && strcmp(type, "string"); i++) {
		char *pa = sky_rules__plain(ls[i]);
		int named = strlen(pa) >= 8 && strlen(ls[i]) <= 80 &&
		            strchr(pa, ' ') && sky_rules__has_phrase(pg, pa);
		free(pa);
		for (size_t k = i + 1; named && k < n && k <= i + 2 && !best;
		     k++)
			if (strpbrk(ls[k], "$\xa3\xe2") &&
			    strpbrk(ls[k], "0123456789")) {
				double d;
				if (!number_in(ls[k], pw, &d))
					best = !strcmp(type, "integer")
					           ? json_integer(
					                 (json_int_t)llround(d))
					           : json_real(d);
			}
	}
	/* prose: "In 1962 the brothers ... founded Halvorsen Marine",
	 * "listed its shares on the Oslo Stock Exchange ... under the
	 * ticker HMAR" */
	for (size_t i = 0; i < n && !best; i++)
		best = prose_value(ls[i], pw, name, schema);
	for (size_t i = 0; i < n; i++)
		free(ls[i]);
	free(pw);
	free(pg);
	return best;
}

static json_t *extract_value(ex *x, const char *name, const json_t *schema)
{
	const char *type = type_of(schema);
	if (!strcmp(type, "object")) {
		json_t *o = json_object();
		const char *k;
		json_t *v;
		json_object_foreach (json_object_get(schema, "properties"), k,
		                     v)
			json_object_set_new(o, k, extract_value(x, k, v));
		return o;
	}
	if (!strcmp(type, "array"))
		return array_value(x, name, schema);
	char *w = prop_words(name ? name : x->goal, schema);
	const kv *hit = best_kv(x, w);
	json_t *v = NULL;
	if (hit && !strcmp(type, "string"))
		v = time_value(name, schema, hit->value);
	if (!v)
		v = !strcmp(type, "boolean") ? bool_value(x, w, hit)
		    : hit                    ? convert(hit->value, schema)
		                             : json_null();
	if (json_is_null(v)) {
		json_t *lv = first_row_value(x, name, schema);
		if (!lv)
			lv = role_value(x, name, schema);
		if (!lv)
			lv = line_value(x, name, schema);
		if (lv) {
			json_decref(v);
			v = lv;
		}
	}
	/* a reference, number or code: the code itself, not the sentence
	 * around it ("Quote reference LM-Q-604417, valid for 30 days."); a
	 * code in several groups ("PW 8841 2290 5513") stays whole */
	if (json_is_string(v) && name) {
		char *nw = sky_rules__words(name);
		static const char *const CODE[] = {
		    "reference", "number",   "id",           "code",
		    "ref",       "tracking", "confirmation", NULL};
		int code = sky_rules__find_any(nw, CODE) != NULL;
		free(nw);
		const char *t = json_string_value(v);
		const char *run = NULL, *run_end = NULL;
		int digit = 0;
		for (const char *c = t; code && *c;) {
			while (*c == ' ' || *c == ',' || *c == ';' ||
			       *c == '(' || *c == ')')
				c++;
			const char *word = c;
			int ok = 1, d = 0;
			while (*c && *c != ' ' && *c != ',' && *c != ';' &&
			       *c != ')') {
				ok &= isupper((unsigned char)*c) ||
				      isdigit((unsigned char)*c) || *c == '-' ||
				      *c == '/' || *c == '#';
				d |= isdigit((unsigned char)*c);
				c++;
			}
			if (c == word)
				break;
			if (ok && (c - word >= 2 || d)) {
				if (!run)
					run = word, digit = 0;
				run_end = c;
				digit |= d;
			} else if (run && digit) {
				break;
			} else {
				run = NULL;
			}
		}
		if (run && digit && (run != t || *run_end)) {
			json_t *nv = json_stringn(run, (size_t)(run_end - run));
			json_decref(v);
			v = nv;
		}
	}
	free(w);
	return v;
}

json_t *sky_rules__extract(const sky_rules_page *p, const json_t *schema,
                           const char *goal)
{
	ex x = {0};
	char *heading = NULL;
	size_t i;
	json_t *c;
	x.p = p;
	x.goal = goal ? goal : "";
	if (p->snapshot) {
		json_array_foreach (json_object_get(p->snapshot, "elements"), i,
		                    c)
			walk(&x.f, c, &heading);
	}
	free(heading);
	json_t *out;
	if (!schema || json_is_null(schema)) {
		/* no schema: every labelled value, and the first table */
		out = json_object();
		for (size_t k = 0; k < x.f.nkv; k++)
			if (!json_object_get(out, x.f.kv[k].label))
				json_object_set_new(
				    out, x.f.kv[k].label,
				    json_string(x.f.kv[k].value));
	} else {
		json_t *s = normalize(schema);
		out = extract_value(&x, NULL, s);
		json_decref(s);
	}
	facts_free(&x.f);
	return out;
}

/* Scalars the schema asks for that v leaves null, nullable ones ("null
 * when not listed", a type list with "null") apart. */
static int missing_scalars(const json_t *v, const json_t *schema)
{
	json_t *type = json_object_get(schema, "type");
	const char *desc =
	    json_string_value(json_object_get(schema, "description"));
	size_t i;
	json_t *t;
	json_array_foreach (type, i, t)
		if (json_string_value(t) &&
		    !strcmp(json_string_value(t), "null"))
			return 0;
	if (desc && strcasestr(desc, "null"))
		return 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		int n = 0;
		json_t *props = json_object_get(schema, "properties");
		json_object_foreach ((json_t *)v, k, x)
			n += missing_scalars(x, json_object_get(props, k));
		return n;
	}
	if (json_is_array(v))
		return 0;
	return !v || json_is_null(v);
}

char *sky_rules__answer_extract(const json_t *ctx)
{
	sky_rules_page p;
	const json_t *schema = json_object_get(ctx, "data_extraction_schema");
	if (!schema)
		schema = json_object_get(ctx, "schema");
	const char *goal =
	    json_string_value(json_object_get(ctx, "data_extraction_goal"));
	if (!goal)
		goal = json_string_value(json_object_get(ctx, "goal"));
	/* the run's goal says which rows are wanted ("every Admin"); the
	 * extraction goal may be a generic sentence */
	const char *run_goal = json_string_value(json_object_get(ctx, "goal"));
	char *both = sky_rules__printf("%s %s", run_goal ? run_goal : "",
	                               goal && goal != run_goal ? goal : "");
	goal = both;
	sky_rules__page_build(ctx, &p);
	json_t *v = sky_rules__extract(&p, schema, goal);
	/* a list read page by page: the rows of the pages before this one
	 * (the previous extraction) come first */
	json_t *prev = json_object_get(ctx, "previous_output");
	if (json_is_object(v) && json_is_object(prev)) {
		const char *k;
		json_t *item;
		json_object_foreach (v, k, item) {
			json_t *old = json_object_get(prev, k);
			if (!json_is_array(item) || !json_is_array(old))
				continue;
			json_t *merged = json_array();
			size_t i;
			json_t *x;
			json_array_extend(merged, old);
			json_array_foreach (item, i, x) {
				size_t j;
				json_t *y;
				int dup = 0;
				json_array_foreach (old, j, y)
					dup |= json_equal(x, y);
				if (!dup)
					json_array_append(merged, x);
			}
			json_object_set_new(v, k, merged);
		}
	}
	/* half an answer is not the answer: when at least as many values
	 * the schema asks for are missing as were found, nothing is claimed
	 * (the engine then reports what was not found instead of completing
	 * with a guess) */
	size_t found = 0;
	{
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x)
			found += !json_is_null(x) && !json_is_array(x);
	}
	if (json_is_object(v) && json_is_object(schema) &&
	    missing_scalars(v, schema) >= (int)(found ? found : 1)) {
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x)
			if (!json_is_array(x))
				json_object_set_new(v, k, json_null());
	}
	char *text = sky_rules__dump(v);
	json_decref(v);
	sky_rules__page_free(&p);
	free(both);
	return text;
}
