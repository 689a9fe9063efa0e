/* skyx: clocks and ISO-8601 timestamps (libc only; part of the kit). */
#ifndef SKYX_TIME_H
#define SKYX_TIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Wall clock, milliseconds since the Unix epoch (UTC). */
int64_t skyx_time_now_ms(void);
/* Monotonic milliseconds, for deadlines and durations. */
int64_t skyx_time_mono_ms(void);
/* Monotonic microseconds, for benchmarks. */
int64_t skyx_time_mono_us(void);

#define SKYX_ISO_LEN 25 /* "2025-04-03T14:08:29.505Z" + NUL */
/* Format ms-since-epoch as "2025-04-03T14:08:29.505Z"; returns out. */
char *skyx_time_iso(int64_t ms, char out[SKYX_ISO_LEN]);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff...][Z|+hh:mm]" (a naive value is UTC).
 * Returns 0 and *ms, or -1. */
int skyx_time_parse_iso(const char *s, int64_t *ms);
/* Sleep for ms milliseconds (restarts on EINTR). */
void skyx_time_sleep_ms(int64_t ms);

#ifdef __cplusplus
}
#endif

#endif
