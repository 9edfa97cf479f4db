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

#define ALSA_RATE 48000
/* Capture buffer: room for a late loop (it adds no delay: all that is there is read at
 * every wakeup). */
#define ALSA_CAP_MS 40
/* Capture that fell behind by more than ALSA_CAP_BEHIND periods (a sound server keeps
 * what a late loop could not take, beyond the ALSA buffer) is skipped down to
 * ALSA_CAP_KEEP: otherwise what is sent stays that late for the rest of the run. */
#define ALSA_CAP_BEHIND 8
#define ALSA_CAP_KEEP	3
/* Playback is kept this many periods ahead of what plays (snd_pcm_delay), topped up at
 * every period: what plays while the loop is late. Each underrun (a loop later than
 * that: a busy machine) adds a period, up to ALSA_HEADROOM_MAX; every ALSA_CALM_MS
 * without one takes a period off again. Until capture delivers (PulseAudio takes up to
 * 2 s, and stalls playback when it does) it is ALSA_HEADROOM_MAX: nobody is heard yet,
 * and what is queued then drains by itself afterwards. */
#define ALSA_HEADROOM	  2
#define ALSA_HEADROOM_MAX 3
#define ALSA_CALM_MS	  5000
#define ALSA_PLAY_PERIODS                                                                \
	(ALSA_HEADROOM_MAX + 2) /* its buffer: one to top up, one spare */
#define ALSA_RING_FRAMES 4	/* captured frames held for the client */
#define ALSA_RETRY_MS	 1000
#define ALSA_MAX_FDS	 4   /* poll descriptors per device (hw: 1; plugins: 1-2) */
#define ALSA_FRAME_MAX	 960 /* 20 ms at 48 kHz */
#define ALSA_PERIOD_MAX	 960

struct alsa_dev {
	snd_pcm_t *pcm;
	struct pollfd fds[ALSA_MAX_FDS]; /* capture's, to wait on */
	int nfds;
	snd_pcm_uframes_t buffer, period;
};

struct audio_alsa {
	struct audio base;
	char cap_name[128], play_name[128];
	struct alsa_dev cap, play;
	size_t period;		    /* asked for; each device's own is in its alsa_dev */
	unsigned headroom;	    /* periods, ALSA_HEADROOM to ALSA_HEADROOM_MAX */
	uint64_t now_ms, calm_from; /* the last service; the last change of headroom */
	/* the last top-up (0: none yet), and how long the loop left playback before it */
	uint64_t served_at, waited;
	uint64_t retry_at;
	bool gone_logged;
	bool clockless; /* e.g. the null plugin: always ready, so the loop's clock paces
			   it */
	audio_watch_h *watch;
	void *warg;
	/* captured, not yet handed out: whole frames are taken from the front */
	int16_t ring[ALSA_FRAME_MAX * ALSA_RING_FRAMES];
	size_t rlen;
	/* the frame being played, not yet written to the device (from pend + poff) */
	int16_t pend[ALSA_FRAME_MAX];
	size_t plen, poff;
	/* capture dropped by cap_catch_up, counted in base.skipped once the frame read
	 * reaches the gap: skip_in samples into the ring (skips before it is read are
	 * counted together, at the first gap) */
	uint64_t skip_due;
	size_t skip_in;
};

/* 48 kHz mono S16 with periods of the asked size, or the nearest the device allows.
 * Capture wakes per period (its poll descriptors kept); playback starts once it has
 * ALSA_HEADROOM periods queued. */
