/*
 * The store's connections: opening the SQLite file (pragmas,
 * migrations), the write lock and the read pool, the per-connection
 * statement cache, the statement operations of both backends (SQLite
 * here, PostgreSQL in pg_db.c), and the generic row <-> record mapping
 * every table uses.
 */
#include "store/sqlite_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include <skyx/str.h>

#define DEFAULT_READERS 4
#define MAX_READERS 64
#define DEFAULT_BUSY_MS 5000

/* ---- errors ---------------------------------------------------------- */

int sky_store__sqlerr(sky_conn *c, int sqlrc, const char *what)
{
	const char *msg = c && c->db ? sqlite3_errmsg(c->db) : "";
	int code;

	switch (sqlrc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = SKY_EBUSY;
		break;
	case SQLITE_NOMEM:
		code = SKY_ENOMEM;
		break;
	case SQLITE_CONSTRAINT:
		if (sqlrc == SQLITE_CONSTRAINT_UNIQUE ||
		    sqlrc == SQLITE_CONSTRAINT_PRIMARYKEY)
			code = SKY_EEXISTS;
		else if (sqlrc == SQLITE_CONSTRAINT_FOREIGNKEY)
			code = SKY_ENOTFOUND; /* what it points at is gone */
		else
			code = SKY_EINVALID;
		break;
	case SQLITE_TOOBIG:
		code = SKY_ETOOBIG;
		break;
	default:
		code = SKY_EIO;
		break;
	}
	return sky_error_set(code, "store: %s: %s", what,
	                     msg && *msg ? msg : sqlite3_errstr(sqlrc));
}

int sky_store__changes(sky_conn *c)
{
	return c->pq ? (int)c->changes : sqlite3_changes(c->db);
}

/* ---- SQL templates ----------------------------------------------------- */

static void put_cols(skyx_buf *b, const sky_table *t)
{
	for (int i = 0; i < t->ncols; i++) {
		if (i)
			skyx_buf_putc(b, ',');
		skyx_buf_puts(b, t->cols[i].name);
	}
}

/* Expand %C and %I of `text` against `t`; malloc'd or NULL. For
 * PostgreSQL (`pg`), ?N becomes $N outside quoted text. */
static char *expand_sql(const sky_table *t, const char *text, int pg)
{
	skyx_buf b = {0};
	char quote = 0;
	for (const char *p = text; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			skyx_buf_putc(&b, *p);
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
			skyx_buf_putc(&b, *p);
			continue;
		}
		if (pg && p[0] == '?' && p[1] >= '0' && p[1] <= '9') {
			/* "?N IS NULL" alone does not tell PostgreSQL the
			 * parameter's type; such a parameter is always text
			 * here (an optional filter). */
			const char *q = p + 1;
			while (*q >= '0' && *q <= '9')
				q++;
			skyx_buf_printf(&b, "$%.*s%s", (int)(q - p - 1), p + 1,
			                strncmp(q, " IS NULL", 8) ? ""
			                                          : "::text");
			p = q - 1;
			continue;
		}
		if (p[0] == '%' && t && p[1] == 'C') {
			put_cols(&b, t);
			p++;
		} else if (p[0] == '%' && t && p[1] == 'I') {
			skyx_buf_printf(&b, "INSERT INTO %s(", t->name);
			put_cols(&b, t);
			skyx_buf_puts(&b, ") VALUES(");
			for (int i = 0; i < t->ncols; i++)
				skyx_buf_printf(&b, "%s%c%d", i ? "," : "",
				                pg ? '$' : '?', i + 1);
			skyx_buf_putc(&b, ')');
			p++;
		} else {
			skyx_buf_putc(&b, *p);
		}
	}
	return skyx_buf_steal(&b);
}

/* A statement for `sql` on c; `slot` >= 0 names a cached PostgreSQL
 * statement, -1 a one-off. */
