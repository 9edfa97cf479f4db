/* The voice fan-out under a full send buffer and failing destinations, and with lists
 * that mix plaintext and TLS hearers: sendmmsg wrapped at link time (the narrowest
 * seam), scripted call by call; the sealing is the real one. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fanout.h"

/* Each call of sendmmsg takes the next step: take `sent` messages (recording their
 * ports), or fail with `err` when sent < 0. */
struct step {
	int sent, err;
};

static const struct step *script;
static int nsteps, calls;
static unsigned got[4096], ngot;
/* what the first KEPT messages carried */
#define KEPT 512
static uint8_t gotbuf[KEPT][IC_RTP_MAX];
static size_t gotlen[KEPT];

int __wrap_sendmmsg(int fd, struct mmsghdr *msgs, unsigned vlen, int flags);
int __wrap_sendmmsg(int fd, struct mmsghdr *msgs, unsigned vlen, int flags)
{
	const struct step *s;
	int n;

	(void)fd;
	assert_true(flags & MSG_DONTWAIT); /* the loop never blocks on voice */
	assert_true(calls < nsteps);
	s = &script[calls++];
	if (s->sent < 0) {
		errno = s->err;
		return -1;
	}
	n = s->sent < (int)vlen ? s->sent : (int)vlen;
	for (int i = 0; i < n; i++) {
		const struct sockaddr_in *a = msgs[i].msg_hdr.msg_name;
		const struct iovec *iov = msgs[i].msg_hdr.msg_iov;

		assert_int_equal(msgs[i].msg_hdr.msg_iovlen, 1);
		assert_true(iov->iov_len <= IC_RTP_MAX);
		if (ngot < KEPT) {
			memcpy(gotbuf[ngot], iov->iov_base, iov->iov_len);
			gotlen[ngot] = iov->iov_len;
		}
		got[ngot++] = ntohs(a->sin_port);
	}
	return n;
}

static struct sockaddr_in addrs[3000];
static struct voice_dest dests[3000];
static struct fanout fan;

static void start(const struct step *steps, int n)
{
	script = steps;
	nsteps = n;
	calls = 0;
	ngot = 0;
	memset(&fan, 0, sizeof(fan));
}

static void run(const struct step *steps, int n, size_t ndest)
{
	start(steps, n);
	for (size_t i = 0; i < ndest; i++) {
		addrs[i] = (struct sockaddr_in){.sin_family = AF_INET,
						.sin_port = htons((uint16_t)(1000 + i))};
		dests[i].addr = (const struct sockaddr *)&addrs[i];
		dests[i].len = sizeof(addrs[i]);
	}
	fanout_send(&fan, 3, "x", 1, dests, ndest);
	assert_int_equal(calls, n); /* no more calls than the script: no spinning */
}

static void test_all_sent_in_batches(void **state)
{
	static const struct step s[] = {{1024, 0}, {1024, 0}, {952, 0}};

	(void)state;
	run(s, 3, 3000);
	assert_int_equal(ngot, 3000);
	for (unsigned i = 0; i < ngot; i++)
		assert_int_equal(got[i], 1000 + i); /* each once, in order */
	assert_int_equal(fan.full, 0);
	assert_int_equal(fan.failed, 0);
}

/* The buffer fills after 3 copies: the rest of the set is dropped at once, counted, and
 * no call is made per remaining destination. */
static void test_full_buffer_ends_the_set(void **state)
{
	static const struct step eagain[] = {{3, 0}, {-1, EAGAIN}};
	static const struct step enobufs[] = {{-1, ENOBUFS}};

	(void)state;
	run(eagain, 2, 20);
	assert_int_equal(ngot, 3);
	assert_int_equal(fan.full, 17);
	run(enobufs, 1, 20);
	assert_int_equal(ngot, 0);
	assert_int_equal(fan.full, 20);
	assert_int_equal(fan.failed, 0);
}

/* One unreachable destination costs only itself: the others all get their copy. */
static void test_failing_destination_skipped(void **state)
{
	static const struct step s[] = {{4, 0}, {-1, EHOSTUNREACH}, {-1, EINTR}, {15, 0}};

	(void)state;
	run(s, 4, 20);
	assert_int_equal(ngot, 19);
	for (unsigned i = 0; i < ngot; i++)
		assert_int_not_equal(got[i], 1004); /* the fifth was the failing one */
	assert_int_equal(got[4], 1005);
	assert_int_equal(fan.failed, 1);
	assert_int_equal(fan.full, 0);
}

