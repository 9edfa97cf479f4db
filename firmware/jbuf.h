/* jbuf.h: an adaptive jitter buffer for one remote talker (one SSRC).
 *
 * Packets go in with their arrival time; once per frame period the playback clock takes
 * the next frame out: a packet to decode, the next packet to rebuild a lost frame from
 * (Opus in-band FEC), or "conceal" (Opus PLC). The target delay follows measured jitter:
 * the spread of transit times over the last JBUF_WINDOW packets, at most JBUF_MAX_MS.
 * docs/JITTER.md describes the algorithm and its bounds. */
#ifndef IC_JBUF_H
#define IC_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JBUF_SLOTS	     64	  /* packets held: 1.28 s of 20 ms frames */
#define JBUF_PKT_MAX	     1276 /* the largest Opus packet */
#define JBUF_WINDOW	     100  /* packets of transit history: 2 s at 20 ms */
#define JBUF_MAX_MS	     200  /* the most delay it will add */
#define JBUF_PKT_SAMPLES_MAX 2880 /* the longest Opus packet: 60 ms at 48 kHz */
#define JBUF_TAIL	     2 /* frames concealed after a spurt's last packet, then idle */
/* A talker silent longer than this starts afresh: two clocks 100 ppm apart drift 3 ms
 * in 30 s, which would be taken for jitter. */
#define JBUF_STALE_MS 30000

enum jbuf_put_res {
	JBUF_OK,    /* stored */
	JBUF_START, /* stored, and it starts a new talk spurt (the buffer was reset) */
	JBUF_DUP,   /* a repeat: dropped */
	JBUF_LATE,  /* its frame was already played: dropped */
	JBUF_BAD,   /* empty or over JBUF_PKT_MAX: dropped */
};

enum jbuf_out {
	JBUF_IDLE,  /* nothing to play (no spurt, or still buffering): silence */
	JBUF_FRAME, /* decode *data */
	JBUF_FEC,   /* the frame is lost: decode the FEC in *data (the next packet) */
	JBUF_PLC,   /* the frame is lost and nothing follows it yet: conceal */
};

struct jbuf_stats {
	uint64_t packets, frames, fec, plc, dups, late, spurts;
	uint64_t stalls;    /* concealed frames that grew the buffer by one */
	unsigned target_ms; /* current target delay */
	unsigned delay_ms;  /* arrival -> playout of the last frame played */
	unsigned max_delay_ms;
};

struct jbuf;

/* frame_samples: 960 (20 ms) or 480 (10 ms) at 48 kHz. Returns 0, -EINVAL or -ENOMEM. */
int jbuf_new(struct jbuf **jp, unsigned frame_samples);
void jbuf_free(struct jbuf *jb);

/* A packet arrived at now_ms (the payload is copied). */
enum jbuf_put_res jbuf_put(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
			   bool marker, const uint8_t *payload, size_t len,
			   uint64_t now_ms);

/* The next frame, once per frame period. *data and *len (JBUF_FRAME, JBUF_FEC) stay
 * valid until the next jbuf_put or jbuf_get. */
enum jbuf_out jbuf_get(struct jbuf *jb, uint64_t now_ms, const uint8_t **data,
		       size_t *len);

void jbuf_get_stats(const struct jbuf *jb, struct jbuf_stats *st);

#endif
