/*
 * Finding a verification code or a magic link in SMS / e-mail content
 * pushed to POST /v1/credentials/totp (engine/totp_push.c).
 */
#include "engine/otp_extract.h"

#include <ctype.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <strings.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include <skyx/str.h>

/* ---- finding a code or a magic link in pushed content ------------------
 *
 * The content is turned into plain text (quoted-printable undone, HTML
 * tags dropped with their links kept, entities decoded, whitespace
 * collapsed). Every digit group that could be a code is a candidate,
 * scored by what surrounds it: a label ("code", "OTP", "passcode" ...)
 * right before or a phrase like "is your ... code" right after scores
 * high, keywords nearby a little; order numbers, prices, phone numbers,
 * dates and years are refused outright. Links count as magic links when
 * they carry a token and sit near sign-in words. docs/proxies-totp.md
 * describes the rules and their limits.
 */

#define CTX_BEFORE 90
#define CTX_AFTER 90
#define LINK_CTX 150
#define MAX_CANDIDATES 500
#define MAX_LINKS 200

/* Score a code needs to beat a magic link, and to count at all. */
#define SCORE_STRONG 8
#define SCORE_MIN 3

struct link {
	char *url;
	size_t pos;        /* where its anchor text starts in the text */
	size_t anchor_end; /* == pos for a bare URL */
};

struct text {
	skyx_buf b;
	struct link *links;
	size_t n_links;
	int drop_space; /* the last byte emitted was whitespace */
};

/* Normalised text: one space between words, at most one blank line, no
 * zero-width characters, NBSP as a space. */
static void emit_byte(struct text *t, char c)
{
	if (c == '\n') {
		if (t->b.len && t->b.data[t->b.len - 1] == ' ')
			t->b.data[--t->b.len] = '\0';
		if (t->b.len >= 2 && t->b.data[t->b.len - 1] == '\n' &&
		    t->b.data[t->b.len - 2] == '\n')
			return;
		if (t->b.len)
			skyx_buf_putc(&t->b, '\n');
		return;
	}
	if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
		if (t->b.len && t->b.data[t->b.len - 1] != ' ' &&
		    t->b.data[t->b.len - 1] != '\n')
			skyx_buf_putc(&t->b, ' ');
		return;
	}
	skyx_buf_putc(&t->b, c);
}

/* Emit n bytes of text; returns how many input bytes were used for
 * multi-byte spaces so callers can walk raw input with it. */
static size_t emit_char(struct text *t, const unsigned char *s, size_t n)
{
	if (n >= 2 && s[0] == 0xc2 && s[1] == 0xa0) { /* NBSP */
		emit_byte(t, ' ');
		return 2;
	}
	if (n >= 2 && s[0] == 0xc2 && s[1] == 0xad) /* soft hyphen */
		return 2;
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0x8b || s[2] == 0x8c || s[2] == 0x8d)) /* zero-width */
		return 3;
	if (n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0xaf || (s[2] >= 0x80 && s[2] <= 0x8a))) { /* spaces */
		emit_byte(t, ' ');
		return 3;
	}
	if (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) /* BOM */
		return 3;
	emit_byte(t, (char)s[0]);
	return 1;
}

static void emit_str(struct text *t, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;)
		i += emit_char(t, u + i, n - i);
}

static void put_utf8(skyx_buf *b, unsigned long cp)
{
	char o[4];
	size_t n;
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	skyx_buf_append(b, o, n);
}

/* Decode the HTML entity at s[0] == '&' into `out`; returns the bytes
 * consumed, or 0 when it is not an entity (the '&' is then literal). */
