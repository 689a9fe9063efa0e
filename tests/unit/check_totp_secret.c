/* Unit tests: the totp-secret plugin, loaded through the real plugin
 * loader (RFC vectors, config forms, errors, no secret in any log). */
#include <pthread.h>
#include <skyengine.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/loader.h"
#include "skytest.h"
#include "util/fs.h"
#include <skyx/otp.h>
#include <skyx/str.h>

/* RFC 6238 Appendix B keys, base32: "1234567890" repeated to 20, 32 and
 * 64 bytes. */
#define KEY_SHA1 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define KEY_SHA256 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA===="
#define KEY_SHA512                                                             \
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"     \
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA="

/* A secret that must never show up anywhere (base32 of
 * "never-log-this-secret!"). */
#define SECRET "NZSXMZLSFVWG6ZZNORUGS4ZNONSWG4TFOQQQ===="

static sky_plugins *plugins;
static const sky_totp_provider *vt;

static void setup(void)
{
	ck_assert_int_eq(sky_plugins_new(SKY_TEST_PLUGIN_BUILD_DIR, &plugins),
	                 0);
	vt = sky_plugins_totp(plugins, "secret");
	ck_assert_msg(vt != NULL, "%s", sky_error_last());
}

static void teardown(void)
{
	sky_plugins_free(plugins);
	plugins = NULL;
}

/* Everything logged, for the "never logged" checks. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static skyx_buf logged;
static void capture(sky_log_level l, const char *c, const char *m, void *ud)
{
	(void)l;
	(void)ud;
	pthread_mutex_lock(&log_lock);
	skyx_buf_printf(&logged, "%s: %s\n", c, m);
	pthread_mutex_unlock(&log_lock);
}

static void *create_ok(const char *cfg)
{
	void *inst = NULL;
	char *err = NULL;
	int rc = vt->create(sky_plugins_ctx(plugins, vt), cfg, &inst, &err);
	ck_assert_msg(rc == 0, "create failed: %s", err ? err : "?");
	ck_assert_ptr_nonnull(inst);
	return inst;
}

/* create() must fail with `code` and an error containing `needle` and
 * never the secret. */
static void create_fails(const char *cfg, int code, const char *needle)
{
	void *inst = NULL;
	char *err = NULL;
	ck_assert_int_eq(
	    vt->create(sky_plugins_ctx(plugins, vt), cfg, &inst, &err), code);
	ck_assert_ptr_null(inst);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, needle), "error '%s' lacks '%s'", err,
	              needle);
	ck_assert_msg(!strstr(err, "NZSXMZLS") && !strstr(err, "FVWG6ZZ"),
	              "error quotes the secret: %s", err);
	free(err);
}

static char *code_at(void *inst, const char *id, int64_t t)
{
	char *code = NULL, *err = NULL;
	int rc = vt->get_code(inst, id, t, &code, &err);
	ck_assert_msg(rc == 0, "get_code(%s, %lld): %d %s", id, (long long)t,
	              rc, err ? err : "");
	return code;
}

static void assert_code(void *inst, const char *id, int64_t t, const char *want)
{
	char *got = code_at(inst, id, t);
	ck_assert_msg(!strcmp(got, want), "%s at %lld: got %s want %s", id,
	              (long long)t, got, want);
	free(got);
}

START_TEST(rfc6238_appendix_b_vectors)
{
	static const struct {
		int64_t t;
		const char *sha1, *sha256, *sha512;
	} v[] = {
	    {59, "94287082", "46119246", "90693936"},
	    {1111111109, "07081804", "68084774", "25091201"},
	    {1111111111, "14050471", "67062674", "99943326"},
	    {1234567890, "89005924", "91819424", "93441116"},
	    {2000000000, "69279037", "90698825", "38618901"},
	    {20000000000LL, "65353130", "77737706", "47863826"},
	};
	void *inst = create_ok(
	    "{\"secrets\": {"
	    "\"sha1\": {\"secret\": \"" KEY_SHA1 "\", \"digits\": 8},"
	    "\"sha256\": {\"secret\": \"" KEY_SHA256 "\", \"digits\": 8,"
	    "  \"algorithm\": \"SHA256\"},"
	    "\"sha512\": {\"secret\": \"" KEY_SHA512 "\", \"digits\": 8,"
	    "  \"algorithm\": \"sha-512\", \"period\": 30}}}");
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_code(inst, "sha1", v[i].t, v[i].sha1);
		assert_code(inst, "sha256", v[i].t, v[i].sha256);
		assert_code(inst, "sha512", v[i].t, v[i].sha512);
	}
	vt->destroy(inst);
}
END_TEST

