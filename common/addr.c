#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The IPv4 address of sa (plain or IPv4-mapped IPv6) into v4: true if it has one. */
static bool ip4_of(const struct sockaddr *sa, socklen_t len, struct in_addr *v4)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		*v4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(&v4->s_addr, &a->s6_addr[12], 4);
			return true;
		}
	}
	return false;
}

static const struct in6_addr *ip6_of(const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6))
		return NULL;
	return &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
}

void addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	struct in_addr v4;
	const struct in6_addr *v6;

	if (!size)
		return;
	if (sa && ip4_of(sa, len, &v4)) {
		inet_ntop(AF_INET, &v4, host, sizeof(host));
		snprintf(
		    buf, size, "%s:%u", host,
		    ntohs(sa->sa_family == AF_INET
			      ? ((const struct sockaddr_in *)(const void *)sa)->sin_port
			      : ((const struct sockaddr_in6 *)(const void *)sa)
				    ->sin6_port));
	} else if (sa && (v6 = ip6_of(sa, len))) {
		inet_ntop(AF_INET6, v6, host, sizeof(host));
		snprintf(
		    buf, size, "[%s]:%u", host,
		    ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port));
	} else {
		snprintf(buf, size, "?");
	}
}

bool addr_same_ip(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
		  socklen_t blen)
{
	struct in_addr a4, b4;
	const struct in6_addr *a6, *b6;
	bool a_is4 = ip4_of(a, alen, &a4), b_is4 = ip4_of(b, blen, &b4);

	if (a_is4 || b_is4)
		return a_is4 && b_is4 && a4.s_addr == b4.s_addr;
	a6 = ip6_of(a, alen);
	b6 = ip6_of(b, blen);
	return a6 && b6 && !memcmp(a6, b6, sizeof(*a6));
}

int addr_source(const struct sockaddr *sa, socklen_t len, struct addr_src *key)
{
	struct in_addr v4;
	const struct in6_addr *v6;

	memset(key, 0, sizeof(*key));
	if (ip4_of(sa, len, &v4)) {
		key->b[0] = 4;
		memcpy(&key->b[1], &v4.s_addr, 4);
		return 0;
	}
	v6 = ip6_of(sa, len);
	if (!v6)
		return -EAFNOSUPPORT;
	key->b[0] = 6;
	memcpy(&key->b[1], v6->s6_addr, 8);
	return 0;
}

void addr_source_text(const struct addr_src *key, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (key->b[0] == 4) {
		inet_ntop(AF_INET, &key->b[1], host, sizeof(host));
		snprintf(buf, size, "%s", host);
	} else if (key->b[0] == 6) {
		struct in6_addr a;

		memset(&a, 0, sizeof(a));
		memcpy(a.s6_addr, &key->b[1], 8);
		inet_ntop(AF_INET6, &a, host, sizeof(host));
		snprintf(buf, size, "%s/64", host);
	} else {
		snprintf(buf, size, "?");
	}
}

int addr_net_parse(const char *text, struct addr_net *n)
{
	char addr[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned char b[16];
	unsigned long bits;
	int v6;

	if (strlen(text) >= sizeof(addr))
		return -EINVAL;
	strcpy(addr, text);
	slash = strchr(addr, '/');
	if (slash)
		*slash++ = '\0';
	v6 = strchr(addr, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, b) != 1)
		return -EINVAL;
	bits = v6 ? 128 : 32;
	if (slash) {
		errno = 0;
		bits = strtoul(slash, &end, 10);
		if (!*slash || *end || errno || bits > (v6 ? 128u : 32u))
			return -EINVAL;
	}
	memset(n, 0, sizeof(*n));
	if (v6 && !memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memmove(b, b + 12, 4); /* IPv4-mapped: the IPv4 source, as addr.c does */
		v6 = 0;
		bits = bits >= 96 ? bits - 96 : 0;
	}
	n->key.b[0] = v6 ? 6 : 4;
	memcpy(&n->key.b[1], b, v6 ? 8 : 4);
	n->bits = v6 && bits > 64 ? 64 : (unsigned)bits;
	return 0;
}

bool addr_net_has(const struct addr_net *n, const struct addr_src *key)
{
	unsigned whole = n->bits / 8, rest = n->bits % 8;

	if (key->b[0] != n->key.b[0] || memcmp(&key->b[1], &n->key.b[1], whole))
		return false;
	return !rest ||
	       !((key->b[1 + whole] ^ n->key.b[1 + whole]) & (0xff00u >> rest) & 0xff);
}
