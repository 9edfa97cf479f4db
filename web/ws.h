/* ws.h: WebSocket framing (RFC 6455) as pure functions over buffers: parse one frame
 * (bounded, unmasked in place, the masking rule of its direction enforced), put a
 * fragmented message together, build frames, and the handshake's Sec-WebSocket-Accept.
 * No sockets, no clock: the gateway (web/gw.c), the tests' client and fuzz_ws drive it.
 */
#ifndef IC_WS_H
#define IC_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_HDR_MAX     14  /* 2 + 8 bytes of length + 4 of mask */
#define WS_CONTROL_MAX 125 /* RFC 6455 5.5: a control frame's payload */
#define WS_KEY_LEN     24  /* Sec-WebSocket-Key: base64 of 16 bytes */
#define WS_ACCEPT_LEN  28  /* base64 of a SHA-1 */

enum ws_op {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Close codes the gateway sends (RFC 6455 7.4.1). */
enum ws_close {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_BAD_DATA = 1007, /* text that is not UTF-8 */
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

/* One parsed frame; payload points into the caller's buffer (already unmasked). */
struct ws_frame {
	bool fin;
	uint8_t op;
	uint8_t *payload;
	size_t len;
};

/* Parse one frame from buf[0..len). from_client: frames must be masked (a server's
 * reading), else must not be. max: the largest payload taken (control frames are held
 * to WS_CONTROL_MAX whatever max says). Unmasks the payload in place. Returns the bytes
 * the frame takes (> 0), 0 when more bytes are needed, or a negative errno with the
 * close code to send in *code: -EPROTO (reserved bits or opcodes, a mask where none
 * belongs or none where one must be, a fragmented or oversized control frame, a
 * non-minimal length) or -EMSGSIZE (over max). */
int ws_parse(uint8_t *buf, size_t len, bool from_client, size_t max, struct ws_frame *f,
	     uint16_t *code);

/* A message put together from its frames (RFC 6455 5.4). Embed it; the owner gives it a
 * buffer of cap bytes (the message bound) through ws_msg_init. */
struct ws_msg {
	uint8_t *buf;
	size_t cap, len;
	uint8_t op;    /* of the message being assembled (TEXT or BINARY); 0: none */
	bool complete; /* buf[0..len) is a whole message of type op */
};

void ws_msg_init(struct ws_msg *m, uint8_t *buf, size_t cap);

/* Feed one data frame (TEXT, BINARY or CONT; control frames are the caller's, between
 * fragments). Returns 1 when a message is complete (m->op, m->buf, m->len; a text
 * message is checked to be UTF-8), 0 when more fragments are awaited, or a negative
 * errno with *code: -EPROTO (a continuation without a start, a new start inside a
 * message), -EMSGSIZE (over cap), -EILSEQ (text that is not UTF-8: 1007). The next call
 * after a complete message starts afresh. */
int ws_msg_feed(struct ws_msg *m, const struct ws_frame *f, uint16_t *code);

/* Build a frame with the payload p[0..len) into out (size bytes); mask: the 4 bytes a
 * client masks with, or NULL for a server's unmasked frame. Returns its length, or
 * -ENOSPC (does not fit), -EINVAL (a control frame over WS_CONTROL_MAX). */
int ws_build(uint8_t *out, size_t size, bool fin, uint8_t op, const uint8_t *p,
	     size_t len, const uint8_t *mask);

/* A close frame's payload: the code (big-endian) and a reason of at most 123 bytes
 * (cut). Returns its length. */
size_t ws_close_payload(uint8_t *out, uint16_t code, const char *reason);

/* A received close frame's payload: empty (*code = 1005 "none"), or a code valid to
 * receive (RFC 6455 7.4) and a UTF-8 reason. Returns 0 or -EPROTO (one byte, a code
 * that may not be sent, a reason that is not UTF-8). */
int ws_close_parse(const uint8_t *p, size_t len, uint16_t *code);

/* Sec-WebSocket-Accept for key[0..len) (RFC 6455 4.2.2: base64 of SHA-1 of the key and
 * the GUID) into out (WS_ACCEPT_LEN + 1 bytes). Returns 0, -EINVAL (the key is not 24
 * characters of base64 naming 16 bytes) or -EIO. */
int ws_accept(const char *key, size_t len, char *out);

#endif
