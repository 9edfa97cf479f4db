/* The jitter buffer driven by tables of {time, put seq/ts/marker} and {time, expected
 * output}: no sockets, no clock, no sleeping. Payloads carry their sequence number, so
 * the test sees exactly which packet each output used. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jbuf_drive.h"

enum { PUT, GET };

struct ev {
	int kind;
	uint64_t t;
	uint16_t seq;	/* PUT: the packet; GET: the packet expected (FRAME/FEC) */
	int out_or_res; /* PUT: expected jbuf_put_res; GET: expected jbuf_out */
	bool marker;
	uint32_t ssrc; /* 0: 1 */
	uint32_t ts;   /* 0: seq * 960 */
	unsigned
	    samples; /* PUT: the packet's duration; GET: the duration expected (0: 960) */
};

static void run(struct jbuf *j, const struct ev *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i].kind == PUT) {
			uint8_t p[2] = {(uint8_t)(e[i].seq >> 8), (uint8_t)e[i].seq};
			struct jbuf_pkt pk = {e[i].ssrc ? e[i].ssrc : 1,
					      e[i].seq,
					      e[i].ts ? e[i].ts
						      : (uint32_t)e[i].seq * 960u,
					      e[i].samples ? e[i].samples : 960,
					      e[i].marker,
					      p,
					      2};
			int r = jbuf_put(j, &pk, e[i].t);

			if (r != e[i].out_or_res)
				fail_msg("event %zu: put %u gave %d, expected %d", i,
					 e[i].seq, r, e[i].out_or_res);
		} else {
			struct jbuf_out_frame f = {NULL, 0, 0};
			int o = jbuf_get(j, e[i].t, &f);
			const uint8_t *d = f.data;

			if (o != e[i].out_or_res)
				fail_msg("event %zu: get at %llu gave %d, expected %d", i,
					 (unsigned long long)e[i].t, o, e[i].out_or_res);
			if (o != JBUF_IDLE &&
			    f.samples != (e[i].samples ? e[i].samples : 960))
				fail_msg("event %zu: %u samples to play, expected %u", i,
					 f.samples, e[i].samples ? e[i].samples : 960);
			if (o == JBUF_FRAME || o == JBUF_FEC) {
				assert_int_equal(f.len, 2);
				if (((d[0] << 8) | d[1]) != e[i].seq)
					fail_msg("event %zu: got packet %u, expected %u",
						 i, (d[0] << 8) | d[1], e[i].seq);
			}
		}
	}
}

#define P(t, s, r)                                                                       \
	{                                                                                \
		PUT, t, s, r, false, 0, 0, 0                                             \
	}
#define PM(t, s, r)                                                                      \
	{                                                                                \
		PUT, t, s, r, true, 0, 0, 0                                              \
	}
#define G(t, o, s)                                                                       \
	{                                                                                \
		GET, t, s, o, false, 0, 0, 0                                             \
	}

static void test_in_order_clean(void **state)
{
	/* packets every 20 ms; the playback clock ticks 5 ms after each arrival */
	static const struct ev e[] = {
	    PM(0, 100, JBUF_START), G(5, JBUF_FRAME, 100),  P(20, 101, JBUF_OK),
	    G(25, JBUF_FRAME, 101), P(40, 102, JBUF_OK),    G(45, JBUF_FRAME, 102),
	    P(60, 103, JBUF_OK),    G(65, JBUF_FRAME, 103), G(85, JBUF_PLC, 0),
	    G(105, JBUF_PLC, 0),    G(125, JBUF_IDLE, 0),   G(145, JBUF_IDLE, 0),
	};
	struct jbuf_stats st;

	(void)state;
	run(jb, e, sizeof(e) / sizeof(e[0]));
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.frames, 4);
	assert_int_equal(st.plc, 2); /* the spurt's tail, then idle */
	assert_int_equal(st.target_ms, 0);
	assert_true(st.max_delay_ms <= 20); /* at most a frame beyond arrival */
}

