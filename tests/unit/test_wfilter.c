/* What passes between a page's WebSocket and its session toward intercomd
 * (web/wfilter.c): the lines a page may send, what it is shown, voice frames. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ic_limits.h"
#include "wfilter.h"

static int up(const char *s)
{
	return wfilter_up_line(s, strlen(s));
}

static void test_up_lines(void **state)
{
	char longl[IC_LINE_MAX + 2];

	(void)state;
	assert_int_equal(up("JOIN #Kitchen"), 0);
	assert_int_equal(up("PART: #Kitchen"), 0);
	assert_int_equal(up("USERLIST: #Lobby"), 0);
	assert_int_equal(up("PRIVMSG Bob: hi \xc3\xa9"), 0);
	assert_int_equal(up("TALK #House: Request"), 0);
	assert_int_equal(up("talk Bob: Accept"), 0);
	/* the gateway's own verbs, unknown ones and malformed lines */
	assert_int_equal(up("CONNECT: \"X\" \"y\" 1.2.0"), -EPERM);
	assert_int_equal(up("PONG: 1"), -EPERM);
	assert_int_equal(up("PING: 1"), -EPERM);
	assert_int_equal(up("DISCONNECT"), -EPERM);
	/* verbs are case-insensitive to intercomd (its parser is this one): so here */
	assert_int_equal(up("connect: \"X\" \"y\" 1.2.0"), -EPERM);
	assert_int_equal(up("Pong: 1"), -EPERM);
	/* a NUL inside the frame must not hide a second line from the check */
	assert_int_equal(wfilter_up_line("JOIN #A\0DISCONNECT", 18), -EILSEQ);
	assert_int_equal(up("FOO bar"), -EPERM);
	assert_int_equal(up(""), -EPERM);
	/* one line, no control bytes, valid UTF-8, within the line limit */
	assert_int_equal(up("PRIVMSG Bob: a\nDISCONNECT"), -EILSEQ);
	assert_int_equal(up("PRIVMSG Bob: a\r"), -EILSEQ);
	assert_int_equal(up("PRIVMSG Bob: \xc3\x28"), -EILSEQ);
	memset(longl, 'a', sizeof(longl));
	memcpy(longl, "PRIVMSG Bob: ", 13);
	assert_int_equal(wfilter_up_line(longl, IC_LINE_MAX), -EMSGSIZE);
	assert_int_equal(wfilter_up_line(longl, IC_LINE_MAX - 1), 0);
}

static void test_down_lines(void **state)
{
	(void)state;
	assert_false(wfilter_down_line("PING: 12345"));
	assert_false(wfilter_down_line("VOICE: 6060 7 chacha20-poly1305 aa bb"));
	assert_true(wfilter_down_line("USERLIST #Lobby: A, B"));
	assert_true(wfilter_down_line("PRIVMSG Bob: PING"));
	assert_true(wfilter_down_line("PINGX: 1"));
	assert_true(wfilter_down_line("ERROR REPLACED: logged in again"));
}

static void test_voice(void **state)
{
	uint8_t in[] = {1, 1, 0xaa, 0xbb}, out[64];
	static uint8_t big[2000];
	struct rtp_hdr h = {true, 111, 0x1234, 0xdeadbeef, 0x01020304};
	const uint8_t *opus;
	size_t len;
	bool start;

	(void)state;
	assert_int_equal(wfilter_up_voice(in, sizeof(in), &opus, &len, &start), 0);
	assert_true(start);
	assert_int_equal(len, 2);
	assert_ptr_equal(opus, in + 2);
	in[1] = 0;
	assert_int_equal(wfilter_up_voice(in, sizeof(in), &opus, &len, &start), 0);
	assert_false(start);
	in[0] = 2;
	assert_int_equal(wfilter_up_voice(in, sizeof(in), &opus, &len, &start), -EINVAL);
	in[0] = 1;
	assert_int_equal(wfilter_up_voice(in, 2, &opus, &len, &start), -EINVAL);
	big[0] = 1;
	assert_int_equal(wfilter_up_voice(big, sizeof(big), &opus, &len, &start),
			 -EINVAL);
	/* the page's frame: type, flags, SSRC, seq, timestamp (big endian), payload */
	assert_int_equal(wfilter_down_voice(&h, in + 2, 2, out, sizeof(out)), 14);
	static const uint8_t want[] = {1,    1,	   1,	 2,    3,    4,	   0x12,
				       0x34, 0xde, 0xad, 0xbe, 0xef, 0xaa, 0xbb};
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(wfilter_down_voice(&h, in + 2, 2, out, 13), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_up_lines),
	    cmocka_unit_test(test_down_lines),
	    cmocka_unit_test(test_voice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
