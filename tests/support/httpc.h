/*
 * A raw HTTP/1.1 client for tests: sends exactly the bytes asked for (so
 * malformed, oversized, slow and half-closed requests can be tested) and
 * reads one response. Blocking sockets on 127.0.0.1, bounded by timeouts.
 */
#ifndef SKYTEST_HTTPC_H
#define SKYTEST_HTTPC_H

#include <stddef.h>

typedef struct skytest_hc_resp {
	int status; /* 0 when no response arrived */
	char *head; /* status line + headers */
	char *body; /* NUL-terminated */
	size_t body_len;
} skytest_hc_resp;

/* Send `raw` (len bytes) to 127.0.0.1:port and read one response
 * (Content-Length, chunked or until close). timeout_ms bounds it. */
int skytest_hc_raw(int port, const char *raw, size_t len, int timeout_ms,
                   skytest_hc_resp *out);

/* A well-formed request. headers: "Name: value\r\n" lines or NULL. */
int skytest_hc(int port, const char *method, const char *path,
               const char *headers, const char *body, skytest_hc_resp *out);

/* Value of a response header (case-insensitive), malloc'd, or NULL. */
char *skytest_hc_header(const skytest_hc_resp *r, const char *name);
void skytest_hc_free(skytest_hc_resp *r);

#endif
