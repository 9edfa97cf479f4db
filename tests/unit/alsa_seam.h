/* alsa_seam.h: the real ALSA library on its `null` device, with faults and a clock
 * given to it at the seam (link with --wrap=snd_pcm_open, snd_pcm_readi,
 * snd_pcm_writei, snd_pcm_avail_update, snd_pcm_delay): what the tests set, and what
 * the device was given. */
#ifndef IC_ALSA_SEAM_H
#define IC_ALSA_SEAM_H

#include <alsa/asoundlib.h>
#include <stdbool.h>
#include <stdint.h>

extern int fail_opens;	/* the next opens fail: the card is gone */
extern int read_fault;	/* the next read returns this error once */
extern int write_fault; /* the next write returns this error once */
extern int opens, reads_ok, writes_ok;
/* A clocked device, when set: capture has cap_avail samples ready (each read takes
 * them), playback play_delay queued, whatever the null device says. */
extern bool clocked;
extern snd_pcm_sframes_t cap_avail, play_delay;
extern snd_pcm_sframes_t cap_held; /* captured, still in the sound server beyond avail */
extern long written;		   /* samples written to playback */
/* The engine's tests: playback plays what is written, in order (play_delay queued),
 * and where the first sound written lands in what the device has played. */
extern bool queued;
extern long played, sound_at;
/* and, when set, every sample written, at its place in what the device plays */
extern int16_t *trace;
extern long trace_len;

#endif
