/*
 * Helpers shared by the "sessions" tests: the API of a skyengine-server
 * child process over real HTTP, waiting for runs, and a scan of the files
 * a server wrote for strings that must not be there (codes, secrets).
 */
#ifndef SESSIONS_API_H
#define SESSIONS_API_H

#include <dirent.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpc.h"
#include "skytest.h"
#include "srvproc.h"
#include "util/fs.h"
#include <skyx/str.h>

#define KEY "sessions-test-key-0123456789"
#define AUTH "x-api-key: " KEY "\r\n"
#define JSONH "content-type: application/json\r\n"

/* One request; asserts the status; the parsed body (any JSON). */
static inline json_t *api_call(const skytest_server *srv, const char *method,
                               const char *path, const char *hdrs,
                               const char *body, int want_status)
{
	skytest_hc_resp r;
	ck_assert_int_eq(skytest_hc(srv->port, method, path, hdrs, body, &r),
	                 0);
	ck_assert_msg(r.status == want_status, "%s %s: want %d got %d: %s",
	              method, path, want_status, r.status,
	              r.body ? r.body : "");
	json_t *j = json_loads(r.body ? r.body : "null", JSON_DECODE_ANY, NULL);
	skytest_hc_free(&r);
	return j;
}

static inline json_t *api_post(const skytest_server *srv, const char *path,
                               const char *body, int want_status)
{
	return api_call(srv, "POST", path, AUTH JSONH, body, want_status);
}

static inline json_t *api_get(const skytest_server *srv, const char *path,
                              int want_status)
{
	return api_call(srv, "GET", path, AUTH, NULL, want_status);
}

static inline const char *jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* POST /v1/run/tasks; the run id (malloc'd). */
static inline char *api_submit(const skytest_server *srv, const char *body)
{
	json_t *j = api_post(srv, "/v1/run/tasks", body, 200);
	char *id = skyx_strdup(jstr(j, "run_id"));
	json_decref(j);
	ck_assert_ptr_nonnull(id);
	return id;
}

static inline int status_final(const char *st)
{
	return st && (!strcmp(st, "completed") || !strcmp(st, "failed") ||
	              !strcmp(st, "terminated") || !strcmp(st, "canceled") ||
	              !strcmp(st, "timed_out"));
}

/* Poll GET /v1/runs/{id} until it is final (bounded); the run. */
static inline json_t *api_wait(const skytest_server *srv, const char *id)
{
	char path[160];
	snprintf(path, sizeof path, "/v1/runs/%s", id);
	for (int i = 0; i < 1800; i++) {
		json_t *run = api_get(srv, path, 200);
		if (status_final(jstr(run, "status")))
			return run;
		json_decref(run);
		usleep(100000);
	}
	ck_abort_msg("run %s did not finish", id);
	return NULL;
}

/* Every regular file under `root` whose content holds `needle`, one per
 * line (malloc'd, "" when none). Database files are skipped: the store
 * keeps pushed codes on purpose, as the API's TOTP records. */
static inline void scan_into(const char *root, const char *needle,
                             skyx_buf *hits)
{
	DIR *d = opendir(root);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = skyx_path_join(root, de->d_name);
		struct stat st;
		if (p && !lstat(p, &st) && S_ISDIR(st.st_mode)) {
			scan_into(p, needle, hits);
		} else if (p && S_ISREG(st.st_mode) &&
		           !strstr(de->d_name, "skyengine.db")) {
			size_t len = 0;
			char *data = skyx_read_file(p, &len);
			if (data && memmem(data, len, needle, strlen(needle))) {
				skyx_buf_puts(hits, p);
				skyx_buf_putc(hits, '\n');
			}
			free(data);
		}
		free(p);
	}
	closedir(d);
}

static inline char *scan_files(const char *root, const char *needle)
{
	skyx_buf b = {0};
	skyx_buf_puts(&b, "");
	scan_into(root, needle, &b);
	return skyx_buf_steal(&b);
}

#endif
