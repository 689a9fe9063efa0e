/*
 * The engine's provider instances (browser, LLM, proxy, TOTP), created on
 * first use from the plugin named by the options and the matching config
 * section, and shared by every run of the engine.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "llm/llm.h"
#include "page/page.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>

char *sky_engine__config_section(sky_engine *e, const char *name)
{
	json_t *sec = json_object_get(e->config, name);
	json_t *copy =
	    json_is_object(sec) ? json_deep_copy(sec) : json_object();
	/* Every provider learns where the engine keeps its files. */
	json_object_set_new(copy, "data_dir", json_string(e->data_dir));
	char *s = sky_json_dumps(copy);
	json_decref(copy);
	return s;
}

/* Keys of a section the engine reads itself; the provider never sees
 * them (plugins refuse options they do not know). cdp_urls: the browser
 * pool (engine/browsers.c) gives each instance one of them as cdp_url. */
static const char *const engine_keys[] = {"provider", "llm_fallback",
                                          "cdp_urls", NULL};

char *sky_engine__provider_section(sky_engine *e, const char *section)
{
	char *text = sky_engine__config_section(e, section);
	json_t *o = sky_json_loads(text);
	if (!json_is_object(o)) {
		json_decref(o);
		return text;
	}
	for (int i = 0; engine_keys[i]; i++)
		json_object_del(o, engine_keys[i]);
	free(text);
	text = sky_json_dumps(o);
	json_decref(o);
	return text;
}

/* Create an instance with vt->create(host, config, &inst, &err), `host`
 * being this engine's context for the provider `vt`. */
static int create_instance(sky_engine *e, const char *section, const char *kind,
                           const char *name, const void *vt,
                           int (*create)(const sky_host_ctx *, const char *,
                                         void **, char **),
                           void **inst)
{
	char *cfg = sky_engine__provider_section(e, section);
	char *err = NULL;
	int rc = create(sky_plugins_ctx(e->plugins, vt), cfg ? cfg : "{}", inst,
	                &err);
	free(cfg);
	if (rc) {
		rc = sky_error_set(rc < 0 ? rc : SKY_EPLUGIN,
		                   "%s provider '%s' could not start: %s", kind,
		                   name, err ? err : sky_strerror(rc));
		free(err);
		*inst = NULL;
		return rc;
	}
	free(err);
	return 0;
}

