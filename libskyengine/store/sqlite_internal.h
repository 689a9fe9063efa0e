/*
 * Internal to store/: the connections (SQLite or PostgreSQL), the
 * statement cache, the column maps that turn rows into records, and the
 * schema migrations.
 *
 * Two backends, one body of code. Every store function is written once
 * against `sky_stmt` (bind, step, read a column, reset); sqlite_db.c runs
 * it on SQLite and pg_db.c on PostgreSQL (libpq). A statement is SQL both
 * understand, with ?N parameters (PostgreSQL gets them as $N); where the
 * dialects part, the `pg` text of a sky_sql holds PostgreSQL's version
 * (row locks, SKIP LOCKED claims, functions SQLite spells differently).
 */
#ifndef SKY_STORE_SQLITE_INTERNAL_H
#define SKY_STORE_SQLITE_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

#include "store/store.h"
#include "util/id.h"

/* How a record field maps to a column. */
typedef enum sky_col_type {
	SKY_COL_TEXT,          /* char *, NULL <-> NULL */
	SKY_COL_I64,           /* int64_t */
	SKY_COL_INT,           /* int */
	SKY_COL_INT0,          /* int, 0 <-> NULL */
	SKY_COL_INTN,          /* int, -1 <-> NULL */
	SKY_COL_REAL,          /* double */
	SKY_COL_TS,            /* int64_t milliseconds, 0 <-> NULL */
	SKY_COL_TASK_STATUS,   /* sky_task_status, stored by name */
	SKY_COL_STEP_STATUS,   /* sky_step_status, stored by name */
	SKY_COL_WEBHOOK_STATUS /* sky_webhook_status, stored by name */
} sky_col_type;

typedef struct sky_col {
	const char *name; /* quoted when it is an SQL keyword */
	sky_col_type type;
	size_t off;
} sky_col;

typedef struct sky_table {
	const char *name;
	const sky_col *cols;
	int ncols;
	size_t rec_size;
} sky_table;

#define SKY_TABLE(tname, rec, cols)                                            \
	{                                                                      \
		tname, cols, (int)(sizeof cols / sizeof cols[0]), sizeof(rec)  \
	}

/*
 * A statement template. "%C" expands to the table's column list and
 * "%I" to a whole "INSERT INTO t(cols) VALUES(?1,…)". Each connection
 * prepares a template once and keeps it (keyed by the template's
 * address, so templates are static objects).
 */
typedef struct sky_sql {
	const sky_table *table; /* NULL when the text has no %C / %I */
	const char *text;
	/* PostgreSQL's text when it differs from `text` (same %C / %I and
	 * ?N conventions); NULL: `text` serves both. */
	const char *pg;
} sky_sql;

/* Most statements leave `pg` out: {table, text}. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* What sky_store__step returns besides errors (SQLite's own values). */
#define SKY_ROW 100
#define SKY_DONE 101

typedef struct sky_conn sky_conn;

/* A statement on one connection: SQLite's prepared statement, or, on
 * PostgreSQL, a prepared statement's name, its bound parameters (as
 * text) and the result being read. */
typedef struct sky_stmt {
	sky_conn *conn;
	sqlite3_stmt *lite;
	/* PostgreSQL */
	char name[16]; /* "" for a one-off statement */
	char *sql;     /* a one-off statement's text */
	int nparams;   /* highest $N */
	char **vals;   /* nparams bound values; NULL binds NULL */
	Oid types[64]; /* 0: inferred from the text */
	PGresult *res; /* after the first step */
	int row, nrows;
} sky_stmt;

typedef struct sky_stmt_slot {
	const sky_sql *sql;
	sky_stmt *stmt;
} sky_stmt_slot;

struct sky_conn {
	sqlite3 *db;     /* SQLite, or NULL */
	PGconn *pq;      /* PostgreSQL, or NULL */
	int64_t changes; /* rows the last PostgreSQL statement changed */
	sky_stmt_slot *slots;
	int nslots, cap;
};

struct sky_store {
	char *path; /* the SQLite file, or the PostgreSQL URL, password
	               removed */
	char *url;  /* PostgreSQL: the URL as given (may hold a password) */
	int pg;     /* 1: PostgreSQL */
	char default_org[SKY_ID_MAX];

	/* The one write connection; wlock is held for a whole write
	 * transaction. */
	pthread_mutex_t wlock;
	sky_conn writer;

	/* Read connections: a free stack under rlock; a reader waits on
	 * rcond when all are taken. */
	pthread_mutex_t rlock;
	pthread_cond_t rcond;
	sky_conn *readers;
	int nreaders;
	int *free_readers;
	int nfree;

	/* PostgreSQL: the connection sky_store_wait_runs listens on. */
	pthread_mutex_t llock;
	PGconn *listener;

	/* Bumped after every write transaction (sky_store_generation). */
	uint64_t generation;
};

/* ---- connections and transactions (sqlite_db.c) ------------------- */

/* Lock the writer and BEGIN IMMEDIATE. NULL (error set) on failure. */
sky_conn *sky_store__wbegin(sky_store *s);
/* COMMIT when rc == 0, else ROLLBACK; unlock. Returns rc, or the
 * commit's error. */
int sky_store__wend(sky_store *s, int rc);
/* Borrow a read connection (blocks while all are in use). */
sky_conn *sky_store__racquire(sky_store *s);
void sky_store__rrelease(sky_store *s, sky_conn *c);

/* The cached, reset statement for `q`; NULL with the error set. */
sky_stmt *sky_store__stmt(sky_conn *c, const sky_sql *q);
/* A one-off statement for dynamic SQL (sky_st_finalize it); %C / %I
 * expand against `t`. The caller writes the text for c's dialect
 * (sky_conn_pg). */
