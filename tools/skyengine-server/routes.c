/*
 * skyengine-server routes: the Skyvern Tasks API (seed + contract), with
 * FastAPI-shaped errors, 403 auth, trailing-slash aliases, 404/405.
 * Every handler runs on the engine's public API.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "server.h"
#include <skyx/fs.h>
#include <skyx/str.h>

#define COMPONENT "server"

typedef struct ctx {
	srv *s;
	const srv_req *req;
	srv_resp *resp;
	char *org;    /* authenticated organization */
	int any_org;  /* a signed link: the signature names the object */
	char *seg[8]; /* path segments */
	int n_seg;
	json_t *body; /* parsed JSON body, if any */
} ctx;

/* The organization argument of the engine's calls. */
#define ORG(c) ((c)->any_org ? SKY_ORGANIZATION_ANY : (c)->org)

typedef void (*route_fn)(ctx *c);

enum auth_mode { AUTH_NONE, AUTH_KEY, AUTH_KEY_OR_SIGNED };

typedef struct route {
	enum srv_method method;
	const char *pattern; /* segments; "*" matches one */
	route_fn fn;
	enum auth_mode auth;
	int slow;
} route;

/* --- responses ------------------------------------------------------- */

static void reply_json(ctx *c, int status, json_t *v)
{
	/* json_pack refuses a quoted input that is not UTF-8 (a query
	 * value %FD decodes to such a byte): still answer with a body. */
	if (!v)
		v = json_pack("{s:s}", "detail",
		              "The request contains text that is not UTF-8");
	char *s =
	    json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	json_decref(v);
	srv_resp_take(c->resp, status, "application/json", s,
	              s ? strlen(s) : 0);
}

static void reply_raw(ctx *c, int status, char *json_text)
{
	srv_resp_take(c->resp, status, "application/json", json_text,
	              json_text ? strlen(json_text) : 0);
}

static void reply_detail(ctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_detail(ctx *c, int status, const char *fmt, ...)
{
	va_list ap;
	skyx_buf b = {0};
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	json_t *d = json_string(b.data ? b.data : "");
	/* A path or id quoted back may not be UTF-8 (%FF decodes to a
	 * byte): answer with it masked rather than with no body. */
	for (size_t i = 0; !d && i < b.len; i++)
		if ((unsigned char)b.data[i] >= 0x80)
			b.data[i] = '?';
	if (!d)
		d = json_string(b.data ? b.data : "");
	reply_json(c, status, json_pack("{s:o}", "detail", d));
	skyx_buf_free(&b);
}

/* FastAPI's 422 for one query parameter. */
static void reply_query_error(ctx *c, const char *name, const char *type,
                              const char *msg, const char *input)
{
	json_t *item =
	    json_pack("{s:s, s:[s,s], s:s, s:s?}", "type", type, "loc", "query",
	              name, "msg", msg, "input", input);
	reply_json(c, 422, json_pack("{s:[o]}", "detail", item));
}

static void reply_unexpected(ctx *c, const char *what)
{
	srv_log_error(COMPONENT, "%s %s: unexpected error: %s",
	              c->req->method_name, c->req->path, what);
	reply_json(
	    c, 500,
	    json_pack("{s:s}", "error", "Unexpected error: EngineError"));
}

/* An engine answer in the API's shapes: the body it gave, else a 500. */
static void reply_engine(ctx *c, int rc, char *out, int status)
{
	if (out)
		reply_raw(c, rc ? status : 200, out);
	else
		reply_unexpected(c, sky_error_last() ? sky_error_last() : "?");
}

/* --- query helpers ----------------------------------------------------- */

/* An integer query parameter >= min. Returns 0 and *out, 1 when absent
 * (*out untouched), -1 after replying 422. */
static int query_int(ctx *c, const char *name, int min, int max, int *out)
{
	const char *v = srv_req_query(c->req, name);
	if (!v)
		return 1;
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end) {
		reply_query_error(c, name, "int_parsing",
		                  "Input should be a valid integer, unable to "
		                  "parse string as an integer",
		                  v);
		return -1;
	}
	if (n < min) {
		char msg[64];
		snprintf(msg, sizeof msg,
		         "Input should be greater than or equal to %d", min);
		reply_query_error(c, name, "greater_than_equal", msg, v);
		return -1;
	}
	if (max > 0 && n > max) {
		char msg[64];
		snprintf(msg, sizeof msg,
		         "Input should be less than or equal to %d", max);
		reply_query_error(c, name, "less_than_equal", msg, v);
		return -1;
	}
	*out = (int)n;
	return 0;
}

/* All values of a repeatable parameter, comma-joined (malloc'd) or NULL. */
static char *query_all(const srv_req *r, const char *name)
{
	skyx_buf b = {0};
	size_t nl = strlen(name);
	for (size_t i = 0; i < r->n_query; i++) {
		if (strncmp(r->query[i], name, nl) || r->query[i][nl] != '=')
			continue;
		if (b.len)
			skyx_buf_putc(&b, ',');
		skyx_buf_puts(&b, r->query[i] + nl + 1);
	}
	return b.len ? skyx_buf_steal(&b) : (skyx_buf_free(&b), NULL);
}

/* --- handlers ---------------------------------------------------------- */

