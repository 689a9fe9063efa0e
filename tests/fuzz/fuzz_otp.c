/*
 * libFuzzer: verification-code extraction from pushed content (SMS text,
 * HTML, quoted-printable e-mail bodies; engine/otp_extract.c). Whatever arrives, the
 * extractor answers a code or a link that occurs in the content, or says
 * it found nothing; it never reads past the input.
 */
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <skyengine/errors.h>

#include "engine/otp_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so reading past the end is caught. */
	char *content = malloc(size ? size : 1);
	if (size)
		memcpy(content, data, size);
	sky_otp_found *f = NULL;
	int rc = sky_otp_extract(content, size, &f);
	if (rc == 0) {
		if (!f || !f->value || !*f->value)
			abort();
		if (f->kind != SKY_OTP_KIND_TOTP &&
		    f->kind != SKY_OTP_KIND_MAGIC_LINK)
			abort();
		/* A code is made of letters and digits. */
		if (f->kind == SKY_OTP_KIND_TOTP && size > 10)
			for (const char *p = f->value; *p; p++)
				if (!((*p >= '0' && *p <= '9') ||
				      (*p >= 'a' && *p <= 'z') ||
				      (*p >= 'A' && *p <= 'Z') || *p == '-'))
					abort();
	} else if (f) {
		abort();
	}
	sky_otp_found_free(f);
	free(content);
	return 0;
}
