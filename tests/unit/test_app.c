/* The client's state machine: events in, actions out, the clock in the test's hands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../support/appdrive.h"

static void test_login_and_join(void **state)
{
	char st[128];

	(void)state;
	start("#Hall", "", false);
	EXPECT("LED POWER blink|CONNECT|");
	login(10);
	EXPECT("SEND JOIN: #Hall|TONE connected|LED POWER on|");
	app_line(a, "JOINED: #Hall", 11);
	assert_string_equal(app_room(a), "#Hall");
	app_status(a, st, sizeof(st));
	assert_string_equal(st, "online #Hall");
	app_line(a, "PING: 5", 12); /* keepalive PINGs are answered at any time */
	EXPECT("SEND PONG: 5|");
	app_line(a, "PRIVMSG #Hall Bob: hello", 13);
	EXPECT("MSG PRIVMSG #Hall Bob: hello|");
}

static void test_ptt(void **state)
{
	(void)state;
	start("", "", false);
	drain();
	app_button(a, BTN_PTT, true, 1); /* offline: nothing is sent */
	EXPECT("");
	app_button(a, BTN_PTT, false, 2);
	login(3);
	EXPECT("TONE connected|LED POWER on|");
	app_button(a, BTN_PTT, true, 4);
	EXPECT("TX_START|TONE ptt|LED TX on|");
	assert_true(app_talking(a));
	app_button(a, BTN_PTT, true, 5); /* held: no second start */
	EXPECT("");
	app_button(a, BTN_PTT, false, 6);
	EXPECT("TX_STOP|LED TX off|");
	assert_false(app_talking(a));
}

static void test_outgoing_call(void **state)
{
	(void)state;
	start("", "Kitchen", false);
	login(0);
	drain();
	app_button(a, BTN_CALL, true, 1);
	EXPECT("SEND TALK Kitchen: Request|LED RING blink|TONE ringback|");
	assert_int_equal(app_call_state(a), CALL_RINGING_OUT);
	app_button(a, BTN_CALL, true, 2); /* ringing already: no second request */
	EXPECT("");
	app_line(a, "TALK Stranger: End", 3); /* not our peer: ignored */
	EXPECT("");
	app_line(a, "TALK Kitchen: Accept", 4);
	EXPECT("LED RING on|TONE connected|");
	assert_int_equal(app_call_state(a), CALL_IN_CALL);
	assert_string_equal(app_peer(a), "Kitchen");
	/* PTT in a call talks to the peer (the server routes it) */
	app_button(a, BTN_PTT, true, 5);
	EXPECT("TX_START|TONE ptt|LED TX on|");
	app_button(a, BTN_PTT, false, 6);
	drain();
	app_button(a, BTN_DENY, true, 7); /* DENY/END ends an active call */
	EXPECT("SEND TALK Kitchen: End|LED RING off|TONE disconnected|");
	/* busy and deny end a ringing call with the busy tone */
	app_button(a, BTN_CALL, true, 8);
	drain();
	app_line(a, "TALK Kitchen: Busy", 9);
	EXPECT("MSG Kitchen is busy|LED RING off|TONE busy|");
	app_button(a, BTN_CALL, true, 10);
	drain();
	app_line(a, "TALK Kitchen: Deny", 11);
	EXPECT("MSG Kitchen is not answering|LED RING off|TONE busy|");
	/* cancel while ringing */
	app_call(a, "Garage", 12);
	EXPECT("SEND TALK Garage: Request|LED RING blink|TONE ringback|");
	app_button(a, BTN_DENY, true, 13);
	EXPECT("SEND TALK Garage: End|LED RING off|TONE disconnected|");
	/* the peer ends it */
	app_call(a, "Garage", 14);
	app_line(a, "TALK Garage: Accept", 15);
	drain();
	app_line(a, "TALK Garage: End", 16);
	EXPECT("LED RING off|TONE disconnected|");
	assert_int_equal(app_call_state(a), CALL_NONE);
}

/* A call that ends, or is lost with the server, while PTT is held: the speech meant for
 * one person does not go on to the room; talking waits for a release and a new press. */
