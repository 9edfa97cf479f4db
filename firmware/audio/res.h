/* res.h: a residual echo suppressor that does not lean on the adaptive filter.
 *
 * speexdsp's own suppressor estimates the echo left behind as a share of the filter's
 * echo estimate, so where the filter has learnt nothing yet (the bins a far talker's new
 * pitch excites for the first time) it sees no echo to suppress, and the residual
 * passes. This one models the echo from the reference itself: per band, the reference's
 * power with the room's decay behind it, times the coupling the filter has shown in
 * that band (how loud the echo it took out was, against what was played); what the
 * filter did not take out of that is the residual, and the band is turned down by it.
 * A near talker is kept wherever he is louder than that residual: his bands are not the
 * echo's, or he is over it.
 *
 * Gains are applied by a linear-phase filter built from them each block, so the block
 * comes out RES_DELAY samples late (2 ms at 16 kHz), not a whole block as an
 * overlap-add would make it. With no reference the filter is a pure delay. */
#ifndef IC_RES_H
#define IC_RES_H

#include <stdbool.h>
#include <stdint.h>

/* the rate and the block it works at: the canceller's (aec.h; 10 ms at 16 kHz) */
#define RES_RATE  16000
#define RES_BLOCK (RES_RATE / 100)
/* half the synthesis filter's length: its delay (2 ms); it resolves about a band */
#define RES_DELAY 32
/* the bands it weighs the echo in */
#define RES_BAND_HZ 250
/* The lowest gain. -20 cost a near talker 1.2 dB more than -10 (bench_echo, double
 * talk) while the near-talk test was by levels and missed him; with the test by
 * coherence (aec.c, AEC_NEAR_SHARE) it costs him at most 0.5 dB more, and the far end
 * alone is cancelled 2-26 dB more. */
#define RES_FLOOR_DB (-20)

struct res;

/* Returns 0 or -ENOMEM; the caller frees it with res_free. */
int res_new(struct res **rp);
void res_free(struct res *r);

/* One block: mic as captured, ref the reference the filter was given for it, out the
 * filter's output, replaced by the suppressed block RES_DELAY samples late; near when
 * the near end is judged to talk (nothing is taken off then). */
void res_block(struct res *r, const int16_t *mic, const int16_t *ref, bool near,
	       int16_t *out);

#endif
