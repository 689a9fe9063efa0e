/* Unit tests: llm/ (prompt normalization and hash, price table, usage
 * sums). Provider calls are in tests/integration/llm. */
#include <stdlib.h>
#include <string.h>

#include <skyengine.h>

#include "llm/llm.h"
#include <skyx/prompt_hash.h>
#include "planner/planner.h"
#include "skytest.h"

static void norm_is(const char *in, const char *want)
{
	char *got = skyx_prompt_normalize(in);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(normalization_rules)
{
	norm_is(NULL, "");
	norm_is("  a \t b\n\n c  ", "a b c");
	norm_is("Current time: Tue, 3 Apr\nnext", "<current-time-line> next");
	norm_is("The CURRENT DATE is today.", "<current-time-line>");
	norm_is("at 2025-04-03T14:08:29.505Z.", "at <time>.");
	norm_is("at 2025-04-03 14:08 and 2025-04-03T14:08:29+02:00",
	        "at <time> and <time>");
	/* A date alone is content (a birth date), not a clock. */
	norm_is("born 1990-01-31", "born 1990-01-31");
	norm_is("run tsk_v2_412345678901234567, step stp_412345678901234568",
	        "run <id>, step <id>");
	/* Short numbers after a prefix are not engine ids. */
	norm_is("a_12 o_999", "a_12 o_999");
	norm_is("id 123e4567-e89b-12d3-a456-426614174000 ok", "id <uuid> ok");
	norm_is("http://127.0.0.1:38123/x http://localhost:9/ [::1]:80",
	        "http://127.0.0.1:<port>/x http://localhost:<port>/ "
	        "[::1]:<port>");
	norm_is("<untrusted-data name=\"url\" nonce=\"9f2c01ab34cd56ef\">x"
	        "</untrusted-data nonce=\"9f2c01ab34cd56ef\">\n"
	        "Fence nonce of this request: 9f2c01ab34cd56ef",
	        "<untrusted-data name=\"url\" nonce=\"<nonce>\">x"
	        "</untrusted-data nonce=\"<nonce>\"> "
	        "Fence nonce of this request: <nonce>");
	norm_is("nonce: abc", "nonce: abc");
	/* Other hosts keep their ports. */
	norm_is("https://example.com:8443/", "https://example.com:8443/");
	norm_is("10127.0.0.1:5", "10127.0.0.1:5");
}
END_TEST

START_TEST(hash_ignores_volatile_parts_only)
{
	char a[SKYX_PROMPT_HASH_LEN], b[SKYX_PROMPT_HASH_LEN];
	ck_assert_ptr_nonnull(
	    skyx_prompt_hash("S",
	                     "Goal\nCurrent time: 2025-01-01T00:00:00Z\nhttp://"
	                     "127.0.0.1:1000/",
	                     a));
	ck_assert_ptr_nonnull(
	    skyx_prompt_hash("S ",
	                     "  Goal \nCurrent time: 2026-12-31T23:59:59Z\n"
	                     "http://127.0.0.1:2000/",
	                     b));
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(strlen(a), SKYX_PROMPT_HASH_LEN - 1);
	ck_assert(strncmp(a, "sha256:", 7) == 0);
	skyx_prompt_hash("S", "Goal 2", b);
	ck_assert_str_ne(a, b);
	/* The system prompt is part of it. */
	skyx_prompt_hash("T", "Goal\nCurrent time: x\nhttp://127.0.0.1:1/", b);
	ck_assert_str_ne(a, b);
	/* sha256("" + "\n\n" + "hello"): recordings must stay valid
	 * across versions. */
	skyx_prompt_hash(NULL, "hello", a);
	ck_assert_str_eq(
	    a, "sha256:02ec2f94ed87f74b3867f8c49b06608e6247f0d96263e23a"
	       "772b55028c07c198");
}
END_TEST

/* The planner's real prompts: a recording made against a server on one
 * port and at one time must match a replay on another port and time. */
static void render(const char *url, const char *now, const char *goal,
                   char hash[SKYX_PROMPT_HASH_LEN])
{
	sky_planner_actions_input in;
	sky_planner_prompt *p = NULL;
	memset(&in, 0, sizeof in);
	in.goal = goal;
	in.page.url = url;
	in.page.title = "Sign up";
	in.page.element_tree = "<form>\n<input id=\"3\" type=\"email\" "
	                       "label=\"Email\">\n</form>";
	in.now = now;
	in.step.order = 0;
	in.step.max_steps = 10;
	ck_assert_int_eq(sky_planner_render_actions(&in, &p), 0);
	/* The page URL is fenced with a nonce that digests it. */
	ck_assert_ptr_nonnull(strstr(p->text, "nonce"));
	ck_assert_ptr_nonnull(skyx_prompt_hash(NULL, p->text, hash));
	sky_planner_prompt_free(p);
}

START_TEST(planner_prompts_hash_the_same_across_ports_and_times)
{
	char a[SKYX_PROMPT_HASH_LEN], b[SKYX_PROMPT_HASH_LEN];
	render("http://127.0.0.1:38123/signup", "2026-11-28T21:00:00.000Z",
	       "Sign up as chris@example.com", a);
	render("http://127.0.0.1:40999/signup", "2027-01-02T03:04:05.000Z",
	       "Sign up as chris@example.com", b);
	ck_assert_str_eq(a, b);
	render("http://127.0.0.1:40999/signup", "2027-01-02T03:04:05.000Z",
	       "Sign up as pat@example.com", b);
	ck_assert_str_ne(a, b);
	render("http://127.0.0.1:40999/login", "2027-01-02T03:04:05.000Z",
	       "Sign up as chris@example.com", b);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(price_table)
{
	sky_llm_prices *p = NULL;
	sky_llm_usage u = {1, 1000000, 1000000, 0, 0, 0, 0};
	double usd;
	ck_assert_int_eq(sky_llm_prices_new(NULL, &p), 0);
	/* Longest prefix: the mini model is not priced as gpt-4o. */
	ck_assert_int_eq(
	    sky_llm_prices_cost(p, "gpt-4o-mini-2024-07-18", &u, &usd), 0);
	ck_assert_double_eq_tol(usd, 0.15 + 0.60, 1e-9);
	ck_assert_int_eq(sky_llm_prices_cost(p, "GPT-4o-2024-08-06", &u, &usd),
	                 0);
	ck_assert_double_eq_tol(usd, 2.50 + 10.00, 1e-9);
	/* OpenRouter-style vendor prefix. */
	ck_assert_int_eq(
	    sky_llm_prices_cost(p, "anthropic/claude-sonnet-4-5", &u, &usd), 0);
	ck_assert_double_eq_tol(usd, 3.00 + 15.00, 1e-9);
	/* Cached input is charged at the cached price. */
	u.cached_tokens = 500000;
	ck_assert_int_eq(sky_llm_prices_cost(p, "gpt-4o", &u, &usd), 0);
	ck_assert_double_eq_tol(usd, 1.25 + 0.625 + 10.00, 1e-9);
	ck_assert_int_eq(sky_llm_prices_cost(p, "llama3", &u, &usd),
	                 SKY_ENOTFOUND);
	sky_llm_prices_free(p);

	/* Overrides replace and add; cached defaults to the input price. */
	ck_assert_int_eq(sky_llm_prices_new("{\"gpt-4o\":{\"input\":1,"
	                                    "\"output\":2,\"cached\":0},"
	                                    "\"llama\":{\"input\":0.1,"
	                                    "\"output\":0.2}}",
	                                    &p),
	                 0);
	ck_assert_int_eq(sky_llm_prices_cost(p, "gpt-4o", &u, &usd), 0);
	ck_assert_double_eq_tol(usd, 0.5 + 0 + 2, 1e-9);
	ck_assert_int_eq(sky_llm_prices_cost(p, "llama3-70b", &u, &usd), 0);
	ck_assert_double_eq_tol(usd, 0.1 + 0.2, 1e-9);
	sky_llm_prices_free(p);

	ck_assert_int_eq(sky_llm_prices_new("[1,2]", &p), SKY_EINVALID);
	ck_assert_int_eq(sky_llm_prices_new("{\"x\":{\"input\":-1,"
	                                    "\"output\":1}}",
	                                    &p),
	                 SKY_EINVALID);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(usage_sums)
{
	sky_llm_usage step = {0};
	sky_llm_usage a = {1, 100, 10, 2, 50, 0.5, 0};
	sky_llm_usage b = {1, 200, 20, 0, 0, 0, 1};
	sky_llm_usage_add(&step, &a);
	sky_llm_usage_add(&step, &b);
	sky_llm_usage_add(&step, NULL);
	ck_assert_int_eq(step.calls, 2);
	ck_assert_int_eq(step.input_tokens, 300);
	ck_assert_int_eq(step.output_tokens, 30);
	ck_assert_int_eq(step.reasoning_tokens, 2);
	ck_assert_int_eq(step.cached_tokens, 50);
	ck_assert_double_eq_tol(step.cost_usd, 0.5, 1e-12);
	ck_assert_int_eq(step.unpriced_calls, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("llm");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, normalization_rules);
	tcase_add_test(tc, hash_ignores_volatile_parts_only);
	tcase_add_test(tc,
	               planner_prompts_hash_the_same_across_ports_and_times);
	tcase_add_test(tc, price_table);
	tcase_add_test(tc, usage_sums);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