static int setup(struct alsa_dev *d, size_t period, snd_pcm_uframes_t buffer, char *why,
		 size_t whylen)
{
	snd_pcm_t *pcm = d->pcm;
	bool playback = snd_pcm_stream(pcm) == SND_PCM_STREAM_PLAYBACK;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	unsigned rate = ALSA_RATE;
	int e, n;

	d->period = period;
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((e = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (e = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) <
		0 ||
	    (e = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (e = snd_pcm_hw_params_set_channels(pcm, hw, 1)) < 0 ||
	    (e = snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, NULL)) < 0 ||
	    (e = snd_pcm_hw_params_set_period_size_near(pcm, hw, &d->period, NULL)) < 0 ||
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
	snd_pcm_hw_params_get_period_size(hw, &d->period, NULL);
	if (d->period > ALSA_PERIOD_MAX ||
	    (playback && d->buffer < d->period * (ALSA_HEADROOM + 1))) {
		snprintf(why, whylen,
			 "periods of %lu samples in a buffer of %lu do not fit (try "
			 "period_ms = 5 or plughw:N,0)",
			 (unsigned long)d->period, (unsigned long)d->buffer);
		return -EINVAL;
	}
	if ((e = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (e = snd_pcm_sw_params_set_avail_min(pcm, sw, d->period)) < 0 ||
	    (e = snd_pcm_sw_params_set_start_threshold(
		 pcm, sw, playback ? d->period * ALSA_HEADROOM : d->period)) < 0 ||
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

/* The one place where sound is handed to the playback device: n samples of pcm. Returns
 * what snd_pcm_writei returns. */
static snd_pcm_sframes_t play_out(struct audio_alsa *a, const int16_t *pcm, size_t n)
{
	return snd_pcm_writei(a->play.pcm, pcm, n);
}

/* The headroom's periods of silence: at the start, and after every underrun, so that
 * playback runs that far ahead of the loop from then on. */
static void prefill(struct audio_alsa *a)
{
	static const int16_t silence[ALSA_PERIOD_MAX * ALSA_HEADROOM_MAX];

	play_out(a, silence, a->play.period * a->headroom);
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
	e = setup(d, a->period,
		  playback ? a->period * ALSA_PLAY_PERIODS
			   : ALSA_RATE / 1000 * ALSA_CAP_MS,
		  why, sizeof(why));
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
	a->clockless =
	    snd_pcm_avail_update(a->cap.pcm) >= (snd_pcm_sframes_t)a->cap.buffer;
	a->rlen = a->plen = a->poff = a->base.pending = 0;
	a->served_at = 0; /* a card that was gone: its absence is no wait */
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
				if (a->headroom < ALSA_HEADROOM_MAX)
					a->headroom++;
				a->calm_from = a->now_ms;
				prefill(a);
				a->base.underruns++;
			}
			/* one line per xrun would flood the log when a loop is starved:
			 * the first few, then the count at exit */
			if (a->base.overruns + a->base.underruns <= 5)
				log_warn(
				    "sound card: %s %s %.1f s into the audio, "
				    "the loop's last wakeup %llu ms before, recovered",
				    what, pcm == a->cap.pcm ? "overrun" : "underrun",
				    (double)a->base.captured / 48000.0,
				    (unsigned long long)a->waited);
			return;
		}
	}
	log_warn("sound card: %s failed (%s); the device is gone? retrying every second",
		 what, snd_strerror(e));
	alsa_shut(a);
	a->retry_at = now + ALSA_RETRY_MS;
	a->gone_logged = true;
}

/* Reopen a card that went away, once a second. Returns false while it is gone. */
static bool alsa_present(struct audio_alsa *a, uint64_t now_ms)
{
	char err[256];

	if (a->cap.pcm)
		return true;
	if (now_ms < a->retry_at)
		return false;
	if (alsa_try_open(a, err, sizeof(err))) {
		a->retry_at = now_ms + ALSA_RETRY_MS;
		return false;
	}
	log_info("sound card back: capture '%s', playback '%s'", a->cap_name,
		 a->play_name);
	return true;
}

/* Capture behind by more than ALSA_CAP_BEHIND periods (snd_pcm_delay, which counts what
 * the sound server still holds) is read and dropped down to ALSA_CAP_KEEP periods. */
static void cap_catch_up(struct audio_alsa *a)
{
	static int16_t junk[ALSA_PERIOD_MAX];
	snd_pcm_sframes_t d, n, per = (snd_pcm_sframes_t)a->cap.period;

	if (snd_pcm_delay(a->cap.pcm, &d) < 0 || d <= per * ALSA_CAP_BEHIND)
		return;
	while (d > per * ALSA_CAP_KEEP) {
		n = d - per * ALSA_CAP_KEEP < per ? d - per * ALSA_CAP_KEEP : per;
		n = snd_pcm_readi(a->cap.pcm, junk, (snd_pcm_uframes_t)n);
		if (n <= 0)
			break; /* nothing more to take now (or an xrun: the next pull) */
		d -= n;
		if (!a->skip_due)
			a->skip_in = a->rlen;
		a->skip_due += (uint64_t)n;
	}
}

/* Capture, read at every wakeup: all the device holds (up to the ring's room) into the
 * ring, so its descriptor is quiet until the next period. Returns the whole frames
 * complete in the ring. */
static int cap_pull(struct audio_alsa *a, uint64_t now_ms)
{
	size_t room = sizeof(a->ring) / sizeof(a->ring[0]) - a->rlen;
	snd_pcm_sframes_t n = snd_pcm_avail_update(a->cap.pcm);

	if (n > 0 && (size_t)n > room)
		n = (snd_pcm_sframes_t)room; /* the rest waits (an overrun if it must) */
	if (n > 0)
		n = snd_pcm_readi(a->cap.pcm, a->ring + a->rlen, (snd_pcm_uframes_t)n);
	if (n < 0 && n != -EAGAIN) {
		alsa_error(a, a->cap.pcm, (int)n, "capture", now_ms);
		return (int)(a->rlen / a->base.frame);
	}
	if (n > 0) {
		if (!a->base.captured)
			a->calm_from = now_ms; /* the headroom may come down from now */
		a->rlen += (size_t)n;
		a->base.captured += (uint64_t)n;
		cap_catch_up(a);
	}
	return (int)(a->rlen / a->base.frame);
}

static int alsa_avail(struct audio *base, uint64_t now_ms)
{
	struct audio_alsa *a = (struct audio_alsa *)base;

	if (!alsa_present(a, now_ms) || a->clockless)
		return -1;
	return cap_pull(a, now_ms);
}

/* A captured frame is complete: the front of the ring, or (paced by the loop's clock)
 * one read straight from the device. */
static void alsa_read(struct audio *base, int16_t *pcm)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	size_t f = base->frame;
	snd_pcm_sframes_t n = 0;

	if (a->rlen >= f) {
		memcpy(pcm, a->ring, f * sizeof(*pcm));
		a->rlen -= f;
		memmove(a->ring, a->ring + f, a->rlen * sizeof(*pcm));
		if (a->skip_due && a->skip_in < f) { /* this frame is past the gap */
			base->skipped += a->skip_due;
			a->skip_due = 0;
		} else if (a->skip_due)
			a->skip_in -= f;
		return;
	}
	if (a->cap.pcm)
		n = snd_pcm_readi(a->cap.pcm, pcm, f);
	if (n < 0) {
		alsa_error(a, a->cap.pcm, (int)n, "capture", 0);
		n = 0;
	}
	base->captured += (uint64_t)n;
	if ((size_t)n < f)
		memset(pcm + n, 0, (f - (size_t)n) * sizeof(*pcm));
}

/* Samples to write now for the device to hold ALSA_HEADROOM periods (snd_pcm_delay: what
 * a plugin such as pulse reports truly, where avail does not), at most what fits, in
 * whole periods; -1 after an underrun it could not recover (the card is gone). */
static snd_pcm_sframes_t play_need(struct audio_alsa *a, uint64_t now_ms)
{
	snd_pcm_sframes_t avail, delay = 0, want, per = (snd_pcm_sframes_t)a->play.period;

	avail = snd_pcm_avail_update(a->play.pcm);
	if (avail >= 0 && snd_pcm_delay(a->play.pcm, &delay) < 0)
		avail = -EPIPE;
	if (avail < 0) { /* an underrun: recovered and refilled, or the card is gone */
		alsa_error(a, a->play.pcm, (int)avail, "playback", now_ms);
		return a->play.pcm ? 0 : -1;
	}
	if (a->headroom > ALSA_HEADROOM && a->base.captured &&
	    now_ms - a->calm_from >= ALSA_CALM_MS) {
		a->headroom--;
		a->calm_from = now_ms;
	}
	want = per * (snd_pcm_sframes_t)a->headroom - (delay > 0 ? delay : 0);
	want = want > 0 ? (want + per - 1) / per * per : 0;
	return want < avail ? want : avail / per * per;
}

/* Playback topped up from the frame being played. Returns 1 when it needs the next
 * frame to reach its headroom, else 0. */
static int top_up(struct audio_alsa *a, uint64_t now_ms)
{
	snd_pcm_sframes_t want = play_need(a, now_ms), n;

	if (want < 0)
		return 0;
	while (want > 0 && a->poff < a->plen) {
		size_t k =
		    a->plen - a->poff < (size_t)want ? a->plen - a->poff : (size_t)want;

		n = play_out(a, a->pend + a->poff, k);
		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			alsa_error(a, a->play.pcm, (int)n, "playback", now_ms);
			return 0;
		}
		a->poff += (size_t)n;
		want -= n;
	}
	a->base.pending = a->plen - a->poff;
	return want > 0 && a->poff >= a->plen;
}

