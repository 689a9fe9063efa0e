/* Engine creation and teardown: options, data dir, plugin host. */
#include "engine/engine_internal.h"
#include "engine/scope.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skyengine/errors.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/id.h"
#include "util/log.h"
#include <openssl/crypto.h>
#include <skyx/str.h>

/* An integer from config section.key, else the environment, else dflt. */
static int cfg_int(const json_t *cfg, const char *section, const char *key,
                   const char *env, int dflt)
{
	json_t *v = json_object_get(json_object_get(cfg, section), key);
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_is_boolean(v))
		return json_is_true(v);
	return sky_engine__opt_int(0, env, dflt);
}

static char *cfg_str(const json_t *cfg, const char *section, const char *key,
                     const char *env)
{
	const char *v = sky_json_str(json_object_get(cfg, section), key);
	if (v && *v)
		return skyx_strdup(v);
	v = env ? getenv(env) : NULL;
	return v && *v ? skyx_strdup(v) : NULL;
}

/* config artifacts.root ($SKYENGINE_ARTIFACTS_ROOT), else the data dir:
 * absolute, created. Several engines may share one (a network file
 * system): run ids are unique, so their files never collide. */
static int artifact_root(sky_engine *e, const char *config_json)
{
	json_t *cfg = config_json ? sky_json_loads(config_json) : NULL;
	char *dir =
	    cfg_str(cfg, "artifacts", "root", "SKYENGINE_ARTIFACTS_ROOT");
	json_decref(cfg);
	e->artifact_root = skyx_path_abs(dir ? dir : e->data_dir);
	free(dir);
	if (!e->artifact_root)
		return sky_error_from_code(SKY_ENOMEM);
	return sky_mkdir_p(e->artifact_root);
}

/* The engine's settings from its config; the agent's own section is
 * read by agent/config.c. */
static void read_config(sky_engine *e)
{
	const json_t *c = e->config;
	sky_agent_config_read(&e->agent, c);
	e->webhook_timeout_ms =
	    cfg_int(c, "webhook", "timeout_ms", NULL, 30000);
	e->webhook_max_attempts =
	    cfg_int(c, "webhook", "max_attempts", NULL, 3);
	e->webhook_backoff_ms = cfg_int(c, "webhook", "backoff_ms", NULL, 1000);
	e->totp_llm_fallback = cfg_int(c, "totp", "llm_fallback",
	                               "SKYENGINE_TOTP_LLM_FALLBACK", 0);
	e->bs_unit_ms =
	    cfg_int(c, "browser_sessions", "timeout_unit_ms", NULL, 60000);
	e->bs_profile_save_ms =
	    1000 * cfg_int(c, "browser_sessions", "profile_save_s", NULL, 60);
	e->request_opts.url_flags =
	    (cfg_int(c, "security", "block_metadata_urls",
	             "SKYENGINE_BLOCK_METADATA_URLS", 0)
	         ? SKY_URL_BLOCK_METADATA
	         : 0) |
	    (cfg_int(c, "security", "block_private_urls",
	             "SKYENGINE_BLOCK_PRIVATE_URLS", 0)
	         ? SKY_URL_BLOCK_PRIVATE
	         : 0);
	e->request_opts.llm_models = sky_engine__llm_models(c);
}

/*
 * The key that signs artifact and viewer URLs: config server.url_key,
 * else a random key kept in <data>/url.key (0600) so URLs stay valid
 * across restarts.
 */
static int load_url_key(sky_engine *e)
{
	e->url_key = cfg_str(e->config, "server", "url_key", NULL);
	if (e->url_key)
		goto done;
	char *path = skyx_path_join(e->data_dir, "url.key");
	if (!path)
		return sky_error_from_code(SKY_ENOMEM);
	size_t len = 0;
	e->url_key = skyx_read_file(path, &len);
	if (!e->url_key || len < 32) {
		free(e->url_key);
		e->url_key = skyx_random_hex(32);
		if (!e->url_key ||
		    sky_write_file(path, e->url_key, strlen(e->url_key))) {
			free(path);
			return sky_error_set(
			    SKY_EIO, "cannot create %s/url.key", e->data_dir);
		}
	}
	free(path);
done:
	sky_secret_register(e->url_key);
	return 0;
}

