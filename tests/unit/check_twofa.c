/* Unit tests: the two-step verification fixture site (tests/support/
 * twofa.c) over plain HTTP, with codes computed in the test. */
#include <skyengine.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "proxy.h"
#include "skytest.h"
#include "twofa.h"
#include <skyx/str.h>

#define SECRET "JBSWY3DPEHPK3PXP"
#define T0 1700000015 /* the middle of a 30 s step */

static skytest_twofa *site;
static skytest_httpd *web;

static void setup(void)
{
	site = skytest_twofa_new("chris", "hunter2-long", SECRET);
	ck_assert_ptr_nonnull(site);
	web = skytest_httpd_start(skytest_twofa_handler, site);
	ck_assert_ptr_nonnull(web);
}

static void teardown(void)
{
	skytest_httpd_stop(web);
	skytest_twofa_free(site);
}

/* One request; `cookie` and `form` may be NULL. */
static char *http(const char *method, const char *path, const char *cookie,
                  const char *form)
{
	char *req = skyx_asprintf(
	    "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
	    "%s%s%s"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\n%s",
	    method, path, cookie ? "Cookie: " : "", cookie ? cookie : "",
	    cookie ? "\r\n" : "", form ? strlen(form) : 0, form ? form : "");
	char *r = skytest_raw_request(skytest_httpd_port(web), req, 10000);
	free(req);
	ck_assert_msg(r != NULL, "%s %s: no answer", method, path);
	return r;
}

static void assert_redirect(char *r, const char *to)
{
	ck_assert_int_eq(skytest_raw_status(r), 303);
	char *loc = skytest_raw_header(r, "location");
	ck_assert_str_eq(loc, to);
	free(loc);
	free(r);
}

static void assert_page(char *r, const char *needle)
{
	ck_assert_int_eq(skytest_raw_status(r), 200);
	ck_assert_msg(strstr(skytest_raw_body(r), needle), "page lacks '%s'",
	              needle);
	free(r);
}

/* Log in; returns the session cookie "twofa_sid=..." (malloc'd). */
static char *login(void)
{
	char *r = http("POST", "/login", NULL,
	               "username=chris&password=hunter2-long");
	ck_assert_int_eq(skytest_raw_status(r), 303);
	char *set = skytest_raw_header(r, "set-cookie");
	ck_assert_ptr_nonnull(set);
	char *cookie = skyx_strndup(set, strcspn(set, ";"));
	free(set);
	assert_redirect(r, "/verify");
	return cookie;
}

static char *code_at(int64_t t, const skyx_otp_params *p)
{
	static char out[SKYX_OTP_CODE_MAX];
	skyx_otp_params def = SKYX_OTP_PARAMS_INIT;
	ck_assert_int_eq(skyx_otp_totp_base32(SECRET, p ? p : &def, t, out), 0);
	return out;
}

static char *code_form(const char *code)
{
	static char form[64];
	snprintf(form, sizeof form, "code=%s", code);
	return form;
}

START_TEST(login_then_code_then_account)
{
	assert_page(http("GET", "/", NULL, NULL), "name=\"username\"");
	assert_page(
	    http("POST", "/login", NULL, "username=chris&password=wrong"),
	    "Incorrect username or password.");
	/* Nothing behind the login without a session. */
	assert_redirect(http("GET", "/verify", NULL, NULL), "/");
	assert_redirect(http("GET", "/account", NULL, NULL), "/");

	char *cookie = login();
	assert_page(http("GET", "/verify", cookie, NULL),
	            "autocomplete=\"one-time-code\"");
	/* Password alone is not enough. */
	assert_redirect(http("GET", "/account", cookie, NULL), "/");
	assert_page(http("POST", "/verify", cookie, "code=000000"),
	            "That code is not valid.");
	assert_page(http("POST", "/verify", cookie, "code=12ab56"),
	            "That code is not valid.");
	skytest_twofa_stats st;
	skytest_twofa_stats_get(site, &st);
	ck_assert_int_eq(st.verified, 0);

	/* The real clock; the server's window covers a step change
	 * between here and there. */
	char *good = code_at((int64_t)time(NULL), NULL);
	assert_redirect(http("POST", "/verify", cookie, code_form(good)),
	                "/account");
	assert_page(http("GET", "/account", cookie, NULL),
	            "You are signed in to Acme Portal");
	skytest_twofa_stats_get(site, &st);
	ck_assert_int_eq(st.logins_ok, 1);
	ck_assert_int_eq(st.logins_failed, 1);
	ck_assert_int_eq(st.codes_failed, 2);
	ck_assert_int_eq(st.codes_ok, 1);
	ck_assert_int_eq(st.account_views, 1);
	ck_assert_int_eq(st.verified, 1);
	free(cookie);
}
END_TEST

