/* intercom-web on the real binaries, without a browser: a WebSocket client (wsclient.c,
 * web/ws.c's frames) enrolls, logs in through the gateway to the real intercomd, sees
 * the roster, exchanges messages and voice with a real client of the server (the
 * harness's line client, a box as the server sees one); refusals (a used or forged
 * link, no cookie, a foreign Origin, a line a page may not send); a page that vanishes
 * mid-talk and one that stops reading, while another stays served; 50 pages at once. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "harness.h"
#include "ic_limits.h"
#include "rtp.h"
#include "ws.h"
#include "wsclient.h"

static struct srv srv;
static struct proc gw;
static unsigned gw_port, gw_http;
static char gw_dir[128];

static const char *web_bin(void)
{
	const char *b = getenv("INTERCOM_WEB");

	return b ? b : "intercom-web";
}

/* The gateway under valgrind (INTERCOM_WEB_WRAP, the valgrind_web test) runs
 * HARNESS_SLOWDOWN times slower: every wait of this test grows with it. */
static int web_wait(void)
{
	const char *w = getenv("INTERCOM_WEB_WRAP");

	return (w && *w ? HARNESS_SLOWDOWN : 1) * 5000;
}
#undef WAIT_MS
#define WAIT_MS web_wait()

/* argv: [$INTERCOM_WEB_WRAP words...] intercom-web, the test's settings, then first... */
static char *const *args(const char *first, ...)
{
	static char srvport[16], wrap[512];
	static const char *a[48];
	const char *w = getenv("INTERCOM_WEB_WRAP");
	va_list ap;
	int n = 0;

	snprintf(srvport, sizeof(srvport), "%u", srv.port);
	if (w && *w) {
		snprintf(wrap, sizeof(wrap), "%s", w);
		for (char *tok = strtok(wrap, " "); tok && n < 16;
		     tok = strtok(NULL, " "))
			a[n++] = tok;
	}
	a[n++] = web_bin();
	a[n++] = "--state-dir";
	a[n++] = gw_dir;
	a[n++] = "--server";
	a[n++] = "127.0.0.1";
	a[n++] = "--server-port";
	a[n++] = srvport;
	a[n++] = "--name";
	a[n++] = "127.0.0.1";
	a[n++] = "--port";
	a[n++] = "0";
	a[n++] = "--http-port";
	a[n++] = "0";
	a[n++] = "--config";
	a[n++] = "/dev/null";
	va_start(ap, first);
	for (const char *s = first; s && n < 47; s = va_arg(ap, const char *))
		a[n++] = s;
	va_end(ap);
	a[n] = NULL;
	return (char *const *)a;
}

static char sink_dir[160];

static void gw_start(void)
{
	size_t at;

	snprintf(sink_dir, sizeof(sink_dir), "%s/sink", harness_state_dir());
	mkdir(sink_dir, 0700);
	proc_start(&gw, args("--verbose", "--test-sink", sink_dir, NULL));
	at = proc_wait_log(&gw, 0, "https and WebSocket on port ", WAIT_MS);
	gw_port = (unsigned)atoi(proc_log(&gw) + at);
	at = proc_wait_log(&gw, 0, "http port ", WAIT_MS);
	gw_http = (unsigned)atoi(proc_log(&gw) + at);
	assert_true(gw_port > 0 && gw_http > 0);
}

/* intercom-web --add-user name: the token of the link it printed. */
static void add_user(const char *name, char *token)
{
	struct proc p;
	const char *t;

	proc_start(&p, args("--add-user", name, NULL));
	proc_wait_ok(&p, WAIT_MS);
	t = strstr(proc_log(&p), "/enroll?t=");
	assert_non_null(t);
	snprintf(token, 65, "%s", t + 10);
	assert_int_equal(strlen(token), 64);
	/* the QR code of the link follows it */
	assert_non_null(strstr(proc_log(&p), "\xe2\x96\x88"));
}

/* Open the link; the cookie's secret (65 bytes) or "" when refused. Returns status. */
static int enroll(const char *token, char *cookie)
{
	char path[128], head[2048];
	const char *c;
	int st;

	snprintf(path, sizeof(path), "/enroll?t=%s", token);
	st = wsc_get(gw_port, true, path, "", head, sizeof(head));
	cookie[0] = 0;
	c = strstr(head, "Set-Cookie: icw=");
	if (c)
		snprintf(cookie, 65, "%s", c + 16);
	if (st == 303) {
		assert_non_null(strstr(head, "HttpOnly; Secure; SameSite=Strict"));
		assert_int_equal(strlen(cookie), 64);
	}
	return st;
}

