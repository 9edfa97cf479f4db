/* audio_alsa.c: the sound-card backend (ALSA). */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "log.h"
#include "loop.h"

#define ALSA_RATE	 48000
#define ALSA_CAP_PERIODS 4 /* capture buffer: room for a late loop */
/* Playback: this many periods queued at least (what plays while the loop is late, or
 * while a frame is being made), one more written when the card asks, and one spare. */
#define ALSA_HEADROOM	  2
#define ALSA_PLAY_PERIODS (ALSA_HEADROOM + 2)
#define ALSA_RETRY_MS	  1000
#define ALSA_MAX_FDS	  4 /* poll descriptors per device (hw: 1; plugins: 1-2) */

struct alsa_dev {
	snd_pcm_t *pcm;
	struct pollfd fds[ALSA_MAX_FDS]; /* capture's, to wait on */
	int nfds;
	snd_pcm_uframes_t buffer;
};

struct audio_alsa {
	struct audio base;
	char cap_name[128], play_name[128];
	struct alsa_dev cap, play;
	uint64_t retry_at;
	bool gone_logged;
	bool clockless; /* e.g. the null plugin: always ready, so the loop's clock paces
			   it */
	audio_watch_h *watch;
	void *warg;
};

/* 48 kHz mono S16 with frame-sized periods. Capture wakes per period (its poll
 * descriptors kept); playback starts once it has ALSA_HEADROOM periods queued. */
static int setup(struct alsa_dev *d, size_t frame, unsigned periods, char *why,
		 size_t whylen)
{
	snd_pcm_t *pcm = d->pcm;
	bool playback = snd_pcm_stream(pcm) == SND_PCM_STREAM_PLAYBACK;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t period = frame, buffer = frame * periods;
	unsigned rate = ALSA_RATE;
	int e, n;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((e = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (e = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) <
		0 ||
	    (e = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (e = snd_pcm_hw_params_set_channels(pcm, hw, 1)) < 0 ||
	    (e = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, NULL)) < 0 ||
	    (e = snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, NULL)) < 0 ||
	    (e = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer)) < 0 ||
	    (e = snd_pcm_hw_params(pcm, hw)) < 0) {
		snprintf(why, whylen,
			 "cannot set 48 kHz mono 16-bit: %s (try the plughw:N,0 "
			 "device, which converts)",
			 snd_strerror(e));
		return e;
	}
	if (rate != ALSA_RATE) {
		snprintf(why, whylen, "runs at %u Hz, not 48000 (try plughw:N,0)", rate);
		return -EINVAL;
	}
	snd_pcm_hw_params_get_buffer_size(hw, &d->buffer);
	if (playback && d->buffer < frame * (ALSA_HEADROOM + 1)) {
		snprintf(why, whylen, "a buffer of %lu samples is too small",
			 (unsigned long)d->buffer);
		return -EINVAL;
	}
	if ((e = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (e = snd_pcm_sw_params_set_avail_min(pcm, sw, frame)) < 0 ||
	    (e = snd_pcm_sw_params_set_start_threshold(
		 pcm, sw, playback ? frame * ALSA_HEADROOM : frame)) < 0 ||
	    (e = snd_pcm_sw_params(pcm, sw)) < 0) {
		snprintf(why, whylen, "cannot set software parameters: %s",
			 snd_strerror(e));
		return e;
	}
	if (playback)
		return 0; /* its descriptors are not waited on (watch_all) */
	n = snd_pcm_poll_descriptors_count(pcm);
	if (n < 0 || n > ALSA_MAX_FDS) {
		snprintf(why, whylen, "%d poll descriptors (at most %d)", n,
			 ALSA_MAX_FDS);
		return -EINVAL;
	}
	d->nfds = snd_pcm_poll_descriptors(pcm, d->fds, (unsigned)n);
	return d->nfds < 0 ? d->nfds : 0;
}

static void watch_dev(struct audio_alsa *a, const struct alsa_dev *d, bool on)
{
	for (int i = 0; a->watch && i < d->nfds; i++) {
		int ev = (d->fds[i].events & POLLIN ? LOOP_READ : 0) |
			 (d->fds[i].events & POLLOUT ? LOOP_WRITE : 0);

		a->watch(a->warg, d->fds[i].fd, on ? ev : 0);
	}
}

/* A clocked capture device's descriptors, to wait on; a clockless one is paced by the
 * loop. Playback's are not waited on: plugins (pulse) report POLLOUT whenever a period
 * is free, whatever avail_min says, which would spin the loop; capture paces playback
 * instead (alsa_room), and an underrun is caught on the next write or room check. */
static void watch_all(struct audio_alsa *a, bool on)
{
	if (a->clockless || !a->cap.pcm || !a->play.pcm)
		return;
	watch_dev(a, &a->cap, on);
}

/* ALSA_HEADROOM periods of silence: at the start, and after every underrun, so that
 * playback runs that far ahead of the loop from then on. */
