/* Internal: clocks and ISO-8601 timestamps. */
#ifndef SKY_UTIL_TIME_H
#define SKY_UTIL_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, milliseconds since the Unix epoch (UTC). */
int64_t sky_time_now_ms(void);
/* Monotonic milliseconds, for deadlines and durations. */
int64_t sky_time_mono_ms(void);
/* Monotonic microseconds, for benchmarks. */
int64_t sky_time_mono_us(void);

#define SKY_ISO_LEN 25 /* "2025-04-03T14:08:29.505Z" + NUL */
/* Format ms-since-epoch as "2025-04-03T14:08:29.505Z"; returns out. */
char *sky_time_iso(int64_t ms, char out[SKY_ISO_LEN]);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff...][Z|+hh:mm]" (a naive value is UTC).
 * Returns 0 and *ms, or -1. */
int sky_time_parse_iso(const char *s, int64_t *ms);
/* Sleep for ms milliseconds (restarts on EINTR). */
void sky_time_sleep_ms(int64_t ms);

#endif
