/* Controls a person can use on pages built the way real sites build
 * them (tests/pages/browser/controls): the snapshot names each one and
 * gives it an id, clicking that id through the browser plugin does what
 * a person's click does (read back from the page), and what is not a
 * control gets no id. */
#include <string.h>

#include "page/page.h"
#include "skybrowser.h"
#include "skytest.h"

static skyb_site *site;
static void *browser, *ctx;

static void setup(void)
{
	site = skyb_site_start();
	browser = skyb_browser_shared();
	ctx = skyb_context(browser, NULL);
}

static void teardown(void)
{
	skyb_provider()->context_close(ctx);
	skyb_provider()->destroy(browser);
	skyb_site_stop(site);
}

static void open_page(const char *path)
{
	char *url = skyb_url(site, path);
	json_decref(skyb_navigate(ctx, url));
	json_decref(skyb_settle(ctx));
	free(url);
}

/* The page's snapshot rendered as the planner sees it. */
static sky_page_tree *look(void)
{
	json_t *snap = skyb_snapshot(ctx);
	sky_page_tree *t = NULL;
	ck_assert_int_eq(sky_page_render_json(snap, NULL, &t), 0);
	json_decref(snap);
	return t;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The nth (from 0) interactable element whose label (or text when it
 * has none) starts with `name`, of tag `tag` unless NULL. */
static json_t *nth_named(sky_page_tree *t, const char *tag, const char *name,
                         int nth)
{
	size_t i;
	json_t *e;
	json_array_foreach (sky_page_tree_elements(t), i, e) {
		const char *l =
		    str(e, "label") ? str(e, "label") : str(e, "text");
		if (tag && strcmp(str(e, "tag"), tag))
			continue;
		if (l && !strncmp(l, name, strlen(name)) && nth-- == 0)
			return e;
	}
	return NULL;
}

static const char *id_of(sky_page_tree *t, const char *tag, const char *name,
                         int nth)
{
	json_t *e = nth_named(t, tag, name, nth);
	ck_assert_msg(e != NULL, "no element %s \"%s\" #%d in the tree:\n%s",
	              tag ? tag : "*", name, nth, sky_page_tree_text(t));
	return str(e, "id");
}

static void click(const char *id)
{
	json_decref(skyb_act_ok(
	    ctx, "{\"action_type\":\"click\",\"element_id\":\"%s\"}", id));
}

static void expect_page(const char *expr, const char *want)
{
	char *got = skyb_eval_str(ctx, expr);
	ck_assert_msg(!strcmp(got, want), "%s is \"%s\", expected \"%s\"", expr,
	              got, want);
	free(got);
}

/* Item 1: -/+ spans with addEventListener handlers, no cursor or role;
 * the hover, scroll and page-wide listeners make nothing clickable. */
START_TEST(listener_spans_are_controls)
{
	open_page("controls/food.html");
	sky_page_tree *t = look();
	ck_assert_msg(json_array_size(sky_page_tree_elements(t)) == 4,
	              "expected the four -/+ buttons only:\n%s",
	              sky_page_tree_text(t));
	click(id_of(t, "span", "plus", 0));
	expect_page("document.querySelector('[data-id=margherita] .qty')"
	            ".textContent",
	            "2");
	click(id_of(t, "span", "minus", 1));
	expect_page("document.querySelector('[data-id=diavola] .qty')"
	            ".textContent",
	            "0");
	expect_page("document.getElementById('total').textContent",
	            "Total: 2 pizzas");
	sky_page_tree_free(t);
}
END_TEST

/* Items 1 and 3: a feed's actions are divs with listeners, drawn by an
 * icon sprite; named by their icon classes. */
START_TEST(feed_actions_are_named_controls)
{
	open_page("controls/feed.html");
	sky_page_tree *t = look();
	for (int tw = 0; tw < 2; tw++) {
		id_of(t, "div", "reply", tw);
		id_of(t, "div", "retweet", tw);
		id_of(t, "div", "like", tw);
		id_of(t, "div", "more", tw);
	}
	click(id_of(t, "div", "like", 0));
	expect_page("document.querySelector('[data-tweet-id=\"101\"] "
	            ".action-like').className",
	            "action action-like liked");
	expect_page("document.querySelector('[data-tweet-id=\"101\"] "
	            ".action-like .count').textContent",
	            "12");
	click(id_of(t, "div", "reply", 1)); /* a mousedown listener */
	expect_page("String(window.replyTo)", "102");
	click(id_of(t, "div", "more", 1));
	expect_page("document.getElementById('menu').hidden ? '' : "
	            "document.getElementById('menu').textContent",
	            "Menu for 102");
	sky_page_tree_free(t);
}
END_TEST

/* Items 2 and 3: targets inside one pointer region each get an id: the
 * send bar's Reply and Forward (its centre is the gap between them),
 * an inbox row's CSS-drawn star and trash icons beside the row itself,
 * and the items of a custom select's open list. */
START_TEST(parts_of_a_pointer_region_are_controls)
{
	open_page("controls/mail.html");
	sky_page_tree *t = look();
	const char *text = sky_page_tree_text(t);
	ck_assert_msg(!strstr(text, "label=\"Reply Forward\""),
	              "the send bar is one element:\n%s", text);
	click(id_of(t, "span", "Forward", 0));
	expect_page("document.getElementById('status').textContent",
	            "Forwarding");
	click(id_of(t, "span", "Reply", 0));
	expect_page("document.getElementById('status').textContent",
	            "Replying");

	/* the star of the second row, the trash of the first, the row */
	click(id_of(t, "span", "star", 1));
	expect_page("document.querySelector('[data-id=\"2\"]').className",
	            "mail-row starred");
	expect_page("document.getElementById('subject').textContent",
	            "Quarterly report");
	click(id_of(t, "span", "delete", 0));
	expect_page("String(document.querySelectorAll('.mail-row').length)",
	            "1");
	click(id_of(t, "div", "Alan", 0));
	expect_page("document.getElementById('subject').textContent",
	            "Tape drives for sale");

	click(id_of(t, "div", "Label: none", 0));
	sky_page_tree_free(t);
	t = look();
	id_of(t, "li", "Work", 0);
	id_of(t, "li", "Travel", 0);
	click(id_of(t, "li", "Family", 0));
	expect_page("document.querySelector('.cselect-value').textContent",
	            "Label: Family");
	sky_page_tree_free(t);
}
END_TEST

/* Item 4: a CSS star rating: hidden radios, labels drawn as one star
 * each and named by aria-label and title only. */
START_TEST(star_labels_are_told_apart)
{
	open_page("controls/form.html");
	sky_page_tree *t = look();
	const char *text = sky_page_tree_text(t);
	static const char *const stars[] = {"5 stars", "4 stars", "3 stars",
	                                    "2 stars", "1 star"};
	for (int i = 0; i < 5; i++) {
		char needle[32];
		snprintf(needle, sizeof needle, "label=\"%s\"", stars[i]);
		ck_assert_msg(strstr(text, needle), "no %s in:\n%s", needle,
		              text);
	}
	click(id_of(t, "label", "4 stars", 0));
	expect_page("document.querySelector('input[name=rating]:checked')"
	            ".value",
	            "4");
	sky_page_tree_free(t);
}
END_TEST

/* Item 5: "[ ] Genre [ ] Year": fields named by the text after them. */
START_TEST(fields_named_by_the_text_after_them)
{
	open_page("controls/form.html");
	sky_page_tree *t = look();
	const char *text = sky_page_tree_text(t);
	json_t *genre = nth_named(t, "input", "Genre", 0);
	json_t *year = nth_named(t, "input", "Year", 0);
	ck_assert_msg(genre && year,
	              "fields not named by the text after them:\n%s", text);
	ck_assert_str_eq(str(genre, "name"), "genre");
	ck_assert_str_eq(str(year, "name"), "year");
	ck_assert_ptr_nonnull(strstr(text, "label=\"Year\""));
	json_t *artist = nth_named(t, "input", "Artist", 0);
	ck_assert_ptr_nonnull(artist); /* text before still names it */
	ck_assert_str_eq(str(artist, "name"), "artist");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":\"1971\"}",
	                        str(year, "id")));
	expect_page("document.querySelector('[name=year]').value", "1971");
	expect_page("document.querySelector('[name=genre]').value", "");
	sky_page_tree_free(t);
}
END_TEST

