/* engine.h: the box's sound path on its clock: each captured frame (echo cancelled)
 * encoded and sent the moment it is complete, playback topped up every period from the
 * voice heard and the tones, paced by the sound card's own descriptors (or, in files
 * mode and with a card that has no clock, by the loop's timer). The client's lifecycle
 * (server, buttons, app) stays in client.c and reaches the engine through these calls
 * and the hooks in engine_io. */
#ifndef IC_ENGINE_H
#define IC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "loop.h"
#include "tones.h"
#include "voice.h"

/* What the engine asks of the client; each called with arg. */
struct engine_io {
	/* A voice packet to send now. */
	void (*send)(void *arg, const uint8_t *pkt, size_t len, uint64_t now);
	/* Whether the microphone is sent now (push-to-talk held, a hands-free call). */
	bool (*talking)(void *arg);
	/* Somebody is heard in what plays from now (true), or nobody any more. */
	void (*heard)(void *arg, bool on);
	void *arg;
};

struct engine;

/* The sound card, or the files of files mode, as f says, with the echo canceller where
 * it asks for one; voice (the caller's, borrowed) encodes and decodes. Returns 0 or the
 * exit status (2: a file cannot be used, 1: the card cannot, or out of memory); the
 * caller frees it with engine_close. */
int engine_open(struct engine **ep, const struct cfg *f, struct loop *loop,
		struct voice *voice, const struct engine_io *io);

/* The audio clock starts now: the card's descriptors watched, the frame timer set. */
void engine_start(struct engine *e);

/* A tone to play over whatever is heard (TONE_NONE: stop it). */
void engine_tone(struct engine *e, enum tone_kind t);

/* A remote's talk spurt began: its first frame played is logged (bench/latency). */
void engine_spurt(struct engine *e);

/* Whether writing the playback file failed (the loop was stopped then). */
bool engine_failed(const struct engine *e);

/* What the voice path, the card and the canceller counted, as log lines. */
void engine_log_stats(const struct engine *e);

/* Close the card or finish the files. Returns 0 or -EIO (the playback file could not
 * be finished). NULL is a no-op. */
int engine_close(struct engine *e);

#endif
