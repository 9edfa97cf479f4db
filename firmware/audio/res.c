/* res.c: a residual echo suppressor that does not lean on the adaptive filter. */
#include "res.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"

#define RES_N	  FFT_N /* the analysis: the last 16 ms */
#define RES_BINS  FFT_BINS
#define RES_BW	  (RES_BAND_HZ * RES_N / RES_RATE) /* bins in a band */
#define RES_BANDS ((RES_BINS + RES_BW - 1) / RES_BW)
#define RES_TAPS  (2 * RES_DELAY + 1)
/* The room's decay per block, in power: an echo is heard this much less 10 ms later
 * (1.5 dB: a reverberation time of 0.4 s, longer than a living room's). */
#define RES_DECAY 0.71f
/* The coupling a band showed rises a tenth of the way to more each block, and falls
 * back this much a block while the filter shows less (20 dB in 30 s: a room that
 * changed). Its peak is what counts: where the filter has not learnt the echo, it
 * shows less coupling than there is. */
#define RES_LEARN  0.1f
#define RES_FORGET 0.99847f
/* The echo expected is counted this many times over, so that a lost echo stays at
 * the floor while the peak fades (for 4.5 s) */
#define RES_OVER 2.0f
/* how fast a band's gain comes back up: x2 a block, in power */
#define RES_RISE 2.0f
/* A reference band this quiet (mean square per bin, -70 dBFS) plays no echo. */
#define RES_QUIET (32768.0f * 32768.0f * 1e-7f)

struct res {
	struct fft fft;
	float mic[RES_N], ref[RES_N], out[RES_N]; /* the last RES_N samples of each */
	float reach[RES_BANDS];			  /* the reference, its decay behind it */
	float coupling[RES_BANDS];
	float gain[RES_BANDS];
	float low;	       /* RES_FLOOR_DB, in power */
	float made[RES_BANDS]; /* the gains taps was made from */
	float taps[RES_TAPS], last_taps[RES_TAPS];
	bool pure;		    /* taps is a pure delay */
	bool changed;		    /* taps is not last_taps */
	float shape[RES_DELAY + 1]; /* the taps' window, from the middle out */
	float tail[RES_TAPS - 1];   /* the filter's input before this block */
};

int res_new(struct res **rp)
{
	struct res *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	fft_init(&r->fft);
	for (int n = 0; n <= RES_DELAY; n++)
		r->shape[n] = (float)(0.5 + 0.5 * cos(M_PI * n / (RES_DELAY + 1)));
	for (int b = 0; b < RES_BANDS; b++)
		r->gain[b] = r->made[b] = 1;
	r->pure = true;
	r->low = powf(10, RES_FLOOR_DB / 10.0f);
	r->taps[RES_DELAY] = r->last_taps[RES_DELAY] = 1; /* a pure delay */
	*rp = r;
	return 0;
}

void res_free(struct res *r)
{
	free(r);
}

/* Power per band of the last RES_N samples (Hann) of a and of b, per bin: a mean
 * square. One transform serves both (a the real part, b the imaginary). */
static void bands(const struct res *r, const float *a, const float *b, float *pa,
		  float *pb)
{
	float re[RES_N], im[RES_N];

	for (int i = 0; i < RES_N; i++) {
		re[i] = a[i] * r->fft.win[i];
		im[i] = b[i] * r->fft.win[i];
	}
	fft_run(&r->fft, re, im);
	for (int band = 0; band < RES_BANDS; band++) {
		float sa = 0, sb = 0;
		int n = 0;

		for (int k = band * RES_BW; k < (band + 1) * RES_BW && k < RES_BINS;
		     k++, n++) {
			float ar, ai, br, bi;

			fft_split(re, im, k, &ar, &ai, &br, &bi);
			sa += ar * ar + ai * ai;
			sb += br * br + bi * bi;
		}
		/* 4: the halves above; 0.375: Hann's power */
		pa[band] = sa / (float)n / (4 * RES_N * 0.375f);
		pb[band] = sb / (float)n / (4 * RES_N * 0.375f);
	}
}

/* Whether x's last n samples are all zero. */
static bool silent(const float *x, int n)
{
	for (int i = 0; i < n; i++)
		if (x[i] != 0)
			return false;
	return true;
}

/* Band b's gain where the reference reaches it: m the microphone's power there, e the
 * filter's output's, y what the filter took out. */
static float band_gain(struct res *r, int b, float m, float e, float y, bool near)
{
	float c = y / r->reach[b], left, g = 1;

	if (c > r->coupling[b])
		r->coupling[b] += RES_LEARN * (c - r->coupling[b]);
	else
		r->coupling[b] *= RES_FORGET;
	left = RES_OVER * (r->coupling[b] * r->reach[b] - y);
	if (left > m)
		left = m; /* no more echo than was heard */
	if (!near && left > 0 && e > 0)
		g = 1 - left / e;
	return g < r->low ? r->low : g;
}

