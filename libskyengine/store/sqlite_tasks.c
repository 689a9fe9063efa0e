/*
 * The store's organizations, API keys and tasks (runs), with the task
 * status machine enforced inside the write transaction.
 */
#include "store/sqlite_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/hash.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define COL(rec, name, type)                                                   \
	{                                                                      \
#		name, SKY_COL_##type, offsetof(rec, name)                     \
	}

/* ---- organizations ------------------------------------------------------ */

static const sky_col org_cols[] = {
    COL(sky_org_rec, organization_id, TEXT), COL(sky_org_rec, name, TEXT),
    COL(sky_org_rec, is_default, INT),       COL(sky_org_rec, created_at, TS),
    COL(sky_org_rec, modified_at, TS),
};
const sky_table sky_store__t_org =
    SKY_TABLE("organizations", sky_org_rec, org_cols);

static const sky_sql q_org_insert = {&sky_store__t_org, "%I"};
static const sky_sql q_org_get = {
    &sky_store__t_org, "SELECT %C FROM organizations WHERE organization_id=?1"};
static const sky_sql q_org_default = {
    NULL, "SELECT organization_id FROM organizations WHERE is_default=1 "
          "ORDER BY seq LIMIT 1"};
static const sky_sql q_org_exists = {
    NULL, "SELECT 1 FROM organizations WHERE organization_id=?1"};

static int org_insert(sky_conn *c, const char *name, int is_default,
                      sky_org_rec *r)
{
	char id[SKY_ID_MAX];
	sky_stmt *st = sky_store__stmt(c, &q_org_insert);
	int rc;

	if (!st)
		return sky_error_last_code();
	r->organization_id = strdup(sky_id_new(SKY_ID_ORG, id));
	r->name = strdup(name);
	if (!r->organization_id || !r->name)
		return sky_error_from_code(SKY_ENOMEM);
	r->is_default = is_default;
	r->created_at = r->modified_at = skyx_time_now_ms();
	if ((rc = sky_store__row_bind(st, &sky_store__t_org, r)))
		return rc;
	return sky_store__exec(c, st, "insert organization");
}

int sky_store__ensure_default_org(sky_store *s)
{
	sky_org_rec r = {0};
	sky_conn *c = sky_store__wbegin(s);
	sky_stmt *st;
	int rc;

	if (!c)
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_org_default))) {
		rc = sky_error_last_code();
		goto done;
	}
	rc = sky_store__step(c, st, "default organization");
	if (rc == SKY_ROW) {
		snprintf(s->default_org, sizeof s->default_org, "%s",
		         sky_st_text(st, 0));
		sky_st_reset(st);
		rc = 0;
		goto done;
	}
	sky_st_reset(st);
	if (rc < 0)
		goto done;
	if ((rc = org_insert(c, "default", 1, &r)))
		goto done;
	snprintf(s->default_org, sizeof s->default_org, "%s",
	         r.organization_id);
done:
	sky_store__row_clear(&sky_store__t_org, &r);
	return sky_store__wend(s, rc);
}