static void h_heartbeat(ctx *c)
{
	reply_json(c, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_version(ctx *c)
{
	reply_json(c, 200, json_pack("{s:s}", "version", sky_version()));
}

static void h_models(ctx *c)
{
	char *out = NULL;
	int rc = sky_tasks_api_models_list(&out, c->s->engine);
	reply_engine(c, rc, out, 500);
}

static void h_openapi(ctx *c)
{
	reply_raw(c, 200, skyx_strdup(srv_openapi_json()));
}

static void h_run_task(ctx *c)
{
	sky_submit_options so = SKY_SUBMIT_OPTIONS_INIT;
	char *out = NULL;
	int status = 500;
	so.idempotency_key = c->req->idempotency_key;
	so.webhook_signing_key = c->req->api_key;
	sky_tasks_api_run_submit(&out, &status, c->s->engine, ORG(c),
	                         c->req->body ? c->req->body : "", &so);
	if (!out) {
		reply_unexpected(c, sky_error_last() ? sky_error_last() : "?");
		return;
	}
	reply_raw(c, status, out);
}

static void h_get_run(ctx *c)
{
	char *out = NULL;
	const char *id = c->seg[c->n_seg - 1];
	int rc = sky_tasks_api_run_get(&out, c->s->engine, ORG(c), id);
	if (rc == SKY_ENOTFOUND) {
		reply_detail(c, 404, "Task run not found %s", id);
		return;
	}
	if (rc) {
		reply_unexpected(c, sky_error_last());
		return;
	}
	reply_raw(c, 200, out);
}

static void h_cancel(ctx *c)
{
	char *err = NULL;
	int status = 500;
	int rc = sky_tasks_api_run_cancel(&err, &status, c->s->engine, ORG(c),
	                                  c->seg[2]);
	if (rc == 0) {
		reply_raw(c, 200, skyx_strdup("null"));
		free(err);
		return;
	}
	if (err)
		reply_raw(c, status, err);
	else
		reply_unexpected(c, sky_error_last());
}

static void h_bulk_cancel(ctx *c)
{
	json_t *ids = json_object_get(c->body, "run_ids");
	if (!json_is_array(ids)) {
		json_t *item = json_pack(
		    "{s:s, s:[s,s], s:s, s:O?}", "type",
		    json_is_object(c->body) && !ids ? "missing" : "list_type",
		    "loc", "body", "run_ids", "msg",
		    !ids ? "Field required" : "Input should be a valid list",
		    "input", ids ? ids : c->body);
		reply_json(c, 422, json_pack("{s:[o]}", "detail", item));
		return;
	}
	if (json_array_size(ids) > 100) {
		json_t *item = json_pack(
		    "{s:s, s:[s,s], s:s}", "type", "too_long", "loc", "body",
		    "run_ids", "msg",
		    "List should have at most 100 items after validation");
		reply_json(c, 422, json_pack("{s:[o]}", "detail", item));
		return;
	}
	/* As Skyvern's BulkCancelRunsResponse: both lists hold run ids,
	 * and a repeated id is tried once (dict.fromkeys). */
	json_t *ok = json_array(), *failed = json_array(),
	       *seen = json_object();
	size_t i;
	json_t *v;
	json_array_foreach (ids, i, v) {
		if (!json_is_string(v)) {
			json_t *item = json_pack(
			    "{s:s, s:[s,s,i], s:s, s:O}", "type", "string_type",
			    "loc", "body", "run_ids", (int)i, "msg",
			    "Input should be a valid string", "input", v);
			reply_json(c, 422,
			           json_pack("{s:[o]}", "detail", item));
			json_decref(ok);
			json_decref(failed);
			json_decref(seen);
			return;
		}
	}
	json_array_foreach (ids, i, v) {
		const char *id = json_string_value(v);
		char *err = NULL;
		if (json_object_get(seen, id))
			continue;
		json_object_set_new(seen, id, json_true());
		if (sky_tasks_api_run_cancel(&err, NULL, c->s->engine, ORG(c),
		                             id) == 0)
			json_array_append_new(ok, json_string(id));
		else
			json_array_append_new(failed, json_string(id));
		free(err);
	}
	json_decref(seen);
	reply_json(c, 200,
	           json_pack("{s:o, s:o}", "cancelled", ok, "failed", failed));
}

static void h_list_runs(ctx *c)
{
	sky_list_options o = SKY_LIST_OPTIONS_INIT;
	char *out = NULL;
	o.page = 1;
	o.page_size = 10;
	if (query_int(c, "page", 1, 100, &o.page) < 0 ||
	    query_int(c, "page_size", 1, 100, &o.page_size) < 0)
		return;
	/* Filters Skyvern applies that this server has no data for: a 400,
	 * never an unfiltered list. */
	static const char *const unsupported[] = {
	    "search_key", "workflow_permanent_id", "tags"};
	for (size_t i = 0; i < 3; i++)
		if (srv_req_query(c->req, unsupported[i])) {
			reply_detail(c, 400, "%s is not supported by skyengine",
			             unsupported[i]);
			return;
		}
	char *st = query_all(c->req, "status");
	char *rt = query_all(c->req, "run_type");
	o.statuses = st;
	o.run_types = rt;
	int rc = sky_tasks_api_runs_list(&out, c->s->engine, ORG(c), &o);
	if (rc == SKY_EINVALID)
		reply_query_error(c, st ? "status" : "run_type", "enum",
		                  sky_error_last(), st ? st : rt);
	else if (rc)
		reply_unexpected(c, sky_error_last());
	else
		reply_raw(c, 200, out);
	free(st);
	free(rt);
}

static void h_list_tasks(ctx *c)
{
	sky_list_options o = SKY_LIST_OPTIONS_INIT;
	char *out = NULL;
	o.page = 1;
	o.page_size = 10;
	if (query_int(c, "page", 1, 0, &o.page) < 0 ||
	    query_int(c, "page_size", 1, 0, &o.page_size) < 0)
		return;
	const char *sort = srv_req_query(c->req, "sort");
	const char *order = srv_req_query(c->req, "order");
	if (sort && strcmp(sort, "created_at") && strcmp(sort, "modified_at")) {
		reply_query_error(c, "sort", "enum",
		                  "Input should be 'created_at' or "
		                  "'modified_at'",
		                  sort);
		return;
	}
	if (order && strcmp(order, "asc") && strcmp(order, "desc")) {
		reply_query_error(c, "order", "enum",
		                  "Input should be 'asc' or 'desc'", order);
		return;
	}
	o.sort = sort;
	o.ascending = order && !strcmp(order, "asc");
	o.application = srv_req_query(c->req, "application");
	const char *standalone = srv_req_query(c->req, "only_standalone_tasks");
	if (srv_req_query(c->req, "workflow_run_id") ||
	    (standalone && strcmp(standalone, "false") &&
	     strcmp(standalone, "0"))) {
		reply_detail(c, 400,
		             "workflow_run_id and only_standalone_tasks "
		             "are not supported by skyengine: there are "
		             "no workflow runs");
		return;
	}
	char *st = query_all(c->req, "task_status");
	o.statuses = st;
	int rc = sky_tasks_api_tasks_list(&out, c->s->engine, ORG(c), &o);
	if (rc == SKY_EINVALID)
		reply_query_error(c, "task_status", "enum",
		                  "Input should be 'created', 'queued', "
		                  "'running', 'timed_out', 'failed', "
		                  "'terminated', 'completed' or 'canceled'",
		                  st);
	else if (rc)
		reply_unexpected(c, sky_error_last());
	else
		reply_raw(c, 200, out);
	free(st);
}

static void h_steps(ctx *c)
{
	char *out = NULL;
	if (sky_tasks_api_run_steps_list(&out, c->s->engine, ORG(c), c->seg[3]))
		reply_unexpected(c, sky_error_last());
	else
		reply_raw(c, 200, out);
}

static void h_artifacts(ctx *c)
{
	char *out = NULL;
	int rc = sky_tasks_api_run_artifacts_list(&out, c->s->engine, ORG(c),
	                                          c->seg[2]);
	if (rc == SKY_ENOTFOUND)
		reply_detail(c, 404, "Task run not found %s", c->seg[2]);
	else if (rc)
		reply_unexpected(c, sky_error_last());
	else
		reply_raw(c, 200, out);
}

static void h_timeline(ctx *c)
{
	char *out = NULL;
	int rc =
	    sky_tasks_api_run_timeline(&out, c->s->engine, ORG(c), c->seg[2]);
	if (rc == SKY_ENOTFOUND)
		reply_detail(c, 404, "Run not found %s", c->seg[2]);
	else if (rc == SKY_EUNSUPPORTED)
		reply_detail(c, 400, "%s", sky_error_last());
	else
		reply_engine(c, rc, out, 500);
}

static void h_retry_webhook(ctx *c)
{
	char *out = NULL;
	const char *url =
	    json_string_value(json_object_get(c->body, "webhook_url"));
	int rc = sky_tasks_api_run_webhook_send(
	    &out, c->s->engine, ORG(c), c->seg[2], url, c->req->api_key);
	if (rc == SKY_ENOTFOUND)
		reply_detail(c, 404, "Run not found %s", c->seg[2]);
	else if (rc == SKY_EINVALID && out)
		reply_raw(c, 400, out), out = NULL;
	else if (rc)
		reply_unexpected(c, sky_error_last());
	else
		reply_raw(c, 200, out), out = NULL;
	free(out);
}

/* --- Skyvern's legacy task routes (/api/v1, /api/v2) -------------------- */

/* FastAPI's 422 for a header that is not an integer. */
static void reply_header_error(ctx *c, const char *name, const char *input)
{
	json_t *item = json_pack("{s:s, s:[s,s], s:s, s:s?}", "type",
	                         "int_parsing", "loc", "header", name, "msg",
	                         "Input should be a valid integer, unable to "
	                         "parse string as an integer",
	                         "input", input);
	reply_json(c, 422, json_pack("{s:[o]}", "detail", item));
}

static void legacy_submit(ctx *c, int version)
{
	sky_submit_options so = SKY_SUBMIT_OPTIONS_INIT;
	char *out = NULL, *end = NULL;
	int status = 500, max_steps = 0;
	const char *ms = c->req->max_steps_override;
	if (ms) {
		long n = strtol(ms, &end, 10);
		if (!*ms || *end) {
			reply_header_error(c, "x-max-steps-override", ms);
			return;
		}
		max_steps = n > 0 && n < 1000000 ? (int)n : 0;
	}
	if (version == 2 && c->req->max_iterations_override) {
		reply_detail(c, 400,
		             "x-max-iterations-override is not "
		             "supported by skyengine: the iterations of "
		             "a task v2 are config "
		             "agent.v2_max_iterations");
		return;
	}
	so.idempotency_key = c->req->idempotency_key;
	so.webhook_signing_key = c->req->api_key;
	int rc = sky_tasks_api_task_submit_legacy(
	    &out, &status, c->s->engine, ORG(c), version,
	    c->req->body ? c->req->body : "", &so, max_steps);
	reply_engine(c, rc, out, status);
}

/* POST /v1/run/tasks/download_files: Skyvern's DownloadFilesRequest, run
 * as a task v1 (the engine's version 3 of the legacy submit). */
static void h_download_files(ctx *c)
{
	sky_submit_options so = SKY_SUBMIT_OPTIONS_INIT;
	char *out = NULL;
	int status = 500;
	so.idempotency_key = c->req->idempotency_key;
	so.webhook_signing_key = c->req->api_key;
	int rc = sky_tasks_api_task_submit_legacy(
	    &out, &status, c->s->engine, ORG(c), 3,
	    c->req->body ? c->req->body : "", &so, 0);
	reply_engine(c, rc, out, status);
}

/* POST /v1/run/tasks/login: a task v1 that signs in with a credential. */
static void h_login(ctx *c)
{
	sky_submit_options so = SKY_SUBMIT_OPTIONS_INIT;
	char *out = NULL;
	int status = 500;
	so.idempotency_key = c->req->idempotency_key;
	so.webhook_signing_key = c->req->api_key;
	int rc = sky_tasks_api_login(&out, &status, c->s->engine, ORG(c),
	                             c->req->body ? c->req->body : "", &so);
	reply_engine(c, rc, out, status);
}

static void h_legacy_task_create(ctx *c)
{
	legacy_submit(c, 1);
}

static void h_task_v2_create(ctx *c)
{
	legacy_submit(c, 2);
}

static void h_legacy_task_get(ctx *c)
{
	char *out = NULL;
	int rc = sky_tasks_api_task_get(&out, c->s->engine, ORG(c), c->seg[3]);
	if (rc == SKY_ENOTFOUND)
		reply_detail(c, 404, "Task %s not found", c->seg[3]);
	else
		reply_engine(c, rc, out, 500);
}

static void h_task_v2_get(ctx *c)
{
	char *out = NULL;
	int rc =
	    sky_tasks_api_task_v2_get(&out, c->s->engine, ORG(c), c->seg[3]);
	if (rc == SKY_ENOTFOUND)
		reply_detail(c, 404, "Task v2 %s not found", c->seg[3]);
	else
		reply_engine(c, rc, out, 500);
}

/* The legacy routes name a task v1 ("Task not found X"); a run of
 * another type is not in Skyvern's tasks table either. */
static int legacy_task_exists(ctx *c, const char *id)
{
	char *out = NULL;
	int rc = sky_tasks_api_task_get(&out, c->s->engine, ORG(c), id);
	free(out);
	if (rc == SKY_ENOTFOUND)
		reply_detail(c, 404, "Task not found %s", id);
	else if (rc)
		reply_unexpected(c, sky_error_last());
	return rc == 0;
}

static void h_legacy_task_cancel(ctx *c)
{
	char *err = NULL;
	int status = 500;
	if (!legacy_task_exists(c, c->seg[3]))
		return;
	int rc = sky_tasks_api_run_cancel(&err, &status, c->s->engine, ORG(c),
	                                  c->seg[3]);
	if (rc == 0) {
		reply_raw(c, 200, skyx_strdup("null"));
		free(err);
	} else if (err) {
		reply_raw(c, status, err);
	} else {
		reply_unexpected(c, sky_error_last());
	}
}

/* Sends the webhook once and answers the task (TaskResponse). */
static void h_legacy_retry_webhook(ctx *c)
{
	char *out = NULL;
	if (!legacy_task_exists(c, c->seg[3]))
		return;
	int rc = sky_tasks_api_run_webhook_send(
	    &out, c->s->engine, ORG(c), c->seg[3], NULL, c->req->api_key);
	free(out);
	out = NULL;
	if (rc == SKY_EINVALID) {
		/* No webhook_url: nothing to send, as Skyvern's no-op. */
	} else if (rc) {
		reply_unexpected(c, sky_error_last());
		return;
	}
	rc = sky_tasks_api_task_get(&out, c->s->engine, ORG(c), c->seg[3]);
	reply_engine(c, rc, out, 500);
}

static void h_legacy_actions(ctx *c)
{
	char *out = NULL;
	int rc = sky_tasks_api_task_actions_list(&out, c->s->engine, ORG(c),
	                                         c->seg[3]);
	reply_engine(c, rc, out, 500);
}

static void h_legacy_runs(ctx *c)
{
	sky_list_options o = SKY_LIST_OPTIONS_INIT;
	char *out = NULL;
	o.page = 1;
	o.page_size = 10;
	if (query_int(c, "page", 1, 0, &o.page) < 0 ||
	    query_int(c, "page_size", 1, 0, &o.page_size) < 0)
		return;
	if (srv_req_query(c->req, "search_key")) {
		reply_detail(c, 400,
		             "search_key is not supported by "
		             "skyengine");
		return;
	}
	char *st = query_all(c->req, "status");
	o.statuses = st;
	int rc = sky_tasks_api_runs_list_legacy(&out, c->s->engine, ORG(c), &o);
	if (rc == SKY_EINVALID)
		reply_query_error(c, "status", "enum", sky_error_last(), st);
	else
		reply_engine(c, rc, out, 500);
	free(st);
}

static void h_artifact_get(ctx *c)
{
	char *out = NULL;
	int rc =
	    sky_tasks_api_artifact_get(&out, c->s->engine, ORG(c), c->seg[2]);
	if (rc == SKY_ENOTFOUND)
		reply_detail(c, 404, "Artifact not found %s", c->seg[2]);
	else
		reply_engine(c, rc, out, 500);
}

/* A fresh signed link to the artifact's content, and when it expires. */
static void h_artifact_signed_url(ctx *c)
{
	char *out = NULL;
	int rc =
	    sky_tasks_api_artifact_get(&out, c->s->engine, ORG(c), c->seg[2]);
	if (rc == SKY_ENOTFOUND) {
		reply_detail(c, 404, "Artifact not found %s", c->seg[2]);
		return;
	}
	if (rc) {
		reply_engine(c, rc, out, 500);
		return;
	}
	json_t *a = json_loads(out, 0, NULL);
	free(out);
	const char *url = json_string_value(json_object_get(a, "signed_url"));
	const char *exp = url ? strstr(url, "expires=") : NULL;
	json_t *o = json_pack("{s:s, s:s?, s:o}", "artifact_id", c->seg[2],
	                      "signed_url", url, "expires_at",
	                      exp ? json_integer(strtoll(exp + 8, NULL, 10))
	                          : json_null());
	json_decref(a);
	if (!url) {
		json_decref(o);
		reply_detail(c, 404, "Artifact content not available");
		return;
	}
	reply_json(c, 200, o);
}

static void h_step_artifacts(ctx *c)
{
	char *out = NULL;
	int rc = sky_tasks_api_step_artifacts_list(&out, c->s->engine, ORG(c),
	                                           c->seg[3], c->seg[5]);
	reply_engine(c, rc, out, 500);
}

/* /api/v1/{entity_type}/{entity_id}/artifacts */
static void h_entity_artifacts(ctx *c)
{
	char *out = NULL;
	int rc = sky_tasks_api_entity_artifacts_list(&out, c->s->engine, ORG(c),
	                                             c->seg[2], c->seg[3]);
	if (rc == SKY_EINVALID)
		reply_json(c, 422,
		           json_pack("{s:[{s:s, s:[s,s], s:s, s:s}]}", "detail",
		                     "type", "enum", "loc", "path",
		                     "entity_type", "msg", sky_error_last(),
		                     "input", c->seg[2]));
	else
		reply_engine(c, rc, out, 500);
}

static void h_totp_list(ctx *c)
{
	char *out = NULL;
	int limit = 50;
	if (query_int(c, "limit", 1, 200, &limit) < 0)
		return;
	const char *otp = srv_req_query(c->req, "otp_type");
	if (otp && strcmp(otp, "totp") && strcmp(otp, "magic_link")) {
		reply_query_error(c, "otp_type", "enum",
		                  "Input should be 'totp' or 'magic_link'",
		                  otp);
		return;
	}
	int rc = sky_tasks_api_totp_codes_list(
	    &out, c->s->engine, ORG(c),
	    srv_req_query(c->req, "totp_identifier"),
	    srv_req_query(c->req, "workflow_run_id"), otp, limit);
	reply_engine(c, rc, out, 500);
}

/* --- uploaded files ---------------------------------------------------- */

#define UPLOAD_MAX (10 * 1024 * 1024) /* Skyvern's MAX_UPLOAD_FILE_SIZE */

typedef struct form_part {
	const char *data;
	size_t len;
	char *filename; /* malloc'd, NULL when the part has none */
} form_part;

/* A parameter of a header value: name="value" (quotes optional). */
static char *header_param(const char *h, size_t hlen, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl + 1 < hlen; i++) {
		if ((i && h[i - 1] != ' ' && h[i - 1] != ';') ||
		    strncasecmp(h + i, name, nl) || h[i + nl] != '=')
			continue;
		const char *v = h + i + nl + 1, *end = h + hlen;
		if (v < end && *v == '"') {
			const char *q =
			    memchr(v + 1, '"', (size_t)(end - v - 1));
			return q ? skyx_strndup(v + 1, (size_t)(q - v - 1))
			         : NULL;
		}
		const char *stop = v;
		while (stop < end && *stop != ';' && *stop != '\r')
			stop++;
		return skyx_strndup(v, (size_t)(stop - v));
	}
	return NULL;
}

/* The form field `field` of a multipart/form-data body; 0 or -1. */
static int form_field(const srv_req *r, const char *field, form_part *out)
{
	memset(out, 0, sizeof *out);
	const char *ct = r->content_type;
	if (!ct || strncasecmp(ct, "multipart/form-data", 19) || !r->body)
		return -1;
	char *boundary = header_param(ct, strlen(ct), "boundary");
	if (!boundary || !*boundary) {
		free(boundary);
		return -1;
	}
	char *delim = skyx_asprintf("--%s", boundary);
	size_t dl = strlen(delim);
	const char *p = r->body, *end = r->body + r->body_len;
	int rc = -1;
	while ((p = memmem(p, (size_t)(end - p), delim, dl))) {
		p += dl;
		if (end - p >= 2 && !memcmp(p, "--", 2))
			break; /* the closing delimiter */
		const char *head = p;
		const char *body =
		    memmem(head, (size_t)(end - head), "\r\n\r\n", 4);
		if (!body)
			break;
		body += 4;
		const char *next =
		    memmem(body, (size_t)(end - body), delim, dl);
		if (!next || next - body < 2)
			break;
		char *name = header_param(head, (size_t)(body - head), "name");
		if (name && !strcmp(name, field)) {
			out->data = body;
			out->len = (size_t)(next - body - 2); /* CRLF */
			out->filename = header_param(
			    head, (size_t)(body - head), "filename");
			rc = 0;
		}
		free(name);
		if (!rc)
			break;
		p = next;
	}
	free(delim);
	free(boundary);
	return rc;
}

static void h_upload_file(ctx *c)
{
	form_part file, days;
	int retention = 0;
	char *out = NULL;
	int status = 500;
	if (form_field(c->req, "file", &file)) {
		json_t *item = json_pack("{s:s, s:[s,s], s:s, s:n}", "type",
		                         "missing", "loc", "body", "file",
		                         "msg", "Field required", "input");
		reply_json(c, 422, json_pack("{s:[o]}", "detail", item));
		return;
	}
	if (!form_field(c->req, "retention_days", &days)) {
		char *v = skyx_strndup(days.data, days.len), *end = NULL;
		long n = v ? strtol(v, &end, 10) : 0;
		int bad = !v || !*v || *end;
		if (bad) {
			json_t *item = json_pack(
			    "{s:s, s:[s,s], s:s, s:s?}", "type", "int_parsing",
			    "loc", "body", "retention_days", "msg",
			    "Input should be a valid integer, unable to parse "
			    "string as an integer",
			    "input", v);
			reply_json(c, 422,
			           json_pack("{s:[o]}", "detail", item));
		}
		retention = n < 1 ? -1 : n > 100000 ? 100000 : (int)n;
		free(v);
		free(days.filename);
		if (bad) {
			free(file.filename);
			return;
		}
	}
	int rc = sky_tasks_api_file_upload(&out, &status, c->s->engine, ORG(c),
	                                   file.filename, file.data, file.len,
	                                   retention);
	free(file.filename);
	reply_engine(c, rc, out, status);
}

static void h_file_delete(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_file_delete(&out, &status, c->s->engine, ORG(c),
	                                   c->seg[2]);
	if (rc == 0)
		srv_resp_take(c->resp, 204, "application/json", NULL, 0);
	else
		reply_engine(c, rc, out, status);
}

static void h_file_content(ctx *c)
{
	char *path = NULL, *name = NULL;
	if (sky_file_path(&path, &name, c->s->engine, ORG(c), c->seg[2])) {
		reply_detail(c, 404, "File %s not found", c->seg[2]);
		return;
	}
	size_t len = 0;
	char *data = skyx_read_file(path, &len);
	if (!data) {
		reply_detail(c, 404, "File %s not found", c->seg[2]);
	} else {
		srv_resp_take(c->resp, 200, "application/octet-stream", data,
		              len);
		/* The name as uploaded, made safe for a quoted header. */
		for (char *q = name; q && *q; q++)
			if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20)
				*q = '_';
		char *cd = skyx_asprintf("attachment; filename=\"%s\"",
		                         name && *name ? name : "file");
		srv_resp_header(c->resp, "content-disposition", cd);
		free(cd);
	}
	free(path);
	free(name);
}

