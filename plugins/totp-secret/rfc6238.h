/*
 * RFC 4226 HOTP and RFC 6238 TOTP over libcrypto's HMAC, header-only: the
 * totp-secret plugin (which never links libskyengine) and
 * libskyengine/util/otp.c compile this one copy of the algorithm.
 */
#ifndef SKY_RFC6238_H
#define SKY_RFC6238_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

/* Hash functions, in the order of util/otp.h's sky_otp_algo. */
#define SKY_RFC6238_SHA1 0
#define SKY_RFC6238_SHA256 1
#define SKY_RFC6238_SHA512 2

#define SKY_RFC6238_MIN_DIGITS 6
#define SKY_RFC6238_MAX_DIGITS 8

/* "SHA1", "sha-256", "SHA512" ... -> SKY_RFC6238_*, or -1. */
static inline int sky_rfc6238_algo_parse(const char *name)
{
	if (!name)
		return -1;
	if (!strcasecmp(name, "SHA1") || !strcasecmp(name, "SHA-1"))
		return SKY_RFC6238_SHA1;
	if (!strcasecmp(name, "SHA256") || !strcasecmp(name, "SHA-256"))
		return SKY_RFC6238_SHA256;
	if (!strcasecmp(name, "SHA512") || !strcasecmp(name, "SHA-512"))
		return SKY_RFC6238_SHA512;
	return -1;
}

static inline const char *sky_rfc6238_algo_name(int algo)
{
	switch (algo) {
	case SKY_RFC6238_SHA1:
		return "SHA1";
	case SKY_RFC6238_SHA256:
		return "SHA256";
	case SKY_RFC6238_SHA512:
		return "SHA512";
	default:
		return NULL;
	}
}

/*
 * HOTP (RFC 4226 §5.3): HMAC of the big-endian counter, dynamic
 * truncation, modulo 10^digits, zero-padded. `out` holds digits + 1
 * bytes. Returns 0, or -1 for a bad algorithm, digit count or key.
 */
static inline int sky_rfc6238_hotp(int algo, const void *key, size_t keylen,
                                   uint64_t counter, int digits, char *out)
{
	static const uint32_t pow10[] = {
	    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
	const EVP_MD *md;
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	switch (algo) {
	case SKY_RFC6238_SHA1:
		md = EVP_sha1();
		break;
	case SKY_RFC6238_SHA256:
		md = EVP_sha256();
		break;
	case SKY_RFC6238_SHA512:
		md = EVP_sha512();
		break;
	default:
		return -1;
	}
	if (digits < SKY_RFC6238_MIN_DIGITS ||
	    digits > SKY_RFC6238_MAX_DIGITS || !key || keylen == 0 ||
	    keylen > 0x7fffffff)
		return -1;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (!HMAC(md, key, (int)keylen, msg, sizeof msg, mac, &maclen) ||
	    maclen < 20)
		return -1;
	unsigned off = mac[maclen - 1] & 0x0f;
	uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) |
	               ((uint32_t)mac[off + 1] << 16) |
	               ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	uint32_t code = bin % pow10[digits];
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = (char)('0' + code % 10);
		code /= 10;
	}
	out[digits] = '\0';
	return 0;
}

/*
 * The RFC 6238 time step of `unix_time` (T0 = 0): floor(t / period).
 * Returns -1 for a negative time or a non-positive period.
 */
static inline int64_t sky_rfc6238_step(int64_t unix_time, int period)
{
	if (unix_time < 0 || period <= 0)
		return -1;
	return unix_time / period;
}

/* TOTP (RFC 6238 §4.2): HOTP of the time step. 0 or -1. */
static inline int sky_rfc6238_totp(int algo, const void *key, size_t keylen,
                                   int64_t unix_time, int period, int digits,
                                   char *out)
{
	int64_t step = sky_rfc6238_step(unix_time, period);
	if (step < 0)
		return -1;
	return sky_rfc6238_hotp(algo, key, keylen, (uint64_t)step, digits, out);
}

#endif
