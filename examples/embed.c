/*
 * Embedding skyengine: run one task and print its output. Uses only the
 * public headers. Build against an installed skyengine:
 *
 *   cc -o embed embed.c $(pkg-config --cflags --libs skyengine)
 *   ./embed "Apply for a job on behalf of this person: name: Chris P Bacon. \
 *            email: chris@pbacon.com" http://127.0.0.1:8090/ \
 *           '{"application_success": {"type": "boolean"}}'
 *
 * The engine uses its defaults: the offline planner (no model needed),
 * Chromium from the system, ./skyengine-data for the store.
 */
#include <skyengine.h>
#include <stdio.h>

/* Print one line per finished step, from the engine's events (called on
 * a worker thread). */
static void on_event(const sky_event *ev, void *userdata)
{
	(void)userdata;
	if (ev->type == SKY_EVENT_STEP_FINISHED)
		fprintf(stderr, "step %d %s\n", ev->step_order, ev->status);
}

int main(int argc, char **argv)
{
	sky_engine *engine = NULL;
	sky_run *run = NULL, *done = NULL;
	sky_task_options task = SKY_TASK_OPTIONS_INIT;
	int sub = 0, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: %s \"goal\" URL [schema-json]\n",
		        argv[0]);
		return 2;
	}
	task.prompt = argv[1];
	task.url = argv[2];
	task.data_extraction_schema = argc > 3 ? argv[3] : NULL;
	task.proxy_location = "\"NONE\""; /* JSON text: no proxy */

	if (sky_global_init() < 1)
		return 1;
	if (sky_engine_new(&engine, NULL) != 0) {
		fprintf(stderr, "engine: %s\n", sky_error_last());
		goto out;
	}
	sky_engine_subscribe(&sub, engine, on_event, NULL);
	/* NULL: the engine's default organization. */
	if (sky_run_submit(&run, engine, NULL, &task) != 0) {
		fprintf(stderr, "refused: %s\n", sky_error_last());
		goto out;
	}
	fprintf(stderr, "run %s %s\n", sky_run_id(run),
	        sky_run_status_name(sky_run_status_get(run)));
	if (sky_run_wait(&done, engine, NULL, sky_run_id(run), 300000) != 0) {
		fprintf(stderr, "run %s did not finish: %s\n", sky_run_id(run),
		        sky_error_last());
		goto out;
	}
	sky_run_status st = sky_run_status_get(done);
	fprintf(stderr, "run %s %s after %d steps%s%s\n", sky_run_id(done),
	        sky_run_status_name(st), sky_run_step_count(done),
	        sky_run_failure_reason(done) ? ": " : "",
	        sky_run_failure_reason(done) ? sky_run_failure_reason(done)
	                                     : "");
	const char *output = sky_run_output_json(done);
	puts(output ? output : "null");
	rc = st == SKY_RUN_COMPLETED ? 0 : 1;
out:
	sky_engine_unsubscribe(engine, sub);
	sky_run_free(run);
	sky_run_free(done);
	sky_engine_free(engine);
	sky_global_shutdown();
	return rc;
}
