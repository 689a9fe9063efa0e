/* llm-rules: matching facts to form fields (labels, synonyms, value
 * shapes), choosing options by their text, consent boxes, uploads, the
 * submit control, and required fields no fact covers. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

#define MATCH_MIN 0.5
#define OPTION_MIN 0.6

static const char *const CONSENT[] = {
    "i agree",   "agree to",    "i accept",   "accept the",
    "terms",     "privacy",     "consent",    "i have read",
    "i confirm", "acknowledge", "conditions", "processing of my",
    NULL,
};
static const char *const MARKETING[] = {
    "newsletter", "marketing",   "offers",       "promotion",     "promotional",
    "partners",   "third part",  "product news", "special offer", "updates",
    "subscribe",  "advertising", NULL,
};
static const char *const SUBMIT_WORDS[] = {
    "submit",    "apply",        "send",        "continue",    "next",
    "sign in",   "log in",       "login",       "search",      "go",
    "register",  "sign up",      "signup",      "create",      "save",
    "confirm",   "finish",       "done",        "place order", "checkout",
    "check out", "proceed",      "subscribe",   "book",        "request",
    "join",      "post",         "verify",      "upload",      "update",
    "claim",     "call me back", "get started", "start",       "ok",
    "reserve",   "order",        "pay",         "buy",         "find",
    "enroll",    "rsvp",         "complete",    "get my",      "get a",
    "redeem",    NULL,
};
static const char *const NOT_SUBMIT[] = {
    "cancel",      "back",   "go back", "reset",  "clear",
    "previous",    "prev",   "delete",  "remove", "sign out",
    "log out",     "logout", "forgot",  "close",  "decline",
    "unsubscribe", "skip",   "edit",    NULL,
};

/* "Back", "← Back to results", "Cancel": controls that leave a form. */
static int leaves_form(const char *text)
{
	char *p = sky_rules__plain(text);
	int hit = 0;
	for (size_t i = 0; NOT_SUBMIT[i] && !hit; i++) {
		size_t n = strlen(NOT_SUBMIT[i]);
		hit = !strncmp(p, NOT_SUBMIT[i], n) && (!p[n] || p[n] == ' ');
	}
	free(p);
	return hit;
}
static const char *const CONFIRM_FIELD[] = {
    "confirm", "repeat", "re enter",     "reenter", "retype",
    "again",   "verify", "confirmation", NULL,
};

static int is_consent(const sky_rules_el *e)
{
	return sky_rules__find_any(e->label, CONSENT) &&
	       !sky_rules__find_any(e->label, MARKETING);
}

/* ---- scores --------------------------------------------------------------- */

static double desc_similarity(const char *key, const sky_rules_el *e)
{
	const char *srcs[] = {e->label, e->aria, e->placeholder, e->nearby,
	                      e->name};
	double best = 0;
	for (size_t i = 0; i < 5; i++) {
		if (!srcs[i] || !*srcs[i])
			continue;
		double s = sky_rules__key_similarity(key, srcs[i]);
		best = s > best ? s : best;
	}
	if (*e->after) {
		double s = 0.8 * sky_rules__key_similarity(key, e->after);
		best = s > best ? s : best;
	}
	/* the fieldset says which address this is, weakly */
	if (*e->group) {
		double s = 0.6 * sky_rules__similarity(key, e->group);
		best = s > best ? s : best;
	}
	return best;
}

static double option_score(const char *want, const char *text,
                           const char *value)
{
	char *pw = sky_rules__plain(want), *pt = sky_rules__plain(text);
	size_t lw = strlen(pw), lt = strlen(pt);
	double s = 0;
	if (!lw) {
		s = 0;
	} else if (!strcmp(pw, pt)) {
		s = 1.0;
	} else if (value && !strcasecmp(want, value)) {
		s = 0.95;
	} else if (lt && (!strncmp(pw, pt, lt < lw ? lt : lw) &&
	                  (pt[lw < lt ? lw : lt] == ' ' ||
	                   pw[lw < lt ? lw : lt] == ' '))) {
		s = 0.85; /* "Large" / "Large (L)", "Billing" / "Billing question" */
	} else if (sky_rules__has_phrase(text, want)) {
		s = 0.8;
	} else {
		s = 0.9 * sky_rules__similarity(want, text);
	}
	/* a time ("19:30" / "7:30 pm") */
	if (s < 0.9) {
		int a = sky_rules__parse_time(want),
		    b = sky_rules__parse_time(text);
		int c = value ? sky_rules__parse_time(value) : -1;
		if (a >= 0 && (a == b || a == c))
			s = 0.95;
	}
	/* a country by name, code or demonym ("Canada" / "CA") */
	if (s < 0.9) {
		const char *cw = sky_rules__country_code(want);
		if (cw && ((sky_rules__country_code(text) &&
		            !strcmp(cw, sky_rules__country_code(text))) ||
		           (value && sky_rules__country_code(value) &&
		            !strcmp(cw, sky_rules__country_code(value)))))
			s = 0.9;
	}
	free(pw);
	free(pt);
	return s;
}

/* Index (into the options array) of the best option for `want`. */
static int best_option(const json_t *options, const char *want, double *score)
{
	size_t i;
	json_t *o;
	int best = -1;
	double bs = 0;
	json_array_foreach (options, i, o) {
		const char *t = json_string_value(json_object_get(o, "text"));
		const char *v = json_string_value(json_object_get(o, "value"));
		double s = option_score(want, t ? t : "", v);
		if (s > bs) {
			bs = s;
			best = (int)i;
		}
	}
	*score = bs;
	return best;
}

static const char *field_name(const sky_rules_el *e);

static double fact_field_score(const sky_rules_fact *f, const sky_rules_el *e)
{
	/* an option the goal named in passing belongs to its own field */
	if (f->derived == 2 && strcmp(f->key, field_name(e)))
		return 0;
	double sim = desc_similarity(f->key, e), s;
	int fc = f->concept, ec = e->concept;
	if (ec == SKY_RULES_C_OTP)
		return 0;
	if ((ec == SKY_RULES_C_SEARCH) != (fc == SKY_RULES_C_SEARCH))
		return 0;
	if (e->kind == SKY_RULES_K_FILE)
		return sky_rules__is_file_ref(f->value) ? 0.6 + 0.4 * sim : 0;
	if (sky_rules__is_file_ref(f->value) && fc == SKY_RULES_C_FILE)
		return 0;
	/* a yes/no answer is not typed into a text box */
	if (e->kind == SKY_RULES_K_TEXT &&
	    isalpha((unsigned char)f->value[0]) &&
	    sky_rules__parse_bool(f->value) >= 0 && strlen(f->value) <= 3)
		return 0;
	if (fc == SKY_RULES_C_FULL_NAME &&
	    (ec == SKY_RULES_C_FIRST_NAME || ec == SKY_RULES_C_LAST_NAME ||
	     ec == SKY_RULES_C_MIDDLE_NAME))
		return 0;
	if (fc && ec && fc == ec)
		s = 0.9 + 0.1 * sim;
	else if (fc && ec)
		s = 0.4 * sim;
	else
		s = sim;
	/* value shapes */
	if (ec == SKY_RULES_C_EMAIL && !sky_rules__is_email(f->value))
		s -= 0.5;
	if (e->type && !strcasecmp(e->type, "email") &&
	    sky_rules__is_email(f->value))
		s += 0.1;
	if (sky_rules__is_email(f->value) && ec && ec != SKY_RULES_C_EMAIL &&
	    ec != SKY_RULES_C_USERNAME)
		s -= 0.5;
	if (ec == SKY_RULES_C_PHONE && !sky_rules__is_phone(f->value))
		s -= 0.3;
	if (e->type && !strcasecmp(e->type, "number")) {
		double d;
		if (sky_rules__parse_number(f->value, &d))
			s -= 0.5;
	}
	if (e->kind == SKY_RULES_K_SELECT) {
		double os;
		best_option(json_object_get(e->j, "options"), f->value, &os);
		s += os >= 0.8 ? 0.1 : -0.3;
	}
	return s;
}

