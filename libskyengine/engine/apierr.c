/*
 * Error bodies in the API's shapes for the engine's host functions:
 * {"detail": "..."} and FastAPI's 422 {"detail": [{type, loc, msg,
 * input}]}, built by hand so every caller spells them the same way.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "engine/engine_internal.h"
#include "util/error.h"
#include "util/json.h"
#include <skyx/str.h>

char *sky_engine__api_detail(const char *fmt, ...)
{
	skyx_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	json_t *o = json_pack("{s:s}", "detail", b.data ? b.data : "");
	char *s = sky_json_dumps(o);
	json_decref(o);
	skyx_buf_free(&b);
	return s;
}

void sky_engine__api_item(json_t *items, const char *type, const char *field,
                          const char *msg, const json_t *input)
{
	json_t *loc = json_pack("[s]", "body");
	if (field)
		json_array_append_new(loc, json_string(field));
	json_t *e = json_pack("{s:s, s:o, s:s, s:O?}", "type", type, "loc", loc,
	                      "msg", msg, "input", input);
	if (e && !input)
		json_object_set_new(e, "input", json_null());
	json_array_append_new(items, e);
}

char *sky_engine__api_422(json_t *items)
{
	json_t *o = json_pack("{s:O}", "detail", items);
	char *s = sky_json_dumps(o);
	json_decref(o);
	return s;
}

int sky_engine__api_refuse(char **out_json, int *http_status, int status,
                           char *body, int code, const char *what)
{
	*out_json = body;
	if (http_status)
		*http_status = status;
	if (!body)
		return sky_error_from_code(SKY_ENOMEM);
	return sky_error_set(code, "%s", what);
}
