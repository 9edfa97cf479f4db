/* audio_alsa.c: the sound-card backend (ALSA). */
#include <alsa/asoundlib.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "log.h"

#define ALSA_RATE	  48000
#define ALSA_CAP_PERIODS  4 /* capture buffer: room for a late loop */
#define ALSA_PLAY_PERIODS 3 /* playback buffer: small, for low delay */
#define ALSA_RETRY_MS	  1000

struct audio_alsa {
	struct audio base;
	char cap_name[128], play_name[128];
	snd_pcm_t *cap, *play;
	uint64_t retry_at;
	bool gone_logged;
	bool clockless; /* e.g. the null plugin: always ready, so the loop's clock paces
			   it */
};

static int setup(snd_pcm_t *pcm, size_t frame, unsigned periods, char *why, size_t whylen)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t period = frame, buffer = frame * periods;
	unsigned rate = ALSA_RATE;
	int e;

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
	if ((e = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (e = snd_pcm_sw_params_set_avail_min(pcm, sw, frame)) < 0 ||
	    (e = snd_pcm_sw_params_set_start_threshold(pcm, sw, frame)) < 0 ||
	    (e = snd_pcm_sw_params(pcm, sw)) < 0) {
		snprintf(why, whylen, "cannot set software parameters: %s",
			 snd_strerror(e));
		return e;
	}
	return 0;
}

static void alsa_shut(struct audio_alsa *a)
{
	if (a->cap)
		snd_pcm_close(a->cap);
	if (a->play)
		snd_pcm_close(a->play);
	a->cap = a->play = NULL;
}

static int alsa_try_open(struct audio_alsa *a, char *err, size_t errlen)
{
	char why[200];
	int16_t silence[960] = {0};
	int e;

	if ((e = snd_pcm_open(&a->cap, a->cap_name, SND_PCM_STREAM_CAPTURE,
			      SND_PCM_NONBLOCK)) < 0) {
		snprintf(err, errlen,
			 "capture device '%s': %s (see arecord -l; set "
			 "capture_device)",
			 a->cap_name, snd_strerror(e));
		a->cap = NULL;
		return e;
	}
	if ((e = setup(a->cap, a->base.frame, ALSA_CAP_PERIODS, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "capture device '%s': %s", a->cap_name, why);
		alsa_shut(a);
		return e;
	}
	if ((e = snd_pcm_open(&a->play, a->play_name, SND_PCM_STREAM_PLAYBACK,
			      SND_PCM_NONBLOCK)) < 0) {
		snprintf(err, errlen,
			 "playback device '%s': %s (see aplay -l; set "
			 "playback_device)",
			 a->play_name, snd_strerror(e));
		a->play = NULL;
		alsa_shut(a);
		return e;
	}
	if ((e = setup(a->play, a->base.frame, ALSA_PLAY_PERIODS, why, sizeof(why))) <
	    0) {
		snprintf(err, errlen, "playback device '%s': %s", a->play_name, why);
		alsa_shut(a);
		return e;
	}
	/* one frame of silence ahead of the first real one, so playback starts without an
	 * underrun; capture starts now */
	snd_pcm_writei(a->play, silence, a->base.frame);
	snd_pcm_start(a->cap);
	/* a real card just started has nothing captured yet; a clock-less plugin is full
	 */
	a->clockless = snd_pcm_avail_update(a->cap) >=
		       (snd_pcm_sframes_t)(a->base.frame * ALSA_CAP_PERIODS);
	return 0;
}

/* A device error: recover an xrun, or note that the card is gone. */
static void alsa_error(struct audio_alsa *a, snd_pcm_t *pcm, int e, const char *what,
		       uint64_t now)
{
	if (e == -EPIPE || e == -ESTRPIPE) {
		if (snd_pcm_recover(pcm, e, 1) == 0) {
			if (pcm == a->cap)
				snd_pcm_start(pcm);
			log_warn("sound card: %s %s, recovered", what,
				 pcm == a->cap ? "overrun" : "underrun");
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

	if (!a->cap) {
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
	n = snd_pcm_avail_update(a->cap);
	if (n < 0) {
		alsa_error(a, a->cap, (int)n, "capture", now_ms);
		return a->cap ? 0 : -1;
	}
	return (int)(n / (snd_pcm_sframes_t)base->frame);
}

static void alsa_read(struct audio *base, int16_t *pcm)
{
	struct audio_alsa *a = (struct audio_alsa *)base;
	snd_pcm_sframes_t n = a->cap ? snd_pcm_readi(a->cap, pcm, base->frame) : 0;

	if (n < 0) {
		alsa_error(a, a->cap, (int)n, "capture", 0);
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

	if (!a->play)
		return 0; /* gone: the frame is dropped, the client keeps running */
	n = snd_pcm_writei(a->play, pcm, base->frame);
	if (n == -EAGAIN)
		return 0; /* the buffer is full: drop this frame rather than block */
	if (n < 0) {
		alsa_error(a, a->play, (int)n, "playback", 0);
		if (a->play) /* after an underrun: this frame still goes out */
			snd_pcm_writei(a->play, pcm, base->frame);
	}
	return 0;
}

static int alsa_close(struct audio *base)
{
	struct audio_alsa *a = (struct audio_alsa *)base;

	if (a->play)
		snd_pcm_drop(a->play);
	alsa_shut(a);
	free(a);
	return 0;
}

static const struct audio_ops alsa_ops = {alsa_avail, alsa_read, alsa_write, alsa_close};

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
