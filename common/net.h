/* net.h: the client's sockets on the event loop: one TCP connection to intercomd (lines
 * in and out) and one UDP socket for voice, connected to the server's voice port. */
#ifndef IC_NET_H
#define IC_NET_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"

#define NET_ADDRS_MAX 8 /* addresses of one name tried, at most */

struct net;

struct net_handlers {
	void (*connected)(void *arg);
	void (*line)(void *arg, const char *line); /* without LF */
	void (*closed)(void *arg, const char *why);
	void (*voice)(void *arg, const uint8_t *pkt, size_t len);
	/* Over TLS, once the handshake is done and before anything is sent: the server's
	 * key fingerprint. Nonzero refuses it: the connection is closed and closed is
	 * called with why (written by verify) or a general reason. NULL: any key. */
	int (*verify)(void *arg, const char *fp, char *why, size_t whylen);
};

int net_new(struct net **np, struct loop *l, const struct net_handlers *h, void *arg);
void net_free(struct net *n);

/* Speak TLS on every connection from now on: ctx (SSL_CTX *, tlsctx_new; the caller's,
 * outliving n), or NULL for plaintext (protocol 1.0). The handshake follows the TCP
 * connect without blocking, bounded by IC_TLS_CLIENT_HANDSHAKE_MS; connected is called
 * only after verify accepted the server's key. */
void net_set_tls(struct net *n, void *ctx);

/* Start connecting (non-blocking; the name is resolved first, which may block on DNS:
 * use an address or /etc/hosts on a LAN). Every address the name has is tried in turn
 * (net_addr_order), each for at most 2 s; the outcome arrives through connected or
 * closed (after the last address failed). Returns 0, or -errno when no attempt could
 * even start (then closed is not called). */
int net_connect(struct net *n, const char *host, unsigned port);
/* The address being tried or connected, as text ("127.0.0.1:6060", "[::1]:6060"). */
const char *net_peer(const struct net *n);
/* Put the resolver's answers in the order to try them (RFC 8305 section 4): the family
 * of its first answer first, then alternating IPv6 and IPv4, each family in the
 * resolver's order; other families dropped. Writes at most max; returns how many. */
unsigned net_addr_order(const struct addrinfo *res, struct sockaddr_storage *out,
			socklen_t *lens, unsigned max);
/* What a net_connect error means to a person (-ENOENT: an unknown host name, -EAGAIN:
 * no name service yet); a static string. */
const char *net_strerror(int e);
/* Close the TCP connection and the voice socket (closed is not called). */
void net_close(struct net *n);
/* Queue a line (with its LF). Returns 0, or -ENOBUFS past 64 KiB of unsent output. */
int net_send(struct net *n, const char *line, size_t len);

/* Open the voice socket toward the server's address at port. Returns 0 or -errno. */
int net_voice_open(struct net *n, unsigned port);
/* Send one packet; a full socket buffer drops it. */
void net_voice_send(struct net *n, const uint8_t *pkt, size_t len);

#endif
