/* The agent's way up to its host: the callbacks of sky_agent_env, each
 * with the default of a host that gave none (agent.h). */
#include <stdlib.h>

#include "agent/agent.h"
#include "util/error.h"
#include <skyx/str.h>
#include <skyx/time.h>

/* The host's callbacks; NULL when it gave none (or a version this agent
 * does not know, which sky_agent_execute refuses before any call). */
static const sky_agent_callbacks *cbs(const sky_run *r)
{
	const sky_agent_callbacks *cb = r->env ? r->env->cb : NULL;
	if (!cb || cb->version < 1 || cb->version > SKY_AGENT_CALLBACKS_VERSION)
		return NULL;
	return cb;
}

int sky_agent_browser_retry(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (!cb || cb->version < 2 || !cb->browser_retry)
		return SKY_EBROWSER;
	return cb->browser_retry(&r->browser, cb->payload);
}

int sky_agent_canceled(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	return cb && cb->canceled ? cb->canceled(cb->payload) : 0;
}

int sky_agent_stopping(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	return cb && cb->stopping ? cb->stopping(cb->payload) : 0;
}

void sky_agent_emit(sky_run *r, sky_event_type type, const char *status,
                    int order, int retry, const char *json)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (cb && cb->emit)
		cb->emit(type, status, order, retry, json, cb->payload);
}

uint64_t sky_agent_change_seq(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	return cb && cb->change_seq ? cb->change_seq(cb->payload) : 0;
}

void sky_agent_wait_change(sky_run *r, uint64_t seq, int64_t ms)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (cb && cb->wait_change)
		cb->wait_change(seq, ms, cb->payload);
	else /* nothing can arrive early: the caller polls again */
		skyx_time_sleep_ms(ms);
}

int sky_agent_session_attach(sky_run *r, const char *session_id, void **ctx,
                             const char **download_dir)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (cb && cb->session_attach)
		return cb->session_attach(session_id, ctx, download_dir,
		                          cb->payload);
	return sky_error_set(SKY_ENOTFOUND,
	                     "Browser session %s is not available here",
	                     session_id);
}

void sky_agent_session_release(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (cb && cb->session_release)
		cb->session_release(cb->payload);
}

void sky_agent_context_opened(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (cb && cb->context_opened)
		cb->context_opened(r->bvt, r->ctx, cb->payload);
}

void sky_agent_context_leaving(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (cb && cb->context_leaving)
		cb->context_leaving(cb->payload);
}

int sky_agent_context_prepare(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (cb && cb->context_prepare)
		return cb->context_prepare(r->bvt, r->ctx, cb->payload);
	return 0;
}

void sky_agent_context_closing(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	if (cb && cb->context_closing && r->ctx && !r->session_id)
		cb->context_closing(r->bvt, r->ctx, cb->payload);
}

int sky_agent_proxy_for(sky_run *r, json_t **proxy, json_t **applied)
{
	const sky_agent_callbacks *cb = cbs(r);
	const char *loc = r->task->proxy_location;
	*proxy = NULL;
	*applied = NULL;
	if (cb && cb->proxy_for)
		return cb->proxy_for(loc, r->task->task_id, proxy, applied,
		                     cb->payload);
	*applied =
	    loc ? json_pack("{s:b, s:s}", "applied", 0, "reason",
	                    "no proxy provider is configured")
	        : json_pack("{s:b, s:s}", "applied", 1, "mode", "direct");
	return 0;
}

char *sky_agent_signing_key(sky_run *r)
{
	const sky_agent_callbacks *cb = cbs(r);
	return cb && cb->signing_key ? cb->signing_key(cb->payload) : NULL;
}

int sky_agent_credential_fields(sky_run *r, const char *credential_id,
                                json_t **fields, char **why)
{
	const sky_agent_callbacks *cb = cbs(r);
	*fields = NULL;
	*why = NULL;
	if (cb && cb->version >= 2 && cb->credential)
		return cb->credential(credential_id, fields, why, cb->payload);
	*why = skyx_strdup("this host keeps no credentials");
	return sky_error_set(SKY_EUNSUPPORTED, "no credentials");
}
