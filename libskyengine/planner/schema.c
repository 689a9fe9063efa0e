/* Validation of extracted data against data_extraction_schema: a JSON
 * Schema subset plus Skyvern's shorthand, filling, safe coercions, and a
 * message for every mismatch. Never fails on bad data, only reports it. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planner/planner.h"
#include "util/error.h"
#include "util/json.h"
#include <skyx/str.h>

enum {
	T_OBJ = 1 << 0,
	T_ARR = 1 << 1,
	T_STR = 1 << 2,
	T_NUM = 1 << 3,
	T_INT = 1 << 4,
	T_BOOL = 1 << 5,
	T_NULL = 1 << 6,
};

#define SCHEMA_MAX_DEPTH 32

struct sctx {
	json_t *msgs; /* NULL while probing anyOf branches silently */
	int nmsgs;
	char *mismatch; /* why the last apply() said !ok; its caller reports */
};

static void msg(struct sctx *c, const char *path, const char *fmt, ...)
    SKY_PRINTF(3, 4);

static void msg(struct sctx *c, const char *path, const char *fmt, ...)
{
	c->nmsgs++;
	if (!c->msgs)
		return;
	skyx_buf b = {0};
	va_list ap;
	skyx_buf_printf(&b, "%s: ", path);
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.data)
		json_array_append_new(c->msgs, json_string(b.data));
	skyx_buf_free(&b);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

static int type_bit(const char *t)
{
	static const struct {
		const char *n;
		int bit;
	} map[] = {{"object", T_OBJ}, {"array", T_ARR},   {"string", T_STR},
	           {"number", T_NUM}, {"integer", T_INT}, {"boolean", T_BOOL},
	           {"null", T_NULL},  {"float", T_NUM},   {"int", T_INT},
	           {"bool", T_BOOL},  {"str", T_STR},     {"list", T_ARR},
	           {"dict", T_OBJ}};
	for (size_t i = 0; t && i < sizeof map / sizeof map[0]; i++) {
		if (!strcasecmp(t, map[i].n))
			return map[i].bit;
	}
	return 0;
}

static const char *mask_name(int mask, char *buf, size_t len)
{
	static const char *names[] = {"object",  "array",   "string", "number",
	                              "integer", "boolean", "null"};
	buf[0] = '\0';
	for (int i = 0; i < 7; i++) {
		if (!(mask & (1 << i)))
			continue;
		if (buf[0])
			strncat(buf, " or ", len - strlen(buf) - 1);
		strncat(buf, names[i], len - strlen(buf) - 1);
	}
	return buf;
}

/* Allowed types of a schema; 0 means anything. */
static int type_mask(const json_t *schema)
{
	int m = 0;
	json_t *t = json_object_get(schema, "type");
	if (json_is_string(t)) {
		m = type_bit(json_string_value(t));
	} else if (json_is_array(t)) {
		size_t i;
		json_t *x;
		json_array_foreach (t, i, x)
			m |= type_bit(json_string_value(x));
	}
	if (!m && json_object_get(schema, "properties"))
		m = T_OBJ;
	if (!m && json_object_get(schema, "items"))
		m = T_ARR;
	if (m && json_is_true(json_object_get(schema, "nullable")))
		m |= T_NULL;
	return m;
}

static int value_bits(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return T_OBJ;
	case JSON_ARRAY:
		return T_ARR;
	case JSON_STRING:
		return T_STR;
	case JSON_INTEGER:
		return T_INT | T_NUM;
	case JSON_REAL: {
		double d = json_real_value(v);
		/* Range first: casting a double beyond json_int_t is UB. */
		if (d > -9e15 && d < 9e15 && d == (double)(json_int_t)d)
			return T_NUM | T_INT;
		return T_NUM;
	}
	case JSON_TRUE:
	case JSON_FALSE:
		return T_BOOL;
	default:
		return T_NULL;
	}
}

