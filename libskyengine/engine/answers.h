/* Internal: the run-answer cache of GET /v1/runs/{id} (engine/answers.c). */
#ifndef SKY_ENGINE_ANSWERS_H
#define SKY_ENGINE_ANSWERS_H

#include <stdint.h>

/* How long an answer may be served without a store read, at most. */
#define SKY_ANSWER_MAX_AGE_MS 1000

typedef struct sky_answer_cache sky_answer_cache;

/* NULL when out of memory (the engine then works without a cache). */
sky_answer_cache *sky_engine__answers_new(void);
void sky_engine__answers_free(sky_answer_cache *c);

/*
 * A copy of the cached answer of `run_id` (free()), or NULL: none, built
 * at another store generation, too old, or of a run outside `scope` (an
 * organization id; NULL for any organization). NULL-safe on `c`.
 */
char *sky_engine__answers_get(sky_answer_cache *c, const char *scope,
                              const char *run_id, uint64_t generation);

/* Keep `json`, the answer of `run_id` of organization `org`, built from
 * rows read at store generation `generation` (read before the rows). */
void sky_engine__answers_put(sky_answer_cache *c, const char *org,
                             const char *run_id, uint64_t generation,
                             const char *json);

#endif