/* ---- groups of radios and checkboxes -------------------------------------- */

typedef struct group {
	const char *label; /* legend, radiogroup name, or input name */
	const sky_rules_el *m[48];
	size_t n;
	int kind, form, required;
	int fact; /* assigned fact or -1 */
} group;

static const char *group_key(const sky_rules_el *e)
{
	if (*e->group)
		return e->group;
	return e->name ? e->name : NULL;
}

/* A toggle button ("Yes"/"No" with aria-pressed) in a labelled group:
 * it answers a question like a radio button. */
static int toggle_button(const sky_rules_el *e)
{
	json_t *attrs = json_object_get(e->j, "attrs");
	return e->kind == SKY_RULES_K_BUTTON && *e->group &&
	       json_is_string(json_object_get(attrs, "aria-pressed"));
}

/* A radio, checkbox or toggle button that is on. */
static int el_on(const sky_rules_el *e)
{
	if (toggle_button(e)) {
		const char *v = json_string_value(json_object_get(
		    json_object_get(e->j, "attrs"), "aria-pressed"));
		return v && !strcmp(v, "true");
	}
	return e->checked;
}

static size_t build_groups(const sky_rules_page *p, group *gs, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		const char *k;
		if ((e->kind != SKY_RULES_K_RADIO &&
		     e->kind != SKY_RULES_K_CHECKBOX && !toggle_button(e)) ||
		    e->disabled || !(k = group_key(e)))
			continue;
		int kind =
		    e->kind == SKY_RULES_K_BUTTON ? SKY_RULES_K_RADIO : e->kind;
		size_t g;
		for (g = 0; g < n; g++)
			if (gs[g].kind == kind && gs[g].form == e->form &&
			    !strcmp(gs[g].label, k))
				break;
		if (g == n) {
			if (n == max)
				continue;
			memset(&gs[n], 0, sizeof gs[n]);
			gs[n].label = k;
			gs[n].kind = kind;
			gs[n].form = e->form;
			gs[n].fact = -1;
			n++;
		}
		if (gs[g].n < 48)
			gs[g].m[gs[g].n++] = e;
		gs[g].required |= e->required;
	}
	/* one checkbox is not a group: it is matched on its own label */
	size_t w = 0;
	for (size_t g = 0; g < n; g++)
		if (gs[g].kind == SKY_RULES_K_RADIO || gs[g].n > 1)
			gs[w++] = gs[g];
	return w;
}

static const char *el_option_text(const sky_rules_el *e)
{
	return *e->label ? e->label : *e->text ? e->text : e->value;
}

/* How well fact f fits group g (its key names the group and its value
 * names an option). */
static double group_score(const sky_rules_fact *f, const group *g)
{
	double ks = sky_rules__similarity(f->key, g->label), best = 0;
	/* "sponsorship" names "Will you ... require visa sponsorship?" */
	double kk = sky_rules__key_similarity(f->key, g->label);
	ks = kk > ks ? kk : ks;
	const char *name = g->m[0]->name;
	if (name) {
		double s = sky_rules__similarity(f->key, name);
		ks = s > ks ? s : ks;
	}
	if (ks < 0.4)
		return 0;
	for (size_t i = 0; i < g->n; i++) {
		double s = option_score(f->value, el_option_text(g->m[i]),
		                        g->m[i]->value);
		best = s > best ? s : best;
	}
	/* checkbox groups take lists: any listed item fitting is enough */
	if (g->kind == SKY_RULES_K_CHECKBOX && best < OPTION_MIN)
		best = OPTION_MIN;
	return best >= OPTION_MIN ? ks : 0;
}

/* A yes/no question ("Are your neighbours also affected?") that a
 * statement of the goal answers ("the neighbours are dark too"): yes,
 * unless the statement is negative. */
static void yes_no_statement(sky_rules_goal *g, group *gr)
{
	int yes = -1, no = -1;
	for (size_t i = 0; i < gr->n; i++) {
		int b = sky_rules__parse_bool(el_option_text(gr->m[i]));
		if (b == 1)
			yes = (int)i;
		else if (b == 0)
			no = (int)i;
	}
	if (yes < 0 || no < 0 || gr->kind != SKY_RULES_K_RADIO)
		return;
	for (size_t f = 0; f < g->nfacts; f++) {
		const sky_rules_fact *fa = &g->facts[f];
		if (fa->derived || sky_rules__parse_bool(fa->value) >= 0 ||
		    sky_rules__similarity(fa->key, gr->label) < 0.3)
			continue;
		char *pv = sky_rules__plain(fa->value);
		char *pad = sky_rules__printf(" %s ", pv);
		int neg = strstr(pad, " not ") || strstr(pad, " no ") ||
		          strstr(pad, " n t ") || strstr(pad, " never ");
		free(pv);
		free(pad);
		size_t fi = sky_rules__goal_add_fact(
		    g, gr->label, el_option_text(gr->m[neg ? no : yes]), 1);
		g->facts[fi].derived = 2;
		gr->fact = (int)fi;
		return;
	}
}

/* ---- actions --------------------------------------------------------------- */

static json_t *act(const char *type, const sky_rules_el *e, const char *why)
{
	json_t *a = json_pack("{s:s, s:s, s:s}", "action_type", type,
	                      "element_id", e->id, "reasoning", why);
	return a;
}

static const char *field_name(const sky_rules_el *e)
{
	if (*e->label)
		return e->label;
	if (e->aria)
		return e->aria;
	if (e->placeholder)
		return e->placeholder;
	if (e->name)
		return e->name;
	return e->id;
}

static int value_is(const sky_rules_el *e, const char *want)
{
	char *a = sky_rules__squash(e->value), *b = sky_rules__squash(want);
	int same = !strcmp(a, b);
	free(a);
	free(b);
	return same;
}

/* ---- the plan --------------------------------------------------------------- */

static int page_has_concept(const sky_rules_page *p, int c)
{
	for (size_t i = 0; i < p->nels; i++)
		if (p->els[i].kind == SKY_RULES_K_TEXT &&
		    p->els[i].concept == c)
			return 1;
	return 0;
}

static int fact_with(const sky_rules_goal *g, int c)
{
	for (size_t i = 0; i < g->nfacts; i++)
		if (g->facts[i].concept == c)
			return (int)i;
	return -1;
}

