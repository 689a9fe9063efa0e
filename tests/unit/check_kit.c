/* Unit tests: the helper kit (kit/, skyx_*): RFC 4226/6238 vectors and
 * server-side checking, the codecs, HTML escaping. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skyx/codec.h>
#include <skyx/otp.h>
#include <skyx/seal.h>
#include <skyx/str.h>

#include "skytest.h"

#define KEY20 "12345678901234567890"
#define KEY32 KEY20 "123456789012"
#define KEY64 KEY20 KEY20 KEY20 "1234"
#define KEY20_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

START_TEST(rfc4226_appendix_d)
{
	static const char *want[] = {"755224", "287082", "359152", "969429",
	                             "338314", "254676", "287922", "162583",
	                             "399871", "520489"};
	char out[SKYX_OTP_CODE_MAX];
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(skyx_otp_hotp(KEY20, 20, SKYX_OTP_SHA1,
		                               (uint64_t)i, 6, out),
		                 0);
		ck_assert_str_eq(out, want[i]);
	}
}
END_TEST

START_TEST(rfc6238_appendix_b)
{
	static const struct {
		int64_t t;
		const char *code[3];
	} v[] = {
	    {59, {"94287082", "46119246", "90693936"}},
	    {1111111109, {"07081804", "68084774", "25091201"}},
	    {1111111111, {"14050471", "67062674", "99943326"}},
	    {1234567890, {"89005924", "91819424", "93441116"}},
	    {2000000000, {"69279037", "90698825", "38618901"}},
	    {20000000000LL, {"65353130", "77737706", "47863826"}},
	};
	static const struct {
		skyx_otp_algo algo;
		const char *key;
		size_t len;
	} k[3] = {{SKYX_OTP_SHA1, KEY20, 20},
	          {SKYX_OTP_SHA256, KEY32, 32},
	          {SKYX_OTP_SHA512, KEY64, 64}};
	char out[SKYX_OTP_CODE_MAX];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		for (int a = 0; a < 3; a++) {
			skyx_otp_params p = {k[a].algo, 8, 30};
			ck_assert_int_eq(
			    skyx_otp_totp(k[a].key, k[a].len, &p, v[i].t, out),
			    0);
			ck_assert_msg(!strcmp(out, v[i].code[a]),
			              "%s t=%lld: %s != %s",
			              skyx_otp_algo_name(k[a].algo),
			              (long long)v[i].t, out, v[i].code[a]);
		}
	}
	/* 6 and 7 digits are the low digits of the same number. */
	skyx_otp_params p6 = {SKYX_OTP_SHA1, 6, 30},
	                p7 = {SKYX_OTP_SHA1, 7, 30};
	ck_assert_int_eq(skyx_otp_totp(KEY20, 20, &p6, 59, out), 0);
	ck_assert_str_eq(out, "287082");
	ck_assert_int_eq(skyx_otp_totp_base32(KEY20_B32, &p7, 59, out), 0);
	ck_assert_str_eq(out, "4287082");
}
END_TEST

START_TEST(bad_parameters_are_refused)
{
	char out[SKYX_OTP_CODE_MAX];
	skyx_otp_params p = SKYX_OTP_PARAMS_INIT;
	ck_assert_int_eq(skyx_otp_algo_parse("sha-256"), SKYX_OTP_SHA256);
	ck_assert_int_eq(skyx_otp_algo_parse("MD5"), -1);
	ck_assert_int_eq(skyx_otp_hotp(KEY20, 20, SKYX_OTP_SHA1, 0, 5, out),
	                 -1);
	ck_assert_int_eq(skyx_otp_hotp(KEY20, 0, SKYX_OTP_SHA1, 0, 6, out), -1);
	ck_assert_int_eq(skyx_otp_totp(KEY20, 20, &p, -1, out), -1);
	p.period = 0;
	ck_assert_int_eq(skyx_otp_totp(KEY20, 20, &p, 59, out), -1);
	p.period = 30;
	p.digits = 9;
	ck_assert_int_eq(skyx_otp_totp(KEY20, 20, &p, 59, out), -1);
	p.digits = 6;
	ck_assert_int_eq(skyx_otp_totp_base32("not base32!", &p, 59, out), -1);
	ck_assert_int_eq(skyx_otp_totp_base32("", &p, 59, out), -1);
	ck_assert_int_eq(skyx_otp_totp_base32(NULL, &p, 59, out), -1);
}
END_TEST

