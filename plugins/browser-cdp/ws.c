/*
 * browser-cdp: the websocket transport, for a browser somebody else runs
 * (cdp_url "http://host:port" or "ws://host:port/devtools/browser/..").
 * One libwebsockets context with one service thread per connection:
 * workers queue messages and wake it with lws_cancel_service (the only
 * lws call that is safe from another thread); it writes them when the
 * socket is writable and reassembles big fragmented replies.
 */
#include "cdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RX_CHUNK (256 * 1024)

typedef struct out_msg {
	struct out_msg *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
} out_msg;

typedef struct ws_state {
	struct lws_context *lctx;
	struct lws *wsi;
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	out_msg *head, *tail;
	char *rx;
	size_t rx_len, rx_cap;
	int connected, closed, closing, stop;
	char err[256];
	cdp_conn *c;
	const char *const *headers; /* borrowed from the caller of connect */
} ws_state;

/* --- URLs ------------------------------------------------------------------ */

typedef struct url_parts {
	int ssl;
	char host[256];
	int port;
	char path[1024];
} url_parts;

static int parse_url(const char *url, url_parts *u)
{
	const char *p;
	memset(u, 0, sizeof *u);
	if (!strncmp(url, "ws://", 5) || !strncmp(url, "http://", 7)) {
		p = strstr(url, "://") + 3;
		u->port = 80;
	} else if (!strncmp(url, "wss://", 6) || !strncmp(url, "https://", 8)) {
		p = strstr(url, "://") + 3;
		u->ssl = 1;
		u->port = 443;
	} else {
		return -1;
	}
	const char *slash = strchr(p, '/');
	size_t hl = slash ? (size_t)(slash - p) : strlen(p);
	if (!hl || hl >= sizeof u->host)
		return -1;
	memcpy(u->host, p, hl);
	u->host[hl] = '\0';
	char *colon = strrchr(u->host, ':');
	if (colon && !strchr(colon, ']')) {
		*colon = '\0';
		u->port = atoi(colon + 1);
	}
	if (u->host[0] == '[') { /* [::1] */
		memmove(u->host, u->host + 1, strlen(u->host));
		char *b = strchr(u->host, ']');
		if (b)
			*b = '\0';
	}
	snprintf(u->path, sizeof u->path, "%s", slash ? slash : "/");
	return u->port > 0 && u->port < 65536 ? 0 : -1;
}

/* Resolve on the caller's thread (DNS blocks); Chromium also wants an
 * IP address (or localhost) in the Host header. */
