/*
 * skyengine plugin ABI: the two symbols every plugin exports, and how a
 * plugin registers providers. A plugin never links libskyengine; it gets
 * everything it needs from the host API table and the host context
 * (host.h).
 *
 * A minimal plugin:
 *
 *     #include <skyengine/plugin/plugin.h>
 *     #include <skyengine/plugin/llm.h>
 *
 *     SKY_PLUGIN_DECLARE();
 *
 *     static const sky_host_api *api;
 *
 *     static int echo_create(const sky_host_ctx *host, const char *cfg,
 *                            void **instance, char **err) { ... }
 *     ...
 *     SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
 *     {
 *         return SKY_PLUGIN_ABI;
 *     }
 *     SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *host_api,
 *                                           sky_registrar *reg, char **err)
 *     {
 *         static const sky_llm_provider vt = {
 *             .name = "echo", .create = echo_create, ...};
 *         api = host_api;
 *         return sky_register_llm(host_api, reg, &vt);
 *     }
 */
#ifndef SKYENGINE_PLUGIN_PLUGIN_H
#define SKYENGINE_PLUGIN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ABI version: major in the high 16 bits, minor in the low 16. The host
 * loads a plugin whose major equals its own and whose minor is <= its own,
 * and refuses any other with SKY_EABI and a message naming both versions.
 * The minor grows when the host API table or a vtable gets new fields
 * appended (old plugins keep working); the major grows when a signature or
 * a field's meaning changes (every plugin must be rebuilt).
 *
 * 2.0: every provider instance gets its engine's sky_host_ctx in create(),
 * and the table's per-engine functions (log, config_get, http_request,
 * data_dir) take it. 1.x plugins are refused.
 */
#define SKY_PLUGIN_ABI_MAJOR 2
#define SKY_PLUGIN_ABI_MINOR 1
#define SKY_PLUGIN_ABI                                                         \
	((uint32_t)(((uint32_t)SKY_PLUGIN_ABI_MAJOR << 16) |                   \
	            (uint32_t)SKY_PLUGIN_ABI_MINOR))
#define SKY_PLUGIN_ABI_GET_MAJOR(v) ((uint32_t)(v) >> 16)
#define SKY_PLUGIN_ABI_GET_MINOR(v) ((uint32_t)(v)&0xffffu)

#if defined(__GNUC__) && __GNUC__ >= 4
#	define SKY_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#	define SKY_PLUGIN_EXPORT
#endif

/* Required: the ABI the plugin was built against (return SKY_PLUGIN_ABI).
 * Called before anything else in the plugin. */
typedef uint32_t (*sky_plugin_abi_fn)(void);

/*
 * Required: register providers with sky_register_llm() & co. Called once
 * for each engine that loads the plugin, on that engine's thread, always
 * with the same `api` (keep it in a static; valid until unloaded). The
 * engines share the plugin's statics: keep per-engine state in instances,
 * reached through the sky_host_ctx create() gets. Return 0, or a negative
 * SKY_E* code and
 * set *err to a message allocated with api->alloc/api->strdup (the host
 * frees it).
 */
typedef int (*sky_plugin_load_fn)(const sky_host_api *api,
                                  sky_registrar *registrar, char **err);

/* Optional: the pair of sky_plugin_load, called when an engine that loaded
 * the plugin lets it go, after that engine's instances were destroyed
 * (another engine's may still be alive). */
typedef void (*sky_plugin_unload_fn)(void);

#define SKY_PLUGIN_SYM_ABI "sky_plugin_abi"
#define SKY_PLUGIN_SYM_LOAD "sky_plugin_load"
#define SKY_PLUGIN_SYM_UNLOAD "sky_plugin_unload"

/*
 * Declares the entry points with their exact types and default
 * visibility, so the compiler checks the plugin's definitions against the
 * ABI. Put it once at file scope of the file that defines them.
 */
#define SKY_PLUGIN_DECLARE()                                                   \
	SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void);                       \
	SKY_PLUGIN_EXPORT int sky_plugin_load(                                 \
	    const sky_host_api *api, sky_registrar *registrar, char **err);    \
	SKY_PLUGIN_EXPORT void sky_plugin_unload(void)

#ifdef __cplusplus
}
#endif

#endif
