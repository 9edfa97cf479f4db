#include "fanout.h"

#include <errno.h>
#include <string.h>

void fanout_send(struct fanout *f, int fd, const void *buf, size_t len,
		 const struct voice_dest *dests, size_t n)
{
	f->iov.iov_base = (void *)buf;
	f->iov.iov_len = len;
	for (size_t off = 0; off < n;) {
		size_t k = n - off > IC_TX_BATCH ? IC_TX_BATCH : n - off;
		int r;

		for (size_t i = 0; i < k; i++) {
			struct msghdr *mh = &f->msgs[i].msg_hdr;

			memset(mh, 0, sizeof(*mh));
			mh->msg_name = (void *)dests[off + i].addr;
			mh->msg_namelen = dests[off + i].len;
			mh->msg_iov = &f->iov;
			mh->msg_iovlen = 1;
		}
		/* a short count means the next message failed: the next call says why */
		r = sendmmsg(fd, f->msgs, (unsigned)k, MSG_DONTWAIT);
		if (r > 0) {
			off += (size_t)r;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			f->full += n - off; /* retrying per destination would only spin */
			return;
		} else if (errno != EINTR) {
			f->failed++;
			off++;
		}
	}
}
