/* skyengine: where the library's log lines go. */
#ifndef SKYENGINE_LOG_H
#define SKYENGINE_LOG_H

#include "common.h"

SKY_BEGIN_DECLS

typedef enum sky_log_level {
	SKY_LOG_ERROR = 0,
	SKY_LOG_WARN = 1,
	SKY_LOG_INFO = 2,
	SKY_LOG_DEBUG = 3,
	SKY_LOG_TRACE = 4,
} sky_log_level;

/*
 * A log sink. `component` names the part of the engine or the plugin
 * ("store", "browser-cdp"); `msg` is one line without a trailing newline.
 * Called from any thread, possibly concurrently: the sink must be
 * thread-safe. Secrets are redacted before a line reaches the sink.
 */
typedef void (*sky_log_fn)(sky_log_level level, const char *component,
                           const char *msg, void *userdata);

/*
 * Install a sink and the most verbose level it wants. NULL restores the
 * default sink (stderr, level from $SKYENGINE_LOG: error|warn|info|debug|
 * trace, default warn). Thread-safe.
 */
SKY_API void sky_log_set(sky_log_fn fn, sky_log_level max_level,
                         void *userdata);

/* Name of a level ("warn"). */
SKY_API const char *sky_log_level_name(sky_log_level level);

SKY_END_DECLS

#endif
