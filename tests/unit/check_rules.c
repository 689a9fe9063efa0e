/* Unit tests: the offline planner (plugins/llm-rules) loaded as a plugin
 * and asked every purpose with request contexts built like the engine's
 * (internals §5) around hand-written snapshots (internals §1). */
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include <skyengine/errors.h>

#include "planner/planner.h"
#include "plugin/loader.h"
#include "skytest.h"
#include <skyx/str.h>

static sky_plugins *plugins;
static const sky_llm_provider *rules;
static void *inst;

static void setup(void)
{
	char *err = NULL;
	ck_assert_int_eq(sky_plugins_new(NULL, &plugins), 0);
	rules = sky_plugins_llm(plugins, "rules");
	ck_assert_msg(rules != NULL, "no rules plugin on %s",
	              sky_plugins_search_path(plugins));
	ck_assert_int_eq(
	    rules->create(sky_plugins_ctx(plugins, rules), "{}", &inst, &err),
	    0);
}

static void teardown(void)
{
	rules->destroy(inst);
	sky_plugins_free(plugins);
}

/* ---- snapshot builders ------------------------------------------------------ */

static json_t *kids_of(va_list ap)
{
	json_t *arr = json_array(), *k;
	while ((k = va_arg(ap, json_t *)))
		json_array_append_new(arr, k);
	return arr;
}

/* A structural node: node("form", NULL, child..., NULL). */
static json_t *node(const char *tag, const char *text, ...)
{
	va_list ap;
	va_start(ap, text);
	json_t *n =
	    json_pack("{s:s, s:o}", "tag", tag, "children", kids_of(ap));
	va_end(ap);
	if (text)
		json_object_set_new(n, "text", json_string(text));
	return n;
}

static json_t *attrs_of(const char *type, const char *name)
{
	json_t *a = json_object();
	if (type)
		json_object_set_new(a, "type", json_string(type));
	if (name)
		json_object_set_new(a, "name", json_string(name));
	return a;
}

/* An interactable element. */
static json_t *el(const char *id, const char *tag, const char *type,
                  const char *name, const char *label)
{
	json_t *e = json_pack("{s:s, s:s, s:b, s:o, s:s, s:s, s:b, s:[]}", "id",
	                      id, "tag", tag, "interactable", 1, "attrs",
	                      attrs_of(type, name), "label", label ? label : "",
	                      "value", "", "required", 0, "children");
	return e;
}

static json_t *set(json_t *e, const char *key, json_t *v)
{
	json_object_set_new(e, key, v);
	return e;
}

static json_t *text_input(const char *id, const char *name, const char *label)
{
	return el(id, "input", "text", name, label);
}

static json_t *button(const char *id, const char *text)
{
	return set(el(id, "button", "submit", NULL, text), "text",
	           json_string(text));
}

static json_t *link(const char *id, const char *href, const char *text)
{
	json_t *e = el(id, "a", NULL, NULL, text);
	json_object_set_new(json_object_get(e, "attrs"), "href",
	                    json_string(href));
	return set(e, "text", json_string(text));
}

static json_t *checkbox(const char *id, const char *name, const char *label,
                        const char *group)
{
	json_t *e = el(id, "input", "checkbox", name, label);
	json_object_set_new(e, "checked", json_false());
	if (group)
		json_object_set_new(e, "group", json_string(group));
	return e;
}

static json_t *radio(const char *id, const char *name, const char *label,
                     const char *group, int checked)
{
	json_t *e = el(id, "input", "radio", name, label);
	json_object_set_new(e, "checked", json_boolean(checked));
	json_object_set_new(e, "group", json_string(group));
	return e;
}

/* select("5", "size", "T-shirt size", selected_index, "Small", ...) */
static json_t *select_el(const char *id, const char *name, const char *label,
                         int selected, ...)
{
	va_list ap;
	json_t *opts = json_array();
	const char *t;
	int i = 0;
	va_start(ap, selected);
	while ((t = va_arg(ap, const char *))) {
		json_array_append_new(
		    opts, json_pack("{s:i, s:s, s:s, s:b}", "index", i, "text",
		                    t, "value", t, "selected", i == selected));
		i++;
	}
	va_end(ap);
	json_t *e = el(id, "select", NULL, name, label);
	json_object_set_new(e, "options", opts);
	return e;
}

static json_t *snapshot(const char *url, const char *title, json_t *elements)
{
	return json_pack("{s:s, s:s, s:o}", "url", url, "title", title,
	                 "elements", elements);
}

static json_t *roots(json_t *first, ...)
{
	va_list ap;
	json_t *arr = json_array(), *k = first;
	va_start(ap, first);
	while (k) {
		json_array_append_new(arr, k);
		k = va_arg(ap, json_t *);
	}
	va_end(ap);
	return arr;
}

static json_t *context(const char *purpose, const char *goal, json_t *snap)
{
	json_t *c =
	    json_pack("{s:s, s:s, s:n, s:n, s:n, s:o, s:[], s:b}", "purpose",
	              purpose, "goal", goal, "navigation_payload",
	              "error_code_mapping", "data_extraction_schema",
	              "snapshot", snap, "history", "totp_available", 0);
	json_object_set(c, "url", json_object_get(snap, "url"));
	json_object_set(c, "title", json_object_get(snap, "title"));
	return c;
}

/* One earlier step whose actions all succeeded. */
static void add_step(json_t *ctx, const json_t *actions)
{
	json_t *items = json_array(), *a;
	size_t i;
	json_array_foreach (actions, i, a)
		json_array_append_new(items,
		                      json_pack("{s:O, s:{s:b}}", "action", a,
		                                "result", "success", 1));
	json_t *h = json_object_get(ctx, "history");
	json_array_append_new(h, json_pack("{s:i, s:i, s:o}", "order",
	                                   (int)json_array_size(h),
	                                   "retry_index", 0, "actions", items));
}

static char *ask_text(const json_t *ctx)
{
	char *cj = json_dumps(ctx, JSON_COMPACT);
	sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
	sky_llm_response resp = {0};
	char *err = NULL;
	req.purpose = json_string_value(json_object_get(ctx, "purpose"));
	req.prompt = "(the rules planner ignores the prose)";
	req.context_json = cj;
	int rc = rules->complete(inst, &req, &resp, &err);
	ck_assert_msg(rc == 0, "complete: %d %s", rc, err ? err : "");
	ck_assert_str_eq(resp.model, "rules");
	free(resp.model);
	free(resp.finish_reason);
	free(cj);
	return resp.text;
}

/* The engine's own parser must take every answer as it is: nothing
 * rejected, nothing repaired, no schema complaints. */
