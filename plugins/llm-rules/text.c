/* llm-rules: words, synonyms and value parsing shared by every rule. */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

/* ---- strings ------------------------------------------------------------ */

void sky_rules__buf_add(sky_rules_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			abort(); /* out of memory in a planner: nothing to save */
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void sky_rules__buf_puts(sky_rules_buf *b, const char *s)
{
	sky_rules__buf_add(b, s, strlen(s));
}

void sky_rules__buf_printf(sky_rules_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		sky_rules__buf_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		abort();
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sky_rules__buf_add(b, big, (size_t)n);
	free(big);
}

char *sky_rules__buf_take(sky_rules_buf *b)
{
	char *s = b->data ? b->data : sky_rules__strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

char *sky_rules__strdup(const char *s)
{
	return s ? sky_rules__strndup(s, strlen(s)) : NULL;
}

char *sky_rules__strndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		abort();
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *sky_rules__printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = malloc((size_t)(n < 0 ? 0 : n) + 1);
	if (!s)
		abort();
	va_start(ap, fmt);
	vsnprintf(s, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
	va_end(ap);
	return s;
}

char *sky_rules__clean_value(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && (isspace((unsigned char)s[n - 1]) || s[n - 1] == ',' ||
	             s[n - 1] == ';' || s[n - 1] == '.'))
		n--;
	return sky_rules__strndup(s, n);
}

char *sky_rules__squash(const char *s)
{
	sky_rules_buf b = {0};
	int space = 0;
	for (; s && *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = b.len > 0;
			continue;
		}
		if (space)
			sky_rules__buf_add(&b, " ", 1);
		space = 0;
		sky_rules__buf_add(&b, s, 1);
	}
	return sky_rules__buf_take(&b);
}

/* ---- folding and words -------------------------------------------------- */

/* Fold a UTF-8 sequence at s to an ASCII letter when it is an accented
 * Latin letter or a typographic quote; returns bytes consumed (0: none). */
static int fold_utf8(const unsigned char *s, char *out)
{
	static const struct {
		unsigned char b1, lo, hi;
		char to;
	} ranges[] = {
	    {0xc3, 0x80, 0x85, 'a'}, {0xc3, 0xa0, 0xa5, 'a'},
	    {0xc3, 0x87, 0x87, 'c'}, {0xc3, 0xa7, 0xa7, 'c'},
	    {0xc3, 0x88, 0x8b, 'e'}, {0xc3, 0xa8, 0xab, 'e'},
	    {0xc3, 0x8c, 0x8f, 'i'}, {0xc3, 0xac, 0xaf, 'i'},
	    {0xc3, 0x91, 0x91, 'n'}, {0xc3, 0xb1, 0xb1, 'n'},
	    {0xc3, 0x92, 0x96, 'o'}, {0xc3, 0xb2, 0xb6, 'o'},
	    {0xc3, 0x99, 0x9c, 'u'}, {0xc3, 0xb9, 0xbc, 'u'},
	};
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (s[0] == ranges[i].b1 && s[1] >= ranges[i].lo &&
		    s[1] <= ranges[i].hi) {
			*out = ranges[i].to;
			return 2;
		}
	/* U+2018/2019 quotes -> apostrophe (dropped as punctuation) */
	if (s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0x98 || s[2] == 0x99)) {
		*out = '\'';
		return 3;
	}
	return 0;
}

/* Lower-case, fold accents, split camelCase and letter/digit runs, and
 * turn every non-word byte into a space. '#' becomes " number ". */
