/*
 * The credentials vault (POST/GET /v1/credentials, GET /v1/credentials/{id},
 * POST /v1/credentials/{id}/update and /delete) in Skyvern's shapes, and
 * the lookup a run makes when it executes.
 *
 * A credential's fields as sent (password, TOTP secret, card number, CVV,
 * expiry, holder, billing details, secret value, and the username too)
 * are one JSON object sealed with the engine's secrets key (skyx_seal,
 * AES-256-GCM) with the credential id as associated data, so a sealed
 * value cannot be moved to another row. What an answer may show (name,
 * username, TOTP type and identifier, a card's brand and last four
 * digits, a secret's label) is kept in clear columns: no API answer ever
 * unseals, only a run does (sky_engine__credential_fields).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "util/error.h"
#include "util/id.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/codec.h>
#include <skyx/str.h>

#define COMPONENT "credentials"
#define MAX_FIELD 4096

static const char *const TYPES[] = {"password", "credit_card", "secret", NULL};
static const char *const TOTP_TYPES[] = {"authenticator", "email", "text",
                                         "passkey",       "none",  NULL};
static const char *const VAULTS[] = {"skyvern", "bitwarden", "azure_vault",
                                     "gcp",     "custom",    NULL};

static int one_of(const char *v, const char *const *set)
{
	for (int i = 0; v && set[i]; i++)
		if (!strcmp(v, set[i]))
			return 1;
	return 0;
}

/* --- validation ---------------------------------------------------------- */

static void item(json_t *items, const char *type, const char *parent,
                 const char *name, const char *msg, const json_t *input,
                 json_t *ctx)
{
	json_t *loc = json_pack("[s]", "body");
	if (parent)
		json_array_append_new(loc, json_string(parent));
	if (name)
		json_array_append_new(loc, json_string(name));
	json_t *e = json_pack("{s:s, s:o, s:s, s:O?}", "type", type, "loc", loc,
	                      "msg", msg, "input", input);
	if (e && !input)
		json_object_set_new(e, "input", json_null());
	if (e && ctx)
		json_object_set_new(e, "ctx", ctx);
	else
		json_decref(ctx);
	json_array_append_new(items, e);
}

/* A string field of `obj` (body.<parent>.<name>); NULL when absent, null
 * or refused. Required ones must be non-empty (Skyvern's min_length=1). */
static const char *str_at(json_t *obj, const char *parent, const char *name,
                          int required, json_t *items)
{
	json_t *v = json_object_get(obj, name);
	if (!v || json_is_null(v)) {
		if (required)
			item(items, "missing", parent, name, "Field required",
			     obj, NULL);
		return NULL;
	}
	if (!json_is_string(v)) {
		item(items, "string_type", parent, name,
		     "Input should be a valid string", v, NULL);
		return NULL;
	}
	if (required && !*json_string_value(v) && parent) {
		item(items, "string_too_short", parent, name,
		     "String should have at least 1 character", v,
		     json_pack("{s:i}", "min_length", 1));
		return NULL;
	}
	if (json_string_length(v) > MAX_FIELD) {
		item(items, "string_too_long", parent, name,
		     "String should have at most 4096 characters", v,
		     json_pack("{s:i}", "max_length", MAX_FIELD));
		return NULL;
	}
	return json_string_value(v);
}

/* One create/update request, borrowed from the parsed body. */
typedef struct cred_req {
	const char *name, *type, *vault;
	json_t *credential; /* the object as sent: what is sealed */
	const char *username, *totp, *totp_type, *totp_identifier;
	const char *card_number, *card_brand, *secret_label;
} cred_req;

static void validate_kind(cred_req *r, json_t *items)
{
	json_t *c = r->credential;
	const char *p = "credential";
	if (!strcmp(r->type, "password")) {
		str_at(c, p, "password", 1, items);
		r->username = str_at(c, p, "username", 1, items);
		r->totp = str_at(c, p, "totp", 0, items);
		r->totp_type = str_at(c, p, "totp_type", 0, items);
		r->totp_identifier = str_at(c, p, "totp_identifier", 0, items);
		if (r->totp_type && !one_of(r->totp_type, TOTP_TYPES))
			item(items, "enum", p, "totp_type",
			     "Input should be 'authenticator', 'email', "
			     "'text', 'passkey' or 'none'",
			     json_object_get(c, "totp_type"),
			     json_pack("{s:s}", "expected",
			               "'authenticator', 'email', 'text', "
			               "'passkey' or 'none'"));
	} else if (!strcmp(r->type, "credit_card")) {
		r->card_number = str_at(c, p, "card_number", 1, items);
		str_at(c, p, "card_cvv", 1, items);
		str_at(c, p, "card_exp_month", 1, items);
		str_at(c, p, "card_exp_year", 1, items);
		r->card_brand = str_at(c, p, "card_brand", 1, items);
		str_at(c, p, "card_holder_name", 1, items);
		str_at(c, p, "billing_email", 0, items);
		str_at(c, p, "billing_phone", 0, items);
		json_t *ba = json_object_get(c, "billing_address");
		if (ba && !json_is_null(ba) && !json_is_object(ba))
			item(items, "model_type", p, "billing_address",
			     "Input should be a valid dictionary or instance "
			     "of CreditCardBillingAddress",
			     ba, NULL);
	} else {
		str_at(c, p, "secret_value", 1, items);
		r->secret_label = str_at(c, p, "secret_label", 0, items);
	}
}

