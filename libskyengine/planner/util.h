/* Internal to planner/: small helpers shared by its files. */
#ifndef SKY_PLANNER_UTIL_H
#define SKY_PLANNER_UTIL_H

#include <jansson.h>
#include <stddef.h>

/* A copy of s cut to at most `cap` bytes on a UTF-8 character boundary,
 * with "..." appended when cut; malloc'd (NULL in, NULL out). */
char *sky_planner__cut(const char *s, size_t cap);

/* Pretty JSON for prompts (2-space indent, key order kept); malloc'd;
 * NULL for a NULL or JSON-null value. */
char *sky_planner__json_text(const json_t *v);

/* 1 if `url` is an absolute http(s) URL with a host and no whitespace or
 * control characters. */
int sky_planner__url_ok(const char *url);

/* Resolve `ref` against `base` (absolute, "/path", "//host/path",
 * "?q", "#f" or "relative/path"); malloc'd; NULL if it cannot be. */
char *sky_planner__url_resolve(const char *base, const char *ref);

#endif
