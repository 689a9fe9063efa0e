/*
 * browser-cdp internals: the DevTools connection (transport-neutral core),
 * the browser / context / tab state kept from CDP events, and the helpers
 * shared by the files of this plugin. Not a public header.
 */
#ifndef SKY_CDP_H
#define SKY_CDP_H

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <skyengine/plugin/errors.h>
#include <skyengine/plugin/browser.h>
#include <skyengine/plugin/host.h>
#include <skyx/codec.h>
#include <skyx/hash.h>

#define CDP_COMPONENT "browser-cdp"
/* Dialogs remembered between two page_state calls. */
#define CDP_MAX_DIALOGS 20

/* The host table handed to sky_plugin_load (plugin.c). */
extern const sky_host_api *cdp_host;
/* Log every protocol message (SKYENGINE_LOG=trace), read at load. */
extern int cdp_trace;

/* --- small helpers (util.c) ---------------------------------------------- */

/* Thread-local "last error" of the plugin; the vtable glue copies it into
 * the caller's *err. Returns code. */
int cdp_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *cdp_errmsg(void);
int cdp_errcode(void);
void cdp_err_clear(void);

void cdp_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Growable string (zero-initialise). */
typedef struct cdp_buf {
	char *data;
	size_t len, cap;
} cdp_buf;
void cdp_buf_add(cdp_buf *b, const char *s, size_t n);
void cdp_buf_puts(cdp_buf *b, const char *s);
void cdp_buf_printf(cdp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cdp_buf_free(cdp_buf *b);

char *cdp_strdup(const char *s);
char *cdp_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t cdp_now_ms(void);
/* An absolute CLOCK_MONOTONIC deadline `ms` from now. */
void cdp_deadline(struct timespec *ts, int64_t ms);
char *cdp_json_dumps(const json_t *v); /* compact, malloc'd */
const char *cdp_jstr(const json_t *o, const char *key);
long long cdp_jint(const json_t *o, const char *key, long long dflt);
double cdp_jnum(const json_t *o, const char *key, double dflt);
int cdp_jbool(const json_t *o, const char *key, int dflt);
int cdp_mkdir_p(const char *path);
int cdp_rm_rf(const char *path);
/* Result objects of docs/internals.md section 4. */
json_t *cdp_ok(void);
json_t *cdp_failure(const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- the connection ------------------------------------------------------ */

typedef struct cdp_conn cdp_conn;

/* Called on the reader thread for every event (params may be NULL;
 * session NULL for the browser session). Must not block on CDP calls. */
typedef void (*cdp_event_fn)(void *ud, cdp_conn *c, const char *method,
                             json_t *params, const char *session);
/* Called once on the reader thread when the connection is gone. */
typedef void (*cdp_death_fn)(void *ud, cdp_conn *c, const char *reason);

typedef struct cdp_transport {
	/* Send one complete message (no terminator); thread-safe. */
	int (*send)(cdp_conn *c, const char *msg, size_t len);
	/* Stop the reader, close, reap; called once from cdp_conn_free. */
	void (*shutdown)(cdp_conn *c);
	const char *name; /* "pipe" | "websocket" */
} cdp_transport;

struct cdp_conn {
	pthread_mutex_t lock;
	int refs;
	int next_id;
	struct cdp_pending *pending;
	int dead;
	int closing; /* we asked the browser to exit */
	char dead_reason[256];
	const cdp_transport *tp;
	void *tp_state;
	cdp_event_fn on_event;
	cdp_death_fn on_death;
	void *ud;
	pid_t pid; /* the browser process we launched, or 0 */
};

/* Create with a transport; the transport starts the reader afterwards. */
cdp_conn *cdp_conn_new(const cdp_transport *tp, void *tp_state,
                       cdp_event_fn on_event, cdp_death_fn on_death, void *ud);
void cdp_conn_ref(cdp_conn *c);
/* Drops a reference; the last one shuts the transport down. */
void cdp_conn_unref(cdp_conn *c);
int cdp_conn_dead(cdp_conn *c);

/* End the calls in flight on a session (its renderer crashed): they
 * fail with SKY_EBROWSER and `why` (a static string). */
void cdp_conn_fail_session(cdp_conn *c, const char *session, const char *why);
/* Transport -> core: one complete message (ownership of buf passes). */
void cdp__on_message(cdp_conn *c, char *buf, size_t len);
/* Transport -> core: the connection is gone (idempotent). */
void cdp__on_close(cdp_conn *c, const char *reason);

/*
 * Blocking call. params is stolen (may be NULL). On success *result (if
 * result is non-NULL) is the "result" object (new reference). Errors:
 * SKY_EBROWSER (browser gone), SKY_ETIMEDOUT, SKY_ERROR (protocol error;
 * the message carries CDP's text).
 */
int cdp_call(cdp_conn *c, const char *session, const char *method,
             json_t *params, int timeout_ms, json_t **result);
/* Fire and forget (safe on the reader thread). params is stolen. */
int cdp_post(cdp_conn *c, const char *session, const char *method,
             json_t *params);

/* --- transports ------------------------------------------------------------ */

typedef struct cdp_launch {
	const char *path;
	char **args; /* extra arguments, NULL-terminated, may be NULL */
	int headless;
	const char *profile_dir;
	const char *log_path; /* the browser's stderr goes here */
	int with_proxy;       /* 0: --no-proxy-server */
} cdp_launch;

/* Launch Chromium with --remote-debugging-pipe and start the reader. */
int cdp_pipe_launch(const cdp_launch *l, cdp_event_fn on_event,
                    cdp_death_fn on_death, void *ud, cdp_conn **out);
/* Connect to http://host:port (reads /json/version) or ws(s)://...
 * `headers` (NULL or name, value, ..., NULL) go on the /json/version
 * request and the websocket handshake only; they are never logged. */
int cdp_ws_connect(const char *url, const char *const *headers, int timeout_ms,
                   cdp_event_fn on_event, cdp_death_fn on_death, void *ud,
                   cdp_conn **out);

/* --- browser, contexts, tabs (browser.c) --------------------------------- */

typedef struct cdp_browser cdp_browser;
typedef struct cdp_ctx cdp_ctx;
typedef struct cdp_tab cdp_tab;
typedef struct cdp_session cdp_session;

/* A request the tab has seen start and not finish. */
typedef struct cdp_req {
	char *id;
	char *loader; /* the document that asked (loaderId), or NULL */
	int64_t start_ms;
	int long_lived; /* websocket / event-source: never counted */
	/* the browser's own (the tab's icon: type Other, initiator other):
	 * no page script waits for it, so it is neither counted nor
	 * activity */
	int own;
	/* The head arrived and no body data since: the page has what it
	 * asked for even if it never reads the body (then Chromium sends
	 * no loadingFinished until the body is done). Data after the head
	 * means a body still coming in: counted again, as a stream. */
	int responded, streaming;
} cdp_req;

/* A world we created: one per frame document. */
typedef struct cdp_world {
	char *frame_id;
	char *session; /* the session that owns the frame */
	char *loader_id;
	int ctx_id;
	unsigned script_gen; /* which page script is installed (0: none) */
	char *prefix;        /* id prefix for the frame: "" or "f3." */
	char *parent_prefix; /* NULL for the main frame */
	char *owner_ref;     /* the iframe element's id in the parent world */
} cdp_world;

struct cdp_session {
	char *id;
	char *target_id;
	cdp_tab *tab;
	int is_main;
};

struct cdp_tab {
	cdp_ctx *ctx;
	char *target_id;
	char *session; /* main session id */
	int closed, crashed;
	int ready;          /* a worker saw the tab's setup commands answered */
	int64_t opened_seq; /* order of opening */
	/* main frame state, from events */
	char *main_frame;
	char *loader_id;
	char *url;
	int loading;
	unsigned nav_seq;     /* a navigation was requested or started */
	unsigned commit_seq;  /* the main frame committed a new document */
	unsigned load_seq;    /* load event fired */
	unsigned stop_seq;    /* main frame stopped loading */
	unsigned samedoc_seq; /* navigated within the document */
	int status;           /* HTTP status of the main document */
	char *status_loader;
	char *nav_error;
	/* network */
	cdp_req *reqs;
	size_t n_reqs, cap_reqs;
	int64_t last_net_ms;
	int64_t last_start_ms; /* the last request started */
	/* worlds and frame prefixes */
	cdp_world *worlds;
	size_t n_worlds;
	unsigned frame_nav_seq; /* any frame navigated or went away */
	char **prefix_frames;   /* index i -> frame id of prefix "f<i+1>." */
	size_t n_prefix;
	/* next id counter per prefix (0: main frame, i: "f<i>."), so that
	 * ids continue across documents */
	long long *next_ids;
	size_t n_next_ids;
	/* every frame id seen in the tab (downloads name their frame) */
	char **frames;
	size_t n_frames;
	/* the last typing (input_text, keypress) that did not navigate:
	 * settle first gives the page a moment to react to it */
	int64_t keys_ms, keys_began_ms; /* the last key; the action's start */
	unsigned keys_nav;
	/* mouse position, for hover/move continuity */
	double mouse_x, mouse_y;
	/* the last HTML5 drag a drag action started (Input.dragIntercepted) */
	json_t *drag_data;
	unsigned drag_seq;
	/* the action being run asked to return at the commit of a
	 * navigation it starts ("navigation_wait": "commit"): its caller
	 * settles, which waits for the load */
	int act_until_commit;
	/* such an action returned before the load: the next action waits
	 * for it first (the settle always does) */
	int load_pending;
};

typedef struct cdp_download {
	char *guid;
	char *url;
	char *suggested;
	char *path;  /* final path once completed */
	char *state; /* inProgress | completed | canceled */
	int64_t received;
	int reported; /* listed by page_state already */
	unsigned seq;
} cdp_download;

struct cdp_ctx {
	cdp_browser *b;
	cdp_conn *conn; /* the browser generation this context lives on */
	char *id;       /* browserContextId */
	char *download_dir;
	int own_download_dir;
	char *proxy_user, *proxy_pass;
	json_t *headers; /* extra HTTP headers or NULL */
	int vw, vh;
	char *user_agent;
	pthread_cond_t cond; /* signalled on every state change */
	cdp_tab **tabs;
	size_t n_tabs;
	size_t active;
	cdp_tab **graveyard; /* closed tabs, freed with the context */
	size_t n_graveyard;
	json_t *dialogs; /* since the last page_state, at most
	                    CDP_MAX_DIALOGS */
	cdp_download *downloads;
	size_t n_downloads;
	unsigned dl_seq;
	int closing;
	int64_t tab_seq;
	int auth_answers; /* proxy challenges answered since a response */
	/* the screencast (cast.c), while on: frames of cast_session's tab
	 * go to cast_fn */
	sky_browser_frame_fn cast_fn;
	void *cast_ud;
	char *cast_session;
	/* browser profiles (state.c): while restoring, the main tab's
	 * requests are answered with an empty page; the origins a loaded
	 * state held, kept for origins no tab shows at save time */
	int restoring;
	json_t *loaded_origins;
	/* a screenshot the settle took ahead (page.c), for the next
	 * screenshot call with the same options */
	struct cdp_shot *shot;
	/* prepared ahead as the browser's spare and not handed out yet:
	 * no download dir, no options (browser.c "the spare context") */
	int spare;
};

struct cdp_browser {
	const sky_host_ctx *host; /* the engine's, from create() */
	char *path;
	char *cdp_url;
	char **connect_headers; /* name, value, ..., NULL (secrets) */
	char **args;
	int headless;
	int call_timeout_ms;
	int launch_timeout_ms;
	char *profile_base;
	char *profile_dir;
	pthread_mutex_t launch_lock; /* one launcher at a time */
	pthread_mutex_t lock;        /* every ctx / tab / session field */
	cdp_conn *conn;
	cdp_ctx **ctxs;
	size_t n_ctxs;
	cdp_session **sessions;
	size_t n_sessions;
	cdp_download *orphans; /* downloads from frames we could not place */
	size_t n_orphans;
	char *script;
	size_t script_len;
	unsigned script_gen;
	unsigned generation;
	/* The warm spare context (browser.c): a context with one ready
	 * about:blank tab, made ahead on spare_thread so that the next
	 * context_open without a proxy takes it. Fields under `lock`;
	 * spare_cond wakes the thread. */
	int spare_on; /* config spare_context (default on) */
	int spare_state;
	int spare_stop;
	int spare_thread_on;
	int spare_waiter; /* an open waits for the spare being made */
	pthread_t spare_thread;
	pthread_cond_t spare_cond;
	cdp_ctx *spare;        /* ready, handed to the next open */
	cdp_ctx *spare_making; /* being made (so shutdown can stop it) */
};

int cdp_browser_create(const sky_host_ctx *host, const char *config_json,
                       cdp_browser **out);
void cdp_browser_destroy(cdp_browser *b);
/* The live connection (launching or reconnecting if needed), referenced. */
int cdp_browser_conn(cdp_browser *b, cdp_conn **out);
/* Make `tp` the browser's connection, wired to its event handlers,
 * instead of launching or dialling one: in-memory transports (the CDP
 * fuzzer, tests/fuzz/fuzz_cdp.c). *out is a new reference. */
int cdp_browser_adopt(cdp_browser *b, const cdp_transport *tp, void *tp_state,
                      cdp_conn **out);
void cdp_browser_set_script(cdp_browser *b, const char *src, size_t len);

int cdp_ctx_open(cdp_browser *b, const char *options_json, cdp_ctx **out);
void cdp_ctx_close(cdp_ctx *ctx);
/* 0, or SKY_EBROWSER when the context's browser is gone. */
int cdp_ctx_alive(cdp_ctx *ctx);
/* The active tab (borrowed; valid while the caller is the context's only
 * user), or NULL with the error set. */
cdp_tab *cdp_ctx_tab(cdp_ctx *ctx);
/* The same, but a tab whose renderer crashed is returned too: a
 * navigation gives it a new renderer. */
cdp_tab *cdp_ctx_tab_for_navigation(cdp_ctx *ctx);
/* Open a tab in the context and wait until it is attached. */
int cdp_ctx_new_tab(cdp_ctx *ctx, cdp_tab **out);
/* Wait on the context's condvar (browser lock held) until deadline. */
int cdp_ctx_wait(cdp_ctx *ctx, const struct timespec *deadline);
/* Number of requests in flight that count against network quiet. */
size_t cdp_tab_inflight(cdp_tab *t, int64_t now, int64_t long_ms);
/* Number of requests that would count but have run past long_ms (the
 * long-request cut-off sets them aside). */
size_t cdp_tab_cut_off(cdp_tab *t, int64_t now, int64_t long_ms);

/* --- pages (page.c) --------------------------------------------------------- */

int cdp_navigate(cdp_ctx *ctx, const char *url, const char *opts_json,
                 json_t **result);
/* Where a tab's navigation state was before an action. */
typedef struct cdp_nav_mark {
	unsigned nav, commit, samedoc, dl;
} cdp_nav_mark;
void cdp_nav_mark_get(cdp_ctx *ctx, cdp_tab *t, cdp_nav_mark *m);
/* After an action: if it started a navigation, wait (bounded) until the
 * new document loaded, or only committed when the action asked for it
 * (t->act_until_commit). *navigated: 1 new document, 0 none. */
int cdp_wait_navigation(cdp_ctx *ctx, cdp_tab *t, const cdp_nav_mark *m,
                        int timeout_ms, int *navigated);
/* Before an action: the load an earlier action left running (it returned
 * at the commit), waited for, bounded by timeout_ms. */
void cdp_wait_pending_load(cdp_ctx *ctx, cdp_tab *t, int timeout_ms);
int cdp_settle(cdp_ctx *ctx, const char *opts_json, json_t **result);
/* After an action (its JSON, when it began, its result): typing that
 * did not navigate makes the next settle wait for the page's reaction
 * first. */
void cdp_settle_note_action(cdp_ctx *ctx, const char *action_json,
                            int64_t began_ms, const json_t *result);
int cdp_snapshot(cdp_ctx *ctx, const char *script, const char *opts_json,
                 char **out);
/* Add the listener notes (hooks.js) to every new document of a session,
 * in the page's world (posted from the reader at session setup). */
void cdp_page_hooks(cdp_conn *c, const char *session);
int cdp_screenshot(cdp_ctx *ctx, const char *opts_json, unsigned char **data,
                   size_t *len);
/* The screenshot taken ahead is no longer of the page as it is (an
 * action, a navigation, a script ran); cdp_shot_drop waits for it and
 * frees it (never with the browser lock held). */
void cdp_shot_stale(cdp_ctx *ctx);
void cdp_shot_drop(cdp_ctx *ctx);
int cdp_page_state(cdp_ctx *ctx, json_t **out);
int cdp_evaluate(cdp_ctx *ctx, const char *expression, char **out);

/* --- browser profiles (state.c) -------------------------------------------- */

/* The context's state (cookies, storage per origin) as JSON; docs/browser.md. */
int cdp_state_save(cdp_ctx *ctx, json_t **out);
/* Load a saved state into a fresh context, before its first navigation. */
int cdp_state_load(cdp_ctx *ctx, const char *state_json);

/* The isolated world of a frame with the page script installed. prefix
 * selects the frame ("" is the main frame). On success *world is a copy
 * the caller frees with cdp_world_free. */
int cdp_world_get(cdp_ctx *ctx, cdp_tab *t, const char *prefix,
                  cdp_world *world);
void cdp_world_free(cdp_world *w);
/* Call __sky.<fn>(...args) in a world; args is a JSON array text (may be
 * NULL); *result is the returned JSON value. */
int cdp_world_call(cdp_ctx *ctx, const cdp_world *w, const char *fn,
                   json_t *args, int timeout_ms, json_t **result);
/* The same, returning a remote object id (element handles). */
int cdp_world_object(cdp_ctx *ctx, const cdp_world *w, const char *fn,
                     json_t *args, char **object_id);
/* Offset of a frame's viewport in the top-level viewport. */
int cdp_frame_offset(cdp_ctx *ctx, cdp_tab *t, const char *prefix, double *x,
                     double *y);

/* --- actions (act.c) ---------------------------------------------------------- */

int cdp_act(cdp_ctx *ctx, const char *action_json, json_t **result);
/* The drag action (the provider's drag callback): action_type is
 * implied. */
int cdp_drag(cdp_ctx *ctx, const char *action_json, json_t **result);

/* --- screencast (cast.c) ----------------------------------------------------- */

/* The provider's screencast callback (any thread). */
int cdp_cast(cdp_ctx *ctx, int on, sky_browser_frame_fn fn, void *ud);
/* Page.screencastFrame (reader thread, browser lock held): ack it, and
 * hand it to the context's frame callback. */
void cdp_cast_frame(cdp_conn *c, cdp_session *s, json_t *params);

/* --- keys (keys.c) -------------------------------------------------------------- */

typedef struct cdp_key {
	const char *key;
	const char *code;
	int keycode;
	const char *text; /* NULL when the key types nothing */
} cdp_key;
/* "Enter", "a", "Shift+Tab", "Control+a" ... ; 0 or -1 (unknown). */
int cdp_key_parse(const char *spec, cdp_key *key, int *modifiers,
                  char textbuf[8]);

#endif
