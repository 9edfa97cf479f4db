/* listen.h: intercomd's two listening sockets, TCP for the lines and UDP for voice. */
#ifndef IC_LISTEN_H
#define IC_LISTEN_H

#include <stddef.h>

/* udp_port value meaning "the TCP port's number" (the contract's default) */
#define LISTEN_UDP_SAME 65536u

struct listen_socks {
	int tcp, udp;		     /* non-blocking, close-on-exec; the caller closes */
	unsigned tcp_port, udp_port; /* as bound (port 0 asks the kernel for one) */
	char where[80];		     /* the address for the log: "[::] (IPv4 and IPv6)" */
};

/* Bind and listen. bind: an IPv4 or IPv6 address, or "" for every address of both
 * families on one socket each ("::" with IPV6_V6ONLY off; 0.0.0.0 where the host has no
 * IPv6); "::" given explicitly serves both families too, "0.0.0.0" IPv4 only.
 * port 0: any free port, and with udp_port LISTEN_UDP_SAME the same number for UDP.
 * The UDP port is bound exclusively (no SO_REUSEADDR): a second server on it fails
 * instead of taking the voice. Returns 0, or -errno with a message in err naming the
 * port, its protocol and the flag to change. */
int listen_open(const char *bind, unsigned port, unsigned udp_port,
		struct listen_socks *ls, char *err, size_t errlen);

#endif
