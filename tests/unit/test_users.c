/* The gateway's users store (web/users.c): a token is used once, a cookie is checked by
 * hash, a forged or stale one is refused, only hashes reach the file, a new link for a
 * user ends its old cookie, removal, bad names, a file that is not ours. */
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

#include "users.h"
#include "web_limits.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-users-%d", (int)getpid());
	return mkdir(dir, 0700);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static char *file_text(void)
{
	static char buf[8192];
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/" USERS_FILE, dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void test_enroll_once(void **state)
{
	char token[USERS_SECRET_HEX + 1], secret[USERS_SECRET_HEX + 1], name[40],
	    err[300];
	char again[USERS_SECRET_HEX + 1];
	struct users *u;

	(void)state;
	assert_int_equal(users_add(dir, "Alice", token, err, sizeof(err)), 0);
	assert_int_equal(strlen(token), USERS_SECRET_HEX);
	/* the file holds the token's hash, never the token */
	assert_null(strstr(file_text(), token));
	assert_non_null(strstr(file_text(), "Alice enroll "));
	assert_int_equal(users_enroll(dir, token, secret, name, err, sizeof(err)), 0);
	assert_string_equal(name, "Alice");
	assert_null(strstr(file_text(), secret));
	/* used: refused the second time */
	assert_int_equal(users_enroll(dir, token, again, name, err, sizeof(err)),
			 -EACCES);
	/* the cookie logs in; a changed one does not; the token is no cookie */
	assert_int_equal(users_load(&u, dir, err, sizeof(err)), 0);
	assert_int_equal(users_check(u, secret, name), 0);
	assert_string_equal(name, "Alice");
	secret[10] = secret[10] == 'a' ? 'b' : 'a';
	assert_int_equal(users_check(u, secret, name), -EACCES);
	assert_int_equal(users_check(u, token, name), -EACCES);
	assert_int_equal(users_check(u, "", name), -EACCES);
	users_free(u);
}

static void test_new_link_ends_old_cookie(void **state)
{
	char token[USERS_SECRET_HEX + 1], secret[USERS_SECRET_HEX + 1], name[40],
	    err[300];
	struct users *u;

	(void)state;
	assert_int_equal(users_add(dir, "Bob", token, err, sizeof(err)), 0);
	assert_int_equal(users_enroll(dir, token, secret, name, err, sizeof(err)), 0);
	/* a lost phone: a new link, and the old browser is out */
	assert_int_equal(users_add(dir, "bob", token, err, sizeof(err)), 0);
	assert_int_equal(users_load(&u, dir, err, sizeof(err)), 0);
	assert_int_equal(users_check(u, secret, name), -EACCES);
	assert_true(users_has(u, "BOB"));
	users_free(u);
	/* removed: its cookie and its link stop working */
	assert_int_equal(users_enroll(dir, token, secret, name, err, sizeof(err)), 0);
	assert_int_equal(users_remove(dir, "Bob", err, sizeof(err)), 0);
	assert_int_equal(users_remove(dir, "Bob", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "--list-users"));
	assert_int_equal(users_load(&u, dir, err, sizeof(err)), 0);
	assert_int_equal(users_check(u, secret, name), -EACCES);
	assert_false(users_has(u, "Bob"));
	users_free(u);
}

static void test_bad_input(void **state)
{
	char token[USERS_SECRET_HEX + 1], secret[USERS_SECRET_HEX + 1], name[40],
	    err[300];
	char path[128];
	struct users *u;
	FILE *f;

	(void)state;
	assert_int_equal(users_add(dir, "no spaces", token, err, sizeof(err)), -EINVAL);
	assert_int_equal(users_add(dir, "", token, err, sizeof(err)), -EINVAL);
	assert_int_equal(users_enroll(dir, "zz", secret, name, err, sizeof(err)),
			 -EACCES);
	/* a file that is not ours is named, never taken */
	snprintf(path, sizeof(path), "%s/" USERS_FILE, dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Alice active nothex\n", f);
	fclose(f);
	assert_int_equal(users_load(&u, dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: not a user line"));
	unlink(path);
}

static void test_bound(void **state)
{
	char token[USERS_SECRET_HEX + 1], name[40], err[300], path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/" USERS_FILE, dir);
	unlink(path);
	for (int i = 0; i < WEB_USERS_MAX; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		assert_int_equal(users_add(dir, name, token, err, sizeof(err)), 0);
	}
	assert_int_equal(users_add(dir, "onemore", token, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "--remove-user"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_enroll_once),
	    cmocka_unit_test(test_new_link_ends_old_cookie),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_bound),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
