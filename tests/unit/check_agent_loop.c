/* Unit tests: the agent's step loop in a fake environment (agent.h's
 * sky_agent_env): the real store in a temp dir, a fake browser that
 * serves one canned page and records what it is asked to do, canned
 * model answers (the llm-replay provider, keyed by purpose and step),
 * and callbacks owned by the test. No engine, no worker pool, no
 * server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "llm/llm.h"
#include "plugin/loader.h"
#include "skytest.h"
#include "store/store.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include <skyx/str.h>

/* One page: a search box and a button. */
static const char PAGE[] =
    "{\"url\":\"https://shop.test/\",\"title\":\"Shop\","
    "\"viewport\":{\"width\":1280,\"height\":800},"
    "\"scroll\":{\"x\":0,\"y\":0,\"max_x\":0,\"max_y\":0},"
    "\"text\":\"Shop. Blue mug: 12.50\","
    "\"elements\":["
    "{\"tag\":\"h1\",\"text\":\"Shop\"},"
    "{\"id\":\"1\",\"tag\":\"input\",\"role\":\"textbox\","
    "\"interactable\":true,\"attrs\":{\"name\":\"q\",\"type\":\"text\"},"
    "\"label\":\"Search\",\"value\":\"\",\"in_viewport\":true,"
    "\"rect\":{\"x\":8,\"y\":50,\"w\":177,\"h\":21}},"
    "{\"id\":\"2\",\"tag\":\"button\",\"role\":\"button\","
    "\"interactable\":true,\"text\":\"Search\",\"label\":\"Search\","
    "\"in_viewport\":true,\"rect\":{\"x\":190,\"y\":50,\"w\":60,\"h\":21}}"
    "]}";

/* --- the fake browser ---------------------------------------------- */

typedef struct fake_browser {
	json_t *acts;      /* every action act() got, in order */
	json_t *navigated; /* URLs */
	int contexts_open;
	int cancel_after; /* set `canceled` after this many acts (0: never) */
	int canceled;
} fake_browser;

static fake_browser B;

static int fb_context_open(void *browser, const char *opts, void **ctx,
                           char **err)
{
	(void)opts;
	(void)err;
	((fake_browser *)browser)->contexts_open++;
	*ctx = browser;
	return 0;
}

static void fb_context_close(void *ctx)
{
	((fake_browser *)ctx)->contexts_open--;
}

static int fb_navigate(void *ctx, const char *url, const char *opts,
                       char **result, char **err)
{
	(void)opts;
	(void)err;
	json_array_append_new(((fake_browser *)ctx)->navigated,
	                      json_string(url));
	*result = strdup("{\"status\":200}");
	return 0;
}

static int fb_snapshot(void *ctx, const char *script, const char *opts,
                       char **result, char **err)
{
	(void)ctx;
	(void)script;
	(void)opts;
	(void)err;
	*result = strdup(PAGE);
	return 0;
}

static int fb_act(void *ctx, const char *action, char **result, char **err)
{
	fake_browser *b = ctx;
	(void)err;
	json_array_append_new(b->acts, sky_json_loads(action));
	if (b->cancel_after &&
	    json_array_size(b->acts) >= (size_t)b->cancel_after)
		b->canceled = 1;
	*result = strdup("{\"success\":true}");
	return 0;
}

static const sky_browser_provider FAKE_BROWSER = {
    .name = "fake",
    .context_open = fb_context_open,
    .context_close = fb_context_close,
    .navigate = fb_navigate,
    .snapshot = fb_snapshot,
    .act = fb_act,
};

/* --- the test's side of the callbacks ------------------------------- */

static json_t *EVENTS; /* [{"type", "status", "order", "json"}] */

static int cb_canceled(void *p)
{
	return ((fake_browser *)p)->canceled;
}

static void cb_emit(sky_event_type type, const char *status, int order,
                    int retry, const char *json, void *p)
{
	(void)p;
	(void)retry;
	json_array_append_new(EVENTS,
	                      json_pack("{s:i, s:s, s:i, s:o}", "type", type,
	                                "status", status, "order", order,
	                                "json", sky_json_or_null(json)));
}

/* --- one run --------------------------------------------------------- */

static char *DIR_;
static sky_store *STORE;
static sky_plugins *PLUGINS;
static struct sky_llm *LLM;

static void setup(void)
{
	memset(&B, 0, sizeof B);
	B.acts = json_array();
	B.navigated = json_array();
	EVENTS = json_array();
	DIR_ = skytest_tmpdir("agent-loop");
	ck_assert_ptr_nonnull(DIR_);
	ck_assert_int_eq(sky_store_open(&STORE, DIR_, NULL), 0);
}

