/*
 * LLM provider "replay": answers from a JSONL file, as record mode writes
 * it (libskyengine/llm, docs/llm.md), keyed by the normalized prompt's
 * hash or by purpose + step order + retry index, optionally falling back
 * to the next unused answer of the purpose. Deterministic tests and
 * benchmarks run the whole agent on it.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <skyengine/plugin/errors.h>
#include <skyengine/plugin/llm.h>
#include <skyengine/plugin/plugin.h>

#include <skyx/prompt_hash.h>

#define PROVIDER "replay"

static const sky_host_api *host;

struct entry {
	char *purpose;
	int order; /* -1: not keyed by step */
	int retry;
	char *hash; /* NULL: not keyed by prompt */
	char *answer;
	char *model;
	char *finish_reason;
	int64_t input, output, reasoning, cached;
	int line;
	int uses;
};

enum match { MATCH_AUTO, MATCH_HASH, MATCH_STEP };

struct inst {
	const sky_host_ctx *ctx; /* the engine's, from create() */
	char *path;
	struct entry *e;
	size_t n;
	int strict;
	int sequential;
	long latency_ms;
	enum match match;
	pthread_mutex_t lock; /* uses */
};

static int fail(char **err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(char **err, int code, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (err)
		*err = host->strdup(buf);
	return code;
}

/* Config key from the "llm" object, else the host (engine config, then
 * $SKYENGINE_LLM_<KEY>); malloc'd. */
static char *cfg(const sky_host_ctx *ctx, json_t *c, const char *key)
{
	json_t *v = json_object_get(c, key);
	char full[64], *h, *out = NULL;
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (v && !json_is_null(v))
		return json_dumps(v, JSON_ENCODE_ANY);
	snprintf(full, sizeof full, "llm.%s", key);
	h = host->config_get(ctx, full);
	if (h && *h)
		out = strdup(h);
	host->free(h);
	return out;
}

static int cfg_bool(const sky_host_ctx *ctx, json_t *c, const char *key,
                    int dflt)
{
	char *v = cfg(ctx, c, key);
	int r = dflt;
	if (v)
		r = !strcasecmp(v, "true") || !strcmp(v, "1") ||
		    !strcasecmp(v, "yes") || !strcasecmp(v, "on");
	free(v);
	return r;
}

static void inst_free(struct inst *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++) {
		free(in->e[i].purpose);
		free(in->e[i].hash);
		free(in->e[i].answer);
		free(in->e[i].model);
		free(in->e[i].finish_reason);
	}
	free(in->e);
	free(in->path);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

static char *dup_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? strdup(s) : NULL;
}

static int64_t tok(json_t *o, const char *k)
{
	json_t *v = json_object_get(json_object_get(o, "tokens"), k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int add_line(struct inst *in, const char *text, int line, char **err)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return fail(err, SKY_EPARSE,
		            "replay: %s line %d is not a JSON object: %s",
		            in->path, line, je.text);
	}
	json_t *ans = json_object_get(o, "answer");
	const char *purpose = json_string_value(json_object_get(o, "purpose"));
	if (!purpose || (!json_is_string(ans) && !json_is_object(ans) &&
	                 !json_is_array(ans))) {
		json_decref(o);
		return fail(err, SKY_EPARSE,
		            "replay: %s line %d needs \"purpose\" (string) and "
		            "\"answer\" (string, or JSON written inline)",
		            in->path, line);
	}
	struct entry *ne = realloc(in->e, (in->n + 1) * sizeof *ne);
	if (!ne) {
		json_decref(o);
		return fail(err, SKY_ENOMEM, "out of memory");
	}
	in->e = ne;
	struct entry *e = &in->e[in->n++];
	memset(e, 0, sizeof *e);
	e->line = line;
	e->purpose = strdup(purpose);
	json_t *ord = json_object_get(o, "order");
	e->order = json_is_integer(ord) ? (int)json_integer_value(ord) : -1;
	json_t *ret = json_object_get(o, "retry");
	e->retry = json_is_integer(ret) ? (int)json_integer_value(ret) : 0;
	e->hash = dup_str(o, "prompt_hash");
	/* Hand-written files may give the answer as inline JSON. */
	e->answer = json_is_string(ans)
	                ? strdup(json_string_value(ans))
	                : json_dumps(ans, JSON_COMPACT | JSON_PRESERVE_ORDER);
	e->model = dup_str(o, "model");
	e->finish_reason = dup_str(o, "finish_reason");
	e->input = tok(o, "input");
	e->output = tok(o, "output");
	e->reasoning = tok(o, "reasoning");
	e->cached = tok(o, "cached");
	json_decref(o);
	if (!e->purpose || !e->answer)
		return fail(err, SKY_ENOMEM, "out of memory");
	return 0;
}

