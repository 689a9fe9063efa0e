/* llm-rules: the next actions of a step (extract-actions) and the goal
 * check (check-goal): fill and submit forms, click what the goal names,
 * complete when it is done, terminate with a reason when it cannot be. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

#define CLICK_MIN 0.6

enum { D_ACTIONS, D_COMPLETE, D_TERMINATE };

typedef struct decision {
	int kind;
	int soft; /* a terminate only because no rule matched this page */
	json_t *actions; /* D_ACTIONS */
	char *reason;    /* D_COMPLETE / D_TERMINATE, or the plan summary */
	char *stage;
} decision;

typedef struct state {
	const json_t *ctx;
	const json_t *history;
	sky_rules_goal g;
	sky_rules_page p;
	sky_rules_form_plan fp;
	int checking;       /* answering check-goal, not extract-actions */
	int cookie_planned; /* the goal's own cookie answer is planned */
} state;

/* An attribute of an element's snapshot ("aria-haspopup"), or NULL. */
static const char *el_attr(const sky_rules_el *e, const char *name)
{
	json_t *attrs = json_object_get(e->j, "attrs");
	return json_string_value(json_object_get(attrs, name));
}

static void set(decision *d, int kind, char *reason)
{
	d->kind = kind;
	free(d->reason);
	d->reason = reason;
}

static int has_password_field(const sky_rules_page *p)
{
	for (size_t i = 0; i < p->nels; i++)
		if (p->els[i].kind == SKY_RULES_K_TEXT &&
		    p->els[i].concept == SKY_RULES_C_PASSWORD)
			return 1;
	return 0;
}

/* Words of a notice that says the goal's thing cannot be had here: the
 * posting closed, the offer ended, the item or class is sold out. */
static const char *const STOP_NOTICE[] = {
    "no longer open",
    "no longer accepting",
    "no longer available",
    "can no longer",
    "not accepting",
    "applications have closed",
    "applications are closed",
    "applications closed",
    "registration is closed",
    "registration has closed",
    "bookings are closed",
    "has ended",
    "have ended",
    "offer ended",
    "this offer ended",
    "has expired",
    "have expired",
    "offer expired",
    "sold out",
    "out of stock",
    "fully booked",
    "no places left",
    "no spaces left",
    "no seats left",
    "deadline has passed",
    "currently unavailable",
    NULL,
};

/* Buttons of the forms that such pages offer instead ("Notify me",
 * "Join waiting list"): sending one is not what the goal asked. */
static const char *const TRAP_SUBMIT[] = {
    "notify me",    "notify",         "waitlist",
    "waiting list", "wait list",      "alert me",
    "remind me",    "keep me posted", "keep me updated",
    "let me know",  "get notified",   "email me when",
    NULL,
};

static int goal_mentions_any(const state *s, const char *const *list)
{
	return sky_rules__find_any(s->g.text, list) != NULL;
}

/* The sentence of a stop notice on the page, or NULL; malloc'd. */
static char *stop_notice(const state *s)
{
	const char *srcs[] = {s->p.alerts, s->p.headings, s->p.text};
	for (size_t k = 0; k < 3; k++) {
		const char *hit = sky_rules__find_any(srcs[k], STOP_NOTICE);
		if (!hit)
			continue;
		/* the goal itself speaks of it ("join the waitlist") */
		if (sky_rules__has_phrase(s->g.text, hit))
			return NULL;
		char *plain = sky_rules__squash(srcs[k]);
		const char *at = strcasestr(plain, hit);
		const char *a = at ? at : plain, *b = a;
		while (a > plain && !strchr(".!?|", a[-1]))
			a--;
		while (*b && !strchr(".!?|", *b))
			b++;
		if (*b && *b != '|')
			b++;
		while (*a == ' ')
			a++;
		size_t n = (size_t)(b - a);
		char *r = sky_rules__strndup(a, n > 240 ? 240 : n);
		free(plain);
		return r;
	}
	return NULL;
}

/* The submit control of the planned form is a "notify me" / waiting-list
 * button the goal did not ask for. Its text, or NULL (borrowed). */
static const char *trap_submit(const state *s)
{
	if (!s->fp.submit_found)
		return NULL;
	const sky_rules_el *b = sky_rules__submit_button(&s->p, s->fp.form, 0);
	if (!b)
		return NULL;
	const char *t = *b->text ? b->text : b->label;
	if (!sky_rules__find_any(t, TRAP_SUBMIT) ||
	    goal_mentions_any(s, TRAP_SUBMIT))
		return NULL;
	return t;
}

/* The goal gives values to enter (a name, an email, ...): reading the
 * page is not what it asks, unless it also asks for data. */
static int goal_gives_facts(const state *s)
{
	for (size_t i = 0; i < s->g.nfacts; i++)
		if (!s->g.facts[i].derived &&
		    s->g.facts[i].concept != SKY_RULES_C_SEARCH)
			return 1;
	return 0;
}

static int has_schema(const state *s)
{
	json_t *schema = json_object_get(s->ctx, "data_extraction_schema");
	if ((schema && !json_is_null(schema)) ||
	    json_is_string(json_object_get(s->ctx, "data_extraction_goal")))
		return 1;
	/* check-goal is not given the schema: a goal that asks for data
	 * (a question, "tell me ...") is taken to have one, as the engine
	 * extracts the final page of such a run and refuses it when
	 * nothing is found */
	static const char *const ASKS[] = {
	    "give me",     "tell me",    "let me know",
	    "find out",    "i need the", "i need to know",
	    "report back", "send me",    NULL,
	};
	return s->checking &&
	       (sky_rules__goal_has(&s->g, SKY_RULES_I_EXTRACT) ||
	        strchr(s->g.text, '?') || sky_rules__find_any(s->g.text, ASKS));
}

