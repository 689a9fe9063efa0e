/*
 * proxy-static: a proxy provider mapping a run's proxy_location (the API's
 * enum, a geo-target or {"url": ...}) to proxies listed in configuration,
 * with sticky-per-run or round-robin choice within a list and optional
 * per-run session usernames. Passwords never reach a log line or an error
 * message. See docs/proxies-totp.md.
 */
#include <ctype.h>
#include <jansson.h>
#include <skyengine/plugin/errors.h>
#include <skyengine/plugin/plugin.h>
#include <skyengine/plugin/proxy.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <skyx/codec.h>

#define COMPONENT "proxy-static"

static const sky_host_api *host;

/* The contract's ProxyLocation enum (schemas/proxy_location.py). */
/* clang-format off */
static const char *const locations[] = {
	"RESIDENTIAL", "US-CA", "US-NY", "US-TX", "US-FL", "US-WA",
	"RESIDENTIAL_ES", "RESIDENTIAL_IE", "RESIDENTIAL_GB",
	"RESIDENTIAL_IN", "RESIDENTIAL_JP", "RESIDENTIAL_FR",
	"RESIDENTIAL_DE", "RESIDENTIAL_NZ", "RESIDENTIAL_ZA",
	"RESIDENTIAL_AR", "RESIDENTIAL_AU", "RESIDENTIAL_BR",
	"RESIDENTIAL_TR", "RESIDENTIAL_CA", "RESIDENTIAL_MX",
	"RESIDENTIAL_IT", "RESIDENTIAL_NL", "RESIDENTIAL_PH",
	"RESIDENTIAL_KR", "RESIDENTIAL_SA", "RESIDENTIAL_ISP", "NONE", NULL
};
/* clang-format on */

enum rotation { ROT_STICKY, ROT_ROUND_ROBIN };

struct proxy {
	char *server; /* scheme://host:port */
	char *username;
	char *password;
};

/* One mapping key and the proxies it may use. */
struct pool {
	char *key;
	struct proxy *v;
	size_t n;
	enum rotation rotation;
	char *session_tpl; /* "{username}-session-{session}" or NULL */
	atomic_ulong next; /* round-robin cursor */
};

struct inst {
	struct pool *pools; /* "default" included, under that key */
	size_t n;
	int allow_request_url;
};

static int fail(char **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char **err, int code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	int n = snprintf(msg, sizeof msg, COMPONENT ": ");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	if (err)
		*err = host->strdup(msg);
	return code;
}

static int is_location(const char *key)
{
	for (int i = 0; locations[i]; i++)
		if (!strcmp(key, locations[i]))
			return 1;
	return 0;
}

static const char *location_ci(const char *key)
{
	for (int i = 0; locations[i]; i++)
		if (!strcasecmp(key, locations[i]))
			return locations[i];
	return NULL;
}

/* A geo-target key: "US", "US/CA", "US/CA/San Francisco" (country in
 * upper case, subdivision <= 10 and city <= 100 characters). */
static int is_geo_key(const char *key)
{
	if (!isupper((unsigned char)key[0]) || !isupper((unsigned char)key[1]))
		return 0;
	if (!key[2])
		return 1;
	if (key[2] != '/')
		return 0;
	const char *sub = key + 3, *slash = strchr(sub, '/');
	size_t sl = slash ? (size_t)(slash - sub) : strlen(sub);
	if (sl == 0 || sl > 10)
		return 0;
	for (size_t i = 0; i < sl; i++)
		if (!isalnum((unsigned char)sub[i]) && sub[i] != '-')
			return 0;
	if (!slash)
		return 1;
	size_t cl = strlen(slash + 1);
	return cl > 0 && cl <= 100 && !strchr(slash + 1, '/');
}

/* A copy of a proxy URL fit for messages: whatever follows the user name
 * up to the last '@' becomes "***" (also without a scheme, and when an
 * unescaped password holds '/' or '@'). */
static void masked(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://");
	const char *auth = p ? p + 3 : url;
	const char *at = strrchr(auth, '@');
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon)
		snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
	else
		snprintf(out, cap, "%s", url);
}

