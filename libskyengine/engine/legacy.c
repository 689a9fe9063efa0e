/*
 * Skyvern's legacy task routes (/api/v1/tasks, /api/v2/tasks, /api/v1/runs)
 * on the engine: a legacy body is translated into a task-run request and
 * submitted as one (same validation, refusals, storage, idempotency), and
 * tasks are answered in the legacy shapes (TaskResponse, TaskV2, Action,
 * Task).
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "engine/response.h"
#include "util/error.h"
#include "util/json.h"
#include <skyx/str.h>
#include <skyx/time.h>

typedef struct field_name {
	const char *legacy; /* the legacy model's name */
	const char *run;    /* TaskRunRequest's (or our extension's) */
} field_name;

/* TaskRequest (skyvern/forge/sdk/schemas/tasks.py) -> TaskRunRequest. */
static const field_name v1_names[] = {
    {"navigation_goal", "prompt"},
    {"extracted_information_schema", "data_extraction_schema"},
    {"webhook_callback_url", "webhook_url"},
    {"totp_verification_url", "totp_url"},
    {NULL, NULL},
};
static const char *const v1_same[] = {
    "title",
    "url",
    "navigation_payload",
    "error_code_mapping",
    "proxy_location",
    "totp_identifier",
    "extra_http_headers",
    "cdp_connect_headers",
    "complete_criterion",
    "terminate_criterion",
    "application",
    "include_action_history_in_verification",
    "max_screenshot_scrolls",
    "browser_address",
    "browser_session_id",
    "model",
    "data_extraction_goal",
    NULL,
};

/* TaskV2Request (skyvern/forge/sdk/schemas/task_v2.py). */
static const field_name v2_names[] = {
    {"user_prompt", "prompt"},
    {"extracted_information_schema", "data_extraction_schema"},
    {"webhook_callback_url", "webhook_url"},
    {"totp_verification_url", "totp_url"},
    {NULL, NULL},
};
static const char *const v2_same[] = {
    "url",
    "browser_session_id",
    "totp_identifier",
    "proxy_location",
    "publish_workflow",
    "error_code_mapping",
    "model",
    "max_screenshot_scrolls",
    "extra_http_headers",
    "cdp_connect_headers",
    "browser_address",
    "run_with",
    NULL,
};

/* DownloadFilesRequest (skyvern/schemas/run_blocks.py): a task v1 whose
 * goal is the navigation_goal (Skyvern runs it as a one-block workflow). */
static const field_name dl_names[] = {
    {"navigation_goal", "prompt"},
    {"max_steps_per_run", "max_steps"},
    {"max_screenshot_scrolling_times", "max_screenshot_scrolls"},
    {NULL, NULL},
};
static const char *const dl_same[] = {
    "url",
    "webhook_url",
    "proxy_location",
    "totp_identifier",
    "totp_url",
    "browser_session_id",
    "browser_profile_id",
    "start_fresh_browser",
    "browser_address",
    "extra_http_headers",
    "cdp_connect_headers",
    NULL,
};

static int refuse(char **out, int *status, int code, const char *msg)
{
	return sky_engine__api_refuse(out, status, code,
	                              sky_engine__api_detail("%s", msg),
	                              SKY_EINVALID, msg);
}

/* 422 for a body that is not an object, or a missing required field. */
static int refuse_422(char **out, int *status, const char *type,
                      const char *field, const char *msg, json_t *input)
{
	json_t *items = json_array();
	sky_engine__api_item(items, type, field, msg, input);
	char *body = sky_engine__api_422(items);
	json_decref(items);
	return sky_engine__api_refuse(out, status, 422, body, SKY_EINVALID,
	                              msg);
}

/*
 * Fields the legacy models have that the engine cannot honour: refused
 * when they ask for something other than the default (a 400 saying
 * why), like the task-run request's own (engine/request.c).
 */
static int refuse_legacy_fields(const json_t *b, char **out, int *status)
{
	const char *tt = sky_json_str(b, "task_type");
	json_t *v;
	if (tt && strcmp(tt, "general"))
		return refuse(out, status, 400,
		              "task_type validation and action are not "
		              "supported by skyengine: tasks are general");
	if ((v = json_object_get(b, "workflow_system_prompt")) &&
	    !json_is_null(v))
		return refuse(out, status, 400,
		              "workflow_system_prompt is not supported by "
		              "skyengine");
	if ((v = json_object_get(b, "download_timeout")) && !json_is_null(v))
		return refuse(out, status, 400,
		              "download_timeout is not supported by skyengine: "
		              "downloads are awaited by the browser plugin");
	if (json_is_false(json_object_get(b, "include_extracted_text")))
		return refuse(out, status, 400,
		              "include_extracted_text false is not supported "
		              "by skyengine: extraction always sees the page's "
		              "text");
	if (json_is_true(json_object_get(b, "generate_script")) ||
	    json_is_true(json_object_get(b, "ai_fallback")))
		return refuse(
		    out, status, 400,
		    "generate_script and ai_fallback are not "
		    "supported by skyengine: runs are executed by the "
		    "agent");
	return 0;
}

