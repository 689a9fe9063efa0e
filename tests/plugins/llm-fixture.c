/* Fixture: a well-behaved LLM plugin. Its answer names the file it was
 * loaded from, so tests can tell which copy the loader picked, and it
 * exercises the host API (allocation, logging, config lookup). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>
#include <stdio.h>
#include <string.h>

static const sky_host_api *host;

static int fx_create(const char *config_json, void **inst, char **err)
{
	(void)err;
	*inst = host->strdup(config_json ? config_json : "{}");
	return 0;
}

static void fx_destroy(void *inst)
{
	host->free(inst);
}

static int fx_complete(void *inst, const sky_llm_request *req,
                       sky_llm_response *resp, char **err)
{
	Dl_info info;
	char *greeting = host->config_get("fixture.greeting");
	char buf[2048];
	(void)err;
	dladdr((void *)&fx_complete, &info);
	snprintf(buf, sizeof buf, "%s|%s|%s|%s", info.dli_fname,
	         req->purpose ? req->purpose : "", (const char *)inst,
	         greeting ? greeting : "");
	host->free(greeting);
	host->log(SKY_HOST_LOG_INFO, "llm-fixture", "answered %s", req->purpose);
	resp->text = host->strdup(buf);
	resp->input_tokens = 3;
	resp->output_tokens = 1;
	resp->cost = -1;
	return 0;
}

static int fx_vision(void *inst)
{
	(void)inst;
	return 1;
}

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	static const sky_llm_provider vt = {
		.name = "fixture",
		.create = fx_create,
		.destroy = fx_destroy,
		.complete = fx_complete,
		.supports_vision = fx_vision,
	};
	(void)err;
	host = api;
	return api->register_provider(reg, SKY_PROVIDER_LLM, &vt, sizeof vt);
}
