#include "voice.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "mixer.h"
#include "rtp.h"

struct remote {
	bool used;
	uint32_t ssrc;
	struct jbuf *jb;
	struct codec_dec *dec;
	uint64_t last_ms;
};

struct voice {
	struct codec_enc *enc;
	size_t frame;
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	uint16_t seq;
	uint32_t ts;
	bool was_talking;
	struct remote rem[VOICE_REMOTES];
	struct mixer mix;
	struct voice_stats st;
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

static void remote_free(struct remote *r)
{
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
			remote_free(&v->rem[i]);
	}
	codec_enc_free(v->enc);
	free(v);
}

void voice_set_ids(struct voice *v, uint32_t ssrc, const uint8_t token[IC_TOKEN_LEN])
{
	v->ssrc = ssrc;
	memcpy(v->token, token, IC_TOKEN_LEN);
}

static int pack(struct voice *v, bool marker, const uint8_t *payload, size_t len,
		uint8_t *pkt)
{
	struct rtp_hdr h = {marker, IC_RTP_PT_OPUS, v->seq++, v->ts, v->ssrc};

	return rtp_pack(pkt, IC_RTP_MAX, &h, v->token, payload, len);
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
		remote_free(oldest);
		free_slot = oldest;
	}
	if (jbuf_new(&free_slot->jb, (unsigned)v->frame) ||
	    codec_dec_new(&free_slot->dec)) {
		remote_free(free_slot);
		return NULL;
	}
	free_slot->used = true;
	free_slot->ssrc = ssrc;
	free_slot->last_ms = now;
	return free_slot;
}

bool voice_receive(struct voice *v, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	struct rtp_pkt p;
	struct remote *r;
	int res;

	/* padding (P=1, GStreamer and ffmpeg may send it) is not Opus: removed first */
	if (rtp_parse(pkt, len, &p) || rtp_unpad(pkt, &p) || p.hdr.pt != IC_RTP_PT_OPUS) {
		v->st.bad++;
		return false;
	}
	if (p.payload_len == 0 || p.hdr.ssrc == v->ssrc)
		return false; /* the answer to our keepalive */
	r = remote_for(v, p.hdr.ssrc, now_ms);
	if (!r)
		return false;
	r->last_ms = now_ms;
	v->st.received++;
	res = jbuf_put(r->jb, p.hdr.ssrc, p.hdr.seq, p.hdr.ts, p.hdr.marker, p.payload,
		       p.payload_len, now_ms);
	if (res == JBUF_LATE)
		v->st.late++;
	else if (res == JBUF_DUP)
		v->st.dups++;
	return res == JBUF_START;
}

bool voice_play(struct voice *v, uint64_t now_ms, int16_t *out)
{
	int16_t pcm[CODEC_MAX_FRAME];
	bool heard = false;

	mixer_begin(&v->mix, v->frame);
	for (int i = 0; i < VOICE_REMOTES; i++) {
		struct remote *r = &v->rem[i];
		const uint8_t *data = NULL;
		size_t len = 0;
		int n = -1;

		if (!r->used)
			continue;
		switch (jbuf_get(r->jb, now_ms, &data, &len)) {
		case JBUF_FRAME: {
			struct jbuf_stats js;

			n = codec_decode(r->dec, data, len, pcm, v->frame);
			v->st.frames++;
			jbuf_get_stats(r->jb, &js);
			v->st.hold_ms_sum += js.delay_ms;
			break;
		}
		case JBUF_FEC:
			n = codec_decode_fec(r->dec, data, len, pcm, v->frame);
			v->st.fec++;
			break;
		case JBUF_PLC:
			n = codec_conceal(r->dec, pcm, v->frame);
			v->st.plc++;
			break;
		case JBUF_IDLE:
			if (now_ms - r->last_ms > VOICE_IDLE_MS)
				remote_free(r);
			break;
		}
		if (n > 0) {
			mixer_add(&v->mix, pcm);
			heard = true;
		}
	}
	mixer_end(&v->mix, out);
	return heard;
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
	for (int i = 0; i < VOICE_REMOTES; i++)
		st->remotes += v->rem[i].used;
}
