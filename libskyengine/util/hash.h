/* Internal: the kit's hashing and codecs (skyx/hash.h, skyx/codec.h),
 * plus base64 decoding of a NUL-terminated string. */
#ifndef SKY_UTIL_HASH_H
#define SKY_UTIL_HASH_H

#include <string.h>
#include <skyx/codec.h>
#include <skyx/hash.h>

/* Decode NUL-terminated base64 (standard or url-safe, padding optional);
 * malloc'd, *out_len set; NULL on bad input. */
static inline unsigned char *sky_base64_decode(const char *s, size_t *out_len)
{
	return skyx_base64_decode(s, strlen(s), out_len);
}

#endif
