/*
 * skyengine plugin ABI: TOTP / verification-code providers. A provider
 * produces a current code for a run's totp_identifier (for example from a
 * stored RFC 6238 secret). Codes and secrets never reach a log line.
 */
#ifndef SKYENGINE_PLUGIN_TOTP_H
#define SKYENGINE_PLUGIN_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sky_totp_provider {
	/* Provider name, selected by SKYENGINE_TOTP ("secret"). */
	const char *name;

	/* Create an instance from the engine's "totp" section; keep `host`
	 * for the host API's per-engine calls. */
	int (*create)(const sky_host_ctx *host, const char *config_json,
	              void **instance, char **err);
	void (*destroy)(void *instance);

	/*
	 * A code for `identifier` at unix time `now` (seconds). Returns 0 and
	 * *code (host-allocated digits), SKY_ENOTFOUND when the provider knows
	 * no secret for the identifier, or another negative code with *err.
	 */
	int (*get_code)(void *instance, const char *identifier, int64_t now,
	                char **code, char **err);
} sky_totp_provider;

/* Register an totp provider from sky_plugin_load (passes sizeof *vt). */
static inline int sky_register_totp(const sky_host_api *api, sky_registrar *reg,
                                    const sky_totp_provider *vt)
{
	return api->register_provider(reg, SKY_PROVIDER_TOTP, vt, sizeof *vt);
}

#ifdef __cplusplus
}
#endif

#endif