static int resolve_ip(const char *host, char *ip, size_t n)
{
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int e = getaddrinfo(host, NULL, &hints, &res);
	if (e || !res)
		return cdp_fail(SKY_EBROWSER, "cannot resolve %s: %s", host,
		                gai_strerror(e));
	void *addr =
	    res->ai_family == AF_INET6
	        ? (void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
	        : (void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
	inet_ntop(res->ai_family, addr, ip, (socklen_t)n);
	freeaddrinfo(res);
	return 0;
}

/* GET /json/version over a plain socket: the browser's ws path. */
static int json_version(const url_parts *u, const char *ip,
                        const char *const *headers, int timeout_ms,
                        char **ws_path)
{
	struct addrinfo hints = {0}, *res = NULL;
	char port[16];
	cdp_buf body = {0}, req = {0};
	int fd = -1, rc;

	*ws_path = NULL;
	if (u->ssl)
		return cdp_fail(SKY_EUNSUPPORTED,
		                "https:// CDP endpoints are not supported; "
		                "give the wss:// URL of the browser");
	snprintf(port, sizeof port, "%d", u->port);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(ip, port, &hints, &res) || !res)
		return cdp_fail(SKY_EBROWSER, "bad address %s", ip);
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	            0);
	rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (fd < 0 || (rc < 0 && errno != EINPROGRESS)) {
		rc = cdp_fail(SKY_EBROWSER, "cannot connect to %s:%d: %s",
		              u->host, u->port, strerror(errno));
		goto out;
	}
	struct pollfd pfd = {fd, POLLOUT, 0};
	if (poll(&pfd, 1, timeout_ms) <= 0) {
		rc = cdp_fail(SKY_EBROWSER, "no answer from %s:%d", u->host,
		              u->port);
		goto out;
	}
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		rc = cdp_fail(SKY_EBROWSER, "cannot connect to %s:%d: %s",
		              u->host, u->port, strerror(soerr));
		goto out;
	}
	char line[512];
	snprintf(line, sizeof line,
	         "GET /json/version HTTP/1.1\r\nHost: %s%s%s:%d\r\n"
	         "Connection: close\r\n",
	         strchr(ip, ':') ? "[" : "", ip, strchr(ip, ':') ? "]" : "",
	         u->port);
	cdp_buf_add(&req, line, strlen(line));
	for (const char *const *h = headers; h && h[0] && h[1]; h += 2) {
		cdp_buf_add(&req, h[0], strlen(h[0]));
		cdp_buf_add(&req, ": ", 2);
		cdp_buf_add(&req, h[1], strlen(h[1]));
		cdp_buf_add(&req, "\r\n", 2);
	}
	cdp_buf_add(&req, "\r\n", 2);
	if (!req.data ||
	    send(fd, req.data, req.len, MSG_NOSIGNAL) != (ssize_t)req.len) {
		rc = cdp_fail(SKY_EBROWSER, "sending to %s:%d failed", u->host,
		              u->port);
		goto out;
	}
	int64_t end = cdp_now_ms() + timeout_ms;
	for (;;) {
		char buf[4096];
		pfd.events = POLLIN;
		int64_t left = end - cdp_now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			rc = cdp_fail(SKY_EBROWSER,
			              "no answer to /json/version from %s:%d",
			              u->host, u->port);
			goto out;
		}
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (body.len > 1024 * 1024)
			break;
		cdp_buf_add(&body, buf, (size_t)r);
		/* Chromium keeps the connection open: stop at Content-Length */
		const char *hend = strstr(body.data, "\r\n\r\n");
		const char *cl =
		    hend ? strcasestr(body.data, "content-length:") : NULL;
		if (cl && cl < hend &&
		    body.len >= (size_t)(hend + 4 - body.data) +
		                    strtoul(cl + 15, NULL, 10))
			break;
	}
	const char *json = body.data ? strstr(body.data, "\r\n\r\n") : NULL;
	json_t *v = json ? json_loads(json + 4, 0, NULL) : NULL;
	const char *ws = cdp_jstr(v, "webSocketDebuggerUrl");
	url_parts wu;
	if (!ws || parse_url(ws, &wu)) {
		rc = cdp_fail(SKY_EBROWSER,
		              "%s:%d did not answer /json/version like a "
		              "DevTools endpoint",
		              u->host, u->port);
		json_decref(v);
		goto out;
	}
	*ws_path = cdp_strdup(wu.path);
	json_decref(v);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	cdp_buf_free(&body);
	cdp_buf_free(&req);
	return rc;
}

/* --- the lws side (service thread only) --------------------------------------- */

static void lws_log_to_host(int level, const char *line);

/* lws logs to stderr by default; errors and warnings go to the host's
 * log instead (the setting is process-wide). */
static void quiet_lws(void)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_host);
}

static void lws_log_to_host(int level, const char *line)
{
	(void)level;
	char copy[512];
	snprintf(copy, sizeof copy, "%s", line);
	size_t n = strlen(copy);
	while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
		copy[--n] = '\0';
	cdp_log(SKY_HOST_LOG_DEBUG, "lws: %s", copy);
}