static void h_viewer(ctx *c)
{
	int status = 200;
	char *html = srv_viewer_html(c->s, ORG(c), c->seg[1], &status);
	if (!html) {
		reply_unexpected(c, "viewer");
		return;
	}
	srv_resp_take(c->resp, status, "text/html; charset=utf-8", html,
	              strlen(html));
	srv_resp_header(c->resp, "cache-control", "no-store");
}

static void h_artifact_content(ctx *c)
{
	char *path = NULL, *ctype = NULL;
	int rc =
	    sky_artifact_file(&path, &ctype, c->s->engine, ORG(c), c->seg[2]);
	if (rc) {
		reply_detail(c, 404, "Artifact not found %s", c->seg[2]);
		return;
	}
	size_t len = 0;
	char *data = skyx_read_file(path, &len);
	if (!data) {
		reply_detail(c, 404, "Artifact file is gone %s", c->seg[2]);
	} else {
		srv_resp_take(c->resp, 200, ctype, data, len);
		srv_resp_header(c->resp, "cache-control",
		                "private, max-age=3600");
		const char *slash = strrchr(path, '/');
		if (ctype && !skyx_str_startswith(ctype, "image/") &&
		    !skyx_str_startswith(ctype, "text/html")) {
			char *cd = skyx_asprintf("attachment; filename=\"%s\"",
			                         slash ? slash + 1 : path);
			srv_resp_header(c->resp, "content-disposition", cd);
			free(cd);
		}
	}
	free(path);
	free(ctype);
}

