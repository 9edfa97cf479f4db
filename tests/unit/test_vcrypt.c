/* Encrypted voice packets (section 3) through the real OpenSSL: the layout, nonce and
 * additional data the contract gives (checked against a construction of its own with
 * one-shot EVP calls), a fixed known answer for other implementations, round trips of
 * every size, every single-bit flip refused, another key refused, bad shapes refused
 * before any crypto, and the VOICE line's key encoding. */
#include <errno.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ic_limits.h"
#include "vcrypt.h"

static const struct vc_key k1 = {
    {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a,
     0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
     0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f},
    {0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47}};

/* An RTP packet: M=1, PT 111, seq 0x1234, ts 0x01020304, ssrc 0xdeadbeef, payload
 * bytes 0, 1, 2, ... */
static size_t rtp(uint8_t *p, size_t payload)
{
	static const uint8_t h[12] = {0x80, 0xef, 0x12, 0x34, 1,    2,
				      3,    4,	  0xde, 0xad, 0xbe, 0xef};

	memcpy(p, h, sizeof(h));
	for (size_t i = 0; i < payload; i++)
		p[12 + i] = (uint8_t)i;
	return 12 + payload;
}

static struct vc *make(const struct vc_key *k, bool seal)
{
	struct vc *v = NULL;

	assert_int_equal(vc_new(&v, k, seal), 0);
	return v;
}

/* The contract's construction, written out with one-shot calls. */
static void by_the_contract(const uint8_t *in, size_t len, uint64_t ctr, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t nonce[12], aad[20];
	int n;

	memcpy(nonce, k1.salt, 12);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] ^= (uint8_t)(ctr >> (56 - 8 * i));
	memcpy(aad, in, 12);
	for (int i = 0; i < 8; i++)
		aad[12 + i] = (uint8_t)(ctr >> (56 - 8 * i));
	memcpy(out, aad, 20);
	assert_int_equal(
	    EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, k1.key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, aad, 20), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out + 20, &n, in + 12, (int)len - 12), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + 20 + n, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + len + 8),
			 1);
	EVP_CIPHER_CTX_free(c);
}

static void test_layout_and_known_answer(void **state)
{
	/* sealed under k1 with counter 0x0102030405060708: header, counter, 8 bytes of
	 * ciphertext, tag (also in docs/PROTOCOL.md, for other implementations) */
	static const uint8_t known[] = {
	    0x80, 0xef, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe,
	    0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xa0, 0xa6,
	    0x85, 0x80, 0xc3, 0x25, 0x7d, 0x6b, 0xe1, 0x84, 0xdf, 0x17, 0x43,
	    0x7e, 0x6f, 0x70, 0xa2, 0xdd, 0x01, 0x34, 0xc6, 0xd2, 0xa9, 0x90};
	uint8_t in[IC_RTP_MAX], out[IC_RTP_MAX], ref[IC_RTP_MAX];
	struct vc *s = make(&k1, true);
	size_t len = rtp(in, 8);
	int n;

	(void)state;
	n = vc_seal(s, 0x0102030405060708ULL, in, len, out, sizeof(out));
	assert_int_equal(n, len + VC_OVERHEAD);
	by_the_contract(in, len, 0x0102030405060708ULL, ref);
	assert_memory_equal(out, ref, (size_t)n);
	assert_memory_equal(out, in, 12); /* the header in clear */
	assert_int_equal(out[12], 0x01);  /* the counter, big-endian */
	assert_int_equal(out[19], 0x08);
	assert_memory_not_equal(out + 20, in + 12, 8); /* the payload is not */
	if (memcmp(out, known, sizeof(known))) {
		for (int i = 0; i < n; i++)
			print_message("0x%02x,%s", out[i], i % 12 == 11 ? "\n" : " ");
		fail_msg("the known answer changed");
	}
	vc_free(s);
}

static void test_round_trips(void **state)
{
	static const size_t sizes[] = {0, 1, 60, 160, IC_RTP_MAX - VC_MIN_LEN};
	uint8_t in[IC_RTP_MAX], sealed[IC_RTP_MAX], back[IC_RTP_MAX];
	struct vc *s = make(&k1, true), *o = make(&k1, false);

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = rtp(in, sizes[i]);
		uint64_t ctr = 0;
		int n = vc_seal(s, 1000 + i, in, len, sealed, sizeof(sealed)), m;

		assert_int_equal(n, len + VC_OVERHEAD);
		assert_true((size_t)n <= IC_RTP_MAX);
		m = vc_open(o, sealed, (size_t)n, IC_RTP_MAX, back, sizeof(back), &ctr);
		assert_int_equal(m, len);
		assert_memory_equal(back, in, len);
		assert_int_equal(ctr, 1000 + i);
	}
	/* one byte more than the datagram allows does not fit */
	assert_int_equal(
	    vc_seal(s, 1, in, rtp(in, IC_RTP_MAX - VC_MIN_LEN + 1), sealed, IC_RTP_MAX),
	    -ENOSPC);
	vc_free(s);
	vc_free(o);
}

