#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "conftab.h"
#include "ident.h"
#include "kv.h"
#include "names.h"

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->server, "localhost");
	c->port = IC_PORT_DEFAULT;
	if (gethostname(c->nick, sizeof(c->nick) - 1) || !names_nick_valid(c->nick))
		strcpy(c->nick, "intercom");
	strcpy(c->capture_device, "default");
	ident_state_dir(c->state_dir, sizeof(c->state_dir), IC_CLIENT_STATE_DIR,
			"intercom");
	strcpy(c->playback_device, "default");
	c->frame_ms = 20;
	c->period_ms = 5;
	/* 32 kbit/s: constant bitrate (what encrypted voice needs, RFC 6562) sounds at 32
	 * as variable does at 24 */
	c->bitrate = 32000;
	c->complexity = 5;
	strcpy(c->board, "none");
	for (int i = 0; i < CFG_PINS; i++)
		c->pins[i] = -1;
	c->active_low = true;
	c->echo_cancel = true;
	c->tls = true;
	c->handsfree = true;
	c->talk_after = c->talk_for = c->talk_every = c->exit_after = -1;
}

bool cfg_nick_warning(const char *nick, const char *host, char *buf, size_t len)
{
	if (!names_nick_valid(host) && !strcmp(nick, "intercom")) {
		snprintf(
		    buf, len,
		    "the host name '%.64s' cannot be a nick (1-32 of A-Z a-z 0-9 _ - .): "
		    "using 'intercom'; set nick in the config, or every such box is "
		    "'intercom'",
		    host);
		return true;
	}
	if (!strcmp(nick, host) && !strcmp(host, "raspberrypi")) {
		snprintf(
		    buf, len,
		    "the nick is the host name 'raspberrypi', Raspberry Pi OS's default: "
		    "two boxes left at it take each other's nick; set nick in the "
		    "config");
		return true;
	}
	return false;
}

