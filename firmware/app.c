#include "app_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "msg.h"
#include "names.h"

struct app_act *app_push(struct app *a, enum app_act_kind kind)
{
	struct app_act *act;

	if (a->qn == APP_ACT_MAX) /* never with one drain per event; keep the newest */
		a->qh = (a->qh + 1) % APP_ACT_MAX, a->qn--;
	act = &a->q[(a->qh + a->qn++) % APP_ACT_MAX];
	memset(act, 0, sizeof(*act));
	act->kind = kind;
	return act;
}

void app_sendf(struct app *a, const char *fmt, ...)
{
	struct app_act *act = app_push(a, ACT_SEND);
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(act->line, sizeof(act->line) - 1, fmt, ap);
	va_end(ap);
	n = strlen(act->line);
	act->line[n] = '\n';
	act->line[n + 1] = '\0';
}

void app_tone(struct app *a, enum tone_kind t)
{
	app_push(a, ACT_TONE)->tone = t;
}

void app_led(struct app *a, enum app_led l, enum led_state s)
{
	struct app_act *act = app_push(a, ACT_LED);

	act->led = l;
	act->led_state = s;
}

void app_status_changed(struct app *a)
{
	app_push(a, ACT_STATUS);
}

void app_note(struct app *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->note, sizeof(a->note), fmt, ap);
	va_end(ap);
	app_message(a, a->note);
	app_status_changed(a);
}

void app_heard(struct app *a, uint64_t now)
{
	a->heard_at = now;
	a->ping_out = false;
}

/* Start connecting: the liveness deadline covers the connect too. */
static void connect_now(struct app *a, uint64_t now)
{
	a->conn = APP_CONNECTING;
	a->link = true;
	a->tcp_up = false;
	a->heard_at = now;
	app_push(a, ACT_CONNECT);
	app_status_changed(a);
}

void app_message(struct app *a, const char *text)
{
	snprintf(app_push(a, ACT_MESSAGE)->line, sizeof(a->q[0].line), "%s", text);
}

static void ring_led(struct app *a)
{
	app_led(a, LED_RING,
		a->call == CALL_IN_CALL ? LED_ON
		: a->call == CALL_NONE	? LED_OFF
					: LED_BLINK);
}

bool app_handsfree_call(const struct app *a)
{
	return a->cfg.handsfree && a->call == CALL_IN_CALL;
}

void app_set_call(struct app *a, enum app_call c, const char *peer)
{
	/* The end of a call (or its loss with the server) closes the microphone. With
	 * the button held, what was meant for one person must not go on to the whole
	 * room: talking waits for the button to be released and pressed again. */
	if (a->call == CALL_IN_CALL && c != CALL_IN_CALL) {
		if (a->ptt)
			a->ptt_hold_off = true;
		app_stop_tx(a);
	}
	a->call = c;
	a->pend[0] = '\0';
	if (c != CALL_RINGING_IN) /* a group's name goes with its ring only */
		a->group[0] = '\0';
	if (c == CALL_NONE)
		a->peer[0] = '\0';
	else if (peer != a->peer) /* never copy onto itself */
		snprintf(a->peer, sizeof(a->peer), "%s", peer);
	ring_led(a);
	app_handsfree_tx(a);
	app_status_changed(a);
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
	a->keepalive_at = now + APP_KEEPALIVE_MS;
	app_led(a, LED_POWER, LED_BLINK);
	connect_now(a, now);
	*ap = a;
	return 0;
}

void app_free(struct app *a)
{
	free(a);
}

void app_connected(struct app *a, uint64_t now)
{
	a->tcp_up = true;
	app_heard(a, now);
	a->conn = APP_CONNECTING;
	a->nrooms = 0;
	/* 1.2 in both modes: a group's ring then names its room (the VOICE line still
	 * follows the mode, keys over TLS and 1.0's token in the clear) */
	msg_fmt_connect(app_push(a, ACT_SEND)->line, sizeof(a->q[0].line), a->cfg.nick,
			a->cfg.realname, APP_PROTO_VERSION, a->cfg.password);
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
		app_tone(a, TONE_DISCONNECTED);
	}
	if (a->tx) {
		a->tx = false;
		app_push(a, ACT_TX_STOP);
		app_led(a, LED_TX, LED_OFF);
	}
	if (a->call != CALL_NONE)
		app_set_call(a, CALL_NONE, "");
	a->conn = APP_DISCONNECTED;
	a->link = a->tcp_up = a->ping_out = false;
	a->ka_unanswered = 0;
	a->have_voice = false;
	a->nrooms = 0;
	/* jittered exponential backoff: [0.75 b, 1.25 b] within [1 s, 30 s] */
	b = b * 3 / 4 + rnd(a) % (b / 2 + 1);
	if (b < APP_BACKOFF_MIN_MS)
		b = APP_BACKOFF_MIN_MS;
	if (b > APP_BACKOFF_MAX_MS)
		b = APP_BACKOFF_MAX_MS;
	if (a->security) /* a person must act: no fast retries */
		b = a->backoff_ms = APP_BACKOFF_MAX_MS;
	a->reconnect_at = now + b;
	a->backoff_ms = a->backoff_ms * 2 > APP_BACKOFF_MAX_MS ? APP_BACKOFF_MAX_MS
							       : a->backoff_ms * 2;
	app_led(a, LED_POWER, LED_BLINK);
	if (a->security)
		app_led(a, LED_RING, LED_ALT);
	app_status_changed(a);
}

