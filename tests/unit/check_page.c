/* Unit tests: page/ (the element tree rendered from stored snapshots of
 * real pages, the drop order under a token budget, URL placeholders,
 * the flattened elements and the id index). */
#include <stdio.h>
#include <string.h>

#include <skyengine/errors.h>

#include "page/page.h"
#include "skytest.h"
#include "util/fs.h"
#include <skyx/str.h>

static char *stored(const char *name)
{
	char *rel = skyx_asprintf("tests/pages/browser/snapshots/%s", name);
	char *path = skytest_src_path(rel);
	size_t len = 0;
	char *s = skyx_read_file(path, &len);
	ck_assert_msg(s != NULL, "cannot read %s", path);
	free(rel);
	free(path);
	return s;
}

static sky_page_tree *render(const char *json, size_t max_tokens)
{
	sky_page_render_options o = SKY_PAGE_RENDER_OPTIONS_INIT;
	o.max_tokens = max_tokens;
	sky_page_tree *t = NULL;
	ck_assert_int_eq(sky_page_render(json, &o, &t), 0);
	return t;
}

/* Number of times needle occurs in hay. */
static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p;
	     p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

/* How often the element with this id is written (" id=ID" then a space
 * or the end of the tag). */
static size_t count_id(const char *text, const char *id)
{
	char needle[32];
	size_t n = 0;
	snprintf(needle, sizeof needle, " id=%s", id);
	for (const char *p = strstr(text, needle); p;
	     p = strstr(p + 1, needle)) {
		char next = p[strlen(needle)];
		if (next == ' ' || next == '>')
			n++;
	}
	return n;
}

