#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* a port 0 whose number is taken for UDP is retried this often with a new one */
#define LISTEN_SAME_TRIES 32

static int make_addr(const char *host, unsigned port, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

/* One socket on host:port. Returns the fd, or -errno. */
static int open_one(const char *host, unsigned port, int type)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, off = 0, fd, e;

	if (make_addr(host, port, &ss, &len))
		return -EINVAL;
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* TCP only: a restart must not wait out TIME_WAIT. Never on UDP, where it would
	 * let a second server bind beside us and take the voice. */
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (type == SOCK_DGRAM) {
		int buf = 4 << 20; /* absorb a burst of voice from many talkers */

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		/* the kernel stamps each packet's arrival: the delay we add is measured
		 */
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 128))) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void say_fail(char *err, size_t errlen, const char *host, unsigned port, bool udp,
		     int e)
{
	const char *hint = "";

	if (e == -EADDRINUSE)
		hint = udp ? " - another intercomd (or another program) holds that UDP "
			     "port: "
			     "stop it, or choose another --udp-port"
			   : " - another intercomd running? choose another --port";
	else if (e == -EACCES && port < 1024)
		hint = " - ports below 1024 need privileges: choose another port";
	snprintf(err, errlen, "cannot listen on %s port %u (%s): %s%s", host, port,
		 udp ? "UDP voice" : "TCP", strerror(-e), hint);
}

/* Both sockets on host. Returns 0 or -errno (err filled). */
static int open_pair(const char *host, unsigned port, unsigned udp_port,
		     struct listen_socks *ls, char *err, size_t errlen)
{
	for (int tries = 0; tries < LISTEN_SAME_TRIES; tries++) {
		unsigned uport;
		int t = open_one(host, port, SOCK_STREAM), u;

		if (t < 0) {
			say_fail(err, errlen, host, port, false, t);
			return t;
		}
		ls->tcp_port = bound_port(t);
		uport = udp_port == LISTEN_UDP_SAME ? ls->tcp_port : udp_port;
		u = open_one(host, uport, SOCK_DGRAM);
		if (u == -EADDRINUSE && port == 0 && udp_port == LISTEN_UDP_SAME) {
			close(t); /* the kernel's pick is taken for UDP: another pick */
			continue;
		}
		if (u < 0) {
			close(t);
			say_fail(err, errlen, host, uport, true, u);
			return u;
		}
		ls->tcp = t;
		ls->udp = u;
		ls->udp_port = bound_port(u);
		return 0;
	}
	snprintf(err, errlen, "cannot find a port free for both TCP and UDP");
	return -EADDRINUSE;
}

int listen_open(const char *bind, unsigned port, unsigned udp_port,
		struct listen_socks *ls, char *err, size_t errlen)
{
	int e;

	ls->tcp = ls->udp = -1;
	if (bind && *bind) {
		if (!strcmp(bind, "::"))
			snprintf(ls->where, sizeof(ls->where), "[::] (IPv4 and IPv6)");
		else
			snprintf(ls->where, sizeof(ls->where),
				 strchr(bind, ':') ? "[%s]" : "%s", bind);
		return open_pair(bind, port, udp_port, ls, err, errlen);
	}
	e = open_pair("::", port, udp_port, ls, err, errlen);
	if (e == -EAFNOSUPPORT || e == -EADDRNOTAVAIL) { /* no IPv6 on this host */
		snprintf(ls->where, sizeof(ls->where), "0.0.0.0 (IPv4; no IPv6 here)");
		return open_pair("0.0.0.0", port, udp_port, ls, err, errlen);
	}
	snprintf(ls->where, sizeof(ls->where), "[::] (IPv4 and IPv6)");
	return e;
}
