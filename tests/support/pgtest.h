/*
 * PostgreSQL for tests: the throwaway server scripts/test starts
 * (scripts/pgtmp) is named by $SKYTEST_PG_URL. Each test works in a
 * schema of its own, so tests share the server and never see each
 * other's rows.
 */
#ifndef SKYTEST_PGTEST_H
#define SKYTEST_PGTEST_H

/* $SKYTEST_PG_URL, or NULL when no server was started. With
 * $SKYTEST_REQUIRE_PG set (scripts/test sets it), a missing URL aborts
 * the test instead: PostgreSQL tests are never skipped silently there. */
const char *skytest_pg_url(void);

/* Create a fresh schema; returns a URL whose connections use it
 * (malloc'd) and its name in *schema (malloc'd). NULL on failure. */
char *skytest_pg_schema(char **schema);

/* Drop a schema made by skytest_pg_schema, with everything in it. */
void skytest_pg_drop(const char *schema);

/* Run one SQL statement in `schema` and return the first column of the
 * first row as a number (-1 on error or no row). */
long long skytest_pg_query_int(const char *schema, const char *sql);

#endif
