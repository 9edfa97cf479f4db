/* room.c: a seeded synthetic room as an audio backend. */
#include "room.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"

#define ROOM_RATE    48000
#define ROOM_SPS     (ROOM_RATE / 1000) /* samples per ms */
#define ROOM_REFL    200		/* reflections in the tail */
#define ROOM_TAIL_S  0.25		/* the longest reflection after the direct path */
#define ROOM_HIST    (ROOM_RATE * 2)	/* what the speaker played, for the room */
#define ROOM_QUEUE   (ROOM_RATE * 2)	/* each device's queue at most */
#define ROOM_HARMS   12			/* a talker's harmonics */
#define ROOM_MAX_SEC 120

/* A voice-like talker: voiced syllables (a gliding pitch with falling harmonics and a
 * little breath) and unvoiced ones (noise, as fricatives are), in syllables of
 * seeded length and loudness with pauses between. */
struct talker {
	uint32_t rng;
	double phase, f0, glide, amp, level;
	double lp[2]; /* the noise's low-pass: speech has little above 5 kHz */
	bool voiced;
	long left; /* samples left in this syllable (or pause, when amp is 0) */
};

struct room {
	struct audio base;
	struct room_cfg cfg;
	uint32_t rng;
	uint64_t t; /* samples the clock has run */
	int16_t play[ROOM_QUEUE];
	size_t play_head, play_len;
	int16_t cap[ROOM_QUEUE];
	size_t cap_head, cap_len;
	int16_t pend[AEC_MAX_FRAME]; /* cfg.periods: the frame being played, from poff */
	size_t plen, poff;
	float hist[ROOM_HIST]; /* the speaker's output, a ring */
	unsigned refl_at[ROOM_REFL];
	float refl_gain[ROOM_REFL];
	float direct;
	struct talker near;
	bool lost;	     /* the playback queue was lost: an underrun to report */
	size_t drop_left;    /* capture samples still to drop as they come */
	uint64_t drop_due;   /* dropped, counted once the frame read reaches the gap */
	size_t drop_in;	     /* the gap, samples into the capture queue */
	struct room_tap tap; /* a bench's (room_set_tap) */
	bool tapped;
	audio_watch_h *watch;
	void *watch_arg;
	/* for room_run: each captured sample's parts */
	float *echo, *nearrec;
	size_t rec_cap;
};

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static double unit(uint32_t *s) /* [0, 1) */
{
	return (rnd(s) >> 8) / 16777216.0;
}

static double db(double x)
{
	return pow(10.0, x / 20.0);
}

static void talker_init(struct talker *k, uint32_t seed, double level_db)
{
	memset(k, 0, sizeof(*k));
	k->rng = seed ? seed : 1;
	k->level = db(level_db);
}

static float talker_next(struct talker *k)
{
	double s = 0, h;

	if (k->left-- <= 0) {
		bool pause = k->amp > 0 && unit(&k->rng) < 0.3;

		k->left =
		    (long)(ROOM_RATE * ((pause ? 0.08 : 0.12) + unit(&k->rng) * 0.25));
		k->amp = pause ? 0 : 0.5 + unit(&k->rng) * 0.5;
		k->voiced = unit(&k->rng) < 0.7;
		k->f0 = 90 + unit(&k->rng) * 160;
		k->glide = (unit(&k->rng) - 0.5) * 200.0 / ROOM_RATE;
	}
	if (k->amp == 0)
		return 0;
	k->f0 += k->glide;
	if (k->f0 < 70 || k->f0 > 300)
		k->glide = -k->glide;
	k->phase += 2 * M_PI * k->f0 / ROOM_RATE;
	if (k->phase > 2 * M_PI)
		k->phase -= 2 * M_PI;
	for (int i = 1; i <= ROOM_HARMS; i++)
		s += sin(k->phase * i) / i;
	/* breath, or a fricative: noise through two one-pole low-passes at ~5 kHz */
	k->lp[0] += 0.5 * (unit(&k->rng) - 0.5 - k->lp[0]);
	k->lp[1] += 0.5 * (k->lp[0] - k->lp[1]);
	h = k->lp[1] * 3;
	if (!k->voiced)
		return (float)(k->level * k->amp * h * 1.2);
	return (float)(k->level * k->amp * (s * 0.45 + h * 0.3));
}

