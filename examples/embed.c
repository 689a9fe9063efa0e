/*
 * Embedding skyengine: run one task and print its output. Uses only the
 * public headers. Build against an installed skyengine:
 *
 *   cc -o embed embed.c $(pkg-config --cflags --libs skyengine)
 *   ./embed "Apply for a job on behalf of this person: name: Chris P Bacon. \
 *            email: chris@pbacon.com" http://127.0.0.1:8090/
 *
 * The engine uses its defaults: the offline planner (no model needed),
 * Chromium from the system, ./skyengine-data for the store.
 */
#include <skyengine.h>
#include <stdio.h>
#include <string.h>

/* Print one line per finished step, from the engine's events. */
static void on_event(const sky_event *ev, void *userdata)
{
	(void)userdata;
	if (ev->type == SKY_EVENT_STEP_FINISHED)
		fprintf(stderr, "step %d %s\n", ev->step_order, ev->status);
}

int main(int argc, char **argv)
{
	sky_engine *engine = NULL;
	char *run = NULL, *result = NULL;
	int status = 0, rc = 1;
	char request[4096];

	if (argc < 3) {
		fprintf(stderr, "usage: %s \"goal\" URL [schema-json]\n",
		        argv[0]);
		return 2;
	}
	/* A real program would build the JSON with a JSON library. */
	snprintf(request, sizeof request,
	         "{\"prompt\": \"%s\", \"url\": \"%s\", \"proxy_location\": "
	         "\"NONE\"%s%s}",
	         argv[1], argv[2], argc > 3 ? ", \"data_extraction_schema\": " : "",
	         argc > 3 ? argv[3] : "");

	if (sky_global_init() < 1)
		return 1;
	if (sky_engine_new(&engine, NULL) != 0) {
		fprintf(stderr, "engine: %s\n", sky_error_last());
		goto out;
	}
	sky_engine_subscribe(@SUBID@, engine, on_event, NULL);
	if (sky_tasks_api_run_submit(&run, &status, engine, @ORG@, request, NULL) != 0) {
		fprintf(stderr, "refused (%d): %s\n", status, run);
		goto out;
	}
	/* The run id is in the response; a JSON library would read it. */
	const char *id = strstr(run, "\"run_id\":\"");
	char run_id[64] = "";
	if (id)
		sscanf(id + 10, "%63[^\"]", run_id);
	if (sky_tasks_api_run_wait(&result, engine, @ORG@, run_id, 300000) != 0) {
		fprintf(stderr, "run %s did not finish: %s\n", run_id,
		        sky_error_last());
		goto out;
	}
	puts(result);
	rc = strstr(result, "\"status\":\"completed\"") ? 0 : 1;
out:
	sky_free(run);
	sky_free(result);
	sky_engine_free(engine);
	sky_global_shutdown();
	return rc;
}