static sky_stmt *stmt_new(sky_conn *c, char *sql, int slot, int persistent)
{
	sky_stmt *st;
	int rc;

	if (!sql) {
		sky_error_from_code(SKY_ENOMEM);
		return NULL;
	}
	if (c->pq) {
		st = sky_store__pg_stmt_new(c, sql, slot);
		free(sql);
		return st;
	}
	if (!(st = calloc(1, sizeof *st))) {
		free(sql);
		sky_error_from_code(SKY_ENOMEM);
		return NULL;
	}
	st->conn = c;
	rc = sqlite3_prepare_v3(c->db, sql, -1,
	                        persistent ? SQLITE_PREPARE_PERSISTENT : 0,
	                        &st->lite, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		sky_store__sqlerr(c, rc, "prepare");
		free(st);
		return NULL;
	}
	return st;
}

sky_stmt *sky_store__prepare(sky_conn *c, const sky_table *t, const char *text)
{
	return stmt_new(c, expand_sql(t, text, c->pq != NULL), -1, 0);
}

void sky_st_finalize(sky_stmt *st)
{
	if (!st)
		return;
	if (st->conn && st->conn->pq) {
		sky_store__pg_stmt_free(st);
		return;
	}
	sqlite3_finalize(st->lite);
	free(st);
}

sky_stmt *sky_store__stmt(sky_conn *c, const sky_sql *q)
{
	sky_stmt *st = NULL;
	char *sql;

	/* A linear scan over a few dozen pointers costs less than one
	 * sqlite3_step. */
	for (int i = 0; i < c->nslots; i++) {
		if (c->slots[i].sql == q) {
			st = c->slots[i].stmt;
			sky_st_reset(st);
			return st;
		}
	}
	if (c->nslots == c->cap) {
		int ncap = c->cap ? c->cap * 2 : 32;
		sky_stmt_slot *n = realloc(c->slots, (size_t)ncap * sizeof *n);
		if (!n) {
			sky_error_from_code(SKY_ENOMEM);
			return NULL;
		}
		c->slots = n;
		c->cap = ncap;
	}
	sql = expand_sql(q->table, c->pq && q->pg ? q->pg : q->text,
	                 c->pq != NULL);
	if (!(st = stmt_new(c, sql, c->nslots, 1)))
		return NULL;
	c->slots[c->nslots].sql = q;
	c->slots[c->nslots].stmt = st;
	c->nslots++;
	return st;
}

int sky_store__step(sky_conn *c, sky_stmt *st, const char *what)
{
	int rc;

	if (c->pq)
		return sky_store__pg_step(c, st, what);
	rc = sqlite3_step(st->lite);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	rc = sky_store__sqlerr(c, sqlite3_extended_errcode(c->db), what);
	sqlite3_reset(st->lite);
	return rc;
}

int sky_store__exec(sky_conn *c, sky_stmt *st, const char *what)
{
	int rc = sky_store__step(c, st, what);
	sky_st_reset(st);
	return rc < 0 ? rc : 0;
}

/* ---- statement operations (PostgreSQL: values kept as text) ---------- */

static int pg_put(sky_stmt *st, int i, char *v)
{
	if (i < 1 || i > st->nparams) {
		free(v);
		return sky_error_set(SKY_EINVALID, "store: parameter %d of %d",
		                     i, st->nparams);
	}
	free(st->vals[i - 1]);
	st->vals[i - 1] = v;
	return 0;
}

int sky_store__bind_text(sky_stmt *st, int i, const char *v)
{
	if (st->conn->pq) {
		char *d = v ? strdup(v) : NULL;
		if (v && !d)
			return SKY_ENOMEM;
		return pg_put(st, i, d);
	}
	return v ? sqlite3_bind_text(st->lite, i, v, -1, SQLITE_TRANSIENT)
	         : sqlite3_bind_null(st->lite, i);
}

int sky_st_bind_i64(sky_stmt *st, int i, int64_t v)
{
	if (st->conn->pq)
		return pg_put(st, i, skyx_asprintf("%lld", (long long)v));
	return sqlite3_bind_int64(st->lite, i, v);
}

int sky_st_bind_double(sky_stmt *st, int i, double v)
{
	if (st->conn->pq)
		return pg_put(st, i, skyx_asprintf("%.17g", v));
	return sqlite3_bind_double(st->lite, i, v);
}

