/*
 * The store's TOTP codes (single use), persistent browser sessions, the
 * webhook outbox and saved workflows.
 */
#include "store/sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define COL(rec, name, type)                                                   \
	{                                                                      \
#		name, SKY_COL_##type, offsetof(rec, name)                     \
	}

static void dup_all(char **dst, const char *src, int *oom)
{
	if (src && !(*dst = strdup(src)))
		*oom = 1;
}

/* ---- TOTP codes --------------------------------------------------------- */

static const sky_col totp_cols[] = {
    COL(sky_totp_rec, totp_code_id, TEXT),
    COL(sky_totp_rec, organization_id, TEXT),
    COL(sky_totp_rec, totp_identifier, TEXT),
    COL(sky_totp_rec, task_id, TEXT),
    COL(sky_totp_rec, workflow_run_id, TEXT),
    COL(sky_totp_rec, content, TEXT),
    COL(sky_totp_rec, code, TEXT),
    COL(sky_totp_rec, source, TEXT),
    COL(sky_totp_rec, otp_type, TEXT),
    COL(sky_totp_rec, status, TEXT),
    COL(sky_totp_rec, expired_at, TS),
    COL(sky_totp_rec, used_at, TS),
    COL(sky_totp_rec, created_at, TS),
    COL(sky_totp_rec, modified_at, TS),
};
const sky_table sky_store__t_totp =
    SKY_TABLE("totp_codes", sky_totp_rec, totp_cols);

static const sky_sql q_totp_insert = {&sky_store__t_totp, "%I"};
/* Newest first: a user who asked for a second code types the second. */
static const sky_sql q_totp_take = {
    &sky_store__t_totp,
    "UPDATE totp_codes SET status='used', used_at=?5, modified_at=?5 "
    "WHERE seq=(SELECT seq FROM totp_codes WHERE organization_id=?1 "
    "AND totp_identifier=?2 AND status='unused' AND code<>'' AND "
    "(task_id IS NULL OR task_id=?3) AND created_at>=?4 AND "
    "(expired_at IS NULL OR expired_at>?5) "
    "ORDER BY created_at DESC, seq DESC LIMIT 1) RETURNING %C",
    /* Two hosts asking at once: the second waits for the first and
     * finds the code used (then asks again later). */
    "UPDATE totp_codes SET status='used', used_at=?5, modified_at=?5 "
    "WHERE status='unused' AND seq=(SELECT seq FROM totp_codes WHERE "
    "organization_id=?1 AND totp_identifier=?2 AND status='unused' AND "
    "code<>'' AND (task_id IS NULL OR task_id=?3) AND created_at>=?4 AND "
    "(expired_at IS NULL OR expired_at>?5) "
    "ORDER BY created_at DESC, seq DESC LIMIT 1 FOR UPDATE) RETURNING %C"};

void sky_totp_rec_free(sky_totp_rec *r)
{
	sky_store__row_clear(&sky_store__t_totp, r);
	free(r);
}

int sky_store_totp_add(sky_store *s, const sky_totp_new *in, sky_totp_rec **out)
{
	char id[SKY_ID_MAX];
	sky_totp_rec *r;
	sky_stmt *st;
	sky_conn *c;
	int oom = 0, rc;

	if (out)
		*out = NULL;
	if (!s || !in || !in->totp_identifier || !*in->totp_identifier ||
	    !in->content)
		return sky_error_set(SKY_EINVALID,
		                     "a TOTP code needs a "
		                     "totp_identifier and content");
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	if (in->code && *in->code)
		sky_secret_register(in->code);
	dup_all(&r->totp_code_id, sky_id_new(SKY_ID_TOTP, id), &oom);
	dup_all(&r->organization_id,
	        in->organization_id ? in->organization_id : s->default_org,
	        &oom);
	dup_all(&r->totp_identifier, in->totp_identifier, &oom);
	dup_all(&r->task_id, in->task_id, &oom);
	dup_all(&r->workflow_run_id, in->workflow_run_id, &oom);
	dup_all(&r->content, in->content, &oom);
	dup_all(&r->code, in->code ? in->code : "", &oom);
	dup_all(&r->source, in->source, &oom);
	dup_all(&r->otp_type, in->otp_type ? in->otp_type : "totp", &oom);
	dup_all(&r->status, in->code && *in->code ? "unused" : "raw_pending",
	        &oom);
	if (oom) {
		sky_totp_rec_free(r);
		return sky_error_from_code(SKY_ENOMEM);
	}
	r->expired_at = in->expired_at;
	r->created_at = r->modified_at = skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s))) {
		sky_totp_rec_free(r);
		return sky_error_last_code();
	}
	if (!(st = sky_store__stmt(c, &q_totp_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if (!(rc = sky_store__row_bind(st, &sky_store__t_totp, r)))
		rc = sky_store__exec(c, st, "insert TOTP code");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Organization not found %s",
		              r->organization_id);
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_totp_rec_free(r);
	else
		*out = r;
	return rc;
}

void sky_totp_list_free(sky_totp_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&sky_store__t_totp, l->items, l->count);
	free(l);
}

