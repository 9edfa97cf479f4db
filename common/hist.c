#include "hist.h"

#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_add(struct hist *h, uint64_t us)
{
	h->n++;
	if (us < HIST_FINE)
		h->fine[us]++;
	else if (us / 1000 < HIST_COARSE)
		h->coarse[us / 1000]++;
	else
		h->over++;
}

uint64_t hist_pct(const struct hist *h, double p)
{
	uint64_t want, seen = 0;

	if (!h->n)
		return 0;
	want = (uint64_t)(p * (double)h->n + 0.5);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < HIST_FINE; i++) {
		seen += h->fine[i];
		if (seen >= want)
			return i;
	}
	for (unsigned i = 1; i < HIST_COARSE; i++) {
		seen += h->coarse[i];
		if (seen >= want)
			return (uint64_t)i * 1000 + 999;
	}
	return (uint64_t)HIST_COARSE * 1000;
}
