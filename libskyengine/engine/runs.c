/*
 * Runs: the typed API (include/skyengine/run.h: sky_run, sky_task_options)
 * and its Tasks API adapter (include/skyengine/tasks_api.h: the same
 * operations answering the API's JSON and HTTP status). Both go through
 * one submit path (submit_rec) and one wait loop (wait_rec). Execution
 * happens on the worker pool (engine/runtime.c); this file only
 * validates, stores, shapes and signals.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <skyengine/run.h>
#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/request.h"
#include "engine/response.h"
#include "engine/scope.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

struct sky_run {
	sky_task_rec *rec;
};

void sky_free(void *p)
{
	free(p);
}

SKY_PRINTF(1, 2)
static char *detail_body(const char *fmt, ...)
{
	skyx_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *msg = skyx_buf_steal(&b);
	json_t *o = json_pack("{s:s}", "detail", msg ? msg : "");
	char *body = sky_json_dumps(o);
	json_decref(o);
	free(msg);
	return body;
}

char *sky_engine__run_json(sky_engine *e, const sky_task_rec *t)
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
	int live =
	    rc == 0 && bs &&
	    (!strcmp(bs->status, "created") || !strcmp(bs->status, "running"));
	sky_bsession_rec_free(bs);
	if (live)
		return 0;
	*status = 404;
	*out_json = detail_body("Browser session %s does not exist or is not "
	                        "live.",
	                        id);
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

static int check_credential(sky_engine *e, const char *org,
                            sky_task_request *req, char **out, int *status)
{
	sky_credential_rec *c = NULL;
	const sky_credentials_provider *vt = NULL;
	void *inst = NULL;
	/* A reference for the credentials provider: resolved at run time. */
	if (sky_engine__credential_external(req->credential_id) &&
	    sky_engine__credentials(e, &vt, &inst) == 0 && vt)
		return 0;
	int rc =
	    sky_store_credential_get(e->store, org, req->credential_id, &c);
	if (rc == SKY_ENOTFOUND) {
		*status = 404;
		*out =
		    detail_body("Credential %s not found", req->credential_id);
		return rc;
	}
	if (rc) {
		*status = 500;
		*out = detail_body("%s", sky_error_last());
		return rc;
	}
	if (!req->totp_identifier && c->totp_identifier)
		req->totp_identifier = skyx_strdup(c->totp_identifier);
	sky_credential_rec_free(c);
	return 0;
}

/*
 * The one submit path. On success 0 and *out_rec the stored run; on a refusal
 * a negative code, *err_json the API's error body and *http_status its
 * status (500 with *err_json NULL for an unexpected failure).
 */
