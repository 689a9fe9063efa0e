/* Unit tests: engine/otp_extract (finding the code or magic link in pushed
 * SMS / e-mail content). The RFC 4226/6238 codes are tested with the kit
 * (check_kit.c). */
#include <skyengine.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skytest.h"
#include "engine/otp_extract.h"
#include "util/error.h"
#include <skyx/str.h>

/* ---- extraction corpus ------------------------------------------------ */

struct sample {
	const char *name;
	const char *content;
	sky_otp_kind kind; /* 0: nothing should be found */
	const char *value;
};

static const struct sample corpus[] = {
    {"bank SMS, code before amount and card",
     "Dear Customer, 739201 is your One Time Password for the transaction "
     "of Rs.2,499.00 on your SBI Card ending 4821 at AMAZON. Valid for 10 "
     "mins. Do not share it with anyone.",
     SKY_OTP_KIND_TOTP, "739201"},
    {"bank SMS, debit details first",
     "HDFC Bank: Rs 5,000.00 debited from a/c XX1234 on 05-06-24. OTP for "
     "txn is 482913. Never share OTP. Not you? Call 18002586161",
     SKY_OTP_KIND_TOTP, "482913"},
    {"8-digit one-time code",
     "Chase: Your one-time code is 48291033. Don't share it. We'll never "
     "call or text you for this code. Reply STOP to opt out.",
     SKY_OTP_KIND_TOTP, "48291033"},
    {"Google SMS with G- prefix", "G-583021 is your Google verification code.",
     SKY_OTP_KIND_TOTP, "583021"},
    {"Google-style e-mail, code on its own line",
     "Google\n\nVerify your email address\n\nGoogle received a request to "
     "use chris@example.com as a recovery email for Google Account "
     "chris.w@gmail.com.\n\nUse this code to finish setting up this "
     "recovery email:\n\n583021\n\nThis code will expire in 24 hours.\n\n"
     "If you don\xe2\x80\x99t recognize chris.w@gmail.com, you can safely "
     "ignore this email.",
     SKY_OTP_KIND_TOTP, "583021"},
    {"Microsoft-style HTML e-mail",
     "<html><head><style>td{font-family:Segoe UI}</style>"
     "<title>Microsoft account security code</title></head><body>"
     "<table><tr><td>Microsoft account</td></tr>"
     "<tr><td style=\"font-size:41px\">Security code</td></tr>"
     "<tr><td>Please use the following security code for the Microsoft "
     "account <a href=\"mailto:ch***@example.com\">ch***@example.com</a>."
     "</td></tr><tr><td>Security code: <span style=\"font-weight:bold\">"
     "739204</span></td></tr><tr><td>If you don&#39;t recognize the "
     "Microsoft account ch***@example.com, you can <a href=\"https://"
     "account.live.example/dp?token=AbCdEf0123456789XyZw&amp;r=1\">click "
     "here</a> to remove your email address from that account.</td></tr>"
     "<tr><td>Thanks,<br>The Microsoft account team</td></tr></table>"
     "</body></html>",
     SKY_OTP_KIND_TOTP, "739204"},
    {"HTML code split with a non-breaking space",
     "<p>Your Acme login code:</p><div style=\"font-size:32px;"
     "letter-spacing:8px\">482&nbsp;913</div><p>Expires in 10 minutes. "
     "&copy; 2024 Acme Inc.</p>",
     SKY_OTP_KIND_TOTP, "482913"},
    {"order e-mail where only one number is the code",
     "Hi Chris,\n\nThanks for your order #48213 placed on 12/03/2024 for "
     "$129.99 (2 items). It ships from our warehouse at 1200 Harbor Blvd, "
     "Suite 400.\n\nTo confirm it's you, enter the verification code "
     "739201 on the checkout page.\n\nQuestions? Call us at +1 (800) "
     "555-0199.\n\nOrder total: $129.99",
     SKY_OTP_KIND_TOTP, "739201"},
    {"magic-link HTML e-mail with an unsubscribe link",
     "<h1>Confirm your email address</h1><p>Your confirmation link is "
     "below \xe2\x80\x94 click it to sign in to the Acme workspace.</p>"
     "<p><a href=\"https://acme.example/auth/magic?token=eyJ0eXAiOiJKV1Qi"
     ".c2lnbmVk9x&amp;email=chris%40example.com\" style=\"color:#fff\">"
     "Sign in to Acme</a></p><p>This link will expire in 24 hours.</p>"
     "<p><a href=\"https://acme.example/unsubscribe?u=2f1c9a8b7d6e5f4a3b2c"
     "\">Unsubscribe</a> &middot; Acme Inc., 548 Market St, San Francisco"
     ", CA 94104</p>",
     SKY_OTP_KIND_MAGIC_LINK,
     "https://acme.example/auth/magic?token=eyJ0eXAiOiJKV1Qi.c2lnbmVk9x"
     "&email=chris%40example.com"},
    {"magic-link plain-text e-mail with an address footer",
     "Hi Chris,\n\nClick the link below to log in to Acme:\n\n"
     "https://app.acme.example/login/verify?code=Zx81kQ2mNp47Lr09&email="
     "chris%40example.com\n\nIf you didn't try to log in, you can ignore "
     "this email.\n\nAcme Inc., 548 Market St #12345, San Francisco, CA "
     "94104",
     SKY_OTP_KIND_MAGIC_LINK,
     "https://app.acme.example/login/verify?code=Zx81kQ2mNp47Lr09&email="
     "chris%40example.com"},
    {"labelled letters-and-digits code beside an IP address",
     "<p>Dear chris_w,</p><p>Here is the Steam Guard code you need to "
     "login to account chris_w:</p><p style=\"font-size:24px\">F7K2Q</p>"
     "<p>This email was generated because of a login attempt from a web "
     "or mobile device located at 203.0.113.42 (US).</p>",
     SKY_OTP_KIND_TOTP, "F7K2Q"},
    {"label well after the code, a store number before it",
     "Acme Pharmacy 5521: 739201 is your account recovery security code "
     "for online refills.",
     SKY_OTP_KIND_TOTP, "739201"},
    {"4-digit PIN", "Your Acme PIN is 4821. It expires in 5 minutes.",
     SKY_OTP_KIND_TOTP, "4821"},
    {"shipping notice without a code",
     "Your Acme order #58213 has shipped! Track it at "
     "https://acme.example/track/58213. Estimated delivery: May 14, 2024. "
     "Total charged: $58.21.",
     0, NULL},
    {"promotion with a promo code and a short code",
     "Use code SAVE2024 at checkout for 20% off your next order! Offer "
     "ends 31 May. Reply STOP to 78345 to opt out.",
     0, NULL},
    {"payment notice with amounts and a reference",
     "You've received $1500 from John. Your balance is $2,731.44. Ref "
     "4829103. Questions? Call 1-800-555-0199.",
     0, NULL},
    {"Apple-style SMS with a domain-bound code",
     "Your Apple ID Code is: 318293. Don't share it with anyone.\n\n"
     "@apple.com #318293 %apple.com",
     SKY_OTP_KIND_TOTP, "318293"},
    {"quoted-printable HTML with a soft break inside the code",
     "Content-Type: text/html; charset=\"UTF-8\"\n"
     "Content-Transfer-Encoding: quoted-printable\n\n"
     "<p style=3D\"margin:0\">Your verification code is</p>=\n"
     "<p style=3D\"font-size:28px\"><b>650=\n284</b></p>",
     SKY_OTP_KIND_TOTP, "650284"},
    {"code and magic link: the code wins",
     "Sign in to Acme\n\nClick here to sign in: https://acme.example/auth/"
     "magic?token=Q2x8mR4tP9vL3nK7wZ1y\n\nOr enter this code: 582019",
     SKY_OTP_KIND_TOTP, "582019"},
    {"Spanish SMS",
     "Tu c\xc3\xb3"
     "digo de verificaci\xc3\xb3n es 482913",
     SKY_OTP_KIND_TOTP, "482913"},
    {"raw e-mail, code in the subject, a date in the headers",
     "Subject: 739201 is your Acme sign-in code\nFrom: Acme "
     "<no-reply@acme.example>\nDate: Tue, 14 May 2024 10:32:11 +0000\n\n"
     "Hi,\nSomeone is trying to sign in to your Acme account. If this was "
     "you, use the code above.",
     SKY_OTP_KIND_TOTP, "739201"},
    {"code followed by an expiry date",
     "Your Acme code 482913 expires 2024-05-14 10:30 UTC.", SKY_OTP_KIND_TOTP,
     "482913"},
    {"code after a verb, no label", "Use 275019 to sign in to Acme.",
     SKY_OTP_KIND_TOTP, "275019"},
    {"footer year and zip only",
     "\xc2\xa9 2024 Acme Inc. 548 Market St, "
     "San Francisco, CA 94104. All rights reserved.",
     0, NULL},
    {"10 characters are the code itself", " 48 29 13 ", SKY_OTP_KIND_TOTP,
     " 48 29 13 "},
    {"a bare code", "651093", SKY_OTP_KIND_TOTP, "651093"},
    {"zero-width characters inside a code's sentence",
     "Your Acme verification\xe2\x80\x8b code is\xe2\x80\x8c 904217. It "
     "expires in 10 minutes.",
     SKY_OTP_KIND_TOTP, "904217"},
    {"payment OTP: the amount comes first",
     "Your OTP for the payment of INR 4500 to Acme Travels is 739201. "
     "Valid for 5 minutes.",
     SKY_OTP_KIND_TOTP, "739201"},
    {"code for an order: the order number comes first",
     "Your verification code for order 58213 is 739201.", SKY_OTP_KIND_TOTP,
     "739201"},
    {"validity in minutes before the code",
     "Acme security: your one-time passcode, valid for 1440 minutes: "
     "739201",
     SKY_OTP_KIND_TOTP, "739201"},
    {"a year near verification words, no code",
     "Welcome to Acme 2025! Please verify your email address to keep your "
     "account active.",
     0, NULL},
    {"unlabelled code alone on its line in a sign-in e-mail",
     "Acme sign-in\n\n739201\n\nIt expires in 10 minutes. If this wasn't "
     "you, ignore this message.",
     SKY_OTP_KIND_TOTP, "739201"},
    {"sign-in alert: token links that are settings and unsubscribe",
     "<p>We noticed a new sign-in to your Acme account from Chrome on "
     "Windows. If this was you, there's nothing to do.</p><p><a href=\""
     "https://acme.example/settings/security?ref=Kx92mQ7pL4vN8rT1\">Review "
     "activity</a></p><p><a href=\"https://acme.example/email/unsubscribe?"
     "token=Zq81Lm27Xc93Vb46Nn05\">Unsubscribe</a></p>",
     0, NULL},
};