static void teardown(void)
{
	sky_llm_close(LLM);
	LLM = NULL;
	sky_plugins_free(PLUGINS);
	PLUGINS = NULL;
	sky_store_close(STORE);
	STORE = NULL;
	skyx_rm_rf(DIR_);
	free(DIR_);
	json_decref(B.acts);
	json_decref(B.navigated);
	json_decref(EVENTS);
}

/* The model: canned answers, one JSON object a line, written to a file
 * the replay provider reads by purpose + step order. */
static void model_answers(const char *const *lines)
{
	char *path = skyx_path_join(DIR_, "answers.jsonl");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (; *lines; lines++)
		fprintf(f, "%s\n", *lines);
	fclose(f);
	json_t *cfg = json_pack("{s:{s:s, s:s}}", "llm", "replay_file", path,
	                        "replay_match", "step");
	char *cfg_text = sky_json_dumps(cfg);
	ck_assert_int_eq(sky_plugins_new(NULL, &PLUGINS), 0);
	ck_assert_msg(sky_llm_open(PLUGINS, "replay", cfg_text, &LLM) == 0,
	              "%s", sky_error_last());
	free(cfg_text);
	json_decref(cfg);
	free(path);
}

/* A run of `prompt` on the shop page, in `running` (as a worker gets
 * it). */
static sky_task_rec *running_task(const char *schema)
{
	sky_task_new in = {0};
	sky_task_rec *t = NULL;
	in.run_type = SKY_RUN_TYPE_V1;
	in.engine = "skyvern-1.0";
	in.queued = 1;
	in.url = "https://shop.test/";
	in.prompt = "Find the price of the blue mug";
	in.data_extraction_schema = schema;
	ck_assert_msg(sky_store_task_create(STORE, &in, &t, NULL) == 0, "%s",
	              sky_error_last());
	sky_task_rec_free(t);
	t = NULL;
	sky_lease lease = {"n_loop", 600000};
	ck_assert_int_eq(sky_store_task_claim(STORE, &lease, NULL, &t, NULL),
	                 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->status, SKY_TASK_RUNNING);
	return t;
}

static void execute(const sky_task_rec *t)
{
	sky_agent_config cfg;
	json_t *c = json_pack("{s:{s:i, s:i, s:i}}", "agent", "check_goal", 0,
	                      "screenshots", 0, "vision", 0);
	sky_agent_config_read(&cfg, c);
	json_decref(c);
	sky_agent_callbacks cb = SKY_AGENT_CALLBACKS_INIT;
	cb.canceled = cb_canceled;
	cb.emit = cb_emit;
	cb.payload = &B;
	sky_agent_env env = {0};
	env.store = STORE;
	env.data_dir = DIR_;
	env.config = &cfg;
	env.max_steps = 5;
	env.max_retries_per_step = 1;
	env.browser = &FAKE_BROWSER;
	env.browser_inst = &B;
	env.llm = LLM;
	env.cb = &cb;
	sky_agent_execute(&env, t);
}

static sky_task_rec *stored(const char *id)
{
	sky_task_rec *t = NULL;
	ck_assert_int_eq(sky_store_task_get(STORE, NULL, id, &t), 0);
	return t;
}

/* "type #id" of the i-th action the browser got. */
static char *act_at(size_t i)
{
	json_t *a = json_array_get(B.acts, i);
	return skyx_asprintf("%s #%s", sky_json_str(a, "action_type"),
	                     sky_json_str(a, "element_id"));
}

static void act_is(size_t i, const char *want)
{
	char *got = act_at(i);
	ck_assert_str_eq(got, want);
	free(got);
}

/* How many events of `type` the run emitted, and the status of the last
 * one. */
static int events_of(sky_event_type type, const char **last_status)
{
	int n = 0;
	size_t i;
	json_t *ev;
	json_array_foreach (EVENTS, i, ev) {
		if (sky_json_int(ev, "type", -1) != type)
			continue;
		n++;
		if (last_status)
			*last_status = sky_json_str(ev, "status");
	}
	return n;
}

static const char PLAN_SEARCH[] =
    "{\"purpose\":\"extract-actions\",\"order\":0,\"answer\":"
    "{\"user_goal_achieved\":false,\"actions\":["
    "{\"action_type\":\"INPUT_TEXT\",\"id\":\"1\",\"text\":\"blue mug\","
    "\"reasoning\":\"search for it\"},"
    "{\"action_type\":\"CLICK\",\"id\":\"2\",\"reasoning\":\"run the "
    "search\"}]}}";

