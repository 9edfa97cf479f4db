/* voice.h: our voice out (encode, RTP with the token, or sealed under the session's key
 * over TLS) and everybody else's in (opened and checked, one jitter buffer and decoder
 * per remote SSRC, mixed). Pure: packets in, packets and PCM out. */
#ifndef IC_VOICE_H
#define IC_VOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "ic_limits.h"
#include "vcrypt.h"

#define VOICE_REMOTES 8	    /* talkers mixed at once */
#define VOICE_IDLE_MS 30000 /* a silent remote's decoder is freed after this */

struct voice_stats {
	uint64_t sent, keepalives, received, bad, frames, fec, plc, late, dups;
	uint64_t dropped;  /* over the jitter buffer's target (docs/JITTER.md) */
	uint64_t forged;   /* sealed packets whose tag did not verify */
	uint64_t replayed; /* sealed packets with a counter seen before (or too old) */
	uint64_t
	    hold_ms_sum; /* jitter-buffer hold (arrival -> playout) over played frames */
	unsigned remotes;
	unsigned lookahead_samples; /* the encoder's */
};

struct voice;

/* Returns 0, -EINVAL (bad codec settings) or -ENOMEM. */
int voice_new(struct voice **vp, const struct codec_cfg *c);
void voice_free(struct voice *v);

/* The ssrc and token from the server's 1.0 VOICE line: voice in the clear. */
void voice_set_ids(struct voice *v, uint32_t ssrc, const uint8_t token[IC_TOKEN_LEN]);

/* The ssrc and the session's keys from a VOICE line over TLS (keys copied, not kept by
 * reference: the caller wipes its own). From then on every packet sent (voice and
 * keepalives) is sealed under c2s, counters from 0, and every packet received must open
 * under s2c with a counter the window accepts. Returns 0, -ENOMEM or -EIO; on an error
 * nothing is sent or heard until the next keys (never anything in the clear). */
int voice_set_keys(struct voice *v, uint32_t ssrc, const struct vc_key *c2s,
		   const struct vc_key *s2c);

/* One captured frame, every frame period. When talking, writes an RTP packet into pkt
 * (size >= IC_RTP_MAX) and returns its length (the first of a spurt has the marker);
 * otherwise returns 0. The timestamp advances either way. */
int voice_capture(struct voice *v, const int16_t *pcm, bool talking, uint8_t *pkt);

/* An empty-payload keepalive packet (it takes a sequence number). */
int voice_keepalive(struct voice *v, uint8_t *pkt);

enum {
	VOICE_RX_DROP = -1, /* not a packet of ours: malformed, forged or replayed */
	VOICE_RX_OK = 0,    /* taken (voice, or the answer to a keepalive) */
	VOICE_RX_START = 1, /* taken, and it starts a remote's talk spurt */
};

/* A packet from the server: VOICE_RX_*. Only a packet taken shows the voice path is
 * open (a forged one proves nothing). */
int voice_receive(struct voice *v, const uint8_t *pkt, size_t len, uint64_t now_ms);

/* The next playback frame: every remote's next frame, decoded and mixed. Returns true
 * if anyone was heard in it. */
bool voice_play(struct voice *v, uint64_t now_ms, int16_t *out);

/* How much of the frame being played may be cut short, in samples: what every talker
 * in the last frame played has queued beyond need (jbuf_excess_ms), the least of them;
 * 0 when nobody was heard. */
size_t voice_excess(const struct voice *v);

/* The frame being played was cut short by samples (at most voice_excess): each talker
 * heard in it is told, so the excess is not cut twice. */
void voice_cut(struct voice *v, size_t samples);

size_t voice_frame_samples(const struct voice *v);
void voice_get_stats(const struct voice *v, struct voice_stats *st);

#endif
