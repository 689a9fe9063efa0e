/* Unit tests: the store's scripts (replay plans, docs/replay.md):
 * versions under one key, the newest found, organizations walled off,
 * soft delete, and a version-1 file upgraded to hold them. */
#include <sqlite3.h>
#include <string.h>

#include "pgtest.h"
#include "skytest.h"
#include "store/sqlite_internal.h"
#include "store/store.h"
#include "util/error.h"
#include "util/fs.h"
#include <skyx/str.h>

static sky_script_rec *add(sky_store *s, const char *org, const char *key,
                           const char *plan)
{
	sky_script_new in = {0};
	sky_script_rec *r = NULL;
	in.organization_id = org;
	in.cache_key = key;
	in.run_type = "task_v1";
	in.run_id = "tsk_1";
	in.plan = plan;
	ck_assert_int_eq(sky_store_script_add(s, &in, &r), 0);
	return r;
}

/* _i 0: SQLite; 1: PostgreSQL. */
START_TEST(versions_keys_and_organizations)
{
	char *dir = skytest_tmpdir("store-scripts");
	sky_store_options so = {0};
	char *schema = NULL;
	sky_store *s = NULL;
	if (_i == 1) {
		so.url = skytest_pg_schema(&schema);
		ck_assert_ptr_nonnull(so.url);
	}
	ck_assert_int_eq(sky_store_open(&s, dir, &so), 0);
	sky_org_rec *b = NULL;
	ck_assert_int_eq(sky_store_org_create(s, "b", &b), 0);

	sky_script_rec *v1 = add(s, NULL, "k_a", "{\"steps\":[1]}");
	ck_assert_int_eq(v1->version, 1);
	ck_assert(!strncmp(v1->script_id, "s_", 2));
	sky_script_rec *v2 = add(s, NULL, "k_a", "{\"steps\":[2]}");
	ck_assert_int_eq(v2->version, 2);
	ck_assert_str_eq(v2->script_id, v1->script_id);
	ck_assert_str_ne(v2->script_revision_id, v1->script_revision_id);
	/* Another key, another organization: scripts of their own. */
	sky_script_rec *o = add(s, NULL, "k_b", "{}");
	ck_assert_str_ne(o->script_id, v1->script_id);
	sky_script_rec *ob = add(s, b->organization_id, "k_a", "{}");
	ck_assert_int_eq(ob->version, 1);
	ck_assert_str_ne(ob->script_id, v1->script_id);

	sky_script_rec *f = NULL;
	ck_assert_int_eq(sky_store_script_find(s, NULL, "k_a", &f), 0);
	ck_assert_int_eq(f->version, 2);
	ck_assert_str_eq(f->plan, "{\"steps\":[2]}");
	sky_script_rec_free(f);
	ck_assert_int_eq(sky_store_script_find(s, NULL, "k_none", &f),
	                 SKY_ENOTFOUND);
	/* Version 1 by number; the other organization cannot see it. */
	ck_assert_int_eq(sky_store_script_get(s, sky_store_default_org(s),
	                                      v1->script_id, 1, &f),
	                 0);
	ck_assert_str_eq(f->plan, "{\"steps\":[1]}");
	sky_script_rec_free(f);
	ck_assert_int_eq(
	    sky_store_script_get(s, b->organization_id, v1->script_id, 0, &f),
	    SKY_ENOTFOUND);
	ck_assert_int_eq(
	    sky_store_script_delete(s, b->organization_id, v1->script_id),
	    SKY_ENOTFOUND);

	sky_script_list *l = NULL;
	ck_assert_int_eq(sky_store_script_list(s, NULL, 1, 10, &l), 0);
	ck_assert_uint_eq(l->count, 2); /* newest version of each */
	sky_script_list_free(l);
	ck_assert_int_eq(sky_store_script_versions(s, NULL, v1->script_id, &l),
	                 0);
	ck_assert_uint_eq(l->count, 2);
	ck_assert_int_eq(l->items[0].version, 2);
	sky_script_list_free(l);

	/* Deleted: gone everywhere; the key starts again at version 1. */
	ck_assert_int_eq(sky_store_script_delete(s, NULL, v1->script_id), 0);
	ck_assert_int_eq(sky_store_script_delete(s, NULL, v1->script_id),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(sky_store_script_find(s, NULL, "k_a", &f),
	                 SKY_ENOTFOUND);
	ck_assert_int_eq(sky_store_script_versions(s, NULL, v1->script_id, &l),
	                 SKY_ENOTFOUND);
	sky_script_rec *again = add(s, NULL, "k_a", "{}");
	ck_assert_int_eq(again->version, 1);
	ck_assert_str_ne(again->script_id, v1->script_id);
	/* Not JSON: refused. */
	sky_script_new bad = {0};
	bad.cache_key = "k";
	bad.run_type = "task_v1";
	bad.plan = "{not json";
	ck_assert_int_eq(sky_store_script_add(s, &bad, NULL), SKY_EINVALID);

	sky_script_rec_free(v1);
	sky_script_rec_free(v2);
	sky_script_rec_free(o);
	sky_script_rec_free(ob);
	sky_script_rec_free(again);
	sky_org_rec_free(b);
	sky_store_close(s);
	skyx_rm_rf(dir);
	free(dir);
	skytest_pg_drop(schema);
	free(schema);
	free((char *)so.url);
}
END_TEST

/* A data dir written by the previous schema (version 1) is upgraded in
 * place: its runs stay, scripts can be stored. */
START_TEST(version_1_file_is_upgraded)
{
	char *dir = skytest_tmpdir("store-scripts-v1");
	char *db = skyx_path_join(dir, SKY_STORE_FILE);
	sqlite3 *h = NULL;
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(h, sky_store__migrations[0], NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(h,
	                              "PRAGMA user_version=1;"
	                              "PRAGMA application_id=1399552325;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(h);
	sky_store *s = NULL;
	ck_assert_msg(sky_store_open(&s, dir, NULL) == 0, "%s",
	              sky_error_last());
	sky_script_rec *r = add(s, NULL, "k_a", "{}");
	ck_assert_int_eq(r->version, 1);
	sky_script_rec_free(r);
	sky_store_close(s);
	skyx_rm_rf(dir);
	free(db);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_scripts");
	TCase *tc = tcase_create("scripts");
	tcase_add_loop_test(tc, versions_keys_and_organizations, 0,
	                    skytest_pg_url() ? 2 : 1);
	tcase_add_test(tc, version_1_file_is_upgraded);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