static void test_reorder_dup_late(void **state)
{
	static const struct ev e[] = {
	    PM(0, 1, JBUF_START),
	    P(1, 3, JBUF_OK),
	    P(2, 2, JBUF_OK), /* 1 3 2 */
	    P(3, 2, JBUF_DUP),
	    G(5, JBUF_FRAME, 1),
	    G(25, JBUF_FRAME, 2),
	    G(45, JBUF_FRAME, 3),
	    P(46, 4, JBUF_OK),
	    G(65, JBUF_FRAME, 4),
	    P(66, 4,
	      JBUF_LATE), /* a repeat of the packet just played: its frame is gone */
	    /* 5 is late: the first miss conceals without moving on (the buffer grows by a
	     * frame), so 5 is on time after all */
	    G(85, JBUF_PLC, 0),
	    P(90, 5, JBUF_OK),
	    P(91, 6, JBUF_OK),
	    G(105, JBUF_FRAME, 5),
	    G(125, JBUF_FRAME, 6),
	};
	struct jbuf_stats st;

	(void)state;
	run(jb, e, sizeof(e) / sizeof(e[0]));
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.dups, 1);
	assert_int_equal(st.stalls, 1);
}

static void test_loss_fec_and_plc(void **state)
{
	static const struct ev e[] = {
	    PM(0, 10, JBUF_START),
	    G(5, JBUF_FRAME, 10),
	    P(20, 11, JBUF_OK),
	    G(25, JBUF_FRAME, 11),
	    /* 12 is lost, 13 is here in time: FEC for 12 from 13, then 13 itself */
	    P(60, 13, JBUF_OK),
	    G(45, JBUF_FEC, 13),
	    G(65, JBUF_FRAME, 13),
	    /* 14 and 15 lost, nothing after them yet: conceal and hold (a frame of
	     * delay); 16 arrives; conceal 14; FEC for 15 from 16; then 16 */
	    G(85, JBUF_PLC, 0),
	    P(100, 16, JBUF_OK),
	    G(105, JBUF_PLC, 0),
	    G(125, JBUF_FEC, 16),
	    G(145, JBUF_FRAME, 16),
	};
	struct jbuf_stats st;

	(void)state;
	run(jb, e, sizeof(e) / sizeof(e[0]));
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.fec, 2);
	assert_int_equal(st.plc, 2);
	assert_int_equal(st.stalls, 1);
	assert_int_equal(st.frames, 4);
}

static void test_wrap(void **state)
{
	/* sequence numbers and timestamps both wrap */
	static const struct ev e[] = {
	    {PUT, 0, 65534, JBUF_START, true, 0, 0xfffff100u, 0},
	    {GET, 5, 65534, JBUF_FRAME, false, 0, 0, 0},
	    {PUT, 20, 65535, JBUF_OK, false, 0, 0xfffff100u + 960, 0},
	    {GET, 25, 65535, JBUF_FRAME, false, 0, 0, 0},
	    {PUT, 40, 0, JBUF_OK, false, 0, 0xfffff100u + 2 * 960, 0},
	    {GET, 45, 0, JBUF_FRAME, false, 0, 0, 0},
	    {PUT, 60, 1, JBUF_OK, false, 0, 0xfffff100u + 3 * 960, 0},
	    {GET, 65, 1, JBUF_FRAME, false, 0, 0, 0},
	};
	struct jbuf_stats st;

	(void)state;
	run(jb, e, sizeof(e) / sizeof(e[0]));
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.target_ms, 0); /* no jitter seen across the wrap */
	assert_int_equal(st.plc + st.fec + st.late, 0);
}

static void test_new_spurt_and_ssrc_reset(void **state)
{
	static const struct ev e[] = {
	    PM(0, 500, JBUF_START),
	    G(5, JBUF_FRAME, 500),
	    P(20, 501, JBUF_OK),
	    /* a new spurt (marker, ahead) drops what was left of the old one */
	    PM(30, 900, JBUF_START),
	    G(45, JBUF_FRAME, 900),
	    /* another SSRC on the same buffer: reset */
	    {PUT, 50, 7, JBUF_START, false, 2, 0, 0},
	    G(65, JBUF_FRAME, 7),
	    /* a packet after a long silence with no marker starts a spurt too */
	    G(85, JBUF_PLC, 0),
	    G(105, JBUF_PLC, 0),
	    G(125, JBUF_IDLE, 0),
	    {PUT, 2000, 60, JBUF_START, false, 2, 0, 0},
	    G(2005, JBUF_FRAME, 60),
	};
	struct jbuf_stats st;

	(void)state;
	run(jb, e, sizeof(e) / sizeof(e[0]));
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.spurts, 4);
}

static void test_marker_reordered_within_spurt(void **state)
{
	/* the spurt's second packet arrives first; the marked first one follows */
	static const struct ev e[] = {
	    P(0, 41, JBUF_START),
	    PM(2, 40, JBUF_OK),
	    G(5, JBUF_FRAME, 40),
	    G(25, JBUF_FRAME, 41),
	};

	(void)state;
	run(jb, e, sizeof(e) / sizeof(e[0]));
}

