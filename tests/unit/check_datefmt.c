/* Unit tests: the browser-cdp plugin's date and time conversion for date
 * inputs (plugins/browser-cdp/datefmt.c, compiled into this test). */
#include <string.h>

#include "datefmt.h"
#include "skytest.h"

static const struct {
	const char *type, *text, *want; /* want NULL: must fail */
} cases[] = {
    /* date: ISO and its separators */
    {"date", "2024-03-15", "2024-03-15"},
    {"date", " 2024/3/5 ", "2024-03-05"},
    {"date", "2024.03.15", "2024-03-15"},
    /* month first with slashes and dashes, day first when it must be */
    {"date", "03/15/2024", "2024-03-15"},
    {"date", "3/5/2024", "2024-03-05"},
    {"date", "15/03/2024", "2024-03-15"},
    {"date", "03-15-2024", "2024-03-15"},
    {"date", "03/15/24", "2024-03-15"},
    {"date", "12/31/99", "1999-12-31"},
    /* dots are day first */
    {"date", "15.03.2024", "2024-03-15"},
    {"date", "05.03.2024", "2024-03-05"},
    /* month names */
    {"date", "March 15, 2024", "2024-03-15"},
    {"date", "15 Mar 2024", "2024-03-15"},
    {"date", "15-Mar-2024", "2024-03-15"},
    {"date", "Mar. 15 2024", "2024-03-15"},
    {"date", "Friday, March 15th, 2024", "2024-03-15"},
    {"date", "1st of September 2025", "2025-09-01"},
    {"date", "sept 30 2025", "2025-09-30"},
    {"date", "29 February 2024", "2024-02-29"},
    /* not dates */
    {"date", "29 February 2023", NULL},
    {"date", "2024-13-01", NULL},
    {"date", "02/30/2024", NULL},
    {"date", "next Tuesday", NULL},
    {"date", "", NULL},
    {"date", "2024", NULL},
    {"date", "March 2024", NULL},
    {"date", "15 March", NULL},
    {"date", "1/2/3/4", NULL},
    {"date", "123456789/1/2024", NULL},
    /* month */
    {"month", "March 2024", "2024-03"},
    {"month", "03/2027", "2027-03"},
    {"month", "2027-03", "2027-03"},
    {"month", "Mar 15, 2024", "2024-03"},
    {"month", "13/2027", NULL},
    /* week */
    {"week", "2024-W11", "2024-W11"},
    {"week", "w3 2024", "2024-W03"},
    {"week", "2024-03-15", "2024-W11"},
    {"week", "2021-01-01", "2020-W53"},
    {"week", "2024-12-30", "2025-W01"},
    {"week", "2023-W53", NULL},
    /* time */
    {"time", "14:30", "14:30"},
    {"time", "9:05 pm", "21:05"},
    {"time", "12:00 AM", "00:00"},
    {"time", "12:15 p.m.", "12:15"},
    {"time", "3 PM", "15:00"},
    {"time", "07:08:09", "07:08:09"},
    {"time", "07:08:09.250", "07:08:09"},
    {"time", "14", NULL},
    {"time", "24:00", NULL},
    {"time", "13:00 pm", NULL},
    {"time", "9:5", NULL},
    /* datetime-local */
    {"datetime-local", "2024-03-15T14:30", "2024-03-15T14:30"},
    {"datetime-local", "2024-03-15 14:30:05", "2024-03-15T14:30:05"},
    {"datetime-local", "03/15/2024 2:30 PM", "2024-03-15T14:30"},
    {"datetime-local", "March 15, 2024 at 2:30 pm", "2024-03-15T14:30"},
    {"datetime-local", "15.03.2024, 09:00", "2024-03-15T09:00"},
    {"datetime-local", "15 Mar 2024 3pm", "2024-03-15T15:00"},
    {"datetime-local", "2024-03-15", NULL},
    {"datetime-local", "14:30", NULL},
};

START_TEST(values_from_what_people_write)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[48] = "";
		const char *format = NULL;
		int rc = cdp_date_value(cases[i].type, cases[i].text, out,
		                        sizeof out, &format);
		if (cases[i].want) {
			ck_assert_msg(rc == 1 && !strcmp(out, cases[i].want),
			              "%s \"%s\": want %s, got %d \"%s\"",
			              cases[i].type, cases[i].text,
			              cases[i].want, rc, out);
		} else {
			ck_assert_msg(rc == -1,
			              "%s \"%s\": want a failure, got "
			              "%d \"%s\"",
			              cases[i].type, cases[i].text, rc, out);
			ck_assert_ptr_nonnull(format);
		}
	}
}
END_TEST

START_TEST(failures_name_the_format_and_others_pass_through)
{
	char out[48] = "unchanged";
	const char *format = NULL;
	ck_assert_int_eq(
	    cdp_date_value("date", "soon", out, sizeof out, &format), -1);
	ck_assert_str_eq(format, "yyyy-mm-dd (e.g. 2024-03-15)");
	ck_assert_int_eq(
	    cdp_date_value("datetime-local", "x", out, sizeof out, &format),
	    -1);
	ck_assert_ptr_nonnull(strstr(format, "yyyy-mm-ddThh:mm"));
	/* types that take the text as it is */
	ck_assert_int_eq(
	    cdp_date_value("color", "#ff0000", out, sizeof out, &format), 0);
	ck_assert_int_eq(
	    cdp_date_value("range", "40", out, sizeof out, &format), 0);
	ck_assert_int_eq(cdp_date_value(NULL, "40", out, sizeof out, &format),
	                 0);
	ck_assert_str_eq(out, "unchanged");
	/* a short buffer is cut, never overrun */
	char small[5];
	ck_assert_int_eq(
	    cdp_date_value("date", "2024-03-15", small, sizeof small, &format),
	    1);
	ck_assert_str_eq(small, "2024");
}
END_TEST

/* Whatever the text, an answer within the buffer (run under ASan and
 * UBSan in CI). Deterministic pseudo-random texts of date-like bytes. */
START_TEST(any_text_is_answered_safely)
{
	static const char pool[] = "0123456789/-.:, aApPmMtTWwJjanFebMrchsSt"
	                           "ndrdh\t\xc3\xa9";
	static const char *const types[] = {"date", "month", "week", "time",
	                                    "datetime-local"};
	unsigned seed = 12345;
	for (int i = 0; i < 50000; i++) {
		char text[48], out[32];
		size_t n = (seed = seed * 1103515245u + 12345u) >> 16 & 31;
		for (size_t k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			text[k] = pool[(seed >> 16) % (sizeof pool - 1)];
		}
		text[n] = '\0';
		const char *format = NULL;
		memset(out, 'x', sizeof out);
		int rc = cdp_date_value(types[i % 5], text, out, sizeof out,
		                        &format);
		ck_assert_msg(rc == 1 || rc == -1, "%s \"%s\": %d",
		              types[i % 5], text, rc);
		if (rc == 1)
			ck_assert_uint_lt(strnlen(out, sizeof out), sizeof out);
		else
			ck_assert_ptr_nonnull(format);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("datefmt");
	TCase *tc = tcase_create("datefmt");
	tcase_add_test(tc, values_from_what_people_write);
	tcase_add_test(tc, failures_name_the_format_and_others_pass_through);
	tcase_add_test(tc, any_text_is_answered_safely);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
