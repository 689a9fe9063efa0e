/*
 * Replay's checks beyond the page and the value typed (docs/replay.md):
 * an element the recorded action made go must be gone after the replayed
 * one (a cookie banner that stays is a mismatch naming the step, the
 * action and the element); an array extracted from a table replays every
 * row the page has now, not the number the recorded run saw; numbers are
 * read back as the page writes them ("1.234,56 €"). On real Chromium,
 * through the whole engine, against pages on loopback.
 *
 * Plans are recorded with the offline planner (llm-rules); replays run in
 * an engine whose model is the real llm-openai plugin pointed at a fake
 * OpenAI-shaped server that counts the calls it gets: it must get none.
 */
#include <pthread.h>
#include <unistd.h>

#include "../reliability/rel.h"
#include "../reliability/rig.h"
#include "httpd.h"
#include "sites.h"

#define OPENAI_KEY "sk-replay-0123456789abcdefghij"
#define GOAL_APPLY                                                             \
	"Apply for the job on behalf of the person in the navigation "         \
	"payload."
#define GOAL_ORDER "Read the order's lines and its total."

/* What the order page shows: its rows (how many of ROWS) and the format
 * of its numbers. */
enum { FMT_US, FMT_EU };

static struct {
	pthread_mutex_t lock;
	int clicks_needed; /* the banner goes after this many clicks */
	int rows;
	int fmt;
	int variant; /* other prices, another total */
	json_t *posts;
	int model_calls;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const struct {
	const char *item;
	int qty;
	double price[2]; /* by variant */
} ROWS[] = {
    {"Croissant", 2, {3.5, 3.75}},     {"Baguette", 1, {2.25, 2.4}},
    {"Brioche", 1, {1099.0, 1250.5}},  {"Eclair", 6, {4.1, 4.2}},
    {"Macaron box", 24, {0.95, 1.05}},
};

static const double TOTAL[2] = {1234.56, 987.65};

/* 1234.5 as the page writes it: "$1,234.50" or "1.234,50 €". */
static char *money(double v, int fmt)
{
	long long cents = (long long)(v * 100 + 0.5);
	long long whole = cents / 100;
	char digits[32], grouped[48];
	snprintf(digits, sizeof digits, "%lld", whole);
	size_t n = strlen(digits), o = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			grouped[o++] = fmt == FMT_EU ? '.' : ',';
		grouped[o++] = digits[i];
	}
	grouped[o] = 0;
	if (fmt == FMT_EU)
		return skyx_asprintf("%s,%02lld\xc2\xa0\xe2\x82\xac", grouped,
		                     cents % 100);
	return skyx_asprintf("$%s.%02lld", grouped, cents % 100);
}

static void set_site(int clicks_needed, int rows, int fmt, int variant)
{
	pthread_mutex_lock(&S.lock);
	S.clicks_needed = clicks_needed;
	S.rows = rows;
	S.fmt = fmt;
	S.variant = variant;
	json_decref(S.posts);
	S.posts = json_array();
	pthread_mutex_unlock(&S.lock);
}

static void page(skytest_resp *resp, const char *title, const char *body)
{
	char *html =
	    skyx_asprintf("<!doctype html><html><head><meta charset=\"utf-8\">"
	                  "<title>%s</title></head><body>%s</body></html>",
	                  title, body);
	skytest_resp_text(resp, 200, "text/html; charset=utf-8", html);
	free(html);
}

/* The application form under a cookie banner (a dialog). Answering it
 * removes it 300 ms later (a short timer: the settle waits for it), or
 * only at the second click (a banner that stays). */
