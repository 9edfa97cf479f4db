/* The real intercom client in files mode against the real intercomd: speech through a
 * room and through a private call (which a third client cannot hear), and a server crash
 * and restart that the clients ride out. */
#include <math.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "speech.h"

static char in_wav[64];

/* Mouth talks 3 s into #Lobby with frames of talk_ms, Ear listens with frames of
 * ear_ms: every packet arrives, with a mouth-to-ear delay of a few frames. Returns
 * whether the speech came out the same, syllable by syllable (envelope over 0.9) and
 * waveform by waveform (over 0.7). */
static bool room_speech(const char *talk_ms, const char *ear_ms)
{
	struct srv srv;
	struct proc talk, ear;
	const char *t_args[] = {
	    "--capture-file", in_wav, "--talk-after", "0.6",   "--talk-for", "3",
	    "--exit-after",   "4.2",  "--frame-ms",   talk_ms, NULL};
	char out[64];
	/* the ear stops when the talker is done (not at a time of its own: a talker that
	 * starts late on a busy machine would talk past it) */
	const char *e_args[] = {
	    "--playback-file", out, "--exit-after", "60", "--frame-ms", ear_ms, NULL};
	unsigned long long sent, want = 3000 / strtoul(talk_ms, NULL, 10);
	double c, delay = 0, env = 0;

	speech_make(in_wav, sizeof(in_wav), 4);
	snprintf(out, sizeof(out), "/tmp/itest-out-%d.wav", (int)getpid());
	srv_start(&srv, NULL);
	/* both as the package runs a box (Nice=-10): a talker in files mode that other
	 * work stalls sends its backlog at once, late, and a 20 ms box hearing 10 ms
	 * packets needs two of them on time for every frame (112 of 300 late once, in a
	 * fresh Debian 12 at the suite's own load) */
	client_start_in(&ear, harness_deployed, "127.0.0.1", srv.port, "Ear", e_args);
	proc_wait_log(&ear, 0, "status: online #Lobby",
		      WAIT_MS); /* hears from the start */
	client_start_in(&talk, harness_deployed, "127.0.0.1", srv.port, "Mouth", t_args);
	assert_int_equal(proc_wait(&talk, 15000), 0);
	kill(ear.pid, SIGTERM); /* 0.6 s after the last packet was sent */
	assert_int_equal(proc_wait(&ear, 15000), 0);
	sent = log_value(proc_log(&talk), "voice: sent ");
	print_message("%s ms into %s ms:\n", talk_ms, ear_ms);
	assert_true(sent * 100 >= want * 95 &&
		    sent * 100 <= want * 102); /* 3 s of talk */
	assert_heard(proc_log(&ear), sent);
	/* stretch by stretch: a stall on a busy machine moves the delay, not the speech
	 */
	c = speech_stretches(in_wav, out, speech_offset(&talk, &ear), 0.7, 3.5, &delay,
			     &env);
	print_message("%s ms into %s ms: waveform correlation %.3f, envelope %.3f, "
		      "mouth-to-ear %.1f ms\n",
		      talk_ms, ear_ms, c, env, delay);
	/* later than what was said by at least Opus's 6.5 ms look-ahead, less what the
	 * measurement cannot resolve: the two boxes' clock starts (speech_offset) are
	 * logged in whole ms, 2 ms between them at most (5.6 ms measured once, boxes at
	 * Nice -10 on a loaded machine: the floor reached). How much later is
	 * bench_latency's figure (docs/PERFORMANCE.md), the machine's as much as ours */
	assert_true(delay > 6.5 - 2);
	srv_stop(&srv);
	unlink(out);
	return env > 0.9 && c > 0.7;
}

/* room_speech, once more if the speech missed, failing if it misses twice. In a fresh
 * Debian 12 at the suite's own load, a 20 ms listener of 10 ms packets once settled its
 * playout at the edge of each pair's second packet: 124 of 300 late, mouth-to-ear 6.4
 * ms, waveform 0.63 (16.2 ms and 0.75 in the runs around it); the jitter buffer does
 * not yet win that back within the 3 s (docs/JITTER.md). */
static void speech(const char *talk_ms, const char *ear_ms)
{
	if (room_speech(talk_ms, ear_ms))
		return;
	print_message("%s ms into %s ms: the speech missed; once more\n", talk_ms,
		      ear_ms);
	assert_true(room_speech(talk_ms, ear_ms));
}

