#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "addr.h"
#include "ic_limits.h"
#include "ident.h"
#include "tlsctx.h"
#include "tlsstep.h"

#define NET_OUT_MAX (64 * 1024)
/* A connection attempt that has not completed by then gives way to the next address: a
 * LAN answers in milliseconds, and an address that does not answer at all (a stale AAAA
 * record, IPv6 not routed) must not hold the box for the kernel's two minutes. */
#define NET_ATTEMPT_MS 2000

struct net {
	struct loop *loop;
	struct net_handlers h;
	void *arg;
	int fd, ufd;
	bool connecting;
	SSL_CTX *ctx; /* TLS when set (net_set_tls); its steps are common/tlsstep.c's */
	SSL *ssl;
	bool handshaking;
	bool want_write;	      /* OpenSSL waits for the socket to take bytes */
	struct sockaddr_storage addr; /* the address connected (or being tried) */
	socklen_t addrlen;
	struct sockaddr_storage addrs[NET_ADDRS_MAX]; /* all to try, in order */
	socklen_t lens[NET_ADDRS_MAX];
	unsigned naddrs, next_addr;
	struct tmr attempt;
	struct tmr again; /* records already decrypted wait for the next pass */
	char peer[64];	  /* addr as text */
	char in[IC_OUT_LINE_MAX + 1];
	size_t in_len;
	bool in_discard;
	char out[NET_OUT_MAX];
	size_t out_len;
};

static void tcp_event(int fd, int events, void *arg);

int net_new(struct net **np, struct loop *l, const struct net_handlers *h, void *arg)
{
	struct net *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->loop = l;
	n->h = *h;
	n->arg = arg;
	n->fd = n->ufd = -1;
	*np = n;
	return 0;
}

void net_set_tls(struct net *n, void *ctx)
{
	n->ctx = ctx;
}

void net_close(struct net *n)
{
	tmr_cancel(n->loop, &n->attempt);
	tmr_cancel(n->loop, &n->again);
	if (n->ssl) {
		if (!n->handshaking)
			(void)SSL_shutdown(n->ssl); /* close_notify, if it fits */
		SSL_free(n->ssl);
		n->ssl = NULL;
	}
	n->handshaking = n->want_write = false;
	if (n->fd >= 0) {
		loop_fd(n->loop, n->fd, 0, NULL, NULL);
		close(n->fd);
	}
	if (n->ufd >= 0) {
		loop_fd(n->loop, n->ufd, 0, NULL, NULL);
		close(n->ufd);
	}
	n->fd = n->ufd = -1;
	n->in_len = n->out_len = 0;
	n->in_discard = false;
}

void net_free(struct net *n)
{
	if (!n)
		return;
	net_close(n);
	free(n);
}

static void fail(struct net *n, const char *why)
{
	net_close(n);
	n->h.closed(n->arg, why);
}

/* TCP keepalive and a user timeout: the kernel too gives up on a peer that stopped
 * answering (probes after 10 s idle, every 5 s, 3 of them; unacknowledged data for 20
 * s), under the client's own 25 s deadline. */
static void keepalive(int fd)
{
	int one = 1, idle = 10, intvl = 5, cnt = 3;
	unsigned timeout_ms = 20000;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof(timeout_ms));
}

static void watch(struct net *n)
{
	bool w = n->connecting || n->want_write || (n->out_len && !n->handshaking);

	loop_fd(n->loop, n->fd, LOOP_READ | (w ? LOOP_WRITE : 0), tcp_event, n);
}

const char *net_strerror(int e)
{
	switch (e) {
	case -ENOENT:
		return "no such host name (check server in intercom.conf, or use an "
		       "address)";
	case -EAGAIN:
		return "the name cannot be looked up yet (no network or DNS)";
	default:
		return strerror(-e);
	}
}

