/* The coherence share on its own: the microphone against an echo estimate, as the
 * canceller feeds it (10 ms blocks at 16 kHz). The echo is the estimate coloured by two
 * short reflections and scaled, as a filter that learnt part of the echo leaves it (its
 * estimate is aligned with the echo: a delay between the two would cost coherence
 * within the 16 ms window); the near talker is a second, unrelated talker. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coh.h"

#define BLOCKS 200 /* 2 s */
#define N      (BLOCKS * COH_BLOCK)

/* A talker's stand-in: noise through a one-pole low-pass, in syllables (200 ms on, 60
 * ms off), so that its spectrum and its level move as a voice's do. */
static void talk(float *x, uint32_t seed, double amp)
{
	double lp = 0;

	for (int i = 0; i < N; i++) {
		seed = seed * 1664525u + 1013904223u;
		lp = 0.7 * lp + 0.3 * ((double)(seed >> 16) / 32768.0 - 1.0);
		x[i] = (float)(i % 4160 < 3200 ? amp * lp : 0);
	}
}

static int16_t s16(double v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrint(v));
}

/* The share after 2 s: y the estimate, m = gain * (y with two short reflections:
 * the room's colour the filter has not learnt) + near. */
static float share(const float *y, double gain, const float *near)
{
	struct coh *c;
	int16_t yb[COH_BLOCK], mb[COH_BLOCK];
	float s = 0;

	assert_int_equal(coh_new(&c), 0);
	for (int k = 0; k < BLOCKS; k++) {
		for (int i = 0; i < COH_BLOCK; i++) {
			int t = k * COH_BLOCK + i;
			double echo = y[t] + (t >= 3 ? 0.4 * y[t - 3] : 0) -
				      (t >= 11 ? 0.2 * y[t - 11] : 0);

			yb[i] = s16(y[t]);
			mb[i] = s16(gain * echo + (near ? near[t] : 0));
		}
		s = coh_block(c, yb, mb);
		assert_true(s >= 0 && s <= 1.0001f);
	}
	coh_free(c);
	return s;
}

/* The far end alone: whether the filter took out most of the echo (the estimate as
 * loud as the echo) or half of it (the residual as loud as what it took), the
 * microphone is linear in the estimate. */
static void test_echo_alone(void **state)
{
	float *y = malloc(N * sizeof(*y));

	(void)state;
	assert_non_null(y);
	talk(y, 3, 6000);
	assert_true(share(y, 1.0, NULL) > 0.95f);
	assert_true(share(y, 2.0, NULL) > 0.95f);
	free(y);
}

/* A near talker 5 dB under the echo: the share falls to what is the echo's (about
 * 0.76), well under the canceller's threshold; as loud as the echo, about a half. */
static void test_double_talk(void **state)
{
	float *y = malloc(N * sizeof(*y)), *near = malloc(N * sizeof(*near));
	float under, equal;

	(void)state;
	assert_non_null(y);
	assert_non_null(near);
	talk(y, 3, 6000);
	talk(near, 77, 6000 * sqrt(1.2) * pow(10, -5 / 20.0)); /* the echo, -5 dB */
	under = share(y, 1.0, near);
	talk(near, 77, 6000 * sqrt(1.2));
	equal = share(y, 1.0, near);
	assert_true(under < 0.85f);
	assert_true(under > 0.6f);
	assert_true(equal < under);
	assert_true(equal > 0.35f && equal < 0.65f);
	free(y);
	free(near);
}

/* Nothing to weigh: a silent microphone gives 0; a microphone with no estimate at all
 * (the filter has learnt nothing) gives 0, all of it unexplained. */
static void test_silence(void **state)
{
	float *y = calloc(N, sizeof(*y)), *near = malloc(N * sizeof(*near));

	(void)state;
	assert_non_null(y);
	assert_non_null(near);
	assert_true(share(y, 1.0, NULL) == 0);
	talk(near, 77, 6000);
	assert_true(share(y, 1.0, near) == 0);
	free(y);
	free(near);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo_alone),
	    cmocka_unit_test(test_double_talk),
	    cmocka_unit_test(test_silence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
