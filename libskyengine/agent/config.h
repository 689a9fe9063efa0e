/* Internal: the agent's tunables, config "agent": {...} (docs/configuration.md),
 * and their reading. The engine keeps one per engine and lends it to
 * every run (sky_agent_env.config). */
#ifndef SKY_AGENT_CONFIG_H
#define SKY_AGENT_CONFIG_H

#include <jansson.h>

typedef struct sky_agent_config {
	int run_timeout_s;           /* whole run; 0: 1800 */
	int navigate_timeout_ms;     /* 0: 30000 */
	int settle_max_ms;           /* 0: 5000 */
	int settle_network_quiet_ms; /* -1: the browser plugin's default */
	int settle_dom_quiet_ms;     /* -1: the browser plugin's default */
	int llm_timeout_ms;          /* 0: 120000 */
	int check_goal;              /* 0 never, 1 on unverified complete,
	                            2 also after steps without a decision */
	int screenshots;             /* 1: a screenshot per step */
	int vision;                  /* 1: send the screenshot to the model */
	int tree_budget_tokens;      /* element tree budget; 0: 12000 */
	int v2_max_iterations;       /* 0: 10 */
	int v2_max_steps;            /* total step orders of a v2 run; 0: 25 */
	int wait_max_s;              /* cap of a wait action; 0: 10 */
	int totp_wait_ms;            /* how long to wait for a 2FA code */
} sky_agent_config;

/* Fill *a from the engine config's "agent" section (`config` may be
 * NULL); a key that is absent falls back to its environment variable
 * where it has one, else to its default. */
void sky_agent_config_read(sky_agent_config *a, const json_t *config);

#endif
