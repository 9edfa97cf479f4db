/* appdrive.h: driving the client's state machine in a unit test (test_app,
 * test_app_hf): one app, its queued actions drained into text and compared, a login.
 * Include after cmocka.h. */
#ifndef IC_APPDRIVE_H
#define IC_APPDRIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "app_int.h" /* the action queue, to see that no secret stays in it */

static struct app *a;
static char log_[8192];

/* Drain the queued actions into log_ as "KIND arg|KIND arg|...". */
static inline const char *drain(void)
{
	static const char *const led_names[] = {"POWER", "TX", "RX", "RING"};
	static const char *const led_states[] = {"off", "on", "blink", "alt"};
	struct app_act act;

	log_[0] = '\0';
	while (app_next(a, &act)) {
		char one[700];

		switch (act.kind) {
		case ACT_CONNECT:
			snprintf(one, sizeof(one), "CONNECT|");
			break;
		case ACT_CLOSE:
			snprintf(one, sizeof(one), "CLOSE|");
			break;
		case ACT_SEND:
			act.line[strcspn(act.line, "\n")] = '\0';
			snprintf(one, sizeof(one), "SEND %s|", act.line);
			break;
		case ACT_VOICE:
			if (act.keyed)
				snprintf(one, sizeof(one), "VOICE %u %u keys %02x %02x|",
					 act.port, (unsigned)act.ssrc, act.c2s.key[0],
					 act.s2c.salt[11]);
			else
				snprintf(one, sizeof(one), "VOICE %u %u %02x..%02x|",
					 act.port, (unsigned)act.ssrc, act.token[0],
					 act.token[7]);
			break;
		case ACT_TX_START:
			snprintf(one, sizeof(one), "TX_START|");
			break;
		case ACT_TX_STOP:
			snprintf(one, sizeof(one), "TX_STOP|");
			break;
		case ACT_KEEPALIVE:
			snprintf(one, sizeof(one), "KEEPALIVE|");
			break;
		case ACT_TONE:
			snprintf(one, sizeof(one), "TONE %s|", tone_name(act.tone));
			break;
		case ACT_LED:
			snprintf(one, sizeof(one), "LED %s %s|", led_names[act.led],
				 led_states[act.led_state]);
			break;
		case ACT_STATUS:
			one[0] = '\0'; /* redraws are not behaviour worth pinning */
			break;
		case ACT_MESSAGE:
			snprintf(one, sizeof(one), "MSG %s|", act.line);
			break;
		}
		strncat(log_, one, sizeof(log_) - strlen(log_) - 1);
	}
	return log_;
}

#define EXPECT(want)                                                                     \
	do {                                                                             \
		const char *got_ = drain();                                              \
		if (strcmp(got_, want))                                                  \
			fail_msg("expected\n  %s\ngot\n  %s", want, got_);               \
	} while (0)

/* The same with the voice keepalives left out (for tests about something else). */
#define EXPECT_NO_KA(want)                                                               \
	do {                                                                             \
		char got_[sizeof(log_)], *k_;                                            \
		snprintf(got_, sizeof(got_), "%s", drain());                             \
		while ((k_ = strstr(got_, "KEEPALIVE|")))                                \
			memmove(k_, k_ + 10, strlen(k_ + 10) + 1);                       \
		if (strcmp(got_, want))                                                  \
			fail_msg("expected\n  %s\ngot\n  %s", want, got_);               \
	} while (0)

static inline void start_hf(const char *join, const char *target, bool auto_accept,
			    bool handsfree)
{
	struct app_cfg c;

	memset(&c, 0, sizeof(c));
	strcpy(c.nick, "Door");
	strcpy(c.realname, "Front Door");
	strcpy(c.join, join);
	strcpy(c.call_target, target);
	c.auto_accept = auto_accept;
	c.handsfree = handsfree;
	assert_int_equal(app_new(&a, &c, 42, 0), 0);
}

/* A push-to-talk box (handsfree = no), as every test before hands-free calls assumed. */
static inline void start(const char *join, const char *target, bool auto_accept)
{
	start_hf(join, target, auto_accept, false);
}

/* Log in and check the whole exchange. */
static inline void login(uint64_t now)
{
	drain();
	app_connected(a, now);
	EXPECT("SEND CONNECT: \"Door\" \"Front Door\" 1.2.0|");
	app_line(a, "ACCEPT: srv", now);
	app_line(a, "VOICE: 6060 1234 0102030405060708", now);
	EXPECT("VOICE 6060 1234 01..08|KEEPALIVE|");
	app_voice_heard(a, now); /* the server answers the keepalive */
	app_line(a, "PING: 99", now);
	EXPECT("SEND PONG: 99|");
	assert_int_equal(app_conn_state(a), APP_CONNECTING);
	app_line(a, "JOINED: #Lobby", now);
	app_line(a, "USERLIST #Lobby: Door", now);
	assert_int_equal(app_conn_state(a), APP_ONLINE);
}

static inline int teardown(void **state)
{
	(void)state;
	app_free(a);
	return 0;
}

#endif