int sky_store_org_create(sky_store *s, const char *name, sky_org_rec **out)
{
	sky_org_rec *r;
	sky_conn *c;
	int rc;

	if (!s || !name || !*name || !out)
		return sky_error_set(SKY_EINVALID,
		                     "an organization needs a name");
	*out = NULL;
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	if (!(c = sky_store__wbegin(s))) {
		free(r);
		return sky_error_last_code();
	}
	rc = sky_store__wend(s, org_insert(c, name, 0, r));
	if (rc) {
		sky_org_rec_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int sky_store_org_get(sky_store *s, const char *organization_id,
                      sky_org_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !organization_id || !out)
		return sky_error_set(SKY_EINVALID, "organization id is NULL");
	rc = sky_store__read_one(s, &q_org_get, organization_id, NULL, &r,
	                         "get organization");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Organization not found %s", organization_id);
	*out = r;
	return rc;
}

void sky_org_rec_free(sky_org_rec *r)
{
	sky_store__row_clear(&sky_store__t_org, r);
	free(r);
}

static int org_check(sky_conn *c, const char *organization_id)
{
	sky_stmt *st = sky_store__stmt(c, &q_org_exists);
	int rc;

	if (!st)
		return sky_error_last_code();
	sky_store__bind_text(st, 1, organization_id);
	rc = sky_store__step(c, st, "check organization");
	sky_st_reset(st);
	if (rc == SKY_DONE)
		return sky_error_set(SKY_ENOTFOUND, "Organization not found %s",
		                     organization_id);
	return rc < 0 ? rc : 0;
}

/* ---- API keys ---------------------------------------------------------- */

static const sky_col apikey_cols[] = {
    COL(sky_apikey_rec, key_id, I64),
    COL(sky_apikey_rec, organization_id, TEXT),
    COL(sky_apikey_rec, key_sha256, TEXT),
    COL(sky_apikey_rec, key_prefix, TEXT),
    COL(sky_apikey_rec, created_at, TS),
    COL(sky_apikey_rec, revoked_at, TS),
};
const sky_table sky_store__t_apikey =
    SKY_TABLE("api_keys", sky_apikey_rec, apikey_cols);

static const sky_sql q_apikey_insert = {
    &sky_store__t_apikey,
    "INSERT INTO api_keys(organization_id,key_sha256,key_prefix,"
    "created_at) VALUES(?1,?2,?3,?4) RETURNING %C"};
static const sky_sql q_apikey_find = {
    &sky_store__t_apikey, "SELECT %C FROM api_keys WHERE key_sha256=?1"};
static const sky_sql q_apikey_revoke = {
    NULL, "UPDATE api_keys SET revoked_at=?2 WHERE key_id=?1 AND "
          "revoked_at IS NULL"};
static const sky_sql q_apikey_exists = {
    NULL, "SELECT 1 FROM api_keys WHERE key_id=?1"};
static const sky_sql q_apikey_count = {
    NULL, "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"};

/* Enough of a key to recognise it in a list, not enough to matter. */
#define APIKEY_PREFIX_LEN 6
#define APIKEY_MIN_LEN 16

int sky_store_apikey_add(sky_store *s, const char *organization_id,
                         const char *key, sky_apikey_rec **out)
{
	char hex[SKYX_SHA256_HEX_LEN], prefix[APIKEY_PREFIX_LEN + 1];
	void *r = NULL;
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (out)
		*out = NULL;
	if (!s || !key || strlen(key) < APIKEY_MIN_LEN)
		return sky_error_set(SKY_EINVALID,
		                     "an API key must have at least %d "
		                     "characters",
		                     APIKEY_MIN_LEN);
	if (!organization_id)
		organization_id = s->default_org;
	sky_secret_register(key);
	skyx_sha256_hex(key, strlen(key), hex);
	snprintf(prefix, sizeof prefix, "%s", key);
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if ((rc = org_check(c, organization_id)))
		goto done;
	if (!(st = sky_store__stmt(c, &q_apikey_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, organization_id);
	sky_store__bind_text(st, 2, hex);
	sky_store__bind_text(st, 3, prefix);
	sky_st_bind_i64(st, 4, skyx_time_now_ms());
	rc = sky_store__fetch_one(c, st, &sky_store__t_apikey, &r,
	                          "add API key");
	if (rc == SKY_EEXISTS)
		sky_error_set(rc, "this API key is already stored");
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_apikey_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_apikey_find(sky_store *s, const char *key_sha256,
                          sky_apikey_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !key_sha256 || !out)
		return sky_error_set(SKY_EINVALID, "key hash is NULL");
	rc = sky_store__read_one(s, &q_apikey_find, key_sha256, NULL, &r,
	                         "find API key");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "unknown API key");
	*out = r;
	return rc;
}

int sky_store_apikey_revoke(sky_store *s, int64_t key_id)
{
	sky_conn *c = s ? sky_store__wbegin(s) : NULL;
	sky_stmt *st;
	int rc;

	if (!c)
		return s ? sky_error_last_code()
		         : sky_error_set(SKY_EINVALID, "store is NULL");
	if (!(st = sky_store__stmt(c, &q_apikey_exists))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_st_bind_i64(st, 1, key_id);
	rc = sky_store__step(c, st, "find API key");
	sky_st_reset(st);
	if (rc == SKY_DONE) {
		rc = sky_error_set(SKY_ENOTFOUND, "no API key with id %lld",
		                   (long long)key_id);
		goto done;
	}
	if (rc < 0)
		goto done;
	if (!(st = sky_store__stmt(c, &q_apikey_revoke))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_st_bind_i64(st, 1, key_id);
	sky_st_bind_i64(st, 2, skyx_time_now_ms());
	rc = sky_store__exec(c, st, "revoke API key");
done:
	return sky_store__wend(s, rc);
}

int sky_store_apikey_count(sky_store *s, int64_t *count)
{
	sky_conn *c;
	sky_stmt *st;
	int rc;

	if (!s || !count)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	c = sky_store__racquire(s);
	if (!(st = sky_store__stmt(c, &q_apikey_count))) {
		rc = sky_error_last_code();
	} else {
		rc = sky_store__step(c, st, "count API keys");
		*count = rc == SKY_ROW ? sky_st_i64(st, 0) : 0;
		sky_st_reset(st);
		rc = rc < 0 ? rc : 0;
	}
	sky_store__rrelease(s, c);
	return rc;
}

void sky_apikey_rec_free(sky_apikey_rec *r)
{
	sky_store__row_clear(&sky_store__t_apikey, r);
	free(r);
}

/* ---- tasks ---------------------------------------------------------------- */

static const sky_col task_cols[] = {
    COL(sky_task_rec, task_id, TEXT),
    COL(sky_task_rec, organization_id, TEXT),
    COL(sky_task_rec, run_type, TEXT),
    COL(sky_task_rec, engine, TEXT),
    COL(sky_task_rec, status, TASK_STATUS),
    COL(sky_task_rec, title, TEXT),
    COL(sky_task_rec, url, TEXT),
    COL(sky_task_rec, prompt, TEXT),
    COL(sky_task_rec, data_extraction_goal, TEXT),
    COL(sky_task_rec, proxy_location, TEXT),
    COL(sky_task_rec, data_extraction_schema, TEXT),
    COL(sky_task_rec, error_code_mapping, TEXT),
    COL(sky_task_rec, navigation_payload, TEXT),
    COL(sky_task_rec, max_steps, INT0),
    COL(sky_task_rec, webhook_url, TEXT),
    COL(sky_task_rec, totp_identifier, TEXT),
    COL(sky_task_rec, totp_url, TEXT),
    COL(sky_task_rec, browser_session_id, TEXT),
    COL(sky_task_rec, publish_workflow, INT),
    COL(sky_task_rec, extra_http_headers, TEXT),
    COL(sky_task_rec, include_action_history_in_verification, INT),
    COL(sky_task_rec, max_screenshot_scrolls, INTN),
    COL(sky_task_rec, browser_address, TEXT),
    COL(sky_task_rec, run_request, TEXT),
    COL(sky_task_rec, output, TEXT),
    COL(sky_task_rec, failure_reason, TEXT),
    COL(sky_task_rec, errors, TEXT),
    COL(sky_task_rec, webhook_failure_reason, TEXT),
    COL(sky_task_rec, created_at, TS),
    COL(sky_task_rec, modified_at, TS),
    COL(sky_task_rec, queued_at, TS),
    COL(sky_task_rec, started_at, TS),
    COL(sky_task_rec, finished_at, TS),
    COL(sky_task_rec, step_count, INT),
    COL(sky_task_rec, idempotency_key, TEXT),
    COL(sky_task_rec, parent_task_id, TEXT),
    COL(sky_task_rec, workflow_permanent_id, TEXT),
    COL(sky_task_rec, proxy_applied, TEXT),
    COL(sky_task_rec, notes, TEXT),
};
const sky_table sky_store__t_task = SKY_TABLE("tasks", sky_task_rec, task_cols);

static const sky_sql q_task_insert = {&sky_store__t_task, "%I"};
static const sky_sql q_task_get = {&sky_store__t_task,
                                   "SELECT %C FROM tasks WHERE task_id=?1 AND "
                                   "(?2 IS NULL OR organization_id=?2)"};
static const sky_sql q_task_by_key = {
    &sky_store__t_task, "SELECT %C FROM tasks WHERE organization_id=?1 "
                        "AND idempotency_key=?2"};
static const sky_sql q_task_exists = {NULL,
                                      "SELECT 1 FROM tasks WHERE task_id=?1"};
/* PostgreSQL: the row stays locked until the transition commits, so two
 * hosts cannot both move one run. */
static const sky_sql q_task_status = {
    NULL, "SELECT status FROM tasks WHERE task_id=?1",
    "SELECT status FROM tasks WHERE task_id=?1 FOR UPDATE"};
static const sky_sql q_task_move = {
    NULL, "UPDATE tasks SET status=?2, modified_at=?3,"
          " failure_reason=coalesce(?4, failure_reason),"
          " queued_at=CASE WHEN ?5 THEN ?3 ELSE queued_at END,"
          " started_at=CASE WHEN ?6 THEN ?3 ELSE started_at END,"
          " finished_at=CASE WHEN ?7 THEN ?3 ELSE finished_at END"
          " WHERE task_id=?1"};
/* A run naming a live browser session another engine holds is that
 * engine's to execute (?3: the claiming engine). */
#define TASK_NEXT                                                              \
	"SELECT task_id, status FROM tasks WHERE parent_task_id IS NULL "      \
	"AND (status IN ('created','queued') OR (status='running' AND "        \
	"lease_expires_at<?2)) AND (?1 IS NULL OR run_type=?1) "               \
	"AND NOT EXISTS (SELECT 1 FROM browser_sessions b WHERE "              \
	"b.browser_session_id=tasks.browser_session_id AND b.status IN "       \
	"('created','running') AND b.holder IS NOT NULL AND b.holder<>?3) "    \
	"ORDER BY created_at, seq LIMIT 1"
static const sky_sql q_task_next = {
    NULL, TASK_NEXT,
    /* Hosts claiming at once each take a different run, no waiting. */
    TASK_NEXT " FOR UPDATE OF tasks SKIP LOCKED"};
static const sky_sql q_task_lease = {
    NULL, "UPDATE tasks SET lease_owner=?2, lease_expires_at=?3 "
          "WHERE task_id=?1"};
static const sky_sql q_task_renew = {
    NULL, "UPDATE tasks SET lease_expires_at=?3 WHERE task_id=?1 AND "
          "lease_owner=?2 AND status='running'"};
static const sky_sql q_task_drop_one = {
    NULL, "UPDATE tasks SET lease_expires_at=0 WHERE task_id=?1 AND "
          "(?2 IS NULL OR lease_owner=?2) AND status='running'"};
static const sky_sql q_task_drop_owner = {
    NULL, "UPDATE tasks SET lease_expires_at=0 WHERE status='running' AND "
          "(lease_owner=?1 OR lease_owner IS NULL)"};

/* One prepared UPDATE per settable column. */
#define SETTER(field)                                                          \
	static const sky_sql q_task_set_##field = {                            \
	    NULL, "UPDATE tasks SET " #field "=?2, modified_at=?3 "            \
	          "WHERE task_id=?1"}
SETTER(output);
SETTER(errors);
SETTER(webhook_failure_reason);
SETTER(step_count);
SETTER(proxy_applied);
SETTER(notes);
SETTER(workflow_permanent_id);
SETTER(webhook_key_sealed);
#undef SETTER

void sky_task_rec_free(sky_task_rec *r)
{
	sky_store__row_clear(&sky_store__t_task, r);
	free(r);
}

void sky_task_list_free(sky_task_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&sky_store__t_task, l->items, l->count);
	free(l);
}

static int dup_field(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : SKY_ENOMEM;
}

static int check_new_task(const sky_task_new *in)
{
	static const struct {
		const char *name;
		size_t off;
	} json_fields[] = {
	    {"proxy_location", offsetof(sky_task_new, proxy_location)},
	    {"data_extraction_schema",
	     offsetof(sky_task_new, data_extraction_schema)},
	    {"error_code_mapping", offsetof(sky_task_new, error_code_mapping)},
	    {"navigation_payload", offsetof(sky_task_new, navigation_payload)},
	    {"extra_http_headers", offsetof(sky_task_new, extra_http_headers)},
	    {"run_request", offsetof(sky_task_new, run_request)},
	    {"notes", offsetof(sky_task_new, notes)},
	};
	int rc;

	if (!in->prompt)
		return sky_error_set(SKY_EINVALID, "a task needs a prompt");
	if (!in->run_type || (strcmp(in->run_type, SKY_RUN_TYPE_V1) &&
	                      strcmp(in->run_type, SKY_RUN_TYPE_V2)))
		return sky_error_set(SKY_EINVALID,
		                     "unknown run type '%s' (task_v1 or "
		                     "task_v2)",
		                     in->run_type ? in->run_type : "(null)");
	if (!in->engine || !*in->engine)
		return sky_error_set(SKY_EINVALID, "a task needs an engine");
	if (in->max_steps < 0)
		return sky_error_set(SKY_EINVALID, "max_steps is negative");
	for (size_t i = 0; i < sizeof json_fields / sizeof *json_fields; i++) {
		const char *v = *(const char *const *)((const char *)in +
		                                       json_fields[i].off);
		if ((rc = sky_store__check_json(json_fields[i].name, v)))
			return rc;
	}
	return 0;
}

/* Copy the request into a record that becomes the inserted row. */
static int task_from_new(const sky_task_new *in, const char *org,
                         sky_task_rec *r)
{
	char id[SKY_ID_MAX];
	int v2 = !strcmp(in->run_type, SKY_RUN_TYPE_V2);
	int64_t now = skyx_time_now_ms();
	int rc = 0;

	sky_id_new(v2 ? SKY_ID_TASK_V2 : SKY_ID_TASK, id);
	rc |= dup_field(&r->task_id, id);
	rc |= dup_field(&r->organization_id, org);
	rc |= dup_field(&r->run_type, in->run_type);
	rc |= dup_field(&r->engine, in->engine);
	rc |= dup_field(&r->title, in->title);
	rc |= dup_field(&r->url, in->url);
	rc |= dup_field(&r->prompt, in->prompt);
	rc |= dup_field(&r->data_extraction_goal, in->data_extraction_goal);
	rc |= dup_field(&r->proxy_location, in->proxy_location);
	rc |= dup_field(&r->data_extraction_schema, in->data_extraction_schema);
	rc |= dup_field(&r->error_code_mapping, in->error_code_mapping);
	rc |= dup_field(&r->navigation_payload, in->navigation_payload);
	rc |= dup_field(&r->webhook_url, in->webhook_url);
	rc |= dup_field(&r->totp_identifier, in->totp_identifier);
	rc |= dup_field(&r->totp_url, in->totp_url);
	rc |= dup_field(&r->browser_session_id, in->browser_session_id);
	rc |= dup_field(&r->extra_http_headers, in->extra_http_headers);
	rc |= dup_field(&r->browser_address, in->browser_address);
	rc |= dup_field(&r->run_request, in->run_request);
	rc |= dup_field(&r->idempotency_key, in->idempotency_key);
	rc |= dup_field(&r->parent_task_id, in->parent_task_id);
	rc |= dup_field(&r->workflow_permanent_id, in->workflow_permanent_id);
	rc |= dup_field(&r->notes, in->notes);
	if (rc)
		return sky_error_from_code(SKY_ENOMEM);
	r->status = in->queued ? SKY_TASK_QUEUED : SKY_TASK_CREATED;
	r->max_steps = in->max_steps;
	r->publish_workflow = !!in->publish_workflow;
	r->include_action_history_in_verification =
	    !!in->include_action_history_in_verification;
	r->max_screenshot_scrolls =
	    in->max_screenshot_scrolls < 0 ? -1 : in->max_screenshot_scrolls;
	r->created_at = r->modified_at = now;
	r->queued_at = in->queued ? now : 0;
	return 0;
}

/* PostgreSQL: wake the workers of every host when this transaction
 * commits (sky_store_wait_runs). */
static int notify_runs(sky_conn *c)
{
	static const sky_sql q_notify = {
	    NULL, "SELECT pg_notify('skyengine_runs', '')"};
	sky_stmt *st;
	if (!sky_conn_pg(c))
		return 0;
	if (!(st = sky_store__stmt(c, &q_notify)))
		return sky_error_last_code();
	return sky_store__exec(c, st, "notify");
}

static int find_by_key(sky_conn *c, const char *org, const char *key,
                       sky_task_rec **out)
{
	sky_stmt *st = sky_store__stmt(c, &q_task_by_key);
	void *r = NULL;
	int rc;

	if (!st)
		return sky_error_last_code();
	sky_store__bind_text(st, 1, org);
	sky_store__bind_text(st, 2, key);
	rc = sky_store__fetch_one(c, st, &sky_store__t_task, &r,
	                          "find idempotency key");
	*out = r;
	return rc;
}

static int task_exists(sky_conn *c, const char *task_id)
{
	sky_stmt *st = sky_store__stmt(c, &q_task_exists);
	int rc;
	if (!st)
		return sky_error_last_code();
	sky_store__bind_text(st, 1, task_id);
	rc = sky_store__step(c, st, "find task");
	sky_st_reset(st);
	if (rc == SKY_DONE)
		return sky_error_set(SKY_ENOTFOUND, "Task run not found %s",
		                     task_id);
	return rc < 0 ? rc : 0;
}

static int task_create(sky_store *s, const sky_task_new *in, sky_task_rec **out,
                       int *existed, int retried)
{
	const char *org;
	sky_task_rec *r = NULL, *found = NULL;
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (out)
		*out = NULL;
	if (existed)
		*existed = 0;
	if (!s || !in)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	if ((rc = check_new_task(in)))
		return rc;
	org = in->organization_id ? in->organization_id : s->default_org;
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	if ((rc = task_from_new(in, org, r))) {
		sky_task_rec_free(r);
		return rc;
	}
	if (!(c = sky_store__wbegin(s))) {
		sky_task_rec_free(r);
		return sky_error_last_code();
	}
	if (in->idempotency_key) {
		rc = find_by_key(c, org, in->idempotency_key, &found);
		if (rc == 0)
			goto done;
		if (rc != SKY_ENOTFOUND)
			goto done;
	}
	if ((rc = org_check(c, org)))
		goto done;
	if (in->parent_task_id && (rc = task_exists(c, in->parent_task_id)))
		goto done;
	if (!(st = sky_store__stmt(c, &q_task_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if ((rc = sky_store__row_bind(st, &sky_store__t_task, r)))
		goto done;
	rc = sky_store__exec(c, st, "insert task");
	if (!rc && !in->parent_task_id)
		rc = notify_runs(c);
done:
	rc = sky_store__wend(s, rc);
	if (rc == SKY_EEXISTS && in->idempotency_key && !retried) {
		/* Another host inserted the same key between our look and
		 * our insert: this time the look finds its run. */
		sky_task_rec_free(r);
		return task_create(s, in, out, existed, 1);
	}
	if (found) {
		sky_task_rec_free(r);
		r = found;
		if (existed)
			*existed = 1;
	}
	if (rc || !out)
		sky_task_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_task_create(sky_store *s, const sky_task_new *in,
                          sky_task_rec **out, int *existed)
{
	return task_create(s, in, out, existed, 0);
}

int sky_store_task_get(sky_store *s, const char *organization_id,
                       const char *task_id, sky_task_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !task_id || !out)
		return sky_error_set(SKY_EINVALID, "task id is NULL");
	rc = sky_store__read_one(s, &q_task_get, task_id, organization_id, &r,
	                         "get task");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Task run not found %s", task_id);
	*out = r;
	return rc;
}

/* Load a task with the write connection (inside its transaction). */
static int task_load(sky_conn *c, const char *task_id, sky_task_rec **out)
{
	sky_stmt *st = sky_store__stmt(c, &q_task_get);
	void *r = NULL;
	int rc;

	if (!st)
		return sky_error_last_code();
	sky_store__bind_text(st, 1, task_id);
	rc = sky_store__fetch_one(c, st, &sky_store__t_task, &r, "get task");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Task run not found %s", task_id);
	*out = r;
	return rc;
}

/* The status machine, checked and applied inside the caller's write
 * transaction. */
static int task_move(sky_conn *c, const char *task_id, sky_task_status to,
                     const char *reason)
{
	sky_task_status from;
	sky_stmt *st = sky_store__stmt(c, &q_task_status);
	int64_t now = skyx_time_now_ms();
	int rc;

	if (!st)
		return sky_error_last_code();
	sky_store__bind_text(st, 1, task_id);
	rc = sky_store__step(c, st, "read task status");
	if (rc == SKY_DONE) {
		sky_st_reset(st);
		return sky_error_set(SKY_ENOTFOUND, "Task run not found %s",
		                     task_id);
	}
	if (rc < 0)
		return rc;
	rc = sky_task_status_from_name(sky_st_text(st, 0), &from);
	sky_st_reset(st);
	if (rc)
		return sky_error_set(SKY_EIO, "task %s has a corrupt status",
		                     task_id);
	if (!sky_task_status_can_transition(from, to))
		return sky_error_set(SKY_EINVALID,
		                     "Invalid task status transition from %s "
		                     "to %s for %s",
		                     sky_task_status_name(from),
		                     sky_task_status_name(to), task_id);
	if (sky_task_status_needs_reason(to) && (!reason || !*reason))
		return sky_error_set(SKY_EINVALID,
		                     "a task moving to %s needs a "
		                     "failure_reason (%s)",
		                     sky_task_status_name(to), task_id);
	if (!(st = sky_store__stmt(c, &q_task_move)))
		return sky_error_last_code();
	sky_store__bind_text(st, 1, task_id);
	sky_store__bind_text(st, 2, sky_task_status_name(to));
	sky_st_bind_i64(st, 3, now);
	sky_store__bind_text(st, 4, reason && *reason ? reason : NULL);
	sky_st_bind_i64(st, 5, to == SKY_TASK_QUEUED);
	sky_st_bind_i64(st, 6, to == SKY_TASK_RUNNING);
	sky_st_bind_i64(st, 7, sky_task_status_is_final(to));
	if ((rc = sky_store__exec(c, st, "update task status")))
		return rc;
	return to == SKY_TASK_QUEUED ? notify_runs(c) : 0;
}

int sky_store_task_set_status(sky_store *s, const char *task_id,
                              sky_task_status to, const char *failure_reason,
                              sky_task_rec **out)
{
	sky_task_rec *r = NULL;
	sky_conn *c;
	int rc;

	if (out)
		*out = NULL;
	if (!s || !task_id)
		return sky_error_set(SKY_EINVALID, "task id is NULL");
	if ((unsigned)to >= SKY_TASK_STATUS_COUNT)
		return sky_error_set(SKY_EINVALID, "unknown task status %d",
		                     (int)to);
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	rc = task_move(c, task_id, to, failure_reason);
	if (!rc && out)
		rc = task_load(c, task_id, &r);
	rc = sky_store__wend(s, rc);
	if (rc)
		sky_task_rec_free(r);
	else if (out)
		*out = r;
	return rc;
}

/* One claim. On PostgreSQL, *skipped says that a runnable run exists
 * which SKIP LOCKED passed over because another transaction held its
 * row (another host claiming it, or the API writing to a run it has just
 * created): worth looking again in a moment rather than at the next
 * wake. */
static int claim_once(sky_store *s, const sky_lease *l, const char *run_type,
                      sky_task_rec **out, int *reclaimed, int *skipped)
{
	static const sky_sql q_task_any = {NULL, TASK_NEXT};
	sky_task_rec *r = NULL;
	sky_stmt *st;
	char *id = NULL;
	int was_running = 0;
	sky_conn *c;
	int rc;

	*skipped = 0;
	int64_t now = skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_task_next))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, run_type);
	sky_st_bind_i64(st, 2, now);
	sky_store__bind_text(st, 3, l->owner);
	rc = sky_store__step(c, st, "find runnable task");
	if (rc == SKY_ROW) {
		if (!(id = strdup(sky_st_text(st, 0))))
			rc = sky_error_from_code(SKY_ENOMEM);
		was_running = !strcmp(sky_st_text(st, 1), "running");
	}
	sky_st_reset(st);
	if (rc >= 0 && !id && sky_conn_pg(c) &&
	    (st = sky_store__stmt(c, &q_task_any))) {
		sky_store__bind_text(st, 1, run_type);
		sky_st_bind_i64(st, 2, now);
		sky_store__bind_text(st, 3, l->owner);
		*skipped =
		    sky_store__step(c, st, "look for locked runs") == SKY_ROW;
		sky_st_reset(st);
	}
	if (rc < 0 || !id) {
		rc = rc < 0 ? rc : 0;
		goto done;
	}
	if (!was_running && (rc = task_move(c, id, SKY_TASK_RUNNING, NULL)))
		goto done;
	if (!(st = sky_store__stmt(c, &q_task_lease))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, id);
	sky_store__bind_text(st, 2, l->owner);
	sky_st_bind_i64(st, 3, now + l->lease_ms);
	if ((rc = sky_store__exec(c, st, "take lease")))
		goto done;
	rc = task_load(c, id, &r);
done:
	free(id);
	rc = sky_store__wend(s, rc);
	if (rc) {
		sky_task_rec_free(r);
	} else {
		*out = r;
		if (reclaimed)
			*reclaimed = r && was_running;
	}
	return rc;
}

int sky_store_task_claim(sky_store *s, const sky_lease *l, const char *run_type,
                         sky_task_rec **out, int *reclaimed)
{
	int rc, skipped = 0;

	if (reclaimed)
		*reclaimed = 0;
	if (!s || !out || !l || !l->owner || !*l->owner || l->lease_ms <= 0)
		return sky_error_set(SKY_EINVALID,
		                     "a claim needs an owner and a lease");
	*out = NULL;
	/* A row locked for a moment is looked at again for up to ~200 ms;
	 * after that the caller's next wake or re-check covers it. */
	for (int i = 0; i < 20; i++) {
		rc = claim_once(s, l, run_type, out, reclaimed, &skipped);
		if (rc || *out || !skipped)
			break;
		skyx_time_sleep_ms(10);
	}
	return rc;
}

int sky_store_task_lease_renew(sky_store *s, const sky_lease *l,
                               const char *const *ids, size_t n, int *lost)
{
	sky_stmt *st;
	sky_conn *c;
	int rc = 0;

	if (!s || !l || !l->owner || l->lease_ms <= 0 || (n && !ids))
		return sky_error_set(SKY_EINVALID,
		                     "a renewal needs an owner and a lease");
	if (!n)
		return 0;
	int64_t until = skyx_time_now_ms() + l->lease_ms;
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	for (size_t i = 0; i < n && !rc; i++) {
		if (!(st = sky_store__stmt(c, &q_task_renew))) {
			rc = sky_error_last_code();
			break;
		}
		sky_store__bind_text(st, 1, ids[i]);
		sky_store__bind_text(st, 2, l->owner);
		sky_st_bind_i64(st, 3, until);
		if (!(rc = sky_store__exec(c, st, "renew lease")) && lost)
			lost[i] = !sky_store__changes(c);
	}
	return sky_store__wend(s, rc);
}

int sky_store_task_lease_drop(sky_store *s, const char *owner,
                              const char *task_id, int *n)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (n)
		*n = 0;
	if (!s || (!task_id && !owner))
		return sky_error_set(SKY_EINVALID, "NULL argument");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, task_id ? &q_task_drop_one
	                                      : &q_task_drop_owner))) {
		rc = sky_error_last_code();
		goto done;
	}
	if (task_id) {
		sky_store__bind_text(st, 1, task_id);
		sky_store__bind_text(st, 2, owner);
	} else {
		sky_store__bind_text(st, 1, owner);
	}
	if (!(rc = sky_store__exec(c, st, "drop lease"))) {
		int dropped = sky_store__changes(c);
		if (n)
			*n = dropped;
		if (dropped)
			rc = notify_runs(c);
	}
