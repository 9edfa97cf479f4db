#include "cli.h"

#include <stdio.h>
#include <string.h>

#ifndef IC_VERSION
#define IC_VERSION "0.0.0"
#endif

bool cli_std_flag(const char *a, struct cli_std *s)
{
	if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
		s->verbose = true;
	else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
		s->help = true;
	else if (!strcmp(a, "--version"))
		s->version = true;
	else if (!strcmp(a, "--check-config"))
		s->check_only = true;
	else
		return false;
	return true;
}

int cli_flag(int argc, char **argv, int *i, const char *flag, const char **val)
{
	size_t n = strlen(flag);

	if (strncmp(argv[*i], flag, n))
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

int cli_std_exit(const struct cli_std *s, const char *prog, const char *usage,
		 const char *config_read)
{
	if (s->help) {
		fputs(usage, stdout);
		return 0;
	}
	if (s->version) {
		printf("%s %s (protocol 1)\n", prog, IC_VERSION);
		return 0;
	}
	if (s->check_only) {
		if (config_read)
			printf("%s: %s: configuration OK\n", prog, config_read);
		else
			printf(
			    "%s: configuration OK (no configuration file read: the flags "
			    "and defaults alone)\n",
			    prog);
		return 0;
	}
	return -1;
}

/* Signals are process-wide, so their flag is too. */
static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

volatile sig_atomic_t *cli_signals(sigset_t *block)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(block);
	sigaddset(block, SIGINT);
	sigaddset(block, SIGTERM);
	return &quit;
}
