/* Internal: setting the thread-local last error. */
#ifndef SKY_UTIL_ERROR_H
#define SKY_UTIL_ERROR_H

#include <skyengine/errors.h>

/* Record `code` with a formatted message for this thread; returns code so
 * callers can write `return sky_error_set(SKY_EINVALID, "...")`. */
int sky_error_set(int code, const char *fmt, ...) SKY_PRINTF(2, 3);

/* Same, keeping the previous message as context: "<new>: <old>". */
int sky_error_wrap(int code, const char *fmt, ...) SKY_PRINTF(2, 3);

/* Record a code with sky_strerror() as message. */
int sky_error_from_code(int code);

#endif
