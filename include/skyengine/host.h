/*
 * skyengine: what a host serving the Tasks API over HTTP needs beyond the
 * run functions: API keys (stored hashed), artifact files, signed URLs,
 * webhook replays. tools/skyengine-server is built on the public headers
 * and the shared library alone (plus the helper kit, kit/); CMake checks it.
 */
#ifndef SKYENGINE_HOST_H
#define SKYENGINE_HOST_H

#include "common.h"
#include "engine.h"
#include "run.h"

SKY_BEGIN_DECLS

/*
 * Store an API key for an organization (NULL = the default one). Only
 * its SHA-256 is kept. Adding a key that is already stored is not an
 * error.
 */
SKY_API int sky_api_key_add(sky_engine *engine, const char *organization_id,
                            const char *key);

/* Generate a new random key, store it (hashed) and return it: the only
 * time the key is ever visible. *key is freed with sky_free(). */
SKY_API int sky_api_key_generate(sky_engine *engine,
                                 const char *organization_id, char **key);

/* Number of live keys. */
SKY_API int sky_api_key_count(sky_engine *engine, long long *count);

/*
 * Check a key. Returns 0 and *organization_id (sky_free) for a live key;
 * SKY_EAUTH for an unknown or revoked one (*revoked set to 1 for the
 * latter when non-NULL). The comparison does not depend on how much of
 * the key matches.
 */
SKY_API int sky_api_key_verify(sky_engine *engine, const char *key,
                               char **organization_id, int *revoked);

/*
 * Where an artifact's file is: *path (absolute, inside the data dir),
 * *content_type (guessed from the name). SKY_ENOTFOUND when the artifact
 * does not exist in the organization (NULL = any, for signed URLs).
 */
SKY_API int sky_artifact_file(sky_engine *engine, const char *organization_id,
                              const char *artifact_id, char **path,
                              char **content_type);

/* GET /v1/artifacts/{id}: the artifact's JSON (Skyvern's Artifact, with
 * a signed_url); SKY_ENOTFOUND ("Artifact not found <id>"). */
SKY_API int sky_artifact_get(sky_engine *engine, const char *organization_id,
                             const char *artifact_id, char **out_json);
/* GET /api/v1/tasks/{task_id}/steps/{step_id}/artifacts: a JSON array;
 * [] for an unknown task or step. */
SKY_API int sky_step_artifacts(sky_engine *engine,
                               const char *organization_id,
                               const char *task_id, const char *step_id,
                               char **out_json);
/* GET /api/v1/{entity_type}/{entity_id}/artifacts: entity_type "task",
 * "step" (and "workflow_run", "workflow_run_block", "thought", which this
 * engine never creates: []). SKY_EINVALID for another type. */
SKY_API int sky_entity_artifacts(sky_engine *engine,
                                 const char *organization_id,
                                 const char *entity_type,
                                 const char *entity_id, char **out_json);
/* GET /v1/runs/{id}/timeline: a task v2's timeline (Skyvern's
 * WorkflowRunTimeline list, newest first: a "thought" per plan, a
 * "block" per mini-goal with its actions). SKY_ENOTFOUND ("Run not found
 * <id>"); SKY_EUNSUPPORTED ("Timeline not available for run type
 * task_v1") for other runs. */
SKY_API int sky_run_timeline(sky_engine *engine, const char *organization_id,
                             const char *run_id, char **out_json);
/*
 * POST /v1/upload_file: keep `len` bytes as `filename` (its last path
 * component) for the organization; retention_days 0 for no expiry, else
 * 1..365 (422 otherwise): the file is deleted after that. The answer is
 * Skyvern's UploadFileResponse {s3_uri (a file:// URI here),
 * presigned_url (a signed link to GET /v1/files/{id}/content), file_id,
 * expires_at}.
 */
SKY_API int sky_file_upload(sky_engine *engine, const char *organization_id,
                            const char *filename, const void *data,
                            size_t len, int retention_days, char **out_json,
                            int *http_status);
/* DELETE /v1/files/{id}: 0 with *http_status 204 (*out_json NULL); 404
 * "File X not found" for an unknown, deleted, expired or foreign id. */
SKY_API int sky_file_delete(sky_engine *engine, const char *organization_id,
                            const char *file_id, char **out_json,
                            int *http_status);
/* Where an uploaded file is (*path absolute; *filename as uploaded, may
 * be NULL); SKY_ENOTFOUND. organization_id "*": any (signed links). */
SKY_API int sky_file_path(sky_engine *engine, const char *organization_id,
                          const char *file_id, char **path, char **filename);
/* GET /v1/credentials/totp: the organization's pushed codes, newest
 * first (Skyvern's TOTPCode); filters may be NULL; limit 1..200. */
SKY_API int sky_totp_codes_list(sky_engine *engine,
                                const char *organization_id,
                                const char *totp_identifier,
                                const char *workflow_run_id,
                                const char *otp_type, int limit,
                                char **out_json);

