/* intercomd: the intercom server. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "ident.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "notify.h"
#include "registry.h"
#include "server.h"

/* The registry's entry as a message: "NICK (FINGERPRINT)". */
static const char *who(const struct reg *r, const char *nick, char *buf, size_t size)
{
	const struct reg_entry *e = reg_find(r, nick);

	snprintf(buf, size, "%s (%s)", e ? e->nick : nick, e ? e->fp : "?");
	return buf;
}

/* add or remove, in r, what was done into done; returns the exit status. */
static int registry_change(struct reg *r, const char *cmd, const char *nick,
			   const char *fp, char *done, size_t size)
{
	char buf[128];
	bool add = !strcmp(cmd, "add");
	int e;

	snprintf(done, size, "removed %s", who(r, nick, buf, sizeof(buf)));
	e = add ? reg_bind(r, nick, fp, 0) : reg_remove(r, nick);
	if (add && !e)
		snprintf(done, size, "registered %s", who(r, nick, buf, sizeof(buf)));
	if (e == -EEXIST)
		fprintf(stderr, "intercomd: %s is registered already: remove it first\n",
			who(r, nick, buf, sizeof(buf)));
	else if (e == -EMLINK)
		fprintf(stderr, "intercomd: %s owns %d nicks already\n", fp,
			IC_NICKS_PER_KEY);
	else if (e == -ENOSPC)
		fprintf(stderr, "intercomd: the registry is full (%d nicks)\n",
			IC_REGISTRY_MAX);
	else if (e == -ENOENT)
		fprintf(stderr, "intercomd: %s is not in the registry\n", nick);
	else if (e)
		fprintf(stderr, "intercomd: out of memory\n");
	return e == -ENOMEM ? 1 : e ? 2 : 0;
}

/* intercomd --registry list | add NICK FP | remove NICK. Returns the exit status. */
static int registry_cmd(const struct srv_conf *c)
{
	const char *cmd = c->registry[0], *nick = c->registry[1], *fp = c->registry[2];
	struct reg *r = NULL;
	char err[512], done[160];
	int rc;

	if (nick && !names_nick_valid(nick)) {
		fprintf(stderr,
			"intercomd: '%s' is not a nick (1-32 of A-Z a-z 0-9 _ - .)\n",
			nick);
		return 2;
	}
	if (fp && !ident_fp_valid(fp, strlen(fp))) {
		fprintf(stderr,
			"intercomd: '%s' is not a fingerprint (sha256: and 64 lower-case "
			"hex digits, as intercom --fingerprint prints it)\n",
			fp);
		return 2;
	}
	rc = reg_open(&r, c->state_dir, REG_ALONE, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "intercomd: %s\n", err);
		return rc == -EBUSY || rc == -EINVAL ? 2 : 1;
	}
	if (!strcmp(cmd, "list")) {
		rc = reg_print(r, stdout) || fflush(stdout) ? 1 : 0;
	} else {
		rc = registry_change(r, cmd, nick, fp, done, sizeof(done));
		if (!rc && reg_save(r, err, sizeof(err))) {
			fprintf(stderr, "intercomd: %s\n", err);
			rc = 1;
		}
		if (!rc)
			printf("%s\n", done);
	}
	reg_free(r);
	return rc;
}

int main(int argc, char **argv)
{
	struct srv_conf conf;
	struct server *srv = NULL;
	struct ident *id = NULL;
	struct loop *loop = NULL;
	volatile sig_atomic_t *quit;
	sigset_t block;
	char err[512];
	int r;

	conf_defaults(&conf);
	if (conf_from_args(&conf, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "intercomd: %s\n(see intercomd --help)\n", err);
		return 2;
	}
	r = cli_std_exit(&conf.std, "intercomd", conf_usage(),
			 conf.config[0] ? conf.config : NULL);
	if (r >= 0)
		return r;
	if (conf.registry[0])
		return registry_cmd(&conf);
	log_setup("intercomd", conf.std.verbose ? LOG_DEBUG : LOG_INFO);
	r = ident_start(&id, conf.state_dir, conf.tls_key[0] ? conf.tls_key : NULL,
			conf.name, conf.fingerprint);
	if (r || conf.fingerprint) {
		ident_free(id);
		return r;
	}
	quit = cli_signals(&block);

	if (loop_new(&loop)) {
		log_err("out of memory");
		ident_free(id);
		return 1;
	}
	r = server_new(&srv, &conf, id, loop, err, sizeof(err));
	if (r) {
		log_err("%s", err);
		loop_free(loop);
		ident_free(id);
		return r == -EINVAL ? 2 : 1; /* a file of ours that is not right */
	}
	/* listening: under systemd (Type=notify), units ordered after us may start now */
	if (notify_send("READY=1") < 0)
		log_warn(
		    "could not tell the service manager we are ready (NOTIFY_SOCKET)");
	r = loop_run(loop, quit, &block);
	if (r)
		log_err("event loop failed: %s", strerror(-r));
	log_info("shutting down");
	notify_send("STOPPING=1");
	if (server_free(srv) && !r)
		r = -EIO; /* the registry's last save failed (logged) */
	loop_free(loop);
	ident_free(id);
	return r ? 1 : 0;
}
