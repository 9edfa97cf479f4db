#include "jbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	bool used;
	uint16_t seq;
	uint16_t len;
	uint16_t samples;
	uint32_t ts;
	uint64_t arrival_ms;
	uint8_t data[JBUF_PKT_MAX];
};

struct jbuf {
	struct slot slots[JBUF_SLOTS];

	bool active;  /* a spurt is buffered or playing */
	bool playing; /* playout has started */
	uint32_t ssrc;
	uint16_t pseq;		/* next sequence number to play */
	uint32_t pts;		/* the timestamp it should have */
	unsigned last;		/* samples: the duration of the last packet played */
	uint16_t top;		/* highest sequence number stored in this spurt */
	uint32_t top_ts;	/* its timestamp */
	uint64_t start_ms;	/* when playout starts */
	unsigned tail, tail_ms; /* pieces and ms concealed with nothing ahead */
	unsigned lead_ms;	/* delay held in this spurt (start wait + stalls) */
	uint64_t stall_ms;	/* the last stall */
	unsigned wait_min;	/* the least wait of a packet played since wait_from */
	uint64_t wait_from;	/* 0: not playing yet */
	unsigned excess_ms;	/* under a packet, still beyond need (jbuf_excess_ms) */
	unsigned excess_last;	/* what the last check alone found */

	/* transit = arrival (in samples) - timestamp, as a wrapping 32-bit difference.
	 * The sender's timestamp runs on through silence, so the transits of one talker
	 * stay comparable across talk spurts: the window spans them. They are kept
	 * relative to the window's first (base), so a talker whose transits happen to
	 * lie around 2^31 apart from ours does not see them wrap from the largest to the
	 * smallest int32 and the spread jump to the maximum. */
	uint32_t base;
	int32_t hist[JBUF_WINDOW];     /* the last transits, minus base */
	uint64_t hist_ms[JBUF_WINDOW]; /* and when each arrived */
	unsigned nhist, hpos;
	uint64_t last_ms; /* arrival of the last packet */

	struct jbuf_stats st;
};

int jbuf_new(struct jbuf **jp)
{
	struct jbuf *jb = calloc(1, sizeof(*jb));

	if (!jb)
		return -ENOMEM;
	*jp = jb;
	return 0;
}

void jbuf_free(struct jbuf *jb)
{
	free(jb);
}

static int16_t seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

/* The window's quickest and slowest transits of the last JBUF_WINDOW_MS before the
 * latest arrival, in 64 bits: hostile timestamps put two transits up to 2^32 apart. */
static void window(const struct jbuf *jb, int64_t *lo, int64_t *hi)
{
	bool any = false;

	*lo = *hi = 0;
	for (unsigned i = 0; i < jb->nhist; i++) {
		if (jb->hist_ms[i] + JBUF_WINDOW_MS < jb->last_ms)
			continue;
		*lo = !any || jb->hist[i] < *lo ? jb->hist[i] : *lo;
		*hi = !any || jb->hist[i] > *hi ? jb->hist[i] : *hi;
		any = true;
	}
}

/* The target delay: the spread of transits (the jitter seen), in ms. */
static unsigned spread_ms(int64_t lo, int64_t hi)
{
	int64_t t = (hi - lo + 47) / 48;

	return t > JBUF_MAX_MS ? JBUF_MAX_MS : (unsigned)t;
}

static unsigned target_ms(const struct jbuf *jb)
{
	int64_t lo, hi;

	window(jb, &lo, &hi);
	return spread_ms(lo, hi);
}

/* A raw transit relative to the window's base. */
static int32_t rel(const struct jbuf *jb, uint32_t raw)
{
	return (int32_t)(raw - jb->base);
}

static void note_transit(struct jbuf *jb, uint32_t raw, uint64_t now_ms)
{
	jb->last_ms = now_ms;
	if (!jb->nhist)
		jb->base = raw;
	jb->hist[jb->hpos] = rel(jb, raw);
	jb->hist_ms[jb->hpos] = now_ms;
	jb->hpos = (jb->hpos + 1) % JBUF_WINDOW;
	if (jb->nhist < JBUF_WINDOW)
		jb->nhist++;
}