/* A link to `path` (on the server's public URL) that needs no key:
 * "?expires=…&signature=…" as the engine signs artifact and viewer
 * links. *out_url is freed with sky_free. */
SKY_API int sky_url_sign(sky_engine *engine, const char *path,
                         char **out_url);
/* 1 if `signature` and `expires` (the query of a URL the engine produced)
 * are a valid, unexpired signature of `path`. */
SKY_API int sky_url_verify(sky_engine *engine, const char *path,
                           const char *expires, const char *signature);

/*
 * Send a run's webhook once, now (POST /v1/runs/{id}/retry_webhook), to
 * `webhook_url` or the run's own. *out_json receives the report of the
 * contract ({run_id, run_type, default_webhook_url, target_webhook_url,
 * payload, headers, status_code, latency_ms, response_body, error}).
 * `signing_key` signs it (the caller's API key). SKY_ENOTFOUND for an
 * unknown run; SKY_EINVALID (with *out_json an error body) when there is
 * no URL to send to.
 */
SKY_API int sky_run_webhook_send(sky_engine *engine,
                                 const char *organization_id,
                                 const char *run_id, const char *webhook_url,
                                 const char *signing_key, char **out_json);

/*
 * The functions below answer like sky_run_submit(): 0 and *out_json (the
 * API's JSON, sky_free) with *http_status 200; or a negative code with
 * *out_json the API's error body and *http_status its status (422 with
 * FastAPI's {"detail": [{type, loc, msg, input}]}, 400, 404, 409); or a
 * negative code with *out_json NULL for an unexpected failure (serve a
 * 500; sky_error_last() says why). `http_status` may be NULL.
 */

/*
 * Store a verification code a user pushes (POST /v1/credentials/totp and
 * the legacy POST /api/v1/totp). `body_json`: {totp_identifier*, content*,
 * task_id?, workflow_id?, workflow_run_id?, source?, expired_at?}. Content
 * of 10 characters or fewer is the code; longer content (an SMS or e-mail
 * body) is searched for a code or a sign-in link, then asked of the
 * engine's model when config totp.llm_fallback is true; when nothing is
 * found it is stored with status "raw_pending" and code "". Unknown
 * task_id / workflow_id / workflow_run_id: 400. A run of the organization
 * waiting for a code for that identifier takes the newest unused one.
 * Codes never reach a log line.
 */
SKY_API int sky_totp_code_push(sky_engine *engine, const char *organization_id,
                               const char *body_json, char **out_json,
                               int *http_status);

/*
 * Browser sessions: a live browser context the engine keeps between runs
 * (POST /v1/browser_sessions). `body_json` (may be NULL or "{}"): {url?,
 * timeout? (minutes of inactivity, >= 5, default 60; above 240 it is
 * capped and "warning" says so), proxy_location?, browser_type?}. The
 * session is open when this returns. A run whose request names it
 * continues in it; one run at a time (a second submit is refused with
 * 409 while one is active). Sessions close on close(), on inactivity and
 * when the engine stops; they do not survive a restart.
 */
SKY_API int sky_browser_session_create(sky_engine *engine,
                                       const char *organization_id,
                                       const char *body_json, char **out_json,
                                       int *http_status);
/* GET /v1/browser_sessions/{id}; 404 "Browser session X not found". */
SKY_API int sky_browser_session_get(sky_engine *engine,
                                    const char *organization_id,
                                    const char *browser_session_id,
                                    char **out_json, int *http_status);
/* GET /v1/browser_sessions: the organization's live sessions, newest
 * first (a JSON array). */
SKY_API int sky_browser_sessions_list(sky_engine *engine,
                                      const char *organization_id,
                                      char **out_json);
/* POST /v1/browser_sessions/{id}/close: {"message": "Browser session
 * closed"}. A run working in it is canceled. 404 when unknown or already
 * closed. */
SKY_API int sky_browser_session_close(sky_engine *engine,
                                      const char *organization_id,
                                      const char *browser_session_id,
                                      char **out_json, int *http_status);

/*
 * Workflows saved by publish_workflow: true. GET /v1/workflows: a JSON
 * array, newest first (page >= 1, page_size 1..100).
 */
SKY_API int sky_workflows_list(sky_engine *engine, const char *organization_id,
                               int page, int page_size, char **out_json);
/*
 * POST /v1/run/workflows: {"workflow_id": "wpid_...", "overrides": {...}?}
 * submits the saved request with the overrides applied (any field of a
 * task request), validated like a new request; the answer is the new
 * run's response (as sky_run_submit). 404 for an unknown workflow.
 */
SKY_API int sky_workflow_run(sky_engine *engine, const char *body_json,
                             const sky_submit_options *opts, char **out_json,
                             int *http_status);

/*
 * Create an organization (a tenant: its runs, steps, artifacts and keys
 * are invisible to every other organization). *organization_id ("o_…")
 * is freed with sky_free(); give it to sky_api_key_add() to make a key
 * for it. `name` may be NULL.
 */
SKY_API int sky_organization_create(sky_engine *engine, const char *name,
                                    char **organization_id);

SKY_END_DECLS

#endif
