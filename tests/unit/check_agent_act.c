/* Unit tests: the agent's action dispatch for drag, which goes through
 * the browser provider's optional drag callback (ABI 1.1): a provider
 * built before it (drag NULL) gets a clear "unsupported" failure, never
 * a crash or a call into act(). */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "skytest.h"
#include "util/json.h"

static char *seen_drag, *seen_act;

static int stub_drag(void *ctx, const char *action, char **result, char **err)
{
	(void)ctx;
	(void)err;
	free(seen_drag);
	seen_drag = strdup(action);
	*result = strdup("{\"success\": true, \"to\": {\"x\": 5, \"y\": 6}}");
	return 0;
}

static int stub_act(void *ctx, const char *action, char **result, char **err)
{
	(void)ctx;
	(void)err;
	free(seen_act);
	seen_act = strdup(action);
	*result = strdup("{\"success\": true}");
	return 0;
}

START_TEST(drag_goes_to_the_drag_callback_or_fails_unsupported)
{
	sky_browser_provider old = {.name = "old", .act = stub_act};
	sky_run r;
	memset(&r, 0, sizeof r);
	r.bvt = &old;
	json_t *a = json_pack("{s:s,s:s,s:s}", "action_type", "drag",
	                      "element_id", "4", "target_element_id", "9");
	json_t *res = NULL;
	ck_assert_int_eq(sky_agent_act(&r, a, NULL, &res), 0);
	ck_assert(json_is_false(json_object_get(res, "success")));
	ck_assert_str_eq(sky_json_str(res, "error"), "unsupported");
	ck_assert_ptr_nonnull(
	    strstr(sky_json_str(res, "message"), "\"old\" cannot drag"));
	ck_assert_ptr_null(seen_act); /* act() never saw the drag */
	json_decref(res);

	sky_browser_provider cur = {
	    .name = "new", .act = stub_act, .drag = stub_drag};
	r.bvt = &cur;
	ck_assert_int_eq(sky_agent_act(&r, a, NULL, &res), 0);
	ck_assert(json_is_true(json_object_get(res, "success")));
	json_t *sent = sky_json_loads(seen_drag);
	ck_assert(json_equal(sent, a));
	json_decref(sent);
	ck_assert_ptr_null(seen_act);
	json_decref(res);
	json_decref(a);
	free(seen_drag);
	seen_drag = NULL;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_act");
	TCase *tc = tcase_create("drag");
	tcase_add_test(tc, drag_goes_to_the_drag_callback_or_fails_unsupported);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
