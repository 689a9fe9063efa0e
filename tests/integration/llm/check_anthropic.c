/* Integration tests: the llm-anthropic plugin, loaded through the plugin
 * host, against an Anthropic-shaped server on loopback. */
#include "fake_llm.h"

#define KEY "sk-ant-test-abcdef0123456789"

#define OK_BODY                                                                \
	"{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","       \
	"\"model\":\"claude-sonnet-4-5-20250929\",\"content\":["               \
	"{\"type\":\"thinking\",\"thinking\":\"hmm\"},"                        \
	"{\"type\":\"text\",\"text\":\"{\\\"status\\\":\"},"                   \
	"{\"type\":\"text\",\"text\":\"\\\"complete\\\"}\"}],"                 \
	"\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":700,"        \
	"\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":200," \
	"\"output_tokens\":50}}"

static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10};

static void setup(void)
{
	fake_setup();
	setenv("ANTHROPIC_API_KEY", KEY, 1);
}

static sky_llm *open_with(const char *base_suffix, const char *extra)
{
	char *base = fake_url(base_suffix);
	char *c =
	    skyx_asprintf("{\"base_url\":\"%s\",\"retry_base_ms\":20%s%s}",
	                  base, extra ? "," : "", extra ? extra : "");
	sky_llm *llm = fake_open("anthropic", c);
	free(c);
	free(base);
	return llm;
}

