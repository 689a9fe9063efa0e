/*
 * skyengine: the Skyvern Tasks API adapter. The same runs as run.h, and
 * the sessions, workflows, artifacts, files and codes around them, read
 * and written in the JSON shapes of Skyvern's HTTP API, with the HTTP
 * status each answer would have, so that an HTTP host can serve them as
 * they are. tools/skyengine-server is built on this header; an embedder
 * who does not speak HTTP wants run.h instead.
 *
 * Conventions (docs/api.md):
 *   - Every function named sky_tasks_api_* answers in the API's JSON:
 *     0 and *out_json (JSON text, freed with sky_free()) with
 *     *http_status 200; or a negative SKY_E* code with *out_json the
 *     API's error body and *http_status its status (422 with FastAPI's
 *     {"detail": [{type, loc, msg, input}]}, 400, 404, 409); or a
 *     negative code with *out_json NULL for an unexpected failure (serve
 *     a 500; sky_error_last() says why). `http_status` may be NULL. The
 *     functions without an http_status answer 0 or a negative code
 *     only.
 *   - Out-parameters come first; then the engine; then the caller's
 *     organization (engine.h: NULL for the default one,
 *     SKY_ORGANIZATION_ANY for any).
 *   - The comments name the route each function serves.
 */
#ifndef SKYENGINE_TASKS_API_H
#define SKYENGINE_TASKS_API_H

#include "common.h"
#include "engine.h"
#include "run.h"

SKY_BEGIN_DECLS

/* --- runs ---------------------------------------------------------------- */

#define SKY_SUBMIT_OPTIONS_VERSION 2

/* How to store a request (version 2: the organization became an
 * argument of the functions). */
typedef struct sky_submit_options {
	unsigned int version;
	/* A client's idempotency key: a second submit with the same key
	 * (per organization) returns the first run instead of a new one. */
	const char *idempotency_key;
	/* Key that signs this run's webhooks (x-skyvern-signature); NULL =
	 * the engine's webhook key. Stored hashed, never logged. */
	const char *webhook_signing_key;
} sky_submit_options;

#ifdef __cplusplus
#	define SKY_SUBMIT_OPTIONS_INIT                                        \
		{                                                              \
			SKY_SUBMIT_OPTIONS_VERSION                             \
		}
#else
#	define SKY_SUBMIT_OPTIONS_INIT                                        \
		{                                                              \
			.version = SKY_SUBMIT_OPTIONS_VERSION                  \
		}
#endif

/* Zero `opts` and set its version; SKY_EINVALID for an unknown one. */
SKY_API int sky_submit_options_init(sky_submit_options *opts,
                                    unsigned int version);

/*
 * POST /v1/run/tasks: validate and store a task run request (the JSON
 * body). The run is durable when this returns; it executes in the
 * background. *out_json is the run response (status "created"), or the
 * existing run for a repeated idempotency key. Errors: 422 validation,
 * 400 bad URL, 404 unknown browser session, 409 busy session. `opts`
 * may be NULL.
 */
SKY_API int sky_tasks_api_run_submit(char **out_json, int *http_status,
                                     sky_engine *engine,
                                     const char *organization_id,
                                     const char *request_json,
                                     const sky_submit_options *opts);

/* GET /v1/runs/{id}: the run response; SKY_ENOTFOUND. */
SKY_API int sky_tasks_api_run_get(char **out_json, sky_engine *engine,
                                  const char *organization_id,
                                  const char *run_id);

/* POST /v1/runs/{id}/cancel: 0 (and *out_json NULL) when the run was
 * created/queued/running and is now canceled; else 404 unknown, 400
 * already final. */
SKY_API int sky_tasks_api_run_cancel(char **out_json, int *http_status,
                                     sky_engine *engine,
                                     const char *organization_id,
                                     const char *run_id);

/* sky_run_wait() answering the run response: 0 when final,
 * SKY_ETIMEDOUT with *out_json the current state. */
SKY_API int sky_tasks_api_run_wait(char **out_json, sky_engine *engine,
                                   const char *organization_id,
                                   const char *run_id, int timeout_ms);

#define SKY_LIST_OPTIONS_VERSION 3

/* Paging and filters of the list functions (version 3: the
 * organization became an argument of the functions). */
