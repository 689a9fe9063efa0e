/*
 * POST /v1/run/tasks/login: Skyvern's LoginRequest. Skyvern builds a
 * one-block workflow around a credential parameter; here it is a task v1
 * whose request names the credential (extension credential_id, so the
 * model sees placeholders only), with a login goal unless the request
 * gives its own prompt, and 10 steps as Skyvern's login block.
 */
#include <stdlib.h>
#include <string.h>

#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "util/error.h"
#include "util/json.h"
#include <skyx/str.h>

#define LOGIN_STEPS 10

static const char LOGIN_GOAL[] =
    "Log in with the stored credential from the user details.";

/* LoginRequest field -> task-run request field, copied when present. */
static const char *const PASS[][2] = {
    {"url", "url"},
    {"webhook_url", "webhook_url"},
    {"proxy_location", "proxy_location"},
    {"totp_identifier", "totp_identifier"},
    {"totp_url", "totp_url"},
    {"browser_session_id", "browser_session_id"},
    {"start_fresh_browser", "start_fresh_browser"},
    {"browser_address", "browser_address"},
    {"extra_http_headers", "extra_http_headers"},
    {"cdp_connect_headers", "cdp_connect_headers"},
    {"max_screenshot_scrolling_times", "max_screenshot_scrolls"},
    {"credential_id", "credential_id"},
    {NULL, NULL}};

static int refuse(char **out, int *status, int code, char *body,
                  const char *what)
{
	return sky_engine__api_refuse(out, status, code, body, SKY_EINVALID,
	                              what);
}

/* A password manager's item (credential_type bitwarden / 1password) as
 * a reference for the credentials provider: "bitwarden:<item_id>",
 * "1password:<vault_id>/<item_id>". Refused (400) without a provider. */
static int outside_reference(sky_engine *e, json_t *b, const char *ct,
                             char **ref, char **out, int *status)
{
	const sky_credentials_provider *vt = NULL;
	void *inst = NULL;
	const char *item = NULL, *vault = NULL;
	*ref = NULL;
	if (!strcmp(ct, "bitwarden"))
		item = sky_json_str(b, "bitwarden_item_id");
	else if (!strcmp(ct, "1password")) {
		vault = sky_json_str(b, "onepassword_vault_id");
		item = sky_json_str(b, "onepassword_item_id");
		if (!vault)
			return refuse(out, status, 400,
			              sky_engine__api_detail(
			                  "onepassword_vault_id is required to "
			                  "login with 1Password credential"),
			              "login without a vault id");
	}
	if (!strcmp(ct, "azure_vault") ||
	    sky_engine__credentials(e, &vt, &inst) || !vt)
		return refuse(
		    out, status, 400,
		    sky_engine__api_detail(
		        "credential_type %s is not supported by this "
		        "server: log in with a credential of its vault "
		        "(credential_type skyvern, credential_id), or "
		        "configure a credentials provider "
		        "(docs/plugins.md)",
		        ct),
		    "login credential type not supported");
	if (!item || !*item)
		return refuse(
		    out, status, 400,
		    sky_engine__api_detail(
		        "%s is required to login with %s credential",
		        vault ? "onepassword_item_id" : "bitwarden_item_id",
		        vault ? "1Password" : "Bitwarden"),
		    "login without an item id");
	*ref = vault ? skyx_asprintf("1password:%s/%s", vault, item)
	             : skyx_asprintf("bitwarden:%s", item);
	return *ref ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_login(char **out_json, int *http_status, sky_engine *e,
                        const char *org, const char *body_json,
                        const sky_submit_options *opts)
{
	json_t *items = json_array(), *b = NULL, *req = NULL, *v;
	char *ref = NULL;
	int rc = 0;

	if (!e || !out_json) {
		json_decref(items);
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	}
	*out_json = NULL;
	b = body_json && *body_json ? sky_json_loads(body_json) : NULL;
	if (!json_is_object(b)) {
		sky_engine__api_item(
		    items, b ? "model_attributes_type" : "missing", NULL,
		    b ? "Input should be a valid dictionary or "
		        "object to extract fields from"
		      : "Field required",
		    b);
		goto invalid;
	}
	v = json_object_get(b, "credential_type");
	const char *ct = json_string_value(v);
	if (!v) {
		sky_engine__api_item(items, "missing", "credential_type",
		                     "Field required", b);
		goto invalid;
	}
	if (!ct || (strcmp(ct, "skyvern") && strcmp(ct, "bitwarden") &&
	            strcmp(ct, "1password") && strcmp(ct, "azure_vault"))) {
		sky_engine__api_item(items, "enum", "credential_type",
		                     "Input should be 'skyvern', 'bitwarden', "
		                     "'1password' or 'azure_vault'",
		                     v);
		goto invalid;
	}
	v = json_object_get(b, "prompt");
	if (v && !json_is_null(v) && !json_is_string(v)) {
		sky_engine__api_item(items, "string_type", "prompt",
		                     "Input should be a valid string", v);
		goto invalid;
	}
	if (strcmp(ct, "skyvern") &&
	    (rc = outside_reference(e, b, ct, &ref, out_json, http_status)))
		goto out;
	const char *cred = ref ? ref : sky_json_str(b, "credential_id");
	if (!cred || !*cred) {
		rc = refuse(
		    out_json, http_status, 400,
		    sky_engine__api_detail(
		        "credential_id is required to login with Skyvern "
		        "credential"),
		    "login without a credential");
		goto out;
	}
	/* Saving or loading a browser profile: the profiles of skyengine
	 * are not wired to login tasks yet. */
	v = json_object_get(b, "browser_profile_id");
	if (v && !json_is_null(v)) {
		rc = refuse(out_json, http_status, 400,
		            sky_engine__api_detail(
		                "browser_profile_id on a login task is not "
		                "supported yet"),
		            "login with a browser profile");
		goto out;
	}
	req = json_object();
	const char *prompt = sky_json_str(b, "prompt");
	json_object_set_new(
	    req, "prompt",
	    json_string(prompt && *prompt ? prompt : LOGIN_GOAL));
	json_object_set_new(req, "engine", json_string("skyvern-1.0"));
	json_object_set_new(req, "title", json_string("Login"));
	json_object_set_new(req, "max_steps", json_integer(LOGIN_STEPS));
	/* A login keeps its browser state, so that POST
	 * /v1/browser_profiles with workflow_run_id = this run saves the
	 * logged-in state as a profile (docs/server.md). */
	json_object_set_new(req, "persist_browser_session", json_true());
	for (int i = 0; PASS[i][0]; i++)
		if ((v = json_object_get(b, PASS[i][0])))
			json_object_set(req, PASS[i][1], v);
	if (ref)
		json_object_set_new(req, "credential_id", json_string(ref));
	char *text = sky_json_dumps(req);
	if (!text) {
		rc = sky_error_from_code(SKY_ENOMEM);
		goto out;
	}
	rc = sky_engine__run_submit(out_json, http_status, e, org, text, opts,
	                            NULL);
	free(text);
	goto out;
invalid:
	rc = refuse(out_json, http_status, 422, sky_engine__api_422(items),
	            "invalid login request");
out:
	free(ref);
	json_decref(items);
	json_decref(req);
	json_decref(b);
	return rc;
}
