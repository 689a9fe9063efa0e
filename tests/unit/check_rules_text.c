/* Unit tests: the offline planner's reading of text: words and synonyms,
 * numbers, dates, yes/no, and facts and intents from goals in the usual
 * phrasings. The plugin's sources are compiled in: they are internal to
 * the plugin, which exports only the provider ABI. */
#include <string.h>

#include "../../plugins/llm-rules/facts.c"
#include "../../plugins/llm-rules/text.c"
#include "skytest.h"

static void words_are(const char *in, const char *want)
{
	char *w = sky_rules__words(in);
	ck_assert_msg(!strcmp(w, want), "words(\"%s\") = \"%s\", want \"%s\"",
	              in, w, want);
	free(w);
}

START_TEST(words_fold_and_split)
{
	words_are("E-mail address", "email address");
	words_are("e mail", "email");
	words_are("firstName", "first name");
	words_are("contact[email]", "contact email");
	words_are("Serial no.", "serial number");
	words_are("Invoice #", "invoice number");
	words_are("R\xc3\xa9sum\xc3\xa9 / CV", "resume cv");
	words_are("How did you hear about us?", "how did hear about");
	words_are("Comments", "comment");
	words_are("Address", "address");
	words_are("address1", "address 1");
	words_are("", "");
}
END_TEST