typedef struct sky_list_options {
	unsigned int version;
	int page;      /* >= 1, default 1 */
	int page_size; /* >= 1, default 10 */
	/* Comma-separated statuses to keep ("running,queued"); NULL = all. */
	const char *statuses;
	/* Comma-separated run types (task_v1, task_v2); NULL = all. Read by
	 * sky_tasks_api_runs_list only. */
	const char *run_types;
	const char *sort; /* "created_at" (default) | "modified_at" */
	int ascending;    /* 0 = newest first */
	/* Only tasks submitted with this `application`. */
	const char *application;
} sky_list_options;

#ifdef __cplusplus
#	define SKY_LIST_OPTIONS_INIT                                          \
		{                                                              \
			SKY_LIST_OPTIONS_VERSION                               \
		}
#else
#	define SKY_LIST_OPTIONS_INIT                                          \
		{                                                              \
			.version = SKY_LIST_OPTIONS_VERSION                    \
		}
#endif

/* Zero `opts` and set its version; SKY_EINVALID for an unknown one. */
SKY_API int sky_list_options_init(sky_list_options *opts, unsigned int version);

/* GET /v1/runs: a JSON array of run summaries. An unknown status or run
 * type: SKY_EINVALID. `opts` may be NULL. */
SKY_API int sky_tasks_api_runs_list(char **out_json, sky_engine *engine,
                                    const char *organization_id,
                                    const sky_list_options *opts);
/* GET /api/v1/tasks: a JSON array of task objects (legacy shape): the
 * tasks v1, including the sub-tasks of v2 runs. */
SKY_API int sky_tasks_api_tasks_list(char **out_json, sky_engine *engine,
                                     const char *organization_id,
                                     const sky_list_options *opts);
/* GET /api/v1/runs: tasks v1 (Task) and v2 (WorkflowRun's keys), newest
 * first; `statuses` filters; [] past page 10, as Skyvern answers. */
SKY_API int sky_tasks_api_runs_list_legacy(char **out_json, sky_engine *engine,
                                           const char *organization_id,
                                           const sky_list_options *opts);

/* GET /api/v1/tasks/{id}/steps: a JSON array of steps ordered by
 * (order, retry_index); "[]" for an unknown task, as the API does. */
SKY_API int sky_tasks_api_run_steps_list(char **out_json, sky_engine *engine,
                                         const char *organization_id,
                                         const char *run_id);
/* GET /v1/runs/{id}/artifacts: a JSON array of artifacts;
 * SKY_ENOTFOUND. */
SKY_API int sky_tasks_api_run_artifacts_list(char **out_json,
                                             sky_engine *engine,
                                             const char *organization_id,
                                             const char *run_id);
/* GET /v1/runs/{id}/timeline: a task v2's timeline (Skyvern's
 * WorkflowRunTimeline list, newest first). SKY_ENOTFOUND ("Run not
 * found <id>"); SKY_EUNSUPPORTED for a task v1. */
SKY_API int sky_tasks_api_run_timeline(char **out_json, sky_engine *engine,
                                       const char *organization_id,
                                       const char *run_id);
/*
 * POST /v1/runs/{id}/retry_webhook: send a run's webhook once, now, to
 * `webhook_url` or the run's own. *out_json receives the report
 * ({run_id, run_type, default_webhook_url, target_webhook_url, payload,
 * headers, status_code, latency_ms, response_body, error}).
 * `signing_key` signs it (the caller's API key). SKY_ENOTFOUND for an
 * unknown run; SKY_EINVALID (with *out_json an error body) when there is
 * no URL to send to.
 */
SKY_API int sky_tasks_api_run_webhook_send(char **out_json, sky_engine *engine,
                                           const char *organization_id,
                                           const char *run_id,
                                           const char *webhook_url,
                                           const char *signing_key);

/*
 * Skyvern's legacy task routes: POST /api/v1/tasks (version 1, a
 * TaskRequest), POST /api/v2/tasks (version 2, a TaskV2Request),
 * submitted as the equivalent task-run request; `max_steps` > 0 is the
 * x-max-steps-override header. The answer: {"task_id"} (v1) or the
 * TaskV2 (v2). Version 3 is POST /v1/run/tasks/download_files (a
 * DownloadFilesRequest) run as a task v1; the answer is the run.
 */
