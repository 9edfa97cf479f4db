/* hub.c: sessions' life cycle: open, input, timers, leaving. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_int.h"
#include "log.h"
#include "names.h"

/* 256 buckets for nicks and ssrcs: chains of about 4 at 1000 clients. */
#define SESS_HASH_BITS 8

int hub_new(struct hub **hp, const struct hub_conf *conf)
{
	struct hub *h = calloc(1, sizeof(*h));
	int err = -ENOMEM;

	if (!h)
		return -ENOMEM;
	h->conf = *conf;
	h->gen = 1;
	strncpy(h->name, conf->name ? conf->name : "intercomd", IC_SERVER_NAME_MAX);
	h->conf.name = h->name;
	h->nslots = conf->max_clients + IC_RAW_SPARE;
	h->slots = calloc(h->nslots, sizeof(*h->slots));
	if (!h->slots)
		goto fail;
	err = hmap_init(&h->nicks, SESS_HASH_BITS);
	if (err)
		goto fail;
	err = hmap_init(&h->ssrcs, SESS_HASH_BITS);
	if (err)
		goto fail_nicks;
	err = rooms_init(&h->rooms);
	if (err)
		goto fail_ssrcs;
	err = guard_new(&h->guard, conf->max_pending_per_source);
	if (err)
		goto fail_rooms;
	guard_bucket_init(&h->evlog, IC_EVENT_LOG_BURST, 0);
	*hp = h;
	return 0;

fail_rooms:
	rooms_deinit(&h->rooms);
fail_ssrcs:
	hmap_deinit(&h->ssrcs);
fail_nicks:
	hmap_deinit(&h->nicks);
fail:
	free(h->slots);
	free(h);
	return err;
}

static void sess_free(struct sess *s)
{
	vc_free(s->c2s);
	vc_free(s->s2c);
	free(s->out);
	free(s);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	/* calls first, through their callers, so no session points at a freed call */
	for (unsigned i = 0; i < h->nslots; i++) {
		struct sess *s = h->slots[i];

		if (s && s->call && s->call->caller == s)
			talk_free(s->call);
	}
	for (unsigned i = 0; i < h->nslots; i++) {
		struct sess *s = h->slots[i];

		if (!s)
			continue;
		if (s->state != SESS_NEW) /* shutting down: last seen now; a binding
					     whose PONG never came undone */
			nickreg_leave(h, s);
		s->tp->ops->close(s->tp, false);
		sess_free(s);
	}
	rooms_deinit(&h->rooms);
	guard_free(h->guard);
	hmap_deinit(&h->ssrcs);
	hmap_deinit(&h->nicks);
	free(h->slots);
	free(h);
}

/* s's source address for the per-source guards (IPv4, or its IPv6 /64); -EINVAL for a
 * peer that is not IP (a test's fake: nothing to count). */
static int sess_source(const struct sess *s, struct addr_src *key)
{
	return addr_source((const struct sockaddr *)&s->peer_sa, s->peer_len, key);
}

/* Count s as pending at its source; over the limit it is told and leaves. */
static int open_guarded(struct hub *h, struct sess *s, uint64_t now)
{
	struct addr_src key;
	bool log_it;
	int err;

	if (sess_source(s, &key))
		return 0; /* not IP (a test's fake): no source to count */
	err = guard_pending_open(h->guard, &key, now, &s->pend, &log_it);
	if (err != -EUSERS)
		return err;
	h->stats.pending_refused++;
	if (log_it) {
		char src[64];

		addr_source_text(&key, src, sizeof(src));
		log_warn("connections from %s refused: %u not logged in already "
			 "(--max-pending-per-source; logged once a minute)",
			 src, h->conf.max_pending_per_source);
	}
	sess_error(h, s, ERR_SERVER_FULL, "too many connections from your address");
	sess_leave(s, "too many pending connections from its address", false);
	return 0;
}

bool sess_blocked(struct hub *h, struct sess *s, uint64_t now)
{
	struct addr_src key;

	if (!s->tls || sess_source(s, &key) || !guard_blocked(h->guard, &key, now))
		return false;
	h->stats.login_blocked++;
	sess_refuse(h, s, ERR_BLOCKED,
		    "too many failed logins from your address: try again in 5 minutes",
		    NULL);
	sess_leave(s, "its address is blocked (failed logins)", false);
	return true;
}