static int submit_rec(sky_task_rec **out_rec, char **err_json, int *http_status,
                      sky_engine *e, const char *org_arg,
                      const char *request_json, const char *idem,
                      const char *signing_key, const char *workflow_id)
{
	sky_task_request *req = NULL;
	sky_request_error rerr = {0};
	sky_task_rec *t = NULL;
	sky_task_new tn;
	int existed = 0, status = 500, rc, reserved = 0;
	char *out = NULL;

	*out_rec = NULL;
	*err_json = NULL;
	*http_status = 500;
	if (sky_engine__org_is_any(org_arg))
		return sky_error_set(SKY_EINVALID, "a run is submitted for one "
		                                   "organization, not "
		                                   "SKY_ORGANIZATION_ANY");
	const char *body = request_json ? request_json : "";
	rc = sky_task_request_parse(body, strlen(body), &e->request_opts, &req,
	                            &rerr);
	if (rc) {
		status = rerr.status ? rerr.status : 422;
		out = rerr.body;
		rerr.body = NULL;
		sky_request_error_clear(&rerr);
		goto done;
	}
	const char *org = sky_engine__org_scope(e, org_arg);
	/* A credential of the caller's vault; its TOTP identifier is the
	 * run's when the request names none (as Skyvern's login). */
	if (req->credential_id &&
	    (rc = check_credential(e, org, req, &out, &status)))
		goto done;
	/* A stored-only engine has no live sessions: the store says. */
	if (req->browser_session_id && e->no_execute &&
	    (rc =
	         check_session(e, org, req->browser_session_id, &out, &status)))
		goto done;
	if (req->browser_profile_id) {
		sky_bprofile_rec *bp = NULL;
		rc = sky_store_bprofile_get(e->store, org,
		                            req->browser_profile_id, &bp);
		sky_bprofile_rec_free(bp);
		if (rc) {
			status = rc == SKY_ENOTFOUND ? 404 : 500;
			out = detail_body("Browser profile %s not found for "
			                  "organization %s",
			                  req->browser_profile_id,
			                  org ? org : "?");
			goto done;
		}
	}
	if (req->browser_session_id && !e->no_execute &&
	    (rc = sky_engine__session_reserve(e, org, req->browser_session_id,
	                                      idem, &reserved, &out, &status)))
		goto done;

	sky_task_request_to_new(req, &tn);
	tn.organization_id = org;
	tn.idempotency_key = idem;
	tn.workflow_permanent_id = workflow_id;
	rc = sky_store_task_create(e->store, &tn, &t, &existed);
	if (reserved)
		sky_engine__session_reserved(e, req->browser_session_id,
		                             rc || existed ? NULL : t->task_id,
		                             idem);
	if (rc) {
		status = rc == SKY_ENOTFOUND ? 404 : 500;
		out = detail_body("%s", sky_error_last() ? sky_error_last()
		                                         : "could not store "
		                                           "the run");
		goto done;
	}
	if (!existed && req->publish_workflow && (rc = publish(e, body, &t)))
		sky_log_error("engine",
		              "run %s: publishing its workflow "
		              "failed: %s",
		              t->task_id, sky_error_last());
	rc = 0;
	if (!existed) {
		sky_engine__run_created(e, t, req, signing_key);
		sky_log_info("engine", "run %s created (%s, %s)", t->task_id,
		             t->run_type, t->engine);
	}
	status = 200;
	*out_rec = t;
	t = NULL;
done:
	*err_json = out;
	*http_status = status;
	sky_task_rec_free(t);
	sky_task_request_free(req);
	return rc;
}

int sky_engine__run_submit(char **out_json, int *http_status, sky_engine *e,
                           const char *org, const char *request_json,
                           const sky_submit_options *opts,
                           const char *workflow_id)
{
	sky_task_rec *t = NULL;
	char *err = NULL;
	int status = 500, rc;

	if (http_status)
		*http_status = 500;
	if (!out_json || !e)
		return sky_error_set(SKY_EINVALID, "out_json and engine are "
		                                   "required");
	*out_json = NULL;
	if (opts &&
	    (rc = sky_engine__options_version(
	         "sky_submit_options", opts->version,
	         SKY_SUBMIT_OPTIONS_VERSION, SKY_SUBMIT_OPTIONS_VERSION)))
		return rc;
	rc = submit_rec(&t, &err, &status, e, org, request_json,
	                opts ? opts->idempotency_key : NULL,
	                opts ? opts->webhook_signing_key : NULL, workflow_id);
	if (!rc) {
		err = sky_engine__run_json(e, t);
		if (!err) {
			rc = sky_error_from_code(SKY_ENOMEM);
			status = 500;
		}
	}
	*out_json = err;
	if (http_status)
		*http_status = status;
	sky_task_rec_free(t);
	return rc;
}

int sky_tasks_api_run_submit(char **out_json, int *http_status, sky_engine *e,
                             const char *org, const char *request_json,
                             const sky_submit_options *opts)
{
	return sky_engine__run_submit(out_json, http_status, e, org,
	                              request_json, opts, NULL);
}

int sky_submit_options_init(sky_submit_options *opts, unsigned int version)
{
	return sky_engine__options_init(
	    opts, sizeof *opts, "sky_submit_options", version,
	    SKY_SUBMIT_OPTIONS_VERSION, SKY_SUBMIT_OPTIONS_VERSION);
}

int sky_list_options_init(sky_list_options *opts, unsigned int version)
{
	return sky_engine__options_init(opts, sizeof *opts, "sky_list_options",
	                                version, SKY_LIST_OPTIONS_VERSION,
	                                SKY_LIST_OPTIONS_VERSION);
}

int sky_task_options_init(sky_task_options *opts, unsigned int version)
{
	return sky_engine__options_init(opts, sizeof *opts, "sky_task_options",
	                                version, 1, SKY_TASK_OPTIONS_VERSION);
}

/* --- the typed run API (run.h) ------------------------------------------ */

static sky_run *run_wrap(sky_task_rec *t)
{
	sky_run *r = calloc(1, sizeof *r);
	if (!r) {
		sky_task_rec_free(t);
		return NULL;
	}
	r->rec = t;
	return r;
}