static int wants_extraction(const state *s)
{
	return sky_rules__goal_has(&s->g, SKY_RULES_I_EXTRACT) || has_schema(s);
}

/* The effective target of an intent: its text, or "result N" for an
 * ordinal ("the first result"). malloc'd or NULL. */
static char *intent_target(const sky_rules_intent *in)
{
	if (in->ordinal && (!in->target || !strcasecmp(in->target, "result")))
		return sky_rules__printf("result %d", in->ordinal);
	return sky_rules__strdup(in->target);
}

static int target_done(const state *s, const sky_rules_intent *in)
{
	char *t = intent_target(in);
	int done = 0;
	if (!t)
		return 0;
	if (sky_rules__history_clicked(s->history, &s->p, t)) {
		double sc = 0;
		/* an opened page is done when its link is gone or it is the
		 * page itself; a click or download is done once it worked */
		if (in->kind != SKY_RULES_I_OPEN || in->ordinal)
			done = 1;
		else
			done = !sky_rules__page_clickable(&s->p, t, &sc) ||
			       sc < CLICK_MIN ||
			       sky_rules__page_is(&s->p, t) >= 0.6;
	}
	if (!done && in->kind == SKY_RULES_I_OPEN && !in->ordinal &&
	    sky_rules__page_is(&s->p, t) >= 0.8)
		done = 1;
	free(t);
	return done;
}

/* Leaves the schema asks for that v leaves null (nullable ones, "null
 * when not listed", do not count). */
static int count_missing(const json_t *v, const json_t *schema)
{
	json_t *type = json_object_get(schema, "type");
	const char *desc =
	    json_string_value(json_object_get(schema, "description"));
	if (json_is_array(type)) {
		size_t i;
		json_t *t;
		json_array_foreach (type, i, t)
			if (!strcmp(json_string_value(t) ? json_string_value(t)
			                                 : "",
			            "null"))
				return 0;
	}
	if (desc && strcasestr(desc, "null"))
		return 0;
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		int n = 0;
		json_t *props = json_object_get(schema, "properties");
		json_object_foreach ((json_t *)v, k, x)
			n += count_missing(x, json_object_get(props, k));
		return n;
	}
	if (json_is_array(v))
		return 0;
	return !v || json_is_null(v);
}

static int count_found(const json_t *v)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		int n = 0;
		json_object_foreach ((json_t *)v, k, x)
			n += count_found(x);
		return n;
	}
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return v && !json_is_null(v);
}

/* The page shows something of what the schema asks (or there is no
 * schema to tell): reading it now is worth a COMPLETE. */
/* A list of results that names the goal's item more than once (a
 * hardback and a paperback of the same title): the one to read is behind
 * one of them, not on this page. */
static int results_name_item(const state *s)
{
	char *pg = sky_rules__plain(s->g.text);
	int hit = 0;
	for (size_t i = 0; i < s->p.nels && !hit; i++) {
		const sky_rules_el *a = &s->p.els[i];
		if (a->kind != SKY_RULES_K_LINK || strlen(a->text) < 8)
			continue;
		char *pa = sky_rules__plain(a->text);
		int named = strchr(pa, ' ') && sky_rules__has_phrase(pg, pa);
		free(pa);
		for (size_t k = i + 1; k < s->p.nels && named && !hit; k++)
			hit = s->p.els[k].kind == SKY_RULES_K_LINK &&
			      !strcmp(s->p.els[k].text, a->text) &&
			      (!a->href || !s->p.els[k].href ||
			       strcmp(a->href, s->p.els[k].href));
	}
	free(pg);
	return hit;
}

static int extraction_found(const state *s)
{
	json_t *schema = json_object_get(s->ctx, "data_extraction_schema");
	if (!json_is_object(schema))
		return !(s->checking && results_name_item(s));
	json_t *v = sky_rules__extract(&s->p, schema, s->g.text);
	int n = count_found(v), missing = count_missing(v, schema);
	json_decref(v);
	return n > 0 && !missing;
}

/* Is the goal reached? *why (malloc'd) says how. */
static int goal_done(state *s, char **why)
{
	const sky_rules_intent *final = sky_rules__goal_final(&s->g);
	*why = NULL;

	/* facts still to type on this page come first, whatever the verb
	 * ("Open a support ticket" means filling one in) */
	if (s->fp.n_fill)
		return 0;
	if (!final && wants_extraction(s)) {
		if (s->fp.n_fill || (!has_schema(s) && goal_gives_facts(s)) ||
		    !extraction_found(s))
			return 0;
		*why = sky_rules__strdup("The page shows the information the "
		                         "goal asks to extract.");
		return 1;
	}
	int kind = final ? final->kind : SKY_RULES_I_SUBMIT;
	switch (kind) {
	case SKY_RULES_I_OPEN:
	case SKY_RULES_I_CLICK:
	case SKY_RULES_I_DOWNLOAD:
		if (!target_done(s, final))
			return 0;
		*why = sky_rules__printf(
		    "The goal's last action (%s \"%s\") succeeded%s%s.",
		    final->verb, final->target ? final->target : "",
		    s->p.title ? ": the page is now " : "",
		    s->p.title ? s->p.title : "");
		return 1;
	case SKY_RULES_I_SEARCH:
		if (!s->g.query ||
		    !sky_rules__history_typed(s->history, s->g.query) ||
		    !sky_rules__history_submitted(s->history))
			return 0;
		/* searched to read something: done when it is read */
		if (has_schema(s) && !extraction_found(s))
			return 0;
		*why = sky_rules__printf("Searched for \"%s\"; the results are "
		                         "shown.",
		                         s->g.query);
		return 1;
	case SKY_RULES_I_LOGIN:
		/* A code page after the password is still the sign-in. */
		if (has_password_field(&s->p) || sky_rules__otp_field(&s->p) ||
		    !sky_rules__history_submitted(s->history))
			return 0;
		*why = sky_rules__strdup("Signed in: the login form is gone.");
		return 1;
	default: {
		char *conf = sky_rules__page_confirmation(&s->p);
		/* a form sent on the way to data ("get me a quote, and tell
		 * me its price"): the page after it is read, and the
		 * engine refuses a complete whose extraction found nothing */
		if (!conf && has_schema(s) && !s->fp.n_fill && !s->fp.missing &&
		    !s->fp.submit_found &&
		    sky_rules__goal_has(&s->g, SKY_RULES_I_EXTRACT) &&
		    sky_rules__history_submitted(s->history)) {
			*why = sky_rules__strdup(
			    "The form was sent and the page now shows the "
			    "information the goal asks for.");
			return 1;
		}
		if (!conf || s->fp.n_fill ||
		    !sky_rules__history_submitted(s->history)) {
			free(conf);
			return 0;
		}
		*why = sky_rules__printf("The form was submitted and the page "
		                         "confirms it: \"%s\"",
		                         conf);
		free(conf);
		return 1;
	}
	}
}

