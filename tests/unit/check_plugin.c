/* Unit tests: the plugin loader (ABI checks, search path, size-tagged
 * vtables, every failure path with the file and the reason). */
#include <skyengine.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine_internal.h"
#include "llm/llm.h"
#include "plugin/loader.h"
#include "skytest.h"
#include "util/error.h"
#include "util/fs.h"
#include <skyx/str.h>

#define FX SKY_TEST_FIXTURE_DIR

static sky_plugins *host_with(const char *path)
{
	sky_plugins *p = NULL;
	ck_assert_int_eq(sky_plugins_new(path, &p), 0);
	return p;
}

static void assert_error_has(const char *needle)
{
	const char *m = sky_error_last();
	ck_assert_msg(m && strstr(m, needle), "error '%s' lacks '%s'",
	              m ? m : "(null)", needle);
}

/* Copy a fixture to dir/name so search-order tests can tell copies
 * apart by the path the plugin reports. */
static void copy_fixture(const char *fixture, const char *dir, const char *name)
{
	char *src = skyx_asprintf("%s/%s.so", FX, fixture);
	char *dst = skyx_asprintf("%s/%s.so", dir, name);
	size_t n;
	char *data = skyx_read_file(src, &n);
	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(sky_write_file(dst, data, n), 0);
	free(data);
	free(src);
	free(dst);
}

static char *ask_in(sky_plugins *p, const sky_llm_provider *vt, const char *cfg)
{
	void *inst = NULL;
	char *err = NULL;
	sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
	sky_llm_response resp = {0};
	req.purpose = "extract-actions";
	ck_assert_int_eq(vt->create(sky_plugins_ctx(p, vt), cfg, &inst, &err),
	                 0);
	ck_assert_int_eq(vt->complete(inst, &req, &resp, &err), 0);
	vt->destroy(inst);
	free(resp.model);
	free(resp.finish_reason);
	return resp.text;
}

#define ask(vt, cfg) ask_in(p, (vt), (cfg))

START_TEST(good_plugin_per_kind)
{
	sky_plugins *p = host_with(FX);
	const sky_llm_provider *llm = sky_plugins_llm(p, "fixture");
	ck_assert_ptr_nonnull(llm);
	ck_assert_str_eq(llm->name, "fixture");
	ck_assert_ptr_nonnull(llm->supports_vision);
	char *answer = ask(llm, "{\"model\":\"m\"}");
	ck_assert_msg(strstr(answer, "/llm-fixture.so|extract-actions|"
	                             "{\"model\":\"m\"}|"),
	              "answer: %s", answer);
	free(answer);

	const sky_browser_provider *br = sky_plugins_browser(p, "fixture");
	ck_assert_ptr_nonnull(br);
	void *b = NULL, *ctx = NULL;
	char *err = NULL;
	ck_assert_int_eq(br->create(sky_plugins_ctx(p, br), "{}", &b, &err), 0);
	ck_assert_int_eq(br->context_open(b, "{}", &ctx, &err),
	                 SKY_EUNSUPPORTED);
	ck_assert_str_eq(err, "fixture browser opens no contexts");
	free(err);
	ck_assert_ptr_null(br->screenshot); /* not provided: NULL */
	br->destroy(b);

	const sky_proxy_provider *px = sky_plugins_proxy(p, "fixture");
	ck_assert_ptr_nonnull(px);
	void *pi = NULL;
	char *out = NULL;
	ck_assert_int_eq(px->create(sky_plugins_ctx(p, px), "{}", &pi, &err),
	                 0);
	ck_assert_int_eq(
	    px->resolve(pi, "\"RESIDENTIAL\"", "tsk_1", &out, &err), 0);
	ck_assert_str_eq(out, "{\"server\":\"http://127.0.0.1:3128\"}");
	free(out);
	px->destroy(pi);

	const sky_totp_provider *tp = sky_plugins_totp(p, "fixture");
	ck_assert_ptr_nonnull(tp);
	void *ti = NULL;
	ck_assert_int_eq(tp->create(sky_plugins_ctx(p, tp), "{}", &ti, &err),
	                 0);
	ck_assert_int_eq(tp->get_code(ti, "chris@example.com", 0, &out, &err),
	                 0);
	ck_assert_str_eq(out, "123456");
	free(out);
	ck_assert_int_eq(tp->get_code(ti, "nobody", 0, &out, &err),
	                 SKY_ENOTFOUND);
	free(err);
	tp->destroy(ti);
	sky_plugins_free(p);
}
END_TEST

