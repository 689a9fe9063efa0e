/* PostgreSQL helpers for tests (pgtest.h). */
#include "pgtest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skyx/str.h>

const char *skytest_pg_url(void)
{
	const char *u = getenv("SKYTEST_PG_URL");
	if (u && *u)
		return u;
	if (getenv("SKYTEST_REQUIRE_PG")) {
		fprintf(stderr, "SKYTEST_REQUIRE_PG is set but SKYTEST_PG_URL "
		                "is not: the test command did not start "
		                "PostgreSQL\n");
		abort();
	}
	return NULL;
}

static PGconn *connect_to(const char *schema)
{
	const char *base = skytest_pg_url();
	PGconn *c;
	if (!base)
		return NULL;
	c = PQconnectdb(base);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pgtest: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	if (schema) {
		char *sql = skyx_asprintf("SET search_path = %s", schema);
		PQclear(PQexec(c, sql));
		free(sql);
	}
	return c;
}

char *skytest_pg_schema(char **schema)
{
	static int n;
	PGconn *c = connect_to(NULL);
	PGresult *res;
	char *name, *sql, *url;
	const char *base = skytest_pg_url();

	*schema = NULL;
	if (!c)
		return NULL;
	name = skyx_asprintf("t_%d_%d", (int)getpid(), ++n);
	sql = skyx_asprintf("CREATE SCHEMA %s", name);
	res = PQexec(c, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "pgtest: %s", PQerrorMessage(c));
		PQclear(res);
		PQfinish(c);
		free(name);
		return NULL;
	}
	PQclear(res);
	PQfinish(c);
	url = skyx_asprintf("%s%coptions=-csearch_path%%3D%s", base,
	                    strchr(base, '?') ? '&' : '?', name);
	*schema = name;
	return url;
}

void skytest_pg_drop(const char *schema)
{
	PGconn *c;
	char *sql;
	if (!schema || !(c = connect_to(NULL)))
		return;
	sql = skyx_asprintf("DROP SCHEMA %s CASCADE", schema);
	PQclear(PQexec(c, sql));
	free(sql);
	PQfinish(c);
}

long long skytest_pg_query_int(const char *schema, const char *sql)
{
	PGconn *c = connect_to(schema);
	PGresult *res;
	long long v = -1;
	if (!c)
		return -1;
	res = PQexec(c, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQfinish(c);
	return v;
}