static void test_room_speech(void **state)
{
	(void)state;
	speech("20", "20");
}

/* A 10 ms box and a 20 ms box hear each other, both ways (each plays every packet for
 * the packet's own duration). */
static void test_mixed_frame_sizes(void **state)
{
	(void)state;
	speech("10", "20");
	speech("20", "10");
}

static void test_private_call(void **state)
{
	struct srv srv;
	struct proc caller, callee, third;
	char out[64], out3[64];
	/* push-to-talk in a call (hands-free calls: itest_handsfree.c) */
	const char *a_args[] = {"--capture-file",
				in_wav,
				"--call",
				"Callee",
				"--talk-after",
				"1.2",
				"--talk-for",
				"3.3",
				"--handsfree",
				"no",
				"--exit-after",
				"5",
				NULL};
	/* both stop when the caller is done (see room_speech) */
	const char *b_args[] = {
	    "--auto-accept", "--playback-file", out, "--exit-after", "60", NULL};
	const char *c_args[] = {"--playback-file", out3, "--exit-after", "60", NULL};
	double delay = 0, env = 0;

	(void)state;
	speech_make(in_wav, sizeof(in_wav), 5);
	snprintf(out, sizeof(out), "/tmp/itest-callee-%d.wav", (int)getpid());
	snprintf(out3, sizeof(out3), "/tmp/itest-third-%d.wav", (int)getpid());
	srv_start(&srv, NULL);
	client_start(&callee, &srv, "Callee", b_args);
	proc_wait_log(&callee, 0, "status: online #Lobby", WAIT_MS);
	client_start(&caller, &srv, "Caller", a_args);
	/* the third comes into #Lobby once the call is up: whatever the caller said in
	 * #Lobby before (a press before the accept, on a busy machine) is not the call */
	proc_wait_log(&callee, 0, "in call with Caller", WAIT_MS);
	client_start(&third, &srv, "Third", c_args);
	proc_wait_log(&third, 0, "status: online #Lobby", WAIT_MS);
	/* and it is there while the caller still talks */
	assert_null(strstr(proc_log(&caller), "push-to-talk released"));
	assert_int_equal(proc_wait(&caller, 15000), 0);
	kill(callee.pid, SIGTERM);
	kill(third.pid, SIGTERM);
	assert_int_equal(proc_wait(&callee, 15000), 0);
	assert_int_equal(proc_wait(&third, 15000), 0);
	assert_non_null(strstr(proc_log(&callee), "in call with Caller"));
	assert_heard(proc_log(&callee), log_value(proc_log(&caller), "voice: sent "));
	assert_true(speech_stretches(in_wav, out, speech_offset(&caller, &callee), 1.3,
				     3.6, &delay, &env) > 0.7);
	assert_true(env > 0.9);
	/* the third client in the same room heard nothing of it */
	assert_int_equal(log_value(proc_log(&third), "received "), 0);
	srv_stop(&srv);
	unlink(out);
	unlink(out3);
}

static void test_server_crash_and_restart(void **state)
{
	struct srv srv;
	struct proc talk, ear;
	char out[64];
	/* talks twice: 0.5-2.0 s (before the crash) and again after it, by a long PTT
	 * hold */
	const char *t_args[] = {"--capture-file",
				in_wav,
				"--talk-after",
				"0.5",
				"--talk-for",
				"7.5",
				"--exit-after",
				"8.5",
				NULL};
	const char *e_args[] = {"--playback-file", out, "--exit-after", "9", NULL};
	unsigned long long got;

	(void)state;
	speech_make(in_wav, sizeof(in_wav), 4);
	snprintf(out, sizeof(out), "/tmp/itest-restart-%d.wav", (int)getpid());
	srv_start(&srv, NULL);
	client_start(&ear, &srv, "Ear", e_args);
	proc_wait_log(&ear, 0, "status: online #Lobby",
		      WAIT_MS); /* hears from the start */
	client_start(&talk, &srv, "Mouth", t_args);
	client_wait_clock(&talk, 2000); /* the crash 2 s into its script */
	srv_kill9(&srv);
	usleep(300000); /* down 0.3 s: the fault's length, not an ordering */
	srv_restart(&srv);
	assert_int_equal(proc_wait(&talk, 20000), 0);
	assert_int_equal(proc_wait(&ear, 20000), 0);
	/* both came back (each logs "online" again after the crash) and voice flowed
	 * again */
	assert_non_null(strstr(strstr(proc_log(&ear), "reconnecting"), "status: online"));
	assert_non_null(strstr(strstr(proc_log(&talk), "reconnecting"),
			       "status: online #Lobby | TALKING"));
	got = log_value(proc_log(&ear), "frames ");
	print_message("restart: %llu frames played across a server crash at +2 s\n", got);
	/* 7.5 s of talk: 1.5 before the crash plus well over 3 s after it */
	assert_true(got > 150 + 75);
	srv_stop(&srv);
	unlink(out);
	unlink(in_wav);
}

