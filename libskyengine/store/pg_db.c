/*
 * The PostgreSQL side of the store (libpq): connections, prepared
 * statements read row by row like SQLite's, error mapping, and the
 * schema's migrations. The store functions themselves are shared with
 * SQLite (sqlite_internal.h says how).
 *
 * Transactions. A write runs in one READ COMMITTED transaction on the
 * process's write connection. A read-check-write (a status transition,
 * a claim) locks the rows it reads (the `pg` text of its statements
 * adds FOR UPDATE, or FOR UPDATE SKIP LOCKED for claims), so two hosts
 * cannot both move one run, and claims by many hosts never wait on each
 * other.
 */
#include "store/sqlite_internal.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"
#include <skyx/str.h>

/* The key of the advisory lock migrations hold ("SkyE"). */
#define MIGRATION_LOCK 0x536b7945

/* ---- errors -------------------------------------------------------------- */

int sky_store__pgerr(sky_conn *c, const PGresult *res, const char *what)
{
	const char *state =
	    res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg =
	    res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int code = SKY_EIO;

	if (!msg || !*msg)
		msg = c && c->pq ? PQerrorMessage(c->pq) : "no connection";
	if (state) {
		if (!strcmp(state, "23505"))
			code = SKY_EEXISTS; /* unique_violation */
		else if (!strcmp(state, "23503"))
			code = SKY_ENOTFOUND; /* foreign_key_violation */
		else if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2))
			code = SKY_EINVALID; /* check, not null, data */
		else if (!strcmp(state, "40001") || !strcmp(state, "40P01") ||
		         !strcmp(state, "55P03"))
			code = SKY_EBUSY; /* serialization, deadlock, lock */
		else if (!strcmp(state, "53200"))
			code = SKY_ENOMEM;
	}
	/* libpq's messages end with a newline. */
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return sky_error_set(code, "store: %s: %.*s", what, (int)n, msg);
}

/* ---- statements ------------------------------------------------------------ */

/* The highest $N of a translated statement; used[n - 1] is set for
 * each $n the text names (up to 64). */
static int count_params(const char *sql, char used[64])
{
	int max = 0;
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
			int n = (int)strtol(p + 1, NULL, 10);
			if (n > max)
				max = n;
			if (n >= 1 && n <= 64)
				used[n - 1] = 1;
		}
	}
	return max;
}

sky_stmt *sky_store__pg_stmt_new(sky_conn *c, const char *sql, int slot)
{
	sky_stmt *st = calloc(1, sizeof *st);
	char used[64] = {0};
	PGresult *res;

	if (!st) {
		sky_error_from_code(SKY_ENOMEM);
		return NULL;
	}
	st->conn = c;
	st->nparams = count_params(sql, used);
	if (st->nparams > 64) {
		sky_store__pg_stmt_free(st);
		sky_error_set(SKY_EINVALID, "store: more than 64 parameters");
		return NULL;
	}
	if (st->nparams &&
	    !(st->vals = calloc((size_t)st->nparams, sizeof *st->vals)))
		goto nomem;
	/* A parameter the text skips (a dynamic list binds ?5 without ?3)
	 * still has to have a type: text. The others are inferred. */
	for (int i = 0; i < st->nparams; i++)
		st->types[i] = used[i] ? 0 : 25 /* TEXTOID */;
	if (slot < 0) {
		if (!(st->sql = strdup(sql)))
			goto nomem;
		return st;
	}
	snprintf(st->name, sizeof st->name, "sky%d", slot);
	res = PQprepare(c->pq, st->name, sql, st->nparams, st->types);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		sky_store__pgerr(c, res, "prepare");
		sky_log_debug("store", "prepare failed: %s", sql);
		PQclear(res);
		sky_store__pg_stmt_free(st);
		return NULL;
	}
	PQclear(res);
	return st;
nomem:
	sky_store__pg_stmt_free(st);
	sky_error_from_code(SKY_ENOMEM);
	return NULL;
}

void sky_store__pg_stmt_free(sky_stmt *st)
{
	if (!st)
		return;
	PQclear(st->res);
	for (int i = 0; i < st->nparams && st->vals; i++)
		free(st->vals[i]);
	free(st->vals);
	free(st->sql);
	free(st);
}

