/* intercom: the board client. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "client.h"
#include "log.h"

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
	struct cfg c;
	struct sigaction sa;
	sigset_t block;
	char err[512];

	cfg_defaults(&c);
	if (cfg_from_args(&c, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "intercom: %s\n(see intercom --help)\n", err);
		return 2;
	}
	if (c.help) {
		fputs(cfg_usage(), stdout);
		return 0;
	}
	if (c.version) {
		printf("intercom %s (protocol 1)\n", IC_VERSION);
		return 0;
	}
	if (c.check_only) {
		printf("intercom: configuration OK\n");
		return 0;
	}
	log_setup("intercom", c.verbose ? LOG_DEBUG : LOG_INFO);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	return client_run(&c, &quit, &block);
}
