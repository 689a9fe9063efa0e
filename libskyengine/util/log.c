/* The log sink, its level, and the secret registry used to redact. */
#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ctype.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static sky_log_fn log_fn;
static void *log_ud;
static int log_level = -1; /* -1: not yet read from the environment */

static int level_from_env(void)
{
	const char *s = getenv("SKYENGINE_LOG");
	if (!s || !*s)
		return SKY_LOG_WARN;
	for (int l = SKY_LOG_ERROR; l <= SKY_LOG_TRACE; l++)
		if (!strcasecmp(s, sky_log_level_name((sky_log_level)l)))
			return l;
	return SKY_LOG_WARN;
}

const char *sky_log_level_name(sky_log_level level)
{
	static const char *names[] = {"error", "warn", "info", "debug",
	                              "trace"};
	if ((int)level < 0 || level > SKY_LOG_TRACE)
		return "?";
	return names[level];
}

void sky_log_set(sky_log_fn fn, sky_log_level max_level, void *userdata)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_ud = userdata;
	log_level = fn ? (int)max_level : level_from_env();
	pthread_mutex_unlock(&log_lock);
}

int sky_log_enabled(sky_log_level level)
{
	int cur = __atomic_load_n(&log_level, __ATOMIC_RELAXED);
	if (cur < 0) {
		pthread_mutex_lock(&log_lock);
		if (log_level < 0)
			log_level = level_from_env();
		cur = log_level;
		pthread_mutex_unlock(&log_lock);
	}
	return (int)level <= cur;
}

static void default_sink(sky_log_level level, const char *component,
                         const char *msg)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] %s\n",
	        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	        tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	        sky_log_level_name(level), component ? component : "-", msg);
}

void sky_logv(sky_log_level level, const char *component, const char *fmt,
              va_list ap)
{
	char buf[4096];
	if (!sky_log_enabled(level))
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
	for (char *p = buf; *p; p++) /* one line per call */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	char *clean = sky_redact(buf);
	const char *line = clean ? clean : "[log line dropped: out of memory]";
	pthread_mutex_lock(&log_lock);
	sky_log_fn fn = log_fn;
	void *ud = log_ud;
	pthread_mutex_unlock(&log_lock);
	if (fn)
		fn(level, component, line, ud);
	else
		default_sink(level, component, line);
	free(clean);
}

void sky_log(sky_log_level level, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sky_logv(level, component, fmt, ap);
	va_end(ap);
}

/* --- secrets ------------------------------------------------------------ */

struct secret {
	char *s;
	size_t len;
	int refs;
};

static pthread_rwlock_t sec_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct secret *secrets;
static size_t n_secrets, cap_secrets;

void sky_secret_register(const char *secret)
{
	if (!secret || strlen(secret) < 4)
		return;
	pthread_rwlock_wrlock(&sec_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		if (!strcmp(secrets[i].s, secret)) {
			secrets[i].refs++;
			goto out;
		}
	}
	if (n_secrets == cap_secrets) {
		size_t nc = cap_secrets ? cap_secrets * 2 : 16;
		struct secret *ns = realloc(secrets, nc * sizeof *ns);
		if (!ns)
			goto out;
		secrets = ns;
		cap_secrets = nc;
	}
	secrets[n_secrets].s = strdup(secret);
	if (secrets[n_secrets].s) {
		secrets[n_secrets].len = strlen(secret);
		secrets[n_secrets].refs = 1;
		n_secrets++;
	}
out:
	pthread_rwlock_unlock(&sec_lock);
}

void sky_secret_unregister(const char *secret)
{
	if (!secret)
		return;
	pthread_rwlock_wrlock(&sec_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		if (strcmp(secrets[i].s, secret))
			continue;
		if (--secrets[i].refs == 0) {
			free(secrets[i].s);
			secrets[i] = secrets[--n_secrets];
		}
		break;
	}
	pthread_rwlock_unlock(&sec_lock);
}

void sky_secret_clear_all(void)
{
	pthread_rwlock_wrlock(&sec_lock);
	for (size_t i = 0; i < n_secrets; i++)
		free(secrets[i].s);
	free(secrets);
	secrets = NULL;
	n_secrets = cap_secrets = 0;
	pthread_rwlock_unlock(&sec_lock);
}

static const char REDACTED[] = "[REDACTED]";

/* Mask the value after a credential-looking prefix, up to a delimiter. */
static void mask_after(char *s, const char *prefix, int ci)
{
	size_t pl = strlen(prefix);
	for (char *p = s; *p; p++) {
		if (ci ? strncasecmp(p, prefix, pl) : strncmp(p, prefix, pl))
			continue;
		if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue; /* "task-..." is not an "sk-" key */
		char *v = p + pl;
		char *e = v;
		while (*e && *e != ' ' && *e != '"' && *e != '\'' &&
		       *e != ',' && *e != '&' && *e != ';')
			e++;
		if (e - v >= 8)
			memset(v, '*', (size_t)(e - v));
		p = e - 1;
		if (!*e)
			break;
	}
}

/* user:password@host in URLs: mask the password. */
static void mask_url_passwords(char *s)
{
	for (char *p = strstr(s, "://"); p; p = strstr(p + 3, "://")) {
		char *h = p + 3;
		char *at = NULL, *colon = NULL;
		for (char *q = h; *q && *q != '/' && *q != ' ' && *q != '"';
		     q++) {
			if (*q == ':' && !colon)
				colon = q;
			if (*q == '@')
				at = q;
		}
		if (at && colon && colon < at)
			memset(colon + 1, '*', (size_t)(at - colon - 1));
	}
}

char *sky_redact(const char *in)
{
	if (!in)
		return NULL;
	size_t cap = strlen(in) + 1;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	memcpy(out, in, cap);
	pthread_rwlock_rdlock(&sec_lock);
	for (size_t i = 0; i < n_secrets; i++) {
		const struct secret *sec = &secrets[i];
		char *hit = strstr(out, sec->s);
		while (hit) {
			size_t off = (size_t)(hit - out);
			size_t rest = strlen(hit + sec->len);
			size_t need = off + sizeof REDACTED - 1 + rest + 1;
			if (need > cap) {
				char *n = realloc(out, need);
				if (!n)
					break;
				out = n;
				cap = need;
				hit = out + off;
			}
			memmove(hit + sizeof REDACTED - 1, hit + sec->len,
			        rest + 1);
			memcpy(hit, REDACTED, sizeof REDACTED - 1);
			hit = strstr(hit + sizeof REDACTED - 1, sec->s);
		}
	}
	pthread_rwlock_unlock(&sec_lock);
	mask_after(out, "Bearer ", 1);
	mask_after(out, "x-api-key: ", 1);
	mask_after(out, "sk-", 0);
	mask_url_passwords(out);
	return out;
}
