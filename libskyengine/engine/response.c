/* The Tasks API's JSON shapes, built from store records (response.h). */
#include "engine/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/json.h"
#include <skyx/str.h>
#include <skyx/time.h>

static json_t *ts(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

/* JSON column text -> value (null when absent or invalid). */
static json_t *col(const char *text)
{
	return sky_json_or_null(text);
}

static char *url_signature(const sky_response_ctx *c, const char *path,
                           const char *expires)
{
	char hex[SKYX_SHA256_HEX_LEN];
	char *msg = skyx_asprintf("GET\n%s\n%s", path, expires);
	if (!msg)
		return NULL;
	skyx_hmac_sha256_hex(c->url_key, strlen(c->url_key), msg, strlen(msg),
	                     hex);
	free(msg);
	return skyx_strdup(hex);
}

char *sky_response_signed_url(const sky_response_ctx *c, const char *path)
{
	const char *base = c->public_url ? c->public_url : "";
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	if (!c->url_key)
		return skyx_asprintf("%.*s%s", (int)bl, base, path);
	char expires[32];
	int ttl = c->url_ttl_s > 0 ? c->url_ttl_s : 7 * 24 * 3600;
	snprintf(expires, sizeof expires, "%lld",
	         (long long)(skyx_time_now_ms() / 1000 + ttl));
	char *sig = url_signature(c, path, expires);
	char *url = skyx_asprintf("%.*s%s%cexpires=%s&signature=%s", (int)bl,
	                          base, path, strchr(path, '?') ? '&' : '?',
	                          expires, sig ? sig : "");
	free(sig);
	return url;
}

int sky_response_verify_url(const sky_response_ctx *c, const char *path,
                            const char *expires, const char *signature)
{
	char *end;
	if (!c->url_key || !expires || !signature)
		return 0;
	long long exp = strtoll(expires, &end, 10);
	if (*end || exp < skyx_time_now_ms() / 1000)
		return 0;
	char *want = url_signature(c, path, expires);
	int ok = want && skyx_ct_equal(want, strlen(want), signature,
	                               strlen(signature));
	free(want);
	return ok;
}

char *sky_response_artifact_url(const sky_response_ctx *c,
                                const sky_artifact_rec *a)
{
	if (!c->public_url)
		return skyx_asprintf("file://%s/%s", c->data_dir, a->path);
	char *path = skyx_asprintf("/v1/artifacts/%s/content", a->artifact_id);
	char *url = path ? sky_response_signed_url(c, path) : NULL;
	free(path);
	return url;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* All of a run's artifacts, read once per response (NULL when none). */
static sky_artifact_list *artifacts_of(const sky_response_ctx *c,
                                       const sky_task_rec *t)
{
	sky_artifact_list *l = NULL;
	if (sky_store_artifact_list(c->store, t->task_id, NULL, &l)) {
		sky_artifact_list_free(l);
		return NULL;
	}
	return l;
}

static int is_kind(const sky_artifact_rec *a, const char *kind)
{
	return !strcmp(a->kind, kind);
}

static json_t *downloaded_files(const sky_response_ctx *c,
                                const sky_artifact_list *l)
{
	json_t *arr = json_array();
	for (size_t i = 0; l && i < l->count; i++) {
		const sky_artifact_rec *a = &l->items[i];
		if (!is_kind(a, SKY_ARTIFACT_DOWNLOAD))
			continue;
		char *url = sky_response_artifact_url(c, a);
		json_array_append_new(
		    arr, json_pack("{s:s?, s:s?, s:s, s:I, s:o, s:s}", "url",
		                   url, "checksum", a->sha256, "filename",
		                   basename_of(a->path), "file_size",
		                   (json_int_t)a->size, "modified_at",
		                   ts(a->created_at), "artifact_id",
		                   a->artifact_id));
		free(url);
	}
	if (!json_array_size(arr)) {
		json_decref(arr);
		return json_null();
	}
	return arr;
}

/* The last three screenshots, newest first. */
static json_t *screenshot_urls(const sky_response_ctx *c,
                               const sky_artifact_list *l)
{
	json_t *arr = json_array();
	for (size_t i = l ? l->count : 0;
	     i-- > 0 && json_array_size(arr) < 3;) {
		if (!is_kind(&l->items[i], SKY_ARTIFACT_SCREENSHOT_ACTION) &&
		    !is_kind(&l->items[i], SKY_ARTIFACT_SCREENSHOT_LLM))
			continue;
		char *url = sky_response_artifact_url(c, &l->items[i]);
		json_array_append_new(arr, sky_json_str_or_null(url));
		free(url);
	}
	if (!json_array_size(arr)) {
		json_decref(arr);
		return json_null();
	}
	return arr;
}

static json_t *recording_url(const sky_response_ctx *c, const sky_task_rec *t,
                             const sky_artifact_list *l)
{
	if (c->public_url) {
		char *path = skyx_asprintf("/runs/%s/recording", t->task_id);
		char *url = path ? sky_response_signed_url(c, path) : NULL;
		free(path);
		json_t *v = sky_json_str_or_null(url);
		free(url);
		return v;
	}
	json_t *v = json_null();
	for (size_t i = l ? l->count : 0; i-- > 0;) {
		if (!is_kind(&l->items[i], SKY_ARTIFACT_RECORDING))
			continue;
		char *url = sky_response_artifact_url(c, &l->items[i]);
		json_decref(v);
		v = sky_json_str_or_null(url);
		free(url);
		break;
	}
	return v;
}

static json_t *app_url(const sky_response_ctx *c, const sky_task_rec *t)
{
	if (!c->public_url)
		return json_null();
	char *path = skyx_asprintf("/runs/%s", t->task_id);
	char *url = path ? sky_response_signed_url(c, path) : NULL;
	free(path);
	json_t *v = sky_json_str_or_null(url);
	free(url);
	return v;
}

/* Skyvern's ScriptRunResponse of a run_with "code" run (kept in the
 * run's notes by the agent, docs/replay.md), or null: ai_fallback_triggered,
 * script_id, script_revision_id, and ours: version, steps_replayed,
 * fallback_step, mismatch. */
static json_t *script_run(const sky_task_rec *t)
{
	json_t *notes = sky_json_loads(t->notes);
	json_t *sr = json_incref(json_object_get(notes, "script_run"));
	json_decref(notes);
	if (!json_is_object(sr)) {
		json_decref(sr);
		return json_null();
	}
	json_object_del(sr, "cache_key");
	return sr;
}

json_t *sky_response_run(const sky_response_ctx *c, const sky_task_rec *t)
{
	sky_artifact_list *arts = artifacts_of(c, t);
	json_t *o = json_object();
	json_object_set_new(o, "run_id", json_string(t->task_id));
	json_object_set_new(o, "status",
	                    json_string(sky_task_status_name(t->status)));
	json_object_set_new(o, "output", col(t->output));
	json_object_set_new(o, "downloaded_files", downloaded_files(c, arts));
	json_object_set_new(o, "recording_url", recording_url(c, t, arts));
	json_object_set_new(o, "recording_archived", json_false());
	json_object_set_new(o, "screenshot_urls", screenshot_urls(c, arts));
	json_object_set_new(o, "failure_reason",
	                    sky_json_str_or_null(t->failure_reason));
	json_object_set_new(o, "created_at", ts(t->created_at));
	json_object_set_new(o, "modified_at", ts(t->modified_at));
	json_object_set_new(o, "queued_at", ts(t->queued_at));
	json_object_set_new(o, "started_at", ts(t->started_at));
	json_object_set_new(o, "finished_at", ts(t->finished_at));
	json_object_set_new(o, "app_url", app_url(c, t));
	json_object_set_new(o, "browser_session_id",
	                    sky_json_str_or_null(t->browser_session_id));
	{
		json_t *n = col(t->notes);
		json_object_set_new(o, "browser_profile_id",
		                    sky_json_str_or_null(
		                        sky_json_str(n, "browser_profile_id")));
		json_decref(n);
	}
	json_object_set_new(o, "max_screenshot_scrolls",
	                    t->max_screenshot_scrolls >= 0
	                        ? json_integer(t->max_screenshot_scrolls)
	                        : json_null());
	json_object_set_new(o, "script_run", script_run(t));
	json_object_set_new(o, "errors", col(t->errors));
	json_object_set_new(o, "step_count", json_integer(t->step_count));
	json_object_set_new(o, "run_type", json_string(t->run_type));
	json_object_set_new(o, "run_request", col(t->run_request));
	/* Ours, beyond the contract: what proxy the run really used (issue
	 * 8: a location that could not be applied is said, not hidden). */
	json_object_set_new(o, "proxy_applied", col(t->proxy_applied));
	/* Also ours: the workflow the run published (publish_workflow) or
	 * was started from (POST /v1/run/workflows). */
	json_object_set_new(o, "workflow_permanent_id",
	                    sky_json_str_or_null(t->workflow_permanent_id));
	sky_artifact_list_free(arts);
	return o;
}

json_t *sky_response_task(const sky_response_ctx *c, const sky_task_rec *t)
{
	sky_artifact_list *arts = artifacts_of(c, t);
	json_t *req = json_object();
	json_object_set_new(req, "title", sky_json_str_or_null(t->title));
	json_object_set_new(req, "url", sky_json_str_or_null(t->url));
	json_object_set_new(req, "webhook_callback_url",
	                    sky_json_str_or_null(t->webhook_url));
	json_object_set_new(req, "webhook_failure_reason",
	                    sky_json_str_or_null(t->webhook_failure_reason));
	json_object_set_new(req, "totp_verification_url",
	                    sky_json_str_or_null(t->totp_url));
	json_object_set_new(req, "totp_identifier",
	                    sky_json_str_or_null(t->totp_identifier));
	json_object_set_new(req, "navigation_goal",
	                    sky_json_str_or_null(t->prompt));
	json_object_set_new(req, "data_extraction_goal",
	                    sky_json_str_or_null(t->data_extraction_goal));
	json_object_set_new(req, "navigation_payload",
	                    col(t->navigation_payload));
	json_object_set_new(req, "error_code_mapping",
	                    col(t->error_code_mapping));
	json_object_set_new(req, "workflow_system_prompt", json_null());
	json_object_set_new(req, "proxy_location", col(t->proxy_location));
	json_object_set_new(req, "extracted_information_schema",
	                    col(t->data_extraction_schema));
	json_object_set_new(req, "extra_http_headers",
	                    col(t->extra_http_headers));
	json_object_set_new(req, "cdp_connect_headers", json_null());
	json_t *notes = col(t->notes);
	json_object_set_new(
	    req, "complete_criterion",
	    sky_json_str_or_null(sky_json_str(notes, "complete_criterion")));
	json_object_set_new(
	    req, "terminate_criterion",
	    sky_json_str_or_null(sky_json_str(notes, "terminate_criterion")));
	json_object_set_new(req, "task_type", json_string("general"));
	json_object_set_new(
	    req, "application",
	    sky_json_str_or_null(sky_json_str(notes, "application")));
	json_decref(notes);
	json_object_set_new(
	    req, "include_action_history_in_verification",
	    json_boolean(t->include_action_history_in_verification));
	json_object_set_new(req, "max_screenshot_scrolls",
	                    t->max_screenshot_scrolls >= 0
	                        ? json_integer(t->max_screenshot_scrolls)
	                        : json_null());
	json_object_set_new(req, "browser_address",
	                    sky_json_str_or_null(t->browser_address));
	json_object_set_new(req, "download_timeout", json_null());
	json_object_set_new(req, "include_extracted_text", json_null());

	json_t *o = json_object();
	json_object_set_new(o, "request", req);
	json_object_set_new(o, "task_id", json_string(t->task_id));
	json_object_set_new(o, "status",
	                    json_string(sky_task_status_name(t->status)));
	json_object_set_new(o, "created_at", ts(t->created_at));
	json_object_set_new(o, "modified_at", ts(t->modified_at));
	json_object_set_new(o, "extracted_information", col(t->output));
	json_object_set_new(o, "action_screenshot_urls",
	                    screenshot_urls(c, arts));
	json_object_set_new(o, "screenshot_url", json_null());
	json_object_set_new(o, "recording_url", recording_url(c, t, arts));
	json_object_set_new(o, "recording_archived", json_false());
	json_object_set_new(o, "browser_console_log_url", json_null());
	json_t *files = downloaded_files(c, arts);
	sky_artifact_list_free(arts);
	json_t *file_urls = json_null();
	if (json_is_array(files)) {
		size_t i;
		json_t *f;
		file_urls = json_array();
		json_array_foreach (files, i, f)
			json_array_append(file_urls, json_object_get(f, "url"));
	}
	json_object_set_new(o, "downloaded_files", files);
	json_object_set_new(o, "downloaded_file_urls", file_urls);
	json_object_set_new(o, "failure_reason",
	                    sky_json_str_or_null(t->failure_reason));
	json_object_set_new(o, "failure_category", json_null());
	json_object_set_new(o, "webhook_failure_reason",
	                    sky_json_str_or_null(t->webhook_failure_reason));
	json_t *errors = col(t->errors);
	json_object_set_new(o, "errors",
	                    json_is_array(errors) ? errors : json_array());
	if (!json_is_array(errors))
		json_decref(errors);
	json_object_set_new(o, "max_steps_per_run",
	                    t->max_steps ? json_integer(t->max_steps)
	                                 : json_null());
	json_object_set_new(o, "workflow_run_id", json_null());
	json_object_set_new(o, "queued_at", ts(t->queued_at));
	json_object_set_new(o, "started_at", ts(t->started_at));
	json_object_set_new(o, "finished_at", ts(t->finished_at));
	json_object_set_new(o, "max_screenshot_scrolls",
	                    t->max_screenshot_scrolls >= 0
	                        ? json_integer(t->max_screenshot_scrolls)
	                        : json_null());
	json_object_set_new(o, "step_count", json_integer(t->step_count));
	json_object_set_new(o, "browser_session_id",
	                    sky_json_str_or_null(t->browser_session_id));
	return o;
}

/* The model a run asked for (run_request.model), or null. */
static json_t *run_model(const sky_task_rec *t)
{
	json_t *req = col(t->run_request);
	json_t *m = json_object_get(req, "model");
	json_t *out = json_is_object(m) ? json_incref(m) : json_null();
	json_decref(req);
	return out;
}

json_t *sky_response_task_v2(const sky_task_rec *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "task_id", json_string(t->task_id));
	json_object_set_new(o, "status",
	                    json_string(sky_task_status_name(t->status)));
	json_object_set_new(o, "organization_id",
	                    sky_json_str_or_null(t->organization_id));
	json_object_set_new(o, "workflow_run_id", json_null());
	json_object_set_new(o, "workflow_id", json_null());
	json_object_set_new(o, "workflow_permanent_id",
	                    sky_json_str_or_null(t->workflow_permanent_id));
	json_object_set_new(o, "prompt", sky_json_str_or_null(t->prompt));
	json_object_set_new(o, "url", sky_json_str_or_null(t->url));
	json_object_set_new(o, "summary", json_null());
	json_object_set_new(o, "output", col(t->output));
	json_object_set_new(o, "totp_verification_url",
	                    sky_json_str_or_null(t->totp_url));
	json_object_set_new(o, "totp_identifier",
	                    sky_json_str_or_null(t->totp_identifier));
	json_object_set_new(o, "proxy_location", col(t->proxy_location));
	json_object_set_new(o, "webhook_callback_url",
	                    sky_json_str_or_null(t->webhook_url));
	json_object_set_new(o, "webhook_failure_reason",
	                    sky_json_str_or_null(t->webhook_failure_reason));
	json_object_set_new(o, "extracted_information_schema",
	                    col(t->data_extraction_schema));
	json_object_set_new(o, "error_code_mapping",
	                    col(t->error_code_mapping));
	json_object_set_new(o, "workflow_system_prompt", json_null());
	json_object_set_new(o, "model", run_model(t));
	json_object_set_new(o, "queued_at", ts(t->queued_at));
	json_object_set_new(o, "started_at", ts(t->started_at));
	json_object_set_new(o, "finished_at", ts(t->finished_at));
	json_object_set_new(o, "max_screenshot_scrolling_times",
	                    t->max_screenshot_scrolls >= 0
	                        ? json_integer(t->max_screenshot_scrolls)
	                        : json_null());
	json_object_set_new(o, "extra_http_headers",
	                    col(t->extra_http_headers));
	json_object_set_new(o, "cdp_connect_headers", json_null());
	json_object_set_new(o, "browser_address",
	                    sky_json_str_or_null(t->browser_address));
	json_object_set_new(o, "run_with", json_null());
	json_object_set_new(o, "failure_category", json_null());
	json_object_set_new(o, "created_at", ts(t->created_at));
	json_object_set_new(o, "modified_at", ts(t->modified_at));
	return o;
}

json_t *sky_response_action(const sky_task_rec *t, const sky_action_rec *a)
{
	json_t *act = col(a->action);
	json_t *o = json_object();
	json_object_set_new(o, "action_type",
	                    sky_json_str_or_null(a->action_type));
	/* Skyvern's statuses: an action being carried out is pending, one a
	 * crash cut (outcome unknown) failed. */
	const char *st = a->status ? a->status : "pending";
	if (!strcmp(st, SKY_ACTION_ISSUED))
		st = "pending";
	else if (!strcmp(st, SKY_ACTION_UNKNOWN))
		st = "failed";
	json_object_set_new(o, "status", json_string(st));
	json_object_set_new(o, "action_id", json_string(a->action_id));
	json_object_set_new(o, "source_action_id", json_null());
	json_object_set_new(o, "organization_id",
	                    sky_json_str_or_null(t->organization_id));
	json_object_set_new(o, "workflow_run_id", json_null());
	json_object_set_new(o, "task_id", json_string(a->task_id));
	json_object_set_new(o, "step_id", sky_json_str_or_null(a->step_id));
	json_object_set_new(o, "step_order", json_integer(a->step_order));
	json_object_set_new(o, "action_order", json_integer(a->action_index));
	/* What the planner gave, under the model's names. */
	static const char *const copied[] = {
	    "confidence_float",
	    "description",
	    "reasoning",
	    "intention",
	    "response",
	    "errors",
	    "data_extraction_goal",
	    "file_name",
	    "file_url",
	    "download",
	    "text",
	    "option",
	    "is_checked",
	    NULL,
	};
	for (size_t i = 0; copied[i]; i++) {
		json_t *v = json_object_get(act, copied[i]);
		json_object_set(o, copied[i], v ? v : json_null());
	}
	json_object_set_new(o, "element_id",
	                    sky_json_str_or_null(a->element_id));
	json_object_set_new(o, "created_at", ts(a->created_at));
	json_object_set_new(o, "modified_at", ts(a->created_at));
	json_decref(act);
	return o;
}

json_t *sky_response_task_model(const sky_task_rec *t)
{
	json_t *o = json_object();
	int v2 = !strcmp(t->run_type, SKY_RUN_TYPE_V2);
	/* A task v2 is a workflow run in Skyvern's list: its keys, with the
	 * run's own id (there are no wr_ ids here). */
	if (v2) {
		json_object_set_new(o, "workflow_run_id",
		                    json_string(t->task_id));
		json_object_set_new(o, "workflow_id", json_null());
		json_object_set_new(
		    o, "workflow_permanent_id",
		    sky_json_str_or_null(t->workflow_permanent_id));
	} else {
		json_object_set_new(o, "task_id", json_string(t->task_id));
		json_object_set_new(o, "title", sky_json_str_or_null(t->title));
		json_object_set_new(o, "url", sky_json_str_or_null(t->url));
		json_object_set_new(o, "navigation_goal",
		                    sky_json_str_or_null(t->prompt));
		json_object_set_new(
		    o, "data_extraction_goal",
		    sky_json_str_or_null(t->data_extraction_goal));
		json_object_set_new(o, "navigation_payload",
		                    col(t->navigation_payload));
		json_object_set_new(o, "extracted_information_schema",
		                    col(t->data_extraction_schema));
		json_object_set_new(o, "extracted_information", col(t->output));
		json_object_set_new(o, "error_code_mapping",
		                    col(t->error_code_mapping));
		json_object_set_new(o, "max_steps_per_run",
		                    t->max_steps ? json_integer(t->max_steps)
		                                 : json_null());
		json_object_set_new(o, "model", run_model(t));
	}
	json_object_set_new(o, "organization_id",
	                    sky_json_str_or_null(t->organization_id));
	json_object_set_new(o, "status",
	                    json_string(sky_task_status_name(t->status)));
	json_object_set_new(o, "proxy_location", col(t->proxy_location));
	json_object_set_new(o, "webhook_callback_url",
	                    sky_json_str_or_null(t->webhook_url));
	json_object_set_new(o, "totp_verification_url",
	                    sky_json_str_or_null(t->totp_url));
	json_object_set_new(o, "totp_identifier",
	                    sky_json_str_or_null(t->totp_identifier));
	json_object_set_new(o, "failure_reason",
	                    sky_json_str_or_null(t->failure_reason));
	json_object_set_new(o, "browser_session_id",
	                    sky_json_str_or_null(t->browser_session_id));
	json_object_set_new(o, "created_at", ts(t->created_at));
	json_object_set_new(o, "modified_at", ts(t->modified_at));
	json_object_set_new(o, "queued_at", ts(t->queued_at));
	json_object_set_new(o, "started_at", ts(t->started_at));
	json_object_set_new(o, "finished_at", ts(t->finished_at));
	return o;
}

json_t *sky_response_step(const sky_step_rec *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "created_at", ts(st->created_at));
	json_object_set_new(o, "modified_at", ts(st->modified_at));
	json_object_set_new(o, "task_id", json_string(st->task_id));
	json_object_set_new(o, "step_id", json_string(st->step_id));
	json_object_set_new(o, "status",
	                    json_string(sky_step_status_name(st->status)));
	json_t *out = col(st->output);
	if (!json_is_null(out))
		json_object_set_new(o, "output", out);
	else
		json_decref(out);
	json_object_set_new(o, "order", json_integer(st->order));
	json_object_set_new(o, "is_last", json_boolean(st->is_last));
	json_object_set_new(o, "retry_index", json_integer(st->retry_index));
	json_object_set_new(o, "organization_id",
	                    json_string(st->organization_id));
	json_object_set_new(o, "input_token_count",
	                    json_integer(st->input_token_count));
	json_object_set_new(o, "output_token_count",
	                    json_integer(st->output_token_count));
	if (st->reasoning_token_count)
		json_object_set_new(o, "reasoning_token_count",
		                    json_integer(st->reasoning_token_count));
	if (st->cached_token_count)
		json_object_set_new(o, "cached_token_count",
		                    json_integer(st->cached_token_count));
	json_object_set_new(o, "step_cost", json_real(st->step_cost));
	if (st->last_llm_model)
		json_object_set_new(o, "last_llm_model",
		                    json_string(st->last_llm_model));
	json_object_set_new(o, "is_speculative", json_false());
	return o;
}

