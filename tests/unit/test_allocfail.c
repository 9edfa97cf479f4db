/* Allocation-failure sweep: the server's hub runs a whole scenario (logins, rooms, group
 * chat, a call with voice, a stalled reader, leaving) with its N-th allocation failing,
 * for N = 1, 2, ... until the scenario needs no more. After each failure: no crash, every
 * allocation is freed once the hub is (counted at the --wrap seam), and the hub still
 * serves a client who arrives afterwards and the others already there. */
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

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static long allocs;  /* allocations made so far in this run */
static long fail_at; /* the allocation that fails (1-based); 0: none */
static long failed;  /* how many were refused */
static long live;    /* blocks allocated and not yet freed */

static bool refuse(void)
{
	if (fail_at && ++allocs == fail_at) {
		failed++;
		return true;
	}
	return false;
}

void *__wrap_malloc(size_t n)
{
	void *p = refuse() ? NULL : __real_malloc(n);

	live += p != NULL;
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p = refuse() ? NULL : __real_calloc(n, size);

	live += p != NULL;
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	void *q;

	if (refuse())
		return NULL; /* p stays valid and owned by the caller */
	q = __real_realloc(p, n);
	live += q && !p;
	return q;
}

void __wrap_free(void *p)
{
	live -= p != NULL;
	__real_free(p);
}

static struct hubfake fk[5];
static struct sockaddr_in addr[5];
static char vline[5][128]; /* each session's VOICE line: its voice credentials */
static uint64_t now;

static void step(struct hub *h)
{
	for (int k = 0; k < 5; k++) {
		if (fk[k].s)
			hub_flush(h, fk[k].s);
	}
	hub_reap(h, hubfake_closed, NULL);
}

static void say(struct hub *h, int k, const char *text)
{
	if (fk[k].s)
		hub_input(h, fk[k].s, text, strlen(text), now);
	step(h);
}

/* Open session k and log it in as nick (answering its PING). False if the hub refused
 * the connection or the login did not complete. */
static bool login(struct hub *h, int k, const char *nick)
{
	char line[1024], buf[128];
	bool ping = false;

	hubfake_init(&fk[k]);
	vline[k][0] = '\0';
	memset(&addr[k], 0, sizeof(addr[k]));
	addr[k].sin_family = AF_INET;
	addr[k].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr[k].sin_port = htons((uint16_t)(41000 + k));
	if (hub_open(h, &fk[k].tp, (struct sockaddr *)&addr[k], sizeof(addr[k]), now,
		     &fk[k].s))
		return false;
	snprintf(buf, sizeof(buf), "CONNECT: \"%s\" \"%s\" 1.0.0\n", nick, nick);
	say(h, k, buf);
	while (!ping && hubfake_line(&fk[k], line, sizeof(line))) {
		if (!strncmp(line, "VOICE: ", 7))
			snprintf(vline[k], sizeof(vline[k]), "%.100s", line);
		ping = !strncmp(line, "PING: ", 6);
	}
	if (!ping)
		return false;
	snprintf(buf, sizeof(buf), "PONG: %.20s\n", line + 6);
	say(h, k, buf);
	return hubfake_find(&fk[k], "JOINED: #Lobby", line, sizeof(line));
}

/* A voice packet from k with its own ssrc and token; returns the copies relayed. */
static size_t voice(struct hub *h, int k, uint16_t seq, size_t payload)
{
	static uint8_t out[IC_RTP_MAX + 64];
	struct voice_dest dests[8];
	struct rtp_hdr hd = {.pt = IC_RTP_PT_OPUS, .seq = seq, .ts = seq * 960u};
	uint8_t tok[IC_TOKEN_LEN], pkt[256], pl[40] = {0x78};
	unsigned port;
	size_t outlen;
	int n;

	if (strncmp(vline[k], "VOICE: ", 7) ||
	    msg_parse_voice(vline[k] + 7, &port, &hd.ssrc, tok))
		return 0;
	hd.marker = seq == 101;
	n = rtp_pack(pkt, sizeof(pkt), &hd, tok, pl, payload);
	assert_true(n > 0);
	return hub_voice(h, pkt, (size_t)n, (struct sockaddr *)&addr[k], sizeof(addr[k]),
			 now, out, &outlen, dests);
}

