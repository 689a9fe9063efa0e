/*
 * Internal: finding a code or a magic link in content pushed to
 * POST /v1/credentials/totp (an SMS or e-mail body). Its caller is
 * engine/totp_push.c; RFC 4226/6238 codes are the kit's (skyx/otp.h).
 * Nothing here logs; callers register codes with sky_secret_register().
 */
#ifndef SKY_ENGINE_OTP_EXTRACT_H
#define SKY_ENGINE_OTP_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

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
