/*
 * An out-of-tree example plugin: an LLM provider named "hello" that never
 * calls a model and answers every planning request by giving up with a
 * friendly reason. It shows the whole plugin ABI in one page; build it
 * with the Makefile beside it (pkg-config skyengine-plugin), drop
 * llm-hello.so into a plugin directory and run with SKYENGINE_LLM=hello.
 * The reason comes from the engine's config ("hello": {"reason": "..."})
 * or $SKYENGINE_HELLO_REASON.
 */
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>
#include <stdio.h>
#include <string.h>

/* Declares sky_plugin_abi and sky_plugin_load with the ABI's types: the
 * compiler checks the definitions at the end of this file. */
SKY_PLUGIN_DECLARE();

/* The host's function table: the same for every engine, kept from load. */
static const sky_host_api *api;

/* One instance per engine (and per model it is asked for). */
struct hello {
	const sky_host_ctx *host; /* its engine: config, data dir, HTTP */
	char *reason;
};

static int hello_create(const sky_host_ctx *host, const char *config_json,
                        void **instance, char **err)
{
	struct hello *h = api->alloc(sizeof *h);
	(void)config_json; /* the "llm" section; this plugin has no options */
	if (!h) {
		*err = api->strdup("out of memory");
		return SKY_ENOMEM;
	}
	h->host = host;
	/* This engine's setting, never another engine's. */
	h->reason = api->config_get(host, "hello.reason");
	if (!h->reason)
		h->reason = api->strdup("the hello plugin plans nothing");
	if (!h->reason) {
		api->free(h);
		*err = api->strdup("out of memory");
		return SKY_ENOMEM;
	}
	*instance = h;
	return 0;
}

static void hello_destroy(void *instance)
{
	struct hello *h = instance;
	api->free(h->reason);
	api->free(h);
}

/* Called from several worker threads at once: reads only. */
static int hello_complete(void *instance, const sky_llm_request *req,
                          sky_llm_response *resp, char **err)
{
	struct hello *h = instance;
	/* A run that plans first (a task v2) asks for a plan; otherwise
	 * the engine asks for the next actions. Both answers give up. */
	int plan = req->purpose && !strcmp(req->purpose, SKY_LLM_PURPOSE_PLAN);
	const char *fmt = plan ? "{\"should_terminate\":true,"
	                         "\"termination_reason\":\"%s\"}"
	                       : "{\"actions\":[{\"action_type\":\"terminate\","
	                         "\"reasoning\":\"%s\"}]}";
	size_t n = strlen(fmt) + strlen(h->reason) + 1;
	char *text = api->alloc(n);
	/* The reason comes from our own config; a real plugin would JSON-
	 * escape it. */
	if (!text) {
		*err = api->strdup("out of memory");
		return SKY_ENOMEM;
	}
	snprintf(text, n, fmt, h->reason);
	/* NULL component: the log line is tagged "llm-hello". */
	api->log(h->host, SKY_HOST_LOG_INFO, NULL, "answering %s",
	         req->purpose);
	resp->text = text;
	resp->cost = 0;
	return 0;
}

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *host_api,
                                      sky_registrar *registrar, char **err)
{
	static const sky_llm_provider vtable = {
	    .name = "hello",
	    .create = hello_create,
	    .destroy = hello_destroy,
	    .complete = hello_complete,
	    /* .supports_vision is optional: left NULL, no images. */
	};
	(void)err;
	api = host_api;
	/* Registered with our sizeof: a newer host reads the fields we do
	 * not know as NULL. */
	return sky_register_llm(host_api, registrar, &vtable);
}
