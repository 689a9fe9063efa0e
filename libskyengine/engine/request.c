/*
 * The task-run request model: lax Pydantic-style field validation,
 * FastAPI-shaped errors, and the run_request echo. URLs are validated by
 * net/url.c (sky_url_validate, sky_url_check).
 */
#include "engine/request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>

/* ==== FastAPI-shaped errors ============================================ */

typedef struct pctx {
	json_t *body;   /* the request object (borrowed from root) */
	json_t *errors; /* the 422 detail list being built */
	unsigned url_flags;
	int status;   /* 400 once a URL failed: Pydantic stops there */
	char *detail; /* its message */
	int oom;
} pctx;

/* Append {type, loc: ["body", field, sub], msg, input, ctx}. `input` is
 * borrowed (copied), `ctx` is stolen; field/sub may be NULL. */
static void add_err(pctx *c, const char *type, const char *field,
                    const char *sub, const char *msg, json_t *input,
                    json_t *ctx)
{
	json_t *e = json_object(), *loc = json_array();

	json_array_append_new(loc, json_string("body"));
	if (field)
		json_array_append_new(loc, json_string(field));
	if (sub)
		json_array_append_new(loc, json_string(sub));
	if (json_object_set_new(e, "type", json_string(type)) ||
	    json_object_set_new(e, "loc", loc) ||
	    json_object_set_new(e, "msg", json_string(msg)) ||
	    json_object_set_new(e, "input",
	                        input ? json_deep_copy(input) : json_null()) ||
	    (ctx && json_object_set_new(e, "ctx", ctx)) ||
	    json_array_append_new(c->errors, e))
		c->oom = 1;
}

static void err_simple(pctx *c, const char *type, const char *field,
                       const char *msg, json_t *input)
{
	add_err(c, type, field, NULL, msg, input, NULL);
}

/* Pydantic's value_error: "Value error, <why>" with ctx {"error": {}}
 * (FastAPI renders the exception object as {}). */
static void err_value(pctx *c, const char *field, const char *sub,
                      json_t *input, const char *fmt, ...) SKY_PRINTF(5, 6);

static void err_value(pctx *c, const char *field, const char *sub,
                      json_t *input, const char *fmt, ...)
{
	skyx_buf b = {0};
	va_list ap;
	skyx_buf_puts(&b, "Value error, ");
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.oom) {
		c->oom = 1;
		skyx_buf_free(&b);
		return;
	}
	add_err(c, "value_error", field, sub, b.data, input,
	        json_pack("{s:{}}", "error"));
	skyx_buf_free(&b);
}

static void err_too_long(pctx *c, const char *field, const char *sub,
                         json_t *input, size_t max)
{
	char msg[96];
	snprintf(msg, sizeof msg, "String should have at most %zu characters",
	         max);
	add_err(c, "string_too_long", field, sub, msg, input,
	        json_pack("{s:I}", "max_length", (json_int_t)max));
}

/* A URL validator raised: Skyvern answers 400 and validates no more. */
static void fail_400(pctx *c, char *detail)
{
	if (c->status)
		free(detail);
	else {
		c->status = 400;
		c->detail = detail;
	}
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xc0) != 0x80;
	return count;
}

/* ==== field validators ================================================= */

static void register_url_password(const char *url);

/* Present and not null: the value; else NULL. */
static json_t *field(pctx *c, const char *name)
{
	json_t *v = json_object_get(c->body, name);
	return json_is_null(v) ? NULL : v;
}

/* A str | None field. *out stays NULL when absent or null. */
static int get_str(pctx *c, const char *name, size_t max, char **out)
{
	json_t *v = field(c, name);
	size_t len;

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		err_simple(c, "string_type", name,
		           "Input should be a valid string", v);
		return -1;
	}
	len = json_string_length(v);
	if (memchr(json_string_value(v), '\0', len)) {
		err_value(c, name, NULL, v,
		          "NUL characters are not allowed in %s", name);
		return -1;
	}
	if (max && utf8_chars(json_string_value(v), len) > max) {
		err_too_long(c, name, NULL, v, max);
		return -1;
	}
	if (!(*out = strdup(json_string_value(v))))
		c->oom = 1;
	return 0;
}

/* Pydantic lax int: ints, whole floats, bools, and strings of an integer
 * (surrounding spaces and a ".0" tail allowed). */
