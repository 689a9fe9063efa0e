/* Internal: logging with secret redaction. */
#ifndef SKY_UTIL_LOG_H
#define SKY_UTIL_LOG_H

#include <stdarg.h>
#include <skyengine/log.h>

void sky_log(sky_log_level level, const char *component, const char *fmt, ...)
    SKY_PRINTF(3, 4);
void sky_logv(sky_log_level level, const char *component, const char *fmt,
              va_list ap) SKY_PRINTF(3, 0);
int sky_log_enabled(sky_log_level level);

#define sky_log_error(c, ...) sky_log(SKY_LOG_ERROR, c, __VA_ARGS__)
#define sky_log_warn(c, ...) sky_log(SKY_LOG_WARN, c, __VA_ARGS__)
#define sky_log_info(c, ...) sky_log(SKY_LOG_INFO, c, __VA_ARGS__)
#define sky_log_debug(c, ...) sky_log(SKY_LOG_DEBUG, c, __VA_ARGS__)

/*
 * Secrets: every registered string is replaced by "[REDACTED]" in log
 * lines, error messages of the public API and stored artifacts that pass
 * through sky_redact(). Strings shorter than 4 bytes are ignored (they
 * would redact ordinary text). Reference-counted, thread-safe.
 */
void sky_secret_register(const char *secret);
void sky_secret_unregister(const char *secret);
/* A malloc'd copy of `in` with every registered secret and every
 * well-known credential shape (Bearer tokens, sk-... keys, user:pass@ in
 * URLs) masked. NULL in gives NULL out. */
char *sky_redact(const char *in);
/* Forget every secret (global shutdown). */
void sky_secret_clear_all(void);

#endif
