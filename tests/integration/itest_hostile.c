/* A hostile host on the same LAN against the real intercomd: each attack, and what the
 * honest clients keep through it. Hosts are loopback addresses (127.0.0.0/8 is all
 * loopback on Linux, and the server tells them apart as it would on a LAN). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_tls.h"
#include "hostile.h"
#include "ic_limits.h"

#define HONEST	  60
#define LISTENERS 20

static struct srv srv;
static struct cli cl[HONEST + 2];

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	/* the spoofer speaks protocol 1.0: what a sniffed token could do (over TLS a
	 * packet from another host is itest_tls's); login churn and the voice flood run
	 * both ways */
	srv_start(&srv, "--tls", "off", NULL);
	return 0;
}

/* The default server: TLS (the churn over it). */
static int setup_tls(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	srv_start(&srv, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_stop(&srv);
	return 0;
}

/* ---- login churn ---- */

/* A client reading its socket at a fixed rate, keeping the last #Lobby list it got. */
struct reader {
	char buf[1 << 16];
	size_t len;
	char last[1 << 12];
	unsigned lists;
	uint64_t bytes;
	bool closed;
};

static struct reader rd[HONEST];

static void reader_lines(struct cli *c, struct reader *r)
{
	char *nl;

	while ((nl = memchr(r->buf, '\n', r->len))) {
		size_t l = (size_t)(nl - r->buf);

		*nl = '\0';
		if (!strncmp(r->buf, "USERLIST #Lobby: ", 17)) {
			r->lists++;
			size_t k = l < sizeof(r->last) - 1 ? l : sizeof(r->last) - 1;

			memcpy(r->last, r->buf, k);
			r->last[k] = '\0';
		} else if (!strncmp(r->buf, "PING: ", 6)) {
			cli_send(c, "PONG: %s", r->buf + 6);
		}
		memmove(r->buf, nl + 1, r->len - l - 1);
		r->len -= l + 1;
	}
}

/* Read up to max bytes from c now (0: all there is). */
static void reader_take(struct cli *c, struct reader *r, size_t max)
{
	size_t room = sizeof(r->buf) - r->len;
	ssize_t n;

	if (max && max < room)
		room = max;
	if (c->ssl) { /* over TLS: at most room bytes of lines, whole records below */
		n = htls_read(c->ssl, r->buf + r->len, room);
		if (n == -EAGAIN) {
			n = -1;
			errno = EAGAIN;
		}
	} else {
		n = recv(c->fd, r->buf + r->len, room, MSG_DONTWAIT);
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		r->closed = true;
	if (n > 0) {
		r->len += (size_t)n;
		r->bytes += (uint64_t)n;
		reader_lines(c, r);
	}
}

/* 10 s of login churn from one host: 60 clients, each reading only 64 kB a second, are
 * never dropped and end with the right list. Without coalescing every cycle sent each
 * of them two lists of 60 nicks (about 1.3 kB), far more than they read. Over TLS each
 * cycle is a handshake too. */
static void churn(bool tls)
{
	char want[2048] = "USERLIST #Lobby: ";
	uint64_t t0, t1, until;
	unsigned cycles = 0;
	int p[2];
	pid_t pid;

	harness_rcvbuf = 4096; /* a slow link: the kernel does not hide the backlog */
	for (int i = 0; i < HONEST; i++) {
		char nick[16];

		snprintf(nick, sizeof(nick), "Honest%02d", i);
		cli_login(&cl[i], &srv, nick);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
			 i ? ", " : "", nick);
		memset(&rd[i], 0, sizeof(rd[i]));
	}
	harness_rcvbuf = 0;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned n = tls ? hostile_churn_tls(srv.port, "127.0.0.2", 10000)
				 : hostile_churn(srv.port, "127.0.0.2", 10000);

		(void)!write(p[1], &n, sizeof(n));
		_exit(0);
	}
	close(p[1]);
	t0 = now_ms();
	until = t0 + 10500;
	/* every 10 ms each reads at most 640 bytes: 64 kB a second */
	while (now_ms() < until) {
		for (int i = 0; i < HONEST; i++)
			reader_take(&cl[i], &rd[i], 640);
		usleep(10000);
	}
	assert_int_equal((int)read(p[0], &cycles, sizeof(cycles)), (int)sizeof(cycles));
	close(p[0]);
	waitpid(pid, NULL, 0);
	t1 = now_ms();
	/* the churn was real: thousands of cycles natively, tens under valgrind on a busy
	 * machine (how many is the machine's, not asserted: bench_attack measures it);
	 * the bound on lists below proves the coalescing when the churn outran its window
	 */
	print_message("login churn%s: %u cycles in 10 s from one host (%s the %u lists a "
		      "member may get)\n",
		      tls ? " over TLS" : "", cycles,
		      2 * cycles > 10000 / IC_LIST_COALESCE_MS + HONEST + 5 ? "beyond"
									    : "within",
		      10000 / IC_LIST_COALESCE_MS + HONEST + 5);
	assert_true(cycles > 0);
	/* then everyone catches up (250 ms at most after the last change) */
	until = now_ms() + 1500;
	while (now_ms() < until) {
		for (int i = 0; i < HONEST; i++)
			reader_take(&cl[i], &rd[i], 0);
		usleep(10000);
	}
	for (int i = 0; i < HONEST; i++) {
		if (rd[i].closed)
			fail_msg("Honest%02d was dropped by the login churn", i);
		assert_string_equal(rd[i].last, want);
		/* one list per 100 ms window at most, plus the logins' own */
		assert_true(rd[i].lists <= (t1 - t0) / IC_LIST_COALESCE_MS + HONEST + 5);
	}
	print_message("login churn: a member got %u lists, %.1f kB/s\n", rd[0].lists,
		      (double)rd[0].bytes / (double)(t1 - t0));
	for (int i = 0; i < HONEST; i++)
		cli_close(&cl[i]);
}