static void parses_cleanly(const json_t *ctx, const char *text)
{
	const char *purpose =
	    json_string_value(json_object_get(ctx, "purpose"));
	sky_planner_parse_ctx pc = {0};
	pc.snapshot = json_object_get(ctx, "snapshot");
	pc.elements = json_object_get(ctx, "elements");
	pc.page_url = json_string_value(json_object_get(ctx, "url"));
	pc.goal = json_string_value(json_object_get(ctx, "goal"));
	pc.navigation_payload = json_object_get(ctx, "navigation_payload");
	pc.error_code_mapping = json_object_get(ctx, "error_code_mapping");
	pc.totp_available =
	    json_is_true(json_object_get(ctx, "totp_available"));
	if (!strcmp(purpose, "extract-actions")) {
		sky_planner_actions *a = NULL;
		ck_assert_int_eq(sky_planner_parse_actions(text, &pc, &a), 0);
		char *rej = json_dumps(a->rejected, JSON_COMPACT);
		ck_assert_msg(
		    json_array_size(a->rejected) == 0 && !a->repairs,
		    "the planner parser rejected %s (repairs %u) in %s", rej,
		    a->repairs, text);
		free(rej);
		sky_planner_actions_free(a);
	} else if (!strcmp(purpose, "check-goal")) {
		sky_planner_check *c = NULL;
		ck_assert_int_eq(sky_planner_parse_check(text, &c), 0);
		ck_assert_uint_eq(c->repairs, 0);
		sky_planner_check_free(c);
	} else if (!strcmp(purpose, "plan")) {
		sky_planner_plan *p = NULL;
		ck_assert_int_eq(sky_planner_parse_plan(text, &pc, &p), 0);
		ck_assert_uint_eq(p->repairs, 0);
		sky_planner_plan_free(p);
	} else if (!strcmp(purpose, "summarize")) {
		sky_planner_summary *s = NULL;
		ck_assert_int_eq(sky_planner_parse_summary(text, &s), 0);
		sky_planner_summary_free(s);
	} else if (!strcmp(purpose, "surface-error-codes") &&
	           json_object_size(pc.error_code_mapping)) {
		json_t *errs = NULL, *dropped = NULL;
		ck_assert_int_eq(sky_planner_parse_errors(text,
		                                          pc.error_code_mapping,
		                                          &errs, &dropped),
		                 0);
		ck_assert_uint_eq(json_array_size(dropped), 0);
		json_decref(errs);
		json_decref(dropped);
	} else if (!strcmp(purpose, "extract-data")) {
		json_t *v = NULL, *msgs = NULL;
		ck_assert_int_eq(
		    sky_planner_parse_data(
		        text, json_object_get(ctx, "data_extraction_schema"),
		        &v, &msgs),
		    0);
		char *m = json_dumps(msgs, JSON_COMPACT);
		ck_assert_msg(json_array_size(msgs) == 0,
		              "schema complaints %s about %s", m, text);
		free(m);
		json_decref(v);
		json_decref(msgs);
	}
}

static json_t *ask(const json_t *ctx)
{
	char *t = ask_text(ctx);
	json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);
	ck_assert_msg(v != NULL, "answer is not JSON: %s", t);
	parses_cleanly(ctx, t);
	free(t);
	return v;
}

static json_t *actions_of(const json_t *ans)
{
	json_t *a = json_object_get(ans, "actions");
	ck_assert_msg(json_is_array(a), "no actions");
	return a;
}

static const char *atype(const json_t *actions, size_t i)
{
	return json_string_value(
	    json_object_get(json_array_get(actions, i), "action_type"));
}

static const char *astr(const json_t *actions, size_t i, const char *k)
{
	return json_string_value(
	    json_object_get(json_array_get(actions, i), k));
}

static void dump_on_fail(const json_t *ans, int ok, const char *what)
{
	if (!ok) {
		char *t = json_dumps(ans, JSON_INDENT(1));
		ck_abort_msg("%s; answer: %s", what, t);
	}
}

/* ---- forms ------------------------------------------------------------------ */

static json_t *job_page(void)
{
	return snapshot(
	    "http://127.0.0.1:9/job/", "Senior Pastry Engineer",
	    roots(node("h1", "Senior Pastry Engineer", NULL),
	          node("form", NULL, node("label", "First name *", NULL),
	               set(text_input("2", "first_name", "First name *"),
	                   "required", json_true()),
	               node("label", "Last name *", NULL),
	               set(text_input("3", "last_name", "Last name *"),
	                   "required", json_true()),
	               set(el("4", "input", "email", "email", "Email"),
	                   "required", json_true()),
	               el("5", "input", "tel", "phone", "Phone (optional)"),
	               set(checkbox("6", "privacy",
	                            "I agree to the privacy policy", NULL),
	                   "required", json_true()),
	               checkbox("7", "news", "Send me marketing emails", NULL),
	               button("8", "Submit application"), NULL),
	          NULL));
}

static const char *DEMO_GOAL = "Apply for a job on behalf of this person: "
                               "name: Chris P Bacon. email: "
                               "chris@pbacon.com";

