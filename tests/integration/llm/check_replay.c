/* Integration tests: the llm-replay plugin (keyed, hashed, strict,
 * sequential, latency) and record mode -> replay through the engine's
 * LLM layer with the real openai plugin against a loopback server. */
#include <stdio.h>

#include "fake_llm.h"
#include <skyx/prompt_hash.h>
#include "util/fs.h"

#define KEY "sk-record-test-key-0123456789"

static char *write_file(const char *name, const char *text)
{
	char *path = skyx_asprintf("%s/%s", fk_dir, name);
	ck_assert_int_eq(sky_write_file(path, text, strlen(text)), 0);
	return path;
}

static sky_llm *open_replay(const char *path, const char *extra)
{
	char *c = skyx_asprintf("{\"replay_file\":\"%s\"%s%s}", path,
	                        extra ? "," : "", extra ? extra : "");
	sky_llm *llm = fake_open("replay", c);
	free(c);
	return llm;
}

/* Complete and return the answer text (malloc'd), or NULL with rc. */
static char *ask(sky_llm *llm, const char *purpose, int order, int retry,
                 const char *prompt, int *rc)
{
	sky_llm_request r = fake_request(purpose, prompt);
	sky_llm_result *res = NULL;
	r.step_order = order;
	r.retry_index = retry;
	*rc = sky_llm_complete(llm, &r, 0, &res);
	char *t = res ? strdup(res->text) : NULL;
	sky_llm_result_free(res);
	return t;
}

START_TEST(keyed_by_purpose_step_and_retry)
{
	char *path = write_file(
	    "keyed.jsonl",
	    "# hand-written answers\n"
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	    "\"answer\":\"A0\",\"model\":\"gpt-4o\",\"tokens\":{\"input\":11,"
	    "\"output\":3}}\n"
	    "\n"
	    "{\"purpose\":\"check-goal\",\"order\":0,\"retry\":0,"
	    "\"answer\":{\"status\":\"continue\"}}\n"
	    "{\"purpose\":\"extract-actions\",\"order\":1,\"retry\":0,"
	    "\"answer\":\"A1\"}\n"
	    "{\"purpose\":\"extract-actions\",\"order\":1,\"retry\":1,"
	    "\"answer\":\"A1r1\"}\n");
	sky_llm *llm = open_replay(path, NULL);
	int rc;
	char *a;
	/* Any prompt: hand-written entries carry no hash. */
	a = ask(llm, "extract-actions", 1, 1, "whatever", &rc);
	ck_assert_str_eq(a, "A1r1");
	free(a);
	a = ask(llm, "extract-actions", 0, 0, "page one", &rc);
	ck_assert_str_eq(a, "A0");
	free(a);
	a = ask(llm, "check-goal", 0, 0, "is it done?", &rc);
	ck_assert_str_eq(a, "{\"status\":\"continue\"}");
	free(a);
	a = ask(llm, "extract-actions", 1, 0, "page two", &rc);
	ck_assert_str_eq(a, "A1");
	free(a);
	/* Asked again: the same answer again. */
	a = ask(llm, "extract-actions", 1, 0, "page two", &rc);
	ck_assert_str_eq(a, "A1");
	free(a);

	/* Tokens and model come from the file; nothing was spent. */
	sky_llm_request r = fake_request("extract-actions", "p");
	sky_llm_result *res = NULL;
	r.step_order = 0;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_str_eq(res->model, "gpt-4o");
	ck_assert_int_eq(res->usage.input_tokens, 11);
	ck_assert_int_eq(res->usage.output_tokens, 3);
	ck_assert_int_eq(res->cost_source, SKY_LLM_COST_PROVIDER);
	ck_assert(res->usage.cost_usd == 0.0);
	sky_llm_result_free(res);

	/* Unknown step: fails loudly, naming what was asked. */
	a = ask(llm, "extract-actions", 7, 0, "page eight", &rc);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(rc, SKY_ENOTFOUND);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "purpose=extract-actions step=7 retry=0"));
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "hash=sha256:"));
	sky_llm_close(llm);
	free(path);
}
END_TEST