int sky_st_bind_null(sky_stmt *st, int i)
{
	if (st->conn->pq)
		return pg_put(st, i, NULL);
	return sqlite3_bind_null(st->lite, i);
}

int sky_st_nparams(sky_stmt *st)
{
	return st->conn->pq ? st->nparams
	                    : sqlite3_bind_parameter_count(st->lite);
}

const char *sky_st_text(sky_stmt *st, int col)
{
	if (st->conn->pq)
		return st->res && !PQgetisnull(st->res, st->row, col)
		           ? PQgetvalue(st->res, st->row, col)
		           : NULL;
	return (const char *)sqlite3_column_text(st->lite, col);
}

int64_t sky_st_i64(sky_stmt *st, int col)
{
	if (st->conn->pq) {
		const char *v = sky_st_text(st, col);
		/* A boolean comes back as t / f. */
		if (v && (*v == 't' || *v == 'f'))
			return *v == 't';
		return v ? strtoll(v, NULL, 10) : 0;
	}
	return sqlite3_column_int64(st->lite, col);
}

double sky_st_double(sky_stmt *st, int col)
{
	if (st->conn->pq) {
		const char *v = sky_st_text(st, col);
		return v ? strtod(v, NULL) : 0;
	}
	return sqlite3_column_double(st->lite, col);
}

int sky_st_null(sky_stmt *st, int col)
{
	if (st->conn->pq)
		return !st->res || PQgetisnull(st->res, st->row, col);
	return sqlite3_column_type(st->lite, col) == SQLITE_NULL;
}

void sky_st_reset(sky_stmt *st)
{
	if (!st)
		return;
	if (st->conn->pq) {
		PQclear(st->res);
		st->res = NULL;
		st->row = st->nrows = 0;
		for (int i = 0; i < st->nparams; i++) {
			free(st->vals[i]);
			st->vals[i] = NULL;
		}
		return;
	}
	sqlite3_reset(st->lite);
	sqlite3_clear_bindings(st->lite);
}

/* Run SQL text that needs no caching (pragmas, migrations). */
static int exec_text(sky_conn *c, const char *sql, const char *what)
{
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : sky_store__sqlerr(c, rc, what);
}

/* First column of a one-row query as an integer. */
static int query_int(sky_conn *c, const char *sql, int64_t *out)
{
	sky_stmt *st = sky_store__prepare(c, NULL, sql);
	int rc;
	if (!st)
		return sky_error_last_code();
	rc = sky_store__step(c, st, sql);
	*out = rc == SKY_ROW ? sky_st_i64(st, 0) : 0;
	sky_st_finalize(st);
	return rc < 0 ? rc : 0;
}

/* ---- rows <-> records -------------------------------------------------- */

#define FIELD(rec, col, type) ((type *)((char *)(rec) + (col)->off))
#define CFIELD(rec, col, type)                                                 \
	((const type *)((const char *)(rec) + (col)->off))

static const char *const webhook_names[] = {
    "pending",
    "delivering",
    "delivered",
    "failed",
};

const char *sky_webhook_status_name(sky_webhook_status st)
{
	if ((unsigned)st >= sizeof webhook_names / sizeof webhook_names[0])
		return "unknown";
	return webhook_names[st];
}

static int webhook_from_name(const char *name, sky_webhook_status *out)
{
	for (unsigned i = 0; i < sizeof webhook_names / sizeof *webhook_names;
	     i++) {
		if (name && !strcmp(name, webhook_names[i])) {
			*out = (sky_webhook_status)i;
			return 0;
		}
	}
	return SKY_EINVALID;
}

static int read_status(const sky_col *col, const char *name, void *rec)
{
	int rc = SKY_EINVALID;
	switch (col->type) {
	case SKY_COL_TASK_STATUS:
		rc = sky_task_status_from_name(
		    name, FIELD(rec, col, sky_task_status));
		break;
	case SKY_COL_STEP_STATUS:
		rc = sky_step_status_from_name(
		    name, FIELD(rec, col, sky_step_status));
		break;
	default:
		rc = webhook_from_name(name,
		                       FIELD(rec, col, sky_webhook_status));
		break;
	}
	if (rc)
		return sky_error_set(SKY_EIO,
		                     "store: column %s holds an "
		                     "unknown status '%s'",
		                     col->name, name ? name : "NULL");
	return 0;
}

