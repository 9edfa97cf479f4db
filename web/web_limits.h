/* web_limits.h: every fixed limit of intercom-web, each with its reason (docs/LIMITS.md).
 * The protocol's own limits (line length, nick length) are proto/ic_limits.h's. */
#ifndef IC_WEB_LIMITS_H
#define IC_WEB_LIMITS_H

/* Enrolled users: each may hold one session toward intercomd; a household's phones fit
 * many times over, and the users file stays one small read. */
#define WEB_USERS_MAX 64

/* Browser connections at once (TLS, HTTP or WebSocket): select() watches at most 1024
 * fds and each WebSocket user costs a TCP socket toward intercomd too. */
#define WEB_CONNS_MAX 200

/* TLS handshakes in progress at once, and from one source address (an IPv4 address or
 * an IPv6 /64), on intercomd's pool (server/guard.c): when it is full, a newcomer takes
 * the place of the oldest handshake of the source holding the most, so a host with many
 * addresses holding slow handshakes cannot keep a phone out. 8 a source, not
 * intercomd's 4: a browser opens up to 6 connections at once to load a page. */
#define WEB_HANDSHAKES_MAX	  32
#define WEB_HANDSHAKES_PER_SOURCE 8
#define WEB_HANDSHAKE_MS	  10000 /* a handshake or request head not done by then */

/* A WebSocket message from a page: one protocol line (IC_LINE_MAX) or one voice frame
 * (2 bytes and an Opus packet of at most IC_RTP_MAX). */
#define WEB_WS_MSG_MAX 1300

/* Unsent output to one browser: about 8 s of voice for four talkers and a full room's
 * USERLIST; past it the browser is not reading and is closed, costing nobody else. */
#define WEB_OUTQ_MAX (256 * 1024)

/* Kernel send buffer per browser socket: bounds kernel memory per browser, and a stalled
 * reader shows up in our own queue soon. */
#define WEB_SOCK_SNDBUF (64 * 1024)

/* A request body the gateway reads (POST /test/result, test-only). */
#define WEB_BODY_MAX (4 * 1024 * 1024)

/* Keepalive both ways (`keepalive`, seconds): every period the gateway sends a
 * WebSocket ping (which a browser answers by itself) and a "WEB ALIVE <ms>" line (which
 * the page sees: a phone on Wi-Fi that drops without a FIN learns it from the lines
 * stopping, not from TCP minutes later). Either end that hears nothing for
 * WEB_IDLE_PERIODS periods gives the connection up. 10 s: a phone notices a dead
 * gateway within 30 s, as a box notices a silent server (docs/WEB.md); each line costs
 * about 60 bytes per page per period. */
#define WEB_KEEPALIVE_S	    10
#define WEB_KEEPALIVE_MIN_S 1
#define WEB_KEEPALIVE_MAX_S 60
#define WEB_IDLE_PERIODS    3

/* How often open pages are checked against the users file: a user removed (or given a
 * new link) is out within this time, for the cost of one small read. */
#define WEB_RECHECK_MS 2000

/* A user whose login intercomd refused (ERROR before JOINED: a registered nick, a bad
 * password, blocked ...) is not logged in again for this long; its pages are told the
 * same refusal at once. intercomd counts failed logins per source and blocks the source
 * past IC_LOGIN_FAILS_MAX in IC_LOGIN_FAILS_MS, and every browser user shares the
 * gateway's source: without this, one phone reloading on a refused nick would lock
 * every other user out for IC_LOGIN_BLOCK_MS. At 60 s, one such user costs 2 of the 10.
 */
#define WEB_REFUSED_HOLD_MS 60000

#endif
