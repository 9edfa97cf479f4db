/* The echo canceller in a synthetic room (bench/room.c), driven as the client drives a
 * clocked card: capture read and cancelled with the delay the devices report, playback
 * topped up and given to the canceller as it is written. Every figure is compared with
 * the same seeded room in the same run (the microphone as captured, its echo and
 * near-talker parts alone, a run without the canceller or without the near talker);
 * the canceller's arithmetic is deterministic, so the thresholds hold on a busy
 * machine. The bench (bench_echo) prints the figures. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aec.h"
#include "room.h"

#define FRAME 960 /* 20 ms */

static void run(const struct room_cfg *rc, bool cancel, struct room_rec *r)
{
	assert_int_equal(room_run(rc, FRAME, cancel, r), 0);
}

/* The far end alone: without the canceller the echo goes back whole; with it, 25 dB
 * less within 3 s of the far talker starting (the speaker's queue and the room's delay
 * found through the devices' delays), and the next seconds stay there. */
static void test_far_alone(void **state)
{
	struct room_cfg rc;
	struct room_rec raw, r;

	(void)state;
	room_cfg_default(&rc, 1);
	rc.near_to = 0;
	run(&rc, false, &raw);
	run(&rc, true, &r);
	assert_true(room_erle(&raw, 0, 8000) < 0.5);
	assert_true(room_erle(&r, 3000, 8000) >= 30);
	assert_in_range(room_time_to(&r, 25, 0, 8000), 0, 3000);
	assert_in_range(room_time_to(&r, 15, 0, 8000), 0, 2000);
	assert_int_equal(r.st.reanchors, 1); /* one anchor, kept by counting */
	assert_int_equal(r.st.xruns, 0);
	room_rec_free(&raw);
	room_rec_free(&r);
}

/* A far talker whose new sounds the filter is slow to learn (seed 7): where it has not
 * learnt one yet, what it leaves is as loud against what it took out as a near talker
 * under the echo would be. The near-talk test tells the two apart by coherence, so the
 * suppressors take that residual off (by levels alone it held 21.7 dB). */
static void test_far_alone_slow(void **state)
{
	struct room_cfg rc;
	struct room_rec r;

	(void)state;
	room_cfg_default(&rc, 7);
	rc.near_to = 0;
	run(&rc, true, &r);
	assert_true(room_erle(&r, 3000, 8000) >= 25);
	room_rec_free(&r);
}

/* A 250 ms playback queue: found through the devices' own delays (the delay the
 * canceller measured is the queue's), and the echo cancelled as well as with a short
 * one. */
static void test_long_buffer(void **state)
{
	struct room_cfg rc;
	struct room_rec r;

	(void)state;
	room_cfg_default(&rc, 2);
	rc.near_to = 0;
	rc.play_ms = 250;
	run(&rc, true, &r);
	/* measured right after a read, before the top-up: the queue less a frame */
	assert_in_range(r.st.delay, 250 * 48 - 2 * FRAME, 250 * 48);
	assert_true(room_erle(&r, 3000, 8000) >= 25);
	room_rec_free(&r);
}

/* The echo 120 ms later than any device reports (a sound server, a long path): the
 * estimator finds it in the signals and moves the reference once, so the filter's tail
 * covers the room's reverberation again. */
static void test_hidden_delay(void **state)
{
	struct room_cfg rc;
	struct room_rec r;

	(void)state;
	room_cfg_default(&rc, 3);
	rc.near_to = 0;
	rc.hidden_ms = 120;
	run(&rc, true, &r);
	assert_int_equal(r.st.moves, 1);
	assert_true(room_erle(&r, 3000, 8000) >= 25);
	room_rec_free(&r);
}

/* Both talk: the near talker keeps his level within 3 dB (what the same room without
 * him leaves of the echo taken off), and the filter does not diverge. */
static void test_double_talk(void **state)
{
	struct room_cfg rc;
	struct room_rec echo, r;

	(void)state;
	room_cfg_default(&rc, 5); /* the seed where it lost most (3.4 dB at -15 dB) */
	rc.near_to = 0;
	run(&rc, true, &echo);
	rc.near_from = 4000;
	rc.near_to = 8000;
	run(&rc, true, &r);
	assert_true(room_near_level(&r, &echo, 4500, 8000) >= -3);
	assert_true(room_near_level(&r, &echo, 4500, 8000) <= 1);
	assert_true(room_erle(&r, 3000, 4000) >= 25);
	room_rec_free(&echo);
	room_rec_free(&r);
}

/* The near talker alone: within 1 dB of what the microphone heard; and with nobody
 * talking, nothing is added to the microphone's noise. */
