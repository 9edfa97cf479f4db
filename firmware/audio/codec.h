/* codec.h: Opus at 48 kHz mono for voice: one encoder for our talk, one decoder per
 * remote talker, with in-band FEC and packet loss concealment. */
#ifndef IC_CODEC_H
#define IC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEC_RATE	48000
#define CODEC_MAX_FRAME 960  /* 20 ms: the longest frame this box captures and plays */
#define CODEC_MAX_PKT	1000 /* bytes: far above 24 kbit/s at 20 ms (60 bytes) */

struct codec_enc;
struct codec_dec;

struct codec_cfg {
	unsigned frame_ms;   /* 10 or 20 */
	unsigned bitrate;    /* bit/s, e.g. 24000 */
	unsigned complexity; /* 0..10: lower for slower boards */
	unsigned loss_pct;   /* expected loss, tunes in-band FEC (10) */
	int fec;	     /* in-band FEC on (1) or off (0) */
	/* constant bitrate: every packet of a frame size the same length, so encryption
	 * does not leak what is said through packet sizes (RFC 6562); on over TLS */
	bool cbr;
};

void codec_cfg_default(struct codec_cfg *c);

/* An encoder (VOIP application). Returns 0, -EINVAL for a bad setting, or -ENOMEM. */
int codec_enc_new(struct codec_enc **ep, const struct codec_cfg *c);
void codec_enc_free(struct codec_enc *e);
/* Encode one frame of pcm (frame_ms worth). Returns the packet length or -EIO. */
int codec_encode(struct codec_enc *e, const int16_t *pcm, uint8_t *pkt, size_t size);

/* The encoder's look-ahead in samples (part of the mouth-to-ear delay). */
int codec_lookahead(struct codec_enc *e);

/* The duration of an Opus packet at 48 kHz, from its TOC byte (and frame count): samples,
 * or -EINVAL for a packet that is not Opus. */
int codec_packet_samples(const uint8_t *pkt, size_t len);

/* A decoder. Returns 0 or -ENOMEM. */
int codec_dec_new(struct codec_dec **dp);
void codec_dec_free(struct codec_dec *d);
/* Decode a packet into n samples (its duration: codec_packet_samples). Returns n or
 * -EIO. */
int codec_decode(struct codec_dec *d, const uint8_t *pkt, size_t len, int16_t *pcm,
		 size_t n);
/* Rebuild n samples lost before `next` from its in-band FEC (plain concealment when next
 * carries none). Returns n or -EIO. */
int codec_decode_fec(struct codec_dec *d, const uint8_t *next, size_t len, int16_t *pcm,
		     size_t n);
/* Conceal n lost samples with no packet after them (PLC). Returns n or -EIO. */
int codec_conceal(struct codec_dec *d, int16_t *pcm, size_t n);

#endif
