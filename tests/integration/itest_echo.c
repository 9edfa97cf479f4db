/* The echo canceller on a real, clocked echo path: a box whose speaker its microphone
 * hears (PulseAudio null sinks and a module-loopback between them, through the ALSA pulse
 * plugin: tests/support/pulse_air.sh) holds push-to-talk in the room while a second box
 * (files mode) talks. What the talker hears back is its own voice, returned by the
 * echoing box; the same run is made with echo_cancel = no and = yes, and the echo the
 * talker gets back must be ECHO_LESS_DB weaker with the canceller in one run of
 * ECHO_TRIES (measured: 29-33 dB in good runs, 3-15 in others on a busy machine,
 * docs/PERFORMANCE.md). Skipped (77) where PulseAudio or the plugin is not installed,
 * or when none cancelled enough and every run had an xrun or a host that took the
 * CPU. */
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

/* What one run of ECHO_TRIES must cancel. A canceller wired wrong (the reference not
 * as written, the delays not measured) cancels nothing in any run; a working one 29-33
 * dB in its good runs, but 3-15 dB in a quarter to a half of the runs without an xrun
 * on a busy machine, the code of any round alike (once the canceller's
 * own figures were 30 dB in such a run: not the canceller, docs/PERFORMANCE.md), so 15 dB
 * would fail a working canceller more often than 10 and catch no broken one more */
#define ECHO_LESS_DB 10

/* How many runs with the canceller may try. A host that steals the CPU moves the
 * loopback's own delay in up to half the runs (docs/PERFORMANCE.md); at even odds,
 * eight runs all fail one time in 256, and each costs 10 s */
#define ECHO_TRIES 8

/* The frames a run's canceller must have processed for its figure to count: 8 s of the
 * talker's 9 s at 20 ms frames. A box whose capture stopped (after an xrun, say) would
 * send silence, and silence would look like a perfect canceller */
#define ECHO_MIN_FRAMES 400

/* The share of the CPUs (%) a VM's host may steal during a run for it to count as
 * measured when it falls short: runs with 0.2-0.9 % stolen cancelled 29-32 dB, runs
 * with 7.8-11.9 % 7-10 dB, the path itself jumping (docs/PERFORMANCE.md), and one
 * at 2.8 % 2.7 dB */
#define ECHO_STEAL_PCT 2.0

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

/* The echoing box's xruns and the frames its canceller processed, from its exit line
 * "echo canceller: F frames cancelled, aligned N times (X after xruns)". */
static void room_counts(const char *log, unsigned long long *frames,
			unsigned long long *xruns)
{
	const char *l = strstr(log, "echo canceller: ");
	unsigned long long n = 0;

	while (l && sscanf(l,
			   "echo canceller: %llu frames cancelled, aligned %llu times "
			   "(%llu after xruns)",
			   frames, &n, xruns) != 3)
		l = strstr(l + 1, "echo canceller: ");
	assert_non_null(l);
}

/* One run: the talker's voice as it comes back to it (dB over the last 3 s of its 9 s
 * talk, the canceller's convergence behind it), with the echoing box's canceller on or
 * off. */
static double echo_back(const char *in_wav, const char *cancel,
			unsigned long long *frames, unsigned long long *xr, double *stole)
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
	/* both as the package runs a box (Nice=-10): the echoing box's device is fed
	 * ahead of ordinary work, and the talker, which records what comes back, keeps
	 * its clock (starved, with both cores taken, it measured 6-7 dB in 5 runs of 7;
	 * at Nice -10, 14-35 dB in 5 of 5: docs/PERFORMANCE.md) */
	client_start_in(&room, harness_deployed, "127.0.0.1", srv.port, "Room", r_args);
	proc_wait_log(&room, 0, "status: online", 20000);
	client_start_in(&talker, harness_deployed, "127.0.0.1", srv.port, "Talker",
			t_args);
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
		room_counts(proc_log(&room), frames, xr);
	} else
		assert_null(strstr(proc_log(&room), "echo canceller: "));
	db = level(out, 6.5, 9.5);
	print_message("echo_cancel = %s: the talker's voice comes back at %.1f dBFS (the "
		      "VM's host stole %.1f %% of the CPUs meanwhile)\n",
		      cancel, db, *stole = bench_stolen_since(all0, st0));
	return db;
}

static void test_echo_path(void **state)
{
	char in_wav[64];
	double off, on = 0, said;
	unsigned long long xr = 0, frames = 0;
	double stole = 0;
	int clean = 0;	  /* runs without an xrun, little stolen: measured */
	bool met = false; /* a run cancelled ECHO_LESS_DB with its capture running */

	(void)state;
	if (no_pulse)
		skip();
	speech_make(in_wav, sizeof(in_wav), 10);
	said = level(in_wav, 6, 9);
	off = echo_back(in_wav, "no", &frames, &xr, &stole);
	/* a stall of this shared machine moves this echo path itself (the loopback's
	 * queue comes back longer or shorter by the stall: docs/PERFORMANCE.md), with or
	 * without an xrun of the box; a run that meets such a move measures the host, not
	 * the canceller, so the best of ECHO_TRIES counts. An xrun makes cancelling
	 * harder (the box re-anchors, its estimator follows), never easier, so a run
	 * with one that still cancelled counts too */
	for (int i = 0; i < ECHO_TRIES && !met; i++) {
		xr = frames = 0;
		on = echo_back(in_wav, "yes", &frames, &xr, &stole);
		clean += !xr && stole < ECHO_STEAL_PCT;
		met = on < off - ECHO_LESS_DB && frames >= ECHO_MIN_FRAMES;
		if (!met)
			print_message(
			    "%llu xruns, %llu frames, %.1f dB less: once more\n", xr,
			    frames, off - on);
	}
	if (!met && !clean) {
		/* the machine stalled the device or the path in every try: nothing
		 * about the canceller was measured (test_aec covers its arithmetic on
		 * the synthetic room) */
		print_message("every run had xruns or the host took over %.0f %% of "
			      "the CPUs: the echo path could not be measured\n",
			      ECHO_STEAL_PCT);
		skip();
	}
	print_message(
	    "said at %.1f dBFS; back %.1f dBFS without the canceller, %.1f with: "
	    "%.1f dB less (%llu xruns, %llu frames; %d measured runs)\n",
	    said, off, on, off - on, xr, frames, clean);
	assert_true(off > said - 20); /* the path does echo */
	assert_true(met);
	unlink(in_wav);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
