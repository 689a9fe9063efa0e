/* Unit tests: engine/request (task-run request parsing and validation,
 * URL normalization, FastAPI-shaped errors, the run_request echo). */
#include <jansson.h>
#include <skyengine.h>
#include <stdio.h>
#include <string.h>

#include "engine/request.h"
#include "skytest.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>

static sky_task_request *R;
static sky_request_error E;

static void teardown(void)
{
	sky_task_request_free(R);
	R = NULL;
	sky_request_error_clear(&E);
}

/* Parse a NUL-terminated body; returns the code. */
static int parse_opts(const char *body, unsigned flags)
{
	sky_request_options o = {flags, NULL};
	sky_task_request_free(R);
	R = NULL;
	sky_request_error_clear(&E);
	return sky_task_request_parse(body, strlen(body), &o, &R, &E);
}

static int parse(const char *body)
{
	return parse_opts(body, 0);
}

static void ok(const char *body)
{
	ck_assert_msg(parse(body) == 0, "%s -> %s", body,
	              E.body ? E.body : sky_error_last());
	ck_assert_int_eq(E.status, 0);
	ck_assert_ptr_null(E.body);
}

/* The refusal's detail list. */
static json_t *details(int want_status)
{
	json_t *body;
	ck_assert_int_eq(E.status, want_status);
	body = json_loads(E.body, JSON_ALLOW_NUL, NULL);
	ck_assert_ptr_nonnull(body);
	ck_assert(json_is_array(json_object_get(body, "detail")));
	return body;
}

/* Check item i of the detail list: type and loc ("body.a.b"). */
static json_t *item(json_t *body, size_t i, const char *type, const char *loc)
{
	json_t *it = json_array_get(json_object_get(body, "detail"), i);
	json_t *l = json_object_get(it, "loc");
	skyx_buf b = {0};
	size_t k;
	json_t *part;

	ck_assert_msg(it != NULL, "no item %zu in %s", i, E.body);
	json_array_foreach (l, k, part) {
		if (k)
			skyx_buf_putc(&b, '.');
		if (json_is_integer(part))
			skyx_buf_printf(&b, "%lld",
			                (long long)json_integer_value(part));
		else
			skyx_buf_puts(&b, json_string_value(part));
	}
	ck_assert_str_eq(json_string_value(json_object_get(it, "type")), type);
	ck_assert_str_eq(b.data, loc);
	ck_assert(json_object_get(it, "msg") && json_object_get(it, "input"));
	skyx_buf_free(&b);
	return it;
}

static size_t n_items(json_t *body)
{
	return json_array_size(json_object_get(body, "detail"));
}

/* ---- the seed's example --------------------------------------------- */

static const char seed_example[] =
    "{\n"
    "\"prompt\": \"Apply for a job on behalf of this person: name: Chris "
    "P Bacon. email: chris@pbacon.com\",\n"
    "\"url\": \"https://jobs.lever.co/leverdemo-8/"
    "45d39614-464a-4b62-a5cd-8683ce4fb80a/apply\",\n"
    "\"title\": \"Job Application Task\",\n"
    "\"engine\": \"skyvern-2.0\",\n"
    "\"proxy_location\": \"RESIDENTIAL\",\n"
    "\"data_extraction_schema\": {\n"
    "\"application_success\": {\n"
    "\"type\": \"boolean\"\n"
    "}\n"
    "}\n"
    "}";

START_TEST(seed_example_parses_and_echoes)
{
	ok(seed_example);
	ck_assert_str_eq(R->prompt, "Apply for a job on behalf of this person: "
	                            "name: Chris P Bacon. email: "
	                            "chris@pbacon.com");
	ck_assert_str_eq(R->url, "https://jobs.lever.co/leverdemo-8/"
	                         "45d39614-464a-4b62-a5cd-8683ce4fb80a/apply");
	ck_assert_str_eq(R->title, "Job Application Task");
	ck_assert_str_eq(R->engine, "skyvern-2.0");
	ck_assert_str_eq(R->run_type, SKY_RUN_TYPE_V2);
	ck_assert_str_eq(R->proxy_location, "\"RESIDENTIAL\"");
	ck_assert_str_eq(R->data_extraction_schema,
	                 "{\"application_success\":{\"type\":\"boolean\"}}");
	ck_assert_ptr_null(R->error_code_mapping);
	ck_assert_int_eq(R->max_steps, 0);
	ck_assert_int_eq(R->max_screenshot_scrolls, -1);
	ck_assert_int_eq(R->publish_workflow, 0);
	/* The keys of Skyvern's POST answer, in its order, nulls included. */
	ck_assert_str_eq(
	    R->run_request,
	    "{\"engine\":\"skyvern-2.0\",\"prompt\":\"Apply for a job on "
	    "behalf of this person: name: Chris P Bacon. email: "
	    "chris@pbacon.com\",\"url\":\"https://jobs.lever.co/"
	    "leverdemo-8/45d39614-464a-4b62-a5cd-8683ce4fb80a/apply\","
	    "\"webhook_url\":null,\"totp_identifier\":null,\"totp_url\":"
	    "null,\"proxy_location\":\"RESIDENTIAL\",\"max_steps\":null,"
	    "\"data_extraction_schema\":{\"application_success\":{\"type\":"
	    "\"boolean\"}},\"error_code_mapping\":null,"
	    "\"browser_session_id\":null,\"start_fresh_browser\":false,"
	    "\"max_screenshot_scrolls\":null}");
}
END_TEST

