/*
 * Act: one browser action through the plugin, or one the engine handles
 * itself (wait, verification_code). Engine-level decisions (complete,
 * terminate, extract) are taken by the step loop, not here.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/agent.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"
#include "util/time.h"

static json_t *failure(const char *kind, const char *msg)
{
	return json_pack("{s:b, s:s, s:s}", "success", 0, "error", kind,
	                 "message", msg);
}

/* A wait is a success (Skyvern makes it a failure, burning retries). */
static json_t *do_wait(sky_run *r, const json_t *a)
{
	double s = json_number_value(json_object_get(a, "seconds"));
	int cap = r->e->agent.wait_max_s;
	if (s <= 0)
		s = 1;
	if (s > cap)
		s = cap;
	int64_t end = sky_time_mono_ms() + (int64_t)(s * 1000);
	while (sky_time_mono_ms() < end) {
		if (sky_agent_cancelled(r))
			return failure("canceled", "the run was canceled");
		sky_time_sleep_ms(50);
	}
	return json_pack("{s:b, s:f}", "success", 1, "waited_s", s);
}

/*
 * A verification code from the run's sources, newest first: a code pushed
 * for the run's totp_identifier (POST /v1/credentials/totp), then a TOTP
 * provider (a stored secret). The code is registered as a secret at once
 * so it never reaches a log, a prompt or an artifact.
 */
static char *verification_code(sky_run *r, char **why)
{
	const sky_task_rec *t = r->task;
	const char *ident = t->totp_identifier;
	*why = NULL;
	if (ident) {
		sky_totp_rec *code = NULL;
		int64_t wait_until = sky_time_mono_ms() +
		                     r->e->agent.totp_wait_ms;
		do {
			if (sky_store_totp_take(r->e->store, t->organization_id,
			                        ident, t->task_id, t->created_at,
			                        &code) == 0 &&
			    code && code->code && *code->code) {
				char *c = sky_strdup(code->code);
				sky_totp_rec_free(code);
				sky_secret_register(c);
				return c;
			}
			sky_totp_rec_free(code);
			code = NULL;
			const sky_totp_provider *vt = NULL;
			void *inst = NULL;
			if (sky__engine_totp(r->e, &vt, &inst) == 0 && vt) {
				char *c = NULL, *err = NULL;
				int rc = vt->get_code(inst, ident,
				                      sky_time_now_ms() / 1000, &c,
				                      &err);
				free(err);
				if (rc == 0 && c) {
					sky_secret_register(c);
					return c;
				}
				free(c);
			}
			if (sky_agent_cancelled(r))
				break;
			sky_time_sleep_ms(250);
		} while (sky_time_mono_ms() < wait_until);
	}
	if (t->totp_url) {
		char *c = sky__totp_url_fetch(r->e, t, why);
		if (c) {
			sky_secret_register(c);
			return c;
		}
	}
	if (!*why)
		*why = sky_strdup(ident || t->totp_url
		                          ? "no verification code arrived for "
		                            "this run in time"
		                          : "the page asks for a verification "
		                            "code and this run has no code "
		                            "source (totp_identifier or "
		                            "totp_url)");
	return NULL;
}

static int plugin_act(sky_run *r, const json_t *action, json_t **result)
{
	char *text = NULL, *err = NULL;
	char *aj = sky_json_dumps(action);
	int rc = r->bvt->act(r->ctx, aj, &text, &err);
	free(aj);
	if (rc) {
		*result = failure("browser_error", err ? err
		                                       : sky_strerror(rc));
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

/* upload_file: the planner validated that the file is named in the goal
 * or payload; here it must exist on this machine. */
static json_t *prepare_upload(json_t *a)
{
	const char *path = sky_json_str(a, "file_path");
	if (!path)
		path = sky_json_str(a, "file_url");
	if (path && sky_str_startswith(path, "file://"))
		path += 7;
	struct stat st;
	if (!path || stat(path, &st) || !S_ISREG(st.st_mode)) {
		char *msg = sky_asprintf("file %s does not exist on this "
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
	if (!path || !sky_str_startswith(path, r->e->data_dir))
		return;
	const char *rel = path + strlen(r->e->data_dir);
	while (*rel == '/')
		rel++;
	size_t i;
	json_t *seen;
	json_array_foreach(r->downloads, i, seen)
		if (sky_str_eq(json_string_value(seen), rel))
			return;
	json_array_append_new(r->downloads, json_string(rel));
	sky_store_artifact_add(r->e->store, r->task->task_id,
	                       r->step ? r->step->step_id : NULL,
	                       SKY_ARTIFACT_DOWNLOAD, rel,
	                       sky_json_int(d, "size", 0),
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
		char *code = verification_code(r, &why);
		if (!code) {
			*result = failure("no_verification_code", why);
		} else {
			json_object_set_new(a, "action_type",
			                    json_string("input_text"));
			json_object_set_new(a, "text", json_string(code));
			rc = plugin_act(r, a, result);
			/* Never keep the code in what is recorded. */
			json_object_del(*result, "value");
			free(code);
		}
		free(why);
	} else if (!strcmp(type, "upload_file") &&
	           (*result = prepare_upload(a))) {
		/* file missing: result already set */
	} else {
		rc = plugin_act(r, a, result);
		if (json_is_true(json_object_get(*result, "success")))
			record_download(r, *result);
	}
	json_decref(a);
	return rc;
}
