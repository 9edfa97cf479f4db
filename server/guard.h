/* guard.h: what one peer may cost the server, in one place. Pure: driven by the caller's
 * clock, no sockets, no logging (it says when something is worth a log line).
 *
 * A source is an IPv4 address, or an IPv6 /64 (addr.h). Per source:
 *  - connections not logged in yet: at most max_pending at once, so one host cannot fill
 *    every connection slot; when the table is full anyway, a newcomer may take the slot
 *    of the oldest one of the source holding the most (guard_pending_victim);
 *  - TLS handshakes (from the connection's first byte, 0x16): at most
 *    IC_TLS_HANDSHAKES_PER_SOURCE, and IC_TLS_HANDSHAKES_MAX in all; when the pool is
 *    full, a newcomer takes the place of the oldest handshake of the source holding the
 *    most (guard_hs_room);
 *  - failed logins over TLS: past IC_LOGIN_FAILS_MAX within IC_LOGIN_FAILS_MS, the
 *    source is blocked for IC_LOGIN_BLOCK_MS;
 *  - logged-in sessions (IC_SESSIONS_PER_SOURCE), a voice bucket its sessions share
 *    (IC_HOST_VOICE_*), and new nick bindings (IC_BINDS_PER_SOURCE an hour); trusted
 *    sources (127.0.0.1 and ::1, and what guard_trust adds) are exempt from these three.
 * Per session: a voice token bucket of IC_VOICE_PKTS_PER_SEC packets and
 * IC_VOICE_BYTES_PER_SEC bytes a second, one second deep, so one session cannot jam the
 * relay for everyone else. */
#ifndef IC_GUARD_H
#define IC_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct guard;
struct guard_src;

/* A connection counted at its source in one of the guard's lists (oldest first). The
 * caller embeds it in its connection, zeroed; src is NULL while it is not counted. */
struct guard_link {
	struct guard_link *prev, *next;
	struct guard_src *src;
};

/* max_pending: connections not yet logged in per source; 0 = no limit. Trusts 127.0.0.1
 * and ::1. Returns 0 or -ENOMEM; the caller frees with guard_free. */
int guard_new(struct guard **gp, unsigned max_pending);
/* Frees every source entry: every link and source pointer is invalid afterwards. */
void guard_free(struct guard *g);

/* Trust the sources of a list of addresses or prefixes ("10.1.2.3", "10.1.0.0/16",
 * "2001:db8:1::/48"; separated by commas or spaces; an IPv6 prefix longer than /64 counts
 * as its /64, like every source). Returns 0, or -EINVAL with what is wrong in err
 * (nothing added), -ENOSPC past IC_TRUSTED_MAX entries. g may be NULL: then the list is
 * only checked. */
int guard_trust(struct guard *g, const char *list, char *err, size_t errlen);
/* Whether key is a trusted source. */
bool guard_trusted(const struct guard *g, const struct addr_src *key);

/* A connection from key opens, not logged in yet. Returns 0 and counts it in l (the
 * caller hands l to guard_pending_done exactly once); -EUSERS when the source is at its
 * limit (nothing counted; *log_it true for the first refusal of this source in
 * IC_GUARD_LOG_MS); or -ENOMEM. */
int guard_pending_open(struct guard *g, const struct addr_src *key, uint64_t now,
		       struct guard_link *l, bool *log_it);
/* That connection logged in or closed: it no longer counts. A link not counted: no-op. */
void guard_pending_done(struct guard *g, struct guard_link *l);
/* Connections from key counted as pending now. */
unsigned guard_pending(const struct guard *g, const struct addr_src *key);
/* The connection table is full and one from key arrives: the oldest pending connection
 * of the source holding the most, when that source holds at least two more than key's
 * (the newcomer then takes its slot: shares move toward equal, never the other way), or
 * NULL (the newcomer is refused). *log_it: the victim's source was not logged in the last
 * IC_GUARD_LOG_MS. The caller closes the victim (guard_pending_done). */
struct guard_link *guard_pending_victim(struct guard *g, const struct addr_src *key,
					uint64_t now, bool *log_it);

/* A TLS handshake from key is about to start (its first byte came). 0: there is room;
 * 1: the pool is full and *victim is the oldest handshake of the source holding the most
 * (at least two more than key's): the caller closes it (guard_hs_done) and starts this
 * one; -EUSERS: refused (key's source holds IC_TLS_HANDSHAKES_PER_SOURCE, or the pool is
 * full and shared evenly). *log_it as for guard_pending_victim, for a victim's source. */
int guard_hs_room(struct guard *g, const struct addr_src *key, uint64_t now,
		  struct guard_link **victim, bool *log_it);
/* Set the pool's size and one source's share (guard_new: IC_TLS_HANDSHAKES_MAX and
 * IC_TLS_HANDSHAKES_PER_SOURCE, intercomd's; intercom-web takes its own, a browser
 * opening several connections to load a page). */
