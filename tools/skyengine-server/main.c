/*
 * skyengine-server: the engine behind the Skyvern Tasks API.
 *
 *   skyengine-server [--host 127.0.0.1] [--port 8000] [--data DIR]
 *                    [--public-url URL] [--workers N] [--config FILE]
 *                    [--api-key KEY]... [--no-execute]
 *                    [--store URL] [--worker-only]
 *
 * API keys: --api-key, $SKYENGINE_API_KEY (comma-separated) and keys
 * already stored. With none at all, one is generated on first start,
 * printed once and stored hashed. SIGTERM/SIGINT stop gracefully: the
 * listener closes, in-flight runs are parked and resumed at next start.
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"
#include <skyx/fs.h>
#include <skyx/str.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: skyengine-server [options]\n"
	           "  --host ADDR        listen address (default 127.0.0.1)\n"
	           "  --port N           listen port (default 8000; 0: any)\n"
	           "  --data DIR         data directory ($SKYENGINE_DATA, "
	           "default ./skyengine-data)\n"
	           "  --public-url URL   base of app_url, recording_url and "
	           "file links\n"
	           "                     (default http://HOST:PORT)\n"
	           "  --workers N        runs executed at once (default 4)\n"
	           "  --config FILE      engine configuration (JSON, see "
	           "docs/configuration.md)\n"
	           "  --api-key KEY      accept this key (repeatable; also "
	           "$SKYENGINE_API_KEY)\n"
	           "  --no-execute       store runs but do not execute them\n"
	           "  --store URL        the store, shared by every process "
	           "naming it: postgresql://...\n"
	           "                     or a SQLite file (store.url, "
	           "$SKYENGINE_STORE_URL;\n"
	           "                     default DIR/skyengine.db)\n"
	           "  --worker-only      execute runs, serve no HTTP (another "
	           "process on the same\n"
	           "                     store takes the requests)\n"
	           "  --insecure-no-auth accept requests without x-api-key "
	           "(local demos only)\n"
	           "  --port-file FILE   write the bound port there (tests)\n"
	           "  --help\n");
}

static int add_keys(sky_engine *e, const char *list)
{
	char *copy = skyx_strdup(list), *save = NULL;
	int rc = 0;
	for (char *k = strtok_r(copy, ",", &save); k && !rc;
	     k = strtok_r(NULL, ",", &save))
		if ((rc = sky_api_key_add(e, NULL, k)))
			fprintf(stderr, "skyengine-server: bad API key: %s\n",
			        sky_error_last());
	free(copy);
	return rc;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *data = NULL, *public_url = NULL;
	const char *config_file = NULL, *port_file = NULL, *store = NULL;
	int port = 8000, workers = 0, no_execute = 0, no_auth = 0;
	int worker_only = 0;
	skyx_buf keys = {0};
	static const struct option opts[] = {
	    {"host", required_argument, 0, 'h'},
	    {"port", required_argument, 0, 'p'},
	    {"data", required_argument, 0, 'd'},
	    {"public-url", required_argument, 0, 'u'},
	    {"workers", required_argument, 0, 'w'},
	    {"config", required_argument, 0, 'c'},
	    {"api-key", required_argument, 0, 'k'},
	    {"no-execute", no_argument, 0, 'n'},
	    {"insecure-no-auth", no_argument, 0, 'A'},
	    {"port-file", required_argument, 0, 'P'},
	    {"store", required_argument, 0, 's'},
	    {"worker-only", no_argument, 0, 'W'},
	    {"help", no_argument, 0, 'H'},
	    {0, 0, 0, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'd':
			data = optarg;
			break;
		case 'u':
			public_url = optarg;
			break;
		case 'w':
			workers = atoi(optarg);
			break;
		case 'c':
			config_file = optarg;
			break;
		case 'k':
			if (keys.len)
				skyx_buf_putc(&keys, ',');
			skyx_buf_puts(&keys, optarg);
			break;
		case 'n':
			no_execute = 1;
			break;
		case 'A':
			no_auth = 1;
			break;
		case 'P':
			port_file = optarg;
			break;
		case 's':
			store = optarg;
			break;
		case 'W':
			worker_only = 1;
			break;
		case 'H':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	json_t *cfg = json_object();
	if (config_file) {
		json_error_t jerr;
		json_decref(cfg);
		cfg = json_load_file(config_file, 0, &jerr);
		if (!json_is_object(cfg)) {
			fprintf(stderr, "skyengine-server: %s: %s (line %d)\n",
			        config_file, jerr.text, jerr.line);
			return 2;
		}
	}
	if (worker_only && no_execute) {
		fprintf(stderr, "skyengine-server: --worker-only and "
		                "--no-execute leave nothing to do\n");
		return 2;
	}
	if (store) {
		json_t *st = json_object_get(cfg, "store");
		if (!json_is_object(st)) {
			st = json_object();
			json_object_set_new(cfg, "store", st);
		}
		json_object_set_new(st, "url", json_string(store));
	}
	/* Start listening first so that the public URL knows the port. */
	srv s = {0};
	srv_http *http = NULL;
	srv_http_options ho = {0};
	ho.host = host;
	ho.port = port;
	ho.handler = srv_handle;
	ho.is_slow = srv_route_is_slow;
	ho.max_body_for = srv_route_max_body;
	static const srv_ws_handlers streams = {
	    srv_stream_accept, srv_stream_open, srv_stream_tick,
	    srv_stream_close};
	ho.ws = &streams;
	ho.ud = &s;
	if (!worker_only && srv_http_start(&ho, &http)) {
		fprintf(stderr, "skyengine-server: cannot listen on %s:%d\n",
		        host, port);
		return 1;
	}
	char *pub = NULL;
	if (http) {
		port = srv_http_port(http);
		pub = public_url ? skyx_strdup(public_url)
		                 : skyx_asprintf("http://%s:%d", host, port);
	} else if (public_url) {
		pub = skyx_strdup(public_url);
	}
	json_t *server = json_object_get(cfg, "server");
	if (!json_is_object(server)) {
		server = json_object();
		json_object_set_new(cfg, "server", server);
	}
	if (pub && (!json_string_value(json_object_get(server, "public_url")) ||
	            public_url))
		json_object_set_new(server, "public_url", json_string(pub));
	/* Runs submitted before a restart sign their webhooks with the
	 * engine's key (only hashes of API keys are stored): without one
	 * configured, the first key given on the command line or in
	 * $SKYENGINE_API_KEY, so such webhooks are not sent unsigned. */
	json_t *wh = json_object_get(cfg, "webhook");
	const char *env_first = getenv("SKYENGINE_API_KEY");
	if (!json_string_value(json_object_get(wh, "signing_key")) &&
	    (keys.len || (env_first && *env_first))) {
		char *first = skyx_strdup(keys.len ? keys.data : env_first);
		first[strcspn(first, ",")] = '\0';
		if (!json_is_object(wh)) {
			wh = json_object();
			json_object_set_new(cfg, "webhook", wh);
		}
		if (*first)
			json_object_set_new(wh, "signing_key",
			                    json_string(first));
		free(first);
	}
	char *cfg_text = json_dumps(cfg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(cfg);

	if (sky_global_init() < 1)
		return 1;
	sky_engine_options eo;
	sky_engine_options_init(&eo, SKY_ENGINE_OPTIONS_VERSION);
	eo.data_dir = data;
	eo.workers = workers;
	eo.config_json = cfg_text;
	eo.no_execute = no_execute;
	if (sky_engine_new(&s.engine, &eo)) {
		fprintf(stderr, "skyengine-server: %s\n", sky_error_last());
		srv_http_stop(http);
		return 1;
	}
	s.public_url = pub;
	s.allow_unauthenticated = no_auth;

	const char *env_keys = getenv("SKYENGINE_API_KEY");
	if ((keys.len && add_keys(s.engine, keys.data)) ||
	    (env_keys && *env_keys && add_keys(s.engine, env_keys)))
		return 2;
	long long nkeys = 0;
	sky_api_key_count(&nkeys, s.engine);
	if (!nkeys && !no_auth && !worker_only) {
		char *k = NULL;
		if (sky_api_key_generate(&k, s.engine, NULL) == 0) {
			printf("skyengine-server: generated an API key (shown "
			       "once, stored hashed):\n  %s\n",
			       k);
			sky_free(k);
		}
	}
	if (port_file && http) {
		char buf[32];
		snprintf(buf, sizeof buf, "%d\n", port);
		skyx_write_file(port_file, buf, strlen(buf));
	}
	if (http)
		printf("skyengine-server %s listening on %s (data: %s)\n",
		       sky_version(), pub, sky_engine_data_dir(s.engine));
	else
		printf("skyengine-server %s executing runs, no listener "
		       "(data: %s)\n",
		       sky_version(), sky_engine_data_dir(s.engine));
	fflush(stdout);

	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stop_flag)
		pause();

	printf("skyengine-server: stopping\n");
	fflush(stdout);
	srv_http_stop(http);
	sky_engine_free(s.engine);
	sky_global_shutdown();
	free(pub);
	free(cfg_text);
	skyx_buf_free(&keys);
	return 0;
}