START_TEST(keyed_by_normalized_prompt_hash)
{
	char hash[SKYX_PROMPT_HASH_LEN];
	const char *recorded =
	    "Goal: apply for the job.\n"
	    "Current time: 2026-11-28T21:00:00.000Z\n"
	    "URL: http://127.0.0.1:38123/apply  (run tsk_412345678901234567)\n";
	ck_assert_ptr_nonnull(skyx_prompt_hash("sys", recorded, hash));
	char *line =
	    skyx_asprintf("{\"purpose\":\"plan\",\"prompt_hash\":\"%s\","
	                  "\"answer\":\"by-hash\"}\n"
	                  "{\"purpose\":\"plan\",\"prompt_hash\":"
	                  "\"sha256:00\",\"answer\":\"other\"}\n",
	                  hash);
	char *path = write_file("hashed.jsonl", line);
	sky_llm *llm = open_replay(path, NULL);

	/* Same prompt with another time, port, run id and spacing. */
	sky_llm_request r =
	    fake_request("plan", "Goal:   apply for the job.\n\n"
	                         "Current time: 2027-01-01T08:15:00Z\n"
	                         "URL: http://127.0.0.1:40999/apply (run "
	                         "tsk_499999999999999999)");
	r.system = "sys";
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_str_eq(res->text, "by-hash");
	sky_llm_result_free(res);

	/* A changed prompt is an unknown prompt in strict mode. */
	r.prompt = "Goal: apply for another job.";
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "purpose=plan"));
	sky_llm_close(llm);
	free(line);
	free(path);
}
END_TEST

START_TEST(strict_refuses_a_drifted_prompt_lenient_answers)
{
	char *path = write_file(
	    "drift.jsonl",
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"retry\":0,"
	    "\"prompt_hash\":\"sha256:recorded-for-another-prompt\","
	    "\"answer\":\"old\"}\n");
	sky_llm *llm = open_replay(path, NULL);
	int rc;
	char *a = ask(llm, "extract-actions", 0, 0, "new prompt", &rc);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(rc, SKY_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "different prompt"));
	sky_llm_close(llm);

	llm = open_replay(path, "\"replay_strict\":false");
	a = ask(llm, "extract-actions", 0, 0, "new prompt", &rc);
	ck_assert_str_eq(a, "old");
	free(a);
	sky_llm_close(llm);
	free(path);
}
END_TEST

START_TEST(sequential_fallback_per_purpose)
{
	char *path = write_file(
	    "seq.jsonl", "{\"purpose\":\"plan\",\"answer\":\"p1\"}\n"
	                 "{\"purpose\":\"summarize\",\"answer\":\"s1\"}\n"
	                 "{\"purpose\":\"plan\",\"answer\":\"p2\"}\n");
	sky_llm *llm = open_replay(path, "\"replay_sequential\":true");
	int rc;
	char *a = ask(llm, "plan", -1, 0, "x", &rc);
	ck_assert_str_eq(a, "p1");
	free(a);
	a = ask(llm, "plan", 3, 0, "y", &rc);
	ck_assert_str_eq(a, "p2");
	free(a);
	a = ask(llm, "summarize", -1, 0, "z", &rc);
	ck_assert_str_eq(a, "s1");
	free(a);
	a = ask(llm, "plan", -1, 0, "x", &rc);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(rc, SKY_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "no unused"));
	sky_llm_close(llm);

	/* Without the option, order-less entries never answer. */
	llm = open_replay(path, NULL);
	a = ask(llm, "plan", -1, 0, "x", &rc);
	ck_assert_ptr_null(a);
	sky_llm_close(llm);
	free(path);
}
END_TEST

START_TEST(latency_knob_and_timeouts)
{
	char *path =
	    write_file("lat.jsonl", "{\"purpose\":\"plan\",\"order\":0,"
	                            "\"answer\":\"late\"}\n");
	sky_llm *llm = open_replay(path, "\"replay_latency_ms\":400");
	sky_llm_request r = fake_request("plan", "x");
	sky_llm_result *res = NULL;
	r.step_order = 0;
	r.timeout_ms = 100;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "latency 400 ms"));
	r.timeout_ms = 5000;
	int64_t t0 = skyx_time_mono_ms();
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_int_ge(skyx_time_mono_ms() - t0, 400);
	ck_assert_str_eq(res->text, "late");
	sky_llm_result_free(res);
	sky_llm_close(llm);
	free(path);
}
END_TEST