START_TEST(concepts_and_synonyms)
{
	static const struct {
		const char *label;
		int concept;
	} cases[] = {
	    {"Given name", SKY_RULES_C_FIRST_NAME},
	    {"First name *", SKY_RULES_C_FIRST_NAME},
	    {"first_name", SKY_RULES_C_FIRST_NAME},
	    {"Surname", SKY_RULES_C_LAST_NAME},
	    {"Family name", SKY_RULES_C_LAST_NAME},
	    {"lastName", SKY_RULES_C_LAST_NAME},
	    {"Full name", SKY_RULES_C_FULL_NAME},
	    {"Attendee name", SKY_RULES_C_FULL_NAME},
	    {"Company name", SKY_RULES_C_COMPANY},
	    {"Display name (optional)", SKY_RULES_C_NONE},
	    {"E-mail", SKY_RULES_C_EMAIL},
	    {"Email address", SKY_RULES_C_EMAIL},
	    {"Mobile / Telephone", SKY_RULES_C_PHONE},
	    {"Mobile number", SKY_RULES_C_PHONE},
	    {"Tel.", SKY_RULES_C_PHONE},
	    {"ZIP / Postal code", SKY_RULES_C_ZIP},
	    {"Postcode", SKY_RULES_C_ZIP},
	    {"Street address", SKY_RULES_C_ADDRESS},
	    {"Confirm password", SKY_RULES_C_PASSWORD},
	    {"User name", SKY_RULES_C_USERNAME},
	    {"Authentication code", SKY_RULES_C_OTP},
	    {"Enter the 6-digit code", SKY_RULES_C_OTP},
	    {"Promo code", SKY_RULES_C_NONE},
	    {"Describe the problem", SKY_RULES_C_MESSAGE},
	    {"R\xc3\xa9sum\xc3\xa9 / CV", SKY_RULES_C_FILE},
	    {"Serial number", SKY_RULES_C_NONE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int c = sky_rules__concept(cases[i].label);
		ck_assert_msg(c == cases[i].concept,
		              "concept(\"%s\") = %s, want %s", cases[i].label,
		              sky_rules__concept_name(c),
		              sky_rules__concept_name(cases[i].concept));
	}
	ck_assert_int_eq(
	    sky_rules__concept_autocomplete("shipping postal-code"),
	    SKY_RULES_C_ZIP);
	ck_assert_int_eq(sky_rules__concept_autocomplete("one-time-code"),
	                 SKY_RULES_C_OTP);
	ck_assert_int_eq(sky_rules__concept_autocomplete("off"),
	                 SKY_RULES_C_NONE);
}
END_TEST

START_TEST(similarity_ignores_order_case_punctuation)
{
	ck_assert(sky_rules__similarity("purchase_date", "Date of purchase") >
	          0.99);
	ck_assert(sky_rules__similarity("FIRST-NAME", "first name:") > 0.99);
	ck_assert(sky_rules__similarity("diet", "Dietary requirements") > 0.3);
	ck_assert(sky_rules__similarity("title", "Your comment") < 0.01);
	ck_assert(sky_rules__key_similarity(
	              "serial", "Serial number (on the back)") >= 0.8);
	ck_assert(sky_rules__has_phrase("I'm not a robot!", "not a robot"));
	ck_assert(!sky_rules__has_phrase("notarobot", "not a robot"));
}
END_TEST

START_TEST(numbers)
{
	static const struct {
		const char *in;
		double want;
	} ok[] = {
	    {"$1,234.50", 1234.5},    {"1.234,50 \xe2\x82\xac", 1234.5},
	    {"$12,000.75", 12000.75}, {"1.25 kg", 1.25},
	    {"(45.00)", -45},         {"-3", -3},
	    {"3 years", 3},           {"1 234,50", 1234.5},
	    {"12,5 %", 12.5},         {"1,000", 1000},
	    {"USD 980", 980},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		double d = 0;
		ck_assert_msg(sky_rules__parse_number(ok[i].in, &d) == 0,
		              "parse_number(%s) failed", ok[i].in);
		ck_assert_msg(d > ok[i].want - 1e-9 && d < ok[i].want + 1e-9,
		              "parse_number(%s) = %f, want %f", ok[i].in, d,
		              ok[i].want);
	}
	double d;
	ck_assert_int_eq(sky_rules__parse_number("no digits", &d), -1);
	ck_assert_int_eq(sky_rules__parse_number(NULL, &d), -1);
}
END_TEST

START_TEST(dates)
{
	static const struct {
		const char *in, *want;
	} ok[] = {
	    {"Mar 5, 2024", "2024-03-05"},
	    {"April 12, 2024", "2024-04-12"},
	    {"2024-05-01", "2024-05-01"},
	    {"2024-05-01T10:00:00Z", "2024-05-01"},
	    {"3 Jun 2024", "2024-06-03"},
	    {"January 15, 2024", "2024-01-15"},
	    {"15.01.2024", "2024-01-15"},
	    {"13/01/2024", "2024-01-13"},
	    {"01/13/2024", "2024-01-13"},
	    {"Tue, 5 March 2024", "2024-03-05"},
	    {"1st February 2024", "2024-02-01"},
	};
	char out[11];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		ck_assert_msg(sky_rules__parse_date(ok[i].in, out) == 0,
		              "parse_date(%s) failed", ok[i].in);
		ck_assert_str_eq(out, ok[i].want);
	}
	ck_assert_int_eq(sky_rules__parse_date("Feb 30, 2024", out), -1);
	ck_assert_int_eq(sky_rules__parse_date("soon", out), -1);
}
END_TEST

START_TEST(yes_no)
{
	ck_assert_int_eq(sky_rules__parse_bool("Yes"), 1);
	ck_assert_int_eq(sky_rules__parse_bool(" In stock "), 1);
	ck_assert_int_eq(sky_rules__parse_bool("\xe2\x9c\x93"), 1);
	ck_assert_int_eq(sky_rules__parse_bool("No."), 0);
	ck_assert_int_eq(sky_rules__parse_bool("Out of stock"), 0);
	ck_assert_int_eq(sky_rules__parse_bool("maybe"), -1);
}
END_TEST

/* ---- facts ------------------------------------------------------------------ */

static const char *fact(const sky_rules_goal *g, const char *key)
{
	for (size_t i = 0; i < g->nfacts; i++)
		if (!strcasecmp(g->facts[i].key, key))
			return g->facts[i].value;
	return NULL;
}

