/* llm-rules: the page as the rules see it: interactable elements with
 * their labels, nearby text and form, plus the page's text, headings,
 * notices, confirmations and captcha walls. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules.h"

/* Deeper nesting than this is not read (a page would have to nest its
 * kept elements absurdly deep). */
#define SKY_RULES_MAX_DEPTH 256

/* A string member of an element, or of its "attrs" object. */
static const char *el_str(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	if (!s)
		s = json_string_value(
		    json_object_get(json_object_get(j, "attrs"), key));
	return s;
}

static int el_bool(const json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);
	if (!v)
		v = json_object_get(json_object_get(j, "attrs"), key);
	if (json_is_string(v))
		return strcasecmp(json_string_value(v), "false") != 0;
	return json_is_true(v);
}

char *sky_rules__node_text(const json_t *node)
{
	sky_rules_buf b = {0};
	/* the snapshot gives text between elements as plain strings */
	if (json_is_string(node))
		return sky_rules__squash(json_string_value(node));
	const char *t = json_string_value(json_object_get(node, "text"));
	size_t i;
	json_t *c;
	if (t && *t)
		sky_rules__buf_puts(&b, t);
	json_array_foreach (json_object_get(node, "children"), i, c) {
		char *ct = sky_rules__node_text(c);
		if (*ct) {
			if (b.len)
				sky_rules__buf_add(&b, " ", 1);
			sky_rules__buf_puts(&b, ct);
		}
		free(ct);
	}
	char *raw = sky_rules__buf_take(&b);
	char *s = sky_rules__squash(raw);
	free(raw);
	return s;
}

static int kind_of(const json_t *j, const char *tag, const char *type,
                   const char *role)
{
	const char *popup = el_str(j, "aria-haspopup");
	tag = tag ? tag : "";
	type = type ? type : "";
	role = role ? role : "";
	if (!strcmp(role, "option"))
		return SKY_RULES_K_OPTION;
	if (strcmp(tag, "input") && strcmp(tag, "select") &&
	    strcmp(tag, "textarea") &&
	    ((popup && (!strcmp(popup, "listbox") || !strcmp(popup, "true"))) ||
	     (!strcmp(role, "combobox") &&
	      !json_array_size(json_object_get(j, "options")))))
		return SKY_RULES_K_DROPDOWN;
	if (!strcmp(tag, "select") ||
	    (json_array_size(json_object_get(j, "options")) &&
	     (!strcmp(role, "listbox") || !strcmp(role, "combobox"))))
		return SKY_RULES_K_SELECT;
	if (!strcmp(tag, "input")) {
		if (!strcasecmp(type, "checkbox"))
			return SKY_RULES_K_CHECKBOX;
		if (!strcasecmp(type, "radio"))
			return SKY_RULES_K_RADIO;
		if (!strcasecmp(type, "file"))
			return SKY_RULES_K_FILE;
		if (!strcasecmp(type, "submit") ||
		    !strcasecmp(type, "button") || !strcasecmp(type, "reset") ||
		    !strcasecmp(type, "image"))
			return SKY_RULES_K_BUTTON;
		if (!strcasecmp(type, "hidden"))
			return SKY_RULES_K_OTHER;
		return SKY_RULES_K_TEXT;
	}
	if (!strcmp(tag, "textarea") || !strcmp(role, "textbox") ||
	    !strcmp(role, "searchbox") || !strcmp(role, "combobox"))
		return SKY_RULES_K_TEXT;
	if (!strcmp(role, "checkbox") || !strcmp(role, "switch"))
		return SKY_RULES_K_CHECKBOX;
	if (!strcmp(role, "radio"))
		return SKY_RULES_K_RADIO;
	if (!strcmp(tag, "button") || !strcmp(role, "button"))
		return SKY_RULES_K_BUTTON;
	if (!strcmp(tag, "a") || !strcmp(role, "link") ||
	    !strcmp(role, "menuitem") || !strcmp(role, "tab"))
		return SKY_RULES_K_LINK;
	/* a styled switch: the input is hidden and its label stands in,
	 * carrying the state */
	if (!strcmp(tag, "label") &&
	    json_is_boolean(json_object_get(j, "checked")))
		return SKY_RULES_K_CHECKBOX;
	if (!strcmp(tag, "label") || !strcmp(tag, "option"))
		return SKY_RULES_K_OTHER;
	return SKY_RULES_K_BUTTON; /* something clickable */
}

