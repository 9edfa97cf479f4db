/* client.h: the intercom client: app, net, voice, audio and tones on one event loop. */
#ifndef IC_CLIENT_H
#define IC_CLIENT_H

#include <signal.h>

#include "cfg.h"
#include "ident.h"

/* Run until *quit is set, --exit-after passes, or a fatal error, presenting identity id
 * over TLS (the caller's). Returns the process exit status: 0 on a clean exit, 1 on a
 * runtime failure, 2 on a bad file or setting. */
int client_run(const struct cfg *c, const struct ident *id, volatile sig_atomic_t *quit,
	       const sigset_t *block);

#endif
