/* Unit tests: the proxy-static plugin, loaded through the real plugin
 * loader (every location, fallbacks, geo-targets, credentials, sticky and
 * round-robin lists, sessions, config errors, no password in any log). */
#include <jansson.h>
#include <pthread.h>
#include <skyengine.h>
#include <stdio.h>
#include <string.h>

#include "plugin/loader.h"
#include "skytest.h"
#include "util/fs.h"
#include <skyx/str.h>

#define PASSWORD "Pr0xy-Secret-Pa55"

/* clang-format off */
static const char *const all_locations[] = {
	"RESIDENTIAL", "US-CA", "US-NY", "US-TX", "US-FL", "US-WA",
	"RESIDENTIAL_ES", "RESIDENTIAL_IE", "RESIDENTIAL_GB",
	"RESIDENTIAL_IN", "RESIDENTIAL_JP", "RESIDENTIAL_FR",
	"RESIDENTIAL_DE", "RESIDENTIAL_NZ", "RESIDENTIAL_ZA",
	"RESIDENTIAL_AR", "RESIDENTIAL_AU", "RESIDENTIAL_BR",
	"RESIDENTIAL_TR", "RESIDENTIAL_CA", "RESIDENTIAL_MX",
	"RESIDENTIAL_IT", "RESIDENTIAL_NL", "RESIDENTIAL_PH",
	"RESIDENTIAL_KR", "RESIDENTIAL_SA", "RESIDENTIAL_ISP", "NONE"
};
/* clang-format on */
#define N_LOCATIONS (sizeof all_locations / sizeof all_locations[0])

static sky_plugins *plugins;
static const sky_proxy_provider *vt;

static void setup(void)
{
	ck_assert_int_eq(sky_plugins_new(SKY_TEST_PLUGIN_BUILD_DIR, &plugins),
	                 0);
	vt = sky_plugins_proxy(plugins, "static");
	ck_assert_msg(vt != NULL, "%s", sky_error_last());
}

static void teardown(void)
{
	sky_plugins_free(plugins);
	plugins = NULL;
}

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
	return inst;
}

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
	ck_assert_msg(!strstr(err, PASSWORD), "error shows the password: %s",
	              err);
	free(err);
}

/* Resolve and parse; NULL when the plugin answered an error (its code
 * in *rc). */
static json_t *resolve(void *inst, const char *loc, const char *run, int *rc)
{
	char *out = NULL, *err = NULL;
	int r = vt->resolve(inst, loc, run, &out, &err);
	if (rc)
		*rc = r;
	if (r) {
		ck_assert_ptr_null(out);
		ck_assert_ptr_nonnull(err);
		ck_assert_msg(!strstr(err, PASSWORD), "error shows password");
		free(err);
		return NULL;
	}
	json_t *j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "not JSON: %s", out);
	free(out);
	return j;
}

static const char *str(json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}

/* The server a location resolves to (and the key that matched). */
static void assert_maps(void *inst, const char *loc, const char *server,
                        const char *matched)
{
	int rc;
	json_t *j = resolve(inst, loc, "tsk_1", &rc);
	ck_assert_msg(j != NULL, "%s: error %d", loc, rc);
	ck_assert_msg(!strcmp(str(j, "server"), server) &&
	                  !strcmp(str(j, "matched"), matched),
	              "%s -> %s via %s, want %s via %s", loc, str(j, "server"),
	              str(j, "matched"), server, matched);
	json_decref(j);
}

static void assert_unmapped(void *inst, const char *loc)
{
	int rc;
	json_t *j = resolve(inst, loc, "tsk_1", &rc);
	ck_assert_msg(j == NULL && rc == SKY_ENOTFOUND,
	              "%s: expected no proxy, got %d", loc, rc);
}