START_TEST(extract_corpus)
{
	const struct sample *c = &corpus[_i];
	sky_otp_found *f = NULL;
	int rc = sky_otp_extract(c->content, strlen(c->content), &f);
	if (!c->kind) {
		ck_assert_msg(rc == SKY_ENOTFOUND,
		              "%s: expected nothing, got %d %s", c->name, rc,
		              f ? f->value : sky_error_last());
		ck_assert_ptr_null(f);
		return;
	}
	ck_assert_msg(rc == 0, "%s: %d %s", c->name, rc, sky_error_last());
	ck_assert_msg(f->kind == c->kind && !strcmp(f->value, c->value),
	              "%s: got %s '%s', want %s '%s'", c->name,
	              sky_otp_kind_name(f->kind), f->value,
	              sky_otp_kind_name(c->kind), c->value);
	sky_otp_found_free(f);
}
END_TEST

static int logged_lines;
static void count_lines(sky_log_level l, const char *c, const char *m, void *ud)
{
	(void)l;
	(void)c;
	(void)m;
	(void)ud;
	logged_lines++;
}

/* Extraction says nothing: the content holds codes and sign-in links.
 * Neither a log line nor the error message a failed extraction leaves
 * (sky_error_last(), which callers put into API answers) carries a code
 * or a piece of the content. */
