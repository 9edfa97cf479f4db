/* Ring groups (protocol 1.2) through the whole hub, without sockets: who is rung and
 * what each side reads, refusals, the errors in the contract's order, the ring timeout,
 * parting and leaving, both pressing CALL at once, voice only after the answer, and the
 * bound on how many one ring rings. The call state machine's own rules are test_call's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../support/ringhub.h"
#include "log.h"

enum { DOOR, KITCHEN, OFFICE, BUSY1, BUSY2, LATE };

/* Door (not a member) and #House: Kitchen (1.2), Office (1.1), and two in a call. */
static void house(void)
{
	login(DOOR, "Door", "1.2.0");
	login(KITCHEN, "Kitchen", "1.2.0");
	login(OFFICE, "Office", "1.1.0");
	login(BUSY1, "Busy1", "1.2.0");
	login(BUSY2, "Busy2", "1.2.0");
	for (int i = KITCHEN; i <= BUSY2; i++) {
		put(i, "JOIN: #House");
		expect(i, "JOINED: #House");
	}
	put(BUSY1, "TALK Busy2: Request");
	put(BUSY2, "TALK Busy1: Accept");
	expect(BUSY2, "TALK Busy1: Request");
	expect(BUSY1, "TALK Busy2: Accept");
	for (int i = DOOR; i <= BUSY2; i++) { /* every voice address known */
		assert_int_equal(voice(i, true, NULL), 1);
		silent(i);
	}
}

/* Door rings #House: Kitchen and Office ring (Office's line is 1.1's). */
static void ring_house(void)
{
	put(DOOR, "TALK #House: Request");
	expect(KITCHEN, "TALK Door: Request #House");
	expect(OFFICE, "TALK Door: Request");
}

static void test_first_accept_wins(void **state)
{
	uint16_t p[NBOX];

	(void)state;
	house();
	put(DOOR, "TALK #house: Request"); /* any case; named as the room shows it */
	expect(KITCHEN, "TALK Door: Request #House");
	expect(OFFICE, "TALK Door: Request"); /* it speaks 1.1: the line it knows */
	silent(BUSY1);
	silent(BUSY2);
	silent(DOOR);
	/* while ringing, everyone still talks to its room */
	assert_int_equal(voice(KITCHEN, false, p), 1);
	assert_int_equal(p[0], 5000 + OFFICE);
	/* a rung member is busy for everyone else */
	put(BUSY2, "TALK Busy1: End");
	put(BUSY1, "TALK Kitchen: Request");
	expect(BUSY1, "TALK Busy2: End");
	expect(BUSY1, "TALK Kitchen: Busy");
	put(KITCHEN, "TALK Door: Accept");
	silent(KITCHEN);
	expect(DOOR, "TALK Kitchen: Accept");
	expect(OFFICE, "TALK Door: End");
	/* a later Accept finds no call; the caller's call is with Kitchen now */
	put(OFFICE, "TALK Door: Accept");
	expect(OFFICE, "ERROR NO_CALL: no such call with that user");
	put(DOOR, "TALK #House: End");
	expect(DOOR, "ERROR NO_CALL: no such call with that room");
	put(DOOR, "TALK Office: End");
	expect(DOOR, "ERROR NO_CALL: no such call with that user");
	/* voice between the caller and the one who answered, and nobody else */
	assert_int_equal(voice(DOOR, false, p), 1);
	assert_int_equal(p[0], 5000 + KITCHEN);
	assert_int_equal(voice(KITCHEN, false, p), 1);
	assert_int_equal(p[0], 5000 + DOOR);
	assert_int_equal(voice(OFFICE, false, p), 2); /* #House: Busy1, Busy2 */
	assert_true(p[0] != 5000 + KITCHEN && p[1] != 5000 + KITCHEN);
	/* an ordinary 1:1 call: either side ends it */
	put(KITCHEN, "TALK Door: End");
	expect(DOOR, "TALK Kitchen: End");
	silent(OFFICE);
}

