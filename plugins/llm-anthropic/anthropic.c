/*
 * LLM provider "anthropic": the Messages API, POST {base_url}/v1/messages
 * with x-api-key and anthropic-version, over the host HTTP client.
 * Configuration keys are in docs/llm.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <skyengine/plugin/errors.h>
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>

#include <skyx/codec.h>

#include "llm_common.h"

#define PROVIDER "anthropic"
#define DEFAULT_MODEL "claude-sonnet-4-5"
#define DEFAULT_VERSION "2023-06-01"
/* The API requires max_tokens; enough for any answer the planner asks
 * for, small enough to fail fast on a runaway answer. */
#define DEFAULT_MAX_TOKENS 4096

struct inst {
	const sky_host_ctx *host; /* the engine's, from create() */
	char *url;
	char *model;
	char *key;
	char *key_env;
	char *version;
	long max_tokens;
	int has_temperature;
	double temperature;
	int vision;
	char *prefill; /* assistant prefill, e.g. "{"; NULL: none */
	json_t *extra_headers;
	json_t *extra_body;
	int use_env_proxy;
	long max_response_bytes;
	llmc_retry retry;
};

static void inst_free(struct inst *in)
{
	if (!in)
		return;
	free(in->url);
	free(in->model);
	if (in->key) {
		memset(in->key, 0, strlen(in->key));
		free(in->key);
	}
	free(in->key_env);
	free(in->version);
	free(in->prefill);
	json_decref(in->extra_headers);
	json_decref(in->extra_body);
	free(in);
}

static int read_config(json_t *cfg, struct inst *in, char **err)
{
	char *base = llmc_cfg(in->host, cfg, "base_url"), *v;
	int rc = 0;
	long n;
	if (!base)
		base = strdup("https://api.anthropic.com");
	/* Accept a base with or without the trailing /v1. */
	size_t bl = base ? strlen(base) : 0;
	while (bl && base[bl - 1] == '/')
		base[--bl] = '\0';
	int has_v1 = bl >= 3 && !strcmp(base + bl - 3, "/v1");
	in->url = base
	              ? llmc_join_url(base, has_v1 ? "messages" : "v1/messages")
	              : NULL;
	free(base);
	in->model = llmc_cfg(in->host, cfg, "model");
	if (!in->model)
		in->model = strdup(DEFAULT_MODEL);
	in->key = llmc_cfg(in->host, cfg, "api_key");
	in->key_env = llmc_cfg(in->host, cfg, "api_key_env");
	if (!in->key_env)
		in->key_env = strdup("ANTHROPIC_API_KEY");
	if (!in->key && in->key_env) {
		const char *e = getenv(in->key_env);
		in->key = e && *e ? strdup(e) : NULL;
	}
	in->version = llmc_cfg(in->host, cfg, "anthropic_version");
	if (!in->version)
		in->version = strdup(DEFAULT_VERSION);
	if (llmc_cfg_int(in->host, cfg, "max_tokens", DEFAULT_MAX_TOKENS,
	                 &in->max_tokens, err))
		return SKY_EINVALID;
	if (in->max_tokens <= 0)
		in->max_tokens = DEFAULT_MAX_TOKENS;
	v = llmc_cfg(in->host, cfg, "temperature");
	if (v) {
		char *end;
		in->temperature = strtod(v, &end);
		in->has_temperature = 1;
		if (end == v || *end || in->temperature < 0 ||
		    in->temperature > 1)
			rc =
			    llmc_fail(err, SKY_EINVALID,
			              "config llm.temperature must be a number "
			              "from 0 to 1");
		free(v);
		if (rc)
			return rc;
	}
	if (llmc_cfg_bool(in->host, cfg, "vision", 1, &in->vision, err))
		return SKY_EINVALID;
	in->prefill = llmc_cfg(in->host, cfg, "prefill");
	if (llmc_cfg_object(in->host, cfg, "extra_headers", &in->extra_headers,
	                    err) ||
	    llmc_cfg_object(in->host, cfg, "extra_body", &in->extra_body, err))
		return SKY_EINVALID;
	if (llmc_cfg_bool(in->host, cfg, "use_env_proxy", 1, &in->use_env_proxy,
	                  err))
		return SKY_EINVALID;
	if (llmc_cfg_int(in->host, cfg, "max_response_bytes", 16L << 20, &n,
	                 err))
		return SKY_EINVALID;
	in->max_response_bytes = n;
	if (llmc_retry_config(in->host, cfg, &in->retry, err))
		return SKY_EINVALID;
	if (!in->url || !in->model || !in->key_env || !in->version)
		return llmc_fail(err, SKY_ENOMEM, "out of memory");
	return 0;
}