static void gone(ws_state *st, const char *why)
{
	pthread_mutex_lock(&st->lock);
	int was = st->closed;
	int connected = st->connected;
	st->closed = 1;
	st->wsi = NULL;
	if (why && !st->err[0])
		snprintf(st->err, sizeof st->err, "%s", why);
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	if (!was && connected && st->c)
		cdp__on_close(st->c, why ? why : "the websocket was closed");
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
	(void)user;
	struct lws_context *lc = lws_get_context(wsi);
	ws_state *st = lc ? lws_context_user(lc) : NULL;
	if (!st)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		pthread_mutex_lock(&st->lock);
		st->connected = 1;
		pthread_cond_broadcast(&st->cond);
		pthread_mutex_unlock(&st->lock);
		if (st->head)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		/* the run's cdp_connect_headers: this request only */
		unsigned char **p = in, *end = *p + len;
		for (const char *const *h = st->headers; h && h[0] && h[1];
		     h += 2) {
			char name[256];
			snprintf(name, sizeof name, "%s:", h[0]);
			if (lws_add_http_header_by_name(
			        wsi, (const unsigned char *)name,
			        (const unsigned char *)h[1], (int)strlen(h[1]),
			        p, end))
				return -1;
		}
		break;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[256];
		snprintf(why, sizeof why, "websocket connection failed: %s",
		         in ? (const char *)in : "unknown error");
		gone(st, why);
		break;
	}
	case LWS_CALLBACK_CLIENT_RECEIVE: {
		if (st->rx_len + len + 1 > st->rx_cap) {
			size_t cap = st->rx_cap ? st->rx_cap : RX_CHUNK;
			while (cap < st->rx_len + len + 1)
				cap *= 2;
			char *p = realloc(st->rx, cap);
			if (!p)
				return -1;
			st->rx = p;
			st->rx_cap = cap;
		}
		memcpy(st->rx + st->rx_len, in, len);
		st->rx_len += len;
		if (lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi)) {
			/* a whole message: hand the buffer over */
			char *msg = st->rx;
			size_t n = st->rx_len;
			msg[n] = '\0';
			st->rx = NULL;
			st->rx_len = st->rx_cap = 0;
			cdp__on_message(st->c, msg, n);
		}
		break;
	}
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		pthread_mutex_lock(&st->lock);
		out_msg *m = st->head;
		if (m) {
			st->head = m->next;
			if (!st->head)
				st->tail = NULL;
		}
		int more = st->head != NULL, closing = st->closing;
		pthread_mutex_unlock(&st->lock);
		if (m) {
			int w = lws_write(wsi, m->buf + LWS_PRE, m->len,
			                  LWS_WRITE_TEXT);
			free(m);
			if (w < 0)
				return -1;
		}
		if (closing && !more) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
			return -1;
		}
		if (more)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLIENT_CLOSED:
		gone(st, "the browser closed the websocket");
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (wsi == st->wsi)
			gone(st, "the websocket was closed");
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		pthread_mutex_lock(&st->lock);
		struct lws *w = st->wsi;
		int want = st->connected && w && (st->head || st->closing);
		pthread_mutex_unlock(&st->lock);
		if (want)
			lws_callback_on_writable(w);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
    {"cdp", callback, 0, RX_CHUNK, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *service(void *arg)
{
	ws_state *st = arg;
	for (;;) {
		pthread_mutex_lock(&st->lock);
		int stop = st->stop;
		pthread_mutex_unlock(&st->lock);
		if (stop)
			break;
		lws_service(st->lctx, 0);
	}
	return NULL;
}

/* --- transport ops (any thread) ------------------------------------------------ */

static int ws_send(cdp_conn *c, const char *msg, size_t len)
{
	ws_state *st = c->tp_state;
	out_msg *m = malloc(sizeof *m + LWS_PRE + len);
	if (!m)
		return cdp_fail(SKY_ENOMEM, "out of memory");
	m->next = NULL;
	m->len = len;
	memcpy(m->buf + LWS_PRE, msg, len);
	pthread_mutex_lock(&st->lock);
	if (st->closed) {
		pthread_mutex_unlock(&st->lock);
		free(m);
		return cdp_fail(SKY_EBROWSER, "the websocket is closed");
	}
	if (st->tail)
		st->tail->next = m;
	else
		st->head = m;
	st->tail = m;
	pthread_mutex_unlock(&st->lock);
	lws_cancel_service(st->lctx);
	return 0;
}

static void ws_free(ws_state *st)
{
	if (st->thread_started) {
		pthread_mutex_lock(&st->lock);
		st->stop = 1;
		pthread_mutex_unlock(&st->lock);
		lws_cancel_service(st->lctx);
		pthread_join(st->thread, NULL);
	}
	if (st->lctx)
		lws_context_destroy(st->lctx);
	while (st->head) {
		out_msg *m = st->head;
		st->head = m->next;
		free(m);
	}
	free(st->rx);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	free(st);
}

static void ws_shutdown(cdp_conn *c)
{
	ws_state *st = c->tp_state;
	struct timespec dl;
	/* a clean close frame first (the browser disposes our contexts),
	 * bounded */
	pthread_mutex_lock(&st->lock);
	st->closing = 1;
	pthread_mutex_unlock(&st->lock);
	lws_cancel_service(st->lctx);
	cdp_deadline(&dl, 2000);
	pthread_mutex_lock(&st->lock);
	while (!st->closed)
		if (pthread_cond_timedwait(&st->cond, &st->lock, &dl) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&st->lock);
	st->c = NULL;
	ws_free(st);
}

static const cdp_transport ws_transport = {
    .send = ws_send,
    .shutdown = ws_shutdown,
    .name = "websocket",
};

int cdp_ws_connect(const char *url, const char *const *headers, int timeout_ms,
                   cdp_event_fn on_event, cdp_death_fn on_death, void *ud,
                   cdp_conn **out)
{
	static pthread_once_t log_once = PTHREAD_ONCE_INIT;
	url_parts u;
	char ip[INET6_ADDRSTRLEN + 1];
	char *path = NULL;
	int rc;

	*out = NULL;
	if (parse_url(url, &u))
		return cdp_fail(SKY_EINVALID, "bad cdp_url \"%s\"", url);
	rc = resolve_ip(u.host, ip, sizeof ip);
	if (rc)
		return rc;
	if (!strncmp(url, "http", 4)) {
		rc = json_version(&u, ip, headers, timeout_ms, &path);
		if (rc)
			return rc;
	} else {
		path = cdp_strdup(u.path);
	}
	pthread_once(&log_once, quiet_lws);

	ws_state *st = calloc(1, sizeof *st);
	if (!st) {
		free(path);
		return cdp_fail(SKY_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&st->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &ca);
	pthread_condattr_destroy(&ca);
	st->headers = headers;

	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = st;
	/* lws would send even loopback through $http_proxy */
	info.http_proxy_address = "";
	info.pt_serv_buf_size = RX_CHUNK;
	info.timeout_secs = (unsigned)(timeout_ms / 1000 + 5);
	if (u.ssl)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	st->lctx = lws_create_context(&info);
	if (!st->lctx) {
		free(path);
		ws_free(st);
		return cdp_fail(SKY_EBROWSER, "cannot create a websocket "
		                              "client");
	}

	cdp_conn *c = cdp_conn_new(&ws_transport, st, on_event, on_death, ud);
	st->c = c;
	struct lws_client_connect_info cc;
	memset(&cc, 0, sizeof cc);
	cc.context = st->lctx;
	cc.address = ip;
	cc.port = u.port;
	cc.path = path;
	cc.host = ip; /* Chromium refuses a Host that is not an address */
	cc.origin =
	    NULL; /* any Origin gets 403 without --remote-allow-origins */
	cc.protocol = NULL;
	cc.local_protocol_name = "cdp";
	cc.ssl_connection = u.ssl ? LCCSCF_USE_SSL : 0;
	cc.pwsi = &st->wsi;
	/* before the service thread exists, this thread may drive lws */
	struct lws *w = c ? lws_client_connect_via_info(&cc) : NULL;
	free(path);
	if (!w) {
		rc = cdp_fail(SKY_EBROWSER, "cannot connect to %s: %s", url,
		              st->err[0] ? st->err : "connection failed");
		goto fail;
	}
	if (pthread_create(&st->thread, NULL, service, st)) {
		rc =
		    cdp_fail(SKY_EBROWSER, "cannot start the websocket thread");
		goto fail;
	}
	st->thread_started = 1;
	struct timespec dl;
	cdp_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&st->lock);
	while (!st->connected && !st->closed)
		if (pthread_cond_timedwait(&st->cond, &st->lock, &dl) ==
		    ETIMEDOUT)
			break;
	int ok = st->connected && !st->closed;
	char err[256];
	snprintf(err, sizeof err, "%s", st->err);
	pthread_mutex_unlock(&st->lock);
	if (!ok) {
		rc = cdp_fail(SKY_EBROWSER, "cannot connect to %s: %s", url,
		              err[0] ? err : "no answer");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	st->c = NULL;
	ws_free(st);
	free(c);
	return rc;
}
