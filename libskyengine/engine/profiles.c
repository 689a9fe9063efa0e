/*
 * Browser profiles (/v1/browser_profiles; issue 17): the saved state of a
 * browser context (cookies, storage per origin; what the browser plugin's
 * state_save returns, kept opaque here), one file per profile under
 * <data>/profiles/<bp_id>, sealed with the engine's secrets key and the
 * profile id as associated data, so a file moved to another id or
 * altered does not open. The store keeps the metadata (name, description,
 * source, usage).
 *
 * Where a profile's state comes from: a live session's context (captured
 * when asked, with the session idle), a session's state saved when it
 * ended (generate_browser_profile; <data>/profiles/<pbs_id>), or a
 * finished run that asked for it (persist_browser_session, a skyengine
 * extension, or browser_profile_id): its own context is captured just
 * before its final status is stored (<data>/profiles/<run_id>).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/seal.h>
#include <skyx/str.h>
#include <skyx/time.h>

#define COMPONENT "profiles"
#define EMPTY_STATE                                                            \
	"{\"format\":\"skyengine-browser-state\",\"version\":1,"               \
	"\"cookies\":[],\"origins\":[]}"

/* Ids name files: letters, digits and '_' only. */
static int safe_id(const char *id)
{
	if (!id || !*id || strlen(id) > 64)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static char *state_path(sky_engine *e, const char *id)
{
	return skyx_asprintf("%s/profiles/%s", e->data_dir, id);
}

int sky_engine__profile_write(sky_engine *e, const char *id,
                              const char *state_json)
{
	if (!safe_id(id))
		return sky_error_set(SKY_EINVALID, "bad browser state id");
	char *dir = skyx_asprintf("%s/profiles", e->data_dir);
	char *path = state_path(e, id);
	char *sealed = skyx_seal(sky_engine__secrets_key(e), state_json,
	                         strlen(state_json), id);
	int rc = 0;
	if (!dir || !path || !sealed)
		rc = sky_error_set(SKY_ENOMEM, "cannot seal the browser state");
	else if (sky_mkdir_p(dir) ||
	         sky_write_file(path, sealed, strlen(sealed)))
		rc = sky_error_set(SKY_EIO,
		                   "cannot write the browser state of %s", id);
	free(dir);
	free(path);
	free(sealed);
	return rc;
}

int sky_engine__profile_read(sky_engine *e, const char *id, char **state_json)
{
	*state_json = NULL;
	if (!safe_id(id))
		return sky_error_set(SKY_EINVALID,
		                     "browser profile %s cannot be read: not a "
		                     "profile id",
		                     id ? id : "(null)");
	char *path = state_path(e, id);
	size_t len = 0;
	char *text = path ? skyx_read_file(path, &len) : NULL;
	free(path);
	if (!text)
		return sky_error_set(SKY_ENOTFOUND,
		                     "browser profile %s cannot be read: its "
		                     "file is missing",
		                     id);
	unsigned char *plain = NULL;
	size_t n = 0;
	int bad = strlen(text) != len ||
	          skyx_unseal(sky_engine__secrets_key(e), text, id, &plain, &n);
	free(text);
	if (bad)
		return sky_error_set(SKY_EPARSE,
		                     "browser profile %s cannot be read: the "
		                     "file is damaged, was altered, or was "
		                     "sealed with another secrets key",
		                     id);
	json_t *v = json_loadb((const char *)plain, n, 0, NULL);
	int ok = json_is_object(v);
	json_decref(v);
	if (!ok) {
		OPENSSL_cleanse(plain, n);
		free(plain);
		return sky_error_set(SKY_EPARSE,
		                     "browser profile %s cannot be read: it "
		                     "holds no browser state",
		                     id);
	}
	*state_json = (char *)plain;
	return 0;
}

void sky_engine__profile_free(char *state_json)
{
	if (!state_json)
		return;
	OPENSSL_cleanse(state_json, strlen(state_json));
	free(state_json);
}

void sky_engine__profile_remove(sky_engine *e, const char *id)
{
	if (!safe_id(id))
		return;
	char *path = state_path(e, id);
	if (path)
		remove(path);
	free(path);
}

static int no_state_calls(const sky_browser_provider *vt)
{
	return !vt || !vt->state_save || !vt->state_load;
}

int sky_engine__profile_load(sky_engine *e, const sky_browser_provider *vt,
                             void *ctx, const char *bp_id)
{
	char *state = NULL, *err = NULL;
	if (no_state_calls(vt))
		return sky_error_set(SKY_EUNSUPPORTED,
		                     "browser profile %s cannot be used: the "
		                     "browser provider %s cannot load browser "
		                     "profiles (no state_load, plugin ABI 2.1)",
		                     bp_id, vt && vt->name ? vt->name : "?");
	int rc = sky_engine__profile_read(e, bp_id, &state);
	if (rc)
		return rc;
	rc = vt->state_load(ctx, state, &err);
	sky_engine__profile_free(state);
	if (rc)
		rc = sky_error_set(rc,
		                   "browser profile %s could not be loaded "
		                   "into the browser: %s",
		                   bp_id, err ? err : sky_strerror(rc));
	free(err);
	if (!rc && !strncmp(bp_id, "bp_", 3))
		sky_store_bprofile_used(e->store, bp_id);
	return rc;
}

int sky_engine__profile_capture(sky_engine *e, const sky_browser_provider *vt,
                                void *ctx, const char *id)
{
	char *state = NULL, *err = NULL;
	if (no_state_calls(vt))
		return sky_error_set(
		    SKY_EUNSUPPORTED,
		    "the browser provider cannot save browser "
		    "profiles (no state_save, plugin ABI 2.1)");
	int rc = vt->state_save(ctx, &state, &err);
	if (rc)
		rc = sky_error_set(rc, "could not read the browser state: %s",
		                   err ? err : sky_strerror(rc));
	else
		rc = sky_engine__profile_write(e, id, state);
	free(err);
	sky_engine__profile_free(state);
	return rc;
}

/* --- runs ------------------------------------------------------------------ */

/* What a run's notes say about profiles: the one it loads (malloc'd or
 * NULL) and whether its state is kept at the end. */
static void run_profile_notes(sky_engine *e, const char *run_id, char **bp_id,
                              int *persist)
{
	sky_task_rec *t = NULL;
	*bp_id = NULL;
	*persist = 0;
	if (sky_store_task_get(e->store, NULL, run_id, &t))
		return;
	json_t *n = t->notes ? sky_json_loads(t->notes) : NULL;
	const char *id = sky_json_str(n, "browser_profile_id");
	*bp_id = id ? skyx_strdup(id) : NULL;
	*persist =
	    json_is_true(json_object_get(n, "persist_browser_session")) || id;
	json_decref(n);
	sky_task_rec_free(t);
}

int sky_engine__run_profile_prepare(sky_engine *e, const char *run_id,
                                    const sky_browser_provider *vt, void *ctx)
{
	char *bp = NULL;
	int persist;
	run_profile_notes(e, run_id, &bp, &persist);
	int rc = bp ? sky_engine__profile_load(e, vt, ctx, bp) : 0;
	if (rc)
		sky_log_warn(COMPONENT, "run %s: %s", run_id, sky_error_last());
	free(bp);
	return rc;
}

void sky_engine__run_profile_closing(sky_engine *e, const char *run_id,
                                     const sky_browser_provider *vt, void *ctx)
{
	char *bp = NULL;
	int persist;
	run_profile_notes(e, run_id, &bp, &persist);
	free(bp);
	if (persist && !no_state_calls(vt) &&
	    sky_engine__profile_capture(e, vt, ctx, run_id))
		sky_log_warn(COMPONENT,
		             "run %s: its browser state was not kept: "
		             "%s",
		             run_id, sky_error_last());
}

/* --- creating a profile -------------------------------------------------- */

int sky_engine__browser_profile_save(sky_engine *e, const char *org,
                                     const char *run_id, const char *session_id,
                                     const char *name, const char *description,
                                     char **bp_id)
{
	char *state = NULL;
	int rc = 0;
	sky_bprofile_rec *p = NULL;
	*bp_id = NULL;
	org = sky_engine__org_scope(e, org);
	if (run_id && session_id)
		return sky_error_set(
		    SKY_EINVALID, "Provide only one of browser_session_id or "
		                  "workflow_run_id");
	if (run_id) {
		sky_task_rec *t = NULL;
		if ((rc = sky_store_task_get(e->store, org, run_id, &t)))
			return rc == SKY_ENOTFOUND
			           ? sky_error_set(
			                 rc, "WorkflowRun %s not found", run_id)
			           : rc;
		int final = sky_task_status_is_final(t->status);
		sky_task_rec_free(t);
		rc = final && safe_id(run_id)
		         ? sky_engine__profile_read(e, run_id, &state)
		         : SKY_ENOTFOUND;
		if (rc == SKY_ENOTFOUND)
			return sky_error_set(
			    SKY_EINVALID, "Workflow run does not have a "
			                  "persisted session (a run keeps its "
			                  "browser state when it asks with "
			                  "persist_browser_session: true or "
			                  "browser_profile_id, and once it has "
			                  "finished)");
		if (rc)
			return rc;
	} else if (session_id) {
		rc = sky_engine__session_capture(e, org, session_id, &state);
		if (rc)
			return rc;
	} else if (!(state = skyx_strdup(EMPTY_STATE))) {
		return sky_error_from_code(SKY_ENOMEM);
	}
	rc = sky_store_bprofile_create(e->store, org, name, description, run_id,
	                               session_id, &p);
	if (!rc &&
	    (rc = sky_engine__profile_write(e, p->browser_profile_id, state))) {
		char *why = skyx_strdup(sky_error_last());
		sky_store_bprofile_delete(e->store, p->organization_id,
		                          p->browser_profile_id, 1);
		rc = sky_error_set(rc, "%s", why ? why : "?");
		free(why);
	}
	if (!rc) {
		*bp_id = skyx_strdup(p->browser_profile_id);
		sky_log_info(COMPONENT, "profile %s saved from %s",
		             p->browser_profile_id,
		             run_id       ? run_id
		             : session_id ? session_id
		                          : "nothing");
	}
	sky_bprofile_rec_free(p);
	sky_engine__profile_free(state);
	return rc;
}

/* --- the API ------------------------------------------------------------- */

static json_t *ts_or_null(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

static char *profile_json(const sky_bprofile_rec *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "browser_profile_id",
	                    json_string(p->browser_profile_id));
	json_object_set_new(o, "organization_id",
	                    json_string(p->organization_id));
	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "description",
	                    sky_json_str_or_null(p->description));
	json_object_set_new(o, "source_browser_type", json_null());
	json_object_set_new(o, "proxy_location", json_null());
	json_object_set_new(o, "proxy_session_id", json_null());
	json_object_set_new(o, "is_managed", json_false());
	json_object_set_new(o, "workflow_permanent_id", json_null());
	json_object_set_new(o, "browser_profile_key_digest", json_null());
	json_object_set_new(o, "created_at", ts_or_null(p->created_at));
	json_object_set_new(o, "modified_at", ts_or_null(p->modified_at));
	json_object_set_new(o, "deleted_at", ts_or_null(p->deleted_at));
	json_object_set_new(o, "last_verified_login_at", json_null());
	json_object_set_new(o, "linked_credential_name", json_null());
	char *s = sky_json_dumps(o);
	json_decref(o);
	return s;
}