START_TEST(every_contract_location_maps)
{
	skyx_buf cfg = {0};
	skyx_buf_puts(&cfg, "{\"locations\": {");
	for (size_t i = 0; i < N_LOCATIONS; i++)
		skyx_buf_printf(&cfg, "%s\"%s\": \"http://127.0.0.1:%zu\"",
		                i ? "," : "", all_locations[i], 10000 + i);
	skyx_buf_puts(&cfg, "}}");
	void *inst = create_ok(cfg.data);
	for (size_t i = 0; i < N_LOCATIONS; i++) {
		char loc[64], server[64];
		snprintf(loc, sizeof loc, "\"%s\"", all_locations[i]);
		snprintf(server, sizeof server, "http://127.0.0.1:%zu",
		         10000 + i);
		assert_maps(inst, loc, server, all_locations[i]);
	}
	/* The API's default (no location) is RESIDENTIAL. */
	assert_maps(inst, NULL, "http://127.0.0.1:10000", "RESIDENTIAL");
	assert_maps(inst, "null", "http://127.0.0.1:10000", "RESIDENTIAL");
	int rc;
	ck_assert_ptr_null(resolve(inst, "\"RESIDENTIAL_XX\"", "r", &rc));
	ck_assert_int_eq(rc, SKY_EINVALID);
	ck_assert_ptr_null(resolve(inst, "{not json", "r", &rc));
	ck_assert_int_eq(rc, SKY_EINVALID);
	ck_assert_ptr_null(resolve(inst, "[1]", "r", &rc));
	ck_assert_int_eq(rc, SKY_EINVALID);
	vt->destroy(inst);
	skyx_buf_free(&cfg);
}
END_TEST

START_TEST(fallbacks_default_and_none)
{
	void *inst = create_ok("{\"locations\": {"
	                       " \"RESIDENTIAL\": \"http://res:1\","
	                       " \"GB\": \"http://gb:1\","
	                       " \"US/CA\": \"http://us-ca:1\","
	                       " \"US\": \"http://us:1\"},"
	                       " \"default\": \"http://fallback:1\"}");
	assert_maps(inst, "\"RESIDENTIAL_GB\"", "http://gb:1", "GB");
	assert_maps(inst, "\"US-CA\"", "http://us-ca:1", "US/CA");
	assert_maps(inst, "\"US-NY\"", "http://us:1", "US");
	assert_maps(inst, "\"RESIDENTIAL_JP\"", "http://fallback:1", "default");
	assert_maps(inst, "\"RESIDENTIAL_ISP\"", "http://fallback:1",
	            "default");
	/* NONE never takes the default: it means "go direct". */
	assert_unmapped(inst, "\"NONE\"");
	vt->destroy(inst);

	inst = create_ok("{\"locations\": {\"NONE\": \"http://corp:3128\", "
	                 "\"RESIDENTIAL_DE\": \"http://de:1\"}}");
	assert_maps(inst, "\"NONE\"", "http://corp:3128", "NONE");
	assert_unmapped(inst, "\"RESIDENTIAL\"");
	assert_unmapped(inst, "\"RESIDENTIAL_FR\"");
	vt->destroy(inst);
}
END_TEST

START_TEST(geo_targets)
{
	void *inst = create_ok("{\"locations\": {"
	                       " \"US/CA/San Francisco\": \"http://sf:1\","
	                       " \"US/CA\": \"http://ca:1\","
	                       " \"US\": \"http://us:1\","
	                       " \"GB\": \"http://gb:1\"}}");
	assert_maps(inst,
	            "{\"country\": \"US\", \"subdivision\": \"CA\", "
	            "\"city\": \"san francisco\"}",
	            "http://sf:1", "US/CA/San Francisco");
	assert_maps(inst,
	            "{\"country\": \"US\", \"subdivision\": \"CA\", "
	            "\"city\": \"Los Angeles\"}",
	            "http://ca:1", "US/CA");
	assert_maps(inst, "{\"country\": \"US\", \"subdivision\": \"NY\"}",
	            "http://us:1", "US");
	assert_maps(inst, "{\"country\": \"gb\"}", "http://gb:1", "GB");
	assert_unmapped(inst, "{\"country\": \"FR\"}");
	int rc;
	ck_assert_ptr_null(resolve(inst, "{\"country\": \"USA\"}", "r", &rc));
	ck_assert_int_eq(rc, SKY_EINVALID);
	ck_assert_ptr_null(resolve(inst, "{\"city\": \"Paris\"}", "r", &rc));
	ck_assert_int_eq(rc, SKY_EINVALID);
	vt->destroy(inst);
}
END_TEST

