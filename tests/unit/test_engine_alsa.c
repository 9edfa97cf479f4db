/* The engine on a clocked device at the ALSA seam (alsa_seam.h), period by period with
 * the time passed in: voice that comes due while silence or a tone plays starts within
 * a period, not at the next frame; a tone cut short goes on where the speaker left it;
 * and playout moves closer to its packets by less than a packet, spliced. */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alsa_seam.h"
#include "audio.h"
#include "cfg.h"
#include "engine.h"
#include "jbuf.h"
#include "loop.h"
#include "voice.h"

static void nothing_sent(void *arg, const uint8_t *pkt, size_t len, uint64_t now)
{
	(void)arg, (void)pkt, (void)len, (void)now;
}
static bool not_talking(void *arg)
{
	(void)arg;
	return false;
}
static void heard(void *arg, bool on)
{
	(void)arg, (void)on;
}

/* A talker's 20 ms packets reaching a box (20 ms frames, 5 ms periods, the canceller
 * on) phase ms after its frame clock's first period, period by period (none: !voice),
 * with the "connected" beeps started at 1150 ms if tone: how long, in ms, from the
 * first packet's arrival to its first sound played. What the device played goes into
 * trace (TRACE_LEN samples from 1000 ms) when it is set. */
#define TRACE_LEN (600 * 48)
/* what the box's app does to its tones during a run: start kind at at ms, stop it
 * (TONE_NONE, as accepting a ring does) at stop_at ms (0: never) */
struct tone_script {
	enum tone_kind kind;
	uint64_t at, stop_at;
};
static const struct tone_script beeps_at_1150 = {TONE_CONNECTED, 1150, 0};
/* A run of engine_run_opts: until (ms, from 1000); packet late_pkt (-1: none) arriving
 * late_ms late; marker_pkt (-1: every packet sounds) the only packet with sound in it,
 * whose delay from its arrival to its sound is then what the run returns. */
struct run_opts {
	unsigned phase;
	bool voice;
	const struct tone_script *ts;
	uint64_t until;
	int late_pkt;
	unsigned late_ms;
	int marker_pkt;
	bool sine; /* the talker's sound a 440 Hz tone, not a square wave */
};

#define SINE_HZ 440
/* The talker's next packet (its sound: a square wave, a tone, or silence) into v at
 * t; *at counts its samples. */
static void talk(struct voice *talker, struct voice *v, bool sound, bool sine,
		 uint64_t *at, uint64_t t)
{
	int16_t pcm[960];
	uint8_t pkt[IC_RTP_MAX];
	int n;

	for (int i = 0; i < 960; i++, (*at)++)
		pcm[i] = !sound ? 0
			 : sine ? (int16_t)(8000 * sin(2 * M_PI * SINE_HZ * (double)*at /
						       48000.0))
				: (int16_t)(i % 48 < 24 ? 8000 : -8000);
	n = voice_capture(talker, pcm, true, pkt);
	assert_true(n > 0);
	voice_receive(v, pkt, (size_t)n, t);
}

/* Where the marker's sound starts in the trace, in ms from arrive (ms since 1000). */
static double marker_delay(uint64_t arrive)
{
	for (long i = (long)arrive * 48; i < trace_len; i++)
		if (abs(trace[i]) > 2000)
			return (double)i / 48.0 - (double)arrive;
	return -1;
}