static int ok200(char **out_json, int *http_status)
{
	if (http_status)
		*http_status = 200;
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

static int refuse(char **out_json, int *http_status, int rc)
{
	int status = rc == SKY_ENOTFOUND      ? 404
	             : rc == SKY_EEXISTS      ? 409
	             : rc == SKY_EBUSY        ? 409
	             : rc == SKY_EINVALID     ? 400
	             : rc == SKY_EUNSUPPORTED ? 400
	                                      : 500;
	char *why = skyx_strdup(sky_error_last() ? sky_error_last() : "?");
	rc = sky_engine__api_refuse(out_json, http_status, status,
	                            sky_engine__api_detail("%s", why), rc,
	                            why ? why : "?");
	free(why);
	return rc;
}

/* Skyvern's BrowserProfileNotFound names the organization. */
static int not_found(char **out_json, int *http_status, sky_engine *e,
                     const char *org, const char *id)
{
	org = sky_engine__org_scope(e, org);
	return sky_engine__api_refuse(
	    out_json, http_status, 404,
	    org ? sky_engine__api_detail("Browser profile %s not found for "
	                                 "organization %s",
	                                 id, org)
	        : sky_engine__api_detail("Browser profile %s not found", id),
	    SKY_ENOTFOUND, "browser profile not found");
}

static int bad_body(char **out_json, int *http_status, json_t *items)
{
	int rc = sky_engine__api_refuse(
	    out_json, http_status, 422, sky_engine__api_422(items),
	    SKY_EINVALID, "invalid browser profile request");
	json_decref(items);
	return rc;
}

/* A JSON object body, or NULL after a 422. */
static json_t *object_body(const char *body_json, char **out_json,
                           int *http_status)
{
	json_t *body =
	    body_json && *body_json ? sky_json_loads(body_json) : NULL;
	if (json_is_object(body))
		return body;
	json_t *items = json_array();
	sky_engine__api_item(
	    items, body ? "model_attributes_type" : "json_invalid", NULL,
	    body ? "Input should be a valid dictionary or "
	           "object to extract fields from"
	         : "JSON decode error",
	    body);
	json_decref(body);
	bad_body(out_json, http_status, items);
	return NULL;
}

/* A stripped string field (pydantic str_strip_whitespace); *out malloc'd
 * or NULL when absent or null. */
static void str_field(json_t *body, json_t *items, const char *key, int min_len,
                      char **out)
{
	json_t *v = json_object_get(body, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		sky_engine__api_item(items, "string_type", key,
		                     "Input should be a valid string", v);
		return;
	}
	const char *s = json_string_value(v);
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
	             s[n - 1] == '\r'))
		n--;
	if ((int)n < min_len) {
		sky_engine__api_item(items, "string_too_short", key,
		                     "String should have at least 1 character",
		                     v);
		return;
	}
	*out = strndup(s, n);
}

