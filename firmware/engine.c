/* engine.c: the box's sound path on its clock (engine.h). */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aec.h"
#include "audio.h"
#include "log.h"
#include "mixer.h"

/* A sound card wakes the loop through its poll descriptors; this timer only notices a
 * card that went quiet or away (then the loop's clock paces frames). */
#define ENGINE_CARD_CHECK_MS 50
/* Frames made at one wakeup at most: enough to refill after a late loop. */
#define ENGINE_PLAY_BURST 4

struct engine {
	struct loop *loop;
	struct voice *voice; /* the client's */
	struct engine_io io;
	struct audio *audio;
	struct aec *aec; /* NULL: echo_cancel = no, or files mode */
	struct tone tone;
	struct tone tone_prev; /* as it was before the frame being played was mixed */
	bool tone_set;	       /* engine_tone since then: tone_prev is not its past */
	struct tmr frame_tmr;
	uint64_t t0, frames;
	uint64_t captured_ms; /* when the card last delivered a frame */
	unsigned frame_ms, period_ms;
	size_t frame;
	uint64_t wakeups; /* the loop's, to show it is not spinning */
	/* the devices' delays (audio_delays) summed once per frame sent, for the log */
	uint64_t play_delay_sum, cap_delay_sum, delay_n;
	bool rx, failed;
	bool tx;	  /* the last frame was sent */
	bool spurt_heard; /* the last talk spurt to start has been played */
	bool quiet;	  /* the frame being written has no voice (play_due may cut it) */
	uint64_t cut_in;  /* frames of voice started before the silence was all out */
	uint64_t moved, moved_samples; /* voice cut short to play closer to its packets */
	int16_t last[CODEC_MAX_FRAME]; /* the frame being played, as written */
};

/* One captured frame: (talking) the speaker's echo cancelled, encoded and sent. The
 * canceller runs whenever the microphone is sent: a hands-free call, and a held
 * push-to-talk too, since the speaker keeps playing the room's other talkers. */
static void capture_frame(struct engine *e, uint64_t now)
{
	int16_t pcm[CODEC_MAX_FRAME];
	uint8_t pkt[IC_RTP_MAX];
	bool talking = e->io.talking(e->io.arg);
	int n;

	audio_read(e->audio, pcm);
	if (e->aec && talking)
		aec_capture_audio(e->aec, e->audio, pcm);
	else if (e->aec)
		aec_skip(e->aec, pcm);
	n = voice_capture(e->voice, pcm, talking, pkt);
	if (n > 0) {
		e->io.send(e->io.arg, pkt, (size_t)n, now);
		if (!e->tx)
			log_debug("voice: a talk spurt's first packet sent at %llu ms",
				  (unsigned long long)now);
	}
	e->tx = n > 0;
}

/* The frame before is cut short by drop samples (play_due, realign): a tone in it goes on
 * from where the speaker stopped playing it, not from where it had been mixed to, so a
 * beep neither skips nor clicks where voice cuts in. A tone the app started or stopped
 * since that frame was mixed stays as the app set it (a ring stopped by an accept). */
static void tone_resume(struct engine *e, size_t drop)
{
	if (!drop || drop > e->frame || e->tone_set)
		return;
	int16_t scratch[CODEC_MAX_FRAME] = {0};

	e->tone = e->tone_prev;
	tone_mix(&e->tone, scratch, e->frame - drop);
}

/* The frame about to cut short the voice still pending of the one before (drop
 * samples): crossfaded from where that voice would have gone on, so the splice does
 * not click. */
static void splice(const struct engine *e, int16_t *pcm, size_t drop)
{
	mixer_xfade(e->last + (e->frame - drop), pcm, pcm,
		    drop < MIXER_SPLICE ? drop : MIXER_SPLICE);
}

/* A frame (heard: somebody is in it) to the speaker, tones on top, and to the
 * canceller as written: less the rest of the frame before it if that was cut short
 * (spliced into it when that rest was voice too). */