static void has_fact(const sky_rules_goal *g, const char *key, const char *want)
{
	const char *v = fact(g, key);
	if (!v || strcmp(v, want)) {
		sky_rules_buf b = {0};
		for (size_t i = 0; i < g->nfacts; i++)
			sky_rules__buf_printf(&b, "[%s=%s] ", g->facts[i].key,
			                      g->facts[i].value);
		ck_abort_msg("fact %s = %s, want %s; facts: %s", key,
		             v ? v : "(none)", want, b.data ? b.data : "");
	}
}

static sky_rules_goal parse(const char *goal, const char *payload)
{
	sky_rules_goal g;
	json_t *p = payload ? json_loads(payload, JSON_DECODE_ANY, NULL) : NULL;
	sky_rules__goal_parse(goal, p, &g);
	json_decref(p);
	return g;
}

START_TEST(facts_colon_pairs)
{
	sky_rules_goal g = parse("Apply for a job on behalf of this person: "
	                         "name: Chris P Bacon. email: chris@pbacon.com",
	                         NULL);
	has_fact(&g, "name", "Chris P Bacon");
	has_fact(&g, "email", "chris@pbacon.com");
	ck_assert_uint_eq(g.nfacts, 2);
	ck_assert_uint_eq(g.nintents, 1);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_SUBMIT);
	sky_rules__goal_free(&g);

	g = parse("Order the kit. Name: Alan Turing; email: alan@b.uk; "
	          "postal code: M14 6AA; delivery speed: Express.",
	          NULL);
	has_fact(&g, "Name", "Alan Turing");
	has_fact(&g, "postal code", "M14 6AA");
	has_fact(&g, "delivery speed", "Express");
	sky_rules__goal_free(&g);

	g = parse("Create an account with username: neo, email: neo@zion.io "
	          "and password: Th3-R3d-Pill",
	          NULL);
	has_fact(&g, "username", "neo");
	has_fact(&g, "email", "neo@zion.io");
	has_fact(&g, "password", "Th3-R3d-Pill");
	sky_rules__goal_free(&g);

	/* a value starting with a verb is not an intent */
	g = parse("Post a comment. title: Open source rocks", NULL);
	has_fact(&g, "title", "Open source rocks");
	ck_assert_uint_eq(g.nintents, 1);
	sky_rules__goal_free(&g);

	/* a message keeps its full stop; other values do not */
	g = parse("Contact us. name: Anne; message: Please call me back.",
	          NULL);
	has_fact(&g, "message", "Please call me back.");
	has_fact(&g, "name", "Anne");
	sky_rules__goal_free(&g);

	/* an initial keeps its dot */
	g = parse("name: Chris P. Bacon. city: Paris", NULL);
	has_fact(&g, "name", "Chris P. Bacon");
	has_fact(&g, "city", "Paris");
	sky_rules__goal_free(&g);
}
END_TEST

START_TEST(facts_my_x_is)
{
	sky_rules_goal g =
	    parse("Subscribe me to the digest. My email is tim@w3.org and my "
	          "name is Tim Berners-Lee, and my preferred frequency is "
	          "monthly.",
	          NULL);
	has_fact(&g, "email", "tim@w3.org");
	has_fact(&g, "name", "Tim Berners-Lee");
	has_fact(&g, "preferred frequency", "monthly");
	sky_rules__goal_free(&g);

	g = parse("Send a message. My name is Ada Lovelace, my email is "
	          "ada@a.org, topic: Billing, and the message is \"I was "
	          "charged twice. Help!\"",
	          NULL);
	has_fact(&g, "name", "Ada Lovelace");
	has_fact(&g, "email", "ada@a.org");
	has_fact(&g, "topic", "Billing");
	has_fact(&g, "message", "I was charged twice. Help!");
	sky_rules__goal_free(&g);

	g = parse("Send my CV. The file is /tmp/x/cv.txt and my email is "
	          "g@e.com.",
	          NULL);
	has_fact(&g, "file", "/tmp/x/cv.txt");
	has_fact(&g, "email", "g@e.com");
	sky_rules__goal_free(&g);
}
END_TEST

