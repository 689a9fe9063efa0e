/*
 * Task v1: the step loop. Each step observes the page, asks the planner
 * for actions, executes them in order (nothing runs after a COMPLETE or
 * TERMINATE), records the step, and decides: completed, terminated, next
 * step, retry of the same step (retry_index + 1), or failed.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

/* What a step ended with. */
typedef enum step_outcome {
	STEP_CONTINUE = 0, /* completed, no decision: next step */
	STEP_COMPLETE,     /* the goal is reached */
	STEP_TERMINATE,    /* the planner gave up, with a reason */
	STEP_FAILED,       /* retry this step */
	STEP_CANCELED,
} step_outcome;

typedef struct step_state {
	step_outcome outcome;
	char *reason;          /* terminate/complete reasoning, failure */
	json_t *action_errors; /* errors[] of a terminate action */
	json_t *pairs;         /* [[action, [result]]] for the step output */
	json_t *hist_actions;  /* [{"action","result"}] for the history */
	json_t *rejected;
} step_state;

static const char MINI_GOAL[] =
    "Achieve the following mini goal and once it is achieved, complete: "
    "%s\n\nThis mini goal is part of the big goal the user wants to "
    "achieve; use the big goal as context to achieve the mini goal: %s";

static void emit_step(sky_run *r, sky_event_type type, json_t *extra)
{
	json_t *o = json_pack("{s:s, s:i, s:i, s:s}", "step_id",
	                      r->step->step_id, "order", r->step->order,
	                      "retry_index", r->step->retry_index, "status",
	                      sky_step_status_name(r->step->status));
	if (extra)
		json_object_update(o, extra);
	char *s = sky_json_dumps(o);
	sky_agent_emit(r, type, sky_step_status_name(r->step->status),
	               r->step->order, r->step->retry_index, s);
	free(s);
	json_decref(o);
}

static int set_step(sky_run *r, sky_step_status st)
{
	sky_step_rec *n = NULL;
	int rc =
	    sky_store_step_set_status(r->env->store, r->step->step_id, st, &n);
	if (!rc) {
		sky_step_rec_free(r->step);
		r->step = n;
	}
	return rc;
}

/* Record one action and its result (store, history, event). */
static void record_action(sky_run *r, step_state *s, const json_t *action,
                          const json_t *result, const char *status,
                          const char *intent_id)
{
	char *aj = sky_json_dumps(action), *rj = sky_json_dumps(result);
	/* A typed password is a secret in the store as in the log. */
	char *caj = sky_redact(aj), *crj = sky_redact(rj);
	if (intent_id)
		sky_store_action_finish(r->env->store, intent_id,
		                        crj ? crj : rj, status);
	else
		sky_store_action_append(r->env->store, r->step->step_id,
		                        caj ? caj : aj, crj ? crj : rj, status,
		                        NULL);
	free(caj);
	free(crj);
	json_array_append_new(s->pairs, json_pack("[O,[O]]", action, result));
	json_array_append_new(
	    s->hist_actions,
	    json_pack("{s:O, s:O}", "action", action, "result", result));
	json_t *ev =
	    json_pack("{s:O, s:O}", "action", action, "result", result);
	char *evs = sky_json_dumps(ev);
	sky_agent_emit(r, SKY_EVENT_ACTION, status, r->step->order,
	               r->step->retry_index, evs);
	free(evs);
	json_decref(ev);
	free(aj);
	free(rj);
}

static int later_targets_same(const json_t *actions, size_t i, const char *id)
{
	if (!id)
		return 0;
	for (size_t k = i + 1; k < json_array_size(actions); k++)
		if (skyx_str_eq(
		        sky_json_str(json_array_get(actions, k), "element_id"),
		        id))
			return 1;
	return 0;
}

static json_t *ok_result(void)
{
	return json_pack("{s:b}", "success", 1);
}

/* COMPLETE from the planner: verified by check-goal unless configured
 * off. The check sees what this step did before the COMPLETE (an
 * extraction, a submit): the history gets it only when the step ends.
 * Returns 1 when the goal is reached. */
