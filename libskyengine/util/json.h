/* Internal: small helpers over jansson. */
#ifndef SKY_UTIL_JSON_H
#define SKY_UTIL_JSON_H

#include <jansson.h>
#include <stdint.h>

/* Compact, key order preserved, UTF-8 kept as is; malloc'd (free()). */
char *sky_json_dumps(const json_t *v);
/* Parse text; NULL on error (no error detail). */
json_t *sky_json_loads(const char *text);
/* Borrowed string member or NULL when absent / not a string. */
const char *sky_json_str(const json_t *obj, const char *key);
/* Integer member or `dflt` when absent / not an integer. */
json_int_t sky_json_int(const json_t *obj, const char *key, json_int_t dflt);
/* Boolean member or `dflt`. */
int sky_json_bool(const json_t *obj, const char *key, int dflt);
/* json_string() of s, or json_null() when s is NULL. */
json_t *sky_json_str_or_null(const char *s);
/* Parse `text` if non-NULL, else return json_null(); invalid text also
 * gives json_null(). New reference. */
json_t *sky_json_or_null(const char *text);

#endif
