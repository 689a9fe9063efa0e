/*
 * The store's scripts: replay plans made from completed runs, one row per
 * version (docs/replay.md). Deleting a script soft-deletes every version.
 */
#include "store/sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/id.h"
#include <skyx/time.h>

#define COL(rec, name, type)                                                   \
	{                                                                      \
#		name, SKY_COL_##type, offsetof(rec, name)                     \
	}

static const sky_col script_cols[] = {
    COL(sky_script_rec, script_revision_id, TEXT),
    COL(sky_script_rec, script_id, TEXT),
    COL(sky_script_rec, organization_id, TEXT),
    COL(sky_script_rec, cache_key, TEXT),
    COL(sky_script_rec, workflow_permanent_id, TEXT),
    COL(sky_script_rec, version, INT),
    COL(sky_script_rec, run_id, TEXT),
    COL(sky_script_rec, run_type, TEXT),
    COL(sky_script_rec, goal_template, TEXT),
    COL(sky_script_rec, url, TEXT),
    COL(sky_script_rec, plan, TEXT),
    COL(sky_script_rec, created_at, TS),
    COL(sky_script_rec, modified_at, TS),
    COL(sky_script_rec, deleted_at, TS),
};
static const sky_table t_script =
    SKY_TABLE("scripts", sky_script_rec, script_cols);

static const sky_sql q_insert = {&t_script, "%I"};
static const sky_sql q_newest_for_key = {
    &t_script, "SELECT %C FROM scripts WHERE organization_id=?1 AND "
               "cache_key=?2 AND deleted_at IS NULL "
               "ORDER BY version DESC LIMIT 1"};
static const sky_sql q_last_version = {
    NULL,
    "SELECT script_id, MAX(version) FROM scripts WHERE "
    "organization_id=?1 AND cache_key=?2 AND deleted_at IS NULL",
    /* PostgreSQL has no bare columns beside an aggregate. */
    "SELECT script_id, version FROM scripts WHERE organization_id=?1 AND "
    "cache_key=?2 AND deleted_at IS NULL ORDER BY version DESC LIMIT 1"};
static const sky_sql q_get = {
    &t_script, "SELECT %C FROM scripts WHERE script_id=?1 AND "
               "(?2 IS NULL OR organization_id=?2) AND deleted_at IS NULL "
               "AND (?3 = 0 OR version=?3) ORDER BY version DESC LIMIT 1"};
static const sky_sql q_list = {
    &t_script,
    "SELECT %C FROM scripts s WHERE organization_id=?1 AND deleted_at IS "
    "NULL AND version=(SELECT MAX(version) FROM scripts x WHERE "
    "x.script_id=s.script_id AND x.deleted_at IS NULL) "
    "ORDER BY created_at DESC, seq DESC LIMIT ?2 OFFSET ?3"};
static const sky_sql q_versions = {
    &t_script, "SELECT %C FROM scripts WHERE script_id=?1 AND "
               "(?2 IS NULL OR organization_id=?2) AND deleted_at IS NULL "
               "ORDER BY version DESC"};
static const sky_sql q_delete = {
    NULL, "UPDATE scripts SET deleted_at=?3, modified_at=?3 WHERE "
          "script_id=?1 AND (?2 IS NULL OR organization_id=?2) AND "
          "deleted_at IS NULL"};

void sky_script_rec_free(sky_script_rec *r)
{
	sky_store__row_clear(&t_script, r);
	free(r);
}

void sky_script_list_free(sky_script_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&t_script, l->items, l->count);
	free(l);
}

static void dup_all(char **dst, const char *src, int *oom)
{
	if (src && !(*dst = strdup(src)))
		*oom = 1;
}