/* Split "Chris P Bacon" for First/Last fields, or join first + last for a
 * single Name field. */
static void derive_names(sky_rules_goal *g, const sky_rules_page *p)
{
	int full = fact_with(g, SKY_RULES_C_FULL_NAME);
	int first = fact_with(g, SKY_RULES_C_FIRST_NAME);
	int last = fact_with(g, SKY_RULES_C_LAST_NAME);
	if (full >= 0 && first < 0 && last < 0 &&
	    page_has_concept(p, SKY_RULES_C_FIRST_NAME) &&
	    page_has_concept(p, SKY_RULES_C_LAST_NAME)) {
		char *v = sky_rules__squash(g->facts[full].value);
		char *sp = strchr(v, ' '), *lsp = strrchr(v, ' ');
		if (sp) {
			char *f = sky_rules__strndup(v, (size_t)(sp - v));
			sky_rules__goal_add_fact(g, "first name", f, 1);
			sky_rules__goal_add_fact(g, "last name", lsp + 1, 1);
			if (lsp > sp &&
			    page_has_concept(p, SKY_RULES_C_MIDDLE_NAME)) {
				char *m = sky_rules__strndup(
				    sp + 1, (size_t)(lsp - sp - 1));
				sky_rules__goal_add_fact(g, "middle name", m,
				                         1);
				free(m);
			}
			free(f);
		}
		free(v);
	} else if (full < 0 && first >= 0 && last >= 0 &&
	           page_has_concept(p, SKY_RULES_C_FULL_NAME)) {
		char *v = sky_rules__printf("%s %s", g->facts[first].value,
		                            g->facts[last].value);
		sky_rules__goal_add_fact(g, "full name", v, 1);
		free(v);
	}
}

typedef struct pair {
	size_t fact, el;
	double score;
} pair;

static int cmp_pair(const void *a, const void *b)
{
	const pair *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->fact != y->fact)
		return x->fact < y->fact ? -1 : 1;
	return x->el < y->el ? -1 : x->el > y->el;
}

static int fillable(const sky_rules_el *e)
{
	return (e->kind == SKY_RULES_K_TEXT || e->kind == SKY_RULES_K_SELECT ||
	        e->kind == SKY_RULES_K_FILE ||
	        e->kind == SKY_RULES_K_DROPDOWN) &&
	       !e->disabled && !e->readonly;
}

const sky_rules_el *sky_rules__cookie_button(const sky_rules_page *p)
{
	/* a privacy-friendly answer first, any answer second */
	static const char *const PREF[2][8] = {
	    {"reject", "decline", "necessary", "essential", "deny", NULL},
	    {"accept", "agree", "allow", "got it", "ok", "continue", "close",
	     NULL},
	};
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->nels; i++) {
			const sky_rules_el *e = &p->els[i];
			if ((e->kind != SKY_RULES_K_BUTTON &&
			     e->kind != SKY_RULES_K_LINK) ||
			    e->disabled)
				continue;
			if (!strcasestr(e->context, "cookie") &&
			    !strcasestr(e->text, "cookie"))
				continue;
			if (sky_rules__find_any(e->text, PREF[pass]))
				return e;
		}
	return NULL;
}

/* Which fact goes where: el_fact[i] is the fact for element i or -1. */
static void assign(const sky_rules_goal *g, const sky_rules_page *p,
                   int *el_fact)
{
	size_t cap = g->nfacts * p->nels + 1, n = 0;
	pair *ps = malloc(cap * sizeof *ps);
	int *fact_used = calloc(g->nfacts + 1, sizeof *fact_used);
	if (!ps || !fact_used)
		abort();
	for (size_t i = 0; i < p->nels; i++)
		el_fact[i] = -1;
	for (size_t f = 0; f < g->nfacts; f++)
		for (size_t i = 0; i < p->nels; i++) {
			if (!fillable(&p->els[i]))
				continue;
			double s = fact_field_score(&g->facts[f], &p->els[i]);
			/* between equal fields, the required one needs it */
			s += p->els[i].required ? 0.02 : 0;
			if (s >= MATCH_MIN)
				ps[n++] = (pair){f, i, s};
		}
	qsort(ps, n, sizeof *ps, cmp_pair);
	for (size_t k = 0; k < n; k++) {
		const sky_rules_el *e = &p->els[ps[k].el];
		if (el_fact[ps[k].el] >= 0)
			continue;
		/* "Confirm password" takes the password a second time */
		int again = sky_rules__find_any(field_name(e), CONFIRM_FIELD) &&
		            (e->concept == SKY_RULES_C_PASSWORD ||
		             e->concept == SKY_RULES_C_EMAIL);
		if (fact_used[ps[k].fact] && !again)
			continue;
		el_fact[ps[k].el] = (int)ps[k].fact;
		fact_used[ps[k].fact] = 1;
	}
	free(ps);
	free(fact_used);
}

static int placeholder_selected(const sky_rules_el *e)
{
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(e->j, "options"), i, o) {
		if (!json_is_true(json_object_get(o, "selected")))
			continue;
		const char *v = json_string_value(json_object_get(o, "value"));
		const char *t = json_string_value(json_object_get(o, "text"));
		if ((v && !*v) || !t || !*t || strstr(t, "--") ||
		    strcasestr(t, "select") || strcasestr(t, "choose") ||
		    strcasestr(t, "please"))
			return 1;
		return 0;
	}
	return 1; /* nothing selected */
}

const sky_rules_el *sky_rules__submit_button(const sky_rules_page *p, int form,
                                             int search)
{
	const sky_rules_el *best = NULL;
	int bs = 1;
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		const char *t = *e->text    ? e->text
		                : *e->label ? e->label
		                            : e->value;
		if (e->kind != SKY_RULES_K_BUTTON &&
		    e->kind != SKY_RULES_K_LINK)
			continue;
		if (form >= 0 && e->form != form)
			continue;
		if (leaves_form(t) || (e->aria && leaves_form(e->aria)))
			continue;
		int s = 0;
		const char *type = e->type ? e->type : "";
		if (e->kind == SKY_RULES_K_BUTTON) {
			s = 1;
			if ((e->tag && !strcmp(e->tag, "button") &&
			     (!*type || !strcasecmp(type, "submit")) &&
			     form >= 0) ||
			    !strcasecmp(type, "submit") ||
			    !strcasecmp(type, "image"))
				s += 2;
		}
		if (sky_rules__find_any(t, SUBMIT_WORDS) ||
		    (e->aria && sky_rules__find_any(e->aria, SUBMIT_WORDS)))
			s += 2;
		if (search &&
		    (sky_rules__has_phrase(t, "search") ||
		     (e->aria && sky_rules__has_phrase(e->aria, "search"))))
			s += 2;
		/* often disabled until the form is valid: a last resort */
		if (e->disabled)
			s -= 2;
		if (s > bs) {
			bs = s;
			best = e;
		}
	}
	return best;
}

const sky_rules_el *sky_rules__otp_field(const sky_rules_page *p)
{
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		if (e->kind == SKY_RULES_K_TEXT &&
		    e->concept == SKY_RULES_C_OTP && !e->disabled)
			return e;
	}
	return NULL;
}

