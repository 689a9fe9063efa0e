/*
 * One-time passwords: RFC 4226/6238 codes for the engine (the algorithm
 * lives in plugins/totp-secret/rfc6238.h, shared with that plugin), and
 * the search for a code or a magic link in pushed SMS / e-mail content.
 */
#include "util/otp.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/totp-secret/rfc6238.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/str.h"

/* The shared header numbers its algorithms like sky_otp_algo. */
_Static_assert(SKY_OTP_SHA1 == SKY_RFC6238_SHA1 &&
                   SKY_OTP_SHA256 == SKY_RFC6238_SHA256 &&
                   SKY_OTP_SHA512 == SKY_RFC6238_SHA512,
               "sky_otp_algo must match rfc6238.h");
_Static_assert(SKY_OTP_CODE_MAX == SKY_RFC6238_MAX_DIGITS + 1,
               "code buffer size");

int sky_otp_algo_parse(const char *name, sky_otp_algo *out)
{
	int a = sky_rfc6238_algo_parse(name);
	if (a < 0)
		return sky_error_set(SKY_EINVALID,
		                     "unknown OTP algorithm '%s' (use SHA1, "
		                     "SHA256 or SHA512)",
		                     name ? name : "(null)");
	*out = (sky_otp_algo)a;
	return 0;
}

const char *sky_otp_algo_name(sky_otp_algo algo)
{
	return sky_rfc6238_algo_name((int)algo);
}

static int check_params(const sky_otp_params *p)
{
	if (!p)
		return sky_error_set(SKY_EINVALID, "OTP parameters missing");
	if (!sky_otp_algo_name(p->algo))
		return sky_error_set(SKY_EINVALID, "unknown OTP algorithm %d",
		                     (int)p->algo);
	if (p->digits < SKY_RFC6238_MIN_DIGITS ||
	    p->digits > SKY_RFC6238_MAX_DIGITS)
		return sky_error_set(SKY_EINVALID,
		                     "OTP digits must be 6 to 8, not %d",
		                     p->digits);
	if (p->period <= 0)
		return sky_error_set(SKY_EINVALID,
		                     "OTP period must be positive, not %d",
		                     p->period);
	return 0;
}

int sky_otp_hotp(const void *key, size_t keylen, sky_otp_algo algo,
                 uint64_t counter, int digits, char out[SKY_OTP_CODE_MAX])
{
	if (sky_rfc6238_hotp((int)algo, key, keylen, counter, digits, out))
		return sky_error_set(
		    SKY_EINVALID, "HOTP needs a key, a known algorithm and 6 "
		                  "to 8 digits");
	return 0;
}

int sky_otp_totp(const void *key, size_t keylen, const sky_otp_params *p,
                 int64_t unix_time, char out[SKY_OTP_CODE_MAX])
{
	int rc = check_params(p);
	if (rc)
		return rc;
	if (unix_time < 0)
		return sky_error_set(SKY_EINVALID,
		                     "TOTP time must not be negative");
	return sky_otp_hotp(key, keylen, p->algo,
	                    (uint64_t)sky_rfc6238_step(unix_time, p->period),
	                    p->digits, out);
}

/* The decoded key, wiped and freed by the caller with free_key(). */
static int decode_secret(const char *secret, unsigned char **key,
                         size_t *keylen)
{
	*key = secret ? sky_base32_decode(secret, keylen) : NULL;
	if (!*key)
		return sky_error_set(SKY_EINVALID,
		                     "TOTP secret is missing or not base32");
	if (*keylen == 0) {
		free(*key);
		*key = NULL;
		return sky_error_set(SKY_EINVALID, "TOTP secret is empty");
	}
	return 0;
}

static void free_key(unsigned char *key, size_t keylen)
{
	if (key)
		OPENSSL_cleanse(key, keylen);
	free(key);
}

int sky_otp_totp_base32(const char *secret, const sky_otp_params *p,
                        int64_t unix_time, char out[SKY_OTP_CODE_MAX])
{
	unsigned char *key;
	size_t keylen;
	int rc = check_params(p);
	if (rc || (rc = decode_secret(secret, &key, &keylen)))
		return rc;
	rc = sky_otp_totp(key, keylen, p, unix_time, out);
	free_key(key, keylen);
	return rc;
}

int sky_otp_totp_check(const char *secret, const sky_otp_params *p, int64_t now,
                       int window, const char *code, int64_t *step)
{
	unsigned char *key;
	size_t keylen;
	char want[SKY_OTP_CODE_MAX];
	int rc = check_params(p), found = 0;
	if (rc || (rc = decode_secret(secret, &key, &keylen)))
		return rc;
	int64_t center = sky_rfc6238_step(now, p->period);
	if (center < 0 || window < 0 || window > 10) {
		free_key(key, keylen);
		return sky_error_set(
		    SKY_EINVALID, "TOTP check needs a time >= 0 and a window "
		                  "of 0 to 10 steps");
	}
	size_t clen = code ? strlen(code) : 0;
	/* Every step is computed and compared, so timing says nothing about
	 * which one matched. */
	for (int64_t s = center - window; s <= center + window; s++) {
		if (s < 0 || sky_rfc6238_hotp((int)p->algo, key, keylen,
		                              (uint64_t)s, p->digits, want))
			continue;
		if (sky_ct_equal(want, strlen(want), code ? code : "", clen) &&
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