START_TEST(fills_splits_consents_and_submits)
{
	json_t *ctx = context("extract-actions", DEMO_GOAL, job_page());
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans, json_array_size(acts) == 5, "5 actions");
	ck_assert_str_eq(atype(acts, 0), "input_text");
	ck_assert_str_eq(astr(acts, 0, "element_id"), "2");
	ck_assert_str_eq(astr(acts, 0, "text"), "Chris");
	ck_assert_str_eq(astr(acts, 1, "element_id"), "3");
	ck_assert_str_eq(astr(acts, 1, "text"), "Bacon");
	ck_assert_str_eq(astr(acts, 2, "element_id"), "4");
	ck_assert_str_eq(astr(acts, 2, "text"), "chris@pbacon.com");
	/* the consent box is ticked, the marketing box is left alone */
	ck_assert_str_eq(atype(acts, 3), "checkbox");
	ck_assert_str_eq(astr(acts, 3, "element_id"), "6");
	ck_assert(json_is_true(
	    json_object_get(json_array_get(acts, 3), "is_checked")));
	ck_assert_str_eq(atype(acts, 4), "click");
	ck_assert_str_eq(astr(acts, 4, "element_id"), "8");
	ck_assert(!json_is_true(json_object_get(ans, "user_goal_achieved")));

	/* deterministic: the same request gives the same bytes */
	char *a = ask_text(ctx), *b = ask_text(ctx);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);

	/* the confirmation page after the submission completes the goal,
	 * and extraction reads application_success from it */
	json_t *done = context(
	    "extract-actions", DEMO_GOAL,
	    snapshot(
	        "http://127.0.0.1:9/job/thanks.html", "Application received",
	        roots(node("h1", "Thank you for applying!", NULL),
	              node("p", "Your application has been received.", NULL),
	              NULL)));
	add_step(done, acts);
	json_t *fin = ask(done);
	json_t *facts = actions_of(fin);
	dump_on_fail(fin,
	             json_array_size(facts) == 1 &&
	                 !strcmp(atype(facts, 0), "complete"),
	             "complete");
	ck_assert(json_is_true(json_object_get(fin, "user_goal_achieved")));
	json_object_set_new(done, "purpose", json_string("extract-data"));
	json_object_set_new(
	    done, "data_extraction_schema",
	    json_pack("{s:{s:s}}", "application_success", "type", "boolean"));
	json_t *data = ask(done);
	ck_assert(json_is_true(json_object_get(data, "application_success")));
	json_decref(data);
	json_object_set_new(done, "purpose", json_string("check-goal"));
	json_t *chk = ask(done);
	ck_assert_str_eq(json_string_value(json_object_get(chk, "status")),
	                 "complete");
	json_decref(chk);

	/* the same page without a submission in the history is not done */
	json_array_clear(json_object_get(done, "history"));
	json_object_set_new(done, "purpose", json_string("extract-actions"));
	json_t *early = ask(done);
	ck_assert_str_ne(atype(actions_of(early), 0), "complete");
	json_decref(early);
	json_decref(fin);
	json_decref(done);
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(missing_required_fact_terminates)
{
	json_t *snap = job_page();
	json_t *form = json_array_get(json_object_get(snap, "elements"), 1);
	json_array_insert_new(
	    json_object_get(form, "children"), 7,
	    set(el("9", "input", "tel", "mobile", "Mobile number"), "required",
	        json_true()));
	json_t *ctx = context("extract-actions", DEMO_GOAL, snap);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(
	    ans,
	    json_array_size(acts) == 1 &&
	        !strcmp(atype(acts, 0), "terminate") &&
	        strstr(astr(acts, 0, "reasoning"), "\"Mobile number\""),
	    "terminate naming the field");
	json_decref(ans);

	/* given in the payload, the same field is filled */
	json_object_set_new(ctx, "navigation_payload",
	                    json_pack("{s:s}", "telephone", "555-0100"));
	ans = ask(ctx);
	acts = actions_of(ans);
	int found = 0;
	for (size_t i = 0; i < json_array_size(acts); i++)
		found |= astr(acts, i, "element_id") &&
		         !strcmp(astr(acts, i, "element_id"), "9") &&
		         !strcmp(astr(acts, i, "text"), "555-0100");
	dump_on_fail(ans, found, "phone from the payload");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(options_by_text)
{
	json_t *snap = snapshot(
	    "http://127.0.0.1:9/conf/", "Register",
	    roots(
	        node(
	            "form", NULL, text_input("1", "attendee", "Attendee name"),
	            select_el("2", "size", "T-shirt size", 1, "Small (S)",
	                      "Medium (M)", "Large (L)", NULL),
	            radio("3", "diet", "No preference", "Dietary requirements",
	                  1),
	            radio("4", "diet", "Vegetarian", "Dietary requirements", 0),
	            checkbox("5", "ws", "Intro to C", "Workshops"),
	            checkbox("6", "ws", "Advanced CMake", "Workshops"),
	            checkbox("7", "ws", "Fuzzing with libFuzzer", "Workshops"),
	            button("8", "Register"), NULL),
	        NULL));
	json_t *ctx = context("extract-actions",
	                      "Register for the conference: name: Ken "
	                      "Thompson, t-shirt size: Large, diet: "
	                      "vegetarian, workshops: Fuzzing and Advanced "
	                      "CMake.",
	                      snap);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans, json_array_size(acts) == 6, "6 actions");
	ck_assert_str_eq(atype(acts, 1), "select_option");
	json_t *opt = json_object_get(json_array_get(acts, 1), "option");
	ck_assert_str_eq(json_string_value(json_object_get(opt, "label")),
	                 "Large (L)");
	ck_assert_int_eq(json_integer_value(json_object_get(opt, "index")), 2);
	ck_assert_str_eq(atype(acts, 2), "checkbox");
	ck_assert_str_eq(astr(acts, 2, "element_id"), "4");
	ck_assert_str_eq(astr(acts, 3, "element_id"), "6");
	ck_assert_str_eq(astr(acts, 4, "element_id"), "7");
	ck_assert_str_eq(atype(acts, 5), "click");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

/* A wizard's second step: what is filled stays, the rest is filled, and
 * the step moves on; a step with nothing new just moves on. */
START_TEST(wizard_does_not_refill)
{
	json_t *first = text_input("1", "first_name", "First name");
	json_object_set_new(first, "value", json_string("Margaret"));
	json_t *snap =
	    snapshot("http://127.0.0.1:9/wiz/step2.html", "Step 2",
	             roots(node("form", NULL, first,
	                        el("2", "input", "tel", "phone", "Phone"),
	                        link("3", "index.html", "\xe2\x86\x90 Back"),
	                        button("4", "Next"), NULL),
	                   NULL));
	json_t *ctx = context("extract-actions",
	                      "Register. full name: Margaret Hamilton; "
	                      "telephone: 617-555-0199",
	                      snap);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans, json_array_size(acts) == 2, "phone + next");
	ck_assert_str_eq(astr(acts, 0, "element_id"), "2");
	ck_assert_str_eq(astr(acts, 1, "element_id"), "4");
	json_decref(ans);

	json_t *phone = json_array_get(
	    json_object_get(
	        json_array_get(json_object_get(snap, "elements"), 0),
	        "children"),
	    1);
	json_object_set_new(phone, "value", json_string("617-555-0199"));
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 1 &&
	                 !strcmp(atype(acts, 0), "click") &&
	                 !strcmp(astr(acts, 0, "element_id"), "4"),
	             "just Next");
	/* the same again after that exact step: no progress, stop */
	add_step(ctx, acts);
	json_decref(ans);
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 1 &&
	                 !strcmp(atype(acts, 0), "terminate") &&
	                 strstr(astr(acts, 0, "reasoning"), "No progress"),
	             "no progress");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(login_then_task)
{
	const char *goal = "Log in with username alice and password "
	                   "Wonderland!1, then change the phone number on my "
	                   "account to 555-0199.";
	json_t *login = snapshot(
	    "http://127.0.0.1:9/acct/", "Sign in",
	    roots(node("form", NULL, text_input("1", "username", "Username"),
	               el("2", "input", "password", "password", "Password"),
	               button("3", "Sign in"), NULL),
	          NULL));
	json_t *ctx = context("extract-actions", goal, login);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 3 &&
	                 !strcmp(astr(acts, 0, "text"), "alice") &&
	                 !strcmp(astr(acts, 1, "text"), "Wonderland!1") &&
	                 !strcmp(atype(acts, 2), "click"),
	             "login");
	json_t *phone = el("4", "input", "tel", "phone", "Phone number");
	json_object_set_new(phone, "value", json_string("555-0100"));
	json_t *acct = snapshot(
	    "http://127.0.0.1:9/acct/account.html", "My Account",
	    roots(
	        node("p", "Signed in successfully. Welcome back, Alice!", NULL),
	        node("form", NULL, phone, button("5", "Save changes"), NULL),
	        NULL));
	json_t *ctx2 = context("extract-actions", goal, acct);
	add_step(ctx2, acts);
	json_t *ans2 = ask(ctx2), *acts2 = actions_of(ans2);
	/* "successfully" on the page is not the end: the task is not done */
	dump_on_fail(ans2,
	             json_array_size(acts2) == 2 &&
	                 !strcmp(astr(acts2, 0, "text"), "555-0199") &&
	                 !strcmp(astr(acts2, 1, "element_id"), "5"),
	             "phone then save");
	json_decref(ans2);
	json_decref(ctx2);
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(captcha_and_totp)
{
	json_t *cap =
	    snapshot("http://127.0.0.1:9/c/", "Join",
	             roots(node("form", NULL,
	                        el("1", "input", "email", "email", "Email"),
	                        checkbox("2", "robot", "I'm not a robot", NULL),
	                        button("3", "Join"), NULL),
	                   NULL));
	json_t *ctx =
	    context("extract-actions", "Sign up with email: a@b.co", cap);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 1 &&
	                 !strcmp(atype(acts, 0), "terminate") &&
	                 strstr(astr(acts, 0, "reasoning"), "CAPTCHA"),
	             "captcha terminates");
	json_decref(ans);
	json_decref(ctx);

	json_t *otp = snapshot(
	    "http://127.0.0.1:9/v/", "Two-step verification",
	    roots(node("p", "Enter the 6-digit code from your app.", NULL),
	          node("form", NULL,
	               el("1", "input", "text", "otp", "Authentication code"),
	               button("2", "Verify"), NULL),
	          NULL));
	ctx = context("extract-actions", "Log in and open the Audit log.", otp);
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(
	    ans,
	    !strcmp(atype(acts, 0), "terminate") &&
	        strstr(astr(acts, 0, "reasoning"), "verification code"),
	    "no TOTP source");
	json_decref(ans);
	json_object_set_new(ctx, "totp_available", json_true());
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 2 &&
	                 !strcmp(atype(acts, 0), "verification_code") &&
	                 !strcmp(astr(acts, 0, "element_id"), "1") &&
	                 !strcmp(astr(acts, 1, "element_id"), "2"),
	             "verification_code then verify");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(upload_named_file)
{
	json_t *snap = snapshot(
	    "http://127.0.0.1:9/u/", "Careers",
	    roots(node("form", NULL,
	               el("1", "input", "email", "email", "Your email"),
	               el("2", "input", "file", "cv",
	                  "R\xc3\xa9sum\xc3\xa9 / CV"),
	               button("3", "Send application"), NULL),
	          NULL));
	json_t *ctx = context("extract-actions",
	                      "Send my CV. The file is /data/cv.pdf and my "
	                      "email is g@example.com.",
	                      snap);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 3 &&
	                 !strcmp(atype(acts, 1), "upload_file") &&
	                 !strcmp(astr(acts, 1, "element_id"), "2") &&
	                 !strcmp(astr(acts, 1, "file_path"), "/data/cv.pdf") &&
	                 !strcmp(astr(acts, 1, "file_url"), "/data/cv.pdf"),
	             "upload");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