static void add_missing(sky_rules_form_plan *out, const char *label)
{
	if (!out->missing)
		out->missing = sky_rules__strdup(label);
}

/* Plan one radio or checkbox group. */
static void plan_group(const sky_rules_goal *g, const group *gr,
                       sky_rules_form_plan *out)
{
	const sky_rules_fact *f = &g->facts[gr->fact];
	if (gr->kind == SKY_RULES_K_RADIO) {
		const sky_rules_el *pick = NULL;
		double bs = 0;
		for (size_t i = 0; i < gr->n; i++) {
			double s =
			    option_score(f->value, el_option_text(gr->m[i]),
			                 gr->m[i]->value);
			if (s > bs) {
				bs = s;
				pick = gr->m[i];
			}
		}
		out->n_matched++;
		if (pick && !el_on(pick)) {
			char *why = sky_rules__printf(
			    "Choose \"%s\" for \"%s\" (%s: %s).",
			    el_option_text(pick), gr->label, f->key, f->value);
			int btn = pick->kind == SKY_RULES_K_BUTTON;
			json_t *a = act(btn ? "click" : "checkbox", pick, why);
			if (!btn)
				json_object_set_new(a, "is_checked",
				                    json_true());
			json_array_append_new(out->actions, a);
			out->n_fill++;
			free(why);
		}
		return;
	}
	/* a list: "Fuzzing and Advanced CMake", "a, b & c" */
	char *list = sky_rules__strdup(f->value), *parts[32];
	size_t np = 0;
	for (char *c = list; *c; c++)
		if (*c == ',' || *c == ';' || *c == '&' || *c == '/')
			*c = '\x02';
	for (char *c = strstr(list, " and "); c; c = strstr(c, " and ")) {
		memset(c, '\x02', 5);
	}
	char *save = NULL;
	for (char *t = strtok_r(list, "\x02", &save); t && np < 32;
	     t = strtok_r(NULL, "\x02", &save)) {
		char *s = sky_rules__squash(t);
		if (*s)
			parts[np++] = s;
		else
			free(s);
	}
	out->n_matched++;
	for (size_t i = 0; i < gr->n; i++) {
		const sky_rules_el *e = gr->m[i];
		int want = 0;
		for (size_t k = 0; k < np && !want; k++)
			want = option_score(parts[k], el_option_text(e),
			                    e->value) >= 0.75;
		if (want == !!e->checked)
			continue;
		char *why = sky_rules__printf(
		    "%s \"%s\" (%s: %s).", want ? "Tick" : "Untick",
		    el_option_text(e), f->key, f->value);
		json_t *a = act("checkbox", e, why);
		json_object_set_new(a, "is_checked", json_boolean(want));
		json_array_append_new(out->actions, a);
		out->n_fill++;
		free(why);
	}
	for (size_t k = 0; k < np; k++)
		free(parts[k]);
	free(list);
}

static int goal_word(const char *pg, const char *w);

/*
 * What the goal says of a switch or checkbox in passing: "Stop the
 * marketing emails — promotions and the newsletter — but I still want my
 * order and delivery updates. Also switch on service reminders." The
 * clause that names its label says on or off (a clause with no such word
 * goes on with the one before). -1 when the goal does not speak of it.
 */
static int checkbox_wish(const sky_rules_goal *g, const sky_rules_el *e)
{
	static const char *const OFF[] = {
	    "stop",    "turn off", "switch off", "unsubscribe",
	    "opt out", "no more",  "don t want", "do not want",
	    "untick",  "disable",  "remove me",  NULL,
	};
	static const char *const ON[] = {
	    "switch on", "turn on", "want", "keep", "subscribe",
	    "enable",    "opt in",  "tick", NULL,
	};
	if (!*e->label || is_consent(e))
		return -1;
	char *pg = sky_rules__plain(g->text);
	/* clause breaks: sentence ends, dashes, "but", "also" */
	char *copy = sky_rules__strdup(g->text);
	for (char *c = copy; *c; c++)
		if (*c == '.' || *c == ';' || *c == '!' || *c == '?' ||
		    ((unsigned char)c[0] == 0xe2 &&
		     (unsigned char)c[1] == 0x80 &&
		     ((unsigned char)c[2] == 0x94 ||
		      (unsigned char)c[2] == 0x93)))
			*c = '|';
	char *lw = sky_rules__words(e->label);
	int pol = -1, wish = -1;
	char *save = NULL;
	for (char *cl = strtok_r(copy, "|", &save); cl && wish < 0;
	     cl = strtok_r(NULL, "|", &save)) {
		char *pc = sky_rules__plain(cl);
		/* "but" and "also" start a clause of their own */
		char *parts[8];
		size_t np = 0;
		char *q = pc;
		parts[np++] = q;
		for (char *h = pc; *h && np < 8; h++)
			if ((!strncmp(h, " but ", 5) ||
			     !strncmp(h, " also ", 6))) {
				*h = '\0';
				parts[np++] = h + 1;
			}
		for (size_t k = 0; k < np && wish < 0; k++) {
			const char *cp = parts[k];
			if (sky_rules__find_any(cp, OFF))
				pol = 0;
			else if (sky_rules__find_any(cp, ON))
				pol = 1;
			char *lc = sky_rules__strdup(lw), *s2 = NULL;
			int named = 0;
			for (char *t = strtok_r(lc, " ", &s2); t && !named;
			     t = strtok_r(NULL, " ", &s2))
				named = strlen(t) >= 5 && goal_word(cp, t) != 0;
			free(lc);
			if (named && pol >= 0)
				wish = pol;
		}
		free(pc);
	}
	free(lw);
	free(copy);
	free(pg);
	return wish;
}

/* The single checkboxes: a fact naming them, or consent. */
static void plan_checkboxes(const sky_rules_goal *g, const sky_rules_page *p,
                            const group *gs, size_t ng, int form,
                            sky_rules_form_plan *out)
{
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		int in_group = 0;
		if (e->kind != SKY_RULES_K_CHECKBOX || e->disabled ||
		    e->form != form)
			continue;
		for (size_t k = 0; k < ng && !in_group; k++)
			for (size_t m = 0; m < gs[k].n && !in_group; m++)
				in_group = gs[k].m[m] == e;
		if (in_group)
			continue;
		int want = -1;
		const char *why_fact = NULL;
		for (size_t f = 0; f < g->nfacts && want < 0; f++) {
			int b = sky_rules__parse_bool(g->facts[f].value);
			if (b >= 0 && sky_rules__similarity(g->facts[f].key,
			                                    e->label) >= 0.6) {
				want = b;
				why_fact = g->facts[f].key;
			}
		}
		if (want < 0 && is_consent(e) &&
		    (sky_rules__goal_submits(g) || e->required))
			want = 1;
		int wished = 0;
		if (want < 0) {
			want = checkbox_wish(g, e);
			wished = want >= 0;
		}
		if (want < 0) {
			if (e->required && !e->checked)
				add_missing(out, e->label);
			continue;
		}
		out->n_matched++;
		if (want == !!e->checked)
			continue;
		char *why =
		    wished
		        ? sky_rules__printf("Turn %s \"%s\", as the goal says.",
		                            want ? "on" : "off", e->label)
		    : why_fact
		        ? sky_rules__printf("%s \"%s\" (%s).",
		                            want ? "Tick" : "Untick", e->label,
		                            why_fact)
		        : sky_rules__printf("Tick \"%s\": the goal asks to "
		                            "submit, which needs this consent.",
		                            e->label);
		/* a label standing in for a hidden switch toggles on a click */
		int proxy = e->tag && !strcmp(e->tag, "label");
		json_t *a = act(proxy ? "click" : "checkbox", e, why);
		if (!proxy)
			json_object_set_new(a, "is_checked",
			                    json_boolean(want));
		json_array_append_new(out->actions, a);
		out->n_fill++;
		free(why);
	}
}

