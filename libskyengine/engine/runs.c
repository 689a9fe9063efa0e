/*
 * The public run API (include/skyengine/run.h): submit, get, cancel,
 * wait, lists, steps, artifacts, event subscriptions. Execution happens on
 * the worker pool (engine/workers.c); this file only validates, stores,
 * shapes JSON and signals.
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/run.h>

#include "engine/engine_internal.h"
#include "engine/request.h"
#include "engine/response.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"
#include "util/time.h"

void sky_free(void *p)
{
	free(p);
}

static char *detail_body(const char *fmt, const char *a, const char *b,
                         const char *c)
{
	char *msg = sky_asprintf(fmt, a, b ? b : "", c ? c : "");
	json_t *o = json_pack("{s:s}", "detail", msg ? msg : "");
	char *body = sky_json_dumps(o);
	json_decref(o);
	free(msg);
	return body;
}

/* NULL: the default organization; "*": any (a host that checked access
 * another way, e.g. a signed link). */
static const char *org_or_default(sky_engine *e, const char *org)
{
	if (org && !strcmp(org, "*"))
		return NULL;
	return org && *org ? org : sky_store_default_org(e->store);
}

char *sky__run_json(sky_engine *e, const sky_task_rec *t)
{
	json_t *o = sky_response_run(&e->rctx, t);
	char *s = sky_json_dumps(o);
	json_decref(o);
	return s;
}

/* The browser session must exist, belong to the org and be live. */
static int check_session(sky_engine *e, const char *org, const char *id,
                         char **out_json, int *status)
{
	sky_bsession_rec *bs = NULL;
	int rc = sky_store_bsession_get(e->store, org, id, &bs);
	int live = rc == 0 && bs &&
	           (!strcmp(bs->status, "created") ||
	            !strcmp(bs->status, "running"));
	sky_bsession_rec_free(bs);
	if (live)
		return 0;
	*status = 404;
	*out_json = detail_body("Browser session %s does not exist or is not "
	                        "live.",
	                        id, NULL, NULL);
	return sky_error_set(SKY_ENOTFOUND,
	                     "browser session %s does not exist or is not live",
	                     id);
}

/*
 * publish_workflow: the request, as the client sent it but without the
 * flag, becomes a workflow that POST /v1/run/workflows can start again.
 * The run records the workflow's id.
 */
static int publish(sky_engine *e, const char *body, sky_task_rec **t)
{
	json_t *req = sky_json_loads(body);
	sky_workflow_rec *w = NULL;
	sky_task_rec *now = NULL;
	int rc;
	if (!json_is_object(req)) {
		json_decref(req);
		return sky_error_set(SKY_EINVALID, "request is not an object");
	}
	json_object_del(req, "publish_workflow");
	char *text = sky_json_dumps(req);
	json_decref(req);
	rc = sky_store_workflow_create(e->store, (*t)->organization_id,
	                               (*t)->title, text, (*t)->task_id, &w);
	free(text);
	if (!rc)
		rc = sky_store_task_set_workflow(e->store, (*t)->task_id,
		                                 w->workflow_permanent_id);
	if (!rc)
		rc = sky_store_task_get(e->store, NULL, (*t)->task_id, &now);
	if (!rc) {
		sky_log_info("engine", "run %s published as workflow %s",
		             now->task_id, w->workflow_permanent_id);
		sky_task_rec_free(*t);
		*t = now;
	}
	sky_workflow_rec_free(w);
	return rc;
}