void room_cfg_default(struct room_cfg *rc, uint32_t seed)
{
	memset(rc, 0, sizeof(*rc));
	rc->seed = seed;
	rc->delay_ms = 50;
	rc->rt60 = 0.3;
	rc->echo_db = -6;
	rc->far_db = -12;
	rc->near_db = -23; /* the echo (-18) is 5 dB over it */
	rc->noise_dbfs = -62;
	rc->play_ms = 40;
	rc->seconds = 8;
	rc->far_to = rc->near_to = rc->seconds * 1000;
}

/* The room's impulse response: the direct path, then ROOM_REFL reflections of random
 * sign decaying by 60 dB in rt60. */
static void room_ir(struct room *r)
{
	double tail = r->cfg.rt60 < ROOM_TAIL_S ? r->cfg.rt60 : ROOM_TAIL_S;

	r->direct = (float)db(r->cfg.echo_db);
	for (int i = 0; i < ROOM_REFL; i++) {
		double at = ROOM_SPS + unit(&r->rng) * tail * ROOM_RATE;
		double g = r->cfg.rt60 > 0
			       ? 0.3 * exp(-6.9 * at / (r->cfg.rt60 * ROOM_RATE))
			       : 0;

		r->refl_at[i] = (unsigned)at;
		r->refl_gain[i] = (float)(r->direct * g * (0.5 + unit(&r->rng) * 0.5) *
					  (rnd(&r->rng) & 1 ? 1 : -1));
	}
}

static float played(const struct room *r, uint64_t back)
{
	return back > r->t || back >= ROOM_HIST ? 0 : r->hist[(r->t - back) % ROOM_HIST];
}

/* One sample of the clock: the speaker plays, the microphone hears. */
static void room_tick(struct room *r)
{
	const struct room_cfg *c = &r->cfg;
	float spk = 0, echo, nr, noise;
	unsigned d = (c->delay_ms + c->hidden_ms) * ROOM_SPS;

	if (c->jump_at_ms && !c->jump_in_queue &&
	    r->t >= (uint64_t)c->jump_at_ms * ROOM_SPS)
		d += c->jump_ms * ROOM_SPS;
	if (c->wander_ms && r->t >= (uint64_t)c->wander_at_ms * ROOM_SPS) {
		uint64_t in = r->t - (uint64_t)c->wander_at_ms * ROOM_SPS;
		uint64_t w = (uint64_t)c->wander_ms * ROOM_SPS;

		d += (unsigned)(in >= ROOM_WANDER_MS * ROOM_SPS
				    ? w
				    : in * w / (ROOM_WANDER_MS * ROOM_SPS));
	}
	if (r->play_len) {
		spk = r->play[r->play_head] / 32768.0f;
		r->play_head = (r->play_head + 1) % ROOM_QUEUE;
		r->play_len--;
	}
	if (c->clip)
		spk = tanhf(2 * spk) / 2;
	r->hist[r->t % ROOM_HIST] = spk;
	if (r->tapped && r->t < r->tap.spk_n)
		r->tap.spk[r->t] = (int16_t)lrintf(spk * 32767.0f);
	echo = r->direct * played(r, d);
	for (int i = 0; i < ROOM_REFL; i++)
		echo += r->refl_gain[i] * played(r, d + r->refl_at[i]);
	nr = talker_next(&r->near);
	if (r->t < (uint64_t)c->near_from * ROOM_SPS ||
	    r->t >= (uint64_t)c->near_to * ROOM_SPS)
		nr = 0;
	if (r->tapped)
		nr = r->tap.near && r->t < r->tap.near_n ? r->tap.near[r->t] / 32768.0f
							 : 0;
	noise = (float)(db(c->noise_dbfs) * 1.732 * (2 * unit(&r->rng) - 1));
	if (r->drop_left) { /* dropped unread: nothing recorded either */
		r->drop_left--;
		if (!r->cfg.drop_hidden && !r->drop_due++)
			r->drop_in = r->cap_len;
	} else if (r->cap_len < ROOM_QUEUE) {
		float m = (echo + nr + noise) * 32767.0f;
		uint64_t k = r->base.captured + r->cap_len; /* its capture index */

		m = m > 32767 ? 32767 : m < -32768 ? -32768 : m;
		r->cap[(r->cap_head + r->cap_len) % ROOM_QUEUE] = (int16_t)lrintf(m);
		r->cap_len++;
		if (k < r->rec_cap) {
			r->echo[k] = echo * 32767.0f;
			r->nearrec[k] = nr * 32767.0f;
		}
	}
	r->t++;
}

