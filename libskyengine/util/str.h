/* Internal: growable strings and small string helpers. */
#ifndef SKY_UTIL_STR_H
#define SKY_UTIL_STR_H

#include <stdarg.h>
#include <stddef.h>
#include <skyengine/common.h>

/* A growable NUL-terminated buffer. Zero-initialise ({0}) to start.
 * On allocation failure `oom` is set and further appends are ignored. */
typedef struct sky_buf {
	char *data;
	size_t len;
	size_t cap;
	int oom;
} sky_buf;

void sky_buf_append(sky_buf *b, const char *s, size_t n);
void sky_buf_puts(sky_buf *b, const char *s);
void sky_buf_putc(sky_buf *b, char c);
void sky_buf_printf(sky_buf *b, const char *fmt, ...) SKY_PRINTF(2, 3);
void sky_buf_vprintf(sky_buf *b, const char *fmt, va_list ap);
/* Take the string out (caller frees); the buffer is reset. NULL on OOM. */
char *sky_buf_steal(sky_buf *b);
void sky_buf_reset(sky_buf *b);
void sky_buf_free(sky_buf *b);

/* NULL-safe strdup. */
char *sky_strdup(const char *s);
char *sky_strndup(const char *s, size_t n);
/* malloc'd printf. */
char *sky_asprintf(const char *fmt, ...) SKY_PRINTF(1, 2);
/* 1 if s starts with prefix. */
int sky_str_startswith(const char *s, const char *prefix);
/* 1 if a and b are equal or both NULL. */
int sky_str_eq(const char *a, const char *b);
/* Constant-time comparison of two byte strings (length leaks only). */
int sky_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* 1 if `s` (len bytes) is valid UTF-8 without overlongs or surrogates. */
int sky_utf8_valid(const char *s, size_t len);

#endif