/* A new spurt's first packet. Playout starts target ms after the moment this packet
 * would have arrived with the quickest transit seen, not after it actually arrived: a
 * first packet that was itself delayed would otherwise add its delay to the whole
 * spurt. That needs the same timebase as the window: same talker, not long silent
 * (clock drift), transit within JBUF_MAX_MS of the window. Otherwise the window is
 * forgotten and playout starts target ms after arrival. */
static void start_spurt(struct jbuf *jb, const struct jbuf_pkt *p, uint32_t raw,
			uint64_t now_ms)
{
	int64_t lo, hi, late = 0, transit = rel(jb, raw);
	unsigned target;

	window(jb, &lo, &hi);
	target = spread_ms(lo, hi);
	if (jb->nhist && p->ssrc == jb->ssrc && now_ms - jb->last_ms <= JBUF_STALE_MS &&
	    transit >= lo - JBUF_MAX_MS * 48 && transit <= hi + JBUF_MAX_MS * 48)
		late = transit > lo ? (transit - lo) / 48 : 0;
	else
		jb->nhist = jb->hpos = 0;
	for (unsigned i = 0; i < JBUF_SLOTS; i++) {
		/* what was still queued (a listener whose playback stalled past
		 * JBUF_SLOTS packets, the last spurt's tail) is dropped, and counted */
		jb->st.dropped += jb->slots[i].used;
		jb->slots[i].used = false;
	}
	jb->active = true;
	jb->playing = false;
	jb->ssrc = p->ssrc;
	jb->pseq = p->seq;
	jb->pts = p->ts;
	jb->last = p->samples;
	jb->top = p->seq;
	jb->top_ts = p->ts;
	jb->tail = jb->tail_ms = 0;
	jb->st.target_ms = target;
	jb->start_ms = late >= target ? now_ms : now_ms + target - (uint64_t)late;
	jb->lead_ms = target;
	jb->wait_min = UINT32_MAX;
	jb->wait_from = 0;
	jb->excess_ms = jb->excess_last = 0;
	jb->st.spurts++;
}

/* A marked packet right after the highest one, in sequence and in time (at most one
 * packet's duration later, 60 ms being Opus's longest): some senders (ffmpeg) mark every
 * packet, and that is no new talk spurt, so nothing buffered is dropped. A real new
 * spurt comes after silence: its timestamp jumps. */
static bool continues(const struct jbuf *jb, uint16_t seq, uint32_t ts)
{
	return seq_diff(seq, jb->top) == 1 && ts - jb->top_ts <= JBUF_PKT_SAMPLES_MAX;
}

/* An earlier packet while still buffering: it plays first, and playout starts as much
 * earlier as its timestamp says (bounded: a hostile timestamp cannot move it further
 * than the packets between could last). */
static void play_earlier(struct jbuf *jb, const struct jbuf_pkt *p, int16_t ahead)
{
	int64_t back = (int32_t)(jb->pts - p->ts);
	int64_t most = (int64_t)-ahead * JBUF_PKT_SAMPLES_MAX;
	uint64_t ms = (uint64_t)(back < 0 ? 0 : back > most ? most : back) / 48;

	jb->start_ms = jb->start_ms > ms ? jb->start_ms - ms : 0;
	jb->pseq = p->seq;
	jb->pts = p->ts;
	jb->last = p->samples;
}

static bool restarts(const struct jbuf *jb, const struct jbuf_pkt *p, int16_t ahead)
{
	return !jb->active || p->ssrc != jb->ssrc || ahead >= JBUF_SLOTS ||
	       (p->marker && seq_diff(p->seq, jb->top) > 0 &&
		!continues(jb, p->seq, p->ts)) ||
	       (!jb->playing && ahead <= -JBUF_SLOTS);
}

enum jbuf_put_res jbuf_put(struct jbuf *jb, const struct jbuf_pkt *p, uint64_t now_ms)
{
	uint32_t transit = (uint32_t)(now_ms * 48) - p->ts;
	enum jbuf_put_res res = JBUF_OK;
	struct slot *s;
	int16_t ahead;

