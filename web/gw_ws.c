/* The gateway's WebSockets (docs/WEB.md): the upgrade, the page's messages to its
 * session toward intercomd and that session's lines and voice back, keepalive. */
#include "gw_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "ident.h"
#include "log.h"
#include "tlsctx.h"
#include "up.h"
#include "users.h"
#include "wfilter.h"

int gw_ws_send(struct conn *c, uint8_t op, const void *p, size_t len)
{
	uint8_t frame[WS_HDR_MAX + IC_RTP_MAX + 64];
	uint8_t *buf =
	    len + WS_HDR_MAX <= sizeof(frame) ? frame : malloc(len + WS_HDR_MAX);
	int n, e;

	if (!buf)
		return -ENOMEM;
	n = ws_build(buf, len + WS_HDR_MAX, true, op, p, len, NULL);
	e = n < 0 ? n : gw_send(c, buf, (size_t)n);
	if (buf != frame)
		free(buf);
	return e;
}

void gw_ws_close(struct conn *c, uint16_t code, const char *why)
{
	uint8_t p[WS_CONTROL_MAX];

	if (c->st != C_WS)
		return;
	gw_ws_send(c, WS_OP_CLOSE, p, ws_close_payload(p, code, why));
	log_info("%s %s: WebSocket closed (%u %s)", c->peer, c->user, code, why);
	gw_close_after(c);
}

static void on_line(void *arg, const char *line)
{
	gw_ws_send(arg, WS_OP_TEXT, line, strlen(line));
}

