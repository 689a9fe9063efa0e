/*
 * A run that names a credential (request extension `credential_id`, or a
 * login task): the model only ever sees placeholders such as
 * {{credential.password}} in the user details, and the real value is put
 * in their place inside the copy of the action handed to the browser
 * plugin (sky_agent_act). The values are fetched from the host when the
 * run starts (the vault, or a credentials provider plugin), held in
 * memory only, registered as secrets (logs, artifacts are redacted) and
 * masked in prompts and recorded results like verification codes.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "agent/agent.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/otp.h>
#include <skyx/str.h>
#include <skyx/time.h>

#define PREFIX "{{credential."

/* Fields that say what a credential is, not secrets: never typed, never
 * masked. */
static int is_meta(const char *k)
{
	static const char *const meta[] = {"credential_type", "totp_type",
	                                   "totp_identifier", "metadata",
	                                   "secret_label",    NULL};
	for (int i = 0; meta[i]; i++)
		if (!strcmp(k, meta[i]))
			return 1;
	return 0;
}

/* Values a page, a prompt or a record must never show: every field but
 * the meta ones and the username (Skyvern shows it too). */
static int is_secret(const char *k)
{
	return !is_meta(k) && strcmp(k, "username");
}

/* The field's value as typed (billing_address.city is "billing_address"
 * then "city"); NULL when the credential has none. */
static const char *field_value(const json_t *cred, const char *name, size_t len)
{
	const char *dot = memchr(name, '.', len);
	char key[64];
	size_t kl = dot ? (size_t)(dot - name) : len;
	if (kl == 0 || kl >= sizeof key)
		return NULL;
	memcpy(key, name, kl);
	key[kl] = '\0';
	if (is_meta(key) || !strcmp(key, "totp"))
		return NULL;
	json_t *v = json_object_get(cred, key);
	if (dot)
		return field_value(v, dot + 1, len - kl - 1);
	return json_string_value(v);
}

static void remember_secret(sky_run *r, const char *v)
{
	if (!v || strlen(v) < 4)
		return;
	sky_secret_register(v);
	if (!r->codes)
		r->codes = json_array();
	json_array_append_new(r->codes, json_string(v));
	if (!r->cred_secrets)
		r->cred_secrets = json_array();
	json_array_append_new(r->cred_secrets, json_string(v));
}

static void collect(sky_run *r, const json_t *obj, json_t *placeholders,
                    const char *prefix)
{
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)obj, k, v) {
		if (!prefix && is_meta(k))
			continue;
		char *path =
		    prefix ? skyx_asprintf("%s.%s", prefix, k) : skyx_strdup(k);
		if (json_is_object(v)) {
			json_t *sub = json_object();
			collect(r, v, sub, path);
			if (json_object_size(sub))
				json_object_set_new(placeholders, k, sub);
			else
				json_decref(sub);
		} else if (json_is_string(v) && *json_string_value(v)) {
			if (prefix || is_secret(k))
				remember_secret(r, json_string_value(v));
			/* A TOTP secret is never typed: its codes go through
			 * VERIFICATION_CODE. */
			if (prefix || strcmp(k, "totp"))
				json_object_set_new(
				    placeholders, k,
				    json_sprintf("{{credential.%s}}", path));
		}
		free(path);
	}
}

int sky_agent_credential_load(sky_run *r, char **why)
{
	json_t *notes = sky_json_loads(r->task->notes);
	const char *id = sky_json_str(notes, "credential_id");
	int rc = 0;
	*why = NULL;
	if (!id) {
		json_decref(notes);
		return 0;
	}
	if (!sky_agent_credential_fields(r, id, &r->cred, why)) {
		json_t *ph = json_object();
		collect(r, r->cred, ph, NULL);
		/* The user details the planner sees: placeholders only. */
		json_t *payload = json_is_object(r->payload)
		                      ? json_deep_copy(r->payload)
		                      : json_object();
		if (!json_is_object(r->payload) && !json_is_null(r->payload))
			json_object_set(payload, "details", r->payload);
		json_object_set_new(payload, "credential", ph);
		json_decref(r->payload);
		r->payload = payload;
		const char *totp = sky_json_str(r->cred, "totp");
		if (totp && *totp)
			r->totp_available = 1;
		sky_log_info("agent", "run %s: credential %s ready",
		             r->task->task_id, id);
	} else {
		rc = SKY_ENOTFOUND;
		if (!*why)
			*why =
			    skyx_asprintf("Credential %s cannot be used", id);
	}
	json_decref(notes);
	return rc;
}

/* Wipe every string of `v` before it is freed. */
static void wipe(json_t *v)
{
	const char *k;
	json_t *x;
	json_object_foreach (v, k, x) {
		if (json_is_object(x))
			wipe(x);
		else if (json_is_string(x))
			OPENSSL_cleanse((char *)json_string_value(x),
			                json_string_length(x));
	}
}

void sky_agent_credential_release(sky_run *r)
{
	size_t i;
	json_t *s;
	json_array_foreach (r->cred_secrets, i, s)
		sky_secret_unregister(json_string_value(s));
	json_decref(r->cred_secrets);
	r->cred_secrets = NULL;
	if (r->cred) {
		wipe(r->cred);
		json_decref(r->cred);
		r->cred = NULL;
	}
}

int sky_agent_credential_has_placeholder(const char *text)
{
	return text && strstr(text, PREFIX) != NULL;
}

char *sky_agent_credential_fill(const sky_run *r, const char *text, char **why)
{
	skyx_buf b = {0};
	const char *p = text;
	*why = NULL;
	while (*p) {
		const char *o = strstr(p, PREFIX);
		const char *c = o ? strstr(o, "}}") : NULL;
		if (!o || !c) {
			skyx_buf_puts(&b, p);
			break;
		}
		skyx_buf_append(&b, p, (size_t)(o - p));
		const char *name = o + strlen(PREFIX);
		const char *v =
		    r->cred ? field_value(r->cred, name, (size_t)(c - name))
		            : NULL;
		if (!v) {
			*why = skyx_asprintf(
			    "%.*s is not a field of this run's credential",
			    (int)(c + 2 - o > 80 ? 80 : c + 2 - o), o);
			if (b.data)
				OPENSSL_cleanse(b.data, b.len);
			skyx_buf_free(&b);
			return NULL;
		}
		skyx_buf_puts(&b, v);
		p = c + 2;
	}
	return skyx_buf_steal(&b);
}

char *sky_agent_credential_totp(const sky_run *r)
{
	const char *secret = sky_json_str(r->cred, "totp");
	char code[SKYX_OTP_CODE_MAX];
	skyx_otp_params p = SKYX_OTP_PARAMS_INIT;
	if (!secret || !*secret ||
	    skyx_otp_totp_base32(secret, &p, skyx_time_now_ms() / 1000, code))
		return NULL;
	return skyx_strdup(code);
}
