/* llm-rules: reading facts ("email: ...", "my name is ...", quoted values,
 * a JSON object, navigation_payload) and intents ("log in", "open the
 * Pricing page") out of a goal written in plain words. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

/* The goal being read: `w` is a working copy of the same length where
 * JSON and quoted spans are blanked so later passes skip them, and
 * `used` marks bytes already turned into facts. */
typedef struct reader {
	sky_rules_goal *g;
	const char *orig;
	char *w;
	char *used;
	size_t len;
	/* quoted spans, content only */
	size_t qs[32], qe[32];
	int q_fact[32];
	size_t nq;
} reader;

#define BLANK '\x01'

static int is_word_byte(int c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '\'' || c == '/' ||
	       c == '#' || c >= 0x80;
}

static int word_is(const char *s, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == n && !strncasecmp(s, list[i], n))
			return 1;
	return 0;
}

static const char *const KEY_BOUNDARY[] = {
    "with",      "and",    "using",   "use",   "then",  "is",
    "are",       "person", "details", "below", "these", "this",
    "following", "please", "or",      "but",   "also",  NULL,
};

static const char *const KEY_VERBS[] = {
    "set",  "change", "update", "enter", "type", "put",
    "fill", "select", "choose", "pick",  "make", NULL,
};

/* The key that ends just before `end` (exclusive): up to 6 words going
 * back, stopping at punctuation or a boundary word. Returns its start
 * (== end when there is no key). */
static size_t key_before(const reader *r, size_t end, size_t floor)
{
	size_t p = end, start = end;
	int words = 0;
	while (p > floor) {
		while (p > floor && r->w[p - 1] == ' ')
			p--;
		if (p == floor || !is_word_byte((unsigned char)r->w[p - 1]))
			break;
		size_t we = p;
		while (p > floor && is_word_byte((unsigned char)r->w[p - 1]))
			p--;
		if (word_is(r->w + p, we - p, KEY_BOUNDARY) || words == 6)
			break;
		start = p;
		words++;
	}
	/* "set Country" -> "Country" */
	while (start < end) {
		size_t e = start;
		while (e < end && is_word_byte((unsigned char)r->w[e]))
			e++;
		if (e >= end || !word_is(r->w + start, e - start, KEY_VERBS))
			break;
		start = e;
		while (start < end && r->w[start] == ' ')
			start++;
	}
	return start;
}

static void mark(reader *r, size_t a, size_t b)
{
	if (b > r->len)
		b = r->len;
	if (a < b)
		memset(r->used + a, 1, b - a);
}

static int any_used(const reader *r, size_t a, size_t b)
{
	for (size_t i = a; i < b && i < r->len; i++)
		if (r->used[i])
			return 1;
	return 0;
}

/* Strip a trailing conjunction ("neo and" -> "neo"). */
static void strip_conjunction(char *v)
{
	static const char *const TAIL[] = {" and", " or",  " then", " plus",
	                                   " &",   " the", " a",    " an",
	                                   " my",  " is",  " with", NULL};
	for (int again = 1; again;) {
		again = 0;
		size_t n = strlen(v);
		while (n &&
		       (v[n - 1] == ' ' || v[n - 1] == ',' || v[n - 1] == ';'))
			v[--n] = '\0';
		for (size_t i = 0; TAIL[i]; i++) {
			size_t tl = strlen(TAIL[i]);
			if (n > tl && !strcasecmp(v + n - tl, TAIL[i])) {
				v[n - tl] = '\0';
				again = 1;
			}
		}
	}
}

static int word_at(const reader *r, size_t p, const char *word)
{
	size_t l = strlen(word);
	return p + l <= r->len && !strncasecmp(r->w + p, word, l) &&
	       (p == 0 || !is_word_byte((unsigned char)r->w[p - 1])) &&
	       (p + l == r->len || !is_word_byte((unsigned char)r->w[p + l]));
}

static int verb_at(const reader *r, size_t p, size_t *vlen);
static int starts_statement(const reader *r, size_t p);

/* Where a value starting at `from` ends: a sentence end (". " not after
 * an initial, ";", "!", "?", newline) before `limit`. */
static size_t value_end(const reader *r, size_t from, size_t limit,
                        int stop_at_comma)
{
	for (size_t i = from; i < limit; i++) {
		char c = r->w[i];
		if (c == ';' || c == '\n' || c == BLANK || r->used[i])
			return i;
		/* ", my ...", " and my ..." start another statement */
		if ((c == ',' || c == ' ') && i > from) {
			size_t j = i + 1;
			int and_ = 0;
			while (j < limit && r->w[j] == ' ')
				j++;
			if (word_at(r, j, "and")) {
				and_ = 1;
				j += 4;
			}
			if ((c == ',' || and_) &&
			    (word_at(r, j, "my") || word_at(r, j, "our") ||
			     word_at(r, j, "the") || word_at(r, j, "i") ||
			     word_at(r, j, "then")))
				return i;
			/* "3004-118-27 and they can call me ...": another
			 * statement about someone */
			if ((c == ',' || and_) && starts_statement(r, j))
				return i;
			/* "x@y.com and set ...": a one-word value ends where
			 * the next instruction starts */
			size_t vl;
			if (and_ && !memchr(r->w + from, ' ', i - from) &&
			    verb_at(r, j, &vl) >= 0)
				return i;
		}
		if (stop_at_comma && c == ',')
			return i;
		if ((c == '.' || c == '!' || c == '?') &&
		    (i + 1 == r->len || r->w[i + 1] == ' ')) {
			/* "Chris P. Bacon": a single-letter word keeps going */
			int single = i >= 1 &&
			             isalpha((unsigned char)r->w[i - 1]) &&
			             (i == 1 || r->w[i - 2] == ' ');
			if (c != '.' || !single)
				return i;
		}
	}
	return limit;
}

/* Add key/value from spans of the goal; 1 if a fact was added. */
static int add_fact_span(reader *r, size_t ks, size_t ke, size_t vs, size_t ve)
{
	int added = 0;
	char *key = sky_rules__clean_value(r->orig + ks, ke - ks);
	char *val = sky_rules__clean_value(r->orig + vs, ve - vs);
	strip_conjunction(val);
	/* a message keeps the full stop that ends its sentence */
	if (ve < r->len && strchr(".!?", r->w[ve]) && *val &&
	    sky_rules__concept(key) == SKY_RULES_C_MESSAGE) {
		char *v2 = sky_rules__printf("%s%c", val, r->w[ve]);
		free(val);
		val = v2;
	}
	if (*key && *val && strlen(val) < 2000) {
		sky_rules__goal_add_fact(r->g, key, val, 0);
		added = 1;
	}
	free(key);
	free(val);
	return added;
}

/* ---- JSON objects and the payload ---------------------------------------- */

static void add_json_facts(sky_rules_goal *g, const json_t *obj,
                           const char *parent)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)obj, k, v) {
		char *val = NULL;
		if (json_is_object(v)) {
			add_json_facts(g, v, k);
			continue;
		}
		if (json_is_string(v)) {
			val = sky_rules__strdup(json_string_value(v));
		} else if (json_is_boolean(v)) {
			val = sky_rules__strdup(json_is_true(v) ? "yes" : "no");
		} else if (json_is_number(v)) {
			val = sky_rules__dump(v);
		} else if (json_is_array(v)) {
			sky_rules_buf b = {0};
			size_t i;
			json_t *item;
			json_array_foreach (v, i, item) {
				if (!json_is_string(item) &&
				    !json_is_number(item))
					continue;
				char *t = json_is_string(item)
				              ? sky_rules__strdup(
				                    json_string_value(item))
				              : sky_rules__dump(item);
				sky_rules__buf_printf(&b, "%s%s",
				                      b.len ? ", " : "", t);
				free(t);
			}
			val = sky_rules__buf_take(&b);
		}
		if (val && *val) {
			/* a generic leaf ("line1", "value") keeps its parent */
			char *key = parent && (sky_rules__concept(k) ==
			                           SKY_RULES_C_NONE &&
			                       strlen(k) <= 5)
			                ? sky_rules__printf("%s %s", parent, k)
			                : sky_rules__strdup(k);
			sky_rules__goal_add_fact(g, key, val, 0);
			free(key);
		}
		free(val);
	}
}

static void read_json_objects(reader *r)
{
	for (size_t i = 0; i < r->len; i++) {
		if (r->w[i] != '{')
			continue;
		json_error_t je;
		json_t *v = json_loadb(r->orig + i, r->len - i,
		                       JSON_DISABLE_EOF_CHECK, &je);
		if (!json_is_object(v)) {
			json_decref(v);
			continue;
		}
		size_t end = i + (size_t)je.position;
		add_json_facts(r->g, v, NULL);
		json_decref(v);
		memset(r->w + i, BLANK, end - i);
		mark(r, i, end);
		i = end;
	}
}

/* ---- quoted values -------------------------------------------------------- */

static const char *const TARGET_VERBS[] = {
    "click", "press",    "tap", "open", "choose",   "select", "visit",
    "go",    "navigate", "hit", "view", "download", "follow", NULL,
};
static const char *const SEARCH_VERBS[] = {"search", "look", "find", "query",
                                           NULL};
static const char *const ARTICLES[] = {
    "the", "a",    "an", "my", "your", "with",   "for",   "and",    "as", "to",
    "in",  "into", "of", "on", "at",   "called", "named", "titled", NULL,
};

