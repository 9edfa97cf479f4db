/* aec.c: speexdsp's echo canceller on the box's own clock. */
#include "aec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <speex/speex_resampler.h>

#include "aecpath.h"
#include "coh.h"
#include "dlyest.h"
#include "mixer.h"
#include "res.h"

#define AEC_IN_RATE 48000
#define AEC_RATIO   (AEC_IN_RATE / AEC_RATE)
#define AEC_BLOCK   (AEC_RATE / 100) /* the canceller's 10 ms block */
#define AEC_HISTORY (AEC_RATE / 1000 * AEC_HISTORY_MS)
#define AEC_BLOCKS  (AEC_MAX_FRAME / AEC_RATIO / AEC_BLOCK) /* blocks in a frame */
_Static_assert(RES_RATE == AEC_RATE && RES_BLOCK == AEC_BLOCK, "res.h: the same blocks");
/* reference blocks in a row that played no echo, before no echo can be heard: the
 * filter's tail */
#define AEC_TAIL_BLOCKS (AEC_TAIL_MS / (AEC_BLOCK * 1000 / AEC_RATE))
/* Quality 3 of 10: speexdsp's VoIP setting; the same resampler takes the microphone and
 * the reference down, so its own delay cancels out of the alignment. */
#define AEC_RS_QUALITY 3
/* A reference block quieter than this (mean square, -60 dBFS) plays no echo worth
 * suppressing. */
#define AEC_QUIET_MS2 (32768.0 * 32768.0 * 1e-6)
/* Measured queues this many 16 kHz samples away from the anchor, for AEC_DRIFT_FRAMES
 * frames running, mean the two clocks drifted (or a queue changed): anchor again. */
#define AEC_DRIFT_FRAMES 25
/* The residual echo suppressor's floor where its preprocessor believes speech is
 * present (speexdsp's echo_suppress_active, default -15 dB). The preprocessor takes a
 * lone residual echo for speech too (on the clocked echo path it gave 75-99 % speech
 * probability to the far end's echo alone, and the floor at 0 dB there added 1-3 dB
 * to the filter's 20-24 where -15 added 7-11), so the floor is lifted to 0 dB only
 * while the near end really talks (AEC_NEAR_SHARE). -15 all the time cost the near
 * talker up to 3.4 dB in double talk (bench_echo), -3 still 3.0. */
#define AEC_SUPPRESS_ACTIVE_DB 0
#define AEC_SUPPRESS_ECHO_DB   (-15)
/* The near end talks while under this share of the microphone is linear in the
 * filter's echo estimate (coh.h), and what the filter left is not quiet. The far end
 * alone stays over it even where the filter left as much as it took out. bench_echo,
 * seeds 1-20: at 0.92 a near talker 5 dB under the echo loses at most 2.5 dB in double
 * talk, and seed 7's far talker, whose new sounds the filter is slow to learn, is
 * cancelled 30.6 dB; at 0.9, 36.2 dB, but a near talker lost 3.9 (seed 18), at 0.88
 * 3.8 (seed 9). The test by levels before it (what the filter left within 6 dB of what
 * it took out) took seed 7's residual for a near talker: 21.7 dB. */
#define AEC_NEAR_SHARE 0.92f
/* the near end counted as talking this many blocks after the test last said so (the
 * share is already smoothed over 200 ms) */
#define AEC_NEAR_HOLD 3