static void write_frame(struct engine *e, uint64_t now, int16_t *pcm, bool heard)
{
	size_t drop = e->audio->pending;

	if (heard && !e->spurt_heard) {
		e->spurt_heard = true;
		log_debug("voice: its first frame played at %llu ms",
			  (unsigned long long)now);
	}
	tone_resume(e, drop);
	e->tone_prev = e->tone;
	e->tone_set = false;
	tone_mix(&e->tone, pcm, e->frame);
	if (drop && drop <= e->frame && !e->quiet)
		splice(e, pcm, drop);
	memcpy(e->last, pcm, e->frame * sizeof(*pcm));
	e->audio->unwritten = 0;
	if (audio_write(e->audio, pcm) && !e->failed) {
		log_err("cannot write the playback file (disk full?)");
		e->failed = true;
		loop_stop(e->loop);
	}
	if (e->aec && e->audio->unwritten)
		aec_unwritten(e->aec, e->audio->unwritten);
	if (e->aec) /* the frame as the speaker will play it */
		aec_playback(e->aec, pcm);
	/* nobody: silence, or a tone alone (a call's first words come during its
	 * "connected" beeps; voice cut in there keeps the call's playout a period from
	 * its packets, not up to a frame for the whole call) */
	e->quiet = !heard;
	if (heard != e->rx) {
		e->rx = heard;
		e->io.heard(e->io.arg, heard);
	}
}

/* One frame to play: everybody else mixed, tones on top. */
static void play_frame(struct engine *e, uint64_t now)
{
	int16_t pcm[CODEC_MAX_FRAME];
	bool heard = voice_play(e->voice, now, pcm);

	write_frame(e, now, pcm, heard);
}

/* Playout in periods: while the frame being written has no voice, voice that comes due
 * starts at the next period, the rest of the silence dropped unwritten, rather than
 * when the silence is all out (up to a frame later: 10 ms on average at 20 ms frames).
 * Asking the voice path costs nothing while nobody talks (no frame is due: silence,
 * nothing taken from the jitter buffer). */
static void play_due(struct engine *e, uint64_t now)
{
	int16_t pcm[CODEC_MAX_FRAME];

	if (e->quiet && voice_play(e->voice, now, pcm)) {
		write_frame(e, now, pcm, true);
		e->cut_in++;
	}
}

/* Voice playing, its packets waiting beyond need by less than a packet (what the
 * jitter buffer's drain cannot take out): the rest of this frame is cut, once it is no
 * more than that and at least a period, so playout moves that much closer to the
 * packets. Before the periods due now are written: the next frame is then asked for
 * exactly the rest earlier than it would have been (after them, a period more). */
static void realign(struct engine *e, uint64_t now)
{
	int16_t pcm[CODEC_MAX_FRAME];
	size_t rest = e->audio->pending;

	if (e->quiet || rest < e->period_ms * (CODEC_RATE / 1000) ||
	    rest > voice_excess(e->voice))
		return;
	if (voice_play(e->voice, now, pcm)) {
		write_frame(e, now, pcm, true);
		voice_cut(e->voice, rest);
		e->moved++;
		e->moved_samples += rest;
	}
}

bool engine_service(struct engine *e, uint64_t now)
{
	int avail = audio_avail(e->audio, now);

	if (avail < 0)
		return false;
	if (avail > 0 && !e->captured_ms) /* PulseAudio: up to 2 s */
		log_info("sound card: capture delivering, %llu ms after start",
			 (unsigned long long)(now - e->t0));
	if (avail > 0)
		e->captured_ms = now;
	for (int i = 0; i < avail; i++, e->frames++) {
		long pd, cd;

		if (i == 0 && !audio_delays(e->audio, &pd, &cd) && pd >= 0 && cd >= 0) {
			e->play_delay_sum += (uint64_t)pd;
			e->cap_delay_sum += (uint64_t)cd;
			e->delay_n++;
		}
		capture_frame(e, now);
	}
	realign(e, now);
	for (int i = 0; i < ENGINE_PLAY_BURST && audio_room(e->audio, now) > 0; i++)
		play_frame(e, now);
	play_due(e, now);
	return true;
}

