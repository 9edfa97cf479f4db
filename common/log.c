#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *log_prog = "intercom";
static enum log_level log_max = LOG_INFO;
static int log_journal = -1; /* under journald, prefix each line with its priority */

static void (*log_before)(void *), (*log_after)(void *);
static void *log_hook_arg;

void log_set_hooks(void (*before)(void *arg), void (*after)(void *arg), void *arg)
{
	log_before = before;
	log_after = after;
	log_hook_arg = arg;
}

void log_setup(const char *prog, enum log_level max)
{
	log_prog = prog;
	log_max = max;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	/* syslog-style priority prefixes: journald files each line at its level */
	static const char *const prio[] = {"<3>", "<4>", "<6>", "<7>"};
	char line[1024];
	va_list ap;

	if (lvl > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_journal < 0)
		log_journal = getenv("JOURNAL_STREAM") != NULL;
	if (log_before)
		log_before(log_hook_arg);
	fprintf(stderr, "%s%s: %s\n", log_journal ? prio[lvl] : "", log_prog, line);
	if (log_after)
		log_after(log_hook_arg);
}
