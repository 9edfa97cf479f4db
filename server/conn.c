/* conn.c: client connections, plain or TLS; see conn.h. */
#include "conn.h"

#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "guard.h"
#include "ident.h"
#include "ic_limits.h"
#include "log.h"
#include "tlsctx.h"
#include "tlsstep.h"

#define TLS_RECORD_TYPE_HANDSHAKE 0x16

enum conn_state {
	C_PLAIN,     /* --tls off: protocol 1.0 */
	C_PROBE,     /* TLS server: no byte yet */
	C_REFUSE,    /* plaintext to a TLS server: reading its first line */
	C_HANDSHAKE, /* TLS handshake in progress */
	C_TLS,	     /* lines over TLS */
	C_DONE,	     /* handed back to the hub to close: nothing more is read */
};

struct conn {
	struct transport tp;
	int fd;
	enum conn_state st;
	struct sess *s;
	struct conns *cs;
	SSL *ssl;
	struct addr_src src;
	struct tmr deadline;  /* the handshake's bound, or the plaintext line's */
	struct tmr again;     /* records already decrypted wait for the next pass */
	struct guard_link hs; /* counted in the handshake pool (guard.h) */
	bool wants_write;  /* the handshake, or a read, waits for the socket to drain */
	bool plain_out;	   /* its output goes in the clear: --tls off, or TLS_REQUIRED */
	size_t plain_seen; /* C_REFUSE: bytes of the first line read */
	/* C_TLS: bytes read beyond the lines' own that may still be spent (guard.h),
	 * and the lines' bytes this pass */
	struct guard_bucket overhead;
	size_t taken;
};

static void uncount(struct conn *c)
{
	guard_hs_done(hub_guard(c->cs->hub), &c->hs);
}

static void done(struct conn *c, const char *why)
{
	uncount(c);
	tmr_cancel(c->cs->loop, &c->deadline);
	tmr_cancel(c->cs->loop, &c->again);
	c->st = C_DONE;
	if (why)
		hub_hangup(c->cs->hub, c->s, why);
}

