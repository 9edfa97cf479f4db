/* The contract's example session, line for line, against the real intercomd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct srv srv;

static int setup(void **state)
{
	(void)state;
	srv_start(&srv, "--name", "TestServer", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_stop(&srv);
	return 0;
}

static void test_login_lines(void **state)
{
	struct cli john, michael, willy, me;
	const char *l;
	unsigned port, ssrc;
	char token[32], c2s[96], s2c[96];

	(void)state;
	cli_login(&john, &srv, "John");
	cli_login(&michael, &srv, "Michael");
	cli_expect(&john, "USERLIST #Lobby: John, Michael");
	cli_login(&willy, &srv, "Willy");
	cli_expect(&john, "USERLIST #Lobby: John, Michael, Willy");
	cli_expect(&michael, "USERLIST #Lobby: John, Michael, Willy");

	cli_connect_as(&me, &srv, "Nickname", NULL);
	cli_send(&me, "CONNECT: \"Nickname\" \"Real Name\" 1.1.0");
	cli_expect(&me, "ACCEPT: TestServer");
	l = cli_expect_prefix(&me, "VOICE: ");
	/* over TLS: the cipher and two fresh keys of 88 hex digits, one each way */
	assert_int_equal(
	    sscanf(l, "VOICE: %u %u %31s %95s %95s", &port, &ssrc, token, c2s, s2c), 5);
	assert_int_equal(port, srv.port);
	assert_string_equal(token, "chacha20-poly1305");
	assert_int_equal(strlen(c2s), 88);
	assert_int_equal(strspn(c2s, "0123456789abcdef"), 88);
	assert_int_equal(strspn(s2c, "0123456789abcdef"), 88);
	assert_int_equal(strlen(s2c), 88);
	assert_string_not_equal(c2s, s2c);
	l = cli_expect_prefix(&me, "PING: ");
	assert_true(strspn(l + 6, "0123456789") == strlen(l + 6));
	/* nothing is joined before the PONG */
	cli_expect_silence(&me, 200);
	cli_expect_silence(&john, 0);
	cli_send(&me, "PONG: %s", l + 6);
	cli_expect(&me, "JOINED: #Lobby");
	cli_expect(&me, "USERLIST #Lobby: John, Michael, Willy, Nickname");
	cli_expect(&john, "USERLIST #Lobby: John, Michael, Willy, Nickname");
	cli_expect(&michael, "USERLIST #Lobby: John, Michael, Willy, Nickname");
	cli_expect(&willy, "USERLIST #Lobby: John, Michael, Willy, Nickname");

	/* ssrcs are unique */
	assert_true(ssrc != john.ssrc && ssrc != michael.ssrc && ssrc != willy.ssrc);
	assert_true(john.ssrc != michael.ssrc && michael.ssrc != willy.ssrc);
	cli_close(&john);
	cli_close(&michael);
	cli_close(&willy);
	cli_close(&me);
}

