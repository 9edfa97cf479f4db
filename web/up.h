/* up.h: one browser user's session toward intercomd, as an ordinary box (protocol 1.2,
 * section 3): TLS 1.3 with the user's own Ed25519 identity, the server's key pinned
 * (server_fingerprint, else known_servers in the gateway's state directory, exactly as
 * a box: common/pin.c), CONNECT with the server password when configured, PING answered,
 * and encrypted voice over its own UDP socket (common/net.c's). Lines from the page go
 * up after wfilter; the server's lines come back through handlers. A session lives as
 * long as its page's WebSocket (a reload logs in afresh; docs/WEB.md). */
#ifndef IC_UP_H
#define IC_UP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

struct up_cfg {
	const char *host; /* intercomd's address or name */
	unsigned port;
	const char *pin;       /* server_fingerprint, "" for known_servers */
	const char *state_dir; /* known_servers lives here */
	const char *password;  /* the server password, "" when none */
};

struct up_handlers {
	void (*line)(void *arg, const char *line); /* shown to the page */
	void (*state)(void *arg, const char *state, const char *why); /* WEB STATE */
	void (*voice)(void *arg, const uint8_t *frame, size_t len);   /* a binary frame */
	/* the session ended for good (closed, refused, a key not trusted): the page is
	 * closed; called from the loop, never from inside an up_* call */
	void (*ended)(void *arg, const char *why);
};

struct up;

/* Connect as nick with ctx (SSL_CTX *, tlsctx_new with the user's identity; the
 * caller's, outliving the session). Returns 0 or -errno. */
int up_new(struct up **up, struct loop *l, const struct up_cfg *c, void *ctx,
	   const char *nick, const struct up_handlers *h, void *arg);
/* The sockets closed (intercomd tells the rooms as for any leave), the session's voice
 * counts logged; no handler is called again. */
void up_free(struct up *u);

/* A page's line (already through wfilter_up_line), sent when logged in. Returns 0,
 * -ENOTCONN (not logged in yet: dropped) or -ENOBUFS (the server is not reading). */
int up_line(struct up *u, const char *line, size_t len);

/* A page's Opus packet: RTP header added (this session's SSRC, seq, timestamp + 960 a
 * frame, the marker on start), sealed under c2s and sent. now: the loop's ms. Over the
 * voice rate intercomd takes from a session (IC_VOICE_PKTS_PER_SEC, _BYTES_PER_SEC, from
 * server/guard's buckets) it is dropped unsealed. Returns 0, -ENOTCONN (no voice yet)
 * or -ENOBUFS (over the rate: counted). */
int up_voice(struct up *u, const uint8_t *opus, size_t len, bool start, uint64_t now);

/* Frames relayed and dropped, for the bench and the log. */
struct up_stats {
	uint64_t up_frames, up_dropped, down_frames, down_dropped;
};
void up_stats(const struct up *u, struct up_stats *s);

#endif
