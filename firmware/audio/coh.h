/* coh.h: how much of the microphone the echo filter's own estimate explains.
 *
 * The suppressors behind the filter must stand aside while the near end talks, and
 * take what is left of the echo otherwise. By levels alone the two cannot be told
 * apart where the filter has not yet learnt a far talker's new sounds: its residual is
 * then as loud, against the echo it took out, as a near talker under the echo is. But
 * an echo the filter has partly learnt is still, per frequency bin, a linear function
 * of the filter's estimate (the microphone less what the filter left), and a near
 * talker is not. So this weighs the magnitude-squared coherence between the microphone
 * and that estimate over the microphone's power: the share of the microphone that is
 * linear in the echo estimate. The far end alone gives 0.92-0.99 where the filter left
 * a residual as loud as what it took (bench_echo's rooms); a near talker 5 dB under the
 * echo 0.4-0.87. Steady noise at the microphone is not linear in the estimate either:
 * it lowers the share as a near talker does (docs/PERFORMANCE.md: at noise 17 dB under
 * the echo, the suppressors stand aside about as often as with the test by levels). */
#ifndef IC_COH_H
#define IC_COH_H

#include <stdint.h>

/* the block it works at: the canceller's (10 ms at 16 kHz) */
#define COH_BLOCK 160
/* The spectra are smoothed by this much a block: about 20 blocks, 200 ms (a syllable
 * or two), which leaves two unrelated signals 0.03 of coherence by chance. At 0.9 a
 * far talker's new sound (a syllable the filter had not heard) pulled the far end
 * alone to 0.89 (bench_echo, seed 7). */
#define COH_SMOOTH 0.95f

struct coh;

/* Returns 0 or -ENOMEM; the caller frees it with coh_free. */
int coh_new(struct coh **cp);
void coh_free(struct coh *c);

/* One block: y the filter's echo estimate, m the microphone. Returns the share of m's
 * recent power that is linear in y, 0 to 1 (0 while m is silent). */
float coh_block(struct coh *c, const int16_t *y, const int16_t *m);

#endif