START_TEST(credentials_and_url_forms)
{
	void *inst = create_ok(
	    "{\"locations\": {"
	    " \"RESIDENTIAL\": \"http://alice:" PASSWORD
	    "@proxy.example:8080/\","
	    " \"RESIDENTIAL_GB\": \"HTTP://bob:p%40ss%3Aword@gb.example\","
	    " \"RESIDENTIAL_DE\": {\"url\": \"https://de.example\","
	    "   \"username\": \"carol\", \"password\": \"" PASSWORD "\"},"
	    " \"RESIDENTIAL_FR\": {\"url\": \"http://x:y@fr.example:1\","
	    "   \"username\": \"dave\", \"password\": \"z\"},"
	    " \"RESIDENTIAL_JP\": \"socks5://jp.example\","
	    " \"RESIDENTIAL_AU\": \"http://[::1]:3128\"}}");
	json_t *j = resolve(inst, "\"RESIDENTIAL\"", "tsk_1", NULL);
	ck_assert_str_eq(str(j, "server"), "http://proxy.example:8080");
	ck_assert_str_eq(str(j, "username"), "alice");
	ck_assert_str_eq(str(j, "password"), PASSWORD);
	ck_assert_ptr_null(json_object_get(j, "session"));
	json_decref(j);
	j = resolve(inst, "\"RESIDENTIAL_GB\"", "tsk_1", NULL);
	ck_assert_str_eq(str(j, "server"), "http://gb.example:80");
	ck_assert_str_eq(str(j, "username"), "bob");
	ck_assert_str_eq(str(j, "password"), "p@ss:word");
	json_decref(j);
	j = resolve(inst, "\"RESIDENTIAL_DE\"", "tsk_1", NULL);
	ck_assert_str_eq(str(j, "server"), "https://de.example:443");
	ck_assert_str_eq(str(j, "username"), "carol");
	ck_assert_str_eq(str(j, "password"), PASSWORD);
	json_decref(j);
	j = resolve(inst, "\"RESIDENTIAL_FR\"", "tsk_1", NULL);
	ck_assert_str_eq(str(j, "username"), "dave");
	ck_assert_str_eq(str(j, "password"), "z");
	json_decref(j);
	j = resolve(inst, "\"RESIDENTIAL_JP\"", "tsk_1", NULL);
	ck_assert_str_eq(str(j, "server"), "socks5://jp.example:1080");
	ck_assert_ptr_null(json_object_get(j, "username"));
	ck_assert_ptr_null(json_object_get(j, "password"));
	json_decref(j);
	assert_maps(inst, "\"RESIDENTIAL_AU\"", "http://[::1]:3128",
	            "RESIDENTIAL_AU");
	vt->destroy(inst);
}
END_TEST

START_TEST(sticky_lists_keep_a_run_on_one_proxy)
{
	void *inst = create_ok("{\"locations\": {\"RESIDENTIAL\": ["
	                       "\"http://a:1\", \"http://b:1\", "
	                       "\"http://c:1\"]}}");
	json_t *first = resolve(inst, "\"RESIDENTIAL\"", "tsk_42", NULL);
	for (int i = 0; i < 50; i++) {
		json_t *again =
		    resolve(inst, "\"RESIDENTIAL\"", "tsk_42", NULL);
		ck_assert_str_eq(str(again, "server"), str(first, "server"));
		json_decref(again);
	}
	json_decref(first);
	/* Many runs spread over the whole list. */
	int used[3] = {0};
	for (int i = 0; i < 300; i++) {
		char run[32];
		snprintf(run, sizeof run, "tsk_%d", 1000 + i);
		json_t *j = resolve(inst, "\"RESIDENTIAL\"", run, NULL);
		used[str(j, "server")[7] - 'a']++;
		json_decref(j);
	}
	for (int i = 0; i < 3; i++)
		ck_assert_msg(used[i] >= 50, "proxy %c got %d of 300 runs",
		              'a' + i, used[i]);
	vt->destroy(inst);
}
END_TEST

