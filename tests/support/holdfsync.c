/* holdfsync: an LD_PRELOAD seam for a slow disk. fsync(2) waits while the file named by
 * $HOLD_FSYNC exists (an SD card taking as long as a test wants), then syncs. Only
 * fsync is replaced; a test removes the file to let it finish. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int fsync(int fd);

int fsync(int fd)
{
	const char *hold = getenv("HOLD_FSYNC");

	while (hold && access(hold, F_OK) == 0)
		usleep(10000);
	return (int)syscall(SYS_fsync, fd);
}