/* Set key `k` of `req` to the JSON text `text` (any JSON value). */
static int set_json_field(json_t *req, const char *k, const char *text)
{
	if (!text)
		return 0;
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!v)
		return sky_error_set(SKY_EINVALID,
		                     "sky_task_options.%s is not JSON text", k);
	json_object_set_new(req, k, v);
	return 0;
}

static void set_str_field(json_t *req, const char *k, const char *v)
{
	if (v)
		json_object_set_new(req, k, json_string(v));
}

/* The Tasks API request a sky_task_options stands for. */
static int task_request(const sky_task_options *o, char **out)
{
	json_t *req;
	int rc = 0;
	*out = NULL;
	if (o->request_json && *o->request_json) {
		req = sky_json_loads(o->request_json);
		if (!json_is_object(req)) {
			json_decref(req);
			return sky_error_set(SKY_EINVALID,
			                     "sky_task_options.request_json is "
			                     "not a JSON object");
		}
	} else {
		req = json_object();
	}
	if (!req)
		return sky_error_from_code(SKY_ENOMEM);
	set_str_field(req, "prompt", o->prompt);
	set_str_field(req, "url", o->url);
	set_str_field(req, "engine", o->engine);
	set_str_field(req, "title", o->title);
	set_str_field(req, "webhook_url", o->webhook_url);
	set_str_field(req, "totp_identifier", o->totp_identifier);
	set_str_field(req, "totp_url", o->totp_url);
	set_str_field(req, "browser_session_id", o->browser_session_id);
	if (o->max_steps < 0)
		rc = sky_error_set(SKY_EINVALID, "sky_task_options.max_steps "
		                                 "is negative");
	else if (o->max_steps > 0)
		json_object_set_new(req, "max_steps",
		                    json_integer(o->max_steps));
	if (!rc)
		rc = set_json_field(req, "data_extraction_schema",
		                    o->data_extraction_schema);
	if (!rc)
		rc = set_json_field(req, "navigation_payload",
		                    o->navigation_payload);
	if (!rc)
		rc = set_json_field(req, "error_code_mapping",
		                    o->error_code_mapping);
	if (!rc)
		rc = set_json_field(req, "proxy_location", o->proxy_location);
	if (!rc && !(*out = sky_json_dumps(req)))
		rc = sky_error_from_code(SKY_ENOMEM);
	json_decref(req);
	return rc;
}

int sky_run_submit(sky_run **out, sky_engine *e, const char *org,
                   const sky_task_options *opts)
{
	sky_task_rec *t = NULL;
	char *body = NULL, *err = NULL;
	int status, rc;

	if (out)
		*out = NULL;
	if (!out || !e || !opts)
		return sky_error_set(SKY_EINVALID, "out, engine and opts are "
		                                   "required");
	if ((rc = sky_engine__options_version("sky_task_options", opts->version,
	                                      1, SKY_TASK_OPTIONS_VERSION)))
		return rc;
	if ((rc = task_request(opts, &body)))
		return rc;
	rc = submit_rec(&t, &err, &status, e, org, body, opts->idempotency_key,
	                opts->webhook_signing_key, NULL);
	free(body);
	/* The refusal's sky_error_last() already says what the body does. */
	free(err);
	if (rc)
		return rc;
	if (!(*out = run_wrap(t)))
		return sky_error_from_code(SKY_ENOMEM);
	return 0;
}

int sky_run_get(sky_run **out, sky_engine *e, const char *org,
                const char *run_id)
{
	sky_task_rec *t = NULL;
	if (out)
		*out = NULL;
	if (!out || !e || !run_id)
		return sky_error_set(SKY_EINVALID, "out, engine and run_id are "
		                                   "required");
	int rc = sky_store_task_get(e->store, sky_engine__org_scope(e, org),
	                            run_id, &t);
	if (rc)
		return rc;
	if (!(*out = run_wrap(t)))
		return sky_error_from_code(SKY_ENOMEM);
	return 0;
}

/*
 * The one wait loop: 0 with *out final, SKY_ETIMEDOUT with *out the
 * current state, or the store's error with *out NULL.
 */
