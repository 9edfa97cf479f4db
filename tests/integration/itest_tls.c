/* TLS signalling and encrypted voice (protocol 1.1, section 3) against the real intercomd
 * with --tls on: plaintext refused, the 1.1 login, records that hold many lines or part
 * of one, a KeyUpdate, a handshake left half done, and voice that is heard intact while
 * forgeries, replays, another member's key and another host move nothing. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ssl.h>
#include <poll.h>

#include "harness.h"
#include "harness_tls.h"

#define QUIET_MS 300

static struct srv srv;
static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/itest-tls-%d", (int)getpid());
	srv_start(&srv, "--tls", "on", "--state-dir", dir, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_stop(&srv);
	state_dir_remove(dir);
	return 0;
}

/* A plaintext client of a TLS server. */
static void plain_connect(struct cli *c)
{
	struct srv p = srv;

	p.plain = true;
	cli_connect(c, &p);
	snprintf(c->nick, sizeof(c->nick), "plain");
}

static void test_plaintext_refused(void **state)
{
	struct cli c;

	(void)state;
	plain_connect(&c);
	cli_send(&c, "CONNECT: \"Nc\" \"Typing\" 1.0.0");
	cli_expect(&c, "ERROR TLS_REQUIRED: this server accepts TLS only");
	cli_expect_closed(&c);
	cli_close(&c);
}

/* The key the client saw is the one intercomd --fingerprint prints. */
static void test_login_and_fingerprint(void **state)
{
	char out[256];
	struct cli c;

	(void)state;
	cli_login(&c, &srv, "Secure");
	assert_int_equal(
	    srv_run(out, sizeof(out), "--fingerprint", "--state-dir", dir, NULL), 0);
	out[strcspn(out, "\n")] = '\0';
	assert_string_equal(c.server_fp, out);
	assert_non_null(c.c2s);
	cli_send(&c, "PING: 77");
	cli_expect(&c, "PONG: 77");
	cli_close(&c);
}

static void test_version_and_identity(void **state)
{
	struct cli c;

	(void)state;
	cli_connect(&c, &srv);
	snprintf(c.nick, sizeof(c.nick), "old");
	cli_send(&c,
		 "CONNECT: \"Old\" \"R\" 1.0.0"); /* 1.0's VOICE line would be wrong */
	cli_expect_prefix(&c, "ERROR BAD_VERSION: ");
	cli_close(&c);

	harness_anon = true;
	cli_connect(&c, &srv);
	harness_anon = false;
	snprintf(c.nick, sizeof(c.nick), "anon");
	cli_send(&c, "CONNECT: \"Anon\" \"R\" 1.1.0");
	cli_expect_prefix(&c, "ERROR NO_IDENTITY: ");
	cli_send(&c, "PING: 5"); /* errors end no session */
	cli_expect(&c, "PONG: 5");
	cli_close(&c);
}

/* 30 lines in one record: every one is read, though select() saw one readable socket
 * (the rest waited inside OpenSSL); the line bucket answers the 21st on with FLOOD. */
static void test_many_lines_one_record(void **state)
{
	char buf[512];
	size_t n = 0;
	struct cli c;

	(void)state;
	cli_login(&c, &srv, "Burst");
	for (int i = 1; i <= 30; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "PING: %d\n", i);
	cli_send_records(&c, buf, n, 0);
	/* the bucket holds 20, less the login's two lines and plus what refilled since */
	for (int i = 1;; i++) {
		const char *l = cli_recv(&c, WAIT_MS);
		char want[32];

		assert_non_null(l);
		if (!strncmp(l, "ERROR FLOOD: ", 13)) {
			assert_in_range(i, 19, 21);
			break;
		}
		snprintf(want, sizeof(want), "PONG: %d", i);
		assert_string_equal(l, want);
	}
	cli_expect_silence(&c, QUIET_MS);
	cli_close(&c);
}

static void test_line_across_records(void **state)
{
	static const char line[] = "PING: 123456789\n";
	struct cli c;

	(void)state;
	cli_login(&c, &srv, "Split");
	cli_send_records(&c, line, sizeof(line) - 1, 6); /* three records */
	cli_expect(&c, "PONG: 123456789");
	cli_close(&c);
}

static void test_key_update(void **state)
{
	struct cli c;

	(void)state;
	cli_login(&c, &srv, "Rekey");
	cli_send(&c, "PING: 1");
	cli_expect(&c, "PONG: 1");
	htls_key_update(c.ssl, c.fd);
	cli_send(&c, "PING: 2"); /* under the new keys, both ways */
	cli_expect(&c, "PONG: 2");
	cli_close(&c);
}

