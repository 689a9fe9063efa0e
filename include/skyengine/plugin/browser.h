/*
 * skyengine plugin ABI: browser providers.
 *
 * A browser instance serves many runs at once; each run works in its own
 * context (cookie jar, storage, proxy, download directory) with one or
 * more tabs. Every call on a context is made by the one worker thread that
 * owns the run; calls on different contexts happen concurrently.
 *
 * Structured data crosses as JSON text. The formats (options, snapshot,
 * action and result objects) are specified in docs/internals.md; the
 * summary is next to each function.
 */
#ifndef SKYENGINE_PLUGIN_BROWSER_H
#define SKYENGINE_PLUGIN_BROWSER_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A screencast frame (see sky_browser_provider.screencast): JPEG bytes,
 * valid during the call, the page's size in CSS pixels and its URL. */
typedef void (*sky_browser_frame_fn)(void *userdata, const unsigned char *jpeg,
                                     size_t len, int width, int height,
                                     const char *url);

typedef struct sky_browser_provider {
	/* Provider name, selected by SKYENGINE_BROWSER ("cdp"). */
	const char *name;

	/*
	 * Create a browser instance from the engine's "browser" config
	 * section: {"path": "...", "cdp_url": "ws://..|http://..",
	 * "cdp_connect_headers": {"Name": "value"}, "args": [...],
	 * "headless": true}. Launching may be lazy. `host` is the engine's
	 * context: keep it for the host API's per-engine calls. The engine
	 * also creates an instance per endpoint of its pool
	 * (browser.cdp_urls) and one per run that names its own browser
	 * (browser_address): the section with "cdp_url" set to it, and
	 * "cdp_connect_headers" (credentials: send them on the connection's
	 * handshake only, never log them). destroy() of an instance attached
	 * to a cdp_url must leave that browser running.
	 */
	int (*create)(const sky_host_ctx *host, const char *config_json,
	              void **browser, char **err);
	void (*destroy)(void *browser);

	/*
	 * Open a context. options_json: {"proxy": {"server": "http://h:p",
	 * "username": "...", "password": "...", "bypass": "..."},
	 * "extra_http_headers": {...}, "download_dir": "/abs/path",
	 * "viewport": {"width": 1280, "height": 800}, "user_agent": "..."}.
	 */
	int (*context_open)(void *browser, const char *options_json,
	                    void **context, char **err);
	void (*context_close)(void *context);

	/*
	 * Navigate the current tab. opts_json: {"timeout_ms": 30000,
	 * "retries": 2}. *result_json: {"url": "...", "status": 200,
	 * "title": "..."}.
	 */
	int (*navigate)(void *context, const char *url, const char *opts_json,
	                char **result_json, char **err);

	/*
	 * Optional (NULL: the engine does not wait beyond navigate()).
	 * Wait until the page has settled: load fired, network quiet for a
	 * window, DOM mutations quiet; bounded. opts_json: {"max_ms": 5000,
	 * "network_quiet_ms": 300, "dom_quiet_ms": 200}. *result_json:
	 * {"settled": true, "waited_ms": 123, "reason": "..."}; the cdp
	 * plugin adds "ended" (quiet, busy, long_request, no_dom, cap) and
	 * more options (docs/browser.md).
	 */
	SKY_OPTIONAL int (*settle)(void *context, const char *opts_json,
	                           char **result_json, char **err);

	/*
	 * Run the engine's page script (page_script, JavaScript source) in an
	 * isolated world of every frame of the current tab and return the
	 * snapshot object (docs/internals.md "Snapshot"). opts_json is passed
	 * to the script's snapshot function.
	 */
	int (*snapshot)(void *context, const char *page_script,
	                const char *opts_json, char **snapshot_json,
	                char **err);

	/*
	 * Optional (NULL: runs have no screenshots and the model sees no
	 * image). Screenshot of the current tab. opts_json: {"format": "png"|"jpeg",
	 * "quality": 80, "full_page": false}. *data is allocated with the host
	 * allocator.
	 */
	SKY_OPTIONAL int (*screenshot)(void *context, const char *opts_json,
	                               unsigned char **data, size_t *len,
	                               char **err);

	/*
	 * Execute one browser action (docs/internals.md "Actions"): click,
	 * input_text, select_option, checkbox, upload_file, download_file,
	 * keypress, scroll, hover, go_back, go_forward, reload_page,
	 * goto_url, new_tab, switch_tab, close_tab, wait.
	 * Returns 0 with *result_json {"success": bool, "error": kind,
	 * "message": "...", ...} whenever the action was attempted, even if it
	 * failed on the page; a negative code only when the browser itself
	 * failed (SKY_EBROWSER) or the call was invalid.
	 */
	int (*act)(void *context, const char *action_json, char **result_json,
	           char **err);

	/*
	 * Optional (NULL: the engine knows only what the snapshot says).
	 * Page state that is not in the snapshot: {"url": "...", "title":
	 * "...", "tabs": [{"index": 0, "url": "...", "title": "...",
	 * "active": true}], "dialogs": [{"type": "alert", "message":
	 * "..."}], "downloads": [...], "downloads_in_progress": 0}. Dialog
	 * and download lists are those seen since the previous call (then
	 * cleared); downloads still in progress are only counted.
	 */
	SKY_OPTIONAL int (*page_state)(void *context, char **state_json,
	                               char **err);

	/* Optional (NULL: the engine does without). Evaluate a JavaScript
	 * expression in the page's main world of the current tab;
	 * *result_json is the JSON value of the result. */
	SKY_OPTIONAL int (*evaluate)(void *context, const char *expression,
	                             char **result_json, char **err);

	/*
	 * Optional: the engine hands its page script (the same source
	 * snapshot() takes) to the browser once, right after create(). settle() uses its DOM
	 * observer and act() its element helpers; without it, they work
	 * only after the first snapshot() of a page (settle then waits for
	 * load and network quiet only). A later snapshot() with a different
	 * source replaces it.
	 */
	SKY_OPTIONAL int (*set_page_script)(void *browser,
	                                    const char *page_script,
	                                    char **err);

	/*
	 * Optional: a drag with the left mouse button, pressed at
	 * the source, moved in steps, released at the target (calendar slot
	 * ranges, sliders, sortable lists). action_json is the drag action
	 * (docs/internals.md "Actions"): the source is "element_id" or
	 * "from": {"x", "y"}, the target "target_element_id" or "to":
	 * {"x", "y"} (window coordinates); optional "steps". Results as
	 * act(). NULL: the provider cannot drag, and the engine fails drag
	 * actions with error "unsupported".
	 */
	SKY_OPTIONAL int (*drag)(void *context, const char *action_json,
	                         char **result_json, char **err);
	/*
	 * Optional: start (on != 0) or stop a screencast of the
	 * context's current tab, for live views. While it is on, frame() is
	 * called on a browser thread (never the context's worker) for each
	 * frame the browser paints: it must copy what it keeps, return
	 * quickly and not call the provider. After screencast(ctx, 0, ...)
	 * returns, frame() is not called again; context_close stops it
	 * too. Starting again replaces frame and userdata. Unlike the other
	 * context calls, it may be made from any thread, concurrently with
	 * the worker's calls on the context (not with context_close). NULL:
	 * the provider has no live view.
	 */
	SKY_OPTIONAL int (*screencast)(void *context, int on,
	                               sky_browser_frame_fn frame,
	                               void *userdata, char **err);

	/* --- ABI 2.1: browser profiles (docs/browser.md) --- */
	/*
	 * Optional, both or neither (NULL: runs and sessions cannot use
	 * browser profiles). state_save: the context's saved state as JSON
	 * text (host allocator): {"format": "skyengine-browser-state",
	 * "version": 1, "cookies": [...], "origins": [{"origin": "...",
	 * "localStorage": {...}, "sessionStorage": {...}}]}; the engine
	 * keeps it opaque. state_load: put such a state into a context
	 * just opened, before its first navigation; the provider must not
	 * contact the sites while loading.
	 */
	SKY_OPTIONAL int (*state_save)(void *context, char **state_json,
	                               char **err);
	SKY_OPTIONAL int (*state_load)(void *context, const char *state_json,
	                               char **err);
} sky_browser_provider;

/* Register an browser provider from sky_plugin_load (passes sizeof *vt). */
static inline int sky_register_browser(const sky_host_api *api,
                                       sky_registrar *reg,
                                       const sky_browser_provider *vt)
{
	return api->register_provider(reg, SKY_PROVIDER_BROWSER, vt,
	                              sizeof *vt);
}

#ifdef __cplusplus
}
#endif

#endif
