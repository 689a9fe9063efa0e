/* Internal: files and directories; the kit's (skyx/fs.h), with errors
 * reported through sky_error_set where the library needs them. */
#ifndef SKY_UTIL_FS_H
#define SKY_UTIL_FS_H

#include <stddef.h>
#include <skyx/fs.h>

/* mkdir -p with mode 0700 for new directories; 0 or SKY_EIO. */
int sky_mkdir_p(const char *path);
/* Write a whole file atomically (temp file + rename); 0 or SKY_EIO. */
int sky_write_file(const char *path, const void *data, size_t len);

#endif
