/*
 * Act: one browser action through the plugin, or one the engine handles
 * itself (wait, verification_code). Engine-level decisions (complete,
 * terminate, extract) are taken by the step loop, not here.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "agent/agent.h"
#include "plugin/loader.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

static json_t *failure(const char *kind, const char *msg)
{
	return json_pack("{s:b, s:s, s:s}", "success", 0, "error", kind,
	                 "message", msg);
}

/* A wait is a success (Skyvern makes it a failure, burning retries). */
static json_t *do_wait(sky_run *r, const json_t *a)
{
	double s = json_number_value(json_object_get(a, "seconds"));
	int cap = r->env->config->wait_max_s;
	if (s <= 0)
		s = 1;
	if (s > cap)
		s = cap;
	int64_t end = skyx_time_mono_ms() + (int64_t)(s * 1000);
	while (skyx_time_mono_ms() < end) {
		if (sky_agent_canceled(r))
			return failure("canceled", "the run was canceled");
		skyx_time_sleep_ms(50);
	}
	return json_pack("{s:b, s:f}", "success", 1, "waited_s", s);
}

/* A code the run used: registered as a secret (logs, artifacts) and
 * remembered so prompts and recorded results can be masked. */
static void remember_code(sky_run *r, const char *code)
{
	sky_secret_register(code);
	if (!r->codes)
		r->codes = json_array();
	json_array_append_new(r->codes, json_string(code));
}

char *sky_agent_mask_codes(const sky_run *r, const char *text)
{
	if (!text || !json_array_size(r->codes))
		return NULL;
	skyx_buf b = {0};
	const char *p = text;
	while (*p) {
		size_t i, best = 0;
		json_t *c;
		json_array_foreach (r->codes, i, c) {
			const char *s = json_string_value(c);
			size_t n = strlen(s);
			if (n > best && !strncmp(p, s, n))
				best = n;
		}
		if (best) {
			skyx_buf_puts(&b, "******");
			p += best;
		} else {
			skyx_buf_putc(&b, *p++);
		}
	}
	return skyx_buf_steal(&b);
}

/* The string `v` masked, or NULL when there is nothing to mask. */
static json_t *masked_string(const sky_run *r, const json_t *v)
{
	char *m = sky_agent_mask_codes(r, json_string_value(v));
	json_t *out = NULL;
	if (m && strcmp(m, json_string_value(v)))
		out = json_string(m);
	free(m);
	return out;
}

/* Every string value in `v`, with the run's codes masked (in place). */
static void scrub(const sky_run *r, json_t *v)
{
	const char *k;
	json_t *x, *m;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach (v, k, x) {
			if (!json_is_string(x))
				scrub(r, x);
			else if ((m = masked_string(r, x)))
				json_object_set_new(v, k, m);
		}
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, x) {
			if (!json_is_string(x))
				scrub(r, x);
			else if ((m = masked_string(r, x)))
				json_array_set_new(v, i, m);
		}
	}
}

char *sky_agent_mask_codes_json(const sky_run *r, const char *json_text)
{
	if (!json_text || !json_array_size(r->codes))
		return NULL;
	/* Only string values: a code's digits may also be a number in the
	 * structure, and masking that would break the JSON. */
	json_t *v = sky_json_loads(json_text);
	if (!v)
		return sky_agent_mask_codes(r, json_text);
	scrub(r, v);
	char *out = sky_json_dumps(v);
	json_decref(v);
	return out;
}

/*
 * A verification code from the run's sources, polled together until
 * agent.totp_wait_ms passes: a code pushed for the run's totp_identifier
 * (POST /v1/credentials/totp; the newest unused one, taken once, pushed
 * after the run was created), the TOTP provider's code for that
 * identifier (a stored secret), and the run's totp_url (with backoff,
 * 1 s doubling to 8 s). A push wakes the wait at once.
 */
