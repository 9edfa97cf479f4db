/* The call state machine alone (call.c): every rule of the contract's private calls and
 * ring groups (1.2), as the lines each operation says to send. Sessions are opaque to
 * it, so five addresses stand in for them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "call.h"

static char m[IC_RING_GROUP_MAX + 8];
#define S(i) ((struct sess *)(void *)&m[i])
#define A    S(0)
#define B    S(1)
#define C    S(2)
#define D    S(3)
#define E    S(4)

static const char *name(const struct sess *s)
{
	static char ring[4][8];
	static unsigned k;
	char *n = ring[k++ % 4]; /* several in one printf */

	if ((const char *)s >= &m[5]) {
		snprintf(n, 8, "M%d", (int)((const char *)s - m));
		return n;
	}
	n[0] = (char)('A' + ((const char *)s - m));
	n[1] = '\0';
	return n;
}

/* o as text: "B<TALK A: Request|A<TALK #House: Deny|release C|..." in order, then
 * "over" when the call is finished. */
static const char *show(const struct call_outs *o)
{
	static const char *const what[] = {"Request", "Accept", "Deny", "End", "Busy"};
	static char buf[4096];

	buf[0] = '\0';
	for (size_t i = 0; i < o->n; i++) {
		const struct call_out *x = &o->o[i];
		char one[128];
		size_t l = strlen(buf);

		if (x->line) {
			snprintf(one, sizeof(one), "%s<TALK %s: %s%s%s|", name(x->to),
				 x->from ? name(x->from) : o->group, what[x->what],
				 x->room ? " " : "", x->room ? o->group : "");
			snprintf(buf + l, sizeof(buf) - l, "%s", one);
			l = strlen(buf);
		}
		if (x->release)
			snprintf(buf + l, sizeof(buf) - l, "release %s|", name(x->to));
	}
	if (o->over)
		strncat(buf, "over", sizeof(buf) - strlen(buf) - 1);
	return buf;
}

#define EXPECT(o, want)                                                                  \
	do {                                                                             \
		const char *got_ = show(o);                                              \
		if (strcmp(got_, want))                                                  \
			fail_msg("expected\n  %s\ngot\n  %s", want, got_);               \
	} while (0)

static struct call_outs o;

static void test_ring_accept(void **state)
{
	struct call *c;

	(void)state;
	assert_int_equal(call_ring(&c, A, B, 1000, 30000, &o), 0);
	EXPECT(&o, "B<TALK A: Request|");
	assert_false(call_active(c));
	assert_ptr_equal(call_peer(c, A), B);
	assert_ptr_equal(call_peer(c, B), A);
	assert_null(call_peer(c, C));
	assert_true(call_rings(c, B));
	assert_false(call_rings(c, A));
	/* the caller cannot accept, nor name the wrong caller, nor a stranger answer */
	assert_int_equal(call_answer(c, A, B, true, &o), -EPERM);
	assert_int_equal(call_answer(c, B, C, true, &o), -EPERM);
	assert_int_equal(call_answer(c, C, A, true, &o), -EPERM);
	assert_false(call_expire(c, 30999, &o));
	assert_true(call_ring_expired(c, 31000));
	assert_int_equal(call_answer(c, B, A, true, &o), 0);
	EXPECT(&o, "A<TALK B: Accept|");
	assert_true(call_active(c));
	assert_false(call_expire(c, 99999, &o)); /* an active call does not time out */
	assert_int_equal(call_answer(c, B, A, true, &o), -EPERM); /* not ringing */
	assert_int_equal(call_end(c, A, C, &o), -EPERM);
	assert_int_equal(call_end(c, A, NULL, &o), -EPERM);
	assert_int_equal(call_end(c, B, A, &o), 0);
	EXPECT(&o, "A<TALK B: End|release A|release B|over");
	call_free(c);
}

