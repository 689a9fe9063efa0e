/*
 * skyx: RFC 4226 HOTP and RFC 6238 TOTP over libcrypto's HMAC (part of the
 * kit). The library's tests, the totp-secret plugin and any host compute
 * codes with this one copy of the algorithm. Nothing here logs or keeps a
 * key: decoded keys are wiped (OPENSSL_cleanse) before they are freed.
 */
#ifndef SKYX_OTP_H
#define SKYX_OTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum skyx_otp_algo {
	SKYX_OTP_SHA1 = 0,
	SKYX_OTP_SHA256 = 1,
	SKYX_OTP_SHA512 = 2,
} skyx_otp_algo;

#define SKYX_OTP_MIN_DIGITS 6
#define SKYX_OTP_MAX_DIGITS 8
/* Room for the longest code and its NUL. */
#define SKYX_OTP_CODE_MAX (SKYX_OTP_MAX_DIGITS + 1)

typedef struct skyx_otp_params {
	skyx_otp_algo algo;
	int digits; /* 6..8 */
	int period; /* seconds per step, > 0 */
} skyx_otp_params;

/* SHA-1, 6 digits, 30 s: what authenticator apps assume. */
/* clang-format off */
#define SKYX_OTP_PARAMS_INIT { SKYX_OTP_SHA1, 6, 30 }
/* clang-format on */

/* "SHA1", "sha-256", "SHA512" (any case, dash optional) -> the algorithm,
 * or -1. */
int skyx_otp_algo_parse(const char *name);
/* "SHA1", "SHA256", "SHA512"; NULL for an unknown value. */
const char *skyx_otp_algo_name(int algo);

/* 0 if `p` holds a known algorithm, 6 to 8 digits and a positive period;
 * -1 else. */
int skyx_otp_params_check(const skyx_otp_params *p);

/*
 * HOTP (RFC 4226 §5.3): HMAC of the big-endian counter, dynamic
 * truncation, modulo 10^digits, zero-padded. Returns 0, or -1 for a bad
 * algorithm, digit count or empty key.
 */
int skyx_otp_hotp(const void *key, size_t keylen, skyx_otp_algo algo,
                  uint64_t counter, int digits, char out[SKYX_OTP_CODE_MAX]);

/* The RFC 6238 time step of `unix_time` (T0 = 0): floor(t / period); -1
 * for a negative time or a non-positive period. */
int64_t skyx_otp_step(int64_t unix_time, int period);

/* TOTP (RFC 6238 §4.2) at `unix_time` (seconds, >= 0). 0 or -1. */
int skyx_otp_totp(const void *key, size_t keylen, const skyx_otp_params *p,
                  int64_t unix_time, char out[SKYX_OTP_CODE_MAX]);

/* The same from an RFC 4648 base32 secret (case, spaces, '-' and padding
 * ignored). -1 for bad parameters or a secret that is missing, empty or
 * not base32. */
int skyx_otp_totp_base32(const char *secret, const skyx_otp_params *p,
                         int64_t unix_time, char out[SKYX_OTP_CODE_MAX]);

/*
 * Check a submitted code the way a server does: the code of the time step
 * of `now` and of `window` (0..10) steps either side (RFC 6238 §5.2).
 * Returns 1 and *step (may be NULL) on a match, 0 on no match (a code of
 * the wrong length, or not digits, simply does not match), -1 for a bad
 * secret or parameters. Comparisons are constant-time.
 */
int skyx_otp_totp_check(const char *secret, const skyx_otp_params *p,
                        int64_t now, int window, const char *code,
                        int64_t *step);

#ifdef __cplusplus
}
#endif

#endif
