/* The box and ring groups (protocol 1.2): call_target = #House rings the room and
 * whoever answers first is the call (hands-free as any call); a group's ring to us is
 * shown as "Door (#House)" and answered or refused as any ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../support/appdrive.h"

static const char *status(void)
{
	static char st[256];

	app_status(a, st, sizeof(st));
	return st;
}

static void test_call_target_room(void **state)
{
	(void)state;
	start_hf("", "#House", false, true);
	login(0);
	drain();
	app_button(a, BTN_CALL, true, 1);
	EXPECT("SEND TALK #House: Request|LED RING blink|TONE ringback|");
	assert_string_equal(status(), "online #Lobby | calling #House");
	/* another's call ending, or an Accept of no ring of ours, changes nothing */
	app_line(a, "TALK Kitchen: End", 2);
	EXPECT("");
	/* Kitchen answered first: an ordinary call with it, hands-free */
	app_line(a, "TALK Kitchen: Accept", 3);
	EXPECT("LED RING on|TX_START|LED TX on|TONE connected|");
	assert_int_equal(app_call_state(a), CALL_IN_CALL);
	assert_string_equal(app_peer(a), "Kitchen");
	assert_string_equal(status(), "online #Lobby | TALKING | in call with Kitchen");
	app_line(a, "TALK Office: Accept", 4); /* no longer ringing a room */
	EXPECT("");
	app_button(a, BTN_DENY, true, 5);
	EXPECT(
	    "SEND TALK Kitchen: End|TX_STOP|LED TX off|LED RING off|TONE disconnected|");
	/* cancelled while it rings: End to the room */
	app_button(a, BTN_CALL, true, 6);
	drain();
	app_button(a, BTN_DENY, true, 7);
	EXPECT("SEND TALK #House: End|LED RING off|TONE disconnected|");
	assert_int_equal(app_call_state(a), CALL_NONE);
}

static void test_room_not_answered(void **state)
{
	(void)state;
	start("", "#House", false);
	login(0);
	app_button(a, BTN_CALL, true, 1);
	drain();
	app_line(a, "TALK #House: Deny", 2);
	EXPECT("MSG nobody in #House answered|LED RING off|TONE busy|");
	assert_int_equal(app_call_state(a), CALL_NONE);
	app_button(a, BTN_CALL, true, 3);
	drain();
	app_line(a, "TALK #House: Busy", 4);
	EXPECT("MSG nobody in #House is free|LED RING off|TONE busy|");
	app_button(a, BTN_CALL, true, 5);
	drain();
	app_line(a, "TALK #House: End", 6); /* the ring timeout */
	EXPECT("MSG nobody in #House answered|LED RING off|TONE disconnected|");
	assert_string_equal(status(), "online #Lobby | nobody in #House answered");
	app_button(a, BTN_CALL, true, 7);
	drain();
	app_line(a, "ERROR NO_SUCH_USER: no such room", 8);
	EXPECT("MSG ERROR NO_SUCH_USER: no such room|MSG nobody is in #House|"
	       "LED RING off|TONE busy|");
	/* a nick's NO_SUCH_USER still reads as before */
	app_call(a, "Kitchen", 9);
	drain();
	app_line(a, "ERROR NO_SUCH_USER: no such user online", 10);
	EXPECT("MSG ERROR NO_SUCH_USER: no such user online|MSG Kitchen is not online|"
	       "LED RING off|TONE busy|");
	/* rung too often: the server drops the Request; ringback must not go on */
	app_button(a, BTN_CALL, true, 10);
	drain();
	app_line(a, "ERROR FLOOD: one ring of a room every 2 s: wait, then ring again",
		 10);
	EXPECT("MSG ERROR FLOOD: one ring of a room every 2 s: wait, then ring again|"
	       "MSG cannot call #House now: too many calls, wait a moment|LED RING off|"
	       "TONE busy|");
	assert_int_equal(app_call_state(a), CALL_NONE);
	/* the scripting call takes a room too; nothing invalid is sent */
	app_call(a, "#Bad!", 11);
	EXPECT("");
	app_call(a, "#Garage", 12);
	EXPECT("SEND TALK #Garage: Request|LED RING blink|TONE ringback|");
}