static int accept_complete(sky_run *r, const char *goal, sky_obs *o,
                           const step_state *s, json_t *action, json_t **result,
                           char **why)
{
	*why = NULL;
	if (r->env->config->check_goal < 1 ||
	    json_is_true(json_object_get(action, "verified"))) {
		*result = ok_result();
		return 1;
	}
	/* The page may have changed since the observation: look again. */
	(void)o;
	char *reason = NULL;
	int verdict =
	    sky_agent_check_goal(r, goal, NULL, s->hist_actions, &reason);
	if (verdict == SKY_GOAL_COMPLETE) {
		*result = json_pack("{s:b, s:s?}", "success", 1, "verified_by",
		                    reason);
		free(reason);
		return 1;
	}
	*result =
	    json_pack("{s:b, s:s, s:s}", "success", 0, "error",
	              "goal_not_reached", "message",
	              reason ? reason : "the check found the goal not reached");
	*why = reason;
	return 0;
}

static void execute_actions(sky_run *r, const char *goal, sky_obs *o,
                            const json_t *actions, step_state *s)
{
	size_t n = json_array_size(actions);
	int stop = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(actions, i);
		const char *type = sky_json_str(a, "action_type");
		const char *reasoning = sky_json_str(a, "reasoning");
		json_t *result = NULL;
		if (stop) {
			json_t *skip =
			    json_pack("{s:b, s:s, s:s}", "success", 0, "error",
			              "skipped", "message",
			              "not run: an earlier action of "
			              "this step failed");
			record_action(r, s, a, skip, "skipped", NULL);
			json_decref(skip);
			continue;
		}
		if (sky_agent_canceled(r)) {
			s->outcome = STEP_CANCELED;
			return;
		}
		int64_t t0 = skyx_time_mono_ms();
		if (!strcmp(type, "complete")) {
			char *why = NULL;
			if (accept_complete(r, goal, o, s, a, &result, &why)) {
				s->outcome = STEP_COMPLETE;
				s->reason = skyx_strdup(reasoning);
			} else {
				sky_agent_note_error(r, "complete rejected: %s",
				                     why ? why : "?");
			}
			free(why);
			if (s->outcome == STEP_COMPLETE)
				sky_agent_plan_note(r, o, a, result);
			record_action(r, s, a, result,
			              s->outcome == STEP_COMPLETE ? "completed"
			                                          : "failed",
			              NULL);
			json_decref(result);
			break; /* nothing runs after COMPLETE */
		}
		if (!strcmp(type, "terminate")) {
			s->outcome = STEP_TERMINATE;
			s->reason = skyx_strdup(reasoning && *reasoning
			                            ? reasoning
			                            : "the planner gave up "
			                              "without a reason");
			s->action_errors =
			    json_incref(json_object_get(a, "errors"));
			result = ok_result();
			record_action(r, s, a, result, "completed", NULL);
			json_decref(result);
			break; /* nothing runs after TERMINATE */
		}
		char *intent = NULL, *why = NULL;
		if (sky_agent_intent_blocked(r, a, o, &why)) {
			s->outcome = STEP_TERMINATE;
			free(s->reason);
			s->reason = why;
			result =
			    json_pack("{s:b, s:s, s:s}", "success", 0, "error",
			              "outcome_unknown", "message", why);
			record_action(r, s, a, result, "skipped", NULL);
			json_decref(result);
			break;
		}
		if (!strcmp(type, "extract")) {
			json_t *value = NULL;
			int rc = sky_agent_extract(
			    r, goal, sky_json_str(a, "data_extraction_goal"),
			    &value);
			result =
			    rc ? json_pack(
			             "{s:b, s:s, s:s}", "success", 0, "error",
			             "extraction_failed", "message",
			             sky_error_last() ? sky_error_last() : "?")
			       : json_pack("{s:b, s:O}", "success", 1, "data",
			                   value);
			json_decref(value);
		} else {
			sky_agent_plan_before_action(r);
			intent = sky_agent_intent_issue(r, a, o);
			int rc = sky_agent_act(r, a, o, &result);
			r->browser_lost |= rc == SKY_EBROWSER;
			if (rc == SKY_EBROWSER)
				sky_log_warn("agent",
				             "run %s: browser error: %s",
				             r->task->task_id,
				             sky_json_str(result, "message"));
		}
		r->t.act += (int)(skyx_time_mono_ms() - t0);
		int ok = json_is_true(json_object_get(result, "success"));
		if (ok) /* replay.c: the plan keeps what worked */
			sky_agent_plan_note(r, o, a, result);
		record_action(r, s, a, result, ok ? "completed" : "failed",
		              intent);
		free(intent);
		if (sky_agent_canceled(r)) {
			/* Stop within this action: nothing more runs. */
			json_decref(result);
			s->outcome = STEP_CANCELED;
			return;
		}
		if (!ok) {
			const char *err = sky_json_str(result, "error");
			const char *msg = sky_json_str(result, "message");
			sky_agent_note_error(
			    r, "%s%s%s failed: %s", type,
			    sky_json_str(a, "element_id") ? " #" : "",
			    sky_json_str(a, "element_id")
			        ? sky_json_str(a, "element_id")
			        : "",
			    msg   ? msg
			    : err ? err
			          : "?");
			if (err && !strcmp(err, "no_verification_code")) {
				/* No code can come: stop with the reason. */
				s->outcome = STEP_TERMINATE;
				s->reason = skyx_strdup(msg);
				json_decref(result);
				break;
			}
			if (!later_targets_same(
			        actions, i, sky_json_str(a, "element_id"))) {
				s->outcome = STEP_FAILED;
				free(s->reason);
				s->reason = skyx_strdup(r->last_error);
				stop = 1;
			}
		}
		json_decref(result);
	}
}

