/* Internal: growable strings and small string helpers; the kit's
 * (skyx/str.h) under the library's names until the call sites are
 * renamed. */
#ifndef SKY_UTIL_STR_H
#define SKY_UTIL_STR_H

#include <skyengine/common.h>
#include <skyx/str.h>

typedef skyx_buf sky_buf;

#define sky_buf_append skyx_buf_append
#define sky_buf_puts skyx_buf_puts
#define sky_buf_putc skyx_buf_putc
#define sky_buf_printf skyx_buf_printf
#define sky_buf_vprintf skyx_buf_vprintf
#define sky_buf_html skyx_buf_html
#define sky_buf_steal skyx_buf_steal
#define sky_buf_reset skyx_buf_reset
#define sky_buf_free skyx_buf_free
#define sky_strdup skyx_strdup
#define sky_strndup skyx_strndup
#define sky_asprintf skyx_asprintf
#define sky_str_startswith skyx_str_startswith
#define sky_str_eq skyx_str_eq
#define sky_ct_equal skyx_ct_equal
#define sky_utf8_valid skyx_utf8_valid

#endif