done:
	return sky_store__wend(s, rc);
}

/* UPDATE one column of a task; text or integer. */
static int task_set(sky_store *s, const sky_sql *q, const char *task_id,
                    const char *text, int64_t num, int is_num, const char *what)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || !task_id)
		return sky_error_set(SKY_EINVALID, "task id is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, q))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, task_id);
	if (is_num)
		sky_st_bind_i64(st, 2, num);
	else
		sky_store__bind_text(st, 2, text);
	sky_st_bind_i64(st, 3, skyx_time_now_ms());
	if ((rc = sky_store__exec(c, st, what)))
		goto done;
	if (sky_store__changes(c) == 0)
		rc = sky_error_set(SKY_ENOTFOUND, "Task run not found %s",
		                   task_id);
done:
	return sky_store__wend(s, rc);
}

static int task_set_json(sky_store *s, const sky_sql *q, const char *task_id,
                         const char *field, const char *json)
{
	int rc = sky_store__check_json(field, json);
	return rc ? rc : task_set(s, q, task_id, json, 0, 0, field);
}

int sky_store_task_set_output(sky_store *s, const char *task_id,
                              const char *output_json)
{
	return task_set_json(s, &q_task_set_output, task_id, "output",
	                     output_json);
}

int sky_store_task_set_errors(sky_store *s, const char *task_id,
                              const char *errors_json_array)
{
	if (errors_json_array) {
		json_t *v = json_loads(errors_json_array, 0, NULL);
		int ok = json_is_array(v);
		json_decref(v);
		if (!ok)
			return sky_error_set(SKY_EINVALID,
			                     "errors must be a JSON array");
	}
	return task_set(s, &q_task_set_errors, task_id, errors_json_array, 0, 0,
	                "errors");
}

