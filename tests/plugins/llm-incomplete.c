/* Fixture: an LLM provider without its required complete callback. */
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>

static int c(const sky_host_ctx *ctx, const char *cfg, void **i, char **e)
{
	(void)ctx;
	(void)cfg;
	(void)i;
	(void)e;
	return 0;
}
static void d(void *i)
{
	(void)i;
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
	    .name = "incomplete", .create = c, .destroy = d};
	(void)err;
	return sky_register_llm(api, reg, &vt);
}
