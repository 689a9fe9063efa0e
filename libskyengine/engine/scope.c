/* Organization scoping and options versions (engine/scope.h). */
#include <string.h>

#include <skyengine/errors.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "util/error.h"

/* Told apart by its address only: a caller's string "*" (or this text)
 * is just an organization id no organization has. */
const char sky_organization_any[] = "(any organization)";

int sky_engine__org_is_any(const char *org)
{
	return org == sky_organization_any;
}

const char *sky_engine__org_scope(sky_engine *e, const char *org)
{
	if (sky_engine__org_is_any(org))
		return NULL;
	return org && *org ? org : sky_store_default_org(e->store);
}

int sky_engine__org_for_create(sky_engine *e, const char *org,
                               const char **scope)
{
	*scope = NULL;
	if (sky_engine__org_is_any(org))
		return sky_error_set(SKY_EINVALID,
		                     "an object is created in one "
		                     "organization, not "
		                     "SKY_ORGANIZATION_ANY");
	*scope = sky_engine__org_scope(e, org);
	return 0;
}

int sky_engine__options_version(const char *what, unsigned int version,
                                unsigned int min, unsigned int max)
{
	if (version >= min && version <= max)
		return 0;
	return sky_error_set(SKY_EINVALID,
	                     "%s version %u is not supported by this library "
	                     "(%u..%u); initialise it with the _INIT macro or "
	                     "the _init function",
	                     what, version, min, max);
}

int sky_engine__options_init(void *opts, size_t size, const char *what,
                             unsigned int version, unsigned int min,
                             unsigned int max)
{
	if (!opts)
		return sky_error_set(SKY_EINVALID, "opts is required");
	int rc = sky_engine__options_version(what, version, min, max);
	if (rc)
		return rc;
	/* Every options struct starts with its `unsigned int version`. */
	memset(opts, 0, size);
	*(unsigned int *)opts = version;
	return 0;
}
