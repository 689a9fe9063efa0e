/* skyengine: the engine object an embedder creates, and its options. */
#ifndef SKYENGINE_ENGINE_H
#define SKYENGINE_ENGINE_H

#include "common.h"

SKY_BEGIN_DECLS

typedef struct sky_engine sky_engine;

/*
 * Threading. One sky_engine may be used from any number of threads at
 * once: every function taking a sky_engine is thread-safe, except
 * sky_engine_free(), which the caller must make the last call on the
 * engine (no other thread inside a function of it, none after). Objects
 * the library returns (a sky_run, a string) belong to the caller and
 * are not shared by the library: use one from several threads only with
 * your own lock. Separate engines are independent; one data directory
 * has at most one executing engine at a time (a second sky_engine_new()
 * on it fails with SKY_EBUSY; no_execute engines may share it).
 *
 * Blocking: sky_run_wait() blocks the calling thread; every other call
 * returns after local work (SQLite, files), except sky_engine_new() and
 * sky_engine_free(), which start and stop plugins and workers, and the
 * browser-session and webhook functions of tasks_api.h, which talk to
 * the browser or the network.
 *
 * Callbacks: event subscribers (sky_engine_subscribe) run on the
 * engine's worker threads, frame watchers (sky_run_watch) on a browser
 * thread, the log sink (sky_log_set) on whatever thread logs. All may
 * run concurrently with each other and with the caller's threads; none
 * may call sky_engine_free().
 *
 * Errors: a failing function returns a negative SKY_E* code and sets
 * the calling thread's sky_error_last() (errors.h).
 */

/*
 * Organizations. Every run, step, artifact, session, workflow and API
 * key belongs to one organization (a tenant); one engine serves any
 * number of them. Every function that reads or writes such an object
 * takes the caller's organization as an explicit argument:
 *   - an organization id ("o_…", from sky_organization_create());
 *   - NULL: the engine's default organization (single-tenant use);
 *   - SKY_ORGANIZATION_ANY: any organization, for a host that has
 *     checked access another way (a signed link). Reads only: functions
 *     that create objects refuse it with SKY_EINVALID.
 * An object of another organization is reported as not found.
 */
SKY_API extern const char sky_organization_any[];
#define SKY_ORGANIZATION_ANY (sky_organization_any)

#define SKY_ENGINE_OPTIONS_VERSION 1

/*
 * Options for sky_engine_new(). Initialise with SKY_ENGINE_OPTIONS_INIT or
 * sky_engine_options_init(); fields are only ever appended. Strings are
 * copied by sky_engine_new(). A NULL/0 field means "the default", which
 * is then taken from the environment variable named beside it, then from
 * the built-in default.
 */
typedef struct sky_engine_options {
	unsigned int version;

	/* Data directory: SQLite file, artifacts, downloads.
	 * $SKYENGINE_DATA, default "./skyengine-data". */
	const char *data_dir;

	/* Extra plugin directories, ':'-separated, searched first; then
	 * $SKYENGINE_PLUGIN_PATH, then the install's lib/skyengine/plugins
	 * (found beside the shared library or the program's own file). */
	const char *plugin_path;

	/* LLM provider plugin: "rules" (offline default), "openai",
	 * "anthropic", "replay", or a third-party plugin's provider name.
	 * $SKYENGINE_LLM, default "rules". */
	const char *llm;

	/* Browser provider plugin. $SKYENGINE_BROWSER, default "cdp". */
	const char *browser;

	/* Worker threads executing runs. $SKYENGINE_WORKERS, default 4. */
	int workers;

	/* Default max_steps when a request gives none.
	 * $SKYENGINE_MAX_STEPS, default 10. */
	int max_steps;

	/* Retries of a failed step. $SKYENGINE_MAX_RETRIES, default 5. */
	int max_retries_per_step;

	/*
	 * Configuration as a JSON object text, handed to plugins and read by
	 * the engine: {"llm": {...}, "browser": {...}, "proxy": {...}, ...}.
	 * See docs/configuration.md. May be NULL.
	 */
	const char *config_json;

	/* Do not execute runs: accept and store only (a pure API host or a
	 * test). 0 = execute. */
	int no_execute;
} sky_engine_options;

#ifdef __cplusplus
#	define SKY_ENGINE_OPTIONS_INIT                                        \
		{                                                              \
			SKY_ENGINE_OPTIONS_VERSION                             \
		}
#else
#	define SKY_ENGINE_OPTIONS_INIT                                        \
		{                                                              \
			.version = SKY_ENGINE_OPTIONS_VERSION                  \
		}
#endif

/* Zero `opts` and set its version (every field then means "the
 * default"). Returns 0, or SKY_EINVALID for a version this library does
 * not know. Every options struct of the API follows the same rule: its
 * `version` is read, and one newer than the library's, or 0, is refused
 * with SKY_EINVALID and a message naming the struct. */
SKY_API int sky_engine_options_init(sky_engine_options *opts,
                                    unsigned int version);

/*
 * Create an engine: opens the store, loads the configured plugins, starts
 * the worker pool. `opts` may be NULL for all defaults. Requires
 * sky_global_init(). On failure *out is NULL and sky_error_last() says
 * what went wrong.
 */
SKY_API int sky_engine_new(sky_engine **out, const sky_engine_options *opts);

/* Stop workers (in-flight runs are parked for recovery), unload plugins,
 * close the store. NULL-safe. */
SKY_API void sky_engine_free(sky_engine *engine);

/* The data directory in use (borrowed). */
SKY_API const char *sky_engine_data_dir(const sky_engine *engine);

SKY_END_DECLS

#endif