	if (p->len == 0 || p->len > JBUF_PKT_MAX || p->samples < JBUF_PKT_SAMPLES_MIN ||
	    p->samples > JBUF_PKT_SAMPLES_MAX)
		return JBUF_BAD;
	ahead = seq_diff(p->seq, jb->active ? jb->pseq : p->seq);
	if (restarts(jb, p, ahead)) {
		start_spurt(jb, p, transit, now_ms);
		res = JBUF_START;
	} else if (ahead < 0) {
		if (jb->playing) {
			jb->st.late++;
			/* it still teaches the jitter estimate */
			note_transit(jb, transit, now_ms);
			return JBUF_LATE;
		}
		play_earlier(jb, p, ahead);
	}
	s = &jb->slots[p->seq % JBUF_SLOTS];
	if (s->used && s->seq == p->seq) {
		jb->st.dups++;
		return JBUF_DUP;
	}
	s->used = true;
	s->seq = p->seq;
	s->ts = p->ts;
	s->len = (uint16_t)p->len;
	s->samples = (uint16_t)p->samples;
	s->arrival_ms = now_ms;
	memcpy(s->data, p->data, p->len);
	if (seq_diff(p->seq, jb->top) > 0) {
		jb->top = p->seq;
		jb->top_ts = p->ts;
	}
	note_transit(jb, transit, now_ms);
	jb->tail = jb->tail_ms = 0;
	jb->st.packets++;
	return res;
}

static struct slot *find(struct jbuf *jb, uint16_t seq)
{
	struct slot *s = &jb->slots[seq % JBUF_SLOTS];

	return s->used && s->seq == seq ? s : NULL;
}

/* The duration of the lost packet before next: the gap in timestamps when it is one a
 * packet could have (a multiple of 2.5 ms up to 60 ms), else the last packet's. */
static unsigned lost_samples(const struct jbuf *jb, const struct slot *next)
{
	uint32_t gap = next ? next->ts - jb->pts : 0;

	if (gap >= JBUF_PKT_SAMPLES_MIN && gap <= JBUF_PKT_SAMPLES_MAX &&
	    gap % JBUF_PKT_SAMPLES_MIN == 0)
		return gap;
	return jb->last;
}

static enum jbuf_out play(struct jbuf *jb, struct slot *s, uint64_t now_ms,
			  struct jbuf_out_frame *f)
{
	unsigned d = (unsigned)(now_ms - s->arrival_ms);

	s->used = false;
	jb->pseq++;
	jb->pts = s->ts + s->samples;
	jb->last = s->samples;
	f->data = s->data;
	f->len = s->len;
	f->samples = s->samples;
	jb->st.frames++;
	jb->st.delay_ms = d;
	if (d < jb->wait_min)
		jb->wait_min = d;
	if (d > jb->st.max_delay_ms)
		jb->st.max_delay_ms = d;
	return JBUF_FRAME;
}

/* The packet to play instead of s. Every JBUF_DRAIN_MS the least any packet played in
 * that time waited (arrival to playout) is compared with what the buffer means to hold
 * (the target, or the lead its stalls built for a late or lost packet, whichever is
 * more): what is beyond it by more than JBUF_SLACK_MS was never needed, so when a whole
 * packet fits in that excess, s is dropped (if the next is here), and the next likewise:
 * JBUF_DRAIN_MAX_MS of packets (one at least) per JBUF_DRAIN_MS at most, so a jittery
 * path loses a packet here and there, not a run of them, and 200 ms are gone in a
 * quarter of a second, whatever the packets' size (it was 2 packets: 10 ms packets
 * drained half as fast as 20 ms ones). A listener
 * taking its frames in bursts (20 ms frames of 10 ms packets) never sees a packet wait
 * less than its phase, so nothing it needs is ever counted as excess. */
static struct slot *over_target(struct jbuf *jb, struct slot *s, uint64_t now_ms)
{
	int64_t excess;
	unsigned target, cur;
	struct slot *next;

