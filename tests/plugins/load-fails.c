/* Fixture: its load function refuses with a message, after registering
 * a provider (which the host must drop again). */
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
static int k(void *i, const sky_llm_request *r, sky_llm_response *o, char **e)
{
	(void)i;
	(void)r;
	(void)o;
	(void)e;
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
	static const sky_llm_provider vt = {
	    .name = "doomed", .create = c, .destroy = d, .complete = k};
	sky_register_llm(api, reg, &vt);
	*err = api->strdup("license file /etc/fixture.lic is missing");
	return SKY_EPLUGIN;
}
