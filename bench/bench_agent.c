/*
 * Engine-side benchmark of whole agent steps on the local pages of
 * bench/pages/, against the peer benchmark's zero-latency fake model
 * (bench/peer/servers.mjs) through the real llm-openai plugin:
 *
 *   bench_agent --pages URL --llm URL/v1 steps [--reps 20] [--warmup 2]
 *               [--screenshots 0|1] [--settle-quiet MS] [--out FILE]
 *       per page (login, job, table): step 0 (observe, plan, act) timed
 *       from the engine's own step timings; the model call excluded
 *   bench_agent --pages URL --llm URL/v1 throughput [--concurrency 4]
 *               [--runs 20]
 *       runs per minute on the job page with N runs at once
 *   bench_agent --pages URL --llm URL/v1 memory [--concurrency N]
 *       PSS of this process and its Chromium tree with N runs open
 *
 * Prints a table and writes JSON rows shaped like bench/peer/report.mjs's.
 */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <skyengine.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fs.h"
#include <skyx/str.h>
#include <skyx/time.h>

typedef struct scenario {
	const char *page, *path, *done;
} scenario;

static const scenario scenarios[] = {
    {"login", "/login.html", "welcome.html?username=chris&password=hunter2"},
    {"job", "/apply.html",
     "applied.html?name=Chris+P+Bacon&email=chris%40pbacon.com"},
    {"table", "/table.html", "order.html?id=10150"},
};

static const char *pages_url, *llm_url;
static int screenshots = 1;
static int settle_quiet = -1; /* --settle-quiet: both windows, ms */

static sky_engine *engine_new(const char *dir, int workers, int budget)
{
	sky_engine *e = NULL;
	sky_engine_options o;
	char *cfg = skyx_asprintf(
	    "{\"llm\":{\"base_url\":\"%s\",\"model\":\"gpt-4.1-mini\","
	    "\"max_retries\":0},"
	    "\"agent\":{\"check_goal\":0,\"screenshots\":%d,\"vision\":0,"
	    "\"tree_budget_tokens\":%d,\"settle_network_quiet_ms\":%d,"
	    "\"settle_dom_quiet_ms\":%d}}",
	    llm_url, screenshots, budget, settle_quiet, settle_quiet);
	setenv("OPENAI_API_KEY", "sk-local-bench", 1);
	sky_engine_options_init(&o, SKY_ENGINE_OPTIONS_VERSION);
	o.data_dir = dir;
	o.llm = "openai";
	o.workers = workers;
	o.config_json = cfg;
	if (sky_engine_new(&e, &o)) {
		fprintf(stderr, "bench_agent: engine: %s\n", sky_error_last());
		exit(1);
	}
	free(cfg);
	return e;
}

static char *submit(sky_engine *e, const scenario *s, const char *tag)
{
	char body[1024], *out = NULL;
	int status = 0;
	snprintf(body, sizeof body,
	         "{\"prompt\":\"Do the %s task (bench page: %s)\",\"url\":"
	         "\"%s%s\",\"engine\":\"skyvern-1.0\",\"max_steps\":%d,"
	         "\"proxy_location\":\"NONE\"}",
	         s->page, tag, pages_url, s->path, strcmp(tag, "idle") ? 3 : 6);
	if (sky_tasks_api_run_submit(&out, &status, e, NULL, body, NULL)) {
		fprintf(stderr, "bench_agent: submit: %s\n", out);
		exit(1);
	}
	json_t *j = json_loads(out, 0, NULL);
	char *id = skyx_strdup(json_string_value(json_object_get(j, "run_id")));
	json_decref(j);
	sky_free(out);
	return id;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	if (!n)
		return -1;
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	int i = (int)(p / 100.0 * (n - 1) + 0.5);
	return v[i];
}

#define NKEYS 11
static const char *keys[NKEYS] = {"settle",     "snapshot", "tree",   "state",
                                  "screenshot", "record",   "prompt", "llm",
                                  "parse",      "act",      "total"};

