/*
 * Browser sessions (POST /v1/browser_sessions and friends): a browser
 * context the engine keeps open between runs, so that one run can log in
 * and the next act as the logged-in user. The store keeps the record; this
 * registry keeps the live context, who holds it and since when it idles.
 *
 * Rules: one run at a time per session (a second submit is refused with
 * 409 until the first has finished); a session closes after `timeout`
 * minutes without a run, on close, and when the engine stops. A context
 * cannot outlive the browser process, so a plain session does not
 * survive a restart: at start-up those a crash left open are marked
 * timed_out. A session that loaded a browser profile (browser_profile_id)
 * saves its state back to the profile every browser_sessions.
 * profile_save_s seconds while idle, when it closes and when the engine
 * stops, and is opened again from the profile at start-up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define COMPONENT "sessions"
#define MIN_TIMEOUT 5
#define MAX_TIMEOUT 240
#define DEFAULT_TIMEOUT 60

struct create_req {
	int timeout;
	char *url;
	char *proxy; /* JSON text or NULL */
	const char *browser_type;
	char *warning;
	const char *profile_id; /* borrowed from the body */
	int generate;
};
typedef struct create_req create_req;

/* --- the registry (bs_lock held) ----------------------------------------- */

static sky_bsession *find_locked(sky_engine *e, const char *id)
{
	for (sky_bsession *s = e->bsessions; s; s = s->next)
		if (!strcmp(s->id, id))
			return s;
	return NULL;
}

static void unlink_locked(sky_engine *e, sky_bsession *s)
{
	for (sky_bsession **pp = &e->bsessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			return;
		}
}

/* Close the context and free the entry (lock not held: closing talks to
 * the browser). The downloads stay: they are the runs' artifacts. */
static void destroy(sky_engine *e, sky_bsession *s)
{
	if (s->ctx && e->browser && s->profile_id &&
	    sky_engine__profile_capture(e, e->browser, s->ctx, s->profile_id))
		sky_log_warn(COMPONENT, "session %s: profile %s not saved: %s",
		             s->id, s->profile_id, sky_error_last());
	if (s->ctx && e->browser && s->generate &&
	    sky_engine__profile_capture(e, e->browser, s->ctx, s->id))
		sky_log_warn(COMPONENT,
		             "session %s: its state was not kept: %s", s->id,
		             sky_error_last());
	if (s->ctx && e->browser)
		e->browser->context_close(s->ctx);
	free(s->profile_id);
	if (s->lease)
		sky_engine__browser_give(e, s->lease);
	free(s->lease);
	free(s->id);
	free(s->org);
	free(s->download_dir);
	free(s->busy_run);
	free(s->busy_idem);
	free(s->last_run);
	free(s);
}

static void store_final(sky_engine *e, const char *id, const char *status,
                        const char *last_run)
{
	if (sky_store_bsession_set_status(e->store, id, status, last_run, NULL))
		sky_log_warn(COMPONENT, "session %s: %s", id, sky_error_last());
}

/* --- the reaper ---------------------------------------------------------- */

