#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rtp.h"

/* The golden packet also shown in docs/PROTOCOL.md: marker, seq 0x1234, ts 0x00bc614e,
 * ssrc 0xdeadbeef, token 0102030405060708, payload "hi". */
static const uint8_t golden[] = {
    0x90, 0xef, 0x12, 0x34, 0x00, 0xbc, 0x61, 0x4e, 0xde, 0xad, 0xbe, 0xef, /* header */
    0xbe, 0xde, 0x00, 0x03,						    /* ext head */
    0x17, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00, /* token */
    'h',  'i'};
static const uint8_t golden_out[] = {0x80, 0xef, 0x12, 0x34, 0x00, 0xbc, 0x61,
				     0x4e, 0xde, 0xad, 0xbe, 0xef, 'h',	 'i'};
static const uint8_t tok[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static void test_pack_golden(void **state)
{
	uint8_t buf[64];
	struct rtp_hdr h = {true, 111, 0x1234, 12345678, 0xdeadbeef};

	(void)state;
	assert_int_equal(rtp_pack(buf, sizeof(buf), &h, tok, (const uint8_t *)"hi", 2),
			 sizeof(golden));
	assert_memory_equal(buf, golden, sizeof(golden));
	assert_int_equal(
	    rtp_pack(buf, sizeof(golden) - 1, &h, tok, (const uint8_t *)"hi", 2),
	    -ENOSPC);
	assert_int_equal(rtp_pack(buf, sizeof(buf), &h, NULL, NULL, 0), 12);
	assert_int_equal(buf[0], 0x80);
}

static void test_parse_golden(void **state)
{
	struct rtp_pkt p;
	uint8_t out[64];

	(void)state;
	assert_int_equal(rtp_parse(golden, sizeof(golden), &p), 0);
	assert_true(p.hdr.marker);
	assert_int_equal(p.hdr.pt, 111);
	assert_int_equal(p.hdr.seq, 0x1234);
	assert_int_equal(p.hdr.ts, 12345678);
	assert_int_equal(p.hdr.ssrc, 0xdeadbeef);
	assert_int_equal(p.hdr_len, 12);
	assert_true(p.has_token);
	assert_memory_equal(p.token, tok, 8);
	assert_int_equal(p.payload_len, 2);
	assert_memory_equal(p.payload, "hi", 2);
	assert_int_equal(rtp_strip_ext(golden, &p, out, sizeof(out)), sizeof(golden_out));
	assert_memory_equal(out, golden_out, sizeof(golden_out));
	assert_int_equal(rtp_strip_ext(golden, &p, out, 5), -ENOSPC);
}

static void test_truncated(void **state)
{
	struct rtp_pkt p;

	(void)state;
	for (size_t len = 0; len < 28; len++) /* every cut inside the headers */
		assert_int_equal(rtp_parse(golden, len, &p), -EBADMSG);
	assert_int_equal(rtp_parse(golden, 28, &p), 0); /* headers only: a keepalive */
	assert_int_equal(p.payload_len, 0);
}

static void test_bad_version_and_csrc(void **state)
{
	uint8_t b[64];
	struct rtp_pkt p;

	(void)state;
	memcpy(b, golden, sizeof(golden));
	b[0] = (uint8_t)((b[0] & 0x3f) | 0x40);
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), -EBADMSG);
	b[0] = (uint8_t)(b[0] & 0x3f);
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), -EBADMSG);
	/* 15 CSRCs declared: 72 bytes of fixed header needed */
	memcpy(b, golden, sizeof(golden));
	b[0] = 0x8f;
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), -EBADMSG);
	/* 1 CSRC, no extension: header is 16 bytes, the rest payload */
	b[0] = 0x81;
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), 0);
	assert_int_equal(p.hdr_len, 16);
	assert_false(p.has_token);
	assert_int_equal(p.payload_len, sizeof(golden) - 16);
}

static void test_wrong_extension(void **state)
{
	uint8_t b[64];
	struct rtp_pkt p;

	(void)state;
	memcpy(b, golden, sizeof(golden));
	b[12] = 0x10; /* profile 0x10de: not one-byte headers */
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), 0);
	assert_false(p.has_token);
	assert_int_equal(p.payload_len, 2); /* still skipped by its length */
	memcpy(b, golden, sizeof(golden));
	b[16] = 0x27; /* ID 2 */
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), 0);
	assert_false(p.has_token);
	memcpy(b, golden, sizeof(golden));
	b[16] = 0x16; /* ID 1, 7 bytes */
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), 0);
	assert_false(p.has_token);
	memcpy(b, golden, sizeof(golden));
	b[15] = 2; /* 2 words: the token does not fit */
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), 0);
	assert_false(p.has_token);
	memcpy(b, golden, sizeof(golden));
	b[15] = 200; /* longer than the packet */
	assert_int_equal(rtp_parse(b, sizeof(golden), &p), -EBADMSG);
}

static void test_token_equal(void **state)
{
	uint8_t t2[8];

	(void)state;
	memcpy(t2, tok, 8);
	assert_true(rtp_token_equal(tok, t2));
	for (int i = 0; i < 8; i++) {
		t2[i] ^= 0x80;
		assert_false(rtp_token_equal(tok, t2));
		t2[i] ^= 0x80;
	}
}

/* RTP padding (P=1) is removed before decoding: the last byte counts it. */
static void test_unpad(void **state)
{
	/* V=2 P=1, PT 111, seq 1, ts 0, ssrc 1, payload "op" + 3 padding bytes (0 0 3) */
	static const uint8_t padded[] = {0xa0, 111, 0, 1,   0,	 0, 0, 0, 0,
					 0,    0,   1, 'o', 'p', 0, 0, 3};
	static const uint8_t plain[] = {0x80, 111, 0, 1, 0, 0,	 0,
					0,    0,   0, 0, 1, 'o', 'p'};
	uint8_t bad[sizeof(padded)];
	struct rtp_pkt p;

	(void)state;
	assert_int_equal(rtp_parse(padded, sizeof(padded), &p), 0);
	assert_int_equal(rtp_unpad(padded, &p), 0);
	assert_int_equal(p.payload_len, 2);
	assert_memory_equal(p.payload, "op", 2);
	assert_int_equal(rtp_parse(plain, sizeof(plain), &p), 0);
	assert_int_equal(rtp_unpad(plain, &p), 0); /* P=0: untouched */
	assert_int_equal(p.payload_len, 2);
	memcpy(bad, padded, sizeof(bad));
	bad[sizeof(bad) - 1] = 6; /* more than the payload */
	assert_int_equal(rtp_parse(bad, sizeof(bad), &p), 0);
	assert_int_equal(rtp_unpad(bad, &p), -EBADMSG);
	bad[sizeof(bad) - 1] = 0; /* a count of zero */
	assert_int_equal(rtp_parse(bad, sizeof(bad), &p), 0);
	assert_int_equal(rtp_unpad(bad, &p), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pack_golden),
	    cmocka_unit_test(test_parse_golden),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_bad_version_and_csrc),
	    cmocka_unit_test(test_wrong_extension),
	    cmocka_unit_test(test_token_equal),
	    cmocka_unit_test(test_unpad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
