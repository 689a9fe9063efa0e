/*
 * URLs: one WHATWG-style normalizer (IDNA to punycode, IPv4 forms, dot
 * segments, percent-encoding) behind Skyvern's validate_url with the
 * private-address policy, and the HTTP client's split of an http(s) URL;
 * plus the no_proxy / loopback checks (see url.h).
 */
#include "net/url.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <skyx/codec.h>

#include "util/error.h"
#include <skyx/str.h>

void sky_url_clear(sky_url *u)
{
	if (!u)
		return;
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof *u);
}

static const char invalid_url_fmt[] =
    "Invalid URL: %s. Skyvern supports HTTP and HTTPS urls with max 2083 "
    "character length.";

typedef struct url_host {
	enum { HOST_DOMAIN, HOST_IPV4, HOST_IPV6 } kind;
	uint32_t v4; /* host order */
	unsigned char v6[16];
	char *name; /* serialized host, without brackets */
} url_host;

static int is_c0_or_space(unsigned char c)
{
	return c <= 0x20;
}

/* Percent-encode bytes of `s` that are in the given set (plus C0 and
 * everything above '~'); '%' itself is kept as is. */
static void put_encoded(skyx_buf *b, const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || strchr(set, c))
			skyx_buf_printf(b, "%%%02X", c);
		else
			skyx_buf_putc(b, (char)c);
	}
}

#define PATH_SET " \"#<>?`{}"
#define QUERY_SET " \"#<>'"
#define FRAGMENT_SET " \"<>`"
#define USERINFO_SET " \"#<>?`{}/:;=@[\\]^|"

/* RFC 3492 punycode of code points `cp`; 0 or -1 on overflow. */
static uint32_t puny_adapt(uint32_t delta, uint32_t points, int first)
{
	uint32_t k = 0;
	delta = first ? delta / 700 : delta / 2;
	delta += delta / points;
	while (delta > ((36 - 1) * 26) / 2) {
		delta /= 36 - 1;
		k += 36;
	}
	return k + (36 - 1 + 1) * delta / (delta + 38);
}

static char puny_digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}

static int punycode(const uint32_t *cp, size_t n, skyx_buf *out)
{
	uint32_t code = 128, delta = 0, bias = 72, h, b = 0;

	for (size_t i = 0; i < n; i++) {
		if (cp[i] < 0x80) {
			skyx_buf_putc(out, (char)cp[i]);
			b++;
		}
	}
	h = b;
	if (b > 0)
		skyx_buf_putc(out, '-');
	while (h < n) {
		uint32_t m = UINT32_MAX;
		for (size_t i = 0; i < n; i++)
			if (cp[i] >= code && cp[i] < m)
				m = cp[i];
		if ((m - code) > (UINT32_MAX - delta) / (h + 1))
			return -1;
		delta += (m - code) * (h + 1);
		code = m;
		for (size_t i = 0; i < n; i++) {
			if (cp[i] < code && ++delta == 0)
				return -1;
			if (cp[i] != code)
				continue;
			uint32_t q = delta;
			for (uint32_t k = 36;; k += 36) {
				uint32_t t = k <= bias        ? 1
				             : k >= bias + 26 ? 26
				                              : k - bias;
				if (q < t)
					break;
				skyx_buf_putc(
				    out, puny_digit(t + (q - t) % (36 - t)));
				q = (q - t) / (36 - t);
			}
			skyx_buf_putc(out, puny_digit(q));
			bias = puny_adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		code++;
	}
	return 0;
}

/* Decode one UTF-8 sequence; returns its length, 0 on bad input. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t len = (s[0] & 0xe0) == 0xc0   ? 2
	             : (s[0] & 0xf0) == 0xe0 ? 3
	             : (s[0] & 0xf8) == 0xf0 ? 4
	                                     : 0;
	if (!len || len > n || !skyx_utf8_valid((const char *)s, len))
		return 0;
	*cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++)
		*cp = (*cp << 6) | (s[i] & 0x3f);
	return len;
}

/* A lower-case ASCII host, labels with non-ASCII characters as "xn--"
 * punycode. Only ASCII and Latin-1 letters are case-folded; full UTS #46
 * mapping is out of reach without Unicode tables. */
static int domain_to_ascii(const char *in, size_t n, skyx_buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0;

	while (i <= n) {
		size_t end = i;
		int ascii = 1;
		while (end < n && s[end] != '.') {
			ascii &= s[end] < 0x80;
			end++;
		}
		if (ascii) {
			for (size_t k = i; k < end; k++)
				skyx_buf_putc(out,
				              (char)(s[k] >= 'A' && s[k] <= 'Z'
				                         ? s[k] + 32
				                         : s[k]));
		} else {
			uint32_t cps[256];
			size_t ncp = 0;
			for (size_t k = i; k < end;) {
				uint32_t cp;
				size_t len = utf8_decode(s + k, end - k, &cp);
				if (!len || ncp == 256)
					return -1;
				if (cp >= 'A' && cp <= 'Z')
					cp += 32;
				else if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7)
					cp += 32;
				cps[ncp++] = cp;
				k += len;
			}
			skyx_buf_puts(out, "xn--");
			if (punycode(cps, ncp, out))
				return -1;
		}
		if (end < n)
			skyx_buf_putc(out, '.');
		i = end + 1;
	}
	return out->oom ? -1 : 0;
}

