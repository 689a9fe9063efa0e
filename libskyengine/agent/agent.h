/*
 * Internal: the agent executes one run: task v1 (a step loop: observe,
 * plan, act, record, decide) or task v2 (a planning loop of mini-goals,
 * each run as v1 steps in the same browser context). design.md §2 is the map;
 * docs/agent.md the details.
 */
#ifndef SKY_AGENT_H
#define SKY_AGENT_H

#include <jansson.h>
#include <stdint.h>

#include <skyengine/plugin/browser.h>
#include <skyengine/plugin/totp.h>
#include <skyengine/run.h>

#include "agent/config.h"
#include "net/http_client.h"
#include "planner/planner.h"
#include "store/store.h"

struct sky_llm;

/*
 * What the agent needs from whoever runs it, upward: asked through these
 * callbacks, each given `payload` (the host's per-run state). A NULL
 * callback is a host without that need: never canceled, never stopping,
 * events dropped, no waiting for pushed codes, no browser sessions, no
 * live views, direct connections, unsigned totp_url requests. Fields are
 * only appended; `version` says which the host knows.
 */
#define SKY_AGENT_CALLBACKS_VERSION 2
typedef struct sky_agent_callbacks {
	unsigned int version;
	/* 1 when the run was canceled (or the host is shutting down); the
	 * loop stops within one action. Each call is also a sign of
	 * progress (the engine's watchdog). */
	int (*canceled)(void *payload);
	/* 1 while the host is shutting down: the run parks (stays running,
	 * resumed at the next start) instead of ending. */
	int (*stopping)(void *payload);
	/* A step or action event of the run (json borrowed). */
	void (*emit)(sky_event_type type, const char *status, int order,
	             int retry, const char *json, void *payload);
	/* A counter that moves when something the run may wait for arrives
	 * (a pushed verification code), and a wait of at most `ms` for it
	 * to move from `seq`. */
	uint64_t (*change_seq)(void *payload);
	void (*wait_change)(uint64_t seq, int64_t ms, void *payload);
	/* The context (and its download dir) of browser session
	 * `session_id`, reserved for this run, borrowed until
	 * session_release; SKY_ENOTFOUND when the session is gone. */
	int (*session_attach)(const char *session_id, void **ctx,
	                      const char **download_dir, void *payload);
	void (*session_release)(void *payload);
	/* The run's browser context is open (live views may watch it), and
	 * is about to be closed or handed back. */
	void (*context_opened)(const sky_browser_provider *vt, void *ctx,
	                       void *payload);
	void (*context_leaving)(void *payload);
	/* The proxy for a context opened for `location_json` (the request's
	 * proxy_location; NULL = none): *proxy {"server", ...} or NULL for
	 * direct, *applied the record stored as the run's proxy_applied.
	 * The host's policy, shared with its browser sessions. */
	int (*proxy_for)(const char *location_json, const char *sticky_key,
	                 json_t **proxy, json_t **applied, void *payload);
	/* The key that signs the run's totp_url requests; malloc'd or
	 * NULL. */
	char *(*signing_key)(void *payload);
	void *payload;
	/* Version 2. Browser profiles: load the run's saved state into the context it
	 * just opened, before the first navigation (0 when the run names
	 * none; else the error says why the run cannot start), and keep
	 * the state of its own context before it is closed, if the run
	 * asked for that. May be NULL. */
	int (*context_prepare)(const sky_browser_provider *vt, void *ctx,
	                       void *payload);
	void (*context_closing)(const sky_browser_provider *vt, void *ctx,
	                        void *payload);
	/* The run's browser could not open a context: *browser
	 * becomes another instance to try (the next endpoint of a pool);
	 * nonzero when there is none. */
	int (*browser_retry)(void **browser, void *payload);
	/* The fields of credential `credential_id` (the run's
	 * organization's vault, or a credentials provider): 0 and *fields
	 * (a JSON object, the caller's), or a code and *why (malloc'd,
	 * naming no secret). */
	int (*credential)(const char *credential_id, json_t **fields,
	                  char **why, void *payload);
} sky_agent_callbacks;

