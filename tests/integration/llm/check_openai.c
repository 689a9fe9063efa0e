/* Integration tests: the llm-openai plugin, loaded through the plugin
 * host, against an OpenAI-shaped server on loopback. */
#include <stdio.h>

#include <pthread.h>
#include <string.h>

#include <skyengine/log.h>

#include "fake_llm.h"

#define KEY "sk-test-0123456789abcdef"

#define OK_BODY                                                                \
	"{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","               \
	"\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,"           \
	"\"message\":{\"role\":\"assistant\",\"content\":"                     \
	"\"{\\\"actions\\\":[]}\",\"refusal\":null},"                          \
	"\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1000,"      \
	"\"completion_tokens\":100,\"total_tokens\":1100,"                     \
	"\"prompt_tokens_details\":{\"cached_tokens\":200},"                   \
	"\"completion_tokens_details\":{\"reasoning_tokens\":40}}}"

static const unsigned char png[] = {0x89, 'P',  'N', 'G', '\r', '\n',
                                    0x1a, '\n', 0,   0,   0,    13};

static void setup(void)
{
	fake_setup();
	setenv("OPENAI_API_KEY", KEY, 1);
}

/* Config for the fake server with fast retries. */
static char *config(const char *extra)
{
	char *base = fake_url("/v1");
	char *c = skyx_asprintf("{\"base_url\":\"%s\",\"model\":\"gpt-4o\","
	                        "\"retry_base_ms\":20%s%s}",
	                        base, extra ? "," : "", extra ? extra : "");
	free(base);
	return c;
}

static sky_llm *open_with(const char *extra)
{
	char *c = config(extra);
	sky_llm *llm = fake_open("openai", c);
	free(c);
	return llm;
}