static void test_near_alone_and_silence(void **state)
{
	struct room_cfg rc;
	struct room_rec r;

	(void)state;
	room_cfg_default(&rc, 5);
	rc.far_to = 0;
	run(&rc, true, &r);
	assert_true(room_near_level(&r, NULL, 500, 8000) >= -1);
	assert_true(room_near_level(&r, NULL, 500, 8000) <= 1);
	room_rec_free(&r);
	rc.near_to = 0;
	run(&rc, true, &r);
	assert_true(room_out_over_mic(&r, 500, 8000) <= 0.5);
	room_rec_free(&r);
}

/* The acoustic delay jumps by 40 ms (nothing the devices report shows it): the delay
 * estimator finds the echo 40 ms later in the signals and moves the reference, and the
 * filter learnt holds again within 2 s; the playback queue grows by 40 ms (a sound
 * server's): the measured delay moves, and the canceller aligns again. */
static void test_delay_jump(void **state)
{
	struct room_cfg rc;
	struct room_rec r;

	(void)state;
	room_cfg_default(&rc, 6);
	rc.near_to = 0;
	rc.seconds = 10;
	rc.jump_at_ms = 4000;
	rc.jump_ms = 40;
	run(&rc, true, &r);
	assert_true(room_erle(&r, 3000, 4000) >= 25);
	assert_true(room_erle(&r, 4000, 4500) < 10); /* it did jump */
	assert_int_equal(r.st.moves, 1);
	assert_int_equal(r.st.reanchors, 1);
	assert_in_range(room_time_to(&r, 15, 4000, 10000), 0, 2000);
	assert_true(room_erle(&r, 6000, 10000) >= 25);
	room_rec_free(&r);
	rc.jump_in_queue = true;
	run(&rc, true, &r);
	assert_int_equal(r.st.reanchors, 2);
	assert_in_range(room_time_to(&r, 15, 4000, 10000), 0, 2000);
	room_rec_free(&r);
}

/* A playback underrun loses the queue: counted, the alignment taken again, and the
 * echo cancelled again at once, within 3 dB of the same room without the underrun a
 * second later (the filter still fits the room; only the alignment moved). */
static void test_underrun(void **state)
{
	struct room_cfg rc;
	struct room_rec clean, r;

	(void)state;
	room_cfg_default(&rc, 7);
	rc.near_to = 0;
	rc.play_ms = 120;
	run(&rc, true, &clean);
	rc.underrun_at = 4000;
	run(&rc, true, &r);
	assert_int_equal(r.st.xruns, 1);
	assert_int_equal(r.st.reanchors, 2);
	/* 15 dB again within 2 s, as after a jump. From 4.5 s on, the clean run's 39
	 * dB outweighed the second after the underrun, whose 250 ms windows (19-29 dB)
	 * were each above what the canceller held there before its near-talk test by
	 * coherence (10-38 dB). */
	assert_in_range(room_time_to(&r, 15, 4000, 8000), 0, 2000);
	assert_true(room_erle(&r, 4500, 8000) >= 15);
	assert_true(room_erle(&r, 5000, 8000) >= room_erle(&clean, 5000, 8000) - 3);
	room_rec_free(&clean);
	room_rec_free(&r);
}

/* The capture device drops 30 ms unread (a loop that fell behind, caught up): counted
 * by the backend, the microphone's index moves on as much and the echo stays cancelled
 * with no new alignment; hidden (as the ALSA backend once did), the canceller sees the
 * echo drift, cancels nothing until the drift is measured and aligns again. */
static void test_capture_drop(void **state)
{
	struct room_cfg rc;
	struct room_rec hidden, r;

	(void)state;
	room_cfg_default(&rc, 1);
	rc.near_to = 0;
	rc.drop_at_ms = 4000;
	rc.drop_ms = 30;
	rc.drop_hidden = true;
	run(&rc, true, &hidden);
	assert_int_equal(hidden.st.drops, 0);
	assert_int_equal(hidden.st.reanchors, 2);
	rc.drop_hidden = false;
	run(&rc, true, &r);
	assert_int_equal(r.st.drops, 1);
	assert_int_equal(r.st.reanchors, 1);
	assert_int_equal(r.st.moves, 0);
	assert_true(room_erle(&r, 4000, 5000) >= room_erle(&hidden, 4000, 5000) + 10);
	assert_in_range(room_time_to(&r, 15, 4000, 8000), 0, 250);
	assert_true(room_erle(&r, 5000, 8000) >= 25);
	room_rec_free(&hidden);
	room_rec_free(&r);
}

/* Silence cut short for voice that came due (the engine's playout in periods), after
 * the canceller has anchored: the reference given the whole silent frame and then told
 * what of it was never written is the reference of what was written, sample for
 * sample: a canceller fed the same written samples in frames of their own cancels
 * exactly the same. Without being told, its reference would run CUT samples late for
 * good (the anchor is kept by counting, and CUT is under the frame that re-anchors). */