static char *verification_code(sky_run *r, int *magic_link, char **why)
{
	const sky_agent_env *env = r->env;
	const sky_task_rec *t = r->task;
	const char *ident = t->totp_identifier;
	const sky_totp_provider *vt = ident ? env->totp : NULL;
	void *inst = env->totp_inst;
	char *last = NULL;
	*why = NULL;
	*magic_link = 0;
	/* The run's credential has an authenticator secret: its code. */
	char *cred_code = sky_agent_credential_totp(r);
	if (cred_code) {
		sky_log_info("agent",
		             "run %s: using the credential's authenticator "
		             "code",
		             t->task_id);
		return cred_code;
	}
	if (!ident && !t->totp_url) {
		*why = skyx_strdup("the page asks for a verification code and "
		                   "this run has no code source "
		                   "(totp_identifier or totp_url)");
		return NULL;
	}
	int64_t start = skyx_time_mono_ms();
	int64_t until = start + env->config->totp_wait_ms;
	int64_t next_url = start, delay = 1000;
	for (;;) {
		uint64_t seq = sky_agent_change_seq(r);
		if (ident) {
			sky_totp_rec *rec = NULL;
			if (sky_store_totp_take(env->store, t->organization_id,
			                        ident, t->task_id,
			                        t->created_at, &rec) == 0 &&
			    rec && rec->code && *rec->code) {
				char *c = skyx_strdup(rec->code);
				*magic_link =
				    skyx_str_eq(rec->otp_type, "magic_link");
				sky_log_info("agent",
				             "run %s: using pushed code "
				             "%s",
				             t->task_id, rec->totp_code_id);
				sky_totp_rec_free(rec);
				free(last);
				return c;
			}
			sky_totp_rec_free(rec);
		}
		if (vt) {
			char *c = NULL, *err = NULL;
			int rc = vt->get_code(
			    inst, ident, skyx_time_now_ms() / 1000, &c, &err);
			free(err);
			if (rc == 0 && c) {
				char *own = skyx_strdup(c);
				sky_secret_register(own);
				sky_plugin_free(c);
				free(last);
				return own;
			}
			sky_plugin_free(c);
		}
		int64_t now = skyx_time_mono_ms();
		if (t->totp_url && now >= next_url) {
			char *err = NULL;
			char *c = sky_agent__totp_url_try(r, &err);
			if (c) {
				free(err);
				free(last);
				return c;
			}
			free(last);
			last = err;
			now = skyx_time_mono_ms();
			next_url = now + delay;
			delay = delay < 8000 ? delay * 2 : 8000;
		}
		if (sky_agent_canceled(r) || now >= until)
			break;
		int64_t wait = until - now;
		if (wait > 1000)
			wait = 1000;
		if (t->totp_url && next_url - now < wait)
			wait = next_url - now;
		sky_agent_wait_change(r, seq, wait > 0 ? wait : 1);
	}
	*why = skyx_asprintf("no verification code arrived for this run within "
	                     "%d s%s%s",
	                     env->config->totp_wait_ms / 1000, last ? " (" : "",
	                     last ? last : "");
	if (last && *why) {
		char *full = skyx_asprintf("%s)", *why);
		free(*why);
		*why = full;
	}
	free(last);
	return NULL;
}

/* The pushed content was a sign-in link: open it in the run's tab. */
static json_t *open_magic_link(sky_run *r, const char *link)
{
	char opts[96], *text = NULL, *err = NULL;
	snprintf(opts, sizeof opts, "{\"timeout_ms\":%d,\"retries\":1}",
	         r->env->config->navigate_timeout_ms);
	int rc = r->bvt->navigate(r->ctx, link, opts, &text, &err);
	free(text);
	json_t *res =
	    rc ? failure("navigation_failed", err ? err : sky_strerror(rc))
	       : json_pack("{s:b, s:s}", "success", 1, "opened", "magic_link");
	free(err);
	return res;
}

typedef int (*act_fn)(void *context, const char *action_json,
                      char **result_json, char **err);

static int plugin_call(sky_run *r, act_fn fn, const json_t *action,
                       json_t **result)
{
	char *text = NULL, *err = NULL;
	char *aj = sky_json_dumps(action);
	int rc = fn(r->ctx, aj, &text, &err);
	free(aj);
	if (rc) {
		*result =
		    failure("browser_error", err ? err : sky_strerror(rc));
		free(err);
		free(text);
		return rc;
	}
	free(err);
	*result = sky_json_loads(text);
	free(text);
	if (!json_is_object(*result)) {
		json_decref(*result);
		*result = failure("browser_error",
		                  "the browser plugin returned no result");
	}
	return 0;
}

/* Every page read of the agent settles first, and the settle waits for
 * a load: an action that starts a navigation returns at its commit
 * (docs/internals.md section 3). */
static int plugin_act(sky_run *r, const json_t *action, json_t **result)
{
	json_t *a = json_copy((json_t *)action);
	if (!a)
		return plugin_call(r, r->bvt->act, action, result);
	json_object_set_new(a, "navigation_wait", json_string("commit"));
	int rc = plugin_call(r, r->bvt->act, a, result);
	json_decref(a);
	return rc;
}

/* drag has its own, optional callback (ABI 1.1): a plugin without it
 * cannot drag, which the planner learns from the result. */
