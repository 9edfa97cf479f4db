/* gw_int.h: the gateway's parts shared by gw.c (sockets, TLS, output), gw_http.c (the
 * requests) and gw_ws.c (WebSocket messages and the session toward intercomd). */
#ifndef IC_GW_INT_H
#define IC_GW_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "guard.h"
#include "gw.h"
#include "http.h"
#include "ic_limits.h"
#include "loop.h"
#include "users.h"
#include "web_limits.h"
#include "ws.h"

/* Input held per connection: one TLS record (16 KiB) beside a whole frame or head. */
#define GW_IN_MAX (16384 + HTTP_HEAD_MAX + 64)

enum cstate { C_HANDSHAKE, C_HTTP, C_BODY, C_WS, C_CLOSING };

struct gw;
struct up;

struct conn {
	struct gw *gw;
	int fd;
	void *ssl;    /* SSL *, NULL on the plain-http port */
	bool landing; /* the plain-http port */
	enum cstate st;
	struct addr_src src;
	struct guard_link hs;	/* counted while its TLS handshake runs */
	struct guard_link pend; /* counted until it is a WebSocket */
	char peer[64];
	uint64_t last_rx;
	struct tmr tmr; /* handshake and head bound, then the WebSocket's ping */
	uint8_t in[GW_IN_MAX];
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_cap;
	bool tls_want_write;
	bool close_after; /* close once the output is flushed */
	/* a request body being written to the test sink */
	FILE *body;
	long body_left;
	char body_path[GW_PATH_MAX + 80];
	/* the WebSocket */
	struct ws_msg msg;
	uint8_t msgbuf[WEB_WS_MSG_MAX];
	char user[IC_NICK_MAX + 1];
	char secret[USERS_SECRET_HEX + 1]; /* its cookie's, wiped when it ends */
	void *uctx;			   /* SSL_CTX * with the user's identity */
	struct up *up;
};

/* A user's refused login, held for WEB_REFUSED_HOLD_MS (gw_ws.c). */
struct gw_held {
	char user[IC_NICK_MAX + 1];
	uint64_t until;
	char why[200];
};

struct gw {
	const struct gw_cfg *cfg;
	struct loop *loop;
	struct ca *ca;
	void *bctx; /* SSL_CTX * toward browsers */
	int lfd, hfd;
	unsigned port, http_port;
	struct conn *conns[WEB_CONNS_MAX];
	unsigned nconns;
	struct guard *guard; /* handshakes and connections per source, server/guard's */
	struct tmr recheck; /* users removed or enrolled again while their page is open */
	struct gw_held held[WEB_USERS_MAX];
};

/* Queue bytes for c. Past WEB_OUTQ_MAX the browser is not reading: it is closed
 * (returns -ENOBUFS; c is gone only after the current event). */
int gw_send(struct conn *c, const void *p, size_t len);
/* An HTTP response with body[0..len) (extra: more header lines, each ending CRLF). */
int gw_respond(struct conn *c, int status, const char *type, const char *extra,
	       const void *body, size_t len);
/* Close c now (from the loop; c is freed). */
void gw_close(struct conn *c, const char *why);
/* Close once the output is flushed. */
void gw_close_after(struct conn *c);

/* gw_http.c: one complete request head in c->in[0..n) parsed as r. Returns 0, or
 * -ECONNRESET when c was closed. */
int gw_request(struct conn *c, const struct http_req *r);
/* The body bytes of a test-sink POST. */
void gw_body(struct conn *c, const uint8_t *p, size_t len);

/* gw_ws.c */
int gw_ws_open(struct conn *c, const struct http_req *r, const char *user);
/* Frames in c->in: returns bytes consumed, or -ECONNRESET when c was closed. */
int gw_ws_input(struct conn *c);
void gw_ws_tick(struct conn *c); /* the ping timer */
int gw_ws_send(struct conn *c, uint8_t op, const void *p, size_t len);
void gw_ws_close(struct conn *c, uint16_t code, const char *why);
void gw_ws_free(struct conn *c);
/* Close every page whose user was removed, or enrolled again (its cookie ended). */
void gw_ws_recheck(struct gw *g);

#endif
