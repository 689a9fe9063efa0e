/*
 * The outgoing HTTP client: one lws context served by one thread, and a
 * blocking request call for every other thread (see http_client.h).
 *
 * lws 4.1 rules this file lives by (measured on Debian 12's lws 4.1):
 * only lws_cancel_service() is called from foreign threads; the context's
 * 5 s timeout_secs is replaced by our own per-request deadline (an lws_sul
 * that kills the wsi with PENDING_TIMEOUT_USER_OK); DNS is resolved on the
 * caller's thread and the numeric address handed to lws (cc.address) with
 * the name in cc.host; $http_proxy is switched off on the direct vhost
 * (http_proxy_address = "") and proxies live on vhosts of their own; a
 * request detaches from its wsi (opaque user data NULL) the moment it is
 * finished, so CLOSED after COMPLETED finds nothing to touch.
 */
#include "net/http_client.h"

#include <ctype.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <skyengine/version.h>

#include "net/url.h"
#include "plugin/loader.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define LOG "http"
#define PROTOCOL_NAME "sky-http"
#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_IDLE_MS 30000
#define MAX_TIMEOUT_MS (12LL * 3600 * 1000)
/* lws' own timeouts must never fire before ours. */
#define CTX_TIMEOUT_SECS (13 * 3600)
#define DEFAULT_MAX_BYTES ((size_t)64 << 20)
/* How long a caller waits past its deadline for the service thread
 * before giving up on it (only a wedged service thread gets there). */
#define CALLER_GRACE_MS 5000
#define RX_CHUNK 65536
/* Body bytes per lws_write(): what the socket does not take at once lws
 * keeps and flushes on POLLOUT, which costs fewer loop rounds than more
 * slices (bench/http.sh); a screenshot-sized request goes in one or two. */
#define TX_CHUNK (1024 * 1024)
#define MAX_ADDRS 4
/* Request line + headers must fit lws' serv_buf (pt_serv_buf_size). */
#define SERV_BUF 32768
#define MAX_HEAD_BYTES (SERV_BUF - 4096)
#define MAX_PATH_BYTES 2000

enum route { ROUTE_DIRECT, ROUTE_PROXY_HTTP, ROUTE_PROXY_HTTPS, N_ROUTES };

/* Non-standard response headers worth returning (lws 4.1 can look custom
 * headers up by name but not list them). */
static const char *const probe_headers[] = {
    "x-request-id",
    "request-id",
    "retry-after-ms",
    "x-should-retry",
    "openai-model",
    "openai-organization",
    "openai-processing-ms",
    "openai-version",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
    "anthropic-organization-id",
    "anthropic-ratelimit-requests-limit",
    "anthropic-ratelimit-requests-remaining",
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-limit",
    "anthropic-ratelimit-tokens-remaining",
    "anthropic-ratelimit-tokens-reset",
    "apim-request-id",
    "x-ms-region",
    "cf-ray",
    "x-amz-request-id",
};

struct call {
	sky_http_client *client;

	/* Set by the caller before queueing, read-only afterwards. */
	char *method;
	char *path;
	char *host_hdr;  /* Host header, and SNI once lws strips :port */
	char *host_name; /* connect target through a proxy */
	char *where;     /* "host:port" for messages (never the path) */
	char addrs[MAX_ADDRS][64];
	int n_addrs;
	int port;
	int tls;
	int route;
	int is_head;
	char *head; /* extra header lines, "Name: value\r\n"... */
	size_t head_len;
	unsigned char *body_buf; /* LWS_PRE bytes, then the body */
	size_t body_len;
	int64_t deadline_ms;
	int timeout_ms;
	int idle_ms;
	size_t max_bytes;

	/* Service thread only. */
	struct call *next; /* pending queue (under lock) */
	struct call *act_prev, *act_next;
	int active;
	int requeued;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	int addr_idx;
	size_t sent;
	int sent_all;
	int headers_seen;
	int in_read;   /* inside lws_http_client_read() */
	int completed; /* COMPLETED arrived during that read */
	int chunked;
	int has_length;
	long long content_length;
	int64_t last_rx_ms;
	int status;
	sky_http_header *hdrs;
	size_t n_hdrs, cap_hdrs;
	skyx_buf rx;

	/* Shared: under client->lock. */
	int done;
	int rc;
	char err[512];
	sky_http_response *resp;
	int refs;
	pthread_cond_t cond;
};

struct sky_http_client {
	struct lws_context *ctx;
	SSL_CTX *ssl_ctx; /* ours, shared by the vhosts; see make_ssl_ctx */
	struct lws_vhost *vh[N_ROUTES];
	char *proxy_where[N_ROUTES]; /* "host:port" of each proxy */
	char *no_proxy;
	int idle_ms;

	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;
	pthread_cond_t idle_cond;
	struct call *q_head, *q_tail; /* under lock */
	int stopping;                 /* under lock */
	int inflight;                 /* callers inside request(); lock */

	/* Service thread only. */
	struct call *act_head;
	unsigned char *rx;
};

/* --- lws log capture ------------------------------------------------------ */

/* The last error line lws logged on this thread: lws hands
 * CONNECTION_ERROR a useless "SSL err" text and logs the real reason. */
static _Thread_local char lws_last_line[256];

void sky_http_lws_log(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n >= sizeof lws_last_line)
		n = sizeof lws_last_line - 1;
	if (level & LLL_ERR) {
		memcpy(lws_last_line, line, n);
		lws_last_line[n] = '\0';
	}
	sky_log_debug("lws", "%.*s", (int)n, line);
}

