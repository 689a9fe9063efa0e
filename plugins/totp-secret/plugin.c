/*
 * totp-secret: a TOTP provider computing RFC 6238 codes from secrets
 * stored in its configuration (inline, or a JSON file), keyed by the
 * run's totp_identifier. Secrets and codes never reach a log line or an
 * error message. See docs/proxies-totp.md.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <skyengine/plugin/errors.h>
#include <skyengine/plugin/plugin.h>
#include <skyengine/plugin/totp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <skyx/codec.h>
#include <skyx/otp.h>

#define COMPONENT "totp-secret"
#define MAX_PERIOD 3600
#define MAX_KEY 1024

static const sky_host_api *host;

struct secret {
	char *id;
	unsigned char *key;
	size_t keylen;
	int algo;
	int digits;
	int period;
};

/* Immutable after create(), so get_code() needs no lock. */
struct inst {
	struct secret *v;
	size_t n;
};

static int fail(char **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char **err, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n = snprintf(msg, sizeof msg, COMPONENT ": ");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	if (err)
		*err = host->strdup(msg);
	return code;
}

/* The settings one secret is described by, before decoding. */
struct spec {
	char *secret; /* base32, malloc'd (wiped on free) */
	char *algorithm;
	int digits;
	int period;
};

static void wipe_free(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void spec_free(struct spec *s)
{
	wipe_free(s->secret);
	free(s->algorithm);
	memset(s, 0, sizeof *s);
}

static int is_otpauth(const char *v)
{
	return !strncasecmp(v, "otpauth://", 10);
}

/* otpauth://totp/Label?secret=...&algorithm=...&digits=...&period=...
 * (the Key Uri Format of authenticator apps). */
static int parse_otpauth(const char *id, const char *uri, struct spec *sp,
                         char **err)
{
	const char *type = uri + 10;
	if (!strncasecmp(type, "hotp/", 5))
		return fail(err, SKY_EINVALID,
		            "secret '%s': counter-based otpauth://hotp URIs "
		            "are not supported (only totp)",
		            id);
	if (strncasecmp(type, "totp/", 5) && strncasecmp(type, "totp?", 5))
		return fail(err, SKY_EINVALID,
		            "secret '%s': otpauth URI must start with "
		            "otpauth://totp/",
		            id);
	const char *q = strchr(type, '?');
	while (q && *q) {
		q++;
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		if (eq) {
			size_t kl = (size_t)(eq - q);
			char *val = skyx_pct_decode(eq + 1, len - kl - 1,
			                            SKYX_PCT_PLUS_SPACE);
			if (!val)
				return fail(err, SKY_ENOMEM, "out of memory");
			if (kl == 6 && !strncasecmp(q, "secret", 6)) {
				wipe_free(sp->secret);
				sp->secret = val;
				val = NULL;
			} else if (kl == 9 && !strncasecmp(q, "algorithm", 9)) {
				free(sp->algorithm);
				sp->algorithm = val;
				val = NULL;
			} else if (kl == 6 && !strncasecmp(q, "digits", 6)) {
				sp->digits = atoi(val) ? atoi(val) : -1;
			} else if (kl == 6 && !strncasecmp(q, "period", 6)) {
				sp->period = atoi(val) ? atoi(val) : -1;
			}
			wipe_free(val);
		}
		q = amp;
	}
	if (!sp->secret)
		return fail(err, SKY_EINVALID,
		            "secret '%s': otpauth URI has no secret= parameter",
		            id);
	return 0;
}

static int int_field(const char *id, json_t *obj, const char *key, int *out,
                     char **err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= -1000000 &&
	    json_integer_value(v) <= 1000000) {
		*out = (int)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		char *end;
		long l = strtol(json_string_value(v), &end, 10);
		if (*json_string_value(v) && !*end && l > -1000000 &&
		    l < 1000000) {
			*out = (int)l;
			return 0;
		}
	}
	return fail(err, SKY_EINVALID, "secret '%s': \"%s\" must be an integer",
	            id, key);
}

/* One entry of "secrets": a base32 string, an otpauth URI, or an object
 * {"secret", "algorithm", "digits", "period", "issuer"}. */
