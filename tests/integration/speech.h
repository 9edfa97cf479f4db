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

/* How the listener's OUT matches the talker's IN over [from, to) seconds of the
 * talker's clock, at one delay (speech_compare, with speech_offset). */
double speech_similarity(const char *in, const char *out, const struct proc *talker,
			 const struct proc *ear, const char *from, const char *to,
			 double *delay, double *env);

/* The listener's audio clock start minus the talker's, from their logs (ms). */
long long speech_offset(const struct proc *talker, const struct proc *ear);

/* wavdelay's verdict on how OUT matches IN over [from, to) seconds of IN, for two files
 * whose clocks are offset_ms apart (OUT's start minus IN's), at one delay for the whole
 * range: the per-250 ms-window waveform correlation (returned), the delay in *delay and
 * the energy envelopes' correlation in *env. $WAVDELAY names the program. */
double speech_compare(const char *in, const char *out, long long offset_ms,
		      const char *from, const char *to, double *delay, double *env);

/* The same with [from, to) cut into stretches of about SPEECH_STRETCH_S (at most
 * SPEECH_STRETCHES_MAX), each compared at its own delay: a listener starved for a moment
 * comes back with its jitter buffer grown, and what follows is later, not lost (at one
 * delay for the whole talk, a stall that moved it from 86 to 315 ms scored an envelope
 * of 0.39; stretch by stretch 0.68 where the delay moved, 0.85 to 1.00 elsewhere).
 * Returns the median stretch's waveform correlation, the median envelope correlation in
 * *env and the least delay in *delay: the one stretch a stall fell in does not decide,
 * a fault in every stretch does. SPEECH_STRETCHES=1 in the environment prints each. */
#define SPEECH_STRETCH_S     0.85
#define SPEECH_STRETCHES_MAX 32
double speech_stretches(const char *in, const char *out, long long offset_ms, double from,
			double to, double *delay, double *env);

#endif