static void test_login_churn(void **state)
{
	(void)state;
	churn(false);
}

static void test_login_churn_tls(void **state)
{
	(void)state;
	churn(true);
}

/* ---- voice ---- */

/* Count the datagrams waiting on c's voice socket by SSRC: a's into *na, b's into *nb.
 * Over TLS each is opened first (cli_voice_recv fails the test if one does not open). */
static void drain(struct cli *c, uint32_t a, unsigned *na, uint32_t b, unsigned *nb)
{
	uint8_t buf[2048];
	int n;

	while ((n = cli_voice_recv(c, buf, sizeof(buf), 0)) >= 12) {
		uint32_t ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
				(uint32_t)buf[10] << 8 | buf[11];

		*na += ssrc == a;
		*nb += ssrc == b;
	}
}

/* The flooder's packets sealed with its own session's key, as a member floods. */
static int seal_as(void *arg, const uint8_t *rtp, size_t len, uint8_t *out, size_t size)
{
	struct cli *c = arg;

	return vc_seal(c->c2s, c->ctr++, rtp, len, out, size);
}

/* The bytes waiting in the server's voice socket (127.0.0.1:port), from /proc/net/udp;
 * 0 when it is not found. */
static unsigned long udp_backlog(unsigned port)
{
	char line[256];
	unsigned long q = 0;
	FILE *f = fopen("/proc/net/udp", "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned lport, tx, rx;

		if (sscanf(line, " %*u: 0100007F:%X %*X:%*X %*X %X:%X", &lport, &tx,
			   &rx) == 3 &&
		    lport == port)
			q = rx;
	}
	if (f)
		fclose(f);
	return q;
}

/* The flood holds back while the server's socket holds more than this: a flooder as
 * fast as the server reads (5000 packets a second natively), never one that fills the
 * kernel's queue, so the honest talker's packets are never the kernel's to drop (where
 * the server is slower than that, under valgrind on a busy machine, a full queue would
 * drop them however well the server did). */
