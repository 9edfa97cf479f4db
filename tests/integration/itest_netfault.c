/* Network faults between the real clients and the real server: the listener's link goes
 * through tests/tools/impair (loss, loss in bursts, jitter, reordering, duplication, a
 * 10 s flap), the talker's is clean. For each condition the listener reports frames
 * received, rebuilt by FEC, concealed, late, and its jitter buffer's hold; the test
 * asserts what must hold under it, and prints the table docs/ROBUSTNESS.md keeps. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "speech.h"

static char in_wav[64];
static char elog[1 << 16];

struct result {
	unsigned long long sent, received, frames, fec, concealed, late;
	double hold_ms, waveform, envelope;
	bool reconnected;
};

/* One run: Mouth talks for 4 s directly; Ear listens through impair with args. talk_for
 * and listen_for stretch it (the flap). The window [from, to) of the talker's clock is
 * compared. */
static void run(const char *const *impair_args, const char *talk_for,
		const char *listen_for, const char *from, const char *to,
		struct result *r)
{
	struct srv srv;
	struct proc imp, talk, ear;
	char listen[32], target[32], out[64], *argv[32];
	const char *t_args[] = {
	    "--capture-file", in_wav,	      "--talk-after", "1", "--talk-for",
	    talk_for,	      "--exit-after", listen_for,     NULL};
	const char *e_args[] = {"--playback-file", out, "--exit-after", listen_for, NULL};
	const char *log, *hold;
	int n = 0, status;
	double delay = 0;

	srv_start(&srv, NULL);
	snprintf(listen, sizeof(listen), "127.0.0.2:%u", srv.port);
	snprintf(target, sizeof(target), "127.0.0.1:%u", srv.port);
	snprintf(out, sizeof(out), "/tmp/itest-netfault-%d.wav", (int)getpid());
	argv[n++] = getenv("IMPAIR");
	assert_non_null(argv[0]);
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--to";
	argv[n++] = target;
	for (int i = 0; impair_args[i]; i++)
		argv[n++] = (char *)impair_args[i];
	argv[n] = NULL;
	proc_start(&imp, argv);
	for (int i = 0; i < 200 && !strstr(proc_log(&imp), "impair: ready"); i++)
		usleep(10000);
	assert_non_null(strstr(proc_log(&imp), "impair: ready"));
	client_start_via(&ear, "127.0.0.2", srv.port, "Ear", e_args);
	usleep(300000);
	client_start(&talk, &srv, "Mouth", t_args);
	assert_int_equal(proc_wait(&talk, 60000), 0);
	assert_int_equal(proc_wait(&ear, 60000), 0);
	kill(imp.pid, SIGTERM);
	waitpid(imp.pid, &status, 0);
	snprintf(elog, sizeof(elog), "%s",
		 proc_log(&ear)); /* proc_log's buffer is reused */
	log = elog;
	memset(r, 0, sizeof(*r));
	r->sent = log_value(proc_log(&talk), "voice: sent ");
	/* the counters the listener prints at exit */
	log = strstr(log, "voice: sent ");
	assert_non_null(log);
	r->received = log_value(log, "received ");
	r->frames = log_value(log, "frames ");
	r->fec = log_value(log, "fec ");
	r->concealed = log_value(log, "concealed ");
	r->late = log_value(log, "late ");
	hold = strstr(log, "jitter buffer hold ");
	assert_non_null(hold);
	r->hold_ms = atof(hold + strlen("jitter buffer hold "));
	r->reconnected = strstr(elog, "reconnecting") != NULL;
	if (getenv("NETFAULT_LOGS"))
		print_message("%s\n", elog);
	r->waveform =
	    speech_similarity(in_wav, out, &talk, &ear, from, to, &delay, &r->envelope);
	print_message("%s\n", strstr(proc_log(&imp), "impair: up"));
	srv_stop(&srv);
	unlink(out);
}

static void report(const char *name, const struct result *r)
{
	print_message(
	    "| %-28s | %5llu | %5llu | %5llu | %4llu | %5llu | %4llu | %6.1f ms | %.2f "
	    "| %.2f |\n",
	    name, r->sent, r->received, r->frames, r->fec, r->concealed, r->late,
	    r->hold_ms, r->waveform, r->envelope);
}

#define TALK   "4"
#define LISTEN "6"
#define FROM   "1.1"
#define TO     "4.9"