START_TEST(extract_logs_nothing)
{
	sky_log_set(count_lines, SKY_LOG_TRACE, NULL);
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		sky_otp_found *f = NULL;
		const char *c = corpus[i].content;
		sky_error_set(0, "-");
		/* The same text with its code hidden fails extraction. */
		char *masked = strdup(c);
		if (corpus[i].value && *corpus[i].value) {
			char *at = strstr(masked, corpus[i].value);
			for (; at && *at && strchr("0123456789", *at); at++)
				*at = 'x';
		}
		int rc = sky_otp_extract(masked, strlen(masked), &f);
		const char *err = sky_error_last();
		if (rc != 0) {
			ck_assert_msg(strstr(err, masked) == NULL &&
			                  (strlen(masked) < 12 ||
			                   strstr(err, masked + strlen(masked) -
			                                   12) == NULL),
			              "%s: error repeats the content: %s",
			              corpus[i].name, err);
		}
		sky_otp_found_free(f);
		f = NULL;
		free(masked);
		rc = sky_otp_extract(c, strlen(c), &f);
		if (corpus[i].value && strlen(corpus[i].value) >= 4)
			ck_assert_msg(
			    strstr(sky_error_last(), corpus[i].value) == NULL,
			    "%s: error message holds the code", corpus[i].name);
		sky_otp_found_free(f);
	}
	sky_log_set(NULL, SKY_LOG_WARN, NULL);
	ck_assert_int_eq(logged_lines, 0);
}
END_TEST