static json_t *click_action(const sky_rules_el *e, const char *why, int dl)
{
	json_t *a = json_pack("{s:s, s:s, s:s}", "action_type", "click",
	                      "element_id", e->id, "reasoning", why);
	const char *h = e->href ? e->href : "";
	const char *dot = strrchr(h, '.');
	if (dl || e->download ||
	    (dot && (!strcasecmp(dot, ".pdf") || !strcasecmp(dot, ".csv") ||
	             !strcasecmp(dot, ".zip") || !strcasecmp(dot, ".xlsx"))))
		json_object_set_new(a, "download", json_true());
	return a;
}

/* The Nth link that looks like a result (shares a word with the query,
 * else any link outside the page header), for "the first result". */
static const sky_rules_el *nth_result(const state *s, int n)
{
	int seen = 0;
	for (int pass = 0; pass < 2; pass++) {
		seen = 0;
		for (size_t i = 0; i < s->p.nels; i++) {
			const sky_rules_el *e = &s->p.els[i];
			if (e->kind != SKY_RULES_K_LINK)
				continue;
			if (pass == 0 &&
			    (!s->g.query ||
			     sky_rules__similarity(s->g.query, e->text) <= 0))
				continue;
			if (++seen == n)
				return e;
		}
		if (!s->g.query)
			break;
	}
	return NULL;
}

/* Click the first not-yet-done target the goal names, if it is here. */
static int plan_targets(state *s, decision *d, char **missing)
{
	for (size_t i = 0; i < s->g.nintents; i++) {
		const sky_rules_intent *in = &s->g.intents[i];
		if ((in->kind != SKY_RULES_I_CLICK &&
		     in->kind != SKY_RULES_I_OPEN &&
		     in->kind != SKY_RULES_I_DOWNLOAD) ||
		    (!in->target && !in->ordinal))
			continue;
		if (target_done(s, in))
			continue;
		char *t = intent_target(in);
		double sc = 0;
		const sky_rules_el *e =
		    in->ordinal &&
		            (!in->target || !strcasecmp(in->target, "result"))
		        ? nth_result(s, in->ordinal)
		        : sky_rules__page_clickable(&s->p, t, &sc);
		if (in->ordinal && e)
			sc = 1;
		if (!e || sc < CLICK_MIN) {
			if (!*missing)
				*missing = sky_rules__strdup(t);
			free(t);
			return 0;
		}
		char *why = sky_rules__printf(
		    "%s \"%s\", which the goal names (\"%s\").",
		    in->kind == SKY_RULES_I_DOWNLOAD ? "Download via" : "Click",
		    *e->text ? e->text : e->label, t);
		json_array_append_new(
		    d->actions,
		    click_action(e, why, in->kind == SKY_RULES_I_DOWNLOAD));
		free(why);
		free(t);
		return 1;
	}
	return 0;
}

/* "Find the full-time Frontend Engineer opening in Berlin ... and apply":
 * among look-alike links, the one whose text says most of what the goal
 * describes (and more than any other). */
static int plan_find_link(state *s, decision *d)
{
	if (!sky_rules__goal_submits(&s->g))
		return 0;
	for (size_t i = 0; i < s->g.nintents; i++) {
		const sky_rules_intent *in = &s->g.intents[i];
		if (in->kind != SKY_RULES_I_EXTRACT || strcmp(in->verb, "find"))
			continue;
		char *cw = sky_rules__words(in->clause + strlen(in->verb));
		const sky_rules_el *best = NULL;
		int bs = 0, tie = 0;
		for (size_t k = 0; k < s->p.nels; k++) {
			const sky_rules_el *e = &s->p.els[k];
			if (e->kind != SKY_RULES_K_LINK || !*e->text)
				continue;
			char *lw = sky_rules__words(e->text);
			int n = 0;
			char *save = NULL, *dup = sky_rules__strdup(lw);
			for (char *w = strtok_r(dup, " ", &save); w;
			     w = strtok_r(NULL, " ", &save)) {
				char *pad = sky_rules__printf(" %s ", w);
				char *hay = sky_rules__printf(" %s ", cw);
				n += strstr(hay, pad) != NULL;
				free(pad);
				free(hay);
			}
			free(dup);
			free(lw);
			if (n > bs) {
				bs = n, best = e, tie = 0;
			} else if (n == bs && best &&
			           strcmp(e->text, best->text)) {
				tie = 1;
			}
		}
		free(cw);
		if (!best || tie || bs < 3 ||
		    sky_rules__history_clicked(s->history, &s->p, best->text))
			return 0;
		char *why = sky_rules__printf("Open \"%s\": it is the one the "
		                              "goal describes (\"%s\").",
		                              best->text, in->clause);
		json_array_append_new(d->actions, click_action(best, why, 0));
		free(why);
		return 1;
	}
	return 0;
}

