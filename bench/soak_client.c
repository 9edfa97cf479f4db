/* soak's protocol clients (soak.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchutil.h"
#include "msg.h"
#include "rtp.h"
#include "soak.h"

struct client *cl;
int n_clients, n_talkers;
unsigned port;
bool plain;
void *tls_ctx;
double *sent_at[256];
double next_voice;
bool tearing_down;
uint64_t errors, lines_checked, voice_sent, voice_judged, voice_missing, voice_dups,
    voice_stray, voice_got;
static struct pollfd *pfd; /* two a client, for pump */

void fail(const char *fmt, ...)
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
void expect(struct client *c, const char *fmt, ...)
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

void expect_clear(struct client *c)
{
	while (c->elen) {
		free(c->expect[c->ehead]);
		c->ehead = (c->ehead + 1) % EXPECT_MAX;
		c->elen--;
	}
}

void send_line(struct client *c, const char *fmt, ...)
{
	char buf[IC_LINE_MAX + 8];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = bench_vline(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		fail("%s: a line over %zu bytes not sent (%s)", c->nick, sizeof(buf) - 2,
		     strerror(-n));
		return;
	}
	if (c->ssl ? vcli_tls_write(c->ssl, c->fd, buf, (size_t)n) != 0
		   : send(c->fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
		fail("%s: send failed: %s", c->nick, strerror(errno));
}

bool in_room(const struct client *c, const char *room)
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

static void drain_voice(struct client *c);
void voice_window(struct client *c, double now)
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

void voice_pause(struct client *c, double now)
{
	voice_window(c, now);
	c->iv_talker = -1;
}

void room_add(struct client *c, const char *room)
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

void room_del(struct client *c, const char *room)
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

void close_client(struct client *c)
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

void pump(int ms)
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

void take_tokens(struct client *c, int n)
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

bool barrier(struct client *c)
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

bool login(struct client *c)
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

void do_join(struct client *c, const char *room)
{
	voice_pause(c, bench_mono());
	take_tokens(c, 1);
	send_line(c, "JOIN: %s", room);
	if (barrier(c)) {
		room_add(c, room);
		voice_window(c, bench_mono());
	}
}

int clients_alloc(int n, int talkers)
{
	cl = calloc((size_t)n, sizeof(*cl));
	pfd = calloc(2 * (size_t)n, sizeof(*pfd));
	if (!cl || !pfd)
		return -ENOMEM;
	n_clients = n;
	n_talkers = talkers;
	for (int t = 0; t < talkers; t++) {
		if (!(sent_at[t] = calloc(65536, sizeof(double))))
			return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct client *c = &cl[i];

		c->idx = i;
		c->fd = c->ufd = -1;
		c->peer = c->iv_talker = -1;
		c->tok_t = bench_mono();
		c->tokens = IC_RATE_BURST - TOKENS_RESERVE;
		c->talker = i < talkers;
		snprintf(c->nick, sizeof(c->nick), "%s%d", c->talker ? "talker" : "s", i);
		if (!plain && vcli_identity(&c->key, &c->cert, c->nick))
			return -EIO;
	}
	return 0;
}

void clients_free(void)
{
	for (int i = 0; cl && i < n_clients; i++) {
		close_client(&cl[i]);
		vcli_identity_free(cl[i].key, cl[i].cert);
	}
	for (int t = 0; t < 256; t++) {
		free(sent_at[t]);
		sent_at[t] = NULL;
	}
	free(cl);
	free(pfd);
	cl = NULL;
	pfd = NULL;
}