/* Each band's gain for this block. The echo expected at the microphone is the
 * coupling times the reference reaching it; what the filter took out of it (the
 * microphone less its output) is gone; the rest is taken off the output, down to
 * RES_FLOOR_DB. While the near end talks nothing is taken: what the filter left is his.
 */
static void gains(struct res *r, bool near)
{
	float m[RES_BANDS] = {0}, x[RES_BANDS] = {0}, e[RES_BANDS] = {0};
	float y[RES_BANDS] = {0}, taken[RES_N];
	bool heard = false; /* an echo may be in some band: the rest is worth doing */

	for (int b = 0; b < RES_BANDS; b++)
		heard = heard || r->reach[b] * RES_DECAY >= RES_QUIET;
	if (heard || !silent(r->ref, RES_N)) {
		for (int i = 0; i < RES_N; i++)
			taken[i] = r->mic[i] - r->out[i];
		bands(r, r->ref, taken, x, y);
	}
	heard = false;
	for (int b = 0; b < RES_BANDS; b++) {
		r->reach[b] = x[b] + RES_DECAY * r->reach[b];
		heard = heard || r->reach[b] >= RES_QUIET;
	}
	if (heard)
		bands(r, r->mic, r->out, m, e);
	for (int b = 0; b < RES_BANDS; b++) {
		float g = r->reach[b] >= RES_QUIET
			      ? band_gain(r, b, m[b], e[b], y[b], near)
			      : 1;

		/* a near talker is let through at once */
		r->gain[b] =
		    g < r->gain[b] * RES_RISE || near ? g : r->gain[b] * RES_RISE;
	}
}

/* The linear-phase filter whose amplitude response is the bands' gains: the spectrum's
 * transform (real and even, so forward and inverse are one), windowed to RES_TAPS.
 * Unchanged gains keep their filter; all at 1 it is a pure delay. */
static void design(struct res *r)
{
	float re[RES_N], im[RES_N] = {0};
	bool pure = true;

	memcpy(r->last_taps, r->taps, sizeof(r->taps));
	r->changed = memcmp(r->made, r->gain, sizeof(r->gain)) != 0;
	if (!r->changed)
		return;
	memcpy(r->made, r->gain, sizeof(r->gain));
	for (int b = 0; b < RES_BANDS; b++)
		pure = pure && r->gain[b] == 1;
	r->pure = pure;
	for (int k = 0; k < RES_BINS; k++)
		re[k] = sqrtf(r->gain[k / RES_BW]) / RES_N;
	for (int k = RES_BINS; k < RES_N; k++)
		re[k] = re[RES_N - k];
	fft_run(&r->fft, re, im);
	for (int n = 0; n <= RES_DELAY; n++)
		r->taps[RES_DELAY + n] = r->taps[RES_DELAY - n] = re[n] * r->shape[n];
}

static int16_t sample(float v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : lrintf(v));
}

/* out through the last block's filter, crossfaded into this block's (one pass when
 * design left it as it was; a copy, delayed, when that is a pure delay). */
static void filter(struct res *r, int16_t *out)
{
	float in[RES_TAPS - 1 + RES_BLOCK];

	memcpy(in, r->tail, sizeof(r->tail));
	for (int i = 0; i < RES_BLOCK; i++)
		in[RES_TAPS - 1 + i] = out[i];
	for (int i = 0; i < RES_BLOCK; i++) {
		const float *s = in + i + RES_TAPS - 1;
		float a = 0, b = 0, w = (float)(i + 1) / RES_BLOCK;

		if (r->pure && !r->changed) {
			out[i] = (int16_t)s[-RES_DELAY];
			continue;
		}
		for (int t = 0; t < RES_TAPS; t++)
			b += r->taps[t] * s[-t];
		if (!r->changed) {
			out[i] = sample(b);
			continue;
		}
		for (int t = 0; t < RES_TAPS; t++)
			a += r->last_taps[t] * s[-t];
		out[i] = sample(a + w * (b - a));
	}
	memcpy(r->tail, in + RES_BLOCK, sizeof(r->tail));
}

void res_block(struct res *r, const int16_t *mic, const int16_t *ref, bool near,
	       int16_t *out)
{
	fft_push(r->mic, mic, RES_BLOCK);
	fft_push(r->ref, ref, RES_BLOCK);
	fft_push(r->out, out, RES_BLOCK);
	gains(r, near);
	design(r);
	filter(r, out);
}
