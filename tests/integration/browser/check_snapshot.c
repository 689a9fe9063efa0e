/* The page snapshot in real Chromium: every control type with labels
 * bound in the usual ways, hidden fields left out, stable ids, nothing
 * written into the site's DOM, frames and shadow DOM, settling on late
 * content, a huge table under the token budget, every row of the
 * benchmark's orders table written compactly and still acted on. */
#include <string.h>

#include "page/page.h"
#include "planner/planner.h"
#include "skybrowser.h"
#include "skytest.h"
#include <skyx/str.h>

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

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The element whose attrs.name is `name`, anywhere in the tree. */
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

static void expect_label(json_t *snap, const char *name, const char *label)
{
	json_t *e = by_name(json_object_get(snap, "elements"), name);
	ck_assert_msg(e != NULL, "no field named %s", name);
	ck_assert_msg(json_is_true(json_object_get(e, "interactable")),
	              "%s is not interactable", name);
	ck_assert_ptr_nonnull(str(e, "id"));
	ck_assert_msg(str(e, "label") && !strcmp(str(e, "label"), label),
	              "%s: label \"%s\", expected \"%s\"", name,
	              str(e, "label") ? str(e, "label") : "(none)", label);
}

START_TEST(every_control_is_offered_with_its_label)
{
	open_page("form.html");
	json_t *snap = skyb_snapshot(ctx);
	json_t *els = json_object_get(snap, "elements");

	expect_label(snap, "first_name", "First name"); /* label[for] */
	expect_label(snap, "last_name", "Last name");   /* wrapping */
	expect_label(snap, "email", "Email address");   /* aria-labelledby */
	expect_label(snap, "phone", "Phone number");    /* aria-label */
	expect_label(snap, "website", "Your website");  /* placeholder */
	expect_label(snap, "password", "Choose a password"); /* title */
	expect_label(snap, "years", "Years of experience");  /* nearby */
	expect_label(snap, "referrer", "Referrer");          /* table th */
	expect_label(snap, "cover", "Cover letter");
	expect_label(snap, "cv", "CV");
	expect_label(snap, "start", "Start date");
	expect_label(snap, "colour", "Favourite colour");
	expect_label(snap, "salary", "Salary expectation");
	ck_assert(json_is_true(
	    json_object_get(by_name(els, "first_name"), "required")));

	json_t *country = by_name(els, "country");
	ck_assert_str_eq(str(country, "label"), "Country");
	json_t *opts = json_object_get(country, "options");
	ck_assert_int_eq(json_array_size(opts), 4);
	ck_assert_str_eq(str(json_array_get(opts, 1), "text"),
	                 "United Kingdom");
	ck_assert_str_eq(str(json_array_get(opts, 1), "value"), "gb");
	ck_assert(
	    json_is_true(json_object_get(json_array_get(opts, 0), "selected")));
	ck_assert(
	    json_is_true(json_object_get(json_array_get(opts, 3), "disabled")));
	ck_assert_ptr_nonnull(json_object_get(
	    json_object_get(by_name(els, "langs"), "attrs"), "multiple"));

	/* radio groups: fieldset legend, and the question before them */
	json_t *auth = by_name(els, "auth");
	ck_assert_str_eq(str(auth, "group"),
	                 "Are you authorised to work in the UK?");
	ck_assert_str_eq(str(auth, "label"), "Yes");
	ck_assert(json_is_false(json_object_get(auth, "checked")));
	ck_assert_str_eq(str(by_name(els, "source"), "group"),
	                 "How did you hear about us?");
	ck_assert_str_eq(str(by_name(els, "terms"), "label"),
	                 "I accept the terms");
	ck_assert_str_eq(str(by_name(els, "newsletter"), "label"),
	                 "Send me news");

	/* never offered: hidden in any of the usual ways */
	static const char *const hidden[] = {
	    "token",          "gone_field",        "ghost_field",
	    "zero_field",     "hidden_attr_field", "aria_hidden_field",
	    "offscreen_field"};
	for (size_t i = 0; i < sizeof hidden / sizeof *hidden; i++)
		ck_assert_msg(by_name(els, hidden[i]) == NULL,
		              "hidden field %s was offered", hidden[i]);
	ck_assert_ptr_null(skyb_find(snap, "button", "Hidden button"));

	ck_assert_ptr_nonnull(skyb_find(snap, "button", "Submit application"));
	ck_assert_str_eq(str(snap, "title"), "Application form");
	ck_assert_ptr_nonnull(
	    strstr(str(snap, "text"), "Apply for Senior Engineer"));

	/* the element tree for the prompt */
	sky_page_tree *tree = NULL;
	ck_assert_int_eq(sky_page_render_json(snap, NULL, &tree), 0);
	const char *text = sky_page_tree_text(tree);
	char needle[64];
	snprintf(needle, sizeof needle, "<input id=%s name=\"first_name\"",
	         str(by_name(els, "first_name"), "id"));
	ck_assert_msg(strstr(text, needle), "tree lacks %s:\n%s", needle, text);
	ck_assert_ptr_null(strstr(text, "token"));
	ck_assert_ptr_null(strstr(text, "utm_campaign"));
	ck_assert_ptr_nonnull(strstr(text, "href=\"{{u1}}\""));
	ck_assert_ptr_nonnull(strstr(sky_page_tree_url(tree, "{{u1}}"),
	                             "utm_campaign=autumn_recruitment_2025"));
	ck_assert_ptr_nonnull(
	    sky_page_tree_element(tree, str(by_name(els, "email"), "id")));
	sky_page_tree_free(tree);
	json_decref(snap);
}
END_TEST

