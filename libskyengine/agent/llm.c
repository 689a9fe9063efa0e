/* One model call of the agent: the request with the screenshot when the
 * model may see it, usage added to the current step, the prompt and the
 * answer kept as (redacted) artifacts. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "llm/llm.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

/* The number of this model call within the current step (or the run,
 * outside a step), from 1: a step may call one purpose several times
 * (two extractions, a rejected and a later check-goal), and each call
 * keeps its own prompt and answer files. */
static int call_index(sky_run *r)
{
	const char *key = r->step ? r->step->step_id : "";
	if (!r->llm_calls)
		r->llm_calls = json_object();
	json_int_t n = sky_json_int(r->llm_calls, key, 0) + 1;
	json_object_set_new(r->llm_calls, key, json_integer(n));
	return (int)n;
}

int sky_agent_llm(sky_run *r, const sky_planner_prompt *p, const sky_obs *o,
                  char **answer)
{
	sky_llm_image img = {"image/jpeg", NULL, 0};
	sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
	sky_llm_result *res = NULL;
	int rc;
	*answer = NULL;
	if (sky_agent_canceled(r))
		return SKY_ECANCELED;

	/* A page may still show a code the run typed: it never reaches a
	 * model (nor the stored prompt). */
	char *masked_text = sky_agent_mask_codes(r, p->text);
	char *masked_ctx = sky_agent_mask_codes_json(r, p->context_json);
	req.purpose = p->purpose;
	req.prompt = masked_text ? masked_text : p->text;
	req.context_json = masked_ctx ? masked_ctx : p->context_json;
	req.response_schema_json = p->response_schema_json;
	req.run_id = r->task->task_id;
	req.step_order = r->step ? r->step->order : -1;
	req.retry_index = r->step ? r->step->retry_index : 0;
	req.timeout_ms = r->env->config->llm_timeout_ms;
	/* Pending usage of a step-less call carries no model name. */
	if (o && o->png && r->env->config->vision &&
	    sky_llm_supports_vision(r->llm)) {
		img.data = o->png;
		img.len = o->png_len;
		req.images = &img;
		req.n_images = 1;
	}

	/* "02-check-goal.prompt.txt": in call order, prompt and answer
	 * paired by the number */
	char name[96];
	int call = call_index(r);
	snprintf(name, sizeof name, "%02d-%s.prompt.txt", call, p->purpose);
	sky_agent_artifact(r, SKY_ARTIFACT_LLM_PROMPT, name, req.prompt,
	                   strlen(req.prompt), 1);

	int64_t t0 = skyx_time_mono_ms();
	rc = sky_llm_complete(r->llm, &req, r->deadline_ms, &res);
	r->t.llm += (int)(skyx_time_mono_ms() - t0);
	free(masked_text);
	free(masked_ctx);
	if (rc)
		return sky_error_wrap(rc, "%s call failed", p->purpose);
	sky_step_usage u = {
	    res->usage.input_tokens,     res->usage.output_tokens,
	    res->usage.reasoning_tokens, res->usage.cached_tokens,
	    res->usage.cost_usd,         res->model};
	if (r->step) {
		sky_store_step_add_usage(r->env->store, r->step->step_id, &u);
	} else {
		/* Calls outside a step (v2 planning) count on the next one. */
		r->pending.input_tokens += u.input_tokens;
		r->pending.output_tokens += u.output_tokens;
		r->pending.reasoning_tokens += u.reasoning_tokens;
		r->pending.cached_tokens += u.cached_tokens;
		r->pending.cost += u.cost;
	}
	snprintf(name, sizeof name, "%02d-%s.answer.txt", call, p->purpose);
	sky_agent_artifact(r, SKY_ARTIFACT_LLM_RESPONSE, name, res->text,
	                   strlen(res->text), 1);
	*answer = res->text;
	res->text = NULL;
	sky_llm_result_free(res);
	return 0;
}
