/*
 * skyengine: runs, typed. Submit a task with sky_task_options, read the
 * run back through sky_run accessors, wait for it, cancel it, follow its
 * events and its browser. Runs execute in the background on the engine's
 * worker pool and are durable: a sky_run is a snapshot of the stored run,
 * taken when the call returned.
 *
 * The Skyvern Tasks API's JSON shapes of the same runs (what an HTTP host
 * serves) are in tasks_api.h.
 */
#ifndef SKYENGINE_RUN_H
#define SKYENGINE_RUN_H

#include "common.h"
#include "engine.h"

SKY_BEGIN_DECLS

/* A snapshot of one run. Opaque; read it through the accessors below,
 * free it with sky_run_free(). */
typedef struct sky_run sky_run;

/* A run's status. The values are part of the ABI. */
typedef enum sky_run_status {
	SKY_RUN_CREATED = 0,    /* stored, not yet queued */
	SKY_RUN_QUEUED = 1,     /* waiting for a worker */
	SKY_RUN_RUNNING = 2,    /* a worker executes it */
	SKY_RUN_COMPLETED = 3,  /* final: the goal was reached */
	SKY_RUN_FAILED = 4,     /* final: see sky_run_failure_reason() */
	SKY_RUN_TERMINATED = 5, /* final: the agent gave up (a terminate
	                         * criterion, an impossible goal) */
	SKY_RUN_TIMED_OUT = 6,  /* final: out of steps or time */
	SKY_RUN_CANCELED = 7, /* final: sky_run_cancel() or a closed session */
} sky_run_status;

/* The Tasks API name of a status ("completed"); static text, "unknown"
 * for a value outside the enum. */
SKY_API const char *sky_run_status_name(sky_run_status status);

/* 1 for the final statuses (completed, failed, terminated, timed_out,
 * canceled), else 0. */
SKY_API int sky_run_status_is_final(sky_run_status status);

#define SKY_TASK_OPTIONS_VERSION 1

/*
 * A task to run. Initialise with SKY_TASK_OPTIONS_INIT or
 * sky_task_options_init(); fields are only ever appended, and a struct
 * with an unknown `version` is refused (SKY_EINVALID). Strings are
 * borrowed for the duration of the call only. NULL/0 means "not given".
 */
typedef struct sky_task_options {
	unsigned int version;

	/* What to do, in plain words. Required (non-empty). */
	const char *prompt;
	/* The page to start from (http/https). Optional for skyvern-2.0. */
	const char *url;
	/* "skyvern-2.0" (the default, as the Tasks API's: plans mini-goals,
	 * a task_v2 run) or "skyvern-1.0" (one goal, step by step: a
	 * task_v1 run). */
	const char *engine;
	const char *title;
	/* JSON text: the shape of the output (a JSON Schema or an example).
	 * The run's output then follows it. */
	const char *data_extraction_schema;
	/* JSON text: values the agent may type into forms. */
	const char *navigation_payload;
	/* JSON text: {"CODE": "when this happens"}, error codes the agent
	 * reports in the run's errors. */
	const char *error_code_mapping;
	/* Steps before the run times out; 0: the engine's max_steps. */
	int max_steps;
	/* POSTed the final run (Tasks API shape) when it ends. */
	const char *webhook_url;
	/* Where the run gets one-time codes: pushed codes for this
	 * identifier, or a URL the engine asks. */
	const char *totp_identifier;
	const char *totp_url;
	/* Continue in this live browser session (tasks_api.h). */
	const char *browser_session_id;
	/* JSON text: a proxy location ("\"RESIDENTIAL\"", a geo target, or
	 * {"url": ...}); NULL: the engine's configured default. */
	const char *proxy_location;
	/* A second submit with the same key (per organization) answers the
	 * first run instead of creating one. */
	const char *idempotency_key;
	/* Signs this run's webhooks instead of the engine's key; stored
	 * hashed, never logged. */
	const char *webhook_signing_key;
	/*
	 * Any other field of a Tasks API task request (POST /v1/run/tasks),
	 * as a JSON object text: {"extra_http_headers": {...}, "model":
	 * {...}, ...}. A typed field above that is set wins over the same
	 * key here. Validated like an HTTP request; NULL for none.
	 */
	const char *request_json;
} sky_task_options;

