/*
 * Task v2: a planning loop above v1. Each iteration looks at the page and
 * the mini-goals done so far and picks the next one (navigate or extract),
 * runs it as v1 steps in the same browser context (steps of the run, with
 * orders continuing), records the result, and ends when the planner says
 * the goal is reached (summary + output) or gives up.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>

static const char *result_name(sky_agent_result v)
{
	switch (v) {
	case SKY_AGENT_COMPLETED:
		return "completed";
	case SKY_AGENT_TERMINATED:
		return "terminated";
	case SKY_AGENT_FAILED:
		return "failed";
	case SKY_AGENT_CANCELED:
		return "canceled";
	case SKY_AGENT_TIMED_OUT:
		return "timed_out";
	case SKY_AGENT_PARKED:
		return "parked";
	}
	return "?";
}

/* The final output: with a schema, an extraction against it; else what
 * the summary says (or the last extraction). */
static void final_output(sky_run *r, json_t *mini)
{
	sky_planner_prompt *p = NULL;
	sky_planner_summary *sum = NULL;
	char *answer = NULL;
	if (!json_is_null(r->schema)) {
		json_t *v = NULL;
		if (sky_agent_extract(r, r->task->prompt, NULL, &v) == 0)
			json_decref(v); /* kept in r->output */
		return;
	}
	sky_planner_summary_input in = {0};
	in.goal = r->task->prompt ? r->task->prompt : "";
	in.final_status = "completed";
	in.mini_goals = mini;
	in.outputs = r->output;
	if (sky_planner_render_summary(&in, &p) ||
	    sky_agent_llm(r, p, NULL, &answer) ||
	    sky_planner_parse_summary(answer, &sum))
		goto out;
	if (!json_is_null(sum->output)) {
		json_decref(r->output);
		r->output = json_incref(sum->output);
	}
out:
	sky_planner_summary_free(sum);
	free(answer);
	sky_planner_prompt_free(p);
}

static int goto_url(sky_run *r, const char *url)
{
	json_t *a =
	    json_pack("{s:s, s:s}", "action_type", "goto_url", "url", url);
	json_t *res = NULL;
	sky_agent_act(r, a, NULL, &res);
	int ok = json_is_true(json_object_get(res, "success"));
	if (!ok)
		sky_agent_note_error(r, "could not open %s: %s", url,
		                     sky_json_str(res, "message")
		                         ? sky_json_str(res, "message")
		                         : "?");
	json_decref(a);
	json_decref(res);
	return ok ? 0 : SKY_EBROWSER;
}