static char *fold(const char *text)
{
	sky_rules_buf b = {0};
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	int prev = 0; /* 1 lower, 2 upper, 3 digit */
	while (*s) {
		char c;
		int n = fold_utf8(s, &c);
		if (n) {
			s += n;
		} else {
			c = (char)*s++;
		}
		unsigned char u = (unsigned char)c;
		int cls = islower(u) ? 1 : isupper(u) ? 2 : isdigit(u) ? 3 : 0;
		if (u >= 0x80)
			cls = 1;
		if ((prev == 1 && cls == 2) ||
		    (prev && cls && prev != 3 && cls == 3) ||
		    (prev == 3 && (cls == 1 || cls == 2)))
			sky_rules__buf_add(&b, " ", 1);
		if (c == '#') {
			sky_rules__buf_puts(&b, " number ");
		} else if (cls) {
			char l = (char)(cls == 2 ? tolower(u) : u);
			sky_rules__buf_add(&b, &l, 1);
		} else if (c == '.' && b.len >= 2 &&
		           !strcmp(b.data + b.len - 2, "no") &&
		           (b.len == 2 || b.data[b.len - 3] == ' ')) {
			/* "Serial no." */
			b.len -= 2;
			sky_rules__buf_puts(&b, "number ");
		} else if (c == '\'') {
			/* "don't" stays one word */
		} else {
			sky_rules__buf_add(&b, " ", 1);
		}
		prev = cls;
	}
	return sky_rules__buf_take(&b);
}

char *sky_rules__plain(const char *text)
{
	char *f = fold(text);
	char *p = sky_rules__squash(f);
	free(f);
	return p;
}

static const char *const STOP[] = {
    "a",      "an",    "the",      "my",       "your",  "our",     "their",
    "his",    "her",   "its",      "of",       "for",   "to",      "in",
    "on",     "at",    "by",       "with",     "and",   "or",      "is",
    "are",    "be",    "been",     "this",     "that",  "these",   "those",
    "please", "enter", "optional", "required", "here",  "me",      "i",
    "you",    "we",    "it",       "as",       "from",  "into",    "what",
    "which",  "who",   "select",   "choose",   "pick",  "provide", "fill",
    "input",  "eg",    "etc",      "will",     "would", "like",    "want",
    "should", "must",  "can",      "do",       "does",  "also",    "then",
    "just",   "only",  "us",       "am",       "was",   "were",    "if",
    "so",     "such",  "use",      "using",    "via",   "per",     NULL,
};

static int is_stop(const char *w)
{
	for (size_t i = 0; STOP[i]; i++)
		if (!strcmp(STOP[i], w))
			return 1;
	return 0;
}

/* Light stemming: plurals only, so "comments"/"comment" meet without
 * mangling "address" or "status". */
static void stem(char *w)
{
	size_t n = strlen(w);
	if (n > 4 && !strcmp(w + n - 3, "ies")) {
		strcpy(w + n - 3, "y");
		return;
	}
	if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u' &&
	    w[n - 2] != 'i')
		w[n - 1] = '\0';
}

char *sky_rules__words(const char *text)
{
	char *f = fold(text);
	sky_rules_buf b = {0};
	char *save = NULL;
	int after_e = 0;
	for (char *w = strtok_r(f, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		/* "e mail" and "e-mail" are "email"; a lone "e" is dropped */
		if (!strcmp(w, "e")) {
			after_e = 1;
			continue;
		}
		if (after_e && !strcmp(w, "mail"))
			w = "email";
		after_e = 0;
		if (!strcmp(w, "num") || !strcmp(w, "nr"))
			w = "number";
		if (is_stop(w))
			continue;
		char word[64];
		snprintf(word, sizeof word, "%s", w);
		stem(word);
		if (b.len)
			sky_rules__buf_add(&b, " ", 1);
		sky_rules__buf_puts(&b, word);
	}
	free(f);
	return sky_rules__buf_take(&b);
}

/* Split a words() string into an array of pointers (into `s`). */
static size_t split(char *s, char **out, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *w = strtok_r(s, " ", &save); w && n < max;
	     w = strtok_r(NULL, " ", &save))
		out[n++] = w;
	return n;
}

static double word_sim(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), p = 0;
	if (!strcmp(a, b))
		return 1.0;
	while (p < la && p < lb && a[p] == b[p])
		p++;
	size_t shorter = la < lb ? la : lb;
	if (p >= 4 && p * 10 >= shorter * 6)
		return 0.8;
	return 0.0;
}

double sky_rules__similarity(const char *a, const char *b)
{
	char *wa = sky_rules__words(a), *wb = sky_rules__words(b);
	char *ta[64], *tb[64];
	size_t na = split(wa, ta, 64), nb = split(wb, tb, 64);
	double sa = 0, sb = 0;
	for (size_t i = 0; i < na; i++) {
		double best = 0;
		for (size_t j = 0; j < nb; j++) {
			double s = word_sim(ta[i], tb[j]);
			best = s > best ? s : best;
		}
		sa += best;
	}
	for (size_t j = 0; j < nb; j++) {
		double best = 0;
		for (size_t i = 0; i < na; i++) {
			double s = word_sim(ta[i], tb[j]);
			best = s > best ? s : best;
		}
		sb += best;
	}
	double r = na + nb ? (sa + sb) / (double)(na + nb) : 0.0;
	free(wa);
	free(wb);
	return r;
}

