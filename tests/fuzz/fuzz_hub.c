/* Fuzz: the server's whole session handling, in process and without sockets. Two
 * sessions take the fuzzer's bytes, a third (Peer, logged in, in #Lobby) is the
 * well-behaved user they can reach; time passes, voice arrives (built with a session's
 * real ssrc and token, or raw), output can stall. Records, each starting with an op
 * byte:
 *   0: bytes to A or B (bit 2 picks B): a length byte, then the bytes
 *   1: time passes: a byte, in 100 ms steps (pings, login and ring timeouts)
 *   2: voice from A or B with its real ssrc and token: seq(2) ts(4) flags(1) len(1)
 * payload 3: a raw datagram from A's or B's address: a length byte, then the bytes bit 3:
 * that session's transport stops (or starts again) taking output bit 4: first, that
 * session answers its last PING (the cookie is random) Checks: Peer's session survives
 * whatever A and B do, unless Peer itself times out. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "hubfake.h"
#include "log.h"
#include "msg.h"
#include "rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_setup("fuzz_hub", LOG_ERR); /* a line per login would be most of the work */
	return 0;
}

static struct hubfake fk[3];
static struct sockaddr_in addr[3];
static uint32_t ssrc[3];
static uint8_t token[3][IC_TOKEN_LEN];
static uint8_t out[IC_RTP_MAX + 64];
static struct voice_dest dests[8];

static char cookie[3][16];

/* Read what the hub wrote to session i: its ssrc and token (VOICE), its last PING. */
static void scan(int i)
{
	char line[1024];
	unsigned port;

	while (hubfake_line(&fk[i], line, sizeof(line))) {
		if (!strncmp(line, "PING: ", 6))
			snprintf(cookie[i], sizeof(cookie[i]), "%.15s", line + 6);
		else if (!strncmp(line, "VOICE: ", 7))
			msg_parse_voice(line + 7, &port, &ssrc[i], token[i]);
	}
	fk[i].len = 0; /* a line too long for line[] */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hub_conf c = {"FuzzHub", 6060,  4,    15000, 45000, 30000, hubfake_rand,
			     2,		false, NULL, NULL,  false, NULL};
	const char *peer_login = "CONNECT: \"Peer\" \"P\" 1.0.0\n";
	struct hub *h = NULL;
	uint64_t now = 1000;
	size_t i = 0;
	char pong[64];
	int pl;

	hubfake_seed(1);
	if (hub_new(&h, &c))
		return 0;
	for (int k = 0; k < 3; k++) {
		hubfake_init(&fk[k]);
		ssrc[k] = 0;
		memset(token[k], 0, sizeof(token[k]));
		cookie[k][0] = '\0';
		memset(&addr[k], 0, sizeof(addr[k]));
		addr[k].sin_family = AF_INET;
		/* the two fuzzed clients share a host (its pending limit is 2), the peer
		 * has its own */
		addr[k].sin_addr.s_addr = htonl(INADDR_LOOPBACK + (k == 2));
		addr[k].sin_port = htons((uint16_t)(40000 + k));
		if (hub_open(h, &fk[k].tp, (struct sockaddr *)&addr[k], sizeof(addr[k]),
			     now, &fk[k].s))
			abort();
	}
	/* Peer logs in and answers its PING */
	hub_input(h, fk[2].s, peer_login, strlen(peer_login), now);
	scan(2);
	pl = snprintf(pong, sizeof(pong), "PONG: %s\n", cookie[2]);
	hub_input(h, fk[2].s, pong, (size_t)pl, now);
	while (i < size) {
		uint8_t op = data[i++];
		int who = (op & 4) ? 1 : 0;
		struct hubfake *f = &fk[who];
		size_t n;

		if ((op & 16) && f->s && cookie[who][0]) {
			/* the client answers its PING (the cookie is random) */
			int k = snprintf(pong, sizeof(pong), "PONG: %s\n", cookie[who]);

			hub_input(h, f->s, pong, (size_t)k, now);
		}
		if (op & 8)
			f->refuse = !f->refuse;
		switch (op & 3) {
		case 0:
			if (i >= size)
				break;
			n = data[i++];
			if (n > size - i)
				n = size - i;
			if (f->s)
				hub_input(h, f->s, (const char *)data + i, n, now);
			i += n;
			break;
		case 1:
			if (i < size)
				now += 100u * data[i++];
			hub_tick(h, now);
			break;
		case 2: {
			struct rtp_hdr hd = {0};
			uint8_t pkt[IC_RTP_MAX + 64];
			size_t outlen;
			int len;

			if (size - i < 8)
				break;
			hd.seq = (uint16_t)(data[i] << 8 | data[i + 1]);
			hd.ts = (uint32_t)data[i + 2] << 24 |
				(uint32_t)data[i + 3] << 16 | (uint32_t)data[i + 4] << 8 |
				data[i + 5];
			hd.marker = data[i + 6] & 1;
			hd.pt = (data[i + 6] & 2) ? IC_RTP_PT_OPUS : data[i + 6] >> 1;
			hd.ssrc = ssrc[who];
			n = data[i + 7];
			i += 8;
			if (n > size - i)
				n = size - i;
			len = rtp_pack(pkt, sizeof(pkt), &hd, token[who], data + i, n);
			i += n;
			if (len > 0)
				hub_voice(h, pkt, (size_t)len,
					  (struct sockaddr *)&addr[who],
					  sizeof(addr[who]), now, out, &outlen, dests);
			break;
		}
		case 3: {
			size_t outlen;

			if (i >= size)
				break;
			n = data[i++];
			if (n > size - i)
				n = size - i;
			hub_voice(h, data + i, n, (struct sockaddr *)&addr[who],
				  sizeof(addr[who]), now, out, &outlen, dests);
			i += n;
			break;
		}
		}
		for (int k = 0; k < 3; k++) {
			if (fk[k].s)
				hub_flush(h, fk[k].s);
			scan(k);
		}
		hub_reap(h, hubfake_closed, NULL);
		/* Peer stays unless its own ping timed out (it answers none after login)
		 */
		if (!fk[2].s && now < 1000 + 45000)
			abort();
	}
	hub_free(h);
	return 0;
}
