/* Unit tests: planner/schema.c, validating extracted data against
 * data_extraction_schema (shorthand, filling, coercion, reporting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skyengine.h>

#include "planner/planner.h"
#include "skytest.h"
#include "util/json.h"
#include <skyx/str.h>

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	ck_assert_msg(v != NULL, "bad test JSON: %s: %s", text, e.text);
	return v;
}

/* Apply `schema` to `value`; check the result equals `want` and that the
 * messages, joined, contain each of the NULL-terminated `msgs` (and that
 * there are exactly `nmsgs` of them). */
static void expect(const char *schema, const char *value, const char *want,
                   size_t nmsgs, const char *const *msgs)
{
	json_t *s = J(schema), *v = J(value), *w = J(want);
	json_t *out = NULL, *m = NULL;
	ck_assert_int_eq(sky_planner_schema_apply(s, v, &out, &m), 0);
	char *got = sky_json_dumps(out);
	skyx_buf b = {0};
	size_t i;
	json_t *x;
	json_array_foreach (m, i, x) {
		skyx_buf_puts(&b, json_string_value(x));
		skyx_buf_putc(&b, '\n');
	}
	char *gm = b.data ? skyx_buf_steal(&b) : strdup("");
	ck_assert_msg(json_equal(out, w), "schema %s value %s: got %s want %s",
	              schema, value, got, want);
	ck_assert_msg(json_array_size(m) == nmsgs, "messages %s, want %zu", gm,
	              nmsgs);
	for (i = 0; msgs && msgs[i]; i++)
		ck_assert_msg(strstr(gm, msgs[i]) != NULL,
		              "messages %s lack <%s>", gm, msgs[i]);
	free(got);
	free(gm);
	json_decref(s);
	json_decref(v);
	json_decref(w);
	json_decref(out);
	json_decref(m);
}

START_TEST(skyvern_shorthand)
{
	expect("{\"application_success\": {\"type\": \"boolean\"}}",
	       "{\"application_success\": \"true\"}",
	       "{\"application_success\": true}", 0, NULL);
	/* Missing declared field: filled with null, no complaint. */
	expect("{\"application_success\": {\"type\": \"boolean\"}, "
	       "\"reference\": {\"type\": \"string\"}}",
	       "{\"reference\": \"APP-2231\"}",
	       "{\"application_success\": null, \"reference\": \"APP-2231\"}",
	       0, NULL);
	/* Type names as strings, and a field called "title". */
	expect("{\"title\": {\"type\": \"string\"}, \"price\": \"number\"}",
	       "{\"title\": \"Desk\", \"price\": \"€ 199\"}",
	       "{\"title\": \"Desk\", \"price\": 199}", 0, NULL);
	/* Nested shorthand. */
	expect("{\"address\": {\"street\": {\"type\": \"string\"}, \"zip\": "
	       "{\"type\": \"string\"}}}",
	       "{\"address\": {\"street\": \"1 Main St\"}}",
	       "{\"address\": {\"street\": \"1 Main St\", \"zip\": null}}", 0,
	       NULL);
}
END_TEST

START_TEST(full_schema_fill_and_coerce)
{
	const char *schema =
	    "{\"type\": \"object\", \"properties\": {"
	    "\"invoice_id\": {\"type\": \"string\"},"
	    "\"total\": {\"type\": \"number\"},"
	    "\"count\": {\"type\": \"integer\"},"
	    "\"paid\": {\"type\": \"boolean\"},"
	    "\"due\": {\"type\": [\"string\", \"null\"]},"
	    "\"lines\": {\"type\": \"array\", \"items\": {\"type\": "
	    "\"object\", \"properties\": {\"sku\": {\"type\": \"string\"}, "
	    "\"qty\": {\"type\": \"integer\"}}, \"required\": [\"sku\", "
	    "\"qty\"]}}},"
	    "\"required\": [\"invoice_id\", \"total\", \"customer\"]}";
	expect(schema,
	       "{\"invoice_id\": 1042, \"total\": \"$1,234.50\", \"count\": "
	       "\"1,200\", \"paid\": \"No\", \"lines\": [{\"sku\": \"A-1\", "
	       "\"qty\": \"3\"}, \"garbage\", {\"sku\": \"B-2\"}, null, "
	       "{\"sku\": \"C-3\", \"qty\": 2.0}], \"note\": \"kept\"}",
	       "{\"invoice_id\": \"1042\", \"total\": 1234.5, \"count\": 1200, "
	       "\"paid\": false, \"due\": null, \"lines\": [{\"sku\": \"A-1\", "
	       "\"qty\": 3}, {\"sku\": \"B-2\", \"qty\": null}, {\"sku\": "
	       "\"C-3\", \"qty\": 2}], \"customer\": null, \"note\": \"kept\"}",
	       2,
	       (const char *const[]){"$.lines[1]: dropped",
	                             "$.lines[3]: dropped", NULL});
}
END_TEST