struct aec {
	SpeexEchoState *echo;
	SpeexPreprocessState *pre;
	SpeexResamplerState *mic_down, *ref_down, *up;
	struct res *res; /* what the filter left of the echo, taken off */
	struct coh *coh; /* how much of the microphone its echo estimate explains */
	size_t frame, frame16;
	bool agc;
	int16_t hist[AEC_HISTORY]; /* the reference at 16 kHz, a ring */
	int64_t written;	   /* reference samples ever written (16 kHz) */
	int64_t captured; /* the microphone's next sample (16 kHz): cancelled, skipped by
			     aec_skip, or dropped unread by the device (follow_drops) */
	int64_t offset;	  /* reference index = capture index + offset */
	bool anchored;
	unsigned drift;
	unsigned quiet; /* reference blocks in a row that played no echo */
	/* the block before, as captured: what the untouched path hands back, one block
	 * late as the preprocessor's own output is */
	int16_t late[AEC_BLOCK];
	unsigned near; /* blocks left counting the near end as talking */
	int active;    /* echo_suppress_active as last set */
	uint64_t xruns_seen;
	uint64_t dropped_seen; /* the device's count of samples dropped unread (48 kHz) */
	unsigned dropped_part; /* of those, what has not made a 16 kHz sample yet */
	int64_t corr; /* the delay estimator's correction to the measured anchor */
	struct dlyest *est;
	struct aec_path path; /* the direct path or the cancelled one */
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
	res_free(e->res);
	coh_free(e->coh);
	dlyest_free(e->est);
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
	e->active = AEC_SUPPRESS_ECHO_DB;
	speex_preprocess_ctl(e->pre, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE,
			     &e->active);
}

/* A block's mean square. */
static double block_ms(const int16_t *x)
{
	double ms = 0;

	for (int i = 0; i < AEC_BLOCK; i++)
		ms += (double)x[i] * x[i];
	return ms / AEC_BLOCK;
}

/* Whether the near end talks in this block (share: coh_block's for the microphone
 * against the filter's echo estimate; out what the filter left), and the residual echo
 * floor that follows: 0 dB while it does, -15 else. */
