/* speech.h: the voice-like test signal the client tests talk with, and how faithfully a
 * listener's playback file reproduces it (through bench/wavdelay). */
#ifndef IC_SPEECH_H
#define IC_SPEECH_H

#include <stddef.h>

#include "harness.h"

/* Write seconds of a voice-like signal (a gliding pitch with a harmonic, in syllables of
 * random length and loudness, so it has one true alignment) to a fresh WAV file; its
 * path goes to path. */
void speech_make(char *path, size_t size, unsigned seconds);

/* wavdelay's verdict on how the listener's OUT matches the talker's IN over [from, to)
 * seconds of the talker's clock: the per-250 ms-window waveform correlation (returned),
 * the delay in *delay and the energy envelopes' correlation in *env. $WAVDELAY names
 * the program. */
double speech_similarity(const char *in, const char *out, const struct proc *talker,
			 const struct proc *ear, const char *from, const char *to,
			 double *delay, double *env);

/* The same for two files whose clocks are offset_ms apart (OUT's start minus IN's). */
double speech_compare(const char *in, const char *out, long long offset_ms,
		      const char *from, const char *to, double *delay, double *env);

#endif
