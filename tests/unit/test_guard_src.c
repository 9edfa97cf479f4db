/* The guard's rules per source, pure: the handshake pool, the pending table's victims,
 * sessions, voice and new bindings per source, and trusted sources; the test's clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../support/srckey.h"
#include "guard.h"
#include "ic_limits.h"

static bool trusted4(const struct guard *g, const char *ip)
{
	struct addr_src k = key4(ip);

	return guard_trusted(g, &k);
}

static bool trusted6(const struct guard *g, const char *ip)
{
	struct addr_src k = key6(ip);

	return guard_trusted(g, &k);
}

/* The handshake pool: 8 addresses of one host holding 4 handshakes each fill it; an
 * honest newcomer takes the place of the oldest handshake of a source holding the most;
 * an attacker's own newcomer cannot (its source is at its share, or the others hold no
 * more than it does); a fifth from one source is refused; closing frees the count. */
static void test_hs_pool(void **state)
{
	static struct guard_link att[8][IC_TLS_HANDSHAKES_PER_SOURCE];
	struct guard_link honest[3] = {{0}}, *victim;
	struct addr_src ka[8], kh = key4("10.0.0.1"), kh2 = key4("10.0.0.2");
	struct guard *g;
	bool log_it;

	(void)state;
	memset(att, 0, sizeof(att));
	assert_int_equal(guard_new(&g, 32), 0);
	assert_int_equal(IC_TLS_HANDSHAKES_MAX, 8 * IC_TLS_HANDSHAKES_PER_SOURCE);
	for (int a = 0; a < 8; a++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.9.0.%d", a + 1);
		ka[a] = key4(ip);
		for (int i = 0; i < IC_TLS_HANDSHAKES_PER_SOURCE; i++) {
			assert_int_equal(guard_hs_room(g, &ka[a], 1000, &victim, &log_it),
					 0);
			assert_int_equal(guard_hs_open(g, &ka[a], &att[a][i]), 0);
		}
		/* one more from the same address: its share is full */
		assert_int_equal(guard_hs_room(g, &ka[a], 1000, &victim, &log_it),
				 -EUSERS);
		assert_null(victim);
	}
	assert_int_equal(guard_hs(g, NULL), IC_TLS_HANDSHAKES_MAX);
	assert_int_equal(guard_hs(g, &ka[3]), IC_TLS_HANDSHAKES_PER_SOURCE);
	/* an honest box: the oldest handshake of a source holding the most makes room */
	assert_int_equal(guard_hs_room(g, &kh, 2000, &victim, &log_it), 1);
	assert_non_null(victim);
	assert_true(log_it);
	{
		int a = 0;

		while (a < 8 && victim != &att[a][0])
			a++;
		assert_true(a < 8); /* the oldest of its source, not a younger one */
		guard_hs_done(g, victim);
		assert_null(victim->src);
		assert_int_equal(guard_hs(g, &ka[a]), IC_TLS_HANDSHAKES_PER_SOURCE - 1);
		assert_int_equal(guard_hs_open(g, &kh, &honest[0]), 0);
		/* the evicted source comes back: the others hold only one more */
		assert_int_equal(guard_hs_room(g, &ka[a], 2000, &victim, &log_it),
				 -EUSERS);
	}
	assert_int_equal(guard_hs(g, NULL), IC_TLS_HANDSHAKES_MAX);
	/* a second honest box, and the first's second connection, get in too; the
	 * victims are never the honest ones (they hold the least) */
	assert_int_equal(guard_hs_room(g, &kh2, 2001, &victim, &log_it), 1);
	assert_true(victim != &honest[0]);
	assert_false(log_it && victim->src == honest[0].src);
	guard_hs_done(g, victim);
	assert_int_equal(guard_hs_open(g, &kh2, &honest[1]), 0);
	assert_int_equal(guard_hs_room(g, &kh, 2002, &victim, &log_it), 1);
	assert_true(victim != &honest[0] && victim != &honest[1]);
	guard_hs_done(g, victim);
	assert_int_equal(guard_hs_open(g, &kh, &honest[2]), 0);
	assert_int_equal(guard_hs(g, &kh), 2);
	/* everything closes: nothing is left behind */
	for (int a = 0; a < 8; a++)
		for (int i = 0; i < IC_TLS_HANDSHAKES_PER_SOURCE; i++)
			guard_hs_done(g, &att[a][i]);
	for (int i = 0; i < 3; i++)
		guard_hs_done(g, &honest[i]);
	assert_int_equal(guard_hs(g, NULL), 0);
	guard_tick(g, 3000 + IC_GUARD_LOG_MS);
	assert_int_equal(guard_sources(g), 0);
	guard_free(g);
}

