/*
 * The store's steps (with the step status machine), the actions and
 * results of each step, and the artifact index.
 */
#include "store/sqlite_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define COL(rec, name, type)                                                   \
	{                                                                      \
#		name, SKY_COL_##type, offsetof(rec, name)                     \
	}

/* ---- steps ------------------------------------------------------------- */

static const sky_col step_cols[] = {
    COL(sky_step_rec, step_id, TEXT),
    COL(sky_step_rec, task_id, TEXT),
    COL(sky_step_rec, organization_id, TEXT),
    {"\"order\"", SKY_COL_INT, offsetof(sky_step_rec, order)},
    COL(sky_step_rec, retry_index, INT),
    COL(sky_step_rec, status, STEP_STATUS),
    COL(sky_step_rec, is_last, INT),
    COL(sky_step_rec, input_token_count, I64),
    COL(sky_step_rec, output_token_count, I64),
    COL(sky_step_rec, reasoning_token_count, I64),
    COL(sky_step_rec, cached_token_count, I64),
    COL(sky_step_rec, step_cost, REAL),
    COL(sky_step_rec, last_llm_model, TEXT),
    COL(sky_step_rec, output, TEXT),
    COL(sky_step_rec, created_at, TS),
    COL(sky_step_rec, modified_at, TS),
};
const sky_table sky_store__t_step = SKY_TABLE("steps", sky_step_rec, step_cols);

static const sky_sql q_step_insert = {&sky_store__t_step, "%I"};
static const sky_sql q_step_get = {&sky_store__t_step,
                                   "SELECT %C FROM steps WHERE step_id=?1"};
static const sky_sql q_step_list = {&sky_store__t_step,
                                    "SELECT %C FROM steps WHERE task_id=?1 "
                                    "ORDER BY \"order\", retry_index"};
static const sky_sql q_step_task_org = {
    NULL, "SELECT organization_id FROM tasks WHERE task_id=?1"};
static const sky_sql q_step_count = {
    NULL, "UPDATE tasks SET step_count=step_count+1, modified_at=?2 "
          "WHERE task_id=?1"};
static const sky_sql q_step_status = {
    NULL, "SELECT status FROM steps WHERE step_id=?1",
    "SELECT status FROM steps WHERE step_id=?1 FOR UPDATE"};
static const sky_sql q_step_move = {
    NULL, "UPDATE steps SET status=?2, modified_at=?3 WHERE step_id=?1"};
static const sky_sql q_step_last = {
    NULL, "UPDATE steps SET is_last=1, modified_at=?2 WHERE step_id=?1"};
static const sky_sql q_step_output = {
    NULL, "UPDATE steps SET output=?2, modified_at=?3 WHERE step_id=?1"};
static const sky_sql q_step_usage = {
    NULL, "UPDATE steps SET input_token_count=input_token_count+?2,"
          " output_token_count=output_token_count+?3,"
          " reasoning_token_count=reasoning_token_count+?4,"
          " cached_token_count=cached_token_count+?5,"
          " step_cost=step_cost+?6,"
          " last_llm_model=coalesce(?7, last_llm_model),"
          " modified_at=?8 WHERE step_id=?1"};

void sky_step_rec_free(sky_step_rec *r)
{
	sky_store__row_clear(&sky_store__t_step, r);
	free(r);
}

void sky_step_list_free(sky_step_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&sky_store__t_step, l->items, l->count);
	free(l);
}

/* A text column of the single row `q` returns for `id`; *out malloc'd.
 * SKY_ENOTFOUND (no message) without a row. */
static int scalar_text(sky_conn *c, const sky_sql *q, const char *id,
                       char **out, const char *what)
{
	sky_stmt *st = sky_store__stmt(c, q);
	int rc;

	*out = NULL;
	if (!st)
		return sky_error_last_code();
	sky_store__bind_text(st, 1, id);
	rc = sky_store__step(c, st, what);
	if (rc == SKY_ROW) {
		const char *t = sky_st_text(st, 0);
		rc = t && !(*out = strdup(t)) ? sky_error_from_code(SKY_ENOMEM)
		                              : 0;
	} else if (rc == SKY_DONE) {
		rc = SKY_ENOTFOUND;
	}
	sky_st_reset(st);
	return rc;
}