static int copy(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

#define FAIL(...)                                                                        \
	do {                                                                             \
		snprintf(err, errlen, __VA_ARGS__);                                      \
		return -EINVAL;                                                          \
	} while (0)

static int set_tls(void *obj, const struct conftab_key *k, const char *v, char *err,
		   size_t errlen)
{
	(void)k;
	if (kv_bool(v, &((struct cfg *)obj)->tls))
		FAIL("tls: on (TLS 1.3, encrypted voice) or off (protocol 1.0, for "
		     "debugging with a --tls off server)");
	return 0;
}

static int set_server_fp(void *obj, const struct conftab_key *k, const char *v, char *err,
			 size_t errlen)
{
	struct cfg *c = obj;
	size_t n = strlen(v);

	(void)k;
	if (!n) { /* none: trust on first use */
		c->server_fp[0] = '\0';
		return 0;
	}
	/* what intercomd --fingerprint printed; hex digits in either case */
	if (n != IDENT_FP_LEN || strncasecmp(v, "sha256:", 7) ||
	    strspn(v + 7, "0123456789abcdefABCDEF") != n - 7)
		FAIL("server_fingerprint: sha256: and 64 hex digits, as intercomd "
		     "--fingerprint prints it");
	for (size_t i = 0; i <= n; i++)
		c->server_fp[i] = (char)tolower((unsigned char)v[i]);
	return 0;
}

static int set_frame_ms(void *obj, const struct conftab_key *k, const char *v, char *err,
			size_t errlen)
{
	unsigned u;

	(void)k;
	if (kv_uint(v, 10, 20, &u) || (u != 10 && u != 20))
		FAIL("frame_ms: 10 or 20");
	((struct cfg *)obj)->frame_ms = u;
	return 0;
}

/* pin_*: a GPIO line, or none (not wired) */
static int set_pin(void *obj, const struct conftab_key *k, const char *v, char *err,
		   size_t errlen)
{
	int *pin = conftab_field(obj, k);
	unsigned u;

	if (!strcmp(v, "none")) {
		*pin = -1;
		return 0;
	}
	if (kv_uint(v, 0, 511, &u))
		FAIL("%s: '%s' is not a GPIO line number (0-511) or none", k->key, v);
	*pin = (int)u;
	return 0;
}

#define STR_(x)			#x
#define STR(x)			STR_(x)
#define F			CONFTAB_FLAG
#define E			CONFTAB_EMPTY_OK
#define TEXT(k, f, ok, fl, msg) CONFTAB_TEXT(k, struct cfg, f, ok, fl, msg)

/* Who CALL rings: a nick, or a room, whose free members all ring (protocol 1.2). */
static bool call_target_valid(const char *s)
{
	return names_nick_valid(s) || names_room_valid(s);
}
#define CALL_TARGET_WHAT     "a nick or a #room (1-32 of A-Z a-z 0-9 _ - .)"
#define UINT(k, f, l, h, fl) CONFTAB_UINT(k, struct cfg, f, l, h, fl)
#define BOOL(k, f)	     CONFTAB_BOOL(k, struct cfg, f, 0, "yes or no")
#define OWN(k, f, fn, fl)    CONFTAB_OWN(k, struct cfg, f, fn, fl)
#define PIN(k, p)                                                                        \
	{                                                                                \
		.key = (k), .kind = CONFTAB_K_OWN, .off = offsetof(struct cfg, pins[p]), \
		.set = set_pin, .tag = (p) + 1                                           \
	}
#define ALSA_DEV "an ALSA device name such as default or plughw:1,0"
/* Every key; those with F are also flags (--key, '-' for '_'). */
static const struct conftab_key keys[] = {
    TEXT("server", server, NULL, 0, "a host name or address"),
    UINT("port", port, 1, 65535, 0),
    TEXT("nick", nick, names_nick_valid, F, "1-32 of A-Z a-z 0-9 _ - ."),
    TEXT("real_name", realname, names_realname_valid, F,
	 "up to 64 bytes of text without '\"'"),
    TEXT("capture_device", capture_device, NULL, F, ALSA_DEV),
    TEXT("playback_device", playback_device, NULL, F, ALSA_DEV),
    TEXT("state_dir", state_dir, NULL, F, "a path of 1-255 bytes"),
    OWN("frame_ms", frame_ms, set_frame_ms, F),
    UINT("period_ms", period_ms, 2, 20, F),
    UINT("bitrate", bitrate, 6000, 128000, F),
    {.key = "complexity",
     .kind = CONFTAB_K_UINT,
     .flags = F,
     .off = offsetof(struct cfg, complexity),
     .lo = 0,
     .hi = 10,
     .tag = CFG_PINS + 3},
    TEXT("board", board, NULL, F,
	 "none, keyboard, rpi3, rpi4, rpi5, rpizero2w, or a path (up to 255 bytes) to "
	 "a board file"),
    {.key = "gpio_chip",
     .kind = CONFTAB_K_TEXT,
     .flags = E,
     .off = offsetof(struct cfg, gpio_chip),
     .size = sizeof(((struct cfg *)0)->gpio_chip),
     .what = "a name such as gpiochip0",
     .tag = CFG_PINS + 1},
    {.key = "active_low",
     .kind = CONFTAB_K_BOOL,
     .off = offsetof(struct cfg, active_low),
     .what = "yes or no",
     .tag = CFG_PINS + 2},
    PIN("pin_ptt", PIN_PTT),
    PIN("pin_call", PIN_CALL),
    PIN("pin_accept", PIN_ACCEPT),
    PIN("pin_deny", PIN_DENY),
    PIN("pin_led_power", PIN_LED_POWER),
    PIN("pin_led_tx", PIN_LED_TX),
    PIN("pin_led_rx", PIN_LED_RX),
    PIN("pin_led_ring", PIN_LED_RING),
    TEXT("call_target", call_target, call_target_valid, F | E, CALL_TARGET_WHAT),
    TEXT("join", join, names_room_valid, F | E, "a room such as #Kitchen"),
    BOOL("auto_accept", auto_accept),
    CONFTAB_BOOL("echo_cancel", struct cfg, echo_cancel, F, "yes or no"),
    CONFTAB_BOOL("handsfree", struct cfg, handsfree, F, "yes or no"),
    BOOL("verbose", std.verbose),
    /* section 3: transport security */
    OWN("tls", tls, set_tls, F),
    OWN("server_fingerprint", server_fp, set_server_fp, F),
    TEXT("password", password, names_password_valid, F | E,
	 "1-" STR(IC_PASSWORD_MAX) " bytes of text without '\"' or control characters"),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const struct conftab_key *cfg_keys(size_t *n)
{
	*n = NKEYS;
	return keys;
}

int cfg_set(struct cfg *c, const char *key, const char *v, char *err, size_t errlen)
{
	const struct conftab_key *k = conftab_find(keys, NKEYS, key);
	int bit = k ? k->tag - 1 : -1; /* a key a board file may set */

	if (c->in_board_file) {
		if (bit < 0)
			FAIL(
			    "'%s' does not belong in a board file (only pins, gpio_chip, "
			    "active_low, complexity)",
			    key);
		if (c->set_mask & (1u << bit))
			return 0; /* the config or a flag said otherwise: it wins */
	} else if (bit >= 0) {
		c->set_mask |= 1u << bit;
	}
	return conftab_set(keys, NKEYS, c, key, v, err, errlen);
}

static int cfg_set_cb(void *arg, const char *key, const char *val, char *err,
		      size_t errlen)
{
	return cfg_set(arg, key, val, err, errlen);
}

int cfg_load(struct cfg *c, const char *path, bool missing_ok, char *err, size_t errlen)
{
	return kv_load(path, missing_ok, cfg_set_cb, c, err, errlen);
}

static int parse_secs(const char *flag, const char *v, double *out, char *err,
		      size_t errlen)
{
	char *end;
	double d = strtod(v, &end);

	if (!*v || *end || !(d >= 0) || d > 86400)
		FAIL("%s: '%s' is not a number of seconds", flag, v);
	*out = d;
	return 0;
}

/* HOST[:PORT] for flag into host (size bytes) and *port (only when one is given); an
 * IPv6 address goes in brackets when a port follows: [::1]:6060 */
static int split_server(const char *flag, const char *v, char *host, size_t size,
			unsigned *port, char *err, size_t errlen)
{
	const char *colon = strrchr(v, ':');
	size_t hl;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (!rb || (rb[1] && rb[1] != ':'))
			FAIL("%s: expected HOST[:PORT] or [IPv6]:PORT", flag);
		colon = rb[1] ? rb + 1 : NULL;
		hl = (size_t)(rb - v - 1);
		v++;
	} else if (colon && strchr(v, ':') != colon) {
		colon = NULL; /* a bare IPv6 address */
		hl = strlen(v);
	} else {
		hl = colon ? (size_t)(colon - v) : strlen(v);
	}
	if (hl == 0 || hl >= size)
		FAIL("%s: expected HOST[:PORT]", flag);
	memcpy(host, v, hl);
	host[hl] = '\0';
	if (colon && kv_uint(colon + 1, 1, 65535, port))
		FAIL("%s: port '%s' is not 1-65535", flag, colon + 1);
	return 0;
}

/* The flags that are no config key (the keys' own flags come from the table). */
static const char *const flags[] = {
    "--server",	  "--capture-file",  "--playback-file", "--talk-after",
    "--talk-for", "--talk-every",    "--call",		"--exit-after",
    "--config",	  "--forget-server",
};

static int apply(struct cfg *c, int argc, char **argv, bool first_pass, char *err,
		 size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t k, n = sizeof(flags) / sizeof(flags[0]);
		int r;

		if (!strcmp(a, "--auto-accept")) {
			c->auto_accept = true;
			continue;
		}
		if (!strcmp(a, "--fingerprint")) {
			c->fingerprint = true;
			continue;
		}
		if (cli_std_flag(a, &c->std))
			continue;
		r = conftab_flag(keys, NKEYS, argc, argv, &i,
				 first_pass ? NULL : cfg_set_cb, c, err, errlen);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		for (k = 0; k < n; k++) {
			r = cli_flag(argc, argv, &i, flags[k], &v);
			if (r < 0)
				FAIL("option '%s' needs a value", a);
			if (r > 0)
				break;
		}
		if (k == n)
			FAIL("unknown option '%s'", a);
		if (!strcmp(flags[k], "--config")) {
			if (copy(c->config, sizeof(c->config), v))
				FAIL("--config: path too long");
			continue;
		}
		if (first_pass)
			continue;
		if (!strcmp(flags[k], "--server")) {
			if (split_server(flags[k], v, c->server, sizeof(c->server),
					 &c->port, err, errlen))
				return -EINVAL;
		} else if (!strcmp(flags[k], "--forget-server")) {
			if (split_server(flags[k], v, c->forget, sizeof(c->forget),
					 &c->forget_port, err, errlen))
				return -EINVAL;
		} else if (!strcmp(flags[k], "--capture-file")) {
			if (!*v || copy(c->capture_file, sizeof(c->capture_file), v))
				FAIL("--capture-file: a path to a 48 kHz mono 16-bit WAV "
				     "file");
		} else if (!strcmp(flags[k], "--playback-file")) {
			if (!*v || copy(c->playback_file, sizeof(c->playback_file), v))
				FAIL("--playback-file: a path to write a WAV file to");
		} else if (!strcmp(flags[k], "--call")) {
			if (!call_target_valid(v))
				FAIL("--call: " CALL_TARGET_WHAT);
			strcpy(c->call, v);
		} else if (parse_secs(flags[k], v,
				      !strcmp(flags[k], "--talk-after") ? &c->talk_after
				      : !strcmp(flags[k], "--talk-for") ? &c->talk_for
				      : !strcmp(flags[k], "--talk-every")
					  ? &c->talk_every
					  : &c->exit_after,
				      err, errlen)) {
			return -EINVAL;
		}
	}
	return 0;
}