/* After a restart, watch from a raw protocol client of the test's own: until every nick
 * in nicks (NULL-terminated) is listed in room, and (if talker) until voice arrives
 * from the room. Returns the ms from start to each (*voice_ms stays 0 if none). */
static void watch_comeback(struct srv *srv, const char *room, const char *const *nicks,
			   uint64_t start, uint64_t *back_ms, uint64_t *voice_ms)
{
	struct cli w;
	uint8_t buf[2048];
	uint64_t until = start + 10000, next_ask = 0;
	const char *l;
	char prefix[64];

	memset(&w, 0, sizeof(w));
	cli_login(&w, srv, "Watch");
	cli_udp_open(&w);
	cli_voice_register(&w); /* before joining: nothing else is sent to it yet */
	if (strcmp(room, "#Lobby"))
		cli_send(&w, "JOIN #%s", room + 1);
	snprintf(prefix, sizeof(prefix), "USERLIST %s: ", room);
	*back_ms = 0;
	*voice_ms = 0;
	while (now_ms() < until && (!*back_ms || (voice_ms != back_ms && !*voice_ms))) {
		if (!*back_ms && now_ms() >= next_ask) {
			cli_send(&w, "USERLIST %s", room);
			next_ask = now_ms() + 100;
		}
		while ((l = cli_recv(&w, 5))) {
			bool all = !strncmp(l, prefix, strlen(prefix));

			for (int i = 0; all && nicks[i]; i++)
				all = strstr(l + strlen(prefix), nicks[i]) != NULL;
			if (all && !*back_ms)
				*back_ms = now_ms() - start;
		}
		if (cli_voice_recv(&w, buf, sizeof(buf), 5) > RTP_FIXED_LEN && !*voice_ms)
			*voice_ms = now_ms() - start;
	}
	cli_close(&w);
	close(w.ufd);
}

/* kill -9 of the server while two clients talk in #Kitchen: once it is back they are in
 * #Kitchen again and the talker's voice flows, within 3 s of the restart. */
static void test_crash_during_room_talk(void **state)
{
	struct srv srv;
	struct proc talk, ear;
	const char *t_args[] = {"--join",
				"#Kitchen",
				"--capture-file",
				in_wav,
				"--talk-after",
				"0.5",
				"--talk-for",
				"7",
				"--exit-after",
				"8",
				NULL};
	const char *e_args[] = {"--join",    "#Kitchen",     "--playback-file",
				"/dev/null", "--exit-after", "8.5",
				NULL};
	const char *const both[] = {"Mouth", "Ear", NULL};
	uint64_t restart, back = 0, voice = 0;

	(void)state;
	speech_make(in_wav, sizeof(in_wav), 4);
	srv_start(&srv, NULL);
	client_start(&ear, &srv, "Ear", e_args);
	client_start(&talk, &srv, "Mouth", t_args);
	client_wait_clock(&talk, 2000); /* the crash 2 s into its script */
	srv_kill9(&srv);
	usleep(300000); /* down 0.3 s: the fault's length, not an ordering */
	srv_restart(&srv);
	restart = now_ms();
	watch_comeback(&srv, "#Kitchen", both, restart, &back, &voice);
	print_message(
	    "crash in room talk: both back in #Kitchen %llu ms and voice flowing "
	    "%llu ms after the restart\n",
	    (unsigned long long)back, (unsigned long long)voice);
	assert_true(back > 0 && back <= 3000);
	assert_true(voice > 0 && voice <= 3000);
	assert_int_equal(proc_wait(&talk, 20000), 0);
	assert_int_equal(proc_wait(&ear, 20000), 0);
	assert_non_null(
	    strstr(strstr(proc_log(&ear), "reconnecting"), "status: online #Kitchen"));
	assert_non_null(strstr(strstr(proc_log(&talk), "reconnecting"),
			       "status: online #Kitchen | TALKING"));
	srv_stop(&srv);
}

