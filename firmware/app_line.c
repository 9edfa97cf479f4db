/* app_line.c: what each server line does to the client, dispatched through a table. */
#include <stdio.h>
#include <string.h>

#include <strings.h>

#include "app_int.h"
#include "msg.h"
#include "names.h"

static void room_joined(struct app *a, const char *room)
{
	unsigned i;

	for (i = 0; i < a->nrooms && !names_equal(a->rooms[i], room); i++)
		;
	if (i == a->nrooms) {
		if (a->nrooms == IC_ROOMS_PER_CLIENT)
			return;
		a->nrooms++;
	}
	memmove(a->rooms[i], a->rooms[i + 1], (a->nrooms - i - 1) * sizeof(a->rooms[0]));
	snprintf(a->rooms[a->nrooms - 1], sizeof(a->rooms[0]), "%s", room);
}

static void room_parted(struct app *a, const char *room)
{
	for (unsigned i = 0; i < a->nrooms; i++) {
		if (names_equal(a->rooms[i], room)) {
			memmove(a->rooms[i], a->rooms[i + 1],
				(a->nrooms - i - 1) * sizeof(a->rooms[0]));
			a->nrooms--;
			return;
		}
	}
}

static void logged_in(struct app *a)
{
	a->conn = APP_ONLINE;
	a->note[0] = '\0'; /* a lost server's note: it is back */
	a->nick_taken = 0;
	a->backoff_ms = APP_BACKOFF_MIN_MS;
	if (a->security) {
		a->security = false;
		app_led(a, LED_RING, LED_OFF);
	}
	/* #Lobby is joined by the login; JOIN of it again only makes it the voice room */
	for (unsigned i = 0; i < a->nwant; i++) {
		if (i == 0 && names_equal(a->want[i], "#Lobby"))
			continue;
		app_sendf(a, "JOIN: %s", a->want[i]);
	}
	if (!a->lobby_wanted)
		app_sendf(a, "PART: #Lobby");
	app_tone(a, TONE_CONNECTED);
	app_led(a, LED_POWER, LED_ON);
	app_status_changed(a);
	if (a->ptt) /* the button was held through the reconnect */
		app_start_tx(a);
}

static void on_voice(struct app *a, const char *args, uint64_t now)
{
	uint8_t token[IC_TOKEN_LEN];
	struct vc_key c2s, s2c;
	struct app_act *act;
	unsigned port;
	uint32_t ssrc;
	int e;

	/* over TLS only the keyed form: a token line there would mean voice in the clear
	 */
	e = a->cfg.tls ? msg_parse_voice_tls(args, &port, &ssrc, &c2s, &s2c)
		       : msg_parse_voice(args, &port, &ssrc, token);
	if (e)
		return;
	act = app_push(a, ACT_VOICE);
	act->port = port;
	act->ssrc = ssrc;
	if (a->cfg.tls) {
		act->keyed = true;
		act->c2s = c2s;
		act->s2c = s2c;
		vc_key_wipe(&c2s);
		vc_key_wipe(&s2c);
	} else {
		memcpy(act->token, token, IC_TOKEN_LEN);
	}
	a->have_voice = true;
	app_handsfree_tx(a); /* a call accepted before the voice path was given */
	/* the keepalive opens the voice path at once; one lost on the way would leave us
	 * deaf until the next, so it is repeated, soon at first, until the server answers
	 */
	a->voice_ok = false;
	a->ka_retry_ms = APP_KEEPALIVE_RETRY_MS;
	app_push(a, ACT_KEEPALIVE);
	a->keepalive_at = now + a->ka_retry_ms;
}

/* A ring, from a nick or from a group of a room (1.2: `Request #House`, shown as
 * "Door (#House)"). */
static void ringing_in(struct app *a, const char *who, const char *room)
{
	/* both pressed CALL at once: the server connects us with the Accept of our own
	 * Request (contract §1, glare); until then, keep ringing out. A ring from anyone
	 * else means the server had not read our Request yet: it will answer it BUSY, and
	 * this ring is ours then (call_failed) */
	if (a->call == CALL_RINGING_OUT && !names_equal(who, a->peer)) {
		snprintf(a->pend, sizeof(a->pend), "%s", who);
		snprintf(a->pend_group, sizeof(a->pend_group), "%s", room);
	}
	if (a->call != CALL_NONE)
		return;
	snprintf(a->group, sizeof(a->group), "%s", room);
	app_set_call(a, CALL_RINGING_IN, who);
	if (a->cfg.auto_accept) {
		app_sendf(a, "TALK %s: Accept", who);
		app_set_call(a, CALL_IN_CALL, who);
		app_tone(a, TONE_CONNECTED);
	} else {
		app_tone(a, TONE_RING);
	}
}