void guard_hs_limits(struct guard *g, unsigned max, unsigned per_source);
/* Count a handshake from key in l: 0, or -ENOMEM (not counted). */
int guard_hs_open(struct guard *g, const struct addr_src *key, struct guard_link *l);
/* That handshake finished or closed. A link not counted: no-op. */
void guard_hs_done(struct guard *g, struct guard_link *l);
/* Handshakes counted from key now; key NULL: in all. */
unsigned guard_hs(const struct guard *g, const struct addr_src *key);

/* Source entries held (for tests and bounds: at most the open connections plus the
 * sources refused within IC_GUARD_LOG_MS or that bound a nick within the hour). */
size_t guard_sources(const struct guard *g);
/* Forget sources with nothing counted whose refusal log silence has run out, whose block
 * is over, whose failed logins are older than IC_LOGIN_FAILS_MS and whose bindings are
 * older than IC_BINDS_WINDOW_MS. */
void guard_tick(struct guard *g, uint64_t now);

/* A failed login from key at now (section 3's list: a bad password or version, no
 * identity, a registered nick, a failed handshake). While key is blocked it neither
 * counts nor extends the block. Returns 1 when this failure took the count past
 * IC_LOGIN_FAILS_MAX within IC_LOGIN_FAILS_MS and the block starts (the caller logs
 * it), 0 when it was counted (or not, being blocked), -ENOMEM (not counted). */
int guard_login_failed(struct guard *g, const struct addr_src *key, uint64_t now);
/* Whether key is blocked at now. */
bool guard_blocked(const struct guard *g, const struct addr_src *key, uint64_t now);

/* A session from key logs in (its CONNECT is accepted). Returns 0 and sets *srcp (the
 * caller hands it to guard_session_done exactly once, and to guard_host_voice_take and
 * guard_bind_* meanwhile); -EUSERS when the source has IC_SESSIONS_PER_SOURCE already and
 * is not trusted (nothing counted, *srcp NULL; *log_it as for guard_pending_open); or
 * -ENOMEM. */
int guard_session_open(struct guard *g, const struct addr_src *key, uint64_t now,
		       struct guard_src **srcp, bool *log_it);
/* That session ended. src may be NULL (no-op). */
void guard_session_done(struct guard *g, struct guard_src *src);
/* Sessions counted from key now. */
unsigned guard_sessions(const struct guard *g, const struct addr_src *key);

/* Take one voice packet of `bytes` from the bucket src's sessions share: true if it fits
 * (or src is NULL or trusted), false (nothing taken) if the host is over its rate. */
bool guard_host_voice_take(struct guard_src *src, size_t bytes, uint64_t now);

/* Whether src (a session's, or NULL: true) may bind one more new nick at now: fewer than
 * IC_BINDS_PER_SOURCE within IC_BINDS_WINDOW_MS, or trusted. *log_it as for
 * guard_pending_open when it may not. */
bool guard_bind_ok(struct guard_src *src, uint64_t now, bool *log_it);
/* src bound a new nick at now (counted; src NULL: no-op). */
void guard_bind_note(struct guard_src *src, uint64_t now);

/* A token bucket: `per_s` tokens a second, at most `cap`, in thousandths. */
struct guard_bucket {
	uint64_t milli;
	uint64_t last_ms;
};

/* A full bucket of cap tokens at now. */
void guard_bucket_init(struct guard_bucket *b, unsigned cap, uint64_t now);
/* Refill for the time since the last call, then take `cost` tokens: true if there were
 * enough (taken), false (nothing taken) if not. */
bool guard_bucket_take(struct guard_bucket *b, unsigned per_s, unsigned cap,
		       unsigned cost, uint64_t now);

/* A logged-in TLS connection's allowance for the bytes it sends beyond its lines' own
 * (record headers and tags, KeyUpdates, empty records, alerts): IC_TLS_OVERHEAD_PER_SEC a
 * second, IC_TLS_OVERHEAD_BURST deep. Full at now. */
void guard_overhead_init(struct guard_bucket *b, uint64_t now);
/* A read pass took `wire` bytes off the socket and handed on `data` bytes of lines: spend
 * the difference (data beyond wire, decrypted from records an earlier pass read, gives
 * bytes back). False (nothing spent) once the connection is over its allowance: the
 * caller closes it as a flood. */
bool guard_overhead_spend(struct guard_bucket *b, uint64_t wire, uint64_t data,
			  uint64_t now);

/* A voice allowance: packets and bytes. */
struct guard_voice {
	struct guard_bucket pkts, bytes;
};

/* A full bucket (a second's worth) at now. */
void guard_voice_init(struct guard_voice *v, uint64_t now);
/* Take one packet of `bytes` (the UDP payload as received): true if it fits, false
 * (nothing taken) if it is over the session's rate. */
bool guard_voice_take(struct guard_voice *v, size_t bytes, uint64_t now);

#endif