/* One WHATWG IPv4 number: decimal, 0x hex or 0 octal. */
static int ipv4_number(const char *s, size_t n, uint64_t *v)
{
	int base = 10;
	*v = 0;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		s++;
		n--;
	}
	if (n == 0)
		return base == 10 ? -1 : 0;
	for (size_t i = 0; i < n; i++) {
		int d = skyx_hexval((unsigned char)s[i]);
		if (d < 0 || d >= base)
			return -1;
		*v = *v * (uint64_t)base + (uint64_t)d;
		if (*v > 0xffffffffULL)
			*v = 0x100000000ULL; /* saturate: too big anyway */
	}
	return 0;
}

/* Does the host end in a number (so it must parse as IPv4)? */
static int ends_in_number(const char *h)
{
	size_t n = strlen(h);
	const char *last;
	if (n && h[n - 1] == '.')
		n--;
	last = h + n;
	while (last > h && last[-1] != '.')
		last--;
	if (last == h + n)
		return 0;
	if (strspn(last, "0123456789") >= (size_t)(h + n - last))
		return 1;
	if (h + n - last >= 2 && last[0] == '0' &&
	    (last[1] == 'x' || last[1] == 'X')) {
		for (const char *p = last + 2; p < h + n; p++)
			if (skyx_hexval((unsigned char)*p) < 0)
				return 0;
		return 1;
	}
	return 0;
}

static int parse_ipv4(const char *h, uint32_t *out)
{
	uint64_t parts[4], v;
	size_t n = strlen(h), count = 0;
	const char *p = h, *end;

	if (n && h[n - 1] == '.')
		n--;
	while (p <= h + n) {
		end = memchr(p, '.', (size_t)(h + n - p));
		if (!end)
			end = h + n;
		if (count == 4 || ipv4_number(p, (size_t)(end - p), &v))
			return -1;
		parts[count++] = v;
		p = end + 1;
	}
	for (size_t i = 0; i + 1 < count; i++)
		if (parts[i] > 255)
			return -1;
	if (parts[count - 1] >= (1ULL << (8 * (5 - count))))
		return -1;
	v = parts[count - 1];
	for (size_t i = 0; i + 1 < count; i++)
		v += parts[i] << (8 * (3 - i));
	*out = (uint32_t)v;
	return 0;
}

