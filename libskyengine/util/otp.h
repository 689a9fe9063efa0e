/*
 * Internal: one-time passwords. RFC 4226 / RFC 6238 codes (the algorithm
 * itself is shared with the totp-secret plugin, see
 * plugins/totp-secret/rfc6238.h), and finding a code or a magic link in
 * content pushed to POST /v1/credentials/totp (an SMS or e-mail body).
 * Nothing here logs; callers register codes with sky_secret_register().
 */
#ifndef SKY_UTIL_OTP_H
#define SKY_UTIL_OTP_H

#include <stddef.h>
#include <stdint.h>

typedef enum sky_otp_algo {
	SKY_OTP_SHA1 = 0,
	SKY_OTP_SHA256 = 1,
	SKY_OTP_SHA512 = 2,
} sky_otp_algo;

typedef struct sky_otp_params {
	sky_otp_algo algo;
	int digits; /* 6..8 */
	int period; /* seconds per step, > 0 */
} sky_otp_params;

/* SHA-1, 6 digits, 30 s: what authenticator apps assume. */
/* clang-format off */
#define SKY_OTP_PARAMS_INIT { SKY_OTP_SHA1, 6, 30 }
/* clang-format on */

/* Room for the longest code and its NUL. */
#define SKY_OTP_CODE_MAX 9

/* "SHA1", "sha-256", "SHA512" (any case) -> *out; SKY_EINVALID else. */
int sky_otp_algo_parse(const char *name, sky_otp_algo *out);
/* "SHA1", "SHA256", "SHA512"; NULL for an unknown value. */
const char *sky_otp_algo_name(sky_otp_algo algo);

/* RFC 4226 HOTP of `counter`. 0, or SKY_EINVALID for a bad algorithm,
 * digit count or empty key. */
int sky_otp_hotp(const void *key, size_t keylen, sky_otp_algo algo,
                 uint64_t counter, int digits, char out[SKY_OTP_CODE_MAX]);

/* RFC 6238 TOTP at `unix_time` (seconds, >= 0). 0 or SKY_EINVALID. */
int sky_otp_totp(const void *key, size_t keylen, const sky_otp_params *p,
                 int64_t unix_time, char out[SKY_OTP_CODE_MAX]);

/* The same from an RFC 4648 base32 secret (case, spaces, '-' and padding
 * ignored). SKY_EINVALID for a secret that is not base32 (the message
 * never contains the secret). */
int sky_otp_totp_base32(const char *secret, const sky_otp_params *p,
                        int64_t unix_time, char out[SKY_OTP_CODE_MAX]);

/*
 * Check a submitted code the way a server does: the code of the time
 * step of `now` and of `window` steps either side (RFC 6238 §5.2 allows
 * one step of network delay). Returns 1 and *step (the matched step, may
 * be NULL) on a match, 0 on no match (a code of the wrong length, or not
 * digits, simply does not match), or SKY_EINVALID for a bad secret or
 * parameters. Comparisons are constant-time.
 */
int sky_otp_totp_check(const char *secret, const sky_otp_params *p, int64_t now,
                       int window, const char *code, int64_t *step);

/* What was found in pushed content. */
typedef enum sky_otp_kind {
	SKY_OTP_KIND_TOTP = 1,       /* a code to type */
	SKY_OTP_KIND_MAGIC_LINK = 2, /* a URL to open */
} sky_otp_kind;

typedef struct sky_otp_found {
	sky_otp_kind kind;
	char *value; /* the code (digits, or letters and digits), or the URL */
} sky_otp_found;

/* "totp" / "magic_link": the API's otp_type. */
const char *sky_otp_kind_name(sky_otp_kind kind);

/* Largest content sky_otp_extract() reads. */
#define SKY_OTP_CONTENT_MAX (2u * 1024u * 1024u)

/*
 * Find the verification code or magic link in `content` (len bytes, UTF-8
 * text, HTML or a quoted-printable e-mail body). Content of 10 bytes or
 * fewer is the code verbatim (Skyvern's rule). Returns 0 and *out (free
 * with sky_otp_found_free), SKY_ENOTFOUND when nothing in it looks like a
 * code or a sign-in link, SKY_ETOOBIG over SKY_OTP_CONTENT_MAX, or
 * SKY_EINVALID / SKY_ENOMEM. docs/proxies-totp.md lists the rules.
 */
int sky_otp_extract(const char *content, size_t len, sky_otp_found **out);
void sky_otp_found_free(sky_otp_found *f);

#endif
