/* Browser actions that must do what they report (issue 13): clicks in
 * iframes placed low on a page, click points chosen by hit-testing, keys
 * on read-only fields, dates typed as a page shows them, and drags. Each
 * is checked by reading the page back (main-world evaluate), never by
 * "no error" alone. */
#include <stdio.h>
#include <string.h>

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

static json_t *open_page(const char *path)
{
	char *url = skyb_url(site, path);
	json_decref(skyb_navigate(ctx, url));
	json_decref(skyb_settle(ctx));
	free(url);
	return skyb_snapshot(ctx);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The first element (depth first) with this name attribute. */
static json_t *by_name(json_t *arr, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		const char *n = str(json_object_get(e, "attrs"), "name");
		if (n && !strcmp(n, name))
			return e;
		json_t *r = by_name(json_object_get(e, "children"), name);
		if (r)
			return r;
	}
	return NULL;
}

static const char *name_id(json_t *snap, const char *name)
{
	json_t *e = by_name(json_object_get(snap, "elements"), name);
	ck_assert_msg(e != NULL, "no field named %s", name);
	return str(e, "id");
}

/* The result of an action that must fail with this error kind. */
static json_t *act_fails(const char *kind, const char *action)
{
	json_t *r = skyb_act(ctx, action);
	char *txt = json_dumps(r, JSON_COMPACT);
	ck_assert_msg(json_is_false(json_object_get(r, "success")) &&
	                  str(r, "error") && !strcmp(str(r, "error"), kind),
	              "%s: expected %s, got %s", action, kind, txt);
	ck_assert_ptr_nonnull(str(r, "message"));
	free(txt);
	return r;
}

static char *fmt(const char *f, const char *a)
{
	char *s = skytest_subst(f, a);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* --- 1. iframes placed low on the page ------------------------------------ */

START_TEST(click_in_an_iframe_below_the_fold)
{
	/* frame viewport 760x420 at y=543 of an 800 px window; the button
	 * is at y=300 of the frame: 843, below the window until scrolled */
	json_t *s = open_page("lowframe.html");
	const char *send = skyb_id(s, "button", "Send message");
	ck_assert_msg(strchr(send, '.') != NULL, "not a frame id: %s", send);
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        send);
	json_decref(r);
	char *out = skyb_eval_str(ctx, "document.getElementById('compose')."
	                               "contentDocument.getElementById('out')."
	                               "textContent");
	ck_assert_str_eq(out, "sent");
	free(out);
	/* the page was scrolled to show it, as a person would */
	ck_assert_int_gt(skyb_eval_int(ctx, "Math.round(scrollY)"), 0);
	/* hover reaches it the same way */
	json_decref(skyb_eval(ctx, "scrollTo(0, 0), 0"));
	r = skyb_act_ok(
	    ctx, "{\"action_type\":\"hover\",\"element_id\":\"%s\"}", send);
	ck_assert(json_is_true(json_object_get(r, "hovered")));
	json_decref(r);
	json_decref(s);
}
END_TEST

START_TEST(click_in_a_frame_inside_a_low_frame)
{
	/* outer frame at y=543 (420 high); inside it, at y=300 of a taller
	 * document, the inner frame; its button at y=300 of the inner */
	json_t *s = open_page("nested_outer.html");
	const char *send = skyb_id(s, "button", "Send message");
	ck_assert_msg(strchr(send, '.') != NULL, "not a frame id: %s", send);
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        send));
	char *out =
	    skyb_eval_str(ctx, "document.getElementById('mid').contentDocument."
	                       "getElementById('inner').contentDocument."
	                       "getElementById('out').textContent");
	ck_assert_str_eq(out, "sent");
	free(out);
	json_decref(s);
}
END_TEST