/* A flood of records without lines from one logged-in box (KeyUpdates that ask for no
 * answer, as fast as the socket takes them): the server closes it once past its bucket
 * (IC_TLS_OVERHEAD_BURST, 64 KiB; about 2 400 of them), and a box beside it is still
 * answered. One KeyUpdate is not a flood (test_key_update). */
static void test_record_flood(void **state)
{
	struct cli h, f;
	int sent = 0;

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* OpenSSL writes to the socket the server closed */
	cli_login(&h, &srv, "Steady");
	cli_login(&f, &srv, "Flood");
	while (sent < 4000) { /* 108 KB of them, well past the bucket */
		struct pollfd p = {f.fd, POLLOUT, 0};
		int r;

		if (SSL_key_update(f.ssl, SSL_KEY_UPDATE_NOT_REQUESTED) != 1)
			break;
		r = SSL_do_handshake(f.ssl); /* sends it now */
		if (r != 1 && SSL_get_error(f.ssl, r) == SSL_ERROR_WANT_WRITE &&
		    poll(&p, 1, 5000) == 1)
			r = SSL_do_handshake(f.ssl);
		if (r != 1)
			break; /* closed under us: the server's answer */
		sent++;
	}
	assert_true(sent > 2000); /* the bucket's burst went through */
	/* the server takes them at its pace (under valgrind, slowly): wait for the close
	 */
	assert_true(cli_closed(&f, 60000));
	assert_non_null(
	    strstr(srv_log(&srv), "left: flood of TLS records without lines"));
	cli_send(&h, "PING: 1");
	cli_wait_for(&h, "PONG: 1"); /* after the lists of Flood coming and going */
	cli_close(&f);
	cli_close(&h);
}

/* Half a ClientHello and then nothing: the server waits no longer than its bound. */
static void test_half_hello(void **state)
{
	static const unsigned char half[] = {0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00,
					     0x00, 0xfc, 0x03, 0x03, 0x11, 0x22};
	struct cli c;

	(void)state;
	plain_connect(&c);
	cli_send_unpaced(&c, half, sizeof(half));
	assert_false(cli_closed(&c, 2000)); /* it is waiting for the rest */
	assert_true(cli_closed(&c, 15000)); /* and gives up at 10 s */
	cli_close(&c);
}

/* ---- voice ---- */

static void open_voice(struct cli *c, const char *nick)
{
	cli_login(c, &srv, nick);
	cli_voice_register(c);
}

static void test_voice_heard_and_sealed(void **state)
{
	static const char say[] = "opus frame: the quick brown fox";
	struct cli a, b, c;
	uint8_t buf[2048], raw[2048], out[2048];
	struct vc *wrong;
	uint64_t ctr;
	int n;

	(void)state;
	open_voice(&a, "Va");
	open_voice(&b, "Vb");
	open_voice(&c, "Vc");
	cli_voice(&a, say, strlen(say), true);
	n = cli_voice_recv(&b, buf, sizeof(buf), WAIT_MS); /* opened, tag and window */
	assert_int_equal(n, RTP_FIXED_LEN + (int)strlen(say));
	assert_memory_equal(buf + RTP_FIXED_LEN, say, strlen(say));
	assert_int_equal(cli_voice_recv(&c, buf, sizeof(buf), WAIT_MS), n);

	/* what a tap on the wire sees: never the payload; and a third member's key opens
	 * nobody else's copy */
	cli_voice(&a, say, strlen(say), false);
	n = cli_voice_recv_raw(&b, raw, sizeof(raw), WAIT_MS);
	assert_int_equal(n, RTP_FIXED_LEN + 8 + (int)strlen(say) + 16);
	assert_null(memmem(raw, (size_t)n, "quick brown", 11));
	assert_int_equal(vc_new(&wrong, &c.s2c_key, false), 0);
	assert_int_equal(
	    vc_open(wrong, raw, (size_t)n, IC_RTP_MAX, out, sizeof(out), &ctr), -EBADMSG);
	vc_free(wrong);
	assert_true(cli_voice_recv(&c, buf, sizeof(buf), WAIT_MS) > 0);
	cli_close(&a);
	cli_close(&b);
	cli_close(&c);
}

/* A's next packet sealed by hand, counter ctr, with key k. */
static int seal_as(struct cli *a, const struct vc_key *k, uint64_t ctr, uint8_t *out)
{
	uint8_t pkt[64];
	struct rtp_hdr h = {false, IC_RTP_PT_OPUS, a->seq++, a->ts, a->ssrc};
	struct vc *v;
	int n = rtp_pack(pkt, sizeof(pkt), &h, NULL, (const uint8_t *)"ab12", 4);

	a->ts += 960;
	assert_int_equal(vc_new(&v, k, true), 0);
	n = vc_seal(v, ctr, pkt, (size_t)n, out, 128);
	vc_free(v);
	assert_true(n > 0);
	return n;
}