/* Words of the pages where what a property asks is usually told. */
static const struct {
	const char *prop;
	const char *pages[6];
} WHERE[] = {
    {"found", {"about", "story", "history", "company", NULL}},
    {"history", {"about", "story", "history", NULL}},
    {"year", {"about", "story", "history", NULL}},
    {"ceo", {"leadership", "team", "people", "management", "about", NULL}},
    {"cfo", {"leadership", "team", "people", "management", "about", NULL}},
    {"cto", {"leadership", "team", "people", "management", "about", NULL}},
    {"chief", {"leadership", "team", "people", "management", NULL}},
    {"founder", {"leadership", "team", "people", "about", NULL}},
    {"director", {"leadership", "team", "people", "management", NULL}},
    {"exchange", {"investor", "about", NULL}},
    {"ticker", {"investor", NULL}},
    {"stock", {"investor", NULL}},
    {"share", {"investor", NULL}},
    {"listed", {"investor", NULL}},
    {"traded", {"investor", "about", NULL}},
    {"price", {"pricing", "plan", NULL}},
    {"cost", {"pricing", "plan", NULL}},
    {"plan", {"pricing", "plan", NULL}},
    {"transaction", {"activity", "transaction", "statement", "history", NULL}},
    {"merchant", {"activity", "transaction", NULL}},
    {"balance", {"account", "overview", "summary", NULL}},
    {"hour", {"contact", "visit", "hour", "location", NULL}},
    {"open", {"contact", "visit", "hour", "location", NULL}},
    {"address", {"contact", "location", "visit", NULL}},
};

/* The page does not show what the schema asks: follow the link a person
 * would (the item the goal names, "About us" for a founding year,
 * "Leadership" for a CFO, "Activity" for a transaction), once. */
static int plan_read_link(state *s, decision *d)
{
	json_t *schema = json_object_get(s->ctx, "data_extraction_schema");
	if (!json_is_object(schema) || extraction_found(s) || s->fp.n_fill)
		return 0;
	char *sd = sky_rules__dump(schema);
	char *want = sky_rules__printf("%s %s", s->g.text, sd);
	char *ww = sky_rules__words(want);
	char *pad = sky_rules__printf(" %s ", ww);
	free(sd);
	free(want);
	free(ww);
	const sky_rules_el *best = NULL;
	int bs = 0;
	for (size_t i = 0; i < s->p.nels; i++) {
		const sky_rules_el *e = &s->p.els[i];
		if (e->kind != SKY_RULES_K_LINK || e->disabled || !*e->text ||
		    (e->href && (!strcmp(e->href, "#") || !*e->href ||
		                 !strncasecmp(e->href, "mailto:", 7) ||
		                 !strncasecmp(e->href, "tel:", 4) ||
		                 !strncasecmp(e->href, "javascript:", 11))))
			continue;
		if (sky_rules__history_clicked(s->history, &s->p, e->text))
			continue;
		char *lw = sky_rules__words(e->text), *save = NULL;
		int sc = 0;
		for (char *t = strtok_r(lw, " ", &save); t;
		     t = strtok_r(NULL, " ", &save)) {
			char *tp = sky_rules__printf(" %s ", t);
			/* the goal says the link's word: the item itself */
			if (strlen(t) >= 3 && strstr(pad, tp))
				sc += 2;
			int where = 0;
			for (size_t k = 0;
			     k < sizeof WHERE / sizeof WHERE[0] && !where;
			     k++) {
				char *pp =
				    sky_rules__printf(" %s", WHERE[k].prop);
				if (!strstr(pad, pp)) {
					free(pp);
					continue;
				}
				free(pp);
				for (size_t m = 0; WHERE[k].pages[m]; m++)
					if (!strncmp(t, WHERE[k].pages[m],
					             strlen(WHERE[k].pages[m])))
						where = 1;
			}
			sc += where;
			free(tp);
		}
		free(lw);
		/* the words around it: "Nell Ashworth · Paperback" under a
		 * title the goal names tells which edition */
		if (sc && *e->after) {
			char *aw = sky_rules__words(e->after), *s2 = NULL;
			for (char *t = strtok_r(aw, " ", &s2); t;
			     t = strtok_r(NULL, " ", &s2)) {
				char *tp = sky_rules__printf(" %s ", t);
				sc += strlen(t) >= 4 && strstr(pad, tp) != NULL;
				free(tp);
			}
			free(aw);
		}
		if (sc > bs) {
			bs = sc;
			best = e;
		}
	}
	free(pad);
	if (!best || bs < 1)
		return 0;
	char *why = sky_rules__printf("The page does not show what the goal "
	                              "asks; \"%s\" is where it is told.",
	                              best->text);
	json_array_append_new(d->actions, click_action(best, why, 0));
	free(why);
	return 1;
}

/* Nothing else to do here, but a button that opens a dialog or menu
 * ("Feedback" on a side tab, aria-haspopup) is named by the goal: open
 * it, once. */
static int plan_opener(state *s, decision *d)
{
	char *pg = sky_rules__plain(s->g.text);
	char *pad = sky_rules__printf(" %s ", pg);
	const sky_rules_el *pick = NULL;
	for (size_t i = 0; i < s->p.nels && !pick; i++) {
		const sky_rules_el *e = &s->p.els[i];
		const char *hp = el_attr(e, "aria-haspopup");
		if (e->kind != SKY_RULES_K_BUTTON || e->disabled || !hp ||
		    !strcmp(hp, "false") || strlen(e->text) < 4)
			continue;
		char *pt = sky_rules__plain(e->text);
		char *tp = sky_rules__printf(" %s ", pt);
		if (strstr(pad, tp) &&
		    !sky_rules__history_clicked(s->history, &s->p, e->text))
			pick = e;
		free(pt);
		free(tp);
	}
	free(pg);
	free(pad);
	if (!pick)
		return 0;
	char *why = sky_rules__printf("Open \"%s\", which the goal speaks "
	                              "of.",
	                              pick->text);
	json_array_append_new(d->actions, click_action(pick, why, 0));
	free(why);
	return 1;
}

