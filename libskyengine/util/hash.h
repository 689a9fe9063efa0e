/* Internal: SHA-256, HMAC, base64, random tokens (OpenSSL libcrypto). */
#ifndef SKY_UTIL_HASH_H
#define SKY_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SKY_SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

void sky_sha256(const void *data, size_t len, unsigned char out[32]);
/* Lower-case hex of SHA-256; returns out. */
char *sky_sha256_hex(const void *data, size_t len,
                     char out[SKY_SHA256_HEX_LEN]);
/* SHA-256 of a file's content; 0 or -1 (and *size). */
int sky_sha256_file_hex(const char *path, char out[SKY_SHA256_HEX_LEN],
                        int64_t *size);
/* Lower-case hex of HMAC-SHA256(key, msg); returns out. */
char *sky_hmac_sha256_hex(const void *key, size_t keylen, const void *msg,
                          size_t len, char out[SKY_SHA256_HEX_LEN]);
/* HMAC with SHA-1/256/512 ("sha1", "sha256", "sha512"); returns the MAC
 * length or -1. out must hold 64 bytes. */
int sky_hmac(const char *algo, const void *key, size_t keylen,
             const void *msg, size_t len, unsigned char out[64]);
/* Hex of n random bytes into a malloc'd string. */
char *sky_random_hex(size_t nbytes);
/* Base64 (standard alphabet, padded); malloc'd. */
char *sky_base64_encode(const void *data, size_t len);
/* Decode base64 (standard or url-safe, padding optional); malloc'd,
 * *out_len set; NULL on bad input. */
unsigned char *sky_base64_decode(const char *s, size_t *out_len);
/* Decode RFC 4648 base32 (case-insensitive, spaces and padding ignored);
 * malloc'd; NULL on bad input. */
unsigned char *sky_base32_decode(const char *s, size_t *out_len);

#endif