static json_t *bench_steps(int reps, int warmup)
{
	json_t *rows = json_array();
	char *dir = skyx_asprintf("/tmp/bench-agent-%d", (int)getpid());
	sky_engine *e = engine_new(dir, 1, 12000);
	printf("\nskyengine, one step per page (ms; model call excluded; "
	       "screenshots %s)\n",
	       screenshots ? "on" : "off");
	printf(
	    "%-6s %4s %8s %8s %8s | %7s %7s %6s %6s %6s %7s %6s %6s %6s %6s\n",
	    "page", "n", "median", "p90", "+model", "settle", "snapsh", "tree",
	    "state", "shot", "record", "prompt", "parse", "act", "fails");
	for (size_t k = 0; k < sizeof scenarios / sizeof scenarios[0]; k++) {
		const scenario *s = &scenarios[k];
		int n = 0, fails = 0;
		double *engine_ms = calloc((size_t)reps, sizeof(double));
		double *wall_ms = calloc((size_t)reps, sizeof(double));
		double *part[NKEYS];
		for (int i = 0; i < NKEYS; i++)
			part[i] = calloc((size_t)reps, sizeof(double));
		for (int rep = 0; rep < warmup + reps; rep++) {
			char *id = submit(e, s, s->page);
			char *run = NULL, *steps = NULL;
			sky_tasks_api_run_wait(&run, e, NULL, id, 120000);
			sky_tasks_api_run_steps_list(&steps, e, NULL, id);
			json_t *r = json_loads(run ? run : "{}", 0, NULL);
			json_t *st = json_loads(steps ? steps : "[]", 0, NULL);
			json_t *s0 = json_array_get(st, 0);
			json_t *last =
			    json_array_get(st, json_array_size(st) - 1);
			const char *url = json_string_value(json_object_get(
			    json_object_get(last, "output"), "url"));
			int ok = !strcmp(json_string_value(
			                     json_object_get(r, "status"))
			                     ?: "",
			                 "completed") &&
			         url && strstr(url, s->done);
			json_t *t = json_object_get(
			    json_object_get(s0, "output"), "timings_ms");
			if (rep >= warmup) {
				if (!ok || !t) {
					if (!fails++)
						fprintf(
						    stderr,
						    "bench_agent: %s: run %s "
						    "ended %s: %s (last url "
						    "%s, timings %s)\n",
						    s->page, id,
						    json_string_value(
						        json_object_get(
						            r, "status"))
						        ?: "?",
						    json_string_value(
						        json_object_get(
						            r,
						            "failure_reason"))
						        ?: "-",
						    url ? url : "none",
						    t ? "yes" : "no");
				} else {
					for (int i = 0; i < NKEYS; i++)
						part[i][n] =
						    (double)json_integer_value(
						        json_object_get(
						            t, keys[i]));
					wall_ms[n] = part[NKEYS - 1][n];
					engine_ms[n] = wall_ms[n] - part[7][n];
					n++;
				}
			}
			json_decref(r);
			json_decref(st);
			sky_free(run);
			sky_free(steps);
			free(id);
		}
		double med[NKEYS];
		for (int i = 0; i < NKEYS; i++)
			med[i] = pct(part[i], n, 50);
		double em = pct(engine_ms, n, 50), e90 = pct(engine_ms, n, 90);
		double wm = pct(wall_ms, n, 50);
		printf("%-6s %4d %8.0f %8.0f %8.0f | %7.0f %7.0f %6.0f %6.0f "
		       "%6.0f "
		       "%7.0f %6.0f %6.0f %6.0f %6d\n",
		       s->page, n, em, e90, wm, med[0], med[1], med[2], med[3],
		       med[4], med[5], med[6], med[8], med[9], fails);
		json_t *split = json_object();
		for (int i = 0; i < NKEYS; i++)
			json_object_set_new(split, keys[i], json_real(med[i]));
		json_array_append_new(
		    rows,
		    json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:f, s:f, "
		              "s:o, s:i, s:i}",
		              "page", s->page, "tool", "skyengine", "mode",
		              screenshots ? "default" : "noshot", "unit",
		              "page", "n", n, "median_ms", em, "p90_ms", e90,
		              "median_with_model_ms", wm, "split_ms", split,
		              "failures", fails, "not_done", 0));
		for (int i = 0; i < NKEYS; i++)
			free(part[i]);
		free(engine_ms);
		free(wall_ms);
	}
	sky_engine_free(e);
	skyx_rm_rf(dir);
	free(dir);
	return rows;
}

static json_t *bench_throughput(int conc, int runs)
{
	char *dir = skyx_asprintf("/tmp/bench-agent-tp-%d", (int)getpid());
	sky_engine *e = engine_new(dir, conc, 12000);
	const scenario *s = &scenarios[1];
	/* One run first so that the browser is up before timing. */
	char *warm = submit(e, s, s->page), *out = NULL;
	sky_tasks_api_run_wait(&out, e, NULL, warm, 120000);
	sky_free(out);
	free(warm);
	char **ids = calloc((size_t)runs, sizeof *ids);
	int64_t t0 = skyx_time_mono_ms();
	for (int i = 0; i < runs; i++)
		ids[i] = submit(e, s, s->page);
	int done = 0;
	for (int i = 0; i < runs; i++) {
		sky_tasks_api_run_wait(&out, e, NULL, ids[i], 300000);
		done += out && strstr(out, "\"status\":\"completed\"");
		sky_free(out);
		free(ids[i]);
	}
	double secs = (double)(skyx_time_mono_ms() - t0) / 1000.0;
	double per_min = runs / secs * 60.0;
	printf("\nthroughput: %d job-page runs, %d at once: %.1f s, %.1f "
	       "runs/min, "
	       "%d completed\n",
	       runs, conc, secs, per_min, done);
	free(ids);
	sky_engine_free(e);
	skyx_rm_rf(dir);
	free(dir);
	return json_pack("{s:s, s:i, s:i, s:f, s:f, s:i}", "what", "throughput",
	                 "concurrency", conc, "runs", runs, "seconds", secs,
	                 "runs_per_minute", per_min, "completed", done);
}