static void *reaper_main(void *arg)
{
	sky_engine *e = arg;
	pthread_mutex_lock(&e->bs_lock);
	while (!e->bs_stopping) {
		int64_t now = skyx_time_mono_ms(), next = 1000;
		sky_bsession *due = NULL, *save = NULL;
		for (sky_bsession *s = e->bsessions; s && !due; s = s->next) {
			if (s->busy_run || s->reserving || s->closed)
				continue;
			if (s->profile_id && e->bs_profile_save_ms > 0 &&
			    now - s->saved_at >= e->bs_profile_save_ms && !save)
				save = s;
			int64_t left = s->idle_since + s->timeout_ms - now;
			if (left <= 0)
				due = s;
			else if (left < next)
				next = left;
		}
		if (!due && save) {
			/* held like a run holds it, while it is saved */
			save->reserving = 1;
			save->saved_at = now;
			pthread_mutex_unlock(&e->bs_lock);
			if (sky_engine__profile_capture(
			        e, e->browser, save->ctx, save->profile_id))
				sky_log_warn(COMPONENT,
				             "session %s: profile %s not "
				             "saved: %s",
				             save->id, save->profile_id,
				             sky_error_last());
			pthread_mutex_lock(&e->bs_lock);
			save->reserving = 0;
			pthread_cond_broadcast(&e->bs_cond);
			continue;
		}
		if (due) {
			unlink_locked(e, due);
			pthread_mutex_unlock(&e->bs_lock);
			sky_log_info(COMPONENT,
			             "session %s timed out after %lld "
			             "ms without a run",
			             due->id, (long long)due->timeout_ms);
			store_final(e, due->id, "timed_out", due->last_run);
			destroy(e, due);
			pthread_mutex_lock(&e->bs_lock);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += next / 1000;
		ts.tv_nsec += (next % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&e->bs_cond, &e->bs_lock, &ts);
	}
	pthread_mutex_unlock(&e->bs_lock);
	return NULL;
}

static int open_live(sky_engine *e, const sky_bsession_rec *rec,
                     const create_req *c, sky_bsession *s);

/* A session backed by a profile, opened again from it after a restart;
 * 0 when it is live again. */
static int reopen(sky_engine *e, const sky_bsession_rec *rec)
{
	struct create_req c;
	sky_bsession *s = calloc(1, sizeof *s);
	memset(&c, 0, sizeof c);
	if (!s)
		return sky_error_from_code(SKY_ENOMEM);
	s->id = skyx_strdup(rec->browser_session_id);
	s->org = skyx_strdup(rec->organization_id);
	s->profile_id = skyx_strdup(rec->browser_profile_id);
	s->generate = rec->generate_browser_profile;
	s->timeout_ms = (int64_t)rec->timeout_minutes * e->bs_unit_ms;
	c.timeout = rec->timeout_minutes;
	c.url = rec->url;
	c.proxy = rec->proxy_location;
	int rc = !s->id || !s->org || !s->profile_id
	             ? sky_error_from_code(SKY_ENOMEM)
	             : open_live(e, rec, &c, s);
	if (rc) {
		free(s->profile_id); /* never save over it */
		s->profile_id = NULL;
		s->generate = 0;
		destroy(e, s);
		return rc;
	}
	s->idle_since = s->saved_at = skyx_time_mono_ms();
	pthread_mutex_lock(&e->bs_lock);
	s->next = e->bsessions;
	e->bsessions = s;
	pthread_mutex_unlock(&e->bs_lock);
	sky_log_info(COMPONENT, "session %s reopened from profile %s", s->id,
	             s->profile_id);
	return 0;
}

int sky_engine__sessions_start(sky_engine *e)
{
	sky_bsession_list *l = NULL;
	/* A crash or a stop left these open; only those with a profile
	 * can be opened again. */
	if (sky_store_bsession_list_live_all(e->store, e->node_id, &l) == 0) {
		for (size_t i = 0; i < l->count; i++) {
			if (l->items[i].browser_profile_id && !e->no_execute) {
				if (!reopen(e, &l->items[i]))
					continue;
				sky_log_warn(COMPONENT,
				             "session %s could not be opened "
				             "again from its profile: %s",
				             l->items[i].browser_session_id,
				             sky_error_last());
				store_final(e, l->items[i].browser_session_id,
				            "failed", NULL);
				continue;
			}
			sky_log_warn(COMPONENT,
			             "session %s did not survive the "
			             "restart; marking it timed_out",
			             l->items[i].browser_session_id);
			store_final(e, l->items[i].browser_session_id,
			            "timed_out", NULL);
		}
		sky_bsession_list_free(l);
	}
	e->bs_stopping = 0;
	if (pthread_create(&e->bs_thread, NULL, reaper_main, e))
		return sky_error_set(SKY_ERROR, "cannot start the browser "
		                                "session reaper");
	e->bs_running = 1;
	return 0;
}

void sky_engine__sessions_stop(sky_engine *e)
{
	pthread_mutex_lock(&e->bs_lock);
	e->bs_stopping = 1;
	pthread_cond_broadcast(&e->bs_cond);
	sky_bsession *all = e->bsessions;
	e->bsessions = NULL;
	pthread_mutex_unlock(&e->bs_lock);
	if (e->bs_running) {
		pthread_join(e->bs_thread, NULL);
		e->bs_running = 0;
	}
	while (all) {
		sky_bsession *s = all;
		all = s->next;
		if (s->profile_id) {
			/* saved to its profile; opened again at start-up */
			sky_log_info(COMPONENT,
			             "session %s: the engine stops; it is "
			             "saved to profile %s",
			             s->id, s->profile_id);
		} else {
			sky_log_info(COMPONENT,
			             "closing session %s: the engine stops",
			             s->id);
			store_final(e, s->id, "completed", s->last_run);
		}
		destroy(e, s);
	}
}

/* --- shapes -------------------------------------------------------------- */

static json_t *ts_or_null(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

static json_t *session_obj(sky_engine *e, const sky_bsession_rec *r,
                           const char *browser_type, const char *warning)
{
	char *runnable = NULL;
	pthread_mutex_lock(&e->bs_lock);
	sky_bsession *s = find_locked(e, r->browser_session_id);
	if (s)
		runnable = skyx_strdup(s->busy_run ? s->busy_run : s->last_run);
	pthread_mutex_unlock(&e->bs_lock);
	if (!runnable)
		runnable = skyx_strdup(r->runnable_id);
	json_t *o = json_object();
	json_object_set_new(o, "browser_session_id",
	                    json_string(r->browser_session_id));
	json_object_set_new(o, "organization_id",
	                    json_string(r->organization_id));
	json_object_set_new(o, "status", json_string(r->status));
	json_object_set_new(o, "runnable_type",
	                    runnable ? json_string("task_run") : json_null());
	json_object_set_new(o, "runnable_id", sky_json_str_or_null(runnable));
	json_object_set_new(o, "timeout", json_integer(r->timeout_minutes));
	json_object_set_new(o, "browser_address",
	                    sky_json_str_or_null(r->browser_address));
	json_object_set_new(o, "app_url", json_null());
	json_object_set_new(o, "browser_type",
	                    sky_json_str_or_null(browser_type));
	json_object_set_new(o, "browser_profile_id",
	                    sky_json_str_or_null(r->browser_profile_id));
	json_object_set_new(o, "generate_browser_profile",
	                    json_boolean(r->generate_browser_profile));
	json_object_set_new(o, "vnc_streaming_supported", json_false());
	json_object_set_new(o, "downloaded_files", json_null());
	json_object_set_new(o, "recordings", json_null());
	json_object_set_new(o, "url", sky_json_str_or_null(r->url));
	json_object_set_new(o, "proxy_location",
	                    sky_json_or_null(r->proxy_location));
	json_object_set_new(o, "started_at", ts_or_null(r->started_at));
	json_object_set_new(o, "completed_at", ts_or_null(r->completed_at));
	json_object_set_new(o, "created_at", ts_or_null(r->created_at));
	json_object_set_new(o, "modified_at", ts_or_null(r->modified_at));
	json_object_set_new(o, "deleted_at", ts_or_null(r->deleted_at));
	json_object_set_new(o, "warning", sky_json_str_or_null(warning));
	free(runnable);
	return o;
}

static char *session_json(sky_engine *e, const sky_bsession_rec *r,
                          const char *browser_type, const char *warning)
{
	json_t *o = session_obj(e, r, browser_type, warning);
	char *s = sky_json_dumps(o);
	json_decref(o);
	return s;
}

static int done_ok(char **out_json, int *http_status)
{
	if (http_status)
		*http_status = 200;
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

/* --- create -------------------------------------------------------------- */

static void create_req_clear(create_req *c)
{
	free(c->url);
	free(c->proxy);
	free(c->warning);
}

/* Pydantic-lax int: ints, whole floats, integer strings. */
static int lax_int(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) &&
	    json_real_value(v) == (double)(long long)json_real_value(v)) {
		*out = (long long)json_real_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		char *end;
		errno = 0;
		long long n = strtoll(json_string_value(v), &end, 10);
		if (end != json_string_value(v) && !*end && !errno) {
			*out = n;
			return 0;
		}
	}
	return -1;
}

/* 0, or a refusal already handed out (returns the error code). */
static int parse_create(sky_engine *e, const char *org_of_body, json_t *body,
                        create_req *c, char **out_json, int *http_status)
{
	json_t *items = json_array(), *v;
	int rc = 0;
	c->timeout = DEFAULT_TIMEOUT;
	if ((v = json_object_get(body, "timeout")) && !json_is_null(v)) {
		long long n;
		if (lax_int(v, &n))
			sky_engine__api_item(items, "int_parsing", "timeout",
			                     "Input should be a valid integer",
			                     v);
		else if (n < MIN_TIMEOUT)
			sky_engine__api_item(
			    items, "greater_than_equal", "timeout",
			    "Input should be greater than or equal "
			    "to 5",
			    v);
		else if (n > MAX_TIMEOUT) {
			c->timeout = MAX_TIMEOUT;
			c->warning = skyx_asprintf(
			    "timeout %lld is above the maximum of %d minutes; "
			    "it was capped to %d",
			    n, MAX_TIMEOUT, MAX_TIMEOUT);
		} else {
			c->timeout = (int)n;
		}
	}
	if ((v = json_object_get(body, "browser_type")) && !json_is_null(v)) {
		const char *t = json_string_value(v);
		if (!t || (strcmp(t, "msedge") && strcmp(t, "chrome") &&
		           strcmp(t, "stealth-chromium")))
			sky_engine__api_item(
			    items, "enum", "browser_type",
			    "Input should be 'msedge', 'chrome' or "
			    "'stealth-chromium'",
			    v);
		else
			c->browser_type = t;
	}
	sky_request_proxy_location(body, items, &c->proxy);
	if ((v = json_object_get(body, "url")) && !json_is_null(v) &&
	    !json_is_string(v))
		sky_engine__api_item(items, "string_type", "url",
		                     "Input should be a valid string", v);
	if ((v = json_object_get(body, "browser_profile_id")) &&
	    !json_is_null(v)) {
		if (!json_is_string(v))
			sky_engine__api_item(
			    items, "string_type", "browser_profile_id",
			    "Input should be a valid string", v);
		else if (strncmp(json_string_value(v), "bp_", 3))
			sky_engine__api_item(
			    items, "string_pattern_mismatch",
			    "browser_profile_id",
			    "String should match pattern '^bp_'", v);
		else
			c->profile_id = json_string_value(v);
	}
	if ((v = json_object_get(body, "generate_browser_profile")) &&
	    !json_is_null(v)) {
		if (!json_is_boolean(v))
			sky_engine__api_item(
			    items, "bool_type", "generate_browser_profile",
			    "Input should be a valid boolean", v);
		else
			c->generate = json_is_true(v);
	}
	if (json_array_size(items)) {
		rc = sky_engine__api_refuse(
		    out_json, http_status, 422, sky_engine__api_422(items),
		    SKY_EINVALID, "invalid browser session request");
		goto out;
	}
	sky_bprofile_rec *bp = NULL;
	if (c->profile_id &&
	    sky_store_bprofile_get(e->store,
	                           sky_engine__org_scope(e, org_of_body),
	                           c->profile_id, &bp)) {
		rc = sky_engine__api_refuse(
		    out_json, http_status, 404,
		    sky_engine__api_detail("Browser profile %s not found",
		                           c->profile_id),
		    SKY_ENOTFOUND, "browser profile not found");
		goto out;
	}
	sky_bprofile_rec_free(bp);
	if (json_is_string(v = json_object_get(body, "url"))) {
		char *detail = NULL;
		if (sky_url_validate(json_string_value(v),
		                     e->request_opts.url_flags, &c->url,
		                     &detail)) {
			rc = sky_engine__api_refuse(
			    out_json, http_status, 400,
			    sky_engine__api_detail("%s", detail ? detail : "?"),
			    SKY_EINVALID, "invalid url");
			free(detail);
		}
	}
out:
	json_decref(items);
	return rc;
}

/* Open the session's context and go to its URL. */
static int open_live(sky_engine *e, const sky_bsession_rec *rec,
                     const create_req *c, sky_bsession *s)
{
	const sky_browser_provider *bvt = NULL;
	json_t *proxy = NULL, *applied = NULL;
	char *err = NULL, *opts = NULL;
	s->lease = calloc(1, sizeof *s->lease);
	if (!s->lease)
		return sky_error_from_code(SKY_ENOMEM);
	int rc = sky_engine__browser_take(e, NULL, NULL, s->lease);
	if (rc)
		return rc;
	bvt = s->lease->vt;
	s->download_dir =
	    skyx_asprintf("%s/sessions/%s/downloads", e->artifact_root,
	                  rec->browser_session_id);
	if (!s->download_dir || sky_mkdir_p(s->download_dir))
		return sky_error_set(SKY_EIO, "cannot create the session's "
		                              "download dir");
	if ((rc = sky_engine__proxy_resolve(
	         e, c->proxy, rec->browser_session_id, &proxy, &applied)))
		return rc;
	if (json_is_false(json_object_get(applied, "applied")))
		sky_log_warn(COMPONENT,
		             "session %s: proxy_location not applied "
		             "(%s); going direct",
		             rec->browser_session_id,
		             sky_json_str(applied, "reason"));
	json_t *o =
	    json_pack("{s:s, s:{s:i, s:i}}", "download_dir", s->download_dir,
	              "viewport", "width", 1280, "height", 800);
	if (proxy)
		json_object_set_new(o, "proxy", proxy);
	opts = sky_json_dumps(o);
	json_decref(o);
	json_decref(applied);
	rc = bvt->context_open(s->lease->inst, opts, &s->ctx, &err);
	/* a pool endpoint that fails: the next one */
	while (rc && rc != SKY_EINVALID && rc != SKY_ENOMEM &&
	       !sky_engine__browser_retry(e, s->lease)) {
		free(err);
		err = NULL;
		s->ctx = NULL;
		rc = bvt->context_open(s->lease->inst, opts, &s->ctx, &err);
	}
	free(opts);
	if (rc) {
		s->ctx = NULL;
		rc = sky_error_set(rc, "could not open a browser context: %s",
		                   err ? err : sky_strerror(rc));
		free(err);
		return rc;
	}
	free(err);
	err = NULL;
	if (s->profile_id &&
	    (rc = sky_engine__profile_load(e, bvt, s->ctx, s->profile_id))) {
		s->profile_failed = 1;
		return rc;
	}
	if (c->url) {
		char nav[64], *res = NULL;
		snprintf(nav, sizeof nav, "{\"timeout_ms\":%d,\"retries\":2}",
		         e->agent.navigate_timeout_ms);
		rc = bvt->navigate(s->ctx, c->url, nav, &res, &err);
		free(res);
		if (rc)
			rc = sky_error_set(rc, "could not open %s: %s", c->url,
			                   err ? err : sky_strerror(rc));
		free(err);
	}
	return rc;
}

int sky_tasks_api_browser_session_create(char **out_json, int *http_status,
                                         sky_engine *e, const char *org,
                                         const char *body_json)
{
	create_req c = {0};
	sky_bsession_rec *rec = NULL, *now = NULL;
	sky_bsession *s = NULL;
	json_t *body = NULL;
	int rc;

	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if ((rc = sky_engine__org_for_create(e, org, &org)))
		return rc;
	if (e->no_execute)
		return sky_engine__api_refuse(
		    out_json, http_status, 400,
		    sky_engine__api_detail("This server does not execute runs "
		                           "(--no-execute), so it keeps no "
		                           "browser sessions"),
		    SKY_EUNSUPPORTED, "no browser sessions without execution");
	body =
	    body_json && *body_json ? sky_json_loads(body_json) : json_object();
	if (!json_is_object(body)) {
		json_t *items = json_array();
		sky_engine__api_item(
		    items, body ? "model_attributes_type" : "json_invalid",
		    NULL,
		    body ? "Input should be a valid dictionary or "
		           "object to extract fields from"
		         : "JSON decode error",
		    body);
		rc = sky_engine__api_refuse(
		    out_json, http_status, 422, sky_engine__api_422(items),
		    SKY_EINVALID, "invalid browser session request");
		json_decref(items);
		goto out;
	}
	if ((rc = parse_create(e, org, body, &c, out_json, http_status)))
		goto out;
	if ((rc = sky_store_bsession_create(e->store, org, c.timeout, c.url,
	                                    c.proxy, &rec)))
		goto out;
	/* The browser lives here: runs naming the session are this
	 * engine's to execute, whichever host they were submitted to. */
	if ((rc = sky_store_bsession_set_holder(
	         e->store, rec->browser_session_id, e->node_id)))
		goto out;
	s = calloc(1, sizeof *s);
	if (!s || !(s->id = skyx_strdup(rec->browser_session_id)) ||
	    !(s->org = skyx_strdup(rec->organization_id))) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto fail;
	}
	s->timeout_ms = (int64_t)c.timeout * e->bs_unit_ms;
	s->generate = c.generate;
	if (c.profile_id && !(s->profile_id = skyx_strdup(c.profile_id))) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto fail;
	}
	if ((c.profile_id || c.generate) &&
	    (rc = sky_store_bsession_set_profile(e->store, s->id, c.profile_id,
	                                         c.generate)))
		goto fail;
	if ((rc = open_live(e, rec, &c, s)))
		goto fail;
	s->saved_at = skyx_time_mono_ms();
	if ((rc = sky_store_bsession_set_status(e->store, s->id, "running",
	                                        NULL, NULL)))
		goto fail;
	s->idle_since = skyx_time_mono_ms();
	pthread_mutex_lock(&e->bs_lock);
	s->next = e->bsessions;
	e->bsessions = s;
	pthread_cond_broadcast(&e->bs_cond);
	pthread_mutex_unlock(&e->bs_lock);
	sky_log_info(COMPONENT, "session %s open (timeout %d min)", s->id,
	             c.timeout);
	s = NULL;
	if ((rc = sky_store_bsession_get(e->store, org, rec->browser_session_id,
	                                 &now)))
		goto out;
	*out_json = session_json(e, now, c.browser_type, c.warning);
	rc = done_ok(out_json, http_status);
	goto out;