static char *compose_goal(const sky_v1_goal *g)
{
	/* A mini-goal that is the whole goal needs no framing. */
	if (g->big_goal && strcmp(g->big_goal, g->goal))
		return skyx_asprintf(MINI_GOAL, g->goal, g->big_goal);
	return skyx_strdup(g->goal);
}

/* The step's screenshot, once (*done): waited for when it is taken
 * beside the model call (r->t.screenshot is then the wait), and
 * recorded. */
static void record_screenshot(sky_run *r, sky_obs *o, int *done)
{
	if (!o || *done)
		return;
	*done = 1;
	sky_obs_screenshot_wait(o);
	r->t.screenshot = o->screenshot_ms;
	if (!o->png)
		return;
	int64_t t0 = skyx_time_mono_ms();
	sky_agent_artifact(r, SKY_ARTIFACT_SCREENSHOT_LLM, "screenshot.jpg",
	                   o->png, o->png_len, 0);
	r->t.record += (int)(skyx_time_mono_ms() - t0);
}

/* One step: observe, plan, act. Fills `s`. */
static void run_step(sky_run *r, const sky_v1_goal *g, step_state *s)
{
	sky_obs *o = NULL;
	sky_planner_prompt *p = NULL;
	sky_planner_actions *pa = NULL;
	char *answer = NULL;
	char *goal = compose_goal(g);
	int64_t t0 = skyx_time_mono_ms();
	/* The request's complete/terminate criteria (engine/request.c). */
	json_t *notes = sky_json_loads(r->task->notes);
	int rc;

	int shot_done = 0;
	if ((rc = sky_agent_observe(
	         r, r->env->config->screenshots ? SKY_OBS_SHOT_RECORDING : 0,
	         &o))) {
		r->browser_lost |= rc == SKY_EBROWSER;
		sky_agent_note_error(r, "could not read the page: %s",
		                     sky_error_last());
		goto failed;
	}
	sky_agent_plan_begin_step(r, o);
	r->t.settle = o->settle_ms;
	r->t.snapshot = o->snapshot_ms;
	r->t.tree = o->tree_ms;
	r->t.state = o->state_ms;
	int64_t t_rec = skyx_time_mono_ms();
	if (!o->shot) /* else recorded once the model answered */
		record_screenshot(r, o, &shot_done);
	if (o->tree)
		sky_agent_artifact(r, SKY_ARTIFACT_ELEMENT_TREE,
		                   "element_tree.txt", o->tree, strlen(o->tree),
		                   1);

	r->t.record = (int)(skyx_time_mono_ms() - t_rec);
	int64_t t1 = skyx_time_mono_ms();
	sky_planner_actions_input in = {0};
	in.goal = goal;
	in.navigation_payload = json_is_null(r->payload) ? NULL : r->payload;
	in.error_code_mapping = json_is_null(r->mapping) ? NULL : r->mapping;
	in.data_extraction_schema = json_is_null(r->schema) ? NULL : r->schema;
	in.data_extraction_goal = g->extraction_goal;
	in.complete_criterion = sky_json_str(notes, "complete_criterion");
	in.terminate_criterion = sky_json_str(notes, "terminate_criterion");
	sky_agent_page_input(o, &in.page);
	in.history = r->history;
	in.totp_available = r->totp_available;
	in.credential = r->cred != NULL;
	in.step.order = r->step->order;
	in.step.retry_index = r->step->retry_index;
	in.step.max_steps = r->max_steps;
	rc = sky_planner_render_actions(&in, &p);
	r->t.prompt = (int)(skyx_time_mono_ms() - t1);
	if (rc) {
		sky_agent_note_error(r, "could not build the prompt: %s",
		                     sky_error_last());
		goto failed;
	}
	rc = sky_agent_llm(r, p, o, &answer);
	record_screenshot(r, o, &shot_done);
	if (rc == SKY_ECANCELED) {
		s->outcome = STEP_CANCELED;
		goto out;
	}
	if (rc) {
		sky_agent_note_error(r, "the model call failed: %s",
		                     sky_error_last());
		goto failed;
	}
	sky_planner_parse_ctx pc = {0};
	pc.elements = o->elements;
	pc.snapshot = o->snapshot;
	pc.url_map = o->url_map;
	pc.page_url = o->url;
	pc.goal = goal;
	pc.navigation_payload = in.navigation_payload;
	pc.error_code_mapping = in.error_code_mapping;
	pc.tabs = json_object_get(o->state, "tabs");
	pc.totp_available = r->totp_available;
	int64_t t2 = skyx_time_mono_ms();
	rc = sky_planner_parse_actions(answer, &pc, &pa);
	r->t.parse = (int)(skyx_time_mono_ms() - t2);
	if (rc) {
		sky_agent_note_error(r, "the model's answer had no actions");
		goto failed;
	}
	s->rejected = json_incref(pa->rejected);
	if (!json_array_size(pa->actions)) {
		json_t *first = json_array_get(pa->rejected, 0);
		sky_agent_note_error(
		    r, "no valid action in the answer%s%s", first ? ": " : "",
		    first ? sky_json_str(first, "reason") : "");
		goto failed;
	}
	execute_actions(r, goal, o, pa->actions, s);
	goto out;
failed:
	record_screenshot(r, o, &shot_done);
	s->outcome = STEP_FAILED;
	free(s->reason);
	s->reason = skyx_strdup(r->last_error);
out:
	r->t.total = (int)(skyx_time_mono_ms() - t0);
	sky_planner_actions_free(pa);
	free(answer);
	sky_planner_prompt_free(p);
	sky_obs_free(o);
	json_decref(notes);
	free(goal);
}