static void plan_field(const sky_rules_page *p, const sky_rules_el *e,
                       const sky_rules_fact *f, const json_t *history,
                       sky_rules_form_plan *out)
{
	char *why;
	json_t *a;
	out->n_matched++;
	if (e->kind == SKY_RULES_K_SELECT) {
		double s;
		json_t *opts = json_object_get(e->j, "options");
		int idx = best_option(opts, f->value, &s);
		json_t *o = json_array_get(opts, (size_t)idx);
		if (idx < 0 || json_is_true(json_object_get(o, "selected")))
			return;
		const char *t = json_string_value(json_object_get(o, "text"));
		why = sky_rules__printf("Select \"%s\" in \"%s\" (%s: %s).", t,
		                        field_name(e), f->key, f->value);
		a = act("select_option", e, why);
		json_t *opt = json_object();
		json_object_set_new(opt, "label", json_string(t ? t : ""));
		if (json_is_string(json_object_get(o, "value")))
			json_object_set(opt, "value",
			                json_object_get(o, "value"));
		json_object_set_new(
		    opt, "index",
		    json_integer(
		        json_is_integer(json_object_get(o, "index"))
		            ? json_integer_value(json_object_get(o, "index"))
		            : idx));
		json_object_set_new(a, "option", opt);
	} else if (e->kind == SKY_RULES_K_DROPDOWN) {
		/* a styled dropdown: open it, then pick the option */
		if (option_score(f->value, e->text, NULL) >= 0.8)
			return;
		const sky_rules_el *pick = NULL;
		double bs = OPTION_MIN;
		for (size_t i = 0; i < p->nels; i++) {
			const sky_rules_el *o = &p->els[i];
			double s;
			if (o->kind != SKY_RULES_K_OPTION)
				continue;
			s = option_score(f->value,
			                 *o->text ? o->text : o->label, NULL);
			if (s > bs) {
				bs = s;
				pick = o;
			}
		}
		if (pick) {
			why = sky_rules__printf(
			    "Choose \"%s\" in \"%s\" (%s: %s).",
			    *pick->text ? pick->text : pick->label,
			    field_name(e), f->key, f->value);
			a = act("click", pick, why);
		} else {
			why = sky_rules__printf("Open \"%s\" to choose %s.",
			                        field_name(e), f->value);
			a = act("click", e, why);
			out->opening = 1;
		}
	} else if (e->kind == SKY_RULES_K_FILE) {
		const char *base = strrchr(f->value, '/');
		base = base ? base + 1 : f->value;
		if (*e->value && strstr(e->value, base))
			return;
		why = sky_rules__printf("Upload \"%s\" into \"%s\".", f->value,
		                        field_name(e));
		a = act("upload_file", e, why);
		json_object_set_new(a, "file_url", json_string(f->value));
		const char *path =
		    !strncmp(f->value, "file://", 7) ? f->value + 7 : f->value;
		if (path[0] == '/')
			json_object_set_new(a, "file_path", json_string(path));
	} else {
		int masked = e->type && !strcasecmp(e->type, "password");
		if (masked ? (*e->value &&
		              sky_rules__history_typed(history, f->value))
		           : value_is(e, f->value))
			return;
		const char *k = f->key;
		static const char *const ART[] = {"the ", "my ",  "a ",
		                                  "an ",  "our ", NULL};
		for (size_t i = 0; ART[i]; i++)
			if (!strncasecmp(k, ART[i], strlen(ART[i])))
				k += strlen(ART[i]);
		why = sky_rules__printf("Fill \"%s\" with the %s.",
		                        field_name(e), k);
		a = act("input_text", e, why);
		char iso[11];
		/* a date input takes the date itself, whatever the spelling */
		if (e->type && !strcasecmp(e->type, "date") &&
		    !sky_rules__parse_date(f->value, iso))
			json_object_set_new(a, "text", json_string(iso));
		else
			json_object_set_new(a, "text", json_string(f->value));
	}
	json_array_append_new(out->actions, a);
	out->n_fill++;
	free(why);
}

/* A sign-in form: a password and at most two other text fields. Its
 * password is needed even when the page does not mark it required. */
static int login_form(const sky_rules_page *p, int form)
{
	int texts = 0, password = 0;
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		if (e->form != form || e->kind != SKY_RULES_K_TEXT)
			continue;
		texts++;
		password |= e->concept == SKY_RULES_C_PASSWORD;
	}
	return password && texts <= 3;
}

static const char *const FINAL_WORDS[] = {
    "confirm", "finish", "submit", "complete", "place order",
    "pay",     "book",   "done",   "send",     NULL,
};

/*
 * No fact fits any field, but the goal submits: the last step of a flow
 * often asks only to tick "I confirm these details" and press Finish. A
 * form qualifies when it has an unticked consent box, or (mid-flow) a
 * final-sounding submit button, and no required field left empty; never
 * on a page that already confirms success.
 */
static int confirm_form(const sky_rules_goal *g, const sky_rules_page *p,
                        const json_t *history)
{
	char *conf;
	if (!sky_rules__goal_submits(g))
		return -2;
	/* "Your answers have been saved ... Accept and send": a page that
	 * says something went well but still asks for the declaration is
	 * not the end */
	int confirmed = 0;
	if ((conf = sky_rules__page_confirmation(p))) {
		confirmed = 1;
		free(conf);
	}
	for (int f = -1; f < 64; f++) {
		int consent = 0, blocked = 0, any = 0;
		for (size_t i = 0; i < p->nels; i++) {
			const sky_rules_el *e = &p->els[i];
			if (e->form != f)
				continue;
			any = 1;
			if (e->kind == SKY_RULES_K_CHECKBOX && !e->checked &&
			    is_consent(e))
				consent = 1;
			if (fillable(e) &&
			    (e->required || e->concept == SKY_RULES_C_SEARCH) &&
			    !*e->value)
				blocked = 1;
		}
		if (!any || blocked)
			continue;
		const sky_rules_el *btn = sky_rules__submit_button(p, f, 0);
		if (!btn)
			continue;
		const char *t = *btn->text ? btn->text : btn->label;
		if (consent ||
		    (!confirmed && sky_rules__history_submitted(history) &&
		     sky_rules__find_any(t, FINAL_WORDS)))
			return f;
	}
	return -2;
}

/* ---- options the goal names in passing ------------------------------------ */

/* 1 if content word `w` occurs in the plain goal text `pg` and no
 * occurrence is negated ("not the monthly", "no marketing"); 0 when
 * absent; -1 when only negated. */