static void test_call_end_under_held_ptt(void **state)
{
	(void)state;
	start("", "Kitchen", false);
	login(0);
	app_button(a, BTN_CALL, true, 1);
	app_line(a, "TALK Kitchen: Accept", 2);
	app_button(a, BTN_PTT, true, 3);
	drain();
	app_line(a, "TALK Kitchen: End", 4);
	EXPECT("TX_STOP|LED TX off|LED RING off|TONE disconnected|");
	assert_false(app_talking(a));
	app_tick(a, 100); /* still held: silence, not the room */
	assert_false(app_talking(a));
	app_button(a, BTN_PTT, false, 200);
	app_button(a, BTN_PTT, true, 300);
	assert_true(app_talking(a)); /* a new press talks to the room */
	app_button(a, BTN_PTT, false, 400);
	/* the server goes away mid-call with the button held */
	app_button(a, BTN_CALL, true, 500);
	app_line(a, "TALK Kitchen: Accept", 501);
	app_button(a, BTN_PTT, true, 502);
	assert_true(app_talking(a));
	app_disconnected(a, 600);
	assert_int_equal(app_call_state(a), CALL_NONE);
	assert_false(app_talking(a));
	login(2000); /* back, button still held: idle in #Lobby, not talking */
	assert_false(app_talking(a));
	app_button(a, BTN_PTT, false, 2100);
	app_button(a, BTN_PTT, true, 2200);
	assert_true(app_talking(a));
}

static void test_incoming_call(void **state)
{
	(void)state;
	start("", "", false);
	login(0);
	drain();
	app_line(a, "TALK Gate: Request", 1);
	EXPECT("LED RING blink|TONE ring|");
	assert_int_equal(app_call_state(a), CALL_RINGING_IN);
	app_button(a, BTN_ACCEPT, true, 2);
	EXPECT("SEND TALK Gate: Accept|LED RING on|TONE connected|");
	app_line(a, "TALK Gate: End", 3);
	drain();
	app_line(a, "TALK Gate: Request", 4);
	drain();
	app_button(a, BTN_DENY, true, 5);
	EXPECT("SEND TALK Gate: Deny|LED RING off|TONE none|");
	app_line(a, "TALK Gate: Request", 6);
	drain();
	app_button(a, BTN_CALL, true, 7); /* CALL while ringing in answers it */
	EXPECT("SEND TALK Gate: Accept|LED RING on|TONE connected|");
	app_line(a, "TALK Gate: End", 8);
	drain();
	app_line(a, "TALK Gate: Request", 9); /* the caller gives up */
	drain();
	app_line(a, "TALK Gate: End", 10);
	EXPECT("LED RING off|TONE disconnected|");
}

static void test_auto_accept(void **state)
{
	(void)state;
	start("", "", true);
	login(0);
	drain();
	app_line(a, "TALK Gate: Request", 1);
	EXPECT("LED RING blink|SEND TALK Gate: Accept|LED RING on|TONE connected|");
	assert_int_equal(app_call_state(a), CALL_IN_CALL);
}

static void test_reconnect_backoff_and_rejoin(void **state)
{
	uint64_t now = 100, prev = 0;

	(void)state;
	start("", "", false);
	login(now);
	app_line(a, "JOINED: #A", now);
	app_line(a, "JOINED: #B", now);
	app_line(a, "TALK Gate: Request", now);
	app_button(a, BTN_PTT, true, now);
	drain();
	/* the server goes away in a call, with PTT held */
	app_disconnected(a, now);
	EXPECT("TONE disconnected|TX_STOP|LED TX off|LED RING off|LED POWER blink|");
	assert_int_equal(app_call_state(a), CALL_NONE);
	/* failed attempts back off: 1 s, 2, 4, 8, 16, 30, 30 ... each within +-25 % */
	for (int i = 0; i < 8; i++) {
		uint64_t base = i < 5 ? 1000u << i : 30000, due = app_tick(a, now);

		assert_true(due - now >= base * 3 / 4 && due - now <= base * 5 / 4);
		assert_true(due - now <= 30000 && due - now >= 1000);
		if (i > 0 && i < 5)
			assert_true(due - now > prev); /* grows */
		prev = due - now;
		assert_string_equal(drain(), "");
		app_tick(a, due - 1);
		assert_string_equal(drain(), "");
		app_tick(a, due);
		EXPECT("CONNECT|");
		now = due;
		app_disconnected(a, now);
		drain();
	}
	/* success: rooms rejoined in order (B stays the voice room), PTT still held */
	app_tick(a, now + 60000);
	drain();
	login(now + 60000);
	EXPECT(
	    "SEND JOIN: #A|SEND JOIN: #B|TONE connected|LED POWER on|TX_START|TONE ptt|"
	    "LED TX on|");
	app_line(a, "JOINED: #A", now);
	app_line(a, "JOINED: #B", now);
	assert_string_equal(app_room(a), "#B");
	/* and the backoff starts at 1 s again */
	app_disconnected(a, now);
	assert_true(app_tick(a, now) - now <= 1250);
}

