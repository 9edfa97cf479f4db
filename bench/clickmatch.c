/* clickmatch.c: the benches' clicks (clickmatch.h). */
#include "clickmatch.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* The heard onset nearest to want within [want - half, want + half), or -1. */
static long nearest(const long *heard, size_t nh, long want, long half)
{
	long best = -1, best_off = 0;

	for (size_t j = 0; j < nh; j++) {
		long off = heard[j] - want;

		if (off < -half)
			continue;
		if (off >= half)
			break;
		if (best < 0 || labs(off) < best_off) {
			best = heard[j];
			best_off = labs(off);
		}
	}
	return best;
}

int clickmatch(const long *said, size_t ns, const long *heard, size_t nh, long max,
	       long *delay)
{
	size_t j = 0;
	long prev;
	int n = 0;

	if (!ns)
		return 0;
	while (j < nh && heard[j] < said[0])
		j++;
	if (j == nh || heard[j] - said[0] > max)
		return -ERANGE;
	prev = delay[0] = heard[j] - said[0];
	n = 1;
	for (size_t k = 1; k < ns; k++) {
		/* half the gap to the nearer said neighbour: a heard click there is
		 * theirs */
		long half = said[k] - said[k - 1];
		long h;

		if (k + 1 < ns && said[k + 1] - said[k] < half)
			half = said[k + 1] - said[k];
		h = nearest(heard, nh, said[k] + prev, half / 2);
		delay[k] = h < 0 ? -1 : h - said[k];
		if (h >= 0) {
			prev = delay[k];
			n++;
		}
	}
	return n;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Heard, and no more than tol over ref (a stall may leave the delay lower: that is
 * back too). */
static int near_ref(long d, long ref, long tol)
{
	return d >= 0 && d <= ref + tol;
}

long clickrecovery(const long *said, const long *delay, size_t ns, long stall, long tol)
{
	long *before = malloc((ns ? ns : 1) * sizeof(*before)), ref;
	size_t nb = 0, k, next;

	if (!before)
		return -ENOMEM;
	for (k = 0; k < ns && said[k] < stall; k++)
		if (delay[k] >= 0)
			before[nb++] = delay[k];
	if (!nb) {
		free(before);
		return -EINVAL;
	}
	qsort(before, nb, sizeof(*before), cmp_long);
	ref = before[nb / 2];
	free(before);
	for (; k < ns; k++) {
		if (!near_ref(delay[k], ref, tol))
			continue;
		for (next = k + 1; next < ns && delay[next] < 0; next++)
			;
		if (next == ns || near_ref(delay[next], ref, tol))
			return said[k] - stall;
	}
	return -EAGAIN;
}

void click_put(int16_t *pcm, size_t n, size_t s0)
{
	for (size_t i = 0; i < (size_t)48 * CLICK_MS && s0 + i < n; i++)
		pcm[s0 + i] =
		    (int16_t)(CLICK_AMP * sin(2 * M_PI * CLICK_HZ * (double)i / 48000.0));
}

size_t click_onsets(const int16_t *x, size_t n, size_t stride, size_t gap, long *on,
		    size_t max)
{
	int peak = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		peak = abs(x[i * stride]) > peak ? abs(x[i * stride]) : peak;
	for (size_t i = 0; peak > 0 && i < n && k < max; i++) {
		if (abs(x[i * stride]) * 10 >= peak * 3) {
			on[k++] = (long)i;
			i += gap;
		}
	}
	return k;
}