static void test_refusals_then_deny(void **state)
{
	(void)state;
	house();
	ring_house();
	/* a Deny, then an End: each stops its own ring; the caller hears only the sum */
	put(KITCHEN, "TALK Door: Deny");
	silent(DOOR);
	silent(KITCHEN);
	put(KITCHEN, "TALK Door: Accept"); /* its ring stopped */
	expect(KITCHEN, "ERROR NO_CALL: no such call with that user");
	put(OFFICE, "TALK Door: End");
	expect(DOOR, "TALK #House: Deny");
	silent(OFFICE);
	/* all free again */
	put(KITCHEN, "TALK Door: Request");
	expect(DOOR, "TALK Kitchen: Request");
	put(DOOR, "TALK Kitchen: Deny");
	expect(KITCHEN, "TALK Door: Deny");
	/* parting the room stops a ring (End to it), leaving the server too */
	ring_house();
	put(KITCHEN, "PART: #Lobby"); /* another room: still ringing */
	expect(KITCHEN, "PARTED: #Lobby");
	put(KITCHEN, "PART: #House");
	expect(KITCHEN, "TALK Door: End");
	expect(KITCHEN, "PARTED: #House");
	silent(DOOR);
	put(OFFICE, "DISCONNECT");
	expect(DOOR, "TALK #House: Deny");
	put(DOOR, "TALK #House: End");
	expect(DOOR, "ERROR NO_CALL: no such call with that room");
}

static void test_errors_and_busy(void **state)
{
	(void)state;
	house();
	put(DOOR, "TALK #Bad!: Request");
	expect(DOOR, "ERROR BAD_ROOM: room: # and 1-32 of A-Z a-z 0-9 _ - .");
	put(DOOR, "TALK #Nowhere: Request");
	expect(DOOR, "ERROR NO_SUCH_USER: no such room");
	put(DOOR, "TALK #House: Accept");
	expect(DOOR, "ERROR NO_CALL: no such call with that room");
	put(DOOR, "TALK #House: Deny");
	expect(DOOR, "ERROR NO_CALL: no such call with that room");
	put(DOOR, "TALK #House: End");
	expect(DOOR, "ERROR NO_CALL: no such call with that room");
	put(DOOR, "TALK #House: Hello");
	expect(DOOR,
	       "ERROR BAD_ARGS: expected: TALK <nick|#room>: Request|Accept|Deny|End");
	/* in a call (Busy1's), any Request is BUSY before its target is looked at */
	put(BUSY1, "TALK #Bad!: Request");
	expect(BUSY1, "ERROR BUSY: you are in a call already: end it first");
	put(BUSY1, "TALK #Nowhere: Request");
	expect(BUSY1, "ERROR BUSY: you are in a call already: end it first");
	/* nobody free: Busy, and no call was made */
	put(KITCHEN, "TALK Office: Request");
	expect(OFFICE, "TALK Kitchen: Request");
	put(DOOR, "TALK #House: Request");
	expect(DOOR, "TALK #House: Busy");
	put(DOOR, "TALK #House: End");
	expect(DOOR, "ERROR NO_CALL: no such call with that room");
	/* a room of the caller alone is nobody free too */
	put(DOOR, "JOIN: #Porch");
	expect(DOOR, "JOINED: #Porch");
	put(DOOR, "TALK #Porch: Request");
	expect(DOOR, "TALK #Porch: Busy");
	/* #Lobby always exists; the caller in the room is never rung */
	put(KITCHEN, "TALK Office: End");
	expect(OFFICE, "TALK Kitchen: End");
	put(DOOR, "TALK #Lobby: Request");
	expect(KITCHEN, "TALK Door: Request #Lobby");
	expect(OFFICE, "TALK Door: Request");
	silent(DOOR);
	/* while ringing, the caller is busy; members who join later are not rung */
	put(DOOR, "TALK Kitchen: Request");
	expect(DOOR, "ERROR BUSY: you are in a call already: end it first");
	login(LATE, "Late", "1.2.0");
	silent(LATE);
	put(LATE, "TALK Door: Request");
	expect(LATE, "TALK Door: Busy");
	/* Accept or Deny naming a member is not the caller's to say */
	put(DOOR, "TALK Kitchen: Accept");
	expect(DOOR, "ERROR NO_CALL: no such call with that user");
	put(DOOR, "TALK #Lobby: End");
	expect(KITCHEN, "TALK Door: End");
	expect(OFFICE, "TALK Door: End");
	silent(DOOR);
}

