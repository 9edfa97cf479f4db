/* audio_file.c: the files-mode audio backend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "wav.h"

struct audio_file {
	struct audio base;
	struct wav *cap, *play;
};

static int file_avail(struct audio *a, uint64_t now_ms)
{
	(void)a, (void)now_ms;
	return -1;
}

static void file_read(struct audio *a, int16_t *pcm)
{
	struct audio_file *f = (struct audio_file *)a;
	long n = f->cap ? wav_read(f->cap, pcm, a->frame) : 0;

	if (n < 0)
		n = 0;
	a->captured += (uint64_t)n;
	if ((size_t)n < a->frame) /* after the file: silence, like a quiet microphone */
		memset(pcm + n, 0, (a->frame - (size_t)n) * sizeof(*pcm));
}

static int file_write(struct audio *a, const int16_t *pcm)
{
	struct audio_file *f = (struct audio_file *)a;

	return f->play ? wav_write(f->play, pcm, a->frame) : 0;
}

static int file_close(struct audio *a)
{
	struct audio_file *f = (struct audio_file *)a;
	int r = 0;

	wav_close(f->cap);
	if (f->play)
		r = wav_close(f->play);
	free(f);
	return r;
}

/* Paced by the loop's clock: nothing to wait on, one frame written per frame read. */
static int file_room(struct audio *a, uint64_t now_ms)
{
	(void)a;
	(void)now_ms;
	return 0;
}

static void file_ready(struct audio *a, int fd, int events)
{
	(void)a;
	(void)fd;
	(void)events;
}

static void file_set_watch(struct audio *a, audio_watch_h *h, void *arg)
{
	(void)a;
	(void)h;
	(void)arg;
}

/* A capture file has no speaker in its room: nothing to align. */
static int file_delays(struct audio *a, long *play, long *cap)
{
	(void)a;
	*play = *cap = 0;
	return -ENODEV;
}

static const struct audio_ops file_ops = {file_avail,	  file_room,  file_ready,
					  file_set_watch, file_read,  file_write,
					  file_close,	  file_delays};

int audio_open_files(struct audio **ap, const char *capture, const char *playback,
		     size_t frame, char *err, size_t errlen)
{
	struct audio_file *f = calloc(1, sizeof(*f));
	int e;

	if (!f)
		return -ENOMEM;
	f->base.ops = &file_ops;
	f->base.frame = frame;
	if (capture && (e = wav_open_read(&f->cap, capture, err, errlen)))
		goto fail;
	if (playback && (e = wav_open_write(&f->play, playback, err, errlen)))
		goto fail;
	*ap = &f->base;
	return 0;
fail:
	wav_close(f->cap);
	free(f);
	return e;
}