START_TEST(request_lands_in_the_store)
{
	char *dir = skytest_tmpdir("request");
	sky_store *s = NULL;
	sky_task_new in;
	sky_task_rec *t = NULL, *g = NULL;

	ok("{\"prompt\":\"fill the form\",\"url\":\"127.0.0.1:8080\","
	   "\"engine\":\"skyvern-1.0\",\"max_steps\":\"3\","
	   "\"navigation_payload\":{\"name\":\"Chris\"},"
	   "\"error_code_mapping\":{\"NO\":\"closed\"},"
	   "\"extra_http_headers\":{\"X-Test\":\"1\"},"
	   "\"max_screenshot_scrolls\":0,\"totp_identifier\":\"me@x.com\"}");
	/* "127.0.0.1:8080" has no scheme Python would see... */
	ck_assert_str_eq(R->url, "https://127.0.0.1:8080/");
	ck_assert_int_eq(sky_store_open(&s, dir, NULL), 0);
	sky_task_request_to_new(R, &in);
	in.idempotency_key = "k";
	ck_assert_int_eq(sky_store_task_create(s, &in, &t, NULL), 0);
	ck_assert(skyx_str_startswith(t->task_id, "tsk_"));
	ck_assert(!skyx_str_startswith(t->task_id, "tsk_v2_"));
	ck_assert_int_eq(sky_store_task_get(s, NULL, t->task_id, &g), 0);
	ck_assert_str_eq(g->run_type, "task_v1");
	ck_assert_str_eq(g->engine, "skyvern-1.0");
	ck_assert_str_eq(g->url, "https://127.0.0.1:8080/");
	ck_assert_int_eq(g->max_steps, 3);
	ck_assert_str_eq(g->navigation_payload, "{\"name\":\"Chris\"}");
	ck_assert_str_eq(g->error_code_mapping, "{\"NO\":\"closed\"}");
	ck_assert_str_eq(g->extra_http_headers, "{\"X-Test\":\"1\"}");
	ck_assert_int_eq(g->max_screenshot_scrolls, 0);
	ck_assert_str_eq(g->totp_identifier, "me@x.com");
	ck_assert_str_eq(g->run_request, R->run_request);
	ck_assert_str_eq(g->proxy_location, "\"RESIDENTIAL\"");
	sky_task_rec_free(t);
	sky_task_rec_free(g);
	sky_store_close(s);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(defaults)
{
	ok("{\"prompt\":\"\"}");
	ck_assert_str_eq(R->prompt, "");
	ck_assert_ptr_null(R->url);
	ck_assert_str_eq(R->engine, "skyvern-2.0");
	ck_assert_str_eq(R->run_type, SKY_RUN_TYPE_V2);
	ck_assert_str_eq(R->proxy_location, "\"RESIDENTIAL\"");
	ck_assert_int_eq(R->include_action_history_in_verification, 0);
	ck_assert_str_eq(R->run_request,
	                 "{\"engine\":\"skyvern-2.0\",\"prompt\":\"\","
	                 "\"url\":null,\"webhook_url\":null,"
	                 "\"totp_identifier\":null,\"totp_url\":null,"
	                 "\"proxy_location\":\"RESIDENTIAL\",\"max_steps\":"
	                 "null,\"data_extraction_schema\":null,"
	                 "\"error_code_mapping\":null,\"browser_session_id\":"
	                 "null,\"start_fresh_browser\":false,"
	                 "\"max_screenshot_scrolls\":null}");
	/* Explicit nulls are nulls, not defaults. */
	ok("{\"prompt\":\"x\",\"proxy_location\":null,\"url\":null,"
	   "\"title\":null,\"max_steps\":null}");
	ck_assert_ptr_null(R->proxy_location);
	ck_assert(strstr(R->run_request, "\"proxy_location\":null"));
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

START_TEST(missing_prompt)
{
	ck_assert_int_eq(parse("{}"), SKY_EINVALID);
	ck_assert_int_eq(E.status, 422);
	ck_assert_str_eq(E.body, "{\"detail\":[{\"type\":\"missing\",\"loc\":"
	                         "[\"body\",\"prompt\"],\"msg\":\"Field "
	                         "required\",\"input\":{}}]}");
	ck_assert_str_eq(E.detail, "[{\"type\":\"missing\",\"loc\":[\"body\","
	                           "\"prompt\"],\"msg\":\"Field required\","
	                           "\"input\":{}}]");
	ck_assert(strstr(sky_error_last(), "prompt: Field required"));
	ck_assert_ptr_null(R);
	/* The input of a missing field is the whole object. */
	ck_assert_int_eq(parse("{\"url\":\"https://a.com\"}"), SKY_EINVALID);
	ck_assert(strstr(E.body, "\"input\":{\"url\":\"https://a.com\"}"));
	ck_assert_int_eq(parse("{\"prompt\":null}"), SKY_EINVALID);
	json_t *b = details(422);
	item(b, 0, "string_type", "body.prompt");
	json_decref(b);
}
END_TEST

START_TEST(wrong_types_collected_in_field_order)
{
	json_t *b, *it;
	ck_assert_int_eq(parse("{\"publish_workflow\":\"maybe\",\"prompt\":5,"
	                       "\"title\":[],\"max_steps\":{},"
	                       "\"error_code_mapping\":\"x\","
	                       "\"webhook_url\":7,\"totp_identifier\":true,"
	                       "\"include_action_history_in_verification\":"
	                       "[],\"navigation_payload\":[1,2]}"),
	                 SKY_EINVALID);
	b = details(422);
	ck_assert_uint_eq(n_items(b), 8);
	it = item(b, 0, "string_type", "body.prompt");
	ck_assert_str_eq(sky_json_str(it, "msg"),
	                 "Input should be a valid string");
	ck_assert_int_eq(json_integer_value(json_object_get(it, "input")), 5);
	item(b, 1, "string_type", "body.title");
	item(b, 2, "dict_type", "body.error_code_mapping");
	it = item(b, 3, "int_type", "body.max_steps");
	ck_assert_str_eq(sky_json_str(it, "msg"),
	                 "Input should be a valid integer");
	item(b, 4, "string_type", "body.webhook_url");
	item(b, 5, "string_type", "body.totp_identifier");
	it = item(b, 6, "bool_parsing", "body.publish_workflow");
	ck_assert_str_eq(sky_json_str(it, "msg"),
	                 "Input should be a valid boolean, unable to interpret "
	                 "input");
	item(b, 7, "bool_type", "body.include_action_history_in_verification");
	json_decref(b);
	ck_assert(strstr(sky_error_last(), "(8 errors)"));
}
END_TEST

START_TEST(enums)
{
	json_t *b, *it;
	const char *expected =
	    "'skyvern-1.0', 'skyvern-2.0', 'skyvern-3.0', 'openai-cua', "
	    "'anthropic-cua', 'ui-tars' or 'yutori-navigator'";
	char msg[256];

	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"engine\":\"skyvern-9\"}"),
	                 SKY_EINVALID);
	b = details(422);
	it = item(b, 0, "enum", "body.engine");
	snprintf(msg, sizeof msg, "Input should be %s", expected);
	ck_assert_str_eq(sky_json_str(it, "msg"), msg);
	ck_assert_str_eq(sky_json_str(json_object_get(it, "ctx"), "expected"),
	                 expected);
	json_decref(b);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"engine\":null}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "enum", "body.engine");
	json_decref(b);

	/* Known to Skyvern, not run by skyengine: a clear 400. */
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"engine\":\"openai-cua\"}"),
	                 SKY_EINVALID);
	ck_assert_int_eq(E.status, 400);
	ck_assert_str_eq(E.body, "{\"detail\":\"Engine openai-cua is not "
	                         "supported by skyengine; use skyvern-1.0 or "
	                         "skyvern-2.0\"}");
	ok("{\"prompt\":\"p\",\"engine\":\"skyvern-1.0\"}");
	ck_assert_str_eq(R->run_type, SKY_RUN_TYPE_V1);

	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"proxy_location\":"
	                       "\"MARS\"}"),
	                 SKY_EINVALID);
	b = details(422);
	it = item(b, 0, "enum", "body.proxy_location");
	ck_assert(strstr(sky_json_str(it, "msg"), "'RESIDENTIAL', 'US-CA', "));
	ck_assert(
	    strstr(sky_json_str(it, "msg"), "'RESIDENTIAL_ISP' or 'NONE'"));
	json_decref(b);
	ok("{\"prompt\":\"p\",\"proxy_location\":\"RESIDENTIAL_GB\"}");
	ck_assert_str_eq(R->proxy_location, "\"RESIDENTIAL_GB\"");
	ok("{\"prompt\":\"p\",\"proxy_location\":\"NONE\"}");
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"proxy_location\":3}"),
	                 SKY_EINVALID);
}
END_TEST