int sky_store_totp_list(sky_store *s, const char *organization_id,
                        const char *totp_identifier,
                        const char *workflow_run_id, const char *otp_type,
                        int limit, sky_totp_list **out)
{
	sky_totp_list *l;
	void *items = NULL;
	sky_conn *c;
	int rc;

	if (!s || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	c = sky_store__racquire(s);
	sky_stmt *st = sky_store__prepare(
	    c, &sky_store__t_totp,
	    "SELECT %C FROM totp_codes WHERE organization_id=?1 AND "
	    "(?2 IS NULL OR totp_identifier=?2) AND "
	    "(?3 IS NULL OR workflow_run_id=?3) AND "
	    "(?4 IS NULL OR otp_type=?4) "
	    "ORDER BY created_at DESC, seq DESC LIMIT ?5");
	if (!st) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(
		    st, 1, organization_id ? organization_id : s->default_org);
		sky_store__bind_text(st, 2, totp_identifier);
		sky_store__bind_text(st, 3, workflow_run_id);
		sky_store__bind_text(st, 4, otp_type);
		sky_st_bind_i64(st, 5, limit > 0 ? limit : 50);
		rc = sky_store__fetch_all(c, st, &sky_store__t_totp, &items,
		                          &l->count, "list TOTP codes");
		l->items = items;
		sky_st_finalize(st);
	}
	sky_store__rrelease(s, c);
	if (rc) {
		sky_totp_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int sky_store_totp_take(sky_store *s, const char *organization_id,
                        const char *totp_identifier, const char *task_id,
                        int64_t created_after, sky_totp_rec **out)
{
	sky_stmt *st;
	void *r = NULL;
	sky_conn *c;
	int rc;

	if (!s || !totp_identifier || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_totp_take))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(
	    st, 1, organization_id ? organization_id : s->default_org);
	sky_store__bind_text(st, 2, totp_identifier);
	sky_store__bind_text(st, 3, task_id);
	sky_st_bind_i64(st, 4, created_after);
	sky_st_bind_i64(st, 5, skyx_time_now_ms());
	rc = sky_store__fetch_one(c, st, &sky_store__t_totp, &r,
	                          "take TOTP code");
	if (rc == SKY_ENOTFOUND)
		rc = 0;
done:
	rc = sky_store__wend(s, rc);
	if (rc)
		sky_totp_rec_free(r);
	else
		*out = r;
	return rc;
}

/* ---- browser sessions ------------------------------------------------ */

static const sky_col bsession_cols[] = {
    COL(sky_bsession_rec, browser_session_id, TEXT),
    COL(sky_bsession_rec, organization_id, TEXT),
    COL(sky_bsession_rec, status, TEXT),
    COL(sky_bsession_rec, timeout_minutes, INT),
    COL(sky_bsession_rec, url, TEXT),
    COL(sky_bsession_rec, proxy_location, TEXT),
    COL(sky_bsession_rec, browser_address, TEXT),
    COL(sky_bsession_rec, runnable_type, TEXT),
    COL(sky_bsession_rec, runnable_id, TEXT),
    COL(sky_bsession_rec, started_at, TS),
    COL(sky_bsession_rec, completed_at, TS),
    COL(sky_bsession_rec, created_at, TS),
    COL(sky_bsession_rec, modified_at, TS),
    COL(sky_bsession_rec, deleted_at, TS),
    COL(sky_bsession_rec, browser_profile_id, TEXT),
    COL(sky_bsession_rec, generate_browser_profile, INT),
};
const sky_table sky_store__t_bsession =
    SKY_TABLE("browser_sessions", sky_bsession_rec, bsession_cols);

static const sky_sql q_bs_insert = {&sky_store__t_bsession, "%I"};
static const sky_sql q_bs_get = {
    &sky_store__t_bsession,
    "SELECT %C FROM browser_sessions WHERE browser_session_id=?1 AND "
    "(?2 IS NULL OR organization_id=?2)"};
static const sky_sql q_bs_active = {
    &sky_store__t_bsession,
    "SELECT %C FROM browser_sessions WHERE organization_id=?1 AND "
    "status IN ('created','running') ORDER BY created_at DESC, seq DESC"};
static const sky_sql q_bs_live_all = {
    &sky_store__t_bsession,
    "SELECT %C FROM browser_sessions WHERE "
    "status IN ('created','running') AND (?1 IS NULL OR holder IS NULL OR "
    "holder=?1) ORDER BY created_at, seq"};
static const sky_sql q_bs_holder = {
    NULL, "UPDATE browser_sessions SET holder=?2 WHERE "
          "browser_session_id=?1"};
static const sky_sql q_bs_status = {
    NULL, "SELECT status FROM browser_sessions WHERE browser_session_id=?1",
    "SELECT status FROM browser_sessions WHERE browser_session_id=?1 "
    "FOR UPDATE"};
static const sky_sql q_bs_move = {
    NULL, "UPDATE browser_sessions SET status=?2, modified_at=?3,"
          " started_at=CASE WHEN ?4 THEN ?3 ELSE started_at END,"
          " completed_at=CASE WHEN ?5 THEN ?3 ELSE completed_at END,"
          " runnable_id=coalesce(?6, runnable_id),"
          " browser_address=coalesce(?7, browser_address)"
          " WHERE browser_session_id=?1"};

static int bs_final(const char *st)
{
	return !strcmp(st, "completed") || !strcmp(st, "failed") ||
	       !strcmp(st, "timed_out");
}

static int bs_known(const char *st)
{
	return st && (!strcmp(st, "created") || !strcmp(st, "running") ||
	              bs_final(st));
}

void sky_bsession_rec_free(sky_bsession_rec *r)
{
	sky_store__row_clear(&sky_store__t_bsession, r);
	free(r);
}

void sky_bsession_list_free(sky_bsession_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&sky_store__t_bsession, l->items, l->count);
	free(l);
}