SKY_API int sky_tasks_api_task_submit_legacy(
    char **out_json, int *http_status, sky_engine *engine,
    const char *organization_id, int version, const char *request_json,
    const sky_submit_options *opts, int max_steps);
/* GET /api/v1/tasks/{id}: Skyvern's TaskResponse of a task v1;
 * SKY_ENOTFOUND ("Task <id> not found") otherwise. */
SKY_API int sky_tasks_api_task_get(char **out_json, sky_engine *engine,
                                   const char *organization_id,
                                   const char *task_id);
/* GET /api/v2/tasks/{id}: Skyvern's TaskV2; SKY_ENOTFOUND. */
SKY_API int sky_tasks_api_task_v2_get(char **out_json, sky_engine *engine,
                                      const char *organization_id,
                                      const char *task_id);
/* GET /api/v1/tasks/{id}/actions: the task's actions (Skyvern's Action),
 * in order; [] for an unknown task. */
SKY_API int sky_tasks_api_task_actions_list(char **out_json, sky_engine *engine,
                                            const char *organization_id,
                                            const char *task_id);
/* GET /api/v1/models: {"models": {name: label}}, the names a request's
 * model.model_name may use (config llm.models and llm.model). */
SKY_API int sky_tasks_api_models_list(char **out_json, sky_engine *engine);

/* --- artifacts and files ------------------------------------------------- */

/* GET /v1/artifacts/{id}: the artifact's JSON (Skyvern's Artifact, with
 * a signed_url); SKY_ENOTFOUND ("Artifact not found <id>"). */
SKY_API int sky_tasks_api_artifact_get(char **out_json, sky_engine *engine,
                                       const char *organization_id,
                                       const char *artifact_id);
/* GET /api/v1/tasks/{task_id}/steps/{step_id}/artifacts: a JSON array;
 * [] for an unknown task or step. */
SKY_API int sky_tasks_api_step_artifacts_list(char **out_json,
                                              sky_engine *engine,
                                              const char *organization_id,
                                              const char *task_id,
                                              const char *step_id);
/* GET /api/v1/{entity_type}/{entity_id}/artifacts: entity_type "task",
 * "step" (and "workflow_run", "workflow_run_block", "thought", which this
 * engine never creates: []). SKY_EINVALID for another type. */
SKY_API int sky_tasks_api_entity_artifacts_list(char **out_json,
                                                sky_engine *engine,
                                                const char *organization_id,
                                                const char *entity_type,
                                                const char *entity_id);
/*
 * Where an artifact's file is: *path (absolute, inside the data dir),
 * *content_type (guessed from the name); both sky_free. SKY_ENOTFOUND
 * when the artifact does not exist in the organization.
 */
SKY_API int sky_artifact_file(char **path, char **content_type,
                              sky_engine *engine, const char *organization_id,
                              const char *artifact_id);

/*
 * POST /v1/upload_file: keep `len` bytes as `filename` (its last path
 * component) for the organization; retention_days 0 for no expiry, else
 * 1..365 (422 otherwise): the file is deleted after that. The answer is
 * Skyvern's UploadFileResponse {s3_uri (a file:// URI here),
 * presigned_url (a signed link to GET /v1/files/{id}/content), file_id,
 * expires_at}.
 */
SKY_API int sky_tasks_api_file_upload(char **out_json, int *http_status,
                                      sky_engine *engine,
                                      const char *organization_id,
                                      const char *filename, const void *data,
                                      size_t len, int retention_days);
/* DELETE /v1/files/{id}: 0 with *http_status 204 (*out_json NULL); 404
 * "File X not found" for an unknown, deleted, expired or foreign id. */
SKY_API int sky_tasks_api_file_delete(char **out_json, int *http_status,
                                      sky_engine *engine,
                                      const char *organization_id,
                                      const char *file_id);
/* Where an uploaded file is (*path absolute; *filename as uploaded, may
 * be NULL; both sky_free); SKY_ENOTFOUND. */
SKY_API int sky_file_path(char **path, char **filename, sky_engine *engine,
                          const char *organization_id, const char *file_id);

/* --- one-time codes ------------------------------------------------------ */

