/* aec.c: speexdsp's echo canceller on the box's own clock. */
#include "aec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <speex/speex_resampler.h>

#define AEC_IN_RATE 48000
#define AEC_RATIO   (AEC_IN_RATE / AEC_RATE)
#define AEC_BLOCK   (AEC_RATE / 100) /* the canceller's 10 ms block */
#define AEC_HISTORY (AEC_RATE / 1000 * AEC_HISTORY_MS)
/* Quality 3 of 10: speexdsp's VoIP setting; the same resampler takes the microphone and
 * the reference down, so its own delay cancels out of the alignment. */
#define AEC_RS_QUALITY 3
/* A reference block quieter than this (mean square, -60 dBFS) plays no echo worth
 * suppressing. */
#define AEC_QUIET_MS2 (32768.0 * 32768.0 * 1e-6)
/* Measured queues this many 16 kHz samples away from the anchor, for AEC_DRIFT_FRAMES
 * frames running, mean the two clocks drifted (or a queue changed): anchor again. */
#define AEC_DRIFT_FRAMES 25

struct aec {
	SpeexEchoState *echo;
	SpeexPreprocessState *pre;
	SpeexResamplerState *mic_down, *ref_down, *up;
	size_t frame, frame16;
	bool agc;
	int16_t hist[AEC_HISTORY]; /* the reference at 16 kHz, a ring */
	int64_t written;	   /* reference samples ever written (16 kHz) */
	int64_t captured;	   /* microphone samples ever cancelled (16 kHz) */
	int64_t offset;		   /* reference index = capture index + offset */
	bool anchored;
	unsigned drift;
	unsigned quiet; /* reference blocks in a row that played no echo */
	uint64_t xruns_seen;
	struct aec_stats st;
};

void aec_free(struct aec *e)
{
	if (!e)
		return;
	if (e->pre)
		speex_preprocess_state_destroy(e->pre);
	if (e->echo)
		speex_echo_state_destroy(e->echo);
	if (e->mic_down)
		speex_resampler_destroy(e->mic_down);
	if (e->ref_down)
		speex_resampler_destroy(e->ref_down);
	if (e->up)
		speex_resampler_destroy(e->up);
	free(e);
}

/* The preprocessor behind the canceller: noise suppression on (the residual echo
 * suppressor only acts with it), residual echo suppression pointed at the canceller. */