#define FLOOD_BACKLOG (32 * 1024)

/* 5 s of a flood of up to 5000 packets a second from one logged-in session: 20 listeners
 * get at least 95 % of an honest talker's packets and no more of the flood than the
 * session's bucket allows. */
static void voice_flood(bool tls)
{
	struct cli *talker = &cl[LISTENERS], *flood = &cl[LISTENERS + 1];
	unsigned got_t[LISTENERS] = {0}, got_f[LISTENERS] = {0}, sent_t = 0;
	uint64_t t0, next_t, until, flooded = 0, f0, last;
	struct hostile_voice fv;
	const char *log;

	for (int i = 0; i < LISTENERS; i++) {
		char nick[16];

		snprintf(nick, sizeof(nick), "L%02d", i);
		cli_login(&cl[i], &srv, nick);
		cli_voice_register(&cl[i]);
	}
	cli_login(talker, &srv, "Talker");
	cli_voice_register(talker);
	cli_login_from(flood, &srv, "Flood", "127.0.0.2");
	cli_voice_register(flood);
	fv = (struct hostile_voice){.fd = flood->ufd,
				    .port = flood->uport,
				    .ssrc = flood->ssrc,
				    .seq = flood->seq,
				    .ts = flood->ts,
				    .seal = tls ? seal_as : NULL,
				    .seal_arg = flood};
	memcpy(fv.token, flood->token, sizeof(fv.token));
	t0 = hostile_ms();
	next_t = t0;
	until = t0 + 5000;
	f0 = last = t0;
	while (now_ms() < until) {
		/* held back, the flood's clock stands still: no burst to catch up after
		 */
		if (udp_backlog(srv.udp_port) > FLOOD_BACKLOG)
			f0 += hostile_ms() - last;
		else
			hostile_flood_step(&fv, f0, &flooded, 5000, 150);
		last = hostile_ms();
		if (now_ms() >= next_t) {
			cli_voice(talker, "honest talker", 13, sent_t == 0);
			sent_t++;
			next_t += 20;
		}
		for (int i = 0; i < LISTENERS; i++)
			drain(&cl[i], talker->ssrc, &got_t[i], flood->ssrc, &got_f[i]);
		usleep(10000);
	}
	/* what is still on its way: until every listener has every honest packet, or
	 * WAIT_MS */
	for (until = now_ms() + WAIT_MS; now_ms() < until; usleep(10000)) {
		bool all = true;

		for (int i = 0; i < LISTENERS; i++) {
			drain(&cl[i], talker->ssrc, &got_t[i], flood->ssrc, &got_f[i]);
			all &= got_t[i] >= sent_t;
		}
		if (all)
			break;
	}
	for (int i = 0; i < LISTENERS; i++) {
		if (got_t[i] * 100 < sent_t * 95)
			fail_msg("L%02d heard %u of the talker's %u packets", i, got_t[i],
				 sent_t);
		/* the bucket: a second's worth at once, then 120 a second */
		assert_true(got_f[i] <= IC_VOICE_PKTS_PER_SEC *
					    (unsigned)((now_ms() - t0) / 1000 + 2));
	}
	print_message("voice flood%s: a listener heard %u of %u honest packets and %u of "
		      "the flood's %llu\n",
		      tls ? " (sealed)" : "", got_t[0], sent_t, got_f[0],
		      (unsigned long long)flooded);
	for (int i = 0; i < LISTENERS + 2; i++)
		cli_close(&cl[i]);
	srv_stop(&srv);
	log = srv_log(&srv);
	/* what the listeners did not get of the flood the server dropped: "dropped (N
	 * over a session's rate". Where the machine could not carry a flood of twice what
	 * the bucket lets through (a server under valgrind, starved by other work, took
	 * 575 packets in 5 s), the bucket had nothing to hold back: said, not judged. */
	if (flooded > 2 * IC_VOICE_PKTS_PER_SEC * 6)
		assert_true((log_value(log, "dropped (") + got_f[0]) * 100 >=
			    flooded * 95);
	else
		print_message(
		    "voice flood%s: only %llu packets offered, the machine's most: "
		    "the bucket was not exercised\n",
		    tls ? " (sealed)" : "", (unsigned long long)flooded);
	if (tls)
		srv_start(&srv, NULL); /* for teardown */
	else
		srv_start(&srv, "--tls", "off", NULL);
}