/* Count every attribute in the page, as the site itself sees it. */
static long long attr_count(void)
{
	return skyb_eval_int(ctx, "[...document.querySelectorAll('*')].reduce("
	                          "(n, e) => n + e.attributes.length, 0)");
}

START_TEST(ids_are_stable_and_the_site_sees_nothing)
{
	open_page("form.html");
	long long before = attr_count();
	json_t *s1 = skyb_snapshot(ctx);
	json_t *s2 = skyb_snapshot(ctx);
	const char *id1 = skyb_id(s1, "input", "first_name");
	ck_assert_str_eq(skyb_id(s2, "input", "first_name"), id1);
	ck_assert_str_eq(skyb_id(s2, "select", "country"),
	                 skyb_id(s1, "select", "country"));
	/* no attributes written, no global the page could find */
	ck_assert_int_eq(attr_count(), before);
	ck_assert_int_eq(skyb_eval_int(ctx, "typeof window.__sky === "
	                                    "'undefined' && typeof "
	                                    "window.__skyState === "
	                                    "'undefined' ? 1 : 0"),
	                 1);
	/* the site changes its DOM: old ids stay, the new element gets a
	 * new one */
	json_decref(skyb_eval(ctx, "(() => { const b = document."
	                           "createElement('button'); b.textContent "
	                           "= 'Late button'; document.forms[0]."
	                           "prepend(b); return 1; })()"));
	json_t *s3 = skyb_snapshot(ctx);
	ck_assert_str_eq(skyb_id(s3, "input", "first_name"), id1);
	const char *late = skyb_id(s3, "button", "Late button");
	ck_assert_ptr_null(skyb_find(s1, "button", "Late button"));
	json_t *flat = NULL;
	sky_page_tree *tree = NULL;
	ck_assert_int_eq(sky_page_render_json(s1, NULL, &tree), 0);
	ck_assert_ptr_null(sky_page_tree_element(tree, late));
	(void)flat;
	sky_page_tree_free(tree);
	json_decref(s1);
	json_decref(s2);
	json_decref(s3);
}
END_TEST