double sky_rules__key_similarity(const char *key, const char *label)
{
	double dice = sky_rules__similarity(key, label);
	char *wk = sky_rules__words(key), *wl = sky_rules__words(label);
	char *tk[64], *tl[64];
	size_t nk = split(wk, tk, 64), nl = split(wl, tl, 64);
	double cover = 0;
	for (size_t i = 0; i < nk; i++) {
		double best = 0;
		for (size_t j = 0; j < nl; j++) {
			double s = word_sim(tk[i], tl[j]);
			best = s > best ? s : best;
		}
		cover += best;
	}
	free(wk);
	free(wl);
	cover = nk ? 0.85 * cover / (double)nk : 0;
	return cover > dice ? cover : dice;
}

int sky_rules__has_phrase(const char *text, const char *phrase)
{
	char *t = sky_rules__plain(text), *p = sky_rules__plain(phrase);
	size_t pl = strlen(p);
	int found = 0;
	if (pl) {
		for (char *h = strstr(t, p); h && !found; h = strstr(h + 1, p))
			found = (h == t || h[-1] == ' ') &&
			        (h[pl] == '\0' || h[pl] == ' ');
	}
	free(t);
	free(p);
	return found;
}

const char *sky_rules__find_any(const char *text, const char *const *phrases)
{
	for (size_t i = 0; phrases[i]; i++)
		if (sky_rules__has_phrase(text, phrases[i]))
			return phrases[i];
	return NULL;
}

/* ---- concepts ----------------------------------------------------------- */