int sky__run_submit(sky_engine *e, const char *request_json,
                    const sky_submit_options *opts, const char *workflow_id,
                    char **out_json, int *http_status)
{
	sky_task_request *req = NULL;
	sky_request_error rerr = {0};
	sky_task_rec *t = NULL;
	sky_task_new tn;
	int existed = 0, status = 500, rc, reserved = 0;
	char *out = NULL;
	const char *idem = opts ? opts->idempotency_key : NULL;

	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	const char *body = request_json ? request_json : "";
	rc = sky_task_request_parse(body, strlen(body), &e->request_opts,
	                            &req, &rerr);
	if (rc) {
		status = rerr.status ? rerr.status : 422;
		out = rerr.body;
		rerr.body = NULL;
		sky_request_error_clear(&rerr);
		goto done;
	}
	const char *org = org_or_default(e, opts ? opts->organization_id
	                                         : NULL);
	/* A stored-only engine has no live sessions: the store says. */
	if (req->browser_session_id && e->no_execute &&
	    (rc = check_session(e, org, req->browser_session_id, &out,
	                        &status)))
		goto done;
	if (req->browser_session_id && !e->no_execute &&
	    (rc = sky__session_reserve(e, org, req->browser_session_id, idem,
	                               &reserved, &out, &status)))
		goto done;

	sky_task_request_to_new(req, &tn);
	tn.organization_id = org;
	tn.idempotency_key = idem;
	tn.workflow_permanent_id = workflow_id;
	rc = sky_store_task_create(e->store, &tn, &t, &existed);
	if (reserved)
		sky__session_reserved(e, req->browser_session_id,
		                      rc || existed ? NULL : t->task_id, idem);
	if (rc) {
		status = rc == SKY_ENOTFOUND ? 404 : 500;
		out = detail_body("%s", sky_error_last() ? sky_error_last()
		                                         : "could not store "
		                                           "the run",
		                  NULL, NULL);
		goto done;
	}
	if (!existed && req->publish_workflow && (rc = publish(e, body, &t)))
		sky_log_error("engine", "run %s: publishing its workflow "
		              "failed: %s",
		              t->task_id, sky_error_last());
	rc = 0;
	if (!existed) {
		sky__engine_run_created(e, t, req,
		                        opts ? opts->webhook_signing_key : NULL);
		sky_log_info("engine", "run %s created (%s, %s)", t->task_id,
		             t->run_type, t->engine);
	}
	status = 200;
	out = sky__run_json(e, t);
	if (!out)
		rc = sky_error_from_code(SKY_ENOMEM);
done:
	*out_json = out;
	if (http_status)
		*http_status = status;
	sky_task_rec_free(t);
	sky_task_request_free(req);
	return rc;
}

int sky_run_submit(sky_engine *e, const char *request_json,
                   const sky_submit_options *opts, char **out_json,
                   int *http_status)
{
	return sky__run_submit(e, request_json, opts, NULL, out_json,
	                       http_status);
}

int sky_run_get(sky_engine *e, const char *org, const char *run_id,
                char **out_json)
{
	sky_task_rec *t = NULL;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, run_id and out_json "
		                                   "are required");
	*out_json = NULL;
	int rc = sky_store_task_get(e->store, org_or_default(e, org), run_id,
	                            &t);
	if (rc)
		return rc;
	*out_json = sky__run_json(e, t);
	sky_task_rec_free(t);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_run_cancel(sky_engine *e, const char *org, const char *run_id,
                   char **error_json, int *http_status)
{
	sky_task_rec *t = NULL;
	int rc, status = 200;
	char *err = NULL;
	if (!e || !run_id)
		return sky_error_set(SKY_EINVALID, "engine and run_id are "
		                                   "required");
	rc = sky_store_task_get(e->store, org_or_default(e, org), run_id, &t);
	if (rc) {
		status = 404;
		err = detail_body("Run not found %s", run_id, NULL, NULL);
		rc = sky_error_set(SKY_ENOTFOUND, "Run not found %s", run_id);
		goto done;
	}
	if (t->status == SKY_TASK_CANCELED) {
		status = 400;
		err = detail_body("Invalid task status transition from canceled "
		                  "to canceled for %s because task is already "
		                  "canceled",
		                  run_id, NULL, NULL);
		rc = sky_error_set(SKY_EINVALID, "run %s is already canceled",
		                   run_id);
		goto done;
	}
	sky_task_rec *after = NULL;
	rc = sky_store_task_set_status(e->store, run_id, SKY_TASK_CANCELED,
	                               NULL, &after);
	if (rc) {
		/* Finished already (or finished while we looked). */
		status = 400;
		err = detail_body("Invalid task status transition from %s to "
		                  "canceled for %s",
		                  sky_task_status_name(t->status), run_id, NULL);
		goto done;
	}
	sky__engine_run_canceled(e, after);
	sky_task_rec_free(after);
done:
	if (error_json)
		*error_json = err;
	else
		free(err);
	if (http_status)
		*http_status = status;
	sky_task_rec_free(t);
	return rc;
}

int sky_run_wait(sky_engine *e, const char *run_id, int timeout_ms,
                 char **out_json)
{
	int64_t deadline = timeout_ms > 0 ? sky_time_mono_ms() + timeout_ms : 0;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, run_id and out_json "
		                                   "are required");
	*out_json = NULL;
	for (;;) {
		uint64_t seq = sky__engine_change_seq(e);
		sky_task_rec *t = NULL;
		int rc = sky_store_task_get(e->store, NULL, run_id, &t);
		if (rc)
			return rc;
		int final = sky_task_status_is_final(t->status);
		if (final || (deadline && sky_time_mono_ms() >= deadline)) {
			*out_json = sky__run_json(e, t);
			sky_task_rec_free(t);
			return final ? 0
			             : sky_error_set(SKY_ETIMEDOUT,
			                             "run %s is still %s", run_id,
			                             "running");
		}
		sky_task_rec_free(t);
		/* Sleep until any run changes (or a second passes: another
		 * process may share the store). */
		int64_t wait = 1000;
		if (deadline && deadline - sky_time_mono_ms() < wait)
			wait = deadline - sky_time_mono_ms();
		sky__engine_wait_change(e, seq, wait > 0 ? wait : 1);
	}
}

