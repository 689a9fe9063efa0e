/* skyx: hex, base64, base32 and percent-decoding. */
#include "skyx/codec.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int skyx_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *skyx_hex_encode(const void *data, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *in = data;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

char *skyx_base64_encode(const void *data, size_t len)
{
	size_t olen = 4 * ((len + 2) / 3);
	char *out = malloc(olen + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	out[olen] = '\0';
	return out;
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

unsigned char *skyx_base64_decode(const char *s, size_t n, size_t *out_len)
{
	unsigned char *out = malloc(n * 3 / 4 + 3);
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '=' || isspace(c))
			continue;
		int v = b64_val(c);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*out_len = o;
	return out;
}

unsigned char *skyx_base32_decode(const char *s, size_t *out_len)
{
	size_t n = strlen(s);
	unsigned char *out = malloc(n * 5 / 8 + 2);
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int c = toupper((unsigned char)s[i]);
		int v;
		if (c == '=' || c == ' ' || c == '-')
			continue;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else {
			OPENSSL_cleanse(out, o);
			OPENSSL_cleanse(&acc, sizeof acc);
			free(out);
			return NULL;
		}
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	OPENSSL_cleanse(&acc, sizeof acc);
	*out_len = o;
	return out;
}

char *skyx_pct_decode(const char *s, size_t n, unsigned flags)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && skyx_hexval(s[i + 1]) >= 0 &&
		    skyx_hexval(s[i + 2]) >= 0) {
			*o++ = (char)(skyx_hexval(s[i + 1]) * 16 +
			              skyx_hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '+' && (flags & SKYX_PCT_PLUS_SPACE)) {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}
