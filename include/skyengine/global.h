/* skyengine: process-wide set-up and tear-down. */
#ifndef SKYENGINE_GLOBAL_H
#define SKYENGINE_GLOBAL_H

#include "common.h"

SKY_BEGIN_DECLS

/*
 * Initialise process-wide state (SQLite, OpenSSL, the id generator).
 * Reference-counted: every successful call must be matched by one
 * sky_global_shutdown(). Returns the new count (>= 1) or a negative
 * SKY_E* code. Thread-safe.
 */
SKY_API int sky_global_init(void);

/*
 * Drop one reference; the last one releases the process-wide state.
 * Returns the remaining count, or SKY_EINVALID when called without a
 * matching init.
 */
SKY_API int sky_global_shutdown(void);

SKY_END_DECLS

#endif