static const struct {
	const char *phrase;
	int concept;
} CONCEPTS[] = {
    /* longer phrases that would otherwise read as a name */
    {"company name", SKY_RULES_C_COMPANY},
    {"organization name", SKY_RULES_C_COMPANY},
    {"organisation name", SKY_RULES_C_COMPANY},
    {"business name", SKY_RULES_C_COMPANY},
    {"user name", SKY_RULES_C_USERNAME},
    {"display name", SKY_RULES_C_NONE},
    {"file name", SKY_RULES_C_NONE},
    {"product name", SKY_RULES_C_NONE},
    {"workspace name", SKY_RULES_C_NONE},
    {"project name", SKY_RULES_C_NONE},
    {"street name", SKY_RULES_C_ADDRESS},
    {"email address", SKY_RULES_C_EMAIL},
    {"web address", SKY_RULES_C_WEBSITE},
    {"ip address", SKY_RULES_C_NONE},
    {"postal code", SKY_RULES_C_ZIP},
    {"post code", SKY_RULES_C_ZIP},
    {"zip code", SKY_RULES_C_ZIP},
    {"promo code", SKY_RULES_C_NONE},
    {"discount code", SKY_RULES_C_NONE},
    {"country code", SKY_RULES_C_NONE},
    {"verification code", SKY_RULES_C_OTP},
    {"authentication code", SKY_RULES_C_OTP},
    {"security code", SKY_RULES_C_OTP},
    {"one time code", SKY_RULES_C_OTP},
    {"one time password", SKY_RULES_C_OTP},
    {"one time passcode", SKY_RULES_C_OTP},
    {"login code", SKY_RULES_C_OTP},
    {"sms code", SKY_RULES_C_OTP},
    {"digit code", SKY_RULES_C_OTP},
    {"two factor", SKY_RULES_C_OTP},
    {"2fa", SKY_RULES_C_OTP},
    {"otp", SKY_RULES_C_OTP},
    {"mfa", SKY_RULES_C_OTP},
    {"totp", SKY_RULES_C_OTP},
    {"authenticator", SKY_RULES_C_OTP},
    {"first name", SKY_RULES_C_FIRST_NAME},
    {"given name", SKY_RULES_C_FIRST_NAME},
    {"forename", SKY_RULES_C_FIRST_NAME},
    {"fname", SKY_RULES_C_FIRST_NAME},
    {"firstname", SKY_RULES_C_FIRST_NAME},
    {"givenname", SKY_RULES_C_FIRST_NAME},
    {"last name", SKY_RULES_C_LAST_NAME},
    {"family name", SKY_RULES_C_LAST_NAME},
    {"surname", SKY_RULES_C_LAST_NAME},
    {"lname", SKY_RULES_C_LAST_NAME},
    {"lastname", SKY_RULES_C_LAST_NAME},
    {"familyname", SKY_RULES_C_LAST_NAME},
    {"middle name", SKY_RULES_C_MIDDLE_NAME},
    {"middle initial", SKY_RULES_C_MIDDLE_NAME},
    {"full name", SKY_RULES_C_FULL_NAME},
    {"fullname", SKY_RULES_C_FULL_NAME},
    {"name", SKY_RULES_C_FULL_NAME},
    {"email", SKY_RULES_C_EMAIL},
    {"mail", SKY_RULES_C_EMAIL},
    {"phone", SKY_RULES_C_PHONE},
    {"telephone", SKY_RULES_C_PHONE},
    {"tel", SKY_RULES_C_PHONE},
    {"mobile", SKY_RULES_C_PHONE},
    {"cell", SKY_RULES_C_PHONE},
    {"cellphone", SKY_RULES_C_PHONE},
    {"contact number", SKY_RULES_C_PHONE},
    {"zip", SKY_RULES_C_ZIP},
    {"zipcode", SKY_RULES_C_ZIP},
    {"postcode", SKY_RULES_C_ZIP},
    {"postal", SKY_RULES_C_ZIP},
    {"street", SKY_RULES_C_ADDRESS},
    {"address", SKY_RULES_C_ADDRESS},
    {"address line 1", SKY_RULES_C_ADDRESS},
    {"city", SKY_RULES_C_CITY},
    {"town", SKY_RULES_C_CITY},
    {"current location", SKY_RULES_C_CITY},
    {"state", SKY_RULES_C_STATE},
    {"province", SKY_RULES_C_STATE},
    {"region", SKY_RULES_C_STATE},
    {"country", SKY_RULES_C_COUNTRY},
    {"company", SKY_RULES_C_COMPANY},
    {"organization", SKY_RULES_C_COMPANY},
    {"organisation", SKY_RULES_C_COMPANY},
    {"employer", SKY_RULES_C_COMPANY},
    {"username", SKY_RULES_C_USERNAME},
    {"login", SKY_RULES_C_USERNAME},
    {"user id", SKY_RULES_C_USERNAME},
    {"userid", SKY_RULES_C_USERNAME},
    {"user", SKY_RULES_C_USERNAME},
    {"password", SKY_RULES_C_PASSWORD},
    {"passphrase", SKY_RULES_C_PASSWORD},
    {"pwd", SKY_RULES_C_PASSWORD},
    {"pass", SKY_RULES_C_PASSWORD},
    {"message", SKY_RULES_C_MESSAGE},
    {"comment", SKY_RULES_C_MESSAGE},
    {"body", SKY_RULES_C_MESSAGE},
    {"enquiry", SKY_RULES_C_MESSAGE},
    {"inquiry", SKY_RULES_C_MESSAGE},
    {"question", SKY_RULES_C_MESSAGE},
    {"note", SKY_RULES_C_MESSAGE},
    {"issue", SKY_RULES_C_MESSAGE},
    {"problem", SKY_RULES_C_MESSAGE},
    {"description", SKY_RULES_C_MESSAGE},
    {"search", SKY_RULES_C_SEARCH},
    {"query", SKY_RULES_C_SEARCH},
    {"keyword", SKY_RULES_C_SEARCH},
    {"date birth", SKY_RULES_C_DOB},
    {"birth date", SKY_RULES_C_DOB},
    {"birthday", SKY_RULES_C_DOB},
    {"dob", SKY_RULES_C_DOB},
    {"website", SKY_RULES_C_WEBSITE},
    {"web site", SKY_RULES_C_WEBSITE},
    {"homepage", SKY_RULES_C_WEBSITE},
    {"url", SKY_RULES_C_WEBSITE},
    {"resume", SKY_RULES_C_FILE},
    {"cv", SKY_RULES_C_FILE},
    {"attachment", SKY_RULES_C_FILE},
    {"file", SKY_RULES_C_FILE},
    {"upload", SKY_RULES_C_FILE},
};
#define N_CONCEPTS (sizeof CONCEPTS / sizeof CONCEPTS[0])

