/* Internal: the engine object, shared by the files of engine/ (the agent
 * gets a sky_agent_env instead; the tools use the public API). */
#ifndef SKY_ENGINE_INTERNAL_H
#define SKY_ENGINE_INTERNAL_H

#include <jansson.h>

#include "engine/answers.h"
#include <pthread.h>
#include <skyengine/engine.h>
#include <skyengine/tasks_api.h>

#include "agent/config.h"
#include "engine/request.h"
#include "engine/response.h"
#include "net/http_client.h"
#include "plugin/loader.h"
#include "store/store.h"
#include <skyx/seal.h>

/* One run being executed (or waiting to be) by this engine. */
typedef struct sky_active_run {
	char *run_id;
	volatile int cancel;       /* set by sky_run_cancel */
	int executing;             /* a worker holds it (else: only a key) */
	char *signing_key;         /* webhook key from the submit, or NULL */
	int64_t beat_ms;           /* monotonic: last sign of progress */
	int64_t cancel_ms;         /* monotonic: when a cancel was seen */
	int lost;                  /* its lease went to another process */
	int64_t checked_ms;        /* monotonic: status last read back */
	struct sky_worker *worker; /* the worker executing it, or NULL */
	struct sky_active_run *next;
} sky_active_run;

/* A worker thread. The watchdog may abandon one that stopped making
 * progress (stuck in engine or plugin code): it is detached, replaced by
 * a new worker, and exits on its own if it ever returns. */
typedef struct sky_worker {
	struct sky_engine *e;
	pthread_t thread;
	int abandoned; /* guarded by sky_engine.lock */
	int done;      /* the thread left worker_main */
	struct sky_worker *next;
} sky_worker;

typedef struct sky_subscriber {
	int id;
	sky_event_fn fn;
	void *ud;
	int busy;    /* callbacks of it running now (runtime.c) */
	int removed; /* unsubscribed; dropped when busy reaches 0 */
} sky_subscriber;

/* Verified API keys (by SHA-256), so that a GET does not hit the store
 * for its key: positive answers only, for a minute. */
#define SKY_KEY_CACHE 64
typedef struct sky_key_cache_entry {
	char sha256[65];
	char *org;
	int64_t until_ms; /* monotonic */
} sky_key_cache_entry;

/* A live browser session (engine/sessions.c): a browser context kept
 * between runs. Guarded by sky_engine.bs_lock. */
typedef struct sky_bsession {
	char *id; /* "pbs_..." */
	char *org;
	void *ctx;                       /* the browser context */
	struct sky_browser_lease *lease; /* the browser it is in */
	char *download_dir;
	char *busy_run;     /* the run that holds it, or NULL */
	char *busy_idem;    /* that run's idempotency key, or NULL */
	char *last_run;     /* the last run that used it */
	int reserving;      /* a submit is creating the run that will
	                          hold it */
	int closed;         /* closed while a run held it: freed when
	                          the run lets go */
	int64_t idle_since; /* monotonic ms; when the last use ended */
	int64_t timeout_ms; /* inactivity that closes it */
	/* browser profiles (profiles.c): the profile it loaded, to which
	 * its state is saved back (periodically and at close), or NULL;
	 * generate: save its state as <data>/profiles/<id> at close */
	char *profile_id;
	int generate;
	int profile_failed; /* the profile did not load: never save it */
	int64_t saved_at;   /* monotonic ms of the last periodic save */
	struct sky_bsession *next;
} sky_bsession;

struct sky_engine {
	char *data_dir; /* absolute */
	/* Where runs/<id> and sessions/<id> files go (config
	 * artifacts.root, else data_dir); absolute. */
	char *artifact_root;
	char *plugin_path;
	char *llm_name;
	char *browser_name;
	char *config_json; /* "{}" when none */
	json_t *config;    /* parsed config_json */
	int workers;
	int max_steps;
	int max_retries_per_step;
	int no_execute;
	sky_plugins *plugins;
	sky_store *store; /* <data_dir>/skyengine.db, shared by all threads */
	sky_answer_cache *answers; /* GET /v1/runs/{id}; NULL: no cache */

