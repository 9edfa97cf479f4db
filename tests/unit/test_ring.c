/* Ring groups (protocol 1.2) through the whole hub, without sockets: who is rung and
 * what each side reads, refusals, the errors in the contract's order, the ring timeout,
 * parting and leaving, both pressing CALL at once, voice only after the answer, and the
 * bound on how many one ring rings. The call state machine's own rules are test_call's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub.h"
#include "hubfake.h"
#include "log.h"
#include "msg.h"
#include "rtp.h"

#define NBOX (IC_RING_GROUP_MAX + 8)

struct box {
	struct hubfake f;
	struct sockaddr_in addr; /* its TCP peer and its voice source */
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	uint16_t seq;
	char line[1024];
};

static struct box *bx; /* NBOX of them */
static struct hub *hub;
static uint64_t now;

static int setup(void **state)
{
	struct hub_conf c = {"RingHub", 6060,  NBOX, 15000, 45000, 30000, hubfake_rand,
			     0,		false, NULL, NULL,  false, NULL};

	(void)state;
	now = 1000;
	hubfake_seed(7);
	bx = calloc(NBOX, sizeof(*bx));
	assert_non_null(bx);
	return hub_new(&hub, &c);
}

static int teardown(void **state)
{
	(void)state;
	hub_free(hub);
	free(bx);
	return 0;
}

static void put(int i, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(int i, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	hub_input(hub, bx[i].f.s, buf, (size_t)n, now);
	hub_reap(hub, hubfake_closed, NULL);
}

/* Box i's next line but room lists (their coalescing is test_hub's), or NULL. */
static const char *next(int i)
{
	while (hubfake_line(&bx[i].f, bx[i].line, sizeof(bx[i].line))) {
		if (strncmp(bx[i].line, "USERLIST ", 9) &&
		    strncmp(bx[i].line, "PING: ", 6))
			return bx[i].line;
	}
	return NULL;
}

static void expect(int i, const char *line)
{
	const char *got = next(i);

	if (!got || strcmp(got, line))
		fail_msg("box %d: expected '%s', got '%s'", i, line,
			 got ? got : "(nothing)");
}

static void silent(int i)
{
	const char *got = next(i);

	if (got)
		fail_msg("box %d: expected nothing, got '%s'", i, got);
}

/* Box i logs in as nick speaking version (1.0.0, 1.1.0, 1.2.0: in the clear, any). */
static void login(int i, const char *nick, const char *version)
{
	char cookie[32];
	unsigned port;

	hubfake_init(&bx[i].f);
	bx[i].addr.sin_family = AF_INET;
	bx[i].addr.sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)i); /* 10.0.0.1+i */
	bx[i].addr.sin_port = htons(40000);
	assert_int_equal(hub_open(hub, &bx[i].f.tp, (struct sockaddr *)&bx[i].addr,
				  sizeof(bx[i].addr), now, &bx[i].f.s),
			 0);
	put(i, "CONNECT: \"%s\" \"\" %s", nick, version);
	expect(i, "ACCEPT: RingHub");
	assert_true(hubfake_find(&bx[i].f, "VOICE: ", bx[i].line, sizeof(bx[i].line)));
	assert_int_equal(msg_parse_voice(bx[i].line + 7, &port, &bx[i].ssrc, bx[i].token),
			 0);
	assert_true(hubfake_find(&bx[i].f, "PING: ", bx[i].line, sizeof(bx[i].line)));
	snprintf(cookie, sizeof(cookie), "%s", bx[i].line + 6);
	put(i, "PONG: %s", cookie);
	expect(i, "JOINED: #Lobby");
	bx[i].addr.sin_port = htons((uint16_t)(5000 + i)); /* its voice port */
}

/* A packet from box i (a keepalive when empty): the ports of its copies into ports,
 * returns how many. */
static int voice(int i, bool keepalive, uint16_t *ports)
{
	struct rtp_hdr h = {true, 111, ++bx[i].seq, bx[i].seq * 960u, bx[i].ssrc};
	struct voice_dest d[NBOX];
	uint8_t pkt[128], out[IC_RTP_MAX];
	size_t olen;
	int n = rtp_pack(pkt, sizeof(pkt), &h, bx[i].token,
			 keepalive ? NULL : (const uint8_t *)"opus", keepalive ? 0 : 4);

	n = (int)hub_voice(hub, pkt, (size_t)n, (struct sockaddr *)&bx[i].addr,
			   sizeof(bx[i].addr), now, out, &olen, d);
	for (int k = 0; k < n && ports; k++)
		ports[k] = ntohs(((const struct sockaddr_in *)d[k].addr)->sin_port);
	return n;
}

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
	};

	log_setup("test_ring", LOG_WARN); /* not a line per login */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
