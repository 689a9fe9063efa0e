/*
 * The engine at run time: the worker pool that executes runs, start-up
 * recovery, cancellation flags, change notifications for waiters, and
 * event delivery to subscribers.
 *
 * Recovery policy: a run left `running` by a crash or a shutdown is
 * resumed: the step that was in flight is marked failed ("engine
 * restarted during the step") and the run continues with a retry of that
 * step in a fresh browser context at the last page it reached. A run
 * interrupted SKY_RESUME_LIMIT times is failed instead, so that a run
 * that crashes the engine cannot do so forever.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "engine/engine_internal.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <openssl/crypto.h>
#include <skyx/seal.h>
#include <skyx/str.h>
#include <skyx/time.h>

#define COMPONENT "engine"

uint64_t sky_engine__change_seq(sky_engine *e)
{
	pthread_mutex_lock(&e->lock);
	uint64_t s = e->change_seq;
	pthread_mutex_unlock(&e->lock);
	return s;
}

static void bump(sky_engine *e)
{
	pthread_mutex_lock(&e->lock);
	e->change_seq++;
	pthread_cond_broadcast(&e->changed);
	pthread_mutex_unlock(&e->lock);
}

void sky_engine__totp_arrived(sky_engine *e)
{
	bump(e);
}

void sky_engine__wait_change(sky_engine *e, uint64_t seq, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->lock);
	while (e->change_seq == seq && !e->stopping)
		if (pthread_cond_timedwait(&e->changed, &e->lock, &ts) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&e->lock);
}

int sky_engine_subscribe(int *subscription, sky_engine *e, sky_event_fn fn,
                         void *ud)
{
	if (subscription)
		*subscription = 0;
	if (!subscription || !e || !fn)
		return sky_error_set(SKY_EINVALID,
		                     "subscription, engine and fn "
		                     "are required");
	pthread_mutex_lock(&e->lock);
	sky_subscriber *n =
	    realloc(e->subs, (size_t)(e->n_subs + 1) * sizeof *n);
	if (!n) {
		pthread_mutex_unlock(&e->lock);
		return sky_error_from_code(SKY_ENOMEM);
	}
	e->subs = n;
	int id = ++e->next_sub_id;
	e->subs[e->n_subs++] = (sky_subscriber){id, fn, ud, 0, 0};
	pthread_mutex_unlock(&e->lock);
	*subscription = id;
	return 0;
}

/* The subscription whose callback this thread is running (emit), so that
 * unsubscribing from inside it does not wait for itself. */
static _Thread_local const sky_engine *tl_emit_engine;
static _Thread_local int tl_emit_sub;

static int sub_index(sky_engine *e, int id)
{
	for (int i = 0; i < e->n_subs; i++)
		if (e->subs[i].id == id)
			return i;
	return -1;
}

/* e->lock held. */
static void sub_drop(sky_engine *e, int i)
{
	e->subs[i] = e->subs[--e->n_subs];
}

void sky_engine_unsubscribe(sky_engine *e, int id)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	int i = sub_index(e, id);
	if (i >= 0) {
		e->subs[i].removed = 1;
		int self = tl_emit_engine == e && tl_emit_sub == id;
		/* Wait for callbacks of it running on other threads (emit
		 * broadcasts `changed` after each); from inside its own
		 * callback the last emit to finish drops it. */
		while (!self && (i = sub_index(e, id)) >= 0 &&
		       e->subs[i].busy > 0)
			pthread_cond_wait(&e->changed, &e->lock);
		if (!self && (i = sub_index(e, id)) >= 0)
			sub_drop(e, i);
	}
	pthread_mutex_unlock(&e->lock);
}

void sky_engine__emit(sky_engine *e, sky_event_type type, const char *run_id,
                      const char *status, int order, int retry,
                      const char *json)
{
	int n = 0;
	int *ids = NULL;
	pthread_mutex_lock(&e->lock);
	if (e->n_subs)
		ids = malloc((size_t)e->n_subs * sizeof *ids);
	if (!ids && e->n_subs)
		sky_log_error(COMPONENT,
		              "out of memory: %d subscribers miss "
		              "an event",
		              e->n_subs);
	for (int i = 0; ids && i < e->n_subs; i++)
		ids[n++] = e->subs[i].id;
	pthread_mutex_unlock(&e->lock);
	sky_event ev = {1, type, run_id, status, order, retry, json};
	const sky_engine *outer_engine = tl_emit_engine;
	int outer_sub = tl_emit_sub;
	for (int k = 0; k < n; k++) {
		pthread_mutex_lock(&e->lock);
		int i = sub_index(e, ids[k]);
		if (i < 0 || e->subs[i].removed) {
			pthread_mutex_unlock(&e->lock);
			continue;
		}
		e->subs[i].busy++;
		sky_subscriber s = e->subs[i];
		pthread_mutex_unlock(&e->lock);

		tl_emit_engine = e;
		tl_emit_sub = s.id;
		s.fn(&ev, s.ud);
		tl_emit_engine = outer_engine;
		tl_emit_sub = outer_sub;

		pthread_mutex_lock(&e->lock);
		if ((i = sub_index(e, s.id)) >= 0 && --e->subs[i].busy == 0 &&
		    e->subs[i].removed)
			sub_drop(e, i);
		pthread_cond_broadcast(&e->changed);
		pthread_mutex_unlock(&e->lock);
	}
	free(ids);
}

