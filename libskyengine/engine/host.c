/* The host-facing API (include/skyengine/tasks_api.h): API keys, artifact
 * files, signed URLs, webhook replays. */
#include <stdlib.h>
#include <string.h>

#include <skyengine/tasks_api.h>
#include <skyengine/run.h>
#include <skyengine/version.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "engine/response.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

int sky_api_key_add(sky_engine *e, const char *org, const char *key)
{
	if (!e || !key || strlen(key) < 8)
		return sky_error_set(SKY_EINVALID,
		                     "an API key needs at least 8 "
		                     "characters");
	const char *scope;
	int rc = sky_engine__org_for_create(e, org, &scope);
	if (rc)
		return rc;
	sky_secret_register(key);
	rc = sky_store_apikey_add(e->store, scope, key, NULL);
	return rc == SKY_EEXISTS ? 0 : rc;
}

int sky_organization_create(char **organization_id, sky_engine *e,
                            const char *name)
{
	sky_org_rec *o = NULL;
	if (!e || !organization_id)
		return sky_error_set(SKY_EINVALID, "engine and organization_id "
		                                   "are required");
	*organization_id = NULL;
	int rc = sky_store_org_create(e->store, name ? name : "", &o);
	if (rc)
		return rc;
	*organization_id = skyx_strdup(o->organization_id);
	sky_org_rec_free(o);
	return *organization_id ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_api_key_generate(char **key, sky_engine *e, const char *org)
{
	char *hex = skyx_random_hex(24);
	if (!hex)
		return sky_error_from_code(SKY_ENOMEM);
	char *k = skyx_asprintf("sky_%s", hex);
	free(hex);
	if (!k)
		return sky_error_from_code(SKY_ENOMEM);
	int rc = sky_api_key_add(e, org, k);
	if (rc) {
		free(k);
		return rc;
	}
	*key = k;
	return 0;
}

int sky_api_key_count(long long *count, sky_engine *e)
{
	int64_t n = 0;
	int rc = sky_store_apikey_count(e->store, &n);
	*count = n;
	return rc;
}

int sky_api_key_verify(char **org, int *revoked, sky_engine *e, const char *key)
{
	char hex[SKYX_SHA256_HEX_LEN];
	sky_apikey_rec *rec = NULL;
	if (revoked)
		*revoked = 0;
	if (org)
		*org = NULL;
	if (!e || !key || !*key)
		return sky_error_set(SKY_EAUTH, "no API key");
	/* The lookup is by the SHA-256 of the key, so how much of a guess
	 * matches a real key cannot be timed; the stored hash is compared
	 * in constant time once more for good measure. */
	skyx_sha256_hex(key, strlen(key), hex);
	int64_t now = skyx_time_mono_ms();
	pthread_mutex_lock(&e->key_lock);
	for (int i = 0; i < SKY_KEY_CACHE; i++) {
		sky_key_cache_entry *c = &e->key_cache[i];
		if (c->org && c->until_ms > now &&
		    skyx_ct_equal(c->sha256, 64, hex, 64)) {
			if (org)
				*org = skyx_strdup(c->org);
			pthread_mutex_unlock(&e->key_lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&e->key_lock);
	int rc = sky_store_apikey_find(e->store, hex, &rec);
	if (rc || !rec ||
	    !skyx_ct_equal(rec->key_sha256, strlen(rec->key_sha256), hex,
	                   strlen(hex))) {
		sky_apikey_rec_free(rec);
		return sky_error_set(SKY_EAUTH, "unknown API key");
	}
	if (rec->revoked_at) {
		if (revoked)
			*revoked = 1;
		sky_apikey_rec_free(rec);
		return sky_error_set(SKY_EAUTH, "revoked API key");
	}
	if (org)
		*org = skyx_strdup(rec->organization_id);
	/* Remember it; the slot is picked by the hash, a collision just
	 * replaces an older entry. */
	pthread_mutex_lock(&e->key_lock);
	sky_key_cache_entry *c =
	    &e->key_cache[(unsigned char)hex[0] * 7 % SKY_KEY_CACHE];
	free(c->org);
	memcpy(c->sha256, hex, sizeof c->sha256);
	c->org = skyx_strdup(rec->organization_id);
	c->until_ms = now + 60000;
	pthread_mutex_unlock(&e->key_lock);
	sky_apikey_rec_free(rec);
	return 0;
}

static const char *mime_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot)
		return "application/octet-stream";
	static const struct {
		const char *ext, *type;
	} map[] = {{".png", "image/png"},
	           {".jpg", "image/jpeg"},
	           {".jpeg", "image/jpeg"},
	           {".html", "text/html; charset=utf-8"},
	           {".txt", "text/plain; charset=utf-8"},
	           {".json", "application/json"},
	           {".pdf", "application/pdf"},
	           {".csv", "text/csv"},
	           {".zip", "application/zip"}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(dot, map[i].ext))
			return map[i].type;
	return "application/octet-stream";
}

int sky_artifact_file(char **path, char **content_type, sky_engine *e,
                      const char *org, const char *id)
{
	sky_artifact_rec *a = NULL;
	if (!path || !e || !id)
		return sky_error_set(SKY_EINVALID, "path, engine and "
		                                   "artifact_id are required");
	*path = NULL;
	if (content_type)
		*content_type = NULL;
	int rc = sky_store_artifact_get(e->store, sky_engine__org_scope(e, org),
	                                id, &a);
	if (rc)
		return rc;
	/* The store refuses paths that climb out of the artifact root; a
	 * symlink planted inside it must not lead out either. */
	char *joined = skyx_asprintf("%s/%s", e->artifact_root, a->path);
	char *real = joined ? realpath(joined, NULL) : NULL;
	char *root = realpath(e->artifact_root, NULL);
	size_t rl = root ? strlen(root) : 0;
	if (!real || !root || strncmp(real, root, rl) || real[rl] != '/') {
		rc = sky_error_set(SKY_ENOTFOUND,
		                   "artifact %s: its file is "
		                   "missing or outside the artifact root",
		                   id);
	} else {
		*path = real;
		real = NULL;
		if (content_type)
			*content_type = skyx_strdup(mime_of(a->path));
	}
	free(joined);
	free(real);
	free(root);
	sky_artifact_rec_free(a);
	return rc;
}

int sky_url_sign(char **out_url, sky_engine *e, const char *path)
{
	if (!e || !path || !out_url)
		return sky_error_set(SKY_EINVALID,
		                     "engine, path and out_url are required");
	*out_url = sky_response_signed_url(&e->rctx, path);
	return *out_url ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_url_verify(sky_engine *e, const char *path, const char *expires,
                   const char *signature)
{
	if (!e || !path || !expires || !signature)
		return sky_error_set(SKY_EINVALID, "engine, path, expires and "
		                                   "signature are required");
	if (!sky_response_verify_url(&e->rctx, path, expires, signature))
		return sky_error_set(SKY_EAUTH, "invalid or expired signature");
	return 0;
}

/* jansson refuses invalid UTF-8; a receiver may answer anything. */
static json_t *safe_string(const char *s)
{
	json_t *v = json_string(s ? s : "");
	return v ? v : json_string("(response body is not UTF-8)");
}

int sky_tasks_api_run_webhook_send(char **out_json, sky_engine *e,
                                   const char *org, const char *run_id,
                                   const char *webhook_url,
                                   const char *signing_key)
{
	sky_task_rec *t = NULL;
	*out_json = NULL;
	int rc = sky_store_task_get(e->store, sky_engine__org_scope(e, org),
	                            run_id, &t);
	if (rc)
		return rc;
	const char *target =
	    webhook_url && *webhook_url ? webhook_url : t->webhook_url;
	if (!target) {
		sky_task_rec_free(t);
		*out_json =
		    skyx_strdup("{\"detail\":\"The run has no webhook_url "
		                "and none was given\"}");
		return sky_error_set(SKY_EINVALID, "no webhook URL");
	}
	json_t *payload = sky_response_webhook_payload(&e->rctx, t);
	char *body = sky_json_dumps(payload);
	char sig[SKYX_SHA256_HEX_LEN] = "", ts[32];
	const char *key = signing_key ? signing_key : e->webhook_key;
	if (key)
		skyx_hmac_sha256_hex(key, strlen(key), body, strlen(body), sig);
	snprintf(ts, sizeof ts, "%lld", (long long)(skyx_time_now_ms() / 1000));
	sky_http_header h[4] = {{"content-type", "application/json"},
	                        {"x-skyvern-timestamp", ts},
	                        {"user-agent", "skyengine/" SKY_VERSION_STRING},
	                        {"x-skyvern-signature", sig}};
	sky_http_request req = {.version = SKY_HTTP_REQUEST_VERSION};
	req.method = "POST";
	req.url = target;
	req.headers = h;
	req.n_headers = sig[0] ? 4 : 3;
	req.body = body;
	req.body_len = strlen(body);
	req.timeout_ms = e->webhook_timeout_ms;
	req.max_response_bytes = 1024 * 1024;
	sky_http_response *resp = NULL;
	char *err = NULL;
	int64_t t0 = skyx_time_mono_ms();
	int hrc = sky_http_client_call(e->http, &req, &resp, &err);
	json_t *headers = json_object();
	for (size_t i = 0; i < req.n_headers; i++)
		json_object_set_new(headers, h[i].name,
		                    json_string(h[i].value));
	json_t *report = json_pack(
	    "{s:s, s:s, s:s?, s:s, s:o, s:o, s:o, s:I, s:o, s:o}", "run_id",
	    t->task_id, "run_type", t->run_type, "default_webhook_url",
	    t->webhook_url, "target_webhook_url", target, "payload", payload,
	    "headers", headers, "status_code",
	    hrc ? json_null() : json_integer(resp->status), "latency_ms",
	    (json_int_t)(skyx_time_mono_ms() - t0), "response_body",
	    hrc ? json_null() : safe_string(resp->body), "error",
	    hrc ? json_string(err ? err : sky_strerror(hrc)) : json_null());
	*out_json = sky_json_dumps(report);
	json_decref(report);
	sky_http_response_free(resp);
	free(err);
	free(body);
	sky_task_rec_free(t);
	return 0;
}