/* With a 1 s period the time is the HOTP counter: RFC 4226 Appendix D
 * through the plugin. */
START_TEST(rfc4226_appendix_d_vectors)
{
	static const char *want[] = {"755224", "287082", "359152", "969429",
	                             "338314", "254676", "287922", "162583",
	                             "399871", "520489"};
	void *inst = create_ok("{\"secrets\": {\"h\": {\"secret\": \"" KEY_SHA1
	                       "\", \"period\": 1}}}");
	for (int i = 0; i < 10; i++)
		assert_code(inst, "h", i, want[i]);
	vt->destroy(inst);
}
END_TEST

START_TEST(codes_change_with_the_step_and_match_the_library)
{
	void *inst =
	    create_ok("{\"secrets\": {\"chris@example.com\": \"" SECRET "\"}}");
	skyx_otp_params p = SKYX_OTP_PARAMS_INIT;
	char want[SKYX_OTP_CODE_MAX];
	for (int64_t t = 1700000000; t < 1700000000 + 30 * 40; t += 7) {
		char *got = code_at(inst, "chris@example.com", t);
		ck_assert_int_eq(skyx_otp_totp_base32(SECRET, &p, t, want), 0);
		ck_assert_str_eq(got, want);
		ck_assert_uint_eq(strlen(got), 6);
		free(got);
	}
	/* Same step, same code; next step, (almost surely) another. */
	char *a = code_at(inst, "chris@example.com", 1700000010);
	char *b = code_at(inst, "chris@example.com", 1700000039);
	char *c = code_at(inst, "chris@example.com", 1700000040);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	free(a);
	free(b);
	free(c);
	vt->destroy(inst);
}
END_TEST

START_TEST(unknown_identifier_is_not_found)
{
	void *inst =
	    create_ok("{\"secrets\": {\"a@example.com\": \"" SECRET "\"}}");
	char *code = NULL, *err = NULL;
	ck_assert_int_eq(
	    vt->get_code(inst, "b@example.com", 1700000000, &code, &err),
	    SKY_ENOTFOUND);
	ck_assert_ptr_null(code);
	ck_assert_ptr_nonnull(strstr(err, "b@example.com"));
	free(err);
	err = NULL;
	/* Identifiers are exact. */
	ck_assert_int_eq(
	    vt->get_code(inst, "A@example.com", 1700000000, &code, &err),
	    SKY_ENOTFOUND);
	free(err);
	err = NULL;
	ck_assert_int_eq(vt->get_code(inst, "a@example.com", -1, &code, &err),
	                 SKY_EINVALID);
	free(err);
	vt->destroy(inst);
}
END_TEST

START_TEST(otpauth_uris_as_values)
{
	/* Lower-case secret with %-escapes in the label, SHA256, 8 digits,
	 * 60 s period; the object form overrides the URI's digits. */
	void *inst = create_ok(
	    "{\"secrets\": {"
	    "\"uri\": \"otpauth://totp/Acme%20Corp:chris%40example.com?"
	    "secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojqgezdgnbvgy3tqojqgeza"
	    "&issuer=Acme%20Corp&algorithm=SHA256&digits=8&period=60\","
	    "\"plain\": \"otpauth://totp/x?secret=" KEY_SHA1 "\","
	    "\"over\": {\"secret\": \"otpauth://totp/x?secret=" KEY_SHA1
	    "&digits=6\", \"digits\": 8}}}");
	/* t=1234567890 with a 60 s period is step 20576131, which is
	 * t=617283930 with 30 s; compare with the library. */
	skyx_otp_params p = {SKYX_OTP_SHA256, 8, 60};
	char want[SKYX_OTP_CODE_MAX];
	ck_assert_int_eq(skyx_otp_totp_base32(KEY_SHA256, &p, 1234567890, want),
	                 0);
	assert_code(inst, "uri", 1234567890, want);
	assert_code(inst, "plain", 59, "287082");
	assert_code(inst, "over", 59, "94287082");
	vt->destroy(inst);

	create_fails("{\"secrets\": {\"h\": \"otpauth://hotp/x?secret=" SECRET
	             "&counter=1\"}}",
	             SKY_EINVALID, "otpauth://hotp URIs are not supported");
	create_fails("{\"secrets\": {\"h\": \"otpauth://totp/x?issuer=y\"}}",
	             SKY_EINVALID, "no secret= parameter");
}
END_TEST

