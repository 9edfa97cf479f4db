/* hist: percentiles of durations, fine below 1 ms, coarse above. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hist.h"

static void test_percentiles(void **state)
{
	struct hist h;

	(void)state;
	hist_init(&h);
	assert_int_equal(hist_pct(&h, 0.5), 0);
	for (uint64_t us = 1; us <= 100; us++) /* 1..100 µs */
		hist_add(&h, us);
	assert_int_equal(hist_pct(&h, 0.5), 50);
	assert_int_equal(hist_pct(&h, 0.99), 99);
	assert_int_equal(hist_pct(&h, 1.0), 100);
	hist_add(&h, 2500);    /* 2.5 ms: counted in its millisecond */
	hist_add(&h, 5000000); /* 5 s: beyond */
	assert_int_equal(h.n, 102);
	assert_int_equal(hist_pct(&h, 101.0 / 102), 2999);
	assert_int_equal(hist_pct(&h, 1.0), 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_percentiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
