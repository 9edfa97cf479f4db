#include "voice.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "mixer.h"
#include "rtp.h"
#include "vcrypt.h"

/* Decoded and not yet played: less than one local frame, plus the longest packet. */
#define VOICE_QUEUE (CODEC_MAX_FRAME + JBUF_PKT_SAMPLES_MAX)

struct remote {
	bool used;
	uint32_t ssrc;
	struct jbuf *jb;
	struct codec_dec *dec;
	uint64_t last_ms;
	/* Each packet is decoded for its own duration and played out in our frame size:
	 * a 20 ms packet lasts two of a 10 ms box's frames, two 10 ms packets make one of
	 * a 20 ms box's. */
	int16_t q[VOICE_QUEUE];
	size_t qlen;
	bool heard; /* in the last frame played */
};

struct voice {
	struct codec_enc *enc;
	size_t frame;
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	/* encrypted voice (section 3): both contexts, or keyed with none (their making
	 * failed: nothing is sent or heard rather than anything in the clear) */
	bool keyed;
	struct vc *seal, *open;
	uint64_t ctr; /* the next counter under c2s */
	struct ctrwin win;
	uint16_t seq;
	uint32_t ts;
	bool was_talking;
	struct remote rem[VOICE_REMOTES];
	struct mixer mix;
	struct voice_stats st;
	uint64_t dropped_gone; /* by remotes freed since */
};

