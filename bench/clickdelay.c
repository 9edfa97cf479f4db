/* clickdelay: mouth to ear from one stereo recording on one clock (left: what the
 * talker's microphone heard, right: what the listener's speaker played), click by click.
 *
 *   clickdelay --make OUT.wav SECONDS EVERY_MS   a click track: a 3 ms 1.5 kHz burst
 *                                               every EVERY_MS, the first after 500 ms
 *   clickdelay REC.wav...                       every click's delay in them, pooled:
 *                                               p50 and p95
 *
 * A click's onset is its first sample at 30 % of the recording's loudest (each channel
 * its own). Said clicks are matched to heard ones in order (bench/clickmatch.h): the
 * first said click must be heard within MAX_DELAY_MS, and each later one is looked for
 * where the delay before it puts it, so a delay longer than the clicks' spacing is
 * measured, not folded into a shorter one. Prints "clicks=N missed=M p50_ms=X
 * p95_ms=Y" last; with CLICKDELAY_EACH=1 in the environment, first each click's time in
 * the recording and its delay ("at 12.345 s: 43.0 ms"), to see a delay recover; with
 * CLICKDELAY_STALL_AT=S (the listener stopped S s into the recording), also
 * "recovery_ms=R": from the stall to the first click said back at no more than 10 ms
 * over the median delay before it, the click after it too (bench/clickmatch.h). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickmatch.h"
#include "wav.h"

#define RATE		48000
#define MAX_DELAY_MS	5000 /* the first click: longer is refused, not guessed */
#define MAX_CLKS	4096
#define RECOVERY_TOL_MS 10 /* issue 22: back within 10 ms of the p50 */

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

		click_put(pcm, n, s0);
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

static double d[MAX_CLKS];
static unsigned nd, missed;

/* The recording's frames into *lr (n of them), or -1 with the reason said. */
static long load(const char *path, int16_t **lr)
{
	FILE *f = fopen(path, "rb");
	char hdr[44];
	long n = -1;

	*lr = NULL;
	if (!f || fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    memcmp(hdr + 36, "data", 4)) {
		fprintf(stderr, "clickdelay: %s: not a plain stereo WAV\n", path);
		goto out;
	}
	fseek(f, 0, SEEK_END);
	n = (ftell(f) - 44) / 4;
	fseek(f, 44, SEEK_SET);
	*lr = malloc((size_t)n * 4 + 4);
	if (!*lr || fread(*lr, 4, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "clickdelay: %s: cannot read it\n", path);
		n = -1;
	}
out:
	if (f)
		fclose(f);
	return n;
}

/* With CLICKDELAY_STALL_AT=S (the listener stalled S seconds into the recording): how
 * long its delay took to come back to RECOVERY_TOL_MS over the median before, or less. */
static void recovery(const long *said, const long *delay, size_t ns)
{
	const char *at = getenv("CLICKDELAY_STALL_AT");
	long r;

	if (!at)
		return;
	r = clickrecovery(said, delay, ns, (long)(atof(at) * RATE),
			  RATE / 1000 * RECOVERY_TOL_MS);
	if (r >= 0)
		printf("recovery_ms=%.0f\n", (double)r * 1000 / RATE);
	else
		printf("recovery_ms=%s\n", r == -EAGAIN ? "never" : "unknown");
}

static int measure(const char *path)
{
	static long said[MAX_CLKS], heard[MAX_CLKS], delay[MAX_CLKS];
	int16_t *lr;
	long n = load(path, &lr);
	size_t ns, nh;
	int e;

	if (n < 0) {
		free(lr);
		return 1;
	}
	/* each channel's clicks, 100 ms apart at least */
	ns = click_onsets(lr, (size_t)n, 2, RATE / 10, said, MAX_CLKS);
	nh = click_onsets(lr + 1, (size_t)n, 2, RATE / 10, heard, MAX_CLKS);
	free(lr);
	e = clickmatch(said, ns, heard, nh, (long)RATE * MAX_DELAY_MS / 1000, delay);
	if (e < 0) {
		fprintf(
		    stderr,
		    "clickdelay: %s: no click heard within %d ms of the first one said "
		    "(nothing reached the speaker, or a longer delay than that)\n",
		    path, MAX_DELAY_MS);
		return 1;
	}
	for (size_t k = 0; k < ns && nd < MAX_CLKS; k++) {
		if (delay[k] < 0)
			missed++;
		else
			d[nd++] = (double)delay[k] * 1000 / RATE;
		if (getenv("CLICKDELAY_EACH") && delay[k] >= 0)
			printf("at %.3f s: %.1f ms\n", (double)said[k] / RATE, d[nd - 1]);
	}
	recovery(said, delay, ns);
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