	sky_request_options request_opts;
	sky_response_ctx rctx;
	char *public_url; /* config server.public_url */
	char *url_key;    /* signs artifact/viewer URLs */
	/* Seals data at rest (credentials, browser profiles): design.md;
	 * sky_engine__secrets_key(). */
	unsigned char secrets_key[SKYX_SEAL_KEY_LEN];
	char *webhook_key;      /* default webhook signing key, may be NULL */
	sky_agent_config agent; /* agent/config.h, lent to runs */

	/* Runtime (engine/runtime.c). `lock` guards everything below. */
	pthread_mutex_t lock;
	pthread_cond_t changed; /* broadcast on every run change */
	pthread_cond_t work;    /* workers wait here */
	uint64_t work_seq;      /* bumped with every wake of `work` */
	uint64_t change_seq;
	int stopping;
	sky_active_run *active;
	sky_subscriber *subs;
	int n_subs, next_sub_id;
	sky_worker *worker_list; /* every worker ever started */
	int n_live;              /* workers not abandoned */
	int n_abandoned;         /* abandoned and not yet returned */
	pthread_t watchdog;
	int watchdog_running;
	/* PostgreSQL: wakes idle workers when another host submits. */
	pthread_t listener;
	int listener_running;
	int watchdog_ms;     /* no progress for this long: stuck */
	int cancel_grace_ms; /* canceled, still executing: stuck */
	int stop_grace_ms;   /* shutdown waits this long for workers */
	char *node_id;       /* owner of this engine's leases */
	int lease_ms;        /* cluster.lease_ms: how long a lease holds */
	int64_t renewed_ms;  /* monotonic: leases last renewed */
	int lock_fd;         /* flock on the data dir while executing */
	int started;         /* runtime initialised (engine.c) */
	pthread_mutex_t key_lock;
	sky_key_cache_entry key_cache[SKY_KEY_CACHE];

	/* Providers, created on first use (engine/providers.c). */
	pthread_mutex_t prov_lock;
	const sky_browser_provider *browser;
	void *browser_inst;
	/* The browser pool, config browser.cdp_urls (engine/browsers.c);
	 * guarded by prov_lock. */
	struct sky_browser_slot *bpool;
	size_t n_bpool, bpool_next;
	int bpool_read;
	struct sky_llm *llm;          /* llm/llm.h: provider + accounting */
	struct sky_llm_alt *llm_alts; /* per-request models (providers.c) */
	size_t n_llm_alts;
	const sky_proxy_provider *proxy;
	void *proxy_inst;
	const sky_totp_provider *totp;
	void *totp_inst;
	const sky_credentials_provider *creds; /* config "credentials" */
	void *creds_inst;

	/* Webhook delivery (engine/webhook.c). */
	pthread_t webhook_thread;
	int webhook_running;
	int webhook_timeout_ms;   /* per attempt; config webhook.timeout_ms */
	int webhook_max_attempts; /* config webhook.max_attempts, 3 */
	int webhook_backoff_ms;   /* first retry delay; doubles; 1000 */
	int totp_llm_fallback;    /* config totp.llm_fallback */

	/* Browser sessions (engine/sessions.c). */
	pthread_mutex_t bs_lock;
	pthread_cond_t bs_cond; /* wakes the reaper */
	sky_bsession *bsessions;
	pthread_t bs_thread;
	int bs_running; /* the reaper thread exists */
	int bs_stopping;
	int bs_unit_ms;         /* one "minute" of timeout; 60000 */
	int bs_profile_save_ms; /* a profile-backed session saves this often */
	pthread_cond_t webhook_cond;
	sky_http_client *http; /* the engine's own client (net/) */

	/* Live views (engine/live.c). live_lock guards the lists and is
	 * never held while calling the browser; live_op serialises the
	 * screencast starts and stops. */
	pthread_mutex_t live_lock, live_op;
	struct sky_live_run *live_runs;
	struct sky_live_watch *live_watches;
	uint64_t live_next;
	/* Starts and stops a watch asks for, done by live_thread (under
	 * live_lock): a watcher's thread never waits for the browser. */
	struct sky_live_job *live_jobs;
	pthread_cond_t live_cond;
	pthread_t live_thread;
	int live_thread_on, live_stopping;
};

