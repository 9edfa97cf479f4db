/* audio.h: where microphone frames come from and speaker frames go: WAV files (files
 * mode, paced by the event loop's clock) or ALSA devices (paced by the sound card). */
#ifndef IC_AUDIO_H
#define IC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

struct audio;

struct audio_ops {
	/* Whole frames ready to read now, or -1 when the loop's clock paces frames (files
	 * mode, or a sound card that is gone). */
	int (*avail)(struct audio *a, uint64_t now_ms);
	void (*read)(struct audio *a, int16_t *pcm); /* one frame; silence if none */
	int (*write)(struct audio *a, const int16_t *pcm);
	int (*close)(struct audio *a);
};

struct audio {
	const struct audio_ops *ops;
	size_t frame;
	uint64_t captured; /* samples that came from the microphone or file */
};

/* Files mode. capture/playback may be NULL (silence in, output discarded). Returns 0, or
 * -EINVAL / -errno with "PATH: what" in err. */
int audio_open_files(struct audio **ap, const char *capture, const char *playback,
		     size_t frame, char *err, size_t errlen);

/* ALSA: 48 kHz mono S16, one period per frame, small buffers. Returns 0, or -errno with
 * "DEVICE: what (what to try)" in err. */
int audio_open_alsa(struct audio **ap, const char *capture, const char *playback,
		    size_t frame, char *err, size_t errlen);

static inline int audio_avail(struct audio *a, uint64_t now_ms)
{
	return a->ops->avail(a, now_ms);
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
/* Close (a playback file gets its header finalised). Returns 0 or -EIO. */
static inline int audio_close(struct audio *a)
{
	return a ? a->ops->close(a) : 0;
}

#endif
