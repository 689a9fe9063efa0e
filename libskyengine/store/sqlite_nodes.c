/*
 * The engines sharing a store (nodes) and the sealed webhook signing key
 * of a run: what hosts need from each other beyond the queue.
 */
#include "store/sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include <skyx/time.h>

#define NODE_NUMBERS 1024

static const sky_sql q_node_mine = {
    NULL, "SELECT node_number FROM nodes WHERE node_id=?1"};
static const sky_sql q_node_seen = {
    NULL, "UPDATE nodes SET seen_at=?2 WHERE node_id=?1"};
static const sky_sql q_node_forget = {
    NULL, "DELETE FROM nodes WHERE seen_at<?1 AND node_id<>?2"};
static const sky_sql q_node_taken = {NULL, "SELECT node_number FROM nodes"};
static const sky_sql q_node_insert = {
    NULL, "INSERT INTO nodes(node_id, node_number, started_at, seen_at) "
          "VALUES(?1, ?2, ?3, ?3)"};
static const sky_sql q_task_key_get = {
    NULL, "SELECT webhook_key_sealed FROM tasks WHERE task_id=?1"};

/* One attempt: the node's own number, or the lowest free one. */
static int node_take(sky_conn *c, const char *node_id, int64_t now,
                     int64_t stale_ms, int *number)
{
	unsigned char taken[NODE_NUMBERS] = {0};
	sky_stmt *st;
	int rc;

	if (!(st = sky_store__stmt(c, &q_node_mine)))
		return sky_error_last_code();
	sky_store__bind_text(st, 1, node_id);
	rc = sky_store__step(c, st, "find node");
	if (rc == SKY_ROW)
		*number = (int)sky_st_i64(st, 0);
	sky_st_reset(st);
	if (rc < 0)
		return rc;
	if (rc == SKY_ROW) {
		if (!(st = sky_store__stmt(c, &q_node_seen)))
			return sky_error_last_code();
		sky_store__bind_text(st, 1, node_id);
		sky_st_bind_i64(st, 2, now);
		return sky_store__exec(c, st, "node seen");
	}
	/* A number is free again once its node has been silent for
	 * stale_ms: the ids it made are older than any made from now on. */
	if (!(st = sky_store__stmt(c, &q_node_forget)))
		return sky_error_last_code();
	sky_st_bind_i64(st, 1, now - stale_ms);
	sky_store__bind_text(st, 2, node_id);
	if ((rc = sky_store__exec(c, st, "forget silent nodes")))
		return rc;
	if (!(st = sky_store__stmt(c, &q_node_taken)))
		return sky_error_last_code();
	while ((rc = sky_store__step(c, st, "list nodes")) == SKY_ROW) {
		int64_t n = sky_st_i64(st, 0);
		if (n >= 0 && n < NODE_NUMBERS)
			taken[n] = 1;
	}
	sky_st_reset(st);
	if (rc < 0)
		return rc;
	*number = -1;
	for (int i = 0; i < NODE_NUMBERS && *number < 0; i++)
		if (!taken[i])
			*number = i;
	if (*number < 0)
		return sky_error_set(SKY_EBUSY,
		                     "store: all %d node numbers are held by "
		                     "live engines",
		                     NODE_NUMBERS);
	if (!(st = sky_store__stmt(c, &q_node_insert)))
		return sky_error_last_code();
	sky_store__bind_text(st, 1, node_id);
	sky_st_bind_i64(st, 2, *number);
	sky_st_bind_i64(st, 3, now);
	return sky_store__exec(c, st, "register node");
}

int sky_store_node_register(sky_store *s, const char *node_id, int64_t stale_ms,
                            int *number)
{
	int rc = SKY_EEXISTS;

	if (!s || !node_id || !*node_id || !number || stale_ms <= 0)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	/* Two engines starting at once may pick the same number: the
	 * second insert fails on the unique number and tries again. */
	for (int attempt = 0; attempt < 8 && rc == SKY_EEXISTS; attempt++) {
		sky_conn *c = sky_store__wbegin(s);
		if (!c)
			return sky_error_last_code();
		rc =
		    sky_store__wend(s, node_take(c, node_id, skyx_time_now_ms(),
		                                 stale_ms, number));
	}
	return rc;
}

int sky_store_node_seen(sky_store *s, const char *node_id)
{
	sky_stmt *st;
	sky_conn *c;
	int rc;

	if (!s || !node_id)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	if (!(c = sky_store__wbegin(s)))
		return sky_error_last_code();
	if (!(st = sky_store__stmt(c, &q_node_seen))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, node_id);
		sky_st_bind_i64(st, 2, skyx_time_now_ms());
		rc = sky_store__exec(c, st, "node seen");
	}
	return sky_store__wend(s, rc);
}

int sky_store_task_webhook_key(sky_store *s, const char *task_id, char **sealed)
{
	sky_conn *c;
	sky_stmt *st;
	int rc;

	if (!s || !task_id || !sealed)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	*sealed = NULL;
	c = sky_store__racquire(s);
	if (!(st = sky_store__stmt(c, &q_task_key_get))) {
		rc = sky_error_last_code();
	} else {
		sky_store__bind_text(st, 1, task_id);
		rc = sky_store__step(c, st, "webhook key");
		if (rc == SKY_ROW && sky_st_text(st, 0) &&
		    !(*sealed = strdup(sky_st_text(st, 0))))
			rc = SKY_ENOMEM;
		sky_st_reset(st);
		rc = rc == SKY_DONE ? SKY_ENOTFOUND : rc < 0 ? rc : 0;
	}
	sky_store__rrelease(s, c);
	return rc;
}
