/* skyx: growable strings and small string helpers. */
#include "skyx/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(skyx_buf *b, size_t extra)
{
	if (b->oom)
		return -1;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t nc = b->cap ? b->cap : 64;
	while (nc < b->len + extra + 1)
		nc *= 2;
	char *nd = realloc(b->data, nc);
	if (!nd) {
		b->oom = 1;
		return -1;
	}
	b->data = nd;
	b->cap = nc;
	return 0;
}

void skyx_buf_append(skyx_buf *b, const char *s, size_t n)
{
	if (buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void skyx_buf_puts(skyx_buf *b, const char *s)
{
	if (s)
		skyx_buf_append(b, s, strlen(s));
}

void skyx_buf_putc(skyx_buf *b, char c)
{
	skyx_buf_append(b, &c, 1);
}

void skyx_buf_vprintf(skyx_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n))
		return;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void skyx_buf_printf(skyx_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	skyx_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void skyx_buf_html(skyx_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			skyx_buf_puts(b, "&lt;");
			break;
		case '>':
			skyx_buf_puts(b, "&gt;");
			break;
		case '&':
			skyx_buf_puts(b, "&amp;");
			break;
		case '"':
			skyx_buf_puts(b, "&quot;");
			break;
		case '\'':
			skyx_buf_puts(b, "&#39;");
			break;
		default:
			skyx_buf_putc(b, *s);
		}
	}
}

char *skyx_buf_steal(skyx_buf *b)
{
	char *s;
	if (b->oom) {
		skyx_buf_free(b);
		return NULL;
	}
	s = b->data ? b->data : strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void skyx_buf_reset(skyx_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void skyx_buf_free(skyx_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

char *skyx_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *skyx_strndup(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

char *skyx_asprintf(const char *fmt, ...)
{
	skyx_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return skyx_buf_steal(&b);
}

int skyx_str_startswith(const char *s, const char *prefix)
{
	return s && prefix && !strncmp(s, prefix, strlen(prefix));
}

int skyx_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

int skyx_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *x = a, *y = b;
	unsigned char d = (unsigned char)(alen != blen);
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

int skyx_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}