static int concept_of_type(const char *type)
{
	if (!type)
		return SKY_RULES_C_NONE;
	if (!strcasecmp(type, "email"))
		return SKY_RULES_C_EMAIL;
	if (!strcasecmp(type, "tel"))
		return SKY_RULES_C_PHONE;
	if (!strcasecmp(type, "password"))
		return SKY_RULES_C_PASSWORD;
	if (!strcasecmp(type, "search"))
		return SKY_RULES_C_SEARCH;
	if (!strcasecmp(type, "url"))
		return SKY_RULES_C_WEBSITE;
	if (!strcasecmp(type, "file"))
		return SKY_RULES_C_FILE;
	return SKY_RULES_C_NONE;
}

static int blank(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* ---- the tree walk -------------------------------------------------------- */

typedef struct walker {
	sky_rules_page *p;
	int forms;
	sky_rules_buf head, alert, text;
	const char *before;  /* the text of the sibling before the node */
	const char *before2; /* and of the one before that */
} walker;

static int has_id(const json_t *n)
{
	return json_string_value(json_object_get(n, "id")) != NULL;
}

/* Short text of a non-interactable node (or a text run) usable as a
 * label. */
static char *label_text(const json_t *n)
{
	if (!n || has_id(n))
		return NULL;
	if (!json_is_object(n) && !json_is_string(n))
		return NULL;
	char *t = sky_rules__node_text(n);
	if (!*t || strlen(t) > 80) {
		free(t);
		return NULL;
	}
	return t;
}

static int rect_of(const json_t *n, double r[4])
{
	json_t *rc = json_object_get(n, "rect");
	if (!json_is_object(rc))
		return 0;
	r[0] = json_number_value(json_object_get(rc, "x"));
	r[1] = json_number_value(json_object_get(rc, "y"));
	r[2] = json_number_value(json_object_get(rc, "w"));
	r[3] = json_number_value(json_object_get(rc, "h"));
	return r[2] > 0 && r[3] > 0;
}

static int overlaps(const double a[4], const double b[4])
{
	return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] &&
	       b[1] < a[1] + a[3];
}

/*
 * Text beside an element: a sibling drawn over it (a floating label), the
 * closest previous sibling with short text, then the same one or two
 * levels up (table-cell layouts).
 */
static char *nearby_text(const json_t *const *path, size_t depth,
                         const json_t *node)
{
	double me[4];
	int have_rect = rect_of(node, me);
	const json_t *cur = node;
	for (size_t up = 0; up < 3 && depth > 0; up++, depth--) {
		const json_t *parent = path[depth - 1];
		json_t *kids = json_object_get(parent, "children");
		size_t n = json_array_size(kids), at = n;
		for (size_t i = 0; i < n; i++)
			if (json_array_get(kids, i) == cur)
				at = i;
		if (at == n)
			break;
		if (up == 0 && have_rect) {
			for (size_t i = 0; i < n; i++) {
				double r[4];
				json_t *s = json_array_get(kids, i);
				char *t;
				if (i == at || !rect_of(s, r) ||
				    !overlaps(me, r))
					continue;
				if ((t = label_text(s)))
					return t;
			}
		}
		for (size_t i = at; i > 0; i--) {
			json_t *s = json_array_get(kids, i - 1);
			char *t;
			if (has_id(s))
				break; /* another control owns what comes before */
			if ((t = label_text(s)))
				return t;
		}
		const char *own =
		    json_string_value(json_object_get(parent, "text"));
		if (own && !blank(own) && strlen(own) <= 80 && !has_id(parent))
			return sky_rules__squash(own);
		cur = parent;
	}
	return NULL;
}

/* The text right after an element among its siblings: where floating
 * labels without `for` sit. Weaker than text before it, which is where
 * labels usually are (and the text may be the next field's label). */
