#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fsave.h"
#include "hex.h"
#include "ic_limits.h"
#include "names.h"
#include "web_limits.h"

struct user {
	char name[IC_NICK_MAX + 1];
	bool active; /* the hash is of a cookie secret, else of an enrollment token */
	unsigned char hash[32];
};

struct users {
	struct user u[WEB_USERS_MAX];
	size_t n;
};

static void path_of(char *out, size_t size, const char *dir, const char *file)
{
	snprintf(out, size, "%s/%s", dir, file);
}

static int sha256(const char *s, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL) && n == 32 ? 0
										: -EIO;
}

static int parse_line(struct users *u, char *line)
{
	char *name = strtok(line, " \n"), *state = strtok(NULL, " \n");
	char *hash = strtok(NULL, " \n");
	struct user *e;

	if (!name || !state || !hash || strtok(NULL, " \n") || !names_nick_valid(name) ||
	    strlen(name) > IC_NICK_MAX || strlen(hash) != 64 ||
	    (strcmp(state, "enroll") && strcmp(state, "active")))
		return -EINVAL;
	if (u->n == WEB_USERS_MAX)
		return -EINVAL;
	e = &u->u[u->n];
	if (hex_decode(hash, 32, e->hash))
		return -EINVAL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->active = !strcmp(state, "active");
	u->n++;
	return 0;
}

int users_load(struct users **up, const char *dir, char *err, size_t errlen)
{
	char path[4096], line[256];
	struct users *u = calloc(1, sizeof(*u));
	unsigned no = 0;
	FILE *f;
	int e = 0;

	if (!u)
		return -ENOMEM;
	path_of(path, sizeof(path), dir, USERS_FILE);
	f = fopen(path, "re");
	if (!f && errno != ENOENT) {
		e = -errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	}
	while (f && !e && fgets(line, sizeof(line), f)) {
		no++;
		if (parse_line(u, line)) {
			e = -EINVAL;
			snprintf(err, errlen,
				 "%s:%u: not a user line of intercom-web (move the file "
				 "away and add the users again with intercom-web "
				 "--add-user)",
				 path, no);
		}
	}
	if (f)
		fclose(f);
	if (e)
		users_free(u);
	else
		*up = u;
	return e;
}

void users_free(struct users *u)
{
	if (u)
		OPENSSL_cleanse(u, sizeof(*u));
	free(u);
}

static int fill(FILE *f, void *arg)
{
	const struct users *u = arg;
	char hex[65];

	for (size_t i = 0; i < u->n; i++) {
		hex_encode(u->u[i].hash, 32, hex);
		fprintf(f, "%s %s %s\n", u->u[i].name,
			u->u[i].active ? "active" : "enroll", hex);
	}
	return 0;
}

/* Load, change (fn), save: under a lock on the directory itself, so two writers take
 * turns (a lock file made by root running --add-user would shut the service's own
 * user out). */
static int update(const char *dir, int (*fn)(struct users *u, void *arg), void *arg,
		  char *err, size_t errlen)
{
	char path[4096];
	struct users *u = NULL;
	int fd, e;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		e = -errno;
		snprintf(err, errlen,
			 "%s: cannot lock: %s (is the state directory ours?)", dir,
			 strerror(errno));
		goto out;
	}
	e = users_load(&u, dir, err, errlen);
	if (e)
		goto out;
	e = fn(u, arg);
	if (e)
		goto out;
	path_of(path, sizeof(path), dir, USERS_FILE);
	e = fsave_write(path, 0600, FSAVE_REPLACE, fill, u);
	if (e)
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-e));
out:
	users_free(u);
	if (fd >= 0)
		close(fd);
	return e;
}

static struct user *find(struct users *u, const char *name)
{
	for (size_t i = 0; i < u->n; i++)
		if (names_equal(u->u[i].name, name))
			return &u->u[i];
	return NULL;
}

