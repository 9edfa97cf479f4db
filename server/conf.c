#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "guard.h"
#include "ident.h"
#include "kv.h"
#include "listen.h"
#include "names.h"

void conf_defaults(struct srv_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->port = IC_PORT_DEFAULT;
	c->udp_port = LISTEN_UDP_SAME;
	c->bind[0] = '\0'; /* both families */
	c->max_pending_per_source = IC_PENDING_PER_SOURCE_DEFAULT;
	if (gethostname(c->name, sizeof(c->name) - 1) || !c->name[0])
		strcpy(c->name, "intercomd");
	c->max_clients = IC_CLIENTS_DEFAULT;
	c->ping_interval = IC_PING_INTERVAL_DEFAULT;
	c->ping_timeout = IC_PING_TIMEOUT_DEFAULT;
	c->ring_timeout = IC_RING_TIMEOUT_DEFAULT;
	c->tls = true; /* secure by default (protocol 1.1, section 3) */
	ident_state_dir(c->state_dir, sizeof(c->state_dir), IC_SERVER_STATE_DIR,
			"intercomd");
}

/* A path key: state_dir, tls_key. */
static int set_path(char *dst, size_t size, const char *key, const char *val, char *err,
		    size_t errlen)
{
	if (!val || !*val || strlen(val) >= size) {
		snprintf(err, errlen, "%s: a path of 1-%zu bytes", key, size - 1);
		return -EINVAL;
	}
	strcpy(dst, val);
	return 0;
}

static const struct {
	const char *key;
	size_t off;
	unsigned lo, hi;
} uint_keys[] = {
    {"port", offsetof(struct srv_conf, port), 0, 65535},
    {"udp_port", offsetof(struct srv_conf, udp_port), 0, 65535},
    {"max_pending_per_source", offsetof(struct srv_conf, max_pending_per_source), 0,
     IC_CLIENTS_MAX + IC_RAW_SPARE},
    {"max_clients", offsetof(struct srv_conf, max_clients), 1, IC_CLIENTS_MAX},
    {"ping_interval", offsetof(struct srv_conf, ping_interval), 1, IC_TIMER_MAX_S},
    {"ping_timeout", offsetof(struct srv_conf, ping_timeout), 1, IC_TIMER_MAX_S},
    {"ring_timeout", offsetof(struct srv_conf, ring_timeout), 1, IC_TIMER_MAX_S},
};

static const struct {
	const char *key;
	size_t off;
} bool_keys[] = {
    {"tls", offsetof(struct srv_conf, tls)},
    {"guests", offsetof(struct srv_conf, guests)},
    {"verbose", offsetof(struct srv_conf, std.verbose)},
};