static void test_timeout_and_caller_leaving(void **state)
{
	(void)state;
	house();
	ring_house();
	put(KITCHEN, "TALK Door: Deny");
	now += 29999;
	hub_tick(hub, now);
	silent(DOOR);
	now += 1;
	hub_tick(hub, now);
	expect(DOOR, "TALK #House: End");
	expect(OFFICE, "TALK Door: End");
	silent(KITCHEN);
	/* the caller vanishes while it rings */
	ring_house();
	hub_hangup(hub, bx[DOOR].f.s, "gone");
	hub_reap(hub, hubfake_closed, NULL);
	expect(KITCHEN, "TALK Door: End");
	expect(OFFICE, "TALK Door: End");
	/* both free */
	put(KITCHEN, "TALK Office: Request");
	expect(OFFICE, "TALK Kitchen: Request");
}

/* A rung member that presses CALL toward the caller answers it, as two boxes that
 * called each other at once. */
static void test_member_calls_back(void **state)
{
	uint16_t p[NBOX];

	(void)state;
	house();
	ring_house();
	put(OFFICE, "TALK Door: Request");
	expect(DOOR, "TALK Office: Accept");
	expect(KITCHEN, "TALK Door: End");
	expect(OFFICE, "TALK Door: Accept");
	assert_int_equal(voice(OFFICE, false, p), 1);
	assert_int_equal(p[0], 5000 + DOOR);
	hub_hangup(hub, bx[OFFICE].f.s, "gone"); /* the acceptor leaves mid-call */
	hub_reap(hub, hubfake_closed, NULL);
	expect(DOOR, "TALK Office: End");
}

/* One Request to a room larger than the bound rings the first IC_RING_GROUP_MAX free
 * members in join order, and nobody else. */
static void test_bound(void **state)
{
	char nick[16];
	int rung = 0;

	(void)state;
	for (int i = 0; i < NBOX; i++) {
		snprintf(nick, sizeof(nick), "B%d", i);
		login(i, nick, "1.2.0");
	}
	put(1, "TALK B2: Request"); /* B1 and B2 are not free */
	expect(2, "TALK B1: Request");
	put(0, "TALK #Lobby: Request");
	for (int i = 1; i < NBOX; i++) {
		const char *l = next(i);

		if (i <= 2 || i > IC_RING_GROUP_MAX + 2) {
			assert_null(l);
			continue;
		}
		assert_non_null(l);
		assert_string_equal(l, "TALK B0: Request #Lobby");
		rung++;
	}
	assert_int_equal(rung, IC_RING_GROUP_MAX);
	now += 30000;
	hub_tick(hub, now);
	expect(0, "TALK #Lobby: End");
	for (int i = 3; i <= IC_RING_GROUP_MAX + 2; i++)
		expect(i, "TALK B0: End");
	/* left ringing: the hub is freed with 32 sessions pointing at one call (ASan
	 * and valgrind would see a dangling or double free) */
	put(0, "TALK #Lobby: Request");
	expect(3, "TALK B0: Request #Lobby");
}

/* REPLACED while the group rings: a rung member's login from the same box stops its ring
 * (a refusal: the last one makes the caller's Deny), its new session is not rung; the
 * caller's stops every ring. */