int sky_store_task_set_webhook_failure_reason(sky_store *s, const char *task_id,
                                              const char *reason)
{
	return task_set(s, &q_task_set_webhook_failure_reason, task_id, reason,
	                0, 0, "webhook_failure_reason");
}

int sky_store_task_set_step_count(sky_store *s, const char *task_id,
                                  int step_count)
{
	if (step_count < 0)
		return sky_error_set(SKY_EINVALID, "step_count is negative");
	return task_set(s, &q_task_set_step_count, task_id, NULL, step_count, 1,
	                "step_count");
}

int sky_store_task_set_proxy_applied(sky_store *s, const char *task_id,
                                     const char *json)
{
	return task_set_json(s, &q_task_set_proxy_applied, task_id,
	                     "proxy_applied", json);
}

int sky_store_task_set_notes(sky_store *s, const char *task_id,
                             const char *json)
{
	return task_set_json(s, &q_task_set_notes, task_id, "notes", json);
}

int sky_store_task_set_webhook_key(sky_store *s, const char *task_id,
                                   const char *sealed)
{
	return task_set(s, &q_task_set_webhook_key_sealed, task_id, sealed, 0,
	                0, "store webhook key");
}

int sky_store_task_set_workflow(sky_store *s, const char *task_id,
                                const char *workflow_permanent_id)
{
	return task_set(s, &q_task_set_workflow_permanent_id, task_id,
	                workflow_permanent_id, 0, 0, "workflow_permanent_id");
}

