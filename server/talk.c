/* talk.c: the TALK verb and the hub's side of calls: who may be rung, and carrying out
 * what the call state machine (call.c) says to send. */
#include <stdio.h>

#include "hub_int.h"
#include "log.h"
#include "names.h"

/* 1.2 added the room to a group's Request; older clients get the 1.1 line. */
#define TALK_ROOM_MINOR 2

void talk_open(struct sess *s, uint64_t now)
{
	guard_bucket_init(&s->rings, IC_RING_GROUP_BURST * IC_RING_GROUP_EVERY_S, now);
}

void talk_apply(struct hub *h, struct call *c, const struct call_outs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		const struct call_out *x = &o->o[i];
		char args[IC_ROOM_MAX + 16];

		if (x->line) {
			snprintf(args, sizeof(args), "%s%s%s", msg_talk_name(x->what),
				 x->room && x->to->minor >= TALK_ROOM_MINOR ? " " : "",
				 x->room && x->to->minor >= TALK_ROOM_MINOR ? o->group
									    : "");
			sess_line(h, x->to, "TALK", x->from ? x->from->nick : o->group,
				  args);
		}
		if (x->release)
			x->to->call = NULL;
	}
	if (c && o->over) {
		if (call_active(c)) /* its last voice in flight never reaches a room */
			c->caller->call_tail = c->callee->call_tail = true;
		call_free(c);
	}
	h->gen++; /* who hears whom may have changed */
}

void talk_leave(struct hub *h, struct sess *s)
{
	struct call_outs o;
	struct call *c = s->call;

	if (!c)
		return;
	call_leave(c, s, &o);
	talk_apply(h, c, &o);
}

void talk_part(struct hub *h, struct sess *s, const char *room)
{
	struct call_outs o;
	struct call *c = s->call;

	if (c && !call_part(c, s, room, &o)) {
		log_debug("%s parted %s while it rang", s->nick, room);
		talk_apply(h, c, &o);
	}
}

bool talk_tick(struct hub *h, struct call *c, uint64_t now, uint64_t *next)
{
	struct call_outs o;

	if (call_expire(c, now, &o)) {
		talk_apply(h, c, &o);
		return true;
	}
	if (c->state == CALL_RINGING && c->ring_due_ms < *next)
		*next = c->ring_due_ms;
	return false;
}

void talk_free(struct call *c)
{
	struct sess *all[CALL_OUT_MAX];
	size_t n = call_parties(c, all);

	for (size_t i = 0; i < n; i++)
		all[i]->call = NULL;
	call_free(c);
}

/* Both pressed CALL at once: t's Request rings s (t's call to s, or a group of t's that
 * rings s) when s's Request to t arrives. The contract takes it as s accepting. */
static bool glare(const struct sess *s, const struct sess *t)
{
	const struct call *c = s->call;

	return c && c->caller == t && call_rings(c, s);
}

static void talk_request(struct hub *h, struct sess *s, struct sess *t, uint64_t now)
{
	struct call_outs o;

	if (t == s) {
		sess_error(h, s, ERR_BAD_ARGS, "you cannot call yourself");
	} else if (!t) {
		sess_error(h, s, ERR_NO_SUCH_USER, "no such user online");
	} else if (glare(s, t)) {
		struct call *c = s->call;

		call_answer(c, s, t, true, &o);
		log_debug("%s and %s called each other: connected", s->nick, t->nick);
		talk_apply(h, c, &o);
		sess_line(h, s, "TALK", t->nick, "Accept");
	} else if (s->call) {
		sess_error(h, s, ERR_BUSY, "you are in a call already: end it first");
	} else if (t->call) {
		sess_line(h, s, "TALK", t->nick, "Busy");
	} else if (call_ring(&s->call, s, t, now, h->conf.ring_timeout_ms, &o)) {
		sess_error(h, s, ERR_BUSY, "cannot place a call now (out of memory)");
	} else {
		t->call = s->call;
		log_debug("%s calls %s", s->nick, t->nick);
		talk_apply(h, s->call, &o);
	}
}

