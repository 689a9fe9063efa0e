/* skyx: files and directories (libc only; part of the kit). Failures
 * return -1 (or NULL) with errno set. */
#ifndef SKYX_FS_H
#define SKYX_FS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* mkdir -p with mode 0700 for new directories; 0 or -1. */
int skyx_mkdir_p(const char *path);
/* Write a whole file atomically (temp file + rename, mode 0600); 0 or -1. */
int skyx_write_file(const char *path, const void *data, size_t len);
/* Read a whole file, NUL-terminated; malloc'd; NULL on error. */
char *skyx_read_file(const char *path, size_t *len);
/* "a" + "/" + "b" (no doubled slash); malloc'd. */
char *skyx_path_join(const char *a, const char *b);
/* Absolute form of `path` (need not exist); malloc'd. */
char *skyx_path_abs(const char *path);
/* rm -rf; 0 or -1. */
int skyx_rm_rf(const char *path);

#ifdef __cplusplus
}
#endif

#endif