static char *after_text(const json_t *const *path, size_t depth,
                        const json_t *node)
{
	if (!depth)
		return NULL;
	json_t *kids = json_object_get(path[depth - 1], "children");
	size_t n = json_array_size(kids), at = n;
	for (size_t i = 0; i < n; i++)
		if (json_array_get(kids, i) == node)
			at = i;
	for (size_t i = at + 1; i < n; i++) {
		json_t *s = json_array_get(kids, i);
		char *t;
		if (has_id(s))
			break;
		if ((t = label_text(s)))
			return t;
	}
	return NULL;
}

static void add_el(walker *w, const json_t *n, const json_t *const *path,
                   size_t depth, int form, const char *group)
{
	sky_rules_page *p = w->p;
	p->els = realloc(p->els, (p->nels + 1) * sizeof *p->els);
	if (!p->els)
		abort();
	sky_rules_el *e = &p->els[p->nels];
	memset(e, 0, sizeof *e);
	e->j = n;
	e->id = json_string_value(json_object_get(n, "id"));
	e->tag = el_str(n, "tag");
	e->type = el_str(n, "type");
	e->role = el_str(n, "role");
	e->name = el_str(n, "name");
	e->placeholder = el_str(n, "placeholder");
	if (blank(e->placeholder))
		e->placeholder = NULL;
	e->aria = el_str(n, "aria-label");
	e->autocomplete = el_str(n, "autocomplete");
	e->href = el_str(n, "href");
	e->value = el_str(n, "value");
	if (!e->value)
		e->value = "";
	e->kind = kind_of(n, e->tag, e->type, e->role);
	e->checked = el_bool(n, "checked");
	e->required = el_bool(n, "required") || el_bool(n, "aria-required");
	e->disabled = el_bool(n, "disabled") || el_bool(n, "aria-disabled");
	e->readonly = el_bool(n, "readonly");
	e->download =
	    json_object_get(json_object_get(n, "attrs"), "download") != NULL;
	e->form = form;
	e->order = (int)p->nels;
	char *near = path ? nearby_text(path, depth, n) : NULL;
	e->nearby = near ? near : sky_rules__strdup("");
	near = path ? after_text(path, depth, n) : NULL;
	e->after = near ? near : sky_rules__strdup("");
	const char *lab = el_str(n, "label");
	if (blank(lab) && e->kind == SKY_RULES_K_CHECKBOX && e->tag &&
	    !strcmp(e->tag, "label") && w->before) {
		/* a switch's title and its description, written before it */
		char *t = sky_rules__printf(
		    "%s %s", w->before2 ? w->before2 : "", w->before);
		e->label = sky_rules__squash(t);
		free(t);
	} else {
		e->label = sky_rules__squash(!blank(lab) ? lab : e->nearby);
	}
	const char *grp = el_str(n, "group");
	e->group = sky_rules__squash(grp ? grp : group ? group : "");
	e->text = path ? sky_rules__node_text(n)
	               : sky_rules__squash(el_str(n, "text"));
	e->context = sky_rules__strdup("");
	/* a button that may dismiss a banner: keep the banner's words */
	static const char *const DISMISS[] = {
	    "accept", "agree",    "allow",     "ok",        "got it",
	    "reject", "decline",  "necessary", "essential", "dismiss",
	    "close",  "continue", NULL,
	};
	if (path &&
	    (e->kind == SKY_RULES_K_BUTTON || e->kind == SKY_RULES_K_LINK) &&
	    sky_rules__find_any(e->text, DISMISS)) {
		for (size_t up = 1; up <= 3 && up <= depth; up++) {
			char *t = sky_rules__node_text(path[depth - up]);
			if (strlen(t) > strlen(e->text) && strlen(t) < 1200) {
				free(e->context);
				e->context = t;
				break;
			}
			free(t);
		}
	}
	if (!*e->text && e->kind == SKY_RULES_K_BUTTON &&
	    !strcmp(e->tag ? e->tag : "", "input"))
		e->text = (free(e->text), sky_rules__squash(e->value));
	e->concept = concept_of_type(e->type);
	if (!e->concept)
	e->concept = sky_rules__concept_autocomplete(e->autocomplete);
	const char *srcs[] = {e->label, e->aria, e->placeholder, e->nearby,
	                      e->name};
	for (size_t i = 0; i < 5 && !e->concept; i++)
		if (srcs[i] && *srcs[i])
	e->concept = sky_rules__concept(srcs[i]);
	/* "* " after a label marks it required as often as the attribute */
	size_t ll = strlen(e->label);
	if (ll && e->label[ll - 1] == '*')
		e->required = 1;
	p->nels++;
}