START_TEST(bad_files_fail_at_open)
{
	sky_llm *llm = NULL;
	char *cfg = skyx_asprintf(
	    "{\"llm\":{\"replay_file\":\"%s/none.jsonl\"}}", fk_dir);
	sky_plugins_set_engine(fk_plugins, cfg, fk_dir, fk_http);
	ck_assert_int_eq(sky_llm_open(fk_plugins, "replay", cfg, &llm),
	                 SKY_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "none.jsonl"));
	free(cfg);

	char *path =
	    write_file("bad.jsonl", "{\"purpose\":\"plan\",\"answer\":\"ok\"}\n"
	                            "{\"purpose\":\"plan\",\"answer\":\n");
	cfg = skyx_asprintf("{\"llm\":{\"replay_file\":\"%s\"}}", path);
	sky_plugins_set_engine(fk_plugins, cfg, fk_dir, fk_http);
	ck_assert_int_eq(sky_llm_open(fk_plugins, "replay", cfg, &llm),
	                 SKY_EPARSE);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "line 2"));
	free(cfg);
	free(path);

	path = write_file("noanswer.jsonl", "{\"purpose\":\"plan\"}\n");
	cfg = skyx_asprintf("{\"llm\":{\"replay_file\":\"%s\"}}", path);
	sky_plugins_set_engine(fk_plugins, cfg, fk_dir, fk_http);
	ck_assert_int_eq(sky_llm_open(fk_plugins, "replay", cfg, &llm),
	                 SKY_EPARSE);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "\"answer\""));
	free(cfg);
	free(path);

	sky_plugins_set_engine(fk_plugins, "{}", fk_dir, fk_http);
	ck_assert_int_eq(sky_llm_open(fk_plugins, "replay", "{}", &llm),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "SKYENGINE_LLM_REPLAY_FILE"));
	ck_assert_ptr_null(llm);
}
END_TEST

START_TEST(replay_file_from_the_environment)
{
	char *path =
	    write_file("env.jsonl", "{\"purpose\":\"plan\",\"order\":2,"
	                            "\"answer\":\"from-env\"}\n");
	setenv("SKYENGINE_LLM_REPLAY_FILE", path, 1);
	sky_llm *llm = fake_open("replay", "{}");
	int rc;
	char *a = ask(llm, "plan", 2, 0, "x", &rc);
	ck_assert_str_eq(a, "from-env");
	free(a);
	sky_llm_close(llm);
	free(path);
}
END_TEST

/* The model's answer depends on what it was asked. */
static void model_handler_script(void)
{
	static struct fake_resp s[3];
	s[0] = (struct fake_resp){
	    200,
	    "{\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"message\":"
	    "{\"content\":\"{\\\"actions\\\":[{\\\"action_type\\\":"
	    "\\\"click\\\",\\\"id\\\":\\\"3\\\"}]}\"},\"finish_reason\":"
	    "\"stop\"}],\"usage\":{\"prompt_tokens\":1200,"
	    "\"completion_tokens\":30,\"prompt_tokens_details\":"
	    "{\"cached_tokens\":1024}}}",
	    NULL, 0};
	s[1] = (struct fake_resp){
	    200,
	    "{\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"message\":"
	    "{\"content\":\"{\\\"status\\\":\\\"continue\\\"}\"},"
	    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":900,"
	    "\"completion_tokens\":12}}",
	    NULL, 0};
	s[2] = (struct fake_resp){
	    200,
	    "{\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"message\":"
	    "{\"content\":\"{\\\"actions\\\":[{\\\"action_type\\\":"
	    "\\\"complete\\\"}]}\"},\"finish_reason\":\"stop\"}],\"usage\":"
	    "{\"prompt_tokens\":1300,\"completion_tokens\":20,"
	    "\"completion_tokens_details\":{\"reasoning_tokens\":5}}}",
	    NULL, 0};
	fake_script(3, s);
}

struct call {
	const char *purpose;
	int order;
	const char *prompt;
};

static const struct call calls[] = {
    {"extract-actions", 0,
     "Goal: sign up.\nCurrent time: 2026-11-28T21:00:00Z\n"
     "URL: http://127.0.0.1:41111/signup\n<input id=\"3\">"},
    {"check-goal", 0, "Goal: sign up.\nIs it reached?"},
    {"extract-actions", 1,
     "Goal: sign up.\nCurrent time: 2026-11-28T21:00:09Z\n"
     "URL: http://127.0.0.1:41111/done\nThanks!"},
};

