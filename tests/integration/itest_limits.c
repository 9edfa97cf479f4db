/* Limits against the real intercomd: server full, raw connection cap, flood, and a client
 * that never reads (it must not delay anybody else's lines or voice). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static void test_server_full(void **state)
{
	struct srv srv;
	struct cli a, b, c, raw[20];
	int closed = 0;

	(void)state;
	srv_start(&srv, "--max-clients", "2", NULL);
	cli_login(&a, &srv, "One");
	cli_connect(&b, &srv);
	cli_send(&b, "CONNECT: \"Two\" \"\" 1.1.0"); /* awaiting PONG counts */
	cli_expect_prefix(&b, "ACCEPT: ");
	cli_connect(&c, &srv);
	strcpy(c.nick, "Three");
	cli_send(&c, "CONNECT: \"Three\" \"\" 1.1.0");
	cli_expect(&c, "ERROR SERVER_FULL: the server is full, try again later");
	cli_expect_closed(&c);
	cli_close(&c);
	/* raw connections beyond max-clients + 16 are closed on accept: b and a hold 2.
	 * Four hosts at most per address, under the pending-handshake limit per
	 * source */
	harness_raw = true;
	for (int i = 0; i < 20; i++) {
		char from[32];

		snprintf(from, sizeof(from), "127.0.3.%d", 1 + i / 4);
		cli_connect_from(&raw[i], &srv, from);
	}
	harness_raw = false;
	for (int i = 0; i < 20; i++) {
		if (cli_closed(&raw[i], i < 14 ? 50 : 1000))
			closed++;
	}
	assert_int_equal(closed, 20 - (2 + 16 - 2));
	for (int i = 0; i < 20; i++)
		cli_close(&raw[i]);
	/* when one leaves, a new login fits again */
	cli_close(&b);
	usleep(200000);
	cli_login(&c, &srv, "Three");
	cli_close(&a);
	cli_close(&c);
	srv_stop(&srv);
}

static void test_flood(void **state)
{
	struct srv srv;
	struct cli f, o;
	char burst[40 * 9];
	int floods = 0, pongs = 0;
	const char *l;

	(void)state;
	srv_start(&srv, NULL);
	cli_login(&f, &srv, "Flooder");
	cli_login(&o, &srv, "Other");
	cli_expect(&f, "USERLIST #Lobby: Flooder, Other");
	/* 40 lines at once: the burst (20, less the two login lines) passes, the rest is
	 * dropped with one ERROR FLOOD */
	for (int i = 0; i < 40; i++)
		memcpy(burst + 9 * i, "PING: xx\n", 9);
	cli_send_unpaced(&f, burst, sizeof(burst));
	while ((l = cli_recv(&f, 500))) {
		if (!strcmp(l, "PONG: xx"))
			pongs++;
		else if (!strncmp(l, "ERROR FLOOD: ", 13))
			floods++;
		else
			fail_msg("unexpected '%s'", l);
	}
	assert_int_equal(floods, 1);
	assert_true(pongs >= 18 && pongs <= 24);
	/* after a pause the bucket refills and the client goes on */
	usleep(1200000);
	cli_send(&f, "PRIVMSG Other: calm again");
	cli_expect(&o, "PRIVMSG Flooder: calm again");
	/* a flood that goes on (over 100 lines dropped within 10 s) disconnects */
	{
		char many[300 * 9];

		for (int i = 0; i < 300; i++)
			memcpy(many + 9 * i, "PING: yy\n", 9);
		cli_send_unpaced(&f, many, sizeof(many));
	}
	cli_expect_closed(&f);
	cli_expect(&o, "USERLIST #Lobby: Other");
	cli_close(&f);
	cli_close(&o);
	srv_stop(&srv);
}