/* An engine not seen by the store for this long (it renews every third
 * of a lease) gives up its node number (store.h: nodes). */
#define NODE_STALE_MS (10 * 60 * 1000)

/* The 32-byte key that seals data at rest (engine.c: load_secrets_key). */
const unsigned char *sky_engine__secrets_key(const sky_engine *e);
/* Option value, else environment variable, else default; malloc'd. */
char *sky_engine__opt_str(const char *opt, const char *env, const char *dflt);
int sky_engine__opt_int(int opt, const char *env, int dflt);

/* 1 once sky_global_init() has run (engine/global.c). */
int sky_engine__global_ready(void);

/* live.c: a run's browser context for live views. attach after the
 * context is open; detach before it is closed or handed back (stops
 * the screencast; idempotent). */
void sky_engine__live_attach(sky_engine *e, const char *run_id,
                             const sky_browser_provider *bvt, void *ctx);
void sky_engine__live_detach(sky_engine *e, const char *run_id);
void sky_engine__live_init(sky_engine *e);
/* Ends live_thread (before the providers go); live_free calls it too. */
void sky_engine__live_stop(sky_engine *e);
void sky_engine__live_free(sky_engine *e);

/* runtime.c */
int sky_engine__start(sky_engine *e);
/* Stops the workers (waiting at most stop_grace_ms), the watchdog,
 * sessions and webhooks. Returns how many workers are still busy: then
 * nothing was torn down and the engine must not be freed. */
int sky_engine__stop(sky_engine *e);
void sky_engine__run_created(sky_engine *e, const sky_task_rec *t,
                             const sky_task_request *req,
                             const char *signing_key);
void sky_engine__run_canceled(sky_engine *e, const sky_task_rec *t);
/* A run's status changed (from a worker): event + webhook when final. */
void sky_engine__run_changed(sky_engine *e, const char *run_id);
uint64_t sky_engine__change_seq(sky_engine *e);
void sky_engine__wait_change(sky_engine *e, uint64_t seq, int64_t ms);
/* Emit an event to every subscriber (json borrowed). */
void sky_engine__emit(sky_engine *e, sky_event_type type, const char *run_id,
                      const char *status, int order, int retry,
                      const char *json);
/* 1 when the run was canceled (through the API or engine shutdown). */
int sky_engine__is_canceled(sky_engine *e, const char *run_id);
/* A sign of progress from the worker executing run_id (the watchdog
 * fails a run whose worker shows none for watchdog_ms). Every
 * sky_engine__is_canceled() call is one too. */
void sky_engine__beat(sky_engine *e, const char *run_id);
/* 1 while the engine is shutting down (runs park instead of cancel). */
int sky_engine__stopping(sky_engine *e);
char *sky_engine__run_json(sky_engine *e, const sky_task_rec *t);
/* runs.c: sky_tasks_api_run_submit(), recording `workflow_id` (may be
 * NULL) as the workflow the run was started from. */
/* runs.c: cancel a run within the store scope `scope` (already
 * resolved: NULL is every organization), answering as
 * sky_tasks_api_run_cancel. */
int sky_engine__run_cancel(char **err_json, int *http_status, sky_engine *e,
                           const char *scope, const char *run_id);
int sky_engine__run_submit(char **out_json, int *http_status, sky_engine *e,
                           const char *org, const char *request_json,
                           const sky_submit_options *opts,
                           const char *workflow_id);

/* Wake everything waiting for a change (a pushed TOTP code). */
void sky_engine__totp_arrived(sky_engine *e);
/* The key that signs the run's outgoing requests (webhooks, totp_url):
 * the API key that submitted it, else the engine's webhook key; malloc'd
 * or NULL. */
char *sky_engine__signing_key(sky_engine *e, const char *run_id);

/* proxy.c: the proxy for a context opened for `location_json` (the
 * request's proxy_location text; NULL = none). *proxy: {"server",
 * "username"?, "password"?} or NULL for direct; *applied: the record
 * stored as the run's proxy_applied. `sticky_key` keeps one proxy per
 * run. Passwords are registered as secrets. */
