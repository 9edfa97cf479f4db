/* intercom-web: the browser gateway (docs/WEB.md, docs/man/intercom-web.8). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca.h"
#include "cli.h"
#include "conftab.h"
#include "gw.h"
#include "ic_limits.h"
#include "ident.h"
#include "kv.h"
#include "log.h"
#include "qr.h"
#include "users.h"
#include "wconf.h"
#include "web_limits.h"

#define CONFIG_DEFAULT WCONF_DEFAULT

static const struct conftab_key *keys;
static size_t nkeys;

struct opts {
	struct gw_cfg cfg;
	struct cli_std std;
	const char *config, *add, *remove;
	bool list, ca_fp;
};

static int set_cb(void *arg, const char *key, const char *val, char *err, size_t errlen)
{
	return conftab_set(keys, nkeys, arg, key, val, err, errlen);
}

static int parse(struct opts *o, int argc, char **argv, bool first, char *err,
		 size_t errlen)
{
	static const char *const cmds[] = {"--config", "--add-user", "--remove-user"};

	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		size_t k;
		int r;

		if (cli_std_flag(argv[i], &o->std))
			continue;
		if (!strcmp(argv[i], "--list-users") ||
		    !strcmp(argv[i], "--ca-fingerprint")) {
			*(argv[i][2] == 'l' ? &o->list : &o->ca_fp) = true;
			continue;
		}
		r = conftab_flag(keys, nkeys, argc, argv, &i, first ? NULL : set_cb,
				 &o->cfg, err, errlen);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		for (k = 0; k < 3 && !(r = cli_flag(argc, argv, &i, cmds[k], &v)); k++)
			;
		if (r < 0 || k == 3) {
			snprintf(err, errlen,
				 r < 0 ? "%s needs a value" : "unknown option '%s'",
				 argv[i]);
			return -EINVAL;
		}
		*(k == 0 ? &o->config : k == 1 ? &o->add : &o->remove) = v;
	}
	return 0;
}

static void defaults(struct gw_cfg *c)
{
	memset(c, 0, sizeof(*c));
	ident_state_dir(c->state_dir, sizeof(c->state_dir), IC_WEB_STATE_DIR,
			"intercom-web");
	gethostname(c->names, sizeof(c->names) - 1);
	c->port = 8443;
	c->http_port = 8080;
	snprintf(c->server, sizeof(c->server), "localhost");
	c->server_port = IC_PORT_DEFAULT;
	c->max_browsers = WEB_CONNS_MAX;
	c->keepalive = WEB_KEEPALIVE_S;
}

/* The state directory, made 0700 when missing. */
static int state_dir(const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "intercom-web: %s: cannot make the state directory: %s\n",
			dir, strerror(errno));
		return 1;
	}
	return 0;
}

static int add_user(const struct gw_cfg *c, const char *name)
{
	char token[USERS_SECRET_HEX + 1], err[600], url[1400], first[sizeof(c->names)];
	int e = users_add(c->state_dir, name, token, err, sizeof(err));

	if (e) {
		fprintf(stderr, "intercom-web: %s\n", err);
		return e == -EINVAL || e == -ENOSPC ? 2 : 1;
	}
	snprintf(first, sizeof(first), "%s", c->names);
	first[strcspn(first, ", ")] = '\0';
	snprintf(url, sizeof(url), "https://%s:%u/enroll?t=%s", first, c->port, token);
	explicit_bzero(token, sizeof(token));
	printf("Enrollment link for %s (works once; open it on the phone):\n%s\n", name,
	       url);
	qr_print(stdout, url);
	printf("First install the gateway's CA on the phone: http://%s:%u/\n", first,
	       c->http_port);
	explicit_bzero(url, sizeof(url));
	return 0;
}

static int command(const struct opts *o)
{
	char err[600];
	struct users *u;
	struct ca *ca;
	int e;

	if (o->add)
		return add_user(&o->cfg, o->add);
	if (o->remove) {
		e = users_remove(o->cfg.state_dir, o->remove, err, sizeof(err));
		if (e)
			fprintf(stderr, "intercom-web: %s\n", err);
		return e == -ENOENT ? 2 : e ? 1 : 0;
	}
	if (o->list) {
		e = users_load(&u, o->cfg.state_dir, err, sizeof(err));
		if (e) {
			fprintf(stderr, "intercom-web: %s\n", err);
			return 1;
		}
		users_print(u, stdout);
		users_free(u);
		return 0;
	}
	e = ca_load(&ca, o->cfg.state_dir, o->cfg.names, err, sizeof(err));
	if (e) {
		fprintf(stderr, "intercom-web: %s\n", err);
		return e == -EINVAL ? 2 : 1;
	}
	printf("%s\n", ca_fingerprint(ca));
	ca_free(ca);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	char err[600];
	sigset_t block;
	int rc;

	keys = wconf_keys(&nkeys);
	defaults(&o.cfg);
	if (parse(&o, argc, argv, true, err, sizeof(err)) ||
	    kv_load(o.config ? o.config : CONFIG_DEFAULT, !o.config, set_cb, &o.cfg, err,
		    sizeof(err)) ||
	    parse(&o, argc, argv, false, err, sizeof(err))) {
		fprintf(stderr,
			"intercom-web: %s (intercom-web --help lists the options)\n",
			err);
		return 2;
	}
	rc = cli_std_exit(&o.std, "intercom-web", wconf_usage(), o.config);
	if (rc >= 0)
		return rc;
	log_setup("intercom-web", o.std.verbose ? LOG_DEBUG : LOG_INFO);
	if (state_dir(o.cfg.state_dir))
		return 1;
	if (o.add || o.remove || o.list || o.ca_fp)
		return command(&o);
	rc = gw_run(&o.cfg, cli_signals(&block), &block);
	explicit_bzero(o.cfg.password, sizeof(o.cfg.password));
	return rc;
}