static void pre_setup(struct aec *e)
{
	int on = 1, agc = e->agc ? 1 : 0, rate = AEC_RATE;

	speex_echo_ctl(e->echo, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
	speex_preprocess_ctl(e->pre, SPEEX_PREPROCESS_SET_DENOISE, &on);
	speex_preprocess_ctl(e->pre, SPEEX_PREPROCESS_SET_AGC, &agc);
	speex_preprocess_ctl(e->pre, SPEEX_PREPROCESS_SET_ECHO_STATE, e->echo);
}

int aec_new(struct aec **ap, size_t frame, bool agc)
{
	struct aec *e;
	int err = 0;

	if (!frame || frame % (AEC_RATIO * AEC_BLOCK) || frame > AEC_MAX_FRAME)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->frame = frame;
	e->frame16 = frame / AEC_RATIO;
	e->agc = agc;
	e->echo = speex_echo_state_init(AEC_BLOCK, AEC_RATE / 1000 * AEC_TAIL_MS);
	e->pre = speex_preprocess_state_init(AEC_BLOCK, AEC_RATE);
	e->mic_down =
	    speex_resampler_init(1, AEC_IN_RATE, AEC_RATE, AEC_RS_QUALITY, &err);
	e->ref_down =
	    speex_resampler_init(1, AEC_IN_RATE, AEC_RATE, AEC_RS_QUALITY, &err);
	e->up = speex_resampler_init(1, AEC_RATE, AEC_IN_RATE, AEC_RS_QUALITY, &err);
	if (!e->echo || !e->pre || !e->mic_down || !e->ref_down || !e->up) {
		aec_free(e);
		return -ENOMEM;
	}
	speex_resampler_skip_zeros(e->up); /* only the voice's own delay shortened */
	pre_setup(e);
	*ap = e;
	return 0;
}

/* Resample in (n samples) to exactly want samples: the ratio is whole, so a short
 * result can only be the resampler's start, padded with silence. */
static void resample(SpeexResamplerState *rs, const int16_t *in, size_t n, int16_t *out,
		     size_t want)
{
	spx_uint32_t in_len = (spx_uint32_t)n, out_len = (spx_uint32_t)want;

	speex_resampler_process_int(rs, 0, in, &in_len, out, &out_len);
	if (out_len < want)
		memset(out + out_len, 0, (want - out_len) * sizeof(*out));
}

void aec_playback(struct aec *e, const int16_t *pcm)
{
	int16_t ref[AEC_MAX_FRAME / AEC_RATIO];

	resample(e->ref_down, pcm, e->frame, ref, e->frame16);
	for (size_t i = 0; i < e->frame16; i++)
		e->hist[(e->written + (int64_t)i) % AEC_HISTORY] = ref[i];
	e->written += (int64_t)e->frame16;
}

/* The reference for the frame whose last sample is capture index end: from the ring,
 * silence for what was never written or is too old to hold. */
static void reference(const struct aec *e, int64_t end, int16_t *ref)
{
	int64_t start = end - (int64_t)e->frame16;

	for (size_t i = 0; i < e->frame16; i++) {
		int64_t k = start + (int64_t)i;

		ref[i] = k >= 0 && k < e->written && k >= e->written - AEC_HISTORY
			     ? e->hist[k % AEC_HISTORY]
			     : 0;
	}
}

/* Where the reference stands for the capture frame just taken: the speaker is playing
 * sample written - queued-to-play, and the frame's last sample was heard queued-to-read
 * ago; AEC_LEAD_MS earlier still, so an over-read delay stays causal. */
static void align(struct aec *e, long delay, uint64_t xruns)
{
	int64_t d16, measured;
	/* xruns before the first anchor (a device starting late) moved nothing yet */
	bool xrun = e->anchored && xruns != e->xruns_seen;

	e->xruns_seen = xruns;
	if (delay < 0 && e->anchored && !xrun)
		return;
	d16 = delay < 0 ? 0 : delay / AEC_RATIO;
	d16 -= AEC_RATE / 1000 * AEC_LEAD_MS;
	if (d16 < 0)
		d16 = 0;
	measured = e->written - d16 - (e->captured + (int64_t)e->frame16);
	if (delay >= 0)
		e->st.delay = delay;
	if (e->anchored && !xrun) {
		int64_t off = measured - e->offset;

		e->drift = off > (int64_t)e->frame16 || off < -(int64_t)e->frame16
			       ? e->drift + 1
			       : 0;
		if (e->drift < AEC_DRIFT_FRAMES)
			return;
	}
	e->offset = measured;
	e->anchored = true;
	e->drift = 0;
	e->st.reanchors++;
	if (xrun)
		e->st.xruns++;
}

/* The preprocessor on one block, while an echo may still be heard (a loud reference
 * block within the filter's tail): residual echo suppression, and the noise suppression
 * it needs. Otherwise the block passes untouched (a talker alone keeps his level) and
 * the preprocessor only learns the noise. */
static void suppress(struct aec *e, const int16_t *ref, int16_t *out)
{
	double ms = 0;

	for (int i = 0; i < AEC_BLOCK; i++)
		ms += (double)ref[i] * ref[i];
	e->quiet = ms / AEC_BLOCK < AEC_QUIET_MS2 ? e->quiet + 1 : 0;
	if (e->quiet <= AEC_TAIL_MS / (AEC_BLOCK * 1000 / AEC_RATE))
		speex_preprocess_run(e->pre, out);
	else
		speex_preprocess_estimate_update(e->pre, out);
}

void aec_capture(struct aec *e, int16_t *pcm, long delay, uint64_t xruns)
{
	int16_t mic[AEC_MAX_FRAME / AEC_RATIO], ref[AEC_MAX_FRAME / AEC_RATIO],
	    out[AEC_MAX_FRAME / AEC_RATIO];

	align(e, delay, xruns);
	resample(e->mic_down, pcm, e->frame, mic, e->frame16);
	reference(e, e->captured + (int64_t)e->frame16 + e->offset, ref);
	for (size_t b = 0; b < e->frame16; b += AEC_BLOCK) {
		speex_echo_cancellation(e->echo, mic + b, ref + b, out + b);
		suppress(e, ref + b, out + b);
	}
	resample(e->up, out, e->frame16, pcm, e->frame);
	e->captured += (int64_t)e->frame16;
	e->st.frames++;
}

void aec_skip(struct aec *e, const int16_t *pcm)
{
	int16_t mic[AEC_MAX_FRAME / AEC_RATIO];

	resample(e->mic_down, pcm, e->frame, mic, e->frame16);
	e->captured += (int64_t)e->frame16;
}

void aec_capture_audio(struct aec *e, struct audio *a, int16_t *pcm)
{
	long play = 0, cap = 0, delay = -1;

	if (audio_delays(a, &play, &cap) == 0)
		delay = play + cap;
	aec_capture(e, pcm, delay, a->underruns + a->overruns);
}

void aec_get_stats(const struct aec *e, struct aec_stats *st)
{
	*st = e->st;
}

void aec_describe(const struct aec *e, char *buf, size_t len)
{
	snprintf(buf, len,
		 "speexdsp MDF at %d kHz, %d ms blocks, tail %d ms, reference %d ms "
		 "ahead of the measured delay; preprocessor while the speaker played "
		 "within the tail: residual echo and noise suppression (speex "
		 "defaults), AGC %s",
		 AEC_RATE / 1000, AEC_BLOCK * 1000 / AEC_RATE, AEC_TAIL_MS, AEC_LEAD_MS,
		 e->agc ? "on" : "off");
}