static int step_load(sky_conn *c, const char *step_id, sky_step_rec **out)
{
	sky_stmt *st = sky_store__stmt(c, &q_step_get);
	int rc;
	if (!st)
		return sky_error_last_code();
	void *r = NULL;
	sky_store__bind_text(st, 1, step_id);
	rc = sky_store__fetch_one(c, st, &sky_store__t_step, &r, "get step");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Step not found %s", step_id);
	*out = r;
	return rc;
}

int sky_store_step_create(sky_store *s, const char *task_id, int order,
                          int retry_index, sky_step_rec **out)
{
	char id[SKY_ID_MAX];
	sky_step_rec *r;
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (out)
		*out = NULL;
	if (!s || !task_id)
		return sky_error_set(SKY_EINVALID, "task id is NULL");
	if (order < 0 || retry_index < 0)
		return sky_error_set(SKY_EINVALID,
		                     "step order and retry_index must be >= 0");
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	r->step_id = strdup(sky_id_new(SKY_ID_STEP, id));
	r->task_id = strdup(task_id);
	if (!r->step_id || !r->task_id) {
		sky_step_rec_free(r);
		return sky_error_from_code(SKY_ENOMEM);
	}
	r->order = order;
	r->retry_index = retry_index;
	r->status = SKY_STEP_CREATED;
	r->created_at = r->modified_at = skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s))) {
		sky_step_rec_free(r);
		return sky_error_last_code();
	}
	rc = scalar_text(c, &q_step_task_org, task_id, &r->organization_id,
	                 "find task");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Task run not found %s", task_id);
	if (rc)
		goto done;
	if (!(st = sky_store__stmt(c, &q_step_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if ((rc = sky_store__row_bind(st, &sky_store__t_step, r)))
		goto done;
	rc = sky_store__exec(c, st, "insert step");
	if (rc == SKY_EEXISTS) {
		sky_error_set(rc,
		              "step (order %d, retry_index %d) of %s already "
		              "exists",
		              order, retry_index, task_id);
		goto done;
	}
	if (rc || !(st = sky_store__stmt(c, &q_step_count))) {
		rc = rc ? rc : sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, task_id);
	sky_st_bind_i64(st, 2, r->created_at);
	rc = sky_store__exec(c, st, "count step");
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_step_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_step_get(sky_store *s, const char *step_id, sky_step_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !step_id || !out)
		return sky_error_set(SKY_EINVALID, "step id is NULL");
	rc = sky_store__read_one(s, &q_step_get, step_id, NULL, &r, "get step");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Step not found %s", step_id);
	*out = r;
	return rc;
}

static int step_move(sky_conn *c, const char *step_id, sky_step_status to)
{
	sky_step_status from;
	char *name = NULL;
	sky_stmt *st;
	int rc = scalar_text(c, &q_step_status, step_id, &name, "step status");

	if (rc == SKY_ENOTFOUND)
		return sky_error_set(rc, "Step not found %s", step_id);
	if (rc)
		return rc;
	rc = sky_step_status_from_name(name, &from);
	free(name);
	if (rc)
		return sky_error_set(SKY_EIO, "step %s has a corrupt status",
		                     step_id);
	if (!sky_step_status_can_transition(from, to))
		return sky_error_set(SKY_EINVALID,
		                     "Invalid step status transition from %s "
		                     "to %s for %s",
		                     sky_step_status_name(from),
		                     sky_step_status_name(to), step_id);
	if (!(st = sky_store__stmt(c, &q_step_move)))
		return sky_error_last_code();
	sky_store__bind_text(st, 1, step_id);
	sky_store__bind_text(st, 2, sky_step_status_name(to));
	sky_st_bind_i64(st, 3, skyx_time_now_ms());
	return sky_store__exec(c, st, "update step status");
}

int sky_store_step_set_status(sky_store *s, const char *step_id,
                              sky_step_status to, sky_step_rec **out)
{
	sky_step_rec *r = NULL;
	sky_conn *c;
	int rc;

	if (out)
		*out = NULL;
	if (!s || !step_id)
		return sky_error_set(SKY_EINVALID, "step id is NULL");
	if ((unsigned)to >= SKY_STEP_STATUS_COUNT)
		return sky_error_set(SKY_EINVALID, "unknown step status %d",
		                     (int)to);
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	rc = step_move(c, step_id, to);
	if (!rc && out)
		rc = step_load(c, step_id, &r);
	rc = sky_store__wend(s, rc);
	if (rc)
		sky_step_rec_free(r);
	else if (out)
		*out = r;
	return rc;
}

/* Run a one-statement step update; ENOTFOUND when no row matched. */
static int step_update(sky_store *s, const sky_sql *q, const char *step_id,
                       int (*bind)(sky_stmt *, const void *), const void *arg,
                       const char *what)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || !step_id)
		return sky_error_set(SKY_EINVALID, "step id is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, q))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, step_id);
	if ((rc = bind(st, arg)) != 0) {
		rc = rc < 0 ? rc : sky_store__sqlerr(c, rc, what);
		goto done;
	}
	if ((rc = sky_store__exec(c, st, what)))
		goto done;
	if (sky_store__changes(c) == 0)
		rc = sky_error_set(SKY_ENOTFOUND, "Step not found %s", step_id);
done:
	return sky_store__wend(s, rc);
}

static int bind_last(sky_stmt *st, const void *arg)
{
	(void)arg;
	return sky_st_bind_i64(st, 2, skyx_time_now_ms());
}

int sky_store_step_set_last(sky_store *s, const char *step_id)
{
	return step_update(s, &q_step_last, step_id, bind_last, NULL,
	                   "set is_last");
}

static int bind_output(sky_stmt *st, const void *arg)
{
	int rc = sky_store__bind_text(st, 2, arg);
	return rc ? rc : sky_st_bind_i64(st, 3, skyx_time_now_ms());
}

int sky_store_step_set_output(sky_store *s, const char *step_id,
                              const char *output_json)
{
	int rc = sky_store__check_json("step output", output_json);
	return rc ? rc
	          : step_update(s, &q_step_output, step_id, bind_output,
	                        output_json, "set step output");
}

static int bind_usage(sky_stmt *st, const void *arg)
{
	const sky_step_usage *u = arg;
	sky_st_bind_i64(st, 2, u->input_tokens);
	sky_st_bind_i64(st, 3, u->output_tokens);
	sky_st_bind_i64(st, 4, u->reasoning_tokens);
	sky_st_bind_i64(st, 5, u->cached_tokens);
	sky_st_bind_double(st, 6, u->cost);
	sky_store__bind_text(st, 7, u->model);
	return sky_st_bind_i64(st, 8, skyx_time_now_ms());
}

int sky_store_step_add_usage(sky_store *s, const char *step_id,
                             const sky_step_usage *u)
{
	if (!u || u->input_tokens < 0 || u->output_tokens < 0 ||
	    u->reasoning_tokens < 0 || u->cached_tokens < 0 || u->cost < 0)
		return sky_error_set(SKY_EINVALID,
		                     "token counts and cost must be >= 0");
	return step_update(s, &q_step_usage, step_id, bind_usage, u,
	                   "add step usage");
}

int sky_store_step_list(sky_store *s, const char *task_id, sky_step_list **out)
{
	sky_step_list *l;
	void *items = NULL;
	int rc;

	if (!s || !task_id || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	rc = sky_store__read_all(s, &q_step_list, task_id, NULL, &items,
	                         &l->count, "list steps");
	l->items = items;
	if (rc)
		free(l);
	else
		*out = l;
	return rc;
}

/* ---- actions ------------------------------------------------------------ */

static const sky_col action_cols[] = {
    COL(sky_action_rec, action_id, TEXT),
    COL(sky_action_rec, task_id, TEXT),
    COL(sky_action_rec, step_id, TEXT),
    COL(sky_action_rec, step_order, INT),
    COL(sky_action_rec, step_retry_index, INT),
    COL(sky_action_rec, action_index, INT),
    COL(sky_action_rec, action_type, TEXT),
    COL(sky_action_rec, element_id, TEXT),
    COL(sky_action_rec, action, TEXT),
    COL(sky_action_rec, result, TEXT),
    COL(sky_action_rec, status, TEXT),
    COL(sky_action_rec, created_at, TS),
};
const sky_table sky_store__t_action =
    SKY_TABLE("actions", sky_action_rec, action_cols);

/* The step's task, order, retry and organization are copied into the
 * action row by the INSERT itself (so a task's history is one indexed
 * scan); no row is inserted for an unknown step. */
static const sky_sql q_action_insert = {
    &sky_store__t_action,
    "INSERT INTO actions(%C,organization_id) SELECT ?1,task_id,?3,"
    "\"order\",retry_index,coalesce((SELECT max(action_index)+1 FROM "
    "actions WHERE step_id=?3),0),?7,?8,?9,?10,?11,?12,organization_id "
    "FROM steps WHERE step_id=?3 RETURNING %C"};
static const sky_sql q_action_finish = {
    NULL, "UPDATE actions SET result=?2, status=?3 WHERE action_id=?1 "
          "AND status='issued'"};
static const sky_sql q_action_list_task = {
    &sky_store__t_action,
    "SELECT %C FROM actions WHERE task_id=?1 AND (?2 IS NULL OR "
    "step_id=?2) ORDER BY step_order, step_retry_index, action_index"};

void sky_action_rec_free(sky_action_rec *r)
{
	sky_store__row_clear(&sky_store__t_action, r);
	free(r);
}

void sky_action_list_free(sky_action_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&sky_store__t_action, l->items, l->count);
	free(l);
}

/* action_type and element_id come from the action object itself. */
static int action_fields(const char *action_json, sky_action_rec *r)
{
	json_t *a = json_loads(action_json, 0, NULL);
	json_t *type = json_object_get(a, "action_type");
	json_t *el = json_object_get(a, "element_id");
	int rc = 0;

	if (!json_is_object(a) || !json_is_string(type) ||
	    !*json_string_value(type)) {
		rc = sky_error_set(SKY_EINVALID,
		                   "an action must be a JSON object with an "
		                   "action_type");
		goto done;
	}
	r->action_type = strdup(json_string_value(type));
	if (json_is_string(el))
		r->element_id = strdup(json_string_value(el));
	else if (json_is_integer(el))
		r->element_id =
		    skyx_asprintf("%lld", (long long)json_integer_value(el));
	if (!r->action_type || (el && !json_is_null(el) && !r->element_id))
		rc = sky_error_from_code(SKY_ENOMEM);
done:
	json_decref(a);
	return rc;
}

int sky_store_action_append(sky_store *s, const char *step_id,
                            const char *action_json, const char *result_json,
                            const char *status, sky_action_rec **out)
{
	char id[SKY_ID_MAX];
	sky_action_rec r = {0};
	void *saved = NULL;
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (out)
		*out = NULL;
	if (!s || !step_id || !action_json || !status || !*status)
		return sky_error_set(SKY_EINVALID, "an action needs a step, "
		                                   "the action and a status");
	if ((rc = sky_store__check_json("action result", result_json)) ||
	    (rc = action_fields(action_json, &r)))
		goto fail;
	r.action_id = strdup(sky_id_new(SKY_ID_ACTION, id));
	r.step_id = strdup(step_id);
	r.action = strdup(action_json);
	r.result = result_json ? strdup(result_json) : NULL;
	r.status = strdup(status);
	r.created_at = skyx_time_now_ms();
	if (!r.action_id || !r.step_id || !r.action || !r.status ||
	    (result_json && !r.result)) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto fail;
	}
	if (!(c = sky_store__wbegin(s))) {
		rc = sky_error_last_code();
		goto fail;
	}
	if (!(st = sky_store__stmt(c, &q_action_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if ((rc = sky_store__row_bind(st, &sky_store__t_action, &r)))
		goto done;
	rc = sky_store__fetch_one(c, st, &sky_store__t_action, &saved,
	                          "insert action");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Step not found %s", step_id);
done:
	rc = sky_store__wend(s, rc);
fail:
	sky_store__row_clear(&sky_store__t_action, &r);
	if (rc || !out)
		sky_action_rec_free(saved);
	else
		*out = saved;
	return rc;
}

int sky_store_action_finish(sky_store *s, const char *action_id,
                            const char *result_json, const char *status)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || !action_id || !status || !*status ||
	    !strcmp(status, SKY_ACTION_ISSUED))
		return sky_error_set(SKY_EINVALID, "finishing an action needs "
		                                   "its id and a final status");
	if ((rc = sky_store__check_json("action result", result_json)))
		return rc;
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_action_finish))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, action_id);
	sky_store__bind_text(st, 2, result_json);
	sky_store__bind_text(st, 3, status);
	if (!(rc = sky_store__exec(c, st, "finish action")) &&
	    !sky_store__changes(c))
		rc = sky_error_set(SKY_ENOTFOUND,
		                   "Action not found or not issued %s",
		                   action_id);
