/* pin: which server key a box trusts. Trust on first use writes known_servers and holds
 * across restarts; another key is refused and the one expected named; a configured pin
 * wins and writes nothing; --forget-server removes exactly what it names; a damaged
 * file is refused, never rewritten. Files in a fresh directory, no sockets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ident.h"
#include "pin.h"

static char dir[64], path[128];

static const char *fp(char c)
{
	static char buf[4][IDENT_FP_LEN + 1];
	static int k;
	char *b = buf[k++ % 4];

	memcpy(b, "sha256:", 7);
	memset(b + 7, c, 64);
	b[IDENT_FP_LEN] = '\0';
	return b;
}

static const char *file(void)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return f ? buf : NULL;
}

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_pin.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/" PIN_FILE, dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static int check(const char *host, unsigned port, const char *pinned, const char *key,
		 bool *added, char *want)
{
	char err[700];

	return pin_check(dir, host, port, pinned, key, added, want, err, sizeof(err));
}

static void test_first_use_then_pinned(void **state)
{
	char want[IDENT_FP_LEN + 1], line[200];
	bool added;

	(void)state;
	assert_null(file());
	assert_int_equal(check("192.168.1.10", 6060, "", fp('a'), &added, want), 0);
	assert_true(added);
	snprintf(line, sizeof(line), "192.168.1.10:6060 %s\n", fp('a'));
	assert_string_equal(file(), line);
	/* the next start: the same key passes and nothing is written */
	assert_int_equal(check("192.168.1.10", 6060, "", fp('a'), &added, want), 0);
	assert_false(added);
	assert_string_equal(file(), line);
	/* another key on that address and port: refused, the first one named */
	assert_int_equal(check("192.168.1.10", 6060, "", fp('b'), &added, want), -EPERM);
	assert_false(added);
	assert_string_equal(want, fp('a'));
	assert_string_equal(file(), line); /* not replaced */
	/* another port is another server; an IPv6 address is bracketed */
	assert_int_equal(check("192.168.1.10", 6061, "", fp('b'), &added, want), 0);
	assert_true(added);
	assert_int_equal(check("fd00::1", 6060, "", fp('c'), &added, want), 0);
	assert_true(added);
	assert_non_null(strstr(file(), "[fd00::1]:6060 sha256:ccc"));
	assert_int_equal(check("fd00::1", 6060, "", fp('a'), &added, want), -EPERM);
	assert_string_equal(want, fp('c'));
}

static void test_configured_pin(void **state)
{
	char want[IDENT_FP_LEN + 1];
	bool added;

	(void)state;
	assert_int_equal(check("door", 6060, fp('d'), fp('d'), &added, want), 0);
	assert_false(added);
	assert_null(file()); /* a pin of the config's own writes nothing */
	assert_int_equal(check("door", 6060, fp('d'), fp('e'), &added, want), -EPERM);
	assert_string_equal(want, fp('d'));
	/* the configured pin wins over a known_servers entry */
	assert_int_equal(check("door", 6060, "", fp('e'), &added, want), 0);
	assert_int_equal(check("door", 6060, fp('d'), fp('e'), &added, want), -EPERM);
}

static void test_forget(void **state)
{
	char want[IDENT_FP_LEN + 1], err[700];
	bool added;

	(void)state;
	assert_int_equal(pin_forget(dir, "door", 0, err, sizeof(err)), 0); /* no file */
	put("# kept by hand\n");
	assert_int_equal(check("door", 6060, "", fp('a'), &added, want), 0);
	assert_int_equal(check("door", 7000, "", fp('b'), &added, want), 0);
	assert_int_equal(check("doorbell", 6060, "", fp('c'), &added, want), 0);
	assert_int_equal(check("::1", 6060, "", fp('d'), &added, want), 0);
	/* HOST:PORT: that one only */
	assert_int_equal(pin_forget(dir, "door", 7000, err, sizeof(err)), 1);
	assert_null(strstr(file(), "door:7000"));
	assert_non_null(strstr(file(), "door:6060"));
	/* HOST: every port of it, and not a longer name that starts with it */
	assert_int_equal(check("door", 7000, "", fp('b'), &added, want), 0);
	assert_int_equal(pin_forget(dir, "door", 0, err, sizeof(err)), 2);
	assert_null(strstr(file(), "door:"));
	assert_non_null(strstr(file(), "doorbell:6060"));
	assert_non_null(strstr(file(), "# kept by hand\n")); /* comments stay */
	assert_int_equal(pin_forget(dir, "::1", 0, err, sizeof(err)), 1);
	assert_int_equal(pin_forget(dir, "door", 0, err, sizeof(err)), 0);
	/* forgotten: the next key is trusted on first use again */
	assert_int_equal(check("door", 6060, "", fp('f'), &added, want), 0);
	assert_true(added);
}

static void test_damaged_file(void **state)
{
	static const char *const bad[] = {
	    "door:6060\n",			/* no fingerprint */
	    "door:6060 sha256:abc\n",		/* too short */
	    "door:6060 md5:0123456789abcdef\n", /* another hash */
	};
	char want[IDENT_FP_LEN + 1], err[700], text[300];
	bool added;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "# a box\n%s", bad[i]);
		put(text);
		assert_int_equal(pin_check(dir, "other", 6060, "", fp('a'), &added, want,
					   err, sizeof(err)),
				 -EINVAL);
		assert_false(added);
		assert_non_null(strstr(err, PIN_FILE ":2: ")); /* the line is named */
		assert_string_equal(file(), text);	       /* never rewritten */
		assert_int_equal(pin_forget(dir, "door", 0, err, sizeof(err)), -EINVAL);
		assert_string_equal(file(), text);
	}
	/* upper-case hex is not what we write: refused too */
	snprintf(text, sizeof(text), "door:6060 sha256:%064d\n", 0);
	text[20] = 'A';
	put(text);
	assert_int_equal(check("door", 6060, "", fp('0'), &added, want), -EINVAL);
	/* not a text file of ours: binary, or too large */
	{
		FILE *f = fopen(path, "w");

		fwrite("door\0x", 1, 6, f);
		fclose(f);
		assert_int_equal(check("door", 6060, "", fp('a'), &added, want), -EINVAL);
	}
}

/* The command the log names: with the state directory, and sudo when the box runs as a
 * service (its journal is read by someone else than the service's user). */
static void test_forget_command(void **state)
{
	char cmd[PIN_COMMAND_MAX];
	const char *inv = getenv("INVOCATION_ID");

	(void)state;
	unsetenv("INVOCATION_ID");
	pin_forget_command(cmd, sizeof(cmd), "/home/me/.local/state/intercom", "hall");
	assert_string_equal(
	    cmd,
	    "intercom --state-dir /home/me/.local/state/intercom --forget-server hall");
	setenv("INVOCATION_ID", "0123456789abcdef", 1);
	pin_forget_command(cmd, sizeof(cmd), "/var/lib/intercom", "192.168.1.10");
	assert_string_equal(
	    cmd,
	    "sudo intercom --state-dir /var/lib/intercom --forget-server 192.168.1.10");
	if (inv)
		setenv("INVOCATION_ID", inv, 1);
	else
		unsetenv("INVOCATION_ID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_first_use_then_pinned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_configured_pin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_file, setup, teardown),
	    cmocka_unit_test(test_forget_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
