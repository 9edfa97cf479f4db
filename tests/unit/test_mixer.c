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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sum_and_saturation),
	    cmocka_unit_test(test_frame_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
