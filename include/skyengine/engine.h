/* skyengine: the engine object an embedder creates, and its options. */
#ifndef SKYENGINE_ENGINE_H
#define SKYENGINE_ENGINE_H

#include "common.h"

SKY_BEGIN_DECLS

typedef struct sky_engine sky_engine;

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
#  define SKY_ENGINE_OPTIONS_INIT { SKY_ENGINE_OPTIONS_VERSION }
#else
#  define SKY_ENGINE_OPTIONS_INIT { .version = SKY_ENGINE_OPTIONS_VERSION }
#endif

/* Fill `opts` with defaults. Returns 0, or SKY_EINVALID for a version
 * this library does not know. */
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
