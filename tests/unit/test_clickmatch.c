/* bench/clickdelay's matching of said clicks to heard ones (bench/clickmatch.c): a
 * delay longer than the clicks' spacing is measured as it is (it was folded into one
 * spacing shorter), a delay that drifts or jumps is followed, a lost click is a miss
 * and shifts nothing, and a recording where nothing is heard is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clickmatch.h"

#define MS(x)  ((long)(x)*48)
#define EVERY  MS(487) /* bench/clocked.sh's click spacing */
#define N      18
#define MAXDLY MS(5000)

static long said[N], heard[N], delay[N];

/* Said clicks every EVERY from 500 ms; heard ones at dly(k) after each. */
static void track(long (*dly)(int k))
{
	for (int k = 0; k < N; k++) {
		said[k] = MS(500) + k * EVERY;
		heard[k] = said[k] + dly(k);
	}
}

static long d600(int k)
{
	(void)k;
	return MS(600);
}

static long d100(int k)
{
	(void)k;
	return MS(100);
}

static long d1300(int k)
{
	(void)k;
	return MS(1300);
}

static void expect_all(long (*dly)(int k))
{
	assert_int_equal(clickmatch(said, N, heard, N, MAXDLY, delay), N);
	for (int k = 0; k < N; k++)
		assert_int_equal(delay[k], dly(k));
}

static void test_long_delay_not_folded(void **state)
{
	(void)state;
	track(d600); /* over one spacing: was reported as 113 ms */
	expect_all(d600);
	track(d1300); /* over two */
	expect_all(d1300);
	track(d100);
	expect_all(d100);
}

/* a queue that grows by 30 ms a click to 600 ms, then a 200 ms jump down */
static long drift(int k)
{
	long d = MS(60) + MS(30) * k;

	if (d > MS(600))
		d = MS(600);
	return k == N - 1 ? d - MS(200) : d;
}

static void test_drift_and_jump_followed(void **state)
{
	(void)state;
	track(drift);
	expect_all(drift);
}

static void test_lost_click_is_a_miss(void **state)
{
	(void)state;
	track(d600);
	/* click 5 never reaches the speaker */
	for (int k = 5; k < N - 1; k++)
		heard[k] = heard[k + 1];
	assert_int_equal(clickmatch(said, N, heard, N - 1, MAXDLY, delay), N - 1);
	for (int k = 0; k < N; k++)
		assert_int_equal(delay[k], k == 5 ? -1 : MS(600));
}

static void test_nothing_heard_refused(void **state)
{
	long early[1] = {MS(100)}; /* a tone before the first click: not a click */

	(void)state;
	track(d600);
	assert_int_equal(clickmatch(said, N, heard, 0, MAXDLY, delay), -ERANGE);
	assert_int_equal(clickmatch(said, N, early, 1, MAXDLY, delay), -ERANGE);
	/* heard, but later than max after the first said click */
	assert_int_equal(clickmatch(said, N, heard, N, MS(599), delay), -ERANGE);
	assert_int_equal(clickmatch(said, 0, heard, N, MAXDLY, delay), 0);
}

/* A listener stalled at 3 s (click 5 said at 2.935 s, click 6 at 3.422 s): 50 ms before,
 * 250 ms for the click said during the stall, 120 for the next, then 55 and 52 (within
 * 10 ms of 50): back 0.909 s after the stall (click 7, said at 3.909 s). A lone click
 * back in line before another late one does not count; a delay that stays up never
 * comes back, one that comes back lower is back; no click heard before the stall leaves
 * nothing to come back to. */
static long stalled(int k)
{
	static const long d[N] = {50, 50, 49, 51, 50, 250, 120, 55, 52,
				  50, 50, 50, 50, 50, 50,  50,	50, 50};

	return MS(d[k]);
}

static void test_recovery_after_stall(void **state)
{
	long stall = MS(3000);

	(void)state;
	track(stalled);
	assert_int_equal(clickmatch(said, N, heard, N, MAXDLY, delay), N);
	assert_int_equal(clickrecovery(said, delay, N, stall, MS(10)), said[7] - stall);
	delay[8] = MS(90); /* 7 alone in line: 9 and 10 are */
	assert_int_equal(clickrecovery(said, delay, N, stall, MS(10)), said[9] - stall);
	delay[9] = -1; /* a miss is skipped over: 10 follows 9 */
	assert_int_equal(clickrecovery(said, delay, N, stall, MS(10)), said[10] - stall);
	for (int k = 6; k < N; k++)
		delay[k] = MS(30); /* lower than before: back at once */
	assert_int_equal(clickrecovery(said, delay, N, stall, MS(10)), said[6] - stall);
	for (int k = 6; k < N; k++)
		delay[k] = MS(80);
	assert_int_equal(clickrecovery(said, delay, N, stall, MS(10)), -EAGAIN);
	assert_int_equal(clickrecovery(said, delay, N, MS(100), MS(10)), -EINVAL);
}

/* Clicks put at known places, one channel of interleaved stereo with a click twice
 * as loud on the other: each found at its first sample over 30 % of its channel's
 * loudest (a few samples into the burst: the tone's rise), once, in order; a silent
 * channel has none. */
static void test_onsets(void **state)
{
	static int16_t lr[2 * 48000], mono[48000];
	static const size_t at[] = {4800, 14400, 30000};
	long on[8];
	size_t n;

	(void)state;
	for (size_t k = 0; k < 3; k++)
		click_put(mono, 48000, at[k]);
	for (size_t i = 0; i < 48000; i++) {
		lr[2 * i] = mono[i];
		lr[2 * i + 1] = (int16_t)(i == 20000 ? 32000 : 0);
	}
	n = click_onsets(lr, 48000, 2, 4800, on, 8);
	assert_int_equal(n, 3);
	for (size_t k = 0; k < 3; k++)
		assert_in_range(on[k], (long)at[k], (long)at[k] + 8);
	assert_int_equal(click_onsets(lr + 1, 48000, 2, 4800, on, 8), 1);
	assert_int_equal(on[0], 20000);
	memset(mono, 0, sizeof(mono));
	assert_int_equal(click_onsets(mono, 48000, 1, 4800, on, 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_long_delay_not_folded),
	    cmocka_unit_test(test_drift_and_jump_followed),
	    cmocka_unit_test(test_lost_click_is_a_miss),
	    cmocka_unit_test(test_nothing_heard_refused),
	    cmocka_unit_test(test_recovery_after_stall),
	    cmocka_unit_test(test_onsets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
