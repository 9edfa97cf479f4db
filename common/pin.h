/* pin.h: which server key a box trusts (protocol 1.1, section 3; docs/SECURITY.md): the
 * configured server_fingerprint, else trust on first use into the state directory's
 * known_servers, one "HOST:PORT FINGERPRINT" per line like SSH's known_hosts. HOST is the
 * name as configured (a name with IPv6 and IPv4 addresses is one server), an IPv6
 * address in brackets. Files only: no sockets, no clock. */
#ifndef IC_PIN_H
#define IC_PIN_H

#include <stdbool.h>
#include <stddef.h>

#define PIN_FILE "known_servers"

/* The server at host:port presented the key with fingerprint fp. With a configured pin
 * (not ""), fp must equal it. Without one, fp must equal known_servers' entry for
 * host:port; with no entry, fp is added (*added set) and trusted. Returns 0 (trusted),
 * -EPERM (another key: the expected fingerprint into want, IDENT_FP_LEN + 1 bytes), or
 * -EINVAL / -errno (known_servers cannot be read, is not ours, or cannot be written:
 * trust nothing) with "PATH: what (what to do)" in err. */
int pin_check(const char *dir, const char *host, unsigned port, const char *pinned,
	      const char *fp, bool *added, char *want, char *err, size_t errlen);

/* intercom --forget-server HOST[:PORT]: remove the entries of HOST (port 0: every
 * port), or of HOST:PORT, from known_servers. Returns how many were removed (0 or more),
 * or -errno with a message in err. */
int pin_forget(const char *dir, const char *host, unsigned port, char *err,
	       size_t errlen);

/* The command that makes the box forget host's key in dir's known_servers, for the log
 * to name (out: at least PIN_COMMAND_MAX bytes). It names the state directory (root's
 * default would be another), and when the box runs as a service (systemd: its own user,
 * the state directory that user's alone) it starts with sudo: run as root it keeps the
 * files that user's (fsave.h). */
#define PIN_COMMAND_MAX 600
void pin_forget_command(char *out, size_t size, const char *dir, const char *host);

#endif
