/* A program that knows skyengine only through its installed package. */
#include <skyengine.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	sky_engine_options opts;
	sky_engine *engine = NULL;
	if (sky_global_init() < 1)
		return 1;
	sky_engine_options_init(&opts, SKY_ENGINE_OPTIONS_VERSION);
	opts.data_dir = argc > 1 ? argv[1] : "consumer-data";
	opts.no_execute = 1;
	if (sky_engine_new(&engine, &opts) != 0) {
		fprintf(stderr, "engine: %s\n", sky_error_last());
		return 1;
	}
	printf("skyengine %s (%s)\n", sky_version(),
	       sky_strerror(SKY_EINVALID));
	sky_engine_free(engine);
	sky_global_shutdown();
	return 0;
}
