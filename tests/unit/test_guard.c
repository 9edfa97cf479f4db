/* The guard's rules and the address helpers they stand on, pure: no sockets, the test's
 * clock. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "guard.h"
#include "ic_limits.h"

#include "../support/srckey.h"

static void test_addr_same_ip(void **state)
{
	struct sockaddr_in a = v4("192.168.1.10", 5000), b = v4("192.168.1.10", 6000),
			   c = v4("192.168.1.11", 5000);
	struct sockaddr_in6 m = v6("::ffff:192.168.1.10", 7000), x = v6("2001:db8::1", 1),
			    y = v6("2001:db8::1", 2), z = v6("2001:db8::2", 1);

	(void)state;
	assert_true(addr_same_ip(SA(a), SA(b)));  /* ports differ: NAT */
	assert_false(addr_same_ip(SA(a), SA(c))); /* another host */
	assert_true(addr_same_ip(SA(a), SA(m)));  /* IPv4-mapped IPv6 is the IPv4 host */
	assert_true(addr_same_ip(SA(m), SA(a)));
	assert_true(addr_same_ip(SA(x), SA(y)));
	assert_false(addr_same_ip(SA(x), SA(z)));
	assert_false(addr_same_ip(SA(a), SA(x)));
	/* a short length or another family is never the same */
	assert_false(addr_same_ip((const struct sockaddr *)&a, 4, SA(b)));
	{
		struct sockaddr un = {.sa_family = AF_UNIX};

		assert_false(addr_same_ip(&un, sizeof(un), &un, sizeof(un)));
	}
}

