/* fanout.h: one voice packet to many destinations on the UDP socket, up to IC_TX_BATCH
 * copies per sendmmsg (IC_SEAL_BATCH sealed ones), never blocking and never retrying:
 * voice is lossy by nature, and a stalled fan-out would delay every room. */
#ifndef IC_FANOUT_H
#define IC_FANOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hub.h"
#include "ic_limits.h"
#include "vcrypt.h"

struct fanout {
	struct mmsghdr msgs[IC_TX_BATCH];
	struct iovec iov;
	/* sealed copies (TLS): each its own buffer, IC_SEAL_BATCH to a sendmmsg, so no
	 * copy is ever allocated and the buffers stay in the cache */
	struct iovec siov[IC_SEAL_BATCH];
	uint8_t sealed[IC_SEAL_BATCH][IC_RTP_MAX];
	/* copies not sent: the send buffer was full (EAGAIN, ENOBUFS: the rest of that
	 * packet's copies is dropped), or that destination failed (unreachable, ...) */
	uint64_t full, failed;
};

/* Send len bytes of buf to each of dests[0..n) on fd: sealed under a destination's own
 * seal (and counter) when it has one, the plain bytes when it has none, each destination
 * on its own, so a list may mix them (a copy that cannot be sealed is counted in
 * f->failed). A full send buffer ends
 * this copy set (the rest counted in f->full); any other error skips that destination
 * alone (f->failed). Never blocks. */
void fanout_send(struct fanout *f, int fd, const void *buf, size_t len,
		 const struct voice_dest *dests, size_t n);

#endif
