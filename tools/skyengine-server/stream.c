/*
 * WS /api/v1/stream/tasks/{task_id}: Skyvern's live screenshot stream of a
 * run, fed by the browser's screencast (sky_run_watch). Messages as
 * Skyvern's (routes/streaming/screenshot.py, screencast.py): frames
 * {task_id, status: "running", screenshot (base64 JPEG), format,
 * viewport_width, viewport_height, url}; at the end one status message
 * {task_id, status} (the final status, "not_found" or "timeout") and a
 * normal close. Credentials as Skyvern's: the `apikey` query parameter
 * (or `token`), checked after the handshake, answered in text; or a link
 * the server signed (the run viewer's).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include <skyx/codec.h>
#include <skyx/str.h>
#include <skyx/time.h>

#define PREFIX "/api/v1/stream/tasks/"
#define WAIT_FOR_RUNNING_MS (120 * 1000)  /* Skyvern's */
#define STREAMING_TIMEOUT_MS (300 * 1000) /* no frame for this long */
#define CLOSE_NORMAL 1000

typedef struct stream {
	srv *s;
	srv_ws *ws;
	char *task_id;
	char *org;
	int any_org; /* a signed link: the signature names the run */
	uint64_t watch;
	int64_t since_ms;   /* opened, or running since */
	int64_t last_frame; /* monotonic ms, written by the browser */
	int running;
	int ticks;
} stream;

static int is_final(const char *st)
{
	static const char *f[] = {"completed", "failed", "terminated",
	                          "timed_out", "canceled"};
	for (size_t i = 0; st && i < sizeof f / sizeof *f; i++)
		if (!strcmp(st, f[i]))
			return 1;
	return 0;
}

/* The id of /api/v1/stream/tasks/{id}[/], or NULL. */
static char *task_of(const char *path)
{
	if (strncmp(path, PREFIX, sizeof PREFIX - 1))
		return NULL;
	const char *id = path + sizeof PREFIX - 1;
	size_t n = strcspn(id, "/");
	if (!n || (id[n] && strcmp(id + n, "/")))
		return NULL;
	return skyx_strndup(id, n);
}

int srv_stream_accept(void *ud, const char *path)
{
	(void)ud;
	char *id = task_of(path);
	free(id);
	return id != NULL;
}

static void status_and_close(stream *st, const char *status)
{
	json_t *o =
	    json_pack("{s:s, s:s}", "task_id", st->task_id, "status", status);
	char *text = json_dumps(o, JSON_COMPACT);
	srv_ws_send(st->ws, text ? text : "{}");
	free(text);
	json_decref(o);
	srv_ws_end(st->ws, CLOSE_NORMAL, status);
}

static void text_and_close(srv_ws *ws, const char *text)
{
	srv_ws_send(ws, text);
	srv_ws_end(ws, CLOSE_NORMAL, "");
}

/* Browser thread: one frame, offered as the stream's newest message. */
static void on_frame(void *ud, const unsigned char *jpeg, size_t len, int width,
                     int height, const char *url)
{
	stream *st = ud;
	char *b64 = skyx_base64_encode(jpeg, len);
	if (!b64)
		return;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "task_id",
	                      st->task_id, "status", "running", "screenshot",
	                      b64, "format", "jpeg", "viewport_width", width,
	                      "viewport_height", height, "url", url ? url : "");
	free(b64);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return;
	__atomic_store_n(&st->last_frame, skyx_time_mono_ms(),
	                 __ATOMIC_RELAXED);
	srv_ws_offer(st->ws, text);
}

/* The run's status (malloc'd) or NULL when there is no such run. */
static char *run_status(stream *st)
{
	char *out = NULL;
	if (sky_tasks_api_run_get(&out, st->s->engine,
	                          st->any_org ? SKY_ORGANIZATION_ANY : st->org,
	                          st->task_id))
		return NULL;
	json_t *run = json_loads(out, 0, NULL);
	sky_free(out);
	const char *v = json_string_value(json_object_get(run, "status"));
	char *status = skyx_strdup(v ? v : "");
	json_decref(run);
	return status;
}

