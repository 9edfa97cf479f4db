/* The hub driven without sockets or sleeping: a fake transport records output and can
 * refuse to write; the test owns the clock and the randomness. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub.h"
#include "rtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>

struct fake {
	struct transport tp;
	char out[1 << 20];
	size_t len, rd;
	size_t accept_max; /* bytes it takes before answering -EAGAIN; 0: unlimited */
	size_t taken;
	bool closed, aborted;
	struct sess *s;
	char line[1024];
};

static ssize_t fake_recv(struct transport *t, void *buf, size_t len)
{
	(void)t, (void)buf, (void)len;
	return -EAGAIN;
}

static ssize_t fake_send(struct transport *t, const void *buf, size_t len)
{
	struct fake *f = (struct fake *)t;

	if (f->accept_max) {
		size_t room = f->accept_max - f->taken;

		if (room == 0)
			return -EAGAIN;
		if (len > room)
			len = room;
		f->taken += len;
	}
	assert_true(f->len + len < sizeof(f->out));
	memcpy(f->out + f->len, buf, len);
	f->len += len;
	return (ssize_t)len;
}

static void fake_close(struct transport *t, bool abort)
{
	struct fake *f = (struct fake *)t;

	f->closed = true;
	f->aborted = abort;
}

static const struct transport_ops fake_ops = {fake_recv, fake_send, fake_close};

static uint32_t rng_state = 1;

static int fake_rand(void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		rng_state = rng_state * 1103515245u + 12345u;
		p[i] = (uint8_t)(rng_state >> 16);
	}
	return 0;
}

static struct hub *hub;
static uint64_t now;

static int setup(void **state)
{
	struct hub_conf c = {"UnitHub", 6060,  4,    15000, 45000, 30000, fake_rand,
			     0,		false, NULL, NULL,  false, NULL};

	(void)state;
	now = 1000;
	rng_state = 1;
	return hub_new(&hub, &c);
}

static int teardown(void **state)
{
	(void)state;
	if (hub) {
		hub_reap(hub, NULL, NULL);
		hub_free(hub);
	}
	return 0;
}

/* Every fake connects from 0.0.0.0, the IP its voice comes from below. */
static const struct sockaddr_in peer = {.sin_family = AF_INET};

static struct fake *fake_open(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->tp.ops = &fake_ops;
	assert_int_equal(hub_open(hub, &f->tp, (const struct sockaddr *)&peer,
				  sizeof(peer), now, &f->s),
			 0);
	return f;
}

static void put(struct fake *f, const char *line)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	hub_input(hub, f->s, buf, (size_t)n, now);
	hub_reap(hub, NULL, NULL);
}

/* The next output line of f, or NULL. */
static const char *next(struct fake *f)
{
	char *nl = memchr(f->out + f->rd, '\n', f->len - f->rd);
	size_t l;

	if (!nl)
		return NULL;
	l = (size_t)(nl - (f->out + f->rd));
	memcpy(f->line, f->out + f->rd, l);
	f->line[l] = '\0';
	f->rd += l + 1;
	return f->line;
}

static void expect(struct fake *f, const char *line)
{
	const char *got = next(f);

	if (!got || strcmp(got, line))
		fail_msg("expected '%s', got '%s'", line, got ? got : "(nothing)");
}

static const char *expect_prefix(struct fake *f, const char *prefix)
{
	const char *got = next(f);

	if (!got || strncmp(got, prefix, strlen(prefix)))
		fail_msg("expected '%s...', got '%s'", prefix, got ? got : "(nothing)");
	return got;
}

