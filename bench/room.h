/* room.h: a synthetic room behind the audio interface, for the echo canceller's tests
 * and bench. What the client writes to the "speaker" waits in a device queue, plays into
 * a seeded room (a delay, a sparse exponentially decaying tail, optional soft clipping
 * of the speaker, microphone noise, a delay jump) and comes back, summed with a near-end
 * talker, as capture, which waits in its own queue. The devices run on a simulated
 * clock advanced by the now_ms the client passes to audio_avail, and report their
 * queues through audio_delays as snd_pcm_delay would: so the client's own delay
 * measurement and re-anchoring are what is tested. */
#ifndef IC_ROOM_H
#define IC_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aec.h"
#include "audio.h"

#define ROOM_WANDER_MS 2000

struct room_cfg {
	uint32_t seed;
	unsigned delay_ms;  /* speaker to microphone, direct path */
	unsigned hidden_ms; /* more delay that no device reports (a sound server) */
	double rt60;	    /* the tail's 60 dB decay, seconds (0: direct path only) */
	double echo_db;	    /* the echo at the microphone, relative to the played level */
	double near_db;	   /* the near talker at the microphone, relative to full scale */
	double far_db;	   /* the far talker, as played, relative to full scale */
	double noise_dbfs; /* microphone noise */
	bool clip;	   /* the speaker soft-clips (tanh) */
	unsigned play_ms;  /* the playback device's queue, kept that full */
	/* playback written as the ALSA backend writes it: the frame being played waits in
	 * the backend and goes to the device as its queue runs down to play_ms, so a
	 * write while some of it waits drops that rest (audio's unwritten: voice cutting
	 * into silence). Off: whole frames queued at once. */
	bool periods;
	unsigned cap_ms;      /* the capture device's queue before the client reads */
	unsigned jump_at_ms;  /* when the acoustic delay jumps (0: never) */
	unsigned jump_ms;     /* by how much it grows */
	bool jump_in_queue;   /* the playback queue grows instead (a sound server's), as
				 audio_delays reports */
	unsigned underrun_at; /* ms: the playback queue is lost (an xrun) and refilled */
	unsigned drop_at_ms;  /* capture drops drop_ms unread from here (a backend that
				 fell behind catching up), counted in audio's skipped */
	unsigned drop_ms;
	unsigned wander_at_ms; /* the acoustic delay grows by wander_ms from here, a
				  sample at a time over ROOM_WANDER_MS (a sound server's
				  loopback settling after an xrun) */
	unsigned wander_ms;
	bool drop_hidden; /* ... or not counted (as the ALSA backend once did) */
	unsigned seconds; /* how long a room_run lasts */
	unsigned far_from, far_to, near_from, near_to; /* ms: who talks when */
};

/* A room like the one the canceller was measured in: echo 5 dB over the near talker,
 * RT60 0.3 s, 50 ms away, -62 dBFS noise, a 40 ms playback queue. */
void room_cfg_default(struct room_cfg *rc, uint32_t seed);

/* Open the room as an audio backend for frame-sample frames (48 kHz, at most
 * AEC_MAX_FRAME). Returns 0, -EINVAL or -ENOMEM; audio_close frees it. */
int room_open(struct audio **ap, const struct room_cfg *rc, size_t frame);

/* A bench's taps on a room from room_open, for driving the client's own engine in it:
 * the near talker replaced by near[k] at the clock's sample k (silence past near_n, or
 * with near NULL), what the speaker plays kept as spk[k] (the first spk_n samples), and
 * fd (>= 0; -1: none) handed to the watcher given through audio_set_watch as a card
 * hands its poll descriptor: the bench that drives the loop says when it is ready. The
 * buffers are borrowed for the room's life. */
struct room_tap {
	const int16_t *near;
	size_t near_n;
	int16_t *spk;
	size_t spk_n;
	int fd;
};
void room_set_tap(struct audio *a, const struct room_tap *t);

/* n samples (48 kHz) of the rooms' voice-like talker (seeded) at level_db, into pcm. */
void room_talk(uint32_t seed, double level_db, int16_t *pcm, size_t n);

/* What one run recorded, 48 kHz, one sample per captured sample: the microphone as
 * captured, its echo and near-talker parts alone, and what the canceller made of it. */
struct room_rec {
	size_t n;
	int16_t *mic, *out;
	float *echo, *near;
	struct aec_stats st;
	char settings[512];
};

/* Run the room for rc->seconds as the client drives a clocked card (capture read,
 * cancelled with aec_capture_audio, playback topped up and given to aec_playback), with
 * the canceller (echo_cancel) or without. Returns 0 or -ENOMEM; room_rec_free frees. */
int room_run(const struct room_cfg *rc, size_t frame, bool echo_cancel,
	     struct room_rec *rec);
void room_rec_free(struct room_rec *rec);

/* Figures over [from_ms, to_ms) of a run. */
double room_erle(const struct room_rec *r, unsigned from_ms, unsigned to_ms);
/* The first time (ms after from_ms) from which every 1 s window (in 250 ms steps) up to
 * to_ms has ERLE >= db; -1 if none. */
long room_time_to(const struct room_rec *r, double db, unsigned from_ms, unsigned to_ms);
/* The near talker's level in the output relative to its level at the microphone (dB; 0:
 * untouched): the output's power, less the output's power in echo_alone (a run of the
 * same room without the near talker: what is left of the echo), over the near talker's.
 * echo_alone may be NULL (no far end). */
double room_near_level(const struct room_rec *r, const struct room_rec *echo_alone,
		       unsigned from_ms, unsigned to_ms);
/* Power of out over power of mic (dB). */
double room_out_over_mic(const struct room_rec *r, unsigned from_ms, unsigned to_ms);

#endif