static void apply_page(skytest_resp *resp, int clicks_needed)
{
	char *body = skyx_asprintf(
	    "<div id=\"cookies\" role=\"dialog\" aria-label=\"Cookie "
	    "consent\"><p>We use cookies to run this site.</p>"
	    "<button type=\"button\" id=\"reject\">Reject optional</button> "
	    "<button type=\"button\" id=\"accept\">Accept all</button></div>"
	    "<main><h1>Senior Pastry Engineer</h1>"
	    "<form action=\"submit\" method=\"post\">"
	    "<p><label for=\"fn\">First name</label> <input id=\"fn\" "
	    "name=\"first_name\" required></p>"
	    "<p><label for=\"ln\">Last name</label> <input id=\"ln\" "
	    "name=\"last_name\" required></p>"
	    "<p><label for=\"em\">Email</label> <input id=\"em\" "
	    "name=\"email\" type=\"email\" required></p>"
	    "<button type=\"submit\">Submit application</button></form></main>"
	    "<script>var need = %d, clicks = 0;"
	    "function answer() { if (++clicks < need) return;"
	    " setTimeout(function () {"
	    "  document.getElementById('cookies').remove(); }, 300); }"
	    "document.getElementById('reject').onclick = answer;"
	    "document.getElementById('accept').onclick = answer;</script>",
	    clicks_needed);
	page(resp, "Apply - Bacon &amp; Co.", body);
	free(body);
}

static void order_page(skytest_resp *resp, int rows, int fmt, int variant)
{
	skyx_buf b = {0};
	skyx_buf_printf(&b, "<main><h1>Order 1042</h1><table><thead><tr>"
	                    "<th>Item</th><th>Quantity</th><th>Price</th>"
	                    "</tr></thead><tbody>");
	for (int i = 0; i < rows; i++) {
		char *m = money(ROWS[i].price[variant], fmt);
		skyx_buf_printf(&b,
		                "<tr><td>%s</td><td>%d</td><td>%s</td></tr>",
		                ROWS[i].item, ROWS[i].qty, m);
		free(m);
	}
	char *t = money(TOTAL[variant], fmt);
	skyx_buf_printf(&b, "</tbody></table><p>Total: %s</p></main>", t);
	free(t);
	page(resp, "Order 1042", b.data);
	free(b.data);
}

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&S.lock);
	int need = S.clicks_needed, rows = S.rows, fmt = S.fmt,
	    variant = S.variant;
	if (!strcmp(req->method, "POST")) {
		json_t *f = skytest_sites_form_fields(req->body);
		json_array_append_new(
		    S.posts, json_pack("{s:s, s:o}", "path", req->path,
		                       "fields", f ? f : json_object()));
	}
	pthread_mutex_unlock(&S.lock);
	if (!strcmp(req->path, "/apply/")) {
		apply_page(resp, need);
	} else if (!strcmp(req->path, "/apply/submit")) {
		skytest_resp_text(resp, 303, "text/plain", "see other");
		skytest_resp_header(resp, "Location", "thanks.html");
	} else if (!strcmp(req->path, "/apply/thanks.html")) {
		page(resp, "Application received",
		     "<main><h1>Thank you for applying!</h1><p>Your "
		     "application was submitted successfully.</p></main>");
	} else if (!strcmp(req->path, "/order/")) {
		order_page(resp, rows, fmt, variant);

	} else {
		skytest_resp_text(resp, 404, "text/plain", "not found");
	}
}

static void on_model(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)req;
	(void)ud;
	pthread_mutex_lock(&S.lock);
	S.model_calls++;
	pthread_mutex_unlock(&S.lock);
	skytest_resp_text(resp, 500, "application/json",
	                  "{\"error\":{\"message\":\"the replay test's model "
	                  "must not be called\"}}");
}

static int model_calls(void)
{
	pthread_mutex_lock(&S.lock);
	int n = S.model_calls;
	pthread_mutex_unlock(&S.lock);
	return n;
}

/* The fields of the last application the site received, or NULL. */
static json_t *last_application(void)
{
	json_t *out = NULL, *p;
	size_t i;
	pthread_mutex_lock(&S.lock);
	json_array_foreach (S.posts, i, p)
		if (!strcmp(rel_str(p, "path"), "/apply/submit")) {
			json_decref(out);
			out = json_incref(json_object_get(p, "fields"));
		}
	pthread_mutex_unlock(&S.lock);
	return out;
}

static skytest_httpd *site, *model;

