/*
 * Helpers for the browser tests: load the real "cdp" provider, serve the
 * fixture pages of tests/pages/browser on loopback (with endpoints that
 * record what the browser sent), and drive a context with short calls
 * that fail the test with the plugin's message.
 */
#ifndef SKYTEST_BROWSER_H
#define SKYTEST_BROWSER_H

#include <jansson.h>
#include <sys/types.h>
#include <skyengine/errors.h>
#include <skyengine/plugin/browser.h>

#include "httpd.h"

typedef struct skyb_site skyb_site;

/* The fixture site: files under tests/pages/browser plus endpoints:
 *   POST /submit/<name>   records the body; answers a page echoing it
 *   GET  /slow?ms=N       answers {"items": [...]} after N ms
 *                         (&body_ms=M: the body M ms after the head)
 *   GET  /download/<f>    a file with Content-Disposition: attachment
 *   GET  /cookie/set?v=X  sets cookie sky=X; /cookie/show echoes Cookie
 *   GET  /headers         echoes the request headers as JSON
 *   GET  /table?rows=N    a table of N rows
 *   absolute-form requests (a proxy's traffic) need Proxy-Authorization
 *   "Basic dXNlcjpwYXNz" (user:pass), else 407. */
skyb_site *skyb_site_start(void);
void skyb_site_stop(skyb_site *s);
const char *skyb_site_url(skyb_site *s);
/* "http://127.0.0.1:PORT/<path>", malloc'd. */
char *skyb_url(skyb_site *s, const char *path);
/* The last body POSTed to /submit/<name>, malloc'd, or NULL. */
char *skyb_site_submitted(skyb_site *s, const char *name);
/* How many absolute-form (proxied) requests were answered, and how many
 * were refused for missing credentials. */
int skyb_site_proxied(skyb_site *s, int *refused);
/* How many proxied requests were for exactly `url`. */
int skyb_site_was_proxied(skyb_site *s, const char *url);
/* The bytes /download/big.bin serves (deterministic). */
unsigned char *skyb_big_file(size_t *len);

/* The provider, loaded from the build tree (process-wide). */
const sky_browser_provider *skyb_provider(void);
/* The plugin host context to pass to its create(). */
const sky_host_ctx *skyb_ctx(void);
/* The engine's page script (embedded resource). */
const char *skyb_script(void);

/* A browser for one test: config JSON or NULL for the defaults (the
 * plugin launches its own Chromium over the pipe). */
void *skyb_browser(const char *config_json);

/*
 * Launch Chromium with --remote-debugging-port=0 in its own process
 * group, the way a remote browser runs; wait for DevToolsActivePort.
 * Returns the pid and fills port and ws_path ("/devtools/browser/..").
 */
pid_t skyb_chromium_launch(const char *profile_dir, int *port,
                           char ws_path[256]);
void skyb_chromium_kill(pid_t pid);

/*
 * One Chromium for a whole test program (start it in main() before the
 * runner forks): each test then connects with skyb_browser_shared()
 * over the websocket and works in its own contexts, which saves a
 * browser launch per test.
 */
void skyb_shared_start(void);
void skyb_shared_stop(void);
void *skyb_browser_shared(void);
/* The shared Chromium's DevTools HTTP port (its /json/list). */
int skyb_shared_port(void);
void *skyb_context(void *browser, const char *options_json);

/* Each of these fails the test (ck_abort) when the call errs. */
json_t *skyb_navigate(void *ctx, const char *url);
json_t *skyb_settle(void *ctx);
json_t *skyb_snapshot(void *ctx);
json_t *skyb_act(void *ctx, const char *action_json);
json_t *skyb_state(void *ctx);
/* evaluate in the page's main world; returns the JSON value */
json_t *skyb_eval(void *ctx, const char *expr);
/* evaluate and return a string (malloc'd; "" for non-strings) */
char *skyb_eval_str(void *ctx, const char *expr);
long long skyb_eval_int(void *ctx, const char *expr);

/* The first element in a snapshot whose label, text, name or
 * placeholder equals `what` (and whose tag equals `tag` unless NULL);
 * borrowed from snap. */
json_t *skyb_find(json_t *snap, const char *tag, const char *what);
/* Its id (borrowed), or fails the test. */
const char *skyb_id(json_t *snap, const char *tag, const char *what);
/* Count elements of the snapshot tree matching a predicate on tag. */
size_t skyb_count(json_t *snap, const char *tag);

/* The result of an action must be success; returns it for more checks. */
json_t *skyb_act_ok(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One TCase per test, named after it, so that CK_RUN_CASE=<test> runs
 * that test alone. */
#define SKYB_TEST(suite, fn, setup, teardown, secs)                            \
	do {                                                                   \
		TCase *tc_ = tcase_create(#fn);                                \
		tcase_add_checked_fixture(tc_, setup, teardown);               \
		tcase_set_timeout(tc_, secs);                                  \
		tcase_add_test(tc_, fn);                                       \
		suite_add_tcase(suite, tc_);                                   \
	} while (0)

#endif