/* A failed login at s's source, whatever s speaks yet: the block it may start is logged
 * once. */
static void login_failed(struct hub *h, struct sess *s, uint64_t now)
{
	struct addr_src key;
	char src[64];

	if (sess_source(s, &key))
		return;
	h->stats.login_failed++;
	if (guard_login_failed(h->guard, &key, now) != 1)
		return;
	addr_source_text(&key, src, sizeof(src));
	log_warn("logins from %s blocked for %d s: more than %d failed within %d s", src,
		 IC_LOGIN_BLOCK_MS / 1000, IC_LOGIN_FAILS_MAX, IC_LOGIN_FAILS_MS / 1000);
}

struct guard *hub_guard(struct hub *h)
{
	return h->guard;
}

bool sess_host_open(struct hub *h, struct sess *s, uint64_t now)
{
	struct addr_src key;
	bool log_it;
	char src[64];
	int err;

	if (s->host || sess_source(s, &key))
		return true; /* counted already, or not IP (a test's fake) */
	err = guard_session_open(h->guard, &key, now, &s->host, &log_it);
	if (err != -EUSERS)
		return true; /* out of memory: not counted rather than refused */
	h->stats.sessions_refused++;
	if (log_it) {
		addr_source_text(&key, src, sizeof(src));
		log_warn("logins from %s refused: %d sessions from it already (trusted "
			 "sources are exempt: see `trusted`; logged once a minute)",
			 src, IC_SESSIONS_PER_SOURCE);
	}
	sess_refuse(h, s, ERR_SERVER_FULL, "too many sessions from your address", NULL);
	sess_leave(s, "too many sessions from its address", false);
	return false;
}

bool sess_host_take(struct sess *s, struct sess *old)
{
	struct addr_src a, b;

	if (sess_source(s, &a) || sess_source(old, &b) || memcmp(&a, &b, sizeof(a)))
		return true;
	s->host = old->host;
	old->host = NULL;
	return false;
}

void sess_host_done(struct hub *h, struct sess *s)
{
	guard_session_done(h->guard, s->host);
	s->host = NULL;
}

void sess_login_failed(struct hub *h, struct sess *s, uint64_t now)
{
	if (s->tls) /* --tls off is protocol 1.0: nothing is counted */
		login_failed(h, s, now);
}

/* The table is full: sessions already leaving are reaped now; if that is not room, the
 * oldest connection not logged in of the source holding the most is closed now
 * (guard_pending_victim), so one host's idle connections, from however
 * many addresses, cannot keep others out. True when a slot was freed. */
static bool make_room(struct hub *h, const struct sockaddr *peer, socklen_t peerlen,
		      uint64_t now)
{
	struct addr_src key, vkey;
	struct guard_link *l;
	struct sess *v;
	bool log_it;
	char src[64];

	if (h->reap) { /* sessions already leaving hold slots until the reap */
		hub_reap(h, NULL, NULL);
		if (h->nopen < h->nslots)
			return true;
	}
	if (!peer || addr_source(peer, peerlen, &key))
		return false;
	l = guard_pending_victim(h->guard, &key, now, &log_it);
	if (!l)
		return false;
	v = (struct sess *)(void *)((char *)l - offsetof(struct sess, pend));
	h->stats.pending_evicted++;
	if (log_it && !sess_source(v, &vkey)) {
		addr_source_text(&vkey, src, sizeof(src));
		log_warn(
		    "connections from %s closed for newcomers: the table is full and "
		    "it holds the most not logged in (logged once a minute)",
		    src);
	}
	sess_leave(v,
		   "closed for a newcomer: its address held the most connections "
		   "not logged in",
		   true);
	hub_reap(h, NULL, NULL); /* its slot now, not at the end of the pass */
	return h->nopen < h->nslots;
}

