/*
 * The reference server's HTTP layer over libwebsockets 4.1 (see http.h).
 * lws is single-threaded: everything that touches a wsi runs on the
 * service thread; workers hand finished jobs back through a queue and
 * lws_cancel_service(), the only lws call that is safe from another thread.
 */
#include "http.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <skyx/str.h>

#define SLICE 16384
#define COMPONENT "http"

/* --- log lines -------------------------------------------------------- */

static sky_log_level log_max(void)
{
	static const char *names[] = {"error", "warn", "info", "debug",
	                              "trace"};
	const char *s = getenv("SKYENGINE_LOG");
	for (int i = 0; s && i < 5; i++)
		if (!strcasecmp(s, names[i]))
			return (sky_log_level)i;
	return SKY_LOG_WARN;
}

void srv_log(sky_log_level level, const char *component, const char *fmt, ...)
{
	char msg[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	if (level > log_max())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++) /* one line per call */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] %s\n",
	        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	        tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	        sky_log_level_name(level), component ? component : "-", msg);
}

/* lws' lines, at debug level like the library's own HTTP client does. */
static void lws_log(int level, const char *line)
{
	size_t n = strlen(line);
	(void)level;
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	srv_log(SKY_LOG_DEBUG, "lws", "%.*s", (int)n, line);
}

struct job {
	struct lws *wsi; /* NULL once the client went away */
	srv_http *h;
	srv_req req;
	srv_resp resp;
	skyx_buf body;
	size_t max_body; /* this request's body limit */
	size_t sent;
	int headers_sent;
	int ready;      /* resp filled, may be written */
	int on_worker;  /* owned by the worker queue until done */
	int dispatched; /* handed to the handler (once only) */
	int head_only;
	int close_after;
	struct job *next;
};

struct wsmsg {
	char *text;
	struct wsmsg *next;
};

struct srv_ws {
	srv_http *h;
	struct lws *wsi;
	void *data;
	struct wsmsg *head, *tail; /* service thread only */
	char *latest;              /* under h->lock */
	int wake;                  /* under h->lock: ask for WRITEABLE */
	int ending, end_code;
	char end_reason[64];
	struct srv_ws *next; /* h->wss, under h->lock */
};

struct pss {
	struct job *job;
	srv_ws *ws;
};

struct srv_http {
	struct lws_context *ctx;
	srv_http_options o;
	pthread_t service;
	pthread_t *workers;
	int n_workers;
	volatile int stopping;
	int port;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *todo_head, *todo_tail; /* for workers */
	struct job *done;                  /* back to the service thread */
	srv_ws *wss;                       /* open websockets */
	lws_sorted_usec_list_t tick;       /* websocket ticks */
};

static void req_free(srv_req *r)
{
	free(r->path);
	for (size_t i = 0; i < r->n_query; i++)
		free(r->query[i]);
	free(r->query);
	free(r->api_key);
	free(r->authorization);
	free(r->content_type);
	free(r->idempotency_key);
	free(r->x_user_agent);
	free(r->if_none_match);
	free(r->max_steps_override);
	free(r->max_iterations_override);
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	req_free(&j->req);
	free(j->resp.ctype);
	free(j->resp.headers);
	free(j->resp.body);
	skyx_buf_free(&j->body);
	free(j);
}

void srv_resp_take(srv_resp *r, int status, const char *ctype, char *body,
                   size_t len)
{
	r->status = status;
	free(r->ctype);
	r->ctype = skyx_strdup(ctype);
	free(r->body);
	r->body = body;
	r->body_len = len;
}

void srv_resp_json(srv_resp *r, int status, const char *json)
{
	char *b = skyx_strdup(json ? json : "null");
	srv_resp_take(r, status, "application/json", b, b ? strlen(b) : 0);
}

