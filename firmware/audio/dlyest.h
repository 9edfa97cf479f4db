/* dlyest.h: where the echo is, found in the signals.
 *
 * What the devices' delays cannot see (an acoustic path that changes, a sound server's
 * queue, a device whose delay is wrong after an xrun) is found here: the whitened
 * microphone against the whitened reference, correlated at 2 kHz over the last
 * DLYEST_WIN samples every DLYEST_EVERY (the lag), then to the sample at 16 kHz. Once
 * two estimates in a row agree, the first places the echo for the filter (home); a
 * later one away from home moves the reference by the difference, so that the filter
 * learnt stays right instead of being learnt again.
 *
 * Indices are the canceller's (aec.c), at 16 kHz: a capture index for the
 * microphone, a reference index for what was written to the speaker, and the offset
 * between them (reference index = capture index + offset). */
#ifndef IC_DLYEST_H
#define IC_DLYEST_H

#include <stdbool.h>
#include <stdint.h>

#include "aec.h"

#define DLYEST_WIN (AEC_RATE / 2) /* 0.5 s */
/* right after an anchor: a shorter window, so a device's delay read a sample off costs
 * the filter as little as can be (it learns the wrong echo while it lasts) */
#define DLYEST_FRESH (AEC_RATE / 8)
#define DLYEST_EVERY (AEC_RATE / 4)
#define DLYEST_CALM  (AEC_RATE / 2) /* while the echo stays home: half the cost */
/* the lags searched, in the filter (reference samples before the anchored one) */
#define DLYEST_LMIN (-(AEC_RATE / 20))
#define DLYEST_LMAX (AEC_RATE / 1000 * AEC_TAIL_MS + AEC_RATE / 20)

/* the reference as the canceller holds it: a ring of len samples, written samples
 * ever written (the last len of them held) */
struct dlyest_ref {
	const int16_t *ring;
	int64_t len, written;
};

struct dlyest;

/* Returns 0 or -ENOMEM; the caller frees it with dlyest_free. */
int dlyest_new(struct dlyest **dp);
void dlyest_free(struct dlyest *d);

/* The microphone's n samples from capture index at on (before cancelling). */
void dlyest_mic(struct dlyest *d, int64_t at, const int16_t *mic, size_t n);

/* n samples from capture index at on that the device dropped unread: silence. */
void dlyest_gap(struct dlyest *d, int64_t at, int64_t n);

/* The canceller anchored again at capture index next (its next sample): no window
 * across the change is trusted, and the next one is short. */
void dlyest_anchored(struct dlyest *d, int64_t next);

/* Called after each frame, captured the next capture index: estimates when one is due
 * and returns how many samples the reference must move (subtracted from the offset),
 * 0 when it stays. */
int64_t dlyest_run(struct dlyest *d, int64_t captured, int64_t offset,
		   const struct dlyest_ref *ref);

#endif