static void test_rejoin_lobby_order_and_part(void **state)
{
	(void)state;
	start("", "", false);
	login(0);
	app_line(a, "JOINED: #A", 0);
	app_line(a, "JOINED: #Lobby", 0); /* #Lobby made the voice room again */
	drain();
	app_disconnected(a, 0);
	app_tick(a, 5000);
	drain();
	login(5000);
	EXPECT("SEND JOIN: #A|SEND JOIN: #Lobby|TONE connected|LED POWER on|");
	app_line(a, "JOINED: #A", 0);
	app_line(a, "JOINED: #Lobby", 0);
	app_line(a, "PARTED: #Lobby", 0); /* the person leaves #Lobby */
	drain();
	app_disconnected(a, 0);
	app_tick(a, 5000);
	drain();
	login(5000);
	EXPECT("SEND JOIN: #A|SEND PART: #Lobby|TONE connected|LED POWER on|");
}

/* The first keepalive (or its answer) is lost: it is repeated at 200 ms, doubling, until
 * the server answers; then one every 5 s. */
static void test_keepalive_retried_until_answered(void **state)
{
	(void)state;
	start("", "", false);
	drain();
	app_connected(a, 0);
	app_line(a, "ACCEPT: srv", 0);
	app_line(a, "VOICE: 6060 1234 0102030405060708", 0);
	EXPECT("SEND CONNECT: \"Door\" \"Front Door\" 1.2.0|VOICE 6060 1234 "
	       "01..08|KEEPALIVE|");
	app_voice_sent(a, 0); /* the client sent it: the retry schedule stands */
	assert_int_equal(app_tick(a, 199), 200);
	EXPECT("");
	assert_int_equal(app_tick(a, 200), 600);
	EXPECT("KEEPALIVE|");
	assert_int_equal(app_tick(a, 600), 1400);
	EXPECT("KEEPALIVE|");
	app_voice_heard(a, 700); /* answered */
	assert_int_equal(app_tick(a, 1400), 5700);
	EXPECT("");
	/* next: the liveness PING at 10 s of silence comes before the keepalive */
	assert_int_equal(app_tick(a, 5700), 10000);
	EXPECT("KEEPALIVE|");
}

static void test_keepalive_and_nick_in_use(void **state)
{
	(void)state;
	start("", "", false);
	login(0);
	drain();
	app_tick(a, 4999);
	EXPECT("");
	assert_int_equal(app_tick(a, 5000), 10000);
	EXPECT("KEEPALIVE|");
	app_voice_sent(a, 6000);
	app_tick(a, 10000);
	/* no keepalive: restarted by a packet sent at 6 s; the server has been silent 10
	 * s */
	EXPECT("SEND PING: alive|");
	app_button(a, BTN_PTT, true, 10500);
	drain();
	app_tick(a, 20000);
	EXPECT(""); /* talking: no keepalives */
	app_free(a);
	/* a nick still held by our old session: close, retry after the backoff */
	start("", "", false);
	drain();
	app_connected(a, 0);
	drain();
	app_line(a, "ERROR NICK_IN_USE: that nick is taken", 1);
	EXPECT("MSG ERROR NICK_IN_USE: that nick is taken|MSG nick 'Door' is in use (our "
	       "old session until the server drops it?): retrying|CLOSE|");
	/* held past the server's timeout: another box has it, and the person is told */
	for (int i = 2; i <= APP_NICK_TAKEN_TRIES; i++) {
		char st[200];

		app_disconnected(a, (uint64_t)i * 100000);
		app_tick(a, (uint64_t)i * 100000 + 60000);
		app_connected(a, (uint64_t)i * 100000 + 60000);
		drain();
		app_line(a, "ERROR NICK_IN_USE: that nick is taken",
			 (uint64_t)i * 100000 + 60001);
		app_status(a, st, sizeof(st));
		if (i < APP_NICK_TAKEN_TRIES)
			assert_non_null(strstr(st, "retrying"));
		else
			assert_string_equal(
			    st,
			    "connecting | nick 'Door' is taken by another box: set nick "
			    "in the config");
	}
}

