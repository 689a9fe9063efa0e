/*
 * libFuzzer: every parser of model answers, against a fixed page
 * (tests/unit/planner-corpus/page.json, flattened once): extract-actions
 * (element ids, URLs, tabs, TOTP, error codes checked), check-goal, plan,
 * summary, surface-error-codes and extract-data with a schema. The first
 * byte picks the parser; the rest is the answer text, or, when it holds
 * a NUL byte, the user's goal, a NUL, then the answer: the goal is read
 * by the parser too (file names the user supplied), and a goal holding
 * '>' once hung it (issue 13). A hang is a libFuzzer timeout.
 */
#include "fuzz.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "planner/planner.h"

static json_t *snapshot, *elements, *mapping, *schema, *tabs, *payload;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snapshot = json_load_file(
	    SKY_SOURCE_DIR "/tests/unit/planner-corpus/page.json", 0, NULL);
	if (!snapshot || sky_planner_flatten(snapshot, &elements))
		abort();
	mapping = json_pack("{s:s, s:s}", "JOB_CLOSED", "the job is closed",
	                    "NO_FORM", "no form on the page");
	schema = json_pack("{s:{s:s}, s:{s:s, s:{s:s}}}", "application_success",
	                   "type", "boolean", "items", "type", "array", "items",
	                   "type", "number");
	tabs = json_pack("[{s:i, s:s}, {s:i, s:s}]", "index", 0, "url",
	                 "https://jobs.example.com/", "index", 1, "url",
	                 "https://jobs.example.com/apply");
	payload = json_pack("{s:s}", "resume", "cv.pdf");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	int which = data[0] % 6;
	const uint8_t *rest = data + 1;
	size_t n = size - 1;
	const uint8_t *nul = memchr(rest, 0, n);
	char *goal = NULL;
	if (nul) {
		size_t gl = (size_t)(nul - rest);
		goal = malloc(gl + 1);
		memcpy(goal, rest, gl);
		goal[gl] = '\0';
		n -= gl + 1;
		rest = nul + 1;
	}
	char *text = malloc(n + 1);
	memcpy(text, rest, n);
	text[n] = '\0';
	sky_planner_parse_ctx ctx = {0};
	ctx.elements = elements;
	ctx.page_url = "https://jobs.example.com/apply?x=1";
	ctx.goal = goal ? goal : "Apply for the job and upload cv.pdf";
	ctx.navigation_payload = payload;
	ctx.error_code_mapping = mapping;
	ctx.tabs = tabs;
	ctx.totp_available = data[0] & 0x80;
	switch (which) {
	case 0: {
		sky_planner_actions *a = NULL;
		if (sky_planner_parse_actions(text, &ctx, &a) == 0 &&
		    (!a || !json_is_array(a->actions)))
			abort();
		sky_planner_actions_free(a);
		break;
	}
	case 1: {
		sky_planner_check *c = NULL;
		if (sky_planner_parse_check(text, &c) == 0 && !c->reason)
			abort();
		sky_planner_check_free(c);
		break;
	}
	case 2: {
		sky_planner_plan *p = NULL;
		if (sky_planner_parse_plan(text, &ctx, &p) == 0 &&
		    p->decision == SKY_PLAN_TERMINATE && !p->termination_reason)
			abort();
		sky_planner_plan_free(p);
		break;
	}
	case 3: {
		sky_planner_summary *s = NULL;
		if (sky_planner_parse_summary(text, &s) == 0 && !s->description)
			abort();
		sky_planner_summary_free(s);
		break;
	}
	case 4: {
		json_t *errors = NULL, *dropped = NULL;
		sky_planner_parse_errors(text, mapping, &errors, &dropped);
		json_decref(errors);
		json_decref(dropped);
		break;
	}
	default: {
		json_t *v = NULL, *msgs = NULL;
		sky_planner_parse_data(text, schema, &v, &msgs);
		json_decref(v);
		json_decref(msgs);
		break;
	}
	}
	free(text);
	free(goal);
	return 0;
}
