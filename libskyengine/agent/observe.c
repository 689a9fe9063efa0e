/* Observe: settle the page, snapshot it, render the element tree, read
 * the page state (tabs, dialogs, downloads) and take a screenshot. */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "llm/llm.h"
#include "page/page.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

struct sky_obs_shot {
	pthread_t thread;
	const sky_browser_provider *b;
	void *ctx;
	const char *task_id;
	unsigned char *img;
	size_t len;
	int rc;
};

/* The step's screenshot; the settle is asked to take it ahead in the
 * same options (browser-cdp: "screenshot" in the settle options). */
#define SHOT_OPTS "{\"format\":\"jpeg\",\"quality\":70}"

static int take_screenshot(const sky_browser_provider *b, void *ctx,
                           const char *task_id, unsigned char **img,
                           size_t *len)
{
	char *err = NULL;
	int rc = b->screenshot(ctx, SHOT_OPTS, img, len, &err);
	if (rc) {
		sky_log_warn("agent", "run %s: screenshot failed: %s", task_id,
		             err ? err : "?");
		*img = NULL;
		*len = 0;
	}
	free(err);
	return rc;
}

static void *shot_main(void *arg)
{
	struct sky_obs_shot *s = arg;
	s->rc = take_screenshot(s->b, s->ctx, s->task_id, &s->img, &s->len);
	return NULL;
}

void sky_obs_screenshot_wait(sky_obs *o)
{
	if (!o || !o->shot)
		return;
	int64_t t0 = skyx_time_mono_ms();
	pthread_join(o->shot->thread, NULL);
	o->screenshot_ms = (int)(skyx_time_mono_ms() - t0);
	if (o->shot->rc == 0) {
		o->png = o->shot->img;
		o->png_len = o->shot->len;
	}
	free(o->shot);
	o->shot = NULL;
}

void sky_obs_free(sky_obs *o)
{
	if (!o)
		return;
	sky_obs_screenshot_wait(o);
	json_decref(o->snapshot);
	json_decref(o->elements);
	json_decref(o->url_map);
	json_decref(o->state);
	free(o->tree);
	free(o->url);
	free(o->title);
	free(o->page_text);
	free(o->png);
	free(o);
}

void sky_agent_page_input(const sky_obs *o, sky_planner_page *page)
{
	memset(page, 0, sizeof *page);
	page->url = o->url;
	page->title = o->title;
	page->element_tree = o->tree;
	page->snapshot = o->snapshot;
	page->page_text = o->page_text;
	page->dialogs = json_object_get(o->state, "dialogs");
	page->tabs = json_object_get(o->state, "tabs");
}

/* Call a plugin operation that returns JSON text and parse it. */
static int take_json(int rc, char *text, char *err, const char *what,
                     json_t **out)
{
	*out = NULL;
	if (rc) {
		rc = sky_error_set(rc, "%s failed: %s", what,
		                   err ? err : sky_strerror(rc));
		free(err);
		free(text);
		return rc;
	}
	free(err);
	*out = sky_json_loads(text);
	free(text);
	if (!*out)
		return sky_error_set(SKY_EBROWSER, "%s returned invalid JSON",
		                     what);
	return 0;
}

/* Record the files the browser finished downloading since last time. */
static void note_downloads(sky_run *r, const json_t *state)
{
	size_t i;
	json_t *d;
	json_array_foreach (json_object_get(state, "downloads"), i, d) {
		const char *path = sky_json_str(d, "path");
		const char *st = sky_json_str(d, "state");
		const char *root = sky_agent_root(r->env);
		if (!path || !skyx_str_startswith(path, root) ||
		    (st && strcmp(st, "completed")))
			continue;
		const char *rel = path + strlen(root);
		while (*rel == '/')
			rel++;
		/* A file is recorded once, whichever way we saw it. */
		size_t k;
		json_t *seen;
		int dup = 0;
		json_array_foreach (r->downloads, k, seen)
			dup |= skyx_str_eq(json_string_value(seen), rel);
		if (dup)
			continue;
		/* The browser reports no checksum here: the file is the
		 * truth for both. */
		char hex[SKYX_SHA256_HEX_LEN];
		int64_t size = sky_json_int(d, "size", 0);
		const char *sum = sky_json_str(d, "sha256");
		if (!sum && skyx_sha256_file_hex(path, hex, &size) == 0)
			sum = hex;
		json_array_append_new(r->downloads, json_string(rel));
		sky_store_artifact_add(r->env->store, r->task->task_id,
		                       r->step ? r->step->step_id : NULL,
		                       SKY_ARTIFACT_DOWNLOAD, rel, size, sum,
		                       NULL);
	}
}

void sky_agent_collect_downloads(sky_run *r, int wait_ms)
{
	int64_t until = skyx_time_mono_ms() + wait_ms;
	if (!r->ctx || !r->bvt->page_state)
		return;
	for (;;) {
		char *text = NULL, *err = NULL;
		json_t *st = NULL;
		int rc = r->bvt->page_state(r->ctx, &text, &err);
		if (take_json(rc, text, err, "page_state", &st))
			return;
		note_downloads(r, st);
		json_int_t pending =
		    sky_json_int(st, "downloads_in_progress", 0);
		json_decref(st);
		if (pending <= 0 || skyx_time_mono_ms() >= until ||
		    sky_agent_canceled(r))
			return;
		skyx_time_sleep_ms(100);
	}
}