int sky_store_bsession_create(sky_store *s, const char *organization_id,
                              int timeout_minutes, const char *url,
                              const char *proxy_location_json,
                              sky_bsession_rec **out)
{
	char id[SKY_ID_MAX];
	sky_bsession_rec *r;
	sky_stmt *st;
	sky_conn *c;
	int oom = 0, rc;

	if (out)
		*out = NULL;
	if (!s || timeout_minutes <= 0)
		return sky_error_set(SKY_EINVALID,
		                     "a browser session needs a positive "
		                     "timeout");
	if ((rc = sky_store__check_json("proxy_location", proxy_location_json)))
		return rc;
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	dup_all(&r->browser_session_id, sky_id_new(SKY_ID_BROWSER_SESSION, id),
	        &oom);
	dup_all(&r->organization_id,
	        organization_id ? organization_id : s->default_org, &oom);
	dup_all(&r->status, "created", &oom);
	dup_all(&r->url, url, &oom);
	dup_all(&r->proxy_location, proxy_location_json, &oom);
	if (oom) {
		sky_bsession_rec_free(r);
		return sky_error_from_code(SKY_ENOMEM);
	}
	r->timeout_minutes = timeout_minutes;
	r->created_at = r->modified_at = skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s))) {
		sky_bsession_rec_free(r);
		return sky_error_last_code();
	}
	if (!(st = sky_store__stmt(c, &q_bs_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if (!(rc = sky_store__row_bind(st, &sky_store__t_bsession, r)))
		rc = sky_store__exec(c, st, "insert browser session");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Organization not found %s",
		              r->organization_id);
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_bsession_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_bsession_get(sky_store *s, const char *organization_id,
                           const char *browser_session_id,
                           sky_bsession_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !browser_session_id || !out)
		return sky_error_set(SKY_EINVALID,
		                     "browser session id is NULL");
	rc = sky_store__read_one(s, &q_bs_get, browser_session_id,
	                         organization_id, &r, "get browser session");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Browser session %s not found",
		              browser_session_id);
	*out = r;
	return rc;
}