/* Another pool's size and share (intercom-web's): a source's share is its own limit, and
 * a full pool still gives a newcomer the oldest slot of the source holding the most. */
static void test_hs_limits(void **state)
{
	struct guard_link a[3] = {{0}}, h = {0}, *victim;
	struct addr_src ka = key4("10.9.0.1"), kh = key4("10.0.0.1");
	struct guard *g;
	bool log_it;

	(void)state;
	assert_int_equal(guard_new(&g, 0), 0);
	guard_hs_limits(g, 3, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(guard_hs_room(g, &ka, 0, &victim, &log_it), 0);
		assert_int_equal(guard_hs_open(g, &ka, &a[i]), 0);
	}
	/* at its share: refused, though intercomd's share (4) would be more */
	assert_int_equal(guard_hs_room(g, &ka, 0, &victim, &log_it), -EUSERS);
	/* the pool of 3 is full: a newcomer takes the oldest */
	assert_int_equal(guard_hs_room(g, &kh, 0, &victim, &log_it), 1);
	assert_ptr_equal(victim, &a[0]);
	guard_hs_done(g, victim);
	assert_int_equal(guard_hs_open(g, &kh, &h), 0);
	assert_int_equal(guard_hs(g, NULL), 3);
	guard_hs_done(g, &h);
	guard_hs_done(g, &a[1]);
	guard_hs_done(g, &a[2]);
	guard_tick(g, IC_GUARD_LOG_MS); /* the eviction's log silence */
	assert_int_equal(guard_sources(g), 0);
	guard_free(g);
}

/* The connection table full of one host's idle connections from several addresses: the
 * newcomer's victim is the oldest of the source holding the most, never its own when it
 * holds as many, and none when the shares are even. */
static void test_pending_victim(void **state)
{
	static struct guard_link held[3][5];
	struct guard_link *v, me = {0};
	struct addr_src k[3] = {key4("10.9.0.1"), key4("10.9.0.2"), key4("10.9.0.3")},
			kh = key4("10.0.0.1");
	struct guard *g;
	bool log_it;

	(void)state;
	memset(held, 0, sizeof(held));
	assert_int_equal(guard_new(&g, 32), 0);
	for (int a = 0; a < 3; a++)
		for (int i = 0; i < 5 - a; i++) /* 5, 4 and 3 */
			assert_int_equal(guard_pending_open(g, &k[a], 100 + (uint64_t)i,
							    &held[a][i], &log_it),
					 0);
	v = guard_pending_victim(g, &kh, 1000, &log_it);
	assert_ptr_equal(v, &held[0][0]); /* the most (5), its oldest */
	assert_true(log_it);
	guard_pending_done(g, v);
	assert_int_equal(guard_pending_open(g, &kh, 1000, &me, &log_it), 0);
	/* now 4, 4, 3 and 1: the source holding 4 cannot take from one holding 4 */
	assert_null(guard_pending_victim(g, &k[1], 1001, &log_it));
	/* nor the one holding 3 (the most, 4, is not two more than 3) */
	assert_null(guard_pending_victim(g, &k[2], 1001, &log_it));
	/* the honest one holding 1 may (4 >= 1 + 2), and the log stays quiet for the
	 * first source within the minute */
	v = guard_pending_victim(g, &kh, 1002, &log_it);
	assert_non_null(v);
	assert_true(v == &held[0][1] || v == &held[1][0]);
	assert_false(log_it && v == &held[0][1]);
	for (int a = 0; a < 3; a++)
		for (int i = 0; i < 5; i++)
			guard_pending_done(g, &held[a][i]);
	guard_pending_done(g, &me);
	assert_int_equal(guard_pending(g, &k[0]), 0);
	guard_free(g);
}

