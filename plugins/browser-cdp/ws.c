/* browser-cdp: the websocket transport (placeholder until written). */
#include "cdp.h"

int cdp_ws_connect(const char *url, int timeout_ms, cdp_event_fn on_event,
                   cdp_death_fn on_death, void *ud, cdp_conn **out)
{
	(void)url;
	(void)timeout_ms;
	(void)on_event;
	(void)on_death;
	(void)ud;
	*out = NULL;
	return cdp_fail(SKY_EUNSUPPORTED, "websocket transport: not yet");
}
