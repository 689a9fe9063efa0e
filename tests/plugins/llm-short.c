/* Fixture: an older plugin whose LLM vtable ends before supports_vision
 * (registered with its shorter sizeof); the host must read the missing
 * field as NULL. Also has an unload hook that records it ran. */
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>
#include <stdlib.h>

/* The vtable as an older header defined it. */
typedef struct old_llm_provider {
	const char *name;
	int (*create)(const sky_host_ctx *, const char *, void **, char **);
	void (*destroy)(void *);
	int (*complete)(void *, const sky_llm_request *, sky_llm_response *,
	                char **);
} old_llm_provider;

static const sky_host_api *host;

static int c(const sky_host_ctx *ctx, const char *cfg, void **i, char **e)
{
	(void)ctx;
	(void)cfg;
	(void)e;
	*i = NULL;
	return 0;
}
static void d(void *i)
{
	(void)i;
}
static int k(void *i, const sky_llm_request *r, sky_llm_response *o, char **e)
{
	(void)i;
	(void)r;
	(void)e;
	o->text = host->strdup("{\"actions\": []}");
	return 0;
}

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	static const old_llm_provider vt = {"short", c, d, k};
	(void)err;
	host = api;
	return api->register_provider(reg, SKY_PROVIDER_LLM, &vt, sizeof vt);
}

SKY_PLUGIN_EXPORT void sky_plugin_unload(void)
{
	setenv("SKY_FIXTURE_SHORT_UNLOADED", "1", 1);
}
