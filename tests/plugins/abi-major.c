/* Fixture: built for a future major ABI; must be refused before its
 * load function runs. */
#include <skyengine/plugin/plugin.h>
#include <stdlib.h>

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return ((uint32_t)(SKY_PLUGIN_ABI_MAJOR + 1) << 16);
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	(void)api;
	(void)reg;
	(void)err;
	abort(); /* the host must never get here */
}
