/* The LLM price table: built-in approximate list prices, overridable
 * from config "llm.prices" (see llm.h, docs/llm.md). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm/llm.h"
#include "util/error.h"
#include "util/json.h"
#include <skyx/str.h>

struct price {
	char *prefix;
	double input, output, cached; /* USD per 1M tokens */
};

struct sky_llm_prices {
	struct price *v;
	size_t n;
};

/*
 * Approximate public list prices (USD per million tokens) as of 2025;
 * they drift, and discounts (batch, regional) are not modelled. Users
 * with contracts set "llm.prices". Longest prefix wins, so a dated
 * snapshot ("gpt-4o-2024-08-06") takes its family's price.
 */
static const struct {
	const char *prefix;
	double input, output, cached;
} builtin[] = {
    {"gpt-4o-mini", 0.15, 0.60, 0.075},
    {"gpt-4o", 2.50, 10.00, 1.25},
    {"gpt-4.1-nano", 0.10, 0.40, 0.025},
    {"gpt-4.1-mini", 0.40, 1.60, 0.10},
    {"gpt-4.1", 2.00, 8.00, 0.50},
    {"gpt-4-turbo", 10.00, 30.00, 10.00},
    {"gpt-5-nano", 0.05, 0.40, 0.005},
    {"gpt-5-mini", 0.25, 2.00, 0.025},
    {"gpt-5", 1.25, 10.00, 0.125},
    {"o1-mini", 1.10, 4.40, 0.55},
    {"o1", 15.00, 60.00, 7.50},
    {"o3-mini", 1.10, 4.40, 0.55},
    {"o3", 2.00, 8.00, 0.50},
    {"o4-mini", 1.10, 4.40, 0.275},
    {"claude-3-haiku", 0.25, 1.25, 0.03},
    {"claude-3-5-haiku", 0.80, 4.00, 0.08},
    {"claude-haiku-4-5", 1.00, 5.00, 0.10},
    {"claude-3-5-sonnet", 3.00, 15.00, 0.30},
    {"claude-3-7-sonnet", 3.00, 15.00, 0.30},
    {"claude-sonnet-4", 3.00, 15.00, 0.30},
    {"claude-3-opus", 15.00, 75.00, 1.50},
    {"claude-opus-4-5", 5.00, 25.00, 0.50},
    {"claude-opus-4", 15.00, 75.00, 1.50},
};

void sky_llm_prices_free(sky_llm_prices *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].prefix);
	free(p->v);
	free(p);
}

static int set_price(sky_llm_prices *p, const char *prefix, double in,
                     double out, double cached)
{
	for (size_t i = 0; i < p->n; i++) {
		if (!strcasecmp(p->v[i].prefix, prefix)) {
			p->v[i].input = in;
			p->v[i].output = out;
			p->v[i].cached = cached;
			return 0;
		}
	}
	struct price *nv = realloc(p->v, (p->n + 1) * sizeof *nv);
	if (!nv)
		return sky_error_from_code(SKY_ENOMEM);
	p->v = nv;
	p->v[p->n].prefix = skyx_strdup(prefix);
	if (!p->v[p->n].prefix)
		return sky_error_from_code(SKY_ENOMEM);
	p->v[p->n].input = in;
	p->v[p->n].output = out;
	p->v[p->n].cached = cached;
	p->n++;
	return 0;
}

static int number(json_t *o, const char *key, double *v)
{
	json_t *x = json_object_get(o, key);
	if (!x)
		return 0;
	if (!json_is_number(x) || json_number_value(x) < 0)
		return -1;
	*v = json_number_value(x);
	return 1;
}

static int apply_overrides(sky_llm_prices *p, const char *text)
{
	json_t *root = sky_json_loads(text), *v;
	const char *key;
	int rc = 0;
	if (!json_is_object(root)) {
		json_decref(root);
		return sky_error_set(SKY_EINVALID,
		                     "llm.prices must be a JSON object of "
		                     "{\"model-prefix\": {\"input\": usd, "
		                     "\"output\": usd, \"cached\": usd}}");
	}
	json_object_foreach (root, key, v) {
		double in = 0, out = 0, cached = 0;
		int hi = number(v, "input", &in),
		    ho = number(v, "output", &out);
		int hc = number(v, "cached", &cached);
		if (!json_is_object(v) || !*key || hi <= 0 || ho <= 0 ||
		    hc < 0) {
			rc = sky_error_set(
			    SKY_EINVALID,
			    "llm.prices[\"%s\"] needs numeric, "
			    "non-negative \"input\" and \"output\" "
			    "(and optional \"cached\") USD per "
			    "million tokens",
			    key);
			break;
		}
		if ((rc = set_price(p, key, in, out, hc ? cached : in)))
			break;
	}
	json_decref(root);
	return rc;
}

int sky_llm_prices_new(const char *overrides, sky_llm_prices **out)
{
	int rc = 0;
	*out = NULL;
	sky_llm_prices *p = calloc(1, sizeof *p);
	if (!p)
		return sky_error_from_code(SKY_ENOMEM);
	for (size_t i = 0; i < sizeof builtin / sizeof *builtin && !rc; i++)
		rc = set_price(p, builtin[i].prefix, builtin[i].input,
		               builtin[i].output, builtin[i].cached);
	if (!rc && overrides && *overrides)
		rc = apply_overrides(p, overrides);
	if (rc) {
		sky_llm_prices_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int sky_llm_prices_cost(const sky_llm_prices *p, const char *model,
                        const sky_llm_usage *u, double *usd)
{
	const struct price *best = NULL;
	size_t best_len = 0;
	if (!p || !model || !u)
		return SKY_ENOTFOUND;
	const char *slash = strrchr(model, '/');
	if (slash)
		model = slash + 1;
	for (size_t i = 0; i < p->n; i++) {
		size_t l = strlen(p->v[i].prefix);
		if (l > best_len && !strncasecmp(model, p->v[i].prefix, l)) {
			best = &p->v[i];
			best_len = l;
		}
	}
	if (!best)
		return SKY_ENOTFOUND;
	int64_t cached = u->cached_tokens < u->input_tokens ? u->cached_tokens
	                                                    : u->input_tokens;
	if (cached < 0)
		cached = 0;
	*usd = ((double)(u->input_tokens - cached) * best->input +
	        (double)cached * best->cached +
	        (double)u->output_tokens * best->output) /
	       1e6;
	return 0;
}