static int load_file(struct inst *in, char **err)
{
	FILE *f = fopen(in->path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int no = 0, rc = 0;
	if (!f)
		return fail(err, SKY_ENOTFOUND, "replay: cannot open %s: %s",
		            in->path, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		no++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		const char *p = line + strspn(line, " \t");
		if (!*p || *p == '#') /* blank lines and comments */
			continue;
		if ((rc = add_line(in, p, no, err)))
			break;
	}
	free(line);
	fclose(f);
	if (!rc && in->n == 0)
		rc = fail(err, SKY_EINVALID, "replay: %s has no answers",
		          in->path);
	return rc;
}

static int rp_create(const sky_host_ctx *ctx, const char *config_json,
                     void **instance, char **err)
{
	json_t *c = json_loads(config_json ? config_json : "{}", 0, NULL);
	struct inst *in = calloc(1, sizeof *in);
	char *v;
	int rc = 0;
	*instance = NULL;
	if (!in) {
		json_decref(c);
		return fail(err, SKY_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&in->lock, NULL);
	in->ctx = ctx;
	in->path = cfg(ctx, c, "replay_file");
	in->strict = cfg_bool(ctx, c, "replay_strict", 1);
	in->sequential = cfg_bool(ctx, c, "replay_sequential", 0);
	v = cfg(ctx, c, "replay_latency_ms");
	in->latency_ms = v ? atol(v) : 0;
	free(v);
	v = cfg(ctx, c, "replay_match");
	if (!v || !strcmp(v, "auto"))
		in->match = MATCH_AUTO;
	else if (!strcmp(v, "hash"))
		in->match = MATCH_HASH;
	else if (!strcmp(v, "step"))
		in->match = MATCH_STEP;
	else
		rc =
		    fail(err, SKY_EINVALID,
		         "replay: llm.replay_match must be auto, hash or step");
	free(v);
	json_decref(c);
	if (!rc && !in->path)
		rc = fail(err, SKY_EINVALID,
		          "replay: no answers file: set llm.replay_file or "
		          "$SKYENGINE_LLM_REPLAY_FILE");
	if (!rc)
		rc = load_file(in, err);
	if (rc) {
		inst_free(in);
		return rc;
	}
	host->log(in->ctx, SKY_HOST_LOG_INFO, PROVIDER,
	          "%zu answers from %s (%s)", in->n, in->path,
	          in->strict ? "strict" : "lenient");
	*instance = in;
	return 0;
}

static void rp_destroy(void *instance)
{
	inst_free(instance);
}

/* First unused candidate, else the last used one (a repeated prompt gets
 * the same answer again). */
static struct entry *pick(struct entry **c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!c[i]->uses)
			return c[i];
	return n ? c[n - 1] : NULL;
}

static int hash_ok(const struct inst *in, const struct entry *e,
                   const char *hash)
{
	return !in->strict || !e->hash || !strcmp(e->hash, hash);
}

/* Find the answer; in->lock held. NULL with *why set on a miss. */
static struct entry *find(struct inst *in, const sky_llm_request *req,
                          const char *hash, const char **why)
{
	struct entry **cand = malloc((in->n + 1) * sizeof *cand);
	struct entry *e = NULL;
	size_t nc = 0;
	const char *purpose = req->purpose ? req->purpose : "";
	*why = "no recorded answer";
	if (!cand)
		return NULL;
	if (in->match != MATCH_STEP) {
		for (size_t i = 0; i < in->n; i++)
			if (in->e[i].hash && !strcmp(in->e[i].hash, hash) &&
			    !strcmp(in->e[i].purpose, purpose))
				cand[nc++] = &in->e[i];
		e = pick(cand, nc);
	}
	if (!e && in->match != MATCH_HASH && req->step_order >= 0) {
		int drift = 0;
		nc = 0;
		for (size_t i = 0; i < in->n; i++) {
			struct entry *x = &in->e[i];
			if (x->order != req->step_order ||
			    x->retry != req->retry_index ||
			    strcmp(x->purpose, purpose))
				continue;
			if (hash_ok(in, x, hash))
				cand[nc++] = x;
			else
				drift = 1;
		}
		e = pick(cand, nc);
		if (!e && drift)
			*why = "the recorded answer for this step was for a "
			       "different prompt (strict mode)";
	}
	if (!e && in->sequential) {
		for (size_t i = 0; i < in->n && !e; i++) {
			struct entry *x = &in->e[i];
			if (!x->uses && !strcmp(x->purpose, purpose) &&
			    hash_ok(in, x, hash))
				e = x;
		}
		if (!e)
			*why =
			    "no unused recorded answer left for this purpose";
	}
	free(cand);
	return e;
}

static int rp_complete(void *instance, const sky_llm_request *req,
                       sky_llm_response *resp, char **err)
{
	struct inst *in = instance;
	char hash[SKYX_PROMPT_HASH_LEN];
	const char *why;
	struct entry copy;
	int rc = 0;

	if (!req || !req->prompt)
		return fail(err, SKY_EINVALID, "replay: no prompt");
	if (!skyx_prompt_hash(req->system, req->prompt, hash))
		return fail(err, SKY_ENOMEM, "out of memory");
	pthread_mutex_lock(&in->lock);
	struct entry *e = find(in, req, hash, &why);
	if (e) {
		e->uses++;
		copy = *e;
	}
	pthread_mutex_unlock(&in->lock);
	if (!e)
		return fail(err, SKY_ENOTFOUND,
		            "replay: %s for purpose=%s step=%d retry=%d "
		            "hash=%s in %s",
		            why, req->purpose ? req->purpose : "(none)",
		            req->step_order, req->retry_index, hash, in->path);

	if (in->latency_ms > 0) {
		long ms = in->latency_ms;
		if (req->timeout_ms > 0 && ms > req->timeout_ms) {
			ms = req->timeout_ms;
			rc = SKY_ETIMEDOUT;
		}
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		if (rc)
			return fail(err, rc,
			            "replay: latency %ld ms is over the call's "
			            "timeout of %d ms",
			            in->latency_ms, req->timeout_ms);
	}
	resp->text = host->strdup(copy.answer);
	resp->model = host->strdup(copy.model ? copy.model : "replay");
	resp->finish_reason =
	    host->strdup(copy.finish_reason ? copy.finish_reason : "stop");
	resp->input_tokens = copy.input;
	resp->output_tokens = copy.output;
	resp->reasoning_tokens = copy.reasoning;
	resp->cached_tokens = copy.cached;
	resp->cost = 0; /* nothing was spent */
	host->log(in->ctx, SKY_HOST_LOG_DEBUG, PROVIDER,
	          "%s step %d/%d: line %d", req->purpose ? req->purpose : "?",
	          req->step_order, req->retry_index, copy.line);
	if (!resp->text || !resp->model || !resp->finish_reason)
		return fail(err, SKY_ENOMEM, "out of memory");
	return 0;
}

static int rp_supports_vision(void *instance)
{
	(void)instance;
	return 1; /* images are ignored, never refused */
}

static const sky_llm_provider provider = {
    .name = PROVIDER,
    .create = rp_create,
    .destroy = rp_destroy,
    .complete = rp_complete,
    .supports_vision = rp_supports_vision,
};

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	(void)err;
	host = api;
	return sky_register_llm(api, reg, &provider);
}
