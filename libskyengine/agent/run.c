/*
 * One run from `running` to a final status: set up the browser context
 * (downloads, headers, proxy), resume what a crash interrupted, navigate,
 * run the v1 or v2 loop, extract, surface error codes, store the final
 * status, write the recording, close the context.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define RESUME_LIMIT 3
#define INTERRUPTED "the engine restarted during the step"

/* The run lets go of its browser session's context (never closed here:
 * the session keeps it for the next run). */
static void leave_session(sky_run *r)
{
	/* No live view of a context the run lets go of. */
	sky_agent_context_leaving(r);
	if (!r->session_id)
		return;
	r->ctx = NULL;
	sky_agent_session_release(r);
}

static void run_free(sky_run *r)
{
	leave_session(r);
	if (r->ctx)
		r->bvt->context_close(r->ctx);
	sky_agent_credential_release(r);
	sky_agent_secrets_release(r);
	json_decref(r->payload);
	json_decref(r->schema);
	json_decref(r->mapping);
	json_decref(r->history);
	json_decref(r->unknown_effects);
	json_decref(r->errors);
	json_decref(r->output);
	json_decref(r->downloads);
	json_decref(r->codes);
	json_decref(r->recent_errors);
	json_decref(r->llm_calls);
	json_decref(r->plan_rec);
	json_decref(r->plan_extraction);
	sky_step_rec_free(r->step);
	free(r->run_dir);
	free(r->download_dir);
	free(r->last_url);
	free(r->last_error);
}

static int set_final(sky_run *r, sky_task_status st, const char *reason)
{
	/* Before the status is stored: a client that sees the run final may
	 * submit the session's next run at once. */
	if (r->ctx)
		sky_agent_collect_downloads(r, 5000);
	/* and a client may save a profile from the run at once */
	sky_agent_context_closing(r);
	leave_session(r);
	if (json_array_size(r->errors)) {
		char *e = sky_json_dumps(r->errors);
		sky_store_task_set_errors(r->env->store, r->task->task_id, e);
		free(e);
	}
	if (r->output) {
		char *o = sky_json_dumps(r->output);
		sky_store_task_set_output(r->env->store, r->task->task_id, o);
		free(o);
	}
	int rc = sky_store_task_set_status(r->env->store, r->task->task_id, st,
	                                   reason, NULL);
	if (rc)
		/* Canceled meanwhile (finals are frozen): that status wins. */
		sky_log_info("agent", "run %s: not moved to %s: %s",
		             r->task->task_id, sky_task_status_name(st),
		             sky_error_last());
	else
		sky_log_info("agent", "run %s %s%s%s", r->task->task_id,
		             sky_task_status_name(st), reason ? ": " : "",
		             reason ? reason : "");
	return rc;
}

/* "reason (error codes: A, B)" when codes were surfaced. */
static char *with_codes(sky_run *r, const char *reason)
{
	if (!json_array_size(r->errors))
		return skyx_strdup(reason);
	skyx_buf b = {0};
	size_t i;
	json_t *e;
	skyx_buf_puts(&b, reason);
	skyx_buf_puts(&b, " (error codes: ");
	json_array_foreach (r->errors, i, e) {
		if (i)
			skyx_buf_puts(&b, ", ");
		skyx_buf_puts(&b, sky_json_str(e, "error_code"));
	}
	skyx_buf_puts(&b, ")");
	return skyx_buf_steal(&b);
}

/* Proxy for the run's context (the host's choice), and the record of
 * what was applied. */
static json_t *proxy_for(sky_run *r)
{
	json_t *proxy = NULL, *applied = NULL;
	if (sky_agent_proxy_for(r, &proxy, &applied))
		return NULL;
	if (json_is_false(json_object_get(applied, "applied")))
		sky_log_warn("agent",
		             "run %s: proxy_location not applied (%s); "
		             "going direct",
		             r->task->task_id, sky_json_str(applied, "reason"));
	char *a = sky_json_dumps(applied);
	sky_store_task_set_proxy_applied(r->env->store, r->task->task_id, a);
	free(a);
	json_decref(applied);
	return proxy;
}

/* A run with browser_session_id works in the session's context, from
 * its current page, with the session's proxy and downloads dir. */
