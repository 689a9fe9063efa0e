/* A small threaded HTTP/1.1 server on loopback for tests (see httpd.h). */
#ifndef _GNU_SOURCE
#	define _GNU_SOURCE
#endif
#include "httpd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define MAX_HEAD (64 * 1024)
#define MAX_BODY (64 * 1024 * 1024)

struct conn {
	int fd;
	pthread_t thread;
	int used;
	int done;
	skytest_httpd *srv;
};

struct skytest_httpd {
	int lfd;
	int port;
	char url[64];
	skytest_handler handler;
	void *ud;
	pthread_t accept_thread;
	pthread_mutex_t lock;
	int stopping;
	long seq;
	struct conn conns[MAX_CONNS];
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 302:
		return "Found";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 413:
		return "Payload Too Large";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

/* Read until "\r\n\r\n"; returns head length (incl. terminator) or -1.
 * Leftover bytes stay in buf (*have). */
static long read_head(int fd, char *buf, size_t cap, size_t *have,
                      volatile int *stopping)
{
	for (;;) {
		char *end = *have ? memmem(buf, *have, "\r\n\r\n", 4) : NULL;
		if (end)
			return (long)(end - buf) + 4;
		if (*have >= cap)
			return -1;
		struct pollfd pfd = {fd, POLLIN, 0};
		int pr = poll(&pfd, 1, 200);
		if (*stopping)
			return -1;
		if (pr == 0)
			continue;
		if (pr < 0 && errno == EINTR)
			continue;
		ssize_t r = recv(fd, buf + *have, cap - *have, 0);
		if (r <= 0)
			return -1;
		*have += (size_t)r;
	}
}

static char *lower_dup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[n] = '\0';
	return d;
}

