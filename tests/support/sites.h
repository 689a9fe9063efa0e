/*
 * The grading fixture server for the site corpus (tests/sites/<name>/):
 * serves each site at /<name>/..., records every request a site receives,
 * implements the few server-side behaviours a site declares in its
 * server.json, and grades a site's task.json "expect" against what the
 * server saw (plus the run's final status and output). Test code.
 *
 * server.json: {"routes": [{"method": "POST", "path": "/login", ...}]}
 * A route matches by method (optional) and exact site-relative path,
 * and, when it has them, by "query": {"name": "value"} (the request's
 * query parameter equals value, trimmed, case-insensitive; a missing
 * parameter reads as "") and "query_contains": {"name": "part"} (the
 * parameter contains part, case-insensitive): a search box or a "page=2"
 * link is served from different files by listing the specific routes
 * first and a catch-all route for the same path after them. A route
 * may carry, checked in this order:
 *   "require_login": "page"     no session cookie -> 303 to page
 *   "require_verified": "page"  session not verified (TOTP) -> 303 to page
 *   "login": {"fields": {..}, "redirect": "page", "failure_redirect":
 *            "page", "pending": bool}  on matching fields, start a session
 *            (cookie), verified unless "pending"; 303 either way
 *   "totp": {"field": "otp", "secret_base32": "...", "redirect": "page",
 *            "failure_redirect": "page"}  RFC 6238 (SHA-1, 6 digits, 30 s,
 *            +-1 window); success verifies the session
 *   "download": {"file": "f", "filename": "n", "content_type": "t"}
 *            served with Content-Disposition: attachment
 *   "json": value   answered as application/json
 *   "respond": "page" (with optional "status")
 *   "redirect": "page"  303
 *   "status": code  (alone: an empty answer with that status)
 * Without a matching behaviour a request is served from the folder (a POST
 * to an existing file answers the file, so static "thank you" pages work).
 * task.json and server.json are never served.
 *
 * task.json "expect" (every key present must hold):
 *   "status": "completed" | "terminated" | ...   the run's final status
 *   "reason_contains": ["..."]     substrings of failure_reason (no case)
 *   "errors": ["CODE"]             error codes the run surfaced
 *   "output": value                deep-equal to the run's output
 *   "requests": [{"method", "path", "query": {..}, "fields": {..},
 *                 "files": {"field": {"filename", "size"}},
 *                 "absent_fields": [..], "logged_in": true}]
 *                 each received, in this order; a field value may be an
 *                 array (a multi-valued field, compared as a set) or
 *                 {"contains": ["..", ..]} (a free-text field: each part
 *                 is a case-insensitive substring of the value sent)
 *   "no_requests": [{"method"?, "path"?}]  none of these received
 */
#ifndef SKYTEST_SITES_H
#define SKYTEST_SITES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct skytest_sites skytest_sites;

/*
 * Serve every folder of `root` that has a task.json. Returns NULL and a
 * malloc'd *err when the corpus is unreadable or a server.json/task.json
 * is invalid.
 */
skytest_sites *skytest_sites_start(const char *root, char **err);
void skytest_sites_stop(skytest_sites *s);

/* "http://127.0.0.1:PORT" (borrowed). */
const char *skytest_sites_base(const skytest_sites *s);
size_t skytest_sites_count(const skytest_sites *s);
/* Site names in sorted order (borrowed). */
const char *skytest_sites_name(const skytest_sites *s, size_t i);
/* Absolute folder of a site (borrowed), NULL when unknown. */
const char *skytest_sites_dir(const skytest_sites *s, const char *name);

/*
 * A copy of the site's task.json with "{{site_dir}}" and "{{base_url}}"
 * replaced in every string and "url" made absolute
 * (http://127.0.0.1:PORT/<name>/<url>). New reference, NULL when unknown.
 */
json_t *skytest_sites_task(const skytest_sites *s, const char *name);

/*
 * What the site received so far: a new JSON array of
 * {"seq", "method", "path" (site-relative), "query": {..}, "fields": {..},
 *  "files": {field: {"filename", "size", "content_type"}},
 *  "logged_in": bool, "verified": bool}
 * where a repeated name becomes an array of its values.
 */
json_t *skytest_sites_requests(skytest_sites *s, const char *name);
/* Forget a site's requests and sessions (before running it again). */
void skytest_sites_reset(skytest_sites *s, const char *name);

/*
 * Grade a site: its task's expect against its recorded requests and the
 * run's `outcome` {"status", "failure_reason", "output", "errors": [{
 * "error_code"}]} (may be NULL when the expectation is server-side only).
 * Returns 1 pass, 0 fail, -1 unknown site; *why (malloc'd) says which
 * check failed and what was seen instead, or summarises the pass.
 */
int skytest_sites_grade(skytest_sites *s, const char *name,
                        const json_t *outcome, char **why);

/* The grader itself, over explicit inputs. */
int skytest_sites_grade_expect(const json_t *expect, const json_t *requests,
                               const json_t *outcome, char **why);

/* The fields of an application/x-www-form-urlencoded body, as recorded
 * requests hold them (a repeated name becomes an array). New reference. */
json_t *skytest_sites_form_fields(const char *body);

/* RFC 6238 code (SHA-1, 6 digits, 30 s step) for `unix_time`; 0 or -1. */
/* 1 when `name` is in the comma-separated `list`, or the list is NULL or
 * empty (a run limited to some sites by an environment variable). */
int skytest_sites_selected(const char *list, const char *name);

/* The Tasks API request (JSON text, malloc'd) for a site's task.json:
 * goal, url, engine (`engine` when non-empty, else the task's, else
 * skyvern-1.0), no proxy, and the task's max_steps, schema, payload and
 * error codes. */
char *skytest_sites_request(const json_t *task, const char *engine);

int skytest_sites_totp(const char *secret_base32, int64_t unix_time,
                       char out[7]);

/* A blocking HTTP/1.1 client for loopback tests (one request per
 * connection). */
typedef struct skytest_http_resp {
	int status;
	char *headers; /* raw header block, lines "Name: value\r\n" */
	char *body;
	size_t body_len;
} skytest_http_resp;

/* `headers` are extra "Name: value\r\n" lines (may be NULL). 0 or -1. */
int skytest_http(const char *method, const char *url, const char *headers,
                 const char *body, size_t body_len, skytest_http_resp *out);
void skytest_http_resp_free(skytest_http_resp *r);
/* Value of a response header (case-insensitive), malloc'd, or NULL. */
char *skytest_http_header(const skytest_http_resp *r, const char *name);

#endif