int conf_set(struct srv_conf *c, const char *key, const char *val, char *err,
	     size_t errlen)
{
	for (size_t i = 0; i < sizeof(uint_keys) / sizeof(uint_keys[0]); i++) {
		if (strcmp(key, uint_keys[i].key))
			continue;
		if (kv_uint(val, uint_keys[i].lo, uint_keys[i].hi,
			    (unsigned *)(void *)((char *)c + uint_keys[i].off))) {
			snprintf(err, errlen,
				 "%s: '%s' is not a whole number from %u to %u", key,
				 val ? val : "", uint_keys[i].lo, uint_keys[i].hi);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "bind")) {
		unsigned char tmp[16];

		if (!val || strlen(val) >= sizeof(c->bind) ||
		    (inet_pton(AF_INET, val, tmp) != 1 &&
		     inet_pton(AF_INET6, val, tmp) != 1)) {
			snprintf(err, errlen, "bind: '%s' is not an IPv4 or IPv6 address",
				 val ? val : "");
			return -EINVAL;
		}
		strcpy(c->bind, val);
		return 0;
	}
	if (!strcmp(key, "name")) {
		if (!val || !*val || strlen(val) > IC_SERVER_NAME_MAX ||
		    !names_text_valid(val, strlen(val))) {
			snprintf(err, errlen,
				 "name: 1-%d bytes of text without control bytes",
				 IC_SERVER_NAME_MAX);
			return -EINVAL;
		}
		strcpy(c->name, val);
		return 0;
	}
	if (!strcmp(key, "state_dir"))
		return set_path(c->state_dir, sizeof(c->state_dir), key, val, err,
				errlen);
	if (!strcmp(key, "tls_key"))
		return set_path(c->tls_key, sizeof(c->tls_key), key, val, err, errlen);
	if (!strcmp(key, "server_password")) {
		if (val && *val && !names_password_valid(val)) {
			/* the value is a secret: not echoed */
			snprintf(err, errlen,
				 "server_password: 1-%d bytes of text without '\"' or "
				 "control characters",
				 IC_PASSWORD_MAX);
			return -EINVAL;
		}
		snprintf(c->password, sizeof(c->password), "%s", val ? val : "");
		return 0;
	}
	if (!strcmp(key, "trusted")) {
		char why[160];

		if (!val || strlen(val) >= sizeof(c->trusted) ||
		    guard_trust(NULL, val, why, sizeof(why))) {
			snprintf(err, errlen, "trusted: %s",
				 !val || strlen(val) >= sizeof(c->trusted)
				     ? "a list of addresses or prefixes under 512 bytes"
				     : why);
			return -EINVAL;
		}
		strcpy(c->trusted, val);
		return 0;
	}
	if (!strcmp(key, "registration")) {
		if (!val || (strcmp(val, "open") && strcmp(val, "closed"))) {
			snprintf(err, errlen, "registration: '%s' is not open or closed",
				 val ? val : "");
			return -EINVAL;
		}
		c->registration_closed = !strcmp(val, "closed");
		return 0;
	}
	for (size_t i = 0; i < sizeof(bool_keys) / sizeof(bool_keys[0]); i++) {
		if (strcmp(key, bool_keys[i].key))
			continue;
		if (!val ||
		    kv_bool(val, (bool *)(void *)((char *)c + bool_keys[i].off))) {
			snprintf(err, errlen,
				 "%s: '%s' is not on/off/yes/no/true/false/1/0", key,
				 val ? val : "");
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

static int conf_set_cb(void *arg, const char *key, const char *val, char *err,
		       size_t errlen)
{
	return conf_set(arg, key, val, err, errlen);
}

int conf_load(struct srv_conf *c, const char *path, char *err, size_t errlen)
{
	return kv_load(path, false, conf_set_cb, c, err, errlen);
}

static const struct {
	const char *flag, *key;
} flag_keys[] = {
    {"--port", "port"},
    {"--udp-port", "udp_port"},
    {"--bind", "bind"},
    {"--name", "name"},
    {"--max-clients", "max_clients"},
    {"--ping-interval", "ping_interval"},
    {"--ping-timeout", "ping_timeout"},
    {"--ring-timeout", "ring_timeout"},
    {"--max-pending-per-source", "max_pending_per_source"},
    {"--state-dir", "state_dir"},
    {"--tls-key", "tls_key"},
    {"--tls", "tls"},
    {"--server-password", "server_password"},
    {"--guests", "guests"},
    {"--registration", "registration"},
    {"--trusted", "trusted"},
};

/* --registry list | add NICK FP | remove NICK: its words from argv[*i + 1] on. */
static int registry_args(struct srv_conf *c, int argc, char **argv, int *i, char *err,
			 size_t errlen)
{
	static const struct {
		const char *cmd;
		int words;
	} cmds[] = {{"list", 0}, {"add", 2}, {"remove", 1}};

	for (size_t k = 0; *i + 1 < argc && k < sizeof(cmds) / sizeof(cmds[0]); k++) {
		if (strcmp(argv[*i + 1], cmds[k].cmd))
			continue;
		if (*i + 1 + cmds[k].words >= argc)
			break;
		memset(c->registry, 0, sizeof(c->registry));
		for (int w = 0; w <= cmds[k].words; w++)
			c->registry[w] = argv[++*i];
		return 0;
	}
	snprintf(err, errlen,
		 "--registry: expected list, add NICK FINGERPRINT or remove NICK");
	return -EINVAL;
}

static int apply_args(struct srv_conf *c, int argc, char **argv, bool config_pass,
		      char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		char msg[200];
		int r;

		if (cli_std_flag(a, &c->std))
			continue;
		if (!strcmp(a, "--fingerprint")) {
			c->fingerprint = true;
			continue;
		}
		if (!strcmp(a, "--registry")) {
			if (registry_args(c, argc, argv, &i, err, errlen))
				return -EINVAL;
			continue;
		}
		r = cli_flag(argc, argv, &i, "--config", &val);
		if (r < 0)
			goto missing;
		if (r > 0) {
			if (strlen(val) >= sizeof(c->config)) {
				snprintf(err, errlen, "--config: path too long");
				return -EINVAL;
			}
			strcpy(c->config, val);
			continue;
		}
		for (size_t k = 0; k < sizeof(flag_keys) / sizeof(flag_keys[0]); k++) {
			r = cli_flag(argc, argv, &i, flag_keys[k].flag, &val);
			if (r < 0)
				goto missing;
			if (r == 0)
				continue;
			if (!config_pass &&
			    conf_set(c, flag_keys[k].key, val, msg, sizeof(msg))) {
				snprintf(err, errlen, "%s: %s", flag_keys[k].flag, msg);
				return -EINVAL;
			}
			break;
		}
		if (r > 0)
			continue;
		snprintf(err, errlen, "unknown option '%s'", a);
		return -EINVAL;
	missing:
		snprintf(err, errlen, "option '%s' needs a value", a);
		return -EINVAL;
	}
	return 0;
}

int conf_from_args(struct srv_conf *c, int argc, char **argv, char *err, size_t errlen)
{
	int r = apply_args(c, argc, argv, true, err, errlen);

	if (r || c->std.help || c->std.version)
		return r;
	/* the packaged file is read without --config too, when it is there */
	if (!c->config[0] && access(CONF_DEFAULT_PATH, F_OK) == 0)
		snprintf(c->config, sizeof(c->config), "%s", CONF_DEFAULT_PATH);
	if (c->config[0]) {
		r = conf_load(c, c->config, err, errlen);
		if (r)
			return -EINVAL;
	}
	r = apply_args(c, argc, argv, false, err, errlen);
	if (!r && !c->tls && c->password[0]) {
		snprintf(
		    err, errlen,
		    "server_password needs tls = on: over --tls off it would cross the "
		    "network in the clear");
		return -EINVAL;
	}
	return r;
}

const char *conf_usage(void)
{
	return "usage: intercomd [options]\n"
	       "  --port N            TCP and UDP port (default 6060; 0: any free one, "
	       "logged)\n"
	       "  --udp-port N        UDP voice port, if not the TCP port\n"
	       "  --bind ADDR         IPv4 or IPv6 address to listen on (default: every "
	       "address,\n"
	       "                      IPv4 and IPv6; 0.0.0.0: IPv4 only)\n"
	       "  --name NAME         server name sent to clients (default: host name)\n"
	       "  --max-clients N     sessions at once, 1-1000 (default 256)\n"
	       "  --ping-interval S   seconds between PINGs (default 15)\n"
	       "  --ping-timeout S    seconds until an unanswered PING drops (default "
	       "45)\n"
	       "  --ring-timeout S    seconds a call request rings (default 30)\n"
	       "  --max-pending-per-source N\n"
	       "                      connections not logged in yet per address (IPv6: "
	       "/64),\n"
	       "                      default 32; 0: no limit\n"
	       "  --tls on|off        on (default): TLS 1.3 only, encrypted voice; "
	       "off:\n"
	       "                      protocol 1.0 in the clear, as nc speaks it (for "
	       "debugging)\n"
	       "  --state-dir DIR     where the server's identity (key, certificate) is "
	       "kept\n"
	       "  --tls-key FILE      an Ed25519 key to use instead of the state "
	       "directory's\n"
	       "  --server-password TEXT  boxes must send it to log in (TLS only)\n"
	       "  --guests yes|no     TLS sessions without a box identity may log in "
	       "(default no)\n"
	       "  --registration open|closed\n"
	       "                      open (default): a box's first login binds its nick "
	       "to\n"
	       "                      its key; closed: registered nicks only\n"
	       "  --trusted LIST      addresses or prefixes (10.0.0.5, 10.0.1.0/24, "
	       "2001:db8::/48)\n"
	       "                      exempt from the per-host bounds, besides "
	       "127.0.0.1 and ::1\n"
	       "  --registry list | add NICK FINGERPRINT | remove NICK\n"
	       "                      show or change the nick registry (intercomd "
	       "stopped) and exit\n"
	       "  --fingerprint       print the identity's fingerprint (making the key "
	       "first\n"
	       "                      when there is none) and exit\n"
	       "  --config FILE       key = value file (keys as above with _); flags "
	       "win\n"
	       "  --check-config      check the configuration and exit (0 good, 2 bad)\n"
	       "  --verbose, -v       log every session event\n"
	       "  --help, -h          this text\n"
	       "  --version           print the version\n";
}