static void expect_nothing(struct cli *c)
{
	uint8_t buf[2048];

	assert_int_equal(cli_voice_recv_raw(c, buf, sizeof(buf), QUIET_MS), -1);
}

static void test_voice_forgeries(void **state)
{
	struct cli a, b, other;
	uint8_t good[128], bad[128], buf[2048];
	int n;

	(void)state;
	open_voice(&a, "Fa");
	open_voice(&b, "Fb");
	/* every single-bit flip of a valid packet, header to tag: none is relayed */
	n = seal_as(&a, &a.c2s_key, a.ctr++, good);
	for (int bit = 0; bit < n * 8; bit++) {
		memcpy(bad, good, (size_t)n);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cli_voice_raw(&a, bad, (size_t)n);
	}
	expect_nothing(&b);
	/* the packet itself goes through (the flips spent none of A's voice rate), once
	 */
	cli_voice_raw(&a, good, (size_t)n);
	assert_int_equal(cli_voice_recv(&b, buf, sizeof(buf), WAIT_MS),
			 RTP_FIXED_LEN + 4);
	cli_voice_raw(&a, good, (size_t)n);
	expect_nothing(&b);
	/* sealed with B's own key under A's SSRC */
	n = seal_as(&a, &b.c2s_key, a.ctr++, bad);
	cli_voice_raw(&a, bad, (size_t)n);
	expect_nothing(&b);
	/* valid, from another host: dropped, and A's voice address stays where it is */
	n = seal_as(&a, &a.c2s_key, a.ctr + 1000, bad);
	memset(&other, 0, sizeof(other));
	snprintf(other.from, sizeof(other.from), "127.0.0.2");
	other.uport = a.uport;
	cli_udp_open(&other);
	cli_voice_raw(&other, bad, (size_t)n);
	expect_nothing(&b);
	cli_voice(&b, "back", 4, false);
	assert_int_equal(cli_voice_recv(&a, buf, sizeof(buf), WAIT_MS),
			 RTP_FIXED_LEN + 4);
	close(other.ufd);
	cli_close(&a);
	cli_close(&b);
	/* each kind counted where it was dropped: the totals at the end say so */
	srv_stop(&srv);
	assert_true(log_value(srv_log(&srv), "over a session's rate, ") >= 1); /* host */
	/* flips of the counter, payload and tag, and the other key (not those of the
	 * first byte or the SSRC, dropped before) */
	assert_true(log_value(srv_log(&srv), "from a wrong address, ") >= 250);
	assert_true(log_value(srv_log(&srv), "failed their tag, ") >= 1); /* replayed */
	srv_start(&srv, "--tls", "on", "--state-dir", dir, NULL); /* for the teardown */
}

/* server_password: missing or wrong is BAD_PASSWORD (the session stays, and may try
 * again), the right one logs in; the password is in no log; with --tls off it is a
 * configuration error. */
static void test_server_password(void **state)
{
	struct srv p;
	struct cli c;
	char out[512];

	(void)state;
	srv_start(&p, "--server-password", "open sesame", "--verbose", NULL);
	cli_connect(&c, &p);
	snprintf(c.nick, sizeof(c.nick), "Door");
	cli_send(&c, "CONNECT: \"Door\" \"\" 1.1.0");
	cli_expect(&c, "ERROR BAD_PASSWORD: this server needs a password");
	cli_send(&c, "CONNECT: \"Door\" \"\" 1.1.0 \"open sesamE\"");
	cli_expect(&c, "ERROR BAD_PASSWORD: wrong password");
	cli_send(&c, "CONNECT: \"Door\" \"\" 1.1.0 \"open sesame\"");
	cli_expect_prefix(&c, "ACCEPT: ");
	cli_expect_prefix(&c, "VOICE: ");
	cli_close(&c);
	srv_stop(&p);
	assert_null(strstr(srv_log(&p), "open sesame"));
	assert_null(strstr(srv_log(&p), "sesamE"));
	/* a box's own password to a server without one is ignored */
	cli_login(&c, &srv, "NoPassword");
	cli_close(&c);
	assert_int_equal(srv_run(out, sizeof(out), "--tls", "off", "--server-password",
				 "x", "--check-config", NULL),
			 2);
	assert_non_null(strstr(out, "server_password needs tls = on"));
	assert_int_equal(srv_run(out, sizeof(out), "--server-password", "a\"b",
				 "--check-config", NULL),
			 2);
	assert_null(strstr(out, "a\"b")); /* a refused secret is not echoed */
}

