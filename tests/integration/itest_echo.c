/* The echo canceller on a real, clocked echo path: a box whose speaker its microphone
 * hears (PulseAudio null sinks and a module-loopback between them, through the ALSA pulse
 * plugin: tests/support/pulse_air.sh) holds push-to-talk in the room while a second box
 * (files mode) talks. What the talker hears back is its own voice, returned by the
 * echoing box; the same run is made with echo_cancel = no and = yes, and the echo the
 * talker gets back must be ECHO_LESS_DB weaker with the canceller in one run of five
 * without an xrun (measured: 29-33 dB in good runs, 3-15 in others on a busy machine,
 * docs/PERFORMANCE.md). Skipped (77) where PulseAudio or the plugin is not installed,
 * or when every run had an xrun. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "benchutil.h"
#include "harness.h"
#include "speech.h"
#include "wav.h"

/* What one run of five without an xrun must cancel. A canceller wired wrong (the
 * reference not as written, the delays not measured) cancels nothing in any run; a
 * working one 29-33 dB in its good runs, but 3-15 dB in a quarter to a half of the runs
 * without an xrun on a busy machine, the code of any round alike (once the canceller's
 * own figures were 30 dB in such a run: not the canceller, docs/PERFORMANCE.md), so 15 dB
 * would fail a working canceller more often than 10 and catch no broken one more */
#define ECHO_LESS_DB 10

static char dir[64];
static bool no_pulse;

static int setup(void **state)
{
	(void)state;
	no_pulse = !pulse_air_start(dir, sizeof(dir), "echo");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return pulse_air_stop(dir, !no_pulse);
}

/* Power in dB (full scale 0) of path's [from, to) seconds. */
static double level(const char *path, double from, double to)
{
	int16_t *pcm;
	size_t n, a = (size_t)(from * 48000), b = (size_t)(to * 48000);
	char err[128];
	double s = 1e-3;

	assert_int_equal(wav_load(path, &pcm, &n, err, sizeof(err)), 0);
	if (b > n)
		b = n;
	assert_true(a + 48000 <= b);
	for (size_t i = a; i < b; i++)
		s += (double)pcm[i] * pcm[i];
	free(pcm);
	return 10 * log10(s / (double)(b - a) / (32768.0 * 32768.0));
}

/* The echoing box's xruns, from its exit line "aligned N times (X after xruns)". */
static unsigned long long room_xruns(const char *log)
{
	const char *l = strstr(log, "echo canceller: ");
	unsigned long long n = 0, x = 0;

	while (l && !strstr(l, " after xruns"))
		l = strstr(l + 1, "echo canceller: ");
	assert_non_null(l);
	l = strstr(l, "aligned ");
	assert_non_null(l);
	assert_int_equal(sscanf(l, "aligned %llu times (%llu after xruns)", &n, &x), 2);
	return x;
}

/* One run: the talker's voice as it comes back to it (dB over the last 3 s of its 9 s
 * talk, the canceller's convergence behind it), with the echoing box's canceller on or
 * off. */
static double echo_back(const char *in_wav, const char *cancel, unsigned long long *xr)
{
	struct srv srv;
	struct proc room, talker;
	char out[96];
	const char *r_args[] = {"--capture-device",
				"room_mic",
				"--playback-device",
				"room_spk",
				"--talk-after",
				"0",
				"--talk-for",
				"60",
				"--echo-cancel",
				cancel,
				NULL};
	const char *t_args[] = {"--capture-file",
				in_wav,
				"--playback-file",
				out,
				"--talk-after",
				"0.5",
				"--talk-for",
				"9",
				"--exit-after",
				"9.5",
				NULL};
	double db;
	unsigned long long all0 = 0, st0 = 0;

	bench_cpu_times(&all0, &st0); /* a host that takes the CPU stalls the echo path */
	snprintf(out, sizeof(out), "%s/heard-%s.wav", dir, cancel);
	srv_start(&srv, NULL);
	/* as the package runs a box (Nice=-10): its device is fed ahead of ordinary work
	 */
	client_start_in(&room, harness_deployed, "127.0.0.1", srv.port, "Room", r_args);
	proc_wait_log(&room, 0, "status: online", 20000);
	client_start(&talker, &srv, "Talker", t_args);
	proc_wait_ok(&talker, 20000);
	kill(room.pid, SIGTERM);
	assert_int_equal(proc_wait(&room, 10000), 0);
	srv_stop(&srv);
	if (!strcmp(cancel, "yes")) {
		const char *l = strstr(proc_log(&room), "echo canceller: ");

		assert_non_null(l);
		print_message("%.*s\n", (int)strcspn(l, "\n"), l); /* its settings */
		l = strstr(l + 1, "echo canceller: ");
		assert_non_null(l); /* what it did, at exit */
		print_message("%.*s\n", (int)strcspn(l, "\n"), l);
		*xr = room_xruns(proc_log(&room));
	} else
		assert_null(strstr(proc_log(&room), "echo canceller: "));
	db = level(out, 6.5, 9.5);
	print_message("echo_cancel = %s: the talker's voice comes back at %.1f dBFS (the "
		      "VM's host stole %.1f %% of the CPUs meanwhile)\n",
		      cancel, db, bench_stolen_since(all0, st0));
	return db;
}

static void test_echo_path(void **state)
{
	char in_wav[64];
	double off, on = 0, said;
	unsigned long long xr = 0;
	int clean = 0; /* runs without an xrun that cancelled less than ECHO_LESS_DB */

	(void)state;
	if (no_pulse)
		skip();
	speech_make(in_wav, sizeof(in_wav), 10);
	said = level(in_wav, 6, 9);
	off = echo_back(in_wav, "no", &xr);
	/* an xrun of the echoing box's device (a stall of this shared machine) moves
	 * this echo path itself for seconds (the box re-anchors and its delay estimator
	 * follows the echo, but the loopback's own delay wanders by a millisecond or two
	 * while it settles: docs/PERFORMANCE.md), so a run with one measures the stall,
	 * not the canceller; and on a busy machine a run without one can still meet a
	 * moving path (3-15 dB, once less than nothing), so the best of five counts */
	for (int i = 0; i < 5; i++) {
		xr = 0;
		on = echo_back(in_wav, "yes", &xr);
		if (!xr && on < off - ECHO_LESS_DB)
			break;
		if (xr)
			print_message("the echoing box had %llu xruns: once more\n", xr);
		else {
			clean++;
			print_message("no xrun, %.1f dB less: once more\n", off - on);
		}
	}
	if (xr || on >= off - ECHO_LESS_DB)
		print_message("no run of five cancelled %d dB; %d without an xrun\n",
			      ECHO_LESS_DB, clean);
	if (xr && !clean) {
		/* the machine stalled the device in every try: nothing about the
		 * canceller was measured (test_aec covers its arithmetic on the synthetic
		 * room) */
		print_message(
		    "every run had xruns: the echo path could not be measured\n");
		skip();
	}
	print_message(
	    "said at %.1f dBFS; back %.1f dBFS without the canceller, %.1f with: "
	    "%.1f dB less\n",
	    said, off, on, off - on);
	assert_true(off > said - 20); /* the path does echo */
	assert_true(!xr && on < off - ECHO_LESS_DB);
	unlink(in_wav);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
