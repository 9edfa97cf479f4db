#include "app.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "msg.h"
#include "names.h"

struct app {
	struct app_cfg cfg;
	enum app_conn conn;
	enum app_call call;
	char peer[IC_NICK_MAX + 1];
	bool ptt, tx, have_voice;
	bool ptt_hold_off;    /* a call ended under a held button: wait for its release */
	bool voice_ok;	      /* the server has answered on the voice path */
	uint64_t ka_retry_ms; /* keepalive interval until it does (doubling) */
	/* rooms in join order (the last is the voice room), and what to rejoin after a
	 * reconnect */
	char rooms[IC_ROOMS_PER_CLIENT][IC_ROOM_MAX + 1];
	unsigned nrooms;
	char want[IC_ROOMS_PER_CLIENT][IC_ROOM_MAX + 1];
	unsigned nwant;
	bool lobby_wanted;
	uint64_t backoff_ms, reconnect_at, keepalive_at;
	uint32_t rng;
	struct app_act q[APP_ACT_MAX];
	unsigned qh, qn;
};

static struct app_act *push(struct app *a, enum app_act_kind kind)
{
	struct app_act *act;

	if (a->qn == APP_ACT_MAX) /* never with one drain per event; keep the newest */
		a->qh = (a->qh + 1) % APP_ACT_MAX, a->qn--;
	act = &a->q[(a->qh + a->qn++) % APP_ACT_MAX];
	memset(act, 0, sizeof(*act));
	act->kind = kind;
	return act;
}

static void sendf(struct app *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sendf(struct app *a, const char *fmt, ...)
{
	struct app_act *act = push(a, ACT_SEND);
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(act->line, sizeof(act->line) - 1, fmt, ap);
	va_end(ap);
	n = strlen(act->line);
	act->line[n] = '\n';
	act->line[n + 1] = '\0';
}

static void tone(struct app *a, enum tone_kind t)
{
	push(a, ACT_TONE)->tone = t;
}

static void led(struct app *a, enum app_led l, enum led_state s)
{
	struct app_act *act = push(a, ACT_LED);

	act->led = l;
	act->led_state = s;
}

static void status(struct app *a)
{
	push(a, ACT_STATUS);
}

static void message(struct app *a, const char *text)
{
	snprintf(push(a, ACT_MESSAGE)->line, sizeof(a->q[0].line), "%s", text);
}

static void ring_led(struct app *a)
{
	led(a, LED_RING,
	    a->call == CALL_IN_CALL ? LED_ON
	    : a->call == CALL_NONE  ? LED_OFF
				    : LED_BLINK);
}

static void stop_tx(struct app *a);

static void set_call(struct app *a, enum app_call c, const char *peer)
{
	/* A call that ends (or is lost with the server) while the button is held: what
	 * was meant for one person must not go on to the whole room. Talking waits for
	 * the button to be released and pressed again. */
	if (a->call == CALL_IN_CALL && c != CALL_IN_CALL && a->ptt) {
		a->ptt_hold_off = true;
		stop_tx(a);
	}
	a->call = c;
	if (c == CALL_NONE)
		a->peer[0] = '\0';
	else if (peer != a->peer) /* never copy onto itself */
		snprintf(a->peer, sizeof(a->peer), "%s", peer);
	ring_led(a);
	status(a);
}

int app_new(struct app **ap, const struct app_cfg *cfg, uint32_t rand_seed, uint64_t now)
{
	struct app *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	a->rng = rand_seed ? rand_seed : 1;
	a->backoff_ms = APP_BACKOFF_MIN_MS;
	a->lobby_wanted = true;
	if (cfg->join[0] && !names_equal(cfg->join, "#Lobby"))
		snprintf(a->want[a->nwant++], sizeof(a->want[0]), "%s", cfg->join);
	a->conn = APP_CONNECTING;
	a->keepalive_at = now + APP_KEEPALIVE_MS;
	led(a, LED_POWER, LED_BLINK);
	push(a, ACT_CONNECT);
	status(a);
	*ap = a;
	return 0;
}

void app_free(struct app *a)
{
	free(a);
}

void app_connected(struct app *a, uint64_t now)
{
	(void)now;
	a->conn = APP_CONNECTING;
	a->nrooms = 0;
	sendf(a, "CONNECT: \"%s\" \"%s\" 1.0.0", a->cfg.nick, a->cfg.realname);
}

static uint32_t rnd(struct app *a)
{
	a->rng ^= a->rng << 13;
	a->rng ^= a->rng >> 17;
	a->rng ^= a->rng << 5;
	return a->rng;
}

void app_disconnected(struct app *a, uint64_t now)
{
	uint64_t b = a->backoff_ms;

	if (a->conn == APP_ONLINE) {
		/* rejoin what it was in, in the same order (so the same voice room), when
		 * it is back */
		memcpy(a->want, a->rooms, sizeof(a->want));
		a->nwant = a->nrooms;
		a->lobby_wanted = false;
		for (unsigned i = 0; i < a->nrooms; i++)
			a->lobby_wanted |= names_equal(a->rooms[i], "#Lobby");
		tone(a, TONE_DISCONNECTED);
	}
	if (a->tx) {
		a->tx = false;
		push(a, ACT_TX_STOP);
		led(a, LED_TX, LED_OFF);
	}
	if (a->call != CALL_NONE)
		set_call(a, CALL_NONE, "");
	a->conn = APP_DISCONNECTED;
	a->have_voice = false;
	a->nrooms = 0;
	/* jittered exponential backoff: [0.75 b, 1.25 b] within [1 s, 30 s] */
	b = b * 3 / 4 + rnd(a) % (b / 2 + 1);
	if (b < APP_BACKOFF_MIN_MS)
		b = APP_BACKOFF_MIN_MS;
	if (b > APP_BACKOFF_MAX_MS)
		b = APP_BACKOFF_MAX_MS;
	a->reconnect_at = now + b;
	a->backoff_ms = a->backoff_ms * 2 > APP_BACKOFF_MAX_MS ? APP_BACKOFF_MAX_MS
							       : a->backoff_ms * 2;
	led(a, LED_POWER, LED_BLINK);
	status(a);
}

static void start_tx(struct app *a)
{
	if (a->tx || a->ptt_hold_off || a->conn != APP_ONLINE || !a->have_voice)
		return;
	a->tx = true;
	push(a, ACT_TX_START);
	tone(a, TONE_PTT);
	led(a, LED_TX, LED_ON);
	status(a);
}

static void stop_tx(struct app *a)
{
	if (!a->tx)
		return;
	a->tx = false;
	push(a, ACT_TX_STOP);
	led(a, LED_TX, LED_OFF);
	status(a);
}

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
	a->backoff_ms = APP_BACKOFF_MIN_MS;
	/* #Lobby is joined by the login; JOIN of it again only makes it the voice room */
	for (unsigned i = 0; i < a->nwant; i++) {
		if (i == 0 && names_equal(a->want[i], "#Lobby"))
			continue;
		sendf(a, "JOIN: %s", a->want[i]);
	}
	if (!a->lobby_wanted)
		sendf(a, "PART: #Lobby");
	tone(a, TONE_CONNECTED);
	led(a, LED_POWER, LED_ON);
	status(a);
	if (a->ptt) /* the button was held through the reconnect */
		start_tx(a);
}