START_TEST(request_bytes_and_answer)
{
	sky_llm *llm =
	    open_with("\"temperature\":0.25,\"max_tokens\":500,"
	              "\"extra_headers\":{\"X-Title\":\"sky-test\"}");
	struct fake_resp ok = {200, OK_BODY, NULL, 0};
	fake_script(1, &ok);
	sky_llm_image img = {"image/png", png, sizeof png};
	sky_llm_request r =
	    fake_request("extract-actions", "Fill in the form.\nElements: ...");
	r.system = "You are a careful web agent.";
	r.images = &img;
	r.n_images = 1;
	r.response_schema_json = "{\"type\":\"object\",\"properties\":"
	                         "{\"actions\":{\"type\":\"array\"}}}";
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);

	/* The request as the server saw it. */
	ck_assert_int_eq(fake_count(), 1);
	ck_assert_str_eq(fake.req[0].method, "POST");
	ck_assert_str_eq(fake.req[0].path, "/v1/chat/completions");
	ck_assert_str_eq(fake_header(0, "authorization"), "Bearer " KEY);
	ck_assert_str_eq(fake_header(0, "content-type"), "application/json");
	ck_assert_str_eq(fake_header(0, "x-title"), "sky-test");
	json_t *b = fake_json(0);
	ck_assert_str_eq(json_string_value(json_object_get(b, "model")),
	                 "gpt-4o");
	json_t *msgs = json_object_get(b, "messages");
	ck_assert_int_eq(json_array_size(msgs), 2);
	json_t *sys = json_array_get(msgs, 0), *user = json_array_get(msgs, 1);
	ck_assert_str_eq(json_string_value(json_object_get(sys, "role")),
	                 "system");
	ck_assert_str_eq(json_string_value(json_object_get(sys, "content")),
	                 "You are a careful web agent.");
	ck_assert_str_eq(json_string_value(json_object_get(user, "role")),
	                 "user");
	json_t *parts = json_object_get(user, "content");
	ck_assert_int_eq(json_array_size(parts), 2);
	json_t *p0 = json_array_get(parts, 0), *p1 = json_array_get(parts, 1);
	ck_assert_str_eq(json_string_value(json_object_get(p0, "type")),
	                 "text");
	ck_assert_str_eq(json_string_value(json_object_get(p0, "text")),
	                 "Fill in the form.\nElements: ...");
	ck_assert_str_eq(json_string_value(json_object_get(p1, "type")),
	                 "image_url");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(p1, "image_url"), "url")),
	                 "data:image/png;base64,iVBORw0KGgoAAAAN");
	ck_assert(json_real_value(json_object_get(b, "temperature")) == 0.25);
	ck_assert_int_eq(json_integer_value(json_object_get(b, "max_tokens")),
	                 500);
	json_t *rf = json_object_get(b, "response_format");
	ck_assert_str_eq(json_string_value(json_object_get(rf, "type")),
	                 "json_schema");
	json_t *js = json_object_get(rf, "json_schema");
	ck_assert_str_eq(json_string_value(json_object_get(js, "name")),
	                 "extract-actions");
	json_t *want = json_loads(r.response_schema_json, 0, NULL);
	ck_assert(json_equal(json_object_get(js, "schema"), want));
	json_decref(want);
	json_decref(b);

	/* The answer, tokens and the price-table cost. */
	ck_assert_str_eq(res->text, "{\"actions\":[]}");
	ck_assert_str_eq(res->model, "gpt-4o-2024-08-06");
	ck_assert_str_eq(res->finish_reason, "stop");
	ck_assert(!res->truncated);
	ck_assert_int_eq(res->usage.calls, 1);
	ck_assert_int_eq(res->usage.input_tokens, 1000);
	ck_assert_int_eq(res->usage.output_tokens, 100);
	ck_assert_int_eq(res->usage.reasoning_tokens, 40);
	ck_assert_int_eq(res->usage.cached_tokens, 200);
	ck_assert_int_eq(res->cost_source, SKY_LLM_COST_TABLE);
	/* gpt-4o: 800 x 2.50 + 200 x 1.25 + 100 x 10.00 per million */
	ck_assert_double_eq_tol(res->usage.cost_usd, 0.00325, 1e-9);
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(plain_prompt_without_images_or_schema)
{
	sky_llm *llm =
	    open_with("\"vision\":false,\"response_format\":\"none\"");
	struct fake_resp ok = {200, OK_BODY, NULL, 0};
	fake_script(1, &ok);
	sky_llm_image img = {"image/png", png, sizeof png};
	sky_llm_request r = fake_request("check-goal", "Is the goal reached?");
	r.images = &img;
	r.n_images = 1;
	r.response_schema_json = "{\"type\":\"object\"}";
	sky_llm_result *res = NULL;
	ck_assert(!sky_llm_supports_vision(llm));
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	json_t *b = fake_json(0);
	json_t *msgs = json_object_get(b, "messages");
	/* No system prompt given: one message, content a plain string. */
	ck_assert_int_eq(json_array_size(msgs), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(msgs, 0), "content")),
	                 "Is the goal reached?");
	ck_assert_ptr_null(json_object_get(b, "response_format"));
	ck_assert_ptr_null(json_object_get(b, "temperature"));
	ck_assert_ptr_null(json_object_get(b, "max_tokens"));
	json_decref(b);
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(reasoning_models_get_max_completion_tokens)
{
	sky_llm *llm = open_with("\"model\":\"o3-mini\",\"max_tokens\":64,"
	                         "\"response_format\":\"json_object\"");
	struct fake_resp ok = {200, OK_BODY, NULL, 0};
	fake_script(1, &ok);
	sky_llm_request r = fake_request("plan", "Plan.");
	r.response_schema_json = "{\"type\":\"object\"}";
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	json_t *b = fake_json(0);
	ck_assert_str_eq(json_string_value(json_object_get(b, "model")),
	                 "o3-mini");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(b, "max_completion_tokens")),
	    64);
	ck_assert_ptr_null(json_object_get(b, "max_tokens"));
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(b, "response_format"), "type")),
	                 "json_object");
	json_decref(b);
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(azure_deployment_api_key_and_version)
{
	char *base = fake_url("");
	char *c =
	    skyx_asprintf("{\"base_url\":\"%s\",\"deployment\":\"my-gpt\","
	                  "\"api_version\":\"2024-06-01\","
	                  "\"api_key_env\":\"AZURE_OPENAI_KEY\"}",
	                  base);
	setenv("AZURE_OPENAI_KEY", "azure-secret-key-42", 1);
	sky_llm *llm = fake_open("openai", c);
	struct fake_resp ok = {200, OK_BODY, NULL, 0};
	fake_script(1, &ok);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_str_eq(fake.req[0].path,
	                 "/openai/deployments/my-gpt/chat/completions");
	ck_assert_str_eq(fake.req[0].query, "api-version=2024-06-01");
	ck_assert_str_eq(fake_header(0, "api-key"), "azure-secret-key-42");
	ck_assert_ptr_null(fake_header(0, "authorization"));
	json_t *b = fake_json(0);
	ck_assert_str_eq(json_string_value(json_object_get(b, "model")),
	                 "my-gpt");
	json_decref(b);
	sky_llm_result_free(res);
	sky_llm_close(llm);
	free(c);
	free(base);
}
END_TEST