static void validate(json_t *body, cred_req *r, json_t *items)
{
	memset(r, 0, sizeof *r);
	r->name = str_at(body, NULL, "name", 1, items);
	json_t *t = json_object_get(body, "credential_type");
	if (!t || json_is_null(t)) {
		item(items, "missing", NULL, "credential_type",
		     "Field required", body, NULL);
	} else if (!json_is_string(t) || !one_of(json_string_value(t), TYPES)) {
		item(items, "enum", NULL, "credential_type",
		     "Input should be 'password', 'credit_card' or 'secret'", t,
		     json_pack("{s:s}", "expected",
		               "'password', 'credit_card' or 'secret'"));
	} else {
		r->type = json_string_value(t);
	}
	json_t *c = json_object_get(body, "credential");
	if (!c || json_is_null(c))
		item(items, "missing", NULL, "credential", "Field required",
		     body, NULL);
	else if (!json_is_object(c))
		item(items, "model_attributes_type", NULL, "credential",
		     "Input should be a valid dictionary or object to extract "
		     "fields from",
		     c, NULL);
	else
		r->credential = c;
	json_t *v = json_object_get(body, "vault_type");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || !one_of(json_string_value(v), VAULTS))
			item(items, "enum", NULL, "vault_type",
			     "Input should be 'skyvern', 'bitwarden', "
			     "'azure_vault', 'gcp' or 'custom'",
			     v,
			     json_pack("{s:s}", "expected",
			               "'skyvern', 'bitwarden', 'azure_vault', "
			               "'gcp' or 'custom'"));
		else
			r->vault = json_string_value(v);
	}
	if (r->type && r->credential)
		validate_kind(r, items);
}

/* A 400 for what Skyvern accepts and this server does not do; NULL when
 * the request can be served. */
static char *refusal(json_t *body, const cred_req *r)
{
	if (r->vault && strcmp(r->vault, "skyvern"))
		return sky_engine__api_detail(
		    "vault_type %s is not supported by skyengine: credentials "
		    "are kept in its own vault (vault_type skyvern); an "
		    "outside "
		    "password manager is reached through a credentials "
		    "provider "
		    "plugin (docs/plugins.md)",
		    r->vault);
	json_t *bp = json_object_get(body, "browser_profile_id");
	if (bp && !json_is_null(bp))
		return sky_engine__api_detail(
		    "browser_profile_id on a credential is not supported yet");
	if (r->totp && *r->totp) {
		size_t n = 0;
		unsigned char *k = skyx_base32_decode(r->totp, &n);
		int ok = k && n > 0;
		if (k)
			OPENSSL_cleanse(k, n);
		free(k);
		if (!ok)
			return sky_engine__api_detail(
			    "The TOTP secret is not a valid authenticator key "
			    "(base32)");
	}
	return NULL;
}

/* --- records and answers ------------------------------------------------- */

/* The last four digits of a card number (digits only), malloc'd. */
static char *last_four(const char *number)
{
	char d[5] = {0};
	size_t n = 0;
	for (const char *p = number; p && *p; p++)
		if (*p >= '0' && *p <= '9') {
			if (n == 4)
				memmove(d, d + 1, 3), n = 3;
			d[n++] = *p;
		}
	return skyx_strdup(n ? d : "****");
}

