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

#include "limits.h"

#define NET_OUT_MAX (64 * 1024)

struct net {
	struct loop *loop;
	struct net_handlers h;
	void *arg;
	int fd, ufd;
	bool connecting;
	struct sockaddr_storage addr;
	socklen_t addrlen;
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

void net_close(struct net *n)
{
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

static void watch(struct net *n)
{
	loop_fd(n->loop, n->fd,
		LOOP_READ | (n->out_len || n->connecting ? LOOP_WRITE : 0), tcp_event, n);
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

int net_connect(struct net *n, const char *host, unsigned port)
{
	struct addrinfo hints, *res = NULL;
	char ps[8];
	int one = 1, e;

	net_close(n);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%u", port);
	e = getaddrinfo(host, ps, &hints, &res);
	if (e)
		return e == EAI_NONAME	? -ENOENT
		       : e == EAI_AGAIN ? -EAGAIN
					: -EHOSTUNREACH;
	n->fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		e = -errno;
		freeaddrinfo(res);
		return e;
	}
	memcpy(&n->addr, res->ai_addr, res->ai_addrlen);
	n->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(n->fd, (struct sockaddr *)&n->addr, n->addrlen) &&
	    errno != EINPROGRESS) {
		e = -errno;
		close(n->fd);
		n->fd = -1;
		return e;
	}
	n->connecting = true;
	watch(n);
	return 0;
}

static void flush(struct net *n)
{
	while (n->out_len) {
		ssize_t w = send(n->fd, n->out, n->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			fail(n, strerror(errno));
			return;
		}
		memmove(n->out, n->out + w, n->out_len - (size_t)w);
		n->out_len -= (size_t)w;
	}
	watch(n);
}

int net_send(struct net *n, const char *line, size_t len)
{
	if (n->fd < 0 || n->connecting)
		return -ENOTCONN;
	if (n->out_len + len > sizeof(n->out))
		return -ENOBUFS;
	memcpy(n->out + n->out_len, line, len);
	n->out_len += len;
	flush(n);
	return 0;
}

static void read_lines(struct net *n)
{
	for (;;) {
		ssize_t r =
		    recv(n->fd, n->in + n->in_len, sizeof(n->in) - 1 - n->in_len, 0);
		char *start, *nl;

		if (r == 0) {
			fail(n, "the server closed the connection");
			return;
		}
		if (r < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fail(n, strerror(errno));
			return;
		}
		n->in_len += (size_t)r;
		start = n->in;
		while ((nl = memchr(start, '\n', n->in_len - (size_t)(start - n->in)))) {
			*nl = '\0';
			if (nl > start && nl[-1] == '\r')
				nl[-1] = '\0';
			if (!n->in_discard)
				n->h.line(n->arg, start);
			n->in_discard = false;
			start = nl + 1;
			if (n->fd < 0) /* a handler closed the connection */
				return;
		}
		n->in_len -= (size_t)(start - n->in);
		memmove(n->in, start, n->in_len);
		if (n->in_len ==
		    sizeof(n->in) - 1) { /* over the protocol's 64 KiB: drop it */
			n->in_len = 0;
			n->in_discard = true;
		}
	}
}

static void tcp_event(int fd, int events, void *arg)
{
	struct net *n = arg;

	if (n->connecting) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) || err) {
			fail(n, strerror(err ? err : errno));
			return;
		}
		n->connecting = false;
		watch(n);
		n->h.connected(n->arg);
		return;
	}
	if (events & LOOP_WRITE)
		flush(n);
	if (n->fd >= 0 && (events & LOOP_READ))
		read_lines(n);
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