START_TEST(base_url_from_the_environment)
{
	char *base = fake_url("/custom/v1");
	setenv("SKYENGINE_LLM_BASE_URL", base, 1);
	setenv("SKYENGINE_LLM_MODEL", "llama-3-8b", 1);
	sky_llm *llm = fake_open("openai", "{}");
	struct fake_resp ok = {200, OK_BODY, NULL, 0};
	fake_script(1, &ok);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_str_eq(fake.req[0].path, "/custom/v1/chat/completions");
	json_t *b = fake_json(0);
	ck_assert_str_eq(json_string_value(json_object_get(b, "model")),
	                 "llama-3-8b");
	json_decref(b);
	sky_llm_result_free(res);
	sky_llm_close(llm);
	free(base);
}
END_TEST

START_TEST(rate_limit_then_success_honours_retry_after)
{
	sky_llm *llm = open_with(NULL);
	struct fake_resp s[] = {
	    {429, "{\"error\":{\"message\":\"Rate limit reached\"}}",
	     "Retry-After: 1\r\n", 0},
	    {200, OK_BODY, NULL, 0},
	};
	fake_script(2, s);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_str_eq(res->text, "{\"actions\":[]}");
	ck_assert_int_eq(fake_count(), 2);
	/* The retry waited for the server's 1 s, not the 20 ms backoff. */
	ck_assert_int_ge(fake.req[1].at_ms - fake.req[0].at_ms, 950);
	/* The same body both times. */
	ck_assert_str_eq(fake.req[0].body, fake.req[1].body);
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(retry_after_as_http_date)
{
	char date[64], hdr[96];
	time_t when = time(NULL) + 2;
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(hdr, sizeof hdr, "Retry-After: %s\r\n", date);
	sky_llm *llm = open_with(NULL);
	struct fake_resp s[] = {{503, "{\"error\":\"overloaded\"}", hdr, 0},
	                        {200, OK_BODY, NULL, 0}};
	fake_script(2, s);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_int_eq(fake_count(), 2);
	ck_assert_int_ge(fake.req[1].at_ms - fake.req[0].at_ms, 900);
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

/* The wait the plugin chose, read from its own log line ("retrying in N
 * ms"): the configured cap, not the server's hour and not the 60 s
 * default cap (a test of the count alone passes either way, just slower). */
static pthread_mutex_t cap_mu = PTHREAD_MUTEX_INITIALIZER;
static char cap_line[512];
static void capture_retry(sky_log_level level, const char *component,
                          const char *msg, void *userdata)
{
	(void)level, (void)component, (void)userdata;
	pthread_mutex_lock(&cap_mu);
	if (strstr(msg, "retrying in"))
		snprintf(cap_line, sizeof cap_line, "%s", msg);
	pthread_mutex_unlock(&cap_mu);
}

START_TEST(retry_after_is_capped)
{
	sky_llm *llm = open_with("\"retry_after_max_ms\":100");
	struct fake_resp s[] = {{429, "{}", "Retry-After: 3600\r\n", 0},
	                        {200, OK_BODY, NULL, 0}};
	fake_script(2, s);
	cap_line[0] = 0;
	sky_log_set(capture_retry, SKY_LOG_DEBUG, NULL);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	sky_log_set(NULL, SKY_LOG_WARN, NULL);
	ck_assert_int_eq(fake_count(), 2);
	ck_assert_msg(strstr(cap_line, "retrying in 100 ms") != NULL,
	              "the retry waited something else: \"%s\"", cap_line);
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(server_error_storm_gives_up)
{
	sky_llm *llm = open_with("\"max_retries\":2");
	struct fake_resp s = {500,
	                      "{\"error\":{\"message\":\"boom\","
	                      "\"type\":\"server_error\"}}",
	                      NULL, 0};
	fake_script(1, &s);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(fake_count(), 3);
	ck_assert_ptr_nonnull(strstr(
	    sky_error_last(), "server error 500 after 3 attempts: boom"));
	sky_llm_close(llm);

	/* Rate limiting that never ends is SKY_ERATELIMIT. */
	llm = open_with("\"max_retries\":1");
	struct fake_resp rl = {429, "{\"error\":{\"message\":\"slow down\"}}",
	                       NULL, 0};
	fake_script(1, &rl);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ERATELIMIT);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "slow down"));
	sky_llm_close(llm);
}
END_TEST

