/*
 * The run viewer (app_url, recording_url): the run's status and output,
 * then each step like a filmstrip: the screenshot the planner saw, the
 * actions taken and their results. Refreshes itself while the run is not
 * final. Built from the public API's JSON only.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include <skyx/str.h>

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int is_final(const char *st)
{
	static const char *f[] = {"completed", "failed", "terminated",
	                          "timed_out", "canceled"};
	for (size_t i = 0; st && i < 5; i++)
		if (!strcmp(st, f[i]))
			return 1;
	return 0;
}

static const char STYLE[] =
    "<style>body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d1d1f;"
    "background:#f5f5f7}header{background:#fff;padding:1.2em 2em;border-"
    "bottom:1px solid #ddd}h1{font-size:18px;margin:0 0 .4em}.badge{display:"
    "inline-block;padding:.15em .6em;border-radius:1em;font-weight:600;"
    "font-size:12px;text-transform:uppercase}.completed{background:#d1f5d3;"
    "color:#0a5c12}.failed,.terminated,.timed_out{background:#fde2e1;color:"
    "#9b1c1c}.canceled{background:#eee;color:#555}.running,.created,.queued"
    "{background:#e0ecff;color:#1a4fb3}main{padding:1em 2em}.out{background:"
    "#fff;border:1px solid #ddd;border-radius:6px;padding:.8em;white-space:"
    "pre-wrap;font-family:ui-monospace,monospace;font-size:12px}.step{display:"
    "flex;gap:1.2em;background:#fff;border:1px solid #ddd;border-radius:6px;"
    "padding:1em;margin:1em 0}.step img{width:420px;border:1px solid #ccc;"
    "border-radius:4px}.step h2{font-size:15px;margin:0 0 .5em}ol{margin:0;"
    "padding-left:1.4em}li{margin:.3em 0}.ok{color:#0a5c12}.bad{color:#9b1c1c}"
    ".why{color:#666;font-size:12px}.meta{color:#666;font-size:12px}#live "
    "img{max-width:100%;"
    "border:1px solid #ccc;border-radius:4px}</style>";

static void render_actions(skyx_buf *b, const json_t *step)
{
	json_t *out = json_object_get(step, "output");
	json_t *pairs = json_object_get(out, "actions_and_results");
	size_t i;
	json_t *pair;
	if (!json_array_size(pairs)) {
		skyx_buf_puts(b, "<p class=why>No actions.</p>");
		return;
	}
	skyx_buf_puts(b, "<ol>");
	json_array_foreach (pairs, i, pair) {
		json_t *a = json_array_get(pair, 0);
		json_t *r = json_array_get(json_array_get(pair, 1), 0);
		int ok = json_is_true(json_object_get(r, "success"));
		skyx_buf_printf(b, "<li class=%s data-action=\"",
		                ok ? "ok" : "bad");
		skyx_buf_html(b, str(a, "action_type"));
		skyx_buf_puts(b, "\"><b>");
		skyx_buf_html(b, str(a, "action_type"));
		skyx_buf_puts(b, "</b>");
		if (str(a, "element_id")) {
			skyx_buf_puts(b, " #");
			skyx_buf_html(b, str(a, "element_id"));
		}
		if (str(a, "text")) {
			skyx_buf_puts(b, " “");
			skyx_buf_html(b, str(a, "text"));
			skyx_buf_puts(b, "”");
		}
		if (str(a, "url")) {
			skyx_buf_puts(b, " ");
			skyx_buf_html(b, str(a, "url"));
		}
		skyx_buf_puts(b, ok ? " — ok" : " — failed");
		if (str(r, "message")) {
			skyx_buf_puts(b, ": ");
			skyx_buf_html(b, str(r, "message"));
		}
		if (str(a, "reasoning")) {
			skyx_buf_puts(b, "<div class=why>");
			skyx_buf_html(b, str(a, "reasoning"));
			skyx_buf_puts(b, "</div>");
		}
		skyx_buf_puts(b, "</li>");
	}
	skyx_buf_puts(b, "</ol>");
}

/* While the run is not final: its live stream (WS
 * /api/v1/stream/tasks/{id}, by a link signed for it) shown as it comes;
 * the page reloads when the stream ends with the run's final status. */
static const char LIVE_JS[] =
    "(function(){var u=new URL(STREAM,location.href);"
    "u.protocol=location.protocol=='https:'?'wss:':'ws:';"
    "u.host=location.host;var img=document.getElementById('live-frame');"
    "var again=function(){setTimeout(function(){location.reload()},2000)};"
    "var ws;try{ws=new WebSocket(u.href)}catch(e){return again()}"
    "ws.onmessage=function(e){var m;try{m=JSON.parse(e.data)}catch(x){"
    "return}if(m.screenshot){img.src='data:image/'+(m.format||'jpeg')+"
    "';base64,'+m.screenshot;img.hidden=false;return}"
    "if(m.status&&m.status!='running')location.reload()};"
    "ws.onclose=again})();";

static void live_view(srv *s, skyx_buf *b, const char *run_id)
{
	char *path = skyx_asprintf("/api/v1/stream/tasks/%s", run_id);
	char *url = NULL;
	if (!path || sky_url_sign(&url, s->engine, path)) {
		free(path);
		return;
	}
	json_t *js = json_string(url);
	char *lit = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
	skyx_buf_puts(b, "<section id=live><h2>Live</h2><img id=live-frame "
	                 "alt=\"live view\" hidden></section><script>var "
	                 "STREAM=");
	skyx_buf_puts(b, lit && !strstr(lit, "</") ? lit : "\"\"");
	skyx_buf_puts(b, ";");
	skyx_buf_puts(b, LIVE_JS);
	skyx_buf_puts(b, "</script>");
	free(lit);
	json_decref(js);
	sky_free(url);
	free(path);
}

