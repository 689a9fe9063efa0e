/*
 * Unit tests: the offline planner on real-Chromium snapshots of the site
 * corpus (tests/sites/<name>/snapshot-<n>.json, captured by
 * tests/integration/rules/check_corpus with SKY_RULES_CAPTURE=1 from runs
 * that the grading server passed). Each request context is rebuilt with the
 * engine's own renderer; the planner must decide what it decided on the
 * graded run, and the extraction must equal the site's expected output.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "page/page.h"
#include "planner/planner.h"
#include "plugin/loader.h"
#include "sites.h"
#include "skytest.h"
#include "util/fs.h"
#include "util/json.h"
#include <skyx/str.h>

static sky_plugins *plugins;
static const sky_llm_provider *rules;
static void *inst;

static void setup(void)
{
	char *err = NULL;
	ck_assert_int_eq(sky_plugins_new(NULL, &plugins), 0);
	rules = sky_plugins_llm(plugins, "rules");
	ck_assert_ptr_nonnull(rules);
	ck_assert_int_eq(
	    rules->create(sky_plugins_ctx(plugins, rules), "{}", &inst, &err),
	    0);
}

static void teardown(void)
{
	rules->destroy(inst);
	sky_plugins_free(plugins);
}

static char *ask(const sky_planner_prompt *p)
{
	sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
	sky_llm_response resp = {0};
	char *err = NULL;
	req.purpose = p->purpose;
	req.prompt = p->text;
	req.context_json = p->context_json;
	ck_assert_msg(rules->complete(inst, &req, &resp, &err) == 0, "%s",
	              err ? err : "");
	free(resp.model);
	free(resp.finish_reason);
	return resp.text;
}

static char *replace_all(const char *in, const char *what, const char *with)
{
	skyx_buf b = {0};
	const char *p = in, *hit;
	while ((hit = strstr(p, what))) {
		skyx_buf_append(&b, p, (size_t)(hit - p));
		skyx_buf_puts(&b, with);
		p = hit + strlen(what);
	}
	skyx_buf_puts(&b, p);
	return skyx_buf_steal(&b);
}

/* A fixture with {{site_dir}} made this checkout's folder again. */
static json_t *load(const char *dir, const char *file)
{
	char *path = skyx_asprintf("%s/%s", dir, file);
	char *raw = skyx_read_file(path, NULL);
	ck_assert_msg(raw != NULL, "cannot read %s", path);
	char *text = replace_all(raw, "{{site_dir}}", dir);
	json_t *v = sky_json_loads(text);
	ck_assert_msg(v != NULL, "%s is not JSON", path);
	free(raw);
	free(text);
	free(path);
	return v;
}

/* What identifies an action, without its reasoning. */
static char *shape(const json_t *actions)
{
	skyx_buf b = {0};
	size_t i;
	json_t *a;
	json_array_foreach (actions, i, a) {
		json_t *opt = json_object_get(a, "option");
		skyx_buf_printf(
		    &b, "%s #%s %s%s%s%s; ", sky_json_str(a, "action_type"),
		    sky_json_str(a, "element_id")
		        ? sky_json_str(a, "element_id")
		        : "-",
		    sky_json_str(a, "text") ? sky_json_str(a, "text") : "",
		    sky_json_str(opt, "label") ? sky_json_str(opt, "label")
		                               : "",
		    json_is_boolean(json_object_get(a, "is_checked"))
		        ? (json_is_true(json_object_get(a, "is_checked"))
		               ? "on"
		               : "off")
		        : "",
		    sky_json_str(a, "file_url") ? sky_json_str(a, "file_url")
		                                : "");
	}
	return b.data ? skyx_buf_steal(&b) : skyx_strdup("");
}

typedef struct step_answer {
	json_t *actions; /* parsed */
	sky_page_tree *tree;
} step_answer;

static void replay_step(const json_t *task, const json_t *rec, step_answer *out)
{
	json_t *snap = json_object_get(rec, "snapshot");
	sky_page_tree *tree = NULL;
	ck_assert_int_eq(sky_page_render_json(snap, NULL, &tree), 0);
	sky_planner_actions_input in = {0};
	in.goal = sky_json_str(rec, "goal");
	in.navigation_payload = json_object_get(task, "navigation_payload");
	in.error_code_mapping = json_object_get(task, "error_code_mapping");
	in.data_extraction_schema =
	    json_object_get(task, "data_extraction_schema");
	in.page.url = sky_json_str(snap, "url");
	in.page.title = sky_json_str(snap, "title");
	in.page.element_tree = sky_page_tree_text(tree);
	in.page.snapshot = snap;
	in.history = json_object_get(rec, "history");
	in.now = "2026-01-01T00:00:00.000Z";
	in.step.order = (int)json_array_size(in.history);
	in.step.max_steps = (int)sky_json_int(task, "max_steps", 10);
	sky_planner_prompt *p = NULL;
	ck_assert_int_eq(sky_planner_render_actions(&in, &p), 0);
	char *ans = ask(p);
	sky_planner_prompt_free(p);
	sky_planner_parse_ctx pc = {0};
	pc.elements = sky_page_tree_elements(tree);
	pc.snapshot = snap;
	pc.page_url = in.page.url;
	pc.goal = in.goal;
	pc.navigation_payload = in.navigation_payload;
	pc.error_code_mapping = in.error_code_mapping;
	sky_planner_actions *acts = NULL;
	ck_assert_int_eq(sky_planner_parse_actions(ans, &pc, &acts), 0);
	ck_assert_msg(json_array_size(acts->rejected) == 0,
	              "rejected actions in %s", ans);
	out->actions = json_incref(acts->actions);
	out->tree = tree;
	sky_planner_actions_free(acts);
	free(ans);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The snapshot files of a site, sorted by step. */
static size_t fixtures(const char *dir, char **names, size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (!strncmp(e->d_name, "snapshot-", 9))
			names[n++] = skyx_asprintf("%s", e->d_name);
	closedir(d);
	/* "snapshot-10" after "snapshot-9": compare by number */
	for (size_t i = 0; i < n; i++) {
		int k = atoi(names[i] + 9);
		char *t = skyx_asprintf("%04d%s", k, names[i]);
		free(names[i]);
		names[i] = t;
	}
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++)
		memmove(names[i], names[i] + 4, strlen(names[i] + 4) + 1);
	return n;
}

