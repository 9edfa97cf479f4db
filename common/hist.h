/* hist.h: a fixed histogram of durations in microseconds, for percentiles without
 * allocation: 1 µs steps below 1 ms, 1 ms steps below 1 s, one bucket beyond. */
#ifndef IC_HIST_H
#define IC_HIST_H

#include <stdint.h>

#define HIST_FINE   1000 /* 0..999 µs, one bucket each */
#define HIST_COARSE 1000 /* 1..999 ms, one bucket each */

struct hist {
	uint64_t n;
	uint32_t fine[HIST_FINE];
	uint32_t coarse[HIST_COARSE];
	uint32_t over; /* 1 s or more */
};

/* Start empty (or embed a zeroed struct). */
void hist_init(struct hist *h);
/* Count one duration. */
void hist_add(struct hist *h, uint64_t us);
/* The duration below which a share p (0 to 1) of the counted ones fall, in µs (the top
 * of its bucket); 0 when empty. */
uint64_t hist_pct(const struct hist *h, double p);

#endif