static int alsa_write(struct audio *base, const int16_t *pcm)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	snd_pcm_sframes_t n;

	if (!a->play.pcm)
		return 0; /* gone: the frame is dropped, the client keeps running */
	if (!a->clockless) {
		/* asked for by alsa_room, or early for voice that came due while silence
		 * plays (the engine): what is left of the last frame is dropped */
		base->unwritten = a->plen - a->poff;
		memcpy(a->pend, pcm, base->frame * sizeof(*pcm));
		a->plen = base->frame;
		a->poff = 0;
		top_up(a, a->now_ms);
		return 0;
	}
	n = play_out(a, pcm, base->frame);
	if (n == -EAGAIN)
		return 0; /* the buffer is full: drop this frame rather than block */
	if (n < 0) {
		alsa_error(a, a->play.pcm, (int)n, "playback", 0);
		if (a->play.pcm) /* after an underrun: this frame still goes out */
			play_out(a, pcm, base->frame);
	}
	return 0;
}

/* Frames to write now (0 or 1): playback is topped up from the frame being played to
 * ALSA_HEADROOM periods, and asks for the next when that one is all written. Called
 * at every wakeup, so the device never holds more than that plus a period. */
static int alsa_room(struct audio *base, uint64_t now_ms)
{
	struct audio_alsa *a = (struct audio_alsa *)base;

	if (!a->play.pcm || a->clockless)
		return 0;
	a->waited = a->served_at ? now_ms - a->served_at : 0;
	if (base->captured && a->waited > base->wait_max_ms)
		base->wait_max_ms = a->waited;
	a->served_at = a->now_ms = now_ms;
	return top_up(a, now_ms);
}

