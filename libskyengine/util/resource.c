/* Lookup of files embedded at build time. */
#include "util/resource.h"

#include <string.h>

struct sky_resource {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct sky_resource sky_resources_lib[];

const char *sky_resource_get(const char *name, size_t *len)
{
	for (const struct sky_resource *r = sky_resources_lib; r->name; r++) {
		if (!strcmp(r->name, name)) {
			if (len)
				*len = r->len;
			return (const char *)r->data;
		}
	}
	return NULL;
}
