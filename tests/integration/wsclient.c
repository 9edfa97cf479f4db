#include "wsclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "ws.h"

int wsc_timeout_ms = 5000;

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int wsc_tcp_from(unsigned port, const char *from)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)},
			   f = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((from && (inet_pton(AF_INET, from, &f.sin_addr) != 1 ||
		      bind(fd, (struct sockaddr *)&f, sizeof(f)))) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

int wsc_connect_plain(struct wsc *w, unsigned port)
{
	memset(w, 0, sizeof(*w));
	w->fd = wsc_tcp_from(port, NULL);
	return w->fd < 0 ? -1 : 0;
}

int wsc_connect(struct wsc *w, unsigned port)
{
	return wsc_connect_max(w, port, 0);
}

int wsc_connect_max(struct wsc *w, unsigned port, int max_version)
{
	if (wsc_connect_plain(w, port))
		return -1;
	w->ctx = SSL_CTX_new(TLS_client_method());
	if (w->ctx && max_version)
		SSL_CTX_set_max_proto_version(w->ctx, max_version);
	w->ssl = w->ctx ? SSL_new(w->ctx) : NULL;
	if (!w->ssl || !SSL_set_fd(w->ssl, w->fd) || SSL_connect(w->ssl) != 1) {
		wsc_close(w);
		return -1;
	}
	return 0;
}

void wsc_close(struct wsc *w)
{
	if (w->ssl)
		SSL_free(w->ssl);
	if (w->ctx)
		SSL_CTX_free(w->ctx);
	if (w->fd > 0)
		close(w->fd);
	w->ssl = w->ctx = NULL;
	w->fd = -1;
}

void wsc_vanish(struct wsc *w)
{
	struct linger l = {1, 0};

	setsockopt(w->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)); /* an RST */
	close(w->fd);
	w->fd = -1;
	if (w->ssl)
		SSL_free(w->ssl);
	if (w->ctx)
		SSL_CTX_free(w->ctx);
	w->ssl = w->ctx = NULL;
}

static int put(struct wsc *w, const void *p, size_t len)
{
	if (w->ssl)
		return SSL_write(w->ssl, p, (int)len) == (int)len ? 0 : -1;
	return write(w->fd, p, len) == (ssize_t)len ? 0 : -1;
}

/* More bytes within ms: 1, 0 (none), -1 (closed). */
static int fill(struct wsc *w, int ms)
{
	struct pollfd p = {w->fd, POLLIN, 0};
	int n;

	if (w->in_len == sizeof(w->in))
		return -1;
	if (!(w->ssl && SSL_pending(w->ssl)) && poll(&p, 1, ms) <= 0)
		return 0;
	if (w->ssl)
		n = SSL_read(w->ssl, w->in + w->in_len, (int)(sizeof(w->in) - w->in_len));
	else
		n = (int)read(w->fd, w->in + w->in_len, sizeof(w->in) - w->in_len);
	if (n <= 0)
		return -1;
	w->in_len += (size_t)n;
	return 1;
}

int wsc_request(struct wsc *w, const char *req, char *out, size_t size, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;
	char *e;
	int status = -1;

	if (put(w, req, strlen(req)))
		return -1;
	for (;;) {
		w->in[w->in_len < sizeof(w->in) ? w->in_len : sizeof(w->in) - 1] = 0;
		e = strstr((char *)w->in, "\r\n\r\n");
		if (e)
			break;
		if (ms_now() >= end || fill(w, (int)(end - ms_now())) < 0)
			return -1;
	}
	size_t n = (size_t)(e + 4 - (char *)w->in);
	snprintf(out, size, "%.*s", (int)n, (char *)w->in);
	sscanf(out, "HTTP/1.1 %d", &status);
	memmove(w->in, w->in + n, w->in_len - n);
	w->in_len -= n;
	return status;
}

int wsc_get(unsigned port, bool tls, const char *path, const char *cookie, char *out,
	    size_t size)
{
	static struct wsc w;
	char req[1024];
	int st;

	if (tls ? wsc_connect(&w, port) : wsc_connect_plain(&w, port))
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s%s%s\r\n",
		 path, port, cookie[0] ? "Cookie: icw=" : "", cookie,
		 cookie[0] ? "\r\n" : "");
	st = wsc_request(&w, req, out, size, wsc_timeout_ms);
	wsc_close(&w);
	return st;
}

int wsc_open(struct wsc *w, unsigned port, const char *cookie, const char *origin)
{
	char req[1400], head[2048], own[64];

	if (wsc_connect(w, port))
		return -1;
	snprintf(own, sizeof(own), "https://127.0.0.1:%u", port);
	snprintf(req, sizeof(req),
		 "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\nOrigin: %s\r\n%s%s%s\r\n",
		 port, origin ? origin : own, cookie[0] ? "Cookie: icw=" : "", cookie,
		 cookie[0] ? "\r\n" : "");
	int st = wsc_request(w, req, head, sizeof(head), wsc_timeout_ms);

	if (st == 101 &&
	    !strstr(head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
		return -1;
	return st;
}

int wsc_send(struct wsc *w, uint8_t op, const void *p, size_t len)
{
	static uint8_t frame[(1 << 16) + WS_HDR_MAX];
	uint8_t mask[4];
	int n;

	RAND_bytes(mask, 4);
	n = ws_build(frame, sizeof(frame), true, op, p, len, mask);
	return n < 0 ? -1 : put(w, frame, (size_t)n);
}

int wsc_text(struct wsc *w, const char *line)
{
	return wsc_send(w, WS_OP_TEXT, line, strlen(line));
}

int wsc_recv(struct wsc *w, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;
	struct ws_frame f;
	uint16_t code;

	for (;;) {
		int n = ws_parse(w->in, w->in_len, false, sizeof(w->msg) - 1, &f, &code),
		    r;

		if (n < 0)
			return -2;
		if (n > 0) {
			memcpy(w->msg, f.payload, f.len);
			w->msg[f.len] = 0;
			w->msg_len = f.len;
			memmove(w->in, w->in + n, w->in_len - (size_t)n);
			w->in_len -= (size_t)n;
			if (f.op == WS_OP_PING) {
				wsc_send(w, WS_OP_PONG, w->msg, w->msg_len);
				continue;
			}
			if (f.op == WS_OP_CLOSE)
				w->close_code =
				    f.len >= 2 ? (uint16_t)(w->msg[0] << 8 | w->msg[1])
					       : 1005;
			return f.op;
		}
		uint64_t now = ms_now();

		/* at least one look at the socket, even with no time left */
		r = fill(w, now < end ? (int)(end - now) : 0);
		if (r < 0)
			return -2;
		if (r == 0 && ms_now() >= end)
			return -1;
	}
}

const char *wsc_expect_prefix(struct wsc *w, const char *prefix, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;

	while (ms_now() < end) {
		int op = wsc_recv(w, (int)(end - ms_now()));

		if (op < 0 || op == WS_OP_CLOSE)
			return NULL;
		if (op == WS_OP_TEXT && !strncmp((char *)w->msg, prefix, strlen(prefix)))
			return (const char *)w->msg;
	}
	return NULL;
}

bool wsc_closed(struct wsc *w, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;

	while (ms_now() < end) {
		int op = wsc_recv(w, (int)(end - ms_now()));

		if (op == -2 || op == WS_OP_CLOSE)
			return true;
	}
	return false;
}