int sky_agent_observe(sky_run *r, int with_screenshot, sky_obs **out)
{
	const sky_browser_provider *b = r->bvt;
	sky_obs *o = calloc(1, sizeof *o);
	char *text = NULL, *err = NULL;
	int rc;
	int64_t t0 = skyx_time_mono_ms();
	*out = NULL;
	if (!o)
		return sky_error_from_code(SKY_ENOMEM);

	if (b->settle) {
		char opts[224];
		json_t *res = NULL;
		const sky_agent_config *ac = r->env->config;
		int n = snprintf(opts, sizeof opts, "{\"max_ms\":%d",
		                 ac->settle_max_ms);
		if (ac->settle_network_quiet_ms >= 0)
			n += snprintf(opts + n, sizeof opts - (size_t)n,
			              ",\"network_quiet_ms\":%d",
			              ac->settle_network_quiet_ms);
		if (ac->settle_dom_quiet_ms >= 0)
			n += snprintf(opts + n, sizeof opts - (size_t)n,
			              ",\"dom_quiet_ms\":%d",
			              ac->settle_dom_quiet_ms);
		if (with_screenshot && b->screenshot)
			n += snprintf(opts + n, sizeof opts - (size_t)n,
			              ",\"screenshot\":" SHOT_OPTS);
		snprintf(opts + n, sizeof opts - (size_t)n, "}");
		rc = b->settle(r->ctx, opts, &text, &err);
		/* An unsettled page is still observed: busy pages exist. */
		if (take_json(rc, text, err, "settle", &res) == 0 &&
		    !sky_json_bool(res, "settled", 1))
			sky_log_debug("agent", "run %s: page not settled: %s",
			              r->task->task_id,
			              sky_json_str(res, "reason")
			                  ? sky_json_str(res, "reason")
			                  : "?");
		json_decref(res);
		text = err = NULL;
	}
	int64_t t1 = skyx_time_mono_ms();
	o->settle_ms = (int)(t1 - t0);

	/* The model gets no image (vision off, or a model without it): the
	 * screenshot is for the recording only, so it is taken beside the
	 * snapshot, the prompt and the model call, off the step's path. The
	 * page does not change meanwhile: the step acts only after it. */
	if (with_screenshot == SKY_OBS_SHOT_RECORDING && b->screenshot &&
	    !(r->env->config->vision && r->llm &&
	      sky_llm_supports_vision(r->llm))) {
		struct sky_obs_shot *s = calloc(1, sizeof *s);
		if (s) {
			s->b = b;
			s->ctx = r->ctx;
			s->task_id = r->task->task_id;
			if (pthread_create(&s->thread, NULL, shot_main, s) == 0)
				o->shot = s;
			else
				free(s);
		}
	}

	rc = b->snapshot(r->ctx, sky_page_script(NULL), "{}", &text, &err);
	if ((rc = take_json(rc, text, err, "snapshot", &o->snapshot)))
		goto fail;
	text = err = NULL;
	int64_t t2 = skyx_time_mono_ms();
	o->snapshot_ms = (int)(t2 - t1);

	int64_t t_tree = skyx_time_mono_ms();
	sky_page_render_options ro;
	sky_page_tree *tree = NULL;
	sky_page_render_options_init(&ro);
	ro.max_tokens = (size_t)r->env->config->tree_budget_tokens;
	if ((rc = sky_page_render_json(o->snapshot, &ro, &tree)))
		goto fail;
	o->tree = skyx_strdup(sky_page_tree_text(tree));
	o->elements = json_incref(sky_page_tree_elements(tree));
	o->url_map = json_object();
	for (size_t i = 1; i <= sky_page_tree_url_count(tree); i++) {
		char key[32];
		snprintf(key, sizeof key, "u%zu", i);
		const char *u = sky_page_tree_url(tree, key);
		if (u)
			json_object_set_new(o->url_map, key, json_string(u));
	}
	sky_page_tree_free(tree);
	o->tree_ms = (int)(skyx_time_mono_ms() - t_tree);
	o->url = skyx_strdup(sky_json_str(o->snapshot, "url"));
	o->title = skyx_strdup(sky_json_str(o->snapshot, "title"));
	o->page_text = skyx_strdup(sky_json_str(o->snapshot, "text"));

	int64_t t_state = skyx_time_mono_ms();
	if (b->page_state) {
		rc = b->page_state(r->ctx, &text, &err);
		if (take_json(rc, text, err, "page_state", &o->state) == 0)
			note_downloads(r, o->state);
		text = err = NULL;
	}
	if (!o->state)
		o->state = json_object();
	o->state_ms = (int)(skyx_time_mono_ms() - t_state);

	if (with_screenshot && b->screenshot && !o->shot) {
		int64_t t3 = skyx_time_mono_ms();
		take_screenshot(b, r->ctx, r->task->task_id, &o->png,
		                &o->png_len);
		o->screenshot_ms = (int)(skyx_time_mono_ms() - t3);
	}
	if (o->url) {
		free(r->last_url);
		r->last_url = skyx_strdup(o->url);
	}
	*out = o;
	return 0;
fail:
	sky_obs_free(o);
	return rc;
}