/* Find quote pairs ("..", '..', “..”) and blank their content in w. */
static void find_quotes(reader *r)
{
	for (size_t i = 0; i < r->len && r->nq < 32; i++) {
		const char *o = r->orig;
		size_t open_len = 0, cs;
		const char *close = NULL;
		if (o[i] == '"') {
			open_len = 1;
			close = "\"";
		} else if ((unsigned char)o[i] == 0xe2 && i + 2 < r->len &&
		           (unsigned char)o[i + 1] == 0x80 &&
		           (unsigned char)o[i + 2] == 0x9c) {
			open_len = 3;
			close = "\xe2\x80\x9d";
		} else if (o[i] == '\'' && (i == 0 || o[i - 1] == ' ') &&
		           i + 1 < r->len && o[i + 1] != ' ') {
			open_len = 1;
			close = "'";
		}
		if (!open_len || r->w[i] == BLANK)
			continue;
		cs = i + open_len;
		const char *c = strstr(o + cs, close);
		/* a closing single quote must end a word */
		while (c && close[0] == '\'' && c[1] &&
		       isalnum((unsigned char)c[1]))
			c = strstr(c + 1, close);
		if (!c || c == o + cs)
			continue;
		size_t ce = (size_t)(c - o);
		r->qs[r->nq] = cs;
		r->qe[r->nq] = ce;
		r->q_fact[r->nq] = 0;
		r->nq++;
		memset(r->w + i, BLANK, ce + strlen(close) - i);
		i = ce + strlen(close) - 1;
	}
}

/* Word spans in w[a, b), as [start, end) pairs; returns the count. */
static size_t words_in(const reader *r, size_t a, size_t b, size_t *ws,
                       size_t *we, size_t max)
{
	size_t n = 0, p = a;
	while (p < b && n < max) {
		while (p < b && !is_word_byte((unsigned char)r->w[p]))
			p++;
		if (p >= b)
			break;
		ws[n] = p;
		while (p < b && is_word_byte((unsigned char)r->w[p]))
			p++;
		we[n++] = p;
	}
	return n;
}

/* The start of the clause around position p (after ". ", ";", newline or
 * the previous quote). */
static size_t clause_start(const reader *r, size_t p)
{
	while (p > 0) {
		char c = r->w[p - 1];
		if (c == ';' || c == '\n' || c == BLANK ||
		    ((c == '.' || c == '!' || c == '?') && r->w[p] == ' '))
			break;
		p--;
	}
	return p;
}

static void read_quote(reader *r, size_t qi)
{
	size_t qs = r->qs[qi], qe = r->qe[qi];
	size_t open = qs - 1;
	while (open > 0 && r->w[open] == BLANK && r->w[open - 1] == BLANK)
		open--;
	size_t from = clause_start(r, open);
	size_t ws[16], we[16];
	size_t n = words_in(r, from, open, ws, we, 16);
	char *val = sky_rules__strndup(r->orig + qs, qe - qs);
	size_t ks = 0, ke = 0;

	/* a target to click rather than a value to type */
	for (size_t i = 0; i < n; i++)
		if (word_is(r->w + ws[i], we[i] - ws[i], TARGET_VERBS)) {
			free(val);
			return;
		}
	for (size_t i = 0; i < n; i++)
		if (word_is(r->w + ws[i], we[i] - ws[i], SEARCH_VERBS)) {
			sky_rules__goal_add_fact(r->g, "search", val, 0);
			if (!r->g->query)
				r->g->query = sky_rules__strdup(val);
			r->q_fact[qi] = 1;
			free(val);
			return;
		}
	/* "the message is "..."", "Country: "..."", "set X to "..."" */
	size_t tail = open;
	while (tail > from && r->w[tail - 1] == ' ')
		tail--;
	static const char *const CONNECT[] = {"is", "are", "to", "as",
	                                      "of", "be",  NULL};
	if (n && we[n - 1] == tail &&
	    word_is(r->w + ws[n - 1], we[n - 1] - ws[n - 1], CONNECT)) {
		ke = ws[n - 1];
		ks = key_before(r, ke, from);
	} else if (tail > from &&
	           (r->w[tail - 1] == ':' || r->w[tail - 1] == '=')) {
		ke = tail - 1;
		ks = key_before(r, ke, from);
	} else if (n) {
		/* "with the title "..."": the words after the last article */
		size_t i = n;
		while (i > 0 &&
		       !word_is(r->w + ws[i - 1], we[i - 1] - ws[i - 1],
		                ARTICLES) &&
		       n - i < 3)
			i--;
		if (i < n && i > 0 &&
		    word_is(r->w + ws[i - 1], we[i - 1] - ws[i - 1],
		            ARTICLES)) {
			ks = ws[i];
			ke = we[n - 1];
		}
	}
	if (ke <= ks) {
		/* ""hello" into the Message field" */
		size_t after = qe + 1, as[6], ae[6];
		size_t m = words_in(r, after, r->len, as, ae, 6);
		if (m >= 2 &&
		    word_is(r->w + as[0], ae[0] - as[0],
		            (const char *const[]){"as", "in", "into", "for",
		                                  "under", NULL})) {
			size_t k = 1;
			if (word_is(r->w + as[k], ae[k] - as[k], ARTICLES))
				k++;
			if (k < m) {
				ks = as[k];
				ke = ae[k];
				if (k + 1 < m &&
				    !word_is(
				        r->w + as[k + 1], ae[k + 1] - as[k + 1],
				        (const char *const[]){"field", "box",
				                              "input", NULL}))
					ke = ae[k + 1];
			}
		}
	}
	if (ke > ks) {
		char *key = sky_rules__clean_value(r->orig + ks, ke - ks);
		if (*key) {
			sky_rules__goal_add_fact(r->g, key, val, 0);
			r->q_fact[qi] = 1;
			mark(r, ks, ke);
		}
		free(key);
	}
	free(val);
}

/* ---- "key: value" --------------------------------------------------------- */

/* A clause that starts with a pronoun ("I moved ...", "we have ..."). */
static int starts_statement(const reader *r, size_t p)
{
	static const char *const PRON[] = {
	    "i",   "i'm", "i've", "i'd",   "we",   "we're", "we've",
	    "he",  "she", "he's", "she's", "they", "it",    "it's",
	    "you", "my",  "our",  "his",   "her",  "their", NULL,
	};
	for (size_t i = 0; PRON[i]; i++)
		if (word_at(r, p, PRON[i]))
			return 1;
	return 0;
}

static void read_colon_pairs(reader *r)
{
	size_t ks[64], ke[64], n = 0;
	for (size_t i = 0; i < r->len && n < 64; i++) {
		if (r->w[i] != ':' || !(i + 1 == r->len || r->w[i + 1] == ' ' ||
		                        r->w[i + 1] == BLANK))
			continue;
		size_t s = key_before(r, i, 0);
		if (s == i)
			continue;
		ks[n] = s;
		ke[n] = i;
		n++;
	}
	for (size_t k = 0; k < n; k++) {
		size_t vs = ke[k] + 1;
		size_t limit = k + 1 < n ? ks[k + 1] : r->len;
		while (vs < limit && r->w[vs] == ' ')
			vs++;
		if (vs < limit && r->w[vs] == BLANK)
			continue; /* a quoted or JSON value: read already */
		/* "apply to it for me: I'm ...", "Update my address: I
		 * moved ...": a sentence that goes on, not a key */
		size_t vl;
		if (verb_at(r, ks[k], &vl) >= 0 || starts_statement(r, vs))
			continue;
		size_t ve = value_end(r, vs, limit, 0);
		if (any_used(r, vs, ve))
			continue;
		if (add_fact_span(r, ks[k], ke[k], vs, ve))
			mark(r, ks[k], ve);
	}
}

/* ---- "my email is ...", "the file is ..." ---------------------------------- */

static void read_is_phrases(reader *r)
{
	static const char *const OWNERS[] = {"my",  "the", "our",   "her",
	                                     "his", "its", "their", NULL};
	for (size_t p = 0; p < r->len; p++) {
		size_t i;
		for (i = 0; OWNERS[i] && !word_at(r, p, OWNERS[i]); i++)
			;
		if (!OWNERS[i] || r->used[p])
			continue;
		size_t ks = p + strlen(OWNERS[i]) + 1, q = ks;
		/* up to 5 key words, then "is"/"are" */
		int words = 0;
		size_t ke = 0;
		while (q < r->len && words < 6) {
			if (word_at(r, q, "is") || word_at(r, q, "are")) {
				ke = q;
				break;
			}
			size_t s = q;
			while (q < r->len &&
			       is_word_byte((unsigned char)r->w[q]))
				q++;
			if (q == s || q >= r->len || r->w[q] != ' ')
				break;
			q++;
			words++;
		}
		if (!ke || !words)
			continue;
		size_t vs = ke + (r->w[ke] == 'i' || r->w[ke] == 'I' ? 2 : 3);
		while (vs < r->len && r->w[vs] == ' ')
			vs++;
		if (vs >= r->len || r->w[vs] == BLANK || any_used(r, ks, vs))
			continue;
		/* "The car is registration KX19 PLM": the reference says
		 * what it is (read_references) */
		if (word_at(r, vs, "registration") ||
		    word_at(r, vs, "number") || word_at(r, vs, "order") ||
		    word_at(r, vs, "reference"))
			continue;
		size_t ve = value_end(r, vs, r->len, 1);
		/* " and my ...", " and the ..." start the next phrase */
		for (size_t j = vs; j < ve; j++)
			if (r->w[j] == ' ' && word_at(r, j + 1, "and")) {
				size_t nx = j + 5;
				if (word_at(r, nx, "my") ||
				    word_at(r, nx, "the") ||
				    word_at(r, nx, "our") ||
				    word_at(r, nx, "i") ||
				    word_at(r, nx, "then")) {
					ve = j;
					break;
				}
			}
		add_fact_span(r, ks, ke, vs, ve);
		mark(r, p, ve);
	}
}

/* ---- "with username alice and password x", "change X to Y" ---------------- */

