/* The residual echo suppressor on its own, fed as the canceller feeds it: the
 * microphone, the reference, and an adaptive filter's output made up for each case (one
 * that took the echo out, one that took none of it). Tones at 16 kHz, measured by their
 * own frequency in the output against the same tone going in. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "res.h"

#define RATE   16000
#define BLOCKS 100 /* a second */

/* Power (dB) of the hz component of x[0, n). */
static double tone_db(const int16_t *x, size_t n, double hz)
{
	double re = 0, im = 0;

	for (size_t i = 0; i < n; i++) {
		re += x[i] * cos(2 * M_PI * hz * (double)i / RATE);
		im += x[i] * sin(2 * M_PI * hz * (double)i / RATE);
	}
	return 10 * log10((re * re + im * im) / ((double)n * n) + 1e-12);
}

static int16_t tone(double amp, double hz, size_t t)
{
	return (int16_t)lrint(amp * sin(2 * M_PI * hz * (double)t / RATE));
}

/* With nothing played it takes nothing off: the block comes out exactly as it went
 * in, RES_DELAY samples later, whatever the microphone and the filter did. */
static void test_pure_delay(void **state)
{
	struct res *r;
	int16_t mic[RES_BLOCK], ref[RES_BLOCK] = {0}, out[RES_BLOCK];
	int16_t in[BLOCKS * RES_BLOCK], got[BLOCKS * RES_BLOCK];
	uint32_t rng = 5;

	(void)state;
	assert_int_equal(res_new(&r), 0);
	for (size_t i = 0; i < BLOCKS * RES_BLOCK; i++) {
		rng = rng * 1664525u + 1013904223u;
		in[i] = (int16_t)((int32_t)(rng >> 16) - 32768);
	}
	for (int k = 0; k < BLOCKS; k++) {
		for (int i = 0; i < RES_BLOCK; i++)
			mic[i] = (int16_t)(in[k * RES_BLOCK + i] / 2);
		memcpy(out, in + k * RES_BLOCK, sizeof(out));
		res_block(r, mic, ref, false, out);
		memcpy(got + k * RES_BLOCK, out, sizeof(out));
	}
	assert_memory_equal(got + RES_DELAY, in,
			    (BLOCKS * RES_BLOCK - RES_DELAY) * sizeof(*in));
	res_free(r);
}

/* One second of a far end's 600 Hz tone (the middle of a band) heard back at half its
 * level (and, from the second second, a near talker's 3 kHz tone), the filter taking out
 * all of the echo for the first second (learnt) and none of it after (the echo moved, or
 * a pitch it had not heard); returns the output of the last half second, the near end
 * judged talking or not. */
static void echo_lost(bool near, int16_t *tail, size_t n)
{
	struct res *r;
	int16_t mic[RES_BLOCK], ref[RES_BLOCK], out[RES_BLOCK];
	size_t t = 0;

	assert_int_equal(res_new(&r), 0);
	for (int k = 0; k < 2 * BLOCKS; k++) {
		bool learnt = k < BLOCKS;

		for (int i = 0; i < RES_BLOCK; i++, t++) {
			ref[i] = tone(8000, 600, t);
			mic[i] =
			    (int16_t)(ref[i] / 2 + (learnt ? 0 : tone(2000, 3000, t)));
			out[i] = learnt ? 0 : mic[i];
		}
		res_block(r, mic, ref, near && !learnt, out);
		if (t - RES_BLOCK >= 2 * BLOCKS * RES_BLOCK - n)
			memcpy(tail + (t - RES_BLOCK - (2 * BLOCKS * RES_BLOCK - n)), out,
			       sizeof(out));
	}
	res_free(r);
}

/* The echo the filter lost is taken down to the floor in its own band, and a near
 * talker in another band is left as he was; while the near end is judged to talk,
 * nothing is taken at all. */
static void test_lost_echo(void **state)
{
	enum { N = BLOCKS / 2 * RES_BLOCK };
	int16_t in[N], got[N];

	(void)state;
	for (size_t i = 0; i < N; i++) /* the same half second going in */
		in[i] = (int16_t)(tone(4000, 600,
				       3 * BLOCKS / 2 * RES_BLOCK + i - RES_DELAY) +
				  tone(2000, 3000,
				       3 * BLOCKS / 2 * RES_BLOCK + i - RES_DELAY));
	echo_lost(false, got, N);
	assert_true(tone_db(got, N, 600) <= tone_db(in, N, 600) + RES_FLOOR_DB + 1);
	assert_true(tone_db(got, N, 3000) >= tone_db(in, N, 3000) - 1);
	assert_true(tone_db(got, N, 3000) <= tone_db(in, N, 3000) + 1);
	echo_lost(true, got, N);
	assert_true(tone_db(got, N, 600) >= tone_db(in, N, 600) - 0.1);
	assert_true(tone_db(got, N, 3000) >= tone_db(in, N, 3000) - 0.1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pure_delay),
	    cmocka_unit_test(test_lost_echo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