static pthread_once_t lws_log_once = PTHREAD_ONCE_INIT;

static void lws_log_init(void)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, sky_http_lws_log);
}

/* --- call lifetime -------------------------------------------------------- */

static void headers_free(sky_http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)h[i].name);
		free((char *)h[i].value);
	}
	free(h);
}

static void call_free(struct call *call)
{
	if (!call)
		return;
	free(call->method);
	free(call->path);
	free(call->host_hdr);
	free(call->host_name);
	free(call->where);
	free(call->head);
	free(call->body_buf);
	headers_free(call->hdrs, call->n_hdrs);
	skyx_buf_free(&call->rx);
	sky_http_response_free(call->resp);
	pthread_cond_destroy(&call->cond);
	free(call);
}

/* Drop one reference; c->lock must NOT be held. */
static void call_unref(sky_http_client *c, struct call *call)
{
	pthread_mutex_lock(&c->lock);
	int left = --call->refs;
	pthread_mutex_unlock(&c->lock);
	if (left == 0)
		call_free(call);
}

static void active_add(sky_http_client *c, struct call *call)
{
	if (call->active)
		return;
	call->active = 1;
	call->act_prev = NULL;
	call->act_next = c->act_head;
	if (c->act_head)
		c->act_head->act_prev = call;
	c->act_head = call;
}

static void active_remove(sky_http_client *c, struct call *call)
{
	if (!call->active)
		return;
	if (call->act_prev)
		call->act_prev->act_next = call->act_next;
	else
		c->act_head = call->act_next;
	if (call->act_next)
		call->act_next->act_prev = call->act_prev;
	call->active = 0;
}

static sky_http_response *build_response(struct call *call)
{
	sky_http_response *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->status = call->status;
	r->headers = call->hdrs;
	r->n_headers = call->n_hdrs;
	call->hdrs = NULL;
	call->n_hdrs = call->cap_hdrs = 0;
	r->body_len = call->rx.len;
	r->body = call->rx.data ? skyx_buf_steal(&call->rx) : skyx_strdup("");
	if (!r->body || call->rx.oom) {
		sky_http_response_free(r);
		return NULL;
	}
	return r;
}

/*
 * Finish a call on the service thread: stop its timer, detach it from its
 * wsi (optionally killing the connection), publish the result and drop the
 * service thread's reference. Safe to call twice (the second is a no-op).
 */
static void finish(sky_http_client *c, struct call *call, int rc, int kill,
                   const char *fmt, ...) SKY_PRINTF(5, 6);

static void finish(sky_http_client *c, struct call *call, int rc, int kill,
                   const char *fmt, ...)
{
	sky_http_response *resp = NULL;
	char err[sizeof call->err] = "";
	if (call->done)
		return;
	lws_sul_cancel(&call->sul);
	if (call->wsi) {
		lws_set_opaque_user_data(call->wsi, NULL);
		if (kill)
			lws_set_timeout(call->wsi, PENDING_TIMEOUT_USER_OK,
			                LWS_TO_KILL_ASYNC);
		call->wsi = NULL;
	}
	active_remove(c, call);
	if (rc == 0) {
		resp = build_response(call);
		if (!resp) {
			rc = SKY_ENOMEM;
			snprintf(err, sizeof err,
			         "out of memory reading the "
			         "response from %s",
			         call->where);
		}
	} else if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, sizeof err, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_lock(&c->lock);
	call->done = 1;
	call->rc = rc;
	call->resp = resp;
	memcpy(call->err, err, sizeof err);
	pthread_cond_signal(&call->cond);
	int left = --call->refs;
	pthread_mutex_unlock(&c->lock);
	if (left == 0)
		call_free(call);
}

/* --- service thread --------------------------------------------------------- */

static void on_timer(lws_sorted_usec_list_t *sul)
{
	struct call *call = lws_container_of(sul, struct call, sul);
	sky_http_client *c = call->client;
	int64_t now = skyx_time_mono_ms(), next = call->deadline_ms;
	if (now >= call->deadline_ms) {
		finish(c, call, SKY_ETIMEDOUT, 1,
		       "HTTP request to %s timed out after %d ms%s",
		       call->where, call->timeout_ms,
		       call->headers_seen ? " (while reading the body)"
		       : call->sent_all   ? " (no response headers)"
		                          : " (connecting or sending)");
		return;
	}
	if (call->headers_seen) {
		int64_t idle_at = call->last_rx_ms + call->idle_ms;
		if (now >= idle_at) {
			finish(c, call, SKY_ETIMEDOUT, 1,
			       "HTTP response from %s stalled: no body data "
			       "for %d ms (%zu bytes read)",
			       call->where, call->idle_ms, call->rx.len);
			return;
		}
		if (idle_at < next)
			next = idle_at;
	}
	lws_sul_schedule(c->ctx, 0, &call->sul, on_timer,
	                 (lws_usec_t)(next - now) * LWS_US_PER_MS);
}

