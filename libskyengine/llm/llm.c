/* The engine's side of LLM calls: provider instances, deadlines, token
 * and cost accounting, record mode (see llm.h). */
#include "llm/llm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skyx/prompt_hash.h>
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define LOG "llm"
#define DEFAULT_TIMEOUT_MS 120000

struct sky_llm {
	char *name;
	const sky_llm_provider *vt;
	void *inst;
	sky_llm_prices *prices;
	char *model; /* configured model, for pricing */
	int timeout_ms;
	char *record_path;
	int record_fd; /* -1 until the first write */
	pthread_mutex_t record_lock;
	char *secrets[4];
	size_t n_secrets;
};

void sky_llm_usage_add(sky_llm_usage *acc, const sky_llm_usage *u)
{
	if (!acc || !u)
		return;
	acc->calls += u->calls;
	acc->input_tokens += u->input_tokens;
	acc->output_tokens += u->output_tokens;
	acc->reasoning_tokens += u->reasoning_tokens;
	acc->cached_tokens += u->cached_tokens;
	acc->cost_usd += u->cost_usd;
	acc->unpriced_calls += u->unpriced_calls;
}

void sky_llm_result_free(sky_llm_result *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->model);
	free(r->finish_reason);
	free(r);
}

const char *sky_llm_name(const sky_llm *llm)
{
	return llm ? llm->name : NULL;
}

int sky_llm_supports_vision(const sky_llm *llm)
{
	if (!llm)
		return 0;
	if (!llm->vt->supports_vision)
		return 1; /* the provider decides per request */
	return llm->vt->supports_vision(llm->inst);
}

/* A string from the "llm" section, else the environment; malloc'd. */
static char *cfg_str(json_t *llm, const char *key, const char *env)
{
	json_t *v = json_object_get(llm, key);
	if (json_is_string(v) && *json_string_value(v))
		return skyx_strdup(json_string_value(v));
	if (json_is_number(v) || json_is_boolean(v) || json_is_object(v) ||
	    json_is_array(v))
		return sky_json_dumps(v);
	const char *e = env ? getenv(env) : NULL;
	return e && *e ? skyx_strdup(e) : NULL;
}

static void keep_secret(sky_llm *llm, const char *s)
{
	if (!s || strlen(s) < 4 || llm->n_secrets >= 4)
		return;
	char *copy = skyx_strdup(s);
	if (!copy)
		return;
	sky_secret_register(copy);
	llm->secrets[llm->n_secrets++] = copy;
}

/* Keys the providers will read, so that no log line or error can show
 * them even when a plugin quotes a server's message. */
static void register_keys(sky_llm *llm, json_t *sec)
{
	keep_secret(llm, getenv("OPENAI_API_KEY"));
	keep_secret(llm, getenv("ANTHROPIC_API_KEY"));
	char *env_name =
	    cfg_str(sec, "api_key_env", "SKYENGINE_LLM_API_KEY_ENV");
	if (env_name)
		keep_secret(llm, getenv(env_name));
	free(env_name);
	char *key = cfg_str(sec, "api_key", "SKYENGINE_LLM_API_KEY");
	keep_secret(llm, key);
	free(key);
}

void sky_llm_close(sky_llm *llm)
{
	if (!llm)
		return;
	if (llm->inst)
		llm->vt->destroy(llm->inst);
	if (llm->record_fd >= 0)
		close(llm->record_fd);
	for (size_t i = 0; i < llm->n_secrets; i++) {
		sky_secret_unregister(llm->secrets[i]);
		free(llm->secrets[i]);
	}
	sky_llm_prices_free(llm->prices);
	pthread_mutex_destroy(&llm->record_lock);
	free(llm->name);
	free(llm->model);
	free(llm->record_path);
	free(llm);
}

