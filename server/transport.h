/* transport.h: a session's byte transport, the one seam between protocol state and the
 * wire. TCP implements it today; an encrypted transport can wrap it later. */
#ifndef IC_TRANSPORT_H
#define IC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct transport;

struct transport_ops {
	/* Read up to len bytes: >0 bytes read, 0 at end of stream, -EAGAIN, or -errno. */
	ssize_t (*recv)(struct transport *t, void *buf, size_t len);
	/* Write up to len bytes: bytes written (maybe fewer), -EAGAIN, or -errno. */
	ssize_t (*send)(struct transport *t, const void *buf, size_t len);
	/* Release the transport; it is not used afterwards. abort: drop unsent data at
	 * once (a client that stopped reading), rather than let the kernel keep
	 * delivering it. */
	void (*close)(struct transport *t, bool abort);
};

struct transport {
	const struct transport_ops *ops;
};

#endif