static ssize_t plain_send(struct conn *c, const void *buf, size_t len)
{
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static ssize_t conn_recv(struct transport *t, void *buf, size_t len)
{
	struct conn *c = (struct conn *)t;
	ssize_t n = recv(c->fd, buf, len, 0);

	return n < 0 ? -errno : n;
}

/* ---- the TLS steps (common/tlsstep.c) ---- */

/* A read pass's data goes to the hub. */
static int to_hub(void *arg, const char *buf, size_t len)
{
	struct conn *c = arg;

	c->taken += len;
	hub_input(c->cs->hub, c->s, buf, len, loop_now(c->cs->loop));
	return 0;
}

/* Why a TLS connection ended, as the hub logs it. */
static const char *ended(const struct tlsstep_why *why)
{
	switch (why->end) {
	case TLSSTEP_CLOSED:
		return "connection closed by client";
	case TLSSTEP_EOF:
		return "connection closed by client (without TLS close)";
	case TLSSTEP_SOCKET:
		return "read error";
	default:
		log_debug("TLS: %s", why->text);
		return "TLS error";
	}
}

/* ---- the transport ---- */

static ssize_t conn_send(struct transport *t, const void *buf, size_t len)
{
	struct conn *c = (struct conn *)t;
	struct tlsstep_why why;
	size_t n = 0;
	enum tlsstep_io io;

	if (c->plain_out)
		return plain_send(c, buf, len);
	if (c->st != C_TLS) /* nothing goes out in the clear once TLS is expected */
		return c->st == C_DONE ? -EPIPE : -ENOTCONN;
	io = tlsstep_write(c->ssl, buf, len, &n, &why);
	if (io == TLSSTEP_DONE)
		return (ssize_t)n;
	if (io != TLSSTEP_FAILED)
		return -EAGAIN;
	log_debug("TLS write failed: %s", why.text);
	return -EPIPE;
}

static void conn_close(struct transport *t, bool abort)
{
	struct conn *c = (struct conn *)t;
	struct conns *cs = c->cs;

	uncount(c);
	tmr_cancel(cs->loop, &c->deadline);
	tmr_cancel(cs->loop, &c->again);
	if (c->ssl) {
		if (!abort && c->st == C_TLS)
			SSL_shutdown(
			    c->ssl); /* close_notify: the client sees a clean end */
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	if (abort) { /* reset: the kernel discards what the client never read */
		struct linger lg = {1, 0};

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else {
		char sink[IC_LINE_MAX];

		/* whatever the client sent after what was read would make close() send
		 * a reset, which can destroy the last line in flight (TLS_REQUIRED
		 * after a pasted block): end our side first, then drop what is there */
		shutdown(c->fd, SHUT_WR);
		while (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	if (!cs->detached) {
		loop_fd(cs->loop, c->fd, 0, NULL, NULL);
		cs->by_fd[c->fd] = NULL;
	}
	close(c->fd);
	free(c);
}

static const struct transport_ops conn_ops = {conn_recv, conn_send, conn_close};

/* ---- per state ---- */

static void plain_event(struct conn *c, int events)
{
	struct hub *h = c->cs->hub;

	if (events & LOOP_WRITE)
		hub_flush(h, c->s);
	if (events & LOOP_READ) {
		char buf[4096];
		ssize_t n = conn_recv(&c->tp, buf, sizeof(buf));

		if (n > 0)
			hub_input(h, c->s, buf, (size_t)n, loop_now(c->cs->loop));
		else if (n == 0)
			hub_hangup(h, c->s, "connection closed by client");
		else if (n != -EAGAIN && n != -EINTR)
			hub_hangup(h, c->s, "read error");
	}
}

static void refuse_now(struct conn *c)
{
	c->cs->st.plain_refused++;
	c->plain_out = true; /* the one line a plaintext client can read */
	hub_tls_required(c->cs->hub, c->s);
	done(c, NULL);
}

static void plain_wait_over(void *arg)
{
	refuse_now(arg);
}

static void refuse_event(struct conn *c, int events)
{
	char buf[IC_LINE_MAX];
	ssize_t n;

	if (!(events & LOOP_READ))
		return;
	n = recv(c->fd, buf, sizeof(buf) - c->plain_seen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->plain_seen += (size_t)n;
	if (n <= 0 || memchr(buf, '\n', (size_t)n) || c->plain_seen >= sizeof(buf))
		refuse_now(c);
}

static void tls_read(struct conn *c);

/* A handshake that began (0x16) and did not complete: counted, a failed login at its
 * source (section 3), closed. */
static void handshake_failed(struct conn *c, const char *why)
{
	c->cs->st.handshake_failed++;
	hub_handshake_failed(c->cs->hub, c->s, loop_now(c->cs->loop));
	done(c, why);
}

static void handshake_step(struct conn *c)
{
	char fp[IDENT_FP_LEN + 1];
	struct tlsstep_why why;
	enum tlsstep_io io;
	int r;

	if (c->cs->steps ==
	    0) /* the next pass: voice first (the socket stays readable) */
		return;
	c->cs->steps--;
	io = tlsstep_handshake(c->ssl, &why);
	c->wants_write = io == TLSSTEP_WANT_WRITE;
	if (io == TLSSTEP_FAILED) {
		log_debug("TLS handshake failed: %s", why.text);
		handshake_failed(c, "TLS handshake failed");
	}
	if (io != TLSSTEP_DONE)
		return;
	r = tlsctx_peer(c->ssl, fp);
	if (r == -EINVAL) { /* a certificate, but not a key that can be an identity */
		handshake_failed(c, "client certificate key is not Ed25519");
		return;
	}
	if (r)
		fp[0] = '\0';
	c->cs->st.handshakes++;
	uncount(c);
	tmr_cancel(c->cs->loop, &c->deadline);
	c->st = C_TLS;
	guard_overhead_init(&c->overhead, loop_now(c->cs->loop));
	hub_secure(c->cs->hub, c->s, fp[0] ? fp : NULL, loop_now(c->cs->loop));
	tls_read(c); /* CONNECT may have come with the client's Finished */
}

static void tls_start(struct conn *c)
{
	c->ssl = SSL_new(c->cs->tls);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
		done(c, "out of memory for TLS");
		return;
	}
	SSL_set_accept_state(c->ssl);
	c->st = C_HANDSHAKE;
	handshake_step(c);
}

/* The text of c's source, for a log line. */
static void src_text(const struct conn *c, char *buf, size_t size)
{
	addr_source_text(&c->src, buf, size);
}

/* c's first byte, 0x16, came: it counts in the handshake pool from now (a connection
 * that sends nothing holds no handshake slot). When the pool is full the newcomer takes
 * the place of the oldest handshake of the source holding the most (at least two more
 * than its own), which is closed and counted; else it is refused. True when c may go
 * on. */
static bool handshake_room(struct conn *c)
{
	struct guard *g = hub_guard(c->cs->hub);
	struct guard_link *victim;
	bool log_it;
	char src[64];
	int r = guard_hs_room(g, &c->src, loop_now(c->cs->loop), &victim, &log_it);

	if (r == 1) {
		struct conn *v =
		    (struct conn *)(void *)((char *)victim - offsetof(struct conn, hs));

		c->cs->st.handshake_evicted++;
		if (log_it) {
			src_text(v, src, sizeof(src));
			log_warn(
			    "TLS handshakes from %s closed for newcomers: the pool of "
			    "%d is full and it holds the most (logged once a minute)",
			    src, IC_TLS_HANDSHAKES_MAX);
		}
		done(v,
		     "TLS handshake closed for a newcomer (its address held the most)");
	}
	if (r >= 0 && !guard_hs_open(g, &c->src, &c->hs))
		return true;
	c->cs->st.handshake_refused++;
	src_text(c, src, sizeof(src));
	log_debug("connection from %s closed: too many TLS handshakes at once", src);
	done(c, "too many TLS handshakes at once");
	return false;
}

static void probe_event(struct conn *c, int events)
{
	unsigned char b;
	ssize_t n;

	if (!(events & LOOP_READ))
		return;
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		done(c, n == 0 ? "connection closed by client" : "read error");
		return;
	}
	if (b == TLS_RECORD_TYPE_HANDSHAKE) {
		if (handshake_room(c))
			tls_start(c);
		return;
	}
	c->st = C_REFUSE; /* plaintext: no handshake to bound, the line has its own */
	tmr_start(c->cs->loop, &c->deadline, IC_TLS_PLAIN_WAIT_MS, plain_wait_over, c);
	refuse_event(c, LOOP_READ);
}

static void again(void *arg)
{
	tls_read(arg);
}

/* Bounded bites: records already inside OpenSSL are read on the next pass. */
static void tls_read(struct conn *c)
{
	struct tlsstep_why why;
	enum tlsstep_io io;
	uint64_t wire;

	if (c->st != C_TLS)
		return;
	wire = BIO_number_read(SSL_get_rbio(c->ssl));
	c->taken = 0;
	io = tlsstep_read(c->ssl, to_hub, c, &why);
	wire = BIO_number_read(SSL_get_rbio(c->ssl)) - wire;
	c->wants_write = io == TLSSTEP_WANT_WRITE; /* a KeyUpdate's answer */
	if (io == TLSSTEP_FAILED)
		done(c, ended(&why));
	else if (c->st == C_TLS && !guard_overhead_spend(&c->overhead, wire, c->taken,
							 loop_now(c->cs->loop)))
		done(c, "flood of TLS records without lines");
	else if (io == TLSSTEP_DONE && c->st == C_TLS && SSL_has_pending(c->ssl))
		tmr_start(c->cs->loop, &c->again, 0, again, c);
}

static void handshake_event(struct conn *c, int events)
{
	(void)events;
	handshake_step(c);
}

static void tls_event(struct conn *c, int events)
{
	if ((events & LOOP_WRITE) && c->wants_write)
		tls_read(c);
	if ((events & LOOP_WRITE) && c->st == C_TLS)
		hub_flush(c->cs->hub, c->s);
	if ((events & LOOP_READ) && c->st == C_TLS)
		tls_read(c);
}

static void done_event(struct conn *c, int events)
{
	(void)c, (void)events;
}

static void (*const on_event[])(struct conn *, int) = {
    [C_PLAIN] = plain_event,	     [C_PROBE] = probe_event, [C_REFUSE] = refuse_event,
    [C_HANDSHAKE] = handshake_event, [C_TLS] = tls_event,     [C_DONE] = done_event,
};

static void conn_event(int fd, int events, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	on_event[c->st](c, events);
}

static void deadline(void *arg)
{
	struct conn *c = arg;

	if (c->st == C_PROBE) {
		c->cs->st.silent_closed++;
		done(c, "sent nothing within 10 s");
	} else {
		handshake_failed(c, "TLS handshake not finished within 10 s");
	}
}

/* ---- the table ---- */

/* A source blocked for failed logins (guard.h) is closed before any byte: it costs no
 * handshake, no signature and no slot. False for it (counted), true otherwise. */
static bool accept_allowed(struct conns *cs, const struct addr_src *src)
{
	char text[64];

	if (!guard_blocked(hub_guard(cs->hub), src, loop_now(cs->loop)))
		return true;
	cs->st.blocked_refused++;
	addr_source_text(src, text, sizeof(text));
	log_debug("connection from %s closed on accept: its address is blocked", text);
	return false;
}

/* The table is full and nobody holds more than their share: counted, and logged once a
 * minute (a host reconnecting in a loop must not become a flood of log lines). */
static void table_full(struct conns *cs, const struct sockaddr_storage *from,
		       socklen_t fromlen)
{
	char peer[64];
	uint64_t now = loop_now(cs->loop);

	cs->st.table_refused++;
	if (cs->full_logged && now < cs->full_logged_ms + IC_GUARD_LOG_MS)
		return;
	cs->full_logged = true;
	cs->full_logged_ms = now;
	addr_text((const struct sockaddr *)from, fromlen, peer, sizeof(peer));
	log_warn("connection from %s refused: too many connections (max-clients + %d; "
		 "logged once a minute)",
		 peer, IC_RAW_SPARE);
}

void conns_accept(struct conns *cs, int fd, const struct sockaddr_storage *from,
		  socklen_t fromlen)
{
	struct addr_src src;
	struct conn *c = NULL;
	int one = 1, sndbuf = IC_SOCK_SNDBUF, e;

	if (fd >= FD_SETSIZE) {
		log_warn("connection refused: descriptor %d beyond select()'s limit", fd);
		goto refuse;
	}
	addr_source((const struct sockaddr *)from, fromlen, &src);
	if (cs->tls && !accept_allowed(cs, &src))
		goto refuse;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto refuse;
	c->tp.ops = &conn_ops;
	c->fd = fd;
	c->cs = cs;
	c->src = src;
	c->st = cs->tls ? C_PROBE : C_PLAIN;
	c->plain_out = !cs->tls;
	e = hub_open(cs->hub, &c->tp, (const struct sockaddr *)from, fromlen,
		     loop_now(cs->loop), &c->s);
	if (e == -EMFILE)
		table_full(cs, from, fromlen);
	if (e)
		goto refuse;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	cs->by_fd[fd] = c;
	if (fd > cs->maxfd)
		cs->maxfd = fd;
	if (cs->tls) /* the handshake's bound runs from the accept, silence included */
		tmr_start(cs->loop, &c->deadline, IC_TLS_HANDSHAKE_MS, deadline, c);
	loop_fd(cs->loop, fd, LOOP_READ, conn_event, c);
	return;
refuse:
	close(fd);
	free(c);
}

void conns_before_sleep(struct conns *cs)
{
	cs->steps = IC_TLS_STEPS_PER_PASS;
	for (int fd = 0; fd <= cs->maxfd; fd++) {
		struct conn *c = cs->by_fd[fd];
		int ev;

		if (!c)
			continue;
		ev = c->st == C_DONE ? 0 : LOOP_READ;
		if (c->wants_write ||
		    ((c->st == C_PLAIN || c->st == C_TLS) && hub_pending(c->s)))
			ev |= LOOP_WRITE;
		loop_fd(cs->loop, fd, ev, conn_event, c);
	}
	while (cs->maxfd >= 0 && !cs->by_fd[cs->maxfd])
		cs->maxfd--;
}

void conns_detach(struct conns *cs)
{
	cs->detached = true;
}