/* The table's phrases as words(), computed once into static storage
 * (nothing to free when the plugin is unloaded). */
static char concept_words[N_CONCEPTS][32];
static size_t concept_len[N_CONCEPTS];
static pthread_once_t concept_once = PTHREAD_ONCE_INIT;

static void concept_init(void)
{
	for (size_t i = 0; i < N_CONCEPTS; i++) {
		char *w = sky_rules__words(CONCEPTS[i].phrase);
		snprintf(concept_words[i], sizeof concept_words[i], "%s", w);
		free(w);
		concept_len[i] = 1;
		for (const char *c = concept_words[i]; *c; c++)
			concept_len[i] += *c == ' ';
	}
}

int sky_rules__concept(const char *text)
{
	pthread_once(&concept_once, concept_init);
	char *w = sky_rules__words(text);
	size_t wl = strlen(w);
	int best = SKY_RULES_C_NONE;
	size_t best_len = 0;
	for (size_t i = 0; i < N_CONCEPTS; i++) {
		const char *p = concept_words[i];
		size_t pl = strlen(p);
		if (!pl || concept_len[i] <= best_len)
			continue;
		for (const char *h = strstr(w, p); h; h = strstr(h + 1, p)) {
			if ((h == w || h[-1] == ' ') &&
			    (h + pl == w + wl || h[pl] == ' ')) {
				best = CONCEPTS[i].concept;
				best_len = concept_len[i];
				break;
			}
		}
	}
	free(w);
	return best;
}

int sky_rules__concept_autocomplete(const char *ac)
{
	static const struct {
		const char *token;
		int concept;
	} AC[] = {
	    {"given-name", SKY_RULES_C_FIRST_NAME},
	    {"family-name", SKY_RULES_C_LAST_NAME},
	    {"additional-name", SKY_RULES_C_MIDDLE_NAME},
	    {"name", SKY_RULES_C_FULL_NAME},
	    {"email", SKY_RULES_C_EMAIL},
	    {"tel", SKY_RULES_C_PHONE},
	    {"tel-national", SKY_RULES_C_PHONE},
	    {"postal-code", SKY_RULES_C_ZIP},
	    {"street-address", SKY_RULES_C_ADDRESS},
	    {"address-line1", SKY_RULES_C_ADDRESS},
	    {"address-level2", SKY_RULES_C_CITY},
	    {"address-level1", SKY_RULES_C_STATE},
	    {"country", SKY_RULES_C_COUNTRY},
	    {"country-name", SKY_RULES_C_COUNTRY},
	    {"organization", SKY_RULES_C_COMPANY},
	    {"username", SKY_RULES_C_USERNAME},
	    {"current-password", SKY_RULES_C_PASSWORD},
	    {"new-password", SKY_RULES_C_PASSWORD},
	    {"one-time-code", SKY_RULES_C_OTP},
	    {"bday", SKY_RULES_C_DOB},
	    {"url", SKY_RULES_C_WEBSITE},
	};
	if (!ac || !*ac)
		return SKY_RULES_C_NONE;
	/* the last token is the field name ("shipping postal-code") */
	const char *last = strrchr(ac, ' ');
	last = last ? last + 1 : ac;
	for (size_t i = 0; i < sizeof AC / sizeof AC[0]; i++)
		if (!strcasecmp(last, AC[i].token))
	return AC[i].concept;
	return SKY_RULES_C_NONE;
}

const char *sky_rules__concept_name(int c)
{
	static const char *const names[] = {
	    "",           "email",       "phone",
	    "first name", "last name",   "middle name",
	    "name",       "postal code", "address",
	    "city",       "state",       "country",
	    "company",    "username",    "password",
	    "message",    "search",      "date of birth",
	    "website",    "file",        "verification code",
	};
	if (c < 0 || (size_t)c >= sizeof names / sizeof names[0])
		return "";
	return names[c];
}