static void test_group_ring_in(void **state)
{
	(void)state;
	start_hf("", "", false, true);
	login(0);
	drain();
	app_line(a, "TALK Door: Request #House", 1);
	EXPECT("LED RING blink|TONE ring|");
	assert_int_equal(app_call_state(a), CALL_RINGING_IN);
	assert_string_equal(app_peer(a), "Door");
	assert_string_equal(app_group(a), "#House");
	assert_string_equal(status(), "online #Lobby | call from Door (#House)");
	/* accepted as any ring: then a private call, hands-free */
	app_button(a, BTN_ACCEPT, true, 2);
	EXPECT("SEND TALK Door: Accept|LED RING on|TX_START|LED TX on|TONE connected|");
	assert_string_equal(app_group(a), "");
	assert_string_equal(status(), "online #Lobby | TALKING | in call with Door");
	app_line(a, "TALK Door: End", 3);
	EXPECT("TX_STOP|LED TX off|LED RING off|TONE disconnected|");
	/* refused as any ring */
	app_line(a, "TALK Door: Request #House", 4);
	drain();
	app_button(a, BTN_DENY, true, 5);
	EXPECT("SEND TALK Door: Deny|LED RING off|TONE none|");
	assert_string_equal(app_group(a), "");
	/* another member answered first (or the door gave up): the ring stops */
	app_line(a, "TALK Door: Request #House", 6);
	drain();
	app_line(a, "TALK Door: End", 7);
	EXPECT("LED RING off|TONE disconnected|");
	assert_int_equal(app_call_state(a), CALL_NONE);
	assert_string_equal(status(), "online #Lobby");
	/* pressing CALL toward the door answers its ring */
	app_line(a, "TALK Door: Request #House", 8);
	drain();
	app_call(a, "Door", 9);
	EXPECT("SEND TALK Door: Accept|LED RING on|TX_START|LED TX on|TONE connected|");
	/* a ring from a 1.1 server names no room; anything else after it is not one */
	app_line(a, "TALK Door: End", 10);
	app_line(a, "TALK Door: Request", 11);
	assert_string_equal(app_group(a), "");
	assert_string_equal(status(), "online #Lobby | call from Door");
	app_line(a, "TALK Door: End", 12);
	app_line(a, "TALK Door: Request not-a-room", 13);
	assert_string_equal(app_group(a), "");
	assert_int_equal(app_call_state(a), CALL_RINGING_IN);
}

static void test_group_ring_auto_accept(void **state)
{
	(void)state;
	start("", "", true);
	login(0);
	drain();
	app_line(a, "TALK Door: Request #House", 1);
	EXPECT("LED RING blink|SEND TALK Door: Accept|LED RING on|TONE connected|");
	assert_int_equal(app_call_state(a), CALL_IN_CALL);
	/* another box was first: the server stops ours and refuses the Accept */
	app_line(a, "TALK Door: End", 2);
	app_line(a, "ERROR NO_CALL: no such call with that user", 3);
	EXPECT("LED RING off|TONE disconnected|MSG ERROR NO_CALL: no such call with that "
	       "user|");
	assert_int_equal(app_call_state(a), CALL_NONE);
}

/* A ring reaching the box after it sent its own Request, from someone else: the server
 * rang it before reading that Request, so answers it BUSY; the ring is then shown and
 * answered (before, the box ignored it: a ring nobody saw, and CALL BUSY until it timed
 * out). One that stops first leaves the plain BUSY. */
