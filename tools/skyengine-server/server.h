/* skyengine-server: the Skyvern Tasks API over the engine's public API. */
#ifndef SRV_SERVER_H
#define SRV_SERVER_H

#include <skyengine.h>

#include "http.h"

typedef struct srv {
	sky_engine *engine;
	char *public_url;
	int allow_unauthenticated; /* --insecure-no-auth: tests and demos */
} srv;

/* The request handler for http.h; `ud` is the srv. */
void srv_handle(void *ud, const srv_req *req, srv_resp *resp);
/* 1 for routes that may block (outgoing HTTP). */
int srv_route_is_slow(void *ud, const srv_req *req);
/* The body limit of a request when it is not the default (uploads). */
size_t srv_route_max_body(void *ud, const srv_req *req);

/* stream.c: WS /api/v1/stream/tasks/{id} (srv_ws_handlers; ud is the
 * srv). */
int srv_stream_accept(void *ud, const char *path);
void srv_stream_open(void *ud, srv_ws *ws, const srv_req *req);
void srv_stream_tick(void *ud, srv_ws *ws);
void srv_stream_close(void *ud, srv_ws *ws);

/* viewer.c: the run viewer page (HTML). */
char *srv_viewer_html(srv *s, const char *org, const char *run_id, int *status);
/* openapi.c: the OpenAPI description of what we serve. */
const char *srv_openapi_json(void);

#endif