int sky_llm_open(sky_plugins *plugins, const char *name,
                 const char *config_json, sky_llm **out)
{
	json_t *cfg = NULL, *sec;
	char *sec_text = NULL, *err = NULL, *prices = NULL, *tmo = NULL;
	int rc;

	if (!out)
		return sky_error_set(SKY_EINVALID, "out is NULL");
	*out = NULL;
	if (!plugins || !name || !*name)
		return sky_error_set(SKY_EINVALID,
		                     "no LLM provider name given");
	if (config_json && *config_json) {
		cfg = sky_json_loads(config_json);
		if (!json_is_object(cfg)) {
			json_decref(cfg);
			return sky_error_set(
			    SKY_EINVALID, "engine config is not a JSON object");
		}
	}
	sec = json_object_get(cfg, "llm");
	if (sec && !json_is_object(sec)) {
		json_decref(cfg);
		return sky_error_set(SKY_EINVALID,
		                     "config \"llm\" must be an object");
	}

	sky_llm *llm = calloc(1, sizeof *llm);
	if (!llm) {
		json_decref(cfg);
		return sky_error_from_code(SKY_ENOMEM);
	}
	llm->record_fd = -1;
	pthread_mutex_init(&llm->record_lock, NULL);
	llm->name = skyx_strdup(name);
	llm->model = cfg_str(sec, "model", "SKYENGINE_LLM_MODEL");
	llm->record_path = cfg_str(sec, "record", "SKYENGINE_LLM_RECORD");
	tmo = cfg_str(sec, "timeout_ms", "SKYENGINE_LLM_TIMEOUT_MS");
	llm->timeout_ms = tmo && atoi(tmo) > 0 ? atoi(tmo) : DEFAULT_TIMEOUT_MS;
	free(tmo);
	register_keys(llm, sec);

	prices = cfg_str(sec, "prices", "SKYENGINE_LLM_PRICES");
	rc = sky_llm_prices_new(prices, &llm->prices);
	free(prices);
	if (rc)
		goto fail;

	llm->vt = sky_plugins_llm(plugins, name);
	if (!llm->vt) {
		rc = sky_error_wrap(SKY_EPLUGIN, "LLM provider '%s'", name);
		goto fail;
	}
	sec_text = sec ? sky_json_dumps(sec) : skyx_strdup("{}");
	rc = llm->vt->create(sky_plugins_ctx(plugins, llm->vt), sec_text,
	                     &llm->inst, &err);
	if (rc) {
		char *clean = sky_redact(err ? err : sky_strerror(rc));
		rc = sky_error_set(rc, "LLM provider '%s': %s", name,
		                   clean ? clean : "create failed");
		free(clean);
		free(err);
		llm->inst = NULL;
		goto fail;
	}
	free(err);
	free(sec_text);
	json_decref(cfg);
	if (llm->record_path)
		sky_log_info(LOG, "recording %s answers to %s", name,
		             llm->record_path);
	*out = llm;
	return 0;
fail:
	free(sec_text);
	json_decref(cfg);
	sky_llm_close(llm);
	return rc;
}

static int recordable(const sky_llm *llm, const sky_llm_request *req)
{
	/* A parsed verification code is never written to a file. */
	return llm->record_path && strcmp(llm->name, "replay") &&
	       strcmp(llm->name, "rules") &&
	       !skyx_str_eq(req->purpose, SKY_LLM_PURPOSE_PARSE_CODE);
}

