/*
 * skyctl: the command line.
 *
 *   skyctl run "prompt" [--url URL] [--schema JSON|@file] [--engine E]
 *              [--max-steps N] [--json] [--data DIR] [--timeout S]
 *              [--replay [--ai-fallback] [--cache-key K]]
 *   skyctl get|steps|cancel RUN_ID [--server URL] [--api-key KEY]
 *   skyctl list [--page N] [--page-size N] [--status S] [--server URL]
 *
 * `run` executes in-process on the embedded defaults (the offline planner
 * unless SKYENGINE_LLM says otherwise) and shows one line per step; the
 * others talk to a skyengine-server ($SKYENGINE_SERVER, $SKYENGINE_API_KEY).
 */
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skyengine.h>

#include <skyx/fs.h>
#include <skyx/str.h>

#include "remote.h"

static int is_tty;

static void help_run(FILE *f)
{
	fprintf(f,
	        "usage: skyctl run \"prompt\" [options]\n"
	        "Run a task in this process and print its output.\n"
	        "  --url URL          start page\n"
	        "  --schema JSON|@F   data_extraction_schema (inline JSON or a "
	        "file)\n"
	        "  --engine E         skyvern-1.0 | skyvern-2.0 (default)\n"
	        "  --max-steps N      step limit\n"
	        "  --payload JSON|@F  navigation_payload (facts)\n"
	        "  --json             print the whole run response as JSON\n"
	        "  --data DIR         data directory ($SKYENGINE_DATA)\n"
	        "  --timeout S        give up waiting after S seconds\n"
	        "  --config JSON|@F   engine configuration (JSON, "
	        "docs/configuration.md)\n"
	        "  --replay           replay the plan an earlier run of this "
	        "task left in --data\n"
	        "                     (run_with code: no model; "
	        "docs/replay.md)\n"
	        "  --ai-fallback      with --replay: the agent takes over "
	        "where the page changed\n"
	        "  --cache-key K      the key the plan is stored and found "
	        "under\n"
	        "Environment: SKYENGINE_LLM (rules|openai|anthropic|replay), "
	        "see docs/configuration.md.\n");
}

static void help_remote(FILE *f, const char *cmd)
{
	fprintf(f,
	        "usage: skyctl %s%s [--server URL] [--api-key KEY]%s\n"
	        "Talk to a skyengine-server (default $SKYENGINE_SERVER or "
	        "http://127.0.0.1:8000;\nkey from $SKYENGINE_API_KEY).\n",
	        cmd, strcmp(cmd, "list") ? " RUN_ID" : "",
	        strcmp(cmd, "list") ? ""
	                            : " [--page N] [--page-size N] "
	                              "[--status S]");
}

static void help_main(FILE *f)
{
	fprintf(f, "usage: skyctl <command> [options]\n"
	           "  run      run a task in-process (skyctl run --help)\n"
	           "  get      show a run from a server\n"
	           "  list     list runs on a server\n"
	           "  steps    list the steps of a run\n"
	           "  cancel   cancel a run\n");
}

/* JSON inline, or @file. Returns the text (malloc'd) or NULL. */
static char *json_arg(const char *arg)
{
	char *text =
	    arg[0] == '@' ? skyx_read_file(arg + 1, NULL) : skyx_strdup(arg);
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	if (!v) {
		fprintf(stderr, "skyctl: %s is not valid JSON\n", arg);
		free(text);
		return NULL;
	}
	json_decref(v);
	return text;
}

/* --- run: progress from engine events ----------------------------------- */

typedef struct progress {
	pthread_mutex_t lock;
	const char *run_id;
	skyx_buf line; /* actions of the current step */
	int spinning;
} progress;

static void on_event(const sky_event *ev, void *ud)
{
	progress *p = ud;
	pthread_mutex_lock(&p->lock);
	if (!p->run_id || strcmp(ev->run_id, p->run_id)) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (ev->type == SKY_EVENT_ACTION) {
		json_t *j = json_loads(ev->json, 0, NULL);
		json_t *a = json_object_get(j, "action");
		json_t *r = json_object_get(j, "result");
		const char *type =
		    json_string_value(json_object_get(a, "action_type"));
		const char *id =
		    json_string_value(json_object_get(a, "element_id"));
		if (p->line.len)
			skyx_buf_puts(&p->line, ", ");
		skyx_buf_printf(&p->line, "%s%s%s%s", type ? type : "?",
		                id ? " #" : "", id ? id : "",
		                json_is_true(json_object_get(r, "success"))
		                    ? ""
		                    : " (failed)");
		json_decref(j);
	} else if (ev->type == SKY_EVENT_STEP_FINISHED) {
		if (is_tty)
			fputs("\r\033[K", stderr);
		fprintf(stderr, "step %d%s: %s -> %s\n", ev->step_order,
		        ev->retry_index ? " (retry)" : "",
		        p->line.len ? p->line.data : "no action",
		        ev->status ? ev->status : "?");
		skyx_buf_reset(&p->line);
	} else if (ev->type == SKY_EVENT_RUN_STATUS && is_tty) {
		fprintf(stderr, "\r\033[K%s...", ev->status);
	}
	pthread_mutex_unlock(&p->lock);
}