int sky_store__row_read(sky_stmt *st, const sky_table *t, void *rec)
{
	memset(rec, 0, t->rec_size);
	for (int i = 0; i < t->ncols; i++) {
		const sky_col *col = &t->cols[i];
		int null = sky_st_null(st, i);
		int64_t v = col->type == SKY_COL_TEXT ? 0 : sky_st_i64(st, i);
		const char *txt;

		switch (col->type) {
		case SKY_COL_TEXT:
			txt = sky_st_text(st, i);
			if (txt && !(*FIELD(rec, col, char *) = strdup(txt))) {
				sky_store__row_clear(t, rec);
				return sky_error_from_code(SKY_ENOMEM);
			}
			break;
		case SKY_COL_I64:
		case SKY_COL_TS:
			*FIELD(rec, col, int64_t) = null ? 0 : v;
			break;
		case SKY_COL_INT:
		case SKY_COL_INT0:
			*FIELD(rec, col, int) = null ? 0 : (int)v;
			break;
		case SKY_COL_INTN:
			*FIELD(rec, col, int) = null ? -1 : (int)v;
			break;
		case SKY_COL_REAL:
			*FIELD(rec, col, double) = sky_st_double(st, i);
			break;
		case SKY_COL_TASK_STATUS:
		case SKY_COL_STEP_STATUS:
		case SKY_COL_WEBHOOK_STATUS:
			txt = sky_st_text(st, i);
			if (read_status(col, txt, rec)) {
				sky_store__row_clear(t, rec);
				return SKY_EIO;
			}
			break;
		}
	}
	return 0;
}

static int bind_col(sky_stmt *st, int i, const sky_col *col, const void *rec)
{
	int v;
	int64_t ts;

	switch (col->type) {
	case SKY_COL_TEXT:
		return sky_store__bind_text(st, i, *CFIELD(rec, col, char *));
	case SKY_COL_I64:
		return sky_st_bind_i64(st, i, *CFIELD(rec, col, int64_t));
	case SKY_COL_TS:
		ts = *CFIELD(rec, col, int64_t);
		return ts ? sky_st_bind_i64(st, i, ts)
		          : sky_st_bind_null(st, i);
	case SKY_COL_INT:
		return sky_st_bind_i64(st, i, *CFIELD(rec, col, int));
	case SKY_COL_INT0:
		v = *CFIELD(rec, col, int);
		return v ? sky_st_bind_i64(st, i, v) : sky_st_bind_null(st, i);
	case SKY_COL_INTN:
		v = *CFIELD(rec, col, int);
		return v >= 0 ? sky_st_bind_i64(st, i, v)
		              : sky_st_bind_null(st, i);
	case SKY_COL_REAL:
		return sky_st_bind_double(st, i, *CFIELD(rec, col, double));
	case SKY_COL_TASK_STATUS:
		return sky_store__bind_text(
		    st, i,
		    sky_task_status_name(*CFIELD(rec, col, sky_task_status)));
	case SKY_COL_STEP_STATUS:
		return sky_store__bind_text(
		    st, i,
		    sky_step_status_name(*CFIELD(rec, col, sky_step_status)));
	case SKY_COL_WEBHOOK_STATUS:
		return sky_store__bind_text(st, i,
		                            sky_webhook_status_name(*CFIELD(
		                                rec, col, sky_webhook_status)));
	}
	return SQLITE_MISUSE;
}

int sky_store__row_bind(sky_stmt *st, const sky_table *t, const void *rec)
{
	for (int i = 0; i < t->ncols; i++) {
		int rc = bind_col(st, i + 1, &t->cols[i], rec);
		if (rc != SQLITE_OK)
			return sky_error_set(rc == SQLITE_NOMEM ? SKY_ENOMEM
			                                        : SKY_EIO,
			                     "store: binding %s.%s failed",
			                     t->name, t->cols[i].name);
	}
	return 0;
}

