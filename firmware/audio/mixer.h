/* mixer.h: several remote talkers summed into one playback frame, with saturation; and
 * one stream crossfaded into another where the box splices them. */
#ifndef IC_MIXER_H
#define IC_MIXER_H

#include <stddef.h>
#include <stdint.h>

/* Frames of at most this many samples (20 ms at 48 kHz). */
#define MIXER_MAX 960

struct mixer {
	int32_t acc[MIXER_MAX];
	size_t n;      /* samples in the frame */
	unsigned srcs; /* sources added since mixer_begin */
};

/* v clipped to the int16 range: the saturation every sum or difference of samples
 * takes (hard clipping, mixer_end's reason). */
static inline int16_t mixer_clip(int32_t v)
{
	return (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
}

/* Start a frame of n samples (n <= MIXER_MAX), all silence. */
void mixer_begin(struct mixer *m, size_t n);
/* Add one source's n samples (the frame's n). */
void mixer_add(struct mixer *m, const int16_t *in);
/* Write the sum, clipped to the int16 range, into out (n samples). */
void mixer_end(const struct mixer *m, int16_t *out);

/* A splice's crossfade, in 48 kHz samples (2.5 ms): long enough that two streams that
 * differ there do not click, short enough that little of either is smeared. */
#define MIXER_SPLICE 120

/* n samples going linearly from `from` to `to` into out (out may be either input):
 * a splice of two streams that differ there, with no click. */
void mixer_xfade(const int16_t *from, const int16_t *to, int16_t *out, size_t n);

#endif
