/* net: what a failed connect tells the person reading the log. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <netinet/in.h>

#include "net.h"

static void on_connected(void *arg)
{
	(void)arg;
	fail_msg("connected to nothing");
}

static void on_line(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void on_closed(void *arg, const char *why)
{
	(void)arg;
	(void)why;
	fail_msg("closed is not called when net_connect fails");
}

static void on_voice(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)pkt;
	(void)len;
}

static void test_unknown_host_is_named(void **state)
{
	struct net_handlers h = {on_connected, on_line, on_closed, on_voice, NULL};
	struct loop *l = NULL;
	struct net *n = NULL;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(net_new(&n, l, &h, NULL), 0);
	/* a name no resolver knows, without asking the network */
	assert_int_equal(net_connect(n, "", 6060), -ENOENT);
	assert_non_null(strstr(net_strerror(-ENOENT), "no such host name"));
	assert_non_null(strstr(net_strerror(-EAGAIN), "no network or DNS"));
	/* the rest as the C library says them */
	assert_string_equal(net_strerror(-ECONNREFUSED), strerror(ECONNREFUSED));
	net_free(n);
	loop_free(l);
}

/* The order the addresses of a name are tried in (RFC 8305 section 4). */
static struct sockaddr_in v4s[8];
static struct sockaddr_in6 v6s[8];
static struct addrinfo ai[16];

/* A resolver answer from a pattern: '4' or '6' per address, numbered in order. */
static struct addrinfo *answer(const char *pattern)
{
	unsigned n4 = 0, n6 = 0, i;

	memset(ai, 0, sizeof(ai));
	for (i = 0; pattern[i]; i++) {
		ai[i].ai_socktype = SOCK_STREAM;
		if (pattern[i] == '4') {
			v4s[n4] = (struct sockaddr_in){
			    .sin_family = AF_INET, .sin_port = htons((uint16_t)(i + 1))};
			ai[i].ai_family = AF_INET;
			ai[i].ai_addr = (struct sockaddr *)&v4s[n4++];
			ai[i].ai_addrlen = sizeof(struct sockaddr_in);
		} else if (pattern[i] == '6') {
			v6s[n6] =
			    (struct sockaddr_in6){.sin6_family = AF_INET6,
						  .sin6_port = htons((uint16_t)(i + 1))};
			ai[i].ai_family = AF_INET6;
			ai[i].ai_addr = (struct sockaddr *)&v6s[n6++];
			ai[i].ai_addrlen = sizeof(struct sockaddr_in6);
		} else { /* another family: dropped */
			ai[i].ai_family = AF_UNIX;
			ai[i].ai_addr = (struct sockaddr *)&v4s[0];
			ai[i].ai_addrlen = sizeof(struct sockaddr_in);
		}
		if (i)
			ai[i - 1].ai_next = &ai[i];
	}
	return ai;
}

/* The order as the resolver's positions (1-based), e.g. "1324". */
static const char *order(const char *pattern, unsigned max)
{
	static char out[16];
	struct sockaddr_storage ss[NET_ADDRS_MAX];
	socklen_t lens[NET_ADDRS_MAX];
	unsigned n = net_addr_order(answer(pattern), ss, lens, max);

	for (unsigned i = 0; i < n; i++) {
		unsigned port = ss[i].ss_family == AF_INET
				    ? ntohs(((struct sockaddr_in *)&ss[i])->sin_port)
				    : ntohs(((struct sockaddr_in6 *)&ss[i])->sin6_port);

		assert_int_equal(lens[i], ss[i].ss_family == AF_INET
					      ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6));
		out[i] = (char)('0' + port);
	}
	out[n] = '\0';
	return out;
}

static void test_addr_order(void **state)
{
	(void)state;
	/* localhost on Debian: ::1 first, then 127.0.0.1 - both are tried */
	assert_string_equal(order("64", 8), "12");
	assert_string_equal(order("4", 8), "1");
	/* the family of the first answer first, then alternating, each in its order */
	assert_string_equal(order("6644", 8), "1324");
	assert_string_equal(order("4466", 8), "1324");
	assert_string_equal(order("46666", 8), "12345");
	assert_string_equal(order("6664", 8), "1423");
	assert_string_equal(order("6x4", 8), "13"); /* another family is left out */
	assert_string_equal(order("646464", 3), "123");
	assert_string_equal(order("", 8), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_host_is_named),
	    cmocka_unit_test(test_addr_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