#define SKY_AGENT_CALLBACKS_INIT                                               \
	{                                                                      \
		.version = SKY_AGENT_CALLBACKS_VERSION                         \
	}

/*
 * Everything one run reads: built by the host (engine/runtime.c) for
 * each run, borrowed for the length of sky_agent_execute.
 */
typedef struct sky_agent_env {
	sky_store *store;
	const char *data_dir; /* absolute; runs/<id> below it */
	const sky_agent_config *config;
	int max_steps; /* when the task names none */
	int max_retries_per_step;
	/* The browser and the model; when either could not be had, both
	 * may be NULL and `unavailable` says why (the run fails with it). */
	const sky_browser_provider *browser;
	void *browser_inst;
	struct sky_llm *llm;
	const char *unavailable;
	/* The TOTP provider, NULL when none is configured. */
	const sky_totp_provider *totp;
	void *totp_inst;
	sky_http_client *http;         /* outgoing requests (totp_url) */
	const sky_agent_callbacks *cb; /* NULL: none */
	/* Where runs/<id> (artifacts, downloads) go: absolute; NULL:
	 * data_dir. Artifact paths in the store are relative to it. */
	const char *artifact_root;
} sky_agent_env;

static inline const char *sky_agent_root(const sky_agent_env *env)
{
	return env->artifact_root ? env->artifact_root : env->data_dir;
}

/* Execute a claimed (or resumed) run to a final status. The task is in
 * `running`. Returns when the run is final, canceled or parked. */
void sky_agent_execute(const sky_agent_env *env, const sky_task_rec *task);

/* What one observation of the page gave. */
typedef struct sky_obs {
	json_t *snapshot; /* internals §1 */
	json_t *elements; /* flattened, internals §5 */
	char *tree;       /* element tree text (internals §2) */
	json_t *url_map;  /* {"u1": "https://..."} */
	json_t *state;    /* page_state: url, title, tabs, dialogs */
	char *url;
	char *title;
	char *page_text;
	unsigned char *png; /* screenshot, may be NULL */
	size_t png_len;
	int settle_ms, snapshot_ms, tree_ms, state_ms, screenshot_ms;
	/* A screenshot the model does not get is taken on a thread of its
	 * own while the step goes on (snapshot, prompt, model call): png is
	 * set only after sky_obs_screenshot_wait(). */
	struct sky_obs_shot *shot;
} sky_obs;

/* Where a step's time went, in ms (the step's output "timings_ms"). */
typedef struct sky_step_timing {
	int settle, snapshot, tree, state, screenshot; /* observe */
	int record;                                    /* artifacts */
	int prompt, llm, parse;                        /* plan */
	int act;
	int total;
} sky_step_timing;

void sky_obs_free(sky_obs *o);
/* Wait for a screenshot still being taken (png, png_len and
 * screenshot_ms are set after this; the latter is the time this waited). */
void sky_obs_screenshot_wait(sky_obs *o);

