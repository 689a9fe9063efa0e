/* Files and directories. */
#define _XOPEN_SOURCE 700
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/str.h"

int sky_mkdir_p(const char *path)
{
	char *p = sky_strdup(path);
	if (!p)
		return sky_error_from_code(SKY_ENOMEM);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			goto fail;
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		goto fail;
	free(p);
	return 0;
fail:
	sky_error_set(SKY_EIO, "cannot create directory %s: %s", p,
	              strerror(errno));
	free(p);
	return SKY_EIO;
}

int sky_write_file(const char *path, const void *data, size_t len)
{
	char *tmp = sky_asprintf("%s.tmp.%d", path, (int)getpid());
	if (!tmp)
		return sky_error_from_code(SKY_ENOMEM);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail;
		}
		p += w;
		left -= (size_t)w;
	}
	if (close(fd) || rename(tmp, path))
		goto fail;
	free(tmp);
	return 0;
fail:
	sky_error_set(SKY_EIO, "cannot write %s: %s", path, strerror(errno));
	unlink(tmp);
	free(tmp);
	return SKY_EIO;
}

char *sky_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	sky_buf b = {0};
	char chunk[65536];
	size_t r;
	if (!f)
		return NULL;
	while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
		sky_buf_append(&b, chunk, r);
	int err = ferror(f);
	fclose(f);
	if (err) {
		sky_buf_free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	return sky_buf_steal(&b);
}

char *sky_path_join(const char *a, const char *b)
{
	size_t al = strlen(a);
	if (al && a[al - 1] == '/')
		return sky_asprintf("%s%s", a, b[0] == '/' ? b + 1 : b);
	return sky_asprintf("%s/%s", a, b[0] == '/' ? b + 1 : b);
}

char *sky_path_abs(const char *path)
{
	char cwd[4096];
	if (path[0] == '/')
		return sky_strdup(path);
	if (!getcwd(cwd, sizeof cwd))
		return sky_strdup(path);
	return sky_path_join(cwd, path);
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int sky_rm_rf(const char *path)
{
	return nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}