/* "$1,234.50", "-12", "1234.5 USD", "€ 3" -> number. 0 on success. */
static int parse_amount(const char *s, double *out, int *integral)
{
	char clean[64];
	size_t n = 0;
	int sign = 0, digits = 0, dot = 0;
	while (isspace((unsigned char)*s))
		s++;
	for (int pass = 0; pass < 2; pass++) {
		if ((*s == '-' || *s == '+') && !sign) {
			sign = *s == '-' ? -1 : 1;
			s++;
		}
		if (*s == '$')
			s++;
		else if (!strncmp(s, "\xE2\x82\xAC", 3)) /* euro */
			s += 3;
		else if (!strncmp(s, "\xC2\xA3", 2) || /* pound */
		         !strncmp(s, "\xC2\xA5", 2))   /* yen */
			s += 2;
		while (*s == ' ')
			s++;
	}
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			digits++;
		} else if (*s == ',' && digits && !dot) {
			/* Thousands separators only: exactly three digits
			 * follow. */
			if (!(isdigit((unsigned char)s[1]) &&
			      isdigit((unsigned char)s[2]) &&
			      isdigit((unsigned char)s[3]) &&
			      !isdigit((unsigned char)s[4])))
				return -1;
			continue;
		} else if (*s == '.' && !dot) {
			dot = 1;
		} else {
			break;
		}
		if (n + 2 >= sizeof clean)
			return -1;
		clean[n++] = *s;
	}
	while (*s == ' ')
		s++;
	/* An optional currency code: "12.50 USD". */
	if (isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
	    isupper((unsigned char)s[2]) && !s[3])
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (*s || !digits)
		return -1;
	clean[n] = '\0';
	errno = 0;
	char *end;
	double d = strtod(clean, &end);
	if (*end || errno)
		return -1;
	*out = sign < 0 ? -d : d;
	/* Range first: casting a double beyond long long is UB. */
	*integral = fabs(d) < 9e15 && (!dot || d == (double)(long long)d);
	return 0;
}

static int is_nullish(const char *s)
{
	static const char *words[] = {"",   "null", "none", "n/a",
	                              "na", "nil",  "-",    "unknown"};
	while (isspace((unsigned char)*s))
		s++;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t l = strlen(words[i]);
		if (!strncasecmp(s, words[i], l)) {
			const char *r = s + l;
			while (isspace((unsigned char)*r))
				r++;
			if (!*r)
				return 1;
		}
	}
	return 0;
}

/* Turn v into one of the types in mask when that is safe; NULL when not.
 * Returns a new reference. */
static json_t *coerce(const json_t *v, int mask)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (mask & T_BOOL) {
			if (!strcasecmp(s, "true") || !strcasecmp(s, "yes"))
				return json_true();
			if (!strcasecmp(s, "false") || !strcasecmp(s, "no"))
				return json_false();
		}
		if (mask & (T_NUM | T_INT)) {
			double d;
			int integral;
			if (!parse_amount(s, &d, &integral)) {
				if (integral && fabs(d) < 9e15)
					return json_integer((json_int_t)d);
				if (mask & T_NUM)
					return json_real(d);
			}
		}
		if (mask & (T_OBJ | T_ARR)) {
			json_t *p = sky_json_loads(s);
			if (p && (value_bits(p) & mask))
				return p;
			json_decref(p);
		}
		if ((mask & T_NULL) || (mask & (T_NUM | T_INT | T_BOOL))) {
			if (is_nullish(s))
				return json_null();
		}
		return NULL;
	}
	if (json_is_integer(v) && (mask & T_BOOL) &&
	    (json_integer_value(v) == 0 || json_integer_value(v) == 1))
		return json_boolean(json_integer_value(v));
	if ((json_is_number(v) || json_is_boolean(v)) && (mask & T_STR)) {
		if (json_is_boolean(v))
			return json_string(json_is_true(v) ? "true" : "false");
		char buf[64];
		if (json_is_integer(v))
			snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT,
			         json_integer_value(v));
		else
			snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
		return json_string(buf);
	}
	return NULL;
}

static json_t *apply(struct sctx *c, const json_t *schema, const json_t *v,
                     const char *path, int depth, int *ok);

static char *path_key(const char *path, const char *key)
{
	return skyx_asprintf("%s.%s", path, key);
}

