/* One model call of the agent: the request with the screenshot when the
 * model may see it, usage added to the current step, the prompt and the
 * answer kept as (redacted) artifacts. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "llm/llm.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"
#include "util/time.h"

int sky_agent_llm(sky_run *r, const sky_planner_prompt *p, const sky_obs *o,
                  char **answer)
{
	sky_llm_image img = {"image/jpeg", NULL, 0};
	sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
	sky_llm_result *res = NULL;
	int rc;
	*answer = NULL;
	if (sky_agent_cancelled(r))
		return SKY_ECANCELED;

	req.purpose = p->purpose;
	req.prompt = p->text;
	req.context_json = p->context_json;
	req.response_schema_json = p->response_schema_json;
	req.run_id = r->task->task_id;
	req.step_order = r->step ? r->step->order : -1;
	req.retry_index = r->step ? r->step->retry_index : 0;
	req.timeout_ms = r->e->agent.llm_timeout_ms;
	/* Pending usage of a step-less call carries no model name. */
	if (o && o->png && r->e->agent.vision &&
	    sky_llm_supports_vision(r->llm)) {
		img.data = o->png;
		img.len = o->png_len;
		req.images = &img;
		req.n_images = 1;
	}

	char name[64];
	snprintf(name, sizeof name, "%s.prompt.txt", p->purpose);
	sky_agent_artifact(r, SKY_ARTIFACT_LLM_PROMPT, name, p->text,
	                   strlen(p->text), 1);

	int64_t t0 = sky_time_mono_ms();
	rc = sky_llm_complete(r->llm, &req, r->deadline_ms, &res);
	r->t.llm += (int)(sky_time_mono_ms() - t0);
	if (rc)
		return sky_error_wrap(rc, "%s call failed", p->purpose);
	sky_step_usage u = {res->usage.input_tokens, res->usage.output_tokens,
	                    res->usage.reasoning_tokens,
	                    res->usage.cached_tokens, res->usage.cost_usd,
	                    res->model};
	if (r->step) {
		sky_store_step_add_usage(r->e->store, r->step->step_id, &u);
	} else {
		/* Calls outside a step (v2 planning) count on the next one. */
		r->pending.input_tokens += u.input_tokens;
		r->pending.output_tokens += u.output_tokens;
		r->pending.reasoning_tokens += u.reasoning_tokens;
		r->pending.cached_tokens += u.cached_tokens;
		r->pending.cost += u.cost;
	}
	snprintf(name, sizeof name, "%s.answer.txt", p->purpose);
	sky_agent_artifact(r, SKY_ARTIFACT_LLM_RESPONSE, name, res->text,
	                   strlen(res->text), 1);
	*answer = res->text;
	res->text = NULL;
	sky_llm_result_free(res);
	return 0;
}
