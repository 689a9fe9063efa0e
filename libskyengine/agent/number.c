/*
 * Numbers as pages write them (docs/replay.md "Numbers"): "1,234.56",
 * "1.234,56", "1 234,56" with non-breaking or thin spaces, "1'234.56",
 * a currency symbol or code before or after, a minus or parentheses for
 * a negative amount, a percent sign. Used by replay to read a value back
 * in the type the recorded run extracted, and to find that value on the
 * recorded page.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

/* Bytes of a space that may group digits or pad a currency at s, else 0:
 * ASCII space, no-break space, the U+2000..U+200A spaces (thin, figure,
 * ...), narrow no-break space. */
static size_t space_len(const unsigned char *s)
{
	if (*s == ' ' || *s == '\t')
		return 1;
	if (s[0] == 0xC2 && s[1] == 0xA0)
		return 2;
	if (s[0] == 0xE2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xAF))
		return 3;
	return 0;
}

/* Bytes of a currency symbol at s, else 0: $, ¢ £ ¤ ¥, the U+20A0..U+20CF
 * block (€ ₹ ₽ ₩ ...), ฿. */
static size_t symbol_len(const unsigned char *s)
{
	if (*s == '$')
		return 1;
	if (s[0] == 0xC2 && s[1] >= 0xA2 && s[1] <= 0xA5)
		return 2;
	if (s[0] == 0xE2 && ((s[1] == 0x82 && s[2] >= 0xA0 && s[2] <= 0xBF) ||
	                     (s[1] == 0x83 && s[2] >= 0x80 && s[2] <= 0x8F)))
		return 3;
	if (s[0] == 0xE0 && s[1] == 0xB8 && s[2] == 0xBF)
		return 3;
	return 0;
}

/* Bytes of a currency code at s ("USD", "EUR", "CHF"; "US$", "R$"), else
 * 0: three upper-case letters that a space, a digit or the end follows
 * ("REF-12" is no amount). */
static size_t code_len(const unsigned char *s)
{
	size_t n = 0;
	while (n < 3 && isupper(s[n]))
		n++;
	if (n >= 1 && n <= 2 && s[n] == '$')
		return n + 1;
	if (n == 3 && (!s[3] || isdigit(s[3]) || space_len(s + 3)))
		return 3;
	return 0;
}

/* Bytes of a minus sign at s ('-' or U+2212), else 0. */
static size_t minus_len(const unsigned char *s)
{
	if (*s == '-')
		return 1;
	if (s[0] == 0xE2 && s[1] == 0x88 && s[2] == 0x92)
		return 3;
	return 0;
}

/* Bytes of an apostrophe grouping digits ("1'234"), else 0. */
static size_t apos_len(const unsigned char *s)
{
	if (*s == '\'')
		return 1;
	if (s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0x99)
		return 3;
	return 0;
}

enum { SEP_DOT, SEP_COMMA, SEP_GROUP };

#define MAX_SEPS 16

typedef struct digits {
	char d[64];
	size_t n;
	int kind[MAX_SEPS];
	size_t at[MAX_SEPS]; /* digits before the separator */
	size_t seps;
} digits;

/* Read digits and the separators between them from s: the bytes read.
 * A space or an apostrophe counts only between digits. */
static size_t read_digits(const unsigned char *s, digits *dg)
{
	size_t i = 0;
	memset(dg, 0, sizeof *dg);
	for (;;) {
		if (isdigit(s[i])) {
			if (dg->n + 1 >= sizeof dg->d)
				return 0;
			dg->d[dg->n++] = (char)s[i++];
			continue;
		}
		if (!dg->n)
			break;
		size_t k = 0;
		int kind;
		if (s[i] == '.' || s[i] == ',') {
			k = 1;
			kind = s[i] == '.' ? SEP_DOT : SEP_COMMA;
		} else if ((k = space_len(s + i)) || (k = apos_len(s + i))) {
			kind = SEP_GROUP;
		} else {
			break;
		}
		if (!isdigit(s[i + k]) || dg->seps == MAX_SEPS)
			break;
		dg->kind[dg->seps] = kind;
		dg->at[dg->seps++] = dg->n;
		i += k;
	}
	return i;
}

