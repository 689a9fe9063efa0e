/*
 * Which proxy a browser context uses for a proxy_location (runs and
 * browser sessions): the proxy provider's answer, a request's own
 * {"url": ...} when no provider is configured, or none. What was decided
 * is returned as the `proxy_applied` record, so a location that could not
 * be served is said, not hidden.
 */
#include <stdlib.h>
#include <string.h>

#include <skyx/codec.h>

#include "engine/engine_internal.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include <skyx/str.h>

/*
 * "scheme://user:pass@host:port" -> {"server": "scheme://host:port",
 * "username", "password"}: Chromium takes credentials through its auth
 * challenge, never in the proxy server string. The password is a secret
 * from here on.
 */
json_t *sky_engine__proxy_from_url(const char *url)
{
	const char *sep = strstr(url, "://");
	const char *auth = sep ? sep + 3 : url;
	const char *end = auth + strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return json_pack("{s:s}", "server", url);
	const char *colon = memchr(auth, ':', (size_t)(at - auth));
	char *user =
	    skyx_pct_decode(auth, (size_t)((colon ? colon : at) - auth), 0);
	char *pass =
	    colon ? skyx_pct_decode(colon + 1, (size_t)(at - colon - 1), 0)
	          : NULL;
	char *server = skyx_asprintf("%.*s%.*s", (int)(auth - url), url,
	                             (int)(end - at - 1), at + 1);
	if (pass)
		sky_secret_register(pass);
	json_t *o =
	    json_pack("{s:s?, s:s?, s:s?}", "server", server, "username",
	              user && *user ? user : NULL, "password", pass);
	free(user);
	free(pass);
	free(server);
	return o;
}

int sky_engine__proxy_resolve(sky_engine *e, const char *location_json,
                              const char *sticky_key, json_t **proxy,
                              json_t **applied)
{
	json_t *loc = sky_json_or_null(location_json);
	const char *name = json_string_value(loc);
	const char *url = json_is_object(loc) ? sky_json_str(loc, "url") : NULL;
	const sky_proxy_provider *vt = NULL;
	void *inst = NULL;
	int prc = 0;
	*proxy = NULL;
	*applied = NULL;
	if (!json_is_null(loc))
		prc = sky_engine__proxy(e, &vt, &inst);
	if (json_is_null(loc)) {
		*applied =
		    json_pack("{s:b, s:s}", "applied", 1, "mode", "direct");
	} else if (vt) {
		char *text = NULL, *err = NULL;
		int rc =
		    vt->resolve(inst, location_json, sticky_key, &text, &err);
		json_t *p = rc ? NULL : sky_json_loads(text);
		if (p && sky_json_str(p, "server")) {
			if (sky_json_str(p, "password"))
				sky_secret_register(
				    sky_json_str(p, "password"));
			*proxy = p;
			*applied =
			    json_pack("{s:b, s:s, s:O, s:s, s:s?}", "applied",
			              1, "mode", "provider", "location", loc,
			              "server", sky_json_str(p, "server"),
			              "matched", sky_json_str(p, "matched"));
		} else if (name && !strcmp(name, "NONE")) {
			/* NONE unmapped: direct, as asked. */
			json_decref(p);
			*applied = json_pack("{s:b, s:s}", "applied", 1, "mode",
			                     "direct");
		} else {
			json_decref(p);
			*applied = json_pack(
			    "{s:b, s:O, s:s}", "applied", 0, "location", loc,
			    "reason",
			    err ? err
			        : "the proxy provider has no proxy for this "
			          "location");
		}
		free(text);
		free(err);
	} else if (name && !strcmp(name, "NONE")) {
		*applied =
		    json_pack("{s:b, s:s}", "applied", 1, "mode", "direct");
	} else if (url) {
		*proxy = sky_engine__proxy_from_url(url);
		*applied = json_pack("{s:b, s:s, s:s?}", "applied", 1, "mode",
		                     "request_url", "server",
		                     sky_json_str(*proxy, "server"));
	} else {
		*applied = json_pack(
		    "{s:b, s:O, s:s}", "applied", 0, "location", loc, "reason",
		    prc ? sky_error_last() : "no proxy provider is configured");
	}
	json_decref(loc);
	if (!*applied)
		return sky_error_from_code(SKY_ENOMEM);
	return 0;
}
