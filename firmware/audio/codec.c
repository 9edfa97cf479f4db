#include "codec.h"

#include <errno.h>
#include <opus/opus.h>
#include <stdlib.h>

struct codec_enc {
	OpusEncoder *enc;
	size_t frame;
};

struct codec_dec {
	OpusDecoder *dec;
};

void codec_cfg_default(struct codec_cfg *c)
{
	c->frame_ms = 20;
	c->bitrate = 24000;
	c->complexity = 5;
	c->loss_pct = 10;
	c->fec = 1;
	c->cbr = false;
}

int codec_enc_new(struct codec_enc **ep, const struct codec_cfg *c)
{
	struct codec_enc *e;
	int err;

	if ((c->frame_ms != 10 && c->frame_ms != 20) || c->bitrate < 6000 ||
	    c->bitrate > 128000 || c->complexity > 10 || c->loss_pct > 100)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->enc = opus_encoder_create(CODEC_RATE, 1, OPUS_APPLICATION_VOIP, &err);
	if (err != OPUS_OK) {
		free(e);
		return err == OPUS_ALLOC_FAIL ? -ENOMEM : -EINVAL;
	}
	e->frame = CODEC_RATE / 1000 * c->frame_ms;
	if (opus_encoder_ctl(e->enc, OPUS_SET_BITRATE((opus_int32)c->bitrate)) !=
		OPUS_OK ||
	    opus_encoder_ctl(e->enc, OPUS_SET_COMPLEXITY((opus_int32)c->complexity)) !=
		OPUS_OK ||
	    opus_encoder_ctl(e->enc, OPUS_SET_INBAND_FEC(c->fec ? 1 : 0)) != OPUS_OK ||
	    opus_encoder_ctl(
		e->enc, OPUS_SET_PACKET_LOSS_PERC((opus_int32)c->loss_pct)) != OPUS_OK ||
	    opus_encoder_ctl(e->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) != OPUS_OK ||
	    opus_encoder_ctl(e->enc, OPUS_SET_VBR(c->cbr ? 0 : 1)) != OPUS_OK) {
		codec_enc_free(e);
		return -EINVAL;
	}
	*ep = e;
	return 0;
}

void codec_enc_free(struct codec_enc *e)
{
	if (!e)
		return;
	opus_encoder_destroy(e->enc);
	free(e);
}

int codec_encode(struct codec_enc *e, const int16_t *pcm, uint8_t *pkt, size_t size)
{
	opus_int32 n = opus_encode(e->enc, pcm, (int)e->frame, pkt, (opus_int32)size);

	return n < 0 ? -EIO : (int)n;
}

int codec_lookahead(struct codec_enc *e)
{
	opus_int32 la = 0;

	return opus_encoder_ctl(e->enc, OPUS_GET_LOOKAHEAD(&la)) == OPUS_OK ? (int)la
									    : -EIO;
}

int codec_packet_samples(const uint8_t *pkt, size_t len)
{
	int n;

	if (len == 0)
		return -EINVAL;
	n = opus_packet_get_nb_samples(pkt, (opus_int32)len, CODEC_RATE);
	return n > 0 ? n : -EINVAL;
}

int codec_dec_new(struct codec_dec **dp)
{
	struct codec_dec *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->dec = opus_decoder_create(CODEC_RATE, 1, &err);
	if (err != OPUS_OK) {
		free(d);
		return -ENOMEM;
	}
	*dp = d;
	return 0;
}

void codec_dec_free(struct codec_dec *d)
{
	if (!d)
		return;
	opus_decoder_destroy(d->dec);
	free(d);
}

static int fill(int n, size_t want, int16_t *pcm)
{
	if (n < 0)
		return -EIO;
	for (size_t i = (size_t)n; i < want; i++) /* never hand back a short frame */
		pcm[i] = 0;
	return (int)want;
}

int codec_decode(struct codec_dec *d, const uint8_t *pkt, size_t len, int16_t *pcm,
		 size_t n)
{
	return fill(opus_decode(d->dec, pkt, (opus_int32)len, pcm, (int)n, 0), n, pcm);
}

int codec_decode_fec(struct codec_dec *d, const uint8_t *next, size_t len, int16_t *pcm,
		     size_t n)
{
	return fill(opus_decode(d->dec, next, (opus_int32)len, pcm, (int)n, 1), n, pcm);
}

int codec_conceal(struct codec_dec *d, int16_t *pcm, size_t n)
{
	return fill(opus_decode(d->dec, NULL, 0, pcm, (int)n, 0), n, pcm);
}
