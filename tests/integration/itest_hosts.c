/* What one host may cost, against the real intercomd over TLS: its handshakes, its
 * connections that never log in, its sessions and its new nick bindings are bounded per
 * source (guard.h), and honest boxes on other addresses get in meanwhile. The attacker
 * is 127.0.0.2-9 (all of 127.0.0.0/8 is loopback on Linux, and the server tells the
 * addresses apart as it would hosts on a LAN); honest boxes are 127.0.0.1 (trusted, as a
 * gateway on the server's host) and 127.0.0.20+. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_tls.h"
#include "ic_limits.h"

#define ADDRS	  8 /* the attacker's addresses: 127.0.0.2-9 */
#define PER_ADDR  4 /* its connections per address */
#define HONEST	  8 /* honest boxes logging in through the attack */
#define HALF_ONLY 1 /* an attacker connection that sends 0x16 and stops */

static void attacker_open(struct cli *c, const struct srv *s, int addr, bool half)
{
	char from[32];

	snprintf(from, sizeof(from), "127.0.0.%d", 2 + addr);
	harness_raw = true;
	cli_connect_from(c, s, from);
	harness_raw = false;
	if (half) /* a ClientHello's first byte, and nothing more: a slow handshake */
		cli_send_unpaced(c, "\x16", HALF_ONLY);
}

/* Wait until the server has counted addr's half handshakes up to its share: one more
 * from addr, and the server closes one of the five (the per-source limit), which it
 * does only once it counted four. When that is one of the four, the new one takes its
 * place. No sleep: the server's own close says it is done. */
static void attacker_settle(struct cli att[PER_ADDR], const struct srv *s, int addr)
{
	static struct cli extra;
	uint64_t end = now_ms() + 2 * WAIT_MS;

	attacker_open(&extra, s, addr, true);
	while (now_ms() < end) {
		if (cli_closed(&extra, 20)) {
			cli_close(&extra);
			return;
		}
		for (int i = 0; i < PER_ADDR; i++) {
			if (cli_closed(&att[i], 0)) {
				cli_close(&att[i]);
				att[i] = extra;
				return;
			}
		}
	}
	fail_msg("the server never held 127.0.0.%d at its share of handshakes", 2 + addr);
}

/* Reopen every attacker connection the server has closed, and (half handshakes) wait
 * until the server counts them; returns how many were reopened. */
static int attacker_reopen(struct cli att[ADDRS][PER_ADDR], const struct srv *s,
			   bool half)
{
	int n = 0;

	for (int a = 0; a < ADDRS; a++) {
		int here = 0;

		for (int i = 0; i < PER_ADDR; i++) {
			if (!cli_closed(&att[a][i], 0))
				continue;
			cli_close(&att[a][i]);
			attacker_open(&att[a][i], s, a, half);
			here++;
		}
		if (half && here)
			attacker_settle(att[a], s, a);
		n += here;
	}
	return n;
}

/* The number after key in the last line of the log that has it (the totals line at
 * the stop, not an earlier status line). */
static unsigned long long last_value(const char *log, const char *key)
{
	const char *at = NULL, *p = log;

	while ((p = strstr(p, key)))
		at = p++;
	if (!at)
		fail_msg("'%s' not in the log:\n%s", key, log);
	return strtoull(at + strlen(key), NULL, 10);
}

/* One host with 8 addresses holding 4 connections each, reopened as the server closes
 * them, while honest boxes log in one after the other: every honest box gets in. With
 * half handshakes the TLS pool (32) is full when each box arrives, and the box takes the
 * place of the attacker's oldest; with silent connections the connection table is (a
 * server of 16 clients: 32 slots). */
static void through_attack(bool half, const char *counter)
{
	static struct cli att[ADDRS][PER_ADDR];
	struct cli box[HONEST];
	struct srv srv;
	int reopened = 0;

	if (half)
		srv_start(&srv, NULL);
	else
		srv_start(&srv, "--max-clients", "16", NULL);
	for (int a = 0; a < ADDRS; a++) {
		for (int i = 0; i < PER_ADDR; i++)
			attacker_open(&att[a][i], &srv, a, half);
		if (half) /* the pool is full before the first box comes */
			attacker_settle(att[a], &srv, a);
	}
	for (int b = 0; b < HONEST; b++) {
		char nick[32], from[32];

		snprintf(nick, sizeof(nick), "Box%d", b);
		snprintf(from, sizeof(from), "127.0.0.%d", 20 + b);
		/* the attack is whole again before each box */
		reopened += attacker_reopen(att, &srv, half);
		cli_login_from(&box[b], &srv, nick, from);
	}
	/* everyone already in stays in */
	for (int b = 0; b < HONEST; b++) {
		cli_send(&box[b], "PING: still");
		cli_wait_for(&box[b], "PONG: still"); /* after room lists */
	}
	for (int b = 0; b < HONEST; b++)
		cli_close(&box[b]);
	for (int a = 0; a < ADDRS; a++)
		for (int i = 0; i < PER_ADDR; i++)
			cli_close(&att[a][i]);
	srv_stop(&srv);
	/* the boxes took attackers' places (the pool or table was full for them: for
	 * each of them on a quiet machine; on a slow one, under valgrind, the 10 s bound
	 * may close some attacker handshakes before a box comes, and it finds room) */
	assert_true(last_value(srv_log(&srv), counter) >= 1);
	assert_true(reopened >= 1); /* the attack was kept whole */
}