static void test_deny_cancel_timeout_leave(void **state)
{
	struct call *c;

	(void)state;
	call_ring(&c, A, B, 0, 1000, &o);
	assert_int_equal(call_answer(c, B, A, false, &o), 0);
	EXPECT(&o, "A<TALK B: Deny|release A|release B|over");
	call_free(c);
	call_ring(&c, A, B, 0, 1000, &o);
	assert_int_equal(call_end(c, A, B, &o), 0); /* the caller cancels */
	EXPECT(&o, "B<TALK A: End|release A|release B|over");
	call_free(c);
	call_ring(&c, A, B, 0, 1000, &o);
	assert_true(call_expire(c, 1000, &o));
	EXPECT(&o, "A<TALK B: End|B<TALK A: End|release A|release B|over");
	call_free(c);
	call_ring(&c, A, B, 0, 1000, &o);
	call_leave(c, B, &o);
	EXPECT(&o, "A<TALK B: End|release A|release B|over");
	call_free(c);
	/* a PART never touches a call to a nick */
	call_ring(&c, A, B, 0, 1000, &o);
	assert_int_equal(call_part(c, B, "#Lobby", &o), -ENOENT);
	EXPECT(&o, "");
	call_free(c);
}

/* A rings #House, whose free members are B, C, D. */
static struct call *ring_house(void)
{
	struct sess *mem[] = {B, C, D};
	struct call *c;

	assert_int_equal(call_ring_group(&c, A, "#House", mem, 3, 1000, 30000, &o), 0);
	EXPECT(&o, "B<TALK A: Request #House|C<TALK A: Request #House|"
		   "D<TALK A: Request #House|");
	assert_non_null(c);
	return c;
}

static void test_group_first_accept_wins(void **state)
{
	struct call *c = ring_house();

	(void)state;
	assert_true(call_rings(c, B) && call_rings(c, C) && call_rings(c, D));
	assert_false(call_rings(c, A) || call_rings(c, E));
	assert_null(call_peer(c, A)); /* the caller's call is with the room */
	assert_ptr_equal(call_peer(c, C), A);
	assert_false(call_active(c));
	/* nobody answers on another's behalf, nor names another caller */
	assert_int_equal(call_answer(c, E, A, true, &o), -EPERM);
	assert_int_equal(call_answer(c, C, B, true, &o), -EPERM);
	assert_int_equal(call_answer(c, C, A, true, &o), 0);
	/* the caller told who answered; every other ring stopped */
	EXPECT(&o, "A<TALK C: Accept|B<TALK A: End|release B|D<TALK A: End|release D|");
	assert_true(call_active(c));
	assert_ptr_equal(call_peer(c, A), C);
	assert_ptr_equal(call_peer(c, C), A);
	assert_null(call_peer(c, B));
	/* a later Accept finds no call; the room no longer names it */
	assert_int_equal(call_answer(c, B, A, true, &o), -EPERM);
	assert_int_equal(call_end_group(c, A, "#House", &o), -EPERM);
	assert_int_equal(call_part(c, C, "#House", &o), -ENOENT);
	assert_false(call_expire(c, 1000000, &o));
	/* from here on an ordinary 1:1 call */
	assert_int_equal(call_end(c, A, C, &o), 0);
	EXPECT(&o, "C<TALK A: End|release A|release C|over");
	call_free(c);
}

static void test_group_refusals(void **state)
{
	struct call *c = ring_house();

	(void)state;
	/* a Deny or End stops the member's own ring only; the caller hears nothing */
	assert_int_equal(call_answer(c, B, A, false, &o), 0);
	EXPECT(&o, "release B|");
	assert_false(call_rings(c, B));
	assert_int_equal(call_answer(c, B, A, false, &o), -EPERM); /* no call any more */
	assert_int_equal(call_end(c, C, A, &o), 0);
	EXPECT(&o, "release C|");
	/* the caller may not end (or hear) one member: its call is with the room */
	assert_int_equal(call_end(c, A, D, &o), -EPERM);
	/* the last refusal: the group's Deny */
	assert_int_equal(call_answer(c, D, A, false, &o), 0);
	EXPECT(&o, "release D|A<TALK #House: Deny|release A|over");
	call_free(c);
}

