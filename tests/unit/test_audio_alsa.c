/* The ALSA backend's recovery, through the real ALSA library on its `null` device, with
 * faults injected at the seam (alsa_seam.h): an overrun and an underrun are recovered
 * in place, counted, and playback is refilled with its headroom; a card that vanishes
 * is reopened once it is back, and the client keeps running in between. With a clock
 * given to it at the seam too (what the device says it holds): capture read at every
 * period and a frame handed out the period it completes; playback topped up to its
 * headroom in periods, never more. test_engine_alsa.c drives the engine on that clock. */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alsa_seam.h"
#include "audio.h"

static void test_xruns_recovered_in_place(void **state)
{
	struct audio *a;
	char err[256];
	int16_t pcm[960];

	(void)state;
	opens = 0;
	assert_int_equal(audio_open_alsa(&a, "card", "card", 960, 240, err, sizeof(err)),
			 0);
	assert_int_equal(opens, 2);
	audio_read(a, pcm);
	assert_int_equal(a->captured, 960);
	read_fault = -EPIPE; /* overrun */
	audio_read(a, pcm);
	assert_int_equal(a->captured, 960); /* that frame was lost: silence */
	assert_int_equal(a->overruns, 1);
	audio_read(a, pcm);
	assert_int_equal(a->captured, 1920); /* and the device goes on, not reopened */
	/* underrun: recovered, the headroom refilled with silence, and the frame still
	 * goes out after it */
	write_fault = -EPIPE;
	writes_ok = 0;
	assert_int_equal(audio_write(a, pcm), 0);
	assert_int_equal(writes_ok, 2);
	assert_int_equal(a->underruns, 1);
	assert_int_equal(a->overruns, 1);
	assert_int_equal(opens, 2);
	assert_int_equal(audio_close(a), 0);
}

static void test_card_gone_and_back(void **state)
{
	struct audio *a;
	char err[256];
	int16_t pcm[960];

	(void)state;
	opens = 0;
	assert_int_equal(audio_open_alsa(&a, "card", "card", 960, 240, err, sizeof(err)),
			 0);
	read_fault = -ENODEV; /* unplugged */
	audio_read(a, pcm);
	for (int i = 0; i < 960; i++)
		assert_int_equal(pcm[i], 0);
	/* gone: frames are paced by the loop's clock (-1), reads give silence, writes are
	 * dropped without error; it tries again after a second, and keeps trying */
	fail_opens = 2;
	assert_int_equal(audio_avail(a, 100), -1);
	audio_read(a, pcm);
	assert_int_equal(a->captured, 0);
	assert_int_equal(audio_write(a, pcm), 0);
	assert_int_equal(audio_avail(a, 1000), -1); /* a try: still gone */
	assert_int_equal(fail_opens, 1);
	assert_int_equal(audio_avail(a, 1500), -1); /* not yet time for the next try */
	assert_int_equal(fail_opens, 1);
	assert_int_equal(audio_avail(a, 2000), -1); /* a try: still gone */
	assert_int_equal(audio_avail(a, 3000), -1); /* back (null has no clock: -1) */
	assert_int_equal(opens, 4);
	audio_read(a, pcm);
	assert_int_equal(a->captured, 960); /* capturing again */
	assert_int_equal(audio_close(a), 0);
}

static void test_open_errors(void **state)
{
	struct audio *a;
	char err[256];

	(void)state;
	fail_opens = 1;
	assert_true(audio_open_alsa(&a, "hw:7,0", "hw:7,0", 960, 240, err, sizeof(err)) <
		    0);
	assert_non_null(strstr(err, "capture device 'hw:7,0'"));
	assert_non_null(strstr(err, "arecord -l"));
	fail_opens = 0;
}

/* 20 ms frames, 5 ms periods. Capture: every period's samples are read at the wakeup
 * they arrive (the device's descriptor is quiet again), and a frame is handed out at
 * the period that completes it. */
static void test_capture_every_period(void **state)
{
	struct audio *a;
	char err[256];
	int16_t pcm[960];
	int avail[8];

	(void)state;
	clocked = true;
	cap_avail = 0;
	assert_int_equal(audio_open_alsa(&a, "card", "card", 960, 240, err, sizeof(err)),
			 0);
	for (int p = 0; p < 8; p++) {
		cap_avail += 240; /* a period more */
		reads_ok = 0;
		avail[p] = audio_avail(a, 1000 + 5 * (uint64_t)p);
		assert_int_equal(reads_ok, 1); /* read at once */
		assert_int_equal(cap_avail, 0);
		if (avail[p])
			audio_read(a, pcm);
	}
	for (int p = 0; p < 8; p++)
		assert_int_equal(avail[p], p % 4 == 3); /* the 4th period completes it */
	assert_int_equal(a->captured, 8 * 240);
	assert_int_equal(audio_close(a), 0);
	clocked = false;
}