START_TEST(real_snapshots_replay)
{
	char *root = skytest_src_path("tests/sites");
	DIR *d = opendir(root);
	struct dirent *e;
	size_t sites = 0, steps = 0, extractions = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *dir = skyx_asprintf("%s/%s", root, e->d_name);
		char *names[64];
		size_t n = fixtures(dir, names, 64);
		if (!n) {
			free(dir);
			continue;
		}
		json_t *task = load(dir, "task.json");
		json_t *expect = json_object_get(task, "expect");
		json_t *last_actions = NULL;
		json_t *last_rec = NULL;
		sites++;
		for (size_t i = 0; i < n; i++) {
			json_t *rec = load(dir, names[i]);
			step_answer sa = {0};
			replay_step(task, rec, &sa);
			char *want = shape(json_object_get(rec, "actions"));
			char *got = shape(sa.actions);
			ck_assert_msg(!strcmp(want, got),
			              "%s/%s: the planner now answers\n  %s\n"
			              "where the graded run did\n  %s",
			              e->d_name, names[i], got, want);
			free(want);
			free(got);
			json_decref(last_actions);
			json_decref(last_rec);
			last_actions = sa.actions;
			last_rec = rec;
			sky_page_tree_free(sa.tree);
			steps++;
			free(names[i]);
		}
		/* the run ended the way the site expects */
		const char *status = sky_json_str(expect, "status");
		size_t na = json_array_size(last_actions);
		const char *end =
		    na ? sky_json_str(json_array_get(last_actions, na - 1),
		                      "action_type")
		       : "";
		if (status)
			ck_assert_msg(
			    !strcmp(end, !strcmp(status, "completed")
			                     ? "complete"
			                     : "terminate"),
			    "%s: the last step ends with %s, the site "
			    "expects %s",
			    e->d_name, end, status);
		/* extraction from the final page equals the expected output */
		json_t *want_out = json_object_get(expect, "output");
		json_t *schema =
		    json_object_get(task, "data_extraction_schema");
		if (want_out && schema) {
			json_t *snap = json_object_get(last_rec, "snapshot");
			sky_page_tree *tree = NULL;
			ck_assert_int_eq(
			    sky_page_render_json(snap, NULL, &tree), 0);
			sky_planner_extract_input in = {0};
			in.goal = sky_json_str(task, "goal");
			in.data_extraction_goal = in.goal;
			in.data_extraction_schema = schema;
			in.page.url = sky_json_str(snap, "url");
			in.page.element_tree = sky_page_tree_text(tree);
			in.page.snapshot = snap;
			in.page.page_text = sky_json_str(snap, "text");
			sky_planner_prompt *p = NULL;
			ck_assert_int_eq(sky_planner_render_extract(&in, &p),
			                 0);
			char *ans = ask(p);
			json_t *v = NULL, *msgs = NULL;
			ck_assert_int_eq(
			    sky_planner_parse_data(ans, schema, &v, &msgs), 0);
			char *w = json_dumps(want_out, JSON_COMPACT),
			     *why = NULL;
			json_t *ex = json_pack("{s:O}", "output", want_out);
			json_t *oc = json_pack("{s:O}", "output", v);
			json_t *none = json_array();
			ck_assert_msg(
			    skytest_sites_grade_expect(ex, none, oc, &why) == 1,
			    "%s: extracted %s, expected %s (%s)", e->d_name,
			    ans, w, why);
			free(why);
			json_decref(ex);
			json_decref(oc);
			json_decref(none);
			ck_assert_uint_eq(json_array_size(msgs), 0);
			extractions++;
			free(w);
			free(ans);
			json_decref(v);
			json_decref(msgs);
			sky_planner_prompt_free(p);
			sky_page_tree_free(tree);
		}
		json_decref(last_actions);
		json_decref(last_rec);
		json_decref(task);
		free(dir);
	}
	closedir(d);
	free(root);
	printf("replayed %zu steps of %zu sites, %zu extractions\n", steps,
	       sites, extractions);
	/* the fixtures exist: an empty corpus must not pass silently */
	ck_assert_uint_ge(sites, 22);
	ck_assert_uint_ge(extractions, 3);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rules_corpus");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, real_snapshots_replay);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