/* Item 6: a long text area: the tree shows its start and says how much
 * more there is; the page text given to extraction has all of it. */
START_TEST(long_text_areas_are_read_to_the_end)
{
	open_page("controls/form.html");
	json_t *snap = skyb_snapshot(ctx);
	sky_page_tree *t = NULL;
	ck_assert_int_eq(sky_page_render_json(snap, NULL, &t), 0);
	const char *text = sky_page_tree_text(t);
	ck_assert_ptr_nonnull(strstr(text, "Side one opens"));
	ck_assert_ptr_null(strstr(text, "THE-LAST-WORD"));
	ck_assert_msg(strstr(text, "more characters]\""),
	              "no marker for the rest:\n%s", text);
	ck_assert_msg(strstr(str(snap, "text"), "THE-LAST-WORD"),
	              "the page text lacks the end of the text area:\n%s",
	              str(snap, "text"));
	sky_page_tree_free(t);
	json_decref(snap);
}
END_TEST

/* Table cells that are controls of their own: the snapshot threw on
 * them (a cell of a shown row had no box). */
START_TEST(clickable_cells_are_controls)
{
	open_page("controls/folders.html");
	sky_page_tree *t = look();
	click(id_of(t, "td", "Sent", 0));
	expect_page("document.getElementById('folder').textContent", "Sent");
	click(id_of(t, "td", "Spam", 0));
	expect_page("document.title", "Spam");
	sky_page_tree_free(t);
}
END_TEST