START_TEST(facts_quoted_json_with_change)
{
	sky_rules_goal g = parse("Create a workspace for the company "
	                         "\"Initech\" with the admin e-mail "
	                         "\"peter@initech.com\".",
	                         NULL);
	has_fact(&g, "company", "Initech");
	has_fact(&g, "admin e-mail", "peter@initech.com");
	sky_rules__goal_free(&g);

	g = parse("Type \"hello there\" into the Message field and set "
	          "Country to \"Canada\".",
	          NULL);
	has_fact(&g, "Message", "hello there");
	has_fact(&g, "Country", "Canada");
	sky_rules__goal_free(&g);

	g = parse("Register my device with these details: {\"phone\": \"+44 "
	          "20 7946 0958\", \"zip\": \"SW1A 1AA\", \"serial\": 4471, "
	          "\"address\": {\"city\": \"London\"}}",
	          NULL);
	has_fact(&g, "phone", "+44 20 7946 0958");
	has_fact(&g, "zip", "SW1A 1AA");
	has_fact(&g, "serial", "4471");
	has_fact(&g, "city", "London");
	sky_rules__goal_free(&g);

	g = parse("Log in with username alice and password Wonderland!1, "
	          "then change the phone number on my account to 555-0199.",
	          NULL);
	has_fact(&g, "username", "alice");
	has_fact(&g, "password", "Wonderland!1");
	has_fact(&g, "the phone number on my account", "555-0199");
	ck_assert_uint_eq(g.nintents, 2);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_LOGIN);
	ck_assert_int_eq(g.intents[1].kind, SKY_RULES_I_SUBMIT);
	sky_rules__goal_free(&g);
}
END_TEST

START_TEST(facts_from_payload)
{
	sky_rules_goal g = parse("Submit the claim using the details provided.",
	                         "{\"first_name\": \"Frances\", \"age\": 41, "
	                         "\"vip\": true, \"tags\": [\"a\", \"b\"], "
	                         "\"home\": {\"zip\": \"02139\"}}");
	has_fact(&g, "first_name", "Frances");
	has_fact(&g, "age", "41");
	has_fact(&g, "vip", "yes");
	has_fact(&g, "tags", "a, b");
	has_fact(&g, "zip", "02139");
	sky_rules__goal_free(&g);

	/* a payload given as JSON text, or as prose */
	g = parse("Apply.", "\"{\\\"email\\\": \\\"x@y.z\\\"}\"");
	has_fact(&g, "email", "x@y.z");
	sky_rules__goal_free(&g);
	g = parse("Apply.", "\"phone: 555-0100\"");
	has_fact(&g, "phone", "555-0100");
	sky_rules__goal_free(&g);

	/* the goal's own statement wins over the payload's */
	g = parse("email: goal@x.com", "{\"email\": \"payload@x.com\"}");
	has_fact(&g, "email", "goal@x.com");
	sky_rules__goal_free(&g);
}
END_TEST