static void proxy_clear(struct proxy *p)
{
	free(p->server);
	free(p->username);
	free(p->password);
	memset(p, 0, sizeof *p);
}

/* "host[:port]" or "[v6]:port" in hp..end: *host_end and *port (dflt
 * when absent). NULL, or what is wrong. */
static const char *parse_hostport(const char *hp, const char *end, int dflt,
                                  const char **host_end, int *port)
{
	const char *he;
	if (*hp == '[') {
		he = memchr(hp, ']', (size_t)(end - hp));
		if (!he || he == hp + 1)
			return "its IPv6 host has no closing ']'";
		he++;
	} else {
		he = memchr(hp, ':', (size_t)(end - hp));
		if (!he)
			he = end;
		for (const char *c = hp; c < he; c++)
			if (!isalnum((unsigned char)*c) && !strchr(".-_", *c))
				return "its host name has characters a host "
				       "cannot have";
	}
	if (he == hp)
		return "it has no host";
	*host_end = he;
	*port = dflt;
	if (he == end)
		return NULL;
	if (*he != ':')
		return "something follows its host that is not a port";
	if (he + 1 == end)
		return "its port is empty";
	*port = 0;
	for (const char *c = he + 1; c < end; c++) {
		if (!isdigit((unsigned char)*c) || *port > 65535)
			return "its port is not a number from 1 to 65535";
		*port = *port * 10 + (*c - '0');
	}
	if (*port < 1 || *port > 65535)
		return "its port is not a number from 1 to 65535";
	return NULL;
}

/*
 * Parse "scheme://[user[:pass]@]host[:port][/]" (http, https, socks4,
 * socks5; the port defaults to the scheme's). On error *why says what is
 * wrong without quoting the URL.
 */
static int parse_url(const char *url, struct proxy *out, const char **why)
{
	static const struct {
		const char *name;
		int port;
	} schemes[] = {
	    {"http", 80}, {"https", 443}, {"socks4", 1080}, {"socks5", 1080}};
	const char *p = strstr(url, "://");
	int port = -1;
	size_t si;
	memset(out, 0, sizeof *out);
	if (!p) {
		*why = "it has no scheme (use http://host:port)";
		return -1;
	}
	for (si = 0; si < sizeof schemes / sizeof schemes[0]; si++)
		if (strlen(schemes[si].name) == (size_t)(p - url) &&
		    !strncasecmp(url, schemes[si].name, (size_t)(p - url)))
			break;
	if (si == sizeof schemes / sizeof schemes[0]) {
		*why = "its scheme is not http, https, socks4 or socks5";
		return -1;
	}
	const char *auth = p + 3;
	const char *end = auth + strcspn(auth, "/?#");
	if (*end && strcmp(end, "/")) {
		*why = "it has a path, query or fragment (a proxy URL is "
		       "scheme://[user:password@]host:port)";
		return -1;
	}
	const char *at = NULL;
	for (const char *c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	const char *hp = at ? at + 1 : auth;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		size_t ul =
		    colon ? (size_t)(colon - auth) : (size_t)(at - auth);
		out->username = skyx_pct_decode(auth, ul, 0);
		if (colon)
			out->password = skyx_pct_decode(
			    colon + 1, (size_t)(at - colon - 1), 0);
		if (!out->username || !*out->username) {
			*why = "it has credentials without a user name";
			goto bad;
		}
	}
	const char *host_end;
	if ((*why =
	         parse_hostport(hp, end, schemes[si].port, &host_end, &port)))
		goto bad;
	size_t need =
	    strlen(schemes[si].name) + 3 + (size_t)(host_end - hp) + 8;
	out->server = malloc(need);
	if (!out->server) {
		*why = "out of memory";
		goto bad;
	}
	snprintf(out->server, need, "%s://%.*s:%d", schemes[si].name,
	         (int)(host_end - hp), hp, port);
	for (char *c = out->server; *c && *c != ':'; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
bad:
	proxy_clear(out);
	return -1;
}

/* One proxy: "url" or {"url", "username", "password"}. Separate fields
 * win over credentials in the URL. */
static int parse_proxy(const char *key, size_t idx, json_t *v,
                       struct proxy *out, char **err)
{
	const char *url = json_string_value(v), *why = NULL;
	char shown[512];
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x) {
			if (strcmp(k, "url") && strcmp(k, "username") &&
			    strcmp(k, "password"))
				return fail(
				    err, SKY_EINVALID,
				    "location \"%s\" proxy %zu: unknown "
				    "field \"%s\" (known: url, username, "
				    "password)",
				    key, idx + 1, k);
			if (!json_is_string(x))
				return fail(err, SKY_EINVALID,
				            "location \"%s\" proxy %zu: \"%s\" "
				            "must be a string",
				            key, idx + 1, k);
		}
		url = json_string_value(json_object_get(v, "url"));
		if (!url)
			return fail(err, SKY_EINVALID,
			            "location \"%s\" proxy %zu: \"url\" is "
			            "required",
			            key, idx + 1);
	} else if (!url) {
		return fail(err, SKY_EINVALID,
		            "location \"%s\" proxy %zu must be a URL string or "
		            "an object {\"url\", \"username\", \"password\"}",
		            key, idx + 1);
	}
	masked(url, shown, sizeof shown);
	if (parse_url(url, out, &why))
		return fail(err, SKY_EINVALID,
		            "location \"%s\": bad proxy URL \"%s\": %s", key,
		            shown, why);
	if (json_is_object(v)) {
		const char *u =
		    json_string_value(json_object_get(v, "username"));
		const char *p =
		    json_string_value(json_object_get(v, "password"));
		if (u) {
			free(out->username);
			out->username = strdup(u);
		}
		if (p) {
			free(out->password);
			out->password = strdup(p);
		}
		if (p && !out->username)
			return fail(err, SKY_EINVALID,
			            "location \"%s\" proxy %zu: a password "
			            "without a username",
			            key, idx + 1);
	}
	return 0;
}