START_TEST(timeouts_fail_and_are_retried)
{
	/* One slow attempt, no retries: SKY_ETIMEDOUT within the budget. */
	sky_llm *llm = open_with("\"max_retries\":0");
	struct fake_resp slow = {200, OK_BODY, NULL, 3000};
	fake_script(1, &slow);
	sky_llm_request r = fake_request("plan", "Plan.");
	r.timeout_ms = 400;
	sky_llm_result *res = NULL;
	int64_t t0 = skyx_time_mono_ms();
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ETIMEDOUT);
	ck_assert_int_lt(skyx_time_mono_ms() - t0, 2500);
	sky_llm_close(llm);

	/* A slow first attempt is retried when the budget allows. */
	llm = open_with("\"request_timeout_ms\":400");
	struct fake_resp s[] = {{200, OK_BODY, NULL, 2000},
	                        {200, OK_BODY, NULL, 0}};
	fake_restart();
	fake_script(2, s);
	r.timeout_ms = 10000;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_str_eq(res->text, "{\"actions\":[]}");
	sky_llm_result_free(res);
	sky_llm_close(llm);

	/* The engine's deadline caps the provider's timeout. */
	llm = open_with("\"max_retries\":0");
	fake_restart();
	fake_script(1, &slow);
	r.timeout_ms = 60000;
	t0 = skyx_time_mono_ms();
	ck_assert_int_eq(
	    sky_llm_complete(llm, &r, skyx_time_mono_ms() + 300, &res),
	    SKY_ETIMEDOUT);
	ck_assert_int_lt(skyx_time_mono_ms() - t0, 2500);
	/* Past the deadline: not even sent. */
	int before = fake_count();
	ck_assert_int_eq(
	    sky_llm_complete(llm, &r, skyx_time_mono_ms() - 1, &res),
	    SKY_ETIMEDOUT);
	ck_assert_int_eq(fake_count(), before);
	sky_llm_close(llm);
}
END_TEST

START_TEST(malformed_answers)
{
	sky_llm *llm = open_with(NULL);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;

	struct fake_resp html = {200, "<html>Bad gateway</html>", NULL, 0};
	fake_script(1, &html);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "not a JSON object"));

	struct fake_resp empty = {200, "{\"choices\":[],\"usage\":{}}", NULL,
	                          0};
	fake_script(1, &empty);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "no choices"));

	struct fake_resp refusal = {
	    200,
	    "{\"choices\":[{\"message\":{\"role\":\"assistant\","
	    "\"content\":null,\"refusal\":\"I can't help with that.\"},"
	    "\"finish_reason\":\"stop\"}]}",
	    NULL, 0};
	fake_script(1, &refusal);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_ptr_nonnull(
	    strstr(sky_error_last(), "refused: I can't help with that."));

	/* Cut at max_tokens: the text comes back, flagged. */
	struct fake_resp cut = {
	    200,
	    "{\"model\":\"gpt-4o\",\"choices\":[{\"message\":{\"content\":"
	    "\"{\\\"actions\\\":[{\\\"action_type\\\":\"},"
	    "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":"
	    "10,\"completion_tokens\":16}}",
	    NULL, 0};
	fake_script(1, &cut);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert(res->truncated);
	ck_assert_str_eq(res->finish_reason, "length");
	ck_assert_str_eq(res->text, "{\"actions\":[{\"action_type\":");
	sky_llm_result_free(res);

	/* Content as an array of text parts (some servers). */
	struct fake_resp parts = {
	    200,
	    "{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\","
	    "\"text\":\"{\\\"a\\\":\"},{\"type\":\"text\",\"text\":\"1}\"}]},"
	    "\"finish_reason\":\"stop\"}]}",
	    NULL, 0};
	fake_script(1, &parts);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_str_eq(res->text, "{\"a\":1}");
	/* No model in the answer: the configured one is priced. */
	ck_assert_str_eq(res->model, "gpt-4o");
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

