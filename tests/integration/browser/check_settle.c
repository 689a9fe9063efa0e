/* Observing at the right moment, in real Chromium: settle after typing
 * waits for the page's reaction (a debounced autocomplete), a page that
 * never stops ticking is observed after a short bounded wait with its
 * late content, and a fetch whose body the page never reads does not hold
 * the network window open until the long-request cut-off. Each test
 * asserts what the next snapshot saw and how the settle ended. */
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

static void go(const char *path)
{
	char *url = skyb_url(site, path);
	json_decref(skyb_navigate(ctx, url));
	free(url);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The page text of a fresh snapshot, malloc'd. */
static char *page_text(void)
{
	json_t *snap = skyb_snapshot(ctx);
	char *t = strdup(str(snap, "text") ? str(snap, "text") : "");
	json_decref(snap);
	return t;
}

static void expect_text(const char *what)
{
	char *t = page_text();
	ck_assert_msg(strstr(t, what), "the page showed \"%s\", not \"%s\"", t,
	              what);
	free(t);
}

START_TEST(typing_waits_for_the_debounced_suggestions)
{
	go("settle/autocomplete.html");
	json_decref(skyb_settle(ctx));
	json_t *snap = skyb_snapshot(ctx);
	char *id = strdup(skyb_id(snap, "input", "City"));
	json_decref(snap);

	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\": \"input_text\", "
	                        "\"element_id\": \"%s\", \"text\": \"al\"}",
	                        id));
	json_decref(skyb_settle(ctx));
	expect_text("Suggestion al alpha");

	/* a keypress is typing too */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\": \"keypress\", "
	                        "\"element_id\": \"%s\", \"keys\": "
	                        "[\"Backspace\"]}",
	                        id));
	json_decref(skyb_settle(ctx));
	expect_text("Suggestion a gamma");
	free(id);
}
END_TEST

START_TEST(a_page_that_never_stops_ticking_is_observed_soon)
{
	go("settle/ticker.html");
	json_t *st = skyb_settle(ctx);
	char *txt = json_dumps(st, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(st, "settled")), "%s", txt);
	/* ended by the busy bound (or, with 100 ms windows, by a gap between
	 * two ticks on a loaded machine), never by the 5 s cap */
	ck_assert_msg(str(st, "ended") && (!strcmp(str(st, "ended"), "busy") ||
	                                   !strcmp(str(st, "ended"), "quiet")),
	              "%s", txt);
	free(txt);
	json_decref(st);
	/* the content that came at 200 ms was waited for */
	expect_text("Central bank holds rates");

	/* a page that is quiet is not called busy */
	json_decref(skyb_eval(ctx, "(() => { for (let i = 1; i < 99999; i++) "
	                           "clearInterval(i); return 1; })()"));
	st = skyb_settle(ctx);
	ck_assert_str_eq(str(st, "ended"), "quiet");
	json_decref(st);
}
END_TEST

START_TEST(an_unread_fetch_body_does_not_hold_the_network_window)
{
	go("settle/unread.html");
	json_t *st = skyb_settle(ctx);
	char *txt = json_dumps(st, JSON_COMPACT);
	ck_assert_msg(json_is_true(json_object_get(st, "settled")), "%s", txt);
	/* network quiet, not the long-request cut-off */
	ck_assert_msg(str(st, "ended") && !strcmp(str(st, "ended"), "quiet"),
	              "%s", txt);
	free(txt);
	json_decref(st);
	expect_text("Signed in as Dana");
}
END_TEST

/* Pages whose content comes late, built the way such pages are: a
 * request deferred after the load, a spinner replaced by the answer, a
 * long poll or a websocket held open beside the content's own request,
 * an animation that never ends. After one settle the snapshot must show
 * the final content. */
