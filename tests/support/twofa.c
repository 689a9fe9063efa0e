/* The two-step verification fixture site (see twofa.h). */
#include "twofa.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skyengine/errors.h>

#include "util/hash.h"
#include <skyx/str.h>

#define PAGES SKY_SOURCE_DIR "/tests/pages/twofa"
#define COOKIE "twofa_sid"
#define MAX_SESSIONS 64
#define WINDOW 1

struct session {
	char sid[33];
	int verified;
};

struct skytest_twofa {
	char *username;
	char *password;
	char *secret;
	skyx_otp_params params;
	int64_t clock; /* 0: real time */
	int single_use;
	int64_t last_step; /* last accepted time step, -1 none */
	pthread_mutex_t lock;
	struct session sessions[MAX_SESSIONS];
	size_t n_sessions;
	skytest_twofa_stats stats;
};

skytest_twofa *skytest_twofa_new(const char *username, const char *password,
                                 const char *secret_base32)
{
	char probe[SKYX_OTP_CODE_MAX];
	skyx_otp_params p = SKYX_OTP_PARAMS_INIT;
	if (!username || !password ||
	    skyx_otp_totp_base32(secret_base32, &p, 0, probe))
		return NULL;
	skytest_twofa *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->username = skyx_strdup(username);
	t->password = skyx_strdup(password);
	t->secret = skyx_strdup(secret_base32);
	t->params = p;
	t->single_use = 1;
	t->last_step = -1;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void skytest_twofa_free(skytest_twofa *t)
{
	if (!t)
		return;
	free(t->username);
	free(t->password);
	free(t->secret);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int skytest_twofa_set_params(skytest_twofa *t, const skyx_otp_params *p)
{
	char probe[SKYX_OTP_CODE_MAX];
	if (skyx_otp_totp_base32(t->secret, p, 0, probe))
		return SKY_EINVALID;
	pthread_mutex_lock(&t->lock);
	t->params = *p;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void skytest_twofa_set_clock(skytest_twofa *t, int64_t unix_time)
{
	pthread_mutex_lock(&t->lock);
	t->clock = unix_time;
	pthread_mutex_unlock(&t->lock);
}

void skytest_twofa_set_single_use(skytest_twofa *t, int on)
{
	pthread_mutex_lock(&t->lock);
	t->single_use = on;
	pthread_mutex_unlock(&t->lock);
}

static int64_t now_locked(const skytest_twofa *t)
{
	return t->clock ? t->clock : (int64_t)time(NULL);
}

int skytest_twofa_code_now(skytest_twofa *t, char out[SKYX_OTP_CODE_MAX])
{
	pthread_mutex_lock(&t->lock);
	int rc =
	    skyx_otp_totp_base32(t->secret, &t->params, now_locked(t), out);
	pthread_mutex_unlock(&t->lock);
	return rc ? -1 : 0;
}

void skytest_twofa_stats_get(skytest_twofa *t, skytest_twofa_stats *out)
{
	pthread_mutex_lock(&t->lock);
	*out = t->stats;
	pthread_mutex_unlock(&t->lock);
}

/* The session named by the request's cookie, or NULL. Under the lock. */
static struct session *session_of(skytest_twofa *t, const skytest_req *req)
{
	const char *c = skytest_req_header(req, "cookie");
	const char *v = c ? strstr(c, COOKIE "=") : NULL;
	if (!v)
		return NULL;
	v += strlen(COOKIE "=");
	size_t n = strcspn(v, "; ");
	for (size_t i = 0; i < t->n_sessions; i++)
		if (strlen(t->sessions[i].sid) == n &&
		    !strncmp(t->sessions[i].sid, v, n))
			return &t->sessions[i];
	return NULL;
}

/* A urlencoded form field, malloc'd, or NULL. */
static char *form_field(const skytest_req *req, const char *name)
{
	skytest_req as_query = *req;
	as_query.query = req->body;
	return skytest_req_query(&as_query, name);
}

static void redirect(skytest_resp *resp, const char *to)
{
	skytest_resp_text(resp, 303, "text/plain", "");
	skytest_resp_header(resp, "Location", to);
}

/* Serve a page with its <!--error--> marker replaced. */
static void page(skytest_resp *resp, const char *file, int status,
                 const char *error)
{
	if (!skytest_resp_file(resp, PAGES, file)) {
		skytest_resp_text(resp, 500, "text/plain", "page missing\n");
		return;
	}
	resp->status = status;
	char *mark = strstr(resp->body, "<!--error-->");
	if (!mark)
		return;
	char *html =
	    skyx_asprintf("%.*s%s%s%s%s", (int)(mark - resp->body), resp->body,
	                  error ? "<p class=\"error\" role=\"alert\">" : "",
	                  error ? error : "", error ? "</p>" : "",
	                  mark + strlen("<!--error-->"));
	free(resp->body);
	resp->body = html;
	resp->body_len = strlen(html);
}

static void post_login(skytest_twofa *t, const skytest_req *req,
                       skytest_resp *resp)
{
	char *user = form_field(req, "username");
	char *pass = form_field(req, "password");
	int ok =
	    user && pass && !strcmp(user, t->username) &&
	    skyx_ct_equal(pass, strlen(pass), t->password, strlen(t->password));
	free(user);
	free(pass);
	pthread_mutex_lock(&t->lock);
	if (!ok || t->n_sessions == MAX_SESSIONS) {
		t->stats.logins_failed++;
		pthread_mutex_unlock(&t->lock);
		page(resp, "login.html", 200,
		     "Incorrect username or password.");
		return;
	}
	t->stats.logins_ok++;
	struct session *s = &t->sessions[t->n_sessions++];
	char *sid = skyx_random_hex(16);
	snprintf(s->sid, sizeof s->sid, "%s", sid ? sid : "0");
	s->verified = 0;
	char *cookie = skyx_asprintf(COOKIE "=%s; Path=/; HttpOnly", s->sid);
	pthread_mutex_unlock(&t->lock);
	redirect(resp, "/verify");
	skytest_resp_header(resp, "Set-Cookie", cookie);
	free(cookie);
	free(sid);
}

/* The submitted code without spaces, if it is only digits. */
static char *clean_code(const char *in)
{
	char *out = in ? malloc(strlen(in) + 1) : NULL, *o = out;
	if (!out)
		return NULL;
	for (const char *p = in; *p; p++) {
		if (*p == ' ')
			continue;
		if (!isdigit((unsigned char)*p)) {
			free(out);
			return NULL;
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

static void post_verify(skytest_twofa *t, const skytest_req *req,
                        skytest_resp *resp)
{
	char *raw = form_field(req, "code");
	char *code = clean_code(raw);
	const char *error = NULL;
	int64_t step = -1;
	free(raw);
	pthread_mutex_lock(&t->lock);
	struct session *s = session_of(t, req);
	if (!s) {
		pthread_mutex_unlock(&t->lock);
		free(code);
		redirect(resp, "/");
		return;
	}
	int match =
	    code ? skyx_otp_totp_check(t->secret, &t->params, now_locked(t),
	                               WINDOW, code, &step)
	         : 0;
	if (match == 1 && t->single_use && step <= t->last_step) {
		t->stats.codes_replayed++;
		error = "That code was already used. Wait for a new one.";
	} else if (match == 1) {
		t->stats.codes_ok++;
		t->stats.verified = 1;
		t->last_step = step;
		s->verified = 1;
	} else {
		t->stats.codes_failed++;
		error = "That code is not valid. Try again.";
	}
	pthread_mutex_unlock(&t->lock);
	free(code);
	if (error)
		page(resp, "verify.html", 200, error);
	else
		redirect(resp, "/account");
}

void skytest_twofa_handler(const skytest_req *req, skytest_resp *resp,
                           void *userdata)
{
	skytest_twofa *t = userdata;
	int post = !strcmp(req->method, "POST");
	if (post && !strcmp(req->path, "/login")) {
		post_login(t, req, resp);
	} else if (post && !strcmp(req->path, "/verify")) {
		post_verify(t, req, resp);
	} else if (!strcmp(req->path, "/") || !strcmp(req->path, "/login")) {
		page(resp, "login.html", 200, NULL);
	} else if (!strcmp(req->path, "/verify") ||
	           !strcmp(req->path, "/account")) {
		int account = !strcmp(req->path, "/account");
		pthread_mutex_lock(&t->lock);
		struct session *s = session_of(t, req);
		int allowed = s && (!account || s->verified);
		if (allowed && account)
			t->stats.account_views++;
		pthread_mutex_unlock(&t->lock);
		if (!allowed)
			redirect(resp, "/");
		else
			page(resp, account ? "account.html" : "verify.html",
			     200, NULL);
	} else {
		skytest_resp_text(resp, 404, "text/plain", "not found\n");
	}
}