static int wait_rec(sky_task_rec **out, sky_engine *e, const char *org,
                    const char *run_id, int timeout_ms)
{
	int64_t deadline =
	    timeout_ms > 0 ? skyx_time_mono_ms() + timeout_ms : 0;
	const char *scope = sky_engine__org_scope(e, org);
	*out = NULL;
	for (;;) {
		uint64_t seq = sky_engine__change_seq(e);
		sky_task_rec *t = NULL;
		int rc = sky_store_task_get(e->store, scope, run_id, &t);
		if (rc)
			return rc;
		int final = sky_task_status_is_final(t->status);
		if (final || (deadline && skyx_time_mono_ms() >= deadline)) {
			*out = t;
			return final ? 0
			             : sky_error_set(
			                   SKY_ETIMEDOUT, "run %s is still %s",
			                   run_id,
			                   sky_task_status_name(t->status));
		}
		sky_task_rec_free(t);
		/* Sleep until any run changes (or a second passes: another
		 * process may share the store). */
		int64_t wait = 1000;
		if (deadline && deadline - skyx_time_mono_ms() < wait)
			wait = deadline - skyx_time_mono_ms();
		sky_engine__wait_change(e, seq, wait > 0 ? wait : 1);
	}
}

int sky_run_wait(sky_run **out, sky_engine *e, const char *org,
                 const char *run_id, int timeout_ms)
{
	sky_task_rec *t = NULL;
	if (out)
		*out = NULL;
	if (!out || !e || !run_id)
		return sky_error_set(SKY_EINVALID, "out, engine and run_id are "
		                                   "required");
	int rc = wait_rec(&t, e, org, run_id, timeout_ms);
	if (t && !(*out = run_wrap(t)))
		return sky_error_from_code(SKY_ENOMEM);
	return rc;
}

int sky_run_cancel(sky_engine *e, const char *org, const char *run_id)
{
	if (!e || !run_id)
		return sky_error_set(SKY_EINVALID, "engine and run_id are "
		                                   "required");
	return sky_engine__run_cancel(NULL, NULL, e,
	                              sky_engine__org_scope(e, org), run_id);
}

void sky_run_free(sky_run *r)
{
	if (!r)
		return;
	sky_task_rec_free(r->rec);
	free(r);
}

const char *sky_run_status_name(sky_run_status st)
{
	if ((int)st < 0 || (int)st >= SKY_TASK_STATUS_COUNT)
		return "unknown";
	return sky_task_status_name((sky_task_status)st);
}

int sky_run_status_is_final(sky_run_status st)
{
	if ((int)st < 0 || (int)st >= SKY_TASK_STATUS_COUNT)
		return 0;
	return sky_task_status_is_final((sky_task_status)st);
}

/* The public enum is the store's, value for value. */
_Static_assert((int)SKY_RUN_CANCELED == (int)SKY_TASK_CANCELED &&
                   (int)SKY_RUN_TIMED_OUT == (int)SKY_TASK_TIMED_OUT &&
                   (int)SKY_RUN_COMPLETED == (int)SKY_TASK_COMPLETED &&
                   SKY_TASK_STATUS_COUNT == 8,
               "sky_run_status follows sky_task_status");

#define RUN_FIELD(r, f) ((r) && (r)->rec ? (r)->rec->f : 0)

const char *sky_run_id(const sky_run *r)
{
	return RUN_FIELD(r, task_id);
}
sky_run_status sky_run_status_get(const sky_run *r)
{
	return (sky_run_status)RUN_FIELD(r, status);
}
const char *sky_run_type(const sky_run *r)
{
	return RUN_FIELD(r, run_type);
}
const char *sky_run_failure_reason(const sky_run *r)
{
	return RUN_FIELD(r, failure_reason);
}
const char *sky_run_output_json(const sky_run *r)
{
	return RUN_FIELD(r, output);
}
const char *sky_run_errors_json(const sky_run *r)
{
	const char *s = RUN_FIELD(r, errors);
	return s && strcmp(s, "[]") ? s : NULL;
}
const char *sky_run_prompt(const sky_run *r)
{
	return RUN_FIELD(r, prompt);
}
const char *sky_run_url(const sky_run *r)
{
	return RUN_FIELD(r, url);
}
const char *sky_run_title(const sky_run *r)
{
	return RUN_FIELD(r, title);
}
int sky_run_step_count(const sky_run *r)
{
	return RUN_FIELD(r, step_count);
}
int64_t sky_run_created_at(const sky_run *r)
{
	return RUN_FIELD(r, created_at);
}
int64_t sky_run_modified_at(const sky_run *r)
{
	return RUN_FIELD(r, modified_at);
}
int64_t sky_run_queued_at(const sky_run *r)
{
	return RUN_FIELD(r, queued_at);
}
int64_t sky_run_started_at(const sky_run *r)
{
	return RUN_FIELD(r, started_at);
}
int64_t sky_run_finished_at(const sky_run *r)
{
	return RUN_FIELD(r, finished_at);
}
const char *sky_run_browser_session_id(const sky_run *r)
{
	return RUN_FIELD(r, browser_session_id);
}
const char *sky_run_workflow_id(const sky_run *r)
{
	return RUN_FIELD(r, workflow_permanent_id);
}

