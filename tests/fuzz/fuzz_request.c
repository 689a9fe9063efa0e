/*
 * libFuzzer: the task-run request model (the body of POST /v1/run/tasks)
 * with and without the URL blocking options. Any input must give a
 * request or a refusal with a status and a body, never a crash.
 */
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>

#include <skyengine/errors.h>

#include "engine/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sky_request_options opts = {0};
	sky_task_request *r = NULL;
	sky_request_error err = {0};
	if (size && data[0] == '#') {
		/* "#" first: the same body with every URL block on. */
		opts.url_flags = SKY_URL_BLOCK_METADATA | SKY_URL_BLOCK_PRIVATE;
		data++;
		size--;
	}
	int rc =
	    sky_task_request_parse((const char *)data, size, &opts, &r, &err);
	if (rc == 0) {
		sky_task_new tn;
		sky_task_request_to_new(r, &tn);
		if (!r->prompt || !r->run_type)
			abort();
	} else if (rc != SKY_ENOMEM && (!err.status || !err.body)) {
		abort(); /* a refusal must say what the API answers */
	}
	sky_task_request_free(r);
	sky_request_error_clear(&err);
	return 0;
}