START_TEST(wrong_types_are_reported_not_hidden)
{
	expect("{\"total\": {\"type\": \"number\"}, \"tags\": {\"type\": "
	       "\"array\", \"items\": {\"type\": \"string\"}}}",
	       "{\"total\": \"about twelve\", \"tags\": \"red\"}",
	       "{\"total\": \"about twelve\", \"tags\": [\"red\"]}", 2,
	       (const char *const[]){
	           "$.total: expected number, got string \"about twelve\"",
	           "$.tags: expected an array; wrapped the single string",
	           NULL});
	/* Nothing safe to do with an object where a number goes. */
	expect(
	    "{\"n\": {\"type\": \"integer\"}}", "{\"n\": {\"v\": 1}}",
	    "{\"n\": {\"v\": 1}}", 1,
	    (const char *const[]){"$.n: expected integer, got object", NULL});
	/* 12.5 is not an integer, and says so. */
	expect(
	    "{\"n\": {\"type\": \"integer\"}}", "{\"n\": 12.5}",
	    "{\"n\": 12.5}", 1,
	    (const char *const[]){"expected integer, got number 12.5", NULL});
	/* Beyond a 64-bit integer, a real stays a real and is reported
	 * (found by the fuzzer: the range check came after the cast, which
	 * is undefined behaviour that UBSan in CI catches). */
	expect("{\"n\": {\"type\": \"integer\"}}", "{\"n\": 1e300}",
	       "{\"n\": 1e300}", 1,
	       (const char *const[]){"expected integer, got number", NULL});
	expect("{\"n\": {\"type\": \"integer\"}}",
	       "{\"n\": \"$100000000000000000000000000000\"}",
	       "{\"n\": \"$100000000000000000000000000000\"}", 1,
	       (const char *const[]){"expected integer", NULL});
	/* "N/A" for a number is how a page says "none". */
	expect("{\"n\": {\"type\": \"number\"}}", "{\"n\": \"N/A\"}",
	       "{\"n\": null}", 0, NULL);
	/* 1,2345 is not a thousands separator: not a number. */
	expect("{\"n\": {\"type\": \"number\"}}", "{\"n\": \"1,2345\"}",
	       "{\"n\": \"1,2345\"}", 1, NULL);
}
END_TEST

START_TEST(enum_union_and_closed_objects)
{
	expect("{\"type\": \"object\", \"properties\": {\"status\": {\"type\": "
	       "\"string\", \"enum\": [\"Open\", \"Closed\"]}}}",
	       "{\"status\": \"closed\"}", "{\"status\": \"Closed\"}", 0, NULL);
	expect("{\"type\": \"object\", \"properties\": {\"status\": {\"enum\": "
	       "[\"Open\", \"Closed\"]}}}",
	       "{\"status\": \"Pending\"}", "{\"status\": \"Pending\"}", 1,
	       (const char *const[]){"not one of the allowed values", NULL});
	const char *u = "{\"type\": \"object\", \"properties\": {\"v\": "
	                "{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": "
	                "\"null\"}]}}}";
	expect(u, "{\"v\": \"7\"}", "{\"v\": 7}", 0, NULL);
	expect(u, "{\"v\": null}", "{\"v\": null}", 0, NULL);
	expect(u, "{\"v\": \"seven\"}", "{\"v\": \"seven\"}", 1, NULL);
	expect("{\"type\": \"object\", \"properties\": {\"v\": {\"type\": "
	       "\"string\", \"nullable\": true}}}",
	       "{\"v\": 42}", "{\"v\": \"42\"}", 0, NULL);
	expect(
	    "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": "
	    "\"string\"}}, \"additionalProperties\": false}",
	    "{\"a\": \"x\", \"b\": 1}", "{\"a\": \"x\"}", 1,
	    (const char *const[]){"$.b: dropped: not a declared field", NULL});
}
END_TEST

