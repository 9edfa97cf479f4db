/* intercomd: the intercom server. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "ident.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "server.h"

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