static void finish_step(sky_run *r, step_state *s, const sky_v1_goal *g)
{
	json_t *out = json_object();
	json_object_set_new(out, "actions_and_results", json_incref(s->pairs));
	json_t *results = json_array();
	size_t i;
	json_t *pair;
	json_array_foreach (s->pairs, i, pair)
		json_array_extend(results, json_array_get(pair, 1));
	json_object_set_new(out, "action_results", results);
	json_object_set_new(out, "errors",
	                    s->outcome == STEP_FAILED && s->reason
	                        ? json_pack("[s]", s->reason)
	                        : json_array());
	if (json_array_size(s->rejected))
		json_object_set_new(out, "rejected_actions",
		                    json_incref(s->rejected));
	json_object_set_new(out, "url", sky_json_str_or_null(r->last_url));
	if (g->big_goal)
		json_object_set_new(out, "mini_goal", json_string(g->goal));
	const sky_step_timing *t = &r->t;
	json_object_set_new(
	    out, "timings_ms",
	    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, "
	              "s:i}",
	              "settle", t->settle, "snapshot", t->snapshot, "tree",
	              t->tree, "state", t->state, "screenshot", t->screenshot,
	              "record", t->record, "prompt", t->prompt, "llm", t->llm,
	              "parse", t->parse, "act", t->act, "total", t->total));
	char *txt = sky_json_dumps(out);
	char *clean = sky_redact(txt);
	sky_store_step_set_output(r->env->store, r->step->step_id,
	                          clean ? clean : txt);
	free(clean);
	free(txt);
	json_decref(out);

	json_array_append_new(
	    r->history,
	    json_pack("{s:i, s:i, s:s, s:O}", "order", r->step->order,
	              "retry_index", r->step->retry_index, "status",
	              s->outcome == STEP_FAILED ? "failed" : "completed",
	              "actions", s->hist_actions));
	sky_step_status st = s->outcome == STEP_FAILED     ? SKY_STEP_FAILED
	                     : s->outcome == STEP_CANCELED ? SKY_STEP_CANCELED
	                                                   : SKY_STEP_COMPLETED;
	set_step(r, st);
	if (s->outcome == STEP_COMPLETE || s->outcome == STEP_TERMINATE ||
	    s->outcome == STEP_CANCELED)
		sky_store_step_set_last(r->env->store, r->step->step_id);
	emit_step(r, SKY_EVENT_STEP_FINISHED, NULL);
}

