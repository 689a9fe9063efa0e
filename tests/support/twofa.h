/*
 * A fixture site with a password login followed by a two-step
 * verification page whose server checks the submitted code with RFC 6238
 * (the kit's skyx/otp.h) against a known secret, and records what happened. Pages
 * are the HTML files in tests/pages/twofa/. Serve it with
 *     skytest_httpd_start(skytest_twofa_handler, twofa)
 *
 * Routes:
 *   GET  /          the login form (also /login)
 *   POST /login     username + password: 303 to /verify with a pending
 *                   session cookie, or the form again with an error
 *   GET  /verify    the code form (pending session, else 303 to /)
 *   POST /verify    code: 303 to /account and the session is verified,
 *                   or the form again with an error
 *   GET  /account   the signed-in page (verified session, else 303 to /)
 * Codes are accepted for the current time step and one step either side;
 * spaces in a submitted code are ignored. By default a code is single use
 * (RFC 6238 §5.2): a step at or before the last accepted one is refused.
 */
#ifndef SKYTEST_TWOFA_H
#define SKYTEST_TWOFA_H

#include <stdint.h>

#include "httpd.h"
#include <skyx/otp.h>

typedef struct skytest_twofa skytest_twofa;

typedef struct skytest_twofa_stats {
	int logins_ok;
	int logins_failed;
	int codes_ok;
	int codes_failed;   /* wrong, malformed or outside the window */
	int codes_replayed; /* right code, but its step was already used */
	int account_views;  /* GET /account by a verified session */
	int verified;       /* 1 once a session passed login and 2FA */
} skytest_twofa_stats;

/* A site for one user. The secret is base32; NULL on bad input. */
skytest_twofa *skytest_twofa_new(const char *username, const char *password,
                                 const char *secret_base32);
void skytest_twofa_free(skytest_twofa *t);

/* Algorithm, digits and period (default SHA-1, 6, 30). 0 or SKY_EINVALID. */
int skytest_twofa_set_params(skytest_twofa *t, const skyx_otp_params *p);
/* A fixed server clock in unix seconds; 0 returns to the real clock. */
void skytest_twofa_set_clock(skytest_twofa *t, int64_t unix_time);
/* 0 lets a code be used again within its window. */
void skytest_twofa_set_single_use(skytest_twofa *t, int on);

/* The httpd handler; `userdata` is the skytest_twofa. Thread-safe. */
void skytest_twofa_handler(const skytest_req *req, skytest_resp *resp,
                           void *userdata);

void skytest_twofa_stats_get(skytest_twofa *t, skytest_twofa_stats *out);

/* The code the server expects at its current clock. 0 or -1. */
int skytest_twofa_code_now(skytest_twofa *t, char out[SKYX_OTP_CODE_MAX]);

#endif
