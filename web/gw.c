#include "gw_int.h"

#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ca.h"
#include "log.h"
#include "tlsctx.h"
#include "tlsstep.h"

static void conn_event(int fd, int events, void *arg);

static void watch(struct conn *c, bool want_write)
{
	loop_fd(c->gw->loop, c->fd, LOOP_READ | (want_write ? LOOP_WRITE : 0), conn_event,
		c);
}

static void reap(void *arg)
{
	struct conn *c = arg;
	struct gw *g = c->gw;

	tmr_cancel(g->loop, &c->tmr);
	guard_hs_done(g->guard, &c->hs);
	guard_pending_done(g->guard, &c->pend);
	gw_ws_free(c);
	if (c->body) {
		fclose(c->body);
		unlink(c->body_path);
	}
	SSL_free(c->ssl);
	close(c->fd);
	for (unsigned i = 0; i < g->nconns; i++)
		if (g->conns[i] == c) {
			g->conns[i] = g->conns[--g->nconns];
			break;
		}
	free(c->out);
	free(c);
}

void gw_close(struct conn *c, const char *why)
{
	if (c->st == C_CLOSING)
		return;
	guard_hs_done(c->gw->guard, &c->hs); /* a newcomer may take it now */
	log_debug("%s: closed: %s", c->peer, why);
	c->st = C_CLOSING;
	loop_fd(c->gw->loop, c->fd, 0, NULL, NULL);
	tmr_start(c->gw->loop, &c->tmr, 0, reap, c);
}

static void flush(struct conn *c)
{
	struct tlsstep_why why;
	size_t done = 0, wrote;
	enum tlsstep_io io = TLSSTEP_DONE;

	c->tls_want_write = false;
	while (done < c->out_len && c->st != C_CLOSING) {
		size_t n = c->out_len - done;

		if (c->ssl) {
			io = tlsstep_write(c->ssl, c->out + done, n > 16384 ? 16384 : n,
					   &wrote, &why);
			if (io == TLSSTEP_FAILED) {
				gw_close(c, why.text);
				return;
			}
			if (io != TLSSTEP_DONE) {
				c->tls_want_write = io == TLSSTEP_WANT_WRITE;
				break;
			}
		} else {
			ssize_t w = write(c->fd, c->out + done, n);

			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (w <= 0) {
				gw_close(c, "write failed");
				return;
			}
			wrote = (size_t)w;
		}
		done += wrote;
	}
	memmove(c->out, c->out + done, c->out_len - done);
	c->out_len -= done;
	if (c->st == C_CLOSING)
		return;
	if (c->close_after && !c->out_len) {
		gw_close(c, "response sent");
		return;
	}
	watch(c, c->out_len > 0 || c->tls_want_write);
}