START_TEST(top_level_shapes)
{
	/* An array answer for an object schema with one element. */
	expect("{\"name\": {\"type\": \"string\"}}", "[{\"name\": \"Ada\"}]",
	       "{\"name\": \"Ada\"}", 1,
	       (const char *const[]){"unwrapped a one-item array", NULL});
	/* null for an object: the shape with nulls. */
	expect("{\"name\": {\"type\": \"string\"}, \"age\": {\"type\": "
	       "\"integer\"}}",
	       "null", "{\"name\": null, \"age\": null}", 1,
	       (const char *const[]){"no data", NULL});
	/* An array schema at the top. */
	expect("{\"type\": \"array\", \"items\": {\"type\": \"number\"}}",
	       "[1, \"2\", \"x\", 3.5]", "[1, 2, 3.5]", 1,
	       (const char *const[]){"$[2]: dropped", NULL});
	/* A JSON text inside a string, for an object field. */
	expect("{\"o\": {\"type\": \"object\", \"properties\": {\"k\": "
	       "{\"type\": \"integer\"}}}}",
	       "{\"o\": \"{\\\"k\\\": 5}\"}", "{\"o\": {\"k\": 5}}", 0, NULL);
	/* An empty schema accepts anything. */
	expect("{}", "[1, {\"a\": true}]", "[1, {\"a\": true}]", 0, NULL);
}
END_TEST

START_TEST(bad_schemas_are_errors)
{
	json_t *out = NULL, *m = NULL, *v = J("{}");
	json_t *arr = J("[1]");
	ck_assert_int_eq(sky_planner_schema_apply(arr, v, &out, &m),
	                 SKY_EINVALID);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "must be a JSON object"));
	ck_assert_int_eq(sky_planner_schema_apply(NULL, v, &out, NULL),
	                 SKY_EINVALID);
	/* Deeply nested schemas stop at a depth limit without a crash. */
	json_t *deep = json_object(), *cur = deep;
	for (int i = 0; i < 200; i++) {
		json_t *next = json_object();
		json_object_set_new(cur, "type", json_string("object"));
		json_object_set_new(cur, "properties",
		                    json_pack("{s:o}", "x", next));
		cur = next;
	}
	json_t *val = J("{\"x\": {\"x\": {\"x\": 1}}}");
	ck_assert_int_eq(sky_planner_schema_apply(deep, val, &out, &m), 0);
	json_decref(out);
	json_decref(m);
	json_decref(val);
	json_decref(deep);
	json_decref(arr);
	json_decref(v);
}
END_TEST

START_TEST(normalize_keeps_full_schemas)
{
	json_t *s = J("{\"type\": \"object\", \"properties\": {\"a\": "
	              "{\"type\": \"string\", \"description\": \"x\"}}, "
	              "\"required\": [\"a\"]}");
	json_t *n = NULL;
	ck_assert_int_eq(sky_planner_schema_normalize(s, &n), 0);
	ck_assert(json_equal(s, n));
	json_decref(n);
	json_decref(s);
	s = J("{\"properties\": {\"a\": {\"type\": \"string\"}}}");
	ck_assert_int_eq(sky_planner_schema_normalize(s, &n), 0);
	ck_assert_str_eq(sky_json_str(n, "type"), "object");
	json_decref(n);
	json_decref(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, skyvern_shorthand);
	tcase_add_test(tc, full_schema_fill_and_coerce);
	tcase_add_test(tc, wrong_types_are_reported_not_hidden);
	tcase_add_test(tc, enum_union_and_closed_objects);
	tcase_add_test(tc, top_level_shapes);
	tcase_add_test(tc, bad_schemas_are_errors);
	tcase_add_test(tc, normalize_keeps_full_schemas);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
