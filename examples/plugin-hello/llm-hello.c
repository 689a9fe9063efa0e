/*
 * An out-of-tree example plugin: an LLM provider named "hello" that never
 * calls a model and answers every planning request by terminating with a
 * friendly reason. It shows the whole plugin ABI in one page; build it
 * with the Makefile beside it (pkg-config skyengine-plugin), drop
 * llm-hello.so into a plugin directory and run with SKYENGINE_LLM=hello.
 */
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>
#include <stdio.h>
#include <string.h>

/* The host's function table: the only way a plugin talks to the engine. */
static const sky_host_api *host;

struct hello {
	char *reason;
};

static int hello_create(const char *config_json, void **instance, char **err)
{
	struct hello *h = host->alloc(sizeof *h);
	char *reason = host->config_get("hello.reason");
	(void)config_json;
	if (!h) {
		*err = host->strdup("out of memory");
		return -2; /* SKY_ENOMEM */
	}
	h->reason = reason ? reason
	                   : host->strdup("the hello plugin plans nothing");
	*instance = h;
	return 0;
}

static void hello_destroy(void *instance)
{
	struct hello *h = instance;
	host->free(h->reason);
	host->free(h);
}

static int hello_complete(void *instance, const sky_llm_request *req,
                          sky_llm_response *resp, char **err)
{
	struct hello *h = instance;
	static const char fmt[] =
		"{\"actions\":[{\"action_type\":\"terminate\","
		"\"reasoning\":\"%s\"}]}";
	size_t n = sizeof fmt + strlen(h->reason);
	char *text = host->alloc(n);
	(void)err;
	/* The reason comes from our own config; a real plugin would JSON-
	 * escape it. */
	if (!text)
		return -2;
	snprintf(text, n, fmt, h->reason);
	host->log(SKY_HOST_LOG_INFO, "llm-hello", "answering %s", req->purpose);
	resp->text = text;
	resp->cost = 0;
	return 0;
}

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *registrar, char **err)
{
	static const sky_llm_provider vtable = {
		.name = "hello",
		.create = hello_create,
		.destroy = hello_destroy,
		.complete = hello_complete,
	};
	(void)err;
	host = api;
	/* Registered with our sizeof: a newer host reads the fields we do
	 * not know as NULL. */
	return api->register_provider(registrar, SKY_PROVIDER_LLM, &vtable,
	                              sizeof vtable);
}
