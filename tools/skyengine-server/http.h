/*
 * The reference server's HTTP layer over libwebsockets 4.1: one service
 * thread, request bodies with a size cap, replies written in slices,
 * keep-alive, and a worker pool for handlers that may block.
 */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <stddef.h>
#include <skyengine/log.h>

/*
 * The server's own log lines (and libwebsockets'), on stderr in the
 * library's format, up to the level $SKYENGINE_LOG names (default warn).
 * The library's lines go through its own sink (sky_log_set).
 */
void srv_log(sky_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define srv_log_error(c, ...) srv_log(SKY_LOG_ERROR, c, __VA_ARGS__)
#define srv_log_warn(c, ...) srv_log(SKY_LOG_WARN, c, __VA_ARGS__)
#define srv_log_info(c, ...) srv_log(SKY_LOG_INFO, c, __VA_ARGS__)
#define srv_log_debug(c, ...) srv_log(SKY_LOG_DEBUG, c, __VA_ARGS__)

typedef struct srv_http srv_http;

enum srv_method {
	SRV_GET = 0,
	SRV_POST,
	SRV_OPTIONS,
	SRV_PUT,
	SRV_PATCH,
	SRV_DELETE,
	SRV_CONNECT,
	SRV_HEAD,
	SRV_OTHER
};

typedef struct srv_req {
	enum srv_method method;
	const char *method_name;
	char *path;   /* URL-decoded, without the query */
	char **query; /* "name=value" pairs (decoded), in order */
	size_t n_query;
	char *body; /* NUL-terminated; NULL when none */
	size_t body_len;
	int has_body; /* a body was announced (Content-Length) */
	/* Headers the API uses; NULL when absent. */
	char *api_key; /* x-api-key */
	char *authorization;
	char *content_type;
	char *idempotency_key; /* idempotency-key */
	char *x_user_agent;
	char *if_none_match;
	char *max_steps_override;      /* x-max-steps-override */
	char *max_iterations_override; /* x-max-iterations-override */
	char peer[64];
} srv_req;

typedef struct srv_resp {
	int status;    /* default 200 */
	char *ctype;   /* default application/json */
	char *headers; /* extra "name: value\r\n" lines */
	char *body;    /* malloc'd */
	size_t body_len;
} srv_resp;

/* Called for each complete request. `resp` is zeroed. Runs on the
 * service thread unless `is_slow` said otherwise. */
typedef void (*srv_handler)(void *ud, const srv_req *req, srv_resp *resp);
/* Return 1 if the request must run on a worker thread (it may block). */
typedef int (*srv_is_slow)(void *ud, const srv_req *req);

/* A websocket connection (live streams). */
typedef struct srv_ws srv_ws;
/* Websocket handlers, all called on the service thread. */
typedef struct srv_ws_handlers {
	/* 1 to accept an upgrade to `path` (before the handshake). */
	int (*accept)(void *ud, const char *path);
	/* Opened: req has the path, query and x-api-key. */
	void (*open)(void *ud, srv_ws *ws, const srv_req *req);
	/* Every 500 ms while open. */
	void (*tick)(void *ud, srv_ws *ws);
	/* Gone: ws is freed when this returns. */
	void (*close)(void *ud, srv_ws *ws);
} srv_ws_handlers;

typedef struct srv_http_options {
	const char *host; /* default 127.0.0.1 */
	int port;         /* 0 = ephemeral */
	size_t max_body;  /* default 1 MiB; more -> 413 */
	int workers;      /* threads for slow handlers, default 4 */
	srv_handler handler;
	srv_is_slow is_slow;
	/* Optional: a larger body limit for some requests (uploads); 0 or
	 * NULL: max_body. Called with the request's head only. */
	size_t (*max_body_for)(void *ud, const srv_req *req);
	void *ud;
	const srv_ws_handlers *ws; /* NULL: upgrades are refused */
} srv_http_options;

int srv_http_start(const srv_http_options *opts, srv_http **out);
/* Stop accepting, finish the service thread, free. */
void srv_http_stop(srv_http *h);
int srv_http_port(const srv_http *h);

/* Helpers for handlers. */
void srv_resp_json(srv_resp *r, int status, const char *json);
void srv_resp_take(srv_resp *r, int status, const char *ctype, char *body,
                   size_t len);
void srv_resp_header(srv_resp *r, const char *name, const char *value);
/* Websockets. The handler's own pointer. */
void srv_ws_set_data(srv_ws *ws, void *data);
void *srv_ws_data(const srv_ws *ws);
/* Service thread: queue a text message (copied). */
void srv_ws_send(srv_ws *ws, const char *text);
/* Service thread: close with `code` once the queue is sent. */
void srv_ws_end(srv_ws *ws, int code, const char *reason);
/* Any thread, while the connection is open (the handler's close has not
 * returned): the newest message of a stream (frames); it replaces one
 * not sent yet, so a slow client skips frames. Takes `text`. */
void srv_ws_offer(srv_ws *ws, char *text);

/* First value of a query parameter (borrowed) or NULL. */
const char *srv_req_query(const srv_req *req, const char *name);

#endif