static int goal_word(const char *pg, const char *w)
{
	size_t n = strlen(w);
	int seen = 0, pos = 0;
	for (const char *h = strstr(pg, w); h; h = strstr(h + 1, w)) {
		if ((h > pg && h[-1] != ' ') ||
		    (h[n] && h[n] != ' ' &&
		     !(h[n] == 's' && (!h[n + 1] || h[n + 1] == ' '))))
			continue;
		seen = 1;
		/* the two words before it */
		const char *a = h;
		int words = 0, neg = 0;
		while (a > pg && words < 3) {
			a--;
			if (*a == ' ' || a == pg) {
				const char *ws = a == pg ? a : a + 1;
				if (!strncmp(ws, "not ", 4) ||
				    !strncmp(ws, "no ", 3) ||
				    !strncmp(ws, "don t ", 6) ||
				    !strncmp(ws, "never ", 6) ||
				    !strncmp(ws, "without ", 8) ||
				    !strncmp(ws, "stop ", 5))
					neg = 1;
				words++;
			}
		}
		if (!neg)
			pos = 1;
	}
	return pos ? 1 : seen ? -1 : 0;
}

/* How much option text `t` (or its value) is named by the goal: the share
 * of its content words the goal says (4+ letters), 0 when none, -1 when
 * the goal says it only to refuse it. */
static double goal_names(const char *pg, const char *t, const char *v)
{
	double best = 0;
	const char *srcs[] = {t, v};
	for (int k = 0; k < 2; k++) {
		if (!srcs[k] || !*srcs[k])
			continue;
		char *w = sky_rules__words(srcs[k]);
		int n = 0, hit = 0, neg = 0;
		char *save = NULL;
		for (char *x = strtok_r(w, " ", &save); x;
		     x = strtok_r(NULL, " ", &save)) {
			n++;
			/* short words, yes/no and bare numbers (a year the
			 * goal gives for something else) name nothing */
			if (strlen(x) < 4 || sky_rules__parse_bool(x) >= 0 ||
			    strspn(x, "0123456789") == strlen(x))
				continue;
			int r = goal_word(pg, x);
			hit += r > 0;
			neg |= r < 0;
		}
		free(w);
		if (neg && !hit)
			return -1;
		double s = n ? (double)hit / n : 0;
		/* two words of a long option ("State resident (lived here
		 * 6+ months)" for "we've lived in the state") */
		if (hit >= 2 && s < 0.5)
			s = 0.5;
		best = s > best ? s : best;
	}
	return best;
}

/* The age the goal states, or -1. */
static int goal_age(const sky_rules_goal *g)
{
	for (size_t i = 0; i < g->nfacts; i++)
		if (!strcmp(g->facts[i].key, "age"))
			return atoi(g->facts[i].value);
	return -1;
}

/* An age range in an option: "(12–17)", "(18+)", "under 18", "65 and
 * over". 1 when found. */
static int age_range(const char *t, long *lo, long *hi)
{
	const char *c = t;
	while (*c && !isdigit((unsigned char)*c))
		c++;
	if (!*c)
		return 0;
	char *e;
	long a = strtol(c, &e, 10);
	while (*e == ' ')
		e++;
	if (*e == '+' || !strncasecmp(e, "and over", 8) ||
	    !strncasecmp(e, "or over", 7)) {
		*lo = a, *hi = 200;
		return 1;
	}
	/* "12–17", "12-17", "12 to 17" */
	const char *d = e;
	while (*d && !isdigit((unsigned char)*d) && d - e < 5)
		d++;
	if (isdigit((unsigned char)*d)) {
		*lo = a, *hi = strtol(d, NULL, 10);
		return *hi >= *lo;
	}
	if (strcasestr(t, "under")) {
		*lo = 0, *hi = a - 1;
		return 1;
	}
	return 0;
}

/* A count in the goal ("about 30 employees") for a select of ranges. */
static int goal_count(const char *pg, long *out)
{
	static const char *const NOUNS[] = {"employee", "people", "staff",
	                                    "user",     "seat",   "person",
	                                    "member",   NULL};
	for (const char *c = pg; *c; c++) {
		if (!isdigit((unsigned char)*c) || (c > pg && c[-1] != ' '))
			continue;
		char *end;
		long v = strtol(c, &end, 10);
		while (*end == ' ')
			end++;
		for (size_t i = 0; NOUNS[i]; i++)
			if (!strncmp(end, NOUNS[i], strlen(NOUNS[i]))) {
				*out = v;
				return 1;
			}
	}
	return 0;
}

/* The option whose range ("11–50", "1,000+", "More than 1,000") holds n. */
static int range_option(const json_t *opts, long n)
{
	size_t i;
	json_t *o;
	json_array_foreach (opts, i, o) {
		const char *t = json_string_value(json_object_get(o, "text"));
		if (!t)
			continue;
		long a = -1, b = -1;
		char digits[64];
		size_t k = 0;
		for (const char *c = t; *c && k + 1 < sizeof digits; c++)
			if (isdigit((unsigned char)*c))
				digits[k++] = *c;
			else if (*c != ',' && k && digits[k - 1] != ' ')
				digits[k++] = ' ';
		digits[k] = '\0';
		if (sscanf(digits, "%ld %ld", &a, &b) == 2) {
			if (n >= a && n <= b)
				return (int)i;
		} else if (a >= 0 && (strchr(t, '+') || strcasestr(t, "more") ||
		                      strcasestr(t, "over"))) {
			if (n >= a)
				return (int)i;
		}
	}
	return -1;
}

/*
 * Selects and radio groups the goal's facts do not name by key, whose
 * options the goal names in passing ("She has an Android phone", "the
 * weekly Sunday one, not the monthly", "about 30 employees"): a fact
 * keyed by the field's own label, so that the field is answered like a
 * person would.
 */