/* --- the Tasks API adapter (tasks_api.h) -------------------------------- */

int sky_tasks_api_run_get(char **out_json, sky_engine *e, const char *org,
                          const char *run_id)
{
	sky_task_rec *t = NULL;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, run_id and out_json "
		                     "are required");
	*out_json = NULL;
	const char *scope = sky_engine__org_scope(e, org);
	uint64_t gen = sky_store_generation(e->store);
	if ((*out_json =
	         sky_engine__answers_get(e->answers, scope, run_id, gen)))
		return 0;
	int rc = sky_store_task_get(e->store, scope, run_id, &t);
	if (rc)
		return rc;
	*out_json = sky_engine__run_json(e, t);
	if (*out_json)
		sky_engine__answers_put(e->answers, t->organization_id,
		                        t->task_id, gen, *out_json);
	sky_task_rec_free(t);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_engine__run_cancel(char **err_json, int *http_status, sky_engine *e,
                           const char *scope, const char *run_id)
{
	sky_task_rec *t = NULL;
	int rc, status = 200;
	char *err = NULL;
	rc = sky_store_task_get(e->store, scope, run_id, &t);
	if (rc) {
		status = 404;
		err = detail_body("Run not found %s", run_id);
		rc = sky_error_set(SKY_ENOTFOUND, "Run not found %s", run_id);
		goto done;
	}
	if (t->status == SKY_TASK_CANCELED) {
		status = 400;
		err =
		    detail_body("Invalid task status transition from canceled "
		                "to canceled for %s because task is already "
		                "canceled",
		                run_id);
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
		                  sky_task_status_name(t->status), run_id);
		rc = sky_error_set(SKY_EINVALID, "run %s is already %s", run_id,
		                   sky_task_status_name(t->status));
		goto done;
	}
	sky_engine__run_canceled(e, after);
	sky_task_rec_free(after);
done:
	if (err_json)
		*err_json = err;
	else
		free(err);
	if (http_status)
		*http_status = status;
	sky_task_rec_free(t);
	return rc;
}

int sky_tasks_api_run_cancel(char **out_json, int *http_status, sky_engine *e,
                             const char *org, const char *run_id)
{
	if (out_json)
		*out_json = NULL;
	if (!e || !run_id)
		return sky_error_set(SKY_EINVALID, "engine and run_id are "
		                                   "required");
	return sky_engine__run_cancel(out_json, http_status, e,
	                              sky_engine__org_scope(e, org), run_id);
}

int sky_tasks_api_run_wait(char **out_json, sky_engine *e, const char *org,
                           const char *run_id, int timeout_ms)
{
	sky_task_rec *t = NULL;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, run_id and out_json "
		                     "are required");
	*out_json = NULL;
	int rc = wait_rec(&t, e, org, run_id, timeout_ms);
	if (t) {
		*out_json = sky_engine__run_json(e, t);
		sky_task_rec_free(t);
		if (!*out_json)
			return sky_error_from_code(SKY_ENOMEM);
	}
	return rc;
}