static int get_int(pctx *c, const char *name, int *present, json_int_t *out)
{
	json_t *v = field(c, name);

	*present = 0;
	if (!v)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_boolean(v)) {
		*out = json_is_true(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d != (double)(json_int_t)d || d > 9.2e18 || d < -9.2e18) {
			err_simple(c, "int_from_float", name,
			           "Input should be a valid integer, got a "
			           "number with a fractional part",
			           v);
			return -1;
		}
		*out = (json_int_t)d;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v), *p;
		char *end;
		long long n;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		errno = 0;
		n = strtoll(s, &end, 10);
		p = end;
		if (end != s && *p == '.') {
			p++;
			while (*p == '0')
				p++;
		}
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (end == s || *p ||
		    !(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9'))) {
			err_simple(c, "int_parsing", name,
			           "Input should be a valid integer, unable to "
			           "parse string as an integer",
			           v);
			return -1;
		}
		if (errno == ERANGE) {
			err_simple(
			    c, "int_parsing_size", name,
			    "Unable to parse input string as an integer, "
			    "exceeded maximum size",
			    v);
			return -1;
		}
		*out = n;
	} else {
		err_simple(c, "int_type", name,
		           "Input should be a valid integer", v);
		return -1;
	}
	*present = 1;
	return 0;
}

/* Pydantic lax bool. `nullable`: null is None (else a bool_type
 * error). */
static int get_bool(pctx *c, const char *name, int nullable, int dflt, int *out)
{
	static const char *const yes[] = {"1", "on", "t", "true", "y", "yes"};
	static const char *const no[] = {"0", "off", "f", "false", "n", "no"};
	json_t *v = json_object_get(c->body, name);

	*out = dflt;
	if (!v || (json_is_null(v) && nullable))
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && json_string_length(v) <= 5) {
		char low[8];
		size_t n = json_string_length(v);
		for (size_t i = 0; i < n; i++) {
			char ch = json_string_value(v)[i];
			low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
		low[n] = '\0';
		for (size_t i = 0; i < 6; i++) {
			if (!strcmp(low, yes[i]) || !strcmp(low, no[i])) {
				*out = !strcmp(low, yes[i]);
				return 0;
			}
		}
	}
	if (json_is_number(v) &&
	    (json_number_value(v) == 0.0 || json_number_value(v) == 1.0)) {
		*out = json_number_value(v) == 1.0;
		return 0;
	}
	if (json_is_string(v) || json_is_number(v))
		err_simple(c, "bool_parsing", name,
		           "Input should be a valid boolean, unable to "
		           "interpret input",
		           v);
	else
		err_simple(c, "bool_type", name,
		           "Input should be a valid boolean", v);
	return -1;
}

