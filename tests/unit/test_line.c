#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "line.h"

/* Feed all of data; record events as a compact string: "L<line>|" or "T|". */
static void feed_all(struct linebuf *lb, const char *data, size_t len, char *log,
		     size_t size)
{
	while (len > 0) {
		enum line_ev ev;
		const char *line;
		size_t ll, used = line_feed(lb, data, len, &ev, &line, &ll);

		assert_true(used > 0 && used <= len);
		data += used;
		len -= used;
		if (ev == LINE_OK) {
			assert_int_equal(strlen(line), ll);
			strncat(log, "L", size - strlen(log) - 1);
			strncat(log, line, size - strlen(log) - 1);
			strncat(log, "|", size - strlen(log) - 1);
		} else if (ev == LINE_TOO_LONG) {
			strncat(log, "T|", size - strlen(log) - 1);
		} else {
			assert_int_equal(len, 0);
		}
	}
}

static void test_basic_and_crlf(void **state)
{
	struct linebuf lb;
	char log[2048] = "";
	static const char in[] = "PING: 1\nPONG: 2\r\n\n\r\nA\r\rB\n";

	(void)state;
	line_init(&lb);
	feed_all(&lb, in, sizeof(in) - 1, log, sizeof(log));
	/* one CR before LF is removed; others stay (and are refused by the encoding
	 * check) */
	assert_string_equal(log, "LPING: 1|LPONG: 2|L|L|LA\r\rB|");
}

static void test_split_across_feeds(void **state)
{
	struct linebuf lb;
	char log[256] = "";

	(void)state;
	line_init(&lb);
	feed_all(&lb, "JO", 2, log, sizeof(log));
	assert_string_equal(log, "");
	feed_all(&lb, "IN: #a\r", 7, log, sizeof(log));
	assert_string_equal(log, "");
	feed_all(&lb, "\nX", 2, log, sizeof(log));
	assert_string_equal(log, "LJOIN: #a|");
	feed_all(&lb, "\n", 1, log, sizeof(log));
	assert_string_equal(log, "LJOIN: #a|LX|");
}

static void run_len(size_t content, bool crlf, const char *want_prefix)
{
	struct linebuf lb;
	static char buf[1200], log[2048];

	memset(buf, 'a', content);
	if (crlf)
		buf[content++] = '\r';
	buf[content++] = '\n';
	memcpy(buf + content, "next\n", 5);
	log[0] = '\0';
	line_init(&lb);
	feed_all(&lb, buf, content + 5, log, sizeof(log));
	assert_memory_equal(log, want_prefix, strlen(want_prefix));
	assert_string_equal(log + strlen(log) - 6, "Lnext|");
}

static void test_limits(void **state)
{
	(void)state;
	run_len(0, false, "L|");
	run_len(510, false, "Laaa"); /* 511 with LF */
	run_len(511, false, "Laaa"); /* 512 with LF: the maximum */
	run_len(512, false, "T|");   /* 513 */
	run_len(510, true, "Laaa");  /* 510 + CR LF = 512 */
	run_len(511, true, "T|");    /* 511 + CR LF = 513 */
	run_len(1100, false, "T|");  /* one error however long, then the next line */
}

static void test_too_long_reported_before_lf(void **state)
{
	struct linebuf lb;
	char buf[600], log[64] = "";
	enum line_ev ev;
	const char *line;
	size_t ll, used;

	(void)state;
	memset(buf, 'b', sizeof(buf));
	line_init(&lb);
	used = line_feed(&lb, buf, 511, &ev, &line, &ll);
	assert_int_equal(used, 511);
	assert_int_equal(ev, LINE_NONE);
	used = line_feed(&lb, buf, 89, &ev, &line, &ll);
	assert_int_equal(used, 1); /* the 512th byte */
	assert_int_equal(ev, LINE_TOO_LONG);
	/* the rest up to LF is dropped silently */
	feed_all(&lb, buf, 88, log, sizeof(log));
	assert_string_equal(log, "");
	feed_all(&lb, "x\nok\n", 5, log, sizeof(log));
	assert_string_equal(log, "Lok|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_and_crlf),
	    cmocka_unit_test(test_split_across_feeds),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_too_long_reported_before_lf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