int sky_tasks_api_browser_profile_create(char **out_json, int *http_status,
                                         sky_engine *e, const char *org,
                                         const char *body_json)
{
	char *name = NULL, *desc = NULL, *sess = NULL, *run = NULL, *id = NULL;
	sky_bprofile_rec *p = NULL;
	int rc;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine and out_json are required");
	*out_json = NULL;
	if ((rc = sky_engine__org_for_create(e, org, &org)))
		return rc;
	json_t *body = object_body(body_json, out_json, http_status);
	if (!body)
		return SKY_EINVALID;
	json_t *items = json_array();
	if (!json_object_get(body, "name"))
		sky_engine__api_item(items, "missing", "name", "Field required",
		                     body);
	str_field(body, items, "name", 1, &name);
	str_field(body, items, "description", 0, &desc);
	str_field(body, items, "browser_session_id", 1, &sess);
	str_field(body, items, "workflow_run_id", 1, &run);
	if (!json_array_size(items) && sess && run)
		sky_engine__api_item(items, "value_error", NULL,
		                     "Value error, Provide only one of "
		                     "browser_session_id or workflow_run_id",
		                     body);
	if (json_array_size(items) || !name) {
		rc = bad_body(out_json, http_status, items);
		goto out;
	}
	json_decref(items);
	if ((rc = sky_engine__browser_profile_save(e, org, run, sess, name,
	                                           desc, &id))) {
		rc = refuse(out_json, http_status, rc);
		goto out;
	}
	if ((rc = sky_store_bprofile_get(e->store, org, id, &p)))
		goto out;
	*out_json = profile_json(p);
	rc = ok200(out_json, http_status);
out:
	sky_bprofile_rec_free(p);
	json_decref(body);
	free(name);
	free(desc);
	free(sess);
	free(run);
	free(id);
	return rc;
}