	if (!jb->wait_from) {
		jb->wait_from = now_ms;
		return s;
	}
	if (now_ms - jb->wait_from < JBUF_DRAIN_MS)
		return s;
	target = target_ms(jb);
	excess = (int64_t)jb->wait_min - (jb->lead_ms > target ? jb->lead_ms : target) -
		 JBUF_SLACK_MS;
	/* The lead stalls built is held for as long as the window remembers a transit
	 * (a late packet's lateness counts in the target meanwhile), no longer: kept for
	 * the whole spurt, every stall of a long one added to its delay for good (a
	 * 2-minute spurt at 10 ms frames climbed from 40 to 105 ms). */
	if (jb->lead_ms > target && now_ms - jb->stall_ms >= JBUF_WINDOW_MS)
		jb->lead_ms = target;
	jb->wait_min = UINT32_MAX;
	jb->wait_from = now_ms;
	for (unsigned ms = 0; (!ms || ms + s->samples / 48 <= JBUF_DRAIN_MAX_MS) &&
			      excess >= s->samples / 48 &&
			      (next = find(jb, (uint16_t)(jb->pseq + 1))) != NULL;) {
		ms += s->samples / 48;
		excess -= s->samples / 48;
		s->used = false;
		jb->pseq++;
		jb->st.dropped++;
		s = next;
	}
	/* what is left is under a packet (or the next is not here): no packet to drop,
	 * but the listener may cut it from what it plays (jbuf_excess_ms), once two
	 * checks in a row found it (a spurt's first packets wait longer than the ones
	 * after them: that is no excess) */
	if (excess <= 0)
		cur = 0;
	else if (excess < (int64_t)(s->samples / 48))
		cur = (unsigned)excess;
	else
		cur = s->samples / 48 - 1;
	jb->excess_ms = cur < jb->excess_last ? cur : jb->excess_last;
	jb->excess_last = cur;
	return s;
}

unsigned jbuf_excess_ms(const struct jbuf *jb)
{
	return jb->active && jb->playing ? jb->excess_ms : 0;
}

void jbuf_cut(struct jbuf *jb, unsigned ms)
{
	jb->excess_ms = ms < jb->excess_ms ? jb->excess_ms - ms : 0;
	jb->excess_last = ms < jb->excess_last ? jb->excess_last - ms : 0;
	jb->st.cuts++;
	jb->st.cut_ms += ms;
}

enum jbuf_out jbuf_get(struct jbuf *jb, uint64_t now_ms, struct jbuf_out_frame *f)
{
	struct slot *s, *next;
	unsigned cap;

	if (!jb->active)
		return JBUF_IDLE;
	if (!jb->playing) {
		if (now_ms < jb->start_ms)
			return JBUF_IDLE;
		jb->playing = true;
	}
	s = find(jb, jb->pseq);
	if (s)
		return play(jb, over_target(jb, s, now_ms), now_ms, f);
	/* lost (or not here yet): the packet after it may carry it as FEC */
	next = find(jb, (uint16_t)(jb->pseq + 1));
	f->samples = lost_samples(jb, next);
	if (next) {
		jb->pseq++;
		jb->pts += f->samples;
		f->data = next->data;
		f->len = next->len;
		jb->st.fec++;
		return JBUF_FEC;
	}
	jb->st.plc++;
	jb->excess_ms = jb->excess_last = 0; /* a packet missing: none beyond need */
	cap = target_ms(jb);
	/* Neither is here. The first time in a spurt (or while the target asks for more),
	 * conceal without moving on: the buffer grows by that much, so a late packet is
	 * on time after all, and a lost one can be rebuilt from its successor's FEC. */
	if (jb->lead_ms < (cap > 1 ? cap : 1)) {
		jb->lead_ms += f->samples / 48;
		jb->stall_ms = now_ms;
		jb->tail++;
		jb->tail_ms += f->samples / 48;
		jb->st.stalls++;
		return JBUF_PLC;
	}
	jb->pseq++;
	jb->pts += f->samples;
	if (seq_diff(jb->top, jb->pseq) < 0) {
		jb->tail++;
		jb->tail_ms += f->samples / 48;
		if (jb->tail > JBUF_TAIL && jb->tail_ms > JBUF_TAIL_MS) {
			jb->st.plc--; /* not a concealed piece: the spurt is over */
			jb->active = false;
			return JBUF_IDLE;
		}
	}
	return JBUF_PLC;
}

void jbuf_get_stats(const struct jbuf *jb, struct jbuf_stats *st)
{
	*st = jb->st;
	st->target_ms = target_ms(jb);
}