static void step_state_clear(step_state *s)
{
	free(s->reason);
	json_decref(s->action_errors);
	json_decref(s->pairs);
	json_decref(s->hist_actions);
	json_decref(s->rejected);
	memset(s, 0, sizeof *s);
}

static int new_step(sky_run *r, int order, int retry)
{
	sky_step_rec_free(r->step);
	r->step = NULL;
	int rc = sky_store_step_create(r->env->store, r->task->task_id, order,
	                               retry, &r->step);
	if (rc)
		return rc;
	memset(&r->t, 0, sizeof r->t);
	if ((rc = set_step(r, SKY_STEP_RUNNING)))
		return rc;
	if (r->pending.input_tokens || r->pending.output_tokens) {
		sky_store_step_add_usage(r->env->store, r->step->step_id,
		                         &r->pending);
		memset(&r->pending, 0, sizeof r->pending);
	}
	emit_step(r, SKY_EVENT_STEP_STARTED, NULL);
	return 0;
}

/* A schema-only task: one step that extracts at once. */
static sky_agent_result extract_only(sky_run *r, const sky_v1_goal *g,
                                     char **reason)
{
	json_t *value = NULL;
	step_state s = {0};
	s.pairs = json_array();
	s.hist_actions = json_array();
	if (new_step(r, r->next_order, 0)) {
		*reason = skyx_asprintf("could not record a step: %s",
		                        sky_error_last());
		step_state_clear(&s);
		return SKY_AGENT_FAILED;
	}
	r->next_order++;
	json_t *a =
	    json_pack("{s:s, s:s}", "action_type", "extract", "reasoning",
	              "the task only asks for data: extract at once");
	int rc = sky_agent_extract(r, g->goal, g->extraction_goal, &value);
	json_t *res = rc ? json_pack("{s:b, s:s, s:s}", "success", 0, "error",
	                             "extraction_failed", "message",
	                             sky_error_last() ? sky_error_last() : "?")
	                 : json_pack("{s:b, s:O}", "success", 1, "data", value);
	record_action(r, &s, a, res, rc ? "failed" : "completed", NULL);
	s.outcome = rc ? STEP_FAILED : STEP_COMPLETE;
	if (rc) {
		sky_agent_note_error(r, "extraction failed: %s",
		                     sky_error_last());
		s.reason = skyx_strdup(r->last_error);
	}
	finish_step(r, &s, g);
	json_decref(a);
	json_decref(res);
	json_decref(value);
	if (rc) {
		*reason = skyx_strdup(s.reason);
		step_state_clear(&s);
		return SKY_AGENT_FAILED;
	}
	step_state_clear(&s);
	return SKY_AGENT_COMPLETED;
}

