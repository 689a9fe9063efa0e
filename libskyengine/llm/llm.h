/*
 * Internal: the engine's side of language-model calls. Opens a provider
 * plugin instance by name, completes requests under a deadline, counts
 * tokens and cost (the provider's, else a price table), and optionally
 * records every answer to a JSONL file the llm-replay plugin can serve
 * (docs/llm.md). Used by planner/ and agent/.
 *
 *     sky_llm *llm;
 *     sky_llm_open(engine->plugins, engine->llm_name, engine->config_json,
 *                  &llm);
 *     sky_llm_result *res;
 *     if (sky_llm_complete(llm, &req, deadline_ms, &res) == 0) {
 *             parse(res->text);
 *             sky_llm_usage_add(&step_usage, &res->usage);
 *     }
 *     sky_llm_result_free(res);
 */
#ifndef SKY_LLM_LLM_H
#define SKY_LLM_LLM_H

#include <stdint.h>

#include "plugin/loader.h"

/* Token counts and cost; a call's, or the sum over a step or a run. */
typedef struct sky_llm_usage {
	int64_t calls;
	int64_t input_tokens;     /* all prompt tokens, cached ones included */
	int64_t output_tokens;    /* completion tokens, reasoning included */
	int64_t reasoning_tokens; /* part of output_tokens */
	int64_t cached_tokens;    /* part of input_tokens read from a cache */
	double cost_usd;          /* sum over the calls whose cost is known */
	int64_t unpriced_calls;   /* calls with no provider cost and no price */
} sky_llm_usage;

/* acc += u (NULL-safe). */
void sky_llm_usage_add(sky_llm_usage *acc, const sky_llm_usage *u);

typedef enum sky_llm_cost_source {
	SKY_LLM_COST_UNKNOWN = 0, /* no provider cost, no price for the model */
	SKY_LLM_COST_PROVIDER = 1, /* the provider said what it cost */
	SKY_LLM_COST_TABLE = 2,    /* computed from the price table */
} sky_llm_cost_source;

typedef struct sky_llm_result {
	char *text;          /* the answer */
	char *model;         /* as the provider reported it, else configured */
	char *finish_reason; /* "stop", "length", ... or NULL */
	int truncated;       /* the answer hit the output token limit */
	sky_llm_usage usage; /* this call (calls == 1) */
	sky_llm_cost_source cost_source;
	int64_t duration_ms;
} sky_llm_result;

void sky_llm_result_free(sky_llm_result *r);

typedef struct sky_llm sky_llm;

/*
 * Open provider `name` ("openai", "anthropic", "replay", "rules", a
 * third-party name) through the plugin host. `config_json` is the engine's
 * whole config object (may be NULL); its "llm" section goes to the
 * provider's create(). Read here: llm.timeout_ms (default 120000),
 * llm.model (env SKYENGINE_LLM_MODEL; for pricing when the provider does
 * not name the model), llm.prices, llm.record (env SKYENGINE_LLM_RECORD).
 * API keys found in the environment / config are registered as secrets.
 */
int sky_llm_open(sky_plugins *plugins, const char *name,
                 const char *config_json, sky_llm **out);

/* Destroy the provider instance and close the record file. NULL-safe.
 * No call may be in progress. */
void sky_llm_close(sky_llm *llm);

const char *sky_llm_name(const sky_llm *llm);
/* 1 if the provider instance accepts images. */
int sky_llm_supports_vision(const sky_llm *llm);

/*
 * Complete `req`. Thread-safe. `deadline_ms` is an absolute
 * skyx_time_mono_ms() value (0: none): the provider gets
 * min(req->timeout_ms or llm.timeout_ms, time left) as its timeout_ms and
 * a call starting after the deadline fails at once with SKY_ETIMEDOUT.
 * (A provider is trusted to honour timeout_ms; the shipped ones do, as
 * all their I/O goes through the host HTTP client.)
 *
 * Returns 0 and *out, or the provider's SKY_E* code with sky_error_last()
 * naming the provider (secrets redacted). On success and with recording
 * on, one JSONL line is appended to the record file.
 */
int sky_llm_complete(sky_llm *llm, const sky_llm_request *req,
                     int64_t deadline_ms, sky_llm_result **out);

/* --- prices --------------------------------------------------------------- */

typedef struct sky_llm_prices sky_llm_prices;

/*
 * The built-in table (approximate list prices in USD per million tokens
 * for common OpenAI and Anthropic models, docs/llm.md) with `overrides`
 * applied: a JSON object {"model-prefix": {"input": 2.5, "output": 10,
 * "cached": 1.25}, ...} (may be NULL). Invalid JSON is SKY_EINVALID.
 */
int sky_llm_prices_new(const char *overrides, sky_llm_prices **out);
void sky_llm_prices_free(sky_llm_prices *p);

/*
 * Cost of `u` for `model`: the longest matching prefix (case-insensitive;
 * a "vendor/" prefix as OpenRouter writes it is ignored). Cached input
 * tokens are charged at the cached price (the input price when none is
 * given). Returns 0 and *usd, or SKY_ENOTFOUND when no prefix matches.
 */
int sky_llm_prices_cost(const sky_llm_prices *p, const char *model,
                        const sky_llm_usage *u, double *usd);

#endif