static void room_push(struct room *r, const int16_t *pcm, size_t n);

static int room_avail(struct audio *a, uint64_t now_ms)
{
	struct room *r = (struct room *)a;
	size_t hold = r->cfg.cap_ms * ROOM_SPS;

	if (r->cfg.underrun_at && r->t < (uint64_t)r->cfg.underrun_at * ROOM_SPS &&
	    now_ms * ROOM_SPS >= (uint64_t)r->cfg.underrun_at * ROOM_SPS) {
		r->play_len = 0; /* lost, as a stalled loop loses it */
		r->lost = true;
	}
	if (r->cfg.drop_ms && r->t < (uint64_t)r->cfg.drop_at_ms * ROOM_SPS &&
	    now_ms >= r->cfg.drop_at_ms)
		r->drop_left = r->cfg.drop_ms * ROOM_SPS;
	if (r->cfg.jump_at_ms && r->cfg.jump_in_queue &&
	    r->t < (uint64_t)r->cfg.jump_at_ms * ROOM_SPS &&
	    now_ms >= r->cfg.jump_at_ms) {
		room_push(r, NULL, r->cfg.jump_ms * ROOM_SPS); /* the queue grows */
		r->cfg.play_ms += r->cfg.jump_ms;
	}
	while (r->t < now_ms * ROOM_SPS)
		room_tick(r);
	return r->cap_len > hold ? (int)((r->cap_len - hold) / a->frame) : 0;
}

static void room_read(struct audio *a, int16_t *pcm)
{
	struct room *r = (struct room *)a;

	for (size_t i = 0; i < a->frame; i++) {
		pcm[i] = i < r->cap_len ? r->cap[(r->cap_head + i) % ROOM_QUEUE] : 0;
	}
	if (r->cap_len >= a->frame) {
		r->cap_head = (r->cap_head + a->frame) % ROOM_QUEUE;
		r->cap_len -= a->frame;
		a->captured += a->frame;
		if (r->drop_due && r->drop_in < a->frame) { /* as ALSA's counts */
			a->skipped += r->drop_due;
			r->drop_due = 0;
		} else if (r->drop_due)
			r->drop_in -= a->frame;
	}
}

static void room_push(struct room *r, const int16_t *pcm, size_t n)
{
	for (size_t i = 0; i < n && r->play_len < ROOM_QUEUE; i++, r->play_len++)
		r->play[(r->play_head + r->play_len) % ROOM_QUEUE] = pcm ? pcm[i] : 0;
}

/* An underrun noticed: counted, and two frames of silence queued, as the ALSA backend
 * does. */
static void room_recover(struct room *r)
{
	if (!r->lost)
		return;
	r->lost = false;
	r->base.underruns++;
	room_push(r, NULL, 2 * r->base.frame);
}

/* cfg.periods: the device queue topped up to play_ms from the frame being played. */
static void room_top_up(struct room *r)
{
	size_t want = r->cfg.play_ms * ROOM_SPS;

	if (r->play_len < want && r->poff < r->plen) {
		size_t k = want - r->play_len < r->plen - r->poff ? want - r->play_len
								  : r->plen - r->poff;

		room_push(r, r->pend + r->poff, k);
		r->poff += k;
	}
	r->base.pending = r->plen - r->poff;
}

static int room_room(struct audio *a, uint64_t now_ms)
{
	struct room *r = (struct room *)a;
	size_t want = r->cfg.play_ms * ROOM_SPS;

	(void)now_ms;
	room_recover(r);
	if (r->cfg.periods) {
		room_top_up(r);
		return r->poff >= r->plen && r->play_len < want;
	}
	return r->play_len >= want
		   ? 0
		   : (int)((want - r->play_len + a->frame - 1) / a->frame);
}