START_TEST(click_outside_the_window_fails_not_visible)
{
	/* a fixed frame whose lower part is below the window for good */
	json_t *s = open_page("fixedframe.html");
	const char *send = skyb_id(s, "button", "Send message");
	char *a =
	    fmt("{\"action_type\":\"click\",\"element_id\":\"%s\"}", send);
	json_t *r = act_fails("not_visible", a);
	ck_assert_msg(strstr(str(r, "message"), "outside the window"), "%s",
	              str(r, "message"));
	json_decref(r);
	free(a);
	char *out = skyb_eval_str(ctx, "document.getElementById('chat')."
	                               "contentDocument.getElementById('out')."
	                               "textContent");
	ck_assert_str_eq(out, "");
	free(out);
	json_decref(s);
}
END_TEST

START_TEST(click_in_a_covered_frame_fails_covered)
{
	/* the parent page's consent layer lies over the frame's button */
	json_t *s = open_page("coveredframe.html");
	const char *send = skyb_id(s, "button", "Send message");
	char *a =
	    fmt("{\"action_type\":\"click\",\"element_id\":\"%s\"}", send);
	json_t *r = act_fails("covered", a);
	ck_assert_msg(strstr(str(r, "covered_by"), "consent"), "%s",
	              str(r, "covered_by"));
	json_decref(r);
	char *out = skyb_eval_str(ctx, "document.getElementById('compose')."
	                               "contentDocument.getElementById('out')."
	                               "textContent");
	ck_assert_str_eq(out, "");
	free(out);
	/* once the layer is gone the same click goes through */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        skyb_id(s, "button", "I agree")));
	json_decref(skyb_act_ok(ctx, "%s", a));
	free(a);
	out = skyb_eval_str(ctx, "document.getElementById('compose')."
	                         "contentDocument.getElementById('out')."
	                         "textContent");
	ck_assert_str_eq(out, "sent");
	free(out);
	json_decref(s);
}
END_TEST

/* --- 2. the click point is hit-tested ------------------------------------- */

/* The snapshot element whose text holds both words. */
static json_t *with_both(json_t *arr, const char *a, const char *b)
{
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e) {
		if (!json_is_object(e))
			continue;
		json_t *r = with_both(json_object_get(e, "children"), a, b);
		if (r)
			return r;
		char *all = json_dumps(e, JSON_COMPACT);
		int hit = str(e, "id") && strstr(all, a) && strstr(all, b);
		free(all);
		if (hit)
			return e;
	}
	return NULL;
}

START_TEST(click_lands_on_the_element_not_the_gap)
{
	/* .email-send (role=button, pointer-events: none) holds Reply and
	 * Forward with a 17 px gap in its centre: the centre reaches the
	 * reading pane behind it */
	json_t *s = open_page("email.html");
	json_t *bar =
	    with_both(json_object_get(s, "elements"), "Reply", "Forward");
	char *dump = json_dumps(s, JSON_COMPACT);
	ck_assert_msg(bar != NULL, "no element holds both buttons: %s", dump);
	free(dump);
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        str(bar, "id"));
	char *rt = json_dumps(r, JSON_COMPACT);
	char *lg = skyb_eval_str(ctx, "document.getElementById('log')."
	                              "textContent");
	ck_assert_msg(str(r, "clicked") && strstr(str(r, "clicked"), "Reply"),
	              "result %s, page log %s", rt, lg);
	free(rt);
	free(lg);
	json_decref(r);
	char *log = skyb_eval_str(ctx, "document.getElementById('log')."
	                               "textContent");
	ck_assert_str_eq(log, "reply;");
	free(log);
	json_decref(s);
}
END_TEST

/* --- 3 and 4. read-only fields, dates ------------------------------------- */

