/* Fixture: built for the previous major ABI (1.2, before host contexts);
 * must be refused with a message telling to rebuild, before its load
 * function runs. */
#include <skyengine/plugin/plugin.h>
#include <stdlib.h>

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return ((uint32_t)1 << 16) | 2u;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	(void)api;
	(void)reg;
	(void)err;
	abort(); /* the host must never get here */
}