START_TEST(frames_and_shadow_dom_are_walked)
{
	open_page("frames.html");
	json_t *snap = skyb_snapshot(ctx);
	json_t *frames = json_object_get(snap, "frames");
	ck_assert_int_eq(json_array_size(frames), 2);
	int cross = 0, same = 0;
	size_t i;
	json_t *f;
	json_array_foreach (frames, i, f) {
		if (json_is_true(json_object_get(f, "cross_origin")))
			cross++;
		else
			same++;
	}
	ck_assert_int_eq(cross, 1);
	ck_assert_int_eq(same, 1);
	/* a field in each frame, with the frame's id prefix */
	size_t codes = 0;
	json_t *iframes = json_array();
	size_t n = skyb_count(snap, "iframe");
	ck_assert_int_eq(n, 2);
	json_decref(iframes);
	json_t *els = json_object_get(snap, "elements");
	json_array_foreach (els, i, f) {
		if (!json_is_object(f) || strcmp(str(f, "tag"), "iframe"))
			continue;
		json_t *code = by_name(json_object_get(f, "children"), "code");
		ck_assert_ptr_nonnull(code);
		char prefix[16];
		snprintf(prefix, sizeof prefix, "%s.", str(f, "frame"));
		ck_assert_msg(!strncmp(str(code, "id"), prefix, strlen(prefix)),
		              "frame element id %s lacks prefix %s",
		              str(code, "id"), prefix);
		codes++;
	}
	ck_assert_int_eq(codes, 2);
	/* the open shadow root's controls, named through its label */
	json_t *stars = skyb_find(snap, "input", "Stars");
	ck_assert_ptr_nonnull(stars);
	ck_assert_ptr_nonnull(skyb_find(snap, "button", "Rate"));
	ck_assert_ptr_nonnull(
	    strstr(str(snap, "text"), "Rate your experience"));
	json_decref(snap);
}
END_TEST

START_TEST(settle_waits_for_late_content)
{
	char *url = skyb_url(site, "slow.html");
	json_decref(skyb_navigate(ctx, url));
	free(url);
	json_t *st = skyb_settle(ctx);
	ck_assert(json_is_true(json_object_get(st, "settled")));
	json_decref(st);
	json_t *snap = skyb_snapshot(ctx);
	ck_assert_ptr_nonnull(skyb_find(snap, "a", "Result gamma"));
	ck_assert_ptr_null(strstr(str(snap, "text"), "Loading"));
	json_decref(snap);

	/* bounded: a page that never stops changing (every 50 ms; the
	 * quiet window asked for is 6 times that, so a loaded machine's
	 * late timer does not make it look quiet) */
	json_decref(skyb_eval(ctx, "new Promise(r => { let n = 0; "
	                           "setInterval(() => { document.body."
	                           "append('.'); if (++n == 2) r(1); }, "
	                           "50); })"));
	char *res = NULL, *err = NULL;
	ck_assert_int_eq(
	    skyb_provider()->settle(
	        ctx, "{\"max_ms\": 800, \"dom_quiet_ms\": 300}", &res, &err),
	    0);
	json_t *r = json_loads(res, 0, NULL);
	ck_assert(json_is_false(json_object_get(r, "settled")));
	ck_assert_ptr_nonnull(strstr(str(r, "reason"), "DOM"));
	json_decref(r);
	free(res);
}
END_TEST

START_TEST(a_huge_table_fits_the_budget)
{
	open_page("table?rows=2000");
	json_t *snap = skyb_snapshot(ctx);
	ck_assert_int_eq(skyb_count(snap, "tr"), 2001);
	sky_page_tree *tree = NULL;
	sky_page_render_options o = SKY_PAGE_RENDER_OPTIONS_INIT;
	o.max_tokens = 8000;
	ck_assert_int_eq(sky_page_render_json(snap, &o, &tree), 0);
	ck_assert_uint_le(sky_page_tree_tokens(tree), 8000);
	ck_assert_int_gt(sky_page_tree_cut_level(tree), 0);
	const char *text = sky_page_tree_text(tree);
	/* a long table's rows are CSV lines */
	ck_assert_ptr_nonnull(strstr(text, "\nPerson 1,"));
	ck_assert_ptr_nonnull(strstr(text, "more rows"));
	/* all 2000 links stay addressable for the planner */
	ck_assert_uint_eq(json_array_size(sky_page_tree_elements(tree)), 2000);
	sky_page_tree_free(tree);
	json_decref(snap);
}
END_TEST