static void start(sky_http_client *c, struct call *call)
{
	struct lws_client_connect_info cc;
	int64_t now = skyx_time_mono_ms();

	if (!call->active) {
		active_add(c, call);
		lws_sul_schedule(c->ctx, 0, &call->sul, on_timer,
		                 (lws_usec_t)(call->deadline_ms - now) *
		                     LWS_US_PER_MS);
	}
	if (now >= call->deadline_ms) {
		on_timer(&call->sul);
		return;
	}
	memset(&cc, 0, sizeof cc);
	cc.context = c->ctx;
	cc.vhost = c->vh[call->route];
	cc.address = call->route == ROUTE_DIRECT ? call->addrs[call->addr_idx]
	                                         : call->host_name;
	cc.port = call->port;
	cc.ssl_connection =
	    LCCSCF_HTTP_NO_FOLLOW_REDIRECT | (call->tls ? LCCSCF_USE_SSL : 0);
	cc.path = call->path;
	cc.host = call->host_hdr;
	cc.method = call->method;
	cc.alpn = "http/1.1";
	cc.local_protocol_name = PROTOCOL_NAME;
	cc.opaque_user_data = call;
	call->requeued = 0;
	call->wsi = NULL;
	call->sent = 0;
	call->sent_all = 0;

	/* A failure reported synchronously may finish (and, if its caller
	 * gave up, free) the call: hold a reference across the connect. */
	pthread_mutex_lock(&c->lock);
	call->refs++;
	pthread_mutex_unlock(&c->lock);
	struct lws *wsi = lws_client_connect_via_info(&cc);
	if (!call->done && !call->requeued) {
		if (wsi)
			call->wsi = wsi;
		else
			finish(c, call, SKY_EHTTP, 0,
			       "cannot start a connection to %s%s%s",
			       call->where, lws_last_line[0] ? ": " : "",
			       lws_last_line);
	}
	call_unref(c, call);
}

/* Take queued calls and start them (runs on EVENT_WAIT_CANCELLED). */
static void drain(sky_http_client *c)
{
	for (;;) {
		pthread_mutex_lock(&c->lock);
		struct call *call = c->q_head;
		if (call) {
			c->q_head = call->next;
			if (!c->q_head)
				c->q_tail = NULL;
			call->next = NULL;
		}
		int stopping = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (!call)
			return;
		if (stopping)
			finish(c, call, SKY_ESHUTDOWN, 0,
			       "HTTP client is shutting down");
		else
			start(c, call);
	}
}

/* Put a call back on the queue (service thread): next address. */
static void requeue(sky_http_client *c, struct call *call)
{
	call->requeued = 1;
	pthread_mutex_lock(&c->lock);
	call->next = NULL;
	if (c->q_tail)
		c->q_tail->next = call;
	else
		c->q_head = call;
	c->q_tail = call;
	pthread_mutex_unlock(&c->lock);
	lws_cancel_service(c->ctx);
}

static int contains_ci(const char *s, const char *needle)
{
	return s && strcasestr(s, needle) != NULL;
}

static void on_conn_error(sky_http_client *c, struct call *call,
                          struct lws *wsi, const char *in)
{
	const char *why = in && *in ? in : "connection failed";
	int unable = contains_ci(why, "unable to connect");
	lws_set_opaque_user_data(wsi, NULL);
	call->wsi = NULL;
	if (unable && call->route == ROUTE_DIRECT &&
	    call->addr_idx + 1 < call->n_addrs) {
		call->addr_idx++;
		requeue(c, call);
		return;
	}
	if (call->route != ROUTE_DIRECT &&
	    (unable || contains_ci(why, "proxy")))
		finish(c, call, SKY_ECONNREFUSED, 0,
		       "HTTP proxy %s failed for %s: %s",
		       c->proxy_where[call->route], call->where, why);
	else if (unable)
		finish(c, call, SKY_ECONNREFUSED, 0,
		       "cannot connect to %s: connection refused or host "
		       "unreachable",
		       call->where);
	else if (contains_ci(why, "ssl") || contains_ci(why, "tls") ||
	         contains_ci(lws_last_line, "ssl") ||
	         contains_ci(lws_last_line, "certificate") ||
	         contains_ci(lws_last_line, "hostname"))
		/* lws' own text ("connect SSL err 1: error:00000001") says
		 * nothing; the line it logged names the reason. */
		finish(c, call, SKY_EHTTP, 0,
		       "TLS handshake with %s failed: %s", call->where,
		       lws_last_line[0] ? lws_last_line : why);
	else if (call->sent_all || contains_ci(why, "closed before"))
		finish(c, call, SKY_EHTTP, 0,
		       "connection to %s closed before a complete response "
		       "header (%s)",
		       call->where, why);
	else
		finish(c, call, SKY_EHTTP, 0, "HTTP request to %s failed: %s",
		       call->where, why);
	lws_last_line[0] = '\0';
}

static int append_headers(struct call *call, char **p, size_t room)
{
	if (call->head_len + 1 > room)
		return -1;
	memcpy(*p, call->head, call->head_len);
	*p += call->head_len;
	if (call->body_len) {
		lws_client_http_body_pending(call->wsi, 1);
		lws_callback_on_writable(call->wsi);
	}
	return 0;
}

