/*
 * parse-verification-code without a model. The engine asks only after its
 * own pattern rules (engine/otp_extract.c) found nothing, so this takes a
 * different, narrower view: a message whose only stand-alone number of 4
 * to 8 digits is that number ("Hi,\n\n482913\n\nThanks") has a code;
 * anything else has none. It never picks between candidates.
 */
#include <string.h>

#include "rules.h"

#define MAX_CANDIDATES 8

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Punctuation that may wrap a code in prose: "(482913)." */
static int is_wrap(char c)
{
	return c && strchr(".,;:!?()[]<>\"'*", c) != NULL;
}

/* A URL or an e-mail address never holds the code a person types. */
static int is_link(const char *s, size_t n)
{
	return memchr(s, '@', n) || (n > 4 && !strncmp(s, "http", 4)) ||
	       (n > 4 && !strncmp(s, "www.", 4));
}

/* 1 if s[0..n) is a plausible code: 4-8 digits, not a 19xx/20xx year. */
static int is_code(const char *s, size_t n)
{
	if (n < 4 || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (n == 4 && (!strncmp(s, "19", 2) || !strncmp(s, "20", 2)))
		return 0;
	return 1;
}

char *sky_rules__answer_code(const json_t *ctx)
{
	const char *text = json_string_value(json_object_get(ctx, "content"));
	char found[MAX_CANDIDATES][9];
	size_t n_found = 0;
	int too_many = 0;
	const char *p = text ? text : "";
	while (*p && !too_many) {
		while (is_space(*p))
			p++;
		const char *start = p;
		while (*p && !is_space(*p))
			p++;
		size_t len = (size_t)(p - start);
		if (!len || is_link(start, len))
			continue;
		while (len && is_wrap(*start)) {
			start++;
			len--;
		}
		while (len && is_wrap(start[len - 1]))
			len--;
		if (!is_code(start, len))
			continue;
		int dup = 0;
		for (size_t i = 0; i < n_found; i++)
			dup |= strlen(found[i]) == len &&
			       !strncmp(found[i], start, len);
		if (dup)
			continue;
		if (n_found == MAX_CANDIDATES) {
			too_many = 1;
			break;
		}
		memcpy(found[n_found], start, len);
		found[n_found++][len] = '\0';
	}
	json_t *a;
	if (n_found == 1 && !too_many)
		a = json_pack(
		    "{s:s, s:s, s:s}", "reasoning",
		    "The message holds exactly one stand-alone number "
		    "of 4 to 8 digits.",
		    "type", "totp", "code", found[0]);
	else
		a = json_pack("{s:s, s:n, s:n}", "reasoning",
		              n_found
		                  ? "The message holds several numbers that "
		                    "could be a code; the offline planner "
		                    "does not guess between them."
		                  : "The message holds no number that could "
		                    "be a code.",
		              "type", "code");
	char *out = sky_rules__dump(a);
	json_decref(a);
	return out;
}