/* Our ring stopped unanswered: why, for the person, and the tone. */
static void not_answered(struct app *a, const char *who, const char *what)
{
	bool busy = !strcmp(what, "Busy");

	if (who[0] == '#')
		app_note(a, busy ? "nobody in %s is free" : "nobody in %s answered", who);
	else
		app_note(a, "%s is %s", who, busy ? "busy" : "not answering");
	app_set_call(a, CALL_NONE, "");
	app_tone(a, TONE_BUSY);
}

static void on_talk(struct app *a, const char *who, const char *args)
{
	bool from_peer = a->call != CALL_NONE && names_equal(who, a->peer);
	/* ringing a room: whoever answers first is the call */
	bool group_out = a->call == CALL_RINGING_OUT && a->peer[0] == '#';
	const char *sp = strchr(args, ' ');
	size_t wl = sp ? (size_t)(sp - args) : strlen(args);
	char what[8];

	if (wl >= sizeof(what))
		return;
	memcpy(what, args, wl);
	what[wl] = '\0';
	if (!strcmp(what, "Request")) {
		ringing_in(a, who, sp && names_room_valid(sp + 1) ? sp + 1 : "");
	} else if (!strcmp(what, "Accept") && ((from_peer && a->call != CALL_IN_CALL) ||
					       (group_out && who[0] != '#'))) {
		/* our Request answered, or (glare) it crossed theirs and accepted it */
		app_set_call(a, CALL_IN_CALL, who);
		app_tone(a, TONE_CONNECTED);
	} else if ((!strcmp(what, "Deny") || !strcmp(what, "Busy")) && from_peer &&
		   a->call == CALL_RINGING_OUT) {
		not_answered(a, who, what);
	} else if (!strcmp(what, "End") && a->pend[0] && names_equal(who, a->pend)) {
		a->pend[0] = '\0'; /* the ring that crossed ours stopped first */
	} else if (!strcmp(what, "End") && from_peer) {
		if (group_out) /* the ring timeout */
			app_note(a, "nobody in %s answered", who);
		app_set_call(a, CALL_NONE, "");
		app_tone(a, TONE_DISCONNECTED);
	}
}

/* Our Request failed, for why (a format naming the peer): said, with the busy tone. */
static void not_placed(struct app *a, const char *why)
{
	app_note(a, why, a->peer);
	app_set_call(a, CALL_NONE, "");
	app_tone(a, TONE_BUSY);
}

/* Our Request failed (BUSY, or whatever the server checked first) because a ring from
 * another reached us before it: that ring is shown and rings now. */
static void crossed_ring(struct app *a)
{
	char who[IC_NICK_MAX + 1], room[IC_ROOM_MAX + 1];

	snprintf(who, sizeof(who), "%s", a->pend);
	snprintf(room, sizeof(room), "%s", a->pend_group);
	app_note(a, "%s called first: %s was not rung", who, a->peer);
	app_set_call(a, CALL_NONE, "");
	ringing_in(a, who, room);
}

/* An error answering our call Request ends it: the person hears busy and reads why. */
static bool call_failed(struct app *a, const char *code)
{
	enum { NICK, ROOM, ANY };
	static const struct {
		const char *code;
		int target;
		const char *why;
	} reasons[] = {
	    {"NO_SUCH_USER", NICK, "%s is not online"},
	    {"NO_SUCH_USER", ROOM,
	     "nobody is in %s"}, /* a room exists while it has members */
	    {"BUSY", ANY, "cannot call %s: already in a call"},
	    {"BAD_ARGS", ANY, "cannot call %s: not a valid nick"},
	    {"BAD_ROOM", ANY, "cannot ring %s: not a valid room"},
	    /* our Request dropped: over the line rate, or a room rung too often */
	    {"FLOOD", ANY, "cannot call %s now: too many calls, wait a moment"},
	};
	int target = a->peer[0] == '#' ? ROOM : NICK;

	if (a->call != CALL_RINGING_OUT)
		return false;
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcmp(code, reasons[i].code) ||
		    (reasons[i].target != ANY && reasons[i].target != target))
			continue;
		if (a->pend[0]) /* a ring crossed our Request: it is ours now */
			crossed_ring(a);
		else
			not_placed(a, reasons[i].why);
		return true;
	}
	return false;
}

static void do_ping(struct app *a, const struct msg *m, const char *line, uint64_t now)
{
	(void)line, (void)now;
	app_sendf(a, "PONG: %s", m->args ? m->args : "");
}