/*
 * The key that seals data at rest (credentials, browser profiles):
 * config secrets.key or $SKYENGINE_SECRETS_KEY (64 hex digits or the
 * base64 of 32 bytes; other text is hashed as a passphrase), else a
 * random key kept in <data>/secrets.key (0600). With the kept file the
 * store is protected only where the key file is not copied with it
 * (docs/configuration.md says so).
 */
static int load_secrets_key(sky_engine *e)
{
	char *text =
	    cfg_str(e->config, "secrets", "key", "SKYENGINE_SECRETS_KEY");
	int rc = 0;
	if (!text) {
		char *path = skyx_path_join(e->data_dir, "secrets.key");
		if (!path)
			return sky_error_from_code(SKY_ENOMEM);
		size_t len = 0;
		text = skyx_read_file(path, &len);
		if (!text || len < 64) {
			free(text);
			text = skyx_random_hex(SKYX_SEAL_KEY_LEN);
			if (!text || sky_write_file(path, text, strlen(text)))
				rc = sky_error_set(
				    SKY_EIO, "cannot create %s/secrets.key",
				    e->data_dir);
		}
		free(path);
	}
	if (!rc && skyx_seal_key_from_text(text, e->secrets_key))
		rc = sky_error_set(SKY_EINVALID, "secrets.key is empty");
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	return rc;
}

/*
 * Where the store is: store.url or $SKYENGINE_STORE_URL, a PostgreSQL
 * database (postgresql://… or postgres://…, *pg_url) or a SQLite file
 * ("sqlite:PATH", "sqlite:///abs/path", "file:PATH" or a plain path,
 * *path), shared by every process that names it; neither: the data
 * dir's own file. The URL may carry a password: it is never logged.
 */
static int store_path(sky_engine *e, char **path, char **pg_url)
{
	char *url = cfg_str(e->config, "store", "url", "SKYENGINE_STORE_URL");
	*path = *pg_url = NULL;
	if (!url)
		return 0;
	int rc = 0;
	const char *p = url;
	if (sky_store_url_is_pg(p)) {
		*pg_url = url;
		return 0;
	} else {
		if (!strncmp(p, "sqlite://", 9))
			p += 9;
		else if (!strncmp(p, "sqlite:", 7))
			p += 7;
		else if (!strncmp(p, "file:", 5))
			p += 5;
		if (!*p || strstr(p, "://"))
			rc = sky_error_set(SKY_EINVALID,
			                   "store.url: not a SQLite file path");
		else
			*path = skyx_strdup(p);
	}
	OPENSSL_cleanse(url, strlen(url));
	free(url);
	return rc;
}

/*
 * The engine's node id, the owner of the leases it takes: config
 * cluster.node_id, else a random id kept in <data>/node.id, so an engine
 * restarted on its data dir knows the runs it held and resumes them at
 * once. Two engines sharing a store must not share a data dir (the
 * engine.lock says so) and so never share a node id.
 */
static int load_node_id(sky_engine *e)
{
	e->node_id = cfg_str(e->config, "cluster", "node_id", NULL);
	e->lease_ms = cfg_int(e->config, "cluster", "lease_ms",
	                      "SKYENGINE_LEASE_MS", 30000);
	if (e->lease_ms < 500)
		e->lease_ms = 500;
	if (e->node_id)
		return 0;
	char *path = skyx_path_join(e->data_dir, "node.id");
	if (!path)
		return sky_error_from_code(SKY_ENOMEM);
	size_t len = 0;
	e->node_id = skyx_read_file(path, &len);
	if (e->node_id)
		e->node_id[strcspn(e->node_id, "\r\n")] = 0;
	if (!e->node_id || strlen(e->node_id) < 8) {
		free(e->node_id);
		char *hex = skyx_random_hex(8);
		e->node_id = hex ? skyx_asprintf("n_%s", hex) : NULL;
		free(hex);
		if (!e->node_id ||
		    sky_write_file(path, e->node_id, strlen(e->node_id))) {
			free(path);
			return sky_error_set(
			    SKY_EIO, "cannot create %s/node.id", e->data_dir);
		}
	}
	free(path);
	return 0;
}