/* A server that goes silent without closing (frozen, or a link that stopped
 * forwarding) is asked after 10 s and given up after 25 s: closed, POWER blinking, and
 * reconnected with the usual backoff. */
static void test_silent_server(void **state)
{
	char st[160];

	(void)state;
	start("", "", false);
	login(0);
	drain();
	assert_int_equal(app_tick(a, 9999), 10000);
	EXPECT_NO_KA("");
	app_tick(a, 10000);
	EXPECT_NO_KA("SEND PING: alive|");
	app_line(a, "PONG: alive", 10005); /* answered: alive */
	app_tick(a, 19000);
	EXPECT_NO_KA("");
	app_tick(a, 20005);
	EXPECT_NO_KA("SEND PING: alive|");
	assert_true(app_tick(a, 20006) <= 35005); /* no answer: the deadline is due */
	app_tick(a, 35004);
	EXPECT_NO_KA("");
	app_tick(a, 35005);
	EXPECT_NO_KA("MSG the server has been silent for 25 s: reconnecting|CLOSE|");
	app_status(a, st, sizeof(st));
	assert_non_null(strstr(st, "silent"));
	app_tick(a, 40000); /* once: the loop closes it */
	EXPECT_NO_KA("");
	app_disconnected(a, 40000);
	EXPECT_NO_KA("TONE disconnected|LED POWER blink|");
	assert_int_equal(app_conn_state(a), APP_DISCONNECTED);
	app_tick(a, 41500); /* the backoff: 1 s, jittered */
	EXPECT_NO_KA("CONNECT|");
	/* a connection that never completes is given up after 25 s too */
	app_tick(a, 41500 + APP_DEAD_MS);
	EXPECT_NO_KA(
	    "MSG the server did not answer the connection for 25 s: reconnecting|CLOSE|");
}

/* Voice keepalives the server stops answering (its UDP side gone) mean it is lost. */
static void test_voice_keepalives_unanswered(void **state)
{
	uint64_t t = 0;

	(void)state;
	start("", "", false);
	login(0);
	for (int i = 1; i <= APP_VOICE_LOST_KA; i++) {
		t = (uint64_t)i * APP_KEEPALIVE_MS;
		app_line(a, "PING: 1", t - 1); /* TCP is fine */
		drain();
		app_tick(a, t);
		EXPECT("KEEPALIVE|");
	}
	app_voice_heard(a, t + 1); /* one answer resets the count */
	for (int i = 1; i <= APP_VOICE_LOST_KA; i++) {
		t += APP_KEEPALIVE_MS;
		app_line(a, "PING: 1", t - 1);
		drain();
		app_tick(a, t);
		EXPECT("KEEPALIVE|");
	}
	t += APP_KEEPALIVE_MS;
	app_line(a, "PING: 1", t - 1);
	drain();
	app_tick(a, t);
	EXPECT("MSG the server stopped answering voice keepalives: reconnecting|CLOSE|");
}

/* REGISTERED after a first login is told to the person (the nick is the box's now). */
static void test_registered(void **state)
{
	char st[200];

	(void)state;
	start("", "Door", false);
	login(0);
	drain();
	app_line(a, "REGISTERED: Door sha256:00", 1);
	EXPECT("MSG nick 'Door' is now registered to this box on this server|");
	app_status(a, st, sizeof(st));
	assert_string_equal(
	    st,
	    "online #Lobby | nick 'Door' is now registered to this box on this server");
	app_line(a, "REGISTERED:", 2); /* nothing to tell */
	EXPECT("");
}

