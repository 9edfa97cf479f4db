/* cli.h: what intercomd and intercom share on the command line and at start-up: the
 * standard flags, "--flag value" / "--flag=value" splitting, and signal handling. */
#ifndef IC_CLI_H
#define IC_CLI_H

#include <signal.h>
#include <stdbool.h>

/* --verbose/-v, --help/-h, --version, --check-config */
struct cli_std {
	bool verbose, help, version, check_only;
};

/* If arg is a standard flag, note it in s and return true. */
bool cli_std_flag(const char *arg, struct cli_std *s);

/* argv[*i] is flag: returns 1 with *val set ("--flag=value", or "--flag value", which
 * moves *i past the value), 0 if it is another argument, -1 if the value is missing. */
int cli_flag(int argc, char **argv, int *i, const char *flag, const char **val);

/* After parsing: --help prints usage, --version "prog VERSION (protocol 1)",
 * --check-config "prog: FILE: configuration OK", naming the file read (config_read, or
 * NULL when none was: then it says the flags and defaults alone were checked). Returns
 * the exit status for those (0), or -1 to run. */
int cli_std_exit(const struct cli_std *s, const char *prog, const char *usage,
		 const char *config_read);

/* SIGINT and SIGTERM set the returned flag (for loop_run); SIGPIPE is ignored; block gets
 * the two signals, which loop_run delivers only while it sleeps. */
volatile sig_atomic_t *cli_signals(sigset_t *block);

#endif