static void engine_start(rel_rig *r, const char *dir, const char *llm)
{
	sky_engine_options o;
	char *cfg = skyx_asprintf(
	    "{\"llm\":{\"base_url\":\"%s/v1\",\"model\":\"gpt-4o\","
	    "\"max_retries\":0},"
	    "\"agent\":{\"settle_max_ms\":1500,\"screenshots\":0}}",
	    skytest_httpd_url(model));
	memset(r, 0, sizeof *r);
	r->dir = skyx_strdup(dir);
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = dir;
	o.llm = llm;
	o.workers = 1;
	o.config_json = cfg;
	ck_assert_msg(sky_engine_new(&r->e, &o) == 0, "engine: %s",
	              sky_error_last());
	free(cfg);
}

static void show(const char *what, const json_t *run)
{
	const char *st = rel_str(run, "status");
	if (!st || strcmp(st, "completed"))
		fprintf(stderr, "%s: %s: %s\n", what, st ? st : "?",
		        rel_str(run, "failure_reason")
		            ? rel_str(run, "failure_reason")
		            : "");
}

static json_t *apply(rel_rig *r, const char *first, const char *last,
                     const char *extra)
{
	char *id = rel_rig_submit(
	    r,
	    "{\"prompt\":\"" GOAL_APPLY "\",\"url\":\"%s/apply/\","
	    "\"engine\":\"skyvern-1.0\",\"max_steps\":8,"
	    "\"navigation_payload\":{\"first_name\":\"%s\",\"last_name\":"
	    "\"%s\",\"email\":\"%s@example.org\"}%s}",
	    skytest_httpd_url(site), first, last, first, extra ? extra : "");
	json_t *run = rel_rig_wait(r, id, 180000);
	free(id);
	return run;
}

static const json_t *script_run(const json_t *run)
{
	const json_t *sr = json_object_get(run, "script_run");
	ck_assert_msg(json_is_object(sr), "run has no script_run");
	return sr;
}

/* The plan of the one script, as GET /v1/scripts/{id} gives it (its
 * text). */
static char *plan_text(rel_rig *r)
{
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_scripts_list(&out, r->e, NULL, 1, 100),
	                 0);
	json_t *l = json_loads(out, 0, NULL);
	sky_free(out);
	ck_assert_int_eq(json_array_size(l), 1);
	int status = 0;
	ck_assert_int_eq(sky_tasks_api_script_get(
	                     &out, &status, r->e, NULL,
	                     rel_str(json_array_get(l, 0), "script_id")),
	                 0);
	json_t *j = json_loads(out, 0, NULL);
	sky_free(out);
	json_decref(l);
	char *txt = json_dumps(json_object_get(j, "plan"), JSON_COMPACT);
	json_decref(j);
	if (getenv("REPLAY_DEBUG"))
		fprintf(stderr, "plan: %s\n", txt);
	return txt;
}

static void assert_applied(const char *first, const char *last)
{
	json_t *f = last_application();
	ck_assert_msg(f, "the site received no application");
	char *txt = json_dumps(f, JSON_COMPACT);
	ck_assert_msg(rel_str(f, "first_name") &&
	                  !strcmp(rel_str(f, "first_name"), first) &&
	                  rel_str(f, "last_name") &&
	                  !strcmp(rel_str(f, "last_name"), last),
	              "the site received %s", txt);
	free(txt);
	json_decref(f);
}

/* The banner the recorded run dismissed must be gone after the replayed
 * click: when it stays, the replay stops there (naming the step, the
 * click and the banner's button) instead of typing into a form under
 * it; with ai_fallback the agent takes over at that step. */