static void read_with_pairs(reader *r)
{
	static const char *const KEYS[] = {
	    "username",     "user name", "user",     "login", "email",
	    "e-mail",       "password",  "passcode", "pin",   "phone",
	    "phone number", "code",      "name",     NULL,
	};
	static const char *const LEADS[] = {"with", "and", "using", "as", NULL};
	for (size_t p = 0; p < r->len; p++) {
		size_t li;
		for (li = 0; LEADS[li] && !word_at(r, p, LEADS[li]); li++)
			;
		if (!LEADS[li] || r->used[p])
			continue;
		size_t q = p + strlen(LEADS[li]) + 1;
		if (word_at(r, q, "the"))
			q += 4;
		else if (word_at(r, q, "my"))
			q += 3;
		size_t best = 0;
		for (size_t k = 0; KEYS[k]; k++)
			if (word_at(r, q, KEYS[k]) && strlen(KEYS[k]) > best)
				best = strlen(KEYS[k]);
		if (!best)
			continue;
		size_t vs = q + best;
		if (vs >= r->len || r->w[vs] != ' ')
			continue;
		vs++;
		if (word_at(r, vs, "is") || word_at(r, vs, "of") ||
		    r->w[vs] == BLANK || r->w[vs] == ':')
			continue;
		size_t ve = vs;
		while (ve < r->len && r->w[ve] != ' ' && r->w[ve] != BLANK)
			ve++;
		/* "alice," -> "alice" (clean_value drops the comma) */
		if (ve == vs || any_used(r, vs, ve))
			continue;
		add_fact_span(r, q, q + best, vs, ve);
		mark(r, q, ve);
	}
}

static void read_change_to(reader *r)
{
	static const char *const VERBS[] = {"change", "set", "update", "switch",
	                                    NULL};
	for (size_t p = 0; p < r->len; p++) {
		size_t vi;
		for (vi = 0; VERBS[vi] && !word_at(r, p, VERBS[vi]); vi++)
			;
		if (!VERBS[vi] || r->used[p])
			continue;
		size_t ks = p + strlen(VERBS[vi]) + 1,
		       end = value_end(r, ks, r->len, 0);
		/* "change X to Y": X is a few words, not a sentence */
		for (size_t t = ks, words = 0; t < end; t++)
			if (r->w[t] == ':' || (r->w[t] == ' ' && ++words > 9)) {
				end = t;
				break;
			}
		for (size_t t = ks; t + 4 < end; t++) {
			if (r->w[t] != ' ' || !word_at(r, t + 1, "to"))
				continue;
			size_t vs = t + 4;
			if (vs >= r->len || r->w[vs] == BLANK ||
			    any_used(r, ks, vs))
				break;
			size_t ve = value_end(r, vs, r->len, 1);
			add_fact_span(r, ks, t, vs, ve);
			mark(r, ks, ve);
			break;
		}
	}
}

/* Search queries without quotes: "search for wireless mouse and ...". */
static void read_search(reader *r)
{
	int says_search = strcasestr(r->orig, "search") != NULL;
	for (size_t p = 0; p < r->len && !r->g->query; p++) {
		/* "use the search box to find the X" */
		if (says_search && word_at(r, p, "find")) {
			size_t vs = p + 4, end = value_end(r, p, r->len, 1);
			while (vs < end && r->w[vs] == ' ')
				vs++;
			if (word_at(r, vs, "the"))
				vs += 4;
			size_t ve = end;
			for (size_t j = vs; j < end; j++)
				if (r->w[j] == ' ' &&
				    (word_at(r, j + 1, "and") ||
				     word_at(r, j + 1, "then"))) {
					ve = j;
					break;
				}
			char *v = sky_rules__clean_value(r->orig + vs, ve - vs);
			if (*v) {
				r->g->query = sky_rules__strdup(v);
				sky_rules__goal_add_fact(r->g, "search", v, 0);
			}
			free(v);
			continue;
		}
		if (!word_at(r, p, "search") && !word_at(r, p, "look"))
			continue;
		size_t q = p, end = value_end(r, p, r->len, 1);
		while (q < end && !word_at(r, q, "for") && !word_at(r, q, "up"))
			q++;
		if (q >= end)
			continue;
		size_t vs = q + (word_at(r, q, "for") ? 4 : 3);
		if (vs >= end || r->w[vs] == BLANK)
			continue;
		size_t ve = end;
		for (size_t j = vs; j < end; j++)
			if (r->w[j] == ' ' && (word_at(r, j + 1, "and") ||
			                       word_at(r, j + 1, "then"))) {
				ve = j;
				break;
			}
		/* "... in this bookshop's catalogue", "on this site": where
		 * to search, not what */
		for (size_t j = vs; j + 4 < ve; j++)
			if (r->w[j] == ' ' &&
			    (word_at(r, j + 1, "in") ||
			     word_at(r, j + 1, "on")) &&
			    (word_at(r, j + 4, "this") ||
			     word_at(r, j + 4, "the") ||
			     word_at(r, j + 4, "our"))) {
				ve = j;
				break;
			}
		char *v = sky_rules__clean_value(r->orig + vs, ve - vs);
		if (*v) {
			r->g->query = sky_rules__strdup(v);
			sky_rules__goal_add_fact(r->g, "search", v, 0);
		}
		free(v);
	}
}

/* ---- facts in prose: names, phones, birth dates, yes/no statements ------- */

static int has_concept(const sky_rules_goal *g, int c)
{
	for (size_t i = 0; i < g->nfacts; i++)
		if (g->facts[i].concept == c)
			return 1;
	return 0;
}

/* A capitalised word at p ("Rosa", "Tomás", "O'Neil"); its end, or 0. */
static size_t cap_word(const reader *r, size_t p)
{
	if (p >= r->len || !isupper((unsigned char)r->w[p]))
		return 0;
	size_t e = p;
	while (e < r->len && (isalpha((unsigned char)r->w[e]) ||
	                      (unsigned char)r->w[e] >= 0x80 ||
	                      r->w[e] == '\'' || r->w[e] == '-'))
		e++;
	/* "Chen's" is a possessive, not part of a name */
	if (e - p < 2 || (e >= 2 && r->w[e - 2] == '\'' &&
	                  tolower((unsigned char)r->w[e - 1]) == 's'))
		return 0;
	return e;
}

/*
 * A person's name in prose: two or three capitalised words right after
 * "I'm", "for", "Sign", "Book", "under the name", "my son," ... and not
 * followed by another capitalised word (an organisation or a title).
 */
static void read_names(reader *r)
{
	static const char *const LEADS[] = {
	    "i'm",     "i am",     "for",   "sign",    "book",    "register",
	    "enrol",   "enroll",   "enter", "add",     "named",   "the name",
	    "son",     "daughter", "wife",  "husband", "partner", "name",
	    "this is", "it's",     "from",  NULL,
	};
	static const char *const NOT_NAME[] = {
	    "The",       "A",         "An",         "My",       "Our",
	    "This",      "Inc",       "Ltd",        "LLC",      "Co",
	    "Corp",      "Group",     "Labs",       "Company",  "Supply",
	    "Grant",     "Business",  "Engineer",   "Manager",  "Designer",
	    "Team",      "Plan",      "Support",    "Street",   "Road",
	    "Lane",      "Avenue",    "January",    "February", "March",
	    "April",     "May",       "June",       "July",     "August",
	    "September", "October",   "November",   "December", "Monday",
	    "Tuesday",   "Wednesday", "Thursday",   "Friday",   "Saturday",
	    "Sunday",    "Head",      "Operations", NULL,
	};
	if (has_concept(r->g, SKY_RULES_C_FULL_NAME) ||
	    has_concept(r->g, SKY_RULES_C_FIRST_NAME))
		return;
	for (size_t p = 0; p < r->len; p++) {
		size_t li;
		for (li = 0; LEADS[li] && !word_at(r, p, LEADS[li]); li++)
			;
		if (!LEADS[li] || r->used[p])
			continue;
		size_t q = p + strlen(LEADS[li]);
		while (q < r->len && (r->w[q] == ' ' || r->w[q] == ','))
			q++;
		size_t ws[4], we[4], n = 0, e;
		while (n < 4 && (e = cap_word(r, q))) {
			ws[n] = q;
			we[n++] = e;
			q = e;
			if (q < r->len && r->w[q] == ' ')
				q++;
			else
				break;
		}
		if (n < 2 || n > 3 || any_used(r, ws[0], we[n - 1]))
			continue;
		int bad = 0;
		for (size_t i = 0; i < n && !bad; i++)
			bad = word_is(r->w + ws[i], we[i] - ws[i], NOT_NAME);
		if (bad)
			continue;
		char *v =
		    sky_rules__strndup(r->orig + ws[0], we[n - 1] - ws[0]);
		sky_rules__goal_add_fact(r->g, "full name", v, 0);
		free(v);
		mark(r, ws[0], we[n - 1]);
		return;
	}
}

/* Phone numbers in any common shape: "+34 612 345 678", "(415) 555-0134",
 * "030 5550 1234", "217-555-0142". */
static void read_phones(reader *r)
{
	if (has_concept(r->g, SKY_RULES_C_PHONE))
		return;
	for (size_t p = 0; p < r->len; p++) {
		char c = r->w[p];
		if (!(isdigit((unsigned char)c) || c == '+' || c == '('))
			continue;
		if (p > 0 && (isalnum((unsigned char)r->w[p - 1]) ||
		              strchr("-+/.$£€", r->w[p - 1]) ||
		              (unsigned char)r->w[p - 1] >= 0x80))
			continue;
		size_t e = p, last_digit = p;
		int digits = 0, groups = 1, plus = c == '+', paren = c == '(';
		for (; e < r->len; e++) {
			char d = r->w[e];
			if (isdigit((unsigned char)d)) {
				digits++;
				last_digit = e + 1;
			} else if (d == ' ' || d == '-' || d == '.' ||
			           d == '(' || d == ')' ||
			           (d == '+' && e == p)) {
				if (d != '+' && e + 1 < r->len &&
				    (isdigit((unsigned char)r->w[e + 1]) ||
				     r->w[e + 1] == '(' || r->w[e + 1] == ' '))
					groups++;
				else if (d != '+' && d != ')')
					break;
			} else {
				break;
			}
		}
		/* a letter right after the digits: "8am", "2019th", "KX19" */
		if (last_digit < r->len &&
		    isalpha((unsigned char)r->w[last_digit]))
			continue;
		if (digits < 7 || digits > 15 ||
		    (groups < 2 && !plus && !paren) ||
		    any_used(r, p, last_digit)) {
			p = last_digit > p ? last_digit : p;
			continue;
		}
		char *v = sky_rules__clean_value(r->orig + p, last_digit - p);
		if (sky_rules__is_phone(v))
			sky_rules__goal_add_fact(r->g, "phone", v, 0);
		free(v);
		mark(r, p, last_digit);
		return;
	}
}

