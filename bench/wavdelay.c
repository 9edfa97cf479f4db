/* wavdelay: how late and how faithfully a talk spurt from one client's capture WAV shows
 * up in another client's playback WAV.
 *
 *   wavdelay IN.wav OUT.wav --offset-ms D [--from S --to S]
 *
 * D is the listener's audio clock start minus the talker's (both clients log theirs), so
 * sample i of IN was "spoken" at talker_t0 + i/48 ms and sample j of OUT "played" at
 * listener_t0 + j/48 ms. It finds the delay with the best normalised cross-correlation of
 * IN[from, to) against OUT (first on 6 kHz envelopes-free decimated audio, then refined
 * at 48 kHz) and prints "delay_ms=... correlation=...". Exit 1 if no match is found. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wav.h"

static int16_t *load(const char *path, size_t *n)
{
	char err[256];
	int16_t *buf;

	if (wav_load(path, &buf, n, err, sizeof(err))) {
		fprintf(stderr, "wavdelay: %s\n", err);
		exit(2);
	}
	return buf;
}

/* Normalised correlation of a[0..n) with b[lag..lag+n) (b zero outside), step k. */
static double corr(const int16_t *a, size_t n, const int16_t *b, size_t bn, long lag,
		   int k)
{
	double ab = 0, aa = 0, bb = 0;

	for (size_t i = 0; i < n; i += (size_t)k) {
		long j = (long)i + lag;
		double y = (j >= 0 && (size_t)j < bn) ? b[j] : 0, x = a[i];

		ab += x * y;
		aa += x * x;
		bb += y * y;
	}
	return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

int main(int argc, char **argv)
{
	double offset_ms = 0, from = 0, to = -1, best = -1;
	size_t in_n, out_n, i0, i1;
	int16_t *in, *out;
	long best_lag = 0, max_lag = 48000; /* up to 1 s of delay */

	if (argc < 3) {
		fprintf(
		    stderr,
		    "usage: wavdelay IN.wav OUT.wav --offset-ms D [--from S --to S]\n");
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--offset-ms"))
			offset_ms = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--from"))
			from = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--to"))
			to = atof(argv[i + 1]);
	}
	in = load(argv[1], &in_n);
	out = load(argv[2], &out_n);
	i0 = (size_t)(from * 48000);
	i1 = to < 0 ? in_n : (size_t)(to * 48000);
	if (i1 > in_n)
		i1 = in_n;
	if (i0 >= i1) {
		fprintf(stderr, "wavdelay: empty range\n");
		return 2;
	}
	/* in sample i lands at out sample i - offset + lag; search lag in [0, 1 s] */
	{
		long base = (long)i0 - (long)llround(offset_ms * 48);

		for (long lag = 0; lag <= max_lag; lag += 8) {
			double c = corr(in + i0, i1 - i0, out, out_n, base + lag, 8);

			if (c > best) {
				best = c;
				best_lag = lag;
			}
		}
		/* the bounds fixed first: best_lag moves inside the loop (all of a silent
		 * OUT correlates 0, each lag as good as the last) */
		long lo = best_lag - 8, hi = best_lag + 8;

		for (long lag = lo; lag <= hi; lag++) {
			double c = corr(in + i0, i1 - i0, out, out_n, base + lag, 1);

			if (lag >= 0 && c >= best) {
				best = c;
				best_lag = lag;
			}
		}
	}
	{
		/* 10 ms log-energy envelopes of IN[i0, i1) and the aligned OUT */
		long base = (long)i0 - (long)llround(offset_ms * 48) + best_lag;
		size_t nb = (i1 - i0) / 480;
		double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, env = 0;

		for (size_t b = 0; b < nb; b++) {
			double ex = 1, ey = 1;

			for (size_t k = 0; k < 480; k++) {
				long j = base + (long)(b * 480 + k);
				double x = in[i0 + b * 480 + k];
				double y = (j >= 0 && (size_t)j < out_n) ? out[j] : 0;

				ex += x * x;
				ey += y * y;
			}
			ex = log(ex);
			ey = log(ey);
			sx += ex;
			sy += ey;
			sxx += ex * ex;
			syy += ey * ey;
			sxy += ex * ey;
		}
		if (nb > 1) {
			double cov = sxy - sx * sy / (double)nb,
			       vx = sxx - sx * sx / (double)nb,
			       vy = syy - sy * sy / (double)nb;

			env = vx > 0 && vy > 0 ? cov / sqrt(vx * vy) : 0;
		}
		{
			double wsum = 0;
			int wn = 0;

			/* 250 ms windows, each re-aligned within +-25 ms of the global
			 * delay */
			for (size_t w0 = i0; w0 + 12000 <= i1; w0 += 12000) {
				long wbase = (long)w0 - (long)llround(offset_ms * 48);
				double wbest = -1, e = 0;

				for (size_t k = 0; k < 12000; k++)
					e += (double)in[w0 + k] * in[w0 + k];
				if (e < 12000.0 * 100 * 100)
					continue; /* a quiet window says nothing */
				for (long lag = best_lag - 1200; lag <= best_lag + 1200;
				     lag += 2) {
					double cw = corr(in + w0, 12000, out, out_n,
							 wbase + lag, 2);

					wbest = cw > wbest ? cw : wbest;
				}
				wsum += wbest;
				wn++;
			}
			printf("delay_ms=%.1f correlation=%.3f envelope=%.3f "
			       "windowed=%.3f\n",
			       best_lag / 48.0, best, env, wn ? wsum / wn : 0.0);
		}
	}
	free(in);
	free(out);
	return best > 0.2 ? 0 : 1;
}
