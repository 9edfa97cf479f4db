/* Fuzz: the client's receive side with arbitrary packet sequences: RTP parsing, one
 * jitter buffer per talker (reorder, duplicates, late, wrap, spurts), and the real Opus
 * decoder (frames, FEC, concealment), mixed. Records, each starting with an op byte:
 *   bit 0 = 1: a packet: talker (op >> 1 & 15, more than VOICE_REMOTES), seq(2), ts(4),
 *              flags(1: marker, payload type), len(2, up to 1400), payload
 *   bit 0 = 0: time passes by op >> 1 milliseconds; a frame plays every 20 ms (10 ms
 *              when the input's length is odd: the listener's own frame size)
 * Checks: the mixed output is produced for every frame period; counters stay sane (a
 * packet, at least 2.5 ms, can account for at most the 64 slots ahead of it and the
 * 200 ms of stalls concealed piece by piece). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "rtp.h"
#include "voice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct codec_cfg cc;
	struct voice *v = NULL;
	struct voice_stats st;
	static int16_t pcm[960];
	uint8_t pkt[1500];
	uint64_t now = 0, next_play = 20;
	size_t i = 0;

	codec_cfg_default(&cc);
	cc.frame_ms = size % 2 ? 10 : 20;
	next_play = cc.frame_ms;
	if (voice_new(&v, &cc))
		return 0;
	while (i < size) {
		uint8_t op = data[i++];

		if (op & 1) {
			struct rtp_hdr hd = {0};
			size_t n;
			int len;

			if (size - i < 9)
				break;
			hd.ssrc = 0x1000u + ((op >> 1) & 15);
			hd.seq = (uint16_t)(data[i] << 8 | data[i + 1]);
			hd.ts = (uint32_t)data[i + 2] << 24 |
				(uint32_t)data[i + 3] << 16 | (uint32_t)data[i + 4] << 8 |
				data[i + 5];
			hd.marker = data[i + 6] & 1;
			hd.pt = (data[i + 6] & 2) ? (uint8_t)(data[i + 6] >> 1)
						  : IC_RTP_PT_OPUS;
			n = ((size_t)data[i + 7] << 8 | data[i + 8]) % 1401;
			i += 9;
			if (n > size - i)
				n = size - i;
			len = rtp_pack(pkt, sizeof(pkt), &hd, NULL, data + i, n);
			i += n;
			if (len > 0)
				voice_receive(v, pkt, (size_t)len, now);
		} else {
			now += op >> 1;
			while (next_play <= now) {
				voice_play(v, next_play, pcm);
				next_play += cc.frame_ms;
			}
		}
	}
	voice_get_stats(v, &st);
	if (st.remotes > VOICE_REMOTES ||
	    st.frames + st.fec + st.plc > (st.received + 1) * (64 + 80 + JBUF_TAIL + 1))
		abort();
	voice_free(v);
	return 0;
}
