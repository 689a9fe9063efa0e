/* Unit tests: numbers as pages write them, read back by replay
 * (agent/number.c, docs/replay.md "Numbers"): separators of both
 * conventions, spaces that group, currencies before and after, negative
 * amounts, percentages, and the rule for a lone separator before three
 * digits. */
#include <math.h>
#include <string.h>

#include "agent/agent.h"
#include "skytest.h"

static double num(const char *text, char hint)
{
	sky_number n;
	ck_assert_msg(sky_agent_number_parse(text, hint, &n) == 0,
	              "\"%s\" was not read as a number", text);
	return n.value;
}

#define READS(text, hint, want)                                                \
	ck_assert_msg(fabs(num(text, hint) - (want)) < 1e-9,                   \
	              "\"%s\" read as %.6f, want %.6f", text, num(text, hint), \
	              (double)(want))

#define NOT_A_NUMBER(text)                                                     \
	do {                                                                   \
		sky_number n_;                                                 \
		ck_assert_msg(sky_agent_number_parse(text, 0, &n_) != 0,       \
		              "\"%s\" read as %f", text, n_.value);            \
	} while (0)

START_TEST(both_conventions)
{
	READS("1,234.56", 0, 1234.56);
	READS("1.234,56", 0, 1234.56);
	READS("1,234,567.8", 0, 1234567.8);
	READS("1.234.567,8", 0, 1234567.8);
	READS("1,234,567", 0, 1234567);
	READS("1.234.567", 0, 1234567);
	READS("12.5", 0, 12.5);
	READS("12,5", 0, 12.5);
	READS("0,125", 0, 0.125);
	READS("1234,5678", 0, 1234.5678);
	READS(".5", 0, 0.5);
	READS("42", 0, 42);
	READS("1'234.50", 0, 1234.5);
	READS("12,34,567.00", 0, 1234567); /* lakh grouping */
}
END_TEST

START_TEST(spaces_that_group)
{
	READS("1 234,56", 0, 1234.56);
	READS("1\xc2\xa0"
	      "234,56",
	      0, 1234.56); /* no-break space */
	READS("1\xe2\x80\x89"
	      "234,56",
	      0, 1234.56); /* thin space */
	READS("1\xe2\x80\xaf"
	      "234\xe2\x80\xaf"
	      "567,5",
	      0, 1234567.5); /* narrow no-break space */
	READS("12 345", 0, 12345);
	READS("1 234.5", 0, 1234.5);
}
END_TEST

START_TEST(currencies)
{
	READS("\xe2\x82\xac"
	      "1.234,56",
	      0, 1234.56);
	READS("1.234,56 \xe2\x82\xac", 0, 1234.56);
	READS("1.234,56\xc2\xa0\xe2\x82\xac", 0, 1234.56);
	READS("USD 12.50", 0, 12.5);
	READS("12.50 USD", 0, 12.5);
	READS("$95,500", 0, 95500);
	READS("US$ 1,000", 0, 1000);
	READS("\xc2\xa3"
	      "3.20",
	      0, 3.2);
	READS("CHF 1'250.00", 0, 1250);
	READS("\xe2\x82\xb9"
	      "12,34,567",
	      0, 1234567);
	READS("R$ 1.234,56", 0, 1234.56);
}
END_TEST

START_TEST(negatives_and_percent)
{
	READS("(12.50)", 0, -12.5);
	READS("($1,234.00)", 0, -1234);
	READS("-12.50", 0, -12.5);
	READS("\xe2\x88\x92"
	      "12,50 \xe2\x82\xac",
	      0, -12.5); /* U+2212 minus */
	READS("-\xe2\x82\xac"
	      "5",
	      0, -5);
	READS("\xe2\x82\xac -5,00", 0, -5);
	READS("12.50-", 0, -12.5);
	READS("12,5 %", 0, 12.5);
	READS("12.5%", 0, 12.5);
	READS("-3 %", 0, -3);
	sky_number n;
	ck_assert_int_eq(sky_agent_number_parse("12,5 %", 0, &n), 0);
	ck_assert_int_eq(n.percent, 1);
	ck_assert_int_eq(n.decimal, ',');
}
END_TEST