static void test_replaced_while_ringing(void **state)
{
	(void)state;
	login_key(DOOR, "Door", "1.2.0", "sha256:d");
	login_key(KITCHEN, "Kitchen", "1.2.0", "sha256:k");
	login_key(OFFICE, "Office", "1.2.0", "sha256:o");
	for (int i = KITCHEN; i <= OFFICE; i++) {
		put(i, "JOIN: #House");
		expect(i, "JOINED: #House");
	}
	put(DOOR, "TALK #House: Request");
	expect(KITCHEN, "TALK Door: Request #House");
	expect(OFFICE, "TALK Door: Request #House");
	login_key(LATE, "Kitchen", "1.2.0", "sha256:k"); /* back from a Wi-Fi drop */
	expect(KITCHEN, "ERROR REPLACED: logged in again from the same box");
	silent(KITCHEN);
	silent(LATE);
	silent(DOOR);
	put(OFFICE, "TALK Door: Deny");
	expect(DOOR, "TALK #House: Deny");
	/* the caller replaced while it rings: every ring stops */
	put(LATE, "JOIN: #House");
	expect(LATE, "JOINED: #House");
	put(DOOR, "TALK #House: Request");
	expect(OFFICE, "TALK Door: Request #House");
	expect(LATE, "TALK Door: Request #House");
	login_key(BUSY1, "Door", "1.2.0", "sha256:d");
	expect(DOOR, "ERROR REPLACED: logged in again from the same box");
	expect(OFFICE, "TALK Door: End");
	expect(LATE, "TALK Door: End");
	put(BUSY1, "TALK #House: Request"); /* the new session: a ring of its own */
	expect(OFFICE, "TALK Door: Request #House");
	expect(LATE, "TALK Door: Request #House");
}

/* A member rung by one group is not rung by another (nor by a second ring of the same
 * room), and is busy for its own Requests; a 1.0 member gets the 1.0 line. */
static void test_two_groups(void **state)
{
	(void)state;
	house();
	login(LATE, "Garden", "1.0.0");
	login(LATE + 1, "Gate", "1.2.0");
	put(KITCHEN, "JOIN: #Garage");
	expect(KITCHEN, "JOINED: #Garage");
	put(LATE, "JOIN: #Garage");
	expect(LATE, "JOINED: #Garage");
	ring_house();
	put(LATE + 1, "TALK #Garage: Request"); /* Kitchen rings for Door already */
	expect(LATE, "TALK Gate: Request");	/* 1.0: no room */
	silent(KITCHEN);
	put(OFFICE, "TALK Door: Deny");
	put(BUSY2, "TALK Busy1: End");
	expect(BUSY1, "TALK Busy2: End");
	put(BUSY1, "TALK #House: Request"); /* Kitchen rings for Door already */
	expect(OFFICE, "TALK Busy1: Request");
	expect(BUSY2, "TALK Busy1: Request #House");
	silent(KITCHEN);
	login(LATE + 2, "Porch", "1.2.0");
	put(LATE + 2, "TALK #House: Request"); /* every member rings: nobody free */
	expect(LATE + 2, "TALK #House: Busy");
	/* a rung member is busy for its own Requests, to a nick or a room */
	put(KITCHEN, "TALK Busy2: Request");
	expect(KITCHEN, "ERROR BUSY: you are in a call already: end it first");
	put(KITCHEN, "TALK #Garage: Request");
	expect(KITCHEN, "ERROR BUSY: you are in a call already: end it first");
	/* it refuses naming the caller, not the room */
	put(KITCHEN, "TALK #House: End");
	expect(KITCHEN, "ERROR NO_CALL: no such call with that room");
	put(KITCHEN, "TALK Door: Accept");
	expect(DOOR, "TALK Kitchen: Accept");
	silent(OFFICE); /* rung by Busy1's group, not Door's */
	put(LATE, "TALK Gate: Accept");
	expect(LATE + 1, "TALK Garden: Accept");
}

/* The caller a member of the room it rings: never rung itself; parting and joining
 * the room during its own ring changes nothing; nor does another joining it. */
static void test_caller_in_room(void **state)
{
	(void)state;
	house();
	put(DOOR, "JOIN: #House");
	expect(DOOR, "JOINED: #House");
	ring_house();
	silent(DOOR);
	put(DOOR, "PART: #House");
	expect(DOOR, "PARTED: #House");
	silent(KITCHEN);
	silent(OFFICE);
	put(DOOR, "JOIN: #House");
	expect(DOOR, "JOINED: #House");
	silent(DOOR);
	/* a member joining during the ring is not rung, and finds the caller busy */
	login(LATE, "Late", "1.2.0");
	put(LATE, "JOIN: #House");
	expect(LATE, "JOINED: #House");
	silent(LATE);
	put(LATE, "TALK Door: Request");
	expect(LATE, "TALK Door: Busy");
	put(OFFICE, "TALK Door: Accept");
	expect(DOOR, "TALK Office: Accept");
	expect(KITCHEN, "TALK Door: End");
}