/* --- the registry of runs this engine executes ------------------------ */

static sky_active_run *active_find(sky_engine *e, const char *id)
{
	for (sky_active_run *a = e->active; a; a = a->next)
		if (!strcmp(a->run_id, id))
			return a;
	return NULL;
}

static sky_active_run *active_get(sky_engine *e, const char *id)
{
	pthread_mutex_lock(&e->lock);
	sky_active_run *a = active_find(e, id);
	if (!a) {
		a = calloc(1, sizeof *a);
		if (a) {
			a->run_id = skyx_strdup(id);
			a->next = e->active;
			e->active = a;
		}
	}
	pthread_mutex_unlock(&e->lock);
	return a;
}

static void active_free(sky_active_run *a)
{
	if (a->signing_key) {
		sky_secret_unregister(a->signing_key);
		free(a->signing_key);
	}
	free(a->run_id);
	free(a);
}

static void active_remove(sky_engine *e, const char *id)
{
	pthread_mutex_lock(&e->lock);
	for (sky_active_run **pp = &e->active; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->run_id, id)) {
			sky_active_run *a = *pp;
			*pp = a->next;
			active_free(a);
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
}

int sky_engine__is_canceled(sky_engine *e, const char *run_id)
{
	int64_t now = skyx_time_mono_ms();
	pthread_mutex_lock(&e->lock);
	sky_active_run *a = active_find(e, run_id);
	if (a)
		a->beat_ms = now;
	int c = (a && (a->cancel || a->lost)) || e->stopping;
	pthread_mutex_unlock(&e->lock);
	return c;
}

void sky_engine__beat(sky_engine *e, const char *run_id)
{
	int64_t now = skyx_time_mono_ms();
	pthread_mutex_lock(&e->lock);
	sky_active_run *a = active_find(e, run_id);
	if (a)
		a->beat_ms = now;
	pthread_mutex_unlock(&e->lock);
}

int sky_engine__stopping(sky_engine *e)
{
	pthread_mutex_lock(&e->lock);
	int s = e->stopping;
	pthread_mutex_unlock(&e->lock);
	return s;
}

/* The signing key of a run, copied (NULL when none is known): the key
 * that submitted it, held in memory by the host that took the request,
 * else sealed in the store (any host sharing the secrets key opens it;
 * this one after a restart too), else webhook.signing_key. */
static char *signing_key_of(sky_engine *e, const char *run_id)
{
	pthread_mutex_lock(&e->lock);
	sky_active_run *a = active_find(e, run_id);
	char *k = a && a->signing_key ? skyx_strdup(a->signing_key) : NULL;
	pthread_mutex_unlock(&e->lock);
	if (k)
		return k;
	char *sealed = NULL;
	if (sky_store_task_webhook_key(e->store, run_id, &sealed) == 0 &&
	    sealed) {
		unsigned char *plain = NULL;
		size_t len = 0;
		if (skyx_unseal(sky_engine__secrets_key(e), sealed, run_id,
		                &plain, &len) == 0) {
			k = skyx_asprintf("%.*s", (int)len, (char *)plain);
			OPENSSL_cleanse(plain, len);
			free(plain);
			if (k)
				sky_secret_register(k);
		} else {
			sky_log_warn(COMPONENT,
			             "run %s: its webhook key cannot be opened "
			             "with this engine's secrets key (hosts "
			             "must share secrets.key); signing with "
			             "webhook.signing_key",
			             run_id);
		}
		free(sealed);
	}
	return k ? k : skyx_strdup(e->webhook_key);
}

char *sky_engine__signing_key(sky_engine *e, const char *run_id)
{
	return signing_key_of(e, run_id);
}