/* No form to fill: a button or link named by the goal's verb ("Apply
 * now", "Sign in", "Search") usually opens it. */
static int plan_verb_control(state *s, decision *d)
{
	static const struct {
		int kind;
		const char *words[8];
	} NAMES[] = {
	    {SKY_RULES_I_SUBMIT,
	     {"apply", "sign up", "register", "get started", "start now",
	      NULL}},
	    {SKY_RULES_I_LOGIN, {"log in", "sign in", "login", NULL}},
	    {SKY_RULES_I_SEARCH, {"search", NULL}},
	};
	for (size_t i = 0; i < s->g.nintents; i++) {
		const sky_rules_intent *in = &s->g.intents[i];
		for (size_t k = 0; k < sizeof NAMES / sizeof NAMES[0]; k++) {
			if (NAMES[k].kind != in->kind)
				continue;
			/* the verb itself first ("book" -> "Book now") */
			const char *cands[8] = {in->verb};
			size_t nc = 1;
			for (size_t w = 0; NAMES[k].words[w]; w++)
				cands[nc++] = NAMES[k].words[w];
			for (size_t c = 0; c < nc; c++) {
				const sky_rules_el *e = NULL;
				for (size_t j = 0; j < s->p.nels && !e; j++) {
					const sky_rules_el *x = &s->p.els[j];
					if ((x->kind == SKY_RULES_K_BUTTON ||
					     x->kind == SKY_RULES_K_LINK) &&
					    sky_rules__has_phrase(
					        *x->text ? x->text : x->label,
					        cands[c]))
						e = x;
				}
				if (!e || sky_rules__history_clicked(
				              s->history, &s->p, cands[c]))
					continue;
				char *why = sky_rules__printf(
				    "Click \"%s\" to get to what the goal "
				    "asks (\"%s\").",
				    *e->text ? e->text : e->label, cands[c]);
				json_array_append_new(d->actions,
				                      click_action(e, why, 0));
				free(why);
				return 1;
			}
		}
	}
	return 0;
}

static char *quote_clause(const sky_rules_goal *g)
{
	if (g->nintents)
		return sky_rules__strdup(g->intents[0].clause);
	return sky_rules__strndup(
	    g->text, strlen(g->text) > 120 ? 120 : strlen(g->text));
}

static char *no_plan_reason(state *s, const char *missing_target)
{
	sky_rules_buf b = {0};
	char *notice = sky_rules__page_notice(&s->p);
	char *clause = quote_clause(&s->g);
	if (has_password_field(&s->p) &&
	    !sky_rules__goal_has(&s->g, SKY_RULES_I_LOGIN))
		sky_rules__buf_printf(&b, "The page asks to sign in and the "
		                          "goal gives no credentials. ");
	if (missing_target)
		sky_rules__buf_printf(&b, "Cannot find \"%s\" on this page. ",
		                      missing_target);
	else
		sky_rules__buf_printf(
		    &b,
		    "No form field, link or button on this page "
		    "matches the goal (\"%s\"). ",
		    clause);
	if (notice)
		sky_rules__buf_printf(&b, "The page says: \"%s\"", notice);
	free(notice);
	free(clause);
	char *r = sky_rules__buf_take(&b);
	size_t n = strlen(r);
	while (n && r[n - 1] == ' ')
		r[--n] = '\0';
	return r;
}

/* Summarise a plan ("Type ...; Submit ..."). */
static char *plan_summary(const json_t *actions)
{
	sky_rules_buf b = {0};
	size_t i;
	json_t *a;
	json_array_foreach (actions, i, a) {
		const char *w =
		    json_string_value(json_object_get(a, "reasoning"));
		sky_rules__buf_printf(&b, "%s%s", b.len ? " " : "", w ? w : "");
	}
	return sky_rules__buf_take(&b);
}

/* The same actions as the last step, on a page that did not react. */
static int no_progress(state *s, decision *d)
{
	char *sig = sky_rules__actions_signature(d->actions);
	char *last = sky_rules__history_last_signature(s->history);
	int same = last && !strcmp(sig, last);
	free(sig);
	free(last);
	if (!same)
		return 0;
	sky_rules_buf b = {0};
	char *what = plan_summary(d->actions);
	char *notice = sky_rules__page_notice(&s->p);
	const char *err = sky_rules__history_last_error(s->history);
	sky_rules__buf_printf(&b,
	                      "No progress: the previous step already did "
	                      "exactly this (%s) and the page still asks for "
	                      "the same.",
	                      what);
	if (err)
		sky_rules__buf_printf(&b, " The last action failed: %s.", err);
	if (notice)
		sky_rules__buf_printf(&b, " The page says: \"%s\"", notice);
	json_array_clear(d->actions);
	set(d, D_TERMINATE, sky_rules__buf_take(&b));
	free(what);
	free(notice);
	return 1;
}

static int blank_page(const state *s)
{
	const char *u = s->p.url;
	return !s->p.nels && (!u || !*u || !strcmp(u, "about:blank"));
}

/* A cookie banner over the page: answer it first (once). */
static void dismiss_banner(state *s, decision *d)
{
	const sky_rules_el *b = sky_rules__cookie_button(&s->p);
	if (!b || sky_rules__history_clicked(s->history, &s->p, b->text))
		return;
	char *why = sky_rules__printf("Answer the cookie banner with \"%s\" "
	                              "so that it does not cover the page.",
	                              b->text);
	json_array_insert_new(d->actions, 0, click_action(b, why, 0));
	free(why);
}