static int parse_rotation(const char *key, json_t *v, enum rotation *out,
                          char **err)
{
	const char *s = json_string_value(v);
	if (s && !strcmp(s, "sticky"))
		*out = ROT_STICKY;
	else if (s && (!strcmp(s, "round_robin") || !strcmp(s, "round-robin")))
		*out = ROT_ROUND_ROBIN;
	else
		return fail(err, SKY_EINVALID,
		            "%s: \"rotation\" must be \"sticky\" or "
		            "\"round_robin\"",
		            key);
	return 0;
}

static int check_session_tpl(const char *where, json_t *v, char **out,
                             char **err)
{
	const char *s = json_string_value(v);
	if (!s || !strstr(s, "{session}"))
		return fail(err, SKY_EINVALID,
		            "%s: \"session_username\" must be a string "
		            "containing {session}, e.g. "
		            "\"{username}-session-{session}\"",
		            where);
	*out = strdup(s);
	return 0;
}

static void pool_clear(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		proxy_clear(&p->v[i]);
	free(p->v);
	free(p->key);
	free(p->session_tpl);
}

/* A location's value: a proxy, a list of proxies, or
 * {"proxies": [...], "rotation": ..., "session_username": ...}. */
static int parse_pool(const char *key, json_t *v, enum rotation rot,
                      const char *tpl, struct pool *out, char **err)
{
	json_t *list = v;
	int rc;
	memset(out, 0, sizeof *out);
	out->key = strdup(key);
	out->rotation = rot;
	out->session_tpl = tpl ? strdup(tpl) : NULL;
	if (json_is_object(v) && json_object_get(v, "proxies")) {
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x) {
			if (!strcmp(k, "proxies"))
				continue;
			if (!strcmp(k, "rotation")) {
				if ((rc = parse_rotation(key, x, &out->rotation,
				                         err)))
					return rc;
			} else if (!strcmp(k, "session_username")) {
				free(out->session_tpl);
				out->session_tpl = NULL;
				if ((rc = check_session_tpl(
				         key, x, &out->session_tpl, err)))
					return rc;
			} else {
				return fail(err, SKY_EINVALID,
				            "location \"%s\": unknown field "
				            "\"%s\" (known: proxies, rotation, "
				            "session_username)",
				            key, k);
			}
		}
		list = json_object_get(v, "proxies");
		if (!json_is_array(list))
			return fail(
			    err, SKY_EINVALID,
			    "location \"%s\": \"proxies\" must be a list", key);
	}
	size_t n = json_is_array(list) ? json_array_size(list) : 1;
	if (n == 0)
		return fail(err, SKY_EINVALID,
		            "location \"%s\" has an empty proxy list", key);
	out->v = calloc(n, sizeof *out->v);
	if (!out->key || !out->v)
		return fail(err, SKY_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *item =
		    json_is_array(list) ? json_array_get(list, i) : list;
		if ((rc = parse_proxy(key, i, item, &out->v[i], err)))
			return rc;
		out->n++;
		if (out->session_tpl &&
		    strstr(out->session_tpl, "{username}") &&
		    !out->v[i].username)
			return fail(err, SKY_EINVALID,
			            "location \"%s\" proxy %zu has no username "
			            "but session_username uses {username}",
			            key, i + 1);
	}
	return 0;
}