json_t *sky_response_run_summary(const sky_task_rec *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "task_run_id", json_string(t->task_id));
	json_object_set_new(o, "run_id", json_string(t->task_id));
	json_object_set_new(o, "task_run_type", json_string(t->run_type));
	json_object_set_new(o, "status",
	                    json_string(sky_task_status_name(t->status)));
	json_object_set_new(o, "title", sky_json_str_or_null(t->title));
	json_object_set_new(o, "started_at", ts(t->started_at));
	json_object_set_new(o, "finished_at", ts(t->finished_at));
	json_object_set_new(o, "created_at", ts(t->created_at));
	json_object_set_new(o, "workflow_permanent_id",
	                    sky_json_str_or_null(t->workflow_permanent_id));
	json_object_set_new(o, "workflow_deleted", json_false());
	json_object_set_new(o, "script_run", script_run(t));
	json_object_set_new(o, "trigger_type", json_null());
	return o;
}

json_t *sky_response_artifact(const sky_response_ctx *c,
                              const sky_artifact_rec *a)
{
	char *url = sky_response_artifact_url(c, a);
	char *uri = skyx_asprintf("file://%s/%s", c->data_dir, a->path);
	json_t *o = json_pack(
	    "{s:s, s:s, s:s?, s:s?, s:o, s:o, s:s, s:s, s:s?, s:I, s:s?}",
	    "artifact_id", a->artifact_id, "artifact_type", a->kind, "uri", uri,
	    "signed_url", url, "created_at", ts(a->created_at), "modified_at",
	    ts(a->created_at), "organization_id", a->organization_id, "task_id",
	    a->task_id, "step_id", a->step_id, "size", (json_int_t)a->size,
	    "checksum", a->sha256);
	free(url);
	free(uri);
	return o;
}

json_t *sky_response_webhook_payload(const sky_response_ctx *c,
                                     const sky_task_rec *t)
{
	json_t *o = sky_response_task(c, t);
	json_object_del(o, "request");
	json_t *run = sky_response_run(c, t);
	json_object_del(run, "run_request");
	json_object_update(o, run);
	json_decref(run);
	return o;
}
