/* guard.h: what one peer may cost the server, in one place. Pure: driven by the caller's
 * clock, no sockets, no logging (it says when something is worth a log line).
 *
 *  - pending connections (not logged in yet) per source address (IPv4, or IPv6 /64):
 *    at most max_pending at once, so one host cannot fill every connection slot;
 *  - failed logins per source over TLS: past IC_LOGIN_FAILS_MAX within
 *    IC_LOGIN_FAILS_MS, the source is blocked for IC_LOGIN_BLOCK_MS;
 *  - voice per session: a token bucket of IC_VOICE_PKTS_PER_SEC packets and
 *    IC_VOICE_BYTES_PER_SEC bytes a second, one second deep, so one session cannot jam
 *    the relay for everyone else. */
#ifndef IC_GUARD_H
#define IC_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct guard;
struct guard_src;

/* max_pending: connections not yet logged in per source; 0 = no limit.
 * Returns 0 or -ENOMEM; the caller frees with guard_free. */
int guard_new(struct guard **gp, unsigned max_pending);
/* Frees every source entry; pointers from guard_pending_open are invalid afterwards. */
void guard_free(struct guard *g);

/* A connection from key opens, not logged in yet. Returns 0 and sets *srcp (the caller
 * hands it back to guard_pending_done exactly once); -EUSERS when the source is at its
 * limit (nothing counted, *srcp NULL; *log_it true for the first refusal of this source
 * in IC_GUARD_LOG_MS); or -ENOMEM. */
int guard_pending_open(struct guard *g, const struct addr_src *key, uint64_t now,
		       struct guard_src **srcp, bool *log_it);
/* That connection logged in or closed: it no longer counts. src may be NULL (no-op). */
void guard_pending_done(struct guard *g, struct guard_src *src);
/* Connections from key counted as pending now. */
unsigned guard_pending(const struct guard *g, const struct addr_src *key);
/* Source entries held (for tests and bounds: at most the open connections plus the
 * sources refused within IC_GUARD_LOG_MS). */
size_t guard_sources(const struct guard *g);
/* Forget sources with nothing pending whose refusal log silence has run out, whose block
 * is over and whose failed logins are older than IC_LOGIN_FAILS_MS. */
void guard_tick(struct guard *g, uint64_t now);

/* A failed login from key at now (section 3's list: a bad password or version, no
 * identity, a registered nick, a failed handshake). While key is blocked it neither
 * counts nor extends the block. Returns 1 when this failure took the count past
 * IC_LOGIN_FAILS_MAX within IC_LOGIN_FAILS_MS and the block starts (the caller logs
 * it), 0 when it was counted (or not, being blocked), -ENOMEM (not counted). */
int guard_login_failed(struct guard *g, const struct addr_src *key, uint64_t now);
/* Whether key is blocked at now. */
bool guard_blocked(const struct guard *g, const struct addr_src *key, uint64_t now);

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

/* A session's voice allowance: packets and bytes. */
struct guard_voice {
	struct guard_bucket pkts, bytes;
};

/* A full bucket (a second's worth) at now. */
void guard_voice_init(struct guard_voice *v, uint64_t now);
/* Take one packet of `bytes` (the UDP payload as received): true if it fits, false
 * (nothing taken) if it is over the session's rate. */
bool guard_voice_take(struct guard_voice *v, size_t bytes, uint64_t now);

#endif
