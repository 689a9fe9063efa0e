/* Fixture: a TOTP provider that knows one identifier. */
#include <skyengine/plugin/plugin.h>
#include <skyengine/plugin/totp.h>
#include <string.h>

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
static int fx_code(void *inst, const char *id, int64_t now, char **code,
                   char **err)
{
	(void)inst;
	(void)now;
	if (strcmp(id, "chris@example.com")) {
		*err = host->strdup("unknown identifier");
		return SKY_ENOTFOUND;
	}
	*code = host->strdup("123456");
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
	static const sky_totp_provider vt = {
	    .name = "fixture",
	    .create = fx_create,
	    .destroy = fx_destroy,
	    .get_code = fx_code,
	};
	(void)err;
	host = api;
	return sky_register_totp(api, reg, &vt);
}