/* The benchmark's pages (bench/pages/), served as files. */
static void bench_file(const skytest_req *req, skytest_resp *resp, void *root)
{
	if (!skytest_resp_file(resp, root, req->path))
		skytest_resp_text(resp, 404, NULL, "not found");
}

/* Cell `col` (0-based) of the CSV line that holds `needle`, malloc'd,
 * or NULL. Quoted cells are unquoted. */
static char *csv_cell(const char *text, const char *needle, int col)
{
	const char *at = strstr(text, needle);
	if (!at)
		return NULL;
	while (at > text && at[-1] != '\n')
		at--;
	skyx_buf b = {0};
	for (int c = 0; *at && *at != '\n'; c++) {
		int quoted = *at == '"';
		at += quoted;
		skyx_buf_reset(&b);
		while (*at && *at != '\n') {
			if (quoted && *at == '"' && at[1] == '"') {
				skyx_buf_putc(&b, '"');
				at += 2;
				continue;
			}
			if (quoted ? *at == '"' : *at == ',')
				break;
			skyx_buf_putc(&b, *at++);
		}
		at += quoted && *at == '"';
		if (c == col)
			return b.data ? skyx_buf_steal(&b) : skyx_strdup("");
		if (*at == ',')
			at++;
	}
	skyx_buf_free(&b);
	return NULL;
}

/* The id a cell gives its element: "N:text", a bare "N" (the column's
 * usual text) or HTML "<tag id=N ...>"; malloc'd or NULL. */