static void on_state(void *arg, const char *state, const char *why)
{
	char line[400];
	int n = snprintf(line, sizeof(line), "WEB STATE %s%s%s", state, why[0] ? " " : "",
			 why);

	gw_ws_send(arg, WS_OP_TEXT, line,
		   n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void on_voice(void *arg, const uint8_t *frame, size_t len)
{
	gw_ws_send(arg, WS_OP_BINARY, frame, len);
}

/* The hold on user's logins, or NULL: a free slot (or an expired one) when make. */
static struct gw_held *held(struct gw *g, const char *user, uint64_t now, bool make)
{
	struct gw_held *free_slot = NULL;

	for (unsigned i = 0; i < WEB_USERS_MAX; i++) {
		struct gw_held *h = &g->held[i];

		if (h->until > now && !strcmp(h->user, user))
			return h;
		if (h->until <= now && !free_slot)
			free_slot = h;
	}
	return make ? free_slot : NULL;
}

static void on_ended(void *arg, const char *why)
{
	struct conn *c = arg;
	uint64_t now = loop_now(c->gw->loop);
	struct gw_held *h;

	/* the page was told in WEB STATE; it reconnects with backoff. A refused login is
	 * held, so the user's reloads do not count failures against the gateway's
	 * address, which all users share (WEB_REFUSED_HOLD_MS). */
	if (!strncmp(why, "ERROR ", 6) && (h = held(c->gw, c->user, now, true))) {
		snprintf(h->user, sizeof(h->user), "%s", c->user);
		snprintf(h->why, sizeof(h->why), "%s", why);
		h->until = now + WEB_REFUSED_HOLD_MS;
		log_warn("%s: login refused by intercomd: %s (not tried again for %d s)",
			 c->user, why, WEB_REFUSED_HOLD_MS / 1000);
		if (strstr(why, "SERVER_FULL") && strstr(why, "address"))
			log_err("intercomd limits sessions per address, and every "
				"browser user comes from this gateway's: add this "
				"host's address to intercomd's `trusted` (docs/WEB.md)");
	} else {
		log_info("%s %s: the session toward intercomd ended: %s", c->peer,
			 c->user, why);
	}
	gw_ws_close(c, WS_CLOSE_GOING_AWAY, "the session toward intercomd ended");
}

/* The user's identity and TLS context, then the session toward intercomd. */
static int start_up(struct conn *c)
{
	static const struct up_handlers h = {on_line, on_state, on_voice, on_ended};
	const struct gw_cfg *cfg = c->gw->cfg;
	struct up_cfg uc = {cfg->server, cfg->server_port, cfg->server_fp, cfg->state_dir,
			    cfg->password};
	char dir[GW_PATH_MAX + 64], err[600];
	struct ident *id = NULL;
	bool made;
	int e;

	snprintf(dir, sizeof(dir), "%s/" USERS_IDENT_DIR "/%s", cfg->state_dir, c->user);
	e = ident_load(&id, dir, NULL, c->user, &made, err, sizeof(err));
	if (e) {
		log_err("%s", err);
		return e;
	}
	e = tlsctx_new(&c->uctx, id, false, err, sizeof(err));
	ident_free(id); /* the context holds its own references */
	if (e) {
		log_err("%s", err);
		return e;
	}
	return up_new(&c->up, c->gw->loop, &uc, c->uctx, c->user, &h, c);
}

/* One session per user: an older page of the same user gives way. */
static void replace_older(struct conn *c, const char *user)
{
	struct gw *g = c->gw;

	for (unsigned i = 0; i < g->nconns; i++) {
		struct conn *o = g->conns[i];

		if (o != c && o->st == C_WS && !strcmp(o->user, user)) {
			gw_ws_close(o, WS_CLOSE_POLICY, "opened again in another page");
			gw_ws_free(o);
		}
	}
}

/* A ping (the browser answers it by itself: the gateway's liveness check) and a line the
 * page sees (the page's: web_limits.h), then the next tick. */
static void keepalive(struct conn *c)
{
	unsigned ms = c->gw->cfg->keepalive * 1000;
	char line[32];

	gw_ws_send(c, WS_OP_PING, "", 0);
	gw_ws_send(c, WS_OP_TEXT, line,
		   (size_t)snprintf(line, sizeof(line), "WEB ALIVE %u", ms));
	if (c->st == C_WS)
		tmr_start(c->gw->loop, &c->tmr, ms, (void (*)(void *))gw_ws_tick, c);
}

int gw_ws_open(struct conn *c, const struct http_req *r, const char *user)
{
	char accept[WS_ACCEPT_LEN + 1], extra[200], line[64];
	struct gw_held *h;

	if (ws_accept(r->ws_key, strlen(r->ws_key), accept))
		return gw_respond(c, 400, "text/plain", "", "bad Sec-WebSocket-Key\n",
				  22);
	replace_older(c, user);
	snprintf(
	    extra, sizeof(extra),
	    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
	    accept);
	/* a 101 has no body: its Content-Length: 0 is harmless to browsers */
	if (gw_respond(c, 101, "text/plain", extra, "", 0))
		return -ECONNRESET;
	c->st = C_WS;
	guard_pending_done(c->gw->guard, &c->pend); /* a user's now: never a victim */
	snprintf(c->user, sizeof(c->user), "%s", user);
	ws_msg_init(&c->msg, c->msgbuf, sizeof(c->msgbuf));
	log_info("%s: WebSocket of user %s", c->peer, user);
	gw_ws_send(c, WS_OP_TEXT, line,
		   (size_t)snprintf(line, sizeof(line), "WEB NICK %s", user));
	h = held(c->gw, user, loop_now(c->gw->loop), false);
	if (h) { /* refused a moment ago: told again without asking intercomd */
		on_state(c, "offline", h->why);
		gw_ws_close(c, WS_CLOSE_GOING_AWAY, "the session toward intercomd ended");
		return 0;
	}
	on_state(c, "connecting", "");
	if (start_up(c)) {
		gw_ws_close(c, WS_CLOSE_INTERNAL,
			    "cannot start the session (see the log)");
		return 0;
	}
	keepalive(c);
	return 0;
}

static void message(struct conn *c)
{
	const uint8_t *opus;
	size_t olen;
	bool start;
	int e;

	if (c->msg.op == WS_OP_TEXT) {
		e = wfilter_up_line((const char *)c->msg.buf, c->msg.len);
		if (e) {
			gw_ws_close(c, WS_CLOSE_POLICY,
				    e == -EPERM ? "not a line a page may send"
						: "a bad line");
			return;
		}
		if (c->up)
			up_line(c->up, (const char *)c->msg.buf, c->msg.len);
		return;
	}
	if (wfilter_up_voice(c->msg.buf, c->msg.len, &opus, &olen, &start)) {
		gw_ws_close(c, WS_CLOSE_POLICY, "not a voice frame");
		return;
	}
	if (c->up)
		up_voice(c->up, opus, olen, start, loop_now(c->gw->loop));
}

static void control(struct conn *c, const struct ws_frame *f)
{
	uint16_t code;

	if (f->op == WS_OP_PING) {
		gw_ws_send(c, WS_OP_PONG, f->payload, f->len);
	} else if (f->op == WS_OP_CLOSE) {
		if (ws_close_parse(f->payload, f->len, &code))
			gw_ws_close(c, WS_CLOSE_PROTOCOL, "a bad close frame");
		else
			gw_ws_close(c, WS_CLOSE_NORMAL, "closed by the page");
	}
}

int gw_ws_input(struct conn *c)
{
	struct ws_frame f;
	uint16_t code;
	int n = ws_parse(c->in, c->in_len, true, WEB_WS_MSG_MAX, &f, &code), e;

	if (n < 0) {
		gw_ws_close(c, code,
			    n == -EMSGSIZE ? "a frame over the bound" : "a bad frame");
		return -ECONNRESET;
	}
	if (n == 0)
		return 0;
	if (f.op >= WS_OP_CLOSE) {
		control(c, &f);
	} else {
		e = ws_msg_feed(&c->msg, &f, &code);
		if (e < 0) {
			gw_ws_close(c, code, "a bad message");
			return -ECONNRESET;
		}
		if (e == 1)
			message(c);
	}
	return c->st == C_CLOSING ? -ECONNRESET : n;
}

void gw_ws_tick(struct conn *c)
{
	unsigned idle_s = WEB_IDLE_PERIODS * c->gw->cfg->keepalive;

	if (loop_now(c->gw->loop) - c->last_rx >= (uint64_t)idle_s * 1000) {
		log_info("%s %s: silent for %u s: closed", c->peer, c->user, idle_s);
		gw_close(c, "silent");
		return;
	}
	keepalive(c);
}

void gw_ws_recheck(struct gw *g)
{
	char err[300], name[IC_NICK_MAX + 1];
	struct users *u;

	if (users_load(&u, g->cfg->state_dir, err, sizeof(err))) {
		log_err("%s", err);
		return; /* a file being mended: nobody is dropped for it */
	}
	for (unsigned i = 0; i < g->nconns; i++) {
		struct conn *c = g->conns[i];

		if (c->st == C_WS &&
		    (users_check(u, c->secret, name) || strcmp(name, c->user))) {
			log_info("%s %s: no longer enrolled (removed, or enrolled again)",
				 c->peer, c->user);
			gw_ws_close(c, WS_CLOSE_POLICY, "no longer enrolled");
			gw_ws_free(c);
		}
	}
	users_free(u);
}

void gw_ws_free(struct conn *c)
{
	explicit_bzero(c->secret, sizeof(c->secret));
	up_free(c->up);
	c->up = NULL;
	if (c->uctx)
		tlsctx_free(c->uctx);
	c->uctx = NULL;
}