static void login(struct fake *f, const char *nick, uint32_t *ssrc, uint8_t token[8])
{
	char buf[128];
	const char *l;
	unsigned port, ss;
	char tok[17];

	snprintf(buf, sizeof(buf), "CONNECT: \"%s\" \"\" 1.0.0", nick);
	put(f, buf);
	expect(f, "ACCEPT: UnitHub");
	l = expect_prefix(f, "VOICE: ");
	assert_int_equal(sscanf(l, "VOICE: %u %u %16s", &port, &ss, tok), 3);
	if (ssrc)
		*ssrc = ss;
	for (int i = 0; token && i < 8; i++) {
		unsigned b;

		sscanf(tok + 2 * i, "%2x", &b);
		token[i] = (uint8_t)b;
	}
	l = expect_prefix(f, "PING: ");
	snprintf(buf, sizeof(buf), "PONG: %s", l + 6);
	put(f, buf);
	expect(f, "JOINED: #Lobby");
	expect_prefix(f, "USERLIST #Lobby: ");
}

static void test_login_and_ping_timeout(void **state)
{
	struct fake *a = fake_open(), *b = fake_open();
	const char *l;
	char pong[64];

	(void)state;
	login(a, "Alice", NULL, NULL);
	login(b, "Bob", NULL, NULL);
	/* Bob's join came within IC_LIST_COALESCE_MS of Alice's: its list at the window's
	 * end */
	assert_null(next(a));
	now += 100;
	assert_true(hub_next_due(hub) <= now);
	hub_tick(hub, now);
	expect(a, "USERLIST #Lobby: Alice, Bob");
	/* pings come every 15 s of the test's clock (from the PONG at 1000) */
	now += 14899;
	hub_tick(hub, now);
	assert_null(next(a));
	now += 1;
	assert_true(hub_tick(hub, now) <= now + 45000);
	l = expect_prefix(a, "PING: ");
	snprintf(pong, sizeof(pong), "PONG: %s", l + 6);
	put(a, pong);
	expect_prefix(b, "PING: "); /* Bob never answers */
	now += 44999;
	hub_tick(hub, now);
	hub_reap(hub, NULL, NULL);
	assert_false(b->closed);
	now += 1;
	hub_tick(hub, now);
	hub_reap(hub, NULL, NULL);
	assert_true(b->closed);
	assert_false(b->aborted);
	assert_false(a->closed); /* Alice answered; her next ping is due 15 s after */
	expect_prefix(a, "PING: ");
	expect(a, "USERLIST #Lobby: Alice");
	free(b);
	hub_hangup(hub, a->s, "test over");
	hub_reap(hub, NULL, NULL);
	free(a);
}

static void test_login_timeout(void **state)
{
	struct fake *a = fake_open(), *b = fake_open();

	(void)state;
	put(b, "CONNECT: Bob \"\" 1.0.0");
	now += 44999;
	hub_tick(hub, now);
	hub_reap(hub, NULL, NULL);
	assert_false(a->closed);
	now += 1;
	hub_tick(hub, now);
	hub_reap(hub, NULL, NULL);
	assert_true(a->closed);
	assert_true(b->closed);
	free(a);
	free(b);
}

static void test_ring_timeout(void **state)
{
	struct fake *a = fake_open(), *b = fake_open();

	(void)state;
	login(a, "Alice", NULL, NULL);
	login(b, "Bob", NULL, NULL);
	now += 100;
	hub_tick(hub, now);
	expect(a, "USERLIST #Lobby: Alice, Bob");
	put(a, "TALK Bob: Request");
	expect(b, "TALK Alice: Request");
	now += 29999;
	hub_tick(hub, now);
	expect_prefix(a, "PING: "); /* at 15 s; unanswered, harmless within 45 s */
	assert_null(next(a));
	now += 1;
	hub_tick(hub, now);
	expect(a, "TALK Bob: End");
	expect_prefix(b, "PING: ");
	expect(b, "TALK Alice: End");
	put(a, "TALK Bob: End");
	expect(a, "ERROR NO_CALL: no such call with that user");
	hub_hangup(hub, a->s, "done");
	hub_hangup(hub, b->s, "done");
	hub_reap(hub, NULL, NULL);
	free(a);
	free(b);
}