/* ---- value shapes -------------------------------------------------------- */

int sky_rules__is_email(const char *s)
{
	const char *at = s ? strchr(s, '@') : NULL;
	if (!at || at == s || strchr(at + 1, '@') || strpbrk(s, " \t\n"))
		return 0;
	const char *dot = strrchr(at, '.');
	return dot && dot > at + 1 && dot[1];
}

int sky_rules__is_phone(const char *s)
{
	int digits = 0;
	for (; s && *s; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (!strchr(" +-().", *s))
			return 0;
	}
	return digits >= 6 && digits <= 15;
}

int sky_rules__is_file_ref(const char *s)
{
	static const char *const EXT[] = {
	    ".pdf",  ".txt", ".doc",  ".docx", ".odt", ".rtf",
	    ".png",  ".jpg", ".jpeg", ".gif",  ".csv", ".xls",
	    ".xlsx", ".zip", ".json", ".xml",  ".md",  NULL,
	};
	if (!s || !*s || strchr(s, ' '))
		return 0;
	if (!strncmp(s, "file://", 7) || s[0] == '/' || !strncmp(s, "./", 2) ||
	    !strncmp(s, "~/", 2))
		return strlen(s) > 1;
	const char *dot = strrchr(s, '.');
	for (size_t i = 0; dot && EXT[i]; i++)
		if (!strcasecmp(dot, EXT[i]))
			return !sky_rules__is_email(s);
	return 0;
}

int sky_rules__parse_number(const char *s, double *out)
{
	const char *p = s;
	int neg = 0;
	char digits[128];
	size_t n = 0;
	if (!s)
		return -1;
	while (*p && !isdigit((unsigned char)*p)) {
		if (*p == '-' || *p == '(')
			neg = isdigit((unsigned char)p[1]) ||
			      (p[1] && !isalpha((unsigned char)p[1]) &&
			       isdigit((unsigned char)p[2]));
		else if (isalpha((unsigned char)*p) && neg)
			neg = 0;
		p++;
	}
	if (!*p)
		return -1;
	/* the numeric run: digits and separators between digits */
	int dots = 0, commas = 0;
	char last_sep = 0;
	size_t after_last = 0;
	for (; *p && n < sizeof digits - 1; p++) {
		if (isdigit((unsigned char)*p)) {
			digits[n++] = *p;
			after_last++;
		} else if ((*p == '.' || *p == ',' || *p == '\'') &&
		           isdigit((unsigned char)p[1])) {
			digits[n++] = *p;
			dots += *p == '.';
			commas += *p == ',';
			last_sep = *p;
			after_last = 0;
		} else if (*p == ' ' && isdigit((unsigned char)p[1]) &&
		           isdigit((unsigned char)p[2]) &&
		           isdigit((unsigned char)p[3]) &&
		           !isdigit((unsigned char)p[4]) && after_last <= 3) {
			digits[n++] = '\''; /* "1 234,50" */
		} else {
			break;
		}
	}
	digits[n] = '\0';
	/* which separator is the decimal point? */
	char dec = 0;
	if (dots && commas)
		dec = last_sep;
	else if (commas == 1 && after_last != 3)
		dec = ',';
	else if (dots == 1)
		dec = '.';
	char clean[128];
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)digits[i]))
			clean[m++] = digits[i];
		else if (digits[i] == dec)
			clean[m++] = '.';
	}
	clean[m] = '\0';
	if (!m)
		return -1;
	*out = strtod(clean, NULL) * (neg ? -1 : 1);
	return 0;
}

static int month_of(const char *w)
{
	static const char *const M[] = {"jan", "feb", "mar", "apr",
	                                "may", "jun", "jul", "aug",
	                                "sep", "oct", "nov", "dec"};
	if (strlen(w) < 3)
		return 0;
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(w, M[i], 3))
			return i + 1;
	return 0;
}

static int valid_date(int y, int m, int d)
{
	static const int days[] = {31, 29, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};
	return y >= 1000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= days[m - 1];
}