int sky_engine__proxy_resolve(sky_engine *e, const char *location_json,
                              const char *sticky_key, json_t **proxy,
                              json_t **applied);
json_t *sky_engine__proxy_from_url(const char *url);

/* sessions.c: browser sessions. start/stop run the inactivity reaper;
 * stop closes every session (they cannot outlive the browser). */
int sky_engine__sessions_start(sky_engine *e);
void sky_engine__sessions_stop(sky_engine *e);
/* At submit: reserve session `id` for a new run. 0, or SKY_ENOTFOUND /
 * SKY_EBUSY with *out_json the API's 404 / 409 body. With
 * *reserved 0 the call found the run already holding it (an idempotent
 * replay) and nothing was reserved. */
int sky_engine__session_reserve(sky_engine *e, const char *org, const char *id,
                                const char *idempotency_key, int *reserved,
                                char **out_json, int *status);
/* At submit: the run that holds the reservation (NULL: the submit
 * failed; the reservation is dropped). */
void sky_engine__session_reserved(sky_engine *e, const char *id,
                                  const char *run_id,
                                  const char *idempotency_key);
/* For the agent: the context of session `id` held by `run_id`, with its
 * download dir (borrowed while held). SKY_ENOTFOUND when the session is
 * gone. */
int sky_engine__session_attach(sky_engine *e, const char *id,
                               const char *run_id, void **ctx,
                               const char **download_dir);
/* The run lets go of its session (its final status is about to be
 * stored, or it was canceled). */
void sky_engine__session_release(sky_engine *e, const char *run_id);

/* providers.c: the engine's provider instances, created on first use. */
int sky_engine__browser(sky_engine *e, const sky_browser_provider **vt,
                        void **inst);
/* A config section as a provider gets it (without the engine's keys). */
char *sky_engine__provider_section(sky_engine *e, const char *section);

/*
 * browsers.c: which browser a run or session works in. A lease is one of
 * the pool's endpoints (config browser.cdp_urls, least-loaded first, a
 * failing one skipped for a while), a browser of the run's own
 * (browser_address: attached for the run, detached after it, never
 * closed), or the engine's one browser.
 */
typedef struct sky_browser_lease {
	const sky_browser_provider *vt;
	void *inst;
	int slot;       /* pool index; -1 the engine's browser; -2 own */
	uint64_t tried; /* pool endpoints that failed this lease */
	char **secrets; /* header values registered for redaction */
} sky_browser_lease;

/* `address` (NULL: none) and `headers_json` (the run's
 * cdp_connect_headers, a JSON object; NULL: none). */
int sky_engine__browser_take(sky_engine *e, const char *address,
                             const json_t *headers, sky_browser_lease *l);
/* A context could not be opened in l: mark its endpoint failing and move
 * the lease to the next one; nonzero when there is none. */
int sky_engine__browser_retry(sky_engine *e, sky_browser_lease *l);
void sky_engine__browser_give(sky_engine *e, sky_browser_lease *l);
/* Destroy the pool's instances (at engine free). */
void sky_engine__browser_pool_free(sky_engine *e);
int sky_engine__llm(sky_engine *e, struct sky_llm **llm);
/* The LLM a run uses: the model its request named (run_request
 * "model"."model_name", mapped by config llm.models), else the
 * engine's. SKY_EINVALID when the name is no longer configured. */
int sky_engine__llm_for_run(sky_engine *e, const char *run_request_json,
                            struct sky_llm **llm);
/* The models a request may name: config llm.models (an object of name ->
 * provider model, or an array of names used as they are) plus llm.model
 * ($SKYENGINE_LLM_MODEL) as itself. A new object. */
json_t *sky_engine__llm_models(const json_t *config);
/* NULL vt (and 0) when no proxy / TOTP provider is configured. */
int sky_engine__proxy(sky_engine *e, const sky_proxy_provider **vt,
                      void **inst);
int sky_engine__totp(sky_engine *e, const sky_totp_provider **vt, void **inst);
/* The credentials provider (config credentials.provider or
 * SKYENGINE_CREDENTIALS), created on first use; *vt NULL when none is
 * configured. */