START_TEST(intents_and_targets)
{
	sky_rules_goal g = parse("Open the Pricing page.", NULL);
	ck_assert_uint_eq(g.nintents, 1);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_OPEN);
	ck_assert_str_eq(g.intents[0].target, "Pricing");
	sky_rules__goal_free(&g);

	g = parse("Click Download invoice.", NULL);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_CLICK);
	ck_assert_str_eq(g.intents[0].target, "Download invoice");
	sky_rules__goal_free(&g);

	g = parse("Search the catalogue for \"trail shoes\" and open the "
	          "result \"Alpine Trail Runner\".",
	          NULL);
	ck_assert_str_eq(g.query, "trail shoes");
	ck_assert_uint_eq(g.nintents, 2);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_SEARCH);
	ck_assert_int_eq(g.intents[1].kind, SKY_RULES_I_OPEN);
	ck_assert_str_eq(g.intents[1].target, "Alpine Trail Runner");
	sky_rules__goal_free(&g);

	g = parse("search for wireless mouse and open the first result", NULL);
	ck_assert_str_eq(g.query, "wireless mouse");
	ck_assert_int_eq(g.intents[1].ordinal, 1);
	sky_rules__goal_free(&g);

	g = parse("Log in with username ops and password x, then open the "
	          "Audit log.",
	          NULL);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_LOGIN);
	ck_assert_int_eq(g.intents[1].kind, SKY_RULES_I_OPEN);
	ck_assert_str_eq(g.intents[1].target, "Audit log");
	ck_assert_int_eq(sky_rules__goal_final(&g)->kind, SKY_RULES_I_OPEN);
	sky_rules__goal_free(&g);

	/* making one, not going to a page */
	g = parse("Open a support ticket. summary: x", NULL);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_SUBMIT);
	sky_rules__goal_free(&g);

	g = parse("Extract every invoice listed on the billing page.", NULL);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_EXTRACT);
	ck_assert_ptr_null(sky_rules__goal_final(&g));
	sky_rules__goal_free(&g);

	/* facts before the verbs of a clause do not hide them */
	g = parse("Apply now. my email is b@x.com and set the city to Paris, "
	          "then click Submit.",
	          NULL);
	has_fact(&g, "email", "b@x.com");
	has_fact(&g, "the city", "Paris");
	ck_assert_uint_eq(g.nintents, 3);
	ck_assert_int_eq(g.intents[2].kind, SKY_RULES_I_CLICK);
	ck_assert_str_eq(g.intents[2].target, "Submit");
	sky_rules__goal_free(&g);
	g = parse("Sign up with email: a@b.co, then open the Dashboard", NULL);
	has_fact(&g, "email", "a@b.co");
	ck_assert_uint_eq(g.nintents, 2);
	ck_assert_str_eq(g.intents[1].target, "Dashboard");
	sky_rules__goal_free(&g);
	/* a lead-in ending in ':' keeps its verb */
	g = parse("Register for the conference: name: Ken Thompson", NULL);
	ck_assert_uint_eq(g.nintents, 1);
	ck_assert_int_eq(g.intents[0].kind, SKY_RULES_I_SUBMIT);
	sky_rules__goal_free(&g);

	g = parse("Go to https://example.org/jobs and apply.", NULL);
	ck_assert_str_eq(g.url, "https://example.org/jobs");
	sky_rules__goal_free(&g);
}
END_TEST

START_TEST(odd_input_is_harmless)
{
	const char *odd[] = {
	    "",
	    ":",
	    "\"",
	    "{",
	    "{\"a\":",
	    "my is",
	    "name: ",
	    "with",
	    "\"\"",
	    "a: b: c: d",
	    "\xff\xfe\x01",
	    "{\"x\": [1, {\"y\": null}]}",
	};
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		sky_rules_goal g = parse(odd[i], NULL);
		sky_rules__goal_free(&g);
	}
	sky_rules_goal g;
	sky_rules__goal_parse(NULL, NULL, &g);
	ck_assert_uint_eq(g.nfacts, 0);
	sky_rules__goal_free(&g);
}
END_TEST

