/* Voice relay against the real intercomd over real UDP: who hears what, hostile packets,
 * keepalives, and the voice address following a client's new port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define QUIET_MS 300

static struct srv srv;

static int setup(void **state)
{
	(void)state;
	srv_start(&srv, NULL);
	return 0;
}

/* Protocol 1.0's token voice, for the tests about its own checks (the token, the
 * extension, the sequence window); itest_tls has those of encrypted voice. */
static int setup_plain(void **state)
{
	(void)state;
	srv_start(&srv, "--tls", "off", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_stop(&srv);
	return 0;
}

/* Assert c receives the packet `from` just sent: header as sent without extension. */
static void expect_voice_m(struct cli *c, const struct cli *from, const char *payload,
			   bool marker)
{
	uint8_t buf[2048];
	struct rtp_pkt p;
	int n = cli_voice_recv(c, buf, sizeof(buf), WAIT_MS);

	if (n < 0)
		fail_msg("%s: no voice from %s", c->nick, from->nick);
	assert_int_equal(rtp_parse(buf, (size_t)n, &p), 0);
	assert_false(buf[0] & 0x10); /* X=0 */
	assert_false(p.has_token);
	assert_int_equal(p.hdr.ssrc, from->ssrc);
	assert_int_equal(p.hdr.seq, (uint16_t)(from->seq - 1));
	assert_int_equal(p.hdr.ts, from->ts - 960);
	assert_int_equal(p.hdr.pt, IC_RTP_PT_OPUS);
	assert_int_equal(p.hdr.marker, marker);
	assert_int_equal(p.payload_len, strlen(payload));
	assert_memory_equal(p.payload, payload, p.payload_len);
}

static void expect_voice(struct cli *c, const struct cli *from, const char *payload)
{
	expect_voice_m(c, from, payload, false);
}

static void expect_no_voice(struct cli *c)
{
	uint8_t buf[2048];
	int n = cli_voice_recv(c, buf, sizeof(buf), QUIET_MS);

	if (n >= 0)
		fail_msg("%s: got %d bytes of voice it should not hear", c->nick, n);
}

static void test_room_voice(void **state)
{
	struct cli a, b, c, d;

	(void)state;
	cli_login(&a, &srv, "A");
	cli_login(&b, &srv, "B");
	cli_login(&c, &srv, "C");
	cli_login(&d, &srv, "D");
	cli_voice_register(&a);
	cli_voice_register(&b);
	cli_voice_register(&c);
	cli_voice_register(&d);

	/* all in #Lobby: everyone but the sender hears it, the marker and payload intact
	 */
	cli_voice(&a, "hello", 5, true);
	expect_voice_m(&b, &a, "hello", true);
	expect_voice_m(&c, &a, "hello", true);
	expect_voice_m(&d, &a, "hello", true);
	expect_no_voice(&a);

	/* D's voice room becomes #Side: it leaves Lobby voice, though still a member */
	cli_send(&d, "JOIN: #Side");
	cli_wait_for(&d, "JOINED: #Side");
	cli_voice(&a, "lobby", 5, false);
	expect_voice(&b, &a, "lobby");
	expect_voice(&c, &a, "lobby");
	expect_no_voice(&d);
	cli_voice(&d, "side", 4, true);
	expect_no_voice(&a);
	expect_no_voice(&b);
	/* C joins #Side: now D reaches C only */
	cli_send(&c, "JOIN: #Side");
	cli_wait_for(&c, "JOINED: #Side");
	cli_voice(&d, "side2", 5, false);
	expect_voice(&c, &d, "side2");
	expect_no_voice(&a);
	expect_no_voice(&b);
	/* JOIN of a room already in makes it the voice room again */
	cli_send(&d, "JOIN: #Lobby");
	cli_wait_for(&d, "JOINED: #Lobby");
	cli_voice(&b, "back", 4, false);
	expect_voice(&a, &b, "back");
	expect_voice(&d, &b, "back");
	expect_no_voice(&c);
	/* parting the voice room falls back to the most recent other room */
	cli_send(&d, "PART: #Lobby");
	cli_wait_for(&d, "PARTED: #Lobby");
	cli_voice(&c, "side3", 5, false);
	expect_voice(&d, &c, "side3");
	cli_close(&a);
	cli_close(&b);
	cli_close(&c);
	cli_close(&d);
}

static void test_call_voice(void **state)
{
	struct cli a, b, c;

	(void)state;
	cli_login(&a, &srv, "A");
	cli_login(&b, &srv, "B");
	cli_login(&c, &srv, "C");
	cli_voice_register(&a);
	cli_voice_register(&b);
	cli_voice_register(&c);
	cli_send(&a, "TALK B: Request");
	cli_wait_for(&b, "TALK A: Request");
	/* ringing: both still hear and reach the room */
	cli_voice(&c, "room", 4, true);
	expect_voice_m(&a, &c, "room", true);
	expect_voice_m(&b, &c, "room", true);
	cli_voice(&a, "ringing", 7, true);
	expect_voice_m(&b, &a, "ringing", true);
	expect_voice_m(&c, &a, "ringing", true);
	cli_send(&b, "TALK A: Accept");
	cli_wait_for(&a, "TALK B: Accept");
	/* active: only each other */
	cli_voice(&a, "private", 7, true);
	expect_voice_m(&b, &a, "private", true);
	expect_no_voice(&c);
	cli_voice(&b, "reply", 5, false);
	expect_voice(&a, &b, "reply");
	expect_no_voice(&c);
	/* room voice does not reach callers */
	cli_voice(&c, "room2", 5, false);
	expect_no_voice(&a);
	expect_no_voice(&b);
	/* after End, room voice again */
	cli_send(&a, "TALK B: End");
	cli_wait_for(&b, "TALK A: End");
	cli_voice(&c, "room3", 5, false);
	expect_voice(&a, &c, "room3");
	expect_voice(&b, &c, "room3");
	cli_close(&a);
	cli_close(&b);
	cli_close(&c);
}

static void test_hostile_packets(void **state)
{
	struct cli a, b;
	uint8_t pkt[2048], payload[1300];
	struct rtp_hdr h;
	uint8_t bad[IC_TOKEN_LEN];
	int n;

	(void)state;
	cli_login(&a, &srv, "A");
	cli_login(&b, &srv, "B");
	cli_voice_register(&a);
	cli_voice_register(&b);
	memset(payload, 0x55, sizeof(payload));

	/* forged token */
	memcpy(bad, a.token, sizeof(bad));
	bad[7] ^= 1;
	h = (struct rtp_hdr){false, IC_RTP_PT_OPUS, a.seq++, a.ts, a.ssrc};
	n = rtp_pack(pkt, sizeof(pkt), &h, bad, payload, 20);
	cli_voice_raw(&a, pkt, (size_t)n);
	expect_no_voice(&b);
	/* unknown ssrc (with A's token) */
	h = (struct rtp_hdr){false, IC_RTP_PT_OPUS, a.seq++, a.ts, a.ssrc ^ 0x5a5a5a5a};
	n = rtp_pack(pkt, sizeof(pkt), &h, a.token, payload, 20);
	cli_voice_raw(&a, pkt, (size_t)n);
	expect_no_voice(&b);
	/* no extension */
	h = (struct rtp_hdr){false, IC_RTP_PT_OPUS, a.seq++, a.ts, a.ssrc};
	n = rtp_pack(pkt, sizeof(pkt), &h, NULL, payload, 20);
	cli_voice_raw(&a, pkt, (size_t)n);
	expect_no_voice(&b);
	/* wrong extension profile, and wrong element id */
	h.seq = a.seq++;
	n = rtp_pack(pkt, sizeof(pkt), &h, a.token, payload, 20);
	pkt[12] = 0x10;
	cli_voice_raw(&a, pkt, (size_t)n);
	pkt[12] = 0xbe;
	pkt[16] = 0x27;
	cli_voice_raw(&a, pkt, (size_t)n);
	expect_no_voice(&b);
	/* version 1, and truncated headers */
	h.seq = a.seq++;
	n = rtp_pack(pkt, sizeof(pkt), &h, a.token, payload, 20);
	pkt[0] = (uint8_t)((pkt[0] & 0x3f) | 0x40);
	cli_voice_raw(&a, pkt, (size_t)n);
	pkt[0] = (uint8_t)((pkt[0] & 0x3f) | 0x80);
	cli_voice_raw(&a, pkt, 11);
	cli_voice_raw(&a, pkt, 20); /* extension cut */
	expect_no_voice(&b);
	/* oversized: 1201 bytes; exactly 1200 passes */
	cli_voice(&a, payload, 1201 - RTP_FIXED_LEN - RTP_EXT_LEN, false);
	expect_no_voice(&b);
	{
		char big[1200 - RTP_FIXED_LEN - RTP_EXT_LEN + 1];

		memset(big, 'z', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		cli_voice(&a, big, sizeof(big) - 1, false);
		expect_voice(&b, &a, big);
	}
	/* replayed: the same packet twice is forwarded once */
	h = (struct rtp_hdr){false, IC_RTP_PT_OPUS, a.seq++, a.ts, a.ssrc};
	n = rtp_pack(pkt, sizeof(pkt), &h, a.token, (const uint8_t *)"once", 4);
	cli_voice_raw(&a, pkt, (size_t)n);
	cli_voice_raw(&a, pkt, (size_t)n);
	{
		uint8_t buf[2048];

		assert_true(cli_voice_recv(&b, buf, sizeof(buf), WAIT_MS) > 0);
		expect_no_voice(&b);
	}
	/* reordered within the window: accepted once; older than the window: dropped */
	{
		uint16_t base = a.seq;
		uint8_t buf[2048];

		a.seq = (uint16_t)(base + 70);
		cli_voice(&a, "ahead", 5, false);
		assert_true(cli_voice_recv(&b, buf, sizeof(buf), WAIT_MS) > 0);
		a.seq = (uint16_t)(base + 60); /* 10 behind: fine */
		cli_voice(&a, "late", 4, false);
		expect_voice(&b, &a, "late");
		a.seq = (uint16_t)(base + 60); /* again: a repeat */
		cli_voice(&a, "late", 4, false);
		expect_no_voice(&b);
		a.seq = base; /* 70 behind: too old */
		cli_voice(&a, "old", 3, false);
		expect_no_voice(&b);
		a.seq = (uint16_t)(base + 71);
	}
	/* the server still relays A normally */
	cli_voice(&a, "fine", 4, false);
	expect_voice(&b, &a, "fine");
	cli_close(&a);
	cli_close(&b);
}

static void test_keepalive_and_port_change(void **state)
{
	struct cli a, b;
	uint8_t pkt[2048], buf[2048];
	struct rtp_hdr h;
	struct rtp_pkt p;
	int n, plen;

	(void)state;
	cli_login(&a, &srv, "A");
	cli_login(&b, &srv, "B");
	cli_udp_open(&a);
	cli_voice_register(&b);
	/* A has sent nothing: it has no voice address and hears nothing yet */
	cli_voice(&b, "early", 5, true);
	expect_no_voice(&a);
	/* keepalive: answered to the sender with the header as received, no extension */
	h = (struct rtp_hdr){true, IC_RTP_PT_OPUS, 4242, 123456, a.ssrc};
	plen = rtp_pack(pkt, sizeof(pkt), &h, a.token, NULL, 0);
	cli_voice_raw(&a, pkt, (size_t)plen);
	n = cli_voice_recv(&a, buf, sizeof(buf), WAIT_MS);
	assert_int_equal(n, RTP_FIXED_LEN);
	assert_int_equal(rtp_parse(buf, (size_t)n, &p), 0);
	assert_true(p.hdr.marker);
	assert_int_equal(p.hdr.seq, 4242);
	assert_int_equal(p.hdr.ts, 123456);
	assert_int_equal(p.hdr.ssrc, a.ssrc);
	assert_int_equal(buf[0], 0x80);
	expect_no_voice(&b); /* a keepalive is forwarded to nobody */
	/* a replayed keepalive is not answered */
	cli_voice_raw(&a, pkt, (size_t)plen);
	expect_no_voice(&a);
	a.seq = 4243;
	/* now A hears B */
	cli_voice(&b, "now", 3, false);
	expect_voice(&a, &b, "now");
	/* A's port changes (NAT rebinding): the next advancing packet moves its address
	 */
	cli_udp_reopen(&a);
	cli_voice(&a, NULL, 0, false);
	assert_int_equal(cli_voice_recv(&a, buf, sizeof(buf), WAIT_MS), RTP_FIXED_LEN);
	cli_voice(&b, "moved", 5, false);
	expect_voice(&a, &b, "moved");
	cli_close(&a);
	cli_close(&b);
}

static void test_separate_udp_port(void **state)
{
	struct srv s2;
	struct cli a, b;

	(void)state;
	srv_start(&s2, "--udp-port", "0", NULL); /* a UDP port of its own choosing */
	cli_login(&a, &s2, "A");
	cli_login(&b, &s2, "B");
	assert_int_equal(a.uport, s2.udp_port); /* VOICE names the UDP port */
	assert_int_not_equal(a.uport, s2.port);
	cli_voice_register(&a);
	cli_voice_register(&b);
	cli_voice(&a, "udp", 3, true);
	expect_voice_m(&b, &a, "udp", true);
	cli_close(&a);
	cli_close(&b);
	srv_stop(&s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_room_voice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_voice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_packets, setup_plain, teardown),
	    cmocka_unit_test_setup_teardown(test_keepalive_and_port_change, setup_plain,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_separate_udp_port, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
