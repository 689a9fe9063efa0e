/* skyx: hex, base64, base32 and percent-decoding (libc and OpenSSL
 * libcrypto; part of the kit). Every result is malloc'd. */
#ifndef SKYX_CODEC_H
#define SKYX_CODEC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The value of one hex digit (either case), or -1. */
int skyx_hexval(int c);
/* Lower-case hex of n bytes into out (2n + 1 bytes); returns out. */
char *skyx_hex_encode(const void *data, size_t n, char *out);

/* Base64 (standard alphabet, padded). NULL on allocation failure. */
char *skyx_base64_encode(const void *data, size_t len);
/* Decode `n` bytes of base64 (standard or url-safe alphabet; padding and
 * white space ignored); *out_len set; NULL on bad input. */
unsigned char *skyx_base64_decode(const char *s, size_t n, size_t *out_len);
/* Decode RFC 4648 base32 (case-insensitive; ' ', '-' and '=' ignored);
 * *out_len set; NULL on bad input. The result is often a key: the
 * decoder leaves no copy of it behind, and the caller wipes it
 * (OPENSSL_cleanse) before freeing. */
unsigned char *skyx_base32_decode(const char *s, size_t *out_len);

/* Percent-decode `n` bytes (a '%' not followed by two hex digits is kept
 * as is). SKYX_PCT_PLUS_SPACE also turns '+' into ' ' (form encoding). */
#define SKYX_PCT_PLUS_SPACE 1u
char *skyx_pct_decode(const char *s, size_t n, unsigned flags);

#ifdef __cplusplus
}
#endif

#endif
