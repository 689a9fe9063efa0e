/* browser-cdp: actions (placeholder until written). */
#include "cdp.h"

int cdp_act(cdp_ctx *ctx, const char *action_json, json_t **result)
{
	(void)ctx;
	(void)action_json;
	*result = NULL;
	return cdp_fail(SKY_EUNSUPPORTED, "actions: not yet");
}
