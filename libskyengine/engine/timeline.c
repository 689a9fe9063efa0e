/*
 * GET /v1/runs/{id}/timeline for a task v2: Skyvern's list of
 * WorkflowRunTimeline entries, newest first. Each planning answer the run
 * stored (plan.answer.txt) is a "thought"; the mini-goal it chose, with
 * the steps run for it until the next plan and their actions, is a
 * "block" (navigation or extraction).
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "engine/response.h"
#include "planner/planner.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include <skyx/str.h>
#include <skyx/time.h>

static json_t *ts(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

/* runs/<id>/plan.answer.txt, then runs/<id>/<k>-plan.answer.txt. */
static int is_plan_answer(const sky_artifact_rec *a)
{
	static const char name[] = "plan.answer.txt";
	size_t n = strlen(a->path), m = sizeof name - 1;
	return !a->step_id && n >= m && !strcmp(a->path + n - m, name) &&
	       (n == m || a->path[n - m - 1] == '/' ||
	        a->path[n - m - 1] == '-');
}

static json_t *thought(const sky_task_rec *t, const sky_artifact_rec *a,
                       const sky_planner_plan *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "thought_id", json_string(a->artifact_id));
	json_object_set_new(o, "task_id", json_string(t->task_id));
	json_object_set_new(o, "organization_id",
	                    sky_json_str_or_null(t->organization_id));
	json_object_set_new(o, "workflow_run_id", json_null());
	json_object_set_new(o, "workflow_run_block_id", json_null());
	json_object_set_new(o, "workflow_id", json_null());
	json_object_set_new(o, "workflow_permanent_id",
	                    sky_json_str_or_null(t->workflow_permanent_id));
	json_object_set_new(o, "user_input", sky_json_str_or_null(t->prompt));
	json_object_set_new(o, "observation", json_null());
	json_object_set_new(o, "thought", sky_json_str_or_null(p->thoughts));
	json_object_set_new(
	    o, "answer",
	    sky_json_str_or_null(p->plan ? p->plan : p->termination_reason));
	json_object_set_new(o, "thought_type", json_string("plan"));
	json_object_set_new(o, "thought_scenario",
	                    json_string("generate_plan"));
	json_object_set_new(o, "output", json_null());
	json_object_set_new(o, "created_at", ts(a->created_at));
	json_object_set_new(o, "modified_at", ts(a->created_at));
	return json_pack("{s:s, s:n, s:o, s:[], s:o, s:o}", "type", "thought",
	                 "block", "thought", o, "children", "created_at",
	                 ts(a->created_at), "modified_at", ts(a->created_at));
}

/* The block of mini-goal `n`, without its steps yet. */
static json_t *block(const sky_task_rec *t, const sky_artifact_rec *a,
                     const sky_planner_plan *p, int n)
{
	int extract = skyx_str_eq(p->task_type, "extract");
	char label[32];
	snprintf(label, sizeof label, "mini_goal_%d", n);
	json_t *o = json_object();
	json_object_set_new(o, "workflow_run_block_id",
	                    json_string(a->artifact_id));
	json_object_set_new(o, "block_workflow_run_id", json_null());
	json_object_set_new(o, "workflow_run_id", json_string(t->task_id));
	json_object_set_new(o, "organization_id",
	                    sky_json_str_or_null(t->organization_id));
	json_object_set_new(o, "description", sky_json_str_or_null(p->plan));
	json_object_set_new(o, "parent_workflow_run_block_id", json_null());
	json_object_set_new(o, "block_type",
	                    json_string(extract ? "extraction" : "navigation"));
	json_object_set_new(o, "label", json_string(label));
	json_object_set_new(o, "status", json_null());
	json_object_set_new(o, "output", json_null());
	json_object_set_new(o, "continue_on_failure", json_false());
	json_object_set_new(o, "failure_reason", json_null());
	json_object_set_new(o, "error_codes", json_array());
	json_object_set_new(o, "engine", json_string("skyvern-1.0"));
	json_object_set_new(o, "task_id", json_string(t->task_id));
	json_object_set_new(o, "url", sky_json_str_or_null(p->url));
	json_object_set_new(o, "final_url", json_null());
	json_object_set_new(o, "navigation_goal",
	                    extract ? json_null()
	                            : sky_json_str_or_null(p->plan));
	json_object_set_new(o, "navigation_payload", json_null());
	json_object_set_new(o, "data_extraction_goal",
	                    extract ? sky_json_str_or_null(p->plan)
	                            : json_null());
	json_object_set_new(o, "data_schema", json_null());
	json_object_set_new(o, "terminate_criterion", json_null());
	json_object_set_new(o, "complete_criterion", json_null());
	json_object_set_new(o, "actions", json_array());
	json_object_set_new(o, "created_at", ts(a->created_at));
	json_object_set_new(o, "modified_at", ts(a->created_at));
	json_object_set_new(o, "include_action_history_in_verification",
	                    json_false());
	json_object_set_new(o, "include_extracted_text", json_true());
	json_object_set_new(o, "duration", json_null());
	return o;
}

