/*
 * Internal: the persistent store (runs, steps, actions, artifacts, TOTP
 * codes, browser sessions, webhook outbox, workflows, API keys) and the
 * task/step status machines. All SQL lives behind this header.
 */
#ifndef SKY_STORE_H
#define SKY_STORE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Threads. One sky_store is shared by every thread of the process. Writes
 * go through one SQLite connection guarded by a mutex, each in a
 * BEGIN IMMEDIATE transaction, so a read-check-write such as a status
 * transition or a claim is atomic. Reads take one of a small pool of
 * read-only connections (WAL lets them run beside the writer) and see
 * every write that returned before they started. Each connection keeps
 * its prepared statements, so a repeated read costs one sqlite3_step.
 *
 * Durability. WAL with synchronous=NORMAL (the default): once a write
 * function returns, the row is in the WAL file and survives the process
 * being killed (SIGKILL, crash). A power loss or kernel crash may lose
 * the last transactions; `sync_full` adds an fsync per commit and closes
 * that gap at the cost of throughput (docs/store.md has the numbers).
 *
 * Conventions. Strings passed in are copied; NULL means SQL NULL. Columns
 * documented as "JSON text" are validated as JSON on the way in and come
 * back as text. Timestamps are integer milliseconds since the Unix epoch
 * (UTC), 0 meaning "not set". Records returned through `**out` belong to
 * the caller and have a NULL-safe `_free`. An `organization_id` argument
 * scopes a lookup to that organization; NULL means "any" (for the engine's
 * own use; the API always passes the caller's organization).
 */

typedef struct sky_store sky_store;

/* Bumped by every migration; a file with a larger user_version is
 * refused. */
#define SKY_STORE_SCHEMA_VERSION 6
#define SKY_STORE_FILE "skyengine.db"

typedef struct sky_store_options {
	int read_connections; /* 0: 4 */
	int sync_full;        /* 1: synchronous=FULL (fsync each commit) */
	int busy_timeout_ms;  /* 0: 5000; for other processes on the file */
	/* The database file; NULL: <data_dir>/skyengine.db. Several
	 * processes (each with its own data dir) may share one file. */
	const char *path;
	/* A PostgreSQL connection URL (postgresql://… or postgres://…, or
	 * a libpq "key=value" string starting with "postgresql:"); when
	 * set, the store lives there instead of in a SQLite file, and any
	 * number of processes on any hosts may share it. */
	const char *url;
} sky_store_options;

/* 1 when `url` names a PostgreSQL database. */
int sky_store_url_is_pg(const char *url);
/* 1 when the store is PostgreSQL. */
int sky_store_is_pg(const sky_store *s);

/*
 * Open (creating if needed) `<data_dir>/skyengine.db`, applying pending
 * migrations in one transaction. Creates the default organization on
 * first open. A file written by a newer skyengine (larger user_version)
 * or a SQLite file of another application is refused with
 * SKY_EUNSUPPORTED; a file that is not SQLite gives SKY_EIO. `opts` may
 * be NULL.
 */
int sky_store_open(sky_store **out, const char *data_dir,
                   const sky_store_options *opts);
/* Close every connection. The caller guarantees no call is in flight.
 * NULL-safe. */
void sky_store_close(sky_store *s);
/* Absolute path of the database file (borrowed). */
const char *sky_store_path(const sky_store *s);
/* Id of the default organization (borrowed, "o_…"). */
const char *sky_store_default_org(const sky_store *s);

/* ---- status machines (pure; design.md §3) ---------------------------- */

typedef enum sky_task_status {
	SKY_TASK_CREATED = 0,
	SKY_TASK_QUEUED,
	SKY_TASK_RUNNING,
	SKY_TASK_COMPLETED,
	SKY_TASK_FAILED,
	SKY_TASK_TERMINATED,
	SKY_TASK_TIMED_OUT,
	SKY_TASK_CANCELED,
	SKY_TASK_STATUS_COUNT
} sky_task_status;

typedef enum sky_step_status {
	SKY_STEP_CREATED = 0,
	SKY_STEP_RUNNING,
	SKY_STEP_COMPLETED,
	SKY_STEP_FAILED,
	SKY_STEP_CANCELED,
	SKY_STEP_STATUS_COUNT
} sky_step_status;

/* A set of task statuses for filters. */
#define SKY_TASK_MASK(st) (1u << (st))
#define SKY_TASK_MASK_ACTIVE                                                   \
	(SKY_TASK_MASK(SKY_TASK_CREATED) | SKY_TASK_MASK(SKY_TASK_QUEUED) |    \
	 SKY_TASK_MASK(SKY_TASK_RUNNING))

/* "created", "timed_out", …; "unknown" for an out-of-range value. */
const char *sky_task_status_name(sky_task_status st);
const char *sky_step_status_name(sky_step_status st);
/* Parse a lower-case name; 0 or SKY_EINVALID. */
int sky_task_status_from_name(const char *name, sky_task_status *out);
int sky_step_status_from_name(const char *name, sky_step_status *out);
/* 1 if `from -> to` is a legal move (a status never moves to itself). */
int sky_task_status_can_transition(sky_task_status from, sky_task_status to);
int sky_step_status_can_transition(sky_step_status from, sky_step_status to);
/* 1 for completed, failed, terminated, timed_out, canceled. */
int sky_task_status_is_final(sky_task_status st);
/* 1 for completed, failed, canceled. */
int sky_step_status_is_final(sky_step_status st);
/* 1 if moving to `to` needs a non-empty failure_reason (failed,
 * terminated). */
int sky_task_status_needs_reason(sky_task_status to);

/* ---- organizations and API keys ----------------------------------- */

typedef struct sky_org_rec {
	char *organization_id;
	char *name;
	int is_default;
	int64_t created_at, modified_at;
} sky_org_rec;

int sky_store_org_create(sky_store *s, const char *name, sky_org_rec **out);
int sky_store_org_get(sky_store *s, const char *organization_id,
                      sky_org_rec **out);
void sky_org_rec_free(sky_org_rec *r);

typedef struct sky_apikey_rec {
	int64_t key_id;
	char *organization_id;
	char *key_sha256; /* lower-case hex */
	char *key_prefix; /* first characters of the key, for display */
	int64_t created_at;
	int64_t revoked_at; /* 0: live */
} sky_apikey_rec;

/* Store an API key: only its SHA-256 and a short display prefix are
 * kept. SKY_EEXISTS if the same key is already stored. `out` may be
 * NULL. */
int sky_store_apikey_add(sky_store *s, const char *organization_id,
                         const char *key, sky_apikey_rec **out);
/* Look a key up by the hex SHA-256 of its text (revoked keys are found
 * too: check revoked_at). SKY_ENOTFOUND when unknown. */
int sky_store_apikey_find(sky_store *s, const char *key_sha256,
                          sky_apikey_rec **out);
/* Mark a key revoked; SKY_ENOTFOUND when unknown. */
int sky_store_apikey_revoke(sky_store *s, int64_t key_id);
/* Number of keys that are not revoked. */
int sky_store_apikey_count(sky_store *s, int64_t *count);
void sky_apikey_rec_free(sky_apikey_rec *r);

/* ---- tasks (runs) -------------------------------------------------- */

#define SKY_RUN_TYPE_V1 "task_v1"
#define SKY_RUN_TYPE_V2 "task_v2"

/* What a new task is made of; strings are borrowed for the call. */
typedef struct sky_task_new {
	const char *organization_id; /* NULL: the default organization */
	const char *run_type;        /* SKY_RUN_TYPE_V1 | SKY_RUN_TYPE_V2 */
	const char *engine;          /* "skyvern-1.0" | "skyvern-2.0" */
	int queued;                  /* 1: start in `queued` (queued_at set) */
	const char *title;
	const char *url;
	const char *prompt; /* required ("" allowed) */
	const char *data_extraction_goal;
	const char *proxy_location;         /* JSON text */
	const char *data_extraction_schema; /* JSON text */
	const char *error_code_mapping;     /* JSON text */
	const char *navigation_payload;     /* JSON text */
	int max_steps;                      /* 0: not given */
	const char *webhook_url;
	const char *totp_identifier;
	const char *totp_url;
	const char *browser_session_id;
	int publish_workflow;
	const char *extra_http_headers; /* JSON text */
	int include_action_history_in_verification;
	int max_screenshot_scrolls; /* -1: not given */
	const char *browser_address;
	const char *run_request; /* JSON text: the request echo */
	/* Same organization + key returns the existing task instead of
	 * creating a second one. NULL: none. */
	const char *idempotency_key;
	const char *parent_task_id; /* a v1 sub-task of this v2 run */
	const char *workflow_permanent_id;
	const char *notes; /* JSON object text: the engine's notes, or NULL */
} sky_task_new;

typedef struct sky_task_rec {
	char *task_id; /* "tsk_…" or "tsk_v2_…" */
	char *organization_id;
	char *run_type;
	char *engine;
	sky_task_status status;
	char *title;
	char *url;
	char *prompt;
	char *data_extraction_goal;
	char *proxy_location;         /* JSON text */
	char *data_extraction_schema; /* JSON text */
	char *error_code_mapping;     /* JSON text */
	char *navigation_payload;     /* JSON text */
	int max_steps;                /* 0: not given */
	char *webhook_url;
	char *totp_identifier;
	char *totp_url;
	char *browser_session_id;
	int publish_workflow;
	char *extra_http_headers; /* JSON text */
	int include_action_history_in_verification;
	int max_screenshot_scrolls; /* -1: not given */
	char *browser_address;
	char *run_request; /* JSON text */
	char *output;      /* JSON text */
	char *failure_reason;
	char *errors; /* JSON text (an array) */
	char *webhook_failure_reason;
	int64_t created_at, modified_at;
	int64_t queued_at, started_at, finished_at; /* 0: not yet */
	int step_count;
	char *idempotency_key;
	char *parent_task_id;
	char *workflow_permanent_id;
	char *proxy_applied; /* JSON text: which proxy the run really used */
	char *notes;         /* JSON text: free-form engine notes */
} sky_task_rec;

/*
 * Create a task in `created` (or `queued`) with a fresh id. With an
 * idempotency key already used by the organization, nothing is created:
 * the existing task comes back and *existed is 1. `existed` and `out` may
 * be NULL. SKY_EINVALID for a missing prompt, an unknown run type or a
 * JSON field that is not JSON; SKY_ENOTFOUND for an unknown organization
 * or parent task.
 */
int sky_store_task_create(sky_store *s, const sky_task_new *in,
                          sky_task_rec **out, int *existed);
/* SKY_ENOTFOUND ("Task run not found <id>") when absent or owned by
 * another organization. */
/* A number that changes after every write transaction through this store
 * (not through another process's connection to the same file): read it
 * before reading rows, and a cached answer built from them is current as
 * long as the number has not moved. */
uint64_t sky_store_generation(sky_store *s);

/*
 * Waking workers on other hosts (PostgreSQL). A run created, or a lease
 * given back, sends a notification on commit; sky_store_wait_runs
 * blocks up to timeout_ms for one (on a connection of its own, opened on
 * first use) and returns 1 when one came, 0 on timeout. Notifications
 * are not durable (a host that was not listening misses them), so a
 * worker still re-checks the queue now and then. On SQLite there is
 * nothing to listen to: SKY_EUNSUPPORTED at once.
 */
int sky_store_wait_runs(sky_store *s, int timeout_ms);

/*
 * Engines sharing the store. Each registers its node id and gets a
 * number 0..1023 no other live engine holds, for the ids it makes
 * (util/id.h: sky_id_set_node); an engine is live while it has been seen
 * within stale_ms (sky_store_node_seen, from its lease renewals). The
 * same node id gets its number back. SKY_EBUSY when 1024 engines live.
 */
int sky_store_node_register(sky_store *s, const char *node_id, int64_t stale_ms,
                            int *number);
int sky_store_node_seen(sky_store *s, const char *node_id);

/* A run's webhook signing key, sealed by the engine (NULL: none);
 * *sealed is NULL when none was stored. */
int sky_store_task_set_webhook_key(sky_store *s, const char *task_id,
                                   const char *sealed);
int sky_store_task_webhook_key(sky_store *s, const char *task_id,
                               char **sealed);

int sky_store_task_get(sky_store *s, const char *organization_id,
                       const char *task_id, sky_task_rec **out);

typedef enum sky_task_sort {
	SKY_TASK_SORT_CREATED_AT = 0,
	SKY_TASK_SORT_MODIFIED_AT
} sky_task_sort;

typedef struct sky_task_query {
	const char *organization_id; /* NULL: every organization */
	int page;                    /* >= 1; 0 means 1 */
	int page_size;               /* >= 1; 0: no limit */
	unsigned status_mask;        /* SKY_TASK_MASK()s; 0: any status */
	const char *run_type;        /* NULL: any */
	int top_level_only;          /* 1: leave out sub-tasks of v2 runs */
	sky_task_sort sort;
	int ascending;           /* 0: newest first (the API's default) */
	const char *application; /* notes.application equals it; NULL: any */
} sky_task_query;

typedef struct sky_task_list {
	sky_task_rec *items;
	size_t count;
	int64_t total; /* rows matching the filters, ignoring paging */
} sky_task_list;

int sky_store_task_list(sky_store *s, const sky_task_query *q,
                        sky_task_list **out);
/* Every task (all organizations) whose status is in `mask`, oldest first:
 * start-up recovery. */
int sky_store_task_list_status(sky_store *s, unsigned mask,
                               sky_task_list **out);
void sky_task_list_free(sky_task_list *l);

/*
 * Leases. The process executing a run holds its lease: an owner (the
 * engine's node id) and an expiry, renewed while it works. A `running`
 * run whose lease has expired was left by a process that died (or
 * stopped); any process may claim it again, and resumes it.
 */
typedef struct sky_lease {
	const char *owner; /* the claiming engine's node id */
	int64_t lease_ms;  /* how long a claim or renewal holds */
} sky_lease;

/*
 * Take the oldest top-level task that is `created` or `queued`, or
 * `running` with an expired lease, in one transaction: each task is
 * claimed by exactly one caller. A created/queued task moves to
 * `running`. The lease is set to `l` (owner, now + lease_ms).
 * *reclaimed (may be NULL) is 1 when the task was running (a resume).
 * *out is NULL (and 0 is returned) when there is none. `run_type` (may
 * be NULL) restricts the kind.
 */
int sky_store_task_claim(sky_store *s, const sky_lease *l, const char *run_type,
                         sky_task_rec **out, int *reclaimed);

/*
 * Renew the leases `l->owner` holds on `ids` (n of them) in one
 * transaction. For each id, lost[i] is set to 1 when the lease is no
 * longer this owner's (another process re-claimed the run) or the run is
 * final (canceled through another process): the caller stops executing
 * it. `lost` may be NULL.
 */
int sky_store_task_lease_renew(sky_store *s, const sky_lease *l,
                               const char *const *ids, size_t n, int *lost);

/*
 * Let go of leases at once: of one task (`task_id`), or, with task_id
 * NULL, of every running task `owner` holds (an engine starting again on
 * its node id resumes its own runs without waiting for their expiry).
 * Running tasks with no owner at all (written before leases) are let go
 * of too. *n (may be NULL) counts the tasks let go of.
 */
int sky_store_task_lease_drop(sky_store *s, const char *owner,
                              const char *task_id, int *n);

/*
 * Move a task to `to`. Illegal moves give SKY_EINVALID with "Invalid task
 * status transition from <from> to <to> for <id>"; failed and terminated
 * need a non-empty `failure_reason` (stored when given for other
 * statuses). Stamps queued_at (-> queued), started_at (-> running),
 * finished_at (-> any final) and always modified_at. `out` (may be NULL)
 * receives the updated task.
 */
int sky_store_task_set_status(sky_store *s, const char *task_id,
                              sky_task_status to, const char *failure_reason,
                              sky_task_rec **out);
/* Field setters; each bumps modified_at. SKY_ENOTFOUND for an unknown
 * task. JSON text is validated (NULL clears). */
int sky_store_task_set_output(sky_store *s, const char *task_id,
                              const char *output_json);
int sky_store_task_set_errors(sky_store *s, const char *task_id,
                              const char *errors_json_array);
int sky_store_task_set_webhook_failure_reason(sky_store *s, const char *task_id,
                                              const char *reason);
int sky_store_task_set_step_count(sky_store *s, const char *task_id,
                                  int step_count);
int sky_store_task_set_proxy_applied(sky_store *s, const char *task_id,
                                     const char *json);
int sky_store_task_set_notes(sky_store *s, const char *task_id,
                             const char *json);
/* The workflow a run published (publish_workflow) or was started from. */
int sky_store_task_set_workflow(sky_store *s, const char *task_id,
                                const char *workflow_permanent_id);
void sky_task_rec_free(sky_task_rec *r);

/* ---- steps --------------------------------------------------------- */

typedef struct sky_step_rec {
	char *step_id; /* "stp_…" */
	char *task_id;
	char *organization_id;
	int order;
	int retry_index;
	sky_step_status status;
	int is_last;
	int64_t input_token_count;
	int64_t output_token_count;
	int64_t reasoning_token_count;
	int64_t cached_token_count;
	double step_cost;
	char *last_llm_model;
	char *output; /* JSON text */
	int64_t created_at, modified_at;
} sky_step_rec;

/* Create step (order, retry_index) of a task in `created` and count it
 * in the task's step_count. SKY_EEXISTS when that pair exists,
 * SKY_ENOTFOUND for an unknown task. */
int sky_store_step_create(sky_store *s, const char *task_id, int order,
                          int retry_index, sky_step_rec **out);
int sky_store_step_get(sky_store *s, const char *step_id, sky_step_rec **out);
/* Same rules as tasks: "Invalid step status transition from <from> to
 * <to> for <id>". `out` may be NULL. */
int sky_store_step_set_status(sky_store *s, const char *step_id,
                              sky_step_status to, sky_step_rec **out);
/* is_last only ever becomes true. */
int sky_store_step_set_last(sky_store *s, const char *step_id);
int sky_store_step_set_output(sky_store *s, const char *step_id,
                              const char *output_json);

/* One model call's usage; counts and cost are added to the step's. */
typedef struct sky_step_usage {
	int64_t input_tokens;
	int64_t output_tokens;
	int64_t reasoning_tokens;
	int64_t cached_tokens;
	double cost;
	const char *model; /* becomes last_llm_model when not NULL */
} sky_step_usage;

int sky_store_step_add_usage(sky_store *s, const char *step_id,
                             const sky_step_usage *u);

typedef struct sky_step_list {
	sky_step_rec *items;
	size_t count;
} sky_step_list;

/* Steps of a task ordered by (order, retry_index); empty for an unknown
 * task. */
int sky_store_step_list(sky_store *s, const char *task_id, sky_step_list **out);
void sky_step_rec_free(sky_step_rec *r);
void sky_step_list_free(sky_step_list *l);

/* ---- actions and their results ------------------------------------- */

typedef struct sky_action_rec {
	char *action_id; /* "act_…" */
	char *task_id;
	char *step_id;
	int step_order;       /* the step's order and retry, for history */
	int step_retry_index; /* (read-only, joined from the step) */
	int action_index;     /* 0-based position within the step */
	char *action_type;
	char *element_id;
	char *action; /* JSON text (docs/internals.md §3) */
	char *result; /* JSON text (docs/internals.md §4) */
	/* "completed" | "failed" | "skipped" | "pending", or SKY_ACTION_ISSUED
	 * while it is being carried out, "unknown" when a crash cut it. */
	char *status;
	int64_t created_at;
} sky_action_rec;

/*
 * Append an action and its result to a step; the index in the step is
 * the next free one. `action_type` and `element_id` are read from the
 * action JSON ("action_type", "element_id"). `result_json` may be NULL.
 * `out` may be NULL.
 */
int sky_store_action_append(sky_store *s, const char *step_id,
                            const char *action_json, const char *result_json,
                            const char *status, sky_action_rec **out);

/*
 * Write-ahead of a side effect: an action is appended with status
 * SKY_ACTION_ISSUED (result NULL) before it is dispatched, and finished
 * once its result is known. An action still `issued` after a crash was
 * sent to the page with an unknown outcome (agent/run.c: resume).
 */
#define SKY_ACTION_ISSUED "issued"
#define SKY_ACTION_UNKNOWN "unknown"
/* Set the result and final status of an `issued` action. SKY_ENOTFOUND
 * when there is no such action or it is no longer `issued`. */
int sky_store_action_finish(sky_store *s, const char *action_id,
                            const char *result_json, const char *status);

typedef struct sky_action_list {
	sky_action_rec *items;
	size_t count;
} sky_action_list;

/* Actions of a task (step_id NULL) or of one step, ordered by step order,
 * retry index and position. */
int sky_store_action_list(sky_store *s, const char *task_id,
                          const char *step_id, sky_action_list **out);
void sky_action_rec_free(sky_action_rec *r);
void sky_action_list_free(sky_action_list *l);

/* ---- artifacts ------------------------------------------------------ */

#define SKY_ARTIFACT_SCREENSHOT_LLM "screenshot_llm"
#define SKY_ARTIFACT_SCREENSHOT_ACTION "screenshot_action"
#define SKY_ARTIFACT_ELEMENT_TREE "element_tree"
#define SKY_ARTIFACT_LLM_PROMPT "llm_prompt"
#define SKY_ARTIFACT_LLM_RESPONSE "llm_response"
#define SKY_ARTIFACT_RECORDING "recording"
#define SKY_ARTIFACT_DOWNLOAD "download"
#define SKY_ARTIFACT_HTML "html"
#define SKY_ARTIFACT_LOG "log"

typedef struct sky_artifact_rec {
	char *artifact_id; /* "a_…" */
	char *task_id;
	char *step_id; /* NULL for task-level artifacts */
	char *organization_id;
	char *kind;
	char *path; /* relative to the data dir */
	int64_t size;
	char *sha256; /* hex or NULL */
	int64_t created_at;
} sky_artifact_rec;

/* `kind` is lower-case [a-z0-9_]; `path` must be relative and must not
 * climb out of the data dir (no "..", no leading '/'). */
int sky_store_artifact_add(sky_store *s, const char *task_id,
                           const char *step_id, const char *kind,
                           const char *path, int64_t size, const char *sha256,
                           sky_artifact_rec **out);
int sky_store_artifact_get(sky_store *s, const char *organization_id,
                           const char *artifact_id, sky_artifact_rec **out);

typedef struct sky_artifact_list {
	sky_artifact_rec *items;
	size_t count;
} sky_artifact_list;

/* A task's artifacts in creation order; `kind` NULL for all kinds. */
int sky_store_artifact_list(sky_store *s, const char *task_id, const char *kind,
                            sky_artifact_list **out);
void sky_artifact_rec_free(sky_artifact_rec *r);
void sky_artifact_list_free(sky_artifact_list *l);

/* ---- TOTP codes ------------------------------------------------------ */

typedef struct sky_totp_new {
	const char *organization_id; /* NULL: default organization */
	const char *totp_identifier; /* required */
	const char *task_id;
	const char *workflow_run_id;
	const char *content; /* required: what the sender posted */
	const char *code;    /* the code parsed out of it; NULL or "": none */
	const char *source;
	const char *otp_type; /* NULL: "totp" */
	int64_t expired_at;   /* 0: never */
} sky_totp_new;

typedef struct sky_totp_rec {
	char *totp_code_id; /* "totp_…" */
	char *organization_id;
	char *totp_identifier;
	char *task_id;
	char *workflow_run_id;
	char *content;
	char *code;
	char *source;
	char *otp_type;
	char *status; /* "unused", "used", or "raw_pending" (no code) */
	int64_t expired_at, used_at;
	int64_t created_at, modified_at;
} sky_totp_rec;

int sky_store_totp_add(sky_store *s, const sky_totp_new *in,
                       sky_totp_rec **out);

typedef struct sky_totp_list {
	sky_totp_rec *items;
	size_t count;
} sky_totp_list;

/* An organization's codes, newest first, at most `limit`; each filter
 * NULL for any. */
int sky_store_totp_list(sky_store *s, const char *organization_id,
                        const char *totp_identifier,
                        const char *workflow_run_id, const char *otp_type,
                        int limit, sky_totp_list **out);
void sky_totp_list_free(sky_totp_list *l);
/*
 * Take the newest unused, unexpired code for (organization, identifier)
 * created at or after `created_after` (ms; 0: any time), whose task_id is
 * NULL or `task_id`, and mark it used, in one transaction: a code is
 * handed out once. *out is NULL when there is none.
 */
int sky_store_totp_take(sky_store *s, const char *organization_id,
                        const char *totp_identifier, const char *task_id,
                        int64_t created_after, sky_totp_rec **out);
void sky_totp_rec_free(sky_totp_rec *r);

/* ---- persistent browser sessions ------------------------------------ */

/* Statuses: created -> running -> completed | failed | timed_out (also
 * created -> a final one); finals are frozen. */
typedef struct sky_bsession_rec {
	char *browser_session_id; /* "pbs_…" */
	char *organization_id;
	char *status;
	int timeout_minutes;
	char *url;
	char *proxy_location; /* JSON text */
	char *browser_address;
	char *runnable_type;
	char *runnable_id; /* the run using it, if any */
	int64_t started_at, completed_at;
	int64_t created_at, modified_at, deleted_at;
	char *browser_profile_id;     /* the profile it loaded, or NULL */
	int generate_browser_profile; /* save its state when it ends */
} sky_bsession_rec;

int sky_store_bsession_create(sky_store *s, const char *organization_id,
                              int timeout_minutes, const char *url,
                              const char *proxy_location_json,
                              sky_bsession_rec **out);
int sky_store_bsession_get(sky_store *s, const char *organization_id,
                           const char *browser_session_id,
                           sky_bsession_rec **out);
/* Move a session to `status`, stamping started_at (running) or
 * completed_at (final). `runnable_id` / `browser_address` replace the
 * stored ones when not NULL. SKY_EINVALID for an illegal move. */
int sky_store_bsession_set_status(sky_store *s, const char *browser_session_id,
                                  const char *status, const char *runnable_id,
                                  const char *browser_address);

typedef struct sky_bsession_list {
	sky_bsession_rec *items;
	size_t count;
} sky_bsession_list;

/* Sessions of an organization in created or running, newest first. */
int sky_store_bsession_list_active(sky_store *s, const char *organization_id,
                                   sky_bsession_list **out);
/* Sessions of every organization in created or running that `holder`
 * holds (or that no engine was recorded as holding), oldest first:
 * start-up, to close what a crash left open. Another host's sessions
 * are not listed. */
int sky_store_bsession_list_live_all(sky_store *s, const char *holder,
                                     sky_bsession_list **out);
void sky_bsession_rec_free(sky_bsession_rec *r);
void sky_bsession_list_free(sky_bsession_list *l);
/* The engine holding a session's browser (its node id); runs naming the
 * session are claimed only by that engine (sky_store_task_claim). */
int sky_store_bsession_set_holder(sky_store *s, const char *browser_session_id,
                                  const char *holder);
/* Set the profile a session loaded (NULL: keep) and its
 * generate_browser_profile flag (-1: keep). */
int sky_store_bsession_set_profile(sky_store *s, const char *browser_session_id,
                                   const char *browser_profile_id,
                                   int generate_browser_profile);

/* ---- browser profiles ------------------------------------------------ */

typedef struct sky_bprofile_rec {
	char *browser_profile_id; /* "bp_…" */
	char *organization_id;
	char *name;
	char *description;
	char *source_run_id;     /* the run it was saved from, or NULL */
	char *source_session_id; /* the session it was saved from, or NULL */
	int use_count;           /* runs and sessions that loaded it */
	int64_t last_used_at;
	int64_t created_at, modified_at, deleted_at;
} sky_bprofile_rec;

typedef struct sky_bprofile_list {
	sky_bprofile_rec *items;
	size_t count;
} sky_bprofile_list;

/* SKY_EEXISTS when the organization has a profile of that name (not
 * deleted). */
int sky_store_bprofile_create(sky_store *s, const char *organization_id,
                              const char *name, const char *description,
                              const char *source_run_id,
                              const char *source_session_id,
                              sky_bprofile_rec **out);
/* SKY_ENOTFOUND when absent, deleted, or another organization's
 * (organization_id NULL: any). */
int sky_store_bprofile_get(sky_store *s, const char *organization_id,
                           const char *browser_profile_id,
                           sky_bprofile_rec **out);
/* Newest first; search (may be NULL) matches name or description,
 * case-insensitively. page counts from 1. */
int sky_store_bprofile_list(sky_store *s, const char *organization_id,
                            int include_deleted, const char *search, int page,
                            int page_size, sky_bprofile_list **out);
/* NULL name / description: unchanged. SKY_ENOTFOUND, SKY_EEXISTS. */
int sky_store_bprofile_update(sky_store *s, const char *organization_id,
                              const char *browser_profile_id, const char *name,
                              const char *description);
/* Soft delete (hard: remove the row, for a profile whose file could not
 * be written). SKY_ENOTFOUND. */
int sky_store_bprofile_delete(sky_store *s, const char *organization_id,
                              const char *browser_profile_id, int hard);
/* Count one use (a run or session loaded it). */
int sky_store_bprofile_used(sky_store *s, const char *browser_profile_id);
void sky_bprofile_rec_free(sky_bprofile_rec *r);
void sky_bprofile_list_free(sky_bprofile_list *l);

/* ---- webhook outbox -------------------------------------------------- */

typedef enum sky_webhook_status {
	SKY_WEBHOOK_PENDING = 0,
	SKY_WEBHOOK_DELIVERING,
	SKY_WEBHOOK_DELIVERED,
	SKY_WEBHOOK_FAILED
} sky_webhook_status;

typedef struct sky_webhook_rec {
	char *webhook_id; /* "wh_…" */
	char *task_id;
	char *organization_id;
	char *url;
	char *payload;   /* the exact body bytes to send */
	char *signature; /* x-skyvern-signature, computed at enqueue */
	int attempts;
	int64_t next_attempt_at;
	sky_webhook_status status;
	char *last_error;
	int64_t created_at, modified_at, delivered_at;
} sky_webhook_rec;

/* Queue a delivery, due now. The signature is kept so that a retry
 * after a restart needs no key. `out` may be NULL. */
int sky_store_webhook_enqueue(sky_store *s, const char *task_id,
                              const char *url, const char *payload,
                              const char *signature, sky_webhook_rec **out);

/* As sky_store_webhook_enqueue, but SKY_EEXISTS (nothing queued) when
 * the task already has a delivery in the outbox, whatever its state: a
 * run reaches one final status, so it gets one webhook (retry_webhook
 * sends outside the outbox). */
int sky_store_webhook_enqueue_once(sky_store *s, const char *task_id,
                                   const char *url, const char *payload,
                                   const char *signature,
                                   sky_webhook_rec **out);
/* Final top-level runs with a webhook_url and no delivery in the outbox
 * (a crash came between storing the final status and queueing its
 * webhook), oldest first. */
int sky_store_webhook_unqueued(sky_store *s, sky_task_list **out);

typedef struct sky_webhook_list {
	sky_webhook_rec *items;
	size_t count;
} sky_webhook_list;

/* Take up to `limit` pending deliveries due at `now` (ms), oldest first,
 * moving them to delivering under the lease `l` (NULL: no owner, ten
 * minutes); a delivering row whose lease ran out (its host died during
 * the attempt) is taken again. Each row is claimed by one caller of all
 * processes sharing the store. */
int sky_store_webhook_claim_due(sky_store *s, const sky_lease *l, int64_t now,
                                int limit, sky_webhook_list **out);

typedef enum sky_webhook_outcome {
	SKY_WEBHOOK_OUTCOME_DELIVERED = 0,
	SKY_WEBHOOK_OUTCOME_RETRY, /* back to pending until next_attempt_at */
	SKY_WEBHOOK_OUTCOME_FAILED /* give up */
} sky_webhook_outcome;

/* Record one attempt of a delivering row: attempts + 1 and the outcome.
 * SKY_EINVALID when the row is not delivering, or (with `owner`) its
 * lease went to another process meanwhile. */
int sky_store_webhook_record(sky_store *s, const char *webhook_id,
                             const char *owner, sky_webhook_outcome outcome,
                             int64_t next_attempt_at, const char *error);
/* After a restart: rows `owner` left delivering (and rows with no
 * owner) go back to pending; NULL: every delivering row. They may be
 * delivered twice; receivers see the same body and webhook id. *count
 * (may be NULL) says how many. */
int sky_store_webhook_recover(sky_store *s, const char *owner, int *count);
/* Pending rows (due or not), oldest first. */
int sky_store_webhook_list_pending(sky_store *s, sky_webhook_list **out);
int sky_store_webhook_get(sky_store *s, const char *webhook_id,
                          sky_webhook_rec **out);
const char *sky_webhook_status_name(sky_webhook_status st);
void sky_webhook_rec_free(sky_webhook_rec *r);
void sky_webhook_list_free(sky_webhook_list *l);

/* ---- workflows --------------------------------------------------------- */

typedef struct sky_workflow_rec {
	char *workflow_permanent_id; /* "wpid_…" */
	char *organization_id;
	char *title;
	char *request; /* JSON text: the task request it repeats */
	char *source_task_id;
	int64_t created_at, modified_at;
} sky_workflow_rec;

int sky_store_workflow_create(sky_store *s, const char *organization_id,
                              const char *title, const char *request_json,
                              const char *source_task_id,
                              sky_workflow_rec **out);
int sky_store_workflow_get(sky_store *s, const char *organization_id,
                           const char *workflow_permanent_id,
                           sky_workflow_rec **out);

typedef struct sky_workflow_list {
	sky_workflow_rec *items;
	size_t count;
} sky_workflow_list;

/* Newest first; page >= 1, page_size >= 1 (0: no limit). */
int sky_store_workflow_list(sky_store *s, const char *organization_id, int page,
                            int page_size, sky_workflow_list **out);
void sky_workflow_rec_free(sky_workflow_rec *r);
void sky_workflow_list_free(sky_workflow_list *l);

/* ---- scripts: replay plans (issue 18, docs/replay.md) ---------------- */

/* One version of a script. A script_id groups the versions of one
 * (organization, cache_key); each version has its own revision id. */
typedef struct sky_script_rec {
	char *script_revision_id; /* "sr_…" */
	char *script_id;          /* "s_…" */
	char *organization_id;
	char *cache_key;
	char *workflow_permanent_id;
	int version;  /* 1, 2, … */
	char *run_id; /* the run whose steps made it */
	char *run_type;
	char *goal_template;
	char *url;
	char *plan; /* JSON text */
	int64_t created_at, modified_at, deleted_at;
} sky_script_rec;

typedef struct sky_script_list {
	sky_script_rec *items;
	size_t count;
} sky_script_list;

typedef struct sky_script_new {
	const char *organization_id; /* NULL: the default organization */
	const char *cache_key;       /* required */
	const char *workflow_permanent_id;
	const char *run_id;
	const char *run_type; /* required */
	const char *goal_template;
	const char *url;
	const char *plan; /* required, JSON text */
} sky_script_new;

/* Store a new version for the key: version 1 with a fresh script_id, or
 * the newest live version + 1 under the same script_id. */
int sky_store_script_add(sky_store *s, const sky_script_new *in,
                         sky_script_rec **out);
/* The newest live version for (organization, cache_key); SKY_ENOTFOUND. */
int sky_store_script_find(sky_store *s, const char *organization_id,
                          const char *cache_key, sky_script_rec **out);
/* The newest live version of a script (version 0), or that version;
 * SKY_ENOTFOUND (also for another organization's or a deleted one). */
int sky_store_script_get(sky_store *s, const char *organization_id,
                         const char *script_id, int version,
                         sky_script_rec **out);
/* The newest version of each live script of the organization, newest
 * first. */
int sky_store_script_list(sky_store *s, const char *organization_id, int page,
                          int page_size, sky_script_list **out);
/* Every live version of a script, newest first; SKY_ENOTFOUND when it
 * has none. */
int sky_store_script_versions(sky_store *s, const char *organization_id,
                              const char *script_id, sky_script_list **out);
/* Soft-delete every version; SKY_ENOTFOUND when none is live. */
int sky_store_script_delete(sky_store *s, const char *organization_id,
                            const char *script_id);
void sky_script_rec_free(sky_script_rec *r);
void sky_script_list_free(sky_script_list *l);

/* ---- credentials (the vault) ------------------------------------------ */

/* A stored credential. Only `sealed` holds secrets (skyx_seal text,
 * aad = credential_id); the other columns are what the API may show. */
typedef struct sky_credential_rec {
	char *credential_id; /* "cred_…" */
	char *organization_id;
	char *name;
	char *credential_type; /* password | credit_card | secret */
	char *username;        /* password */
	char *totp_type;       /* password: authenticator, email, … none */
	char *totp_identifier;
	char *card_last4; /* credit_card */
	char *card_brand;
	char *secret_label; /* secret */
	char *sealed;
	int64_t created_at, modified_at;
} sky_credential_rec;

/* Insert `in` (credential_id set by the caller, who sealed with it;
 * created_at / modified_at stamped here). SKY_ENOTFOUND for an unknown
 * organization. */
int sky_store_credential_create(sky_store *s, const sky_credential_rec *in);
/* SKY_ENOTFOUND when absent or another organization's. */
int sky_store_credential_get(sky_store *s, const char *organization_id,
                             const char *credential_id,
                             sky_credential_rec **out);
/* Replace every field but the id, organization and created_at;
 * SKY_ENOTFOUND as get. */
int sky_store_credential_update(sky_store *s, const sky_credential_rec *in);
/* SKY_ENOTFOUND as get. */
int sky_store_credential_delete(sky_store *s, const char *organization_id,
                                const char *credential_id);

typedef struct sky_credential_list {
	sky_credential_rec *items;
	size_t count;
} sky_credential_list;

/* Newest first, filtered by type (NULL: all) and by `search` (NULL:
 * none), a case-insensitive substring of the name, username, secret
 * label, card brand or last four; page >= 1, page_size >= 1. */
int sky_store_credential_list(sky_store *s, const char *organization_id,
                              const char *credential_type, const char *search,
                              int page, int page_size,
                              sky_credential_list **out);
void sky_credential_rec_free(sky_credential_rec *r);
void sky_credential_list_free(sky_credential_list *l);

#endif
