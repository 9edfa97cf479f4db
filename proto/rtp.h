/* rtp.h: RTP header pack/parse (RFC 3550) with the RFC 8285 one-byte token extension. */
#ifndef IC_RTP_H
#define IC_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ic_limits.h"

struct rtp_hdr {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
};

/* A parsed packet: views into the caller's buffer. */
struct rtp_pkt {
	struct rtp_hdr hdr;
	size_t hdr_len; /* fixed header and CSRCs, without the extension */
	bool has_token; /* extension is profile 0xBEDE with first element ID 1, 8 bytes */
	uint8_t token[IC_TOKEN_LEN];
	const uint8_t *payload; /* after the extension; RTP padding, if any, included */
	size_t payload_len;
};

#define RTP_FIXED_LEN  12
#define RTP_MARKER_BIT 0x80 /* in the header's second byte */
#define RTP_EXT_LEN    (4 + 4 * IC_RTP_EXT_WORDS)

/* Parse buf[0..len). Returns 0, or -EBADMSG when it is not RTP version 2 or is shorter
 * than the headers it declares. A missing or wrong extension is not an error: has_token
 * tells. */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_pkt *pkt);

/* Remove RTP padding (P=1: the last byte counts the padding bytes, itself included)
 * from pkt's payload, as a receiver must before decoding. Returns 0 (nothing to do when
 * P=0), or -EBADMSG when the count is 0 or more than the payload. buf: the packet pkt
 * was parsed from. */
int rtp_unpad(const uint8_t *buf, struct rtp_pkt *pkt);

/* The SSRC of a packet of at least RTP_FIXED_LEN bytes, before any other check: whose
 * session's rules judge the rest. */
uint32_t rtp_get_ssrc(const uint8_t *pkt);

/* Write a version-2 header, the token extension when token is non-NULL, and the payload.
 * Returns the packet length, or -ENOSPC if buf is too small. */
int rtp_pack(uint8_t *buf, size_t size, const struct rtp_hdr *hdr, const uint8_t *token,
	     const uint8_t *payload, size_t payload_len);

/* Copy a parsed packet without its extension (X=0) into out: what the server forwards.
 * Returns the length, or -ENOSPC. */
int rtp_strip_ext(const uint8_t *buf, const struct rtp_pkt *pkt, uint8_t *out,
		  size_t size);

/* Constant-time comparison of two tokens: true if equal. */
bool rtp_token_equal(const uint8_t *a, const uint8_t *b);

#endif