/* The run being executed. */
typedef struct sky_run {
	const sky_agent_env *env;
	const sky_task_rec *task;
	char *run_dir; /* <artifact root>/runs/<id> */
	const sky_browser_provider *bvt;
	void *browser;
	void *ctx;              /* the run's browser context */
	const char *session_id; /* the browser session it works in, whose
	                             context it borrows (NULL: its own) */
	char *download_dir;
	struct sky_llm *llm;
	json_t *payload;     /* navigation_payload or null */
	json_t *schema;      /* data_extraction_schema or null */
	json_t *mapping;     /* error_code_mapping or null */
	json_t *history;     /* internals §5 history, all steps */
	json_t *errors;      /* surfaced user error codes */
	json_t *output;      /* last extraction result, or NULL */
	json_t *downloads;   /* files downloaded so far */
	int64_t deadline_ms; /* monotonic */
	int max_steps;
	int max_retries;
	int totp_available;
	json_t *codes;  /* verification codes used (strings) */
	char *last_url; /* last page URL seen */
	/* current step */
	sky_step_rec *step;
	int next_order;        /* for v2: orders continue across goals */
	sky_step_timing t;     /* timings of the current step */
	char *last_error;      /* short text of the last failure */
	json_t *recent_errors; /* strings, newest last (max 5) */
	int resumed;
	int resume_retry;        /* retry index of the first step after a
	                             resume */
	sky_step_usage pending;  /* usage of calls made outside a step */
	int browser_lost;        /* a browser call failed with
	                             SKY_EBROWSER: check before a retry */
	json_t *secrets;         /* registered for the run (secrets.c) */
	json_t *llm_calls;       /* step id ("" outside a step) -> model
	                             calls so far: artifact names (llm.c) */
	json_t *unknown_effects; /* resumed: actions that may have submitted
	                             and whose outcome is unknown (intent.c) */
	json_t *plan_rec;        /* replay.c: the steps recorded as a plan */
	json_t *plan_step;       /* the step being recorded (borrowed) */
	int plan_probe_pending;  /* a click's effect is to be read before
	                            the step's next action */
	json_t *plan_extraction; /* where the last extraction's data was
	                             found, until a plan step takes it */
	json_t *cred;            /* the run's credential's fields, or NULL
	                             (credential.c) */
	json_t *cred_secrets;    /* its values registered as secrets */
} sky_run;

/* Outcome of a v1 loop, a v2 mini-goal or a v2 run. */
typedef enum sky_agent_result {
	SKY_AGENT_COMPLETED = 0,
	SKY_AGENT_TERMINATED,
	SKY_AGENT_FAILED,
	SKY_AGENT_CANCELED,
	SKY_AGENT_TIMED_OUT,
	SKY_AGENT_PARKED,
} sky_agent_result;

typedef struct sky_v1_goal {
	const char *goal;            /* what to reach */
	const char *big_goal;        /* v2: the whole user goal, context */
	int max_steps;               /* orders this goal may use */
	int extract_only;            /* schema task without navigation */
	const char *extraction_goal; /* v2 extract mini-goals */
} sky_v1_goal;

/* Runs the v1 step loop for one goal; *reason receives the failure or
 * termination reason (malloc'd). */
sky_agent_result sky_agent_v1(sky_run *r, const sky_v1_goal *g, char **reason);
/* Runs the v2 planning loop. */
sky_agent_result sky_agent_v2(sky_run *r, char **reason);

/* run.c: when the run's browser is gone (Chromium killed or crashed),
 * close its context and open a new one (the plugin relaunches the
 * browser) at the last page the run reached. 0 when the context was
 * alive or was reopened; else a code and *why (malloc'd). */
int sky_agent_reopen_if_lost(sky_run *r, char **why);

/* replay.c (docs/replay.md). Recording: the step loop notes each
 * observation and each action that succeeded; sky_agent_plan_save stores
 * the recorded plan when the run completes (a new version only when it
 * differs from the newest one). */
void sky_agent_plan_begin_step(sky_run *r, const sky_obs *o);
/* Before a step's next action: what an earlier click of the step made
 * go is read now (a settle and a snapshot), since this action may change
 * the page again; a click that was the step's last action costs nothing
 * here, its effect is read from the next observation. */
void sky_agent_plan_before_action(sky_run *r);
/* result: the action's result (may be NULL): a click that did not
 * navigate is checked for elements it made go (before the next action,
 * or at the next observation). */
void sky_agent_plan_note(sky_run *r, const sky_obs *o, const json_t *action,
                         const json_t *result);
int sky_agent_plan_save(sky_run *r);
/* After an extraction from the page `o` gave `value`: note where on the
 * page each value was found (r->plan_extraction), for the plan. */
