/* Unit tests: util/otp (RFC 4226/6238 vectors, server-side checking, and
 * finding the code or magic link in pushed SMS / e-mail content). */
#include <skyengine.h>
#include <stdio.h>
#include <string.h>

#include "skytest.h"
#include "util/otp.h"
#include "util/str.h"

#define KEY20 "12345678901234567890"
#define KEY32 KEY20 "123456789012"
#define KEY64 KEY20 KEY20 KEY20 "1234"
#define KEY20_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

START_TEST(rfc4226_appendix_d)
{
	static const char *want[] = {"755224", "287082", "359152", "969429",
	                             "338314", "254676", "287922", "162583",
	                             "399871", "520489"};
	char out[SKY_OTP_CODE_MAX];
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(
		    sky_otp_hotp(KEY20, 20, SKY_OTP_SHA1, (uint64_t)i, 6, out),
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
		sky_otp_algo algo;
		const char *key;
		size_t len;
	} k[3] = {{SKY_OTP_SHA1, KEY20, 20},
	          {SKY_OTP_SHA256, KEY32, 32},
	          {SKY_OTP_SHA512, KEY64, 64}};
	char out[SKY_OTP_CODE_MAX];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		for (int a = 0; a < 3; a++) {
			sky_otp_params p = {k[a].algo, 8, 30};
			ck_assert_int_eq(
			    sky_otp_totp(k[a].key, k[a].len, &p, v[i].t, out),
			    0);
			ck_assert_msg(!strcmp(out, v[i].code[a]),
			              "%s t=%lld: %s != %s",
			              sky_otp_algo_name(k[a].algo),
			              (long long)v[i].t, out, v[i].code[a]);
		}
	}
	/* 6 and 7 digits are the low digits of the same number. */
	sky_otp_params p6 = {SKY_OTP_SHA1, 6, 30}, p7 = {SKY_OTP_SHA1, 7, 30};
	ck_assert_int_eq(sky_otp_totp(KEY20, 20, &p6, 59, out), 0);
	ck_assert_str_eq(out, "287082");
	ck_assert_int_eq(sky_otp_totp_base32(KEY20_B32, &p7, 59, out), 0);
	ck_assert_str_eq(out, "4287082");
}
END_TEST

START_TEST(bad_parameters_are_refused)
{
	char out[SKY_OTP_CODE_MAX];
	sky_otp_params p = SKY_OTP_PARAMS_INIT;
	sky_otp_algo a;
	ck_assert_int_eq(sky_otp_algo_parse("sha-256", &a), 0);
	ck_assert_int_eq(a, SKY_OTP_SHA256);
	ck_assert_int_eq(sky_otp_algo_parse("MD5", &a), SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "MD5"));
	ck_assert_int_eq(sky_otp_hotp(KEY20, 20, SKY_OTP_SHA1, 0, 5, out),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_otp_hotp(KEY20, 0, SKY_OTP_SHA1, 0, 6, out),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_otp_totp(KEY20, 20, &p, -1, out), SKY_EINVALID);
	p.period = 0;
	ck_assert_int_eq(sky_otp_totp(KEY20, 20, &p, 59, out), SKY_EINVALID);
	p.period = 30;
	p.digits = 9;
	ck_assert_int_eq(sky_otp_totp(KEY20, 20, &p, 59, out), SKY_EINVALID);
	p.digits = 6;
	ck_assert_int_eq(sky_otp_totp_base32("not base32!", &p, 59, out),
	                 SKY_EINVALID);
	ck_assert_ptr_null(strstr(sky_error_last(), "not base32!"));
	ck_assert_int_eq(sky_otp_totp_base32("", &p, 59, out), SKY_EINVALID);
	ck_assert_int_eq(sky_otp_totp_base32(NULL, &p, 59, out), SKY_EINVALID);
}
END_TEST

START_TEST(server_check_accepts_a_window_and_nothing_else)
{
	sky_otp_params p = SKY_OTP_PARAMS_INIT;
	char now[SKY_OTP_CODE_MAX], prev[SKY_OTP_CODE_MAX],
	    old[SKY_OTP_CODE_MAX];
	int64_t t = 1700000015, step = 0;
	ck_assert_int_eq(sky_otp_totp_base32(KEY20_B32, &p, t, now), 0);
	ck_assert_int_eq(sky_otp_totp_base32(KEY20_B32, &p, t - 30, prev), 0);
	ck_assert_int_eq(sky_otp_totp_base32(KEY20_B32, &p, t - 60, old), 0);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 1, now, &step),
	                 1);
	ck_assert_int_eq(step, t / 30);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 1, prev, &step),
	                 1);
	ck_assert_int_eq(step, t / 30 - 1);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 1, old, NULL), 0);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 0, prev, NULL),
	                 0);
	/* Near misses: other lengths, other characters. */
	char shorter[SKY_OTP_CODE_MAX];
	snprintf(shorter, sizeof shorter, "%.5s", now);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 1, shorter, NULL),
	                 0);
	char longer[16];
	snprintf(longer, sizeof longer, "%s0", now);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 1, longer, NULL),
	                 0);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 1, "", NULL), 0);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 1, NULL, NULL),
	                 0);
	ck_assert_int_eq(sky_otp_totp_check("!!", &p, t, 1, now, NULL),
	                 SKY_EINVALID);
	ck_assert_int_eq(sky_otp_totp_check(KEY20_B32, &p, t, 11, now, NULL),
	                 SKY_EINVALID);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("otp");
	TCase *tc = tcase_create("rfc");
	tcase_add_test(tc, rfc4226_appendix_d);
	tcase_add_test(tc, rfc6238_appendix_b);
	tcase_add_test(tc, bad_parameters_are_refused);
	tcase_add_test(tc, server_check_accepts_a_window_and_nothing_else);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