unsigned net_addr_order(const struct addrinfo *res, struct sockaddr_storage *out,
			socklen_t *lens, unsigned max)
{
	const struct addrinfo *fam[2][NET_ADDRS_MAX];
	unsigned nf[2] = {0, 0}, n = 0, k[2] = {0, 0};
	int first = -1;

	/* RFC 8305 section 4: keep the resolver's order within each family, start with
	 * the family of its first answer, then alternate */
	for (const struct addrinfo *r = res; r; r = r->ai_next) {
		int f;

		if ((r->ai_family != AF_INET && r->ai_family != AF_INET6) ||
		    r->ai_addrlen > sizeof(*out))
			continue;
		f = r->ai_family == AF_INET6;
		if (first < 0)
			first = f;
		if (nf[f] < NET_ADDRS_MAX)
			fam[f][nf[f]++] = r;
	}
	for (int f = first; n < max && (k[0] < nf[0] || k[1] < nf[1]); f = !f) {
		if (f < 0 || k[f] >= nf[f])
			continue;
		memcpy(&out[n], fam[f][k[f]]->ai_addr, fam[f][k[f]]->ai_addrlen);
		lens[n++] = fam[f][k[f]]->ai_addrlen;
		k[f]++;
	}
	return n;
}

static void attempt_timeout(void *arg);

/* Connect to the next address; 0 when an attempt is under way, else the last error
 * (every address failed at once). */
