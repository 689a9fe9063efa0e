/*
 * Helpers shared by the reliability tests (header-only, static): API
 * calls against a skyengine-server child, polling runs to a final status,
 * and process inspection through /proc (Chromium children, RSS).
 */
#ifndef SKYTEST_REL_H
#define SKYTEST_REL_H

#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "httpc.h"
#include "skytest.h"
#include "srvproc.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define REL_KEY "rel-test-key-0123456789"
#define REL_AUTH "x-api-key: " REL_KEY "\r\n"
#define REL_JSONH "content-type: application/json\r\n"

/* One API call; returns the status (0 when no answer) and *out the
 * parsed body (may be NULL). */
static inline int rel_call(int port, const char *method, const char *path,
                           const char *hdrs, const char *body, json_t **out)
{
	skytest_hc_resp r;
	if (out)
		*out = NULL;
	if (skytest_hc(port, method, path, hdrs, body, &r) != 0) {
		skytest_hc_free(&r);
		return 0;
	}
	if (out && r.body)
		*out = json_loads(r.body, JSON_DECODE_ANY, NULL);
	int st = r.status;
	skytest_hc_free(&r);
	return st;
}

/* Submit a task; the run id (malloc'd) or a failed test. */
static inline char *rel_submit(int port, const char *body)
{
	json_t *j = NULL;
	int st = rel_call(port, "POST", "/v1/run/tasks", REL_AUTH REL_JSONH,
	                  body, &j);
	ck_assert_msg(st == 200, "submit: %d", st);
	char *id = skyx_strdup(json_string_value(json_object_get(j, "run_id")));
	json_decref(j);
	ck_assert_ptr_nonnull(id);
	return id;
}

/* The run's JSON (new reference) or NULL. */
static inline json_t *rel_run(int port, const char *id)
{
	char path[160];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/v1/runs/%s", id);
	if (rel_call(port, "GET", path, REL_AUTH, NULL, &j) != 200) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static inline const char *rel_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static inline int rel_is_final(const char *st)
{
	return st && (!strcmp(st, "completed") || !strcmp(st, "failed") ||
	              !strcmp(st, "terminated") || !strcmp(st, "timed_out") ||
	              !strcmp(st, "canceled"));
}

/* Wait until every run is final (bounded); fills out[i] with the final
 * run JSON. Returns the number that are final. */
static inline int rel_wait_all(int port, char **ids, int n, int timeout_ms,
                               json_t **out)
{
	int64_t end = skyx_time_mono_ms() + timeout_ms;
	int done = 0;
	for (int i = 0; i < n; i++)
		out[i] = NULL;
	while (skyx_time_mono_ms() < end) {
		done = 0;
		for (int i = 0; i < n; i++) {
			if (!out[i] ||
			    !rel_is_final(rel_str(out[i], "status"))) {
				json_decref(out[i]);
				out[i] = rel_run(port, ids[i]);
			}
			done +=
			    out[i] && rel_is_final(rel_str(out[i], "status"));
		}
		if (done == n)
			break;
		usleep(100 * 1000);
	}
	return done;
}

/* ---- processes ---------------------------------------------------------- */

typedef struct rel_proc {
	pid_t pid, ppid, pgrp;
	char state;
	char comm[64];
} rel_proc;

static inline int rel_proc_read(pid_t pid, rel_proc *p)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close)
		return -1;
	memset(p, 0, sizeof *p);
	p->pid = pid;
	size_t cl = (size_t)(close - open - 1);
	if (cl >= sizeof p->comm)
		cl = sizeof p->comm - 1;
	memcpy(p->comm, open + 1, cl);
	int ppid = 0, pgrp = 0;
	if (sscanf(close + 2, "%c %d %d", &p->state, &ppid, &pgrp) != 3)
		return -1;
	p->ppid = ppid;
	p->pgrp = pgrp;
	return 0;
}

/* 1 while `pid` exists and is not a zombie. */
static inline int rel_alive(pid_t pid)
{
	rel_proc p;
	return rel_proc_read(pid, &p) == 0 && p.state != 'Z' && p.state != 'X';
}

/*
 * Every live process in the process groups led by Chromium children of
 * `parent` (the browser and its renderers, zygotes, utilities). Fills up
 * to `max` pids; returns how many.
 */
static inline int rel_chromium_of(pid_t parent, pid_t *out, int max)
{
	pid_t leaders[16];
	int nl = 0, n = 0;
	for (int pass = 0; pass < 2; pass++) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d))) {
			pid_t pid = (pid_t)atoi(e->d_name);
			rel_proc p;
			if (pid <= 0 || rel_proc_read(pid, &p) ||
			    p.state == 'Z')
				continue;
			if (pass == 0 && p.ppid == parent &&
			    !strncmp(p.comm, "chrom", 5) && nl < 16)
				leaders[nl++] = p.pgrp;
			if (pass == 1) {
				for (int i = 0; i < nl; i++)
					if (p.pgrp == leaders[i] && n < max)
						out[n++] = pid;
			}
		}
		if (d)
			closedir(d);
	}
	return n;
}

/* Resident set size of `pid` in KiB (VmRSS), or -1. */
static inline long rel_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

#endif