/* The scenario; returns false when it could not even start (hub_new failed). With no
 * allocation failing, it asserts that each step did what it should. */
static bool scenario(void)
{
	struct hub_conf c = {"Sweep", 6060,  8,	   15000, 45000, 30000, hubfake_rand,
			     0,	      false, NULL, NULL,  false, NULL};
	bool clean = fail_at <= 0;
	struct hub *h = NULL;
	char line[1024];
	size_t copies = 0;

	now = 1000;
	hubfake_seed(7);
	if (hub_new(&h, &c))
		return false;
	for (int k = 0; k < 5; k++)
		hubfake_init(&fk[k]);
	assert_true(login(h, 0, "Alice") || !clean);
	assert_true(login(h, 1, "Bob") || !clean);
	assert_true(login(h, 2, "Carol") || !clean);
	say(h, 0, "JOIN #Kitchen\n");
	say(h, 1, "JOIN #Kitchen\n");
	say(h, 0, "PRIVMSG #Kitchen: dinner is ready\n");
	assert_true(hubfake_find(&fk[1], "PRIVMSG #Kitchen", line, sizeof(line)) ||
		    !clean);
	say(h, 2, "PRIVMSG Alice: are you there?\n");
	/* Carol stops reading: her output must queue (an allocation) */
	fk[2].refuse = true;
	for (int i = 0; i < 3; i++)
		say(h, 0, "PRIVMSG Carol: a message to a stalled reader, queued\n");
	/* a call with voice: both register their voice address, Alice talks */
	say(h, 0, "TALK Bob: Request\n");
	say(h, 1, "TALK Alice: Accept\n");
	(void)voice(h, 0, 100, 0);
	(void)voice(h, 1, 200, 0);
	for (uint16_t i = 101; i <= 103; i++)
		copies += voice(h, 0, i, 40);
	assert_true(copies == 3 || !clean);
	say(h, 0, "TALK Bob: End\n");
	fk[2].refuse = false;
	step(h);
	assert_true(
	    hubfake_find(&fk[2], "PRIVMSG Alice: a message", line, sizeof(line)) ||
	    !clean);
	/* a ring group (1.2): Carol rings #Kitchen, Bob refuses, Alice takes it */
	say(h, 2, "TALK #Kitchen: Request\n");
	say(h, 1, "TALK Carol: Deny\n");
	say(h, 0, "TALK Carol: Accept\n");
	say(h, 2, "TALK Alice: End\n");
	say(h, 2, "TALK #Kitchen: Request\n"); /* and one left to the ring timeout */
	say(h, 1, "PART #Kitchen\n");
	say(h, 0, "DISCONNECT\n");
	now += 1000;
	hub_tick(h, now);
	step(h);

	/* with allocation working again: a newcomer is served, and so are those still in
	 */
	fail_at = 0;
	assert_true(login(h, 3, "Late"));
	say(h, 3, "JOIN #After\n");
	assert_true(hubfake_find(&fk[3], "JOINED: #After", line, sizeof(line)));
	if (fk[1].s) {
		fk[1].len = 0;
		say(h, 3, "PRIVMSG Bob: still here?\n");
		assert_true(hubfake_find(&fk[1], "PRIVMSG Late: still here?", line,
					 sizeof(line)));
	}
	hub_reap(h, hubfake_closed, NULL);
	hub_free(h);
	return true;
}

static void test_every_allocation_fails_once(void **state)
{
	long n, total;

	(void)state;
	/* a clean run counts the allocations the scenario makes */
	fail_at = -1;
	allocs = 0;
	live = 0;
	assert_true(scenario());
	total = allocs;
	assert_int_equal(live, 0);
	assert_true(total > 10);
	for (n = 1; n <= total + 1; n++) {
		fail_at = n;
		allocs = 0;
		failed = 0;
		live = 0;
		(void)scenario();
		/* every block is freed once the hub is, whichever allocation failed */
		if (live != 0)
			fail_msg("allocation %ld of %ld failing leaks %ld blocks", n,
				 total, live);
	}
	printf("allocation-failure sweep: %ld allocations, each failed once, no leak\n",
	       total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_allocation_fails_once),
	};

	log_setup("test_allocfail", LOG_WARN); /* the hub's failures, not every login */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