static int attach_session(sky_run *r)
{
	void *ctx = NULL;
	const char *dir = NULL;
	const char *id = r->task->browser_session_id;
	int rc = sky_agent_session_attach(r, id, &ctx, &dir);
	if (rc)
		return rc;
	r->session_id = id;
	r->ctx = ctx;
	free(r->download_dir);
	r->download_dir = skyx_strdup(dir);
	json_t *applied =
	    json_pack("{s:b, s:s, s:s}", "applied", 1, "mode",
	              "browser_session", "browser_session_id", id);
	char *a = sky_json_dumps(applied);
	sky_store_task_set_proxy_applied(r->env->store, r->task->task_id, a);
	free(a);
	json_decref(applied);
	return 0;
}

static int open_own_context(sky_run *r)
{
	json_t *o =
	    json_pack("{s:s, s:{s:i, s:i}}", "download_dir", r->download_dir,
	              "viewport", "width", 1280, "height", 800);
	json_t *headers = sky_json_or_null(r->task->extra_http_headers);
	if (json_is_object(headers))
		json_object_set(o, "extra_http_headers", headers);
	json_decref(headers);
	json_t *proxy = proxy_for(r);
	if (proxy)
		json_object_set_new(o, "proxy", proxy);
	char *opts = sky_json_dumps(o);
	json_decref(o);
	char *err = NULL;
	int rc = r->bvt->context_open(r->browser, opts, &r->ctx, &err);
	/* a pool endpoint that fails: the next one */
	while (rc && rc != SKY_EINVALID && rc != SKY_ENOMEM &&
	       !sky_agent_browser_retry(r)) {
		free(err);
		err = NULL;
		r->ctx = NULL;
		rc = r->bvt->context_open(r->browser, opts, &r->ctx, &err);
	}
	free(opts);
	if (rc) {
		sky_error_set(rc, "could not open a browser context: %s",
		              err ? err : sky_strerror(rc));
		r->ctx = NULL;
	} else if ((rc = sky_agent_context_prepare(r))) {
		/* a browser profile that cannot be loaded (error set) */
		r->bvt->context_close(r->ctx);
		r->ctx = NULL;
	}
	free(err);
	return rc;
}

/* The run's context (its own, or its browser session's), watched by
 * live views from here on. */
static int open_context(sky_run *r)
{
	int rc = r->task->browser_session_id ? attach_session(r)
	                                     : open_own_context(r);
	if (!rc)
		sky_agent_context_opened(r);
	return rc;
}

static int navigate(sky_run *r, const char *url, char **why)
{
	char opts[96], *text = NULL, *err = NULL;
	snprintf(opts, sizeof opts, "{\"timeout_ms\":%d,\"retries\":2}",
	         r->env->config->navigate_timeout_ms);
	int rc = r->bvt->navigate(r->ctx, url, opts, &text, &err);
	if (rc)
		*why = skyx_strdup(err ? err : sky_strerror(rc));
	free(text);
	free(err);
	return rc;
}

/* A start URL that does not open keeps its step, as in Skyvern, which
 * creates the run's first step before it navigates: the step holds the
 * goto_url action and the error, and is failed. (A page that opens was
 * opened by the first step the loop records, as in Skyvern; step orders
 * stay those recorded model answers are keyed by.) For a task v2 the
 * step is its first mini-goal, "Go to this website: URL": the timeline's
 * goto_url block. */
static void nav_step_failed(sky_run *r, const char *url, const char *error)
{
	sky_step_rec *st = NULL;
	if (sky_store_step_create(r->env->store, r->task->task_id,
	                          r->next_order, r->resume_retry, &st) ||
	    sky_store_step_set_status(r->env->store, st->step_id,
	                              SKY_STEP_RUNNING, NULL)) {
		sky_log_warn("agent", "run %s: could not record the step: %s",
		             r->task->task_id, sky_error_last());
		sky_step_rec_free(st);
		return;
	}
	json_t *a = json_pack("{s:s, s:s, s:s}", "action_type", "goto_url",
	                      "url", url, "reasoning", "open the task's URL");
	json_t *res = json_pack("{s:b, s:s, s:s}", "success", 0, "error",
	                        "navigation_failed", "message", error);
	char *aj = sky_json_dumps(a), *rj = sky_json_dumps(res);
	sky_store_action_append(r->env->store, st->step_id, aj, rj, "failed",
	                        NULL);
	char *goal = skyx_asprintf("Go to this website: %s", url);
	json_t *out =
	    json_pack("{s:[s], s:s, s:s, s:s}", "errors", error, "url", url,
	              "task_type", "goto_url", "mini_goal", goal);
	char *oj = sky_json_dumps(out);
	char *clean = sky_redact(oj);
	sky_store_step_set_output(r->env->store, st->step_id,
	                          clean ? clean : oj);
	sky_store_step_set_status(r->env->store, st->step_id, SKY_STEP_FAILED,
	                          NULL);
	free(clean);
	free(oj);
	free(goal);
	json_decref(out);
	free(aj);
	free(rj);
	json_decref(a);
	json_decref(res);
	sky_step_rec_free(st);
}