static int try_next(struct net *n)
{
	int one = 1, e = -EHOSTUNREACH;

	while (n->next_addr < n->naddrs) {
		unsigned i = n->next_addr++;

		if (n->fd >= 0) {
			loop_fd(n->loop, n->fd, 0, NULL, NULL);
			close(n->fd);
		}
		n->fd = socket(n->addrs[i].ss_family,
			       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (n->fd < 0) {
			e = -errno;
			continue;
		}
		memcpy(&n->addr, &n->addrs[i], n->lens[i]);
		n->addrlen = n->lens[i];
		addr_text((struct sockaddr *)&n->addr, n->addrlen, n->peer,
			  sizeof(n->peer));
		setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		keepalive(n->fd);
		if (connect(n->fd, (struct sockaddr *)&n->addr, n->addrlen) &&
		    errno != EINPROGRESS) {
			e = -errno;
			close(n->fd);
			n->fd = -1;
			continue;
		}
		n->connecting = true;
		watch(n);
		tmr_start(n->loop, &n->attempt, NET_ATTEMPT_MS, attempt_timeout, n);
		return 0;
	}
	return e;
}

/* The attempt failed (refused, unreachable, timed out): the next address, or give up. */
static void attempt_failed(struct net *n, int err)
{
	tmr_cancel(n->loop, &n->attempt);
	if (n->next_addr < n->naddrs && try_next(n) == 0)
		return;
	fail(n, strerror(err));
}

static void attempt_timeout(void *arg)
{
	attempt_failed(arg, ETIMEDOUT);
}

int net_connect(struct net *n, const char *host, unsigned port)
{
	struct addrinfo hints, *res = NULL;
	char ps[8];
	int e;

	net_close(n);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%u", port);
	e = getaddrinfo(host, ps, &hints, &res);
	if (e)
		return e == EAI_NONAME	? -ENOENT
		       : e == EAI_AGAIN ? -EAGAIN
					: -EHOSTUNREACH;
	n->naddrs = net_addr_order(res, n->addrs, n->lens, NET_ADDRS_MAX);
	n->next_addr = 0;
	freeaddrinfo(res);
	return try_next(n);
}

const char *net_peer(const struct net *n)
{
	return n->peer;
}

/* Write from out: > 0 bytes taken, 0 when the socket (or OpenSSL) must wait, or -1 after
 * the connection failed. */
static ssize_t out_write(struct net *n)
{
	struct tlsstep_why why;
	enum tlsstep_io io;
	size_t w = 0;
	ssize_t r;

	if (!n->ssl) {
		r = send(n->fd, n->out, n->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r >= 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			return r < 0 ? 0 : r;
		fail(n, strerror(errno));
		return -1;
	}
	/* one record per call (partial writes on): a queue of lines is a few records */
	io = tlsstep_write(n->ssl, n->out, n->out_len, &w, &why);
	if (io == TLSSTEP_DONE)
		return (ssize_t)w;
	if (io != TLSSTEP_FAILED) {
		n->want_write = io == TLSSTEP_WANT_WRITE;
		return 0;
	}
	fail(n, why.text);
	return -1;
}

static void flush(struct net *n)
{
	n->want_write = false;
	while (n->out_len) {
		ssize_t w = out_write(n);

		if (w < 0)
			return;
		if (w == 0)
			break;
		memmove(n->out, n->out + w, n->out_len - (size_t)w);
		n->out_len -= (size_t)w;
	}
	watch(n);
}
int net_send(struct net *n, const char *line, size_t len)
{
	if (n->fd < 0 || n->connecting || n->handshaking)
		return -ENOTCONN;
	if (n->out_len + len > sizeof(n->out))
		return -ENOBUFS;
	memcpy(n->out + n->out_len, line, len);
	n->out_len += len;
	flush(n);
	return 0;
}

/* Hand over each whole line in `in`; 0, or -1 when a handler closed the connection. */
static int lines(struct net *n)
{
	char *start = n->in, *nl;

	while ((nl = memchr(start, '\n', n->in_len - (size_t)(start - n->in)))) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		if (!n->in_discard)
			n->h.line(n->arg, start);
		n->in_discard = false;
		start = nl + 1;
		if (n->fd < 0 || n->connecting) /* a handler closed (or reconnected) */
			return -1;
	}
	n->in_len -= (size_t)(start - n->in);
	memmove(n->in, start, n->in_len);
	if (n->in_len == sizeof(n->in) - 1) { /* over the protocol's 64 KiB: drop it */
		n->in_len = 0;
		n->in_discard = true;
	}
	return 0;
}

/* A TLS read pass's data: into `in`, a line at a time. Nonzero ends the pass (closed). */
static int take(void *arg, const char *buf, size_t len)
{
	struct net *n = arg;

	while (len) {
		size_t k = sizeof(n->in) - 1 - n->in_len;

		k = k < len ? k : len;
		memcpy(n->in + n->in_len, buf, k);
		n->in_len += k;
		buf += k;
		len -= k;
		if (lines(n))
			return -1;
	}
	return 0;
}

static void again(void *arg);

/* A TLS read pass (tlsstep_read: bounded, like the server's, so a server's flood of
 * records cannot hold the loop and starve the audio); records OpenSSL has already
 * decrypted, which select() cannot see, are read on the next loop pass. */
static void tls_lines(struct net *n)
{
	struct tlsstep_why why;
	enum tlsstep_io io = tlsstep_read(n->ssl, take, n, &why);
	char msg[300];

	if (n->fd < 0 || n->connecting)
		return;
	n->want_write = io == TLSSTEP_WANT_WRITE; /* a KeyUpdate's answer */
	if (n->want_write)
		watch(n);
	if (io == TLSSTEP_DONE && SSL_has_pending(n->ssl))
		tmr_start(n->loop, &n->again, 0, again, n);
	if (io != TLSSTEP_FAILED)
		return;
	if (why.end == TLSSTEP_CLOSED || why.end == TLSSTEP_EOF)
		snprintf(msg, sizeof(msg), "the server closed the connection");
	else if (why.end == TLSSTEP_PROTOCOL)
		snprintf(
		    msg, sizeof(msg),
		    "TLS record refused (not from the server whose key we checked?): "
		    "%s",
		    why.text);
	else
		snprintf(msg, sizeof(msg), "%s", why.text);
	fail(n, msg);
}

static void again(void *arg)
{
	tls_lines(arg);
}

/* Plain TCP (protocol 1.0): as many reads per pass as over TLS. */
static void plain_lines(struct net *n)
{
	for (int i = 0; i < IC_TLS_READS_PER_PASS; i++) {
		ssize_t r =
		    recv(n->fd, n->in + n->in_len, sizeof(n->in) - 1 - n->in_len, 0);

		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			fail(n, r == 0 ? "the server closed the connection"
				       : strerror(errno));
			return;
		}
		n->in_len += (size_t)r;
		if (lines(n))
			return;
	}
}

static void read_lines(struct net *n)
{
	if (n->ssl)
		tls_lines(n);
	else
		plain_lines(n);
}

static void up(struct net *n)
{
	watch(n);
	n->h.connected(n->arg);
}

static void handshake_timeout(void *arg)
{
	fail(arg, "no TLS handshake within 10 s (is this an intercomd?)");
}