static void near_floor(struct aec *e, float share, const int16_t *out)
{
	int want;

	if (share < AEC_NEAR_SHARE && block_ms(out) > AEC_QUIET_MS2)
		e->near = AEC_NEAR_HOLD;
	else if (e->near)
		e->near--;
	want = e->near ? AEC_SUPPRESS_ACTIVE_DB : AEC_SUPPRESS_ECHO_DB;
	if (want != e->active) {
		e->active = want;
		speex_preprocess_ctl(e->pre, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE,
				     &e->active);
	}
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
	aecpath_init(&e->path);
	e->quiet = AEC_TAIL_BLOCKS + 1; /* nothing played yet: no echo to hear */
	e->echo = speex_echo_state_init(AEC_BLOCK, AEC_RATE / 1000 * AEC_TAIL_MS);
	e->pre = speex_preprocess_state_init(AEC_BLOCK, AEC_RATE);
	e->mic_down =
	    speex_resampler_init(1, AEC_IN_RATE, AEC_RATE, AEC_RS_QUALITY, &err);
	e->ref_down =
	    speex_resampler_init(1, AEC_IN_RATE, AEC_RATE, AEC_RS_QUALITY, &err);
	e->up = speex_resampler_init(1, AEC_RATE, AEC_IN_RATE, AEC_RS_QUALITY, &err);
	if (!e->echo || !e->pre || !e->mic_down || !e->ref_down || !e->up ||
	    res_new(&e->res) || dlyest_new(&e->est) || coh_new(&e->coh)) {
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

void aec_unwritten(struct aec *e, size_t n)
{
	size_t n16 = n / AEC_RATIO;

	e->written -= (int64_t)(n16 < e->frame16 ? n16 : e->frame16);
}

/* Reference sample k: silence for what was never written or is too old to hold. */
static int16_t ref_at(const struct aec *e, int64_t k)
{
	return k >= 0 && k < e->written && k >= e->written - AEC_HISTORY
		   ? e->hist[k % AEC_HISTORY]
		   : 0;
}

/* The reference for the frame whose last sample is capture index end. */
static void reference(const struct aec *e, int64_t end, int16_t *ref)
{
	int64_t start = end - (int64_t)e->frame16;

	for (size_t i = 0; i < e->frame16; i++)
		ref[i] = ref_at(e, start + (int64_t)i);
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
		int64_t off = measured + e->corr - e->offset;

		e->drift = off > (int64_t)e->frame16 || off < -(int64_t)e->frame16
			       ? e->drift + 1
			       : 0;
		if (e->drift < AEC_DRIFT_FRAMES)
			return;
	}
	e->offset = measured + e->corr;
	e->anchored = true;
	dlyest_anchored(e->est, e->captured + (int64_t)e->frame16);
	e->drift = 0;
	e->st.reanchors++;
	if (xrun)
		e->st.xruns++;
}

/* Where the echo is now (dlyest.h): the reference moved when it left where the filter
 * learnt it. */
static void estimate(struct aec *e)
{
	struct dlyest_ref ref = {e->hist, AEC_HISTORY, e->written};
	int64_t move = dlyest_run(e->est, e->captured, e->offset, &ref);

	if (!move)
		return;
	e->offset -= move;
	e->corr -= move;
	e->st.moves++;
}

/* The preprocessor on one block, while an echo may still be heard (a loud reference
 * block within the filter's tail): residual echo suppression, and the noise suppression
 * it needs. Otherwise the block passes untouched (a talker alone keeps his level) and
 * the preprocessor only learns the noise. The preprocessor hands back each block one
 * block late (its overlap-add), so the untouched path is delayed by one block too: the
 * microphone's timing stays put when the far end starts or stops talking (before, 10 ms
 * of it were dropped or repeated at each such switch). */
static void suppress(struct aec *e, bool loud, int16_t *out)
{
	int16_t now[AEC_BLOCK];

	e->quiet = loud ? 0 : e->quiet + 1;
	memcpy(now, out, sizeof(now));
	if (e->quiet <= AEC_TAIL_BLOCKS) {
		speex_preprocess_run(e->pre, out);
	} else {
		speex_preprocess_estimate_update(e->pre, now);
		memcpy(out, e->late, sizeof(e->late));
	}
	memcpy(e->late, now, sizeof(e->late));
}

/* Which of the frame's reference blocks play an echo worth suppressing (loud), and
 * for each, whether a block after it does (soon), the block after the frame included
 * (as much of it as the speaker was given already: the device's queue beyond the
 * lead). */
static void loud_blocks(const struct aec *e, const int16_t *ref, int64_t end, bool *loud,
			bool *soon)
{
	int16_t ahead[AEC_BLOCK];
	size_t nb = e->frame16 / AEC_BLOCK;
	bool after;

	for (int i = 0; i < AEC_BLOCK; i++)
		ahead[i] = ref_at(e, end + i);
	after = block_ms(ahead) >= AEC_QUIET_MS2;
	for (size_t k = nb; k-- > 0;) {
		loud[k] = block_ms(ref + k * AEC_BLOCK) >= AEC_QUIET_MS2;
		soon[k] = after;
		after = after || loud[k];
	}
}

void aec_capture(struct aec *e, int16_t *pcm, long delay, uint64_t xruns)
{
	int16_t mic[AEC_MAX_FRAME / AEC_RATIO], ref[AEC_MAX_FRAME / AEC_RATIO],
	    out[AEC_MAX_FRAME / AEC_RATIO], raw[AEC_MAX_FRAME], est[AEC_BLOCK];
	bool loud[AEC_BLOCKS], soon[AEC_BLOCKS], cancel[AEC_BLOCKS];
	int change[AEC_BLOCKS];
	int64_t end;
	size_t nb = e->frame16 / AEC_BLOCK;

	align(e, delay, xruns);
	memcpy(raw, pcm, e->frame * sizeof(*pcm));
	resample(e->mic_down, pcm, e->frame, mic, e->frame16);
	dlyest_mic(e->est, e->captured, mic, e->frame16);
	end = e->captured + (int64_t)e->frame16 + e->offset;
	reference(e, end, ref);
	loud_blocks(e, ref, end, loud, soon);
	for (size_t k = 0; k < nb; k++) {
		size_t b = k * AEC_BLOCK;

		speex_echo_cancellation(e->echo, mic + b, ref + b, out + b);
		for (int i = 0; i < AEC_BLOCK; i++)
			est[i] = mixer_clip(mic[b + i] - out[b + i]);
		near_floor(e, coh_block(e->coh, est, mic + b), out + b);
		res_block(e->res, mic + b, ref + b, e->near > 0, out + b);
		suppress(e, loud[k], out + b);
		change[k] = aecpath_step(&e->path, e->quiet <= AEC_TAIL_BLOCKS, soon[k],
					 block_ms(mic + b));
		cancel[k] = e->path.cancel;
	}
	resample(e->up, out, e->frame16, pcm, e->frame);
	aecpath_mix(cancel, change, nb, AEC_BLOCK * AEC_RATIO, raw, pcm);
	e->captured += (int64_t)e->frame16;
	e->st.frames++;
	estimate(e);
}

void aec_skip(struct aec *e, const int16_t *pcm)
{
	int16_t mic[AEC_MAX_FRAME / AEC_RATIO];

	resample(e->mic_down, pcm, e->frame, mic, e->frame16);
	dlyest_mic(e->est, e->captured, mic, e->frame16);
	e->captured += (int64_t)e->frame16;
}

/* The device dropped capture unread before this frame (a loop that fell behind,
 * caught up): the microphone's index jumps by as much, silence in the estimator's
 * ring, so that the reference stays exactly where the echo is (measured queues would
 * only show it as drift, frames later, and a sample off) and the estimator's windows
 * across the gap still hold. */
static void follow_drops(struct aec *e, uint64_t dropped)
{
	uint64_t n = dropped - e->dropped_seen + e->dropped_part;
	int64_t k = (int64_t)(n / AEC_RATIO);

	e->dropped_seen = dropped;
	e->dropped_part = (unsigned)(n % AEC_RATIO);
	if (!k)
		return;
	dlyest_gap(e->est, e->captured, k);
	e->captured += k;
	e->st.drops++;
}

void aec_capture_audio(struct aec *e, struct audio *a, int16_t *pcm)
{
	long play = 0, cap = 0, delay = -1;

	follow_drops(e, a->skipped);
	if (audio_delays(a, &play, &cap) == 0)
		delay = play + cap;
	aec_capture(e, pcm, delay, a->underruns + a->overruns);
}

void aec_get_stats(const struct aec *e, struct aec_stats *st)
{
	*st = e->st;
	st->shifts = e->path.shifts;
	st->forced = e->path.forced;
	st->direct = e->path.direct;
	st->blocks = e->st.frames * (e->frame16 / AEC_BLOCK); /* each frame decided */
}

void aec_describe(const struct aec *e, char *buf, size_t len)
{
	snprintf(
	    buf, len,
	    "speexdsp MDF at %d kHz, %d ms blocks, tail %d ms, reference %d ms "
	    "ahead of the measured delay; delay estimator %d ms at 2 kHz every %d-%d "
	    "ms, %d..%d ms; preprocessor while the speaker played: echo "
	    "suppression -40 dB (%d, %d while the near end talks: under %.0f %% of the "
	    "microphone coherent with the filter's estimate), noise -15 dB, AGC %s; "
	    "what the filter left of the echo expected from the reference, per %d Hz "
	    "band, down to %d dB (none while the near end talks); the microphone sent "
	    "undelayed while no echo can be heard",
	    AEC_RATE / 1000, AEC_BLOCK * 1000 / AEC_RATE, AEC_TAIL_MS, AEC_LEAD_MS,
	    DLYEST_WIN * 1000 / AEC_RATE, DLYEST_EVERY * 1000 / AEC_RATE,
	    DLYEST_CALM * 1000 / AEC_RATE, DLYEST_LMIN * 1000 / AEC_RATE,
	    DLYEST_LMAX * 1000 / AEC_RATE, AEC_SUPPRESS_ECHO_DB, AEC_SUPPRESS_ACTIVE_DB,
	    100.0 * AEC_NEAR_SHARE, e->agc ? "on" : "off", RES_BAND_HZ, RES_FLOOR_DB);
}
