/* The client's real ALSA path, through a test asoundrc: the `file` plugin over `null`
 * (no sound card needed) writes what the client plays to a raw file and reads what it
 * captures from another. */
#include <math.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char home[64], cap[96], play[96];

static int setup(void **state)
{
	char rc[128];
	FILE *f;

	(void)state;
	snprintf(home, sizeof(home), "/tmp/itest-alsa-%d", (int)getpid());
	mkdir(home, 0700);
	snprintf(cap, sizeof(cap), "%s/cap.raw", home);
	snprintf(play, sizeof(play), "%s/play.raw", home);
	snprintf(rc, sizeof(rc), "%s/.asoundrc", home);
	f = fopen(rc, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "pcm.testcap { type file slave.pcm \"null\" file \"/dev/null\" infile \"%s\" "
	    "format \"raw\" }\n"
	    "pcm.testplay { type file slave.pcm \"null\" file \"%s\" format \"raw\" }\n",
	    cap, play);
	fclose(f);
	/* capture: 4 s of a voice-like signal, raw S16LE mono 48 kHz */
	f = fopen(cap, "wb");
	assert_non_null(f);
	for (int i = 0; i < 4 * 48000; i++) {
		double t = i / 48000.0, env = 0.5 + 0.5 * sin(2 * M_PI * 3 * t);
		int16_t v =
		    (int16_t)(7000 * env *
			      (sin(2 * M_PI * 200 * t) + 0.6 * sin(2 * M_PI * 400 * t)));

		fwrite(&v, 2, 1, f);
	}
	fclose(f);
	setenv("HOME", home, 1); /* the clients read $HOME/.asoundrc */
	return 0;
}

/* What the ALSA playback device received: the connected tone after login, in real time.
 */
static void test_playback_through_alsa(void **state)
{
	struct srv srv;
	struct proc p;
	const char *args[] = {"--capture-device",
			      "testcap",
			      "--playback-device",
			      "testplay",
			      "--exit-after",
			      "1.5",
			      NULL};
	static int16_t pcm[48000 * 3];
	size_t n, first = 0;
	FILE *f;
	int z = 0;

	(void)state;
	unlink(play);
	srv_start(&srv, NULL);
	client_start(&p, &srv, "AlsaBox", args);
	assert_int_equal(proc_wait(&p, 10000), 0);
	assert_non_null(strstr(proc_log(&p), "sound card: capture 'testcap'"));
	f = fopen(play, "rb");
	assert_non_null(f);
	n = fread(pcm, 2, sizeof(pcm) / 2, f);
	fclose(f);
	/* one sample per sample period: 1.5 s (the null plugin has no clock; ours paced
	 * it) */
	assert_true(n >= 48000 * 13 / 10 && n <= 48000 * 18 / 10);
	while (first < n && pcm[first] == 0)
		first++;
	assert_true(first < n); /* something was played: the connected tone */
	/* its first beep is 660 Hz for 90 ms: 59 cycles, about 118 zero crossings */
	for (size_t i = first + 1; i < first + 48 * 85 && i < n; i++)
		z += (pcm[i - 1] < 0) != (pcm[i] < 0);
	print_message("playback: %zu samples, tone at %zu, %d crossings in 85 ms\n", n,
		      first, z);
	assert_true(z >= 105 && z <= 120);
	srv_stop(&srv);
}

/* ALSA capture through the server to a listener in files mode. */
static void test_capture_through_alsa(void **state)
{
	struct srv srv;
	struct proc talk, ear;
	char out[96];
	const char *t_args[] = {"--capture-device",
				"testcap",
				"--playback-device",
				"testplay",
				"--talk-after",
				"0.5",
				"--talk-for",
				"2",
				"--exit-after",
				"3",
				NULL};
	/* stopped when the talker is done, not at a time of its own */
	const char *e_args[] = {"--playback-file", out, "--exit-after", "60", NULL};
	unsigned long long sent;

	(void)state;
	snprintf(out, sizeof(out), "%s/heard.wav", home);
	srv_start(&srv, NULL);
	client_start(&ear, &srv, "Ear", e_args);
	proc_wait_log(&ear, 0, "status: online #Lobby",
		      WAIT_MS); /* hears from the start */
	client_start(&talk, &srv, "AlsaMouth", t_args);
	assert_int_equal(proc_wait(&talk, 10000), 0);
	kill(ear.pid, SIGTERM);
	assert_int_equal(proc_wait(&ear, 10000), 0);
	sent = log_value(proc_log(&talk), "voice: sent ");
	print_message("alsa capture:\n");
	assert_true(sent >= 95 && sent <= 102);
	assert_heard(proc_log(&ear), sent);
	srv_stop(&srv);
}

static void test_missing_device(void **state)
{
	struct srv srv;
	struct proc p;
	const char *args[] = {"--capture-device", "hw:42,0", "--exit-after", "1", NULL};

	(void)state;
	srv_start(&srv, NULL);
	client_start(&p, &srv, "NoCard", args);
	assert_int_equal(proc_wait(&p, 10000), 1);
	assert_non_null(strstr(proc_log(&p), "capture device 'hw:42,0'"));
	assert_non_null(strstr(proc_log(&p), "arecord -l"));
	srv_stop(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_playback_through_alsa),
	    cmocka_unit_test(test_capture_through_alsa),
	    cmocka_unit_test(test_missing_device),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