static void free_resp(skytest_resp *r)
{
	free(r->content_type);
	free(r->headers);
	free(r->body);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	skytest_httpd *h = c->srv;
	char *buf = malloc(MAX_HEAD);
	size_t have = 0;
	int keep = 1;

	while (keep && buf) {
		long hl = read_head(c->fd, buf, MAX_HEAD, &have, &h->stopping);
		if (hl < 0)
			break;
		/* Not strndup: buf holds body bytes after the head and no NUL
		 * when full, which ASan's strict_string_checks reports. */
		char *head = malloc((size_t)hl + 1);
		if (!head)
			break;
		memcpy(head, buf, (size_t)hl);
		head[hl] = '\0';
		/* request line */
		char method[16] = "", target[8192] = "";
		if (sscanf(head, "%15s %8191s", method, target) != 2) {
			free(head);
			break;
		}
		/* headers */
		skytest_header hdrs[128];
		size_t nh = 0;
		size_t content_len = 0;
		int conn_close = 0;
		char *line = strstr(head, "\r\n");
		while (line && nh < 128) {
			line += 2;
			char *eol = strstr(line, "\r\n");
			if (!eol || eol == line)
				break;
			char *colon = memchr(line, ':', (size_t)(eol - line));
			if (colon) {
				char *v = colon + 1;
				while (*v == ' ' || *v == '\t')
					v++;
				hdrs[nh].name =
				    lower_dup(line, (size_t)(colon - line));
				hdrs[nh].value = strndup(v, (size_t)(eol - v));
				if (!strcmp(hdrs[nh].name, "content-length"))
					content_len =
					    strtoul(hdrs[nh].value, NULL, 10);
				if (!strcmp(hdrs[nh].name, "connection") &&
				    !strcasecmp(hdrs[nh].value, "close"))
					conn_close = 1;
				nh++;
			}
			line = eol;
		}
		/* body */
		char *body = NULL;
		if (content_len <= MAX_BODY) {
			body = malloc(content_len + 1);
			size_t got = have - (size_t)hl;
			if (got > content_len)
				got = content_len;
			memcpy(body, buf + hl, got);
			memmove(buf, buf + hl + got, have - (size_t)hl - got);
			have -= (size_t)hl + got;
			while (got < content_len) {
				ssize_t r = recv(c->fd, body + got,
				                 content_len - got, 0);
				if (r <= 0)
					break;
				got += (size_t)r;
			}
			if (got < content_len) {
				free(body);
				body = NULL;
			} else {
				body[content_len] = '\0';
			}
		}
		if (!body) {
			for (size_t i = 0; i < nh; i++) {
				free(hdrs[i].name);
				free(hdrs[i].value);
			}
			free(head);
			break;
		}
		char *q = strchr(target, '?');
		const char *query = "";
		if (q) {
			*q = '\0';
			query = q + 1;
		}
		skytest_req req = {method, target,      query, hdrs, nh,
		                   body,   content_len, head,  0};
		pthread_mutex_lock(&h->lock);
		req.seq = h->seq++;
		pthread_mutex_unlock(&h->lock);

		skytest_resp resp = {0};
		resp.truncate_to = -1;
		h->handler(&req, &resp, h->ud);

		if (resp.delay_ms)
			sleep_ms(resp.delay_ms);
		if (resp.drop) {
			keep = 0;
		} else {
			char hb[8192];
			int status = resp.status ? resp.status : 200;
			int n = snprintf(
			    hb, sizeof hb,
			    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s", status,
			    reason(status),
			    resp.content_type ? resp.content_type
			                      : "text/html; charset=utf-8",
			    resp.headers ? resp.headers : "");
			if (resp.chunked)
				n += snprintf(hb + n, sizeof hb - (size_t)n,
				              "Transfer-Encoding: chunked\r\n");
			else
				n += snprintf(hb + n, sizeof hb - (size_t)n,
				              "Content-Length: %zu\r\n",
				              resp.body_len);
			if (resp.close || conn_close || resp.truncate_to >= 0)
				n += snprintf(hb + n, sizeof hb - (size_t)n,
				              "Connection: close\r\n");
			n += snprintf(hb + n, sizeof hb - (size_t)n, "\r\n");
			int ok = send_all(c->fd, hb, (size_t)n) == 0;
			if (ok && resp.body_delay_ms)
				sleep_ms(resp.body_delay_ms);
			size_t blen = resp.body_len;
			if (resp.truncate_to >= 0 &&
			    (size_t)resp.truncate_to < blen)
				blen = (size_t)resp.truncate_to;
			if (ok && resp.chunked) {
				char cl[32];
				int k =
				    snprintf(cl, sizeof cl, "%zx\r\n", blen);
				ok = send_all(c->fd, cl, (size_t)k) == 0 &&
				     (!blen ||
				      send_all(c->fd, resp.body, blen) == 0) &&
				     (resp.truncate_to >= 0 ||
				      send_all(c->fd, "\r\n0\r\n\r\n", 7) == 0);
			} else if (ok && blen) {
				ok = send_all(c->fd, resp.body, blen) == 0;
			}
			keep = ok && !resp.close && !conn_close &&
			       resp.truncate_to < 0;
		}
		free_resp(&resp);
		for (size_t i = 0; i < nh; i++) {
			free(hdrs[i].name);
			free(hdrs[i].value);
		}
		free(body);
		free(head);
	}
	free(buf);
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	pthread_mutex_lock(&h->lock);
	c->done = 1;
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Join finished connection threads so their slots can be reused. */
static void reap(skytest_httpd *h, int all)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &h->conns[i];
		pthread_mutex_lock(&h->lock);
		int ready = c->used && (c->done || all);
		pthread_mutex_unlock(&h->lock);
		if (!ready)
			continue;
		pthread_join(c->thread, NULL);
		pthread_mutex_lock(&h->lock);
		c->used = 0;
		c->done = 0;
		pthread_mutex_unlock(&h->lock);
	}
}

static void *accept_main(void *arg)
{
	skytest_httpd *h = arg;
	while (!h->stopping) {
		struct pollfd pfd = {h->lfd, POLLIN, 0};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		int fd = accept(h->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		reap(h, 0);
		struct conn *slot = NULL;
		pthread_mutex_lock(&h->lock);
		for (int i = 0; i < MAX_CONNS && !slot; i++)
			if (!h->conns[i].used)
				slot = &h->conns[i];
		if (slot) {
			slot->used = 1;
			slot->done = 0;
			slot->fd = fd;
			slot->srv = h;
		}
		pthread_mutex_unlock(&h->lock);
		if (!slot ||
		    pthread_create(&slot->thread, NULL, conn_main, slot)) {
			if (slot) {
				pthread_mutex_lock(&h->lock);
				slot->used = 0;
				pthread_mutex_unlock(&h->lock);
			}
			close(fd);
		}
	}
	return NULL;
}

skytest_httpd *skytest_httpd_start(skytest_handler handler, void *userdata)
{
	skytest_httpd *h = calloc(1, sizeof *h);
	struct sockaddr_in a = {0};
	socklen_t al = sizeof a;
	int one = 1;
	if (!h)
		return NULL;
	h->handler = handler;
	h->ud = userdata;
	pthread_mutex_init(&h->lock, NULL);
	h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&a, sizeof a) ||
	    listen(h->lfd, 512) ||
	    getsockname(h->lfd, (struct sockaddr *)&a, &al)) {
		if (h->lfd >= 0)
			close(h->lfd);
		free(h);
		return NULL;
	}
	h->port = ntohs(a.sin_port);
	snprintf(h->url, sizeof h->url, "http://127.0.0.1:%d", h->port);
	if (pthread_create(&h->accept_thread, NULL, accept_main, h)) {
		close(h->lfd);
		free(h);
		return NULL;
	}
	return h;
}