static void inst_free(struct inst *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++)
		pool_clear(&in->pools[i]);
	free(in->pools);
	free(in);
}

static int add_pool(struct inst *in, const char *key, json_t *v,
                    enum rotation rot, const char *tpl, char **err)
{
	struct pool *np = realloc(in->pools, (in->n + 1) * sizeof *np);
	if (!np)
		return fail(err, SKY_ENOMEM, "out of memory");
	in->pools = np;
	int rc = parse_pool(key, v, rot, tpl, &np[in->n], err);
	in->n++; /* cleared by inst_free() even when half-parsed */
	return rc;
}

static int check_key(const char *key, char **err)
{
	if (is_location(key) || is_geo_key(key))
		return 0;
	const char *ci = location_ci(key);
	if (ci)
		return fail(err, SKY_EINVALID,
		            "unknown location key \"%s\" (did you mean "
		            "\"%s\"? keys are case-sensitive)",
		            key, ci);
	return fail(err, SKY_EINVALID,
	            "unknown location key \"%s\": use a proxy_location "
	            "(RESIDENTIAL, US-CA, US-NY, US-TX, US-FL, US-WA, "
	            "RESIDENTIAL_GB, ..., RESIDENTIAL_ISP, NONE) or a "
	            "geo-target key \"US\", \"US/CA\" or \"US/CA/San "
	            "Francisco\"",
	            key);
}

static const char *const options[] = {
    "file",     "locations",        "default",
    "rotation", "session_username", "allow_request_url",
    "data_dir", /* given by the engine to every provider; unused here */
    NULL};

static int check_options(json_t *cfg, const char *where, char **err)
{
	const char *k;
	json_t *v;
	json_object_foreach (cfg, k, v) {
		/* The engine's own keys in the section: which provider it
		 * is, and where the engine keeps its files. */
		int known = !strcmp(k, "provider") || !strcmp(k, "data_dir");
		for (int i = 0; options[i]; i++)
			known |= !strcmp(k, options[i]);
		if (!known)
			return fail(err, SKY_EINVALID,
			            "unknown option \"%s\" in %s (known: file, "
			            "locations, default, rotation, "
			            "session_username, allow_request_url)",
			            k, where);
	}
	v = json_object_get(cfg, "locations");
	if (v && !json_is_object(v))
		return fail(err, SKY_EINVALID,
		            "\"locations\" in %s must be an object "
		            "{\"RESIDENTIAL\": \"http://host:port\", ...}",
		            where);
	v = json_object_get(cfg, "file");
	if (v && !json_is_string(v))
		return fail(err, SKY_EINVALID,
		            "\"file\" in %s must be a path string", where);
	v = json_object_get(cfg, "allow_request_url");
	if (v && !json_is_boolean(v))
		return fail(err, SKY_EINVALID,
		            "\"allow_request_url\" in %s must be true or false",
		            where);
	return 0;
}

