/* fulldisk: an LD_PRELOAD seam for a full disk. While the file named by $FULL_DISK
 * exists, write(2) to a regular file (other than standard input, output and error,
 * where the log goes) and fsync(2) fail with ENOSPC, as on a state directory with no
 * room left. Sockets and pipes are untouched. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t len);
int fsync(int fd);

static bool full(int fd)
{
	const char *flag = getenv("FULL_DISK");
	struct stat st;

	return fd > 2 && flag && access(flag, F_OK) == 0 && fstat(fd, &st) == 0 &&
	       (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return (ssize_t)syscall(SYS_write, fd, buf, len);
}

int fsync(int fd)
{
	if (full(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}
