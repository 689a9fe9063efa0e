/* Fixture: a proxy provider mapping every location to one proxy. */
#include <skyengine/plugin/plugin.h>
#include <skyengine/plugin/proxy.h>

static const sky_host_api *host;

static int fx_create(const sky_host_ctx *ctx, const char *cfg, void **inst,
                     char **err)
{
	(void)ctx;
	(void)cfg;
	(void)err;
	*inst = host->alloc(1);
	return 0;
}
static void fx_destroy(void *inst)
{
	host->free(inst);
}
static int fx_resolve(void *inst, const char *loc, const char *run, char **out,
                      char **err)
{
	(void)inst;
	(void)loc;
	(void)run;
	(void)err;
	*out = host->strdup("{\"server\":\"http://127.0.0.1:3128\"}");
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
	static const sky_proxy_provider vt = {
	    .name = "fixture",
	    .create = fx_create,
	    .destroy = fx_destroy,
	    .resolve = fx_resolve,
	};
	(void)err;
	host = api;
	return sky_register_proxy(api, reg, &vt);
}