int hub_open(struct hub *h, struct transport *tp, const struct sockaddr *peer,
	     socklen_t peerlen, uint64_t now, struct sess **sp)
{
	struct sess *s;
	unsigned slot;

	h->now = now;
	if (h->nopen >= h->nslots && !make_room(h, peer, peerlen, now))
		return -EMFILE;
	for (slot = 0; h->slots[slot]; slot++)
		;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->id = ++h->next_id;
	if (!s->id) /* 0 is no session (a registry binding pending on none) */
		s->id = ++h->next_id;
	s->slot = slot;
	s->hub = h;
	s->tp = tp;
	if (peer && peerlen <= sizeof(s->peer_sa)) {
		memcpy(&s->peer_sa, peer, peerlen);
		s->peer_len = peerlen;
	}
	addr_text(peer, peer ? peerlen : 0, s->peer, sizeof(s->peer));
	s->state = SESS_NEW;
	s->opened_ms = now;
	line_init(&s->lb);
	rate_init(&s->rate, now);
	seqwin_init(&s->win);
	guard_voice_init(&s->vrate, now);
	talk_open(s, now);
	if (open_guarded(h, s, now)) {
		free(s);
		return -ENOMEM;
	}
	h->slots[slot] = s;
	h->nopen++;
	log_debug("session %u from %s: connected", s->id, s->peer);
	*sp = s;
	return 0;
}

void hub_secure(struct hub *h, struct sess *s, const char *fp, uint64_t now)
{
	s->tls = true;
	snprintf(s->fp, sizeof(s->fp), "%s", fp ? fp : "");
	log_debug("session %u from %s: TLS up, %s", s->id, s->peer,
		  fp ? fp : "no client certificate");
	(void)sess_blocked(h, s, now); /* its handshake, then BLOCKED at once */
}

void hub_handshake_failed(struct hub *h, struct sess *s, uint64_t now)
{
	login_failed(h, s, now); /* it began as TLS (0x16): counted, section 3 says */
}

void hub_tls_required(struct hub *h, struct sess *s)
{
	sess_refuse(h, s, ERR_TLS_REQUIRED, "this server accepts TLS only", NULL);
	sess_leave(s, "plaintext to a TLS server", false);
}

void hub_input(struct hub *h, struct sess *s, const char *data, size_t len, uint64_t now)
{
	char buf[IC_LINE_MAX + 1];

	h->now = now;
	h->gen++; /* a line may join, part, call or answer */
	while (len > 0 && !s->leaving) {
		enum line_ev ev;
		const char *line = NULL;
		size_t ll = 0, used = line_feed(&s->lb, data, len, &ev, &line, &ll);

		data += used;
		len -= used;
		if (ev == LINE_NONE)
			break;
		switch (rate_take(&s->rate, now)) {
		case RATE_OK:
			break;
		case RATE_DROP:
			continue;
		case RATE_DROP_NOTIFY:
			sess_error(h, s, ERR_FLOOD,
				   "too many lines, slow down (lines are dropped)");
			continue;
		case RATE_KICK:
			sess_error(h, s, ERR_FLOOD, "flood goes on: disconnecting");
			sess_leave(s, "flood", false);
			return;
		}
		if (ev == LINE_TOO_LONG) {
			sess_error(h, s, ERR_LINE_TOO_LONG,
				   "lines are at most 512 bytes");
			continue;
		}
		if (!names_text_valid(line, ll)) {
			sess_error(h, s, ERR_BAD_ENCODING,
				   "not UTF-8 text, or control bytes");
			continue;
		}
		if (ll == 0)
			continue;
		memcpy(buf, line, ll + 1);
		cmd_dispatch(h, s, buf, now);
	}
}

void hub_hangup(struct hub *h, struct sess *s, const char *why)
{
	(void)h;
	sess_leave(s, why, true);
}

bool hub_pending(const struct sess *s)
{
	return s->out_len > s->out_head;
}

void hub_flush(struct hub *h, struct sess *s)
{
	while (hub_pending(s) && !s->out_dead) {
		ssize_t n = s->tp->ops->send(s->tp, s->out + s->out_head,
					     s->out_len - s->out_head);

		if (n == -EAGAIN || n == 0)
			return;
		if (n < 0) {
			sess_leave(s, "write failed", true);
			return;
		}
		s->out_head += (size_t)n;
	}
	if (!hub_pending(s)) { /* drained: a reader that caught up holds no queue */
		free(s->out);
		s->out = NULL;
		s->out_head = s->out_len = s->out_cap = 0;
		roster_drained(h, s);
	}
}

