/*
 * Internal to the llm-rules plugin: the offline planner that answers the
 * engine's model requests from their structured context (internals §5)
 * with hand-written rules instead of a model.
 */
#ifndef SKY_RULES_H
#define SKY_RULES_H

#include <jansson.h>
#include <stddef.h>

/* ---- text.c: words, synonyms, values ----------------------------------- */

/* What a label or a fact's key is about, so "E-mail" meets "email" and
 * "Surname" meets "last name". */
enum sky_rules_concept {
	SKY_RULES_C_NONE = 0,
	SKY_RULES_C_EMAIL,
	SKY_RULES_C_PHONE,
	SKY_RULES_C_FIRST_NAME,
	SKY_RULES_C_LAST_NAME,
	SKY_RULES_C_MIDDLE_NAME,
	SKY_RULES_C_FULL_NAME,
	SKY_RULES_C_ZIP,
	SKY_RULES_C_ADDRESS,
	SKY_RULES_C_CITY,
	SKY_RULES_C_STATE,
	SKY_RULES_C_COUNTRY,
	SKY_RULES_C_COMPANY,
	SKY_RULES_C_USERNAME,
	SKY_RULES_C_PASSWORD,
	SKY_RULES_C_MESSAGE,
	SKY_RULES_C_SEARCH,
	SKY_RULES_C_DOB,
	SKY_RULES_C_WEBSITE,
	SKY_RULES_C_FILE,
	SKY_RULES_C_OTP,
};

/* A growable string (the plugin does not link the library's skyx_buf). */
typedef struct sky_rules_buf {
	char *data;
	size_t len, cap;
} sky_rules_buf;