START_TEST(completes_with_the_models_output_after_acting_in_order)
{
	const char *answers[] = {
	    PLAN_SEARCH,
	    "{\"purpose\":\"extract-actions\",\"order\":1,\"answer\":"
	    "{\"user_goal_achieved\":true,\"actions\":[{\"action_type\":"
	    "\"COMPLETE\",\"reasoning\":\"the price is shown\"}]}}",
	    "{\"purpose\":\"extract-data\",\"order\":1,\"answer\":"
	    "{\"price\":\"12.50\"}}",
	    NULL};
	model_answers(answers);
	sky_task_rec *t = running_task(
	    "{\"type\":\"object\",\"properties\":{\"price\":{\"type\":"
	    "\"string\"}}}");
	execute(t);

	sky_task_rec *after = stored(t->task_id);
	ck_assert_msg(after->status == SKY_TASK_COMPLETED, "status %s: %s",
	              sky_task_status_name(after->status),
	              after->failure_reason ? after->failure_reason : "");
	json_t *out = sky_json_loads(after->output);
	ck_assert_str_eq(sky_json_str(out, "price"), "12.50");
	json_decref(out);

	/* The page was opened, then the two actions, in the plan's order. */
	ck_assert_str_eq(json_string_value(json_array_get(B.navigated, 0)),
	                 "https://shop.test/");
	ck_assert_int_eq(json_array_size(B.acts), 2);
	act_is(0, "input_text #1");
	ck_assert_str_eq(sky_json_str(json_array_get(B.acts, 0), "text"),
	                 "blue mug");
	act_is(1, "click #2");
	ck_assert_int_eq(B.contexts_open, 0); /* closed at the end */

	/* Two steps, each started and finished; three actions (the
	 * complete is one) reached the emit callback. */
	const char *st = NULL;
	ck_assert_int_eq(events_of(SKY_EVENT_STEP_STARTED, NULL), 2);
	ck_assert_int_eq(events_of(SKY_EVENT_STEP_FINISHED, &st), 2);
	ck_assert_str_eq(st, "completed");
	ck_assert_int_eq(events_of(SKY_EVENT_ACTION, NULL), 3);
	json_t *first = json_object_get(json_array_get(EVENTS, 1), "json");
	ck_assert_str_eq(
	    sky_json_str(json_object_get(first, "action"), "action_type"),
	    "input_text");
	sky_task_rec_free(after);
	sky_task_rec_free(t);
}
END_TEST

START_TEST(cancel_through_the_callbacks_stops_within_one_action)
{
	const char *answers[] = {
	    "{\"purpose\":\"extract-actions\",\"order\":0,\"answer\":"
	    "{\"user_goal_achieved\":false,\"actions\":["
	    "{\"action_type\":\"INPUT_TEXT\",\"id\":\"1\",\"text\":\"blue "
	    "mug\"},{\"action_type\":\"CLICK\",\"id\":\"2\"},"
	    "{\"action_type\":\"INPUT_TEXT\",\"id\":\"1\",\"text\":\"red "
	    "mug\"}]}}",
	    NULL};
	model_answers(answers);
	sky_task_rec *t = running_task(NULL);
	B.cancel_after = 1; /* a cancel arrives while the first action runs */
	execute(t);

	ck_assert_int_eq(json_array_size(B.acts), 1);
	act_is(0, "input_text #1");
	/* The step is canceled; the run's final status is the canceler's to
	 * store (the API does), not the agent's. */
	sky_step_list *steps = NULL;
	ck_assert_int_eq(sky_store_step_list(STORE, t->task_id, &steps), 0);
	ck_assert_int_eq(steps->count, 1);
	ck_assert_int_eq(steps->items[0].status, SKY_STEP_CANCELED);
	sky_step_list_free(steps);
	sky_task_rec *after = stored(t->task_id);
	ck_assert_int_eq(after->status, SKY_TASK_RUNNING);
	const char *st = NULL;
	ck_assert_int_eq(events_of(SKY_EVENT_STEP_FINISHED, &st), 1);
	ck_assert_str_eq(st, "canceled");
	ck_assert_int_eq(B.contexts_open, 0);
	sky_task_rec_free(after);
	sky_task_rec_free(t);
}
END_TEST

START_TEST(without_a_browser_the_run_fails_with_the_hosts_reason)
{
	sky_task_rec *t = running_task(NULL);
	sky_agent_config cfg;
	sky_agent_config_read(&cfg, NULL);
	sky_agent_env env = {0};
	env.store = STORE;
	env.data_dir = DIR_;
	env.config = &cfg;
	env.max_steps = 5;
	env.unavailable = "browser plugin 'nope' not found";
	sky_agent_execute(&env, t); /* no callbacks at all */
	sky_task_rec *after = stored(t->task_id);
	ck_assert_int_eq(after->status, SKY_TASK_FAILED);
	ck_assert_str_eq(after->failure_reason,
	                 "browser plugin 'nope' not found");
	sky_task_rec_free(after);
	sky_task_rec_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent_loop");
	TCase *tc = tcase_create("v1");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	               completes_with_the_models_output_after_acting_in_order);
	tcase_add_test(tc,
	               cancel_through_the_callbacks_stops_within_one_action);
	tcase_add_test(tc,
	               without_a_browser_the_run_fails_with_the_hosts_reason);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