static double engine_run_opts(const struct run_opts *o)
{
	const struct engine_io io = {nothing_sent, not_talking, heard, NULL};
	static const uint8_t token[IC_TOKEN_LEN];
	const struct tone_script *ts = o->ts;
	struct codec_cfg cc;
	struct cfg c;
	struct loop *loop;
	struct voice *talker, *v;
	struct engine *e;
	uint64_t arrive = 1000 + 200 + o->phase; /* a while after the start: all quiet */
	uint64_t late_at = 0, at = 0;

	codec_cfg_default(&cc);
	cfg_defaults(&c);
	snprintf(c.capture_device, sizeof(c.capture_device), "card");
	snprintf(c.playback_device, sizeof(c.playback_device), "card");
	c.frame_ms = cc.frame_ms = 20;
	c.period_ms = 5;
	c.echo_cancel = true;
	assert_int_equal(loop_new(&loop), 0);
	assert_int_equal(voice_new(&talker, &cc), 0);
	assert_int_equal(voice_new(&v, &cc), 0);
	voice_set_ids(talker, 9, token);
	voice_set_ids(v, 5, token);
	clocked = queued = true;
	cap_avail = cap_held = play_delay = played = 0;
	sound_at = -1;
	assert_int_equal(engine_open(&e, &c, loop, v, &io), 0);
	if (trace)
		memset(trace, 0, (size_t)trace_len * sizeof(*trace));
	for (uint64_t t = 1000; t < o->until; t++) {
		long k = (long)(t - arrive) / 20;

		if (ts && t == ts->at)
			engine_tone(e, ts->kind);
		if (ts && t == ts->stop_at)
			engine_tone(e, TONE_NONE);
		if (o->voice && t >= arrive && (t - arrive) % 20 == 0 && k != o->late_pkt)
			talk(talker, v, o->marker_pkt < 0 || k == o->marker_pkt, o->sine,
			     &at, t);
		if (o->voice && t >= arrive && (t - arrive) % 20 == 0 && k == o->late_pkt)
			late_at = t + o->late_ms;
		if (late_at && t == late_at) /* captured in its turn, delivered late */
			talk(talker, v, o->marker_pkt < 0, o->sine, &at, t);
		if (t % 5)
			continue;
		long n = play_delay < 240 ? play_delay : 240; /* a period plays */
		played += n;
		play_delay -= n;
		cap_avail += 240;
		assert_true(engine_service(e, t));
	}
	assert_int_equal(engine_close(e), 0);
	voice_free(v);
	voice_free(talker);
	loop_free(loop);
	clocked = queued = false;
	if (o->marker_pkt >= 0)
		return marker_delay(arrive - 1000 + (uint64_t)o->marker_pkt * 20);
	assert_true(sound_at >= 0);
	/* played counts from the first period, at 1000 ms */
	return (double)sound_at / 48.0 - (double)(arrive - 1000);
}

static double engine_run(unsigned phase, bool voice, const struct tone_script *ts)
{
	const struct run_opts o = {phase, voice, ts, 1600, -1, 0, -1, false};

	return engine_run_opts(&o);
}

static double first_sound_ms(unsigned phase)
{
	return engine_run(phase, true, NULL);
}

/* Playout in periods: voice that comes due while silence plays starts within a period,
 * whatever its phase to the box's frame clock. Its start then spreads over two periods
 * (10 ms) at most: the period it waits for, and the jitter buffer's slack (JBUF_SLACK_MS)
 * counted at whole periods. Waiting for the silence frame to be all out (the next frame
 * clock) spreads it over a frame and a period (17 ms measured at these phases). */
static void test_voice_starts_within_a_period(void **state)
{
	double lo = 1e9, hi = -1e9;

	(void)state;
	for (unsigned phase = 0; phase < 20; phase++) {
		double ms = first_sound_ms(phase);

		lo = ms < lo ? ms : lo;
		hi = ms > hi ? ms : hi;
	}
	print_message("first sound %.1f-%.1f ms after its packet\n", lo, hi);
	assert_true(hi - lo <=
		    2 * 5.0 + 1.0); /* two periods, and the first sample's ms */
}

/* The far end's first words come due while the call's "connected" beeps play (as they
 * do: both ends start the call with them): the voice cuts in at the next period as over
 * silence, and the beeps go on from where the speaker left them. What the device
 * played with both, less the beeps alone, is exactly the voice alone: the voice at the
 * same place, the tone unmoved. Waiting for the beep's frame to be all out would put
 * the whole call's playout up to a frame (here 20 ms) behind its packets. */
static void test_voice_cuts_in_over_a_tone(void **state)
{
	static int16_t both[TRACE_LEN], beeps[TRACE_LEN], alone[TRACE_LEN];
	static const unsigned phases[] = {2, 9, 13, 18};
	long differ, voiced;

	(void)state;
	trace_len = TRACE_LEN;
	for (size_t k = 0; k < sizeof(phases) / sizeof(phases[0]); k++) {
		trace = beeps;
		engine_run(phases[k], false, &beeps_at_1150);
		trace = both;
		engine_run(phases[k], true, &beeps_at_1150);
		trace = alone;
		engine_run(phases[k], true, NULL);
		differ = voiced = 0;
		for (long i = 0; i < TRACE_LEN; i++) {
			differ += both[i] - beeps[i] != alone[i];
			voiced += alone[i] != 0;
		}
		print_message("phase %u ms: %ld of %ld voiced samples differ\n",
			      phases[k], differ, voiced);
		assert_true(voiced > 48 * 300); /* the voice was played */
		assert_int_equal(differ, 0);
	}
	trace = NULL;
}