static size_t decode_entity(const char *s, size_t n, skyx_buf *out)
{
	static const struct {
		const char *name;
		unsigned long cp;
	} named[] = {{"amp", '&'},       {"lt", '<'},       {"gt", '>'},
	             {"quot", '"'},      {"apos", '\''},    {"nbsp", 0xa0},
	             {"zwnj", 0x200c},   {"zwj", 0x200d},   {"shy", 0xad},
	             {"ndash", 0x2013},  {"mdash", 0x2014}, {"rsquo", 0x2019},
	             {"lsquo", 0x2018},  {"rdquo", 0x201d}, {"ldquo", 0x201c},
	             {"hellip", 0x2026}, {"euro", 0x20ac},  {"pound", 0xa3},
	             {"copy", 0xa9},     {"reg", 0xae},     {"middot", 0xb7}};
	size_t end = 1;
	while (end < n && end < 12 && s[end] != ';')
		end++;
	if (end >= n || s[end] != ';' || end < 2)
		return 0;
	if (s[1] == '#') {
		char *stop;
		int hex = end > 2 && (s[2] == 'x' || s[2] == 'X');
		unsigned long cp = strtoul(s + 2 + hex, &stop, hex ? 16 : 10);
		if (stop != s + end || stop == s + 2 + hex)
			return 0;
		put_utf8(out, cp);
		return end + 1;
	}
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		if (strlen(named[i].name) == end - 1 &&
		    !strncmp(s + 1, named[i].name, end - 1)) {
			put_utf8(out, named[i].cp);
			return end + 1;
		}
	}
	return 0;
}

/* Entity-decoded copy of s[0..n). */
static char *decode_entities(const char *s, size_t n)
{
	skyx_buf b = {0};
	for (size_t i = 0; i < n;) {
		size_t used = s[i] == '&' ? decode_entity(s + i, n - i, &b) : 0;
		if (used) {
			i += used;
		} else {
			skyx_buf_putc(&b, s[i]);
			i++;
		}
	}
	skyx_buf_putc(&b, '\0');
	return skyx_buf_steal(&b);
}

static int add_link(struct text *t, const char *url, size_t len, size_t pos)
{
	if (t->n_links >= MAX_LINKS || !len)
		return 0;
	for (size_t i = 0; i < t->n_links; i++)
		if (strlen(t->links[i].url) == len &&
		    !memcmp(t->links[i].url, url, len))
			return 0;
	struct link *nl = realloc(t->links, (t->n_links + 1) * sizeof *nl);
	if (!nl)
		return SKY_ENOMEM;
	t->links = nl;
	nl[t->n_links].url = skyx_strndup(url, len);
	if (!nl[t->n_links].url)
		return SKY_ENOMEM;
	nl[t->n_links].pos = pos;
	nl[t->n_links].anchor_end = pos;
	t->n_links++;
	return 0;
}

/* Case-insensitive search for `needle` in s[0..n). */
static const char *find_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (!strncasecmp(s + i, needle, m))
			return s + i;
	return NULL;
}

/* The value of attribute `name` in a tag's text, entity-decoded. */
static char *tag_attr(const char *tag, size_t n, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl < n; i++) {
		if (strncasecmp(tag + i, name, nl) ||
		    (i && !strchr(" \t\r\n\"'/", tag[i - 1])))
			continue;
		size_t j = i + nl;
		while (j < n && isspace((unsigned char)tag[j]))
			j++;
		if (j >= n || tag[j] != '=')
			continue;
		j++;
		while (j < n && isspace((unsigned char)tag[j]))
			j++;
		char q =
		    j < n && (tag[j] == '"' || tag[j] == '\'') ? tag[j] : 0;
		size_t k = j + (q ? 1 : 0), start = k;
		while (k < n &&
		       (q ? tag[k] != q
		          : !isspace((unsigned char)tag[k]) && tag[k] != '>'))
			k++;
		return decode_entities(tag + start, k - start);
	}
	return NULL;
}

static int is_block_tag(const char *name)
{
	static const char *const block[] = {
	    "br",     "p",       "div",        "tr",   "li",      "ul",
	    "ol",     "table",   "h1",         "h2",   "h3",      "h4",
	    "h5",     "h6",      "title",      "hr",   "section", "header",
	    "footer", "article", "blockquote", "pre",  "center",  "tbody",
	    "thead",  "dt",      "dd",         "form", NULL};
	for (int i = 0; block[i]; i++)
		if (!strcmp(name, block[i]))
			return 1;
	return 0;
}

/* HTML to text: tags dropped (block tags become line breaks, cells
 * spaces), script/style/head skipped, comments skipped, entities
 * decoded, <a href> kept as links with the span of their anchor text. */
