/*
 * Verification codes from a run's totp_url: POST the run's ids (signed
 * like webhooks, with the engine's webhook key) and read
 * {"verification_code": "..."}, polling with backoff until the wait ends.
 * The code is never logged.
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/version.h>

#include "agent/agent.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"
#include "util/time.h"

char *sky__totp_url_fetch(sky_engine *e, const sky_task_rec *t, char **why)
{
	const sky_host_api *api = sky_host_api_get();
	json_t *q = json_pack("{s:s, s:s?}", "task_id", t->task_id,
	                      "totp_identifier", t->totp_identifier);
	char *body = sky_json_dumps(q);
	json_decref(q);
	char sig[SKY_SHA256_HEX_LEN] = "", ts[32];
	if (e->webhook_key)
		sky_hmac_sha256_hex(e->webhook_key, strlen(e->webhook_key),
		                    body, strlen(body), sig);
	int64_t until = sky_time_mono_ms() + e->agent.totp_wait_ms;
	int64_t delay = 1000;
	char *code = NULL, *last = NULL;
	*why = NULL;
	while (!code) {
		snprintf(ts, sizeof ts, "%lld",
		         (long long)(sky_time_now_ms() / 1000));
		sky_http_header h[4] = {
			{"content-type", "application/json"},
			{"x-skyvern-timestamp", ts},
			{"user-agent", "skyengine/" SKY_VERSION_STRING},
			{"x-skyvern-signature", sig}};
		sky_http_request req = {.version = SKY_HTTP_REQUEST_VERSION};
		req.method = "POST";
		req.url = t->totp_url;
		req.headers = h;
		req.n_headers = sig[0] ? 4 : 3;
		req.body = body;
		req.body_len = strlen(body);
		req.timeout_ms = 10000;
		req.max_response_bytes = 64 * 1024;
		sky_http_response *resp = NULL;
		char *err = NULL;
		int rc = api->http_request(&req, &resp, &err);
		free(last);
		last = NULL;
		if (rc) {
			last = sky_asprintf("totp_url: %s",
			                    err ? err : sky_strerror(rc));
		} else if (resp->status != 200) {
			last = sky_asprintf("totp_url answered HTTP %d",
			                    resp->status);
		} else {
			json_t *o = sky_json_loads(resp->body);
			const char *c = sky_json_str(o, "verification_code");
			if (c && *c)
				code = sky_strdup(c);
			else
				last = sky_strdup("totp_url has no code yet");
			json_decref(o);
		}
		free(err);
		api->http_response_free(resp);
		if (code || sky_time_mono_ms() + delay > until ||
		    sky__engine_is_canceled(e, t->task_id))
			break;
		sky_time_sleep_ms(delay);
		if (delay < 8000)
			delay *= 2;
	}
	free(body);
	if (!code)
		*why = last ? last : sky_strdup("no code from totp_url");
	else
		free(last);
	return code;
}