/* A board's file: a path as given; a name in the installed board directory, else (run
 * from a source build that was not installed) in the source tree's board/. */
static void board_path(const char *board, char *path, size_t size)
{
	if (strchr(board, '/')) {
		snprintf(path, size, "%s", board);
		return;
	}
	snprintf(path, size, "%s/%s.conf", IC_BOARD_DIR, board);
#ifdef IC_BOARD_SRC_DIR
	if (access(path, R_OK)) {
		char src[512];

		snprintf(src, sizeof(src), "%s/%s.conf", IC_BOARD_SRC_DIR, board);
		if (!access(src, R_OK))
			snprintf(path, size, "%s", src);
	}
#endif
}

int cfg_from_args(struct cfg *c, int argc, char **argv, char *err, size_t errlen)
{
	int r = apply(c, argc, argv, true, err, errlen);

	if (r || c->std.help || c->std.version)
		return r;
	if (c->config[0])
		r = cfg_load(c, c->config, false, err, errlen);
	else
		r = cfg_load(c, CFG_DEFAULT_PATH, true, err, errlen);
	if (r)
		return -EINVAL;
	r = apply(c, argc, argv, false, err, errlen);
	if (!r && strcmp(c->board, "none") && strcmp(c->board, "keyboard")) {
		char path[512];

		board_path(c->board, path, sizeof(path));
		c->in_board_file = true;
		r = cfg_load(c, path, false, err, errlen);
		c->in_board_file = false;
		if (r)
			return -EINVAL;
		if (!c->gpio_chip[0])
			strcpy(c->gpio_chip, "gpiochip0");
	}
	if (!r && (c->talk_after >= 0) != (c->talk_for >= 0)) {
		snprintf(err, errlen, "--talk-after and --talk-for go together");
		return -EINVAL;
	}
	if (!r && c->talk_every >= 0 &&
	    (c->talk_for < 0 || c->talk_every <= c->talk_for)) {
		snprintf(err, errlen,
			 "--talk-every needs --talk-after and --talk-for, and a period "
			 "longer than --talk-for");
		return -EINVAL;
	}
	return r;
}

