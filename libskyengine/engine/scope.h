/*
 * Internal: the two checks every public entry point of the engine makes
 * the same way: which organization a call is scoped to, and whether an
 * options struct has a version this library reads.
 */
#ifndef SKY_ENGINE_SCOPE_H
#define SKY_ENGINE_SCOPE_H

#include <skyengine/engine.h>

/*
 * The organization a store query is scoped to: the id given; the
 * engine's default organization for NULL or ""; NULL (the store's "every
 * organization") for SKY_ORGANIZATION_ANY. The only place that tells
 * SKY_ORGANIZATION_ANY apart.
 */
const char *sky_engine__org_scope(sky_engine *e, const char *organization_id);

/* The organization a new object is created in: as sky_engine__org_scope(), but
 * SKY_ORGANIZATION_ANY is refused (SKY_EINVALID): an object belongs to
 * one organization. */
int sky_engine__org_for_create(sky_engine *e, const char *organization_id,
                               const char **scope);

/* 1 when `organization_id` is SKY_ORGANIZATION_ANY. */
int sky_engine__org_is_any(const char *organization_id);

/*
 * 0 when `version` is one of min..max, else SKY_EINVALID with
 * sky_error_last() naming the struct ("sky_list_options version 9 is
 * not supported by this library (3..3)").
 */
int sky_engine__options_version(const char *what, unsigned int version,
                                unsigned int min, unsigned int max);

/* The body of every sky_*_options_init(): check `version` as above,
 * zero the `size` bytes of `opts` and set its leading version field. */
int sky_engine__options_init(void *opts, size_t size, const char *what,
                             unsigned int version, unsigned int min,
                             unsigned int max);

#endif
