/* Rendering of the model requests: for each purpose, a prompt from its
 * template, the context_json of internals §5 and the answer's JSON Schema.
 * Also the snapshot flattening that the prompts and the parser share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skyengine/plugin/llm.h>

#include "planner/planner.h"
#include "planner/template.h"
#include "planner/util.h"
#include "util/error.h"
#include "util/json.h"
#include "util/resource.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define FLATTEN_MAX_DEPTH 256
#define MAX_INPUTS 32

void sky_planner_prompt_free(sky_planner_prompt *p)
{
	if (!p)
		return;
	free(p->text);
	free(p->context_json);
	free(p->response_schema_json);
	free(p);
}

/* ---- flattening -------------------------------------------------------- */

static void copy_field(json_t *dst, const char *as, const json_t *src,
                       const char *key)
{
	json_t *v = json_object_get(src, key);
	if (v && !json_is_null(v))
		json_object_set(dst, as, v);
}

static json_t *flat_element(const json_t *el)
{
	json_t *f = json_object();
	json_t *attrs = json_object_get(el, "attrs");
	copy_field(f, "id", el, "id");
	copy_field(f, "tag", el, "tag");
	copy_field(f, "role", el, "role");
	copy_field(f, "type", attrs, "type");
	copy_field(f, "label", el, "label");
	copy_field(f, "name", attrs, "name");
	copy_field(f, "placeholder", attrs, "placeholder");
	copy_field(f, "href", attrs, "href");
	copy_field(f, "value", el, "value");
	copy_field(f, "text", el, "text");
	copy_field(f, "checked", el, "checked");
	copy_field(f, "required", el, "required");
	copy_field(f, "disabled", el, "disabled");
	copy_field(f, "readonly", el, "readonly");
	copy_field(f, "options", el, "options");
	copy_field(f, "group", el, "group");
	copy_field(f, "accept", attrs, "accept");
	copy_field(f, "multiple", attrs, "multiple");
	json_t *ce = json_object_get(attrs, "contenteditable");
	if (ce && !json_is_false(ce) &&
	    !skyx_str_eq(json_string_value(ce), "false"))
		json_object_set_new(f, "editable", json_true());
	return f;
}