static void walk(walker *w, const json_t *n, const json_t **path, size_t depth,
                 int form, const char *group)
{
	const char *tag = json_string_value(json_object_get(n, "tag"));
	const char *role = el_str(n, "role");
	char *legend = NULL;
	size_t i;
	json_t *c;
	if (!json_is_object(n) || depth >= SKY_RULES_MAX_DEPTH - 1)
		return;
	tag = tag ? tag : "";
	if (!strcmp(tag, "form"))
		form = w->forms++;
	if (has_id(n) && json_object_get(n, "interactable") != json_false())
		add_el(w, n, path, depth, form, group);
	if (tag[0] == 'h' && tag[1] >= '1' && tag[1] <= '3' && !tag[2]) {
		char *t = sky_rules__node_text(n);
		sky_rules__buf_printf(&w->head, "%s%s",
		                      w->head.len ? " | " : "", t);
		free(t);
	}
	if (role && (!strcmp(role, "alert") || !strcmp(role, "status"))) {
		char *t = sky_rules__node_text(n);
		sky_rules__buf_printf(&w->alert, "%s%s",
		                      w->alert.len ? " | " : "", t);
		free(t);
	}
	const char *own = json_string_value(json_object_get(n, "text"));
	if (own && *own)
		sky_rules__buf_printf(&w->text, "%s%s", w->text.len ? " " : "",
		                      own);
	/* a fieldset's legend or a radiogroup's name labels its controls */
	if (!strcmp(tag, "fieldset")) {
		json_array_foreach (json_object_get(n, "children"), i, c) {
			const char *ct =
			    json_string_value(json_object_get(c, "tag"));
			if (ct && !strcmp(ct, "legend")) {
				legend = sky_rules__node_text(c);
				break;
			}
		}
	} else if (role &&
	           (!strcmp(role, "radiogroup") || !strcmp(role, "group"))) {
		const char *l = el_str(n, "label");
		if (l && *l)
			legend = sky_rules__strdup(l);
		/* an unlabelled group of toggles answers the question
		 * written just before it */
		else if (w->before && *w->before && strlen(w->before) < 200)
			legend = sky_rules__strdup(w->before);
	}
	path[depth] = n;
	char *prev = NULL, *prev2 = NULL;
	json_array_foreach (json_object_get(n, "children"), i, c) {
		w->before = prev;
		w->before2 = prev2;
		walk(w, c, path, depth + 1, form, legend ? legend : group);
		char *t = json_is_string(c)
		              ? sky_rules__squash(json_string_value(c))
		              : sky_rules__node_text(c);
		/* line breaks between them are not the text before */
		if (*t) {
			free(prev2);
			prev2 = prev;
			prev = t;
		} else {
			free(t);
		}
	}
	free(prev);
	free(prev2);
	w->before = NULL;
	w->before2 = NULL;
	free(legend);
}