fail:
	sky_log_warn(COMPONENT, "session %s could not start: %s",
	             rec->browser_session_id, sky_error_last());
	{
		char *why = skyx_strdup(sky_error_last());
		int bad_profile = s && s->profile_failed;
		store_final(e, rec->browser_session_id, "failed", NULL);
		if (s) {
			/* never save over a profile that did not load */
			free(s->profile_id);
			s->profile_id = NULL;
			s->generate = 0;
			destroy(e, s);
		}
		s = NULL;
		if (bad_profile)
			rc = sky_engine__api_refuse(
			    out_json, http_status, 400,
			    sky_engine__api_detail("%s", why ? why : "?"), rc,
			    why ? why : "?");
		else
			rc = sky_error_set(rc, "%s", why ? why : "?");
		free(why);
	}
out:
	sky_bsession_rec_free(rec);
	sky_bsession_rec_free(now);
	create_req_clear(&c);
	json_decref(body);
	return rc;
}

/* --- get, list, close ---------------------------------------------------- */

static int not_found(const char *id, char **out_json, int *http_status)
{
	return sky_engine__api_refuse(
	    out_json, http_status, 404,
	    sky_engine__api_detail("Browser session %s not found", id),
	    SKY_ENOTFOUND, "browser session not found");
}

int sky_tasks_api_browser_session_get(char **out_json, int *http_status,
                                      sky_engine *e, const char *org,
                                      const char *id)
{
	sky_bsession_rec *rec = NULL;
	if (!e || !id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, id and out_json are "
		                     "required");
	*out_json = NULL;
	int rc = sky_store_bsession_get(e->store, sky_engine__org_scope(e, org),
	                                id, &rec);
	if (rc == SKY_ENOTFOUND)
		return not_found(id, out_json, http_status);
	if (rc)
		return rc;
	*out_json = session_json(e, rec, NULL, NULL);
	sky_bsession_rec_free(rec);
	return done_ok(out_json, http_status);
}