void sky_engine__run_created(sky_engine *e, const sky_task_rec *t,
                             const sky_task_request *req,
                             const char *signing_key)
{
	(void)req;
	if (signing_key && *signing_key) {
		sky_active_run *a = active_get(e, t->task_id);
		pthread_mutex_lock(&e->lock);
		if (a && !a->signing_key) {
			a->signing_key = skyx_strdup(signing_key);
			sky_secret_register(signing_key);
		}
		pthread_mutex_unlock(&e->lock);
		/* Sealed (aad: the run id) for whichever host ends the run. */
		char *sealed =
		    skyx_seal(sky_engine__secrets_key(e), signing_key,
		              strlen(signing_key), t->task_id);
		if (!sealed || sky_store_task_set_webhook_key(
		                   e->store, t->task_id, sealed))
			sky_log_warn(COMPONENT,
			             "run %s: its webhook key could not be "
			             "stored; another host would sign its "
			             "webhook with webhook.signing_key",
			             t->task_id);
		free(sealed);
	}
	char *json = sky_engine__run_json(e, t);
	sky_engine__emit(e, SKY_EVENT_RUN_STATUS, t->task_id, "created", -1, 0,
	                 json);
	free(json);
	pthread_mutex_lock(&e->lock);
	e->change_seq++;
	pthread_cond_broadcast(&e->changed);
	e->work_seq++;
	pthread_cond_signal(&e->work);
	pthread_mutex_unlock(&e->lock);
}

void sky_engine__run_canceled(sky_engine *e, const sky_task_rec *t)
{
	pthread_mutex_lock(&e->lock);
	sky_active_run *a = active_find(e, t->task_id);
	int executing = a && a->executing;
	if (a) {
		a->cancel = 1;
		if (!a->cancel_ms)
			a->cancel_ms = skyx_time_mono_ms();
	}
	pthread_mutex_unlock(&e->lock);
	sky_log_info(COMPONENT, "run %s canceled", t->task_id);
	/* A run no worker holds is finished here; a running one is
	 * finished by its worker (which also closes its context). */
	if (!executing) {
		/* No worker will: let go of its browser session here. */
		sky_engine__session_release(e, t->task_id);
		sky_engine__run_changed(e, t->task_id);
		active_remove(e, t->task_id);
	} else {
		bump(e);
	}
}

void sky_engine__run_changed(sky_engine *e, const char *run_id)
{
	sky_task_rec *t = NULL;
	if (sky_store_task_get(e->store, NULL, run_id, &t))
		return;
	char *json = sky_engine__run_json(e, t);
	sky_engine__emit(e, SKY_EVENT_RUN_STATUS, run_id,
	                 sky_task_status_name(t->status), -1, 0, json);
	free(json);
	if (sky_task_status_is_final(t->status) && t->webhook_url) {
		char *key = signing_key_of(e, run_id);
		sky_engine__webhook_enqueue(e, t, key);
		free(key);
	}
	sky_task_rec_free(t);
	bump(e);
}

/* --- workers -------------------------------------------------------- */

/* --- the agent's way up (agent/agent.h), for one run ---------------- */

typedef struct run_link {
	sky_engine *e;
	const char *run_id;
	sky_browser_lease lease; /* the browser the run works in */
	const char *org;
} run_link;

static int link_browser_retry(void **browser, void *p)
{
	run_link *l = p;
	int rc = sky_engine__browser_retry(l->e, &l->lease);
	if (!rc)
		*browser = l->lease.inst;
	return rc;
}

/*
 * Read run `id`'s status back from the store (called without e->lock):
 * when another process ended it (canceled, or with `any_final` any final
 * status), mark it canceled here so its worker stops, and say so once.
 * Returns 1 when it ended.
 */
static int ended_elsewhere(sky_engine *e, const char *id, int any_final)
{
	sky_task_rec *t = NULL;
	int ended = !sky_store_task_get(e->store, NULL, id, &t) &&
	            (any_final ? sky_task_status_is_final(t->status)
	                       : t->status == SKY_TASK_CANCELED);
	sky_task_rec_free(t);
	if (!ended)
		return 0;
	int first = 0;
	pthread_mutex_lock(&e->lock);
	sky_active_run *a = active_find(e, id);
	if (a && !a->cancel) {
		a->cancel = 1;
		a->cancel_ms = skyx_time_mono_ms();
		first = 1;
	}
	pthread_mutex_unlock(&e->lock);
	if (first)
		sky_log_info(COMPONENT,
		             "run %s was canceled through another process; "
		             "stopping it",
		             id);
	return 1;
}

/* A cancel may come through another process sharing the store: the
 * run's status is read back at most every CANCEL_POLL_MS. */