/* Sessions per source: IC_SESSIONS_PER_SOURCE, then refused (logged once a minute);
 * trusted sources (127.0.0.1, ::1, a configured prefix) are not counted against it;
 * 127.0.0.2 is not trusted. */
static void test_sessions_per_source(void **state)
{
	static struct guard_src *held[IC_SESSIONS_PER_SOURCE + 40];
	struct addr_src ka = key4("127.0.0.2"), klo = key4("127.0.0.1"), k6 = key6("::1"),
			kgw = key4("192.168.7.20");
	struct guard_src *s;
	struct guard *g;
	bool log_it;
	int n = 0;

	(void)state;
	assert_int_equal(guard_new(&g, 32), 0);
	for (int i = 0; i < IC_SESSIONS_PER_SOURCE; i++)
		assert_int_equal(guard_session_open(g, &ka, 1000, &held[n++], &log_it),
				 0);
	assert_int_equal(guard_session_open(g, &ka, 1000, &s, &log_it), -EUSERS);
	assert_null(s);
	assert_true(log_it);
	assert_int_equal(guard_session_open(g, &ka, 1001, &s, &log_it), -EUSERS);
	assert_false(log_it);
	assert_int_equal(guard_sessions(g, &ka), IC_SESSIONS_PER_SOURCE);
	/* one leaves: one more fits */
	guard_session_done(g, held[0]);
	assert_int_equal(guard_session_open(g, &ka, 1002, &held[0], &log_it), 0);
	/* the gateway's addresses are exempt, and a configured one */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(guard_session_open(g, &klo, 1000, &held[n++], &log_it),
				 0);
		assert_int_equal(guard_session_open(g, &k6, 1000, &held[n++], &log_it),
				 0);
	}
	assert_false(guard_trusted(g, &kgw));
	assert_int_equal(guard_trust(g, "192.168.7.0/24", NULL, 0), 0);
	assert_true(guard_trusted(g, &kgw));
	for (int i = 0; i < IC_SESSIONS_PER_SOURCE + 2; i++)
		assert_int_equal(guard_session_open(g, &kgw, 1000, &held[n++], &log_it),
				 0);
	assert_int_equal(guard_sessions(g, &kgw), IC_SESSIONS_PER_SOURCE + 2);
	for (int i = 0; i < n; i++)
		guard_session_done(g, held[i]);
	guard_session_done(g, NULL); /* no-op */
	guard_tick(g, 1000 + IC_GUARD_LOG_MS);
	assert_int_equal(guard_sources(g), 0);
	guard_free(g);
}

/* The voice a host's sessions share: a second's worth of IC_HOST_VOICE_PKTS_PER_SEC
 * across all of them, then dropped, refilled with time; the per-session bucket still
 * holds each; a trusted host is not held by it. */