START_TEST(proxy_objects)
{
	json_t *b;
	ok("{\"prompt\":\"p\",\"proxy_location\":{\"country\":\"US\","
	   "\"subdivision\":\"CA\",\"city\":\"San Francisco\"}}");
	ck_assert_str_eq(R->proxy_location,
	                 "{\"country\":\"US\",\"subdivision\":\"CA\","
	                 "\"city\":\"San Francisco\"}");
	ck_assert(strstr(R->run_request, "\"proxy_location\":{\"country\":"
	                                 "\"US\""));
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"proxy_location\":{"
	                       "\"country\":\"USA\",\"city\":5}}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "value_error", "body.proxy_location.country");
	item(b, 1, "string_type", "body.proxy_location.city");
	json_decref(b);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"proxy_location\":{"
	                       "\"country\":\"DE\",\"subdivision\":"
	                       "\"12345678901\"}}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "string_too_long", "body.proxy_location.subdivision");
	json_decref(b);

	/* Our own proxy server; its password is a secret at once. */
	ok("{\"prompt\":\"p\",\"proxy_location\":{\"url\":"
	   "\"http://user:s3cr3t-pw@proxy.example:3128\"}}");
	char *red = sky_redact("connecting with s3cr3t-pw");
	ck_assert(!strstr(red, "s3cr3t-pw"));
	free(red);
	/* So is one in a task URL. */
	ok("{\"prompt\":\"p\",\"url\":\"https://bob:t4sk-pw@intranet.example/"
	   "\"}");
	ck_assert_str_eq(R->url, "https://bob:t4sk-pw@intranet.example/");
	red = sky_redact("typing t4sk-pw");
	ck_assert(!strstr(red, "t4sk-pw"));
	free(red);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"proxy_location\":{\"url\":"
	                       "\"ftp://proxy.example\"}}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "value_error", "body.proxy_location.url");
	json_decref(b);
	ck_assert_int_eq(
	    parse("{\"prompt\":\"p\",\"proxy_location\":{\"a\":1}}"),
	    SKY_EINVALID);
	b = details(422);
	item(b, 0, "value_error", "body.proxy_location");
	json_decref(b);
}
END_TEST

START_TEST(schema_mapping_payload_headers)
{
	json_t *b, *it;
	ok("{\"prompt\":\"p\",\"data_extraction_schema\":\"the total\"}");
	ck_assert_str_eq(R->data_extraction_schema, "\"the total\"");
	ok("{\"prompt\":\"p\",\"data_extraction_schema\":[1,{\"a\":0.5}]}");
	ck_assert_str_eq(R->data_extraction_schema, "[1,{\"a\":0.5}]");
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"data_extraction_schema\":"
	                       "12}"),
	                 SKY_EINVALID);
	b = details(422);
	ck_assert_uint_eq(n_items(b), 3);
	item(b, 0, "dict_type", "body.data_extraction_schema.dict[any,any]");
	item(b, 1, "list_type", "body.data_extraction_schema.list[any]");
	item(b, 2, "string_type", "body.data_extraction_schema.str");
	json_decref(b);

	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"error_code_mapping\":{"
	                       "\"OK\":\"fine\",\"A\":1}}"),
	                 SKY_EINVALID);
	b = details(422);
	ck_assert_uint_eq(n_items(b), 1);
	it = item(b, 0, "string_type", "body.error_code_mapping.A");
	ck_assert_int_eq(json_integer_value(json_object_get(it, "input")), 1);
	json_decref(b);

	/* Any JSON is a payload; it is kept for the planner. */
	ok("{\"prompt\":\"p\",\"navigation_payload\":\"just text\"}");
	ck_assert_str_eq(R->navigation_payload, "\"just text\"");
	ok("{\"prompt\":\"p\",\"navigation_payload\":{\"a\":[1,true,null]}}");
	ck_assert_str_eq(R->navigation_payload, "{\"a\":[1,true,null]}");

	ok("{\"prompt\":\"p\",\"extra_http_headers\":{\"X-Ok\":\"1\","
	   "\"Accept-Language\":\"en\"}}");
	ck_assert_str_eq(R->extra_http_headers,
	                 "{\"X-Ok\":\"1\",\"Accept-Language\":\"en\"}");
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"extra_http_headers\":{"
	                       "\"X\":\"a\\r\\nInjected: 1\"}}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "value_error", "body.extra_http_headers.X");
	json_decref(b);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"extra_http_headers\":{"
	                       "\"Bad Name\":\"a\"}}"),
	                 SKY_EINVALID);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"extra_http_headers\":["
	                       "]}"),
	                 SKY_EINVALID);
}
END_TEST