static int write_body(sky_http_client *c, struct call *call, struct lws *wsi)
{
	/* WRITEABLE may come again after the last slice: ignore it. Slices
	 * are written in place (h1 lws_write leaves the LWS_PRE bytes in
	 * front alone; the first slice has real headroom). */
	if (call->sent >= call->body_len)
		return 0;
	size_t n = call->body_len - call->sent;
	int last = n <= TX_CHUNK;
	if (!last)
		n = TX_CHUNK;
	if (lws_write(wsi, call->body_buf + LWS_PRE + call->sent, n,
	              last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n) {
		finish(c, call, SKY_EHTTP, 0,
		       "sending the request body to %s failed", call->where);
		return -1;
	}
	call->sent += n;
	if (last) {
		call->sent_all = 1;
		lws_client_http_body_pending(wsi, 0);
	} else {
		lws_callback_on_writable(wsi);
	}
	return 0;
}

static int add_header(struct call *call, const char *name, size_t nlen,
                      char *value)
{
	if (call->n_hdrs == call->cap_hdrs) {
		size_t nc = call->cap_hdrs ? call->cap_hdrs * 2 : 16;
		sky_http_header *nh = realloc(call->hdrs, nc * sizeof *nh);
		if (!nh)
			return -1;
		call->hdrs = nh;
		call->cap_hdrs = nc;
	}
	char *nm = skyx_strndup(name, nlen);
	if (!nm)
		return -1;
	for (char *q = nm; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	call->hdrs[call->n_hdrs].name = nm;
	call->hdrs[call->n_hdrs].value = value;
	call->n_hdrs++;
	return 0;
}

static int collect_headers(struct call *call, struct lws *wsi)
{
	for (int i = 0; i < WSI_TOKEN_COUNT; i++) {
		const char *name = (const char *)lws_token_to_string(
		    (enum lws_token_indexes)i);
		size_t nl = name ? strlen(name) : 0;
		/* Only "name:" tokens; not request lines or h2 pseudo. */
		if (nl < 2 || name[nl - 1] != ':' || name[0] == ':')
			continue;
		int len = lws_hdr_total_length(wsi, (enum lws_token_indexes)i);
		if (len <= 0)
			continue;
		char *v = malloc((size_t)len + 1);
		if (!v)
			return -1;
		if (lws_hdr_copy(wsi, v, len + 1, (enum lws_token_indexes)i) <
		    0) {
			free(v);
			continue;
		}
		if (add_header(call, name, nl - 1, v)) {
			free(v);
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof probe_headers / sizeof *probe_headers;
	     i++) {
		char key[64];
		int kl = snprintf(key, sizeof key, "%s:", probe_headers[i]);
		int len = lws_hdr_custom_length(wsi, key, kl);
		if (len < 0)
			continue;
		char *v = malloc((size_t)len + 1);
		if (!v)
			return -1;
		if (lws_hdr_custom_copy(wsi, v, len + 1, key, kl) < 0) {
			free(v);
			continue;
		}
		if (add_header(call, key, (size_t)kl - 1, v)) {
			free(v);
			return -1;
		}
	}
	return 0;
}

static int on_headers(sky_http_client *c, struct call *call, struct lws *wsi)
{
	char tmp[64];
	call->status = (int)lws_http_client_http_response(wsi);
	call->headers_seen = 1;
	call->sent_all = 1;
	call->last_rx_ms = skyx_time_mono_ms();
	if (collect_headers(call, wsi)) {
		finish(c, call, SKY_ENOMEM, 0, "out of memory");
		return -1;
	}
	if (lws_hdr_copy(wsi, tmp, sizeof tmp,
	                 WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
		call->chunked = strcasestr(tmp, "chunked") != NULL;
	if (lws_hdr_copy(wsi, tmp, sizeof tmp, WSI_TOKEN_HTTP_CONTENT_LENGTH) >
	    0) {
		call->has_length = 1;
		call->content_length = atoll(tmp);
		if (call->content_length < 0 ||
		    (unsigned long long)call->content_length >
		        call->max_bytes) {
			finish(c, call, SKY_ETOOBIG, 0,
			       "response from %s is %lld bytes, over the "
			       "limit of %zu",
			       call->where, call->content_length,
			       call->max_bytes);
			return -1;
		}
	}
	if (call->is_head) {
		finish(c, call, 0, 0, NULL);
		return -1; /* nothing more to read; lws closes */
	}
	/* From now on the idle timer applies too. */
	on_timer(&call->sul);
	return 0;
}

static int on_body(sky_http_client *c, struct call *call, const void *in,
                   size_t len)
{
	if (call->rx.len + len > call->max_bytes) {
		finish(c, call, SKY_ETOOBIG, 0,
		       "response from %s is over the limit of %zu bytes",
		       call->where, call->max_bytes);
		return -1;
	}
	skyx_buf_append(&call->rx, in, len);
	if (call->rx.oom) {
		finish(c, call, SKY_ENOMEM, 0,
		       "out of memory reading the response from %s",
		       call->where);
		return -1;
	}
	call->last_rx_ms = skyx_time_mono_ms();
	return 0;
}

/*
 * lws 4.1 reports COMPLETED both after a chunked body's last chunk and
 * when the peer hangs up on a response without Content-Length, chunked
 * or not; only the read's result tells them apart (the hang-up read
 * fails). A chunked body cut short is an error, not a response.
 */
static int on_readable(sky_http_client *c, struct call *call, struct lws *wsi)
{
	char *p = (char *)c->rx + LWS_PRE;
	int n = RX_CHUNK;
	pthread_mutex_lock(&c->lock);
	call->refs++; /* finish() inside the read must not free it */
	pthread_mutex_unlock(&c->lock);
	call->in_read = 1;
	call->completed = 0;
	int r = lws_http_client_read(wsi, &p, &n);
	call->in_read = 0;
	if (call->completed && !call->done) {
		if (r < 0 && call->chunked)
			finish(c, call, SKY_EHTTP, 0,
			       "response from %s truncated: connection closed "
			       "after %zu bytes, before the last chunk",
			       call->where, call->rx.len);
		else
			finish(c, call, 0, 0, NULL);
	}
	call_unref(c, call);
	return r < 0 ? -1 : 0;
}

static void on_closed(sky_http_client *c, struct call *call)
{
	if (!call->headers_seen)
		finish(c, call, SKY_EHTTP, 0,
		       "connection to %s closed before a response",
		       call->where);
	else if (call->has_length)
		finish(c, call, SKY_EHTTP, 0,
		       "response from %s truncated: connection closed after "
		       "%zu of %lld body bytes",
		       call->where, call->rx.len, call->content_length);
	else if (call->chunked)
		finish(c, call, SKY_EHTTP, 0,
		       "response from %s truncated: connection closed after "
		       "%zu bytes, before the last chunk",
		       call->where, call->rx.len);
	else /* no length, not chunked: the body ends at close */
		finish(c, call, 0, 0, NULL);
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	sky_http_client *c = ctx ? lws_context_user(ctx) : NULL;
	struct call *call;

	if (!c)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
		drain(c);
		return 0;
	}
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
	case LWS_CALLBACK_WSI_DESTROY:
		break;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
	call = lws_get_opaque_user_data(wsi);
	if (!call) {
		/* A finished request's connection: let it go. */
		return reason == LWS_CALLBACK_RECEIVE_CLIENT_HTTP ||
		               reason ==
		                   LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ ||
		               reason == LWS_CALLBACK_CLIENT_HTTP_WRITEABLE
		           ? -1
		           : 0;
	}
	call->wsi = wsi;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		on_conn_error(c, call, wsi, in);
		return 0;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (append_headers(call, (char **)in, len)) {
			finish(c, call, SKY_ETOOBIG, 0,
			       "request headers for %s are too large",
			       call->where);
			return -1;
		}
		if (!call->body_len)
			call->sent_all = 1;
		return 0;
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		return write_body(c, call, wsi);
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		return on_headers(c, call, wsi);
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
		return on_readable(c, call, wsi);
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		return on_body(c, call, in, len);
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (call->in_read)
			call->completed = 1; /* judged by on_readable() */
		else
			finish(c, call, 0, 0, NULL);
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		on_closed(c, call);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY: /* belt and braces: never orphan */
		finish(c, call, SKY_EHTTP, 0, "connection to %s went away",
		       call->where);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
    {PROTOCOL_NAME, http_cb, 0, RX_CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service_main(void *arg)
{
	sky_http_client *c = arg;
	for (;;) {
		pthread_mutex_lock(&c->lock);
		int stop = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		if (lws_service(c->ctx, 0) < 0) {
			sky_log_error(LOG, "lws_service failed; the HTTP "
			                   "client stops serving requests");
			pthread_mutex_lock(&c->lock);
			c->stopping = 1;
			pthread_mutex_unlock(&c->lock);
			break;
		}
	}
	/* Fail whatever is left so every caller returns. */
	drain(c);
	while (c->act_head)
		finish(c, c->act_head, SKY_ESHUTDOWN, 1,
		       "HTTP client is shutting down");
	return NULL;
}

/* --- set-up ----------------------------------------------------------------- */

static const char *env2(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (!v || !*v)
		v = getenv(b);
	return v && *v ? v : NULL;
}

/*
 * lws takes "[user:pass@]host:port" and resolves the host on the service
 * thread; resolve it here once so that thread never blocks on DNS.
 * Returns a malloc'd string for lws_set_proxy, or NULL with the error set.
 */
static char *proxy_for_lws(const char *proxy, char **where)
{
	const char *p = proxy, *at, *hp;
	char host[256], portbuf[8] = "80";
	char num[64];
	struct addrinfo hints = {0}, *res = NULL;

	if (!strncasecmp(p, "http://", 7))
		p += 7;
	else if (strstr(p, "://")) {
		sky_error_set(SKY_EINVALID,
		              "proxy must be an http:// URL (got another "
		              "scheme)");
		return NULL;
	}
	at = strrchr(p, '@');
	hp = at ? at + 1 : p;
	size_t hl = strcspn(hp, ":/");
	if (hp[0] == '[') {
		const char *rb = strchr(hp, ']');
		if (!rb) {
			sky_error_set(SKY_EINVALID, "proxy has a malformed "
			                            "IPv6 host");
			return NULL;
		}
		snprintf(host, sizeof host, "%.*s", (int)(rb - hp - 1), hp + 1);
		hl = (size_t)(rb - hp + 1);
	} else {
		snprintf(host, sizeof host, "%.*s", (int)hl, hp);
	}
	if (hp[hl] == ':')
		snprintf(portbuf, sizeof portbuf, "%.*s",
		         (int)strcspn(hp + hl + 1, "/"), hp + hl + 1);
	if (!host[0] || atoi(portbuf) <= 0 || atoi(portbuf) > 65535) {
		sky_error_set(SKY_EINVALID, "proxy needs host:port");
		return NULL;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int g = getaddrinfo(host, NULL, &hints, &res);
	if (g || !res) {
		sky_error_set(SKY_ECONNREFUSED,
		              "cannot resolve proxy host "
		              "'%s': %s",
		              host, gai_strerror(g));
		return NULL;
	}
	getnameinfo(res->ai_addr, res->ai_addrlen, num, sizeof num, NULL, 0,
	            NI_NUMERICHOST);
	int v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	*where = skyx_asprintf("%s:%s", host, portbuf);
	return skyx_asprintf("%.*s%s%s%s:%s", at ? (int)(at - p + 1) : 0, p,
	                     v6 ? "[" : "", num, v6 ? "]" : "", portbuf);
}

/*
 * The client TLS context is ours, not lws': lws 4.1 finds its own client
 * SSL_CTX at vhost destruction through an OpenSSL ex_data index that every
 * new lws context re-allocates (one global), so with a second lws context
 * in the process (the server, a browser plugin, a second client) it never
 * frees it. A provided SSL_CTX is left alone by lws and freed here.
 * Certificates: the system store, plus `ca_file`. lws still sets
 * SSL_VERIFY_PEER and the host name check on every connection.
 */
static SSL_CTX *make_ssl_ctx(const char *ca_file)
{
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		sky_error_set(SKY_EHTTP, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
	if (!SSL_CTX_set_default_verify_paths(ctx)) {
		sky_log_warn(LOG, "cannot load the system CA store");
		ERR_clear_error();
	}
	if (ca_file && *ca_file &&
	    !SSL_CTX_load_verify_locations(ctx, ca_file, NULL)) {
		ERR_error_string_n(ERR_get_error(), why, sizeof why);
		ERR_clear_error();
		SSL_CTX_free(ctx);
		sky_error_set(SKY_EINVALID, "cannot load CA file %s: %s",
		              ca_file, why);
		return NULL;
	}
	return ctx;
}

static int create_vhost(sky_http_client *c, int route, const char *name,
                        const char *proxy)
{
	struct lws_context_creation_info vi;
	char *lws_proxy = NULL;
	memset(&vi, 0, sizeof vi);
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = protocols;
	vi.vhost_name = name;
	vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	vi.provided_client_ssl_ctx = c->ssl_ctx;
	/* "" keeps lws from reading $http_proxy for this vhost. */
	vi.http_proxy_address = "";
	if (proxy) {
		lws_proxy = proxy_for_lws(proxy, &c->proxy_where[route]);
		if (!lws_proxy)
			return sky_error_last_code();
		vi.http_proxy_address = lws_proxy;
	}
	c->vh[route] = lws_create_vhost(c->ctx, &vi);
	free(lws_proxy);
	if (!c->vh[route])
		return sky_error_set(
		    SKY_EHTTP, "cannot create the HTTP client's %s vhost%s%s",
		    name, lws_last_line[0] ? ": " : "", lws_last_line);
	return 0;
}

static int stop_thread(sky_http_client *c)
{
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_mutex_unlock(&c->lock);
	if (c->thread_started) {
		lws_cancel_service(c->ctx);
		pthread_join(c->thread, NULL);
		c->thread_started = 0;
	}
	/* Callers woken with SKY_ESHUTDOWN still hold c->lock briefly. */
	pthread_mutex_lock(&c->lock);
	while (c->inflight > 0)
		pthread_cond_wait(&c->idle_cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void sky_http_client_free(sky_http_client *c)
{
	if (!c)
		return;
	stop_thread(c);
	if (c->ctx)
		lws_context_destroy(c->ctx);
	if (c->ssl_ctx)
		SSL_CTX_free(c->ssl_ctx);
	for (int i = 0; i < N_ROUTES; i++)
		free(c->proxy_where[i]);
	free(c->no_proxy);
	free(c->rx);
	pthread_cond_destroy(&c->idle_cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int sky_http_client_new(const sky_http_client_options *opts,
                        sky_http_client **out)
{
	struct lws_context_creation_info info;
	sky_http_client_options dflt = {0};
	const char *hp, *hsp, *np;
	int rc;

	if (!out)
		return sky_error_set(SKY_EINVALID, "out is NULL");
	*out = NULL;
	if (!opts)
		opts = &dflt;
	pthread_once(&lws_log_once, lws_log_init);
	sky_http_client *c = calloc(1, sizeof *c);
	if (!c)
		return sky_error_from_code(SKY_ENOMEM);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->idle_cond, NULL);
	c->idle_ms =
	    opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : DEFAULT_IDLE_MS;
	c->rx = malloc(LWS_PRE + RX_CHUNK);
	hp = opts->http_proxy ? opts->http_proxy
	                      : env2("http_proxy", "HTTP_PROXY");
	hsp = opts->https_proxy ? opts->https_proxy
	                        : env2("https_proxy", "HTTPS_PROXY");
	np = opts->no_proxy ? opts->no_proxy : env2("no_proxy", "NO_PROXY");
	c->no_proxy = skyx_strdup(np ? np : "");
	if (!c->rx || !c->no_proxy) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto fail;
	}

	c->ssl_ctx = make_ssl_ctx(opts->ca_file);
	if (!c->ssl_ctx) {
		rc = sky_error_last_code();
		goto fail;
	}

	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
	               LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.protocols = protocols;
	info.user = c;
	info.timeout_secs = CTX_TIMEOUT_SECS;
	info.connect_timeout_secs = CTX_TIMEOUT_SECS;
	info.pt_serv_buf_size = SERV_BUF;
	info.max_http_header_data = 32768;
	info.max_http_header_pool = 256;
	c->ctx = lws_create_context(&info);
	if (!c->ctx) {
		rc = sky_error_set(SKY_EHTTP,
		                   "cannot create the HTTP client "
		                   "context%s%s",
		                   lws_last_line[0] ? ": " : "", lws_last_line);
		goto fail;
	}
	if ((rc = create_vhost(c, ROUTE_DIRECT, "direct", NULL)))
		goto fail;
	if (hp && *hp &&
	    (rc = create_vhost(c, ROUTE_PROXY_HTTP, "proxy-http", hp)))
		goto fail;
	if (hsp && *hsp &&
	    (rc = create_vhost(c, ROUTE_PROXY_HTTPS, "proxy-https", hsp)))
		goto fail;
	if (pthread_create(&c->thread, NULL, service_main, c)) {
		rc = sky_error_set(SKY_ERROR, "cannot start the HTTP client "
		                              "thread");
		goto fail;
	}
	c->thread_started = 1;
	*out = c;
	return 0;
fail:
	sky_http_client_free(c);
	return rc;
}

/* --- the caller's side ------------------------------------------------------- */

static int token_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) &&
		    !strchr("!#$%&'*+-.^_`|~", *s))
			return 0;
	return 1;
}

static int value_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return 0;
	return 1;
}

/* Headers the client writes itself (lws or below). */
static int header_reserved(const char *name)
{
	static const char *const r[] = {"host", "content-length", "connection",
	                                "transfer-encoding"};
	for (size_t i = 0; i < sizeof r / sizeof *r; i++)
		if (!strcasecmp(name, r[i]))
			return 1;
	return 0;
}

static int build_head(struct call *call, const sky_http_request *req,
                      int send_length)
{
	skyx_buf b = {0};
	int have_ua = 0;
	for (size_t i = 0; i < req->n_headers; i++) {
		const sky_http_header *h = &req->headers[i];
		if (!token_ok(h->name) || !h->value || !value_ok(h->value)) {
			skyx_buf_free(&b);
			return sky_error_set(
			    SKY_EINVALID,
			    "request header %zu has an invalid "
			    "name or value (empty, CR/LF)",
			    i);
		}
		if (header_reserved(h->name)) {
			skyx_buf_free(&b);
			return sky_error_set(
			    SKY_EINVALID,
			    "request header '%s' is set by the "
			    "HTTP client",
			    h->name);
		}
		if (!strcasecmp(h->name, "user-agent"))
			have_ua = 1;
		skyx_buf_printf(&b, "%s: %s\r\n", h->name, h->value);
	}
	if (!have_ua)
		skyx_buf_puts(&b, "User-Agent: skyengine/" SKY_VERSION_STRING
		                  "\r\n");
	if (send_length)
		skyx_buf_printf(&b, "Content-Length: %zu\r\n", req->body_len);
	if (b.oom)
		return sky_error_from_code(SKY_ENOMEM);
	if (b.len > MAX_HEAD_BYTES) {
		skyx_buf_free(&b);
		return sky_error_set(SKY_ETOOBIG,
		                     "request headers are %zu bytes, over the "
		                     "client's limit of %d",
		                     b.len, MAX_HEAD_BYTES);
	}
	call->head_len = b.len;
	call->head = b.data ? skyx_buf_steal(&b) : skyx_strdup("");
	return call->head ? 0 : sky_error_from_code(SKY_ENOMEM);
}

static int resolve(struct call *call, const char *host)
{
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	int g = getaddrinfo(host, NULL, &hints, &res);
	if (g == EAI_NONAME || g == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides ::1 on hosts without IPv6. */
		hints.ai_flags = 0;
		g = getaddrinfo(host, NULL, &hints, &res);
	}
	if (g || !res)
		return sky_error_set(SKY_ECONNREFUSED,
		                     "cannot resolve host '%s': %s", host,
		                     gai_strerror(g));
	for (struct addrinfo *a = res; a && call->n_addrs < MAX_ADDRS;
	     a = a->ai_next) {
		char num[64];
		if (getnameinfo(a->ai_addr, a->ai_addrlen, num, sizeof num,
		                NULL, 0, NI_NUMERICHOST))
			continue;
		int dup = 0;
		for (int i = 0; i < call->n_addrs; i++)
			dup |= !strcmp(call->addrs[i], num);
		if (!dup)
			snprintf(call->addrs[call->n_addrs++], 64, "%s", num);
	}
	freeaddrinfo(res);
	if (!call->n_addrs)
		return sky_error_set(SKY_ECONNREFUSED,
		                     "host '%s' has no usable address", host);
	return 0;
}

static int method_ok(const char *m)
{
	if (!m || !*m || strlen(m) > 16)
		return 0;
	for (; *m; m++)
		if (!isupper((unsigned char)*m))
			return 0;
	return 1;
}

static int prepare(sky_http_client *c, const sky_http_request *req,
                   struct call *call)
{
	sky_url u;
	int rc, send_length;

	if (req->version < 1)
		return sky_error_set(SKY_EINVALID,
		                     "sky_http_request.version "
		                     "is %u",
		                     req->version);
	if (!method_ok(req->method))
		return sky_error_set(SKY_EINVALID,
		                     "HTTP method must be an "
		                     "upper-case token such as GET or POST");
	if (req->body_len && !req->body)
		return sky_error_set(SKY_EINVALID, "body_len is set but body "
		                                   "is NULL");
	if ((rc = sky_url_parse(req->url, &u)))
		return rc;
	if (strlen(u.path) > MAX_PATH_BYTES) {
		sky_url_clear(&u);
		return sky_error_set(SKY_ETOOBIG, "URL path is over %d bytes",
		                     MAX_PATH_BYTES);
	}
	call->method = skyx_strdup(req->method);
	call->path = u.path;
	u.path = NULL;
	call->tls = u.tls;
	call->port = u.port;
	call->is_head = !strcmp(req->method, "HEAD");
	int v6 = strchr(u.host, ':') != NULL;
	call->where = skyx_asprintf("%s%s%s:%d", v6 ? "[" : "", u.host,
	                            v6 ? "]" : "", u.port);
	if (u.port_explicit)
		call->host_hdr = skyx_strdup(call->where);
	else
		call->host_hdr = skyx_asprintf("%s%s%s", v6 ? "[" : "", u.host,
		                               v6 ? "]" : "");
	call->timeout_ms =
	    req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (call->timeout_ms > MAX_TIMEOUT_MS)
		call->timeout_ms = (int)MAX_TIMEOUT_MS;
	call->idle_ms = c->idle_ms;
	call->max_bytes = req->max_response_bytes ? req->max_response_bytes
	                                          : DEFAULT_MAX_BYTES;
	if (!call->method || !call->where || !call->host_hdr) {
		sky_url_clear(&u);
		return sky_error_from_code(SKY_ENOMEM);
	}
	send_length = req->body_len || !strcmp(req->method, "POST") ||
	              !strcmp(req->method, "PUT") ||
	              !strcmp(req->method, "PATCH");
	if ((rc = build_head(call, req, send_length))) {
		sky_url_clear(&u);
		return rc;
	}
	if (req->body_len) {
		/* Copied: a caller that gives up on a wedged service thread
		 * must not leave it reading freed memory. */
		call->body_buf = malloc(LWS_PRE + req->body_len);
		if (!call->body_buf) {
			sky_url_clear(&u);
			return sky_error_from_code(SKY_ENOMEM);
		}
		memcpy(call->body_buf + LWS_PRE, req->body, req->body_len);
		call->body_len = req->body_len;
	}

	int proxy_route = u.tls ? ROUTE_PROXY_HTTPS : ROUTE_PROXY_HTTP;
	if (req->use_env_proxy && c->vh[proxy_route] &&
	    !sky_url_host_is_loopback(u.host) &&
	    !sky_url_no_proxy_match(c->no_proxy, u.host)) {
		call->route = proxy_route;
		call->host_name = u.host; /* the proxy resolves it */
		u.host = NULL;
		rc = 0;
	} else {
		call->route = ROUTE_DIRECT;
		rc = resolve(call, u.host);
	}
	sky_url_clear(&u);
	return rc;
}

int sky_http_client_request(sky_http_client *c, const sky_http_request *req,
                            sky_http_response **out)
{
	struct call *call;
	int rc;

	if (out)
		*out = NULL;
	if (!c || !req || !out)
		return sky_error_set(SKY_EINVALID,
		                     "HTTP request: NULL argument");
	call = calloc(1, sizeof *call);
	if (!call)
		return sky_error_from_code(SKY_ENOMEM);
	call->client = c;
	pthread_cond_init(&call->cond, NULL);
	if ((rc = prepare(c, req, call))) {
		call_free(call);
		return rc;
	}
	/* The deadline counts from here: DNS above is bounded by the
	 * resolver's own timeouts, not by timeout_ms. */
	call->deadline_ms = skyx_time_mono_ms() + call->timeout_ms;
	call->refs = 2; /* this thread + the service thread */

	pthread_mutex_lock(&c->lock);
	if (c->stopping) {
		pthread_mutex_unlock(&c->lock);
		call_free(call);
		return sky_error_set(SKY_ESHUTDOWN,
		                     "HTTP client is shutting down");
	}
	c->inflight++;
	if (c->q_tail)
		c->q_tail->next = call;
	else
		c->q_head = call;
	c->q_tail = call;
	pthread_mutex_unlock(&c->lock);
	lws_cancel_service(c->ctx);

	int64_t give_up = call->deadline_ms + CALLER_GRACE_MS;
	pthread_mutex_lock(&c->lock);
	while (!call->done) {
		int64_t left = give_up - skyx_time_mono_ms();
		if (left <= 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(left / 1000);
		ts.tv_nsec += (long)(left % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&call->cond, &c->lock, &ts);
	}
	if (call->done) {
		rc = call->rc;
		*out = call->resp;
		call->resp = NULL;
		if (rc)
			sky_error_set(rc, "%s", call->err);
	} else {
		rc = sky_error_set(SKY_ETIMEDOUT,
		                   "HTTP request to %s: the client's service "
		                   "thread did not answer within %d ms",
		                   call->where, call->timeout_ms);
		sky_log_error(LOG, "%s", sky_error_last());
	}
	int left = --call->refs;
	if (--c->inflight == 0)
		pthread_cond_broadcast(&c->idle_cond);
	pthread_mutex_unlock(&c->lock);
	if (left == 0)
		call_free(call);
	return rc;
}

/* --- per-engine clients ------------------------------------------------------ */

int sky_http_client_call(sky_http_client *c, const sky_http_request *req,
                         sky_http_response **out, char **err)
{
	if (err)
		*err = NULL;
	int rc = sky_http_client_request(c, req, out);
	if (rc && err)
		*err = skyx_strdup(sky_error_last() ? sky_error_last()
		                                    : sky_strerror(rc));
	return rc;
}

int sky_http_client_from_config(const char *config_json, sky_http_client **out)
{
	if (!out)
		return sky_error_set(SKY_EINVALID, "out is NULL");
	*out = NULL;
	sky_http_client_options o = {0};
	json_t *cfg = sky_json_loads(config_json);
	json_t *http = json_object_get(cfg, "http");
	const char *idle = getenv("SKYENGINE_HTTP_IDLE_TIMEOUT_MS");
	o.idle_timeout_ms =
	    (int)sky_json_int(http, "idle_timeout_ms", idle ? atoi(idle) : 0);
	o.ca_file = sky_json_str(http, "ca_file");
	if (!o.ca_file)
		o.ca_file = getenv("SKYENGINE_HTTP_CA_FILE");
	int rc = sky_http_client_new(&o, out);
	json_decref(cfg);
	return rc;
}
