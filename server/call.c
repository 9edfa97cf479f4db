#include "call.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/* Add a line (or, line false, only a release) to o. */
static void out(struct call_outs *o, struct sess *to, const struct sess *from,
		enum talk_action what, bool line, bool release)
{
	struct call_out *x = &o->o[o->n++];

	x->to = to;
	x->from = from;
	x->what = what;
	x->line = line;
	x->room = false;
	x->release = release;
}

static void outs_init(struct call_outs *o, const struct call *c)
{
	o->n = 0;
	o->over = false;
	snprintf(o->group, sizeof(o->group), "%s", c ? c->group : "");
}

static bool is_group(const struct call *c)
{
	return c->group[0] != '\0';
}

static bool group_ringing(const struct call *c)
{
	return is_group(c) && c->state == CALL_RINGING;
}

static int rung_index(const struct call *c, const struct sess *who)
{
	for (unsigned i = 0; i < c->nrung; i++) {
		if (c->rung[i] == who)
			return (int)i;
	}
	return -1;
}

/* Member i no longer rings; the others keep their order (the room's join order). */
static struct sess *rung_remove(struct call *c, unsigned i)
{
	struct sess *m = c->rung[i];

	memmove(&c->rung[i], &c->rung[i + 1], (c->nrung - i - 1) * sizeof(c->rung[0]));
	c->nrung--;
	return m;
}

static struct call *call_alloc(struct sess *caller, uint64_t now_ms, uint64_t ring_ms)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->caller = caller;
	c->state = CALL_RINGING;
	c->ring_due_ms = now_ms + ring_ms;
	return c;
}

int call_ring(struct call **cp, struct sess *caller, struct sess *callee, uint64_t now_ms,
	      uint64_t ring_ms, struct call_outs *o)
{
	struct call *c = call_alloc(caller, now_ms, ring_ms);

	outs_init(o, NULL);
	if (!c)
		return -ENOMEM;
	c->callee = callee;
	out(o, callee, caller, TALK_REQUEST, true, false);
	*cp = c;
	return 0;
}

int call_ring_group(struct call **cp, struct sess *caller, const char *group,
		    struct sess *const *members, size_t n, uint64_t now_ms,
		    uint64_t ring_ms, struct call_outs *o)
{
	struct call *c;

	outs_init(o, NULL);
	snprintf(o->group, sizeof(o->group), "%s", group);
	*cp = NULL;
	if (n == 0) { /* nobody free: no call was ever made */
		out(o, caller, NULL, TALK_BUSY, true, false);
		return 0;
	}
	c = call_alloc(caller, now_ms, ring_ms);
	if (!c)
		return -ENOMEM;
	snprintf(c->group, sizeof(c->group), "%s", group);
	for (size_t i = 0; i < n && c->nrung < IC_RING_GROUP_MAX; i++) {
		c->rung[c->nrung++] = members[i];
		out(o, members[i], caller, TALK_REQUEST, true, false);
		o->o[o->n - 1].room = true;
	}
	*cp = c;
	return 0;
}

void call_free(struct call *c)
{
	free(c);
}

struct sess *call_peer(const struct call *c, const struct sess *me)
{
	if (me == c->caller)
		return c->callee;
	if (me == c->callee || (group_ringing(c) && rung_index(c, me) >= 0))
		return c->caller;
	return NULL;
}

bool call_rings(const struct call *c, const struct sess *who)
{
	if (c->state != CALL_RINGING || !who)
		return false;
	return is_group(c) ? rung_index(c, who) >= 0 : c->callee == who;
}

/* Every party released, the call over. */
static void finish(struct call *c, struct call_outs *o)
{
	struct sess *all[CALL_OUT_MAX];
	size_t n = call_parties(c, all);

	for (size_t i = 0; i < n; i++)
		out(o, all[i], NULL, TALK_END, false, true);
	o->over = true;
}

/* Member i of a ringing group stops ringing (told End when told), a refusal: the last
 * one tells the caller the group denied, and the call is over. */