/* The goal asks for the whole of a list ("every", "all of them"). */
static int wants_whole_list(const state *s)
{
	static const char *const ALL[] = {
	    "every",       "all of them", "all the pages",
	    "all pages",   "each page",   "whole list",
	    "full list",   "all of the",  "several pages",
	    "through all", NULL,
	};
	/* check-goal has no schema in its context: the goal's words
	 * decide, so both answers agree */
	return (has_schema(s) ||
	        sky_rules__goal_has(&s->g, SKY_RULES_I_EXTRACT) ||
	        !sky_rules__goal_submits(&s->g)) &&
	       sky_rules__find_any(s->g.text, ALL);
}

/* The enabled control that shows the next page of a list, or NULL. */
static const sky_rules_el *next_page_control(const state *s)
{
	static const char *const NEXT[] = {
	    "next",         "next page", "older",        "more results",
	    "\xe2\x80\xba", "\xc2\xbb",  "\xe2\x86\x92", NULL,
	};
	for (size_t i = 0; i < s->p.nels; i++) {
		const sky_rules_el *e = &s->p.els[i];
		if ((e->kind != SKY_RULES_K_BUTTON &&
		     e->kind != SKY_RULES_K_LINK) ||
		    e->disabled)
			continue;
		const char *aria = e->aria ? e->aria : "";
		const char *t = *e->text ? e->text : e->label;
		char *pt = sky_rules__plain(t);
		int hit = sky_rules__find_any(aria, NEXT) != NULL;
		for (size_t k = 0; NEXT[k] && !hit; k++)
			hit = !strcmp(pt, NEXT[k]) ||
			      (!strncmp(pt, "next ", 5) && strlen(pt) < 16);
		/* symbols: the raw text is only the arrow */
		for (size_t k = 4; NEXT[k] && !hit; k++) {
			char *sq = sky_rules__squash(t);
			hit = !strcmp(sq, NEXT[k]);
			free(sq);
		}
		free(pt);
		if (hit && e->href && strstr(e->href, "#") == e->href)
			hit = 1;
		if (hit)
			return e;
	}
	return NULL;
}

/* The goal asks to refuse optional cookies ("turn off the optional
 * cookies", "reject tracking"): answer the banner that way first, through
 * its settings when it has no reject button. */
static int plan_cookie_choice(state *s, decision *d)
{
	static const char *const REFUSE[] = {
	    "turn off",       "switch off",
	    "reject",         "decline",
	    "opt out",        "refuse",
	    "disable",        "only necessary",
	    "only essential", "necessary only",
	    "essential only", "no tracking",
	    "untick",         NULL,
	};
	static const char *const OPTIONAL[] = {
	    "analytics",  "marketing",  "advertising", "performance",
	    "statistics", "personalis", "personaliz",  "tracking",
	    "targeting",  "functional", "third party", "social media",
	    NULL,
	};
	static const char *const SAVE[] = {
	    "save", "confirm my", "confirm choices", "apply", "submit", NULL};
	static const char *const SETTINGS[] = {
	    "settings", "preferences", "manage", "customi",
	    "options",  "choose",      NULL};
	static const char *const REJECT[] = {"reject",
	                                     "decline",
	                                     "necessary only",
	                                     "only necessary",
	                                     "essential only",
	                                     "deny",
	                                     NULL};
	if (!strcasestr(s->g.text, "cookie") ||
	    !sky_rules__find_any(s->g.text, REFUSE))
		return 0;
	/* optional categories still on: turn them off, then save */
	int n = 0;
	for (size_t i = 0; i < s->p.nels; i++) {
		const sky_rules_el *e = &s->p.els[i];
		if (e->kind != SKY_RULES_K_CHECKBOX || !e->checked ||
		    e->disabled || !sky_rules__find_any(e->label, OPTIONAL))
			continue;
		char *why = sky_rules__printf("Turn off \"%s\" cookies, as the "
		                              "goal asks.",
		                              e->label);
		json_t *a = json_pack("{s:s, s:s, s:b, s:s}", "action_type",
		                      "checkbox", "element_id", e->id,
		                      "is_checked", 0, "reasoning", why);
		json_array_append_new(d->actions, a);
		free(why);
		n++;
	}
	const sky_rules_el *btn = NULL;
	for (int pass = 0; pass < 3 && !btn; pass++)
		for (size_t i = 0; i < s->p.nels && !btn; i++) {
			const sky_rules_el *e = &s->p.els[i];
			if ((e->kind != SKY_RULES_K_BUTTON &&
			     e->kind != SKY_RULES_K_LINK) ||
			    e->disabled)
				continue;
			const char *t = *e->text ? e->text : e->label;
			int cookie = strcasestr(e->context, "cookie") ||
			             strcasestr(t, "cookie");
			if (pass == 0 && n && sky_rules__find_any(t, SAVE))
				btn = e;
			else if (pass == 1 && cookie &&
			         sky_rules__find_any(t, REJECT) &&
			         !sky_rules__history_clicked(s->history, &s->p,
			                                     t))
				btn = e;
			else if (pass == 2 && !n && cookie &&
			         sky_rules__find_any(t, SETTINGS) &&
			         !sky_rules__history_clicked(s->history, &s->p,
			                                     t))
				btn = e;
		}
	if (!btn && !n)
		return 0;
	if (btn) {
		const char *t = *btn->text ? btn->text : btn->label;
		char *why = sky_rules__printf(
		    "%s \"%s\": the goal asks to refuse optional cookies.",
		    n ? "Save the choice with"
		      : "Answer the cookie banner with",
		    t);
		json_array_append_new(d->actions, click_action(btn, why, 0));
		free(why);
	}
	return 1;
}