/* The decimal separator of dg: SEP_DOT, SEP_COMMA, or -1 (a whole
 * number). *mark: the decimal mark the text shows or implies ('.' or
 * ','; 0 when it says nothing); *ambiguous: a lone '.' or ',' before
 * exactly 3 digits ("1,234"), read by the hint, else as a thousands
 * separator. */
static int decimal_of(const digits *dg, char hint, char *mark, int *ambiguous)
{
	size_t dots = 0, commas = 0, groups = 0, at = 0;
	int last = -1;
	*mark = 0;
	*ambiguous = 0;
	for (size_t i = 0; i < dg->seps; i++) {
		if (dg->kind[i] == SEP_GROUP) {
			groups++;
			continue;
		}
		dots += dg->kind[i] == SEP_DOT;
		commas += dg->kind[i] == SEP_COMMA;
		last = dg->kind[i];
		at = dg->at[i];
	}
	if (dots && commas) {
		/* "1,234.56", "1.234,56": the last one is the decimal. */
		*mark = last == SEP_DOT ? '.' : ',';
		return last;
	}
	if (!dots && !commas)
		return -1;
	char c = dots ? '.' : ',', other = dots ? ',' : '.';
	if (dots + commas > 1) {
		/* "1,234,567": grouping only. */
		*mark = other;
		return -1;
	}
	size_t after = dg->n - at;
	if (after != 3 || at > 3 || groups || (at == 1 && dg->d[0] == '0')) {
		*mark = c;
		return last;
	}
	*ambiguous = 1;
	if (hint == c) {
		*mark = c;
		return last;
	}
	*mark = other;
	return -1;
}

/* The digits as a C number text ("-1234.56") into out (size >= 80), or
 * 0 when the grouping is not one (groups of 3, the first 1..3; lakh
 * groups of 2 before the last 3 allowed). */
static int compose(const digits *dg, int dec, int neg, char *out,
                   int *frac_digits)
{
	size_t dec_at = dg->n;
	int dec_seps = 0;
	for (size_t i = 0; i < dg->seps; i++)
		if (dg->kind[i] == dec) {
			dec_at = dg->at[i];
			dec_seps++;
		}
	if (dec_seps > 1)
		return 0;
	/* The grouping separators sit before the decimal one. */
	size_t prev = 0;
	int first = 1;
	for (size_t i = 0; i < dg->seps; i++) {
		if (dg->kind[i] == dec)
			continue;
		size_t at = dg->at[i];
		if (at > dec_at)
			return 0;
		size_t g = at - prev;
		if (first ? (g < 1 || g > 3) : (g != 3 && g != 2))
			return 0;
		first = 0;
		prev = at;
	}
	if (!first && dec_at - prev != 3)
		return 0;
	size_t o = 0;
	if (neg)
		out[o++] = '-';
	for (size_t i = 0; i < dg->n; i++) {
		if (i == dec_at && dec_at < dg->n)
			out[o++] = '.';
		out[o++] = dg->d[i];
	}
	out[o] = '\0';
	*frac_digits = (int)(dg->n - dec_at);
	return 1;
}