static void test_cut_silence(void **state)
{
	enum { CUT = 480, AT = 50, FRAMES = 150, ECHO = 1440 };
	/* what the speaker plays: voice, CUT of silence after AT frames, voice */
	static int16_t w[(FRAMES + 1) * FRAME];
	int16_t zero[FRAME] = {0}, mx[FRAME], my[FRAME];
	struct aec *x, *y;
	uint32_t rng = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		rng = rng * 1103515245u + 12345u;
		w[i] = i / FRAME == AT && i % FRAME < CUT
			   ? 0
			   : (int16_t)((int)(rng >> 16) % 8000 - 4000);
	}
	assert_int_equal(aec_new(&x, FRAME, false), 0);
	assert_int_equal(aec_new(&y, FRAME, false), 0);
	for (int k = 0; k < FRAMES; k++) {
		/* x: the frame at AT all silence, the rest of it cut for voice */
		size_t xk = k < AT ? (size_t)k * FRAME : (size_t)k * FRAME + CUT;

		if (k == AT) {
			aec_playback(x, zero);
			aec_unwritten(x, FRAME - CUT);
		}
		aec_playback(x, w + xk);
		aec_playback(y, w + (size_t)k * FRAME);
		for (int i = 0; i < FRAME; i++) { /* the echo, ECHO samples late */
			long at = (long)k * FRAME + i - ECHO;

			mx[i] = my[i] = at >= 0 ? (int16_t)(w[at] / 2) : 0;
		}
		/* the same speaker, x's queue CUT longer from the cut on */
		aec_capture(x, mx, ECHO + (k >= AT ? CUT : 0), 0);
		aec_capture(y, my, ECHO, 0);
		assert_memory_equal(mx, my, sizeof(mx));
	}
	aec_free(x);
	aec_free(y);
}

/* Where the burst placed at the start of each 100 ms of out lies: its energy's centre
 * (the strongest sample can move by a cycle of the tone where the preprocessor shapes
 * the burst's envelope), -1 when nothing loud is there. */
static long burst_at(const int16_t *out, size_t from)
{
	double e = 0, m = 0, best = 0;

	for (size_t i = from; i < from + 4800; i++) {
		double x2 = (double)out[i] * out[i];

		e += x2;
		m += x2 * (double)(i - from);
		if (x2 > best)
			best = x2;
	}
	return best > 1000.0 * 1000.0 ? lround(m / e) : -1;
}

/* A 2 ms burst every 100 ms on the microphone (no echo in it). */
static void fill_bursts(int16_t *mic, size_t total)
{
	for (size_t t = 0; t + 96 < total; t += 4800)
		for (int i = 0; i < 96; i++)
			mic[t + i] =
			    (int16_t)(16000 * sin(2 * M_PI * 1500 * i / 48000.0));
}

/* The speaker quiet, loud noise from frame from to frame to, then quiet; the microphone
 * (total samples) cancelled in place. */
static void drive_noise(struct aec *e, int16_t *mic, size_t total, size_t from, size_t to)
{
	int16_t play[FRAME];
	uint32_t rng = 7;

	for (size_t f = 0; f < total / FRAME; f++) {
		bool loud = f >= from && f < to;

		for (int i = 0; i < FRAME; i++) {
			rng = rng * 1664525u + 1013904223u;
			play[i] = loud ? (int16_t)((int32_t)(rng >> 16) - 32768) / 4 : 0;
		}
		aec_playback(e, play);
		aec_capture(e, mic + f * FRAME, 0, 0);
	}
}

/* While no echo can be heard the microphone goes out as captured, undelayed; from just
 * before the far end's sound reaches the speaker until its echo has died out, through
 * the canceller, which delays it; each change made in the quiet between two bursts, so
 * that no burst is cut, repeated or moved within itself: every burst comes out once,
 * at its own place or exactly the canceller's delay later (the preprocessor's block
 * and the resamplers, 13.3 ms, and the residual echo suppressor's filter, 2 ms), never
 * anywhere else. */
