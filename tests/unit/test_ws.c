/* WebSocket framing (web/ws.c) against RFC 6455's own examples (1.3, 5.7) and its rules:
 * masking per direction, control frames, fragmentation, lengths, close codes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ws.h"

static void test_accept_rfc(void **state)
{
	char out[WS_ACCEPT_LEN + 1];
	const char *key = "dGhlIHNhbXBsZSBub25jZQ==";

	(void)state;
	assert_int_equal(ws_accept(key, strlen(key), out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* not 16 bytes of base64 */
	assert_int_equal(ws_accept("dGhlIHNhbXBsZSBub25jZQ", 22, out), -EINVAL);
	assert_int_equal(ws_accept("dGhlIHNhbXBsZSBub25jZ!==", 24, out), -EINVAL);
}

static void test_rfc_single_frames(void **state)
{
	uint8_t unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
	uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
			    0x7f, 0x9f, 0x4d, 0x51, 0x58};
	uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
			  0x7f, 0x9f, 0x4d, 0x51, 0x58};
	uint8_t ping[] = {0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
	struct ws_frame f;
	uint16_t code;

	(void)state;
	/* a client reads the server's unmasked frame */
	assert_int_equal(ws_parse(unmasked, sizeof(unmasked), false, 100, &f, &code), 7);
	assert_true(f.fin);
	assert_int_equal(f.op, WS_OP_TEXT);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.payload, "Hello", 5);
	/* the server reads the client's masked one, unmasked in place */
	assert_int_equal(ws_parse(masked, sizeof(masked), true, 100, &f, &code), 11);
	assert_memory_equal(f.payload, "Hello", 5);
	assert_int_equal(ws_parse(pong, sizeof(pong), true, 100, &f, &code), 11);
	assert_int_equal(f.op, WS_OP_PONG);
	assert_memory_equal(f.payload, "Hello", 5);
	assert_int_equal(ws_parse(ping, sizeof(ping), false, 100, &f, &code), 7);
	assert_int_equal(f.op, WS_OP_PING);
	/* each byte short of the whole frame: more is needed, nothing else */
	for (size_t n = 0; n < sizeof(ping); n++)
		assert_int_equal(ws_parse(ping, n, false, 100, &f, &code), 0);
}

static void test_masking_per_direction(void **state)
{
	uint8_t unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
	uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
			    0x7f, 0x9f, 0x4d, 0x51, 0x58};
	struct ws_frame f;
	uint16_t code = 0;

	(void)state;
	/* RFC 6455 5.1: a server closes on an unmasked client frame, a client on a masked
	 * server frame */
	assert_int_equal(ws_parse(unmasked, sizeof(unmasked), true, 100, &f, &code),
			 -EPROTO);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
	assert_int_equal(ws_parse(masked, sizeof(masked), false, 100, &f, &code),
			 -EPROTO);
}