/* ---- URLs ----------------------------------------------------------------- */

static void bad_url_400(const char *field, const char *value, const char *shown)
{
	char body[4096], want[4096];
	snprintf(body, sizeof body, "{\"prompt\":\"p\",\"%s\":\"%s\"}", field,
	         value);
	snprintf(want, sizeof want,
	         "{\"detail\":\"Invalid URL: %s. Skyvern supports HTTP and "
	         "HTTPS urls with max 2083 character length.\"}",
	         shown);
	ck_assert_int_eq(parse(body), SKY_EINVALID);
	ck_assert_int_eq(E.status, 400);
	ck_assert_str_eq(E.body, want);
}

START_TEST(bad_urls_are_400_with_the_contract_message)
{
	bad_url_400("url", "ftp://files.example.com/x",
	            "ftp://files.example.com/x");
	bad_url_400("url", "javascript:alert(1)", "javascript:alert(1)");
	bad_url_400("url", "file:///etc/passwd", "file:///etc/passwd");
	/* Python's urlsplit sees "localhost" as the scheme here. */
	bad_url_400("url", "localhost:8080", "localhost:8080");
	/* No scheme: https:// is prepended before the check fails. */
	bad_url_400("url", "exa mple.com", "https://exa mple.com");
	bad_url_400("url", "", "");
	bad_url_400("url", "http://", "http://");
	bad_url_400("url", "https://a.com:99999/", "https://a.com:99999/");
	bad_url_400("url", "https://a.com:8x/", "https://a.com:8x/");
	bad_url_400("url", "http://[::1/", "http://[::1/");
	bad_url_400("url", "http://256.1.1.1/", "http://256.1.1.1/");
	bad_url_400("webhook_url", "mailto:me@x.com", "mailto:me@x.com");
	bad_url_400("totp_url", "gopher://x", "gopher://x");

	/* A URL error wins over every 422 (Pydantic raised there). */
	ck_assert_int_eq(
	    parse("{\"prompt\":5,\"engine\":\"x\",\"url\":"
	          "\"https://ok.com\",\"webhook_url\":\"ws://h\"}"),
	    SKY_EINVALID);
	ck_assert_int_eq(E.status, 400);
	ck_assert(strstr(E.body, "Invalid URL: ws://h."));
	ck_assert(strstr(sky_error_last(), "Invalid URL: ws://h."));

	/* 2083 characters at most. */
	skyx_buf b = {0}, u = {0};
	skyx_buf_puts(&u, "https://example.com/");
	while (u.len < 2084)
		skyx_buf_putc(&u, 'a');
	skyx_buf_printf(&b, "{\"prompt\":\"p\",\"url\":\"%s\"}", u.data);
	ck_assert_int_eq(parse(b.data), SKY_EINVALID);
	ck_assert_int_eq(E.status, 400);
	u.len = 2083;
	u.data[u.len] = '\0';
	skyx_buf_reset(&b);
	skyx_buf_printf(&b, "{\"prompt\":\"p\",\"url\":\"%s\"}", u.data);
	ok(b.data);
	ck_assert_str_eq(R->url, u.data);
	skyx_buf_free(&b);
	skyx_buf_free(&u);
}
END_TEST

static void norm(const char *in, const char *want)
{
	char *out = NULL, *detail = NULL;
	int rc = sky_url_validate(in, 0, &out, &detail);
	ck_assert_msg(rc == 0, "%s: %s", in, detail);
	ck_assert_str_eq(out, want);
	free(out);
	free(detail);
}

START_TEST(urls_are_normalized)
{
	norm("example.com", "https://example.com/");
	norm("https://example.com", "https://example.com/");
	norm("  https://example.com/a  ", "https://example.com/a");
	norm("HTTP://Example.COM:80/a/../b/./c?x=1 2#f g",
	     "http://example.com/b/c?x=1%202#f%20g");
	norm("https://example.com:443/", "https://example.com/");
	norm("https://example.com:8443", "https://example.com:8443/");
	norm("http://127.0.0.1:8080/apply", "http://127.0.0.1:8080/apply");
	norm("http://127.1:8080", "http://127.0.0.1:8080/");
	norm("http://0x7f000001/", "http://127.0.0.1/");
	norm("http://2130706433/", "http://127.0.0.1/");
	norm("http://[::1]:3000/x", "http://[::1]:3000/x");
	norm("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/");
	norm("https://münchen.de/straße",
	     "https://xn--mnchen-3ya.de/stra%C3%9Fe");
	norm("https://BÜCHER.example/", "https://xn--bcher-kva.example/");
	norm("http://user:pa ss@h.com", "http://user:pa%20ss@h.com/");
	norm("https:\\\\example.com\\a\\b", "https://example.com/a/b");
	norm("https:///example.com//x", "https://example.com//x");
	norm("https://example.com/a/b/..", "https://example.com/a/");
	norm("https://example.com/%2e%2E/x", "https://example.com/x");
	norm("https://example.com/\"quoted\"<>",
	     "https://example.com/%22quoted%22%3C%3E");
	norm("https://exa\tmple.com/\n", "https://example.com/");
}
END_TEST

static void blocked(const char *url, unsigned flags, const char *host)
{
	char *out = NULL, *detail = NULL, want[256];
	ck_assert_msg(sky_url_validate(url, flags, &out, &detail) ==
	                  SKY_EINVALID,
	              "%s was allowed", url);
	snprintf(want, sizeof want, "The host in your url is blocked: %s",
	         host);
	ck_assert_str_eq(detail, want);
	ck_assert_ptr_null(out);
	free(detail);
}

