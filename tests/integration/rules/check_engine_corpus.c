/*
 * The offline planner on the site corpus (tests/sites) through the whole
 * engine: every site's task is submitted to an in-process sky_engine with
 * the embedded defaults (llm-rules, browser-cdp, a real SQLite file),
 * three runs at a time on one Chromium, and graded by what the site's
 * server received and by the run's final status, output and errors as
 * the API would serve them. check_corpus.c drives the same sites through
 * a minimal loop of its own (and captures the snapshots the unit tests
 * replay); this test is the proof that the engine's own loop does as well.
 *
 * SKY_RULES_SITES=a,b limits the run to some sites; SKY_RULES_ENGINE=
 * skyvern-2.0 runs every site as task v2.
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

static json_t *field(const json_t *run, const char *key)
{
	json_t *v = json_object_get(run, key);
	return v ? v : json_null();
}

START_TEST(corpus_through_engine)
{
	char *root = skytest_src_path("tests/sites"), *err = NULL;
	skytest_sites *sites = skytest_sites_start(root, &err);
	ck_assert_msg(sites != NULL, "%s", err ? err : "");
	free(root);
	char *dir = skytest_tmpdir("rules-engine");
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
	char **ids = calloc(n, sizeof *ids);
	for (size_t i = 0; i < n; i++) {
		const char *name = skytest_sites_name(sites, i);
		if (!skytest_sites_selected(getenv("SKY_RULES_SITES"), name))
			continue;
		skytest_sites_reset(sites, name);
		json_t *task = skytest_sites_task(sites, name);
		char *req = skytest_sites_request(task,
		                                  getenv("SKY_RULES_ENGINE")),
		     *out = NULL;
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
	skyx_buf failures = {0};
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
		int ok =
		    rc == 0 && skytest_sites_grade(sites, name, oc, &why) == 1;
		ran++;
		passed += ok;
		printf("engine %-22s %-4s %-10s %s\n", name,
		       ok ? "PASS" : "FAIL",
		       sky_json_str(run, "status") ? sky_json_str(run, "status")
		                                   : "-",
		       ok ? "" : (why ? why : "did not finish"));
		if (!ok) {
			printf("  reason: %s\n",
			       sky_json_str(run, "failure_reason")
			           ? sky_json_str(run, "failure_reason")
			           : "");
			skyx_buf_printf(&failures, "%s: %s\n", name,
			                why ? why : "did not finish");
		}
		fflush(stdout);
		free(why);
		json_decref(oc);
		json_decref(run);
		sky_free(out);
		free(ids[i]);
	}
	free(ids);
	printf("engine corpus: %zu/%zu sites passed (%.0f%%)\n", passed, ran,
	       ran ? 100.0 * (double)passed / (double)ran : 0.0);
	sky_engine_free(e);
	sky_global_shutdown();
	skytest_sites_stop(sites);
	skyx_rm_rf(dir);
	free(dir);
	ck_assert_msg(passed == ran, "failed sites:\n%s",
	              failures.data ? failures.data : "");
	skyx_buf_free(&failures);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rules_engine_corpus");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 580);
	tcase_add_test(tc, corpus_through_engine);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