static void test_every_bit_flip(void **state)
{
	uint8_t in[IC_RTP_MAX], sealed[IC_RTP_MAX], back[IC_RTP_MAX];
	struct vc *s = make(&k1, true), *o = make(&k1, false);
	size_t len = rtp(in, 60);
	int n = vc_seal(s, 77, in, len, sealed, sizeof(sealed));
	unsigned tag_fail = 0, shape_fail = 0;

	(void)state;
	for (int bit = 0; bit < n * 8; bit++) {
		uint64_t ctr;
		int r;

		sealed[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		memset(back, 0x5a, sizeof(back));
		r = vc_open(o, sealed, (size_t)n, IC_RTP_MAX, back, sizeof(back), &ctr);
		sealed[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		if (r == -EBADMSG) {
			tag_fail++;
			for (int i = 0; i < n; i++) /* nothing of it is handed on */
				assert_true(back[i] == 0 || back[i] == 0x5a);
		} else {
			assert_int_equal(r,
					 -EINVAL); /* the first byte is no longer 0x80 */
			assert_true(bit < 8);
			shape_fail++;
		}
	}
	assert_int_equal(tag_fail + shape_fail, n * 8);
	assert_int_equal(shape_fail, 8);
	/* and the untouched packet still opens */
	{
		uint64_t ctr;

		assert_int_equal(
		    vc_open(o, sealed, (size_t)n, IC_RTP_MAX, back, sizeof(back), &ctr),
		    len);
	}
	vc_free(s);
	vc_free(o);
}

static void test_other_keys(void **state)
{
	uint8_t in[IC_RTP_MAX], sealed[IC_RTP_MAX], back[IC_RTP_MAX];
	struct vc_key k2 = k1, k3 = k1;
	struct vc *s = make(&k1, true), *o2, *o3;
	size_t len = rtp(in, 40);
	int n = vc_seal(s, 5, in, len, sealed, sizeof(sealed));
	uint64_t ctr;

	(void)state;
	k2.key[31] ^= 1;  /* another member's key */
	k3.salt[11] ^= 1; /* the same key, another salt */
	o2 = make(&k2, false);
	o3 = make(&k3, false);
	assert_int_equal(
	    vc_open(o2, sealed, (size_t)n, IC_RTP_MAX, back, sizeof(back), &ctr),
	    -EBADMSG);
	assert_int_equal(
	    vc_open(o3, sealed, (size_t)n, IC_RTP_MAX, back, sizeof(back), &ctr),
	    -EBADMSG);
	/* a context made for sealing does not open, nor one for opening seal */
	assert_int_equal(
	    vc_open(s, sealed, (size_t)n, IC_RTP_MAX, back, sizeof(back), &ctr), -EINVAL);
	assert_int_equal(vc_seal(o2, 1, in, len, back, sizeof(back)), -EINVAL);
	vc_free(s);
	vc_free(o2);
	vc_free(o3);
}

static void test_shapes(void **state)
{
	uint8_t in[2 * IC_RTP_MAX], sealed[2 * IC_RTP_MAX], back[2 * IC_RTP_MAX];
	struct vc *s = make(&k1, true), *o = make(&k1, false);
	uint64_t ctr;
	int n;

	(void)state;
	rtp(in, 10);
	in[0] = 0x90; /* X=1: a token packet is no sealed packet */
	assert_int_equal(vc_seal(s, 1, in, 22, sealed, sizeof(sealed)), -EINVAL);
	assert_int_equal(vc_seal(s, 1, in, 11, sealed, sizeof(sealed)), -EINVAL);
	n = vc_seal(s, 1, in, rtp(in, 10), sealed, sizeof(sealed));
	assert_true(n > 0);
	assert_int_equal(
	    vc_open(o, sealed, VC_MIN_LEN - 1, IC_RTP_MAX, back, sizeof(back), &ctr),
	    -EINVAL);
	/* over the datagram limit: refused before any crypto */
	n = vc_seal(s, 2, in, rtp(in, IC_RTP_MAX), sealed, sizeof(sealed));
	assert_true(n > IC_RTP_MAX);
	assert_int_equal(
	    vc_open(o, sealed, (size_t)n, IC_RTP_MAX, back, sizeof(back), &ctr), -EINVAL);
	assert_int_equal(vc_open(o, sealed, (size_t)n, (size_t)n, back, 10, &ctr),
			 -ENOSPC);
	vc_free(s);
	vc_free(o);
}

static void test_key_text(void **state)
{
	struct vc_key k, r;
	char hex[VC_KEY_HEX + 1], bad[VC_KEY_HEX + 1];

	(void)state;
	assert_int_equal(vc_key_random(&k), 0);
	assert_int_equal(vc_key_random(&r), 0);
	assert_memory_not_equal(&k, &r, sizeof(k)); /* fresh each time */
	vc_key_format(&k1, hex);
	assert_int_equal(strlen(hex), VC_KEY_HEX);
	assert_memory_equal(hex, "808182", 6);
	assert_string_equal(hex + 64, "070000004041424344454647");
	assert_int_equal(vc_key_parse(&r, hex, strlen(hex)), 0);
	assert_memory_equal(&r, &k1, sizeof(r));
	assert_int_equal(vc_key_parse(&r, hex, strlen(hex) - 1), -EINVAL);
	memcpy(bad, hex, sizeof(bad));
	bad[0] = 'A'; /* lower case only */
	assert_int_equal(vc_key_parse(&r, bad, strlen(bad)), -EINVAL);
	bad[0] = 'g';
	assert_int_equal(vc_key_parse(&r, bad, strlen(bad)), -EINVAL);
	vc_key_wipe(&k);
	for (size_t i = 0; i < sizeof(k.key); i++)
		assert_int_equal(k.key[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_and_known_answer),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_every_bit_flip),
	    cmocka_unit_test(test_other_keys),
	    cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_key_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
