/*
 * skyctl's HTTP client: one request, blocking, over libwebsockets' client
 * (http and https). skyctl links the public library only, which keeps its
 * own HTTP client to itself; a tool that sends one request at a time
 * needs no more than this.
 */
#include "remote.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include <skyx/str.h>
#include <skyx/time.h>

struct call {
	const char *method;
	const char *key;
	int status;
	int done;
	char *err;
	skyx_buf body;
};

static int add_header(struct lws *wsi, const char *name, const char *value,
                      void *in, size_t len)
{
	unsigned char **p = in, *end = *p + len;
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
	                                   (const unsigned char *)value,
	                                   (int)strlen(value), p, end);
}

static int on_http(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len)
{
	struct call *c = lws_get_opaque_user_data(wsi);
	(void)user;
	if (!c)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (c->key && add_header(wsi, "x-api-key:", c->key, in, len))
			return -1;
		/* A POST without a body still says so. */
		if (!strcmp(c->method, "POST") &&
		    add_header(wsi, "content-length:", "0", in, len))
			return -1;
		return 0;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		c->status = (int)lws_http_client_http_response(wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		skyx_buf_append(&c->body, in, len);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + 4096], *px = buf + LWS_PRE;
		int n = (int)sizeof buf - LWS_PRE;
		return lws_http_client_read(wsi, &px, &n) < 0 ? -1 : 0;
	}
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		c->done = 1;
		lws_cancel_service(lws_get_context(wsi));
		return -1; /* close: one request per connection */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (!c->err)
			c->err = skyx_asprintf("%s", in ? (const char *)in
			                                : "connection failed");
		c->done = 1;
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (!c->done && !c->err)
			c->err = skyx_strdup("the server closed the connection "
			                     "before answering");
		c->done = 1;
		lws_set_opaque_user_data(wsi, NULL);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
    {"skyctl-http", on_http, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* lws writes its own lines only when something is badly wrong; the
 * request's error says what matters. */
static void quiet(int level, const char *line)
{
	(void)level;
	(void)line;
}

int skyctl_remote_request(const char *method, const char *url, const char *key,
                          int timeout_s, int *status, char **body, char **err)
{
	struct call c = {.method = method, .key = key};
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	const char *scheme, *host, *path;
	int port, rc = -1;
	char *copy = skyx_strdup(url), *fullpath = NULL;
	struct lws_context *ctx = NULL;

	*body = *err = NULL;
	if (!copy || lws_parse_uri(copy, &scheme, &host, &port, &path) ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		*err = skyx_asprintf("not an http(s) URL: %s", url);
		goto out;
	}
	fullpath = skyx_asprintf("/%s", path);
	lws_set_log_level(LLL_ERR, quiet);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.timeout_secs = (unsigned)timeout_s;
	info.connect_timeout_secs = (unsigned)timeout_s;
	ctx = lws_create_context(&info);
	if (!ctx) {
		*err = skyx_strdup("cannot start the HTTP client");
		goto out;
	}
	memset(&ci, 0, sizeof ci);
	ci.context = ctx;
	ci.address = host;
	ci.port = port;
	ci.path = fullpath;
	ci.host = host;
	ci.origin = host;
	ci.method = method;
	ci.protocol = NULL;
	ci.local_protocol_name = protocols[0].name;
	ci.ssl_connection = strcmp(scheme, "https") ? 0 : LCCSCF_USE_SSL;
	ci.opaque_user_data = &c;
	if (!lws_client_connect_via_info(&ci) && !c.err)
		c.err = skyx_strdup("cannot connect");
	int64_t deadline = skyx_time_mono_ms() + (int64_t)timeout_s * 1000;
	while (!c.done && !c.err) {
		if (skyx_time_mono_ms() > deadline) {
			c.err = skyx_strdup("timed out");
			break;
		}
		if (lws_service(ctx, 250) < 0)
			break;
	}
	if (c.err) {
		*err = c.err;
		c.err = NULL;
	} else if (!c.done || c.body.oom) {
		*err = skyx_strdup(c.body.oom ? "out of memory"
		                              : "no answer from the server");
	} else {
		*status = c.status;
		*body = skyx_buf_steal(&c.body);
		rc = *body ? 0 : -1;
		if (rc)
			*err = skyx_strdup("out of memory");
	}
out:
	if (ctx)
		lws_context_destroy(ctx);
	skyx_buf_free(&c.body);
	free(c.err);
	free(fullpath);
	free(copy);
	return rc;
}