static json_t *apply_union(struct sctx *c, const json_t *alts, const json_t *v,
                           const char *path, int depth, int *ok)
{
	size_t i;
	json_t *alt;
	/* The first branch that fits without complaint wins; otherwise
	 * report against the first branch that is not just "null". */
	json_array_foreach (alts, i, alt) {
		struct sctx probe = {0};
		int aok;
		json_t *r = apply(&probe, alt, v, path, depth + 1, &aok);
		free(probe.mismatch);
		if (aok && !probe.nmsgs) {
			*ok = 1;
			return r;
		}
		json_decref(r);
	}
	json_array_foreach (alts, i, alt) {
		if (type_mask(alt) != T_NULL)
			return apply(c, alt, v, path, depth + 1, ok);
	}
	*ok = 1;
	return json_deep_copy(v);
}

static json_t *apply_object(struct sctx *c, const json_t *schema, json_t *obj,
                            const char *path, int depth)
{
	json_t *props = json_object_get(schema, "properties");
	json_t *addl = json_object_get(schema, "additionalProperties");
	json_t *out = json_object();
	const char *k;
	json_t *pv;
	/* Declared fields first, in the schema's order, each present. */
	json_object_foreach (props, k, pv) {
		char *sub = path_key(path, k);
		json_t *have = json_object_get(obj, k);
		if (!have) {
			json_object_set_new(out, k, json_null());
		} else {
			int ok;
			json_t *r = apply(c, pv, have, sub, depth + 1, &ok);
			/* A wrong type is kept (the data may still help a
			 * human) and reported; null is always fine here. */
			if (!ok && !json_is_null(have))
				msg(c, sub, "%s", c->mismatch);
			json_object_set_new(out, k, r);
		}
		free(sub);
	}
	json_t *req = json_object_get(schema, "required");
	size_t i;
	json_t *rk;
	json_array_foreach (req, i, rk) {
		const char *name = json_string_value(rk);
		if (name && !json_object_get(out, name)) {
			json_t *have = json_object_get(obj, name);
			json_object_set(out, name, have ? have : json_null());
		}
	}
	json_object_foreach (obj, k, pv) {
		if (json_object_get(out, k))
			continue;
		if (json_is_false(addl) && props) {
			char *sub = path_key(path, k);
			msg(c, sub, "dropped: not a declared field");
			free(sub);
			continue;
		}
		json_object_set(out, k, pv);
	}
	return out;
}

static json_t *apply_array(struct sctx *c, const json_t *schema, json_t *arr,
                           const char *path, int depth)
{
	json_t *items = json_object_get(schema, "items");
	json_t *out = json_array();
	size_t i;
	json_t *it;
	json_array_foreach (arr, i, it) {
		char *sub = skyx_asprintf("%s[%zu]", path, i);
		int ok = 1;
		json_t *r = items ? apply(c, items, it, sub, depth + 1, &ok)
		                  : json_incref(it);
		if (ok) {
			json_array_append_new(out, r);
		} else {
			if (json_is_null(it))
				msg(c, sub, "dropped: null item");
			else
				msg(c, sub, "dropped: %s", c->mismatch);
			json_decref(r);
		}
		free(sub);
	}
	return out;
}

static void check_enum(struct sctx *c, const json_t *schema, json_t **v,
                       const char *path)
{
	json_t *en = json_object_get(schema, "enum");
	if (!json_is_array(en) || json_is_null(*v))
		return;
	size_t i;
	json_t *e;
	json_array_foreach (en, i, e) {
		if (json_equal(e, *v))
			return;
	}
	if (json_is_string(*v)) {
		json_array_foreach (en, i, e) {
			if (json_is_string(e) &&
			    !strcasecmp(json_string_value(e),
			                json_string_value(*v))) {
				json_decref(*v);
				*v = json_incref(e);
				return;
			}
		}
	}
	char *s = sky_json_dumps(*v);
	msg(c, path, "%.60s is not one of the allowed values", s ? s : "?");
	free(s);
}

