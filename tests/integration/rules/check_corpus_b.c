/*
 * The offline planner on the second site corpus (tests/sites-b, issue 19):
 * sites written independently of the planner, modelled on real site
 * families, with goals in plain prose. Every site's task is submitted to
 * an in-process sky_engine with the embedded defaults (llm-rules,
 * browser-cdp, a real SQLite file), three runs at a time on one Chromium,
 * and graded by what the site's server received and by the run's final
 * status, output and errors, exactly as check_engine_corpus.c grades
 * tests/sites.
 *
 * It prints one line per site and the score. A run that ends `completed`
 * while its site's expectation fails is a FALSE COMPLETED: the engine told
 * the caller the goal was reached when the site never received what the
 * goal asked. Those are always listed, and the test fails on any of them
 * (strict by default since issue 19; SKY_CORPUS_B_STRICT=0 only reports
 * them). SKY_CORPUS_B_MIN=<n> (or CORPUS_B_MIN below) asserts a minimum
 * number of passing sites.
 *
 * SKY_CORPUS_B_TRACE=1 prints each step's actions and their reasoning.
 *
 * SKY_CORPUS_B_SITES=a,b limits the run to some sites;
 * SKY_CORPUS_B_ROOT=<dir> grades another corpus laid out the same way.
 */
#include <skyengine.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sites.h"
#include "skytest.h"
#include "util/fs.h"
#include "util/json.h"
#include <skyx/str.h>

/* The least number of passing sites asserted without SKY_CORPUS_B_MIN:
 * a floor a little under the score reached for issue 19 (see
 * docs/offline-planner.md), so that a regression shows. */
#define CORPUS_B_MIN 36

static json_t *field(const json_t *run, const char *key)
{
	json_t *v = json_object_get(run, key);
	return v ? v : json_null();
}

static int env_flag(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0");
}

/* SKY_CORPUS_B_TRACE=1: each step's actions and their reasoning, to see
 * why a site failed. */
static void print_steps(sky_engine *e, const char *id)
{
	char *out = NULL;
	if (sky_tasks_api_run_steps_list(&out, e, NULL, id) != 0)
		return;
	json_t *steps = sky_json_loads(out);
	size_t i, k;
	json_t *st, *a;
	json_array_foreach (steps, i, st) {
		json_t *acts = json_object_get(json_object_get(st, "output"),
		                               "actions_and_results");
		printf("    step %zu %s\n", i, sky_json_str(st, "status"));
		json_array_foreach (acts, k, a) {
			json_t *act = json_array_get(a, 0);
			char *t = sky_json_dumps(act);
			printf("      %s\n", t ? t : "?");
			free(t);
		}
	}
	json_decref(steps);
	sky_free(out);
}