START_TEST(wrong_abi_major_refused_before_load)
{
	sky_plugins *p = host_with(FX);
	/* abi-major's load function aborts: reaching it fails the test. */
	ck_assert_int_eq(sky_plugins_load(p, "abi-major"), SKY_EABI);
	assert_error_has("/abi-major.so");
	assert_error_has("built for plugin ABI 3.0, this host provides 2.1");
	assert_error_has("major versions differ: the plugin needs a newer "
	                 "skyengine");
	sky_plugins_free(p);
}
END_TEST

/* A plugin built against the 1.x headers (no host contexts): refused
 * before its code runs, with a message that says what to do. */
START_TEST(old_abi_major_refused_with_rebuild_hint)
{
	sky_plugins *p = host_with(FX);
	ck_assert_int_eq(sky_plugins_load(p, "abi-old-major"), SKY_EABI);
	ck_assert_int_eq(sky_error_last_code(), SKY_EABI);
	assert_error_has("/abi-old-major.so");
	assert_error_has("built for plugin ABI 1.2, this host provides 2.1");
	assert_error_has("rebuild it against this skyengine's plugin headers");
	/* Through the engine's lookup too: the provider is not there. */
	ck_assert_ptr_null(sky_plugins_provider(p, SKY_PROVIDER_LLM, "old"));
	sky_plugins_free(p);
}
END_TEST

START_TEST(newer_minor_refused)
{
	sky_plugins *p = host_with(FX);
	ck_assert_int_eq(sky_plugins_load(p, "abi-newer-minor"), SKY_EABI);
	assert_error_has("/abi-newer-minor.so");
	assert_error_has("needs a newer host");
	sky_plugins_free(p);
}
END_TEST

START_TEST(missing_load_symbol)
{
	sky_plugins *p = host_with(FX);
	ck_assert_int_eq(sky_plugins_load(p, "no-load"), SKY_EPLUGIN);
	assert_error_has("/no-load.so");
	assert_error_has("missing required symbol sky_plugin_load");
	ck_assert_int_eq(sky_plugins_load(p, "not-a-plugin"), SKY_EPLUGIN);
	assert_error_has("not a skyengine plugin");
	sky_plugins_free(p);
}
END_TEST

START_TEST(load_failure_carries_plugin_message)
{
	sky_plugins *p = host_with(FX);
	ck_assert_int_eq(sky_plugins_load(p, "load-fails"), SKY_EPLUGIN);
	assert_error_has("/load-fails.so: load failed: license file "
	                 "/etc/fixture.lic is missing");
	/* What it registered before failing is gone. */
	sky_error_clear();
	ck_assert_ptr_null(sky_plugins_provider(p, SKY_PROVIDER_LLM, "doomed"));
	sky_plugins_free(p);
}
END_TEST

START_TEST(short_vtable_reads_missing_fields_as_null)
{
	unsetenv("SKY_FIXTURE_SHORT_UNLOADED");
	sky_plugins *p = host_with(FX);
	ck_assert_int_eq(sky_plugins_load(p, "llm-short"), 0);
	const sky_llm_provider *vt = sky_plugins_llm(p, "short");
	ck_assert_ptr_nonnull(vt);
	ck_assert_ptr_null(vt->supports_vision);
	char *answer = ask(vt, "{}");
	ck_assert_str_eq(answer, "{\"actions\": []}");
	free(answer);
	sky_plugins_free(p);
	/* The optional unload hook ran. */
	ck_assert_ptr_nonnull(getenv("SKY_FIXTURE_SHORT_UNLOADED"));
}
END_TEST

START_TEST(incomplete_vtable_refused)
{
	sky_plugins *p = host_with(FX);
	ck_assert_int_eq(sky_plugins_load(p, "llm-incomplete"), SKY_EPLUGIN);
	assert_error_has("/llm-incomplete.so");
	assert_error_has("provider 'incomplete' lacks complete");
	sky_plugins_free(p);
}
END_TEST

START_TEST(not_found_lists_search_path)
{
	sky_plugins *p = host_with("/nonexistent/a:/nonexistent/b");
	ck_assert_ptr_null(sky_plugins_llm(p, "nosuch"));
	ck_assert_int_eq(sky_error_last_code(), SKY_EPLUGIN);
	assert_error_has("plugin llm-nosuch not found");
	assert_error_has("/nonexistent/a:/nonexistent/b:");
	ck_assert_int_eq(sky_plugins_load(p, "/nonexistent/x.so"), SKY_EPLUGIN);
	assert_error_has("/nonexistent/x.so: no such file");
	sky_plugins_free(p);
}
END_TEST