void sky_rules__page_build(const json_t *ctx, sky_rules_page *out)
{
	walker w = {0};
	const json_t *snap = json_object_get(ctx, "snapshot");
	memset(out, 0, sizeof *out);
	w.p = out;
	out->snapshot = json_is_object(snap) ? snap : NULL;
	out->url = json_string_value(json_object_get(ctx, "url"));
	out->title = json_string_value(json_object_get(ctx, "title"));
	if (out->snapshot) {
		const json_t *path[SKY_RULES_MAX_DEPTH];
		size_t i;
		json_t *c;
		if (!out->url)
			out->url =
			    json_string_value(json_object_get(snap, "url"));
		if (!out->title)
			out->title =
			    json_string_value(json_object_get(snap, "title"));
		/* the top-level array is a list of roots under a virtual one */
		json_t *root = json_pack("{s:O}", "children",
		                         json_object_get(snap, "elements"));
		path[0] = root;
		json_array_foreach (json_object_get(snap, "elements"), i, c)
			walk(&w, c, path, 1, -1, NULL);
		json_decref(root);
	} else {
		size_t i;
		json_t *e;
		json_array_foreach (json_object_get(ctx, "elements"), i, e) {
			if (json_string_value(json_object_get(e, "id")))
				add_el(&w, e, NULL, 0, -1, NULL);
		}
	}
	/* a label stands in for its switch only when the switch itself is
	 * not on the page (hidden); a label around or for a visible box is
	 * just its label */
	for (size_t k = 0; k < out->nels; k++) {
		sky_rules_el *e = &out->els[k];
		if (e->kind != SKY_RULES_K_CHECKBOX || !e->tag ||
		    strcmp(e->tag, "label"))
			continue;
		const char *fr = json_string_value(
		    json_object_get(json_object_get(e->j, "attrs"), "for"));
		int shown = fr && sky_rules__page_find(out, fr) != NULL;
		/* a switch's slider has no text of its own; a label with a
		 * text or a name ("M", "Olive") stands for a choice whose kind
		 * is not known */
		shown |= (e->text && *e->text) || (e->aria && *e->aria) ||
		         !blank(el_str(e->j, "label"));
		size_t ci;
		json_t *ch;
		json_array_foreach (json_object_get(e->j, "children"), ci, ch) {
			const char *ct =
			    json_string_value(json_object_get(ch, "tag"));
			shown |= ct && (!strcmp(ct, "input") ||
			                !strcmp(ct, "select"));
		}
		if (shown)
			e->kind = SKY_RULES_K_OTHER;
	}
	const char *text =
	    out->snapshot
	        ? json_string_value(json_object_get(out->snapshot, "text"))
	        : NULL;
	if (!text)
		text = json_string_value(json_object_get(ctx, "page_text"));
	if (text && *text) {
		out->text = sky_rules__squash(text);
		out->lines = text;
	} else {
		char *t = sky_rules__buf_take(&w.text);
		out->text = sky_rules__squash(t);
		free(t);
	}
	free(w.text.data);
	/* dialogs the page raised count as notices */
	size_t i;
	json_t *d;
	json_array_foreach (json_object_get(ctx, "dialogs"), i, d) {
		const char *m =
		    json_string_value(json_object_get(d, "message"));
		if (m)
			sky_rules__buf_printf(&w.alert, "%s%s",
			                      w.alert.len ? " | " : "", m);
	}
	out->headings = sky_rules__buf_take(&w.head);
	out->alerts = sky_rules__buf_take(&w.alert);
}

void sky_rules__page_free(sky_rules_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nels; i++) {
		free(p->els[i].label);
		free(p->els[i].nearby);
		free(p->els[i].after);
		free(p->els[i].group);
		free(p->els[i].text);
		free(p->els[i].context);
	}
	free(p->els);
	free(p->text);
	free(p->headings);
	free(p->alerts);
	memset(p, 0, sizeof *p);
}

const sky_rules_el *sky_rules__page_find(const sky_rules_page *p,
                                         const char *id)
{
	for (size_t i = 0; id && i < p->nels; i++)
		if (!strcmp(p->els[i].id, id))
			return &p->els[i];
	return NULL;
}

/* ---- what the page says -------------------------------------------------- */

/* The sentence of `text` around the first phrase found; malloc'd. */
static char *sentence_with(const char *text, const char *phrase)
{
	const char *hit = strcasestr(text, phrase);
	if (!hit)
		return NULL;
	const char *a = hit, *b = hit;
	while (a > text && !strchr(".!?|", a[-1]))
		a--;
	while (*b && !strchr(".!?|", *b))
		b++;
	if (*b && *b != '|')
		b++;
	while (*a == ' ')
		a++;
	size_t n = (size_t)(b - a);
	if (n > 240)
		n = 240;
	char *s = sky_rules__strndup(a, n);
	char *q = sky_rules__squash(s);
	free(s);
	return q;
}

static const char *const CAPTCHA[] = {
    "captcha",
    "recaptcha",
    "hcaptcha",
    "i'm not a robot",
    "i am not a robot",
    "im not a robot",
    "not a robot",
    "verify you are human",
    "prove you are human",
    "are you a robot",
    "are you human",
    "human verification",
    "cloudflare",
    "turnstile",
    NULL,
};