/* Skyvern's first block of a task v2 with a URL: goto_url, "Go to this
 * website: URL". `id` names it (the failed step's id, or the run's). */
static json_t *goto_block(const sky_task_rec *t, const char *id, int64_t at,
                          int n)
{
	char label[32];
	snprintf(label, sizeof label, "goto_url_%d", n);
	char *goal = skyx_asprintf("Go to this website: %s", t->url);
	sky_planner_plan p = {0};
	p.plan = goal;
	p.url = t->url;
	sky_artifact_rec a = {0};
	a.artifact_id = (char *)id;
	a.created_at = at;
	json_t *o = block(t, &a, &p, n);
	json_object_set_new(o, "block_type", json_string("goto_url"));
	json_object_set_new(o, "label", json_string(label));
	json_object_set_new(o, "navigation_goal", json_null());
	json_object_set_new(o, "data_extraction_goal", json_null());
	free(goal);
	return o;
}

/* Add a step (and its actions) to a block: status and times follow the
 * latest step. */
static void add_step(json_t *blk, const sky_task_rec *t, const sky_step_rec *st,
                     const sky_action_list *acts)
{
	json_t *list = json_object_get(blk, "actions");
	for (size_t i = 0; acts && i < acts->count; i++)
		if (skyx_str_eq(acts->items[i].step_id, st->step_id))
			json_array_append_new(
			    list, sky_response_action(t, &acts->items[i]));
	json_object_set_new(blk, "status",
	                    json_string(sky_step_status_name(st->status)));
	json_object_set_new(blk, "modified_at", ts(st->modified_at));
	json_t *c = json_object_get(blk, "created_at");
	int64_t start = 0;
	if (json_string_value(c))
		skyx_time_parse_iso(json_string_value(c), &start);
	if (start && st->modified_at >= start)
		json_object_set_new(
		    blk, "duration",
		    json_real((st->modified_at - start) / 1000.0));
}

static int newest_first(const void *a, const void *b)
{
	const char *x = sky_json_str(*(json_t *const *)a, "created_at");
	const char *y = sky_json_str(*(json_t *const *)b, "created_at");
	return strcmp(y ? y : "", x ? x : "");
}