static int an_create(const sky_host_ctx *host, const char *config_json,
                     void **instance, char **err)
{
	json_t *cfg = json_loads(config_json ? config_json : "{}", 0, NULL);
	struct inst *in = calloc(1, sizeof *in);
	int rc;
	*instance = NULL;
	if (!in || !json_is_object(cfg)) {
		json_decref(cfg);
		free(in);
		return llmc_fail(err, in ? SKY_EINVALID : SKY_ENOMEM,
		                 "anthropic: config is not a JSON object");
	}
	in->host = host;
	rc = read_config(cfg, in, err);
	json_decref(cfg);
	if (rc) {
		inst_free(in);
		return rc;
	}
	if (!in->key)
		llmc_api->log(in->host, SKY_HOST_LOG_WARN, PROVIDER,
		              "no API key in $%s: requests will be refused",
		              in->key_env);
	*instance = in;
	return 0;
}

static void an_destroy(void *instance)
{
	inst_free(instance);
}

static int an_supports_vision(void *instance)
{
	return ((struct inst *)instance)->vision;
}

static int build_body(const struct inst *in, const sky_llm_request *req,
                      char **out, char **err)
{
	json_t *body = json_object(), *msgs = json_array(), *user;
	*out = NULL;
	json_object_set_new(body, "model", json_string(in->model));
	json_object_set_new(body, "max_tokens", json_integer(in->max_tokens));
	if (req->system && *req->system)
		json_object_set_new(body, "system", json_string(req->system));
	user = json_object();
	json_object_set_new(user, "role", json_string("user"));
	if (in->vision && req->n_images) {
		/* Images first: Anthropic's guidance for image + question. */
		json_t *parts = json_array();
		for (size_t i = 0; i < req->n_images; i++) {
			const sky_llm_image *im = &req->images[i];
			char *b64 = skyx_base64_encode(im->data, im->len);
			if (!b64) {
				json_decref(parts);
				json_decref(user);
				json_decref(msgs);
				json_decref(body);
				return llmc_fail(err, SKY_ENOMEM,
				                 "out of memory");
			}
			json_t *src = json_object(), *blk = json_object();
			json_object_set_new(src, "type", json_string("base64"));
			json_object_set_new(
			    src, "media_type",
			    json_string(im->mime ? im->mime : "image/png"));
			json_object_set_new(src, "data", json_string(b64));
			json_object_set_new(blk, "type", json_string("image"));
			json_object_set_new(blk, "source", src);
			json_array_append_new(parts, blk);
			free(b64);
		}
		json_t *t = json_object();
		json_object_set_new(t, "type", json_string("text"));
		json_object_set_new(t, "text", json_string(req->prompt));
		json_array_append_new(parts, t);
		json_object_set_new(user, "content", parts);
	} else {
		json_object_set_new(user, "content", json_string(req->prompt));
	}
	json_array_append_new(msgs, user);
	if (in->prefill && *in->prefill) {
		json_t *a = json_object();
		json_object_set_new(a, "role", json_string("assistant"));
		json_object_set_new(a, "content", json_string(in->prefill));
		json_array_append_new(msgs, a);
	}
	json_object_set_new(body, "messages", msgs);
	if (in->has_temperature)
		json_object_set_new(body, "temperature",
		                    json_real(in->temperature));
	if (in->extra_body)
		json_object_update(body, in->extra_body);
	*out = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	return *out ? 0 : llmc_fail(err, SKY_ENOMEM, "out of memory");
}

/* Anthropic's stop_reason in the engine's words ("stop", "length"). */
static const char *finish_reason(const char *stop)
{
	if (!stop)
		return NULL;
	if (!strcmp(stop, "end_turn") || !strcmp(stop, "stop_sequence"))
		return "stop";
	if (!strcmp(stop, "max_tokens"))
		return "length";
	return stop;
}

static int64_t int_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* The text of a "text" block; "" for thinking, tool_use and others. */
static const char *block_text(json_t *blk)
{
	const char *type = json_string_value(json_object_get(blk, "type"));
	const char *t = json_string_value(json_object_get(blk, "text"));
	return type && t && !strcmp(type, "text") ? t : "";
}