START_TEST(auth_not_found_and_bad_request)
{
	sky_llm *llm = open_with(NULL);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;

	/* The server quotes the key back: it must not reach the message. */
	struct fake_resp denied = {
	    401,
	    "{\"error\":{\"message\":\"Incorrect API key provided: " KEY
	    "\",\"type\":\"invalid_request_error\"}}",
	    NULL, 0};
	fake_script(1, &denied);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_EAUTH);
	ck_assert_int_eq(fake_count(), 1); /* not retried */
	ck_assert_ptr_null(strstr(sky_error_last(), KEY));
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "OPENAI_API_KEY"));
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "401"));

	struct fake_resp forbidden = {403, "{\"error\":\"no access\"}", NULL,
	                              0};
	fake_script(1, &forbidden);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_EAUTH);

	struct fake_resp nf = {
	    404,
	    "{\"error\":{\"message\":\"The model `gpt-4o` does not exist\","
	    "\"code\":\"model_not_found\"}}",
	    NULL, 0};
	fake_script(1, &nf);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "model 'gpt-4o'"));

	struct fake_resp bad = {
	    400, "{\"error\":{\"message\":\"Invalid 'messages[1].content'\"}}",
	    NULL, 0};
	int before = fake_count();
	fake_script(1, &bad);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_ELLM);
	ck_assert_int_eq(fake_count(), before + 1);
	ck_assert_ptr_nonnull(strstr(sky_error_last(),
	                             "rejected (400): Invalid "
	                             "'messages[1].content'"));
	sky_llm_close(llm);

	/* No key at all: said plainly. */
	unsetenv("OPENAI_API_KEY");
	llm = open_with(NULL);
	fake_script(1, &denied);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), SKY_EAUTH);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "no API key was sent"));
	ck_assert_ptr_null(fake_header(fake_count() - 1, "authorization"));
	sky_llm_close(llm);
}
END_TEST

START_TEST(provider_cost_and_price_overrides)
{
	/* OpenRouter reports the cost itself. */
	sky_llm *llm = open_with("\"model\":\"openai/gpt-4o\"");
	struct fake_resp or
	    = {200,
	       "{\"model\":\"openai/gpt-4o\",\"choices\":[{\"message\":"
	       "{\"content\":\"ok\"},\"finish_reason\":\"stop\"}],\"usage\":"
	       "{\"prompt_tokens\":10,\"completion_tokens\":2,\"cost\":0.0125}"
	       "}",
	       NULL, 0};
	fake_script(1, & or);
	sky_llm_request r = fake_request("plan", "Plan.");
	sky_llm_result *res = NULL;
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_int_eq(res->cost_source, SKY_LLM_COST_PROVIDER);
	ck_assert_double_eq_tol(res->usage.cost_usd, 0.0125, 1e-12);
	sky_llm_result_free(res);
	sky_llm_close(llm);

	/* A local model with a price from llm.prices; one without. */
	llm = open_with("\"model\":\"qwen2.5\",\"prices\":{\"qwen\":"
	                "{\"input\":1,\"output\":2}}");
	struct fake_resp local = {
	    200,
	    "{\"model\":\"qwen2.5-7b\",\"choices\":[{\"message\":{\"content\":"
	    "\"ok\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"
	    "1000000,\"completion_tokens\":1000000}}",
	    NULL, 0};
	fake_script(1, &local);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_int_eq(res->cost_source, SKY_LLM_COST_TABLE);
	ck_assert_double_eq_tol(res->usage.cost_usd, 3.0, 1e-9);
	sky_llm_result_free(res);
	sky_llm_close(llm);

	llm = open_with("\"model\":\"mystery-model\"");
	struct fake_resp unknown = {
	    200,
	    "{\"choices\":[{\"message\":{\"content\":\"ok\"}}],\"usage\":"
	    "{\"prompt_tokens\":5,\"completion_tokens\":1}}",
	    NULL, 0};
	fake_script(1, &unknown);
	ck_assert_int_eq(sky_llm_complete(llm, &r, 0, &res), 0);
	ck_assert_int_eq(res->cost_source, SKY_LLM_COST_UNKNOWN);
	ck_assert_int_eq(res->usage.unpriced_calls, 1);
	sky_llm_result_free(res);
	sky_llm_close(llm);
}
END_TEST