int gw_send(struct conn *c, const void *p, size_t len)
{
	if (c->st == C_CLOSING)
		return -ENOTCONN;
	if (len > WEB_OUTQ_MAX - c->out_len) {
		log_info("%s%s%s: not reading (over %d bytes unsent): closed", c->peer,
			 c->user[0] ? " " : "", c->user, WEB_OUTQ_MAX);
		gw_close(c, "not reading");
		return -ENOBUFS;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		uint8_t *o;

		while (cap < c->out_len + len)
			cap *= 2;
		o = realloc(c->out, cap);
		if (!o) {
			gw_close(c, "out of memory");
			return -ENOMEM;
		}
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	if (!c->tls_want_write)
		flush(c);
	return c->st == C_CLOSING ? -ENOTCONN : 0;
}

void gw_close_after(struct conn *c)
{
	c->close_after = true;
	flush(c);
}

static void timeout(void *arg)
{
	struct conn *c = arg;

	if (c->st == C_WS)
		gw_ws_tick(c);
	else
		gw_close(c, "no request within the time allowed");
}

/* The bytes in c->in, as far as they make heads, bodies or frames. */
static void process(struct conn *c)
{
	struct http_req r;
	size_t used;
	int n;

	while (c->in_len && c->st != C_CLOSING && !c->close_after) {
		if (c->st == C_HTTP) {
			n = http_parse((const char *)c->in, c->in_len, &r);
			if (n == 0)
				return;
			if (n < 0) {
				gw_respond(c,
					   n == -EMSGSIZE  ? 431
					   : n == -ENOTSUP ? 505
							   : 400,
					   "text/plain", "", "bad request\n", 12);
				gw_close_after(c);
				return;
			}
			used = (size_t)n;
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
			tmr_start(c->gw->loop, &c->tmr, WEB_HANDSHAKE_MS, timeout, c);
			if (gw_request(c, &r))
				return;
			continue;
		}
		if (c->st == C_BODY) {
			used = c->in_len < (size_t)c->body_left ? c->in_len
								: (size_t)c->body_left;
			gw_body(c, c->in, used);
		} else {
			n = gw_ws_input(c);
			if (n <= 0)
				return;
			used = (size_t)n;
		}
		if (c->st == C_CLOSING)
			return;
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
}

static int take(void *arg, const char *buf, size_t len)
{
	struct conn *c = arg;

	while (len && c->st != C_CLOSING) {
		size_t n = sizeof(c->in) - c->in_len;

		if (n == 0) { /* a frame or head bigger than we hold: refused by now */
			gw_close(c, "input over its bound");
			break;
		}
		if (n > len)
			n = len;
		memcpy(c->in + c->in_len, buf, n);
		c->in_len += n;
		buf += n;
		len -= n;
		process(c);
	}
	return c->st == C_CLOSING;
}

static void handshake(struct conn *c)
{
	struct tlsstep_why why;
	enum tlsstep_io io = tlsstep_handshake(c->ssl, &why);

	if (io == TLSSTEP_FAILED) {
		gw_close(c, why.text);
		return;
	}
	if (io != TLSSTEP_DONE) {
		watch(c, io == TLSSTEP_WANT_WRITE);
		return;
	}
	guard_hs_done(c->gw->guard, &c->hs);
	c->st = C_HTTP;
	watch(c, false);
}

static void readable(struct conn *c)
{
	struct tlsstep_why why;
	char buf[4096];

	c->last_rx = loop_now(c->gw->loop);
	if (c->ssl) {
		enum tlsstep_io io = tlsstep_read(c->ssl, take, c, &why);

		if (io == TLSSTEP_FAILED)
			gw_close(c, why.text);
		else if (io == TLSSTEP_WANT_WRITE && c->st != C_CLOSING)
			watch(c, true);
		return;
	}
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		gw_close(c, "closed by the browser");
	else if (n > 0)
		take(c, buf, (size_t)n);
}

static void conn_event(int fd, int events, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	if (c->st == C_HANDSHAKE) {
		handshake(c);
		return;
	}
	if (events & LOOP_WRITE)
		flush(c);
	if ((events & LOOP_READ) && c->st != C_CLOSING)
		readable(c);
	/* records OpenSSL already decrypted wait for no socket event */
	if (c->st != C_CLOSING && c->ssl && SSL_has_pending(c->ssl))
		readable(c);
}

/* The link's connection (l is its hs or pend member, at offset off). */
static struct conn *conn_of(struct guard_link *l, size_t off)
{
	return (struct conn *)(void *)((char *)l - off);
}

/* A slot for a newcomer from src when every one is taken: one already leaving is freed
 * now; else the oldest connection not yet a WebSocket of the source holding the most (two
 * more than src's at least) is closed and freed now, so one host's idle connections, from
 * however many addresses, cannot keep a phone out. True when a slot was freed. */
static bool make_room(struct gw *g, const struct addr_src *src, uint64_t now)
{
	bool log_it = false;
	struct guard_link *l;
	struct conn *v;

	for (unsigned i = 0; i < g->nconns; i++)
		if (g->conns[i]->st == C_CLOSING) { /* already leaving: its slot now */
			reap(g->conns[i]);
			return true;
		}
	l = guard_pending_victim(g->guard, src, now, &log_it);
	if (!l)
		return false;
	v = conn_of(l, offsetof(struct conn, pend));
	if (log_it)
		log_warn(
		    "connections from %s closed for newcomers: every one of %u is taken "
		    "and it holds the most not yet a WebSocket (logged once a minute)",
		    v->peer, g->cfg->max_browsers);
	gw_close(v, "closed for a newcomer: its address held the most");
	reap(v); /* its slot now: we are not inside its event */
	return true;
}

/* Room for a TLS handshake from c's source (server/guard's pool, as intercomd's): when
 * the pool is full, the oldest handshake of the source holding the most is closed for
 * it. True when c counts and may go on. */
static bool handshake_room(struct gw *g, struct conn *c, uint64_t now)
{
	struct guard_link *l;
	bool log_it;
	int r = guard_hs_room(g->guard, &c->src, now, &l, &log_it);

	if (r == 1) {
		struct conn *v = conn_of(l, offsetof(struct conn, hs));

		if (log_it)
			log_warn(
			    "TLS handshakes from %s closed for newcomers: the pool of %d "
			    "is full and it holds the most (logged once a minute)",
			    v->peer, WEB_HANDSHAKES_MAX);
		gw_close(v, "TLS handshake closed for a newcomer");
		reap(v);
	}
	return r >= 0 && !guard_hs_open(g->guard, &c->src, &c->hs);
}

static void accept_one(struct gw *g, int lfd, bool landing)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC),
	    one = 1, sndbuf = WEB_SOCK_SNDBUF;
	uint64_t now = loop_now(g->loop);
	struct conn *c;
	bool log_it;

	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c || addr_source((struct sockaddr *)&sa, sl, &c->src) ||
	    (g->nconns >= g->cfg->max_browsers && !make_room(g, &c->src, now)) ||
	    guard_pending_open(g->guard, &c->src, now, &c->pend, &log_it) ||
	    (!landing && (!handshake_room(g, c, now) || !(c->ssl = SSL_new(g->bctx))))) {
		if (c) { /* bounded: the others' connections go on */
			guard_hs_done(g->guard, &c->hs);
			guard_pending_done(g->guard, &c->pend);
		}
		free(c);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	c->gw = g;
	c->fd = fd;
	c->landing = landing;
	c->last_rx = now;
	addr_text((struct sockaddr *)&sa, sl, c->peer, sizeof(c->peer));
	g->conns[g->nconns++] = c;
	tmr_start(g->loop, &c->tmr, WEB_HANDSHAKE_MS, timeout, c);
	if (landing) {
		c->st = C_HTTP;
		watch(c, false);
		return;
	}
	SSL_set_fd(c->ssl, fd);
	SSL_set_accept_state(c->ssl);
	handshake(c);
}