static int parse_spec(const char *id, json_t *v, struct spec *sp, char **err)
{
	static const char *const keys[] = {"secret", "algorithm", "digits",
	                                   "period", "issuer",    NULL};
	const char *secret;
	const char *k;
	json_t *x;
	int rc;

	if (json_is_string(v)) {
		secret = json_string_value(v);
	} else if (json_is_object(v)) {
		json_object_foreach (v, k, x) {
			int known = 0;
			for (int i = 0; keys[i]; i++)
				known |= !strcmp(k, keys[i]);
			if (!known)
				return fail(
				    err, SKY_EINVALID,
				    "secret '%s': unknown field \"%s\" "
				    "(known: secret, algorithm, digits, "
				    "period, issuer)",
				    id, k);
		}
		secret = json_string_value(json_object_get(v, "secret"));
		if (!secret)
			return fail(
			    err, SKY_EINVALID,
			    "secret '%s': \"secret\" (a base32 string or "
			    "an otpauth:// URI) is required",
			    id);
	} else {
		return fail(err, SKY_EINVALID,
		            "secret '%s': must be a base32 string, an "
		            "otpauth:// URI or an object",
		            id);
	}
	if (is_otpauth(secret)) {
		if ((rc = parse_otpauth(id, secret, sp, err)))
			return rc;
	} else {
		sp->secret = strdup(secret);
		if (!sp->secret)
			return fail(err, SKY_ENOMEM, "out of memory");
	}
	if (json_is_object(v)) {
		/* Explicit fields win over the URI's. */
		x = json_object_get(v, "algorithm");
		if (x && !json_is_string(x))
			return fail(
			    err, SKY_EINVALID,
			    "secret '%s': \"algorithm\" must be a string", id);
		if (x) {
			free(sp->algorithm);
			sp->algorithm = strdup(json_string_value(x));
		}
		if ((rc = int_field(id, v, "digits", &sp->digits, err)) ||
		    (rc = int_field(id, v, "period", &sp->period, err)))
			return rc;
	}
	return 0;
}

static int add_secret(struct inst *in, const char *id, json_t *v, char **err)
{
	struct spec sp = {0};
	struct secret s = {0};
	int rc = parse_spec(id, v, &sp, err);
	if (rc)
		goto cleanup;
	s.algo =
	    sp.algorithm ? skyx_otp_algo_parse(sp.algorithm) : SKYX_OTP_SHA1;
	s.digits = sp.digits ? sp.digits : 6;
	s.period = sp.period ? sp.period : 30;
	if (s.algo < 0) {
		rc = fail(err, SKY_EINVALID,
		          "secret '%s': unknown algorithm \"%s\" (use SHA1, "
		          "SHA256 or SHA512)",
		          id, sp.algorithm);
		goto cleanup;
	}
	if (s.digits < SKYX_OTP_MIN_DIGITS || s.digits > SKYX_OTP_MAX_DIGITS) {
		rc = fail(err, SKY_EINVALID,
		          "secret '%s': digits must be 6 to 8, not %d", id,
		          s.digits);
		goto cleanup;
	}
	if (s.period < 1 || s.period > MAX_PERIOD) {
		rc = fail(err, SKY_EINVALID,
		          "secret '%s': period must be 1 to %d seconds, not %d",
		          id, MAX_PERIOD, s.period);
		goto cleanup;
	}
	s.key = skyx_base32_decode(sp.secret, &s.keylen);
	if (!s.key || s.keylen == 0 || s.keylen > MAX_KEY) {
		rc =
		    fail(err, SKY_EINVALID, "secret '%s': the secret is %s", id,
		         !s.key     ? "not valid base32 (A-Z, 2-7)"
		         : s.keylen ? "too long"
		                    : "empty");
		goto cleanup;
	}
	s.id = strdup(id);
	struct secret *nv = realloc(in->v, (in->n + 1) * sizeof *nv);
	if (!s.id || !nv) {
		if (nv)
			in->v = nv;
		rc = fail(err, SKY_ENOMEM, "out of memory");
		goto cleanup;
	}
	in->v = nv;
	in->v[in->n++] = s;
	memset(&s, 0, sizeof s);
cleanup:
	spec_free(&sp);
	if (s.key)
		OPENSSL_cleanse(s.key, s.keylen);
	free(s.key);
	free(s.id);
	return rc;
}

static void inst_free(struct inst *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++) {
		OPENSSL_cleanse(in->v[i].key, in->v[i].keylen);
		free(in->v[i].key);
		free(in->v[i].id);
	}
	free(in->v);
	free(in);
}

/* Load the secrets file. jansson's "near '...'" detail is dropped from
 * errors: it could quote part of a secret. */
