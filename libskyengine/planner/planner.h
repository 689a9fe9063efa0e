/* Internal: the planner turns (goal, facts, history, page) into prompts and
 * model answers into validated actions. See docs/planner.md. */
#ifndef SKY_PLANNER_PLANNER_H
#define SKY_PLANNER_PLANNER_H

#include <jansson.h>
#include <stddef.h>

/* ---- inputs shared by several purposes ------------------------------- */

/*
 * What the browser shows now. Every field may be NULL unless a purpose says
 * otherwise. JSON values are borrowed (never modified, never stolen).
 */
typedef struct sky_planner_page {
	const char *url;
	const char *title;
	const char *element_tree; /* internals §2 text, rendered by page/ */
	const json_t *snapshot;   /* internals §1 object */
	const char *page_text;    /* visible text, for extract-data */
	const json_t *dialogs;    /* [{"type": "alert", "message": ...}] */
	const json_t *tabs;       /* [{"index","url","title","active"}] */
} sky_planner_page;

/* Step position, shown to the model and copied into context_json. */
typedef struct sky_planner_step {
	int order; /* 0-based */
	int retry_index;
	int max_steps; /* <= 0: unknown */
} sky_planner_step;

/* Default bound of the rendered history, in bytes (~1500 tokens). */
#define SKY_PLANNER_HISTORY_BUDGET 6000

/* ---- rendering -------------------------------------------------------- */

/*
 * A rendered request: the prompt text, the structured inputs it was
 * rendered from (internals §5 context_json) and, when the answer has a
 * fixed shape, a JSON Schema for providers with structured output.
 */
typedef struct sky_planner_prompt {
	const char *purpose; /* SKY_LLM_PURPOSE_*, static */
	char *text;
	char *context_json;
	char *response_schema_json; /* NULL: free-form */
	size_t history_bytes;       /* size of the rendered history block */
} sky_planner_prompt;

void sky_planner_prompt_free(sky_planner_prompt *p);

/* extract-actions: the next actions of a task v1 step. */
typedef struct sky_planner_actions_input {
	const char *goal;                 /* required */
	const json_t *navigation_payload; /* object, array or string */
	const json_t *error_code_mapping; /* {"CODE": "description"} */
	const char *data_extraction_goal;
	const json_t *data_extraction_schema;
	const char *complete_criterion;
	const char *terminate_criterion;
	sky_planner_page page; /* url, element_tree required */
	/* Earlier steps, oldest first, internals §5:
	 * [{"order","retry_index","status"?,"actions":[{"action","result"}]}] */
	const json_t *history;
	size_t history_budget; /* bytes; 0: SKY_PLANNER_HISTORY_BUDGET */
	int totp_available;    /* a TOTP source exists for this run */
	const char *now;       /* ISO-8601; NULL: the current time */
	sky_planner_step step;
	/* The user details hold {{credential.…}} placeholders (the run's
	 * credential): the prompt says how to use them. */
	int credential;
} sky_planner_actions_input;

int sky_planner_render_actions(const sky_planner_actions_input *in,
                               sky_planner_prompt **out);

/* check-goal: is the goal reached (complete / terminate / continue)? */
typedef struct sky_planner_check_input {
	const char *goal; /* required */
	const json_t *navigation_payload;
	const char *complete_criterion;
	const char *terminate_criterion;
	const json_t *error_code_mapping;
	sky_planner_page page; /* url, element_tree required */
	const json_t *history;
	size_t history_budget;
	const char *now;
	/* A code source exists: a verification page is a step on the way,
	 * not a dead end (the offline planner reads it from the context). */
	int totp_available;
} sky_planner_check_input;

int sky_planner_render_check(const sky_planner_check_input *in,
                             sky_planner_prompt **out);

/* extract-data: a JSON value conforming to the schema, read off the page. */
typedef struct sky_planner_extract_input {
	const char *goal;                 /* the navigation goal, context */
	const char *data_extraction_goal; /* required */
	const json_t *data_extraction_schema;
	const json_t *navigation_payload;
	const json_t *error_code_mapping;
	const json_t *previous_output; /* an earlier extraction, or NULL */
	sky_planner_page page;         /* url, element_tree required */
	const char *now;
} sky_planner_extract_input;

int sky_planner_render_extract(const sky_planner_extract_input *in,
                               sky_planner_prompt **out);

/* surface-error-codes: which user-defined error codes apply. */
typedef struct sky_planner_errors_input {
	const char *goal;                 /* required */
	const json_t *error_code_mapping; /* required, non-empty object */
	const char *reasoning;            /* why the run stopped */
	sky_planner_page page;            /* optional here */
	const json_t *history;
	size_t history_budget;
	const char *now;
} sky_planner_errors_input;

int sky_planner_render_errors(const sky_planner_errors_input *in,
                              sky_planner_prompt **out);