void sky_rules__buf_add(sky_rules_buf *b, const char *s, size_t n);
void sky_rules__buf_puts(sky_rules_buf *b, const char *s);
void sky_rules__buf_printf(sky_rules_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The string (never NULL; "" when empty), owned by the caller. */
char *sky_rules__buf_take(sky_rules_buf *b);

char *sky_rules__strdup(const char *s);
char *sky_rules__strndup(const char *s, size_t n);
char *sky_rules__printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Copy without surrounding spaces and trailing sentence punctuation. */
char *sky_rules__clean_value(const char *s, size_t n);
/* Collapse whitespace runs to one space and trim; malloc'd. */
char *sky_rules__squash(const char *s);

/*
 * Normalised content words of a label, key or sentence: lower case,
 * accents folded, camelCase and snake_case split, "e-mail" -> "email",
 * "#"/"no." -> "number", stop words dropped, plurals stemmed. The result
 * is the words joined by single spaces ("" when none); malloc'd.
 */
char *sky_rules__words(const char *text);
/* Lower-cased, accent-folded text with runs of non-word characters turned
 * into one space; for substring tests. malloc'd. */
char *sky_rules__plain(const char *text);
/* 0..1: how alike two labels are, by their content words (order and
 * case do not matter; prefixes of 4+ letters count partly). */
double sky_rules__similarity(const char *a, const char *b);
/* Like similarity(), but a key whose every word is in the label scores
 * well ("serial" ~ "Serial number (on the back)"). */
double sky_rules__key_similarity(const char *key, const char *label);
/* 1 if `phrase` occurs in `text` on word boundaries, ignoring case and
 * punctuation. */
int sky_rules__has_phrase(const char *text, const char *phrase);
/* The first of a NULL-terminated list of phrases found in text, or NULL. */
const char *sky_rules__find_any(const char *text, const char *const *phrases);

/* The concept of a label or key ("Given name" -> FIRST_NAME). */
int sky_rules__concept(const char *text);
/* Concept from an autocomplete token ("family-name"), or NONE. */
int sky_rules__concept_autocomplete(const char *ac);
const char *sky_rules__concept_name(int c);

int sky_rules__is_email(const char *s);
int sky_rules__is_phone(const char *s);
/* A local path or URL of a file ("/tmp/cv.pdf", "file:///...", "cv.pdf",
 * "https://x/y.pdf"). */
int sky_rules__is_file_ref(const char *s);
/* Parse "$1,234.50", "1.234,50 EUR", "1.25 kg", "(45)" -> *out; 0 or -1. */
int sky_rules__parse_number(const char *s, double *out);
/* Parse a date in a common format into "YYYY-MM-DD"; 0 or -1. */
int sky_rules__parse_date(const char *s, char out[11]);
/* The ISO 3166 alpha-2 code of a country named by its name, code or
 * demonym ("Canada", "CA", "Canadian" -> "CA"), or NULL. */
const char *sky_rules__country_code(const char *text);
/* A clock time alone ("19:30", "7:30 pm", "7 pm") as minutes after
 * midnight, or -1. */
int sky_rules__parse_time(const char *s);
/* yes/no words: 1, 0, or -1 when the text is neither. */
int sky_rules__parse_bool(const char *s);

/* ---- facts.c: what the goal and the payload say ------------------------ */

typedef struct sky_rules_fact {
	char *key;   /* as written ("e-mail address") */
	char *value; /* the value to type or choose */
	int concept;
	int derived; /* made by splitting/joining another fact */
} sky_rules_fact;

enum sky_rules_intent_kind {
	SKY_RULES_I_SUBMIT = 1, /* apply, sign up, send, order, update ... */
	SKY_RULES_I_LOGIN,
	SKY_RULES_I_SEARCH,
	SKY_RULES_I_CLICK,
	SKY_RULES_I_OPEN,
	SKY_RULES_I_DOWNLOAD,
	SKY_RULES_I_EXTRACT,
	SKY_RULES_I_UPLOAD,
};

typedef struct sky_rules_intent {
	int kind;
	char *verb;   /* as matched ("sign up") */
	char *target; /* what to click/open/download, or NULL */
	int ordinal;  /* "the first result" -> 1; 0 when none */
	char *clause; /* the sentence it came from */
} sky_rules_intent;

typedef struct sky_rules_goal {
	char *text;
	sky_rules_fact *facts;
	size_t nfacts;
	sky_rules_intent *intents;
	size_t nintents;
	char *query; /* what to search for, or NULL */
	char *url;   /* a URL named in the goal, or NULL */
} sky_rules_goal;

/* Read facts and intents from the goal text and navigation_payload (an
 * object, a JSON string, or free text; may be NULL). */
void sky_rules__goal_parse(const char *goal, const json_t *payload,
                           sky_rules_goal *out);
void sky_rules__goal_free(sky_rules_goal *g);
/* Add a fact (copies); returns its index. */
size_t sky_rules__goal_add_fact(sky_rules_goal *g, const char *key,
                                const char *value, int derived);
/* The last intent that is an action (not EXTRACT), or NULL. */
const sky_rules_intent *sky_rules__goal_final(const sky_rules_goal *g);
int sky_rules__goal_has(const sky_rules_goal *g, int kind);
/* 1 if the goal asks to send something (apply, submit, sign up, ...). */
int sky_rules__goal_submits(const sky_rules_goal *g);

/* ---- page.c: the snapshot, read for planning ---------------------------- */

enum sky_rules_kind {
	SKY_RULES_K_OTHER = 0,
	SKY_RULES_K_TEXT,
	SKY_RULES_K_SELECT,
	SKY_RULES_K_CHECKBOX,
	SKY_RULES_K_RADIO,
	SKY_RULES_K_FILE,
	SKY_RULES_K_BUTTON,
	SKY_RULES_K_LINK,
	SKY_RULES_K_DROPDOWN, /* a button that opens a listbox of options */
	SKY_RULES_K_OPTION,   /* an option of an open listbox */
};

typedef struct sky_rules_el {
	const json_t *j; /* the element object (borrowed) */
	const char *id;
	int kind;
	const char *tag, *type, *role;
	const char *name, *placeholder, *aria, *autocomplete, *href;
	const char *value; /* current value, "" when none */
	char *label;       /* accessible name, else nearby text; never NULL */
	char *nearby;      /* text before it in the tree; never NULL */
	char *after;       /* text right after it (floating labels), or "" */
	char *group;       /* radio group / fieldset legend; never NULL */
	char *text;        /* own and descendant text (buttons, links) */
	char *context;     /* text around a banner-like button, or "" */
	int checked, required, disabled, readonly, download;
	int form;    /* index of the enclosing <form>, -1 for none */
	int concept; /* from type, autocomplete, then the label */
	int order;   /* document order */
} sky_rules_el;

typedef struct sky_rules_page {
	const json_t *snapshot; /* borrowed, may be NULL */
	sky_rules_el *els;
	size_t nels;
	const char *url, *title;
	char *text; /* visible text (never NULL) */
	const char
	    *lines;     /* the same with its line breaks (borrowed), or NULL */
	char *headings; /* h1-h3 texts joined by " | " (never NULL) */
	char *alerts;   /* role=alert/status texts joined (never NULL) */
} sky_rules_page;

/* Build from a request context (snapshot, else flat elements). */
void sky_rules__page_build(const json_t *ctx, sky_rules_page *out);
void sky_rules__page_free(sky_rules_page *p);
const sky_rules_el *sky_rules__page_find(const sky_rules_page *p,
                                         const char *id);
/* Deep text of a snapshot node; malloc'd. */
char *sky_rules__node_text(const json_t *node);
/* Why the page looks like a captcha wall, or NULL; malloc'd. */
char *sky_rules__page_captcha(const sky_rules_page *p);
/* The sentence that confirms success ("Thank you ... received"), or NULL;
 * malloc'd. */
char *sky_rules__page_confirmation(const sky_rules_page *p);
/* A notice that explains why the goal cannot be met here ("no longer
 * accepting applications", an error), or NULL; malloc'd. */
char *sky_rules__page_notice(const sky_rules_page *p);
/* How well the page itself is `target` (title, headings, URL): 0..1. */
double sky_rules__page_is(const sky_rules_page *p, const char *target);
/* The element best named `target` among clickables, with its score. */
const sky_rules_el *sky_rules__page_clickable(const sky_rules_page *p,
                                              const char *target,
                                              double *score);

/* ---- fill.c: facts into fields ----------------------------------------- */

typedef struct sky_rules_form_plan {
	json_t *actions;  /* field actions, then the submit click */
	size_t n_fill;    /* field actions (excluding the submit) */
	size_t n_matched; /* fields that match a fact, filled or not */
	int opening;      /* a dropdown is being opened: submit later */
	char *missing;    /* label of a required field without a fact */
	int submit_found;
	int confirming; /* a last "Submit"/"I confirm" step of a flow */
	int form;       /* the form acted on, -1 none */
} sky_rules_form_plan;

/* Plan the fields of the page's best-matching form. */
void sky_rules__plan_form(sky_rules_goal *g, const sky_rules_page *p,
                          const json_t *history, sky_rules_form_plan *out);
void sky_rules__form_plan_free(sky_rules_form_plan *fp);
/* The submit control of `form` (-1: any), or NULL. */
const sky_rules_el *sky_rules__submit_button(const sky_rules_page *p, int form,
                                             int search);
/* The button that dismisses a cookie banner, or NULL. */
const sky_rules_el *sky_rules__cookie_button(const sky_rules_page *p);
/* An OTP field on the page, or NULL. */
const sky_rules_el *sky_rules__otp_field(const sky_rules_page *p);

/* ---- history.c: what earlier steps did ---------------------------------- */

/* 1 if an earlier step typed `text` successfully. */
int sky_rules__history_typed(const json_t *history, const char *text);
/* 1 if an earlier step clicked something named `target` successfully:
 * by its reasoning (which names the target in quotes) or, when the
 * element is still on the page, by its label. */
int sky_rules__history_clicked(const json_t *history, const sky_rules_page *p,
                               const char *target);
/* 1 if an earlier step submitted something (a click or Enter that
 * succeeded after typing, or a click on a submit-like control). */
int sky_rules__history_submitted(const json_t *history);
/* Compact signature of an action list for loop detection (type, what it
 * was about by its reasoning, values), independent of element ids. */
char *sky_rules__actions_signature(const json_t *actions);
/* The signature of the last step's actions, or NULL. */
char *sky_rules__history_last_signature(const json_t *history);
/* The last failed action's message in the last step, or NULL (borrowed). */
const char *sky_rules__history_last_error(const json_t *history);
size_t sky_rules__history_steps(const json_t *history);

/* ---- act.c: extract-actions and check-goal ------------------------------ */

char *sky_rules__answer_actions(const json_t *ctx);
char *sky_rules__answer_check(const json_t *ctx);

/* ---- extract.c: extract-data ------------------------------------------- */

char *sky_rules__answer_extract(const json_t *ctx);
/* The value the schema asks for, read off the page; new reference. */
json_t *sky_rules__extract(const sky_rules_page *p, const json_t *schema,
                           const char *goal);

/* ---- v2.c: plan, summarize, surface-error-codes ------------------------- */

char *sky_rules__answer_plan(const json_t *ctx);
char *sky_rules__answer_summary(const json_t *ctx);
char *sky_rules__answer_errors(const json_t *ctx);

/* code.c: parse-verification-code, for messages the engine's own pattern
 * rules found nothing in: the one stand-alone number of 4 to 8 digits,
 * else no code (never a guess between several). */
char *sky_rules__answer_code(const json_t *ctx);
/* Codes of `mapping` ({code: description}) that `text` speaks of, as
 * [{"error_code", "reasoning", "confidence_float"}]; new reference. */
json_t *sky_rules__match_errors(const json_t *mapping, const char *text);

/* ---- shared --------------------------------------------------------- */

/* Compact JSON text of v (steals nothing); malloc'd. */
char *sky_rules__dump(const json_t *v);

#endif
