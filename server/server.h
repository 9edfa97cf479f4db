/* server.h: intercomd's sockets: the TCP listener, one UDP voice socket and a TCP
 * transport per client, all on one event loop, feeding the hub. */
#ifndef IC_SERVER_H
#define IC_SERVER_H

#include "conf.h"
#include "ident.h"
#include "loop.h"

struct server;

/* Bind and listen as c says, on loop l, presenting identity id over TLS (c->tls; id
 * is not used otherwise, and must outlive the server). Returns 0, or -errno with a
 * message in err (e.g. the port is in use). The caller frees with server_free. */
int server_new(struct server **sp, const struct srv_conf *c, const struct ident *id,
	       struct loop *l, char *err, size_t errlen);

/* Close every connection and socket, and make the registry's last save (waiting for
 * one running). Returns 0, or the negative errno of that save when it failed (logged):
 * intercomd then exits 1, the last changes lost. */
int server_free(struct server *srv);

#endif