int sky_tasks_api_browser_sessions_list(char **out_json, sky_engine *e,
                                        const char *org)
{
	sky_bsession_list *l = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	int rc = sky_store_bsession_list_active(
	    e->store, sky_engine__org_scope(e, org), &l);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++)
		json_array_append_new(arr,
		                      session_obj(e, &l->items[i], NULL, NULL));
	sky_bsession_list_free(l);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_browser_session_close(char **out_json, int *http_status,
                                        sky_engine *e, const char *org,
                                        const char *id)
{
	sky_bsession_rec *rec = NULL;
	char *cancel = NULL, *last = NULL;
	if (!e || !id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, id and out_json are "
		                     "required");
	*out_json = NULL;
	int rc = sky_store_bsession_get(e->store, sky_engine__org_scope(e, org),
	                                id, &rec);
	if (rc == SKY_ENOTFOUND)
		return not_found(id, out_json, http_status);
	if (rc)
		return rc;
	int live =
	    !strcmp(rec->status, "created") || !strcmp(rec->status, "running");
	sky_bsession_rec_free(rec);
	pthread_mutex_lock(&e->bs_lock);
	sky_bsession *s = find_locked(e, id);
	if (s && (s->busy_run || s->reserving)) {
		/* A run works in it: it stops, and lets go of the session,
		 * which is then closed (sky_engine__session_release). */
		s->closed = 1;
		cancel = skyx_strdup(s->busy_run);
		last = skyx_strdup(s->busy_run);
		s = NULL;
	} else if (s) {
		unlink_locked(e, s);
		last = skyx_strdup(s->last_run);
	}
	pthread_mutex_unlock(&e->bs_lock);
	if (live) {
		store_final(e, id, "completed", last);
		sky_log_info(COMPONENT, "session %s closed%s%s", id,
		             cancel ? "; canceling run " : "",
		             cancel ? cancel : "");
	}
	if (s)
		destroy(e, s);
	if (cancel)
		sky_engine__run_cancel(NULL, NULL, e, NULL, cancel);
	free(cancel);
	free(last);
	*out_json = skyx_strdup("{\"message\":\"Browser session closed\"}");
	return done_ok(out_json, http_status);
}