START_TEST(keys_reach_a_read_only_date_picker)
{
	json_t *s = open_page("dates.html");
	const char *bday = name_id(s, "birthday");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"keypress\","
	                        "\"element_id\":\"%s\",\"keys\":"
	                        "[\"ArrowDown\",\"Enter\"]}",
	                        bday));
	char *keys = skyb_eval_str(ctx, "document.getElementById('keys')."
	                                "textContent");
	ck_assert_str_eq(keys, "ArrowDown;Enter;");
	free(keys);
	char *v = skyb_eval_str(ctx, "document.querySelector('[name=birthday]')"
	                             ".value");
	ck_assert_str_eq(v, "1990-04-01");
	free(v);
	/* typing into it is still refused, and the message says why */
	char *a = fmt("{\"action_type\":\"input_text\",\"element_id\":\"%s\","
	              "\"text\":\"1990-05-05\"}",
	              bday);
	json_t *r = act_fails("not_interactable", a);
	ck_assert_msg(strstr(str(r, "message"), "read-only"), "%s",
	              str(r, "message"));
	json_decref(r);
	free(a);
	json_decref(s);
}
END_TEST

static void date_takes(json_t *s, const char *name, const char *typed,
                       const char *value)
{
	char *sel = NULL;
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"input_text\","
	                        "\"element_id\":\"%s\",\"text\":\"%s\"}",
	                        name_id(s, name), typed);
	ck_assert_str_eq(str(r, "value"), value);
	json_decref(r);
	ck_assert(asprintf(&sel, "document.querySelector('[name=%s]').value",
	                   name) >= 0);
	char *v = skyb_eval_str(ctx, sel);
	ck_assert_msg(!strcmp(v, value), "%s: typed %s, the page holds %s",
	              name, typed, v);
	free(v);
	free(sel);
}

START_TEST(dates_typed_as_the_page_shows_them)
{
	json_t *s = open_page("dates.html");
	date_takes(s, "checkin", "03/15/2024", "2024-03-15");
	date_takes(s, "checkin", "15.04.2024", "2024-04-15");
	date_takes(s, "checkin", "May 2, 2024", "2024-05-02");
	date_takes(s, "checkin", "2024-06-30", "2024-06-30");
	date_takes(s, "meeting", "03/15/2024 2:30 PM", "2024-03-15T14:30");
	date_takes(s, "expiry", "March 2027", "2027-03");
	date_takes(s, "arrival", "9:05 pm", "21:05");
	/* what cannot be read fails and names the format */
	char *a = fmt("{\"action_type\":\"input_text\",\"element_id\":\"%s\","
	              "\"text\":\"next Tuesday\"}",
	              name_id(s, "checkin"));
	json_t *r = act_fails("invalid_action", a);
	ck_assert_msg(strstr(str(r, "message"), "yyyy-mm-dd"), "%s",
	              str(r, "message"));
	json_decref(r);
	free(a);
	char *v = skyb_eval_str(ctx, "document.querySelector('[name=checkin]')"
	                             ".value");
	ck_assert_str_eq(v, "2024-06-30");
	free(v);
	json_decref(s);
}
END_TEST

/* --- 5. drag ---------------------------------------------------------------- */

START_TEST(drag_creates_a_calendar_event)
{
	json_t *s = open_page("calendar.html");
	const char *from = skyb_id(s, NULL, "09:00");
	const char *to = skyb_id(s, NULL, "11:00");
	json_t *r = skyb_act_ok(ctx,
	                        "{\"action_type\":\"drag\",\"element_id\":"
	                        "\"%s\",\"target_element_id\":\"%s\"}",
	                        from, to);
	json_decref(r);
	char *ev = skyb_eval_str(ctx, "JSON.stringify(window.events)");
	ck_assert_str_eq(ev, "[{\"from\":\"09:00\",\"to\":\"11:00\"}]");
	free(ev);
	/* the provider's own drag callback takes the same action */
	char *text = NULL, *err = NULL, *a = NULL;
	ck_assert(asprintf(&a,
	                   "{\"element_id\":\"%s\",\"target_element_id\":"
	                   "\"%s\"}",
	                   skyb_id(s, NULL, "12:00"),
	                   skyb_id(s, NULL, "13:30")) >= 0);
	ck_assert_ptr_nonnull(skyb_provider()->drag);
	ck_assert_int_eq(skyb_provider()->drag(ctx, a, &text, &err), 0);
	free(a);
	json_t *res = json_loads(text, 0, NULL);
	ck_assert_msg(json_is_true(json_object_get(res, "success")), "%s",
	              text);
	json_decref(res);
	free(text);
	free(err);
	ev = skyb_eval_str(ctx, "JSON.stringify(window.events[1])");
	ck_assert_str_eq(ev, "{\"from\":\"12:00\",\"to\":\"13:30\"}");
	free(ev);
	json_decref(s);
}
END_TEST

