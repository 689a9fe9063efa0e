/*
 * Pushed verification codes (POST /v1/credentials/totp, legacy
 * POST /api/v1/totp): validate the body, find the code in the content
 * (verbatim, pattern rules, then the model when configured), store it for
 * the runs that wait on its totp_identifier. A code is never logged.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <skyengine/tasks_api.h>
#include <skyengine/plugin/llm.h>

#include "engine/engine_internal.h"
#include "engine/otp_extract.h"
#include "engine/scope.h"
#include "llm/llm.h"
#include "planner/planner.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define COMPONENT "totp"
#define MAX_IDENT 1024
/* Skyvern's rule: content this short (after trimming) is the code. */
#define VERBATIM_CHARS 10

typedef struct push_req {
	const char *identifier, *content, *task_id, *workflow_id;
	const char *workflow_run_id, *source;
	int64_t expired_at;
	json_t *expired_in; /* as given, for the echo */
} push_req;

static size_t utf8_chars(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xc0) != 0x80;
	return count;
}

/* A str field; required ones must be present and not null. */
static const char *str_field(json_t *body, const char *name, int required,
                             json_t *items)
{
	json_t *v = json_object_get(body, name);
	if (!v || json_is_null(v)) {
		if (required)
			sky_engine__api_item(items, "missing", name,
			                     "Field required", body);
		return NULL;
	}
	if (!json_is_string(v)) {
		sky_engine__api_item(items, "string_type", name,
		                     "Input should be a valid string", v);
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		sky_engine__api_item(
		    items, "value_error", name,
		    "Value error, NUL characters are not allowed", v);
		return NULL;
	}
	return json_string_value(v);
}

/* datetime | None, Pydantic-lax: an ISO-8601 text or unix seconds. */
static void expiry_field(json_t *body, push_req *r, json_t *items)
{
	json_t *v = json_object_get(body, "expired_at");
	if (!v || json_is_null(v))
		return;
	if (json_is_number(v) && json_number_value(v) >= 0 &&
	    json_number_value(v) < 1e11) {
		r->expired_at = (int64_t)(json_number_value(v) * 1000);
	} else if (!json_is_string(v) ||
	           skyx_time_parse_iso(json_string_value(v), &r->expired_at)) {
		sky_engine__api_item(
		    items,
		    json_is_string(v) ? "datetime_from_date_parsing"
		                      : "datetime_type",
		    "expired_at", "Input should be a valid datetime", v);
		return;
	}
	r->expired_in = v;
}

static void validate(json_t *body, push_req *r, json_t *items)
{
	r->identifier = str_field(body, "totp_identifier", 1, items);
	if (r->identifier && !*r->identifier)
		sky_engine__api_item(items, "string_too_short",
		                     "totp_identifier",
		                     "String should have at least 1 character",
		                     json_object_get(body, "totp_identifier"));
	else if (r->identifier &&
	         utf8_chars(r->identifier, strlen(r->identifier)) > MAX_IDENT)
		sky_engine__api_item(
		    items, "string_too_long", "totp_identifier",
		    "String should have at most 1024 characters",
		    json_object_get(body, "totp_identifier"));
	r->task_id = str_field(body, "task_id", 0, items);
	r->workflow_id = str_field(body, "workflow_id", 0, items);
	r->workflow_run_id = str_field(body, "workflow_run_id", 0, items);
	r->source = str_field(body, "source", 0, items);
	r->content = str_field(body, "content", 1, items);
	if (r->content && strlen(r->content) > SKY_OTP_CONTENT_MAX)
		sky_engine__api_item(
		    items, "string_too_long", "content",
		    "String should have at most 2097152 characters", NULL);
	expiry_field(body, r, items);
}

