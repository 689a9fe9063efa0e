/*
 * Honest verdicts (issue 19): a run whose planner says COMPLETE but whose
 * data_extraction_schema comes back with nothing the schema asked for did
 * not reach its goal, whatever the planner. Through the whole engine with
 * the real llm-openai plugin against a scripted OpenAI-shaped server on
 * loopback: the model answers COMPLETE at once, then an extraction that
 * is empty, found, or missing a required field (the goal names the case).
 */
#include <pthread.h>

#include "../reliability/rel.h"
#include "../reliability/rig.h"
#include "httpd.h"

#define OPENAI_KEY "sk-verdict-0123456789abcdefghij"

static char *chat_answer(const char *content)
{
	json_t *j = json_pack(
	    "{s:s, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i}}", "id",
	    "chatcmpl-v", "model", "gpt-4o", "choices", "index", 0, "message",
	    "role", "assistant", "content", content, "finish_reason", "stop",
	    "usage", "prompt_tokens", 500, "completion_tokens", 20);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static void on_model(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	const char *answer =
	    "{\"actions\":[{\"action_type\":\"complete\",\"reasoning\":"
	    "\"the goal is reached\"}]}";
	if (strstr(req->body, "You read information off a web page")) {
		if (strstr(req->body, "[case:empty]"))
			answer = "{\"balance\": null, \"currency\": \"  \"}";
		else if (strstr(req->body, "[case:found]"))
			answer = "{\"balance\": 1234.5, \"currency\": null}";
		else if (strstr(req->body, "[case:required]"))
			answer = "{\"balance\": null, \"currency\": \"EUR\"}";
		else if (strstr(req->body, "[case:zero]"))
			answer = "{\"balance\": 0, \"currency\": null}";
		else
			answer = "null";
	}
	char *body = chat_answer(answer);
	skytest_resp_text(resp, 200, "application/json", body);
	free(body);
}

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)req;
	(void)ud;
	skytest_resp_text(
	    resp, 200, NULL,
	    "<!doctype html><title>Sign in</title><h1>Online banking</h1>"
	    "<form method=post action=/login><label>Username <input "
	    "name=u></label><label>Password <input type=password "
	    "name=p></label><button>Sign in</button></form>");
}

START_TEST(complete_without_the_data_asked_for_is_not_completed)
{
	skytest_httpd *model = skytest_httpd_start(on_model, NULL);
	skytest_httpd *site = skytest_httpd_start(on_site, NULL);
	setenv("OPENAI_API_KEY", OPENAI_KEY, 1);
	char *cfg = skyx_asprintf(
	    "{\"llm\":{\"base_url\":\"%s/v1\",\"model\":\"gpt-4o\"},"
	    "\"agent\":{\"check_goal\":0,\"settle_max_ms\":1000,"
	    "\"vision\":0,\"screenshots\":0}}",
	    skytest_httpd_url(model));
	rel_rig r;
	rel_rig_start(&r, "verdict", "openai", 2, cfg);
	static const char *const cases[] = {"empty", "found", "required",
	                                    "zero"};
	/* The required case's schema marks balance required. */
	char *ids[4];
	for (int i = 0; i < 4; i++)
		ids[i] = rel_rig_submit(
		    &r,
		    "{\"prompt\":\"Log in with username ann and password "
		    "pa55!word! and tell me the balance [case:%s]\","
		    "\"url\":\"%s/\",\"engine\":\"skyvern-1.0\","
		    "\"data_extraction_schema\":{\"type\":\"object\","
		    "\"properties\":{\"balance\":{\"type\":\"number\"},"
		    "\"currency\":{\"type\":\"string\"}}%s}}",
		    cases[i], skytest_httpd_url(site),
		    i == 2 ? ",\"required\":[\"balance\"]" : "");
	json_t *run[4];
	for (int i = 0; i < 4; i++)
		run[i] = rel_rig_wait(&r, ids[i], 120000);

	/* Nothing found: the planner's COMPLETE is not the run's verdict. */
	ck_assert_str_eq(rel_str(run[0], "status"), "terminated");
	ck_assert_msg(strstr(rel_str(run[0], "failure_reason"),
	                     "no value for balance, currency"),
	              "%s", rel_str(run[0], "failure_reason"));
	/* Found: completed, with the output. */
	ck_assert_str_eq(rel_str(run[1], "status"), "completed");
	ck_assert(json_real_value(json_object_get(
	              json_object_get(run[1], "output"), "balance")) == 1234.5);
	/* A required field missing: terminated, naming only that field. */
	ck_assert_str_eq(rel_str(run[2], "status"), "terminated");
	ck_assert_msg(strstr(rel_str(run[2], "failure_reason"),
	                     "no value for balance on"),
	              "%s", rel_str(run[2], "failure_reason"));
	/* Zero is an answer. */
	ck_assert_str_eq(rel_str(run[3], "status"), "completed");
	for (int i = 0; i < 4; i++) {
		json_decref(run[i]);
		free(ids[i]);
	}
	rel_rig_stop(&r, 1);
	skytest_httpd_stop(model);
	skytest_httpd_stop(site);
	free(cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("runs");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc,
	               complete_without_the_data_asked_for_is_not_completed);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