START_TEST(script_is_embedded)
{
	size_t len = 0;
	const char *s = sky_page_script(&len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_gt(len, 1000);
	ck_assert_ptr_nonnull(strstr(s, "G.__sky = {"));
	ck_assert_ptr_nonnull(strstr(s, "waitQuiet"));
}
END_TEST

START_TEST(form_tree_is_compact_and_complete)
{
	char *json = stored("form.json");
	sky_page_tree *t = render(json, 0);
	const char *text = sky_page_tree_text(t);
	ck_assert_int_eq(sky_page_tree_cut_level(t), 0);

	/* a label[for] names its input, which then needs no label= */
	ck_assert_ptr_nonnull(strstr(text, "<label for=2>First name</label>"
	                                   "<input id=2 name=\"first_name\""
	                                   " required>"));
	/* names that come from elsewhere are written on the control */
	ck_assert_ptr_nonnull(strstr(text, "type=\"tel\" name=\"phone\" "
	                                   "label=\"Phone number\""));
	ck_assert_ptr_nonnull(strstr(text, "label=\"Choose a password\""));
	/* selects with indexed options, the selected one marked */
	ck_assert_ptr_nonnull(strstr(text, "<option index=0 selected>Choose"
	                                   "<option index=1>United Kingdom"));
	ck_assert_ptr_nonnull(strstr(text, "<option index=3 disabled>"));
	/* radio groups keep their question */
	ck_assert_ptr_nonnull(strstr(text, "<legend>Are you authorised to "
	                                   "work in the UK?</legend>"));
	ck_assert_ptr_nonnull(strstr(text, "How did you hear about us?"));
	/* same-origin links as paths; a long foreign-looking URL as a
	 * placeholder that restores */
	ck_assert_ptr_nonnull(strstr(text, "href=\"/help.html\""));
	ck_assert_ptr_nonnull(strstr(text, "href=\"{{u1}}\""));
	ck_assert_uint_eq(sky_page_tree_url_count(t), 0 + 1);
	ck_assert_ptr_null(strstr(text, "utm_"));
	/* generic wrappers are not written */
	ck_assert_ptr_null(strstr(text, "<p>"));
	ck_assert_ptr_null(strstr(text, "<div"));
	/* every interactable element is in the text exactly once */
	json_t *els = sky_page_tree_elements(t);
	size_t i;
	json_t *e;
	json_array_foreach (els, i, e) {
		const char *id = json_string_value(json_object_get(e, "id"));
		const char *tag = json_string_value(json_object_get(e, "tag"));
		if (!strcmp(tag, "label") && json_object_get(e, "for"))
			continue; /* written without its own id */
		ck_assert_msg(count_id(text, id) == 1,
		              "id %s written %zu times:\n%s", id,
		              count_id(text, id), text);
		ck_assert(sky_page_tree_shown(t, id));
	}
	ck_assert_ptr_null(strstr(text, "token"));
	sky_page_tree_free(t);
	free(json);
}
END_TEST

START_TEST(flattened_elements_and_index)
{
	char *json = stored("form.json");
	sky_page_tree *t = render(json, 0);
	json_t *els = sky_page_tree_elements(t);
	json_t *snap = sky_page_tree_snapshot(t);
	ck_assert_int_eq(json_array_size(els),
	                 json_integer_value(json_object_get(
	                     json_object_get(snap, "stats"), "interactable")));
	json_t *country = NULL, *auth = NULL, *email = NULL;
	size_t i;
	json_t *e;
	json_array_foreach (els, i, e) {
		const char *name =
		    json_string_value(json_object_get(e, "name"));
		if (name && !strcmp(name, "country"))
			country = e;
		if (name && !strcmp(name, "auth") && !auth)
			auth = e;
		if (name && !strcmp(name, "email"))
			email = e;
	}
	ck_assert_ptr_nonnull(country);
	ck_assert_str_eq(json_string_value(json_object_get(country, "label")),
	                 "Country");
	ck_assert_int_eq(json_array_size(json_object_get(country, "options")),
	                 4);
	ck_assert_str_eq(json_string_value(json_object_get(auth, "group")),
	                 "Are you authorised to work in the UK?");
	ck_assert_str_eq(json_string_value(json_object_get(email, "type")),
	                 "email");
	ck_assert_str_eq(
	    json_string_value(json_object_get(email, "placeholder")),
	    "you@example.com");
	/* the index answers for every id, and only for ids */
	const char *id = json_string_value(json_object_get(email, "id"));
	json_t *found = sky_page_tree_element(t, id);
	ck_assert_ptr_nonnull(found);
	ck_assert_str_eq(json_string_value(json_object_get(found, "tag")),
	                 "input");
	ck_assert_ptr_null(sky_page_tree_element(t, "999"));
	ck_assert_ptr_null(sky_page_tree_element(t, NULL));
	sky_page_tree_free(t);
	free(json);
}
END_TEST

START_TEST(url_placeholders_restore)
{
	char *json = stored("form.json");
	sky_page_tree *t = render(json, 0);
	const char *u1 = sky_page_tree_url(t, "{{u1}}");
	ck_assert_ptr_nonnull(u1);
	ck_assert(
	    skyx_str_startswith(u1, "http://127.0.0.1:8080/privacy.html?"));
	ck_assert_str_eq(sky_page_tree_url(t, "u1"), u1);
	ck_assert_ptr_null(sky_page_tree_url(t, "{{u2}}"));
	ck_assert_ptr_null(sky_page_tree_url(t, "{{x1}}"));
	char *r = sky_page_tree_restore_urls(t, "open {{u1}} then {{u9}} {{");
	char *want = skyx_asprintf("open %s then {{u9}} {{", u1);
	ck_assert_str_eq(r, want);
	free(r);
	free(want);
	sky_page_tree_free(t);
	free(json);
}
END_TEST

START_TEST(frames_are_written_in_place)
{
	char *json = stored("frames.json");
	sky_page_tree *t = render(json, 0);
	const char *text = sky_page_tree_text(t);
	ck_assert_ptr_nonnull(strstr(text, "<iframe frame=\"f1\" title=\"Promo"
	                                   "\">"));
	ck_assert_ptr_nonnull(strstr(text, "<input id=f1.2 name=\"code\">"));
	ck_assert_ptr_nonnull(strstr(text, "<input id=f2.2 name=\"code\">"));
	ck_assert_ptr_nonnull(sky_page_tree_element(t, "f2.3"));
	sky_page_tree_free(t);
	free(json);
}
END_TEST

START_TEST(table_fits_without_cuts_and_with_them)
{
	char *json = stored("table_rows_300.json");
	/* the whole table, nothing dropped */
	sky_page_tree *t = render(json, 0);
	ck_assert_int_eq(sky_page_tree_cut_level(t), 0);
	const char *text = sky_page_tree_text(t);
	/* a long table: a legend, the header, then one CSV line per row;
	 * the first row's link shows its href, the others of its shape are
	 * their id alone (their text is the column's usual one) */
	ck_assert_uint_eq(count(text, "<tr>"), 0);
	ck_assert_ptr_nonnull(strstr(
	    text, "\n[300 rows as CSV, header first. N:text is the element "
	          "with id N and that text: links in Action. An empty cell, "
	          "or N alone, has its column's usual text: \"Edit\" in "
	          "Action.]\nName,Email,Department,Salary,Action\n"));
	ck_assert_ptr_nonnull(
	    strstr(text, "\nPerson 1,person1@example.com,Sales,$30037,"
	                 "<a id=1 href=\"/staff/1\">Edit</a>\n"));
	const char *p300 = strstr(text, "\nPerson 300,person300@example.com,");
	ck_assert_ptr_nonnull(p300);
	ck_assert(!strncmp(strchr(p300 + 1, '\n') - 4, ",300\n", 5));
	ck_assert_uint_eq(count(text, "href="), 1);
	size_t full = sky_page_tree_tokens(t);
	ck_assert_uint_eq(full, (sky_page_tree_bytes(t) + 3) / 4);
	sky_page_tree_free(t);

	/* a budget: rows go, the first ones stay, the marker counts */
	t = render(json, 2000);
	text = sky_page_tree_text(t);
	ck_assert_uint_le(sky_page_tree_tokens(t), 2000);
	ck_assert_int_ge(sky_page_tree_cut_level(t), 4);
	ck_assert_ptr_nonnull(strstr(text, "\nPerson 1,"));
	ck_assert_ptr_nonnull(strstr(text, "more rows with"));
	ck_assert_ptr_null(strstr(text, "Person 300,"));
	/* every element is still known, even the ones not written */
	ck_assert_uint_eq(json_array_size(sky_page_tree_elements(t)), 300);
	ck_assert_ptr_nonnull(sky_page_tree_element(t, "300"));
	ck_assert(!sky_page_tree_shown(t, "300"));
	ck_assert(sky_page_tree_shown(t, "1"));
	sky_page_tree_free(t);
	free(json);
}
END_TEST

/* An orders table as the benchmark's (bench/pages/table.html): 300
 * rows, each with a link to its order and an Approve button. At the
 * agent's default budget every row's two elements are written, each on
 * its row's CSV line with the row's data, so the planner can act on any
 * row; the repeated href shape and button text are written once. */
START_TEST(every_row_of_a_long_table_can_be_acted_on)
{
	skyx_buf b = {0};
	skyx_buf_puts(&b, "{\"url\": \"http://127.0.0.1:9/table.html\", "
	                  "\"elements\": [{\"tag\": \"table\", \"children\": "
	                  "[{\"tag\": \"tr\", \"children\": [{\"tag\": \"th\", "
	                  "\"text\": \"Order\"}, {\"tag\": \"th\", \"text\": "
	                  "\"Customer\"}, {\"tag\": \"th\", \"text\": "
	                  "\"Action\"}]}");
	for (int i = 1; i <= 300; i++)
		skyx_buf_printf(
		    &b,
		    ", {\"tag\": \"tr\", \"children\": [{\"tag\": \"td\", "
		    "\"children\": [{\"id\": \"%d\", \"tag\": \"a\", "
		    "\"interactable\": true, \"attrs\": {\"href\": "
		    "\"http://127.0.0.1:9/order.html?id=%d\"}, \"text\": "
		    "\"#%d\"}]}, {\"tag\": \"td\", \"text\": \"Customer "
		    "%d\"}, {\"tag\": \"td\", \"children\": [{\"id\": "
		    "\"%d\", \"tag\": \"button\", \"interactable\": true, "
		    "\"text\": \"Approve\"}]}]}",
		    2 * i, 10000 + i, 10000 + i, i, 2 * i + 1);
	skyx_buf_puts(&b, "]}]}");
	sky_page_tree *t = render(b.data, 12000); /* agent.tree_budget_tokens */
	const char *text = sky_page_tree_text(t);
	ck_assert_int_eq(sky_page_tree_cut_level(t), 0);
	ck_assert_ptr_nonnull(strstr(
	    text, "\n[300 rows as CSV, header first. N:text is the element "
	          "with id N and that text: links in Order, buttons in "
	          "Action. An empty cell, or N alone, has its column's usual "
	          "text: \"Approve\" in Action.]\nOrder,Customer,Action\n"));
	for (int i = 1; i <= 300; i++) {
		char line[160];
		if (i == 1)
			snprintf(line, sizeof line,
			         "\n<a id=2 href=\"/order.html?id=10001\">"
			         "#10001</a>,Customer 1,3\n");
		else
			snprintf(line, sizeof line, "\n%d:#%d,Customer %d,%d\n",
			         2 * i, 10000 + i, i, 2 * i + 1);
		ck_assert_msg(strstr(text, line),
		              "row %d is not written as \"%s\"", i, line);
	}
	ck_assert_uint_eq(count(text, "href="), 1);
	sky_page_tree_free(t);
	free(b.data);
}
END_TEST

/* A long table's cells that do not fit their column's pattern: another
 * kind of element, another element text, a field, a comma in the text,
 * another status, no status. Each is written on its row's line, as HTML where the
 * pattern does not say what it is, quoted where it holds a comma. */
START_TEST(a_long_tables_odd_cells_are_written_as_they_are)
{
	skyx_buf b = {0};
	skyx_buf_puts(&b, "{\"url\": \"http://127.0.0.1:9/t.html\", "
	                  "\"elements\": [{\"tag\": \"table\", \"children\": "
	                  "[{\"tag\": \"tr\", \"children\": [{\"tag\": \"th\", "
	                  "\"text\": \"Name\"}, {\"tag\": \"th\", \"text\": "
	                  "\"Status\"}, {\"tag\": \"th\", \"text\": "
	                  "\"Action\"}]}");
	for (int i = 1; i <= 40; i++) {
		char *cell =
		    i == 7 ? skyx_asprintf("{\"id\": \"b%d\", \"tag\": \"a\", "
		                           "\"interactable\": true, \"text\": "
		                           "\"Invoice\"}",
		                           i)
		    : i == 9 ? skyx_asprintf(
		                   "{\"id\": \"b%d\", \"tag\": \"button\", "
		                   "\"interactable\": true, \"text\": "
		                   "\"Retry\"}",
		                   i)
		    : i == 11
		        ? skyx_asprintf("{\"id\": \"b%d\", \"tag\": \"input\", "
		                        "\"interactable\": true, \"attrs\": "
		                        "{\"name\": \"q\"}}",
		                        i)
		        : skyx_asprintf(
		              "{\"id\": \"b%d\", \"tag\": \"button\", "
		              "\"interactable\": true, \"text\": "
		              "\"Approve\"}",
		              i);
		skyx_buf_printf(
		    &b,
		    ", {\"tag\": \"tr\", \"children\": [{\"tag\": "
		    "\"td\", \"text\": \"%s %d\"}, {\"tag\": \"td\", "
		    "\"text\": \"%s\"}, {\"tag\": \"td\", "
		    "\"children\": [%s]}]}",
		    i == 5 ? "Doe, \\\"Jane\\\"" : "Person", i,
		    i == 7    ? "Shipped"
		    : i == 13 ? ""
		              : "Pending",
		    cell);
		free(cell);
	}
	skyx_buf_puts(&b, "]}]}");
	sky_page_tree *t = render(b.data, 0);
	const char *text = sky_page_tree_text(t);
	ck_assert_ptr_nonnull(strstr(
	    text, "[40 rows as CSV, header first. N:text is the element with "
	          "id N and that text: buttons in Action. An empty cell, or N "
	          "alone, has its column's usual text: \"Pending\" in Status, "
	          "\"Approve\" in Action.]\nName,Status,Action\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nPerson 1,,b1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n\"Doe, \"\"Jane\"\" 5\",,b5\n"));
	/* a link in a column of buttons says what it is */
	ck_assert_ptr_nonnull(
	    strstr(text, "\nPerson 7,Shipped,<a id=b7>Invoice</a>\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nPerson 9,,b9:Retry\n"));
	/* no status, where an empty cell means the usual one */
	ck_assert_ptr_nonnull(strstr(text, "\nPerson 13,\"\",b13\n"));
	ck_assert_ptr_nonnull(
	    strstr(text, "\nPerson 11,,<input id=b11 name=\"q\">\n"));
	for (int i = 1; i <= 40; i++) {
		char id[8];
		snprintf(id, sizeof id, "b%d", i);
		ck_assert_msg(sky_page_tree_shown(t, id), "%s not shown", id);
	}
	sky_page_tree_free(t);
	free(b.data);
}
END_TEST

START_TEST(drop_order_is_monotonic_down_to_a_hard_cut)
{
	char *json = stored("table_rows_300.json");
	int last = 0;
	size_t budgets[] = {20000, 8000, 4000, 1000, 300, 120, 60};
	for (size_t i = 0; i < sizeof budgets / sizeof *budgets; i++) {
		sky_page_tree *t = render(json, budgets[i]);
		ck_assert_uint_le(sky_page_tree_tokens(t), budgets[i]);
		ck_assert_int_ge(sky_page_tree_cut_level(t), last);
		last = sky_page_tree_cut_level(t);
		sky_page_tree_free(t);
	}
	/* a table can shrink to its marker line; a form cannot, and a
	 * budget too small for it needs the hard cut, which says so */
	free(json);
	json = stored("form.json");
	sky_page_tree *t = render(json, 100);
	ck_assert_int_eq(sky_page_tree_cut_level(t), 6);
	ck_assert_uint_le(sky_page_tree_tokens(t), 100);
	ck_assert_ptr_nonnull(strstr(sky_page_tree_text(t),
	                             "more interactable elements not shown"));
	/* what is written comes first in the page */
	ck_assert_ptr_nonnull(strstr(sky_page_tree_text(t), "First name"));
	sky_page_tree_free(t);
	free(json);
}
END_TEST

START_TEST(text_and_attributes_are_escaped)
{
	const char *json =
	    "{\"url\": \"https://shop.test/a\", \"elements\": ["
	    "\"price < 5 & more\","
	    "{\"tag\": \"div\", \"children\": [\"inside\", \"\\n\","
	    "  {\"id\": \"1\", \"tag\": \"button\", \"interactable\": true,"
	    "   \"text\": \"Say \\\"hi\\\"\", \"label\": \"Say \\\"hi\\\"\"}]},"
	    "{\"id\": \"2\", \"tag\": \"input\", \"interactable\": true,"
	    " \"attrs\": {\"type\": \"text\", \"name\": \"q\"},"
	    " \"label\": \"Find \\\"x\\\"\", \"value\": \"a\\nb\"},"
	    "{\"id\": \"3\", \"tag\": \"a\", \"interactable\": true,"
	    " \"attrs\": {\"href\": \"https://shop.test/cart\"}, \"text\": "
	    "\"Cart\"},"
	    "{\"id\": \"4\", \"tag\": \"a\", \"interactable\": true,"
	    " \"attrs\": {\"href\": \"javascript:\"}, \"text\": \"Menu\"},"
	    "{\"id\": \"5\", \"tag\": \"label\", \"interactable\": true,"
	    " \"attrs\": {\"for\": \"77\"}, \"text\": \"Accept\", "
	    "\"checked\": false}"
	    "]}";
	sky_page_tree *t = render(json, 0);
	const char *text = sky_page_tree_text(t);
	ck_assert_ptr_nonnull(strstr(text, "price &lt; 5 & more"));
	ck_assert_ptr_nonnull(strstr(text, "inside\n<button id=1>Say "
	                                   "\"hi\"</button>"));
	ck_assert_ptr_nonnull(strstr(text, "label=\"Find &quot;x&quot;\" "
	                                   "value=\"a b\">"));
	ck_assert_ptr_nonnull(strstr(text, "<a id=3 href=\"/cart\">Cart"));
	ck_assert_ptr_nonnull(strstr(text, "href=\"javascript:\""));
	/* a label whose control is not offered keeps its own id */
	ck_assert_ptr_nonnull(strstr(text, "<label id=5>Accept</label>"));
	sky_page_tree_free(t);
}
END_TEST

/* A <label> named otherwise than its text says so (five rating stars);
 * one named by its text does not repeat it. */
START_TEST(labels_named_apart_from_their_text)
{
	const char *json =
	    "{\"elements\": ["
	    "{\"id\": \"1\", \"tag\": \"label\", \"interactable\": true,"
	    " \"attrs\": {\"title\": \"4 stars\", \"aria-label\": \"4 stars\"},"
	    " \"text\": \"\u2605\", \"label\": \"4 stars\"},"
	    "{\"id\": \"2\", \"tag\": \"label\", \"interactable\": true,"
	    " \"attrs\": {\"title\": \"5 stars\"},"
	    " \"text\": \"\u2605\", \"label\": \"5 stars\"},"
	    "{\"id\": \"3\", \"tag\": \"label\", \"interactable\": true,"
	    " \"text\": \"Accept\\nthe terms\", \"label\": \"Accept the "
	    "terms\"}"
	    "]}";
	sky_page_tree *t = render(json, 0);
	const char *text = sky_page_tree_text(t);
	ck_assert_msg(strstr(text, "<label id=1 label=\"4 stars\">\xe2\x98\x85"
	                           "</label>"),
	              "%s", text);
	ck_assert_ptr_nonnull(
	    strstr(text, "<label id=2 label=\"5 stars\">\xe2\x98\x85</label>"));
	ck_assert_ptr_null(strstr(text, "title=")); /* same as the label */
	ck_assert_ptr_nonnull(strstr(text, "<label id=3>Accept"));
	ck_assert_uint_eq(count(text, "label=\"Accept"), 0);
	sky_page_tree_free(t);
}
END_TEST

/* Long values are cut with a note of how much is left out (counted in
 * characters, not bytes); a text area shows more than a field. */
START_TEST(long_values_say_what_is_left_out)
{
	skyx_buf b = {0};
	skyx_buf_puts(&b,
	              "{\"elements\": [{\"id\": \"1\", \"tag\": "
	              "\"textarea\", \"interactable\": true, \"value\": \"");
	for (int i = 0; i < 3000; i++)
		skyx_buf_putc(&b, 'a' + i % 26);
	skyx_buf_puts(&b, "\"}, {\"id\": \"2\", \"tag\": \"input\", "
	                  "\"interactable\": true, \"value\": \"");
	for (int i = 0; i < 300; i++)
		skyx_buf_puts(&b, "\xc3\xa9"); /* é: two bytes */
	skyx_buf_puts(&b, "\"}, {\"id\": \"3\", \"tag\": \"input\", "
	                  "\"interactable\": true, \"value\": \"short\"}]}");
	sky_page_tree *t = render(b.data, 0);
	const char *text = sky_page_tree_text(t);
	ck_assert_msg(strstr(text, "\xe2\x80\xa6 [1500 more characters]\">"),
	              "%s", text);
	/* 200 bytes of the field: 100 characters shown, 200 left */
	ck_assert_ptr_nonnull(
	    strstr(text, "\xe2\x80\xa6 [200 more characters]\">"));
	ck_assert_ptr_nonnull(strstr(text, "value=\"short\">"));
	sky_page_tree_free(t);
	skyx_buf_free(&b);
}
END_TEST

START_TEST(bad_input_is_refused)
{
	sky_page_tree *t = NULL;
	ck_assert_int_eq(sky_page_render("{oops", NULL, &t), SKY_EPARSE);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(sky_page_render("{\"url\": \"x\"}", NULL, &t),
	                 SKY_EPARSE);
	ck_assert_int_eq(sky_page_render("[1, 2]", NULL, &t), SKY_EPARSE);
	ck_assert_int_eq(sky_page_render(NULL, NULL, &t), SKY_EINVALID);
	/* an empty page renders to nothing, not to an error */
	ck_assert_int_eq(sky_page_render("{\"elements\": []}", NULL, &t), 0);
	ck_assert_str_eq(sky_page_tree_text(t), "");
	ck_assert_uint_eq(sky_page_tree_tokens(t), 0);
	sky_page_tree_free(t);
	sky_page_tree_free(NULL);
	/* strange shapes inside are skipped, not trusted */
	ck_assert_int_eq(sky_page_render("{\"elements\": [1, null, {\"tag\": "
	                                 "7}, {\"children\": \"x\"}]}",
	                                 NULL, &t),
	                 0);
	sky_page_tree_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("page");
	TCase *tc = tcase_create("render");
	tcase_add_test(tc, script_is_embedded);
	tcase_add_test(tc, form_tree_is_compact_and_complete);
	tcase_add_test(tc, flattened_elements_and_index);
	tcase_add_test(tc, url_placeholders_restore);
	tcase_add_test(tc, frames_are_written_in_place);
	tcase_add_test(tc, table_fits_without_cuts_and_with_them);
	tcase_add_test(tc, every_row_of_a_long_table_can_be_acted_on);
	tcase_add_test(tc, a_long_tables_odd_cells_are_written_as_they_are);
	tcase_add_test(tc, drop_order_is_monotonic_down_to_a_hard_cut);
	tcase_add_test(tc, text_and_attributes_are_escaped);
	tcase_add_test(tc, labels_named_apart_from_their_text);
	tcase_add_test(tc, long_values_say_what_is_left_out);
	tcase_add_test(tc, bad_input_is_refused);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
