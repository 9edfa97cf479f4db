/* Encrypted voice packets (section 3) through the real OpenSSL: the AEAD the voice uses
 * against RFC 8439's test vectors (2.8.2 and A.5), the layout, nonce and additional data
 * the contract gives (sealed packets opened with plain EVP calls under a nonce built
 * here from the contract's words, not from the code), a fixed known answer for other
 * implementations, round trips of every size, every single-bit flip refused, another key
 * refused, bad shapes refused before any crypto, and the VOICE line's key encoding. */
#include <errno.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* RFC 8439's two AEAD_CHACHA20_POLY1305 examples, typed from the RFC: section 2.8.2
 * (whose key and nonce are k1's key and salt) and appendix A.5 (whose nonce is the
 * contract's nonce for a zero salt and counter 0x0102030405060708). */
struct rfc_vec {
	const char *name;
	uint8_t key[32], nonce[12], aad[12];
	const char *plain;
	const uint8_t *cipher;
	size_t len;
	uint8_t tag[16];
	uint64_t ctr; /* a counter whose nonce is this one's under salt nonce XOR ctr */
};

static const uint8_t s282_cipher[114] = {
    0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb, 0x7b, 0x86, 0xaf, 0xbc, 0x53,
    0xef, 0x7e, 0xc2, 0xa4, 0xad, 0xed, 0x51, 0x29, 0x6e, 0x08, 0xfe, 0xa9, 0xe2,
    0xb5, 0xa7, 0x36, 0xee, 0x62, 0xd6, 0x3d, 0xbe, 0xa4, 0x5e, 0x8c, 0xa9, 0x67,
    0x12, 0x82, 0xfa, 0xfb, 0x69, 0xda, 0x92, 0x72, 0x8b, 0x1a, 0x71, 0xde, 0x0a,
    0x9e, 0x06, 0x0b, 0x29, 0x05, 0xd6, 0xa5, 0xb6, 0x7e, 0xcd, 0x3b, 0x36, 0x92,
    0xdd, 0xbd, 0x7f, 0x2d, 0x77, 0x8b, 0x8c, 0x98, 0x03, 0xae, 0xe3, 0x28, 0x09,
    0x1b, 0x58, 0xfa, 0xb3, 0x24, 0xe4, 0xfa, 0xd6, 0x75, 0x94, 0x55, 0x85, 0x80,
    0x8b, 0x48, 0x31, 0xd7, 0xbc, 0x3f, 0xf4, 0xde, 0xf0, 0x8e, 0x4b, 0x7a, 0x9d,
    0xe5, 0x76, 0xd2, 0x65, 0x86, 0xce, 0xc6, 0x4b, 0x61, 0x16};

static const uint8_t a5_cipher[265] = {
    0x64, 0xa0, 0x86, 0x15, 0x75, 0x86, 0x1a, 0xf4, 0x60, 0xf0, 0x62, 0xc7, 0x9b, 0xe6,
    0x43, 0xbd, 0x5e, 0x80, 0x5c, 0xfd, 0x34, 0x5c, 0xf3, 0x89, 0xf1, 0x08, 0x67, 0x0a,
    0xc7, 0x6c, 0x8c, 0xb2, 0x4c, 0x6c, 0xfc, 0x18, 0x75, 0x5d, 0x43, 0xee, 0xa0, 0x9e,
    0xe9, 0x4e, 0x38, 0x2d, 0x26, 0xb0, 0xbd, 0xb7, 0xb7, 0x3c, 0x32, 0x1b, 0x01, 0x00,
    0xd4, 0xf0, 0x3b, 0x7f, 0x35, 0x58, 0x94, 0xcf, 0x33, 0x2f, 0x83, 0x0e, 0x71, 0x0b,
    0x97, 0xce, 0x98, 0xc8, 0xa8, 0x4a, 0xbd, 0x0b, 0x94, 0x81, 0x14, 0xad, 0x17, 0x6e,
    0x00, 0x8d, 0x33, 0xbd, 0x60, 0xf9, 0x82, 0xb1, 0xff, 0x37, 0xc8, 0x55, 0x97, 0x97,
    0xa0, 0x6e, 0xf4, 0xf0, 0xef, 0x61, 0xc1, 0x86, 0x32, 0x4e, 0x2b, 0x35, 0x06, 0x38,
    0x36, 0x06, 0x90, 0x7b, 0x6a, 0x7c, 0x02, 0xb0, 0xf9, 0xf6, 0x15, 0x7b, 0x53, 0xc8,
    0x67, 0xe4, 0xb9, 0x16, 0x6c, 0x76, 0x7b, 0x80, 0x4d, 0x46, 0xa5, 0x9b, 0x52, 0x16,
    0xcd, 0xe7, 0xa4, 0xe9, 0x90, 0x40, 0xc5, 0xa4, 0x04, 0x33, 0x22, 0x5e, 0xe2, 0x82,
    0xa1, 0xb0, 0xa0, 0x6c, 0x52, 0x3e, 0xaf, 0x45, 0x34, 0xd7, 0xf8, 0x3f, 0xa1, 0x15,
    0x5b, 0x00, 0x47, 0x71, 0x8c, 0xbc, 0x54, 0x6a, 0x0d, 0x07, 0x2b, 0x04, 0xb3, 0x56,
    0x4e, 0xea, 0x1b, 0x42, 0x22, 0x73, 0xf5, 0x48, 0x27, 0x1a, 0x0b, 0xb2, 0x31, 0x60,
    0x53, 0xfa, 0x76, 0x99, 0x19, 0x55, 0xeb, 0xd6, 0x31, 0x59, 0x43, 0x4e, 0xce, 0xbb,
    0x4e, 0x46, 0x6d, 0xae, 0x5a, 0x10, 0x73, 0xa6, 0x72, 0x76, 0x27, 0x09, 0x7a, 0x10,
    0x49, 0xe6, 0x17, 0xd9, 0x1d, 0x36, 0x10, 0x94, 0xfa, 0x68, 0xf0, 0xff, 0x77, 0x98,
    0x71, 0x30, 0x30, 0x5b, 0xea, 0xba, 0x2e, 0xda, 0x04, 0xdf, 0x99, 0x7b, 0x71, 0x4d,
    0x6c, 0x6f, 0x2c, 0x29, 0xa6, 0xad, 0x5c, 0xb4, 0x02, 0x2b, 0x02, 0x70, 0x9b,
};

static const struct rfc_vec rfc[] = {
    {"section 2.8.2",
     {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a,
      0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
      0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f},
     {0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47},
     {0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7},
     "Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
     "for the future, sunscreen would be it.",
     s282_cipher,
     sizeof(s282_cipher),
     {0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a, 0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60,
      0x06, 0x91},
     0},
    {"appendix A.5",
     {0x1c, 0x92, 0x40, 0xa5, 0xeb, 0x55, 0xd3, 0x8a, 0xf3, 0x33, 0x88,
      0x86, 0x04, 0xf6, 0xb5, 0xf0, 0x47, 0x39, 0x17, 0xc1, 0x40, 0x2b,
      0x80, 0x09, 0x9d, 0xca, 0x5c, 0xbc, 0x20, 0x70, 0x75, 0xc0},
     {0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
     {0xf3, 0x33, 0x88, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4e, 0x91},
     "Internet-Drafts are draft documents valid for a maximum of six months and may "
     "be updated, replaced, or obsoleted by other documents at any time. It is "
     "inappropriate to use Internet-Drafts as reference material or to cite them "
     "other than as /\xe2\x80\x9cwork in progress./\xe2\x80\x9d",
     a5_cipher,
     sizeof(a5_cipher),
     {0xee, 0xad, 0x9d, 0x67, 0x89, 0x0c, 0xbb, 0x22, 0x39, 0x23, 0x36, 0xfe, 0xa1, 0x85,
      0x1f, 0x38},
     0x0102030405060708ULL},
};
#define NRFC (sizeof(rfc) / sizeof(rfc[0]))

/* The contract's nonce, from its words alone (protocol.md section 3): "the 12-byte salt
 * XOR (4 zero bytes || the 8-byte counter)", the counter written as the packet carries
 * it, "8 bytes, big-endian" (most significant byte first). */
static void contract_nonce(const uint8_t salt[12], uint64_t ctr, uint8_t nonce[12])
{
	uint8_t pad[12] = {0}; /* 4 zero bytes, then the counter */

	for (int i = 11; i >= 4; i--) {
		pad[i] = (uint8_t)(ctr % 256);
		ctr /= 256;
	}
	for (int i = 0; i < 12; i++)
		nonce[i] = salt[i] ^ pad[i];
}

/* Plain one-shot EVP ChaCha20-Poly1305, nothing of vcrypt.c: seal in to out and tag. */
static void evp_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
		     int alen, const uint8_t *in, int len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n;

	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce),
			 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, aad, alen), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out, &n, in, len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + n, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(c);
}