static json_t *apply(struct sctx *c, const json_t *schema, const json_t *v,
                     const char *path, int depth, int *ok)
{
	*ok = 1;
	if (!json_is_object(schema) || depth > SCHEMA_MAX_DEPTH)
		return json_deep_copy(v);
	json_t *alts = json_object_get(schema, "anyOf");
	if (!json_is_array(alts))
		alts = json_object_get(schema, "oneOf");
	if (json_is_array(alts) && json_array_size(alts))
		return apply_union(c, alts, v, path, depth, ok);

	int mask = type_mask(schema);
	json_t *cur;
	if (json_is_null(v)) {
		/* null is how a model says "not on the page"; fine for a
		 * field, not for an array item of another type. */
		*ok = !mask || (mask & T_NULL);
		return json_null();
	}
	if (!mask || (value_bits(v) & mask)) {
		if (json_is_real(v) && (mask & T_INT) && !(mask & T_NUM))
			cur = json_integer((json_int_t)json_real_value(v));
		else
			cur = json_incref((json_t *)v);
	} else if ((cur = coerce(v, mask))) {
		/* coerced silently: the value meant what the schema asks */
	} else if ((mask & T_ARR) && !(mask & T_OBJ) && !json_is_array(v)) {
		json_t *items = json_object_get(schema, "items");
		struct sctx probe = {0};
		int iok;
		json_t *r = apply(&probe, items, v, path, depth + 1, &iok);
		free(probe.mismatch);
		if (iok && !probe.nmsgs) {
			msg(c, path,
			    "expected an array; wrapped the single "
			    "%s",
			    type_name(v));
			cur = json_array();
			json_array_append_new(cur, r);
		} else {
			json_decref(r);
		}
	} else if ((mask & T_OBJ) && json_is_array(v) &&
	           json_array_size(v) == 1 &&
	           json_is_object(json_array_get(v, 0))) {
		msg(c, path, "expected an object; unwrapped a one-item array");
		cur = json_incref(json_array_get(v, 0));
	}
	if (!cur) {
		char want[64];
		char *s = sky_json_dumps(v);
		free(c->mismatch);
		c->mismatch = skyx_asprintf("expected %s, got %s %.60s",
		                            mask_name(mask, want, sizeof want),
		                            type_name(v), s ? s : "");
		free(s);
		*ok = 0;
		return json_deep_copy(v);
	}
	json_t *r = cur;
	if (json_is_object(cur) && (mask & T_OBJ))
		r = apply_object(c, schema, cur, path, depth);
	else if (json_is_array(cur) && (mask & T_ARR))
		r = apply_array(c, schema, cur, path, depth);
	else
		json_incref(r);
	json_decref(cur);
	check_enum(c, schema, &r, path);
	return r;
}

/* ---- shorthand -------------------------------------------------------- */

static int is_schema_keyword(const char *k)
{
	static const char *kw[] = {"type",
	                           "properties",
	                           "items",
	                           "anyOf",
	                           "oneOf",
	                           "allOf",
	                           "enum",
	                           "const",
	                           "$ref",
	                           "description",
	                           "title",
	                           "nullable",
	                           "required",
	                           "format",
	                           "default",
	                           "examples",
	                           "additionalProperties",
	                           "minimum",
	                           "maximum",
	                           "pattern",
	                           "minItems",
	                           "maxItems",
	                           "$schema",
	                           "$defs",
	                           "definitions"};
	for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
		if (!strcmp(k, kw[i]))
			return 1;
	}
	return 0;
}

static json_t *normalize(const json_t *s, int depth);

/* Whether `v` has the type keyword `k` takes: {"title": {"type":
 * "string"}} is a field named title, {"title": "Invoice"} a keyword. */
static int keyword_fits(const char *k, const json_t *v)
{
	if (!strcmp(k, "type"))
		return json_is_string(v) || json_is_array(v);
	if (!strcmp(k, "properties") || !strcmp(k, "$defs") ||
	    !strcmp(k, "definitions"))
		return json_is_object(v) && !json_object_get(v, "type");
	if (!strcmp(k, "items"))
		return json_is_object(v) || json_is_array(v);
	if (!strcmp(k, "additionalProperties"))
		return json_is_boolean(v) ||
		       (json_is_object(v) && json_object_get(v, "type"));
	if (!strcmp(k, "nullable"))
		return json_is_boolean(v);
	if (!strcmp(k, "default") || !strcmp(k, "const"))
		return !json_is_object(v);
	if (!strcmp(k, "minimum") || !strcmp(k, "maximum") ||
	    !strcmp(k, "minItems") || !strcmp(k, "maxItems"))
		return json_is_number(v);
	if (!strcmp(k, "anyOf") || !strcmp(k, "oneOf") || !strcmp(k, "allOf") ||
	    !strcmp(k, "enum") || !strcmp(k, "required") ||
	    !strcmp(k, "examples"))
		return json_is_array(v);
	return json_is_string(v); /* title, description, format, $ref, ... */
}

