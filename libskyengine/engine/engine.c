/* Engine creation and teardown: options, data dir, plugin host. */
#include "engine/engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include <skyengine/errors.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

int sky__global_ready(void);

int sky_engine_options_init(sky_engine_options *opts, unsigned int version)
{
	if (!opts || version == 0 || version > SKY_ENGINE_OPTIONS_VERSION)
		return sky_error_set(SKY_EINVALID,
		                     "unknown sky_engine_options version %u",
		                     version);
	memset(opts, 0, sizeof *opts);
	opts->version = version;
	return 0;
}

char *sky__opt_str(const char *opt, const char *env, const char *dflt)
{
	const char *e;
	if (opt && *opt)
		return sky_strdup(opt);
	e = env ? getenv(env) : NULL;
	if (e && *e)
		return sky_strdup(e);
	return sky_strdup(dflt);
}

int sky__opt_int(int opt, const char *env, int dflt)
{
	const char *e;
	if (opt > 0)
		return opt;
	e = env ? getenv(env) : NULL;
	if (e && *e) {
		char *end;
		long v = strtol(e, &end, 10);
		if (!*end && v > 0 && v < 1000000)
			return (int)v;
		sky_log_warn("engine", "ignoring %s=%s: not a positive integer",
		             env, e);
	}
	return dflt;
}

int sky_engine_new(sky_engine **out, const sky_engine_options *opts)
{
	sky_engine_options dflt;
	sky_engine *e;
	char *dir;
	int rc;

	if (!out)
		return sky_error_set(SKY_EINVALID, "out is NULL");
	*out = NULL;
	if (!sky__global_ready())
		return sky_error_set(SKY_EINVALID,
		                     "call sky_global_init() before "
		                     "sky_engine_new()");
	if (!opts) {
		sky_engine_options_init(&dflt, SKY_ENGINE_OPTIONS_VERSION);
		opts = &dflt;
	}
	if (opts->version == 0 || opts->version > SKY_ENGINE_OPTIONS_VERSION)
		return sky_error_set(SKY_EINVALID,
		                     "unknown sky_engine_options version %u",
		                     opts->version);
	if (opts->config_json) {
		json_t *cfg = sky_json_loads(opts->config_json);
		int ok = json_is_object(cfg);
		json_decref(cfg);
		if (!ok)
			return sky_error_set(SKY_EINVALID,
			                     "config_json is not a JSON object");
	}

	e = calloc(1, sizeof *e);
	if (!e)
		return sky_error_from_code(SKY_ENOMEM);
	dir = sky__opt_str(opts->data_dir, "SKYENGINE_DATA", "./skyengine-data");
	e->data_dir = dir ? sky_path_abs(dir) : NULL;
	free(dir);
	e->plugin_path = sky__opt_str(opts->plugin_path, NULL, "");
	e->llm_name = sky__opt_str(opts->llm, "SKYENGINE_LLM", "rules");
	e->browser_name = sky__opt_str(opts->browser, "SKYENGINE_BROWSER", "cdp");
	e->config_json = sky_strdup(opts->config_json ? opts->config_json : "{}");
	e->workers = sky__opt_int(opts->workers, "SKYENGINE_WORKERS", 4);
	e->max_steps = sky__opt_int(opts->max_steps, "SKYENGINE_MAX_STEPS", 10);
	e->max_retries_per_step = sky__opt_int(opts->max_retries_per_step,
	                                       "SKYENGINE_MAX_RETRIES", 5);
	e->no_execute = opts->no_execute;
	if (!e->data_dir || !e->plugin_path || !e->llm_name ||
	    !e->browser_name || !e->config_json) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto fail;
	}
	if ((rc = sky_mkdir_p(e->data_dir)))
		goto fail;
	if ((rc = sky_store_open(&e->store, e->data_dir, NULL)))
		goto fail;
	if ((rc = sky_plugins_new(e->plugin_path, &e->plugins)))
		goto fail;
	sky_host_set_config(e->config_json, e->data_dir);
	if ((rc = sky_http_shared_acquire(e->config_json, &e->http)))
		goto fail;
	sky_log_info("engine", "engine ready: data %s, llm %s, browser %s, %d "
	             "workers",
	             e->data_dir, e->llm_name, e->browser_name, e->workers);
	*out = e;
	return 0;
fail:
	sky_engine_free(e);
	return rc;
}

void sky_engine_free(sky_engine *e)
{
	if (!e)
		return;
	sky_plugins_free(e->plugins);
	sky_store_close(e->store);
	sky_http_shared_release(e->http);
	free(e->data_dir);
	free(e->plugin_path);
	free(e->llm_name);
	free(e->browser_name);
	free(e->config_json);
	free(e);
}

const char *sky_engine_data_dir(const sky_engine *e)
{
	return e ? e->data_dir : NULL;
}