/* "a,b" -> mask; unknown names are an error. */
static int parse_statuses(const char *list, unsigned *mask)
{
	*mask = 0;
	if (!list || !*list)
		return 0;
	char *copy = sky_strdup(list), *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		sky_task_status st;
		if (sky_task_status_from_name(tok, &st)) {
			rc = sky_error_set(SKY_EINVALID, "unknown status '%s'",
			                   tok);
			break;
		}
		*mask |= SKY_TASK_MASK(st);
	}
	free(copy);
	return rc;
}

static int list_query(sky_engine *e, const sky_list_options *o,
                      sky_task_query *q)
{
	memset(q, 0, sizeof *q);
	q->organization_id = org_or_default(e, o ? o->organization_id : NULL);
	q->page = o && o->page > 0 ? o->page : 1;
	q->page_size = o && o->page_size > 0 ? o->page_size : 10;
	if (o && o->sort && !strcmp(o->sort, "modified_at"))
		q->sort = SKY_TASK_SORT_MODIFIED_AT;
	else if (o && o->sort && *o->sort && strcmp(o->sort, "created_at"))
		return sky_error_set(SKY_EINVALID, "unknown sort '%s'", o->sort);
	q->ascending = o ? o->ascending : 0;
	q->application = o && o->version >= 2 ? o->application : NULL;
	return parse_statuses(o ? o->statuses : NULL, &q->status_mask);
}

int sky_tasks_list(sky_engine *e, const sky_list_options *o, char **out_json)
{
	sky_task_query q;
	sky_task_list *l = NULL;
	int rc;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if ((rc = list_query(e, o, &q)))
		return rc;
	/* As Skyvern: the tasks table, i.e. v1 tasks including the sub-tasks
	 * of v2 runs, not the v2 runs themselves. */
	q.run_type = SKY_RUN_TYPE_V1;
	if ((rc = sky_store_task_list(e->store, &q, &l)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(arr,
		                      sky_response_task(&e->rctx, &l->items[i]));
	sky_task_list_free(l);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_runs_list(sky_engine *e, const sky_list_options *o, char **out_json)
{
	sky_task_query q;
	sky_task_list *l = NULL;
	int rc;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if ((rc = list_query(e, o, &q)))
		return rc;
	q.top_level_only = 1;
	json_t *arr = json_array();
	/* run_types: one query per requested type keeps the store simple. */
	const char *types = o && o->run_types && *o->run_types ? o->run_types
	                                                        : NULL;
	if (types && strchr(types, ',')) {
		q.run_type = NULL; /* both types: no filter */
	} else if (types) {
		if (strcmp(types, SKY_RUN_TYPE_V1) &&
		    strcmp(types, SKY_RUN_TYPE_V2)) {
			json_decref(arr);
			return sky_error_set(SKY_EINVALID,
			                     "unknown run type '%s'", types);
		}
		q.run_type = types;
	}
	if ((rc = sky_store_task_list(e->store, &q, &l))) {
		json_decref(arr);
		return rc;
	}
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(arr,
		                      sky_response_run_summary(&l->items[i]));
	sky_task_list_free(l);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_run_steps(sky_engine *e, const char *org, const char *run_id,
                  char **out_json)
{
	sky_task_rec *t = NULL;
	sky_step_list *l = NULL;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, run_id and out_json "
		                                   "are required");
	*out_json = NULL;
	json_t *arr = json_array();
	/* Unknown or foreign task: an empty list, as the API answers. */
	if (!sky_store_task_get(e->store, org_or_default(e, org), run_id, &t) &&
	    !sky_store_step_list(e->store, run_id, &l)) {
		for (size_t i = 0; i < l->count; i++)
			json_array_append_new(arr,
			                      sky_response_step(&l->items[i]));
	}
	sky_step_list_free(l);
	sky_task_rec_free(t);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_run_artifacts(sky_engine *e, const char *org, const char *run_id,
                      char **out_json)
{
	sky_task_rec *t = NULL;
	sky_artifact_list *l = NULL;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, run_id and out_json "
		                                   "are required");
	*out_json = NULL;
	int rc = sky_store_task_get(e->store, org_or_default(e, org), run_id,
	                            &t);
	if (rc)
		return rc;
	sky_task_rec_free(t);
	if ((rc = sky_store_artifact_list(e->store, run_id, NULL, &l)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(arr, sky_response_artifact(&e->rctx,
		                                                 &l->items[i]));
	sky_artifact_list_free(l);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}
