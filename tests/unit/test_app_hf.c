/* The client's hands-free calls (a door box): the microphone opened by an accepted call,
 * not by a button; the clock in the test's hands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../support/appdrive.h"

/* A door box (auto_accept, handsfree): the accepted call opens the microphone with no
 * button, without the PTT chirp (the connected tone says it); PTT in the call changes
 * nothing; the call's end closes it, and the room stays push-to-talk. */
static void test_handsfree_call(void **state)
{
	(void)state;
	start_hf("", "", true, true);
	login(0);
	drain();
	app_tick(a, 1000); /* online, no call: nothing is sent */
	assert_false(app_talking(a));
	app_line(a, "TALK Gate: Request", 2000);
	EXPECT("LED RING blink|SEND TALK Gate: Accept|LED RING on|TX_START|LED TX "
	       "on|TONE connected|");
	assert_true(app_talking(a));
	app_button(a, BTN_PTT, true, 2100); /* a held PTT changes nothing */
	EXPECT("");
	app_button(a, BTN_PTT, false, 2200);
	EXPECT("");
	assert_true(app_talking(a));
	app_tick(a, 9000); /* talking: no keepalive */
	EXPECT("");
	app_line(a, "TALK Gate: End", 9100);
	EXPECT("TX_STOP|LED TX off|LED RING off|TONE disconnected|");
	assert_false(app_talking(a));
	app_tick(a, 9200);
	assert_false(app_talking(a));
	/* the room is push-to-talk as ever */
	drain();
	app_button(a, BTN_PTT, true, 9300);
	EXPECT("TX_START|TONE ptt|LED TX on|");
	app_button(a, BTN_PTT, false, 9400);
	EXPECT("TX_STOP|LED TX off|");
	/* our own call, answered: open too; END closes it */
	app_call(a, "Kitchen", 9500);
	drain();
	assert_false(app_talking(a)); /* ringing out: not yet */
	app_line(a, "TALK Kitchen: Accept", 9600);
	EXPECT("LED RING on|TX_START|LED TX on|TONE connected|");
	app_button(a, BTN_DENY, true, 9700);
	EXPECT("SEND TALK Kitchen: End|TX_STOP|LED TX off|LED RING off|TONE "
	       "disconnected|");
	assert_false(app_talking(a));
}

/* The button held across a hands-free call's end does not go on to the room (as with
 * push-to-talk calls), nor does a call lost with the server; a new call opens the
 * microphone even under that held button. */
static void test_handsfree_end_under_held_ptt(void **state)
{
	(void)state;
	start_hf("", "", true, true);
	login(0);
	app_line(a, "TALK Gate: Request", 1);
	app_button(a, BTN_PTT, true, 2);
	drain();
	app_line(a, "TALK Gate: End", 3);
	EXPECT("TX_STOP|LED TX off|LED RING off|TONE disconnected|");
	app_tick(a, 100);
	assert_false(app_talking(a)); /* held: silence, not the room */
	app_line(a, "TALK Gate: Request", 200);
	assert_true(app_talking(a)); /* the next call is hands-free still */
	app_disconnected(a, 300);    /* lost mid-call, the button held */
	assert_false(app_talking(a));
	login(2000);
	assert_false(app_talking(a));
	app_button(a, BTN_PTT, false, 2100);
	app_button(a, BTN_PTT, true, 2200);
	assert_true(app_talking(a)); /* a new press talks to the room */
}

/* handsfree = no: an accepted call is silent until PTT, as before. */
static void test_handsfree_off(void **state)
{
	(void)state;
	start_hf("", "", true, false);
	login(0);
	drain();
	app_line(a, "TALK Gate: Request", 1);
	EXPECT("LED RING blink|SEND TALK Gate: Accept|LED RING on|TONE connected|");
	assert_false(app_talking(a));
	app_button(a, BTN_PTT, true, 2);
	EXPECT("TX_START|TONE ptt|LED TX on|");
	app_button(a, BTN_PTT, false, 3);
	EXPECT("TX_STOP|LED TX off|");
	assert_false(app_talking(a));
}

/* A call accepted before the server gave the voice path: the microphone opens when it
 * comes. */
static void test_handsfree_voice_late(void **state)
{
	(void)state;
	start_hf("", "", true, true);
	drain();
	app_connected(a, 0);
	app_line(a, "ACCEPT: srv", 0);
	app_line(a, "JOINED: #Lobby", 0);
	assert_int_equal(app_conn_state(a), APP_ONLINE);
	app_line(a, "TALK Gate: Request", 1);
	assert_int_equal(app_call_state(a), CALL_IN_CALL);
	assert_false(app_talking(a)); /* no voice path yet */
	drain();
	app_line(a, "VOICE: 6060 1234 0102030405060708", 2);
	EXPECT("VOICE 6060 1234 01..08|TX_START|LED TX on|KEEPALIVE|");
	assert_true(app_talking(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_handsfree_call, teardown),
	    cmocka_unit_test_teardown(test_handsfree_end_under_held_ptt, teardown),
	    cmocka_unit_test_teardown(test_handsfree_off, teardown),
	    cmocka_unit_test_teardown(test_handsfree_voice_late, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