/*
 * POST /v1/credentials/totp and the legacy POST /api/v1/totp: store a
 * verification code a user pushes. `body_json`: {totp_identifier*,
 * content*, task_id?, workflow_id?, workflow_run_id?, source?,
 * expired_at?}. Content of 10 characters or fewer is the code; longer
 * content (an SMS or e-mail body) is searched for a code or a sign-in
 * link, then asked of the engine's model when config totp.llm_fallback
 * is true; when nothing is found it is stored with status "raw_pending"
 * and code "". Unknown task_id / workflow_id / workflow_run_id: 400. A
 * run of the organization waiting for a code for that identifier takes
 * the newest unused one. Codes never reach a log line.
 */
SKY_API int sky_tasks_api_totp_code_push(char **out_json, int *http_status,
                                         sky_engine *engine,
                                         const char *organization_id,
                                         const char *body_json);
/* GET /v1/credentials/totp: the organization's pushed codes, newest
 * first (Skyvern's TOTPCode); filters may be NULL; limit 1..200. */
SKY_API int sky_tasks_api_totp_codes_list(char **out_json, sky_engine *engine,
                                          const char *organization_id,
                                          const char *totp_identifier,
                                          const char *workflow_run_id,
                                          const char *otp_type, int limit);

/* --- credentials (the vault) --------------------------------------------- */

/*
 * POST /v1/credentials: Skyvern's CreateCredentialRequest (password with
 * optional totp / totp_type / totp_identifier, credit_card, secret). 0
 * with *http_status 201 and Skyvern's CredentialResponse, which never
 * holds a secret (username, TOTP type and identifier; a card's brand and
 * last four digits; a secret's label). A refusal: the 422 / 400 body in
 * *out_json and SKY_EINVALID. The fields are sealed with the engine's
 * secrets key (docs/configuration.md, "Data at rest").
 */
SKY_API int sky_tasks_api_credential_create(char **out_json, int *http_status,
                                            sky_engine *engine,
                                            const char *organization_id,
                                            const char *body_json);
/* GET /v1/credentials: the organization's credentials, newest first
 * (page, page_size >= 1; credential_type, vault_type and search filters,
 * NULL = none). SKY_EINVALID for an unknown type or vault type. */
SKY_API int sky_tasks_api_credentials_list(
    char **out_json, int *http_status, sky_engine *engine,
    const char *organization_id, int page, int page_size,
    const char *credential_type, const char *vault_type, const char *search);
/* GET /v1/credentials/{id}: the CredentialResponse; 404 "Credential not
 * found" (SKY_ENOTFOUND, the body in *out_json). */
SKY_API int sky_tasks_api_credential_get(char **out_json, int *http_status,
                                         sky_engine *engine,
                                         const char *organization_id,
                                         const char *credential_id);
/* POST /v1/credentials/{id}/update: overwrite the credential's data
 * (same body as create), same id; 200 and the CredentialResponse, 404 as
 * get, 422 / 400 as create. */
SKY_API int sky_tasks_api_credential_update(char **out_json, int *http_status,
                                            sky_engine *engine,
                                            const char *organization_id,
                                            const char *credential_id,
                                            const char *body_json);
/* POST /v1/credentials/{id}/delete: 0 with *http_status 204 (*out_json
 * NULL); 404 as get. */
SKY_API int sky_tasks_api_credential_delete(char **out_json, int *http_status,
                                            sky_engine *engine,
                                            const char *organization_id,
                                            const char *credential_id);

/*
 * POST /v1/run/tasks/login: Skyvern's LoginRequest (credential_type
 * "skyvern" with a credential_id of the organization's vault, url,
 * optional prompt, webhook_url, totp_identifier, totp_url, ...), run as a
 * task v1 that signs in with the credential; answers as
 * sky_tasks_api_run_submit (the run response). 400 for another
 * credential_type, a missing credential_id or a browser_profile_id; 404
 * for a credential that is not the organization's.
 */
SKY_API int sky_tasks_api_login(char **out_json, int *http_status,
                                sky_engine *engine, const char *organization_id,
                                const char *body_json,
                                const sky_submit_options *opts);

/* --- browser sessions ---------------------------------------------------- */

/*
 * POST /v1/browser_sessions: a live browser context the engine keeps
 * between runs. `body_json` (may be NULL or "{}"): {url?, timeout?
 * (minutes of inactivity, >= 5, default 60; above 240 it is capped and
 * "warning" says so), proxy_location?, browser_type?}. The session is
 * open when this returns. A run whose request names it continues in it;
 * one run at a time (a second submit is refused with 409 while one is
 * active). Sessions close on close(), on inactivity and when the engine
 * stops; they do not survive a restart, except one that loaded a
 * browser profile (browser_profile_id, "bp_…"): it is saved to the
 * profile and opened again from it. generate_browser_profile: keep its
 * state when it ends, for POST /v1/browser_profiles.
 */
