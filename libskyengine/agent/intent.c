/*
 * Write-ahead of side effects. Every browser action is stored as
 * `issued` before it is dispatched and finished once its result is known,
 * so a crash between the two leaves a record of what was sent to the
 * page. On resume those actions become `unknown`: the planner is told
 * their outcome is unknown, and one that may have submitted something (a
 * click on a button or link, Enter) is not repeated blindly: the run
 * ends with a clear reason instead, unless the page shows the goal was
 * reached (the planner's COMPLETE is verified as always).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/agent.h"
#include "util/json.h"
#include "util/log.h"
#include "util/resource.h"
#include <skyx/str.h>

/* The element an action targets in the observation, described by what
 * survives a reload (tag, role, type, label), or NULL. */
static json_t *describe_target(const sky_obs *o, const json_t *action)
{
	const char *id = sky_json_str(action, "element_id");
	size_t i;
	json_t *el;
	if (!id || !o)
		return NULL;
	json_array_foreach (o->elements, i, el) {
		if (!skyx_str_eq(sky_json_str(el, "id"), id))
			continue;
		const char *label = sky_json_str(el, "label");
		if (!label || !*label)
			label = sky_json_str(el, "text");
		return json_pack(
		    "{s:s?, s:s?, s:s?, s:s?}", "tag", sky_json_str(el, "tag"),
		    "role", sky_json_str(el, "role"), "type",
		    sky_json_str(json_object_get(el, "attrs"), "type"), "label",
		    label);
	}
	return NULL;
}

static int in_list(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (!strcasecmp(s, *list))
			return 1;
	return 0;
}

/* 1 when carrying `action` out may have an effect beyond the page: a
 * click on a button or link (a submit, a purchase), Enter in a field. */
static int may_submit(const json_t *action, const json_t *target)
{
	const char *type = sky_json_str(action, "action_type");
	if (!type)
		return 0;
	if (!strcmp(type, "input_text"))
		return json_is_true(json_object_get(action, "press_enter"));
	if (!strcmp(type, "keypress")) {
		size_t i;
		json_t *k;
		json_array_foreach (json_object_get(action, "keys"), i, k)
			if (json_is_string(k) &&
			    strcasestr(json_string_value(k), "enter"))
				return 1;
		return 0;
	}
	if (strcmp(type, "click"))
		return 0;
	static const char *const tags[] = {"button", "a", NULL};
	static const char *const roles[] = {"button", "link", "menuitem", NULL};
	static const char *const types[] = {"submit", "button", "image", NULL};
	const char *tag = sky_json_str(target, "tag");
	return in_list(tag, tags) ||
	       in_list(sky_json_str(target, "role"), roles) ||
	       (tag && !strcasecmp(tag, "input") &&
	        in_list(sky_json_str(target, "type"), types));
}

char *sky_agent_intent_issue(sky_run *r, const json_t *action, const sky_obs *o)
{
	json_t *a = json_deep_copy(action);
	json_t *target = describe_target(o, action);
	if (!a) {
		json_decref(target);
		return NULL;
	}
	if (target)
		json_object_set_new(a, "target", target);
	char *aj = sky_json_dumps(a);
	char *red = aj ? sky_redact(aj) : NULL;
	sky_action_rec *rec = NULL;
	char *id = NULL;
	if (aj && !sky_store_action_append(r->env->store, r->step->step_id,
	                                   red ? red : aj, NULL,
	                                   SKY_ACTION_ISSUED, &rec))
		id = skyx_strdup(rec->action_id);
	sky_action_rec_free(rec);
	free(red);
	free(aj);
	json_decref(a);
	return id;
}

static int same_label(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

int sky_agent_intent_blocked(const sky_run *r, const json_t *action,
                             const sky_obs *o, char **why)
{
	*why = NULL;
	if (!json_array_size(r->unknown_effects))
		return 0;
	json_t *target = describe_target(o, action);
	int hit = 0;
	if (may_submit(action, target)) {
		size_t i;
		json_t *u;
		const char *type = sky_json_str(action, "action_type");
		json_array_foreach (r->unknown_effects, i, u) {
			json_t *ut = json_object_get(u, "target");
			if (!skyx_str_eq(sky_json_str(u, "action_type"), type))
				continue;
			/* Enter without a target, or the same control. */
			if ((!ut && !target) ||
			    same_label(sky_json_str(ut, "label"),
			               sky_json_str(target, "label"))) {
				const char *l = sky_json_str(ut, "label");
				*why = skyx_asprintf(
				    "Interrupted after %s%s%s%s: the outcome "
				    "is "
				    "unknown, and the run does not do it again "
				    "(it may have been submitted already)",
				    strcmp(type, "click") ? "pressing Enter"
				                          : "clicking",
				    l ? " \"" : "", l ? l : "", l ? "\"" : "");
				hit = 1;
				break;
			}
		}
	}
	json_decref(target);
	return hit;
}

void sky_agent_intent_resume(sky_run *r, sky_action_list *acts)
{
	static const char msg[] =
	    "the run was interrupted after this action was sent to the page: "
	    "whether it took effect is unknown; check the page before doing "
	    "it again";
	json_t *res = json_pack("{s:b, s:s, s:s}", "success", 0, "error",
	                        "outcome_unknown", "message", msg);
	char *rj = sky_json_dumps(res);
	for (size_t i = 0; acts && rj && i < acts->count; i++) {
		sky_action_rec *a = &acts->items[i];
		if (!skyx_str_eq(a->status, SKY_ACTION_ISSUED))
			continue;
		sky_store_action_finish(r->env->store, a->action_id, rj,
		                        SKY_ACTION_UNKNOWN);
		free(a->result);
		a->result = skyx_strdup(rj);
		free(a->status);
		a->status = skyx_strdup(SKY_ACTION_UNKNOWN);
		json_t *aj = sky_json_loads(a->action);
		json_t *target = json_object_get(aj, "target");
		if (may_submit(aj, target)) {
			if (!r->unknown_effects)
				r->unknown_effects = json_array();
			json_array_append_new(
			    r->unknown_effects,
			    json_pack("{s:s?, s:O?}", "action_type",
			              sky_json_str(aj, "action_type"), "target",
			              target));
			sky_log_warn("agent",
			             "run %s: resumed after an action with an "
			             "unknown outcome (%s)",
			             r->task->task_id, a->action_type);
		}
		json_decref(aj);
	}
	free(rj);
	json_decref(res);
}
