/* cmd.c: one handler per client verb, dispatched through a table. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "hub_int.h"
#include "log.h"
#include "names.h"

typedef void(cmd_h)(struct hub *h, struct sess *s, struct msg *m, uint64_t now);

/* ---- rooms ---- */

static int sess_room_index(const struct sess *s, const struct room *r)
{
	for (unsigned i = 0; i < s->nrooms; i++) {
		if (s->rooms[i] == r)
			return (int)i;
	}
	return -1;
}

/* Take room i out of s's list (the rooms after it move up). */
static void sess_room_remove(struct sess *s, unsigned i)
{
	memmove(&s->rooms[i], &s->rooms[i + 1],
		(s->nrooms - i - 1) * sizeof(s->rooms[0]));
	memmove(&s->list_seen[i], &s->list_seen[i + 1],
		(s->nrooms - i - 1) * sizeof(s->list_seen[0]));
	s->nrooms--;
}

/* Move room i to the end of s's list: it becomes the voice room. */
static void sess_room_to_end(struct sess *s, unsigned i)
{
	struct room *r = s->rooms[i];
	uint32_t seen = s->list_seen[i];

	sess_room_remove(s, i);
	s->rooms[s->nrooms] = r;
	s->list_seen[s->nrooms++] = seen;
}

void cmd_join_room(struct hub *h, struct sess *s, const char *name)
{
	struct room *r = rooms_find(&h->rooms, name);
	int i = r ? sess_room_index(s, r) : -1;
	int err;

	if (i >= 0) { /* already in: answer it alone, and it is the voice room again */
		sess_room_to_end(s, (unsigned)i);
		sess_line(h, s, "JOINED", NULL, r->name);
		roster_send(h, r, s);
		return;
	}
	if (s->nrooms >= IC_ROOMS_PER_CLIENT) {
		sess_error(h, s, ERR_TOO_MANY_ROOMS,
			   "at most 16 rooms at once: PART one first");
		return;
	}
	err = rooms_join(&h->rooms, name, s, &r);
	if (err) {
		sess_error(h, s, ERR_BAD_ROOM,
			   "cannot create the room now (out of memory)");
		return;
	}
	s->list_seen[s->nrooms] = 0;
	s->rooms[s->nrooms++] = r;
	log_debug("%s joined %s", s->nick, r->name);
	sess_line(h, s, "JOINED", NULL, r->name);
	roster_changed(h, r, s); /* the joiner's own list at once; others coalesced */
}

static void part_room(struct hub *h, struct sess *s, unsigned i, bool tell)
{
	struct room *r = s->rooms[i];
	bool gone;

	sess_room_remove(s, i);
	if (tell)
		sess_line(h, s, "PARTED", NULL, r->name);
	gone = r->n == 1 && !r->permanent;
	if (gone)
		roster_forget(h, r);
	rooms_part(&h->rooms, r, s);
	if (!gone)
		roster_changed(h, r, NULL);
}

void cmd_part_all(struct hub *h, struct sess *s)
{
	while (s->nrooms > 0)
		part_room(h, s, s->nrooms - 1, false);
}

/* ---- handlers ---- */

/* given (NULL: none sent) against want, in time that tells nothing of either: both
 * hashed, the digests compared with CRYPTO_memcmp. */
