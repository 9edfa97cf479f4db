#include "wav.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAV_HDR_LEN	   44
#define WAV_FMT_PCM	   1
#define WAV_FMT_EXTENSIBLE 0xfffe

struct wav {
	FILE *f;
	bool writing;
	uint64_t
	    samples; /* in the data chunk (reading: left to read is samples - done) */
	uint64_t done;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

#define FIX_HINT " (convert it: sox IN.wav -r 48000 -c 1 -b 16 -e signed OUT.wav)"

/* Check the fmt chunk; returns NULL when fine, else what is wrong. */
static const char *check_fmt(const uint8_t *c, uint32_t len, char *why, size_t whylen)
{
	uint16_t fmt, ch, bits;
	uint32_t rate;

	if (len < 16)
		return "fmt chunk too short";
	fmt = le16(c);
	ch = le16(c + 2);
	rate = le32(c + 4);
	bits = le16(c + 14);
	if (fmt == WAV_FMT_EXTENSIBLE && len >= 26)
		fmt = le16(c + 24); /* the sub-format GUID starts with the format code */
	if (fmt != WAV_FMT_PCM) {
		snprintf(why, whylen, "format %u is not integer PCM" FIX_HINT, fmt);
		return why;
	}
	if (ch != 1) {
		snprintf(why, whylen, "%u channels, need mono" FIX_HINT, ch);
		return why;
	}
	if (rate != WAV_RATE) {
		snprintf(why, whylen, "%u Hz, need 48000 Hz" FIX_HINT, (unsigned)rate);
		return why;
	}
	if (bits != 16) {
		snprintf(why, whylen, "%u-bit samples, need 16-bit" FIX_HINT, bits);
		return why;
	}
	return NULL;
}

int wav_open_read(struct wav **wp, const char *path, char *err, size_t errlen)
{
	uint8_t hdr[12], ch[8], fmtbuf[64];
	const char *bad = NULL;
	char why[200];
	bool have_fmt = false;
	struct wav *w;
	FILE *f = fopen(path, "rb");
	int e;

	if (!f) {
		e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) || memcmp(hdr, "RIFF", 4) ||
	    memcmp(hdr + 8, "WAVE", 4)) {
		bad = "not a WAV file (no RIFF/WAVE header)";
		goto fail;
	}
	for (;;) {
		uint32_t len;

		if (fread(ch, 1, sizeof(ch), f) != sizeof(ch)) {
			bad = have_fmt ? "no data chunk" : "no fmt chunk";
			goto fail;
		}
		len = le32(ch + 4);
		if (!memcmp(ch, "fmt ", 4)) {
			uint32_t take = len < sizeof(fmtbuf) ? len : sizeof(fmtbuf);

			if (fread(fmtbuf, 1, take, f) != take) {
				bad = "truncated fmt chunk";
				goto fail;
			}
			bad = check_fmt(fmtbuf, len, why, sizeof(why));
			if (bad)
				goto fail;
			if (fseek(f, (long)(len - take + (len & 1)), SEEK_CUR)) {
				bad = "truncated fmt chunk";
				goto fail;
			}
			have_fmt = true;
		} else if (!memcmp(ch, "data", 4)) {
			if (!have_fmt) {
				bad = "data chunk before the fmt chunk";
				goto fail;
			}
			break;
		} else if (fseek(f, (long)len + (len & 1),
				 SEEK_CUR)) { /* LIST, fact, ... */
			bad = "truncated chunk";
			goto fail;
		}
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	w->f = f;
	/* 0xffffffff (or a size past the end, as streaming writers leave it): read to EOF
	 */
	w->samples = le32(ch + 4) / 2;
	*wp = w;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, bad);
	fclose(f);
	return -EINVAL;
}