/* ---- task lists ----------------------------------------------------------- */

/* WHERE clause shared by the page and the count; parameters ?1 org,
 * ?2 run_type. Status names come from our own table, so they are safe to
 * write into the SQL. */
static void list_where(skyx_buf *b, const sky_task_query *q, int pg)
{
	int first = 1;
	skyx_buf_puts(b, " WHERE 1=1");
	if (q->organization_id)
		skyx_buf_puts(b, " AND organization_id=?1");
	if (q->run_type)
		skyx_buf_puts(b, " AND run_type=?2");
	if (q->top_level_only)
		skyx_buf_puts(b, " AND parent_task_id IS NULL");
	if (q->application)
		skyx_buf_puts(
		    b, pg ? " AND (notes::jsonb)->>'application'=?5"
		          : " AND json_extract(notes,'$.application')=?5");
	if (!q->status_mask)
		return;
	skyx_buf_puts(b, " AND status IN (");
	for (int i = 0; i < SKY_TASK_STATUS_COUNT; i++) {
		if (!(q->status_mask & SKY_TASK_MASK(i)))
			continue;
		skyx_buf_printf(b, "%s'%s'", first ? "" : ",",
		                sky_task_status_name((sky_task_status)i));
		first = 0;
	}
	skyx_buf_putc(b, ')');
}