void app_security(struct app *a, const char *why)
{
	a->security = true;
	app_note(a, "%s", why);
}

/* Open the microphone; chirp: the push-to-talk confirmation. */
static void tx_on(struct app *a, bool chirp)
{
	if (a->tx || a->conn != APP_ONLINE || !a->have_voice)
		return;
	a->tx = true;
	app_push(a, ACT_TX_START);
	if (chirp)
		app_tone(a, TONE_PTT);
	app_led(a, LED_TX, LED_ON);
	app_status_changed(a);
}

void app_start_tx(struct app *a)
{
	if (!a->ptt_hold_off)
		tx_on(a, true);
}

void app_handsfree_tx(struct app *a)
{
	/* no chirp: the connected tone says the call is open; a button still held from
	 * an earlier call's end (ptt_hold_off) holds back room talk, not this call */
	if (app_handsfree_call(a))
		tx_on(a, false);
}

void app_stop_tx(struct app *a)
{
	if (!a->tx)
		return;
	a->tx = false;
	app_push(a, ACT_TX_STOP);
	app_led(a, LED_TX, LED_OFF);
	app_status_changed(a);
}

void app_button(struct app *a, enum app_btn b, bool down, uint64_t now)
{
	(void)now;
	if (b == BTN_PTT) {
		a->ptt = down;
		if (!down)
			a->ptt_hold_off = false;
		if (down)
			app_start_tx(a);
		else if (!app_handsfree_call(a)) /* the call keeps its microphone */
			app_stop_tx(a);
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
			app_sendf(a, "TALK %s: Accept", a->peer);
			app_set_call(a, CALL_IN_CALL, a->peer);
			app_tone(a, TONE_CONNECTED);
		}
		break;
	case BTN_DENY:
		if (a->call == CALL_RINGING_IN) {
			app_sendf(a, "TALK %s: Deny", a->peer);
			app_set_call(a, CALL_NONE, "");
			app_tone(a, TONE_NONE);
		} else if (a->call != CALL_NONE) {
			app_sendf(a, "TALK %s: End", a->peer);
			app_set_call(a, CALL_NONE, "");
			app_tone(a, TONE_DISCONNECTED);
		}
		break;
	default:
		break;
	}
}

void app_call(struct app *a, const char *target, uint64_t now)
{
	if (a->conn != APP_ONLINE ||
	    !(names_nick_valid(target) || names_room_valid(target)))
		return;
	/* calling the nick whose call rings us: that is answering it */
	if (a->call == CALL_RINGING_IN && names_equal(a->peer, target)) {
		app_button(a, BTN_ACCEPT, true, now);
		return;
	}
	if (a->call != CALL_NONE)
		return;
	a->note[0] = '\0';
	app_sendf(a, "TALK %s: Request", target);
	app_set_call(a, CALL_RINGING_OUT, target); /* a #room until someone answers */
	app_tone(a, TONE_RINGBACK);
}

/* The server is gone though nothing closed: close, and reconnect with the backoff. */
static void lost(struct app *a, const char *why)
{
	app_note(a, "%s: reconnecting", why);
	a->link = false; /* once: the loop closes, then calls app_disconnected */
	app_push(a, ACT_CLOSE);
}

static void liveness(struct app *a, uint64_t now, uint64_t *next)
{
	uint64_t due;

	if (!a->link)
		return;
	if (now >= a->heard_at + APP_DEAD_MS) {
		lost(a, a->tcp_up ? "the server has been silent for 25 s"
				  : "the server did not answer the connection for 25 s");
		return;
	}
	if (a->tcp_up && !a->ping_out && now >= a->heard_at + APP_IDLE_PING_MS) {
		app_sendf(a, "PING: alive");
		a->ping_out = true;
	}
	due = a->heard_at + (a->tcp_up && !a->ping_out ? APP_IDLE_PING_MS : APP_DEAD_MS);
	if (due < *next)
		*next = due;
}

uint64_t app_tick(struct app *a, uint64_t now)
{
	uint64_t next = now + 60000;

	if (a->conn == APP_DISCONNECTED) {
		if (now >= a->reconnect_at)
			connect_now(a, now);
		else
			next = a->reconnect_at;
	}
	liveness(a, now, &next);
	if (a->have_voice && !a->tx && a->link) {
		if (now >= a->keepalive_at) {
			if (a->voice_ok && ++a->ka_unanswered > APP_VOICE_LOST_KA) {
				lost(a, "the server stopped answering voice keepalives");
				return next;
			}
			app_push(a, ACT_KEEPALIVE);
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
	a->ka_unanswered = 0;
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
	/* keys and a password's CONNECT live on in out alone */
	explicit_bzero(&a->q[a->qh], sizeof(a->q[0]));
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

const char *app_group(const struct app *a)
{
	return a->group;
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

	snprintf(buf, len, "%s%s%s%s%s%s%s%s%s%s%s", conn[a->conn], a->nrooms ? " " : "",
		 app_room(a), a->tx ? " | TALKING" : "", call[a->call], a->peer,
		 a->group[0] ? " (" : "", a->group, a->group[0] ? ")" : "",
		 a->note[0] ? " | " : "", a->note);
}
