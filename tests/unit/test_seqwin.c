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

/* The counters of encrypted voice: H - 64 <= c < H accepted once, c > H always, any
 * first one; nothing recorded by a check alone (the tag is verified in between). */
static void test_counter_window(void **state)
{
	static const struct {
		uint64_t c;
		int res; /* what check says; accepted ones are then marked */
	} t[] = {
	    {1000, SEQ_ADVANCE}, /* any first counter */
	    {1000, SEQ_REJECT},
	    {999, SEQ_OLD_OK},
	    {999, SEQ_REJECT},
	    {1001, SEQ_ADVANCE},
	    {1100, SEQ_ADVANCE}, /* a jump past the window */
	    {1036, SEQ_OLD_OK},	 /* H - 64: the edge, inside */
	    {1035, SEQ_REJECT},	 /* H - 65: too old */
	    {1036, SEQ_REJECT},
	    {1099, SEQ_OLD_OK},
	    {1100, SEQ_REJECT},
	    {1164, SEQ_ADVANCE}, /* exactly 64 on: 1100 is now the edge */
	    {1100, SEQ_REJECT},
	    {1099, SEQ_REJECT},
	    {1101, SEQ_OLD_OK},
	    {UINT64_MAX, SEQ_ADVANCE}, /* the far end of the counter space */
	    {0, SEQ_REJECT},
	    {UINT64_MAX - 64, SEQ_OLD_OK},
	    {UINT64_MAX - 65, SEQ_REJECT},
	};
	struct ctrwin w;

	(void)state;
	ctrwin_init(&w);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = ctrwin_check(&w, t[i].c);

		if (r != t[i].res)
			fail_msg("step %zu: counter %llu gave %d, expected %d", i,
				 (unsigned long long)t[i].c, r, t[i].res);
		if (r != SEQ_REJECT)
			ctrwin_mark(&w, t[i].c);
	}
	/* a check that is not followed by a mark (a forged tag) leaves no trace */
	ctrwin_init(&w);
	ctrwin_mark(&w, 5);
	assert_int_equal(ctrwin_check(&w, 9), SEQ_ADVANCE);
	assert_int_equal(ctrwin_check(&w, 4), SEQ_OLD_OK);
	assert_int_equal(ctrwin_check(&w, 9), SEQ_ADVANCE);
	assert_int_equal(w.top, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counter_window),
	    cmocka_unit_test(test_in_order_and_repeat),
	    cmocka_unit_test(test_reorder_within_window),
	    cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_jumps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
