#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "board.h"
#include "engine.h"
#include "keyboard.h"
#include "log.h"
#include "loop.h"
#include "msg.h"
#include "net.h"
#include "pin.h"
#include "tlsctx.h"
#include "tones.h"
#include "voice.h"

struct client {
	const struct cfg *cfg;
	struct loop *loop;
	struct app *app;
	struct net *net;
	struct voice *voice;
	struct engine *eng;
	struct tmr house_tmr;
	uint64_t t0;
	bool called, ptt_down;
	struct board *board;
	bool kbd, kbd_ptt;
	enum led_state leds[LED_COUNT];
};

static void actions(struct client *c);

static void redraw(struct client *c)
{
	char st[160];

	if (!c->kbd)
		return;
	app_status(c->app, st, sizeof(st));
	kbd_draw(STDOUT_FILENO, st, c->leds);
}

/* Log lines and the status line share the terminal: clear it, print, draw it again. */
static void log_before(void *arg)
{
	(void)arg;
	kbd_clear(STDOUT_FILENO);
}

static void log_after(void *arg)
{
	redraw(arg);
}

static void set_led(struct client *c, enum app_led led, enum led_state s)
{
	c->leds[led] = s;
	if (c->board)
		board_led(c->board, led, s, loop_now(c->loop));
	redraw(c);
}

static void on_button(void *arg, enum app_btn b, bool down)
{
	struct client *c = arg;

	/* a person's pace: worth a line each, and the first thing to look at when a
	 * button seems to do the wrong thing */
	log_info("button %s %s", board_btn_name(b), down ? "pressed" : "released");
	app_button(c->app, b, down, loop_now(c->loop));
	actions(c);
}

static void board_event(int fd, int events, void *arg)
{
	struct client *c = arg;

	(void)events;
	board_input(c->board, fd, loop_now(c->loop));
}

static void kbd_event(int fd, int events, void *arg)
{
	struct client *c = arg;
	char k;

	(void)events;
	if (read(fd, &k, 1) != 1)
		return;
	switch (kbd_map(k)) {
	case KBD_PTT_TOGGLE:
		c->kbd_ptt = !c->kbd_ptt;
		on_button(c, BTN_PTT, c->kbd_ptt);
		break;
	case KBD_CALL:
		on_button(c, BTN_CALL, true);
		on_button(c, BTN_CALL, false);
		break;
	case KBD_ACCEPT:
		on_button(c, BTN_ACCEPT, true);
		on_button(c, BTN_ACCEPT, false);
		break;
	case KBD_DENY:
		on_button(c, BTN_DENY, true);
		on_button(c, BTN_DENY, false);
		break;
	case KBD_QUIT:
		loop_stop(c->loop);
		break;
	case KBD_NONE:
		break;
	}
}

static void on_connected(void *arg)
{
	struct client *c = arg;

	char plain[300], bracketed[300];
	const char *at = net_peer(c->net);

	/* the address too when a name (or several addresses) stood for it */
	snprintf(plain, sizeof(plain), "%s:%u", c->cfg->server, c->cfg->port);
	snprintf(bracketed, sizeof(bracketed), "[%s]:%u", c->cfg->server, c->cfg->port);
	if (!strcmp(at, plain) || !strcmp(at, bracketed))
		log_info("connected to %s", at);
	else
		log_info("connected to %s:%u at %s", c->cfg->server, c->cfg->port, at);
	app_connected(c->app, loop_now(c->loop));
	actions(c);
}

static void on_line(void *arg, const char *line)
{
	struct client *c = arg;
	char shown[IC_OUT_LINE_MAX];

	msg_redact(line, shown, sizeof(shown));
	log_debug("< %s", shown);
	app_line(c->app, line, loop_now(c->loop));
	actions(c);
}

