#include "vcrypt.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct vc {
	EVP_CIPHER_CTX *ctx;
	uint8_t salt[VC_SALT_LEN];
	bool seal;
};

int vc_key_random(struct vc_key *k)
{
	return RAND_bytes((unsigned char *)k, (int)sizeof(*k)) == 1 ? 0 : -EIO;
}

int vc_new(struct vc **vp, const struct vc_key *k, bool seal)
{
	struct vc *v = calloc(1, sizeof(*v));
	int ok;

	if (!v)
		return -ENOMEM;
	v->ctx = EVP_CIPHER_CTX_new();
	if (!v->ctx) {
		free(v);
		return -ENOMEM;
	}
	/* the key is set once; each packet sets only its nonce */
	ok =
	    seal
		? EVP_EncryptInit_ex(v->ctx, EVP_chacha20_poly1305(), NULL, k->key, NULL)
		: EVP_DecryptInit_ex(v->ctx, EVP_chacha20_poly1305(), NULL, k->key, NULL);
	if (ok != 1) {
		vc_free(v);
		return -EIO;
	}
	memcpy(v->salt, k->salt, VC_SALT_LEN);
	v->seal = seal;
	*vp = v;
	return 0;
}

void vc_free(struct vc *v)
{
	if (!v)
		return;
	EVP_CIPHER_CTX_free(v->ctx); /* cleanses the key schedule */
	OPENSSL_cleanse(v->salt, sizeof(v->salt));
	free(v);
}

/* salt XOR (4 zero bytes | counter, big-endian) */
static void nonce(const struct vc *v, uint64_t ctr, uint8_t n[VC_SALT_LEN])
{
	memcpy(n, v->salt, VC_SALT_LEN);
	for (int i = 0; i < 8; i++)
		n[4 + i] ^= (uint8_t)(ctr >> (56 - 8 * i));
}

static void put_ctr(uint8_t *p, uint64_t ctr)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(ctr >> (56 - 8 * i));
}

static uint64_t get_ctr(const uint8_t *p)
{
	uint64_t c = 0;

	for (int i = 0; i < 8; i++)
		c = c << 8 | p[i];
	return c;
}

uint64_t vc_packet_ctr(const uint8_t *pkt)
{
	return get_ctr(pkt + VC_HDR_LEN);
}

int vc_aead_seal(struct vc *v, const uint8_t nonce[VC_SALT_LEN], const uint8_t *aad,
		 size_t alen, const uint8_t *in, size_t len, uint8_t *out,
		 uint8_t tag[VC_TAG_LEN])
{
	int m, ok;

	if (!v->seal || alen > INT32_MAX || len > INT32_MAX)
		return -EINVAL;
	ok = EVP_EncryptInit_ex(v->ctx, NULL, NULL, NULL, nonce) == 1 &&
	     (alen == 0 || EVP_EncryptUpdate(v->ctx, NULL, &m, aad, (int)alen) == 1) &&
	     (len == 0 || EVP_EncryptUpdate(v->ctx, out, &m, in, (int)len) == 1) &&
	     EVP_EncryptFinal_ex(v->ctx, out + len, &m) == 1 &&
	     EVP_CIPHER_CTX_ctrl(v->ctx, EVP_CTRL_AEAD_GET_TAG, VC_TAG_LEN, tag) == 1;
	return ok ? 0 : -EIO;
}

int vc_aead_open(struct vc *v, const uint8_t nonce[VC_SALT_LEN], const uint8_t *aad,
		 size_t alen, const uint8_t *in, size_t len,
		 const uint8_t tag[VC_TAG_LEN], uint8_t *out)
{
	uint8_t t[VC_TAG_LEN];
	int m, ok;

	if (v->seal || alen > INT32_MAX || len > INT32_MAX)
		return -EINVAL;
	memcpy(t, tag, VC_TAG_LEN); /* OpenSSL takes it as writable */
	ok = EVP_DecryptInit_ex(v->ctx, NULL, NULL, NULL, nonce) == 1 &&
	     (alen == 0 || EVP_DecryptUpdate(v->ctx, NULL, &m, aad, (int)alen) == 1) &&
	     (len == 0 || EVP_DecryptUpdate(v->ctx, out, &m, in, (int)len) == 1) &&
	     EVP_CIPHER_CTX_ctrl(v->ctx, EVP_CTRL_AEAD_SET_TAG, VC_TAG_LEN, t) == 1 &&
	     EVP_DecryptFinal_ex(v->ctx, out + len, &m) == 1;
	if (!ok) {
		OPENSSL_cleanse(out, len); /* nothing unverified is handed on */
		return -EBADMSG;
	}
	return 0;
}

int vc_seal(struct vc *v, uint64_t ctr, const uint8_t *rtp, size_t len, uint8_t *out,
	    size_t size)
{
	uint8_t n[VC_SALT_LEN];

	if (!v->seal || len < VC_HDR_LEN || rtp[0] != 0x80 || len > INT32_MAX)
		return -EINVAL;
	if (size < len + VC_OVERHEAD)
		return -ENOSPC;
	memcpy(out, rtp, VC_HDR_LEN);
	put_ctr(out + VC_HDR_LEN, ctr);
	nonce(v, ctr, n);
	if (vc_aead_seal(v, n, out, VC_HDR_LEN + VC_CTR_LEN, rtp + VC_HDR_LEN,
			 len - VC_HDR_LEN, out + VC_HDR_LEN + VC_CTR_LEN,
			 out + len + VC_CTR_LEN))
		return -EIO;
	return (int)(len + VC_OVERHEAD);
}

int vc_open(struct vc *v, const uint8_t *pkt, size_t len, size_t max, uint8_t *out,
	    size_t size, uint64_t *ctr)
{
	uint8_t n[VC_SALT_LEN];
	size_t plen;

	if (v->seal || len < VC_MIN_LEN || len > max || len > INT32_MAX || pkt[0] != 0x80)
		return -EINVAL;
	plen = len - VC_MIN_LEN;
	if (size < VC_HDR_LEN + plen)
		return -ENOSPC;
	*ctr = get_ctr(pkt + VC_HDR_LEN);
	nonce(v, *ctr, n);
	if (vc_aead_open(v, n, pkt, VC_HDR_LEN + VC_CTR_LEN,
			 pkt + VC_HDR_LEN + VC_CTR_LEN, plen, pkt + len - VC_TAG_LEN,
			 out + VC_HDR_LEN)) {
		OPENSSL_cleanse(out, VC_HDR_LEN);
		return -EBADMSG;
	}
	memcpy(out, pkt, VC_HDR_LEN);
	return (int)(VC_HDR_LEN + plen);
}

int vc_open_window(struct vc *v, struct ctrwin *w, const uint8_t *pkt, size_t len,
		   size_t max, uint8_t *out, size_t size, enum seqwin_res *sr)
{
	enum seqwin_res r;
	uint64_t ctr;
	int n;

	if (len < VC_MIN_LEN || len > max)
		return -EMSGSIZE;
	r = ctrwin_check(w, vc_packet_ctr(pkt));
	if (r == SEQ_REJECT)
		return -EALREADY;
	n = vc_open(v, pkt, len, max, out, size, &ctr);
	if (n < 0)
		return n;
	ctrwin_mark(w, ctr);
	if (sr)
		*sr = r;
	return n;
}