/* snd_pcm_delay on each handle (what a plugin such as pulse reports truly, its
 * server's queue included where it knows it), each plus what the backend holds: the
 * rest of the frame being played, not yet written; the ring, not yet handed out. */
static int alsa_delays(struct audio *base, long *play, long *cap)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	snd_pcm_sframes_t p = 0, c = 0;

	*play = *cap = 0;
	if (!a->play.pcm || !a->cap.pcm || a->clockless ||
	    snd_pcm_delay(a->play.pcm, &p) < 0 || snd_pcm_delay(a->cap.pcm, &c) < 0)
		return -ENODEV;
	*play = (p > 0 ? (long)p : 0) + (long)(a->plen - a->poff);
	*cap = (c > 0 ? (long)c : 0) + (long)a->rlen;
	return 0;
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
		log_info("sound card: %llu underruns, %llu overruns, each recovered; "
			 "playback headroom %u periods of %lu samples at the end",
			 (unsigned long long)base->underruns,
			 (unsigned long long)base->overruns, a->headroom,
			 (unsigned long)a->play.period);
	base->skipped += a->skip_due;
	if (base->skipped)
		log_info(
		    "sound card: %llu ms of capture skipped to catch up (it fell more "
		    "than %d periods behind)",
		    (unsigned long long)(base->skipped * 1000 / ALSA_RATE),
		    ALSA_CAP_BEHIND);
	alsa_shut(a);
	free(a);
	return 0;
}

static const struct audio_ops alsa_ops = {alsa_avail,	  alsa_room,  alsa_ready,
					  alsa_set_watch, alsa_read,  alsa_write,
					  alsa_close,	  alsa_delays};

int audio_open_alsa(struct audio **ap, const char *capture, const char *playback,
		    size_t frame, size_t period, char *err, size_t errlen)
{
	struct audio_alsa *a;
	int e;

	if (frame > ALSA_FRAME_MAX || !frame || !period || period > ALSA_PERIOD_MAX) {
		snprintf(err, errlen,
			 "a frame of %zu and a period of %zu samples (at most %d)", frame,
			 period, ALSA_FRAME_MAX);
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->period = period;
	a->headroom = ALSA_HEADROOM_MAX;
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
