/* fft.c: the echo path's transform (fft.h). */
#include "fft.h"

#include <math.h>
#include <string.h>

void fft_init(struct fft *f)
{
	for (int i = 0; i < FFT_N; i++)
		f->win[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * (i + 0.5) / FFT_N));
	for (int i = 0, j = 0; i < FFT_N; i++) {
		int bit = FFT_N >> 1;

		f->rev[i] = (uint8_t)j;
		for (; j & bit; bit >>= 1)
			j ^= bit;
		j ^= bit;
	}
	for (int i = 0; i < FFT_N / 2; i++) {
		f->tw_re[i] = (float)cos(2 * M_PI * i / FFT_N);
		f->tw_im[i] = (float)-sin(2 * M_PI * i / FFT_N);
	}
}

void fft_run(const struct fft *f, float *re, float *im)
{
	for (int i = 0; i < FFT_N; i++) {
		int j = f->rev[i];
		float t;

		if (i >= j)
			continue;
		t = re[i], re[i] = re[j], re[j] = t;
		t = im[i], im[i] = im[j], im[j] = t;
	}
	for (int len = 2, step = FFT_N / 2; len <= FFT_N; len <<= 1, step >>= 1)
		for (int i = 0; i < FFT_N; i += len)
			for (int k = 0, h = len / 2; k < h; k++) {
				float wr = f->tw_re[k * step], wi = f->tw_im[k * step];
				float *ar = re + i + k, *ai = im + i + k;
				float br = ar[h] * wr - ai[h] * wi;
				float bi = ar[h] * wi + ai[h] * wr;

				ar[h] = *ar - br, ai[h] = *ai - bi;
				*ar += br, *ai += bi;
			}
}

void fft_push(float *buf, const int16_t *x, int n)
{
	memmove(buf, buf + n, (size_t)(FFT_N - n) * sizeof(*buf));
	for (int i = 0; i < n; i++)
		buf[FFT_N - n + i] = x[i];
}