struct worker {
	sky_llm *llm;
	int id;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 10; i++) {
		char prompt[64];
		snprintf(prompt, sizeof prompt, "worker %d call %d", w->id, i);
		sky_llm_request r = fake_request("extract-actions", prompt);
		r.step_order = i;
		sky_llm_result *res = NULL;
		if (sky_llm_complete(w->llm, &r, 0, &res) == 0 &&
		    !strcmp(res->text, "{\"actions\":[]}"))
			w->ok++;
		sky_llm_result_free(res);
	}
	return NULL;
}

START_TEST(concurrent_calls_share_one_instance_and_record_file)
{
	char *rec = skyx_asprintf("%s/concurrent.jsonl", fk_dir);
	char *extra = skyx_asprintf("\"record\":\"%s\"", rec);
	sky_llm *llm = open_with(extra);
	struct fake_resp ok = {200, OK_BODY, NULL, 0};
	fake_script(1, &ok);
	pthread_t t[8];
	struct worker w[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){llm, i, 0};
		pthread_create(&t[i], NULL, worker_main, &w[i]);
	}
	int total = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += w[i].ok;
	}
	sky_llm_close(llm);
	ck_assert_int_eq(total, 80);
	ck_assert_int_eq(fake_count(), 80);
	/* 80 whole lines, each one JSON object. */
	FILE *f = fopen(rec, "r");
	char *line = NULL;
	size_t cap = 0;
	int lines = 0;
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		ck_assert_msg(json_is_object(j), "bad line: %s", line);
		ck_assert_str_eq(
		    json_string_value(json_object_get(j, "answer")),
		    "{\"actions\":[]}");
		json_decref(j);
		lines++;
	}
	free(line);
	fclose(f);
	ck_assert_int_eq(lines, 80);
	free(extra);
	free(rec);
}
END_TEST

START_TEST(bad_configuration_is_refused)
{
	sky_llm *llm = NULL;
	const char *cfg = "{\"llm\":{\"response_format\":\"yaml\"}}";
	sky_plugins_set_engine(fk_plugins, cfg, fk_dir, fk_http);
	ck_assert_int_eq(sky_llm_open(fk_plugins, "openai", cfg, &llm),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "response_format"));
	cfg = "{\"llm\":{\"max_retries\":\"many\"}}";
	sky_plugins_set_engine(fk_plugins, cfg, fk_dir, fk_http);
	ck_assert_int_eq(sky_llm_open(fk_plugins, "openai", cfg, &llm),
	                 SKY_EINVALID);
	ck_assert_ptr_nonnull(strstr(sky_error_last(), "max_retries"));
	cfg = "{\"llm\":{\"prices\":{\"x\":{\"input\":\"cheap\"}}}}";
	ck_assert_int_eq(sky_llm_open(fk_plugins, "openai", cfg, &llm),
	                 SKY_EINVALID);
	ck_assert_int_eq(
	    sky_llm_open(fk_plugins, "no-such-provider", "{}", &llm),
	    SKY_EPLUGIN);
	ck_assert_ptr_null(llm);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("llm-openai");
	TCase *tc = tcase_create("openai");
	tcase_add_checked_fixture(tc, setup, fake_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, request_bytes_and_answer);
	tcase_add_test(tc, plain_prompt_without_images_or_schema);
	tcase_add_test(tc, reasoning_models_get_max_completion_tokens);
	tcase_add_test(tc, azure_deployment_api_key_and_version);
	tcase_add_test(tc, base_url_from_the_environment);
	tcase_add_test(tc, rate_limit_then_success_honours_retry_after);
	tcase_add_test(tc, retry_after_as_http_date);
	tcase_add_test(tc, retry_after_is_capped);
	tcase_add_test(tc, server_error_storm_gives_up);
	tcase_add_test(tc, timeouts_fail_and_are_retried);
	tcase_add_test(tc, malformed_answers);
	tcase_add_test(tc, auth_not_found_and_bad_request);
	tcase_add_test(tc, provider_cost_and_price_overrides);
	tcase_add_test(tc, concurrent_calls_share_one_instance_and_record_file);
	tcase_add_test(tc, bad_configuration_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
