/* A forgiving JSON reader for language-model answers: builds jansson values
 * directly, repairing the defects models actually produce (see lenient.h). */
#include "planner/lenient.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"
#include <skyx/str.h>

#define LP_MAX_DEPTH 64
#define LP_EXCERPT 160

struct lp {
	const unsigned char *s;
	size_t n;
	size_t i;
	unsigned int repairs;
	int depth;
	int mark;
	unsigned int garbled_members; /* members skipped by read_object */
};

enum qkind { Q_NONE, Q_DOUBLE, Q_SINGLE, Q_SMART_DOUBLE, Q_SMART_SINGLE };

static int lp_eof(const struct lp *p)
{
	return p->i >= p->n;
}

static int lp_peek(const struct lp *p)
{
	return p->i < p->n ? p->s[p->i] : -1;
}

/* A quote starting at offset i: its kind and byte length. */
static enum qkind quote_at(const struct lp *p, size_t i, size_t *len)
{
	if (i >= p->n)
		return Q_NONE;
	unsigned char c = p->s[i];
	*len = 1;
	if (c == '"')
		return Q_DOUBLE;
	if (c == '\'')
		return Q_SINGLE;
	if (c == 0xE2 && i + 2 < p->n && p->s[i + 1] == 0x80) {
		*len = 3;
		switch (p->s[i + 2]) {
		case 0x9C: /* left double */
		case 0x9D: /* right double */
			return Q_SMART_DOUBLE;
		case 0x98: /* left single */
		case 0x99: /* right single */
			return Q_SMART_SINGLE;
		}
	}
	return Q_NONE;
}

static void skip_ws(struct lp *p)
{
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			p->i++;
		} else if (c == 0xC2 && p->i + 1 < p->n &&
		           p->s[p->i + 1] == 0xA0) {
			p->i += 2; /* no-break space */
		} else if (c == '/' && p->i + 1 < p->n &&
		           p->s[p->i + 1] == '/') {
			p->repairs |= SKY_PLANNER_REPAIR_COMMENTS;
			while (p->i < p->n && p->s[p->i] != '\n')
				p->i++;
		} else if (c == '#') {
			p->repairs |= SKY_PLANNER_REPAIR_COMMENTS;
			while (p->i < p->n && p->s[p->i] != '\n')
				p->i++;
		} else if (c == '/' && p->i + 1 < p->n &&
		           p->s[p->i + 1] == '*') {
			p->repairs |= SKY_PLANNER_REPAIR_COMMENTS;
			const unsigned char *e = NULL;
			for (size_t j = p->i + 2; j + 1 < p->n; j++) {
				if (p->s[j] == '*' && p->s[j + 1] == '/') {
					e = p->s + j;
					break;
				}
			}
			p->i = e ? (size_t)(e - p->s) + 2 : p->n;
		} else {
			break;
		}
	}
}

/* Append `len` bytes, replacing invalid UTF-8 with U+FFFD and dropping
 * NULs (they would cut C strings short further on). */
static void put_utf8(struct lp *p, skyx_buf *b, const unsigned char *s,
                     size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t l = c < 0x80             ? 1
		           : (c & 0xE0) == 0xC0 ? 2
		           : (c & 0xF0) == 0xE0 ? 3
		           : (c & 0xF8) == 0xF0 ? 4
		                                : 0;
		if (c == 0) {
			i++;
			continue;
		}
		if (l && i + l <= len &&
		    skyx_utf8_valid((const char *)s + i, l)) {
			skyx_buf_append(b, (const char *)s + i, l);
			i += l;
			continue;
		}
		p->repairs |= SKY_PLANNER_REPAIR_UTF8;
		skyx_buf_append(b, "\xEF\xBF\xBD", 3);
		i++;
	}
}

