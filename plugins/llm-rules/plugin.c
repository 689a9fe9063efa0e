/*
 * llm-rules: an LLM provider with no model. It reads the structured
 * context of each request (internals §5, never the prose prompt) and
 * answers in the same JSON a model would, so the whole engine runs
 * offline: in the quick start, in CI, and wherever no API key is at hand.
 */
#include <skyengine/plugin/errors.h>
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static const sky_host_api *host;

/* The planner keeps no state between calls: every answer follows from
 * the request alone, which makes it deterministic and thread-safe. */
static int instance_token;

static char *host_msg(const char *m)
{
	return host->strdup(m);
}

static int rules_create(const sky_host_ctx *ctx, const char *config_json,
                        void **instance, char **err)
{
	(void)ctx;
	(void)config_json;
	(void)err;
	*instance = &instance_token;
	return 0;
}

static void rules_destroy(void *instance)
{
	(void)instance;
}

static int rules_complete(void *instance, const sky_llm_request *req,
                          sky_llm_response *resp, char **err)
{
	json_error_t je;
	json_t *ctx;
	char *answer = NULL;
	const char *purpose;
	(void)instance;
	if (!req || !req->context_json) {
		*err = host_msg("llm-rules needs the request's context_json "
		                "(the offline planner reads structure, not the "
		                "prompt text)");
		return SKY_EINVALID;
	}
	ctx = json_loads(req->context_json, 0, &je);
	if (!json_is_object(ctx)) {
		char m[256];
		snprintf(m, sizeof m,
		         "llm-rules: context_json is not a JSON object (%s at "
		         "line %d)",
		         ctx ? "not an object" : je.text, je.line);
		json_decref(ctx);
		*err = host_msg(m);
		return SKY_EPARSE;
	}
	purpose = req->purpose
	              ? req->purpose
	              : json_string_value(json_object_get(ctx, "purpose"));
	if (!purpose)
		purpose = "";
	if (!strcmp(purpose, SKY_LLM_PURPOSE_EXTRACT_ACTIONS))
		answer = sky_rules__answer_actions(ctx);
	else if (!strcmp(purpose, SKY_LLM_PURPOSE_CHECK_GOAL))
		answer = sky_rules__answer_check(ctx);
	else if (!strcmp(purpose, SKY_LLM_PURPOSE_EXTRACT_DATA))
		answer = sky_rules__answer_extract(ctx);
	else if (!strcmp(purpose, SKY_LLM_PURPOSE_SURFACE_ERRORS))
		answer = sky_rules__answer_errors(ctx);
	else if (!strcmp(purpose, SKY_LLM_PURPOSE_PLAN))
		answer = sky_rules__answer_plan(ctx);
	else if (!strcmp(purpose, SKY_LLM_PURPOSE_SUMMARIZE))
		answer = sky_rules__answer_summary(ctx);
	else if (!strcmp(purpose, SKY_LLM_PURPOSE_PARSE_CODE))
		answer = sky_rules__answer_code(ctx);
	json_decref(ctx);
	if (!answer) {
		char m[256];
		snprintf(m, sizeof m,
		         "llm-rules cannot answer purpose \"%.100s\" without a "
		         "model",
		         purpose);
		*err = host_msg(m);
		return SKY_EUNSUPPORTED;
	}
	resp->text = host->strdup(answer);
	free(answer);
	resp->model = host->strdup("rules");
	resp->finish_reason = host->strdup("stop");
	resp->cost = 0.0; /* known: nothing */
	if (!resp->text) {
		*err = host_msg("out of memory");
		return SKY_ENOMEM;
	}
	return 0;
}

static int rules_vision(void *instance)
{
	(void)instance;
	return 0;
}

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	static const sky_llm_provider vt = {
	    .name = "rules",
	    .create = rules_create,
	    .destroy = rules_destroy,
	    .complete = rules_complete,
	    .supports_vision = rules_vision,
	};
	(void)err;
	host = api;
	return sky_register_llm(api, reg, &vt);
}