/* PSS (kB) of a process from /proc/<pid>/smaps_rollup. */
static long pss_of(int pid)
{
	char path[64], line[256];
	long kb = 0;
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Pss: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int parent_of(int pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	int ppid = -1;
	if (p)
		sscanf(p + 2, "%*c %d", &ppid);
	return ppid;
}

/* PSS of `root` and every descendant; *procs counts them. */
static long tree_pss(int root, int *procs)
{
	int pids[4096], par[4096], n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d)) && n < 4096) {
		int pid = atoi(de->d_name);
		if (pid > 0) {
			pids[n] = pid;
			par[n++] = parent_of(pid);
		}
	}
	if (d)
		closedir(d);
	int in[4096] = {0};
	long total = 0;
	*procs = 0;
	for (int changed = 1; changed;) {
		changed = 0;
		for (int i = 0; i < n; i++) {
			if (in[i])
				continue;
			int ok = pids[i] == root;
			for (int k = 0; k < n && !ok; k++)
				ok = in[k] && pids[k] == par[i];
			if (ok) {
				in[i] = changed = 1;
				total += pss_of(pids[i]);
				(*procs)++;
			}
		}
	}
	return total;
}

static json_t *bench_memory(int conc)
{
	char *dir = skyx_asprintf("/tmp/bench-agent-mem-%d", (int)getpid());
	sky_engine *e = engine_new(dir, conc, 12000);
	scenario idle = {"login", "/login.html", ""};
	char **ids = calloc((size_t)conc, sizeof *ids);
	for (int i = 0; i < conc; i++)
		ids[i] = submit(e, &idle, "idle");
	/* Wait until every run sits in its wait action. */
	for (int tries = 0; tries < 600; tries++) {
		int running = 0;
		for (int i = 0; i < conc; i++) {
			char *steps = NULL;
			sky_tasks_api_run_steps_list(&steps, e, NULL, ids[i]);
			running +=
			    steps && strstr(steps, "\"status\":\"running\"");
			sky_free(steps);
		}
		if (running == conc)
			break;
		skyx_time_sleep_ms(100);
	}
	skyx_time_sleep_ms(1500);
	int procs = 0;
	long kb = tree_pss((int)getpid(), &procs);
	printf("memory: %2d runs open: PSS %.1f MB in %d processes\n", conc,
	       kb / 1024.0, procs);
	for (int i = 0; i < conc; i++) {
		sky_tasks_api_run_cancel(NULL, NULL, e, NULL, ids[i]);
		free(ids[i]);
	}
	free(ids);
	sky_engine_free(e);
	skyx_rm_rf(dir);
	free(dir);
	return json_pack("{s:s, s:i, s:f, s:i}", "what", "memory", "runs", conc,
	                 "pss_mb", kb / 1024.0, "processes", procs);
}

int main(int argc, char **argv)
{
	int reps = 20, warmup = 2, conc = 4, runs = 20, ch;
	const char *out = NULL;
	static const struct option o[] = {
	    {"pages", required_argument, 0, 'p'},
	    {"llm", required_argument, 0, 'l'},
	    {"reps", required_argument, 0, 'r'},
	    {"warmup", required_argument, 0, 'w'},
	    {"screenshots", required_argument, 0, 's'},
	    {"concurrency", required_argument, 0, 'c'},
	    {"runs", required_argument, 0, 'n'},
	    {"out", required_argument, 0, 'o'},
	    {"settle-quiet", required_argument, 0, 'q'},
	    {0, 0, 0, 0}};
	while ((ch = getopt_long(argc, argv, "", o, NULL)) != -1) {
		switch (ch) {
		case 'p':
			pages_url = optarg;
			break;
		case 'l':
			llm_url = optarg;
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 's':
			screenshots = atoi(optarg);
			break;
		case 'c':
			conc = atoi(optarg);
			break;
		case 'n':
			runs = atoi(optarg);
			break;
		case 'q':
			settle_quiet = atoi(optarg);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return 2;
		}
	}
	const char *what = optind < argc ? argv[optind] : "steps";
	if (!pages_url || !llm_url ||
	    !skyx_str_startswith(pages_url, "http://127.") ||
	    !skyx_str_startswith(llm_url, "http://127.")) {
		fprintf(stderr, "usage: bench_agent --pages http://127.0.0.1:P "
		                "--llm http://127.0.0.1:Q/v1 "
		                "steps|throughput|memory [options]\n");
		return 2;
	}
	if (sky_global_init() < 1)
		return 1;
	json_t *res;
	if (!strcmp(what, "throughput"))
		res = bench_throughput(conc, runs);
	else if (!strcmp(what, "memory"))
		res = bench_memory(conc);
	else
		res = bench_steps(reps, warmup);
	if (out)
		json_dump_file(res, out, JSON_INDENT(1));
	json_decref(res);
	sky_global_shutdown();
	return 0;
}