static void test_voice_flood(void **state)
{
	(void)state;
	voice_flood(false);
}

/* The same flood sealed with the flooding member's own key: every packet valid, still
 * held to the session's bucket before any fan-out. */
static void test_voice_flood_tls(void **state)
{
	(void)state;
	voice_flood(true);
}

/* A packet with a session's token and a newer sequence number, from another host: its
 * voice address does not move (no hijack, no amplification toward a victim). */
static void test_spoofed_source(void **state)
{
	struct cli *a = &cl[0], *b = &cl[1], *m = &cl[2];
	uint8_t buf[2048];
	struct cli spoof;
	const char *log;

	(void)state;
	cli_login(a, &srv, "A");
	cli_login(b, &srv, "B");
	cli_voice_register(a);
	cli_voice_register(b);
	/* the attacker on 127.0.0.3 has sniffed B's ssrc and token */
	memset(&spoof, 0, sizeof(spoof));
	snprintf(spoof.from, sizeof(spoof.from), "127.0.0.3");
	cli_udp_open(&spoof);
	spoof.uport = b->uport;
	spoof.ssrc = b->ssrc;
	memcpy(spoof.token, b->token, sizeof(spoof.token));
	spoof.seq = (uint16_t)(b->seq + 10);
	cli_voice(&spoof, NULL, 0, false); /* a keepalive: would move B's address */
	cli_voice(&spoof, "spoofed", 7, true);
	assert_int_equal(cli_voice_recv(&spoof, buf, sizeof(buf), 300),
			 -1);						/* no answer */
	assert_int_equal(cli_voice_recv(a, buf, sizeof(buf), 300), -1); /* not relayed */
	/* A talks: B still hears it where it registered; the attacker hears nothing */
	cli_voice(a, "to B", 4, true);
	assert_int_equal(cli_voice_recv(b, buf, sizeof(buf), WAIT_MS), 12 + 4);
	assert_memory_equal(buf + 12, "to B", 4);
	assert_int_equal(cli_voice_recv(&spoof, buf, sizeof(buf), 300), -1);
	/* amplification: M, logged in from 127.0.0.2, points its voice address at a
	 * victim (127.0.0.3) with a forged source: nothing goes there */
	cli_login_from(m, &srv, "M", "127.0.0.2");
	memset(&m->from, 0, sizeof(m->from));
	snprintf(m->from, sizeof(m->from), "127.0.0.3");
	cli_udp_open(m);
	cli_voice(m, NULL, 0, false);
	cli_voice(a, "to all", 6, true);
	assert_int_equal(cli_voice_recv(b, buf, sizeof(buf), WAIT_MS), 12 + 6);
	assert_int_equal(cli_voice_recv(m, buf, sizeof(buf), 300), -1);
	cli_close(&spoof);
	for (int i = 0; i < 3; i++)
		cli_close(&cl[i]);
	srv_stop(&srv);
	log = srv_log(&srv);
	assert_true(log_value(log, "over a session's rate, ") >=
		    3); /* "N from a wrong" */
	srv_start(&srv, "--tls", "off", NULL);
}

/* ---- connections ---- */

/* 33 connections that never log in, from one host: the 33rd is told and closed, the 32
 * stay, another host logs in, and the refusals are logged once. */
