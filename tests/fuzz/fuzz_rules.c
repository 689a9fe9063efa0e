/*
 * libFuzzer: the offline planner (plugins/llm-rules, compiled in) on a
 * user's goal it has never seen. The input is: one byte that picks a
 * captured page of the site corpus and a purpose, then the goal text,
 * then optionally a NUL and a navigation_payload (any text: JSON or not).
 * Each request context is rendered by the engine's own renderer from the
 * page; the planner must answer, and an extract-actions answer must parse
 * with the engine's parser against the same goal. A hang is a libFuzzer
 * timeout (issue 13: a goal holding '>' hung the engine's goal scanner).
 */
#include "fuzz.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "page/page.h"
#include "planner/planner.h"
#include "rules.h"
#include "util/fs.h"
#include "util/json.h"

static const char *const sites[] = {
    "job-apply",       "login-task", "invoices-table", "search-catalog",
    "custom-dropdown", "wizard",     "pricing-nav",    "cookie-banner"};
#define N_SITES (sizeof sites / sizeof sites[0])

static json_t *snaps[N_SITES];
static sky_page_tree *trees[N_SITES];
static json_t *schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < N_SITES; i++) {
		char path[512];
		snprintf(path, sizeof path,
		         SKY_SOURCE_DIR "/tests/sites/%s/snapshot-0.json",
		         sites[i]);
		json_t *rec = json_load_file(path, 0, NULL);
		if (!rec)
			abort();
		snaps[i] = json_incref(json_object_get(rec, "snapshot"));
		json_decref(rec);
		if (!snaps[i] ||
		    sky_page_render_json(snaps[i], NULL, &trees[i]))
			abort();
	}
	schema = json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s, s:{s:s}}}}",
	                   "type", "object", "properties", "balance", "type",
	                   "number", "name", "type", "string", "rows", "type",
	                   "array", "items", "type", "string");
	return 0;
}

static void page_of(size_t site, sky_planner_page *pg)
{
	memset(pg, 0, sizeof *pg);
	pg->url = sky_json_str(snaps[site], "url");
	if (!pg->url)
		pg->url = "http://127.0.0.1/";
	pg->title = sky_json_str(snaps[site], "title");
	pg->element_tree = sky_page_tree_text(trees[site]);
	pg->snapshot = snaps[site];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t site = (data[0] & 0x0f) % N_SITES;
	int purpose = (data[0] >> 4) % 4;
	const uint8_t *rest = data + 1;
	size_t n = size - 1;
	const uint8_t *nul = memchr(rest, 0, n);
	size_t gl = nul ? (size_t)(nul - rest) : n;
	char *goal = malloc(gl + 1);
	memcpy(goal, rest, gl);
	goal[gl] = '\0';
	json_t *payload = NULL;
	if (nul) {
		size_t pl = n - gl - 1;
		char *p = malloc(pl + 1);
		memcpy(p, nul + 1, pl);
		p[pl] = '\0';
		payload = json_loads(p, JSON_DECODE_ANY, NULL);
		if (!payload)
			payload = json_string(p); /* free text */
		free(p);
		if (!payload)
			payload = json_null();
	}
	if (!*goal) {
		free(goal);
		json_decref(payload);
		return 0;
	}

	sky_planner_prompt *pr = NULL;
	int rc = 0;
	switch (purpose) {
	case 0: {
		sky_planner_actions_input in = {0};
		in.goal = goal;
		in.navigation_payload = payload;
		page_of(site, &in.page);
		in.now = "2026-01-01T00:00:00.000Z";
		in.step.max_steps = 10;
		rc = sky_planner_render_actions(&in, &pr);
		break;
	}
	case 1: {
		sky_planner_check_input in = {0};
		in.goal = goal;
		in.navigation_payload = payload;
		page_of(site, &in.page);
		in.now = "2026-01-01T00:00:00.000Z";
		rc = sky_planner_render_check(&in, &pr);
		break;
	}
	case 2: {
		sky_planner_extract_input in = {0};
		in.goal = goal;
		in.data_extraction_goal = goal;
		in.data_extraction_schema = schema;
		in.navigation_payload = payload;
		page_of(site, &in.page);
		in.now = "2026-01-01T00:00:00.000Z";
		rc = sky_planner_render_extract(&in, &pr);
		break;
	}
	default: {
		sky_planner_plan_input in = {0};
		in.goal = goal;
		in.navigation_payload = payload;
		page_of(site, &in.page);
		in.now = "2026-01-01T00:00:00.000Z";
		rc = sky_planner_render_plan(&in, &pr);
		break;
	}
	}
	if (rc) {
		/* A goal the renderer refuses (not UTF-8, say) never reaches
		 * a planner. */
		free(goal);
		json_decref(payload);
		return 0;
	}
	json_t *ctx = json_loads(pr->context_json, 0, NULL);
	if (!ctx)
		abort();
	char *answer = purpose == 0   ? sky_rules__answer_actions(ctx)
	               : purpose == 1 ? sky_rules__answer_check(ctx)
	               : purpose == 2 ? sky_rules__answer_extract(ctx)
	                              : sky_rules__answer_plan(ctx);
	if (!answer)
		abort(); /* the planner always answers its purposes */
	if (purpose == 0) {
		sky_planner_parse_ctx pc = {0};
		pc.elements = sky_page_tree_elements(trees[site]);
		pc.page_url = sky_json_str(snaps[site], "url");
		pc.goal = goal;
		pc.navigation_payload = payload;
		sky_planner_actions *a = NULL;
		if (sky_planner_parse_actions(answer, &pc, &a))
			abort(); /* its own answer must parse */
		sky_planner_actions_free(a);
	} else if (purpose == 1) {
		sky_planner_check *c = NULL;
		if (sky_planner_parse_check(answer, &c))
			abort();
		sky_planner_check_free(c);
	}
	free(answer);
	json_decref(ctx);
	sky_planner_prompt_free(pr);
	free(goal);
	json_decref(payload);
	return 0;
}