static int load_file(const char *path, json_t **out, char **err)
{
	json_error_t je;
	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!*out) {
		/* jansson's "near '...'" could quote a password. */
		char *near = strstr(je.text, " near ");
		if (near)
			*near = '\0';
		if (je.line == -1) /* could not open or read it */
			return fail(err, SKY_EIO, "proxy file: %s", je.text);
		return fail(err, SKY_EPARSE, "%s:%d:%d: %s", path, je.line,
		            je.column, je.text);
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return fail(err, SKY_EINVALID,
		            "%s must hold a JSON object {\"locations\": ...}",
		            path);
	}
	return 0;
}

/* The configuration: the inline object over the file's (locations are
 * merged key by key, inline winning). */
static int merged_config(const sky_host_ctx *ctx, const char *config_json,
                         json_t **out, char **err)
{
	json_t *cfg = NULL, *file_cfg = NULL;
	json_error_t je;
	char *file = NULL;
	int rc;

	*out = NULL;
	cfg = config_json && *config_json ? json_loads(config_json, 0, &je)
	                                  : json_object();
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		return fail(
		    err, SKY_EINVALID,
		    "the \"proxy\" configuration must be a JSON object");
	}
	if ((rc = check_options(cfg, "the proxy configuration", err)))
		goto cleanup;
	if (json_is_string(json_object_get(cfg, "file"))) {
		file = strdup(json_string_value(json_object_get(cfg, "file")));
	} else if (SKY_HOST_HAS(host, config_get)) {
		char *f = host->config_get(ctx, "proxy.file");
		file = f ? strdup(f) : NULL;
		host->free(f);
	}
	if (file && *file) {
		if ((rc = load_file(file, &file_cfg, err)) ||
		    (rc = check_options(file_cfg, file, err)))
			goto cleanup;
		json_t *locs = json_object_get(file_cfg, "locations");
		if (locs)
			json_incref(locs);
		else
			locs = json_object();
		json_object_update(locs, json_object_get(cfg, "locations"));
		json_object_update(file_cfg, cfg);
		json_object_set_new(file_cfg, "locations", locs);
		json_decref(cfg);
		cfg = file_cfg;
		file_cfg = NULL;
	}
	*out = cfg;
	cfg = NULL;
cleanup:
	free(file);
	json_decref(cfg);
	json_decref(file_cfg);
	return rc;
}

static int ps_create(const sky_host_ctx *ctx, const char *config_json,
                     void **instance, char **err)
{
	json_t *cfg = NULL, *v;
	const char *k;
	char *tpl = NULL;
	enum rotation rot = ROT_STICKY;
	int rc;
	struct inst *in = calloc(1, sizeof *in);

	*instance = NULL;
	if (!in)
		return fail(err, SKY_ENOMEM, "out of memory");
	if ((rc = merged_config(ctx, config_json, &cfg, err)))
		goto cleanup;
	if ((v = json_object_get(cfg, "rotation")) &&
	    (rc = parse_rotation("the proxy configuration", v, &rot, err)))
		goto cleanup;
	if ((v = json_object_get(cfg, "session_username")) &&
	    (rc = check_session_tpl("the proxy configuration", v, &tpl, err)))
		goto cleanup;
	in->allow_request_url =
	    json_is_false(json_object_get(cfg, "allow_request_url")) ? 0 : 1;
	json_object_foreach (json_object_get(cfg, "locations"), k, v) {
		if ((rc = check_key(k, err)) ||
		    (rc = add_pool(in, k, v, rot, tpl, err)))
			goto cleanup;
	}
	if ((v = json_object_get(cfg, "default")) &&
	    (rc = add_pool(in, "default", v, rot, tpl, err)))
		goto cleanup;
	if (in->n == 0) {
		rc = fail(err, SKY_EINVALID,
		          "no proxies configured (set proxy.locations and/or "
		          "proxy.default, or proxy.file / SKYENGINE_PROXY_FILE "
		          "naming a JSON file)");
		goto cleanup;
	}
	host->log(ctx, SKY_HOST_LOG_INFO, COMPONENT,
	          "%zu location mapping%s loaded, rotation %s", in->n,
	          in->n == 1 ? "" : "s",
	          rot == ROT_STICKY ? "sticky" : "round_robin");
	*instance = in;
	in = NULL;
cleanup:
	free(tpl);
	json_decref(cfg);
	inst_free(in);
	return rc;
}