START_TEST(session_usernames_per_run)
{
	void *inst = create_ok(
	    "{\"session_username\": \"{username}-session-{session}\","
	    " \"locations\": {\"RESIDENTIAL\": \"http://cust-7:" PASSWORD
	    "@res.example:7777\","
	    " \"RESIDENTIAL_GB\": {\"proxies\": [\"http://u:p@gb:1\"],"
	    "   \"session_username\": \"{username}_country-gb_sid-{session}\"},"
	    " \"US\": {\"proxies\": [\"http://nouser:1\"],"
	    "   \"session_username\": \"sess-{session}\"}}}");
	json_t *a = resolve(inst, "\"RESIDENTIAL\"", "tsk_1", NULL);
	json_t *a2 = resolve(inst, "\"RESIDENTIAL\"", "tsk_1", NULL);
	json_t *b = resolve(inst, "\"RESIDENTIAL\"", "tsk_2", NULL);
	const char *sa = str(a, "session");
	ck_assert_ptr_nonnull(sa);
	ck_assert_uint_eq(strlen(sa), 16);
	char *want = skyx_asprintf("cust-7-session-%s", sa);
	ck_assert_str_eq(str(a, "username"), want);
	free(want);
	ck_assert_str_eq(str(a, "password"), PASSWORD);
	ck_assert_str_eq(str(a2, "username"), str(a, "username"));
	ck_assert_str_ne(str(b, "session"), sa);
	json_decref(a);
	json_decref(a2);
	json_decref(b);
	json_t *g = resolve(inst, "\"RESIDENTIAL_GB\"", "tsk_1", NULL);
	ck_assert(skyx_str_startswith(str(g, "username"), "u_country-gb_sid-"));
	json_decref(g);
	json_t *u = resolve(inst, "\"US-TX\"", "tsk_1", NULL);
	ck_assert(skyx_str_startswith(str(u, "username"), "sess-"));
	json_decref(u);
	/* No run id: no session. */
	json_t *n = resolve(inst, "\"RESIDENTIAL\"", NULL, NULL);
	ck_assert_str_eq(str(n, "username"), "cust-7");
	ck_assert_ptr_null(json_object_get(n, "session"));
	json_decref(n);
	vt->destroy(inst);
}
END_TEST

struct rr_worker {
	void *inst;
	int counts[3];
};

static void *rr_main(void *arg)
{
	struct rr_worker *w = arg;
	for (int i = 0; i < 300; i++) {
		char *out = NULL, *err = NULL;
		if (vt->resolve(w->inst, "\"RESIDENTIAL\"", "same-run", &out,
		                &err) == 0) {
			char *p = strstr(out, "http://");
			if (p)
				w->counts[p[7] - 'a']++;
		}
		free(out);
		free(err);
	}
	return NULL;
}

START_TEST(round_robin_cycles_even_across_threads)
{
	void *inst = create_ok("{\"rotation\": \"round_robin\", \"locations\": "
	                       "{\"RESIDENTIAL\": [\"http://a:1\", "
	                       "\"http://b:1\", \"http://c:1\"]}}");
	const char *seq[] = {"http://a:1", "http://b:1", "http://c:1"};
	for (int i = 0; i < 6; i++)
		assert_maps(inst, "\"RESIDENTIAL\"", seq[i % 3], "RESIDENTIAL");
	struct rr_worker w[4];
	pthread_t th[4];
	memset(w, 0, sizeof w);
	for (int i = 0; i < 4; i++) {
		w[i].inst = inst;
		ck_assert_int_eq(pthread_create(&th[i], NULL, rr_main, &w[i]),
		                 0);
	}
	int total[3] = {0};
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		for (int k = 0; k < 3; k++)
			total[k] += w[i].counts[k];
	}
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(total[k], 400);
	vt->destroy(inst);

	/* A per-location policy overrides the global one. */
	inst = create_ok("{\"locations\": {\"RESIDENTIAL\": {\"proxies\": "
	                 "[\"http://a:1\", \"http://b:1\"], \"rotation\": "
	                 "\"round_robin\"}}}");
	assert_maps(inst, "\"RESIDENTIAL\"", "http://a:1", "RESIDENTIAL");
	assert_maps(inst, "\"RESIDENTIAL\"", "http://b:1", "RESIDENTIAL");
	vt->destroy(inst);
}
END_TEST

