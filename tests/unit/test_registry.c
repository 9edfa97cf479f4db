/* The nick registry (server/registry.c) on its own: bindings, pending logins, the
 * limits, the file it writes and reads back, a damaged file, and the directory lock
 * that keeps intercomd --registry away from a running server. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry.h"

#define T0 1796318401 /* 2026-12-03T17:20:01Z */

static char dir[64], err[512];

static const char *fp(int n)
{
	static char buf[4][IDENT_FP_LEN + 1];
	char *b = buf[n & 3];

	snprintf(b, IDENT_FP_LEN + 1, "sha256:%064x", n);
	return b;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-registry-%d", (int)getpid());
	assert_int_equal(mkdir(dir, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/registry", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	return 0;
}

static struct reg *open_ok(enum reg_lock lock)
{
	struct reg *r = NULL;

	assert_int_equal(reg_open(&r, dir, lock, err, sizeof(err)), 0);
	return r;
}

static void write_file(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/registry", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *listing(const struct reg *r)
{
	static char buf[4096];
	FILE *f;

	memset(buf, 0, sizeof(buf));
	f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	assert_int_equal(reg_print(r, f), 0);
	fclose(f);
	return buf;
}

static void test_bind_find_case(void **state)
{
	struct reg *r = open_ok(REG_ALONE);

	(void)state;
	assert_null(reg_find(r, "Gate"));
	assert_int_equal(reg_bind(r, "Gate", fp(1), 0), 0);
	assert_string_equal(reg_find(r, "gATE")->nick, "Gate"); /* its first case */
	assert_int_equal(reg_bind(r, "GATE", fp(2), 0), -EEXIST);
	assert_int_equal(reg_bind(r, "gate", fp(1), 0), -EEXIST);
	assert_true(reg_dirty(r));
	assert_int_equal(reg_remove(r, "gate"), 0);
	assert_int_equal(reg_remove(r, "gate"), -ENOENT);
	assert_null(reg_find(r, "Gate"));
	reg_free(r);
}

/* Pending on a login: written at once (its REGISTERED waits for that), undone without
 * its PONG (a change: the file may have it), kept with it, taken over by the same key
 * and by no other. */
static void test_pending(void **state)
{
	struct reg *r = open_ok(REG_ALONE);
	uint64_t g;
	char want[300];

	(void)state;
	assert_int_equal(reg_bind_gen(r), 0);
	assert_int_equal(reg_bind(r, "Porch", fp(1), 7), 0);
	assert_true(reg_dirty(r)); /* to be on disk before its REGISTERED */
	g = reg_gen(r);
	assert_int_equal(reg_find(r, "Porch")->gen, g);
	assert_int_equal(reg_bind_gen(r), g); /* a save is wanted now */
	assert_int_equal(reg_find(r, "Porch")->pending, 7);
	snprintf(want, sizeof(want), "Porch %s - -\n", fp(1));
	assert_string_equal(listing(r), want); /* written like any binding */
	assert_int_equal(reg_save(r, err, sizeof(err)), 0);
	assert_int_equal(reg_saved_gen(r), g);
	assert_int_equal(reg_bind(r, "porch", fp(2), 8), -EEXIST);
	reg_abandon(r, "Porch", 8); /* not its binding */
	assert_non_null(reg_find(r, "Porch"));
	assert_false(reg_dirty(r));
	reg_abandon(r, "Porch", 7);
	assert_null(reg_find(r, "Porch"));
	assert_true(reg_dirty(r)); /* the file has it: the next save drops it */
	assert_int_equal(reg_bind_gen(r), g);
	assert_int_equal(reg_bind(r, "Porch", fp(2), 9), 0);
	g = reg_find(r, "Porch")->gen;
	assert_int_equal(reg_bind(r, "Porch", fp(2), 10), 0); /* the same box again */
	assert_int_equal(reg_find(r, "Porch")->gen, g);	      /* the same binding */
	reg_confirm(r, "Porch", 9, T0);			      /* the old session's PONG */
	assert_int_equal(reg_find(r, "Porch")->pending, 10);
	reg_abandon(r, "Porch", 9);
	reg_confirm(r, "Porch", 10, T0);
	assert_int_equal(reg_find(r, "Porch")->pending, 0);
	assert_true(reg_dirty(r));
	reg_abandon(r, "Porch", 10); /* kept now */
	assert_non_null(reg_find(r, "Porch"));
	reg_seen(r, "porch", T0 + 60);
	assert_int_equal(reg_find(r, "Porch")->first, T0);
	assert_int_equal(reg_find(r, "Porch")->last, T0 + 60);
	reg_free(r);
	snprintf(want, sizeof(want), "%s/registry", dir);
	assert_int_equal(unlink(want), 0); /* the next test starts empty */
}

static void test_limits(void **state)
{
	struct reg *r = open_ok(REG_ALONE);
	char nick[16];

	(void)state;
	for (int i = 0; i < IC_NICKS_PER_KEY; i++) {
		snprintf(nick, sizeof(nick), "P%d", i);
		assert_int_equal(reg_bind(r, nick, fp(1), i == 3 ? 5 : 0), 0);
	}
	assert_int_equal(reg_count(r, fp(1)), IC_NICKS_PER_KEY); /* a pending one too */
	assert_int_equal(reg_bind(r, "P4", fp(1), 0), -EMLINK);
	for (int i = IC_NICKS_PER_KEY; i < IC_REGISTRY_MAX; i++) {
		snprintf(nick, sizeof(nick), "N%d", i);
		assert_int_equal(reg_bind(r, nick, fp(1000 + i), 0), 0);
	}
	assert_int_equal(reg_bind(r, "OneMore", fp(2), 0), -ENOSPC);
	reg_free(r);
}

/* Written sorted, times as ISO 8601 UTC ("-" for never), read back the same. */
static void test_file_round_trip(void **state)
{
	struct reg *r = open_ok(REG_ALONE);
	char want[1024];

	(void)state;
	assert_int_equal(reg_bind(r, "zed", fp(1), 0), 0);
	assert_int_equal(reg_bind(r, "Alpha", fp(2), 0), 0);
	reg_seen(r, "alpha", T0);
	assert_int_equal(reg_bind(r, "Pending", fp(3), 4), 0);
	assert_int_equal(reg_save(r, err, sizeof(err)), 0);
	assert_false(reg_dirty(r));
	reg_free(r);
	r = open_ok(REG_SHARED);
	snprintf(want, sizeof(want),
		 "Alpha %s 2026-12-03T17:20:01Z 2026-12-03T17:20:01Z\nPending %s - "
		 "-\nzed %s - -\n",
		 fp(2), fp(3), fp(1));
	assert_string_equal(listing(r), want);
	assert_int_equal(reg_find(r, "ALPHA")->first, T0);
	/* a binding whose login had not completed: written, and read back as any */
	assert_string_equal(reg_find(r, "Pending")->fp, fp(3));
	assert_int_equal(reg_find(r, "Pending")->pending, 0);
	assert_int_equal(reg_find(r, "Pending")->first, 0);
	reg_free(r);
}

/* A file that is not ours is refused by file:line, never rewritten. */
static void test_damaged(void **state)
{
	static const char *const bad[] = {
	    "Gate sha256:12 - -\n",
	    "bad#nick "
	    "sha256:0000000000000000000000000000000000000000000000000000000000000001 - "
	    "-\n",
	    "Gate "
	    "sha256:0000000000000000000000000000000000000000000000000000000000000001 "
	    "2026-13-01T00:00:00Z -\n",
	    "Gate "
	    "sha256:0000000000000000000000000000000000000000000000000000000000000001 -\n",
	    "Gate "
	    "sha256:0000000000000000000000000000000000000000000000000000000000000001 - "
	    "-\n"
	    "GATE "
	    "sha256:0000000000000000000000000000000000000000000000000000000000000002 - "
	    "-\n",
	};
	struct reg *r = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[160];

		write_file(bad[i]);
		assert_int_equal(reg_open(&r, dir, REG_SHARED, err, sizeof(err)),
				 -EINVAL);
		assert_null(r);
		snprintf(want, sizeof(want), "%s/registry:%d: ", dir, i == 4 ? 2 : 1);
		assert_non_null(strstr(err, want));
	}
	write_file("# a comment\n\n");
	r = open_ok(REG_SHARED);
	assert_string_equal(listing(r), "");
	reg_free(r);
}

/* A running server (shared) keeps the offline commands (alone) out, and the reverse;
 * servers share. */
static void test_lock(void **state)
{
	struct reg *s1 = open_ok(REG_SHARED), *s2 = open_ok(REG_SHARED), *x = NULL;

	(void)state;
	assert_int_equal(reg_open(&x, dir, REG_ALONE, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "stop intercomd first"));
	reg_free(s1);
	reg_free(s2);
	x = open_ok(REG_ALONE);
	assert_int_equal(reg_open(&s1, dir, REG_SHARED, err, sizeof(err)), -EBUSY);
	reg_free(x);
}

/* A save made elsewhere from a copy taken at gen (the server's child) clears only the
 * changes up to gen: one made while it wrote is still to write. */
static void test_saved_up_to(void **state)
{
	struct reg *r = open_ok(REG_ALONE);
	uint64_t g;

	(void)state;
	assert_false(reg_dirty(r));
	assert_int_equal(reg_bind(r, "Gate", fp(1), 0), 0);
	g = reg_gen(r);
	assert_true(reg_dirty(r));
	reg_seen(r, "Gate", 1000); /* while the copy is being written */
	reg_saved(r, g);
	assert_true(reg_dirty(r));
	reg_saved(r, reg_gen(r));
	assert_false(reg_dirty(r));
	assert_int_equal(reg_bind(r, "Hall", fp(2), 7), 0); /* pending: written */
	assert_true(reg_dirty(r));
	reg_saved(r, reg_gen(r));
	reg_confirm(r, "Hall", 7, 2000);
	assert_true(reg_dirty(r));
	assert_int_equal(reg_save(r, err, sizeof(err)), 0);
	assert_false(reg_dirty(r));
	reg_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bind_find_case), cmocka_unit_test(test_pending),
	    cmocka_unit_test(test_limits),	   cmocka_unit_test(test_file_round_trip),
	    cmocka_unit_test(test_damaged),	   cmocka_unit_test(test_lock),
	    cmocka_unit_test(test_saved_up_to),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