START_TEST(a_dismissed_banner_that_stays_is_a_mismatch)
{
	char *dir = skytest_tmpdir("replay-gone");
	rel_rig r;
	set_site(1, 0, FMT_US, 0);
	engine_start(&r, dir, "rules");
	json_t *run = apply(&r, "Chris", "Bacon", NULL);
	show("record", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	assert_applied("Chris", "Bacon");
	json_decref(run);
	char *plan = plan_text(&r);
	/* The click on the banner is recorded with its effect. */
	ck_assert_msg(strstr(plan, "\"effect\":{\"gone\":1}"), "%s", plan);
	free(plan);
	rel_rig_stop(&r, 0);

	setenv("OPENAI_API_KEY", OPENAI_KEY, 1);
	engine_start(&r, dir, "openai");
	/* The banner goes as it did: the replay waits for it (300 ms). */
	set_site(1, 0, FMT_US, 0);
	int before = model_calls();
	run = apply(&r, "Ada", "Lovelace", ",\"run_with\":\"code\"");
	show("replay", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	ck_assert_int_eq(model_calls() - before, 0);
	assert_applied("Ada", "Lovelace");
	json_decref(run);

	/* The banner stays after the click: a mismatch at step 0, and no
	 * application sent. */
	set_site(2, 0, FMT_US, 0);
	run = apply(&r, "Grace", "Hopper", ",\"run_with\":\"code\"");
	ck_assert_str_eq(rel_str(run, "status"), "failed");
	const char *why = rel_str(run, "failure_reason");
	ck_assert_msg(why && strstr(why, "step 0") && strstr(why, "click") &&
	                  strstr(why, "Reject optional") &&
	                  strstr(why, "still on the page"),
	              "failure_reason: %s", why ? why : "(none)");
	json_t *none = last_application();
	ck_assert_msg(!none, "an application was sent after the mismatch");
	ck_assert_int_eq(model_calls() - before, 0);
	json_decref(run);
	rel_rig_stop(&r, 0);

	/* With ai_fallback the agent takes over at that step and finishes. */
	engine_start(&r, dir, "rules");
	set_site(2, 0, FMT_US, 0);
	run = apply(&r, "Grace", "Hopper",
	            ",\"run_with\":\"code\",\"ai_fallback\":true");
	show("fallback", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	const json_t *sr = script_run(run);
	ck_assert(json_is_true(json_object_get(sr, "ai_fallback_triggered")));
	ck_assert_int_eq(
	    json_integer_value(json_object_get(sr, "fallback_step")), 0);
	assert_applied("Grace", "Hopper");
	json_decref(run);
	rel_rig_stop(&r, 1);
	free(dir);
}
END_TEST

#define ORDER_SCHEMA                                                           \
	",\"data_extraction_schema\":{\"type\":\"object\",\"properties\":{"    \
	"\"lines\":{\"type\":\"array\",\"items\":{\"type\":\"object\","        \
	"\"properties\":{\"item\":{\"type\":\"string\"},\"quantity\":{"        \
	"\"type\":\"integer\"},\"price\":{\"type\":\"number\"}}}},"            \
	"\"total\":{\"type\":\"number\"}}}"

static json_t *read_order(rel_rig *r, const char *extra)
{
	char *id = rel_rig_submit(
	    r,
	    "{\"prompt\":\"" GOAL_ORDER "\",\"url\":\"%s/order/\","
	    "\"engine\":\"skyvern-1.0\",\"max_steps\":4" ORDER_SCHEMA "%s}",
	    skytest_httpd_url(site), extra ? extra : "");
	json_t *run = rel_rig_wait(r, id, 180000);
	free(id);
	return run;
}

/* The output is the first `rows` rows of ROWS (variant's prices) and the
 * variant's total. */
static void assert_order(const json_t *run, int rows, int variant)
{
	const json_t *out = json_object_get(run, "output");
	char *txt = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
	const json_t *lines = json_object_get(out, "lines");
	ck_assert_msg(json_array_size(lines) == (size_t)rows,
	              "%d rows expected: %s", rows, txt ? txt : "null");
	for (int i = 0; i < rows; i++) {
		const json_t *l = json_array_get(lines, (size_t)i);
		ck_assert_msg(
		    rel_str(l, "item") &&
		        !strcmp(rel_str(l, "item"), ROWS[i].item) &&
		        json_integer_value(json_object_get(l, "quantity")) ==
		            ROWS[i].qty &&
		        fabs(json_number_value(json_object_get(l, "price")) -
		             ROWS[i].price[variant]) < 1e-9,
		    "row %d: %s", i, txt ? txt : "null");
	}
	ck_assert_msg(fabs(json_number_value(json_object_get(out, "total")) -
	                   TOTAL[variant]) < 1e-9,
	              "total %.2f expected: %s", TOTAL[variant],
	              txt ? txt : "null");
	free(txt);
}

static void record_order(rel_rig *r, const char *dir, int fmt)
{
	set_site(1, 3, fmt, 0);
	engine_start(r, dir, "rules");
	json_t *run = read_order(r, NULL);
	show("record", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	assert_order(run, 3, 0);
	json_decref(run);
	char *plan = plan_text(r);
	ck_assert_msg(strstr(plan, "\"extraction\"") &&
	                  !strstr(plan, "\"unlocated\""),
	              "%s", plan);
	free(plan);
	rel_rig_stop(r, 0);
	setenv("OPENAI_API_KEY", OPENAI_KEY, 1);
	engine_start(r, dir, "openai");
}

/* An array read from a table replays every row the table has now: the
 * recorded run saw 3; 5 give 5, 2 give 2, none is a mismatch naming the
 * array. No model call. */
START_TEST(an_array_replays_every_row_the_page_has)
{
	char *dir = skytest_tmpdir("replay-rows");
	rel_rig r;
	record_order(&r, dir, FMT_US);
	int before = model_calls();
	int counts[] = {5, 2, 3};
	for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
		set_site(1, counts[i], FMT_US, 1);
		json_t *run = read_order(&r, ",\"run_with\":\"code\"");
		show("replay", run);
		ck_assert_str_eq(rel_str(run, "status"), "completed");
		assert_order(run, counts[i], 1);
		ck_assert(json_is_false(
		    json_object_get(script_run(run), "ai_fallback_triggered")));
		json_decref(run);
	}
	ck_assert_int_eq(model_calls() - before, 0);

	set_site(1, 0, FMT_US, 1);
	json_t *run = read_order(&r, ",\"run_with\":\"code\"");
	ck_assert_str_eq(rel_str(run, "status"), "failed");
	const char *why = rel_str(run, "failure_reason");
	ck_assert_msg(why && strstr(why, "final extraction") &&
	                  strstr(why, "lines"),
	              "failure_reason: %s", why ? why : "(none)");
	ck_assert_int_eq(model_calls() - before, 0);
	json_decref(run);
	rel_rig_stop(&r, 1);
	free(dir);
}
END_TEST

/* A European page: "1.099,00 €" in the rows, "Total: 1.234,56 €". The
 * plan finds the numbers as written and a replay reads other amounts in
 * the same format, with no model call. */
START_TEST(european_amounts_replay_as_numbers)
{
	char *dir = skytest_tmpdir("replay-eu");
	rel_rig r;
	record_order(&r, dir, FMT_EU);
	int before = model_calls();
	set_site(1, 3, FMT_EU, 1);
	json_t *run = read_order(&r, ",\"run_with\":\"code\"");
	show("replay", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	ck_assert_int_eq(model_calls() - before, 0);
	assert_order(run, 3, 1);
	json_decref(run);
	rel_rig_stop(&r, 1);
	free(dir);
}
END_TEST

static void setup(void)
{
	site = skytest_httpd_start(on_site, NULL);
	model = skytest_httpd_start(on_model, NULL);
	ck_assert(site && model);
}

static void teardown(void)
{
	skytest_httpd_stop(site);
	skytest_httpd_stop(model);
}

int main(void)
{
	S.posts = json_array();
	Suite *s = suite_create("replay_checks");
	TCase *tc = tcase_create("replay_checks");
	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_dismissed_banner_that_stays_is_a_mismatch);
	tcase_add_test(tc, an_array_replays_every_row_the_page_has);
	tcase_add_test(tc, european_amounts_replay_as_numbers);
	suite_add_tcase(s, tc);
	int rc = skytest_run(s);
	json_decref(S.posts);
	return rc;
}
