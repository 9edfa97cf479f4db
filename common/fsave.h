/* fsave.h: one durable write for every file intercomd and intercom keep (identity key
 * and certificate, the nick registry, known_servers): the content is made in memory,
 * written to a fresh temporary file in the same directory with every write checked,
 * fsynced, put in place (rename, or link when the file must not exist yet), and the
 * directory fsynced. A crash, a power cut or a full disk leaves the old file or the new
 * one, never a part of either. As root, the file gets its directory's owner and group:
 * `sudo intercom --forget-server` on a packaged box must leave files the service's own
 * user can still read (docs/ROBUSTNESS.md). */
#ifndef IC_FSAVE_H
#define IC_FSAVE_H

#include <stdio.h>
#include <sys/types.h>

enum fsave_mode {
	FSAVE_REPLACE, /* rename over what is there */
	FSAVE_CREATE,  /* link: -EEXIST when the file is there (two processes, one key) */
};

/* Write path (its directory must exist) with what fill(f, arg) writes to f (a memory
 * stream; fill returns 0 or a negative errno, which fsave_write returns as it is), file
 * mode `perm`. Returns 0 once the file and its directory entry are on disk; else the
 * negative errno of the step that failed (-ENOSPC from a full disk, never a generic
 * -EIO), the temporary file removed and the old file untouched. */
int fsave_write(const char *path, mode_t perm, enum fsave_mode how,
		int (*fill)(FILE *f, void *arg), void *arg);

/* The temporary files' name prefix in the directory (".tmp."): a crash can leave one. */
#define FSAVE_TMP_PREFIX ".tmp."

#endif