START_TEST(request_urls_pass_through_unless_turned_off)
{
	void *inst = create_ok("{\"default\": \"http://d:1\"}");
	json_t *j =
	    resolve(inst, "{\"url\": \"http://u:" PASSWORD "@127.0.0.1:3128\"}",
	            "tsk_1", NULL);
	ck_assert_str_eq(str(j, "server"), "http://127.0.0.1:3128");
	ck_assert_str_eq(str(j, "username"), "u");
	ck_assert_str_eq(str(j, "password"), PASSWORD);
	ck_assert_str_eq(str(j, "matched"), "url");
	json_decref(j);
	int rc;
	ck_assert_ptr_null(
	    resolve(inst, "{\"url\": \"ftp://u:" PASSWORD "@h\"}", "r", &rc));
	ck_assert_int_eq(rc, SKY_EINVALID);
	vt->destroy(inst);

	inst = create_ok("{\"default\": \"http://d:1\", "
	                 "\"allow_request_url\": false}");
	ck_assert_ptr_null(
	    resolve(inst, "{\"url\": \"http://127.0.0.1:3128\"}", "r", &rc));
	ck_assert_int_eq(rc, SKY_EUNSUPPORTED);
	vt->destroy(inst);
}
END_TEST

START_TEST(config_errors_are_clear)
{
	create_fails(NULL, SKY_EINVALID, "no proxies configured");
	create_fails("{\"locations\": {}}", SKY_EINVALID,
	             "SKYENGINE_PROXY_FILE");
	create_fails("[]", SKY_EINVALID, "must be a JSON object");
	create_fails("{\"locatons\": {}}", SKY_EINVALID,
	             "unknown option \"locatons\"");
	create_fails("{\"locations\": {\"RESIDENTIAL_XX\": \"http://h:1\"}}",
	             SKY_EINVALID, "unknown location key \"RESIDENTIAL_XX\"");
	create_fails("{\"locations\": {\"residential_gb\": \"http://h:1\"}}",
	             SKY_EINVALID, "did you mean \"RESIDENTIAL_GB\"");
	create_fails("{\"locations\": {\"us/ca\": \"http://h:1\"}}",
	             SKY_EINVALID, "unknown location key \"us/ca\"");
	create_fails(
	    "{\"locations\": {\"US/California-North\": \"http://h:1\"}}",
	    SKY_EINVALID, "unknown location key");
	create_fails("{\"locations\": {\"RESIDENTIAL\": \"u:" PASSWORD
	             "@host:1\"}}",
	             SKY_EINVALID, "has no scheme");
	create_fails(
	    "{\"locations\": {\"US-CA\": \"ftp://u:" PASSWORD "@host:1\"}}",
	    SKY_EINVALID,
	    "location \"US-CA\": bad proxy URL \"ftp://u:***@host:1\"");
	create_fails("{\"locations\": {\"US-CA\": \"http://u:" PASSWORD
	             "@host:70000\"}}",
	             SKY_EINVALID, "port is not a number from 1 to 65535");
	create_fails("{\"locations\": {\"US-CA\": \"http://host:\"}}",
	             SKY_EINVALID, "port is empty");
	create_fails("{\"locations\": {\"US-CA\": \"http://host:1/path\"}}",
	             SKY_EINVALID, "has a path");
	/* An unescaped '/' in the password is still masked. */
	create_fails("{\"locations\": {\"US-CA\": \"http://u:a/" PASSWORD
	             "@host:1\"}}",
	             SKY_EINVALID, "\"http://u:***@host:1\"");
	create_fails("{\"locations\": {\"US-CA\": \"http://:1\"}}",
	             SKY_EINVALID, "has no host");
	create_fails("{\"locations\": {\"US-CA\": \"http://ho st:1\"}}",
	             SKY_EINVALID, "characters a host cannot have");
	create_fails("{\"locations\": {\"US-CA\": []}}", SKY_EINVALID,
	             "empty proxy list");
	create_fails("{\"locations\": {\"US-CA\": [42]}}", SKY_EINVALID,
	             "proxy 1 must be a URL string");
	create_fails("{\"locations\": {\"US-CA\": {\"url\": \"http://h:1\", "
	             "\"pass\": \"x\"}}}",
	             SKY_EINVALID, "unknown field \"pass\"");
	create_fails("{\"rotation\": \"random\", \"default\": \"http://h:1\"}",
	             SKY_EINVALID, "\"rotation\" must be");
	create_fails("{\"session_username\": \"{username}-x\", "
	             "\"default\": \"http://u:p@h:1\"}",
	             SKY_EINVALID, "containing {session}");
	create_fails("{\"session_username\": \"{username}-{session}\", "
	             "\"default\": \"http://h:1\"}",
	             SKY_EINVALID, "has no username");
	create_fails("{\"file\": \"/nonexistent/proxies.json\"}", SKY_EIO,
	             "/nonexistent/proxies.json");
}
END_TEST