static void test_host_voice(void **state)
{
	struct addr_src ka = key4("10.0.0.5"), klo = key4("127.0.0.1");
	struct guard_src *s[8], *lo;
	struct guard_voice sv[8];
	struct guard *g;
	uint64_t now = 5000;
	unsigned ok = 0;
	bool log_it;

	(void)state;
	assert_int_equal(guard_new(&g, 32), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(guard_session_open(g, &ka, now, &s[i], &log_it), 0);
		guard_voice_init(&sv[i], now);
	}
	/* 8 sessions each within its own rate: together over the host's */
	for (int i = 0; i < 8; i++)
		for (int p = 0; p < IC_VOICE_PKTS_PER_SEC; p++)
			if (guard_voice_take(&sv[i], 20, now) &&
			    guard_host_voice_take(s[i], 20, now))
				ok++;
	assert_int_equal(ok, IC_HOST_VOICE_PKTS_PER_SEC);
	assert_false(guard_host_voice_take(s[7], 20, now));
	/* a tenth of a second later a tenth of the rate is back */
	now += 100;
	ok = 0;
	for (int p = 0; p < IC_HOST_VOICE_PKTS_PER_SEC; p++)
		ok += guard_host_voice_take(s[p % 8], 20, now);
	assert_int_equal(ok, IC_HOST_VOICE_PKTS_PER_SEC / 10);
	/* bytes count too: packets of 1000 bytes pass at the byte rate */
	now += 10000;
	ok = 0;
	for (int p = 0; p < IC_HOST_VOICE_PKTS_PER_SEC; p++)
		ok += guard_host_voice_take(s[0], 1000, now);
	assert_int_equal(ok, IC_HOST_VOICE_BYTES_PER_SEC / 1000);
	/* the loopback gateway, and no session at all (a test's fake peer): never held */
	assert_int_equal(guard_session_open(g, &klo, now, &lo, &log_it), 0);
	for (int p = 0; p < 10 * IC_HOST_VOICE_PKTS_PER_SEC; p++)
		assert_true(guard_host_voice_take(lo, 1000, now));
	assert_true(guard_host_voice_take(NULL, 1000, now));
	for (int i = 0; i < 8; i++)
		guard_session_done(g, s[i]);
	guard_session_done(g, lo);
	assert_int_equal(guard_sources(g), 0);
	guard_free(g);
}

/* New nick bindings per source: IC_BINDS_PER_SOURCE within IC_BINDS_WINDOW_MS, then
 * not (logged once a minute); the oldest leaving the window makes room for one; the
 * source is remembered while its bindings count, with no session left; trusted ones
 * are never held. */
static void test_binds_per_source(void **state)
{
	struct addr_src ka = key4("10.0.0.6"), klo = key4("127.0.0.1");
	struct guard_src *s, *lo;
	struct guard *g;
	uint64_t t0 = 1000;
	bool log_it;

	(void)state;
	assert_int_equal(guard_new(&g, 32), 0);
	assert_int_equal(guard_session_open(g, &ka, t0, &s, &log_it), 0);
	for (int i = 0; i < IC_BINDS_PER_SOURCE; i++) {
		assert_true(guard_bind_ok(s, t0 + (uint64_t)i * 60000, &log_it));
		guard_bind_note(s, t0 + (uint64_t)i * 60000);
	}
	assert_false(guard_bind_ok(s, t0 + 1800000, &log_it));
	assert_true(log_it);
	assert_false(guard_bind_ok(s, t0 + 1800001, &log_it));
	assert_false(log_it);
	assert_false(guard_bind_ok(s, t0 + IC_BINDS_WINDOW_MS - 1, &log_it));
	/* the first binding leaves the hour: one more, and only one */
	assert_true(guard_bind_ok(s, t0 + IC_BINDS_WINDOW_MS, &log_it));
	guard_bind_note(s, t0 + IC_BINDS_WINDOW_MS);
	assert_false(guard_bind_ok(s, t0 + IC_BINDS_WINDOW_MS + 1, &log_it));
	/* a session that leaves does not forget what its source bound */
	guard_session_done(g, s);
	guard_tick(g, t0 + IC_BINDS_WINDOW_MS + 2);
	assert_int_equal(guard_sources(g), 1);
	assert_int_equal(
	    guard_session_open(g, &ka, t0 + IC_BINDS_WINDOW_MS + 3, &s, &log_it), 0);
	assert_false(guard_bind_ok(s, t0 + IC_BINDS_WINDOW_MS + 3, &log_it));
	guard_session_done(g, s);
	/* an hour after the newest, the source is forgotten */
	guard_tick(g, t0 + 2 * IC_BINDS_WINDOW_MS + 1);
	assert_int_equal(guard_sources(g), 0);
	/* the trusted gateway binds as many as its users need; no session binds freely */
	assert_int_equal(guard_session_open(g, &klo, t0, &lo, &log_it), 0);
	for (int i = 0; i < 10 * IC_BINDS_PER_SOURCE; i++) {
		assert_true(guard_bind_ok(lo, t0, &log_it));
		guard_bind_note(lo, t0);
	}
	assert_true(guard_bind_ok(NULL, t0, &log_it));
	guard_bind_note(NULL, t0);
	guard_session_done(g, lo);
	assert_int_equal(guard_sources(g), 0);
	guard_free(g);
}