static void allowed(const char *url, unsigned flags)
{
	char *out = NULL, *detail = NULL;
	ck_assert_msg(sky_url_validate(url, flags, &out, &detail) == 0,
	              "%s: %s", url, detail);
	free(out);
}

START_TEST(blocked_hosts_by_option)
{
	const unsigned m = SKY_URL_BLOCK_METADATA, p = SKY_URL_BLOCK_PRIVATE;

	/* Default (design.md §6): loopback and private hosts are fine. */
	allowed("http://169.254.169.254/latest/meta-data", 0);
	allowed("http://localhost:8080/", 0);
	allowed("http://10.0.0.7/", 0);

	blocked("http://169.254.169.254/latest", m, "169.254.169.254");
	/* Other spellings of the same address do not slip through. */
	blocked("http://0xA9FEA9FE/", m, "169.254.169.254");
	blocked("http://2852039166/", m, "169.254.169.254");
	blocked("http://169.254.43518/", m, "169.254.169.254");
	blocked("http://metadata.google.internal/computeMetadata/v1/", m,
	        "metadata.google.internal");
	blocked("http://METADATA.google.internal./", m,
	        "metadata.google.internal.");
	blocked("http://[fd00:ec2::254]/", m, "fd00:ec2::254");
	blocked("http://[::ffff:169.254.169.254]/", m,
	        "::ffff:169.254.169.254");
	blocked("http://[fe80::1]/", m, "fe80::1");
	allowed("http://127.0.0.1:8080/", m);
	allowed("http://192.168.1.10/", m);

	blocked("http://127.0.0.1:8080/", p, "127.0.0.1");
	blocked("http://localhost/", p, "localhost");
	blocked("http://app.localhost/", p, "app.localhost");
	blocked("http://10.1.2.3/", p, "10.1.2.3");
	blocked("http://172.20.0.1/", p, "172.20.0.1");
	blocked("http://192.168.1.1/", p, "192.168.1.1");
	blocked("http://100.64.0.1/", p, "100.64.0.1");
	blocked("http://0.0.0.0/", p, "0.0.0.0");
	blocked("http://[::1]/", p, "::1");
	blocked("http://[::ffff:127.0.0.1]/", p, "::ffff:127.0.0.1");
	blocked("http://[fc00::1]/", p, "fc00::1");
	blocked("http://db.internal/", p, "db.internal");
	blocked("http://printer.local/", p, "printer.local");
	blocked("http://api.default.svc/", p, "api.default.svc");
	blocked("http://169.254.169.254/", p, "169.254.169.254");
	allowed("https://example.com/", p);
	allowed("http://172.32.0.1/", p);
	allowed("http://8.8.8.8/", p);

	/* Through the request: the same 400 shape. */
	ck_assert_int_eq(parse_opts("{\"prompt\":\"p\",\"url\":"
	                            "\"http://169.254.169.254/\"}",
	                            m),
	                 SKY_EINVALID);
	ck_assert_int_eq(E.status, 400);
	ck_assert_str_eq(E.body, "{\"detail\":\"The host in your url is "
	                         "blocked: 169.254.169.254\"}");
	ck_assert_int_eq(parse_opts("{\"prompt\":\"p\",\"browser_address\":"
	                            "\"ws://127.0.0.1:9222/devtools\"}",
	                            p),
	                 SKY_EINVALID);
	ck_assert_int_eq(E.status, 400);
}
END_TEST

START_TEST(browser_address_and_fresh_browser)
{
	json_t *b;
	/* A valid address is the run's browser; its handshake headers
	 * travel in the run's notes and are never echoed. */
	ok("{\"prompt\":\"p\",\"browser_address\":"
	   "\"ws://127.0.0.1:9222/devtools/browser/abc\"}");
	ck_assert_str_eq(R->browser_address,
	                 "ws://127.0.0.1:9222/devtools/browser/abc");
	ok("{\"prompt\":\"p\",\"browser_address\":\"http://127.0.0.1:9222\","
	   "\"cdp_connect_headers\":{\"x-api-key\":\"s3cr3t\"}}");
	b = sky_json_loads(R->notes);
	ck_assert_str_eq(sky_json_str(json_object_get(b, "cdp_connect_headers"),
	                              "x-api-key"),
	                 "s3cr3t");
	json_decref(b);
	ck_assert(!strstr(R->run_request, "s3cr3t"));
	/* A header that could split the handshake: 422, value not shown. */
	ck_assert_int_eq(
	    parse("{\"prompt\":\"p\",\"browser_address\":"
	          "\"http://127.0.0.1:9222\",\"cdp_connect_headers\":"
	          "{\"x-api-key\":\"s3cr3t\\r\\nx: y\"}}"),
	    SKY_EINVALID);
	ck_assert_int_eq(E.status, 422);
	ck_assert(strstr(E.body, "cdp_connect_headers"));
	ck_assert(!strstr(E.body, "s3cr3t"));
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"browser_address\":"
	                       "\"127.0.0.1:9222\"}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "value_error", "body.browser_address");
	ck_assert(skyx_str_startswith(
	    sky_json_str(json_array_get(json_object_get(b, "detail"), 0),
	                 "msg"),
	    "Value error, "));
	json_decref(b);

	ok("{\"prompt\":\"p\",\"start_fresh_browser\":true}");
	ck_assert_int_eq(R->start_fresh_browser, 1);
	ck_assert(strstr(R->run_request, "\"start_fresh_browser\":true"));
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"start_fresh_browser\":true,"
	                       "\"browser_session_id\":\"pbs_1\"}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "value_error", "body");
	json_decref(b);
}
END_TEST

/* ---- fields Skyvern acts on: honoured or refused, never ignored ------ */

static int parse_models(const char *body, const char *models)
{
	json_t *m = json_loads(models, 0, NULL);
	sky_request_options o = {0, m};
	sky_task_request_free(R);
	R = NULL;
	sky_request_error_clear(&E);
	int rc = sky_task_request_parse(body, strlen(body), &o, &R, &E);
	json_decref(m);
	return rc;
}

