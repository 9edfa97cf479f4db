/* hub_int.h: the hub's internals, shared by hub.c, sess.c, cmd.c and relay.c only. */
#ifndef IC_HUB_INT_H
#define IC_HUB_INT_H

#include <sys/socket.h>

#include "addr.h"
#include "call.h"
#include "guard.h"
#include "hmap.h"
#include "hub.h"
#include "ident.h"
#include "ic_limits.h"
#include "line.h"
#include "msg.h"
#include "rate.h"
#include "registry.h"
#include "room.h"
#include "seqwin.h"
#include "vcrypt.h"

enum sess_state {
	SESS_NEW,	 /* connected, no CONNECT accepted yet */
	SESS_AWAIT_PONG, /* ACCEPT sent, nick reserved, waiting for the login PONG */
	SESS_ONLINE,	 /* logged in */
};

struct sess {
	unsigned id;
	unsigned slot; /* index in hub->slots */
	struct hub *hub;
	struct transport *tp;
	char peer[64];	       /* the TCP peer, for logs */
	union addr_ip peer_sa; /* the TCP peer: only its IP may send voice */
	socklen_t peer_len;
	struct guard_link pend; /* counted as pending at its source until logged in */
	struct guard_src *host; /* counted as a session of its source from CONNECT on */
	enum sess_state state;
	bool leaving;	 /* to be reaped: no more input, output or voice */
	bool out_dead;	 /* transport failed or queue overflowed: no final flush */
	const char *why; /* why it leaves (for the log) */
	struct sess *reap_next;
	uint64_t opened_ms;

	char nick[IC_NICK_MAX + 1];
	char realname[IC_REALNAME_MAX + 1];
	int minor; /* the protocol 1.MINOR its CONNECT named (1.2: a group's Request) */
	struct hnode nick_node;

	struct linebuf lb;
	struct rate rate;
	char *out; /* unsent output: out[out_head .. out_len) */
	size_t out_head, out_len, out_cap;

	struct room
	    *rooms[IC_ROOMS_PER_CLIENT]; /* join order; the last is the voice room */
	unsigned nrooms;
	uint32_t list_seen[IC_ROOMS_PER_CLIENT]; /* list version of rooms[i] it has */
	struct call *call;
	struct guard_bucket rings; /* rings of a room it may start (IC_RING_GROUP_*) */
	/* its active call ended: its voice reaches a room again only from a new talk
	 * spurt (marker bit), so a hands-free call's last packets still in flight never
	 * leak into the room it sits in */
	bool call_tail;

	/* keepalive */
	bool ping_out;
	uint32_t ping_cookie;
	uint64_t ping_sent_ms, next_ping_ms;

	/* voice */
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	struct hnode ssrc_node;
	struct seqwin win;
	struct guard_voice vrate;
	union addr_ip vaddr;
	socklen_t vaddr_len; /* 0 until a valid packet has come */

	/* over TLS (section 3) */
	bool tls;
	char fp[IDENT_FP_LEN + 1]; /* its client certificate's key; "" without one */
	struct vc *c2s, *s2c;	   /* from VOICE on: open its packets, seal its copies */
	struct ctrwin cwin;	   /* counters accepted under c2s */
	uint64_t s2c_ctr;	   /* the next counter under s2c: each used once */
	bool binding; /* this login binds its nick (nickreg.c): kept at its PONG */
	/* nonzero: the login's answer (ACCEPT...PING) waits for a save of the registry
	 * reaching this change, its binding's (hub_reg_saved) */
	uint64_t reg_wait;
};

struct hub {
	struct hub_conf conf;
	char name[IC_SERVER_NAME_MAX + 1];
	struct sess **slots; /* max_clients + IC_RAW_SPARE */
	unsigned nslots, nopen, nlogin, next_id;
	struct hmap nicks, ssrcs;
	struct rooms rooms;
	struct sess *reap; /* sessions leaving */
	struct hub_stats stats;
	struct guard *guard;
	bool reg_full_logged; /* the registry could not bind a nick: logged once */
	/* login and leave lines: a budget, so a host churning in and out cannot flood
	 * the log (and with it journald's rate limit, which would drop everything) */
	struct guard_bucket evlog;
	uint64_t evlog_dropped, evlog_report_ms;
	struct room *lists_due;	    /* rooms with a coalesced list to send (roster.c) */
	uint64_t now;		    /* the latest time any call brought */
	char line[IC_OUT_LINE_MAX]; /* scratch for formatting one server line */
	/* moves on with every change to who hears whom (any line from a client, anyone
	 * leaving, a call ending, a voice address learnt): rooms rebuild their lists of
	 * hearers when it has; never 0 */
	uint64_t gen;
};

