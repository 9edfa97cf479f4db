/* A ring group on the real binaries, in files mode: a door box with --call #House rings
 * the room where two boxes wait (the kitchen answers by itself, the office does not)
 * and a client busy in a call sits. The kitchen's answer is the call, hands-free both
 * ways; the office's ring, shown as "Door (#House)", stops; nothing reaches the office
 * or the busy client. */
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

/* Busy, a member of #House, in a call with Other: never rung. */
static void busy_in_house(const struct srv *srv, struct cli *busy, struct cli *other)
{
	harness_version = "1.2.0";
	cli_login(busy, srv, "Busy");
	cli_login(other, srv, "Other");
	harness_version = NULL;
	cli_send(busy, "JOIN: #House");
	cli_expect_answering(busy, "JOINED: #House", WAIT_MS);
	cli_send(busy, "TALK Other: Request");
	cli_expect_answering(other, "TALK Busy: Request", WAIT_MS);
	cli_send(other, "TALK Busy: Accept");
	cli_expect_answering(busy, "TALK Other: Accept", WAIT_MS);
}

static void test_door_rings_house(void **state)
{
	struct srv srv;
	struct proc door, kitchen, office;
	struct cli busy, other;
	char in_wav[64];
	const char *k_args[] = {"--join",
				"#House",
				"--auto-accept",
				"--capture-file",
				in_wav,
				"--playback-file",
				"/dev/null",
				"--exit-after",
				"9",
				NULL};
	const char *o_args[] = {"--join",    "#House",	     "--playback-file",
				"/dev/null", "--exit-after", "9",
				NULL};
	const char *d_args[] = {"--call",
				"#House",
				"--capture-file",
				in_wav,
				"--playback-file",
				"/dev/null",
				"--exit-after",
				"5",
				NULL};
	unsigned long long d_sent, d_got, k_sent, k_got;
	const char *log, *ring;
	size_t k_at, o_at;

	(void)state;
	speech_make(in_wav, sizeof(in_wav), 9);
	srv_start(&srv, NULL);
	busy_in_house(&srv, &busy, &other);
	client_start(&kitchen, &srv, "Kitchen", k_args);
	client_start(&office, &srv, "Office", o_args);
	k_at = proc_wait_log(&kitchen, 0, "status: online #House", WAIT_MS);
	o_at = proc_wait_log(&office, 0, "status: online #House", WAIT_MS);
	client_start(&door, &srv, "Door", d_args);
	proc_wait_log(&door, 0, "in call with Kitchen", WAIT_MS);
	proc_wait_log(&kitchen, k_at, "in call with Door", WAIT_MS);
	/* the office rang, shown with the room, and its ring stopped */
	o_at = proc_wait_log(&office, o_at, "call from Door (#House)", WAIT_MS);
	proc_wait_log(&office, o_at, "tone: disconnected", WAIT_MS);
	assert_int_equal(proc_wait(&door, 15000), 0);
	assert_int_equal(proc_wait(&kitchen, 15000), 0);
	assert_int_equal(proc_wait(&office, 15000), 0);
	log = proc_log(&door);
	assert_non_null(strstr(log, "calling #House"));
	assert_non_null(strstr(log, "| TALKING | in call with Kitchen")); /* hands-free */
	d_sent = log_value(log, "voice: sent ");
	d_got = log_value(log, "frames ");
	log = proc_log(&kitchen);
	k_sent = log_value(log, "voice: sent ");
	k_got = log_value(log, "frames ");
	ring = strstr(proc_log(&office), "call from Door (#House)");
	assert_non_null(ring);
	assert_null(strstr(ring, "in call with")); /* never answered */
	print_message("door sent %llu, the kitchen decoded %llu; the kitchen sent %llu, "
		      "the door decoded %llu; the office decoded %llu\n",
		      d_sent, k_got, k_sent, d_got,
		      log_value(proc_log(&office), "frames "));
	/* a call of seconds both ways (a press would not be), and nothing to the office
	 */
	assert_true(d_sent >= 100 && k_sent >= 100);
	assert_true(k_got * 100 >= d_sent * 90);
	assert_true(d_got * 100 >= k_sent * 90);
	assert_int_equal(log_value(proc_log(&office), "frames "), 0);
	/* the busy member was never rung */
	cli_send(&busy, "PING: done");
	cli_expect_answering(&busy, "PONG: done", WAIT_MS);
	cli_close(&busy);
	cli_close(&other);
	srv_stop(&srv);
	unlink(in_wav);
}

/* A door whose room cannot answer says why, and plays the busy tone: its room holds
 * nobody but itself ("nobody in #Porch is free"), or does not exist ("nobody is in
 * #Nowhere"). */
static void door_alone(const struct srv *srv, const char *join, const char *room,
		       const char *why)
{
	const char *args[] = {
	    "--join",	 join,		 "--call", room, "--playback-file",
	    "/dev/null", "--exit-after", "3",	   NULL};
	struct proc door;
	size_t at;

	client_start(&door, srv, "Door", args);
	at = proc_wait_log(&door, 0, why, WAIT_MS);
	proc_wait_log(&door, at, "tone: busy", WAIT_MS);
	assert_int_equal(proc_wait(&door, 15000), 0);
	assert_null(strstr(proc_log(&door), "in call with"));
}

static void test_door_rings_nobody(void **state)
{
	struct srv srv;

	(void)state;
	srv_start(&srv, NULL);
	door_alone(&srv, "#Porch", "#Porch", "nobody in #Porch is free");
	door_alone(&srv, "#Porch", "#Nowhere", "nobody is in #Nowhere");
	srv_stop(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_door_rings_house),
	    cmocka_unit_test(test_door_rings_nobody),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