static void refused_400(const char *body, const char *detail)
{
	ck_assert_msg(parse(body) == SKY_EINVALID, "%s accepted", body);
	ck_assert_int_eq(E.status, 400);
	json_t *b = json_loads(E.body, 0, NULL);
	ck_assert_str_eq(sky_json_str(b, "detail"), detail);
	json_decref(b);
}

START_TEST(unhonoured_fields_are_refused)
{
	/* Skyvern's own refusals on the v1 engine, word for word. */
	refused_400("{\"prompt\":\"p\",\"engine\":\"skyvern-1.0\","
	            "\"browser_profile_id\":\"bp_1\"}",
	            "browser_profile_id is not supported for the skyvern_v1 "
	            "or CUA task engines; use engine=skyvern_v2.");
	refused_400("{\"prompt\":\"p\",\"engine\":\"skyvern-1.0\","
	            "\"start_fresh_browser\":true}",
	            "start_fresh_browser is not supported for the skyvern_v1 "
	            "or CUA task engines; use engine=skyvern_v2.");
	/* v2: a fresh browser is what every run gets; a profile is
	 * loaded into it, not into a session's. */
	ok("{\"prompt\":\"p\",\"start_fresh_browser\":true}");
	ok("{\"prompt\":\"p\",\"browser_profile_id\":\"bp_1\"}");
	refused_400("{\"prompt\":\"p\",\"browser_profile_id\":\"bp_1\","
	            "\"browser_session_id\":\"pbs_1\"}",
	            "browser_profile_id cannot be combined with "
	            "browser_session_id: the session's browser is the run's "
	            "browser (load the profile into the session instead)");
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"browser_profile_id\":1}"),
	                 SKY_EINVALID);
	json_t *b = details(422);
	item(b, 0, "string_type", "body.browser_profile_id");
	json_decref(b);
	/* CUA engines are never run as something else. */
	refused_400("{\"prompt\":\"p\",\"engine\":\"anthropic-cua\"}",
	            "Engine anthropic-cua is not supported by skyengine; use "
	            "skyvern-1.0 or skyvern-2.0");
	refused_400("{\"prompt\":\"p\",\"engine\":\"ui-tars\"}",
	            "Engine ui-tars is not supported by skyengine; use "
	            "skyvern-1.0 or skyvern-2.0");
	/* model: only the configured ones. */
	refused_400("{\"prompt\":\"p\",\"model\":{\"model_name\":\"gpt-4o\"}}",
	            "Unknown model gpt-4o: this server's models are none");
	ck_assert_int_eq(
	    parse_models("{\"prompt\":\"p\",\"model\":"
	                 "{\"model_name\":\"gpt-9\"}}",
	                 "{\"fast\":\"m-mini\",\"m-big\":\"m-big\"}"),
	    SKY_EINVALID);
	ck_assert_str_eq(E.body, "{\"detail\":\"Unknown model gpt-9: this "
	                         "server's models are fast, m-big\"}");
	ck_assert_int_eq(parse_models("{\"prompt\":\"p\",\"model\":"
	                              "{\"model_name\":\"fast\"}}",
	                              "{\"fast\":\"m-mini\"}"),
	                 0);
	ck_assert_str_eq(R->model_name, "fast");
	ck_assert(strstr(R->run_request, ",\"model\":{\"model_name\":"
	                                 "\"fast\"}}"));
	ok("{\"prompt\":\"p\",\"model\":null}");
	ok("{\"prompt\":\"p\",\"model\":{}}"); /* names nothing */
	ck_assert_ptr_null(R->model_name);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"model\":\"gpt-4o\"}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "dict_type", "body.model");
	json_decref(b);
	/* run_with: agent, or code (a replay of the stored plan, kept in
	 * the run's notes with ai_fallback; docs/replay.md). */
	ok("{\"prompt\":\"p\",\"run_with\":\"agent\"}");
	ck_assert_ptr_null(R->notes);
	ok("{\"prompt\":\"p\",\"run_with\":\"code\",\"ai_fallback\":true}");
	ck_assert(strstr(R->notes, "\"run_with\":\"code\""));
	ck_assert(strstr(R->notes, "\"ai_fallback\":true"));
	refused_400("{\"prompt\":\"p\",\"cdp_connect_headers\":"
	            "{\"x-api-key\":\"k\"}}",
	            "cdp_connect_headers apply to browser_address, which the "
	            "request does not give");
	ok("{\"prompt\":\"p\",\"cdp_connect_headers\":{}}");
	refused_400("{\"prompt\":\"p\",\"max_screenshot_scrolls\":3}",
	            "max_screenshot_scrolls above 0 is not supported by "
	            "skyengine: post-action screenshots are one viewport (0 "
	            "or null)");
}
END_TEST

/* ---- lax numbers and booleans ----------------------------------------- */