/* A call whose Request the server refuses ends at once, with the busy tone and a reason
 * a person understands, instead of ringing forever. */
static void test_call_errors(void **state)
{
	static const struct {
		const char *error, *note;
	} cases[] = {
	    {"ERROR NO_SUCH_USER: no such user online", "Kitchen is not online"},
	    {"ERROR BUSY: you are in a call already: end it first",
	     "cannot call Kitchen: already in a call"},
	    {"ERROR BAD_ARGS: you cannot call yourself",
	     "cannot call Kitchen: not a valid nick"},
	};
	char st[160], want[512];

	(void)state;
	start("", "Kitchen", false);
	login(0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		drain();
		app_button(a, BTN_CALL, true, 1);
		EXPECT("SEND TALK Kitchen: Request|LED RING blink|TONE ringback|");
		app_line(a, cases[i].error, 2);
		snprintf(want, sizeof(want), "MSG %s|MSG %s|LED RING off|TONE busy|",
			 cases[i].error, cases[i].note);
		EXPECT(want);
		assert_int_equal(app_call_state(a), CALL_NONE);
		app_status(a, st, sizeof(st));
		snprintf(want, sizeof(want), "online #Lobby | %s", cases[i].note);
		assert_string_equal(st, want);
	}
	/* an error while not calling is only shown */
	drain();
	app_line(a, "ERROR NO_SUCH_USER: no such user online", 3);
	EXPECT("MSG ERROR NO_SUCH_USER: no such user online|");
	/* the next call clears the note */
	app_button(a, BTN_CALL, true, 4);
	app_status(a, st, sizeof(st));
	assert_string_equal(st, "online #Lobby | calling Kitchen");
}

/* Both press CALL at each other (contract §1): whichever way the Requests cross, the
 * call connects. */
static void test_glare(void **state)
{
	(void)state;
	start("", "Kitchen", false);
	login(0);
	drain();
	/* our Request went first: theirs arrives while we ring out; wait for the Accept
	 */
	app_button(a, BTN_CALL, true, 1);
	drain();
	app_line(a, "TALK Kitchen: Request", 2);
	EXPECT("");
	assert_int_equal(app_call_state(a), CALL_RINGING_OUT);
	app_line(a, "TALK Kitchen: Accept", 3);
	EXPECT("LED RING on|TONE connected|");
	assert_int_equal(app_call_state(a), CALL_IN_CALL);
	app_button(a, BTN_DENY, true, 4);
	drain();
	/* theirs rang us first: calling them is answering */
	app_line(a, "TALK Kitchen: Request", 5);
	drain();
	app_call(a, "Kitchen", 6);
	EXPECT("SEND TALK Kitchen: Accept|LED RING on|TONE connected|");
	assert_int_equal(app_call_state(a), CALL_IN_CALL);
	app_button(a, BTN_DENY, true, 7);
	drain();
	/* the Requests crossed in flight: the server's Accept finds us ringing in */
	app_line(a, "TALK Kitchen: Request", 8);
	drain();
	app_line(a, "TALK Kitchen: Accept", 9);
	EXPECT("LED RING on|TONE connected|");
	assert_int_equal(app_call_state(a), CALL_IN_CALL);
}

/* Over TLS: CONNECT names 1.2.0 (with the password when there is one), VOICE must carry
 * keys (a token line there is ignored: never voice in the clear), and the queue keeps no
 * copy of the keys once they are taken. */
