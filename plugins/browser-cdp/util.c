/* browser-cdp: small helpers (errors, strings, JSON, files, hashing) that
 * the plugin cannot borrow from libskyengine, which it never links. */
#include "cdp.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static __thread int err_code;
static __thread char err_msg[1024];

int cdp_fail(int code, const char *fmt, ...)
{
	char tmp[sizeof err_msg];
	va_list ap;
	/* the message may quote the previous one (cdp_errmsg()) */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	memcpy(err_msg, tmp, sizeof tmp);
	err_code = code;
	return code;
}

const char *cdp_errmsg(void)
{
	return err_code ? err_msg : "unknown error";
}

int cdp_errcode(void)
{
	return err_code;
}

void cdp_err_clear(void)
{
	err_code = 0;
	err_msg[0] = '\0';
}

void cdp_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (!cdp_host || !cdp_host->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	cdp_host->log(NULL, level, CDP_COMPONENT, "%s", line);
}

static void buf_grow(cdp_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p)
		abort(); /* the plugin has no way to limp on without memory */
	b->data = p;
	b->cap = cap;
}

void cdp_buf_add(cdp_buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void cdp_buf_puts(cdp_buf *b, const char *s)
{
	cdp_buf_add(b, s, strlen(s));
}

void cdp_buf_printf(cdp_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
}

void cdp_buf_free(cdp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *cdp_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *cdp_asprintf(const char *fmt, ...)
{
	char *out = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}

int64_t cdp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cdp_deadline(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	if (ms < 0)
		ms = 0;
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

char *cdp_json_dumps(const json_t *v)
{
	return json_dumps(v,
	                  JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

const char *cdp_jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

long long cdp_jint(const json_t *o, const char *key, long long dflt)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return dflt;
}

double cdp_jnum(const json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

int cdp_jbool(const json_t *o, const char *key, int dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int cdp_mkdir_p(const char *path)
{
	char *p = cdp_strdup(path);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int cdp_rm_rf(const char *path)
{
	if (!path || !*path || !strcmp(path, "/"))
		return -1;
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

json_t *cdp_ok(void)
{
	return json_pack("{s:b}", "success", 1);
}

json_t *cdp_failure(const char *kind, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return json_pack("{s:b,s:s,s:s}", "success", 0, "error", kind,
	                 "message", msg);
}
