/* skyx: files and directories. */
#define _XOPEN_SOURCE 700
#include "skyx/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "skyx/str.h"

int skyx_mkdir_p(const char *path)
{
	char *p = skyx_strdup(path);
	if (!p)
		return -1;
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
fail:;
	int err = errno;
	free(p);
	errno = err;
	return -1;
}

int skyx_write_file(const char *path, const void *data, size_t len)
{
	char *tmp = skyx_asprintf("%s.tmp.%d", path, (int)getpid());
	if (!tmp)
		return -1;
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
fail:;
	int err = errno;
	unlink(tmp);
	free(tmp);
	errno = err;
	return -1;
}

char *skyx_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	skyx_buf b = {0};
	char chunk[65536];
	size_t r;
	if (!f)
		return NULL;
	while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
		skyx_buf_append(&b, chunk, r);
	int err = ferror(f);
	fclose(f);
	if (err) {
		skyx_buf_free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	return skyx_buf_steal(&b);
}

char *skyx_path_join(const char *a, const char *b)
{
	size_t al = strlen(a);
	if (al && a[al - 1] == '/')
		return skyx_asprintf("%s%s", a, b[0] == '/' ? b + 1 : b);
	return skyx_asprintf("%s/%s", a, b[0] == '/' ? b + 1 : b);
}

char *skyx_path_abs(const char *path)
{
	char cwd[4096];
	if (path[0] == '/')
		return skyx_strdup(path);
	if (!getcwd(cwd, sizeof cwd))
		return skyx_strdup(path);
	return skyx_path_join(cwd, path);
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int skyx_rm_rf(const char *path)
{
	return nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}
