#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "seqwin.h"

static void test_in_order_and_repeat(void **state)
{
	struct seqwin w;

	(void)state;
	seqwin_init(&w);
	assert_int_equal(seqwin_accept(&w, 100), SEQ_ADVANCE); /* any first number */
	assert_int_equal(seqwin_accept(&w, 100), SEQ_REJECT);
	assert_int_equal(seqwin_accept(&w, 101), SEQ_ADVANCE);
	assert_int_equal(seqwin_accept(&w, 101), SEQ_REJECT);
	assert_int_equal(seqwin_accept(&w, 100), SEQ_REJECT);
}

static void test_reorder_within_window(void **state)
{
	struct seqwin w;

	(void)state;
	seqwin_init(&w);
	seqwin_accept(&w, 1000);
	assert_int_equal(seqwin_accept(&w, 1005), SEQ_ADVANCE);
	assert_int_equal(seqwin_accept(&w, 1003), SEQ_OLD_OK);
	assert_int_equal(seqwin_accept(&w, 1003), SEQ_REJECT);
	assert_int_equal(seqwin_accept(&w, 1001), SEQ_OLD_OK);
	assert_int_equal(seqwin_accept(&w, 1000), SEQ_REJECT);
	/* the window edge: top - 63 accepted, top - 64 too old */
	seqwin_init(&w);
	seqwin_accept(&w, 200);
	assert_int_equal(seqwin_accept(&w, 137), SEQ_OLD_OK);
	assert_int_equal(seqwin_accept(&w, 136), SEQ_REJECT);
}

static void test_wrap(void **state)
{
	struct seqwin w;

	(void)state;
	seqwin_init(&w);
	seqwin_accept(&w, 65534);
	assert_int_equal(seqwin_accept(&w, 65535), SEQ_ADVANCE);
	assert_int_equal(seqwin_accept(&w, 0), SEQ_ADVANCE);
	assert_int_equal(seqwin_accept(&w, 1), SEQ_ADVANCE);
	assert_int_equal(seqwin_accept(&w, 65535), SEQ_REJECT); /* seen before the wrap */
	assert_int_equal(seqwin_accept(&w, 65533),
			 SEQ_OLD_OK); /* 4 back across the wrap */
	assert_int_equal(seqwin_accept(&w, 65500), SEQ_OLD_OK);
	assert_int_equal(seqwin_accept(&w, 65473), SEQ_REJECT); /* 64 back: too old */
	/* a long run through a full wrap keeps accepting */
	for (uint32_t i = 2; i < 70000; i++)
		assert_int_equal(seqwin_accept(&w, (uint16_t)i), SEQ_ADVANCE);
}

static void test_jumps(void **state)
{
	struct seqwin w;

	(void)state;
	seqwin_init(&w);
	seqwin_accept(&w, 10);
	/* a jump forward of more than the window forgets the old bits */
	assert_int_equal(seqwin_accept(&w, 10 + 1000), SEQ_ADVANCE);
	assert_int_equal(seqwin_accept(&w, 10 + 999), SEQ_OLD_OK);
	/* half the space ahead is "ahead" (32767), the rest is "behind" */
	assert_int_equal(seqwin_accept(&w, (uint16_t)(1010 + 32767)), SEQ_ADVANCE);
	assert_int_equal(seqwin_accept(&w, (uint16_t)(1010 + 32767 + 32768)), SEQ_REJECT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order_and_repeat),
	    cmocka_unit_test(test_reorder_within_window),
	    cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_jumps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
