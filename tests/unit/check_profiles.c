/*
 * Browser profiles with a browser provider that cannot keep state (the
 * fixture browser, built against ABI 2.1 without state_save/state_load,
 * as a 2.0 plugin reads): a run that names a profile fails with a clear
 * error instead of running without it, and no profile can be saved from
 * such a browser's run.
 */
#include <jansson.h>
#include <skyengine.h>
#include <stdlib.h>
#include <string.h>

#include "skytest.h"
#include "util/json.h"
#include <skyx/fs.h>
#include <skyx/str.h>

#define FX SKY_TEST_FIXTURE_DIR

START_TEST(a_browser_without_state_calls_is_a_clear_error)
{
	char *dir = skytest_tmpdir("profiles-fx");
	sky_engine_options o;
	sky_engine *e = NULL;
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = dir;
	o.workers = 1;
	o.plugin_path = FX;
	o.browser = "fixture";
	o.config_json = "{\"browser\":{\"open_contexts\":true}}";
	ck_assert_int_eq(sky_engine_new(&e, &o), 0);

	char *out = NULL;
	int status = 0;
	ck_assert_int_eq(sky_tasks_api_browser_profile_create(
	                     &out, &status, e, NULL, "{\"name\":\"p\"}"),
	                 0);
	ck_assert_int_eq(status, 200);
	json_t *p = sky_json_loads(out);
	sky_free(out);
	char *bp = skyx_strdup(sky_json_str(p, "browser_profile_id"));
	json_decref(p);
	ck_assert(skyx_str_startswith(bp, "bp_"));

	char *body = skyx_asprintf("{\"prompt\":\"Open the page.\",\"url\":"
	                           "\"http://127.0.0.1:9/\",\"engine\":"
	                           "\"skyvern-2.0\",\"browser_profile_id\":"
	                           "\"%s\",\"persist_browser_session\":true}",
	                           bp);
	ck_assert_int_eq(
	    sky_tasks_api_run_submit(&out, &status, e, NULL, body, NULL), 0);
	free(body);
	json_t *r = sky_json_loads(out);
	sky_free(out);
	char *id = skyx_strdup(sky_json_str(r, "run_id"));
	json_decref(r);
	ck_assert_int_eq(sky_tasks_api_run_wait(&out, e, NULL, id, 120000), 0);
	r = sky_json_loads(out);
	sky_free(out);
	ck_assert_str_eq(sky_json_str(r, "status"), "failed");
	char want[160];
	snprintf(want, sizeof want,
	         "browser profile %s cannot be used: the browser provider "
	         "fixture cannot load browser profiles",
	         bp);
	ck_assert_msg(strstr(sky_json_str(r, "failure_reason"), want) != NULL,
	              "failure_reason: %s", sky_json_str(r, "failure_reason"));
	json_decref(r);

	/* Nothing was kept, so no profile can be made from the run. */
	body = skyx_asprintf("{\"name\":\"q\",\"workflow_run_id\":\"%s\"}", id);
	ck_assert_int_ne(
	    sky_tasks_api_browser_profile_create(&out, &status, e, NULL, body),
	    0);
	ck_assert_int_eq(status, 400);
	sky_free(out);
	free(body);

	sky_engine_free(e);
	sky_global_shutdown();
	free(id);
	free(bp);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("profiles");
	TCase *tc = tcase_create("fixture");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_browser_without_state_calls_is_a_clear_error);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
