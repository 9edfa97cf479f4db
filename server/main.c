/* intercomd: the intercom server. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A nick or fingerprint given to --registry: 0, or 2 (the exit status) said why. */
static int check_nick(const char *nick)
{
	if (names_nick_valid(nick))
		return 0;
	fprintf(stderr, "intercomd: '%s' is not a nick (1-32 of A-Z a-z 0-9 _ - .)\n",
		nick);
	return 2;
}

static int check_fp(const char *fp)
{
	if (ident_fp_valid(fp, strlen(fp)))
		return 0;
	fprintf(stderr,
		"intercomd: '%s' is not a fingerprint (sha256: and 64 lower-case hex "
		"digits, as intercom --fingerprint prints it)\n",
		fp);
	return 2;
}

/* add NICK FP, what was done to done. Returns the exit status. */
static int registry_add(struct reg *r, const char *nick, const char *fp, FILE *done)
{
	char buf[128];
	int e = reg_bind(r, nick, fp, 0);

	if (e == -EEXIST)
		fprintf(stderr, "intercomd: %s is registered already: remove it first\n",
			who(r, nick, buf, sizeof(buf)));
	else if (e == -EMLINK)
		fprintf(stderr, "intercomd: %s owns %d nicks already\n", fp,
			IC_NICKS_PER_KEY);
	else if (e == -ENOSPC)
		fprintf(stderr, "intercomd: the registry is full (%d nicks)\n",
			IC_REGISTRY_MAX);
	else if (e)
		fprintf(stderr, "intercomd: out of memory\n");
	else
		fprintf(done, "registered %s\n", who(r, nick, buf, sizeof(buf)));
	return e == -ENOMEM ? 1 : e ? 2 : 0;
}

/* remove NICK...: all of them, or (one is not there) none; what was done to done.
 * Returns the exit status. */
static int registry_remove(struct reg *r, char *const *nicks, int n, FILE *done)
{
	char buf[128];
	int missing = 0;

	for (int i = 0; i < n; i++) {
		if (reg_find(r, nicks[i]))
			continue;
		fprintf(stderr, "intercomd: %s is not in the registry\n", nicks[i]);
		missing++;
	}
	if (missing) {
		fprintf(stderr,
			"intercomd: nothing removed (intercomd --registry list)\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		fprintf(done, "removed %s\n", who(r, nicks[i], buf, sizeof(buf)));
		reg_remove(r, nicks[i]);
	}
	return 0;
}

static void print_removed(void *done, const struct reg_entry *e)
{
	fprintf(done, "removed %s (%s)\n", e->nick, e->fp);
}

/* remove --key FP: every nick it holds; what was done to done. Returns the exit
 * status. */
static int registry_remove_key(struct reg *r, const char *fp, FILE *done)
{
	if (reg_remove_key(r, fp, print_removed, done))
		return 0;
	fprintf(
	    stderr,
	    "intercomd: %s holds no nick in the registry (intercomd --registry list)\n",
	    fp);
	return 2;
}

/* Its words checked: 0, or 2 said why. */
static int registry_check(char *const *w, int n)
{
	bool by_key = !strcmp(w[0], "remove") && !strcmp(w[1], "--key");

	if (!strcmp(w[0], "add"))
		return check_nick(w[1]) ? 2 : check_fp(w[2]);
	if (by_key)
		return check_fp(w[2]);
	for (int i = 1; i < n; i++) {
		if (check_nick(w[i]))
			return 2;
	}
	return 0;
}

/* A change to r as w says, saved; what was done printed once it is. Returns the exit
 * status. */
static int registry_change(struct reg *r, char *const *w, int n)
{
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *done = open_memstream(&text, &len);
	int rc;

	if (!done) {
		fprintf(stderr, "intercomd: out of memory\n");
		return 1;
	}
	if (!strcmp(w[0], "add"))
		rc = registry_add(r, w[1], w[2], done);
	else if (!strcmp(w[1], "--key"))
		rc = registry_remove_key(r, w[2], done);
	else
		rc = registry_remove(r, w + 1, n - 1, done);
	if (fclose(done) && !rc) {
		fprintf(stderr, "intercomd: out of memory\n");
		rc = 1;
	}
	if (!rc && reg_save(r, err, sizeof(err))) {
		fprintf(stderr, "intercomd: %s (nothing changed)\n", err);
		rc = 1;
	}
	if (!rc)
		fputs(text, stdout);
	free(text);
	return rc;
}

/* intercomd --registry list | add NICK FP | remove NICK... | remove --key FP. Returns
 * the exit status. list only reads (beside a running server); a change needs the
 * server stopped. */
static int registry_cmd(const struct srv_conf *c)
{
	char *const *w = c->registry;
	bool list = !strcmp(w[0], "list");
	struct reg *r = NULL;
	char err[512];
	int rc = registry_check(w, c->registry_n);

	if (rc)
		return rc;
	rc = reg_open(&r, c->state_dir, list ? REG_READ : REG_ALONE, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "intercomd: %s\n", err);
		return rc == -EBUSY || rc == -EINVAL ? 2 : 1;
	}
	if (list)
		rc = reg_print(r, stdout) ? 1 : 0;
	else
		rc = registry_change(r, w, c->registry_n);
	if (fflush(stdout) && !rc)
		rc = 1;
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
	if (conf.registry)
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