static void card_ready(int fd, int events, void *arg)
{
	struct engine *e = arg;

	audio_ready(e->audio, fd, events);
	engine_service(e, loop_now(e->loop));
}

/* Before each wait: a loop that spins (a descriptor that stays ready) counts here. */
static void count_wakeup(void *arg)
{
	((struct engine *)arg)->wakeups++;
}

static void card_watch(void *arg, int fd, int events)
{
	struct engine *e = arg;

	loop_fd(e->loop, fd, events, card_ready, e);
}

/* The frame clock: a sound card paces frames through its descriptors (this timer only
 * looks in now and then); files mode, or a card that is gone or has no clock, is paced
 * by the loop's clock, a frame captured and one played each period. */
static void frame_timer(void *arg)
{
	struct engine *e = arg;
	uint64_t now = loop_now(e->loop);

	if (engine_service(e, now)) {
		/* while capture delivers nothing (a device still starting: PulseAudio
		 * takes hundreds of ms; or one that stalled), this timer keeps playback
		 * topped up, each period */
		bool quiet = now - e->captured_ms > 2 * e->frame_ms;

		tmr_start(e->loop, &e->frame_tmr,
			  quiet ? e->period_ms : ENGINE_CARD_CHECK_MS, frame_timer, e);
		return;
	}
	/* frame k is complete at t0 + (k + 1) * frame_ms: catch up if the loop was late,
	 * but after a long gap (a card that was gone) start afresh */
	if (e->t0 + (e->frames + 50) * e->frame_ms < now)
		e->frames = (now - e->t0) / e->frame_ms - 1;
	while (e->t0 + (e->frames + 1) * e->frame_ms <= now) {
		capture_frame(e, now);
		play_frame(e, now);
		e->frames++;
	}
	tmr_start(e->loop, &e->frame_tmr, e->t0 + (e->frames + 1) * e->frame_ms - now,
		  frame_timer, e);
}

/* The echo canceller, on a sound card (files mode has no room to echo in). Returns 0
 * or -ENOMEM. */
static int open_aec(struct engine *e)
{
	char d[256];

	if (aec_new(&e->aec, e->frame, false)) {
		log_err("out of memory");
		return -ENOMEM;
	}
	aec_describe(e->aec, d, sizeof(d));
	log_info("echo canceller: %s", d);
	return 0;
}

/* The sound card, or files in files mode. Returns 0 or the exit status (2: a file
 * cannot be used, 1: the card cannot). */
static int open_audio(struct engine *e, const struct cfg *f)
{
	char err[512];

	if (f->capture_file[0] || f->playback_file[0]) {
		int r = audio_open_files(&e->audio,
					 f->capture_file[0] ? f->capture_file : NULL,
					 f->playback_file[0] ? f->playback_file : NULL,
					 e->frame, err, sizeof(err));
		if (r) {
			log_err("%s", err);
			return 2;
		}
	} else {
		int r = audio_open_alsa(&e->audio, f->capture_device, f->playback_device,
					e->frame, CODEC_RATE / 1000 * f->period_ms, err,
					sizeof(err));
		if (r) {
			log_err("%s", err);
			return 1;
		}
		log_info("sound card: capture '%s', playback '%s'", f->capture_device,
			 f->playback_device);
		if (f->echo_cancel && open_aec(e))
			return 1;
	}
	return 0;
}

int engine_open(struct engine **ep, const struct cfg *f, struct loop *loop,
		struct voice *voice, const struct engine_io *io)
{
	struct engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e) {
		log_err("out of memory");
		return 1;
	}
	e->loop = loop;
	e->voice = voice;
	e->io = *io;
	e->frame_ms = f->frame_ms;
	e->period_ms = f->period_ms;
	e->frame = CODEC_RATE / 1000 * f->frame_ms;
	e->spurt_heard = true; /* none yet */
	r = open_audio(e, f);
	if (r) {
		engine_close(e);
		return r;
	}
	*ep = e;
	return 0;
}

