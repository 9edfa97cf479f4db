/* gw.h: the intercom-web gateway on one event loop (docs/WEB.md): the HTTPS + WebSocket
 * port toward browsers, the plain-http landing port, and per WebSocket one session
 * toward intercomd (up.h). */
#ifndef IC_GW_H
#define IC_GW_H

#include <signal.h>

#define GW_PATH_MAX 1024

struct gw_cfg {
	char state_dir[GW_PATH_MAX];
	char names[512];	  /* the certificate's host names and addresses */
	unsigned port, http_port; /* 0: any free port (tests read the log) */
	char server[256];	  /* intercomd */
	unsigned server_port;
	char server_fp[80];	     /* pinned, "" for known_servers */
	char password[80];	     /* the server password, "" for none */
	char test_sink[GW_PATH_MAX]; /* --test-sink DIR: tests only */
	unsigned max_browsers;
	unsigned keepalive; /* seconds between pings (WEB_KEEPALIVE_S) */
};

/* Run until *quit is set. Returns the exit status: 0, 1 (a runtime failure), 2 (a bad
 * file or setting, logged with what to do). */
int gw_run(const struct gw_cfg *c, volatile sig_atomic_t *quit, const sigset_t *block);

#endif
