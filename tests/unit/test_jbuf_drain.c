/* The jitter buffer's drain within a talk spurt, and what it leaves under a packet for
 * the listener to cut: queued voice, stalls of the listener, a talker's hiccups, an
 * overflow; driven by the time given (jbuf_drive.h), no clock, no sleeping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jbuf_drive.h"

/* A smooth talker (pkt_ms packets arriving every pkt_ms, from `from` on) heard by a
 * listener that takes a piece every pkt_ms, 5 ms after each arrival, except while
 * `gap_from` <= t < `gap_to` (nothing taken: playback not started yet, or the listener
 * stalled); `burst` makes the packets of that gap arrive together at its end (a stalled
 * listener reads them all at once). Returns the arrival-to-playout delay of the frame
 * played at `until`. */
static unsigned smooth_ms(unsigned pkt_ms, uint64_t from, uint64_t until,
			  uint64_t gap_from, uint64_t gap_to, bool burst,
			  struct jbuf_stats *st)
{
	for (uint64_t t = from; t <= until; t += pkt_ms) {
		uint16_t k = (uint16_t)((t - from) / pkt_ms);
		bool in_gap = t >= gap_from && t < gap_to;

		if (!(burst && in_gap))
			put_ms(jb, k, pkt_ms, t);
		if (burst && t + pkt_ms >= gap_to && in_gap) /* the gap's, at once */
			for (uint64_t u = gap_from; u <= t; u += pkt_ms)
				put_ms(jb, (uint16_t)((u - from) / pkt_ms), pkt_ms,
				       gap_to);
		if (!in_gap)
			get(jb, t + 5);
	}
	jbuf_get_stats(jb, st);
	return st->delay_ms;
}

static unsigned smooth(uint64_t from, uint64_t until, uint64_t gap_from, uint64_t gap_to,
		       bool burst, struct jbuf_stats *st)
{
	return smooth_ms(20, from, until, gap_from, gap_to, burst, st);
}

/* Voice queued before the listener plays (its capture not started yet, or a slow
 * start): 300 ms waiting when playout begins. The queue comes down to what a listener
 * that played from the start holds, by dropping packets while it is over the target,
 * instead of staying 300 ms late for the whole spurt. */
static void test_queue_over_target_drains(void **state)
{
	struct jbuf_stats clean, st;
	unsigned d0, d;

	(void)state;
	d0 = smooth(1000, 4000, 0, 0, false, &clean);
	jbuf_free(jb);
	assert_int_equal(jbuf_new(&jb), 0);
	d = smooth(1000, 4000, 1000, 1300, false, &st);
	print_message("played from the start: delay %u ms; 300 ms queued first: %u ms "
		      "after 2.7 s, %llu dropped\n",
		      d0, d, (unsigned long long)st.dropped);
	assert_int_equal(clean.dropped, 0);
	assert_true(st.dropped >= 300 / 20 - 2);
	assert_true(d <= d0 + JBUF_SLACK_MS);
	assert_true(st.frames + st.dropped >= clean.frames);
}

/* The listener stalls 200 ms and then reads the packets that piled up at once: the
 * burst widens the transits' spread, so the target rises, but only for JBUF_WINDOW_MS;
 * then the queue drains. 2 s after the stall the delay is back within 10 ms of a run
 * without it. And at the next talk spurt, after a silence, playout starts at the
 * target, whatever the last spurt held. */
static void test_stall_leaves_no_delay(void **state)
{
	struct jbuf_stats clean, st;
	unsigned d0, d;
	uint8_t p[2] = {0, 0};

	(void)state;
	d0 = smooth(1000, 5000, 0, 0, false, &clean);
	jbuf_free(jb);
	assert_int_equal(jbuf_new(&jb), 0);
	d = smooth(1000, 4800, 2800, 3000, true, &st);
	print_message(
	    "no stall: delay %u ms; 2 s after a 200 ms stall: %u ms (target %u, "
	    "%llu dropped)\n",
	    d0, d, st.target_ms, (unsigned long long)st.dropped);
	assert_true(st.dropped > 0);
	assert_true(d <= d0 + 10);
	/* a new spurt 600 ms later: its first packet plays at once (target 0) */
	assert_int_equal(put(jb, 1, 400, 400 * 960u, true, p, sizeof(p), 5400),
			 JBUF_START);
	assert_int_equal(get(jb, 5401), JBUF_FRAME);
	jbuf_get_stats(jb, &st);
	assert_true(st.delay_ms <= d0 + 1);
}

/* The same stall heard in 10 ms packets, a 10 ms box's: 1.2 s after it the delay is
 * back within 10 ms of a run without it: the transit window (1 s, or 100 packets)
 * forgets the burst, and the drain follows the target down as fast, in time, as with
 * 20 ms packets (JBUF_DRAIN_MAX_MS; two packets per check left 35 ms then). */
static void test_stall_10ms_packets(void **state)
{
	struct jbuf_stats clean, st;
	unsigned d0, d;

	(void)state;
	d0 = smooth_ms(10, 1000, 4200, 0, 0, false, &clean);
	jbuf_free(jb);
	assert_int_equal(jbuf_new(&jb), 0);
	d = smooth_ms(10, 1000, 4200, 2800, 3000, true, &st);
	print_message("10 ms packets: no stall: delay %u ms; 1.2 s after a 200 ms stall: "
		      "%u ms (%llu dropped)\n",
		      d0, d, (unsigned long long)st.dropped);
	assert_true(st.dropped > 0);
	assert_true(d <= d0 + 10);
}

