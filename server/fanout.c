#include "fanout.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* One sendmmsg per chunk of k prepared messages; returns how many were dealt with
 * (sent, or skipped after an error), or 0 when the send buffer is full. */
static size_t send_chunk(struct fanout *f, int fd, size_t k)
{
	/* a short count means the next message failed: the next call says why */
	int r = sendmmsg(fd, f->msgs, (unsigned)k, MSG_DONTWAIT);

	if (r > 0)
		return (size_t)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return 0;
	if (errno != EINTR)
		f->failed++;
	return errno == EINTR ? SIZE_MAX : 1;
}

static void set_msg(struct fanout *f, size_t i, const struct voice_dest *d,
		    struct iovec *iov)
{
	struct msghdr *mh = &f->msgs[i].msg_hdr;

	memset(mh, 0, sizeof(*mh));
	mh->msg_name = (void *)d->addr;
	mh->msg_namelen = d->len;
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
}

/* Make the messages for the destinations at the head of dests[0..n): the plain payload
 * for one without a key, a copy sealed under its own key for one with (each destination
 * decides for itself, so a list that mixes them is safe). Stops at IC_TX_BATCH messages
 * or when the IC_SEAL_BATCH sealed buffers are used up; *used says how many destinations
 * were dealt with. Returns how many messages were made (a copy that fails to seal is
 * left out and counted). */
static size_t prepare(struct fanout *f, const void *buf, size_t len,
		      const struct voice_dest *dests, size_t n, size_t *used)
{
	size_t m = 0, s = 0, i;

	for (i = 0; i < n && m < IC_TX_BATCH; i++) {
		const struct voice_dest *d = &dests[i];
		struct iovec *iov = &f->iov;

		if (d->seal) {
			int sl;

			if (s == IC_SEAL_BATCH)
				break;
			sl = vc_seal(d->seal, d->ctr, buf, len, f->sealed[s],
				     sizeof(f->sealed[s]));
			if (sl < 0) {
				f->failed++;
				continue;
			}
			f->siov[s].iov_base = f->sealed[s];
			f->siov[s].iov_len = (size_t)sl;
			iov = &f->siov[s++];
		}
		set_msg(f, m++, d, iov);
	}
	*used = i;
	return m;
}

void fanout_send(struct fanout *f, int fd, const void *buf, size_t len,
		 const struct voice_dest *dests, size_t n)
{
	f->iov.iov_base = (void *)buf;
	f->iov.iov_len = len;
	for (size_t off = 0; off < n;) {
		size_t k, m = prepare(f, buf, len, dests + off, n - off, &k), done = 0;

		while (done < m) {
			size_t r = send_chunk(f, fd, m - done);

			if (r == 0) { /* retrying per destination would only spin */
				f->full += m - done + (n - off - k);
				return;
			}
			if (r != SIZE_MAX) {
				done += r;
				memmove(f->msgs, f->msgs + r,
					(m - done) * sizeof(f->msgs[0]));
			}
		}
		off += k;
	}
}