static void ps_destroy(void *instance)
{
	inst_free(instance);
}

/* Keys are matched without case: enum keys were checked to be exact at
 * create(), and geo-target parts are names ("san francisco"). */
static struct pool *find_pool(struct inst *in, const char *key)
{
	for (size_t i = 0; i < in->n; i++)
		if (!strcasecmp(in->pools[i].key, key))
			return &in->pools[i];
	return NULL;
}

/* FNV-1a: a stable spread of run ids over a list, and session ids. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* "{username}-session-{session}" with both filled in; malloc'd. */
static char *fill_tpl(const char *tpl, const char *user, const char *session)
{
	size_t cap = strlen(tpl) + (user ? strlen(user) : 0) * 4 +
	             strlen(session) * 4 + 1;
	char *out = malloc(cap), *o = out;
	if (!out)
		return NULL;
	for (const char *p = tpl; *p;) {
		const char *sub = NULL;
		size_t skip = 0;
		if (!strncmp(p, "{username}", 10)) {
			sub = user ? user : "";
			skip = 10;
		} else if (!strncmp(p, "{session}", 9)) {
			sub = session;
			skip = 9;
		}
		if (sub && (size_t)(o - out) + strlen(sub) < cap) {
			o += sprintf(o, "%s", sub);
			p += skip;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

static int answer(const struct proxy *px, const char *user, const char *session,
                  const char *matched, char **out, char **err)
{
	json_t *o = json_object();
	json_object_set_new(o, "server", json_string(px->server));
	if (user)
		json_object_set_new(o, "username", json_string(user));
	if (px->password)
		json_object_set_new(o, "password", json_string(px->password));
	if (session)
		json_object_set_new(o, "session", json_string(session));
	json_object_set_new(o, "matched", json_string(matched));
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	*out = text ? host->strdup(text) : NULL;
	free(text);
	return *out ? 0 : fail(err, SKY_ENOMEM, "out of memory");
}

static int resolve_pool(struct pool *p, const char *run_id, char **out,
                        char **err)
{
	size_t idx;
	char session[17] = "";
	uint64_t h = fnv1a(run_id);
	if (p->rotation == ROT_ROUND_ROBIN)
		idx = (size_t)(atomic_fetch_add(&p->next, 1) % p->n);
	else
		idx = (size_t)(h % p->n);
	const struct proxy *px = &p->v[idx];
	char *user = NULL;
	if (p->session_tpl && run_id && *run_id) {
		/* A different hash than the index's, so that runs sharing a
		 * proxy still get their own sessions. */
		snprintf(session, sizeof session, "%016llx",
		         (unsigned long long)(h ^ 0x9e3779b97f4a7c15ULL));
		user = fill_tpl(p->session_tpl, px->username, session);
		if (!user)
			return fail(err, SKY_ENOMEM, "out of memory");
	}
	host->log(NULL, SKY_HOST_LOG_DEBUG, COMPONENT,
	          "run %s: location %s -> %s (%zu of %zu, %s)",
	          run_id ? run_id : "-", p->key, px->server, idx + 1, p->n,
	          p->rotation == ROT_STICKY ? "sticky" : "round_robin");
	int rc = answer(px, user ? user : px->username,
	                session[0] ? session : NULL, p->key, out, err);
	free(user);
	return rc;
}

/* The keys tried for a location, most specific first. */
#define MAX_CHAIN 4
#define KEY_MAX 128
typedef char key_chain[MAX_CHAIN][KEY_MAX];

static int chain_for_enum(const char *loc, key_chain keys)
{
	int n = 0;
	snprintf(keys[n++], KEY_MAX, "%s", loc);
	if (!strcmp(loc, "NONE"))
		return n; /* never the default: NONE means go direct */
	if (!strncmp(loc, "RESIDENTIAL_", 12) && strlen(loc) == 14) {
		snprintf(keys[n++], KEY_MAX, "%s", loc + 12); /* "GB" */
	} else if (!strncmp(loc, "US-", 3)) {
		snprintf(keys[n++], KEY_MAX, "US/%s", loc + 3);
		snprintf(keys[n++], KEY_MAX, "US");
	}
	snprintf(keys[n++], KEY_MAX, "default");
	return n;
}

/* {"country", "subdivision"?, "city"?}: country/subdivision/city, then
 * country/subdivision, then country, then the default. */
static int chain_for_geo(json_t *geo, key_chain keys, int *n, char **err)
{
	const char *c = json_string_value(json_object_get(geo, "country"));
	const char *s = json_string_value(json_object_get(geo, "subdivision"));
	const char *city = json_string_value(json_object_get(geo, "city"));
	*n = 0;
	if (!c || strlen(c) != 2 || !isalpha((unsigned char)c[0]) ||
	    !isalpha((unsigned char)c[1]))
		return fail(err, SKY_EINVALID,
		            "a geo-target needs a two-letter \"country\"");
	if (s && city)
		snprintf(keys[(*n)++], KEY_MAX, "%s/%.10s/%.100s", c, s, city);
	if (s)
		snprintf(keys[(*n)++], KEY_MAX, "%s/%.10s", c, s);
	snprintf(keys[(*n)++], KEY_MAX, "%s", c);
	snprintf(keys[(*n)++], KEY_MAX, "default");
	return 0;
}

static int resolve_url(struct inst *in, json_t *url, char **out, char **err)
{
	struct proxy px;
	const char *why = NULL;
	if (!in->allow_request_url)
		return fail(err, SKY_EUNSUPPORTED,
		            "proxy_location {\"url\": ...} is turned off "
		            "(proxy.allow_request_url is false)");
	if (!json_is_string(url) ||
	    parse_url(json_string_value(url), &px, &why))
		return fail(err, SKY_EINVALID, "proxy_location url: %s",
		            why ? why : "must be a string");
	int rc = answer(&px, px.username, NULL, "url", out, err);
	proxy_clear(&px);
	return rc;
}

static int ps_resolve(void *instance, const char *location_json,
                      const char *run_id, char **proxy_json, char **err)
{
	struct inst *in = instance;
	key_chain keys;
	int n = 0, rc = 0;
	json_t *loc = NULL;

	*proxy_json = NULL;
	if (location_json && *location_json) {
		json_error_t je;
		loc = json_loads(location_json, JSON_DECODE_ANY, &je);
		if (!loc)
			return fail(err, SKY_EINVALID,
			            "proxy_location is not JSON");
	}
	if (!loc || json_is_null(loc)) {
		n = chain_for_enum("RESIDENTIAL", keys); /* the API default */
	} else if (json_is_string(loc)) {
		const char *s = json_string_value(loc);
		if (!is_location(s)) {
			rc = fail(err, SKY_EINVALID,
			          "\"%.64s\" is not a proxy_location", s);
			goto cleanup;
		}
		n = chain_for_enum(s, keys);
	} else if (json_is_object(loc) && json_object_get(loc, "url")) {
		rc = resolve_url(in, json_object_get(loc, "url"), proxy_json,
		                 err);
		goto cleanup;
	} else if (json_is_object(loc) && json_object_get(loc, "country")) {
		if ((rc = chain_for_geo(loc, keys, &n, err)))
			goto cleanup;
	} else {
		rc = fail(err, SKY_EINVALID,
		          "proxy_location must be a location name, a "
		          "geo-target {\"country\", ...} or {\"url\": ...}");
		goto cleanup;
	}
	for (int i = 0; i < n; i++) {
		struct pool *p = find_pool(in, keys[i]);
		if (p) {
			rc = resolve_pool(p, run_id, proxy_json, err);
			goto cleanup;
		}
	}
	rc = fail(err, SKY_ENOTFOUND, "no proxy mapped for %s%s", keys[0],
	          n > 1 ? " and no default" : "");
cleanup:
	json_decref(loc);
	return rc;
}

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	static const sky_proxy_provider vt = {
	    .name = "static",
	    .create = ps_create,
	    .destroy = ps_destroy,
	    .resolve = ps_resolve,
	};
	(void)err;
	host = api;
	return sky_register_proxy(api, reg, &vt);
}