int sky_engine__credentials(sky_engine *e, const sky_credentials_provider **vt,
                            void **inst);
void sky_engine__providers_free(sky_engine *e);
/* A config section as JSON text ("{}" when absent); malloc'd. */
char *sky_engine__config_section(sky_engine *e, const char *name);

/* apierr.c: error bodies in the API's shapes (malloc'd). */
char *sky_engine__api_detail(const char *fmt, ...) SKY_PRINTF(1, 2);
/* Append FastAPI's {type, loc: ["body", field?], msg, input} to items
 * (input borrowed; NULL is JSON null). */
void sky_engine__api_item(json_t *items, const char *type, const char *field,
                          const char *msg, const json_t *input);
/* {"detail": items} */
char *sky_engine__api_422(json_t *items);
/* Hand an error body to the caller: *out_json = body, *http_status =
 * status; returns `code` with sky_error_last() = what. */
int sky_engine__api_refuse(char **out_json, int *http_status, int status,
                           char *body, int code, const char *what);

/* profiles.c: browser profiles. The state of `id` (a bp_ id, a run id,
 * a session id) sealed under <data>/profiles; read: *state_json for
 * sky_engine__profile_free; errors say "browser profile X cannot be
 * read: ...". */
int sky_engine__profile_write(sky_engine *e, const char *id,
                              const char *state_json);
int sky_engine__profile_read(sky_engine *e, const char *id, char **state_json);
void sky_engine__profile_free(char *state_json);
void sky_engine__profile_remove(sky_engine *e, const char *id);
/* Load profile `bp_id` into a context just opened / save a context's
 * state as `id`. */
int sky_engine__profile_load(sky_engine *e, const sky_browser_provider *vt,
                             void *ctx, const char *bp_id);
int sky_engine__profile_capture(sky_engine *e, const sky_browser_provider *vt,
                                void *ctx, const char *id);
/* A run's own context: load the profile it names / keep its state if it
 * asked (the agent's context_prepare / context_closing). */
int sky_engine__run_profile_prepare(sky_engine *e, const char *run_id,
                                    const sky_browser_provider *vt, void *ctx);
void sky_engine__run_profile_closing(sky_engine *e, const char *run_id,
                                     const sky_browser_provider *vt, void *ctx);
/*
 * Save a new profile named `name` from a finished run (`run_id`, which
 * kept its state), a browser session (`session_id`: a live, idle one is
 * captured now; an ended one gives what it saved), or neither (a blank
 * profile). *bp_id (malloc'd) is the new profile's id. Errors:
 * SKY_ENOTFOUND (no such run/session in `org`), SKY_EEXISTS (name
 * taken), SKY_EINVALID (nothing was kept), SKY_EBUSY (a run holds the
 * session); sky_error_last() says it in the API's words.
 */
int sky_engine__browser_profile_save(sky_engine *e, const char *org,
                                     const char *run_id, const char *session_id,
                                     const char *name, const char *description,
                                     char **bp_id);
/* sessions.c: the state of session `id` for a new profile (see above). */
int sky_engine__session_capture(sky_engine *e, const char *org, const char *id,
                                char **state_json);

/* webhook.c */
int sky_engine__webhook_start(sky_engine *e);
void sky_engine__webhook_stop(sky_engine *e);
/* Queue the run's webhook (final status or cancel), signed now. */
int sky_engine__webhook_enqueue(sky_engine *e, const sky_task_rec *t,
                                const char *signing_key);
void sky_engine__webhook_kick(sky_engine *e);

/* credentials.c: the fields of credential `credential_id` of `org` (NULL:
 * any), unsealed: the JSON object as created ("username", "password",
 * "totp", … plus "credential_type"). SKY_ENOTFOUND, or SKY_EIO for a
 * sealed value that does not open (altered, another key); *why (malloc'd)
 * says so without any secret. The caller wipes and frees *fields. */
int sky_engine__credential_fields(sky_engine *e, const char *org,
                                  const char *credential_id, json_t **fields,
                                  char **why);
/* 1 when `credential_id` is not a vault id ("cred_…"): a reference for
 * the credentials provider, resolved when the run starts. */
int sky_engine__credential_external(const char *credential_id);

#endif
