#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conftab.h"
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

static int set_bind(void *obj, const struct conftab_key *k, const char *val, char *err,
		    size_t errlen)
{
	struct srv_conf *c = obj;
	unsigned char tmp[16];

	(void)k;
	if (strlen(val) >= sizeof(c->bind) ||
	    (inet_pton(AF_INET, val, tmp) != 1 && inet_pton(AF_INET6, val, tmp) != 1)) {
		snprintf(err, errlen, "bind: '%s' is not an IPv4 or IPv6 address", val);
		return -EINVAL;
	}
	strcpy(c->bind, val);
	return 0;
}

static int set_registration(void *obj, const struct conftab_key *k, const char *val,
			    char *err, size_t errlen)
{
	(void)k;
	if (strcmp(val, "open") && strcmp(val, "closed")) {
		snprintf(err, errlen, "registration: '%s' is not open or closed", val);
		return -EINVAL;
	}
	((struct srv_conf *)obj)->registration_closed = !strcmp(val, "closed");
	return 0;
}

/* trusted: guard_trust's list, checked now ("" trusts nothing more). */
static int set_trusted(void *obj, const struct conftab_key *k, const char *val, char *err,
		       size_t errlen)
{
	struct srv_conf *c = obj;
	char why[160];

	(void)k;
	if (strlen(val) >= sizeof(c->trusted) ||
	    guard_trust(NULL, val, why, sizeof(why))) {
		snprintf(err, errlen, "trusted: %s",
			 strlen(val) >= sizeof(c->trusted)
			     ? "a list of addresses or prefixes under 512 bytes"
			     : why);
		return -EINVAL;
	}
	strcpy(c->trusted, val);
	return 0;
}

static bool name_valid(const char *v)
{
	return *v && names_text_valid(v, strlen(v));
}

#define STR_(x)			#x
#define STR(x)			STR_(x)
#define F			CONFTAB_FLAG
#define TEXT(k, f, ok, fl, msg) CONFTAB_TEXT(k, struct srv_conf, f, ok, fl, msg)
#define UINT(k, f, l, h)	CONFTAB_UINT(k, struct srv_conf, f, l, h, F)
#define BOOL(k, f, fl)		CONFTAB_BOOL(k, struct srv_conf, f, fl, ONOFF)
#define OWN(k, f, fn)		CONFTAB_OWN(k, struct srv_conf, f, fn, F)
#define ONOFF			"on/off/yes/no/true/false/1/0"
#define PATH			"a path of 1-255 bytes"
/* Every key; each but verbose (-v, --verbose) is also a flag. */
static const struct conftab_key keys[] = {
    UINT("port", port, 0, 65535),
    UINT("udp_port", udp_port, 0, 65535),
    OWN("bind", bind, set_bind),
    TEXT("name", name, name_valid, F,
	 "1-" STR(IC_SERVER_NAME_MAX) " bytes of text without control bytes"),
    UINT("max_clients", max_clients, 1, IC_CLIENTS_MAX),
    UINT("ping_interval", ping_interval, 1, IC_TIMER_MAX_S),
    UINT("ping_timeout", ping_timeout, 1, IC_TIMER_MAX_S),
    UINT("ring_timeout", ring_timeout, 1, IC_TIMER_MAX_S),
    UINT("max_pending_per_source", max_pending_per_source, 0,
	 IC_CLIENTS_MAX + IC_RAW_SPARE),
    TEXT("state_dir", state_dir, NULL, F, PATH),
    TEXT("tls_key", tls_key, NULL, F, PATH),
    BOOL("tls", tls, F),
    /* a secret: its errors never echo it */
    TEXT("server_password", password, names_password_valid, F | CONFTAB_EMPTY_OK,
	 "1-" STR(IC_PASSWORD_MAX) " bytes of text without '\"' or control characters"),
    BOOL("guests", guests, F),
    OWN("registration", registration_closed, set_registration),
    OWN("trusted", trusted, set_trusted),
    BOOL("verbose", std.verbose, 0),
};

const struct conftab_key *conf_keys(size_t *n)
{
	*n = sizeof(keys) / sizeof(keys[0]);
	return keys;
}

int conf_set(struct srv_conf *c, const char *key, const char *val, char *err,
	     size_t errlen)
{
	return conftab_set(keys, sizeof(keys) / sizeof(keys[0]), c, key, val, err,
			   errlen);
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

/* How many of argv's words from first on belong to --registry: up to the next --flag,
 * but remove's --key. */
static int registry_words(int argc, char **argv, int first)
{
	int n = 0;

	for (; first + n < argc; n++) {
		const char *w = argv[first + n];
		bool key =
		    n == 1 && !strcmp(w, "--key") && !strcmp(argv[first], "remove");

		if (!strncmp(w, "--", 2) && !key)
			break;
	}
	return n;
}

/* --registry list | add NICK FP | remove NICK... | remove --key FP: its words from
 * argv[*i + 1] on (checked by main: nicks, fingerprints). */
static int registry_args(struct srv_conf *c, int argc, char **argv, int *i, char *err,
			 size_t errlen)
{
	int first = *i + 1, n = registry_words(argc, argv, first);
	const char *cmd = n ? argv[first] : "";
	bool by_key = n >= 2 && !strcmp(argv[first + 1], "--key");

	if ((!strcmp(cmd, "list") && n == 1) || (!strcmp(cmd, "add") && n == 3) ||
	    (!strcmp(cmd, "remove") && (by_key ? n == 3 : n >= 2))) {
		c->registry = argv + first;
		c->registry_n = n;
		*i += n;
		return 0;
	}
	snprintf(err, errlen,
		 "--registry: expected list, add NICK FINGERPRINT, remove NICK... or "
		 "remove --key FINGERPRINT");
	return -EINVAL;
}

static int apply_args(struct srv_conf *c, int argc, char **argv, bool config_pass,
		      char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
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
		if (r < 0) {
			snprintf(err, errlen, "option '%s' needs a value", a);
			return -EINVAL;
		}
		if (r > 0) {
			if (strlen(val) >= sizeof(c->config)) {
				snprintf(err, errlen, "--config: path too long");
				return -EINVAL;
			}
			strcpy(c->config, val);
			continue;
		}
		r = conftab_flag(keys, sizeof(keys) / sizeof(keys[0]), argc, argv, &i,
				 config_pass ? NULL : conf_set_cb, c, err, errlen);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		snprintf(err, errlen, "unknown option '%s'", a);
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
	       "  --registry list     print the nick registry (also while intercomd "
	       "runs) and exit\n"
	       "  --registry add NICK FINGERPRINT | remove NICK... | remove --key "
	       "FINGERPRINT\n"
	       "                      bind a nick to a box's key, release nicks, or "
	       "every nick\n"
	       "                      of one key (intercomd stopped) and exit\n"
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