static int html_to_text(const char *s, size_t n, struct text *t)
{
	ssize_t open_link = -1;
	for (size_t i = 0; i < n;) {
		if (s[i] == '&') {
			skyx_buf ent = {0};
			size_t used = decode_entity(s + i, n - i, &ent);
			if (used) {
				emit_str(t, ent.data, ent.len);
				skyx_buf_free(&ent);
				i += used;
				continue;
			}
			skyx_buf_free(&ent);
		}
		if (s[i] != '<') {
			i += emit_char(t, (const unsigned char *)s + i, n - i);
			continue;
		}
		if (n - i >= 4 && !strncmp(s + i, "<!--", 4)) {
			const char *e = find_ci(s + i + 4, n - i - 4, "-->");
			i = e ? (size_t)(e - s) + 3 : n;
			continue;
		}
		size_t j = i + 1, close = 0;
		if (j < n && s[j] == '/') {
			close = 1;
			j++;
		}
		char name[16];
		size_t k = 0;
		while (j < n && k < sizeof name - 1 &&
		       isalnum((unsigned char)s[j]))
			name[k++] = (char)tolower((unsigned char)s[j++]);
		name[k] = '\0';
		if (!k) { /* "<" that starts no tag: literal text */
			emit_byte(t, '<');
			i++;
			continue;
		}
		/* End of the tag, quotes respected. */
		char q = 0;
		size_t end = j;
		while (end < n && (q || s[end] != '>')) {
			if (q && s[end] == q)
				q = 0;
			else if (!q && (s[end] == '"' || s[end] == '\''))
				q = s[end];
			end++;
		}
		if (!close &&
		    (!strcmp(name, "script") || !strcmp(name, "style") ||
		     !strcmp(name, "head"))) {
			char closing[24];
			snprintf(closing, sizeof closing, "</%s", name);
			const char *e =
			    end < n ? find_ci(s + end, n - end, closing) : NULL;
			const char *gt =
			    e ? memchr(e, '>', n - (size_t)(e - s)) : NULL;
			i = gt ? (size_t)(gt - s) + 1 : n;
			continue;
		}
		if (!strcmp(name, "a")) {
			if (open_link >= 0)
				t->links[open_link].anchor_end = t->b.len;
			open_link = -1;
			char *href =
			    close ? NULL : tag_attr(s + j, end - j, "href");
			if (href) {
				size_t before = t->n_links;
				int rc =
				    add_link(t, href, strlen(href), t->b.len);
				free(href);
				if (rc)
					return rc;
				if (t->n_links > before)
					open_link = (ssize_t)before;
			}
		} else if (is_block_tag(name)) {
			emit_byte(t, '\n');
		} else if (!strcmp(name, "td") || !strcmp(name, "th")) {
			emit_byte(t, ' ');
		}
		i = end < n ? end + 1 : n;
	}
	if (open_link >= 0)
		t->links[open_link].anchor_end = t->b.len;
	return 0;
}

static int looks_quoted_printable(const char *s, size_t n)
{
	return find_ci(s, n, "quoted-printable") || find_ci(s, n, "=3D") ||
	       find_ci(s, n, "=20\n") || find_ci(s, n, "=\r\n") ||
	       (find_ci(s, n, "=\n") && find_ci(s, n, "=E2"));
}

/* Undo quoted-printable: "=XX" bytes and "=" soft line breaks. */
static char *qp_decode(const char *s, size_t n, size_t *out_len)
{
	skyx_buf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 1 < n && s[i + 1] == '\n') {
			i++;
		} else if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' &&
		           s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < n &&
		           isxdigit((unsigned char)s[i + 1]) &&
		           isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = {s[i + 1], s[i + 2], 0};
			skyx_buf_putc(&b, (char)strtol(hex, NULL, 16));
			i += 2;
		} else {
			skyx_buf_putc(&b, s[i]);
		}
	}
	*out_len = b.len;
	skyx_buf_putc(&b, '\0');
	return skyx_buf_steal(&b);
}

/* ---- patterns ---------------------------------------------------------- */

/* Words that make a "code" label something else ("promo code"). */
#define NOT_OTP_LABEL                                                          \
	"(?<!promo |discount |coupon |postal |zip |referral |gift |voucher "   \
	"|tracking |area |country |qr |error |status |source |reason "         \
	"|product |item |dress |booking |invite |invitation |offer |sale "     \
	"|bar |post |sort |swift |tax |access key )"

#define OTP_LABEL                                                              \
	NOT_OTP_LABEL                                                          \
	"\\b(?:code|otp|passcode|pass code|pin|security key|token"             \
	"|(?:one[- ]?time|temporary|temp|dynamic) (?:password|passcode|pin)"   \
	"|verification number|c(?:o|ó)digo)\\b"

