/* skyx: SHA-256, HMAC and random tokens over OpenSSL libcrypto (part of
 * the kit). */
#ifndef SKYX_HASH_H
#define SKYX_HASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKYX_SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

void skyx_sha256(const void *data, size_t len, unsigned char out[32]);
/* Lower-case hex of SHA-256; returns out. */
char *skyx_sha256_hex(const void *data, size_t len,
                      char out[SKYX_SHA256_HEX_LEN]);
/* SHA-256 of a file's content; 0 or -1 (and *size). */
int skyx_sha256_file_hex(const char *path, char out[SKYX_SHA256_HEX_LEN],
                         int64_t *size);
/* Lower-case hex of HMAC-SHA256(key, msg); returns out. */
char *skyx_hmac_sha256_hex(const void *key, size_t keylen, const void *msg,
                           size_t len, char out[SKYX_SHA256_HEX_LEN]);
/* HMAC with SHA-1/256/512 ("sha1", "sha256", "sha512"); returns the MAC
 * length or -1. out must hold 64 bytes. */
int skyx_hmac(const char *algo, const void *key, size_t keylen, const void *msg,
              size_t len, unsigned char out[64]);
/* Hex of n random bytes into a malloc'd string. */
char *skyx_random_hex(size_t nbytes);

#ifdef __cplusplus
}
#endif

#endif
