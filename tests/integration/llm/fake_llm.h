/*
 * Test scaffold for the LLM provider tests: a scripted model API on
 * loopback (tests/support/httpd) that records every request it gets, and
 * the engine pieces the tests drive (shared HTTP client, plugin host,
 * engine LLM layer). Header-only: each check_*.c is its own program.
 */
#ifndef SKYTEST_FAKE_LLM_H
#define SKYTEST_FAKE_LLM_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <skyengine.h>

#include "httpd.h"
#include "llm/llm.h"
#include "net/http_client.h"
#include "plugin/loader.h"
#include "skytest.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define FAKE_MAX 32

/* What the server answers to request i: script[min(i, n - 1)]. */
struct fake_resp {
	int status;
	const char *body;
	const char *headers; /* extra "Name: value\r\n" lines */
	int delay_ms;
};

struct fake_req {
	char method[16];
	char path[256];
	char query[256];
	char *head; /* request line + headers as received */
	char *body;
	int64_t at_ms;
};

static struct {
	skytest_httpd *srv;
	pthread_mutex_t lock;
	struct fake_resp script[FAKE_MAX];
	int n_script;
	struct fake_req req[FAKE_MAX];
	int n_req;
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static sky_plugins *fk_plugins;
static sky_http_client *fk_http;
static char *fk_dir;

static void fake_handler(const skytest_req *r, skytest_resp *resp, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&fake.lock);
	int i = fake.n_req < FAKE_MAX ? fake.n_req : FAKE_MAX - 1;
	struct fake_req *q = &fake.req[i];
	free(q->head);
	free(q->body);
	snprintf(q->method, sizeof q->method, "%s", r->method);
	snprintf(q->path, sizeof q->path, "%s", r->path);
	snprintf(q->query, sizeof q->query, "%s", r->query);
	q->head = strdup(r->raw_head);
	q->body = strdup(r->body);
	q->at_ms = skyx_time_mono_ms();
	int k = fake.n_script ? (fake.n_req < fake.n_script ? fake.n_req
	                                                    : fake.n_script - 1)
	                      : -1;
	fake.n_req++;
	struct fake_resp fr =
	    k >= 0 ? fake.script[k] : (struct fake_resp){500, "{}", NULL, 0};
	pthread_mutex_unlock(&fake.lock);
	skytest_resp_text(resp, fr.status ? fr.status : 200, "application/json",
	                  fr.body ? fr.body : "");
	if (fr.headers)
		resp->headers = strdup(fr.headers);
	resp->delay_ms = fr.delay_ms;
}

/* Set the script: responses for request 0, 1, ... (last one repeats). */
static inline void fake_script(int n, const struct fake_resp *r)
{
	pthread_mutex_lock(&fake.lock);
	for (int i = 0; i < n && i < FAKE_MAX; i++)
		fake.script[i] = r[i];
	fake.n_script = n;
	pthread_mutex_unlock(&fake.lock);
}

static inline int fake_count(void)
{
	pthread_mutex_lock(&fake.lock);
	int n = fake.n_req;
	pthread_mutex_unlock(&fake.lock);
	return n;
}

/* Forget the requests seen so far (the script starts over). */
static inline void fake_restart(void)
{
	pthread_mutex_lock(&fake.lock);
	fake.n_req = 0;
	pthread_mutex_unlock(&fake.lock);
}

/* Header `name` of request i as received, or NULL (static buffer). */
static inline const char *fake_header(int i, const char *name)
{
	static char val[1024];
	const char *h = fake.req[i].head;
	size_t nl = strlen(name);
	for (const char *line = strstr(h, "\r\n"); line && line[2];
	     line = strstr(line + 2, "\r\n")) {
		const char *l = line + 2;
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1;
			while (*v == ' ')
				v++;
			snprintf(val, sizeof val, "%.*s", (int)strcspn(v, "\r"),
			         v);
			return val;
		}
	}
	return NULL;
}

/* Request i's JSON body (new reference). */
static inline json_t *fake_json(int i)
{
	json_t *j = json_loads(fake.req[i].body, 0, NULL);
	ck_assert_msg(json_is_object(j), "request body is not JSON: %s",
	              fake.req[i].body);
	return j;
}

/* "http://127.0.0.1:PORT" + suffix, malloc'd. */
static inline char *fake_url(const char *suffix)
{
	return skyx_asprintf("%s%s", skytest_httpd_url(fake.srv), suffix);
}

static void fake_setup(void)
{
	fake.srv = skytest_httpd_start(fake_handler, NULL);
	ck_assert_ptr_nonnull(fake.srv);
	ck_assert_int_eq(sky_http_client_from_config(NULL, &fk_http), 0);
	ck_assert_int_eq(
	    sky_plugins_new(SKY_TEST_PLUGIN_BUILD_DIR, &fk_plugins), 0);
	fk_dir = skytest_tmpdir("llm");
	unsetenv("SKYENGINE_LLM_BASE_URL");
	unsetenv("SKYENGINE_LLM_MODEL");
	unsetenv("SKYENGINE_LLM_RECORD");
	unsetenv("SKYENGINE_LLM_REPLAY_FILE");
}

static void fake_teardown(void)
{
	sky_plugins_free(fk_plugins);
	fk_plugins = NULL;
	sky_http_client_free(fk_http);
	fk_http = NULL;
	skytest_httpd_stop(fake.srv);
	fake.srv = NULL;
	for (int i = 0; i < FAKE_MAX; i++) {
		free(fake.req[i].head);
		free(fake.req[i].body);
		fake.req[i].head = fake.req[i].body = NULL;
	}
	fake.n_req = fake.n_script = 0;
	free(fk_dir);
	fk_dir = NULL;
}

/* Open `provider` with config {"llm": <llm_json>} through the plugin
 * loader and the engine layer; asserts success. */
static inline sky_llm *fake_open(const char *provider, const char *llm_json)
{
	char *cfg = skyx_asprintf("{\"llm\":%s}", llm_json);
	sky_llm *llm = NULL;
	sky_plugins_set_engine(fk_plugins, cfg, fk_dir, fk_http);
	int rc = sky_llm_open(fk_plugins, provider, cfg, &llm);
	ck_assert_msg(rc == 0, "sky_llm_open(%s): %s", provider,
	              sky_error_last());
	free(cfg);
	return llm;
}

/* A request with sensible defaults for the tests. */
static inline sky_llm_request fake_request(const char *purpose,
                                           const char *prompt)
{
	sky_llm_request r;
	memset(&r, 0, sizeof r);
	r.version = SKY_LLM_REQUEST_VERSION;
	r.purpose = purpose;
	r.prompt = prompt;
	r.step_order = -1;
	r.timeout_ms = 20000;
	return r;
}

#endif
