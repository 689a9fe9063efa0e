/* Fixture: needs a newer host (minor ABI above the host's). */
#include <skyengine/plugin/plugin.h>
#include <stdlib.h>

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI + 1;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	(void)api;
	(void)reg;
	(void)err;
	abort();
}
