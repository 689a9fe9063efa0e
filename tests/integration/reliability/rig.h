/*
 * An in-process engine for the reliability tests (header-only, static):
 * a fresh data dir, the given model provider and configuration, submit,
 * wait (bounded), read steps and artifacts back as JSON.
 */
#ifndef SKYTEST_RIG_H
#define SKYTEST_RIG_H

#include <jansson.h>
#include <stdarg.h>
#include <string.h>

#include <skyengine.h>

#include "skytest.h"
#include "util/fs.h"
#include <skyx/str.h>

typedef struct rel_rig {
	char *dir;
	sky_engine *e;
} rel_rig;

static inline void rel_rig_start(rel_rig *r, const char *tag, const char *llm,
                                 int workers, const char *config_json)
{
	sky_engine_options o;
	memset(r, 0, sizeof *r);
	r->dir = skytest_tmpdir(tag);
	ck_assert_ptr_nonnull(r->dir);
	ck_assert_int_ge(sky_global_init(), 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = r->dir;
	o.llm = llm;
	o.workers = workers;
	o.config_json = config_json;
	ck_assert_msg(sky_engine_new(&r->e, &o) == 0, "engine: %s",
	              sky_error_last());
}

static inline void rel_rig_stop(rel_rig *r, int remove)
{
	sky_engine_free(r->e);
	r->e = NULL;
	sky_global_shutdown();
	if (remove)
		skyx_rm_rf(r->dir);
	free(r->dir);
	r->dir = NULL;
}

static inline char *rel_rig_submit(rel_rig *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline char *rel_rig_submit(rel_rig *r, const char *fmt, ...)
{
	va_list ap;
	skyx_buf b = {0};
	va_start(ap, fmt);
	skyx_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *out = NULL;
	int status = 0;
	ck_assert_msg(sky_tasks_api_run_submit(&out, &status, r->e, NULL,
	                                       b.data, NULL) == 0,
	              "submit %d: %s", status, out);
	json_t *j = json_loads(out, 0, NULL);
	char *id = skyx_strdup(json_string_value(json_object_get(j, "run_id")));
	json_decref(j);
	sky_free(out);
	skyx_buf_free(&b);
	return id;
}

/* The final run; fails the test when it is not final within ms. */
static inline json_t *rel_rig_wait(rel_rig *r, const char *id, int ms)
{
	char *out = NULL;
	int rc = sky_tasks_api_run_wait(&out, r->e, NULL, id, ms);
	json_t *j = json_loads(out ? out : "{}", 0, NULL);
	ck_assert_msg(rc == 0, "run %s not final after %d ms: %s", id, ms, out);
	sky_free(out);
	return j;
}

static inline json_t *rel_rig_steps(rel_rig *r, const char *id)
{
	char *out = NULL;
	ck_assert_int_eq(sky_tasks_api_run_steps_list(&out, r->e, NULL, id), 0);
	json_t *j = json_loads(out, 0, NULL);
	sky_free(out);
	return j;
}

/* Status of step (order, retry), or NULL. */
static inline const char *rel_step_status(json_t *steps, int order, int retry)
{
	size_t i;
	json_t *s;
	json_array_foreach (steps, i, s) {
		if (json_integer_value(json_object_get(s, "order")) == order &&
		    json_integer_value(json_object_get(s, "retry_index")) ==
		        retry)
			return json_string_value(json_object_get(s, "status"));
	}
	return NULL;
}

#endif
