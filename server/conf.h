/* conf.h: intercomd's settings from defaults, a `key = value` file and flags (flags win).
 */
#ifndef IC_CONF_H
#define IC_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "conftab.h"
#include "ic_limits.h"

/* read when no --config is given and it exists (what the package installs) */
#define CONF_DEFAULT_PATH "/etc/intercom/intercomd.conf"

struct srv_conf {
	unsigned port;	   /* TCP, and UDP unless udp_port is set; 0: any free port */
	unsigned udp_port; /* LISTEN_UDP_SAME: the TCP port's number; 0: any free port */
	char bind[64];	   /* "": every address, IPv4 and IPv6 */
	unsigned max_pending_per_source; /* 0: no limit */
	char name[IC_SERVER_NAME_MAX + 1];
	unsigned max_clients;
	unsigned ping_interval, ping_timeout, ring_timeout; /* seconds */
	char config[256];				    /* --config path, or "" */
	char state_dir[256]; /* the identity's directory (docs/SECURITY.md) */
	char tls_key[256];   /* a configured identity key, or "": the state directory's */
	bool tls;	     /* on: TLS 1.3 only (section 3); off: protocol 1.0 */
	char password[IC_PASSWORD_MAX + 1]; /* server_password: "" = none; never logged */
	bool guests; /* TLS sessions without a client certificate may log in */
	bool registration_closed; /* registration = closed: registered nicks only */
	/* trusted: addresses or prefixes exempt from the per-host bounds besides
	 * 127.0.0.1 and ::1 (guard_trust's syntax; checked when set) */
	char trusted[512];
	bool fingerprint; /* --fingerprint: print the identity's and exit */
	/* intercomd --registry list | add NICK FP | remove NICK... | remove --key FP:
	 * show or change the registry and exit. argv's words from the command on
	 * (registry[0]: list, add or remove), registry_n of them; NULL: not asked */
	char *const *registry;
	int registry_n;
	struct cli_std
	    std; /* --verbose (also a file key), --help, --version, --check-config */
};

/* Defaults: port 6060, every address (IPv4 and IPv6), name = host name, the contract's
 * timers and per-source limit. */
void conf_defaults(struct srv_conf *c);

/* Set one key of the table (conf_keys; each is also a flag, --key with '-' for '_',
 * except verbose). Returns 0, or -EINVAL with a message in err naming the key, what is
 * wrong and the range. */
int conf_set(struct srv_conf *c, const char *key, const char *val, char *err,
	     size_t errlen);

/* The table of keys (static; *n entries): what conf_set takes. */
const struct conftab_key *conf_keys(size_t *n);

/* Read a config file. Returns 0, or -EINVAL/-errno with "PATH:LINE: what" in err. */
int conf_load(struct srv_conf *c, const char *path, char *err, size_t errlen);

/* Apply argv: finds --config first, loads it, then applies every flag over it, then
 * checks the settings together (server_password needs tls = on).
 * Returns 0, or -EINVAL with a message in err (the caller exits with status 2). */
int conf_from_args(struct srv_conf *c, int argc, char **argv, char *err, size_t errlen);

/* The --help text. */
const char *conf_usage(void);

#endif