static void prefill(struct audio_alsa *a)
{
	static const int16_t silence[960 * ALSA_HEADROOM];
	size_t n = a->base.frame * ALSA_HEADROOM;

	if (n <= sizeof(silence) / sizeof(silence[0]))
		snd_pcm_writei(a->play.pcm, silence, n);
}

static void alsa_shut(struct audio_alsa *a)
{
	watch_all(a, false); /* before the descriptors close */
	if (a->cap.pcm)
		snd_pcm_close(a->cap.pcm);
	if (a->play.pcm)
		snd_pcm_close(a->play.pcm);
	a->cap.pcm = a->play.pcm = NULL;
	a->cap.nfds = a->play.nfds = 0;
}

static int open_dev(struct audio_alsa *a, struct alsa_dev *d, bool playback, char *err,
		    size_t errlen)
{
	const char *name = playback ? a->play_name : a->cap_name;
	char why[200];
	int e;

	e = snd_pcm_open(&d->pcm, name,
			 playback ? SND_PCM_STREAM_PLAYBACK : SND_PCM_STREAM_CAPTURE,
			 SND_PCM_NONBLOCK);
	if (e < 0) {
		snprintf(err, errlen, "%s device '%s': %s (see %s -l; set %s_device)",
			 playback ? "playback" : "capture", name, snd_strerror(e),
			 playback ? "aplay" : "arecord",
			 playback ? "playback" : "capture");
		d->pcm = NULL;
		return e;
	}
	e = setup(d, a->base.frame, playback ? ALSA_PLAY_PERIODS : ALSA_CAP_PERIODS, why,
		  sizeof(why));
	if (e < 0)
		snprintf(err, errlen, "%s device '%s': %s",
			 playback ? "playback" : "capture", name, why);
	return e;
}

static int alsa_try_open(struct audio_alsa *a, char *err, size_t errlen)
{
	int e;

	if ((e = open_dev(a, &a->cap, false, err, errlen)) < 0 ||
	    (e = open_dev(a, &a->play, true, err, errlen)) < 0) {
		alsa_shut(a);
		return e;
	}
	prefill(a); /* playback starts at once, ALSA_HEADROOM periods ahead */
	snd_pcm_start(a->cap.pcm);
	/* a real card just started has nothing captured yet; a clock-less plugin is full
	 */
	a->clockless = snd_pcm_avail_update(a->cap.pcm) >=
		       (snd_pcm_sframes_t)(a->base.frame * ALSA_CAP_PERIODS);
	watch_all(a, true);
	return 0;
}

/* A device error: recover an xrun, or note that the card is gone. */
static void alsa_error(struct audio_alsa *a, snd_pcm_t *pcm, int e, const char *what,
		       uint64_t now)
{
	if (e == -EPIPE || e == -ESTRPIPE) {
		if (snd_pcm_recover(pcm, e, 1) == 0) {
			if (pcm == a->cap.pcm) {
				snd_pcm_start(pcm);
				a->base.overruns++;
			} else {
				prefill(a);
				a->base.underruns++;
			}
			/* one line per xrun would flood the log when a loop is starved:
			 * the first few, then the count at exit */
			if (a->base.overruns + a->base.underruns <= 5)
				log_warn("sound card: %s %s, recovered", what,
					 pcm == a->cap.pcm ? "overrun" : "underrun");
			return;
		}
	}
	log_warn("sound card: %s failed (%s); the device is gone? retrying every second",
		 what, snd_strerror(e));
	alsa_shut(a);
	a->retry_at = now + ALSA_RETRY_MS;
	a->gone_logged = true;
}

static int alsa_avail(struct audio *base, uint64_t now_ms)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	snd_pcm_sframes_t n;

	if (!a->cap.pcm) {
		char err[256];

		if (now_ms < a->retry_at)
			return -1;
		if (alsa_try_open(a, err, sizeof(err))) {
			a->retry_at = now_ms + ALSA_RETRY_MS;
			return -1;
		}
		log_info("sound card back: capture '%s', playback '%s'", a->cap_name,
			 a->play_name);
	}
	if (a->clockless)
		return -1;
	n = snd_pcm_avail_update(a->cap.pcm);
	if (n < 0) {
		alsa_error(a, a->cap.pcm, (int)n, "capture", now_ms);
		return a->cap.pcm ? 0 : -1;
	}
	return (int)(n / (snd_pcm_sframes_t)base->frame);
}

static void alsa_read(struct audio *base, int16_t *pcm)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	snd_pcm_sframes_t n =
	    a->cap.pcm ? snd_pcm_readi(a->cap.pcm, pcm, base->frame) : 0;

	if (n < 0) {
		alsa_error(a, a->cap.pcm, (int)n, "capture", 0);
		n = 0;
	}
	base->captured += (uint64_t)n;
	if ((size_t)n < base->frame)
		memset(pcm + n, 0, (base->frame - (size_t)n) * sizeof(*pcm));
}