static json_t *response_obj(const sky_credential_rec *c)
{
	json_t *inner;
	if (!strcmp(c->credential_type, "password"))
		inner =
		    json_pack("{s:s, s:s, s:s?}", "username",
		              c->username ? c->username : c->credential_id,
		              "totp_type", c->totp_type ? c->totp_type : "none",
		              "totp_identifier", c->totp_identifier);
	else if (!strcmp(c->credential_type, "credit_card"))
		inner =
		    json_pack("{s:s, s:s}", "last_four",
		              c->card_last4 ? c->card_last4 : "****", "brand",
		              c->card_brand ? c->card_brand : "Card Brand");
	else
		inner = json_pack("{s:s?}", "secret_label", c->secret_label);
	return json_pack("{s:s, s:o, s:s, s:s, s:s, s:n, s:b, s:b, s:n, s:n, "
	                 "s:n, s:b, s:n, s:n, s:n}",
	                 "credential_id", c->credential_id, "credential", inner,
	                 "credential_type", c->credential_type, "name", c->name,
	                 "vault_type", "skyvern", "browser_profile_id",
	                 "auto_profile_disabled", 0, "pin_saved_session_ip", 0,
	                 "tested_url", "user_context",
	                 "save_browser_session_intent", "run_sequentially", 0,
	                 "folder_id", "proxy_location", "proxy_session_id");
}

static char *response_json(const sky_credential_rec *c)
{
	json_t *o = response_obj(c);
	char *s = o ? sky_json_dumps(o) : NULL;
	json_decref(o);
	return s;
}

/* Fill `rec` (id set) from a valid request: clear columns and the seal. */
static int fill_record(sky_engine *e, const cred_req *r,
                       sky_credential_rec *rec)
{
	rec->name = (char *)r->name;
	rec->credential_type = (char *)r->type;
	rec->username = (char *)r->username;
	rec->totp_identifier = (char *)r->totp_identifier;
	if (!strcmp(r->type, "password"))
		rec->totp_type =
		    (char *)(r->totp_type && strcmp(r->totp_type, "none")
		                 ? r->totp_type
		             : r->totp && *r->totp ? "authenticator"
		                                   : "none");
	if (r->card_number)
		rec->card_last4 = last_four(r->card_number);
	rec->card_brand = (char *)r->card_brand;
	rec->secret_label = (char *)r->secret_label;
	json_t *plain = json_deep_copy(r->credential);
	json_object_set_new(plain, "credential_type", json_string(r->type));
	if (rec->totp_type)
		json_object_set_new(plain, "totp_type",
		                    json_string(rec->totp_type));
	char *text = plain ? sky_json_dumps(plain) : NULL;
	json_decref(plain);
	if (!text)
		return sky_error_from_code(SKY_ENOMEM);
	rec->sealed = skyx_seal(sky_engine__secrets_key(e), text, strlen(text),
	                        rec->credential_id);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rec->sealed ? 0
	                   : sky_error_set(SKY_EIO, "could not seal the "
	                                            "credential");
}

/* Parse and check a body; 0 with *body and `r`, or a refusal answered. */
static int parse_body(char **out_json, int *http_status, const char *body_json,
                      json_t **body, cred_req *r)
{
	json_t *items = json_array();
	*body = body_json && *body_json ? sky_json_loads(body_json) : NULL;
	if (!*body)
		sky_engine__api_item(
		    items, body_json && *body_json ? "json_invalid" : "missing",
		    NULL,
		    body_json && *body_json ? "JSON decode error"
		                            : "Field required",
		    NULL);
	else if (!json_is_object(*body))
		sky_engine__api_item(items, "model_attributes_type", NULL,
		                     "Input should be a valid dictionary or "
		                     "object to extract fields from",
		                     *body);
	else
		validate(*body, r, items);
	int rc = 0;
	char *no;
	if (json_array_size(items))
		rc = sky_engine__api_refuse(
		    out_json, http_status, 422, sky_engine__api_422(items),
		    SKY_EINVALID, "invalid credential request");
	else if ((no = refusal(*body, r)))
		rc = sky_engine__api_refuse(out_json, http_status, 400, no,
		                            SKY_EINVALID,
		                            "credential request refused");
	json_decref(items);
	return rc;
}

/* --- the API ------------------------------------------------------------- */

int sky_tasks_api_credential_create(char **out_json, int *http_status,
                                    sky_engine *e, const char *org,
                                    const char *body_json)
{
	sky_credential_rec rec = {0};
	char id[SKY_ID_MAX];
	json_t *body = NULL;
	cred_req r;
	int rc;

	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if ((rc = sky_engine__org_for_create(e, org, &org)))
		return rc;
	if ((rc = parse_body(out_json, http_status, body_json, &body, &r)))
		goto out;
	rec.credential_id = sky_id_new(SKY_ID_CREDENTIAL, id);
	rec.organization_id = (char *)org;
	if ((rc = fill_record(e, &r, &rec)) ||
	    (rc = sky_store_credential_create(e->store, &rec)))
		goto out;
	sky_log_info(COMPONENT, "credential %s created (%s)", id, r.type);
	*out_json = response_json(&rec);
	if (http_status)
		*http_status = 201;
	rc = *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
out:
	free(rec.card_last4);
	free(rec.sealed);
	json_decref(body);
	return rc;
}

