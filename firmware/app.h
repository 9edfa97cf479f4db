/* app.h: the client's state machine as pure code. Events (connection up or down, server
 * lines, buttons, time) go in with the current time; actions come out of a queue for the
 * event loop to carry out. Nothing here touches a socket, a device or the clock. */
#ifndef IC_APP_H
#define IC_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ic_limits.h"
#include "msg.h"
#include "tones.h"
#include "vcrypt.h"

#define APP_ACT_MAX 64 /* actions queued between two drains */
/* CONNECT's version: 1.2 (ring groups) in both modes */
#define APP_PROTO_VERSION  MSG_PROTO_VERSION
#define APP_BACKOFF_MIN_MS 1000 /* reconnect backoff: 1 s ... */
#define APP_BACKOFF_MAX_MS                                                               \
	30000		      /* ... doubling up to 30 s, each with up to 25 % jitter */
#define APP_KEEPALIVE_MS 5000 /* a voice keepalive every 5 s while not talking */
#define APP_KEEPALIVE_RETRY_MS                                                           \
	200 /* until the server answers one: 200 ms, doubling up to APP_KEEPALIVE_MS */

/* Liveness: the server PINGs every 15 s, so a quiet link is asked (PING) after 10 s of
 * silence, and one silent for 25 s is lost: closed and reconnected with the backoff, so
 * a frozen server or a link that stopped forwarding is noticed within 30 s. Voice
 * keepalives unanswered 5 times in a row (25 s) mean the same. */
#define APP_IDLE_PING_MS  10000
#define APP_DEAD_MS	  25000
#define APP_VOICE_LOST_KA 5

/* NICK_IN_USE this many times in a row: not our own old session (the server drops that
 * within its 45 s ping timeout, and the backoff's 1+2+4+8+16+30 s are past it by then)
 * but another box with the same nick, which the person must be told. */
#define APP_NICK_TAKEN_TRIES 6

enum app_conn { APP_DISCONNECTED, APP_CONNECTING, APP_ONLINE };
enum app_call { CALL_NONE, CALL_RINGING_OUT, CALL_RINGING_IN, CALL_IN_CALL };

enum app_btn { BTN_PTT, BTN_CALL, BTN_ACCEPT, BTN_DENY };

/* LED_ALT blinks in turn with LED_BLINK: POWER and RING taking turns is the security
 * error, a pattern no other state makes (docs/CLIENT.md) */
enum led_state { LED_OFF, LED_ON, LED_BLINK, LED_ALT };
enum app_led { LED_POWER, LED_TX, LED_RX, LED_RING, LED_COUNT };

enum app_act_kind {
	ACT_CONNECT,   /* open the TCP connection to the server */
	ACT_CLOSE,     /* close it; the loop then calls app_disconnected() */
	ACT_SEND,      /* send .line (with its LF) */
	ACT_VOICE,     /* voice parameters: .ssrc, .port, and .token (1.0) or .keyed with
			  .c2s and .s2c (over TLS; secret: wiped once used) */
	ACT_TX_START,  /* start sending voice; the first packet carries the marker */
	ACT_TX_STOP,   /* stop sending voice */
	ACT_KEEPALIVE, /* send an empty RTP packet */
	ACT_TONE,      /* play .tone (TONE_NONE stops the current one) */
	ACT_LED,       /* set .led to .led_state */
	ACT_STATUS,    /* the state changed: redraw a status line */
	ACT_MESSAGE,   /* show .line to the person (an IM or a server error) */
};

struct app_act {
	enum app_act_kind kind;
	char line[IC_LINE_MAX + 64];
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	bool keyed;
	struct vc_key c2s, s2c;
	unsigned port;
	enum tone_kind tone;
	enum app_led led;
	enum led_state led_state;
};

struct app_cfg {
	char nick[IC_NICK_MAX + 1];
	char realname[IC_REALNAME_MAX + 1];
	char
	    call_target[IC_ROOM_MAX + 1]; /* the nick or #room CALL rings ("" = nobody) */
	char join[IC_ROOM_MAX + 1];	  /* voice room after login ("" = #Lobby) */
	bool auto_accept;		  /* accept an incoming call at once */
	bool handsfree;			  /* in a call the microphone is open */
	bool tls;			  /* VOICE with keys */
	char password[IC_PASSWORD_MAX + 1]; /* CONNECT's 4th field ("" = none) */
};

struct app;

/* Returns 0 or -ENOMEM; the first action (ACT_CONNECT) is queued. rand_seed makes the
 * backoff jitter reproducible in tests. */
int app_new(struct app **ap, const struct app_cfg *cfg, uint32_t rand_seed, uint64_t now);
void app_free(struct app *a);

void app_connected(struct app *a, uint64_t now);    /* TCP is up: log in */
void app_disconnected(struct app *a, uint64_t now); /* TCP closed or failed */
/* A security error, said before the connection closes: the server's key is not the one
 * pinned (or it has none), or the server refused this box's credentials. why becomes
 * the status note; until a login succeeds the LEDs show the security pattern and
 * reconnects wait APP_BACKOFF_MAX_MS (a person must act; retrying faster would only
 * count toward the server's BLOCKED). */
void app_security(struct app *a, const char *why);
void app_line(struct app *a, const char *line, uint64_t now); /* one server line, no LF */
void app_button(struct app *a, enum app_btn b, bool down, uint64_t now);
/* Ask for a call to a nick, or ring a room's free members (a ring group, protocol 1.2),
 * as if CALL were pressed for it (the scripting --call). */
void app_call(struct app *a, const char *target, uint64_t now);
/* Time passes: reconnect and keepalive deadlines. Returns when it next needs calling. */
uint64_t app_tick(struct app *a, uint64_t now);
/* A voice packet was sent (talk or keepalive): the keepalive timer restarts. */
void app_voice_sent(struct app *a, uint64_t now);
/* A packet came from the server on the voice path (the answer to a keepalive, or voice):
 * the path is open, keepalives drop to one every APP_KEEPALIVE_MS. */
void app_voice_heard(struct app *a, uint64_t now);

/* Take the next queued action; false when there is none. */
bool app_next(struct app *a, struct app_act *out);

enum app_conn app_conn_state(const struct app *a);
enum app_call app_call_state(const struct app *a);
bool app_talking(const struct app *a);
const char *app_peer(const struct app *a); /* the call's other side, or "" */
/* The room whose ring group rings us (`TALK Door: Request #House`), or "" */
const char *app_group(const struct app *a);
const char *app_room(const struct app *a); /* the voice room, or "" */
/* One line for a terminal status display, e.g. "online #Lobby | TX | ringing Kitchen";
 * a group's ring shows its room: "call from Door (#House)". */
void app_status(const struct app *a, char *buf, size_t len);

#endif