static void user(const char *name, char *cookie)
{
	char token[80];

	add_user(name, token);
	assert_int_equal(enroll(token, cookie), 303);
}

/* A page online: WEB NICK, WEB STATE online, the lobby's USERLIST naming it. */
static void page_online(struct wsc *w, const char *cookie, const char *name)
{
	char want[64];

	assert_int_equal(wsc_open(w, gw_port, cookie, NULL), 101);
	snprintf(want, sizeof(want), "WEB NICK %s", name);
	assert_non_null(wsc_expect_prefix(w, want, WAIT_MS));
	assert_non_null(wsc_expect_prefix(w, "WEB STATE online", WAIT_MS * 2));
	assert_non_null(wsc_expect_prefix(w, "USERLIST #Lobby", WAIT_MS));
	assert_non_null(strstr((char *)w->msg, name));
}

static int setup(void **state)
{
	(void)state;
	snprintf(gw_dir, sizeof(gw_dir), "%s/web", harness_state_dir());
	srv_start(&srv, "--tls", "on", NULL);
	gw_start();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kill(gw.pid, SIGTERM);
	assert_int_equal(proc_wait(&gw, WAIT_MS), 0);
	srv_stop(&srv);
	return 0;
}

static void test_enrollment(void **state)
{
	char token[80], cookie[80], forged[80], head[2048];
	struct wsc w;

	(void)state;
	add_user("Ann", token);
	/* a forged link (one digit changed) and an unknown one are refused */
	snprintf(forged, sizeof(forged), "%s", token);
	forged[5] = forged[5] == '0' ? '1' : '0';
	assert_int_equal(enroll(forged, cookie), 403);
	assert_int_equal(enroll("", cookie), 403);
	assert_int_equal(enroll(token, cookie), 303);
	/* used once: the second time refused */
	assert_int_equal(enroll(token, forged), 403);
	assert_string_equal(forged, "");
	/* no cookie, a wrong one, a foreign page's Origin: no WebSocket */
	assert_int_equal(wsc_open(&w, gw_port, "", NULL), 403);
	wsc_close(&w);
	snprintf(forged, sizeof(forged), "%s", cookie);
	forged[0] = forged[0] == 'a' ? 'b' : 'a';
	assert_int_equal(wsc_open(&w, gw_port, forged, NULL), 403);
	wsc_close(&w);
	assert_int_equal(wsc_open(&w, gw_port, cookie, "https://evil.example"), 403);
	wsc_close(&w);
	/* /whoami tells a page whether its browser is enrolled, never a secret */
	assert_int_equal(wsc_get(gw_port, true, "/whoami", "", head, sizeof(head)), 403);
	assert_int_equal(wsc_get(gw_port, true, "/whoami", forged, head, sizeof(head)),
			 403);
	assert_null(strstr(head, "X-Intercom-User"));
	assert_int_equal(wsc_get(gw_port, true, "/whoami", cookie, head, sizeof(head)),
			 200);
	assert_non_null(strstr(head, "\r\nX-Intercom-User: Ann\r\n"));
	assert_non_null(strstr(head, "\r\nCache-Control: no-store\r\n"));
	assert_null(strstr(head, cookie));
	assert_null(strstr(head, "Set-Cookie"));
	/* the page and the landing page are there for anyone; the landing port serves
	 * nothing else */
	assert_int_equal(wsc_get(gw_port, true, "/", "", head, sizeof(head)), 200);
	assert_int_equal(wsc_get(gw_http, false, "/", "", head, sizeof(head)), 200);
	assert_int_equal(wsc_get(gw_http, false, "/ca.crt", "", head, sizeof(head)), 200);
	assert_int_equal(wsc_get(gw_http, false, "/ws", cookie, head, sizeof(head)), 404);
	/* TLS 1.2 is offered too (Safari is reported to fail WebSocket on 1.3-only
	 * servers) */
	assert_int_equal(wsc_connect_max(&w, gw_port, TLS1_2_VERSION), 0);
	assert_int_equal(SSL_version(w.ssl), TLS1_2_VERSION);
	assert_int_equal(wsc_request(&w, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", head,
				     sizeof(head), WAIT_MS),
			 200);
	wsc_close(&w);
	/* nothing secret in the gateway's log */
	assert_null(strstr(proc_log(&gw), token));
	assert_null(strstr(proc_log(&gw), cookie));
}