static void stop_ring(struct call *c, unsigned i, bool told, struct call_outs *o)
{
	struct sess *m = rung_remove(c, i);

	out(o, m, c->caller, TALK_END, told, true);
	if (c->nrung == 0) {
		out(o, c->caller, NULL, TALK_DENY, true, false);
		finish(c, o);
	}
}

/* Every member still ringing is told End from the caller and released. */
static void stop_all(struct call *c, struct call_outs *o)
{
	for (unsigned i = 0; i < c->nrung; i++)
		out(o, c->rung[i], c->caller, TALK_END, true, true);
	c->nrung = 0;
}

int call_answer(struct call *c, struct sess *who, const struct sess *from, bool accept,
		struct call_outs *o)
{
	int i = rung_index(c, who);

	outs_init(o, c);
	if (!call_rings(c, who) || c->caller != from)
		return -EPERM;
	if (is_group(c) && !accept) {
		stop_ring(c, (unsigned)i, false, o);
		return 0;
	}
	out(o, c->caller, who, accept ? TALK_ACCEPT : TALK_DENY, true, false);
	if (!accept) {
		finish(c, o);
		return 0;
	}
	if (is_group(c)) { /* the first Accept wins: it is a 1:1 call from here on */
		rung_remove(c, (unsigned)i);
		stop_all(c, o);
		c->group[0] = '\0';
		c->callee = who;
	}
	c->state = CALL_ACTIVE;
	return 0;
}

int call_end(struct call *c, struct sess *who, struct sess *other, struct call_outs *o)
{
	int i = rung_index(c, who);

	outs_init(o, c);
	if (!other)
		return -EPERM;
	if (group_ringing(c)) {
		if (i < 0 || other != c->caller)
			return -EPERM; /* the caller's call is with the room */
		stop_ring(c, (unsigned)i, false, o);
		return 0;
	}
	if (call_peer(c, who) != other)
		return -EPERM;
	out(o, other, who, TALK_END, true, false);
	finish(c, o);
	return 0;
}

int call_end_group(struct call *c, struct sess *who, const char *group,
		   struct call_outs *o)
{
	outs_init(o, c);
	if (!group_ringing(c) || who != c->caller || !names_equal(group, c->group))
		return -EPERM;
	stop_all(c, o);
	finish(c, o);
	return 0;
}

void call_leave(struct call *c, struct sess *who, struct call_outs *o)
{
	int i = rung_index(c, who);
	struct sess *peer;

	outs_init(o, c);
	if (group_ringing(c)) {
		if (who == c->caller) {
			stop_all(c, o);
			finish(c, o);
		} else if (i >= 0) {
			stop_ring(c, (unsigned)i, false, o);
		}
		return;
	}
	peer = call_peer(c, who);
	if (peer)
		out(o, peer, who, TALK_END, true, false);
	finish(c, o);
}

int call_part(struct call *c, struct sess *who, const char *room, struct call_outs *o)
{
	int i = rung_index(c, who);

	outs_init(o, c);
	if (!group_ringing(c) || i < 0 || !names_equal(room, c->group))
		return -ENOENT;
	stop_ring(c, (unsigned)i, true, o);
	return 0;
}

bool call_expire(struct call *c, uint64_t now_ms, struct call_outs *o)
{
	outs_init(o, c);
	if (!call_ring_expired(c, now_ms))
		return false;
	if (is_group(c)) {
		out(o, c->caller, NULL, TALK_END, true, false);
		stop_all(c, o);
	} else {
		out(o, c->caller, c->callee, TALK_END, true, false);
		out(o, c->callee, c->caller, TALK_END, true, false);
	}
	finish(c, o);
	return true;
}

size_t call_parties(const struct call *c, struct sess **all)
{
	size_t n = 0;

	all[n++] = c->caller;
	if (c->callee)
		all[n++] = c->callee;
	for (unsigned i = 0; i < c->nrung; i++)
		all[n++] = c->rung[i];
	return n;
}

bool call_active(const struct call *c)
{
	return c->state == CALL_ACTIVE;
}

bool call_ring_expired(const struct call *c, uint64_t now_ms)
{
	return c->state == CALL_RINGING && now_ms >= c->ring_due_ms;
}