START_TEST(record_then_replay_round_trip)
{
	static const unsigned char png[] = {0x89, 'P', 'N', 'G'};
	char *rec = skyx_asprintf("%s/run.jsonl", fk_dir);
	char *base = fake_url("/v1");
	setenv("OPENAI_API_KEY", KEY, 1);
	char *c = skyx_asprintf("{\"base_url\":\"%s\",\"model\":\"gpt-4o\","
	                        "\"record\":\"%s\"}",
	                        base, rec);
	sky_llm *llm = fake_open("openai", c);
	model_handler_script();
	sky_llm_result *live[3];
	sky_llm_image img = {"image/png", png, sizeof png};
	for (int i = 0; i < 3; i++) {
		sky_llm_request r =
		    fake_request(calls[i].purpose, calls[i].prompt);
		r.step_order = calls[i].order;
		r.run_id = "tsk_1000000000000000001";
		r.system = "You are a web agent.";
		r.images = i == 0 ? &img : NULL;
		r.n_images = i == 0;
		ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &live[i]), 0);
	}
	sky_llm_close(llm);

	/* The file: one line per call, in the replay format, no secret. */
	size_t len = 0;
	char *text = skyx_read_file(rec, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, KEY));
	ck_assert_ptr_null(strstr(text, "iVBOR")); /* no image data either */
	int lines = 0;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	ck_assert_int_eq(lines, 3);
	json_t *first = json_loadb(text, strcspn(text, "\n"), 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(first, "purpose")),
	                 "extract-actions");
	ck_assert_int_eq(json_integer_value(json_object_get(first, "order")),
	                 0);
	ck_assert_int_eq(json_integer_value(json_object_get(first, "retry")),
	                 0);
	ck_assert(skyx_str_startswith(
	    json_string_value(json_object_get(first, "prompt_hash")),
	    "sha256:"));
	ck_assert_str_eq(json_string_value(json_object_get(first, "model")),
	                 "gpt-4o-2024-08-06");
	ck_assert_str_eq(json_string_value(json_object_get(first, "answer")),
	                 live[0]->text);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_object_get(first, "tokens"), "cached")),
	                 1024);
	json_decref(first);
	free(text);

	/* Replay: same answers and tokens, without the server; prompts
	 * differ in time, port and spacing only. */
	int served = fake_count();
	char *rc2 = skyx_asprintf("{\"replay_file\":\"%s\",\"record\":\"%s\"}",
	                          rec, rec);
	sky_llm *rp = fake_open("replay", rc2);
	for (int i = 2; i >= 0; i--) { /* another order on purpose */
		char *p = strdup(calls[i].prompt);
		char *port = strstr(p, "41111");
		if (port)
			memcpy(port, "52222", 5);
		char *t = strstr(p, "21:00:");
		if (t)
			memcpy(t, "23:59:", 6);
		char *spaced = skyx_asprintf("  %s\n\n", p);
		sky_llm_request r = fake_request(calls[i].purpose, spaced);
		r.step_order = calls[i].order;
		r.system = "You are a web agent.";
		sky_llm_result *res = NULL;
		ck_assert_int_eq(sky_llm_complete(rp, &r, 0, &res), 0);
		ck_assert_str_eq(res->text, live[i]->text);
		ck_assert_str_eq(res->model, live[i]->model);
		ck_assert_int_eq(res->usage.input_tokens,
		                 live[i]->usage.input_tokens);
		ck_assert_int_eq(res->usage.output_tokens,
		                 live[i]->usage.output_tokens);
		ck_assert_int_eq(res->usage.reasoning_tokens,
		                 live[i]->usage.reasoning_tokens);
		ck_assert_int_eq(res->usage.cached_tokens,
		                 live[i]->usage.cached_tokens);
		sky_llm_result_free(res);
		free(spaced);
		free(p);
	}
	/* Another page at step 1: the recording does not know it. */
	sky_llm_request r =
	    fake_request("extract-actions", "Goal: sign up.\nAn error page.");
	r.step_order = 1;
	r.system = "You are a web agent.";
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(rp, &r, 0, &res), SKY_ENOTFOUND);
	sky_llm_close(rp);
	ck_assert_int_eq(fake_count(), served);
	/* Replayed calls are not recorded again. */
	text = skyx_read_file(rec, &len);
	lines = 0;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	ck_assert_int_eq(lines, 3);
	free(text);
	for (int i = 0; i < 3; i++)
		sky_llm_result_free(live[i]);
	free(rc2);
	free(c);
	free(base);
	free(rec);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("llm-replay");
	TCase *tc = tcase_create("replay");
	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, keyed_by_purpose_step_and_retry);
	tcase_add_test(tc, keyed_by_normalized_prompt_hash);
	tcase_add_test(tc, strict_refuses_a_drifted_prompt_lenient_answers);
	tcase_add_test(tc, sequential_fallback_per_purpose);
	tcase_add_test(tc, latency_knob_and_timeouts);
	tcase_add_test(tc, bad_files_fail_at_open);
	tcase_add_test(tc, replay_file_from_the_environment);
	tcase_add_test(tc, record_then_replay_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
