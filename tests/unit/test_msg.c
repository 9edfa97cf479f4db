#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"

static void parse_ok(const char *in, enum msg_verb verb, const char *target,
		     const char *args)
{
	char buf[600];
	struct msg m;

	strcpy(buf, in);
	assert_int_equal(msg_parse(buf, &m), ERR_NONE);
	assert_int_equal(m.verb, verb);
	if (target)
		assert_string_equal(m.target, target);
	else
		assert_null(m.target);
	if (args)
		assert_string_equal(m.args, args);
	else
		assert_null(m.args);
}

static void parse_bad(const char *in)
{
	char buf[600];
	struct msg m;

	strcpy(buf, in);
	assert_int_equal(msg_parse(buf, &m), ERR_BAD_LINE);
}

static void test_parse_shapes(void **state)
{
	(void)state;
	parse_ok("DISCONNECT", MSG_DISCONNECT, NULL, NULL);
	parse_ok("disconnect", MSG_DISCONNECT, NULL, NULL);
	parse_ok("JOIN: #TurboRoom", MSG_JOIN, NULL, "#TurboRoom");
	parse_ok("Talk John: End", MSG_TALK, "John", "End");
	parse_ok("PRIVMSG #Lobby: Hey: all!", MSG_PRIVMSG, "#Lobby", "Hey: all!");
	parse_ok("PRIVMSG John:no space", MSG_PRIVMSG, "John", "no space");
	parse_ok("PRIVMSG John:", MSG_PRIVMSG, "John", "");
	parse_ok("PRIVMSG John: ", MSG_PRIVMSG, "John", "");
	parse_ok("PONG: 12", MSG_PONG, NULL, "12");
	parse_ok("USERLIST #R", MSG_USERLIST, "#R", NULL);
	parse_ok("FROB: x", MSG_UNKNOWN, NULL, "x");
	parse_ok("CONNECT: \"a\" \"b c\" 1.0.0", MSG_CONNECT, NULL,
		 "\"a\" \"b c\" 1.0.0");
	parse_bad("");
	parse_bad(": x");
	parse_bad(" JOIN");
	parse_bad("JOIN : x");
	parse_bad("PRIVMSG a b: x");
	parse_bad("PRIVMSG  a: x");
	parse_bad("J0IN: x");
	parse_bad("JOIN-X: x");
}

static void connect_case(const char *args, enum msg_err want, const char *nick,
			 const char *real)
{
	char buf[600];
	struct msg_connect c;

	strcpy(buf, args);
	assert_int_equal(msg_parse_connect(buf, &c), want);
	if (want == ERR_NONE) {
		assert_string_equal(c.nick, nick);
		assert_string_equal(c.realname, real);
	}
}

/* 1.1: the optional password, and the minor version the server judges TLS logins by */
static void test_connect_password(void **state)
{
	char buf[600];
	struct msg_connect c;

	(void)state;
	strcpy(buf, "\"N\" \"R\" 1.1.0 \"open sesame\"");
	assert_int_equal(msg_parse_connect(buf, &c), ERR_NONE);
	assert_string_equal(c.password, "open sesame");
	assert_int_equal(c.minor, 1);
	assert_int_equal(c.patch, 0);
	strcpy(buf, "\"N\" \"R\" 1.0.7");
	assert_int_equal(msg_parse_connect(buf, &c), ERR_NONE);
	assert_null(c.password);
	assert_int_equal(c.minor, 0);
	assert_int_equal(c.patch, 7);
	connect_case("\"N\" \"R\" 1.1.0 pw", ERR_NONE, "N", "R");
	connect_case("\"N\" \"R\" 1.1.0 \"\"", ERR_BAD_ARGS, NULL, NULL);
	connect_case("\"N\" \"R\" 1.1.0 \"p\" extra", ERR_BAD_ARGS, NULL, NULL);
	connect_case("\"N\" \"R\" 1.1.0 \"tab\there\"", ERR_BAD_ARGS, NULL, NULL);
	connect_case(
	    "\"N\" \"R\" 1.1.0 "
	    "\"12345678901234567890123456789012345678901234567890123456789012345\"",
	    ERR_BAD_ARGS, NULL, NULL);
	connect_case(
	    "\"N\" \"R\" 1.1.0 "
	    "\"1234567890123456789012345678901234567890123456789012345678901234\"",
	    ERR_NONE, "N", "R");
}