START_TEST(late_content_is_waited_for)
{
	static const struct {
		const char *path, *text;
	} pages[] = {
	    {"settle/late.html?ms=50", "Orders: alpha, beta, gamma"},
	    {"settle/late.html?ms=200", "Orders: alpha, beta, gamma"},
	    {"settle/late.html?ms=600", "Orders: alpha, beta, gamma"},
	    {"settle/spinner.html", "Balance: 1,204.50 EUR"},
	    {"settle/longpoll.html", "Inbox: 3 new messages"},
	    {"settle/websocket.html", "Lions 3 : 1 Tigers"},
	    {"settle/animate.html", "Welcome back, Sam"},
	    {"settle/unread.html", "Signed in as Dana"},
	    {"settle/raf.html", "Chart ready: 12 points"},
	    {"settle/idle.html", "Feed: 5 stories"},
	    {"settle/channel.html", "Cart: 2 items"},
	    {"settle/heavy.html", "Report ready: 42 rows"},
	    {"settle/chain.html", "Profile: Ada Lovelace"},
	};
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
		go(pages[i].path);
		json_t *st = skyb_settle(ctx);
		char *txt = json_dumps(st, JSON_COMPACT);
		char *t = page_text();
		ck_assert_msg(strstr(t, pages[i].text),
		              "%s: the page showed \"%s\", not \"%s\" "
		              "(settle: %s)",
		              pages[i].path, t, pages[i].text, txt);
		free(t);
		free(txt);
		json_decref(st);
	}
}
END_TEST

/* A long poll the last page left open is that page's: Chromium does
 * not always report it ended when the tab moves on, and it must not
 * hold the next page's settle until the long-request cut-off. */
START_TEST(a_request_of_the_last_page_does_not_hold_the_next)
{
	go("settle/longpoll.html"); /* its poll stays open 20 s */
	go("settle/unread.html");
	json_t *st = skyb_settle(ctx);
	char *txt = json_dumps(st, JSON_COMPACT);
	ck_assert_msg(str(st, "ended") && !strcmp(str(st, "ended"), "quiet"),
	              "%s", txt);
	free(txt);
	json_decref(st);
	expect_text("Signed in as Dana");
}
END_TEST

/* A single-page app's route change: the click only pushes a history
 * entry; the new view renders from data fetched on the router's next
 * turn. The settle after the click waits for it. */
START_TEST(an_spa_route_change_is_waited_for)
{
	go("settle/spa.html");
	json_decref(skyb_settle(ctx));
	json_t *snap = skyb_snapshot(ctx);
	char *id = strdup(skyb_id(snap, "a", "Orders"));
	json_decref(snap);
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\": \"click\", "
	                        "\"element_id\": \"%s\"}",
	                        id));
	free(id);
	json_decref(skyb_settle(ctx));
	expect_text("Order gamma");
}
END_TEST

/* A click that starts a navigation and asks to return at its commit
 * ("navigation_wait": "commit", what the agent asks, since it settles
 * before it reads the page again) returns on the new document while its
 * 1.5 s picture is still loading; the settle, and any next action,
 * wait for that load. */
START_TEST(a_navigating_click_returns_at_the_commit_and_the_load_is_waited_for)
{
	for (int next = 0; next < 2; next++) {
		go("settle/to-gallery.html");
		json_decref(skyb_settle(ctx));
		json_t *snap = skyb_snapshot(ctx);
		char *id = strdup(skyb_id(snap, "a", "Open the gallery"));
		json_decref(snap);
		json_t *r = skyb_act_ok(ctx,
		                        "{\"action_type\": \"click\", "
		                        "\"element_id\": \"%s\", "
		                        "\"navigation_wait\": \"commit\"}",
		                        id);
		free(id);
		char *txt = json_dumps(r, JSON_COMPACT);
		ck_assert_msg(json_is_true(json_object_get(r, "navigated")) &&
		                  strstr(str(r, "url"), "/gallery.html"),
		              "%s", txt);
		free(txt);
		json_decref(r);
		char *rs = skyb_eval_str(ctx, "document.readyState");
		ck_assert_msg(strcmp(rs, "complete"),
		              "the click returned after the load (%s)", rs);
		free(rs);
		if (next) {
			/* the next action starts on the loaded page */
			json_decref(skyb_act_ok(ctx,
			                        "{\"action_type\": "
			                        "\"scroll\", \"direction\": "
			                        "\"down\"}"));
			rs = skyb_eval_str(ctx, "document.readyState");
			ck_assert_str_eq(rs, "complete");
			free(rs);
		} else {
			json_t *st = skyb_settle(ctx);
			txt = json_dumps(st, JSON_COMPACT);
			ck_assert_msg(
			    json_is_true(json_object_get(st, "settled")), "%s",
			    txt);
			free(txt);
			json_decref(st);
			expect_text("Pictures loaded");
		}
	}
}
END_TEST