/* ---- clicks and navigation -------------------------------------------------- */

START_TEST(click_what_the_goal_names)
{
	json_t *page = snapshot(
	    "http://127.0.0.1:9/inv/", "Invoice INV-1042",
	    roots(node("h1", "Invoice INV-1042", NULL),
	          link("1", "receipt.html", "View receipt"),
	          button("2", "Email invoice"),
	          link("3", "files/INV-1042.pdf", "Download invoice"), NULL));
	json_t *ctx =
	    context("extract-actions", "Click Download invoice.", page);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 1 &&
	                 !strcmp(atype(acts, 0), "click") &&
	                 !strcmp(astr(acts, 0, "element_id"), "3") &&
	                 json_is_true(json_object_get(json_array_get(acts, 0),
	                                              "download")),
	             "click the download");
	add_step(ctx, acts);
	json_decref(ans);
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans, !strcmp(atype(acts, 0), "complete"),
	             "done after the click");
	json_decref(ans);
	json_decref(ctx);

	json_t *home =
	    snapshot("http://127.0.0.1:9/l/", "Ledgerly",
	             roots(link("1", "features.html", "Features"),
	                   link("2", "pricing.html", "Pricing"),
	                   link("3", "signup.html", "Start free trial"), NULL));
	ctx = context("extract-actions", "Open the Pricing page.", home);
	ans = ask(ctx);
	acts = actions_of(ans);
	ck_assert_str_eq(astr(acts, 0, "element_id"), "2");
	json_decref(ans);
	json_decref(ctx);
	json_t *pricing =
	    snapshot("http://127.0.0.1:9/l/pricing.html", "Pricing - Ledgerly",
	             roots(link("1", "features.html", "Features"),
	                   link("2", "pricing.html", "Pricing"),
	                   node("h1", "Pricing", NULL), NULL));
	ctx = context("extract-actions", "Open the Pricing page.", pricing);
	ans = ask(ctx);
	ck_assert_str_eq(atype(actions_of(ans), 0), "complete");
	json_decref(ans);
	json_decref(ctx);

	/* nothing named like the target: terminate, naming it */
	ctx = context(
	    "extract-actions", "Open the Careers page.",
	    snapshot("http://127.0.0.1:9/l/", "Ledgerly",
	             roots(link("1", "pricing.html", "Pricing"), NULL)));
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans,
	             !strcmp(atype(acts, 0), "terminate") &&
	                 strstr(astr(acts, 0, "reasoning"), "\"Careers\""),
	             "names the missing target");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(search_then_result)
{
	const char *goal = "Search the catalogue for \"trail shoes\" and open "
	                   "the result \"Alpine Trail Runner\".";
	json_t *box = el("1", "input", "search", "q", "Search");
	json_t *ctx = context(
	    "extract-actions", goal,
	    snapshot("http://127.0.0.1:9/s/", "Shop",
	             roots(node("form", NULL, box, button("2", "Search"), NULL),
	                   NULL)));
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 2 &&
	                 !strcmp(astr(acts, 0, "text"), "trail shoes") &&
	                 !strcmp(astr(acts, 1, "element_id"), "2"),
	             "search");
	json_t *box2 = el("1", "input", "search", "q", "Search");
	json_object_set_new(box2, "value", json_string("trail shoes"));
	json_t *res = context(
	    "extract-actions", goal,
	    snapshot(
	        "http://127.0.0.1:9/s/search.html?q=trail+shoes",
	        "Search results",
	        roots(node("form", NULL, box2, button("2", "Search"), NULL),
	              link("3", "lite.html", "Trail Runner Lite"),
	              link("4", "alpine.html", "Alpine Trail Runner"), NULL)));
	add_step(res, acts);
	json_t *ans2 = ask(res), *acts2 = actions_of(ans2);
	dump_on_fail(ans2,
	             json_array_size(acts2) == 1 &&
	                 !strcmp(astr(acts2, 0, "element_id"), "4"),
	             "the named result, not a new search");
	json_decref(ans2);

	/* "the first result" takes the first link that looks like one */
	json_object_set_new(res, "goal",
	                    json_string("search for trail shoes and open the "
	                                "first result"));
	ans2 = ask(res);
	acts2 = actions_of(ans2);
	dump_on_fail(ans2, !strcmp(astr(acts2, 0, "element_id"), "3"),
	             "first result");
	json_decref(ans2);
	json_decref(res);
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(cannot_be_met_terminates_with_notice_and_code)
{
	json_t *ctx = context(
	    "extract-actions",
	    "Apply for the Senior Rust Engineer position: name: Ferris "
	    "Crab. email: ferris@rust-lang.org",
	    snapshot("http://127.0.0.1:9/j/", "Senior Rust Engineer",
	             roots(node("h1", "Senior Rust Engineer", NULL),
	                   set(node("div",
	                            "This position has been filled and is "
	                            "no longer accepting applications.",
	                            NULL),
	                       "role", json_string("alert")),
	                   link("1", "openings.html", "See other openings"),
	                   NULL)));
	json_object_set_new(
	    ctx, "error_code_mapping",
	    json_pack("{s:s, s:s}", "POSITION_CLOSED",
	              "The job posting is closed or no longer "
	              "accepting applications",
	              "SALARY_TOO_LOW",
	              "The offered salary is below the minimum"));
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	json_t *t = json_array_get(acts, 0);
	json_t *errs = json_object_get(t, "errors");
	dump_on_fail(ans,
	             !strcmp(atype(acts, 0), "terminate") &&
	                 strstr(astr(acts, 0, "reasoning"),
	                        "no longer accepting applications") &&
	                 json_array_size(errs) == 1 &&
	                 !strcmp(json_string_value(json_object_get(
	                             json_array_get(errs, 0), "error_code")),
	                         "POSITION_CLOSED"),
	             "terminate with the notice and the mapped code");
	json_decref(ans);

	json_object_set_new(ctx, "purpose", json_string("surface-error-codes"));
	json_object_set_new(ctx, "reasoning",
	                    json_string("The page says the job is no longer "
	                                "accepting applications."));
	ans = ask(ctx);
	errs = json_object_get(ans, "errors");
	dump_on_fail(ans,
	             json_array_size(errs) == 1 &&
	                 !strcmp(json_string_value(json_object_get(
	                             json_array_get(errs, 0), "error_code")),
	                         "POSITION_CLOSED"),
	             "surface");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(blank_page_and_flat_elements)
{
	json_t *ctx =
	    json_pack("{s:s, s:s, s:s}", "purpose", "extract-actions", "goal",
	              "Go to http://127.0.0.1:9/x/ and apply. name: "
	              "A B",
	              "url", "about:blank");
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             !strcmp(atype(acts, 0), "goto_url") &&
	                 !strcmp(astr(acts, 0, "url"), "http://127.0.0.1:9/x/"),
	             "goto the URL in the goal");
	json_decref(ans);
	json_object_set_new(ctx, "goal", json_string("Apply for the job."));
	ans = ask(ctx);
	ck_assert_str_eq(atype(actions_of(ans), 0), "terminate");
	json_decref(ans);
	json_decref(ctx);

	/* the flat element list alone (no snapshot) is enough to plan */
	ctx = json_pack(
	    "{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s}, "
	    "{s:s, s:s, s:s, s:s}]}",
	    "purpose", "extract-actions", "goal", "Subscribe. email: x@y.io",
	    "url", "http://127.0.0.1:9/n/", "elements", "id", "1", "tag",
	    "input", "type", "email", "label", "Email", "value", "", "id", "2",
	    "tag", "button", "text", "Subscribe", "label", "Subscribe");
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 2 &&
	                 !strcmp(astr(acts, 0, "text"), "x@y.io"),
	             "flat elements");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

