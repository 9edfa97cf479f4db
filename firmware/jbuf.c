#include "jbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	bool used;
	uint16_t seq;
	uint16_t len;
	uint64_t arrival_ms;
	uint8_t data[JBUF_PKT_MAX];
};

struct jbuf {
	unsigned frame; /* samples */
	unsigned frame_ms;
	struct slot slots[JBUF_SLOTS];

	bool active;  /* a spurt is buffered or playing */
	bool playing; /* playout has started */
	uint32_t ssrc;
	uint16_t pseq;	   /* next sequence number to play */
	uint16_t top;	   /* highest sequence number stored in this spurt */
	uint32_t top_ts;   /* its timestamp */
	uint64_t start_ms; /* when playout starts */
	unsigned tail;	   /* frames concealed with nothing ahead */
	unsigned lead;	   /* frames of delay held in this spurt (start wait + stalls) */

	/* transit = arrival (in samples) - timestamp, as a wrapping 32-bit difference.
	 * The sender's timestamp runs on through silence, so the transits of one talker
	 * stay comparable across talk spurts: the window spans them. They are kept
	 * relative to the window's first (base), so a talker whose transits happen to
	 * lie around 2^31 apart from ours does not see them wrap from the largest to the
	 * smallest int32 and the spread jump to the maximum. */
	uint32_t base;
	int32_t hist[JBUF_WINDOW]; /* the last transits, minus base */
	unsigned nhist, hpos;
	uint64_t last_ms; /* arrival of the last packet */

	struct jbuf_stats st;
};

int jbuf_new(struct jbuf **jp, unsigned frame_samples)
{
	struct jbuf *jb;

	if (frame_samples != 960 && frame_samples != 480)
		return -EINVAL;
	jb = calloc(1, sizeof(*jb));
	if (!jb)
		return -ENOMEM;
	jb->frame = frame_samples;
	jb->frame_ms = frame_samples / 48;
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

/* The window's quickest and slowest transits, in 64 bits: hostile timestamps put two
 * transits up to 2^32 apart. */
static void window(const struct jbuf *jb, int64_t *lo, int64_t *hi)
{
	*lo = *hi = jb->nhist ? jb->hist[0] : 0;
	for (unsigned i = 1; i < jb->nhist; i++) {
		*lo = jb->hist[i] < *lo ? jb->hist[i] : *lo;
		*hi = jb->hist[i] > *hi ? jb->hist[i] : *hi;
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

static unsigned frames_of(const struct jbuf *jb, unsigned ms)
{
	return (ms + jb->frame_ms - 1) / jb->frame_ms;
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
static void start_spurt(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t raw,
			uint64_t now_ms)
{
	int64_t lo, hi, late = 0, transit = rel(jb, raw);
	unsigned target;

	window(jb, &lo, &hi);
	target = spread_ms(lo, hi);
	if (jb->nhist && ssrc == jb->ssrc && now_ms - jb->last_ms <= JBUF_STALE_MS &&
	    transit >= lo - JBUF_MAX_MS * 48 && transit <= hi + JBUF_MAX_MS * 48)
		late = transit > lo ? (transit - lo) / 48 : 0;
	else
		jb->nhist = jb->hpos = 0;
	for (unsigned i = 0; i < JBUF_SLOTS; i++)
		jb->slots[i].used = false;
	jb->active = true;
	jb->playing = false;
	jb->ssrc = ssrc;
	jb->pseq = seq;
	jb->top = seq;
	jb->tail = 0;
	jb->st.target_ms = target;
	jb->start_ms = late >= target ? now_ms : now_ms + target - (uint64_t)late;
	jb->lead = frames_of(jb, target);
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

enum jbuf_put_res jbuf_put(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
			   bool marker, const uint8_t *payload, size_t len,
			   uint64_t now_ms)
{
	uint32_t transit = (uint32_t)(now_ms * 48) - ts;
	enum jbuf_put_res res = JBUF_OK;
	struct slot *s;
	int16_t ahead;

	if (len == 0 || len > JBUF_PKT_MAX)
		return JBUF_BAD;
	ahead = seq_diff(seq, jb->active ? jb->pseq : seq);
	if (!jb->active || ssrc != jb->ssrc || ahead >= JBUF_SLOTS ||
	    (marker && seq_diff(seq, jb->top) > 0 && !continues(jb, seq, ts)) ||
	    (!jb->playing && ahead <= -JBUF_SLOTS)) {
		start_spurt(jb, ssrc, seq, transit, now_ms);
		jb->top_ts = ts;
		res = JBUF_START;
		ahead = 0;
	} else if (ahead < 0) {
		if (jb->playing) {
			jb->st.late++;
			/* it still teaches the jitter estimate */
			note_transit(jb, transit, now_ms);
			return JBUF_LATE;
		}
		/* an earlier packet while still buffering: play it first, and as much
		 * earlier as its timestamp says */
		uint64_t back = (uint64_t)-ahead * jb->frame_ms;

		jb->start_ms = jb->start_ms > back ? jb->start_ms - back : 0;
		jb->pseq = seq;
	}
	s = &jb->slots[seq % JBUF_SLOTS];
	if (s->used && s->seq == seq) {
		jb->st.dups++;
		return JBUF_DUP;
	}
	s->used = true;
	s->seq = seq;
	s->len = (uint16_t)len;
	s->arrival_ms = now_ms;
	memcpy(s->data, payload, len);
	if (seq_diff(seq, jb->top) > 0) {
		jb->top = seq;
		jb->top_ts = ts;
	}
	note_transit(jb, transit, now_ms);
	jb->tail = 0;
	jb->st.packets++;
	return res;
}

static struct slot *find(struct jbuf *jb, uint16_t seq)
{
	struct slot *s = &jb->slots[seq % JBUF_SLOTS];

	return s->used && s->seq == seq ? s : NULL;
}

enum jbuf_out jbuf_get(struct jbuf *jb, uint64_t now_ms, const uint8_t **data,
		       size_t *len)
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
	if (s) {
		unsigned d = (unsigned)(now_ms - s->arrival_ms);

		s->used = false;
		jb->pseq++;
		*data = s->data;
		*len = s->len;
		jb->st.frames++;
		jb->st.delay_ms = d;
		if (d > jb->st.max_delay_ms)
			jb->st.max_delay_ms = d;
		return JBUF_FRAME;
	}
	/* lost (or not here yet): the frame after it may carry it as FEC */
	next = find(jb, (uint16_t)(jb->pseq + 1));
	if (next) {
		jb->pseq++;
		*data = next->data;
		*len = next->len;
		jb->st.fec++;
		return JBUF_FEC;
	}
	jb->st.plc++;
	cap = frames_of(jb, target_ms(jb));
	/* Neither is here. The first time in a spurt (or while the target asks for more),
	 * conceal without moving on: the buffer grows by a frame, so a late packet is on
	 * time after all, and a lost one can be rebuilt from its successor's FEC. */
	if (jb->lead < (cap > 1 ? cap : 1)) {
		jb->lead++;
		jb->tail++;
		jb->st.stalls++;
		return JBUF_PLC;
	}
	jb->pseq++;
	if (seq_diff(jb->top, jb->pseq) < 0 && ++jb->tail > JBUF_TAIL) {
		jb->st.plc--; /* not a concealed frame: the spurt is over */
		jb->active = false;
		return JBUF_IDLE;
	}
	return JBUF_PLC;
}

void jbuf_get_stats(const struct jbuf *jb, struct jbuf_stats *st)
{
	*st = jb->st;
	st->target_ms = target_ms(jb);
}