/* The run of capitalised words at q ("Northwind Traders", "Chen Robotics",
 * "Crumb & Co"); its end, or q when none. */
static size_t cap_run(const reader *r, size_t q)
{
	size_t last = q, e = q;
	while (e < r->len) {
		size_t we = cap_word(r, e);
		if (!we && r->w[e] == '&')
			we = e + 1;
		if (!we)
			break;
		last = we;
		e = we;
		if (e < r->len && r->w[e] == ' ' &&
		    (cap_word(r, e + 1) || r->w[e + 1] == '&'))
			e++;
		else
			break;
	}
	return last;
}

/* "I work at Northwind Traders", "He works at Chen Robotics", "Head of
 * Operations at Lumen Freight" -> company (and job title). */
static void read_employer(reader *r)
{
	static const char *const LEADS[] = {
	    "work at",     "works at",    "working at",  "work for",
	    "works for",   "working for", "employed at", "employed by",
	    "employer is", NULL,
	};
	if (has_concept(r->g, SKY_RULES_C_COMPANY))
		return;
	for (size_t p = 0; p < r->len; p++) {
		size_t li;
		size_t ts = 0, te = 0, q = 0;
		for (li = 0; LEADS[li] && !word_at(r, p, LEADS[li]); li++)
			;
		if (LEADS[li]) {
			q = p + strlen(LEADS[li]);
		} else if (word_at(r, p, "at") && p >= 2 &&
		           r->w[p - 1] == ' ' &&
		           isalpha((unsigned char)r->w[p - 2])) {
			/* ", Head of Operations at Lumen Freight": a title
			 * (capitalised, after a comma) at a company */
			size_t a = p - 1;
			while (a > 0 && r->w[a - 1] != ',' &&
			       r->w[a - 1] != '.' && r->w[a - 1] != ';' &&
			       p - a < 60)
				a--;
			if (a == 0 || r->w[a - 1] != ',')
				continue;
			while (a < p && r->w[a] == ' ')
				a++;
			if (!cap_word(r, a))
				continue;
			ts = a;
			te = p - 1;
			q = p + 2;
		} else {
			continue;
		}
		while (q < r->len && r->w[q] == ' ')
			q++;
		size_t e = cap_run(r, q);
		if (e == q || any_used(r, q, e))
			continue;
		char *v = sky_rules__strndup(r->orig + q, e - q);
		sky_rules__goal_add_fact(r->g, "company", v, 0);
		free(v);
		if (te > ts) {
			char *t = sky_rules__strndup(r->orig + ts, te - ts);
			sky_rules__goal_add_fact(r->g, "job title", t, 0);
			free(t);
		}
		mark(r, q, e);
		return;
	}
}

/* "a workspace called harbor-ops", "a project named Atlas": the thing's
 * name, keyed by the thing. */
static void read_called(reader *r)
{
	for (size_t p = 0; p < r->len; p++) {
		size_t l;
		if (word_at(r, p, "called"))
			l = 6;
		else if (word_at(r, p, "named"))
			l = 5;
		else
			continue;
		if (r->used[p] || p < 2)
			continue;
		/* the noun before */
		size_t ke = p - 1, ks = ke;
		while (ks > 0 && is_word_byte((unsigned char)r->w[ks - 1]))
			ks--;
		size_t vs = p + l;
		while (vs < r->len && r->w[vs] == ' ')
			vs++;
		if (vs >= r->len || r->w[vs] == BLANK || ks == ke)
			continue;
		size_t ve = vs;
		while (ve < r->len && r->w[ve] != ' ' && r->w[ve] != BLANK)
			ve++;
		while (ve > vs && strchr(".,;:)", r->w[ve - 1]))
			ve--;
		if (ve == vs || any_used(r, vs, ve))
			continue;
		char *key = sky_rules__strndup(r->orig + ks, ke - ks);
		char *val = sky_rules__strndup(r->orig + vs, ve - vs);
		char *k2 = sky_rules__printf("%s name", key);
		sky_rules__goal_add_fact(r->g, k2, val, 0);
		free(k2);
		free(key);
		free(val);
		mark(r, ks, ve);
	}
}

/* "a message that my order arrived damaged ...", "saying it was quick
 * ...": the words of a message to write. */
static void read_message(reader *r)
{
	static const char *const LEADS[] = {
	    "a message that",
	    "message saying",
	    "saying that",
	    "saying",
	    "to say that",
	    "to say",
	    "telling them that",
	    "explaining that",
	    "a note that",
	    "mention that",
	    "mention",
	    "note that",
	    NULL,
	};
	for (size_t p = 0; p < r->len; p++) {
		size_t li;
		for (li = 0; LEADS[li] && !word_at(r, p, LEADS[li]); li++)
			;
		if (!LEADS[li] || r->used[p])
			continue;
		size_t vs = p + strlen(LEADS[li]);
		while (vs < r->len && r->w[vs] == ' ')
			vs++;
		size_t ve = vs;
		/* to the end of the sentence */
		while (
		    ve < r->len && r->w[ve] != BLANK &&
		    !((r->w[ve] == '.' || r->w[ve] == '!' || r->w[ve] == '?') &&
		      (ve + 1 == r->len || r->w[ve + 1] == ' ')))
			ve++;
		if (ve <= vs + 3)
			continue;
		char *v = sky_rules__clean_value(r->orig + vs, ve - vs);
		/* a message reads as a sentence */
		if (*v)
			v[0] = (char)toupper((unsigned char)v[0]);
		char *m = sky_rules__printf("%s.", v);
		sky_rules__goal_add_fact(r->g, "message", m, 0);
		free(m);
		free(v);
		return;
	}
}

/* "born on March 22, 2010", "born 4 July 1988" -> date of birth. */
static void read_birth(reader *r)
{
	if (has_concept(r->g, SKY_RULES_C_DOB))
		return;
	for (size_t p = 0; p < r->len; p++) {
		if (!word_at(r, p, "born"))
			continue;
		size_t q = p + 4;
		while (q < r->len && r->w[q] == ' ')
			q++;
		if (word_at(r, q, "on"))
			q += 2;
		while (q < r->len && r->w[q] == ' ')
			q++;
		/* the longest of up to 4 words that reads as a date */
		size_t ws[4], we[4];
		size_t n = words_in(r, q, r->len, ws, we, 4);
		for (size_t k = n; k > 0; k--) {
			char iso[11];
			char *t = sky_rules__strndup(r->orig + ws[0],
			                             we[k - 1] - ws[0]);
			if (!sky_rules__parse_date(t, iso)) {
				sky_rules__goal_add_fact(r->g, "date of birth",
				                         iso, 0);
				mark(r, p, we[k - 1]);
				free(t);
				return;
			}
			free(t);
		}
	}
}

/* "on 20 December 2026", "I moved ... on September 1, 2025": a date the
 * goal gives for what it asks (other than a birth date). */
static void read_dates(reader *r)
{
	for (size_t p = 0; p < r->len; p++) {
		if (!word_at(r, p, "on") && !word_at(r, p, "from") &&
		    !word_at(r, p, "since") && !word_at(r, p, "for"))
			continue;
		if (r->used[p])
			continue;
		size_t q = p;
		while (q < r->len && is_word_byte((unsigned char)r->w[q]))
			q++;
		while (q < r->len && r->w[q] == ' ')
			q++;
		size_t ws[4], we[4];
		size_t n = words_in(r, q, r->len, ws, we, 4);
		if (!n || any_used(r, ws[0], we[0]))
			continue;
		for (size_t k = n; k > 1; k--) {
			char iso[11];
			char *t = sky_rules__strndup(r->orig + ws[0],
			                             we[k - 1] - ws[0]);
			int ok = !sky_rules__parse_date(t, iso);
			free(t);
			if (!ok)
				continue;
			sky_rules__goal_add_fact(r->g, "date", iso, 0);
			mark(r, ws[0], we[k - 1]);
			return;
		}
	}
}

/* "88 Birch Lane, Springfield", "45 Quarry Road, Halifax, Nova Scotia B3H
 * 1A1", "12 Elm Row, Leeds, LS6 2AB": street, town, region, postcode. */
