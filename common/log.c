#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *log_prog = "intercom";
static enum log_level log_max = LOG_INFO;
static int log_journal = -1; /* under journald, prefix each line with its priority */

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
	fprintf(stderr, "%s%s: %s\n", log_journal ? prio[lvl] : "", log_prog, line);
}