void sky_store__row_clear(const sky_table *t, void *rec)
{
	if (!rec)
		return;
	for (int i = 0; i < t->ncols; i++) {
		if (t->cols[i].type == SKY_COL_TEXT) {
			char **p = FIELD(rec, &t->cols[i], char *);
			free(*p);
			*p = NULL;
		}
	}
}

int sky_store__fetch_one(sky_conn *c, sky_stmt *st, const sky_table *t,
                         void **out, const char *what)
{
	void *rec;
	int rc = sky_store__step(c, st, what);

	*out = NULL;
	if (rc < 0)
		return rc;
	if (rc == SKY_DONE) {
		sky_st_reset(st);
		return SKY_ENOTFOUND;
	}
	rec = malloc(t->rec_size);
	if (!rec) {
		sky_st_reset(st);
		return sky_error_from_code(SKY_ENOMEM);
	}
	rc = sky_store__row_read(st, t, rec);
	sky_st_reset(st);
	if (rc) {
		free(rec);
		return rc;
	}
	*out = rec;
	return 0;
}

int sky_store__fetch_all(sky_conn *c, sky_stmt *st, const sky_table *t,
                         void **items, size_t *count, const char *what)
{
	char *arr = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*items = NULL;
	*count = 0;
	while ((rc = sky_store__step(c, st, what)) == SKY_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *na = realloc(arr, ncap * t->rec_size);
			if (!na) {
				rc = sky_error_from_code(SKY_ENOMEM);
				goto fail;
			}
			arr = na;
			cap = ncap;
		}
		if ((rc = sky_store__row_read(st, t, arr + n * t->rec_size)))
			goto fail;
		n++;
	}
	if (rc < 0)
		goto fail;
	sky_st_reset(st);
	*items = arr;
	*count = n;
	return 0;
fail:
	sky_st_reset(st);
	sky_store__free_items(t, arr, n);
	return rc;
}

void sky_store__free_items(const sky_table *t, void *items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		sky_store__row_clear(t, (char *)items + i * t->rec_size);
	free(items);
}

int sky_store__check_json(const char *field, const char *json)
{
	json_error_t err;
	json_t *v;

	if (!json)
		return 0;
	v = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!v)
		return sky_error_set(SKY_EINVALID,
		                     "%s is not valid JSON (line %d, column "
		                     "%d)",
		                     field, err.line, err.column);
	json_decref(v);
	return 0;
}

/* ---- connections ------------------------------------------------------- */

static void conn_close(sky_conn *c)
{
	for (int i = 0; i < c->nslots; i++)
		sky_st_finalize(c->slots[i].stmt);
	free(c->slots);
	c->slots = NULL;
	c->nslots = c->cap = 0;
	if (c->pq)
		sky_store__pg_conn_close(c);
	if (c->db)
		sqlite3_close_v2(c->db);
	c->db = NULL;
}

static int conn_open(sky_conn *c, const char *path, int readonly, int busy_ms)
{
	int flags = SQLITE_OPEN_NOMUTEX |
	            (readonly ? SQLITE_OPEN_READONLY
	                      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = sqlite3_open_v2(path, &c->db, flags, NULL);

	if (rc != SQLITE_OK) {
		rc = sky_error_set(SKY_EIO, "store: cannot open %s: %s", path,
		                   c->db ? sqlite3_errmsg(c->db)
		                         : sqlite3_errstr(rc));
		conn_close(c);
		return rc;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, busy_ms);
	return 0;
}

sky_conn *sky_store__wbegin(sky_store *s)
{
	static const sky_sql begin = {NULL, "BEGIN IMMEDIATE", "BEGIN"};
	sky_stmt *st;

	pthread_mutex_lock(&s->wlock);
	sky_store__pg_check(s, &s->writer);
	st = sky_store__stmt(&s->writer, &begin);
	if (!st || sky_store__exec(&s->writer, st, "begin")) {
		pthread_mutex_unlock(&s->wlock);
		return NULL;
	}
	return &s->writer;
}

int sky_store__wend(sky_store *s, int rc)
{
	static const sky_sql commit = {NULL, "COMMIT"};
	static const sky_sql rollback = {NULL, "ROLLBACK"};
	sky_conn *c = &s->writer;
	sky_stmt *st;
	int open;

	if (rc == 0) {
		st = sky_store__stmt(c, &commit);
		rc = st ? sky_store__exec(c, st, "commit") : SKY_ENOMEM;
	}
	open = c->pq ? PQtransactionStatus(c->pq) != PQTRANS_IDLE
	             : sqlite3_get_autocommit(c->db) == 0;
	if (rc && open) {
		/* Keep the caller's message: a rollback has nothing to add. */
		if (c->pq) {
			PQclear(PQexec(c->pq, "ROLLBACK"));
		} else if ((st = sky_store__stmt(c, &rollback))) {
			sqlite3_step(st->lite);
			sqlite3_reset(st->lite);
		}
	}
	/* After the commit: a reader that saw the old generation and the
	 * new data only misses its cache once more. */
	__atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->wlock);
	return rc;
}

