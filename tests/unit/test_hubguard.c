/* What one peer may cost the others, through the hub and its fake transport: no sockets,
 * no sleeping, the test's clock. Each rule is checked by what the honest sessions keep.
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

#include "benchutil.h"
#include "hub.h"
#include "hubfake.h"
#include "ic_limits.h"
#include "msg.h"
#include "rtp.h"

#define MAXF 16

struct peer {
	struct hubfake f;
	struct sockaddr_storage tcp; /* where its connection comes from */
	socklen_t tcplen;
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	uint16_t seq;
	char nick[16];
};

static struct hub *hub;
static uint64_t now;
static struct peer peers[MAXF];
static char line[1 << 16];

static int setup_limit(unsigned max_pending)
{
	struct hub_conf c = {"Guard",	  6060,	 8,    15000, 45000, 30000, hubfake_rand,
			     max_pending, false, NULL, NULL,  false, NULL};

	now = 1000;
	hubfake_seed(7);
	memset(peers, 0, sizeof(peers));
	return hub_new(&hub, &c);
}

static int setup(void **state)
{
	(void)state;
	return setup_limit(3);
}

static int teardown(void **state)
{
	(void)state;
	hub_free(hub);
	hub = NULL;
	return 0;
}

static void set_addr(struct sockaddr_storage *ss, socklen_t *len, const char *ip,
		     unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
		*len = sizeof(*a);
	}
}

/* Peer i connects from ip. */
static struct peer *conn(int i, const char *ip)
{
	struct peer *p = &peers[i];

	hubfake_init(&p->f);
	set_addr(&p->tcp, &p->tcplen, ip, 40000 + (unsigned)i);
	assert_int_equal(
	    hub_open(hub, &p->f.tp, (struct sockaddr *)&p->tcp, p->tcplen, now, &p->f.s),
	    0);
	return p;
}

/* Peer i connects from ip: true when it was refused (told and closed at once). */
static bool refused(int i, const char *ip)
{
	struct peer *p = conn(i, ip);

	hub_reap(hub, hubfake_closed, NULL);
	return p->f.closed;
}