/* ---- extraction ------------------------------------------------------------- */

static json_t *cell(const char *tag, const char *text)
{
	return node(tag, text, NULL);
}

START_TEST(extract_table_rows_numbers_dates)
{
	json_t *table = node(
	    "table", NULL,
	    node("thead", NULL,
	         node("tr", NULL, cell("th", "Invoice #"), cell("th", "Issued"),
	              cell("th", "Amount"), cell("th", "Status"), NULL),
	         NULL),
	    node("tbody", NULL,
	         node("tr", NULL, cell("td", "INV-1"),
	              cell("td", "Mar 5, 2024"), cell("td", "$1,234.50"),
	              node("td", NULL, node("span", "Paid", NULL), NULL), NULL),
	         node("tr", NULL, cell("td", "INV-2"), cell("td", "3 Jun 2024"),
	              cell("td", "$45.99"), cell("td", "Overdue"), NULL),
	         NULL),
	    node("tfoot", NULL,
	         node("tr", NULL, cell("td", "Total"), cell("td", ""),
	              cell("td", "$1,280.49"), cell("td", ""), NULL),
	         NULL),
	    NULL);
	json_t *ctx = context(
	    "extract-data", "Extract the invoices.",
	    snapshot("http://127.0.0.1:9/b/", "Invoices", roots(table, NULL)));
	json_object_set_new(
	    ctx, "data_extraction_schema",
	    json_loads("{\"type\": \"object\", \"properties\": {\"invoices\": "
	               "{\"type\": \"array\", \"items\": {\"type\": "
	               "\"object\", \"properties\": {\"invoice_number\": "
	               "{\"type\": \"string\"}, \"issued\": {\"type\": "
	               "\"string\", \"format\": \"date\"}, \"amount\": "
	               "{\"type\": \"number\"}, \"status\": {\"type\": "
	               "\"string\"}, \"customer\": {\"type\": "
	               "\"string\"}}}}}}",
	               0, NULL));
	json_t *ans = ask(ctx);
	json_t *want = json_loads(
	    "{\"invoices\": [{\"invoice_number\": \"INV-1\", \"issued\": "
	    "\"2024-03-05\", \"amount\": 1234.5, \"status\": \"Paid\", "
	    "\"customer\": null}, {\"invoice_number\": \"INV-2\", \"issued\": "
	    "\"2024-06-03\", \"amount\": 45.99, \"status\": \"Overdue\", "
	    "\"customer\": null}]}",
	    0, NULL);
	dump_on_fail(ans, json_equal(ans, want), "table rows");
	json_decref(want);
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(extract_definition_list_and_labels)
{
	json_t *dl =
	    node("dl", NULL, cell("dt", "SKU"), cell("dd", "WX-2091"),
	         cell("dt", "Weight"), cell("dd", "1.25 kg"),
	         cell("dt", "In stock"), cell("dd", "Yes"),
	         cell("dt", "Release date"), cell("dd", "January 15, 2024"),
	         cell("dt", "Warranty"), cell("dd", "3 years"), NULL);
	json_t *ctx =
	    context("extract-data", "Get the product details.",
	            snapshot("http://127.0.0.1:9/p/", "Drill",
	                     roots(node("h1", "Cordless Drill", NULL), dl,
	                           node("p", "Colours: red, blue, black", NULL),
	                           node("ul", NULL, cell("li", "Drill"),
	                                cell("li", "Battery"),
	                                cell("li", "Case"), NULL),
	                           NULL)));
	json_object_set_new(
	    ctx, "data_extraction_schema",
	    json_loads("{\"sku\": {\"type\": \"string\"}, \"weight_kg\": "
	               "{\"type\": \"number\"}, \"in_stock\": {\"type\": "
	               "\"boolean\"}, \"release_date\": {\"type\": "
	               "\"string\", \"format\": \"date\"}, "
	               "\"warranty_years\": {\"type\": \"integer\"}, "
	               "\"colours\": {\"type\": \"array\", \"items\": "
	               "{\"type\": \"string\"}}, \"in_the_box\": {\"type\": "
	               "\"array\", \"items\": {\"type\": \"string\"}}, "
	               "\"voltage\": {\"type\": \"number\"}}",
	               0, NULL));
	json_t *ans = ask(ctx);
	json_t *want = json_loads(
	    "{\"sku\": \"WX-2091\", \"weight_kg\": 1.25, \"in_stock\": true, "
	    "\"release_date\": \"2024-01-15\", \"warranty_years\": 3, "
	    "\"colours\": [\"red\", \"blue\", \"black\"], \"in_the_box\": "
	    "[\"Drill\", \"Battery\", \"Case\"], \"voltage\": null}",
	    0, NULL);
	dump_on_fail(ans, json_equal(ans, want), "definition list");
	json_decref(want);
	json_decref(ans);

	/* a confirmation-less page says application_success: false */
	json_object_set_new(
	    ctx, "data_extraction_schema",
	    json_pack("{s:{s:s}}", "application_success", "type", "boolean"));
	ans = ask(ctx);
	ck_assert(json_is_false(json_object_get(ans, "application_success")));
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

/* ---- task v2 ------------------------------------------------------------------ */

START_TEST(v2_plan_and_summary)
{
	json_t *snap = job_page();
	json_t *ctx = context("plan", DEMO_GOAL, snap);
	json_object_set_new(ctx, "mini_goals", json_array());
	json_object_set_new(ctx, "iteration", json_integer(0));
	json_t *ans = ask(ctx);
	dump_on_fail(
	    ans,
	    !strcmp(json_string_value(json_object_get(ans, "plan")),
	            DEMO_GOAL) &&
	        !strcmp(json_string_value(json_object_get(ans, "task_type")),
	                "navigate") &&
	        json_is_false(json_object_get(ans, "user_goal_achieved")),
	    "the whole goal as one mini-goal");
	json_decref(ans);

	json_array_append_new(json_object_get(ctx, "mini_goals"),
	                      json_pack("{s:s, s:s, s:s}", "plan", DEMO_GOAL,
	                                "task_type", "navigate", "status",
	                                "completed"));
	ans = ask(ctx);
	ck_assert(json_is_true(json_object_get(ans, "user_goal_achieved")));
	json_decref(ans);
	/* with a schema, read the result before finishing */
	json_object_set_new(
	    ctx, "data_extraction_schema",
	    json_pack("{s:{s:s}}", "application_success", "type", "boolean"));
	ans = ask(ctx);
	ck_assert_str_eq(json_string_value(json_object_get(ans, "task_type")),
	                 "extract");
	json_decref(ans);

	/* a failed mini-goal ends the run with its reason */
	json_t *mg = json_array_get(json_object_get(ctx, "mini_goals"), 0);
	json_object_set_new(mg, "status", json_string("terminated"));
	json_object_set_new(mg, "result", json_string("the job is closed"));
	ans = ask(ctx);
	dump_on_fail(ans,
	             json_is_true(json_object_get(ans, "should_terminate")) &&
	                 strstr(json_string_value(
	                            json_object_get(ans, "termination_reason")),
	                        "the job is closed"),
	             "terminate on a failed mini-goal");
	json_decref(ans);

	/* one mini-goal per action sentence, each carrying the facts */
	json_object_set_new(ctx, "goal",
	                    json_string("Log in to the portal. Then download "
	                                "the March invoice. username: ann; "
	                                "password: pw"));
	json_array_clear(json_object_get(ctx, "mini_goals"));
	ans = ask(ctx);
	const char *plan = json_string_value(json_object_get(ans, "plan"));
	dump_on_fail(ans,
	             plan && !strncmp(plan, "Log in to the portal.", 21) &&
	                 strstr(plan, "username: ann") &&
	                 !strstr(plan, "March"),
	             "first of two mini-goals");
	json_decref(ans);
	json_array_append_new(
	    json_object_get(ctx, "mini_goals"),
	    json_pack("{s:s, s:s}", "plan", "x", "status", "completed"));
	ans = ask(ctx);
	plan = json_string_value(json_object_get(ans, "plan"));
	dump_on_fail(ans,
	             plan && strstr(plan, "March invoice") &&
	                 strstr(plan, "password: pw"),
	             "second mini-goal");
	json_decref(ans);
	json_decref(ctx);

	ctx =
	    json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:[n, {s:b}]}",
	              "purpose", "summarize", "goal", DEMO_GOAL, "final_status",
	              "completed", "mini_goals", "plan", DEMO_GOAL, "status",
	              "completed", "outputs", "application_success", 1);
	ans = ask(ctx);
	ck_assert(json_is_true(json_object_get(json_object_get(ans, "output"),
	                                       "application_success")));
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(ans, "description")),
	           "completed"));
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(bad_requests_are_refused_cleanly)
{
	sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
	sky_llm_response resp = {0};
	char *err = NULL;
	req.purpose = "extract-actions";
	ck_assert_int_eq(rules->complete(inst, &req, &resp, &err),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(err, "context_json"));
	free(err);
	err = NULL;
	req.context_json = "{not json";
	ck_assert_int_eq(rules->complete(inst, &req, &resp, &err), SKY_EPARSE);
	free(err);
	err = NULL;
	req.context_json = "[1, 2]";
	ck_assert_int_eq(rules->complete(inst, &req, &resp, &err), SKY_EPARSE);
	free(err);
	err = NULL;
	req.purpose = "write-a-poem";
	req.context_json = "{}";
	ck_assert_int_eq(rules->complete(inst, &req, &resp, &err),
	                 SKY_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err, "write-a-poem"));
	free(err);
	ck_assert_ptr_null(resp.text);

	/* odd but valid contexts get an answer, never a crash */
	const char *odd[] = {
	    "{}",
	    "{\"goal\": 3, \"snapshot\": []}",
	    "{\"goal\": \"x\", \"snapshot\": {\"elements\": [{\"id\": \"1\"}, "
	    "7, {\"children\": 3}]}}",
	    "{\"goal\": \"name: a\", \"elements\": [{\"id\": \"1\", "
	    "\"tag\": \"select\", \"options\": [1, {}]}], \"history\": "
	    "[{\"actions\": [3, {\"action\": 1}]}]}",
	};
	const char *purposes[] = {
	    "extract-actions",     "check-goal", "extract-data",
	    "surface-error-codes", "plan",       "summarize"};
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		for (size_t k = 0; k < 6; k++) {
			sky_llm_response r = {0};
			req.purpose = purposes[k];
			req.context_json = odd[i];
			err = NULL;
			ck_assert_msg(rules->complete(inst, &req, &r, &err) ==
			                  0,
			              "%s on %s: %s", purposes[k], odd[i],
			              err ? err : "");
			json_t *v = json_loads(r.text, JSON_DECODE_ANY, NULL);
			ck_assert_msg(v != NULL, "not JSON: %s", r.text);
			json_decref(v);
			free(r.text);
			free(r.model);
			free(r.finish_reason);
		}
}
END_TEST