enum {
	RX_NUM,   /* numeric candidate (group 1) */
	RX_ALNUM, /* labelled letters-and-digits candidate (group 1) */
	RX_LABEL_BEFORE,
	RX_LABEL_AFTER,
	RX_LABEL_NEAR_AFTER,
	RX_VERB_BEFORE,
	RX_KEYWORD,
	RX_CONTEXT,
	RX_NEG_BEFORE,
	RX_MONEY_BEFORE,
	RX_UNIT_AFTER,
	RX_PROMO,
	RX_URL,
	RX_LINK_WORDS,
	RX_LINK_SKIP,
	RX_LINK_PATH,
	RX_HTML,
	RX_COUNT
};

static const struct {
	const char *pat;
	uint32_t flags;
} patterns[RX_COUNT] = {
    [RX_NUM] = {"(?:(?<=[A-Za-z]-)|(?<![\\w.,/#+@=&?%$:*-]))(?<!\\d[ -])"
                "(\\d{3}[ -]\\d{3}|\\d{4}[ -]\\d{4}|\\d{4,8})"
                "(?![\\w@%]|[.,:/-]\\d|[ -]\\d)",
                0},
    [RX_ALNUM] = {"(?<![\\w.,/#+@=&?%$*-])"
                  "([A-Za-z0-9]{3,5}-[A-Za-z0-9]{3,5}|[A-Za-z0-9]{4,10})"
                  "(?![\\w@%-]|[.,]\\w)",
                  0},
    /* "Your code is: ", "OTP for login - ", "Security code: " */
    [RX_LABEL_BEFORE] = {OTP_LABEL "[^.!?\\d\\n]{0,60}?[\\s:=\\-]*\\z",
                         PCRE2_CASELESS},
    /* " is your Acme verification code", " as your login code" */
    [RX_LABEL_AFTER] = {"\\A[\\s)\\]]*(?:-\\s*)?(?:is|are|as|was)\\s+"
                        "(?:your|the|a|an)\\b[^.!?\\d\\n]{0,50}?" OTP_LABEL
                        "|\\A[\\s)\\]]*(?:is|as)\\s+your\\s+"
                        "(?:one[- ]?time|verification|security|login|"
                        "sign[- ]?in)\\b",
                        PCRE2_CASELESS},
    /* "482913 - Acme Bank: OTP for ..." */
    [RX_LABEL_NEAR_AFTER] = {"\\A[^.!?\\d\\n]{0,30}?" OTP_LABEL,
                             PCRE2_CASELESS},
    [RX_VERB_BEFORE] = {"\\b(?:use|enter|type|input|submit|provide|with)"
                        "\\s+(?:the\\s+|this\\s+)?(?:code\\s+)?\\z",
                        PCRE2_CASELESS},
    [RX_KEYWORD] = {"\\b(?:code|otp|passcode|pin|one[- ]?time|2fa|mfa|"
                    "two[- ]factor|2-step|two-step|verification|verify|"
                    "authenticat\\w*)\\b",
                    PCRE2_CASELESS},
    [RX_CONTEXT] = {"\\b(?:sign[- ]?in|log[- ]?in|login|security|"
                    "confirm\\w*|identity|do not share|don'?t share|"
                    "never ask)\\b",
                    PCRE2_CASELESS},
    /* What a number right after is not a code for. */
    [RX_NEG_BEFORE] = {"(?:\\b(?:order|orders|invoice|inv|ref|reference|"
                       "account|acct|a/c|card|ending(?: in)?|ends in|"
                       "tracking|ticket|case|booking|reservation|"
                       "confirmation number|flight|customer|member|"
                       "membership|policy|transaction|txn|trans|id|no|nr|"
                       "number|num|phone|tel|telephone|mobile|call|fax|"
                       "room|suite|unit|apt|zip|postal|box|ext|extension|"
                       "year|since|dated|date|on|at|until|from|version|"
                       "model|sku|serial|item|receipt|loan|claim|patient|"
                       "employee|student|street|st|ave|avenue|road|rd|"
                       "floor|gate|seat|platform|route|bus|train|"
                       "record|records|row)\\b|[#№]|\\bx{2,}|\\*{2,}|"
                       "\\(\\d{2,4}\\)|\\+\\d{1,3}|"
                       "\\b(?:reply|text|txt|send|sms|msg)\\b[\\w ]{0,20}"
                       "\\bto)[\\s.:#-]*\\z",
                       PCRE2_CASELESS},
    [RX_MONEY_BEFORE] = {"(?:\\$|£|€|¥|₹|\\b(?:usd|eur|gbp|inr|rs|aud|"
                         "cad|chf|jpy|total|amount|amt|balance|bal|price|"
                         "cost|paid|pay|charged|debited|credited|spent|"
                         "refund|fee|sum|worth|of)\\b)[\\s.:]*\\z",
                         PCRE2_CASELESS},
    [RX_UNIT_AFTER] = {"\\A(?:%|\\s*(?:usd|eur|gbp|inr|dollars?|euros?|"
                       "pounds?|points?|pts|miles|items?|percent|kg|g|"
                       "lbs?|km|mi|mb|gb|kb|px|days?|hours?|hrs?|"
                       "minutes?|mins?|seconds?|secs?|years?|months?|"
                       "weeks?|people|users|reviews|views|followers|"
                       "likes|members|steps|calories|words|pages|am|pm)"
                       "\\b)",
                       PCRE2_CASELESS},
    [RX_PROMO] = {"\\b(?:off|discount|sale|checkout|promo|coupon|shop|"
                  "shopping|deal|deals|save|offer|gift|voucher|"
                  "referral)\\b",
                  PCRE2_CASELESS},
    [RX_URL] = {"https?://[^\\s<>\"'()\\[\\]{}]+", PCRE2_CASELESS},
    [RX_LINK_WORDS] = {"\\b(?:sign[- ]?in|log[- ]?in|login|verify|"
                       "verification|confirm|magic link|authenticate|"
                       "access (?:your )?account|continue|activate|"
                       "get started|one[- ]click)\\b",
                       PCRE2_CASELESS},
    [RX_LINK_SKIP] = {"unsubscribe|opt[- ]?out|preferences|privacy|"
                      "\\bterms\\b|\\bhelp\\b|support|\\bcontact\\b|"
                      "manage|settings|webversion|view (?:this|it|in)|"
                      "^mailto:|\\.(?:png|jpe?g|gif|svg|css|ico|webp)"
                      "(?:[?#]|$)",
                      PCRE2_CASELESS},
    [RX_LINK_PATH] = {"/(?:magic|verify|verification|confirm|auth|"
                      "login|signin|sign-in|sso|activate|session|"
                      "passwordless|callback)\\b",
                      PCRE2_CASELESS},
    [RX_HTML] = {"<(?:html|body|div|p|br|table|td|span|a|strong|b|font|"
                 "h[1-6]|meta|center)\\b[^<>]{0,2000}>",
                 PCRE2_CASELESS},
};

