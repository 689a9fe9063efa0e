/*
 * The run-answer cache: the JSON of GET /v1/runs/{id} kept for the next
 * GET of the same run, so that a client polling a run (the usual way to
 * follow one) costs a lookup instead of a store read, a row decode and a
 * JSON build.
 *
 * An answer is current while the store's generation has not moved (every
 * write transaction of this engine's store moves it, so any change to a
 * run, its steps or its artifacts invalidates every answer) and for at
 * most SKY_ANSWER_MAX_AGE_MS: that bounds what another process writing
 * the same file could make stale, and keeps the signed links inside an
 * answer fresh. Direct-mapped by run id: a collision only costs a miss.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <skyx/str.h>
#include <skyx/time.h>

#include "engine/answers.h"

#define SLOTS 256

typedef struct slot {
	char *run_id;
	char *org; /* the run's organization */
	char *json;
	uint64_t generation;
	int64_t built_ms;
} slot;

struct sky_answer_cache {
	pthread_mutex_t mu;
	slot slots[SLOTS];
};

static size_t slot_of(const char *run_id)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)run_id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h % SLOTS);
}

static void slot_clear(slot *s)
{
	free(s->run_id);
	free(s->org);
	free(s->json);
	memset(s, 0, sizeof *s);
}

sky_answer_cache *sky_engine__answers_new(void)
{
	sky_answer_cache *c = calloc(1, sizeof *c);
	if (c && pthread_mutex_init(&c->mu, NULL)) {
		free(c);
		return NULL;
	}
	return c;
}

void sky_engine__answers_free(sky_answer_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < SLOTS; i++)
		slot_clear(&c->slots[i]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

char *sky_engine__answers_get(sky_answer_cache *c, const char *scope,
                              const char *run_id, uint64_t generation)
{
	char *out = NULL;
	if (!c || !run_id)
		return NULL;
	int64_t now = skyx_time_mono_ms();
	pthread_mutex_lock(&c->mu);
	slot *s = &c->slots[slot_of(run_id)];
	if (s->run_id && !strcmp(s->run_id, run_id) &&
	    s->generation == generation &&
	    now - s->built_ms < SKY_ANSWER_MAX_AGE_MS &&
	    (!scope || (s->org && !strcmp(s->org, scope))))
		out = skyx_strdup(s->json);
	pthread_mutex_unlock(&c->mu);
	return out;
}

void sky_engine__answers_put(sky_answer_cache *c, const char *org,
                             const char *run_id, uint64_t generation,
                             const char *json)
{
	if (!c || !org || !run_id || !json)
		return;
	slot n = {skyx_strdup(run_id), skyx_strdup(org), skyx_strdup(json),
	          generation, skyx_time_mono_ms()};
	if (!n.run_id || !n.org || !n.json) {
		slot_clear(&n);
		return;
	}
	pthread_mutex_lock(&c->mu);
	slot *s = &c->slots[slot_of(run_id)];
	slot old = *s;
	*s = n;
	pthread_mutex_unlock(&c->mu);
	slot_clear(&old);
}