static void h_totp(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc =
	    sky_tasks_api_totp_code_push(&out, &status, c->s->engine, ORG(c),
	                                 c->req->body ? c->req->body : "");
	reply_engine(c, rc, out, status);
}

static void h_session_create(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_session_create(
	    &out, &status, c->s->engine, ORG(c),
	    c->req->body ? c->req->body : "");
	reply_engine(c, rc, out, status);
}

static void h_sessions(ctx *c)
{
	char *out = NULL;
	int rc =
	    sky_tasks_api_browser_sessions_list(&out, c->s->engine, ORG(c));
	reply_engine(c, rc, out, 500);
}

static void h_session_get(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_session_get(&out, &status, c->s->engine,
	                                           ORG(c), c->seg[2]);
	reply_engine(c, rc, out, status);
}

static void h_session_close(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_session_close(
	    &out, &status, c->s->engine, ORG(c), c->seg[2]);
	reply_engine(c, rc, out, status);
}

static void h_session_update(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_session_update(
	    &out, &status, c->s->engine, ORG(c), c->seg[2],
	    c->req->body ? c->req->body : "");
	reply_engine(c, rc, out, status);
}

/* --- browser profiles ---------------------------------------------------- */

static void h_profile_create(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_profile_create(
	    &out, &status, c->s->engine, ORG(c),
	    c->req->body ? c->req->body : "");
	reply_engine(c, rc, out, status);
}

