/* Internal: SHA-256, HMAC, base64, random tokens; the kit's (skyx/hash.h,
 * skyx/codec.h) under the library's names until the call sites are
 * renamed. */
#ifndef SKY_UTIL_HASH_H
#define SKY_UTIL_HASH_H

#include <string.h>
#include <skyx/codec.h>
#include <skyx/hash.h>

#define SKY_SHA256_HEX_LEN SKYX_SHA256_HEX_LEN
#define sky_sha256 skyx_sha256
#define sky_sha256_hex skyx_sha256_hex
#define sky_sha256_file_hex skyx_sha256_file_hex
#define sky_hmac_sha256_hex skyx_hmac_sha256_hex
#define sky_hmac skyx_hmac
#define sky_random_hex skyx_random_hex
#define sky_base64_encode skyx_base64_encode
#define sky_base32_decode skyx_base32_decode

/* Decode NUL-terminated base64 (standard or url-safe, padding optional);
 * malloc'd, *out_len set; NULL on bad input. */
static inline unsigned char *sky_base64_decode(const char *s, size_t *out_len)
{
	return skyx_base64_decode(s, strlen(s), out_len);
}

#endif