static void test_pending_per_source(void **state)
{
	static struct cli idle[40];
	struct cli honest;
	const char *log, *at;
	int logged = 0;

	(void)state;
	for (int i = 0; i < IC_PENDING_PER_SOURCE_DEFAULT; i++)
		cli_connect_from(&idle[i], &srv, "127.0.0.2");
	for (int i = 0; i < IC_PENDING_PER_SOURCE_DEFAULT; i++) { /* all accepted */
		cli_send(&idle[i], "PING: %d", i);
		cli_expect_prefix(&idle[i], "PONG: ");
	}
	for (int i = IC_PENDING_PER_SOURCE_DEFAULT; i < 40; i++) {
		cli_connect_from(&idle[i], &srv, "127.0.0.2");
		cli_expect(&idle[i],
			   "ERROR SERVER_FULL: too many connections from your address");
		cli_expect_closed(&idle[i]);
	}
	cli_login_from(&honest, &srv, "Honest", "127.0.0.4");
	cli_send(&idle[0], "PING: still here");
	cli_expect(&idle[0], "PONG: still here");
	/* one of them logs in: a place for one more from that host */
	strcpy(idle[1].nick, "Late");
	cli_send(&idle[1], "CONNECT: \"Late\" \"\" 1.1.0");
	cli_expect_prefix(&idle[1], "ACCEPT: ");
	cli_expect_prefix(&idle[1], "VOICE: ");
	{
		const char *l = cli_expect_prefix(&idle[1], "PING: ");
		char pong[64];

		snprintf(pong, sizeof(pong), "PONG: %s", l + 6);
		cli_send(&idle[1], "%s", pong);
	}
	cli_expect(&idle[1], "JOINED: #Lobby");
	cli_connect_from(&idle[32], &srv, "127.0.0.2");
	cli_send(&idle[32], "PING: in");
	cli_expect(&idle[32], "PONG: in");
	log = srv_log(&srv);
	for (at = log; (at = strstr(at, "connections from 127.0.0.2 refused")); at++)
		logged++;
	assert_int_equal(logged, 1);
	for (int i = 0; i < 40; i++)
		cli_close(&idle[i]);
	cli_close(&honest);
}

/* The default bind serves IPv4 and IPv6 on one socket: `localhost` works whichever
 * address the resolver gives first, and voice crosses between the families. */
static void test_dual_stack_default(void **state)
{
	struct srv any;
	struct cli a, b;
	uint8_t buf[2048];

	(void)state;
	srv_start_any(&any, NULL);
	if (!cli_connect6(&a, &any)) {
		srv_stop(&any);
		skip(); /* no IPv6 loopback on this host */
	}
	cli_close(&a);
	cli_login_from(&a, &any, "Six", "::1");
	cli_login(&b, &any, "Four");
	cli_voice_register(&a);
	cli_voice_register(&b);
	cli_voice(&a, "from v6", 7, true);
	assert_int_equal(cli_voice_recv(&b, buf, sizeof(buf), WAIT_MS), 12 + 7);
	cli_voice(&b, "from v4", 7, true);
	assert_int_equal(cli_voice_recv(&a, buf, sizeof(buf), WAIT_MS), 12 + 7);
	assert_memory_equal(buf + 12, "from v4", 7);
	/* an IPv4 peer is logged as IPv4, not as ::ffff:127.0.0.1 */
	assert_non_null(strstr(srv_log(&any), "logged in from 127.0.0.1:"));
	assert_non_null(strstr(srv_log(&any), "logged in from [::1]:"));
	assert_non_null(strstr(srv_log(&any), "(IPv4 and IPv6)"));
	cli_close(&a);
	cli_close(&b);
	srv_stop(&any);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_login_churn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_login_churn_tls, setup_tls, teardown),
	    cmocka_unit_test_setup_teardown(test_voice_flood, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_voice_flood_tls, setup_tls, teardown),
	    cmocka_unit_test_setup_teardown(test_spoofed_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_per_source, setup, teardown),
	    cmocka_unit_test(test_dual_stack_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
