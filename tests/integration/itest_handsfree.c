/* Hands-free calls on the real binaries, in files mode: a door box (auto_accept,
 * handsfree) that takes a call is heard by the caller with nobody holding a button; with
 * handsfree = no it sends nothing until push-to-talk, as before, and then exactly what
 * its codec made of the capture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "harness.h"
#include "speech.h"
#include "wav.h"

static char in_wav[64];

/* The caller hears the door's capture: its energy envelope, syllable by syllable, and
 * its waveform through the codec, stretch by stretch (speech_stretches: a stall on a
 * busy machine moves the delay of the stretch it falls in, it loses nothing), to the
 * same figures integration_client asks of a call. Silence or another signal scores near
 * 0 on both. */
#define SAME_ENV  0.9
#define SAME_WAVE 0.7

/* What the box's encoder makes of the talker's capture is not the capture: over TLS it
 * codes at a constant 32 kbit/s with in-band FEC (Opus then picks hybrid SWB), and on
 * this test signal's held, steady syllable from 2.8 to 3.15 s that mode swings the
 * decoded level by up to 11 nepers where the input is flat (an envelope of 0.71 and a
 * waveform of 0.64 over 2.65 to 3.4 s with the encoder started at the press, the same
 * figures as the listener's playback, to the third digit; VBR, or CBR without FEC,
 * score 0.96 there, and espeak-ng speech scores alike in every mode). So what the
 * listener heard is compared with the box's codec alone on the same capture: the
 * capture encoded from frame `first` on (silence before), with the door's settings (its
 * flags pin them), and decoded. What the transport adds (loss, concealment, a jitter
 * buffer that drops or re-anchors) shows against it; the codec's own way with a
 * syllable does not. The reference goes to ref (/tmp/itest-ref-PID.wav). */
static void codec_reference(const char *in, unsigned first, char *ref, size_t size)
{
	struct codec_cfg cc;
	struct codec_enc *e;
	struct codec_dec *d;
	int16_t *pcm;
	size_t n;
	char err[256];
	uint8_t pkt[CODEC_MAX_PKT];

	codec_cfg_default(&cc);
	cc.bitrate = 32000; /* the door's --bitrate and --complexity; cbr: tls on */
	cc.complexity = 5;
	cc.cbr = true;
	assert_int_equal(wav_load(in, &pcm, &n, err, sizeof(err)), 0);
	assert_int_equal(codec_enc_new(&e, &cc), 0);
	assert_int_equal(codec_dec_new(&d), 0);
	for (size_t f = 0; (f + 1) * 960 <= n; f++) {
		int16_t *at = pcm + f * 960;
		int len = 0;

		if (f >= first)
			len = codec_encode(e, at, pkt, sizeof(pkt));
		if (len > 0)
			assert_int_equal(codec_decode(d, pkt, (size_t)len, at, 960), 960);
		else
			memset(at, 0, 960 * sizeof(*at));
	}
	snprintf(ref, size, "/tmp/itest-ref-%d.wav", (int)getpid());
	assert_int_equal(wav_save(ref, pcm, n - n % 960, err, sizeof(err)), 0);
	codec_enc_free(e);
	codec_dec_free(d);
	free(pcm);
}

/* The reference for the door's talk from the moment its log names after key (the
 * monotonic ms of the press, or of the first packet sent): the encoder's first frame
 * is the one the capture completed about then, which a loaded loop may have handled a
 * few frames late or early; of those candidates, the one the listener's playback
 * matches best over [from, to) s (with the right one it is the same audio). */
static void talk_reference(const struct proc *door, const struct proc *caller,
			   const char *key, const char *out, const char *from,
			   const char *to, char *ref, size_t size)
{
	long long at = (long long)log_value(proc_log(door), key) -
		       (long long)log_value(proc_log(door), "started at ");
	long long f0 = at / 20, best_f = f0;
	double best = -1, delay, env;

	for (long long f = f0 - 5 >= 0 ? f0 - 5 : 0; f <= f0 + 2; f++) {
		double c;

		codec_reference(in_wav, (unsigned)f, ref, size);
		c = speech_compare(ref, out, speech_offset(door, caller), from, to,
				   &delay, &env);
		if (c > best) {
			best = c;
			best_f = f;
		}
	}
	print_message("door: talking from %lld ms after its audio start; the encoder's "
		      "first frame %lld\n",
		      at, best_f);
	codec_reference(in_wav, (unsigned)best_f, ref, size);
}

/* Door starts (d_args, with the capture file) and, once online, Caller calls it,
 * playing into out (/tmp/itest-call-PID.wav); both run 6 s. The server is left
 * running. */