static void read_address(reader *r)
{
	static const char *const STREET[] = {
	    "road",  "rd",      "street",  "st",     "lane",     "ln",
	    "row",   "avenue",  "ave",     "drive",  "dr",       "way",
	    "close", "court",   "ct",      "place",  "crescent", "boulevard",
	    "blvd",  "terrace", "parkway", "square", "hill",     "gardens",
	    "mews",  "walk",    NULL,
	};
	for (size_t p = 0; p < r->len; p++) {
		if (!isdigit((unsigned char)r->w[p]) ||
		    (p && is_word_byte((unsigned char)r->w[p - 1])) ||
		    r->used[p])
			continue;
		size_t q = p;
		while (q < r->len && isalnum((unsigned char)r->w[q]))
			q++;
		if (q >= r->len || r->w[q] != ' ')
			continue;
		/* capitalised words ending with a street word */
		size_t e = q + 1, end = 0;
		for (int words = 0; words < 5; words++) {
			size_t we = cap_word(r, e);
			if (!we)
				break;
			if (word_is(r->w + e, we - e, STREET))
				end = we;
			if (we < r->len && r->w[we] == ' ')
				e = we + 1;
			else
				break;
		}
		if (!end || any_used(r, p, end))
			continue;
		char *street = sky_rules__strndup(r->orig + p, end - p);
		sky_rules__goal_add_fact(r->g, "street address", street, 0);
		free(street);
		mark(r, p, end);
		/* ", Town" then ", Region Postcode" or ", Postcode" */
		size_t c = end;
		for (int part = 0; part < 2; part++) {
			if (c + 2 >= r->len || r->w[c] != ',' ||
			    r->w[c + 1] != ' ')
				break;
			size_t a = c + 2, b = a;
			while (b < r->len && r->w[b] != ',' && r->w[b] != '.' &&
			       r->w[b] != ';' && r->w[b] != BLANK &&
			       !(r->w[b] == ' ' && (word_at(r, b + 1, "and") ||
			                            word_at(r, b + 1, "but"))))
				b++;
			/* a dash or "the whole" ends it too */
			for (size_t k = a; k < b; k++)
				if ((unsigned char)r->w[k] == 0xe2 ||
				    r->w[k] == '-') {
					if (k > a && r->w[k - 1] == ' ') {
						b = k - 1;
						break;
					}
				}
			char *v = sky_rules__clean_value(r->orig + a, b - a);
			/* a postcode is the last words that each hold a
			 * digit ("Nova Scotia B3H 1A1", "LS6 2AB") */
			char *sp = v, *pc = NULL;
			for (char *w = v + strlen(v); w > v;) {
				char *ws = w;
				while (ws > v && ws[-1] != ' ')
					ws--;
				if (!strpbrk(ws, "0123456789") ||
				    (size_t)(w - ws) > 8)
					break;
				int digit = 0;
				for (char *t = ws; t < w; t++)
					digit |= isdigit((unsigned char)*t);
				if (!digit)
					break;
				pc = ws;
				w = ws > v ? ws - 1 : v;
			}
			if (pc == v) {
				sp = NULL;
			} else if (pc) {
				pc[-1] = '\0';
			}
			if (!sp) {
				sky_rules__goal_add_fact(r->g, "postcode", pc,
				                         0);
				pc = NULL;
				sp = "";
			}
			if (!*sp) {
				/* the postcode alone */
			} else if (part == 0) {
				sky_rules__goal_add_fact(r->g, "city", sp, 0);
			} else if (*sp) {
				sky_rules__goal_add_fact(r->g, "state", sp, 0);
			}
			if (pc)
				sky_rules__goal_add_fact(r->g, "postcode", pc,
				                         0);
			free(v);
			mark(r, c, b);
			c = b;
		}
		return;
	}
}

/* "at half past seven in the evening", "at 7:30 pm", "at 19:30". */
static void read_time(reader *r)
{
	static const char *const NUM[] = {
	    "one",   "two",  "three", "four",   "five",   "six", "seven",
	    "eight", "nine", "ten",   "eleven", "twelve", NULL};
	char *pl = sky_rules__plain(r->orig);
	int h = -1, m = 0;
	for (const char *c = pl; *c && h < 0; c++) {
		if (c != pl && c[-1] != ' ')
			continue;
		int off = -1;
		if (!strncmp(c, "half past ", 10))
			off = 30, c += 10;
		else if (!strncmp(c, "quarter past ", 13))
			off = 15, c += 13;
		else if (!strncmp(c, "quarter to ", 11))
			off = -15, c += 11;
		if (off == -1)
			continue;
		for (int i = 0; NUM[i]; i++)
			if (!strncmp(c, NUM[i], strlen(NUM[i])))
				h = i + 1;
		if (h < 0 && isdigit((unsigned char)*c))
			h = atoi(c);
		if (h < 0)
			break;
		m = off;
		if (m < 0) {
			h -= 1;
			m = 45;
		}
		if (h < 12 && (strstr(c, "evening") || strstr(c, "afternoon") ||
		               strstr(c, "pm") || strstr(c, "night") ||
		               (h < 7 && !strstr(c, "morning"))))
			h += 12;
	}
	free(pl);
	if (h < 0)
		return;
	char v[8];
	snprintf(v, sizeof v, "%02d:%02d", h % 24, m);
	sky_rules__goal_add_fact(r->g, "time", v, 0);
}

/* "a table for four", "for 3 people", "party of six" -> guests. */
static void read_party(reader *r)
{
	static const char *const NUM[] = {
	    "one",   "two",  "three", "four",   "five",   "six", "seven",
	    "eight", "nine", "ten",   "eleven", "twelve", NULL};
	static const char *const LEADS[] = {"table for", "party of", "for",
	                                    NULL};
	for (size_t p = 0; p < r->len; p++) {
		size_t li;
		for (li = 0; LEADS[li] && !word_at(r, p, LEADS[li]); li++)
			;
		if (!LEADS[li] || r->used[p])
			continue;
		size_t q = p + strlen(LEADS[li]);
		while (q < r->len && r->w[q] == ' ')
			q++;
		int n = -1;
		size_t e = q;
		for (int i = 0; NUM[i] && n < 0; i++)
			if (word_at(r, q, NUM[i]))
				n = i + 1, e = q + strlen(NUM[i]);
		if (n < 0 && isdigit((unsigned char)r->w[q])) {
			n = atoi(r->w + q);
			while (e < r->len && isdigit((unsigned char)r->w[e]))
				e++;
		}
		if (n < 1 || n > 40)
			continue;
		size_t a = e;
		while (a < r->len && r->w[a] == ' ')
			a++;
		/* "for four", "for 4 people": not "for 2 years" */
		int people =
		    word_at(r, a, "people") || word_at(r, a, "guests") ||
		    word_at(r, a, "persons") || word_at(r, a, "adults");
		if (strcmp(LEADS[li], "for") || people ||
		    (a >= r->len || !isalpha((unsigned char)r->w[a]) ||
		     word_at(r, a, "at") || word_at(r, a, "on"))) {
			char v[8];
			snprintf(v, sizeof v, "%d", n);
			sky_rules__goal_add_fact(r->g, "guests", v, 0);
			mark(r, q, e);
			return;
		}
	}
}

/* "he's 16", "she is 16", "aged 16", "16 years old" -> age. */
static void read_age(reader *r)
{
	for (size_t p = 0; p < r->len; p++) {
		if (!isdigit((unsigned char)r->w[p]) ||
		    (p && is_word_byte((unsigned char)r->w[p - 1])))
			continue;
		int n = atoi(r->w + p);
		size_t e = p;
		while (e < r->len && isdigit((unsigned char)r->w[e]))
			e++;
		if (n < 1 || n > 120 || e - p > 3)
			continue;
		/* the words before and after */
		size_t b = p;
		while (b > 0 && r->w[b - 1] == ' ')
			b--;
		size_t bs = b;
		while (bs > 0 && is_word_byte((unsigned char)r->w[bs - 1]))
			bs--;
		static const char *const BEFORE[] = {
		    "he's", "she's", "i'm", "aged", "age", "is", NULL};
		int before = word_is(r->w + bs, b - bs, BEFORE);
		size_t a = e;
		while (a < r->len && r->w[a] == ' ')
			a++;
		int after = word_at(r, a, "years old") ||
		            word_at(r, a, "year old") || word_at(r, a, "yo");
		if (!before && !after)
			continue;
		/* "is 16" only about a person */
		if (!after && word_is(r->w + bs, b - bs,
		                      (const char *const[]){"is", NULL}))
			continue;
		char v[8];
		snprintf(v, sizeof v, "%d", n);
		sky_rules__goal_add_fact(r->g, "age", v, 0);
		return;
	}
}

/* Vehicle and driving facts: "made in 2019", "about 8,000 miles a year",
 * "I've held my licence for 17 years". */
static void read_quantities(reader *r)
{
	char *pl = sky_rules__plain(r->orig);
	const char *h;
	char v[32];
	if ((h = strstr(pl, "made in ")) || (h = strstr(pl, "built in ")) ||
	    (h = strstr(pl, "manufactured in "))) {
		const char *d = strchr(h, ' ');
		d = d ? strchr(d + 1, ' ') : NULL;
		if (d && isdigit((unsigned char)d[1]) && strlen(d + 1) >= 4 &&
		    (!d[5] || d[5] == ' ')) {
			snprintf(v, sizeof v, "%.4s", d + 1);
			sky_rules__goal_add_fact(r->g, "year of manufacture", v,
			                         0);
		}
	}
	/* "8 000 miles a year" (plain text drops the comma) */
	for (const char *c = pl; *c; c++) {
		if (!isdigit((unsigned char)*c) || (c > pl && c[-1] != ' '))
			continue;
		const char *e = c;
		char num[32];
		size_t n = 0;
		while ((isdigit((unsigned char)*e) ||
		        (*e == ' ' && isdigit((unsigned char)e[1]) &&
		         isdigit((unsigned char)e[2]) &&
		         isdigit((unsigned char)e[3]) &&
		         !isdigit((unsigned char)e[4]))) &&
		       n < sizeof num - 1) {
			if (*e != ' ')
				num[n++] = *e;
			e++;
		}
		num[n] = '\0';
		if (!strncmp(e, " miles a year", 13) ||
		    !strncmp(e, " miles per year", 15) ||
		    !strncmp(e, " miles annually", 15) ||
		    !strncmp(e, " km a year", 10) ||
		    !strncmp(e, " kilometres a year", 18)) {
			sky_rules__goal_add_fact(r->g, "annual mileage", num,
			                         0);
			break;
		}
		c = e - 1;
	}
	/* "held my licence for 17 years", "been driving for 5 years" */
	for (const char *f = strstr(pl, " for "); f;
	     f = strstr(f + 1, " for ")) {
		const char *c = f + 5;
		if (!isdigit((unsigned char)*c))
			continue;
		int years = atoi(c);
		while (isdigit((unsigned char)*c))
			c++;
		if (strncmp(c, " years", 6) && strncmp(c, " year", 5))
			continue;
		/* the noun just before: "licence" */
		const char *a = f;
		while (a > pl && a[-1] != ' ')
			a--;
		char noun[40];
		snprintf(noun, sizeof noun, "%.*s", (int)(f - a), a);
		if (strlen(noun) < 4)
			continue;
		char key[64];
		snprintf(key, sizeof key, "years %s", noun);
		snprintf(v, sizeof v, "%d", years);
		sky_rules__goal_add_fact(r->g, key, v, 0);
		break;
	}
	free(pl);
}

