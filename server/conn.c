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

#define TLS_RECORD_TYPE_HANDSHAKE 0x16
#define TLS_RECORD_MAX		  16384 /* plaintext bytes in one record */

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

/* ---- the TLS steps, on any SSL (conn.h) ---- */

ssize_t conn_tls_write(void *ssl, const void *buf, size_t len)
{
	/* one record at a time: a retry after WANT_WRITE then never asks for less than
	 * the last try did (the queue only grows), as OpenSSL requires */
	int n = SSL_write(ssl, buf, (int)(len > TLS_RECORD_MAX ? TLS_RECORD_MAX : len)),
	    e;

	if (n > 0)
		return n;
	e = SSL_get_error(ssl, n);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
		return -EAGAIN;
	log_debug("TLS write failed: %s", tlsctx_error());
	return -EPIPE;
}

/* What SSL_get_error says of a failed call: the socket it waits for, or a failure. */
static enum conn_io io_wait(void *ssl, int r)
{
	int e = SSL_get_error(ssl, r);

	return e == SSL_ERROR_WANT_READ	   ? CONN_IO_WANT_READ
	       : e == SSL_ERROR_WANT_WRITE ? CONN_IO_WANT_WRITE
					   : CONN_IO_FAILED;
}

enum conn_io conn_tls_handshake(void *ssl, char *fp, const char **why)
{
	int r = SSL_do_handshake(ssl);
	enum conn_io io;

	if (r != 1) {
		io = io_wait(ssl, r);
		if (io == CONN_IO_FAILED) {
			log_debug("TLS handshake failed: %s", tlsctx_error());
			*why = "TLS handshake failed";
		}
		return io;
	}
	r = tlsctx_peer(ssl, fp);
	if (r == -EINVAL) { /* a certificate, but not a key that can be an identity */
		*why = "client certificate key is not Ed25519";
		return CONN_IO_FAILED;
	}
	if (r)
		fp[0] = '\0';
	return CONN_IO_DONE;
}

enum conn_io conn_tls_read(void *ssl, struct hub *h, struct sess *s, uint64_t now,
			   const char **why)
{
	for (int i = 0; i < IC_TLS_READS_PER_PASS; i++) {
		char buf[4096];
		int n = SSL_read(ssl, buf, sizeof(buf)), e;

		if (n > 0) {
			hub_input(h, s, buf, (size_t)n, now);
			continue;
		}
		if (io_wait(ssl, n) != CONN_IO_FAILED)
			return io_wait(ssl, n);
		e = SSL_get_error(ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN) {
			*why = "connection closed by client";
		} else if (e == SSL_ERROR_SYSCALL && n == 0) {
			ERR_clear_error();
			*why = "connection closed by client (without TLS close)";
		} else {
			log_debug("TLS read failed: %s", tlsctx_error());
			*why = "TLS error";
		}
		return CONN_IO_FAILED;
	}
	return CONN_IO_DONE;
}

/* ---- the transport ---- */

static ssize_t conn_send(struct transport *t, const void *buf, size_t len)
{
	struct conn *c = (struct conn *)t;

	if (c->plain_out)
		return plain_send(c, buf, len);
	if (c->st != C_TLS) /* nothing goes out in the clear once TLS is expected */
		return c->st == C_DONE ? -EPIPE : -ENOTCONN;
	return conn_tls_write(c->ssl, buf, len);
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
	const char *why = NULL;
	enum conn_io io;

	if (c->cs->steps ==
	    0) /* the next pass: voice first (the socket stays readable) */
		return;
	c->cs->steps--;
	io = conn_tls_handshake(c->ssl, fp, &why);
	c->wants_write = io == CONN_IO_WANT_WRITE;
	if (io == CONN_IO_FAILED)
		handshake_failed(c, why);
	if (io != CONN_IO_DONE)
		return;
	c->cs->st.handshakes++;
	uncount(c);
	tmr_cancel(c->cs->loop, &c->deadline);
	c->st = C_TLS;
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
	const char *why = NULL;
	enum conn_io io;

	if (c->st != C_TLS)
		return;
	io = conn_tls_read(c->ssl, c->cs->hub, c->s, loop_now(c->cs->loop), &why);
	c->wants_write = io == CONN_IO_WANT_WRITE; /* a KeyUpdate's answer */
	if (io == CONN_IO_FAILED)
		done(c, why);
	else if (io == CONN_IO_DONE && SSL_has_pending(c->ssl))
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
