/* roster.c: USERLIST lines: who gets a room's list and when.
 *
 * A room change (a join, a part, a leave) gives the room a new list version. The members
 * get the current list at most once per IC_LIST_COALESCE_MS per room: the first change at
 * once, the ones after it within the window together at its end. A member whose own
 * output queue is not empty gets nothing new then: it gets the current list when its
 * queue drains. So at most one list of a room ever waits in a member's queue, and a host
 * churning in and out costs each member a bounded number of lists a second, whatever its
 * churn rate. The joiner's own list and answers to USERLIST go at once. */
#include <stdio.h>

#include "hub_int.h"

/* The list of r into h->line; returns its length, 0 if it cannot be formatted. */
static size_t format(struct hub *h, const struct room *r)
{
	char *buf = h->line;
	size_t size = sizeof(h->line);
	int n = snprintf(buf, size, "USERLIST %s: ", r->name);

	for (size_t i = 0; i < r->n && n > 0 && (size_t)n < size; i++)
		n += snprintf(buf + n, size - (size_t)n, "%s%s", i ? ", " : "",
			      r->members[i]->nick);
	if (n <= 0 || (size_t)n + 1 >= size)
		return 0; /* cannot happen within IC_OUT_LINE_MAX; never send a cut list
			   */
	buf[n++] = '\n';
	return (size_t)n;
}

static int room_index(const struct sess *s, const struct room *r)
{
	for (unsigned i = 0; i < s->nrooms; i++) {
		if (s->rooms[i] == r)
			return (int)i;
	}
	return -1;
}

void roster_send(struct hub *h, struct room *r, struct sess *s)
{
	size_t n = format(h, r);
	int i = room_index(s, r);

	if (n)
		sess_send(s, h->line, n);
	if (i >= 0)
		s->list_seen[i] = r->list_gen;
}

static void unlink_due(struct hub *h, struct room *r)
{
	if (!r->list_due_ms)
		return;
	if (r->due_prev)
		r->due_prev->due_next = r->due_next;
	else
		h->lists_due = r->due_next;
	if (r->due_next)
		r->due_next->due_prev = r->due_prev;
	r->due_prev = r->due_next = NULL;
	r->list_due_ms = 0;
}

/* Every member without the current list whose queue is empty gets it now. */
static void flush_room(struct hub *h, struct room *r, uint64_t now)
{
	size_t n = 0;

	unlink_due(h, r);
	r->list_last_ms = now;
	for (size_t k = 0; k < r->n; k++) {
		struct sess *m = r->members[k];
		int i = room_index(m, r);

		if (i < 0 || m->leaving || m->list_seen[i] == r->list_gen ||
		    hub_pending(m))
			continue;
		if (!n && !(n = format(h, r)))
			return;
		sess_send(m, h->line, n);
		m->list_seen[i] = r->list_gen;
	}
}

void roster_changed(struct hub *h, struct room *r, struct sess *told)
{
	uint64_t due;

	r->list_gen++;
	if (told)
		roster_send(h, r, told);
	if (r->list_due_ms)
		return; /* the window's end sends this change too */
	due = r->list_last_ms + IC_LIST_COALESCE_MS;
	if (!r->list_last_ms || due <= h->now) {
		flush_room(h, r, h->now);
		return;
	}
	r->list_due_ms = due;
	r->due_prev = NULL;
	r->due_next = h->lists_due;
	if (h->lists_due)
		h->lists_due->due_prev = r;
	h->lists_due = r;
}

void roster_forget(struct hub *h, struct room *r)
{
	unlink_due(h, r);
}

uint64_t roster_flush(struct hub *h, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	struct room *r = h->lists_due;

	while (r) {
		struct room *nr = r->due_next;

		if (r->list_due_ms <= now)
			flush_room(h, r, now);
		else if (r->list_due_ms < next)
			next = r->list_due_ms;
		r = nr;
	}
	return next;
}

void roster_drained(struct hub *h, struct sess *s)
{
	for (unsigned i = 0; i < s->nrooms && !s->leaving && !hub_pending(s); i++) {
		struct room *r = s->rooms[i];

		/* a scheduled room sends at the end of its window */
		if (s->list_seen[i] != r->list_gen && !r->list_due_ms)
			roster_send(h, r, s);
	}
}

uint64_t hub_next_due(const struct hub *h)
{
	uint64_t next = UINT64_MAX;

	for (const struct room *r = h->lists_due; r; r = r->due_next) {
		if (r->list_due_ms < next)
			next = r->list_due_ms;
	}
	return next;
}
