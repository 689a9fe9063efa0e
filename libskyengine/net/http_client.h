/*
 * Internal: the outgoing HTTP(S) client. One libwebsockets context runs on
 * its own service thread; any other thread makes blocking requests that
 * are handed to that thread through a locked queue (lws_cancel_service
 * wakes it). Each engine owns one: its webhooks and totp_url fetches go
 * through it, and its plugins reach it through the host API table
 * (api->http_request with the engine's host context).
 */
#ifndef SKY_NET_HTTP_CLIENT_H
#define SKY_NET_HTTP_CLIENT_H

#include <skyengine/plugin/host.h>

typedef struct sky_http_client sky_http_client;

typedef struct sky_http_client_options {
	/* Once response headers have arrived, a gap of this long without
	 * body bytes fails the request with SKY_ETIMEDOUT. 0: 30000. */
	int idle_timeout_ms;
	/* PEM bundle trusted in addition to the system CA store; NULL for
	 * the system store only. */
	const char *ca_file;
	/* Proxies for requests that set use_env_proxy ("http://[user:pass@]
	 * host:port"). NULL: read $http_proxy / $https_proxy / $no_proxy
	 * (and their upper-case forms) when the client starts. "" : none. */
	const char *http_proxy;
	const char *https_proxy;
	const char *no_proxy;
} sky_http_client_options;

/*
 * Start a client: creates the lws context and its service thread.
 * `opts` may be NULL for the defaults. Returns 0 and *out, or a negative
 * SKY_E* code with the error set.
 */
int sky_http_client_new(const sky_http_client_options *opts,
                        sky_http_client **out);

/*
 * Stop the service thread and destroy the context. Requests still queued
 * or in flight fail with SKY_ESHUTDOWN (their callers return). NULL-safe.
 * No thread may start a new request on `c` once this is called.
 */
void sky_http_client_free(sky_http_client *c);

/*
 * Make one request and wait for it. Thread-safe; never call it from an
 * lws callback. Strings in `req` are borrowed for the call only.
 *
 * Returns 0 and *out (free with sky_http_response_free()) for any HTTP
 * status, including 4xx/5xx: the status is data, not an error. Header
 * names are lower-case; the body is NUL-terminated. Errors (with
 * sky_error_last() set and *out NULL):
 *   SKY_EINVALID     bad URL, method or header (CR/LF, set by the client)
 *   SKY_ETIMEDOUT    req->timeout_ms passed, or the body stalled
 *   SKY_ETOOBIG      the response is over req->max_response_bytes
 *   SKY_ECONNREFUSED the host could not be resolved or connected to
 *   SKY_EHTTP        TLS failure, connection closed early (truncated
 *                    body), malformed response
 *   SKY_ESHUTDOWN    the client is stopping
 *
 * Only headers lws knows (about 80 standard ones) plus a fixed list of
 * common API headers (x-request-id, x-ratelimit-*, retry-after-ms,
 * anthropic-ratelimit-*, ...) are returned: lws 4.1 cannot enumerate the
 * unknown ones. Redirects are not followed (3xx is returned as is).
 */
int sky_http_client_request(sky_http_client *c, const sky_http_request *req,
                            sky_http_response **out);

/*
 * The lws log emitter the client installs (lws_set_log_level is one
 * setting per process): forwards lws errors and warnings to the "lws" log
 * component at debug level and keeps, per thread, the last error line,
 * which is how a failed TLS handshake gets its reason. Another lws user in
 * the process (the server) should install this one rather than its own.
 */
void sky_http_lws_log(int level, const char *line);

/*
 * sky_http_client_request() with the message as a string: on failure
 * *err is the error text (free it; NULL when err is NULL). How the engine
 * makes its own requests and serves the plugins' api->http_request.
 */
int sky_http_client_call(sky_http_client *c, const sky_http_request *req,
                         sky_http_response **out, char **err);

/*
 * Start a client with the options of an engine's config JSON ("http":
 * {"idle_timeout_ms", "ca_file"}, else the environment's
 * SKYENGINE_HTTP_IDLE_TIMEOUT_MS, SKYENGINE_HTTP_CA_FILE; config_json may
 * be NULL). Each engine owns one (e->http); free with
 * sky_http_client_free().
 */
int sky_http_client_from_config(const char *config_json, sky_http_client **out);

#endif