/* Two still connected leave; their fakes are freed. */
static void bye(struct fake *a, struct fake *c)
{
	hub_hangup(hub, a->s, "done");
	hub_hangup(hub, c->s, "done");
	hub_reap(hub, NULL, NULL);
	free(a);
	free(c);
}

static void test_stalled_output_drops_only_it(void **state)
{
	struct fake *a = fake_open(), *b = fake_open(), *c = fake_open();
	char line[600];
	int sent = 0;

	(void)state;
	login(a, "Alice", NULL, NULL);
	login(b, "Bob", NULL, NULL);
	login(c, "Carol", NULL, NULL);
	now += 100;
	hub_tick(hub, now);	/* the coalesced lists of the logins */
	b->accept_max = b->len; /* Bob stops reading now */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PRIVMSG #Lobby: ", 16);
	line[500] = '\0';
	while (!b->closed && sent < 2000) {
		now += 100; /* within the rate limit */
		put(a, line);
		sent++;
		assert_true(b->closed || hub_pending(b->s));
	}
	assert_true(b->closed);
	assert_true(b->aborted);
	/* 256 KiB of ~520-byte lines, give or take one */
	assert_true(sent >= 256 * 1024 / 530 && sent <= 256 * 1024 / 500 + 1);
	/* Carol got every line, then the USERLIST without Bob */
	for (int i = 0; i < sent; i++)
		expect_prefix(c, "PRIVMSG #Lobby Alice: xxx");
	expect(c, "USERLIST #Lobby: Alice, Carol");
	free(b);
	bye(a, c);
}

static void test_voice_routing(void **state)
{
	struct fake *a = fake_open(), *b = fake_open(), *c = fake_open();
	uint32_t sa, sb, sc;
	uint8_t ta[8], tb[8], tc[8], pkt[128], out[IC_RTP_MAX];
	struct voice_dest dests[8];
	struct sockaddr_in addr[3];
	size_t olen;
	int n;

	(void)state;
	login(a, "A", &sa, ta);
	login(b, "B", &sb, tb);
	login(c, "C", &sc, tc);
	assert_true(sa != sb && sb != sc && sa != sc);
	for (int i = 0; i < 3; i++) {
		memset(&addr[i], 0, sizeof(addr[i]));
		addr[i].sin_family = AF_INET;
		addr[i].sin_port = htons((uint16_t)(5000 + i));
	}
	/* register B and C with keepalives */
	{
		struct rtp_hdr h = {false, 111, 1, 0, sb};

		n = rtp_pack(pkt, sizeof(pkt), &h, tb, NULL, 0);
		assert_int_equal(hub_voice(hub, pkt, (size_t)n,
					   (struct sockaddr *)&addr[1], sizeof(addr[1]),
					   now, out, &olen, dests),
				 1);
		assert_ptr_equal(dests[0].addr, &addr[1]);
		assert_int_equal(olen, 12);
		h.ssrc = sc;
		n = rtp_pack(pkt, sizeof(pkt), &h, tc, NULL, 0);
		hub_voice(hub, pkt, (size_t)n, (struct sockaddr *)&addr[2],
			  sizeof(addr[2]), now, out, &olen, dests);
	}
	{
		struct rtp_hdr h = {true, 111, 7, 960, sa};

		n = rtp_pack(pkt, sizeof(pkt), &h, ta, (const uint8_t *)"opus", 4);
		assert_int_equal(hub_voice(hub, pkt, (size_t)n,
					   (struct sockaddr *)&addr[0], sizeof(addr[0]),
					   now, out, &olen, dests),
				 2);
		assert_int_equal(olen, 16);
		assert_int_equal(out[0], 0x80);
		assert_int_equal(out[1], 0x80 | 111);
		assert_memory_equal(out + 12, "opus", 4);
		/* a call between A and B takes both out of room voice */
		put(a, "TALK B: Request");
		put(b, "TALK A: Accept");
		h.seq++;
		n = rtp_pack(pkt, sizeof(pkt), &h, ta, (const uint8_t *)"opus", 4);
		assert_int_equal(hub_voice(hub, pkt, (size_t)n,
					   (struct sockaddr *)&addr[0], sizeof(addr[0]),
					   now, out, &olen, dests),
				 1);
		assert_int_equal(((const struct sockaddr_in *)dests[0].addr)->sin_port,
				 htons(5001));
		/* replay */
		assert_int_equal(hub_voice(hub, pkt, (size_t)n,
					   (struct sockaddr *)&addr[0], sizeof(addr[0]),
					   now, out, &olen, dests),
				 0);
		/* B ends the call while A's last packets (hands-free, no marker) are in
		 * flight: they never reach the room; A's next talk spurt does */
		put(b, "TALK A: End");
		h.seq++;
		h.marker = false;
		n = rtp_pack(pkt, sizeof(pkt), &h, ta, (const uint8_t *)"opus", 4);
		assert_int_equal(hub_voice(hub, pkt, (size_t)n,
					   (struct sockaddr *)&addr[0], sizeof(addr[0]),
					   now, out, &olen, dests),
				 0);
		h.seq++;
		h.marker = true;
		n = rtp_pack(pkt, sizeof(pkt), &h, ta, (const uint8_t *)"opus", 4);
		assert_int_equal(hub_voice(hub, pkt, (size_t)n,
					   (struct sockaddr *)&addr[0], sizeof(addr[0]),
					   now, out, &olen, dests),
				 2);
		h.seq++;
		h.marker = false; /* the spurt goes on */
		n = rtp_pack(pkt, sizeof(pkt), &h, ta, (const uint8_t *)"opus", 4);
		assert_int_equal(hub_voice(hub, pkt, (size_t)n,
					   (struct sockaddr *)&addr[0], sizeof(addr[0]),
					   now, out, &olen, dests),
				 2);
	}
	for (struct fake *f = a; f; f = f == a ? b : f == b ? c : NULL)
		hub_hangup(hub, f->s, "done");
	hub_reap(hub, NULL, NULL);
	free(a);
	free(b);
	free(c);
}