/* plan (task v2): the next mini-goal, or done, or terminate. */
typedef struct sky_planner_plan_input {
	const char *goal; /* required */
	const json_t *navigation_payload;
	sky_planner_page page; /* url, element_tree required */
	/* Earlier mini-goals, oldest first:
	 * [{"plan","task_type","status","result"?,"output"?}] */
	const json_t *mini_goals;
	int iteration;
	int max_iterations; /* <= 0: unknown */
	const char *now;
} sky_planner_plan_input;

int sky_planner_render_plan(const sky_planner_plan_input *in,
                            sky_planner_prompt **out);

/* summarize: the final description and output of a v2 run, or a failure
 * summary. */
typedef struct sky_planner_summary_input {
	const char *goal;         /* required */
	const char *final_status; /* required: completed, failed, ... */
	const char *failure_reason;
	const json_t *mini_goals;
	const json_t *outputs; /* extracted data so far */
	const json_t *data_extraction_schema;
	const char *now;
} sky_planner_summary_input;

int sky_planner_render_summary(const sky_planner_summary_input *in,
                               sky_planner_prompt **out);

/* parse-verification-code: the code or sign-in link in a message pushed
 * to POST /v1/credentials/totp (the configured fallback when
 * sky_otp_extract finds nothing). */
typedef struct sky_planner_code_input {
	const char *content; /* required: the message as pushed */
	const char *now;
} sky_planner_code_input;

int sky_planner_render_parse_code(const sky_planner_code_input *in,
                                  sky_planner_prompt **out);

/*
 * The interactable elements of a snapshot (internals §1) as the flat list
 * of internals §5: document order, one object per element with an id,
 * attributes lifted to top-level fields. Returns 0 and a new array.
 */
int sky_planner_flatten(const json_t *snapshot, json_t **elements);

/*
 * The history block as it appears in the prompt, bounded by `budget`
 * bytes: the most recent steps verbatim, older steps one line each, the
 * oldest merged into one summary line (docs/planner.md). malloc'd.
 */
int sky_planner_history_text(const json_t *history, size_t budget, char **out);

/* ---- parsing --------------------------------------------------------- */

/* What the lenient reader had to fix (bits of *_result.repairs). */
enum {
	SKY_PLANNER_REPAIR_FENCE = 1u << 0, /* ``` fences removed */
	SKY_PLANNER_REPAIR_PROSE = 1u << 1, /* text around the JSON */
	SKY_PLANNER_REPAIR_BOM = 1u << 2,
	SKY_PLANNER_REPAIR_PREFILL = 1u << 3,        /* "{" prefill doubled */
	SKY_PLANNER_REPAIR_TRAILING_COMMA = 1u << 4, /* or doubled commas */
	SKY_PLANNER_REPAIR_MISSING_COMMA = 1u << 5,
	SKY_PLANNER_REPAIR_TRUNCATED = 1u << 6,
	SKY_PLANNER_REPAIR_SMART_QUOTES = 1u << 7,
	SKY_PLANNER_REPAIR_SINGLE_QUOTES = 1u << 8,
	SKY_PLANNER_REPAIR_COMMENTS = 1u << 9,
	SKY_PLANNER_REPAIR_UNQUOTED_KEYS = 1u << 10,
	SKY_PLANNER_REPAIR_PYTHON = 1u << 11,         /* True/False/None */
	SKY_PLANNER_REPAIR_BARE_WORDS = 1u << 12,     /* unquoted values */
	SKY_PLANNER_REPAIR_STRING_ESCAPES = 1u << 13, /* raw newlines, stray
	                                                  quotes, bad escapes */
	SKY_PLANNER_REPAIR_BRACKETS = 1u << 14,       /* ] closing an object */
	SKY_PLANNER_REPAIR_GARBLED = 1u << 15,        /* an item skipped */
	SKY_PLANNER_REPAIR_UTF8 = 1u << 16,
};

/* Comma-separated names of the bits in `repairs` ("fence,trailing_comma");
 * malloc'd, "" when none. */
char *sky_planner_repairs_str(unsigned int repairs);

/*
 * What the action parser checks answers against. Everything is borrowed
 * and may be NULL; with no elements and no snapshot every element id is
 * unknown.
 */
typedef struct sky_planner_parse_ctx {
	const json_t *elements; /* sky_planner_flatten() output, or ... */
	const json_t *snapshot; /* ... the snapshot, flattened on the fly */
	const json_t *url_map;  /* {"u1": "https://..."} from page/ */
	const char *page_url;   /* base for relative URLs */
	const char *goal;       /* upload_file names must appear here ... */
	const json_t *navigation_payload; /* ... or here */
	const json_t *error_code_mapping; /* errors[] codes are kept only if
	                                     they are in here */
	const json_t *tabs;               /* bounds tab_index when given */
	int totp_available; /* else verification_code is rejected */
} sky_planner_parse_ctx;

