/* Every ERROR code, line-length and encoding boundaries, and login edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ic_limits.h"

static struct srv srv;

static int setup(void **state)
{
	(void)state;
	srv_start(&srv, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_stop(&srv);
	return 0;
}

static void test_before_login(void **state)
{
	struct cli c;
	const char *l;

	(void)state;
	cli_connect(&c, &srv);
	strcpy(c.nick, "anon");
	cli_send(&c, "JOIN: #Room");
	cli_expect(&c, "ERROR NOT_LOGGED_IN: log in first: CONNECT, then PONG");
	cli_send(&c, "PRIVMSG #Lobby: hi");
	cli_expect_prefix(&c, "ERROR NOT_LOGGED_IN: ");
	cli_send(&c, "PART: #Lobby");
	cli_expect_prefix(&c, "ERROR NOT_LOGGED_IN: ");
	cli_send(&c, "USERLIST: #Lobby");
	cli_expect_prefix(&c, "ERROR NOT_LOGGED_IN: ");
	cli_send(&c, "TALK x: Request");
	cli_expect_prefix(&c, "ERROR NOT_LOGGED_IN: ");
	cli_send(&c, "FROB: x");
	cli_expect(&c, "ERROR UNKNOWN_COMMAND: unknown command");
	cli_send(&c, "PING: abc 123");
	cli_expect(&c, "PONG: abc 123");
	cli_send(&c, "PONG: 1234"); /* no ping outstanding: ignored */
	cli_expect_silence(&c, 100);

	/* bad CONNECTs: the client may try again on the same connection */
	cli_send(&c, "CONNECT: \"bad nick\" \"x\" 1.1.0");
	cli_expect_prefix(&c, "ERROR BAD_NICK: ");
	cli_send(&c, "CONNECT: \"\" \"x\" 1.1.0");
	cli_expect_prefix(&c, "ERROR BAD_NICK: ");
	cli_send(&c, "CONNECT: \"a#b\" \"x\" 1.1.0");
	cli_expect_prefix(&c, "ERROR BAD_NICK: ");
	cli_send(&c,
		 "CONNECT: \"abcdefghijklmnopqrstuvwxyz0123456\" \"x\" 1.1.0"); /* 33 */
	cli_expect_prefix(&c, "ERROR BAD_NICK: ");
	cli_send(&c, "CONNECT: \"Ann\" \"x\" 2.0.0");
	cli_expect_prefix(&c, "ERROR BAD_VERSION: ");
	cli_send(&c, "CONNECT: \"Ann\" \"x\" 1.0");
	cli_expect_prefix(&c, "ERROR BAD_VERSION: ");
	cli_send(&c, "CONNECT: \"Ann\" \"x\" one");
	cli_expect_prefix(&c, "ERROR BAD_VERSION: ");
	cli_send(&c, "CONNECT: \"Ann\" \"x\\\"y\" 1.1.0");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: ");
	cli_send(&c, "CONNECT: \"Ann\"");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: ");
	cli_send(&c, "CONNECT");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: ");
	cli_send(
	    &c, "CONNECT: \"Ann\" \"%s\" 1.1.0",
	    "0123456789012345678901234567890123456789012345678901234567890123456789");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: "); /* real name over 64 bytes */

	/* then a good one, a wrong PONG (ignored), a second CONNECT, the right PONG */
	cli_send(&c, "CONNECT: \"Ann\" \"Ann \xc3\x85sa\" 1.4.2");
	cli_expect_prefix(&c, "ACCEPT: ");
	cli_expect_prefix(&c, "VOICE: ");
	l = cli_expect_prefix(&c, "PING: ");
	{
		char cookie[32];

		snprintf(cookie, sizeof(cookie), "%s", l + 6);
		cli_send(&c, "PONG: 1%s", cookie);
		cli_expect_silence(&c, 200);
		cli_send(&c, "JOIN: #Room");
		cli_expect_prefix(&c, "ERROR NOT_LOGGED_IN: ");
		cli_send(&c, "CONNECT: \"Other\" \"x\" 1.1.0");
		cli_expect_prefix(&c, "ERROR ALREADY_LOGGED_IN: ");
		cli_send(&c, "PONG: %s", cookie);
	}
	cli_expect(&c, "JOINED: #Lobby");
	cli_expect(&c, "USERLIST #Lobby: Ann");
	cli_send(&c, "CONNECT: \"Ann\" \"x\" 1.1.0");
	cli_expect_prefix(&c, "ERROR ALREADY_LOGGED_IN: ");
	cli_close(&c);
}

