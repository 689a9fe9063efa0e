/*
 * The engine's provider instances (browser, LLM, proxy, TOTP), created on
 * first use from the plugin named by the options and the matching config
 * section, and shared by every run of the engine.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "llm/llm.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

char *sky__engine_config_section(sky_engine *e, const char *name)
{
	json_t *sec = json_object_get(e->config, name);
	json_t *copy = json_is_object(sec) ? json_deep_copy(sec) : json_object();
	/* Every provider learns where the engine keeps its files. */
	json_object_set_new(copy, "data_dir", json_string(e->data_dir));
	char *s = sky_json_dumps(copy);
	json_decref(copy);
	return s;
}

/* Keys of a section the engine reads itself; the provider never sees
 * them (plugins refuse options they do not know). */
static const char *const engine_keys[] = {"provider", "llm_fallback", NULL};

static char *provider_section(sky_engine *e, const char *section)
{
	char *text = sky__engine_config_section(e, section);
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

/* Create an instance with vt->create(config, &inst, &err). */
static int create_instance(sky_engine *e, const char *section,
                           const char *kind, const char *name,
                           int (*create)(const char *, void **, char **),
                           void **inst)
{
	char *cfg = provider_section(e, section);
	char *err = NULL;
	int rc = create(cfg ? cfg : "{}", inst, &err);
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

int sky__engine_browser(sky_engine *e, const sky_browser_provider **vt,
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
		                                e->browser_name, p->create,
		                                &e->browser_inst)))
			e->browser = p;
	}
	*vt = e->browser;
	*inst = e->browser_inst;
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

int sky__engine_llm(sky_engine *e, struct sky_llm **llm)
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

/* Optional providers: configured by config "<kind>.provider" or
 * $SKYENGINE_<KIND>; none configured is not an error. */
static const char *optional_name(sky_engine *e, const char *section,
                                 const char *env)
{
	const char *n = sky_json_str(json_object_get(e->config, section),
	                             "provider");
	if (n && *n)
		return n;
	n = getenv(env);
	return n && *n ? n : NULL;
}

int sky__engine_proxy(sky_engine *e, const sky_proxy_provider **vt,
                      void **inst)
{
	int rc = 0;
	pthread_mutex_lock(&e->prov_lock);
	const char *name = optional_name(e, "proxy", "SKYENGINE_PROXY");
	if (!e->proxy_inst && name) {
		const sky_proxy_provider *p = sky_plugins_proxy(e->plugins, name);
		if (!p)
			rc = sky_error_last_code() ? sky_error_last_code()
			                           : SKY_EPLUGIN;
		else if (!(rc = create_instance(e, "proxy", "proxy", name,
		                                p->create, &e->proxy_inst)))
			e->proxy = p;
	}
	*vt = e->proxy_inst ? e->proxy : NULL;
	*inst = e->proxy_inst;
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

int sky__engine_totp(sky_engine *e, const sky_totp_provider **vt,
                     void **inst)
{
	int rc = 0;
	pthread_mutex_lock(&e->prov_lock);
	const char *name = optional_name(e, "totp", "SKYENGINE_TOTP");
	if (!e->totp_inst && name) {
		const sky_totp_provider *p = sky_plugins_totp(e->plugins, name);
		if (!p)
			rc = sky_error_last_code() ? sky_error_last_code()
			                           : SKY_EPLUGIN;
		else if (!(rc = create_instance(e, "totp", "totp", name,
		                                p->create, &e->totp_inst)))
			e->totp = p;
	}
	*vt = e->totp_inst ? e->totp : NULL;
	*inst = e->totp_inst;
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

void sky__engine_providers_free(sky_engine *e)
{
	if (e->browser_inst)
		e->browser->destroy(e->browser_inst);
	sky_llm_close(e->llm);
	e->llm = NULL;
	if (e->proxy_inst)
		e->proxy->destroy(e->proxy_inst);
	if (e->totp_inst)
		e->totp->destroy(e->totp_inst);
	e->browser_inst = e->proxy_inst = e->totp_inst = NULL;
}
