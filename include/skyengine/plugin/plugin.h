/*
 * skyengine plugin ABI: the two symbols every plugin exports, and how a
 * plugin registers providers. A plugin never links libskyengine; it gets
 * everything it needs from the host API table (host.h).
 *
 * A minimal plugin:
 *
 *     #include <skyengine/plugin/plugin.h>
 *     #include <skyengine/plugin/llm.h>
 *     static const sky_host_api *host;
 *     SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void) { return SKY_PLUGIN_ABI; }
 *     SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
 *                                           sky_registrar *reg, char **err) {
 *         static const sky_llm_provider vt = { .name = "echo", ... };
 *         host = api;
 *         return api->register_provider(reg, SKY_PROVIDER_LLM, &vt, sizeof vt);
 *     }
 */
#ifndef SKYENGINE_PLUGIN_PLUGIN_H
#define SKYENGINE_PLUGIN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ABI version: major in the high 16 bits, minor in the low 16. The host
 * accepts a plugin whose major equals its own and whose minor is <= its
 * own; minor grows when the host API table or a vtable gets new fields
 * appended.
 */
#define SKY_PLUGIN_ABI_MAJOR 1
#define SKY_PLUGIN_ABI_MINOR 2
#define SKY_PLUGIN_ABI                                                         \
	((uint32_t)(((uint32_t)SKY_PLUGIN_ABI_MAJOR << 16) |                   \
	            (uint32_t)SKY_PLUGIN_ABI_MINOR))
#define SKY_PLUGIN_ABI_GET_MAJOR(v) ((uint32_t)(v) >> 16)
#define SKY_PLUGIN_ABI_GET_MINOR(v) ((uint32_t)(v)&0xffffu)

#if defined(__GNUC__) && __GNUC__ >= 4
#  define SKY_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#  define SKY_PLUGIN_EXPORT
#endif

/* Required: the ABI the plugin was built against (return SKY_PLUGIN_ABI).
 * Called before anything else in the plugin. */
typedef uint32_t (*sky_plugin_abi_fn)(void);

/*
 * Required: register providers with api->register_provider(). Return 0, or
 * a negative SKY_E* code and set *err to a message allocated with
 * api->alloc/api->strdup (the host frees it).
 */
typedef int (*sky_plugin_load_fn)(const sky_host_api *api,
                                  sky_registrar *registrar, char **err);

/* Optional: called once before the plugin is unloaded, after every
 * provider instance it created has been destroyed. */
typedef void (*sky_plugin_unload_fn)(void);

#define SKY_PLUGIN_SYM_ABI "sky_plugin_abi"
#define SKY_PLUGIN_SYM_LOAD "sky_plugin_load"
#define SKY_PLUGIN_SYM_UNLOAD "sky_plugin_unload"

#ifdef __cplusplus
}
#endif

#endif