/* A form the server keeps rejecting: the second identical attempt stops
 * with the page's own message (values with capitals, too). */
START_TEST(rejected_submission_stops_with_the_message)
{
	json_t *snap = snapshot(
	    "http://127.0.0.1:9/g/redeem", "Redeem",
	    roots(set(node("p",
	                   "This gift card code is not valid. Check the "
	                   "code and try again.",
	                   NULL),
	              "role", json_string("alert")),
	          node("form", NULL, text_input("1", "code", "Gift card code"),
	               button("2", "Redeem"), NULL),
	          NULL));
	json_t *ctx = context("extract-actions",
	                      "Redeem my gift card. code: GIFT-0000-XYZ", snap);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 2 &&
	                 !strcmp(astr(acts, 0, "text"), "GIFT-0000-XYZ"),
	             "first attempt");
	/* the engine's parser may echo action types in capitals */
	json_t *echo = json_deep_copy(acts);
	json_object_set_new(json_array_get(echo, 0), "action_type",
	                    json_string("INPUT_TEXT"));
	add_step(ctx, echo);
	json_decref(echo);
	json_decref(ans);
	/* the server answers the same form again: a new document, so its
	 * elements have new ids */
	json_t *again = snapshot(
	    "http://127.0.0.1:9/g/redeem", "Redeem",
	    roots(set(node("p",
	                   "This gift card code is not valid. Check the "
	                   "code and try again.",
	                   NULL),
	              "role", json_string("alert")),
	          node("form", NULL, text_input("7", "code", "Gift card code"),
	               button("8", "Redeem"), NULL),
	          NULL));
	json_object_set_new(ctx, "snapshot", again);
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 1 &&
	                 !strcmp(atype(acts, 0), "terminate") &&
	                 strstr(astr(acts, 0, "reasoning"), "No progress") &&
	                 strstr(astr(acts, 0, "reasoning"), "not valid"),
	             "stop with the page's message");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