static json_t *translate(const json_t *b, const field_name *names,
                         const char *const *same, const char *engine,
                         int max_steps)
{
	json_t *o = json_object(), *v;
	json_object_set_new(o, "engine", json_string(engine));
	for (size_t i = 0; names[i].legacy; i++)
		if ((v = json_object_get(b, names[i].legacy)))
			json_object_set(o, names[i].run, v);
	for (size_t i = 0; same[i]; i++)
		if ((v = json_object_get(b, same[i])))
			json_object_set(o, same[i], v);
	v = json_object_get(o, "prompt");
	if (!v || json_is_null(v)) /* only an extraction, or nothing */
		json_object_set_new(o, "prompt", json_string(""));
	if (max_steps > 0)
		json_object_set_new(o, "max_steps", json_integer(max_steps));
	return o;
}

/* 422 items name the legacy fields, as the client sent them. */
static void rename_errors(char **body, const field_name *names)
{
	json_t *b = sky_json_loads(*body);
	json_t *items = json_object_get(b, "detail"), *it;
	size_t i;
	if (!json_is_array(items)) {
		json_decref(b);
		return;
	}
	json_array_foreach (items, i, it) {
		json_t *loc = json_object_get(it, "loc");
		const char *f = json_string_value(json_array_get(loc, 1));
		for (size_t k = 0; f && names[k].legacy; k++)
			if (!strcmp(f, names[k].run)) {
				json_array_set_new(
				    loc, 1, json_string(names[k].legacy));
				break;
			}
	}
	char *s = sky_json_dumps(b);
	json_decref(b);
	if (s) {
		free(*body);
		*body = s;
	}
}

int sky_tasks_api_task_submit_legacy(char **out_json, int *http_status,
                                     sky_engine *e, const char *org,
                                     int version, const char *request_json,
                                     const sky_submit_options *opts,
                                     int max_steps)
{
	const field_name *names = version == 2   ? v2_names
	                          : version == 3 ? dl_names
	                                         : v1_names;
	int status = 500, rc;
	char *out = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	json_t *b = sky_json_loads(request_json ? request_json : "");
	if (!json_is_object(b)) {
		rc = refuse_422(&out, &status,
		                b ? "model_attributes_type" : "missing", NULL,
		                b ? "Input should be a valid dictionary or "
		                    "object to extract fields from"
		                  : "Field required",
		                b);
		goto done;
	}
	const char *required = version == 2   ? "user_prompt"
	                       : version == 3 ? "navigation_goal"
	                                      : "url";
	if (!json_object_get(b, required)) {
		rc = refuse_422(&out, &status, "missing", required,
		                "Field required", b);
		goto done;
	}
	if ((rc = refuse_legacy_fields(b, &out, &status)))
		goto done;
	json_t *v = json_object_get(b, "download_suffix");
	if (version == 3 && v && !json_is_null(v)) {
		rc = refuse(&out, &status, 400,
		            "download_suffix is not supported by skyengine: "
		            "downloaded files keep the name the site gives "
		            "them");
		goto done;
	}
	json_t *req =
	    translate(b, names,
	              version == 2   ? v2_same
	              : version == 3 ? dl_same
	                             : v1_same,
	              version == 2 ? "skyvern-2.0" : "skyvern-1.0", max_steps);
	/* Skyvern's file download block runs 10 steps unless told. */
	v = json_object_get(req, "max_steps");
	if (version == 3 && (!v || json_is_null(v)))
		json_object_set_new(req, "max_steps", json_integer(10));
	char *text = sky_json_dumps(req);
	json_decref(req);
	rc = sky_tasks_api_run_submit(&out, &status, e, org, text ? text : "",
	                              opts);
	free(text);
	if (rc || status != 200) {
		if (out && status == 422)
			rename_errors(&out, names);
		if (!rc)
			rc = SKY_EINVALID;
		goto done;
	}
	/* The answer: CreateTaskResponse (v1), the TaskV2 (v2), the run
	 * (download_files). */
	if (version == 3)
		goto done;
	json_t *run = sky_json_loads(out);
	const char *id = sky_json_str(run, "run_id");
	free(out);
	out = NULL;
	if (version == 2)
		rc = sky_tasks_api_task_v2_get(&out, e, org, id);
	else {
		json_t *o = json_pack("{s:s?}", "task_id", id);
		out = sky_json_dumps(o);
		json_decref(o);
		rc = out ? 0 : sky_error_from_code(SKY_ENOMEM);
	}
	json_decref(run);
	status = rc ? 500 : 200;
done:
	json_decref(b);
	*out_json = out;
	if (http_status)
		*http_status = status;
	return rc;
}

