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

/* The searched directories, ':'-joined (for messages); borrowed. */
const char *sky_plugins_search_path(const sky_plugins *p);

/* "llm", "browser", ... */
const char *sky_provider_kind_name(sky_provider_kind kind);

/*
 * The host API table handed to plugins. Process-wide and constant except
 * for the hooks below, which the engine sets (under a lock).
 */
const sky_host_api *sky_host_api_get(void);

/* Config lookup used by api->config_get: JSON object text with sections
 * ("llm": {...}); NULL clears. Copies. Last engine to set it wins. */
void sky_host_set_config(const char *config_json, const char *data_dir);

/* The HTTP client hook (installed by net/ when it starts). */
typedef int (*sky_host_http_fn)(const sky_http_request *req,
                                sky_http_response **out, char **err);
void sky_host_set_http(sky_host_http_fn fn);
void sky_http_response_free(sky_http_response *resp);

/* Free a string a plugin returned (allocated with api->alloc). */
#define sky_plugin_free free

#endif
