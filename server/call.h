/* call.h: one call as a pure state machine: a private call between two sessions, or a
 * ring group (protocol 1.2: a Request to a room rings its free members, the first to
 * accept takes the call). Each operation is given the sessions involved and the time,
 * changes the call, and returns what to send as a list of TALK lines (struct
 * call_outs): it never writes, reads a clock or looks inside a session, so every rule
 * of the contract tests without sockets. The hub sends the lines, clears the call of
 * every session a line releases, and frees the call when the list says it is over. */
#ifndef IC_CALL_H
#define IC_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ic_limits.h"
#include "msg.h"

struct sess;

enum call_state { CALL_RINGING, CALL_ACTIVE };

struct call {
	struct sess *caller;
	struct sess *callee; /* NULL while a group rings: set by the first Accept */
	enum call_state state;
	uint64_t ring_due_ms; /* an unanswered request ends then */
	/* a ring group: the room rung, as the room shows its name ("" for a call to a
	 * nick), and its members still ringing */
	char group[IC_ROOM_MAX + 1];
	struct sess *rung[IC_RING_GROUP_MAX];
	unsigned nrung;
};

/* One line to send, `TALK <who>: <what>[ <room>]` to `to`: who is from's nick, or the
 * ring group's room (call_outs.group) when from is NULL; room (a group's Request): the
 * room follows, for a session that speaks 1.2. line false: nothing is sent. release:
 * `to` has no call from now on. */
struct call_out {
	struct sess *to;
	const struct sess *from;
	enum talk_action what;
	bool line, room, release;
};

/* A caller, the room's IC_RING_GROUP_MAX members, and a last line to spare. */
#define CALL_OUT_MAX (IC_RING_GROUP_MAX + 2)

struct call_outs {
	struct call_out o[CALL_OUT_MAX];
	size_t n;
	bool over; /* the call is finished: the hub frees it once the lines are sent */
	char group[IC_ROOM_MAX + 1]; /* the ring group's room ("" for a call to a nick) */
};

/* caller rings callee (both free, distinct). *cp: the ringing call, to be freed with
 * call_free; o: callee's Request. Returns 0 or -ENOMEM (nothing changed). */
int call_ring(struct call **cp, struct sess *caller, struct sess *callee, uint64_t now_ms,
	      uint64_t ring_ms, struct call_outs *o);

/* caller rings the room `group` (its name as shown): members are those to ring, free
 * and other than the caller, in the order to ring them (at most IC_RING_GROUP_MAX are
 * taken). None: *cp is NULL and o tells the caller `TALK <group>: Busy`. Otherwise *cp
 * rings them all and o holds each one's Request. Returns 0 or -ENOMEM. */
int call_ring_group(struct call **cp, struct sess *caller, const char *group,
		    struct sess *const *members, size_t n, uint64_t now_ms,
		    uint64_t ring_ms, struct call_outs *o);

void call_free(struct call *c);

/* The other party of an answered call or a call to a nick; a rung member's is the
 * caller; NULL if `me` is not in c (the caller of a ringing group has none). */
struct sess *call_peer(const struct call *c, const struct sess *me);

/* True when c rings `who` (the callee of a ringing call, or a member a group rings). */
bool call_rings(const struct call *c, const struct sess *who);

/* `who` answers a ring from `from` (Accept, or Deny). 0, or -EPERM (nothing changed)
 * unless c rings who from from. A 1:1 Accept tells the caller and makes the call
 * active; a Deny tells the caller, and the call is over. In a group the first Accept
 * takes the call (the caller told, every other member's ring stopped with End); a
 * member's Deny stops its own ring, and the caller hears `TALK <group>: Deny` once
 * every member rung has refused or left. */
int call_answer(struct call *c, struct sess *who, const struct sess *from, bool accept,
		struct call_outs *o);

/* `who` ends c naming the nick `other`: either side of a ringing or active call to a
 * nick, or of an answered group call (the peer told, the call over); a rung member
 * naming the caller refuses, as call_answer's Deny does. 0, or -EPERM (nothing
 * changed): the caller of a ringing group naming anyone. */
int call_end(struct call *c, struct sess *who, struct sess *other, struct call_outs *o);

/* The caller of a ringing group cancels it naming the room `group` (any case): every
 * ringing member gets End, the call is over. 0, or -EPERM (nothing changed) when c is
 * no such ring of who's (answered already: it is a call to the member now). */
int call_end_group(struct call *c, struct sess *who, const char *group,
		   struct call_outs *o);

/* `who` leaves the server (or is replaced): the other side of a call to a nick or an
 * answered one is told End; a ringing group's caller stops every ring; a rung member's
 * ring stops silently, a refusal (the last one: the caller hears Deny). */
void call_leave(struct call *c, struct sess *who, struct call_outs *o);

/* `who` parted the room `room` (any case): when c is a group ringing it for that room,
 * its ring stops, it is told End, and that is a refusal; else nothing (returns
 * -ENOENT). Returns 0 when it stopped a ring. */
int call_part(struct call *c, struct sess *who, const char *room, struct call_outs *o);

/* The ring timeout: a call still ringing at now_ms ends. 1:1: both sides get End from
 * the other; a group: the caller gets `TALK <group>: End`, every ringing member End from
 * the caller. True when it expired (o says so), false (nothing changed) otherwise. */
bool call_expire(struct call *c, uint64_t now_ms, struct call_outs *o);

/* Every session whose call is c (caller, callee, ringing members) into out (room for
 * CALL_OUT_MAX); returns how many. For freeing c from outside (the hub's end). */
size_t call_parties(const struct call *c, struct sess **out);

bool call_active(const struct call *c);
bool call_ring_expired(const struct call *c, uint64_t now_ms);

#endif
