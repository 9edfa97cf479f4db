/* conn.h: the server's client connections, the transports the hub writes through: plain
 * TCP (--tls off), or TLS 1.3 over it, non-blocking in the select() loop (protocol 1.1,
 * section 3). Each connection's first byte says which it speaks: 0x16 starts a TLS
 * handshake; anything else, on a TLS server, is answered ERROR TLS_REQUIRED once its
 * first line is in, and closed. The hub sees lines only after a handshake, and the
 * client's key with them (hub_secure). The TLS steps are common/tlsstep.c's, the same
 * the box takes. */
#ifndef IC_CONN_H
#define IC_CONN_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "hub.h"
#include "loop.h"

struct conn;

struct conn_stats {
	uint64_t handshakes;	    /* completed */
	uint64_t handshake_failed;  /* began with 0x16 and did not complete */
	uint64_t handshake_refused; /* closed at 0x16: too many handshakes at once */
	uint64_t handshake_evicted; /* closed for a newcomer: its source held the most */
	uint64_t blocked_refused;   /* closed on accept: its source is blocked */
	uint64_t table_refused; /* closed on accept: max_clients + IC_RAW_SPARE open */
	uint64_t plain_refused; /* plaintext to a TLS server: TLS_REQUIRED */
	uint64_t silent_closed; /* sent nothing within IC_TLS_HANDSHAKE_MS */
};

/* Every connection of one server. The owner fills loop, hub and tls (an SSL_CTX from
 * tlsctx_new, or NULL for plain TCP), zeroes the rest, and keeps it while it lives. */
struct conns {
	struct loop *loop;
	struct hub *hub;
	void *tls;
	struct conn *by_fd[FD_SETSIZE];
	int maxfd;
	unsigned steps;		 /* handshake steps left in this loop pass */
	bool detached;		 /* conns_detach: the hub closes them at its end */
	bool full_logged;	 /* a full table was logged ... */
	uint64_t full_logged_ms; /* ... then */
	struct conn_stats st;
};

/* A connection accepted on fd from `from`: the hub opens a session for it, or it is
 * closed (over select()'s limit, the hub's limits, a blocked source). */
void conns_accept(struct conns *cs, int fd, const struct sockaddr_storage *from,
		  socklen_t fromlen);

/* Before the loop waits: each connection's read and write interest, and a fresh budget
 * of handshake steps for the next pass. */
void conns_before_sleep(struct conns *cs);

/* The hub is going away and closes every transport itself: stop touching the loop's
 * table from their close ops. */
void conns_detach(struct conns *cs);

#endif