static json_t *build(sky_engine *e, const sky_task_rec *t)
{
	sky_artifact_list *arts = NULL;
	sky_step_list *steps = NULL;
	sky_action_list *acts = NULL;
	json_t *items = json_array();
	/* Per plan answer, in order: its block (NULL for done/terminate). */
	json_t **blocks = NULL;
	int64_t *starts = NULL;
	size_t nb = 0;
	int n = 0;

	sky_store_artifact_list(e->store, t->task_id, SKY_ARTIFACT_LLM_RESPONSE,
	                        &arts);
	sky_store_step_list(e->store, t->task_id, &steps);
	sky_store_action_list(e->store, t->task_id, NULL, &acts);
	for (size_t i = 0; arts && i < arts->count; i++) {
		const sky_artifact_rec *a = &arts->items[i];
		if (!is_plan_answer(a))
			continue;
		char *path = skyx_asprintf("%s/%s", e->artifact_root, a->path);
		char *text = path ? skyx_read_file(path, NULL) : NULL;
		sky_planner_plan *p = NULL;
		free(path);
		if (!text || sky_planner_parse_plan(text, NULL, &p)) {
			free(text);
			continue;
		}
		free(text);
		json_array_append_new(items, thought(t, a, p));
		json_t **nbk = realloc(blocks, (nb + 1) * sizeof *nbk);
		int64_t *nst = realloc(starts, (nb + 1) * sizeof *nst);
		if (nbk)
			blocks = nbk;
		if (nst)
			starts = nst;
		if (nbk && nst) {
			blocks[nb] = p->decision == SKY_PLAN_NEXT
			                 ? block(t, a, p, ++n)
			                 : NULL;
			starts[nb++] = a->created_at;
		}
		sky_planner_plan_free(p);
	}
	/* A step belongs to the last plan made before it; the step of a
	 * start URL that did not open is the goto_url block's. */
	json_t *gotos = json_array();
	for (size_t i = 0; steps && i < steps->count; i++) {
		const sky_step_rec *st = &steps->items[i];
		json_t *owner = NULL;
		json_t *out = sky_json_loads(st->output);
		int is_goto =
		    t->url &&
		    skyx_str_eq(sky_json_str(out, "task_type"), "goto_url");
		if (is_goto) {
			json_t *g = goto_block(t, st->step_id, st->created_at,
			                       (int)json_array_size(gotos) + 1);
			add_step(g, t, st, acts);
			json_t *err =
			    json_array_get(json_object_get(out, "errors"), 0);
			if (json_is_string(err))
				json_object_set(g, "failure_reason", err);
			json_array_append_new(gotos, g);
		}
		json_decref(out);
		if (is_goto)
			continue;
		for (size_t k = 0; k < nb; k++)
			if (starts[k] <= st->created_at)
				owner = blocks[k];
		if (owner)
			add_step(owner, t, st, acts);
	}
	for (size_t k = 0; k < nb; k++) {
		if (!blocks[k])
			continue;
		json_t *created = json_object_get(blocks[k], "created_at");
		json_t *modified = json_object_get(blocks[k], "modified_at");
		json_array_append_new(
		    items, json_pack("{s:s, s:o, s:n, s:[], s:O, s:O}", "type",
		                     "block", "block", blocks[k], "thought",
		                     "children", "created_at", created,
		                     "modified_at", modified));
	}
	/* The start URL opened: its block ends where the first plan or
	 * step begins (the page is open by then). */
	if (t->url && *t->url && !json_array_size(gotos) &&
	    (nb || (steps && steps->count))) {
		int64_t start = t->started_at ? t->started_at : t->created_at;
		int64_t end = nb ? starts[0] : steps->items[0].created_at;
		char *gid = skyx_asprintf("%s_goto_url", t->task_id);
		json_t *g = goto_block(t, gid, start, 1);
		json_object_set_new(g, "status", json_string("completed"));
		json_object_set_new(g, "modified_at", ts(end));
		if (end >= start)
			json_object_set_new(g, "duration",
			                    json_real((end - start) / 1000.0));
		json_array_append_new(gotos, g);
		free(gid);
	}
	size_t gi;
	json_t *g;
	json_array_foreach (gotos, gi, g)
		json_array_append_new(
		    items,
		    json_pack("{s:s, s:O, s:n, s:[], s:O, s:O}", "type",
		              "block", "block", g, "thought", "children",
		              "created_at", json_object_get(g, "created_at"),
		              "modified_at",
		              json_object_get(g, "modified_at")));
	json_decref(gotos);
	free(blocks);
	free(starts);
	sky_artifact_list_free(arts);
	sky_step_list_free(steps);
	sky_action_list_free(acts);

	/* Newest first, as Skyvern sorts the flattened timeline. */
	size_t count = json_array_size(items);
	json_t **v = calloc(count ? count : 1, sizeof *v);
	json_t *out = json_array();
	for (size_t i = 0; v && i < count; i++)
		v[i] = json_array_get(items, i);
	if (v)
		qsort(v, count, sizeof *v, newest_first);
	for (size_t i = 0; v && i < count; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(items);
	return out;
}

int sky_tasks_api_run_timeline(char **out_json, sky_engine *e, const char *org,
                               const char *run_id)
{
	sky_task_rec *t = NULL;
	if (!e || !run_id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, run_id and out_json "
		                     "are required");
	*out_json = NULL;
	const char *o = sky_engine__org_scope(e, org);
	if (sky_store_task_get(e->store, o, run_id, &t))
		return sky_error_set(SKY_ENOTFOUND, "Run not found %s", run_id);
	if (strcmp(t->run_type, SKY_RUN_TYPE_V2)) {
		int rc = sky_error_set(SKY_EUNSUPPORTED,
		                       "Timeline not available for run type %s",
		                       t->run_type);
		sky_task_rec_free(t);
		return rc;
	}
	json_t *arr = build(e, t);
	sky_task_rec_free(t);
	*out_json = arr ? sky_json_dumps(arr) : NULL;
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}