static int plugin_drag(sky_run *r, const json_t *action, json_t **result)
{
	if (!r->bvt->drag) {
		char *msg =
		    skyx_asprintf("the browser plugin \"%s\" cannot drag "
		                  "(it has no drag callback)",
		                  r->bvt->name ? r->bvt->name : "?");
		*result = failure("unsupported", msg ? msg : "cannot drag");
		free(msg);
		return 0;
	}
	return plugin_call(r, r->bvt->drag, action, result);
}

/* upload_file: the planner validated that the file is named in the goal
 * or payload; here it must exist on this machine. */
static json_t *prepare_upload(json_t *a)
{
	const char *path = sky_json_str(a, "file_path");
	if (!path)
		path = sky_json_str(a, "file_url");
	if (path && skyx_str_startswith(path, "file://"))
		path += 7;
	struct stat st;
	if (!path || stat(path, &st) || !S_ISREG(st.st_mode)) {
		char *msg = skyx_asprintf("file %s does not exist on this "
		                          "machine",
		                          path ? path : "(none)");
		json_t *f = failure("file_not_found", msg ? msg : "");
		free(msg);
		return f;
	}
	json_object_set_new(a, "file_path", json_string(path));
	return NULL;
}

static void record_download(sky_run *r, const json_t *result)
{
	json_t *d = json_object_get(result, "download");
	const char *path = sky_json_str(d, "path");
	const char *root = sky_agent_root(r->env);
	if (!path || !skyx_str_startswith(path, root))
		return;
	const char *rel = path + strlen(root);
	while (*rel == '/')
		rel++;
	size_t i;
	json_t *seen;
	json_array_foreach (r->downloads, i, seen)
		if (skyx_str_eq(json_string_value(seen), rel))
			return;
	json_array_append_new(r->downloads, json_string(rel));
	sky_store_artifact_add(
	    r->env->store, r->task->task_id, r->step ? r->step->step_id : NULL,
	    SKY_ARTIFACT_DOWNLOAD, rel, sky_json_int(d, "size", 0),
	    sky_json_str(d, "sha256"), NULL);
}

int sky_agent_act(sky_run *r, const json_t *action, const sky_obs *o,
                  json_t **result)
{
	const char *type = sky_json_str(action, "action_type");
	json_t *a = json_deep_copy(action);
	int rc = 0;
	(void)o;
	*result = NULL;
	if (!type || !a) {
		json_decref(a);
		*result = failure("invalid_action", "action without a type");
		return 0;
	}
	if (!strcmp(type, "wait")) {
		*result = do_wait(r, a);
	} else if (!strcmp(type, "verification_code")) {
		char *why = NULL;
		int magic = 0;
		char *code = verification_code(r, &magic, &why);
		if (!code) {
			*result = failure("no_verification_code", why);
		} else if (magic) {
			remember_code(r, code);
			*result = open_magic_link(r, code);
			free(code);
		} else {
			remember_code(r, code);
			json_object_set_new(a, "action_type",
			                    json_string("input_text"));
			json_object_set_new(a, "text", json_string(code));
			rc = plugin_act(r, a, result);
			/* Never keep the code in what is recorded: the typed
			 * value, or a mismatch message quoting it. */
			json_object_del(*result, "value");
			free(code);
		}
		scrub(r, *result);
		free(why);
	} else if (!strcmp(type, "upload_file") &&
	           (*result = prepare_upload(a))) {
		/* file missing: result already set */
	} else if (!strcmp(type, "input_text") &&
	           sky_agent_credential_has_placeholder(
	               sky_json_str(a, "text"))) {
		/* The placeholder becomes the value in the plugin's copy
		 * only: the action recorded keeps the placeholder. */
		char *why = NULL;
		char *text =
		    sky_agent_credential_fill(r, sky_json_str(a, "text"), &why);
		if (!text) {
			*result = failure("unknown_credential_field", why);
		} else {
			json_object_set_new(a, "text", json_string(text));
			OPENSSL_cleanse(text, strlen(text));
			free(text);
			rc = plugin_act(r, a, result);
			json_object_del(*result, "value");
			scrub(r, *result);
			/* Wipe the copy's value before it is freed. */
			json_t *tv = json_object_get(a, "text");
			OPENSSL_cleanse((char *)json_string_value(tv),
			                json_string_length(tv));
		}
		free(why);
	} else if (!strcmp(type, "drag")) {
		rc = plugin_drag(r, a, result);
	} else {
		rc = plugin_act(r, a, result);
		if (json_is_true(json_object_get(*result, "success")))
			record_download(r, *result);
	}
	json_decref(a);
	return rc;
}
