/* vbox.h: a box's engine in virtual time, on a synthetic room (bench/room.c) in place
 * of its sound card, for bench_roomlat: the code the box runs (firmware/engine.c), its
 * loop driven a millisecond at a time, packets to its peer over a path with a fixed
 * delay and optional jitter. No sockets, no sleeping.
 *
 * Seams (link time, the program that uses this only: --wrap=audio_open_alsa,
 * clock_gettime, pselect): audio_open_alsa opens a room instead of a card;
 * clock_gettime(CLOCK_MONOTONIC) is the running box's virtual clock; pselect, the loop's
 * only wait, moves that clock to the next timer or the next period of the card (the
 * room's descriptor is then ready, as a capture handle's is at each period). */
#ifndef IC_VBOX_H
#define IC_VBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "engine.h"
#include "ic_limits.h"
#include "room.h"
#include "voice.h"

#define VBOX_INBOX 512 /* packets on their way to a box; more are lost */

/* The packet path between two boxes: each packet arrives net_ms later, plus 0 to
 * jitter_ms drawn from rng (xorshift, not 0). */
struct vbox_net {
	unsigned net_ms, jitter_ms;
	uint32_t rng;
	uint64_t seq;
};

struct vbox_pkt {
	uint64_t at, seq;
	size_t len;
	uint8_t b[IC_RTP_MAX];
};

struct vbox {
	struct loop *loop;
	struct voice *voice;
	struct engine *eng;
	struct vbox *peer;
	struct vbox_net *net;
	uint64_t now, until, next_wake; /* its virtual clock, ms */
	unsigned period_ms;
	int fd;			/* the room's "poll descriptor" (/dev/null) */
	struct vbox_pkt *inbox; /* packets on their way to this box */
	size_t nin;
	bool stalled; /* its loop not run (its packets wait, as in a socket) */
};

/* One box as client.c makes it (its codec from the config, a hands-free call in the
 * clear, its "connected" beeps playing), its engine on a room with rc and tap, started
 * at virtual time phase; its packets go to b->peer (set it before running) over net.
 * Returns 0, -ENOMEM or -EIO; vbox_close frees what was made either way. */
int vbox_open(struct vbox *b, const struct cfg *f, const struct room_cfg *rc,
	      struct room_tap *tap, uint32_t ssrc, unsigned phase, struct vbox_net *net);
/* The box's loop, up to until (from there, if it was stalled: the time it missed). */
void vbox_run(struct vbox *b, uint64_t until);
/* The packets due by now, in the order they arrive, as client.c's on_voice takes them
 * (none while the box's loop is not running: stalled, or not started yet). */
void vbox_deliver(struct vbox *b, uint64_t now);
void vbox_close(struct vbox *b);

#endif