/* Uniform jitter of 0..40 ms (a fixed pseudo-random trace) in three 12-second spurts:
 * the first spurt starts with no history (target 0) and meets late packets; from then on
 * the target covers the jitter and under 1 % of frames are late; after a calm stretch the
 * target shrinks back to 0. */
static void run_spurt(const uint64_t *arrivals, unsigned n, uint64_t base, uint16_t seq0)
{
	for (uint64_t t = base; t < base + n * 20 + 100; t++) {
		for (unsigned i = 0; i < n;
		     i++) { /* in order of arrival, not of sequence */
			if (arrivals[i] + base == t) {
				uint8_t p[2] = {0, 1};

				put(jb, 1, (uint16_t)(seq0 + i),
				    (uint32_t)(seq0 + i) * 960u, i == 0, p, 2, t);
			}
		}
		if (t % 20 == 5) {

			get(jb, t);
		}
	}
}

/* n arrivals 20 ms apart, each 0-40 ms late (a fixed pseudo-random trace), the first
 * on time */
static void jitter_trace(uint64_t *arrivals, unsigned n, uint32_t rng)
{
	for (unsigned i = 0; i < n; i++) {
		rng = rng * 1103515245u + 12345u;
		arrivals[i] = (uint64_t)i * 20 + (i ? (rng >> 16) % 41 : 0);
	}
}

static void test_target_grows_and_shrinks(void **state)
{
	enum { N = 600 };
	static uint64_t arrivals[N];
	struct jbuf_stats s1, s3;

	(void)state;
	jitter_trace(arrivals, N, 12345);
	run_spurt(arrivals, N, 0, 0);
	jbuf_get_stats(jb, &s1);
	run_spurt(arrivals, N, 20000, 1000);
	run_spurt(arrivals, N, 40000, 2000);
	jbuf_get_stats(jb, &s3);
	print_message(
	    "jitter 0-40 ms: first spurt %llu late of %llu; next two %llu late of %llu; "
	    "target %u ms, max delay %u ms\n",
	    (unsigned long long)s1.late, (unsigned long long)(s1.frames + s1.late),
	    (unsigned long long)(s3.late - s1.late),
	    (unsigned long long)(s3.frames - s1.frames), s3.target_ms, s3.max_delay_ms);
	assert_true(s1.late > 0); /* no history yet: it had to learn */
	assert_true(s3.target_ms >= 30 && s3.target_ms <= 60);
	assert_true((s3.late - s1.late) * 100 < (s3.frames - s1.frames)); /* under 1 % */
	assert_true(s3.max_delay_ms <= 60); /* the jitter plus the tick's phase */
	/* a calm stretch: 3 s of packets exactly on time: the target returns to 0 */
	for (int i = 0; i < 150; i++) {
		uint8_t p[2] = {0, 1};
		uint64_t t = 100000 + (uint64_t)i * 20;

		put(jb, 1, (uint16_t)(3000 + i), (uint32_t)(3000 + i) * 960u, i == 0, p,
		    2, t);
		get(jb, t + 5);
	}
	jbuf_get_stats(jb, &s3);
	assert_int_equal(s3.target_ms, 0);
}

/* The same jitter, but each later spurt's first packet is the slowest (40 ms): playout
 * starts from when it would have arrived at the quickest transit seen, so its delay does
 * not carry over to the whole spurt (the timestamps run on through the silence). */
static void test_late_first_packet(void **state)
{
	enum { N = 300 };
	static uint64_t arrivals[N];
	struct jbuf_stats s1, s2;

	(void)state;
	jitter_trace(arrivals, N, 777);
	run_spurt(arrivals, N, 0, 0); /* learns the jitter */
	jbuf_get_stats(jb, &s1);
	assert_true(s1.max_delay_ms <= 60);
	arrivals[0] = 40;
	/* frame 1000 is sent 20 s after frame 0: timestamps 1000 * 960 */
	run_spurt(arrivals, N, 20000, 1000);
	run_spurt(arrivals, N, 40000, 2000);
	jbuf_get_stats(jb, &s2);
	print_message(
	    "late first packets: target %u ms, max delay %u ms, %llu late of %llu\n",
	    s2.target_ms, s2.max_delay_ms, (unsigned long long)(s2.late - s1.late),
	    (unsigned long long)(s2.frames - s1.frames));
	/* from arrival: the quickest packets wait the target plus the tick's phase; had
	 * playout started 40 ms after the late first packet, they would wait 40 ms more
	 */
	assert_true(s2.target_ms >= 30);
	assert_true(s2.max_delay_ms <= 60);
	assert_true((s2.late - s1.late) * 100 < (s2.frames - s1.frames));
}

