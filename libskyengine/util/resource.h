/* Internal: files compiled into the library (prompt templates, the page
 * script), see cmake/SkyEmbed.cmake. */
#ifndef SKY_UTIL_RESOURCE_H
#define SKY_UTIL_RESOURCE_H

#include <stddef.h>

/* The resource at `name` relative to libskyengine/ ("page/snapshot.js"),
 * NUL-terminated, static; NULL if there is none. */
const char *sky_resource_get(const char *name, size_t *len);

#endif