START_TEST(corpus_b_through_engine)
{
	const char *env_root = getenv("SKY_CORPUS_B_ROOT");
	char *root = env_root && *env_root ? skyx_strdup(env_root)
	                                   : skytest_src_path("tests/sites-b");
	char *err = NULL;
	skytest_sites *sites = skytest_sites_start(root, &err);
	ck_assert_msg(sites != NULL, "%s", err ? err : "");
	char *dir = skytest_tmpdir("corpus-b");
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options o;
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = dir;
	o.llm = "rules";
	o.workers = 3;
	sky_engine *e = NULL;
	ck_assert_msg(sky_engine_new(&e, &o) == 0, "engine: %s",
	              sky_error_last());

	size_t n = skytest_sites_count(sites), ran = 0, passed = 0;
	size_t completed = 0, false_completed = 0;
	char **ids = calloc(n, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		const char *name = skytest_sites_name(sites, i);
		if (!skytest_sites_selected(getenv("SKY_CORPUS_B_SITES"), name))
			continue;
		skytest_sites_reset(sites, name);
		json_t *task = skytest_sites_task(sites, name);
		char *req = skytest_sites_request(task, NULL), *out = NULL;
		int status = 0;
		int rc =
		    sky_tasks_api_run_submit(&out, &status, e, NULL, req, NULL);
		ck_assert_msg(rc == 0, "%s: submit: %d %s", name, status,
		              out ? out : sky_error_last());
		json_t *run = sky_json_loads(out);
		ids[i] = skyx_strdup(sky_json_str(run, "run_id"));
		json_decref(run);
		sky_free(out);
		free(req);
		json_decref(task);
	}
	skyx_buf false_list = {0};
	printf("corpus-b: %s\n", root);
	for (size_t i = 0; i < n; i++) {
		if (!ids[i])
			continue;
		const char *name = skytest_sites_name(sites, i);
		char *out = NULL;
		int rc = sky_tasks_api_run_wait(&out, e, NULL, ids[i], 240000);
		json_t *run = sky_json_loads(out ? out : "{}");
		json_t *oc = json_pack(
		    "{s:O, s:O, s:O, s:O}", "status", field(run, "status"),
		    "failure_reason", field(run, "failure_reason"), "output",
		    field(run, "output"), "errors", field(run, "errors"));
		char *why = NULL;
		int graded = skytest_sites_grade(sites, name, oc, &why) == 1;
		int ok = rc == 0 && graded;
		const char *st = sky_json_str(run, "status");
		int done = rc == 0 && st && !strcmp(st, "completed");
		ran++;
		passed += ok;
		completed += done;
		if (done && !ok) {
			false_completed++;
			skyx_buf_printf(&false_list, "  %s: %s\n", name,
			                why ? why : "?");
		}
		printf("corpus-b %-26s %-10s %-4s%s %s\n", name, st ? st : "-",
		       ok ? "PASS" : "FAIL",
		       done && !ok ? " FALSE-COMPLETED" : "",
		       ok ? "" : (why ? why : "did not finish"));
		if (!ok && sky_json_str(run, "failure_reason"))
			printf("  reason: %s\n",
			       sky_json_str(run, "failure_reason"));
		if (env_flag("SKY_CORPUS_B_TRACE"))
			print_steps(e, ids[i]);
		fflush(stdout);
		free(why);
		json_decref(oc);
		json_decref(run);
		sky_free(out);
		free(ids[i]);
	}
	free(ids);
	printf("corpus-b score: %zu/%zu sites passed (%.0f%%); %zu ended "
	       "completed, %zu of them FALSE (the site did not receive what "
	       "the goal asked)\n",
	       passed, ran, ran ? 100.0 * (double)passed / (double)ran : 0.0,
	       completed, false_completed);
	if (false_completed)
		printf("corpus-b FALSE COMPLETED:\n%s", false_list.data);
	const char *min_env = getenv("SKY_CORPUS_B_MIN");
	size_t min = min_env && *min_env ? (size_t)strtoul(min_env, NULL, 10)
	                                 : CORPUS_B_MIN;
	/* strict by default: a false completed fails the test;
	 * SKY_CORPUS_B_STRICT=0 only reports them */
	const char *strict_env = getenv("SKY_CORPUS_B_STRICT");
	int strict = !strict_env || !*strict_env || strcmp(strict_env, "0");
	if (!strict && false_completed)
		printf("corpus-b: baseline mode, false completes are reported, "
		       "not failed (unset SKY_CORPUS_B_STRICT to fail on "
		       "them)\n");
	fflush(stdout);
	sky_engine_free(e);
	sky_global_shutdown();
	skytest_sites_stop(sites);
	skyx_rm_rf(dir);
	free(dir);
	free(root);
	ck_assert_msg(!strict || false_completed == 0,
	              "%zu runs ended completed although their site did "
	              "not receive what the goal asked:\n%s",
	              false_completed, false_list.data ? false_list.data : "");
	ck_assert_msg(passed >= min, "%zu sites passed, at least %zu required",
	              passed, min);
	skyx_buf_free(&false_list);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rules_corpus_b");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 1700);
	tcase_add_test(tc, corpus_b_through_engine);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
