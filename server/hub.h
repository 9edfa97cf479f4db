/* hub.h: the server's state and protocol logic, free of sockets and of the clock: the
 * event loop feeds it bytes, voice packets and the time, and it writes through each
 * session's transport. One hub is one server; several can live in one process. */
#ifndef IC_HUB_H
#define IC_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "transport.h"

struct hub;
struct sess;

struct hub_conf {
	const char *name;     /* server name sent in ACCEPT */
	unsigned udp_port;    /* announced in VOICE */
	unsigned max_clients; /* sessions logged in or awaiting PONG */
	uint64_t ping_interval_ms;
	uint64_t ping_timeout_ms;
	uint64_t ring_timeout_ms;
	/* Fill buf with random bytes; NULL uses getrandom(). Returns 0 or -errno. */
	int (*rand)(void *buf, size_t len);
};

/* A voice copy to send: where, built by hub_voice. */
struct voice_dest {
	const struct sockaddr *addr;
	socklen_t len;
};

struct hub_stats {
	uint64_t voice_in, voice_dropped, voice_copies, keepalives;
	unsigned sessions, logged_in;
};

/* Returns 0 or -ENOMEM. The caller frees with hub_free. */
int hub_new(struct hub **hp, const struct hub_conf *conf);
/* Free the hub and every session (transports are closed). */
void hub_free(struct hub *h);

/* A new connection. peer is its address for logs. Returns 0, or -EMFILE when more than
 * max_clients + IC_RAW_SPARE connections are open (the caller closes it), or -ENOMEM. */
int hub_open(struct hub *h, struct transport *tp, const char *peer, uint64_t now,
	     struct sess **sp);

/* Bytes that arrived from s. */
void hub_input(struct hub *h, struct sess *s, const char *data, size_t len, uint64_t now);

/* The transport failed or reached its end: s leaves. */
void hub_hangup(struct hub *h, struct sess *s, const char *why);

/* Write s's queued output; a failing transport makes it leave. */
void hub_flush(struct hub *h, struct sess *s);

/* True while s has unsent output. */
bool hub_pending(const struct sess *s);

/* Timers (pings, login and ring timeouts). Returns when it next needs calling. */
uint64_t hub_tick(struct hub *h, uint64_t now);

/* Finish every session that is leaving: rooms and call peers are told, its last output is
 * tried once, then closed(arg, tp, abort) runs (the transport is the caller's to close;
 * abort when its output could not be delivered) and the
 * session is freed. closed may be NULL: then the transport's close op runs. */
void hub_reap(struct hub *h, void (*closed)(void *arg, struct transport *tp, bool abort),
	      void *arg);

/* A voice packet from `from`. Fills out (at least IC_RTP_MAX bytes) with the packet to
 * send and dests (room for max_clients entries) with where; returns how many copies,
 * 0 when it is dropped or goes nowhere. A keepalive is answered to its sender: one
 * copy, dests[0].addr == from (relayed voice never points at from). */
size_t hub_voice(struct hub *h, const uint8_t *pkt, size_t len,
		 const struct sockaddr *from, socklen_t fromlen, uint8_t *out,
		 size_t *out_len, struct voice_dest *dests);

void hub_get_stats(const struct hub *h, struct hub_stats *st);

#endif
