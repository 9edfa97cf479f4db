#include "up.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "ic_limits.h"
#include "ident.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "pin.h"
#include "rtp.h"
#include "vcrypt.h"
#include "wfilter.h"

#define UP_KEEPALIVE_MS 5000 /* protocol section 2: every 5 s while silent */
#define UP_FRAME_TS	960  /* 20 ms at 48 kHz: the page's frames */

struct up {
	struct loop *loop;
	struct up_cfg cfg;
	struct up_handlers h;
	void *arg;
	struct net *net;
	char nick[IC_NICK_MAX + 1];
	bool logged_in, ending;
	/* voice: keys from VOICE, ours to number */
	struct vc *seal, *open;
	struct ctrwin win;
	uint64_t ctr;
	uint32_t ssrc, ts;
	uint16_t seq;
	uint64_t last_voice_ms;
	/* the page's voice within what intercomd takes from a session (protocol 1.1
	 * section 1), so a page sending more costs the gateway no sealing for packets
	 * dropped there */
	struct guard_bucket pkts, bytes;
	struct tmr keepalive, end_tmr;
	char end_why[200];
	struct up_stats st;
};

static void end_now(void *arg)
{
	struct up *u = arg;

	u->h.ended(u->arg, u->end_why);
}

/* The session is over: the page hears why from the loop, never from inside a call of
 * net's (which may still be using itself). */
static void end_soon(struct up *u, const char *why)
{
	if (u->ending)
		return;
	u->ending = true;
	snprintf(u->end_why, sizeof(u->end_why), "%s", why);
	u->h.state(u->arg, "offline", why);
	tmr_start(u->loop, &u->end_tmr, 0, end_now, u);
}

/* A line (with its LF) to the server; the buffer is wiped: a CONNECT holds the
 * password. */
static int send_line(struct up *u, char *line, int n)
{
	int e = n > 0 && n < IC_LINE_MAX ? net_send(u->net, line, (size_t)n) : -EMSGSIZE;

	explicit_bzero(line, (size_t)IC_LINE_MAX);
	return e;
}

static void on_connected(void *arg)
{
	struct up *u = arg;
	char line[IC_LINE_MAX];
	int n;

	/* the real name says where this user is: "web" */
	n = msg_fmt_connect(line, sizeof(line), u->nick, "web", MSG_PROTO_VERSION,
			    u->cfg.password);
	send_line(u, line, n);
	u->h.state(u->arg, "connecting", "logging in");
}

static int verify(void *arg, const char *fp, char *why, size_t whylen)
{
	struct up *u = arg;
	char want[IDENT_FP_LEN + 1], err[700];
	bool added;
	int e = pin_check(u->cfg.state_dir, u->cfg.host, u->cfg.port, u->cfg.pin, fp,
			  &added, want, err, sizeof(err));

	if (!e) {
		if (added)
			log_info("server %s:%u: key %s trusted on first use (kept in "
				 "%s/" PIN_FILE ")",
				 u->cfg.host, u->cfg.port, fp, u->cfg.state_dir);
		return 0;
	}
	if (e == -EPERM)
		log_err(
		    "server %s:%u presented key %s, but %s was trusted: refused before "
		    "sending anything. If the server was re-keyed on purpose, set "
		    "server_fingerprint, or remove its line from %s/" PIN_FILE,
		    u->cfg.host, u->cfg.port, fp, want, u->cfg.state_dir);
	else
		log_err("%s", err);
	snprintf(why, whylen, "%s",
		 e == -EPERM ? "the server's key is not the one trusted"
			     : "known_servers cannot be used");
	return -1;
}

static void keepalive(void *arg);

static void send_sealed(struct up *u, bool marker, const uint8_t *p, size_t len)
{
	struct rtp_hdr h = {marker, IC_RTP_PT_OPUS, u->seq++, u->ts, u->ssrc};
	uint8_t plain[IC_RTP_MAX], pkt[IC_RTP_MAX];
	int n = rtp_pack(plain, IC_RTP_MAX - VC_OVERHEAD, &h, NULL, p, len);

	if (n > 0)
		n = vc_seal(u->seal, u->ctr++, plain, (size_t)n, pkt, sizeof(pkt));
	if (n > 0)
		net_voice_send(u->net, pkt, (size_t)n);
	tmr_start(u->loop, &u->keepalive, UP_KEEPALIVE_MS, keepalive, u);
}

static void keepalive(void *arg)
{
	send_sealed(arg, false, NULL, 0);
}

static void on_voice_line(struct up *u, const char *args)
{
	struct vc_key c2s, s2c;
	unsigned port;
	int e;

	e = msg_parse_voice_tls(args, &port, &u->ssrc, &c2s, &s2c);
	if (!e) {
		vc_free(u->seal);
		vc_free(u->open);
		u->seal = u->open = NULL;
		u->ctr = 0;
		ctrwin_init(&u->win);
		e = vc_new(&u->seal, &c2s, true);
		if (!e)
			e = vc_new(&u->open, &s2c, false);
	}
	vc_key_wipe(&c2s);
	vc_key_wipe(&s2c);
	if (!e)
		e = net_voice_open(u->net, port);
	if (e) {
		log_warn("%s: no voice: %s", u->nick, strerror(-e));
		return;
	}
	keepalive(u); /* opens the voice path at once */
}