START_TEST(search_order_options_then_env)
{
	char *a = skytest_tmpdir("plug-a"), *b = skytest_tmpdir("plug-b");
	copy_fixture("llm-fixture", a, "llm-fixture");
	copy_fixture("llm-fixture", b, "llm-fixture");
	char *old = skyx_strdup(getenv("SKYENGINE_PLUGIN_PATH"));
	setenv("SKYENGINE_PLUGIN_PATH", b, 1);

	sky_plugins *p = host_with(a); /* options first */
	char *answer = ask(sky_plugins_llm(p, "fixture"), "{}");
	char *want = skyx_asprintf("%s/llm-fixture.so|", a);
	ck_assert_msg(skyx_str_startswith(answer, want), "%s", answer);
	free(answer);
	free(want);
	sky_plugins_free(p);

	p = host_with(NULL); /* then the environment */
	answer = ask(sky_plugins_llm(p, "fixture"), "{}");
	want = skyx_asprintf("%s/llm-fixture.so|", b);
	ck_assert_msg(skyx_str_startswith(answer, want), "%s", answer);
	free(answer);
	free(want);
	/* The install dir comes last. */
	ck_assert_msg(
	    strstr(sky_plugins_search_path(p), "lib/skyengine/plugins"), "%s",
	    sky_plugins_search_path(p));
	sky_plugins_free(p);

	if (old)
		setenv("SKYENGINE_PLUGIN_PATH", old, 1);
	else
		unsetenv("SKYENGINE_PLUGIN_PATH");
	free(old);
	skyx_rm_rf(a);
	skyx_rm_rf(b);
	free(a);
	free(b);
}
END_TEST

START_TEST(duplicate_provider_refused_and_reload_is_noop)
{
	char *a = skytest_tmpdir("plug-dup");
	copy_fixture("llm-fixture", a, "llm-copy");
	sky_plugins *p = host_with(FX);
	ck_assert_int_eq(sky_plugins_load(p, "llm-fixture"), 0);
	ck_assert_int_eq(sky_plugins_load(p, "llm-fixture.so"), 0); /* no-op */
	char *copy = skyx_asprintf("%s/llm-copy.so", a);
	ck_assert_int_eq(sky_plugins_load(p, copy), SKY_EPLUGIN);
	assert_error_has("llm provider 'fixture' is already registered by");
	free(copy);
	sky_plugins_free(p);
	skyx_rm_rf(a);
	free(a);
}
END_TEST

START_TEST(host_config_lookup)
{
	const sky_host_api *api = sky_host_api_get();
	ck_assert_uint_eq(api->size, sizeof(sky_host_api));
	ck_assert_uint_eq(api->abi, SKY_PLUGIN_ABI);
	ck_assert(SKY_HOST_HAS(api, config_get));
	sky_plugins *p = host_with(FX);
	ck_assert_int_eq(sky_plugins_set_engine(
	                     p,
	                     "{\"fixture\":{\"greeting\":\"hello\",\"n\":3}}",
	                     "/tmp", NULL),
	                 0);
	const sky_llm_provider *vt = sky_plugins_llm(p, "fixture");
	ck_assert_ptr_nonnull(vt);
	const sky_host_ctx *ctx = sky_plugins_ctx(p, vt);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_null(sky_plugins_ctx(p, "not a vtable"));
	char *v = api->config_get(ctx, "fixture.greeting");
	ck_assert_str_eq(v, "hello");
	free(v);
	v = api->config_get(ctx, "fixture.n");
	ck_assert_str_eq(v, "3");
	free(v);
	setenv("SKYENGINE_FIXTURE_FROM_ENV", "env-value", 1);
	v = api->config_get(ctx, "fixture.from_env");
	ck_assert_str_eq(v, "env-value");
	free(v);
	ck_assert_ptr_null(api->config_get(ctx, "fixture.absent"));
	ck_assert_str_eq(api->data_dir(ctx), "/tmp");
	/* No context: the environment only, no data dir, no client. */
	ck_assert_ptr_null(api->config_get(NULL, "fixture.greeting"));
	v = api->config_get(NULL, "fixture.from_env");
	ck_assert_str_eq(v, "env-value");
	free(v);
	ck_assert_str_eq(api->data_dir(NULL), ".");
	sky_http_request r = {.version = SKY_HTTP_REQUEST_VERSION,
	                      .method = "GET",
	                      .url = "http://127.0.0.1:1/"};
	sky_http_response *resp = NULL;
	char *err = NULL;
	ck_assert_int_eq(api->http_request(ctx, &r, &resp, &err),
	                 SKY_ESHUTDOWN);
	ck_assert_ptr_null(resp);
	ck_assert_ptr_nonnull(err);
	free(err);
	unsetenv("SKYENGINE_FIXTURE_FROM_ENV");

	/* The plugin sees the same lookup through its instance's context. */
	char *answer = ask(vt, "{}");
	ck_assert_msg(strstr(answer, "|hello|/tmp"), "%s", answer);
	free(answer);
	sky_plugins_free(p);
}
END_TEST

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && !strcmp(s + n - m, tail);
}

/* What an engine's LLM instance answers: the fixture reports the
 * fixture.greeting and data dir its host context gives it. */
