/* hubfake.h: drive the server's hub without sockets: a transport that records what the
 * hub writes (and can refuse to take more), and seeded randomness. Shared by the
 * allocation-failure sweep and the session fuzz target. Never allocates. */
#ifndef IC_HUBFAKE_H
#define IC_HUBFAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub.h"

struct hubfake {
	struct transport tp;
	char out[1 << 16];
	size_t len;	/* bytes in out not yet taken by hubfake_line */
	size_t dropped; /* bytes that did not fit in out (counted, then discarded) */
	bool refuse;	/* answer -EAGAIN to every write: a client that stopped reading */
	bool closed, aborted;
	struct sess *s;
};

/* Reset f to an open, empty transport. */
void hubfake_init(struct hubfake *f);
/* Move the next complete output line (without LF) into line; false when there is none
 * (or it does not fit size). */
bool hubfake_line(struct hubfake *f, char *line, size_t size);
/* Skip lines until one starts with prefix; copies it into line. False if none. */
bool hubfake_find(struct hubfake *f, const char *prefix, char *line, size_t size);

/* For hub_reap: close the fake transport and forget its session (f->s = NULL). */
void hubfake_closed(void *arg, struct transport *tp, bool abort);

/* Deterministic random bytes for hub_conf.rand; hubfake_seed restarts the sequence. */
int hubfake_rand(void *buf, size_t len);
void hubfake_seed(uint32_t seed);

#endif