/* sess.c */
void sess_send(struct sess *s, const char *data, size_t len);
void sess_sendf(struct hub *h, struct sess *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sess_line(struct hub *h, struct sess *s, const char *verb, const char *target,
	       const char *args);
void sess_error(struct hub *h, struct sess *s, enum msg_err code, const char *text);
/* A login refused: s is told code and text, and the refusal is logged with its reason
 * and source (the address, the nick asked for when valid, else NULL, and the key's
 * fingerprint), within the session events' budget (hub_event_log_ok). */
void sess_refuse(struct hub *h, struct sess *s, enum msg_err code, const char *text,
		 const char *nick);
/* Mark s as leaving (idempotent); the rest happens in hub_reap. */
void sess_leave(struct sess *s, const char *why, bool out_dead);
struct sess *sess_by_nick(const struct hub *h, const char *nick);
/* s is logged in and not leaving: it may be messaged, called or rung. */
bool sess_online(const struct sess *s);
struct sess *sess_by_ssrc(const struct hub *h, uint32_t ssrc);
/* Over TLS, s's source is blocked (failed logins): s is told BLOCKED and leaves; true.
 * False (nothing done) otherwise, and always over --tls off. */
bool sess_blocked(struct hub *h, struct sess *s, uint64_t now);
/* A failed login of s counted at its source (TLS only); the block it may start is
 * logged once. */
void sess_login_failed(struct hub *h, struct sess *s, uint64_t now);
/* s's CONNECT counts as a session of its source: true; false when the source has its
 * IC_SESSIONS_PER_SOURCE already (s is told SERVER_FULL and leaves). Idempotent. */
bool sess_host_open(struct hub *h, struct sess *s, uint64_t now);
/* s replaces old, a session of the same box that had been counted: s takes its count
 * (false), or true when s comes from another source (nothing moved: count s itself). */
bool sess_host_take(struct sess *s, struct sess *old);
/* s no longer counts as a session of its source (idempotent). */
void sess_host_done(struct hub *h, struct sess *s);
int sess_rand(const struct hub *h, void *buf, size_t len);

/* hub.c: true if a session event may be logged now (else it is counted, and the count
 * is logged later) */
bool hub_event_log_ok(struct hub *h);

/* cmd.c */
void cmd_dispatch(struct hub *h, struct sess *s, char *line, uint64_t now);
void cmd_join_room(struct hub *h, struct sess *s, const char *name);
void cmd_part_all(struct hub *h, struct sess *s);
/* The answer to s's CONNECT, its nick reserved: ACCEPT, REGISTERED (when its binding
 * stands), VOICE with fresh keys, the login PING. */
void cmd_login_answer(struct hub *h, struct sess *s, uint64_t now);

/* talk.c: the TALK verb, and calls (call.c decides, these carry it out) */
/* s's allowance of ring group rings, full at now. */
void talk_open(struct sess *s, uint64_t now);
void talk_cmd(struct hub *h, struct sess *s, struct msg *m, uint64_t now);
/* Send what o says and release whom it releases; c (NULL: none was made) is freed when
 * o says the call is over. */
void talk_apply(struct hub *h, struct call *c, const struct call_outs *o);
/* s leaves the server (or is replaced): its call, if any, is told (call_leave). */
void talk_leave(struct hub *h, struct sess *s);
/* s PARTed room: a group ringing s for it stops s's ring (call_part). */
void talk_part(struct hub *h, struct sess *s, const char *room);
/* The ring timeout of c at now: true when it ended c (freed); else *next is lowered to
 * when it is due, if it rings. */
bool talk_tick(struct hub *h, struct call *c, uint64_t now, uint64_t *next);
/* Free c at the hub's end, every session's pointer to it cleared first. */
void talk_free(struct call *c);

/* nickreg.c: the nick registry's part in a login (section 3; TLS with conf.reg only) */
/* CONNECT's nick against the registry: true when the login may go on; else answered
 * (NICK_REGISTERED, NOT_REGISTERED) and, but for the fifth-nick case, counted. */
bool nickreg_check(struct hub *h, struct sess *s, const char *nick, uint64_t now);
/* Every check passed: a nick nobody owns is bound to s's key, pending its PONG. False
 * when another box's login took it a moment ago (NICK_IN_USE sent). */
bool nickreg_bind(struct hub *h, struct sess *s, const char *nick);
/* s's nick reserved: true when its answer must wait for its binding to be saved (the
 * answer then goes out from hub_reg_saved). */
bool nickreg_waits(struct hub *h, struct sess *s);
/* After ACCEPT: REGISTERED, when this login binds its nick. */
void nickreg_accepted(struct hub *h, struct sess *s);
/* s logged in (its PONG): its binding kept, or its last seen time. */
void nickreg_login(struct hub *h, struct sess *s);
/* s leaves: a binding without PONG undone, or its last seen time. */
void nickreg_leave(struct hub *h, struct sess *s);

/* roster.c: room lists, coalesced (see there) */
/* Send s the current list of r at once, and note it has it. */
void roster_send(struct hub *h, struct room *r, struct sess *s);
/* r's members changed; told (or NULL) is a member that gets the new list at once. */
void roster_changed(struct hub *h, struct room *r, struct sess *told);
/* r is about to be freed. */
void roster_forget(struct hub *h, struct room *r);
/* Send the lists due by now; returns when the next is due (UINT64_MAX: none). */
uint64_t roster_flush(struct hub *h, uint64_t now);
/* s's output queue has just drained: the lists it is owed go out. */
void roster_drained(struct hub *h, struct sess *s);

#endif