int sky_store__pg_step(sky_conn *c, sky_stmt *st, const char *what)
{
	const char *const *vals = (const char *const *)st->vals;
	ExecStatusType status;

	if (st->res) {
		if (st->row + 1 < st->nrows) {
			st->row++;
			return SKY_ROW;
		}
		st->row = st->nrows;
		return SKY_DONE;
	}
	st->res = st->sql ? PQexecParams(c->pq, st->sql, st->nparams, st->types,
	                                 vals, NULL, NULL, 0)
	                  : PQexecPrepared(c->pq, st->name, st->nparams, vals,
	                                   NULL, NULL, 0);
	status = PQresultStatus(st->res);
	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		int rc = sky_store__pgerr(c, st->res, what);
		sky_st_reset(st);
		return rc;
	}
	c->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
	st->nrows = PQntuples(st->res);
	st->row = 0;
	return st->nrows > 0 ? SKY_ROW : SKY_DONE;
}

int sky_store__pg_exec_text(sky_conn *c, const char *sql, const char *what)
{
	PGresult *res = PQexec(c->pq, sql);
	ExecStatusType status = PQresultStatus(res);
	int rc = 0;

	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		rc = sky_store__pgerr(c, res, what);
	PQclear(res);
	return rc;
}

/* ---- connections ------------------------------------------------------------ */

char *sky_store__pg_redact(const char *url)
{
	/* scheme://user:password@host… -> scheme://user:***@host… */
	const char *p = strstr(url, "://");
	const char *at, *colon;

	if (!p)
		return strdup(url);
	p += 3;
	at = strchr(p, '@');
	colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
	/* The query part may hold password=…: left out either way. */
	if (!at || !colon)
		return skyx_asprintf("%.*s", (int)strcspn(url, "?"), url);
	return skyx_asprintf("%.*s***%.*s", (int)(colon + 1 - url), url,
	                     (int)strcspn(at, "?"), at);
}

void sky_store__pg_conn_close(sky_conn *c)
{
	PQfinish(c->pq);
	c->pq = NULL;
}

static void notice_quiet(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res; /* NOTICEs ("relation already exists, skipping") */
}

static int conn_open(sky_store *s, sky_conn *c)
{
	c->pq = PQconnectdb(s->url);
	if (!c->pq || PQstatus(c->pq) != CONNECTION_OK) {
		const char *msg =
		    c->pq ? PQerrorMessage(c->pq) : "out of memory";
		size_t n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			n--;
		/* libpq's message names host and user, never the password. */
		int rc =
		    sky_error_set(SKY_EIO, "store: cannot connect to %s: %.*s",
		                  s->path, (int)n, msg);
		sky_store__pg_conn_close(c);
		return rc;
	}
	PQsetNoticeReceiver(c->pq, notice_quiet, NULL);
	/* Times are integers; names compare byte-wise as in SQLite. */
	return sky_store__pg_exec_text(
	    c, "SET TIME ZONE 'UTC'; SET client_min_messages = warning",
	    "session settings");
}

/* A connection the server dropped is opened again before the next unit
 * of work; its prepared statements went with it. */
void sky_store__pg_check(sky_store *s, sky_conn *c)
{
	if (!c->pq || PQstatus(c->pq) == CONNECTION_OK)
		return;
	sky_log_warn("store", "connection to %s lost; reconnecting", s->path);
	for (int i = 0; i < c->nslots; i++)
		sky_store__pg_stmt_free(c->slots[i].stmt);
	c->nslots = 0;
	PQreset(c->pq);
	if (PQstatus(c->pq) == CONNECTION_OK)
		PQsetNoticeReceiver(c->pq, notice_quiet, NULL);
}

/* ---- notifications ------------------------------------------------------- */

#define RUNS_CHANNEL "skyengine_runs"

int sky_store_wait_runs(sky_store *s, int timeout_ms)
{
	PGnotify *n;
	int got = 0, rc = 0;

	if (!s)
		return sky_error_set(SKY_EINVALID, "store is NULL");
	if (!s->pg)
		return sky_error_set(SKY_EUNSUPPORTED,
		                     "store: SQLite has no notifications");
	pthread_mutex_lock(&s->llock);
	if (s->listener && PQstatus(s->listener) != CONNECTION_OK) {
		PQfinish(s->listener);
		s->listener = NULL;
	}
	if (!s->listener) {
		sky_conn c = {0};
		if ((rc = conn_open(s, &c)) ||
		    (rc = sky_store__pg_exec_text(&c, "LISTEN " RUNS_CHANNEL,
		                                  "listen"))) {
			PQfinish(c.pq);
			pthread_mutex_unlock(&s->llock);
			return rc;
		}
		s->listener = c.pq;
	}
	PGconn *l = s->listener;
	/* A notification may already be waiting in libpq's buffer. */
	PQconsumeInput(l);
	if (!(n = PQnotifies(l))) {
		struct pollfd p = {.fd = PQsocket(l), .events = POLLIN};
		if (poll(&p, 1, timeout_ms) > 0 && PQconsumeInput(l))
			n = PQnotifies(l);
	}
	while (n) {
		got = 1;
		PQfreemem(n);
		n = PQnotifies(l);
	}
	pthread_mutex_unlock(&s->llock);
	return got;
}