static void test_bad_input(void **state)
{
	uint8_t big[JBUF_PKT_MAX + 1] = {0};

	(void)state;
	assert_int_equal(put(jb, 1, 1, 960, true, big, 0, 0), JBUF_BAD);
	assert_int_equal(put(jb, 1, 1, 960, true, big, sizeof(big), 0), JBUF_BAD);
	/* a duration no Opus packet has, or longer than a talker may choose */
	assert_int_equal(jbuf_put(jb, &(struct jbuf_pkt){1, 1, 960, 60, true, big, 2}, 0),
			 JBUF_BAD);
	assert_int_equal(
	    jbuf_put(jb, &(struct jbuf_pkt){1, 1, 960, 5760, true, big, 2}, 0), JBUF_BAD);
	/* a far jump (another stream reusing the ssrc) restarts rather than waits */
	assert_int_equal(put(jb, 1, 1, 960, true, big, 2, 0), JBUF_START);
	assert_int_equal(put(jb, 1, 30000, 960, false, big, 2, 1), JBUF_START);
}

/* Hostile timestamps half the 32-bit range apart in one spurt (found by fuzzing: the
 * transit difference overflowed an int). The delay it notes stays bounded. */
static void test_hostile_timestamps(void **state)
{
	const uint8_t p[2] = {1, 2};
	struct jbuf_stats st;

	(void)state;
	assert_int_equal(put(jb, 1, 1, 0x7f000000u, true, p, 2, 0), JBUF_START);
	assert_int_equal(put(jb, 1, 2, 0x80f00000u, false, p, 2, 20), JBUF_OK);
	assert_int_equal(put(jb, 1, 3, 0x00000000u, false, p, 2, 40), JBUF_OK);
	get(jb, 60);
	jbuf_get_stats(jb, &st);
	assert_true(st.target_ms <= JBUF_MAX_MS);
}

/* A talker whose transits (arrival minus timestamp, in samples) lie around 2^31: a few
 * ms of jitter must stay a few ms, not wrap from INT32_MAX to INT32_MIN and make the
 * target the 200 ms maximum. */
static void test_transit_near_2_31(void **state)
{
	struct jbuf_stats st;
	uint8_t p[2] = {0, 0};
	uint64_t t = 100000;

	(void)state;
	for (uint16_t k = 0; k < 60; k++) {
		uint64_t at = t + 20u * k + (k % 2 ? 3 : 0); /* 0 or 3 ms late */
		/* transit = at*48 - ts = 2^31 - 48 + 0 or 144: both sides of 2^31 */
		uint32_t ts = (uint32_t)((t + 20u * k) * 48u) - 0x80000000u + 48u;

		put(jb, 1, k, ts, k == 0, p, sizeof(p), at);
		get(jb, at);
	}
	/* a new talk spurt after half a second of silence takes the window's spread */
	t += 20u * 60 + 500;
	put(jb, 1, 60, (uint32_t)(t * 48u) - 0x80000000u + 48u, true, p, sizeof(p), t);
	jbuf_get_stats(jb, &st);
	assert_true(st.target_ms >= 3 && st.target_ms <= 5);
}

/* A sender that marks every packet (ffmpeg does): a marked packet that continues the
 * sequence and the timestamps is no new spurt, and nothing buffered is dropped; after
 * a silence (the timestamp jumps) the marker starts a spurt again. */
static void test_marker_on_every_packet(void **state)
{
	static const struct ev e[] = {
	    PM(0, 10, JBUF_START),
	    G(5, JBUF_FRAME, 10),
	    PM(20, 11, JBUF_OK),
	    PM(21, 12, JBUF_OK), /* held while 11 is due */
	    G(25, JBUF_FRAME, 11),
	    G(45, JBUF_FRAME, 12),
	    PM(60, 13, JBUF_OK),
	    PM(61, 14, JBUF_OK),
	    G(65, JBUF_FRAME, 13),
	    G(85, JBUF_FRAME, 14),
	    /* the button released and pressed again: seq 15, a second later in time */
	    {PUT, 1100, 15, JBUF_START, true, 0, 15 * 960 + 48000, 0},
	    G(1105, JBUF_FRAME, 15),
	};
	struct jbuf_stats st;

	(void)state;
	run(jb, e, sizeof(e) / sizeof(e[0]));
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.spurts, 2);
	assert_int_equal(st.plc + st.fec + st.late, 0);
}