/* {"a": {...}, "b": "number"}: every key a field name. */
static int is_shorthand(const json_t *s)
{
	const char *k;
	json_t *v;
	if (!json_object_size(s))
		return 0;
	json_object_foreach ((json_t *)s, k, v) {
		if (is_schema_keyword(k) && keyword_fits(k, v))
			return 0;
		if (!json_is_object(v) &&
		    !(json_is_string(v) && type_bit(json_string_value(v))))
			return 0;
	}
	return 1;
}

static json_t *normalize_props(const json_t *props, int depth)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)props, k, v) {
		if (json_is_string(v) && type_bit(json_string_value(v)))
			json_object_set_new(
			    out, k,
			    json_pack("{s:s}", "type", json_string_value(v)));
		else
			json_object_set_new(out, k, normalize(v, depth + 1));
	}
	return out;
}

static json_t *normalize(const json_t *s, int depth)
{
	if (!json_is_object(s) || depth > SCHEMA_MAX_DEPTH)
		return json_deep_copy(s);
	if (is_shorthand(s)) {
		json_t *o = json_object();
		json_object_set_new(o, "type", json_string("object"));
		json_object_set_new(o, "properties", normalize_props(s, depth));
		return o;
	}
	json_t *o = json_deep_copy(s);
	json_t *props = json_object_get(s, "properties");
	if (json_is_object(props))
		json_object_set_new(o, "properties",
		                    normalize_props(props, depth));
	json_t *items = json_object_get(s, "items");
	if (json_is_object(items))
		json_object_set_new(o, "items", normalize(items, depth + 1));
	const char *uk[] = {"anyOf", "oneOf"};
	for (int u = 0; u < 2; u++) {
		json_t *alts = json_object_get(s, uk[u]);
		if (!json_is_array(alts))
			continue;
		json_t *na = json_array();
		size_t i;
		json_t *a;
		json_array_foreach (alts, i, a)
			json_array_append_new(na, normalize(a, depth + 1));
		json_object_set_new(o, uk[u], na);
	}
	if (!json_object_get(o, "type")) {
		if (json_is_object(props))
			json_object_set_new(o, "type", json_string("object"));
		else if (items)
			json_object_set_new(o, "type", json_string("array"));
	}
	return o;
}

int sky_planner_schema_normalize(const json_t *schema, json_t **out)
{
	*out = NULL;
	if (!json_is_object(schema))
		return sky_error_set(SKY_EINVALID,
		                     "data_extraction_schema must be a JSON "
		                     "object, not %s",
		                     schema ? type_name(schema) : "missing");
	*out = normalize(schema, 0);
	return *out ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_planner_schema_apply(const json_t *schema, const json_t *value,
                             json_t **out, json_t **messages)
{
	json_t *norm = NULL;
	*out = NULL;
	if (messages)
		*messages = NULL;
	int rc = sky_planner_schema_normalize(schema, &norm);
	if (rc)
		return rc;
	struct sctx c = {.msgs = json_array()};
	json_t *v = value ? (json_t *)value : json_null();
	int ok;
	if (json_is_null(v) && (type_mask(norm) & T_OBJ) &&
	    !(type_mask(norm) & T_NULL)) {
		/* Nothing found: the declared shape with every field null. */
		msg(&c, "$", "no data; every field is null");
		json_t *empty = json_object();
		*out = apply_object(&c, norm, empty, "$", 0);
		json_decref(empty);
	} else {
		*out = apply(&c, norm, v, "$", 0, &ok);
		if (!ok && !json_is_null(v))
			msg(&c, "$", "%s", c.mismatch);
	}
	free(c.mismatch);
	json_decref(norm);
	if (messages)
		*messages = c.msgs;
	else
		json_decref(c.msgs);
	return *out ? 0 : sky_error_from_code(SKY_ENOMEM);
}