void engine_start(struct engine *e)
{
	audio_set_watch(e->audio, card_watch, e);
	loop_set_before_sleep(e->loop, count_wakeup, e);
	e->t0 = loop_now(e->loop);
	log_info("audio clock started at %llu ms (monotonic); %u ms frames",
		 (unsigned long long)e->t0, e->frame_ms);
	tmr_start(e->loop, &e->frame_tmr, e->frame_ms, frame_timer, e);
}

void engine_tone(struct engine *e, enum tone_kind t)
{
	tone_start(&e->tone, t);
	e->tone_set = true;
}

void engine_spurt(struct engine *e)
{
	e->spurt_heard = false;
}

bool engine_failed(const struct engine *e)
{
	return e->failed;
}

/* What the voice path counted. */
static void log_voice_stats(const struct engine *e)
{
	struct voice_stats vs;

	voice_get_stats(e->voice, &vs);
	log_info(
	    "voice: sent %llu, received %llu, frames %llu, fec %llu, concealed %llu, "
	    "late %llu, dropped %llu, keepalives %llu, replayed %llu, forged %llu",
	    (unsigned long long)vs.sent, (unsigned long long)vs.received,
	    (unsigned long long)vs.frames, (unsigned long long)vs.fec,
	    (unsigned long long)vs.plc, (unsigned long long)vs.late,
	    (unsigned long long)vs.dropped, (unsigned long long)vs.keepalives,
	    (unsigned long long)vs.replayed, (unsigned long long)vs.forged);
	log_info(
	    "delay parts: opus look-ahead %.1f ms, jitter buffer hold %.1f ms on average",
	    vs.lookahead_samples / 48.0,
	    vs.frames ? (double)vs.hold_ms_sum / (double)vs.frames : 0.0);
}

/* What the echo canceller did. */
static void log_aec_stats(const struct engine *e)
{
	struct aec_stats st;

	if (!e->aec)
		return;
	aec_get_stats(e->aec, &st);
	log_info("echo canceller: %llu frames cancelled, aligned %llu times (%llu after "
		 "xruns), moved %llu times by the delay estimator, followed %llu capture "
		 "drops, render-to-capture delay %.1f ms last measured; sent direct "
		 "(undelayed) %.1f %% of the time, %llu path changes, %llu of them while "
		 "the near end talked",
		 (unsigned long long)st.frames, (unsigned long long)st.reanchors,
		 (unsigned long long)st.xruns, (unsigned long long)st.moves,
		 (unsigned long long)st.drops, st.delay / 48.0,
		 st.blocks ? 100.0 * (double)st.direct / (double)st.blocks : 0.0,
		 (unsigned long long)st.shifts, (unsigned long long)st.forced);
}

void engine_log_stats(const struct engine *e)
{
	log_voice_stats(e);
	if (e->audio->captured) /* a busy loop shows here (docs/CLIENT.md) */
		log_info(
		    "sound card: the loop woke %llu times in %llu ms of audio captured, "
		    "playback waited %llu ms at most for a top-up; device delays on "
		    "average: playback %.1f ms, capture %.1f ms; voice "
		    "started mid-frame %llu times, moved closer to its packets %llu "
		    "times (%.1f ms in all)",
		    (unsigned long long)e->wakeups,
		    (unsigned long long)(e->audio->captured * 1000 / CODEC_RATE),
		    (unsigned long long)e->audio->wait_max_ms,
		    e->delay_n ? (double)e->play_delay_sum / (double)e->delay_n / 48.0
			       : 0,
		    e->delay_n ? (double)e->cap_delay_sum / (double)e->delay_n / 48.0 : 0,
		    (unsigned long long)e->cut_in, (unsigned long long)e->moved,
		    (double)e->moved_samples / (CODEC_RATE / 1000));
	log_aec_stats(e);
}

int engine_close(struct engine *e)
{
	int r = 0;

	if (!e)
		return 0;
	tmr_cancel(e->loop, &e->frame_tmr);
	if (e->audio)
		audio_set_watch(e->audio, NULL, NULL);
	if (audio_close(e->audio)) {
		log_err("cannot finish the playback file");
		r = -EIO;
	}
	aec_free(e->aec);
	free(e);
	return r;
}