START_TEST(request_bytes_and_answer)
{
	sky_llm *llm = open_with("", "\"temperature\":0");
	struct fake_resp ok = {200, OK_BODY, NULL, 0};
	fake_script(1, &ok);
	sky_llm_image img = {"image/jpeg", jpeg, sizeof jpeg};
	sky_llm_request r = fake_request("check-goal", "Is the goal reached?");
	r.system = "You check goals.";
	r.images = &img;
	r.n_images = 1;
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);

	ck_assert_str_eq(fake.req[0].method, "POST");
	ck_assert_str_eq(fake.req[0].path, "/v1/messages");
	ck_assert_str_eq(fake_header(0, "x-api-key"), KEY);
	ck_assert_str_eq(fake_header(0, "anthropic-version"), "2023-06-01");
	ck_assert_str_eq(fake_header(0, "content-type"), "application/json");
	ck_assert_ptr_null(fake_header(0, "authorization"));
	json_t *b = fake_json(0);
	ck_assert_str_eq(json_string_value(json_object_get(b, "model")),
	                 "claude-sonnet-4-5");
	ck_assert_int_eq(json_integer_value(json_object_get(b, "max_tokens")),
	                 4096);
	ck_assert_str_eq(json_string_value(json_object_get(b, "system")),
	                 "You check goals.");
	ck_assert(json_real_value(json_object_get(b, "temperature")) == 0.0);
	json_t *msgs = json_object_get(b, "messages");
	ck_assert_int_eq(json_array_size(msgs), 1);
	json_t *m = json_array_get(msgs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(m, "role")), "user");
	json_t *c = json_object_get(m, "content");
	ck_assert_int_eq(json_array_size(c), 2);
	json_t *img0 = json_array_get(c, 0), *txt = json_array_get(c, 1);
	ck_assert_str_eq(json_string_value(json_object_get(img0, "type")),
	                 "image");
	json_t *src = json_object_get(img0, "source");
	ck_assert_str_eq(json_string_value(json_object_get(src, "type")),
	                 "base64");
	ck_assert_str_eq(json_string_value(json_object_get(src, "media_type")),
	                 "image/jpeg");
	ck_assert_str_eq(json_string_value(json_object_get(src, "data")),
	                 "/9j/4AAQ");
	ck_assert_str_eq(json_string_value(json_object_get(txt, "type")),
	                 "text");
	ck_assert_str_eq(json_string_value(json_object_get(txt, "text")),
	                 "Is the goal reached?");
	json_decref(b);

	/* Text blocks joined, thinking skipped; usage in engine terms. */
	ck_assert_str_eq(res->text, "{\"status\":\"complete\"}");
	ck_assert_str_eq(res->model, "claude-sonnet-4-5-20250929");
	ck_assert_str_eq(res->finish_reason, "stop");
	ck_assert_int_eq(res->usage.input_tokens, 1000);
	ck_assert_int_eq(res->usage.cached_tokens, 200);
	ck_assert_int_eq(res->usage.output_tokens, 50);
	ck_assert_int_eq(res->cost_source, SKY_LLM_COST_TABLE);
	/* claude-sonnet-4: 800 x 3 + 200 x 0.30 + 50 x 15 per million */
	ck_assert_double_eq_tol(res->usage.cost_usd, 0.00321, 1e-9);
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(config_base_with_v1_max_tokens_model_prefill)
{
	sky_llm *llm =
	    open_with("/v1/", "\"model\":\"claude-3-5-haiku-latest\","
	                      "\"max_tokens\":256,\"prefill\":\"{\","
	                      "\"anthropic_version\":\"2024-01-01\","
	                      "\"extra_headers\":{\"anthropic-beta\":"
	                      "\"x-1\"}");
	struct fake_resp ok = {
	    200,
	    "{\"content\":[{\"type\":\"text\",\"text\":\"\\\"a\\\":1}\"}],"
	    "\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":3,"
	    "\"output_tokens\":256}}",
	    NULL, 0};
	fake_script(1, &ok);
	sky_llm_request r = fake_request("extract-data", "Extract.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_str_eq(fake.req[0].path, "/v1/messages");
	ck_assert_str_eq(fake_header(0, "anthropic-version"), "2024-01-01");
	ck_assert_str_eq(fake_header(0, "anthropic-beta"), "x-1");
	json_t *b = fake_json(0);
	ck_assert_int_eq(json_integer_value(json_object_get(b, "max_tokens")),
	                 256);
	ck_assert_ptr_null(json_object_get(b, "system"));
	json_t *msgs = json_object_get(b, "messages");
	ck_assert_int_eq(json_array_size(msgs), 2);
	/* No image: plain string content; then the assistant prefill. */
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(msgs, 0), "content")),
	                 "Extract.");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(msgs, 1), "role")),
	    "assistant");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(msgs, 1), "content")),
	                 "{");
	json_decref(b);
	/* The answer continues the prefill; stop at max_tokens is flagged. */
	ck_assert_str_eq(res->text, "{\"a\":1}");
	ck_assert_str_eq(res->finish_reason, "length");
	ck_assert(res->truncated);
	/* No model in the answer: the configured one is priced. */
	ck_assert_str_eq(res->model, "claude-3-5-haiku-latest");
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(overloaded_and_rate_limited_are_retried)
{
	sky_llm *llm = open_with("", NULL);
	struct fake_resp s[] = {
	    {529,
	     "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
	     "\"message\":\"Overloaded\"}}",
	     NULL, 0},
	    {429,
	     "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
	     "\"message\":\"Number of requests has exceeded\"}}",
	     "retry-after: 1\r\n", 0},
	    {200, OK_BODY, NULL, 0},
	};
	fake_script(3, s);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_int_eq(fake_count(), 3);
	ck_assert_int_ge(fake.req[2].at_ms - fake.req[1].at_ms, 950);
	ck_assert_str_eq(res->text, "{\"status\":\"complete\"}");
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(overloaded_storm_gives_up)
{
	sky_llm *llm = open_with("", "\"max_retries\":3");
	struct fake_resp s = {
	    529,
	    "{\"type\":\"error\",\"error\":{\"type\":"
	    "\"overloaded_error\",\"message\":\"Overloaded\"}}",
	    NULL, 0};
	fake_script(1, &s);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_int_eq(fake_count(), 4);
	ck_assert_ptr_nonnull(strstr(sky_error_last(),
	                             "server error 529 after 4 attempts: "
	                             "Overloaded"));
	sky_llm_close(llm);
}
END_TEST

START_TEST(errors_and_malformed_answers)
{
	sky_llm *llm = open_with("", "\"max_retries\":0");
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;

	struct fake_resp denied = {
	    401,
	    "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
	    "\"message\":\"invalid x-api-key\"}}",
	    NULL, 0};
	fake_script(1, &denied);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_EAUTH);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "ANTHROPIC_API_KEY"));
	ck_assert_ptr_null(strstr(sky_error_last(), KEY));

	struct fake_resp nf = {
	    404,
	    "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\","
	    "\"message\":\"model: claude-sonnet-4-5\"}}",
	    NULL, 0};
	fake_script(1, &nf);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ENOTFOUND);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "model 'claude-sonnet-4-5' not found"));

	struct fake_resp bad = {
	    400,
	    "{\"type\":\"error\",\"error\":{\"type\":"
	    "\"invalid_request_error\",\"message\":\"max_tokens: must be "
	    "at least 1\"}}",
	    NULL, 0};
	fake_script(1, &bad);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "max_tokens: must be"));

	struct fake_resp junk = {200, "not json at all", NULL, 0};
	fake_script(1, &junk);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "not a JSON object"));

	struct fake_resp refusal = {
	    200, "{\"content\":[],\"stop_reason\":\"refusal\",\"usage\":{}}",
	    NULL, 0};
	fake_script(1, &refusal);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "refused"));

	struct fake_resp empty = {
	    200,
	    "{\"content\":[{\"type\":\"thinking\",\"thinking\":\"...\"}],"
	    "\"stop_reason\":\"max_tokens\"}",
	    NULL, 0};
	fake_script(1, &empty);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "max_tokens is too"));

	struct fake_resp slow = {200, OK_BODY, NULL, 3000};
	fake_script(1, &slow);
	r.timeout_ms = 300;
	int64_t t0 = skyx_time_mono_ms();
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ETIMEDOUT);
	ck_assert_int_lt(skyx_time_mono_ms() - t0, 2500);
	sky_llm_close(llm);

	/* Without a key nothing is sent. */
	unsetenv("ANTHROPIC_API_KEY");
	llm = open_with("", NULL);
	int before = fake_count();
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_EAUTH);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "no API key"));
	ck_assert_int_eq(fake_count(), before);
	sky_llm_close(llm);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("llm-anthropic");
	TCase *tc = tcase_create("anthropic");
	tcase_add_checked_fixture(tc, setup, fake_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, request_bytes_and_answer);
	tcase_add_test(tc, config_base_with_v1_max_tokens_model_prefill);
	tcase_add_test(tc, overloaded_and_rate_limited_are_retried);
	tcase_add_test(tc, overloaded_storm_gives_up);
	tcase_add_test(tc, errors_and_malformed_answers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
