/* intercomd: the intercom server. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "server.h"

#ifndef IC_VERSION
#define IC_VERSION "0.0.0"
#endif

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

int main(int argc, char **argv)
{
	struct srv_conf conf;
	struct server *srv = NULL;
	struct loop *loop = NULL;
	struct sigaction sa;
	sigset_t block;
	char err[512];
	int r;

	conf_defaults(&conf);
	if (conf_from_args(&conf, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "intercomd: %s\n(see intercomd --help)\n", err);
		return 2;
	}
	if (conf.help) {
		fputs(conf_usage(), stdout);
		return 0;
	}
	if (conf.version) {
		printf("intercomd %s (protocol 1)\n", IC_VERSION);
		return 0;
	}
	if (conf.check_only) {
		printf("intercomd: configuration OK\n");
		return 0;
	}
	log_setup("intercomd", conf.verbose ? LOG_DEBUG : LOG_INFO);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);

	if (loop_new(&loop)) {
		log_err("out of memory");
		return 1;
	}
	r = server_new(&srv, &conf, loop, err, sizeof(err));
	if (r) {
		log_err("%s", err);
		loop_free(loop);
		return 1;
	}
	r = loop_run(loop, &quit, &block);
	if (r)
		log_err("event loop failed: %s", strerror(-r));
	log_info("shutting down");
	server_free(srv);
	loop_free(loop);
	return r ? 1 : 0;
}