bool hub_event_log_ok(struct hub *h)
{
	if (guard_bucket_take(&h->evlog, IC_EVENT_LOG_PER_SEC, IC_EVENT_LOG_BURST, 1,
			      h->now))
		return true;
	h->evlog_dropped++;
	h->stats.events_unlogged++;
	return false;
}

/* The count of session events left out, once per IC_STATUS_LOG_MS at most. */
static void event_log_report(struct hub *h, uint64_t now)
{
	if (!h->evlog_dropped || now < h->evlog_report_ms)
		return;
	log_warn("%llu login, leave and refusal lines not logged (more than %d a second: "
		 "a host logging in and out in a loop?)",
		 (unsigned long long)h->evlog_dropped, IC_EVENT_LOG_PER_SEC);
	h->evlog_dropped = 0;
	h->evlog_report_ms = now + IC_STATUS_LOG_MS;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t tick_sess(struct hub *h, struct sess *s, uint64_t now, uint64_t next)
{
	const struct hub_conf *c = &h->conf;

	if (s->state != SESS_ONLINE) {
		if (now >= s->opened_ms + c->ping_timeout_ms) {
			sess_leave(s, "login timeout", false);
			return next;
		}
		return min_u64(next, s->opened_ms + c->ping_timeout_ms);
	}
	if (s->ping_out) {
		if (now >= s->ping_sent_ms + c->ping_timeout_ms) {
			sess_leave(s, "ping timeout", false);
			return next;
		}
		return min_u64(next, s->ping_sent_ms + c->ping_timeout_ms);
	}
	if (now >= s->next_ping_ms) {
		char cookie[16];
		uint32_t v = 0;

		sess_rand(h, &v, sizeof(v));
		snprintf(cookie, sizeof(cookie), "%u", (unsigned)v);
		s->ping_cookie = v;
		s->ping_out = true;
		s->ping_sent_ms = now;
		sess_line(h, s, "PING", NULL, cookie);
		return min_u64(next, now + c->ping_timeout_ms);
	}
	return min_u64(next, s->next_ping_ms);
}

uint64_t hub_tick(struct hub *h, uint64_t now)
{
	uint64_t next = now + 3600 * 1000;

	h->now = now;
	next = min_u64(next, roster_flush(h, now));
	guard_tick(h->guard, now);
	event_log_report(h, now);
	for (unsigned i = 0; i < h->nslots; i++) {
		struct sess *s = h->slots[i];
		struct call *c;

		if (!s || s->leaving)
			continue;
		next = tick_sess(h, s, now, next);
		c = s->call;
		if (c && c->caller == s && !s->leaving)
			talk_tick(h, c, now, &next);
	}
	return next;
}

static void sess_finish(struct hub *h, struct sess *s)
{
	talk_leave(h, s);
	cmd_part_all(h, s);
	guard_pending_done(h->guard, &s->pend);
	sess_host_done(h, s);
	if (s->state != SESS_NEW) {
		nickreg_leave(h, s);
		hmap_del(&h->nicks, &s->nick_node);
		hmap_del(&h->ssrcs, &s->ssrc_node);
		h->nlogin--;
	}
	if (!s->out_dead)
		hub_flush(h, s);
	if (s->state == SESS_NEW)
		log_debug("session %u from %s: closed (%s)", s->id, s->peer, s->why);
	else if (hub_event_log_ok(h))
		log_info("%s (session %u) left: %s", s->nick, s->id, s->why);
}

void hub_reap(struct hub *h, void (*closed)(void *arg, struct transport *tp, bool abort),
	      void *arg)
{
	struct sess *s;

	/* finishing one session can make others leave (a full queue): they join the list
	 */
	while ((s = h->reap)) {
		h->reap = s->reap_next;
		sess_finish(h, s);
		h->slots[s->slot] = NULL;
		h->nopen--;
		if (closed)
			closed(arg, s->tp, s->out_dead);
		else
			s->tp->ops->close(s->tp, s->out_dead);
		sess_free(s);
	}
}

void hub_get_stats(const struct hub *h, struct hub_stats *st)
{
	*st = h->stats;
	st->sessions = h->nopen;
	st->logged_in = h->nlogin;
}