bool cfg_script_ptt(const struct cfg *c, uint64_t elapsed_ms)
{
	double t = (double)elapsed_ms / 1000;

	if (c->talk_after < 0 || t < c->talk_after)
		return false;
	t -= c->talk_after;
	if (c->talk_every > 0)
		t = fmod(t, c->talk_every);
	return t < c->talk_for;
}

const char *cfg_usage(void)
{
	return "usage: intercom [options]\n"
	       "  --server HOST[:PORT]   the intercomd to use (default localhost:6060)\n"
	       "  --nick NAME            this box's name (default: host name)\n"
	       "  --real-name TEXT       a longer name shown to others\n"
	       "  --join #ROOM           voice room after login (default #Lobby)\n"
	       "  --call-target NICK|#ROOM  who CALL rings (a #room: its free members)\n"
	       "  --board NAME           none, keyboard, or a board file (rpi4, rpi5, "
	       "...)\n"
	       "  --capture-device DEV   ALSA capture device (default: default)\n"
	       "  --playback-device DEV  ALSA playback device (default: default)\n"
	       "  --frame-ms 10|20       codec frame (default 20)\n"
	       "  --period-ms 2-20       sound card period, where the card allows "
	       "(default 5)\n"
	       "  --echo-cancel yes|no   cancel the speaker's echo in what is sent "
	       "(default yes)\n"
	       "  --bitrate N, --complexity N   Opus settings (32000, 5)\n"
	       "  --config FILE          key = value file (default " CFG_DEFAULT_PATH
	       ")\n"
	       "  --check-config         check the configuration and exit (0 good, 2 "
	       "bad)\n"
	       "files mode and scripting (no sound card, no person):\n"
	       "  --capture-file IN.wav  48 kHz mono 16-bit WAV played as the "
	       "microphone\n"
	       "  --playback-file OUT.wav  write what the speaker would play\n"
	       "  --talk-after S --talk-for S  hold push-to-talk from S for S seconds\n"
	       "  --talk-every S         and again every S seconds (S > --talk-for)\n"
	       "  --call NICK|#ROOM      request a call once logged in\n"
	       "  --auto-accept          accept an incoming call\n"
	       "  --handsfree yes|no     the microphone open during a call, no button "
	       "held (default yes)\n"
	       "  --state-dir DIR        where the box's identity (key, certificate) and "
	       "known_servers are kept\n"
	       "  --tls on|off           on (default): TLS 1.3, the server's key pinned, "
	       "voice encrypted;\n"
	       "                         off: protocol 1.0 in the clear, for a --tls off "
	       "server\n"
	       "  --server-fingerprint FP  trust only the server with this key "
	       "(intercomd --fingerprint)\n"
	       "  --password TEXT        the server password, if it has one\n"
	       "  --forget-server HOST[:PORT]  drop the key remembered for it (after "
	       "the server was re-keyed) and exit\n"
	       "  --fingerprint          print the box's fingerprint (making its key "
	       "first "
	       "when\n"
	       "                         there is none) and exit\n"
	       "  --exit-after S         exit cleanly after S seconds\n"
	       "  --verbose, -v; --help, -h; --version\n";
}