int sky_rules__parse_date(const char *s, char out[11])
{
	int y = 0, m = 0, d = 0;
	char w1[32] = "", w2[32] = "";
	if (!s)
		return -1;
	while (*s && isspace((unsigned char)*s))
		s++;
	/* a leading weekday ("Tue, 5 March 2024") */
	if (isalpha((unsigned char)*s) && !month_of(s)) {
		const char *sp = strpbrk(s, " ,");
		if (sp)
			s = sp + strspn(sp, " ,");
	}
	if (strlen(s) >= 8 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[3]) && (s[4] == '-' || s[4] == '/') &&
	    (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) == 3 ||
	     sscanf(s, "%4d/%2d/%2d", &y, &m, &d) == 3)) {
		/* ISO or Y/M/D */
	} else if (sscanf(s, "%2d.%2d.%4d", &d, &m, &y) == 3) {
		/* European D.M.Y */
	} else if (sscanf(s, "%2d/%2d/%4d", &m, &d, &y) == 3 ||
	           sscanf(s, "%2d-%2d-%4d", &m, &d, &y) == 3) {
		if (m > 12 && d <= 12) { /* clearly D/M/Y */
			int t = m;
			m = d;
			d = t;
		}
	} else if (sscanf(s, "%31[A-Za-z] %d%*[a-z,] %d", w1, &d, &y) == 3 ||
	           sscanf(s, "%31[A-Za-z]. %d, %d", w1, &d, &y) == 3) {
		m = month_of(w1);
	} else if (sscanf(s, "%d%*[a-z] %31[A-Za-z] %d", &d, w2, &y) == 3 ||
	           sscanf(s, "%d %31[A-Za-z], %d", &d, w2, &y) == 3 ||
	           sscanf(s, "%d %31[A-Za-z] %d", &d, w2, &y) == 3 ||
	           sscanf(s, "%d-%31[A-Za-z]-%d", &d, w2, &y) == 3) {
		m = month_of(w2);
	}
	if (!valid_date(y, m, d))
		return -1;
	/* valid_date() bounds the parts: the text fits in 11 bytes */
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u,
	         (unsigned)m % 13u, (unsigned)d % 32u);
	return 0;
}