struct finder {
	pcre2_code *rx[RX_COUNT];
	pcre2_match_data *md;
	pcre2_match_context *mc; /* bounds backtracking on hostile input */
	const char *s;           /* the normalised text */
	size_t len;
};

static void finder_free(struct finder *f)
{
	for (int i = 0; i < RX_COUNT; i++)
		pcre2_code_free(f->rx[i]);
	pcre2_match_data_free(f->md);
	pcre2_match_context_free(f->mc);
}

static int finder_init(struct finder *f)
{
	memset(f, 0, sizeof *f);
	for (int i = 0; i < RX_COUNT; i++) {
		int ec;
		PCRE2_SIZE off;
		f->rx[i] = pcre2_compile((PCRE2_SPTR)patterns[i].pat,
		                         PCRE2_ZERO_TERMINATED,
		                         patterns[i].flags, &ec, &off, NULL);
		if (!f->rx[i]) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(ec, msg, sizeof msg);
			finder_free(f);
			return sky_error_set(
			    SKY_ERROR,
			    "OTP pattern %d does not compile at "
			    "%zu: %s",
			    i, (size_t)off, (char *)msg);
		}
	}
	f->md = pcre2_match_data_create(4, NULL);
	f->mc = pcre2_match_context_create(NULL);
	if (f->mc)
		pcre2_set_match_limit(f->mc, 200000);
	if (!f->md || !f->mc) {
		finder_free(f);
		return sky_error_set(SKY_ENOMEM, "out of memory");
	}
	return 0;
}

/* Does pattern `id` match s[0..n) (from `from`)? On a match, *ms and
 * *me (may be NULL) get group `g`'s span. */