/* Open the run's start URL; `*reason` is Skyvern's failure reason. */
static int open_start(sky_run *r, const char *url, char **reason)
{
	char *why = NULL;
	int rc = navigate(r, url, &why);
	if (rc) {
		*reason = skyx_asprintf("Failed to navigate to URL. URL:%s, "
		                        "Error:%s",
		                        url, why);
		/* A resumed run's steps are kept already. */
		if (!r->resumed)
			nav_step_failed(r, url, *reason);
	}
	free(why);
	return rc;
}

int sky_agent_reopen_if_lost(sky_run *r, char **why)
{
	char *state = NULL, *err = NULL;
	*why = NULL;
	if (!r->browser_lost)
		return 0;
	r->browser_lost = 0;
	/* Only a dead browser is worth a new one; a failed click is not. */
	int rc =
	    r->ctx ? r->bvt->page_state(r->ctx, &state, &err) : SKY_EBROWSER;
	free(state);
	free(err);
	if (rc != SKY_EBROWSER)
		return 0;
	sky_log_warn("agent", "run %s: the browser is gone; reopening at %s",
	             r->task->task_id, r->last_url ? r->last_url : "the start");
	sky_agent_context_leaving(r);
	if (r->ctx)
		r->bvt->context_close(r->ctx);
	r->ctx = NULL;
	if ((rc = open_context(r))) {
		*why = skyx_strdup(sky_error_last());
		return rc;
	}
	const char *start = r->last_url ? r->last_url : r->task->url;
	if (start && (rc = navigate(r, start, why)))
		return rc;
	return 0;
}

/* Rebuild state from the steps a crash left behind. Returns -1 when the
 * run was interrupted too often and must fail. */
static int resume_state(sky_run *r)
{
	sky_step_list *steps = NULL;
	sky_action_list *acts = NULL;
	int interrupted = 0;
	if (sky_store_step_list(r->env->store, r->task->task_id, &steps) ||
	    !steps->count) {
		sky_step_list_free(steps);
		return 0;
	}
	r->resumed = 1;
	for (size_t i = 0; i < steps->count; i++) {
		sky_step_rec *st = &steps->items[i];
		if (st->status == SKY_STEP_RUNNING ||
		    st->status == SKY_STEP_CREATED) {
			sky_store_step_set_output(r->env->store, st->step_id,
			                          "{\"errors\":[\"" INTERRUPTED
			                          "\"],"
			                          "\"interrupted\":true}");
			sky_store_step_set_status(r->env->store, st->step_id,
			                          SKY_STEP_FAILED, NULL);
			st->status = SKY_STEP_FAILED;
			free(st->output);
			st->output = skyx_strdup("{\"interrupted\":true}");
		}
		json_t *out = sky_json_loads(st->output);
		if (sky_json_bool(out, "interrupted", 0))
			interrupted++;
		const char *u = sky_json_str(out, "url");
		if (u) {
			free(r->last_url);
			r->last_url = skyx_strdup(u);
		}
		json_decref(out);
	}
	sky_step_rec *last = &steps->items[steps->count - 1];
	if (last->status == SKY_STEP_FAILED) {
		r->next_order = last->order;
		r->resume_retry = last->retry_index + 1;
	} else {
		r->next_order = last->order + 1;
	}
	/* History: every recorded action, grouped by step; those a crash
	 * cut have an unknown outcome (intent.c). */
	if (!sky_store_action_list(r->env->store, r->task->task_id, NULL,
	                           &acts)) {
		sky_agent_intent_resume(r, acts);
		for (size_t i = 0; i < steps->count; i++) {
			sky_step_rec *st = &steps->items[i];
			json_t *list = json_array();
			for (size_t k = 0; k < acts->count; k++)
				if (!strcmp(acts->items[k].step_id,
				            st->step_id))
					json_array_append_new(
					    list,
					    json_pack(
					        "{s:o, s:o}", "action",
					        sky_json_or_null(
					            acts->items[k].action),
					        "result",
					        sky_json_or_null(
					            acts->items[k].result)));
			json_array_append_new(
			    r->history,
			    json_pack("{s:i, s:i, s:s, s:o}", "order",
			              st->order, "retry_index", st->retry_index,
			              "status",
			              sky_step_status_name(st->status),
			              "actions", list));
		}
	}
	sky_action_list_free(acts);
	sky_step_list_free(steps);
	sky_agent_note_error(r, "%s", INTERRUPTED);
	return interrupted >= RESUME_LIMIT ? -1 : 0;
}