static void test_roster_and_messages(void **state)
{
	char cookie[80];
	struct wsc w;
	struct cli bob;

	(void)state;
	user("Carol", cookie);
	page_online(&w, cookie, "Carol");
	cli_login(&bob, &srv, "Bob");
	/* the page sees Bob join, and messages go both ways */
	assert_non_null(wsc_expect_prefix(&w, "USERLIST #Lobby: ", WAIT_MS));
	assert_non_null(strstr((char *)w.msg, "Bob"));
	assert_int_equal(wsc_text(&w, "PRIVMSG Bob: hello from a phone"), 0);
	cli_wait_for(&bob, "PRIVMSG Carol: hello from a phone");
	cli_send(&bob, "PRIVMSG Carol: hello back");
	assert_non_null(wsc_expect_prefix(&w, "PRIVMSG Bob: hello back", WAIT_MS));
	/* a line a page may not send closes it with 1008; the session ends, so Bob's
	 * lobby no longer lists Carol */
	assert_int_equal(wsc_text(&w, "CONNECT: \"X\" \"y\" 1.2.0"), 0);
	assert_true(wsc_closed(&w, WAIT_MS));
	assert_int_equal(w.close_code, 1008);
	wsc_close(&w);
	cli_wait_for(&bob, "USERLIST #Lobby: Bob");
	cli_close(&bob);
}

