/*
 * Scripts: the replay plans a completed run leaves (docs/replay.md), in
 * the shapes of Skyvern's /v1/scripts (Script, ScriptVersionListResponse)
 * plus the plan itself. Scoped to the caller's organization: another
 * organization's script is a 404 like an unknown one.
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "util/error.h"
#include "util/json.h"
#include <skyx/str.h>
#include <skyx/time.h>

static json_t *ts_or_null(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

static json_t *script_obj(const sky_script_rec *s, int with_plan)
{
	json_t *o = json_object();
	json_object_set_new(o, "script_revision_id",
	                    json_string(s->script_revision_id));
	json_object_set_new(o, "script_id", json_string(s->script_id));
	json_object_set_new(o, "organization_id",
	                    json_string(s->organization_id));
	json_object_set_new(o, "run_id", sky_json_str_or_null(s->run_id));
	json_object_set_new(o, "version", json_integer(s->version));
	json_object_set_new(o, "created_at", ts_or_null(s->created_at));
	json_object_set_new(o, "modified_at", ts_or_null(s->modified_at));
	json_object_set_new(o, "deleted_at", ts_or_null(s->deleted_at));
	/* Ours: what the plan is keyed by and made of. */
	json_object_set_new(o, "cache_key", json_string(s->cache_key));
	json_object_set_new(o, "workflow_permanent_id",
	                    sky_json_str_or_null(s->workflow_permanent_id));
	json_object_set_new(o, "run_type", json_string(s->run_type));
	json_object_set_new(o, "goal_template",
	                    sky_json_str_or_null(s->goal_template));
	json_object_set_new(o, "url", sky_json_str_or_null(s->url));
	if (with_plan)
		json_object_set_new(o, "plan", sky_json_or_null(s->plan));
	return o;
}

static int dump(char **out_json, json_t *v)
{
	*out_json = sky_json_dumps(v);
	json_decref(v);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

static int not_found(char **out_json, int *http_status, const char *id)
{
	return sky_engine__api_refuse(
	    out_json, http_status, 404,
	    sky_engine__api_detail("Script not found %s", id ? id : ""),
	    SKY_ENOTFOUND, "script not found");
}

int sky_tasks_api_scripts_list(char **out_json, sky_engine *e, const char *org,
                               int page, int page_size)
{
	sky_script_list *l = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if (page < 1 || page_size < 1 || page_size > 100)
		return sky_error_set(SKY_EINVALID,
		                     "page must be >= 1 and page_size 1..100");
	int rc = sky_store_script_list(e->store, sky_engine__org_scope(e, org),
	                               page, page_size, &l);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(arr, script_obj(&l->items[i], 0));
	sky_script_list_free(l);
	return dump(out_json, arr);
}

int sky_tasks_api_script_get(char **out_json, int *http_status, sky_engine *e,
                             const char *org, const char *script_id)
{
	sky_script_rec *s = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	int rc = script_id ? sky_store_script_get(e->store,
	                                          sky_engine__org_scope(e, org),
	                                          script_id, 0, &s)
	                   : SKY_ENOTFOUND;
	if (rc == SKY_ENOTFOUND)
		return not_found(out_json, http_status, script_id);
	if (rc)
		return rc;
	rc = dump(out_json, script_obj(s, 1));
	sky_script_rec_free(s);
	return rc;
}

int sky_tasks_api_script_versions(char **out_json, int *http_status,
                                  sky_engine *e, const char *org,
                                  const char *script_id)
{
	sky_script_list *l = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	int rc = script_id
	             ? sky_store_script_versions(e->store,
	                                         sky_engine__org_scope(e, org),
	                                         script_id, &l)
	             : SKY_ENOTFOUND;
	if (rc == SKY_ENOTFOUND)
		return not_found(out_json, http_status, script_id);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++) {
		const sky_script_rec *s = &l->items[i];
		json_array_append_new(
		    arr,
		    json_pack("{s:i, s:s, s:o, s:o}", "version", s->version,
		              "script_revision_id", s->script_revision_id,
		              "created_at", ts_or_null(s->created_at), "run_id",
		              sky_json_str_or_null(s->run_id)));
	}
	sky_script_list_free(l);
	return dump(out_json, json_pack("{s:o}", "versions", arr));
}

int sky_tasks_api_script_delete(char **out_json, int *http_status,
                                sky_engine *e, const char *org,
                                const char *script_id)
{
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	int rc = script_id
	             ? sky_store_script_delete(
	                   e->store, sky_engine__org_scope(e, org), script_id)
	             : SKY_ENOTFOUND;
	if (rc == SKY_ENOTFOUND)
		return not_found(out_json, http_status, script_id);
	return rc;
}
