/* audio.h: where microphone frames come from and speaker frames go. Files mode reads a
 * WAV as the microphone (then silence) and writes what the speaker would play; its frames
 * are paced by the event loop's clock. */
#ifndef IC_AUDIO_H
#define IC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

struct audio;

/* capture/playback may be NULL (silence in, output discarded). Returns 0, or -EINVAL /
 * -errno with "PATH: what" in err. */
int audio_open_files(struct audio **ap, const char *capture, const char *playback,
		     size_t frame, char *err, size_t errlen);

/* One frame of n = frame samples. */
void audio_read(struct audio *a, int16_t *pcm);
/* Returns 0 or -EIO (the playback file could not be written). */
int audio_write(struct audio *a, const int16_t *pcm);

/* Samples read from the capture file so far (the rest of each frame was silence). */
uint64_t audio_captured(const struct audio *a);

/* Close; a playback file gets its header finalised. Returns 0 or -EIO. */
int audio_close(struct audio *a);

#endif