static void test_addr_source_and_text(void **state)
{
	struct sockaddr_in a = v4("10.0.0.7", 1);
	struct sockaddr_in6 m = v6("::ffff:10.0.0.7", 2),
			    p = v6("2001:db8:1:2:aaaa::1", 3),
			    q = v6("2001:db8:1:2:bbbb::9", 4),
			    r = v6("2001:db8:1:3::1", 5);
	struct addr_src ka, km, kp, kq, kr;
	char buf[64];

	(void)state;
	assert_int_equal(addr_source(SA(a), &ka), 0);
	assert_int_equal(addr_source(SA(m), &km), 0);
	assert_memory_equal(&ka, &km, sizeof(ka)); /* one host, whichever family */
	assert_int_equal(addr_source(SA(p), &kp), 0);
	assert_int_equal(addr_source(SA(q), &kq), 0);
	assert_int_equal(addr_source(SA(r), &kr), 0);
	assert_memory_equal(&kp, &kq, sizeof(kp)); /* one /64 */
	assert_memory_not_equal(&kp, &kr, sizeof(kp));
	addr_source_text(&kp, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:1:2::/64");
	addr_source_text(&ka, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.7");
	addr_text(SA(m), buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.7:2");
	addr_text(SA(p), buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8:1:2:aaaa::1]:3");
	addr_text(NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	{
		struct sockaddr un = {.sa_family = AF_UNIX};

		assert_int_equal(addr_source(&un, sizeof(un), &ka), -EAFNOSUPPORT);
	}
}

static void test_pending_limit(void **state)
{
	struct sockaddr_in a = v4("10.0.0.7", 1), b = v4("10.0.0.8", 1);
	struct guard_link held[4] = {{0}}, s = {0};
	struct addr_src ka, kb;
	struct guard *g;
	bool log_it;

	(void)state;
	addr_source(SA(a), &ka);
	addr_source(SA(b), &kb);
	assert_int_equal(guard_new(&g, 3), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(guard_pending_open(g, &ka, 1000, &held[i], &log_it), 0);
		assert_false(log_it);
	}
	assert_int_equal(guard_pending(g, &ka), 3);
	/* the fourth from that source is refused and worth one log line ... */
	assert_int_equal(guard_pending_open(g, &ka, 1000, &s, &log_it), -EUSERS);
	assert_null(s.src);
	assert_true(log_it);
	/* ... and its next refusals within the minute are not */
	assert_int_equal(guard_pending_open(g, &ka, 2000, &s, &log_it), -EUSERS);
	assert_false(log_it);
	assert_int_equal(guard_pending(g, &ka), 3); /* refusals count nothing */
	/* another source is not affected */
	assert_int_equal(guard_pending_open(g, &kb, 2000, &held[3], &log_it), 0);
	/* one logs in: room for one more */
	guard_pending_done(g, &held[0]);
	assert_int_equal(guard_pending_open(g, &ka, 3000, &held[0], &log_it), 0);
	assert_int_equal(guard_pending_open(g, &ka, 1000 + IC_GUARD_LOG_MS, &s, &log_it),
			 -EUSERS);
	assert_true(log_it); /* a minute later: logged again */
	for (int i = 0; i < 4; i++)
		guard_pending_done(g, &held[i]);
	guard_pending_done(g, &s); /* not counted: a no-op */
	assert_int_equal(guard_pending(g, &ka), 0);
	/* the refused source is remembered for its log silence, then forgotten */
	assert_int_equal(guard_sources(g), 1);
	guard_tick(g, 1000 + 2 * IC_GUARD_LOG_MS);
	assert_int_equal(guard_sources(g), 0);
	guard_free(g);
}

static void test_pending_no_limit(void **state)
{
	struct sockaddr_in a = v4("10.0.0.7", 1);
	static struct guard_link held[2000];
	struct addr_src ka;
	struct guard *g;
	bool log_it;

	(void)state;
	addr_source(SA(a), &ka);
	assert_int_equal(guard_new(&g, 0), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(guard_pending_open(g, &ka, 1, &held[i], &log_it), 0);
	assert_int_equal(guard_pending(g, &ka), 2000);
	for (int i = 0; i < 2000; i++)
		guard_pending_done(g, &held[i]);
	assert_int_equal(guard_sources(g), 0); /* nothing left behind */
	guard_free(g);
}

/* Packets of `bytes` every `gap_ms` for `ms`: how many pass. */
static unsigned offer(struct guard_voice *v, uint64_t *now, size_t bytes, unsigned gap_ms,
		      unsigned ms)
{
	unsigned ok = 0;

	for (unsigned t = 0; t < ms; t += gap_ms, *now += gap_ms)
		ok += guard_voice_take(v, bytes, *now);
	return ok;
}

static void test_voice_bucket(void **state)
{
	struct guard_voice v;
	uint64_t now = 5000;

	(void)state;
	guard_voice_init(&v, now);
	/* a full bucket: 120 packets at once, not 121 */
	for (int i = 0; i < IC_VOICE_PKTS_PER_SEC; i++)
		assert_true(guard_voice_take(&v, 10, now));
	assert_false(guard_voice_take(&v, 10, now));
	/* refilled at 120 a second: 10 s of a flood (1000/s) let 1200 through, give or
	 * take the last refill */
	now += 1000;
	guard_voice_init(&v, now);
	for (int i = 0; i < IC_VOICE_PKTS_PER_SEC; i++)
		guard_voice_take(&v, 10, now);
	{
		unsigned ok = offer(&v, &now, 10, 1, 10000);

		assert_true(ok >= 1199 && ok <= 1201);
	}
	/* bytes: 1100-byte packets at 100/s would be 110 kB/s; 24 kB/s pass (~21/s) */
	now += 2000;
	guard_voice_init(&v, now);
	{
		unsigned ok = offer(&v, &now, 1100, 10, 10000);

		/* the first second's 24 kB bucket, then 24 kB/s */
		assert_true(ok >= (24000 * 11) / 1100 - 2 &&
			    ok <= (24000 * 11) / 1100 + 1);
	}
	/* a talker at 10 ms frames (100/s, 120 bytes) always fits */
	now += 2000;
	guard_voice_init(&v, now);
	assert_int_equal(offer(&v, &now, 120, 10, 60000), 6000);
	/* a long silence refills no more than the bucket */
	now += 3600 * 1000;
	for (int i = 0; i < IC_VOICE_PKTS_PER_SEC; i++)
		assert_true(guard_voice_take(&v, 10, now));
	assert_false(guard_voice_take(&v, 10, now));
}

/* Failed logins: the failure past IC_LOGIN_FAILS_MAX within IC_LOGIN_FAILS_MS starts a
 * block of IC_LOGIN_BLOCK_MS; failures while blocked neither count nor extend it; slow
 * failures never block; another source is never touched; all is forgotten after. */
static void test_login_fails(void **state)
{
	struct sockaddr_in a = v4("10.0.0.9", 1), b = v4("10.0.0.10", 1);
	struct addr_src ka, kb;
	struct guard *g;
	uint64_t t = 5000;

	(void)state;
	addr_source(SA(a), &ka);
	addr_source(SA(b), &kb);
	assert_int_equal(guard_new(&g, 32), 0);
	for (int i = 0; i < IC_LOGIN_FAILS_MAX; i++)
		assert_int_equal(guard_login_failed(g, &ka, t + (uint64_t)i * 1000), 0);
	assert_false(guard_blocked(g, &ka, t + 10000));
	/* the eleventh within 120 s: the block starts */
	assert_int_equal(guard_login_failed(g, &ka, t + 119000), 1);
	assert_true(guard_blocked(g, &ka, t + 119000));
	assert_false(guard_blocked(g, &kb, t + 119000));
	/* while blocked: not counted, not extended */
	for (int i = 0; i < 50; i++)
		assert_int_equal(guard_login_failed(g, &ka, t + 200000 + (uint64_t)i), 0);
	assert_true(guard_blocked(g, &ka, t + 119000 + IC_LOGIN_BLOCK_MS - 1));
	assert_false(guard_blocked(g, &ka, t + 119000 + IC_LOGIN_BLOCK_MS));
	/* after it, the count starts afresh: ten more do not block */
	t += 119000 + IC_LOGIN_BLOCK_MS;
	for (int i = 0; i < IC_LOGIN_FAILS_MAX; i++)
		assert_int_equal(guard_login_failed(g, &ka, t + (uint64_t)i), 0);
	/* slow failures (one every 13 s: 10 within 120 s at most) never block */
	for (int i = 0; i < 100; i++)
		assert_int_equal(guard_login_failed(g, &kb, t + (uint64_t)i * 13000), 0);
	assert_false(guard_blocked(g, &kb, t + 100 * 13000));
	/* nothing pending, no block, failures too old: forgotten */
	guard_tick(g, t + 101 * 13000 + IC_LOGIN_FAILS_MS);
	assert_int_equal(guard_sources(g), 0);
	guard_free(g);
}

/* A logged-in TLS connection's allowance beyond its lines: the burst, then the rate; a
 * pass whose lines outweigh its wire bytes (records read earlier) gives bytes back; a
 * refused spend takes nothing; a long silence refills no more than the burst. */
static void test_tls_overhead(void **state)
{
	struct guard_bucket b;
	uint64_t now = 7000;

	(void)state;
	guard_overhead_init(&b, now);
	assert_true(guard_overhead_spend(&b, IC_TLS_OVERHEAD_BURST, 0, now));
	assert_false(guard_overhead_spend(&b, 1, 0, now));
	/* lines only (22 bytes of record beyond each) cost their overhead, not their
	 * bytes */
	now += 1000;
	assert_true(guard_overhead_spend(&b, IC_TLS_OVERHEAD_PER_SEC + 500, 500, now));
	assert_false(guard_overhead_spend(&b, 1, 0, now));
	/* data decrypted from records an earlier pass read gives their bytes back */
	assert_true(guard_overhead_spend(&b, 0, 300, now));
	assert_true(guard_overhead_spend(&b, 300, 0, now));
	assert_false(guard_overhead_spend(&b, 1, 0, now));
	/* a spend over what is left takes nothing: half a second refills half the rate */
	now += 500;
	assert_false(guard_overhead_spend(&b, IC_TLS_OVERHEAD_PER_SEC / 2 + 1, 0, now));
	assert_true(guard_overhead_spend(&b, IC_TLS_OVERHEAD_PER_SEC / 2, 0, now));
	/* an hour's silence: the burst, not more */
	now += 3600 * 1000;
	assert_true(guard_overhead_spend(&b, IC_TLS_OVERHEAD_BURST, 0, now));
	assert_false(guard_overhead_spend(&b, 1, 0, now));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addr_same_ip),
	    cmocka_unit_test(test_addr_source_and_text),
	    cmocka_unit_test(test_pending_limit),
	    cmocka_unit_test(test_pending_no_limit),
	    cmocka_unit_test(test_voice_bucket),
	    cmocka_unit_test(test_login_fails),
	    cmocka_unit_test(test_tls_overhead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
