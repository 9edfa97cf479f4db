/* ringhub.h: driving a hub of up to NBOX boxes without sockets, for the ring group tests
 * (test_ring): log in (in the clear or over TLS), send lines, read each box's lines but
 * room lists and PINGs, send voice and see where its copies go. Include after cmocka.h,
 * once per test program. */
#ifndef IC_RINGHUB_H
#define IC_RINGHUB_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "hubfake.h"
#include "ic_limits.h"
#include "msg.h"
#include "rtp.h"

#define NBOX (IC_RING_GROUP_MAX + 8)

struct box {
	struct hubfake f;
	struct sockaddr_in addr; /* its TCP peer and its voice source */
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	uint16_t seq;
	char line[1024];
};

static struct box *bx; /* NBOX of them */
static struct hub *hub;
static uint64_t now;

static int setup(void **state)
{
	struct hub_conf c = {"RingHub", 6060,  NBOX, 15000, 45000, 30000, hubfake_rand,
			     0,		false, NULL, NULL,  false, NULL};

	(void)state;
	now = 1000;
	hubfake_seed(7);
	bx = calloc(NBOX, sizeof(*bx));
	assert_non_null(bx);
	return hub_new(&hub, &c);
}

static int teardown(void **state)
{
	(void)state;
	hub_free(hub);
	free(bx);
	return 0;
}

static void put(int i, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(int i, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	hub_input(hub, bx[i].f.s, buf, (size_t)n, now);
	hub_reap(hub, hubfake_closed, NULL);
}

/* Box i's next line but room lists (their coalescing is test_hub's), or NULL. */
static const char *next(int i)
{
	while (hubfake_line(&bx[i].f, bx[i].line, sizeof(bx[i].line))) {
		if (strncmp(bx[i].line, "USERLIST ", 9) &&
		    strncmp(bx[i].line, "PING: ", 6))
			return bx[i].line;
	}
	return NULL;
}

static void expect(int i, const char *line)
{
	const char *got = next(i);

	if (!got || strcmp(got, line))
		fail_msg("box %d: expected '%s', got '%s'", i, line,
			 got ? got : "(nothing)");
}

static void silent(int i)
{
	const char *got = next(i);

	if (got)
		fail_msg("box %d: expected nothing, got '%s'", i, got);
}

/* Box i logs in as nick speaking version; fp: over TLS with that key (its voice is not
 * used), else in the clear (1.0.0, 1.1.0, 1.2.0: any). */
static void login_key(int i, const char *nick, const char *version, const char *fp)
{
	char cookie[32];
	unsigned port;

	hubfake_init(&bx[i].f);
	bx[i].addr.sin_family = AF_INET;
	bx[i].addr.sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)i); /* 10.0.0.1+i */
	bx[i].addr.sin_port = htons(40000);
	assert_int_equal(hub_open(hub, &bx[i].f.tp, (struct sockaddr *)&bx[i].addr,
				  sizeof(bx[i].addr), now, &bx[i].f.s),
			 0);
	if (fp)
		hub_secure(hub, bx[i].f.s, fp, now);
	put(i, "CONNECT: \"%s\" \"\" %s", nick, version);
	expect(i, "ACCEPT: RingHub");
	assert_true(hubfake_find(&bx[i].f, "VOICE: ", bx[i].line, sizeof(bx[i].line)));
	assert_true(fp ||
		    !msg_parse_voice(bx[i].line + 7, &port, &bx[i].ssrc, bx[i].token));
	assert_true(hubfake_find(&bx[i].f, "PING: ", bx[i].line, sizeof(bx[i].line)));
	snprintf(cookie, sizeof(cookie), "%s", bx[i].line + 6);
	put(i, "PONG: %s", cookie);
	expect(i, "JOINED: #Lobby");
	bx[i].addr.sin_port = htons((uint16_t)(5000 + i)); /* its voice port */
}

static void login(int i, const char *nick, const char *version)
{
	login_key(i, nick, version, NULL);
}

/* A packet from box i (a keepalive when empty): the ports of its copies into ports,
 * returns how many. */
static int voice(int i, bool keepalive, uint16_t *ports)
{
	struct rtp_hdr h = {true, 111, ++bx[i].seq, bx[i].seq * 960u, bx[i].ssrc};
	struct voice_dest d[NBOX];
	uint8_t pkt[128], out[IC_RTP_MAX];
	size_t olen;
	int n = rtp_pack(pkt, sizeof(pkt), &h, bx[i].token,
			 keepalive ? NULL : (const uint8_t *)"opus", keepalive ? 0 : 4);

	n = (int)hub_voice(hub, pkt, (size_t)n, (struct sockaddr *)&bx[i].addr,
			   sizeof(bx[i].addr), now, out, &olen, d);
	for (int k = 0; k < n && ports; k++)
		ports[k] = ntohs(((const struct sockaddr_in *)d[k].addr)->sin_port);
	return n;
}

#endif
