/*
 * The browser a run works in: the engine's one browser, a pool of remote
 * DevTools endpoints (config browser.cdp_urls) shared by the runs least-
 * loaded first, or a browser of the run's own (its browser_address,
 * attached for the run and detached after it). An endpoint whose context
 * could not be opened is skipped for a while (1 s, doubling up to 60 s)
 * and tried again after that.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "page/page.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define COMPONENT "browser-pool"
#define POOL_MAX 64 /* endpoints (bits of sky_browser_lease.tried) */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000

struct sky_browser_slot {
	char *url;
	void *inst; /* created on first use */
	int open;   /* leases on it now */
	int fails;  /* failures in a row */
	int64_t retry_at_ms;
};

/* The endpoints of config browser.cdp_urls (an array, or a string of
 * URLs separated by commas or spaces, as $SKYENGINE_BROWSER_CDP_URLS). */
static void pool_parse(sky_engine *e)
{
	json_t *v =
	    json_object_get(json_object_get(e->config, "browser"), "cdp_urls");
	json_t *list = json_array();
	if (json_is_array(v)) {
		size_t i;
		json_t *u;
		json_array_foreach (v, i, u)
			if (json_string_length(u))
				json_array_append(list, u);
	} else {
		const char *s = json_is_string(v)
		                    ? json_string_value(v)
		                    : getenv("SKYENGINE_BROWSER_CDP_URLS");
		char *copy = s ? skyx_strdup(s) : NULL, *save = NULL;
		for (char *t = copy ? strtok_r(copy, ", \t\n", &save) : NULL; t;
		     t = strtok_r(NULL, ", \t\n", &save))
			json_array_append_new(list, json_string(t));
		free(copy);
	}
	size_t n = json_array_size(list);
	if (n > POOL_MAX) {
		sky_log_warn(COMPONENT,
		             "browser.cdp_urls has %zu endpoints; the first "
		             "%d are used",
		             n, POOL_MAX);
		n = POOL_MAX;
	}
	e->bpool = n ? calloc(n, sizeof *e->bpool) : NULL;
	for (size_t i = 0; e->bpool && i < n; i++)
		e->bpool[e->n_bpool++].url =
		    skyx_strdup(json_string_value(json_array_get(list, i)));
	json_decref(list);
	if (e->n_bpool)
		sky_log_info(COMPONENT, "%zu browser endpoints in the pool",
		             e->n_bpool);
}

/* The provider's vtable (prov_lock held). */
static int load_vt(sky_engine *e)
{
	if (e->browser)
		return 0;
	e->browser = sky_plugins_browser(e->plugins, e->browser_name);
	if (!e->browser)
		return sky_error_last_code() ? sky_error_last_code()
		                             : SKY_EPLUGIN;
	return 0;
}

/* An instance attached to `url`, the browser section's other settings
 * kept (`own`: a run's browser_address, with the run's headers only);
 * the engine's page script handed over up front. */
static int create_at(sky_engine *e, const char *url, int own,
                     const json_t *headers, void **inst)
{
	const sky_browser_provider *p = e->browser;
	char *text = sky_engine__provider_section(e, "browser");
	json_t *cfg = sky_json_loads(text);
	free(text);
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		cfg = json_object();
	}
	json_object_set_new(cfg, "cdp_url", json_string(url));
	/* A run's own address gets its own headers, never the engine's
	 * (they are credentials for the configured browsers). */
	if (own)
		json_object_del(cfg, "cdp_connect_headers");
	if (own && json_is_object(headers) && json_object_size(headers))
		json_object_set(cfg, "cdp_connect_headers", (json_t *)headers);
	/* It serves one run: a context made ahead would only be an extra
	 * tab in somebody else's browser. */
	if (own)
		json_object_set_new(cfg, "spare_context", json_false());
	char *cfg_text = sky_json_dumps(cfg);
	json_decref(cfg);
	char *err = NULL;
	int rc = cfg_text ? p->create(sky_plugins_ctx(e->plugins, p), cfg_text,
	                              inst, &err)
	                  : SKY_ENOMEM;
	if (cfg_text) {
		/* it held the headers */
		explicit_bzero(cfg_text, strlen(cfg_text));
		free(cfg_text);
	}
	if (rc) {
		*inst = NULL;
		rc = sky_error_set(rc < 0 ? rc : SKY_EPLUGIN,
		                   "browser at %s: %s", url,
		                   err ? err : sky_strerror(rc));
		free(err);
		return rc;
	}
	free(err);
	if (p->set_page_script) {
		err = NULL;
		if (p->set_page_script(*inst, sky_page_script(NULL), &err))
			sky_log_warn(COMPONENT, "%s: set_page_script: %s", url,
			             err ? err : "failed");
		free(err);
	}
	return 0;
}

/* The least-loaded endpoint not in backoff and not tried by this lease;
 * when every one is in backoff, the one that comes out of it first.
 * Ties go round-robin. -1: every endpoint failed this lease. */
