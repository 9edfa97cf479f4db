/* fsave: the durable write, with the system calls it makes failing one at a time
 * (link-time --wrap of openat, write, fsync, close, renameat, linkat): each failure is
 * returned as its own -errno, the old file is left as it was and no temporary file is
 * left behind; a full write is fsynced, renamed, then its directory fsynced; as root the
 * file gets the directory's owner. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsave.h"

enum call {
	C_OPENAT,
	C_WRITE,
	C_FSYNC_FILE,
	C_FSYNC_DIR,
	C_CLOSE,
	C_RENAME,
	C_LINK,
	C_N
};

static int fail_call = -1, fail_errno; /* the call that fails, with what */
static int fail_skip;		       /* after this many of it went through */
static size_t write_max;	       /* nonzero: writes are cut to this many bytes */
static int eintr_writes;	       /* this many writes fail with EINTR first */
static char events[256];	       /* what happened, in order: one letter each */

static void note(char c)
{
	size_t n = strlen(events);

	if (n + 1 < sizeof(events)) {
		events[n] = c;
		events[n + 1] = '\0';
	}
}

static bool fails(enum call c)
{
	if ((int)c != fail_call || fail_skip-- > 0)
		return false;
	errno = fail_errno;
	return true;
}

int __real_openat(int dfd, const char *path, int flags, ...);
int __wrap_openat(int dfd, const char *path, int flags, ...);
int __wrap_openat(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	if (fails(C_OPENAT))
		return -1;
	return __real_openat(dfd, path, flags, mode);
}

ssize_t __real_write(int fd, const void *buf, size_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t len);
ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	if (eintr_writes > 0) {
		eintr_writes--;
		errno = EINTR;
		return -1;
	}
	note('w');
	if (fails(C_WRITE))
		return -1;
	return __real_write(fd, buf, write_max && len > write_max ? write_max : len);
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	struct stat st;
	bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);

	note(dir ? 'D' : 'f');
	if (fails(dir ? C_FSYNC_DIR : C_FSYNC_FILE))
		return -1;
	return __real_fsync(fd);
}

int __real_close(int fd);
int __wrap_close(int fd);
int __wrap_close(int fd)
{
	struct stat st;
	bool file = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	int r = __real_close(fd);

	if (file && fails(C_CLOSE)) /* closed all the same, as close(2) does */
		return -1;
	return r;
}

int __real_renameat(int a, const char *f, int b, const char *t);
int __wrap_renameat(int a, const char *f, int b, const char *t);
int __wrap_renameat(int a, const char *f, int b, const char *t)
{
	note('r');
	if (fails(C_RENAME))
		return -1;
	return __real_renameat(a, f, b, t);
}

int __real_linkat(int a, const char *f, int b, const char *t, int flags);
int __wrap_linkat(int a, const char *f, int b, const char *t, int flags);
int __wrap_linkat(int a, const char *f, int b, const char *t, int flags)
{
	note('l');
	if (fails(C_LINK))
		return -1;
	return __real_linkat(a, f, b, t, flags);
}

static char dir[64], path[96];

static int fill_text(FILE *f, void *arg)
{
	fputs(arg, f);
	return 0;
}

static int fill_fails(FILE *f, void *arg)
{
	(void)f, (void)arg;
	return -E2BIG;
}

static const char *contents(void)
{
	static char buf[70000];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* No temporary file is left in the directory. */
static void assert_no_tmp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)))
		assert_true(
		    strncmp(e->d_name, FSAVE_TMP_PREFIX, strlen(FSAVE_TMP_PREFIX)));
	closedir(d);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-fsave-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/file", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	fail_call = -1;
	fail_skip = 0;
	write_max = 0;
	eintr_writes = 0;
	events[0] = '\0';
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	return 0;
}

/* Written whole, mode as asked, then: file fsynced, renamed, directory fsynced. */
static void test_replace(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(fsave_write(path, 0600, FSAVE_REPLACE, fill_text, "old\n"), 0);
	events[0] = '\0';
	assert_int_equal(fsave_write(path, 0600, FSAVE_REPLACE, fill_text, "new\n"), 0);
	assert_string_equal(contents(), "new\n");
	assert_string_equal(events, "wfrD");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_no_tmp();
}