uint64_t sky_store_generation(sky_store *s)
{
	return __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
}

sky_conn *sky_store__racquire(sky_store *s)
{
	sky_conn *c;
	pthread_mutex_lock(&s->rlock);
	while (s->nfree == 0)
		pthread_cond_wait(&s->rcond, &s->rlock);
	c = &s->readers[s->free_readers[--s->nfree]];
	pthread_mutex_unlock(&s->rlock);
	sky_store__pg_check(s, c);
	return c;
}

void sky_store__rrelease(sky_store *s, sky_conn *c)
{
	pthread_mutex_lock(&s->rlock);
	s->free_readers[s->nfree++] = (int)(c - s->readers);
	pthread_cond_signal(&s->rcond);
	pthread_mutex_unlock(&s->rlock);
}

/* ---- open, migrate, close ---------------------------------------------- */

/* Refuse files that belong to someone else before touching them. */
static int check_identity(sky_store *s, int64_t *user_version)
{
	sky_conn *c = &s->writer;
	int64_t app_id = 0, tables = 0;
	int rc;

	if ((rc = query_int(c, "PRAGMA application_id", &app_id)))
		return sky_error_wrap(SKY_EIO,
		                      "store: %s is not a usable "
		                      "SQLite database",
		                      s->path);
	if ((rc = query_int(c, "PRAGMA user_version", user_version)))
		return rc;
	if ((rc = query_int(c,
	                    "SELECT count(*) FROM sqlite_schema WHERE "
	                    "name NOT LIKE 'sqlite_%'",
	                    &tables)))
		return rc;
	if ((app_id != 0 && app_id != SKY_STORE_APPLICATION_ID) ||
	    (app_id == 0 && tables > 0))
		return sky_error_set(
		    SKY_EUNSUPPORTED,
		    "store: %s is a SQLite database of another "
		    "application, not a skyengine store",
		    s->path);
	return 0;
}

