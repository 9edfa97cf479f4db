/* intercom: the board client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cli.h"
#include "client.h"
#include "ident.h"
#include "log.h"
#include "pin.h"

/* --forget-server HOST[:PORT] */
static int forget(const struct cfg *c)
{
	char err[700], what[300];
	int n = pin_forget(c->state_dir, c->forget, c->forget_port, err, sizeof(err));

	if (n < 0) {
		log_err("%s", err);
		return 1;
	}
	snprintf(what, sizeof(what), "%s", c->forget);
	if (c->forget_port)
		snprintf(what + strlen(what), sizeof(what) - strlen(what), " port %u",
			 c->forget_port);
	if (n)
		printf("forgot %d key(s) of %s in %s/" PIN_FILE
		       "; the next connection trusts the key it is shown\n",
		       n, what, c->state_dir);
	else
		printf("no key of %s was kept in %s/" PIN_FILE "\n", what, c->state_dir);
	return 0;
}

int main(int argc, char **argv)
{
	struct cfg c;
	struct ident *id = NULL;
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
	if (c.forget[0])
		return forget(&c);
	r = ident_start(&id, c.state_dir, NULL, c.nick, c.fingerprint);
	if (r || c.fingerprint) {
		ident_free(id);
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
	r = client_run(&c, id, quit, &block);
	ident_free(id);
	return r;
}