/* Issue 19: facts a person states in prose, each ending where it ends. */
START_TEST(facts_from_prose)
{
	sky_rules_goal g =
	    parse("Sign Ada Lovelace up for the free plan with the password "
	          "Engine#1843! and her email, ada@analytical.example.",
	          NULL);
	has_fact(&g, "full name", "Ada Lovelace");
	has_fact(&g, "password", "Engine#1843!");
	has_fact(&g, "email", "ada@analytical.example");
	sky_rules__goal_free(&g);

	/* a value ends where the fact ends, not at the next sentence */
	g = parse("Our power's out at 88 Birch Lane, Springfield. Please "
	          "report it. The account number is 3004-118-27 and they can "
	          "call me back on 217-555-0142.",
	          NULL);
	has_fact(&g, "account number", "3004-118-27");
	has_fact(&g, "phone", "217-555-0142");
	has_fact(&g, "street address", "88 Birch Lane");
	has_fact(&g, "city", "Springfield");
	sky_rules__goal_free(&g);

	g = parse("I'd like to apply for the Backend Engineer position. My "
	          "name is Tomás Ortega, you can reach me at "
	          "tomas.ortega@example.com or +34 612 345 678, and I "
	          "currently work at Northwind Traders.",
	          NULL);
	has_fact(&g, "name", "Tomás Ortega");
	has_fact(&g, "phone", "+34 612 345 678");
	has_fact(&g, "company", "Northwind Traders");
	sky_rules__goal_free(&g);

	/* a password with "!" inside and at its end, a user after "as" */
	g = parse("Log into my online banking as jpark with the password "
	          "Summer2024! and download my March 2025 statement.",
	          NULL);
	has_fact(&g, "username", "jpark");
	has_fact(&g, "password", "Summer2024!");
	sky_rules__goal_free(&g);
	g = parse("He wants the password Gear!Shift77. Accept the terms.",
	          NULL);
	has_fact(&g, "password", "Gear!Shift77");
	sky_rules__goal_free(&g);

	/* statements a form asks as yes/no, countries, dates, times */
	g = parse("My name is Grace Okafor, I live in Canada. I'm legally "
	          "authorized to work in Canada and won't require "
	          "sponsorship. I was born on March 22, 2010.",
	          NULL);
	has_fact(&g, "country", "Canada");
	has_fact(&g, "authorized to work", "yes");
	has_fact(&g, "sponsorship", "no");
	has_fact(&g, "date of birth", "2010-03-22");
	sky_rules__goal_free(&g);
	ck_assert_str_eq(sky_rules__country_code("Canadian"), "CA");
	ck_assert_str_eq(sky_rules__country_code("ES"), "ES");
	ck_assert_ptr_null(sky_rules__country_code("Springfield"));

	g = parse("Book a table for four on 20 December 2026 at half past "
	          "seven in the evening, under the name Ilse Brandt, mobile "
	          "030 5550 1234. Mention it's a birthday.",
	          NULL);
	has_fact(&g, "full name", "Ilse Brandt");
	has_fact(&g, "phone", "030 5550 1234");
	has_fact(&g, "date", "2026-12-20");
	has_fact(&g, "time", "19:30");
	has_fact(&g, "guests", "4");
	has_fact(&g, "message", "It's a birthday.");
	sky_rules__goal_free(&g);
	ck_assert_int_eq(sky_rules__parse_time("7:30 pm"), 19 * 60 + 30);
	ck_assert_int_eq(sky_rules__parse_time("19:30"), 19 * 60 + 30);
	ck_assert_int_eq(sky_rules__parse_time("seven"), -1);

	/* "apply to it for me: I'm ..." is a sentence, not "key: value";
	 * "get a licence" sends a form */
	g = parse("Find the full-time Frontend Engineer opening in Berlin and "
	          "apply to it for me: I'm Jonas Weber, "
	          "jonas.weber@example.com.",
	          NULL);
	has_fact(&g, "full name", "Jonas Weber");
	ck_assert_ptr_nonnull(sky_rules__goal_final(&g));
	ck_assert_int_eq(sky_rules__goal_final(&g)->kind, SKY_RULES_I_SUBMIT);
	sky_rules__goal_free(&g);
	g = parse("Get an annual fishing licence for my son, Leo Martin.",
	          NULL);
	has_fact(&g, "full name", "Leo Martin");
	ck_assert_int_eq(sky_rules__goal_final(&g)->kind, SKY_RULES_I_SUBMIT);
	sky_rules__goal_free(&g);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rules_text");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, words_fold_and_split);
	tcase_add_test(tc, concepts_and_synonyms);
	tcase_add_test(tc, similarity_ignores_order_case_punctuation);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, yes_no);
	tcase_add_test(tc, facts_colon_pairs);
	tcase_add_test(tc, facts_my_x_is);
	tcase_add_test(tc, facts_quoted_json_with_change);
	tcase_add_test(tc, facts_from_payload);
	tcase_add_test(tc, intents_and_targets);
	tcase_add_test(tc, odd_input_is_harmless);
	tcase_add_test(tc, facts_from_prose);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return skytest_run(suite());
}