static int rx_at(struct finder *f, int id, const char *s, size_t n, size_t from,
                 int g, size_t *ms, size_t *me)
{
	int rc =
	    pcre2_match(f->rx[id], (PCRE2_SPTR)s, n, from, 0, f->md, f->mc);
	if (rc <= g)
		return 0;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(f->md);
	if (ov[2 * g] == PCRE2_UNSET)
		return 0;
	if (ms)
		*ms = ov[2 * g];
	if (me)
		*me = ov[2 * g + 1];
	return 1;
}

/* The text before [start) and after [end) a candidate, bounded. */
static int rx_before(struct finder *f, int id, size_t start)
{
	size_t from = start > CTX_BEFORE ? start - CTX_BEFORE : 0;
	return rx_at(f, id, f->s + from, start - from, 0, 0, NULL, NULL);
}

static int rx_after(struct finder *f, int id, size_t end)
{
	size_t n = f->len - end < CTX_AFTER ? f->len - end : CTX_AFTER;
	return rx_at(f, id, f->s + end, n, 0, 0, NULL, NULL);
}

static int rx_around(struct finder *f, int id, size_t start, size_t end)
{
	return rx_before(f, id, start) || rx_after(f, id, end);
}

static int on_own_line(const struct finder *f, size_t start, size_t end)
{
	size_t i = start;
	while (i > 0 && f->s[i - 1] == ' ')
		i--;
	if (i > 0 && f->s[i - 1] != '\n')
		return 0;
	i = end;
	while (i < f->len && f->s[i] == ' ')
		i++;
	return i == f->len || f->s[i] == '\n';
}

static int is_year(const char *s, size_t n)
{
	return n == 4 &&
	       ((s[0] == '1' && s[1] == '9') || (s[0] == '2' && s[1] == '0'));
}

/* Score of the candidate s[start..end), or NOT_A_CODE when it is
 * certainly not one. `alnum` for letters-and-digits candidates. */
#define NOT_A_CODE (-1000)

static int score_candidate(struct finder *f, size_t start, size_t end,
                           int alnum)
{
	int label = 0, score = 0;
	if (rx_before(f, RX_NEG_BEFORE, start) ||
	    rx_before(f, RX_MONEY_BEFORE, start) ||
	    rx_after(f, RX_UNIT_AFTER, end))
		return NOT_A_CODE;
	if (rx_before(f, RX_LABEL_BEFORE, start) ||
	    rx_after(f, RX_LABEL_AFTER, end))
		label = 10;
	else if (rx_after(f, RX_LABEL_NEAR_AFTER, end))
		label = 6;
	score += label;
	if (rx_before(f, RX_VERB_BEFORE, start))
		score += 4;
	if (rx_around(f, RX_KEYWORD, start, end))
		score += 3;
	if (rx_around(f, RX_CONTEXT, start, end))
		score += 2;
	if (on_own_line(f, start, end))
		score += 2;
	if (alnum) {
		/* Letters and digits pass only when labelled, and never in
		 * a marketing context ("use code SAVE20 at checkout"). */
		if (label < 10 || rx_around(f, RX_PROMO, start, end))
			return NOT_A_CODE;
	} else if (is_year(f->s + start, end - start) && label < 10) {
		return NOT_A_CODE;
	}
	return score;
}

struct best {
	int score;
	size_t start, end;
	int alnum;
};

static void consider(struct best *b, int score, size_t start, size_t end,
                     int alnum)
{
	if (score > b->score) {
		b->score = score;
		b->start = start;
		b->end = end;
		b->alnum = alnum;
	}
}

static int has_digit_and_letter(const char *s, size_t n)
{
	int d = 0, l = 0;
	for (size_t i = 0; i < n; i++) {
		d |= isdigit((unsigned char)s[i]) != 0;
		l |= isalpha((unsigned char)s[i]) != 0;
	}
	return d && l;
}

static void find_code(struct finder *f, struct best *best)
{
	size_t pos = 0, ms, me;
	int seen = 0;
	best->score = NOT_A_CODE;
	while (seen < MAX_CANDIDATES && pos < f->len &&
	       rx_at(f, RX_NUM, f->s, f->len, pos, 1, &ms, &me)) {
		consider(best, score_candidate(f, ms, me, 0), ms, me, 0);
		pos = me;
		seen++;
	}
	pos = 0;
	while (seen < MAX_CANDIDATES && pos < f->len &&
	       rx_at(f, RX_ALNUM, f->s, f->len, pos, 1, &ms, &me)) {
		if (has_digit_and_letter(f->s + ms, me - ms))
			consider(best, score_candidate(f, ms, me, 1), ms, me,
			         1);
		pos = me;
		seen++;
	}
}

