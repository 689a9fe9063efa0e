/* skyx: normalizing a prompt and hashing it, for recorded LLM answers
 * (see skyx/prompt_hash.h). */
#include "skyx/prompt_hash.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct out {
	char *d;
	size_t len, cap;
	int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t nc = o->cap ? o->cap : 256;
		while (nc < o->len + n + 1)
			nc *= 2;
		char *nd = realloc(o->d, nc);
		if (!nd) {
			o->oom = 1;
			return;
		}
		o->d = nd;
		o->cap = nc;
	}
	memcpy(o->d + o->len, s, n);
	o->len += n;
	o->d[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static char *finish(struct out *o)
{
	if (o->oom) {
		free(o->d);
		return NULL;
	}
	if (!o->d)
		return calloc(1, 1);
	return o->d;
}

static int ci_contains(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(s + i, needle, k))
			return 1;
	return 0;
}

/* 1. lines that carry the current time */
static char *drop_time_lines(const char *in)
{
	struct out o = {0};
	const char *p = in;
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (ci_contains(p, n, "current time") ||
		    ci_contains(p, n, "current date"))
			puts_(&o, "<current-time-line>");
		else
			put(&o, p, n);
		p += n;
		if (*p == '\n') {
			put(&o, "\n", 1);
			p++;
		}
	}
	return finish(&o);
}

static int digits(const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

/* Length of an ISO-8601 timestamp at p, or 0. */
static size_t match_time(const char *p)
{
	size_t i;
	if (!digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) || p[7] != '-' ||
	    !digits(p + 8, 2) || (p[10] != 'T' && p[10] != ' ') ||
	    !digits(p + 11, 2) || p[13] != ':' || !digits(p + 14, 2))
		return 0;
	i = 16;
	if (p[i] == ':' && digits(p + i + 1, 2)) {
		i += 3;
		if (p[i] == '.' && isdigit((unsigned char)p[i + 1])) {
			i++;
			while (isdigit((unsigned char)p[i]))
				i++;
		}
	}
	if (p[i] == 'Z') {
		i++;
	} else if ((p[i] == '+' || p[i] == '-') && digits(p + i + 1, 2)) {
		if (p[i + 3] == ':' && digits(p + i + 4, 2))
			i += 6;
		else if (digits(p + i + 3, 2))
			i += 5;
	}
	return i;
}

static int hexn(const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

static size_t match_uuid(const char *p)
{
	if (hexn(p, 8) && p[8] == '-' && hexn(p + 9, 4) && p[13] == '-' &&
	    hexn(p + 14, 4) && p[18] == '-' && hexn(p + 19, 4) &&
	    p[23] == '-' && hexn(p + 24, 12) && !isalnum((unsigned char)p[36]))
		return 36;
	return 0;
}

static size_t match_id(const char *p)
{
	static const char *const prefixes[] = {
	    "tsk_v2_", "tsk_", "stp_", "wpid_", "wr_", "pbs_",
	    "totp_",   "act_", "wh_",  "a_",    "o_",
	};
	for (size_t k = 0; k < sizeof prefixes / sizeof *prefixes; k++) {
		size_t pl = strlen(prefixes[k]);
		if (strncmp(p, prefixes[k], pl))
			continue;
		size_t d = 0;
		while (isdigit((unsigned char)p[pl + d]))
			d++;
		if (d >= 10)
			return pl + d;
	}
	return 0;
}

/*
 * A fence nonce: after the word "nonce", the first run of 8+ hex digits
 * within 40 characters on the same line (`nonce="9f2c..."`, "Fence nonce
 * of this request: 9f2c..."). Returns the offset of that run and its
 * length in *len, or 0.
 */
static size_t match_nonce(const char *p, size_t *len)
{
	if (strncasecmp(p, "nonce", 5))
		return 0;
	for (size_t i = 5; i < 40 && p[i] && p[i] != '\n'; i++) {
		if (isalnum((unsigned char)p[i - 1]) && i > 5)
			continue;
		size_t h = 0;
		while (isxdigit((unsigned char)p[i + h]))
			h++;
		if (h >= 8 && !isalnum((unsigned char)p[i + h])) {
			*len = h;
			return i;
		}
	}
	return 0;
}

/* Length of "127.0.0.1:" etc. when a port follows, or 0. */
static size_t match_loopback_port(const char *p)
{
	static const char *const hosts[] = {
	    "127.0.0.1:", "localhost:", "[::1]:"};
	for (size_t k = 0; k < sizeof hosts / sizeof *hosts; k++) {
		size_t hl = strlen(hosts[k]);
		if (!strncasecmp(p, hosts[k], hl) &&
		    isdigit((unsigned char)p[hl]))
			return hl;
	}
	return 0;
}

static int word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* 2-4. timestamps, ids, uuids, loopback ports */
static char *mask_tokens(const char *in)
{
	struct out o = {0};
	const char *p = in;
	char prev = '\0';
	while (*p) {
		size_t n, hl;
		int boundary = !word_char(prev) && prev != '.';
		if (boundary && (n = match_time(p))) {
			puts_(&o, "<time>");
		} else if (boundary && (n = match_uuid(p))) {
			puts_(&o, "<uuid>");
		} else if (boundary && (n = match_id(p))) {
			puts_(&o, "<id>");
		} else if (boundary && (n = match_nonce(p, &hl))) {
			/* The planner's fence nonce digests the page (URL
			 * included), so it changes with every port. */
			put(&o, p, n);
			puts_(&o, "<nonce>");
			n += hl;
		} else if (boundary && (n = match_loopback_port(p))) {
			put(&o, p, n);
			puts_(&o, "<port>");
			while (isdigit((unsigned char)p[n]))
				n++;
		} else {
			n = 1;
			put(&o, p, 1);
		}
		prev = p[n - 1];
		p += n;
	}
	return finish(&o);
}

/* 5. whitespace */
static char *collapse(const char *in)
{
	struct out o = {0};
	int pending = 0;
	for (const char *p = in; *p; p++) {
		if (isspace((unsigned char)*p)) {
			pending = o.len > 0;
			continue;
		}
		if (pending)
			put(&o, " ", 1);
		pending = 0;
		put(&o, p, 1);
	}
	return finish(&o);
}

char *skyx_prompt_normalize(const char *prompt)
{
	char *a, *b, *c;
	if (!prompt)
		return calloc(1, 1);
	a = drop_time_lines(prompt);
	b = a ? mask_tokens(a) : NULL;
	c = b ? collapse(b) : NULL;
	free(a);
	free(b);
	return c;
}

char *skyx_prompt_hash(const char *system, const char *prompt,
                       char out[SKYX_PROMPT_HASH_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *s = skyx_prompt_normalize(system);
	char *p = skyx_prompt_normalize(prompt);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = s && p && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	         EVP_DigestUpdate(ctx, s, strlen(s)) &&
	         EVP_DigestUpdate(ctx, "\n\n", 2) &&
	         EVP_DigestUpdate(ctx, p, strlen(p)) &&
	         EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
	EVP_MD_CTX_free(ctx);
	free(s);
	free(p);
	if (!ok)
		return NULL;
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + 64] = '\0';
	return out;
}
