/*
 * LLM provider "openai": OpenAI-compatible POST {base_url}/chat/completions
 * (OpenAI, Azure OpenAI, vLLM, llama.cpp server, Ollama, OpenRouter) over
 * the host HTTP client. Configuration keys are in docs/llm.md.
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

#define NAME "llm-openai"
#define PROVIDER "openai"

enum fmt { FMT_JSON_SCHEMA, FMT_JSON_OBJECT, FMT_NONE };
enum auth { AUTH_BEARER, AUTH_API_KEY, AUTH_NONE };

struct inst {
	const sky_host_ctx *host; /* the engine's, from create() */
	char *url;                /* full endpoint, query included */
	char *url_shown;          /* for messages: without the query */
	char *model;
	char *key;     /* never logged */
	char *key_env; /* the variable it came from, for messages */
	enum auth auth;
	int vision;
	int has_temperature;
	double temperature;
	long max_tokens; /* 0: not sent */
	char *max_tokens_param;
	enum fmt format;
	char *image_detail; /* NULL: not sent */
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
	free(in->url_shown);
	free(in->model);
	if (in->key) {
		memset(in->key, 0, strlen(in->key));
		free(in->key);
	}
	free(in->key_env);
	free(in->max_tokens_param);
	free(in->image_detail);
	json_decref(in->extra_headers);
	json_decref(in->extra_body);
	free(in);
}

/* Reasoning models take max_completion_tokens and reject max_tokens. */
static const char *default_max_tokens_param(const char *model)
{
	const char *m = strrchr(model, '/') ? strrchr(model, '/') + 1 : model;
	if ((m[0] == 'o' && m[1] >= '1' && m[1] <= '9') ||
	    !strncasecmp(m, "gpt-5", 5))
		return "max_completion_tokens";
	return "max_tokens";
}

static int read_key(json_t *cfg, struct inst *in, char **err)
{
	char *key = llmc_cfg(in->host, cfg, "api_key");
	in->key_env = llmc_cfg(in->host, cfg, "api_key_env");
	if (!in->key_env)
		in->key_env = strdup("OPENAI_API_KEY");
	if (!key) {
		const char *e = getenv(in->key_env);
		key = e && *e ? strdup(e) : NULL;
	}
	in->key = key;
	(void)err;
	return 0;
}

static int read_config(json_t *cfg, struct inst *in, char **err)
{
	char *v;
	long n;
	char *base = llmc_cfg(in->host, cfg, "base_url");
	char *deployment = llmc_cfg(in->host, cfg, "deployment");
	char *api_version = llmc_cfg(in->host, cfg, "api_version");
	char *path;
	int rc = 0;

	if (!base)
		base = strdup("https://api.openai.com/v1");
	if (deployment) {
		/* Azure: {endpoint}/openai/deployments/{name}/chat/completions */
		char p[512];
		snprintf(p, sizeof p, "openai/deployments/%s/chat/completions",
		         deployment);
		path = strdup(p);
	} else {
		path = strdup("chat/completions");
	}
	in->url_shown = llmc_join_url(base, path);
	if (api_version) {
		size_t l = strlen(in->url_shown) + strlen(api_version) + 16;
		in->url = malloc(l);
		if (in->url)
			snprintf(in->url, l, "%s?api-version=%s", in->url_shown,
			         api_version);
	} else {
		in->url = in->url_shown ? strdup(in->url_shown) : NULL;
	}
	free(base);
	free(path);
	free(api_version);

	in->model = llmc_cfg(in->host, cfg, "model");
	if (!in->model)
		in->model = strdup(deployment ? deployment : "gpt-4o");
	free(deployment);

	v = llmc_cfg(in->host, cfg, "auth");
	if (!v && in->url && strstr(in->url, "api-version="))
		in->auth = AUTH_API_KEY;
	else if (!v || !strcasecmp(v, "bearer"))
		in->auth = AUTH_BEARER;
	else if (!strcasecmp(v, "api-key"))
		in->auth = AUTH_API_KEY;
	else if (!strcasecmp(v, "none"))
		in->auth = AUTH_NONE;
	else
		rc = llmc_fail(
		    err, SKY_EINVALID,
		    "config llm.auth must be bearer, api-key or none");
	free(v);
	if (rc)
		return rc;
	if (read_key(cfg, in, err))
		return SKY_EINVALID;

	if (llmc_cfg_bool(in->host, cfg, "vision", 1, &in->vision, err))
		return SKY_EINVALID;
	v = llmc_cfg(in->host, cfg, "temperature");
	if (v) {
		char *end;
		in->temperature = strtod(v, &end);
		in->has_temperature = 1;
		if (end == v || *end || in->temperature < 0)
			rc =
			    llmc_fail(err, SKY_EINVALID,
			              "config llm.temperature must be a number "
			              ">= 0");
		free(v);
		if (rc)
			return rc;
	}
	if (llmc_cfg_int(in->host, cfg, "max_tokens", 0, &in->max_tokens, err))
		return SKY_EINVALID;
	in->max_tokens_param = llmc_cfg(in->host, cfg, "max_tokens_param");
	if (!in->max_tokens_param)
		in->max_tokens_param =
		    strdup(default_max_tokens_param(in->model));

	v = llmc_cfg(in->host, cfg, "response_format");
	if (!v || !strcmp(v, "json_schema"))
		in->format = FMT_JSON_SCHEMA;
	else if (!strcmp(v, "json_object"))
		in->format = FMT_JSON_OBJECT;
	else if (!strcmp(v, "none") || !strcmp(v, "false"))
		in->format = FMT_NONE;
	else
		rc =
		    llmc_fail(err, SKY_EINVALID,
		              "config llm.response_format must be json_schema, "
		              "json_object or none");
	free(v);
	if (rc)
		return rc;
	in->image_detail = llmc_cfg(in->host, cfg, "image_detail");
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
	if (!in->url || !in->url_shown || !in->model || !in->key_env ||
	    !in->max_tokens_param)
		return llmc_fail(err, SKY_ENOMEM, "out of memory");
	return 0;
}