START_TEST(server_check_accepts_a_window_and_nothing_else)
{
	skyx_otp_params p = SKYX_OTP_PARAMS_INIT;
	char now[SKYX_OTP_CODE_MAX], prev[SKYX_OTP_CODE_MAX],
	    old[SKYX_OTP_CODE_MAX];
	int64_t t = 1700000015, step = 0;
	ck_assert_int_eq(skyx_otp_totp_base32(KEY20_B32, &p, t, now), 0);
	ck_assert_int_eq(skyx_otp_totp_base32(KEY20_B32, &p, t - 30, prev), 0);
	ck_assert_int_eq(skyx_otp_totp_base32(KEY20_B32, &p, t - 60, old), 0);
	ck_assert_int_eq(skyx_otp_totp_check(KEY20_B32, &p, t, 1, now, &step),
	                 1);
	ck_assert_int_eq(step, t / 30);
	ck_assert_int_eq(skyx_otp_totp_check(KEY20_B32, &p, t, 1, prev, &step),
	                 1);
	ck_assert_int_eq(step, t / 30 - 1);
	ck_assert_int_eq(skyx_otp_totp_check(KEY20_B32, &p, t, 1, old, NULL),
	                 0);
	ck_assert_int_eq(skyx_otp_totp_check(KEY20_B32, &p, t, 0, prev, NULL),
	                 0);
	/* Near misses: other lengths, other characters. */
	char shorter[SKYX_OTP_CODE_MAX];
	snprintf(shorter, sizeof shorter, "%.5s", now);
	ck_assert_int_eq(
	    skyx_otp_totp_check(KEY20_B32, &p, t, 1, shorter, NULL), 0);
	char longer[16];
	snprintf(longer, sizeof longer, "%s0", now);
	ck_assert_int_eq(skyx_otp_totp_check(KEY20_B32, &p, t, 1, longer, NULL),
	                 0);
	ck_assert_int_eq(skyx_otp_totp_check(KEY20_B32, &p, t, 1, "", NULL), 0);
	ck_assert_int_eq(skyx_otp_totp_check(KEY20_B32, &p, t, 1, NULL, NULL),
	                 0);
	ck_assert_int_eq(skyx_otp_totp_check("!!", &p, t, 1, now, NULL), -1);
	ck_assert_int_eq(skyx_otp_totp_check(KEY20_B32, &p, t, 11, now, NULL),
	                 -1);
}
END_TEST

START_TEST(percent_decoding)
{
	char *s = skyx_pct_decode("a%41+b%2fc%4", 12, 0);
	ck_assert_str_eq(s, "aA+b/c%4");
	free(s);
	/* Form encoding: '+' is a space; a '%' at the end stays. */
	s = skyx_pct_decode("a+b%20c%", 8, SKYX_PCT_PLUS_SPACE);
	ck_assert_str_eq(s, "a b c%");
	free(s);
	/* Only n bytes are read. */
	s = skyx_pct_decode("%41%42", 3, 0);
	ck_assert_str_eq(s, "A");
	free(s);
}
END_TEST

START_TEST(base64_and_base32)
{
	size_t n = 0;
	char *e = skyx_base64_encode("hello!?", 7);
	ck_assert_str_eq(e, "aGVsbG8hPw==");
	/* Only the given length is decoded; url-safe and white space are
	 * fine. */
	unsigned char *d = skyx_base64_decode("aGVsbG8hPw==XXXX", 12, &n);
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(memcmp(d, "hello!?", 7), 0);
	free(d);
	d = skyx_base64_decode("aGVs\nbG8h_w", 11, &n);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(d[6], 0xff);
	free(d);
	ck_assert_ptr_null(skyx_base64_decode("a*b", 3, &n));
	free(e);
	d = skyx_base32_decode("jbsw y3dp-EE======", &n);
	ck_assert_int_eq(n, 6);
	ck_assert_int_eq(memcmp(d, "Hello!", 6), 0);
	free(d);
	ck_assert_ptr_null(skyx_base32_decode("JBSW1", &n));
	ck_assert_int_eq(skyx_hexval('F'), 15);
	ck_assert_int_eq(skyx_hexval('g'), -1);
}
END_TEST