int sky_engine__browser(sky_engine *e, const sky_browser_provider **vt,
                        void **inst)
{
	int rc = 0;
	pthread_mutex_lock(&e->prov_lock);
	if (!e->browser_inst) {
		const sky_browser_provider *p =
		    sky_plugins_browser(e->plugins, e->browser_name);
		if (!p)
			rc = sky_error_last_code() ? sky_error_last_code()
			                           : SKY_EPLUGIN;
		else if (!(rc = create_instance(e, "browser", "browser",
		                                e->browser_name, p, p->create,
		                                &e->browser_inst))) {
			e->browser = p;
			/* The page script up front: settle() and act() can
			 * use its helpers before the first snapshot(). */
			if (p->set_page_script) {
				char *err = NULL;
				if (p->set_page_script(e->browser_inst,
				                       sky_page_script(NULL),
				                       &err))
					sky_log_warn(
					    "engine",
					    "browser '%s': set_page_script: "
					    "%s",
					    e->browser_name,
					    err ? err : "failed");
				free(err);
			}
		}
	}
	*vt = e->browser;
	*inst = e->browser_inst;
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

int sky_engine__llm(sky_engine *e, struct sky_llm **llm)
{
	int rc = 0;
	pthread_mutex_lock(&e->prov_lock);
	if (!e->llm)
		rc = sky_llm_open(e->plugins, e->llm_name, e->config_json,
		                  &e->llm);
	*llm = e->llm;
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

json_t *sky_engine__llm_models(const json_t *config)
{
	json_t *out = json_object();
	json_t *llm = json_object_get(config, "llm");
	json_t *models = json_object_get(llm, "models"), *v;
	const char *k;
	size_t i;
	if (json_is_object(models)) {
		json_object_foreach (models, k, v)
			if (json_is_string(v) && *k)
				json_object_set(out, k, v);
	} else if (json_is_array(models)) {
		json_array_foreach (models, i, v)
			if (json_string_length(v))
				json_object_set(out, json_string_value(v), v);
	}
	const char *dflt = sky_json_str(llm, "model");
	if (!dflt || !*dflt)
		dflt = getenv("SKYENGINE_LLM_MODEL");
	if (dflt && *dflt && !json_object_get(out, dflt))
		json_object_set_new(out, dflt, json_string(dflt));
	return out;
}

/* One LLM instance per provider model a request named. */
struct sky_llm_alt {
	char *model;
	struct sky_llm *llm;
};

/* The engine's config with llm.model set to `model`; malloc'd text. */
static char *config_with_model(sky_engine *e, const char *model)
{
	json_t *cfg = json_deep_copy(e->config);
	json_t *llm = json_object_get(cfg, "llm");
	if (!json_is_object(llm)) {
		llm = json_object();
		json_object_set_new(cfg, "llm", llm);
	}
	json_object_set_new(llm, "model", json_string(model));
	char *s = sky_json_dumps(cfg);
	json_decref(cfg);
	return s;
}

int sky_engine__llm_for_run(sky_engine *e, const char *run_request_json,
                            struct sky_llm **llm)
{
	json_t *req =
	    run_request_json ? sky_json_loads(run_request_json) : NULL;
	const char *name =
	    sky_json_str(json_object_get(req, "model"), "model_name");
	if (!name) {
		json_decref(req);
		return sky_engine__llm(e, llm);
	}
	const json_t *models = e->request_opts.llm_models;
	const char *model =
	    json_string_value(json_object_get((json_t *)models, name));
	const char *dflt =
	    sky_json_str(json_object_get(e->config, "llm"), "model");
	if (!dflt)
		dflt = getenv("SKYENGINE_LLM_MODEL");
	int rc = 0;
	*llm = NULL;
	if (!model)
		rc = sky_error_set(SKY_EINVALID,
		                   "the run asked for model %s, which this "
		                   "server no longer has (config llm.models)",
		                   name);
	else if (dflt && !strcmp(model, dflt))
		rc = sky_engine__llm(e, llm);
	else {
		pthread_mutex_lock(&e->prov_lock);
		for (size_t i = 0; i < e->n_llm_alts && !*llm; i++)
			if (!strcmp(e->llm_alts[i].model, model))
				*llm = e->llm_alts[i].llm;
		if (!*llm) {
			struct sky_llm_alt *na = realloc(
			    e->llm_alts, (e->n_llm_alts + 1) * sizeof *na);
			char *cfg = config_with_model(e, model);
			if (na)
				e->llm_alts = na;
			if (!na || !cfg)
				rc = sky_error_from_code(SKY_ENOMEM);
			else if (!(rc = sky_llm_open(e->plugins, e->llm_name,
			                             cfg, llm))) {
				na[e->n_llm_alts].model = skyx_strdup(model);
				na[e->n_llm_alts++].llm = *llm;
				sky_log_info("engine",
				             "LLM %s: model %s for "
				             "requests naming %s",
				             e->llm_name, model, name);
			}
			free(cfg);
		}
		pthread_mutex_unlock(&e->prov_lock);
	}
	json_decref(req);
	return rc;
}

/* Optional providers: configured by config "<kind>.provider" or
 * $SKYENGINE_<KIND>; none configured is not an error. */
static const char *optional_name(sky_engine *e, const char *section,
                                 const char *env)
{
	const char *n =
	    sky_json_str(json_object_get(e->config, section), "provider");
	if (n && *n)
		return n;
	n = getenv(env);
	return n && *n ? n : NULL;
}

int sky_engine__proxy(sky_engine *e, const sky_proxy_provider **vt, void **inst)
{
	int rc = 0;
	pthread_mutex_lock(&e->prov_lock);
	const char *name = optional_name(e, "proxy", "SKYENGINE_PROXY");
	if (!e->proxy_inst && name) {
		const sky_proxy_provider *p =
		    sky_plugins_proxy(e->plugins, name);
		if (!p)
			rc = sky_error_last_code() ? sky_error_last_code()
			                           : SKY_EPLUGIN;
		else if (!(rc = create_instance(e, "proxy", "proxy", name, p,
		                                p->create, &e->proxy_inst)))
			e->proxy = p;
	}
	*vt = e->proxy_inst ? e->proxy : NULL;
	*inst = e->proxy_inst;
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

int sky_engine__totp(sky_engine *e, const sky_totp_provider **vt, void **inst)
{
	int rc = 0;
	pthread_mutex_lock(&e->prov_lock);
	const char *name = optional_name(e, "totp", "SKYENGINE_TOTP");
	if (!e->totp_inst && name) {
		const sky_totp_provider *p = sky_plugins_totp(e->plugins, name);
		if (!p)
			rc = sky_error_last_code() ? sky_error_last_code()
			                           : SKY_EPLUGIN;
		else if (!(rc = create_instance(e, "totp", "totp", name, p,
		                                p->create, &e->totp_inst)))
			e->totp = p;
	}
	*vt = e->totp_inst ? e->totp : NULL;
	*inst = e->totp_inst;
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

int sky_engine__credentials(sky_engine *e, const sky_credentials_provider **vt,
                            void **inst)
{
	int rc = 0;
	pthread_mutex_lock(&e->prov_lock);
	const char *name =
	    optional_name(e, "credentials", "SKYENGINE_CREDENTIALS");
	if (!e->creds_inst && name) {
		const sky_credentials_provider *p =
		    sky_plugins_credentials(e->plugins, name);
		if (!p)
			rc = sky_error_last_code() ? sky_error_last_code()
			                           : SKY_EPLUGIN;
		else if (!(rc = create_instance(e, "credentials", "credentials",
		                                name, p, p->create,
		                                &e->creds_inst)))
			e->creds = p;
	}
	*vt = e->creds_inst ? e->creds : NULL;
	*inst = e->creds_inst;
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

void sky_engine__providers_free(sky_engine *e)
{
	sky_engine__browser_pool_free(e);
	if (e->browser_inst)
		e->browser->destroy(e->browser_inst);
	sky_llm_close(e->llm);
	e->llm = NULL;
	for (size_t i = 0; i < e->n_llm_alts; i++) {
		sky_llm_close(e->llm_alts[i].llm);
		free(e->llm_alts[i].model);
	}
	free(e->llm_alts);
	e->llm_alts = NULL;
	e->n_llm_alts = 0;
	if (e->proxy_inst)
		e->proxy->destroy(e->proxy_inst);
	if (e->totp_inst)
		e->totp->destroy(e->totp_inst);
	if (e->creds_inst)
		e->creds->destroy(e->creds_inst);
	e->browser_inst = e->proxy_inst = e->totp_inst = e->creds_inst = NULL;
}