static void named_options(sky_rules_goal *g, const sky_rules_page *p)
{
	char *pg = sky_rules__plain(g->text);
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		const char *label = NULL;
		if (e->disabled)
			continue;
		if (e->kind == SKY_RULES_K_SELECT)
			label = field_name(e);
		else if (e->kind == SKY_RULES_K_RADIO)
			label = group_key(e);
		if (!label || !*label)
			continue;
		/* a fact names this field already */
		int known = 0;
		for (size_t f = 0; f < g->nfacts && !known; f++) {
			double os = 1;
			if (e->kind == SKY_RULES_K_SELECT)
				best_option(json_object_get(e->j, "options"),
				            g->facts[f].value, &os);
			known = !g->facts[f].derived && os >= OPTION_MIN &&
			        fact_field_score(&g->facts[f], e) >= MATCH_MIN;
		}
		if (known)
			continue;
		const char *pick = NULL;
		double bs = 0;
		int tie = 0;
		if (e->kind == SKY_RULES_K_SELECT) {
			json_t *opts = json_object_get(e->j, "options"), *o;
			size_t k;
			long n;
			json_array_foreach (opts, k, o) {
				const char *t = json_string_value(
				    json_object_get(o, "text"));
				const char *v = json_string_value(
				    json_object_get(o, "value"));
				if (!t || !v || !*v)
					continue;
				double s = goal_names(pg, t, v);
				/* an age range ("youth (12–17)", "adult
				 * (18+)") holds the goal's age or not */
				long lo, hi;
				int age = goal_age(g);
				if (age >= 0 && s > 0 && age_range(t, &lo, &hi))
					s = age >= lo && age <= hi ? s + 0.5
					                           : -1;
				if (s > bs) {
					bs = s, pick = t, tie = 0;
				} else if (s == bs && s > 0) {
					tie = 1;
				}
			}
			if (!pick && goal_count(pg, &n)) {
				int idx = range_option(opts, n);
				if (idx >= 0)
					pick =
					    json_string_value(json_object_get(
					        json_array_get(opts,
					                       (size_t)idx),
					        "text")),
					bs = 1;
			}
		} else {
			for (size_t k = 0; k < p->nels; k++) {
				const sky_rules_el *r = &p->els[k];
				const char *rk;
				if (r->kind != SKY_RULES_K_RADIO ||
				    r->form != e->form ||
				    !(rk = group_key(r)) || strcmp(rk, label))
					continue;
				double s =
				    goal_names(pg, el_option_text(r), r->value);
				if (s > bs) {
					bs = s, pick = el_option_text(r),
					tie = 0;
				} else if (s == bs && s > 0) {
					tie = 1;
				}
			}
		}
		if (pick && bs >= 0.5 && !tie) {
			size_t fi = sky_rules__goal_add_fact(g, label, pick, 1);
			g->facts[fi].derived = 2; /* for this field only */
		}
	}
	free(pg);
}

/* Which part of a date a field is ("Day", "MM", "dob-year"): 'd', 'm',
 * 'y' or 0. */
static int date_part(const sky_rules_el *e)
{
	const char *srcs[] = {e->label, e->placeholder, e->aria, e->name};
	for (size_t i = 0; i < 4; i++) {
		if (!srcs[i] || !*srcs[i])
			continue;
		char *w = sky_rules__plain(srcs[i]);
		/* the last word: "moved day", "dob day", "Day" */
		char *last = strrchr(w, ' ');
		last = last ? last + 1 : w;
		int part = !strcmp(last, "day") || !strcmp(last, "dd")     ? 'd'
		           : !strcmp(last, "month") || !strcmp(last, "mm") ? 'm'
		           : !strcmp(last, "year") || !strcmp(last, "yyyy") ||
		                   !strcmp(last, "yy")
		               ? 'y'
		               : 0;
		free(w);
		if (part)
			return part;
	}
	return 0;
}

/* Day, month and year fields of one date: the goal's date, split the way
 * the fields take it (a month select by its option, numbers without a
 * leading zero unless the field shows "DD"/"MM"). */
static void split_dates(sky_rules_goal *g, const sky_rules_page *p)
{
	int dob = fact_with(g, SKY_RULES_C_DOB), other = -1;
	/* a date split in parts: at least two of day, month, year */
	int parts = 0;
	for (size_t i = 0; i < p->nels; i++) {
		int dp = fillable(&p->els[i]) ? date_part(&p->els[i]) : 0;
		parts |= dp == 'd' ? 1 : dp == 'm' ? 2 : dp == 'y' ? 4 : 0;
	}
	if (parts != 3 && parts != 6 && parts != 7)
		return;
	for (size_t i = 0; i < g->nfacts && other < 0; i++)
		if (!strcmp(g->facts[i].key, "date"))
			other = (int)i;
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		int part = date_part(e);
		if (!part || !fillable(e))
			continue;
		/* which date: the birth date where the page speaks of birth */
		char *ctx = sky_rules__printf("%s %s %s", e->group, e->nearby,
		                              e->name ? e->name : "");
		int birth = strcasestr(ctx, "birth") ||
		            strcasestr(ctx, "dob") || strcasestr(ctx, "born");
		free(ctx);
		int f = birth ? dob : other >= 0 ? other : dob;
		char iso[11];
		if (f < 0 || sky_rules__parse_date(g->facts[f].value, iso))
			continue;
		int y = atoi(iso), m = atoi(iso + 5), d = atoi(iso + 8);
		const char *ph = e->placeholder ? e->placeholder : "";
		int pad = strstr(ph, "DD") || strstr(ph, "MM") ||
		          strstr(ph, "dd") || strstr(ph, "mm");
		char val[32];
		if (part == 'y')
			snprintf(val, sizeof val, "%d", y);
		else if (part == 'd')
			snprintf(val, sizeof val, pad ? "%02d" : "%d", d);
		else
			snprintf(val, sizeof val, pad ? "%02d" : "%d", m);
		if (part == 'm' && e->kind == SKY_RULES_K_SELECT) {
			size_t k;
			json_t *o;
			json_array_foreach (json_object_get(e->j, "options"), k,
			                    o) {
				const char *ot = json_string_value(
				    json_object_get(o, "text"));
				const char *ov = json_string_value(
				    json_object_get(o, "value"));
				char iso2[11];
				char *probe = sky_rules__printf("%s 1 2000",
				                                ot ? ot : "");
				int by_name =
				    !sky_rules__parse_date(probe, iso2) &&
				    atoi(iso2 + 5) == m;
				free(probe);
				if (by_name || (ov && *ov && atoi(ov) == m)) {
					snprintf(val, sizeof val, "%s",
					         ot ? ot : "");
					break;
				}
			}
		}
		size_t fi = sky_rules__goal_add_fact(g, field_name(e), val, 1);
		g->facts[fi].derived = 2; /* for this field only */
	}
}

/* The goal speaks of what an empty field asks ("The car is registration
 * KX19 PLM" and a "Registration number" field) without a value read for
 * it: sending the form without it would not be what the goal asked. */
static int goal_speaks_of(const sky_rules_goal *g, const sky_rules_el *e)
{
	if (strcasestr(field_name(e), "optional") ||
	    e->concept == SKY_RULES_C_MESSAGE ||
	    (e->tag && !strcmp(e->tag, "textarea")))
		return 0;
	char *lw = sky_rules__words(field_name(e)), *save = NULL;
	char *pg = sky_rules__plain(g->text);
	int hit = 0;
	for (char *t = strtok_r(lw, " ", &save); t && !hit;
	     t = strtok_r(NULL, " ", &save)) {
		/* a distinctive word ("registration", "mileage"), not
		 * "name" or "number" */
		if (strlen(t) < 7 || !strcmp(t, "address") ||
		    !strcmp(t, "number") || !strcmp(t, "company"))
			continue;
		char *pad = sky_rules__printf(" %s", t);
		char *hay = sky_rules__printf(" %s", pg);
		hit = strstr(hay, pad) != NULL;
		free(pad);
		free(hay);
	}
	free(lw);
	free(pg);
	return hit;
}

/* A required message box and no message in the goal: what the person
 * says about their situation ("I was charged twice for invoice
 * INV-20931 this month.") is the message. */
