/*
 * The store's browser profiles: the metadata of the sealed state files
 * the engine keeps under <data>/profiles (engine/profiles.c), and the
 * profile fields of browser sessions.
 */
#include "store/sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/id.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define COL(rec, name, type)                                                   \
	{                                                                      \
#		name, SKY_COL_##type, offsetof(rec, name)                     \
	}

static const sky_col bprofile_cols[] = {
    COL(sky_bprofile_rec, browser_profile_id, TEXT),
    COL(sky_bprofile_rec, organization_id, TEXT),
    COL(sky_bprofile_rec, name, TEXT),
    COL(sky_bprofile_rec, description, TEXT),
    COL(sky_bprofile_rec, source_run_id, TEXT),
    COL(sky_bprofile_rec, source_session_id, TEXT),
    COL(sky_bprofile_rec, use_count, INT),
    COL(sky_bprofile_rec, last_used_at, TS),
    COL(sky_bprofile_rec, created_at, TS),
    COL(sky_bprofile_rec, modified_at, TS),
    COL(sky_bprofile_rec, deleted_at, TS),
};
static const sky_table t_bprofile =
    SKY_TABLE("browser_profiles", sky_bprofile_rec, bprofile_cols);

static const sky_sql q_bp_insert = {&t_bprofile, "%I"};
static const sky_sql q_bp_get = {
    &t_bprofile, "SELECT %C FROM browser_profiles WHERE "
                 "browser_profile_id=?1 AND deleted_at IS NULL AND "
                 "(?2 IS NULL OR organization_id=?2)"};
static const sky_sql q_bp_list = {
    &t_bprofile, "SELECT %C FROM browser_profiles WHERE organization_id=?1 AND "
                 "(?2 OR deleted_at IS NULL) AND (?3 IS NULL OR "
                 "instr(lower(name), lower(?3)) > 0 OR "
                 "instr(lower(coalesce(description, '')), lower(?3)) > 0) "
                 "ORDER BY created_at DESC, seq DESC LIMIT ?4 OFFSET ?5"};
static const sky_sql q_bp_name_taken = {
    NULL, "SELECT 1 FROM browser_profiles WHERE organization_id=?1 AND "
          "name=?2 AND deleted_at IS NULL AND browser_profile_id<>?3"};
static const sky_sql q_bp_update = {
    NULL, "UPDATE browser_profiles SET name=coalesce(?3, name),"
          " description=coalesce(?4, description), modified_at=?5"
          " WHERE browser_profile_id=?1 AND organization_id=?2 AND"
          " deleted_at IS NULL"};
static const sky_sql q_bp_soft_delete = {
    NULL, "UPDATE browser_profiles SET deleted_at=?3, modified_at=?3"
          " WHERE browser_profile_id=?1 AND organization_id=?2 AND"
          " deleted_at IS NULL"};
static const sky_sql q_bp_hard_delete = {
    NULL, "DELETE FROM browser_profiles WHERE browser_profile_id=?1 AND"
          " organization_id=?2"};
static const sky_sql q_bp_used = {
    NULL, "UPDATE browser_profiles SET use_count=use_count+1,"
          " last_used_at=?2 WHERE browser_profile_id=?1"};
static const sky_sql q_bs_profile = {
    NULL, "UPDATE browser_sessions SET"
          " browser_profile_id=coalesce(?2, browser_profile_id),"
          " generate_browser_profile=CASE WHEN ?3 < 0 THEN"
          " generate_browser_profile ELSE ?3 END, modified_at=?4"
          " WHERE browser_session_id=?1"};

void sky_bprofile_rec_free(sky_bprofile_rec *r)
{
	sky_store__row_clear(&t_bprofile, r);
	free(r);
}

void sky_bprofile_list_free(sky_bprofile_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&t_bprofile, l->items, l->count);
	free(l);
}

static const char *org_of(sky_store *s, const char *org)
{
	return org ? org : s->default_org;
}

/* 0 when no other live profile of the organization has the name. */
static int name_free(sky_conn *c, const char *org, const char *name,
                     const char *self)
{
	sky_stmt *st = sky_store__stmt(c, &q_bp_name_taken);
	if (!st)
		return sky_error_last_code();
	sky_store__bind_text(st, 1, org);
	sky_store__bind_text(st, 2, name);
	sky_store__bind_text(st, 3, self ? self : "");
	int rc = sky_store__step(c, st, "check browser profile name");
	sky_st_reset(st);
	if (rc == SKY_ROW)
		return sky_error_set(SKY_EEXISTS,
		                     "A browser profile named '%s' already "
		                     "exists. Use a different name or delete "
		                     "the existing profile.",
		                     name);
	return rc == SKY_DONE ? 0 : rc;
}