void sky_agent_plan_locate(sky_run *r, const sky_obs *o, const json_t *value);
/* The key a run's plan is stored under (malloc'd): its
 * workflow_permanent_id, "client:" + the request's cache_key, or
 * "k_" + SHA-256 of (run type, goal template, start URL without query). */
char *sky_agent_plan_key(const sky_task_rec *t);
/* The goal with the payload's values written as {{key}} (malloc'd). */
char *sky_agent_plan_goal_template(const sky_task_rec *t);
/* Replay a plan from the current page. COMPLETED when every step
 * replayed; FAILED with report["mismatch"] (and *reason) when a step did
 * not match, the run's steps so far recorded; CANCELED, PARKED,
 * TIMED_OUT. report["steps_replayed"] (an array) gets each step
 * replayed. */
sky_agent_result sky_agent_replay(sky_run *r, const json_t *plan,
                                  json_t *report, char **reason);

/* number.c: a number as a page writes it ("1,234.56", "1.234,56 €",
 * "1 234,56" with no-break or thin spaces, "USD 12.50", "(12.50)",
 * "12,5 %"; docs/replay.md "Numbers"). hint: the decimal mark the
 * recorded run's text showed ('.' or ','; 0: none), which reads a lone
 * separator before exactly three digits ("1,234"); without it that one
 * groups thousands. 0 and *out, or -1 when the text is not a number
 * (a word before it, a grouping that is not one). */
typedef struct sky_number {
	double value;
	int frac_digits; /* digits after the decimal mark */
	char decimal;    /* the decimal mark the text shows or implies, or 0 */
	int ambiguous;   /* a lone separator before 3 digits, read by hint */
	int percent;     /* a "%" followed it (the value is as written) */
} sky_number;
int sky_agent_number_parse(const char *text, char hint, sky_number *out);
/* The next number in text at or after byte `from` with what belongs to
 * it (a sign, parentheses, a currency, "%"): 1 and its bytes
 * [*start, *start + *len), or 0. */
int sky_agent_number_next(const char *text, size_t from, size_t *start,
                          size_t *len);

/* secrets.c: credentials in the run's payload and goal are registered
 * secrets while it executes (collect after init, release at the end). */
void sky_agent_secrets_collect(sky_run *r);
void sky_agent_secrets_release(sky_run *r);

/* credential.c: the run's credential (notes "credential_id"): fetched
 * once at the start (0 when the run names none; else a code and *why),
 * its placeholders put in r->payload, its values registered as secrets
 * and masked like codes until release. */
int sky_agent_credential_load(sky_run *r, char **why);
void sky_agent_credential_release(sky_run *r);
/* 1 when `text` holds a {{credential.…}} placeholder. */
int sky_agent_credential_has_placeholder(const char *text);
/* `text` with every placeholder replaced by the value (malloc'd; the
 * caller wipes it), or NULL and *why for a field the credential lacks. */
char *sky_agent_credential_fill(const sky_run *r, const char *text, char **why);
/* The current code of the credential's TOTP secret (malloc'd), or NULL. */
char *sky_agent_credential_totp(const sky_run *r);

/* observe.c. with_screenshot: 0 none, 1 taken in the observation (for
 * the model), SKY_OBS_SHOT_RECORDING for the recording: when the model
 * gets no image it is taken beside the rest of the step, and the caller
 * waits for it (sky_obs_screenshot_wait) before acting. */
#define SKY_OBS_SHOT_RECORDING 2
int sky_agent_observe(sky_run *r, int with_screenshot, sky_obs **out);
/* Record downloads that finished since the last observation, waiting up
 * to `wait_ms` for those still in progress (the end of a run). */
void sky_agent_collect_downloads(sky_run *r, int wait_ms);
void sky_agent_page_input(const sky_obs *o, sky_planner_page *page);

/* llm.c: one model call; adds usage to the current step. */
int sky_agent_llm(sky_run *r, const sky_planner_prompt *p, const sky_obs *o,
                  char **answer);