static char *engine_answer(sky_engine *e)
{
	sky_llm *llm = NULL;
	sky_llm_result *res = NULL;
	sky_llm_request req = {.version = SKY_LLM_REQUEST_VERSION};
	req.purpose = "extract-actions";
	req.prompt = "hi";
	req.step_order = -1;
	ck_assert_int_eq(sky_engine__llm(e, &llm), 0);
	ck_assert_int_eq(sky_llm_complete(llm, &req, 0, &res), 0);
	char *text = skyx_strdup(res->text);
	sky_llm_result_free(res);
	return text;
}

static sky_engine *engine_with(const char *dir, const char *greeting)
{
	sky_engine_options o;
	sky_engine *e = NULL;
	char *cfg =
	    skyx_asprintf("{\"fixture\":{\"greeting\":\"%s\"}}", greeting);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = dir;
	o.plugin_path = FX;
	o.llm = "fixture";
	o.config_json = cfg;
	o.no_execute = 1;
	ck_assert_msg(sky_engine_new(&e, &o) == 0, "engine: %s",
	              sky_error_last());
	free(cfg);
	return e;
}

/* Two engines in one process, one plugin file, different configs: each
 * engine's instance sees its own engine's config and data dir, whichever
 * engine was created last, and after the other is gone. */
START_TEST(two_engines_do_not_see_each_other)
{
	ck_assert_int_eq(sky_global_init(), 1);
	char *da = skytest_tmpdir("engine-a"), *db = skytest_tmpdir("engine-b");
	sky_engine *a = engine_with(da, "from-a");
	sky_engine *b = engine_with(db, "from-b");
	char *want_a = skyx_asprintf("|from-a|%s", sky_engine_data_dir(a));
	char *want_b = skyx_asprintf("|from-b|%s", sky_engine_data_dir(b));

	char *ans_a = engine_answer(a);
	char *ans_b = engine_answer(b);
	ck_assert_msg(ends_with(ans_a, want_a), "engine a got: %s", ans_a);
	ck_assert_msg(ends_with(ans_b, want_b), "engine b got: %s", ans_b);
	free(ans_a);
	free(ans_b);
	sky_engine_free(b);
	ans_a = engine_answer(a);
	ck_assert_msg(ends_with(ans_a, want_a), "engine a got: %s", ans_a);
	free(ans_a);
	sky_engine_free(a);
	sky_global_shutdown();
	free(want_a);
	free(want_b);
	skyx_rm_rf(da);
	skyx_rm_rf(db);
	free(da);
	free(db);
}
END_TEST

START_TEST(engine_reports_bad_options)
{
	sky_engine *e = NULL;
	sky_engine_options o;
	ck_assert_int_eq(sky_engine_new(&e, NULL), SKY_EINVALID);
	assert_error_has("sky_global_init");
	ck_assert_int_eq(sky_global_init(), 1);
	ck_assert_int_eq(sky_engine_options_init(&o, 99), SKY_EINVALID);
	ck_assert_int_eq(
	    sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION), 0);
	char *dir = skytest_tmpdir("engine");
	o.data_dir = dir;
	o.config_json = "[1,2]";
	ck_assert_int_eq(sky_engine_new(&e, &o), SKY_EINVALID);
	assert_error_has("config_json is not a JSON object");
	ck_assert_ptr_null(e);
	o.config_json = NULL;
	o.no_execute = 1;
	ck_assert_int_eq(sky_engine_new(&e, &o), 0);
	ck_assert_str_eq(sky_engine_data_dir(e), dir);
	sky_engine_free(e);
	sky_engine_free(NULL);
	sky_global_shutdown();
	skyx_rm_rf(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plugin");
	TCase *tc = tcase_create("loader");
	tcase_add_test(tc, good_plugin_per_kind);
	tcase_add_test(tc, wrong_abi_major_refused_before_load);
	tcase_add_test(tc, old_abi_major_refused_with_rebuild_hint);
	tcase_add_test(tc, newer_minor_refused);
	tcase_add_test(tc, missing_load_symbol);
	tcase_add_test(tc, load_failure_carries_plugin_message);
	tcase_add_test(tc, short_vtable_reads_missing_fields_as_null);
	tcase_add_test(tc, incomplete_vtable_refused);
	tcase_add_test(tc, not_found_lists_search_path);
	tcase_add_test(tc, search_order_options_then_env);
	tcase_add_test(tc, duplicate_provider_refused_and_reload_is_noop);
	tcase_add_test(tc, host_config_lookup);
	tcase_add_test(tc, two_engines_do_not_see_each_other);
	tcase_add_test(tc, engine_reports_bad_options);
	suite_add_tcase(s, tc);
	return skytest_run(s);
}