/* Ids the code is scoped to must exist in the organization (400). */
static char *check_ids(sky_engine *e, const char *org, const push_req *r)
{
	sky_task_rec *t = NULL;
	sky_workflow_rec *w = NULL;
	if (r->task_id) {
		if (sky_store_task_get(e->store, org, r->task_id, &t))
			return sky_engine__api_detail("Invalid task id: %s",
			                              r->task_id);
		sky_task_rec_free(t);
	}
	if (r->workflow_id) {
		if (sky_store_workflow_get(e->store, org, r->workflow_id, &w))
			return sky_engine__api_detail("Invalid workflow id: %s",
			                              r->workflow_id);
		sky_workflow_rec_free(w);
	}
	/* We have no separate workflow runs: a run id names one. */
	if (r->workflow_run_id) {
		if (sky_store_task_get(e->store, org, r->workflow_run_id, &t))
			return sky_engine__api_detail(
			    "Invalid workflow run id: %s", r->workflow_run_id);
		sky_task_rec_free(t);
	}
	return NULL;
}

/* The configured fallback: ask the engine's model. 0 with *code (or NULL
 * when the model found none); a negative code when the call failed. */
static int ask_model(sky_engine *e, const char *content, char **code,
                     int *magic)
{
	struct sky_llm *llm = NULL;
	sky_planner_prompt *p = NULL;
	sky_llm_result *res = NULL;
	sky_planner_code_input in = {content, NULL};
	int rc;
	*code = NULL;
	*magic = 0;
	if ((rc = sky_engine__llm(e, &llm)) ||
	    (rc = sky_planner_render_parse_code(&in, &p)))
		return rc;
	sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
	req.purpose = p->purpose;
	req.prompt = p->text;
	req.context_json = p->context_json;
	req.response_schema_json = p->response_schema_json;
	req.step_order = -1;
	req.timeout_ms = e->agent.llm_timeout_ms;
	rc = sky_llm_complete(llm, &req, 0, &res);
	if (!rc)
		rc = sky_planner_parse_code(res->text, code, magic);
	sky_llm_result_free(res);
	sky_planner_prompt_free(p);
	return rc;
}

/* Trim ASCII whitespace; a malloc'd copy. */
static char *trimmed(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return skyx_strndup(s, n);
}

/* The code in the content: *code "" when none was found. */
static int find_code(sky_engine *e, const char *content, char **code,
                     const char **otp_type, char **err_body)
{
	char *t = trimmed(content);
	*otp_type = "totp";
	*code = NULL;
	if (!t)
		return sky_error_from_code(SKY_ENOMEM);
	if (utf8_chars(t, strlen(t)) <= VERBATIM_CHARS) {
		*code = t;
		return 0;
	}
	sky_otp_found *f = NULL;
	int rc = sky_otp_extract(t, strlen(t), &f);
	if (rc == 0) {
		*code = skyx_strdup(f->value);
		*otp_type = sky_otp_kind_name(f->kind);
		sky_otp_found_free(f);
		free(t);
		return 0;
	}
	if (rc == SKY_ENOTFOUND && e->totp_llm_fallback) {
		int magic = 0;
		rc = ask_model(e, t, code, &magic);
		if (rc) {
			*err_body = sky_engine__api_detail(
			    "The model could not parse the "
			    "verification code: %s",
			    sky_error_last());
		} else if (*code) {
			sky_secret_register(*code);
			*otp_type = magic ? "magic_link" : "totp";
		}
	} else if (rc == SKY_ENOTFOUND) {
		rc = 0;
	}
	free(t);
	if (!rc && !*code)
		*code = skyx_strdup("");
	return rc;
}