static int room_write(struct audio *a, const int16_t *pcm)
{
	struct room *r = (struct room *)a;

	room_recover(r);
	if (!r->cfg.periods) {
		room_push(r, pcm, a->frame);
		return 0;
	}
	a->unwritten = r->plen - r->poff;
	memcpy(r->pend, pcm, a->frame * sizeof(*pcm));
	r->plen = a->frame;
	r->poff = 0;
	room_top_up(r);
	return 0;
}

static int room_delays(struct audio *a, long *play, long *cap)
{
	struct room *r = (struct room *)a;

	/* as the ALSA backend's: the device's queue and the rest of the frame in hand */
	*play = (long)(r->play_len + r->plen - r->poff);
	*cap = (long)r->cap_len;
	return 0;
}

static void room_ready(struct audio *a, int fd, int events)
{
	(void)a, (void)fd, (void)events;
}

/* A tapped room's descriptor, watched for reading as a capture handle's is. */
static void room_set_watch(struct audio *a, audio_watch_h *h, void *arg)
{
	struct room *r = (struct room *)a;

	if (!r->tapped || r->tap.fd < 0)
		return;
	if (r->watch)
		r->watch(r->watch_arg, r->tap.fd, 0);
	r->watch = h;
	r->watch_arg = arg;
	if (h)
		h(arg, r->tap.fd, LOOP_READ);
}

void room_talk(uint32_t seed, double level_db, int16_t *pcm, size_t n)
{
	struct talker k;

	talker_init(&k, seed, level_db);
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)lrintf(talker_next(&k) * 32767.0f);
}

void room_set_tap(struct audio *a, const struct room_tap *t)
{
	struct room *r = (struct room *)a;

	r->tap = *t;
	r->tapped = true;
}

static int room_close(struct audio *a)
{
	struct room *r = (struct room *)a;

	if (r) {
		free(r->echo);
		free(r->nearrec);
		free(r);
	}
	return 0;
}

static const struct audio_ops room_ops = {room_avail,	  room_room,  room_ready,
					  room_set_watch, room_read,  room_write,
					  room_close,	  room_delays};

int room_open(struct audio **ap, const struct room_cfg *rc, size_t frame)
{
	struct room *r;

	if (!frame || frame > AEC_MAX_FRAME)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->base.ops = &room_ops;
	r->base.frame = frame;
	r->cfg = *rc;
	r->rng = rc->seed ? rc->seed : 1;
	room_ir(r);
	talker_init(&r->near, rc->seed * 7919u + 17, rc->near_db);
	room_push(r, NULL, rc->play_ms * ROOM_SPS); /* the queue starts full of silence */
	*ap = &r->base;
	return 0;
}

void room_rec_free(struct room_rec *rec)
{
	free(rec->mic);
	free(rec->out);
	free(rec->echo);
	free(rec->near);
	memset(rec, 0, sizeof(*rec));
}

/* One period of the client's card service: capture read and cancelled, then playback
 * topped up, each frame played given to the canceller as it is written. */
static void room_period(struct room *r, struct aec *e, struct talker *far, uint64_t now,
			struct room_rec *rec)
{
	struct audio *a = &r->base;
	int16_t pcm[AEC_MAX_FRAME];
	int n = audio_avail(a, now);
	bool talking = now >= r->cfg.far_from && now < r->cfg.far_to;

	for (int i = 0; i < n; i++) {
		uint64_t k = a->captured;

		audio_read(a, pcm);
		if (k + a->frame <= rec->n)
			memcpy(rec->mic + k, pcm, a->frame * sizeof(*pcm));
		if (e)
			aec_capture_audio(e, a, pcm);
		if (k + a->frame <= rec->n)
			memcpy(rec->out + k, pcm, a->frame * sizeof(*pcm));
	}
	n = audio_room(a, now);
	for (int i = 0; i < n; i++) {
		for (size_t j = 0; j < a->frame; j++) {
			float v = talker_next(far) * 32767.0f;

			pcm[j] = talking ? (int16_t)lrintf(v) : 0;
		}
		audio_write(a, pcm);
		if (e)
			aec_playback(e, pcm);
	}
}