static void listen_event(int fd, int events, void *arg)
{
	struct gw *g = arg;

	(void)events;
	accept_one(g, fd, fd == g->hfd);
}

/* A listening socket on port (0: any; the port taken into *bound), IPv6 and IPv4. */
static int listen_on(unsigned port, unsigned *bound)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1,
	    zero = 0, e;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&a, &al)) {
		e = -errno;
		close(fd);
		return e;
	}
	*bound = ntohs(a.sin6_port);
	return fd;
}

/* Toward browsers: TLS 1.2 and 1.3 (Safari is reported to fail WebSocket against
 * 1.3-only servers), forward-secret AEAD suites only, no tickets, the CA in the chain. */
static int browser_ctx(struct gw *g)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return -ENOMEM;
	g->bctx = ctx;
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
				     SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY); /* tlsstep's bounded passes */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
					  "ECDHE-ECDSA-CHACHA20-POLY1305:"
					  "ECDHE-ECDSA-AES256-GCM-SHA384") ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256") ||
	    !SSL_CTX_use_certificate(ctx, ca_server_cert(g->ca)) ||
	    !SSL_CTX_use_PrivateKey(ctx, ca_server_key(g->ca)) ||
	    !SSL_CTX_add1_chain_cert(ctx, ca_cert(g->ca)))
		return -EIO;
	return 0;
}

static void recheck(void *arg)
{
	struct gw *g = arg;
	bool any = false;

	for (unsigned i = 0; i < g->nconns; i++)
		any |= g->conns[i]->st == C_WS;
	if (any)
		gw_ws_recheck(g);
	tmr_start(g->loop, &g->recheck, WEB_RECHECK_MS, recheck, g);
}

static int start(struct gw *g, const struct gw_cfg *c)
{
	char err[600];
	int e;

	e = ca_load(&g->ca, c->state_dir, c->names, err, sizeof(err));
	if (e) {
		log_err("%s", err);
		return e == -EINVAL ? 2 : 1;
	}
	if (browser_ctx(g)) {
		log_err("cannot set up TLS toward browsers: %s", tlsctx_error());
		return 1;
	}
	g->lfd = listen_on(c->port, &g->port);
	g->hfd = g->lfd < 0 ? -1 : listen_on(c->http_port, &g->http_port);
	if (g->lfd < 0 || g->hfd < 0) {
		log_err(
		    "cannot listen on port %u or %u: %s (another program there? set port "
		    "and http_port)",
		    c->port, c->http_port, strerror(-(g->lfd < 0 ? g->lfd : g->hfd)));
		return 1;
	}
	loop_fd(g->loop, g->lfd, LOOP_READ, listen_event, g);
	loop_fd(g->loop, g->hfd, LOOP_READ, listen_event, g);
	tmr_start(g->loop, &g->recheck, WEB_RECHECK_MS, recheck, g);
	log_info("https and WebSocket on port %u, the CA's landing page on "
		 "http port %u; intercomd at %s:%u; CA %s",
		 g->port, g->http_port, c->server, c->server_port, ca_fingerprint(g->ca));
	return 0;
}

int gw_run(const struct gw_cfg *c, volatile sig_atomic_t *quit, const sigset_t *block)
{
	struct gw g = {.cfg = c, .lfd = -1, .hfd = -1};
	int rc;

	if (loop_new(&g.loop))
		return 1;
	if (guard_new(&g.guard, 0)) {
		loop_free(g.loop);
		return 1;
	}
	guard_hs_limits(g.guard, WEB_HANDSHAKES_MAX, WEB_HANDSHAKES_PER_SOURCE);
	rc = start(&g, c);
	if (!rc && loop_run(g.loop, quit, block))
		rc = 1;
	while (g.nconns) {
		gw_close(g.conns[0], "stopping");
		reap(g.conns[0]);
	}
	if (g.lfd >= 0)
		close(g.lfd);
	if (g.hfd >= 0)
		close(g.hfd);
	tmr_cancel(g.loop, &g.recheck);
	SSL_CTX_free(g.bctx);
	ca_free(g.ca);
	guard_free(g.guard);
	loop_free(g.loop);
	return rc;
}