/* The server's key against the pin (docs/SECURITY.md): nothing is sent before this. */
static int on_verify(void *arg, const char *fp, char *why, size_t whylen)
{
	struct client *c = arg;
	const struct cfg *f = c->cfg;
	char want[IDENT_FP_LEN + 1], err[700];
	bool added;
	int e = pin_check(f->state_dir, f->server, f->port, f->server_fp, fp, &added,
			  want, err, sizeof(err));

	if (!e) {
		if (added)
			log_info("server %s:%u: key %s trusted on first use (kept in "
				 "%s/" PIN_FILE ")",
				 f->server, f->port, fp, f->state_dir);
		else
			log_debug("server %s:%u: key %s as pinned", f->server, f->port,
				  fp);
		return 0;
	}
	if (e == -EPERM && f->server_fp[0])
		log_err("server %s:%u presented key %s, but server_fingerprint is %s: "
			"refused before sending anything. If the server was re-keyed on "
			"purpose, set server_fingerprint to what intercomd "
			"--fingerprint prints there",
			f->server, f->port, fp, want);
	else if (e == -EPERM) {
		char cmd[PIN_COMMAND_MAX];

		pin_forget_command(cmd, sizeof(cmd), f->state_dir, f->server);
		log_err("server %s:%u presented key %s, but it was %s when first "
			"trusted (%s/known_servers): refused before sending anything "
			"(another machine on its address, or something between us). If "
			"the server was re-keyed on purpose, run: %s",
			f->server, f->port, fp, want, f->state_dir, cmd);
	} else
		log_err("%s", err);
	snprintf(why, whylen, "%s",
		 e == -EPERM ? "the server's key is not the one trusted"
			     : "known_servers cannot be used");
	app_security(c->app, e == -EPERM
				 ? "security: the server's key changed (see "
				   "the log); not connecting"
				 : "security: known_servers unusable (see the log)");
	return -1;
}

static void on_closed(void *arg, const char *why)
{
	struct client *c = arg;

	log_warn("server %s:%u: %s; reconnecting", c->cfg->server, c->cfg->port, why);
	app_disconnected(c->app, loop_now(c->loop));
	actions(c);
}

static void on_voice(void *arg, const uint8_t *pkt, size_t len)
{
	struct client *c = arg;

	int r = voice_receive(c->voice, pkt, len, loop_now(c->loop));

	if (r == VOICE_RX_DROP)
		return; /* proves nothing about the voice path */
	if (r == VOICE_RX_START) {
		/* the times, for bench/latency: its parts at the listener */
		log_debug("voice: a talk spurt's first packet arrived at %llu ms",
			  (unsigned long long)loop_now(c->loop));
		engine_spurt(c->eng);
	}
	/* the socket is connected, and over TLS the tag says it is the server's */
	app_voice_heard(c->app, loop_now(c->loop));
}

static void send_keepalive(struct client *c)
{
	uint8_t pkt[IC_RTP_MAX];
	int n = voice_keepalive(c->voice, pkt);

	if (n > 0)
		net_voice_send(c->net, pkt, (size_t)n);
	app_voice_sent(c->app, loop_now(c->loop));
}

/* A line to the server (with its LF), logged without its secrets. */
static void send_line(struct client *c, char *line)
{
	size_t len = strcspn(line, "\n");
	char shown[sizeof(((struct app_act *)0)->line)];

	line[len] = '\0';
	msg_redact(line, shown, sizeof(shown));
	log_debug("> %s", shown);
	line[len] = '\n';
	if (net_send(c->net, line, len + 1))
		log_warn("line not sent (not connected)");
	explicit_bzero(line, len); /* a password's CONNECT */
}

