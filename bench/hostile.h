/* hostile.h: the attackers a hostile host on the LAN would run, shared by bench_attack
 * (which measures what honest clients get through them) and integration_hostile (which
 * asserts it). Hosts are loopback addresses: on Linux all of 127.0.0.0/8 is loopback,
 * and the server tells them apart as it would on a LAN. */
#ifndef IC_HOSTILE_H
#define IC_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ic_limits.h"

/* Log in and out from `from` (IPv4 text) to 127.0.0.1:port as fast as the server
 * answers, for ms: CONNECT, PONG, DISCONNECT, wait for the close. Plain blocking
 * sockets, no asserts: runs in a child process. Returns the cycles completed. */
unsigned hostile_churn(unsigned port, const char *from, uint64_t ms);

/* The same over TLS 1.3 (protocol 1.1): a handshake with one identity of the
 * churner's each cycle, CONNECT 1.1.0 (hostile_tls.c, in ic_benchtls: OpenSSL). */
unsigned hostile_churn_tls(unsigned port, const char *from, uint64_t ms);

/* A session's voice, as the flooder sends it. */
struct hostile_voice {
	int fd; /* a UDP socket (bound where the packets should come from) */
	unsigned port;
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	uint16_t seq;
	uint32_t ts;
	/* over TLS: seals an RTP packet (no token) into out, returning its length or < 0
	 * (a member's own key, as a flooding member has it); NULL: token voice */
	int (*seal)(void *arg, const uint8_t *rtp, size_t len, uint8_t *out, size_t size);
	void *seal_arg;
};

/* n packets (at most 64) of `payload` bytes to 127.0.0.1:port in one sendmmsg. Returns
 * how many the kernel took (the rest is the flooder's own loss). */
unsigned hostile_burst(struct hostile_voice *v, unsigned n, size_t payload);

/* Send the packets due by now at pps a second since start_ms (hostile_ms's clock) in
 * bursts of up to 64; *sent counts those offered so far, returned too. Call it often. */
uint64_t hostile_flood_step(struct hostile_voice *v, uint64_t start_ms, uint64_t *sent,
			    unsigned pps, size_t payload);

/* Milliseconds on the monotonic clock. */
uint64_t hostile_ms(void);

#endif