static void put(struct peer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(struct peer *p, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = bench_vline(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		fail_msg("%s: a line over %zu bytes (%s)", p->nick, sizeof(buf) - 2,
			 strerror(-n));
	if (p->f.s)
		hub_input(hub, p->f.s, buf, (size_t)n, now);
	hub_reap(hub, hubfake_closed, NULL);
}

static void expect(struct peer *p, const char *want)
{
	if (!hubfake_line(&p->f, line, sizeof(line)))
		fail_msg("%s: expected '%s', got nothing", p->nick, want);
	if (strcmp(line, want))
		fail_msg("%s: expected '%s', got '%s'", p->nick, want, line);
}

/* Log peer p in as nick: CONNECT, PONG, and its own JOINED + USERLIST. */
static void login(struct peer *p, const char *nick)
{
	unsigned port;

	snprintf(p->nick, sizeof(p->nick), "%s", nick);
	put(p, "CONNECT: \"%s\" \"\" 1.0.0", nick);
	assert_true(hubfake_find(&p->f, "VOICE: ", line, sizeof(line)));
	assert_int_equal(msg_parse_voice(line + 7, &port, &p->ssrc, p->token), 0);
	assert_true(hubfake_find(&p->f, "PING: ", line, sizeof(line)));
	put(p, "PONG: %s", line + 6);
	expect(p, "JOINED: #Lobby");
	assert_true(hubfake_find(&p->f, "USERLIST #Lobby: ", line, sizeof(line)));
}

/* A voice packet of p's (its ssrc; its token unless bad_token) from ip:port. */
static size_t voice(struct peer *p, const char *ip, unsigned port, size_t payload,
		    bool bad_token, struct voice_dest *dests)
{
	static const uint8_t zeros[IC_RTP_MAX];
	struct rtp_hdr h = {false, IC_RTP_PT_OPUS, ++p->seq, p->seq * 960u, p->ssrc};
	uint8_t tok[IC_TOKEN_LEN], pkt[IC_RTP_MAX + 64], out[IC_RTP_MAX];
	struct sockaddr_storage from;
	socklen_t fl;
	size_t olen;
	int n;

	memcpy(tok, p->token, sizeof(tok));
	if (bad_token)
		tok[0] ^= 1;
	set_addr(&from, &fl, ip, port);
	n = rtp_pack(pkt, sizeof(pkt), &h, tok, zeros, payload);
	assert_true(n > 0);
	return hub_voice(hub, pkt, (size_t)n, (struct sockaddr *)&from, fl, now, out,
			 &olen, dests);
}

static unsigned dest_port(const struct voice_dest *d)
{
	return ntohs(((const struct sockaddr_in *)(const void *)d->addr)->sin_port);
}

static void bye_all(void)
{
	for (int i = 0; i < MAXF; i++) {
		if (peers[i].f.s)
			hub_hangup(hub, peers[i].f.s, "done");
	}
	hub_reap(hub, hubfake_closed, NULL);
}

/* 33 (here 3 + 1) connections from one host: the one over is told and closed, another
 * host still logs in, and a login frees a place. */
static void test_pending_per_source(void **state)
{
	struct hub_stats st;
	struct peer *p;

	(void)state;
	for (int i = 0; i < 3; i++)
		conn(i, "10.0.0.1");
	p = conn(3, "10.0.0.1");
	hub_reap(hub, hubfake_closed, NULL);
	expect(p, "ERROR SERVER_FULL: too many connections from your address");
	assert_true(p->f.closed);
	assert_false(p->f.aborted); /* its line is delivered */
	hub_get_stats(hub, &st);
	assert_int_equal(st.pending_refused, 1);
	/* half-logged-in (waiting for the PONG) counts as pending too */
	put(&peers[0], "CONNECT: \"Idle\" \"\" 1.0.0");
	assert_true(refused(4, "10.0.0.1"));
	/* another host is not affected */
	login(conn(5, "10.0.0.2"), "Honest");
	/* one of the three logs in: a place is free */
	login(conn(6, "10.0.0.3"), "Other");
	assert_true(hubfake_find(&peers[0].f, "PING: ", line, sizeof(line)));
	put(&peers[0], "PONG: %s", line + 6);
	assert_false(refused(7, "10.0.0.1"));
	/* a connection that closes frees its place too */
	hub_hangup(hub, peers[1].f.s, "gone");
	hub_reap(hub, hubfake_closed, NULL);
	assert_false(refused(8, "10.0.0.1"));
	assert_true(refused(9, "10.0.0.1"));
	hub_get_stats(hub, &st);
	assert_int_equal(st.pending_refused, 3);
	bye_all();
}

/* IPv6: one /64 is one source (a host has as many addresses in its /64 as it likes);
 * an IPv4-mapped address is its IPv4 host. */
static void test_pending_ipv6_prefix(void **state)
{
	(void)state;
	conn(0, "2001:db8:0:1::a");
	conn(1, "2001:db8:0:1::b");
	conn(2, "2001:db8:0:1:ffff::c");
	assert_true(refused(3, "2001:db8:0:1::d"));
	assert_false(refused(4, "2001:db8:0:2::a")); /* the next /64 */
	conn(5, "10.9.9.9");
	conn(6, "::ffff:10.9.9.9");
	conn(7, "10.9.9.9");
	assert_true(refused(8, "::ffff:10.9.9.9"));
	bye_all();
}

/* Voice from any IP but the session's TCP peer's moves nothing and costs nothing; a port
 * change (NAT) from its own IP moves the voice address. */
static void test_voice_source_ip(void **state)
{
	struct peer *a = conn(0, "10.0.0.1"), *b = conn(1, "10.0.0.2"),
		    *m = conn(2, "::ffff:10.0.0.3");
	struct voice_dest d[8];
	struct hub_stats st;

	(void)state;
	login(a, "A");
	login(b, "B");
	login(m, "M");
	assert_int_equal(voice(b, "10.0.0.2", 5002, 0, false, d), 1); /* keepalive */
	assert_int_equal(voice(a, "10.0.0.1", 5001, 0, false, d), 1);
	/* M logged in over an IPv4-mapped address; its voice comes over plain IPv4 */
	assert_int_equal(voice(m, "10.0.0.3", 5003, 0, false, d), 1);
	assert_int_equal(voice(a, "10.0.0.1", 5001, 20, false, d), 2);
	/* B's token, sniffed, with a newer sequence number, from the attacker's IP (or
	 * spoofing a victim's): dropped, B's voice address unchanged */
	assert_int_equal(voice(b, "10.0.0.66", 7000, 20, false, d), 0);
	assert_int_equal(voice(b, "10.0.0.66", 7000, 0, false, d),
			 0); /* keepalives too */
	assert_int_equal(voice(a, "10.0.0.1", 5001, 20, false, d), 2);
	assert_true(dest_port(&d[0]) == 5002 || dest_port(&d[1]) == 5002);
	hub_get_stats(hub, &st);
	assert_int_equal(st.voice_wrong_source, 2);
	/* B behind a NAT that changed its port: from its own IP, the address moves */
	assert_int_equal(voice(b, "10.0.0.2", 6002, 0, false, d), 1);
	assert_int_equal(voice(a, "10.0.0.1", 5001, 20, false, d), 2);
	assert_true(dest_port(&d[0]) == 6002 || dest_port(&d[1]) == 6002);
	/* an IPv6 source for an IPv4 session is another host */
	assert_int_equal(voice(b, "2001:db8::2", 6002, 20, false, d), 0);
	bye_all();
}

/* A flood from one logged-in session: its rate passes, the rest is dropped before any
 * fan-out; an honest talker in the same room loses nothing; forged packets (a wrong
 * token from the flooder's own IP) spend nobody's allowance. */
static void test_voice_rate(void **state)
{
	struct peer *f = conn(0, "10.0.0.1"), *t = conn(1, "10.0.0.2"),
		    *l = conn(2, "10.0.0.3");
	struct voice_dest d[8];
	unsigned relayed = 0, honest = 0;
	struct hub_stats st;

	(void)state;
	login(f, "Flood");
	login(t, "Talker");
	login(l, "Listener");
	voice(l, "10.0.0.3", 5003, 0, false, d);
	voice(t, "10.0.0.2", 5002, 0, false, d);
	voice(f, "10.0.0.1", 5001, 0, false, d); /* the keepalives took one each */
	/* 10 s: the flooder sends 5 packets of 1000 bytes a ms, the talker 1 of 100
	 * bytes every 20 ms */
	for (int ms = 0; ms < 10000; ms++, now++) {
		for (int k = 0; k < 5; k++)
			relayed += voice(f, "10.0.0.1", 5001, 1000, false, d) > 0;
		if (ms % 20 == 0)
			honest += voice(t, "10.0.0.2", 5002, 100, false, d) == 2;
	}
	assert_int_equal(honest, 500); /* every packet, to both */
	/* 24 kB a second of ~1 kB packets: the bucket's second, then 24 kB/s */
	assert_true(relayed <= (24000 * 11) / 1028 + 1);
	assert_true(relayed >= (24000 * 11) / 1028 - 2);
	hub_get_stats(hub, &st);
	assert_int_equal(st.voice_over_rate, 50000 - relayed);
	/* forgeries in the flooder's name cost it nothing: a full second later its
	 * bucket is full, and 500 wrong-token packets leave it so */
	now += 1000;
	for (int i = 0; i < 500; i++)
		assert_int_equal(voice(f, "10.0.0.1", 5001, 100, true, d), 0);
	relayed = 0;
	for (int i = 0; i < 200; i++)
		relayed += voice(f, "10.0.0.1", 5001, 10, false, d) > 0;
	assert_int_equal(relayed, IC_VOICE_PKTS_PER_SEC);
	bye_all();
}

/* The USERLISTs lines of p's output, the last one into last. */
static unsigned lists(struct peer *p, char *last, size_t size)
{
	unsigned n = 0;

	while (hubfake_line(&p->f, line, sizeof(line))) {
		if (!strncmp(line, "USERLIST #Lobby: ", 17)) {
			n++;
			strncpy(last, line, size - 1);
			last[size - 1] = '\0';
		}
	}
	return n;
}

/* A host logging in and out in a loop: each member gets a bounded number of lists,
 * whatever the churn rate, and ends with the current one; the churner gets its own
 * JOINED + USERLIST at once every time. */
static void test_login_churn_coalesced(void **state)
{
	struct peer *a = conn(0, "10.0.0.1"), *b = conn(1, "10.0.0.2");
	char last[256];
	unsigned n;

	(void)state;
	login(a, "A");
	login(b, "B");
	now += IC_LIST_COALESCE_MS;
	hub_tick(hub, now);
	lists(a, last, sizeof(last));
	/* 2 s of churn, one cycle every 2 ms: 1000 joins and 1000 leaves */
	for (int i = 0; i < 1000; i++) {
		struct peer *c = conn(2, "10.0.0.9");

		login(c, "Churn"); /* asserts its own JOINED + USERLIST came at once */
		now += 1;
		hub_tick(hub, now);
		put(c, "DISCONNECT");
		now += 1;
		hub_tick(hub, now);
	}
	n = lists(a, last, sizeof(last));
	/* and the log: the burst, then its rate, for 2000 login and leave lines in 2 s */
	{
		struct hub_stats st;

		hub_get_stats(hub, &st);
		assert_true(st.events_unlogged >=
			    2000 - IC_EVENT_LOG_BURST - 3 * IC_EVENT_LOG_PER_SEC);
		assert_true(st.events_unlogged <= 2000 - IC_EVENT_LOG_BURST);
	}
	assert_true(n <= 2000 / IC_LIST_COALESCE_MS + 1);
	assert_true(n >= 2000 / IC_LIST_COALESCE_MS - 1);
	now += IC_LIST_COALESCE_MS;
	hub_tick(hub, now);
	lists(a, last, sizeof(last));
	assert_string_equal(last, "USERLIST #Lobby: A, B");
	/* a list asked for is answered at once, even inside a window */
	put(b, "JOIN #Other");
	put(b, "PART #Other");
	put(a, "USERLIST: #Lobby");
	expect(a, "USERLIST #Lobby: A, B");
	bye_all();
}

/* A member with unsent output (reading slowly) gets no list added to its queue by
 * others' changes: when its queue drains, the current list follows. */
static void test_backlog_gets_one_list(void **state)
{
	struct peer *a = conn(0, "10.0.0.1"), *b = conn(1, "10.0.0.2");
	char last[256];

	(void)state;
	login(a, "A");
	login(b, "B");
	now += IC_LIST_COALESCE_MS;
	hub_tick(hub, now);
	lists(a, last, sizeof(last));
	a->f.refuse = true; /* A's kernel buffer is full */
	put(b, "PRIVMSG A: backlog");
	assert_true(hub_pending(a->f.s));
	for (int i = 0; i < 50; i++) { /* changes spread past many windows */
		struct peer *c = conn(2, "10.0.0.9");

		login(c, "Churn");
		now += IC_LIST_COALESCE_MS;
		hub_tick(hub, now);
		put(c, "DISCONNECT");
		now += IC_LIST_COALESCE_MS;
		hub_tick(hub, now);
	}
	put(b, "JOIN #Kitchen"); /* one more change, left in place: A must see it */
	a->f.refuse = false;
	hub_flush(hub, a->f.s);
	expect(a, "PRIVMSG B: backlog");
	expect(a, "USERLIST #Lobby: A, B");
	assert_false(hubfake_line(&a->f, line, sizeof(line)));
	assert_false(hub_pending(a->f.s));
	bye_all();
}

/* Both press CALL at once: the second Request is the Accept of the first. */
static void test_glare(void **state)
{
	struct peer *a = conn(0, "10.0.0.1"), *b = conn(1, "10.0.0.2"),
		    *c = conn(2, "10.0.0.3");
	struct voice_dest d[8];

	(void)state;
	login(a, "A");
	login(b, "B");
	login(c, "C");
	voice(a, "10.0.0.1", 5001, 0, false, d);
	voice(b, "10.0.0.2", 5002, 0, false, d);
	voice(c, "10.0.0.3", 5003, 0, false, d);
	put(a, "TALK B: Request");
	put(b, "TALK A: Request");
	assert_true(hubfake_find(&b->f, "TALK A: Request", line, sizeof(line)));
	expect(b, "TALK A: Accept");
	assert_true(hubfake_find(&a->f, "TALK B: Accept", line, sizeof(line)));
	/* the call is active: A's voice reaches B alone */
	assert_int_equal(voice(a, "10.0.0.1", 5001, 20, false, d), 1);
	assert_int_equal(dest_port(&d[0]), 5002);
	/* a third party's Request to either is Busy, not glare */
	put(c, "TALK A: Request");
	assert_true(hubfake_find(&c->f, "TALK A: Busy", line, sizeof(line)));
	bye_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pending_per_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_ipv6_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_voice_source_ip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_voice_rate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_login_churn_coalesced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backlog_gets_one_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_glare, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