char *srv_viewer_html(srv *s, const char *org, const char *run_id, int *status)
{
	char *run_s = NULL, *steps_s = NULL, *arts_s = NULL;
	skyx_buf b = {0};
	*status = 200;
	if (sky_tasks_api_run_get(&run_s, s->engine, org, run_id)) {
		*status = 404;
		skyx_buf_puts(&b,
		              "<!doctype html><meta charset=utf-8><title>Not "
		              "found</title><p>No run ");
		skyx_buf_html(&b, run_id);
		skyx_buf_puts(&b, "</p>");
		return skyx_buf_steal(&b);
	}
	sky_tasks_api_run_steps_list(&steps_s, s->engine, org, run_id);
	sky_tasks_api_run_artifacts_list(&arts_s, s->engine, org, run_id);
	json_t *run = json_loads(run_s, 0, NULL);
	json_t *steps = json_loads(steps_s ? steps_s : "[]", 0, NULL);
	json_t *arts = json_loads(arts_s ? arts_s : "[]", 0, NULL);
	const char *st = str(run, "status");
	json_t *req = json_object_get(run, "run_request");

	skyx_buf_puts(&b,
	              "<!doctype html><html lang=en><meta charset=utf-8>"
	              "<meta name=viewport content=\"width=device-width\">");
	/* Not final: the live view (below) reloads the page at the end;
	 * without scripts, the page refreshes itself. */
	if (!is_final(st))
		skyx_buf_puts(&b, "<noscript><meta http-equiv=refresh "
		                  "content=2></noscript>");
	skyx_buf_puts(&b, "<title>Run ");
	skyx_buf_html(&b, run_id);
	skyx_buf_puts(&b, "</title>");
	skyx_buf_puts(&b, STYLE);
	skyx_buf_puts(&b, "<header><h1>Run <span id=run-id>");
	skyx_buf_html(&b, run_id);
	skyx_buf_printf(&b, "</span> <span id=status class=\"badge %s\">",
	                st ? st : "");
	skyx_buf_html(&b, st);
	skyx_buf_puts(&b, "</span></h1><div id=goal>");
	skyx_buf_html(&b, str(req, "prompt"));
	skyx_buf_puts(&b, "</div><div class=meta>");
	skyx_buf_html(&b, str(run, "run_type"));
	skyx_buf_puts(&b, " · ");
	skyx_buf_html(&b, str(req, "url"));
	skyx_buf_printf(
	    &b, " · %lld step(s) · created ",
	    (long long)json_integer_value(json_object_get(run, "step_count")));
	skyx_buf_html(&b, str(run, "created_at"));
	skyx_buf_puts(&b, "</div></header><main>");
	if (!is_final(st))
		live_view(s, &b, run_id);
	if (str(run, "failure_reason")) {
		skyx_buf_puts(&b, "<p id=failure class=bad>");
		skyx_buf_html(&b, str(run, "failure_reason"));
		skyx_buf_puts(&b, "</p>");
	}
	json_t *output = json_object_get(run, "output");
	if (output && !json_is_null(output)) {
		char *o = json_dumps(output, JSON_INDENT(2) | JSON_ENCODE_ANY);
		skyx_buf_puts(&b, "<h2>Output</h2><div id=output class=out>");
		skyx_buf_html(&b, o);
		skyx_buf_puts(&b, "</div>");
		free(o);
	}
	size_t i, k;
	json_t *step, *a;
	json_array_foreach (steps, i, step) {
		const char *sid = str(step, "step_id");
		skyx_buf_puts(&b, "<section class=step data-step=\"");
		skyx_buf_html(&b, sid);
		skyx_buf_puts(&b, "\"><div>");
		json_array_foreach (arts, k, a) {
			if (!skyx_str_eq(str(a, "step_id"), sid) ||
			    !skyx_str_eq(str(a, "artifact_type"),
			                 "screenshot_llm"))
				continue;
			skyx_buf_puts(&b, "<img alt=\"screenshot\" src=\"");
			skyx_buf_html(&b, str(a, "signed_url"));
			skyx_buf_puts(&b, "\">");
			break;
		}
		skyx_buf_printf(&b, "</div><div><h2>Step %lld",
		                (long long)json_integer_value(
		                    json_object_get(step, "order")));
		json_int_t retry =
		    json_integer_value(json_object_get(step, "retry_index"));
		if (retry)
			skyx_buf_printf(&b, " (retry %lld)", (long long)retry);
		skyx_buf_puts(&b, " <span class=\"badge ");
		skyx_buf_html(&b, str(step, "status"));
		skyx_buf_puts(&b, "\">");
		skyx_buf_html(&b, str(step, "status"));
		skyx_buf_puts(&b, "</span></h2>");
		render_actions(&b, step);
		skyx_buf_puts(&b, "</div></section>");
	}
	if (!json_array_size(steps))
		skyx_buf_puts(&b, "<p class=why>No steps yet.</p>");
	skyx_buf_puts(&b, "</main></html>");
	json_decref(run);
	json_decref(steps);
	json_decref(arts);
	free(run_s);
	free(steps_s);
	free(arts_s);
	return skyx_buf_steal(&b);
}