#define CANCEL_POLL_MS 250

static int link_canceled(void *p)
{
	run_link *l = p;
	sky_engine *e = l->e;
	if (sky_engine__is_canceled(e, l->run_id))
		return 1;
	int64_t now = skyx_time_mono_ms();
	pthread_mutex_lock(&e->lock);
	sky_active_run *a = active_find(e, l->run_id);
	int due = a && now - a->checked_ms >= CANCEL_POLL_MS;
	if (due)
		a->checked_ms = now;
	pthread_mutex_unlock(&e->lock);
	return due ? ended_elsewhere(e, l->run_id, 0) : 0;
}

/* Stopping: the engine shuts down, or the run's lease went to another
 * process (it parks: the new owner resumes it). */
static int link_stopping(void *p)
{
	run_link *l = p;
	sky_engine *e = l->e;
	pthread_mutex_lock(&e->lock);
	sky_active_run *a = active_find(e, l->run_id);
	int s = e->stopping || (a && a->lost);
	pthread_mutex_unlock(&e->lock);
	return s;
}

static void link_emit(sky_event_type type, const char *status, int order,
                      int retry, const char *json, void *p)
{
	run_link *l = p;
	sky_engine__emit(l->e, type, l->run_id, status, order, retry, json);
}

static uint64_t link_change_seq(void *p)
{
	return sky_engine__change_seq(((run_link *)p)->e);
}

static void link_wait_change(uint64_t seq, int64_t ms, void *p)
{
	sky_engine__wait_change(((run_link *)p)->e, seq, ms);
}

static int link_session_attach(const char *session_id, void **ctx,
                               const char **download_dir, void *p)
{
	run_link *l = p;
	return sky_engine__session_attach(l->e, session_id, l->run_id, ctx,
	                                  download_dir);
}

static void link_session_release(void *p)
{
	run_link *l = p;
	sky_engine__session_release(l->e, l->run_id);
}

static void link_context_opened(const sky_browser_provider *vt, void *ctx,
                                void *p)
{
	run_link *l = p;
	sky_engine__live_attach(l->e, l->run_id, vt, ctx);
}

static void link_context_leaving(void *p)
{
	run_link *l = p;
	sky_engine__live_detach(l->e, l->run_id);
}

static int link_context_prepare(const sky_browser_provider *vt, void *ctx,
                                void *p)
{
	run_link *l = p;
	return sky_engine__run_profile_prepare(l->e, l->run_id, vt, ctx);
}

static void link_context_closing(const sky_browser_provider *vt, void *ctx,
                                 void *p)
{
	run_link *l = p;
	sky_engine__run_profile_closing(l->e, l->run_id, vt, ctx);
}

static int link_proxy_for(const char *location_json, const char *sticky_key,
                          json_t **proxy, json_t **applied, void *p)
{
	return sky_engine__proxy_resolve(((run_link *)p)->e, location_json,
	                                 sticky_key, proxy, applied);
}

static char *link_signing_key(void *p)
{
	run_link *l = p;
	return signing_key_of(l->e, l->run_id);
}

static int link_credential(const char *credential_id, json_t **fields,
                           char **why, void *p)
{
	run_link *l = p;
	return sky_engine__credential_fields(l->e, l->org, credential_id,
	                                     fields, why);
}

/* What run `t` reads (agent.h); *unavailable (malloc'd) says why there
 * is no browser or model for it. */
static void build_env(sky_engine *e, const sky_task_rec *t,
                      const sky_agent_callbacks *cb, sky_agent_env *env,
                      sky_browser_lease *lease, char **unavailable)
{
	memset(env, 0, sizeof *env);
	env->store = e->store;
	env->data_dir = e->data_dir;
	env->artifact_root = e->artifact_root;
	env->config = &e->agent;
	env->max_steps = e->max_steps;
	env->max_retries_per_step = e->max_retries_per_step;
	env->http = e->http;
	env->cb = cb;
	*unavailable = NULL;
	/* A run in a browser session works in the session's context; any
	 * other in its browser_address, else the pool or the engine's. */
	json_t *notes = sky_json_loads(t->notes);
	int rc =
	    t->browser_session_id
	        ? sky_engine__browser(e, &lease->vt, &lease->inst)
	        : sky_engine__browser_take(
	              e, t->browser_address,
	              json_object_get(notes, "cdp_connect_headers"), lease);
	json_decref(notes);
	env->browser = lease->vt;
	env->browser_inst = lease->inst;
	if (rc || sky_engine__llm_for_run(e, t->run_request, &env->llm)) {
		env->browser = NULL;
		env->llm = NULL;
		*unavailable = skyx_strdup(sky_error_last());
		env->unavailable = *unavailable;
	}
	/* None configured (or one that cannot start): runs go without. */
	if (sky_engine__totp(e, &env->totp, &env->totp_inst))
		env->totp = NULL;
}