static int bs_check_move(const char *id, const char *from, const char *to)
{
	/* Only forward: created -> running -> a final status. */
	if (bs_final(from) || !strcmp(from, to) || !strcmp(to, "created"))
		return sky_error_set(
		    SKY_EINVALID,
		    "Invalid browser session status transition "
		    "from %s to %s for %s",
		    from, to, id);
	return 0;
}

int sky_store_bsession_set_status(sky_store *s, const char *browser_session_id,
                                  const char *status, const char *runnable_id,
                                  const char *browser_address)
{
	sky_stmt *st;
	char *from = NULL;
	sky_conn *c;
	int rc;

	if (!s || !browser_session_id || !bs_known(status))
		return sky_error_set(SKY_EINVALID,
		                     "unknown browser session status '%s'",
		                     status ? status : "(null)");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_bs_status))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, browser_session_id);
	rc = sky_store__step(c, st, "read browser session");
	if (rc == SKY_ROW) {
		from = strdup(sky_st_text(st, 0));
		rc = from ? 0 : sky_error_from_code(SKY_ENOMEM);
	} else if (rc == SKY_DONE) {
		rc =
		    sky_error_set(SKY_ENOTFOUND, "Browser session %s not found",
		                  browser_session_id);
	}
	sky_st_reset(st);
	if (rc || (rc = bs_check_move(browser_session_id, from, status)))
		goto done;
	if (!(st = sky_store__stmt(c, &q_bs_move))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, browser_session_id);
	sky_store__bind_text(st, 2, status);
	sky_st_bind_i64(st, 3, skyx_time_now_ms());
	sky_st_bind_i64(st, 4, !strcmp(status, "running"));
	sky_st_bind_i64(st, 5, bs_final(status));
	sky_store__bind_text(st, 6, runnable_id);
	sky_store__bind_text(st, 7, browser_address);
	rc = sky_store__exec(c, st, "update browser session");
done:
	free(from);
	return sky_store__wend(s, rc);
}

int sky_store_bsession_list_active(sky_store *s, const char *organization_id,
                                   sky_bsession_list **out)
{
	sky_bsession_list *l;
	void *items = NULL;
	int rc;

	if (!s || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	rc = sky_store__read_all(
	    s, &q_bs_active, organization_id ? organization_id : s->default_org,
	    NULL, &items, &l->count, "list browser sessions");
	l->items = items;
	if (rc)
		free(l);
	else
		*out = l;
	return rc;
}

int sky_store_bsession_set_holder(sky_store *s, const char *browser_session_id,
                                  const char *holder)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || !browser_session_id)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_bs_holder))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, browser_session_id);
		sky_store__bind_text(st, 2, holder);
		rc = sky_store__exec(c, st, "set session holder");
	}
	return sky_store__wend(s, rc);
}