START_TEST(html_escaping)
{
	skyx_buf b = {0};
	skyx_buf_html(&b, "<a href=\"x\">Tom & Jerry's</a>");
	skyx_buf_html(&b, NULL);
	ck_assert_str_eq(b.data, "&lt;a href=&quot;x&quot;&gt;Tom &amp; "
	                         "Jerry&#39;s&lt;/a&gt;");
	skyx_buf_free(&b);
}
END_TEST

/* AES-256-GCM: the GCM specification's test case 14 (zero key, zero
 * nonce, one zero block) read through the sealed-text format, then
 * round trips, and every way a sealed value must refuse to open. */
START_TEST(sealing_at_rest)
{
	unsigned char key[SKYX_SEAL_KEY_LEN] = {0}, key2[SKYX_SEAL_KEY_LEN];
	unsigned char raw[12 + 16 + 16] = {0};
	static const char c_hex[] = "cea7403d4d606b6e074ec5d3baf39d18"
	                            "d0d1c8a799996bf0265b98b5d48ab919";
	for (int i = 0; i < 32; i++)
		raw[12 + i] = (unsigned char)(skyx_hexval(c_hex[2 * i]) << 4 |
		                              skyx_hexval(c_hex[2 * i + 1]));
	char *b64 = skyx_base64_encode(raw, sizeof raw);
	char *kat = malloc(strlen(b64) + 5);
	sprintf(kat, "sk1:%s", b64);
	unsigned char *out = NULL;
	size_t n = 0;
	ck_assert_int_eq(skyx_unseal(key, kat, NULL, &out, &n), 0);
	ck_assert_uint_eq(n, 16);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(out[i], 0);
	free(out);
	free(b64);
	free(kat);

	ck_assert_int_eq(
	    skyx_seal_key_from_text("000102030405060708090a0b0c0d0e0f"
	                            "101112131415161718191a1b1c1d1e1f",
	                            key),
	    0);
	ck_assert_uint_eq(key[31], 0x1f);
	ck_assert_int_eq(
	    skyx_seal_key_from_text(
	        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", key2),
	    0);
	ck_assert_mem_eq(key, key2, sizeof key);
	ck_assert_int_eq(skyx_seal_key_from_text("", key2), -1);
	ck_assert_int_eq(skyx_seal_key_from_text("a passphrase", key2), 0);
	ck_assert_mem_ne(key, key2, sizeof key);

	char *a = skyx_seal(key, "hunter2", 7, "cred_1");
	char *b = skyx_seal(key, "hunter2", 7, "cred_1");
	ck_assert_ptr_nonnull(a);
	ck_assert(skyx_is_sealed(a));
	ck_assert_ptr_null(strstr(a, "hunter2"));
	ck_assert_str_ne(a, b); /* a fresh nonce each time */
	ck_assert_int_eq(skyx_unseal(key, a, "cred_1", &out, &n), 0);
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq((char *)out, "hunter2");
	free(out);
	ck_assert_int_eq(skyx_unseal(key2, a, "cred_1", &out, &n), -1);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(skyx_unseal(key, a, "cred_2", &out, &n), -1);
	ck_assert_int_eq(skyx_unseal(key, a, NULL, &out, &n), -1);
	a[10] = a[10] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(skyx_unseal(key, a, "cred_1", &out, &n), -1);
	ck_assert_int_eq(skyx_unseal(key, "hunter2", NULL, &out, &n), -1);
	ck_assert_int_eq(skyx_unseal(key, "sk1:AAAA", NULL, &out, &n), -1);
	free(a);
	free(b);

	char *empty = skyx_seal(key, "", 0, NULL);
	ck_assert_int_eq(skyx_unseal(key, empty, NULL, &out, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq((char *)out, "");
	free(out);
	free(empty);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kit");
	TCase *tc = tcase_create("otp");
	tcase_add_test(tc, rfc4226_appendix_d);
	tcase_add_test(tc, rfc6238_appendix_b);
	tcase_add_test(tc, bad_parameters_are_refused);
	tcase_add_test(tc, server_check_accepts_a_window_and_nothing_else);
	suite_add_tcase(s, tc);
	tc = tcase_create("codec");
	tcase_add_test(tc, percent_decoding);
	tcase_add_test(tc, base64_and_base32);
	tcase_add_test(tc, html_escaping);
	tcase_add_test(tc, sealing_at_rest);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