static void test_nick_in_use(void **state)
{
	struct cli a, b, waiting;

	(void)state;
	cli_login(&a, &srv, "Alice");
	cli_connect(&b, &srv); /* a box of its own */
	cli_send(&b, "CONNECT: \"alice\" \"x\" 1.1.0");
	/* over TLS Alice's first login bound the nick to her key: in any case */
	cli_expect_prefix(&b, "ERROR NICK_REGISTERED: ");
	/* a nick awaiting its PONG is reserved too, its binding not made yet */
	cli_connect(&waiting, &srv);
	cli_send(&waiting, "CONNECT: \"Bob\" \"x\" 1.1.0");
	cli_expect_prefix(&waiting, "ACCEPT: ");
	cli_send(&b, "CONNECT: \"BOB\" \"x\" 1.1.0");
	cli_expect_prefix(&b, "ERROR NICK_IN_USE: ");
	cli_send(&b, "CONNECT: Carol \"\" 1.1.0"); /* quotes are optional for one word */
	cli_expect_prefix(&b, "ACCEPT: ");
	cli_close(&a);
	cli_close(&b);
	cli_close(&waiting);
}

static void test_line_errors(void **state)
{
	struct cli c, d;
	char buf[1024];

	(void)state;
	cli_login(&c, &srv, "Lines");
	cli_login(&d, &srv, "Reader");
	cli_expect(&c, "USERLIST #Lobby: Lines, Reader");

	/* 511 bytes + LF = 512: fine. "PRIVMSG Reader: " is 16 bytes. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "PRIVMSG Reader: ", 16);
	buf[511] = '\n';
	cli_send_raw(&c, buf, 512);
	{
		const char *l = cli_expect_prefix(&d, "PRIVMSG Lines: aaa");

		assert_int_equal(strlen(l), strlen("PRIVMSG Lines: ") + 511 - 16);
	}
	/* 510 + CR LF = 512: fine */
	buf[510] = '\r';
	buf[511] = '\n';
	cli_send_raw(&c, buf, 512);
	cli_expect_prefix(&d, "PRIVMSG Lines: aaa");
	/* 512 + LF = 513: too long, and the rest up to LF is dropped */
	buf[511] = 'a';
	buf[512] = '\n';
	cli_send_raw(&c, buf, 513);
	cli_expect(&c, "ERROR LINE_TOO_LONG: lines are at most 512 bytes");
	cli_expect_silence(&d, 200);
	/* 511 + CR + LF = 513: too long too (the terminator counts) */
	buf[511] = '\r';
	buf[512] = '\n';
	cli_send_raw(&c, buf, 513);
	cli_expect_prefix(&c, "ERROR LINE_TOO_LONG: ");
	/* answered as soon as 512 bytes are in, before any LF; the session goes on */
	cli_send_raw(&c, buf, 511);
	cli_expect_silence(&c, 100);
	cli_send_raw(&c, "bb", 2);
	cli_expect_prefix(&c, "ERROR LINE_TOO_LONG: ");
	cli_send_raw(&c, "ccc\nPRIVMSG Reader: after\n", 26);
	cli_expect(&d, "PRIVMSG Lines: after");

	/* encoding */
	cli_send(&c, "PRIVMSG Reader: \xff\xfe");
	cli_expect_prefix(&c, "ERROR BAD_ENCODING: ");
	cli_send(&c, "PRIVMSG Reader: \xc0\xaf"); /* overlong '/' */
	cli_expect_prefix(&c, "ERROR BAD_ENCODING: ");
	cli_send(&c, "PRIVMSG Reader: \xed\xa0\x80"); /* surrogate */
	cli_expect_prefix(&c, "ERROR BAD_ENCODING: ");
	cli_send(&c, "PRIVMSG Reader: bell\x07");
	cli_expect_prefix(&c, "ERROR BAD_ENCODING: ");
	cli_send(&c, "PRIVMSG Reader: del\x7f");
	cli_expect_prefix(&c, "ERROR BAD_ENCODING: ");
	cli_send_raw(&c, "PRIVMSG Reader: nul\0x\n", 22);
	cli_expect_prefix(&c, "ERROR BAD_ENCODING: ");
	cli_send(&c, "PRIVMSG Reader: cr\rmid");
	cli_expect_prefix(&c, "ERROR BAD_ENCODING: ");
	cli_send(&c, "PRIVMSG Reader: tab\tis fine");
	cli_expect(&d, "PRIVMSG Lines: tab\tis fine");

	/* empty lines are ignored */
	cli_send_raw(&c, "\n\r\n\n", 4);
	cli_expect_silence(&c, 200);

	/* shape */
	cli_send(&c, "PRIVMSG a b: x");
	cli_expect(&c, "ERROR BAD_LINE: expected: VERB[ TARGET][: ARGS]");
	cli_send(&c, ": x");
	cli_expect_prefix(&c, "ERROR BAD_LINE: ");
	cli_send(&c, " JOIN: #x");
	cli_expect_prefix(&c, "ERROR BAD_LINE: ");
	cli_send(&c, "JO1N: #x");
	cli_expect_prefix(&c, "ERROR BAD_LINE: ");
	cli_close(&c);
	cli_close(&d);
}