static char *write_secrets(const char *dir, const char *name, const char *json)
{
	char *path = skyx_asprintf("%s/%s", dir, name);
	ck_assert_int_eq(sky_write_file(path, json, strlen(json)), 0);
	chmod(path, 0600);
	return path;
}

START_TEST(secrets_from_a_file_by_option_and_by_environment)
{
	char *dir = skytest_tmpdir("totp");
	char *path =
	    write_secrets(dir, "totp.json",
	                  "{\"secrets\": {\"file-id\": {\"secret\": \"" KEY_SHA1
	                  "\", \"digits\": 8}, \"both\": \"" KEY_SHA1 "\"}}");
	char *cfg = skyx_asprintf("{\"file\": \"%s\"}", path);
	void *inst = create_ok(cfg);
	assert_code(inst, "file-id", 59, "94287082");
	vt->destroy(inst);
	free(cfg);

	/* $SKYENGINE_TOTP_FILE (through host->config_get("totp.file")), with
	 * inline secrets added on top and winning on a shared identifier. */
	setenv("SKYENGINE_TOTP_FILE", path, 1);
	inst = create_ok("{\"secrets\": {\"both\": {\"secret\": \"" KEY_SHA1
	                 "\", \"digits\": 7}}}");
	assert_code(inst, "file-id", 59, "94287082");
	assert_code(inst, "both", 59, "4287082");
	vt->destroy(inst);
	inst = create_ok(NULL);
	assert_code(inst, "both", 59, "287082");
	vt->destroy(inst);
	unsetenv("SKYENGINE_TOTP_FILE");

	/* A file others may read still loads, with a warning. */
	sky_log_set(capture, SKY_LOG_DEBUG, NULL);
	chmod(path, 0644);
	cfg = skyx_asprintf("{\"file\": \"%s\"}", path);
	inst = create_ok(cfg);
	vt->destroy(inst);
	ck_assert_ptr_nonnull(strstr(logged.data, "readable by other users"));
	sky_log_set(NULL, SKY_LOG_WARN, NULL);
	free(cfg);

	free(path);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(config_errors_are_clear_and_never_quote_the_secret)
{
	create_fails(NULL, SKY_EINVALID, "no secrets configured");
	create_fails("{}", SKY_EINVALID, "SKYENGINE_TOTP_FILE");
	create_fails("[1]", SKY_EINVALID, "must be a JSON object");
	create_fails("{\"secrets\": {}, \"sekrets\": 1}", SKY_EINVALID,
	             "unknown option \"sekrets\"");
	create_fails("{\"secrets\": [\"" SECRET "\"]}", SKY_EINVALID,
	             "must be an object");
	create_fails("{\"secrets\": {\"x\": \"" SECRET "!\"}}", SKY_EINVALID,
	             "secret 'x': the secret is not valid base32");
	create_fails("{\"secrets\": {\"x\": \"====\"}}", SKY_EINVALID,
	             "the secret is empty");
	create_fails("{\"secrets\": {\"x\": {\"secret\": \"" SECRET
	             "\", \"digits\": 9}}}",
	             SKY_EINVALID, "digits must be 6 to 8, not 9");
	create_fails("{\"secrets\": {\"x\": {\"secret\": \"" SECRET
	             "\", \"digits\": 5}}}",
	             SKY_EINVALID, "digits must be 6 to 8, not 5");
	create_fails("{\"secrets\": {\"x\": {\"secret\": \"" SECRET
	             "\", \"period\": -30}}}",
	             SKY_EINVALID, "period must be 1 to 3600 seconds");
	create_fails("{\"secrets\": {\"x\": {\"secret\": \"" SECRET
	             "\", \"period\": \"soon\"}}}",
	             SKY_EINVALID, "\"period\" must be an integer");
	create_fails("{\"secrets\": {\"x\": {\"secret\": \"" SECRET
	             "\", \"algorithm\": \"MD5\"}}}",
	             SKY_EINVALID, "unknown algorithm \"MD5\"");
	create_fails("{\"secrets\": {\"x\": {\"secert\": \"" SECRET "\"}}}",
	             SKY_EINVALID, "unknown field \"secert\"");
	create_fails("{\"secrets\": {\"x\": 12345}}", SKY_EINVALID,
	             "must be a base32 string");
	create_fails("{\"file\": \"/nonexistent/totp.json\"}", SKY_EIO,
	             "cannot read secrets file /nonexistent/totp.json");

	/* A broken file: position given, no fragment of its content. */
	char *dir = skytest_tmpdir("totp");
	char *path = write_secrets(dir, "bad.json",
	                           "{\"secrets\": {\"x\": " SECRET "}}");
	char *cfg = skyx_asprintf("{\"file\": \"%s\"}", path);
	create_fails(cfg, SKY_EPARSE, "bad.json:1:");
	free(cfg);
	free(path);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(secrets_and_codes_never_logged)
{
	sky_log_set(capture, SKY_LOG_TRACE, NULL);
	void *inst =
	    create_ok("{\"secrets\": {\"chris@example.com\": \"" SECRET
	              "\", \"u\": \"otpauth://totp/u?secret=" SECRET "\"}}");
	char *code = code_at(inst, "chris@example.com", 1700000000);
	char *err = NULL, *none = NULL;
	vt->get_code(inst, "nobody", 1700000000, &none, &err);
	free(err);
	vt->destroy(inst);
	sky_log_set(NULL, SKY_LOG_WARN, NULL);
	ck_assert_ptr_nonnull(logged.data); /* it did log: "2 secrets" */
	ck_assert_ptr_nonnull(strstr(logged.data, "2 TOTP secrets loaded"));
	ck_assert_ptr_null(strstr(logged.data, "NZSXMZLS"));
	ck_assert_ptr_null(strstr(logged.data, code));
	free(code);
}
END_TEST

struct worker {
	void *inst;
	int64_t t0;
	int ok;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	skyx_otp_params p = SKYX_OTP_PARAMS_INIT;
	char want[SKYX_OTP_CODE_MAX];
	w->ok = 1;
	for (int i = 0; i < 500; i++) {
		char *code = NULL, *err = NULL;
		int64_t t = w->t0 + i * 30;
		if (vt->get_code(w->inst, "chris@example.com", t, &code,
		                 &err) ||
		    skyx_otp_totp_base32(SECRET, &p, t, want) ||
		    strcmp(code, want))
			w->ok = 0;
		free(code);
		free(err);
	}
	return NULL;
}

START_TEST(one_instance_serves_many_threads)
{
	void *inst =
	    create_ok("{\"secrets\": {\"chris@example.com\": \"" SECRET "\"}}");
	struct worker w[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){inst, 1600000000 + i * 100000, 0};
		ck_assert_int_eq(
		    pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert(w[i].ok);
	}
	vt->destroy(inst);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("totp_secret");
	TCase *tc = tcase_create("plugin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rfc6238_appendix_b_vectors);
	tcase_add_test(tc, rfc4226_appendix_d_vectors);
	tcase_add_test(tc, codes_change_with_the_step_and_match_the_library);
	tcase_add_test(tc, unknown_identifier_is_not_found);
	tcase_add_test(tc, otpauth_uris_as_values);
	tcase_add_test(tc, secrets_from_a_file_by_option_and_by_environment);
	tcase_add_test(tc, config_errors_are_clear_and_never_quote_the_secret);
	tcase_add_test(tc, secrets_and_codes_never_logged);
	tcase_add_test(tc, one_instance_serves_many_threads);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