SKY_API int sky_tasks_api_browser_session_create(char **out_json,
                                                 int *http_status,
                                                 sky_engine *engine,
                                                 const char *organization_id,
                                                 const char *body_json);
/* GET /v1/browser_sessions/{id}; 404 "Browser session X not found". */
SKY_API int sky_tasks_api_browser_session_get(char **out_json, int *http_status,
                                              sky_engine *engine,
                                              const char *organization_id,
                                              const char *browser_session_id);
/* GET /v1/browser_sessions: the organization's live sessions, newest
 * first (a JSON array). */
SKY_API int sky_tasks_api_browser_sessions_list(char **out_json,
                                                sky_engine *engine,
                                                const char *organization_id);
/* POST /v1/browser_sessions/{id}/close: {"message": "Browser session
 * closed"}. A run working in it is canceled. 404 when unknown or already
 * closed. */
SKY_API int sky_tasks_api_browser_session_close(char **out_json,
                                                int *http_status,
                                                sky_engine *engine,
                                                const char *organization_id,
                                                const char *browser_session_id);

/*
 * PATCH /v1/browser_sessions/{id}: {"generate_browser_profile": bool}
 * (required); the session's answer. 404 unknown, 409 already ended.
 */
SKY_API int sky_tasks_api_browser_session_update(char **out_json,
                                                 int *http_status,
                                                 sky_engine *engine,
                                                 const char *organization_id,
                                                 const char *browser_session_id,
                                                 const char *body_json);

/* --- browser profiles ----------------------------------------------------- */

/*
 * POST /v1/browser_profiles: {name, description?, browser_session_id? |
 * workflow_run_id?} saves the state of a session (a live idle one now,
 * an ended one from what it kept) or of a finished run that kept its
 * state (persist_browser_session or browser_profile_id), or a blank
 * profile; the answer is the profile. 404 unknown source, 409 name
 * taken, 400 nothing kept, 422 a bad body. The state is sealed on disk
 * (docs/configuration.md "Data at rest").
 */
SKY_API int sky_tasks_api_browser_profile_create(char **out_json,
                                                 int *http_status,
                                                 sky_engine *engine,
                                                 const char *organization_id,
                                                 const char *body_json);
/* GET /v1/browser_profiles: a JSON array, newest first (page >= 1,
 * page_size >= 1; search_key may be NULL). */
SKY_API int sky_tasks_api_browser_profiles_list(
    char **out_json, int *http_status, sky_engine *engine,
    const char *organization_id, int page, int page_size, int include_deleted,
    const char *search_key);
/* GET /v1/browser_profiles/{id}; 404 "Browser profile X not found for
 * organization O". */
SKY_API int sky_tasks_api_browser_profile_get(char **out_json, int *http_status,
                                              sky_engine *engine,
                                              const char *organization_id,
                                              const char *browser_profile_id);
/* PATCH /v1/browser_profiles/{id}: {name?, description?}. */
SKY_API int sky_tasks_api_browser_profile_update(char **out_json,
                                                 int *http_status,
                                                 sky_engine *engine,
                                                 const char *organization_id,
                                                 const char *browser_profile_id,
                                                 const char *body_json);
/* DELETE /v1/browser_profiles/{id}: 204 with an empty body; the saved
 * state is removed, the record kept as deleted. */
SKY_API int sky_tasks_api_browser_profile_delete(
    char **out_json, int *http_status, sky_engine *engine,
    const char *organization_id, const char *browser_profile_id);
/* GET /v1/browser_profiles/{id}/usage: {"workflows": [], "credentials":
 * [], "recent_seeded_run_count": runs and sessions that loaded it}. */
SKY_API int sky_tasks_api_browser_profile_usage(char **out_json,
                                                int *http_status,
                                                sky_engine *engine,
                                                const char *organization_id,
                                                const char *browser_profile_id);

/* --- workflows ----------------------------------------------------------- */

/* GET /v1/workflows: the workflows saved by publish_workflow: true, a
 * JSON array, newest first (page >= 1, page_size 1..100). */
