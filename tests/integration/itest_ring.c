/* Ring groups (protocol 1.2) on the real intercomd, over TLS and with --tls off: a door
 * rings #House where two clients wait and a third is busy in a call; the first to
 * accept takes the call, the other's ring stops, and voice flows between the door and
 * the one who answered only. Every member refusing gives the door Deny, nobody free
 * Busy, and an unanswered ring ends at the ring timeout (K times longer under valgrind:
 * what is proved is the order, never a wall-clock figure). */
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

static void start(const char *tls, unsigned ring_s)
{
	char ring_timeout[16];

	k = harness_slowdown();
	snprintf(ring_timeout, sizeof(ring_timeout), "%u", ring_s * k);
	srv_start(&srv, "--tls", tls, "--ring-timeout", ring_timeout, NULL);
	harness_version = "1.2.0";
}

static int setup_tls(void **state)
{
	(void)state;
	start("on", 60);
	return 0;
}

static int setup_plain(void **state)
{
	(void)state;
	start("off", 60);
	return 0;
}

static int setup_short(void **state)
{
	(void)state;
	start("on", 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_version = NULL;
	srv_stop(&srv);
	return 0;
}

static void see(struct cli *c, const char *line)
{
	cli_expect_answering(c, line, (int)(WAIT_MS * k));
}

/* Neither a line (but lists and pings) nor voice for a while: what did not happen. */
static void quiet(struct cli *c)
{
	uint64_t until = now_ms() + 300ull * k;

	while (now_ms() < until) {
		const char *l = cli_recv(c, 50);

		if (l && !strncmp(l, "PING: ", 6))
			cli_send(c, "PONG: %s", l + 6);
		else if (l && strncmp(l, "USERLIST ", 9))
			fail_msg("%s: expected nothing, got '%s'", c->nick, l);
	}
}

enum { DOOR, KITCHEN, OFFICE, BUSY, OTHER, N };
static struct cli c[N];
static const char *const nick[N] = {"Door", "Kitchen", "Office", "Busy", "Other"};

/* Everyone logged in with voice; Kitchen, Office and Busy in #House; Busy in a call
 * with Other. */
static void house(void)
{
	for (int i = 0; i < N; i++) {
		cli_login(&c[i], &srv, nick[i]);
		cli_udp_open(&c[i]);
		cli_voice_register(&c[i]);
	}
	for (int i = KITCHEN; i <= BUSY; i++) {
		cli_send(&c[i], "JOIN: #House");
		see(&c[i], "JOINED: #House");
	}
	cli_send(&c[BUSY], "TALK Other: Request");
	see(&c[OTHER], "TALK Busy: Request");
	cli_send(&c[OTHER], "TALK Busy: Accept");
	see(&c[BUSY], "TALK Other: Accept");
}

static void leave(void)
{
	for (int i = 0; i < N; i++)
		cli_close(&c[i]);
}

static void ring_house(void)
{
	cli_send(&c[DOOR], "TALK #House: Request");
	see(&c[KITCHEN], "TALK Door: Request #House");
	see(&c[OFFICE], "TALK Door: Request #House");
}

/* A marked packet from `from` reaches `to`: true; false when none came within a while. */
static bool heard(struct cli *from, struct cli *to, const char *what)
{
	uint8_t buf[IC_RTP_MAX];
	int n;

	cli_voice(from, what, strlen(what), true);
	n = cli_voice_recv(to, buf, sizeof(buf), (int)(1000 * k));
	return n == (int)(12 + strlen(what)) && !memcmp(buf + 12, what, strlen(what));
}

static void test_first_accept_wins(void **state)
{
	uint8_t buf[IC_RTP_MAX];

	(void)state;
	house();
	ring_house();
	quiet(&c[BUSY]); /* in a call: not rung */
	cli_send(&c[KITCHEN], "TALK Door: Accept");
	see(&c[DOOR], "TALK Kitchen: Accept");
	see(&c[OFFICE], "TALK Door: End"); /* its ring stops */
	cli_send(&c[OFFICE], "TALK Door: Accept");
	see(&c[OFFICE], "ERROR NO_CALL: no such call with that user");
	/* voice between the door and the one who answered, both ways, and nobody else */
	assert_true(heard(&c[DOOR], &c[KITCHEN], "door speaks"));
	assert_true(heard(&c[KITCHEN], &c[DOOR], "kitchen answers"));
	assert_int_equal(cli_voice_recv(&c[OFFICE], buf, sizeof(buf), (int)(300 * k)),
			 -1);
	assert_int_equal(cli_voice_recv(&c[BUSY], buf, sizeof(buf), 0), -1);
	/* and Office's room voice no longer reaches Kitchen */
	cli_voice(&c[OFFICE], "office", 6, true);
	assert_int_equal(cli_voice_recv(&c[KITCHEN], buf, sizeof(buf), (int)(300 * k)),
			 -1);
	cli_send(&c[DOOR], "TALK Kitchen: End");
	see(&c[KITCHEN], "TALK Door: End");
	leave();
}

static void test_all_deny_then_busy(void **state)
{
	(void)state;
	house();
	ring_house();
	cli_send(&c[KITCHEN], "TALK Door: Deny");
	quiet(&c[DOOR]); /* one refusal is not the group's */
	cli_send(&c[OFFICE], "TALK Door: End");
	see(&c[DOOR], "TALK #House: Deny");
	/* nobody free: Kitchen and Office call each other, Busy is in its call */
	cli_send(&c[KITCHEN], "TALK Office: Request");
	see(&c[OFFICE], "TALK Kitchen: Request");
	cli_send(&c[DOOR], "TALK #House: Request");
	see(&c[DOOR], "TALK #House: Busy");
	cli_send(&c[DOOR], "TALK #Bad!: Request");
	see(&c[DOOR], "ERROR BAD_ROOM: room: # and 1-32 of A-Z a-z 0-9 _ - .");
	leave();
}

static void test_ring_timeout(void **state)
{
	uint64_t t0;

	(void)state;
	house();
	ring_house();
	t0 = now_ms();
	see(&c[DOOR], "TALK #House: End");
	see(&c[KITCHEN], "TALK Door: End");
	see(&c[OFFICE], "TALK Door: End");
	assert_true(now_ms() - t0 >= 500ull * k); /* it rang a while first */
	/* the caller leaving while it rings stops every ring */
	ring_house();
	cli_close(&c[DOOR]);
	see(&c[KITCHEN], "TALK Door: End");
	see(&c[OFFICE], "TALK Door: End");
	for (int i = KITCHEN; i < N; i++)
		cli_close(&c[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    {"first_accept_wins_tls", test_first_accept_wins, setup_tls, teardown, NULL},
	    {"first_accept_wins_plain", test_first_accept_wins, setup_plain, teardown,
	     NULL},
	    {"all_deny_then_busy_tls", test_all_deny_then_busy, setup_tls, teardown,
	     NULL},
	    {"all_deny_then_busy_plain", test_all_deny_then_busy, setup_plain, teardown,
	     NULL},
	    {"ring_timeout", test_ring_timeout, setup_short, teardown, NULL},
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
