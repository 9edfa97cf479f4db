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
 * its waveform through the codec. Silence or another signal scores near 0 on both; a
 * clean run scores 0.95+ and 0.75-0.85, and a machine under load (frames caught up, a
 * packet concealed mid-window) takes some of that away. Fidelity itself is
 * integration_client's and unit_voice's to assert. */
#define SAME_ENV  0.8
#define SAME_WAVE 0.5

/* Wait (up to ms) for text in p's log: processes are ordered by what they say, never by
 * a sleep. */
static void wait_log(const struct proc *p, const char *text, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (!strstr(proc_log(p), text)) {
		if (now_ms() > end)
			fail_msg("no '%s' within %d ms in:\n%s", text, ms, proc_log(p));
		usleep(20000);
	}
}

/* Door starts (d_args, with the capture file) and, once online, Caller calls it,
 * playing into out (/tmp/itest-call-PID.wav); both run 6 s. The server is left
 * running. */
static void door_call(struct srv *srv, struct proc *door, struct proc *caller,
		      const char *const *d_args, char *out)
{
	const char *c_args[] = {"--call", "Door", "--playback-file", out, "--exit-after",
				"6",	  NULL};

	speech_make(in_wav, sizeof(in_wav), 6);
	snprintf(out, 64, "/tmp/itest-call-%d.wav", (int)getpid());
	srv_start(srv, NULL);
	client_start(door, srv, "Door", d_args);
	wait_log(door, "status: online", 5000);
	client_start(caller, srv, "Caller", c_args);
	wait_log(door, "in call with Caller", 5000);
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
	c = speech_similarity(in_wav, out, &door, &caller, "1.3", "3.6", &delay, &env);
	print_message("hands-free door: waveform correlation %.3f, envelope %.3f, "
		      "mouth-to-ear %.1f ms\n",
		      c, env, delay);
	assert_true(env > SAME_ENV);
	assert_true(c > SAME_WAVE);
	srv_stop(&srv);
	print_message("off %lld\n",
		      (long long)log_value(proc_log(&caller), "started at ") -
			  (long long)log_value(proc_log(&door), "started at "));
	rename(out, "/tmp/hf-out.wav");
	rename(in_wav, "/tmp/hf-in.wav");
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
	c = speech_similarity(in_wav, out, &door, &caller, "1.9", "3.4", &delay, &env);
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