static void test_ring_crosses_request(void **state)
{
	(void)state;
	start("", "#House", false);
	login(0);
	app_button(a, BTN_CALL, true, 1);
	drain();
	app_line(a, "TALK Late: Request", 2);
	EXPECT("");
	assert_int_equal(app_call_state(a), CALL_RINGING_OUT);
	app_line(a, "ERROR BUSY: you are in a call already: end it first", 3);
	EXPECT("MSG ERROR BUSY: you are in a call already: end it first|"
	       "MSG Late called first: #House was not rung|LED RING off|LED RING blink|"
	       "TONE ring|");
	assert_int_equal(app_call_state(a), CALL_RINGING_IN);
	assert_string_equal(status(),
			    "online #Lobby | call from Late | Late called first: "
			    "#House was not rung");
	app_button(a, BTN_ACCEPT, true, 4);
	EXPECT("SEND TALK Late: Accept|LED RING on|TONE connected|");
	app_button(a, BTN_DENY, true, 5);
	drain();
	/* a group's ring crossing ours keeps its room */
	app_button(a, BTN_CALL, true, 6);
	drain();
	app_line(a, "TALK Door: Request #Porch", 7);
	app_line(a, "ERROR BUSY: you are in a call already: end it first", 8);
	drain();
	assert_string_equal(app_group(a), "#Porch");
	app_button(a, BTN_DENY, true, 9);
	EXPECT("SEND TALK Door: Deny|LED RING off|TONE none|");
	/* calling a nick, the server looks at it first: another error, the same ring */
	app_call(a, "Gone", 10);
	drain();
	app_line(a, "TALK Late: Request", 10);
	app_line(a, "ERROR NO_SUCH_USER: no such user online", 10);
	drain();
	assert_int_equal(app_call_state(a), CALL_RINGING_IN);
	assert_string_equal(app_peer(a), "Late");
	app_button(a, BTN_DENY, true, 10);
	drain();
	/* the crossing ring stopped before the answer: the plain BUSY */
	app_button(a, BTN_CALL, true, 10);
	drain();
	app_line(a, "TALK Late: Request", 11);
	app_line(a, "TALK Late: End", 12);
	app_line(a, "ERROR BUSY: you are in a call already: end it first", 13);
	EXPECT("MSG ERROR BUSY: you are in a call already: end it first|"
	       "MSG cannot call #House: already in a call|LED RING off|TONE busy|");
	assert_int_equal(app_call_state(a), CALL_NONE);
}

/* The link lost while a group rings us, or while we ring a room: the ring is gone
 * (the server stops it when we leave), nothing of it is shown after the reconnect,
 * and CALL rings the room again. */
static void test_reconnect_during_ring(void **state)
{
	(void)state;
	start("", "#House", false);
	login(0);
	app_line(a, "TALK Door: Request #House", 1);
	drain();
	app_disconnected(a, 2);
	drain();
	assert_int_equal(app_call_state(a), CALL_NONE);
	assert_string_equal(app_group(a), "");
	assert_string_equal(app_peer(a), "");
	login(5000);
	drain();
	assert_string_equal(status(), "online #Lobby");
	app_button(a, BTN_CALL, true, 5001);
	EXPECT("SEND TALK #House: Request|LED RING blink|TONE ringback|");
	app_disconnected(a, 5002);
	EXPECT("TONE disconnected|LED RING off|LED POWER blink|");
	assert_int_equal(app_call_state(a), CALL_NONE);
	login(10000);
	drain();
	app_line(a, "TALK #House: Deny", 10001); /* from before: not a ring of ours */
	EXPECT("");
	app_button(a, BTN_CALL, true, 10002);
	EXPECT("SEND TALK #House: Request|LED RING blink|TONE ringback|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_call_target_room, teardown),
	    cmocka_unit_test_teardown(test_room_not_answered, teardown),
	    cmocka_unit_test_teardown(test_group_ring_in, teardown),
	    cmocka_unit_test_teardown(test_group_ring_auto_accept, teardown),
	    cmocka_unit_test_teardown(test_ring_crosses_request, teardown),
	    cmocka_unit_test_teardown(test_reconnect_during_ring, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
