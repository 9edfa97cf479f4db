/* audio_file.c: the files-mode audio backend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "wav.h"

struct audio {
	struct wav *cap, *play;
	size_t frame;
	uint64_t captured;
};

int audio_open_files(struct audio **ap, const char *capture, const char *playback,
		     size_t frame, char *err, size_t errlen)
{
	struct audio *a = calloc(1, sizeof(*a));
	int e;

	if (!a)
		return -ENOMEM;
	a->frame = frame;
	if (capture && (e = wav_open_read(&a->cap, capture, err, errlen)))
		goto fail;
	if (playback && (e = wav_open_write(&a->play, playback, err, errlen)))
		goto fail;
	*ap = a;
	return 0;
fail:
	wav_close(a->cap);
	free(a);
	return e;
}

void audio_read(struct audio *a, int16_t *pcm)
{
	long n = a->cap ? wav_read(a->cap, pcm, a->frame) : 0;

	if (n < 0)
		n = 0;
	a->captured += (uint64_t)n;
	if ((size_t)n < a->frame) /* after the file: silence, like a quiet microphone */
		memset(pcm + n, 0, (a->frame - (size_t)n) * sizeof(*pcm));
}

int audio_write(struct audio *a, const int16_t *pcm)
{
	return a->play ? wav_write(a->play, pcm, a->frame) : 0;
}

uint64_t audio_captured(const struct audio *a)
{
	return a->captured;
}

int audio_close(struct audio *a)
{
	int r = 0;

	if (!a)
		return 0;
	wav_close(a->cap);
	if (a->play)
		r = wav_close(a->play);
	free(a);
	return r;
}
