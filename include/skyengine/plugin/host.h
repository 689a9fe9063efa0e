/*
 * skyengine plugin ABI: the host API table handed to every plugin, and the
 * host context handed to every provider instance.
 *
 * The table is the same for every engine in the process: functions only.
 * Everything that belongs to one engine (its configuration, its data
 * directory, its HTTP client) is reached through the sky_host_ctx the
 * engine passes to a provider's create(): keep it in the instance and pass
 * it back to the table's functions. Two engines in one process give their
 * instances different contexts, so a plugin never sees another engine's
 * settings. A context stays valid until the instance's destroy() returns.
 *
 * The table is append-only. It starts with its own size so that a plugin
 * built against a newer header can tell which fields exist:
 *     if (SKY_HOST_HAS(api, now_ms)) ...
 * A field the host does not provide is NULL.
 *
 * Memory rule: everything a plugin returns to the host (strings, buffers,
 * error messages) is allocated with api->alloc / api->strdup and freed by
 * the host; everything the host returns to a plugin is freed by the plugin
 * with api->free (or the dedicated *_free function).
 *
 * JSON crosses this boundary as UTF-8 text, never as library objects, so a
 * plugin is free to use any JSON library (or none).
 */
#ifndef SKYENGINE_PLUGIN_HOST_H
#define SKYENGINE_PLUGIN_HOST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque: what a plugin registers its providers with (valid only during
 * sky_plugin_load). */
typedef struct sky_registrar sky_registrar;

/*
 * Opaque: one engine's side of one provider, given to create(). Carries
 * the engine's configuration, data directory and HTTP client, and the
 * provider's name for log lines. Never NULL in create(); the table's
 * functions also accept NULL (no engine: config_get reads only the
 * environment, data_dir is ".", http_request fails with SKY_ESHUTDOWN).
 */
typedef struct sky_host_ctx sky_host_ctx;

/*
 * Marks a vtable callback the plugin may leave NULL (the engine then does
 * without it, as each field's comment says). Every unmarked callback is
 * required: registration fails without it.
 */
#define SKY_OPTIONAL

typedef enum sky_provider_kind {
	SKY_PROVIDER_LLM = 1,
	SKY_PROVIDER_BROWSER = 2,
	SKY_PROVIDER_PROXY = 3,
	SKY_PROVIDER_TOTP = 4,
	/* ABI 2.1: credentials providers (credentials.h). */
	SKY_PROVIDER_CREDENTIALS = 5,
} sky_provider_kind;

/* Log levels, identical to sky_log_level in <skyengine/log.h>. */
#define SKY_HOST_LOG_ERROR 0
#define SKY_HOST_LOG_WARN 1
#define SKY_HOST_LOG_INFO 2
#define SKY_HOST_LOG_DEBUG 3
#define SKY_HOST_LOG_TRACE 4

/* One HTTP header. */
typedef struct sky_http_header {
	const char *name;
	const char *value;
} sky_http_header;

#define SKY_HTTP_REQUEST_VERSION 1

/* A blocking HTTP request made through the host's client (see
 * libskyengine/net). Strings are borrowed for the duration of the call. */
typedef struct sky_http_request {
	unsigned int version; /* SKY_HTTP_REQUEST_VERSION */
	const char *method;   /* "GET", "POST", ... */
	const char *url;      /* http:// or https:// */
	const sky_http_header *headers;
	size_t n_headers;
	const void *body; /* may be NULL */
	size_t body_len;
	int timeout_ms;            /* whole request; <= 0 means 60000 */
	size_t max_response_bytes; /* 0 means 64 MiB; more is SKY_ETOOBIG */
	int use_env_proxy;         /* 1: honour $https_proxy/$http_proxy */
} sky_http_request;

/* A response; free with api->http_response_free(). Header names are
 * lower-case. `body` is NUL-terminated (body_len excludes the NUL). */
typedef struct sky_http_response {
	int status;
	sky_http_header *headers;
	size_t n_headers;
	char *body;
	size_t body_len;
} sky_http_response;

typedef struct sky_host_api {
	/* sizeof(sky_host_api) of the host that filled it. */
	size_t size;
	/* SKY_PLUGIN_ABI of the host. */
	uint32_t abi;

	/* Allocation: what crosses the boundary uses these. */
	void *(*alloc)(size_t n);
	void *(*realloc)(void *p, size_t n);
	void (*free)(void *p);
	char *(*strdup)(const char *s);

	/* Log one line. `component` names the source; NULL uses the
	 * provider's "<kind>-<name>" from `host` ("plugin" without one).
	 * Secrets are redacted by the host, but do not pass them in the
	 * first place. */
	void (*log)(const sky_host_ctx *host, int level, const char *component,
	            const char *fmt, ...)
#if defined(__GNUC__)
	    __attribute__((format(printf, 4, 5)))
#endif
	    ;

	/*
	 * Configuration lookup in the engine of `host`: "llm.base_url",
	 * "browser.path", ... Resolved from that engine's config JSON, then
	 * the environment variable SKYENGINE_<KEY> ("llm.base_url" ->
	 * SKYENGINE_LLM_BASE_URL). Returns a string the caller frees with
	 * api->free, or NULL when unset.
	 */
	char *(*config_get)(const sky_host_ctx *host, const char *key);

	/* Blocking, thread-safe HTTP request through the HTTP client of the
	 * engine of `host`. Returns 0 and *out (any status code), or a
	 * negative SKY_E* code and *err (free with api->free). */
	int (*http_request)(const sky_host_ctx *host,
	                    const sky_http_request *req,
	                    sky_http_response **out, char **err);
	void (*http_response_free)(sky_http_response *resp);

	/*
	 * Register a provider; only inside sky_plugin_load. Use the typed
	 * sky_register_llm() & co. (llm.h, browser.h, ...), which pass the
	 * vtable's sizeof: the host copies min(size, its own) bytes into a
	 * zeroed struct, so fields a plugin does not know read as NULL.
	 */
	int (*register_provider)(sky_registrar *reg, sky_provider_kind kind,
	                         const void *vtable, size_t size);

	/* The data directory of the engine of `host`: an absolute path,
	 * borrowed, valid as long as `host` is. */
	const char *(*data_dir)(const sky_host_ctx *host);

	/* Monotonic milliseconds, for deadlines. */
	int64_t (*now_ms)(void);

	/* Appended fields go below this line. */
} sky_host_api;

/* True when the host table has the field (and it is set). */
#define SKY_HOST_HAS(api, field)                                               \
	((api)->size >=                                                        \
	     offsetof(sky_host_api, field) + sizeof((api)->field) &&           \
	 (api)->field != NULL)

#ifdef __cplusplus
}
#endif

#endif
