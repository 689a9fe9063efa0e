/* A raw HTTP/1.1 client for tests (see httpc.h). */
#ifndef _GNU_SOURCE
#	define _GNU_SOURCE
#endif
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void skytest_hc_free(skytest_hc_resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}

char *skytest_hc_header(const skytest_hc_resp *r, const char *name)
{
	size_t nl = strlen(name);
	for (const char *l = r->head ? strstr(r->head, "\r\n") : NULL; l;
	     l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (!strncasecmp(h, name, nl) && h[nl] == ':') {
			const char *v = h + nl + 1;
			while (*v == ' ')
				v++;
			const char *e = strstr(v, "\r\n");
			return strndup(v, e ? (size_t)(e - v) : strlen(v));
		}
	}
	return NULL;
}

/* Decode a chunked body in place; returns its length. */
static size_t dechunk(char *b, size_t n)
{
	size_t in = 0, out = 0;
	while (in < n) {
		char *end;
		unsigned long sz = strtoul(b + in, &end, 16);
		char *crlf = strstr(b + in, "\r\n");
		if (!crlf || sz == 0)
			break;
		in = (size_t)(crlf - b) + 2;
		if (in + sz > n)
			sz = n - in;
		memmove(b + out, b + in, sz);
		out += sz;
		in += sz + 2;
		(void)end;
	}
	b[out] = '\0';
	return out;
}

int skytest_hc_raw(int port, const char *raw, size_t len, int timeout_ms,
                   skytest_hc_resp *out)
{
	struct sockaddr_in a = {0};
	memset(out, 0, sizeof *out);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size_t sent = 0;
	while (sent < len) {
		ssize_t w = send(fd, raw + sent, len - sent, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server may close early (413): read on */
		sent += (size_t)w;
	}
	size_t cap = 65536, have = 0;
	char *buf = malloc(cap + 1);
	long deadline = now_ms() + timeout_ms;
	long head_end = -1, need = -1;
	int chunked = 0;
	for (;;) {
		if (head_end >= 0) {
			if (need >= 0 && (long)have >= head_end + need)
				break;
			if (chunked && memmem(buf + head_end, have - head_end,
			                      "\r\n0\r\n\r\n", 7))
				break;
		}
		long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, (int)left) <= 0)
			break;
		if (have == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		ssize_t r = recv(fd, buf + have, cap - have, 0);
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		if (head_end < 0) {
			char *e = strstr(buf, "\r\n\r\n");
			if (e) {
				head_end = (long)(e - buf) + 4;
				out->head = strndup(buf, (size_t)head_end);
				char *cl =
				    skytest_hc_header(out, "content-length");
				char *te =
				    skytest_hc_header(out, "transfer-encoding");
				if (cl)
					need = atol(cl);
				chunked = te && strcasestr(te, "chunked");
				free(cl);
				free(te);
			}
		}
	}
	close(fd);
	if (out->head)
		sscanf(out->head, "HTTP/1.%*d %d", &out->status);
	if (head_end >= 0) {
		size_t blen = have - (size_t)head_end;
		out->body = malloc(blen + 1);
		memcpy(out->body, buf + head_end, blen);
		out->body[blen] = '\0';
		out->body_len = chunked ? dechunk(out->body, blen) : blen;
	}
	free(buf);
	return out->status ? 0 : -1;
}

int skytest_hc(int port, const char *method, const char *path,
               const char *headers, const char *body, skytest_hc_resp *out)
{
	size_t blen = body ? strlen(body) : 0;
	size_t cap =
	    strlen(path) + (headers ? strlen(headers) : 0) + blen + 256;
	char *raw = malloc(cap);
	int n = snprintf(raw, cap,
	                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s"
	                 "Connection: close\r\n\r\n",
	                 method, path, port, headers ? headers : "", "");
	if (body) {
		n = snprintf(raw, cap,
		             "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
		             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		             method, path, port, headers ? headers : "", blen);
		memcpy(raw + n, body, blen);
		n += (int)blen;
	}
	int rc = skytest_hc_raw(port, raw, (size_t)n, 15000, out);
	free(raw);
	return rc;
}