/* True when v holds no answer: null, an empty or blank string, or an
 * object whose every value holds none. An empty array is an answer ("no
 * rows"); false and 0 are answers. */
static int no_answer(const json_t *v, int depth)
{
	if (!v || json_is_null(v))
		return 1;
	if (json_is_string(v)) {
		for (const char *p = json_string_value(v); *p; p++)
			if (!isspace((unsigned char)*p))
				return 0;
		return 1;
	}
	if (json_is_object(v) && depth < 8) {
		const char *k;
		json_t *x;
		json_object_foreach ((json_t *)v, k, x)
			if (!no_answer(x, depth + 1))
				return 0;
		return 1;
	}
	return 0;
}

/*
 * What a schema asks for that the output lacks, as "a, b" (malloc'd), or
 * NULL when the output answers it. With "required" (at the top level of
 * an object schema), each required property must hold an answer; without
 * it, at least one property must. Skyvern's shorthand, a map of property
 * name to schema without "type"/"properties", is read as properties. A
 * schema that is not an object needs a non-null output.
 */
char *sky_agent_missing_data(const json_t *schema, const json_t *output)
{
	if (!schema || json_is_null(schema) || !json_is_object(schema))
		return NULL;
	const json_t *props = json_object_get(schema, "properties");
	const json_t *type = json_object_get(schema, "type");
	if (!props && !type)
		props = schema; /* shorthand */
	if (!json_is_object(props)) {
		if (no_answer(output, 0))
			return skyx_strdup("the data the schema asks for");
		return NULL;
	}
	if (!json_object_size(props))
		return NULL;
	skyx_buf b = {0};
	const json_t *req = json_object_get(schema, "required");
	if (json_is_array(req) && json_array_size(req)) {
		size_t i;
		json_t *k;
		json_array_foreach (req, i, k) {
			const char *name = json_string_value(k);
			if (name && no_answer(json_object_get(output, name), 0))
				skyx_buf_printf(&b, "%s%s", b.len ? ", " : "",
				                name);
		}
		return b.len ? skyx_buf_steal(&b) : NULL;
	}
	if (!no_answer(output, 0))
		return NULL;
	const char *k;
	json_t *x;
	json_object_foreach ((json_t *)props, k, x)
		skyx_buf_printf(&b, "%s%s", b.len ? ", " : "", k);
	return skyx_buf_steal(&b);
}

/* The report of a run_with "code" run, kept in the task's notes as
 * "script_run" (the run response shows it). */
static void note_script_run(sky_run *r, json_t *report)
{
	sky_task_rec *now = NULL;
	json_t *notes = NULL;
	if (!sky_store_task_get(r->env->store, NULL, r->task->task_id, &now))
		notes = sky_json_loads(now->notes);
	sky_task_rec_free(now);
	if (!json_is_object(notes)) {
		json_decref(notes);
		notes = json_object();
	}
	json_object_set(notes, "script_run", report);
	char *txt = sky_json_dumps(notes);
	char *clean = txt ? sky_redact(txt) : NULL;
	if (clean || txt)
		sky_store_task_set_notes(r->env->store, r->task->task_id,
		                         clean ? clean : txt);
	free(clean);
	free(txt);
	json_decref(notes);
}

/*
 * run_with "code" (docs/replay.md): replay the plan stored under the
 * run's key. Returns 1 when the replay decided the run (*res, *reason),
 * 0 when the agent runs: there is no plan yet (the agent records one),
 * or a step did not match and ai_fallback lets the agent take over from
 * there. *report is the run's script_run (NULL when not run_with code).
 */
