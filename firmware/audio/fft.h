/* fft.h: the one transform the echo path's analyses share (res, coh): FFT_N points,
 * radix 2, in place, and the Hann window they weigh their last FFT_N samples with. */
#ifndef IC_FFT_H
#define IC_FFT_H

#include <stdint.h>

/* 16 ms at 16 kHz, in 62.5 Hz bins */
#define FFT_N	 256
#define FFT_BINS (FFT_N / 2 + 1)

struct fft {
	float win[FFT_N]; /* Hann */
	float tw_re[FFT_N / 2], tw_im[FFT_N / 2];
	uint8_t rev[FFT_N]; /* the bit reversal */
};

/* Fills f's tables. */
void fft_init(struct fft *f);

/* The discrete Fourier transform of re + i im, in place. */
void fft_run(const struct fft *f, float *re, float *im);

/* The window's samples moved on by the n new ones in x: buf holds the last FFT_N. */
void fft_push(float *buf, const int16_t *x, int n);

/* Bin k of two real signals a and b transformed together as a + i b, each doubled:
 * 2A = Z[k] + Z*[N - k], 2B = (Z[k] - Z*[N - k]) / i. */
static inline void fft_split(const float *re, const float *im, int k, float *ar,
			     float *ai, float *br, float *bi)
{
	int j = (FFT_N - k) % FFT_N;

	*ar = re[k] + re[j];
	*ai = im[k] - im[j];
	*br = im[k] + im[j];
	*bi = re[j] - re[k];
}

#endif