/* The task of that type, else SKY_ENOTFOUND. */
static int get_typed(sky_engine *e, const char *org, const char *id,
                     const char *run_type, sky_task_rec **t)
{
	int rc =
	    sky_store_task_get(e->store, sky_engine__org_scope(e, org), id, t);
	if (!rc && strcmp((*t)->run_type, run_type)) {
		sky_task_rec_free(*t);
		*t = NULL;
		rc = SKY_ENOTFOUND;
	}
	return rc ? sky_error_set(SKY_ENOTFOUND, "Task %s not found", id) : 0;
}

static char *dump(json_t *o)
{
	char *s = o ? sky_json_dumps(o) : NULL;
	json_decref(o);
	return s;
}

int sky_tasks_api_task_get(char **out_json, sky_engine *e, const char *org,
                           const char *task_id)
{
	sky_task_rec *t = NULL;
	if (!e || !task_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, task_id and "
		                                   "out_json are required");
	*out_json = NULL;
	int rc = get_typed(e, org, task_id, SKY_RUN_TYPE_V1, &t);
	if (rc)
		return rc;
	*out_json = dump(sky_response_task(&e->rctx, t));
	sky_task_rec_free(t);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_task_v2_get(char **out_json, sky_engine *e, const char *org,
                              const char *task_id)
{
	sky_task_rec *t = NULL;
	if (!e || !task_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, task_id and "
		                                   "out_json are required");
	*out_json = NULL;
	int rc = get_typed(e, org, task_id, SKY_RUN_TYPE_V2, &t);
	if (rc)
		return sky_error_set(SKY_ENOTFOUND, "Task v2 %s not found",
		                     task_id);
	*out_json = dump(sky_response_task_v2(t));
	sky_task_rec_free(t);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_task_actions_list(char **out_json, sky_engine *e,
                                    const char *org, const char *task_id)
{
	sky_task_rec *t = NULL;
	sky_action_list *l = NULL;
	if (!e || !task_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, task_id and "
		                                   "out_json are required");
	*out_json = NULL;
	json_t *arr = json_array();
	/* Unknown or foreign task: an empty list, as Skyvern answers. */
	if (!sky_store_task_get(e->store, sky_engine__org_scope(e, org),
	                        task_id, &t) &&
	    !sky_store_action_list(e->store, task_id, NULL, &l)) {
		for (size_t i = 0; i < l->count; i++)
			json_array_append_new(
			    arr, sky_response_action(t, &l->items[i]));
	}
	sky_action_list_free(l);
	sky_task_rec_free(t);
	*out_json = dump(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_runs_list_legacy(char **out_json, sky_engine *e,
                                   const char *org, const sky_list_options *o)
{
	sky_task_query q = {0};
	sky_task_list *l = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	int vrc = o ? sky_engine__options_version(
	                  "sky_list_options", o->version,
	                  SKY_LIST_OPTIONS_VERSION, SKY_LIST_OPTIONS_VERSION)
	            : 0;
	if (vrc)
		return vrc;
	q.organization_id = sky_engine__org_scope(e, org);
	q.page = o && o->page > 0 ? o->page : 1;
	q.page_size = o && o->page_size > 0 ? o->page_size : 10;
	q.top_level_only = 1;
	if (o && o->statuses && *o->statuses) {
		char *copy = skyx_strdup(o->statuses), *save = NULL;
		int rc = 0;
		for (char *tok = strtok_r(copy, ",", &save); tok && !rc;
		     tok = strtok_r(NULL, ",", &save)) {
			sky_task_status st;
			if (sky_task_status_from_name(tok, &st))
				rc = sky_error_set(SKY_EINVALID,
				                   "unknown status '%s'", tok);
			else
				q.status_mask |= SKY_TASK_MASK(st);
		}
		free(copy);
		if (rc)
			return rc;
	}
	json_t *arr = json_array();
	/* Skyvern answers [] past page 10 ("temporary limit to 100 runs"). */
	if (q.page <= 10) {
		int rc = sky_store_task_list(e->store, &q, &l);
		if (rc) {
			json_decref(arr);
			return rc;
		}
		for (size_t i = 0; i < l->count; i++)
			json_array_append_new(
			    arr, sky_response_task_model(&l->items[i]));
		sky_task_list_free(l);
	}
	*out_json = dump(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_models_list(char **out_json, sky_engine *e)
{
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	/* Skyvern's ModelsResponse: name -> label; ours are their names. */
	json_t *models = json_object(), *v;
	const char *k;
	json_object_foreach ((json_t *)e->request_opts.llm_models, k, v)
		json_object_set_new(models, k, json_string(k));
	*out_json = dump(json_pack("{s:o}", "models", models));
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}