static int try_replay(sky_run *r, json_t **report, sky_agent_result *res,
                      char **reason)
{
	const sky_task_rec *t = r->task;
	json_t *notes = sky_json_loads(t->notes);
	int code = skyx_str_eq(sky_json_str(notes, "run_with"), "code");
	int fallback = sky_json_bool(notes, "ai_fallback", 0);
	json_decref(notes);
	*report = NULL;
	if (!code || r->resumed)
		return 0;
	char *key = sky_agent_plan_key(t);
	sky_script_rec *sc = NULL;
	int found =
	    !sky_store_script_find(r->env->store, t->organization_id, key, &sc);
	*report = json_pack("{s:b, s:s?, s:s?, s:o, s:s, s:[], s:n, s:n}",
	                    "ai_fallback_triggered", 0, "script_id",
	                    found ? sc->script_id : NULL, "script_revision_id",
	                    found ? sc->script_revision_id : NULL, "version",
	                    found ? json_integer(sc->version) : json_null(),
	                    "cache_key", key, "steps_replayed", "fallback_step",
	                    "mismatch");
	free(key);
	if (!found) {
		sky_log_info("agent",
		             "run %s: run_with code and no plan yet: the "
		             "agent runs and records one",
		             t->task_id);
		return 0;
	}
	json_t *plan = sky_json_loads(sc->plan);
	sky_log_info("agent", "run %s: replaying plan %s version %d",
	             t->task_id, sc->script_id, sc->version);
	sky_script_rec_free(sc);
	*res = sky_agent_replay(r, plan, *report, reason);
	json_decref(plan);
	if (*res != SKY_AGENT_FAILED || !json_object_get(*report, "mismatch") ||
	    json_is_null(json_object_get(*report, "mismatch")))
		return 1;
	if (!fallback) {
		char *full = skyx_asprintf("The replayed plan did not match "
		                           "the page: %s (ai_fallback: true "
		                           "lets the agent take over)",
		                           *reason ? *reason : "?");
		free(*reason);
		*reason = full;
		return 1;
	}
	json_object_set_new(*report, "ai_fallback_triggered", json_true());
	json_object_set(*report, "fallback_step",
	                json_object_get(*report, "mismatch_step"));
	json_object_del(*report, "mismatch_step");
	sky_log_info("agent", "run %s: %s; the agent takes over", t->task_id,
	             *reason ? *reason : "mismatch");
	free(*reason);
	*reason = NULL;
	return 0;
}

static void init_run(sky_run *r, const sky_agent_env *env,
                     const sky_task_rec *t)
{
	memset(r, 0, sizeof *r);
	r->env = env;
	r->task = t;
	r->bvt = env->browser;
	r->browser = env->browser_inst;
	r->llm = env->llm;
	r->run_dir =
	    skyx_asprintf("%s/runs/%s", sky_agent_root(env), t->task_id);
	r->download_dir = skyx_asprintf("%s/downloads", r->run_dir);
	r->payload = sky_json_or_null(t->navigation_payload);
	r->schema = sky_json_or_null(t->data_extraction_schema);
	r->mapping = sky_json_or_null(t->error_code_mapping);
	r->history = json_array();
	r->errors = json_array();
	r->downloads = json_array();
	r->recent_errors = json_array();
	r->max_steps = t->max_steps > 0 ? t->max_steps : env->max_steps;
	r->max_retries = env->max_retries_per_step;
	r->deadline_ms =
	    skyx_time_mono_ms() + (int64_t)env->config->run_timeout_s * 1000;
	r->totp_available = t->totp_identifier || t->totp_url;
}