static void h_profiles(ctx *c)
{
	char *out = NULL;
	int status = 500, page = 1, page_size = 10;
	if (query_int(c, "page", 1, 0, &page) < 0 ||
	    query_int(c, "page_size", 1, 0, &page_size) < 0)
		return;
	const char *del = srv_req_query(c->req, "include_deleted");
	int include_deleted =
	    del && (!strcasecmp(del, "true") || !strcmp(del, "1") ||
	            !strcasecmp(del, "yes") || !strcasecmp(del, "on"));
	int rc = sky_tasks_api_browser_profiles_list(
	    &out, &status, c->s->engine, ORG(c), page, page_size,
	    include_deleted, srv_req_query(c->req, "search_key"));
	reply_engine(c, rc, out, status);
}

static void h_profile_get(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_profile_get(&out, &status, c->s->engine,
	                                           ORG(c), c->seg[2]);
	reply_engine(c, rc, out, status);
}

static void h_profile_update(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_profile_update(
	    &out, &status, c->s->engine, ORG(c), c->seg[2],
	    c->req->body ? c->req->body : "");
	reply_engine(c, rc, out, status);
}

static void h_profile_delete(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_profile_delete(
	    &out, &status, c->s->engine, ORG(c), c->seg[2]);
	if (rc == 0) {
		free(out);
		srv_resp_take(c->resp, 204, "application/json", NULL, 0);
	} else {
		reply_engine(c, rc, out, status);
	}
}

