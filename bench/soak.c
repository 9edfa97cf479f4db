/* soak: the real intercomd under a seeded, reproducible mix of logins, joins, parts,
 * room messages, instant messages, calls and disconnects from N protocol clients, while
 * K talkers send voice without a pause, for a set time. It checks, and exits 1 if any
 * fails:
 *   - every PRIVMSG and TALK line addressed to a live client arrives there exactly once
 *     and in order (each action waits for the server's answer to a PING from its actor,
 *     so the expected order is known);
 *   - every voice packet a talker sends while a listener's voice room is the talker's
 *     (the listener registered, not in a call) arrives at that listener exactly once;
 *   - the server never drops a client the mix did not disconnect, and never crashes;
 *   - after everyone leaves, the server's resident memory is back within the margin
 *     docs/ROBUSTNESS.md documents (RSS_MARGIN_KB of where it started).
 *
 *   soak [-n CLIENTS] [-k TALKERS] [-d SECONDS] [-s SEED] [--rss-margin KB]
 *        [--server PATH] [--plain]
 *
 * The clients speak TLS 1.3 with identities of their own and seal their voice (1.1),
 * and every copy the server seals for one must open under its key, once; --plain runs
 * protocol 1.0 against --tls off. Prints progress every 10 s and a summary. A short run
 * is a ctest entry; the long one (1000 clients, 10 minutes) is in docs/ROBUSTNESS.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "ic_limits.h"
#include "msg.h"
#include "rtp.h"
#include "tlsctx.h"
#include "vclient.h"

#ifndef INTERCOMD_PATH
#define INTERCOMD_PATH "intercomd"
#endif

#define ROOMS	      20   /* text rooms #r0..#r19 besides the talkers' #v0.. */
#define EXPECT_MAX    512  /* lines in flight to one client */
#define WAIT_S	      10.0 /* an answer later than this is a failure */
#define MARGIN_MS     60   /* voice sent this close to a change is not judged */
#define RSS_MARGIN_KB 2048 /* back within this of the start after everyone leaves */
/* (--rss-margin KB changes it; 0 skips the check, for a sanitizer build whose quarantine
 * keeps freed memory on purpose) */
#define PAYLOAD	       40
#define TOKENS_RESERVE 4 /* lines kept in hand below the server's rate limit */

enum cstate { OFF, ON };

struct client {
	int idx;
	char nick[24];
	enum cstate st;
	int fd, ufd;
	char in[1 << 15];
	size_t in_len;
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	uint16_t seq;
	uint32_t ts;
	bool registered, talker, closing;
	char rooms[IC_ROOMS_PER_CLIENT]
		  [IC_ROOM_MAX + 1]; /* join order: the last is voice */
	int nrooms;
	int peer; /* active call, or -1 */
	char *expect[EXPECT_MAX];
	unsigned ehead, elen;
	double tokens, tok_t;
	char pong_want[16];
	bool pong_seen, joined_seen;
	/* the voice window being judged: hearing talker iv_talker since iv_start */
	int iv_talker;
	double iv_start;
	uint8_t seen[65536 / 8];
	/* over TLS (the default): its session, its identity (kept across its logins, so
	 * its registered nick stays its own), its voice keys and counters */
	void *ssl, *key, *cert;
	struct vc *c2s, *s2c;
	struct ctrwin win;
	uint64_t ctr;
};

static struct client *cl;
static struct pollfd *pfd;
static int n_clients, n_talkers;
static unsigned port;
/* a hundred clients log in from this one address, which a real LAN never sees; they
 * speak TLS (1.1) unless --plain (protocol 1.0, token voice in the clear) */
static bool plain;
static void *tls_ctx;
static char state_dir[64];
static double *sent_at[256]; /* per talker: send time of each sequence number */
static uint64_t rng = 88172645463325252ull;
static bool tearing_down; /* everyone is leaving: the last End lines are not judged */
static uint64_t errors, lines_checked, actions[8], voice_sent, voice_judged,
    voice_missing, voice_dups, voice_stray, voice_got;