/* Packets of other durations than ours: each comes out with its own, a lost one with
 * the gap in timestamps to the next (the talker changed its frame size), and with
 * nothing after it the last packet's. The listener asks whenever it has played what it
 * decoded, so a 10 ms talker is asked for twice per 20 ms. */
static void test_durations(void **state)
{
	static const struct ev e[] = {
	    /* 10 ms packets */
	    {PUT, 0, 1, JBUF_START, true, 0, 480, 480},
	    {PUT, 10, 2, JBUF_OK, false, 0, 960, 480},
	    {GET, 11, 1, JBUF_FRAME, false, 0, 0, 480},
	    {GET, 11, 2, JBUF_FRAME, false, 0, 0, 480},
	    /* 3 is lost, 4 is 60 ms long: FEC for 3's 10 ms, then 4's 60 ms */
	    {PUT, 30, 4, JBUF_OK, false, 0, 1920, 2880},
	    {GET, 31, 4, JBUF_FEC, false, 0, 0, 480},
	    {GET, 31, 4, JBUF_FRAME, false, 0, 0, 2880},
	    /* 5 (60 ms) is lost, 6 is 20 ms: FEC for 5 lasts the 60 ms gap */
	    {PUT, 150, 6, JBUF_OK, false, 0, 1920 + 2 * 2880, 960},
	    {GET, 151, 6, JBUF_FEC, false, 0, 0, 2880},
	    {GET, 151, 6, JBUF_FRAME, false, 0, 0, 960},
	    /* 7 is late and nothing follows: conceal 20 ms (6's length), hold */
	    {GET, 171, 0, JBUF_PLC, false, 0, 0, 960},
	    {PUT, 175, 7, JBUF_OK, false, 0, 1920 + 2 * 2880 + 960, 960},
	    {GET, 191, 7, JBUF_FRAME, false, 0, 0, 960},
	};
	struct jbuf_stats st;

	(void)state;
	run(jb, e, sizeof(e) / sizeof(e[0]));
	jbuf_get_stats(jb, &st);
	assert_int_equal(st.frames, 5);
	assert_int_equal(st.fec, 2);
	assert_int_equal(st.stalls, 1);
}

/* The spurt's tail is timed, not counted: after a 60 ms talker's last packet two pieces
 * (120 ms) are concealed; after a 10 ms talker's, 40 ms (four pieces). */
static void test_tail_by_duration(void **state)
{
	static const struct ev e60[] = {
	    {PUT, 0, 1, JBUF_START, true, 0, 2880, 2880},
	    {GET, 1, 1, JBUF_FRAME, false, 0, 0, 2880},
	    {GET, 61, 0, JBUF_PLC, false, 0, 0, 2880},
	    {GET, 121, 0, JBUF_PLC, false, 0, 0, 2880},
	    {GET, 181, 0, JBUF_IDLE, false, 0, 0, 0},
	};
	static const struct ev e10[] = {
	    {PUT, 1000, 50, JBUF_START, true, 2, 48000, 480}, /* another talker */
	    {GET, 1001, 50, JBUF_FRAME, false, 0, 0, 480},
	    {GET, 1011, 0, JBUF_PLC, false, 0, 0, 480},
	    {GET, 1021, 0, JBUF_PLC, false, 0, 0, 480},
	    {GET, 1031, 0, JBUF_PLC, false, 0, 0, 480},
	    {GET, 1041, 0, JBUF_PLC, false, 0, 0, 480},
	    {GET, 1051, 0, JBUF_IDLE, false, 0, 0, 0},
	};

	(void)state;
	run(jb, e60, sizeof(e60) / sizeof(e60[0]));
	run(jb, e10, sizeof(e10) / sizeof(e10[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    JB_TEST(test_durations),
	    JB_TEST(test_tail_by_duration),
	    JB_TEST(test_marker_on_every_packet),
	    JB_TEST(test_transit_near_2_31),
	    JB_TEST(test_in_order_clean),
	    JB_TEST(test_reorder_dup_late),
	    JB_TEST(test_loss_fec_and_plc),
	    JB_TEST(test_wrap),
	    JB_TEST(test_new_spurt_and_ssrc_reset),
	    JB_TEST(test_marker_reordered_within_spurt),
	    JB_TEST(test_late_first_packet),
	    JB_TEST(test_target_grows_and_shrinks),
	    JB_TEST(test_bad_input),
	    JB_TEST(test_hostile_timestamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