static void door_call(struct srv *srv, struct proc *door, struct proc *caller,
		      const char *const *d_args, char *out)
{
	const char *c_args[] = {"--call", "Door", "--playback-file", out, "--exit-after",
				"6",	  NULL};
	size_t at;

	speech_make(in_wav, sizeof(in_wav), 6);
	snprintf(out, 64, "/tmp/itest-call-%d.wav", (int)getpid());
	srv_start(srv, NULL);
	client_start(door, srv, "Door", d_args);
	at = proc_wait_log(door, 0, "status: online", WAIT_MS);
	client_start(caller, srv, "Caller", c_args);
	proc_wait_log(door, at, "in call with Caller", WAIT_MS);
	assert_int_equal(proc_wait(door, 15000), 0);
	assert_int_equal(proc_wait(caller, 15000), 0);
}

/* The door takes the call by itself and opens its microphone: the caller hears the
 * door's capture file as the door captured it, and the caller's own microphone is open
 * toward the door too. */
static void test_door_handsfree(void **state)
{
	struct srv srv;
	struct proc door, caller;
	char out[64], ref[64];
	const char *d_args[] = {"--auto-accept",
				"--bitrate",
				"32000",
				"--complexity",
				"5",
				"--verbose",
				"--capture-file",
				in_wav,
				"--playback-file",
				"/dev/null",
				"--exit-after",
				"6",
				NULL};
	unsigned long long sent, got, back;
	double c, delay = 0, env = 0;
	const char *log;

	(void)state;
	door_call(&srv, &door, &caller, d_args, out);
	log = proc_log(&door);
	assert_null(strstr(log, "push-to-talk")); /* nobody pressed anything */
	assert_non_null(strstr(log, "| TALKING | in call with Caller"));
	sent = log_value(log, "voice: sent ");
	log = proc_log(&caller);
	assert_non_null(strstr(log, "| TALKING | in call with Door"));
	got = log_value(log, "frames ");
	back = log_value(log, "voice: sent ");
	print_message("door sent %llu packets, the caller decoded %llu; the caller sent "
		      "%llu\n",
		      sent, got, back);
	assert_true(sent >= 200); /* 4 s of the 6: the call, not a press */
	assert_heard(log, sent);  /* and the caller played it */
	assert_true(back >= 200); /* the other way too */
	/* the door's clock: the call is up at about 0.2 s; against the codec's own output
	 * from the call's first packet */
	talk_reference(&door, &caller, "a talk spurt's first packet sent at ", out, "1.3",
		       "3.6", ref, sizeof(ref));
	c = speech_stretches(ref, out, speech_offset(&door, &caller), 1.3, 3.6, &delay,
			     &env);
	print_message(
	    "hands-free door: against its codec alone, waveform correlation %.3f, "
	    "envelope %.3f; played %.1f ms after the codec's output\n",
	    c, env, delay);
	assert_true(env > SAME_ENV);
	assert_true(c > SAME_WAVE);
	srv_stop(&srv);
	unlink(ref);
	unlink(out);
	unlink(in_wav);
}

/* handsfree = no: the accepted call carries nothing from the door until its button is
 * held (1.5 to 4.6 s), and then carries what it captured. */
static void test_door_push_to_talk(void **state)
{
	struct srv srv;
	struct proc door, caller;
	char out[64], ref[64];
	const char *d_args[] = {"--auto-accept",
				"--bitrate",
				"32000",
				"--complexity",
				"5",
				"--handsfree",
				"no",
				"--capture-file",
				in_wav,
				"--talk-after",
				"1.5",
				"--talk-for",
				"3.1",
				"--playback-file",
				"/dev/null",
				"--exit-after",
				"6",
				NULL};
	unsigned long long sent, got;
	double c, delay = 0, env = 0;
	const char *log;

	(void)state;
	door_call(&srv, &door, &caller, d_args, out);
	log = proc_log(&door);
	/* in the call, and not talking until the button, pressed in the call */
	assert_non_null(strstr(log, "status: online #Lobby | in call with Caller\n"));
	assert_non_null(
	    strstr(strstr(log, "in call with Caller"), "push-to-talk pressed"));
	sent = log_value(log, "voice: sent ");
	got = log_value(proc_log(&caller), "frames ");
	print_message("push-to-talk door: sent %llu packets (3.1 s is 155), the caller "
		      "decoded %llu\n",
		      sent, got);
	/* the 3.1 s of the press, no more (hands-free it would be about 290) */
	assert_true(sent >= 145 && sent <= 165);
	assert_heard(proc_log(&caller), sent);
	/* 1.9 to 4.45 s of the press (1.5 to 4.6), against the codec's own output: three
	 * stretches, so that one the listener's jitter buffer moved in does not decide */
	talk_reference(&door, &caller, "push-to-talk pressed (scripted) at ", out, "1.9",
		       "4.45", ref, sizeof(ref));
	c = speech_stretches(ref, out, speech_offset(&door, &caller), 1.9, 4.45, &delay,
			     &env);
	print_message("push-to-talk door: against its codec alone, waveform correlation "
		      "%.3f, envelope %.3f\n",
		      c, env);
	assert_true(env > SAME_ENV);
	assert_true(c > SAME_WAVE);
	srv_stop(&srv);
	unlink(ref);
	unlink(out);
	unlink(in_wav);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_door_handsfree),
	    cmocka_unit_test(test_door_push_to_talk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
