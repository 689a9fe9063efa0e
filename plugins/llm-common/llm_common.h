/*
 * Shared by the HTTP LLM provider plugins (llm-openai, llm-anthropic),
 * a static library each links (sky_llm_common): configuration lookup,
 * the POST-with-retries loop over the host HTTP client (backoff with
 * jitter, Retry-After), error texts from provider JSON. Plugin code: it
 * sees only the host API table and the kit, never libskyengine.
 *
 * Memory: every `char **err` is allocated with the host allocator
 * (llmc_api->alloc; the host or the caller frees it with api->free);
 * other strings returned here are plain malloc'd (free()).
 */
#ifndef SKY_LLM_COMMON_H
#define SKY_LLM_COMMON_H

#include <jansson.h>
#include <skyengine/plugin/host.h>
#include <skyengine/plugin/llm.h>

/* The host table, set by each plugin's sky_plugin_load. Per-engine calls
 * take the instance's host context (given to create()). */
extern const sky_host_api *llmc_api;

/* --- configuration -------------------------------------------------------- */

/*
 * Value of `key` ("base_url") from the provider's config object `cfg`,
 * else api->config_get(host, "llm.<key>") (the config of the engine of
 * `host`, then the
 * environment variable SKYENGINE_LLM_<KEY>). Scalars come back as text.
 * malloc'd (free()), or NULL when unset or empty.
 */
char *llmc_cfg(const sky_host_ctx *host, json_t *cfg, const char *key);
/* Same, parsed; `dflt` when unset. A value that does not parse is an
 * error: returns -1 with *err set. */
int llmc_cfg_int(const sky_host_ctx *host, json_t *cfg, const char *key,
                 long dflt, long *out, char **err);
int llmc_cfg_bool(const sky_host_ctx *host, json_t *cfg, const char *key,
                  int dflt, int *out, char **err);
/* A JSON object (config object, or JSON text from the environment);
 * new reference or NULL; non-objects are an error (-1). */
int llmc_cfg_object(const sky_host_ctx *host, json_t *cfg, const char *key,
                    json_t **out, char **err);

/* --- retries ---------------------------------------------------------------- */

typedef struct llmc_retry {
	int max_retries;        /* extra attempts after the first (3) */
	int base_ms;            /* first backoff (1000), doubled each time */
	int max_backoff_ms;     /* cap of one computed backoff (30000) */
	int retry_after_max_ms; /* cap of a server's Retry-After (60000) */
	int attempt_timeout_ms; /* per attempt; 0: the whole budget */
} llmc_retry;

/* Read max_retries, retry_base_ms, retry_max_ms, retry_after_max_ms,
 * request_timeout_ms from the config. 0 or -1 with *err. */
int llmc_retry_config(const sky_host_ctx *host, json_t *cfg, llmc_retry *r,
                      char **err);

typedef struct llmc_post {
	const sky_host_ctx *host; /* the instance's: whose HTTP client */
	const char *provider;     /* "openai": names logs and errors */
	const char *url;
	const sky_http_header *headers;
	size_t n_headers;
	const char *body;
	size_t body_len;
	int timeout_ms; /* the whole call, retries included */
	size_t max_response_bytes;
	int use_env_proxy;
	const llmc_retry *retry;
} llmc_post;

/*
 * POST with retries: transport failures (timeout, refused, truncated),
 * 408, 409, 429, 5xx and 529 are retried with exponential backoff and
 * jitter, or after the server's Retry-After / retry-after-ms (capped),
 * while attempts and time remain. Returns 0 with *out holding the last
 * response (any status: the caller maps it) and *attempts, or a negative
 * SKY_E* code with *err for a transport failure.
 */
int llmc_post_json(const llmc_post *p, sky_http_response **out, int *attempts,
                   char **err);

/* Header value (names are lower-case) or NULL. */
const char *llmc_header(const sky_http_response *r, const char *name);

/*
 * The provider's error text from a JSON error body ({"error": {"message":
 * ...}}, {"error": "..."}, {"message": ...}, {"detail": ...}), else the
 * start of the body; bounded, one line, malloc'd.
 */
char *llmc_error_text(const sky_http_response *r);

/*
 * Map a final non-2xx response to a code and *err: 401/403 SKY_EAUTH
 * (naming `key_hint`, never the key), 404 SKY_ENOTFOUND (naming the
 * model), 429 SKY_ERATELIMIT, 5xx/529 SKY_ELLM "server error", other 4xx
 * SKY_ELLM with the provider's message.
 */
int llmc_status_error(const char *provider, const sky_http_response *r,
                      int attempts, const char *model, const char *url,
                      const char *key_hint, char **err);

/* --- small helpers ----------------------------------------------------------- */

/* printf into *err (host-allocated); returns code. */
int llmc_fail(char **err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* base_url + path, without a doubled or missing '/'; malloc'd. */
char *llmc_join_url(const char *base, const char *path);
/* A copy for the host: api->strdup. */
char *llmc_host_strdup(const char *s);

#endif
