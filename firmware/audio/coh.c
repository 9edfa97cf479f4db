/* coh.c: the share of the microphone that is linear in the echo estimate (coh.h). */
#include "coh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fft.h"

/* A bin whose echo estimate is this quiet (smoothed, in the transform's units: about
 * -100 dBFS) holds no echo: left out rather than divided by nothing. */
#define COH_QUIET 1e-1f

struct coh {
	struct fft fft;
	float y[FFT_N], m[FFT_N]; /* the last FFT_N samples of each */
	/* per bin, smoothed: the powers, and the cross-spectrum M Y* */
	float syy[FFT_BINS], smm[FFT_BINS], sre[FFT_BINS], sim[FFT_BINS];
};

int coh_new(struct coh **cp)
{
	struct coh *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	fft_init(&c->fft);
	*cp = c;
	return 0;
}

void coh_free(struct coh *c)
{
	free(c);
}

float coh_block(struct coh *c, const int16_t *y, const int16_t *m)
{
	float re[FFT_N], im[FFT_N];
	double lin = 0, all = 0;
	const float a = COH_SMOOTH, b = 1 - COH_SMOOTH;

	fft_push(c->y, y, COH_BLOCK);
	fft_push(c->m, m, COH_BLOCK);
	for (int i = 0; i < FFT_N; i++) {
		re[i] = c->y[i] * c->fft.win[i];
		im[i] = c->m[i] * c->fft.win[i];
	}
	fft_run(&c->fft, re, im);
	for (int k = 1; k < FFT_BINS; k++) {
		float yr, yi, mr, mi;

		/* doubled spectra: a factor 4 in every term, which cancels */
		fft_split(re, im, k, &yr, &yi, &mr, &mi);
		c->syy[k] = a * c->syy[k] + b * (yr * yr + yi * yi);
		c->smm[k] = a * c->smm[k] + b * (mr * mr + mi * mi);
		c->sre[k] = a * c->sre[k] + b * (mr * yr + mi * yi);
		c->sim[k] = a * c->sim[k] + b * (mi * yr - mr * yi);
		all += c->smm[k];
		/* |Smy|^2 / Syy: the part of Smm linear in y (never over Smm) */
		if (c->syy[k] > COH_QUIET)
			lin += ((double)c->sre[k] * c->sre[k] +
				(double)c->sim[k] * c->sim[k]) /
			       c->syy[k];
	}
	return all > 0 ? (float)(lin / all) : 0;
}