/* A hearer of the mixed lists below: every third one (and the first of the list when
 * first_plain) listens in plaintext, the others over TLS, each with its own key. */
static bool is_plain(size_t i, bool first_plain)
{
	return i % 3 == (first_plain ? 0 : 1);
}

static struct vc_key hkey(size_t i)
{
	struct vc_key k;

	memset(&k, 0, sizeof(k));
	k.key[0] = (uint8_t)i;
	k.key[1] = (uint8_t)(i >> 8);
	k.key[31] = 0x5a;
	k.salt[11] = (uint8_t)i;
	return k;
}

/* One packet to ndest hearers that mix plaintext and TLS: each plaintext hearer gets
 * the bytes as given, each TLS hearer a copy that opens under its own key alone, with
 * its own counter, to the same bytes. */
static void check_mixed(size_t ndest, bool first_plain, int sendmmsg_calls)
{
	static struct vc *seal[3000];
	static const struct step all = {1024, 0};
	static struct step steps[8];
	uint8_t pkt[12 + 72], back[IC_RTP_MAX];
	size_t nplain = 0;

	assert_true(ndest <= KEPT);
	for (int i = 0; i < sendmmsg_calls; i++)
		steps[i] = all;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80; /* V=2: an RTP packet the sealing accepts */
	pkt[1] = 111;
	for (size_t i = 12; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7);
	start(steps, sendmmsg_calls);
	for (size_t i = 0; i < ndest; i++) {
		struct vc_key k = hkey(i);

		addrs[i] = (struct sockaddr_in){.sin_family = AF_INET,
						.sin_port = htons((uint16_t)(1000 + i))};
		dests[i] = (struct voice_dest){.addr = (const struct sockaddr *)&addrs[i],
					       .len = sizeof(addrs[i]),
					       .ctr = 100 + i};
		seal[i] = NULL;
		if (!is_plain(i, first_plain))
			assert_int_equal(vc_new(&seal[i], &k, true), 0);
		dests[i].seal = seal[i];
	}
	fanout_send(&fan, 3, pkt, sizeof(pkt), dests, ndest);
	assert_int_equal(calls, sendmmsg_calls);
	assert_int_equal(ngot, ndest);
	assert_int_equal(fan.failed, 0);
	assert_int_equal(fan.full, 0);
	for (size_t i = 0; i < ndest; i++) {
		struct vc_key k = hkey(i), other = hkey(i + 1);
		struct vc *open, *wrong;
		uint64_t ctr = 0;

		assert_int_equal(got[i], 1000 + i); /* each once, in order */
		if (is_plain(i, first_plain)) {
			assert_int_equal(gotlen[i], sizeof(pkt));
			assert_memory_equal(gotbuf[i], pkt, sizeof(pkt));
			nplain++;
			continue;
		}
		assert_int_equal(gotlen[i], sizeof(pkt) + VC_OVERHEAD);
		assert_memory_not_equal(gotbuf[i] + 20, pkt + 12, sizeof(pkt) - 12);
		assert_int_equal(vc_new(&open, &k, false), 0);
		assert_int_equal(vc_new(&wrong, &other, false), 0);
		assert_int_equal(vc_open(open, gotbuf[i], gotlen[i], IC_RTP_MAX, back,
					 sizeof(back), &ctr),
				 sizeof(pkt));
		assert_memory_equal(back, pkt, sizeof(pkt));
		assert_int_equal(ctr, 100 + i);
		assert_int_equal(vc_open(wrong, gotbuf[i], gotlen[i], IC_RTP_MAX, back,
					 sizeof(back), &ctr),
				 -EBADMSG);
		vc_free(open);
		vc_free(wrong);
		vc_free(seal[i]);
	}
	assert_int_equal(nplain, (ndest + (first_plain ? 2 : 1)) / 3);
}

/* Plaintext first (the list once took its sealing from the first hearer), TLS first,
 * and more TLS hearers than one sendmmsg's sealed buffers: 133 sealed copies of 200
 * need three calls (64 + 64 + 5 sealed). */
static void test_mixed_lists_seal_per_hearer(void **state)
{
	(void)state;
	check_mixed(7, true, 1);
	check_mixed(7, false, 1);
	check_mixed(200, true, 3);
	check_mixed(200, false, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_sent_in_batches),
	    cmocka_unit_test(test_full_buffer_ends_the_set),
	    cmocka_unit_test(test_failing_destination_skipped),
	    cmocka_unit_test(test_mixed_lists_seal_per_hearer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
