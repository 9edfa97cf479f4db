#include "pin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsave.h"
#include "ic_limits.h"
#include "ident.h"

#define PIN_KEY_MAX 280 /* "[" host (255) "]:" port */

/* host:port as the file writes it */
static void pin_key(char *out, size_t size, const char *host, unsigned port)
{
	snprintf(out, size, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

/* The whole file into *buf (NUL-terminated; NULL and 0 when there is none). */
static int load(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *b = NULL;
	size_t n;
	int e = 0;

	*buf = NULL;
	*len = 0;
	if (!f) {
		if (errno == ENOENT)
			return 0;
		e = -errno;
		snprintf(err, errlen, "%s: %s (check the state directory's owner)", path,
			 strerror(-e));
		return e;
	}
	b = malloc(IC_KNOWN_SERVERS_MAX + 1);
	if (!b) {
		e = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	n = fread(b, 1, IC_KNOWN_SERVERS_MAX + 1, f);
	if (ferror(f) || n > IC_KNOWN_SERVERS_MAX || memchr(b, '\0', n)) {
		e = -EINVAL;
		snprintf(
		    err, errlen,
		    "%s: not a known_servers file (over %d bytes, or binary): move it "
		    "away",
		    path, IC_KNOWN_SERVERS_MAX);
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	fclose(f);
	return e;
}

/* One line of the file: its key and fingerprint, or neither for a blank line or a
 * comment. Returns 0 or -EINVAL for anything else. */
static int parse_line(const char *line, size_t len, char *key, char *fp)
{
	const char *sp;
	size_t kl;

	key[0] = fp[0] = '\0';
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len || line[0] == '#')
		return 0;
	sp = memchr(line, ' ', len);
	if (!sp || sp == line || (kl = (size_t)(sp - line)) > PIN_KEY_MAX ||
	    !ident_fp_valid(sp + 1, len - kl - 1))
		return -EINVAL;
	memcpy(key, line, kl);
	key[kl] = '\0';
	memcpy(fp, sp + 1, IDENT_FP_LEN);
	fp[IDENT_FP_LEN] = '\0';
	return 0;
}

/* Calls each(line, len, key, fp, arg) for every line; the first nonzero return ends the
 * walk and is returned. A malformed line is -EINVAL with its number in err. */
static int walk(const char *path, const char *buf, size_t len,
		int (*each)(const char *line, size_t n, const char *key, const char *fp,
			    void *arg),
		void *arg, char *err, size_t errlen)
{
	char key[PIN_KEY_MAX + 1], fp[IDENT_FP_LEN + 1];
	unsigned no = 0;

	for (const char *p = buf; p < buf + len;) {
		const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
		int r;

		no++;
		if (parse_line(p, n, key, fp)) {
			snprintf(err, errlen,
				 "%s:%u: not \"HOST:PORT sha256:...\" (fix or remove the "
				 "line)",
				 path, no);
			return -EINVAL;
		}
		r = each(p, n, key, fp, arg);
		if (r)
			return r;
		p += n + (nl != NULL);
	}
	return 0;
}

struct content {
	const char *buf, *extra;
	size_t len;
};

static int fill(FILE *f, void *arg)
{
	const struct content *c = arg;

	fwrite(c->buf, 1, c->len, f);
	if (c->len && c->buf[c->len - 1] != '\n')
		fputc('\n', f);
	if (c->extra)
		fprintf(f, "%s\n", c->extra);
	return 0;
}

/* The file replaced with buf's lines and an extra one (or none), durably (fsave.h: as
 * root, owned like the state directory, so the service's user still reads it). */
static int save(const char *path, const char *buf, size_t len, const char *extra,
		char *err, size_t errlen)
{
	struct content c = {buf, extra, len};
	int e = fsave_write(path, 0600, FSAVE_REPLACE, fill, &c);

	if (e)
		snprintf(err, errlen,
			 "%s: cannot be written: %s (free space, or check the "
			 "state directory's owner)",
			 path, strerror(-e));
	return e;
}

struct find {
	const char *key;
	char *fp; /* the entry's, when found */
};

static int find_one(const char *line, size_t n, const char *key, const char *fp,
		    void *arg)
{
	struct find *f = arg;

	(void)line, (void)n;
	if (!key[0] || strcmp(key, f->key))
		return 0;
	strcpy(f->fp, fp);
	return 1;
}

int pin_check(const char *dir, const char *host, unsigned port, const char *pinned,
	      const char *fp, bool *added, char *want, char *err, size_t errlen)
{
	char path[512], key[PIN_KEY_MAX + 1], line[PIN_KEY_MAX + IDENT_FP_LEN + 2];
	struct find fd = {key, want};
	char *buf = NULL;
	size_t len;
	int e;

	*added = false;
	want[0] = '\0';
	if (pinned && pinned[0]) {
		snprintf(want, IDENT_FP_LEN + 1, "%s", pinned);
		return strcmp(fp, pinned) ? -EPERM : 0;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, PIN_FILE);
	pin_key(key, sizeof(key), host, port);
	e = load(path, &buf, &len, err, errlen);
	if (e)
		return e;
	e = walk(path, buf ? buf : "", len, find_one, &fd, err, errlen);
	if (e == 1) {
		e = strcmp(fp, want) ? -EPERM : 0;
	} else if (e == 0) {
		snprintf(line, sizeof(line), "%s %s", key, fp);
		e = save(path, buf ? buf : "", len, line, err, errlen);
		*added = e == 0;
		if (!e)
			strcpy(want, fp);
	}
	free(buf);
	return e;
}

struct forget {
	const char *host;
	unsigned port; /* 0: every port */
	char *out;     /* the lines kept */
	size_t len;
	int removed;
};

/* key is host:port, or host at any port (port 0): the file's spelling of it, pin_key's,
 * up to its last ':', then a port */
static bool forget_match(const char *key, const char *host, unsigned port)
{
	char want[PIN_KEY_MAX + 1];
	size_t hl;

	pin_key(want, sizeof(want), host, port);
	if (port)
		return !strcmp(key, want);
	hl = (size_t)(strrchr(want, ':') - want) + 1;
	return !strncmp(key, want, hl) && key[hl] && !strchr(key + hl, ':');
}

static int forget_one(const char *line, size_t n, const char *key, const char *fp,
		      void *arg)
{
	struct forget *f = arg;

	(void)fp;
	if (key[0] && forget_match(key, f->host, f->port)) {
		f->removed++;
		return 0;
	}
	memcpy(f->out + f->len, line, n);
	f->len += n;
	f->out[f->len++] = '\n';
	return 0;
}

int pin_forget(const char *dir, const char *host, unsigned port, char *err, size_t errlen)
{
	char path[512];
	struct forget fg = {host, port, NULL, 0, 0};
	char *buf = NULL;
	size_t len;
	int e;

	snprintf(path, sizeof(path), "%s/%s", dir, PIN_FILE);
	e = load(path, &buf, &len, err, errlen);
	if (e || !buf)
		return e;
	fg.out = malloc(len + 2);
	if (!fg.out) {
		free(buf);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	e = walk(path, buf, len, forget_one, &fg, err, errlen);
	if (!e && fg.removed)
		e = save(path, fg.out, fg.len, NULL, err, errlen);
	free(fg.out);
	free(buf);
	return e ? e : fg.removed;
}

void pin_forget_command(char *out, size_t size, const char *dir, const char *host)
{
	/* systemd sets INVOCATION_ID for each run of a unit */
	snprintf(out, size, "%sintercom --state-dir %s --forget-server %s",
		 getenv("INVOCATION_ID") ? "sudo " : "", dir, host);
}