/* The trusted list's syntax: addresses and prefixes of both families, separated by
 * commas or spaces; anything else is refused whole with the word named; an IPv6 prefix
 * longer than /64 is its /64; an IPv4-mapped prefix is the IPv4 one; at most
 * IC_TRUSTED_MAX entries. */
static void test_trust_list(void **state)
{
	struct guard *g;
	char err[200];
	char many[IC_TRUSTED_MAX * 16 + 16] = "";

	(void)state;
	assert_int_equal(guard_new(&g, 32), 0);
	assert_false(guard_trusted(g, &(struct addr_src){{0}})); /* not IP at all */
	assert_false(trusted4(g, "127.0.0.2"));
	assert_int_equal(guard_trust(g,
				     "10.1.0.0/16, 2001:db8:5::/48 10.2.3.4 "
				     "2001:db8:9:1::7/128,::ffff:172.16.0.0/108",
				     err, sizeof(err)),
			 0);
	assert_true(trusted4(g, "10.1.200.3"));
	assert_false(trusted4(g, "10.3.0.1"));
	assert_true(trusted4(g, "10.2.3.4"));
	assert_false(trusted4(g, "10.2.3.5"));
	assert_true(trusted6(g, "2001:db8:5:77::1"));
	assert_false(trusted6(g, "2001:db8:6::1"));
	/* /128 counts as its /64, as every IPv6 source does */
	assert_true(trusted6(g, "2001:db8:9:1::99"));
	assert_true(trusted4(g, "172.16.9.9"));
	assert_false(trusted4(g, "172.32.0.1"));
	/* refused whole, naming the word */
	assert_int_equal(guard_trust(g, "10.0.0.1, 10.0.0.300", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'10.0.0.300' is not an IPv4 or IPv6 address"));
	assert_false(trusted4(g, "10.0.0.1"));
	assert_int_equal(guard_trust(NULL, "10.0.0.0/33", err, sizeof(err)), -EINVAL);
	assert_int_equal(guard_trust(NULL, "10.0.0.0/", err, sizeof(err)), -EINVAL);
	assert_int_equal(guard_trust(NULL, "kitchen", err, sizeof(err)), -EINVAL);
	assert_int_equal(guard_trust(NULL, "::1/129", err, sizeof(err)), -EINVAL);
	assert_int_equal(guard_trust(NULL, " , ", err, sizeof(err)), 0); /* empty */
	for (int i = 0; i < IC_TRUSTED_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "10.7.0.%d ",
			 i);
	assert_int_equal(guard_trust(NULL, many, err, sizeof(err)), 0);
	assert_int_equal(guard_trust(g, many, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "more than"));
	guard_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hs_pool),
	    cmocka_unit_test(test_hs_limits),
	    cmocka_unit_test(test_pending_victim),
	    cmocka_unit_test(test_sessions_per_source),
	    cmocka_unit_test(test_host_voice),
	    cmocka_unit_test(test_binds_per_source),
	    cmocka_unit_test(test_trust_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
