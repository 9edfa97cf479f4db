/* app_int.h: the client state machine's internals, shared by app.c (connection, buttons,
 * time) and app_line.c (the server's lines) only. */
#ifndef IC_APP_INT_H
#define IC_APP_INT_H

#include "app.h"

struct app {
	struct app_cfg cfg;
	enum app_conn conn;
	enum app_call call;
	char peer[IC_ROOM_MAX + 1];  /* a nick, or the #room a group call rings */
	char group[IC_ROOM_MAX + 1]; /* ringing in from a group: its room, else "" */
	/* ringing out, a Request from another came (the server rang us before it read
	 * ours, so ours will be BUSY): that ring, and its group, to show then */
	char pend[IC_NICK_MAX + 1], pend_group[IC_ROOM_MAX + 1];
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
	/* liveness: from ACT_CONNECT until app_disconnected the link is up; heard_at is
	 * when the server last showed it is there (the connect, any line) */
	bool link, tcp_up, ping_out;
	uint64_t heard_at;
	unsigned ka_unanswered; /* voice keepalives sent since the server last answered */
	char note[128];		/* what the person should read in the status ("" none) */
	unsigned nick_taken;	/* NICK_IN_USE answers in a row */
	bool security;		/* app_security since the last login */
	struct app_act q[APP_ACT_MAX];
	unsigned qh, qn;
};

/* Queue an action (the oldest is dropped past APP_ACT_MAX, which one drain per event
 * never reaches); returns it zeroed but for its kind. */
struct app_act *app_push(struct app *a, enum app_act_kind kind);
/* Queue a line to send; the LF is added. */
void app_sendf(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void app_tone(struct app *a, enum tone_kind t);
void app_led(struct app *a, enum app_led l, enum led_state s);
void app_status_changed(struct app *a);
/* Show text to the person (logged by the loop). */
void app_message(struct app *a, const char *text);
/* The call's new state (and peer); LEDs and status follow. */
void app_set_call(struct app *a, enum app_call c, const char *peer);
/* Push-to-talk pressed: start talking, with the chirp (not while ptt_hold_off). */
void app_start_tx(struct app *a);
/* A hands-free call (cfg.handsfree, CALL_IN_CALL): its microphone is open. */
bool app_handsfree_call(const struct app *a);
/* In a hands-free call, open the microphone (no chirp) if it is not yet. */
void app_handsfree_tx(struct app *a);
/* The server showed it is alive (a line arrived). */
void app_heard(struct app *a, uint64_t now);
/* Set the status note (printf-style) and announce it as a message too. */
void app_note(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void app_stop_tx(struct app *a);

#endif
