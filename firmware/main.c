/* intercom: the board client. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cli.h"
#include "client.h"
#include "ident.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct cfg c;
	volatile sig_atomic_t *quit;
	sigset_t block;
	char err[512];
	int r;

	cfg_defaults(&c);
	if (cfg_from_args(&c, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "intercom: %s\n(see intercom --help)\n", err);
		return 2;
	}
	r = cli_std_exit(&c.std, "intercom", cfg_usage(),
			 c.config[0]			       ? c.config
			 : access(CFG_DEFAULT_PATH, F_OK) == 0 ? CFG_DEFAULT_PATH
							       : NULL);
	if (r >= 0)
		return r;
	log_setup("intercom", c.std.verbose ? LOG_DEBUG : LOG_INFO);
	{
		struct ident *id = NULL;

		r = ident_start(&id, c.state_dir, NULL, c.nick, c.fingerprint);
		ident_free(id); /* presented over TLS once the client speaks it */
		if (r || c.fingerprint)
			return r;
	}
	{
		char host[256] = "", why[256];

		if (!gethostname(host, sizeof(host) - 1) &&
		    cfg_nick_warning(c.nick, host, why, sizeof(why)))
			log_warn("%s", why);
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	quit = cli_signals(&block);
	return client_run(&c, quit, &block);
}