void srv_resp_header(srv_resp *r, const char *name, const char *value)
{
	char *line = skyx_asprintf("%s%s: %s\r\n", r->headers ? r->headers : "",
	                           name, value);
	if (line) {
		free(r->headers);
		r->headers = line;
	}
}

const char *srv_req_query(const srv_req *req, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < req->n_query; i++)
		if (!strncmp(req->query[i], name, nl) &&
		    req->query[i][nl] == '=')
			return req->query[i] + nl + 1;
	return NULL;
}

static char *hdr_token(struct lws *wsi, enum lws_token_indexes t)
{
	int n = lws_hdr_total_length(wsi, t);
	if (n <= 0)
		return NULL;
	char *v = malloc((size_t)n + 1);
	if (v && lws_hdr_copy(wsi, v, n + 1, t) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

static char *hdr_custom(struct lws *wsi, const char *name)
{
	int nl = (int)strlen(name);
	int n = lws_hdr_custom_length(wsi, name, nl);
	if (n < 0)
		return NULL;
	char *v = malloc((size_t)n + 1);
	if (v && lws_hdr_custom_copy(wsi, v, n + 1, name, nl) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

static void read_query(struct lws *wsi, srv_req *r)
{
	int n = 0;
	char buf[2048];
	while (lws_hdr_copy_fragment(wsi, buf, sizeof buf,
	                             WSI_TOKEN_HTTP_URI_ARGS, n) > 0) {
		char **nq = realloc(r->query, (r->n_query + 1) * sizeof *nq);
		if (!nq)
			return;
		r->query = nq;
		r->query[r->n_query++] = skyx_strdup(buf);
		n++;
	}
}

/* Write a whole small reply right now (used before the body is read). */
static int reply_now(struct lws *wsi, int status, const char *body)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start,
	                                   *end = buf + sizeof buf - 1;
	size_t len = strlen(body);
	if (lws_add_http_common_headers(wsi, (unsigned)status,
	                                "application/json", len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (unsigned char *)"connection:",
	                                (unsigned char *)"close", 5, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (len)
		lws_write(wsi, (unsigned char *)body, len,
		          LWS_WRITE_HTTP_FINAL);
	return -1; /* close: the unread body must not be parsed */
}

static void *worker_main(void *arg)
{
	srv_http *h = arg;
	for (;;) {
		pthread_mutex_lock(&h->lock);
		while (!h->todo_head && !h->stopping)
			pthread_cond_wait(&h->cond, &h->lock);
		struct job *j = h->todo_head;
		if (!j) {
			pthread_mutex_unlock(&h->lock);
			return NULL;
		}
		h->todo_head = j->next;
		if (!h->todo_head)
			h->todo_tail = NULL;
		pthread_mutex_unlock(&h->lock);

		h->o.handler(h->o.ud, &j->req, &j->resp);

		pthread_mutex_lock(&h->lock);
		j->ready = 1;
		j->next = h->done;
		h->done = j;
		pthread_mutex_unlock(&h->lock);
		lws_cancel_service(h->ctx);
	}
}

static void dispatch(srv_http *h, struct job *j)
{
	/* libwebsockets 4.1 may report BODY_COMPLETION for a request
	 * announced with Content-Length: 0, after we dispatched it from
	 * LWS_CALLBACK_HTTP: a second dispatch would run the handler twice
	 * (on two workers, for a slow route). */
	if (j->dispatched)
		return;
	j->dispatched = 1;
	j->req.body = j->body.data;
	j->req.body_len = j->body.len;
	if (h->o.is_slow && h->o.is_slow(h->o.ud, &j->req)) {
		/* A blocking handler: give the connection time to wait. */
		lws_set_timeout(j->wsi, PENDING_TIMEOUT_HTTP_CONTENT, 120);
		pthread_mutex_lock(&h->lock);
		j->on_worker = 1;
		j->next = NULL;
		if (h->todo_tail)
			h->todo_tail->next = j;
		else
			h->todo_head = j;
		h->todo_tail = j;
		pthread_cond_signal(&h->cond);
		pthread_mutex_unlock(&h->lock);
		return;
	}
	h->o.handler(h->o.ud, &j->req, &j->resp);
	j->ready = 1;
	lws_callback_on_writable(j->wsi);
}

static int write_some(struct lws *wsi, struct job *j)
{
	if (!j->headers_sent) {
		unsigned char buf[LWS_PRE + 8192], *start = buf + LWS_PRE,
		                                   *p = start,
		                                   *end = buf + sizeof buf - 1;
		int status = j->resp.status ? j->resp.status : 200;
		const char *ct =
		    j->resp.ctype ? j->resp.ctype : "application/json";
		if (lws_add_http_common_headers(wsi, (unsigned)status, ct,
		                                j->resp.body_len, &p, end))
			return -1;
		for (char *l = j->resp.headers; l && *l;) {
			char *eol = strstr(l, "\r\n");
			char *colon = strchr(l, ':');
			if (!eol || !colon || colon > eol)
				break;
			char name[128];
			size_t nl = (size_t)(colon - l) + 1;
			if (nl >= sizeof name)
				nl = sizeof name - 1;
			memcpy(name, l, nl);
			name[nl] = '\0';
			const char *v = colon + 1;
			while (*v == ' ')
				v++;
			if (lws_add_http_header_by_name(
			        wsi, (unsigned char *)name,
			        (const unsigned char *)v, (int)(eol - v), &p,
			        end))
				return -1;
			l = eol + 2;
		}
		if (j->close_after && lws_add_http_header_by_name(
		                          wsi, (unsigned char *)"connection:",
		                          (unsigned char *)"close", 5, &p, end))
			return -1;
		if (lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		j->headers_sent = 1;
		if (j->resp.body_len && !j->head_only) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	} else if (j->sent < j->resp.body_len && !j->head_only) {
		unsigned char buf[LWS_PRE + SLICE];
		size_t n = j->resp.body_len - j->sent;
		if (n > SLICE)
			n = SLICE;
		memcpy(buf + LWS_PRE, j->resp.body + j->sent, n);
		int last = j->sent + n == j->resp.body_len;
		if (lws_write(wsi, buf + LWS_PRE, n,
		              last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
		    (int)n)
			return -1;
		j->sent += n;
		if (!last) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	/* Transaction complete: keep the connection for the next request. */
	int close_it = j->close_after;
	return close_it ? -1 : 1;
}

static void detach(srv_http *h, struct pss *pss)
{
	struct job *j = pss->job;
	if (!j)
		return;
	pss->job = NULL;
	pthread_mutex_lock(&h->lock);
	if (j->on_worker && !j->ready) {
		/* The worker still owns it: it is freed when handed back. */
		j->wsi = NULL;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	if (j->on_worker && j->ready) {
		/* Already on the done list: unlink it there. */
		for (struct job **pp = &h->done; *pp; pp = &(*pp)->next)
			if (*pp == j) {
				*pp = j->next;
				break;
			}
	}
	pthread_mutex_unlock(&h->lock);
	job_free(j);
}

/* --- websockets ------------------------------------------------------- */

void srv_ws_set_data(srv_ws *ws, void *data)
{
	ws->data = data;
}

void *srv_ws_data(const srv_ws *ws)
{
	return ws->data;
}

void srv_ws_send(srv_ws *ws, const char *text)
{
	struct wsmsg *m = calloc(1, sizeof *m);
	if (!m || !(m->text = skyx_strdup(text))) {
		free(m);
		return;
	}
	if (ws->tail)
		ws->tail->next = m;
	else
		ws->head = m;
	ws->tail = m;
	lws_callback_on_writable(ws->wsi);
}

void srv_ws_end(srv_ws *ws, int code, const char *reason)
{
	ws->ending = 1;
	ws->end_code = code;
	snprintf(ws->end_reason, sizeof ws->end_reason, "%s",
	         reason ? reason : "");
	lws_callback_on_writable(ws->wsi);
}

void srv_ws_offer(srv_ws *ws, char *text)
{
	srv_http *h = ws->h;
	pthread_mutex_lock(&h->lock);
	free(ws->latest);
	ws->latest = text;
	ws->wake = 1;
	pthread_mutex_unlock(&h->lock);
	lws_cancel_service(h->ctx);
}

static int ws_write(struct lws *wsi, const char *text)
{
	size_t n = strlen(text);
	unsigned char *buf = malloc(LWS_PRE + n);
	if (!buf)
		return -1;
	memcpy(buf + LWS_PRE, text, n);
	int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
	free(buf);
	return w < (int)n ? -1 : 0;
}

/* One message per WRITEABLE: the queue first, then the newest frame. */
static int ws_writeable(srv_http *h, srv_ws *ws)
{
	char *text = NULL;
	if (ws->head) {
		struct wsmsg *m = ws->head;
		ws->head = m->next;
		if (!ws->head)
			ws->tail = NULL;
		text = m->text;
		free(m);
	} else if (!ws->ending) {
		pthread_mutex_lock(&h->lock);
		text = ws->latest;
		ws->latest = NULL;
		pthread_mutex_unlock(&h->lock);
	}
	if (text) {
		int rc = ws_write(ws->wsi, text);
		free(text);
		if (rc)
			return -1;
		if (ws->head || ws->ending)
			lws_callback_on_writable(ws->wsi);
		else {
			pthread_mutex_lock(&h->lock);
			if (ws->latest)
				lws_callback_on_writable(ws->wsi);
			pthread_mutex_unlock(&h->lock);
		}
		return 0;
	}
	if (ws->ending) {
		lws_close_reason(ws->wsi, (enum lws_close_status)ws->end_code,
		                 (unsigned char *)ws->end_reason,
		                 strlen(ws->end_reason));
		return -1;
	}
	return 0;
}

static void ws_open(srv_http *h, struct pss *pss, struct lws *wsi)
{
	srv_ws *ws = calloc(1, sizeof *ws);
	if (!ws)
		return;
	ws->h = h;
	ws->wsi = wsi;
	srv_req req = {0};
	req.method = SRV_GET;
	req.method_name = "GET";
	req.path = hdr_token(wsi, WSI_TOKEN_GET_URI);
	if (!req.path)
		req.path = skyx_strdup("/");
	char *q = strchr(req.path, '?');
	if (q)
		*q = '\0';
	read_query(wsi, &req);
	req.api_key = hdr_custom(wsi, "x-api-key:");
	req.authorization = hdr_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
	lws_get_peer_simple(wsi, req.peer, sizeof req.peer);
	pss->ws = ws;
	pthread_mutex_lock(&h->lock);
	ws->next = h->wss;
	h->wss = ws;
	pthread_mutex_unlock(&h->lock);
	h->o.ws->open(h->o.ud, ws, &req);
	req_free(&req);
}

static void ws_closed(srv_http *h, struct pss *pss)
{
	srv_ws *ws = pss->ws;
	if (!ws)
		return;
	pss->ws = NULL;
	/* After this the handler sends no more offers. */
	h->o.ws->close(h->o.ud, ws);
	pthread_mutex_lock(&h->lock);
	for (srv_ws **pp = &h->wss; *pp; pp = &(*pp)->next)
		if (*pp == ws) {
			*pp = ws->next;
			break;
		}
	free(ws->latest);
	pthread_mutex_unlock(&h->lock);
	while (ws->head) {
		struct wsmsg *m = ws->head;
		ws->head = m->next;
		free(m->text);
		free(m);
	}
	free(ws);
}

static void ws_tick(lws_sorted_usec_list_t *sul)
{
	srv_http *h = lws_container_of(sul, srv_http, tick);
	/* Handlers run on this thread: the list only changes here. */
	for (srv_ws *ws = h->wss; ws; ws = ws->next)
		if (!ws->ending)
			h->o.ws->tick(h->o.ud, ws);
	lws_sul_schedule(h->ctx, 0, &h->tick, ws_tick, 500 * LWS_US_PER_MS);
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len)
{
	struct pss *pss = user;
	srv_http *h = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		char *uri = NULL;
		int ulen = 0;
		int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
		struct job *j = calloc(1, sizeof *j);
		if (!j)
			return -1;
		j->h = h;
		j->wsi = wsi;
		pss->job = j;
		j->req.method =
		    m >= 0 && m < SRV_OTHER ? (enum srv_method)m : SRV_OTHER;
		static const char *names[] = {"GET",     "POST",  "OPTIONS",
		                              "PUT",     "PATCH", "DELETE",
		                              "CONNECT", "HEAD",  "OTHER"};
		j->req.method_name = names[j->req.method];
		j->head_only = j->req.method == SRV_HEAD;
		j->req.path =
		    uri ? skyx_strndup(uri, (size_t)ulen) : skyx_strdup("/");
		read_query(wsi, &j->req);
		j->req.api_key = hdr_custom(wsi, "x-api-key:");
		j->req.idempotency_key = hdr_custom(wsi, "idempotency-key:");
		j->req.x_user_agent = hdr_custom(wsi, "x-user-agent:");
		j->req.max_steps_override =
		    hdr_custom(wsi, "x-max-steps-override:");
		j->req.max_iterations_override =
		    hdr_custom(wsi, "x-max-iterations-override:");
		j->req.authorization =
		    hdr_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
		j->req.content_type =
		    hdr_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
		j->req.if_none_match =
		    hdr_token(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH);
		lws_get_peer_simple(wsi, j->req.peer, sizeof j->req.peer);

		char *te = hdr_token(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
		int chunked = te && strcasestr(te, "chunked");
		free(te);
		if (chunked)
			return reply_now(wsi, 411,
			                 "{\"detail\":\"Chunked request bodies "
			                 "are not supported; send "
			                 "Content-Length\"}");
		char *cl = hdr_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
		long long clen = cl ? strtoll(cl, NULL, 10) : 0;
		free(cl);
		size_t lim =
		    h->o.max_body_for ? h->o.max_body_for(h->o.ud, &j->req) : 0;
		j->max_body = lim ? lim : h->o.max_body;
		if (clen < 0 || (size_t)clen > j->max_body)
			return reply_now(wsi, 413,
			                 "{\"detail\":\"Request body too "
			                 "large\"}");
		if (clen > 0) {
			j->req.has_body = 1;
			/* A slow client gets this long to send its body. */
			lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, 15);
			return 0; /* wait for HTTP_BODY */
		}
		dispatch(h, j);
		return 0;
	}
	case LWS_CALLBACK_HTTP_BODY:
		if (!pss->job)
			return -1;
		if (pss->job->body.len + len > pss->job->max_body)
			return reply_now(wsi, 413,
			                 "{\"detail\":\"Request body too "
			                 "large\"}");
		skyx_buf_append(&pss->job->body, in, len);
		return pss->job->body.oom ? -1 : 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!pss->job)
			return -1;
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		if (!pss->job->body.data)
			skyx_buf_puts(&pss->job->body, "");
		dispatch(h, pss->job);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE: {
		struct job *j = pss->job;
		if (!j || !j->ready)
			return 0;
		int r = write_some(wsi, j);
		if (r <= 0)
			return r;
		pss->job = NULL;
		job_free(j);
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	}
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss)
			detach(h, pss);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		char *path = hdr_token(wsi, WSI_TOKEN_GET_URI);
		if (path && strchr(path, '?'))
			*strchr(path, '?') = '\0';
		int ok = h->o.ws && path && h->o.ws->accept(h->o.ud, path);
		free(path);
		return ok ? 0 : -1;
	}
	case LWS_CALLBACK_ESTABLISHED:
		if (!h->o.ws)
			return -1;
		ws_open(h, pss, wsi);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss && pss->ws ? ws_writeable(h, pss->ws) : 0;
	case LWS_CALLBACK_RECEIVE:
		return 0; /* streams only send */
	case LWS_CALLBACK_CLOSED:
		if (pss)
			ws_closed(h, pss);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
		pthread_mutex_lock(&h->lock);
		struct job *d = h->done;
		h->done = NULL;
		for (srv_ws *ws = h->wss; ws; ws = ws->next)
			if (ws->wake) {
				ws->wake = 0;
				lws_callback_on_writable(ws->wsi);
			}
		pthread_mutex_unlock(&h->lock);
		while (d) {
			struct job *next = d->next;
			d->next = NULL;
			pthread_mutex_lock(&h->lock);
			int gone = d->wsi == NULL;
			d->on_worker = 0;
			pthread_mutex_unlock(&h->lock);
			if (gone)
				job_free(d);
			else
				lws_callback_on_writable(d->wsi);
			d = next;
		}
		return 0;
	}
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"http", callback_http, sizeof(struct pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service_main(void *arg)
{
	srv_http *h = arg;
	while (!h->stopping)
		if (lws_service(h->ctx, 0) < 0)
			break;
	return NULL;
}

int srv_http_start(const srv_http_options *opts, srv_http **out)
{
	struct lws_context_creation_info info;
	srv_http *h = calloc(1, sizeof *h);
	*out = NULL;
	if (!h)
		return -1;
	h->o = *opts;
	if (!h->o.host)
		h->o.host = "127.0.0.1";
	if (!h->o.max_body)
		h->o.max_body = 1024 * 1024;
	if (h->o.workers <= 0)
		h->o.workers = 4;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);

	/* lws has one log emitter per process: ours until the library's
	 * HTTP client installs its own (which also feeds its error
	 * messages); both log lws' lines at debug level. */
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof info);
	info.port = opts->port; /* 0: the kernel picks one */
	info.iface = h->o.host;
	info.protocols = protocols;
	info.user = h;
	info.max_http_header_data = 16384;
	info.max_http_header_pool = 256;
	info.keepalive_timeout = 60;
	info.timeout_secs = 30;
	info.pt_serv_buf_size = 65536;
	h->ctx = lws_create_context(&info);
	if (!h->ctx) {
		free(h);
		return -1;
	}
	if (h->o.ws)
		lws_sul_schedule(h->ctx, 0, &h->tick, ws_tick,
		                 500 * LWS_US_PER_MS);
	struct lws_vhost *vh = lws_get_vhost_by_name(h->ctx, "default");
	h->port = vh ? lws_get_vhost_listen_port(vh) : opts->port;
	h->n_workers = h->o.workers;
	h->workers = calloc((size_t)h->n_workers, sizeof *h->workers);
	for (int i = 0; i < h->n_workers; i++)
		pthread_create(&h->workers[i], NULL, worker_main, h);
	pthread_create(&h->service, NULL, service_main, h);
	*out = h;
	return 0;
}

void srv_http_stop(srv_http *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	for (int i = 0; i < h->n_workers; i++)
		pthread_join(h->workers[i], NULL);
	lws_cancel_service(h->ctx);
	pthread_join(h->service, NULL);
	lws_context_destroy(h->ctx);
	/* Jobs handed back after the loop stopped. */
	while (h->done) {
		struct job *n = h->done->next;
		job_free(h->done);
		h->done = n;
	}
	while (h->todo_head) {
		struct job *n = h->todo_head->next;
		job_free(h->todo_head);
		h->todo_head = n;
	}
	free(h->workers);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
}

int srv_http_port(const srv_http *h)
{
	return h->port;
}