/* One voice packet from ssrc at port 5000 + i: the number of copies, their ports in
 * ports[] (sorted by the caller's expectations: join order). */
static int voice_from(uint32_t ssrc, const uint8_t *token, uint16_t seq, unsigned i,
		      bool keepalive, uint16_t *ports)
{
	struct rtp_hdr h = {false, 111, seq, seq * 960u, ssrc};
	struct sockaddr_in from = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)(5000 + i))};
	struct voice_dest dests[8];
	uint8_t pkt[128], out[IC_RTP_MAX];
	size_t olen;
	int n = rtp_pack(pkt, sizeof(pkt), &h, token,
			 keepalive ? NULL : (const uint8_t *)"op", keepalive ? 0 : 2);

	n = (int)hub_voice(hub, pkt, (size_t)n, (struct sockaddr *)&from, sizeof(from),
			   now, out, &olen, dests);
	for (int k = 0; k < n && ports; k++)
		ports[k] = ntohs(((const struct sockaddr_in *)dests[k].addr)->sin_port);
	return n;
}

/* The room's list of hearers is kept between packets: every change to who hears must
 * show in the next packet's copies. */
static void test_voice_list_follows_changes(void **state)
{
	struct fake *a = fake_open(), *b = fake_open(), *c = fake_open();
	uint32_t sa, sb, sc;
	uint8_t ta[8], tb[8], tc[8];
	uint16_t seq = 1, p[8];

	(void)state;
	login(a, "A", &sa, ta);
	login(b, "B", &sb, tb);
	login(c, "C", &sc, tc);
	voice_from(sb, tb, seq++, 1, true, NULL);
	assert_int_equal(voice_from(sa, ta, seq++, 0, false, p),
			 1); /* C has no address */
	assert_int_equal(p[0], 5001);
	voice_from(sc, tc, seq++, 2, true, NULL);
	assert_int_equal(voice_from(sa, ta, seq++, 0, false, p), 2);
	assert_int_equal(p[1], 5002);
	put(c, "PART #Lobby");
	assert_int_equal(voice_from(sa, ta, seq++, 0, false, p), 1);
	put(c, "JOIN #Lobby");
	assert_int_equal(voice_from(sa, ta, seq++, 0, false, p), 2);
	voice_from(sc, tc, seq++, 7, true, NULL); /* C's address moves (NAT rebinding) */
	assert_int_equal(voice_from(sa, ta, seq++, 0, false, p), 2);
	assert_int_equal(p[1], 5007);
	put(b, "JOIN #Kitchen"); /* B's voice room is now #Kitchen */
	assert_int_equal(voice_from(sa, ta, seq++, 0, false, p), 1);
	assert_int_equal(p[0], 5007);
	put(b, "PART #Kitchen");
	assert_int_equal(voice_from(sa, ta, seq++, 0, false, p), 2);
	put(a, "TALK B: Request");
	put(b, "TALK A: Accept");
	assert_int_equal(voice_from(sc, tc, seq++, 7, false, p),
			 0); /* both in the call */
	put(b, "TALK A: End");
	assert_int_equal(voice_from(sc, tc, seq++, 7, false, p), 2);
	hub_hangup(hub, b->s, "gone"); /* leaving: no more voice, before it is reaped */
	assert_int_equal(voice_from(sc, tc, seq++, 7, false, p), 1);
	assert_int_equal(p[0], 5000);
	hub_reap(hub, NULL, NULL);
	assert_int_equal(voice_from(sc, tc, seq++, 7, false, p), 1);
	free(b);
	bye(a, c);
}

