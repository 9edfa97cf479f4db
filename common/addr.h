/* addr.h: socket addresses as the server judges them: one text form for logs, the same
 * host whatever the family it arrived on, and the "source" that per-host limits count.
 * Pure functions of their arguments. */
#ifndef IC_ADDR_H
#define IC_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <netinet/in.h>

/* Room for an IPv4 or IPv6 socket address, and no more: a session keeps two (its TCP
 * peer, its voice address), and sockaddr_storage would be 100 bytes more each. */
union addr_ip {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* A source for per-host limits: an IPv4 address, or an IPv6 /64 (one host can own a whole
 * /64 through privacy addresses, so counting single IPv6 addresses would bound nothing).
 * An IPv4-mapped IPv6 address is its IPv4 address. */
struct addr_src {
	uint8_t b[9]; /* b[0]: 4 or 6; then 4 or 8 bytes, the rest zero */
};

/* "1.2.3.4:5" or "[::1]:5" into buf (IPv4-mapped IPv6 printed as IPv4); "?" when the
 * family is neither or len is short. Never fails; buf is always terminated. */
void addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* True when a and b name the same IP address (ports ignored; an IPv4-mapped IPv6
 * address equals its IPv4 address). False for any other family or a short length. */
bool addr_same_ip(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
		  socklen_t blen);

/* The source key of sa. Returns 0, or -EAFNOSUPPORT (key zeroed) for another family. */
int addr_source(const struct sockaddr *sa, socklen_t len, struct addr_src *key);

/* The source key's text for logs: "1.2.3.4" or "2001:db8:1:2::/64". */
void addr_source_text(const struct addr_src *key, char *buf, size_t size);

/* A network of sources: a source key and how many of its leading address bits must
 * match (at most 32 for IPv4, 64 for IPv6: a longer IPv6 prefix counts as its /64). */
struct addr_net {
	struct addr_src key;
	unsigned bits;
};

/* "ADDR" or "ADDR/BITS" (IPv4 or IPv6; an IPv4-mapped IPv6 address or prefix is its IPv4
 * one) into n. Returns 0, or -EINVAL (n unchanged) when text is neither. */
int addr_net_parse(const char *text, struct addr_net *n);
/* Whether the source key is in n. */
bool addr_net_has(const struct addr_net *n, const struct addr_src *key);

#endif
