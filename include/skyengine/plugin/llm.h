/*
 * skyengine plugin ABI: language-model providers.
 *
 * The engine renders a prompt for a purpose (planning actions, checking the
 * goal, extracting data, ...) and asks the provider to complete it. Next to
 * the prompt text it passes the structured context the prompt was rendered
 * from (`context_json`), so a provider that does not read prose (the
 * offline rules planner, a replay file keyed by step) still sees exactly
 * what a model would see. The answer is text: the engine parses it.
 */
#ifndef SKYENGINE_PLUGIN_LLM_H
#define SKYENGINE_PLUGIN_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Purposes, as sent in sky_llm_request.purpose. */
#define SKY_LLM_PURPOSE_EXTRACT_ACTIONS "extract-actions"
#define SKY_LLM_PURPOSE_CHECK_GOAL "check-goal"
#define SKY_LLM_PURPOSE_EXTRACT_DATA "extract-data"
#define SKY_LLM_PURPOSE_SURFACE_ERRORS "surface-error-codes"
#define SKY_LLM_PURPOSE_PLAN "plan"
#define SKY_LLM_PURPOSE_SUMMARIZE "summarize"
#define SKY_LLM_PURPOSE_PARSE_CODE "parse-verification-code"

/* An image attached to a request (a screenshot the model may look at). */
typedef struct sky_llm_image {
	const char *mime; /* "image/png" or "image/jpeg" */
	const unsigned char *data;
	size_t len;
} sky_llm_image;

#define SKY_LLM_REQUEST_VERSION 1

typedef struct sky_llm_request {
	unsigned int version;     /* SKY_LLM_REQUEST_VERSION */
	const char *purpose;      /* SKY_LLM_PURPOSE_* */
	const char *system;       /* system prompt, may be NULL */
	const char *prompt;       /* the rendered user prompt (UTF-8) */
	const char *context_json; /* inputs the prompt was rendered from */
	/* JSON Schema the answer must follow, for providers with structured
	 * output; NULL when free-form JSON is expected. */
	const char *response_schema_json;
	const sky_llm_image *images;
	size_t n_images;
	const char *run_id; /* for logs and replay keys */
	int step_order;     /* -1 when not inside a step */
	int retry_index;
	int timeout_ms; /* <= 0: provider default */
} sky_llm_request;

/* Filled by the provider; strings allocated with the host allocator. */
typedef struct sky_llm_response {
	char *text;           /* the answer (required on success) */
	char *model;          /* model that answered, may be NULL */
	int64_t input_tokens; /* as the provider reports them; 0 unknown */
	int64_t output_tokens;
	int64_t reasoning_tokens;
	int64_t cached_tokens;
	double cost;         /* USD if the provider knows it, else < 0 */
	char *finish_reason; /* "stop", "length", ..., may be NULL */
} sky_llm_response;

/*
 * The provider vtable, registered with sky_register_llm(api, reg, &vt).
 * Fields are only appended.
 */
typedef struct sky_llm_provider {
	/* Provider name, selected by SKYENGINE_LLM ("openai"). */
	const char *name;

	/*
	 * Create an instance from a configuration JSON object (the engine's
	 * "llm" section; may be "{}"). `host` is the engine's context: keep
	 * it for api->config_get(host, ...), api->http_request(host, ...).
	 * Secrets such as API keys come from api->config_get() or the
	 * environment, never from logs. Called on any engine thread.
	 */
	int (*create)(const sky_host_ctx *host, const char *config_json,
	              void **instance, char **err);
	void (*destroy)(void *instance);

	/*
	 * Complete a request. Thread-safe: several workers call one instance
	 * concurrently. Return 0 and fill *resp, or a negative code:
	 * SKY_ETIMEDOUT, SKY_ERATELIMIT (after the provider's own retries),
	 * SKY_EAUTH (401/403), SKY_ENOTFOUND (unknown model), SKY_ELLM
	 * (other provider error, refusal), SKY_EHTTP (transport), with *err.
	 */
	int (*complete)(void *instance, const sky_llm_request *req,
	                sky_llm_response *resp, char **err);

	/* Optional: 1 if the instance accepts images (NULL: no images). */
	SKY_OPTIONAL int (*supports_vision)(void *instance);
} sky_llm_provider;

/* Register an llm provider from sky_plugin_load (passes sizeof *vt). */
static inline int sky_register_llm(const sky_host_api *api, sky_registrar *reg,
                                   const sky_llm_provider *vt)
{
	return api->register_provider(reg, SKY_PROVIDER_LLM, vt, sizeof *vt);
}

#ifdef __cplusplus
}
#endif

#endif