int sky_store_bprofile_create(sky_store *s, const char *organization_id,
                              const char *name, const char *description,
                              const char *source_run_id,
                              const char *source_session_id,
                              sky_bprofile_rec **out)
{
	char id[SKY_ID_MAX];
	sky_bprofile_rec *r;
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (out)
		*out = NULL;
	if (!s || !name || !*name)
		return sky_error_set(SKY_EINVALID,
		                     "a browser profile needs a name");
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	r->browser_profile_id =
	    skyx_strdup(sky_id_new(SKY_ID_BROWSER_PROFILE, id));
	r->organization_id = skyx_strdup(org_of(s, organization_id));
	r->name = skyx_strdup(name);
	r->description = description ? skyx_strdup(description) : NULL;
	r->source_run_id = source_run_id ? skyx_strdup(source_run_id) : NULL;
	r->source_session_id =
	    source_session_id ? skyx_strdup(source_session_id) : NULL;
	if (!r->browser_profile_id || !r->organization_id || !r->name ||
	    (description && !r->description) ||
	    (source_run_id && !r->source_run_id) ||
	    (source_session_id && !r->source_session_id)) {
		sky_bprofile_rec_free(r);
		return sky_error_from_code(SKY_ENOMEM);
	}
	r->created_at = r->modified_at = skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s))) {
		sky_bprofile_rec_free(r);
		return sky_error_last_code();
	}
	if ((rc = name_free(c, r->organization_id, name, NULL)))
		goto done;
	if (!(st = sky_store__stmt(c, &q_bp_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if (!(rc = sky_store__row_bind(st, &t_bprofile, r)))
		rc = sky_store__exec(c, st, "insert browser profile");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Organization not found %s",
		              r->organization_id);
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_bprofile_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_bprofile_get(sky_store *s, const char *organization_id,
                           const char *browser_profile_id,
                           sky_bprofile_rec **out)
{
	void *r = NULL;
	if (!s || !browser_profile_id || !out)
		return sky_error_set(SKY_EINVALID,
		                     "browser profile id is NULL");
	int rc =
	    sky_store__read_one(s, &q_bp_get, browser_profile_id,
	                        organization_id, &r, "get browser profile");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Browser profile %s not found",
		              browser_profile_id);
	*out = r;
	return rc;
}

int sky_store_bprofile_list(sky_store *s, const char *organization_id,
                            int include_deleted, const char *search, int page,
                            int page_size, sky_bprofile_list **out)
{
	sky_bprofile_list *l;
	void *items = NULL;
	if (!s || !out || page < 1 || page_size < 1)
		return sky_error_set(SKY_EINVALID, "bad browser profile page");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	sky_conn *c = sky_store__racquire(s);
	sky_stmt *st = sky_store__stmt(c, &q_bp_list);
	int rc;
	if (!st) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, org_of(s, organization_id));
		sky_st_bind_i64(st, 2, include_deleted ? 1 : 0);
		sky_store__bind_text(st, 3, search && *search ? search : NULL);
		sky_st_bind_i64(st, 4, page_size);
		sky_st_bind_i64(st, 5, (int64_t)(page - 1) * page_size);
		rc = sky_store__fetch_all(c, st, &t_bprofile, &items, &l->count,
		                          "list browser profiles");
	}
	sky_store__rrelease(s, c);
	l->items = items;
	if (rc)
		free(l);
	else
		*out = l;
	return rc;
}

static int not_found(const char *id)
{
	return sky_error_set(SKY_ENOTFOUND, "Browser profile %s not found", id);
}

int sky_store_bprofile_update(sky_store *s, const char *organization_id,
                              const char *browser_profile_id, const char *name,
                              const char *description)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;
	if (!s || !browser_profile_id)
		return sky_error_set(SKY_EINVALID,
		                     "browser profile id is NULL");
	const char *org = org_of(s, organization_id);
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (name && (rc = name_free(c, org, name, browser_profile_id)))
		goto done;
	if (!(st = sky_store__stmt(c, &q_bp_update))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, browser_profile_id);
	sky_store__bind_text(st, 2, org);
	sky_store__bind_text(st, 3, name);
	sky_store__bind_text(st, 4, description);
	sky_st_bind_i64(st, 5, skyx_time_now_ms());
	rc = sky_store__exec(c, st, "update browser profile");
	if (!rc && sky_store__changes(c) == 0)
		rc = not_found(browser_profile_id);
done:
	return sky_store__wend(s, rc);
}

int sky_store_bprofile_delete(sky_store *s, const char *organization_id,
                              const char *browser_profile_id, int hard)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;
	if (!s || !browser_profile_id)
		return sky_error_set(SKY_EINVALID,
		                     "browser profile id is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, hard ? &q_bp_hard_delete
	                                   : &q_bp_soft_delete))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, browser_profile_id);
	sky_store__bind_text(st, 2, org_of(s, organization_id));
	if (!hard)
		sky_st_bind_i64(st, 3, skyx_time_now_ms());
	rc = sky_store__exec(c, st, "delete browser profile");
	if (!rc && sky_store__changes(c) == 0)
		rc = not_found(browser_profile_id);
done:
	return sky_store__wend(s, rc);
}

int sky_store_bprofile_used(sky_store *s, const char *browser_profile_id)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;
	if (!s || !browser_profile_id)
		return sky_error_set(SKY_EINVALID,
		                     "browser profile id is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_bp_used))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, browser_profile_id);
		sky_st_bind_i64(st, 2, skyx_time_now_ms());
		rc = sky_store__exec(c, st, "count browser profile use");
	}
	return sky_store__wend(s, rc);
}

int sky_store_bsession_set_profile(sky_store *s, const char *browser_session_id,
                                   const char *browser_profile_id,
                                   int generate_browser_profile)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;
	if (!s || !browser_session_id)
		return sky_error_set(SKY_EINVALID,
		                     "browser session id is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_bs_profile))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, browser_session_id);
		sky_store__bind_text(st, 2, browser_profile_id);
		sky_st_bind_i64(st, 3, generate_browser_profile);
		sky_st_bind_i64(st, 4, skyx_time_now_ms());
		rc = sky_store__exec(c, st, "update browser session");
		if (!rc && sky_store__changes(c) == 0)
			rc = sky_error_set(SKY_ENOTFOUND,
			                   "Browser session %s not found",
			                   browser_session_id);
	}
	return sky_store__wend(s, rc);
}