static unsigned char *shot(const char *opts, size_t *len)
{
	unsigned char *img = NULL;
	char *err = NULL;
	int rc = skyb_provider()->screenshot(ctx, opts, &img, len, &err);
	ck_assert_msg(rc == 0 && img && *len > 100, "screenshot: %s",
	              err ? err : "?");
	return img;
}

/* Asked to ("screenshot" in its options), the settle captures the page
 * while its quiet windows run and keeps the capture only when nothing
 * changed after it was sent: the screenshot call that follows gets the
 * settled page, the same picture a capture of its own takes. Pages whose
 * content comes late are pictured with it. */
START_TEST(a_screenshot_taken_ahead_is_of_the_settled_page)
{
	static const char *pages[] = {
	    "settle/to-gallery.html",  "settle/late.html?ms=50",
	    "settle/late.html?ms=200", "settle/spinner.html",
	    "settle/unread.html",
	};
	const char *png = "{\"format\": \"png\"}";
	int ahead = 0;
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
		go(pages[i]);
		char *res = NULL, *err = NULL;
		int rc = skyb_provider()->settle(
		    ctx, "{\"screenshot\": {\"format\": \"png\"}}", &res, &err);
		ck_assert_msg(rc == 0, "settle: %s", err ? err : "?");
		json_t *st = json_loads(res, 0, NULL);
		free(res);
		ck_assert_msg(
		    json_is_boolean(json_object_get(st, "screenshot_ahead")),
		    "%s: the settle did not say whether it took the "
		    "screenshot ahead",
		    pages[i]);
		ahead += json_is_true(json_object_get(st, "screenshot_ahead"));
		json_decref(st);
		size_t la = 0, lb = 0;
		unsigned char *a = shot(png, &la), *b = shot(png, &lb);
		ck_assert_msg(la == lb && !memcmp(a, b, la),
		              "%s: the screenshot after the settle is not of "
		              "the settled page",
		              pages[i]);
		free(a);
		free(b);
	}
	/* at least the static page was captured during its quiet windows */
	ck_assert_int_ge(ahead, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_settle");
	SKYB_TEST(s, typing_waits_for_the_debounced_suggestions, setup,
	          teardown, 90);
	SKYB_TEST(s, a_page_that_never_stops_ticking_is_observed_soon, setup,
	          teardown, 90);
	SKYB_TEST(s, an_unread_fetch_body_does_not_hold_the_network_window,
	          setup, teardown, 90);
	SKYB_TEST(s, late_content_is_waited_for, setup, teardown, 120);
	SKYB_TEST(s, an_spa_route_change_is_waited_for, setup, teardown, 90);
	SKYB_TEST(s, a_request_of_the_last_page_does_not_hold_the_next, setup,
	          teardown, 90);
	SKYB_TEST(
	    s,
	    a_navigating_click_returns_at_the_commit_and_the_load_is_waited_for,
	    setup, teardown, 90);
	SKYB_TEST(s, a_screenshot_taken_ahead_is_of_the_settled_page, setup,
	          teardown, 90);
	return s;
}

int main(void)
{
	skyb_shared_start();
	int rc = skytest_run(suite());
	skyb_shared_stop();
	return rc;
}
