/*
 * Credentials a run carries in its own request become registered secrets
 * for as long as the run executes, so that what the engine derives from
 * them (stored answers, actions, step outputs, the recording, log lines)
 * shows [REDACTED]: values of navigation_payload keys that name a
 * credential, and "password: X" facts in the goal. The request itself is
 * stored as sent: the run needs it to execute and to resume.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/agent.h"
#include "util/log.h"
#include <skyx/str.h>

/* Lower-case words that name a credential, in keys and in the goal. */
static const char *const words[] = {
    "password", "passwd", "passphrase", "passcode", "pin", "secret", "token",
    "api_key",  "apikey", "api key",    "cvv",      "cvc", NULL};

static void keep(sky_run *r, const char *v, size_t n)
{
	/* sky_secret_register ignores strings shorter than 4 bytes. */
	if (n < 4)
		return;
	char *s = skyx_strndup(v, n);
	if (!s)
		return;
	sky_secret_register(s);
	json_array_append_new(r->secrets, json_string(s));
	free(s);
}

static int names_credential(const char *key)
{
	char low[64];
	size_t n = strlen(key);
	if (n >= sizeof low)
		n = sizeof low - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	low[n] = '\0';
	for (int i = 0; words[i]; i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

static void walk(sky_run *r, const json_t *v, int credential)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach ((json_t *)v, k, x)
			walk(r, x, credential || names_credential(k));
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, x)
			walk(r, x, credential);
	} else if (credential && json_is_string(v)) {
		keep(r, json_string_value(v), json_string_length(v));
	}
}

/* "password: X", "password = X", "password is X" (any case), with the
 * value up to white space; a trailing . , ; ) or quote is not part of
 * it (both forms are kept when it ends with one). */
static void scan_goal(sky_run *r, const char *goal)
{
	size_t len = strlen(goal);
	for (int w = 0; words[w]; w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= len; i++) {
			if (strncasecmp(goal + i, words[w], wl))
				continue;
			const char *p = goal + i + wl;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == ':' || *p == '=')
				p++;
			else if (!strncasecmp(p, "is ", 3))
				p += 3;
			else
				continue;
			while (*p == ' ' || *p == '\t' || *p == '"' ||
			       *p == '\'')
				p++;
			size_t n = strcspn(p, " \t\r\n\"'");
			keep(r, p, n);
			while (n && strchr(".,;)", p[n - 1]))
				n--;
			keep(r, p, n);
		}
	}
}

void sky_agent_secrets_collect(sky_run *r)
{
	if (!r->secrets)
		r->secrets = json_array();
	walk(r, r->payload, 0);
	if (r->task->prompt)
		scan_goal(r, r->task->prompt);
}

void sky_agent_secrets_release(sky_run *r)
{
	size_t i;
	json_t *s;
	json_array_foreach (r->secrets, i, s)
		sky_secret_unregister(json_string_value(s));
	json_decref(r->secrets);
	r->secrets = NULL;
}
