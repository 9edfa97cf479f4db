#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mixer.h"

static void test_sum_and_saturation(void **state)
{
	static struct mixer m;
	int16_t a[4] = {100, -200, 30000, -30000}, b[4] = {1, 2, 10000, -10000};
	int16_t c[4] = {0, 0, 0, -32768}, out[4];

	(void)state;
	mixer_begin(&m, 4);
	mixer_end(&m, out);
	assert_memory_equal(out, (int16_t[4]){0}, sizeof(out)); /* no talker: silence */
	mixer_begin(&m, 4);
	mixer_add(&m, a);
	mixer_end(&m, out);
	assert_memory_equal(out, a, sizeof(out)); /* one talker passes unchanged */
	mixer_add(&m, b);
	mixer_add(&m, c);
	mixer_end(&m, out);
	assert_int_equal(out[0], 101);
	assert_int_equal(out[1], -198);
	assert_int_equal(out[2], 32767);  /* 40000 clipped */
	assert_int_equal(out[3], -32768); /* -72768 clipped */
	assert_int_equal(m.srcs, 3);
}

static void test_frame_bound(void **state)
{
	static struct mixer m;

	(void)state;
	mixer_begin(&m, MIXER_MAX + 100);
	assert_int_equal(m.n, MIXER_MAX);
}

/* A crossfade from a constant -1000 to +1000 over 9 samples, in place: every step the
 * same (200), starting one step away from `from` and ending one short of `to`, so the
 * sample after it continues `to` with the same step: no jump at either end. */
static void test_xfade(void **state)
{
	int16_t from[9], to[9];

	(void)state;
	for (int i = 0; i < 9; i++) {
		from[i] = -1000;
		to[i] = 1000;
	}
	mixer_xfade(from, to, to, 9);
	assert_int_equal(to[0], -800);
	for (int i = 1; i < 9; i++)
		assert_int_equal(to[i] - to[i - 1], 200);
	assert_int_equal(to[8], 800);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sum_and_saturation),
	    cmocka_unit_test(test_frame_bound),
	    cmocka_unit_test(test_xfade),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
