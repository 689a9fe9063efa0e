/* Helpers shared by the HTTP LLM provider plugins (see llm_common.h). */
#ifndef _GNU_SOURCE
#	define _GNU_SOURCE
#endif
#include "llm_common.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <skyengine/plugin/errors.h>

const sky_host_api *llmc_api;

int llmc_fail(char **err, int code, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (err)
		*err = llmc_api->strdup(buf);
	return code;
}

char *llmc_host_strdup(const char *s)
{
	return s ? llmc_api->strdup(s) : NULL;
}

/* --- configuration -------------------------------------------------------- */

char *llmc_cfg(const sky_host_ctx *host, json_t *cfg, const char *key)
{
	json_t *v = json_object_get(cfg, key);
	char *out = NULL;
	if (json_is_string(v)) {
		if (*json_string_value(v))
			out = strdup(json_string_value(v));
	} else if (v && !json_is_null(v)) {
		out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	} else {
		char full[128];
		snprintf(full, sizeof full, "llm.%s", key);
		char *h = llmc_api->config_get(host, full);
		if (h && *h)
			out = strdup(h);
		llmc_api->free(h);
	}
	return out;
}

int llmc_cfg_int(const sky_host_ctx *host, json_t *cfg, const char *key,
                 long dflt, long *out, char **err)
{
	char *v = llmc_cfg(host, cfg, key), *end;
	*out = dflt;
	if (!v)
		return 0;
	errno = 0;
	long n = strtol(v, &end, 10);
	int bad = errno || end == v || *end || n < 0;
	free(v);
	if (bad)
		return llmc_fail(err, -1,
		                 "config llm.%s must be a non-negative integer",
		                 key);
	*out = n;
	return 0;
}

int llmc_cfg_bool(const sky_host_ctx *host, json_t *cfg, const char *key,
                  int dflt, int *out, char **err)
{
	char *v = llmc_cfg(host, cfg, key);
	*out = dflt;
	if (!v)
		return 0;
	if (!strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0") ||
	         !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		*out = 0;
	else {
		free(v);
		return llmc_fail(err, -1, "config llm.%s must be true or false",
		                 key);
	}
	free(v);
	return 0;
}

int llmc_cfg_object(const sky_host_ctx *host, json_t *cfg, const char *key,
                    json_t **out, char **err)
{
	json_t *v = json_object_get(cfg, key);
	*out = NULL;
	if (json_is_object(v)) {
		*out = json_incref(v);
		return 0;
	}
	if (v && !json_is_null(v))
		return llmc_fail(err, -1, "config llm.%s must be an object",
		                 key);
	char *text = llmc_cfg(host, cfg, key);
	if (!text)
		return 0;
	json_t *parsed = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(parsed)) {
		json_decref(parsed);
		return llmc_fail(err, -1, "config llm.%s must be a JSON object",
		                 key);
	}
	*out = parsed;
	return 0;
}

int llmc_retry_config(const sky_host_ctx *host, json_t *cfg, llmc_retry *r,
                      char **err)
{
	long v;
	if (llmc_cfg_int(host, cfg, "max_retries", 3, &v, err))
		return -1;
	r->max_retries = (int)(v > 20 ? 20 : v);
	if (llmc_cfg_int(host, cfg, "retry_base_ms", 1000, &v, err))
		return -1;
	r->base_ms = (int)v;
	if (llmc_cfg_int(host, cfg, "retry_max_ms", 30000, &v, err))
		return -1;
	r->max_backoff_ms = (int)v;
	if (llmc_cfg_int(host, cfg, "retry_after_max_ms", 60000, &v, err))
		return -1;
	r->retry_after_max_ms = (int)v;
	if (llmc_cfg_int(host, cfg, "request_timeout_ms", 0, &v, err))
		return -1;
	r->attempt_timeout_ms = (int)v;
	return 0;
}

/* --- HTTP with retries ------------------------------------------------------- */