done:
	return sky_store__wend(s, rc);
}

int sky_store_action_list(sky_store *s, const char *task_id,
                          const char *step_id, sky_action_list **out)
{
	sky_action_list *l;
	void *items = NULL;
	int rc;

	if (!s || !task_id || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	rc = sky_store__read_all(s, &q_action_list_task, task_id, step_id,
	                         &items, &l->count, "list actions");
	l->items = items;
	if (rc)
		free(l);
	else
		*out = l;
	return rc;
}

/* ---- artifacts -------------------------------------------------------- */

static const sky_col artifact_cols[] = {
    COL(sky_artifact_rec, artifact_id, TEXT),
    COL(sky_artifact_rec, task_id, TEXT),
    COL(sky_artifact_rec, step_id, TEXT),
    COL(sky_artifact_rec, organization_id, TEXT),
    COL(sky_artifact_rec, kind, TEXT),
    COL(sky_artifact_rec, path, TEXT),
    COL(sky_artifact_rec, size, I64),
    COL(sky_artifact_rec, sha256, TEXT),
    COL(sky_artifact_rec, created_at, TS),
};
const sky_table sky_store__t_artifact =
    SKY_TABLE("artifacts", sky_artifact_rec, artifact_cols);

static const sky_sql q_artifact_insert = {&sky_store__t_artifact, "%I"};
static const sky_sql q_artifact_get = {
    &sky_store__t_artifact,
    "SELECT %C FROM artifacts WHERE artifact_id=?1 AND (?2 IS NULL OR "
    "organization_id=?2)"};
static const sky_sql q_artifact_list = {
    &sky_store__t_artifact,
    "SELECT %C FROM artifacts WHERE task_id=?1 AND (?2 IS NULL OR "
    "kind=?2) ORDER BY created_at, seq"};
static const sky_sql q_artifact_step_task = {
    NULL, "SELECT task_id FROM steps WHERE step_id=?1"};

void sky_artifact_rec_free(sky_artifact_rec *r)
{
	sky_store__row_clear(&sky_store__t_artifact, r);
	free(r);
}

void sky_artifact_list_free(sky_artifact_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&sky_store__t_artifact, l->items, l->count);
	free(l);
}