static bool password_ok(const char *given, const char *want)
{
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	bool ok;

	if (!given)
		return false;
	SHA256((const unsigned char *)given, strlen(given), a);
	SHA256((const unsigned char *)want, strlen(want), b);
	ok = CRYPTO_memcmp(a, b, sizeof(a)) == 0;
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

/* The nick's old session: none, or one leaving, lets the login go on; one of the same
 * box (the same key over TLS: back from a Wi-Fi drop before its old session timed out)
 * is replaced, told REPLACED and closed (its rooms and call told as for any leave);
 * any other is NICK_IN_USE. */
static bool same_box(const struct sess *s, const struct sess *old)
{
	return s->tls && old->tls && s->fp[0] && !strcmp(old->fp, s->fp);
}

static bool nick_free(struct hub *h, struct sess *s, const char *nick)
{
	struct sess *old = sess_by_nick(h, nick);

	if (!old || old->leaving)
		return true;
	if (same_box(s, old)) {
		sess_error(h, old, ERR_REPLACED, "logged in again from the same box");
		sess_leave(old, "replaced by a new login from the same box", false);
		/* out of its call and rooms now, not at the reap: the new login's PONG
		 * may be read in this same pass, and the rooms must never hold the box
		 * twice */
		talk_leave(h, old);
		cmd_part_all(h, old);
		return true;
	}
	sess_refuse(h, s, ERR_NICK_IN_USE, "that nick is taken, choose another", nick);
	return false;
}

/* A failed login by section 3's list: answered, and counted at its source. */
static bool refuse(struct hub *h, struct sess *s, const struct msg_connect *c,
		   enum msg_err code, const char *text, uint64_t now)
{
	sess_refuse(h, s, code, text, c->nick);
	sess_login_failed(h, s, now);
	return false;
}

/* The 1.1 checks after the parse (section 3, in its order), and then the nick's old
 * session; the first failure is answered. True when CONNECT may go on. */
static bool connect_allowed(struct hub *h, struct sess *s, const struct msg_connect *c,
			    uint64_t now)
{
	if (s->tls && c->minor < 1)
		return refuse(h, s, c, ERR_BAD_VERSION,
			      "over TLS this server speaks protocol 1.1.0 or later", now);
	if (s->tls && !s->fp[0] && !h->conf.guests)
		return refuse(h, s, c, ERR_NO_IDENTITY,
			      "this server needs a box identity: reconnect with a client "
			      "certificate",
			      now);
	if (s->tls && h->conf.password && h->conf.password[0] &&
	    !password_ok(c->password, h->conf.password))
		return refuse(
		    h, s, c, ERR_BAD_PASSWORD,
		    c->password ? "wrong password" : "this server needs a password", now);
	if (!nickreg_check(h, s, c->nick, now))
		return false;
	return nick_free(h, s, c->nick) && nickreg_bind(h, s, c->nick);
}

/* The session's voice credentials: 1.0's token, or over TLS two fresh keys (the
 * contexts kept, the keys themselves only until VOICE is written). */
static int voice_creds(struct hub *h, struct sess *s, struct vc_key *c2s,
		       struct vc_key *s2c)
{
	int e;

	if (!s->tls)
		return sess_rand(h, s->token, sizeof(s->token));
	e = vc_key_random(c2s) || vc_key_random(s2c) ? -EIO : 0;
	if (!e)
		e = vc_new(&s->c2s, c2s, false);
	if (!e)
		e = vc_new(&s->s2c, s2c, true);
	ctrwin_init(&s->cwin);
	return e;
}

static void send_voice(struct hub *h, struct sess *s, const struct vc_key *c2s,
		       const struct vc_key *s2c)
{
	int n = s->tls ? msg_fmt_voice_tls(h->line, sizeof(h->line), h->conf.udp_port,
					   s->ssrc, c2s, s2c)
		       : msg_fmt_voice(h->line, sizeof(h->line), h->conf.udp_port,
				       s->ssrc, s->token);

	if (n > 0)
		sess_send(s, h->line, (size_t)n);
	if (n > 0 && s->tls)
		explicit_bzero(h->line, (size_t)n); /* keys: not left in scratch */
}

static void cmd_connect(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	struct msg_connect c;
	struct sess *old;
	enum msg_err e;

	if (s->state != SESS_NEW) {
		sess_error(h, s, ERR_ALREADY_LOGGED_IN,
			   "this connection is logged in already");
		return;
	}
	if (h->nlogin >= h->conf.max_clients) {
		sess_refuse(h, s, ERR_SERVER_FULL, "the server is full, try again later",
			    NULL);
		sess_leave(s, "server full", false);
		return;
	}
	if (sess_blocked(h, s, now)) /* first of section 3's checks */
		return;
	e = msg_parse_connect((char *)m->args, &c);
	if (e) {
		static const char *const why[ERR_COUNT] = {
		    [ERR_BAD_ARGS] = "expected: CONNECT: \"Nick\" \"Real Name\" 1.1.0",
		    [ERR_BAD_NICK] = "nick: 1-32 of A-Z a-z 0-9 _ - .",
		    [ERR_BAD_VERSION] = "this server speaks protocol 1.x.y",
		};
		sess_refuse(h, s, e, why[e], NULL); /* no nick: it may not be one */
		if (e == ERR_BAD_VERSION)
			sess_login_failed(h, s, now);
		return;
	}
	/* one host's share of the sessions, before a nick is bound for it; a box back
	 * from a Wi-Fi drop takes its old session's place, not one more */
	old = sess_by_nick(h, c.nick);
	if (old && (old->leaving || !same_box(s, old) || !old->host))
		old = NULL;
	if (!old && !sess_host_open(h, s, now))
		return;
	if (!connect_allowed(h, s, &c, now)) {
		sess_host_done(h, s); /* it may try again on this connection */
		return;
	}
	if (old && sess_host_take(s, old))
		(void)sess_host_open(h, s, now); /* it moved: counted where it is now */
	do { /* a unique ssrc: retry on the rare clash */
		if (sess_rand(h, &s->ssrc, sizeof(s->ssrc)))
			s->ssrc++;
	} while (sess_by_ssrc(h, s->ssrc));
	strcpy(s->nick, c.nick);
	strcpy(s->realname, c.realname);
	s->minor = c.minor;
	hmap_add(&h->nicks, &s->nick_node, hmap_hash_icase(c.nick));
	hmap_add(&h->ssrcs, &s->ssrc_node, hmap_hash_u32(s->ssrc));
	h->nlogin++;
	s->state = SESS_AWAIT_PONG;
	if (!nickreg_waits(h, s)) /* else its binding is saved first */
		cmd_login_answer(h, s, now);
}

void cmd_login_answer(struct hub *h, struct sess *s, uint64_t now)
{
	struct vc_key c2s, s2c;
	char cookie[16];
	uint32_t v;

	if (voice_creds(h, s, &c2s, &s2c) || sess_rand(h, &v, sizeof(v))) {
		sess_refuse(h, s, ERR_SERVER_FULL,
			    "no randomness available, try again later", s->nick);
		sess_leave(s, "no randomness or no memory for voice keys", false);
		goto out;
	}
	s->ping_cookie = v;
	s->ping_out = true;
	s->ping_sent_ms = now;
	sess_line(h, s, "ACCEPT", NULL, h->name);
	nickreg_accepted(h, s);
	send_voice(h, s, &c2s, &s2c);
	snprintf(cookie, sizeof(cookie), "%u", (unsigned)v);
	sess_line(h, s, "PING", NULL, cookie);
out:
	vc_key_wipe(&c2s);
	vc_key_wipe(&s2c);
}

static void cmd_pong(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	uint32_t v;

	if (!s->ping_out || msg_parse_u32(m->args, &v) || v != s->ping_cookie)
		return; /* a wrong PONG is ignored */
	s->ping_out = false;
	s->next_ping_ms = now + h->conf.ping_interval_ms;
	if (s->state == SESS_AWAIT_PONG) {
		s->state = SESS_ONLINE;
		guard_pending_done(h->guard, &s->pend); /* logged in: no longer pending */
		if (hub_event_log_ok(h))
			log_info("%s (session %u) logged in from %s", s->nick, s->id,
				 s->peer);
		nickreg_login(h, s);
		cmd_join_room(h, s, ROOM_LOBBY);
	}
}

static void cmd_ping(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	(void)now;
	sess_line(h, s, "PONG", NULL, m->args);
}

static void cmd_disconnect(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	(void)h, (void)m, (void)now;
	sess_leave(s, "disconnected", false);
}

/* The room named by a JOIN/PART/USERLIST: the argument, or else the target. */
static const char *room_arg(const struct msg *m)
{
	return m->args && *m->args ? m->args : m->target;
}

static void cmd_join(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	const char *name = room_arg(m);

	(void)now;
	if (!names_room_valid(name)) {
		sess_error(h, s, ERR_BAD_ROOM, "room: # and 1-32 of A-Z a-z 0-9 _ - .");
		return;
	}
	cmd_join_room(h, s, name);
}

/* The index of the room `name` in s's list, or -1 after answering the error. */
static int member_room(struct hub *h, struct sess *s, const char *name)
{
	struct room *r;
	int i;

	if (!names_room_valid(name)) {
		sess_error(h, s, ERR_BAD_ROOM, "room: # and 1-32 of A-Z a-z 0-9 _ - .");
		return -1;
	}
	r = rooms_find(&h->rooms, name);
	i = r ? sess_room_index(s, r) : -1;
	if (i < 0)
		sess_error(h, s, ERR_NOT_IN_ROOM, "you are not in that room");
	return i;
}

static void cmd_part(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	int i = member_room(h, s, room_arg(m));

	(void)now;
	if (i < 0)
		return;
	talk_part(h, s, s->rooms[i]->name); /* a ring from that room stops */
	part_room(h, s, (unsigned)i, true);
}

static void cmd_userlist_req(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	int i = member_room(h, s, room_arg(m));

	(void)now;
	if (i >= 0)
		roster_send(h, s->rooms[i], s);
}

static void cmd_privmsg(struct hub *h, struct sess *s, struct msg *m, uint64_t now)
{
	(void)now;
	if (!m->target || !m->args || !*m->args) {
		sess_error(h, s, ERR_BAD_ARGS, "expected: PRIVMSG <nick|#room>: <text>");
		return;
	}
	if (m->target[0] == '#') {
		char head[IC_ROOM_MAX + IC_NICK_MAX + 2];
		int i = member_room(h, s, m->target);
		struct room *r;
		int n;

		if (i < 0)
			return;
		r = s->rooms[i];
		snprintf(head, sizeof(head), "%s %s", r->name, s->nick);
		n = msg_fmt(h->line, sizeof(h->line), "PRIVMSG", head, m->args);
		for (size_t k = 0; k < r->n && n > 0; k++) {
			if (r->members[k] != s)
				sess_send(r->members[k], h->line, (size_t)n);
		}
	} else {
		struct sess *t = sess_by_nick(h, m->target);

		if (!sess_online(t)) {
			sess_error(h, s, ERR_NO_SUCH_USER, "no such user online");
			return;
		}
		sess_line(h, t, "PRIVMSG", s->nick, m->args);
	}
}

static const struct {
	enum msg_verb verb;
	bool needs_login;
	cmd_h *h;
} cmds[] = {
    {MSG_CONNECT, false, cmd_connect},
    {MSG_PONG, false, cmd_pong},
    {MSG_PING, false, cmd_ping},
    {MSG_DISCONNECT, false, cmd_disconnect},
    {MSG_JOIN, true, cmd_join},
    {MSG_PART, true, cmd_part},
    {MSG_USERLIST, true, cmd_userlist_req},
    {MSG_PRIVMSG, true, cmd_privmsg},
    {MSG_TALK, true, talk_cmd},
};

void cmd_dispatch(struct hub *h, struct sess *s, char *line, uint64_t now)
{
	struct msg m;

	if (msg_parse(line, &m)) {
		sess_error(h, s, ERR_BAD_LINE, "expected: VERB[ TARGET][: ARGS]");
		return;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i].verb != m.verb)
			continue;
		if (cmds[i].needs_login && s->state != SESS_ONLINE)
			sess_error(h, s, ERR_NOT_LOGGED_IN,
				   "log in first: CONNECT, then PONG");
		else
			cmds[i].h(h, s, &m, now);
		return;
	}
	sess_error(h, s, ERR_UNKNOWN_COMMAND, "unknown command");
}