static int bind_list(sky_stmt *st, const sky_task_query *q)
{
	if (q->organization_id)
		sky_store__bind_text(st, 1, q->organization_id);
	if (q->run_type)
		sky_store__bind_text(st, 2, q->run_type);
	if (q->application)
		sky_store__bind_text(st, 5, q->application);
	return 0;
}

static int list_in(sky_conn *c, const sky_task_query *q, sky_task_list *l)
{
	const char *key =
	    q->sort == SKY_TASK_SORT_MODIFIED_AT ? "modified_at" : "created_at";
	const char *dir = q->ascending ? "ASC" : "DESC";
	sky_stmt *st = NULL;
	void *items = NULL;
	skyx_buf b = {0};
	int rc;

	skyx_buf_puts(&b, "SELECT %C FROM tasks");
	list_where(&b, q, sky_conn_pg(c));
	skyx_buf_printf(&b, " ORDER BY %s %s, seq %s", key, dir, dir);
	if (q->page_size > 0)
		skyx_buf_puts(&b, " LIMIT ?3 OFFSET ?4");
	if (b.oom) {
		skyx_buf_free(&b);
		return sky_error_from_code(SKY_ENOMEM);
	}
	st = sky_store__prepare(c, &sky_store__t_task, b.data);
	skyx_buf_free(&b);
	if (!st)
		return sky_error_last_code();
	bind_list(st, q);
	if (q->page_size > 0) {
		int page = q->page > 0 ? q->page : 1;
		sky_st_bind_i64(st, 3, q->page_size);
		sky_st_bind_i64(st, 4, (int64_t)(page - 1) * q->page_size);
	}
	rc = sky_store__fetch_all(c, st, &sky_store__t_task, &items, &l->count,
	                          "list tasks");
	l->items = items;
	sky_st_finalize(st);
	if (rc)
		return rc;

	skyx_buf_puts(&b, "SELECT count(*) FROM tasks");
	list_where(&b, q, sky_conn_pg(c));
	if (b.oom) {
		skyx_buf_free(&b);
		return sky_error_from_code(SKY_ENOMEM);
	}
	st = sky_store__prepare(c, NULL, b.data);
	skyx_buf_free(&b);
	if (!st)
		return sky_error_last_code();
	bind_list(st, q);
	rc = sky_store__step(c, st, "count tasks");
	if (rc == SKY_ROW)
		l->total = sky_st_i64(st, 0);
	sky_st_finalize(st);
	return rc < 0 ? rc : 0;
}

