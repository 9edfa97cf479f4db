/* nickreg.c: the hub's side of the nick registry (section 3): CONNECT's owner check, a
 * new binding pending on the login's PONG, last-seen times. Over TLS with a registry
 * only: --tls off is protocol 1.0, first come first served. A new binding is on disk
 * before its REGISTERED goes out: the login's answer waits for the server's save
 * (hub_reg_saved), and a binding that could not be saved is undone, the box logged in
 * unbound (docs/ROBUSTNESS.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hub_int.h"
#include "log.h"

static bool applies(const struct hub *h, const struct sess *s)
{
	return s->tls && h->conf.reg;
}

static int64_t wall(const struct hub *h)
{
	return h->conf.wall ? h->conf.wall() : (int64_t)time(NULL);
}

bool nickreg_check(struct hub *h, struct sess *s, const char *nick, uint64_t now)
{
	const struct reg_entry *e;

	if (!applies(h, s))
		return true;
	e = reg_find(h->conf.reg, nick);
	if (e && e->pending)
		return true; /* being bound by a login now: its session holds the nick */
	if (e && !(s->fp[0] && !strcmp(e->fp, s->fp))) {
		sess_refuse(h, s, ERR_NICK_REGISTERED,
			    "this nick belongs to another box: choose another", nick);
		sess_login_failed(h, s, now);
		return false;
	}
	if (e)
		return true;
	if (h->conf.registration_closed) {
		sess_refuse(h, s, ERR_NOT_REGISTERED,
			    "this server lets registered nicks in only: ask its admin "
			    "(intercomd --registry add)",
			    nick);
		sess_login_failed(h, s, now);
		return false;
	}
	if (s->fp[0] && reg_count(h->conf.reg, s->fp) >= IC_NICKS_PER_KEY) {
		/* not a failed login: the box is who it says, it just has enough nicks */
		sess_refuse(h, s, ERR_NICK_REGISTERED, "this box has 4 nicks already",
			    nick);
		return false;
	}
	return true;
}

/* Whether s's source may bind one more new nick this hour (trusted ones always); over
 * it, counted and logged once a minute per source. */
static bool bind_allowed(struct hub *h, struct sess *s, const char *nick)
{
	struct addr_src key;
	bool log_it;
	char src[64];

	if (guard_bind_ok(s->host, h->now, &log_it))
		return true;
	h->stats.binds_refused++;
	if (log_it &&
	    !addr_source((const struct sockaddr *)&s->peer_sa, s->peer_len, &key)) {
		addr_source_text(&key, src, sizeof(src));
		log_warn(
		    "nick registry: %s bound %d new nicks within the hour: %s logs in "
		    "without being registered (logged once a minute)",
		    src, IC_BINDS_PER_SOURCE, nick);
	}
	return false;
}

bool nickreg_bind(struct hub *h, struct sess *s, const char *nick)
{
	const struct reg_entry *e;
	int r;

	if (!applies(h, s) || !s->fp[0]) /* a guest registers nothing */
		return true;
	e = reg_find(h->conf.reg, nick);
	if (e && !e->pending)
		return true; /* its own already */
	if (!bind_allowed(h, s, nick))
		return true; /* logged in unbound: it binds at a later login */
	r = reg_bind(h->conf.reg, nick, s->fp, s->id);
	if (r == 0) {
		guard_bind_note(s->host, h->now);
		s->binding = true;
		return true;
	}
	if (r == -EEXIST) { /* bound by another box's login, still leaving */
		sess_refuse(h, s, ERR_NICK_IN_USE, "that nick is taken, choose another",
			    nick);
		return false;
	}
	if (!h->reg_full_logged) { /* full, or out of memory: logged in unbound */
		log_warn("nick registry: %s: %s logs in without being registered (see "
			 "intercomd --registry list)",
			 r == -ENOSPC ? "full" : "out of memory", nick);
		h->reg_full_logged = true;
	}
	return true;
}

bool nickreg_waits(struct hub *h, struct sess *s)
{
	const struct reg_entry *e;

	if (!s->binding)
		return false;
	e = reg_find(h->conf.reg, s->nick);
	if (!e || e->gen <= reg_saved_gen(h->conf.reg))
		return false; /* a takeover of a binding already on disk */
	s->reg_wait = e->gen;
	return true;
}

/* The bindings a failed save covered are undone: one line for them all, with the
 * reason and the fix, whatever the log budget (a nick that can be taken is news). */
static void log_undone(struct hub *h, unsigned n, const char *nick, int err)
{
	log_err("nick registry: cannot save it (%s): %u new nick(s) (%s%s) log in "
		"unregistered and can be taken by another box until they are saved at a "
		"later login: free space in the state directory %s",
		strerror(-err), n, nick, n > 1 ? ", ..." : "", reg_dir(h->conf.reg));
}

void hub_reg_saved(struct hub *h, uint64_t gen, int err, uint64_t now)
{
	char first[IC_NICK_MAX + 1] = "";
	unsigned undone = 0;

	h->now = now;
	for (unsigned i = 0; i < h->nslots; i++) {
		struct sess *s = h->slots[i];

		if (!s || s->leaving || !s->reg_wait || s->reg_wait > gen)
			continue;
		s->reg_wait = 0;
		if (err && s->binding) {
			reg_abandon(h->conf.reg, s->nick, s->id);
			s->binding = false;
			if (!undone++)
				strcpy(first, s->nick);
		}
		cmd_login_answer(h, s, now);
	}
	if (undone)
		log_undone(h, undone, first, err);
}

void nickreg_accepted(struct hub *h, struct sess *s)
{
	char args[IC_NICK_MAX + IDENT_FP_LEN + 2];

	if (!s->binding)
		return;
	snprintf(args, sizeof(args), "%s %s", s->nick, s->fp);
	sess_line(h, s, "REGISTERED", NULL, args);
}

void nickreg_login(struct hub *h, struct sess *s)
{
	if (!applies(h, s) || !s->fp[0])
		return;
	if (s->binding) {
		reg_confirm(h->conf.reg, s->nick, s->id, wall(h));
		s->binding = false;
		if (hub_event_log_ok(h))
			log_info("%s is registered to %s", s->nick, s->fp);
		return;
	}
	reg_seen(h->conf.reg, s->nick, wall(h));
}

void nickreg_leave(struct hub *h, struct sess *s)
{
	if (!applies(h, s) || !s->fp[0])
		return;
	if (s->binding) /* no PONG came: the binding is undone (kept if saved and the
			   server stops first: docs/SECURITY.md) */
		reg_abandon(h->conf.reg, s->nick, s->id);
	else if (s->state == SESS_ONLINE)
		reg_seen(h->conf.reg, s->nick, wall(h));
	s->binding = false;
}