static const char *const action_names[] = {"login", "join", "part",	"room msg",
					   "IM",    "call", "end call", "disconnect"};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (errors++ < 20) {
		va_start(ap, fmt);
		fputs("soak: FAIL: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int pick(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

static void expect(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void expect(struct client *c, const char *fmt, ...)
{
	char buf[IC_LINE_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->elen == EXPECT_MAX) {
		fail("%s: more than %d lines in flight", c->nick, EXPECT_MAX);
		return;
	}
	c->expect[(c->ehead + c->elen++) % EXPECT_MAX] = strdup(buf);
}

static void expect_clear(struct client *c)
{
	while (c->elen) {
		free(c->expect[c->ehead]);
		c->ehead = (c->ehead + 1) % EXPECT_MAX;
		c->elen--;
	}
}

/* Model of the server's rate limit: wait until c may send n more lines. */
static void take_tokens(struct client *c, int n);

static void send_line(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void send_line(struct client *c, const char *fmt, ...)
{
	char buf[IC_LINE_MAX + 8];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	if (c->ssl ? vcli_tls_write(c->ssl, c->fd, buf, (size_t)n) != 0
		   : send(c->fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
		fail("%s: send failed: %s", c->nick, strerror(errno));
}

static bool in_room(const struct client *c, const char *room)
{
	for (int i = 0; i < c->nrooms; i++) {
		if (!strcmp(c->rooms[i], room))
			return true;
	}
	return false;
}

static const char *voice_room(const struct client *c)
{
	return c->nrooms ? c->rooms[c->nrooms - 1] : "";
}

/* Which talker c hears now (its voice room is a talker's, it is registered and not in a
 * call), or -1. */
static int hearing(const struct client *c)
{
	const char *v = voice_room(c);

	if (c->st != ON || !c->registered || c->peer >= 0 || c->talker || v[0] != '#' ||
	    v[1] != 'v')
		return -1;
	return atoi(v + 2);
}

/* Judge the voice window that ends now, then open the next one if c hears a talker. */
static void drain_voice(struct client *c);
static void voice_window(struct client *c, double now)
{
	int t = c->iv_talker;

	if (t >= 0) {
		struct client *tk = &cl[t];

		drain_voice(c);
		for (uint16_t s = 0; s != tk->seq; s++) {
			double at = sent_at[t][s];

			if (at < c->iv_start || at > now - MARGIN_MS / 1000.0 || at == 0)
				continue;
			voice_judged++;
			if (!(c->seen[s / 8] & (1u << (s % 8)))) {
				voice_missing++;
				if (voice_missing <= 5)
					fail("%s missed packet %u of talker %s (sent "
					     "%.3f s into "
					     "its window)",
					     c->nick, s, tk->nick, at - c->iv_start);
			}
		}
	}
	c->iv_talker = hearing(c);
	c->iv_start = now;
	memset(c->seen, 0, sizeof(c->seen));
}

/* Judge the window up to now and stop judging until voice_window reopens one: for the
 * time between asking the server for a change and its answer. */
static void voice_pause(struct client *c, double now)
{
	voice_window(c, now);
	c->iv_talker = -1;
}

static void room_add(struct client *c, const char *room)
{
	int i;

	for (i = 0; i < c->nrooms && strcmp(c->rooms[i], room); i++)
		;
	if (i < c->nrooms) /* again: it becomes the voice room */
		memmove(c->rooms[i], c->rooms[i + 1],
			(size_t)(c->nrooms - i - 1) * sizeof(c->rooms[0]));
	else
		c->nrooms++;
	snprintf(c->rooms[c->nrooms - 1], sizeof(c->rooms[0]), "%s", room);
}

static void room_del(struct client *c, const char *room)
{
	for (int i = 0; i < c->nrooms; i++) {
		if (!strcmp(c->rooms[i], room)) {
			memmove(c->rooms[i], c->rooms[i + 1],
				(size_t)(c->nrooms - i - 1) * sizeof(c->rooms[0]));
			c->nrooms--;
			return;
		}
	}
}

static void on_line(struct client *c, char *line)
{
	if (!strncmp(line, "PING: ", 6)) { /* the server's keepalive */
		take_tokens(c, 1);
		send_line(c, "PONG: %s", line + 6);
		return;
	}
	if (!strncmp(line, "PONG: ", 6)) {
		if (!strcmp(line + 6, c->pong_want))
			c->pong_seen = true;
		return;
	}
	if (!strncmp(line, "VOICE: ", 7)) {
		unsigned p;

		if (c->ssl ? vcli_voice_keys(line + 7, &c->ssrc, &c->c2s, &c->s2c)
			   : msg_parse_voice(line + 7, &p, &c->ssrc, c->token))
			fail("%s: bad VOICE line: %s", c->nick, line);
		ctrwin_init(&c->win);
		c->ctr = 0;
		return;
	}
	if (!strncmp(line, "JOINED: ", 8)) {
		c->joined_seen = true;
		return;
	}
	if (!strncmp(line, "PRIVMSG ", 8) || !strncmp(line, "TALK ", 5)) {
		if (tearing_down)
			return;
		lines_checked++;
		if (!c->elen) {
			fail("%s got an unexpected line: %s", c->nick, line);
			return;
		}
		if (strcmp(c->expect[c->ehead], line)) {
			fail("%s got '%s' where '%s' was due", c->nick, line,
			     c->expect[c->ehead]);
			return;
		}
		free(c->expect[c->ehead]);
		c->ehead = (c->ehead + 1) % EXPECT_MAX;
		c->elen--;
		return;
	}
	if (!strncmp(line, "ERROR ", 6))
		fail("%s got %s", c->nick, line);
	/* ACCEPT, USERLIST, PARTED: nothing to check here */
}

static void close_client(struct client *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	c->ssl = NULL;
	vc_free(c->c2s);
	vc_free(c->s2c);
	c->c2s = c->s2c = NULL;
	if (c->fd >= 0)
		close(c->fd);
	if (c->ufd >= 0)
		close(c->ufd);
	c->fd = c->ufd = -1;
	c->st = OFF;
	c->registered = false;
	c->nrooms = 0;
	c->in_len = 0;
	c->iv_talker = -1;
	expect_clear(c);
}

/* What c's connection has: recv's answer, or over TLS SSL_read's as recv would give it
 * (-1 with EAGAIN when it needs the socket). */
static ssize_t recv_some(struct client *c, size_t room)
{
	int n, e;

	if (!c->ssl)
		return recv(c->fd, c->in + c->in_len, room, 0);
	n = SSL_read(c->ssl, c->in + c->in_len, (int)room);
	if (n > 0)
		return n;
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		errno = EAGAIN;
		return -1;
	}
	return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? 0 : -1;
}

static void read_tcp(struct client *c)
{
	ssize_t r = recv_some(c, sizeof(c->in) - c->in_len - 1);
	char *start, *lf;

	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (!c->closing)
			fail("%s was disconnected by the server", c->nick);
		c->closing = false;
		close_client(c);
		return;
	}
	c->in_len += (size_t)r;
	c->in[c->in_len] = '\0';
	start = c->in;
	while ((lf = memchr(start, '\n', c->in_len - (size_t)(start - c->in)))) {
		*lf = '\0';
		if (lf > start && lf[-1] == '\r')
			lf[-1] = '\0';
		on_line(c, start);
		if (c->fd < 0)
			return;
		start = lf + 1;
	}
	c->in_len -= (size_t)(start - c->in);
	memmove(c->in, start, c->in_len);
	if (c->ssl && SSL_pending(c->ssl) > 0)
		read_tcp(c); /* decrypted already: poll() would never say so */
}

static void drain_voice(struct client *c)
{
	uint8_t buf[2048], open[2048];
	struct rtp_pkt p;
	ssize_t r;

	while (c->ufd >= 0 && (r = recv(c->ufd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		const uint8_t *pkt = buf;

		if (c->s2c) { /* every copy the server seals for us must open, once */
			int n = vc_open_window(c->s2c, &c->win, buf, (size_t)r,
					       sizeof(buf), open, sizeof(open), NULL);

			if (n < 0) {
				fail("%s: a voice copy did not open (%d)", c->nick, n);
				continue;
			}
			pkt = open;
			r = n;
		}
		if (rtp_parse(pkt, (size_t)r, &p))
			continue;
		if (p.hdr.ssrc == c->ssrc && p.payload_len == 0) {
			c->registered = true; /* the answer to our keepalive */
			continue;
		}
		voice_got++;
		if (c->iv_talker < 0 || p.hdr.ssrc != cl[c->iv_talker].ssrc) {
			voice_stray++; /* in flight across a change of room: not judged */
			continue;
		}
		if (c->seen[p.hdr.seq / 8] & (1u << (p.hdr.seq % 8)))
			voice_dups++;
		c->seen[p.hdr.seq / 8] |= (uint8_t)(1u << (p.hdr.seq % 8));
	}
}

static void send_voice(struct client *c, bool keepalive)
{
	uint8_t pkt[128], pl[PAYLOAD];
	struct rtp_hdr h = {
	    .pt = IC_RTP_PT_OPUS, .seq = c->seq, .ts = c->ts, .ssrc = c->ssrc};
	int n;

	uint8_t sealed[192];
	const uint8_t *out = pkt;

	memset(pl, 0x78, sizeof(pl));
	n = rtp_pack(pkt, sizeof(pkt), &h, c->c2s ? NULL : c->token, pl,
		     keepalive ? 0 : sizeof(pl));
	if (c->c2s) {
		n = vc_seal(c->c2s, c->ctr++, pkt, (size_t)n, sealed, sizeof(sealed));
		out = sealed;
	}
	if (c->talker && !keepalive)
		sent_at[c->idx][c->seq] = bench_mono();
	if (n > 0)
		send(c->ufd, out, (size_t)n, 0);
	c->seq++;
	c->ts += 960;
	if (!keepalive)
		voice_sent++;
}

static double next_voice;
static char filler[301];

/* Poll every socket for up to ms, and keep the talkers talking. */
static void pump(int ms)
{
	int n = 0;
	double now = bench_mono();

	if (now >= next_voice) {
		for (int i = 0; i < n_talkers; i++) {
			if (cl[i].st == ON && cl[i].registered)
				send_voice(&cl[i], false);
		}
		next_voice += 0.020;
		if (next_voice < now)
			next_voice = now + 0.020;
	}
	if (ms > (int)((next_voice - now) * 1000))
		ms = (int)((next_voice - now) * 1000);
	for (int i = 0; i < n_clients; i++) {
		pfd[n++] = (struct pollfd){cl[i].fd, POLLIN, 0};
		pfd[n++] = (struct pollfd){cl[i].ufd, POLLIN, 0};
	}
	if (poll(pfd, (nfds_t)n, ms < 0 ? 0 : ms) <= 0)
		return;
	for (int i = 0; i < n_clients; i++) {
		if (pfd[2 * i].revents && cl[i].fd >= 0)
			read_tcp(&cl[i]);
		if (pfd[2 * i + 1].revents && cl[i].ufd >= 0)
			drain_voice(&cl[i]);
	}
}

static void take_tokens(struct client *c, int n)
{
	for (;;) {
		double now = bench_mono();

		c->tokens += (now - c->tok_t) * IC_RATE_PER_SEC;
		c->tok_t = now;
		if (c->tokens > IC_RATE_BURST - TOKENS_RESERVE)
			c->tokens = IC_RATE_BURST - TOKENS_RESERVE;
		if (c->tokens >= n) {
			c->tokens -= n;
			return;
		}
		pump(5);
	}
}

/* The server has handled everything c sent so far: PING, wait for its PONG. */
static bool barrier(struct client *c)
{
	static unsigned cookie;
	double until = bench_mono() + WAIT_S;

	take_tokens(c, 1);
	snprintf(c->pong_want, sizeof(c->pong_want), "%u", ++cookie);
	c->pong_seen = false;
	send_line(c, "PING: %s", c->pong_want);
	while (!c->pong_seen && c->fd >= 0 && bench_mono() < until)
		pump(50);
	if (!c->pong_seen) {
		fail("%s: no PONG within %.0f s", c->nick, WAIT_S);
		return false;
	}
	return true;
}

static bool login(struct client *c)
{
	struct sockaddr_in a = bench_lo(port), u = bench_lo(0);
	double until = bench_mono() + WAIT_S;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	c->ufd = socket(AF_INET, SOCK_DGRAM, 0);
	if (c->fd < 0 || c->ufd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    bind(c->ufd, (struct sockaddr *)&u, sizeof(u)) ||
	    connect(c->ufd, (struct sockaddr *)&a, sizeof(a))) {
		fail("%s: cannot connect: %s", c->nick, strerror(errno));
		close_client(c);
		return false;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!plain && !(c->ssl = vcli_tls_handshake(tls_ctx, c->fd, c->key, c->cert))) {
		fail("%s: TLS handshake failed", c->nick);
		close_client(c);
		return false;
	}
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	c->st = ON;
	c->peer = -1;
	c->ssrc = 0;
	c->joined_seen = false;
	take_tokens(c, 2);
	send_line(c, "CONNECT: \"%s\" \"Soak %d\" %s", c->nick, c->idx,
		  plain ? "1.0.0" : "1.1.0");
	while (!c->joined_seen && c->fd >= 0 && bench_mono() < until)
		pump(50);
	if (!c->joined_seen || !c->ssrc) {
		fail("%s: login did not complete", c->nick);
		return false;
	}
	room_add(c, "#Lobby");
	send_voice(c, true); /* register the voice address; the answer sets registered */
	while (!c->registered && bench_mono() < until)
		pump(20);
	if (!c->registered)
		fail("%s: no answer to its voice keepalive", c->nick);
	return c->registered;
}

static void do_join(struct client *c, const char *room)
{
	voice_pause(c, bench_mono());
	take_tokens(c, 1);
	send_line(c, "JOIN: %s", room);
	if (barrier(c)) {
		room_add(c, room);
		voice_window(c, bench_mono());
	}
}

static void random_action(struct client *c)
{
	char room[IC_ROOM_MAX + 1];
	int w = pick(100);

	if (c->st == OFF) {
		actions[0]++;
		if (login(c))
			voice_window(c, bench_mono());
		return;
	}
	if (w < 25) { /* join a talker's room or a text room */
		if (c->nrooms == IC_ROOMS_PER_CLIENT)
			return;
		if (pick(2) && n_talkers)
			snprintf(room, sizeof(room), "#v%d", pick(n_talkers));
		else
			snprintf(room, sizeof(room), "#r%d", pick(ROOMS));
		actions[1]++;
		do_join(c, room);
	} else if (w < 40) { /* part one of its rooms */
		if (!c->nrooms)
			return;
		snprintf(room, sizeof(room), "%s", c->rooms[pick(c->nrooms)]);
		actions[2]++;
		voice_pause(c, bench_mono());
		take_tokens(c, 1);
		send_line(c, "PART: %s", room);
		if (barrier(c)) {
			room_del(c, room);
			voice_window(c, bench_mono());
		}
	} else if (w < 65) { /* a room message to every other member */
		static unsigned id;
		char text[IC_LINE_MAX];

		if (!c->nrooms)
			return;
		snprintf(room, sizeof(room), "%s", c->rooms[pick(c->nrooms)]);
		actions[3]++;
		snprintf(text, sizeof(text), "room %u %.*s", ++id, pick(300), filler);
		for (int i = 0; i < n_clients; i++) {
			if (&cl[i] != c && cl[i].st == ON && in_room(&cl[i], room))
				expect(&cl[i], "PRIVMSG %s %s: %s", room, c->nick, text);
		}
		take_tokens(c, 1);
		send_line(c, "PRIVMSG %s: %s", room, text);
		barrier(c);
	} else if (w < 80) { /* an instant message, maybe to itself */
		static unsigned id;
		struct client *to = &cl[pick(n_clients)];

		if (to->st != ON)
			return;
		actions[4]++;
		id++;
		expect(to, "PRIVMSG %s: im %u", c->nick, id);
		take_tokens(c, 1);
		send_line(c, "PRIVMSG %s: im %u", to->nick, id);
		barrier(c);
	} else if (w < 88) { /* a call: request and accept */
		struct client *to = &cl[n_talkers + pick(n_clients - n_talkers)];

		if (to == c || to->st != ON || c->peer >= 0 || to->peer >= 0)
			return;
		actions[5]++;
		expect(to, "TALK %s: Request", c->nick);
		take_tokens(c, 1);
		send_line(c, "TALK %s: Request", to->nick);
		if (!barrier(c))
			return;
		expect(c, "TALK %s: Accept", to->nick);
		voice_pause(c, bench_mono());
		voice_pause(to, bench_mono());
		take_tokens(to, 1);
		send_line(to, "TALK %s: Accept", c->nick);
		if (barrier(to)) {
			c->peer = to->idx;
			to->peer = c->idx;
			voice_window(c, bench_mono());
			voice_window(to, bench_mono());
		}
	} else if (w < 93) { /* end its call */
		struct client *to;

		if (c->peer < 0)
			return;
		to = &cl[c->peer];
		actions[6]++;
		expect(to, "TALK %s: End", c->nick);
		voice_pause(c, bench_mono());
		voice_pause(to, bench_mono());
		take_tokens(c, 1);
		send_line(c, "TALK %s: End", to->nick);
		if (barrier(c)) {
			c->peer = to->peer = -1;
			voice_window(c, bench_mono());
			voice_window(to, bench_mono());
		}
	} else { /* disconnect */
		double until = bench_mono() + WAIT_S;
		struct client *to = c->peer >= 0 ? &cl[c->peer] : NULL;

		actions[7]++;
		voice_pause(c, bench_mono());
		if (to) { /* its call ends with it: the peer is told */
			expect(to, "TALK %s: End", c->nick);
			voice_pause(to, bench_mono());
		}
		c->closing = true;
		take_tokens(c, 1);
		send_line(c, "DISCONNECT");
		while (c->fd >= 0 && bench_mono() < until)
			pump(20);
		if (c->fd >= 0) {
			fail("%s: DISCONNECT did not close the connection", c->nick);
			close_client(c);
		}
		c->peer = -1;
		if (to) {
			to->peer = -1;
			voice_window(to, bench_mono());
		}
	}
}

int main(int argc, char **argv)
{
	const char *server = INTERCOMD_PATH;
	double secs = 20, t0, next_report, end;
	double rss0, rss_peak = 0, rss_end, rss_margin = RSS_MARGIN_KB;
	char logpath[64];
	struct rlimit rl;
	uint64_t seed = 1, total = 0;
	pid_t pid;
	int status;

	n_clients = 60;
	n_talkers = 4;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(argv[i], "-n"))
			n_clients = atoi(v), i++;
		else if (!strcmp(argv[i], "-k"))
			n_talkers = atoi(v), i++;
		else if (!strcmp(argv[i], "-d"))
			secs = atof(v), i++;
		else if (!strcmp(argv[i], "-s"))
			seed = strtoull(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--rss-margin"))
			rss_margin = atof(v), i++;
		else if (!strcmp(argv[i], "--server"))
			server = v, i++;
		else if (!strcmp(argv[i], "--plain"))
			plain = true;
		else {
			fprintf(stderr,
				"usage: soak [-n CLIENTS] [-k TALKERS] [-d SECONDS] "
				"[-s SEED] [--server PATH] [--plain]\n");
			return 2;
		}
	}
	if (n_clients < 2 || n_clients > IC_CLIENTS_MAX || n_talkers < 0 ||
	    n_talkers > 255 || n_talkers >= n_clients) {
		fprintf(stderr, "soak: 2-%d clients, fewer talkers (at most 255)\n",
			IC_CLIENTS_MAX);
		return 2;
	}
	rng ^= seed * 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < 300; i++)
		filler[i] = (char)('a' + i % 26);
	/* two sockets a client: raise the descriptor limit to what the system allows */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	cl = calloc((size_t)n_clients, sizeof(*cl));
	pfd = calloc(2 * (size_t)n_clients, sizeof(*pfd));
	for (int t = 0; t < n_talkers; t++)
		sent_at[t] = calloc(65536, sizeof(double));
	if (!cl || !pfd)
		return 1;
	port = 0;
	snprintf(logpath, sizeof(logpath), "/tmp/soak-%d.log", (int)getpid());
	snprintf(state_dir, sizeof(state_dir), "/tmp/soak-%d-state", (int)getpid());
	{
		const char *extra[] = {
		    "--max-pending-per-source", "0", "--state-dir", state_dir, "--tls",
		    plain ? "off" : "on",	NULL};

		tls_ctx = plain ? NULL : vcli_tls_ctx();
		if (!plain && !tls_ctx)
			return 1;
		pid = bench_start_server(server, (unsigned)n_clients, logpath, extra,
					 &port);
	}
	if (pid < 0) {
		fprintf(stderr, "soak: %s did not start (see %s)\n", server, logpath);
		return 1;
	}
	rss0 = bench_proc_kb(pid, "VmRSS:");
	for (int i = 0; i < n_clients; i++) {
		cl[i].idx = i;
		cl[i].fd = cl[i].ufd = -1;
		cl[i].peer = cl[i].iv_talker = -1;
		cl[i].tok_t = bench_mono();
		cl[i].tokens = IC_RATE_BURST - TOKENS_RESERVE;
		cl[i].talker = i < n_talkers;
		snprintf(cl[i].nick, sizeof(cl[i].nick), "%s%d",
			 cl[i].talker ? "talker" : "s", i);
		if (!plain && vcli_identity(&cl[i].key, &cl[i].cert, cl[i].nick))
			return 1;
	}
	printf("soak: %s, %d clients (%d talking without a pause), %.0f s, seed %llu\n",
	       server, n_clients, n_talkers, secs, (unsigned long long)seed);
	t0 = bench_mono();
	next_voice = t0;
	for (int t = 0; t < n_talkers; t++) { /* talkers: in, and into their own room */
		char room[16];

		if (login(&cl[t])) {
			snprintf(room, sizeof(room), "#v%d", t);
			do_join(&cl[t], room);
		}
	}
	end = bench_mono() + secs;
	next_report = bench_mono() + 10;
	while (bench_mono() < end) {
		random_action(&cl[n_talkers + pick(n_clients - n_talkers)]);
		pump(0);
		if (bench_mono() >= next_report) {
			double rss = bench_proc_kb(pid, "VmRSS:");
			int on = 0;

			for (int i = 0; i < n_clients; i++)
				on += cl[i].st == ON;
			if (rss > rss_peak)
				rss_peak = rss;
			printf("soak: %4.0f s: %d online, %llu lines checked, %llu voice "
			       "packets judged, %llu failures, server RSS %.0f KiB\n",
			       bench_mono() - t0, on, (unsigned long long)lines_checked,
			       (unsigned long long)voice_judged,
			       (unsigned long long)errors, rss);
			fflush(stdout);
			next_report += 10;
		}
	}
	/* let what is in flight arrive, judge the last windows, then everyone leaves */
	for (double until = bench_mono() + 1; bench_mono() < until;)
		pump(20);
	for (int i = 0; i < n_clients; i++) {
		if (cl[i].elen)
			fail("%s: %u lines never arrived (first: %s)", cl[i].nick,
			     cl[i].elen, cl[i].expect[cl[i].ehead]);
		voice_window(&cl[i], bench_mono());
	}
	n_talkers = 0; /* stop talking */
	tearing_down = true;
	for (int i = 0; i < n_clients; i++) {
		if (cl[i].st == ON) {
			cl[i].closing = true;
			expect_clear(&cl[i]);
			if (cl[i].peer >= 0) {
				cl[cl[i].peer].peer = -1;
				cl[i].peer = -1;
			}
			send_line(&cl[i], "DISCONNECT");
		}
	}
	for (double until = bench_mono() + WAIT_S; bench_mono() < until;) {
		int on = 0;

		for (int i = 0; i < n_clients; i++) {
			on += cl[i].fd >= 0;
			if (cl[i].fd >= 0)
				expect_clear(
				    &cl[i]); /* End lines of calls torn down now */
		}
		if (!on)
			break;
		pump(20);
	}
	/* the server gives freed heap back at most once a second (trim_heap): look for
	 * up to 3 s (TLS sessions leave more of it, in more pieces) */
	for (int i = 0; i < 30; i++) {
		usleep(100000);
		rss_end = bench_proc_kb(pid, "VmRSS:");
		if (rss_margin <= 0 || rss_end <= rss0 + rss_margin)
			break;
	}
	if (bench_proc_kb(pid, "VmHWM:") > rss_peak)
		rss_peak = bench_proc_kb(pid, "VmHWM:");
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	bench_rmtree(state_dir);
	for (int i = 0; i < n_clients; i++)
		vcli_identity_free(cl[i].key, cl[i].cert);
	tlsctx_free(tls_ctx);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("intercomd did not exit cleanly (status 0x%x; log %s)", status,
		     logpath);
	if (rss_margin > 0 && rss_end > rss0 + rss_margin)
		fail("server RSS %.0f KiB after everyone left, started at %.0f KiB",
		     rss_end, rss0);
	for (int i = 0; i < 8; i++)
		total += actions[i];
	printf("soak: %.0f s, %llu actions:", bench_mono() - t0,
	       (unsigned long long)total);
	for (int i = 0; i < 8; i++)
		printf(" %s %llu%s", action_names[i], (unsigned long long)actions[i],
		       i < 7 ? "," : "\n");
	printf("soak: lines: %llu checked, each arrived once and in order unless listed "
	       "above\n",
	       (unsigned long long)lines_checked);
	printf(
	    "soak: voice: %llu sent, %llu received, %llu judged (to a live member of the "
	    "talker's room), %llu missing, %llu duplicated, %llu in flight across a "
	    "change\n",
	    (unsigned long long)voice_sent, (unsigned long long)voice_got,
	    (unsigned long long)voice_judged, (unsigned long long)voice_missing,
	    (unsigned long long)voice_dups, (unsigned long long)voice_stray);
	printf("soak: server RSS: %.0f KiB at start, %.0f KiB at peak, %.0f KiB after "
	       "everyone "
	       "left (margin %.0f KiB)\n",
	       rss0, rss_peak, rss_end, rss_margin);
	if (voice_dups)
		fail("%llu voice packets arrived twice", (unsigned long long)voice_dups);
	printf("soak: %llu passed, %llu failed\n", (unsigned long long)(errors ? 0 : 1),
	       (unsigned long long)(errors ? 1 : 0));
	return errors ? 1 : 0;
}