/* "4-star feedback", "rate it 4 out of 5", "five stars" -> rating. */
static void read_rating(reader *r)
{
	static const char *const NUM[] = {"one",  "two",  "three",
	                                  "four", "five", NULL};
	char *pl = sky_rules__plain(r->orig);
	int n = -1;
	for (const char *c = pl; *c && n < 0; c++) {
		if (c != pl && c[-1] != ' ')
			continue;
		int v = -1;
		const char *e = c;
		if (isdigit((unsigned char)*c) &&
		    !isdigit((unsigned char)c[1])) {
			v = *c - '0';
			e = c + 1;
		}
		for (int i = 0; NUM[i] && v < 0; i++)
			if (!strncmp(c, NUM[i], strlen(NUM[i]))) {
				v = i + 1;
				e = c + strlen(NUM[i]);
			}
		if (v < 1 || v > 10)
			continue;
		if (!strncmp(e, " star", 5) || !strncmp(e, " out of", 7))
			n = v;
	}
	free(pl);
	if (n > 0) {
		char v[4];
		snprintf(v, sizeof v, "%d", n);
		sky_rules__goal_add_fact(r->g, "rating", v, 0);
	}
}

/* Statements a form asks as yes/no questions. */
static void read_statements(reader *r)
{
	static const struct {
		const char *phrase, *key, *value;
	} ST[] = {
	    {"not authorized to work", "authorized to work", "no"},
	    {"not authorised to work", "authorized to work", "no"},
	    {"authorized to work", "authorized to work", "yes"},
	    {"authorised to work", "authorized to work", "yes"},
	    {"allowed to work", "authorized to work", "yes"},
	    {"eligible to work", "authorized to work", "yes"},
	    {"right to work", "authorized to work", "yes"},
	    {"not need visa sponsorship", "sponsorship", "no"},
	    {"not need sponsorship", "sponsorship", "no"},
	    {"not require sponsorship", "sponsorship", "no"},
	    {"not require visa sponsorship", "sponsorship", "no"},
	    {"won't require sponsorship", "sponsorship", "no"},
	    {"won't need sponsorship", "sponsorship", "no"},
	    {"won't need visa sponsorship", "sponsorship", "no"},
	    {"no sponsorship", "sponsorship", "no"},
	    {"needs sponsorship", "sponsorship", "yes"},
	    {"need sponsorship", "sponsorship", "yes"},
	    {"require sponsorship", "sponsorship", "yes"},
	    {"over 18", "over 18", "yes"},
	    {"for good", "permanent", "yes"},
	    {"permanently", "permanent", "yes"},
	    {"temporarily", "permanent", "no"},
	    {"no marketing", "marketing", "no"},
	    {"no newsletter", "newsletter", "no"},
	    {NULL, NULL, NULL},
	};
	char *plain = sky_rules__plain(r->orig);
	for (size_t i = 0; ST[i].phrase; i++)
		if (sky_rules__has_phrase(plain, ST[i].phrase))
			sky_rules__goal_add_fact(r->g, ST[i].key, ST[i].value,
			                         0);
	free(plain);
}

/* "I live in Canada", "we're based in Spain" -> country (a region or
 * city name is left to the form's options to accept or not). */
static void read_residence(reader *r)
{
	static const char *const LEADS[] = {
	    "live in",   "lives in",    "living in", "based in", "located in",
	    "reside in", "resident of", "moved to",  NULL,
	};
	for (size_t p = 0; p < r->len; p++) {
		size_t li;
		for (li = 0; LEADS[li] && !word_at(r, p, LEADS[li]); li++)
			;
		if (!LEADS[li] || r->used[p])
			continue;
		size_t q = p + strlen(LEADS[li]);
		while (q < r->len && r->w[q] == ' ')
			q++;
		if (word_at(r, q, "the"))
			q += 4;
		size_t e = q, last = q;
		/* capitalised words: "Canada", "New Zealand" */
		while (e < r->len) {
			size_t we = cap_word(r, e);
			if (!we)
				break;
			last = we;
			e = we;
			if (e < r->len && r->w[e] == ' ' && cap_word(r, e + 1))
				e++;
			else
				break;
		}
		if (last == q || any_used(r, q, last))
			continue;
		char *v = sky_rules__strndup(r->orig + q, last - q);
		sky_rules__goal_add_fact(
		    r->g, sky_rules__country_code(v) ? "country" : "city", v,
		    0);
		free(v);
		mark(r, q, last);
		return;
	}
}

/* A token at p that holds a digit ("A-77120", "40021873", "Volt4ge!Now"
 * for secrets); its end (after dropping a closing bracket or sentence
 * punctuation), or 0. */
static size_t token_end(const reader *r, size_t p, int need_digit)
{
	size_t e = p;
	int digit = 0;
	while (e < r->len && r->w[e] != ' ' && r->w[e] != BLANK) {
		digit |= isdigit((unsigned char)r->w[e]);
		e++;
	}
	while (e > p && strchr("),;.", r->w[e - 1]))
		e--;
	if (e == p || (need_digit && !digit))
		return 0;
	return e;
}

/* "password Volt4ge!Now", "he wants the password Gear!Shift77": a secret
 * or user name right after the word that names it, whatever comes
 * before (the value keeps every character, "!" and "." included). */
static void read_credentials(reader *r)
{
	static const char *const KEYS[] = {
	    "password",  "passcode", "passphrase", "username",
	    "user name", "pin",      NULL};
	static const char *const SKIP[] = {"is",    "of",  "and", "for", "to",
	                                   "field", "box", "was", "you", "i",
	                                   "that",  "the", NULL};
	for (size_t p = 0; p < r->len; p++) {
		size_t k;
		for (k = 0; KEYS[k] && !word_at(r, p, KEYS[k]); k++)
			;
		if (!KEYS[k] || r->used[p])
			continue;
		size_t vs = p + strlen(KEYS[k]);
		if (vs >= r->len || r->w[vs] != ' ')
			continue;
		vs++;
		size_t we = vs;
		while (we < r->len && is_word_byte((unsigned char)r->w[we]))
			we++;
		if (word_is(r->w + vs, we - vs, SKIP) || r->w[vs] == BLANK)
			continue;
		size_t ve = vs;
		while (ve < r->len && r->w[ve] != ' ' && r->w[ve] != BLANK)
			ve++;
		/* a closing bracket or a full stop ends the sentence, not the
		 * secret: drop one of them only */
		if (ve > vs && strchr("),;", r->w[ve - 1]))
			ve--;
		else if (ve > vs + 1 && r->w[ve - 1] == '.' &&
		         (ve == r->len || r->w[ve] == ' '))
			ve--;
		if (ve == vs || any_used(r, vs, ve))
			continue;
		char *key = sky_rules__strdup(KEYS[k]);
		char *val = sky_rules__strndup(r->orig + vs, ve - vs);
		sky_rules__goal_add_fact(r->g, key, val, 0);
		free(key);
		free(val);
		mark(r, p, ve);
	}
}

/* "sign in ... as jpark": the account name of a sign-in. */
static void read_login_as(reader *r)
{
	static const char *const LOGIN[] = {"log in",  "log into",  "login",
	                                    "sign in", "sign into", "logged in",
	                                    NULL};
	static const char *const NOT_USER[] = {
	    "a",      "an",    "the",    "my",    "our",   "well",
	    "soon",   "usual", "before", "guest", "admin", "administrator",
	    "before", NULL};
	if (has_concept(r->g, SKY_RULES_C_USERNAME) ||
	    has_concept(r->g, SKY_RULES_C_EMAIL))
		return;
	for (size_t p = 0; p < r->len; p++) {
		size_t k;
		for (k = 0; LOGIN[k] && !word_at(r, p, LOGIN[k]); k++)
			;
		if (!LOGIN[k])
			continue;
		size_t end = value_end(r, p, r->len, 0);
		for (size_t q = p; q + 3 < end; q++) {
			if (!word_at(r, q, "as") || r->used[q])
				continue;
			size_t vs = q + 3, ve = vs;
			while (ve < r->len &&
			       is_word_byte((unsigned char)r->w[ve]))
				ve++;
			if (ve == vs || word_is(r->w + vs, ve - vs, NOT_USER) ||
			    any_used(r, vs, ve))
				continue;
			char *v = sky_rules__strndup(r->orig + vs, ve - vs);
			sky_rules__goal_add_fact(r->g, "username", v, 0);
			free(v);
			mark(r, q, ve);
			return;
		}
	}
}

/* "order A-77120", "member number 40021873", "invoice INV-20931": a
 * reference number after the noun that names it. */
