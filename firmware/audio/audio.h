/* audio.h: where microphone frames come from and speaker frames go: WAV files (files
 * mode, paced by the event loop's clock) or ALSA devices (paced by the sound card: the
 * loop waits on the devices' poll descriptors; capture paces what is sent, playback
 * asks for what is played, each on its own clock). */
#ifndef IC_AUDIO_H
#define IC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

struct audio;

/* Called with a descriptor to wait on (events: LOOP_READ | LOOP_WRITE) when a device is
 * opened, and with events 0 before it is closed. */
typedef void(audio_watch_h)(void *arg, int fd, int events);

struct audio_ops {
	/* Whole frames ready to read now, or -1 when the loop's clock paces frames (files
	 * mode, a device with no clock, or a sound card that is gone). */
	int (*avail)(struct audio *a, uint64_t now_ms);
	/* Frames to write now to keep the playback headroom (0 when the loop's clock
	 * paces frames: then one is written per frame read). */
	int (*room)(struct audio *a, uint64_t now_ms);
	/* One of the watched descriptors is ready (events as watched). */
	void (*ready)(struct audio *a, int fd, int events);
	void (*set_watch)(struct audio *a, audio_watch_h *h, void *arg);
	void (*read)(struct audio *a, int16_t *pcm); /* one frame; silence if none */
	int (*write)(struct audio *a, const int16_t *pcm);
	int (*close)(struct audio *a);
	/* The samples queued to play (written, not yet heard) and captured but not yet
	 * read, measured now (snd_pcm_delay on each handle). Returns 0, or -ENODEV when
	 * there is no such clock (files mode, a device gone). */
	int (*delays)(struct audio *a, long *play, long *cap);
};

struct audio {
	const struct audio_ops *ops;
	size_t frame;
	uint64_t captured;	      /* samples that came from the microphone or file */
	uint64_t underruns, overruns; /* xruns, each recovered (and playback refilled) */
	/* the longest the loop left playback without a top-up once capture delivered, in
	 * ms: an underrun after more than the headroom is the machine starving the box */
	uint64_t wait_max_ms;
	/* captured samples dropped unread to catch up (not in captured): the microphone
	 * jumped ahead that far, which the echo canceller must follow */
	uint64_t skipped;
	/* samples of the frame being played that the last audio_write dropped unwritten
	 * (a frame written before the last one was all out: silence cut short for voice
	 * that came due), for the echo canceller's reference */
	size_t unwritten;
	/* samples of the frame being played not written to the device yet: what a write
	 * now would drop (0 where frames are written whole) */
	size_t pending;
};

/* Files mode. capture/playback may be NULL (silence in, output discarded). Returns 0, or
 * -EINVAL / -errno with "PATH: what" in err. */
int audio_open_files(struct audio **ap, const char *capture, const char *playback,
		     size_t frame, char *err, size_t errlen);

/* ALSA: 48 kHz mono S16 in periods of `period` samples (or the nearest the device
 * allows), frames of `frame` samples (at most 960). At every period capture is read
 * and playback topped up to two periods ahead of what plays (snd_pcm_delay), so the
 * sound queued each way is about two periods whatever the frame. Returns 0, or -errno
 * with "DEVICE: what (what to try)" in err. */
int audio_open_alsa(struct audio **ap, const char *capture, const char *playback,
		    size_t frame, size_t period, char *err, size_t errlen);

static inline int audio_avail(struct audio *a, uint64_t now_ms)
{
	return a->ops->avail(a, now_ms);
}
static inline int audio_room(struct audio *a, uint64_t now_ms)
{
	return a->ops->room(a, now_ms);
}
static inline void audio_ready(struct audio *a, int fd, int events)
{
	a->ops->ready(a, fd, events);
}
/* Watch the devices' descriptors through h (at once for those already open). */
static inline void audio_set_watch(struct audio *a, audio_watch_h *h, void *arg)
{
	a->ops->set_watch(a, h, arg);
}
static inline void audio_read(struct audio *a, int16_t *pcm)
{
	a->ops->read(a, pcm);
}
/* Returns 0 or -EIO. */
static inline int audio_write(struct audio *a, const int16_t *pcm)
{
	return a->ops->write(a, pcm);
}
/* The devices' delays now, in samples at 48 kHz, for aligning what was played with
 * what the microphone heard (an echo canceller's reference):
 *   play: samples handed to audio_write that have not been played yet: snd_pcm_delay
 *         of the playback handle plus the rest of the frame the backend still holds
 *         (it writes a frame a period or two at a time);
 *   cap:  samples the capture device has taken in that audio_read has not handed out
 *         yet: snd_pcm_delay of the capture handle plus what the backend holds.
 * A sample written now is heard play samples from now; a sample audio_read hands out
 * now was heard cap samples ago. Returns 0, or -ENODEV (files mode, a clockless device, a
 * card gone or in an xrun: both 0). */
static inline int audio_delays(struct audio *a, long *play, long *cap)
{
	return a->ops->delays(a, play, cap);
}
/* Close (a playback file gets its header finalised). Returns 0 or -EIO. */
static inline int audio_close(struct audio *a)
{
	return a ? a->ops->close(a) : 0;
}

#endif
