#include "call.h"

#include <errno.h>
#include <stdlib.h>

int call_new(struct call **cp, struct sess *caller, struct sess *callee, uint64_t now_ms,
	     uint64_t ring_ms)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->caller = caller;
	c->callee = callee;
	c->state = CALL_RINGING;
	c->ring_due_ms = now_ms + ring_ms;
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
	if (me == c->callee)
		return c->caller;
	return NULL;
}

int call_answer(struct call *c, const struct sess *who, const struct sess *from,
		bool accept)
{
	if (c->state != CALL_RINGING || c->callee != who || c->caller != from)
		return -EPERM;
	if (accept)
		c->state = CALL_ACTIVE;
	return 0;
}

int call_check_end(const struct call *c, const struct sess *who, const struct sess *other)
{
	if (!other || call_peer(c, who) != other)
		return -EPERM;
	return 0;
}

bool call_active(const struct call *c)
{
	return c->state == CALL_ACTIVE;
}

bool call_ring_expired(const struct call *c, uint64_t now_ms)
{
	return c->state == CALL_RINGING && now_ms >= c->ring_due_ms;
}