const unsigned char *sky_engine__secrets_key(const sky_engine *e)
{
	return e->secrets_key;
}

int sky_engine_options_init(sky_engine_options *opts, unsigned int version)
{
	return sky_engine__options_init(opts, sizeof *opts,
	                                "sky_engine_options", version, 1,
	                                SKY_ENGINE_OPTIONS_VERSION);
}

char *sky_engine__opt_str(const char *opt, const char *env, const char *dflt)
{
	const char *e;
	if (opt && *opt)
		return skyx_strdup(opt);
	e = env ? getenv(env) : NULL;
	if (e && *e)
		return skyx_strdup(e);
	return skyx_strdup(dflt);
}

int sky_engine__opt_int(int opt, const char *env, int dflt)
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
	if (!sky_engine__global_ready())
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
			return sky_error_set(
			    SKY_EINVALID, "config_json is not a JSON object");
	}

	e = calloc(1, sizeof *e);
	if (!e)
		return sky_error_from_code(SKY_ENOMEM);
	dir = sky_engine__opt_str(opts->data_dir, "SKYENGINE_DATA",
	                          "./skyengine-data");
	e->data_dir = dir ? skyx_path_abs(dir) : NULL;
	free(dir);
	e->plugin_path = sky_engine__opt_str(opts->plugin_path, NULL, "");
	e->llm_name = sky_engine__opt_str(opts->llm, "SKYENGINE_LLM", "rules");
	e->browser_name =
	    sky_engine__opt_str(opts->browser, "SKYENGINE_BROWSER", "cdp");
	e->config_json =
	    skyx_strdup(opts->config_json ? opts->config_json : "{}");
	e->workers = sky_engine__opt_int(opts->workers, "SKYENGINE_WORKERS", 4);
	e->max_steps =
	    sky_engine__opt_int(opts->max_steps, "SKYENGINE_MAX_STEPS", 10);
	e->max_retries_per_step = sky_engine__opt_int(
	    opts->max_retries_per_step, "SKYENGINE_MAX_RETRIES", 5);
	e->no_execute = opts->no_execute;
	if (!e->data_dir || !e->plugin_path || !e->llm_name ||
	    !e->browser_name || !e->config_json) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto fail;
	}
	if ((rc = sky_mkdir_p(e->data_dir)))
		goto fail;
	e->config = sky_json_loads(e->config_json);
	if ((rc = artifact_root(e, opts->config_json)))
		goto fail;
	{
		sky_store_options so = {0};
		char *path = NULL, *url = NULL;
		if ((rc = store_path(e, &path, &url)))
			goto fail;
		so.path = path;
		so.url = url;
		rc = sky_store_open(&e->store, e->data_dir, &so);
		free(path);
		if (url) {
			OPENSSL_cleanse(url, strlen(url));
			free(url);
		}
		if (rc)
			goto fail;
	}
	if ((rc = load_node_id(e)))
		goto fail;
	{
		/* The number this engine's ids carry, unique among the live
		 * engines on the store (util/id.h). */
		int number = 0;
		if ((rc = sky_store_node_register(e->store, e->node_id,
		                                  NODE_STALE_MS, &number)))
			goto fail;
		sky_id_set_node((unsigned)number);
	}
	e->answers = sky_engine__answers_new();
	if ((rc = sky_plugins_new(e->plugin_path, &e->plugins)))
		goto fail;
	read_config(e);
	/* The watchdog (engine/runtime.c): longer than the longest bounded
	 * wait a worker makes without a sign of progress. */
	e->watchdog_ms =
	    1000 *
	    cfg_int(e->config, "engine", "watchdog_s", "SKYENGINE_WATCHDOG_S",
	            (e->agent.llm_timeout_ms + e->agent.navigate_timeout_ms) /
	                    1000 +
	                60);
	e->cancel_grace_ms =
	    1000 * cfg_int(e->config, "engine", "cancel_grace_s", NULL, 10);
	e->stop_grace_ms =
	    1000 * cfg_int(e->config, "engine", "stop_grace_s", NULL, 15);
	if (e->watchdog_ms < 1000)
		e->watchdog_ms = 1000;
	if (e->cancel_grace_ms < 0)
		e->cancel_grace_ms = 0;
	if (e->stop_grace_ms < 0)
		e->stop_grace_ms = 0;
	e->public_url =
	    cfg_str(e->config, "server", "public_url", "SKYENGINE_PUBLIC_URL");
	e->webhook_key =
	    cfg_str(e->config, "webhook", "signing_key", "SKYENGINE_API_KEY");
	if (e->webhook_key)
		sky_secret_register(e->webhook_key);
	if ((rc = load_url_key(e)))
		goto fail;
	if ((rc = load_secrets_key(e)))
		goto fail;
	e->rctx.store = e->store;
	e->rctx.public_url = e->public_url;
	e->rctx.data_dir = e->artifact_root;
	e->rctx.url_key = e->url_key;
	pthread_mutex_init(&e->prov_lock, NULL);
	pthread_mutex_init(&e->key_lock, NULL);
	sky_engine__live_init(e);
	pthread_cond_init(&e->webhook_cond, NULL);
	pthread_mutex_init(&e->bs_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->bs_cond, &ca);
	pthread_condattr_destroy(&ca);
	/* The engine's own HTTP client and plugin host context: its
	 * plugins see this engine's config, data dir and client only. */
	if ((rc = sky_http_client_from_config(e->config_json, &e->http)) ||
	    (rc = sky_plugins_set_engine(e->plugins, e->config_json,
	                                 e->data_dir, e->http)))
		goto fail;
	/* From here on sky_engine_free() stops whatever started. */
	e->started = 1;
	if ((rc = sky_engine__start(e)))
		goto fail;
	sky_log_info("engine",
	             "engine ready: data %s, llm %s, browser %s, %d "
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
	if (e->started && sky_engine__stop(e) > 0) {
		/* A worker is still inside engine or plugin code: freeing
		 * what it uses (the store, providers, plugins' code) would
		 * crash it. Left allocated on purpose; the process usually
		 * exits next. */
		sky_log_error("engine",
		              "engine for %s left allocated: a "
		              "worker did not stop",
		              e->data_dir);
		return;
	}
	if (e->started) {
		sky_engine__live_stop(e);
		sky_engine__providers_free(e);
		pthread_mutex_destroy(&e->lock);
		pthread_cond_destroy(&e->changed);
		pthread_cond_destroy(&e->work);
		pthread_mutex_destroy(&e->prov_lock);
		pthread_mutex_destroy(&e->key_lock);
		for (int i = 0; i < SKY_KEY_CACHE; i++)
			free(e->key_cache[i].org);
		pthread_cond_destroy(&e->webhook_cond);
		pthread_mutex_destroy(&e->bs_lock);
		pthread_cond_destroy(&e->bs_cond);
		sky_engine__live_free(e);
	}
	sky_plugins_free(e->plugins);
	sky_store_close(e->store);
	sky_engine__answers_free(e->answers);
	json_decref(e->config);
	json_decref((json_t *)e->request_opts.llm_models);
	if (e->url_key)
		sky_secret_unregister(e->url_key);
	if (e->webhook_key)
		sky_secret_unregister(e->webhook_key);
	free(e->url_key);
	free(e->node_id);
	free(e->webhook_key);
	free(e->public_url);
	sky_http_client_free(e->http);
	free(e->data_dir);
	free(e->artifact_root);
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