static void test_voice_tls(void **state)
{
	struct vc_key a, b, ga, gb;
	char buf[512], bad[512];
	unsigned port;
	uint32_t ssrc;

	(void)state;
	for (size_t i = 0; i < sizeof(a); i++) {
		((uint8_t *)&a)[i] = (uint8_t)i;
		((uint8_t *)&b)[i] = (uint8_t)(255 - i);
	}
	assert_true(msg_fmt_voice_tls(buf, sizeof(buf), 6060, 4000000000u, &a, &b) > 0);
	assert_int_equal(
	    strncmp(buf, "VOICE: 6060 4000000000 chacha20-poly1305 000102", 47), 0);
	assert_int_equal(strlen(buf),
			 strlen("VOICE: 6060 4000000000 chacha20-poly1305 ") +
			     2 * VC_KEY_HEX + 2);
	buf[strlen(buf) - 1] = '\0'; /* the LF */
	assert_int_equal(msg_parse_voice_tls(buf + 7, &port, &ssrc, &ga, &gb), 0);
	assert_int_equal(port, 6060);
	assert_int_equal(ssrc, 4000000000u);
	assert_memory_equal(&ga, &a, sizeof(a));
	assert_memory_equal(&gb, &b, sizeof(b));
	/* a 1.0 line, another cipher, a short key, upper case, a trailing field */
	assert_int_equal(
	    msg_parse_voice_tls("6060 1 0123456789abcdef", &port, &ssrc, &ga, &gb),
	    -EINVAL);
	strcpy(bad, buf + 7);
	memcpy(strstr(bad, "chacha20"), "chacha21", 8);
	assert_int_equal(msg_parse_voice_tls(bad, &port, &ssrc, &ga, &gb), -EINVAL);
	strcpy(bad, buf + 7);
	bad[strlen(bad) - 1] = '\0';
	assert_int_equal(msg_parse_voice_tls(bad, &port, &ssrc, &ga, &gb), -EINVAL);
	strcpy(bad, buf + 7);
	*strstr(bad, "0001") = 'A';
	assert_int_equal(msg_parse_voice_tls(bad, &port, &ssrc, &ga, &gb), -EINVAL);
	snprintf(bad, sizeof(bad), "%s x", buf + 7);
	assert_int_equal(msg_parse_voice_tls(bad, &port, &ssrc, &ga, &gb), -EINVAL);
	assert_int_equal(msg_parse_voice_tls(NULL, &port, &ssrc, &ga, &gb), -EINVAL);
}