/* A JSON value kept as compact text, bounded in size. */
static int keep_json(pctx *c, const char *name, json_t *v, char **out)
{
	*out = sky_json_dumps(v);
	if (!*out) {
		c->oom = 1;
		return -1;
	}
	if (strlen(*out) > SKY_REQUEST_MAX_JSON) {
		err_value(c, name, NULL, v,
		          "%s is %zu bytes as JSON; the limit is %d", name,
		          strlen(*out), SKY_REQUEST_MAX_JSON);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static void get_url(pctx *c, const char *name, char **out)
{
	char *raw = NULL, *detail = NULL;
	if (get_str(c, name, 0, &raw) || !raw)
		return;
	register_url_password(raw);
	if (sky_url_validate(raw, c->url_flags, out, &detail)) {
		if (detail)
			fail_400(c, detail);
		else
			c->oom = 1;
	}
	free(raw);
}

static const char *const engines_known[] = {
    "skyvern-1.0",   "skyvern-2.0", "skyvern-3.0",      "openai-cua",
    "anthropic-cua", "ui-tars",     "yutori-navigator",
};
#define ENGINES_EXPECTED                                                       \
	"'skyvern-1.0', 'skyvern-2.0', 'skyvern-3.0', 'openai-cua', "          \
	"'anthropic-cua', 'ui-tars' or 'yutori-navigator'"

static void get_engine(pctx *c, char **out)
{
	json_t *v = json_object_get(c->body, "engine");
	const char *s;

	*out = NULL;
	if (!v) {
		*out = strdup("skyvern-2.0"); /* the seed's default */
		c->oom |= !*out;
		return;
	}
	s = json_string_value(v);
	for (size_t i = 0;
	     s && i < sizeof engines_known / sizeof *engines_known; i++) {
		if (!strcmp(s, engines_known[i])) {
			*out = strdup(s);
			c->oom |= !*out;
			return;
		}
	}
	add_err(c, "enum", "engine", NULL, "Input should be " ENGINES_EXPECTED,
	        v, json_pack("{s:s}", "expected", ENGINES_EXPECTED));
}

static const char *const proxy_locations[] = {
    "RESIDENTIAL",    "US-CA",          "US-NY",           "US-TX",
    "US-FL",          "US-WA",          "RESIDENTIAL_ES",  "RESIDENTIAL_IE",
    "RESIDENTIAL_GB", "RESIDENTIAL_IN", "RESIDENTIAL_JP",  "RESIDENTIAL_FR",
    "RESIDENTIAL_DE", "RESIDENTIAL_NZ", "RESIDENTIAL_ZA",  "RESIDENTIAL_AR",
    "RESIDENTIAL_AU", "RESIDENTIAL_BR", "RESIDENTIAL_TR",  "RESIDENTIAL_CA",
    "RESIDENTIAL_MX", "RESIDENTIAL_IT", "RESIDENTIAL_NL",  "RESIDENTIAL_PH",
    "RESIDENTIAL_KR", "RESIDENTIAL_SA", "RESIDENTIAL_ISP", "NONE",
};

static void err_proxy_enum(pctx *c, json_t *v)
{
	skyx_buf b = {0};
	size_t n = sizeof proxy_locations / sizeof *proxy_locations;
	for (size_t i = 0; i < n; i++)
		skyx_buf_printf(&b, "%s'%s'",
		                i == 0       ? ""
		                : i + 1 == n ? " or "
		                             : ", ",
		                proxy_locations[i]);
	if (b.oom) {
		c->oom = 1;
	} else {
		char *msg = skyx_asprintf("Input should be %s", b.data);
		add_err(c, "enum", "proxy_location", NULL, msg ? msg : "", v,
		        json_pack("{s:s}", "expected", b.data));
		c->oom |= !msg;
		free(msg);
	}
	skyx_buf_free(&b);
}

/* {country, subdivision?, city?}. */
static int check_geo(pctx *c, json_t *v)
{
	json_t *country = json_object_get(v, "country");
	static const struct {
		const char *key;
		size_t max;
	} opt[] = {{"subdivision", 10}, {"city", 100}};
	int bad = 0;

	if (!json_is_string(country)) {
		if (country)
			add_err(c, "string_type", "proxy_location", "country",
			        "Input should be a valid string", country,
			        NULL);
		else
			add_err(c, "missing", "proxy_location", "country",
			        "Field required", v, NULL);
		bad = 1;
	} else {
		const char *s = json_string_value(country);
		if (strlen(s) != 2 ||
		    !((s[0] >= 'A' && s[0] <= 'Z') ||
		      (s[0] >= 'a' && s[0] <= 'z')) ||
		    !((s[1] >= 'A' && s[1] <= 'Z') ||
		      (s[1] >= 'a' && s[1] <= 'z'))) {
			err_value(c, "proxy_location", "country", country,
			          "country must be a two-letter ISO 3166 code");
			bad = 1;
		}
	}
	for (size_t i = 0; i < 2; i++) {
		json_t *f = json_object_get(v, opt[i].key);
		if (!f || json_is_null(f))
			continue;
		if (!json_is_string(f)) {
			add_err(c, "string_type", "proxy_location", opt[i].key,
			        "Input should be a valid string", f, NULL);
			bad = 1;
		} else if (utf8_chars(json_string_value(f),
		                      json_string_length(f)) > opt[i].max) {
			err_too_long(c, "proxy_location", opt[i].key, f,
			             opt[i].max);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* The password in scheme://user:pass@host is a secret from now on: log
 * lines and errors that quote the URL get it redacted. */
static void register_url_password(const char *url)
{
	const char *start = strstr(url, "://"), *end, *at = NULL, *colon;
	char *pw;

	start = start ? start + 3 : url;
	end = start + strcspn(start, "/?#");
	for (const char *p = start; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at || !(colon = memchr(start, ':', (size_t)(at - start))))
		return;
	if ((pw = skyx_strndup(colon + 1, (size_t)(at - colon - 1)))) {
		sky_secret_register(pw);
		free(pw);
	}
}

/* {"url": "http://user:pass@host:port"}: a proxy server of our own. */
static int check_proxy_url(pctx *c, json_t *v)
{
	static const char *const schemes[] = {"http", "https", "socks5", NULL};
	json_t *u = json_object_get(v, "url");
	char *norm = NULL, *detail = NULL;
	const char *s = json_string_value(u);
	int blocked, rc;

	if (!s) {
		add_err(c, "string_type", "proxy_location", "url",
		        "Input should be a valid string", u, NULL);
		return -1;
	}
	register_url_password(s);
	rc = sky_url_check(s, schemes, 0, 0, &norm, &detail, &blocked);
	free(norm);
	free(detail);
	if (rc) {
		err_value(c, "proxy_location", "url", u,
		          "a proxy url must look like "
		          "http://user:pass@host:port (http, https or socks5)");
		return -1;
	}
	return 0;
}

static void get_proxy(pctx *c, char **out)
{
	json_t *v = json_object_get(c->body, "proxy_location");

	*out = NULL;
	if (!v) {
		*out = strdup("\"RESIDENTIAL\"");
		c->oom |= !*out;
		return;
	}
	if (json_is_null(v))
		return;
	if (json_is_string(v)) {
		for (size_t i = 0;
		     i < sizeof proxy_locations / sizeof *proxy_locations; i++)
			if (!strcmp(json_string_value(v), proxy_locations[i])) {
				keep_json(c, "proxy_location", v, out);
				return;
			}
	} else if (json_is_object(v)) {
		int rc = -1;
		if (json_object_get(v, "country"))
			rc = check_geo(c, v);
		else if (json_object_get(v, "url"))
			rc = check_proxy_url(c, v);
		else
			err_value(c, "proxy_location", NULL, v,
			          "proxy_location must be a named location, a "
			          "geo target {country, subdivision, city} or "
			          "{\"url\": \"http://user:pass@host:port\"}");
		if (!rc)
			keep_json(c, "proxy_location", v, out);
		return;
	}
	err_proxy_enum(c, v);
}

int sky_request_proxy_location(json_t *body, json_t *errors, char **out)
{
	pctx c = {0};
	size_t before = json_array_size(errors);
	*out = NULL;
	if (!json_object_get(body, "proxy_location"))
		return 0;
	c.body = body;
	c.errors = errors;
	get_proxy(&c, out);
	if (c.oom) {
		free(*out);
		*out = NULL;
		return sky_error_from_code(SKY_ENOMEM);
	}
	return json_array_size(errors) > before
	           ? sky_error_set(SKY_EINVALID, "invalid proxy_location")
	           : 0;
}

/* dict | list | str | None, as Pydantic reports a failed union. */
static void get_schema(pctx *c, char **out)
{
	json_t *v = field(c, "data_extraction_schema");

	*out = NULL;
	if (!v)
		return;
	if (json_is_object(v) || json_is_array(v) || json_is_string(v)) {
		keep_json(c, "data_extraction_schema", v, out);
		return;
	}
	add_err(c, "dict_type", "data_extraction_schema", "dict[any,any]",
	        "Input should be a valid dictionary", v, NULL);
	add_err(c, "list_type", "data_extraction_schema", "list[any]",
	        "Input should be a valid list", v, NULL);
	add_err(c, "string_type", "data_extraction_schema", "str",
	        "Input should be a valid string", v, NULL);
}

/* {str: str} | None. */
static int get_str_map(pctx *c, const char *name, char **out)
{
	json_t *v = field(c, name), *val;
	const char *key;
	int bad = 0;

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v)) {
		err_simple(c, "dict_type", name,
		           "Input should be a valid dictionary", v);
		return -1;
	}
	json_object_foreach (v, key, val) {
		if (!json_is_string(val)) {
			add_err(c, "string_type", name, key,
			        "Input should be a valid string", val, NULL);
			bad = 1;
		}
	}
	if (bad)
		return -1;
	return keep_json(c, name, v, out);
}

static int is_token_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("!#$%&'*+-.^_`|~", ch);
}

/* Headers go on the browser's requests (extra_http_headers) or on the
 * handshake with browser_address (cdp_connect_headers): refuse what could
 * split one. The values of `secret` ones (credentials) are never echoed
 * in an error. */
static void get_headers(pctx *c, const char *name, int secret, char **out)
{
	json_t *v = field(c, name), *val;
	const char *key;
	size_t total = 0;

	if (get_str_map(c, name, out) || !*out)
		return;
	if (json_object_size(v) > SKY_REQUEST_MAX_HEADERS) {
		err_value(c, name, NULL, secret ? NULL : v,
		          "at most %d headers are allowed",
		          SKY_REQUEST_MAX_HEADERS);
		goto bad;
	}
	json_object_foreach (v, key, val) {
		const char *s = json_string_value(val);
		int ok = *key != '\0';
		for (const char *p = key; *p && ok; p++)
			ok = is_token_char((unsigned char)*p);
		for (const char *p = s; *p && ok; p++)
			ok = *p != '\r' && *p != '\n';
		ok = ok && json_string_length(val) == strlen(s);
		if (!ok) {
			err_value(
			    c, name, key, secret ? NULL : val,
			    "'%s' is not a valid HTTP header (name must be "
			    "a token, value without CR, LF or NUL)",
			    key);
			goto bad;
		}
		total += strlen(key) + strlen(s) + 4;
	}
	if (total > SKY_REQUEST_MAX_HEADER_BYTES) {
		err_value(c, name, NULL, secret ? NULL : v,
		          "%s are %zu bytes; the limit is %d", name, total,
		          SKY_REQUEST_MAX_HEADER_BYTES);
		goto bad;
	}
	return;
bad:
	free(*out);
	*out = NULL;
}

/* http(s) or ws(s) with a host; a blocked host is a 400 as for urls. */
static void get_browser_address(pctx *c, char **out)
{
	static const char *const schemes[] = {"http", "https", "ws", "wss",
	                                      NULL};
	char *raw = NULL, *detail = NULL;
	int blocked = 0;

	if (get_str(c, "browser_address", 0, &raw) || !raw)
		return;
	if (sky_url_check(raw, schemes, 0, c->url_flags, out, &detail,
	                  &blocked)) {
		if (blocked)
			fail_400(c, detail);
		else {
			json_t *v = json_object_get(c->body, "browser_address");
			err_value(c, "browser_address", NULL, v,
			          "browser_address must be an http(s) or ws(s) "
			          "URL with a host");
			free(detail);
		}
	}
	free(raw);
}

/* model: {"model_name": "..."} | null. A model_name that is not a string
 * names nothing, as in Skyvern. */
static void get_model(pctx *c, char **out)
{
	json_t *v = field(c, "model");
	*out = NULL;
	if (!v)
		return;
	if (!json_is_object(v)) {
		err_simple(c, "dict_type", "model",
		           "Input should be a valid dictionary", v);
		return;
	}
	const char *name = json_string_value(json_object_get(v, "model_name"));
	if (name && *name && !(*out = strdup(name)))
		c->oom = 1;
}

/* ==== the request ======================================================= */

void sky_task_request_free(sky_task_request *r)
{
	if (!r)
		return;
	free(r->prompt);
	free(r->url);
	free(r->title);
	free(r->engine);
	free(r->proxy_location);
	free(r->data_extraction_schema);
	free(r->error_code_mapping);
	free(r->navigation_payload);
	free(r->webhook_url);
	free(r->totp_identifier);
	free(r->totp_url);
	free(r->browser_session_id);
	free(r->extra_http_headers);
	free(r->browser_address);
	free(r->browser_profile_id);
	free(r->cdp_connect_headers);
	free(r->run_with);
	free(r->cache_key);
	free(r->model_name);
	free(r->data_extraction_goal);
	free(r->complete_criterion);
	free(r->terminate_criterion);
	free(r->application);
	free(r->notes);
	free(r->run_request);
	free(r->credential_id);
	free(r);
}

void sky_request_error_clear(sky_request_error *e)
{
	if (!e)
		return;
	free(e->detail);
	free(e->body);
	memset(e, 0, sizeof *e);
}

static void validate_fields(pctx *c, sky_task_request *r)
{
	json_t *v;
	json_int_t n;
	int present;

	/* Model field order, so that errors come in Pydantic's order. */
	if (!json_object_get(c->body, "prompt"))
		add_err(c, "missing", "prompt", NULL, "Field required", c->body,
		        NULL);
	else if (json_is_null(json_object_get(c->body, "prompt")))
		err_simple(c, "string_type", "prompt",
		           "Input should be a valid string", json_null());
	else
		get_str(c, "prompt", SKY_REQUEST_MAX_PROMPT, &r->prompt);
	get_url(c, "url", &r->url);
	if (c->status)
		return;
	get_engine(c, &r->engine);
	get_str(c, "title", SKY_REQUEST_MAX_TITLE, &r->title);
	get_proxy(c, &r->proxy_location);
	get_schema(c, &r->data_extraction_schema);
	get_str_map(c, "error_code_mapping", &r->error_code_mapping);
	if (!get_int(c, "max_steps", &present, &n) && present) {
		v = json_object_get(c->body, "max_steps");
		if (n < 1)
			add_err(c, "greater_than_equal", "max_steps", NULL,
			        "Input should be greater than or equal to 1", v,
			        json_pack("{s:i}", "ge", 1));
		else
			r->max_steps = n > SKY_REQUEST_MAX_STEPS
			                   ? SKY_REQUEST_MAX_STEPS
			                   : (int)n;
	}
	get_url(c, "webhook_url", &r->webhook_url);
	if (c->status)
		return;
	get_str(c, "totp_identifier", SKY_REQUEST_MAX_IDENT,
	        &r->totp_identifier);
	get_url(c, "totp_url", &r->totp_url);
	if (c->status)
		return;
	get_str(c, "browser_session_id", SKY_REQUEST_MAX_IDENT,
	        &r->browser_session_id);
	get_str(c, "browser_profile_id", SKY_REQUEST_MAX_IDENT,
	        &r->browser_profile_id);
	get_bool(c, "start_fresh_browser", 1, 0, &r->start_fresh_browser);
	get_model(c, &r->model_name);
	get_headers(c, "extra_http_headers", 0, &r->extra_http_headers);
	get_headers(c, "cdp_connect_headers", 1, &r->cdp_connect_headers);
	get_bool(c, "publish_workflow", 0, 0, &r->publish_workflow);
	get_bool(c, "persist_browser_session", 1, 0,
	         &r->persist_browser_session);
	get_bool(c, "include_action_history_in_verification", 1, 0,
	         &r->include_action_history_in_verification);
	r->max_screenshot_scrolls = -1;
	if (!get_int(c, "max_screenshot_scrolls", &present, &n) && present)
		r->max_screenshot_scrolls = n < 0 ? 0
		                            : n > SKY_REQUEST_MAX_SCROLLS
		                                ? SKY_REQUEST_MAX_SCROLLS
		                                : (int)n;
	get_browser_address(c, &r->browser_address);
	if (c->status)
		return;
	get_str(c, "run_with", SKY_REQUEST_MAX_IDENT, &r->run_with);
	if ((v = field(c, "navigation_payload")))
		keep_json(c, "navigation_payload", v, &r->navigation_payload);
	get_str(c, "data_extraction_goal", SKY_REQUEST_MAX_PROMPT,
	        &r->data_extraction_goal);
	get_str(c, "complete_criterion", SKY_REQUEST_MAX_PROMPT,
	        &r->complete_criterion);
	get_str(c, "terminate_criterion", SKY_REQUEST_MAX_PROMPT,
	        &r->terminate_criterion);
	get_str(c, "application", SKY_REQUEST_MAX_IDENT, &r->application);
	/* Replay (docs/replay.md): ai_fallback as on Skyvern's workflow
	 * runs; cache_key is ours, the key a client chooses for its plan. */
	get_bool(c, "ai_fallback", 1, 0, &r->ai_fallback);
	get_str(c, "cache_key", SKY_REQUEST_MAX_IDENT, &r->cache_key);
	get_str(c, "credential_id", SKY_REQUEST_MAX_IDENT, &r->credential_id);

	if (r->start_fresh_browser &&
	    (r->browser_session_id || r->browser_address ||
	     field(c, "browser_profile_id")))
		add_err(c, "value_error", NULL, NULL,
		        "Value error, start_fresh_browser cannot be combined "
		        "with browser_session_id, browser_profile_id or "
		        "browser_address",
		        c->body, json_pack("{s:{}}", "error"));
}

/* A 400 with a formatted detail; 1 (refused) or 0 when out of memory. */
static int refuse_400(pctx *c, const char *fmt, ...) SKY_PRINTF(2, 3);
static int refuse_400(pctx *c, const char *fmt, ...)
{
	skyx_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	c->status = 400;
	c->detail = skyx_buf_steal(&b);
	c->oom |= !c->detail;
	return 1;
}

/*
 * Fields Skyvern acts on that this engine cannot honour: refused with a
 * 400 rather than accepted and ignored, in the order Skyvern's run_task
 * checks them. Returns 1 after refusing.
 */
static int refuse_unhonoured(pctx *c, sky_task_request *r, const json_t *models)
{
	int v1 = !strcmp(r->engine, "skyvern-1.0");
	/* Skyvern's own refusals for the v1 engine (agent_protocol.py). */
	if (v1 && r->browser_profile_id)
		return refuse_400(c, "browser_profile_id is not supported for "
		                     "the skyvern_v1 or CUA task engines; use "
		                     "engine=skyvern_v2.");
	if (v1 && r->start_fresh_browser)
		return refuse_400(c, "start_fresh_browser is not supported "
		                     "for the skyvern_v1 or CUA task engines; "
		                     "use engine=skyvern_v2.");
	/* skyvern-2.0 honours start_fresh_browser by construction: every
	 * run starts in a new, empty browser context. A profile is loaded
	 * into the run's own context; a session's context is the
	 * session's. */
	if (r->browser_profile_id && r->browser_session_id)
		return refuse_400(c, "browser_profile_id cannot be combined "
		                     "with browser_session_id: the session's "
		                     "browser is the run's browser (load the "
		                     "profile into the session instead)");
	if (r->model_name && !json_object_get(models, r->model_name)) {
		skyx_buf names = {0};
		const char *k;
		json_t *v;
		json_object_foreach ((json_t *)models, k, v) {
			(void)v;
			skyx_buf_printf(&names, "%s%s", names.len ? ", " : "",
			                k);
		}
		refuse_400(c, "Unknown model %s: this server's models are %s",
		           r->model_name, names.len ? names.data : "none");
		skyx_buf_free(&names);
		return 1;
	}
	if (!r->browser_address && r->cdp_connect_headers &&
	    strcmp(r->cdp_connect_headers, "{}"))
		return refuse_400(c, "cdp_connect_headers apply to "
		                     "browser_address, which the request does "
		                     "not give");
	if (r->max_screenshot_scrolls > 0)
		return refuse_400(c,
		                  "max_screenshot_scrolls above 0 is not "
		                  "supported by skyengine: post-action "
		                  "screenshots are one viewport (0 or null)");
	return 0;
}

/* The run_request echo: the keys Skyvern's POST answer carries, nulls
 * included, values as validated (url normalized, engine as run). */
static char *make_echo(const sky_task_request *r)
{
	json_t *o = json_object();
	char *s;

#define JSON_OR_NULL(text)                                                     \
	((text) ? json_loads((text), JSON_DECODE_ANY, NULL) : json_null())
	json_object_set_new(o, "engine", json_string(r->engine));
	json_object_set_new(o, "prompt", json_string(r->prompt));
	json_object_set_new(o, "url", sky_json_str_or_null(r->url));
	json_object_set_new(o, "webhook_url",
	                    sky_json_str_or_null(r->webhook_url));
	json_object_set_new(o, "totp_identifier",
	                    sky_json_str_or_null(r->totp_identifier));
	json_object_set_new(o, "totp_url", sky_json_str_or_null(r->totp_url));
	json_object_set_new(o, "proxy_location",
	                    JSON_OR_NULL(r->proxy_location));
	json_object_set_new(o, "max_steps",
	                    r->max_steps ? json_integer(r->max_steps)
	                                 : json_null());
	json_object_set_new(o, "data_extraction_schema",
	                    JSON_OR_NULL(r->data_extraction_schema));
	json_object_set_new(o, "error_code_mapping",
	                    JSON_OR_NULL(r->error_code_mapping));
	json_object_set_new(o, "browser_session_id",
	                    sky_json_str_or_null(r->browser_session_id));
	json_object_set_new(o, "start_fresh_browser",
	                    json_boolean(r->start_fresh_browser));
	json_object_set_new(o, "max_screenshot_scrolls",
	                    r->max_screenshot_scrolls >= 0
	                        ? json_integer(r->max_screenshot_scrolls)
	                        : json_null());
	/* The run reads its model from here (TaskRunRequest.model). */
	if (r->model_name)
		json_object_set_new(
		    o, "model",
		    json_pack("{s:s}", "model_name", r->model_name));
	/* The extension, only when used: other answers keep their keys. */
	if (r->credential_id)
		json_object_set_new(o, "credential_id",
		                    json_string(r->credential_id));
#undef JSON_OR_NULL
	s = json_object_size(o) == 13u + !!r->model_name + !!r->credential_id
	        ? sky_json_dumps(o)
	        : NULL;
	json_decref(o);
	return s;
}

/* The run's notes: what the store has no column for (the criteria the
 * planner reads, the application lists filter on). -1 out of memory. */
static int make_notes(sky_task_request *r)
{
	/* "code" and "code_v2" replay a plan; every other value is the
	 * agent, as Skyvern maps them. */
	const char *with = r->run_with && (!strcmp(r->run_with, "code") ||
	                                   !strcmp(r->run_with, "code_v2"))
	                       ? "code"
	                       : NULL;
	int headers = r->browser_address && r->cdp_connect_headers &&
	              strcmp(r->cdp_connect_headers, "{}");
	if (!r->complete_criterion && !r->terminate_criterion &&
	    !r->application && !r->browser_profile_id &&
	    !r->persist_browser_session && !with && !r->cache_key && !headers &&
	    !r->credential_id)
		return 0;
	json_t *o = json_pack(
	    "{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "complete_criterion",
	    r->complete_criterion, "terminate_criterion",
	    r->terminate_criterion, "application", r->application, "run_with",
	    with, "cache_key", r->cache_key, "credential_id", r->credential_id);
	if (o && r->browser_profile_id)
		json_object_set_new(o, "browser_profile_id",
		                    json_string(r->browser_profile_id));
	if (o && r->persist_browser_session)
		json_object_set_new(o, "persist_browser_session", json_true());
	if (o && with)
		json_object_set_new(o, "ai_fallback",
		                    json_boolean(r->ai_fallback));
	/* The handshake headers of browser_address travel with the run to
	 * whichever worker executes it; no answer shows them. */
	if (o && headers)
		json_object_set_new(o, "cdp_connect_headers",
		                    sky_json_loads(r->cdp_connect_headers));
	r->notes = o ? sky_json_dumps(o) : NULL;
	json_decref(o);
	return r->notes ? 0 : -1;
}

/* Fill `err` from the context; returns the code to return. */
static int refuse(pctx *c, sky_request_error *err)
{
	json_t *detail;

	if (c->oom)
		return sky_error_from_code(SKY_ENOMEM);
	if (c->status) {
		detail = json_string(c->detail);
	} else {
		detail = json_incref(c->errors);
		c->status = 422;
	}
	err->status = c->status;
	err->detail = sky_json_dumps(detail);
	json_t *body = json_pack("{s:o}", "detail", detail);
	err->body = body ? sky_json_dumps(body) : NULL;
	json_decref(body);
	if (!err->detail || !err->body) {
		sky_request_error_clear(err);
		return sky_error_from_code(SKY_ENOMEM);
	}
	if (c->detail) {
		sky_error_set(SKY_EINVALID, "%s", c->detail);
	} else {
		json_t *first = json_array_get(c->errors, 0);
		json_t *loc = json_object_get(first, "loc");
		const char *f = json_string_value(json_array_get(loc, 1));
		sky_error_set(SKY_EINVALID,
		              "invalid request: %s%s%s (%zu "
		              "error%s)",
		              f ? f : "body", ": ", sky_json_str(first, "msg"),
		              json_array_size(c->errors),
		              json_array_size(c->errors) == 1 ? "" : "s");
	}
	return SKY_EINVALID;
}

/* An error about the body as a whole; `input` is borrowed, `loc_pos` and
 * `ctx` are stolen. */
static void body_error(pctx *c, const char *type, json_t *loc_pos,
                       const char *msg, json_t *input, json_t *ctx)
{
	json_t *e = json_pack("{s:s, s:[s], s:s, s:O?}", "type", type, "loc",
	                      "body", "msg", msg, "input", input);
	if (!e) {
		c->oom = 1;
		json_decref(loc_pos);
		json_decref(ctx);
		return;
	}
	if (loc_pos)
		json_array_append_new(json_object_get(e, "loc"), loc_pos);
	if (ctx)
		json_object_set_new(e, "ctx", ctx);
	if (json_array_append_new(c->errors, e))
		c->oom = 1;
}

int sky_task_request_parse(const char *body, size_t len,
                           const sky_request_options *opts,
                           sky_task_request **out, sky_request_error *err)
{
	pctx c = {0};
	json_t *root = NULL;
	json_error_t jerr;
	sky_task_request *r = NULL;
	int rc;

	if (!out || !err)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	memset(err, 0, sizeof *err);
	if (len && !body)
		return sky_error_set(SKY_EINVALID, "NULL body");
	if (len > SKY_REQUEST_MAX_BODY) {
		err->status = 413;
		err->detail = skyx_asprintf("\"Request body is larger than %d "
		                            "bytes\"",
		                            SKY_REQUEST_MAX_BODY);
		err->body = skyx_asprintf("{\"detail\":%s}",
		                          err->detail ? err->detail : "null");
		if (!err->detail || !err->body) {
			sky_request_error_clear(err);
			return sky_error_from_code(SKY_ENOMEM);
		}
		return sky_error_set(SKY_ETOOBIG,
		                     "request body is %zu bytes; "
		                     "the limit is %d",
		                     len, SKY_REQUEST_MAX_BODY);
	}
	c.url_flags = opts ? opts->url_flags : 0;
	if (!(c.errors = json_array()))
		return sky_error_from_code(SKY_ENOMEM);

	/* A UTF-8 byte order mark is not part of the JSON text. */
	if (len >= 3 && !memcmp(body, "\xef\xbb\xbf", 3)) {
		body += 3;
		len -= 3;
	}
	if (len)
		root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
		                  &jerr);
	if (len == 0 || json_is_null(root)) {
		body_error(&c, "missing", NULL, "Field required", json_null(),
		           NULL);
		goto refused;
	}
	if (!root) {
		json_t *empty = json_object();
		body_error(&c, "json_invalid", json_integer(jerr.position),
		           "JSON decode error", empty,
		           json_pack("{s:s}", "error", jerr.text));
		json_decref(empty);
		goto refused;
	}
	if (!json_is_object(root)) {
		body_error(&c, "model_attributes_type", NULL,
		           "Input should be a valid dictionary or object to "
		           "extract fields from",
		           root, NULL);
		goto refused;
	}
	c.body = root;
	if (!(r = calloc(1, sizeof *r))) {
		c.oom = 1;
		goto refused;
	}
	validate_fields(&c, r);
	if (c.status || c.oom || json_array_size(c.errors))
		goto refused;
	if (strcmp(r->engine, "skyvern-1.0") &&
	    strcmp(r->engine, "skyvern-2.0")) {
		c.status = 400;
		c.detail = skyx_asprintf("Engine %s is not supported by "
		                         "skyengine; use skyvern-1.0 or "
		                         "skyvern-2.0",
		                         r->engine);
		c.oom |= !c.detail;
		goto refused;
	}
	if (r->publish_workflow && strcmp(r->engine, "skyvern-2.0")) {
		/* Skyvern publishes workflows from v2 runs only. */
		free(r->engine);
		c.oom |= !(r->engine = strdup("skyvern-2.0"));
	}
	if (c.oom || refuse_unhonoured(&c, r, opts ? opts->llm_models : NULL))
		goto refused;
	r->run_type = strcmp(r->engine, "skyvern-1.0") ? SKY_RUN_TYPE_V2
	                                               : SKY_RUN_TYPE_V1;
	if (c.oom || make_notes(r) || !(r->run_request = make_echo(r))) {
		c.oom = 1;
		goto refused;
	}
	json_decref(root);
	json_decref(c.errors);
	*out = r;
	return 0;
refused:
	rc = refuse(&c, err);
	sky_task_request_free(r);
	json_decref(root);
	json_decref(c.errors);
	free(c.detail);
	return rc;
}

void sky_task_request_to_new(const sky_task_request *r, sky_task_new *out)
{
	memset(out, 0, sizeof *out);
	out->run_type = r->run_type;
	out->engine = r->engine;
	out->title = r->title;
	out->url = r->url;
	out->prompt = r->prompt;
	out->proxy_location = r->proxy_location;
	out->data_extraction_schema = r->data_extraction_schema;
	out->error_code_mapping = r->error_code_mapping;
	out->navigation_payload = r->navigation_payload;
	out->max_steps = r->max_steps;
	out->webhook_url = r->webhook_url;
	out->totp_identifier = r->totp_identifier;
	out->totp_url = r->totp_url;
	out->browser_session_id = r->browser_session_id;
	out->publish_workflow = r->publish_workflow;
	out->extra_http_headers = r->extra_http_headers;
	out->include_action_history_in_verification =
	    r->include_action_history_in_verification;
	out->max_screenshot_scrolls = r->max_screenshot_scrolls;
	out->browser_address = r->browser_address;
	out->data_extraction_goal = r->data_extraction_goal;
	out->notes = r->notes;
	out->run_request = r->run_request;
}
