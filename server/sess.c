/* sess.c: a session's output queue, lookups and the start of leaving. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hub_int.h"
#include "log.h"
#include "names.h"

static int out_reserve(struct sess *s, size_t more)
{
	size_t need = s->out_len + more, cap;
	char *p;

	if (s->out_head > 0) { /* compact before growing */
		memmove(s->out, s->out + s->out_head, s->out_len - s->out_head);
		s->out_len -= s->out_head;
		s->out_head = 0;
		need = s->out_len + more;
	}
	if (need <= s->out_cap)
		return 0;
	cap = s->out_cap ? s->out_cap : 4096;
	while (cap < need)
		cap *= 2;
	p = realloc(s->out, cap);
	if (!p)
		return -ENOMEM;
	s->out = p;
	s->out_cap = cap;
	return 0;
}

void sess_send(struct sess *s, const char *data, size_t len)
{
	size_t queued = s->out_len - s->out_head;
	ssize_t n = 0;

	/* what was queued before leaving still goes out once, in hub_reap */
	if (s->leaving)
		return;
	if (queued == 0) {
		n = s->tp->ops->send(s->tp, data, len);
		if (n == -EAGAIN)
			n = 0;
		if (n < 0) {
			sess_leave(s, "write failed", true);
			return;
		}
		if ((size_t)n == len)
			return;
	}
	if (queued + len - (size_t)n > IC_OUTQ_MAX) {
		sess_leave(s, "output queue full (not reading)", true);
		return;
	}
	if (out_reserve(s, len - (size_t)n)) {
		sess_leave(s, "out of memory for output", true);
		return;
	}
	memcpy(s->out + s->out_len, data + n, len - (size_t)n);
	s->out_len += len - (size_t)n;
}

void sess_line(struct hub *h, struct sess *s, const char *verb, const char *target,
	       const char *args)
{
	int n = msg_fmt(h->line, sizeof(h->line), verb, target, args);

	if (n > 0)
		sess_send(s, h->line, (size_t)n);
}

void sess_error(struct hub *h, struct sess *s, enum msg_err code, const char *text)
{
	int n = msg_fmt_error(h->line, sizeof(h->line), code, text);

	if (n > 0)
		sess_send(s, h->line, (size_t)n);
}

void sess_refuse(struct hub *h, struct sess *s, enum msg_err code, const char *text,
		 const char *nick)
{
	/* the reason is the code and what the box is told: never what it sent (a
	 * password, a key), only the nick it asked for and its key's fingerprint; logged
	 * before the answer, so whoever reads the answer finds the line written */
	if (hub_event_log_ok(h))
		log_info("login refused: session %u from %s%s%s%s%s: %s (%s)", s->id,
			 s->peer, nick ? ", nick " : "", nick ? nick : "",
			 s->fp[0] ? ", key " : "", s->fp, msg_err_name(code), text);
	sess_error(h, s, code, text);
}

/* Leaving goes through a list that hub_reap() drains, so no handler ever frees a session
 * (or changes a room's member list) while a caller up the stack is still walking it. */
void sess_leave(struct sess *s, const char *why, bool out_dead)
{
	struct hub *h = s->hub;

	if (out_dead)
		s->out_dead = true;
	if (s->leaving)
		return;
	s->leaving = true;
	h->gen++;
	s->why = why;
	s->reap_next = h->reap;
	h->reap = s;
}

bool sess_online(const struct sess *s)
{
	return s && s->state == SESS_ONLINE && !s->leaving;
}

struct sess *sess_by_nick(const struct hub *h, const char *nick)
{
	uint32_t hash = hmap_hash_icase(nick);
	struct sess *leaving = NULL;

	for (struct hnode *n = hmap_bucket(&h->nicks, hash); n; n = n->next) {
		struct sess *s = hmap_entry(n, struct sess, nick_node);

		if (n->hash != hash || !names_equal(s->nick, nick))
			continue;
		if (!s->leaving)
			return s;
		leaving = s; /* replaced, until the reap: its successor comes first */
	}
	return leaving;
}

struct sess *sess_by_ssrc(const struct hub *h, uint32_t ssrc)
{
	uint32_t hash = hmap_hash_u32(ssrc);

	for (struct hnode *n = hmap_bucket(&h->ssrcs, hash); n; n = n->next) {
		struct sess *s = hmap_entry(n, struct sess, ssrc_node);

		if (s->ssrc == ssrc)
			return s;
	}
	return NULL;
}

int sess_rand(const struct hub *h, void *buf, size_t len)
{
	if (h->conf.rand)
		return h->conf.rand(buf, len);
	if (getrandom(buf, len, 0) != (ssize_t)len)
		return -EIO;
	return 0;
}