/* A query value or path segment that looks like a token. */
static int tokenish(const char *s, size_t n, size_t min)
{
	size_t len = 0;
	int d = 0, l = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && !strchr("_-.~%+=", c))
			return 0;
		d |= isdigit(c) != 0;
		l |= isalpha(c) != 0;
		len++;
	}
	return len >= min && d && l;
}

/* How much a URL looks like it carries a sign-in token: 0 (not at all),
 * else 2-3. */
static int token_strength(const char *url)
{
	static const char *const names[] = {"token",
	                                    "code",
	                                    "otp",
	                                    "key",
	                                    "auth",
	                                    "magic",
	                                    "login_token",
	                                    "signin",
	                                    "sig",
	                                    "signature",
	                                    "hash",
	                                    "t",
	                                    "k",
	                                    "nonce",
	                                    "ticket",
	                                    "jwt",
	                                    "session",
	                                    "verify",
	                                    "verification",
	                                    "confirmation_token",
	                                    "link",
	                                    "st",
	                                    NULL};
	const char *q = strchr(url, '?');
	const char *path = strstr(url, "://");
	int best = 0;
	path = path ? strchr(path + 3, '/') : NULL;
	/* Path segments. */
	for (const char *p = path; p && *p == '/' && (!q || p < q);) {
		const char *seg = p + 1;
		size_t n = strcspn(seg, "/?#");
		if (tokenish(seg, n, 20))
			best = 2;
		p = seg + n;
	}
	/* Query parameters. */
	for (const char *p = q; p && *p;) {
		p++;
		size_t n = strcspn(p, "&#");
		const char *eq = memchr(p, '=', n);
		if (eq) {
			size_t kl = (size_t)(eq - p), vl = n - kl - 1;
			int named = 0;
			for (int i = 0; names[i]; i++)
				named |= strlen(names[i]) == kl &&
				         !strncasecmp(p, names[i], kl);
			if (tokenish(eq + 1, vl, named ? 6 : 16))
				best = 3;
		}
		p = p[n] ? p + n : NULL;
	}
	return best;
}

struct best_link {
	int score;
	size_t index;
};

static void find_link(struct finder *f, struct text *t, struct best_link *b)
{
	b->score = 0;
	for (size_t i = 0; i < t->n_links; i++) {
		struct link *l = &t->links[i];
		const char *url = l->url;
		size_t ulen = strlen(url);
		if (strncasecmp(url, "http://", 7) &&
		    strncasecmp(url, "https://", 8))
			continue;
		if (rx_at(f, RX_LINK_SKIP, url, ulen, 0, 0, NULL, NULL) ||
		    (l->anchor_end > l->pos &&
		     rx_at(f, RX_LINK_SKIP, f->s + l->pos,
		           l->anchor_end - l->pos, 0, 0, NULL, NULL)))
			continue;
		int token = token_strength(url);
		if (!token)
			continue;
		int words = 0;
		if (l->anchor_end > l->pos &&
		    rx_at(f, RX_LINK_WORDS, f->s + l->pos,
		          l->anchor_end - l->pos, 0, 0, NULL, NULL))
			words = 5;
		size_t from = l->pos > LINK_CTX ? l->pos - LINK_CTX : 0;
		size_t to = l->anchor_end + LINK_CTX < f->len
		                ? l->anchor_end + LINK_CTX
		                : f->len;
		if (!words && rx_at(f, RX_LINK_WORDS, f->s + from, to - from, 0,
		                    0, NULL, NULL))
			words = 3;
		if (!words)
			continue;
		int score =
		    words + token +
		    (rx_at(f, RX_LINK_PATH, url, ulen, 0, 0, NULL, NULL) ? 2
		                                                         : 0);
		if (score > b->score) {
			b->score = score;
			b->index = i;
		}
	}
}

