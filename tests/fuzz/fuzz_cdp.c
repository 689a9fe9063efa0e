/*
 * libFuzzer: the CDP message layer of plugins/browser-cdp without a
 * browser. An in-memory transport plays Chromium's part for the commands
 * the plugin sends (it answers each with a result, and attaches a page
 * when a target is created), so a real browser context with a tab
 * exists; the fuzz input is then a stream of NUL-separated messages, as
 * the DevTools pipe frames them, handed to the plugin's reader entry
 * (cdp__on_message): replies with stray ids, events for the tab's
 * session (navigation, network, dialogs, downloads, crashes), targets
 * attaching and detaching, malformed JSON. After each input the page
 * state the events built is read back, then the context is recycled.
 */
#include "fuzz.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"

static cdp_browser *browser;
static cdp_conn *conn;
static const char CTX_ID[] = "CTX1";

/* Chromium's part: a result for every command. */
static int mem_send(cdp_conn *c, const char *msg, size_t len)
{
	json_t *m = json_loadb(msg, len, 0, NULL);
	int id = (int)json_integer_value(json_object_get(m, "id"));
	const char *method = json_string_value(json_object_get(m, "method"));
	json_t *result = json_object();
	int attach = 0;
	if (method && !strcmp(method, "Target.createBrowserContext")) {
		json_object_set_new(result, "browserContextId",
		                    json_string(CTX_ID));
	} else if (method && !strcmp(method, "Target.createTarget")) {
		json_object_set_new(result, "targetId", json_string("T1"));
		attach = 1;
	} else if (method && !strcmp(method, "Page.navigate")) {
		json_object_set_new(result, "frameId", json_string("T1"));
		json_object_set_new(result, "loaderId", json_string("L1"));
	}
	json_t *reply = json_pack("{s:i, s:o}", "id", id, "result", result);
	json_decref(m);
	if (attach) {
		/* Only from a worker's call: never re-enters an event. */
		json_t *ev =
		    json_pack("{s:s, s:{s:s, s:{s:s, s:s, s:s, s:s}, s:b}}",
		              "method", "Target.attachedToTarget", "params",
		              "sessionId", "S1", "targetInfo", "targetId", "T1",
		              "type", "page", "browserContextId", CTX_ID, "url",
		              "about:blank", "waitingForDebugger", 0);
		char *evs = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		cdp__on_message(c, evs, strlen(evs));
	}
	char *rs = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	cdp__on_message(c, rs, strlen(rs));
	return 0;
}

static void mem_shutdown(cdp_conn *c)
{
	(void)c;
}

static const cdp_transport mem_transport = {
    .send = mem_send,
    .shutdown = mem_shutdown,
    .name = "memory",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (cdp_browser_create(
	        NULL, "{\"call_timeout_ms\": 200, \"spare_context\": false}",
	        &browser) ||
	    cdp_browser_adopt(browser, &mem_transport, NULL, &conn))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cdp_ctx *ctx = NULL;
	if (cdp_ctx_open(browser, "{}", &ctx))
		abort(); /* the fake browser always answers */
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i])
			continue;
		size_t len = i - start;
		char *msg = malloc(len + 1);
		memcpy(msg, data + start, len);
		msg[len] = '\0';
		cdp__on_message(conn, msg, len); /* takes msg */
		start = i + 1;
	}
	json_t *st = NULL;
	if (cdp_page_state(ctx, &st) == 0)
		json_decref(st);
	cdp_ctx_close(ctx);
	return 0;
}
