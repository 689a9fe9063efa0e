/*
 * Model faults through the engine: runs on the real llm-openai plugin
 * against an OpenAI-shaped server on loopback that misbehaves on
 * purpose, one way per run (the goal names the case): a 429 storm with
 * Retry-After, 500s, answers slower than the timeout, an empty answer, a
 * truncated one, actions on element ids that do not exist. Every run
 * ends: retried to completion, or failed with a reason that names the
 * fault. One engine and one Chromium serve all the runs at once.
 */
#include <pthread.h>

#include "httpd.h"
#include "rel.h"
#include "rig.h"

#define OPENAI_KEY "sk-rel-test-0123456789abcdefghij"

/* --- the model server ----------------------------------------------------- */

enum { C_STORM, C_500, C_SLOW, C_EMPTY, C_TRUNC, C_BADID, C_N };
static const char *const case_names[C_N] = {"storm", "e500",  "slow",
                                            "empty", "trunc", "badid"};

static struct {
	pthread_mutex_t lock;
	int calls[C_N];
	int unknown;
} M = {.lock = PTHREAD_MUTEX_INITIALIZER};

static char *chat_answer(const char *content, const char *finish)
{
	json_t *j = json_pack(
	    "{s:s, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i}}", "id",
	    "chatcmpl-rel", "model", "gpt-4o", "choices", "index", 0, "message",
	    "role", "assistant", "content", content, "finish_reason", finish,
	    "usage", "prompt_tokens", 900, "completion_tokens", 40);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

#define COMPLETE                                                               \
	"{\"actions\":[{\"action_type\":\"complete\","                         \
	"\"reasoning\":\"the page is read\"}]}"

static void on_model(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	const char *tag = strstr(req->body, "[case:");
	int c = -1;
	for (int i = 0; tag && i < C_N; i++)
		if (!strncmp(tag + 6, case_names[i], strlen(case_names[i])))
			c = i;
	pthread_mutex_lock(&M.lock);
	int n = c >= 0 ? ++M.calls[c] : (++M.unknown, 0);
	pthread_mutex_unlock(&M.lock);
	char *body = NULL;
	switch (c) {
	case C_STORM:
		/* Three refusals asking to come back in a second. */
		if (n <= 3) {
			skytest_resp_header(resp, "Retry-After", "1");
			skytest_resp_text(
			    resp, 429, "application/json",
			    "{\"error\":{\"message\":\"Rate limit "
			    "reached for gpt-4o\",\"type\":"
			    "\"requests\"}}");
			return;
		}
		body = chat_answer(COMPLETE, "stop");
		break;
	case C_500:
		skytest_resp_text(resp, 500, "application/json",
		                  "{\"error\":{\"message\":\"The server had an "
		                  "error while processing your request\","
		                  "\"type\":\"server_error\"}}");
		return;
	case C_SLOW:
		resp->delay_ms = 2500; /* beyond the 1 s request timeout */
		body = chat_answer(COMPLETE, "stop");
		break;
	case C_EMPTY:
		body = chat_answer(n == 1 ? "" : COMPLETE, "stop");
		break;
	case C_TRUNC:
		body = chat_answer("{\"actions\":[{\"action_type\":\"cli",
		                   "length");
		break;
	case C_BADID:
		body = chat_answer(n == 1 ? "{\"actions\":[{\"action_type\":"
		                            "\"click\",\"id\":\"E999\"}]}"
		                          : COMPLETE,
		                   "stop");
		break;
	default:
		skytest_resp_text(resp, 400, "application/json",
		                  "{\"error\":{\"message\":\"no case\"}}");
		return;
	}
	skytest_resp_text(resp, 200, "application/json", body);
	free(body);
}

/* --- the page ------------------------------------------------------------ */

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)req;
	(void)ud;
	skytest_resp_text(resp, 200, NULL,
	                  "<!doctype html><title>Notice</title><h1>Opening "
	                  "hours</h1><p>We are open from 9 to 5.</p><button>"
	                  "Contact us</button>");
}

/* --- the test ------------------------------------------------------------ */

static int calls(int c)
{
	pthread_mutex_lock(&M.lock);
	int n = M.calls[c];
	pthread_mutex_unlock(&M.lock);
	return n;
}

static const char *reason(json_t *run)
{
	const char *r = rel_str(run, "failure_reason");
	return r ? r : "";
}

