#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tones.h"

static int zero_crossings(const int16_t *p, size_t n)
{
	int z = 0;

	for (size_t i = 1; i < n; i++)
		z += (p[i - 1] < 0) != (p[i] < 0);
	return z;
}

static void test_cycles(void **state)
{
	(void)state;
	assert_int_equal(tone_cycle_samples(TONE_RING), 3000 * 48);
	assert_int_equal(tone_cycle_samples(TONE_RINGBACK), 5000 * 48);
	assert_int_equal(tone_cycle_samples(TONE_BUSY), 1500 * 48);
	assert_int_equal(tone_cycle_samples(TONE_PTT), 40 * 48);
	assert_string_equal(tone_name(TONE_BUSY), "busy");
}

static void test_ptt_frequency_and_end(void **state)
{
	int16_t pcm[48 * 60] = {0};
	struct tone t;
	int z;

	(void)state;
	tone_start(&t, TONE_PTT);
	assert_true(tone_mix(&t, pcm, 48 * 20));	    /* 20 of its 40 ms */
	assert_false(tone_mix(&t, pcm + 48 * 20, 48 * 40)); /* ends within this */
	/* 1200 Hz for 40 ms: 48 cycles, 96 crossings (fades blur the ends a little) */
	z = zero_crossings(pcm, 48 * 40);
	assert_true(z >= 92 && z <= 98);
	for (int i = 48 * 40; i < 48 * 60; i++)
		assert_int_equal(pcm[i], 0); /* after the end: untouched */
	assert_false(tone_mix(&t, pcm, 10)); /* stays ended */
}

static void test_ring_repeats_busy_ends(void **state)
{
	size_t n = 2 * 3000 * 48 + 4800;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	struct tone t;
	int peak = 0;

	(void)state;
	tone_start(&t, TONE_RING);
	assert_true(tone_mix(&t, pcm, n)); /* two cycles and more: still ringing */
	/* the 200 ms gap after the first burst is silent */
	for (size_t i = 400 * 48; i < 600 * 48; i++)
		assert_int_equal(pcm[i], 0);
	/* the second cycle sounds like the first */
	assert_memory_equal(pcm + 3000 * 48 + 1000, pcm + 1000, 100 * sizeof(*pcm));
	for (size_t i = 0; i < n; i++)
		peak = abs(pcm[i]) > peak ? abs(pcm[i]) : peak;
	assert_true(peak > 8000 && peak <= 12000); /* two components of 6000 */
	memset(pcm, 0, n * sizeof(*pcm));
	tone_start(&t, TONE_BUSY);
	assert_false(tone_mix(&t, pcm, 1500 * 48 + 10));
	tone_start(&t, TONE_NONE);
	assert_false(tone_mix(&t, pcm, 10));
	free(pcm);
}

static void test_mixes_over_speech(void **state)
{
	int16_t pcm[480];
	struct tone t;
	int clipped = 0, below = 0;

	(void)state;
	for (int i = 0; i < 480; i++)
		pcm[i] = 32000;
	tone_start(&t, TONE_CONNECTED);
	tone_mix(&t, pcm, 480);
	for (int i = 0; i < 480; i++) {
		assert_true(pcm[i] >= 32000 - 6000); /* added to what was there */
		clipped += pcm[i] == 32767;	     /* saturated, not wrapped */
		below += pcm[i] < 32000;
	}
	assert_true(clipped > 50);
	assert_true(below > 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cycles),
	    cmocka_unit_test(test_ptt_frequency_and_end),
	    cmocka_unit_test(test_ring_repeats_busy_ends),
	    cmocka_unit_test(test_mixes_over_speech),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