/* Host bytes -> kind + serialized name; -1 when it is not a valid host. */
static int parse_host(const char *s, size_t n, url_host *h)
{
	skyx_buf dec = {0}, ascii = {0};
	int rc = -1;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		char lit[64], txt[INET6_ADDRSTRLEN];
		if (n - 2 >= sizeof lit)
			return -1;
		memcpy(lit, s + 1, n - 2);
		lit[n - 2] = '\0';
		if (inet_pton(AF_INET6, lit, h->v6) != 1 ||
		    !inet_ntop(AF_INET6, h->v6, txt, sizeof txt))
			return -1;
		h->kind = HOST_IPV6;
		h->name = strdup(txt);
		return h->name ? 0 : -1;
	}
	/* Percent-decode, then fold to ASCII. */
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    skyx_hexval((unsigned char)s[i + 1]) >= 0 &&
		    skyx_hexval((unsigned char)s[i + 2]) >= 0) {
			skyx_buf_putc(
			    &dec,
			    (char)(skyx_hexval((unsigned char)s[i + 1]) * 16 +
			           skyx_hexval((unsigned char)s[i + 2])));
			i += 2;
		} else {
			skyx_buf_putc(&dec, s[i]);
		}
	}
	if (!dec.data || dec.oom || !skyx_utf8_valid(dec.data, dec.len))
		goto done;
	if (domain_to_ascii(dec.data, dec.len, &ascii) || !ascii.data)
		goto done;
	for (const char *p = ascii.data; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c == 0x7f || strchr("#%/:<>?@[\\]^|", c))
			goto done;
	}
	if (!ascii.len || !strcmp(ascii.data, "."))
		goto done;
	if (ends_in_number(ascii.data)) {
		char txt[INET_ADDRSTRLEN];
		struct in_addr a;
		if (parse_ipv4(ascii.data, &h->v4))
			goto done;
		a.s_addr = htonl(h->v4);
		inet_ntop(AF_INET, &a, txt, sizeof txt);
		h->kind = HOST_IPV4;
		h->name = strdup(txt);
	} else {
		h->kind = HOST_DOMAIN;
		h->name = skyx_buf_steal(&ascii);
	}
	rc = h->name ? 0 : -1;
done:
	skyx_buf_free(&dec);
	skyx_buf_free(&ascii);
	return rc;
}

static int default_port(const char *scheme)
{
	if (!strcmp(scheme, "http") || !strcmp(scheme, "ws"))
		return 80;
	return 443;
}

