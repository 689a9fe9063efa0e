/*
 * skyengine: runs. Submit a task run from the Skyvern Tasks API request
 * JSON, follow it, list, cancel. Runs execute in the background on the
 * engine's worker pool; results read back as the API's JSON shapes, so a
 * host can serve them as they are (tools/skyengine-server does).
 */
#ifndef SKYENGINE_RUN_H
#define SKYENGINE_RUN_H

#include "common.h"
#include "engine.h"

SKY_BEGIN_DECLS

#define SKY_SUBMIT_OPTIONS_VERSION 1

typedef struct sky_submit_options {
	unsigned int version;
	/* Organization the run belongs to; NULL = the default one. (In the
	 * read functions below, "*" means any organization: for hosts that
	 * checked access another way, such as a signed link.) */
	const char *organization_id;
	/* A client's idempotency key: a second submit with the same key
	 * (per organization) returns the first run instead of a new one. */
	const char *idempotency_key;
	/* Key that signs this run's webhooks (x-skyvern-signature); NULL =
	 * the engine's webhook key. Stored hashed, never logged. */
	const char *webhook_signing_key;
} sky_submit_options;

#ifdef __cplusplus
#  define SKY_SUBMIT_OPTIONS_INIT { SKY_SUBMIT_OPTIONS_VERSION }
#else
#  define SKY_SUBMIT_OPTIONS_INIT { .version = SKY_SUBMIT_OPTIONS_VERSION }
#endif

/*
 * Validate and store a task run request (the JSON body of
 * POST /v1/run/tasks). The run is durable when this returns; it executes
 * in the background.
 *
 * On success returns 0, *out_json is the run response (Tasks API shape,
 * status "created"), *http_status is 200 (or 200 with the existing run
 * for a repeated idempotency key).
 * On failure returns a negative code, *out_json is the API's error body
 * and *http_status the API's status: 422 validation ({"detail": [...]},
 * FastAPI shape), 400 bad URL, 404 unknown browser session.
 * out_json is owned by the caller (sky_free). opts may be NULL.
 */
SKY_API int sky_run_submit(sky_engine *engine, const char *request_json,
                           const sky_submit_options *opts, char **out_json,
                           int *http_status);

/* The run response JSON of a run (GET /v1/runs/{id}); SKY_ENOTFOUND when
 * the run does not exist in that organization (NULL = default). */
SKY_API int sky_run_get(sky_engine *engine, const char *organization_id,
                        const char *run_id, char **out_json);

/*
 * Cancel a run (POST /v1/runs/{id}/cancel). Returns 0 when the run was
 * created/queued/running and is now canceled (a running run stops within
 * one action). Otherwise a negative code with *http_status and
 * *error_json as the API answers: 404 unknown, 400 already final.
 */
SKY_API int sky_run_cancel(sky_engine *engine, const char *organization_id,
                           const char *run_id, char **error_json,
                           int *http_status);

/*
 * Block until the run reaches a final status or timeout_ms passes
 * (<= 0: no limit). Returns 0 with *out_json (run response) when final,
 * SKY_ETIMEDOUT otherwise (*out_json still filled with the current
 * state).
 */
SKY_API int sky_run_wait(sky_engine *engine, const char *run_id,
                         int timeout_ms, char **out_json);

#define SKY_LIST_OPTIONS_VERSION 2

typedef struct sky_list_options {
	unsigned int version;
	const char *organization_id; /* NULL = default */
	int page;                    /* >= 1, default 1 */
	int page_size;               /* >= 1, default 10 */
	/* Comma-separated statuses to keep ("running,queued"); NULL = all. */
	const char *statuses;
	/* Comma-separated run types (task_v1, task_v2); NULL = all. */
	const char *run_types;
	const char *sort;            /* "created_at" (default) | "modified_at" */
	int ascending;               /* 0 = newest first */
	/* Version 2: only tasks submitted with this `application`. */
	const char *application;
} sky_list_options;

#ifdef __cplusplus
#  define SKY_LIST_OPTIONS_INIT { SKY_LIST_OPTIONS_VERSION }
#else
#  define SKY_LIST_OPTIONS_INIT { .version = SKY_LIST_OPTIONS_VERSION }
#endif

/* GET /api/v1/tasks: a JSON array of task objects (legacy shape). */
SKY_API int sky_tasks_list(sky_engine *engine, const sky_list_options *opts,
                           char **out_json);

/*
 * Live view of a run's browser: JPEG frames of the tab it works in, while
 * it executes and someone watches. fn is called on a browser thread: copy
 * what you keep, return quickly, call no engine function. A run that is
 * not executing yet is watched from when it starts; frames stop when it
 * ends (its status says why). *watch_id (> 0) ends the watch with
 * sky_run_unwatch, after which fn is not called again. A watcher who
 * joins a screencast already running gets its newest frame at once, on
 * the caller's thread before sky_run_watch returns. The organization
 * is not checked here: look the run up first. SKY_EUNSUPPORTED when the
 * browser provider has no screencast.
 */