static void h_profile_usage(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_browser_profile_usage(
	    &out, &status, c->s->engine, ORG(c), c->seg[2]);
	reply_engine(c, rc, out, status);
}

static void h_workflows(ctx *c)
{
	char *out = NULL;
	int page = 1, page_size = 10;
	if (query_int(c, "page", 1, 0, &page) < 0 ||
	    query_int(c, "page_size", 1, 100, &page_size) < 0)
		return;
	int rc = sky_tasks_api_workflows_list(&out, c->s->engine, ORG(c), page,
	                                      page_size);
	reply_engine(c, rc, out, 500);
}

static void h_run_workflow(ctx *c)
{
	sky_submit_options so = SKY_SUBMIT_OPTIONS_INIT;
	char *out = NULL;
	int status = 500;
	so.idempotency_key = c->req->idempotency_key;
	so.webhook_signing_key = c->req->api_key;
	int rc =
	    sky_tasks_api_workflow_run(&out, &status, c->s->engine, ORG(c),
	                               c->req->body ? c->req->body : "", &so);
	reply_engine(c, rc, out, status);
}

static void h_scripts(ctx *c)
{
	char *out = NULL;
	int page = 1, page_size = 10;
	if (query_int(c, "page", 1, 0, &page) < 0 ||
	    query_int(c, "page_size", 1, 100, &page_size) < 0)
		return;
	int rc = sky_tasks_api_scripts_list(&out, c->s->engine, ORG(c), page,
	                                    page_size);
	reply_engine(c, rc, out, 500);
}

static void h_script_get(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_script_get(&out, &status, c->s->engine, ORG(c),
	                                  c->seg[2]);
	reply_engine(c, rc, out, status);
}

static void h_script_versions(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_script_versions(&out, &status, c->s->engine,
	                                       ORG(c), c->seg[2]);
	reply_engine(c, rc, out, status);
}

static void h_script_delete(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_script_delete(&out, &status, c->s->engine,
	                                     ORG(c), c->seg[2]);
	if (rc == 0)
		srv_resp_take(c->resp, 204, "application/json", NULL, 0);
	else
		reply_engine(c, rc, out, status);
}

/* --- the credentials vault ----------------------------------------------- */

static const char *body_text(ctx *c)
{
	return c->req->body ? c->req->body : "";
}

/* An engine answer with its own status; 204 without a body. */
static void reply_status(ctx *c, int rc, char *out, int status)
{
	if (!rc && status == 204 && !out)
		srv_resp_take(c->resp, 204, "application/json", NULL, 0);
	else
		reply_engine(c, rc, out, status);
}

static void h_credential_create(ctx *c)
{
	char *out = NULL;
	int status = 500;
	sky_tasks_api_credential_create(&out, &status, c->s->engine, ORG(c),
	                                body_text(c));
	if (out)
		reply_raw(c, status, out);
	else
		reply_unexpected(c, sky_error_last() ? sky_error_last() : "?");
}

static void h_credentials(ctx *c)
{
	char *out = NULL;
	int status = 500, page = 1, page_size = 10;
	if (query_int(c, "page", 1, 0, &page) < 0 ||
	    query_int(c, "page_size", 1, 0, &page_size) < 0)
		return;
	const char *type = srv_req_query(c->req, "credential_type");
	const char *vault = srv_req_query(c->req, "vault_type");
	const char *search = srv_req_query(c->req, "search");
	if (search && strlen(search) > 200) {
		reply_query_error(c, "search", "string_too_long",
		                  "String should have at most 200 characters",
		                  search);
		return;
	}
	int rc = sky_tasks_api_credentials_list(&out, &status, c->s->engine,
	                                        ORG(c), page, page_size, type,
	                                        vault, search);
	if (rc == SKY_EINVALID)
		reply_query_error(c,
		                  type && strstr(sky_error_last(), "'password'")
		                      ? "credential_type"
		                      : "vault_type",
		                  "enum", sky_error_last(),
		                  type && strstr(sky_error_last(), "'password'")
		                      ? type
		                      : vault);
	else
		reply_engine(c, rc, out, status);
}

static void h_credential_get(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_credential_get(&out, &status, c->s->engine,
	                                      ORG(c), c->seg[2]);
	reply_engine(c, rc, out, status);
}

static void h_credential_update(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_credential_update(
	    &out, &status, c->s->engine, ORG(c), c->seg[2], body_text(c));
	reply_engine(c, rc, out, status);
}

static void h_credential_delete(ctx *c)
{
	char *out = NULL;
	int status = 500;
	int rc = sky_tasks_api_credential_delete(&out, &status, c->s->engine,
	                                         ORG(c), c->seg[2]);
	reply_status(c, rc, out, status);
}

/*
 * Skyvern's credentials routes answer validation errors with items of
 * only {loc, msg, type} (contract §1), JSON decode errors included.
 */
static void credentials_shape(ctx *c)
{
	srv_resp *r = c->resp;
	if (r->status != 422 ||
	    !skyx_str_startswith(c->req->path, "/v1/credentials"))
		return;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, 0, NULL);
	json_t *items = json_object_get(body, "detail");
	if (json_is_array(items)) {
		json_t *slim = json_array(), *it;
		size_t i;
		json_array_foreach (items, i, it)
			json_array_append_new(
			    slim, json_pack("{s:O?, s:O?, s:O?}", "loc",
			                    json_object_get(it, "loc"), "msg",
			                    json_object_get(it, "msg"), "type",
			                    json_object_get(it, "type")));
		reply_json(c, 422, json_pack("{s:o}", "detail", slim));
	}
	json_decref(body);
}

