/* Small helpers shared by the planner's files: cutting text, JSON for
 * prompts, URL checks. */
#include "planner/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <skyx/str.h>

char *sky_planner__cut(const char *s, size_t cap)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n <= cap)
		return skyx_strdup(s);
	size_t k = cap;
	/* Back up over continuation bytes to a character start. */
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	char *o = malloc(k + 4);
	if (!o)
		return NULL;
	memcpy(o, s, k);
	memcpy(o + k, "...", 4);
	return o;
}

char *sky_planner__json_text(const json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	return json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	                         JSON_ENCODE_ANY);
}

static int scheme_len(const char *u)
{
	if (!strncasecmp(u, "http://", 7))
		return 7;
	if (!strncasecmp(u, "https://", 8))
		return 8;
	return 0;
}

int sky_planner__url_ok(const char *url)
{
	if (!url)
		return 0;
	int sl = scheme_len(url);
	if (!sl)
		return 0;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= ' ' || *p == 0x7F)
			return 0;
	}
	const char *host = url + sl;
	size_t hl = strcspn(host, "/?#");
	/* userinfo@host:port */
	const char *at = memchr(host, '@', hl);
	if (at) {
		hl -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	if (!hl)
		return 0;
	const char *colon = NULL;
	if (host[0] == '[') {
		const char *rb = memchr(host, ']', hl);
		if (!rb)
			return 0;
		if ((size_t)(rb + 1 - host) < hl)
			colon = rb + 1;
		if (colon && *colon != ':')
			return 0;
	} else {
		colon = memchr(host, ':', hl);
		for (size_t i = 0; i < (colon ? (size_t)(colon - host) : hl);
		     i++) {
			unsigned char c = (unsigned char)host[i];
			if (!(isalnum(c) || c == '.' || c == '-' || c == '_' ||
			      c >= 0x80))
				return 0;
		}
		if (colon == host)
			return 0;
	}
	if (colon) {
		const char *pe = host + hl;
		long port = 0;
		if (colon + 1 == pe)
			return 0;
		for (const char *q = colon + 1; q < pe; q++) {
			if (!isdigit((unsigned char)*q))
				return 0;
			port = port * 10 + (*q - '0');
			if (port > 65535)
				return 0;
		}
		if (port == 0)
			return 0;
	}
	return 1;
}

char *sky_planner__url_resolve(const char *base, const char *ref)
{
	if (!ref)
		return NULL;
	if (scheme_len(ref) || !base || !scheme_len(base))
		return skyx_strdup(ref);
	/* A different scheme ("javascript:", "mailto:") stays as it is and
	 * fails validation later. */
	const char *c = ref;
	while (isalnum((unsigned char)*c) || *c == '+' || *c == '-' ||
	       *c == '.')
		c++;
	if (*c == ':' && c != ref)
		return skyx_strdup(ref);
	int sl = scheme_len(base);
	const char *host = base + sl;
	size_t hl = strcspn(host, "/?#");
	if (ref[0] == '/' && ref[1] == '/')
		return skyx_asprintf("%.*s%s", sl - 2, base, ref);
	if (ref[0] == '/')
		return skyx_asprintf("%.*s%s", (int)(sl + hl), base, ref);
	const char *path_end = host + hl + strcspn(host + hl, "?#");
	if (ref[0] == '#')
		return skyx_asprintf(
		    "%.*s%s", (int)(host + hl + strcspn(host + hl, "#") - base),
		    base, ref);
	if (ref[0] == '?')
		return skyx_asprintf("%.*s%s", (int)(path_end - base), base,
		                     ref);
	/* Relative path: replace the last segment of the base path. */
	const char *dir_end = path_end;
	while (dir_end > host + hl && dir_end[-1] != '/')
		dir_end--;
	if (dir_end == host + hl)
		return skyx_asprintf("%.*s/%s", (int)(sl + hl), base, ref);
	return skyx_asprintf("%.*s%s", (int)(dir_end - base), base, ref);
}
