/* llm-rules: task v2 answers (plan the next mini-goal, summarize the run)
 * and surfacing user-defined error codes. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

/* ---- error codes ---------------------------------------------------------- */

/* Share of `desc`'s words found in `text`'s words (0..1). */
static double word_cover(const char *desc, const char *text)
{
	char *d = sky_rules__words(desc), *t = sky_rules__words(text);
	size_t total = 0, hit = 0;
	char *save = NULL;
	for (char *w = strtok_r(d, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		total++;
		char *pad = sky_rules__printf(" %s ", w);
		char *tt = sky_rules__printf(" %s ", t);
		hit += strstr(tt, pad) != NULL;
		free(pad);
		free(tt);
	}
	free(d);
	free(t);
	return total ? (double)hit / (double)total : 0.0;
}

json_t *sky_rules__match_errors(const json_t *mapping, const char *text)
{
	json_t *out = json_array();
	const char *code;
	json_t *desc;
	if (!text || !*text)
		return out;
	json_object_foreach ((json_t *)mapping, code, desc) {
		const char *d = json_string_value(desc);
		double s = d ? word_cover(d, text) : 0;
		double c = word_cover(code, text);
		s = c > s ? c : s;
		if (s < 0.5)
			continue;
		char *why = sky_rules__printf("The reason matches \"%s\".",
		                              d ? d : code);
		json_array_append_new(
		    out, json_pack("{s:s, s:s, s:f}", "error_code", code,
		                   "reasoning", why, "confidence_float",
		                   s > 0.95 ? 0.95 : s));
		free(why);
	}
	return out;
}

char *sky_rules__answer_errors(const json_t *ctx)
{
	const json_t *map = json_object_get(ctx, "error_code_mapping");
	sky_rules_buf b = {0};
	const char *r = json_string_value(json_object_get(ctx, "reasoning"));
	const char *f =
	    json_string_value(json_object_get(ctx, "failure_reason"));
	sky_rules__buf_printf(&b, "%s %s", r ? r : "", f ? f : "");
	char *text = sky_rules__buf_take(&b);
	json_t *errs = sky_rules__match_errors(map, text);
	json_t *ans = json_pack("{s:o}", "errors", errs);
	char *out = sky_rules__dump(ans);
	json_decref(ans);
	free(text);
	return out;
}

/* ---- plan ----------------------------------------------------------------- */

/* Sentences of the goal, not splitting inside quotes or JSON. */
static size_t sentences(const char *goal, char **out, size_t max)
{
	size_t n = 0, len = strlen(goal), a = 0;
	int quote = 0, brace = 0;
	for (size_t i = 0; i <= len && n < max; i++) {
		char c = i < len ? goal[i] : '\0';
		if (c == '"')
			quote = !quote;
		else if (c == '{' && !quote)
			brace++;
		else if (c == '}' && !quote && brace)
			brace--;
		int end = c == '\0' ||
		          (!quote && !brace &&
		           (c == '\n' ||
		            ((c == '.' || c == '!' || c == '?') &&
		             (i + 1 >= len || goal[i + 1] == ' ') &&
		             !(i >= 1 && isupper((unsigned char)goal[i - 1]) &&
		               (i == 1 || goal[i - 2] == ' ')))));
		if (!end)
			continue;
		char *s = sky_rules__clean_value(goal + a, i - a);
		if (*s)
			out[n++] = s;
		else
			free(s);
		a = i + 1;
	}
	return n;
}

typedef struct mini {
	char *plan;
	int extract;
} mini;

/* One mini-goal per sentence that asks for an action; sentences that only
 * state facts travel with every mini-goal. One action sentence: the goal
 * as it is. */
static size_t mini_goals(const char *goal, mini *out, size_t max)
{
	char *s[32];
	int act[32], ext[32];
	size_t n = sentences(goal, s, 32), na = 0, m = 0;
	for (size_t i = 0; i < n; i++) {
		sky_rules_goal g;
		sky_rules__goal_parse(s[i], NULL, &g);
		act[i] = g.nintents > 0;
		ext[i] = act[i];
		for (size_t k = 0; k < g.nintents; k++)
			ext[i] &= g.intents[k].kind == SKY_RULES_I_EXTRACT;
		na += act[i];
		sky_rules__goal_free(&g);
	}
	if (na <= 1) {
		out[0].plan = sky_rules__strdup(goal);
		out[0].extract = na == 1 && n && ext[0] && n == 1;
		m = 1;
	} else {
		sky_rules_buf facts = {0};
		for (size_t i = 0; i < n; i++)
			if (!act[i])
				sky_rules__buf_printf(&facts, " %s.", s[i]);
		char *f = sky_rules__buf_take(&facts);
		for (size_t i = 0; i < n && m < max; i++) {
			if (!act[i])
				continue;
			out[m].plan = sky_rules__printf("%s.%s", s[i], f);
			out[m].extract = ext[i];
			m++;
		}
		free(f);
	}
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	return m;
}

static int status_is(const json_t *mg, const char *st)
{
	const char *s = json_string_value(json_object_get(mg, "status"));
	return s && !strcasecmp(s, st);
}

char *sky_rules__answer_plan(const json_t *ctx)
{
	const char *goal = json_string_value(json_object_get(ctx, "goal"));
	const json_t *done = json_object_get(ctx, "mini_goals");
	const json_t *schema = json_object_get(ctx, "data_extraction_schema");
	mini m[32];
	size_t nm = mini_goals(goal ? goal : "", m, 32), completed = 0;
	int extracted = 0;
	size_t i;
	json_t *mg;
	sky_rules_page p;
	sky_rules_goal g;
	json_t *ans = json_pack("{s:s, s:b, s:b, s:n, s:s, s:n, s:n}",
	                        "thoughts", "", "user_goal_achieved", 0,
	                        "should_terminate", 0, "termination_reason",
	                        "task_type", "navigate", "plan", "url");
	sky_rules__page_build(ctx, &p);
	sky_rules__goal_parse(goal ? goal : "", NULL, &g);

	json_array_foreach (done, i, mg) {
		const char *tt =
		    json_string_value(json_object_get(mg, "task_type"));
		if (status_is(mg, "completed")) {
			completed++;
			extracted |= tt && !strcmp(tt, "extract");
			continue;
		}
		/* a mini-goal that ended any other way ends the run */
		const char *why =
		    json_string_value(json_object_get(mg, "result"));
		if (!why)
			why = json_string_value(json_object_get(mg, "reason"));
		const char *st =
		    json_string_value(json_object_get(mg, "status"));
		char *r = sky_rules__printf(
		    "The mini-goal \"%s\" ended %s%s%s",
		    json_string_value(json_object_get(mg, "plan"))
		        ? json_string_value(json_object_get(mg, "plan"))
		        : "",
		    st ? st : "without finishing", why ? ": " : ".",
		    why ? why : "");
		json_object_set_new(ans, "should_terminate", json_true());
		json_object_set_new(ans, "termination_reason", json_string(r));
		json_object_set_new(ans, "thoughts", json_string(r));
		free(r);
		goto out;
	}
	char *captcha = sky_rules__page_captcha(&p);
	if (captcha) {
		char *r =
		    sky_rules__printf("The page shows a CAPTCHA (\"%s\"); "
		                      "the offline planner does not solve "
		                      "CAPTCHAs.",
		                      captcha);
		json_object_set_new(ans, "should_terminate", json_true());
		json_object_set_new(ans, "termination_reason", json_string(r));
		json_object_set_new(ans, "thoughts", json_string(r));
		free(r);
		free(captcha);
		goto out;
	}
	if (completed < nm) {
		size_t k = completed;
		char *t =
		    sky_rules__printf("Mini-goal %zu of %zu%s.", k + 1, nm,
		                      nm == 1 ? " (the whole goal)" : "");
		json_object_set_new(ans, "thoughts", json_string(t));
		json_object_set_new(ans, "plan", json_string(m[k].plan));
		json_object_set_new(
		    ans, "task_type",
		    json_string(m[k].extract ? "extract" : "navigate"));
		const char *u = p.url;
		if (k == 0 && g.url && (!u || !*u || !strcmp(u, "about:blank")))
			json_object_set_new(ans, "url", json_string(g.url));
		free(t);
		goto out;
	}
	if (schema && !json_is_null(schema) && !extracted) {
		json_object_set_new(ans, "thoughts",
		                    json_string("Every mini-goal is done; read "
		                                "the result off the page."));
		json_object_set_new(
		    ans, "plan",
		    json_string("Extract the data the schema describes from "
		                "the current page."));
		json_object_set_new(ans, "task_type", json_string("extract"));
		goto out;
	}
	json_object_set_new(ans, "user_goal_achieved", json_true());
	json_object_set_new(ans, "thoughts",
	                    json_string("Every mini-goal of the goal is "
	                                "completed."));
out:
	for (size_t k = 0; k < nm; k++)
		free(m[k].plan);
	sky_rules__page_free(&p);
	sky_rules__goal_free(&g);
	char *text = sky_rules__dump(ans);
	json_decref(ans);
	return text;
}

/* ---- summarize --------------------------------------------------------------- */

/* The last non-null output: of `outputs` (array or value), else of the
 * mini-goals. */
static json_t *last_output(const json_t *ctx)
{
	const json_t *outs = json_object_get(ctx, "outputs");
	const json_t *mgs = json_object_get(ctx, "mini_goals");
	json_t *best = NULL;
	size_t i;
	json_t *v;
	if (json_is_array(outs)) {
		json_array_foreach (outs, i, v)
			if (!json_is_null(v))
				best = v;
	} else if (outs && !json_is_null(outs)) {
		best = (json_t *)outs;
	}
	if (!best)
		json_array_foreach (mgs, i, v) {
			json_t *o = json_object_get(v, "output");
			if (!o)
				o = json_object_get(v, "extracted_data");
			if (o && !json_is_null(o))
				best = o;
		}
	return best ? json_incref(best) : json_null();
}

char *sky_rules__answer_summary(const json_t *ctx)
{
	const char *st =
	    json_string_value(json_object_get(ctx, "final_status"));
	const char *why =
	    json_string_value(json_object_get(ctx, "failure_reason"));
	const json_t *mgs = json_object_get(ctx, "mini_goals");
	sky_rules_buf b = {0};
	size_t i;
	json_t *mg;
	if (st && strcasecmp(st, "completed") && why)
		sky_rules__buf_printf(&b, "The run %s: %s", st, why);
	else
		sky_rules__buf_printf(&b, "The run %s", st ? st : "ended");
	json_array_foreach (mgs, i, mg) {
		const char *pl = json_string_value(json_object_get(mg, "plan"));
		const char *s =
		    json_string_value(json_object_get(mg, "status"));
		sky_rules__buf_printf(&b, "%s %zu. %s (%s)",
		                      i ? ";" : ". Steps:", i + 1, pl ? pl : "",
		                      s ? s : "?");
	}
	char *desc = sky_rules__buf_take(&b);
	json_t *ans = json_pack("{s:s, s:o}", "description", desc, "output",
	                        last_output(ctx));
	char *text = sky_rules__dump(ans);
	json_decref(ans);
	free(desc);
	return text;
}