static int migrate(sky_store *s)
{
	sky_conn *c = &s->writer;
	int64_t version = 0;
	char pragma[64];
	int rc;

	/* Read the version inside the write transaction: two processes
	 * opening one new file must not both run migration 1. */
	if ((rc = exec_text(c, "BEGIN IMMEDIATE", "begin migration")))
		return rc;
	if ((rc = query_int(c, "PRAGMA user_version", &version)))
		goto fail;
	if (version > SKY_STORE_SCHEMA_VERSION) {
		rc = sky_error_set(SKY_EUNSUPPORTED,
		                   "store: %s has schema version %lld, newer "
		                   "than the %d this skyengine knows; upgrade "
		                   "skyengine or use another data directory",
		                   s->path, (long long)version,
		                   SKY_STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 0) {
		rc = sky_error_set(SKY_EUNSUPPORTED,
		                   "store: %s has a negative schema version",
		                   s->path);
		goto fail;
	}
	for (int64_t v = version; v < SKY_STORE_SCHEMA_VERSION; v++) {
		if ((rc =
		         exec_text(c, sky_store__migrations[v], "migration"))) {
			sky_error_wrap(rc,
			               "store: migrating %s to version "
			               "%lld",
			               s->path, (long long)v + 1);
			goto fail;
		}
	}
	snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d",
	         SKY_STORE_SCHEMA_VERSION);
	if ((rc = exec_text(c, pragma, "set user_version")))
		goto fail;
	snprintf(pragma, sizeof pragma, "PRAGMA application_id=%d",
	         SKY_STORE_APPLICATION_ID);
	if ((rc = exec_text(c, pragma, "set application_id")))
		goto fail;
	if ((rc = exec_text(c, "COMMIT", "commit migration")))
		goto fail;
	if (version < SKY_STORE_SCHEMA_VERSION)
		sky_log_info("store", "%s: schema version %lld -> %d", s->path,
		             (long long)version, SKY_STORE_SCHEMA_VERSION);
	return 0;
fail:
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int open_writer(sky_store *s, const sky_store_options *o)
{
	sky_conn *c = &s->writer;
	int64_t user_version = 0;
	char pragma[64];
	int rc;

	if ((rc = conn_open(c, s->path, 0, o->busy_timeout_ms)))
		return rc;
	if ((rc = check_identity(s, &user_version)))
		return rc;
	/* journal_mode=WAL is persistent in the file; the others are per
	 * connection. */
	{
		sqlite3_stmt *st = NULL;
		const char *mode = NULL;
		rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1,
		                        &st, NULL);
		if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			mode = (const char *)sqlite3_column_text(st, 0);
		if (!mode || strcmp(mode, "wal")) {
			rc = sky_error_set(SKY_EIO,
			                   "store: %s: cannot switch "
			                   "to WAL mode: %s",
			                   s->path, sqlite3_errmsg(c->db));
			sqlite3_finalize(st);
			return rc;
		}
		sqlite3_finalize(st);
	}
	snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s",
	         o->sync_full ? "FULL" : "NORMAL");
	if ((rc = exec_text(c, pragma, "synchronous")) ||
	    (rc = exec_text(c, "PRAGMA foreign_keys=ON", "foreign_keys")))
		return rc;
	return migrate(s);
}

int sky_store_open(sky_store **out, const char *data_dir,
                   const sky_store_options *opts)
{
	sky_store_options o = {0};
	sky_store *s;
	char *abs = NULL;
	int rc;

	if (!out || !data_dir || !*data_dir)
		return sky_error_set(SKY_EINVALID,
		                     "sky_store_open: no data directory");
	*out = NULL;
	if (!sqlite3_threadsafe())
		return sky_error_set(SKY_EUNSUPPORTED,
		                     "store: SQLite was built without thread "
		                     "support");
	if (opts)
		o = *opts;
	if (o.read_connections <= 0)
		o.read_connections = DEFAULT_READERS;
	if (o.read_connections > MAX_READERS)
		o.read_connections = MAX_READERS;
	if (o.busy_timeout_ms <= 0)
		o.busy_timeout_ms = DEFAULT_BUSY_MS;

	if ((rc = sky_mkdir_p(data_dir)))
		return sky_error_wrap(rc, "store: cannot create %s", data_dir);
	s = calloc(1, sizeof *s);
	if (!s)
		return sky_error_from_code(SKY_ENOMEM);
	pthread_mutex_init(&s->wlock, NULL);
	pthread_mutex_init(&s->rlock, NULL);
	pthread_mutex_init(&s->llock, NULL);
	pthread_cond_init(&s->rcond, NULL);
	if (o.url && *o.url) {
		if (!sky_store_url_is_pg(o.url)) {
			rc = sky_error_set(SKY_EINVALID,
			                   "store: a store URL must start with "
			                   "postgresql:// or postgres://");
			goto fail;
		}
		s->pg = 1;
		s->url = strdup(o.url);
		s->path = sky_store__pg_redact(o.url);
		if (!s->url) {
			rc = sky_error_from_code(SKY_ENOMEM);
			goto fail;
		}
	} else if (o.path && *o.path) {
		s->path = skyx_path_abs(o.path);
	} else {
		abs = skyx_path_abs(data_dir);
		s->path = abs ? skyx_path_join(abs, SKY_STORE_FILE) : NULL;
		free(abs);
	}
	s->readers = calloc((size_t)o.read_connections, sizeof *s->readers);
	s->free_readers = calloc((size_t)o.read_connections, sizeof(int));
	if (!s->path || !s->readers || !s->free_readers) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto fail;
	}
	if (s->pg) {
		if ((rc = sky_store__pg_open(s, o.read_connections)))
			goto fail;
		for (int i = 0; i < s->nreaders; i++)
			s->free_readers[s->nfree++] = i;
		if ((rc = sky_store__ensure_default_org(s)))
			goto fail;
		sky_log_debug("store", "opened %s (%d readers)", s->path,
		              s->nreaders);
		*out = s;
		return 0;
	}
	if ((rc = open_writer(s, &o)))
		goto fail;
	if ((rc = sky_store__ensure_default_org(s)))
		goto fail;
	for (int i = 0; i < o.read_connections; i++) {
		if ((rc = conn_open(&s->readers[i], s->path, 1,
		                    o.busy_timeout_ms)))
			goto fail;
		s->nreaders++;
		s->free_readers[s->nfree++] = i;
	}
	sky_log_debug("store", "opened %s (%d readers, synchronous=%s)",
	              s->path, s->nreaders, o.sync_full ? "FULL" : "NORMAL");
	*out = s;
	return 0;