static int alsa_write(struct audio *base, const int16_t *pcm)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	snd_pcm_sframes_t n;

	if (!a->play.pcm)
		return 0; /* gone: the frame is dropped, the client keeps running */
	n = snd_pcm_writei(a->play.pcm, pcm, base->frame);
	if (n == -EAGAIN)
		return 0; /* the buffer is full: drop this frame rather than block */
	if (n < 0) {
		alsa_error(a, a->play.pcm, (int)n, "playback", 0);
		if (a->play.pcm) /* after an underrun: this frame still goes out */
			snd_pcm_writei(a->play.pcm, pcm, base->frame);
	}
	return 0;
}

/* How many frames to write now, after capture delivered some: enough that
 * ALSA_HEADROOM + 1 periods are queued to play (snd_pcm_delay: what a plugin such as
 * pulse reports truly, where avail does not), at most what fits. Normally one per frame
 * captured; two when playback ran ahead of capture (two devices, two clocks), none when
 * it lags: the jitter buffer then simply plays a frame later. */
static int alsa_room(struct audio *base, uint64_t now_ms)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	snd_pcm_sframes_t avail, delay = 0, want, frame = (snd_pcm_sframes_t)base->frame;

	if (!a->play.pcm || a->clockless)
		return 0;
	avail = snd_pcm_avail_update(a->play.pcm);
	if (avail >= 0 && snd_pcm_delay(a->play.pcm, &delay) < 0)
		avail = -EPIPE;
	if (avail < 0) { /* an underrun: recovered and refilled, or the card is gone */
		alsa_error(a, a->play.pcm, (int)avail, "playback", now_ms);
		return a->play.pcm ? 1 : 0;
	}
	want =
	    (frame * (ALSA_HEADROOM + 1) - (delay > 0 ? delay : 0) + frame - 1) / frame;
	if (want > avail / frame)
		want = avail / frame;
	return want > 0 ? (int)want : 0;
}

/* What poll says, translated by the device (a plugin may need to clear its own
 * descriptor). The level itself is read by alsa_avail and alsa_room. */
static void dev_ready(struct alsa_dev *d, int fd, int events)
{
	struct pollfd p[ALSA_MAX_FDS];
	unsigned short rev;
	bool mine = false;

	for (int i = 0; i < d->nfds; i++) {
		p[i] = d->fds[i];
		p[i].revents = 0;
		if (p[i].fd == fd) {
			p[i].revents = (short)((events & LOOP_READ ? POLLIN : 0) |
					       (events & LOOP_WRITE ? POLLOUT : 0));
			mine = true;
		}
	}
	if (mine)
		snd_pcm_poll_descriptors_revents(d->pcm, p, (unsigned)d->nfds, &rev);
}

static void alsa_ready(struct audio *base, int fd, int events)
{
	struct audio_alsa *a = (struct audio_alsa *)base;

	if (a->cap.pcm)
		dev_ready(&a->cap, fd, events);
}

static void alsa_set_watch(struct audio *base, audio_watch_h *h, void *arg)
{
	struct audio_alsa *a = (struct audio_alsa *)base;

	watch_all(a, false);
	a->watch = h;
	a->warg = arg;
	watch_all(a, true);
}

static int alsa_close(struct audio *base)
{
	struct audio_alsa *a = (struct audio_alsa *)base;

	if (a->play.pcm)
		snd_pcm_drop(a->play.pcm);
	if (base->underruns + base->overruns)
		log_info("sound card: %llu underruns, %llu overruns, each recovered",
			 (unsigned long long)base->underruns,
			 (unsigned long long)base->overruns);
	alsa_shut(a);
	free(a);
	return 0;
}

/* snd_pcm_delay on each handle: what a plugin such as pulse reports truly, its
 * server's queue included where it knows it. */
static int alsa_delays(struct audio *base, long *play, long *cap)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	snd_pcm_sframes_t p = 0, c = 0;

	*play = *cap = 0;
	if (!a->play.pcm || !a->cap.pcm || a->clockless ||
	    snd_pcm_delay(a->play.pcm, &p) < 0 || snd_pcm_delay(a->cap.pcm, &c) < 0)
		return -ENODEV;
	*play = p > 0 ? (long)p : 0;
	*cap = c > 0 ? (long)c : 0;
	return 0;
}

static const struct audio_ops alsa_ops = {alsa_avail,	  alsa_room,  alsa_ready,
					  alsa_set_watch, alsa_read,  alsa_write,
					  alsa_close,	  alsa_delays};

int audio_open_alsa(struct audio **ap, const char *capture, const char *playback,
		    size_t frame, char *err, size_t errlen)
{
	struct audio_alsa *a = calloc(1, sizeof(*a));
	int e;

	if (!a)
		return -ENOMEM;
	a->base.ops = &alsa_ops;
	a->base.frame = frame;
	snprintf(a->cap_name, sizeof(a->cap_name), "%s", capture);
	snprintf(a->play_name, sizeof(a->play_name), "%s", playback);
	e = alsa_try_open(a, err, errlen);
	if (e) {
		free(a);
		return e;
	}
	*ap = &a->base;
	return 0;
}