/* Short writes go on where they stopped; EINTR is tried again. */
static void test_short_writes(void **state)
{
	static char big[65537];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	write_max = 1000;
	eintr_writes = 2;
	assert_int_equal(fsave_write(path, 0600, FSAVE_REPLACE, fill_text, big), 0);
	assert_string_equal(contents(), big);
	assert_int_equal(strspn(events, "w"), 66); /* 65 536 bytes by 1000 */
}

/* Each step failing: its own errno back, the old file as it was, no temporary file. */
static void test_each_failure(void **state)
{
	static const struct {
		enum call c;
		int err;
	} cases[] = {
	    {C_OPENAT, EACCES},	 {C_WRITE, ENOSPC}, {C_WRITE, EDQUOT},
	    {C_FSYNC_FILE, EIO}, {C_CLOSE, ENOSPC}, {C_RENAME, EXDEV},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset(NULL);
		assert_int_equal(
		    fsave_write(path, 0600, FSAVE_REPLACE, fill_text, "old\n"), 0);
		fail_call = (int)cases[i].c;
		fail_errno = cases[i].err;
		if (cases[i].c ==
		    C_WRITE) { /* a short write goes through, the next fails */
			write_max = 2;
			fail_skip = 1;
		}
		assert_int_equal(
		    fsave_write(path, 0600, FSAVE_REPLACE, fill_text, "something new\n"),
		    -cases[i].err);
		assert_string_equal(contents(), "old\n");
		assert_no_tmp();
	}
	/* what to write could not be made: nothing is touched */
	reset(NULL);
	assert_int_equal(fsave_write(path, 0600, FSAVE_REPLACE, fill_text, "old\n"), 0);
	events[0] = '\0';
	assert_int_equal(fsave_write(path, 0600, FSAVE_REPLACE, fill_fails, NULL),
			 -E2BIG);
	assert_string_equal(events, "");
	assert_string_equal(contents(), "old\n");
	/* a directory that is not there */
	assert_int_equal(
	    fsave_write("/nonexistent-fsave/x", 0600, FSAVE_REPLACE, fill_text, "x"),
	    -ENOENT);
}

/* The directory's fsync failing after the rename: the new name may not survive a power
 * cut, and the caller is told so. */
static void test_dir_fsync_fails(void **state)
{
	(void)state;
	fail_call = C_FSYNC_DIR;
	fail_errno = EIO;
	assert_int_equal(fsave_write(path, 0600, FSAVE_REPLACE, fill_text, "new\n"),
			 -EIO);
	assert_string_equal(events, "wfrD");
	assert_no_tmp();
}

/* Create: linked in, -EEXIST (the old file untouched) when there is one already; the
 * directory fsynced after the link. */
static void test_create(void **state)
{
	(void)state;
	assert_int_equal(fsave_write(path, 0600, FSAVE_CREATE, fill_text, "first\n"), 0);
	assert_string_equal(events, "wflD");
	assert_no_tmp();
	assert_int_equal(fsave_write(path, 0600, FSAVE_CREATE, fill_text, "second\n"),
			 -EEXIST);
	assert_string_equal(contents(), "first\n");
	assert_no_tmp();
	unlink(path);
	fail_call = C_LINK;
	fail_errno = ENOSPC;
	assert_int_equal(fsave_write(path, 0600, FSAVE_CREATE, fill_text, "x\n"),
			 -ENOSPC);
	assert_null(contents());
	assert_no_tmp();
}

/* As root, in a directory of another user: the file is that user's. */
static void test_owner_as_root(void **state)
{
	struct stat st;

	(void)state;
	if (geteuid() != 0) {
		print_message("not root: the owner is not tested\n");
		skip();
	}
	assert_int_equal(chown(dir, 65534, 65534), 0);
	assert_int_equal(fsave_write(path, 0600, FSAVE_REPLACE, fill_text, "x\n"), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(chown(dir, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_replace, reset),
	    cmocka_unit_test_setup(test_short_writes, reset),
	    cmocka_unit_test_setup(test_each_failure, reset),
	    cmocka_unit_test_setup(test_dir_fsync_fails, reset),
	    cmocka_unit_test_setup(test_create, reset),
	    cmocka_unit_test_setup(test_owner_as_root, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
