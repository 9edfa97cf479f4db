/* The line sender the tests and benches share (bench_line in bench/benchutil.c): a line
 * that fits is sent with its LF, one that does not is refused without a byte written
 * past the buffer (the buffers are exactly sized on the heap, so the sanitize build
 * would catch a stray byte; guard bytes after them catch it in every build). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "benchutil.h"

#define GUARD 32

/* size bytes for the line, then GUARD bytes of 0xa5 that must stay so. */
static char *area(size_t size)
{
	char *b = malloc(size + GUARD);

	assert_non_null(b);
	memset(b, 0xa5, size + GUARD);
	return b;
}

static void guard_intact(const char *b, size_t size)
{
	for (size_t i = size; i < size + GUARD; i++)
		assert_int_equal((uint8_t)b[i], 0xa5);
}

static void test_fits(void **state)
{
	char *b = area(16);

	(void)state;
	assert_int_equal(bench_line(b, 16, "PING: %d", 42), 9);
	assert_memory_equal(b, "PING: 42\n", 10); /* LF, then NUL */
	/* 14 characters, the LF and the NUL: exactly 16 */
	assert_int_equal(bench_line(b, 16, "%s", "JOIN: #abcdefg"), 15);
	assert_memory_equal(b, "JOIN: #abcdefg\n", 16);
	assert_int_equal(bench_line(b, 16, "%s", ""), 1); /* an empty line is LF */
	assert_string_equal(b, "\n");
	guard_intact(b, 16);
	free(b);
}

static void test_long_line_refused_in_bounds(void **state)
{
	static const size_t sizes[] = {1, 2, 15, 16, 600, 4096};
	char *big = malloc(100000);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 99999);
	big[99999] = '\0';
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		char *b = area(size);

		/* one character over: the LF would take the NUL's place */
		assert_int_equal(bench_line(b, size, "%.*s", (int)(size - 1), big),
				 -EMSGSIZE);
		assert_string_equal(b, ""); /* nothing of it to send */
		guard_intact(b, size);
		assert_int_equal(bench_line(b, size, "PRIVMSG: %s", big), -EMSGSIZE);
		assert_string_equal(b, "");
		guard_intact(b, size);
		if (size >= 2) { /* and the longest that fits does */
			assert_int_equal(
			    bench_line(b, size, "%.*s", (int)(size - 2), big),
			    (int)size - 1);
			assert_int_equal(b[size - 2], '\n');
			assert_int_equal(b[size - 1], '\0');
			guard_intact(b, size);
		}
		free(b);
	}
	assert_int_equal(bench_line(big, 0, "%s", "x"), -EMSGSIZE); /* writes nothing */
	assert_int_equal(big[0], 'x');
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fits),
	    cmocka_unit_test(test_long_line_refused_in_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
