#include "ws.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "names.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool op_known(uint8_t op)
{
	return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

/* The payload length and where the mask (or payload) starts; 0 when more bytes are
 * needed, -EPROTO for a length not in its shortest form or with the top bit set. */
static int parse_len(const uint8_t *buf, size_t len, uint64_t *plen, size_t *at)
{
	uint8_t l7 = buf[1] & 0x7f;

	if (l7 < 126) {
		*plen = l7;
		*at = 2;
		return 1;
	}
	if (l7 == 126) {
		if (len < 4)
			return 0;
		*plen = (uint64_t)buf[2] << 8 | buf[3];
		*at = 4;
		return *plen < 126 ? -EPROTO : 1;
	}
	if (len < 10)
		return 0;
	*plen = 0;
	for (int i = 0; i < 8; i++)
		*plen = *plen << 8 | buf[2 + i];
	*at = 10;
	return (*plen >> 63) || *plen <= 0xffff ? -EPROTO : 1;
}

int ws_parse(uint8_t *buf, size_t len, bool from_client, size_t max, struct ws_frame *f,
	     uint16_t *code)
{
	uint64_t plen;
	size_t at;
	bool masked;
	int r;

	*code = WS_CLOSE_PROTOCOL;
	if (len < 2)
		return 0;
	f->fin = buf[0] & 0x80;
	f->op = buf[0] & 0x0f;
	masked = buf[1] & 0x80;
	/* no extension is negotiated: the RSV bits must be zero */
	if ((buf[0] & 0x70) || !op_known(f->op) || masked != from_client)
		return -EPROTO;
	r = parse_len(buf, len, &plen, &at);
	if (r <= 0)
		return r;
	if (f->op >= WS_OP_CLOSE && (!f->fin || plen > WS_CONTROL_MAX))
		return -EPROTO;
	if (plen > max) {
		*code = WS_CLOSE_TOO_BIG;
		return -EMSGSIZE;
	}
	if (len - at < (masked ? 4 : 0) + plen)
		return 0;
	f->payload = buf + at + (masked ? 4 : 0);
	f->len = (size_t)plen;
	if (masked) {
		const uint8_t *k = buf + at;

		for (size_t i = 0; i < f->len; i++)
			f->payload[i] ^= k[i & 3];
	}
	return (int)(f->payload - buf + f->len);
}

void ws_msg_init(struct ws_msg *m, uint8_t *buf, size_t cap)
{
	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->cap = cap;
}

int ws_msg_feed(struct ws_msg *m, const struct ws_frame *f, uint16_t *code)
{
	*code = WS_CLOSE_PROTOCOL;
	if (m->complete) {
		m->complete = false;
		m->op = 0;
		m->len = 0;
	}
	if (f->op == WS_OP_CONT ? !m->op : m->op != 0)
		return -EPROTO;
	if (f->op != WS_OP_CONT)
		m->op = f->op;
	if (f->len > m->cap - m->len) {
		*code = WS_CLOSE_TOO_BIG;
		return -EMSGSIZE;
	}
	if (f->len)
		memcpy(m->buf + m->len, f->payload, f->len);
	m->len += f->len;
	if (!f->fin)
		return 0;
	m->complete = true;
	if (m->op == WS_OP_TEXT && !names_utf8_valid((const char *)m->buf, m->len)) {
		*code = WS_CLOSE_BAD_DATA;
		return -EILSEQ;
	}
	return 1;
}

int ws_build(uint8_t *out, size_t size, bool fin, uint8_t op, const uint8_t *p,
	     size_t len, const uint8_t *mask)
{
	size_t at = 2;

	if (op >= WS_OP_CLOSE && len > WS_CONTROL_MAX)
		return -EINVAL;
	if (len > (size_t)INT32_MAX - WS_HDR_MAX || size < WS_HDR_MAX + len)
		return -ENOSPC;
	out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
	if (len < 126)
		out[1] = (uint8_t)len;
	else if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		at = 4;
	} else {
		out[1] = 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		at = 10;
	}
	if (mask) {
		out[1] |= 0x80;
		memcpy(out + at, mask, 4);
		at += 4;
		for (size_t i = 0; i < len; i++)
			out[at + i] = p[i] ^ mask[i & 3];
	} else if (len)
		memcpy(out + at, p, len);
	return (int)(at + len);
}

size_t ws_close_payload(uint8_t *out, uint16_t code, const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;

	if (n > WS_CONTROL_MAX - 2)
		n = WS_CONTROL_MAX - 2;
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	if (n)
		memcpy(out + 2, reason, n);
	return n + 2;
}

/* RFC 6455 7.4.1 and 7.4.2: what a peer may put in a close frame. */
static bool close_code_ok(uint16_t c)
{
	if (c >= 3000 && c <= 4999)
		return true;
	return c >= 1000 && c <= 1014 && c != 1004 && c != 1005 && c != 1006;
}

int ws_close_parse(const uint8_t *p, size_t len, uint16_t *code)
{
	if (len == 0) {
		*code = 1005;
		return 0;
	}
	if (len == 1)
		return -EPROTO;
	*code = (uint16_t)(p[0] << 8 | p[1]);
	if (!close_code_ok(*code) || !names_utf8_valid((const char *)p + 2, len - 2))
		return -EPROTO;
	return 0;
}

int ws_accept(const char *key, size_t len, char *out)
{
	unsigned char raw[20], dec[20];
	char buf[WS_KEY_LEN + sizeof(ws_guid)];
	unsigned int n = 0;
	int ok;

	/* 16 bytes in base64: 22 characters and "==" */
	if (len != WS_KEY_LEN || key[22] != '=' || key[23] != '=' ||
	    EVP_DecodeBlock(dec, (const unsigned char *)key, WS_KEY_LEN) != 18)
		return -EINVAL;
	memcpy(buf, key, WS_KEY_LEN);
	memcpy(buf + WS_KEY_LEN, ws_guid, sizeof(ws_guid) - 1);
	ok = EVP_Digest(buf, WS_KEY_LEN + sizeof(ws_guid) - 1, raw, &n, EVP_sha1(), NULL);
	if (!ok || n != 20)
		return -EIO;
	EVP_EncodeBlock((unsigned char *)out, raw, 20);
	out[WS_ACCEPT_LEN] = '\0';
	return 0;
}