static json_t *ts_or_null(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

static char *code_json(const sky_totp_rec *rec, const push_req *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "totp_identifier",
	                    json_string(rec->totp_identifier));
	json_object_set_new(o, "task_id", sky_json_str_or_null(r->task_id));
	json_object_set_new(o, "workflow_id",
	                    sky_json_str_or_null(r->workflow_id));
	json_object_set_new(o, "workflow_run_id",
	                    sky_json_str_or_null(r->workflow_run_id));
	json_object_set_new(o, "source", sky_json_str_or_null(rec->source));
	json_object_set_new(o, "content", json_string(rec->content));
	json_object_set_new(o, "expired_at", ts_or_null(rec->expired_at));
	json_object_set_new(o, "totp_code_id", json_string(rec->totp_code_id));
	json_object_set_new(o, "code", json_string(rec->code));
	json_object_set_new(o, "organization_id",
	                    json_string(rec->organization_id));
	json_object_set_new(o, "created_at", ts_or_null(rec->created_at));
	json_object_set_new(o, "modified_at", ts_or_null(rec->modified_at));
	json_object_set_new(o, "otp_type", json_string(rec->otp_type));
	json_object_set_new(o, "status", json_string(rec->status));
	char *s = sky_json_dumps(o);
	json_decref(o);
	return s;
}

int sky_tasks_api_totp_code_push(char **out_json, int *http_status,
                                 sky_engine *e, const char *org,
                                 const char *body_json)
{
	push_req r = {0};
	json_t *items = json_array(), *body = NULL;
	char *code = NULL, *err = NULL;
	const char *otp_type = "totp";
	sky_totp_rec *rec = NULL;
	int rc;

	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if ((rc = sky_engine__org_for_create(e, org, &org)))
		return rc;
	body = body_json && *body_json ? sky_json_loads(body_json) : NULL;
	if (!body) {
		sky_engine__api_item(
		    items, body_json && *body_json ? "json_invalid" : "missing",
		    NULL,
		    body_json && *body_json ? "JSON decode error"
		                            : "Field required",
		    NULL);
	} else if (!json_is_object(body)) {
		sky_engine__api_item(
		    items, "model_attributes_type", NULL,
		    "Input should be a valid dictionary or object to "
		    "extract fields from",
		    body);
	} else {
		validate(body, &r, items);
	}
	if (json_array_size(items)) {
		rc = sky_engine__api_refuse(
		    out_json, http_status, 422, sky_engine__api_422(items),
		    SKY_EINVALID, "invalid TOTP code request");
		goto out;
	}
	if ((err = check_ids(e, org, &r))) {
		rc = sky_engine__api_refuse(out_json, http_status, 400, err,
		                            SKY_ENOTFOUND,
		                            "unknown id in a TOTP push");
		err = NULL;
		goto out;
	}
	rc = find_code(e, r.content, &code, &otp_type, &err);
	if (rc) {
		if (err)
			rc = sky_engine__api_refuse(out_json, http_status, 502,
			                            err, rc,
			                            "parsing the code failed");
		err = NULL;
		goto out;
	}
	sky_totp_new tn = {0};
	tn.organization_id = org;
	tn.totp_identifier = r.identifier;
	/* A code for one run: the task, else the run named as workflow
	 * run (we have no separate workflow runs). */
	tn.task_id = r.task_id ? r.task_id : r.workflow_run_id;
	tn.workflow_run_id = r.workflow_run_id;
	tn.content = r.content;
	tn.code = code;
	tn.source = r.source;
	tn.otp_type = otp_type;
	tn.expired_at = r.expired_at;
	if ((rc = sky_store_totp_add(e->store, &tn, &rec)))
		goto out;
	sky_log_info(COMPONENT, "%s stored for %s (%s%s%s)",
	             *rec->code ? "code" : "raw message", rec->totp_code_id,
	             rec->otp_type, r.source ? ", source " : "",
	             r.source ? r.source : "");
	*out_json = code_json(rec, &r);
	if (http_status)
		*http_status = 200;
	rc = *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
	/* Wake runs waiting for a code. */
	sky_engine__totp_arrived(e);
out:
	sky_totp_rec_free(rec);
	free(code);
	free(err);
	json_decref(items);
	json_decref(body);
	return rc;
}