/* The handshake done: the server's key is checked before anything is sent. */
static void handshake_done(struct net *n)
{
	char fp[IDENT_FP_LEN + 1], why[600];

	tmr_cancel(n->loop, &n->attempt);
	n->handshaking = false;
	if (tlsctx_peer(n->ssl, fp)) {
		fail(n, "the server presented no Ed25519 key: not an intercomd, or "
			"something between us");
		return;
	}
	why[0] = '\0';
	if (n->h.verify && n->h.verify(n->arg, fp, why, sizeof(why))) {
		fail(n, why[0] ? why : "the server's key is not trusted");
		return;
	}
	up(n);
}

/* What a failed handshake tells the person reading the box's log. Turning TLS off is
 * suggested only to a box whose server really answered in plaintext. */
static void handshake_failed(struct net *n, const struct tlsstep_why *why)
{
	char msg[400];

	if (why->end == TLSSTEP_PLAINTEXT)
		snprintf(
		    msg, sizeof(msg),
		    "TLS handshake failed: the server answered in plaintext, not TLS "
		    "%s: a server run with --tls off; run it with TLS (the default), "
		    "or set tls = off here too",
		    why->text + strcspn(why->text, "("));
	else if (why->end == TLSSTEP_HANDSHAKE_CLOSED)
		snprintf(
		    msg, sizeof(msg),
		    "TLS handshake failed: the server closed the connection during the "
		    "handshake (a server at its limit of handshakes at once, or one "
		    "that blocks this box's address after failed logins, does this: "
		    "see the server's log)");
	else
		snprintf(msg, sizeof(msg), "TLS handshake failed: %s", why->text);
	fail(n, msg);
}

static void handshake(struct net *n)
{
	struct tlsstep_why why;
	enum tlsstep_io io = tlsstep_handshake(n->ssl, &why);

	if (io == TLSSTEP_DONE) {
		handshake_done(n);
		return;
	}
	if (io == TLSSTEP_FAILED) {
		handshake_failed(n, &why);
		return;
	}
	n->want_write = io == TLSSTEP_WANT_WRITE;
	watch(n);
}

static void start_tls(struct net *n)
{
	n->ssl = SSL_new(n->ctx);
	if (!n->ssl || !SSL_set_fd(n->ssl, n->fd)) {
		fail(n, "out of memory for TLS");
		return;
	}
	SSL_set_connect_state(n->ssl);
	n->handshaking = true;
	tmr_start(n->loop, &n->attempt, IC_TLS_CLIENT_HANDSHAKE_MS, handshake_timeout, n);
	handshake(n);
}

static void tcp_event(int fd, int events, void *arg)
{
	struct net *n = arg;

	if (n->connecting) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) || err) {
			attempt_failed(n, err ? err : errno);
			return;
		}
		tmr_cancel(n->loop, &n->attempt);
		n->connecting = false;
		if (n->ctx)
			start_tls(n);
		else
			up(n);
		return;
	}
	if (n->handshaking) {
		handshake(n);
		return;
	}
	if ((events & LOOP_WRITE) || n->want_write)
		flush(n);
	if (n->fd >= 0 && (events & LOOP_READ))
		read_lines(n);
	if (n->fd >= 0 && n->out_len && !n->want_write)
		flush(n); /* a write that waited for a read (a KeyUpdate) */
}

static void udp_event(int fd, int events, void *arg)
{
	struct net *n = arg;
	uint8_t buf[2048];

	(void)events;
	for (int i = 0; i < 64; i++) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0)
			return;
		if ((size_t)r <= IC_RTP_MAX)
			n->h.voice(n->arg, buf, (size_t)r);
	}
}

int net_voice_open(struct net *n, unsigned port)
{
	struct sockaddr_storage a = n->addr;
	int e;

	if (n->ufd >= 0) {
		loop_fd(n->loop, n->ufd, 0, NULL, NULL);
		close(n->ufd);
	}
	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)port);
	n->ufd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->ufd < 0)
		return -errno;
	if (connect(n->ufd, (struct sockaddr *)&a, n->addrlen)) {
		e = -errno;
		close(n->ufd);
		n->ufd = -1;
		return e;
	}
	loop_fd(n->loop, n->ufd, LOOP_READ, udp_event, n);
	return 0;
}

void net_voice_send(struct net *n, const uint8_t *pkt, size_t len)
{
	if (n->ufd >= 0)
		(void)send(n->ufd, pkt, len, MSG_DONTWAIT);
}