static int parse_answer(const struct inst *in, const sky_http_response *r,
                        sky_llm_response *resp, char **err)
{
	json_t *root = json_loadb(r->body, r->body_len, 0, NULL);
	json_t *content, *blk, *usage;
	const char *stop;
	size_t i, total = 0;
	int rc = 0;

	if (!json_is_object(root)) {
		json_decref(root);
		return llmc_fail(err, SKY_ELLM,
		                 "anthropic: the response from %s is not a "
		                 "JSON object (status %d, %zu bytes, starts "
		                 "\"%.60s\")",
		                 in->url, r->status, r->body_len, r->body);
	}
	stop = json_string_value(json_object_get(root, "stop_reason"));
	content = json_object_get(root, "content");
	json_array_foreach (content, i, blk) {
		total += strlen(block_text(blk));
	}
	if (stop && !strcmp(stop, "refusal")) {
		rc = llmc_fail(err, SKY_ELLM,
		               "anthropic: the model refused to answer "
		               "(stop_reason refusal)");
		goto out;
	}
	if (!json_is_array(content) || total == 0) {
		rc = llmc_fail(err, SKY_ELLM,
		               "anthropic: the answer has no text (stop_reason "
		               "%s)%s",
		               stop ? stop : "none",
		               stop && !strcmp(stop, "max_tokens")
		                   ? ": max_tokens is too small"
		                   : "");
		goto out;
	}
	size_t pl = in->prefill ? strlen(in->prefill) : 0;
	char *text = llmc_api->alloc(pl + total + 1), *p = text;
	if (!text) {
		rc = llmc_fail(err, SKY_ENOMEM, "out of memory");
		goto out;
	}
	/* With a prefill the model continues it: the answer starts there. */
	if (pl) {
		memcpy(p, in->prefill, pl);
		p += pl;
	}
	json_array_foreach (content, i, blk) {
		const char *t = block_text(blk);
		memcpy(p, t, strlen(t));
		p += strlen(t);
	}
	*p = '\0';
	resp->text = text;
	resp->model =
	    llmc_host_strdup(json_string_value(json_object_get(root, "model")));
	resp->finish_reason = llmc_host_strdup(finish_reason(stop));
	usage = json_object_get(root, "usage");
	/* The engine counts cached tokens as part of the input, as OpenAI
	 * does; Anthropic reports them beside it. */
	int64_t cache_read = int_at(usage, "cache_read_input_tokens");
	int64_t cache_write = int_at(usage, "cache_creation_input_tokens");
	resp->input_tokens =
	    int_at(usage, "input_tokens") + cache_read + cache_write;
	resp->cached_tokens = cache_read;
	resp->output_tokens = int_at(usage, "output_tokens");
	resp->reasoning_tokens = 0; /* not reported separately */
	resp->cost = -1;
out:
	json_decref(root);
	return rc;
}

#define MAX_HEADERS 40

static int an_complete(void *instance, const sky_llm_request *req,
                       sky_llm_response *resp, char **err)
{
	struct inst *in = instance;
	sky_http_header h[MAX_HEADERS];
	size_t nh = 0;
	char *body = NULL;
	sky_http_response *r = NULL;
	int attempts = 0, rc;

	if (!req || !req->prompt)
		return llmc_fail(err, SKY_EINVALID, "anthropic: no prompt");
	if (!in->key)
		return llmc_fail(err, SKY_EAUTH,
		                 "anthropic: no API key: set $%s (or "
		                 "llm.api_key_env)",
		                 in->key_env);
	if ((rc = build_body(in, req, &body, err)))
		return rc;
	h[nh++] = (sky_http_header){"Content-Type", "application/json"};
	h[nh++] = (sky_http_header){"Accept", "application/json"};
	h[nh++] = (sky_http_header){"x-api-key", in->key};
	h[nh++] = (sky_http_header){"anthropic-version", in->version};
	const char *hn;
	json_t *hv;
	json_object_foreach (in->extra_headers, hn, hv) {
		if (nh < MAX_HEADERS && json_is_string(hv))
			h[nh++] = (sky_http_header){hn, json_string_value(hv)};
	}
	llmc_post p = {
	    .host = in->host,
	    .provider = PROVIDER,
	    .url = in->url,
	    .headers = h,
	    .n_headers = nh,
	    .body = body,
	    .body_len = strlen(body),
	    .timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : 120000,
	    .max_response_bytes = (size_t)in->max_response_bytes,
	    .use_env_proxy = in->use_env_proxy,
	    .retry = &in->retry,
	};
	rc = llmc_post_json(&p, &r, &attempts, err);
	free(body);
	if (rc)
		return rc;
	if (r->status < 200 || r->status > 299) {
		char hint[160];
		snprintf(hint, sizeof hint,
		         "check the API key (from $%s or llm.api_key)",
		         in->key_env);
		rc = llmc_status_error(PROVIDER, r, attempts, in->model,
		                       in->url, hint, err);
	} else {
		rc = parse_answer(in, r, resp, err);
	}
	llmc_api->http_response_free(r);
	return rc;
}

static const sky_llm_provider provider = {
    .name = PROVIDER,
    .create = an_create,
    .destroy = an_destroy,
    .complete = an_complete,
    .supports_vision = an_supports_vision,
};

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	if (!SKY_HOST_HAS(api, http_request)) {
		*err =
		    api->strdup("llm-anthropic needs the host's HTTP client");
		return SKY_EPLUGIN;
	}
	llmc_api = api;
	return sky_register_llm(api, reg, &provider);
}