static void test_paths(void **state)
{
	enum { SECONDS = 3, TOTAL = SECONDS * 48000 };
	int16_t *mic = calloc(TOTAL, sizeof(*mic)), *in = calloc(TOTAL, sizeof(*in));
	struct aec_stats st;
	struct aec *e;
	int bursts = 0, late = 0;
	long first = 0;

	(void)state;
	assert_non_null(mic);
	assert_non_null(in);
	fill_bursts(in, TOTAL);
	memcpy(mic, in, TOTAL * sizeof(*mic));
	assert_int_equal(aec_new(&e, FRAME, false), 0);
	drive_noise(e, mic, TOTAL, 52, 102); /* 1.04-2.04 s: between two bursts */
	for (size_t t = 0; t + 9600 < TOTAL; t += 4800) {
		long at = burst_at(mic, t) - burst_at(in, t);
		/* loud from 1.04 s; the echo's tail (250 ms) out from 2.29 s, and the
		 * direct path back after the burst at 2.3 s */
		bool echo = t >= 48000 && t < 115200;

		if (at) {
			/* 15.3 ms: 736 samples, the centre a little earlier for the
			 * resamplers' and the preprocessor's spread (721) */
			assert_in_range(at, 706, 746);
			if (!first)
				first = at;
			assert_in_range(at, first - 2, first + 2); /* each the same */
			late++;
		}
		if (!echo) /* the direct path: the very samples captured */
			assert_int_equal(memcmp(mic + t, in + t, 4800 * sizeof(*in)), 0);
		bursts++;
	}
	assert_int_equal(bursts, TOTAL / 4800 - 2);
	assert_in_range(late, 12, 13);
	aec_get_stats(e, &st);
	assert_int_equal(st.shifts, 2);
	assert_int_equal(st.forced, 0);
	assert_int_equal(st.blocks, TOTAL / 480);
	assert_in_range(st.direct, st.blocks * 55 / 100, st.blocks * 62 / 100);
	aec_free(e);
	free(mic);
	free(in);
}

/* The far end starts while the near end talks: the echo cannot wait for a pause, so
 * the path changes at once (forced), over a crossfade: no step in the near talker's
 * tone larger than a few of its own samples'; and it stays on the cancelled path
 * until the near end stops, whatever the far end does. */
static void test_paths_talking(void **state)
{
	enum { TOTAL = 3 * 48000, TALK_TO = 2 * 48000 + 24000 };
	int16_t *mic = calloc(TOTAL, sizeof(*mic));
	struct aec_stats st;
	struct aec *e;
	long step = 0;
	/* a 440 Hz tone moves at most this much a sample */
	const long own = (long)(8000 * 2 * M_PI * 440 / 48000) + 1;

	(void)state;
	assert_non_null(mic);
	for (size_t i = 9600; i < TALK_TO; i++)
		mic[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * (double)i / 48000.0));
	assert_int_equal(aec_new(&e, FRAME, false), 0);
	drive_noise(e, mic, TOTAL, 50, 75); /* 1-1.5 s */
	aec_get_stats(e, &st);
	assert_int_equal(st.shifts, 2);
	assert_int_equal(st.forced, 1);
	for (size_t i = 48000 - 480; i < 48000 + 480; i++) {
		long d = labs((long)mic[i] - mic[i - 1]);

		step = d > step ? d : step;
	}
	assert_true(step <= 3 * own);
	aec_free(e);
	free(mic);
}

/* Frames the canceller cannot take, the delay reported unknown, and the xrun count. */
static void test_bad_input(void **state)
{
	struct aec *e;
	int16_t pcm[FRAME] = {0};
	struct aec_stats st;

	(void)state;
	assert_int_equal(aec_new(&e, 0, false), -EINVAL);
	assert_int_equal(aec_new(&e, 500, false), -EINVAL);
	assert_int_equal(aec_new(&e, AEC_MAX_FRAME + 480, false), -EINVAL);
	assert_int_equal(aec_new(&e, 480, true), 0);
	aec_free(e);
	assert_int_equal(aec_new(&e, FRAME, false), 0);
	aec_playback(e, pcm);
	/* no clock: anchored as if no queue; xruns before the first frame moved nothing
	 */
	aec_capture(e, pcm, -1, 3);
	aec_capture(e, pcm, -1, 3);
	aec_skip(e, pcm);
	aec_get_stats(e, &st);
	assert_int_equal(st.frames, 2);
	assert_int_equal(st.reanchors, 1);
	assert_int_equal(st.xruns, 0);
	aec_capture(e, pcm, 480, 4); /* one more: anchored again, counted */
	aec_get_stats(e, &st);
	assert_int_equal(st.reanchors, 2);
	assert_int_equal(st.xruns, 1);
	assert_int_equal(st.delay, 480);
	for (int i = 0; i < FRAME; i++)
		assert_int_equal(pcm[i], 0); /* silence in, silence out */
	aec_free(e);
	aec_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_far_alone),
	    cmocka_unit_test(test_far_alone_slow),
	    cmocka_unit_test(test_long_buffer),
	    cmocka_unit_test(test_hidden_delay),
	    cmocka_unit_test(test_double_talk),
	    cmocka_unit_test(test_near_alone_and_silence),
	    cmocka_unit_test(test_delay_jump),
	    cmocka_unit_test(test_underrun),
	    cmocka_unit_test(test_capture_drop),
	    cmocka_unit_test(test_cut_silence),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_paths_talking),
	    cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
