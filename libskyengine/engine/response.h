/*
 * Internal: the Tasks API's JSON shapes built from store records (run
 * response, legacy task object, step, run summary, artifact, webhook
 * payload). Every key of the contract is present, nulls included, except
 * where the contract omits nulls (steps).
 */
#ifndef SKY_ENGINE_RESPONSE_H
#define SKY_ENGINE_RESPONSE_H

#include <jansson.h>

#include "store/store.h"

typedef struct sky_response_ctx {
	sky_store *store;
	/* Base URL the artifacts and viewer are served under
	 * ("http://127.0.0.1:8000"); NULL: file:// URLs into data_dir and
	 * no app_url. */
	const char *public_url;
	const char *data_dir; /* the artifact root (artifacts.root) */
	/* Key that signs artifact and viewer URLs, so a browser can open
	 * them without an x-api-key header; NULL: URLs are unsigned (the
	 * route then needs the header). */
	const char *url_key;
	int url_ttl_s; /* lifetime of a signed URL; 0: 7 days */
} sky_response_ctx;

/* GET /v1/runs/{id} */
json_t *sky_response_run(const sky_response_ctx *c, const sky_task_rec *t);
/* GET /api/v1/tasks item (TaskResponse) */
json_t *sky_response_task(const sky_response_ctx *c, const sky_task_rec *t);
/* GET /api/v2/tasks/{id}: Skyvern's TaskV2, by alias (task_id). */
json_t *sky_response_task_v2(const sky_task_rec *t);
/* GET /api/v1/tasks/{id}/actions item: Skyvern's Action. */
json_t *sky_response_action(const sky_task_rec *t, const sky_action_rec *a);
/* GET /api/v1/runs item: a Task (v1), or a WorkflowRun's keys (v2). */
json_t *sky_response_task_model(const sky_task_rec *t);
/* GET /api/v1/tasks/{id}/steps item (nulls omitted) */
json_t *sky_response_step(const sky_step_rec *st);
/* GET /v1/runs item */
json_t *sky_response_run_summary(const sky_task_rec *t);
/* GET /v1/runs/{id}/artifacts item */
json_t *sky_response_artifact(const sky_response_ctx *c,
                              const sky_artifact_rec *a);
/* The webhook body: TaskResponse minus request, updated with the run
 * response minus run_request. */
json_t *sky_response_webhook_payload(const sky_response_ctx *c,
                                     const sky_task_rec *t);
/* URL (or file:// path) of an artifact file; malloc'd. */
char *sky_response_artifact_url(const sky_response_ctx *c,
                                const sky_artifact_rec *a);

/* "<public_url><path>?expires=<unix s>&signature=<hex>" (or unsigned
 * without url_key); malloc'd. `path` starts with '/'. */
char *sky_response_signed_url(const sky_response_ctx *c, const char *path);
/* 1 if `signature` is the valid, unexpired signature of `path` at
 * `expires` (unix seconds) under c->url_key. Constant-time. */
int sky_response_verify_url(const sky_response_ctx *c, const char *path,
                            const char *expires, const char *signature);

#endif