sky_agent_result sky_agent_v1(sky_run *r, const sky_v1_goal *g, char **reason)
{
	int first = r->next_order;
	int order = r->next_order;
	int retry = r->resume_retry;
	*reason = NULL;
	r->resume_retry = 0;
	if (g->extract_only)
		return extract_only(r, g, reason);

	for (;;) {
		if (sky_agent_stopping(r))
			return SKY_AGENT_PARKED;
		if (sky_agent_canceled(r))
			return SKY_AGENT_CANCELED;
		if (sky_agent_timed_out(r))
			return SKY_AGENT_TIMED_OUT;
		if (order - first >= g->max_steps) {
			char *why = sky_agent_failure_summary(r);
			*reason =
			    skyx_asprintf("Reached the maximum steps (%d). "
			                  "Possible failure reasons: %s",
			                  g->max_steps, why);
			free(why);
			r->next_order = order;
			return SKY_AGENT_FAILED;
		}
		if (new_step(r, order, retry)) {
			*reason = skyx_asprintf("could not record step %d: %s",
			                        order, sky_error_last());
			return SKY_AGENT_FAILED;
		}
		step_state s = {0};
		s.pairs = json_array();
		s.hist_actions = json_array();
		run_step(r, g, &s);
		if (s.outcome == STEP_CANCELED && sky_agent_stopping(r)) {
			/* Parked: the step is retried after the restart. */
			s.outcome = STEP_FAILED;
			free(s.reason);
			s.reason = skyx_strdup("the engine stopped during the "
			                       "step");
			finish_step(r, &s, g);
			step_state_clear(&s);
			return SKY_AGENT_PARKED;
		}
		finish_step(r, &s, g);

		if (s.outcome == STEP_CANCELED) {
			step_state_clear(&s);
			return SKY_AGENT_CANCELED;
		}
		if (s.outcome == STEP_COMPLETE) {
			*reason = skyx_strdup(s.reason);
			step_state_clear(&s);
			r->next_order = order + 1;
			return SKY_AGENT_COMPLETED;
		}
		if (s.outcome == STEP_TERMINATE) {
			*reason = skyx_strdup(s.reason);
			sky_agent_surface_errors(r, s.reason, s.action_errors);
			step_state_clear(&s);
			r->next_order = order + 1;
			return SKY_AGENT_TERMINATED;
		}
		if (s.outcome == STEP_FAILED) {
			step_state_clear(&s);
			if (retry >= r->max_retries) {
				char *why = sky_agent_failure_summary(r);
				*reason = skyx_asprintf(
				    "Max retries per step (%d) exceeded. "
				    "Possible failure reasons: %s",
				    r->max_retries, why);
				free(why);
				r->next_order = order + 1;
				return SKY_AGENT_FAILED;
			}
			/* Chromium killed or crashed: retry in a new one. */
			char *why = NULL;
			if (sky_agent_reopen_if_lost(r, &why)) {
				*reason =
				    skyx_asprintf("The browser was lost and "
				                  "could not be reopened: %s",
				                  why ? why : "?");
				free(why);
				r->next_order = order + 1;
				return SKY_AGENT_FAILED;
			}
			retry++;
			continue;
		}
		step_state_clear(&s);
		/* A step without a decision: ask whether the goal is met. */
		if (r->env->config->check_goal >= 2) {
			char *why = NULL;
			char *goal = compose_goal(g);
			int v = sky_agent_check_goal(r, goal, NULL, NULL, &why);
			free(goal);
			if (v == SKY_GOAL_COMPLETE) {
				*reason = why;
				r->next_order = order + 1;
				return SKY_AGENT_COMPLETED;
			}
			if (v == SKY_GOAL_TERMINATE) {
				*reason =
				    why ? why
				        : skyx_strdup("the goal cannot be "
				                      "reached");
				sky_agent_surface_errors(r, *reason, NULL);
				r->next_order = order + 1;
				return SKY_AGENT_TERMINATED;
			}
			free(why);
		}
		order++;
		retry = 0;
	}
}