static void message_from_goal(sky_rules_goal *g, const sky_rules_page *p)
{
	int want = 0;
	for (size_t i = 0; i < p->nels && !want; i++)
		want = p->els[i].kind == SKY_RULES_K_TEXT &&
		       p->els[i].required && !*p->els[i].value &&
		       (p->els[i].concept == SKY_RULES_C_MESSAGE ||
		        (p->els[i].tag && !strcmp(p->els[i].tag, "textarea")));
	/* a ticket or message to write: its box, required or not */
	for (size_t i = 0; i < p->nels && !want; i++)
		want = p->els[i].kind == SKY_RULES_K_TEXT &&
		       !*p->els[i].value && p->els[i].tag &&
		       !strcmp(p->els[i].tag, "textarea") &&
		       !strcasestr(field_name(&p->els[i]), "optional") &&
		       (strcasestr(g->text, "ticket") ||
		        strcasestr(g->text, "complaint"));
	if (!want || fact_with(g, SKY_RULES_C_MESSAGE) >= 0)
		return;
	static const char *const OPEN[] = {"I ",     "I'm ",   "I've ", "We ",
	                                   "We're ", "We've ", "Our ",  "My ",
	                                   "It ",    "The ",   NULL};
	const char *t = g->text;
	while (*t) {
		while (*t == ' ')
			t++;
		const char *e = t;
		while (*e && !((*e == '.' || *e == '!' || *e == '?') &&
		               (!e[1] || e[1] == ' ')))
			e++;
		int open = 0;
		for (size_t i = 0; OPEN[i] && !open; i++)
			open = !strncmp(t, OPEN[i], strlen(OPEN[i]));
		/* a statement, not a fact for a field ("My email is ...") */
		char *sent =
		    sky_rules__strndup(t, (size_t)(e - t) + (*e ? 1 : 0));
		if (open && !strchr(sent, '@') && !strstr(sent, " name is") &&
		    strlen(sent) > 12) {
			sky_rules__goal_add_fact(g, "message", sent, 1);
			free(sent);
			return;
		}
		free(sent);
		t = *e ? e + 1 : e;
	}
}

void sky_rules__plan_form(sky_rules_goal *g, const sky_rules_page *p,
                          const json_t *history, sky_rules_form_plan *out)
{
	group gs[32];
	int *el_fact;
	size_t ng;
	memset(out, 0, sizeof *out);
	out->actions = json_array();
	out->form = -1;
	derive_names(g, p);
	split_dates(g, p);
	named_options(g, p);
	message_from_goal(g, p);
	el_fact = malloc((p->nels + 1) * sizeof *el_fact);
	if (!el_fact)
		abort();
	assign(g, p, el_fact);
	ng = build_groups(p, gs, 32);
	for (size_t k = 0; k < ng; k++) {
		double bs = 0;
		for (size_t f = 0; f < g->nfacts; f++) {
			double s = group_score(&g->facts[f], &gs[k]);
			if (s > bs) {
				bs = s;
				gs[k].fact = (int)f;
			}
		}
		if (gs[k].fact < 0)
			yes_no_statement(g, &gs[k]);
	}

	/* the form most facts point at */
	int forms[64] = {0}, none = 0, best = -2, bc = 0;
	for (size_t i = 0; i < p->nels; i++) {
		if (el_fact[i] < 0)
			continue;
		/* a search box already holding the query (or searched before)
		 * is done: its results are what the page shows */
		const sky_rules_el *e = &p->els[i];
		const sky_rules_fact *f = &g->facts[el_fact[i]];
		if (e->concept == SKY_RULES_C_SEARCH &&
		    (value_is(e, f->value) ||
		     sky_rules__history_typed(history, f->value))) {
			el_fact[i] = -1;
			continue;
		}
		if (e->form >= 0 && e->form < 64)
			forms[e->form]++;
		else
			none++;
	}
	for (size_t k = 0; k < ng; k++)
		if (gs[k].fact >= 0) {
			if (gs[k].form >= 0 && gs[k].form < 64)
				forms[gs[k].form]++;
			else
				none++;
		}
	/* switches the goal turns on or off point at their form too */
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		if (e->kind != SKY_RULES_K_CHECKBOX || e->disabled ||
		    e->form < 0 || e->form >= 64 || checkbox_wish(g, e) < 0)
			continue;
		forms[e->form]++;
	}
	if (none) {
		best = -1;
		bc = none;
	}
	for (int f = 0; f < 64; f++)
		if (forms[f] > bc) {
			bc = forms[f];
			best = f;
		}
	if (best == -2) {
		best = confirm_form(g, p, history);
		out->confirming = best != -2;
	}
	if (best == -2)
		goto done;
	out->form = best;

	int search = 0;
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		if (e->form != best)
			continue;
		if (e->concept == SKY_RULES_C_SEARCH)
			search = 1;
		if (el_fact[i] >= 0) {
			plan_field(p, e, &g->facts[el_fact[i]], history, out);
			continue;
		}
		if (!fillable(e) || e->concept == SKY_RULES_C_OTP ||
		    e->concept == SKY_RULES_C_SEARCH)
			continue;
		if (e->kind == SKY_RULES_K_TEXT &&
		    e->concept == SKY_RULES_C_PASSWORD && !*e->value &&
		    login_form(p, best))
			add_missing(out, field_name(e));
		else if (e->required && e->kind == SKY_RULES_K_SELECT &&
		         placeholder_selected(e))
			add_missing(out, field_name(e));
		else if (e->required && e->kind != SKY_RULES_K_SELECT &&
		         !*e->value)
			add_missing(out, field_name(e));
		else if (e->kind == SKY_RULES_K_TEXT && !*e->value &&
		         goal_speaks_of(g, e))
			add_missing(out, field_name(e));
	}
	for (size_t k = 0; k < ng; k++) {
		if (gs[k].form != best)
			continue;
		if (gs[k].fact >= 0) {
			plan_group(g, &gs[k], out);
			continue;
		}
		int any = 0;
		for (size_t m = 0; m < gs[k].n; m++)
			any |= el_on(gs[k].m[m]);
		if (!any && gs[k].required)
			add_missing(out, gs[k].label);
	}
	plan_checkboxes(g, p, gs, ng, best, out);

	/* a search box is done once typed: submit only new text; a dropdown
	 * being opened needs its option picked first */
	if ((search && !out->n_fill) || out->opening)
		goto done;
	const sky_rules_el *btn = sky_rules__submit_button(p, best, search);
	if (btn) {
		const char *t = *btn->text    ? btn->text
		                : *btn->label ? btn->label
		                              : btn->value;
		char *why =
		    sky_rules__printf("Submit the form with \"%s\".", t);
		json_array_append_new(out->actions, act("click", btn, why));
		out->submit_found = 1;
		free(why);
	} else {
		/* no button: Enter in the last text field submits */
		size_t i = json_array_size(out->actions);
		while (i > 0) {
			json_t *a = json_array_get(out->actions, i - 1);
			if (!strcmp(json_string_value(
			                json_object_get(a, "action_type")),
			            "input_text")) {
				json_object_set_new(a, "press_enter",
				                    json_true());
				out->submit_found = 1;
				break;
			}
			i--;
		}
	}
done:
	free(el_fact);
}

void sky_rules__form_plan_free(sky_rules_form_plan *fp)
{
	if (!fp)
		return;
	json_decref(fp->actions);
	free(fp->missing);
	memset(fp, 0, sizeof *fp);
}