static void test_room_and_user_errors(void **state)
{
	struct cli c, d;
	char room[16];

	(void)state;
	cli_login(&c, &srv, "Roomy");
	cli_send(&c, "JOIN: Room");
	cli_expect_prefix(&c, "ERROR BAD_ROOM: ");
	cli_send(&c, "JOIN: #");
	cli_expect_prefix(&c, "ERROR BAD_ROOM: ");
	cli_send(&c, "JOIN: #a b");
	cli_expect_prefix(&c, "ERROR BAD_ROOM: ");
	cli_send(&c, "JOIN: #abcdefghijklmnopqrstuvwxyz0123456"); /* 33 after # */
	cli_expect_prefix(&c, "ERROR BAD_ROOM: ");
	cli_send(&c, "JOIN: #abcdefghijklmnopqrstuvwxyz012345"); /* 32: fine */
	cli_expect(&c, "JOINED: #abcdefghijklmnopqrstuvwxyz012345");
	cli_expect_prefix(&c, "USERLIST #abcdefghijklmnopqrstuvwxyz012345: ");
	cli_send(&c, "PART: #nowhere");
	cli_expect(&c, "ERROR NOT_IN_ROOM: you are not in that room");
	cli_send(&c, "PART: nowhere");
	cli_expect_prefix(&c, "ERROR BAD_ROOM: ");
	cli_send(&c, "PRIVMSG #nowhere: hi");
	cli_expect_prefix(&c, "ERROR NOT_IN_ROOM: ");
	cli_send(&c, "PRIVMSG Ghost: hi");
	cli_expect(&c, "ERROR NO_SUCH_USER: no such user online");
	cli_send(&c, "PRIVMSG #Lobby: ");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: ");
	cli_send(&c, "PRIVMSG #Lobby");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: ");
	cli_send(&c, "PRIVMSG: text");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: ");

	/* 16 rooms at once, #Lobby included */
	for (int i = 0; i < 14; i++) {
		snprintf(room, sizeof(room), "#r%d", i);
		cli_send(&c, "JOIN: %s", room);
		cli_expect_prefix(&c, "JOINED: ");
		cli_expect_prefix(&c, "USERLIST ");
	}
	cli_send(&c, "JOIN: #one-too-many");
	cli_expect(&c, "ERROR TOO_MANY_ROOMS: at most 16 rooms at once: PART one first");
	cli_send(&c, "JOIN: #r3"); /* already in: fine */
	cli_expect(&c, "JOINED: #r3");
	cli_expect(&c, "USERLIST #r3: Roomy");
	cli_send(&c, "PART: #r3");
	cli_expect(&c, "PARTED: #r3");
	cli_send(&c, "JOIN: #one-too-many");
	cli_expect(&c, "JOINED: #one-too-many");
	cli_expect(&c, "USERLIST #one-too-many: Roomy");

	/* calls */
	cli_login(&d, &srv, "Dee");
	cli_expect(&c, "USERLIST #Lobby: Roomy, Dee");
	cli_send(&c, "TALK Roomy: Request");
	cli_expect(&c, "ERROR BAD_ARGS: you cannot call yourself");
	cli_send(&c, "TALK Ghost: Request");
	cli_expect(&c, "ERROR NO_SUCH_USER: no such user online");
	cli_send(&c, "TALK Dee: Hello");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: ");
	cli_send(&c, "TALK: Request");
	cli_expect_prefix(&c, "ERROR BAD_ARGS: ");
	cli_send(&c, "TALK Dee: Accept");
	cli_expect(&c, "ERROR NO_CALL: no such call with that user");
	cli_send(&c, "TALK Ghost: End");
	cli_expect(&c, "ERROR NO_CALL: no such call with that user");
	cli_send(&c, "TALK Dee: Request");
	cli_expect(&d, "TALK Roomy: Request");
	cli_send(&c, "TALK Dee: Request");
	cli_expect(&c, "ERROR BUSY: you are in a call already: end it first");
	cli_send(&c, "TALK Dee: Accept"); /* only the callee accepts */
	cli_expect_prefix(&c, "ERROR NO_CALL: ");
	cli_send(&d, "TALK Ghost: Accept");
	cli_expect_prefix(&d, "ERROR NO_CALL: ");
	cli_send(&d, "TALK Dee: Request");
	cli_expect(&d, "ERROR BAD_ARGS: you cannot call yourself");
	/* d calls the caller whose call rings d: both pressed CALL, and it connects */
	cli_send(&d, "TALK Roomy: Request");
	cli_expect(&d, "TALK Roomy: Accept");
	cli_expect(&c, "TALK Dee: Accept");
	cli_send(&d, "TALK Roomy: Request"); /* in that call now: busy */
	cli_expect_prefix(&d, "ERROR BUSY: ");
	cli_close(&c);
	cli_expect(&d, "TALK Roomy: End");
	cli_close(&d);
}

