/*
 * Verification codes from a run's totp_url: POST the run's ids, signed
 * like the run's webhooks (x-skyvern-signature: HMAC-SHA256 of the exact
 * body keyed with the API key that submitted the run, else the engine's
 * webhook key; x-skyvern-timestamp), and read {"verification_code": "..."}.
 * One attempt per call: act.c polls it, with backoff, beside the other
 * sources. The code is never logged.
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/version.h>

#include "agent/agent.h"
#include "plugin/loader.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

char *sky_agent__totp_url_try(sky_run *r, char **why)
{
	const sky_task_rec *t = r->task;
	json_t *q = json_pack("{s:s, s:s?}", "task_id", t->task_id,
	                      "totp_identifier", t->totp_identifier);
	char *body = sky_json_dumps(q);
	json_decref(q);
	char *key = sky_agent_signing_key(r);
	char sig[SKYX_SHA256_HEX_LEN] = "", ts[32];
	char *code = NULL;
	*why = NULL;
	if (!body) {
		free(key);
		*why = skyx_strdup("out of memory");
		return NULL;
	}
	if (key)
		skyx_hmac_sha256_hex(key, strlen(key), body, strlen(body), sig);
	free(key);
	snprintf(ts, sizeof ts, "%lld", (long long)(skyx_time_now_ms() / 1000));
	sky_http_header h[4] = {{"content-type", "application/json"},
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
	int rc = sky_http_client_call(r->env->http, &req, &resp, &err);
	if (rc) {
		*why =
		    skyx_asprintf("totp_url: %s", err ? err : sky_strerror(rc));
	} else if (resp->status != 200) {
		*why = skyx_asprintf("totp_url answered HTTP %d", resp->status);
	} else {
		json_t *o = sky_json_loads(resp->body);
		json_t *c = json_object_get(o, "verification_code");
		if (json_is_string(c) && *json_string_value(c))
			code = skyx_strdup(json_string_value(c));
		else if (json_is_integer(c) && json_integer_value(c) >= 0)
			code = skyx_asprintf("%" JSON_INTEGER_FORMAT,
			                     json_integer_value(c));
		else
			*why = skyx_strdup("totp_url has no code yet");
		json_decref(o);
	}
	if (code)
		sky_secret_register(code);
	free(err);
	sky_http_response_free(resp);
	free(body);
	return code;
}