static void do_voice(struct app *a, const struct msg *m, const char *line, uint64_t now)
{
	(void)line;
	on_voice(a, m->args, now);
}

static void do_joined(struct app *a, const struct msg *m, const char *line, uint64_t now)
{
	(void)line, (void)now;
	if (!m->args)
		return;
	room_joined(a, m->args);
	if (a->conn != APP_ONLINE)
		logged_in(a);
	app_status_changed(a);
}

static void do_parted(struct app *a, const struct msg *m, const char *line, uint64_t now)
{
	(void)line, (void)now;
	if (!m->args)
		return;
	room_parted(a, m->args);
	app_status_changed(a);
}

static void do_talk(struct app *a, const struct msg *m, const char *line, uint64_t now)
{
	(void)line, (void)now;
	if (m->target && m->args)
		on_talk(a, m->target, m->args);
}

/* Login errors a person must fix (section 3): said, and retried only slowly. */
static void refused(struct app *a, const char *code)
{
	static const struct {
		const char *code, *why;
	} reasons[] = {
	    {"BAD_PASSWORD", "the server wants another password: set password"},
	    {"NICK_REGISTERED", "nick '%s' belongs to another box (or this box has 4 "
				"nicks): set nick, or release it on the server"},
	    {"NOT_REGISTERED", "registration is closed: the server must add nick '%s'"},
	    {"NO_IDENTITY", "the server wants a box identity (certificate)"},
	    {"BLOCKED", "too many failed logins from here: the server waits 5 minutes"},
	    {"BAD_VERSION", "the server wants another protocol version: upgrade"},
	    {"TLS_REQUIRED", "the server accepts TLS only: set tls = on"},
	    {"REPLACED", "logged in again from the same box (a second intercom with "
			 "this state directory?)"},
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		char why[160];

		if (strcmp(code, reasons[i].code))
			continue;
		snprintf(why, sizeof(why), reasons[i].why, a->cfg.nick);
		app_security(a, why);
		app_push(a, ACT_CLOSE);
		return;
	}
}

static void do_error(struct app *a, const struct msg *m, const char *line, uint64_t now)
{
	(void)now;
	app_message(a, line);
	if (m->target && call_failed(a, m->target))
		return;
	if (a->conn == APP_ONLINE || !m->target)
		return;
	/* a nick still held by our old session (it times out on the server): close and
	 * try again after the backoff; held that long, it is another box's */
	if (!strcmp(m->target, "NICK_IN_USE")) {
		if (++a->nick_taken >= APP_NICK_TAKEN_TRIES)
			app_note(
			    a,
			    "nick '%s' is taken by another box: set nick in the config",
			    a->cfg.nick);
		else
			app_note(a,
				 "nick '%s' is in use (our old session until the server "
				 "drops it?): retrying",
				 a->cfg.nick);
		app_push(a, ACT_CLOSE);
	} else if (!strcmp(m->target, "SERVER_FULL")) {
		app_push(a, ACT_CLOSE);
	} else {
		refused(a, m->target);
	}
}

/* "REGISTERED: NICK FINGERPRINT" (1.1): the server bound the nick to this box's key on
 * its first login; from now on no other box may use it. */
static void do_registered(struct app *a, const struct msg *m, const char *line,
			  uint64_t now)
{
	char nick[IC_NICK_MAX + 1];

	(void)line, (void)now;
	if (!m->args || sscanf(m->args, "%32s", nick) != 1)
		return;
	app_note(a, "nick '%s' is now registered to this box on this server", nick);
}

static const struct {
	const char *verb;
	void (*h)(struct app *a, const struct msg *m, const char *line, uint64_t now);
} verbs[] = {
    {"REGISTERED", do_registered}, {"PING", do_ping},	  {"VOICE", do_voice},
    {"JOINED", do_joined},	   {"PARTED", do_parted}, {"TALK", do_talk},
    {"ERROR", do_error},
};

void app_line(struct app *a, const char *line, uint64_t now)
{
	char buf[IC_OUT_LINE_MAX];
	struct msg m;

	app_heard(a, now); /* any line: the server is alive */
	/* "PRIVMSG #Room nick: text" has two words before the colon */
	if (!strncmp(line, "PRIVMSG ", 8)) {
		app_message(a, line);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", line);
	if (msg_parse(buf, &m))
		return;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (!strcasecmp(m.verb_text, verbs[i].verb)) {
			verbs[i].h(a, &m, line, now);
			return;
		}
	}
	/* ACCEPT, USERLIST, PONG: nothing to do */
}