/* One line in the llm-replay plugin's format (docs/llm.md). */
static void record(sky_llm *llm, const sky_llm_request *req,
                   const sky_llm_result *res)
{
	char hash[SKYX_PROMPT_HASH_LEN], iso[SKYX_ISO_LEN];
	char *answer = sky_redact(res->text);
	json_t *line = json_object(), *tok = json_object();
	json_object_set_new(line, "purpose",
	                    sky_json_str_or_null(req->purpose));
	json_object_set_new(line, "order", json_integer(req->step_order));
	json_object_set_new(line, "retry", json_integer(req->retry_index));
	json_object_set_new(line, "prompt_hash",
	                    sky_json_str_or_null(skyx_prompt_hash(
	                        req->system, req->prompt, hash)));
	json_object_set_new(line, "answer", sky_json_str_or_null(answer));
	json_object_set_new(line, "model", sky_json_str_or_null(res->model));
	json_object_set_new(line, "finish_reason",
	                    sky_json_str_or_null(res->finish_reason));
	json_object_set_new(tok, "input",
	                    json_integer(res->usage.input_tokens));
	json_object_set_new(tok, "output",
	                    json_integer(res->usage.output_tokens));
	json_object_set_new(tok, "reasoning",
	                    json_integer(res->usage.reasoning_tokens));
	json_object_set_new(tok, "cached",
	                    json_integer(res->usage.cached_tokens));
	json_object_set_new(line, "tokens", tok);
	json_object_set_new(line, "provider", json_string(llm->name));
	json_object_set_new(line, "run_id", sky_json_str_or_null(req->run_id));
	json_object_set_new(
	    line, "recorded_at",
	    json_string(skyx_time_iso(skyx_time_now_ms(), iso)));
	char *text = sky_json_dumps(line);
	json_decref(line);
	free(answer);
	if (!text) {
		sky_log_error(LOG, "cannot record an answer: out of memory");
		return;
	}
	size_t n = strlen(text);
	text[n] = '\n'; /* replaces the NUL; written with its length */

	pthread_mutex_lock(&llm->record_lock);
	if (llm->record_fd < 0)
		llm->record_fd =
		    open(llm->record_path,
		         O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	/* One write() per line: O_APPEND keeps concurrent lines whole. */
	ssize_t w =
	    llm->record_fd >= 0 ? write(llm->record_fd, text, n + 1) : -1;
	int e = errno;
	pthread_mutex_unlock(&llm->record_lock);
	if (w != (ssize_t)(n + 1))
		sky_log_error(LOG, "cannot record an answer to %s: %s",
		              llm->record_path, strerror(e));
	free(text);
}

static void response_clear(sky_llm_response *r)
{
	sky_plugin_free(r->text);
	sky_plugin_free(r->model);
	sky_plugin_free(r->finish_reason);
	memset(r, 0, sizeof *r);
}

static void price(const sky_llm *llm, const sky_llm_response *resp,
                  sky_llm_result *res)
{
	double usd;
	if (resp->cost >= 0) {
		res->usage.cost_usd = resp->cost;
		res->cost_source = SKY_LLM_COST_PROVIDER;
	} else if (sky_llm_prices_cost(llm->prices, res->model, &res->usage,
	                               &usd) == 0) {
		res->usage.cost_usd = usd;
		res->cost_source = SKY_LLM_COST_TABLE;
	} else {
		res->usage.unpriced_calls = 1;
		res->cost_source = SKY_LLM_COST_UNKNOWN;
	}
}

int sky_llm_complete(sky_llm *llm, const sky_llm_request *req,
                     int64_t deadline_ms, sky_llm_result **out)
{
	sky_llm_response resp;
	sky_llm_request r;
	char *err = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (!llm || !req || !out || !req->prompt)
		return sky_error_set(SKY_EINVALID,
		                     "LLM request: NULL argument or prompt");
	if (req->version < 1)
		return sky_error_set(SKY_EINVALID,
		                     "sky_llm_request.version is %u",
		                     req->version);
	r = *req;
	r.timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : llm->timeout_ms;
	if (deadline_ms > 0) {
		int64_t left = deadline_ms - skyx_time_mono_ms();
		if (left <= 0)
			return sky_error_set(
			    SKY_ETIMEDOUT,
			    "llm %s: the deadline passed before "
			    "the %s call",
			    llm->name, req->purpose ? req->purpose : "");
		if (left < r.timeout_ms)
			r.timeout_ms = (int)left;
	}
	if (r.n_images && !sky_llm_supports_vision(llm)) {
		sky_log_debug(LOG, "%s: dropping %zu image(s): vision is off",
		              llm->name, r.n_images);
		r.images = NULL;
		r.n_images = 0;
	}

	memset(&resp, 0, sizeof resp);
	resp.cost = -1;
	int64_t t0 = skyx_time_mono_ms();
	rc = llm->vt->complete(llm->inst, &r, &resp, &err);
	int64_t took = skyx_time_mono_ms() - t0;
	if (rc == 0 && !resp.text) {
		rc = SKY_ELLM;
		err = err ? err : skyx_strdup("the provider returned no text");
	}
	if (rc) {
		char *clean = sky_redact(err ? err : sky_strerror(rc));
		sky_error_set(rc, "llm %s (%s): %s", llm->name,
		              req->purpose ? req->purpose : "?",
		              clean ? clean : sky_strerror(rc));
		free(clean);
		sky_plugin_free(err);
		response_clear(&resp);
		return rc;
	}
	sky_plugin_free(err);

	sky_llm_result *res = calloc(1, sizeof *res);
	if (!res) {
		response_clear(&resp);
		return sky_error_from_code(SKY_ENOMEM);
	}
	res->text = skyx_strdup(resp.text);
	res->model = skyx_strdup(resp.model ? resp.model : llm->model);
	res->finish_reason = skyx_strdup(resp.finish_reason);
	res->truncated =
	    resp.finish_reason && (!strcmp(resp.finish_reason, "length") ||
	                           !strcmp(resp.finish_reason, "max_tokens"));
	res->usage.calls = 1;
	res->usage.input_tokens = resp.input_tokens;
	res->usage.output_tokens = resp.output_tokens;
	res->usage.reasoning_tokens = resp.reasoning_tokens;
	res->usage.cached_tokens = resp.cached_tokens;
	res->duration_ms = took;
	price(llm, &resp, res);
	response_clear(&resp);
	if (!res->text) {
		sky_llm_result_free(res);
		return sky_error_from_code(SKY_ENOMEM);
	}
	if (res->truncated)
		sky_log_warn(LOG,
		             "%s: %s answer was cut at the output token "
		             "limit (%lld tokens)",
		             llm->name, req->purpose ? req->purpose : "?",
		             (long long)res->usage.output_tokens);
	if (deadline_ms > 0 && skyx_time_mono_ms() > deadline_ms + 1000)
		sky_log_warn(LOG,
		             "provider %s answered %lld ms after the "
		             "deadline: it does not honour timeout_ms",
		             llm->name,
		             (long long)(skyx_time_mono_ms() - deadline_ms));
	if (recordable(llm, req))
		record(llm, req, res);
	*out = res;
	return 0;
}