/* Order matters only for patterns of equal shape: first match wins. */
static const route routes[] = {
    {SRV_GET, "api/v1/heartbeat", h_heartbeat, AUTH_NONE, 0},
    {SRV_GET, "openapi.json", h_openapi, AUTH_NONE, 0},
    {SRV_GET, "v1/version", h_version, AUTH_KEY, 0},
    {SRV_GET, "api/v1/version", h_version, AUTH_KEY, 0},
    {SRV_GET, "api/v1/models", h_models, AUTH_KEY, 0},
    {SRV_POST, "v1/run/tasks", h_run_task, AUTH_KEY, 0},
    {SRV_POST, "v1/run/tasks/download_files", h_download_files, AUTH_KEY, 0},
    {SRV_POST, "v1/run/tasks/login", h_login, AUTH_KEY, 0},
    {SRV_GET, "v1/run/tasks/*", h_get_run, AUTH_KEY, 0},
    {SRV_POST, "v1/runs/cancel", h_bulk_cancel, AUTH_KEY, 0},
    {SRV_GET, "v1/runs", h_list_runs, AUTH_KEY, 0},
    {SRV_GET, "v1/runs/*", h_get_run, AUTH_KEY, 0},
    {SRV_POST, "v1/runs/*/cancel", h_cancel, AUTH_KEY, 0},
    {SRV_GET, "v1/runs/*/artifacts", h_artifacts, AUTH_KEY, 0},
    {SRV_GET, "v1/runs/*/timeline", h_timeline, AUTH_KEY, 0},
    {SRV_POST, "v1/runs/*/retry_webhook", h_retry_webhook, AUTH_KEY, 1},
    {SRV_GET, "api/v1/tasks", h_list_tasks, AUTH_KEY, 0},
    {SRV_POST, "api/v1/tasks", h_legacy_task_create, AUTH_KEY, 0},
    {SRV_GET, "api/v1/tasks/*", h_legacy_task_get, AUTH_KEY, 0},
    {SRV_GET, "api/v1/tasks/*/steps", h_steps, AUTH_KEY, 0},
    {SRV_GET, "api/v1/tasks/*/actions", h_legacy_actions, AUTH_KEY, 0},
    {SRV_POST, "api/v1/tasks/*/cancel", h_legacy_task_cancel, AUTH_KEY, 0},
    {SRV_POST, "api/v1/tasks/*/retry_webhook", h_legacy_retry_webhook, AUTH_KEY,
     1},
    {SRV_GET, "api/v1/runs", h_legacy_runs, AUTH_KEY, 0},
    {SRV_POST, "api/v2/tasks", h_task_v2_create, AUTH_KEY, 0},
    {SRV_GET, "api/v2/tasks/*", h_task_v2_get, AUTH_KEY, 0},
    {SRV_GET, "v1/artifacts/*", h_artifact_get, AUTH_KEY, 0},
    {SRV_GET, "v1/artifacts/*/signed-url", h_artifact_signed_url, AUTH_KEY, 0},
    {SRV_GET, "v1/artifacts/*/content", h_artifact_content, AUTH_KEY_OR_SIGNED,
     0},
    {SRV_GET, "api/v1/tasks/*/steps/*/artifacts", h_step_artifacts, AUTH_KEY,
     0},
    {SRV_GET, "api/v1/*/*/artifacts", h_entity_artifacts, AUTH_KEY, 0},
    {SRV_GET, "v1/credentials/totp", h_totp_list, AUTH_KEY, 0},
    {SRV_POST, "v1/upload_file", h_upload_file, AUTH_KEY, 1},
    {SRV_POST, "api/v1/upload_file", h_upload_file, AUTH_KEY, 1},
    {SRV_DELETE, "v1/files/*", h_file_delete, AUTH_KEY, 0},
    {SRV_GET, "v1/files/*/content", h_file_content, AUTH_KEY_OR_SIGNED, 0},
    {SRV_POST, "v1/credentials/totp", h_totp, AUTH_KEY, 1},
    {SRV_POST, "api/v1/totp", h_totp, AUTH_KEY, 1},
    {SRV_POST, "v1/credentials", h_credential_create, AUTH_KEY, 0},
    {SRV_GET, "v1/credentials", h_credentials, AUTH_KEY, 0},
    {SRV_GET, "v1/credentials/*", h_credential_get, AUTH_KEY, 0},
    {SRV_POST, "v1/credentials/*/update", h_credential_update, AUTH_KEY, 0},
    {SRV_POST, "v1/credentials/*/delete", h_credential_delete, AUTH_KEY, 0},
    {SRV_DELETE, "v1/credentials/*", h_credential_delete, AUTH_KEY, 0},
    {SRV_POST, "v1/browser_sessions", h_session_create, AUTH_KEY, 1},
    {SRV_GET, "v1/browser_sessions", h_sessions, AUTH_KEY, 0},
    {SRV_GET, "v1/browser_sessions/*", h_session_get, AUTH_KEY, 0},
    {SRV_POST, "v1/browser_sessions/*/close", h_session_close, AUTH_KEY, 1},
    {SRV_PATCH, "v1/browser_sessions/*", h_session_update, AUTH_KEY, 1},
    {SRV_POST, "v1/browser_profiles", h_profile_create, AUTH_KEY, 1},
    {SRV_GET, "v1/browser_profiles", h_profiles, AUTH_KEY, 0},
    {SRV_GET, "v1/browser_profiles/*", h_profile_get, AUTH_KEY, 0},
    {SRV_PATCH, "v1/browser_profiles/*", h_profile_update, AUTH_KEY, 0},
    {SRV_DELETE, "v1/browser_profiles/*", h_profile_delete, AUTH_KEY, 0},
    {SRV_GET, "v1/browser_profiles/*/usage", h_profile_usage, AUTH_KEY, 0},
    {SRV_GET, "v1/workflows", h_workflows, AUTH_KEY, 0},
    {SRV_POST, "v1/run/workflows", h_run_workflow, AUTH_KEY, 0},
    {SRV_GET, "v1/scripts", h_scripts, AUTH_KEY, 0},
    {SRV_GET, "v1/scripts/*", h_script_get, AUTH_KEY, 0},
    {SRV_DELETE, "v1/scripts/*", h_script_delete, AUTH_KEY, 0},
    {SRV_GET, "v1/scripts/*/versions", h_script_versions, AUTH_KEY, 0},
    {SRV_GET, "runs/*", h_viewer, AUTH_KEY_OR_SIGNED, 0},
    {SRV_GET, "runs/*/recording", h_viewer, AUTH_KEY_OR_SIGNED, 0},
};