/* Bare URLs of the text join the links (hrefs came first). */
static int collect_text_urls(struct finder *f, struct text *t)
{
	size_t pos = 0, ms, me;
	while (pos < f->len &&
	       rx_at(f, RX_URL, f->s, f->len, pos, 0, &ms, &me)) {
		size_t e = me;
		while (e > ms && strchr(".,;:!?", f->s[e - 1]))
			e--;
		int rc = add_link(t, f->s + ms, e - ms, ms);
		if (rc)
			return rc;
		pos = me;
	}
	return 0;
}

static char *code_value(const char *s, size_t n, int alnum)
{
	if (alnum)
		return skyx_strndup(s, n);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (isdigit((unsigned char)s[i]))
			*o++ = s[i];
	*o = '\0';
	return out;
}

static int found_new(sky_otp_kind kind, char *value, sky_otp_found **out)
{
	if (!value)
		return sky_error_set(SKY_ENOMEM, "out of memory");
	*out = malloc(sizeof **out);
	if (!*out) {
		free(value);
		return sky_error_set(SKY_ENOMEM, "out of memory");
	}
	(*out)->kind = kind;
	(*out)->value = value;
	return 0;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

int sky_otp_extract(const char *content, size_t len, sky_otp_found **out)
{
	struct text t = {0};
	struct finder f;
	struct best code = {0};
	struct best_link link = {0};
	char *decoded = NULL;
	int rc;

	*out = NULL;
	if (!content)
		return sky_error_set(SKY_EINVALID, "no content given");
	if (len > SKY_OTP_CONTENT_MAX)
		return sky_error_set(SKY_ETOOBIG,
		                     "content is %zu bytes; at most %u are "
		                     "searched for a code",
		                     len, SKY_OTP_CONTENT_MAX);
	if (blank(content, len))
		return sky_error_set(SKY_ENOTFOUND, "content is empty");
	if (len <= 10) {
		/* Skyvern: short content is the code itself, verbatim. Text
		 * with a NUL or other control characters (a NUL made an empty
		 * code: found by tests/fuzz/fuzz_otp) is not a code. */
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)content[i];
			if ((c < 0x20 && !isspace(c)) || c == 0x7f)
				return sky_error_set(
				    SKY_ENOTFOUND,
				    "short content holds control "
				    "characters: not a code");
		}
		return found_new(SKY_OTP_KIND_TOTP, skyx_strndup(content, len),
		                 out);
	}
	if ((rc = finder_init(&f)))
		return rc;
	if (looks_quoted_printable(content, len)) {
		size_t n;
		decoded = qp_decode(content, len, &n);
		if (!decoded) {
			rc = sky_error_set(SKY_ENOMEM, "out of memory");
			goto cleanup;
		}
		content = decoded;
		len = n;
	}
	if (rx_at(&f, RX_HTML, content, len, 0, 0, NULL, NULL))
		rc = html_to_text(content, len, &t);
	else
		emit_str(&t, content, len);
	skyx_buf_putc(&t.b, '\0');
	if (rc || t.b.oom) {
		rc = rc ? rc : sky_error_set(SKY_ENOMEM, "out of memory");
		goto cleanup;
	}
	f.s = t.b.data;
	f.len = t.b.len - 1;
	if ((rc = collect_text_urls(&f, &t)))
		goto cleanup;

	find_code(&f, &code);
	find_link(&f, &t, &link);
	if (code.score >= SCORE_STRONG ||
	    (code.score >= SCORE_MIN && !link.score))
		rc = found_new(SKY_OTP_KIND_TOTP,
		               code_value(f.s + code.start,
		                          code.end - code.start, code.alnum),
		               out);
	else if (link.score)
		rc = found_new(SKY_OTP_KIND_MAGIC_LINK,
		               skyx_strdup(t.links[link.index].url), out);
	else
		rc = sky_error_set(SKY_ENOTFOUND,
		                   "no verification code or sign-in link found "
		                   "in the content");
cleanup:
	for (size_t i = 0; i < t.n_links; i++)
		free(t.links[i].url);
	free(t.links);
	skyx_buf_free(&t.b);
	free(decoded);
	finder_free(&f);
	return rc;
}

void sky_otp_found_free(sky_otp_found *f)
{
	if (!f)
		return;
	free(f->value);
	free(f);
}

const char *sky_otp_kind_name(sky_otp_kind kind)
{
	switch (kind) {
	case SKY_OTP_KIND_TOTP:
		return "totp";
	case SKY_OTP_KIND_MAGIC_LINK:
		return "magic_link";
	}
	return NULL;
}
