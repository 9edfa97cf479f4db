/* Fuzz: the encrypted relay (protocol 1.1, section 3), in process and without sockets.
 * Two TLS sessions, A and B, log in to one hub and register their voice addresses; then
 * the fuzzer's records arrive as voice, each starting with an op byte:
 *   0: a raw datagram from A's address: a length byte, then the bytes
 *   1: a packet sealed with A's real key: counter (2 bytes, low bits), a length byte and
 *      the payload, then a bit to flip (2 bytes; past the packet: none)
 *   2: a raw datagram from another host: a length byte, then the bytes
 * Checks: nothing is ever relayed without a valid tag under A's key and a counter not
 * accepted before (an independent model of the window decides); what is relayed is the
 * packet as opened; every copy to B is sealed with B's key, and B's counters never
 * repeat. */
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
#include "seqwin.h"
#include "vcrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_setup("fuzz_relay", LOG_ERR);
	return 0;
}

static struct hubfake fk[2];
static struct sockaddr_in addr[3];
static struct vc_key c2s[2], s2c[2];
static uint32_t ssrc[2];
static struct voice_dest dests[4];
static uint8_t out[IC_RTP_MAX + 64];

/* CONNECT and PONG for session i over TLS; its keys from VOICE. */
static void login(struct hub *h, int i, uint64_t now)
{
	static const char *const fps[2] = {
	    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"};
	char line[1024], pong[64];
	unsigned port;
	int n;

	hub_secure(h, fk[i].s, fps[i], 0);
	n = snprintf(line, sizeof(line), "CONNECT: \"N%d\" \"R\" 1.1.0\n", i);
	hub_input(h, fk[i].s, line, (size_t)n, now);
	if (!hubfake_find(&fk[i], "VOICE: ", line, sizeof(line)) ||
	    msg_parse_voice_tls(line + 7, &port, &ssrc[i], &c2s[i], &s2c[i]) ||
	    !hubfake_find(&fk[i], "PING: ", line, sizeof(line)))
		abort();
	n = snprintf(pong, sizeof(pong), "PONG: %s\n", line + 6);
	hub_input(h, fk[i].s, pong, (size_t)n, now);
}

static int seal(const struct vc_key *k, uint32_t who, uint64_t ctr, const uint8_t *pl,
		size_t len, uint8_t *pkt)
{
	uint8_t rtp[IC_RTP_MAX];
	struct rtp_hdr hd = {false, IC_RTP_PT_OPUS, (uint16_t)ctr, 960u * (uint32_t)ctr,
			     who};
	struct vc *v;
	int n = rtp_pack(rtp, sizeof(rtp), &hd, NULL, pl, len);

	if (n < 0 || vc_new(&v, k, true))
		abort();
	n = vc_seal(v, ctr, rtp, (size_t)n, pkt, IC_RTP_MAX + 64);
	vc_free(v);
	return n;
}

static size_t voice(struct hub *h, const uint8_t *pkt, size_t len, int from, uint64_t now,
		    size_t *olen)
{
	return hub_voice(h, pkt, len, (struct sockaddr *)&addr[from], sizeof(addr[from]),
			 now, out, olen, dests);
}

/* What a correct relay did with pkt (nd copies), checked against an independent
 * opening with A's key and an independent window. */
static void check(const uint8_t *pkt, size_t len, size_t nd, size_t olen,
		  struct vc *a_open, struct ctrwin *model, uint64_t *b_next)
{
	uint8_t plain[IC_RTP_MAX + 64];
	uint64_t ctr;
	int n;

	if (!nd)
		return;
	n = vc_open(a_open, pkt, len, IC_RTP_MAX, plain, sizeof(plain), &ctr);
	if (n < 0 || ctrwin_check(model, ctr) == SEQ_REJECT)
		abort(); /* relayed without a valid tag, or a replay */
	ctrwin_mark(model, ctr);
	if ((size_t)n != olen || memcmp(plain, out, olen))
		abort(); /* relayed something other than what was sent */
	for (size_t i = 0; i < nd; i++) {
		if (!dests[i].seal)
			abort(); /* a copy in the clear */
		if (dests[i].addr == (const struct sockaddr *)&addr[0])
			continue; /* a keepalive's answer, under A's own key */
		if (dests[i].ctr < *b_next)
			abort(); /* a counter of B's used again */
		*b_next = dests[i].ctr + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hub_conf c = {"FuzzRelay", 6060,	 4,    15000, 45000, 30000, hubfake_rand,
			     0,		  false, NULL, NULL,  false, NULL};
	struct hub *h = NULL;
	struct vc *a_open = NULL;
	struct ctrwin model;
	uint64_t now = 1000, b_next = 0;
	uint8_t pkt[IC_RTP_MAX + 64];
	size_t i = 0, olen;

	hubfake_seed(3);
	if (hub_new(&h, &c))
		return 0;
	for (int k = 0; k < 3; k++) {
		memset(&addr[k], 0, sizeof(addr[k]));
		addr[k].sin_family = AF_INET;
		addr[k].sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)k);
		addr[k].sin_port = htons((uint16_t)(40000 + k));
	}
	for (int k = 0; k < 2; k++) {
		hubfake_init(&fk[k]);
		if (hub_open(h, &fk[k].tp, (struct sockaddr *)&addr[k], sizeof(addr[k]),
			     now, &fk[k].s))
			abort();
		login(h, k, now);
	}
	/* B's keepalive gives it a voice address; the copies to it start after */
	olen = (size_t)seal(&c2s[1], ssrc[1], 0, NULL, 0, pkt);
	if (voice(h, pkt, olen, 1, now, &olen) != 1 || !dests[0].seal)
		abort();
	b_next = dests[0].ctr + 1;
	if (vc_new(&a_open, &c2s[0], false))
		abort();
	ctrwin_init(&model);
	while (i < size) {
		uint8_t op = data[i++] % 3;
		size_t n, len, nd;

		if (i >= size)
			break;
		if (op == 1) {
			uint16_t flip;

			if (size - i < 5)
				break;
			n = data[i + 2] % 200;
			if (n > size - i - 5)
				n = size - i - 5;
			len = (size_t)seal(&c2s[0], ssrc[0],
					   (uint64_t)(data[i] << 8 | data[i + 1]),
					   data + i + 5, n, pkt);
			flip = (uint16_t)(data[i + 3] << 8 | data[i + 4]);
			if (flip / 8 < len)
				pkt[flip / 8] ^= (uint8_t)(1u << (flip % 8));
			i += 5 + n;
		} else {
			n = data[i++];
			len = n > size - i ? size - i : n;
			memcpy(pkt, data + i, len);
			i += len;
		}
		now += 20;
		nd = voice(h, pkt, len, op == 2 ? 2 : 0, now, &olen);
		if (op == 2 && nd)
			abort(); /* another host moves nothing */
		check(pkt, len, nd, olen, a_open, &model, &b_next);
		olen = 0;
	}
	vc_free(a_open);
	hub_reap(h, hubfake_closed, NULL);
	hub_free(h);
	for (int k = 0; k < 2; k++) {
		vc_key_wipe(&c2s[k]);
		vc_key_wipe(&s2c[k]);
	}
	return 0;
}