/* Text runs between elements (how the snapshot gives unwrapped text) name
 * the field they sit next to, e.g. a floating label after its input. */
START_TEST(text_runs_label_fields)
{
	json_t *form = node("form", NULL, NULL);
	json_t *kids = json_object_get(form, "children");
	json_array_append_new(kids, text_input("1", "org", "Company name"));
	json_array_append_new(kids, json_string("\n"));
	json_array_append_new(kids, el("2", "input", "text", "x1", ""));
	json_array_append_new(kids, json_string("Admin e-mail"));
	json_array_append_new(kids, button("3", "Create"));
	json_t *ctx = context(
	    "extract-actions",
	    "Create a workspace for the company \"Initech\" "
	    "with the admin e-mail \"p@initech.com\".",
	    snapshot("http://127.0.0.1:9/w/", "Workspace", roots(form, NULL)));
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 3 &&
	                 !strcmp(astr(acts, 0, "text"), "Initech") &&
	                 !strcmp(astr(acts, 1, "element_id"), "2") &&
	                 !strcmp(astr(acts, 1, "text"), "p@initech.com"),
	             "the run after the input labels it");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(cookie_banner_and_aria_dropdown)
{
	json_t *combo =
	    set(el("2", "button", "button", NULL, "Priority Choose a priority"),
	        "text", json_string("Choose a priority"));
	json_object_set_new(json_object_get(combo, "attrs"), "aria-haspopup",
	                    json_string("listbox"));
	json_t *banner = set(node("div", NULL,
	                          node("p",
	                               "We use cookies to measure our "
	                               "marketing.",
	                               NULL),
	                          button("8", "Accept all cookies"),
	                          button("9", "Reject optional"), NULL),
	                     "role", json_string("dialog"));
	const char *goal = "Open a support ticket. email: ops@acme.test; "
	                   "priority: Urgent";
	json_t *ctx = context(
	    "extract-actions", goal,
	    snapshot("http://127.0.0.1:9/t/", "Open a support ticket",
	             roots(node("h1", "Open a support ticket", NULL),
	                   node("form", NULL,
	                        el("1", "input", "email", "email", "Email"),
	                        combo, button("4", "Open ticket"), NULL),
	                   banner, NULL)));
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	/* the banner first (the privacy-friendly answer), then the email,
	 * then the dropdown opens; no submit before the option is chosen */
	dump_on_fail(ans,
	             json_array_size(acts) == 3 &&
	                 !strcmp(astr(acts, 0, "element_id"), "9") &&
	                 !strcmp(astr(acts, 1, "element_id"), "1") &&
	                 !strcmp(atype(acts, 2), "click") &&
	                 !strcmp(astr(acts, 2, "element_id"), "2"),
	             "banner, email, open the dropdown");
	json_decref(ans);
	json_decref(ctx);

	/* open: the options are on the page; pick by text, then submit */
	combo =
	    set(el("2", "button", "button", NULL, "Priority Choose a priority"),
	        "text", json_string("Choose a priority"));
	json_object_set_new(json_object_get(combo, "attrs"), "aria-haspopup",
	                    json_string("listbox"));
	json_t *email = el("1", "input", "email", "email", "Email");
	json_object_set_new(email, "value", json_string("ops@acme.test"));
	json_t *list =
	    set(node("ul", NULL,
	             set(set(el("5", "li", NULL, NULL, "Low"), "role",
	                     json_string("option")),
	                 "text", json_string("Low")),
	             set(set(el("6", "li", NULL, NULL,
	                        "Urgent - production is down"),
	                     "role", json_string("option")),
	                 "text", json_string("Urgent - production is down")),
	             NULL),
	        "role", json_string("listbox"));
	ctx = context("extract-actions", goal,
	              snapshot("http://127.0.0.1:9/t/", "Open a support ticket",
	                       roots(node("form", NULL, email, combo, list,
	                                  button("4", "Open ticket"), NULL),
	                             NULL)));
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 2 &&
	                 !strcmp(astr(acts, 0, "element_id"), "6") &&
	                 !strcmp(astr(acts, 1, "element_id"), "4"),
	             "option then submit");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

/* Several workers share one instance: answers are the same as alone. */
typedef struct worker {
	const char *ctx;
	char *answers[20];
} worker;

static void *worker_main(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < 20; i++) {
		sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
		sky_llm_response resp = {0};
		char *err = NULL;
		req.purpose = "extract-actions";
		req.context_json = w->ctx;
		if (rules->complete(inst, &req, &resp, &err) == 0)
			w->answers[i] = resp.text;
		free(resp.model);
		free(resp.finish_reason);
		free(err);
	}
	return NULL;
}

/* Issue 19: a page that says the thing is closed, or offers only a
 * "notify me" form, ends the run unsent; an option the goal names in
 * passing is chosen; a question with no answer stops the submit. */
START_TEST(closed_pages_and_passing_mentions)
{
	json_t *snap = snapshot(
	    "http://127.0.0.1:9/grant/", "Resilience Grant",
	    roots(node("h1", "Small Business Resilience Grant", NULL),
	          node("p",
	               "Applications for Round 3 closed on 31 January 2025. "
	               "We are not accepting new applications at this time.",
	               NULL),
	          node("form", NULL, text_input("1", "email", "Email"),
	               button("2", "Notify me"), NULL),
	          NULL));
	json_t *ctx = context("extract-actions",
	                      "Apply for the grant for my bakery. I'm Dana "
	                      "Whitfield, dana@crumbandco.example.",
	                      snap);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 1 &&
	                 !strcmp(atype(acts, 0), "terminate") &&
	                 strstr(astr(acts, 0, "reasoning"), "not accepting"),
	             "a closed round terminates with its notice, unsent");
	json_decref(ans);
	json_decref(ctx);

	/* no notice, but the only form is a waiting list */
	snap =
	    snapshot("http://127.0.0.1:9/class/", "Wheel throwing",
	             roots(node("form", NULL, text_input("1", "email", "Email"),
	                        button("2", "Join waiting list"), NULL),
	                   NULL));
	ctx = context("extract-actions",
	              "Book noor@example.org onto the wheel-throwing class.",
	              snap);
	ans = ask(ctx);
	acts = actions_of(ans);
	dump_on_fail(ans,
	             json_array_size(acts) == 1 &&
	                 !strcmp(atype(acts, 0), "terminate") &&
	                 strstr(astr(acts, 0, "reasoning"), "waiting list"),
	             "a waiting-list form is not the booking");
	json_decref(ans);
	json_decref(ctx);

	/* "She has an Android phone": the platform select says so; "the
	 * weekly one, not the monthly": the frequency is weekly */
	snap = snapshot(
	    "http://127.0.0.1:9/early/", "Early access",
	    roots(node("form", NULL, text_input("1", "email", "Email"),
	               select_el("2", "platform", "Which app will you use?", 0,
	                         "Choose", "iPhone / iPad", "Android", NULL),
	               select_el("3", "freq", "How often?", 1, "Every Sunday",
	                         "Monthly round-up", NULL),
	               button("4", "Request access"), NULL),
	          NULL));
	ctx = context("extract-actions",
	              "Sign rosa@example.com up for early access. She has an "
	              "Android phone. Send the weekly Sunday one, not the "
	              "monthly round-up.",
	              snap);
	ans = ask(ctx);
	acts = actions_of(ans);
	int android = 0, weekly = 0;
	for (size_t i = 0; i < json_array_size(acts); i++) {
		json_t *o = json_object_get(json_array_get(acts, i), "option");
		const char *l = json_string_value(json_object_get(o, "label"));
		android |= l && !strcmp(l, "Android");
		weekly |= l && !strcmp(l, "Every Sunday");
	}
	dump_on_fail(ans, android && weekly, "options named in passing");
	json_decref(ans);
	json_decref(ctx);

	/* a yes/no question the goal answers by a statement: "I moved
	 * for good" is a permanent move */
	snap = snapshot(
	    "http://127.0.0.1:9/move/", "Change of address",
	    roots(
	        node("form", NULL, text_input("1", "ref", "Reference"),
	             radio("2", "perm", "Yes", "Is this a permanent move?", 0),
	             radio("3", "perm", "No", "Is this a permanent move?", 0),
	             button("4", "Next"), NULL),
	        NULL));
	ctx = context("extract-actions",
	              "Update my address: I moved for good. My reference is "
	              "TR-448-201-C.",
	              snap);
	ans = ask(ctx);
	acts = actions_of(ans);
	int yes = 0;
	for (size_t i = 0; i < json_array_size(acts); i++)
		yes |= astr(acts, i, "element_id") &&
		       !strcmp(astr(acts, i, "element_id"), "2") &&
		       !strcmp(atype(acts, i), "checkbox");
	dump_on_fail(ans, yes, "'moved for good' answers the permanent move");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

