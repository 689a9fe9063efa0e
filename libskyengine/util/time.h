/* Internal: clocks and ISO-8601 timestamps; the kit's (skyx/time.h) under
 * the library's names until the call sites are renamed. */
#ifndef SKY_UTIL_TIME_H
#define SKY_UTIL_TIME_H

#include <skyx/time.h>

#define SKY_ISO_LEN SKYX_ISO_LEN
#define sky_time_now_ms skyx_time_now_ms
#define sky_time_mono_ms skyx_time_mono_ms
#define sky_time_mono_us skyx_time_mono_us
#define sky_time_iso skyx_time_iso
#define sky_time_parse_iso skyx_time_parse_iso
#define sky_time_sleep_ms skyx_time_sleep_ms

#endif