static void run_agent(sky_engine *e, const sky_task_rec *t)
{
	run_link link = {e, t->task_id, {0}, t->organization_id};
	sky_agent_callbacks cb = SKY_AGENT_CALLBACKS_INIT;
	cb.canceled = link_canceled;
	cb.stopping = link_stopping;
	cb.emit = link_emit;
	cb.change_seq = link_change_seq;
	cb.wait_change = link_wait_change;
	cb.session_attach = link_session_attach;
	cb.session_release = link_session_release;
	cb.context_opened = link_context_opened;
	cb.context_leaving = link_context_leaving;
	cb.proxy_for = link_proxy_for;
	cb.signing_key = link_signing_key;
	cb.context_prepare = link_context_prepare;
	cb.context_closing = link_context_closing;
	cb.browser_retry = link_browser_retry;
	cb.credential = link_credential;
	cb.payload = &link;
	sky_agent_env env;
	char *unavailable = NULL;
	link.lease.slot = -1;
	build_env(e, t, &cb, &env, &link.lease, &unavailable);
	sky_agent_execute(&env, t);
	sky_engine__browser_give(e, &link.lease);
	free(unavailable);
}

static void execute(sky_engine *e, sky_worker *w, sky_task_rec *t)
{
	sky_active_run *a = active_get(e, t->task_id);
	if (!a)
		return;
	pthread_mutex_lock(&e->lock);
	a->executing = 1;
	a->worker = w;
	a->beat_ms = skyx_time_mono_ms();
	pthread_mutex_unlock(&e->lock);
	char *id = skyx_strdup(t->task_id);
	sky_engine__run_changed(e, id); /* now running */
	run_agent(e, t);
	/* Parked (shutdown, lease lost): let go of the lease so another
	 * process (or the next start) takes the run at once. A final run or
	 * one another process holds is left alone. */
	sky_store_task_lease_drop(e->store, e->node_id, id, NULL);
	/* Parked at shutdown: the run stays `running` and is resumed at the
	 * next start; nothing to announce. An abandoned worker's run was
	 * finished by the watchdog: the store refuses whatever the agent
	 * tried to write after that, and this announces the final state. */
	sky_engine__run_changed(e, id);
	active_remove(e, id);
	free(id);
}

static int worker_gone(sky_engine *e, sky_worker *w)
{
	pthread_mutex_lock(&e->lock);
	int gone = e->stopping || w->abandoned;
	pthread_mutex_unlock(&e->lock);
	return gone;
}

