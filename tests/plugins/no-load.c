/* Fixture: declares an ABI but has no sky_plugin_load. */
#include <skyengine/plugin/plugin.h>

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}