int room_run(const struct room_cfg *rc, size_t frame, bool echo_cancel,
	     struct room_rec *rec)
{
	struct audio *a = NULL;
	struct room *r;
	struct aec *e = NULL;
	struct talker far;
	size_t n =
	    (size_t)(rc->seconds < ROOM_MAX_SEC ? rc->seconds : ROOM_MAX_SEC) * ROOM_RATE;
	unsigned frame_ms = (unsigned)(frame / ROOM_SPS);
	int err = -ENOMEM;

	memset(rec, 0, sizeof(*rec));
	if (frame > AEC_MAX_FRAME || room_open(&a, rc, frame))
		return -ENOMEM;
	r = (struct room *)a;
	r->echo = calloc(n, sizeof(float));
	r->nearrec = calloc(n, sizeof(float));
	rec->mic = calloc(n, sizeof(int16_t));
	rec->out = calloc(n, sizeof(int16_t));
	if (!r->echo || !r->nearrec || !rec->mic || !rec->out ||
	    (echo_cancel && (err = aec_new(&e, frame, false))))
		goto out;
	r->rec_cap = rec->n = n;
	talker_init(&far, rc->seed * 31u + 5, rc->far_db);
	for (uint64_t now = frame_ms; a->captured < n; now += frame_ms)
		room_period(r, e, &far, now, rec);
	rec->echo = r->echo;
	rec->near = r->nearrec;
	r->echo = r->nearrec = NULL;
	if (e) {
		aec_get_stats(e, &rec->st);
		aec_describe(e, rec->settings, sizeof(rec->settings));
	}
	err = 0;
out:
	aec_free(e);
	audio_close(a);
	if (err)
		room_rec_free(rec);
	return err;
}

static double power(const int16_t *x, size_t from, size_t to)
{
	double s = 1e-3; /* a floor: digital silence is not -inf */

	for (size_t i = from; i < to; i++)
		s += (double)x[i] * x[i];
	return s;
}

static void span(const struct room_rec *r, unsigned from_ms, unsigned to_ms, size_t *from,
		 size_t *to)
{
	*from = (size_t)from_ms * ROOM_SPS;
	*to = (size_t)to_ms * ROOM_SPS;
	if (*to > r->n)
		*to = r->n;
	if (*from > *to)
		*from = *to;
}

static double fpower(const float *x, size_t from, size_t to)
{
	double s = 1e-3;

	for (size_t i = from; i < to; i++)
		s += (double)x[i] * x[i];
	return s;
}

/* Over the 50 ms windows where the echo reaches -40 dBFS (20 dB over the microphone's
 * noise): a pause of the far talker measures the noise, not the canceller. */
double room_erle(const struct room_rec *r, unsigned from_ms, unsigned to_ms)
{
	size_t a, b, w = 50 * ROOM_SPS;
	double mic = 1e-3, out = 1e-3, floor = 32767.0 * 32767.0 * 1e-4 * (double)w;

	span(r, from_ms, to_ms, &a, &b);
	for (; a + w <= b; a += w) {
		if (fpower(r->echo, a, a + w) < floor)
			continue;
		mic += power(r->mic, a, a + w);
		out += power(r->out, a, a + w);
	}
	return 10 * log10(mic / out);
}

double room_out_over_mic(const struct room_rec *r, unsigned from_ms, unsigned to_ms)
{
	size_t a, b;

	span(r, from_ms, to_ms, &a, &b);
	return 10 * log10(power(r->out, a, b) / power(r->mic, a, b));
}

long room_time_to(const struct room_rec *r, double dbs, unsigned from_ms, unsigned to_ms)
{
	long found = -1;

	for (unsigned w = from_ms; w + 1000 <= to_ms; w += 250) {
		double e = room_erle(r, w, w + 1000);

		if (e == 0)
			continue; /* no echo to measure in this window */
		if (e < dbs)
			found = -1;
		else if (found < 0)
			found = (long)(w - from_ms);
	}
	return found;
}

double room_near_level(const struct room_rec *r, const struct room_rec *echo_alone,
		       unsigned from_ms, unsigned to_ms)
{
	size_t a, b;
	double out, near;

	span(r, from_ms, to_ms, &a, &b);
	out = power(r->out, a, b);
	near = fpower(r->near, a, b);
	if (echo_alone)
		out -= power(echo_alone->out, a, b);
	return out > 0 ? 10 * log10(out / near) : -99;
}
