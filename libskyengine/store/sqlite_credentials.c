/*
 * The store's credentials (the vault's rows). Secrets arrive sealed by
 * the engine (engine/credentials.c): this file never sees a clear one.
 */
#include "store/sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include <skyx/time.h>

#define COL(rec, name, type)                                                   \
	{                                                                      \
#		name, SKY_COL_##type, offsetof(rec, name)                     \
	}

static const sky_col credential_cols[] = {
    COL(sky_credential_rec, credential_id, TEXT),
    COL(sky_credential_rec, organization_id, TEXT),
    COL(sky_credential_rec, name, TEXT),
    COL(sky_credential_rec, credential_type, TEXT),
    COL(sky_credential_rec, username, TEXT),
    COL(sky_credential_rec, totp_type, TEXT),
    COL(sky_credential_rec, totp_identifier, TEXT),
    COL(sky_credential_rec, card_last4, TEXT),
    COL(sky_credential_rec, card_brand, TEXT),
    COL(sky_credential_rec, secret_label, TEXT),
    COL(sky_credential_rec, sealed, TEXT),
    COL(sky_credential_rec, created_at, TS),
    COL(sky_credential_rec, modified_at, TS),
};
static const sky_table t_credential =
    SKY_TABLE("credentials", sky_credential_rec, credential_cols);

static const sky_sql q_insert = {&t_credential, "%I"};
static const sky_sql q_get = {
    &t_credential, "SELECT %C FROM credentials WHERE credential_id=?1 AND "
                   "(?2 IS NULL OR organization_id=?2)"};
static const sky_sql q_update = {
    NULL, "UPDATE credentials SET name=?3, credential_type=?4, "
          "username=?5, totp_type=?6, totp_identifier=?7, card_last4=?8, "
          "card_brand=?9, secret_label=?10, sealed=?11, modified_at=?12 "
          "WHERE credential_id=?1 AND (?2 IS NULL OR organization_id=?2)"};
static const sky_sql q_delete = {
    NULL, "DELETE FROM credentials WHERE credential_id=?1 AND "
          "(?2 IS NULL OR organization_id=?2)"};
static const sky_sql q_list = {
    &t_credential,
    "SELECT %C FROM credentials WHERE organization_id=?1 AND "
    "(?2 IS NULL OR credential_type=?2) AND (?3 IS NULL OR "
    "instr(lower(name), lower(?3)) > 0 OR instr(lower(coalesce(username,"
    "'')), lower(?3)) > 0 OR instr(lower(coalesce(secret_label,'')), "
    "lower(?3)) > 0 OR instr(lower(coalesce(card_brand,'')), lower(?3)) > 0 "
    "OR instr(coalesce(card_last4,''), ?3) > 0) "
    "ORDER BY created_at DESC, seq DESC LIMIT ?4 OFFSET ?5"};

void sky_credential_rec_free(sky_credential_rec *r)
{
	sky_store__row_clear(&t_credential, r);
	free(r);
}

void sky_credential_list_free(sky_credential_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&t_credential, l->items, l->count);
	free(l);
}

static int check(const sky_credential_rec *in)
{
	if (!in || !in->credential_id || !in->name || !in->credential_type ||
	    !in->sealed)
		return sky_error_set(SKY_EINVALID,
		                     "a credential needs an id, a name, a "
		                     "type and its sealed fields");
	return 0;
}

int sky_store_credential_create(sky_store *s, const sky_credential_rec *in)
{
	sky_credential_rec r;
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || (rc = check(in)))
		return s ? rc : sky_error_set(SKY_EINVALID, "store is NULL");
	r = *in;
	if (!r.organization_id)
		r.organization_id = s->default_org;
	r.created_at = r.modified_at = skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_insert))) {
		rc = sky_error_last_code();
	} else if (!(rc = sky_store__row_bind(st, &t_credential, &r))) {
		rc = sky_store__exec(c, st, "insert credential");
		if (rc == SKY_ENOTFOUND)
			sky_error_set(rc, "Organization not found %s",
			              r.organization_id);
	}
	return sky_store__wend(s, rc);
}

int sky_store_credential_get(sky_store *s, const char *organization_id,
                             const char *credential_id,
                             sky_credential_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !credential_id || !out)
		return sky_error_set(SKY_EINVALID, "credential id is NULL");
	rc = sky_store__read_one(s, &q_get, credential_id, organization_id, &r,
	                         "get credential");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Credential not found %s", credential_id);
	*out = r;
	return rc;
}

int sky_store_credential_update(sky_store *s, const sky_credential_rec *in)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || (rc = check(in)))
		return s ? rc : sky_error_set(SKY_EINVALID, "store is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_update))) {
		rc = sky_error_last_code();
	} else {
		const char *v[] = {
		    in->credential_id,   in->organization_id, in->name,
		    in->credential_type, in->username,        in->totp_type,
		    in->totp_identifier, in->card_last4,      in->card_brand,
		    in->secret_label,    in->sealed};
		for (int i = 0; i < 11; i++)
			sky_store__bind_text(st, i + 1, v[i]);
		sky_st_bind_i64(st, 12, skyx_time_now_ms());
		rc = sky_store__exec(c, st, "update credential");
		if (!rc && sky_store__changes(c) == 0)
			rc = sky_error_set(SKY_ENOTFOUND,
			                   "Credential not found %s",
			                   in->credential_id);
	}
	return sky_store__wend(s, rc);
}

int sky_store_credential_delete(sky_store *s, const char *organization_id,
                                const char *credential_id)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || !credential_id)
		return sky_error_set(SKY_EINVALID, "credential id is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_delete))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, credential_id);
		sky_store__bind_text(st, 2, organization_id);
		rc = sky_store__exec(c, st, "delete credential");
		if (!rc && sky_store__changes(c) == 0)
			rc = sky_error_set(SKY_ENOTFOUND,
			                   "Credential not found %s",
			                   credential_id);
	}
	return sky_store__wend(s, rc);
}

int sky_store_credential_list(sky_store *s, const char *organization_id,
                              const char *credential_type, const char *search,
                              int page, int page_size,
                              sky_credential_list **out)
{
	sky_credential_list *l;
	sky_stmt *st;
	void *items = NULL;
	sky_conn *c;
	int rc;

	if (!s || !out || page < 1 || page_size < 1)
		return sky_error_set(SKY_EINVALID,
		                     "page and page_size must be >= 1");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	c = sky_store__racquire(s);
	if (!(st = sky_store__stmt(c, &q_list))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(
		    st, 1, organization_id ? organization_id : s->default_org);
		sky_store__bind_text(st, 2, credential_type);
		sky_store__bind_text(st, 3, search && *search ? search : NULL);
		sky_st_bind_i64(st, 4, page_size);
		sky_st_bind_i64(st, 5, (int64_t)(page - 1) * page_size);
		rc = sky_store__fetch_all(c, st, &t_credential, &items,
		                          &l->count, "list credentials");
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
