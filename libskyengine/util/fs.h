/* Internal: files and directories. */
#ifndef SKY_UTIL_FS_H
#define SKY_UTIL_FS_H

#include <stddef.h>

/* mkdir -p with mode 0700 for new directories; 0 or SKY_EIO. */
int sky_mkdir_p(const char *path);
/* Write a whole file atomically (temp file + rename); 0 or SKY_EIO. */
int sky_write_file(const char *path, const void *data, size_t len);
/* Read a whole file, NUL-terminated; malloc'd; NULL on error. */
char *sky_read_file(const char *path, size_t *len);
/* "a" + "/" + "b" (no doubled slash); malloc'd. */
char *sky_path_join(const char *a, const char *b);
/* Absolute form of `path` (need not exist); malloc'd. */
char *sky_path_abs(const char *path);
/* rm -rf (used for per-run scratch dirs); 0 or -1. */
int sky_rm_rf(const char *path);

#endif