static void test_disconnect_before_login(void **state)
{
	struct cli c;

	(void)state;
	cli_connect(&c, &srv);
	strcpy(c.nick, "early");
	cli_send(&c, "DISCONNECT");
	cli_expect_closed(&c);
	cli_close(&c);
	/* and while awaiting the PONG: the reserved nick is freed */
	cli_connect(&c, &srv);
	cli_send(&c, "CONNECT: \"Early\" \"\" 1.1.0");
	cli_expect_prefix(&c, "ACCEPT: ");
	cli_send(&c, "disconnect");
	cli_expect_closed(&c);
	cli_close(&c);
	cli_login(&c, &srv, "Early");
	cli_close(&c);
}

static void test_empty_lines_count_for_rate(void **state)
{
	struct cli c;
	char blank[40];
	const char *l;

	(void)state;
	cli_login(&c, &srv, "Blank");
	memset(blank, '\n', sizeof(blank));
	cli_send_unpaced(&c, blank, sizeof(blank)); /* 40 empty lines at once */
	l = cli_recv(&c, 1000);
	assert_non_null(l);
	assert_string_equal(l,
			    "ERROR FLOOD: too many lines, slow down (lines are dropped)");
	cli_close(&c);
}

/* USERLIST of a large room: 60 members with 32-byte nicks, one line of ~2 KiB. */
static void test_long_userlist(void **state)
{
	enum { N = 60 };
	static struct cli c[N];
	char want[4096] = "USERLIST #Lobby: ", nick[40];

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(nick, sizeof(nick), "member-%02d-abcdefghijklmnopqrstuv", i);
		assert_int_equal(strlen(nick), 32);
		cli_login(&c[i], &srv, nick);
		strcat(want, i ? ", " : "");
		strcat(want, nick);
	}
	cli_send(&c[0], "USERLIST: #Lobby");
	cli_wait_for(&c[0], want);
	cli_wait_for(&c[N - 2], want); /* the last login's broadcast, in full */
	for (int i = 0; i < N; i++)
		cli_close(&c[i]);
}