/*
 * Parsed extract-actions answer. `actions` holds validated action objects
 * (internals §3), in order, nothing after the first complete/terminate.
 * `rejected` holds {"index": n, "code": "...", "reason": "...",
 * "action": <as the model wrote it>} for every dropped entry, `notes`
 * strings about lesser fixes (an error code dropped, a placeholder
 * restored).
 */
typedef struct sky_planner_actions {
	json_t *actions;
	json_t *rejected;
	json_t *notes;
	char *user_goal_stage;  /* NULL when absent */
	int user_goal_achieved; /* 1, 0, or -1 when absent */
	char *action_plan;
	unsigned int repairs; /* SKY_PLANNER_REPAIR_* */
} sky_planner_actions;

void sky_planner_actions_free(sky_planner_actions *a);

/*
 * Parse an extract-actions answer. Returns 0 (even when every action was
 * rejected: see `rejected`) or SKY_EPARSE when no JSON with an actions list
 * can be found at all.
 */
int sky_planner_parse_actions(const char *text,
                              const sky_planner_parse_ctx *ctx,
                              sky_planner_actions **out);

typedef enum sky_goal_status {
	SKY_GOAL_CONTINUE = 0,
	SKY_GOAL_COMPLETE = 1,
	SKY_GOAL_TERMINATE = 2,
} sky_goal_status;

typedef struct sky_planner_check {
	sky_goal_status status;
	char *reason;    /* never NULL */
	char *page_info; /* may be NULL */
	char *thoughts;  /* may be NULL */
	unsigned int repairs;
} sky_planner_check;

void sky_planner_check_free(sky_planner_check *c);
int sky_planner_parse_check(const char *text, sky_planner_check **out);

typedef enum sky_plan_decision {
	SKY_PLAN_NEXT = 0,      /* run `plan` as the next mini-goal */
	SKY_PLAN_DONE = 1,      /* the user goal is achieved */
	SKY_PLAN_TERMINATE = 2, /* give up: termination_reason */
} sky_plan_decision;

typedef struct sky_planner_plan {
	sky_plan_decision decision;
	char *plan;      /* the next mini-goal (NEXT) */
	char *task_type; /* "navigate" or "extract" (NEXT) */
	char *url;       /* validated http(s), may be NULL */
	char *thoughts;
	char *termination_reason; /* never NULL for TERMINATE */
	json_t *notes;            /* strings */
	unsigned int repairs;
} sky_planner_plan;

void sky_planner_plan_free(sky_planner_plan *p);
/* ctx may be NULL; its page_url and url_map resolve the url field. */
int sky_planner_parse_plan(const char *text, const sky_planner_parse_ctx *ctx,
                           sky_planner_plan **out);

typedef struct sky_planner_summary {
	char *description; /* never NULL */
	json_t *output;    /* json_null() when absent */
	unsigned int repairs;
} sky_planner_summary;

void sky_planner_summary_free(sky_planner_summary *s);
int sky_planner_parse_summary(const char *text, sky_planner_summary **out);

/*
 * surface-error-codes: *errors receives [{"error_code","reasoning",
 * "confidence_float"}] holding only codes present in `mapping` (matched
 * case-insensitively, returned in the mapping's spelling); *dropped (may
 * be NULL) the codes that were not.
 */
int sky_planner_parse_errors(const char *text, const json_t *mapping,
                             json_t **errors, json_t **dropped);

/*
 * extract-data: the answer's JSON value, validated against `schema` when
 * given (sky_planner_schema_apply: missing fields filled with null, safe
 * coercions, invalid array items dropped). *messages (may be NULL)
 * receives an array of strings about what was wrong.
 */
int sky_planner_parse_data(const char *text, const json_t *schema,
                           json_t **value, json_t **messages);

/*
 * parse-verification-code: *code (malloc'd) is the code or link the
 * answer names, NULL when it found none (still a success); *magic_link is
 * 1 when it is a sign-in link. SKY_EPARSE when the answer holds no JSON
 * object with a "code".
 */
int sky_planner_parse_code(const char *text, char **code, int *magic_link);

/* ---- schema ----------------------------------------------------------- */

/*
 * The schema in full JSON-Schema form: Skyvern's shorthand (a bare
 * properties map such as {"ok": {"type": "boolean"}}) becomes
 * {"type": "object", "properties": {...}}. SKY_EINVALID when `schema` is
 * not a JSON object.
 */
int sky_planner_schema_normalize(const json_t *schema, json_t **out);

/*
 * Check `value` against `schema` (subset: type incl. arrays of types,
 * nullable, anyOf/oneOf, properties, required, additionalProperties:false,
 * items, enum) and return a repaired copy: declared object fields that are
 * missing become null, "true" -> true, "42" -> 42, "$1,234.50" -> 1234.5
 * for numbers, numbers -> strings for strings, a lone item for an array is
 * wrapped, array items of the wrong type are dropped. Every mismatch is a
 * message "<path>: <what>" in *messages (new array, may be NULL to ignore).
 */
int sky_planner_schema_apply(const json_t *schema, const json_t *value,
                             json_t **out, json_t **messages);

#endif
