/*
 * Replay (issue 18): a completed run becomes a plan; a later run with
 * run_with "code" replays it without the model, with the new payload's
 * values, checking each page before acting and each effect after. On
 * real Chromium, through the whole engine, against a job application
 * site on loopback whose page can change between runs (a field renamed,
 * the button moved, an extra review step, a password field).
 *
 * The plan is recorded with the offline planner (llm-rules). The replay
 * with another person's payload runs in an engine whose model is the
 * real llm-openai plugin pointed at a fake OpenAI-shaped server that
 * counts the calls it gets: it must get none.
 */
#include <ctype.h>
#include <pthread.h>
#include <unistd.h>

#include "../reliability/rel.h"
#include "../reliability/rig.h"
#include "httpd.h"
#include "sites.h"

#define OPENAI_KEY "sk-replay-0123456789abcdefghij"
#define GOAL                                                                   \
	"Apply for the job on behalf of the person in the navigation "         \
	"payload."
#define SECRET "Tr0ub4dor&3-portal"

enum { M_BASE, M_RENAMED, M_MOVED, M_EXTRA, M_SECRET };

static struct {
	pthread_mutex_t lock;
	int mode;
	json_t *posts; /* [{"path", "fields"}] */
	int model_calls;
	int data; /* the thanks page shows: 0 nothing, D_LIST, D_TABLE */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* What the confirmation page shows about the application received. */
enum { D_NONE, D_LIST, D_TABLE };

static char *site_dir;

static void set_mode(int m)
{
	pthread_mutex_lock(&S.lock);
	S.mode = m;
	S.data = D_NONE;
	json_decref(S.posts);
	S.posts = json_array();
	pthread_mutex_unlock(&S.lock);
}

static void serve(skytest_resp *resp, const char *file)
{
	ck_assert(skytest_resp_file(resp, site_dir, file));
}

static void redirect(skytest_resp *resp, const char *to)
{
	skytest_resp_text(resp, 303, "text/plain", "see other");
	skytest_resp_header(resp, "Location", to);
}

static void on_site(const skytest_req *req, skytest_resp *resp, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&S.lock);
	int mode = S.mode;
	if (!strcmp(req->method, "POST")) {
		json_t *f = skytest_sites_form_fields(req->body);
		json_array_append_new(
		    S.posts, json_pack("{s:s, s:o}", "path", req->path,
		                       "fields", f ? f : json_object()));
	}
	int data = S.data;
	json_t *got = NULL;
	if (data && !strcmp(req->path, "/apply/thanks.html")) {
		size_t i;
		json_t *p;
		json_array_foreach (S.posts, i, p)
			if (!strcmp(rel_str(p, "path"), "/apply/submit")) {
				json_decref(got);
				got = json_incref(json_object_get(p, "fields"));
			}
	}
	pthread_mutex_unlock(&S.lock);
	if (got) {
		/* The data depends on who applied: a replay must read it. */
		const char *last = rel_str(got, "last_name");
		last = last ? last : "";
		char ref[64];
		size_t n = 0;
		for (const char *c = last; *c && n < sizeof ref - 1; c++)
			ref[n++] = (char)toupper((unsigned char)*c);
		ref[n] = 0;
		char *facts =
		    data == D_LIST
		        ? skyx_asprintf("<dl><dt>Reference</dt><dd>REF-%s</dd>"
		                        "<dt>Interview slots</dt><dd>%zu</dd>"
		                        "</dl>",
		                        ref, strlen(last))
		        : skyx_asprintf(
		              "<table><tr><th>Reference</th><td>REF-%s"
		              "</td></tr><tr><th>Interview slots</th>"
		              "<td>%zu</td></tr></table>",
		              ref, strlen(last));
		char *html = skyx_asprintf(
		    "<!doctype html><html><head><meta charset=\"utf-8\">"
		    "<title>Application received</title></head><body><main>"
		    "<h1>Thank you for applying!</h1>"
		    "<p>Your application was submitted successfully.</p>%s"
		    "</main></body></html>",
		    facts);
		skytest_resp_text(resp, 200, "text/html", html);
		free(html);
		free(facts);
		json_decref(got);
		return;
	}
	static const char *const pages[] = {"index.html", "renamed.html",
	                                    "moved.html", "index.html",
	                                    "secret.html"};
	if (!strcmp(req->path, "/apply/") ||
	    !strcmp(req->path, "/apply/index.html"))
		serve(resp, pages[mode]);
	else if (!strcmp(req->path, "/apply/submit"))
		redirect(resp, mode == M_EXTRA ? "review.html" : "thanks.html");
	else if (!strcmp(req->path, "/apply/confirm"))
		redirect(resp, "thanks.html");
	else if (!strcmp(req->path, "/apply/thanks.html"))
		serve(resp, "thanks.html");
	else if (!strcmp(req->path, "/apply/review.html"))
		serve(resp, "review.html");
	else
		skytest_resp_text(resp, 404, "text/plain", "not found");
}

