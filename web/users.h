/* users.h: who may use intercom-web (docs/WEB.md): a list of users kept in the state
 * directory's `users` file, one "NAME STATE SHA256HEX" a line, written through fsave
 * under a lock on the directory so `intercom-web --add-user` and a running gateway never
 * lose each other's change. STATE is `enroll` (the hash is of a one-time enrollment
 * token) or `active` (of the browser's cookie secret). Only hashes are kept: a copy of
 * the file lets nobody in. Every operation reads the file afresh, so a running gateway
 * sees users added or removed by the command at once. Secrets are never logged. */
#ifndef IC_USERS_H
#define IC_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define USERS_FILE "users"
#define USERS_IDENT_DIR                                                                  \
	"users.d"	      /* users.d/NAME: each user's Ed25519 identity, made        \
				       by the gateway on the user's first login */
#define USERS_SECRET_BYTES 32 /* a token or cookie secret: 256 random bits */
#define USERS_SECRET_HEX   (2 * USERS_SECRET_BYTES)

/* The users file of dir, read (absent: no users). Returns 0 or -errno / -EINVAL (a line
 * that is not ours) with "PATH: what (what to do)" in err. */
struct users;
int users_load(struct users **up, const char *dir, char *err, size_t errlen);
void users_free(struct users *u);

/* Add name (a nick: names_nick_valid) with a fresh enrollment token (written to token,
 * USERS_SECRET_HEX + 1 bytes), or give an existing user a new one (its browser is
 * enrolled again: the old cookie stops working). Saved at once. Returns 0, -EINVAL (a
 * bad name), -ENOSPC (WEB_USERS_MAX users already) or -errno with err. */
int users_add(const char *dir, const char *name, char *token, char *err, size_t errlen);

/* Remove name. Returns 0, -ENOENT (no such user) or -errno with err. */
int users_remove(const char *dir, const char *name, char *err, size_t errlen);

/* Trade an enrollment token for a cookie secret (written to secret, USERS_SECRET_HEX + 1
 * bytes) and the user's name (name: at least 33 bytes): the token is used up. Tokens
 * are compared by hash in constant time. Returns 0, -EACCES (unknown, used or forged)
 * or -errno with err. */
int users_enroll(const char *dir, const char *token, char *secret, char *name, char *err,
		 size_t errlen);

/* The user whose cookie secret is secret (name: 33 bytes), compared by hash in
 * constant time with every user's. Returns 0 or -EACCES. */
int users_check(const struct users *u, const char *secret, char *name);

/* True when name is a user (enrolled or not). */
bool users_has(const struct users *u, const char *name);

/* One line per user: "NAME enrolled" or "NAME waiting-for-enrollment". */
void users_print(const struct users *u, FILE *f);

#endif