static int check_kind(const char *kind)
{
	if (!kind || !*kind || strlen(kind) > 64)
		return 0;
	for (const char *p = kind; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return 0;
	return 1;
}

/* The artifact server joins this to the data dir: no way out of it. */
static int check_rel_path(const char *path)
{
	const char *p = path;
	if (!path || !*path || *path == '/' || strlen(path) > 4096)
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return !strchr(path, '\\') && p[-1] != '/';
}

static int artifact_owner(sky_conn *c, sky_artifact_rec *r)
{
	char *step_task = NULL;
	int rc = scalar_text(c, &q_step_task_org, r->task_id,
	                     &r->organization_id, "find task");

	if (rc == SKY_ENOTFOUND)
		return sky_error_set(rc, "Task run not found %s", r->task_id);
	if (rc || !r->step_id)
		return rc;
	rc = scalar_text(c, &q_artifact_step_task, r->step_id, &step_task,
	                 "find step");
	if (rc == SKY_ENOTFOUND)
		return sky_error_set(rc, "Step not found %s", r->step_id);
	if (!rc && strcmp(step_task, r->task_id))
		rc = sky_error_set(SKY_EINVALID,
		                   "step %s belongs to %s, not "
		                   "%s",
		                   r->step_id, step_task, r->task_id);
	free(step_task);
	return rc;
}

int sky_store_artifact_add(sky_store *s, const char *task_id,
                           const char *step_id, const char *kind,
                           const char *path, int64_t size, const char *sha256,
                           sky_artifact_rec **out)
{
	char id[SKY_ID_MAX];
	sky_artifact_rec *r;
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (out)
		*out = NULL;
	if (!s || !task_id)
		return sky_error_set(SKY_EINVALID, "task id is NULL");
	if (!check_kind(kind))
		return sky_error_set(SKY_EINVALID,
		                     "artifact kind must be lower-case "
		                     "[a-z0-9_]");
	if (!check_rel_path(path))
		return sky_error_set(SKY_EINVALID,
		                     "artifact path '%s' must be relative to "
		                     "the data dir, without '.' or '..'",
		                     path ? path : "(null)");
	if (size < 0)
		return sky_error_set(SKY_EINVALID, "artifact size is negative");
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	r->artifact_id = strdup(sky_id_new(SKY_ID_ARTIFACT, id));
	r->task_id = strdup(task_id);
	r->step_id = step_id ? strdup(step_id) : NULL;
	r->kind = strdup(kind);
	r->path = strdup(path);
	r->sha256 = sha256 ? strdup(sha256) : NULL;
	r->size = size;
	r->created_at = skyx_time_now_ms();
	if (!r->artifact_id || !r->task_id || (step_id && !r->step_id) ||
	    !r->kind || !r->path || (sha256 && !r->sha256)) {
		sky_artifact_rec_free(r);
		return sky_error_from_code(SKY_ENOMEM);
	}
	if (!(c = sky_store__wbegin(s))) {
		sky_artifact_rec_free(r);
		return sky_error_last_code();
	}
	if ((rc = artifact_owner(c, r)))
		goto done;
	if (!(st = sky_store__stmt(c, &q_artifact_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if (!(rc = sky_store__row_bind(st, &sky_store__t_artifact, r)))
		rc = sky_store__exec(c, st, "insert artifact");
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_artifact_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_artifact_get(sky_store *s, const char *organization_id,
                           const char *artifact_id, sky_artifact_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !artifact_id || !out)
		return sky_error_set(SKY_EINVALID, "artifact id is NULL");
	rc = sky_store__read_one(s, &q_artifact_get, artifact_id,
	                         organization_id, &r, "get artifact");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Artifact not found %s", artifact_id);
	*out = r;
	return rc;
}

int sky_store_artifact_list(sky_store *s, const char *task_id, const char *kind,
                            sky_artifact_list **out)
{
	sky_artifact_list *l;
	void *items = NULL;
	int rc;

	if (!s || !task_id || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	rc = sky_store__read_all(s, &q_artifact_list, task_id, kind, &items,
	                         &l->count, "list artifacts");
	l->items = items;
	if (rc)
		free(l);
	else
		*out = l;
	return rc;
}
