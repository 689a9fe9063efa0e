/*
 * libFuzzer: the request path of tools/skyengine-server behind the HTTP
 * layer: routing, trailing slashes, 404/405, JSON body checks, auth
 * (a valid key, a wrong one, none, Bearer, signed links), query
 * validation and every handler, on a real engine (its own data dir,
 * runs stored, none executed). The input is synthesized into the
 * srv_req the HTTP layer would build:
 *   byte 0   method (low nibble) and header choices (high nibble)
 *   then     path \n query \n idempotency-key \n body
 * Nothing leaves the machine: outgoing HTTP (webhooks of canceled runs)
 * goes to a proxy address where nothing listens, and retry_webhook,
 * which sends at once, is not called.
 */
#include "fuzz.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"
#include "util/fs.h"
#include <skyx/str.h>

#define KEY "fuzz-key-0123456789"

static srv S;
static char data_dir[] = "/tmp/skyfuzz-server-XXXXXX";

static void remove_data_dir(void)
{
	skyx_rm_rf(data_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("https_proxy", "http://127.0.0.1:9", 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	setenv("SKYENGINE_LOG", "off", 1);
	if (!mkdtemp(data_dir) || sky_global_init() < 1)
		abort();
	atexit(remove_data_dir);
	sky_engine_options o;
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = data_dir;
	o.no_execute = 1;
	o.config_json = "{\"server\":{\"public_url\":\"http://127.0.0.1:1\"},"
	                "\"webhook\":{\"max_attempts\":1,\"timeout_ms\":200}}";
	if (sky_engine_new(&S.engine, &o) ||
	    sky_api_key_add(S.engine, NULL, KEY))
		abort();
	S.public_url = skyx_strdup("http://127.0.0.1:1");
	return 0;
}

/* The next '\n'-terminated field of [*p, end), malloc'd. */
static char *field(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *stop = nl ? nl : end;
	char *s = skyx_strndup(*p, (size_t)(stop - *p));
	*p = nl ? nl + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum srv_method methods[] = {
	    SRV_GET,   SRV_POST,   SRV_OPTIONS, SRV_PUT,
	    SRV_PATCH, SRV_DELETE, SRV_HEAD,    SRV_OTHER};
	static const char *const names[] = {
	    "GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "HEAD", "BREW"};
	if (!size)
		return 0;
	unsigned b0 = data[0];
	const char *p = (const char *)data + 1,
	           *end = (const char *)data + size;
	srv_req req = {0};
	srv_resp resp = {0};
	int m = (int)(b0 & 7);
	req.method = methods[m];
	req.method_name = names[m];
	req.path = field(&p, end);
	char *query = field(&p, end);
	char *idem = field(&p, end);
	size_t blen = (size_t)(end - p);
	if (p < end || (b0 & 0x10)) {
		req.body = skyx_strndup(p, blen);
		req.body_len = blen;
		req.has_body = 1;
	}
	/* "a=b&c" -> pairs, as the HTTP layer hands them over. */
	char *save = NULL, *q = skyx_strdup(query);
	for (char *t = strtok_r(q, "&", &save); t;
	     t = strtok_r(NULL, "&", &save)) {
		req.query =
		    realloc(req.query, (req.n_query + 1) * sizeof *req.query);
		req.query[req.n_query++] = skyx_strdup(t);
	}
	free(q);
	switch ((b0 >> 5) & 3) {
	case 0:
		req.api_key = skyx_strdup(KEY);
		break;
	case 1:
		req.api_key = skyx_strdup("wrong-key-0123456789");
		break;
	case 2:
		req.authorization = skyx_strdup("Bearer x");
		break;
	default:
		break;
	}
	req.content_type =
	    skyx_strdup(b0 & 0x80 ? "text/plain" : "application/json");
	req.idempotency_key = *idem ? idem : NULL;
	snprintf(req.peer, sizeof req.peer, "127.0.0.1");

	/* Sends a request at once, to a URL of the input's choosing. */
	if (!strstr(req.path, "retry_webhook")) {
		srv_handle(&S, &req, &resp);
		if (resp.status && (resp.status < 200 || resp.status > 599))
			abort();
		if (!resp.body && resp.status != 204)
			abort(); /* every answer has a body */
	}
	free(resp.ctype);
	free(resp.headers);
	free(resp.body);
	free(req.path);
	for (size_t i = 0; i < req.n_query; i++)
		free(req.query[i]);
	free(req.query);
	free(req.body);
	free(req.api_key);
	free(req.authorization);
	free(req.content_type);
	free(query);
	free(idem);
	return 0;
}
