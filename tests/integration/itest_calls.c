/* Calls and timers against the real intercomd: busy, ring timeout, cancel while ringing,
 * a peer vanishing mid-call, ping and login timeouts. Short timer settings, K times
 * longer under valgrind (harness_slowdown), and every wait with them: what is proved is
 * the order of events (rang before it ended, dropped while the other stayed), never a
 * wall-clock figure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct srv srv;
static unsigned k; /* harness_slowdown() */

static int setup(void **state)
{
	char ping_interval[16], ping_timeout[16], ring_timeout[16];

	(void)state;
	k = harness_slowdown();
	snprintf(ping_interval, sizeof(ping_interval), "%u", 1 * k);
	snprintf(ping_timeout, sizeof(ping_timeout), "%u", 2 * k);
	snprintf(ring_timeout, sizeof(ring_timeout), "%u", 1 * k);
	srv_start(&srv, "--ping-interval", ping_interval, "--ping-timeout", ping_timeout,
		  "--ring-timeout", ring_timeout, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_stop(&srv);
	return 0;
}

/* Answer the server's PINGs and skip USERLISTs while waiting for `line`; any other line
 * fails the test. */
static void wait_answering(struct cli *c, const char *line)
{
	cli_expect_answering(c, line, (int)(WAIT_MS * k));
}

static void test_ring_timeout(void **state)
{
	struct cli a, b;
	uint64_t t0;

	(void)state;
	cli_login(&a, &srv, "Caller");
	cli_login(&b, &srv, "Callee");
	cli_expect(&a, "USERLIST #Lobby: Caller, Callee");
	cli_send(&a, "TALK Callee: Request");
	wait_answering(&b, "TALK Caller: Request");
	t0 = now_ms();
	wait_answering(&a, "TALK Callee: End");
	wait_answering(&b, "TALK Caller: End");
	/* it rang for a while first; no upper bound */
	assert_true(now_ms() - t0 >= 500ull * k);
	/* both are free again */
	cli_send(&b, "TALK Caller: Request");
	wait_answering(&a, "TALK Callee: Request");
	cli_send(&a, "TALK Callee: Accept");
	wait_answering(&b, "TALK Caller: Accept");
	/* an active call does not time out (1.5 ring timeouts) */
	cli_expect_silence(&a, 0);
	for (unsigned i = 0; i < 15 * k; i++) {
		const char *l = cli_recv(&a, 100);

		if (l && !strncmp(l, "PING: ", 6))
			cli_send(&a, "PONG: %s", l + 6);
		else if (l)
			fail_msg("unexpected '%s' in an active call", l);
	}
	cli_send(&a, "TALK Callee: End");
	wait_answering(&b, "TALK Caller: End");
	cli_close(&a);
	cli_close(&b);
}

static void test_cancel_and_vanish(void **state)
{
	struct cli a, b, c;

	(void)state;
	cli_login(&a, &srv, "A");
	cli_login(&b, &srv, "B");
	cli_login(&c, &srv, "C");
	/* cancel while ringing */
	cli_send(&a, "TALK B: Request");
	wait_answering(&b, "TALK A: Request");
	cli_send(&a, "TALK B: End");
	wait_answering(&b, "TALK A: End");
	/* busy: B is ringing with C */
	cli_send(&c, "TALK B: Request");
	wait_answering(&b, "TALK C: Request");
	cli_send(&a, "TALK B: Request");
	wait_answering(&a, "TALK B: Busy");
	cli_send(&a, "TALK C: Request"); /* the caller side is busy too */
	wait_answering(&a, "TALK C: Busy");
	/* the caller vanishes while ringing */
	cli_close(&c);
	wait_answering(&b, "TALK C: End");
	/* peer vanishing mid-call */
	cli_send(&a, "TALK B: Request");
	wait_answering(&b, "TALK A: Request");
	cli_send(&b, "TALK A: Accept");
	wait_answering(&a, "TALK B: Accept");
	cli_close(&b);
	wait_answering(&a, "TALK B: End");
	cli_send(&a, "TALK B: End");
	wait_answering(&a, "ERROR NO_CALL: no such call with that user");
	cli_close(&a);
}

static void test_ping_timeout(void **state)
{
	struct cli quiet, live;
	const char *l;

	(void)state;
	cli_login(&live, &srv, "Live");
	cli_login(&quiet, &srv, "Quiet");
	wait_answering(&live, "USERLIST #Lobby: Live, Quiet");
	/* Quiet never answers: PING, then closed; Live answers and stays */
	l = cli_recv(&quiet, (int)(WAIT_MS * k));
	assert_non_null(l);
	assert_true(!strncmp(l, "PING: ", 6) && strlen(l) > 6);
	{
		uint64_t until = now_ms() + (uint64_t)WAIT_MS * k;
		bool closed = false, told = false;

		while (now_ms() < until && !(closed && told)) {
			closed = closed || cli_closed(&quiet, 0);
			l = cli_recv(&live, 50);
			if (l && !strncmp(l, "PING: ", 6))
				cli_send(&live, "PONG: %s", l + 6);
			else if (l && !strcmp(l, "USERLIST #Lobby: Live"))
				told = true;
		}
		assert_true(closed);
		assert_true(told);
	}
	for (unsigned i = 0; i < 30 * k; i++) { /* 1.5 ping timeouts */
		l = cli_recv(&live, 100);
		if (l && !strncmp(l, "PING: ", 6))
			cli_send(&live, "PONG: %s", l + 6);
	}
	cli_send(&live, "PRIVMSG Live: still here");
	wait_answering(&live, "PRIVMSG Live: still here");
	cli_close(&live);
	cli_close(&quiet);
}

static void test_login_timeout(void **state)
{
	struct cli idle, half;

	(void)state;
	cli_connect(&idle, &srv);
	strcpy(idle.nick, "idle");
	cli_connect(&half, &srv);
	strcpy(half.nick, "half");
	cli_send(&half, "CONNECT: \"Half\" \"\" 1.1.0");
	cli_expect_prefix(&half, "ACCEPT: ");
	assert_true(cli_closed(&idle, (int)(WAIT_MS * k))); /* never logged in */
	assert_true(cli_closed(&half, (int)(WAIT_MS * k))); /* never sent its PONG */
	cli_close(&idle);
	cli_close(&half);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ring_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_and_vanish, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_login_timeout, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
