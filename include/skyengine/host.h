/*
 * skyengine: what a host serving the Tasks API over HTTP needs beyond the
 * run functions: API keys (stored hashed), artifact files, signed URLs,
 * webhook replays. tools/skyengine-server is built on these alone.
 */
#ifndef SKYENGINE_HOST_H
#define SKYENGINE_HOST_H

#include "common.h"
#include "engine.h"

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
 * Create an organization (a tenant: its runs, steps, artifacts and keys
 * are invisible to every other organization). *organization_id ("o_…")
 * is freed with sky_free(); give it to sky_api_key_add() to make a key
 * for it. `name` may be NULL.
 */
SKY_API int sky_organization_create(sky_engine *engine, const char *name,
                                    char **organization_id);

SKY_END_DECLS

#endif