/* A packet 12 ms late in a hands-free call (one spurt: no silence where playout could
 * start afresh), heard by a box whose frames fall right after its packets (phase 0):
 * the box conceals it and waits for it, and every packet after it then plays 20 ms
 * later. The jitter buffer keeps that lead while its window remembers the late packet
 * (1 s), then finds 15 ms of it beyond need (the rest is its slack); under a packet, no
 * packet can be dropped for it, so the box cuts that much from the frame it plays. 2 s
 * after the late packet a marker packet sounds within the slack (5 ms) and a sample of
 * where it sounds with none late; without the cut, 20 ms later for the rest of the
 * call. */
static void test_late_packet_leaves_no_delay(void **state)
{
	static int16_t buf[3000 * 48];
	struct run_opts o = {0, true, NULL, 4000, -1, 0, 100, false};
	double clean, late;

	(void)state;
	trace = buf;
	trace_len = (long)(sizeof(buf) / sizeof(buf[0]));
	clean = engine_run_opts(&o);
	o.late_pkt = 10;
	o.late_ms = 12;
	late = engine_run_opts(&o);
	print_message("the marker sounds %.1f ms after its arrival; %.1f ms after a "
		      "packet 12 ms late\n",
		      clean, late);
	assert_true(clean > 0);
	assert_true(late > 0);
	assert_true(late - clean <= JBUF_SLACK_MS + 1);
	trace = NULL;
}

/* The same cut while a tone plays: the rest of the frame cut is crossfaded into the
 * next (2.5 ms), so the tone goes on with no step larger than a few of its own samples'
 * (cut bare, its phase would jump: a click). */
static void test_cut_is_spliced(void **state)
{
	static int16_t buf[3000 * 48];
	const struct run_opts o = {0, true, NULL, 4000, 10, 12, -1, true};
	const long own = (long)(8000 * 2 * M_PI * SINE_HZ / 48000) + 1;
	long step = 0;

	(void)state;
	trace = buf;
	trace_len = (long)(sizeof(buf) / sizeof(buf[0]));
	engine_run_opts(&o);
	/* from 1 s after the late packet (the cut comes then) to the end */
	for (long i = 1400 * 48; i < 2900 * 48; i++) {
		long d = labs((long)buf[i] - buf[i - 1]);

		step = d > step ? d : step;
	}
	print_message("largest step %ld (the tone's own: %ld)\n", step, own);
	assert_true(step <= 3 * own);
	trace = NULL;
}

/* A ring stopped in the middle of a frame (the call accepted: the app stops it) just
 * before the far end's first words cut in: the ring stays stopped. Resuming the tone of
 * the frame the voice cuts short must not bring back a tone the app has changed since
 * that frame was mixed. From 40 ms after the first packet on, what plays is the voice
 * alone. */
static void test_tone_stopped_before_a_cut(void **state)
{
	static int16_t rung[TRACE_LEN], alone[TRACE_LEN];
	static const unsigned phases[] = {2, 9, 13, 18};
	long differ;

	(void)state;
	trace_len = TRACE_LEN;
	for (size_t k = 0; k < sizeof(phases) / sizeof(phases[0]); k++) {
		/* stopped a millisecond before the first packet arrives */
		const struct tone_script ring = {TONE_RING, 1050, 1200 + phases[k] - 1};

		trace = rung;
		engine_run(phases[k], true, &ring);
		trace = alone;
		engine_run(phases[k], true, NULL);
		differ = 0;
		/* the first packet arrives at 1200 + phase ms; trace starts at 1000 */
		for (long i = (200 + (long)phases[k] + 40) * 48; i < TRACE_LEN; i++)
			differ += rung[i] != alone[i];
		print_message("phase %u ms: %ld samples differ after the ring stopped\n",
			      phases[k], differ);
		assert_int_equal(differ, 0);
	}
	trace = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_voice_starts_within_a_period),
	    cmocka_unit_test(test_voice_cuts_in_over_a_tone),
	    cmocka_unit_test(test_late_packet_leaves_no_delay),
	    cmocka_unit_test(test_cut_is_spliced),
	    cmocka_unit_test(test_tone_stopped_before_a_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