/* ---- migrations ------------------------------------------------------------- */

static int query_i64(sky_conn *c, const char *sql, int64_t *out)
{
	PGresult *res = PQexec(c->pq, sql);
	int rc = 0;

	*out = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = sky_store__pgerr(c, res, sql);
	else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

static int migrate(sky_store *s)
{
	sky_conn *c = &s->writer;
	int64_t version = 0, ours = 0, theirs = 0;
	char *sql;
	int rc;

	/* Two hosts starting on one new database: the advisory lock makes
	 * the second wait and then find the schema in place. */
	if ((rc = sky_store__pg_exec_text(c, "BEGIN", "begin migration")))
		return rc;
	sql = skyx_asprintf("SELECT pg_advisory_xact_lock(%d)", MIGRATION_LOCK);
	rc = sql ? query_i64(c, sql, &version) : SKY_ENOMEM;
	free(sql);
	if (rc)
		goto fail;
	if ((rc = query_i64(c,
	                    "SELECT count(*) FROM pg_tables WHERE "
	                    "schemaname = current_schema() AND "
	                    "tablename = 'skyengine_meta'",
	                    &ours)) ||
	    (rc = query_i64(c,
	                    "SELECT count(*) FROM pg_tables WHERE "
	                    "schemaname = current_schema() AND "
	                    "tablename IN ('tasks','steps','organizations')",
	                    &theirs)))
		goto fail;
	if (!ours && theirs) {
		rc = sky_error_set(SKY_EUNSUPPORTED,
		                   "store: %s holds tables of another "
		                   "application, not a skyengine store",
		                   s->path);
		goto fail;
	}
	if (!ours && (rc = sky_store__pg_exec_text(
	                  c,
	                  "CREATE TABLE skyengine_meta (name TEXT PRIMARY "
	                  "KEY, value BIGINT NOT NULL);"
	                  "INSERT INTO skyengine_meta VALUES "
	                  "('schema_version', 0)",
	                  "create skyengine_meta")))
		goto fail;
	if ((rc = query_i64(c,
	                    "SELECT value FROM skyengine_meta WHERE "
	                    "name = 'schema_version'",
	                    &version)))
		goto fail;
	if (version > SKY_STORE_SCHEMA_VERSION || version < 0) {
		rc = sky_error_set(SKY_EUNSUPPORTED,
		                   "store: %s has schema version %lld, newer "
		                   "than the %d this skyengine knows; upgrade "
		                   "skyengine or use another database",
		                   s->path, (long long)version,
		                   SKY_STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (int64_t v = version; v < SKY_STORE_SCHEMA_VERSION; v++) {
		char *m = sky_store__pg_migration((int)v);
		rc =
		    m ? sky_store__pg_exec_text(c, m, "migration") : SKY_ENOMEM;
		free(m);
		if (rc) {
			sky_error_wrap(rc,
			               "store: migrating %s to version %lld",
			               s->path, (long long)v + 1);
			goto fail;
		}
	}
	sql = skyx_asprintf("UPDATE skyengine_meta SET value = %d WHERE "
	                    "name = 'schema_version'",
	                    SKY_STORE_SCHEMA_VERSION);
	rc = sql ? sky_store__pg_exec_text(c, sql, "set schema version")
	         : SKY_ENOMEM;
	free(sql);
	if (rc || (rc = sky_store__pg_exec_text(c, "COMMIT", "commit")))
		goto fail;
	if (version < SKY_STORE_SCHEMA_VERSION)
		sky_log_info("store", "%s: schema version %lld -> %d", s->path,
		             (long long)version, SKY_STORE_SCHEMA_VERSION);
	return 0;
fail:
	PQclear(PQexec(c->pq, "ROLLBACK"));
	return rc;
}

int sky_store__pg_open(sky_store *s, int nreaders)
{
	int rc;

	if ((rc = conn_open(s, &s->writer)) || (rc = migrate(s)))
		return rc;
	for (int i = 0; i < nreaders; i++) {
		if ((rc = conn_open(s, &s->readers[i])))
			return rc;
		s->nreaders = i + 1;
	}
	return 0;
}