int sky_store_bsession_list_live_all(sky_store *s, const char *holder,
                                     sky_bsession_list **out)
{
	sky_bsession_list *l;
	void *items = NULL;
	int rc;

	if (!s || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	rc = sky_store__read_all(s, &q_bs_live_all, holder, NULL, &items,
	                         &l->count, "list live browser sessions");
	l->items = items;
	if (rc)
		free(l);
	else
		*out = l;
	return rc;
}

/* ---- webhook outbox ----------------------------------------------------- */

static const sky_col webhook_cols[] = {
    COL(sky_webhook_rec, webhook_id, TEXT),
    COL(sky_webhook_rec, task_id, TEXT),
    COL(sky_webhook_rec, organization_id, TEXT),
    COL(sky_webhook_rec, url, TEXT),
    COL(sky_webhook_rec, payload, TEXT),
    COL(sky_webhook_rec, signature, TEXT),
    COL(sky_webhook_rec, attempts, INT),
    COL(sky_webhook_rec, next_attempt_at, I64),
    COL(sky_webhook_rec, status, WEBHOOK_STATUS),
    COL(sky_webhook_rec, last_error, TEXT),
    COL(sky_webhook_rec, created_at, TS),
    COL(sky_webhook_rec, modified_at, TS),
    COL(sky_webhook_rec, delivered_at, TS),
};
const sky_table sky_store__t_webhook =
    SKY_TABLE("webhook_outbox", sky_webhook_rec, webhook_cols);

static const sky_sql q_wh_insert = {&sky_store__t_webhook, "%I"};
/* PostgreSQL: the run's row is locked, so "once per run" holds across
 * hosts. */
static const sky_sql q_wh_task_org = {
    NULL, "SELECT organization_id FROM tasks WHERE task_id=?1",
    "SELECT organization_id FROM tasks WHERE task_id=?1 FOR UPDATE"};
static const sky_sql q_wh_get = {
    &sky_store__t_webhook, "SELECT %C FROM webhook_outbox WHERE webhook_id=?1"};
#define WH_CLAIM_SET                                                           \
	"UPDATE webhook_outbox SET status='delivering', modified_at=?1, "      \
	"lease_owner=?3, lease_expires_at=?4 WHERE seq IN (SELECT seq FROM "   \
	"webhook_outbox WHERE (status='pending' AND next_attempt_at<=?1) OR "  \
	"(status='delivering' AND lease_expires_at>0 AND "                     \
	"lease_expires_at<?1) ORDER BY next_attempt_at, seq LIMIT ?2"
static const sky_sql q_wh_claim = {
    &sky_store__t_webhook, WH_CLAIM_SET ") RETURNING %C",
    /* Hosts claiming at once take different rows. */
    WH_CLAIM_SET " FOR UPDATE SKIP LOCKED) RETURNING %C"};
static const sky_sql q_wh_record = {
    NULL, "UPDATE webhook_outbox SET attempts=attempts+1, status=?2,"
          " next_attempt_at=coalesce(?3, next_attempt_at), last_error=?4,"
          " delivered_at=?5, modified_at=?6, lease_expires_at=0"
          " WHERE webhook_id=?1 AND status='delivering' AND"
          " (?7 IS NULL OR lease_owner=?7)"};
static const sky_sql q_wh_exists = {
    NULL, "SELECT status FROM webhook_outbox WHERE webhook_id=?1"};
static const sky_sql q_wh_recover = {
    NULL, "UPDATE webhook_outbox SET status='pending', modified_at=?1, "
          "lease_owner=NULL, lease_expires_at=0 WHERE status='delivering' "
          "AND (?2 IS NULL OR lease_owner=?2 OR lease_owner IS NULL)"};
static const sky_sql q_wh_of_task = {
    NULL, "SELECT 1 FROM webhook_outbox WHERE task_id=?1 LIMIT 1"};
static const sky_sql q_wh_unqueued = {
    &sky_store__t_task,
    "SELECT %C FROM tasks WHERE webhook_url IS NOT NULL AND webhook_url<>'' "
    "AND parent_task_id IS NULL AND status IN ('completed','failed',"
    "'terminated','timed_out','canceled') AND NOT EXISTS (SELECT 1 FROM "
    "webhook_outbox w WHERE w.task_id=tasks.task_id) ORDER BY seq"};
static const sky_sql q_wh_pending = {
    &sky_store__t_webhook,
    "SELECT %C FROM webhook_outbox WHERE status='pending' "
    "ORDER BY next_attempt_at, seq"};

void sky_webhook_rec_free(sky_webhook_rec *r)
{
	sky_store__row_clear(&sky_store__t_webhook, r);
	free(r);
}

void sky_webhook_list_free(sky_webhook_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&sky_store__t_webhook, l->items, l->count);
	free(l);
}