/* A ring of a room costs its members a ring and an End each: s may start
 * IC_RING_GROUP_BURST, then one every IC_RING_GROUP_EVERY_S; over it s is told FLOOD
 * (false). */
static bool ring_allowed(struct hub *h, struct sess *s, uint64_t now)
{
	char why[64];

	if (guard_bucket_take(&s->rings, 1, IC_RING_GROUP_BURST * IC_RING_GROUP_EVERY_S,
			      IC_RING_GROUP_EVERY_S, now))
		return true;
	snprintf(why, sizeof(why), "one ring of a room every %d s: wait, then ring again",
		 IC_RING_GROUP_EVERY_S);
	sess_error(h, s, ERR_FLOOD, why);
	return false;
}

/* `TALK #Room: Request` (1.2): the room's members free now ring, at most
 * IC_RING_GROUP_MAX of them in join order. */
static void group_request(struct hub *h, struct sess *s, const char *name, uint64_t now)
{
	struct sess *free_[IC_RING_GROUP_MAX];
	struct call_outs o;
	struct call *c;
	struct room *r;
	size_t n = 0;

	if (s->call) { /* before the room is looked at, the contract says */
		sess_error(h, s, ERR_BUSY, "you are in a call already: end it first");
		return;
	}
	if (!names_room_valid(name)) {
		sess_error(h, s, ERR_BAD_ROOM, "room: # and 1-32 of A-Z a-z 0-9 _ - .");
		return;
	}
	r = rooms_find(&h->rooms, name);
	if (!r) {
		sess_error(h, s, ERR_NO_SUCH_USER, "no such room");
		return;
	}
	for (size_t k = 0; k < r->n && n < IC_RING_GROUP_MAX; k++) {
		struct sess *m = r->members[k];

		if (m != s && sess_online(m) && !m->call)
			free_[n++] = m;
	}
	if (n && !ring_allowed(h, s, now)) /* nobody rung costs nobody anything */
		return;
	if (call_ring_group(&c, s, r->name, free_, n, now, h->conf.ring_timeout_ms, &o)) {
		sess_error(h, s, ERR_BUSY, "cannot place a call now (out of memory)");
		return;
	}
	if (c) {
		s->call = c;
		for (size_t k = 0; k < n; k++)
			free_[k]->call = c;
		log_debug("%s rings %s: %zu members", s->nick, r->name, n);
	}
	talk_apply(h, c, &o);
}

static void group_talk(struct hub *h, struct sess *s, const char *name,
		       enum talk_action a, uint64_t now)
{
	struct call_outs o;
	struct call *c = s->call;

	if (a == TALK_REQUEST) {
		group_request(h, s, name, now);
	} else if (!names_room_valid(name)) {
		sess_error(h, s, ERR_BAD_ROOM, "room: # and 1-32 of A-Z a-z 0-9 _ - .");
	} else if (a != TALK_END || !c || call_end_group(c, s, name, &o)) {
		sess_error(h, s, ERR_NO_CALL, "no such call with that room");
	} else {
		log_debug("%s stopped ringing %s", s->nick, name);
		talk_apply(h, c, &o);
	}
}

void talk_cmd(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	struct call_outs o;
	enum talk_action a;
	struct call *c = s->call;
	struct sess *t;
	int e;

	if (!m->target || msg_parse_talk(m->args, &a)) {
		sess_error(h, s, ERR_BAD_ARGS,
			   "expected: TALK <nick|#room>: Request|Accept|Deny|End");
		return;
	}
	if (m->target[0] == '#') {
		group_talk(h, s, m->target, a, now);
		return;
	}
	t = sess_by_nick(h, m->target);
	if (!sess_online(t))
		t = NULL;
	if (a == TALK_REQUEST) {
		talk_request(h, s, t, now);
		return;
	}
	e = !c || !t	    ? -1
	    : a == TALK_END ? call_end(c, s, t, &o)
			    : call_answer(c, s, t, a == TALK_ACCEPT, &o);
	if (e) {
		sess_error(h, s, ERR_NO_CALL, "no such call with that user");
		return;
	}
	log_debug("%s: %s %s", s->nick, msg_talk_name(a), t->nick);
	talk_apply(h, c, &o);
}