/* --- runs in sessions ----------------------------------------------------- */

int sky_engine__session_reserve(sky_engine *e, const char *org, const char *id,
                                const char *idem, int *reserved,
                                char **out_json, int *status)
{
	*reserved = 0;
	org = sky_engine__org_scope(e, org);
	pthread_mutex_lock(&e->bs_lock);
	sky_bsession *s = find_locked(e, id);
	if (!s || s->closed || (org && strcmp(s->org, org))) {
		pthread_mutex_unlock(&e->bs_lock);
		return sky_engine__api_refuse(
		    out_json, status, 404,
		    sky_engine__api_detail("Browser session %s does "
		                           "not exist or is not "
		                           "live.",
		                           id),
		    SKY_ENOTFOUND, "browser session not live");
	}
	if (s->busy_run || s->reserving) {
		/* The same submit again (an idempotent retry) finds its
		 * own run, which the store hands back. */
		int replay =
		    idem && s->busy_idem && !strcmp(idem, s->busy_idem);
		char *holder = skyx_strdup(s->busy_run);
		pthread_mutex_unlock(&e->bs_lock);
		if (replay) {
			free(holder);
			return 0;
		}
		int rc = sky_engine__api_refuse(
		    out_json, status, 409,
		    holder ? sky_engine__api_detail(
		                 "Browser session %s is busy with "
		                 "run %s; submit the next run "
		                 "when it has finished",
		                 id, holder)
		           : sky_engine__api_detail(
		                 "Browser session %s is busy with "
		                 "a run being submitted",
		                 id),
		    SKY_EBUSY, "browser session busy");
		free(holder);
		return rc;
	}
	s->reserving = 1;
	*reserved = 1;
	pthread_mutex_unlock(&e->bs_lock);
	return 0;
}