int sky_tasks_api_credential_update(char **out_json, int *http_status,
                                    sky_engine *e, const char *org,
                                    const char *credential_id,
                                    const char *body_json)
{
	sky_credential_rec rec = {0}, *old = NULL;
	json_t *body = NULL;
	cred_req r;
	int rc;

	if (!e || !out_json || !credential_id)
		return sky_error_set(SKY_EINVALID,
		                     "engine, out_json and the "
		                     "credential id are required");
	*out_json = NULL;
	if ((rc = parse_body(out_json, http_status, body_json, &body, &r)))
		goto out;
	rc = sky_store_credential_get(e->store, sky_engine__org_scope(e, org),
	                              credential_id, &old);
	if (rc == SKY_ENOTFOUND) {
		rc = sky_engine__api_refuse(
		    out_json, http_status, 404,
		    sky_engine__api_detail("Credential not found, "
		                           "credential_id=%s",
		                           credential_id),
		    SKY_ENOTFOUND, "credential not found");
		goto out;
	}
	if (rc)
		goto out;
	rec.credential_id = old->credential_id;
	rec.organization_id = old->organization_id;
	if ((rc = fill_record(e, &r, &rec)) ||
	    (rc = sky_store_credential_update(e->store, &rec)))
		goto out;
	rec.created_at = old->created_at;
	sky_log_info(COMPONENT, "credential %s updated", rec.credential_id);
	*out_json = response_json(&rec);
	if (http_status)
		*http_status = 200;
	rc = *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
out:
	free(rec.card_last4);
	free(rec.sealed);
	sky_credential_rec_free(old);
	json_decref(body);
	return rc;
}