START_TEST(lax_ints_and_bools)
{
	json_t *b, *it;
	const char *ints[][2] = {{"10", "10"},      {"\"10\"", "10"},
	                         {"10.0", "10"},    {"\" 7 \"", "7"},
	                         {"\"7.00\"", "7"}, {"true", "1"},
	                         {"5000", "100"}};
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
		char body[128];
		snprintf(body, sizeof body,
		         "{\"prompt\":\"p\",\"max_steps\":%s}", ints[i][0]);
		ok(body);
		ck_assert_int_eq(R->max_steps, atoi(ints[i][1]));
	}
	ck_assert(strstr(R->run_request, "\"max_steps\":100"));

	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"max_steps\":10.5}"),
	                 SKY_EINVALID);
	b = details(422);
	it = item(b, 0, "int_from_float", "body.max_steps");
	ck_assert_str_eq(sky_json_str(it, "msg"),
	                 "Input should be a valid integer, got a number with "
	                 "a fractional part");
	json_decref(b);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"max_steps\":\"ten\"}"),
	                 SKY_EINVALID);
	b = details(422);
	it = item(b, 0, "int_parsing", "body.max_steps");
	ck_assert_str_eq(sky_json_str(it, "msg"),
	                 "Input should be a valid integer, unable to parse "
	                 "string as an integer");
	json_decref(b);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"max_steps\":0}"),
	                 SKY_EINVALID);
	b = details(422);
	it = item(b, 0, "greater_than_equal", "body.max_steps");
	ck_assert_str_eq(sky_json_str(it, "msg"),
	                 "Input should be greater than or equal to 1");
	ck_assert_int_eq(json_integer_value(
	                     json_object_get(json_object_get(it, "ctx"), "ge")),
	                 1);
	json_decref(b);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"max_steps\":\"99999999999"
	                       "999999999999\"}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "int_parsing_size", "body.max_steps");
	json_decref(b);

	const char *bools[][2] = {
	    {"true", "1"},  {"false", "0"}, {"\"yes\"", "1"}, {"\"OFF\"", "0"},
	    {"\"t\"", "1"}, {"1", "1"},     {"0.0", "0"}};
	for (size_t i = 0; i < sizeof bools / sizeof *bools; i++) {
		char body[128];
		snprintf(body, sizeof body,
		         "{\"prompt\":\"p\",\"engine\":\"skyvern-1.0\","
		         "\"publish_workflow\":%s}",
		         bools[i][0]);
		ok(body);
		ck_assert_int_eq(R->publish_workflow, atoi(bools[i][1]));
		/* Publishing forces the v2 engine, as in Skyvern. */
		ck_assert_str_eq(R->engine, R->publish_workflow
		                                ? "skyvern-2.0"
		                                : "skyvern-1.0");
	}
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"publish_workflow\":2}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "bool_parsing", "body.publish_workflow");
	json_decref(b);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"publish_workflow\":null}"),
	                 SKY_EINVALID);
	b = details(422);
	item(b, 0, "bool_type", "body.publish_workflow");
	json_decref(b);
	ok("{\"prompt\":\"p\",\"include_action_history_in_verification\":"
	   "null}");

	/* Clamped to [0, 1000] as Skyvern does; above 0 is refused. */
	ok("{\"prompt\":\"p\",\"max_screenshot_scrolls\":-3}");
	ck_assert_int_eq(R->max_screenshot_scrolls, 0);
	ck_assert(strstr(R->run_request, "\"max_screenshot_scrolls\":0"));
	ok("{\"prompt\":\"p\",\"max_screenshot_scrolls\":\"0\"}");
	ck_assert_int_eq(R->max_screenshot_scrolls, 0);
	ck_assert_int_eq(parse("{\"prompt\":\"p\",\"max_screenshot_scrolls\":"
	                       "\"12\"}"),
	                 SKY_EINVALID);
	ck_assert_int_eq(E.status, 400);
}
END_TEST

/* ---- sizes, unknown fields, bodies ---------------------------------- */

static char *repeat_json(const char *prefix, const char *unit, size_t n,
                         const char *suffix)
{
	skyx_buf b = {0};
	skyx_buf_puts(&b, prefix);
	for (size_t i = 0; i < n; i++)
		skyx_buf_puts(&b, unit);
	skyx_buf_puts(&b, suffix);
	return skyx_buf_steal(&b);
}

START_TEST(oversize_values)
{
	json_t *b, *it;
	char *body;

	body = repeat_json("{\"prompt\":\"", "a", SKY_REQUEST_MAX_PROMPT + 1,
	                   "\"}");
	ck_assert_int_eq(parse(body), SKY_EINVALID);
	free(body);
	b = details(422);
	it = item(b, 0, "string_too_long", "body.prompt");
	ck_assert_str_eq(sky_json_str(it, "msg"),
	                 "String should have at most 65536 characters");
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_object_get(it, "ctx"), "max_length")),
	                 65536);
	json_decref(b);
	/* Characters, not bytes: 65536 two-byte letters are fine. */
	body =
	    repeat_json("{\"prompt\":\"", "é", SKY_REQUEST_MAX_PROMPT, "\"}");
	ok(body);
	free(body);
	ck_assert_uint_eq(strlen(R->prompt), 2 * SKY_REQUEST_MAX_PROMPT);

	body = repeat_json("{\"prompt\":\"p\",\"title\":\"", "t",
	                   SKY_REQUEST_MAX_TITLE + 1, "\"}");
	ck_assert_int_eq(parse(body), SKY_EINVALID);
	free(body);
	b = details(422);
	item(b, 0, "string_too_long", "body.title");
	json_decref(b);

	body = repeat_json("{\"prompt\":\"p\",\"navigation_payload\":[",
	                   "\"0123456789012345678901234567890123456789\",",
	                   7000, "1]}");
	ck_assert_int_eq(parse(body), SKY_EINVALID);
	free(body);
	b = details(422);
	it = item(b, 0, "value_error", "body.navigation_payload");
	ck_assert(strstr(sky_json_str(it, "msg"), "the limit is 262144"));
	json_decref(b);

	/* A body over the server's cap is refused before parsing. */
	body = repeat_json("{\"prompt\":\"", "a", SKY_REQUEST_MAX_BODY, "\"}");
	ck_assert_int_eq(parse(body), SKY_ETOOBIG);
	free(body);
	ck_assert_int_eq(E.status, 413);
	ck_assert_str_eq(E.body, "{\"detail\":\"Request body is larger than "
	                         "1048576 bytes\"}");
}
END_TEST

START_TEST(unknown_fields_ignored)
{
	/* Keys TaskRunRequest does not have (model and run_with it has:
	 * unhonoured_fields_are_refused). */
	ok("{\"prompt\":\"p\",\"frobnicate\":1,\"navigation_goal\":\"y\"}");
	ck_assert_str_eq(R->prompt, "p");
	ck_assert(!strstr(R->run_request, "frobnicate"));
}
END_TEST