static int flatten_into(const json_t *nodes, json_t *out, int depth)
{
	if (depth > FLATTEN_MAX_DEPTH)
		return sky_error_set(SKY_EINVALID,
		                     "snapshot nested deeper than %d levels",
		                     FLATTEN_MAX_DEPTH);
	size_t i;
	json_t *el;
	json_array_foreach (nodes, i, el) {
		if (!json_is_object(el))
			continue;
		json_t *id = json_object_get(el, "id");
		if (json_is_string(id) && *json_string_value(id))
			json_array_append_new(out, flat_element(el));
		json_t *kids = json_object_get(el, "children");
		if (json_is_array(kids)) {
			int rc = flatten_into(kids, out, depth + 1);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int sky_planner_flatten(const json_t *snapshot, json_t **elements)
{
	*elements = NULL;
	json_t *out = json_array();
	if (!out)
		return sky_error_from_code(SKY_ENOMEM);
	if (snapshot && !json_is_null(snapshot)) {
		json_t *roots = json_object_get(snapshot, "elements");
		if (!json_is_object(snapshot) ||
		    (roots && !json_is_array(roots))) {
			json_decref(out);
			return sky_error_set(SKY_EINVALID,
			                     "snapshot must be an object with "
			                     "an \"elements\" array");
		}
		int rc = flatten_into(roots, out, 0);
		if (rc) {
			json_decref(out);
			return rc;
		}
	}
	*elements = out;
	return 0;
}

/* ---- shared pieces ------------------------------------------------------- */

/* The history for context_json: as given, except that the text of a
 * verification-code entry is masked, since context_json may be recorded
 * (replay files) and a one-time code must not be. */
static json_t *history_context(const json_t *history)
{
	if (!json_is_array(history))
		return history ? json_incref((json_t *)history) : json_null();
	json_t *h = json_deep_copy(history);
	size_t i, j;
	json_t *step, *e;
	json_array_foreach (h, i, step) {
		json_array_foreach (json_object_get(step, "actions"), j, e) {
			json_t *a = json_object_get(e, "action");
			const char *t = sky_json_str(a, "action_type");
			if (json_object_get(a, "text") &&
			    (skyx_str_eq(t, "verification_code") ||
			     json_is_true(json_object_get(a, "totp"))))
				json_object_set_new(a, "text",
				                    json_string("******"));
		}
	}
	return h;
}

/* Inputs of one template, with the strings they own. */
struct inputs {
	sky_tmpl_input in[MAX_INPUTS];
	char *owned[MAX_INPUTS];
	size_t n, nowned;
};

static void in_set(struct inputs *x, const char *name, const char *value)
{
	if (x->n < MAX_INPUTS)
		x->in[x->n++] = (sky_tmpl_input){name, value};
}

/* Takes ownership of value. */
static void in_take(struct inputs *x, const char *name, char *value)
{
	if (value && x->nowned < MAX_INPUTS)
		x->owned[x->nowned++] = value;
	in_set(x, name, value);
}

static void in_free(struct inputs *x)
{
	for (size_t i = 0; i < x->nowned; i++)
		free(x->owned[i]);
}

static json_t *ref_or_null(const json_t *v)
{
	return v ? json_incref((json_t *)v) : json_null();
}

static void ctx_str(json_t *ctx, const char *key, const char *v)
{
	json_object_set_new(ctx, key, sky_json_str_or_null(v));
}

static char *dialogs_text(const json_t *dialogs)
{
	if (!json_array_size(dialogs))
		return NULL;
	skyx_buf b = {0};
	size_t i;
	json_t *d;
	json_array_foreach (dialogs, i, d) {
		const char *t = sky_json_str(d, "type");
		const char *m = sky_json_str(d, "message");
		skyx_buf_printf(&b, "- %s: %s\n", t ? t : "dialog", m ? m : "");
	}
	return skyx_buf_steal(&b);
}

static char *tabs_text(const json_t *tabs)
{
	if (json_array_size(tabs) < 2)
		return NULL; /* one tab says nothing the URL does not */
	skyx_buf b = {0};
	size_t i;
	json_t *t;
	json_array_foreach (tabs, i, t) {
		const char *title = sky_json_str(t, "title");
		const char *url = sky_json_str(t, "url");
		skyx_buf_printf(&b, "- tab_index %" JSON_INTEGER_FORMAT "%s: ",
		                sky_json_int(t, "index", (json_int_t)i),
		                json_is_true(json_object_get(t, "active"))
		                    ? " (current)"
		                    : "");
		skyx_buf_printf(&b, "%s <%s>\n", title ? title : "",
		                url ? url : "");
	}
	return skyx_buf_steal(&b);
}

static char *now_text(const char *now)
{
	char iso[SKYX_ISO_LEN];
	return skyx_strdup(now ? now : skyx_time_iso(skyx_time_now_ms(), iso));
}

static char *step_text(const sky_planner_step *s)
{
	skyx_buf b = {0};
	skyx_buf_printf(&b, "%d", s->order + 1);
	if (s->max_steps > 0)
		skyx_buf_printf(&b, " of at most %d", s->max_steps);
	if (s->retry_index > 0)
		skyx_buf_printf(&b,
		                ", attempt %d (the previous attempt of "
		                "this step failed; see its result below)",
		                s->retry_index + 1);
	return skyx_buf_steal(&b);
}

static int page_required(const sky_planner_page *pg, const char *purpose)
{
	if (!pg->url)
		return sky_error_set(SKY_EINVALID,
		                     "%s: the page URL is required", purpose);
	if (!pg->element_tree)
		return sky_error_set(
		    SKY_EINVALID, "%s: the element tree is required", purpose);
	return 0;
}

/* Page fields shared by purposes that show a page. */
static void page_inputs(struct inputs *x, const sky_planner_page *pg)
{
	in_set(x, "url", pg->url);
	in_set(x, "title", pg->title && *pg->title ? pg->title : NULL);
	in_set(x, "elements",
	       pg->element_tree && *pg->element_tree
	           ? pg->element_tree
	           : "(the page has no elements)");
}

static int page_context(json_t *ctx, const sky_planner_page *pg)
{
	ctx_str(ctx, "url", pg->url);
	ctx_str(ctx, "title", pg->title);
	json_object_set_new(ctx, "snapshot", ref_or_null(pg->snapshot));
	json_t *els = NULL;
	int rc = sky_planner_flatten(pg->snapshot, &els);
	if (rc)
		return rc;
	json_object_set_new(ctx, "elements", els);
	return 0;
}

static const char *schema_resource(const char *purpose)
{
	char path[96];
	snprintf(path, sizeof path, "planner/prompts/%s.schema.json", purpose);
	return sky_resource_get(path, NULL);
}

/* Render `purpose` with `x`, attach ctx and the answer schema. */
static int finish(const char *purpose, struct inputs *x, json_t *ctx,
                  char *schema, sky_planner_prompt **out)
{
	sky_planner_prompt *p = calloc(1, sizeof *p);
	int rc;
	if (!p) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto cleanup;
	}
	p->purpose = purpose;
	rc = sky_planner__tmpl_render_file(purpose, x->in, x->n, &p->text);
	if (rc)
		goto cleanup;
	p->context_json = sky_json_dumps(ctx);
	if (!p->context_json) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto cleanup;
	}
	p->response_schema_json = schema;
	schema = NULL;
	*out = p;
	p = NULL;
cleanup:
	free(schema);
	sky_planner_prompt_free(p);
	in_free(x);
	json_decref(ctx);
	return rc;
}

static int history_input(struct inputs *x, const json_t *history, size_t budget,
                         size_t *bytes)
{
	char *h = NULL;
	int rc = sky_planner_history_text(history, budget, &h);
	if (rc)
		return rc;
	if (bytes)
		*bytes = h ? strlen(h) : 0;
	if (h && !*h) {
		free(h);
		h = NULL;
	}
	in_take(x, "history", h);
	return 0;
}

/* The extract-actions answer schema, without VERIFICATION_CODE when the
 * run has no TOTP source (then the model cannot even propose it). */
static char *actions_schema(int totp)
{
	json_t *s = sky_json_loads(schema_resource("extract-actions"));
	if (!s)
		return NULL;
	json_t *en = json_object_get(
	    json_object_get(
	        json_object_get(
	            json_object_get(
	                json_object_get(json_object_get(s, "properties"),
	                                "actions"),
	                "items"),
	            "properties"),
	        "action_type"),
	    "enum");
	if (!totp && json_is_array(en)) {
		for (size_t i = 0; i < json_array_size(en); i++) {
			if (skyx_str_eq(
			        json_string_value(json_array_get(en, i)),
			        "VERIFICATION_CODE"))
				json_array_remove(en, i--);
		}
	}
	char *txt = sky_json_dumps(s);
	json_decref(s);
	return txt;
}

/* ---- purposes ---------------------------------------------------------- */

int sky_planner_render_actions(const sky_planner_actions_input *in,
                               sky_planner_prompt **out)
{
	struct inputs x = {0};
	size_t hbytes = 0;
	int rc;
	*out = NULL;
	if ((rc = page_required(&in->page, SKY_LLM_PURPOSE_EXTRACT_ACTIONS)))
		return rc;
	json_t *ctx = json_object();
	ctx_str(ctx, "purpose", SKY_LLM_PURPOSE_EXTRACT_ACTIONS);
	ctx_str(ctx, "goal", in->goal);
	json_object_set_new(ctx, "navigation_payload",
	                    ref_or_null(in->navigation_payload));
	json_object_set_new(ctx, "error_code_mapping",
	                    ref_or_null(in->error_code_mapping));
	ctx_str(ctx, "data_extraction_goal", in->data_extraction_goal);
	json_object_set_new(ctx, "data_extraction_schema",
	                    ref_or_null(in->data_extraction_schema));
	ctx_str(ctx, "complete_criterion", in->complete_criterion);
	ctx_str(ctx, "terminate_criterion", in->terminate_criterion);
	if ((rc = page_context(ctx, &in->page))) {
		json_decref(ctx);
		return rc;
	}
	json_object_set_new(ctx, "history", history_context(in->history));
	json_object_set_new(ctx, "dialogs", ref_or_null(in->page.dialogs));
	json_object_set_new(ctx, "tabs", ref_or_null(in->page.tabs));
	json_object_set_new(ctx, "totp_available",
	                    json_boolean(in->totp_available));
	char *now = now_text(in->now);
	ctx_str(ctx, "now", now);
	json_object_set_new(ctx, "step",
	                    json_pack("{s:i,s:i,s:i}", "order", in->step.order,
	                              "retry_index", in->step.retry_index,
	                              "max_steps", in->step.max_steps));

	in_set(&x, "goal", in->goal);
	in_take(&x, "payload", sky_planner__json_text(in->navigation_payload));
	in_take(&x, "error_codes",
	        json_object_size(in->error_code_mapping)
	            ? sky_planner__json_text(in->error_code_mapping)
	            : NULL);
	in_set(&x, "extraction_goal", in->data_extraction_goal);
	in_take(&x, "extraction_schema",
	        sky_planner__json_text(in->data_extraction_schema));
	in_set(&x, "complete_criterion", in->complete_criterion);
	in_set(&x, "terminate_criterion", in->terminate_criterion);
	page_inputs(&x, &in->page);
	in_take(&x, "dialogs", dialogs_text(in->page.dialogs));
	in_take(&x, "tabs", tabs_text(in->page.tabs));
	in_set(&x, "totp", in->totp_available ? "yes" : NULL);
	in_set(&x, "credential", in->credential ? "yes" : NULL);
	in_take(&x, "now", now);
	in_take(&x, "step", step_text(&in->step));
	if ((rc =
	         history_input(&x, in->history, in->history_budget, &hbytes))) {
		in_free(&x);
		json_decref(ctx);
		return rc;
	}
	rc = finish(SKY_LLM_PURPOSE_EXTRACT_ACTIONS, &x, ctx,
	            actions_schema(in->totp_available), out);
	if (!rc)
		(*out)->history_bytes = hbytes;
	return rc;
}

int sky_planner_render_check(const sky_planner_check_input *in,
                             sky_planner_prompt **out)
{
	struct inputs x = {0};
	size_t hbytes = 0;
	int rc;
	*out = NULL;
	if ((rc = page_required(&in->page, SKY_LLM_PURPOSE_CHECK_GOAL)))
		return rc;
	json_t *ctx = json_object();
	ctx_str(ctx, "purpose", SKY_LLM_PURPOSE_CHECK_GOAL);
	ctx_str(ctx, "goal", in->goal);
	json_object_set_new(ctx, "navigation_payload",
	                    ref_or_null(in->navigation_payload));
	ctx_str(ctx, "complete_criterion", in->complete_criterion);
	ctx_str(ctx, "terminate_criterion", in->terminate_criterion);
	json_object_set_new(ctx, "error_code_mapping",
	                    ref_or_null(in->error_code_mapping));
	if ((rc = page_context(ctx, &in->page))) {
		json_decref(ctx);
		return rc;
	}
	json_object_set_new(ctx, "history", history_context(in->history));
	json_object_set_new(ctx, "totp_available",
	                    json_boolean(in->totp_available));
	char *now = now_text(in->now);
	ctx_str(ctx, "now", now);

	in_set(&x, "goal", in->goal);
	in_set(&x, "totp", in->totp_available ? "yes" : NULL);
	in_take(&x, "payload", sky_planner__json_text(in->navigation_payload));
	in_set(&x, "complete_criterion", in->complete_criterion);
	in_set(&x, "terminate_criterion", in->terminate_criterion);
	in_take(&x, "error_codes",
	        json_object_size(in->error_code_mapping)
	            ? sky_planner__json_text(in->error_code_mapping)
	            : NULL);
	page_inputs(&x, &in->page);
	in_take(&x, "dialogs", dialogs_text(in->page.dialogs));
	in_take(&x, "now", now);
	if ((rc =
	         history_input(&x, in->history, in->history_budget, &hbytes))) {
		in_free(&x);
		json_decref(ctx);
		return rc;
	}
	char *schema = skyx_strdup(schema_resource(SKY_LLM_PURPOSE_CHECK_GOAL));
	rc = finish(SKY_LLM_PURPOSE_CHECK_GOAL, &x, ctx, schema, out);
	if (!rc)
		(*out)->history_bytes = hbytes;
	return rc;
}

int sky_planner_render_extract(const sky_planner_extract_input *in,
                               sky_planner_prompt **out)
{
	struct inputs x = {0};
	json_t *norm = NULL;
	int rc;
	*out = NULL;
	if ((rc = page_required(&in->page, SKY_LLM_PURPOSE_EXTRACT_DATA)))
		return rc;
	if (in->data_extraction_schema &&
	    !json_is_null(in->data_extraction_schema) &&
	    (rc = sky_planner_schema_normalize(in->data_extraction_schema,
	                                       &norm)))
		return rc;
	json_t *ctx = json_object();
	ctx_str(ctx, "purpose", SKY_LLM_PURPOSE_EXTRACT_DATA);
	ctx_str(ctx, "goal", in->goal);
	ctx_str(ctx, "data_extraction_goal", in->data_extraction_goal);
	json_object_set_new(ctx, "data_extraction_schema",
	                    ref_or_null(in->data_extraction_schema));
	json_object_set_new(ctx, "navigation_payload",
	                    ref_or_null(in->navigation_payload));
	json_object_set_new(ctx, "error_code_mapping",
	                    ref_or_null(in->error_code_mapping));
	json_object_set_new(ctx, "previous_output",
	                    ref_or_null(in->previous_output));
	if ((rc = page_context(ctx, &in->page))) {
		json_decref(ctx);
		json_decref(norm);
		return rc;
	}
	ctx_str(ctx, "page_text", in->page.page_text);
	char *now = now_text(in->now);
	ctx_str(ctx, "now", now);

	in_set(&x, "goal", in->goal);
	in_set(&x, "extraction_goal", in->data_extraction_goal);
	in_take(&x, "schema", sky_planner__json_text(norm));
	in_take(&x, "payload", sky_planner__json_text(in->navigation_payload));
	in_take(&x, "error_codes",
	        json_object_size(in->error_code_mapping)
	            ? sky_planner__json_text(in->error_code_mapping)
	            : NULL);
	in_take(&x, "previous_output",
	        sky_planner__json_text(in->previous_output));
	page_inputs(&x, &in->page);
	in_set(&x, "page_text",
	       in->page.page_text && *in->page.page_text ? in->page.page_text
	                                                 : NULL);
	in_take(&x, "now", now);
	/* The user's schema is the answer's schema. */
	char *schema = norm ? sky_json_dumps(norm) : NULL;
	json_decref(norm);
	return finish(SKY_LLM_PURPOSE_EXTRACT_DATA, &x, ctx, schema, out);
}

int sky_planner_render_errors(const sky_planner_errors_input *in,
                              sky_planner_prompt **out)
{
	struct inputs x = {0};
	size_t hbytes = 0;
	int rc;
	*out = NULL;
	if (!json_is_object(in->error_code_mapping) ||
	    !json_object_size(in->error_code_mapping))
		return sky_error_set(SKY_EINVALID,
		                     "surface-error-codes needs a non-empty "
		                     "error_code_mapping object");
	json_t *ctx = json_object();
	ctx_str(ctx, "purpose", SKY_LLM_PURPOSE_SURFACE_ERRORS);
	ctx_str(ctx, "goal", in->goal);
	json_object_set_new(ctx, "error_code_mapping",
	                    ref_or_null(in->error_code_mapping));
	ctx_str(ctx, "reasoning", in->reasoning);
	ctx_str(ctx, "url", in->page.url);
	json_object_set_new(ctx, "history", history_context(in->history));
	char *now = now_text(in->now);
	ctx_str(ctx, "now", now);

	in_set(&x, "goal", in->goal);
	in_take(&x, "error_codes",
	        sky_planner__json_text(in->error_code_mapping));
	in_set(&x, "reasoning", in->reasoning);
	in_set(&x, "url", in->page.url);
	in_set(&x, "elements",
	       in->page.element_tree && *in->page.element_tree
	           ? in->page.element_tree
	           : NULL);
	in_take(&x, "now", now);
	if ((rc =
	         history_input(&x, in->history, in->history_budget, &hbytes))) {
		in_free(&x);
		json_decref(ctx);
		return rc;
	}
	char *schema =
	    skyx_strdup(schema_resource(SKY_LLM_PURPOSE_SURFACE_ERRORS));
	rc = finish(SKY_LLM_PURPOSE_SURFACE_ERRORS, &x, ctx, schema, out);
	if (!rc)
		(*out)->history_bytes = hbytes;
	return rc;
}

/* Earlier mini-goals, one paragraph each (task v2). */
static char *mini_goals_text(const json_t *goals)
{
	if (!json_array_size(goals))
		return NULL;
	skyx_buf b = {0};
	size_t i;
	json_t *g;
	json_array_foreach (goals, i, g) {
		const char *plan = sky_json_str(g, "plan");
		const char *type = sky_json_str(g, "task_type");
		const char *st = sky_json_str(g, "status");
		const char *res = sky_json_str(g, "result");
		skyx_buf_printf(&b, "%zu. [%s, %s] %s\n", i + 1,
		                type ? type : "navigate", st ? st : "unknown",
		                plan ? plan : "");
		if (res) {
			char *c = sky_planner__cut(res, 400);
			skyx_buf_printf(&b, "   result: %s\n", c ? c : "");
			free(c);
		}
		json_t *o = json_object_get(g, "output");
		if (o && !json_is_null(o)) {
			char *d = sky_json_dumps(o);
			char *c = sky_planner__cut(d, 600);
			skyx_buf_printf(&b, "   output: %s\n", c ? c : "");
			free(c);
			free(d);
		}
	}
	return skyx_buf_steal(&b);
}

int sky_planner_render_plan(const sky_planner_plan_input *in,
                            sky_planner_prompt **out)
{
	struct inputs x = {0};
	int rc;
	*out = NULL;
	if ((rc = page_required(&in->page, SKY_LLM_PURPOSE_PLAN)))
		return rc;
	json_t *ctx = json_object();
	ctx_str(ctx, "purpose", SKY_LLM_PURPOSE_PLAN);
	ctx_str(ctx, "goal", in->goal);
	json_object_set_new(ctx, "navigation_payload",
	                    ref_or_null(in->navigation_payload));
	if ((rc = page_context(ctx, &in->page))) {
		json_decref(ctx);
		return rc;
	}
	json_object_set_new(ctx, "tabs", ref_or_null(in->page.tabs));
	json_object_set_new(ctx, "mini_goals", ref_or_null(in->mini_goals));
	json_object_set_new(ctx, "iteration", json_integer(in->iteration));
	json_object_set_new(ctx, "max_iterations",
	                    json_integer(in->max_iterations));
	char *now = now_text(in->now);
	ctx_str(ctx, "now", now);

	in_set(&x, "goal", in->goal);
	in_take(&x, "payload", sky_planner__json_text(in->navigation_payload));
	page_inputs(&x, &in->page);
	in_take(&x, "tabs", tabs_text(in->page.tabs));
	in_take(&x, "mini_goals", mini_goals_text(in->mini_goals));
	in_take(&x, "iteration",
	        in->max_iterations > 0
	            ? skyx_asprintf("%d of at most %d", in->iteration + 1,
	                            in->max_iterations)
	            : skyx_asprintf("%d", in->iteration + 1));
	in_take(&x, "now", now);
	char *schema = skyx_strdup(schema_resource(SKY_LLM_PURPOSE_PLAN));
	return finish(SKY_LLM_PURPOSE_PLAN, &x, ctx, schema, out);
}

int sky_planner_render_summary(const sky_planner_summary_input *in,
                               sky_planner_prompt **out)
{
	struct inputs x = {0};
	*out = NULL;
	json_t *ctx = json_object();
	ctx_str(ctx, "purpose", SKY_LLM_PURPOSE_SUMMARIZE);
	ctx_str(ctx, "goal", in->goal);
	ctx_str(ctx, "final_status", in->final_status);
	ctx_str(ctx, "failure_reason", in->failure_reason);
	json_object_set_new(ctx, "mini_goals", ref_or_null(in->mini_goals));
	json_object_set_new(ctx, "outputs", ref_or_null(in->outputs));
	json_object_set_new(ctx, "data_extraction_schema",
	                    ref_or_null(in->data_extraction_schema));
	char *now = now_text(in->now);
	ctx_str(ctx, "now", now);

	in_set(&x, "goal", in->goal);
	in_set(&x, "final_status", in->final_status);
	in_set(&x, "failure_reason", in->failure_reason);
	in_take(&x, "mini_goals", mini_goals_text(in->mini_goals));
	in_take(&x, "outputs", sky_planner__json_text(in->outputs));
	in_take(&x, "schema",
	        sky_planner__json_text(in->data_extraction_schema));
	in_take(&x, "now", now);
	char *schema = skyx_strdup(schema_resource(SKY_LLM_PURPOSE_SUMMARIZE));
	return finish(SKY_LLM_PURPOSE_SUMMARIZE, &x, ctx, schema, out);
}

int sky_planner_render_parse_code(const sky_planner_code_input *in,
                                  sky_planner_prompt **out)
{
	struct inputs x = {0};
	*out = NULL;
	if (!in->content)
		return sky_error_set(SKY_EINVALID,
		                     "parse-verification-code: the content is "
		                     "required");
	json_t *ctx = json_object();
	ctx_str(ctx, "purpose", SKY_LLM_PURPOSE_PARSE_CODE);
	ctx_str(ctx, "content", in->content);
	char *now = now_text(in->now);
	ctx_str(ctx, "now", now);
	in_set(&x, "content", in->content);
	in_take(&x, "now", now);
	char *schema = skyx_strdup(schema_resource(SKY_LLM_PURPOSE_PARSE_CODE));
	return finish(SKY_LLM_PURPOSE_PARSE_CODE, &x, ctx, schema, out);
}