char *sky_rules__page_captcha(const sky_rules_page *p)
{
	const char *hit = NULL;
	for (size_t i = 0; CAPTCHA[i] && !hit; i++)
		if (strcasestr(p->text, CAPTCHA[i]))
			hit = CAPTCHA[i];
	for (size_t k = 0; k < p->nels && !hit; k++) {
		const sky_rules_el *e = &p->els[k];
		const char *srcs[] = {e->label, e->text, e->aria, e->name};
		for (size_t s = 0; s < 4 && !hit; s++)
			for (size_t i = 0; srcs[s] && CAPTCHA[i] && !hit; i++)
				if (strcasestr(srcs[s], CAPTCHA[i]))
					hit = CAPTCHA[i];
	}
	if (!hit)
		return NULL;
	char *s = sentence_with(p->text, hit);
	return s ? s : sky_rules__strdup(hit);
}

static const char *const CONFIRM[] = {
    "thank you",
    "thanks for",
    "thanks!",
    "thanks,",
    "has been received",
    "have been received",
    "was received",
    "we received",
    "we have received",
    "we've received",
    "has been submitted",
    "was submitted",
    "been submitted",
    "submitted successfully",
    "successfully",
    "success!",
    "you're all set",
    "you are all set",
    "you're registered",
    "you are registered",
    "is registered",
    "you're subscribed",
    "you are subscribed",
    "now subscribed",
    "registration complete",
    "account created",
    "has been created",
    "been placed",
    "order confirmed",
    "booking confirmed",
    "message sent",
    "has been sent",
    "have been saved",
    "has been saved",
    "changes saved",
    "booking requested",
    "request received",
    "is ready",
    "welcome aboard",
    "was posted",
    "has been posted",
    "confirmation number",
    "confirmed",
    "application received",
    "check your inbox",
    "check your email",
    "we've sent",
    "we have sent",
    "you're on the list",
    "you are on the list",
    "request has been",
    "added to your basket",
    "added to your cart",
    "added to your bag",
    "added to cart",
    "added to basket",
    "is booked",
    "been booked",
    "you're booked",
    "ticket created",
    "created",
    "we've got it",
    "we have got it",
    "report number",
    "reported",
    "emailed you a copy",
    "application sent",
    "request sent",
    "your reference number",
    "your reference is",
    NULL,
};
/* In a heading only: "Welcome to Notewell!" after a sign-up. */
static const char *const CONFIRM_HEADING[] = {
    "welcome", "all done", "done!", "you're in", "you are in", NULL,
};
static const char *const NEGATIVE[] = {
    "unsuccessful", "could not", "couldn't", "failed",  "not been",
    "was not",      "were not",  "error:",   "invalid", "try again",
    "not accepted", "rejected",  NULL,
};

char *sky_rules__page_confirmation(const sky_rules_page *p)
{
	/* a review page before the last submit */
	static const char *const REVIEW[] = {
	    "check your answers",   "review your",
	    "before sending",       "before submitting",
	    "before you send",      "before you submit",
	    "confirm your details", NULL,
	};
	for (size_t i = 0; REVIEW[i]; i++)
		if (strcasestr(p->headings, REVIEW[i]))
			return NULL;
	for (size_t i = 0; NEGATIVE[i]; i++)
		if (strcasestr(p->alerts, NEGATIVE[i]) ||
		    strcasestr(p->headings, NEGATIVE[i]))
			return NULL;
	for (size_t i = 0; CONFIRM_HEADING[i]; i++)
		if (strcasestr(p->headings, CONFIRM_HEADING[i]))
			return sentence_with(p->headings, CONFIRM_HEADING[i]);
	const char *srcs[] = {p->alerts, p->headings, p->text,
	                      p->title ? p->title : ""};
	for (size_t s = 0; s < 4; s++)
		for (size_t i = 0; CONFIRM[i]; i++)
			if (strcasestr(srcs[s], CONFIRM[i])) {
				char *q = sentence_with(srcs[s], CONFIRM[i]);
				int neg = 0;
				for (size_t k = 0; q && NEGATIVE[k] && !neg;
				     k++)
					neg =
					    strcasestr(q, NEGATIVE[k]) != NULL;
				if (!neg)
					return q ? q
					         : sky_rules__strdup(
					               CONFIRM[i]);
				free(q);
			}
	return NULL;
}

