/*
 * Internal: the task-run request (the body of POST /v1/run/tasks) parsed
 * and validated into a typed struct, with errors in the shapes the API
 * serves (FastAPI's 422 detail list, Skyvern's 400 URL message).
 */
#ifndef SKY_ENGINE_REQUEST_H
#define SKY_ENGINE_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "net/url.h" /* sky_url_validate, SKY_URL_BLOCK_* */
#include "store/store.h"

/*
 * Limits. Lengths of strings are in characters (code points), as
 * Pydantic counts them; JSON-valued fields are measured as compact JSON
 * in bytes. The server caps whole bodies at SKY_REQUEST_MAX_BODY first.
 */
#define SKY_REQUEST_MAX_BODY (1024 * 1024)
#define SKY_REQUEST_MAX_PROMPT 65536
#define SKY_REQUEST_MAX_TITLE 1024
#define SKY_REQUEST_MAX_IDENT 1024 /* totp_identifier, browser_session_id */
#define SKY_REQUEST_MAX_JSON (256 * 1024) /* payload, schema, mapping */
#define SKY_REQUEST_MAX_HEADERS 64        /* extra_http_headers entries */
#define SKY_REQUEST_MAX_HEADER_BYTES (16 * 1024)
#define SKY_REQUEST_MAX_STEPS 100 /* larger max_steps are lowered to it */
#define SKY_REQUEST_MAX_SCROLLS 1000

typedef struct sky_request_options {
	unsigned url_flags; /* SKY_URL_BLOCK_* */
	/* The models a request may name in model.model_name: an object of
	 * name -> the model the configured LLM provider is asked for
	 * (config llm.models, plus llm.model as itself). NULL or empty:
	 * a request naming any model is refused. Borrowed. */
	const json_t *llm_models;
} sky_request_options;

typedef struct sky_task_request {
	char *prompt; /* never NULL; may be "" */
	char *url;    /* normalized, or NULL */
	char *title;
	char *engine;         /* "skyvern-1.0" | "skyvern-2.0" */
	const char *run_type; /* SKY_RUN_TYPE_V1 | SKY_RUN_TYPE_V2 (static) */
	char *proxy_location; /* JSON text: "\"RESIDENTIAL\"", an object;
	                         NULL when the client sent null */
	char *data_extraction_schema; /* JSON text or NULL */
	char *error_code_mapping;     /* JSON text or NULL */
	char *navigation_payload;     /* JSON text or NULL */
	int max_steps;                /* 0: not given */
	char *webhook_url;            /* normalized, or NULL */
	char *totp_identifier;
	char *totp_url; /* normalized, or NULL */
	char *browser_session_id;
	int publish_workflow;
	char *extra_http_headers; /* JSON object text or NULL */
	int include_action_history_in_verification;
	int max_screenshot_scrolls; /* -1: not given; else 0..1000 */
	char *browser_address;
	int start_fresh_browser;
	char *browser_profile_id; /* "bp_…": loaded into the run's context */
	int persist_browser_session; /* extension: keep the state at the end */
	char *cdp_connect_headers;   /* JSON object text; kept in the notes */
	char *run_with;   /* "code"/"code_v2": replay (docs/replay.md) */
	int ai_fallback;  /* replay: the agent takes over on a mismatch */
	char *cache_key;  /* replay: the client's key for the plan */
	char *model_name; /* model.model_name, one of opts->llm_models */
	/* Extensions (the legacy TaskRequest's fields, accepted on
	 * /v1/run/tasks too, as navigation_payload is). */
	char *data_extraction_goal;
	char *complete_criterion;
	char *terminate_criterion;
	char *application;
	char *notes;       /* JSON object text of the above and the profile
	                fields, or NULL */
	char *run_request; /* the run_request echo, JSON object text */
	/* Extension: a credential of the vault the run may use (the model
	 * sees placeholders, agent/credential.c); kept in notes. */
	char *credential_id;
} sky_task_request;

/* A refused request, ready to serve. */
typedef struct sky_request_error {
	int status;   /* 400, 413 or 422; 0 when there is none */
	char *detail; /* JSON text of the "detail" value (list or string) */
	char *body;   /* {"detail": ...} */
} sky_request_error;

/*
 * Parse and validate a request body (`len` bytes, need not be
 * NUL-terminated). On success *out holds the request and `err` is
 * cleared. On a refusal returns SKY_EINVALID (SKY_ETOOBIG for an oversize
 * body) with `err` filled and sky_error_last() summarising the first
 * problem; SKY_ENOMEM when memory runs out. `opts` may be NULL. `err`
 * is overwritten, so clear one that holds an earlier error first.
 *
 * Unknown fields are ignored. Validation follows Pydantic's lax mode:
 * "10" and 10.0 are integers, "yes"/1 are booleans, numbers are never
 * strings. Engines Skyvern knows but skyengine does not run
 * (skyvern-3.0, the CUA engines) give 400 "not supported"; unknown
 * names give the 422 enum error. Every other field Skyvern acts on is
 * either honoured or refused with a 400 saying why (never accepted and
 * ignored): browser_profile_id, start_fresh_browser on skyvern-1.0 (as
 * Skyvern), a model not in opts->llm_models, cdp_connect_headers
 * without browser_address, max_screenshot_scrolls > 0. run_with "code"
 * replays the stored plan (docs/replay.md).
 */
int sky_task_request_parse(const char *body, size_t len,
                           const sky_request_options *opts,
                           sky_task_request **out, sky_request_error *err);
void sky_task_request_free(sky_task_request *r);
void sky_request_error_clear(sky_request_error *e);

/* Point a store task at the request's fields (borrowed, so `r` must
 * outlive the sky_store_task_create call). organization_id,
 * idempotency_key and the v2 links are left for the caller. */
void sky_task_request_to_new(const sky_task_request *r, sky_task_new *out);

/*
 * Validate body.proxy_location as a task request does (the enum, a geo
 * target or {"url": ...}). Absent: 0 and *out NULL (no default here);
 * null: 0 and *out NULL. Otherwise 0 with *out the JSON text, or
 * SKY_EINVALID with FastAPI items appended to `errors`.
 */
int sky_request_proxy_location(json_t *body, json_t *errors, char **out);

#endif