#ifdef __cplusplus
#	define SKY_TASK_OPTIONS_INIT                                          \
		{                                                              \
			SKY_TASK_OPTIONS_VERSION                               \
		}
#else
#	define SKY_TASK_OPTIONS_INIT                                          \
		{                                                              \
			.version = SKY_TASK_OPTIONS_VERSION                    \
		}
#endif

/* Zero `opts` and set its version. Returns 0, or SKY_EINVALID for a
 * version this library does not know. */
SKY_API int sky_task_options_init(sky_task_options *opts, unsigned int version);

/*
 * Validate and store a run of `opts` for `organization_id` (NULL: the
 * default organization; not SKY_ORGANIZATION_ANY). The run is durable
 * when this returns and executes in the background; *out is its
 * snapshot (status created, or the earlier run for a repeated
 * idempotency key). On failure *out is NULL: SKY_EINVALID for a request
 * the Tasks API would refuse (sky_error_last() says which field and
 * why), SKY_ENOTFOUND for an unknown organization or browser session,
 * SKY_EBUSY for a session that is running another run.
 */
SKY_API int sky_run_submit(sky_run **out, sky_engine *engine,
                           const char *organization_id,
                           const sky_task_options *opts);

/* A fresh snapshot of a run. SKY_ENOTFOUND when the run does not exist
 * in the organization (NULL: default; SKY_ORGANIZATION_ANY: any). */
SKY_API int sky_run_get(sky_run **out, sky_engine *engine,
                        const char *organization_id, const char *run_id);

/*
 * Block the calling thread until the run reaches a final status or
 * timeout_ms passes (<= 0: no limit). Returns 0 with *out final, or
 * SKY_ETIMEDOUT with *out the current snapshot (still to be freed), or
 * SKY_ENOTFOUND with *out NULL. Wakes on the engine's own changes at
 * once and re-reads the store at least once a second.
 */
SKY_API int sky_run_wait(sky_run **out, sky_engine *engine,
                         const char *organization_id, const char *run_id,
                         int timeout_ms);

/*
 * Cancel a created, queued or running run; a running one stops within
 * one action. SKY_ENOTFOUND for a run not in the organization;
 * SKY_EINVALID for a run already final (sky_error_last() names its
 * status).
 */
SKY_API int sky_run_cancel(sky_engine *engine, const char *organization_id,
                           const char *run_id);

/* Free a snapshot. NULL-safe. */
SKY_API void sky_run_free(sky_run *run);

/*
 * Accessors. Strings are borrowed: they live as long as the sky_run and
 * are never NULL where the comment says so. A snapshot never changes;
 * sky_run_get() again for news.
 */
/* "tsk_…" (task v1) or "tsk_v2_…"; never NULL. */
SKY_API const char *sky_run_id(const sky_run *run);
SKY_API sky_run_status sky_run_status_get(const sky_run *run);
/* "task_v1" or "task_v2"; never NULL. */
SKY_API const char *sky_run_type(const sky_run *run);
/* Why a failed, terminated or timed-out run ended; NULL otherwise. */
SKY_API const char *sky_run_failure_reason(const sky_run *run);
/* The extracted output, JSON text (the data_extraction_schema's shape
 * when one was given); NULL until the run produced one. */
SKY_API const char *sky_run_output_json(const sky_run *run);
/* The errors the agent reported (error_code_mapping), a JSON array
 * text; NULL when none. */
SKY_API const char *sky_run_errors_json(const sky_run *run);
/* The run's prompt and start URL as stored (URL normalized; NULL when
 * none was given). */