/* Playback: topped up at each call to the headroom in whole periods from the frame being
 * played, the next frame asked for only when that one is all written; never more than
 * the headroom queued, whatever the frame. The headroom is 3 periods until capture
 * delivers, 2 once it has been calm for a while. */
static void test_playback_top_up(void **state)
{
	struct audio *a;
	char err[256];
	int16_t pcm[960];
	long play, cap;

	(void)state;
	clocked = true;
	cap_avail = 0;
	play_delay = 0;
	assert_int_equal(audio_open_alsa(&a, "card", "card", 960, 240, err, sizeof(err)),
			 0);
	play_delay = 3 * 240; /* the prefill: 3 periods until capture delivers */
	assert_int_equal(audio_room(a, 1000), 0);
	cap_avail = 960;
	assert_int_equal(audio_avail(a, 1000), 1);
	audio_read(a, pcm);
	for (int i = 0; i < 960; i++)
		pcm[i] = 1000; /* not silence */
	play_delay = 0;	       /* after 5 s of calm: 2 periods */
	assert_int_equal(audio_room(a, 7000), 1);
	written = 0;
	assert_int_equal(audio_write(a, pcm), 0);
	assert_int_equal(written, 2 * 240); /* 2 periods of it, the rest kept */
	play_delay = 2 * 240;
	assert_int_equal(audio_room(a, 7005), 0);
	assert_int_equal(written, 2 * 240); /* full: nothing more */
	play_delay = 240 + 10;
	assert_int_equal(audio_room(a, 7010), 0);
	assert_int_equal(written, 3 * 240); /* a period more */
	play_delay = 100;
	assert_int_equal(audio_room(a, 7015), 1); /* the frame is all written: the next */
	assert_int_equal(written, 4 * 240);
	play_delay = 400;
	assert_int_equal(audio_delays(a, &play, &cap), 0);
	assert_int_equal(play, 400); /* the frame is all written: the device's alone */
	assert_int_equal(audio_close(a), 0);
	clocked = false;
}

/* Capture that fell behind (the sound server held 10 periods beyond what the device
 * showed, as PulseAudio does for a loop that was late) is skipped down to 3 periods,
 * so what is sent is not that late for the rest of the run; a little behind is kept. */
static void test_capture_catches_up(void **state)
{
	struct audio *a;
	char err[256];
	long play, cap;

	(void)state;
	clocked = true;
	cap_avail = 0;
	cap_held = 0;
	assert_int_equal(audio_open_alsa(&a, "card", "card", 960, 240, err, sizeof(err)),
			 0);
	cap_avail = 240;
	cap_held = 5 * 240; /* 6 periods behind: kept */
	assert_int_equal(audio_avail(a, 1000), 0);
	assert_int_equal(cap_held, 5 * 240);
	cap_avail = 240;
	cap_held = 10 * 240; /* 11 behind: down to 3 */
	assert_int_equal(audio_avail(a, 1005), 0);
	assert_int_equal(cap_held, 3 * 240);
	assert_int_equal(audio_delays(a, &play, &cap), 0);
	assert_int_equal(cap, 3 * 240 + 2 * 240); /* the server's and the ring's */
	cap_held = 0;
	assert_int_equal(audio_close(a), 0);
	clocked = false;
}

/* The longest the loop left playback without a top-up is kept (an underrun after more
 * than the headroom is the machine starving the box, not the device): counted from the
 * first capture, and a card that was gone does not count its absence. */
static void test_longest_wait(void **state)
{
	struct audio *a;
	char err[256];

	(void)state;
	clocked = true;
	cap_avail = 0;
	play_delay = 3 * 240;
	assert_int_equal(audio_open_alsa(&a, "card", "card", 960, 240, err, sizeof(err)),
			 0);
	audio_room(a, 1000);
	audio_room(a, 1040); /* nothing captured yet: starting is no wait */
	assert_int_equal(a->wait_max_ms, 0);
	cap_avail = 240;
	assert_int_equal(audio_avail(a, 1045), 0);
	audio_room(a, 1045);
	audio_room(a, 1050);
	audio_room(a, 1073); /* 23 ms */
	audio_room(a, 1078);
	assert_int_equal(a->wait_max_ms, 23);
	read_fault = -ENODEV; /* gone for 2 s, then back */
	cap_avail = 240;
	assert_int_equal(audio_avail(a, 1080), 0);
	assert_int_equal(audio_avail(a, 1500), -1);
	cap_avail = 240;
	assert_true(audio_avail(a, 3100) >= 0);
	audio_room(a, 3100);
	audio_room(a, 3105);
	assert_int_equal(a->wait_max_ms, 23);
	assert_int_equal(audio_close(a), 0);
	clocked = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xruns_recovered_in_place),
	    cmocka_unit_test(test_card_gone_and_back),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_capture_every_period),
	    cmocka_unit_test(test_playback_top_up),
	    cmocka_unit_test(test_capture_catches_up),
	    cmocka_unit_test(test_longest_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