static int oa_create(const sky_host_ctx *host, const char *config_json,
                     void **instance, char **err)
{
	json_t *cfg = json_loads(config_json ? config_json : "{}", 0, NULL);
	struct inst *in = calloc(1, sizeof *in);
	int rc;
	*instance = NULL;
	if (!in) {
		json_decref(cfg);
		return llmc_fail(err, SKY_ENOMEM, "out of memory");
	}
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		inst_free(in);
		return llmc_fail(err, SKY_EINVALID,
		                 "openai: config is not a JSON object");
	}
	in->host = host;
	rc = read_config(cfg, in, err);
	json_decref(cfg);
	if (rc) {
		inst_free(in);
		return rc;
	}
	if (!in->key && in->auth != AUTH_NONE)
		llmc_api->log(in->host, SKY_HOST_LOG_INFO, PROVIDER,
		              "no API key in $%s: requests go without one "
		              "(fine for local servers)",
		              in->key_env);
	llmc_api->log(in->host, SKY_HOST_LOG_DEBUG, PROVIDER, "model %s at %s",
	              in->model, in->url_shown);
	*instance = in;
	return 0;
}

static void oa_destroy(void *instance)
{
	inst_free(instance);
}

static int oa_supports_vision(void *instance)
{
	return ((struct inst *)instance)->vision;
}

/* response_format's json_schema.name: ^[a-zA-Z0-9_-]{1,64}$ */
static json_t *schema_name(const char *purpose)
{
	char n[65];
	size_t i = 0;
	for (const char *p = purpose ? purpose : "answer"; *p && i < 64; p++)
		n[i++] = (char)((*p >= 'a' && *p <= 'z') ||
		                        (*p >= 'A' && *p <= 'Z') ||
		                        (*p >= '0' && *p <= '9') || *p == '-'
		                    ? *p
		                    : '_');
	n[i] = '\0';
	return json_string(i ? n : "answer");
}