/* Its opening twin: true when the tag verifies (out then holds the plaintext). */
static bool evp_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
		     int alen, const uint8_t *in, int len, const uint8_t *tag,
		     uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t t[16];
	int n, ok;

	assert_non_null(c);
	memcpy(t, tag, 16);
	assert_int_equal(EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce),
			 1);
	assert_int_equal(EVP_DecryptUpdate(c, NULL, &n, aad, alen), 1);
	assert_int_equal(EVP_DecryptUpdate(c, out, &n, in, len), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, t), 1);
	ok = EVP_DecryptFinal_ex(c, out + n, &n);
	EVP_CIPHER_CTX_free(c);
	return ok == 1;
}

/* The contract's sealed packet, built here: header, counter, ciphertext, tag. */
static void by_the_contract(const uint8_t *in, size_t len, uint64_t ctr, uint8_t *out)
{
	uint8_t nonce[12];

	contract_nonce(k1.salt, ctr, nonce);
	memcpy(out, in, 12);
	for (int i = 0; i < 8; i++) /* the counter: the nonce's last 8 bytes, unsalted */
		out[12 + i] = nonce[4 + i] ^ k1.salt[4 + i];
	evp_seal(k1.key, nonce, out, 20, in + 12, (int)len - 12, out + 20, out + len + 8);
}