static void test_rooms_and_im(void **state)
{
	struct cli tina, mike, me, john;

	(void)state;
	cli_login(&tina, &srv, "Tina");
	cli_login(&mike, &srv, "Mike");
	cli_expect(&tina, "USERLIST #Lobby: Tina, Mike");
	cli_login(&me, &srv, "Nickname");
	cli_expect(&tina, "USERLIST #Lobby: Tina, Mike, Nickname");
	cli_expect(&mike, "USERLIST #Lobby: Tina, Mike, Nickname");
	cli_login(&john, &srv, "John");
	cli_expect(&tina, "USERLIST #Lobby: Tina, Mike, Nickname, John");
	cli_expect(&mike, "USERLIST #Lobby: Tina, Mike, Nickname, John");
	cli_expect(&me, "USERLIST #Lobby: Tina, Mike, Nickname, John");

	cli_send(&tina, "JOIN: #TurboRoom");
	cli_expect(&tina, "JOINED: #TurboRoom");
	cli_expect(&tina, "USERLIST #TurboRoom: Tina");
	cli_send(&mike, "JOIN: #turboroom"); /* any case; shown as first created */
	cli_expect(&mike, "JOINED: #TurboRoom");
	cli_expect(&mike, "USERLIST #TurboRoom: Tina, Mike");
	cli_expect(&tina, "USERLIST #TurboRoom: Tina, Mike");

	cli_send(&me, "JOIN: #TurboRoom");
	cli_expect(&me, "JOINED: #TurboRoom");
	cli_expect(&me, "USERLIST #TurboRoom: Tina, Mike, Nickname");
	cli_expect(&tina, "USERLIST #TurboRoom: Tina, Mike, Nickname");
	cli_expect(&mike, "USERLIST #TurboRoom: Tina, Mike, Nickname");

	/* JOIN again: answered to it alone */
	cli_send(&me, "JOIN: #TurboRoom");
	cli_expect(&me, "JOINED: #TurboRoom");
	cli_expect(&me, "USERLIST #TurboRoom: Tina, Mike, Nickname");
	cli_expect_silence(&tina, 200);

	cli_send(&me, "USERLIST: #TurboRoom");
	cli_expect(&me, "USERLIST #TurboRoom: Tina, Mike, Nickname");
	cli_send(&john, "USERLIST: #TurboRoom");
	cli_expect(&john, "ERROR NOT_IN_ROOM: you are not in that room");

	/* instant messages: room, then sender; no echo */
	cli_send(&me, "PRIVMSG #Lobby: Hey all!");
	cli_expect(&tina, "PRIVMSG #Lobby Nickname: Hey all!");
	cli_expect(&mike, "PRIVMSG #Lobby Nickname: Hey all!");
	cli_expect(&john, "PRIVMSG #Lobby Nickname: Hey all!");
	cli_expect_silence(&me, 200);
	cli_send(&me, "PRIVMSG #TurboRoom: turbo only");
	cli_expect(&tina, "PRIVMSG #TurboRoom Nickname: turbo only");
	cli_expect(&mike, "PRIVMSG #TurboRoom Nickname: turbo only");
	cli_expect_silence(&john, 200);
	cli_send(&me, "PRIVMSG John: Hey John!");
	cli_expect(&john, "PRIVMSG Nickname: Hey John!");
	cli_expect_silence(&tina, 100);
	cli_send(&me, "PRIVMSG Nickname: note to self");
	cli_expect(&me, "PRIVMSG Nickname: note to self");
	cli_send(&me, "privmsg john: UTF-8 \xc3\xa9\xe2\x82\xac and a: colon");
	cli_expect(&john, "PRIVMSG Nickname: UTF-8 \xc3\xa9\xe2\x82\xac and a: colon");

	cli_send(&me, "PART: #TurboRoom");
	cli_expect(&me, "PARTED: #TurboRoom");
	cli_expect(&tina, "USERLIST #TurboRoom: Tina, Mike");
	cli_expect(&mike, "USERLIST #TurboRoom: Tina, Mike");

	/* a room lives while it has members */
	cli_send(&tina, "PART: #TurboRoom");
	cli_expect(&tina, "PARTED: #TurboRoom");
	cli_expect(&mike, "USERLIST #TurboRoom: Mike");
	cli_send(&mike, "PART: #TurboRoom");
	cli_expect(&mike, "PARTED: #TurboRoom");
	cli_send(&john, "JOIN: #TURBOROOM");
	cli_expect(&john, "JOINED: #TURBOROOM");
	cli_expect(&john, "USERLIST #TURBOROOM: John");

	/* #Lobby can be left, and always exists */
	cli_send(&me, "PART: #Lobby");
	cli_expect(&me, "PARTED: #Lobby");
	cli_expect(&tina, "USERLIST #Lobby: Tina, Mike, John");
	cli_send(&me, "PRIVMSG #Lobby: gone");
	cli_expect(&me, "ERROR NOT_IN_ROOM: you are not in that room");
	cli_send(&me, "JOIN: #lobby");
	cli_expect(&me, "JOINED: #Lobby");
	cli_expect(&me, "USERLIST #Lobby: Tina, Mike, John, Nickname");

	cli_close(&tina);
	cli_close(&mike);
	cli_close(&me);
	cli_close(&john);
}

static void test_talk_and_disconnect(void **state)
{
	struct cli me, john, willy;

	(void)state;
	cli_login(&me, &srv, "Nickname");
	cli_login(&john, &srv, "John");
	cli_expect(&me, "USERLIST #Lobby: Nickname, John");
	cli_login(&willy, &srv, "Willy");
	cli_expect(&me, "USERLIST #Lobby: Nickname, John, Willy");
	cli_expect(&john, "USERLIST #Lobby: Nickname, John, Willy");

	/* request, accept, end */
	cli_send(&me, "TALK John: Request");
	cli_expect(&john, "TALK Nickname: Request");
	cli_send(&john, "TALK Nickname: Accept");
	cli_expect(&me, "TALK John: Accept");
	cli_send(&willy, "TALK John: Request");
	cli_expect(&willy, "TALK John: Busy");
	cli_expect_silence(&john, 200);
	cli_send(&me, "TALK John: End");
	cli_expect(&john, "TALK Nickname: End");
	cli_send(&john, "TALK Nickname: End");
	cli_expect(&john, "ERROR NO_CALL: no such call with that user");

	/* request, deny */
	cli_send(&me, "talk john: request");
	cli_expect(&john, "TALK Nickname: Request");
	cli_send(&john, "TALK Nickname: Deny");
	cli_expect(&me, "TALK John: Deny");
	cli_send(&me, "TALK John: End");
	cli_expect(&me, "ERROR NO_CALL: no such call with that user");

	/* request, the callee ends while ringing */
	cli_send(&me, "TALK John: Request");
	cli_expect(&john, "TALK Nickname: Request");
	cli_send(&john, "TALK Nickname: End");
	cli_expect(&me, "TALK John: End");

	/* DISCONNECT: closed, and the room is told */
	cli_send(&me, "DISCONNECT");
	cli_expect_closed(&me);
	cli_expect(&john, "USERLIST #Lobby: John, Willy");
	cli_expect(&willy, "USERLIST #Lobby: John, Willy");
	cli_close(&me);
	/* the nick is free again */
	cli_login(&me, &srv, "nickname");
	cli_expect(&john, "USERLIST #Lobby: John, Willy, nickname");
	cli_close(&me);
	cli_close(&john);
	cli_close(&willy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_login_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rooms_and_im, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_talk_and_disconnect, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