/* Item 7: a datepicker's Prev/Next are <a> without href, served by a
 * listener on the widget (delegated), as jQuery UI wires them. */
START_TEST(delegated_widget_buttons_are_controls)
{
	open_page("controls/datepicker.html");
	sky_page_tree *t = look();
	click(id_of(t, "a", "Next", 0));
	expect_page("document.querySelector('.ui-datepicker-month')"
	            ".textContent",
	            "April");
	sky_page_tree_free(t);
	t = look();
	click(id_of(t, "a", "Prev", 0));
	sky_page_tree_free(t);
	t = look();
	click(id_of(t, "a", "Prev", 0));
	expect_page("document.querySelector('.ui-datepicker-month')"
	            ".textContent",
	            "February");
	sky_page_tree_free(t);
}
END_TEST

/* A framework app (one listener per event type on its root, as React
 * does): the root and the plain cards get no id, the no-href link its
 * handler serves does. */
START_TEST(a_framework_root_is_not_a_control)
{
	open_page("controls/app.html");
	sky_page_tree *t = look();
	ck_assert_msg(json_array_size(sky_page_tree_elements(t)) == 1,
	              "expected only the Show more link:\n%s",
	              sky_page_tree_text(t));
	click(id_of(t, "a", "Show more", 0));
	expect_page("String(document.querySelectorAll('.card').length)", "6");
	sky_page_tree_free(t);
}
END_TEST

/* The listener notes live in the page's world but leave nothing the
 * site can find: no attribute, no global; and a page cannot make an
 * element a control by forging the notes' events. */
START_TEST(the_notes_are_invisible_to_the_site)
{
	open_page("controls/food.html");
	const char *count = "String([...document.querySelectorAll('*')]"
	                    ".reduce((n, e) => n + e.attributes.length, 0))";
	char *before = skyb_eval_str(ctx, count);
	sky_page_tree *t = look();
	expect_page(count, before);
	free(before);
	expect_page("Object.getOwnPropertyNames(window).filter((k) => "
	            "/sky/i.test(k)).join(',')",
	            "");
	sky_page_tree_free(t);
	/* a forger's guess at the event names changes nothing */
	json_decref(skyb_eval(
	    ctx, "(() => { for (const n of ['skym', 'skyq', 'm', 'q']) "
	         "document.querySelectorAll('.news div').forEach((d) => "
	         "d.dispatchEvent(new Event(n, {composed: true}))); return 1; "
	         "})()"));
	t = look();
	ck_assert_uint_eq(json_array_size(sky_page_tree_elements(t)), 4);
	sky_page_tree_free(t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_controls");
	SKYB_TEST(s, listener_spans_are_controls, setup, teardown, 90);
	SKYB_TEST(s, feed_actions_are_named_controls, setup, teardown, 90);
	SKYB_TEST(s, parts_of_a_pointer_region_are_controls, setup, teardown,
	          90);
	SKYB_TEST(s, star_labels_are_told_apart, setup, teardown, 90);
	SKYB_TEST(s, fields_named_by_the_text_after_them, setup, teardown, 90);
	SKYB_TEST(s, long_text_areas_are_read_to_the_end, setup, teardown, 90);
	SKYB_TEST(s, clickable_cells_are_controls, setup, teardown, 90);
	SKYB_TEST(s, delegated_widget_buttons_are_controls, setup, teardown,
	          90);
	SKYB_TEST(s, a_framework_root_is_not_a_control, setup, teardown, 90);
	SKYB_TEST(s, the_notes_are_invisible_to_the_site, setup, teardown, 90);
	return s;
}

int main(void)
{
	skyb_shared_start();
	int rc = skytest_run(suite());
	skyb_shared_stop();
	return rc;
}
