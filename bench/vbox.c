/* vbox.c: a box's engine in virtual time, on a synthetic room (vbox.h). */
#include "vbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "audio.h"
#include "codec.h"
#include "loop.h"

static struct vbox *cur; /* whose loop runs: CLOCK_MONOTONIC is its clock */
/* what the next audio_open_alsa opens (vbox_open sets them) */
static struct room_cfg next_rc;
static struct room_tap next_tap;

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);
int __real_pselect(int n, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *tp,
		   const sigset_t *mask);
int __wrap_pselect(int n, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *tp,
		   const sigset_t *mask);
int __wrap_audio_open_alsa(struct audio **ap, const char *capture, const char *playback,
			   size_t frame, size_t period, char *err, size_t errlen);

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	if (!cur || id != CLOCK_MONOTONIC)
		return __real_clock_gettime(id, ts);
	ts->tv_sec = (time_t)(cur->now / 1000);
	ts->tv_nsec = (long)(cur->now % 1000) * 1000000L;
	return 0;
}

/* The loop's wait: the clock moves to the first of the timeout, the card's next period
 * (its descriptor then ready) and the end of the box's slice (the loop then stops). */
int __wrap_pselect(int n, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *tp,
		   const sigset_t *mask)
{
	struct vbox *b = cur;
	uint64_t to;
	bool watched = false, wake = false;

	if (!b)
		return __real_pselect(n, rd, wr, ex, tp, mask);
	to = b->until;
	if (tp) {
		uint64_t ms =
		    (uint64_t)tp->tv_sec * 1000 + (uint64_t)tp->tv_nsec / 1000000;

		if (b->now + ms < to)
			to = b->now + ms;
	}
	for (int fd = 0; rd && fd < n; fd++)
		watched |= FD_ISSET(fd, rd) != 0;
	if (watched && b->next_wake <= to) {
		to = b->next_wake > b->now ? b->next_wake : b->now;
		wake = true;
		while (b->next_wake <= to)
			b->next_wake += b->period_ms;
	}
	if (to > b->now)
		b->now = to;
	if (wr)
		FD_ZERO(wr);
	if (ex)
		FD_ZERO(ex);
	if (!wake && rd)
		FD_ZERO(rd);
	if (b->now >= b->until)
		loop_stop(b->loop);
	return wake ? 1 : 0; /* only the room's descriptor is watched */
}

int __wrap_audio_open_alsa(struct audio **ap, const char *capture, const char *playback,
			   size_t frame, size_t period, char *err, size_t errlen)
{
	(void)capture, (void)playback, (void)period;
	if (room_open(ap, &next_rc, frame)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	room_set_tap(*ap, &next_tap);
	return 0;
}

static uint32_t rnd(struct vbox_net *n)
{
	n->rng ^= n->rng << 13;
	n->rng ^= n->rng >> 17;
	n->rng ^= n->rng << 5;
	return n->rng;
}

/* The engine's hooks: a hands-free call, each packet on its way to the peer. */
static void on_send(void *arg, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct vbox_net *net = ((struct vbox *)arg)->net;
	struct vbox *to = ((struct vbox *)arg)->peer;
	struct vbox_pkt *p;

	if (to->nin == VBOX_INBOX || len > IC_RTP_MAX)
		return; /* lost, as a full socket buffer loses it */
	p = &to->inbox[to->nin++];
	p->at =
	    now + net->net_ms + (net->jitter_ms ? rnd(net) % (net->jitter_ms + 1) : 0);
	p->seq = net->seq++;
	p->len = len;
	memcpy(p->b, pkt, len);
}

static bool on_talking(void *arg)
{
	(void)arg;
	return true;
}

static void on_heard(void *arg, bool on)
{
	(void)arg, (void)on;
}

void vbox_deliver(struct vbox *b, uint64_t now)
{
	while (b->nin && b->now >= now) {
		size_t k = b->nin;

		for (size_t i = 0; i < b->nin; i++) {
			const struct vbox_pkt *p = &b->inbox[i];

			if (p->at <= now &&
			    (k == b->nin || p->at < b->inbox[k].at ||
			     (p->at == b->inbox[k].at && p->seq < b->inbox[k].seq)))
				k = i;
		}
		if (k == b->nin)
			return;
		if (voice_receive(b->voice, b->inbox[k].b, b->inbox[k].len, now) ==
		    VOICE_RX_START)
			engine_spurt(b->eng);
		b->inbox[k] = b->inbox[--b->nin];
	}
}

void vbox_run(struct vbox *b, uint64_t until)
{
	if (b->stalled || b->now >= until)
		return;
	if (b->now + 1 < until)
		b->now = until - 1;
	b->until = until;
	cur = b;
	loop_run(b->loop, NULL, NULL);
	cur = NULL;
}

void vbox_close(struct vbox *b)
{
	cur = b;
	if (b->eng)
		engine_close(b->eng);
	cur = NULL;
	voice_free(b->voice);
	loop_free(b->loop);
	free(b->inbox);
	if (b->fd >= 0)
		close(b->fd);
}

int vbox_open(struct vbox *b, const struct cfg *f, const struct room_cfg *rc,
	      struct room_tap *tap, uint32_t ssrc, unsigned phase, struct vbox_net *net)
{
	struct codec_cfg cc;
	struct engine_io io = {on_send, on_talking, on_heard, b};
	uint8_t token[IC_TOKEN_LEN] = {(uint8_t)ssrc};
	int e = 0;

	memset(b, 0, sizeof(*b));
	b->net = net;
	b->period_ms = f->period_ms;
	b->now = phase;
	b->next_wake = phase + f->period_ms;
	b->fd = tap->fd = open("/dev/null", O_RDONLY);
	b->inbox = calloc(VBOX_INBOX, sizeof(*b->inbox));
	codec_cfg_default(&cc);
	cc.frame_ms = f->frame_ms;
	cc.bitrate = f->bitrate;
	cc.complexity = f->complexity;
	cc.cbr = f->tls;
	cur = b; /* the loop and the engine read the clock */
	if (b->fd < 0 || !b->inbox || loop_new(&b->loop) || voice_new(&b->voice, &cc)) {
		e = -ENOMEM;
		goto out;
	}
	voice_set_ids(b->voice, ssrc, token);
	next_rc = *rc;
	next_tap = *tap;
	if (engine_open(&b->eng, f, b->loop, b->voice, &io)) {
		b->eng = NULL;
		e = -EIO;
		goto out;
	}
	engine_start(b->eng);
	/* the call is up: both ends play its "connected" beeps (app.c), over which the
	 * far end's first words come */
	engine_tone(b->eng, TONE_CONNECTED);
out:
	cur = NULL;
	return e;
}
