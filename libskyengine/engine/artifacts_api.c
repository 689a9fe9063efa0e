/*
 * Read routes beyond a run's own: one artifact (GET /v1/artifacts/{id}),
 * a step's or an entity's artifacts, and the organization's pushed
 * verification codes (GET /v1/credentials/totp), in Skyvern's shapes.
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

static char *dump(json_t *o)
{
	char *s = o ? sky_json_dumps(o) : NULL;
	json_decref(o);
	return s;
}

int sky_tasks_api_artifact_get(char **out_json, sky_engine *e, const char *org,
                               const char *artifact_id)
{
	sky_artifact_rec *a = NULL;
	if (!e || !artifact_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, artifact_id and "
		                                   "out_json are required");
	*out_json = NULL;
	int rc = sky_store_artifact_get(e->store, sky_engine__org_scope(e, org),
	                                artifact_id, &a);
	if (rc)
		return sky_error_set(SKY_ENOTFOUND, "Artifact not found %s",
		                     artifact_id);
	*out_json = dump(sky_response_artifact(&e->rctx, a));
	sky_artifact_rec_free(a);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

/* The task's artifacts whose step is `step_id` (NULL: all), as JSON. */
static int list_of(sky_engine *e, const char *org, const char *task_id,
                   const char *step_id, char **out_json)
{
	sky_task_rec *t = NULL;
	sky_artifact_list *l = NULL;
	json_t *arr = json_array();
	/* Unknown or foreign: an empty list, as Skyvern's queries answer. */
	if (task_id &&
	    !sky_store_task_get(e->store, sky_engine__org_scope(e, org),
	                        task_id, &t) &&
	    !sky_store_artifact_list(e->store, task_id, NULL, &l)) {
		for (size_t i = 0; i < l->count; i++) {
			const sky_artifact_rec *a = &l->items[i];
			if (step_id && !skyx_str_eq(a->step_id, step_id))
				continue;
			json_array_append_new(
			    arr, sky_response_artifact(&e->rctx, a));
		}
	}
	sky_artifact_list_free(l);
	sky_task_rec_free(t);
	*out_json = dump(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_step_artifacts_list(char **out_json, sky_engine *e,
                                      const char *org, const char *task_id,
                                      const char *step_id)
{
	if (!e || !task_id || !step_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, task_id, step_id "
		                                   "and out_json are required");
	*out_json = NULL;
	return list_of(e, org, task_id, step_id, out_json);
}

int sky_tasks_api_entity_artifacts_list(char **out_json, sky_engine *e,
                                        const char *org,
                                        const char *entity_type,
                                        const char *entity_id)
{
	if (!e || !entity_type || !entity_id || !out_json)
		return sky_error_set(SKY_EINVALID, "entity_type, entity_id and "
		                                   "out_json are required");
	*out_json = NULL;
	if (!strcmp(entity_type, "task"))
		return list_of(e, org, entity_id, NULL, out_json);
	if (!strcmp(entity_type, "step")) {
		sky_step_rec *st = NULL;
		char *task = NULL;
		if (!sky_store_step_get(e->store, entity_id, &st))
			task = skyx_strdup(st->task_id);
		sky_step_rec_free(st);
		int rc = list_of(e, org, task, entity_id, out_json);
		free(task);
		return rc;
	}
	/* Entities this engine never creates: nothing belongs to them. */
	if (!strcmp(entity_type, "workflow_run") ||
	    !strcmp(entity_type, "workflow_run_block") ||
	    !strcmp(entity_type, "thought"))
		return list_of(e, org, NULL, NULL, out_json);
	return sky_error_set(SKY_EINVALID, "Input should be 'step', 'task', "
	                                   "'workflow_run', "
	                                   "'workflow_run_block' or 'thought'");
}

static json_t *ts_or_null(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

int sky_tasks_api_totp_codes_list(char **out_json, sky_engine *e,
                                  const char *org, const char *totp_identifier,
                                  const char *workflow_run_id,
                                  const char *otp_type, int limit)
{
	sky_totp_list *l = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	int rc = sky_store_totp_list(e->store, sky_engine__org_scope(e, org),
	                             totp_identifier, workflow_run_id, otp_type,
	                             limit, &l);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++) {
		const sky_totp_rec *r = &l->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "totp_identifier",
		                    json_string(r->totp_identifier));
		json_object_set_new(o, "task_id",
		                    sky_json_str_or_null(r->task_id));
		json_object_set_new(o, "workflow_id", json_null());
		json_object_set_new(o, "workflow_run_id",
		                    sky_json_str_or_null(r->workflow_run_id));
		json_object_set_new(o, "source",
		                    sky_json_str_or_null(r->source));
		json_object_set_new(o, "content", json_string(r->content));
		json_object_set_new(o, "expired_at", ts_or_null(r->expired_at));
		json_object_set_new(o, "totp_code_id",
		                    json_string(r->totp_code_id));
		json_object_set_new(o, "code", json_string(r->code));
		json_object_set_new(o, "organization_id",
		                    json_string(r->organization_id));
		json_object_set_new(o, "created_at", ts_or_null(r->created_at));
		json_object_set_new(o, "modified_at",
		                    ts_or_null(r->modified_at));
		json_object_set_new(o, "otp_type", json_string(r->otp_type));
		json_array_append_new(arr, o);
	}
	sky_totp_list_free(l);
	*out_json = dump(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}