int sky_tasks_api_credential_get(char **out_json, int *http_status,
                                 sky_engine *e, const char *org,
                                 const char *credential_id)
{
	sky_credential_rec *c = NULL;
	if (!e || !out_json || !credential_id)
		return sky_error_set(SKY_EINVALID,
		                     "engine, out_json and the "
		                     "credential id are required");
	*out_json = NULL;
	int rc = sky_store_credential_get(
	    e->store, sky_engine__org_scope(e, org), credential_id, &c);
	if (rc == SKY_ENOTFOUND)
		return sky_engine__api_refuse(
		    out_json, http_status, 404,
		    sky_engine__api_detail("Credential not found"),
		    SKY_ENOTFOUND, "credential not found");
	if (rc)
		return rc;
	*out_json = response_json(c);
	sky_credential_rec_free(c);
	if (http_status)
		*http_status = 200;
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

int sky_tasks_api_credential_delete(char **out_json, int *http_status,
                                    sky_engine *e, const char *org,
                                    const char *credential_id)
{
	if (!e || !out_json || !credential_id)
		return sky_error_set(SKY_EINVALID,
		                     "engine, out_json and the "
		                     "credential id are required");
	*out_json = NULL;
	int rc = sky_store_credential_delete(
	    e->store, sky_engine__org_scope(e, org), credential_id);
	if (rc == SKY_ENOTFOUND)
		return sky_engine__api_refuse(
		    out_json, http_status, 404,
		    sky_engine__api_detail("Credential not found, "
		                           "credential_id=%s",
		                           credential_id),
		    SKY_ENOTFOUND, "credential not found");
	if (rc)
		return rc;
	sky_log_info(COMPONENT, "credential %s deleted", credential_id);
	if (http_status)
		*http_status = 204;
	return 0;
}

int sky_tasks_api_credentials_list(char **out_json, int *http_status,
                                   sky_engine *e, const char *org, int page,
                                   int page_size, const char *credential_type,
                                   const char *vault_type, const char *search)
{
	sky_credential_list *l = NULL;
	if (!e || !out_json)
		return sky_error_set(SKY_EINVALID, "engine and out_json are "
		                                   "required");
	*out_json = NULL;
	if (page < 1 || page_size < 1)
		return sky_error_set(SKY_EINVALID,
		                     "page and page_size must be >= 1");
	if (credential_type && !one_of(credential_type, TYPES))
		return sky_error_set(SKY_EINVALID,
		                     "Input should be 'password', "
		                     "'credit_card' or 'secret'");
	if (vault_type && !one_of(vault_type, VAULTS))
		return sky_error_set(SKY_EINVALID,
		                     "Input should be 'skyvern', 'bitwarden', "
		                     "'azure_vault', 'gcp' or 'custom'");
	json_t *arr = json_array();
	/* Every credential here is in skyengine's own vault. */
	if (!vault_type || !strcmp(vault_type, "skyvern")) {
		int rc = sky_store_credential_list(
		    e->store, sky_engine__org_scope(e, org), credential_type,
		    search, page, page_size, &l);
		if (rc) {
			json_decref(arr);
			return rc;
		}
		for (size_t i = 0; i < l->count; i++)
			json_array_append_new(arr, response_obj(&l->items[i]));
		sky_credential_list_free(l);
	}
	*out_json = sky_json_dumps(arr);
	json_decref(arr);
	if (http_status)
		*http_status = 200;
	return *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
}

/* --- for runs ------------------------------------------------------------ */

int sky_engine__credential_external(const char *credential_id)
{
	return strncmp(credential_id, SKY_ID_CREDENTIAL,
	               strlen(SKY_ID_CREDENTIAL)) != 0;
}

/* A reference resolved by the credentials provider. */
static int provider_fields(sky_engine *e, const char *ref, json_t **fields,
                           char **why)
{
	const sky_credentials_provider *vt = NULL;
	void *inst = NULL;
	char *text = NULL, *err = NULL;
	int rc = sky_engine__credentials(e, &vt, &inst);
	if (rc || !vt) {
		*why =
		    skyx_asprintf("Credential %s not found%s%s", ref,
		                  rc ? ": " : "", rc ? sky_error_last() : "");
		return rc ? rc : SKY_ENOTFOUND;
	}
	rc = vt->resolve(inst, ref, &text, &err);
	if (rc || !text) {
		*why = rc == SKY_ENOTFOUND
		           ? skyx_asprintf("Credential %s not found", ref)
		           : skyx_asprintf("Credential %s cannot be read: %s",
		                           ref, err ? err : sky_strerror(rc));
		sky_plugin_free(err);
		sky_plugin_free(text);
		return rc ? rc : SKY_EPLUGIN;
	}
	sky_plugin_free(err);
	json_t *o = json_loads(text, 0, NULL);
	OPENSSL_cleanse(text, strlen(text));
	sky_plugin_free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		*why = skyx_asprintf("Credential %s cannot be read: the "
		                     "credentials provider did not answer a "
		                     "JSON object",
		                     ref);
		return SKY_EPLUGIN;
	}
	*fields = o;
	return 0;
}

int sky_engine__credential_fields(sky_engine *e, const char *org,
                                  const char *credential_id, json_t **fields,
                                  char **why)
{
	sky_credential_rec *c = NULL;
	unsigned char *plain = NULL;
	size_t len = 0;
	*fields = NULL;
	*why = NULL;
	if (sky_engine__credential_external(credential_id))
		return provider_fields(e, credential_id, fields, why);
	int rc = sky_store_credential_get(e->store, org, credential_id, &c);
	if (rc == SKY_ENOTFOUND) {
		*why = skyx_asprintf("Credential %s not found", credential_id);
		return rc;
	}
	if (rc) {
		*why = skyx_asprintf("could not read credential %s: %s",
		                     credential_id, sky_error_last());
		return rc;
	}
	if (skyx_unseal(sky_engine__secrets_key(e), c->sealed, c->credential_id,
	                &plain, &len)) {
		sky_log_error(COMPONENT,
		              "credential %s: its sealed value does not open "
		              "with this server's secrets key (altered, or "
		              "sealed with another key)",
		              credential_id);
		*why = skyx_asprintf(
		    "Credential %s cannot be read: its stored value was "
		    "altered "
		    "or sealed with another secrets key (secrets.key)",
		    credential_id);
		sky_credential_rec_free(c);
		return sky_error_set(SKY_EIO, "credential %s does not unseal",
		                     credential_id);
	}
	json_t *o = json_loadb((const char *)plain, len, 0, NULL);
	OPENSSL_cleanse(plain, len);
	free(plain);
	sky_credential_rec_free(c);
	if (!json_is_object(o)) {
		json_decref(o);
		*why = skyx_asprintf("Credential %s cannot be read: its "
		                     "unsealed value is not an object",
		                     credential_id);
		return sky_error_set(SKY_EIO, "credential %s is malformed",
		                     credential_id);
	}
	*fields = o;
	return 0;
}
