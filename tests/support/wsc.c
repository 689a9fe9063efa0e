/* A minimal websocket client for tests (wsc.h). */
#include "wsc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct skytest_ws {
	int fd;
	unsigned char *buf; /* bytes read, not yet consumed */
	size_t len, cap;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read more bytes until `need` are buffered; 0, -1 timeout, -2 EOF. */
static int fill(skytest_ws *ws, size_t need, int64_t deadline)
{
	while (ws->len < need) {
		int left = (int)(deadline - now_ms());
		if (left <= 0)
			return -1;
		struct pollfd p = {ws->fd, POLLIN, 0};
		if (poll(&p, 1, left) <= 0)
			return -1;
		if (ws->cap - ws->len < 65536) {
			size_t nc = ws->cap ? ws->cap * 2 : 131072;
			unsigned char *nb = realloc(ws->buf, nc);
			if (!nb)
				return -2;
			ws->buf = nb;
			ws->cap = nc;
		}
		ssize_t n = read(ws->fd, ws->buf + ws->len, ws->cap - ws->len);
		if (n <= 0)
			return -2;
		ws->len += (size_t)n;
	}
	return 0;
}

static void consume(skytest_ws *ws, size_t n)
{
	memmove(ws->buf, ws->buf + n, ws->len - n);
	ws->len -= n;
}

skytest_ws *skytest_ws_connect(int port, const char *path, int *status)
{
	*status = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char req[4096];
	int n = snprintf(req, sizeof req,
	                 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
	                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	                 "Sec-WebSocket-Version: 13\r\n\r\n",
	                 path, port);
	skytest_ws *ws = calloc(1, sizeof *ws);
	ws->fd = fd;
	if (write(fd, req, (size_t)n) != n)
		goto fail;
	/* The answer's head, up to the blank line; what follows it is
	 * already the first frames. */
	int64_t deadline = now_ms() + 10000;
	size_t head = 0;
	while (!head) {
		if (fill(ws, ws->len + 1, deadline))
			break;
		for (size_t i = 0; i + 4 <= ws->len; i++)
			if (!memcmp(ws->buf + i, "\r\n\r\n", 4)) {
				head = i + 4;
				break;
			}
	}
	if (ws->len > 12 && !memcmp(ws->buf, "HTTP/1.1 ", 9))
		*status = atoi((char *)ws->buf + 9);
	if (*status != 101 || !head)
		goto fail;
	consume(ws, head);
	return ws;
fail:
	skytest_ws_close(ws);
	return NULL;
}

int skytest_ws_read(skytest_ws *ws, int timeout_ms, char **text,
                    int *close_code, char **close_reason)
{
	int64_t deadline = now_ms() + timeout_ms;
	*text = NULL;
	for (;;) {
		int rc = fill(ws, 2, deadline);
		if (rc == -2) {
			*close_code = 1006;
			*close_reason = NULL;
			return 0;
		}
		if (rc)
			return -1;
		int op = ws->buf[0] & 0x0f;
		uint64_t len = ws->buf[1] & 0x7f;
		size_t hdr = 2;
		if (len == 126) {
			if ((rc = fill(ws, 4, deadline)))
				return rc == -2 ? (*close_code = 1006, 0) : -1;
			len = (uint64_t)ws->buf[2] << 8 | ws->buf[3];
			hdr = 4;
		} else if (len == 127) {
			if ((rc = fill(ws, 10, deadline)))
				return rc == -2 ? (*close_code = 1006, 0) : -1;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | ws->buf[2 + i];
			hdr = 10;
		}
		if ((rc = fill(ws, hdr + (size_t)len, deadline))) {
			if (rc == -2) {
				*close_code = 1006;
				*close_reason = NULL;
				return 0;
			}
			return -1;
		}
		unsigned char *p = ws->buf + hdr;
		if (op == 1) {
			*text = malloc((size_t)len + 1);
			memcpy(*text, p, (size_t)len);
			(*text)[len] = '\0';
			consume(ws, hdr + (size_t)len);
			return 1;
		}
		if (op == 8) {
			*close_code = len >= 2 ? p[0] << 8 | p[1] : 1005;
			*close_reason =
			    len > 2 ? strndup((char *)p + 2, (size_t)len - 2)
			            : NULL;
			consume(ws, hdr + (size_t)len);
			return 0;
		}
		consume(ws, hdr + (size_t)len); /* ping, pong, binary */
	}
}

void skytest_ws_close(skytest_ws *ws)
{
	if (!ws)
		return;
	close(ws->fd);
	free(ws->buf);
	free(ws);
}