/* Who may watch: the org of `apikey`, or any (*any_org 1, "") for a
 * signed link. NULL after answering as Skyvern does. */
static char *authorize(srv *s, srv_ws *ws, const srv_req *req, int *any_org)
{
	const char *exp = srv_req_query(req, "expires");
	const char *sig = srv_req_query(req, "signature");
	const char *key = srv_req_query(req, "apikey");
	const char *token = srv_req_query(req, "token");
	char *org = NULL;
	int revoked = 0;
	if (exp && sig) {
		if (sky_url_verify(s->engine, req->path, exp, sig) == 0) {
			*any_org = 1;
			return skyx_strdup("");
		}
		text_and_close(ws, "Invalid credential provided");
		return NULL;
	}
	if (!key && !token) {
		if (s->allow_unauthenticated)
			return skyx_strdup("");
		text_and_close(ws, "No valid credential provided");
		return NULL;
	}
	/* A token is a Skyvern session JWT: none are issued here. */
	if (!key || sky_api_key_verify(&org, &revoked, s->engine, key)) {
		text_and_close(ws, "Invalid credential provided");
		return NULL;
	}
	return org;
}

void srv_stream_open(void *ud, srv_ws *ws, const srv_req *req)
{
	srv *s = ud;
	if (!s->engine) {
		text_and_close(ws, "Starting up, try again");
		return;
	}
	char *id = task_of(req->path);
	int any_org = 0;
	char *org = id ? authorize(s, ws, req, &any_org) : NULL;
	if (!org) {
		free(id);
		return;
	}
	stream *st = calloc(1, sizeof *st);
	if (!st) {
		free(id);
		free(org);
		srv_ws_end(ws, 1011, "out of memory");
		return;
	}
	st->s = s;
	st->ws = ws;
	st->task_id = id;
	st->org = org;
	st->any_org = any_org;
	st->since_ms = skyx_time_mono_ms();
	srv_ws_set_data(ws, st);
	char *status = run_status(st);
	if (!status) {
		status_and_close(st, "not_found");
		return;
	}
	if (is_final(status)) {
		status_and_close(st, status);
		free(status);
		return;
	}
	free(status);
	if (sky_run_watch(&st->watch, s->engine,
	                  st->any_org ? SKY_ORGANIZATION_ANY : st->org, id,
	                  on_frame, st))
		srv_log_warn("server", "stream %s: no live frames: %s", id,
		             sky_error_last());
}

void srv_stream_tick(void *ud, srv_ws *ws)
{
	(void)ud;
	stream *st = srv_ws_data(ws);
	if (!st || ++st->ticks % 2) /* once a second */
		return;
	char *status = run_status(st);
	int64_t now = skyx_time_mono_ms();
	if (!status)
		status_and_close(st, "not_found");
	else if (is_final(status))
		status_and_close(st, status);
	else if (!strcmp(status, "running")) {
		if (!st->running) {
			st->running = 1;
			st->since_ms = now;
		}
		int64_t last =
		    __atomic_load_n(&st->last_frame, __ATOMIC_RELAXED);
		if (now - (last > st->since_ms ? last : st->since_ms) >
		    STREAMING_TIMEOUT_MS)
			status_and_close(st, "timeout");
	} else if (now - st->since_ms > WAIT_FOR_RUNNING_MS) {
		status_and_close(st, "timeout");
	}
	free(status);
}

void srv_stream_close(void *ud, srv_ws *ws)
{
	srv *s = ud;
	stream *st = srv_ws_data(ws);
	if (!st)
		return;
	/* No frame reaches this stream after unwatch returns. */
	if (st->watch)
		sky_run_unwatch(s->engine, st->watch);
	free(st->task_id);
	free(st->org);
	free(st);
}