static void on_voice(struct app *a, const char *args, uint64_t now)
{
	uint8_t token[IC_TOKEN_LEN];
	struct app_act *act;
	unsigned port;
	uint32_t ssrc;

	if (msg_parse_voice(args, &port, &ssrc, token))
		return;
	act = push(a, ACT_VOICE);
	act->port = port;
	act->ssrc = ssrc;
	memcpy(act->token, token, IC_TOKEN_LEN);
	a->have_voice = true;
	/* the keepalive opens the voice path at once; one lost on the way would leave us
	 * deaf until the next, so it is repeated, soon at first, until the server answers
	 */
	a->voice_ok = false;
	a->ka_retry_ms = APP_KEEPALIVE_RETRY_MS;
	push(a, ACT_KEEPALIVE);
	a->keepalive_at = now + a->ka_retry_ms;
}

static void on_talk(struct app *a, const char *who, const char *what)
{
	bool from_peer = a->call != CALL_NONE && names_equal(who, a->peer);

	if (!strcmp(what, "Request")) {
		if (a->call != CALL_NONE)
			return; /* the server answers Busy for us; this cannot happen */
		set_call(a, CALL_RINGING_IN, who);
		if (a->cfg.auto_accept) {
			sendf(a, "TALK %s: Accept", who);
			set_call(a, CALL_IN_CALL, who);
			tone(a, TONE_CONNECTED);
		} else {
			tone(a, TONE_RING);
		}
	} else if (!strcmp(what, "Accept") && from_peer && a->call == CALL_RINGING_OUT) {
		set_call(a, CALL_IN_CALL, who);
		tone(a, TONE_CONNECTED);
	} else if ((!strcmp(what, "Deny") || !strcmp(what, "Busy")) && from_peer &&
		   a->call == CALL_RINGING_OUT) {
		set_call(a, CALL_NONE, "");
		tone(a, TONE_BUSY);
	} else if (!strcmp(what, "End") && from_peer) {
		set_call(a, CALL_NONE, "");
		tone(a, TONE_DISCONNECTED);
	}
}

