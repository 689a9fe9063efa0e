/*
 * Live views of runs: the browser context each executing run works in,
 * and who watches it. While a run has watchers and a context, the
 * browser provider screencasts the context and every frame goes to the
 * watchers (on the browser's thread). Starts and stops happen outside
 * live_lock: the provider delivers frames under its own lock, and a
 * frame takes live_lock. A run's own thread starts and stops its
 * screencast itself (attach, detach); what a watch or an unwatch asks
 * for is done by live_thread, so that a watcher (a server's service
 * thread) never waits for the browser.
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/run.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "util/error.h"
#include "util/log.h"
#include <skyx/str.h>

typedef struct sky_live_run {
	sky_engine *e;
	char *run_id;
	const sky_browser_provider *bvt;
	void *ctx;
	int casting;
	/* The newest frame, for a watcher who joins a screencast already
	 * running (the browser sends frames only when the page paints). */
	unsigned char *last;
	size_t last_len;
	int last_w, last_h;
	char *last_url;
	struct sky_live_run *next;
} sky_live_run;

static void run_free(sky_live_run *r)
{
	if (!r)
		return;
	free(r->last);
	free(r->last_url);
	free(r->run_id);
	free(r);
}

typedef struct sky_live_watch {
	uint64_t id;
	char *run_id;
	sky_frame_fn fn;
	void *ud;
	struct sky_live_watch *next;
} sky_live_watch;

typedef struct sky_live_job {
	char *run_id;
	struct sky_live_job *next;
} sky_live_job;

void sky_engine__live_init(sky_engine *e)
{
	pthread_mutex_init(&e->live_lock, NULL);
	pthread_mutex_init(&e->live_op, NULL);
	pthread_cond_init(&e->live_cond, NULL);
}

void sky_engine__live_stop(sky_engine *e)
{
	pthread_mutex_lock(&e->live_lock);
	e->live_stopping = 1;
	int on = e->live_thread_on;
	e->live_thread_on = 0;
	pthread_cond_broadcast(&e->live_cond);
	pthread_mutex_unlock(&e->live_lock);
	if (on)
		pthread_join(e->live_thread, NULL);
	/* Jobs left are moot: every run has detached. */
	while (e->live_jobs) {
		sky_live_job *j = e->live_jobs;
		e->live_jobs = j->next;
		free(j->run_id);
		free(j);
	}
}

void sky_engine__live_free(sky_engine *e)
{
	sky_engine__live_stop(e);
	while (e->live_watches) {
		sky_live_watch *w = e->live_watches;
		e->live_watches = w->next;
		free(w->run_id);
		free(w);
	}
	while (e->live_runs) { /* runs detach before the engine goes */
		sky_live_run *r = e->live_runs;
		e->live_runs = r->next;
		run_free(r);
	}
	pthread_cond_destroy(&e->live_cond);
	pthread_mutex_destroy(&e->live_lock);
	pthread_mutex_destroy(&e->live_op);
}

static sky_live_run *find_run(sky_engine *e, const char *run_id)
{
	for (sky_live_run *r = e->live_runs; r; r = r->next)
		if (!strcmp(r->run_id, run_id))
			return r;
	return NULL;
}

static int watched(sky_engine *e, const char *run_id)
{
	for (sky_live_watch *w = e->live_watches; w; w = w->next)
		if (!strcmp(w->run_id, run_id))
			return 1;
	return 0;
}

/* Browser thread: one frame of run r, to its watchers. */
static void on_frame(void *ud, const unsigned char *jpeg, size_t len, int width,
                     int height, const char *url)
{
	sky_live_run *r = ud;
	sky_engine *e = r->e;
	pthread_mutex_lock(&e->live_lock);
	unsigned char *copy = len ? realloc(r->last, len) : NULL;
	if (copy) {
		memcpy(copy, jpeg, len);
		r->last = copy;
		r->last_len = len;
		r->last_w = width;
		r->last_h = height;
		free(r->last_url);
		r->last_url = url ? skyx_strdup(url) : NULL;
	}
	for (sky_live_watch *w = e->live_watches; w; w = w->next)
		if (!strcmp(w->run_id, r->run_id))
			w->fn(w->ud, jpeg, len, width, height, url);
	pthread_mutex_unlock(&e->live_lock);
}

/* Screencast exactly when the run has a context and watchers. */
static void sync_run(sky_engine *e, const char *run_id)
{
	pthread_mutex_lock(&e->live_op);
	pthread_mutex_lock(&e->live_lock);
	sky_live_run *r = find_run(e, run_id);
	int want = r && watched(e, run_id);
	if (!r || want == r->casting) {
		pthread_mutex_unlock(&e->live_lock);
		pthread_mutex_unlock(&e->live_op);
		return;
	}
	r->casting = want;
	if (!want) { /* stale once nobody watches */
		free(r->last);
		r->last = NULL;
		r->last_len = 0;
	}
	pthread_mutex_unlock(&e->live_lock);
	/* r stays: detach waits for live_op. */
	char *err = NULL;
	int rc = r->bvt->screencast(r->ctx, want, on_frame, r, &err);
	if (rc) {
		sky_log_warn("engine", "run %s: screencast %s failed: %s",
		             run_id, want ? "start" : "stop",
		             err ? err : sky_strerror(rc));
		pthread_mutex_lock(&e->live_lock);
		r->casting = 0;
		pthread_mutex_unlock(&e->live_lock);
	}
	free(err);
	pthread_mutex_unlock(&e->live_op);
}