static void on_line(void *arg, const char *line)
{
	struct up *u = arg;
	char copy[IC_LINE_MAX + 1];
	struct msg m;

	if (wfilter_down_line(line))
		u->h.line(u->arg, line);
	if (strncmp(line, "PING", 4) && strncmp(line, "VOICE", 5) &&
	    strncmp(line, "JOINED", 6) && strncmp(line, "ERROR", 5))
		return; /* the rest is the page's alone */
	snprintf(copy, sizeof(copy), "%s", line);
	if (msg_parse(copy, &m) != ERR_NONE)
		return;
	if (m.verb == MSG_PING) {
		char pong[IC_LINE_MAX];

		send_line(
		    u, pong,
		    snprintf(pong, sizeof(pong), "PONG: %s\n", m.args ? m.args : ""));
	} else if (!strcmp(m.verb_text, "VOICE") && m.args) {
		on_voice_line(u, m.args);
	} else if (!strcmp(m.verb_text, "JOINED") && !u->logged_in) {
		u->logged_in = true;
		u->h.state(u->arg, "online", "");
	} else if (!strcmp(m.verb_text, "ERROR") && !u->logged_in) {
		end_soon(u, line); /* a refused login: the page shows why */
	}
}

static void on_closed(void *arg, const char *why)
{
	end_soon(arg, why);
}

static void on_voice(void *arg, const uint8_t *pkt, size_t len)
{
	struct up *u = arg;
	uint8_t plain[IC_RTP_MAX], frame[IC_RTP_MAX + 16];
	struct rtp_pkt p;
	int n = u->open ? vc_open_window(u->open, &u->win, pkt, len, IC_RTP_MAX, plain,
					 sizeof(plain), NULL)
			: -EINVAL;

	if (n < 0 || rtp_parse(plain, (size_t)n, &p) || rtp_unpad(plain, &p)) {
		u->st.down_dropped++;
		return;
	}
	if (p.hdr.ssrc == u->ssrc || !p.payload_len)
		return; /* the answer to our keepalive */
	n = wfilter_down_voice(&p.hdr, p.payload, p.payload_len, frame, sizeof(frame));
	if (n > 0) {
		u->st.down_frames++;
		u->h.voice(u->arg, frame, (size_t)n);
	}
}

int up_new(struct up **up, struct loop *l, const struct up_cfg *c, void *ctx,
	   const char *nick, const struct up_handlers *h, void *arg)
{
	static const struct net_handlers nh = {on_connected, on_line, on_closed, on_voice,
					       verify};
	struct up *u = calloc(1, sizeof(*u));
	int e;

	if (!u)
		return -ENOMEM;
	u->loop = l;
	u->cfg = *c;
	u->h = *h;
	u->arg = arg;
	snprintf(u->nick, sizeof(u->nick), "%s", nick);
	ctrwin_init(&u->win);
	u->seq = (uint16_t)rand(); /* RFC 3550: random initial values */
	u->ts = (uint32_t)rand();
	guard_bucket_init(&u->pkts, IC_VOICE_PKTS_PER_SEC, loop_now(l));
	guard_bucket_init(&u->bytes, IC_VOICE_BYTES_PER_SEC, loop_now(l));
	e = net_new(&u->net, l, &nh, u);
	if (!e) {
		net_set_tls(u->net, ctx);
		e = net_connect(u->net, c->host, c->port);
	}
	if (e) {
		log_warn("%s: cannot reach intercomd at %s:%u: %s (the gateway's server "
			 "and server_port settings)",
			 nick, c->host, c->port, net_strerror(e));
		up_free(u);
		return e;
	}
	*up = u;
	return 0;
}

void up_free(struct up *u)
{
	if (!u)
		return;
	log_info(
	    "%s: session ended: voice %llu frames up (%llu over the voice rate), %llu "
	    "down (%llu dropped)",
	    u->nick, (unsigned long long)u->st.up_frames,
	    (unsigned long long)u->st.up_dropped, (unsigned long long)u->st.down_frames,
	    (unsigned long long)u->st.down_dropped);
	tmr_cancel(u->loop, &u->keepalive);
	tmr_cancel(u->loop, &u->end_tmr);
	net_free(u->net); /* intercomd tells the rooms as for any leave */
	vc_free(u->seal);
	vc_free(u->open);
	free(u);
}

int up_line(struct up *u, const char *line, size_t len)
{
	char buf[IC_LINE_MAX + 1];

	if (!u->logged_in || u->ending)
		return -ENOTCONN;
	if (len + 1 > IC_LINE_MAX)
		return -EMSGSIZE;
	memcpy(buf, line, len);
	buf[len] = '\n';
	return net_send(u->net, buf, len + 1);
}

int up_voice(struct up *u, const uint8_t *opus, size_t len, bool start, uint64_t now)
{
	size_t wire = RTP_FIXED_LEN + VC_OVERHEAD + len;

	if (!u->seal || u->ending)
		return -ENOTCONN;
	if (!guard_bucket_take(&u->pkts, IC_VOICE_PKTS_PER_SEC, IC_VOICE_PKTS_PER_SEC, 1,
			       now) ||
	    !guard_bucket_take(&u->bytes, IC_VOICE_BYTES_PER_SEC, IC_VOICE_BYTES_PER_SEC,
			       (unsigned)wire, now)) {
		u->st.up_dropped++;
		return -ENOBUFS;
	}
	/* a new spurt's timestamp follows the wall clock over the silence before it */
	if (start && u->last_voice_ms && now > u->last_voice_ms)
		u->ts += (uint32_t)((now - u->last_voice_ms) / 20) * UP_FRAME_TS;
	else
		u->ts += UP_FRAME_TS;
	u->last_voice_ms = now;
	u->st.up_frames++;
	send_sealed(u, start, opus, len);
	return 0;
}

void up_stats(const struct up *u, struct up_stats *s)
{
	*s = u->st;
}
