#include "vclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchutil.h"
#include "ident.h"
#include "msg.h"
#include "rtp.h"
#include "tlsctx.h"

#define VCLI_PAYLOAD_MAX 512

void *vcli_tls_ctx(void)
{
	void *ctx = NULL;
	char err[256];

	if (tlsctx_new_keys(&ctx, NULL, NULL, false, err, sizeof(err))) {
		fprintf(stderr, "vclient: %s\n", err);
		return NULL;
	}
	return ctx;
}

int vcli_init(struct vcli *c, const char *nick, const char *src, int room, bool tls)
{
	memset(c, 0, sizeof(*c));
	c->fd = c->ufd = -1;
	c->room = room;
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	snprintf(c->src, sizeof(c->src), "%s", src ? src : "");
	return tls ? vcli_identity(&c->key, &c->cert, nick) : 0;
}

int vcli_identity(void **key, void **cert, const char *cn)
{
	*key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	*cert = *key ? ident_new_cert(*key, cn) : NULL;
	return *cert ? 0 : -1;
}

void vcli_identity_free(void *key, void *cert)
{
	X509_free(cert);
	EVP_PKEY_free(key);
}

void *vcli_tls_handshake(void *ctx, int fd, void *key, void *cert)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_use_certificate(ssl, cert) != 1 ||
	    SSL_use_PrivateKey(ssl, key) != 1 || SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	return ssl;
}

int vcli_tls_write(void *ssl, int fd, const void *buf, size_t len)
{
	for (int i = 0; i < 100; i++) {
		int n = SSL_write(ssl, buf, (int)len), e;
		struct pollfd p = {fd, POLLOUT, 0};

		if (n > 0)
			return 0;
		e = SSL_get_error(ssl, n);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
			break;
		poll(&p, 1, 10);
	}
	ERR_clear_error();
	return -1;
}

int vcli_voice_keys(const char *args, uint32_t *ssrc, struct vc **c2s, struct vc **s2c)
{
	struct vc_key k1, k2;
	unsigned port;
	int e = msg_parse_voice_tls(args, &port, ssrc, &k1, &k2) ||
		vc_new(c2s, &k1, true) || vc_new(s2c, &k2, false);

	vc_key_wipe(&k1);
	vc_key_wipe(&k2);
	return e ? -1 : 0;
}

static struct sockaddr_in addr_of(const struct vcli *c, unsigned port)
{
	struct sockaddr_in a = bench_lo(port);

	if (c->src[0])
		inet_pton(AF_INET, c->src, &a.sin_addr);
	return a;
}

int vcli_open(struct vcli *c, void *ctx, unsigned port)
{
	struct sockaddr_in to = bench_lo(port), from = addr_of(c, 0);

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	c->ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0 || c->ufd < 0 ||
	    bind(c->fd, (struct sockaddr *)&from, sizeof(from)) ||
	    bind(c->ufd, (struct sockaddr *)&from, sizeof(from)) ||
	    (connect(c->fd, (struct sockaddr *)&to, sizeof(to)) &&
	     errno != EINPROGRESS)) {
		vcli_close(c);
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	if (ctx) {
		c->ssl = SSL_new(ctx);
		if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) ||
		    SSL_use_certificate(c->ssl, c->cert) != 1 ||
		    SSL_use_PrivateKey(c->ssl, c->key) != 1) {
			vcli_close(c);
			return -1;
		}
		SSL_set_connect_state(c->ssl);
	}
	c->st = VCLI_CONNECTING;
	c->tcp_up = false;
	c->in_len = 0;
	c->voice = c->registered = false;
	c->joins = 0;
	c->seq = 0;
	c->ctr = 0;
	return 0;
}

void vcli_close(struct vcli *c)
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
	c->st = VCLI_CLOSED;
	ERR_clear_error();
}

void vcli_free(struct vcli *c)
{
	vcli_close(c);
	vcli_identity_free(c->key, c->cert);
	c->cert = c->key = NULL;
}

/* A short line, all of it: over TLS a write that waits for the socket waits here (lines
 * are tiny, so it seldom does). */
static void send_line(struct vcli *c, const char *s)
{
	size_t len = strlen(s);

	if (!c->ssl) {
		if (send(c->fd, s, len, MSG_NOSIGNAL) != (ssize_t)len)
			fprintf(stderr, "vclient: %s: short send\n", c->nick);
		return;
	}
	if (!vcli_tls_write(c->ssl, c->fd, s, len))
		return;
	fprintf(stderr, "vclient: %s: TLS write failed\n", c->nick);
}