/* act.c: one action; *result is the result object. */
int sky_agent_act(sky_run *r, const json_t *action, const sky_obs *o,
                  json_t **result);

/* extract.c */
int sky_agent_extract(sky_run *r, const char *goal, const char *extraction_goal,
                      json_t **value);
/* What a data_extraction_schema asks for that output lacks ("a, b",
 * malloc'd), or NULL when answered (agent/run.c). */
char *sky_agent_missing_data(const json_t *schema, const json_t *output);
void sky_agent_surface_errors(sky_run *r, const char *reasoning,
                              const json_t *action_errors);
char *sky_agent_failure_summary(sky_run *r);
/* check-goal: SKY_GOAL_* and a reason (malloc'd). `current`: the
 * current step's actions so far ([{"action","result"}], or NULL), which
 * the history gets only when the step is finished. */
int sky_agent_check_goal(sky_run *r, const char *goal, sky_obs *o,
                         const json_t *current, char **reason);

/* totp.c: ask the run's totp_url for a code once (signed like
 * webhooks); the code (registered as a secret) or NULL and *why. */
char *sky_agent__totp_url_try(sky_run *r, char **why);
/* act.c: a copy of `text` with every verification code the run used
 * replaced by "******"; NULL when the run used none (or no memory). */
char *sky_agent_mask_codes(const sky_run *r, const char *text);
/* The same for JSON text, in string values only (the result is JSON). */
char *sky_agent_mask_codes_json(const sky_run *r, const char *json_text);

/* intent.c: write-ahead of side effects. Store `action` as issued (with
 * a description of its target) before it is dispatched; its action id or
 * NULL. */
char *sky_agent_intent_issue(sky_run *r, const json_t *action,
                             const sky_obs *o);
/* 1 (and *why, malloc'd) when `action` repeats an action that may have
 * submitted something and whose outcome a crash made unknown. */
int sky_agent_intent_blocked(const sky_run *r, const json_t *action,
                             const sky_obs *o, char **why);
/* Resume: turn the run's still-issued actions into `unknown` (store and
 * `acts`) and remember those that may have submitted something. */
void sky_agent_intent_resume(sky_run *r, sky_action_list *acts);

/* record.c */
int sky_agent_artifact(sky_run *r, const char *kind, const char *name,
                       const void *data, size_t len, int redact);
void sky_agent_note_error(sky_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sky_agent_write_recording(sky_run *r);
int sky_agent_timed_out(sky_run *r);

/* env.c: the host's callbacks for the run, each with the default of
 * a host that gave none (see sky_agent_callbacks). */
int sky_agent_canceled(sky_run *r);
int sky_agent_stopping(sky_run *r);
void sky_agent_emit(sky_run *r, sky_event_type type, const char *status,
                    int order, int retry, const char *json);
uint64_t sky_agent_change_seq(sky_run *r);
void sky_agent_wait_change(sky_run *r, uint64_t seq, int64_t ms);
int sky_agent_session_attach(sky_run *r, const char *session_id, void **ctx,
                             const char **download_dir);
void sky_agent_session_release(sky_run *r);
/* r->bvt and r->ctx are the context opened. */
void sky_agent_context_opened(sky_run *r);
/* Another browser instance for a context that could not be opened. */
int sky_agent_browser_retry(sky_run *r);
void sky_agent_context_leaving(sky_run *r);
int sky_agent_context_prepare(sky_run *r);
void sky_agent_context_closing(sky_run *r);
/* The proxy for the run's own context (its proxy_location). */
int sky_agent_proxy_for(sky_run *r, json_t **proxy, json_t **applied);
char *sky_agent_signing_key(sky_run *r);
/* The host's credential callback; SKY_EUNSUPPORTED when it has none. */
int sky_agent_credential_fields(sky_run *r, const char *credential_id,
                                json_t **fields, char **why);

#endif