/* "a,b" -> mask; unknown names are an error. */
static int parse_statuses(const char *list, unsigned *mask)
{
	*mask = 0;
	if (!list || !*list)
		return 0;
	char *copy = skyx_strdup(list), *save = NULL;
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

static int list_query(sky_engine *e, const char *org, const sky_list_options *o,
                      sky_task_query *q)
{
	memset(q, 0, sizeof *q);
	if (o) {
		int rc = sky_engine__options_version(
		    "sky_list_options", o->version, SKY_LIST_OPTIONS_VERSION,
		    SKY_LIST_OPTIONS_VERSION);
		if (rc)
			return rc;
	}
	q->organization_id = sky_engine__org_scope(e, org);
	q->page = o && o->page > 0 ? o->page : 1;
	q->page_size = o && o->page_size > 0 ? o->page_size : 10;
	if (o && o->sort && !strcmp(o->sort, "modified_at"))
		q->sort = SKY_TASK_SORT_MODIFIED_AT;
	else if (o && o->sort && *o->sort && strcmp(o->sort, "created_at"))
		return sky_error_set(SKY_EINVALID, "unknown sort '%s'",
		                     o->sort);
	q->ascending = o ? o->ascending : 0;
	q->application = o ? o->application : NULL;
	return parse_statuses(o ? o->statuses : NULL, &q->status_mask);
}

int sky_tasks_api_tasks_list(char **out_json, sky_engine *e, const char *org,
                             const sky_list_options *o)
{
	sky_task_query q;
	sky_task_list *l = NULL;
	int rc;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if ((rc = list_query(e, org, o, &q)))
		return rc;
	/* As Skyvern: the tasks table, i.e. v1 tasks including the sub-tasks
	 * of v2 runs, not the v2 runs themselves. */
	q.run_type = SKY_RUN_TYPE_V1;
	if ((rc = sky_store_task_list(e->store, &q, &l)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(
		    arr, sky_response_task(&e->rctx, &l->items[i]));
	sky_task_list_free(l);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_runs_list(char **out_json, sky_engine *e, const char *org,
                            const sky_list_options *o)
{
	sky_task_query q;
	sky_task_list *l = NULL;
	int rc;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if ((rc = list_query(e, org, o, &q)))
		return rc;
	q.top_level_only = 1;
	json_t *arr = json_array();
	/* run_types: every name must be one of Skyvern's run types; the
	 * ones this engine never creates (workflow runs, computer-use
	 * agents) match nothing; both task types is no filter. */
	if (o && o->run_types && *o->run_types) {
		static const char *const never[] = {
		    "workflow_run", "openai_cua", "anthropic_cua", "ui_tars"};
		char *copy = skyx_strdup(o->run_types), *save = NULL;
		int v1 = 0, v2 = 0;
		rc = copy ? 0 : sky_error_from_code(SKY_ENOMEM);
		for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL;
		     tok && !rc; tok = strtok_r(NULL, ",", &save)) {
			int known = 0;
			for (size_t k = 0; k < sizeof never / sizeof never[0];
			     k++)
				known |= !strcmp(tok, never[k]);
			if (!strcmp(tok, SKY_RUN_TYPE_V1))
				v1 = 1;
			else if (!strcmp(tok, SKY_RUN_TYPE_V2))
				v2 = 1;
			else if (!known)
				rc = sky_error_set(
				    SKY_EINVALID, "unknown run type '%s'", tok);
		}
		free(copy);
		if (rc) {
			json_decref(arr);
			return rc;
		}
		if (!v1 && !v2) {
			*out_json = sky_json_dumps(arr);
			json_decref(arr);
			return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
		}
		q.run_type = v1 && v2 ? NULL
		             : v1     ? SKY_RUN_TYPE_V1
		                      : SKY_RUN_TYPE_V2;
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

int sky_tasks_api_run_steps_list(char **out_json, sky_engine *e,
                                 const char *org, const char *run_id)
{
	sky_task_rec *t = NULL;
	sky_step_list *l = NULL;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, run_id and out_json "
		                     "are required");
	*out_json = NULL;
	json_t *arr = json_array();
	/* Unknown or foreign task: an empty list, as the API answers. */
	if (!sky_store_task_get(e->store, sky_engine__org_scope(e, org), run_id,
	                        &t) &&
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

int sky_tasks_api_run_artifacts_list(char **out_json, sky_engine *e,
                                     const char *org, const char *run_id)
{
	sky_task_rec *t = NULL;
	sky_artifact_list *l = NULL;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, run_id and out_json "
		                     "are required");
	*out_json = NULL;
	int rc = sky_store_task_get(e->store, sky_engine__org_scope(e, org),
	                            run_id, &t);
	if (rc)
		return rc;
	sky_task_rec_free(t);
	if ((rc = sky_store_artifact_list(e->store, run_id, NULL, &l)))
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(
		    arr, sky_response_artifact(&e->rctx, &l->items[i]));
	sky_artifact_list_free(l);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}