static void *live_main(void *arg)
{
	sky_engine *e = arg;
	pthread_mutex_lock(&e->live_lock);
	for (;;) {
		while (!e->live_jobs && !e->live_stopping)
			pthread_cond_wait(&e->live_cond, &e->live_lock);
		if (e->live_stopping)
			break;
		sky_live_job *j = e->live_jobs;
		e->live_jobs = j->next;
		pthread_mutex_unlock(&e->live_lock);
		sync_run(e, j->run_id);
		free(j->run_id);
		free(j);
		pthread_mutex_lock(&e->live_lock);
	}
	pthread_mutex_unlock(&e->live_lock);
	return NULL;
}

/* Have live_thread bring run_id's screencast in line with its watchers
 * (at once, on this thread, when there is no live_thread to do it). */
static void sync_later(sky_engine *e, const char *run_id)
{
	pthread_mutex_lock(&e->live_lock);
	sky_live_job **pp = &e->live_jobs;
	while (*pp && strcmp((*pp)->run_id, run_id))
		pp = &(*pp)->next;
	if (*pp) { /* asked for already: it reads the state when it runs */
		pthread_mutex_unlock(&e->live_lock);
		return;
	}
	if (!e->live_stopping && !e->live_thread_on)
		e->live_thread_on =
		    !pthread_create(&e->live_thread, NULL, live_main, e);
	sky_live_job *j = e->live_thread_on ? calloc(1, sizeof *j) : NULL;
	if (j && (j->run_id = skyx_strdup(run_id))) {
		*pp = j; /* the end of the list */
		pthread_cond_signal(&e->live_cond);
		pthread_mutex_unlock(&e->live_lock);
		return;
	}
	free(j);
	pthread_mutex_unlock(&e->live_lock);
	sync_run(e, run_id);
}

void sky_engine__live_attach(sky_engine *e, const char *run_id,
                             const sky_browser_provider *bvt, void *ctx)
{
	if (!bvt || !bvt->screencast || !ctx)
		return;
	sky_engine__live_detach(e,
	                        run_id); /* a reopened context replaces one */
	sky_live_run *r = calloc(1, sizeof *r);
	if (!r || !(r->run_id = skyx_strdup(run_id))) {
		free(r);
		return;
	}
	r->e = e;
	r->bvt = bvt;
	r->ctx = ctx;
	pthread_mutex_lock(&e->live_lock);
	r->next = e->live_runs;
	e->live_runs = r;
	pthread_mutex_unlock(&e->live_lock);
	sync_run(e, run_id);
}

void sky_engine__live_detach(sky_engine *e, const char *run_id)
{
	pthread_mutex_lock(&e->live_op);
	pthread_mutex_lock(&e->live_lock);
	sky_live_run *r = NULL;
	for (sky_live_run **pp = &e->live_runs; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->run_id, run_id)) {
			r = *pp;
			*pp = r->next;
			break;
		}
	pthread_mutex_unlock(&e->live_lock);
	if (r && r->casting)
		r->bvt->screencast(r->ctx, 0, NULL, NULL, NULL);
	pthread_mutex_unlock(&e->live_op);
	run_free(r);
}

int sky_run_watch(uint64_t *watch_id, sky_engine *e, const char *org,
                  const char *run_id, sky_frame_fn fn, void *userdata)
{
	if (!e || !run_id || !fn || !watch_id)
		return sky_error_set(SKY_EINVALID, "engine, run_id, fn and "
		                                   "watch_id are required");
	*watch_id = 0;
	/* Only a run of the caller's organization is watched. */
	sky_task_rec *t = NULL;
	int rc = sky_store_task_get(e->store, sky_engine__org_scope(e, org),
	                            run_id, &t);
	sky_task_rec_free(t);
	if (rc)
		return rc;
	/* The provider's table only: a watch creates no browser. */
	pthread_mutex_lock(&e->prov_lock);
	const sky_browser_provider *bvt =
	    sky_plugins_browser(e->plugins, e->browser_name);
	pthread_mutex_unlock(&e->prov_lock);
	if (!bvt)
		return sky_error_last_code() ? sky_error_last_code()
		                             : SKY_EPLUGIN;
	if (!bvt->screencast)
		return sky_error_set(SKY_EUNSUPPORTED,
		                     "the browser provider %s has no "
		                     "screencast",
		                     bvt->name ? bvt->name : "?");
	sky_live_watch *w = calloc(1, sizeof *w);
	if (!w || !(w->run_id = skyx_strdup(run_id))) {
		free(w);
		return sky_error_from_code(SKY_ENOMEM);
	}
	w->fn = fn;
	w->ud = userdata;
	pthread_mutex_lock(&e->live_lock);
	w->id = ++e->live_next;
	w->next = e->live_watches;
	e->live_watches = w;
	*watch_id = w->id;
	/* A screencast already running: its newest frame at once. */
	sky_live_run *r = find_run(e, run_id);
	if (r && r->casting && r->last)
		fn(userdata, r->last, r->last_len, r->last_w, r->last_h,
		   r->last_url);
	pthread_mutex_unlock(&e->live_lock);
	sync_later(e, run_id);
	return 0;
}

void sky_run_unwatch(sky_engine *e, uint64_t watch_id)
{
	char *run_id = NULL;
	if (!e || !watch_id)
		return;
	pthread_mutex_lock(&e->live_lock);
	for (sky_live_watch **pp = &e->live_watches; *pp; pp = &(*pp)->next)
		if ((*pp)->id == watch_id) {
			sky_live_watch *w = *pp;
			*pp = w->next;
			run_id = w->run_id;
			free(w);
			break;
		}
	pthread_mutex_unlock(&e->live_lock);
	if (run_id)
		sync_later(e, run_id);
	free(run_id);
}