static void test_connect(void **state)
{
	(void)state;
	connect_case("\"Nickname\" \"Real Name\" 1.0.0", ERR_NONE, "Nickname",
		     "Real Name");
	connect_case("Nick \"\" 1.2.3", ERR_NONE, "Nick", "");
	connect_case("\"Nick\" Real 1.9.9", ERR_NONE, "Nick", "Real");
	connect_case("  \"Nick\"   \"R\"   1.0.0  ", ERR_NONE, "Nick", "R");
	connect_case("\"bad nick\" \"R\" 1.0.0", ERR_BAD_NICK, NULL, NULL);
	connect_case("\"\" \"R\" 1.0.0", ERR_BAD_NICK, NULL, NULL);
	connect_case("\"N\" \"R\" 2.0.0", ERR_BAD_VERSION, NULL, NULL);
	connect_case("\"N\" \"R\" 0.9.0", ERR_BAD_VERSION, NULL, NULL);
	connect_case("\"N\" \"R\" 1.0", ERR_BAD_VERSION, NULL, NULL);
	connect_case("\"N\" \"R\" x", ERR_BAD_VERSION, NULL, NULL);
	connect_case("\"N\" \"R\"", ERR_BAD_ARGS, NULL, NULL);
	connect_case("\"N\"", ERR_BAD_ARGS, NULL, NULL);
	connect_case("", ERR_BAD_ARGS, NULL, NULL);
	connect_case("\"N\" \"R\" 1.0.0 \"pw\" extra", ERR_BAD_ARGS, NULL, NULL);
	connect_case("\"N\" \"unterminated 1.0.0", ERR_BAD_ARGS, NULL, NULL);
	connect_case("\"N\" \"a\"b\" 1.0.0", ERR_BAD_ARGS, NULL, NULL);
	connect_case("\"N\" \"tab\there\" 1.0.0", ERR_BAD_ARGS, NULL, NULL);
	assert_int_equal(msg_parse_connect(NULL, NULL), ERR_BAD_ARGS);
}

