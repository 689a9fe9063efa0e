/*
 * skyengine plugin ABI 2.1: credentials providers. A provider resolves a
 * credential reference (the credential_id a run names, when it is not a
 * "cred_…" id of the engine's own vault) to the credential's fields, so
 * that a vault can live outside skyengine (a password manager's CLI, a
 * secrets service). The engine asks when the run starts; the model only
 * ever sees {{credential.<field>}} placeholders, and the values are
 * typed inside the browser plugin call. Values never reach a log line
 * or an error message.
 */
#ifndef SKYENGINE_PLUGIN_CREDENTIALS_H
#define SKYENGINE_PLUGIN_CREDENTIALS_H

#include <stddef.h>

#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sky_credentials_provider {
	/* Provider name, selected by config credentials.provider or
	 * SKYENGINE_CREDENTIALS ("command"). */
	const char *name;
	/* Create an instance from the engine's "credentials" section. */
	int (*create)(const sky_host_ctx *host, const char *config_json,
	              void **instance, char **err);
	void (*destroy)(void *instance);
	/*
	 * The fields of credential `reference`: 0 and *fields_json
	 * (host-allocated JSON object text: "username", "password", and
	 * optionally "totp" (a base32 authenticator secret), "card_number",
	 * "secret_value", ...; the host wipes it after use), SKY_ENOTFOUND
	 * when the provider knows no such credential, or another negative
	 * code with *err (which must not quote a secret). May block; called
	 * from run threads, concurrently.
	 */
	int (*resolve)(void *instance, const char *reference,
	               char **fields_json, char **err);
} sky_credentials_provider;

/* Register a credentials provider from sky_plugin_load (passes sizeof
 * *vt). Needs a host of ABI 2.1 or later. */
static inline int sky_register_credentials(const sky_host_api *api,
                                           sky_registrar *reg,
                                           const sky_credentials_provider *vt)
{
	return api->register_provider(reg, SKY_PROVIDER_CREDENTIALS, vt,
	                              sizeof *vt);
}

#ifdef __cplusplus
}
#endif

#endif