/* kill -9 of the server during a call (the caller holding PTT): both parties hear the
 * end tone and come back idle in #Lobby within 3 s of the restart; the caller's held
 * button does not carry the call's speech on to the room. */
static void test_crash_during_call(void **state)
{
	struct srv srv;
	struct proc caller, callee;
	const char *a_args[] = {"--capture-file", in_wav, "--call",	"Callee",
				"--talk-after",	  "1",	  "--talk-for", "6",
				"--exit-after",	  "7",	  NULL};
	const char *b_args[] = {
	    "--auto-accept", "--playback-file", "/dev/null", "--exit-after", "7.5", NULL};
	const char *const both[] = {"Caller", "Callee", NULL};
	uint64_t restart, back = 0, again = 0, voice = 0;
	const char *after;

	(void)state;
	speech_make(in_wav, sizeof(in_wav), 4);
	srv_start(&srv, NULL);
	client_start(&callee, &srv, "Callee", b_args);
	proc_wait_log(&callee, 0, "status: online #Lobby", WAIT_MS);
	client_start(&caller, &srv, "Caller", a_args);
	client_wait_clock(&caller, 2000); /* the crash 2 s into its script */
	srv_kill9(&srv);
	usleep(300000); /* down 0.3 s: the fault's length, not an ordering */
	srv_restart(&srv);
	restart = now_ms();
	watch_comeback(&srv, "#Lobby", both, restart, &back, &back);
	/* and listen in #Lobby for a while: the held button must not talk there */
	watch_comeback(&srv, "#Lobby", both, now_ms(), &again, &voice);
	print_message("crash in a call: both back in #Lobby %llu ms after the restart\n",
		      (unsigned long long)back);
	assert_true(back > 0 && back <= 3000);
	assert_int_equal(voice, 0);
	assert_int_equal(proc_wait(&caller, 20000), 0);
	assert_int_equal(proc_wait(&callee, 20000), 0);
	for (int i = 0; i < 2; i++) {
		const char *log = proc_log(i ? &callee : &caller);

		assert_non_null(strstr(log, "in call with"));
		after = strstr(log, "reconnecting");
		assert_non_null(after);
		assert_non_null(strstr(log, "tone: disconnected"));
		assert_non_null(strstr(after, "status: online #Lobby"));
		assert_null(strstr(after, "in call with"));
		assert_null(strstr(after, "TALKING"));
	}
	srv_stop(&srv);
	unlink(in_wav);
}

/* A capture file in the wrong format: a clear error naming the problem, exit 2. */
static void test_bad_wav(void **state)
{
	struct proc p;
	char path[64], srvarg[16] = "127.0.0.1:9";
	FILE *f;
	/* a 44.1 kHz mono 16-bit header */
	static const unsigned char hdr[44] = {
	    'R', 'I', 'F', 'F', 36, 0, 0,   0,	 'W', 'A',  'V',  'E', 'f', 'm',  't',
	    ' ', 16,  0,   0,	0,  1, 0,   1,	 0,   0x44, 0xac, 0,   0,   0x88, 0x58,
	    1,	 0,   2,   0,	16, 0, 'd', 'a', 't', 'a',  0,	  0,   0,   0};
	char *argv[] = {getenv("INTERCOM"), "--server", srvarg, "--capture-file", path,
			"--exit-after",	    "1",	NULL};

	(void)state;
	snprintf(path, sizeof(path), "/tmp/itest-bad-%d.wav", (int)getpid());
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(hdr, 1, sizeof(hdr), f);
	fclose(f);
	proc_start(&p, argv);
	assert_int_equal(proc_wait(&p, 5000), 2);
	assert_non_null(strstr(proc_log(&p), "44100 Hz, need 48000 Hz"));
	assert_non_null(strstr(proc_log(&p), "sox"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_room_speech),
	    cmocka_unit_test(test_mixed_frame_sizes),
	    cmocka_unit_test(test_private_call),
	    cmocka_unit_test(test_server_crash_and_restart),
	    cmocka_unit_test(test_crash_during_room_talk),
	    cmocka_unit_test(test_crash_during_call),
	    cmocka_unit_test(test_bad_wav),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