sky_stmt *sky_store__prepare(sky_conn *c, const sky_table *t, const char *text);
void sky_st_finalize(sky_stmt *st);
/* Run a cached statement that returns no rows, then reset it. */
int sky_store__exec(sky_conn *c, sky_stmt *st, const char *what);
/* Step once; SKY_ROW / SKY_DONE pass through, errors become a negative
 * SKY_E* code with the message set (the statement is reset). */
int sky_store__step(sky_conn *c, sky_stmt *st, const char *what);
/* Map an SQLite failure to a SKY_E* code with "store: what: msg". */
int sky_store__sqlerr(sky_conn *c, int sqlrc, const char *what);
/* Number of rows the last statement on `c` changed. */
int sky_store__changes(sky_conn *c);
/* 1 when `c` is a PostgreSQL connection. */
#define sky_conn_pg(c) ((c)->pq != NULL)

/* Parameters (1-based) and columns (0-based) of a statement. */
int sky_st_bind_i64(sky_stmt *st, int i, int64_t v);
int sky_st_bind_double(sky_stmt *st, int i, double v);
int sky_st_bind_null(sky_stmt *st, int i);
int sky_st_nparams(sky_stmt *st);
const char *sky_st_text(sky_stmt *st, int col);
int64_t sky_st_i64(sky_stmt *st, int col);
double sky_st_double(sky_stmt *st, int col);
int sky_st_null(sky_stmt *st, int col);
/* Forget the result and the bindings; the statement can run again. */
void sky_st_reset(sky_stmt *st);

/* ---- rows <-> records ---------------------------------------------- */

/* Fill `rec` from the current row, columns in table order from 0. */
int sky_store__row_read(sky_stmt *st, const sky_table *t, void *rec);
/* Bind every column of `rec` as ?1..?n in table order. */
int sky_store__row_bind(sky_stmt *st, const sky_table *t, const void *rec);
/* Free the text fields of `rec` (not rec itself). */
void sky_store__row_clear(const sky_table *t, void *rec);
/* Step a row-returning statement once: 0 with *out allocated, or
 * SKY_ENOTFOUND (no message) when there is no row. Resets st. */
int sky_store__fetch_one(sky_conn *c, sky_stmt *st, const sky_table *t,
                         void **out, const char *what);
/* Collect every row into a growing array of records. Resets st. */
int sky_store__fetch_all(sky_conn *c, sky_stmt *st, const sky_table *t,
                         void **items, size_t *count, const char *what);
/* Free an array of records. */
void sky_store__free_items(const sky_table *t, void *items, size_t count);

/*
 * A cached query on a pooled read connection, with up to two text
 * parameters (?1, ?2; NULL binds NULL). read_one: 0 with *out, or
 * SKY_ENOTFOUND (no message). read_all: every row.
 */
int sky_store__read_one(sky_store *s, const sky_sql *q, const char *p1,
                        const char *p2, void **out, const char *what);
int sky_store__read_all(sky_store *s, const sky_sql *q, const char *p1,
                        const char *p2, void **items, size_t *count,
                        const char *what);

/* Bind helpers: NULL text binds SQL NULL. */
int sky_store__bind_text(sky_stmt *st, int i, const char *v);
/* 0 when `json` is NULL or valid JSON text, else SKY_EINVALID naming
 * `field` (never echoing the text, which may hold secrets). */
int sky_store__check_json(const char *field, const char *json);

/* ---- schema (schema.c, pg_schema.c) ------------------------------------ */

/* migrations[v] upgrades a file from user_version v to v + 1. */
extern const char *const sky_store__migrations[SKY_STORE_SCHEMA_VERSION];
/* PostgreSQL's version of migration v, malloc'd (pg_schema.c). */
char *sky_store__pg_migration(int v);

/* ---- PostgreSQL (pg_db.c) ----------------------------------------------- */

/* Connect s->writer and the readers, migrate. */
int sky_store__pg_open(sky_store *s, int nreaders);
void sky_store__pg_conn_close(sky_conn *c);
/* Map a failed result to a SKY_E* code with "store: what: msg". */
int sky_store__pgerr(sky_conn *c, const PGresult *res, const char *what);
/* Statement operations on a PostgreSQL connection. */
sky_stmt *sky_store__pg_stmt_new(sky_conn *c, const char *sql, int slot);
int sky_store__pg_step(sky_conn *c, sky_stmt *st, const char *what);
void sky_store__pg_stmt_free(sky_stmt *st);
/* Run SQL text without parameters (transactions, migrations). */
int sky_store__pg_exec_text(sky_conn *c, const char *sql, const char *what);
/* Reopen a connection the server dropped (before a unit of work). */
void sky_store__pg_check(sky_store *s, sky_conn *c);
/* A URL with its password replaced by "***" (malloc'd). */
char *sky_store__pg_redact(const char *url);
/* PRAGMA application_id of skyengine files ("SkyE"). */
#define SKY_STORE_APPLICATION_ID 0x536b7945

/* ---- column maps (one per record type) ------------------------------- */

extern const sky_table sky_store__t_org;
extern const sky_table sky_store__t_apikey;
extern const sky_table sky_store__t_task;
extern const sky_table sky_store__t_step;
extern const sky_table sky_store__t_action;
extern const sky_table sky_store__t_artifact;
extern const sky_table sky_store__t_totp;
extern const sky_table sky_store__t_bsession;
extern const sky_table sky_store__t_webhook;
extern const sky_table sky_store__t_workflow;

/* Bootstrapping the default organization on open (sqlite_tasks.c). */
int sky_store__ensure_default_org(sky_store *s);

#endif