/* A talker that stalls every 700 ms, 20, 40, 60, 80 ms in turn (its scheduling, or the
 * network: what was held arrives at once), then sends smoothly: a listener taking a
 * piece every 20 ms conceals through each stall, and each time the buffer grows for
 * what comes late. Once the stalls stop (and the window has forgotten them) the delay
 * comes back to a clean run's: the buffer does not keep what its stalls once built for
 * the rest of the spurt (it did: a 2-minute spurt at 10 ms frames climbed to 105 ms). */
static unsigned hiccups(uint64_t until, uint64_t hiccups_until, struct jbuf_stats *st)
{
	uint8_t p[2] = {0, 0};

	for (uint64_t t = 1000; t <= until; t++) {
		for (uint64_t k = t > 1100 ? (t - 1100) / 20 : 0; k <= (t - 1000) / 20;
		     k++) {
			uint64_t sent = 1000 + 20 * k, h = (sent - 1000) % 700,
				 arrive = sent;

			uint64_t len = 20 + 20 * ((sent - 1000) / 700 % 4);

			if (sent < hiccups_until && sent >= 1700 && h < len)
				arrive = sent - h + len;
			if (arrive == t)
				put(jb, 1, (uint16_t)k, (uint32_t)k * 960u, k == 0, p,
				    sizeof(p), t);
		}
		if ((t - 1000) % 20 == 5)
			get(jb, t);
	}
	jbuf_get_stats(jb, st);
	return st->delay_ms;
}

static void test_stall_lead_does_not_stay(void **state)
{
	struct jbuf_stats clean, st, mid;
	unsigned d0, d;

	(void)state;
	d0 = hiccups(12000, 0, &clean);
	jbuf_free(jb);
	assert_int_equal(jbuf_new(&jb), 0);
	hiccups(6000, 6000, &mid);
	jbuf_free(jb);
	assert_int_equal(jbuf_new(&jb), 0);
	d = hiccups(12000, 6000, &st);
	print_message(
	    "smooth: delay %u ms; through the stalls: up to %u ms (%llu stalls); "
	    "6 s after the last: %u ms (target %u, %llu dropped)\n",
	    d0, mid.max_delay_ms, (unsigned long long)mid.stalls, d, st.target_ms,
	    (unsigned long long)st.dropped);
	assert_true(mid.stalls >= 2); /* the buffer did grow for them */
	assert_true(mid.max_delay_ms >= d0 + 40);
	assert_true(d <= d0 + 10);
}

/* A listener that plays every packet 17 ms after it arrives on a clean network (its
 * phase to its packets, or a lead a concealment left): 12 ms beyond the target (0)
 * and the slack, under a packet, so no packet is dropped; it is offered to be cut from
 * playout once two checks in a row found it (not after the first: a spurt's first
 * packets wait longer than the rest), is taken off by what was cut, and is gone as
 * soon as a packet goes missing. */
static void test_excess_under_a_packet(void **state)
{
	struct jbuf_stats st;
	uint64_t t = 1000;
	uint16_t k = 0;

	(void)state;
	for (; t < 1000 + JBUF_DRAIN_MS + 20; t += 20, k++) {
		put_ms(jb, k, 20, t);
		get(jb, t + 17);
	}
	assert_int_equal(jbuf_excess_ms(jb), 0); /* one check so far */
	for (; t < 1500; t += 20, k++) {
		put_ms(jb, k, 20, t);
		get(jb, t + 17);
	}
	assert_int_equal(jbuf_excess_ms(jb), 17 - JBUF_SLACK_MS);
	jbuf_cut(jb, 10);
	assert_int_equal(jbuf_excess_ms(jb), 17 - JBUF_SLACK_MS - 10);
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.cuts, 1);
	assert_int_equal(st.cut_ms, 10);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(get(jb, t + 17), JBUF_PLC); /* the next is not here */
	assert_int_equal(jbuf_excess_ms(jb), 0);
}

/* 40 ms queued before playout starts: 35 ms beyond need is a packet and 15 ms; the
 * packet is dropped, and only the 15 ms left under a packet are offered to be cut. */
static void test_excess_after_a_drop(void **state)
{
	struct jbuf_stats st;
	uint64_t t = 1000;
	uint16_t k = 0;

	(void)state;
	for (; t < 1400; t += 20, k++) {
		put_ms(jb, k, 20, t);
		if (t >= 1040)
			get(jb, t);
	}
	jbuf_get_stats(jb, &st);
	print_message("dropped %llu, excess %u ms\n", (unsigned long long)st.dropped,
		      jbuf_excess_ms(jb));
	assert_int_equal(st.dropped, 1);
	assert_int_equal(jbuf_excess_ms(jb), 40 - 20 - JBUF_SLACK_MS);
}

/* A listener whose playback stalls for longer than the buffer holds (JBUF_SLOTS
 * packets): the packet that does not fit starts afresh, and what was queued is counted
 * as dropped, so the exit line accounts for every packet received. */
static void test_overflow_counted(void **state)
{
	uint8_t p[2] = {0, 0};
	struct jbuf_stats st;

	(void)state;
	for (uint16_t k = 0; k < JBUF_SLOTS + 1; k++)
		put(jb, 1, k, k * 960u, k == 0, p, sizeof(p), 1000 + 20u * k);
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.spurts, 2);
	assert_int_equal(st.dropped, JBUF_SLOTS);
	assert_int_equal(get(jb, 1000 + 20u * JBUF_SLOTS), JBUF_FRAME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    JB_TEST(test_queue_over_target_drains), JB_TEST(test_stall_leaves_no_delay),
	    JB_TEST(test_stall_lead_does_not_stay), JB_TEST(test_stall_10ms_packets),
	    JB_TEST(test_overflow_counted),	    JB_TEST(test_excess_under_a_packet),
	    JB_TEST(test_excess_after_a_drop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