START_TEST(window_single_use_and_spaces)
{
	skytest_twofa_set_clock(site, T0);
	char now[SKYX_OTP_CODE_MAX];
	ck_assert_int_eq(skytest_twofa_code_now(site, now), 0);
	ck_assert_str_eq(now, code_at(T0, NULL));

	/* Two steps old: refused. One step old: accepted (delay). */
	char *a = login();
	assert_page(
	    http("POST", "/verify", a, code_form(code_at(T0 - 60, NULL))),
	    "not valid");
	assert_redirect(
	    http("POST", "/verify", a, code_form(code_at(T0 - 30, NULL))),
	    "/account");
	/* The current code, typed as "123 456", in a new session. */
	char *b = login();
	char spaced[16], *c = code_at(T0, NULL);
	snprintf(spaced, sizeof spaced, "%.3s+%s", c, c + 3);
	assert_redirect(http("POST", "/verify", b, code_form(spaced)),
	                "/account");
	/* Used once: a third session cannot reuse it, nor the older one. */
	char *d = login();
	assert_page(http("POST", "/verify", d, code_form(code_at(T0, NULL))),
	            "already used");
	assert_page(
	    http("POST", "/verify", d, code_form(code_at(T0 - 30, NULL))),
	    "already used");
	/* The next step brings a fresh code. */
	skytest_twofa_set_clock(site, T0 + 30);
	assert_redirect(
	    http("POST", "/verify", d, code_form(code_at(T0 + 30, NULL))),
	    "/account");
	skytest_twofa_stats st;
	skytest_twofa_stats_get(site, &st);
	ck_assert_int_eq(st.codes_ok, 3);
	ck_assert_int_eq(st.codes_replayed, 2);
	ck_assert_int_eq(st.codes_failed, 1);
	/* Reuse allowed when asked for. */
	skytest_twofa_set_single_use(site, 0);
	char *e = login();
	assert_redirect(
	    http("POST", "/verify", e, code_form(code_at(T0 + 30, NULL))),
	    "/account");
	free(a);
	free(b);
	free(d);
	free(e);
}
END_TEST

START_TEST(other_algorithms_and_bad_setup)
{
	skyx_otp_params p = {SKYX_OTP_SHA512, 8, 60};
	ck_assert_int_eq(skytest_twofa_set_params(site, &p), 0);
	skytest_twofa_set_clock(site, T0);
	char *cookie = login();
	/* A SHA-1 6-digit code is wrong for this site. */
	assert_page(
	    http("POST", "/verify", cookie, code_form(code_at(T0, NULL))),
	    "not valid");
	assert_redirect(
	    http("POST", "/verify", cookie, code_form(code_at(T0, &p))),
	    "/account");
	free(cookie);
	skyx_otp_params bad = {SKYX_OTP_SHA1, 9, 30};
	ck_assert_int_eq(skytest_twofa_set_params(site, &bad), SKY_EINVALID);
	ck_assert_ptr_null(skytest_twofa_new("u", "p", "not base32!"));
	ck_assert_ptr_null(skytest_twofa_new(NULL, "p", SECRET));
	/* A forged cookie is no session. */
	assert_redirect(http("POST", "/verify", "twofa_sid=forged", "code=1"),
	                "/");
	char *r = http("GET", "/nope", NULL, NULL);
	ck_assert_int_eq(skytest_raw_status(r), 404);
	free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("twofa");
	TCase *tc = tcase_create("site");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, login_then_code_then_account);
	tcase_add_test(tc, window_single_use_and_spaces);
	tcase_add_test(tc, other_algorithms_and_bad_setup);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