/* --- dispatch ---------------------------------------------------------- */

static int split(char *path, char **seg, int max)
{
	int n = 0;
	for (char *save = NULL, *t = strtok_r(path, "/", &save); t;
	     t = strtok_r(NULL, "/", &save)) {
		if (n == max)
			return -1;
		seg[n++] = t;
	}
	return n;
}

static int matches(const route *r, char **seg, int n)
{
	char pat[128];
	char *ps[8];
	snprintf(pat, sizeof pat, "%s", r->pattern);
	int pn = split(pat, ps, 8);
	if (pn != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (strcmp(ps[i], "*") && strcmp(ps[i], seg[i]))
			return 0;
	return 1;
}

/* FastAPI's shape for a body that is not JSON. Checked before auth, as
 * Skyvern does. Returns 1 after replying. */
static int check_json_body(ctx *c)
{
	const srv_req *r = c->req;
	if (!r->has_body)
		return 0;
	const char *ct = r->content_type;
	if (ct && !strcasestr(ct, "json")) {
		json_t *item =
		    json_pack("{s:s, s:[s], s:s, s:s}", "type",
		              "model_attributes_type", "loc", "body", "msg",
		              "Input should be a valid dictionary or object to "
		              "extract fields from",
		              "input", r->body ? r->body : "");
		if (!item) /* not UTF-8 */
			item = json_pack(
			    "{s:s, s:[s], s:s}", "type",
			    "model_attributes_type", "loc", "body", "msg",
			    "Input should be a valid dictionary or "
			    "object to extract fields from");
		reply_json(c, 422, json_pack("{s:[o]}", "detail", item));
		return 1;
	}
	json_error_t err;
	c->body = json_loadb(r->body ? r->body : "", r->body_len,
	                     JSON_DECODE_ANY, &err);
	if (!c->body) {
		json_t *item = json_pack(
		    "{s:s, s:[s,i], s:s, s:{}, s:{s:s}}", "type",
		    "json_invalid", "loc", "body", err.position, "msg",
		    "JSON decode error", "input", "ctx", "error", err.text);
		reply_json(c, 422, json_pack("{s:[o]}", "detail", item));
		return 1;
	}
	return 0;
}

static int authenticate(ctx *c, enum auth_mode mode)
{
	const srv_req *r = c->req;
	if (mode == AUTH_NONE)
		return 1;
	if (mode == AUTH_KEY_OR_SIGNED) {
		const char *exp = srv_req_query(r, "expires");
		const char *sig = srv_req_query(r, "signature");
		if (exp && sig) {
			if (sky_url_verify(c->s->engine, r->path, exp, sig) ==
			    0) {
				/* The signature names the object: any org. */
				c->any_org = 1;
				return 1;
			}
			reply_detail(c, 403, "Invalid or expired link");
			return 0;
		}
	}
	if (c->s->allow_unauthenticated && !r->api_key)
		return 1;
	if (!r->api_key) {
		if (r->authorization)
			reply_detail(c, 403, "Invalid authentication method");
		else
			reply_detail(c, 403, "Invalid credentials");
		return 0;
	}
	int revoked = 0;
	if (sky_api_key_verify(&c->org, &revoked, c->s->engine, r->api_key)) {
		reply_detail(c, 403,
		             revoked ? "Your API key has expired"
		                     : "Could not validate credentials");
		return 0;
	}
	return 1;
}

void srv_handle(void *ud, const srv_req *req, srv_resp *resp)
{
	ctx c = {0};
	c.s = ud;
	c.req = req;
	c.resp = resp;
	if (!c.s->engine) {
		/* Listening already, the engine still opening its store. */
		reply_detail(&c, 503, "Starting up, try again");
		srv_resp_header(resp, "retry-after", "1");
		return;
	}
	char *path = skyx_strdup(req->path);
	int n = path ? split(path, c.seg, 8) : -1;
	if (n < 0) {
		reply_detail(&c, 404, "Not Found");
		free(path);
		return;
	}
	c.n_seg = n;
	enum srv_method m = req->method == SRV_HEAD ? SRV_GET : req->method;
	const route *hit = NULL;
	skyx_buf allow = {0};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (!matches(&routes[i], c.seg, n))
			continue;
		if (routes[i].method == m) {
			hit = &routes[i];
			break;
		}
		if (allow.len)
			skyx_buf_puts(&allow, ", ");
		skyx_buf_puts(&allow, routes[i].method == SRV_GET ? "GET"
		                      : routes[i].method == SRV_DELETE
		                          ? "DELETE"
		                          : "POST");
	}
	if (!hit) {
		if (allow.len) {
			reply_detail(&c, 405, "Method Not Allowed");
			srv_resp_header(resp, "allow", allow.data);
		} else {
			reply_detail(&c, 404, "Not Found");
		}
		goto out;
	}
	/* Uploads are multipart forms, not JSON. */
	if (hit->fn != h_upload_file && check_json_body(&c))
		goto shape;
	if (!authenticate(&c, hit->auth))
		goto out;
	hit->fn(&c);
shape:
	credentials_shape(&c);
out:
	srv_log_debug(COMPONENT, "%s %s -> %d", req->method_name, req->path,
	              resp->status ? resp->status : 200);
	skyx_buf_free(&allow);
	json_decref(c.body);
	free(c.org);
	free(path);
}

size_t srv_route_max_body(void *ud, const srv_req *req)
{
	(void)ud;
	if (req->method == SRV_POST &&
	    (!strcmp(req->path, "/v1/upload_file") ||
	     !strcmp(req->path, "/v1/upload_file/") ||
	     !strcmp(req->path, "/api/v1/upload_file") ||
	     !strcmp(req->path, "/api/v1/upload_file/")))
		return UPLOAD_MAX + 64 * 1024; /* the file and the form */
	return 0;
}

int srv_route_is_slow(void *ud, const srv_req *req)
{
	char path[160];
	char *seg[8];
	(void)ud;
	if (req->method != SRV_POST)
		return 0;
	/* Outgoing requests (retry_webhook), a model call (a pushed TOTP
	 * message may need one), the browser (sessions: open, close):
	 * off the service thread. Submits and gets are quick: inline. */
	snprintf(path, sizeof path, "%s", req->path);
	int n = split(path, seg, 8);
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (routes[i].slow && routes[i].method == SRV_POST && n > 0 &&
		    matches(&routes[i], seg, n))
			return 1;
	return 0;
}