static void test_server_full_and_raw_cap(void **state)
{
	struct fake *f[20];
	int n = 0;

	(void)state;
	for (int i = 0; i < 4; i++) {
		char nick[16];

		f[n] = fake_open();
		snprintf(nick, sizeof(nick), "U%d", i);
		login(f[n++], nick, NULL, NULL);
	}
	f[n] = fake_open();
	put(f[n], "CONNECT: U9 \"\" 1.0.0");
	expect(f[n], "ERROR SERVER_FULL: the server is full, try again later");
	assert_true(f[n]->closed);
	free(f[n]);
	/* 4 + 16 raw connections at most */
	for (int i = 0; i < 16; i++)
		f[n++] = fake_open();
	{
		struct fake extra = {.tp.ops = &fake_ops};
		struct sess *s;

		assert_int_equal(hub_open(hub, &extra.tp, NULL, 0, now, &s), -EMFILE);
	}
	for (int i = 0; i < n; i++)
		hub_hangup(hub, f[i]->s, "done");
	hub_reap(hub, NULL, NULL);
	for (int i = 0; i < n; i++)
		free(f[i]);
}

/* Freeing a hub with calls in progress, callee's slot first or caller's: no dangling call
 * (ASan and valgrind would see one). */
static void test_free_with_calls(void **state)
{
	struct fake *f[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		char nick[16];

		f[i] = fake_open();
		snprintf(nick, sizeof(nick), "P%d", i);
		login(f[i], nick, NULL, NULL);
	}
	put(f[1], "TALK P0: Request"); /* callee in the earlier slot */
	put(f[0], "TALK P1: Accept");
	put(f[2], "TALK P3: Request"); /* caller in the earlier slot, ringing */
	hub_free(hub);
	hub = NULL;
	for (int i = 0; i < 4; i++) {
		assert_true(f[i]->closed);
		free(f[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_login_and_ping_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_login_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ring_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stalled_output_drops_only_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_voice_list_follows_changes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_voice_routing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_full_and_raw_cap, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_free_with_calls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