int sky_agent_number_parse(const char *text, char hint, sky_number *out)
{
	const unsigned char *s = (const unsigned char *)(text ? text : "");
	int neg = 0, paren = 0;
	size_t k;
	memset(out, 0, sizeof *out);
	/* Before the digits: spaces, "(", a minus, a currency; other
	 * punctuation is passed over, a word is not a number's. */
	while (*s && !isdigit(*s)) {
		if ((k = space_len(s))) {
			s += k;
		} else if (*s == '(') {
			paren = 1;
			s++;
		} else if ((k = minus_len(s))) {
			neg = 1;
			s += k;
		} else if ((k = symbol_len(s)) || (k = code_len(s))) {
			s += k;
		} else if (*s == '.' && isdigit(s[1])) {
			break; /* ".5" */
		} else if (isalpha(*s) || *s >= 0x80) {
			return -1;
		} else {
			s++;
		}
	}
	digits dg;
	int lead_dot = *s == '.';
	size_t n = read_digits(lead_dot ? s + 1 : s, &dg);
	if (!dg.n)
		return -1;
	s += n + (size_t)lead_dot;
	/* After: a currency, a percent sign, ")" or a trailing minus; then
	 * anything (a unit, words). */
	for (;;) {
		if ((k = space_len(s))) {
			s += k;
		} else if ((k = symbol_len(s)) || (k = code_len(s))) {
			s += k;
		} else if (*s == '%') {
			out->percent = 1;
			s++;
		} else if (*s == ')' && paren) {
			neg = 1;
			paren = 0;
			s++;
		} else if ((k = minus_len(s)) && !isdigit(s[k])) {
			neg = 1;
			s += k;
		} else {
			break;
		}
	}
	char num[80];
	if (lead_dot) {
		if (dg.seps)
			return -1;
		snprintf(num, sizeof num, "%s0.%s", neg ? "-" : "", dg.d);
		out->frac_digits = (int)dg.n;
		out->decimal = '.';
	} else {
		int dec = decimal_of(&dg, hint, &out->decimal, &out->ambiguous);
		if (!compose(&dg, dec, neg, num, &out->frac_digits))
			return -1;
	}
	char *end = NULL;
	out->value = strtod(num, &end);
	if (!end || *end)
		return -1;
	if (out->value == 0)
		out->value = 0; /* no "-0" */
	return 0;
}

/* Is s[-1] (s > text) part of a word, so a number cannot start here? */
static int in_word(const char *text, const char *s)
{
	return s > text &&
	       (isalpha((unsigned char)s[-1]) || isdigit((unsigned char)s[-1]));
}

int sky_agent_number_next(const char *text, size_t from, size_t *start,
                          size_t *len)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t n = strlen(text);
	for (size_t i = from; i < n; i++) {
		if (!isdigit(t[i]) || in_word(text, text + i))
			continue;
		/* Back over what belongs to the number: "(", a minus, a
		 * currency, spaces between them. */
		size_t b = i;
		for (;;) {
			/* "10-12" is a range, not -12. */
			int dash = b > 0 && t[b - 1] == '-' &&
			           !(b > 1 && isalnum(t[b - 2]));
			if (b > 0 &&
			    (t[b - 1] == '(' || dash || t[b - 1] == '$')) {
				b--;
			} else if (b >= 2 && (space_len(t + b - 2) == 2 ||
			                      symbol_len(t + b - 2) == 2)) {
				b -= 2;
			} else if (b >= 3 && (space_len(t + b - 3) == 3 ||
			                      symbol_len(t + b - 3) == 3 ||
			                      minus_len(t + b - 3) == 3 ||
			                      code_len(t + b - 3) == 3)) {
				b -= 3;
			} else if (b > 0 && t[b - 1] == ' ' && b > from + 1 &&
			           (symbol_len(t + b - 2) ||
			            (b >= 4 && code_len(t + b - 4) == 3))) {
				b--;
			} else {
				break;
			}
		}
		while (b < i && space_len(t + b))
			b += space_len(t + b);
		digits dg;
		size_t rd = read_digits(t + i, &dg);
		if (!rd) {
			/* too many digits for a number (an id, a hash): not
			 * one, and the scan goes on after them */
			while (i + 1 < n && isdigit(t[i + 1]))
				i++;
			continue;
		}
		size_t e = i + rd;
		/* After: a currency, "%", ")" (with spaces before them). */
		for (;;) {
			size_t s = e, k;
			while ((k = space_len(t + s)))
				s += k;
			if ((k = symbol_len(t + s)) || (k = code_len(t + s)) ||
			    (t[s] == '%' && (k = 1)) ||
			    (t[s] == ')' && (k = 1)))
				e = s + k;
			else
				break;
		}
		*start = b;
		*len = e - b;
		return 1;
	}
	return 0;
}
