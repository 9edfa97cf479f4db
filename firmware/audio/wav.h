/* wav.h: 48 kHz mono 16-bit PCM WAV files, read as a microphone and written as a speaker
 * in files mode. Anything else is refused with a message saying what is wrong. */
#ifndef IC_WAV_H
#define IC_WAV_H

#include <stddef.h>
#include <stdint.h>

#define WAV_RATE 48000

struct wav;

/* Open path for reading and check it is 48 kHz mono S16 PCM. Returns 0, or -EINVAL
 * (not that format, or broken) / -errno (cannot open) with "PATH: what" in err. */
int wav_open_read(struct wav **wp, const char *path, char *err, size_t errlen);

/* Create path (truncating it) for writing 48 kHz mono S16. Returns 0 or -errno. */
int wav_open_write(struct wav **wp, const char *path, char *err, size_t errlen);

/* Read up to n samples; returns how many (0 at the end), or -EIO. */
long wav_read(struct wav *w, int16_t *buf, size_t n);

/* Append n samples. Returns 0 or -EIO. */
int wav_write(struct wav *w, const int16_t *buf, size_t n);

/* Samples in the data chunk (for reading: as declared, or up to the end of the file). */
uint64_t wav_samples(const struct wav *w);

/* Close; a written file gets its RIFF and data sizes filled in. Returns 0 or -EIO. */
int wav_close(struct wav *w);

/* Read a whole file into *pcm (allocated; the caller frees it), *n samples. Returns 0,
 * what wav_open_read and wav_read return (with "PATH: what" in err), or -ENOMEM. */
int wav_load(const char *path, int16_t **pcm, size_t *n, char *err, size_t errlen);

/* Write n samples to a new file at path. Returns 0, or what wav_open_write, wav_write
 * and wav_close return (with "PATH: what" in err). */
int wav_save(const char *path, const int16_t *pcm, size_t n, char *err, size_t errlen);

#endif