const char *llmc_header(const sky_http_response *r, const char *name)
{
	for (size_t i = 0; r && i < r->n_headers; i++)
		if (!strcmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static int retryable_status(int s)
{
	return s == 408 || s == 409 || s == 429 || s >= 500;
}

static int retryable_code(int rc)
{
	return rc == SKY_ETIMEDOUT || rc == SKY_ECONNREFUSED || rc == SKY_EHTTP;
}

/* The server's requested delay in ms, or -1. */
static long server_delay_ms(const sky_http_response *r)
{
	const char *ms = llmc_header(r, "retry-after-ms");
	const char *ra = llmc_header(r, "retry-after");
	char *end;
	if (ms) {
		double v = strtod(ms, &end);
		if (end != ms && v >= 0)
			return (long)v;
	}
	if (!ra)
		return -1;
	while (isspace((unsigned char)*ra))
		ra++;
	if (isdigit((unsigned char)*ra)) {
		double v = strtod(ra, &end);
		return end != ra && v >= 0 ? (long)(v * 1000) : -1;
	}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *rest = strptime(ra, "%a, %d %b %Y %H:%M:%S", &tm);
	if (!rest)
		return -1;
	time_t when = timegm(&tm), now = time(NULL);
	return when > now ? (long)(when - now) * 1000 : 0;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int llmc_post_json(const llmc_post *p, sky_http_response **out, int *attempts,
                   char **err)
{
	const llmc_retry *rp = p->retry;
	int64_t deadline = llmc_api->now_ms() + p->timeout_ms;
	uint64_t seed = (uint64_t)llmc_api->now_ms() * 2654435761u ^
	                (uint64_t)(uintptr_t)&seed;
	char last_err[512] = "";
	int rc = 0;

	*out = NULL;
	*attempts = 0;
	for (int attempt = 0;; attempt++) {
		int64_t left = deadline - llmc_api->now_ms();
		sky_http_response *resp = NULL;
		char *herr = NULL;
		sky_http_request req = {.version = SKY_HTTP_REQUEST_VERSION};

		if (left <= 0) {
			if (!last_err[0])
				return llmc_fail(
				    err, SKY_ETIMEDOUT,
				    "%s: no time left for the call",
				    p->provider);
			return llmc_fail(err, rc ? rc : SKY_ETIMEDOUT,
			                 "%s: gave up after %d attempt%s: %s",
			                 p->provider, attempt,
			                 attempt == 1 ? "" : "s", last_err);
		}
		req.method = "POST";
		req.url = p->url;
		req.headers = p->headers;
		req.n_headers = p->n_headers;
		req.body = p->body;
		req.body_len = p->body_len;
		req.timeout_ms = (int)left;
		if (rp->attempt_timeout_ms > 0 && rp->attempt_timeout_ms < left)
			req.timeout_ms = rp->attempt_timeout_ms;
		req.max_response_bytes = p->max_response_bytes;
		req.use_env_proxy = p->use_env_proxy;
		*attempts = attempt + 1;
		rc = llmc_api->http_request(p->host, &req, &resp, &herr);

		long delay = -1;
		if (rc == 0 && !retryable_status(resp->status)) {
			*out = resp;
			return 0;
		}
		if (rc == 0) {
			const char *should =
			    llmc_header(resp, "x-should-retry");
			char *why = llmc_error_text(resp);
			snprintf(last_err, sizeof last_err, "HTTP %d%s%s",
			         resp->status, why && *why ? ": " : "",
			         why ? why : "");
			free(why);
			delay = server_delay_ms(resp);
			if (delay > rp->retry_after_max_ms) {
				llmc_api->log(p->host, SKY_HOST_LOG_WARN,
				              p->provider,
				              "server asked to retry after %ld "
				              "ms; capped at %d ms",
				              delay, rp->retry_after_max_ms);
				delay = rp->retry_after_max_ms;
			}
			if ((should && !strcasecmp(should, "false")) ||
			    attempt >= rp->max_retries) {
				*out = resp; /* the caller maps the status */
				return 0;
			}
		} else {
			snprintf(last_err, sizeof last_err, "%s",
			         herr ? herr : "transport error");
			llmc_api->free(herr);
			if (!retryable_code(rc) || attempt >= rp->max_retries)
				return llmc_fail(
				    err, rc, "%s: %s (after %d attempt%s)",
				    p->provider, last_err, attempt + 1,
				    attempt ? "s" : "");
		}
		if (delay < 0) {
			long d = rp->base_ms;
			for (int i = 0; i < attempt && d < rp->max_backoff_ms;
			     i++)
				d *= 2;
			if (d > rp->max_backoff_ms)
				d = rp->max_backoff_ms;
			/* "equal jitter": half fixed, half random */
			delay = d / 2 + (d > 1 ? (long)(rng_next(&seed) %
			                                (uint64_t)(d / 2 + 1))
			                       : 0);
		}
		left = deadline - llmc_api->now_ms();
		if (delay >= left) {
			llmc_api->log(
			    p->host, SKY_HOST_LOG_WARN, p->provider,
			    "attempt %d failed (%s); no time left for "
			    "another (next in %ld ms, %lld ms left)",
			    attempt + 1, last_err, delay, (long long)left);
			if (resp) {
				*out = resp;
				return 0;
			}
			return llmc_fail(err, rc,
			                 "%s: %s (after %d attempt%s; no time "
			                 "left to retry)",
			                 p->provider, last_err, attempt + 1,
			                 attempt ? "s" : "");
		}
		llmc_api->http_response_free(resp);
		llmc_api->log(p->host, SKY_HOST_LOG_INFO, p->provider,
		              "attempt %d failed (%s); retrying in %ld ms",
		              attempt + 1, last_err, delay);
		sleep_ms(delay);
	}
}

/* --- errors -------------------------------------------------------------------- */

static char *one_line(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		n = max;
	char *o = malloc(n + 4);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] =
		    (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
	if (strlen(s) > max)
		memcpy(o + n, "...", 4);
	else
		o[n] = '\0';
	return o;
}

char *llmc_error_text(const sky_http_response *r)
{
	json_t *root = r && r->body_len ? json_loads(r->body, 0, NULL) : NULL;
	const char *msg = NULL;
	char *out;
	if (json_is_object(root)) {
		json_t *e = json_object_get(root, "error");
		if (json_is_object(e))
			msg = json_string_value(json_object_get(e, "message"));
		else if (json_is_string(e))
			msg = json_string_value(e);
		if (!msg)
			msg =
			    json_string_value(json_object_get(root, "message"));
		if (!msg)
			msg =
			    json_string_value(json_object_get(root, "detail"));
	}
	out = one_line(msg ? msg : r && r->body ? r->body : "", 300);
	json_decref(root);
	return out;
}

int llmc_status_error(const char *provider, const sky_http_response *r,
                      int attempts, const char *model, const char *url,
                      const char *key_hint, char **err)
{
	char *why = llmc_error_text(r);
	const char *w = why && *why ? why : "(no message)";
	int s = r->status, rc;
	if (s == 401 || s == 403)
		rc = llmc_fail(err, SKY_EAUTH,
		               "%s: authentication refused (%d) by %s: %s; %s",
		               provider, s, url, w, key_hint);
	else if (s == 404)
		rc = llmc_fail(err, SKY_ENOTFOUND,
		               "%s: model '%s' not found (404 from %s): %s",
		               provider, model, url, w);
	else if (s == 429)
		rc = llmc_fail(err, SKY_ERATELIMIT,
		               "%s: rate limited (429) after %d attempt%s: %s",
		               provider, attempts, attempts == 1 ? "" : "s", w);
	else if (s >= 500)
		rc = llmc_fail(
		    err, SKY_ELLM, "%s: server error %d after %d attempt%s: %s",
		    provider, s, attempts, attempts == 1 ? "" : "s", w);
	else
		rc = llmc_fail(err, SKY_ELLM, "%s: request rejected (%d): %s",
		               provider, s, w);
	free(why);
	return rc;
}

/* --- small helpers ---------------------------------------------------------------- */

char *llmc_join_url(const char *base, const char *path)
{
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		bl--;
	while (*path == '/')
		path++;
	char *o = malloc(bl + strlen(path) + 2);
	if (!o)
		return NULL;
	memcpy(o, base, bl);
	o[bl] = '/';
	strcpy(o + bl + 1, path);
	return o;
}