/* The fake model: counts, and answers nothing useful. */
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

/* The fields of the last POST to `path`, new reference or NULL. */
static json_t *last_post(const char *path)
{
	json_t *out = NULL, *p;
	size_t i;
	pthread_mutex_lock(&S.lock);
	json_array_foreach (S.posts, i, p)
		if (!strcmp(rel_str(p, "path"), path)) {
			json_decref(out);
			out = json_incref(json_object_get(p, "fields"));
		}
	pthread_mutex_unlock(&S.lock);
	return out;
}

static void assert_person(const char *first, const char *last,
                          const char *email)
{
	json_t *f = last_post("/apply/submit");
	ck_assert_msg(f, "the site received no application");
	char *txt = json_dumps(f, JSON_COMPACT);
	ck_assert_msg(
	    !strcmp(rel_str(f, "last_name") ? rel_str(f, "last_name") : "",
	            last) &&
	        !strcmp(rel_str(f, "email") ? rel_str(f, "email") : "", email),
	    "the site received %s", txt);
	const char *fn = rel_str(f, "first_name");
	if (!fn)
		fn = rel_str(f, "given_name");
	ck_assert_msg(fn && !strcmp(fn, first), "the site received %s", txt);
	free(txt);
	json_decref(f);
}

/* --- engines on one data dir -------------------------------------------- */

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

static char *payload(const char *first, const char *last, const char *email)
{
	return skyx_asprintf("{\"first_name\":\"%s\",\"last_name\":\"%s\","
	                     "\"email\":\"%s\"}",
	                     first, last, email);
}

/* Submit the application task and wait for it; the final run. */
static json_t *apply(rel_rig *r, const char *engine, const char *pl,
                     const char *extra)
{
	char *id = rel_rig_submit(
	    r,
	    "{\"prompt\":\"" GOAL "\",\"url\":\"%s/apply/\","
	    "\"engine\":\"%s\",\"max_steps\":6,\"navigation_payload\":%s%s}",
	    skytest_httpd_url(site), engine, pl, extra ? extra : "");
	json_t *run = rel_rig_wait(r, id, 180000);
	free(id);
	return run;
}

static json_t *scripts(rel_rig *r)
{
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_scripts_list(&out, r->e, NULL, 1, 100),
	                 0);
	json_t *j = json_loads(out, 0, NULL);
	sky_free(out);
	ck_assert(json_is_array(j));
	return j;
}

/* The newest version of the one script, as GET /v1/scripts/{id}. */
static json_t *the_script(rel_rig *r)
{
	json_t *l = scripts(r);
	ck_assert_int_eq(json_array_size(l), 1);
	const char *sid = rel_str(json_array_get(l, 0), "script_id");
	char *out = NULL;
	int status = 0;
	ck_assert_int_eq(
	    sky_tasks_api_script_get(&out, &status, r->e, NULL, sid), 0);
	json_t *j = json_loads(out, 0, NULL);
	sky_free(out);
	json_decref(l);
	return j;
}