static int enqueue(sky_store *s, const char *task_id, const char *url,
                   const char *payload, const char *signature, int once,
                   sky_webhook_rec **out)
{
	char id[SKY_ID_MAX];
	sky_webhook_rec *r;
	sky_stmt *st;
	sky_conn *c;
	int oom = 0, rc;

	if (out)
		*out = NULL;
	if (!s || !task_id || !url || !*url || !payload)
		return sky_error_set(SKY_EINVALID, "a webhook needs a task, a "
		                                   "URL and a payload");
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	dup_all(&r->webhook_id, sky_id_new(SKY_ID_WEBHOOK, id), &oom);
	dup_all(&r->task_id, task_id, &oom);
	dup_all(&r->url, url, &oom);
	dup_all(&r->payload, payload, &oom);
	dup_all(&r->signature, signature, &oom);
	if (oom) {
		sky_webhook_rec_free(r);
		return sky_error_from_code(SKY_ENOMEM);
	}
	r->status = SKY_WEBHOOK_PENDING;
	r->created_at = r->modified_at = r->next_attempt_at =
	    skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s))) {
		sky_webhook_rec_free(r);
		return sky_error_last_code();
	}
	if (!(st = sky_store__stmt(c, &q_wh_task_org))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, task_id);
	rc = sky_store__step(c, st, "find task");
	if (rc == SKY_ROW) {
		const char *org = sky_st_text(st, 0);
		rc = (r->organization_id = strdup(org))
		         ? 0
		         : sky_error_from_code(SKY_ENOMEM);
	} else if (rc == SKY_DONE) {
		rc = sky_error_set(SKY_ENOTFOUND, "Task run not found %s",
		                   task_id);
	}
	sky_st_reset(st);
	if (rc)
		goto done;
	if (once) {
		/* Checked inside the write transaction: two callers racing
		 * for the same run cannot both insert. */
		if (!(st = sky_store__stmt(c, &q_wh_of_task))) {
			rc = sky_error_last_code();
			goto done;
		}
		sky_store__bind_text(st, 1, task_id);
		rc = sky_store__step(c, st, "find webhook of task");
		sky_st_reset(st);
		if (rc == SKY_ROW)
			rc = sky_error_set(SKY_EEXISTS,
			                   "run %s already has a "
			                   "webhook delivery",
			                   task_id);
		else if (rc == SKY_DONE)
			rc = 0;
		if (rc)
			goto done;
	}
	if (!(st = sky_store__stmt(c, &q_wh_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if (!(rc = sky_store__row_bind(st, &sky_store__t_webhook, r)))
		rc = sky_store__exec(c, st, "enqueue webhook");
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_webhook_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_webhook_enqueue(sky_store *s, const char *task_id,
                              const char *url, const char *payload,
                              const char *signature, sky_webhook_rec **out)
{
	return enqueue(s, task_id, url, payload, signature, 0, out);
}

int sky_store_webhook_enqueue_once(sky_store *s, const char *task_id,
                                   const char *url, const char *payload,
                                   const char *signature, sky_webhook_rec **out)
{
	return enqueue(s, task_id, url, payload, signature, 1, out);
}

int sky_store_webhook_unqueued(sky_store *s, sky_task_list **out)
{
	sky_task_list *l;
	void *items = NULL;
	int rc;

	if (!s || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	rc = sky_store__read_all(s, &q_wh_unqueued, NULL, NULL, &items,
	                         &l->count, "list runs without webhook");
	l->items = items;
	l->total = (int64_t)l->count;
	if (rc)
		free(l);
	else
		*out = l;
	return rc;
}

static int webhook_cmp(const void *a, const void *b)
{
	const sky_webhook_rec *x = a, *y = b;
	if (x->next_attempt_at != y->next_attempt_at)
		return x->next_attempt_at < y->next_attempt_at ? -1 : 1;
	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return strcmp(x->webhook_id, y->webhook_id);
}

int sky_store_webhook_claim_due(sky_store *s, const sky_lease *lease,
                                int64_t now, int limit, sky_webhook_list **out)
{
	sky_webhook_list *l;
	sky_stmt *st;
	void *items = NULL;
	sky_conn *c;
	int rc;

	if (!s || !out || limit <= 0)
		return sky_error_set(SKY_EINVALID, "claim needs a positive "
		                                   "limit");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	if (!(c = sky_store__wbegin(s))) {
		free(l);
		return sky_error_last_code();
	}
	if (!(st = sky_store__stmt(c, &q_wh_claim))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_st_bind_i64(st, 1, now);
	sky_st_bind_i64(st, 2, limit);
	sky_store__bind_text(st, 3, lease ? lease->owner : NULL);
	sky_st_bind_i64(
	    st, 4,
	    now + (lease && lease->lease_ms > 0 ? lease->lease_ms : 600000));
	rc = sky_store__fetch_all(c, st, &sky_store__t_webhook, &items,
	                          &l->count, "claim webhooks");
	l->items = items;
	/* RETURNING gives rows in no particular order. */
	if (!rc && l->count > 1)
		qsort(l->items, l->count, sizeof *l->items, webhook_cmp);
done:
	rc = sky_store__wend(s, rc);
	if (rc) {
		sky_webhook_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int sky_store_webhook_record(sky_store *s, const char *webhook_id,
                             const char *owner, sky_webhook_outcome outcome,
                             int64_t next_attempt_at, const char *error)
{
	sky_webhook_status to;
	sky_stmt *st;
	sky_conn *c;
	int64_t now = skyx_time_now_ms();
	int rc;

	if (!s || !webhook_id)
		return sky_error_set(SKY_EINVALID, "webhook id is NULL");
	switch (outcome) {
	case SKY_WEBHOOK_OUTCOME_DELIVERED:
		to = SKY_WEBHOOK_DELIVERED;
		break;
	case SKY_WEBHOOK_OUTCOME_RETRY:
		to = SKY_WEBHOOK_PENDING;
		break;
	case SKY_WEBHOOK_OUTCOME_FAILED:
		to = SKY_WEBHOOK_FAILED;
		break;
	default:
		return sky_error_set(SKY_EINVALID, "unknown webhook outcome %d",
		                     (int)outcome);
	}
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_wh_record))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, webhook_id);
	sky_store__bind_text(st, 2, sky_webhook_status_name(to));
	if (to == SKY_WEBHOOK_PENDING)
		sky_st_bind_i64(st, 3, next_attempt_at);
	sky_store__bind_text(st, 4, error);
	if (to == SKY_WEBHOOK_DELIVERED)
		sky_st_bind_i64(st, 5, now);
	sky_st_bind_i64(st, 6, now);
	sky_store__bind_text(st, 7, owner);
	if ((rc = sky_store__exec(c, st, "record webhook attempt")))
		goto done;
	if (sky_store__changes(c) == 1)
		goto done;
	/* Say why nothing changed. */
	if (!(st = sky_store__stmt(c, &q_wh_exists))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_store__bind_text(st, 1, webhook_id);
	rc = sky_store__step(c, st, "find webhook");
	if (rc == SKY_ROW)
		rc = sky_error_set(
		    SKY_EINVALID,
		    strcmp(sky_st_text(st, 0), "delivering")
		        ? "webhook %s is %s, not delivering"
		        : "webhook %s: its lease went to another process (%s)",
		    webhook_id, sky_st_text(st, 0));
	else if (rc == SKY_DONE)
		rc = sky_error_set(SKY_ENOTFOUND, "webhook %s not found",
		                   webhook_id);
	sky_st_reset(st);
done:
	return sky_store__wend(s, rc);
}

int sky_store_webhook_recover(sky_store *s, const char *owner, int *count)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (count)
		*count = 0;
	if (!s)
		return sky_error_set(SKY_EINVALID, "store is NULL");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_wh_recover))) {
		rc = sky_error_last_code();
		goto done;
	}
	sky_st_bind_i64(st, 1, skyx_time_now_ms());
	sky_store__bind_text(st, 2, owner);
	rc = sky_store__exec(c, st, "recover webhooks");
	if (!rc && count)
		*count = sky_store__changes(c);
done:
	return sky_store__wend(s, rc);
}

int sky_store_webhook_list_pending(sky_store *s, sky_webhook_list **out)
{
	sky_webhook_list *l;
	void *items = NULL;
	int rc;

	if (!s || !out)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*out = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	rc = sky_store__read_all(s, &q_wh_pending, NULL, NULL, &items,
	                         &l->count, "list pending webhooks");
	l->items = items;
	if (rc)
		free(l);
	else
		*out = l;
	return rc;
}

int sky_store_webhook_get(sky_store *s, const char *webhook_id,
                          sky_webhook_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !webhook_id || !out)
		return sky_error_set(SKY_EINVALID, "webhook id is NULL");
	rc = sky_store__read_one(s, &q_wh_get, webhook_id, NULL, &r,
	                         "get webhook");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "webhook %s not found", webhook_id);
	*out = r;
	return rc;
}

