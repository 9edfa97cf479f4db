#include "fsave.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* path's directory and last component, in two buffers of PATH_MAX-ish size */
static int split(const char *path, char *dir, char *base, size_t size)
{
	char a[512], b[512];

	if (!*path || strlen(path) >= sizeof(a) || size < sizeof(a))
		return -ENAMETOOLONG;
	strcpy(a, path);
	strcpy(b, path);
	snprintf(dir, size, "%s", dirname(a));
	snprintf(base, size, "%s", basename(b));
	return 0;
}

/* The content, made in memory: nothing is on disk until it is whole. */
static int fill_buf(int (*fill)(FILE *, void *), void *arg, char **buf, size_t *len)
{
	FILE *m = open_memstream(buf, len);
	int e;

	if (!m)
		return -errno;
	e = fill(m, arg);
	if (ferror(m) && !e)
		e = -ENOMEM; /* a memory stream fails only when it cannot grow */
	if (fclose(m) && !e)
		e = -ENOMEM;
	return e;
}

/* Every byte written, or the errno of the write that failed. */
static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* a regular file never writes nothing without a
					reason */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The temporary file written and synced, owned like the directory when we are root. */
static int write_tmp(int dfd, const char *tmp, mode_t perm, const char *buf, size_t len)
{
	struct stat st;
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, perm);
	int e = 0;

	if (fd < 0)
		return -errno;
	if (geteuid() == 0 &&
	    (fstat(dfd, &st) || fchown(fd, st.st_uid, st.st_gid))) /* as root */
		e = -errno;
	if (!e)
		e = write_all(fd, buf, len);
	if (!e && fsync(fd))
		e = -errno;
	if (close(fd) && !e)
		e = -errno;
	return e;
}

int fsave_write(const char *path, mode_t perm, enum fsave_mode how,
		int (*fill)(FILE *f, void *arg), void *arg)
{
	static _Atomic unsigned count;
	char dir[512], base[512], tmp[64];
	char *buf = NULL;
	size_t len = 0;
	int dfd = -1, e;

	e = split(path, dir, base, sizeof(dir));
	if (!e)
		e = fill_buf(fill, arg, &buf, &len);
	if (e)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		e = -errno;
		goto out;
	}
	/* the process's name and a count of its own: neither processes nor threads meet
	 */
	snprintf(tmp, sizeof(tmp), FSAVE_TMP_PREFIX "%d.%u", (int)getpid(), count++);
	e = write_tmp(dfd, tmp, perm, buf, len);
	if (!e && how == FSAVE_CREATE && linkat(dfd, tmp, dfd, base, 0))
		e = -errno;
	if (!e && how == FSAVE_REPLACE && renameat(dfd, tmp, dfd, base))
		e = -errno;
	if (e || how == FSAVE_CREATE)
		unlinkat(dfd, tmp, 0); /* may be gone (renamed, or never made) */
	/* the new name itself must survive a power cut, not only the file's blocks */
	if (!e && fsync(dfd))
		e = -errno;
out:
	if (dfd >= 0)
		close(dfd);
	free(buf);
	return e;
}
