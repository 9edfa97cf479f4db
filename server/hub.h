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
struct reg;

struct hub_conf {
	const char *name;     /* server name sent in ACCEPT */
	unsigned udp_port;    /* announced in VOICE */
	unsigned max_clients; /* sessions logged in or awaiting PONG */
	uint64_t ping_interval_ms;
	uint64_t ping_timeout_ms;
	uint64_t ring_timeout_ms;
	/* Fill buf with random bytes; NULL uses getrandom(). Returns 0 or -errno. */
	int (*rand)(void *buf, size_t len);
	/* connections not logged in yet per source (IPv4, IPv6 /64); 0 = no limit */
	unsigned max_pending_per_source;
	bool guests; /* TLS sessions without a client certificate may log in */
	/* the server password over TLS (NULL or "": none); the caller's, never logged */
	const char *password;
	/* the nick registry over TLS (the caller's, outliving the hub; NULL: none, nicks
	 * first come first served), and whether only its nicks may log in */
	struct reg *reg;
	bool registration_closed;
	/* Unix seconds for the registry's first and last seen; NULL uses time() */
	int64_t (*wall)(void);
};

struct vc;

/* A voice copy to send: where, built by hub_voice; over TLS sealed with the hearer's
 * key (seal) under the counter given to this copy (ctr), else sent as it is. */
struct voice_dest {
	const struct sockaddr *addr;
	socklen_t len;
	struct vc *seal;
	uint64_t ctr;
};

struct hub_stats {
	uint64_t voice_in, voice_dropped, voice_copies, keepalives;
	/* of voice_dropped: from an IP not the session's TCP peer's; over its rate; over
	 * TLS, a tag that does not verify (forged, another key, damaged) or a counter
	 * already seen or below the window (replayed) */
	uint64_t voice_wrong_source, voice_over_rate, voice_bad_tag, voice_replayed;
	uint64_t
	    pending_refused; /* connections refused: too many pending from a source */
	uint64_t events_unlogged; /* login and leave lines over the log budget */
	/* over TLS: failed logins counted at their source, and logins refused BLOCKED */
	uint64_t login_failed, login_blocked;
	/* per host (guard.h): connections closed for a newcomer when the table was full;
	 * logins refused, its source having IC_SESSIONS_PER_SOURCE; voice dropped over
	 * its host's shared rate (also in voice_dropped); new nicks left unbound, over
	 * its source's IC_BINDS_PER_SOURCE an hour */
	uint64_t pending_evicted, sessions_refused, voice_host_over_rate, binds_refused;
	unsigned sessions, logged_in;
};

/* The registry (conf.reg) was saved up to change gen (reg_saved_gen), or the save of
 * it failed (err, a negative errno): logins waiting for their new binding to be on
 * disk get their answer, REGISTERED only when it was saved; a binding that was not is
 * undone, and that is logged as an error with err's text. */
void hub_reg_saved(struct hub *h, uint64_t gen, int err, uint64_t now);

/* Returns 0 or -ENOMEM. The caller frees with hub_free. */
int hub_new(struct hub **hp, const struct hub_conf *conf);
/* Free the hub and every session (transports are closed). */
void hub_free(struct hub *h);

/* A new connection from peer (its TCP address: logs, the per-source limits, and the
 * only IP its voice may come from; copied). Returns 0, or -EMFILE when more than
 * max_clients + IC_RAW_SPARE connections are open and none could make room (the caller
 * closes it), or -ENOMEM. When the table is full, the oldest connection not logged in of
 * the source holding the most such (at least two more than peer's) is closed at once
 * (guard_pending_victim) and the newcomer takes its slot.
 * A source over its pending limit still gets 0: the session is told SERVER_FULL and is
 * already leaving (hub_reap sends the line and closes it). */
int hub_open(struct hub *h, struct transport *tp, const struct sockaddr *peer,
	     socklen_t peerlen, uint64_t now, struct sess **sp);

/* The per-source guards (guard.h), the hub's: the transports count their handshakes and
 * ask it about blocked sources, the server adds its trusted sources (guard_trust). */
struct guard *hub_guard(struct hub *h);

/* s's TLS handshake is done: from now on it logs in by the 1.1 rules (section 3) and its
 * voice is encrypted. fp: its client certificate's key fingerprint, or NULL without
 * one. */
void hub_secure(struct hub *h, struct sess *s, const char *fp, uint64_t now);
/* s's handshake (its first byte was 0x16) failed: a failed login at its source. The
 * caller closes it. */
void hub_handshake_failed(struct hub *h, struct sess *s, uint64_t now);

/* s spoke plaintext to a TLS server: it is told TLS_REQUIRED and leaves. */
void hub_tls_required(struct hub *h, struct sess *s);

/* Bytes that arrived from s. */
void hub_input(struct hub *h, struct sess *s, const char *data, size_t len, uint64_t now);

/* The transport failed or reached its end: s leaves. */
void hub_hangup(struct hub *h, struct sess *s, const char *why);

/* Write s's queued output; a failing transport makes it leave. */
void hub_flush(struct hub *h, struct sess *s);

/* True while s has unsent output. */
bool hub_pending(const struct sess *s);

/* Timers (pings, login and ring timeouts, coalesced room lists). Returns when it next
 * needs calling. */
uint64_t hub_tick(struct hub *h, uint64_t now);

/* When hub_tick is next needed for work that input may have scheduled since the last
 * tick (a coalesced room list), or UINT64_MAX. */
uint64_t hub_next_due(const struct hub *h);

/* Finish every session that is leaving: rooms and call peers are told, its last output is
 * tried once, then closed(arg, tp, abort) runs (the transport is the caller's to close;
 * abort when its output could not be delivered) and the
 * session is freed. closed may be NULL: then the transport's close op runs. */
void hub_reap(struct hub *h, void (*closed)(void *arg, struct transport *tp, bool abort),
	      void *arg);

/* A voice packet from `from` at now. Fills out (at least IC_RTP_MAX bytes) with the
 * packet to send (over TLS: opened, to be sealed per copy as dests say) and dests (room
 * for max_clients entries) with where; returns how many copies, 0 when it is dropped or
 * goes nowhere. Dropped: malformed, unknown ssrc, from an IP other than the session's
 * TCP peer's, wrong token or (TLS) tag, replayed, or over the session's voice rate. A
 * keepalive is answered to its sender: one copy, dests[0].addr == from (relayed voice
 * never points at from). */
size_t hub_voice(struct hub *h, const uint8_t *pkt, size_t len,
		 const struct sockaddr *from, socklen_t fromlen, uint64_t now,
		 uint8_t *out, size_t *out_len, struct voice_dest *dests);

void hub_get_stats(const struct hub *h, struct hub_stats *st);

#endif