SKY_API const char *sky_run_prompt(const sky_run *run);
SKY_API const char *sky_run_url(const sky_run *run);
/* The title given at submit; NULL when none. */
SKY_API const char *sky_run_title(const sky_run *run);
/* Steps taken so far (retries included). */
SKY_API int sky_run_step_count(const sky_run *run);
/* Times in milliseconds since the Unix epoch (UTC); 0 for a moment that
 * has not happened yet (queued, started, finished). */
SKY_API int64_t sky_run_created_at(const sky_run *run);
SKY_API int64_t sky_run_modified_at(const sky_run *run);
SKY_API int64_t sky_run_queued_at(const sky_run *run);
SKY_API int64_t sky_run_started_at(const sky_run *run);
SKY_API int64_t sky_run_finished_at(const sky_run *run);
/* The browser session the run works in; NULL when none. */
SKY_API const char *sky_run_browser_session_id(const sky_run *run);
/* The workflow the run published or was started from; NULL when none. */
SKY_API const char *sky_run_workflow_id(const sky_run *run);

/*
 * Live view of a run's browser: JPEG frames of the tab it works in, while
 * it executes and someone watches. fn is called on a browser thread: copy
 * what you keep, return quickly, call no engine function. A run that is
 * not executing yet is watched from when it starts; frames stop when it
 * ends (its status says why). *watch_id (> 0) ends the watch with
 * sky_run_unwatch, after which fn is not called again. A watcher who
 * joins a screencast already running gets its newest frame at once, on
 * the caller's thread before sky_run_watch returns. Neither call waits
 * for the browser: an engine thread starts and stops the screencast
 * (a start that fails is logged). SKY_ENOTFOUND when
 * the run does not exist in `organization_id` (engine.h: NULL for the
 * default organization, SKY_ORGANIZATION_ANY for any); SKY_EUNSUPPORTED
 * when the browser provider has no screencast.
 */
typedef void (*sky_frame_fn)(void *userdata, const unsigned char *jpeg,
                             size_t len, int width, int height,
                             const char *url);
SKY_API int sky_run_watch(uint64_t *watch_id, sky_engine *engine,
                          const char *organization_id, const char *run_id,
                          sky_frame_fn fn, void *userdata);
SKY_API void sky_run_unwatch(sky_engine *engine, uint64_t watch_id);

typedef enum sky_event_type {
	SKY_EVENT_RUN_STATUS = 1,    /* status changed; json = run response */
	SKY_EVENT_STEP_STARTED = 2,  /* json = the step */
	SKY_EVENT_STEP_FINISHED = 3, /* json = the step with its actions */
	SKY_EVENT_ACTION = 4,        /* json = {"action": ..., "result": ...} */
} sky_event_type;

/* An event. Everything in it is borrowed for the callback's duration.
 * `json` is in the Tasks API's shapes (tasks_api.h). */
typedef struct sky_event {
	unsigned int version;
	sky_event_type type;
	const char *run_id;
	const char *status; /* run status (RUN_STATUS) or step status */
	int step_order;     /* -1 when not about a step */
	int retry_index;
	const char *json; /* details, see sky_event_type */
} sky_event;

/*
 * Receive events from every run of the engine (of every organization).
 * fn is called on worker threads, possibly concurrently: it must be
 * thread-safe, must not block for long, and must not wait for the run
 * the event is about (sky_run_wait() would deadlock a worker). Any number
 * of subscribers may be registered. *subscription receives the id for
 * sky_engine_unsubscribe().
 */
typedef void (*sky_event_fn)(const sky_event *event, void *userdata);
SKY_API int sky_engine_subscribe(int *subscription, sky_engine *engine,
                                 sky_event_fn fn, void *userdata);
/*
 * Stop a subscription. When this returns, fn is not running for it on
 * any other thread and will not be called again, so its userdata may be
 * freed. Called from inside that subscription's own callback it cannot
 * wait for itself: it returns at once, and no later call follows.
 * Unknown ids are ignored.
 */
SKY_API void sky_engine_unsubscribe(sky_engine *engine, int subscription);

SKY_END_DECLS

#endif