fail:
	sky_store_close(s);
	return rc;
}

void sky_store_close(sky_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nreaders; i++)
		conn_close(&s->readers[i]);
	/* The writer closes last: the last connection to a WAL file
	 * checkpoints it and removes the -wal and -shm files. */
	conn_close(&s->writer);
	PQfinish(s->listener);
	free(s->readers);
	free(s->free_readers);
	free(s->path);
	if (s->url) {
		/* It may hold a password. */
		explicit_bzero(s->url, strlen(s->url));
		free(s->url);
	}
	pthread_mutex_destroy(&s->wlock);
	pthread_mutex_destroy(&s->rlock);
	pthread_mutex_destroy(&s->llock);
	pthread_cond_destroy(&s->rcond);
	free(s);
}

int sky_store_url_is_pg(const char *url)
{
	return url && (!strncmp(url, "postgresql://", 13) ||
	               !strncmp(url, "postgres://", 11));
}

int sky_store_is_pg(const sky_store *s)
{
	return s && s->pg;
}

const char *sky_store_path(const sky_store *s)
{
	return s ? s->path : NULL;
}

const char *sky_store_default_org(const sky_store *s)
{
	return s ? s->default_org : NULL;
}

/* ---- pooled reads ------------------------------------------------------- */

static sky_stmt *read_stmt(sky_conn *c, const sky_sql *q, const char *p1,
                           const char *p2)
{
	sky_stmt *st = sky_store__stmt(c, q);
	if (!st)
		return NULL;
	if (sky_st_nparams(st) >= 1)
		sky_store__bind_text(st, 1, p1);
	if (sky_st_nparams(st) >= 2)
		sky_store__bind_text(st, 2, p2);
	return st;
}

int sky_store__read_one(sky_store *s, const sky_sql *q, const char *p1,
                        const char *p2, void **out, const char *what)
{
	sky_conn *c = sky_store__racquire(s);
	sky_stmt *st = read_stmt(c, q, p1, p2);
	int rc = st ? sky_store__fetch_one(c, st, q->table, out, what)
	            : sky_error_last_code();
	sky_store__rrelease(s, c);
	return rc;
}

int sky_store__read_all(sky_store *s, const sky_sql *q, const char *p1,
                        const char *p2, void **items, size_t *count,
                        const char *what)
{
	sky_conn *c = sky_store__racquire(s);
	sky_stmt *st = read_stmt(c, q, p1, p2);
	int rc = st ? sky_store__fetch_all(c, st, q->table, items, count, what)
	            : sky_error_last_code();
	sky_store__rrelease(s, c);
	return rc;
}