void sky_agent_execute(const sky_agent_env *env, const sky_task_rec *t)
{
	sky_run r;
	char *reason = NULL, *why = NULL;
	sky_agent_result res;
	int rc;

	init_run(&r, env, t);
	if (env->cb && (env->cb->version < 1 ||
	                env->cb->version > SKY_AGENT_CALLBACKS_VERSION)) {
		set_final(&r, SKY_TASK_FAILED,
		          "internal error: agent callbacks of an unknown "
		          "version");
		goto out;
	}
	sky_agent_secrets_collect(&r);
	if (sky_agent_credential_load(&r, &why)) {
		set_final(&r, SKY_TASK_FAILED, why);
		goto out;
	}
	if (!r.run_dir || !r.download_dir || sky_mkdir_p(r.download_dir)) {
		set_final(&r, SKY_TASK_FAILED,
		          "could not create the run's "
		          "directory");
		goto out;
	}
	if (resume_state(&r) < 0) {
		set_final(&r, SKY_TASK_FAILED,
		          "The engine restarted during the run 3 times; giving "
		          "up on it");
		goto out;
	}
	if (!r.bvt || !r.llm) {
		set_final(&r, SKY_TASK_FAILED,
		          env->unavailable ? env->unavailable
		                           : "no browser or model for the run");
		goto out;
	}
	if ((rc = open_context(&r))) {
		why = skyx_strdup(sky_error_last());
		set_final(&r, SKY_TASK_FAILED, why);
		goto out;
	}
	const char *start = r.last_url ? r.last_url : t->url;
	if (start && open_start(&r, start, &reason)) {
		set_final(&r, SKY_TASK_FAILED, reason);
		goto out;
	}

	/* data_extraction_goal: the legacy TaskRequest's extraction,
	 * with or without a schema. */
	int extracts = !json_is_null(r.schema) || t->data_extraction_goal;
	int schema_only = extracts && (!t->prompt || !*t->prompt);
	/* run_with "code": the stored plan first (replay.c). */
	json_t *report = NULL;
	if (!schema_only && try_replay(&r, &report, &res, &reason)) {
		if (res == SKY_AGENT_COMPLETED && extracts && !r.output) {
			json_t *v = NULL;
			if (sky_agent_extract(&r, t->prompt,
			                      t->data_extraction_goal, &v))
				sky_log_warn("agent",
				             "run %s: final extraction "
				             "failed: %s",
				             t->task_id, sky_error_last());
			json_decref(v);
		}
	} else if (!strcmp(t->run_type, SKY_RUN_TYPE_V2) && !schema_only) {
		res = sky_agent_v2(&r, &reason);
	} else {
		sky_v1_goal g = {0};
		g.goal = t->prompt ? t->prompt : "";
		g.max_steps = r.max_steps;
		g.extract_only = schema_only;
		g.extraction_goal = t->data_extraction_goal;
		res = sky_agent_v1(&r, &g, &reason);
		/* Goal reached with a schema: the output is an extraction
		 * of the final page. */
		if (res == SKY_AGENT_COMPLETED && extracts && !r.output) {
			json_t *v = NULL;
			if (sky_agent_extract(&r, g.goal,
			                      t->data_extraction_goal, &v))
				sky_log_warn("agent",
				             "run %s: final extraction "
				             "failed: %s",
				             t->task_id, sky_error_last());
			json_decref(v);
		}
	}

	/* Honest verdicts, whatever the planner: a run asked for data
	 * that found none of it did not reach its goal. */
	char *missing = NULL;
	if (res == SKY_AGENT_COMPLETED &&
	    (missing = sky_agent_missing_data(r.schema, r.output))) {
		free(reason);
		reason =
		    skyx_asprintf("The goal was not reached: the run found "
		                  "no value for %s on the page",
		                  missing);
		sky_log_info("agent", "run %s: completed without %s",
		             t->task_id, missing);
		free(missing);
		res = SKY_AGENT_TERMINATED;
	}

	/* The run's plan (before the final status: a client that sees the
	 * run final finds its plan) and its replay report. */
	if (res == SKY_AGENT_COMPLETED)
		sky_agent_plan_save(&r);
	if (report)
		note_script_run(&r, report);
	json_decref(report);

	switch (res) {
	case SKY_AGENT_COMPLETED:
		set_final(&r, SKY_TASK_COMPLETED, NULL);
		break;
	case SKY_AGENT_TERMINATED: {
		char *full = with_codes(&r, reason ? reason : "terminated");
		set_final(&r, SKY_TASK_TERMINATED, full);
		free(full);
		break;
	}
	case SKY_AGENT_FAILED: {
		sky_agent_surface_errors(&r, reason, NULL);
		char *full = with_codes(&r, reason ? reason : "failed");
		set_final(&r, SKY_TASK_FAILED, full);
		free(full);
		break;
	}
	case SKY_AGENT_TIMED_OUT: {
		char *msg =
		    skyx_asprintf("The run exceeded its time limit of %d "
		                  "seconds",
		                  env->config->run_timeout_s);
		set_final(&r, SKY_TASK_TIMED_OUT, msg);
		free(msg);
		break;
	}
	case SKY_AGENT_CANCELED:
		/* The API already stored `canceled`. */
		break;
	case SKY_AGENT_PARKED:
		sky_log_info("agent", "run %s parked for the next start",
		             t->task_id);
		break;
	}
	if (res != SKY_AGENT_PARKED)
		sky_agent_write_recording(&r);
out:
	free(reason);
	free(why);
	run_free(&r);
}
