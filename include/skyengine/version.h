/* skyengine: library version, at compile time and at run time. */
#ifndef SKYENGINE_VERSION_H
#define SKYENGINE_VERSION_H

#include "common.h"

#define SKY_VERSION_MAJOR 1
#define SKY_VERSION_MINOR 0
#define SKY_VERSION_PATCH 0
#define SKY_VERSION_STRING "1.0.0"
/* One number that compares: 0x00MMmmpp. */
#define SKY_VERSION_NUMBER                                                     \
	((SKY_VERSION_MAJOR << 16) | (SKY_VERSION_MINOR << 8) |                \
	 SKY_VERSION_PATCH)

SKY_BEGIN_DECLS

/* The version of the library actually loaded ("1.0.0"); static text. */
SKY_API const char *sky_version(void);

/* Same, as SKY_VERSION_NUMBER of the loaded library. */
SKY_API int sky_version_number(void);

SKY_END_DECLS

#endif