static void *worker_main(void *arg)
{
	sky_worker *w = arg;
	sky_engine *e = w->e;
	for (;;) {
		pthread_mutex_lock(&e->lock);
		if (e->stopping || w->abandoned) {
			pthread_mutex_unlock(&e->lock);
			break;
		}
		/* A wake that comes while this worker is claiming is not
		 * lost: the wait below is skipped when the count moved. */
		uint64_t seq = e->work_seq;
		pthread_mutex_unlock(&e->lock);

		sky_task_rec *t = NULL;
		sky_lease lease = {e->node_id, e->lease_ms};
		int reclaimed = 0;
		if (sky_store_task_claim(e->store, &lease, NULL, &t,
		                         &reclaimed)) {
			sky_log_error(COMPONENT, "claiming a run failed: %s",
			              sky_error_last());
			t = NULL;
		} else if (t && reclaimed) {
			sky_log_warn(COMPONENT,
			             "run %s was interrupted; resuming it",
			             t->task_id);
		}
		if (t) {
			execute(e, w, t);
			sky_task_rec_free(t);
			if (worker_gone(e, w))
				break;
			continue;
		}
		/* Nothing to do: sleep until a submit (or a second, for runs
		 * stored by another process sharing the data dir). */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_mutex_lock(&e->lock);
		if (!e->stopping && !w->abandoned && e->work_seq == seq)
			pthread_cond_timedwait(&e->work, &e->lock, &ts);
		pthread_mutex_unlock(&e->lock);
	}
	pthread_mutex_lock(&e->lock);
	w->done = 1;
	if (w->abandoned) {
		e->n_abandoned--;
		sky_log_warn(COMPONENT, "an abandoned worker came back and "
		                        "exited");
	}
	pthread_cond_broadcast(&e->changed);
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* Start one more worker (lock held). */
static int worker_spawn(sky_engine *e)
{
	sky_worker *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	w->e = e;
	if (pthread_create(&w->thread, NULL, worker_main, w)) {
		free(w);
		return -1;
	}
	w->next = e->worker_list;
	e->worker_list = w;
	e->n_live++;
	return 0;
}

/* PostgreSQL: a run submitted through any host wakes this host's idle
 * workers at once; the workers' own one-second re-check covers a
 * notification lost while the listening connection was down. */
static void *listener_main(void *arg)
{
	sky_engine *e = arg;
	int failing = 0;
	for (;;) {
		pthread_mutex_lock(&e->lock);
		int stop = e->stopping;
		pthread_mutex_unlock(&e->lock);
		if (stop)
			break;
		int rc = sky_store_wait_runs(e->store, 250);
		if (rc > 0) {
			pthread_mutex_lock(&e->lock);
			e->work_seq++;
			pthread_cond_broadcast(&e->work);
			pthread_mutex_unlock(&e->lock);
		} else if (rc < 0) {
			if (!failing)
				sky_log_warn(COMPONENT,
				             "listening for new runs failed "
				             "(%s); workers poll every second",
				             sky_error_last());
			failing = 1;
			skyx_time_sleep_ms(1000);
			continue;
		}
		failing = 0;
	}
	return NULL;
}

/* --- the watchdog ------------------------------------------------------ */

/*
 * A worker shows progress through sky_engine__is_canceled() (before every
 * model call, between actions, in every wait) and sky_engine__beat().
 * Between two signs it is either in engine code (milliseconds) or in a
 * provider call bounded by its own timeout (model, navigation). A worker
 * silent for longer than watchdog_ms is stuck: its run is failed with a
 * reason that says so, its worker is detached and replaced. A canceled
 * run whose worker has not let go after cancel_grace_ms is let go of the
 * same way (the run is already `canceled`). Nothing can stop a thread
 * that never returns; what matters is that its run ends, the pool keeps
 * its size, and shutdown does not wait for it.
 */
typedef struct stuck_run {
	char *run_id;
	int canceled;
	int64_t silent_ms;
} stuck_run;

static void finish_stuck(sky_engine *e, const stuck_run *s)
{
	sky_step_list *steps = NULL;
	int order = -1;
	if (sky_store_step_list(e->store, s->run_id, &steps) == 0) {
		for (size_t i = 0; i < steps->count; i++) {
			sky_step_rec *st = &steps->items[i];
			if (st->status != SKY_STEP_RUNNING &&
			    st->status != SKY_STEP_CREATED)
				continue;
			order = st->order;
			sky_store_step_set_status(
			    e->store, st->step_id,
			    s->canceled ? SKY_STEP_CANCELED : SKY_STEP_FAILED,
			    NULL);
		}
		sky_step_list_free(steps);
	}
	if (s->canceled) {
		sky_log_warn(COMPONENT,
		             "run %s was canceled but its worker was still "
		             "busy %lld ms later; the worker was replaced",
		             s->run_id, (long long)s->silent_ms);
	} else {
		char *why;
		if (order >= 0)
			why = skyx_asprintf(
			    "The engine stopped waiting for step %d: it showed "
			    "no progress for %lld seconds (stuck in engine or "
			    "plugin code). The run was failed and its worker "
			    "replaced",
			    order, (long long)(s->silent_ms / 1000));
		else
			why = skyx_asprintf(
			    "The engine stopped waiting for the run: it showed "
			    "no progress for %lld seconds (stuck in engine or "
			    "plugin code). The run was failed and its worker "
			    "replaced",
			    (long long)(s->silent_ms / 1000));
		sky_log_error(COMPONENT, "run %s: %s", s->run_id,
		              why ? why : "stuck");
		if (sky_store_task_set_status(e->store, s->run_id,
		                              SKY_TASK_FAILED, why, NULL))
			sky_log_warn(COMPONENT, "run %s: %s", s->run_id,
			             sky_error_last());
		free(why);
	}
	sky_engine__run_changed(e, s->run_id);
}

/*
 * Renew the leases of the runs this engine executes (called with e->lock
 * held; released around the store write). A run whose lease is gone
 * (another process took it after this one stalled past the lease, or it
 * is final) is marked lost: its worker parks it at the next check.
 */
static void renew_leases(sky_engine *e)
{
	size_t n = 0, cap = 0;
	char **ids = NULL;
	for (sky_active_run *a = e->active; a; a = a->next) {
		if (!a->executing || a->lost)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **g = realloc(ids, cap * sizeof *ids);
			if (!g)
				break;
			ids = g;
		}
		ids[n++] = skyx_strdup(a->run_id);
	}
	if (!n) {
		free(ids);
		return;
	}
	int *lost = calloc(n, sizeof *lost);
	sky_lease lease = {e->node_id, e->lease_ms};
	pthread_mutex_unlock(&e->lock);
	int rc = lost ? sky_store_task_lease_renew(
	                    e->store, &lease, (const char *const *)ids, n, lost)
	              : SKY_ENOMEM;
	if (rc)
		sky_log_warn(COMPONENT, "renewing %zu leases failed: %s", n,
		             sky_error_last());
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < n; i++) {
		sky_active_run *a = rc ? NULL : active_find(e, ids[i]);
		if (a && lost[i] && !a->lost && !a->cancel) {
			pthread_mutex_unlock(&e->lock);
			/* A final run is stopped as canceled; one another
			 * process holds is parked. */
			int ended = ended_elsewhere(e, ids[i], 1);
			if (!ended)
				sky_log_warn(
				    COMPONENT,
				    "run %s: its lease went to another "
				    "process; this one stops executing "
				    "it",
				    ids[i]);
			pthread_mutex_lock(&e->lock);
			if (!ended && (a = active_find(e, ids[i])))
				a->lost = 1;
		}
		free(ids[i]);
	}
	free(ids);
	free(lost);
}