int sky_tasks_api_browser_profiles_list(char **out_json, int *http_status,
                                        sky_engine *e, const char *org,
                                        int page, int page_size,
                                        int include_deleted,
                                        const char *search_key)
{
	sky_bprofile_list *l = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine and out_json are required");
	*out_json = NULL;
	if (page < 1 || page_size < 1) {
		json_t *items = json_array();
		json_t *v = json_integer(page < 1 ? page : page_size);
		sky_engine__api_item(items, "greater_than_equal",
		                     page < 1 ? "page" : "page_size",
		                     "Input should be greater than or equal "
		                     "to 1",
		                     v);
		json_decref(v);
		/* a query parameter, not the body */
		json_array_set_new(
		    json_object_get(json_array_get(items, 0), "loc"), 0,
		    json_string("query"));
		return bad_body(out_json, http_status, items);
	}
	int rc = sky_store_bprofile_list(
	    e->store, sky_engine__org_scope(e, org), include_deleted,
	    search_key, page, page_size, &l);
	if (rc)
		return rc;
	json_t *arr = json_array();
	for (size_t i = 0; i < l->count; i++) {
		char *s = profile_json(&l->items[i]);
		json_array_append_new(arr, s ? sky_json_loads(s) : json_null());
		free(s);
	}
	sky_bprofile_list_free(l);
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	return ok200(out_json, http_status);
}

