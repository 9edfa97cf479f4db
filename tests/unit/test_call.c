#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "call.h"

static char m[3];
#define A ((struct sess *)(void *)&m[0])
#define B ((struct sess *)(void *)&m[1])
#define C ((struct sess *)(void *)&m[2])

static void test_ring_accept(void **state)
{
	struct call *c;

	(void)state;
	assert_int_equal(call_new(&c, A, B, 1000, 30000), 0);
	assert_false(call_active(c));
	assert_ptr_equal(call_peer(c, A), B);
	assert_ptr_equal(call_peer(c, B), A);
	assert_null(call_peer(c, C));
	assert_int_equal(call_answer(c, A, B, true),
			 -EPERM); /* the caller cannot accept */
	assert_int_equal(call_answer(c, B, C, true),
			 -EPERM); /* naming the wrong caller */
	assert_int_equal(call_answer(c, C, A, true), -EPERM);
	assert_false(call_ring_expired(c, 30999));
	assert_true(call_ring_expired(c, 31000));
	assert_int_equal(call_answer(c, B, A, true), 0);
	assert_true(call_active(c));
	assert_false(call_ring_expired(c, 99999)); /* an active call does not time out */
	assert_int_equal(call_answer(c, B, A, true), -EPERM); /* not ringing any more */
	assert_int_equal(call_check_end(c, A, B), 0);
	assert_int_equal(call_check_end(c, B, A), 0);
	assert_int_equal(call_check_end(c, A, C), -EPERM);
	assert_int_equal(call_check_end(c, A, NULL), -EPERM);
	call_free(c);
}

static void test_deny_and_end_while_ringing(void **state)
{
	struct call *c;

	(void)state;
	assert_int_equal(call_new(&c, A, B, 0, 1000), 0);
	assert_int_equal(call_answer(c, B, A, false), 0); /* deny: still ringing state */
	assert_false(call_active(c));
	assert_int_equal(call_check_end(c, A, B), 0); /* the caller may cancel */
	call_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ring_accept),
	    cmocka_unit_test(test_deny_and_end_while_ringing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
