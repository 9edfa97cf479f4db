#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ic_limits.h"
#include "rate.h"

static void test_burst_then_refill(void **state)
{
	struct rate r;

	(void)state;
	rate_init(&r, 0);
	for (int i = 0; i < IC_RATE_BURST; i++)
		assert_int_equal(rate_take(&r, 0), RATE_OK);
	assert_int_equal(rate_take(&r, 0), RATE_DROP_NOTIFY);
	assert_int_equal(rate_take(&r, 50), RATE_DROP); /* half a token */
	assert_int_equal(rate_take(&r, 150), RATE_OK);	/* 1.5 tokens came back, 1 used */
	assert_int_equal(rate_take(&r, 150), RATE_DROP);
	/* ERROR FLOOD at most once a second */
	assert_int_equal(rate_take(&r, 999), RATE_OK); /* refill ok */
	/* long pause: the bucket is full again, never more */
	rate_init(&r, 0);
	for (int i = 0; i < IC_RATE_BURST; i++)
		rate_take(&r, 0);
	for (int i = 0; i < IC_RATE_BURST; i++)
		assert_int_equal(rate_take(&r, 100000), RATE_OK);
	assert_int_equal(rate_take(&r, 100000), RATE_DROP_NOTIFY);
}

static void test_notify_once_a_second(void **state)
{
	struct rate r;
	int notes = 0;

	(void)state;
	rate_init(&r, 0);
	for (int i = 0; i < IC_RATE_BURST; i++)
		rate_take(&r, 0);
	/* 3 seconds of 1 line per 1 ms: each second 10 pass, one notify */
	for (uint64_t t = 0; t < 3000; t++) {
		enum rate_res res = rate_take(&r, t);

		if (res == RATE_DROP_NOTIFY)
			notes++;
		if (res == RATE_KICK)
			break;
	}
	assert_true(notes >= 1 && notes <= 3);
}

static void test_kick_after_100_drops(void **state)
{
	struct rate r;
	int drops = 0;
	enum rate_res res = RATE_OK;

	(void)state;
	rate_init(&r, 0);
	for (int i = 0; i < IC_RATE_BURST; i++)
		rate_take(&r, 0);
	while ((res = rate_take(&r, 0)) != RATE_KICK)
		drops++;
	assert_int_equal(drops, IC_FLOOD_DROP_MAX);
	/* drops spread out over more than the window do not add up */
	rate_init(&r, 0);
	for (int i = 0; i < IC_RATE_BURST; i++)
		rate_take(&r, 0);
	for (int i = 0; i < 90; i++)
		assert_int_not_equal(rate_take(&r, 0), RATE_KICK);
	for (int i = 0; i < IC_RATE_BURST + 90; i++) /* window restarts at 10 s */
		assert_int_not_equal(rate_take(&r, IC_FLOOD_WINDOW_MS + 1), RATE_KICK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_refill),
	    cmocka_unit_test(test_notify_once_a_second),
	    cmocka_unit_test(test_kick_after_100_drops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