/* A fresh secret as hex into out, its hash into hash. */
static int new_secret(char *out, unsigned char hash[32])
{
	unsigned char raw[USERS_SECRET_BYTES];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	hex_encode(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return sha256(out, hash);
}

struct add_arg {
	const char *name;
	char *token;
};

static int do_add(struct users *u, void *arg)
{
	struct add_arg *a = arg;
	struct user *e = find(u, a->name);

	if (!e) {
		if (u->n == WEB_USERS_MAX)
			return -ENOSPC;
		e = &u->u[u->n++];
		snprintf(e->name, sizeof(e->name), "%s", a->name);
	}
	e->active = false;
	return new_secret(a->token, e->hash);
}

int users_add(const char *dir, const char *name, char *token, char *err, size_t errlen)
{
	struct add_arg a = {name, token};
	int e;

	if (!names_nick_valid(name) || strlen(name) > IC_NICK_MAX) {
		snprintf(err, errlen,
			 "'%s' is not a user name: 1 to 32 of A-Z a-z 0-9 _ - . (it is "
			 "the nick others see)",
			 name);
		return -EINVAL;
	}
	e = update(dir, do_add, &a, err, errlen);
	if (e == -ENOSPC)
		snprintf(err, errlen,
			 "%d users already: remove one first (intercom-web "
			 "--remove-user NAME)",
			 WEB_USERS_MAX);
	return e;
}

static int do_remove(struct users *u, void *arg)
{
	struct user *e = find(u, arg);

	if (!e)
		return -ENOENT;
	*e = u->u[--u->n];
	return 0;
}

int users_remove(const char *dir, const char *name, char *err, size_t errlen)
{
	int e = update(dir, do_remove, (void *)name, err, errlen);

	if (e == -ENOENT)
		snprintf(err, errlen,
			 "no user '%s' (intercom-web --list-users lists them)", name);
	return e;
}

/* The index of the entry in state active whose hash is h, looking at every entry so
 * the time taken says nothing about which (or whether one) matched; -1 when none. */
static int match(const struct users *u, const unsigned char h[32], bool active)
{
	int found = -1;

	for (size_t i = 0; i < u->n; i++) {
		int eq = !CRYPTO_memcmp(u->u[i].hash, h, 32) & (u->u[i].active == active);

		if (eq)
			found = (int)i;
	}
	return found;
}

struct enroll_arg {
	const char *token;
	char *secret, *name;
};

static int do_enroll(struct users *u, void *arg)
{
	struct enroll_arg *a = arg;
	unsigned char h[32];
	int i;

	if (strlen(a->token) != USERS_SECRET_HEX || sha256(a->token, h))
		return -EACCES;
	i = match(u, h, false);
	if (i < 0)
		return -EACCES;
	u->u[i].active = true;
	snprintf(a->name, IC_NICK_MAX + 1, "%s", u->u[i].name);
	return new_secret(a->secret, u->u[i].hash);
}

int users_enroll(const char *dir, const char *token, char *secret, char *name, char *err,
		 size_t errlen)
{
	struct enroll_arg a = {token, secret, name};
	int e = update(dir, do_enroll, &a, err, errlen);

	if (e == -EACCES)
		snprintf(err, errlen, "an unknown, used or forged enrollment link");
	return e;
}

int users_check(const struct users *u, const char *secret, char *name)
{
	unsigned char h[32];
	int i;

	if (strlen(secret) != USERS_SECRET_HEX || sha256(secret, h))
		return -EACCES;
	i = match(u, h, true);
	if (i < 0)
		return -EACCES;
	snprintf(name, IC_NICK_MAX + 1, "%s", u->u[i].name);
	return 0;
}

bool users_has(const struct users *u, const char *name)
{
	return find((struct users *)u, name) != NULL;
}

void users_print(const struct users *u, FILE *f)
{
	for (size_t i = 0; i < u->n; i++)
		fprintf(f, "%s %s\n", u->u[i].name,
			u->u[i].active ? "enrolled" : "waiting-for-enrollment");
}
