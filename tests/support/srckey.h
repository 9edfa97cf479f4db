/* srckey.h: addresses and source keys from text in a unit test (test_guard,
 * test_guard_src). Include after cmocka.h. */
#ifndef IC_SRCKEY_H
#define IC_SRCKEY_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>

#include "addr.h"

static inline struct sockaddr_in v4(const char *ip, unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static inline struct sockaddr_in6 v6(const char *ip, unsigned port)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_port = htons((uint16_t)port)};

	assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return a;
}

#define SA(x) ((const struct sockaddr *)&(x)), sizeof(x)

/* The key of an IPv4 source. */
static inline struct addr_src key4(const char *ip)
{
	struct sockaddr_in a = v4(ip, 1);
	struct addr_src k;

	assert_int_equal(addr_source(SA(a), &k), 0);
	return k;
}

static inline struct addr_src key6(const char *ip)
{
	struct sockaddr_in6 a = v6(ip, 1);
	struct addr_src k;

	assert_int_equal(addr_source(SA(a), &k), 0);
	return k;
}

#endif