int sky_store_task_list(sky_store *s, const sky_task_query *q,
                        sky_task_list **out)
{
	static const sky_sql begin = {NULL, "BEGIN"};
	static const sky_sql commit = {NULL, "COMMIT"};
	sky_task_list *l;
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || !q || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (q->page < 0 || q->page_size < 0)
		return sky_error_set(SKY_EINVALID,
		                     "page and page_size must be >= 1");
	if (q->status_mask >> SKY_TASK_STATUS_COUNT)
		return sky_error_set(SKY_EINVALID, "unknown status in filter");
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	c = sky_store__racquire(s);
	/* One read transaction, so that the page and the total agree. */
	st = sky_store__stmt(c, &begin);
	rc = st ? sky_store__exec(c, st, "begin read") : sky_error_last_code();
	if (!rc) {
		rc = list_in(c, q, l);
		st = sky_store__stmt(c, &commit);
		if (st)
			sky_store__exec(c, st, "end read");
	}
	sky_store__rrelease(s, c);
	if (rc) {
		sky_task_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int sky_store_task_list_status(sky_store *s, unsigned mask, sky_task_list **out)
{
	sky_task_query q = {0};
	q.status_mask = mask;
	q.ascending = 1;
	return sky_store_task_list(s, &q, out);
}