/* ---- workflows --------------------------------------------------------- */

static const sky_col workflow_cols[] = {
    COL(sky_workflow_rec, workflow_permanent_id, TEXT),
    COL(sky_workflow_rec, organization_id, TEXT),
    COL(sky_workflow_rec, title, TEXT),
    COL(sky_workflow_rec, request, TEXT),
    COL(sky_workflow_rec, source_task_id, TEXT),
    COL(sky_workflow_rec, created_at, TS),
    COL(sky_workflow_rec, modified_at, TS),
};
const sky_table sky_store__t_workflow =
    SKY_TABLE("workflows", sky_workflow_rec, workflow_cols);

static const sky_sql q_wf_insert = {&sky_store__t_workflow, "%I"};
static const sky_sql q_wf_get = {
    &sky_store__t_workflow,
    "SELECT %C FROM workflows WHERE workflow_permanent_id=?1 AND "
    "(?2 IS NULL OR organization_id=?2)"};
static const sky_sql q_wf_list = {
    &sky_store__t_workflow,
    "SELECT %C FROM workflows WHERE organization_id=?1 "
    "ORDER BY created_at DESC, seq DESC LIMIT ?2 OFFSET ?3"};

void sky_workflow_rec_free(sky_workflow_rec *r)
{
	sky_store__row_clear(&sky_store__t_workflow, r);
	free(r);
}