START_TEST(drag_moves_a_slider)
{
	json_t *s = open_page("calendar.html");
	const char *vol = name_id(s, "volume");
	/* from the slider to three quarters of its track */
	json_t *pt = skyb_eval(
	    ctx, "(() => { const r = document.querySelector('[name=volume]')"
	         ".getBoundingClientRect(); return {x: r.left + r.width * 0.75,"
	         " y: r.top + r.height / 2}; })()");
	json_t *r = skyb_act_ok(
	    ctx,
	    "{\"action_type\":\"drag\",\"element_id\":\"%s\",\"to\":{\"x\":%f,"
	    "\"y\":%f}}",
	    vol, json_number_value(json_object_get(pt, "x")),
	    json_number_value(json_object_get(pt, "y")));
	json_decref(r);
	json_decref(pt);
	long long v = skyb_eval_int(
	    ctx, "+document.querySelector('[name=volume]').value");
	ck_assert_msg(v >= 70 && v <= 80, "the slider is at %lld", v);
	char *shown = skyb_eval_str(ctx, "document.getElementById('vol')."
	                                 "textContent");
	ck_assert_msg(strstr(shown, "volume 7") != NULL, "%s", shown);
	free(shown);
	/* a point outside the window is refused */
	char *a = fmt("{\"action_type\":\"drag\",\"element_id\":\"%s\","
	              "\"to\":{\"x\":5000,\"y\":10}}",
	              vol);
	json_decref(act_fails("invalid_action", a));
	free(a);
	json_decref(s);
}
END_TEST

START_TEST(drag_reorders_a_sortable_list)
{
	/* draggable items: HTML5 drag and drop (dragstart, dragover, drop) */
	json_t *s = open_page("sortable.html");
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"drag\",\"element_id\":"
	                        "\"%s\",\"target_element_id\":\"%s\"}",
	                        skyb_id(s, NULL, "Salary"),
	                        skyb_id(s, NULL, "Team")));
	char *order = skyb_eval_str(ctx, "JSON.stringify([...document."
	                                 "querySelectorAll('li')].map((x) => "
	                                 "x.textContent))");
	ck_assert_str_eq(order,
	                 "[\"Location\",\"Salary\",\"Team\",\"Remote work\"]");
	free(order);
	json_decref(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_actions2");
	SKYB_TEST(s, click_in_an_iframe_below_the_fold, setup, teardown, 120);
	SKYB_TEST(s, click_in_a_frame_inside_a_low_frame, setup, teardown, 120);
	SKYB_TEST(s, click_outside_the_window_fails_not_visible, setup,
	          teardown, 120);
	SKYB_TEST(s, click_in_a_covered_frame_fails_covered, setup, teardown,
	          120);
	SKYB_TEST(s, click_lands_on_the_element_not_the_gap, setup, teardown,
	          120);
	SKYB_TEST(s, keys_reach_a_read_only_date_picker, setup, teardown, 120);
	SKYB_TEST(s, dates_typed_as_the_page_shows_them, setup, teardown, 120);
	SKYB_TEST(s, drag_creates_a_calendar_event, setup, teardown, 120);
	SKYB_TEST(s, drag_moves_a_slider, setup, teardown, 120);
	SKYB_TEST(s, drag_reorders_a_sortable_list, setup, teardown, 120);
	return s;
}

int main(void)
{
	skyb_shared_start();
	int rc = skytest_run(suite());
	skyb_shared_stop();
	return rc;
}