/* 1 for "." and 2 for ".." (also percent-encoded), else 0. */
static int dot_kind(const char *s, size_t n)
{
	char seg[8];
	if (n == 0 || n > 6)
		return 0;
	for (size_t i = 0; i < n; i++)
		seg[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	seg[n] = '\0';
	if (!strcmp(seg, ".") || !strcmp(seg, "%2e"))
		return 1;
	if (!strcmp(seg, "..") || !strcmp(seg, ".%2e") ||
	    !strcmp(seg, "%2e.") || !strcmp(seg, "%2e%2e"))
		return 2;
	return 0;
}

/* Append the path (which starts with a slash or is empty), resolving "."
 * and ".." segments as WHATWG does; an empty path becomes "/". */
static int put_path(skyx_buf *b, const char *s, size_t n)
{
	struct seg {
		const char *p;
		size_t n;
	} *segs = malloc((n + 2) * sizeof *segs);
	size_t count = 0, i = 0;

	if (!segs)
		return -1;
	if (n && (s[0] == '/' || s[0] == '\\'))
		i = 1;
	for (;;) {
		size_t end = i;
		while (end < n && s[end] != '/' && s[end] != '\\')
			end++;
		int last = end >= n, dots = dot_kind(s + i, end - i);
		if (dots == 2 && count)
			count--;
		if (!dots || last)
			segs[count++] = (struct seg){s + i, dots ? 0 : end - i};
		if (last)
			break;
		i = end + 1;
	}
	for (size_t k = 0; k < count; k++) {
		skyx_buf_putc(b, '/');
		put_encoded(b, segs[k].p, segs[k].n, PATH_SET);
	}
	free(segs);
	return 0;
}

/* Parse and serialize a URL of a special scheme (http, https, ws, wss):
 * `rest` is what follows "scheme:". */
static int normalize(const char *scheme, const char *rest, skyx_buf *out,
                     url_host *host, long *port_out)
{
	const char *p = rest, *auth, *hp, *at = NULL, *colon = NULL;
	size_t alen;
	long port = -1;

	while (*p == '/' || *p == '\\')
		p++;
	auth = p;
	alen = strcspn(auth, "/\\?#");
	for (const char *q = auth; q < auth + alen; q++)
		if (*q == '@')
			at = q;
	hp = at ? at + 1 : auth;
	if (hp == auth + alen)
		return -1;
	if (*hp == '[') {
		const char *rb = memchr(hp, ']', (size_t)(auth + alen - hp));
		if (!rb)
			return -1;
		if (rb + 1 < auth + alen) {
			if (rb[1] != ':')
				return -1;
			colon = rb + 1;
		}
	} else {
		colon = memchr(hp, ':', (size_t)(auth + alen - hp));
	}
	if (colon && colon + 1 < auth + alen) {
		port = 0;
		for (const char *q = colon + 1; q < auth + alen; q++) {
			if (*q < '0' || *q > '9')
				return -1;
			port = port * 10 + (*q - '0');
			if (port > 65535)
				return -1;
		}
	}
	if (parse_host(hp, (size_t)((colon ? colon : auth + alen) - hp), host))
		return -1;
	if (port_out)
		*port_out = port;

	skyx_buf_printf(out, "%s://", scheme);
	if (at) {
		const char *c = memchr(auth, ':', (size_t)(at - auth));
		const char *uend = c ? c : at;
		put_encoded(out, auth, (size_t)(uend - auth), USERINFO_SET);
		if (c && c + 1 < at) {
			skyx_buf_putc(out, ':');
			put_encoded(out, c + 1, (size_t)(at - c - 1),
			            USERINFO_SET);
		}
		if (uend > auth || (c && c + 1 < at))
			skyx_buf_putc(out, '@');
	}
	skyx_buf_printf(out, host->kind == HOST_IPV6 ? "[%s]" : "%s",
	                host->name);
	if (port >= 0 && port != default_port(scheme))
		skyx_buf_printf(out, ":%ld", port);

	p = auth + alen;
	size_t plen = strcspn(p, "?#");
	if (put_path(out, p, plen))
		return -1;
	p += plen;
	if (*p == '?') {
		size_t qlen = strcspn(p + 1, "#");
		skyx_buf_putc(out, '?');
		put_encoded(out, p + 1, qlen, QUERY_SET);
		p += 1 + qlen;
	}
	if (*p == '#') {
		skyx_buf_putc(out, '#');
		put_encoded(out, p + 1, strlen(p + 1), FRAGMENT_SET);
	}
	return out->oom ? -1 : 0;
}

/* The URL with leading/trailing C0-or-space stripped and tabs/newlines
 * removed, as both Python's urlsplit and WHATWG do first. */
static char *clean_url(const char *in)
{
	size_t n = strlen(in), s = 0;
	skyx_buf b = {0};
	while (s < n && is_c0_or_space((unsigned char)in[s]))
		s++;
	while (n > s && is_c0_or_space((unsigned char)in[n - 1]))
		n--;
	for (size_t i = s; i < n; i++)
		if (in[i] != '\t' && in[i] != '\n' && in[i] != '\r')
			skyx_buf_putc(&b, in[i]);
	return skyx_buf_steal(&b);
}

/* Python urlsplit's scheme: [A-Za-z][A-Za-z0-9+.-]* before ':'. Note
 * that "localhost:8080" has the scheme "localhost", as in Skyvern. */
static size_t scheme_len(const char *s)
{
	size_t i = 0;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	while (s[i] && s[i] != ':') {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return 0;
		i++;
	}
	return s[i] == ':' ? i : 0;
}

static int in_v4(uint32_t a, uint32_t net, int bits)
{
	uint32_t mask = bits ? 0xffffffffu << (32 - bits) : 0;
	return (a & mask) == (net & mask);
}

static int v4_blocked(uint32_t a, unsigned flags)
{
	if (in_v4(a, 0xa9fe0000, 16) || a == 0x64646464 /* Alibaba */ ||
	    a == 0x646464c8)
		return 1;
	if (!(flags & SKY_URL_BLOCK_PRIVATE))
		return 0;
	return in_v4(a, 0x00000000, 8) || in_v4(a, 0x7f000000, 8) ||
	       in_v4(a, 0x0a000000, 8) || in_v4(a, 0xac100000, 12) ||
	       in_v4(a, 0xc0a80000, 16) || in_v4(a, 0x64400000, 10) ||
	       in_v4(a, 0xe0000000, 4) || a == 0xffffffffu;
}

static int v6_blocked(const unsigned char *a, unsigned flags)
{
	static const unsigned char ec2[16] = {
	    0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
	                                         0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char zero[15] = {0};

	if (!memcmp(a, mapped, 12))
		return v4_blocked((uint32_t)a[12] << 24 |
		                      (uint32_t)a[13] << 16 |
		                      (uint32_t)a[14] << 8 | a[15],
		                  flags);
	if (!memcmp(a, ec2, 16) || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return 1;
	if (!(flags & SKY_URL_BLOCK_PRIVATE))
		return 0;
	return (a[0] & 0xfe) == 0xfc || !memcmp(a, zero, 15) || a[0] == 0xff;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static int name_blocked(const char *h, unsigned flags)
{
	char name[256];
	size_t n = strlen(h);
	if (n >= sizeof name)
		return 0;
	memcpy(name, h, n + 1);
	if (n && name[n - 1] == '.')
		name[n - 1] = '\0'; /* "metadata.google.internal." */
	if (!strcmp(name, "metadata.google.internal") ||
	    !strcmp(name, "metadata") || !strcmp(name, "instance-data") ||
	    ends_with(name, ".instance-data") ||
	    !strcmp(name, "instance-data.ec2.internal"))
		return 1;
	if (!(flags & SKY_URL_BLOCK_PRIVATE))
		return 0;
	return !strcmp(name, "localhost") || ends_with(name, ".localhost") ||
	       ends_with(name, ".internal") || ends_with(name, ".local") ||
	       ends_with(name, ".svc");
}

static int host_blocked(const url_host *h, unsigned flags)
{
	if (!(flags & (SKY_URL_BLOCK_METADATA | SKY_URL_BLOCK_PRIVATE)))
		return 0;
	switch (h->kind) {
	case HOST_IPV4:
		return v4_blocked(h->v4, flags);
	case HOST_IPV6:
		return v6_blocked(h->v6, flags);
	default:
		return name_blocked(h->name, flags);
	}
}

int sky_url_check(const char *url, const char *const *schemes, int prepend,
                  unsigned flags, char **out, char **detail, int *blocked)
{
	char *clean = NULL, *full = NULL, scheme[16];
	url_host host = {0};
	skyx_buf b = {0};
	size_t sl;
	int ok = 0, rc = SKY_EINVALID;

	*out = *detail = NULL;
	*blocked = 0;
	if (!(clean = clean_url(url)))
		return sky_error_from_code(SKY_ENOMEM);
	sl = scheme_len(clean);
	if (sl) {
		for (const char *const *s = schemes; *s && sl < sizeof scheme;
		     s++)
			ok |= strlen(*s) == sl && !strncasecmp(clean, *s, sl);
		if (!ok) {
			*detail = skyx_asprintf(invalid_url_fmt, url);
			goto done;
		}
		for (size_t i = 0; i < sl; i++)
			scheme[i] = (char)(clean[i] >= 'A' && clean[i] <= 'Z'
			                       ? clean[i] + 32
			                       : clean[i]);
		scheme[sl] = '\0';
		full = skyx_strdup(url);
	} else if (prepend) {
		snprintf(scheme, sizeof scheme, "https");
		/* Skyvern returns "" unchanged from its prepend step. */
		full =
		    *url ? skyx_asprintf("https://%s", url) : skyx_strdup("");
		char *c2 = skyx_asprintf("https://%s", clean);
		free(clean);
		clean = c2;
		sl = 5;
	} else {
		*detail = skyx_asprintf(invalid_url_fmt, url);
		goto done;
	}
	if (!full || !clean) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto done;
	}
	if (strlen(full) > SKY_URL_MAX ||
	    normalize(scheme, clean + sl + 1, &b, &host, NULL) ||
	    b.len > SKY_URL_MAX) {
		*detail = skyx_asprintf(invalid_url_fmt, full);
		goto done;
	}
	if (host_blocked(&host, flags)) {
		*blocked = 1;
		*detail = skyx_asprintf("The host in your url is blocked: %s",
		                        host.name);
		goto done;
	}
	*out = skyx_buf_steal(&b);
	rc = *out ? 0 : sky_error_from_code(SKY_ENOMEM);
done:
	if (rc == SKY_EINVALID) {
		if (!*detail)
			rc = sky_error_from_code(SKY_ENOMEM);
		else
			sky_error_set(rc, "%s", *detail);
	}
	skyx_buf_free(&b);
	free(host.name);
	free(clean);
	free(full);
	return rc;
}

int sky_url_validate(const char *url, unsigned flags, char **out, char **detail)
{
	static const char *const http[] = {"http", "https", NULL};
	int blocked;
	if (!url || !out || !detail)
		return sky_error_set(SKY_EINVALID, "NULL argument");
	return sky_url_check(url, http, 1, flags, out, detail, &blocked);
}

static void url_host_clear(url_host *h)
{
	free(h->name);
	h->name = NULL;
}

/*
 * The HTTP client's view of a URL, from the same normalizer as
 * sky_url_validate: http(s) only, no credentials, no white space or
 * control characters, a port from 1 to 65535. The host comes out
 * normalized (lower case, IDN as punycode, IPv4 forms as dotted quads).
 */
int sky_url_parse(const char *url, sky_url *out)
{
	const char *p, *rest;
	char scheme[8];
	url_host host = {0};
	skyx_buf b = {0};
	long port = -1;
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
		rest = url + 6;
	} else if (!strncasecmp(url, "http://", 7)) {
		rest = url + 5;
	} else {
		return sky_error_set(SKY_EINVALID,
		                     "URL must start with http:// or https://");
	}
	snprintf(scheme, sizeof scheme, "%s", out->tls ? "https" : "http");
	p = rest + 2;
	if (memchr(p, '@', strcspn(p, "/?#\\")))
		return sky_error_set(SKY_EINVALID,
		                     "credentials in the URL are not supported "
		                     "(send them in a header)");
	if (normalize(scheme, rest, &b, &host, &port) || port == 0) {
		int oom = b.oom;
		skyx_buf_free(&b);
		url_host_clear(&host);
		if (oom)
			return sky_error_from_code(SKY_ENOMEM);
		return sky_error_set(SKY_EINVALID,
		                     "URL has an invalid host or port");
	}
	out->host = host.name; /* IPv6 without brackets */
	host.name = NULL;
	out->port = port > 0 ? (int)port : default_port(scheme);
	out->port_explicit = port > 0;
	/* The serialized form has no user info, so the path is what follows
	 * the first '/' after "scheme://"; the fragment is not sent. */
	p = b.data + strlen(scheme) + 3;
	p += strcspn(p, "/");
	out->path = skyx_strndup(p, strcspn(p, "#"));
	skyx_buf_free(&b);
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