START_TEST(every_model_fault_ends_in_a_retry_or_a_reason)
{
	skytest_httpd *model = skytest_httpd_start(on_model, NULL);
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	setenv("OPENAI_API_KEY", OPENAI_KEY, 1);
	setenv("SKYENGINE_MAX_RETRIES", "2", 1);
	char *cfg = skyx_asprintf(
	    "{\"llm\":{\"base_url\":\"%s/v1\",\"model\":\"gpt-4o\","
	    "\"retry_base_ms\":20,\"max_retries\":4,"
	    "\"request_timeout_ms\":1000,\"retry_after_max_ms\":2000},"
	    "\"agent\":{\"check_goal\":0,\"settle_max_ms\":1000,"
	    "\"llm_timeout_ms\":3000,\"vision\":0}}",
	    skytest_httpd_url(model));
	rel_rig r;
	rel_rig_start(&r, "mfaults", "openai", C_N, cfg);
	char *ids[C_N];
	for (int c = 0; c < C_N; c++)
		ids[c] =
		    rel_rig_submit(&r,
		                   "{\"prompt\":\"Tell me the opening hours "
		                   "[case:%s]\",\"url\":\"%s/\",\"engine\":"
		                   "\"skyvern-1.0\"}",
		                   case_names[c], skytest_httpd_url(site));
	json_t *runs[C_N];
	for (int c = 0; c < C_N; c++)
		runs[c] = rel_rig_wait(&r, ids[c], 180000);

	/* The storm passed: four calls, the last one answered. */
	ck_assert_msg(
	    skyx_str_eq(rel_str(runs[C_STORM], "status"), "completed"),
	    "storm: %s", reason(runs[C_STORM]));
	ck_assert_int_eq(calls(C_STORM), 4);

	/* 500s: the provider retried, then every step retry failed. */
	ck_assert_str_eq(rel_str(runs[C_500], "status"), "failed");
	ck_assert_msg(strstr(reason(runs[C_500]), "Max retries per step (2)") &&
	                  strstr(reason(runs[C_500]), "500") &&
	                  strstr(reason(runs[C_500]), "error while processing"),
	              "e500: %s", reason(runs[C_500]));
	ck_assert_int_eq(calls(C_500), 3 * 5);

	/* Too slow every time: failed, saying it timed out. */
	ck_assert_str_eq(rel_str(runs[C_SLOW], "status"), "failed");
	ck_assert_msg(strcasestr(reason(runs[C_SLOW]), "timed out") ||
	                  strcasestr(reason(runs[C_SLOW]), "timeout"),
	              "slow: %s", reason(runs[C_SLOW]));

	/* An empty answer is a failed step; the retry completes. */
	ck_assert_msg(
	    skyx_str_eq(rel_str(runs[C_EMPTY], "status"), "completed"),
	    "empty: %s", reason(runs[C_EMPTY]));
	json_t *steps = rel_rig_steps(&r, ids[C_EMPTY]);
	ck_assert_str_eq(rel_step_status(steps, 0, 0), "failed");
	ck_assert_str_eq(rel_step_status(steps, 0, 1), "completed");
	json_decref(steps);

	/* Always cut off: failed, and the reason says the answer was
	 * unusable. */
	ck_assert_str_eq(rel_str(runs[C_TRUNC], "status"), "failed");
	ck_assert_msg(strstr(reason(runs[C_TRUNC]), "Max retries per step"),
	              "trunc: %s", reason(runs[C_TRUNC]));
	ck_assert_int_eq(calls(C_TRUNC), 3);

	/* A click on an element that is not there is refused before it
	 * runs; the retry completes. */
	ck_assert_msg(
	    skyx_str_eq(rel_str(runs[C_BADID], "status"), "completed"),
	    "badid: %s", reason(runs[C_BADID]));
	steps = rel_rig_steps(&r, ids[C_BADID]);
	json_t *s0 = json_array_get(steps, 0);
	ck_assert_str_eq(rel_str(s0, "status"), "failed");
	json_t *rej = json_array_get(
	    json_object_get(json_object_get(s0, "output"), "rejected_actions"),
	    0);
	ck_assert_str_eq(rel_str(rej, "code"), "unknown_element");
	json_decref(steps);
	ck_assert_int_eq(M.unknown, 0);

	/* The key never reached a failure reason. */
	for (int c = 0; c < C_N; c++) {
		fprintf(stderr, "%s: %s: %s\n", case_names[c],
		        rel_str(runs[c], "status"), reason(runs[c]));
		ck_assert_ptr_null(strstr(reason(runs[c]), OPENAI_KEY));
		json_decref(runs[c]);
		free(ids[c]);
	}
	rel_rig_stop(&r, 1);
	skytest_httpd_stop(model);
	skytest_httpd_stop(site);
	free(cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("model_faults");
	TCase *tc = tcase_create("runs");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, every_model_fault_ends_in_a_retry_or_a_reason);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