static void extract_any(const char *s, size_t n)
{
	sky_otp_found *f = NULL;
	int rc = sky_otp_extract(s, n, &f);
	ck_assert_msg(rc == 0 || rc == SKY_ENOTFOUND, "rc %d: %s", rc,
	              sky_error_last());
	ck_assert(rc == 0 ? f && f->value : f == NULL);
	sky_otp_found_free(f);
}

START_TEST(extract_survives_bad_input)
{
	sky_otp_found *f = NULL;
	ck_assert_int_eq(sky_otp_extract(NULL, 0, &f), SKY_EINVALID);
	ck_assert_int_eq(sky_otp_extract("   \n\t ", 6, &f), SKY_ENOTFOUND);
	ck_assert_int_eq(sky_otp_extract("", 0, &f), SKY_ENOTFOUND);
	ck_assert_ptr_null(f);
	/* Short content is the code itself, verbatim; with a NUL or other
	 * control characters it is not a code (fuzz_otp found an empty
	 * code from "\0\0\xff\0\x10a\0\0"). */
	ck_assert_int_eq(sky_otp_extract("\0\0\xff\0\x10"
	                                 "a\0\0",
	                                 8, &f),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(sky_otp_extract("12\x01"
	                                 "34",
	                                 5, &f),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(sky_otp_extract("482913\n", 7, &f), 0);
	ck_assert_str_eq(f->value, "482913\n");
	sky_otp_found_free(f);
	f = NULL;

	size_t big = SKY_OTP_CONTENT_MAX + 1;
	char *buf = malloc(big + 1);
	memset(buf, 'a', big);
	buf[big] = '\0';
	ck_assert_int_eq(sky_otp_extract(buf, big, &f), SKY_ETOOBIG);

	/* Inputs built to make a scanner quadratic or a regex backtrack:
	 * 128 KiB of each must finish well inside the test's time bound
	 * (quadratic work on it would take minutes). */
	static const char *const units[] = {
	    "<a ",    "<p",        "&#",         "<!--", "1234 ",
	    "code: ", "http://x/", "<a href=\"", "=3D",  "12-"};
	size_t n = 128 * 1024;
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		size_t ul = strlen(units[u]);
		for (size_t i = 0; i + ul <= n; i += ul)
			memcpy(buf + i, units[u], ul);
		extract_any(buf, n - n % ul);
	}
	free(buf);

	/* Every other truncation of every sample, and arbitrary bytes. */
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		const char *c = corpus[i].content;
		for (size_t len = 0; len <= strlen(c); len += 2)
			extract_any(c, len);
	}
	unsigned long x = 12345;
	char junk[2048];
	for (int round = 0; round < 200; round++) {
		size_t len = 11 + (size_t)(round * 37) % (sizeof junk - 11);
		for (size_t i = 0; i < len; i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			junk[i] = (char)(x >> 56);
		}
		extract_any(junk, len);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("otp");
	TCase *tc = tcase_create("extract");
	tcase_add_loop_test(tc, extract_corpus, 0,
	                    (int)(sizeof corpus / sizeof corpus[0]));
	tcase_add_test(tc, extract_logs_nothing);
	tcase_add_test(tc, extract_survives_bad_input);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