static void test_tls_login(void **state)
{
	struct app_cfg c;
	char voice[300], hex[89];

	(void)state;
	memset(&c, 0, sizeof(c));
	strcpy(c.nick, "Door");
	c.tls = true;
	strcpy(c.password, "open sesame");
	assert_int_equal(app_new(&a, &c, 42, 0), 0);
	drain();
	app_connected(a, 1);
	EXPECT("SEND CONNECT: \"Door\" \"\" 1.2.0 \"open sesame\"|");
	app_line(a, "ACCEPT: srv", 2);
	app_line(a, "VOICE: 6060 1234 0102030405060708", 2); /* 1.0's form */
	EXPECT("");
	for (int i = 0; i < 88; i++)
		hex[i] = "0123456789abcdef"[i % 16];
	hex[88] = '\0';
	hex[0] = 'a';
	snprintf(voice, sizeof(voice), "VOICE: 6060 1234 chacha20-poly1305 %s %s", hex,
		 hex);
	app_line(a, voice, 3);
	EXPECT("VOICE 6060 1234 keys a1 67|KEEPALIVE|");
	/* app_next wiped its copy: the key's first bytes are nowhere in the queue */
	assert_null(memmem(a->q, sizeof(a->q), "\xa1\x23\x45\x67\x89\xab\xcd\xef", 8));
	assert_null(memmem(a->q, sizeof(a->q), "open sesame", 11));
}

/* A login refused for what a person must fix: said, the security pattern on the LEDs
 * (POWER and RING in turn), a slow retry; a good login clears it. */
static void test_refused_login(void **state)
{
	static const char *const codes[] = {
	    "ERROR BAD_PASSWORD: wrong password",
	    "ERROR NICK_REGISTERED: this nick belongs to another box",
	    "ERROR BLOCKED: too many failed logins",
	};
	char st[200];

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		uint64_t due;

		start("", "", false);
		drain();
		app_connected(a, 10);
		drain();
		app_line(a, codes[i], 11);
		{
			const char *got = drain();

			assert_non_null(strstr(got, "CLOSE|"));
		}
		app_disconnected(a, 12);
		{
			const char *got = drain();

			assert_non_null(strstr(got, "LED POWER blink|LED RING alt|"));
		}
		app_status(a, st, sizeof(st));
		assert_non_null(strstr(st, i == 0   ? "password"
					   : i == 1 ? "nick"
						    : "5 minutes"));
		due = app_tick(a, 13);
		assert_true(due >= 12 + APP_BACKOFF_MAX_MS * 3 / 4); /* not 1 s */
		app_free(a);
	}
	/* the server's key refused by the box: the same, and a login clears it */
	start("", "", false);
	app_security(a, "security: the server's key changed");
	app_disconnected(a, 5);
	assert_non_null(strstr(drain(), "LED RING alt|"));
	app_tick(a, 5 + APP_BACKOFF_MAX_MS * 5 / 4);
	app_connected(a, 5 + APP_BACKOFF_MAX_MS * 5 / 4);
	drain();
	app_line(a, "ACCEPT: srv", 40000);
	app_line(a, "VOICE: 6060 1234 0102030405060708", 40000);
	app_line(a, "PING: 1", 40000);
	app_line(a, "JOINED: #Lobby", 40001);
	assert_non_null(strstr(drain(), "LED RING off|"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_login_and_join, teardown),
	    cmocka_unit_test_teardown(test_tls_login, teardown),
	    cmocka_unit_test_teardown(test_refused_login, teardown),
	    cmocka_unit_test_teardown(test_ptt, teardown),
	    cmocka_unit_test_teardown(test_outgoing_call, teardown),
	    cmocka_unit_test_teardown(test_call_end_under_held_ptt, teardown),
	    cmocka_unit_test_teardown(test_incoming_call, teardown),
	    cmocka_unit_test_teardown(test_auto_accept, teardown),
	    cmocka_unit_test_teardown(test_reconnect_backoff_and_rejoin, teardown),
	    cmocka_unit_test_teardown(test_rejoin_lobby_order_and_part, teardown),
	    cmocka_unit_test_teardown(test_keepalive_retried_until_answered, teardown),
	    cmocka_unit_test_teardown(test_keepalive_and_nick_in_use, teardown),
	    cmocka_unit_test_teardown(test_silent_server, teardown),
	    cmocka_unit_test_teardown(test_voice_keepalives_unanswered, teardown),
	    cmocka_unit_test_teardown(test_call_errors, teardown),
	    cmocka_unit_test_teardown(test_registered, teardown),
	    cmocka_unit_test_teardown(test_glare, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
