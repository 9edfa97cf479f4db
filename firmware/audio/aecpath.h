/* aecpath.h: which of the canceller's two outputs the box sends, block by block.
 *
 * Cancelling costs the microphone a steady delay: the two 48<->16 kHz resamplers and
 * speexdsp's preprocessor, which hands each block back one block late, and the
 * residual echo suppressor's filter (15 ms in all).
 * That delay buys nothing while no echo can be heard: nothing loud was played within
 * the filter's tail, and nothing loud is about to be. So the box sends the microphone
 * as captured (the direct path: 48 kHz, undelayed) until the far end's sound is about
 * to reach the speaker, and the cancelled path from then until the far end has been
 * quiet for the filter's tail. Each change moves the microphone's timing by the
 * delay, repeating or leaving out that much of it, so it is made where the near end
 * is quiet (that much of its noise, unheard); only when the echo is already due and
 * the near end talks (a far talker starting over the near one) is it made at once,
 * over a short crossfade.
 *
 * A pure state machine: the canceller passes each block's facts in, it answers the
 * path, and aecpath_mix makes the block from the two outputs. */
#ifndef IC_AECPATH_H
#define IC_AECPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Near-quiet blocks in a row a change waits for: the block it is made in and the
 * two before it, which hold what a change repeats or leaves out (15 ms). */
#define AECPATH_QUIET_RUN 3

struct aec_path {
	bool cancel;	 /* the cancelled path is the one sent */
	unsigned run;	 /* near-quiet blocks in a row */
	double floor;	 /* the microphone's noise floor, mean square */
	uint64_t shifts; /* changes of path */
	uint64_t forced; /* of those, made while the near end talked */
	uint64_t direct; /* blocks sent on the direct path */
};

/* The state at the start: the direct path (nothing played yet). */
void aecpath_init(struct aec_path *p);

/* The path for the next block: echo_now when an echo may be in it (a loud reference
 * block within the filter's tail), echo_soon when the reference ahead of it is loud,
 * mic_ms the microphone's mean square over it. Returns +1 when the block changes to
 * the cancelled path, -1 to the direct one, 0 when it stays on p->cancel's. */
int aecpath_step(struct aec_path *p, bool echo_now, bool echo_soon, double mic_ms);

/* A frame of blocks 48 kHz blocks of n samples each, made in place in pcm (the
 * cancelled path) from it and direct: block k the cancelled one if cancel[k] (the path
 * aecpath_step left for it), else the direct one, crossfaded from the other path over
 * MIXER_SPLICE samples when change[k] (aecpath_step's answer) is not 0. */
void aecpath_mix(const bool *cancel, const int *change, size_t blocks, size_t n,
		 const int16_t *direct, int16_t *pcm);

#endif
