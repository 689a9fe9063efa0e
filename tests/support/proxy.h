/*
 * A small HTTP forward proxy on 127.0.0.1 for tests: Basic proxy
 * authentication (407 with a challenge first, as Chromium expects),
 * absolute-URI requests and CONNECT tunnels to loopback origins only, a
 * "Via: 1.1 skytest-proxy" header on what it forwards, and counters.
 * Plus a raw-socket client to drive it (and any loopback server) byte by
 * byte. Test code: threads and blocking sockets, like httpd.c.
 */
#ifndef SKYTEST_PROXY_H
#define SKYTEST_PROXY_H

#include <stddef.h>

typedef struct skytest_proxy skytest_proxy;

typedef struct skytest_proxy_stats {
	long total;         /* requests received, CONNECT included */
	long challenged;    /* answered 407 (credentials missing or wrong) */
	long authenticated; /* carried the right credentials */
	long refused;       /* answered 403: the target is not loopback */
	long forwarded;     /* relayed to an origin or tunnelled */
} skytest_proxy_stats;

/*
 * Start on 127.0.0.1 with an ephemeral port. With `user` non-NULL every
 * request must carry "Proxy-Authorization: Basic base64(user:pass)"
 * (pass NULL means empty); with NULL, none is asked for. NULL on failure.
 */
skytest_proxy *skytest_proxy_start(const char *user, const char *pass);
/* Stop: closes the listener, every connection and tunnel; joins. */
void skytest_proxy_stop(skytest_proxy *p);
int skytest_proxy_port(const skytest_proxy *p);
/* "http://127.0.0.1:PORT" (borrowed). */
const char *skytest_proxy_url(const skytest_proxy *p);
void skytest_proxy_stats_get(skytest_proxy *p, skytest_proxy_stats *out);
/* Requests forwarded or tunnelled to "host:port" as the client named it
 * ("127.0.0.1:8080"). */
long skytest_proxy_host_count(skytest_proxy *p, const char *hostport);
/* Every host:port forwarded to, first-seen order, one per line;
 * malloc'd ("" when none). */
char *skytest_proxy_hosts(skytest_proxy *p);

/* ---- raw client -------------------------------------------------------- */

/* A blocking TCP connection to 127.0.0.1:port; fd or -1. */
int skytest_raw_connect(int port);
/* Send all of s; 0 or -1. */
int skytest_raw_send(int fd, const char *s, size_t len);
/*
 * Read one HTTP response: the head, then a Content-Length body, a chunked
 * body (kept encoded) or, without either, everything until the peer
 * closes. NULL on timeout, error or close before a head. malloc'd and
 * NUL-terminated; *len (may be NULL) excludes the NUL.
 */
char *skytest_raw_read_response(int fd, int timeout_ms, size_t *len);
/* Read only a response head (what a CONNECT is answered with); as
 * above. */
char *skytest_raw_read_head(int fd, int timeout_ms);
/* One request on a fresh connection, its response (as above); NULL on
 * failure. */
char *skytest_raw_request(int port, const char *request, int timeout_ms);
/* Status code of a raw response ("HTTP/1.1 407 ..." -> 407), or -1. */
int skytest_raw_status(const char *response);
/* Value of a header in a raw response or request head (case-insensitive
 * name), malloc'd, or NULL. */
char *skytest_raw_header(const char *head, const char *name);
/* The body of a raw response (after the blank line), borrowed. */
const char *skytest_raw_body(const char *response);

#endif