/* 1 if an earlier step read a page of a list (an extract action). */
static int history_extracted(const json_t *v)
{
	if (json_is_object(v)) {
		const char *t =
		    json_string_value(json_object_get(v, "action_type"));
		if (t && !strcmp(t, "extract"))
			return 1;
		const char *k;
		json_t *x;
		json_object_foreach ((json_t *)v, k, x)
			if (history_extracted(x))
				return 1;
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x)
			if (history_extracted(x))
				return 1;
	}
	return 0;
}

/* A short mark of what the page shows, so that reading page 2 is not
 * taken for a repeat of page 1. */
static unsigned long page_mark(const state *s)
{
	unsigned long h = 5381;
	for (const char *c = s->p.text; *c; c++)
		h = h * 33 + (unsigned char)*c;
	return h & 0xffffff;
}

/* A list the goal wants whole, with more pages: read this page (the
 * engine keeps its rows) and go on to the next one. */
static int history_has_text(const json_t *v, const char *needle)
{
	if (json_is_string(v))
		return strstr(json_string_value(v), needle) != NULL;
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach ((json_t *)v, k, x)
			if (history_has_text(x, needle))
				return 1;
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x)
			if (history_has_text(x, needle))
				return 1;
	}
	return 0;
}

static int plan_next_page(state *s, decision *d)
{
	if (!wants_whole_list(s) || s->fp.n_fill)
		return 0;
	const sky_rules_el *next = next_page_control(s);
	if (!next) {
		/* the last page of a list read page by page: read it too,
		 * then the list is whole */
		char mark[16];
		snprintf(mark, sizeof mark, "(%06lx)", page_mark(s));
		if (!history_extracted(s->history) ||
		    history_has_text(s->history, mark))
			return 0;
		if (s->checking)
			return 1; /* not done until this page is read */
		char *why = sky_rules__printf("Read the rows of the last page "
		                              "%s.",
		                              mark);
		json_array_append_new(d->actions,
		                      json_pack("{s:s, s:s}", "action_type",
		                                "extract", "reasoning", why));
		free(why);
		set(d, D_COMPLETE,
		    sky_rules__strdup("Every page of the list has been read: "
		                      "the rows of all of them are the "
		                      "answer."));
		return 1;
	}
	char *why = sky_rules__printf("Read the rows of this page (%06lx) "
	                              "before going on.",
	                              page_mark(s));
	json_array_append_new(d->actions,
	                      json_pack("{s:s, s:s}", "action_type", "extract",
	                                "reasoning", why));
	free(why);
	why = sky_rules__printf("The goal wants the whole list: show the next "
	                        "page with \"%s\".",
	                        *next->text ? next->text : next->label);
	json_array_append_new(d->actions, click_action(next, why, 0));
	free(why);
	return 1;
}

static void decide(state *s, decision *d)
{
	const sky_rules_el *otp;
	char *why = NULL, *missing_target = NULL;
	d->actions = json_array();
	d->kind = D_ACTIONS;

	if (blank_page(s)) {
		if (s->g.url) {
			json_array_append_new(
			    d->actions,
			    json_pack("{s:s, s:s, s:s}", "action_type",
			              "goto_url", "url", s->g.url, "reasoning",
			              "Open the page the goal names."));
			d->reason =
			    sky_rules__strdup("Open the URL in the goal.");
		} else {
			set(d, D_TERMINATE,
			    sky_rules__strdup(
			        "No page is open and neither the "
			        "task nor the goal gives a URL to "
			        "start from; give the task a url."));
		}
		return;
	}
	if ((why = sky_rules__page_captcha(&s->p))) {
		set(d, D_TERMINATE,
		    sky_rules__printf(
		        "The page shows a CAPTCHA (\"%s\"). The "
		        "offline planner does not solve "
		        "CAPTCHAs; run this task with a model and "
		        "a captcha solver, or without the check.",
		        why));
		free(why);
		return;
	}
	if (sky_rules__goal_submits(&s->g) &&
	    !sky_rules__history_submitted(s->history) &&
	    (why = stop_notice(s))) {
		set(d, D_TERMINATE,
		    sky_rules__printf("The page says \"%s\": what the goal "
		                      "asks cannot be done here, so nothing "
		                      "was submitted.",
		                      why));
		free(why);
		return;
	}
	sky_rules__plan_form(&s->g, &s->p, s->history, &s->fp);
	if (plan_cookie_choice(s, d)) {
		s->cookie_planned = 1;
		goto check;
	}
	if (plan_next_page(s, d)) {
		if (d->kind == D_COMPLETE)
			return;
		goto check;
	}
	if (goal_done(s, &why)) {
		set(d, D_COMPLETE, why);
		return;
	}
	const char *trap = trap_submit(s);
	if (trap) {
		char *notice = sky_rules__page_notice(&s->p);
		set(d, D_TERMINATE,
		    sky_rules__printf(
		        "The only form here to send is \"%s\", which is not "
		        "what the goal asks (\"%s\"); nothing was "
		        "submitted.%s%s%s",
		        trap, s->g.text, notice ? " The page says: \"" : "",
		        notice ? notice : "", notice ? "\"" : ""));
		free(notice);
		return;
	}
	if ((otp = sky_rules__otp_field(&s->p))) {
		if (json_is_true(json_object_get(s->ctx, "totp_available"))) {
			const sky_rules_el *btn =
			    sky_rules__submit_button(&s->p, otp->form, 0);
			json_array_append_new(
			    d->actions,
			    json_pack("{s:s, s:s, s:s}", "action_type",
			              "verification_code", "element_id",
			              otp->id, "reasoning",
			              "Enter the verification code from the "
			              "run's TOTP source."));
			if (btn)
				json_array_append_new(
				    d->actions,
				    click_action(btn,
				                 "Submit the form with the "
				                 "verification code.",
				                 0));
			d->reason =
			    sky_rules__strdup("Enter the verification code.");
			goto check;
		}
		set(d, D_TERMINATE,
		    sky_rules__printf(
		        "The page asks for a verification code "
		        "(\"%s\") and this run has no TOTP source "
		        "(totp_identifier, totp_url or a stored "
		        "secret), so the offline planner cannot "
		        "go on.",
		        otp->label));
		return;
	}
	if (s->fp.missing) {
		set(d, D_TERMINATE,
		    sky_rules__printf("The form needs \"%s\", but neither the "
		                      "goal nor the navigation_payload gives a "
		                      "value for it.",
		                      s->fp.missing));
		return;
	}
	if (plan_find_link(s, d))
		goto check;
	if (s->fp.n_fill ||
	    ((s->fp.n_matched || s->fp.confirming) && s->fp.submit_found)) {
		json_array_extend(d->actions, s->fp.actions);
		goto check;
	}
	if (plan_targets(s, d, &missing_target) || plan_verb_control(s, d))
		goto check;
	if (wants_extraction(s) && !missing_target && plan_read_link(s, d))
		goto check;
	if (plan_opener(s, d))
		goto check;
	if (wants_extraction(s) && !missing_target &&
	    !sky_rules__goal_final(&s->g) &&
	    (has_schema(s) || !goal_gives_facts(s)) && extraction_found(s)) {
		set(d, D_COMPLETE,
		    sky_rules__strdup("Nothing left to do on this page but "
		                      "read it: the information to extract is "
		                      "what it shows."));
		goto out;
	}
	set(d, D_TERMINATE, no_plan_reason(s, missing_target));
	d->soft = 1;
	goto out;
check:
	if (!no_progress(s, d) && !d->reason)
		d->reason = plan_summary(d->actions);
	if (d->kind == D_ACTIONS && !s->cookie_planned)
		dismiss_banner(s, d);
out:
	free(missing_target);
}

