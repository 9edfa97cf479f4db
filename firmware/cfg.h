/* cfg.h: the client's settings: defaults, /etc/intercom/intercom.conf (`key = value`),
 * and flags, which win. docs/CLIENT.md lists every key. */
#ifndef IC_CFG_H
#define IC_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "conftab.h"
#include "ic_limits.h"
#include "ident.h"

#define CFG_DEFAULT_PATH "/etc/intercom/intercom.conf"
#define CFG_PINS	 8

enum cfg_pin {
	PIN_PTT,
	PIN_CALL,
	PIN_ACCEPT,
	PIN_DENY,
	PIN_LED_POWER,
	PIN_LED_TX,
	PIN_LED_RX,
	PIN_LED_RING
};

struct cfg {
	char server[256];
	unsigned port;
	char nick[IC_NICK_MAX + 1];
	char realname[IC_REALNAME_MAX + 1];
	char capture_device[128], playback_device[128];
	unsigned frame_ms, bitrate, complexity;
	unsigned period_ms; /* the sound card's period: how often it is served */
	char board[256]; /* "none", "keyboard", a board name (rpi4, ...) or a board file
			    path */
	char gpio_chip[64];		   /* "" = the board's default */
	int pins[CFG_PINS];		   /* -1 = not wired */
	bool active_low;		   /* buttons pull the line to ground */
	char call_target[IC_ROOM_MAX + 1]; /* a nick, or a #room (its ring group) */
	char join[IC_ROOM_MAX + 1];
	bool auto_accept;
	bool echo_cancel;    /* cancel the speaker's echo while the microphone is sent */
	bool handsfree;	     /* the microphone open both ways during a private call */
	char state_dir[256]; /* the box's identity (docs/SECURITY.md) */
	bool fingerprint;    /* --fingerprint: print the box's and exit */
	/* transport security (protocol 1.1, section 3; docs/SECURITY.md) */
	bool tls;			    /* on: TLS 1.3 and encrypted voice */
	char server_fp[IDENT_FP_LEN + 1];   /* server_fingerprint ("" = TOFU) */
	char password[IC_PASSWORD_MAX + 1]; /* the server password ("" = none) */
	char forget[256];     /* --forget-server HOST[:PORT]: the host ... */
	unsigned forget_port; /* ... and the port (0: every port) */
	/* files mode and scripting (flags only) */
	char capture_file[256], playback_file[256], call[IC_ROOM_MAX + 1];
	double talk_after, talk_for, talk_every, exit_after; /* seconds; < 0 = unset */
	struct cli_std
	    std; /* --verbose (also a file key), --help, --version, --check-config */
	char config[256];
	/* which board-file keys the config or flags set (a board file fills in the rest)
	 */
	unsigned set_mask;
	bool in_board_file;
};

/* Board files: board/NAME.conf, installed in IC_BOARD_DIR; `board = NAME` or a path. */
#ifndef IC_BOARD_DIR
#define IC_BOARD_DIR "/usr/share/intercom/boards"
#endif

void cfg_defaults(struct cfg *c);

/* Set one key of the table (cfg_keys; docs/CLIENT.md). In a board file only the board's
 * keys (pins, gpio_chip, active_low, complexity), and only those the config or a flag
 * left unset. Returns 0, or -EINVAL with a message in err naming the key, what is
 * wrong and the range. */
int cfg_set(struct cfg *c, const char *key, const char *val, char *err, size_t errlen);

/* The table of keys (static; *n entries): what cfg_set takes. */
const struct conftab_key *cfg_keys(size_t *n);

/* Whether the scripted push-to-talk (--talk-after, --talk-for, --talk-every) holds the
 * button elapsed_ms after the audio clock started. */
bool cfg_script_ptt(const struct cfg *c, uint64_t elapsed_ms);

/* Read a `key = value` file. Returns 0, or -EINVAL / -errno with "PATH:LINE: what" in
 * err. A missing file at the default path is not an error (missing_ok). */
int cfg_load(struct cfg *c, const char *path, bool missing_ok, char *err, size_t errlen);

/* Apply argv: --config first (else the default file if present), then every flag.
 * Returns 0, or -EINVAL with a message in err (exit status 2). */
int cfg_from_args(struct cfg *c, int argc, char **argv, char *err, size_t errlen);

const char *cfg_usage(void);

/* A warning for the log when nick came from the host name and that will not serve: the
 * host name cannot be a nick (too long, other characters: the default 'intercom' then
 * stands for every such box), or it is the Raspberry Pi OS default 'raspberrypi' (two
 * boxes left at it take each other's nick). Writes it into buf and returns true; false
 * when there is nothing to say. host: this machine's name. */
bool cfg_nick_warning(const char *nick, const char *host, char *buf, size_t len);

#endif
