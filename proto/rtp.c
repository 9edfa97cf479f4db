#include "rtp.h"

#include <errno.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	       p[3];
}

uint32_t rtp_get_ssrc(const uint8_t *pkt)
{
	return get32(pkt + 8);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_pkt *pkt)
{
	size_t off;
	unsigned cc;

	memset(pkt, 0, sizeof(*pkt));
	if (len < RTP_FIXED_LEN || (buf[0] >> 6) != 2)
		return -EBADMSG;
	cc = buf[0] & 0x0f;
	pkt->hdr.marker = (buf[1] & 0x80) != 0;
	pkt->hdr.pt = buf[1] & 0x7f;
	pkt->hdr.seq = get16(buf + 2);
	pkt->hdr.ts = get32(buf + 4);
	pkt->hdr.ssrc = get32(buf + 8);
	off = RTP_FIXED_LEN + 4 * cc;
	if (len < off)
		return -EBADMSG;
	pkt->hdr_len = off;
	if (buf[0] & 0x10) {
		size_t words;

		if (len - off < 4)
			return -EBADMSG;
		words = get16(buf + off + 2);
		if (len - off - 4 < 4 * words)
			return -EBADMSG;
		/* first element of a one-byte-header extension: ID 1, length 8 (0x17) */
		if (get16(buf + off) == IC_RTP_EXT_PROFILE &&
		    words * 4 >= 1 + IC_TOKEN_LEN &&
		    buf[off + 4] == ((1 << 4) | (IC_TOKEN_LEN - 1))) {
			pkt->has_token = true;
			memcpy(pkt->token, buf + off + 5, IC_TOKEN_LEN);
		}
		off += 4 + 4 * words;
	}
	pkt->payload = buf + off;
	pkt->payload_len = len - off;
	return 0;
}

int rtp_pack(uint8_t *buf, size_t size, const struct rtp_hdr *hdr, const uint8_t *token,
	     const uint8_t *payload, size_t payload_len)
{
	size_t need = RTP_FIXED_LEN + (token ? RTP_EXT_LEN : 0) + payload_len;
	size_t off = RTP_FIXED_LEN;

	if (size < need)
		return -ENOSPC;
	buf[0] = (uint8_t)(0x80 | (token ? 0x10 : 0));
	buf[1] = (uint8_t)((hdr->marker ? 0x80 : 0) | (hdr->pt & 0x7f));
	put16(buf + 2, hdr->seq);
	put32(buf + 4, hdr->ts);
	put32(buf + 8, hdr->ssrc);
	if (token) {
		put16(buf + off, IC_RTP_EXT_PROFILE);
		put16(buf + off + 2, IC_RTP_EXT_WORDS);
		buf[off + 4] = (1 << 4) | (IC_TOKEN_LEN - 1);
		memcpy(buf + off + 5, token, IC_TOKEN_LEN);
		memset(buf + off + 5 + IC_TOKEN_LEN, 0, RTP_EXT_LEN - 5 - IC_TOKEN_LEN);
		off += RTP_EXT_LEN;
	}
	if (payload_len)
		memcpy(buf + off, payload, payload_len);
	return (int)need;
}

int rtp_strip_ext(const uint8_t *buf, const struct rtp_pkt *pkt, uint8_t *out,
		  size_t size)
{
	size_t len = pkt->hdr_len + pkt->payload_len;

	if (size < len)
		return -ENOSPC;
	memcpy(out, buf, pkt->hdr_len);
	out[0] &= (uint8_t)~0x10;
	if (pkt->payload_len)
		memcpy(out + pkt->hdr_len, pkt->payload, pkt->payload_len);
	return (int)len;
}

int rtp_unpad(const uint8_t *buf, struct rtp_pkt *pkt)
{
	uint8_t n;

	if (!(buf[0] & 0x20))
		return 0;
	if (!pkt->payload_len)
		return -EBADMSG;
	n = pkt->payload[pkt->payload_len - 1];
	if (n == 0 || n > pkt->payload_len)
		return -EBADMSG;
	pkt->payload_len -= n;
	return 0;
}

bool rtp_token_equal(const uint8_t *a, const uint8_t *b)
{
	volatile uint8_t diff = 0;

	for (int i = 0; i < IC_TOKEN_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}