int voice_new(struct voice **vp, const struct codec_cfg *c)
{
	struct voice *v = calloc(1, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	err = codec_enc_new(&v->enc, c);
	if (err) {
		free(v);
		return err;
	}
	v->frame = CODEC_RATE / 1000 * c->frame_ms;
	v->seq = (uint16_t)rand(); /* RFC 3550: random initial values */
	v->ts = (uint32_t)rand();
	*vp = v;
	return 0;
}

static void unkey(struct voice *v)
{
	vc_free(v->seal);
	vc_free(v->open);
	v->seal = v->open = NULL;
	v->keyed = false;
	v->ctr = 0; /* new keys: counters start again */
	ctrwin_init(&v->win);
}

static void remote_free(struct voice *v, struct remote *r)
{
	struct jbuf_stats js;

	if (r->jb) {
		jbuf_get_stats(r->jb, &js);
		v->dropped_gone += js.dropped;
	}
	jbuf_free(r->jb);
	codec_dec_free(r->dec);
	memset(r, 0, sizeof(*r));
}

void voice_free(struct voice *v)
{
	if (!v)
		return;
	for (int i = 0; i < VOICE_REMOTES; i++) {
		if (v->rem[i].used)
			remote_free(v, &v->rem[i]);
	}
	unkey(v);
	codec_enc_free(v->enc);
	free(v);
}

void voice_set_ids(struct voice *v, uint32_t ssrc, const uint8_t token[IC_TOKEN_LEN])
{
	unkey(v);
	v->ssrc = ssrc;
	memcpy(v->token, token, IC_TOKEN_LEN);
}

int voice_set_keys(struct voice *v, uint32_t ssrc, const struct vc_key *c2s,
		   const struct vc_key *s2c)
{
	int e;

	unkey(v);
	v->keyed = true;
	v->ssrc = ssrc;
	memset(v->token, 0, sizeof(v->token));
	e = vc_new(&v->seal, c2s, true);
	if (!e)
		e = vc_new(&v->open, s2c, false);
	if (e) {
		unkey(v);
		v->keyed = true; /* mute, not in the clear */
	}
	return e;
}

static int pack(struct voice *v, bool marker, const uint8_t *payload, size_t len,
		uint8_t *pkt)
{
	struct rtp_hdr h = {marker, IC_RTP_PT_OPUS, v->seq++, v->ts, v->ssrc};
	uint8_t plain[IC_RTP_MAX];
	int n;

	if (!v->keyed)
		return rtp_pack(pkt, IC_RTP_MAX, &h, v->token, payload, len);
	if (!v->seal)
		return -EIO;
	/* over TLS the datagram limit covers the counter and the tag too */
	n = rtp_pack(plain, IC_RTP_MAX - VC_OVERHEAD, &h, NULL, payload, len);
	if (n < 0)
		return n;
	return vc_seal(v->seal, v->ctr++, plain, (size_t)n, pkt, IC_RTP_MAX);
}

int voice_capture(struct voice *v, const int16_t *pcm, bool talking, uint8_t *pkt)
{
	uint8_t enc[CODEC_MAX_PKT];
	int n = 0;

	if (talking) {
		n = codec_encode(v->enc, pcm, enc, sizeof(enc));
		if (n > 0) {
			n = pack(v, !v->was_talking, enc, (size_t)n, pkt);
			v->st.sent++;
		} else {
			n = 0;
		}
	}
	v->was_talking = talking;
	v->ts += (uint32_t)v->frame;
	return n > 0 ? n : 0;
}

int voice_keepalive(struct voice *v, uint8_t *pkt)
{
	v->st.keepalives++;
	return pack(v, false, NULL, 0, pkt);
}

static struct remote *remote_for(struct voice *v, uint32_t ssrc, uint64_t now)
{
	struct remote *free_slot = NULL, *oldest = NULL;

	for (int i = 0; i < VOICE_REMOTES; i++) {
		struct remote *r = &v->rem[i];

		if (r->used && r->ssrc == ssrc)
			return r;
		if (!r->used && !free_slot)
			free_slot = r;
		if (r->used && (!oldest || r->last_ms < oldest->last_ms))
			oldest = r;
	}
	if (!free_slot) { /* the longest silent talker makes room */
		remote_free(v, oldest);
		free_slot = oldest;
	}
	if (jbuf_new(&free_slot->jb) || codec_dec_new(&free_slot->dec)) {
		remote_free(v, free_slot);
		return NULL;
	}
	free_slot->used = true;
	free_slot->ssrc = ssrc;
	free_slot->last_ms = now;
	return free_slot;
}

/* A sealed packet opened into plain (IC_RTP_MAX bytes) under s2c and the counter
 * window, marked only once its tag verified. Returns the RTP length or -EBADMSG. */
static int unseal(struct voice *v, const uint8_t *pkt, size_t len, uint8_t *plain)
{
	int n = v->open ? vc_open_window(v->open, &v->win, pkt, len, IC_RTP_MAX, plain,
					 IC_RTP_MAX, NULL)
			: -EMSGSIZE;

	if (n == -EMSGSIZE)
		v->st.bad++;
	else if (n == -EALREADY)
		v->st.replayed++; /* a duplicate on the way, or a replay */
	else if (n < 0)
		v->st.forged++;
	return n < 0 ? -EBADMSG : n;
}

int voice_receive(struct voice *v, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	uint8_t plain[IC_RTP_MAX];
	struct rtp_pkt p;
	struct remote *r;
	struct jbuf_pkt jp;
	int res, samples;

	if (v->keyed) {
		int n = unseal(v, pkt, len, plain);

		if (n < 0)
			return VOICE_RX_DROP;
		pkt = plain;
		len = (size_t)n;
	}
	/* padding (P=1, GStreamer and ffmpeg may send it) is not Opus: removed first */
	if (rtp_parse(pkt, len, &p) || rtp_unpad(pkt, &p) || p.hdr.pt != IC_RTP_PT_OPUS) {
		v->st.bad++;
		return VOICE_RX_DROP;
	}
	if (p.payload_len == 0 || p.hdr.ssrc == v->ssrc)
		return VOICE_RX_OK; /* the answer to our keepalive */
	samples = codec_packet_samples(p.payload, p.payload_len);
	if (samples < JBUF_PKT_SAMPLES_MIN || samples > JBUF_PKT_SAMPLES_MAX) {
		v->st.bad++; /* not Opus, or longer than a talker may choose */
		return VOICE_RX_DROP;
	}
	r = remote_for(v, p.hdr.ssrc, now_ms);
	if (!r)
		return VOICE_RX_OK;
	r->last_ms = now_ms;
	v->st.received++;
	jp = (struct jbuf_pkt){p.hdr.ssrc,   p.hdr.seq, p.hdr.ts,     (unsigned)samples,
			       p.hdr.marker, p.payload, p.payload_len};
	res = jbuf_put(r->jb, &jp, now_ms);
	if (res == JBUF_BAD)
		v->st.bad++;
	else if (res == JBUF_LATE)
		v->st.late++;
	else if (res == JBUF_DUP)
		v->st.dups++;
	return res == JBUF_START ? VOICE_RX_START : VOICE_RX_OK;
}

/* Decode one piece from the jitter buffer onto the remote's queue. Returns false when
 * there is nothing to play. A decoder error leaves silence of the piece's length, so
 * the talker's timing holds. */
static bool decode_next(struct voice *v, struct remote *r, uint64_t now_ms)
{
	struct jbuf_out_frame f;
	int16_t *at = r->q + r->qlen;
	int n = -1;

	switch (jbuf_get(r->jb, now_ms, &f)) {
	case JBUF_IDLE:
		return false;
	case JBUF_FRAME: {
		struct jbuf_stats js;

		n = codec_decode(r->dec, f.data, f.len, at, f.samples);
		v->st.frames++;
		jbuf_get_stats(r->jb, &js);
		v->st.hold_ms_sum += js.delay_ms;
		break;
	}
	case JBUF_FEC:
		n = codec_decode_fec(r->dec, f.data, f.len, at, f.samples);
		v->st.fec++;
		break;
	case JBUF_PLC:
		n = codec_conceal(r->dec, at, f.samples);
		v->st.plc++;
		break;
	}
	if (n < 0) {
		memset(at, 0, f.samples * sizeof(*at));
		v->st.bad++;
	}
	r->qlen += f.samples;
	return true;
}

/* The remote's next local frame into pcm (zero-padded at a spurt's end). Returns false
 * when it has nothing to play. */
static bool remote_frame(struct voice *v, struct remote *r, uint64_t now_ms, int16_t *pcm)
{
	size_t take;

	while (r->qlen < v->frame && decode_next(v, r, now_ms))
		;
	if (!r->qlen)
		return false;
	take = r->qlen < v->frame ? r->qlen : v->frame;
	memcpy(pcm, r->q, take * sizeof(*pcm));
	memset(pcm + take, 0, (v->frame - take) * sizeof(*pcm));
	r->qlen -= take;
	memmove(r->q, r->q + take, r->qlen * sizeof(*pcm));
	return true;
}

bool voice_play(struct voice *v, uint64_t now_ms, int16_t *out)
{
	int16_t pcm[CODEC_MAX_FRAME];
	bool heard = false;

	mixer_begin(&v->mix, v->frame);
	for (int i = 0; i < VOICE_REMOTES; i++) {
		struct remote *r = &v->rem[i];

		if (!r->used)
			continue;
		r->heard = remote_frame(v, r, now_ms, pcm);
		if (r->heard) {
			mixer_add(&v->mix, pcm);
			heard = true;
		} else if (now_ms - r->last_ms > VOICE_IDLE_MS) {
			remote_free(v, r);
		}
	}
	mixer_end(&v->mix, out);
	return heard;
}

size_t voice_excess(const struct voice *v)
{
	size_t least = SIZE_MAX;

	for (int i = 0; i < VOICE_REMOTES; i++) {
		const struct remote *r = &v->rem[i];
		size_t ex;

		if (!r->used || !r->heard)
			continue;
		ex = (size_t)jbuf_excess_ms(r->jb) * (CODEC_RATE / 1000);
		least = ex < least ? ex : least;
	}
	return least == SIZE_MAX ? 0 : least;
}

void voice_cut(struct voice *v, size_t samples)
{
	for (int i = 0; i < VOICE_REMOTES; i++)
		if (v->rem[i].used && v->rem[i].heard)
			jbuf_cut(v->rem[i].jb, (unsigned)(samples / (CODEC_RATE / 1000)));
}

size_t voice_frame_samples(const struct voice *v)
{
	return v->frame;
}

void voice_get_stats(const struct voice *v, struct voice_stats *st)
{
	*st = v->st;
	st->lookahead_samples = (unsigned)codec_lookahead(v->enc);
	st->remotes = 0;
	st->dropped = v->dropped_gone;
	for (int i = 0; i < VOICE_REMOTES; i++) {
		struct jbuf_stats js;

		if (!v->rem[i].used)
			continue;
		st->remotes++;
		jbuf_get_stats(v->rem[i].jb, &js);
		st->dropped += js.dropped;
	}
}