void sky_engine__session_reserved(sky_engine *e, const char *id,
                                  const char *run_id, const char *idem)
{
	sky_bsession *gone = NULL;
	pthread_mutex_lock(&e->bs_lock);
	sky_bsession *s = find_locked(e, id);
	if (s && s->reserving) {
		s->reserving = 0;
		if (run_id) {
			s->busy_run = skyx_strdup(run_id);
			s->busy_idem = skyx_strdup(idem);
		} else {
			s->idle_since = skyx_time_mono_ms();
			if (s->closed) {
				unlink_locked(e, s);
				gone = s;
			}
		}
	}
	pthread_cond_broadcast(&e->bs_cond);
	pthread_mutex_unlock(&e->bs_lock);
	if (gone)
		destroy(e, gone);
}

int sky_engine__session_attach(sky_engine *e, const char *id,
                               const char *run_id, void **ctx,
                               const char **download_dir)
{
	int rc = 0;
	pthread_mutex_lock(&e->bs_lock);
	sky_bsession *s = find_locked(e, id);
	if (!s || s->closed || !s->busy_run || strcmp(s->busy_run, run_id)) {
		rc = sky_error_set(SKY_ENOTFOUND,
		                   "Browser session %s is no longer live (it "
		                   "was closed, timed out, or the engine "
		                   "restarted)",
		                   id);
	} else {
		*ctx = s->ctx;
		*download_dir = s->download_dir;
	}
	pthread_mutex_unlock(&e->bs_lock);
	return rc;
}