static void test_group_part_and_leave(void **state)
{
	struct call *c = ring_house();

	(void)state;
	/* parting another room changes nothing; parting the rung room stops the ring
	 * with End to it (any case) */
	assert_int_equal(call_part(c, B, "#Kitchen", &o), -ENOENT);
	assert_int_equal(call_part(c, A, "#House", &o), -ENOENT); /* not rung */
	assert_int_equal(call_part(c, B, "#HOUSE", &o), 0);
	EXPECT(&o, "B<TALK A: End|release B|");
	/* leaving the server stops it silently */
	call_leave(c, C, &o);
	EXPECT(&o, "release C|");
	call_leave(c, D, &o);
	EXPECT(&o, "release D|A<TALK #House: Deny|release A|over");
	call_free(c);
	/* the caller leaves while it rings: every ring stops */
	c = ring_house();
	call_answer(c, C, A, false, &o);
	call_leave(c, A, &o);
	EXPECT(&o, "B<TALK A: End|release B|D<TALK A: End|release D|release A|over");
	call_free(c);
	/* the acceptor leaves mid-call */
	c = ring_house();
	call_answer(c, D, A, true, &o);
	call_leave(c, D, &o);
	EXPECT(&o, "A<TALK D: End|release A|release D|over");
	call_free(c);
}

static void test_group_cancel_and_timeout(void **state)
{
	struct call *c = ring_house();

	(void)state;
	assert_int_equal(call_end_group(c, B, "#House", &o), -EPERM); /* not its ring */
	assert_int_equal(call_end_group(c, A, "#Garage", &o), -EPERM);
	call_answer(c, B, A, false, &o);
	assert_int_equal(call_end_group(c, A, "#house", &o), 0);
	EXPECT(&o, "C<TALK A: End|release C|D<TALK A: End|release D|release A|over");
	call_free(c);
	c = ring_house();
	call_end(c, D, A, &o);
	assert_false(call_expire(c, 30999, &o));
	EXPECT(&o, "");
	assert_true(call_expire(c, 31000, &o));
	EXPECT(&o, "A<TALK #House: End|B<TALK A: End|release B|C<TALK A: End|release C|"
		   "release A|over");
	call_free(c);
}

static void test_group_nobody_free_and_bound(void **state)
{
	struct sess *mem[IC_RING_GROUP_MAX + 3] = {0};
	struct call *c;

	(void)state;
	assert_int_equal(call_ring_group(&c, A, "#House", mem, 0, 0, 1000, &o), 0);
	assert_null(c);
	EXPECT(&o, "A<TALK #House: Busy|");
	/* more than the bound: the first IC_RING_GROUP_MAX ring, in the order given */
	for (int i = 0; i < IC_RING_GROUP_MAX + 3; i++)
		mem[i] = S(5 + i);
	assert_int_equal(
	    call_ring_group(&c, A, "#Lobby", mem, IC_RING_GROUP_MAX + 3, 0, 1000, &o), 0);
	assert_int_equal(o.n, IC_RING_GROUP_MAX);
	assert_ptr_equal(o.o[IC_RING_GROUP_MAX - 1].to, mem[IC_RING_GROUP_MAX - 1]);
	assert_false(call_rings(c, mem[IC_RING_GROUP_MAX]));
	{
		struct sess *all[CALL_OUT_MAX];

		assert_int_equal(call_parties(c, all), IC_RING_GROUP_MAX + 1);
	}
	/* the longest list of lines any operation makes fits */
	assert_true(call_expire(c, 1000, &o));
	assert_int_equal(o.n, IC_RING_GROUP_MAX + 2);
	assert_true(o.over);
	call_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ring_accept),
	    cmocka_unit_test(test_deny_cancel_timeout_leave),
	    cmocka_unit_test(test_group_first_accept_wins),
	    cmocka_unit_test(test_group_refusals),
	    cmocka_unit_test(test_group_part_and_leave),
	    cmocka_unit_test(test_group_cancel_and_timeout),
	    cmocka_unit_test(test_group_nobody_free_and_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