/* The room empties while it rings: every rung member parting or leaving is the
 * group's Deny; then the room is gone, and neither a ring nor an End finds it. */
static void test_room_empties(void **state)
{
	(void)state;
	house();
	ring_house();
	put(KITCHEN, "PART: #House");
	expect(KITCHEN, "TALK Door: End");
	expect(KITCHEN, "PARTED: #House");
	silent(DOOR);
	hub_hangup(hub, bx[OFFICE].f.s, "gone");
	hub_reap(hub, hubfake_closed, NULL);
	expect(DOOR, "TALK #House: Deny");
	put(BUSY1, "PART: #House");
	put(BUSY2, "PART: #House");
	put(DOOR, "TALK #House: End");
	expect(DOOR, "ERROR NO_CALL: no such call with that room");
	put(DOOR, "TALK #House: Request");
	expect(DOOR, "ERROR NO_SUCH_USER: no such room");
}

/* Glare between a private call and a group ring: a Request that reached the caller
 * first makes its group Request BUSY, and that ring still stands (it may accept it). */
static void test_private_before_group(void **state)
{
	(void)state;
	house();
	login(LATE, "Late", "1.2.0");
	put(LATE, "TALK Door: Request");
	put(DOOR, "TALK #House: Request");
	expect(DOOR, "TALK Late: Request");
	expect(DOOR, "ERROR BUSY: you are in a call already: end it first");
	silent(KITCHEN);
	put(DOOR, "TALK Late: Accept");
	expect(LATE, "TALK Door: Accept");
}

/* A caller ringing a big room over and over (Request, End, at the line rate): what a
 * member receives is bounded by the ring groups' own rate (IC_RING_GROUP_BURST rings,
 * then one every IC_RING_GROUP_EVERY_S), not by the line rate, which would let it ring
 * IC_RING_GROUP_MAX boxes five times a second. The Requests over it are answered
 * ERROR FLOOD, and it is not disconnected. */
static void test_ring_spam(void **state)
{
	enum { SECONDS = 60 };
	unsigned got[NBOX] = {0}, floods = 0;
	char nick[16];

	(void)state;
	for (int i = 0; i < NBOX; i++) {
		snprintf(nick, sizeof(nick), "B%d", i);
		login(i, nick, "1.2.0");
	}
	for (int t = 0; t < SECONDS * 5; t++) { /* 10 lines a second: the line rate */
		put(0, "TALK #Lobby: Request");
		put(0, "TALK #Lobby: End");
		now += 200;
		hub_tick(hub, now);
		for (int i = 0; i < NBOX; i++) {
			const char *l;

			while ((l = next(i)))
				if (i == 0)
					floods += !strncmp(l, "ERROR FLOOD: ", 13);
				else
					got[i] += !strncmp(l, "TALK B0: ", 9);
		}
	}
	assert_non_null(bx[0].f.s); /* still online */
	for (int i = 1; i <= IC_RING_GROUP_MAX; i++) {
		if (got[i] > 2 * (IC_RING_GROUP_BURST + SECONDS / IC_RING_GROUP_EVERY_S))
			fail_msg("B%d got %u TALK lines in %d s", i, got[i], SECONDS);
	}
	print_message("a member rung by one caller's spam: %u TALK lines in %d s; %u "
		      "ERROR FLOOD to the caller\n",
		      got[1], SECONDS, floods);
	assert_true(got[1] >= 2 * (SECONDS / IC_RING_GROUP_EVERY_S)); /* it still rings */
	assert_true(floods > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_first_accept_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals_then_deny, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_and_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_and_caller_leaving, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_member_calls_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_while_ringing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_caller_in_room, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_room_empties, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_private_before_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ring_spam, setup, teardown),
	};

	log_setup("test_ring", LOG_WARN); /* not a line per login */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
