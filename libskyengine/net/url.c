/* Splitting http(s) URLs and the no_proxy / loopback checks of the HTTP
 * client (see url.h). */
#include "net/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "util/str.h"

void sky_url_clear(sky_url *u)
{
	if (!u)
		return;
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof *u);
}

static int host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int parse_port(const char *s, size_t n, int *port)
{
	long v = 0;
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int sky_url_parse(const char *url, sky_url *out)
{
	const char *p, *auth_end, *host_end;
	memset(out, 0, sizeof *out);
	if (!url || !*url)
		return sky_error_set(SKY_EINVALID, "URL is empty");
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return sky_error_set(SKY_EINVALID,
			                     "URL contains whitespace or a "
			                     "control character");
	if (!strncasecmp(url, "https://", 8)) {
		out->tls = 1;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		return sky_error_set(SKY_EINVALID,
		                     "URL must start with http:// or https://");
	}
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)))
		return sky_error_set(SKY_EINVALID,
		                     "credentials in the URL are not supported "
		                     "(send them in a header)");
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(auth_end - p));
		char tmp[INET6_ADDRSTRLEN];
		struct in6_addr a6;
		size_t hl = rb ? (size_t)(rb - p - 1) : 0;
		if (!rb || hl == 0 || hl >= sizeof tmp)
			return sky_error_set(SKY_EINVALID,
			                     "URL has a malformed IPv6 host");
		memcpy(tmp, p + 1, hl);
		tmp[hl] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			return sky_error_set(SKY_EINVALID,
			                     "URL has a malformed IPv6 host");
		out->host = sky_strdup(tmp);
		host_end = rb + 1;
	} else {
		host_end = p;
		while (host_end < auth_end && *host_end != ':')
			host_end++;
		if (host_end == p)
			return sky_error_set(SKY_EINVALID, "URL has no host");
		for (const char *q = p; q < host_end; q++)
			if (!host_char_ok(*q))
				return sky_error_set(
				    SKY_EINVALID, "URL host contains '%c'", *q);
		out->host = sky_strndup(p, (size_t)(host_end - p));
	}
	if (!out->host)
		return sky_error_from_code(SKY_ENOMEM);
	lower(out->host);
	out->port = out->tls ? 443 : 80;
	if (host_end < auth_end) {
		if (*host_end != ':' ||
		    parse_port(host_end + 1, (size_t)(auth_end - host_end - 1),
		               &out->port)) {
			sky_url_clear(out);
			return sky_error_set(SKY_EINVALID,
			                     "URL has an invalid port");
		}
		out->port_explicit = 1;
	}
	p = auth_end;
	size_t plen = strcspn(p, "#");
	if (plen == 0 || *p != '/')
		out->path = sky_asprintf("/%.*s", (int)plen, p);
	else
		out->path = sky_strndup(p, plen);
	if (!out->path) {
		sky_url_clear(out);
		return sky_error_from_code(SKY_ENOMEM);
	}
	return 0;
}

int sky_url_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t n;
	if (!host)
		return 0;
	if (!strcasecmp(host, "localhost"))
		return 1;
	n = strlen(host);
	if (n > 10 && !strcasecmp(host + n - 10, ".localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* Does one no_proxy entry (not NUL-terminated) match host? */
static int entry_matches(const char *e, size_t n, const char *host)
{
	size_t hl = strlen(host);
	if (n == 1 && e[0] == '*')
		return 1;
	if (n && e[0] == '[') { /* "[::1]:8080" */
		const char *rb = memchr(e, ']', n);
		if (!rb)
			return 0;
		e++;
		n = (size_t)(rb - e);
	} else {
		const char *colon = memchr(e, ':', n);
		const char *slash = memchr(e, '/', n);
		/* A bare IPv6 literal has several colons: keep it whole. */
		if (colon &&
		    memchr(colon + 1, ':', n - (size_t)(colon - e) - 1))
			colon = NULL;
		if (slash && (!colon || slash < colon))
			n = (size_t)(slash - e);
		else if (colon)
			n = (size_t)(colon - e);
	}
	if (n && e[0] == '.') { /* ".example.com": subdomains and itself */
		e++;
		n--;
	}
	if (n == 0)
		return 0;
	if (hl == n && !strncasecmp(host, e, n))
		return 1;
	return hl > n && host[hl - n - 1] == '.' &&
	       !strncasecmp(host + hl - n, e, n);
}

int sky_url_no_proxy_match(const char *no_proxy, const char *host)
{
	const char *p = no_proxy;
	if (!p || !host)
		return 0;
	while (*p) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		if (n && entry_matches(p, n, host))
			return 1;
		p += n;
	}
	return 0;
}