int sky_tasks_api_browser_profile_get(char **out_json, int *http_status,
                                      sky_engine *e, const char *org,
                                      const char *id)
{
	sky_bprofile_rec *p = NULL;
	if (!e || !id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, id and out_json are required");
	*out_json = NULL;
	int rc = sky_store_bprofile_get(e->store, sky_engine__org_scope(e, org),
	                                id, &p);
	if (rc == SKY_ENOTFOUND)
		return not_found(out_json, http_status, e, org, id);
	if (rc)
		return rc;
	*out_json = profile_json(p);
	sky_bprofile_rec_free(p);
	return ok200(out_json, http_status);
}

int sky_tasks_api_browser_profile_update(char **out_json, int *http_status,
                                         sky_engine *e, const char *org,
                                         const char *id, const char *body_json)
{
	char *name = NULL, *desc = NULL;
	if (!e || !id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, id and out_json are required");
	*out_json = NULL;
	org = sky_engine__org_scope(e, org);
	json_t *body = object_body(body_json, out_json, http_status);
	if (!body)
		return SKY_EINVALID;
	json_t *items = json_array();
	str_field(body, items, "name", 1, &name);
	str_field(body, items, "description", 0, &desc);
	if (!json_array_size(items) && !json_object_size(body))
		sky_engine__api_item(items, "value_error", NULL,
		                     "Value error, At least one browser "
		                     "profile field must be provided",
		                     body);
	int rc;
	if (json_array_size(items)) {
		rc = bad_body(out_json, http_status, items);
		goto out;
	}
	json_decref(items);
	sky_bprofile_rec *p = NULL;
	rc = sky_store_bprofile_get(e->store, org, id, &p);
	if (rc == SKY_ENOTFOUND) {
		rc = not_found(out_json, http_status, e, org, id);
		goto out;
	}
	if (!rc)
		rc = sky_store_bprofile_update(e->store, p->organization_id, id,
		                               name, desc);
	if (rc == SKY_ENOTFOUND)
		rc = not_found(out_json, http_status, e, org, id);
	else if (rc)
		rc = refuse(out_json, http_status, rc);
	else
		rc = sky_tasks_api_browser_profile_get(out_json, http_status, e,
		                                       p->organization_id, id);
	sky_bprofile_rec_free(p);
out:
	json_decref(body);
	free(name);
	free(desc);
	return rc;
}

int sky_tasks_api_browser_profile_delete(char **out_json, int *http_status,
                                         sky_engine *e, const char *org,
                                         const char *id)
{
	sky_bprofile_rec *p = NULL;
	if (!e || !id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, id and out_json are required");
	*out_json = NULL;
	int rc = sky_store_bprofile_get(e->store, sky_engine__org_scope(e, org),
	                                id, &p);
	if (rc == SKY_ENOTFOUND)
		return not_found(out_json, http_status, e, org, id);
	if (rc)
		return rc;
	rc = sky_store_bprofile_delete(e->store, p->organization_id, id, 0);
	if (!rc) {
		/* the state goes at once; the row stays (include_deleted) */
		sky_engine__profile_remove(e, id);
		sky_log_info(COMPONENT, "profile %s deleted", id);
	}
	sky_bprofile_rec_free(p);
	if (rc == SKY_ENOTFOUND)
		return not_found(out_json, http_status, e, org, id);
	if (rc)
		return rc;
	if (http_status)
		*http_status = 204;
	*out_json = skyx_strdup("");
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_browser_profile_usage(char **out_json, int *http_status,
                                        sky_engine *e, const char *org,
                                        const char *id)
{
	sky_bprofile_rec *p = NULL;
	if (!e || !id || !out_json)
		return sky_error_set(SKY_EINVALID,
		                     "engine, id and out_json are required");
	*out_json = NULL;
	int rc = sky_store_bprofile_get(e->store, sky_engine__org_scope(e, org),
	                                id, &p);
	if (rc == SKY_ENOTFOUND)
		return not_found(out_json, http_status, e, org, id);
	if (rc)
		return rc;
	json_t *o = json_pack("{s:[], s:[], s:i}", "workflows", "credentials",
	                      "recent_seeded_run_count", p->use_count);
	sky_bprofile_rec_free(p);
	*out_json = sky_json_dumps(o);
	json_decref(o);
	return ok200(out_json, http_status);
}