int sky_store_script_add(sky_store *s, const sky_script_new *in,
                         sky_script_rec **out)
{
	char id[SKY_ID_MAX], rid[SKY_ID_MAX];
	sky_script_rec *r;
	sky_stmt *st;
	sky_conn *c;
	int oom = 0, rc;

	if (out)
		*out = NULL;
	if (!s || !in || !in->cache_key || !in->run_type || !in->plan)
		return sky_error_set(SKY_EINVALID,
		                     "a script needs a key, a run type and "
		                     "a plan");
	if ((rc = sky_store__check_json("script plan", in->plan)))
		return rc;
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	dup_all(&r->script_revision_id, sky_id_new(SKY_ID_SCRIPT_REVISION, rid),
	        &oom);
	dup_all(&r->organization_id,
	        in->organization_id ? in->organization_id : s->default_org,
	        &oom);
	dup_all(&r->cache_key, in->cache_key, &oom);
	dup_all(&r->workflow_permanent_id, in->workflow_permanent_id, &oom);
	dup_all(&r->run_id, in->run_id, &oom);
	dup_all(&r->run_type, in->run_type, &oom);
	dup_all(&r->goal_template, in->goal_template, &oom);
	dup_all(&r->url, in->url, &oom);
	dup_all(&r->plan, in->plan, &oom);
	if (oom) {
		sky_script_rec_free(r);
		return sky_error_from_code(SKY_ENOMEM);
	}
	r->created_at = r->modified_at = skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s))) {
		sky_script_rec_free(r);
		return sky_error_last_code();
	}
	/* The next version of the key's live script, in the same write
	 * transaction as the insert. */
	if (!(st = sky_store__stmt(c, &q_last_version))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, r->organization_id);
	sky_store__bind_text(st, 2, r->cache_key);
	rc = sky_store__step(c, st, "script version");
	if (rc == SKY_ROW && !sky_st_null(st, 0)) {
		dup_all(&r->script_id, sky_st_text(st, 0), &oom);
		r->version = (int)sky_st_i64(st, 1) + 1;
	} else if (rc >= 0) {
		dup_all(&r->script_id, sky_id_new(SKY_ID_SCRIPT, id), &oom);
		r->version = 1;
	}
	if (rc >= 0)
		rc = 0;
	sky_st_reset(st);
	if (rc)
		goto done;
	if (oom) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto done;
	}
	if (!(st = sky_store__stmt(c, &q_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if (!(rc = sky_store__row_bind(st, &t_script, r)))
		rc = sky_store__exec(c, st, "insert script");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Organization not found %s",
		              r->organization_id);
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_script_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_script_find(sky_store *s, const char *organization_id,
                          const char *cache_key, sky_script_rec **out)
{
	void *r = NULL;
	if (!s || !cache_key || !out)
		return sky_error_set(SKY_EINVALID, "cache key is NULL");
	int rc = sky_store__read_one(s, &q_newest_for_key,
	                             organization_id ? organization_id
	                                             : s->default_org,
	                             cache_key, &r, "find script");
	*out = r;
	return rc;
}

static int read_list(sky_store *s, const sky_sql *q, const char *p1,
                     const char *p2, int64_t n3, int has3, int64_t n4,
                     sky_script_list **out, const char *what)
{
	sky_script_list *l = calloc(1, sizeof *l);
	void *items = NULL;
	sky_stmt *st;
	int rc;
	if (!l)
		return sky_error_from_code(SKY_ENOMEM);
	sky_conn *c = sky_store__racquire(s);
	if (!(st = sky_store__stmt(c, q))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, p1);
		if (p2)
			sky_store__bind_text(st, 2, p2);
		if (has3) {
			sky_st_bind_i64(st, 2, n3);
			sky_st_bind_i64(st, 3, n4);
		}
		if (!p2 && !has3)
			sky_st_bind_null(st, 2);
		rc = sky_store__fetch_all(c, st, &t_script, &items, &l->count,
		                          what);
		l->items = items;
	}
	sky_store__rrelease(s, c);
	if (rc) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int sky_store_script_get(sky_store *s, const char *organization_id,
                         const char *script_id, int version,
                         sky_script_rec **out)
{
	sky_stmt *st;
	void *r = NULL;
	int rc;
	if (!s || !script_id || !out)
		return sky_error_set(SKY_EINVALID, "script id is NULL");
	*out = NULL;
	sky_conn *c = sky_store__racquire(s);
	if (!(st = sky_store__stmt(c, &q_get))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, script_id);
		sky_store__bind_text(st, 2, organization_id);
		sky_st_bind_i64(st, 3, version);
		rc = sky_store__fetch_one(c, st, &t_script, &r, "get script");
	}
	sky_store__rrelease(s, c);
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Script not found %s", script_id);
	*out = r;
	return rc;
}

int sky_store_script_list(sky_store *s, const char *organization_id, int page,
                          int page_size, sky_script_list **out)
{
	if (!s || !out || page < 1 || page_size < 1)
		return sky_error_set(SKY_EINVALID,
		                     "page and page_size must be >= 1");
	*out = NULL;
	return read_list(s, &q_list,
	                 organization_id ? organization_id : s->default_org,
	                 NULL, page_size, 1, (int64_t)(page - 1) * page_size,
	                 out, "list scripts");
}

int sky_store_script_versions(sky_store *s, const char *organization_id,
                              const char *script_id, sky_script_list **out)
{
	if (!s || !script_id || !out)
		return sky_error_set(SKY_EINVALID, "script id is NULL");
	*out = NULL;
	sky_script_list *l = NULL;
	int rc = read_list(s, &q_versions, script_id, organization_id, 0, 0, 0,
	                   &l, "list script versions");
	if (!rc && !l->count) {
		sky_script_list_free(l);
		return sky_error_set(SKY_ENOTFOUND, "Script not found %s",
		                     script_id);
	}
	*out = l;
	return rc;
}

int sky_store_script_delete(sky_store *s, const char *organization_id,
                            const char *script_id)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;
	if (!s || !script_id)
		return sky_error_set(SKY_EINVALID, "script id is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_delete))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, script_id);
		sky_store__bind_text(st, 2, organization_id);
		sky_st_bind_i64(st, 3, skyx_time_now_ms());
		rc = sky_store__exec(c, st, "delete script");
		if (!rc && sky_store__changes(c) == 0)
			rc = sky_error_set(SKY_ENOTFOUND, "Script not found %s",
			                   script_id);
	}
	return sky_store__wend(s, rc);
}