/* Issue 19: widgets without form semantics, answered like a person
 * would: "Yes"/"No" toggle buttons under the question written before
 * them, and switches the goal turns on or off in passing. */
START_TEST(toggles_and_switches_from_prose)
{
	json_t *grp = node("div", NULL,
	                   set(set(el("2", "button", "button", NULL, "Yes"),
	                           "text", json_string("Yes")),
	                       "attrs",
	                       json_pack("{s:s, s:s}", "type", "button",
	                                 "aria-pressed", "false")),
	                   set(set(el("3", "button", "button", NULL, "No"),
	                           "text", json_string("No")),
	                       "attrs",
	                       json_pack("{s:s, s:s}", "type", "button",
	                                 "aria-pressed", "false")),
	                   NULL);
	json_object_set_new(grp, "role", json_string("group"));
	json_t *form = node("form", NULL, text_input("1", "email", "Email"),
	                    json_string("Will you require visa sponsorship?"),
	                    grp, button("4", "Submit Application"), NULL);
	json_t *snap =
	    snapshot("http://127.0.0.1:9/job/", "Apply", roots(form, NULL));
	json_t *ctx = context("extract-actions",
	                      "Apply for lena@example.de. She will not need "
	                      "visa sponsorship.",
	                      snap);
	json_t *ans = ask(ctx), *acts = actions_of(ans);
	int no = 0;
	for (size_t i = 0; i < json_array_size(acts); i++)
		no |= !strcmp(atype(acts, i), "click") &&
		      !strcmp(astr(acts, i, "element_id"), "3");
	dump_on_fail(ans, no, "the 'No' toggle is pressed");
	json_decref(ans);
	json_decref(ctx);

	form = node("form", NULL, json_string("Offers and promotions"),
	            set(checkbox("1", "promo", "Offers and promotions", NULL),
	                "checked", json_true()),
	            json_string("Order updates"),
	            set(checkbox("2", "orders", "Order updates", NULL),
	                "checked", json_true()),
	            checkbox("3", "service", "Service reminders", NULL),
	            button("4", "Save preferences"), NULL);
	snap = snapshot("http://127.0.0.1:9/prefs/", "Email preferences",
	                roots(form, NULL));
	ctx = context("extract-actions",
	              "Stop the promotions, but I still want my order updates. "
	              "Also switch on service reminders.",
	              snap);
	ans = ask(ctx);
	acts = actions_of(ans);
	int off1 = 0, on3 = 0, touched2 = 0;
	for (size_t i = 0; i < json_array_size(acts); i++) {
		const char *id = astr(acts, i, "element_id");
		json_t *ic =
		    json_object_get(json_array_get(acts, i), "is_checked");
		off1 |= id && !strcmp(id, "1") && json_is_false(ic);
		on3 |= id && !strcmp(id, "3") && json_is_true(ic);
		touched2 |= id && !strcmp(id, "2");
	}
	dump_on_fail(ans, off1 && on3 && !touched2,
	             "promotions off, service on, order updates left on");
	json_decref(ans);
	json_decref(ctx);
}
END_TEST

START_TEST(concurrent_calls_agree)
{
	json_t *a = context("extract-actions", DEMO_GOAL, job_page());
	json_t *b = context(
	    "extract-actions", "Click Download invoice.",
	    snapshot("http://127.0.0.1:9/i/", "Invoice",
	             roots(link("1", "x.pdf", "Download invoice"), NULL)));
	char *ta = json_dumps(a, JSON_COMPACT),
	     *tb = json_dumps(b, JSON_COMPACT);
	char *alone_a = ask_text(a), *alone_b = ask_text(b);
	worker ws[4] = {{ta, {0}}, {tb, {0}}, {ta, {0}}, {tb, {0}}};
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(
		    pthread_create(&th[i], NULL, worker_main, &ws[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 20; k++) {
			ck_assert_ptr_nonnull(ws[i].answers[k]);
			ck_assert_str_eq(ws[i].answers[k],
			                 i % 2 ? alone_b : alone_a);
			free(ws[i].answers[k]);
		}
	free(alone_a);
	free(alone_b);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fills_splits_consents_and_submits);
	tcase_add_test(tc, missing_required_fact_terminates);
	tcase_add_test(tc, options_by_text);
	tcase_add_test(tc, wizard_does_not_refill);
	tcase_add_test(tc, login_then_task);
	tcase_add_test(tc, captcha_and_totp);
	tcase_add_test(tc, upload_named_file);
	tcase_add_test(tc, click_what_the_goal_names);
	tcase_add_test(tc, search_then_result);
	tcase_add_test(tc, cannot_be_met_terminates_with_notice_and_code);
	tcase_add_test(tc, blank_page_and_flat_elements);
	tcase_add_test(tc, extract_table_rows_numbers_dates);
	tcase_add_test(tc, extract_definition_list_and_labels);
	tcase_add_test(tc, v2_plan_and_summary);
	tcase_add_test(tc, bad_requests_are_refused_cleanly);
	tcase_add_test(tc, rejected_submission_stops_with_the_message);
	tcase_add_test(tc, text_runs_label_fields);
	tcase_add_test(tc, cookie_banner_and_aria_dropdown);
	tcase_add_test(tc, concurrent_calls_agree);
	tcase_add_test(tc, closed_pages_and_passing_mentions);
	tcase_add_test(tc, toggles_and_switches_from_prose);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
