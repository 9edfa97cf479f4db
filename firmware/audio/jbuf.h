/* jbuf.h: an adaptive jitter buffer for one remote talker (one SSRC).
 *
 * Packets go in with their arrival time and their own duration (each talker chooses its
 * frame size: 2.5 to 60 ms). Whenever the listener has played what it decoded, it takes
 * the next piece out: a packet to decode, the next packet to rebuild a lost one from
 * (Opus in-band FEC), or "conceal" (Opus PLC), each with the duration to produce. It
 * works in time, not in packets: the target delay is the spread of transit times over
 * the last JBUF_WINDOW packets of the last JBUF_WINDOW_MS, at most JBUF_MAX_MS, whatever
 * the packets' sizes; it shrinks back to it at a new spurt and, within a spurt, by
 * dropping packets when every one played for JBUF_DRAIN_MS waited longer than the
 * target plus JBUF_SLACK_MS.
 * docs/JITTER.md describes the algorithm and its bounds. */
#ifndef IC_JBUF_H
#define IC_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JBUF_SLOTS   64	  /* packets held: 1.28 s of 20 ms frames */
#define JBUF_PKT_MAX 1276 /* the largest Opus packet */
#define JBUF_WINDOW  100  /* packets of transit history: 2 s at 20 ms */
/* ... of which only those that arrived this recently count: a one-off hold-up (a stalled
 * listener, a network hiccup) sizes the buffer for this long, not for 100 packets. */
#define JBUF_WINDOW_MS 1000
/* Every JBUF_DRAIN_MS, what every packet played in that time waited beyond the target
 * by more than JBUF_SLACK_MS is taken out, in whole packets dropped (JBUF_DRAIN_MAX_MS
 * of them at a time, one packet at least): a stall, or voice
 * queued before playback could start, does not stay as delay for the rest of the
 * spurt. */
#define JBUF_DRAIN_MS	     50
#define JBUF_DRAIN_MAX_MS    40 /* dropped at a time: two 20 ms packets, four of 10 */
#define JBUF_SLACK_MS	     5
#define JBUF_PKT_SAMPLES_MIN 120 /* the shortest Opus packet: 2.5 ms at 48 kHz */
#define JBUF_MAX_MS	     200 /* the most delay it will add */
/* The longest packet taken: 60 ms at 48 kHz, the longest frame the contract lets a talker
 * choose (Opus itself packs up to 120 ms; nobody sends that for voice). */
#define JBUF_PKT_SAMPLES_MAX 2880
/* After a spurt's last packet, at least this many pieces and this long are concealed
 * (a late packet may still come), then the spurt is over. */
#define JBUF_TAIL    2
#define JBUF_TAIL_MS 40
/* A talker silent longer than this starts afresh: two clocks 100 ppm apart drift 3 ms
 * in 30 s, which would be taken for jitter. */
#define JBUF_STALE_MS 30000

enum jbuf_put_res {
	JBUF_OK,    /* stored */
	JBUF_START, /* stored, and it starts a new talk spurt (the buffer was reset) */
	JBUF_DUP,   /* a repeat: dropped */
	JBUF_LATE,  /* its frame was already played: dropped */
	JBUF_BAD,   /* empty, over JBUF_PKT_MAX, or a duration out of range: dropped */
};

enum jbuf_out {
	JBUF_IDLE,  /* nothing to play (no spurt, or still buffering): silence */
	JBUF_FRAME, /* decode data */
	JBUF_FEC,   /* a packet is lost: decode the FEC in data (the next packet) */
	JBUF_PLC,   /* a packet is lost and nothing follows it yet: conceal */
};

/* A packet as it arrived (RTP header fields and the Opus payload). */
struct jbuf_pkt {
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	unsigned samples; /* its duration at 48 kHz (opus_packet_get_nb_samples) */
	bool marker;
	const uint8_t *data;
	size_t len;
};

/* What to play next: data and len (JBUF_FRAME, JBUF_FEC) stay valid until the next
 * jbuf_put or jbuf_get; samples is the duration to produce (every output but JBUF_IDLE):
 * the packet's own, for a lost one the gap in timestamps to the next packet, else the
 * last packet's. */
struct jbuf_out_frame {
	const uint8_t *data;
	size_t len;
	unsigned samples;
};

struct jbuf_stats {
	uint64_t packets, frames, fec, plc, dups, late, spurts;
	uint64_t stalls;       /* concealed frames that grew the buffer by one */
	uint64_t dropped;      /* packets dropped because the queue was over its target,
				  or still queued when a new spurt started */
	uint64_t cuts, cut_ms; /* the listener's playout moved up (jbuf_cut) */
	unsigned target_ms;    /* current target delay */
	unsigned delay_ms;     /* arrival -> playout of the last frame played */
	unsigned max_delay_ms;
};

struct jbuf;

/* Returns 0 or -ENOMEM. */
int jbuf_new(struct jbuf **jp);
void jbuf_free(struct jbuf *jb);

/* A packet arrived at now_ms (the payload is copied). */
enum jbuf_put_res jbuf_put(struct jbuf *jb, const struct jbuf_pkt *p, uint64_t now_ms);

/* The next piece to play, asked for when the listener has played all it decoded (a
 * listener with 10 ms frames asks once per 20 ms packet, one with 20 ms frames twice per
 * 10 ms packet). */
enum jbuf_out jbuf_get(struct jbuf *jb, uint64_t now_ms, struct jbuf_out_frame *f);

/* What the last drain check (every JBUF_DRAIN_MS) found every packet played waited
 * beyond the target and JBUF_SLACK_MS, less the whole packets it dropped for it: under
 * a packet, in ms (0: none, or a packet went missing since). A listener that plays in
 * periods may cut that much from the frame it is playing, so its playout comes that
 * much closer to its packets: whole-packet drains cannot take out a phase under a
 * packet (a stall, a late packet concealed, and a hands-free call never pauses for a
 * new spurt to set it afresh). */
unsigned jbuf_excess_ms(const struct jbuf *jb);

/* The listener cut ms from its playout: taken off the excess, counted. */
void jbuf_cut(struct jbuf *jb, unsigned ms);

void jbuf_get_stats(const struct jbuf *jb, struct jbuf_stats *st);

#endif
