/* clickmatch.h: the benches' clicks (bench_latency, bench_roomlat, clickdelay): made,
 * found, and the clicks said into a microphone matched to the clicks a speaker played,
 * in order. Said click k is looked for where the delay of the
 * click before it puts it (within half the spacing of the two said clicks either
 * side), so a delay longer than the spacing is measured as it is, not folded into a
 * shorter one, and a click lost on the way is a miss. The first said click fixes the
 * start: it must be heard, and within max samples. */
#ifndef IC_CLICKMATCH_H
#define IC_CLICKMATCH_H

#include <stddef.h>
#include <stdint.h>

#define CLICK_HZ  1500 /* a click: CLICK_MS of a CLICK_HZ tone at CLICK_AMP */
#define CLICK_MS  3
#define CLICK_AMP 20000

/* One click into pcm (n samples at 48 kHz) from sample s0, as much of it as fits. */
void click_put(int16_t *pcm, size_t n, size_t s0);

/* The clicks' onsets in x: n samples taken every stride-th (1, or 2 for one channel of
 * interleaved stereo), each onset the first sample at 30 % of x's loudest, at least
 * gap samples past the one before, into on (at most max, in samples). Returns how
 * many: none in a silent x. */
size_t click_onsets(const int16_t *x, size_t n, size_t stride, size_t gap, long *on,
		    size_t max);

/* said[ns] and heard[nh]: onsets in samples, ascending. delay[k] gets said click k's
 * delay in samples, or -1 when it was not heard. Returns how many were heard, or
 * -ERANGE when no click is heard within max samples after the first said one
 * (nothing heard, or a delay longer than max: the caller says which to suspect). */
int clickmatch(const long *said, size_t ns, const long *heard, size_t nh, long max,
	       long *delay);

/* After a stall of the listener at sample stall: how long until its delay is back. The
 * reference is the median delay of the clicks said before the stall (delay[] as
 * clickmatch gives it, -1 for a miss); the delay is back at the first click said from
 * the stall on that, and the click heard after it, are at most tol over it (a delay that
 * comes back lower, as a stall may leave it, is back too). Returns that
 * click's said onset minus stall (so the clicks' spacing is the resolution), -EINVAL
 * when no click was heard before the stall, or -EAGAIN when it never came back. */
long clickrecovery(const long *said, const long *delay, size_t ns, long stall, long tol);

#endif