void sky_workflow_list_free(sky_workflow_list *l)
{
	if (!l)
		return;
	sky_store__free_items(&sky_store__t_workflow, l->items, l->count);
	free(l);
}

int sky_store_workflow_create(sky_store *s, const char *organization_id,
                              const char *title, const char *request_json,
                              const char *source_task_id,
                              sky_workflow_rec **out)
{
	char id[SKY_ID_MAX];
	sky_workflow_rec *r;
	sky_stmt *st;
	sky_conn *c;
	int oom = 0, rc;

	if (out)
		*out = NULL;
	if (!s || !request_json)
		return sky_error_set(SKY_EINVALID,
		                     "a workflow needs a request");
	if ((rc = sky_store__check_json("workflow request", request_json)))
		return rc;
	if (!(r = calloc(1, sizeof *r)))
		return sky_error_from_code(SKY_ENOMEM);
	dup_all(&r->workflow_permanent_id, sky_id_new(SKY_ID_WORKFLOW, id),
	        &oom);
	dup_all(&r->organization_id,
	        organization_id ? organization_id : s->default_org, &oom);
	dup_all(&r->title, title, &oom);
	dup_all(&r->request, request_json, &oom);
	dup_all(&r->source_task_id, source_task_id, &oom);
	if (oom) {
		sky_workflow_rec_free(r);
		return sky_error_from_code(SKY_ENOMEM);
	}
	r->created_at = r->modified_at = skyx_time_now_ms();
	if (!(c = sky_store__wbegin(s))) {
		sky_workflow_rec_free(r);
		return sky_error_last_code();
	}
	if (!(st = sky_store__stmt(c, &q_wf_insert))) {
		rc = sky_error_last_code();
		goto done;
	}
	if (!(rc = sky_store__row_bind(st, &sky_store__t_workflow, r)))
		rc = sky_store__exec(c, st, "insert workflow");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Organization not found %s",
		              r->organization_id);
done:
	rc = sky_store__wend(s, rc);
	if (rc || !out)
		sky_workflow_rec_free(r);
	else
		*out = r;
	return rc;
}

int sky_store_workflow_get(sky_store *s, const char *organization_id,
                           const char *workflow_permanent_id,
                           sky_workflow_rec **out)
{
	void *r = NULL;
	int rc;

	if (!s || !workflow_permanent_id || !out)
		return sky_error_set(SKY_EINVALID, "workflow id is NULL");
	rc = sky_store__read_one(s, &q_wf_get, workflow_permanent_id,
	                         organization_id, &r, "get workflow");
	if (rc == SKY_ENOTFOUND)
		sky_error_set(rc, "Workflow not found %s",
		              workflow_permanent_id);
	*out = r;
	return rc;
}

int sky_store_workflow_list(sky_store *s, const char *organization_id, int page,
                            int page_size, sky_workflow_list **out)
{
	sky_workflow_list *l;
	sky_stmt *st;
	void *items = NULL;
	sky_conn *c;
	int rc;

	if (!s || !out || page < 0 || page_size < 0)
		return sky_error_set(SKY_EINVALID,
		                     "page and page_size must be >= 1");
	*out = NULL;
	if (page == 0)
		page = 1;
	if (!(l = calloc(1, sizeof *l)))
		return sky_error_from_code(SKY_ENOMEM);
	c = sky_store__racquire(s);
	if (!(st = sky_store__stmt(c, &q_wf_list))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(
		    st, 1, organization_id ? organization_id : s->default_org);
		/* No limit: -1 for SQLite, NULL for PostgreSQL. */
		if (page_size > 0)
			sky_st_bind_i64(st, 2, page_size);
		else if (sky_conn_pg(c))
			sky_st_bind_null(st, 2);
		else
			sky_st_bind_i64(st, 2, -1);
		sky_st_bind_i64(st, 3, (int64_t)(page - 1) * page_size);
		rc = sky_store__fetch_all(c, st, &sky_store__t_workflow, &items,
		                          &l->count, "list workflows");
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