/* The line the server logged for a refusal of `code` to a session from `from` (waited
 * for: written before the answer, but read from a file); fails the test without it. */
static const char *refusal_line(const struct srv *s, const char *from, const char *code)
{
	static char line[512];
	char at[40], why[48];
	uint64_t end = now_ms() + WAIT_MS;

	snprintf(at, sizeof(at), " from %s:", from);
	snprintf(why, sizeof(why), ": %s (", code);
	do {
		const char *l = srv_log(s);

		while ((l = strstr(l, "login refused: ")) != NULL) {
			size_t n = strcspn(l, "\n");

			snprintf(line, sizeof(line), "%.*s", (int)n, l);
			l += n;
			if (strstr(line, at) && strstr(line, why))
				return line;
		}
		usleep(10000); /* polling a file: no order is assumed */
	} while (now_ms() < end);
	fail_msg("no 'login refused' line for %s from %s in:\n%s", code, from,
		 srv_log(s));
	return NULL;
}

/* CONNECT nick (and password, if not NULL) from `from`, and the ERROR it must get. */
static void refused(const struct srv *s, const char *from, const char *nick,
		    const char *password, const char *code)
{
	struct cli c;
	char want[48];

	cli_connect_from(&c, s, from);
	snprintf(c.nick, sizeof(c.nick), "%s", nick);
	if (password)
		cli_send(&c, "CONNECT: \"%s\" \"\" 1.1.0 \"%s\"", nick, password);
	else
		cli_send(&c, "CONNECT: \"%s\" \"\" 1.1.0", nick);
	snprintf(want, sizeof(want), "ERROR %s: ", code);
	cli_expect_prefix(&c, want);
	cli_close(&c);
}

/* Each kind of refused login is logged at the default level with its code, what the
 * box was told, its address, the nick it asked for and its key; never the password. */