/* The voice's AEAD calls (the context vc_new makes, the calls vc_seal and vc_open make)
 * give the RFC's ciphertext and tag, open it, and refuse it with one bit of the tag,
 * the additional data or the ciphertext changed. */
static void test_rfc8439_vectors(void **state)
{
	(void)state;
	assert_memory_equal(k1.key, rfc[0].key, 32);
	assert_memory_equal(k1.salt, rfc[0].nonce, 12);
	for (size_t i = 0; i < NRFC; i++) {
		const struct rfc_vec *r = &rfc[i];
		struct vc_key k = {{0}, {0}};
		uint8_t ct[300], tag[16], pt[300], bad[300], badtag[16], badaad[12];
		struct vc *s, *o;

		print_message("RFC 8439 %s\n", r->name);
		assert_int_equal(strlen(r->plain), r->len);
		memcpy(k.key, r->key, 32);
		s = make(&k, true);
		o = make(&k, false);
		assert_int_equal(vc_aead_seal(s, r->nonce, r->aad, 12,
					      (const uint8_t *)r->plain, r->len, ct, tag),
				 0);
		assert_memory_equal(ct, r->cipher, r->len);
		assert_memory_equal(tag, r->tag, 16);
		assert_int_equal(
		    vc_aead_open(o, r->nonce, r->aad, 12, r->cipher, r->len, r->tag, pt),
		    0);
		assert_memory_equal(pt, r->plain, r->len);
		memcpy(badtag, r->tag, 16);
		badtag[15] ^= 1;
		memcpy(badaad, r->aad, 12);
		badaad[0] ^= 0x80;
		memcpy(bad, r->cipher, r->len);
		bad[r->len - 1] ^= 4;
		assert_int_equal(
		    vc_aead_open(o, r->nonce, r->aad, 12, r->cipher, r->len, badtag, pt),
		    -EBADMSG);
		for (size_t j = 0; j < r->len; j++) /* nothing unverified is handed on */
			assert_int_equal(pt[j], 0);
		assert_int_equal(
		    vc_aead_open(o, r->nonce, badaad, 12, r->cipher, r->len, r->tag, pt),
		    -EBADMSG);
		assert_int_equal(
		    vc_aead_open(o, r->nonce, r->aad, 12, bad, r->len, r->tag, pt),
		    -EBADMSG);
		/* each context does one direction only */
		assert_int_equal(
		    vc_aead_open(s, r->nonce, r->aad, 12, r->cipher, r->len, r->tag, pt),
		    -EINVAL);
		assert_int_equal(vc_aead_seal(o, r->nonce, r->aad, 12,
					      (const uint8_t *)r->plain, r->len, ct, tag),
				 -EINVAL);
		vc_free(s);
		vc_free(o);
	}
}

