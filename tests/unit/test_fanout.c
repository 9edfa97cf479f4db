/* The voice fan-out under a full send buffer and failing destinations: sendmmsg wrapped
 * at link time (the narrowest seam), scripted call by call. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
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

		got[ngot++] = ntohs(a->sin_port);
	}
	return n;
}

static struct sockaddr_in addrs[3000];
static struct voice_dest dests[3000];
static struct fanout fan;

static void run(const struct step *steps, int n, size_t ndest)
{
	script = steps;
	nsteps = n;
	calls = 0;
	ngot = 0;
	memset(&fan, 0, sizeof(fan));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_sent_in_batches),
	    cmocka_unit_test(test_full_buffer_ends_the_set),
	    cmocka_unit_test(test_failing_destination_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