static int build_body(const struct inst *in, const sky_llm_request *req,
                      char **out, char **err)
{
	json_t *body = json_object(), *msgs = json_array(), *user;
	*out = NULL;
	json_object_set_new(body, "model", json_string(in->model));
	if (req->system && *req->system) {
		json_t *m = json_object();
		json_object_set_new(m, "role", json_string("system"));
		json_object_set_new(m, "content", json_string(req->system));
		json_array_append_new(msgs, m);
	}
	user = json_object();
	json_object_set_new(user, "role", json_string("user"));
	if (in->vision && req->n_images) {
		json_t *parts = json_array(), *t = json_object();
		json_object_set_new(t, "type", json_string("text"));
		json_object_set_new(t, "text", json_string(req->prompt));
		json_array_append_new(parts, t);
		for (size_t i = 0; i < req->n_images; i++) {
			const sky_llm_image *im = &req->images[i];
			char *b64 = skyx_base64_encode(im->data, im->len);
			size_t ul = (b64 ? strlen(b64) : 0) + 64;
			char *url = malloc(ul);
			if (!b64 || !url) {
				free(b64);
				free(url);
				json_decref(parts);
				json_decref(user);
				json_decref(msgs);
				json_decref(body);
				return llmc_fail(err, SKY_ENOMEM,
				                 "out of memory");
			}
			snprintf(url, ul, "data:%s;base64,%s",
			         im->mime ? im->mime : "image/png", b64);
			json_t *iu = json_object(), *part = json_object();
			json_object_set_new(iu, "url", json_string(url));
			if (in->image_detail)
				json_object_set_new(
				    iu, "detail",
				    json_string(in->image_detail));
			json_object_set_new(part, "type",
			                    json_string("image_url"));
			json_object_set_new(part, "image_url", iu);
			json_array_append_new(parts, part);
			free(b64);
			free(url);
		}
		json_object_set_new(user, "content", parts);
	} else {
		json_object_set_new(user, "content", json_string(req->prompt));
	}
	json_array_append_new(msgs, user);
	json_object_set_new(body, "messages", msgs);
	if (in->has_temperature)
		json_object_set_new(body, "temperature",
		                    json_real(in->temperature));
	if (in->max_tokens > 0)
		json_object_set_new(body, in->max_tokens_param,
		                    json_integer(in->max_tokens));
	if (in->format == FMT_JSON_SCHEMA && req->response_schema_json) {
		json_t *schema = json_loads(req->response_schema_json, 0, NULL);
		if (!json_is_object(schema)) {
			json_decref(schema);
			json_decref(body);
			return llmc_fail(
			    err, SKY_EINVALID,
			    "openai: response_schema_json is not a "
			    "JSON object");
		}
		json_t *rf = json_object(), *js = json_object();
		json_object_set_new(js, "name", schema_name(req->purpose));
		json_object_set_new(js, "schema", schema);
		json_object_set_new(js, "strict", json_false());
		json_object_set_new(rf, "type", json_string("json_schema"));
		json_object_set_new(rf, "json_schema", js);
		json_object_set_new(body, "response_format", rf);
	} else if (in->format == FMT_JSON_OBJECT && req->response_schema_json) {
		json_t *rf = json_object();
		json_object_set_new(rf, "type", json_string("json_object"));
		json_object_set_new(body, "response_format", rf);
	}
	if (in->extra_body)
		json_object_update(body, in->extra_body);
	*out = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	return *out ? 0 : llmc_fail(err, SKY_ENOMEM, "out of memory");
}

/* message.content: a string, or an array of {"type":"text","text":...}. */
static char *content_text(json_t *content)
{
	if (json_is_string(content))
		return strdup(json_string_value(content));
	if (!json_is_array(content))
		return NULL;
	size_t total = 0, i;
	json_t *part;
	json_array_foreach (content, i, part) {
		const char *t =
		    json_string_value(json_object_get(part, "text"));
		total += t ? strlen(t) : 0;
	}
	char *out = malloc(total + 1), *p = out;
	if (!out)
		return NULL;
	json_array_foreach (content, i, part) {
		const char *t =
		    json_string_value(json_object_get(part, "text"));
		if (t) {
			memcpy(p, t, strlen(t));
			p += strlen(t);
		}
	}
	*p = '\0';
	return out;
}