static void actions(struct client *c)
{
	struct app_act a;
	uint64_t now = loop_now(c->loop);
	char st[160];
	int e;

	while (app_next(c->app, &a)) {
		switch (a.kind) {
		case ACT_CONNECT:
			e = net_connect(c->net, c->cfg->server, c->cfg->port);
			if (e) {
				log_warn("cannot reach server %s:%u: %s; retrying",
					 c->cfg->server, c->cfg->port, net_strerror(e));
				app_disconnected(c->app, now);
			}
			break;
		case ACT_CLOSE:
			net_close(c->net);
			app_disconnected(c->app, now);
			break;
		case ACT_SEND:
			send_line(c, a.line);
			break;
		case ACT_VOICE:
			if (a.keyed) {
				e = voice_set_keys(c->voice, a.ssrc, &a.c2s, &a.s2c);
				vc_key_wipe(&a.c2s);
				vc_key_wipe(&a.s2c);
				if (e)
					log_err("cannot set up encrypted voice: %s",
						strerror(-e));
			} else {
				voice_set_ids(c->voice, a.ssrc, a.token);
			}
			e = net_voice_open(c->net, a.port);
			if (e)
				log_warn("cannot open the voice socket: %s",
					 strerror(-e));
			break;
		case ACT_KEEPALIVE:
			send_keepalive(c);
			break;
		case ACT_TONE:
			engine_tone(c->eng, a.tone);
			if (a.tone != TONE_NONE) /* what the person hears, for the log */
				log_info("tone: %s", tone_name(a.tone));
			break;
		case ACT_STATUS:
			app_status(c->app, st, sizeof(st));
			log_info("status: %s", st);
			redraw(c);
			break;
		case ACT_LED:
			set_led(c, a.led, a.led_state);
			break;
		case ACT_MESSAGE:
			log_info("%s", a.line);
			break;
		case ACT_TX_START:
		case ACT_TX_STOP:
			break; /* talking is read each frame */
		}
	}
}

/* The engine's hooks (engine_io). */
static void eng_send(void *arg, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct client *c = arg;

	net_voice_send(c->net, pkt, len);
	app_voice_sent(c->app, now);
}

static bool eng_talking(void *arg)
{
	return app_talking(((struct client *)arg)->app);
}

static void eng_heard(void *arg, bool on)
{
	set_led(arg, LED_RX, on ? LED_ON : LED_OFF);
}

static void housekeeping(void *arg)
{
	struct client *c = arg;
	const struct cfg *f = c->cfg;
	uint64_t now = loop_now(c->loop), el = now - c->t0;

	app_tick(c->app, now);
	if (c->board)
		board_tick(c->board, now);
	if (cfg_script_ptt(f, el) != c->ptt_down) {
		c->ptt_down = !c->ptt_down;
		/* the time, for bench/latency: press to the peer's first packet */
		log_info("push-to-talk %s (scripted) at %llu ms",
			 c->ptt_down ? "pressed" : "released", (unsigned long long)now);
		app_button(c->app, BTN_PTT, c->ptt_down, now);
	}
	if (f->call[0] && !c->called && app_conn_state(c->app) == APP_ONLINE) {
		c->called = true;
		app_call(c->app, f->call, now);
	}
	if (f->exit_after >= 0 && el >= (uint64_t)(f->exit_after * 1000))
		loop_stop(c->loop);
	actions(c);
	tmr_start(c->loop, &c->house_tmr, 10, housekeeping, c);
}

/* The keyboard, or the board's buttons and LEDs (none: neither). Returns 0 or the exit
 * status. */
static int open_board(struct client *c)
{
	const struct cfg *f = c->cfg;
	char err[512];
	int fds[BOARD_BUTTONS], n, e;

	if (!strcmp(f->board, "keyboard")) {
		if (kbd_raw(STDIN_FILENO)) {
			log_err("board = keyboard needs a terminal on standard input");
			return 2;
		}
		c->kbd = true;
		log_set_hooks(log_before, log_after, c);
		loop_fd(c->loop, STDIN_FILENO, LOOP_READ, kbd_event, c);
	} else if (strcmp(f->board, "none")) {
		e = board_open(&c->board, f->gpio_chip, f->pins, f->active_low, on_button,
			       c, err, sizeof(err));
		if (e) {
			log_err("%s", err);
			return 1;
		}
		n = board_fds(c->board, fds);
		for (int i = 0; i < n; i++)
			loop_fd(c->loop, fds[i], LOOP_READ, board_event, c);
		log_info("board %s: buttons and LEDs on %s", f->board, f->gpio_chip);
		for (int i = 0; i < BOARD_BUTTONS; i++) {
			if (board_held(c->board) & (1u << i))
				log_warn(
				    "%s button (GPIO %d) reads pressed at start: held "
				    "down, or wired to 3.3 V? then set active_low = no",
				    board_btn_name((enum app_btn)i), f->pins[i]);
		}
	}
	return 0;
}