static void test_talk_and_u32(void **state)
{
	enum talk_action a;
	uint32_t v;

	(void)state;
	assert_int_equal(msg_parse_talk("Request", &a), 0);
	assert_int_equal(a, TALK_REQUEST);
	assert_int_equal(msg_parse_talk("accept", &a), 0);
	assert_int_equal(a, TALK_ACCEPT);
	assert_int_equal(msg_parse_talk("DENY", &a), 0);
	assert_int_equal(a, TALK_DENY);
	assert_int_equal(msg_parse_talk("End", &a), 0);
	assert_int_equal(a, TALK_END);
	assert_int_equal(msg_parse_talk("Busy", &a), -EINVAL); /* server-to-client only */
	assert_int_equal(msg_parse_talk("", &a), -EINVAL);
	assert_int_equal(msg_parse_talk(NULL, &a), -EINVAL);
	assert_int_equal(msg_parse_u32("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(msg_parse_u32("4294967295", &v), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(msg_parse_u32("4294967296", &v), -EINVAL);
	assert_int_equal(msg_parse_u32("12a", &v), -EINVAL);
	assert_int_equal(msg_parse_u32("", &v), -EINVAL);
	assert_int_equal(msg_parse_u32("-1", &v), -EINVAL);
}

static void test_format(void **state)
{
	char buf[128];
	const uint8_t tok[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

	(void)state;
	assert_int_equal(msg_fmt(buf, sizeof(buf), "JOINED", NULL, "#Lobby"), 15);
	assert_string_equal(buf, "JOINED: #Lobby\n");
	msg_fmt(buf, sizeof(buf), "PRIVMSG", "#Lobby Nickname", "Hey all!");
	assert_string_equal(buf, "PRIVMSG #Lobby Nickname: Hey all!\n");
	msg_fmt(buf, sizeof(buf), "TALK", "John", msg_talk_name(TALK_BUSY));
	assert_string_equal(buf, "TALK John: Busy\n");
	msg_fmt(buf, sizeof(buf), "DISCONNECT", NULL, NULL);
	assert_string_equal(buf, "DISCONNECT\n");
	msg_fmt_error(buf, sizeof(buf), ERR_NICK_IN_USE, "taken");
	assert_string_equal(buf, "ERROR NICK_IN_USE: taken\n");
	msg_fmt_voice(buf, sizeof(buf), 6060, 4000000000u, tok);
	assert_string_equal(buf, "VOICE: 6060 4000000000 0123456789abcdef\n");
	assert_int_equal(msg_fmt(buf, 10, "JOINED", NULL, "#Lobby"), -ENOSPC);
}

/* The login line the box and the gateway send, read back by the server's own parser:
 * the password field only when there is one. */
static void test_connect_line(void **state)
{
	char buf[160];
	struct msg m;
	struct msg_connect c;
	int n;

	(void)state;
	n = msg_fmt_connect(buf, sizeof(buf), "Door", "Front door", MSG_PROTO_VERSION,
			    "s3cret pass");

	assert_string_equal(buf,
			    "CONNECT: \"Door\" \"Front door\" 1.2.0 \"s3cret pass\"\n");
	assert_int_equal(n, (int)strlen(buf));
	buf[strcspn(buf, "\n")] = '\0';
	assert_int_equal(msg_parse(buf, &m), ERR_NONE);
	assert_int_equal(m.verb, MSG_CONNECT);
	assert_int_equal(msg_parse_connect((char *)m.args, &c), ERR_NONE);
	assert_string_equal(c.nick, "Door");
	assert_string_equal(c.realname, "Front door");
	assert_string_equal(c.password, "s3cret pass");
	assert_int_equal(c.minor, 2);
	for (int i = 0; i < 2; i++) {
		msg_fmt_connect(buf, sizeof(buf), "Ann", "web", MSG_PROTO_VERSION,
				i ? "" : NULL);
		assert_string_equal(buf, "CONNECT: \"Ann\" \"web\" 1.2.0\n");
	}
	assert_int_equal(msg_fmt_connect(buf, 20, "Ann", "web", MSG_PROTO_VERSION, NULL),
			 -ENOSPC);
}

/* What the server formats, the clients read back; anything else is refused whole. */
static void test_voice_args(void **state)
{
	static const uint8_t tok[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	uint8_t got[8] = {0};
	char buf[128];
	unsigned port = 0;
	uint32_t ssrc = 0;

	(void)state;
	msg_fmt_voice(buf, sizeof(buf), 6061, 4000000000u, tok);
	buf[strcspn(buf, "\n")] = '\0'; /* a line as the reader hands it over */
	assert_int_equal(msg_parse_voice(buf + strlen("VOICE: "), &port, &ssrc, got), 0);
	assert_int_equal(port, 6061);
	assert_int_equal(ssrc, 4000000000u);
	assert_memory_equal(got, tok, 8);
	port = 0;
	assert_int_equal(msg_parse_voice("6060 1 0123456789abcdef", &port, &ssrc, got),
			 0);
	assert_int_equal(got[7], 0xef);
	assert_int_equal(
	    msg_parse_voice("6060 4294967295 0123456789abcdef", &port, &ssrc, got), 0);
	assert_int_equal(ssrc, 4294967295u);
	port = 6060;
	{
		/* what sscanf("%u") took: signs, overflow, other spacing, junk after,
		 * upper-case hex (the contract writes lower case) */
		static const char *const bad[] = {
		    "-6060 1 0123456789abcdef",
		    "+6060 1 0123456789abcdef",
		    "6060 -1 0123456789abcdef",
		    "6060 +1 0123456789abcdef",
		    "6060 4294967296 0123456789abcdef",
		    "6060 99999999999 0123456789abcdef",
		    "6060  1 0123456789abcdef",
		    " 6060 1 0123456789abcdef",
		    "6060 1 0123456789abcdef ",
		    "6060 1 0123456789abcdef x",
		    "6060 1 0123456789ABCDEF",
		    "6060x 1 0123456789abcdef",
		    "6060 1x 0123456789abcdef",
		    "6060 1 0x23456789abcdef",
		    "6060\t1 0123456789abcdef",
		    "065536 1 0123456789abcdef",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (msg_parse_voice(bad[i], &port, &ssrc, got) != -EINVAL)
				fail_msg("accepted '%s'", bad[i]);
		}
	}
	assert_int_equal(msg_parse_voice(NULL, &port, &ssrc, got), -EINVAL);
	assert_int_equal(msg_parse_voice("6060 1", &port, &ssrc, got), -EINVAL);
	assert_int_equal(msg_parse_voice("0 1 0123456789abcdef", &port, &ssrc, got),
			 -EINVAL);
	assert_int_equal(msg_parse_voice("70000 1 0123456789abcdef", &port, &ssrc, got),
			 -EINVAL);
	assert_int_equal(msg_parse_voice("6060 1 0123456789abcde", &port, &ssrc, got),
			 -EINVAL);
	assert_int_equal(msg_parse_voice("6060 1 0123456789abcdef0", &port, &ssrc, got),
			 -EINVAL);
	assert_int_equal(msg_parse_voice("6060 1 0123456789abcdeg", &port, &ssrc, got),
			 -EINVAL);
	assert_int_equal(port, 6060); /* a refusal writes nothing */
}

static void test_error_names(void **state)
{
	static const char *const all[] = {"BAD_LINE",	     "LINE_TOO_LONG",
					  "BAD_ENCODING",    "UNKNOWN_COMMAND",
					  "NOT_LOGGED_IN",   "ALREADY_LOGGED_IN",
					  "BAD_ARGS",	     "BAD_NICK",
					  "NICK_IN_USE",     "BAD_VERSION",
					  "SERVER_FULL",     "BAD_ROOM",
					  "NOT_IN_ROOM",     "TOO_MANY_ROOMS",
					  "NO_SUCH_USER",    "BUSY",
					  "NO_CALL",	     "FLOOD",
					  "TLS_REQUIRED",    "NO_IDENTITY",
					  "NICK_REGISTERED", "NOT_REGISTERED",
					  "BAD_PASSWORD",    "BLOCKED",
					  "REPLACED"};

	(void)state;
	assert_int_equal(sizeof(all) / sizeof(all[0]), ERR_COUNT - 1);
	for (int e = ERR_BAD_LINE; e < ERR_COUNT; e++)
		assert_string_equal(msg_err_name((enum msg_err)e), all[e - 1]);
}

/* What a log may show of a line: never the voice keys or the password. */
static void test_redact(void **state)
{
	char line[400], out[400], small[24];
	const char *k1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef"
			 "f0011223344556677"
			 "8899aabb";

	(void)state;
	snprintf(line, sizeof(line), "VOICE: 6060 42 chacha20-poly1305 %s %s", k1, k1);
	msg_redact(line, out, sizeof(out));
	assert_string_equal(out, "VOICE: 6060 42 chacha20-poly1305 <keys>");
	msg_redact("CONNECT: \"Door\" \"Front Door\" 1.1.0 \"s3cret pass\"", out,
		   sizeof(out));
	assert_string_equal(out, "CONNECT: \"Door\" \"Front Door\" 1.1.0 \"<password>\"");
	assert_null(strstr(out, "s3cret"));
	msg_redact("connect: \"D\" \"\" 1.1.0 x", out, sizeof(out)); /* any case */
	assert_null(strstr(out, " x"));
	/* nothing secret: as it is */
	msg_redact("CONNECT: \"Door\" \"Front Door\" 1.1.0", out, sizeof(out));
	assert_string_equal(out, "CONNECT: \"Door\" \"Front Door\" 1.1.0");
	msg_redact("VOICE: 6060 42 efb4ebc3676760fc", out, sizeof(out)); /* 1.0's token */
	assert_string_equal(out, "VOICE: 6060 42 efb4ebc3676760fc");
	msg_redact("PRIVMSG #Lobby Ann: chacha20-poly1305", out, sizeof(out));
	assert_string_equal(out, "PRIVMSG #Lobby Ann: chacha20-poly1305");
	/* cut to size, and still nothing of the keys */
	msg_redact(line, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_null(strstr(small, "0011"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_shapes),     cmocka_unit_test(test_connect),
	    cmocka_unit_test(test_connect_password), cmocka_unit_test(test_voice_tls),
	    cmocka_unit_test(test_talk_and_u32),     cmocka_unit_test(test_format),
	    cmocka_unit_test(test_error_names),	     cmocka_unit_test(test_redact),
	    cmocka_unit_test(test_voice_args),	     cmocka_unit_test(test_connect_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
