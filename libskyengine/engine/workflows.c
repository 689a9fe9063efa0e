/*
 * Saved workflows: what publish_workflow: true stored (the task request,
 * without the flag) listed by GET /v1/workflows and started again by
 * POST /v1/run/workflows with optional overrides. A workflow here is one
 * saved task request, not Skyvern's block graph.
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

static json_t *ts_or_null(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

static json_t *workflow_obj(const sky_workflow_rec *w)
{
	json_t *o = json_object();
	json_object_set_new(o, "workflow_permanent_id",
	                    json_string(w->workflow_permanent_id));
	json_object_set_new(o, "organization_id",
	                    json_string(w->organization_id));
	json_object_set_new(o, "title", sky_json_str_or_null(w->title));
	json_object_set_new(o, "is_saved_task", json_true());
	json_object_set_new(o, "source_run_id",
	                    sky_json_str_or_null(w->source_task_id));
	json_object_set_new(o, "request", sky_json_or_null(w->request));
	json_object_set_new(o, "created_at", ts_or_null(w->created_at));
	json_object_set_new(o, "modified_at", ts_or_null(w->modified_at));
	return o;
}

int sky_tasks_api_workflows_list(char **out_json, sky_engine *e,
                                 const char *org, int page, int page_size)
{
	sky_workflow_list *l = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if (page < 1 || page_size < 1 || page_size > 100)
		return sky_error_set(SKY_EINVALID,
		                     "page must be >= 1 and page_size 1..100");
	int rc = sky_store_workflow_list(
	    e->store, sky_engine__org_scope(e, org), page, page_size, &l);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(arr, workflow_obj(&l->items[i]));
	sky_workflow_list_free(l);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

/* {"workflow_id": str, "overrides": object?}; items filled on error. */
static void validate(json_t *body, json_t *items, const char **id,
                     json_t **overrides)
{
	json_t *v = json_object_get(body, "workflow_id");
	*id = NULL;
	*overrides = NULL;
	if (!v || json_is_null(v))
		sky_engine__api_item(items, "missing", "workflow_id",
		                     "Field required", v ? v : body);
	else if (!json_is_string(v))
		sky_engine__api_item(items, "string_type", "workflow_id",
		                     "Input should be a valid string", v);
	else
		*id = json_string_value(v);
	v = json_object_get(body, "overrides");
	if (v && !json_is_null(v) && !json_is_object(v))
		sky_engine__api_item(items, "dict_type", "overrides",
		                     "Input should be a valid dictionary", v);
	else if (json_is_object(v))
		*overrides = v;
}

int sky_tasks_api_workflow_run(char **out_json, int *http_status, sky_engine *e,
                               const char *org, const char *body_json,
                               const sky_submit_options *opts)
{
	json_t *body = NULL, *items = json_array(), *req = NULL, *ov = NULL;
	sky_workflow_rec *w = NULL;
	const char *id = NULL;
	char *merged = NULL;
	int rc;

	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	body = body_json && *body_json ? sky_json_loads(body_json) : NULL;
	if (!json_is_object(body))
		sky_engine__api_item(
		    items, body ? "model_attributes_type" : "missing", NULL,
		    body ? "Input should be a valid dictionary or "
		           "object to extract fields from"
		         : "Field required",
		    body);
	else
		validate(body, items, &id, &ov);
	if (json_array_size(items)) {
		rc = sky_engine__api_refuse(
		    out_json, http_status, 422, sky_engine__api_422(items),
		    SKY_EINVALID, "invalid workflow run request");
		goto out;
	}
	rc = sky_store_workflow_get(e->store, sky_engine__org_scope(e, org), id,
	                            &w);
	if (rc == SKY_ENOTFOUND) {
		rc = sky_engine__api_refuse(
		    out_json, http_status, 404,
		    sky_engine__api_detail("Workflow not found. "
		                           "workflow_permanent_id=%s",
		                           id),
		    SKY_ENOTFOUND, "workflow not found");
		goto out;
	}
	if (rc)
		goto out;
	req = sky_json_loads(w->request);
	if (!json_is_object(req)) {
		rc = sky_error_set(SKY_EIO, "workflow %s holds no request", id);
		goto out;
	}
	/* Overrides replace whole fields; the result is validated as a
	 * new request would be. */
	if (ov)
		json_object_update(req, ov);
	merged = sky_json_dumps(req);
	rc = sky_engine__run_submit(out_json, http_status, e, org, merged, opts,
	                            w->workflow_permanent_id);
	if (!rc)
		sky_log_info("engine", "workflow %s started", id);
out:
	free(merged);
	json_decref(req);
	json_decref(items);
	json_decref(body);
	sky_workflow_rec_free(w);
	return rc;
}
