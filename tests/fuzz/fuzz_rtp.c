/* Fuzz: a UDP datagram through the RTP/extension parser, the server's extension strip and
 * the replay window. Invariants: views stay inside the datagram, a stripped packet parses
 * again to the same header and payload, a number just accepted is not accepted again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "seqwin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct seqwin win; /* kept across inputs, like the server's per-sender window */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[IC_RTP_MAX + 64];
	struct rtp_pkt p, q;
	int n;

	if (size == 0) {
		seqwin_init(&win);
		return 0;
	}
	if (rtp_parse(data, size, &p))
		return 0;
	if (p.payload < data || p.payload + p.payload_len > data + size ||
	    p.hdr_len > size)
		abort();
	n = rtp_strip_ext(data, &p, out, sizeof(out));
	if (n >= 0) {
		if (rtp_parse(out, (size_t)n, &q) || q.has_token ||
		    q.hdr.seq != p.hdr.seq || q.hdr.ts != p.hdr.ts ||
		    q.hdr.ssrc != p.hdr.ssrc || q.payload_len != p.payload_len ||
		    memcmp(q.payload, p.payload, p.payload_len))
			abort();
	}
	/* a number just accepted is a replay when it comes again at once */
	if (seqwin_accept(&win, p.hdr.seq) != SEQ_REJECT &&
	    seqwin_accept(&win, p.hdr.seq) != SEQ_REJECT)
		abort();
	return 0;
}