typedef void (*sky_frame_fn)(void *userdata, const unsigned char *jpeg,
                             size_t len, int width, int height,
                             const char *url);
SKY_API int sky_run_watch(sky_engine *engine, const char *run_id,
                          sky_frame_fn fn, void *userdata,
                          uint64_t *watch_id);
SKY_API void sky_run_unwatch(sky_engine *engine, uint64_t watch_id);

/*
 * Skyvern's legacy task routes. sky_task_submit_legacy: POST /api/v1/tasks
 * (version 1, a TaskRequest: navigation_goal, data_extraction_goal,
 * navigation_payload, complete_criterion, terminate_criterion,
 * application, ...) or POST /api/v2/tasks (version 2, a TaskV2Request),
 * submitted as the equivalent task-run request; `max_steps` > 0 is the
 * x-max-steps-override header. The answer: {"task_id"} (v1) or the
 * TaskV2 (v2); errors as sky_run_submit's. Version 3 is POST
 * /v1/run/tasks/download_files (a DownloadFilesRequest: navigation_goal,
 * url, max_steps_per_run, ...) run as a task v1; the answer is the run,
 * as sky_run_submit's.
 */
SKY_API int sky_task_submit_legacy(sky_engine *engine, int version,
                                   const char *request_json,
                                   const sky_submit_options *opts,
                                   int max_steps, char **out_json,
                                   int *http_status);
/* GET /api/v1/tasks/{id}: Skyvern's TaskResponse of a task v1;
 * SKY_ENOTFOUND ("Task <id> not found") otherwise. */
SKY_API int sky_task_get(sky_engine *engine, const char *organization_id,
                         const char *task_id, char **out_json);
/* GET /api/v2/tasks/{id}: Skyvern's TaskV2; SKY_ENOTFOUND. */
SKY_API int sky_task_v2_get(sky_engine *engine, const char *organization_id,
                            const char *task_id, char **out_json);
/* GET /api/v1/tasks/{id}/actions: the task's actions (Skyvern's Action),
 * in order; [] for an unknown task. */
SKY_API int sky_task_actions(sky_engine *engine, const char *organization_id,
                             const char *task_id, char **out_json);
/* GET /api/v1/runs: tasks v1 (Task) and v2 (WorkflowRun's keys), newest
 * first; `statuses` filters; [] past page 10, as Skyvern answers. */
SKY_API int sky_runs_list_legacy(sky_engine *engine,
                                 const sky_list_options *opts,
                                 char **out_json);

/* GET /api/v1/models: {"models": {name: label}}, the names a request's
 * model.model_name may use (config llm.models and llm.model). */
SKY_API int sky_models_list(sky_engine *engine, char **out_json);

/* GET /v1/runs: a JSON array of run summaries. */
SKY_API int sky_runs_list(sky_engine *engine, const sky_list_options *opts,
                          char **out_json);

/* GET /api/v1/tasks/{id}/steps: a JSON array of steps ordered by
 * (order, retry_index); "[]" for an unknown task, as the API does. */
SKY_API int sky_run_steps(sky_engine *engine, const char *organization_id,
                          const char *run_id, char **out_json);

/* GET /v1/runs/{id}/artifacts: a JSON array of artifacts. */
SKY_API int sky_run_artifacts(sky_engine *engine, const char *organization_id,
                              const char *run_id, char **out_json);

typedef enum sky_event_type {
	SKY_EVENT_RUN_STATUS = 1,    /* status changed; json = run response */
	SKY_EVENT_STEP_STARTED = 2,  /* json = the step */
	SKY_EVENT_STEP_FINISHED = 3, /* json = the step with its actions */
	SKY_EVENT_ACTION = 4,        /* json = {"action": ..., "result": ...} */
} sky_event_type;

typedef struct sky_event {
	unsigned int version;
	sky_event_type type;
	const char *run_id;
	const char *status;  /* run status (RUN_STATUS) or step status */
	int step_order;      /* -1 when not about a step */
	int retry_index;
	const char *json;    /* details, see sky_event_type; borrowed */
} sky_event;

/*
 * Receive events from every run of the engine. Called on worker threads,
 * concurrently; must not block for long and must not call back into the
 * engine's run functions for the same run synchronously. Returns an id
 * for sky_engine_unsubscribe(), or a negative code.
 */
typedef void (*sky_event_fn)(const sky_event *event, void *userdata);
SKY_API int sky_engine_subscribe(sky_engine *engine, sky_event_fn fn,
                                 void *userdata);
SKY_API void sky_engine_unsubscribe(sky_engine *engine, int subscription);

/* Free a string returned by the library. NULL-safe. */
SKY_API void sky_free(void *p);

SKY_END_DECLS

#endif