static int cmd_run(int argc, char **argv)
{
	const char *url = NULL, *engine = NULL, *data = NULL;
	char *config = NULL;
	char *schema = NULL, *payload = NULL;
	int max_steps = 0, as_json = 0, timeout = 0, ch;
	int replay = 0, fallback = 0;
	const char *cache_key = NULL;
	static const struct option o[] = {
	    {"url", required_argument, 0, 'u'},
	    {"schema", required_argument, 0, 's'},
	    {"payload", required_argument, 0, 'p'},
	    {"engine", required_argument, 0, 'e'},
	    {"max-steps", required_argument, 0, 'm'},
	    {"json", no_argument, 0, 'j'},
	    {"data", required_argument, 0, 'd'},
	    {"timeout", required_argument, 0, 't'},
	    {"config", required_argument, 0, 'c'},
	    {"replay", no_argument, 0, 'r'},
	    {"ai-fallback", no_argument, 0, 'f'},
	    {"cache-key", required_argument, 0, 'k'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	while ((ch = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (ch) {
		case 'c':
			free(config);
			if (!(config = json_arg(optarg)))
				return 2;
			break;
		case 'u':
			url = optarg;
			break;
		case 's':
			if (!(schema = json_arg(optarg)))
				return 2;
			break;
		case 'p':
			if (!(payload = json_arg(optarg)))
				return 2;
			break;
		case 'e':
			engine = optarg;
			break;
		case 'm':
			max_steps = atoi(optarg);
			break;
		case 'j':
			as_json = 1;
			break;
		case 'd':
			data = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		case 'r':
			replay = 1;
			break;
		case 'f':
			fallback = 1;
			break;
		case 'k':
			cache_key = optarg;
			break;
		case 'h':
			help_run(stdout);
			return 0;
		default:
			help_run(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		help_run(stderr);
		return 2;
	}
	json_t *req = json_pack("{s:s}", "prompt", argv[optind]);
	if (url)
		json_object_set_new(req, "url", json_string(url));
	if (engine)
		json_object_set_new(req, "engine", json_string(engine));
	if (max_steps)
		json_object_set_new(req, "max_steps", json_integer(max_steps));
	if (schema)
		json_object_set_new(req, "data_extraction_schema",
		                    json_loads(schema, JSON_DECODE_ANY, NULL));
	if (payload)
		json_object_set_new(req, "navigation_payload",
		                    json_loads(payload, JSON_DECODE_ANY, NULL));
	if (replay) {
		json_object_set_new(req, "run_with", json_string("code"));
		if (fallback)
			json_object_set_new(req, "ai_fallback", json_true());
	}
	if (cache_key)
		json_object_set_new(req, "cache_key", json_string(cache_key));
	/* A local run goes direct unless the configuration maps proxies. */
	json_object_set_new(req, "proxy_location", json_string("NONE"));
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	free(schema);
	free(payload);

	sky_engine *e = NULL;
	sky_engine_options eo;
	if (sky_global_init() < 1)
		return 1;
	sky_engine_options_init(&eo, SKY_ENGINE_OPTIONS_VERSION);
	eo.data_dir = data;
	eo.workers = 1;
	eo.config_json = config;
	if (sky_engine_new(&e, &eo)) {
		fprintf(stderr, "skyctl: %s\n", sky_error_last());
		free(body);
		return 1;
	}
	progress p = {PTHREAD_MUTEX_INITIALIZER, NULL, {0}, 0};
	char *out = NULL;
	int status = 0, rc = 1;
	int sub = 0;
	sky_engine_subscribe(&sub, e, on_event, &p);
	/* The submit emits its own "created" event on this thread, so the
	 * lock is not held across it. */
	if (sky_tasks_api_run_submit(&out, &status, e, NULL, body, NULL)) {
		fprintf(stderr, "skyctl: the request was refused (%d): %s\n",
		        status, out ? out : sky_error_last());
		goto done;
	}
	json_t *created = json_loads(out, 0, NULL);
	char *run_id =
	    skyx_strdup(json_string_value(json_object_get(created, "run_id")));
	json_decref(created);
	pthread_mutex_lock(&p.lock);
	p.run_id = run_id;
	pthread_mutex_unlock(&p.lock);
	sky_free(out);
	out = NULL;
	fprintf(stderr, "run %s started\n", run_id);

	int wrc = sky_tasks_api_run_wait(&out, e, NULL, run_id,
	                                 timeout > 0 ? timeout * 1000 : 0);
	if (is_tty)
		fputs("\r\033[K", stderr);
	json_t *run = json_loads(out ? out : "{}", 0, NULL);
	const char *st = json_string_value(json_object_get(run, "status"));
	if (as_json) {
		puts(out ? out : "{}");
	} else {
		json_t *output = json_object_get(run, "output");
		char *text =
		    output ? json_dumps(output, JSON_ENCODE_ANY) : NULL;
		printf("%s\n", text ? text : "null");
		free(text);
		fprintf(stderr, "run %s %s", run_id, st ? st : "?");
		const char *why =
		    json_string_value(json_object_get(run, "failure_reason"));
		if (why)
			fprintf(stderr, ": %s", why);
		fprintf(stderr, "\n");
		json_t *sr = json_object_get(run, "script_run");
		if (json_is_object(sr) &&
		    !json_is_string(json_object_get(sr, "script_id")))
			fprintf(stderr,
			        "replay: no plan for this task yet; the "
			        "agent ran and recorded one\n");
		else if (json_is_object(sr))
			fprintf(
			    stderr,
			    "replay: plan %s v%lld, %zu step(s) replayed%s\n",
			    json_string_value(json_object_get(sr, "script_id")),
			    (long long)json_integer_value(
			        json_object_get(sr, "version")),
			    json_array_size(
			        json_object_get(sr, "steps_replayed")),
			    json_is_true(
			        json_object_get(sr, "ai_fallback_triggered"))
			        ? ", then the agent took over"
			        : ", no model call");
		const char *rec =
		    json_string_value(json_object_get(run, "recording_url"));
		if (rec)
			fprintf(stderr, "recording: %s\n", rec);
	}
	rc = wrc == 0 && st && !strcmp(st, "completed") ? 0 : 1;
	json_decref(run);
	free(run_id);
done:
	sky_engine_unsubscribe(e, sub);
	sky_free(out);
	free(body);
	skyx_buf_free(&p.line);
	sky_engine_free(e);
	sky_global_shutdown();
	free(config);
	return rc;
}

/* --- remote commands ----------------------------------------------------- */

static int remote(const char *method, const char *server, const char *key,
                  const char *path, int *status, char **body)
{
	char *url = skyx_asprintf("%s%s", server, path), *err = NULL;
	int rc =
	    skyctl_remote_request(method, url, key, 30, status, body, &err);
	if (rc)
		fprintf(stderr, "skyctl: %s %s: %s\n", method, url, err);
	free(err);
	free(url);
	return rc ? -1 : 0;
}

static int cmd_remote(const char *cmd, int argc, char **argv)
{
	const char *server = getenv("SKYENGINE_SERVER");
	const char *key = getenv("SKYENGINE_API_KEY");
	const char *st = NULL;
	int page = 1, page_size = 10, ch;
	static const struct option o[] = {
	    {"server", required_argument, 0, 's'},
	    {"api-key", required_argument, 0, 'k'},
	    {"page", required_argument, 0, 'p'},
	    {"page-size", required_argument, 0, 'z'},
	    {"status", required_argument, 0, 't'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	while ((ch = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (ch) {
		case 's':
			server = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'p':
			page = atoi(optarg);
			break;
		case 'z':
			page_size = atoi(optarg);
			break;
		case 't':
			st = optarg;
			break;
		case 'h':
			help_remote(stdout, cmd);
			return 0;
		default:
			help_remote(stderr, cmd);
			return 2;
		}
	}
	if (!server || !*server)
		server = "http://127.0.0.1:8000";
	int is_list = !strcmp(cmd, "list");
	if (!is_list && optind >= argc) {
		help_remote(stderr, cmd);
		return 2;
	}
	const char *id = is_list ? NULL : argv[optind];
	char *path;
	const char *method = "GET";
	if (!strcmp(cmd, "get"))
		path = skyx_asprintf("/v1/runs/%s", id);
	else if (!strcmp(cmd, "steps"))
		path = skyx_asprintf("/api/v1/tasks/%s/steps", id);
	else if (!strcmp(cmd, "cancel")) {
		path = skyx_asprintf("/v1/runs/%s/cancel", id);
		method = "POST";
	} else
		path = skyx_asprintf("/v1/runs?page=%d&page_size=%d%s%s", page,
		                     page_size, st ? "&status=" : "",
		                     st ? st : "");
	int status = 0;
	char *body = NULL;
	int rc = remote(method, server, key, path, &status, &body);
	free(path);
	if (rc)
		return 1;
	json_t *j = json_loads(body, JSON_DECODE_ANY, NULL);
	char *pretty =
	    j ? json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
	printf("%s\n", pretty ? pretty : body);
	free(pretty);
	json_decref(j);
	free(body);
	if (status >= 400) {
		fprintf(stderr, "skyctl: the server answered HTTP %d\n",
		        status);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	is_tty = isatty(2);
	if (argc < 2) {
		help_main(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		help_main(stdout);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "get") || !strcmp(cmd, "list") ||
	    !strcmp(cmd, "steps") || !strcmp(cmd, "cancel"))
		return cmd_remote(cmd, argc - 1, argv + 1);
	fprintf(stderr, "skyctl: unknown command '%s'\n", cmd);
	help_main(stderr);
	return 2;
}
