/*
 * Internal: the plugin host. Loads plugin shared objects, checks their
 * ABI, hands them the host API table, and keeps the providers they
 * register (as zero-padded copies of their vtables).
 */
#ifndef SKY_PLUGIN_LOADER_H
#define SKY_PLUGIN_LOADER_H

#include <skyengine/plugin/browser.h>
#include <skyengine/plugin/host.h>
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>
#include <skyengine/plugin/proxy.h>
#include <skyengine/plugin/credentials.h>
#include <skyengine/plugin/totp.h>

typedef struct sky_plugins sky_plugins;

/*
 * Create a plugin host. `search_path` (':'-separated, may be NULL) is
 * searched first, then $SKYENGINE_PLUGIN_PATH, then the plugin dir
 * beside the shared library, then the one found from the program's file
 * (<bindir>/../lib/skyengine/plugins; the build tree's plugin dir for a
 * program in the build tree), then the compiled-in install dir.
 */
int sky_plugins_new(const char *search_path, sky_plugins **out);
/* Unload every plugin (calling sky_plugin_unload where present). The
 * caller must have destroyed every provider instance first. */
void sky_plugins_free(sky_plugins *p);

/*
 * Load one plugin: `name` is a file name without directory ("llm-openai"
 * or "llm-openai.so"), searched on the path, or a path containing '/'.
 * Loading the same file twice is a no-op. Errors name the file and the
 * reason (sky_error_last()).
 */
int sky_plugins_load(sky_plugins *p, const char *name);

/*
 * The provider of `kind` called `name`, loading "<kind>-<name>.so" from
 * the path when it is not registered yet. Returns a borrowed, full-size
 * vtable (fields the plugin did not know are NULL) or NULL with the error
 * set.
 */
const void *sky_plugins_provider(sky_plugins *p, sky_provider_kind kind,
                                 const char *name);

/* Typed shorthands for sky_plugins_provider(). */
const sky_llm_provider *sky_plugins_llm(sky_plugins *p, const char *name);
const sky_browser_provider *sky_plugins_browser(sky_plugins *p,
                                                const char *name);
const sky_proxy_provider *sky_plugins_proxy(sky_plugins *p, const char *name);
const sky_totp_provider *sky_plugins_totp(sky_plugins *p, const char *name);
const sky_credentials_provider *sky_plugins_credentials(sky_plugins *p,
                                                        const char *name);

/* The searched directories, ':'-joined (for messages); borrowed. */
const char *sky_plugins_search_path(const sky_plugins *p);

/* "llm", "browser", ... */
const char *sky_provider_kind_name(sky_provider_kind kind);

/* The host API table handed to plugins: process-wide and constant
 * (functions only; what is per engine goes through sky_host_ctx). */
const sky_host_api *sky_host_api_get(void);

struct sky_http_client;

/*
 * The engine's side of this plugin host, read by the host API through
 * the contexts of its providers: the engine's config JSON object (for
 * api->config_get; NULL: none), its data directory (api->data_dir; NULL:
 * ".") and its HTTP client (api->http_request; borrowed, must outlive
 * every provider instance; NULL: requests fail). Copies the strings.
 * Call it before any provider instance is created.
 */
int sky_plugins_set_engine(sky_plugins *p, const char *config_json,
                           const char *data_dir, struct sky_http_client *http);

/*
 * The host context to pass to the create() of the provider whose vtable
 * sky_plugins_provider() returned (and to nothing else). Valid until
 * sky_plugins_free(). NULL for a vtable `p` did not hand out.
 */
const sky_host_ctx *sky_plugins_ctx(sky_plugins *p, const void *vtable);

void sky_http_response_free(sky_http_response *resp);

/* Free a string a plugin returned (allocated with api->alloc). */
#define sky_plugin_free free

#endif