/* A voice packet carrying an RFC plaintext, sealed by vc_seal under the RFC's key with a
 * salt and counter whose contract nonce is the RFC's nonce, is encrypted to the RFC's
 * ciphertext (ChaCha20's output does not depend on the additional data; the tag does,
 * so it is checked by opening with plain EVP): the voice's nonce, counter byte order and
 * keystream against the standard. A.5's nonce is the contract's for a zero salt and
 * counter 0x0102030405060708 as it stands. */
static void test_rfc8439_through_the_voice(void **state)
{
	static const uint64_t ctrs[] = {0, 1, 0x0102030405060708ULL, UINT64_MAX};
	uint8_t in[12 + 300], out[12 + 300 + VC_OVERHEAD], back[300], nonce[12];

	(void)state;
	rtp(in, 0);
	for (size_t v = 0; v < NRFC; v++) {
		const struct rfc_vec *r = &rfc[v];
		size_t len = 12 + r->len;
		uint8_t zero[12] = {0};

		memcpy(in + 12, r->plain, r->len);
		if (r->ctr) { /* A.5: the nonce of a zero salt and its counter */
			contract_nonce(zero, r->ctr, nonce);
			assert_memory_equal(nonce, r->nonce, 12);
		}
		for (size_t i = 0; i < sizeof(ctrs) / sizeof(ctrs[0]); i++) {
			struct vc_key k;
			struct vc *s;

			memcpy(k.key, r->key, 32);
			/* salt = RFC nonce XOR (0^4 || counter): its nonce is the RFC's
			 */
			contract_nonce(r->nonce, ctrs[i], k.salt);
			s = make(&k, true);
			assert_int_equal(vc_seal(s, ctrs[i], in, len, out, sizeof(out)),
					 len + VC_OVERHEAD);
			assert_memory_equal(out + 20, r->cipher, r->len);
			contract_nonce(k.salt, ctrs[i], nonce);
			assert_memory_equal(nonce, r->nonce, 12);
			assert_true(evp_open(r->key, nonce, out, 20, out + 20,
					     (int)r->len, out + len + 8, back));
			assert_memory_equal(back, r->plain, r->len);
			vc_free(s);
		}
	}
}

/* Packets sealed by the real code, for salts and counters that exercise every byte of
 * the nonce, open with plain EVP under the contract's nonce and the 20 bytes of header
 * and counter as additional data, and their counter field is the counter big-endian;
 * packets sealed here the same way open with vc_open. A nonce built another way (the
 * counter little-endian, or in the nonce's first 8 bytes) does not open them. */