void sky_engine__session_release(sky_engine *e, const char *run_id)
{
	sky_bsession *gone = NULL;
	if (!run_id)
		return;
	pthread_mutex_lock(&e->bs_lock);
	for (sky_bsession *s = e->bsessions; s; s = s->next) {
		if (!s->busy_run || strcmp(s->busy_run, run_id))
			continue;
		free(s->last_run);
		s->last_run = s->busy_run;
		s->busy_run = NULL;
		free(s->busy_idem);
		s->busy_idem = NULL;
		s->idle_since = skyx_time_mono_ms();
		if (s->closed) {
			unlink_locked(e, s);
			gone = s;
		}
		break;
	}
	pthread_cond_broadcast(&e->bs_cond);
	pthread_mutex_unlock(&e->bs_lock);
	if (gone)
		destroy(e, gone);
}

/* --- browser profiles ------------------------------------------------------ */

int sky_engine__session_capture(sky_engine *e, const char *org, const char *id,
                                char **state_json)
{
	sky_bsession_rec *rec = NULL;
	*state_json = NULL;
	int rc = sky_store_bsession_get(e->store, org, id, &rec);
	if (rc == SKY_ENOTFOUND)
		return sky_error_set(rc,
		                     "Browser session %s does not exist or is "
		                     "not live.",
		                     id);
	if (rc)
		return rc;
	pthread_mutex_lock(&e->bs_lock);
	sky_bsession *s = find_locked(e, id);
	if (s && !s->closed && (s->busy_run || s->reserving)) {
		char *holder = skyx_strdup(s->busy_run);
		pthread_mutex_unlock(&e->bs_lock);
		rc = sky_error_set(SKY_EBUSY,
		                   "Browser session %s is busy with %s%s; save "
		                   "the profile when it has finished",
		                   id, holder ? "run " : "a run",
		                   holder ? holder : "");
		free(holder);
		sky_bsession_rec_free(rec);
		return rc;
	}
	if (s && !s->closed) {
		char *state = NULL, *err = NULL;
		s->reserving = 1;
		pthread_mutex_unlock(&e->bs_lock);
		if (!e->browser || !e->browser->state_save)
			rc = sky_error_set(SKY_EUNSUPPORTED,
			                   "the browser provider cannot save "
			                   "browser profiles (no state_save, "
			                   "plugin ABI 2.1)");
		else if ((rc = e->browser->state_save(s->ctx, &state, &err)))
			rc =
			    sky_error_set(rc,
			                  "could not read the browser state of "
			                  "session %s: %s",
			                  id, err ? err : sky_strerror(rc));
		free(err);
		*state_json = state;
		sky_engine__session_reserved(e, id, NULL, NULL);
		sky_bsession_rec_free(rec);
		return rc;
	}
	pthread_mutex_unlock(&e->bs_lock);
	/* Ended: what it kept when it closed. */
	if (rec->generate_browser_profile)
		rc = sky_engine__profile_read(e, id, state_json);
	else if (rec->browser_profile_id)
		rc = sky_engine__profile_read(e, rec->browser_profile_id,
		                              state_json);
	else
		rc = sky_error_set(SKY_EINVALID,
		                   "This browser session was not configured "
		                   "to generate a browser profile. Start a "
		                   "session with generate_browser_profile "
		                   "enabled to capture a profile.");
	if (rc == SKY_ENOTFOUND)
		rc = sky_error_set(SKY_EINVALID,
		                   "Browser session does not have a persisted "
		                   "profile archive.");
	sky_bsession_rec_free(rec);
	return rc;
}

