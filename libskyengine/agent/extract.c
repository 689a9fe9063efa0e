/* Extraction against data_extraction_schema, the check-goal verdict, and
 * surfacing of user-defined error codes. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>

int sky_agent_extract(sky_run *r, const char *goal, const char *extraction_goal,
                      json_t **value)
{
	sky_obs *o = NULL;
	sky_planner_prompt *p = NULL;
	char *answer = NULL;
	json_t *messages = NULL;
	int rc;
	*value = NULL;
	if ((rc = sky_agent_observe(r, 0, &o)))
		return rc;
	sky_planner_extract_input in = {0};
	in.goal = goal;
	in.data_extraction_goal =
	    extraction_goal ? extraction_goal
	                    : "Extract the information the schema asks for "
	                      "from the current page.";
	in.data_extraction_schema = json_is_null(r->schema) ? NULL : r->schema;
	in.navigation_payload = json_is_null(r->payload) ? NULL : r->payload;
	in.error_code_mapping = json_is_null(r->mapping) ? NULL : r->mapping;
	in.previous_output = r->output;
	sky_agent_page_input(o, &in.page);
	if ((rc = sky_planner_render_extract(&in, &p)))
		goto out;
	if ((rc = sky_agent_llm(r, p, o, &answer)))
		goto out;
	rc = sky_planner_parse_data(answer, in.data_extraction_schema, value,
	                            &messages);
	if (rc) {
		sky_agent_note_error(r, "the extraction answer was not JSON");
		goto out;
	}
	size_t i;
	json_t *m;
	json_array_foreach (messages, i, m)
		sky_log_info("agent", "run %s: extraction: %s",
		             r->task->task_id, json_string_value(m));
	if (json_array_size(messages) && r->step) {
		/* Wrong types are reported on the step, not hidden. */
		json_t *note =
		    json_pack("{s:O}", "extraction_warnings", messages);
		char *s = sky_json_dumps(note);
		sky_agent_artifact(r, "extraction_report", "extraction.json", s,
		                   strlen(s), 0);
		free(s);
		json_decref(note);
	}
	json_decref(r->output);
	r->output = json_incref(*value);
	/* Where the data was found: a replay reads it there (replay.c). */
	sky_agent_plan_locate(r, o, *value);
out:
	json_decref(messages);
	free(answer);
	sky_planner_prompt_free(p);
	sky_obs_free(o);
	return rc;
}

/* The history with the current step's actions so far as its last
 * entry (new reference). */
static json_t *history_with(const sky_run *r, const json_t *current)
{
	json_t *h = json_array();
	json_array_extend(h, r->history);
	if (r->step && json_array_size(current))
		json_array_append_new(
		    h,
		    json_pack("{s:i, s:i, s:s, s:O}", "order", r->step->order,
		              "retry_index", r->step->retry_index, "status",
		              "this step, so far", "actions", current));
	return h;
}

int sky_agent_check_goal(sky_run *r, const char *goal, sky_obs *o,
                         const json_t *current, char **reason)
{
	sky_planner_prompt *p = NULL;
	sky_planner_check *c = NULL;
	char *answer = NULL;
	int verdict = SKY_GOAL_CONTINUE;
	sky_obs *own = NULL;
	*reason = NULL;
	if (!o) {
		if (sky_agent_observe(r, 0, &own))
			return SKY_GOAL_CONTINUE;
		o = own;
	}
	sky_planner_check_input in = {0};
	json_t *notes = sky_json_loads(r->task->notes);
	in.goal = goal;
	in.complete_criterion = sky_json_str(notes, "complete_criterion");
	in.terminate_criterion = sky_json_str(notes, "terminate_criterion");
	in.navigation_payload = json_is_null(r->payload) ? NULL : r->payload;
	in.error_code_mapping = json_is_null(r->mapping) ? NULL : r->mapping;
	json_t *history = history_with(r, current);
	in.history = history;
	in.totp_available = r->totp_available;
	sky_agent_page_input(o, &in.page);
	int failed = sky_planner_render_check(&in, &p);
	json_decref(history);
	if (failed || sky_agent_llm(r, p, o, &answer) ||
	    sky_planner_parse_check(answer, &c))
		goto out;
	verdict = c->status;
	*reason = skyx_strdup(c->reason);
out:
	sky_planner_check_free(c);
	free(answer);
	sky_planner_prompt_free(p);
	sky_obs_free(own);
	json_decref(notes);
	return verdict;
}

/* Merge codes into r->errors, once each. */
static void add_errors(sky_run *r, const json_t *list)
{
	size_t i, k;
	json_t *e, *have;
	json_array_foreach (list, i, e) {
		const char *code = sky_json_str(e, "error_code");
		int dup = 0;
		json_array_foreach (r->errors, k, have)
			dup |=
			    skyx_str_eq(sky_json_str(have, "error_code"), code);
		if (code && !dup)
			json_array_append(r->errors, e);
	}
}

/*
 * On terminate or failure with an error_code_mapping: the codes the
 * terminate action named (already filtered to the mapping by the parser),
 * plus those a surface-error-codes call finds. Only codes from the
 * mapping survive.
 */
void sky_agent_surface_errors(sky_run *r, const char *reasoning,
                              const json_t *action_errors)
{
	sky_planner_prompt *p = NULL;
	char *answer = NULL;
	json_t *found = NULL;
	if (!json_is_object(r->mapping) || !json_object_size(r->mapping))
		return;
	if (action_errors)
		add_errors(r, action_errors);
	sky_planner_errors_input in = {0};
	in.goal = r->task->prompt ? r->task->prompt : "";
	in.error_code_mapping = r->mapping;
	in.reasoning = reasoning;
	in.history = r->history;
	if (sky_planner_render_errors(&in, &p) ||
	    sky_agent_llm(r, p, NULL, &answer) ||
	    sky_planner_parse_errors(answer, r->mapping, &found, NULL))
		goto out;
	add_errors(r, found);
out:
	json_decref(found);
	free(answer);
	sky_planner_prompt_free(p);
}