static void *watchdog_main(void *arg)
{
	sky_engine *e = arg;
	pthread_mutex_lock(&e->lock);
	while (!e->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&e->changed, &e->lock, &ts);
		if (e->stopping)
			break;
		int64_t now = skyx_time_mono_ms();
		if (now - e->renewed_ms >= e->lease_ms / 3) {
			e->renewed_ms = now;
			renew_leases(e); /* drops and retakes e->lock */
			pthread_mutex_unlock(&e->lock);
			sky_store_node_seen(e->store, e->node_id);
			pthread_mutex_lock(&e->lock);
		}
		stuck_run found[8];
		int n = 0;
		for (sky_active_run *a = e->active; a && n < 8; a = a->next) {
			sky_worker *w = a->worker;
			if (!a->executing || !w || w->abandoned || w->done)
				continue;
			int64_t silent = now - a->beat_ms;
			int canceled = a->cancel && a->cancel_ms &&
			               now - a->cancel_ms > e->cancel_grace_ms;
			if (!canceled && silent <= e->watchdog_ms)
				continue;
			w->abandoned = 1;
			pthread_detach(w->thread);
			e->n_live--;
			e->n_abandoned++;
			found[n].run_id = skyx_strdup(a->run_id);
			found[n].canceled = a->cancel;
			found[n].silent_ms =
			    canceled ? now - a->cancel_ms : silent;
			n++;
		}
		if (!n)
			continue;
		for (int i = 0; i < n; i++)
			if (worker_spawn(e))
				sky_log_error(COMPONENT,
				              "cannot start a worker "
				              "to replace a stuck one");
		pthread_mutex_unlock(&e->lock);
		for (int i = 0; i < n; i++) {
			finish_stuck(e, &found[i]);
			free(found[i].run_id);
		}
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/*
 * Runs left `running` by this engine's last life (crash or shutdown,
 * same node id) are let go of at once: a worker claims and resumes them
 * like any run whose lease expired. Runs other engines sharing the store
 * hold are theirs until their leases expire.
 */
static int recover(sky_engine *e)
{
	int n = 0;
	int rc = sky_store_task_lease_drop(e->store, e->node_id, NULL, &n);
	if (rc)
		return rc;
	if (n)
		sky_log_warn(COMPONENT,
		             "%d runs were interrupted at the last stop; "
		             "resuming them",
		             n);
	n = 0;
	sky_store_webhook_recover(e->store, e->node_id, &n);
	if (n)
		sky_log_warn(COMPONENT,
		             "%d webhook deliveries were interrupted; "
		             "retrying them",
		             n);
	return 0;
}

int sky_engine__start(sky_engine *e)
{
	int rc;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->changed, NULL);
	pthread_cond_init(&e->work, NULL);
	e->lock_fd = -1;
	/* Webhooks are delivered even by an engine that does not execute
	 * runs (a cancel sends one); the outbox claim keeps two processes
	 * from sending the same row. */
	if (e->no_execute)
		return sky_engine__webhook_start(e);
	/* One executing engine per data dir: two would both "recover" the
	 * same running runs. */
	char *lock_path = skyx_asprintf("%s/engine.lock", e->data_dir);
	e->lock_fd = lock_path
	                 ? open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)
	                 : -1;
	if (e->lock_fd < 0 || flock(e->lock_fd, LOCK_EX | LOCK_NB)) {
		rc = sky_error_set(SKY_EBUSY,
		                   "another engine is executing runs from %s "
		                   "(%s is locked)",
		                   e->data_dir, lock_path ? lock_path : "?");
		free(lock_path);
		return rc;
	}
	free(lock_path);
	if ((rc = recover(e)))
		return rc;
	if ((rc = sky_engine__webhook_start(e)))
		return rc;
	if ((rc = sky_engine__sessions_start(e)))
		return rc;
	pthread_mutex_lock(&e->lock);
	for (int i = 0; i < e->workers; i++)
		if (worker_spawn(e))
			break;
	int live = e->n_live;
	pthread_mutex_unlock(&e->lock);
	if (!live)
		return sky_error_set(SKY_ERROR, "cannot start workers");
	if (pthread_create(&e->watchdog, NULL, watchdog_main, e) == 0)
		e->watchdog_running = 1;
	else
		sky_log_warn(COMPONENT, "cannot start the watchdog thread");
	if (sky_store_is_pg(e->store)) {
		if (pthread_create(&e->listener, NULL, listener_main, e) == 0)
			e->listener_running = 1;
		else
			sky_log_warn(COMPONENT,
			             "cannot start the listener thread");
	}
	return 0;
}