static int64_t int_at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int parse_answer(const struct inst *in, const sky_http_response *r,
                        sky_llm_response *resp, char **err)
{
	json_error_t je;
	json_t *root = json_loadb(r->body, r->body_len, 0, &je);
	json_t *choices, *choice, *msg, *usage;
	const char *refusal, *finish;
	char *text;
	int rc = 0;

	if (!json_is_object(root)) {
		json_decref(root);
		return llmc_fail(err, SKY_ELLM,
		                 "openai: the response from %s is not a JSON "
		                 "object (status %d, %zu bytes, starts "
		                 "\"%.60s\")",
		                 in->url_shown, r->status, r->body_len,
		                 r->body);
	}
	choices = json_object_get(root, "choices");
	choice = json_array_get(choices, 0);
	if (!json_is_object(choice)) {
		char *why = llmc_error_text(r);
		rc = llmc_fail(err, SKY_ELLM,
		               "openai: the response has no choices%s%s",
		               why && *why && strcmp(why, r->body) ? ": " : "",
		               why && *why && strcmp(why, r->body) ? why : "");
		free(why);
		goto out;
	}
	msg = json_object_get(choice, "message");
	finish = json_string_value(json_object_get(choice, "finish_reason"));
	refusal = json_string_value(json_object_get(msg, "refusal"));
	if (refusal && *refusal) {
		rc = llmc_fail(err, SKY_ELLM, "openai: the model refused: %s",
		               refusal);
		goto out;
	}
	if (finish && !strcmp(finish, "content_filter")) {
		rc = llmc_fail(err, SKY_ELLM,
		               "openai: the answer was blocked by the "
		               "provider's content filter");
		goto out;
	}
	text = content_text(json_object_get(msg, "content"));
	if (!text || !*text) {
		free(text);
		rc = llmc_fail(err, SKY_ELLM,
		               "openai: the answer is empty (finish_reason "
		               "%s)%s",
		               finish ? finish : "none",
		               finish && !strcmp(finish, "length")
		                   ? ": max_tokens is too small"
		                   : "");
		goto out;
	}
	resp->text = llmc_host_strdup(text);
	free(text);
	resp->model =
	    llmc_host_strdup(json_string_value(json_object_get(root, "model")));
	resp->finish_reason = llmc_host_strdup(finish);
	usage = json_object_get(root, "usage");
	resp->input_tokens = int_at(usage, "prompt_tokens", NULL);
	resp->output_tokens = int_at(usage, "completion_tokens", NULL);
	resp->reasoning_tokens =
	    int_at(usage, "completion_tokens_details", "reasoning_tokens");
	resp->cached_tokens =
	    int_at(usage, "prompt_tokens_details", "cached_tokens");
	/* OpenRouter reports what the call cost. */
	json_t *cost = json_object_get(usage, "cost");
	resp->cost = json_is_number(cost) ? json_number_value(cost) : -1;
	if (!resp->text)
		rc = llmc_fail(err, SKY_ENOMEM, "out of memory");
out:
	json_decref(root);
	return rc;
}

#define MAX_HEADERS 40

static int oa_complete(void *instance, const sky_llm_request *req,
                       sky_llm_response *resp, char **err)
{
	struct inst *in = instance;
	sky_http_header h[MAX_HEADERS];
	size_t nh = 0;
	char *body = NULL, *auth = NULL;
	sky_http_response *r = NULL;
	int attempts = 0, rc;

	if (!req || !req->prompt)
		return llmc_fail(err, SKY_EINVALID, "openai: no prompt");
	if ((rc = build_body(in, req, &body, err)))
		return rc;
	h[nh++] = (sky_http_header){"Content-Type", "application/json"};
	h[nh++] = (sky_http_header){"Accept", "application/json"};
	if (in->key && in->auth == AUTH_BEARER) {
		size_t l = strlen(in->key) + 8;
		auth = malloc(l);
		if (auth)
			snprintf(auth, l, "Bearer %s", in->key);
		h[nh++] = (sky_http_header){"Authorization", auth};
	} else if (in->key && in->auth == AUTH_API_KEY) {
		h[nh++] = (sky_http_header){"api-key", in->key};
	}
	const char *hn;
	json_t *hv;
	json_object_foreach (in->extra_headers, hn, hv) {
		if (nh < MAX_HEADERS && json_is_string(hv))
			h[nh++] = (sky_http_header){hn, json_string_value(hv)};
	}
	if ((in->key && in->auth == AUTH_BEARER && !auth)) {
		free(body);
		return llmc_fail(err, SKY_ENOMEM, "out of memory");
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
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	free(body);
	if (rc)
		return rc;
	if (r->status < 200 || r->status > 299) {
		char hint[160];
		if (in->key)
			snprintf(hint, sizeof hint,
			         "check the API key (from $%s or llm.api_key)",
			         in->key_env);
		else
			snprintf(hint, sizeof hint,
			         "no API key was sent: set $%s (or "
			         "llm.api_key_env)",
			         in->key_env);
		rc = llmc_status_error(PROVIDER, r, attempts, in->model,
		                       in->url_shown, hint, err);
	} else {
		rc = parse_answer(in, r, resp, err);
	}
	llmc_api->http_response_free(r);
	return rc;
}

static const sky_llm_provider provider = {
    .name = PROVIDER,
    .create = oa_create,
    .destroy = oa_destroy,
    .complete = oa_complete,
    .supports_vision = oa_supports_vision,
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
		*err = api->strdup("llm-openai needs the host's HTTP client");
		return SKY_EPLUGIN;
	}
	llmc_api = api;
	return sky_register_llm(api, reg, &provider);
}
