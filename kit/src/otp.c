/* skyx: RFC 4226 HOTP and RFC 6238 TOTP over libcrypto's HMAC. */
#include "skyx/otp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "skyx/codec.h"
#include "skyx/str.h"

int skyx_otp_algo_parse(const char *name)
{
	if (!name)
		return -1;
	if (!strcasecmp(name, "SHA1") || !strcasecmp(name, "SHA-1"))
		return SKYX_OTP_SHA1;
	if (!strcasecmp(name, "SHA256") || !strcasecmp(name, "SHA-256"))
		return SKYX_OTP_SHA256;
	if (!strcasecmp(name, "SHA512") || !strcasecmp(name, "SHA-512"))
		return SKYX_OTP_SHA512;
	return -1;
}

const char *skyx_otp_algo_name(int algo)
{
	switch (algo) {
	case SKYX_OTP_SHA1:
		return "SHA1";
	case SKYX_OTP_SHA256:
		return "SHA256";
	case SKYX_OTP_SHA512:
		return "SHA512";
	default:
		return NULL;
	}
}

int skyx_otp_params_check(const skyx_otp_params *p)
{
	if (!p || !skyx_otp_algo_name((int)p->algo) ||
	    p->digits < SKYX_OTP_MIN_DIGITS ||
	    p->digits > SKYX_OTP_MAX_DIGITS || p->period <= 0)
		return -1;
	return 0;
}

int skyx_otp_hotp(const void *key, size_t keylen, skyx_otp_algo algo,
                  uint64_t counter, int digits, char out[SKYX_OTP_CODE_MAX])
{
	static const uint32_t pow10[] = {
	    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
	const EVP_MD *md;
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	switch (algo) {
	case SKYX_OTP_SHA1:
		md = EVP_sha1();
		break;
	case SKYX_OTP_SHA256:
		md = EVP_sha256();
		break;
	case SKYX_OTP_SHA512:
		md = EVP_sha512();
		break;
	default:
		return -1;
	}
	if (digits < SKYX_OTP_MIN_DIGITS || digits > SKYX_OTP_MAX_DIGITS ||
	    !key || keylen == 0 || keylen > 0x7fffffff)
		return -1;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (!HMAC(md, key, (int)keylen, msg, sizeof msg, mac, &maclen) ||
	    maclen < 20) {
		OPENSSL_cleanse(mac, sizeof mac);
		return -1;
	}
	unsigned off = mac[maclen - 1] & 0x0f;
	uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) |
	               ((uint32_t)mac[off + 1] << 16) |
	               ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	uint32_t code = bin % pow10[digits];
	OPENSSL_cleanse(mac, sizeof mac);
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = (char)('0' + code % 10);
		code /= 10;
	}
	out[digits] = '\0';
	return 0;
}

int64_t skyx_otp_step(int64_t unix_time, int period)
{
	if (unix_time < 0 || period <= 0)
		return -1;
	return unix_time / period;
}

int skyx_otp_totp(const void *key, size_t keylen, const skyx_otp_params *p,
                  int64_t unix_time, char out[SKYX_OTP_CODE_MAX])
{
	if (skyx_otp_params_check(p))
		return -1;
	int64_t step = skyx_otp_step(unix_time, p->period);
	if (step < 0)
		return -1;
	return skyx_otp_hotp(key, keylen, p->algo, (uint64_t)step, p->digits,
	                     out);
}

/* The decoded key, wiped and freed by the caller with free_key(). */
static unsigned char *decode_secret(const char *secret, size_t *keylen)
{
	unsigned char *key = secret ? skyx_base32_decode(secret, keylen) : NULL;
	if (key && *keylen == 0) {
		free(key);
		key = NULL;
	}
	return key;
}

static void free_key(unsigned char *key, size_t keylen)
{
	if (key)
		OPENSSL_cleanse(key, keylen);
	free(key);
}

int skyx_otp_totp_base32(const char *secret, const skyx_otp_params *p,
                         int64_t unix_time, char out[SKYX_OTP_CODE_MAX])
{
	size_t keylen = 0;
	if (skyx_otp_params_check(p))
		return -1;
	unsigned char *key = decode_secret(secret, &keylen);
	if (!key)
		return -1;
	int rc = skyx_otp_totp(key, keylen, p, unix_time, out);
	free_key(key, keylen);
	return rc;
}

int skyx_otp_totp_check(const char *secret, const skyx_otp_params *p,
                        int64_t now, int window, const char *code,
                        int64_t *step)
{
	size_t keylen = 0;
	char want[SKYX_OTP_CODE_MAX];
	int found = 0;
	if (skyx_otp_params_check(p))
		return -1;
	int64_t center = skyx_otp_step(now, p->period);
	if (center < 0 || window < 0 || window > 10)
		return -1;
	unsigned char *key = decode_secret(secret, &keylen);
	if (!key)
		return -1;
	size_t clen = code ? strlen(code) : 0;
	/* Every step is computed and compared, so timing says nothing about
	 * which one matched. */
	for (int64_t s = center - window; s <= center + window; s++) {
		if (s < 0 || skyx_otp_hotp(key, keylen, p->algo, (uint64_t)s,
		                           p->digits, want))
			continue;
		if (skyx_ct_equal(want, strlen(want), code ? code : "", clen) &&
		    !found) {
			found = 1;
			if (step)
				*step = s;
		}
	}
	OPENSSL_cleanse(want, sizeof want);
	free_key(key, keylen);
	return found;
}
