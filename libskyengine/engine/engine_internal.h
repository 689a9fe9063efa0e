/* Internal: the engine object shared by engine/, agent/ and the tools. */
#ifndef SKY_ENGINE_INTERNAL_H
#define SKY_ENGINE_INTERNAL_H

#include <pthread.h>
#include <skyengine/engine.h>

#include "net/http_client.h"
#include "plugin/loader.h"
#include "store/store.h"

struct sky_engine {
	char *data_dir;      /* absolute */
	char *plugin_path;
	char *llm_name;
	char *browser_name;
	char *config_json;   /* "{}" when none */
	int workers;
	int max_steps;
	int max_retries_per_step;
	int no_execute;
	sky_plugins *plugins;
	sky_store *store; /* <data_dir>/skyengine.db, shared by all threads */
	sky_http_client *http; /* the shared client (net/) */
};

/* Option value, else environment variable, else default; malloc'd. */
char *sky__opt_str(const char *opt, const char *env, const char *dflt);
int sky__opt_int(int opt, const char *env, int dflt);

#endif
