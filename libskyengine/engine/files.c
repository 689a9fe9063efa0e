/*
 * Uploaded files (POST /v1/upload_file, DELETE /v1/files/{id}): kept
 * under <data>/uploads/<file_id>/ with a meta.json saying whose file it
 * is, its name and when it expires. Expired files are deleted when the
 * organization uploads again and are never served.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skyengine/tasks_api.h>

#include "engine/engine_internal.h"
#include "engine/scope.h"
#include "engine/response.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/id.h"
#include "util/json.h"
#include <skyx/str.h>
#include <skyx/time.h>

#define MAX_RETENTION_DAYS 365

/* "file_<digits>" only: an id never names a path elsewhere. */
static int valid_id(const char *id)
{
	if (!id || strncmp(id, "file_", 5) || !id[5])
		return 0;
	for (const char *p = id + 5; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* The name to store: the last path component, without control bytes,
 * never empty, "." or "..". */
static char *safe_name(const char *name)
{
	const char *base = name ? strrchr(name, '/') : NULL;
	base = base ? base + 1 : name;
	skyx_buf b = {0};
	for (const char *p = base ? base : ""; *p && b.len < 200; p++)
		skyx_buf_putc(&b, (unsigned char)*p < 0x20 || *p == '\\' ? '_'
		                                                         : *p);
	if (!b.len || !strcmp(b.data, ".") || !strcmp(b.data, ".."))
		skyx_buf_puts(&b, "_file");
	return skyx_buf_steal(&b);
}

static char *dir_of(sky_engine *e, const char *id)
{
	return skyx_asprintf("%s/uploads/%s", e->data_dir, id);
}

/* The file's meta.json, if it belongs to `org` (NULL: any) and has not
 * expired. New reference or NULL. */
static json_t *meta_of(sky_engine *e, const char *org, const char *id)
{
	if (!valid_id(id))
		return NULL;
	char *dir = dir_of(e, id);
	char *path = dir ? skyx_asprintf("%s/meta.json", dir) : NULL;
	char *text = path ? skyx_read_file(path, NULL) : NULL;
	json_t *m = sky_json_loads(text);
	free(text);
	free(path);
	free(dir);
	const char *o = sky_json_str(m, "organization_id");
	json_int_t exp =
	    json_integer_value(json_object_get(m, "expires_at_ms"));
	if (!o || (org && strcmp(o, org)) ||
	    (exp && exp <= skyx_time_now_ms())) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* Delete the organization's expired uploads. */
static void sweep(sky_engine *e, const char *org)
{
	char *root = skyx_asprintf("%s/uploads", e->data_dir);
	DIR *d = root ? opendir(root) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!valid_id(de->d_name))
			continue;
		char *path = skyx_asprintf("%s/%s/meta.json", root, de->d_name);
		char *text = path ? skyx_read_file(path, NULL) : NULL;
		json_t *m = sky_json_loads(text);
		json_int_t exp =
		    json_integer_value(json_object_get(m, "expires_at_ms"));
		if (skyx_str_eq(sky_json_str(m, "organization_id"), org) &&
		    exp && exp <= skyx_time_now_ms()) {
			char *dir = skyx_asprintf("%s/%s", root, de->d_name);
			skyx_rm_rf(dir);
			free(dir);
		}
		json_decref(m);
		free(text);
		free(path);
	}
	if (d)
		closedir(d);
	free(root);
}

static json_t *ts(int64_t ms)
{
	char iso[SKYX_ISO_LEN];
	return ms ? json_string(skyx_time_iso(ms, iso)) : json_null();
}

int sky_tasks_api_file_upload(char **out_json, int *http_status, sky_engine *e,
                              const char *org, const char *filename,
                              const void *data, size_t len, int retention_days)
{
	char id[SKY_ID_MAX];
	if (!e || !out_json || (len && !data))
		return sky_error_set(SKY_EINVALID, "engine, data and out_json "
		                                   "are required");
	*out_json = NULL;
	if (retention_days &&
	    (retention_days < 1 || retention_days > MAX_RETENTION_DAYS)) {
		char *msg =
		    skyx_asprintf("retention_days must be between 1 and "
		                  "%d",
		                  MAX_RETENTION_DAYS);
		int rc = sky_engine__api_refuse(
		    out_json, http_status, 422,
		    sky_engine__api_detail("%s", msg), SKY_EINVALID, msg);
		free(msg);
		return rc;
	}
	int orc = sky_engine__org_for_create(e, org, &org);
	if (orc)
		return orc;
	sweep(e, org);
	sky_id_new("file_", id);
	char *name = safe_name(filename);
	char *dir = dir_of(e, id);
	char *path = dir && name ? skyx_asprintf("%s/%s", dir, name) : NULL;
	char *mpath = dir ? skyx_asprintf("%s/meta.json", dir) : NULL;
	int64_t now = skyx_time_now_ms();
	int64_t exp =
	    retention_days ? now + (int64_t)retention_days * 86400 * 1000 : 0;
	json_t *m = json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:I}", "file_id", id,
	                      "organization_id", org, "filename",
	                      filename ? filename : name, "size",
	                      (json_int_t)len, "created_at_ms", (json_int_t)now,
	                      "expires_at_ms", (json_int_t)exp);
	char *mtext = m ? sky_json_dumps(m) : NULL;
	json_decref(m);
	int rc = !path || !mpath || !mtext ? sky_error_from_code(SKY_ENOMEM)
	                                   : sky_mkdir_p(dir);
	if (!rc)
		rc = sky_write_file(path, data ? data : "", len);
	if (!rc)
		rc = sky_write_file(mpath, mtext, strlen(mtext));
	if (!rc) {
		char *rel = skyx_asprintf("/v1/files/%s/content", id);
		char *url = rel ? sky_response_signed_url(&e->rctx, rel) : NULL;
		char *uri = skyx_asprintf("file://%s", path);
		json_t *o = json_pack("{s:s?, s:s?, s:s, s:o}", "s3_uri", uri,
		                      "presigned_url", url, "file_id", id,
		                      "expires_at", ts(exp));
		*out_json = o ? sky_json_dumps(o) : NULL;
		json_decref(o);
		free(uri);
		free(url);
		free(rel);
		rc = *out_json ? 0 : sky_error_from_code(SKY_ENOMEM);
	} else if (dir) {
		skyx_rm_rf(dir);
	}
	if (http_status)
		*http_status = rc ? 500 : 200;
	free(mtext);
	free(mpath);
	free(path);
	free(dir);
	free(name);
	return rc;
}

