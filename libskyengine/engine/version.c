/* The version of the loaded library. */
#include <skyengine/version.h>

const char *sky_version(void)
{
	return SKY_VERSION_STRING;
}

int sky_version_number(void)
{
	return SKY_VERSION_NUMBER;
}
