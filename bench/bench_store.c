/*
 * Store throughput: runs created per second, status transitions per
 * second and task reads per second, on one thread and on several. On a
 * fresh SQLite file per trial, and, when a store URL is given
 * (postgresql://...), on that database beside it (bench/cluster.sh makes
 * a fresh one on a throwaway server; the trials share it, each with its
 * own new runs). Usage: bench_store [runs-per-thread] [threads] [store-url]
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/error.h"
#include "util/fs.h"
#include <skyx/str.h>
#include <skyx/time.h>

typedef struct job {
	sky_store *store;
	int n;
	char **ids; /* n ids: made by create, used by the others */
	int failed;
} job;

static void *do_create(void *arg)
{
	job *j = arg;
	for (int i = 0; i < j->n; i++) {
		sky_task_new in = {0};
		sky_task_rec *r = NULL;
		in.run_type = SKY_RUN_TYPE_V2;
		in.engine = "skyvern-2.0";
		in.url = "https://example.com/apply";
		in.prompt = "Apply for a job on behalf of this person: name: "
		            "Chris P Bacon. email: chris@pbacon.com";
		in.proxy_location = "\"RESIDENTIAL\"";
		in.data_extraction_schema =
		    "{\"application_success\":{\"type\":\"boolean\"}}";
		in.run_request = "{\"prompt\":\"Apply for a job\",\"url\":"
		                 "\"https://example.com/apply\"}";
		if (sky_store_task_create(j->store, &in, &r, NULL)) {
			j->failed++;
			continue;
		}
		j->ids[i] = r->task_id;
		r->task_id = NULL;
		sky_task_rec_free(r);
	}
	return NULL;
}

/* created -> running -> completed: two transitions per run. */
static void *do_transitions(void *arg)
{
	job *j = arg;
	for (int i = 0; i < j->n; i++) {
		if (sky_store_task_set_status(j->store, j->ids[i],
		                              SKY_TASK_RUNNING, NULL, NULL) ||
		    sky_store_task_set_status(j->store, j->ids[i],
		                              SKY_TASK_COMPLETED, NULL, NULL))
			j->failed++;
	}
	return NULL;
}

static void *do_reads(void *arg)
{
	job *j = arg;
	for (int i = 0; i < j->n; i++) {
		sky_task_rec *r = NULL;
		if (sky_store_task_get(j->store, NULL, j->ids[i], &r))
			j->failed++;
		sky_task_rec_free(r);
	}
	return NULL;
}

/* Run `fn` on `threads` threads, each over its own ids; ops per second
 * (each call of fn's loop counts `per` operations). */
static double run(void *(*fn)(void *), job *jobs, int threads, int per)
{
	pthread_t th[64];
	int64_t t0 = skyx_time_mono_us(), dt;
	long ops = 0;

	for (int t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, fn, &jobs[t]);
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		ops += (long)jobs[t].n * per;
		if (jobs[t].failed) {
			fprintf(stderr, "bench_store: %d failures: %s\n",
			        jobs[t].failed, sky_error_last());
			exit(1);
		}
	}
	dt = skyx_time_mono_us() - t0;
	return dt > 0 ? ops * 1e6 / (double)dt : 0;
}

/* One configuration: fresh file (or the database at `url`), then
 * create / transition / read. */
static void measure(int threads, int n, int sync_full, const char *url,
                    double out[3])
{
	char tmpl[] = "/tmp/bench-store-XXXXXX";
	sky_store_options o = {0};
	sky_store *s = NULL;
	job jobs[64];
	char *dir = mkdtemp(tmpl);

	o.sync_full = sync_full;
	/* A postgresql:// URL names the PostgreSQL store; anything else
	 * is a SQLite file. */
	if (url && sky_store_url_is_pg(url))
		o.url = url;
	else if (url)
		o.path = url;
	if (!dir || sky_store_open(&s, dir, &o)) {
		fprintf(stderr, "bench_store: cannot open a store: %s\n",
		        sky_error_last());
		exit(1);
	}
	for (int t = 0; t < threads; t++) {
		jobs[t] = (job){s, n, calloc((size_t)n, sizeof(char *)), 0};
		if (!jobs[t].ids)
			exit(1);
	}
	out[0] = run(do_create, jobs, threads, 1);
	out[1] = run(do_transitions, jobs, threads, 2);
	out[2] = run(do_reads, jobs, threads, 1);
	for (int t = 0; t < threads; t++) {
		for (int i = 0; i < n; i++)
			free(jobs[t].ids[i]);
		free(jobs[t].ids);
	}
	sky_store_close(s);
	skyx_rm_rf(dir);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median of TRIALS fresh-file runs, per column: the machine may be
 * shared, and one slow trial should not decide the table. */
#define TRIALS 3
static void measure_median(int threads, int n, int sync_full, const char *url,
                           double out[3])
{
	double r[TRIALS][3], col[TRIALS];
	for (int t = 0; t < TRIALS; t++)
		measure(threads, n, sync_full, url, r[t]);
	for (int c = 0; c < 3; c++) {
		for (int t = 0; t < TRIALS; t++)
			col[t] = r[t][c];
		qsort(col, TRIALS, sizeof *col, cmp_double);
		out[c] = col[TRIALS / 2];
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5000;
	int threads = argc > 2 ? atoi(argv[2]) : 4;
	const char *url = argc > 3 && *argv[3] ? argv[3] : NULL;
	struct {
		const char *store, *name;
		int threads, sync_full, pg;
	} cfg[] = {
	    {"SQLite", "1 thread, synchronous=NORMAL", 1, 0, 0},
	    {"SQLite", "N threads, synchronous=NORMAL", threads, 0, 0},
	    {"SQLite", "1 thread, synchronous=FULL", 1, 1, 0},
	    {"PostgreSQL", "1 thread", 1, 0, 1},
	    {"PostgreSQL", "N threads", threads, 0, 1},
	};

	if (n <= 0 || threads <= 0 || threads > 64) {
		fprintf(stderr, "usage: bench_store [runs-per-thread] "
		                "[threads (1..64)] [store-url]\n");
		return 2;
	}
	printf("store benchmark: %d runs per thread (1000 with FULL), median "
	       "of %d trials (fresh SQLite files in /tmp%s), SQLite %s\n\n",
	       n, TRIALS, url ? "; PostgreSQL: the URL given" : "",
	       sqlite3_libversion());
	printf("%-11s %-30s %12s %15s %12s\n", "store", "configuration",
	       "created/s", "transitions/s", "reads/s");
	for (size_t i = 0; i < sizeof cfg / sizeof *cfg; i++) {
		double r[3];
		char name[64];
		if (cfg[i].pg && !url)
			continue;
		/* FULL fsyncs every commit: fewer runs keep it short. */
		int runs = cfg[i].sync_full ? (n < 1000 ? n : 1000) : n;
		snprintf(name, sizeof name, "%s", cfg[i].name);
		if (name[0] == 'N')
			snprintf(name, sizeof name, "%d threads%s",
			         cfg[i].threads, cfg[i].name + 9);
		measure_median(cfg[i].threads, runs, cfg[i].sync_full,
		               cfg[i].pg ? url : NULL, r);
		printf("%-11s %-30s %12.0f %15.0f %12.0f\n", cfg[i].store, name,
		       r[0], r[1], r[2]);
	}
	printf("\n(transitions: created->running->completed, each in its own "
	       "transaction; reads: sky_store_task_get of a full run row)\n");
	return 0;
}