int sky_tasks_api_file_delete(char **out_json, int *http_status, sky_engine *e,
                              const char *org, const char *file_id)
{
	if (!e || !file_id || !out_json)
		return sky_error_set(SKY_EINVALID, "engine, file_id and "
		                                   "out_json are required");
	*out_json = NULL;
	json_t *m = meta_of(e, sky_engine__org_scope(e, org), file_id);
	if (!m) {
		char *msg = skyx_asprintf("File %s not found", file_id);
		int rc = sky_engine__api_refuse(
		    out_json, http_status, 404,
		    sky_engine__api_detail("%s", msg), SKY_ENOTFOUND, msg);
		free(msg);
		return rc;
	}
	json_decref(m);
	char *dir = dir_of(e, file_id);
	int rc = dir ? skyx_rm_rf(dir) : sky_error_from_code(SKY_ENOMEM);
	free(dir);
	if (http_status)
		*http_status = rc ? 500 : 204;
	return rc;
}

int sky_file_path(char **path, char **filename, sky_engine *e, const char *org,
                  const char *file_id)
{
	*path = NULL;
	if (filename)
		*filename = NULL;
	json_t *m = meta_of(e, sky_engine__org_scope(e, org), file_id);
	if (!m)
		return sky_error_set(SKY_ENOTFOUND, "File %s not found",
		                     file_id);
	char *name = safe_name(sky_json_str(m, "filename"));
	char *dir = dir_of(e, file_id);
	*path = dir && name ? skyx_asprintf("%s/%s", dir, name) : NULL;
	if (filename)
		*filename = skyx_strdup(sky_json_str(m, "filename"));
	free(dir);
	free(name);
	json_decref(m);
	return *path ? 0 : sky_error_from_code(SKY_ENOMEM);
}