static void put_codepoint(skyx_buf *b, unsigned long cp)
{
	char o[4];
	if (cp < 0x80) {
		if (cp)
			skyx_buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		skyx_buf_append(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		skyx_buf_append(b, o, 3);
	} else {
		o[0] = (char)(0xF0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (char)(0x80 | (cp & 0x3F));
		skyx_buf_append(b, o, 4);
	}
}

static int hex4(const unsigned char *s, unsigned long *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++) {
		int c = s[k];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* Read an escape after the backslash at p->i - 1. */
static void read_escape(struct lp *p, skyx_buf *b)
{
	if (lp_eof(p))
		return;
	unsigned char c = p->s[p->i++];
	switch (c) {
	case 'n':
		skyx_buf_putc(b, '\n');
		return;
	case 't':
		skyx_buf_putc(b, '\t');
		return;
	case 'r':
		skyx_buf_putc(b, '\r');
		return;
	case 'b':
		skyx_buf_putc(b, '\b');
		return;
	case 'f':
		skyx_buf_putc(b, '\f');
		return;
	case '"':
	case '\\':
	case '/':
		skyx_buf_putc(b, (char)c);
		return;
	case 'u': {
		unsigned long cp, lo;
		if (p->i + 4 > p->n || hex4(p->s + p->i, &cp)) {
			p->repairs |= SKY_PLANNER_REPAIR_STRING_ESCAPES;
			skyx_buf_append(b, "\\u", 2);
			return;
		}
		p->i += 4;
		if (cp >= 0xD800 && cp < 0xDC00 && p->i + 6 <= p->n &&
		    p->s[p->i] == '\\' && p->s[p->i + 1] == 'u' &&
		    !hex4(p->s + p->i + 2, &lo) && lo >= 0xDC00 &&
		    lo < 0xE000) {
			p->i += 6;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		} else if (cp >= 0xD800 && cp < 0xE000) {
			p->repairs |= SKY_PLANNER_REPAIR_STRING_ESCAPES;
			cp = 0xFFFD;
		}
		put_codepoint(b, cp);
		return;
	}
	default:
		/* \' and friends: keep the character. */
		p->repairs |= SKY_PLANNER_REPAIR_STRING_ESCAPES;
		put_utf8(p, b, &c, 1);
	}
}

/* Whether a quote ending at `after` really closes the string: for
 * double-quoted strings unless a word follows (an unescaped quote inside
 * prose), for single and smart quotes only when JSON structure follows
 * (so apostrophes stay inside). */
static int closes_here(const struct lp *p, size_t after, enum qkind k)
{
	size_t j = after;
	while (j < p->n && (p->s[j] == ' ' || p->s[j] == '\t'))
		j++;
	if (j >= p->n)
		return 1;
	unsigned char c = p->s[j];
	if (k == Q_DOUBLE)
		return !(isalnum(c) || c >= 0x80);
	return c == ',' || c == ':' || c == '}' || c == ']' || c == '\n' ||
	       c == '\r' || c == '/' || c == '#';
}

/* Read a quoted string at p->i. *trunc set when the text ends inside it. */
static json_t *read_string(struct lp *p, int *trunc)
{
	size_t ql;
	enum qkind k = quote_at(p, p->i, &ql);
	skyx_buf b = {0};
	if (k == Q_SINGLE)
		p->repairs |= SKY_PLANNER_REPAIR_SINGLE_QUOTES;
	else if (k == Q_SMART_DOUBLE || k == Q_SMART_SINGLE)
		p->repairs |= SKY_PLANNER_REPAIR_SMART_QUOTES;
	p->i += ql;
	for (;;) {
		if (lp_eof(p)) {
			*trunc = 1;
			p->repairs |= SKY_PLANNER_REPAIR_TRUNCATED;
			break;
		}
		unsigned char c = p->s[p->i];
		if (c == '\\') {
			p->i++;
			read_escape(p, &b);
			continue;
		}
		size_t cl;
		enum qkind ck = quote_at(p, p->i, &cl);
		int closer = ck == k ||
		             (k == Q_SMART_DOUBLE && ck == Q_DOUBLE) ||
		             (k == Q_SMART_SINGLE && ck == Q_SINGLE);
		if (closer && closes_here(p, p->i + cl, k)) {
			p->i += cl;
			break;
		}
		if (closer)
			p->repairs |= SKY_PLANNER_REPAIR_STRING_ESCAPES;
		if (c == '\n' || c == '\r' || c == '\t')
			p->repairs |= SKY_PLANNER_REPAIR_STRING_ESCAPES;
		/* Whole characters: put_utf8 judges a sequence at once. */
		size_t run = closer     ? cl
		             : c < 0xC0 ? 1
		             : c < 0xE0 ? 2
		             : c < 0xF0 ? 3
		                        : 4;
		if (p->i + run > p->n)
			run = p->n - p->i;
		put_utf8(p, &b, p->s + p->i, run);
		p->i += run;
	}
	json_t *v = json_stringn(b.data ? b.data : "", b.len);
	skyx_buf_free(&b);
	return v;
}

static int ident_start(int c)
{
	return isalpha(c) || c == '_' || c == '$';
}

static int ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '$' || c == '-' || c == '.';
}

static json_t *literal(struct lp *p, const char *w, size_t n)
{
	static const struct {
		const char *w;
		int kind; /* 0 null, 1 true, 2 false */
		int python;
	} lits[] = {
	    {"true", 1, 0},      {"false", 2, 0}, {"null", 0, 0},
	    {"True", 1, 1},      {"False", 2, 1}, {"None", 0, 1},
	    {"TRUE", 1, 1},      {"FALSE", 2, 1}, {"NULL", 0, 1},
	    {"undefined", 0, 1}, {"NaN", 0, 1},   {"Infinity", 0, 1},
	};
	for (size_t k = 0; k < sizeof lits / sizeof lits[0]; k++) {
		if (strlen(lits[k].w) != n || strncmp(lits[k].w, w, n))
			continue;
		if (lits[k].python)
			p->repairs |= SKY_PLANNER_REPAIR_PYTHON;
		return lits[k].kind == 1   ? json_true()
		       : lits[k].kind == 2 ? json_false()
		                           : json_null();
	}
	return NULL;
}

/* A bare word in value position: a literal, or an unquoted string that
 * runs to the next structural character. */
static json_t *read_bare(struct lp *p, int *trunc)
{
	size_t s0 = p->i;
	while (p->i < p->n && ident_char(p->s[p->i]))
		p->i++;
	if (p->i >= p->n) {
		*trunc = 1;
		p->repairs |= SKY_PLANNER_REPAIR_TRUNCATED;
		return json_null();
	}
	json_t *lit = literal(p, (const char *)p->s + s0, p->i - s0);
	if (lit)
		return lit;
	while (p->i < p->n && !strchr(",}]\n\r", p->s[p->i]))
		p->i++;
	if (p->i >= p->n) {
		*trunc = 1;
		p->repairs |= SKY_PLANNER_REPAIR_TRUNCATED;
	}
	size_t e = p->i;
	while (e > s0 && isspace(p->s[e - 1]))
		e--;
	p->repairs |= SKY_PLANNER_REPAIR_BARE_WORDS;
	skyx_buf b = {0};
	put_utf8(p, &b, p->s + s0, e - s0);
	json_t *v = json_stringn(b.data ? b.data : "", b.len);
	skyx_buf_free(&b);
	return v;
}

static json_t *read_number(struct lp *p, int *trunc)
{
	size_t s0 = p->i;
	while (p->i < p->n && strchr("0123456789+-.eE", p->s[p->i]))
		p->i++;
	if (p->i >= p->n) {
		*trunc = 1; /* "0." at the end may have been "0.95" */
		p->repairs |= SKY_PLANNER_REPAIR_TRUNCATED;
		return json_null();
	}
	char tok[64];
	size_t len = p->i - s0;
	if (len == 0 || len >= sizeof tok)
		return NULL;
	memcpy(tok, p->s + s0, len);
	tok[len] = '\0';
	const char *t = tok[0] == '+' ? tok + 1 : tok;
	char *end;
	if (!strpbrk(t, ".eE")) {
		errno = 0;
		long long v = strtoll(t, &end, 10);
		if (!*end && end != t && !errno)
			return json_integer(v);
	}
	errno = 0;
	double d = strtod(t, &end);
	if (*end || end == t || errno)
		return NULL;
	return json_real(d);
}

/* Skip an unreadable item up to the comma or closer at its own level.
 * Returns 0 when one was found (not consumed), -1 at the end of text. */
static int skip_item(struct lp *p, char closer)
{
	int depth = 0, in_str = 0;
	for (; p->i < p->n; p->i++) {
		unsigned char c = p->s[p->i];
		if (in_str) {
			if (c == '\\' && p->i + 1 < p->n)
				p->i++; /* a last backslash stays in range */
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && depth)
			depth--;
		else if (!depth && (c == ',' || c == (unsigned char)closer ||
		                    c == '}' || c == ']'))
			return 0;
	}
	return -1;
}

static json_t *excerpt(struct lp *p, size_t from, size_t to)
{
	skyx_buf b = {0};
	size_t len = to - from;
	if (len > LP_EXCERPT)
		len = LP_EXCERPT;
	put_utf8(p, &b, p->s + from, len);
	json_t *v = json_stringn(b.data ? b.data : "", b.len);
	skyx_buf_free(&b);
	return v;
}

static json_t *read_value(struct lp *p, int *trunc);

static json_t *read_array(struct lp *p, int *trunc)
{
	json_t *a = json_array();
	int after_comma = 0;
	p->i++;
	for (;;) {
		skip_ws(p);
		if (lp_eof(p)) {
			*trunc = 1;
			p->repairs |= SKY_PLANNER_REPAIR_TRUNCATED;
			return a;
		}
		int c = lp_peek(p);
		if (c == ']' || c == '}') {
			if (c == '}')
				p->repairs |= SKY_PLANNER_REPAIR_BRACKETS;
			if (after_comma)
				p->repairs |= SKY_PLANNER_REPAIR_TRAILING_COMMA;
			p->i++;
			return a;
		}
		if (c == ',') {
			if (after_comma || !json_array_size(a))
				p->repairs |= SKY_PLANNER_REPAIR_TRAILING_COMMA;
			after_comma = 1;
			p->i++;
			continue;
		}
		if (json_array_size(a) && !after_comma)
			p->repairs |= SKY_PLANNER_REPAIR_MISSING_COMMA;
		after_comma = 0;
		size_t start = p->i;
		unsigned int g0 = p->garbled_members;
		int t = 0;
		json_t *v = read_value(p, &t);
		if (!v) {
			/* One unreadable item must not cost its neighbours. */
			p->repairs |= SKY_PLANNER_REPAIR_GARBLED;
			p->i = start;
			int found = skip_item(p, ']') == 0;
			if (p->mark) {
				json_t *g = json_object();
				json_object_set_new(g, SKY_LENIENT_GARBLED,
				                    excerpt(p, start, p->i));
				json_array_append_new(a, g);
			}
			if (!found) {
				*trunc = 1;
				return a;
			}
			continue;
		}
		if (p->mark && !t && p->garbled_members != g0) {
			/* Half an action is worse than none: the whole item
			 * is reported as garbled. */
			json_decref(v);
			json_t *g = json_object();
			json_object_set_new(g, SKY_LENIENT_GARBLED,
			                    excerpt(p, start, p->i));
			json_array_append_new(a, g);
			continue;
		}
		if (t) {
			if (p->mark) {
				json_t *g = json_object();
				json_object_set_new(g, SKY_LENIENT_TRUNCATED,
				                    v);
				json_array_append_new(a, g);
			} else {
				json_decref(v);
			}
			*trunc = 1;
			return a;
		}
		json_array_append_new(a, v);
	}
}

/* An object key: a quoted string or a bare identifier. NULL on error; an
 * empty *trunc-flagged result when the text ends inside it. */
static char *read_key(struct lp *p, int *trunc)
{
	size_t ql;
	if (quote_at(p, p->i, &ql) != Q_NONE) {
		json_t *k = read_string(p, trunc);
		char *s = k ? skyx_strdup(json_string_value(k)) : NULL;
		json_decref(k);
		return s;
	}
	if (!ident_start(lp_peek(p)))
		return NULL;
	size_t s0 = p->i;
	while (p->i < p->n && ident_char(p->s[p->i]))
		p->i++;
	if (lp_eof(p)) {
		*trunc = 1;
		p->repairs |= SKY_PLANNER_REPAIR_TRUNCATED;
	}
	p->repairs |= SKY_PLANNER_REPAIR_UNQUOTED_KEYS;
	return skyx_strndup((const char *)p->s + s0, p->i - s0);
}

static json_t *read_object(struct lp *p, int *trunc)
{
	json_t *o = json_object();
	int after_comma = 0;
	p->i++;
	for (;;) {
		skip_ws(p);
		if (lp_eof(p))
			goto truncated;
		int c = lp_peek(p);
		if (c == '}' || c == ']') {
			if (c == ']')
				p->repairs |= SKY_PLANNER_REPAIR_BRACKETS;
			if (after_comma)
				p->repairs |= SKY_PLANNER_REPAIR_TRAILING_COMMA;
			p->i++;
			return o;
		}
		if (c == ',') {
			if (after_comma || !json_object_size(o))
				p->repairs |= SKY_PLANNER_REPAIR_TRAILING_COMMA;
			after_comma = 1;
			p->i++;
			continue;
		}
		if (json_object_size(o) && !after_comma)
			p->repairs |= SKY_PLANNER_REPAIR_MISSING_COMMA;
		after_comma = 0;
		size_t start = p->i;
		int t = 0;
		char *key = read_key(p, &t);
		if (key && t) {
			free(key);
			goto truncated;
		}
		if (key) {
			skip_ws(p);
			if (lp_eof(p)) {
				free(key);
				goto truncated;
			}
			if (lp_peek(p) == ':' || lp_peek(p) == '=') {
				p->i++;
				skip_ws(p);
				if (lp_eof(p)) {
					free(key);
					goto truncated;
				}
			} else {
				free(key);
				key = NULL;
			}
		}
		json_t *v = key ? read_value(p, &t) : NULL;
		if (!v) {
			free(key);
			p->repairs |= SKY_PLANNER_REPAIR_GARBLED;
			p->i = start;
			/* The first member being unreadable means this is
			 * not an object at all (prose in braces, or a
			 * doubled "{" prefill): let the caller look
			 * elsewhere. */
			if (!json_object_size(o))
				goto fail;
			p->garbled_members++;
			if (skip_item(p, '}'))
				goto truncated;
			continue;
		}
		if (t) {
			/* A cut-off scalar is dropped; a cut-off container
			 * keeps what was complete inside it. */
			if (json_is_object(v) || json_is_array(v))
				json_object_set_new(o, key, v);
			else
				json_decref(v);
			free(key);
			goto truncated;
		}
		json_object_set_new(o, key, v);
		free(key);
	}
fail:
	json_decref(o);
	return NULL;
truncated:
	*trunc = 1;
	p->repairs |= SKY_PLANNER_REPAIR_TRUNCATED;
	return o;
}

static json_t *read_value(struct lp *p, int *trunc)
{
	skip_ws(p);
	if (lp_eof(p)) {
		*trunc = 1;
		return NULL;
	}
	if (p->depth >= LP_MAX_DEPTH)
		return NULL;
	int c = lp_peek(p);
	size_t ql;
	json_t *v;
	if (c == '{' || c == '[') {
		p->depth++;
		v = c == '{' ? read_object(p, trunc) : read_array(p, trunc);
		p->depth--;
		return v;
	}
	if (quote_at(p, p->i, &ql) != Q_NONE)
		return read_string(p, trunc);
	if (c == '-' || c == '+' || c == '.' || isdigit(c)) {
		if ((c == '-' || c == '+') && p->i + 1 < p->n &&
		    ident_start(p->s[p->i + 1])) {
			p->i++; /* -Infinity */
			return read_bare(p, trunc);
		}
		return read_number(p, trunc);
	}
	if (ident_start(c) || c >= 0x80)
		return read_bare(p, trunc);
	return NULL;
}

json_t *sky_planner__json_lenient(const char *s, size_t n, int mark,
                                  size_t *end, unsigned int *repairs)
{
	struct lp p = {.s = (const unsigned char *)s, .n = n, .mark = mark};
	if (!s || !n || (s[0] != '{' && s[0] != '['))
		return NULL;
	int trunc = 0;
	json_t *v = read_value(&p, &trunc);
	if (v && repairs)
		*repairs |= p.repairs;
	if (end)
		*end = p.i;
	return v;
}