sky_agent_result sky_agent_v2(sky_run *r, char **reason)
{
	json_t *mini = json_array();
	int max_it = r->env->config->v2_max_iterations;
	int budget = r->env->config->v2_max_steps;
	int per_goal = r->max_steps;
	int bad_plans = 0;
	sky_agent_result res = SKY_AGENT_FAILED;
	*reason = NULL;

	for (int it = 0; it < max_it; it++) {
		if (sky_agent_stopping(r)) {
			res = SKY_AGENT_PARKED;
			goto out;
		}
		if (sky_agent_canceled(r)) {
			res = SKY_AGENT_CANCELED;
			goto out;
		}
		if (sky_agent_timed_out(r)) {
			res = SKY_AGENT_TIMED_OUT;
			goto out;
		}
		sky_obs *o = NULL;
		sky_planner_prompt *p = NULL;
		sky_planner_plan *plan = NULL;
		char *answer = NULL;
		int rc = sky_agent_observe(r, r->env->config->vision, &o);
		if (!rc) {
			sky_planner_plan_input in = {0};
			in.goal = r->task->prompt ? r->task->prompt : "";
			in.navigation_payload =
			    json_is_null(r->payload) ? NULL : r->payload;
			sky_agent_page_input(o, &in.page);
			in.mini_goals = mini;
			in.iteration = it;
			in.max_iterations = max_it;
			sky_planner_parse_ctx pc = {0};
			pc.url_map = o->url_map;
			pc.page_url = o->url;
			rc = sky_planner_render_plan(&in, &p);
			if (!rc)
				rc = sky_agent_llm(r, p, o, &answer);
			if (!rc)
				rc = sky_planner_parse_plan(answer, &pc, &plan);
		}
		sky_obs_free(o);
		sky_planner_prompt_free(p);
		free(answer);
		if (rc == SKY_ECANCELED) {
			res = sky_agent_stopping(r) ? SKY_AGENT_PARKED
			                            : SKY_AGENT_CANCELED;
			goto out;
		}
		if (rc) {
			sky_agent_note_error(r, "planning failed: %s",
			                     sky_error_last());
			sky_planner_plan_free(plan);
			if (++bad_plans >= 3) {
				char *why = sky_agent_failure_summary(r);
				*reason =
				    skyx_asprintf("The planner failed 3 times "
				                  "in a row: %s",
				                  why);
				free(why);
				res = SKY_AGENT_FAILED;
				goto out;
			}
			continue;
		}
		bad_plans = 0;
		if (plan->decision == SKY_PLAN_DONE) {
			final_output(r, mini);
			*reason = skyx_strdup(plan->thoughts);
			sky_planner_plan_free(plan);
			res = SKY_AGENT_COMPLETED;
			goto out;
		}
		if (plan->decision == SKY_PLAN_TERMINATE) {
			*reason = skyx_strdup(plan->termination_reason);
			sky_agent_surface_errors(r, *reason, NULL);
			sky_planner_plan_free(plan);
			res = SKY_AGENT_TERMINATED;
			goto out;
		}
		sky_log_info("agent", "run %s: mini-goal %d (%s): %s",
		             r->task->task_id, it, plan->task_type, plan->plan);
		if (plan->url && goto_url(r, plan->url)) {
			json_array_append_new(
			    mini, json_pack("{s:s, s:s, s:s, s:s?}", "plan",
			                    plan->plan, "task_type",
			                    plan->task_type, "status", "failed",
			                    "result", r->last_error));
			sky_planner_plan_free(plan);
			continue;
		}
		int used = r->next_order;
		int left = budget - used;
		if (left <= 0) {
			char *why = sky_agent_failure_summary(r);
			*reason =
			    skyx_asprintf("Reached the max number of %d "
			                  "steps. Possible failure reasons: %s",
			                  budget, why);
			free(why);
			sky_planner_plan_free(plan);
			res = SKY_AGENT_FAILED;
			goto out;
		}
		sky_v1_goal g = {0};
		g.goal = plan->plan;
		g.big_goal = r->task->prompt;
		g.max_steps = per_goal < left ? per_goal : left;
		g.extract_only = !strcmp(plan->task_type, "extract");
		g.extraction_goal = g.extract_only ? plan->plan : NULL;
		char *why = NULL;
		sky_agent_result v = sky_agent_v1(r, &g, &why);
		/* Planning calls belong to no step (their usage goes to the
		 * next one). */
		sky_step_rec_free(r->step);
		r->step = NULL;
		json_t *entry = json_pack(
		    "{s:s, s:s, s:s, s:s?}", "plan", plan->plan, "task_type",
		    plan->task_type, "status", result_name(v), "result", why);
		if (g.extract_only && r->output)
			json_object_set(entry, "output", r->output);
		json_array_append_new(mini, entry);
		sky_planner_plan_free(plan);
		if (v == SKY_AGENT_CANCELED || v == SKY_AGENT_PARKED ||
		    v == SKY_AGENT_TIMED_OUT) {
			free(why);
			res = v;
			goto out;
		}
		free(why);
		/* Completed, failed or terminated mini-goals all go back to
		 * the planner, which sees the result and decides. */
	}
	{
		char *why = sky_agent_failure_summary(r);
		*reason =
		    skyx_asprintf("Reached the max number of %d planning "
		                  "iterations. Possible failure reasons: %s",
		                  max_it, why);
		free(why);
		res = SKY_AGENT_FAILED;
	}
out:
	json_decref(mini);
	return res;
}