static void test_rfc_fragments(void **state)
{
	uint8_t first[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
	uint8_t last[] = {0x80, 0x02, 0x6c, 0x6f};
	uint8_t ping[] = {0x89, 0x00};
	uint8_t buf[16];
	struct ws_msg m;
	struct ws_frame f;
	uint16_t code;

	(void)state;
	ws_msg_init(&m, buf, sizeof(buf));
	assert_int_equal(ws_parse(first, sizeof(first), false, 100, &f, &code), 5);
	assert_false(f.fin);
	assert_int_equal(ws_msg_feed(&m, &f, &code), 0);
	/* a control frame may come between fragments (5.4): the caller's, not the msg's
	 */
	assert_int_equal(ws_parse(ping, sizeof(ping), false, 100, &f, &code), 2);
	assert_int_equal(f.op, WS_OP_PING);
	assert_int_equal(ws_parse(last, sizeof(last), false, 100, &f, &code), 4);
	assert_int_equal(f.op, WS_OP_CONT);
	assert_int_equal(ws_msg_feed(&m, &f, &code), 1);
	assert_int_equal(m.op, WS_OP_TEXT);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.buf, "Hello", 5);
	/* a continuation with nothing started, a new start inside a message */
	assert_int_equal(ws_parse(last, sizeof(last), false, 100, &f, &code), 4);
	assert_int_equal(ws_msg_feed(&m, &f, &code), -EPROTO);
	ws_msg_init(&m, buf, sizeof(buf));
	uint8_t first2[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
	assert_int_equal(ws_parse(first2, sizeof(first2), false, 100, &f, &code), 5);
	assert_int_equal(ws_msg_feed(&m, &f, &code), 0);
	assert_int_equal(ws_msg_feed(&m, &f, &code), -EPROTO);
}

static void test_message_bound_and_utf8(void **state)
{
	uint8_t buf[4], p[8] = "abcdefg";
	struct ws_frame f = {.fin = false, .op = WS_OP_BINARY, .payload = p, .len = 3};
	struct ws_msg m;
	uint16_t code;
	uint8_t bad[] = {0xc3, 0x28};

	(void)state;
	ws_msg_init(&m, buf, sizeof(buf));
	assert_int_equal(ws_msg_feed(&m, &f, &code), 0);
	f.op = WS_OP_CONT;
	f.fin = true;
	assert_int_equal(ws_msg_feed(&m, &f, &code), -EMSGSIZE);
	assert_int_equal(code, WS_CLOSE_TOO_BIG);
	ws_msg_init(&m, buf, sizeof(buf));
	f = (struct ws_frame){.fin = true, .op = WS_OP_TEXT, .payload = bad, .len = 2};
	assert_int_equal(ws_msg_feed(&m, &f, &code), -EILSEQ);
	assert_int_equal(code, WS_CLOSE_BAD_DATA);
}

static void test_lengths(void **state)
{
	static uint8_t big[70000], out[70000 + WS_HDR_MAX];
	uint8_t b256[] = {0x82, 0x7e, 0x01, 0x00};
	uint8_t b64k[] = {0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0};
	uint8_t nonmin[] = {0x82, 0x7e, 0x00, 0x05, 1, 2, 3, 4, 5};
	uint8_t top[] = {0x82, 0x7f, 0x80, 0, 0, 0, 0, 1, 0, 0};
	struct ws_frame f;
	uint16_t code = 0;
	int n;

	(void)state;
	/* the RFC's 256-byte and 64 KiB binary headers, built and parsed */
	n = ws_build(out, sizeof(out), true, WS_OP_BINARY, big, 256, NULL);
	assert_int_equal(n, 4 + 256);
	assert_memory_equal(out, b256, 4);
	assert_int_equal(ws_parse(out, (size_t)n, false, 65536, &f, &code), n);
	assert_int_equal(f.len, 256);
	n = ws_build(out, sizeof(out), true, WS_OP_BINARY, big, 65536, NULL);
	assert_int_equal(n, 10 + 65536);
	assert_memory_equal(out, b64k, 10);
	assert_int_equal(ws_parse(out, (size_t)n, false, 65536, &f, &code), n);
	/* over the bound: refused from the header alone, before the payload came */
	assert_int_equal(ws_parse(out, 10, false, 65535, &f, &code), -EMSGSIZE);
	assert_int_equal(code, WS_CLOSE_TOO_BIG);
	/* non-minimal and top-bit lengths */
	assert_int_equal(ws_parse(nonmin, sizeof(nonmin), false, 100, &f, &code),
			 -EPROTO);
	assert_int_equal(ws_parse(top, sizeof(top), false, SIZE_MAX, &f, &code), -EPROTO);
	assert_int_equal(ws_build(out, 10, true, WS_OP_BINARY, big, 256, NULL), -ENOSPC);
}

static void test_control_rules(void **state)
{
	uint8_t frag_ping[] = {0x09, 0x00};
	uint8_t long_ping[] = {0x89, 0x7e, 0x00, 0x7e};
	uint8_t rsv[] = {0xc1, 0x00};
	uint8_t op3[] = {0x83, 0x00};
	uint8_t p[200] = {0}, out[300], mask[4] = {1, 2, 3, 4};
	struct ws_frame f;
	uint16_t code;
	int n;

	(void)state;
	assert_int_equal(ws_parse(frag_ping, sizeof(frag_ping), false, 100, &f, &code),
			 -EPROTO);
	assert_int_equal(ws_parse(long_ping, sizeof(long_ping), false, 1000, &f, &code),
			 -EPROTO);
	assert_int_equal(ws_parse(rsv, sizeof(rsv), false, 100, &f, &code), -EPROTO);
	assert_int_equal(ws_parse(op3, sizeof(op3), false, 100, &f, &code), -EPROTO);
	assert_int_equal(ws_build(out, sizeof(out), true, WS_OP_PING, p, 126, NULL),
			 -EINVAL);
	/* a client's masked build parses back on the server's side */
	memcpy(p, "Hello", 5);
	n = ws_build(out, sizeof(out), true, WS_OP_PONG, p, 5, mask);
	assert_int_equal(n, 11);
	assert_memory_not_equal(out + 6, "Hello", 5);
	assert_int_equal(ws_parse(out, (size_t)n, true, 100, &f, &code), 11);
	assert_memory_equal(f.payload, "Hello", 5);
}

static void test_close_codes(void **state)
{
	uint8_t p[WS_CONTROL_MAX];
	char reason[300];
	uint16_t code;
	size_t n;

	(void)state;
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	n = ws_close_payload(p, WS_CLOSE_POLICY, reason);
	assert_int_equal(n, WS_CONTROL_MAX);
	assert_int_equal(ws_close_parse(p, n, &code), 0);
	assert_int_equal(code, 1008);
	assert_int_equal(ws_close_parse(p, 0, &code), 0);
	assert_int_equal(code, 1005);
	assert_int_equal(ws_close_parse(p, 1, &code), -EPROTO);
	/* codes a peer may not send: 1005, 1006, 1015, 999, 5000 */
	static const uint16_t bad[] = {1004, 1005, 1006, 1015, 999, 2000, 5000};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p[0] = (uint8_t)(bad[i] >> 8);
		p[1] = (uint8_t)bad[i];
		assert_int_equal(ws_close_parse(p, 2, &code), -EPROTO);
	}
	p[0] = 4000 >> 8;
	p[1] = 4000 & 0xff;
	assert_int_equal(ws_close_parse(p, 2, &code), 0);
	p[2] = 0xff;
	assert_int_equal(ws_close_parse(p, 3, &code), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept_rfc),
	    cmocka_unit_test(test_rfc_single_frames),
	    cmocka_unit_test(test_masking_per_direction),
	    cmocka_unit_test(test_rfc_fragments),
	    cmocka_unit_test(test_message_bound_and_utf8),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_control_rules),
	    cmocka_unit_test(test_close_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
