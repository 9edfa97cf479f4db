/* clickdelay: mouth to ear from one stereo recording on one clock (left: what the
 * talker's microphone heard, right: what the listener's speaker played), click by click.
 *
 *   clickdelay --make OUT.wav SECONDS EVERY_MS   a click track: a 3 ms 1.5 kHz burst
 *                                               every EVERY_MS, the first after 500 ms
 *   clickdelay REC.wav...                       every click's delay in them, pooled:
 *                                               p50 and p95
 *
 * A click's onset is its first sample at 30 % of the recording's loudest; the heard one
 * is looked for in the 400 ms after the said one. Prints "clicks=N missed=M p50_ms=X
 * p95_ms=Y" last; with CLICKDELAY_EACH=1 in the environment, first each click's time in
 * the recording and its delay ("at 12.345 s: 43.0 ms"), to see a delay recover. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wav.h"

#define RATE	 48000
#define SEARCH	 (RATE * 400 / 1000)
#define MAX_CLKS 4096

static int make(const char *path, double secs, double every_ms)
{
	size_t n = (size_t)(secs * RATE);
	int16_t *pcm = calloc(n, sizeof(*pcm));
	char err[256];
	int e;

	if (!pcm)
		return 1;
	for (double t = 500; t < secs * 1000 - every_ms / 2; t += every_ms) {
		size_t s0 = (size_t)(t * RATE / 1000);

		for (size_t i = 0; i < (size_t)RATE * 3 / 1000 && s0 + i < n; i++)
			pcm[s0 + i] =
			    (int16_t)(20000 * sin(2 * M_PI * 1500.0 * i / RATE));
	}
	e = wav_save(path, pcm, n, err, sizeof(err));
	free(pcm);
	if (e)
		fprintf(stderr, "clickdelay: %s\n", err);
	return e ? 1 : 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The first sample from `from` at or over thr, or -1 before `to`. */
static long onset(const int16_t *s, long from, long to, int thr)
{
	for (long i = from; i < to; i++) {
		if (abs(s[2 * i]) >= thr)
			return i;
	}
	return -1;
}

static double d[MAX_CLKS];
static unsigned nd, missed;

static int measure(const char *path)
{
	FILE *f = fopen(path, "rb");
	char hdr[44];
	int16_t *lr;
	long n, i = 0;
	int peak_l = 0, peak_r = 0;

	if (!f || fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    memcmp(hdr + 36, "data", 4)) {
		fprintf(stderr, "clickdelay: %s: not a plain stereo WAV\n", path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	n = (ftell(f) - 44) / 4;
	fseek(f, 44, SEEK_SET);
	lr = malloc((size_t)n * 4);
	if (!lr || fread(lr, 4, (size_t)n, f) != (size_t)n)
		return 1;
	fclose(f);
	for (long k = 0; k < n; k++) {
		peak_l = abs(lr[2 * k]) > peak_l ? abs(lr[2 * k]) : peak_l;
		peak_r = abs(lr[2 * k + 1]) > peak_r ? abs(lr[2 * k + 1]) : peak_r;
	}
	while (nd < MAX_CLKS && (i = onset(lr, i, n, peak_l * 3 / 10)) >= 0) {
		long j =
		    onset(lr + 1, i, i + SEARCH < n ? i + SEARCH : n, peak_r * 3 / 10);

		if (j < 0)
			missed++;
		else
			d[nd++] = (double)(j - i) * 1000 / RATE;
		if (getenv("CLICKDELAY_EACH") && j >= 0)
			printf("at %.3f s: %.1f ms\n", (double)i / RATE, d[nd - 1]);
		i += RATE / 10; /* past this click */
	}
	free(lr);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--make"))
		return make(argv[2], atof(argv[3]), atof(argv[4]));
	if (argc >= 2 && strcmp(argv[1], "--make")) {
		for (int k = 1; k < argc; k++) {
			if (measure(argv[k]))
				return 1;
		}
		qsort(d, nd, sizeof(d[0]), cmp);
		printf("clicks=%u missed=%u p50_ms=%.1f p95_ms=%.1f\n", nd, missed,
		       nd ? d[nd / 2] : 0.0, nd ? d[nd * 95 / 100] : 0.0);
		return 0;
	}
	fprintf(
	    stderr,
	    "usage: clickdelay --make OUT.wav SECONDS EVERY_MS | clickdelay REC.wav\n");
	return 2;
}
