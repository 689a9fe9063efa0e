/* Fixture: a well-behaved LLM plugin. Its answer names the file it was
 * loaded from, so tests can tell which copy the loader picked, and it
 * exercises the host API (allocation, logging, config lookup): the answer
 * is "<file>|<purpose>|<config_json>|<fixture.greeting>|<data_dir>", the
 * last two as the engine of the instance's host context has them. */
#ifndef _GNU_SOURCE
#	define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>
#include <stdio.h>
#include <string.h>

static const sky_host_api *host;

struct fx {
	const sky_host_ctx *ctx;
	char *config;
};

static int fx_create(const sky_host_ctx *ctx, const char *config_json,
                     void **inst, char **err)
{
	struct fx *fx = host->alloc(sizeof *fx);
	if (!fx ||
	    !(fx->config = host->strdup(config_json ? config_json : "{}"))) {
		host->free(fx);
		*err = host->strdup("out of memory");
		return SKY_ENOMEM;
	}
	fx->ctx = ctx;
	*inst = fx;
	return 0;
}

static void fx_destroy(void *inst)
{
	struct fx *fx = inst;
	host->free(fx->config);
	host->free(fx);
}

static int fx_complete(void *inst, const sky_llm_request *req,
                       sky_llm_response *resp, char **err)
{
	struct fx *fx = inst;
	Dl_info info;
	char *greeting = host->config_get(fx->ctx, "fixture.greeting");
	char buf[2048];
	(void)err;
	dladdr((void *)&fx_complete, &info);
	snprintf(buf, sizeof buf, "%s|%s|%s|%s|%s", info.dli_fname,
	         req->purpose ? req->purpose : "", fx->config,
	         greeting ? greeting : "", host->data_dir(fx->ctx));
	host->free(greeting);
	host->log(fx->ctx, SKY_HOST_LOG_INFO, NULL, "answered %s",
	          req->purpose);
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

SKY_PLUGIN_DECLARE();

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
	return sky_register_llm(api, reg, &vt);
}
