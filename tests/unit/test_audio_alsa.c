/* The ALSA backend's recovery, through the real ALSA library on its `null` device, with
 * faults injected at the seam (--wrap of snd_pcm_open, snd_pcm_readi, snd_pcm_writei):
 * an overrun and an underrun are recovered in place, counted, and playback is refilled
 * with its headroom; a card that vanishes is reopened once it is back, and the client
 * keeps running in between. */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "audio.h"

int __real_snd_pcm_open(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream,
			int mode);
snd_pcm_sframes_t __real_snd_pcm_readi(snd_pcm_t *pcm, void *buf, snd_pcm_uframes_t n);
snd_pcm_sframes_t __real_snd_pcm_writei(snd_pcm_t *pcm, const void *buf,
					snd_pcm_uframes_t n);
int __wrap_snd_pcm_open(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream,
			int mode);
snd_pcm_sframes_t __wrap_snd_pcm_readi(snd_pcm_t *pcm, void *buf, snd_pcm_uframes_t n);
snd_pcm_sframes_t __wrap_snd_pcm_writei(snd_pcm_t *pcm, const void *buf,
					snd_pcm_uframes_t n);

static int fail_opens;	/* the next opens fail: the card is gone */
static int read_fault;	/* the next read returns this error once */
static int write_fault; /* the next write returns this error once */
static int opens, reads_ok, writes_ok;

int __wrap_snd_pcm_open(snd_pcm_t **pcm, const char *name, snd_pcm_stream_t stream,
			int mode)
{
	(void)name;
	if (fail_opens > 0) {
		fail_opens--;
		return -ENOENT;
	}
	opens++;
	return __real_snd_pcm_open(pcm, "null", stream, mode);
}

snd_pcm_sframes_t __wrap_snd_pcm_readi(snd_pcm_t *pcm, void *buf, snd_pcm_uframes_t n)
{
	snd_pcm_sframes_t r;

	if (read_fault) {
		int e = read_fault;

		read_fault = 0;
		return e;
	}
	r = __real_snd_pcm_readi(pcm, buf, n);
	reads_ok += r > 0;
	return r;
}

snd_pcm_sframes_t __wrap_snd_pcm_writei(snd_pcm_t *pcm, const void *buf,
					snd_pcm_uframes_t n)
{
	snd_pcm_sframes_t r;

	if (write_fault) {
		int e = write_fault;

		write_fault = 0;
		return e;
	}
	r = __real_snd_pcm_writei(pcm, buf, n);
	writes_ok += r > 0;
	return r;
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xruns_recovered_in_place),
	    cmocka_unit_test(test_card_gone_and_back),
	    cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