/* "1,234" and "1.234": a lone separator before exactly three digits
 * groups thousands, unless the recorded run's text showed it to be the
 * decimal mark. */
START_TEST(a_lone_separator_before_three_digits)
{
	READS("1,234", 0, 1234);
	READS("1.234", 0, 1234);
	READS("1.234", '.', 1.234);
	READS("1,234", ',', 1.234);
	READS("1,234", '.', 1234);
	READS("1.234", ',', 1234);
	READS("0.123", 0, 0.123); /* a leading 0 never groups */
	READS("1234.567", 0, 1234.567);
	sky_number n;
	ck_assert_int_eq(sky_agent_number_parse("1.234", 0, &n), 0);
	ck_assert_int_eq(n.ambiguous, 1);
	ck_assert_int_eq(n.decimal, ',');
	ck_assert_int_eq(sky_agent_number_parse("1.234,5", 0, &n), 0);
	ck_assert_int_eq(n.ambiguous, 0);
	ck_assert_int_eq(n.decimal, ',');
	ck_assert_int_eq(n.frac_digits, 1);
	ck_assert_int_eq(sky_agent_number_parse("1,234.00", 0, &n), 0);
	ck_assert_int_eq(n.decimal, '.');
	ck_assert_int_eq(n.frac_digits, 2);
	ck_assert_int_eq(sky_agent_number_parse("1234", 0, &n), 0);
	ck_assert_int_eq(n.decimal, 0);
}
END_TEST

START_TEST(words_and_units)
{
	READS("1.25 kg", 0, 1.25);
	READS("5 slots", 0, 5);
	READS(" 8 ", 0, 8);
	NOT_A_NUMBER("");
	NOT_A_NUMBER("n/a");
	NOT_A_NUMBER("about 5");
	NOT_A_NUMBER("REF-12");
	NOT_A_NUMBER("1,23,4"); /* not a grouping */
	NOT_A_NUMBER("1.234.56,7.8");
	NOT_A_NUMBER("12,34.56"); /* a group of 2 before the decimal */
}
END_TEST

/* The span of the next number in a line, with its sign, parentheses,
 * currency and percent sign, for the text around it to be kept. */
static char *next(const char *text, size_t from)
{
	size_t s = 0, n = 0;
	if (!sky_agent_number_next(text, from, &s, &n))
		return NULL;
	return strndup(text + s, n);
}

#define SPAN(text, want)                                                       \
	do {                                                                   \
		char *got_ = next(text, 0);                                    \
		ck_assert_msg(got_ && !strcmp(got_, want),                     \
		              "in \"%s\" found \"%s\", want \"%s\"", text,     \
		              got_ ? got_ : "(none)", want);                   \
		free(got_);                                                    \
	} while (0)

START_TEST(finds_the_number_in_a_line)
{
	SPAN("Total: 1.234,56 \xe2\x82\xac incl. VAT", "1.234,56 \xe2\x82\xac");
	SPAN("Total: \xe2\x82\xac"
	     "1.234,56 incl. VAT",
	     "\xe2\x82\xac"
	     "1.234,56");
	SPAN("Balance (12.50) due", "(12.50)");
	SPAN("Balance -$12.50 due", "-$12.50");
	SPAN("Amount USD 12.50", "USD 12.50");
	SPAN("Rate 12,5 % a year", "12,5 %");
	SPAN("1 234,56", "1 234,56");
	ck_assert_ptr_null(next("REF42 only", 0));
	SPAN("Pages 10-12", "10");
	char *second = next("3 items, 1.234,56 \xe2\x82\xac", 1);
	ck_assert_str_eq(second, "1.234,56 \xe2\x82\xac");
	free(second);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("replay_number");
	TCase *tc = tcase_create("number");
	tcase_add_test(tc, both_conventions);
	tcase_add_test(tc, spaces_that_group);
	tcase_add_test(tc, currencies);
	tcase_add_test(tc, negatives_and_percent);
	tcase_add_test(tc, a_lone_separator_before_three_digits);
	tcase_add_test(tc, words_and_units);
	tcase_add_test(tc, finds_the_number_in_a_line);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
