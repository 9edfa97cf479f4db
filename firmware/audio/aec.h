/* aec.h: the echo canceller: what the speaker played, taken out of what the microphone
 * hears (speexdsp's MDF adaptive filter, our residual echo suppressor (res.h), then
 * speexdsp's preprocessor: residual echo and noise suppression, AGC if asked). It runs at
 * 16 kHz (speech needs no more, and it costs a third of 48 kHz on a Pi), resampling the
 * box's 48 kHz frames in and out.
 *
 * Alignment is what makes or breaks a canceller, so it is measured, not assumed: each
 * frame is remembered as it is written to the device (aec_playback), and each captured
 * frame is matched with what the speaker was playing when it was captured, from the
 * devices' own queues (audio_delays: playback queued + capture waiting). The match is
 * taken once (the anchor) and kept by counting samples, and taken again after every
 * xrun (a device restarted, its queue refilled) and when the measured queues drift a
 * frame away from it. What no device reports (a sound server, a long acoustic path) is
 * covered by the filter's tail, AEC_TAIL_MS.
 *
 * Cancelling delays the microphone by 15.3 ms (the resamplers, the preprocessor's block
 * and the residual echo suppressor's 2 ms filter, res.h); while nothing loud was
 * played within the tail, nor is about to be, the frame goes out as captured instead,
 * undelayed (aecpath.h says when it changes). */
#ifndef IC_AEC_H
#define IC_AEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audio.h"

#define AEC_RATE 16000 /* the canceller's own rate */
/* The adaptive filter's length: the anchor's lead, what no device reports (a sound
 * server's queue, a long acoustic path: 120 ms is met) and the room's reverberation.
 * Longer converges slower (320 ms: 25 dB after up to 5.75 s in bench_echo's rooms). */
#define AEC_TAIL_MS 250
/* The reference is taken this much earlier than measured, so that a delay read a
 * period long (snd_pcm_delay moves by periods) still leaves the echo inside the filter.
 */
#define AEC_LEAD_MS 10
/* What the reference history holds: the longest device queues it can align across. */
#define AEC_HISTORY_MS 2000
#define AEC_MAX_FRAME  2880 /* 60 ms at 48 kHz */

struct aec;

struct aec_stats {
	uint64_t frames;    /* captured frames cancelled */
	uint64_t reanchors; /* the alignment measured again (the first one included) */
	uint64_t xruns;	    /* of those, after a device xrun */
	uint64_t moves; /* the reference moved: the echo found elsewhere in the signals */
	uint64_t
	    drops;  /* capture the device dropped unread, followed (audio's skipped) */
	long delay; /* the render-to-capture delay last measured, 48 kHz samples */
	/* the path sent (aecpath.h): changes, those made while the near end talked,
	 * 10 ms blocks sent direct (undelayed), blocks in all */
	uint64_t shifts, forced, direct, blocks;
};

/* A canceller for frame-sample frames at 48 kHz (a multiple of 10 ms), with AGC on the
 * cleaned signal if agc. Returns 0, -EINVAL (a frame not a multiple of 480 samples)
 * or -ENOMEM; the caller frees it with aec_free. */
int aec_new(struct aec **ap, size_t frame, bool agc);
void aec_free(struct aec *e);

/* The frame as it was just written to the speaker (48 kHz, the frame size given). */
void aec_playback(struct aec *e, const int16_t *pcm);

/* The last n samples (48 kHz) given to aec_playback were not written after all (the
 * rest of a frame of silence, cut short for voice that came due): the reference ends
 * that much earlier, so it stays what the speaker plays. n is at most a frame. */
void aec_unwritten(struct aec *e, size_t n);

/* The frame just read from the microphone, cancelled in place. delay is the
 * render-to-capture delay measured now in 48 kHz samples (what playback holds queued
 * plus what capture holds unread; -1: unknown, keep the anchor) and xruns the devices'
 * xrun count (a change re-anchors). */
void aec_capture(struct aec *e, int16_t *pcm, long delay, uint64_t xruns);

/* A captured frame that is not sent (the microphone closed): only counted, so that the
 * alignment holds when cancelling resumes; the filter keeps what it learnt. */
void aec_skip(struct aec *e, const int16_t *pcm);

/* aec_capture with the delay and xruns measured on a, right after audio_read: what the
 * client does, and what the tests drive. Capture the device dropped unread before
 * this frame (a->skipped) moves the microphone's index on by as much, so the
 * alignment holds through it without measuring again. */
void aec_capture_audio(struct aec *e, struct audio *a, int16_t *pcm);

void aec_get_stats(const struct aec *e, struct aec_stats *st);

/* The settings, for the log and the bench: "speexdsp MDF 16 kHz, tail 320 ms, ...". */
void aec_describe(const struct aec *e, char *buf, size_t len);

#endif