SKY_API int sky_tasks_api_workflows_list(char **out_json, sky_engine *engine,
                                         const char *organization_id, int page,
                                         int page_size);
/*
 * POST /v1/run/workflows: {"workflow_id": "wpid_...", "overrides": {...}?}
 * submits the saved request with the overrides applied (any field of a
 * task request), validated like a new request; the answer is the new
 * run's response (as sky_tasks_api_run_submit). 404 for an unknown
 * workflow.
 */
SKY_API int sky_tasks_api_workflow_run(char **out_json, int *http_status,
                                       sky_engine *engine,
                                       const char *organization_id,
                                       const char *body_json,
                                       const sky_submit_options *opts);

/* --- scripts: replay plans (docs/replay.md) ------------------------------- */

/* GET /v1/scripts: the newest version of each script (a plan a completed
 * run left) of the organization, a JSON array of Skyvern's Script
 * (script_id, script_revision_id, organization_id, run_id, version,
 * created_at, modified_at, deleted_at) plus cache_key,
 * workflow_permanent_id, run_type, goal_template, url; newest first
 * (page >= 1, page_size 1..100). */
SKY_API int sky_tasks_api_scripts_list(char **out_json, sky_engine *engine,
                                       const char *organization_id, int page,
                                       int page_size);
/* GET /v1/scripts/{id}: its newest version with the "plan"; 404
 * "Script not found X" (unknown, deleted or another organization's). */
SKY_API int sky_tasks_api_script_get(char **out_json, int *http_status,
                                     sky_engine *engine,
                                     const char *organization_id,
                                     const char *script_id);
/* GET /v1/scripts/{id}/versions: {"versions": [{version,
 * script_revision_id, created_at, run_id}]}, newest first; 404. */
SKY_API int sky_tasks_api_script_versions(char **out_json, int *http_status,
                                          sky_engine *engine,
                                          const char *organization_id,
                                          const char *script_id);
/* DELETE /v1/scripts/{id}: every version is deleted (0, *out_json NULL;
 * the next run_with "code" finds no plan and the agent records a new
 * one); 404 when unknown. */
SKY_API int sky_tasks_api_script_delete(char **out_json, int *http_status,
                                        sky_engine *engine,
                                        const char *organization_id,
                                        const char *script_id);

/* --- organizations, API keys, signed links ------------------------------- */

/*
 * Create an organization (a tenant: its runs, steps, artifacts and keys
 * are invisible to every other organization). *organization_id ("o_…")
 * is freed with sky_free(). `name` may be NULL.
 */
SKY_API int sky_organization_create(char **organization_id, sky_engine *engine,
                                    const char *name);

/*
 * Store an API key for an organization (NULL = the default one). Only
 * its SHA-256 is kept. Adding a key that is already stored is not an
 * error. SKY_EINVALID for a key shorter than 8 characters.
 */
SKY_API int sky_api_key_add(sky_engine *engine, const char *organization_id,
                            const char *key);

/* Generate a new random key, store it (hashed) and return it: the only
 * time the key is ever visible. *key is freed with sky_free(). */
SKY_API int sky_api_key_generate(char **key, sky_engine *engine,
                                 const char *organization_id);

/* Number of live keys, of every organization. */
SKY_API int sky_api_key_count(long long *count, sky_engine *engine);

/*
 * Check a key. Returns 0 and *organization_id (sky_free) for a live key;
 * SKY_EAUTH for an unknown or revoked one (*revoked set to 1 for the
 * latter when non-NULL). The comparison does not depend on how much of
 * the key matches.
 */
SKY_API int sky_api_key_verify(char **organization_id, int *revoked,
                               sky_engine *engine, const char *key);

/* A link to `path` (on the server's public URL) that needs no key:
 * "?expires=…&signature=…" as the engine signs artifact and viewer
 * links. *out_url is freed with sky_free. */
SKY_API int sky_url_sign(char **out_url, sky_engine *engine, const char *path);
/* 0 if `signature` and `expires` (the query of a URL the engine produced)
 * are a valid, unexpired signature of `path`; SKY_EAUTH otherwise. */
SKY_API int sky_url_verify(sky_engine *engine, const char *path,
                           const char *expires, const char *signature);

SKY_END_DECLS

#endif