/* The app's and the codec's settings from the config. */
static void settings(const struct cfg *f, struct app_cfg *ac, struct codec_cfg *cc)
{
	codec_cfg_default(cc);
	cc->frame_ms = f->frame_ms;
	cc->bitrate = f->bitrate;
	cc->complexity = f->complexity;
	cc->cbr = f->tls; /* packet sizes would tell what is said (RFC 6562) */
	memset(ac, 0, sizeof(*ac));
	strcpy(ac->nick, f->nick);
	strcpy(ac->realname, f->realname);
	strcpy(ac->call_target, f->call_target);
	strcpy(ac->join, f->join);
	ac->auto_accept = f->auto_accept;
	ac->handsfree = f->handsfree;
	ac->tls = f->tls;
	strcpy(ac->password, f->password);
}

int client_run(const struct cfg *f, const struct ident *id, volatile sig_atomic_t *quit,
	       const sigset_t *block)
{
	struct client c;
	struct app_cfg ac;
	struct codec_cfg cc;
	struct net_handlers nh = {on_connected, on_line, on_closed, on_voice, on_verify};
	struct engine_io io = {eng_send, eng_talking, eng_heard, NULL};
	void *tls = NULL;
	char err[512];
	int ret = 1, e;

	memset(&c, 0, sizeof(c));
	c.cfg = f;
	io.arg = &c;
	settings(f, &ac, &cc);
	if (loop_new(&c.loop) || voice_new(&c.voice, &cc)) {
		log_err("out of memory");
		goto out;
	}
	e = engine_open(&c.eng, f, c.loop, c.voice, &io);
	if (e) {
		ret = e;
		goto out;
	}
	if (net_new(&c.net, c.loop, &nh, &c) ||
	    app_new(&c.app, &ac, (uint32_t)getpid() ^ (uint32_t)loop_now(c.loop),
		    loop_now(c.loop))) {
		log_err("out of memory");
		goto out;
	}
	if (f->tls) {
		if (tlsctx_new(&tls, id, false, err, sizeof(err))) {
			log_err("%s", err);
			goto out;
		}
		net_set_tls(c.net, tls);
	} else {
		log_warn("tls = off: signalling and voice in the clear, the server not "
			 "checked (protocol 1.0, for debugging with a --tls off server)");
	}
	e = open_board(&c);
	if (e) {
		ret = e;
		goto out;
	}
	c.t0 = loop_now(c.loop);
	engine_start(c.eng);
	actions(&c);
	tmr_start(c.loop, &c.house_tmr, 10, housekeeping, &c);
	e = loop_run(c.loop, quit, block);
	if (e)
		log_err("event loop failed: %s", strerror(-e));
	ret = e || engine_failed(c.eng) ? 1 : 0;
	engine_log_stats(c.eng);
out:
	if (c.kbd) {
		log_set_hooks(NULL, NULL, NULL);
		kbd_restore();
		(void)!write(STDOUT_FILENO, "\n", 1);
	}
	board_close(c.board);
	if (engine_close(c.eng))
		ret = 1;
	app_free(c.app);
	net_free(c.net);
	tlsctx_free(tls);
	voice_free(c.voice);
	loop_free(c.loop);
	return ret;
}
