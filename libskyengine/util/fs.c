/* Files and directories: the kit's (skyx/fs.h) with the library's error
 * reporting. */
#include "util/fs.h"

#include <errno.h>
#include <string.h>

#include "util/error.h"

int sky_mkdir_p(const char *path)
{
	if (!skyx_mkdir_p(path))
		return 0;
	if (errno == ENOMEM)
		return sky_error_from_code(SKY_ENOMEM);
	return sky_error_set(SKY_EIO, "cannot create directory %s: %s", path,
	                     strerror(errno));
}

int sky_write_file(const char *path, const void *data, size_t len)
{
	if (!skyx_write_file(path, data, len))
		return 0;
	if (errno == ENOMEM)
		return sky_error_from_code(SKY_ENOMEM);
	return sky_error_set(SKY_EIO, "cannot write %s: %s", path,
	                     strerror(errno));
}
