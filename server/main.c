/* intercomd: the intercom server. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "ident.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "server.h"

/* The server's identity, made on first start. Returns 0, or the exit status: 2 for a key
 * file that is not ours (never replaced), 1 for any other failure. */
static int identity(const struct srv_conf *c, struct ident **id)
{
	char err[600];
	bool made = false;
	int e = ident_load(id, c->state_dir, c->tls_key[0] ? c->tls_key : NULL, c->name,
			   &made, err, sizeof(err));

	if (e) {
		log_err("%s", err);
		return e == -EINVAL ? 2 : 1;
	}
	if (c->fingerprint) {
		printf("%s\n", ident_fingerprint(*id));
		return 0;
	}
	log_info("identity %s (%s%s%s)", ident_fingerprint(*id),
		 c->tls_key[0] ? c->tls_key : c->state_dir,
		 c->tls_key[0] ? "" : "/" IDENT_KEY_FILE, made ? ": made now" : "");
	return 0;
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
	log_setup("intercomd", conf.std.verbose ? LOG_DEBUG : LOG_INFO);
	r = identity(&conf, &id);
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
	r = server_new(&srv, &conf, loop, err, sizeof(err));
	if (r) {
		log_err("%s", err);
		loop_free(loop);
		ident_free(id);
		return 1;
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
	server_free(srv);
	loop_free(loop);
	ident_free(id);
	return r ? 1 : 0;
}