static int setup(void **state)
{
	(void)state;
	speech_make(in_wav, sizeof(in_wav), 18); /* the flap test talks past 13 s */
	print_message("| condition | sent | received | frames | FEC | concealed | late | "
		      "jitter-buffer hold | waveform | envelope |\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(in_wav);
	return 0;
}

static void test_clean(void **state)
{
	const char *a[] = {"--seed", "1", NULL};
	struct result r;

	(void)state;
	run(a, TALK, LISTEN, FROM, TO, &r);
	report("clean", &r);
	assert_true(r.frames * 100 >= r.sent * 98);
	assert_true(r.waveform > 0.7 && r.envelope > 0.9);
}

static void test_random_loss(void **state)
{
	const char *a5[] = {"--seed", "2", "--loss", "0.05", NULL};
	const char *a20[] = {"--seed", "3", "--loss", "0.20", NULL};
	struct result r;

	(void)state;
	run(a5, TALK, LISTEN, FROM, TO, &r);
	report("5 % random loss", &r);
	/* lost packets arrive rebuilt (FEC) or concealed, never as silence gaps */
	assert_true(r.received < r.sent);
	assert_true(r.fec + r.concealed > 0);
	assert_true(r.envelope > 0.85);
	run(a20, TALK, LISTEN, FROM, TO, &r);
	report("20 % random loss", &r);
	assert_true(r.received * 100 < r.sent * 90);
	assert_true(r.fec > 0);
	assert_true(r.envelope > 0.6);
}

static void test_burst_loss(void **state)
{
	const char *a[] = {"--seed", "4", "--burst", "0.20:3", NULL};
	struct result r;

	(void)state;
	run(a, TALK, LISTEN, FROM, TO, &r);
	report("20 % loss in bursts (mean 3)", &r);
	assert_true(r.received * 100 < r.sent * 90);
	assert_true(r.concealed > 0);
	assert_true(r.envelope > 0.5);
}

static void test_jitter_reorder_dup(void **state)
{
	const char *aj[] = {"--seed", "5", "--jitter", "40", NULL};
	const char *ar[] = {"--seed", "6", "--reorder", "0.10", NULL};
	const char *ad[] = {"--seed", "7", "--dup", "0.10", NULL};
	struct result r;

	(void)state;
	run(aj, TALK, LISTEN, FROM, TO, &r);
	report("40 ms uniform jitter", &r);
	/* the buffer grows to cover the jitter: nearly nothing arrives too late */
	assert_true(r.late * 100 <= r.sent * 3);
	assert_true(r.hold_ms > 10 && r.hold_ms < 120);
	assert_true(r.envelope > 0.85);
	run(ar, TALK, LISTEN, FROM, TO, &r);
	report("10 % reordered (+45 ms)", &r);
	assert_true(r.envelope > 0.85);
	run(ad, TALK, LISTEN, FROM, TO, &r);
	report("10 % duplicated", &r);
	/* duplicates are dropped: no frame is played twice */
	assert_true(r.received > r.sent);
	assert_true(r.frames <= r.sent);
	assert_true(r.waveform > 0.7 && r.envelope > 0.9);
}

/* The contract for a real LAN: speech stays recognisable at 5 % loss and 40 ms jitter. */
static void test_loss_and_jitter(void **state)
{
	const char *a[] = {"--seed", "8", "--loss", "0.05", "--jitter", "40", NULL};
	struct result r;

	(void)state;
	run(a, TALK, LISTEN, FROM, TO, &r);
	report("5 % loss + 40 ms jitter", &r);
	assert_true(r.envelope > 0.85);
	assert_true(r.waveform > 0.4);
	assert_true(r.frames + r.fec + r.concealed >= r.sent * 9 / 10);
}

/* The listener's link is cut for 10 s mid-talk: afterwards it hears the talker again. */
static void test_link_flap(void **state)
{
	const char *a[] = {"--seed", "9", "--flap-at", "3", "--flap-for", "10", NULL};
	struct result r;

	(void)state;
	/* talk 1-17 s, cut 3-13 s: compare what is heard after the cut */
	run(a, "16", "18", "13.5", "16.5", &r);
	report("10 s link flap (after it)", &r);
	/* about 3 s of 16 heard before the cut and 4 s after it */
	assert_true(r.frames >= (3 + 3) * 50);
	print_message("flap: %s\n", r.reconnected ? "the client reconnected"
						  : "the session lived through it");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_random_loss),
	    cmocka_unit_test(test_burst_loss),
	    cmocka_unit_test(test_jitter_reorder_dup),
	    cmocka_unit_test(test_loss_and_jitter),
	    cmocka_unit_test(test_link_flap),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