void app_line(struct app *a, const char *line, uint64_t now)
{
	char buf[IC_OUT_LINE_MAX];
	struct msg m;

	(void)now;
	if (!strncmp(line, "PRIVMSG ",
		     8)) { /* "PRIVMSG #Room nick: text" has two words */
		message(a, line);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", line);
	if (msg_parse(buf, &m))
		return;
	if (!strcasecmp(m.verb_text, "PING")) {
		sendf(a, "PONG: %s", m.args ? m.args : "");
	} else if (!strcasecmp(m.verb_text, "VOICE")) {
		on_voice(a, m.args, now);
	} else if (!strcasecmp(m.verb_text, "JOINED") && m.args) {
		room_joined(a, m.args);
		if (a->conn != APP_ONLINE)
			logged_in(a);
		status(a);
	} else if (!strcasecmp(m.verb_text, "PARTED") && m.args) {
		room_parted(a, m.args);
		status(a);
	} else if (!strcasecmp(m.verb_text, "TALK") && m.target && m.args) {
		on_talk(a, m.target, m.args);
	} else if (!strcasecmp(m.verb_text, "ERROR")) {
		message(a, line);
		/* a nick still held by our old session (it times out on the server):
		 * close and try again after the backoff */
		if (a->conn != APP_ONLINE && m.target &&
		    (!strcmp(m.target, "NICK_IN_USE") ||
		     !strcmp(m.target, "SERVER_FULL")))
			push(a, ACT_CLOSE);
	}
}

void app_button(struct app *a, enum app_btn b, bool down, uint64_t now)
{
	(void)now;
	if (b == BTN_PTT) {
		a->ptt = down;
		if (!down)
			a->ptt_hold_off = false;
		if (down)
			start_tx(a);
		else
			stop_tx(a);
		return;
	}
	if (!down || a->conn != APP_ONLINE)
		return;
	switch (b) {
	case BTN_CALL:
		if (a->call == CALL_RINGING_IN) {
			app_button(a, BTN_ACCEPT, true, now);
		} else if (a->call == CALL_NONE && a->cfg.call_target[0]) {
			app_call(a, a->cfg.call_target, now);
		}
		break;
	case BTN_ACCEPT:
		if (a->call == CALL_RINGING_IN) {
			sendf(a, "TALK %s: Accept", a->peer);
			set_call(a, CALL_IN_CALL, a->peer);
			tone(a, TONE_CONNECTED);
		}
		break;
	case BTN_DENY:
		if (a->call == CALL_RINGING_IN) {
			sendf(a, "TALK %s: Deny", a->peer);
			set_call(a, CALL_NONE, "");
			tone(a, TONE_NONE);
		} else if (a->call != CALL_NONE) {
			sendf(a, "TALK %s: End", a->peer);
			set_call(a, CALL_NONE, "");
			tone(a, TONE_DISCONNECTED);
		}
		break;
	default:
		break;
	}
}

void app_call(struct app *a, const char *nick, uint64_t now)
{
	(void)now;
	if (a->conn != APP_ONLINE || a->call != CALL_NONE || !names_nick_valid(nick))
		return;
	sendf(a, "TALK %s: Request", nick);
	set_call(a, CALL_RINGING_OUT, nick);
	tone(a, TONE_RINGBACK);
}

uint64_t app_tick(struct app *a, uint64_t now)
{
	uint64_t next = now + 60000;

	if (a->conn == APP_DISCONNECTED) {
		if (now >= a->reconnect_at) {
			a->conn = APP_CONNECTING;
			push(a, ACT_CONNECT);
			status(a);
		} else {
			next = a->reconnect_at;
		}
	}
	if (a->have_voice && !a->tx) {
		if (now >= a->keepalive_at) {
			push(a, ACT_KEEPALIVE);
			if (!a->voice_ok) {
				a->ka_retry_ms = a->ka_retry_ms * 2 > APP_KEEPALIVE_MS
						     ? APP_KEEPALIVE_MS
						     : a->ka_retry_ms * 2;
			}
			a->keepalive_at =
			    now + (a->voice_ok ? APP_KEEPALIVE_MS : a->ka_retry_ms);
		}
		if (a->keepalive_at < next)
			next = a->keepalive_at;
	}
	return next;
}

void app_voice_sent(struct app *a, uint64_t now)
{
	/* until the server has answered, the retry schedule stands */
	if (a->voice_ok)
		a->keepalive_at = now + APP_KEEPALIVE_MS;
}

void app_voice_heard(struct app *a, uint64_t now)
{
	if (a->voice_ok || !a->have_voice)
		return;
	a->voice_ok = true;
	a->keepalive_at = now + APP_KEEPALIVE_MS;
}

bool app_next(struct app *a, struct app_act *out)
{
	if (!a->qn)
		return false;
	*out = a->q[a->qh];
	a->qh = (a->qh + 1) % APP_ACT_MAX;
	a->qn--;
	return true;
}

enum app_conn app_conn_state(const struct app *a)
{
	return a->conn;
}

enum app_call app_call_state(const struct app *a)
{
	return a->call;
}

bool app_talking(const struct app *a)
{
	return a->tx;
}

const char *app_peer(const struct app *a)
{
	return a->peer;
}

const char *app_room(const struct app *a)
{
	return a->nrooms ? a->rooms[a->nrooms - 1] : "";
}

void app_status(const struct app *a, char *buf, size_t len)
{
	static const char *const conn[] = {"offline", "connecting", "online"};
	static const char *const call[] = {"", " | calling ", " | call from ",
					   " | in call with "};

	snprintf(buf, len, "%s%s%s%s%s%s", conn[a->conn], a->nrooms ? " " : "",
		 app_room(a), a->tx ? " | TALKING" : "", call[a->call], a->peer);
}
