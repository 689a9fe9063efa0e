/* Process-wide initialisation, reference-counted. */
#include <pthread.h>
#include <sqlite3.h>
#include <skyengine/global.h>

#include "engine/engine_internal.h"
#include "util/error.h"
#include "util/id.h"
#include "util/log.h"

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static int global_refs;

int sky_global_init(void)
{
	int rc;
	pthread_mutex_lock(&global_lock);
	if (global_refs == 0) {
		if (sqlite3_initialize() != SQLITE_OK) {
			pthread_mutex_unlock(&global_lock);
			return sky_error_set(SKY_ERROR,
			                     "sqlite3_initialize failed");
		}
		sky_id_reseed();
	}
	rc = ++global_refs;
	pthread_mutex_unlock(&global_lock);
	return rc;
}

int sky_global_shutdown(void)
{
	int rc;
	pthread_mutex_lock(&global_lock);
	if (global_refs == 0) {
		pthread_mutex_unlock(&global_lock);
		return sky_error_set(
		    SKY_EINVALID,
		    "sky_global_shutdown without sky_global_init");
	}
	rc = --global_refs;
	if (rc == 0) {
		sky_secret_clear_all();
		sqlite3_shutdown();
	}
	pthread_mutex_unlock(&global_lock);
	return rc;
}

/* For internal checks: is the library initialised? */
int sky_engine__global_ready(void)
{
	pthread_mutex_lock(&global_lock);
	int r = global_refs > 0;
	pthread_mutex_unlock(&global_lock);
	return r;
}
