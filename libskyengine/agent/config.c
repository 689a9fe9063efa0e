/* The agent's tunables from config "agent": {...}, with the environment
 * variables that override their defaults (docs/configuration.md). */
#include "agent/config.h"

#include <stdlib.h>

#include "util/log.h"

/* agent.<key> from the config (an integer, or a boolean as 0/1), else
 * the positive integer in $env, else dflt. */
static int agent_int(const json_t *cfg, const char *key, const char *env,
                     int dflt)
{
	json_t *v = json_object_get(json_object_get(cfg, "agent"), key);
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_is_boolean(v))
		return json_is_true(v);
	const char *e = env ? getenv(env) : NULL;
	if (e && *e) {
		char *end;
		long n = strtol(e, &end, 10);
		if (!*end && n > 0 && n < 1000000)
			return (int)n;
		sky_log_warn("agent", "ignoring %s=%s: not a positive integer",
		             env, e);
	}
	return dflt;
}

void sky_agent_config_read(sky_agent_config *a, const json_t *c)
{
	a->run_timeout_s =
	    agent_int(c, "run_timeout_s", "SKYENGINE_RUN_TIMEOUT", 1800);
	a->navigate_timeout_ms =
	    agent_int(c, "navigate_timeout_ms", NULL, 30000);
	a->settle_max_ms = agent_int(c, "settle_max_ms", NULL, 5000);
	a->settle_network_quiet_ms =
	    agent_int(c, "settle_network_quiet_ms", NULL, -1);
	a->settle_dom_quiet_ms = agent_int(c, "settle_dom_quiet_ms", NULL, -1);
	a->llm_timeout_ms = agent_int(c, "llm_timeout_ms", NULL, 120000);
	a->check_goal = agent_int(c, "check_goal", NULL, 2);
	a->screenshots = agent_int(c, "screenshots", NULL, 1);
	a->vision = agent_int(c, "vision", "SKYENGINE_LLM_VISION", 1);
	a->tree_budget_tokens = agent_int(c, "tree_budget_tokens", NULL, 12000);
	a->v2_max_iterations = agent_int(c, "v2_max_iterations", NULL, 10);
	a->v2_max_steps = agent_int(c, "v2_max_steps", NULL, 25);
	a->wait_max_s = agent_int(c, "wait_max_s", NULL, 10);
	a->totp_wait_ms =
	    agent_int(c, "totp_wait_ms", "SKYENGINE_TOTP_WAIT_MS", 60000);
}
