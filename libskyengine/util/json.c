/* Small helpers over jansson. */
#include "util/json.h"

#include <stdlib.h>

char *sky_json_dumps(const json_t *v)
{
	return json_dumps(v,
	                  JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

json_t *sky_json_loads(const char *text)
{
	if (!text)
		return NULL;
	return json_loads(text, JSON_DECODE_ANY, NULL);
}

const char *sky_json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

json_int_t sky_json_int(const json_t *obj, const char *key, json_int_t dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int sky_json_bool(const json_t *obj, const char *key, int dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

json_t *sky_json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *sky_json_or_null(const char *text)
{
	json_t *v = sky_json_loads(text);
	return v ? v : json_null();
}