static void state_init(state *s, const json_t *ctx)
{
	memset(s, 0, sizeof *s);
	s->ctx = ctx;
	s->history = json_object_get(ctx, "history");
	sky_rules__goal_parse(json_string_value(json_object_get(ctx, "goal")),
	                      json_object_get(ctx, "navigation_payload"),
	                      &s->g);
	sky_rules__page_build(ctx, &s->p);
}

static void state_free(state *s)
{
	sky_rules__goal_free(&s->g);
	sky_rules__page_free(&s->p);
	sky_rules__form_plan_free(&s->fp);
}

static json_t *terminal_action(const state *s, const decision *d)
{
	const char *type = d->kind == D_COMPLETE ? "complete" : "terminate";
	json_t *a = json_pack("{s:s, s:s}", "action_type", type, "reasoning",
	                      d->reason);
	json_t *map = json_object_get(s->ctx, "error_code_mapping");
	if (d->kind == D_TERMINATE && json_object_size(map)) {
		json_t *errs = sky_rules__match_errors(map, d->reason);
		if (json_array_size(errs))
			json_object_set(a, "errors", errs);
		json_decref(errs);
	}
	return a;
}

/* A JSON string of `text`, also when it is not valid UTF-8 (a goal or
 * page text cut in the middle of a character): such bytes become '?'.
 * Without this, json_pack refuses the whole answer. */
static json_t *text_json(const char *text)
{
	json_t *j = json_string(text ? text : "");
	if (j)
		return j;
	char *copy = sky_rules__strdup(text);
	for (unsigned char *p = (unsigned char *)copy; p && *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(copy ? copy : "");
	free(copy);
	return j;
}

char *sky_rules__answer_actions(const json_t *ctx)
{
	state s;
	decision d = {0};
	state_init(&s, ctx);
	decide(&s, &d);
	if (d.kind != D_ACTIONS)
		json_array_append_new(d.actions, terminal_action(&s, &d));
	json_t *ans = json_pack(
	    "{s:s, s:b, s:o, s:O}", "user_goal_stage",
	    d.kind == D_COMPLETE    ? "The goal is achieved."
	    : d.kind == D_TERMINATE ? "The goal cannot be achieved from here."
	                            : "Working towards the goal.",
	    "user_goal_achieved", d.kind == D_COMPLETE, "action_plan",
	    text_json(d.reason), "actions", d.actions);
	char *text = sky_rules__dump(ans);
	json_decref(ans);
	json_decref(d.actions);
	free(d.reason);
	free(d.stage);
	state_free(&s);
	return text;
}

char *sky_rules__answer_check(const json_t *ctx)
{
	state s;
	decision d = {0};
	state_init(&s, ctx);
	s.checking = 1;
	decide(&s, &d);
	/* check-goal sees no schema: where no rule matched, the next
	 * extract-actions (which does) decides, not this verdict */
	if (d.kind == D_TERMINATE && d.soft)
		d.kind = D_ACTIONS;
	const char *status = d.kind == D_COMPLETE    ? "complete"
	                     : d.kind == D_TERMINATE ? "terminate"
	                                             : "continue";
	char *reason = d.kind == D_ACTIONS
	                   ? sky_rules__printf("Not done yet; next: %s",
	                                       d.reason ? d.reason : "")
	                   : sky_rules__strdup(d.reason);
	char *info =
	    sky_rules__printf("%s%s%s", s.p.title ? s.p.title : "",
	                      s.p.title ? " at " : "", s.p.url ? s.p.url : "");
	json_t *ans = json_pack("{s:o, s:o, s:s, s:o}", "page_info",
	                        text_json(info), "thoughts", text_json(reason),
	                        "status", status, "reason", text_json(reason));
	char *text = sky_rules__dump(ans);
	json_decref(ans);
	json_decref(d.actions);
	free(d.reason);
	free(reason);
	free(info);
	state_free(&s);
	return text;
}