static const json_t *script_run(const json_t *run)
{
	const json_t *sr = json_object_get(run, "script_run");
	ck_assert_msg(json_is_object(sr), "run has no script_run");
	return sr;
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

/* --- the tests ----------------------------------------------------------- */

static void record_then_replay(const char *engine)
{
	char *dir = skytest_tmpdir("replay");
	rel_rig r;
	set_mode(M_BASE);
	engine_start(&r, dir, "rules");
	char *p1 = payload("Chris", "Bacon", "chris@pbacon.com");
	json_t *run = apply(&r, engine, p1, NULL);
	show("record", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	assert_person("Chris", "Bacon", "chris@pbacon.com");
	json_decref(run);
	json_t *sc = the_script(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(sc, "version")), 1);
	/* Values are referenced by payload key, never copied. */
	char *plan = json_dumps(json_object_get(sc, "plan"), JSON_COMPACT);
	if (getenv("REPLAY_DEBUG"))
		fprintf(stderr, "plan: %s\n", plan);
	ck_assert_msg(!strstr(plan, "chris@pbacon.com"), "%s", plan);
	ck_assert_msg(strstr(plan, "\"email\""), "%s", plan);
	free(plan);
	json_decref(sc);
	rel_rig_stop(&r, 0);

	/* Another person, another engine whose model only counts. */
	setenv("OPENAI_API_KEY", OPENAI_KEY, 1);
	set_mode(M_BASE);
	engine_start(&r, dir, "openai");
	char *p2 = payload("Ada", "Lovelace", "ada@analytical.engine");
	int before = model_calls();
	run = apply(&r, engine, p2, ",\"run_with\":\"code\"");
	show("replay", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	ck_assert_int_eq(model_calls() - before, 0);
	assert_person("Ada", "Lovelace", "ada@analytical.engine");
	const json_t *sr = script_run(run);
	ck_assert(json_is_false(json_object_get(sr, "ai_fallback_triggered")));
	ck_assert_int_ge(json_array_size(json_object_get(sr, "steps_replayed")),
	                 1);
	json_decref(run);
	rel_rig_stop(&r, 1);
	free(p1);
	free(p2);
	free(dir);
}

START_TEST(v1_replays_new_payload_without_the_model)
{
	record_then_replay("skyvern-1.0");
}
END_TEST

START_TEST(v2_replays_new_payload_without_the_model)
{
	record_then_replay("skyvern-2.0");
}
END_TEST

/* A page that changed: with ai_fallback the agent finishes the run and
 * the plan is updated (the next replay needs no fallback); without it,
 * the run fails naming the step and what did not match. */
static void changed_page(const char *engine, int mode,
                         const char *expect_in_reason)
{
	char *dir = skytest_tmpdir("replay-changed");
	rel_rig r;
	set_mode(M_BASE);
	engine_start(&r, dir, "rules");
	char *p1 = payload("Chris", "Bacon", "chris@pbacon.com");
	char *p2 = payload("Grace", "Hopper", "grace@navy.mil");
	json_t *run = apply(&r, engine, p1, NULL);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	json_decref(run);

	/* Without fallback: a clear failure, nothing typed blindly. */
	set_mode(mode);
	run = apply(&r, engine, p2, ",\"run_with\":\"code\"");
	ck_assert_str_eq(rel_str(run, "status"), "failed");
	const char *why = rel_str(run, "failure_reason");
	ck_assert_msg(why && strstr(why, "step ") &&
	                  strstr(why, expect_in_reason),
	              "failure_reason: %s", why ? why : "(none)");
	json_decref(run);

	/* With fallback: the agent takes over and the run completes. */
	set_mode(mode);
	run = apply(&r, engine, p2,
	            ",\"run_with\":\"code\",\"ai_fallback\":true");
	show("fallback", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	ck_assert(json_is_true(
	    json_object_get(script_run(run), "ai_fallback_triggered")));
	assert_person("Grace", "Hopper", "grace@navy.mil");
	json_decref(run);
	json_t *sc = the_script(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(sc, "version")), 2);
	json_decref(sc);

	/* The updated plan replays the changed page on its own. */
	set_mode(mode);
	run = apply(&r, engine, p1, ",\"run_with\":\"code\"");
	show("replay of the updated plan", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	ck_assert(json_is_false(
	    json_object_get(script_run(run), "ai_fallback_triggered")));
	assert_person("Chris", "Bacon", "chris@pbacon.com");
	json_decref(run);
	rel_rig_stop(&r, 1);
	free(p1);
	free(p2);
	free(dir);
}

START_TEST(renamed_field_falls_back_or_fails_clearly)
{
	changed_page("skyvern-1.0", M_RENAMED, "First name");
}
END_TEST

/* The same for a task v2: its planning loop takes over. */
START_TEST(v2_renamed_field_falls_back_or_fails_clearly)
{
	changed_page("skyvern-2.0", M_RENAMED, "First name");
}
END_TEST

START_TEST(extra_step_falls_back_or_fails_clearly)
{
	changed_page("skyvern-1.0", M_EXTRA, "review.html");
}
END_TEST

/* The button moved: targets are found by what they are, not where. */
START_TEST(moved_button_still_replays)
{
	char *dir = skytest_tmpdir("replay-moved");
	rel_rig r;
	set_mode(M_BASE);
	engine_start(&r, dir, "rules");
	char *p1 = payload("Chris", "Bacon", "chris@pbacon.com");
	char *p2 = payload("Alan", "Turing", "alan@bletchley.uk");
	json_t *run = apply(&r, "skyvern-1.0", p1, NULL);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	json_decref(run);
	set_mode(M_MOVED);
	run = apply(&r, "skyvern-1.0", p2, ",\"run_with\":\"code\"");
	show("moved", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	assert_person("Alan", "Turing", "alan@bletchley.uk");
	json_decref(run);
	rel_rig_stop(&r, 1);
	free(p1);
	free(p2);
	free(dir);
}
END_TEST

/* A password from the payload is in the plan as a reference to its key,
 * a {{credential.…}} placeholder stays a placeholder, and the secret is
 * in neither the plan nor the scripts API. */
START_TEST(plan_never_holds_a_secret)
{
	char *dir = skytest_tmpdir("replay-secret");
	rel_rig r;
	set_mode(M_SECRET);
	engine_start(&r, dir, "rules");
	json_t *run =
	    apply(&r, "skyvern-1.0",
	          "{\"first_name\":\"Chris\",\"last_name\":\"Bacon\","
	          "\"email\":\"chris@pbacon.com\",\"password\":\"" SECRET "\"}",
	          NULL);
	show("secret", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	json_t *f = last_post("/apply/submit");
	ck_assert_str_eq(rel_str(f, "password"), SECRET);
	json_decref(f);
	json_decref(run);
	json_t *sc = the_script(&r);
	char *txt = json_dumps(sc, JSON_COMPACT);
	ck_assert_msg(!strstr(txt, SECRET), "the plan holds the secret: %s",
	              txt);
	ck_assert_msg(strstr(txt, "\"password\""), "%s", txt);
	free(txt);
	json_decref(sc);

	/* A placeholder the credentials vault resolves: the replay types
	 * {{credential.password}}, the browser call gets the vault's value,
	 * and the plan still holds no secret. */
	set_mode(M_SECRET);
	char *cout = NULL;
	int cst = 0;
	ck_assert_int_eq(
	    sky_tasks_api_credential_create(
	        &cout, &cst, r.e, NULL,
	        "{\"name\":\"portal\",\"credential_type\":\"password\","
	        "\"credential\":{\"username\":\"chris\",\"password\":\"" SECRET
	        "\"}}"),
	    0);
	ck_assert_int_eq(cst, 201);
	json_t *cj = json_loads(cout, 0, NULL);
	sky_free(cout);
	char *extra = skyx_asprintf(",\"run_with\":\"code\",\"credential_id\":"
	                            "\"%s\"",
	                            rel_str(cj, "credential_id"));
	json_decref(cj);
	run = apply(&r, "skyvern-1.0",
	            "{\"first_name\":\"Chris\",\"last_name\":\"Bacon\","
	            "\"email\":\"chris@pbacon.com\","
	            "\"password\":\"{{credential.password}}\"}",
	            extra);
	free(extra);
	show("secret-credential", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	f = last_post("/apply/submit");
	ck_assert_str_eq(rel_str(f, "password"), SECRET);
	json_decref(f);
	json_decref(run);
	sc = the_script(&r);
	txt = json_dumps(sc, JSON_COMPACT);
	ck_assert_msg(!strstr(txt, SECRET), "%s", txt);
	free(txt);
	json_decref(sc);
	rel_rig_stop(&r, 1);
	free(dir);
}
END_TEST

static void set_data(int d)
{
	pthread_mutex_lock(&S.lock);
	S.data = d;
	pthread_mutex_unlock(&S.lock);
}

#define SCHEMA                                                                 \
	",\"data_extraction_schema\":{\"type\":\"object\",\"properties\":{"    \
	"\"reference\":{\"type\":\"string\",\"description\":\"the "            \
	"application's reference\"},\"interview_slots\":{\"type\":"            \
	"\"integer\",\"description\":\"the number of interview slots\"}}}"

static void assert_output(const json_t *run, const char *ref, int slots)
{
	const json_t *out = json_object_get(run, "output");
	char *txt = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_msg(rel_str(out, "reference") &&
	                  !strcmp(rel_str(out, "reference"), ref) &&
	                  json_integer_value(
	                      json_object_get(out, "interview_slots")) == slots,
	              "output %s, expected %s and %d", txt ? txt : "null", ref,
	              slots);
	free(txt);
}

/* A run that extracted data: the plan records where the data was found
 * (the definition list's entries), and a replay for another person reads
 * that person's data there, with no model call. When the data moved (a
 * table instead of the list) the replay fails naming the extraction, or
 * the agent takes over and the plan learns the new place. */
START_TEST(extraction_replays_where_the_data_was_found)
{
	char *dir = skytest_tmpdir("replay-extract");
	rel_rig r;
	set_mode(M_BASE);
	set_data(D_LIST);
	engine_start(&r, dir, "rules");
	char *p1 = payload("Chris", "Bacon", "chris@pbacon.com");
	char *p2 = payload("Ada", "Lovelace", "ada@analytical.engine");
	json_t *run = apply(&r, "skyvern-1.0", p1, SCHEMA);
	show("record", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	assert_output(run, "REF-BACON", 5);
	json_decref(run);
	json_t *sc = the_script(&r);
	char *plan = json_dumps(json_object_get(sc, "plan"), JSON_COMPACT);
	if (getenv("REPLAY_DEBUG"))
		fprintf(stderr, "plan: %s\n", plan);
	/* Where, not what: the value found is not in the plan. */
	ck_assert_msg(!strstr(plan, "REF-BACON"), "%s", plan);
	ck_assert_msg(strstr(plan, "\"Reference\""), "%s", plan);
	free(plan);
	json_decref(sc);
	rel_rig_stop(&r, 0);

	/* Another person: the model only counts, and must not be asked. */
	setenv("OPENAI_API_KEY", OPENAI_KEY, 1);
	engine_start(&r, dir, "openai");
	set_mode(M_BASE);
	set_data(D_LIST);
	int before = model_calls();
	run = apply(&r, "skyvern-1.0", p2, SCHEMA ",\"run_with\":\"code\"");
	show("replay", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	ck_assert_int_eq(model_calls() - before, 0);
	assert_person("Ada", "Lovelace", "ada@analytical.engine");
	assert_output(run, "REF-LOVELACE", 8);
	ck_assert(json_is_false(
	    json_object_get(script_run(run), "ai_fallback_triggered")));
	json_decref(run);

	/* The data moved: without fallback a clear failure. */
	set_mode(M_BASE);
	set_data(D_TABLE);
	before = model_calls();
	run = apply(&r, "skyvern-1.0", p2, SCHEMA ",\"run_with\":\"code\"");
	ck_assert_str_eq(rel_str(run, "status"), "failed");
	const char *why = rel_str(run, "failure_reason");
	ck_assert_msg(why && strstr(why, "final extraction") &&
	                  strstr(why, "reference"),
	              "failure_reason: %s", why ? why : "(none)");
	ck_assert_int_eq(model_calls() - before, 0);
	json_decref(run);
	rel_rig_stop(&r, 0);

	/* With fallback the agent reads it, and the plan learns where. */
	engine_start(&r, dir, "rules");
	set_mode(M_BASE);
	set_data(D_TABLE);
	run = apply(&r, "skyvern-1.0", p2,
	            SCHEMA ",\"run_with\":\"code\",\"ai_fallback\":true");
	show("fallback", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	ck_assert(json_is_true(
	    json_object_get(script_run(run), "ai_fallback_triggered")));
	assert_output(run, "REF-LOVELACE", 8);
	json_decref(run);
	sc = the_script(&r);
	ck_assert_int_eq(json_integer_value(json_object_get(sc, "version")), 2);
	json_decref(sc);
	rel_rig_stop(&r, 0);

	engine_start(&r, dir, "openai");
	set_mode(M_BASE);
	set_data(D_TABLE);
	before = model_calls();
	run = apply(&r, "skyvern-1.0", p1, SCHEMA ",\"run_with\":\"code\"");
	show("replay of the updated plan", run);
	ck_assert_str_eq(rel_str(run, "status"), "completed");
	ck_assert_int_eq(model_calls() - before, 0);
	assert_output(run, "REF-BACON", 5);
	json_decref(run);
	rel_rig_stop(&r, 1);
	free(p1);
	free(p2);
	free(dir);
}
END_TEST

/* Each test runs in its own process (Check forks): the servers start
 * there. */
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
	site_dir = skytest_src_path("tests/integration/replay/site");
	S.posts = json_array();
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");
	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, v1_replays_new_payload_without_the_model);
	tcase_add_test(tc, v2_replays_new_payload_without_the_model);
	tcase_add_test(tc, renamed_field_falls_back_or_fails_clearly);
	tcase_add_test(tc, v2_renamed_field_falls_back_or_fails_clearly);
	tcase_add_test(tc, extra_step_falls_back_or_fails_clearly);
	tcase_add_test(tc, moved_button_still_replays);
	tcase_add_test(tc, plan_never_holds_a_secret);
	tcase_add_test(tc, extraction_replays_where_the_data_was_found);
	suite_add_tcase(s, tc);
	int rc = skytest_run(s);
	json_decref(S.posts);
	free(site_dir);
	return rc;
}