static void read_references(reader *r)
{
	static const char *const NOUNS[] = {
	    "order",        "invoice",     "account",    "member",
	    "membership",   "reference",   "ticket",     "booking",
	    "confirmation", "policy",      "case",       "customer",
	    "passport",     "licence",     "license",    "tracking",
	    "registration", "claim",       "serial",     "vehicle",
	    "plate",        "taxpayer",    "meter",      "student",
	    "employee",     "reservation", "subscriber", NULL,
	};
	static const char *const NUM[] = {"number", "no",   "no.", "#",
	                                  "id",     "code", "ref", NULL};
	for (size_t p = 0; p < r->len; p++) {
		size_t k;
		for (k = 0; NOUNS[k] && !word_at(r, p, NOUNS[k]); k++)
			;
		if (!NOUNS[k] || r->used[p])
			continue;
		size_t ke = p + strlen(NOUNS[k]), q = ke;
		while (q < r->len && r->w[q] == ' ')
			q++;
		size_t nn;
		for (nn = 0; NUM[nn] && !word_at(r, q, NUM[nn]); nn++)
			;
		if (NUM[nn]) {
			ke = q + strlen(NUM[nn]);
			q = ke;
			while (q < r->len && (r->w[q] == ' ' || r->w[q] == ':'))
				q++;
		}
		if (q >= r->len || !isalnum((unsigned char)r->w[q]))
			continue;
		size_t ve = token_end(r, q, 1);
		if (!ve || ve - q < 3 || memchr(r->w + q, '@', ve - q) ||
		    any_used(r, q, ve))
			continue;
		/* a plate or postcode in two parts: "KX19 PLM" */
		while (ve < r->len && r->w[ve] == ' ') {
			size_t n2 = ve + 1, e2 = n2;
			while (e2 < r->len &&
			       (isupper((unsigned char)r->w[e2]) ||
			        isdigit((unsigned char)r->w[e2])))
				e2++;
			if (e2 - n2 < 2 || e2 - n2 > 4 ||
			    (e2 < r->len &&
			     is_word_byte((unsigned char)r->w[e2])))
				break;
			ve = e2;
		}
		char *key = sky_rules__strndup(r->orig + p, ke - p);
		char *val = sky_rules__strndup(r->orig + q, ve - q);
		if (!NUM[nn]) {
			char *k2 = sky_rules__printf("%s number", key);
			free(key);
			key = k2;
		}
		sky_rules__goal_add_fact(r->g, key, val, 0);
		free(key);
		free(val);
		mark(r, p, ve);
	}
}

/* Emails, phone numbers and file paths no phrase claimed. */
static void read_bare_values(reader *r)
{
	size_t p = 0;
	while (p < r->len) {
		while (p < r->len && (r->w[p] == ' ' || r->w[p] == BLANK))
			p++;
		size_t s = p;
		while (p < r->len && r->w[p] != ' ' && r->w[p] != BLANK)
			p++;
		if (p == s || any_used(r, s, p))
			continue;
		size_t ts = s, te = p;
		/* "(ada@x.org)", "<ada@x.org>" */
		while (ts < te && strchr("(<[", r->orig[ts]))
			ts++;
		while (te > ts && strchr(")>],;.", r->orig[te - 1]))
			te--;
		char *tok = sky_rules__clean_value(r->orig + ts, te - ts);
		int web =
		    !strncmp(tok, "http://", 7) || !strncmp(tok, "https://", 8);
		if (sky_rules__is_email(tok))
			sky_rules__goal_add_fact(r->g, "email", tok, 0);
		else if (sky_rules__is_file_ref(tok))
			sky_rules__goal_add_fact(r->g, "file", tok, 0);
		else if (web && !r->g->url)
			r->g->url = sky_rules__strdup(tok);
		free(tok);
	}
}

/* ---- intents -------------------------------------------------------------- */

static const struct {
	const char *verb;
	int kind;
} VERBS[] = {
    {"log in", SKY_RULES_I_LOGIN},      {"log into", SKY_RULES_I_LOGIN},
    {"login", SKY_RULES_I_LOGIN},       {"sign in", SKY_RULES_I_LOGIN},
    {"sign into", SKY_RULES_I_LOGIN},   {"signin", SKY_RULES_I_LOGIN},
    {"log on", SKY_RULES_I_LOGIN},      {"authenticate", SKY_RULES_I_LOGIN},
    {"search", SKY_RULES_I_SEARCH},     {"look up", SKY_RULES_I_SEARCH},
    {"look for", SKY_RULES_I_SEARCH},   {"click on", SKY_RULES_I_CLICK},
    {"click", SKY_RULES_I_CLICK},       {"press", SKY_RULES_I_CLICK},
    {"tap", SKY_RULES_I_CLICK},         {"hit", SKY_RULES_I_CLICK},
    {"select", SKY_RULES_I_CLICK},      {"choose", SKY_RULES_I_CLICK},
    {"open", SKY_RULES_I_OPEN},         {"go to", SKY_RULES_I_OPEN},
    {"navigate to", SKY_RULES_I_OPEN},  {"visit", SKY_RULES_I_OPEN},
    {"view", SKY_RULES_I_OPEN},         {"browse to", SKY_RULES_I_OPEN},
    {"head to", SKY_RULES_I_OPEN},      {"follow", SKY_RULES_I_OPEN},
    {"download", SKY_RULES_I_DOWNLOAD}, {"export", SKY_RULES_I_DOWNLOAD},
    {"upload", SKY_RULES_I_UPLOAD},     {"attach", SKY_RULES_I_UPLOAD},
    {"extract", SKY_RULES_I_EXTRACT},   {"get", SKY_RULES_I_EXTRACT},
    {"find", SKY_RULES_I_EXTRACT},      {"read", SKY_RULES_I_EXTRACT},
    {"list", SKY_RULES_I_EXTRACT},      {"tell", SKY_RULES_I_EXTRACT},
    {"what", SKY_RULES_I_EXTRACT},      {"which", SKY_RULES_I_EXTRACT},
    {"how many", SKY_RULES_I_EXTRACT},  {"how much", SKY_RULES_I_EXTRACT},
    {"return", SKY_RULES_I_EXTRACT},    {"scrape", SKY_RULES_I_EXTRACT},
    {"collect", SKY_RULES_I_EXTRACT},   {"fetch", SKY_RULES_I_EXTRACT},
    {"grab", SKY_RULES_I_EXTRACT},      {"pull", SKY_RULES_I_EXTRACT},
    {"retrieve", SKY_RULES_I_EXTRACT},  {"capture", SKY_RULES_I_EXTRACT},
    {"summarize", SKY_RULES_I_EXTRACT}, {"apply", SKY_RULES_I_SUBMIT},
    {"submit", SKY_RULES_I_SUBMIT},     {"sign up", SKY_RULES_I_SUBMIT},
    {"signup", SKY_RULES_I_SUBMIT},     {"register", SKY_RULES_I_SUBMIT},
    {"enroll", SKY_RULES_I_SUBMIT},     {"enrol", SKY_RULES_I_SUBMIT},
    {"subscribe", SKY_RULES_I_SUBMIT},  {"fill in", SKY_RULES_I_SUBMIT},
    {"fill out", SKY_RULES_I_SUBMIT},   {"fill", SKY_RULES_I_SUBMIT},
    {"complete", SKY_RULES_I_SUBMIT},   {"send", SKY_RULES_I_SUBMIT},
    {"contact", SKY_RULES_I_SUBMIT},    {"book", SKY_RULES_I_SUBMIT},
    {"order", SKY_RULES_I_SUBMIT},      {"place", SKY_RULES_I_SUBMIT},
    {"checkout", SKY_RULES_I_SUBMIT},   {"request", SKY_RULES_I_SUBMIT},
    {"create", SKY_RULES_I_SUBMIT},     {"join", SKY_RULES_I_SUBMIT},
    {"update", SKY_RULES_I_SUBMIT},     {"change", SKY_RULES_I_SUBMIT},
    {"set", SKY_RULES_I_SUBMIT},        {"edit", SKY_RULES_I_SUBMIT},
    {"save", SKY_RULES_I_SUBMIT},       {"post", SKY_RULES_I_SUBMIT},
    {"leave", SKY_RULES_I_SUBMIT},      {"rsvp", SKY_RULES_I_SUBMIT},
    {"purchase", SKY_RULES_I_SUBMIT},   {"buy", SKY_RULES_I_SUBMIT},
    {"claim", SKY_RULES_I_SUBMIT},      {"report", SKY_RULES_I_SUBMIT},
    {"file", SKY_RULES_I_SUBMIT},       {"reserve", SKY_RULES_I_SUBMIT},
    {"schedule", SKY_RULES_I_SUBMIT},   {"enter", SKY_RULES_I_SUBMIT},
    {"provide", SKY_RULES_I_SUBMIT},    {"add", SKY_RULES_I_SUBMIT},
    {"donate", SKY_RULES_I_SUBMIT},     {"renew", SKY_RULES_I_SUBMIT},
};
#define N_VERBS (sizeof VERBS / sizeof VERBS[0])

static const char *const FILLERS[] = {
    "then",         "and",        "please",    "also",        "next",
    "first",        "finally",    "now",       "afterwards",  "lastly",
    "after that",   "i want to",  "i need to", "i'd like to", "i would like to",
    "go ahead and", "help me",    "can you",   "could you",   "try to",
    "make sure to", "you should", "to",        NULL,
};

/* The verb at w[p] (longest match); its table index or -1. */
static int verb_at(const reader *r, size_t p, size_t *vlen)
{
	int best = -1;
	size_t bl = 0;
	for (size_t i = 0; i < N_VERBS; i++) {
		size_t l = strlen(VERBS[i].verb);
		if (l > bl && word_at(r, p, VERBS[i].verb)) {
			best = (int)i;
			bl = l;
		}
	}
	*vlen = bl;
	return best;
}

static size_t skip_fillers(const reader *r, size_t p, size_t end)
{
	for (int again = 1; again;) {
		again = 0;
		while (p < end && (r->w[p] == ' ' || r->w[p] == ','))
			p++;
		for (size_t i = 0; FILLERS[i]; i++)
			if (word_at(r, p, FILLERS[i])) {
				p += strlen(FILLERS[i]);
				again = 1;
				break;
			}
	}
	return p;
}

static int ordinal_of(const char *w, size_t n)
{
	static const char *const ORD[] = {"first",  "second", "third",
	                                  "fourth", "fifth",  NULL};
	static const char *const ORDN[] = {"1st", "2nd", "3rd",
	                                   "4th", "5th", NULL};
	for (int i = 0; ORD[i]; i++)
		if ((strlen(ORD[i]) == n && !strncasecmp(w, ORD[i], n)) ||
		    (strlen(ORDN[i]) == n && !strncasecmp(w, ORDN[i], n)))
			return i + 1;
	if (n == 3 && !strncasecmp(w, "top", 3))
		return 1;
	return 0;
}