void skytest_httpd_stop(skytest_httpd *h)
{
	if (!h)
		return;
	h->stopping = 1;
	pthread_join(h->accept_thread, NULL);
	close(h->lfd);
	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < MAX_CONNS; i++)
		if (h->conns[i].used && !h->conns[i].done)
			shutdown(h->conns[i].fd, SHUT_RDWR);
	pthread_mutex_unlock(&h->lock);
	reap(h, 1);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int skytest_httpd_port(const skytest_httpd *h)
{
	return h->port;
}

const char *skytest_httpd_url(const skytest_httpd *h)
{
	return h->url;
}

long skytest_httpd_count(const skytest_httpd *h)
{
	skytest_httpd *m = (skytest_httpd *)h;
	pthread_mutex_lock(&m->lock);
	long n = m->seq;
	pthread_mutex_unlock(&m->lock);
	return n;
}

const char *skytest_req_header(const skytest_req *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *skytest_req_query(const skytest_req *req, const char *name)
{
	size_t nl = strlen(name);
	const char *p = req->query;
	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
			const char *v = p + nl + 1;
			size_t vl = len - nl - 1;
			char *out = malloc(vl + 1), *o = out;
			for (size_t i = 0; i < vl; i++) {
				if (v[i] == '+') {
					*o++ = ' ';
				} else if (v[i] == '%' && i + 2 < vl + 1 &&
				           hexval(v[i + 1]) >= 0 &&
				           hexval(v[i + 2]) >= 0) {
					*o++ = (char)(hexval(v[i + 1]) * 16 +
					              hexval(v[i + 2]));
					i += 2;
				} else {
					*o++ = v[i];
				}
			}
			*o = '\0';
			return out;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

void skytest_resp_text(skytest_resp *resp, int status, const char *ctype,
                       const char *body)
{
	resp->status = status;
	free(resp->content_type);
	resp->content_type = ctype ? strdup(ctype) : NULL;
	free(resp->body);
	resp->body = strdup(body ? body : "");
	resp->body_len = strlen(resp->body);
}

void skytest_resp_header(skytest_resp *resp, const char *name,
                         const char *value)
{
	size_t old = resp->headers ? strlen(resp->headers) : 0;
	size_t add = strlen(name) + strlen(value) + 4;
	char *n = realloc(resp->headers, old + add + 1);
	if (!n)
		return;
	snprintf(n + old, add + 1, "%s: %s\r\n", name, value);
	resp->headers = n;
}

static const char *mime_for(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot)
		return "application/octet-stream";
	if (!strcmp(dot, ".html") || !strcmp(dot, ".htm"))
		return "text/html; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".json"))
		return "application/json";
	if (!strcmp(dot, ".png"))
		return "image/png";
	if (!strcmp(dot, ".jpg") || !strcmp(dot, ".jpeg"))
		return "image/jpeg";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	if (!strcmp(dot, ".pdf"))
		return "application/pdf";
	if (!strcmp(dot, ".txt"))
		return "text/plain; charset=utf-8";
	return "application/octet-stream";
}

int skytest_resp_file(skytest_resp *resp, const char *root, const char *path)
{
	char full[4096];
	struct stat st;
	if (strstr(path, ".."))
		return 0;
	snprintf(full, sizeof full, "%s%s%s", root, path[0] == '/' ? "" : "/",
	         path);
	if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
		size_t l = strlen(full);
		snprintf(full + l, sizeof full - l, "%sindex.html",
		         full[l - 1] == '/' ? "" : "/");
	}
	FILE *f = fopen(full, "rb");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *data = malloc((size_t)n + 1);
	size_t r = fread(data, 1, (size_t)n, f);
	fclose(f);
	data[r] = '\0';
	free(resp->body);
	resp->body = data;
	resp->body_len = r;
	resp->status = 200;
	free(resp->content_type);
	resp->content_type = strdup(mime_for(full));
	return 1;
}
