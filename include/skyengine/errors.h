/* skyengine: error codes and the thread-local last-error message. */
#ifndef SKYENGINE_ERRORS_H
#define SKYENGINE_ERRORS_H

#include "common.h"
#include "plugin/errors.h"

SKY_BEGIN_DECLS

/* The codes (SKY_OK, SKY_E*) are shared with the plugin ABI. */

/*
 * The message that goes with the last failure on this thread, or NULL when
 * none was set. The pointer stays valid until the next failing call on this
 * thread. Messages never contain secrets.
 */
SKY_API const char *sky_error_last(void);

/* The code of the last failure on this thread (SKY_OK when none). */
SKY_API int sky_error_last_code(void);

/* Forget the last error of this thread. */
SKY_API void sky_error_clear(void);

/* Static English text for a code ("invalid argument"); never NULL. */
SKY_API const char *sky_strerror(int code);

SKY_END_DECLS

#endif