START_TEST(malformed_and_empty_bodies)
{
	json_t *b, *it;

	ck_assert_int_eq(sky_task_request_parse("", 0, NULL, &R, &E),
	                 SKY_EINVALID);
	ck_assert_str_eq(E.body, "{\"detail\":[{\"type\":\"missing\",\"loc\":"
	                         "[\"body\"],\"msg\":\"Field required\","
	                         "\"input\":null}]}");
	ck_assert_int_eq(parse("null"), SKY_EINVALID);
	ck_assert_str_eq(E.body, "{\"detail\":[{\"type\":\"missing\",\"loc\":"
	                         "[\"body\"],\"msg\":\"Field required\","
	                         "\"input\":null}]}");

	ck_assert_int_eq(parse("{\"prompt\": "), SKY_EINVALID);
	b = details(422);
	it = item(b, 0, "json_invalid", "body.11");
	ck_assert_str_eq(sky_json_str(it, "msg"), "JSON decode error");
	ck_assert(json_is_object(json_object_get(it, "input")));
	ck_assert_uint_eq(json_object_size(json_object_get(it, "input")), 0);
	ck_assert(json_is_string(
	    json_object_get(json_object_get(it, "ctx"), "error")));
	json_decref(b);
	ck_assert_int_eq(parse("{\"prompt\":\"p\"} trailing"), SKY_EINVALID);
	b = details(422);
	it = json_array_get(json_object_get(b, "detail"), 0);
	ck_assert_str_eq(sky_json_str(it, "type"), "json_invalid");
	ck_assert(
	    json_is_integer(json_array_get(json_object_get(it, "loc"), 1)));
	json_decref(b);

	ck_assert_int_eq(parse("[1,2]"), SKY_EINVALID);
	b = details(422);
	it = item(b, 0, "model_attributes_type", "body");
	ck_assert_str_eq(sky_json_str(it, "msg"),
	                 "Input should be a valid dictionary or object to "
	                 "extract fields from");
	json_decref(b);
	ck_assert_int_eq(parse("\"prompt\""), SKY_EINVALID);
	b = details(422);
	item(b, 0, "model_attributes_type", "body");
	json_decref(b);

	/* Not NUL-terminated: only `len` bytes count. */
	const char buf[] = "{\"prompt\":\"p\"}GARBAGE";
	sky_request_error_clear(&E);
	ck_assert_int_eq(sky_task_request_parse(buf, 14, NULL, &R, &E), 0);
	ck_assert_str_eq(R->prompt, "p");
}
END_TEST

START_TEST(utf8_edges)
{
	json_t *b;
	const char multi[] = "{\"prompt\":\"Gr\xc3\xbc\xc3\x9f"
	                     "e \xf0\x9f\x98\x80 \xe2\x9c\x93 \\u00e9\"}";

	ok(multi);
	ck_assert_str_eq(R->prompt, "Gr\xc3\xbc\xc3\x9f"
	                            "e \xf0\x9f\x98\x80 \xe2\x9c\x93 \xc3\xa9");
	/* The echo keeps UTF-8 as is (no \u escapes). */
	ck_assert(strstr(R->run_request, "\xf0\x9f\x98\x80"));

	/* A BOM is skipped. */
	ok("\xef\xbb\xbf{\"prompt\":\"bom\"}");
	ck_assert_str_eq(R->prompt, "bom");

	const char *bad[] = {
	    "{\"prompt\":\"\xff\"}",         /* never valid */
	    "{\"prompt\":\"\xc0\xaf\"}",     /* overlong '/' */
	    "{\"prompt\":\"\xed\xa0\x80\"}", /* encoded surrogate */
	    "{\"prompt\":\"\xe2\x9c\"}",     /* truncated */
	    "{\"prompt\":\"\\ud800\"}",      /* lone surrogate escape */
	    "{\"pr\xf8mpt\":\"x\"}",         /* bad byte in a key */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_int_eq(parse(bad[i]), SKY_EINVALID);
		b = details(422);
		ck_assert_msg(
		    !strcmp(sky_json_str(
		                json_array_get(json_object_get(b, "detail"), 0),
		                "type"),
		            "json_invalid"),
		    "%zu: %s", i, E.body);
		json_decref(b);
		/* The error body itself is valid UTF-8 JSON. */
		ck_assert(skyx_utf8_valid(E.body, strlen(E.body)));
	}
	/* An escaped NUL parses but is refused where it would truncate. */
	ck_assert_int_eq(parse("{\"prompt\":\"a\\u0000b\"}"), SKY_EINVALID);
	b = details(422);
	item(b, 0, "value_error", "body.prompt");
	json_decref(b);
}
END_TEST

START_TEST(punycode_vectors)
{
	/* RFC 3492 section 7.1 (lower-cased), through the URL path. */
	norm("http://\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa"
	     "\xd9\x83\xd9\x84\xd9\x85\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8"
	     "\xd9\x8a\xd8\x9f/",
	     "http://xn--egbpdaj6bu4bxfgehfvwxn/");
	norm("http://\xe4\xbb\x96\xe4\xbb\xac\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9"
	     "\x88\xe4\xb8\x8d\xe8\xaf\xb4\xe4\xb8\xad\xe6\x96\x87/",
	     "http://xn--ihqwcrb4cv8a8dqg056pqjye/");
	norm("http://\xe3\x81\x9d\xe3\x81\xae\xe3\x82\xb9\xe3\x83\x94\xe3\x83"
	     "\xbc\xe3\x83\x89\xe3\x81\xa7/",
	     "http://xn--d9juau41awczczp/");
	norm("http://b\xc3\xbc\x63her.de", "http://xn--bcher-kva.de/");
	norm("http://ex%41mple.com/", "http://example.com/");
}
END_TEST

static Suite *request_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("request");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, seed_example_parses_and_echoes);
	tcase_add_test(tc, request_lands_in_the_store);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, missing_prompt);
	tcase_add_test(tc, wrong_types_collected_in_field_order);
	tcase_add_test(tc, enums);
	tcase_add_test(tc, proxy_objects);
	tcase_add_test(tc, schema_mapping_payload_headers);
	tcase_add_test(tc, bad_urls_are_400_with_the_contract_message);
	tcase_add_test(tc, urls_are_normalized);
	tcase_add_test(tc, blocked_hosts_by_option);
	tcase_add_test(tc, browser_address_and_fresh_browser);
	tcase_add_test(tc, unhonoured_fields_are_refused);
	tcase_add_test(tc, lax_ints_and_bools);
	tcase_add_test(tc, oversize_values);
	tcase_add_test(tc, unknown_fields_ignored);
	tcase_add_test(tc, malformed_and_empty_bodies);
	tcase_add_test(tc, utf8_edges);
	tcase_add_test(tc, punycode_vectors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(request_suite());
}