static void logged_in_line(struct vcli *c, char *line)
{
	unsigned port;

	if (!strncmp(line, "PING: ", 6)) {
		char pong[64];

		snprintf(pong, sizeof(pong), "PONG: %s\n", line + 6);
		send_line(c, pong);
	} else if (!strncmp(line, "VOICE: ", 7) && !c->ssl) {
		c->voice = !msg_parse_voice(line + 7, &port, &c->ssrc, c->token);
	} else if (!strncmp(line, "VOICE: ", 7)) {
		c->voice = !vcli_voice_keys(line + 7, &c->ssrc, &c->c2s, &c->s2c);
		ctrwin_init(&c->win);
	} else if (!strncmp(line, "JOINED: ", 8)) {
		c->joins++;
		if (c->room >= 0 && !strcmp(line, "JOINED: #Lobby")) {
			/* straight on to its room: a #Lobby of 1000 would cost every
			 * login a USERLIST to everyone */
			char j[64];

			snprintf(j, sizeof(j), "JOIN: #r%d\nPART: #Lobby\n", c->room);
			send_line(c, j);
		}
		if (c->joins >= (c->room >= 0 ? 2u : 1u))
			c->st = VCLI_ONLINE;
	} else if (!strncmp(line, "REGISTERED: ", 12)) {
		c->bound = true;
	} else if (!strncmp(line, "ERROR ", 6) && !c->quiet) {
		fprintf(stderr, "vclient: %s: the server said: %s\n", c->nick, line);
	}
}

static void lines(struct vcli *c)
{
	char *start = c->in, *nl;

	while ((nl = memchr(start, '\n', c->in_len - (size_t)(start - c->in)))) {
		*nl = '\0';
		logged_in_line(c, start);
		start = nl + 1;
	}
	c->in_len -= (size_t)(start - c->in);
	memmove(c->in, start, c->in_len);
}

static void read_lines(struct vcli *c)
{
	for (;;) {
		size_t room = sizeof(c->in) - c->in_len;
		ssize_t n;

		if (c->ssl) {
			n = SSL_read(c->ssl, c->in + c->in_len, (int)room);
			if (n <= 0) {
				int e = SSL_get_error(c->ssl, (int)n);

				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return;
				vcli_close(c);
				return;
			}
		} else {
			n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n <= 0) {
				vcli_close(c);
				return;
			}
		}
		c->in_len += (size_t)n;
		lines(c);
	}
}

static void connected(struct vcli *c)
{
	char line[96];

	snprintf(line, sizeof(line), "CONNECT: \"%s\" \"bench\" %s\n", c->nick,
		 c->ssl ? "1.1.0" : "1.0.0");
	c->st = VCLI_LOGIN;
	send_line(c, line);
}

void vcli_event(struct vcli *c, short revents)
{
	int err = 0, r, e;
	socklen_t el = sizeof(err);

	if (c->st == VCLI_CLOSED)
		return;
	if (c->st != VCLI_CONNECTING) {
		read_lines(c);
		return;
	}
	if (!c->tcp_up) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err ||
		    (revents & (POLLERR | POLLHUP))) {
			vcli_close(c);
			return;
		}
		c->tcp_up = true;
	}
	if (c->ssl && (r = SSL_do_handshake(c->ssl)) != 1) {
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			vcli_close(c);
		return;
	}
	connected(c);
}

short vcli_events(const struct vcli *c)
{
	if (c->st == VCLI_CLOSED)
		return 0;
	if (c->st == VCLI_CONNECTING &&
	    (!c->tcp_up || (c->ssl && SSL_want_write((SSL *)c->ssl))))
		return POLLOUT;
	return POLLIN;
}

void vcli_udp(struct vcli *c)
{
	uint8_t buf[2048], out[2048];
	ssize_t got;

	while (c->ufd >= 0 && (got = recv(c->ufd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		int n = (int)got;

		if (c->s2c)
			n = vc_open_window(c->s2c, &c->win, buf, (size_t)got, sizeof(buf),
					   out, sizeof(out), NULL);
		if (n < 0)
			c->bad++;
		else if (n > RTP_FIXED_LEN) {
			c->got++;
			if (c->on_voice)
				c->on_voice(c->voice_arg, c->s2c ? out : buf, (size_t)n);
		} else
			c->registered = true; /* a keepalive's answer */
	}
}

void vcli_voice(struct vcli *c, unsigned port, size_t len, bool marker)
{
	uint8_t payload[VCLI_PAYLOAD_MAX];

	if (len > sizeof(payload))
		return;
	memset(payload, 0xa5, len);
	vcli_voice_payload(c, port, payload, len, marker);
}

void vcli_voice_payload(struct vcli *c, unsigned port, const uint8_t *payload, size_t len,
			bool marker)
{
	uint8_t pkt[VCLI_PAYLOAD_MAX + 64], sealed[VCLI_PAYLOAD_MAX + 128];
	struct rtp_hdr h = {marker, IC_RTP_PT_OPUS, c->seq++, c->ts, c->ssrc};
	struct sockaddr_in a = bench_lo(port);
	const uint8_t *p = pkt;
	int n;

	if (!c->voice || len > VCLI_PAYLOAD_MAX)
		return;
	n = rtp_pack(pkt, sizeof(pkt), &h, c->ssl ? NULL : c->token, payload, len);
	c->ts += 960;
	if (n > 0 && c->c2s) {
		n = vc_seal(c->c2s, c->ctr++, pkt, (size_t)n, sealed, sizeof(sealed));
		p = sealed;
	}
	if (n > 0)
		sendto(c->ufd, p, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a));
}