/* Wait (lock held) until every live worker left, or the deadline. */
static int workers_wait(sky_engine *e, int64_t deadline)
{
	for (;;) {
		int busy = 0;
		for (sky_worker *w = e->worker_list; w; w = w->next)
			if (!w->abandoned && !w->done)
				busy++;
		int64_t left = deadline - skyx_time_mono_ms();
		if (!busy || left <= 0)
			return busy;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t step = left < 200 ? left : 200;
		ts.tv_nsec += step * 1000000L;
		while (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&e->changed, &e->lock, &ts);
	}
}

int sky_engine__stop(sky_engine *e)
{
	pthread_mutex_lock(&e->lock);
	e->stopping = 1;
	pthread_cond_broadcast(&e->work);
	pthread_cond_broadcast(&e->changed);
	pthread_mutex_unlock(&e->lock);
	if (e->watchdog_running) {
		pthread_join(e->watchdog, NULL);
		e->watchdog_running = 0;
	}
	if (e->listener_running) {
		pthread_join(e->listener, NULL);
		e->listener_running = 0;
	}
	/* Workers park their runs at the next check; one stuck in engine
	 * or plugin code (or in a long model call) is not waited for past
	 * the grace period: its run stays `running` and is resumed (or
	 * failed after three interruptions) at the next start. */
	pthread_mutex_lock(&e->lock);
	int stuck = workers_wait(e, skyx_time_mono_ms() + e->stop_grace_ms);
	for (sky_active_run *a = e->active; stuck && a; a = a->next) {
		sky_worker *w = a->worker;
		if (a->executing && w && !w->done && !w->abandoned)
			sky_log_error(COMPONENT,
			              "shutdown: run %s did not stop within %d "
			              "ms; leaving it to the next start",
			              a->run_id, e->stop_grace_ms);
	}
	sky_worker *keep = NULL;
	int left = 0;
	while (e->worker_list) {
		sky_worker *w = e->worker_list;
		e->worker_list = w->next;
		if (w->done) {
			if (!w->abandoned)
				pthread_join(w->thread, NULL);
			free(w);
			continue;
		}
		/* Still inside: never joined, never freed. */
		if (!w->abandoned) {
			w->abandoned = 1;
			pthread_detach(w->thread);
			e->n_abandoned++;
		}
		w->next = keep;
		keep = w;
		left++;
	}
	e->worker_list = keep;
	e->n_live = 0;
	pthread_mutex_unlock(&e->lock);
	if (left) {
		sky_log_error(COMPONENT,
		              "shutdown: %d worker(s) still busy after %d ms; "
		              "the engine's resources stay allocated for them",
		              left, e->stop_grace_ms);
		return left;
	}
	/* After the workers: no run holds a session any more. */
	sky_engine__sessions_stop(e);
	sky_engine__webhook_stop(e);
	while (e->active) {
		sky_active_run *a = e->active;
		e->active = a->next;
		active_free(a);
	}
	free(e->subs);
	e->subs = NULL;
	e->n_subs = 0;
	if (e->lock_fd >= 0) {
		close(e->lock_fd);
		e->lock_fd = -1;
	}
	return 0;
}