/* The target after a click/open/download verb: a quoted text inside the
 * clause, else the words up to a preposition, without articles and
 * "page"/"link"/"button". */
static char *target_of(reader *r, size_t from, size_t end, int *ordinal)
{
	static const char *const STOPS[] = {"to",   "in",   "from", "for",
	                                    "and",  "then", "on",   "at",
	                                    "with", "so",   "of",   NULL};
	static const char *const TAILS[] = {
	    "page",   "link", "button", "tab",   "section", "menu", "item",
	    "option", "icon", "result", "entry", "card",    NULL,
	};
	for (size_t i = 0; i < r->nq; i++)
		if (r->qs[i] >= from && r->qe[i] <= end + 3 && !r->q_fact[i])
			return sky_rules__strndup(r->orig + r->qs[i],
			                          r->qe[i] - r->qs[i]);
	size_t ws[16], we[16];
	size_t n = words_in(r, from, end, ws, we, 16), a = 0, b;
	while (a < n &&
	       (word_is(r->w + ws[a], we[a] - ws[a], ARTICLES) ||
	        word_is(r->w + ws[a], we[a] - ws[a],
	                (const char *const[]){"on", "this", "that", NULL})))
		a++;
	if (a < n && (*ordinal = ordinal_of(r->w + ws[a], we[a] - ws[a])))
		a++;
	for (b = a; b < n && !word_is(r->w + ws[b], we[b] - ws[b], STOPS); b++)
		;
	while (b > a && word_is(r->w + ws[b - 1], we[b - 1] - ws[b - 1], TAILS))
		b--;
	if (b <= a)
		return NULL;
	return sky_rules__strndup(r->orig + ws[a], we[b - 1] - ws[a]);
}

static void add_intent(sky_rules_goal *g, int kind, const char *verb,
                       char *target, int ordinal, const char *clause,
                       size_t clause_len)
{
	g->intents =
	    realloc(g->intents, (g->nintents + 1) * sizeof *g->intents);
	if (!g->intents)
		abort();
	sky_rules_intent *in = &g->intents[g->nintents++];
	in->kind = kind;
	in->verb = sky_rules__strdup(verb);
	in->target = target;
	in->ordinal = ordinal;
	in->clause = sky_rules__clean_value(clause, clause_len);
}

/* Read the clause w[a, b): every verb at a clause or "and"/"then"
 * boundary starts an intent. */
static void read_clause(reader *r, size_t a, size_t b)
{
	size_t p = skip_fillers(r, a, b);
	while (p < b) {
		size_t vlen;
		int vi = r->used[p] ? -1 : verb_at(r, p, &vlen);
		if (vi < 0) {
			/* facts first ("my email is x and set ..."): go on at
			 * the next ", <verb>", "and <verb>" or "then <verb>" */
			size_t q = p;
			for (q = p + 1; q < b; q++) {
				size_t k, vl;
				if (r->w[q] != ' ' && r->w[q] != ',')
					continue;
				k = skip_fillers(r, q, b);
				if (k > q + 1 && !r->used[k] &&
				    verb_at(r, k, &vl) >= 0 &&
				    (r->w[q] == ',' ||
				     word_at(r, q + 1, "and") ||
				     word_at(r, q + 1, "then")))
					break;
			}
			if (q >= b)
				return;
			p = skip_fillers(r, q, b);
			continue;
		}
		size_t from = p + vlen;
		/* the next "and <verb>" or ", <verb>" ends this intent */
		size_t next = b;
		for (size_t j = from; j < b; j++) {
			if (r->w[j] != ' ' && r->w[j] != ',')
				continue;
			size_t k = skip_fillers(r, j, b), vl;
			if (k > j + 1 && verb_at(r, k, &vl) >= 0 &&
			    (r->w[j] == ',' || word_at(r, j + 1, "and") ||
			     word_at(r, j + 1, "then"))) {
				next = j;
				break;
			}
		}
		int kind = VERBS[vi].kind, ordinal = 0;
		char *target = NULL;
		/* "open a ticket", "open an account": making one, not going
		 * to a page */
		if (kind == SKY_RULES_I_OPEN) {
			size_t q = from;
			while (q < b && r->w[q] == ' ')
				q++;
			if (word_at(r, q, "a") || word_at(r, q, "an") ||
			    word_at(r, q, "new"))
				kind = SKY_RULES_I_SUBMIT;
		}
		/* "get a licence", "get me a quote": obtaining one, which
		 * is a form to send, not data to read */
		if (kind == SKY_RULES_I_EXTRACT &&
		    !strcmp(VERBS[vi].verb, "get")) {
			size_t q = from;
			while (q < b && r->w[q] == ' ')
				q++;
			if (word_at(r, q, "me") || word_at(r, q, "us")) {
				q += 2;
				while (q < b && r->w[q] == ' ')
					q++;
			}
			if (word_at(r, q, "a") || word_at(r, q, "an"))
				kind = SKY_RULES_I_SUBMIT;
		}
		if (kind == SKY_RULES_I_CLICK || kind == SKY_RULES_I_OPEN ||
		    kind == SKY_RULES_I_DOWNLOAD)
			target = target_of(r, from, next, &ordinal);
		add_intent(r->g, kind, VERBS[vi].verb, target, ordinal,
		           r->orig + p, next - p);
		p = skip_fillers(r, next, b);
	}
}

static void read_intents(reader *r)
{
	size_t a = 0;
	for (size_t i = 0; i <= r->len; i++) {
		char c = i < r->len ? r->w[i] : '\0';
		int end = c == '\0' || c == ';' || c == '\n' ||
		          ((c == '.' || c == '!' || c == '?') &&
		           (i + 1 >= r->len || r->w[i + 1] == ' ')) ||
		          (c == ':' && (i + 1 >= r->len || r->w[i + 1] == ' '));
		if (!end)
			continue;
		if (i > a)
			read_clause(r, a, i);
		a = i + 1;
	}
}

/* ---- the goal ------------------------------------------------------------- */

size_t sky_rules__goal_add_fact(sky_rules_goal *g, const char *key,
                                const char *value, int derived)
{
	char *w = sky_rules__words(key);
	for (size_t i = 0; i < g->nfacts; i++) {
		char *o = sky_rules__words(g->facts[i].key);
		int same = !strcmp(o, w) && *w;
		free(o);
		if (same) {
			free(w);
			return i; /* the first statement of a key wins */
		}
	}
	free(w);
	g->facts = realloc(g->facts, (g->nfacts + 1) * sizeof *g->facts);
	if (!g->facts)
		abort();
	sky_rules_fact *f = &g->facts[g->nfacts];
	f->key = sky_rules__strdup(key);
	f->value = sky_rules__strdup(value);
	f->concept = sky_rules__concept(key);
	f->derived = derived;
	/* a key that names nothing known may still hold a known shape */
	if (f->concept == SKY_RULES_C_NONE && sky_rules__is_email(value))
	f->concept = SKY_RULES_C_EMAIL;
	return g->nfacts++;
}

static void read_text(sky_rules_goal *g, const char *text, int intents)
{
	reader r = {0};
	r.g = g;
	r.orig = text;
	r.len = strlen(text);
	r.w = sky_rules__strdup(text);
	r.used = calloc(r.len + 1, 1);
	if (!r.used)
		abort();
	read_json_objects(&r);
	find_quotes(&r);
	for (size_t i = 0; i < r.nq; i++)
		read_quote(&r, i);
	read_colon_pairs(&r);
	read_is_phrases(&r);
	read_credentials(&r);
	read_with_pairs(&r);
	read_change_to(&r);
	read_search(&r);
	read_bare_values(&r);
	read_login_as(&r);
	read_references(&r);
	read_called(&r);
	read_message(&r);
	read_names(&r);
	read_employer(&r);
	read_phones(&r);
	read_birth(&r);
	read_address(&r);
	read_dates(&r);
	read_time(&r);
	read_party(&r);
	read_age(&r);
	read_quantities(&r);
	read_rating(&r);
	read_statements(&r);
	read_residence(&r);
	if (intents)
		read_intents(&r);
	free(r.w);
	free(r.used);
}

void sky_rules__goal_parse(const char *goal, const json_t *payload,
                           sky_rules_goal *out)
{
	memset(out, 0, sizeof *out);
	out->text = sky_rules__strdup(goal ? goal : "");
	read_text(out, out->text, 1);
	if (json_is_string(payload)) {
		json_t *v = json_loads(json_string_value(payload), 0, NULL);
		if (json_is_object(v))
			add_json_facts(out, v, NULL);
		else
			read_text(out, json_string_value(payload), 0);
		json_decref(v);
	} else if (json_is_object(payload)) {
		add_json_facts(out, payload, NULL);
	}
}

void sky_rules__goal_free(sky_rules_goal *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nfacts; i++) {
		free(g->facts[i].key);
		free(g->facts[i].value);
	}
	for (size_t i = 0; i < g->nintents; i++) {
		free(g->intents[i].verb);
		free(g->intents[i].target);
		free(g->intents[i].clause);
	}
	free(g->facts);
	free(g->intents);
	free(g->query);
	free(g->url);
	free(g->text);
	memset(g, 0, sizeof *g);
}

const sky_rules_intent *sky_rules__goal_final(const sky_rules_goal *g)
{
	for (size_t i = g->nintents; i > 0; i--)
		if (g->intents[i - 1].kind != SKY_RULES_I_EXTRACT)
			return &g->intents[i - 1];
	return NULL;
}

int sky_rules__goal_has(const sky_rules_goal *g, int kind)
{
	for (size_t i = 0; i < g->nintents; i++)
		if (g->intents[i].kind == kind)
			return 1;
	return 0;
}

int sky_rules__goal_submits(const sky_rules_goal *g)
{
	return sky_rules__goal_has(g, SKY_RULES_I_SUBMIT) ||
	       sky_rules__goal_has(g, SKY_RULES_I_UPLOAD);
}