static int load_file(const char *path, json_t **out, char **err)
{
	json_error_t je;
	struct stat st;
	if (stat(path, &st))
		return fail(err, SKY_EIO, "cannot read secrets file %s: %s",
		            path, strerror(errno));
	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!*out) {
		char *near = strstr(je.text, " near ");
		if (near)
			*near = '\0';
		return fail(err, SKY_EPARSE, "secrets file %s:%d:%d: %s", path,
		            je.line, je.column, je.text);
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return fail(err, SKY_EINVALID,
		            "secrets file %s must hold a JSON object "
		            "{\"secrets\": {...}}",
		            path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		host->log(NULL, SKY_HOST_LOG_WARN, COMPONENT,
		          "secrets file %s is readable by other users "
		          "(chmod 600 it)",
		          path);
	return 0;
}

static int check_options(json_t *cfg, const char *where, char **err)
{
	const char *k;
	json_t *v;
	json_object_foreach (cfg, k, v) {
		/* "provider" and "data_dir" are the engine's own keys. */
		if (strcmp(k, "file") && strcmp(k, "secrets") &&
		    strcmp(k, "provider") && strcmp(k, "data_dir"))
			return fail(err, SKY_EINVALID,
			            "unknown option \"%s\" in %s (known: file, "
			            "secrets)",
			            k, where);
	}
	v = json_object_get(cfg, "secrets");
	if (v && !json_is_object(v))
		return fail(err, SKY_EINVALID,
		            "\"secrets\" in %s must be an object "
		            "{\"<totp_identifier>\": ...}",
		            where);
	v = json_object_get(cfg, "file");
	if (v && !json_is_string(v))
		return fail(err, SKY_EINVALID,
		            "\"file\" in %s must be a path string", where);
	return 0;
}

/* Config: {"file": path?, "secrets": {...}?}; the file (config "file",
 * else totp.file / $SKYENGINE_TOTP_FILE) has the same shape and the
 * inline secrets win over it. */
static int ts_create(const sky_host_ctx *ctx, const char *config_json,
                     void **instance, char **err)
{
	json_t *cfg = NULL, *file_cfg = NULL, *all = NULL;
	json_error_t je;
	char *file = NULL;
	const char *k;
	json_t *v;
	int rc = 0;
	struct inst *in = calloc(1, sizeof *in);

	*instance = NULL;
	if (!in)
		return fail(err, SKY_ENOMEM, "out of memory");
	if (config_json && *config_json) {
		cfg = json_loads(config_json, 0, &je);
		if (!cfg || !json_is_object(cfg)) {
			rc = fail(err, SKY_EINVALID,
			          "the \"totp\" configuration must be a JSON "
			          "object");
			goto cleanup;
		}
	} else {
		cfg = json_object();
	}
	if ((rc = check_options(cfg, "the totp configuration", err)))
		goto cleanup;
	if (json_is_string(json_object_get(cfg, "file")))
		file = strdup(json_string_value(json_object_get(cfg, "file")));
	else if (SKY_HOST_HAS(host, config_get)) {
		char *f = host->config_get(ctx, "totp.file");
		file = f ? strdup(f) : NULL;
		host->free(f);
	}
	all = json_object();
	if (file && *file) {
		if ((rc = load_file(file, &file_cfg, err)) ||
		    (rc = check_options(file_cfg, file, err)))
			goto cleanup;
		json_object_update(all, json_object_get(file_cfg, "secrets"));
	}
	json_object_update(all, json_object_get(cfg, "secrets"));
	if (json_object_size(all) == 0) {
		rc =
		    fail(err, SKY_EINVALID,
		         "no secrets configured (set totp.secrets, or "
		         "totp.file / SKYENGINE_TOTP_FILE naming a JSON file)");
		goto cleanup;
	}
	json_object_foreach (all, k, v) {
		if (!*k) {
			rc = fail(err, SKY_EINVALID,
			          "a secret has an empty identifier");
			goto cleanup;
		}
		if ((rc = add_secret(in, k, v, err)))
			goto cleanup;
	}
	host->log(ctx, SKY_HOST_LOG_INFO, COMPONENT,
	          "%zu TOTP secret%s loaded%s%s", in->n, in->n == 1 ? "" : "s",
	          file ? " from " : "", file ? file : "");
	*instance = in;
	in = NULL;
cleanup:
	inst_free(in);
	free(file);
	json_decref(cfg);
	json_decref(file_cfg);
	json_decref(all);
	return rc;
}

static void ts_destroy(void *instance)
{
	inst_free(instance);
}

static int ts_get_code(void *instance, const char *identifier, int64_t now,
                       char **code, char **err)
{
	struct inst *in = instance;
	char buf[SKYX_OTP_CODE_MAX];
	*code = NULL;
	if (!in || !identifier)
		return fail(err, SKY_EINVALID, "no identifier given");
	if (now < 0)
		return fail(err, SKY_EINVALID, "time must not be negative");
	for (size_t i = 0; i < in->n; i++) {
		struct secret *s = &in->v[i];
		if (strcmp(s->id, identifier))
			continue;
		skyx_otp_params p = {(skyx_otp_algo)s->algo, s->digits,
		                     s->period};
		if (skyx_otp_totp(s->key, s->keylen, &p, now, buf))
			return fail(err, SKY_ERROR,
			            "computing the code for '%s' failed",
			            identifier);
		*code = host->strdup(buf);
		OPENSSL_cleanse(buf, sizeof buf);
		return *code ? 0 : fail(err, SKY_ENOMEM, "out of memory");
	}
	return fail(err, SKY_ENOTFOUND, "no TOTP secret for identifier '%s'",
	            identifier);
}

SKY_PLUGIN_DECLARE();

SKY_PLUGIN_EXPORT uint32_t sky_plugin_abi(void)
{
	return SKY_PLUGIN_ABI;
}

SKY_PLUGIN_EXPORT int sky_plugin_load(const sky_host_api *api,
                                      sky_registrar *reg, char **err)
{
	static const sky_totp_provider vt = {
	    .name = "secret",
	    .create = ts_create,
	    .destroy = ts_destroy,
	    .get_code = ts_get_code,
	};
	(void)err;
	host = api;
	return sky_register_totp(api, reg, &vt);
}
