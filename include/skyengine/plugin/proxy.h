/*
 * skyengine plugin ABI: proxy providers. They map a run's proxy_location
 * (the API's enum value, a geo-target object or {"url": ...}) to a proxy
 * server the run's browser context uses.
 */
#ifndef SKYENGINE_PLUGIN_PROXY_H
#define SKYENGINE_PLUGIN_PROXY_H

#include <stddef.h>

#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sky_proxy_provider {
	/* Provider name, selected by SKYENGINE_PROXY ("static"). */
	const char *name;

	/* Create an instance from the engine's "proxy" section; keep `host`
	 * for the host API's per-engine calls. */
	int (*create)(const sky_host_ctx *host, const char *config_json,
	              void **instance, char **err);
	void (*destroy)(void *instance);

	/*
	 * Resolve a location for a run. location_json is the request's
	 * proxy_location as JSON ("\"RESIDENTIAL_GB\"", {"country": "US"},
	 * {"url": "http://u:p@h:1"}); run_id allows sticky sessions.
	 * Returns 0 with *proxy_json {"server": "http://h:p", "username":
	 * "...", "password": "...", "session": "..."}, or SKY_ENOTFOUND when
	 * the provider has no proxy for this location.
	 */
	int (*resolve)(void *instance, const char *location_json,
	               const char *run_id, char **proxy_json, char **err);
} sky_proxy_provider;

/* Register an proxy provider from sky_plugin_load (passes sizeof *vt). */
static inline int sky_register_proxy(const sky_host_api *api,
                                     sky_registrar *reg,
                                     const sky_proxy_provider *vt)
{
	return api->register_provider(reg, SKY_PROVIDER_PROXY, vt, sizeof *vt);
}

#ifdef __cplusplus
}
#endif

#endif