START_TEST(mapping_from_a_file_by_option_and_by_environment)
{
	char *dir = skytest_tmpdir("proxy");
	char *path = skyx_asprintf("%s/proxies.json", dir);
	const char *file =
	    "{\"rotation\": \"round_robin\", \"locations\": {"
	    "\"RESIDENTIAL\": [\"http://f1:1\", \"http://f2:1\"],"
	    "\"US\": \"http://file-us:1\"}}";
	ck_assert_int_eq(sky_write_file(path, file, strlen(file)), 0);
	char *cfg = skyx_asprintf("{\"file\": \"%s\", \"locations\": "
	                          "{\"US\": \"http://inline-us:1\"}}",
	                          path);
	void *inst = create_ok(cfg);
	assert_maps(inst, "\"RESIDENTIAL\"", "http://f1:1", "RESIDENTIAL");
	assert_maps(inst, "\"RESIDENTIAL\"", "http://f2:1", "RESIDENTIAL");
	assert_maps(inst, "\"US-CA\"", "http://inline-us:1", "US");
	vt->destroy(inst);
	free(cfg);

	setenv("SKYENGINE_PROXY_FILE", path, 1);
	inst = create_ok(NULL);
	assert_maps(inst, "\"US-WA\"", "http://file-us:1", "US");
	vt->destroy(inst);

	/* A broken file: where, not what (it may hold passwords). */
	const char *bad = "{\"default\": http://u:" PASSWORD "@h:1}";
	ck_assert_int_eq(sky_write_file(path, bad, strlen(bad)), 0);
	create_fails(NULL, SKY_EPARSE, "proxies.json:1:");
	unsetenv("SKYENGINE_PROXY_FILE");
	free(path);
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

START_TEST(passwords_never_logged)
{
	sky_log_set(capture, SKY_LOG_TRACE, NULL);
	void *inst = create_ok(
	    "{\"session_username\": \"{username}-session-{session}\","
	    " \"locations\": {\"RESIDENTIAL\": [\"http://alice:" PASSWORD
	    "@a.example:1\", {\"url\": \"http://b.example:1\", "
	    "\"username\": \"bob\", \"password\": \"" PASSWORD "\"}]}}");
	for (int i = 0; i < 10; i++) {
		char run[16];
		snprintf(run, sizeof run, "tsk_%d", i);
		json_decref(resolve(inst, "\"RESIDENTIAL\"", run, NULL));
	}
	json_decref(resolve(inst, "{\"url\": \"http://u:" PASSWORD "@c:1\"}",
	                    "tsk_x", NULL));
	vt->destroy(inst);
	sky_log_set(NULL, SKY_LOG_WARN, NULL);
	ck_assert_ptr_nonnull(logged.data);
	ck_assert_ptr_nonnull(strstr(logged.data, "-> http://a.example:1"));
	ck_assert_ptr_null(strstr(logged.data, PASSWORD));
	ck_assert_ptr_null(strstr(logged.data, "Pr0xy"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proxy_static");
	TCase *tc = tcase_create("plugin");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_contract_location_maps);
	tcase_add_test(tc, fallbacks_default_and_none);
	tcase_add_test(tc, geo_targets);
	tcase_add_test(tc, credentials_and_url_forms);
	tcase_add_test(tc, sticky_lists_keep_a_run_on_one_proxy);
	tcase_add_test(tc, session_usernames_per_run);
	tcase_add_test(tc, round_robin_cycles_even_across_threads);
	tcase_add_test(tc, request_urls_pass_through_unless_turned_off);
	tcase_add_test(tc, config_errors_are_clear);
	tcase_add_test(tc, mapping_from_a_file_by_option_and_by_environment);
	tcase_add_test(tc, passwords_never_logged);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