static void test_refusals_logged(void **state)
{
	struct srv p, plain = srv;
	struct cli a, c;
	const char *l;

	(void)state;
	cli_login(&a, &srv, "Pantry"); /* binds Pantry to its key */
	refused(&srv, "127.0.0.3", "Pantry", NULL, "NICK_REGISTERED");
	l = refusal_line(&srv, "127.0.0.3", "NICK_REGISTERED");
	assert_non_null(strstr(l, ", nick Pantry, key sha256:"));
	assert_non_null(strstr(l, "(this nick belongs to another box: choose another)"));
	cli_close(&a);
	harness_anon = true;
	refused(&srv, "127.0.0.4", "Anon", NULL, "NO_IDENTITY");
	harness_anon = false;
	assert_null(strstr(refusal_line(&srv, "127.0.0.4", "NO_IDENTITY"), "key "));
	cli_connect_from(&c, &srv, "127.0.0.5");
	snprintf(c.nick, sizeof(c.nick), "Old");
	cli_send(&c, "CONNECT: \"Old\" \"\" 1.0.0");
	cli_expect_prefix(&c, "ERROR BAD_VERSION: ");
	cli_close(&c);
	assert_non_null(
	    strstr(refusal_line(&srv, "127.0.0.5", "BAD_VERSION"), "nick Old"));
	plain.plain = true; /* protocol 1.0 to a TLS server */
	cli_connect_from(&c, &plain, "127.0.0.6");
	snprintf(c.nick, sizeof(c.nick), "Nc");
	cli_send(&c, "CONNECT: \"Nc\" \"\" 1.0.0");
	cli_expect(&c, "ERROR TLS_REQUIRED: this server accepts TLS only");
	cli_close(&c);
	refusal_line(&srv, "127.0.0.6", "TLS_REQUIRED");

	srv_start(&p, "--server-password", "right horse", "--registration", "closed",
		  NULL);
	refused(&p, "127.0.0.7", "Door", "wrong horse", "BAD_PASSWORD");
	assert_non_null(strstr(refusal_line(&p, "127.0.0.7", "BAD_PASSWORD"),
			       ", nick Door, key sha256:"));
	refused(&p, "127.0.0.8", "Door", "right horse", "NOT_REGISTERED");
	refusal_line(&p, "127.0.0.8", "NOT_REGISTERED");
	/* a connection made before the block: a new one would be closed at accept */
	cli_connect_from(&c, &p, "127.0.0.9");
	snprintf(c.nick, sizeof(c.nick), "Guess");
	for (int i = 0; i <= IC_LOGIN_FAILS_MAX; i++) /* the last blocks 127.0.0.9 */
		refused(&p, "127.0.0.9", "Guess", "guess", "BAD_PASSWORD");
	cli_send(&c, "CONNECT: \"Guess\" \"\" 1.1.0 \"right horse\"");
	cli_expect_prefix(&c, "ERROR BLOCKED: ");
	cli_close(&c);
	refusal_line(&p, "127.0.0.9", "BLOCKED");
	srv_stop(&p);
	assert_null(strstr(srv_log(&p), "horse"));
	assert_null(strstr(srv_log(&p), "guess"));
}

/* A flood of refusals is not a flood of lines: the burst, then the rate, and the rest
 * counted in one line (IC_EVENT_LOG_*); the bound follows from the flood's measured
 * length, not from a figure of time. */
static void test_refusal_flood(void **state)
{
	enum { N = 600 };
	struct srv f, plain;
	unsigned logged = 0;
	uint64_t t0, secs;
	const char *l;

	(void)state;
	srv_start(&f, NULL);
	plain = f;
	plain.plain = true;
	t0 = now_ms();
	for (int i = 0; i < N; i++) {
		struct cli c;

		cli_connect(&c, &plain);
		snprintf(c.nick, sizeof(c.nick), "Nc");
		cli_send(&c, "CONNECT: \"Nc\" \"\" 1.0.0");
		cli_expect(&c, "ERROR TLS_REQUIRED: this server accepts TLS only");
		cli_expect_closed(&c); /* gone before the next: never 32 pending */
		cli_close(&c);
	}
	secs = (now_ms() - t0) / 1000 + 1;
	for (l = srv_log(&f); (l = strstr(l, "login refused: ")) != NULL; l++)
		logged++;
	printf("%d refusals in %llu s: %u logged\n", N, (unsigned long long)secs, logged);
	assert_true(logged >= IC_EVENT_LOG_BURST); /* the first ones are there */
	assert_true(logged <= IC_EVENT_LOG_BURST + IC_EVENT_LOG_PER_SEC * secs);
	if (logged < N) { /* the rest counted, at the server's next tick */
		uint64_t end = now_ms() + WAIT_MS;

		while (!strstr(srv_log(&f), "refusal lines not logged") && now_ms() < end)
			usleep(10000);
		assert_non_null(strstr(srv_log(&f), "refusal lines not logged"));
	}
	srv_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_before_login, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nick_in_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_room_and_user_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disconnect_before_login, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_empty_lines_count_for_rate, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_long_userlist, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals_logged, setup, teardown),
	    cmocka_unit_test(test_refusal_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