static int pick(sky_engine *e, uint64_t tried)
{
	int64_t now = skyx_time_mono_ms();
	int best = -1, soonest = -1;
	for (size_t k = 0; k < e->n_bpool; k++) {
		size_t i = (e->bpool_next + k) % e->n_bpool;
		struct sky_browser_slot *s = &e->bpool[i];
		if (tried & (UINT64_C(1) << i))
			continue;
		if (s->retry_at_ms > now) {
			if (soonest < 0 ||
			    s->retry_at_ms < e->bpool[soonest].retry_at_ms)
				soonest = (int)i;
			continue;
		}
		if (best < 0 || s->open < e->bpool[best].open)
			best = (int)i;
	}
	if (best < 0)
		best = soonest;
	if (best >= 0)
		e->bpool_next = ((size_t)best + 1) % e->n_bpool;
	return best;
}

/* Point the lease at a pool endpoint (prov_lock held). */
static int take_slot(sky_engine *e, sky_browser_lease *l)
{
	for (;;) {
		int i = pick(e, l->tried);
		if (i < 0)
			return sky_error_set(SKY_EBROWSER,
			                     "no browser endpoint of "
			                     "browser.cdp_urls could be used");
		struct sky_browser_slot *s = &e->bpool[i];
		if (!s->inst && create_at(e, s->url, 0, NULL, &s->inst)) {
			sky_log_warn(COMPONENT, "%s", sky_error_last());
			l->tried |= UINT64_C(1) << i;
			s->fails++;
			s->retry_at_ms = skyx_time_mono_ms() + BACKOFF_MAX_MS;
			continue;
		}
		s->open++;
		l->slot = i;
		l->inst = s->inst;
		return 0;
	}
}

int sky_engine__browser_take(sky_engine *e, const char *address,
                             const json_t *headers, sky_browser_lease *l)
{
	memset(l, 0, sizeof *l);
	l->slot = -1;
	if (!address) {
		pthread_mutex_lock(&e->prov_lock);
		if (!e->bpool_read)
			pool_parse(e);
		e->bpool_read = 1;
		int pooled = e->n_bpool > 0;
		int rc = pooled ? load_vt(e) : 0;
		if (!rc && pooled)
			rc = take_slot(e, l);
		l->vt = e->browser;
		pthread_mutex_unlock(&e->prov_lock);
		if (pooled)
			return rc;
		/* the engine's one browser */
		return sky_engine__browser(e, &l->vt, &l->inst);
	}
	pthread_mutex_lock(&e->prov_lock);
	int rc = load_vt(e);
	l->vt = e->browser;
	pthread_mutex_unlock(&e->prov_lock);
	if (rc)
		return rc;
	/* Header values are credentials: whatever is logged while the
	 * run works in this browser has them redacted. */
	size_t n = json_is_object(headers) ? json_object_size(headers) : 0;
	l->secrets = calloc(n + 1, sizeof *l->secrets);
	const char *k;
	json_t *v;
	size_t j = 0;
	if (n && l->secrets)
		json_object_foreach ((json_t *)headers, k, v)
			if (json_string_length(v)) {
				l->secrets[j] =
				    skyx_strdup(json_string_value(v));
				sky_secret_register(l->secrets[j++]);
			}
	l->slot = -2;
	return create_at(e, address, 1, headers, &l->inst);
}

int sky_engine__browser_retry(sky_engine *e, sky_browser_lease *l)
{
	if (l->slot < 0)
		return SKY_EBROWSER;
	pthread_mutex_lock(&e->prov_lock);
	struct sky_browser_slot *s = &e->bpool[l->slot];
	s->open--;
	s->fails++;
	int shift = s->fails - 1 < 6 ? s->fails - 1 : 6;
	int64_t wait = (int64_t)BACKOFF_MIN_MS << shift;
	if (wait > BACKOFF_MAX_MS)
		wait = BACKOFF_MAX_MS;
	s->retry_at_ms = skyx_time_mono_ms() + wait;
	sky_log_warn(COMPONENT,
	             "%s failed %d time(s) in a row; skipped for %lld ms",
	             s->url, s->fails, (long long)wait);
	l->tried |= UINT64_C(1) << l->slot;
	l->slot = -1;
	l->inst = NULL;
	int rc = take_slot(e, l);
	pthread_mutex_unlock(&e->prov_lock);
	return rc;
}

void sky_engine__browser_give(sky_engine *e, sky_browser_lease *l)
{
	if (l->slot == -2 && l->inst)
		/* detach: contexts we opened close, the browser stays */
		l->vt->destroy(l->inst);
	if (l->slot >= 0) {
		pthread_mutex_lock(&e->prov_lock);
		struct sky_browser_slot *s = &e->bpool[l->slot];
		s->open--;
		s->fails = 0; /* it served the lease */
		s->retry_at_ms = 0;
		pthread_mutex_unlock(&e->prov_lock);
	}
	for (char **p = l->secrets; p && *p; p++) {
		sky_secret_unregister(*p);
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
	free(l->secrets);
	memset(l, 0, sizeof *l);
	l->slot = -1;
}

void sky_engine__browser_pool_free(sky_engine *e)
{
	for (size_t i = 0; i < e->n_bpool; i++) {
		if (e->bpool[i].inst && e->browser)
			e->browser->destroy(e->bpool[i].inst);
		free(e->bpool[i].url);
	}
	free(e->bpool);
	e->bpool = NULL;
	e->n_bpool = 0;
}
