/*
 * skyx: growable strings and small string helpers. Part of the helper kit
 * (kit/): not libskyengine API; libc only, so the library, plugins and
 * tools can all build it in.
 */
#ifndef SKYX_STR_H
#define SKYX_STR_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#	define SKYX_PRINTF(fmt, args)                                         \
		__attribute__((format(printf, fmt, args)))
#else
#	define SKYX_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A growable NUL-terminated buffer. Zero-initialise ({0}) to start.
 * On allocation failure `oom` is set and further appends are ignored. */
typedef struct skyx_buf {
	char *data;
	size_t len;
	size_t cap;
	int oom;
} skyx_buf;

void skyx_buf_append(skyx_buf *b, const char *s, size_t n);
void skyx_buf_puts(skyx_buf *b, const char *s);
void skyx_buf_putc(skyx_buf *b, char c);
void skyx_buf_printf(skyx_buf *b, const char *fmt, ...) SKYX_PRINTF(2, 3);
void skyx_buf_vprintf(skyx_buf *b, const char *fmt, va_list ap)
    SKYX_PRINTF(2, 0);
/* Append `s` with < > & " ' replaced by HTML character references, fit
 * for element text and quoted attribute values. NULL appends nothing. */
void skyx_buf_html(skyx_buf *b, const char *s);
/* Take the string out (caller frees); the buffer is reset. NULL on OOM. */
char *skyx_buf_steal(skyx_buf *b);
void skyx_buf_reset(skyx_buf *b);
void skyx_buf_free(skyx_buf *b);

/* NULL-safe strdup. */
char *skyx_strdup(const char *s);
char *skyx_strndup(const char *s, size_t n);
/* malloc'd printf. */
char *skyx_asprintf(const char *fmt, ...) SKYX_PRINTF(1, 2);
/* 1 if s starts with prefix. */
int skyx_str_startswith(const char *s, const char *prefix);
/* 1 if a and b are equal or both NULL. */
int skyx_str_eq(const char *a, const char *b);
/* Constant-time comparison of two byte strings (length leaks only). */
int skyx_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* 1 if `s` (len bytes) is valid UTF-8 without overlongs or surrogates. */
int skyx_utf8_valid(const char *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif
