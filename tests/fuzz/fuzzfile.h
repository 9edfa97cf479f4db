/* fuzzfile.h: hand a fuzz input to a parser that reads a file by path. */
#ifndef IC_FUZZFILE_H
#define IC_FUZZFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Write data to this process's scratch file (in /dev/shm when there is one) and return
 * its path; NULL if it cannot be written. */
static inline const char *fuzzfile_write(const uint8_t *data, size_t size)
{
	static char path[64];
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "%s/ic-fuzz-%d",
			 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm", (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		return NULL;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	return path;
}

#endif
