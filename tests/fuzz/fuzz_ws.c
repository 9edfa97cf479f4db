/* Fuzz: a browser's bytes through the gateway's readers as it reads them: the HTTP head
 * parser, then the WebSocket frames of the rest (server side: masked frames expected),
 * messages put together from fragments, close frames checked. Invariants: a frame never
 * claims more bytes than it was given, a message never exceeds its buffer, and building
 * back what was parsed gives a frame that parses to the same payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSG_CAP 600

static void frames(uint8_t *p, size_t left)
{
	static uint8_t msgbuf[MSG_CAP], out[MSG_CAP + WS_HDR_MAX];
	struct ws_msg m;
	struct ws_frame f, g;
	uint16_t code;
	int n, b;

	ws_msg_init(&m, msgbuf, sizeof(msgbuf));
	while (left) {
		n = ws_parse(p, left, true, MSG_CAP, &f, &code);
		if (n <= 0)
			return;
		if ((size_t)n > left || f.len > MSG_CAP)
			abort();
		if (f.op >= WS_OP_CLOSE) {
			if (f.op == WS_OP_CLOSE)
				(void)ws_close_parse(f.payload, f.len, &code);
		} else if (ws_msg_feed(&m, &f, &code) < 0) {
			return;
		} else if (m.len > m.cap) {
			abort();
		}
		b = ws_build(out, sizeof(out), f.fin, f.op, f.payload, f.len, NULL);
		if (b < 0 || ws_parse(out, (size_t)b, false, MSG_CAP, &g, &code) != b ||
		    g.len != f.len || memcmp(g.payload, f.payload, f.len))
			abort();
		p += n;
		left -= (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_req r;
	uint8_t *copy = malloc(size ? size : 1);
	char v[64];
	int h;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	h = http_parse((const char *)copy, size, &r);
	if (h > 0) {
		if ((size_t)h > size)
			abort();
		(void)http_query_get(r.query, "t", v, sizeof(v));
		(void)http_cookie_get(r.cookie, "icw", v, sizeof(v));
		if (r.ws_key[0]) {
			char acc[WS_ACCEPT_LEN + 1];

			(void)ws_accept(r.ws_key, strlen(r.ws_key), acc);
		}
		frames(copy + h, size - (size_t)h);
	} else {
		frames(copy, size);
	}
	free(copy);
	return 0;
}