/* guests = yes: a session without a box identity may log in. */
static void test_guests(void **state)
{
	struct srv g;
	struct cli c;

	(void)state;
	srv_start(&g, "--guests", "yes", NULL);
	harness_anon = true;
	cli_login(&c, &g, "Guest");
	harness_anon = false;
	cli_send(&c, "PING: 9");
	cli_expect(&c, "PONG: 9");
	cli_close(&c);
	srv_stop(&g);
}

/* Failed logins from one host: the eleventh within 120 s is answered with its own code
 * and blocks the host; its next CONNECT and its next connection get BLOCKED (after the
 * handshake) and are closed; another host logs in meanwhile. */
static void test_blocked(void **state)
{
	struct srv p;
	struct cli c, d, other;

	(void)state;
	srv_start(&p, "--server-password", "right", NULL);
	cli_connect_from(&c, &p, "127.0.0.7");
	snprintf(c.nick, sizeof(c.nick), "Guess");
	for (int i = 0; i < 11; i++) {
		cli_send(&c, "CONNECT: \"Guess\" \"\" 1.1.0 \"wrong%d\"", i);
		cli_expect(&c, "ERROR BAD_PASSWORD: wrong password");
	}
	cli_send(&c, "CONNECT: \"Guess\" \"\" 1.1.0 \"right\"");
	cli_expect(&c, "ERROR BLOCKED: too many failed logins from your address: try "
		       "again in 5 minutes");
	cli_expect_closed(&c);
	cli_close(&c);
	harness_raw = true; /* closed on accept: no handshake, not a byte needed */
	cli_connect_from(&d, &p, "127.0.0.7");
	harness_raw = false;
	cli_expect_closed(&d);
	cli_close(&d);
	/* another host is not touched */
	cli_connect_from(&other, &p, "127.0.0.8");
	snprintf(other.nick, sizeof(other.nick), "Honest");
	cli_send(&other, "CONNECT: \"Honest\" \"\" 1.1.0 \"right\"");
	cli_expect_prefix(&other, "ACCEPT: ");
	cli_close(&other);
	srv_stop(&p);
	assert_non_null(strstr(srv_log(&p), "logins from 127.0.0.7 blocked for 300 s"));
	assert_non_null(strstr(srv_log(&p), "logins: 11 failed, 1 blocked, 1 closed on "
					    "accept (blocked)"));
}

/* The same box logs in again under its nick while its old session is still there (a
 * Wi-Fi drop): the old one is told REPLACED and closed, the room sees one of it; the same
 * nick from another key is NICK_REGISTERED. */
static void test_replaced(void **state)
{
	struct cli old, again, other, watcher;
	void *box = htls_key_new();

	(void)state;
	cli_login(&watcher, &srv, "Watcher");
	harness_key = box;
	cli_login(&old, &srv, "Door");
	cli_expect(&watcher, "USERLIST #Lobby: Watcher, Door");
	harness_key = NULL; /* a key of its own */
	cli_connect(&other, &srv);
	snprintf(other.nick, sizeof(other.nick), "Door");
	cli_send(&other, "CONNECT: \"door\" \"\" 1.1.0");
	/* Door's first login bound the nick to its box */
	cli_expect(&other, "ERROR NICK_REGISTERED: this nick belongs to another box: "
			   "choose another");
	cli_close(&other);
	harness_key = box;
	cli_login(&again, &srv, "Door");
	harness_key = NULL;
	cli_expect(&old, "ERROR REPLACED: logged in again from the same box");
	cli_expect_closed(&old);
	{ /* never two of it; in the end one */
		const char *l;
		char last[128] = "";

		while ((l = cli_recv(&watcher, 400))) {
			assert_null(strstr(l, "Door, Door"));
			snprintf(last, sizeof(last), "%s", l);
		}
		assert_string_equal(last, "USERLIST #Lobby: Watcher, Door");
	}
	cli_send(&again, "PING: still");
	cli_expect(&again, "PONG: still");
	cli_close(&old);
	cli_close(&again);
	cli_close(&watcher);
	htls_key_free(box);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plaintext_refused),
	    cmocka_unit_test(test_login_and_fingerprint),
	    cmocka_unit_test(test_version_and_identity),
	    cmocka_unit_test(test_many_lines_one_record),
	    cmocka_unit_test(test_line_across_records),
	    cmocka_unit_test(test_key_update),
	    cmocka_unit_test(test_record_flood),
	    cmocka_unit_test(test_half_hello),
	    cmocka_unit_test(test_voice_heard_and_sealed),
	    cmocka_unit_test(test_voice_forgeries),
	    cmocka_unit_test(test_server_password),
	    cmocka_unit_test(test_guests),
	    cmocka_unit_test(test_blocked),
	    cmocka_unit_test(test_replaced),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
