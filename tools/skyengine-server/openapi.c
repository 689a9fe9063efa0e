/* GET /openapi.json: the description of what we serve, embedded from
 * openapi.json at build time. */
#include <string.h>

#include "server.h"

struct sky_resource {
	const char *name;
	const unsigned char *data;
	size_t len;
};
extern const struct sky_resource sky_resources_server[];

const char *srv_openapi_json(void)
{
	for (const struct sky_resource *r = sky_resources_server; r->name; r++)
		if (!strcmp(r->name, "openapi.json"))
			return (const char *)r->data;
	return "{}";
}
