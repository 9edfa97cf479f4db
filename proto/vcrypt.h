/* vcrypt.h: encrypted voice (protocol 1.1, section 3): ChaCha20-Poly1305 (RFC 8439,
 * OpenSSL's EVP) over RTP. A sealed packet is
 *
 *   RTP header (12 bytes, in clear) | counter (8, big-endian, in clear) |
 *   encrypted Opus payload (its own length) | tag (16)
 *
 * with the nonce salt XOR (4 zero bytes | counter) and the 20 bytes of header and counter
 * as additional data. Pure functions over buffers: no sockets, no clock. The counter
 * window that goes with it is ctrwin (seqwin.h). */
#ifndef IC_VCRYPT_H
#define IC_VCRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seqwin.h"

#define VC_KEY_LEN  32
#define VC_SALT_LEN 12
#define VC_HDR_LEN  12 /* the RTP fixed header: V=2, P=0, X=0, CC=0 */
#define VC_CTR_LEN  8
#define VC_TAG_LEN  16
#define VC_OVERHEAD (VC_CTR_LEN + VC_TAG_LEN)
#define VC_MIN_LEN  (VC_HDR_LEN + VC_OVERHEAD)	     /* a keepalive: no payload */
#define VC_KEY_HEX  (2 * (VC_KEY_LEN + VC_SALT_LEN)) /* as the VOICE line writes it */

/* One direction's key material (c2s or s2c). Secret: never logged; vc_key_wipe it. */
struct vc_key {
	uint8_t key[VC_KEY_LEN];
	uint8_t salt[VC_SALT_LEN];
};

/* Fresh random keys (OpenSSL's RAND_bytes). Returns 0 or -EIO. */
int vc_key_random(struct vc_key *k);

/* From / to the VOICE line's 88 lower-case hex digits (key, then salt). parse returns 0
 * or -EINVAL (another length, upper case, not hex); out has VC_KEY_HEX + 1 bytes. */
int vc_key_parse(struct vc_key *k, const char *hex, size_t len);
void vc_key_format(const struct vc_key *k, char *out);

/* Overwrite it (explicit_bzero: not optimised away). parse, format and wipe live in
 * vkey.c, free of OpenSSL. */
void vc_key_wipe(struct vc_key *k);

/* An AEAD context bound to one key, for sealing or for opening; the owner frees it (the
 * key is wiped from it). Returns 0, -ENOMEM or -EIO. */
struct vc;
int vc_new(struct vc **vp, const struct vc_key *k, bool seal);
void vc_free(struct vc *v);

/* Seal the RTP packet rtp (its 12-byte header, first byte 0x80, then the Opus payload;
 * len >= 12) under counter ctr into out (not overlapping rtp). Returns the sealed
 * length (len + VC_OVERHEAD), -EINVAL (not such a packet), -ENOSPC (size too small) or
 * -EIO. */
int vc_seal(struct vc *v, uint64_t ctr, const uint8_t *rtp, size_t len, uint8_t *out,
	    size_t size);

/* The AEAD beneath vc_seal and vc_open, on raw inputs: ChaCha20-Poly1305 (RFC 8439
 * section 2.8) under v's key with the given 12-byte nonce (v's salt plays no part) and
 * alen bytes of additional data. seal writes len bytes of ciphertext to out and the tag
 * to tag; open checks tag and writes len bytes of plaintext to out (out not overlapping
 * in). Exposed so the voice's own calls can be checked against the RFC's test vectors;
 * voice goes through vc_seal / vc_open, which build the contract's nonce and additional
 * data. Return 0, -EINVAL (a context made for the other direction, or a length over
 * INT32_MAX), -EIO (seal) or -EBADMSG (open: the tag does not verify; out is wiped). */
int vc_aead_seal(struct vc *v, const uint8_t nonce[VC_SALT_LEN], const uint8_t *aad,
		 size_t alen, const uint8_t *in, size_t len, uint8_t *out,
		 uint8_t tag[VC_TAG_LEN]);
int vc_aead_open(struct vc *v, const uint8_t nonce[VC_SALT_LEN], const uint8_t *aad,
		 size_t alen, const uint8_t *in, size_t len,
		 const uint8_t tag[VC_TAG_LEN], uint8_t *out);

/* The counter of a sealed packet (at least VC_MIN_LEN bytes), read before its tag is
 * checked: for the caller's counter window. */
uint64_t vc_packet_ctr(const uint8_t *pkt);

/* Open a sealed packet of len bytes (at most max, the datagram limit): verify its tag and
 * write the RTP packet (header and plain payload) to out (size >= len - VC_OVERHEAD, not
 * overlapping pkt), its counter to *ctr. Returns the RTP length, -EINVAL (too short,
 * over max, or a first byte other than 0x80: nothing was computed) or -EBADMSG (the tag
 * does not verify: out holds nothing). The counter window is the caller's: check it
 * before, mark it only after this succeeds. */
int vc_open(struct vc *v, const uint8_t *pkt, size_t len, size_t max, uint8_t *out,
	    size_t size, uint64_t *ctr);

/* The receiving side of section 3 in one step, for every receiver: a packet of len
 * bytes (at most max) opened under v only if its counter is fresh in window w (checked
 * before the tag is computed), and its counter recorded in w only after the tag
 * verified. Returns the RTP length (out as vc_open; *sr, when not NULL, the window's
 * verdict: SEQ_ADVANCE or SEQ_OLD_OK), -EMSGSIZE (shorter than VC_MIN_LEN or over max:
 * nothing read), -EALREADY (a counter seen before or below the window: nothing
 * computed), or vc_open's error. */
int vc_open_window(struct vc *v, struct ctrwin *w, const uint8_t *pkt, size_t len,
		   size_t max, uint8_t *out, size_t size, enum seqwin_res *sr);

#endif