static void test_slow_handshakes(void **state)
{
	(void)state;
	through_attack(true, "refused (too many at once), ");
}

static void test_silent_table_full(void **state)
{
	(void)state;
	through_attack(false, "per host: ");
}

/* One address logging in sessions, each with a key of its own: held at
 * IC_SESSIONS_PER_SOURCE (SERVER_FULL, closed, logged once), while another host logs in;
 * one of its boxes logging in again replaces its old session (not one more); one of its
 * sessions leaving makes room for one; the trusted 127.0.0.1 is not held. */
static void test_sessions_per_source(void **state)
{
	static struct cli s[IC_SESSIONS_PER_SOURCE + 1], lo[IC_SESSIONS_PER_SOURCE + 2];
	struct cli over, other;
	struct srv srv;
	const char *at;
	int logged = 0;

	(void)state;
	srv_start(&srv, NULL);
	for (int i = 0; i < IC_SESSIONS_PER_SOURCE; i++) {
		char nick[32];

		snprintf(nick, sizeof(nick), "Fresh%d", i);
		cli_login_from(&s[i], &srv, nick, "127.0.0.2");
	}
	for (int i = 0; i < 2; i++) {
		cli_connect_as(&over, &srv, "Over", "127.0.0.2");
		cli_send(&over, "CONNECT: \"Over\" \"\" 1.1.0");
		cli_expect(&over,
			   "ERROR SERVER_FULL: too many sessions from your address");
		cli_expect_closed(&over);
		cli_close(&over);
	}
	/* a box back from a Wi-Fi drop takes its old session's place, at the bound too */
	cli_login_from(&over, &srv, "Fresh3", "127.0.0.2");
	cli_wait_for(&s[3], "ERROR REPLACED: logged in again from the same box");
	cli_expect_closed(&s[3]);
	cli_close(&s[3]);
	s[3] = over;
	cli_connect_as(&over, &srv, "Over", "127.0.0.2"); /* and still no more */
	cli_send(&over, "CONNECT: \"Over\" \"\" 1.1.0");
	cli_expect(&over, "ERROR SERVER_FULL: too many sessions from your address");
	cli_close(&over);
	cli_login_from(&other, &srv, "Other", "127.0.0.20");
	cli_close(&s[0]);
	for (;;) { /* the server has seen Fresh0 leave: the list says so */
		const char *l = cli_recv(&other, WAIT_MS);

		assert_non_null(l);
		if (!strncmp(l, "USERLIST #Lobby: ", 17) && !strstr(l, "Fresh0,"))
			break;
	}
	cli_login_from(&s[0], &srv, "Again", "127.0.0.2");
	for (int i = 0; i < IC_SESSIONS_PER_SOURCE + 2; i++) {
		char nick[32];

		snprintf(nick, sizeof(nick), "Gateway%d", i);
		cli_login(&lo[i], &srv, nick);
	}
	for (int i = 0; i < IC_SESSIONS_PER_SOURCE; i++)
		cli_close(&s[i]);
	for (int i = 0; i < IC_SESSIONS_PER_SOURCE + 2; i++)
		cli_close(&lo[i]);
	cli_close(&other);
	srv_stop(&srv);
	for (at = srv_log(&srv); (at = strstr(at, "logins from 127.0.0.2 refused")); at++)
		logged++;
	assert_int_equal(logged, 1);
	assert_int_equal(last_value(srv_log(&srv), "(table full), "), 3);
}

/* Bindings from one address stop at IC_BINDS_PER_SOURCE an hour: the next new nick logs
 * in unbound (no REGISTERED; logged), so a box on another address can still bind it;
 * another address binds as before. */
static void test_binds_per_source(void **state)
{
	struct cli c, thief;
	struct srv srv;

	(void)state;
	srv_start(&srv, NULL);
	for (int i = 0; i < IC_BINDS_PER_SOURCE; i++) {
		char nick[32];

		snprintf(nick, sizeof(nick), "Name%d", i);
		cli_login_from(&c, &srv, nick, "127.0.0.3");
		assert_non_null(strstr(c.registered, nick));
		cli_close(&c);
	}
	cli_login_from(&c, &srv, "Kitchen", "127.0.0.3");
	assert_string_equal(c.registered, ""); /* logged in, not bound */
	cli_close(&c);
	/* the nick is nobody's: another box binds it */
	harness_key = htls_key_new(); /* another box's key */
	cli_login_from(&thief, &srv, "kitchen", "127.0.0.21");
	assert_non_null(strstr(thief.registered, "kitchen"));
	cli_close(&thief);
	htls_key_free(harness_key);
	harness_key = NULL;
	srv_stop(&srv);
	assert_non_null(strstr(srv_log(&srv), "nick registry: 127.0.0.3 bound 16 new "
					      "nicks within the hour: Kitchen logs in"));
	assert_non_null(strstr(srv_log(&srv), "kitchen is registered to"));
	assert_int_equal(last_value(srv_log(&srv), "voice packets over its rate, "), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slow_handshakes),
	    cmocka_unit_test(test_silent_table_full),
	    cmocka_unit_test(test_sessions_per_source),
	    cmocka_unit_test(test_binds_per_source),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