int sky_tasks_api_browser_session_update(char **out_json, int *http_status,
                                         sky_engine *e, const char *org,
                                         const char *id, const char *body_json)
{
	sky_bsession_rec *rec = NULL;
	if (!e || !id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, id and out_json are "
		                     "required");
	*out_json = NULL;
	json_t *body =
	    body_json && *body_json ? sky_json_loads(body_json) : NULL;
	json_t *v = json_object_get(body, "generate_browser_profile");
	if (!json_is_object(body) || !json_is_boolean(v)) {
		json_t *items = json_array();
		if (!json_is_object(body))
			sky_engine__api_item(
			    items,
			    body ? "model_attributes_type" : "json_invalid",
			    NULL,
			    body ? "Input should be a valid dictionary or "
			           "object to extract fields from"
			         : "JSON decode error",
			    body);
		else if (!v)
			sky_engine__api_item(items, "missing",
			                     "generate_browser_profile",
			                     "Field required", body);
		else
			sky_engine__api_item(
			    items, "bool_type", "generate_browser_profile",
			    "Input should be a valid boolean", v);
		int rc = sky_engine__api_refuse(
		    out_json, http_status, 422, sky_engine__api_422(items),
		    SKY_EINVALID, "invalid browser session update");
		json_decref(items);
		json_decref(body);
		return rc;
	}
	int gen = json_is_true(v);
	json_decref(body);
	int rc = sky_store_bsession_get(e->store, sky_engine__org_scope(e, org),
	                                id, &rec);
	if (rc == SKY_ENOTFOUND)
		return not_found(id, out_json, http_status);
	if (rc)
		return rc;
	if (strcmp(rec->status, "created") && strcmp(rec->status, "running")) {
		sky_bsession_rec_free(rec);
		return sky_engine__api_refuse(
		    out_json, http_status, 409,
		    sky_engine__api_detail("Browser session %s has already "
		                           "ended and can no longer be "
		                           "updated.",
		                           id),
		    SKY_EINVALID, "browser session ended");
	}
	sky_bsession_rec_free(rec);
	rec = NULL;
	if ((rc = sky_store_bsession_set_profile(e->store, id, NULL, gen)))
		return rc;
	pthread_mutex_lock(&e->bs_lock);
	sky_bsession *s = find_locked(e, id);
	if (s)
		s->generate = gen;
	pthread_mutex_unlock(&e->bs_lock);
	return sky_tasks_api_browser_session_get(out_json, http_status, e, org,
	                                         id);
}