static void test_voice_both_ways(void **state)
{
	static const uint8_t opus[] = {0x78, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	uint8_t frame[2 + sizeof(opus)], buf[2048];
	char cookie[80];
	struct rtp_pkt p;
	struct wsc w;
	struct cli box;
	int n, op;
	uint64_t t0;
	unsigned long refill;

	(void)state;
	user("Dave", cookie);
	cli_login(&box, &srv, "Box1");
	cli_udp_open(&box);
	cli_voice_register(&box);
	page_online(&w, cookie, "Dave");
	/* page -> box: the Opus packet arrives as sent, marked as a spurt's start. The
	 * gateway's voice path opens with its first keepalive: retried until heard. */
	frame[0] = 1;
	frame[1] = 1;
	memcpy(frame + 2, opus, sizeof(opus));
	n = -1;
	for (int i = 0; i < 50 && n < 0; i++) {
		assert_int_equal(wsc_send(&w, WS_OP_BINARY, frame, sizeof(frame)), 0);
		n = cli_voice_recv(&box, buf, sizeof(buf), 100);
	}
	assert_true(n > 0);
	assert_int_equal(rtp_parse(buf, (size_t)n, &p), 0);
	assert_true(p.hdr.marker);
	assert_int_equal(p.payload_len, sizeof(opus));
	assert_memory_equal(p.payload, opus, sizeof(opus));
	/* box -> page: SSRC, seq, timestamp and payload in the page's frame */
	cli_voice(&box, opus, sizeof(opus), true);
	do
		op = wsc_recv(&w, WAIT_MS);
	while (op == WS_OP_TEXT);
	assert_int_equal(op, WS_OP_BINARY);
	assert_int_equal(w.msg_len, 12 + sizeof(opus));
	assert_int_equal(w.msg[0], 1);
	assert_int_equal(w.msg[1] & 1, 1);
	assert_int_equal((uint32_t)w.msg[2] << 24 | w.msg[3] << 16 | w.msg[4] << 8 |
			     w.msg[5],
			 box.ssrc);
	assert_memory_equal(w.msg + 12, opus, sizeof(opus));
	/* a page sending faster than intercomd takes from a session: the gateway drops
	 * the excess before sealing it (a burst of 300 within one second's bucket of 120)
	 */
	frame[1] = 0;
	t0 = now_ms();
	for (int i = 0; i < 300; i++)
		assert_int_equal(wsc_send(&w, WS_OP_BINARY, frame, sizeof(frame)), 0);
	/* the gateway took them all once a line sent after them is answered */
	assert_int_equal(wsc_text(&w, "USERLIST: #Lobby"), 0);
	assert_non_null(wsc_expect_prefix(&w, "USERLIST #Lobby", WAIT_MS));
	/* what the bucket may have refilled while the burst went through (a slow machine,
	 * valgrind): the rate times the time the gateway can have taken it over */
	refill = (unsigned long)((now_ms() - t0) * IC_VOICE_PKTS_PER_SEC + 999) / 1000;
	/* a page that vanishes mid-talk: its session ends, the box hears the roster */
	wsc_vanish(&w);
	cli_wait_for(&box, "USERLIST #Lobby: Box1");
	const char *end = strstr(proc_log(&gw), "Dave: session ended: voice ");
	unsigned long up = 0, over = 0;
	assert_non_null(end);
	assert_int_equal(
	    sscanf(end, "Dave: session ended: voice %lu frames up (%lu over", &up, &over),
	    2);
	assert_true(over + refill >= 300 - 120 - 2);
	/* taken: at most the bucket, its refill and the frames sent before the burst */
	assert_true(up <= 120 + 60 + refill);
	cli_close(&box);
}

static int post(const char *name, const char *body, long claimed)
{
	char req[512], head[2048];
	struct wsc w;
	int st;

	assert_int_equal(wsc_connect(&w, gw_port), 0);
	snprintf(req, sizeof(req),
		 "POST /test/result?name=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Content-Length: %ld\r\n\r\n%s",
		 name, claimed, body);
	st = wsc_request(&w, req, head, sizeof(head), WAIT_MS);
	wsc_close(&w);
	return st;
}

/* The test-only sink (--test-sink DIR) the browser tests post their results to */
static void test_sink(void **state)
{
	char path[256], buf[64] = "";
	FILE *f;

	(void)state;
	assert_int_equal(post("result.json", "{\"ok\":1}", 8), 200);
	snprintf(path, sizeof(path), "%s/result.json", sink_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "{\"ok\":1}");
	/* names outside [a-z0-9_.-]{1,64}, or starting with a dot; over 4 MiB */
	assert_int_equal(post("../x", "a", 1), 400);
	assert_int_equal(post(".hidden", "a", 1), 400);
	assert_int_equal(post("Big", "a", 1), 400);
	assert_int_equal(post("big", "", 4L * 1024 * 1024 + 1), 413);
}

/* A second page of the same user (a reload, another tab): the first is closed with 1008
 * before the second logs in, and the second is online as the same user */
static void test_second_page(void **state)
{
	char cookie[80];
	struct wsc a, b;

	(void)state;
	user("Twice", cookie);
	page_online(&a, cookie, "Twice");
	page_online(&b, cookie, "Twice");
	assert_true(wsc_closed(&a, WAIT_MS));
	assert_int_equal(a.close_code, 1008);
	assert_int_equal(wsc_text(&b, "USERLIST: #Lobby"), 0);
	assert_non_null(wsc_expect_prefix(&b, "USERLIST #Lobby", WAIT_MS));
	assert_non_null(strstr((char *)b.msg, "Twice"));
	wsc_close(&a);
	wsc_close(&b);
}

/* --remove-user while the page is open: it is closed, and its cookie is refused */
static void test_removed_user(void **state)
{
	char cookie[80];
	struct proc p;
	struct wsc w;

	(void)state;
	user("Gone", cookie);
	page_online(&w, cookie, "Gone");
	proc_start(&p, args("--remove-user", "Gone", NULL));
	proc_wait_ok(&p, WAIT_MS);
	assert_true(wsc_closed(&w, WAIT_MS));
	assert_int_equal(w.close_code, 1008);
	wsc_close(&w);
	assert_int_equal(wsc_open(&w, gw_port, cookie, NULL), 403);
	wsc_close(&w);
	/* removing an unknown user: exit 2, saying how to list them */
	proc_start(&p, args("--remove-user", "Gone", NULL));
	assert_int_equal(proc_wait(&p, WAIT_MS), 2);
	assert_non_null(strstr(proc_log(&p), "--list-users"));
}

#define TALKERS 8

static void test_slow_reader(void **state)
{
	static uint8_t opus[1100];
	static struct cli box[TALKERS];
	char c1[80], c2[80], nick[24];
	struct wsc slow, fine;
	size_t at = strlen(proc_log(&gw));
	uint64_t end;

	(void)state;
	user("Slow", c1);
	user("Fine", c2);
	for (int i = 0; i < TALKERS; i++) {
		snprintf(nick, sizeof(nick), "Talker%d", i);
		cli_login(&box[i], &srv, nick);
		cli_udp_open(&box[i]);
		cli_voice_register(&box[i]);
	}
	page_online(&slow, c1, "Slow");
	page_online(&fine, c2, "Fine");
	/* the slow page never reads: the boxes talk (within the server's voice rate per
	 * session) until the gateway drops it at its queue's bound, while the other page
	 * reads everything and is served throughout */
	end = now_ms() + 30000;
	for (int k = 0;
	     !strstr(proc_log(&gw) + at, "Slow: not reading") && now_ms() < end; k++) {
		for (int i = 0; i < TALKERS; i++)
			cli_voice(&box[i], opus, sizeof(opus), k == 0);
		uint64_t next = now_ms() + 50;
		while (now_ms() < next)
			(void)wsc_recv(&fine, 5);
	}
	proc_wait_log(&gw, at, "Slow: not reading", WAIT_MS);
	/* what was queued before the close still arrives, then the end */
	assert_true(wsc_closed(&slow, WAIT_MS));
	assert_int_equal(wsc_text(&fine, "PRIVMSG Talker0: still here"), 0);
	cli_wait_for(&box[0], "PRIVMSG Fine: still here");
	wsc_close(&slow);
	wsc_close(&fine);
	for (int i = 0; i < TALKERS; i++)
		cli_close(&box[i]);
}

#define HOG_ADDRS 8 /* one host's addresses, 127.0.0.2-9 */
#define HOG_PER	  4 /* its connections per address: 8 x 4 fill the pool of 32 */

/* A host of the LAN with eight addresses holds every TLS handshake slot, with silent
 * connections and half ClientHellos (one 0x16 byte): a phone still logs in, taking the
 * place of the oldest handshake of an address holding the most (server/guard's pool,
 * as intercomd's), and that hog is closed. */
static void test_handshake_hogs(void **state)
{
	int hog[HOG_ADDRS][HOG_PER], closed = 0;
	char from[32], cookie[80], b;
	size_t at;
	struct wsc w;

	(void)state;
	user("Phone", cookie);
	at = strlen(proc_log(&gw));
	for (int a = 0; a < HOG_ADDRS; a++) {
		snprintf(from, sizeof(from), "127.0.0.%d", 2 + a);
		for (int i = 0; i < HOG_PER; i++) {
			hog[a][i] = wsc_tcp_from(gw_port, from);
			assert_true(hog[a][i] >= 0);
			if (i % 2)
				assert_int_equal(write(hog[a][i], "\x16", 1), 1);
		}
	}
	/* accepted in order: all 32 are counted before the phone's */
	page_online(&w, cookie, "Phone");
	proc_wait_log(&gw, at, "TLS handshakes from 127.0.0.", WAIT_MS);
	for (int a = 0; a < HOG_ADDRS; a++)
		for (int i = 0; i < HOG_PER; i++) {
			closed += recv(hog[a][i], &b, 1, MSG_DONTWAIT) == 0;
			close(hog[a][i]);
		}
	assert_int_equal(closed, 1);
	wsc_close(&w);
}

#define TABLE 8 /* a second gateway's --max-browsers */

/* Every connection slot held by one host's silent connections from four addresses: a
 * phone still logs in, in the place of the oldest connection of an address holding
 * the most that is not a WebSocket. */
static void test_table_hogs(void **state)
{
	struct proc gw2;
	int hog[TABLE], closed = 0, own = (int)gw_port;
	char from[32], cookie[80], b;
	size_t at;
	struct wsc w;

	(void)state;
	user("Phone2", cookie);
	proc_start(&gw2, args("--max-browsers", "8", NULL));
	at = proc_wait_log(&gw2, 0, "https and WebSocket on port ", WAIT_MS);
	gw_port = (unsigned)atoi(proc_log(&gw2) + at);
	for (int i = 0; i < TABLE; i++) {
		snprintf(from, sizeof(from), "127.0.0.%d", 2 + i % 4);
		hog[i] = wsc_tcp_from(gw_port, from);
		assert_true(hog[i] >= 0);
	}
	page_online(&w, cookie, "Phone2");
	proc_wait_log(&gw2, at, "closed for newcomers", WAIT_MS);
	for (int i = 0; i < TABLE; i++) {
		closed += recv(hog[i], &b, 1, MSG_DONTWAIT) == 0;
		close(hog[i]);
	}
	assert_int_equal(closed, 1);
	wsc_close(&w);
	kill(gw2.pid, SIGTERM);
	assert_int_equal(proc_wait(&gw2, WAIT_MS), 0);
	gw_port = (unsigned)own;
}

/* A user whose nick a box registered is refused by intercomd (NICK_REGISTERED); its
 * phone reloading again and again must not count failed logins against the gateway's
 * address, which every user shares: past IC_LOGIN_FAILS_MAX intercomd would block it,
 * and then every other user. The refusal is held and told again without a login. */
static void test_refused_reloads(void **state)
{
	char cookie[80], other[80];
	struct cli box;
	struct wsc w;
	size_t at;

	(void)state;
	cli_login(&box, &srv, "Taken"); /* the box's key binds the nick */
	user("Taken", cookie);
	user("Bystander", other);
	at = strlen(srv_log(&srv));
	for (int i = 0; i < IC_LOGIN_FAILS_MAX + 2; i++) {
		assert_int_equal(wsc_open(&w, gw_port, cookie, NULL), 101);
		assert_non_null(wsc_expect_prefix(
		    &w, "WEB STATE offline ERROR NICK_REGISTERED", WAIT_MS));
		assert_true(wsc_closed(&w, WAIT_MS));
		assert_int_equal(w.close_code, 1001);
		wsc_close(&w);
	}
	/* one refusal reached intercomd, and another user still logs in */
	assert_null(
	    strstr(strstr(srv_log(&srv) + at, "NICK_REGISTERED") + 1, "NICK_REGISTERED"));
	page_online(&w, other, "Bystander");
	wsc_close(&w);
	cli_close(&box);
}

#define MANY 50

static void test_many_pages(void **state)
{
	static struct wsc w[MANY];
	char cookie[80], name[16];
	struct cli box;
	int many = MANY;

	(void)state;
	/* under valgrind, 50 logins one after another take longer than the idle bound
	 * (three keepalives: 30 s), and the first pages (not reading meanwhile: nobody
	 * answers the pings) are dropped as silent: 12 there */
	if (WAIT_MS > 5000)
		many = 12;
	for (int i = 0; i < many; i++) {
		snprintf(name, sizeof(name), "P%02d", i);
		user(name, cookie);
		page_online(&w[i], cookie, name);
	}
	/* all 50 are in the lobby at once, as the server sees it */
	cli_login(&box, &srv, "Box3");
	cli_send(&box, "PRIVMSG #Lobby: to everyone");
	for (int i = 0; i < many; i++)
		assert_non_null(wsc_expect_prefix(
		    &w[i], "PRIVMSG #Lobby Box3: to everyone", WAIT_MS));
	for (int i = 0; i < many; i++)
		wsc_close(&w[i]);
	cli_close(&box);
}

/* intercomd goes away: the page is told why (WEB STATE offline) and closed with 1001 so
 * it reconnects; once intercomd is back (same key, pinned), a new page logs in */
static void test_server_gone(void **state)
{
	char cookie[80];
	struct wsc w;
	size_t at;

	(void)state;
	user("Patient", cookie);
	page_online(&w, cookie, "Patient");
	at = strlen(proc_log(&gw));
	srv_kill9(&srv);
	assert_non_null(wsc_expect_prefix(&w, "WEB STATE offline", WAIT_MS));
	assert_true(wsc_closed(&w, WAIT_MS));
	assert_int_equal(w.close_code, 1001);
	/* the gateway's log says why, not only that the page was closed */
	proc_wait_log(&gw, at, "Patient: the session toward intercomd ended: ", WAIT_MS);
	wsc_close(&w);
	srv_restart(&srv);
	page_online(&w, cookie, "Patient");
	wsc_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_enrollment),
	    cmocka_unit_test(test_roster_and_messages),
	    cmocka_unit_test(test_voice_both_ways),
	    cmocka_unit_test(test_sink),
	    cmocka_unit_test(test_second_page),
	    cmocka_unit_test(test_removed_user),
	    cmocka_unit_test(test_slow_reader),
	    cmocka_unit_test(test_handshake_hogs),
	    cmocka_unit_test(test_table_hogs),
	    cmocka_unit_test(test_refused_reloads),
	    cmocka_unit_test(test_many_pages),
	    cmocka_unit_test(test_server_gone),
	};
	signal(SIGPIPE, SIG_IGN);
	wsc_timeout_ms = WAIT_MS;
	return cmocka_run_group_tests(tests, setup, teardown);
}
