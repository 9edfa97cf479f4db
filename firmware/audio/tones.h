/* tones.h: the intercom's signal tones, generated in code at 48 kHz. */
#ifndef IC_TONES_H
#define IC_TONES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tone_kind {
	TONE_NONE,
	TONE_RING,	   /* incoming call: repeats until stopped */
	TONE_RINGBACK,	   /* our call is ringing at the other end: repeats */
	TONE_BUSY,	   /* the other end is busy: three beeps */
	TONE_CONNECTED,	   /* call or server connected: two rising beeps */
	TONE_DISCONNECTED, /* call ended or server lost: two falling beeps */
	TONE_PTT,	   /* push-to-talk pressed: one short chirp */
};

struct tone_seg {
	uint16_t f1, f2; /* Hz; 0 = none. Both sound together (dual tone) */
	uint16_t ms;
};

struct tone {
	enum tone_kind kind;
	const struct tone_seg *segs;
	size_t nsegs, seg;
	bool repeat;
	uint32_t pos;	 /* samples into the current segment */
	double ph1, ph2; /* phases, radians */
};

/* Start a tone (TONE_NONE stops). */
void tone_start(struct tone *t, enum tone_kind kind);

/* Add the tone to n samples of pcm (mixed with saturation, so speech under it stays).
 * Returns true while the tone goes on, false once it has ended. */
bool tone_mix(struct tone *t, int16_t *pcm, size_t n);

/* Total length of one cycle of kind in samples (for tests and docs). */
uint32_t tone_cycle_samples(enum tone_kind kind);

const char *tone_name(enum tone_kind kind);

#endif