static char *cell_id(const char *cell)
{
	const char *p = strstr(cell, " id=");
	p = cell[0] == '<' && p ? p + 4 : cell;
	size_t n = strspn(p, "0123456789abcdefghijklmnopqrstuvwxyz"
	                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ.");
	if (!n || (cell[0] != '<' && p[n] != ':' && p[n] != '\0'))
		return NULL;
	return skyx_strndup(p, n);
}

/* Would the planner run a click on this id? */
static void planner_accepts_click(json_t *snap, const char *id)
{
	char *answer = skyx_asprintf(
	    "{\"actions\": [{\"action_type\": \"CLICK\", \"id\": \"%s\", "
	    "\"reasoning\": \"the row's element\", \"confidence\": 0.9}]}",
	    id);
	sky_planner_parse_ctx pc = {0};
	pc.snapshot = snap;
	pc.page_url = str(snap, "url");
	sky_planner_actions *a = NULL;
	ck_assert_int_eq(sky_planner_parse_actions(answer, &pc, &a), 0);
	ck_assert_msg(json_array_size(a->actions) == 1 &&
	                  json_array_size(a->rejected) == 0,
	              "the planner refuses a click on id %s", id);
	sky_planner_actions_free(a);
	free(answer);
}

/* bench/pages/table.html: 300 orders, each row an order link and an
 * Approve button (one row an Invoice link). At the agent's default
 * budget the whole table is written, one CSV line per row, the repeated
 * parts said once in a legend line; every row's link and button are on
 * its line with an id the planner accepts, and a click by the id read
 * from row 150's line (below the fold) opens that order. */
START_TEST(every_row_of_the_bench_table_can_be_acted_on)
{
	char *root = skytest_src_path("bench/pages");
	skytest_httpd *h = skytest_httpd_start(bench_file, root);
	ck_assert_ptr_nonnull(h);
	char *url = skyx_asprintf("%s/table.html", skytest_httpd_url(h));
	json_decref(skyb_navigate(ctx, url));
	json_decref(skyb_settle(ctx));
	json_t *snap = skyb_snapshot(ctx);
	sky_page_tree *tree = NULL;
	sky_page_render_options o = SKY_PAGE_RENDER_OPTIONS_INIT;
	o.max_tokens = 12000; /* agent.tree_budget_tokens */
	ck_assert_int_eq(sky_page_render_json(snap, &o, &tree), 0);
	const char *text = sky_page_tree_text(tree);
	printf("bench table: element tree %zu bytes, %zu tokens (bytes/4), "
	       "cut level %d\n",
	       sky_page_tree_bytes(tree), sky_page_tree_tokens(tree),
	       sky_page_tree_cut_level(tree));
	ck_assert_int_eq(sky_page_tree_cut_level(tree), 0);
	/* the rows' repeated parts are written once (bench/peer.sh counts
	 * the prompt's o200k tokens: ~8,800, was ~13,500) */
	ck_assert_uint_le(sky_page_tree_tokens(tree), 5000);
	ck_assert_ptr_nonnull(strstr(text, "[300 rows as CSV, header first."));
	ck_assert_ptr_nonnull(strstr(text, "\nOrder,Customer,Date,Total,"
	                                   "Status,Action\n"));
	char *row150 = NULL;
	for (int i = 1; i <= 300; i++) {
		char order[16], href[64], needle[24];
		snprintf(order, sizeof order, "#%d", 10000 + i);
		snprintf(href, sizeof href, "/order.html?id=%d", 10000 + i);
		/* the row's line: its order link's text ends the cell */
		snprintf(needle, sizeof needle, "%s,", order);
		char *first = csv_cell(text, needle, 0);
		if (!first) {
			snprintf(needle, sizeof needle, "%s</a>,", order);
			first = csv_cell(text, needle, 0);
		}
		ck_assert_msg(first, "no line for order %s", order);
		char *last = csv_cell(text, needle, 5);
		ck_assert_msg(last, "order %s: no sixth cell", order);
		char *link = cell_id(first), *act = cell_id(last);
		ck_assert_msg(link && act, "order %s: cells \"%s\", \"%s\"",
		              order, first, last);
		/* the link's id is that order's link */
		json_t *e = sky_page_tree_element(tree, link);
		ck_assert_msg(e, "order %s: no element %s", order, link);
		ck_assert_str_eq(str(e, "tag"), "a");
		const char *h_ = str(json_object_get(e, "attrs"), "href");
		ck_assert_msg(h_ && strstr(h_, href), "order %s: %s is %s",
		              order, link, h_ ? h_ : "(no href)");
		ck_assert(sky_page_tree_shown(tree, link));
		/* the last cell's id is the row's button (or invoice link) */
		e = sky_page_tree_element(tree, act);
		ck_assert_msg(e, "order %s: no element %s", order, act);
		ck_assert(sky_page_tree_shown(tree, act));
		ck_assert_msg(!strcmp(str(e, "tag"), "button") ||
		                  strstr(last, "Invoice"),
		              "order %s: the action cell \"%s\"", order, last);
		planner_accepts_click(snap, link);
		planner_accepts_click(snap, act);
		if (i == 150)
			row150 = skyx_strdup(link);
		free(link);
		free(act);
		free(first);
		free(last);
	}
	sky_page_tree_free(tree);
	json_decref(snap);
	/* a click by the id read from row 150's line opens order #10150 */
	json_decref(skyb_act_ok(ctx,
	                        "{\"action_type\":\"click\","
	                        "\"element_id\":\"%s\"}",
	                        row150));
	json_decref(skyb_settle(ctx));
	char *at = skyb_eval_str(ctx, "location.href");
	ck_assert_msg(strstr(at, "/order.html?id=10150"), "landed on %s", at);
	free(at);
	free(row150);
	free(url);
	skytest_httpd_stop(h);
	free(root);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("browser_snapshot");
	SKYB_TEST(s, every_control_is_offered_with_its_label, setup, teardown,
	          90);
	SKYB_TEST(s, ids_are_stable_and_the_site_sees_nothing, setup, teardown,
	          90);
	SKYB_TEST(s, frames_and_shadow_dom_are_walked, setup, teardown, 90);
	SKYB_TEST(s, settle_waits_for_late_content, setup, teardown, 90);
	SKYB_TEST(s, a_huge_table_fits_the_budget, setup, teardown, 90);
	SKYB_TEST(s, every_row_of_the_bench_table_can_be_acted_on, setup,
	          teardown, 120);
	return s;
}

int main(void)
{
	skyb_shared_start();
	int rc = skytest_run(suite());
	skyb_shared_stop();
	return rc;
}
