/*
 * A small HTTP/1.1 server on 127.0.0.1 for tests: fixture sites, fake
 * model APIs, webhook receivers, proxies' targets. One thread per
 * connection, keep-alive, and fault knobs (delays, truncation, abrupt
 * close) so clients can be tested against misbehaving peers. It is test
 * code: simple and blocking, not the product server.
 */
#ifndef SKYTEST_HTTPD_H
#define SKYTEST_HTTPD_H

#include <stddef.h>

typedef struct skytest_httpd skytest_httpd;

typedef struct skytest_header {
	char *name; /* lower-case */
	char *value;
} skytest_header;

/* A request as received (valid during the handler call). */
typedef struct skytest_req {
	const char *method;
	const char *path;  /* without the query */
	const char *query; /* after '?', "" when none */
	const skytest_header *headers;
	size_t n_headers;
	const char *body; /* NUL-terminated */
	size_t body_len;
	const char *raw_head; /* request line + headers, as received */
	long seq;             /* 0, 1, 2 ... across the server's life */
} skytest_req;

/* The response a handler fills. Zero means the defaults. */
typedef struct skytest_resp {
	int status;         /* default 200 */
	char *content_type; /* default "text/html; charset=utf-8" */
	char *headers;      /* extra "Name: value\r\n" lines, malloc'd */
	char *body;         /* malloc'd; may contain NULs (body_len) */
	size_t body_len;
	/* fault knobs */
	int delay_ms;      /* sleep before answering */
	int body_delay_ms; /* sleep between head and body */
	int drop;          /* close the connection without answering */
	long truncate_to;  /* >= 0: send only this many body bytes, close */
	int chunked;       /* send the body with chunked encoding */
	int close;         /* close after this response */
} skytest_resp;

typedef void (*skytest_handler)(const skytest_req *req, skytest_resp *resp,
                                void *userdata);

/* Start on 127.0.0.1 with an ephemeral port. NULL on failure. */
skytest_httpd *skytest_httpd_start(skytest_handler handler, void *userdata);
/* Stop: closes the listener and every connection, joins threads. */
void skytest_httpd_stop(skytest_httpd *h);
int skytest_httpd_port(const skytest_httpd *h);
/* "http://127.0.0.1:PORT" (borrowed). */
const char *skytest_httpd_url(const skytest_httpd *h);
/* Requests handled so far. */
long skytest_httpd_count(const skytest_httpd *h);

/* Helpers for handlers. */
const char *skytest_req_header(const skytest_req *req, const char *name);
/* Value of a query parameter, malloc'd (URL-decoded), or NULL. */
char *skytest_req_query(const skytest_req *req, const char *name);
void skytest_resp_text(skytest_resp *resp, int status, const char *ctype,
                       const char *body);
void skytest_resp_header(skytest_resp *resp, const char *name,
                         const char *value);
/* Serve `root`/path (index.html for directories) with a type from the
 * extension; returns 1 when a file was served, 0 when none exists. */
int skytest_resp_file(skytest_resp *resp, const char *root, const char *path);

#endif