int wav_open_write(struct wav **wp, const char *path, char *err, size_t errlen)
{
	uint8_t h[WAV_HDR_LEN] = {0};
	struct wav *w;
	FILE *f = fopen(path, "wb");
	int e;

	if (!f) {
		e = errno;
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(e));
		return -e;
	}
	memcpy(h, "RIFF", 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	put32(h + 16, 16);
	put16(h + 20, WAV_FMT_PCM);
	put16(h + 22, 1);
	put32(h + 24, WAV_RATE);
	put32(h + 28, WAV_RATE * 2);
	put16(h + 32, 2);
	put16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	w = calloc(1, sizeof(*w));
	if (!w || fwrite(h, 1, sizeof(h), f) != sizeof(h)) {
		e = w ? EIO : ENOMEM;
		free(w);
		fclose(f);
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
		return -e;
	}
	w->f = f;
	w->writing = true;
	*wp = w;
	return 0;
}

long wav_read(struct wav *w, int16_t *buf, size_t n)
{
	uint8_t raw[4096];
	size_t got = 0;

	while (got < n && w->done < w->samples) {
		size_t want = n - got, r;

		if (want > sizeof(raw) / 2)
			want = sizeof(raw) / 2;
		if (want > w->samples - w->done)
			want = (size_t)(w->samples - w->done);
		r = fread(raw, 2, want, w->f);
		for (size_t i = 0; i < r; i++)
			buf[got + i] = (int16_t)le16(raw + 2 * i);
		got += r;
		w->done += r;
		if (r < want) {
			if (ferror(w->f))
				return -EIO;
			w->samples = w->done; /* the file ends before its declared size */
			break;
		}
	}
	return (long)got;
}

int wav_write(struct wav *w, const int16_t *buf, size_t n)
{
	uint8_t raw[4096] = {0};

	while (n > 0) {
		size_t k = n > sizeof(raw) / 2 ? sizeof(raw) / 2 : n;

		for (size_t i = 0; i < k; i++)
			put16(raw + 2 * i, (uint16_t)buf[i]);
		if (fwrite(raw, 2, k, w->f) != k)
			return -EIO;
		buf += k;
		n -= k;
		w->samples += k;
	}
	return 0;
}

uint64_t wav_samples(const struct wav *w)
{
	return w->samples;
}

int wav_close(struct wav *w)
{
	int ret = 0;

	if (!w)
		return 0;
	if (w->writing) {
		uint8_t b[4];
		uint64_t bytes = w->samples * 2;
		uint32_t data =
		    bytes > 0xffffffffu - 36 ? 0xffffffffu - 36 : (uint32_t)bytes;

		put32(b, data + 36);
		if (fseek(w->f, 4, SEEK_SET) || fwrite(b, 1, 4, w->f) != 4)
			ret = -EIO;
		put32(b, data);
		if (fseek(w->f, 40, SEEK_SET) || fwrite(b, 1, 4, w->f) != 4)
			ret = -EIO;
	}
	if (fclose(w->f))
		ret = -EIO;
	free(w);
	return ret;
}

int wav_load(const char *path, int16_t **pcm, size_t *n, char *err, size_t errlen)
{
	size_t cap = WAV_RATE, len = 0;
	int16_t *buf;
	struct wav *w;
	long r = 0;
	int e = wav_open_read(&w, path, err, errlen);

	if (e)
		return e;
	buf = malloc(cap * sizeof(*buf));
	while (buf && (r = wav_read(w, buf + len, cap - len)) > 0) {
		len += (size_t)r;
		if (len == cap) {
			int16_t *nb = realloc(buf, 2 * cap * sizeof(*buf));

			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		e = -ENOMEM;
	} else if (r < 0) {
		snprintf(err, errlen, "%s: read error", path);
		e = (int)r;
		free(buf);
	} else {
		*pcm = buf;
		*n = len;
	}
	wav_close(w);
	return e;
}

int wav_save(const char *path, const int16_t *pcm, size_t n, char *err, size_t errlen)
{
	struct wav *w;
	int e = wav_open_write(&w, path, err, errlen);

	if (e)
		return e;
	e = wav_write(w, pcm, n);
	if (wav_close(w) && !e)
		e = -EIO;
	if (e)
		snprintf(err, errlen, "%s: cannot write (disk full?)", path);
	return e;
}