static const char *const NOTICE[] = {
    "no longer",       "not accepting",  "closed",        "not available",
    "unavailable",     "sold out",       "out of stock",  "expired",
    "not found",       "page not found", "access denied", "forbidden",
    "has been filled", "sorry",          "cannot",        "can't",
    "unable to",       "error",          "invalid",       "incorrect",
    "wrong",           "failed",         "not allowed",   "not valid",
    "try again",       "does not match", "doesn't match", "not recognised",
    "not recognized",  "denied",         "required",      NULL,
};

char *sky_rules__page_notice(const sky_rules_page *p)
{
	const char *srcs[] = {p->alerts, p->headings, p->text};
	for (size_t s = 0; s < 3; s++)
		for (size_t i = 0; NOTICE[i]; i++)
			if (strcasestr(srcs[s], NOTICE[i]))
				return sentence_with(srcs[s], NOTICE[i]);
	/* an alert says something, whatever its words */
	if (!*p->alerts)
		return NULL;
	return sky_rules__strndup(
	    p->alerts, strlen(p->alerts) > 240 ? 240 : strlen(p->alerts));
}

/* Words of a URL's path ("/billing/invoices.html" -> "billing invoices"). */
static char *url_words(const char *url)
{
	const char *p = url ? strstr(url, "://") : NULL;
	p = p ? strchr(p + 3, '/') : url;
	if (!p)
		return sky_rules__strdup("");
	char *s = sky_rules__strdup(p);
	char *q = strpbrk(s, "?#");
	if (q)
		*q = '\0';
	char *dot = strrchr(s, '.');
	if (dot && !strchr(dot, '/'))
		*dot = '\0';
	char *w = sky_rules__words(s);
	free(s);
	return w;
}

double sky_rules__page_is(const sky_rules_page *p, const char *target)
{
	double best = 0;
	char *uw = url_words(p->url);
	char *h = sky_rules__strdup(p->headings);
	const char *srcs[] = {p->title, uw};
	if (!target || !*target)
		goto out;
	for (size_t i = 0; i < 2; i++) {
		double s = srcs[i] ? sky_rules__similarity(target, srcs[i]) : 0;
		best = s > best ? s : best;
	}
	/* each heading on its own, and the whole title containing it */
	char *save = NULL;
	for (char *t = strtok_r(h, "|", &save); t;
	     t = strtok_r(NULL, "|", &save)) {
		double s = sky_rules__similarity(target, t);
		best = s > best ? s : best;
	}
	if (p->title && sky_rules__has_phrase(p->title, target) && best < 0.8)
		best = 0.8;
out:
	free(uw);
	free(h);
	return best;
}

const sky_rules_el *sky_rules__page_clickable(const sky_rules_page *p,
                                              const char *target, double *score)
{
	const sky_rules_el *best = NULL;
	double bs = 0;
	char *pt = sky_rules__plain(target);
	for (size_t i = 0; i < p->nels; i++) {
		const sky_rules_el *e = &p->els[i];
		if (e->kind != SKY_RULES_K_BUTTON &&
		    e->kind != SKY_RULES_K_LINK &&
		    e->kind != SKY_RULES_K_RADIO &&
		    e->kind != SKY_RULES_K_CHECKBOX)
			continue;
		if (e->disabled)
			continue;
		const char *srcs[] = {e->text, e->label, e->aria,
		                      el_str(e->j, "title"),
		                      el_str(e->j, "alt")};
		double s = 0;
		for (size_t k = 0; k < 5; k++) {
			if (!srcs[k] || !*srcs[k])
				continue;
			char *ps = sky_rules__plain(srcs[k]);
			double v = !strcmp(ps, pt)
			               ? 1.0
			               : sky_rules__similarity(target, srcs[k]);
			free(ps);
			s = v > s ? v : s;
		}
		if (e->href && s < 0.5) {
			char *uw = url_words(e->href);
			double v = 0.8 * sky_rules__similarity(target, uw);
			s = v > s ? v : s;
			free(uw);
		}
		/* form controls only when named exactly */
		if ((e->kind == SKY_RULES_K_RADIO ||
		     e->kind == SKY_RULES_K_CHECKBOX) &&
		    s < 1.0)
			s *= 0.7;
		if (s > bs) {
			bs = s;
			best = e;
		}
	}
	free(pt);
	*score = bs;
	return best;
}