int sky_rules__parse_bool(const char *s)
{
	static const char *const YES[] = {
	    "yes",     "y",      "true",         "on",
	    "checked", "1",      "available",    "in stock",
	    "enabled", "active", "\xe2\x9c\x93", "\xe2\x9c\x94",
	    "ok",      "agree",  "accepted",     NULL,
	};
	static const char *const NO[] = {
	    "no",
	    "n",
	    "false",
	    "off",
	    "0",
	    "unavailable",
	    "out of stock",
	    "sold out",
	    "disabled",
	    "inactive",
	    "none",
	    "\xe2\x9c\x97",
	    "\xe2\x9c\x98",
	    "not available",
	    NULL,
	};
	char *t = sky_rules__squash(s);
	for (char *c = t; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	size_t n = strlen(t);
	while (n && (t[n - 1] == '.' || t[n - 1] == '!'))
		t[--n] = '\0';
	int r = -1;
	for (size_t i = 0; NO[i] && r < 0; i++)
		if (!strcmp(t, NO[i]))
			r = 0;
	for (size_t i = 0; YES[i] && r < 0; i++)
		if (!strcmp(t, YES[i]))
			r = 1;
	free(t);
	return r;
}

char *sky_rules__dump(const json_t *v)
{
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return t ? t : sky_rules__strdup("null");
}

/* ---- countries ----------------------------------------------------------- */

static const struct {
	const char *code, *names[5];
} COUNTRIES[] = {
    {"US",
     {"united states", "usa", "united states of america", "america",
      "american"}},
    {"CA", {"canada", "canadian", NULL}},
    {"GB", {"united kingdom", "uk", "great britain", "britain", "british"}},
    {"IE", {"ireland", "irish", NULL}},
    {"AU", {"australia", "australian", NULL}},
    {"NZ", {"new zealand", "kiwi", NULL}},
    {"DE", {"germany", "german", "deutschland", NULL}},
    {"FR", {"france", "french", NULL}},
    {"ES", {"spain", "spanish", "espana", NULL}},
    {"PT", {"portugal", "portuguese", NULL}},
    {"IT", {"italy", "italian", NULL}},
    {"NL", {"netherlands", "dutch", "the netherlands", "holland", NULL}},
    {"BE", {"belgium", "belgian", NULL}},
    {"CH", {"switzerland", "swiss", NULL}},
    {"AT", {"austria", "austrian", NULL}},
    {"SE", {"sweden", "swedish", NULL}},
    {"NO", {"norway", "norwegian", NULL}},
    {"DK", {"denmark", "danish", NULL}},
    {"FI", {"finland", "finnish", NULL}},
    {"PL", {"poland", "polish", NULL}},
    {"CZ", {"czech republic", "czechia", "czech", NULL}},
    {"GR", {"greece", "greek", NULL}},
    {"TR", {"turkey", "turkiye", "turkish", NULL}},
    {"MX", {"mexico", "mexican", NULL}},
    {"BR", {"brazil", "brazilian", NULL}},
    {"AR", {"argentina", "argentinian", "argentine", NULL}},
    {"CL", {"chile", "chilean", NULL}},
    {"CO", {"colombia", "colombian", NULL}},
    {"JP", {"japan", "japanese", NULL}},
    {"CN", {"china", "chinese", NULL}},
    {"KR", {"south korea", "korea", "korean", NULL}},
    {"IN", {"india", "indian", NULL}},
    {"SG", {"singapore", "singaporean", NULL}},
    {"ZA", {"south africa", "south african", NULL}},
    {"NG", {"nigeria", "nigerian", NULL}},
    {"KE", {"kenya", "kenyan", NULL}},
    {"EG", {"egypt", "egyptian", NULL}},
    {"IL", {"israel", "israeli", NULL}},
    {"AE", {"united arab emirates", "uae", "emirati", NULL}},
    {"SA", {"saudi arabia", "saudi", NULL}},
    {"RU", {"russia", "russian", NULL}},
    {"UA", {"ukraine", "ukrainian", NULL}},
    {"RO", {"romania", "romanian", NULL}},
    {"HU", {"hungary", "hungarian", NULL}},
    {"PH", {"philippines", "filipino", NULL}},
    {"ID", {"indonesia", "indonesian", NULL}},
    {"MY", {"malaysia", "malaysian", NULL}},
    {"TH", {"thailand", "thai", NULL}},
    {"VN", {"vietnam", "vietnamese", "viet nam", NULL}},
    {"PK", {"pakistan", "pakistani", NULL}},
    {"IS", {"iceland", "icelandic", NULL}},
    {"LU", {"luxembourg", NULL}},
    {"EE", {"estonia", "estonian", NULL}},
};

const char *sky_rules__country_code(const char *text)
{
	char *p = sky_rules__plain(text);
	const char *code = NULL;
	size_t n = strlen(p);
	while (n && p[n - 1] == ' ')
		p[--n] = '\0';
	const char *q = p;
	while (*q == ' ')
		q++;
	for (size_t i = 0; !code && i < sizeof COUNTRIES / sizeof COUNTRIES[0];
	     i++) {
		if (!strcasecmp(q, COUNTRIES[i].code))
			code = COUNTRIES[i].code;
		for (size_t k = 0; !code && k < 5 && COUNTRIES[i].names[k]; k++)
			if (!strcmp(q, COUNTRIES[i].names[k]))
				code = COUNTRIES[i].code;
	}
	free(p);
	return code;
}

int sky_rules__parse_time(const char *s)
{
	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	char *end;
	long h = strtol(s, &end, 10), m = 0;
	int has_min = 0;
	if (*end == ':' || *end == '.') {
		if (!isdigit((unsigned char)end[1]))
			return -1;
		m = strtol(end + 1, &end, 10);
		has_min = 1;
	}
	while (*end == ' ')
		end++;
	int pm = -1;
	if ((end[0] == 'a' || end[0] == 'A' || end[0] == 'p' ||
	     end[0] == 'P') &&
	    (end[1] == 'm' || end[1] == 'M' || end[1] == '.')) {
		pm = end[0] == 'p' || end[0] == 'P';
		end += 2;
		if (*end == '.')
			end++;
	}
	while (*end == ' ')
		end++;
	if (*end || (!has_min && pm < 0) || h > 24 || m > 59)
		return -1;
	if (pm == 1 && h < 12)
		h += 12;
	if (pm == 0 && h == 12)
		h = 0;
	return (int)(h * 60 + m);
}