/* A client with a tiny receive window that never reads; many talkers fill its queue. */
static void test_stalled_reader(void **state)
{
	enum { TALKERS = 12 };
	struct srv srv;
	struct cli stall, fast, talk[TALKERS];
	char text[480], want[520];
	int rcv = 2048, got_lines = 0, got_voice = 0;
	bool dropped = false;

	(void)state;
	srv_start(&srv, NULL);
	/* the stalled client: shrink its window before connecting, then log in normally
	 */
	cli_login(&stall, &srv, "Stall");
	setsockopt(stall.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	cli_login(&fast, &srv, "Fast");
	cli_voice_register(&fast);
	for (int i = 0; i < TALKERS; i++) {
		char nick[16];

		snprintf(nick, sizeof(nick), "T%d", i);
		cli_login(&talk[i], &srv, nick);
		cli_voice_register(&talk[i]);
	}
	/* drain what Fast has so far */
	while (cli_recv(&fast, 200))
		;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	snprintf(want, sizeof(want), "PRIVMSG #Lobby T0: %s", text);
	/* rounds: every talker sends a long room message and a voice packet; Fast must
	 * get every line and packet while Stall's queue grows until the server drops it
	 */
	for (int round = 0; round < 80 && !dropped; round++) {
		for (int i = 0; i < TALKERS; i++) {
			cli_send(&talk[i], "PRIVMSG #Lobby: %s", text);
			cli_voice(&talk[i], "v", 1, false);
		}
		for (int i = 0; i < TALKERS; i++) {
			const char *l = cli_recv(&fast, WAIT_MS);
			uint8_t buf[64];

			assert_non_null(l);
			if (!strncmp(l, "USERLIST",
				     8)) { /* Stall left: everyone is told */
				dropped = true;
				l = cli_recv(&fast, WAIT_MS);
				assert_non_null(l);
			}
			assert_true(!strncmp(l, "PRIVMSG #Lobby T", 16));
			got_lines++;
			assert_true(cli_voice_recv(&fast, buf, sizeof(buf), WAIT_MS) > 0);
			got_voice++;
		}
		for (int i = 0; i < TALKERS; i++) { /* talkers read and discard */
			while (cli_recv(&talk[i], 0))
				;
		}
	}
	assert_true(dropped);
	assert_true(got_lines >= TALKERS * 20);
	assert_int_equal(got_lines, got_voice);
	/* and Stall's connection is closed */
	assert_true(cli_closed(&stall, WAIT_MS));
	cli_close(&stall);
	cli_close(&fast);
	for (int i = 0; i < TALKERS; i++)
		cli_close(&talk[i]);
	srv_stop(&srv);
}

/* Out of descriptors: connections beyond the server's limit get nothing, clients already
 * in keep working, and it accepts again once clients leave (it pauses accepting for a
 * second rather than spin on the pending connection). Started with 16 descriptors. */
static void test_out_of_descriptors(void **state)
{
	enum { LIMIT = 32, EXTRA = 32 };
	struct srv srv;
	struct cli c[EXTRA], late;
	struct rlimit old, low;
	int refused = 0;

	(void)state;
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = LIMIT; /* the loader needs a few for libssl and libcrypto */
	setrlimit(RLIMIT_NOFILE, &low); /* inherited by the server */
	srv_start(&srv, NULL);
	setrlimit(RLIMIT_NOFILE, &old);
	/* stdio, listener, UDP: LIMIT - 5 descriptors left for clients (fewer under
	 * valgrind). Plain TCP: one the server took answers its line at once (with
	 * TLS_REQUIRED), one it could not take hears nothing. */
	harness_raw = true;
	for (int i = 0; i < EXTRA; i++)
		cli_connect(&c[i], &srv);
	harness_raw = false;
	/* every line goes out first, and the answers are read within the second of the
	 * server's accept pause: each answered connection is closed and frees its
	 * descriptor, and after the pause the server would take the rest */
	for (int i = 0; i < EXTRA; i++)
		cli_send(&c[i], "PING: %d", i);
	for (int i = 0; i < EXTRA; i++) {
		if (!cli_recv(&c[i], i == 0 ? 300 : 0))
			refused++;
	}
	assert_true(refused >= EXTRA - (LIMIT - 5)); /* the server ran out */
	assert_true(refused < EXTRA);		     /* and served those it had */
	for (int i = 0; i < EXTRA; i++)
		cli_close(&c[i]);
	/* after the pause the server accepts again */
	usleep(1500000);
	cli_login(&late, &srv, "Late");
	cli_send(&late, "PING: back");
	cli_expect(&late, "PONG: back");
	cli_close(&late);
	srv_stop(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_server_full),
	    cmocka_unit_test(test_flood),
	    cmocka_unit_test(test_stalled_reader),
	    cmocka_unit_test(test_out_of_descriptors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