static void test_nonce_by_the_contract(void **state)
{
	static const uint64_t ctrs[] = {0,
					1,
					0xff,
					0x100,
					0xffffffffULL,
					0x100000000ULL,
					0x0102030405060708ULL,
					1ULL << 63,
					UINT64_MAX};
	struct vc_key keys[2] = {k1, k1};
	uint8_t in[IC_RTP_MAX], pkt[IC_RTP_MAX], back[IC_RTP_MAX], nonce[12], wrong[12];

	(void)state;
	assert_int_equal(vc_key_random(&keys[1]), 0);
	for (size_t ki = 0; ki < 2; ki++) {
		struct vc *s = make(&keys[ki], true), *o = make(&keys[ki], false);

		for (size_t i = 0; i < sizeof(ctrs) / sizeof(ctrs[0]); i++) {
			size_t len = rtp(in, 33 + i);
			uint64_t ctr = 0;
			uint8_t tag[16];

			assert_int_equal(vc_seal(s, ctrs[i], in, len, pkt, sizeof(pkt)),
					 len + VC_OVERHEAD);
			contract_nonce(keys[ki].salt, ctrs[i], nonce);
			for (int b = 0; b < 8; b++) /* the counter field: big-endian */
				assert_int_equal(pkt[12 + b],
						 nonce[4 + b] ^ keys[ki].salt[4 + b]);
			assert_true(evp_open(keys[ki].key, nonce, pkt, 20, pkt + 20,
					     (int)len - 12, pkt + len + 8, back));
			assert_memory_equal(back, in + 12, len - 12);
			/* the other readings do not open it */
			memcpy(wrong, keys[ki].salt, 12);
			for (int b = 0; b < 8; b++)
				wrong[4 + b] ^= (uint8_t)(ctrs[i] >> (8 * b));
			if (memcmp(wrong, nonce, 12))
				assert_false(evp_open(keys[ki].key, wrong, pkt, 20,
						      pkt + 20, (int)len - 12,
						      pkt + len + 8, back));
			memcpy(wrong, keys[ki].salt, 12);
			for (int b = 0; b < 8; b++)
				wrong[b] ^= pkt[12 + b];
			if (memcmp(wrong, nonce, 12))
				assert_false(evp_open(keys[ki].key, wrong, pkt, 20,
						      pkt + 20, (int)len - 12,
						      pkt + len + 8, back));
			/* and the code opens what the contract seals */
			memcpy(pkt, in, 12);
			memcpy(pkt + 12, nonce + 4, 8);
			for (int b = 0; b < 8; b++)
				pkt[12 + b] ^= keys[ki].salt[4 + b];
			evp_seal(keys[ki].key, nonce, pkt, 20, in + 12, (int)len - 12,
				 pkt + 20, tag);
			memcpy(pkt + len + 8, tag, 16);
			assert_int_equal(vc_open(o, pkt, len + VC_OVERHEAD, IC_RTP_MAX,
						 back, sizeof(back), &ctr),
					 len);
			assert_memory_equal(back, in, len);
			assert_int_equal(ctr, ctrs[i]);
		}
		vc_free(s);
		vc_free(o);
	}
}

static void test_layout_and_known_answer(void **state)
{
	/* sealed under k1 with counter 0x0102030405060708: header, counter, 8 bytes of
	 * ciphertext, tag (also in docs/PROTOCOL.md, for other implementations); k1 is
	 * RFC 8439's key and nonce, checked against the RFC above */
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
	/* the known answer is the contract's construction, not only what the code gave */
	assert_memory_equal(ref, known, sizeof(known));
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
	    cmocka_unit_test(test_rfc8439_vectors),
	    cmocka_unit_test(test_rfc8439_through_the_voice),
	    cmocka_unit_test(test_nonce_by_the_contract),
	    cmocka_unit_test(test_layout_and_known_answer),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_every_bit_flip),
	    cmocka_unit_test(test_other_keys),
	    cmocka_unit_test(test_shapes),
	    cmocka_unit_test(test_key_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
