#include "registry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsave.h"
#include "hmap.h"
#include "names.h"

#define REG_HASH_BITS 12  /* 4096 buckets: IC_REGISTRY_MAX nicks, one each on average */
#define REG_LINE_MAX  256 /* nick 32, fingerprint 71, two times of 20, spaces: 146 */
#define REG_TIME_LEN  20  /* 2026-12-03T17:20:01Z */

struct item {
	struct reg_entry e;
	struct hnode node;
};

struct reg {
	char dir[256], path[300];
	int lockfd;
	struct item *
	    *items; /* in no order: a removal moves the last one into its place */
	size_t n, cap;
	struct hmap byname;
	uint64_t gen, saved_gen; /* changes made, and how many of them are written */
	uint64_t bind_gen;	 /* the change that made the latest binding */
};

static const char *const header =
    "# intercomd's nick registry: NICK FINGERPRINT FIRST LAST (UTC, - for never).\n"
    "# Written by intercomd; change it with intercomd --registry while it is stopped.\n";

static struct item *find(const struct reg *r, const char *nick)
{
	uint32_t hash = hmap_hash_icase(nick);

	for (struct hnode *n = hmap_bucket(&r->byname, hash); n; n = n->next) {
		struct item *it = hmap_entry(n, struct item, node);

		if (n->hash == hash && names_equal(it->e.nick, nick))
			return it;
	}
	return NULL;
}

const struct reg_entry *reg_find(const struct reg *r, const char *nick)
{
	const struct item *it = find(r, nick);

	return it ? &it->e : NULL;
}

unsigned reg_count(const struct reg *r, const char *fp)
{
	unsigned n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += !strcmp(r->items[i]->e.fp, fp);
	return n;
}

static int add(struct reg *r, const struct reg_entry *e)
{
	struct item *it;

	if (r->n >= IC_REGISTRY_MAX)
		return -ENOSPC;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct item **v = realloc(r->items, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->items = v;
		r->cap = cap;
	}
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->e = *e;
	r->items[r->n++] = it;
	hmap_add(&r->byname, &it->node, hmap_hash_icase(e->nick));
	return 0;
}

static void drop(struct reg *r, struct item *it)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->items[i] == it) {
			r->items[i] = r->items[--r->n];
			break;
		}
	}
	hmap_del(&r->byname, &it->node);
	free(it);
}

int reg_bind(struct reg *r, const char *nick, const char *fp, unsigned pending)
{
	struct item *it = find(r, nick);
	struct reg_entry e = {.pending = pending};

	int err;

	if (it && it->e.pending && pending && !strcmp(it->e.fp, fp)) {
		it->e.pending = pending; /* the same box again: this login completes it */
		return 0;
	}
	if (it)
		return -EEXIST;
	if (reg_count(r, fp) >= IC_NICKS_PER_KEY)
		return -EMLINK;
	snprintf(e.nick, sizeof(e.nick), "%s", nick);
	snprintf(e.fp, sizeof(e.fp), "%s", fp);
	e.gen = r->gen + 1;
	err = add(r, &e);
	if (!err)
		r->gen = r->bind_gen = e.gen;
	return err;
}

void reg_confirm(struct reg *r, const char *nick, unsigned pending, int64_t now)
{
	struct item *it = find(r, nick);

	if (!it || !pending || it->e.pending != pending)
		return;
	it->e.pending = 0;
	it->e.first = it->e.last = now;
	r->gen++;
}

void reg_abandon(struct reg *r, const char *nick, unsigned pending)
{
	struct item *it = find(r, nick);

	if (it && pending && it->e.pending == pending) {
		drop(r, it);
		r->gen++; /* a save may have written it already: the next one drops it */
	}
}

void reg_seen(struct reg *r, const char *nick, int64_t now)
{
	struct item *it = find(r, nick);

	if (!it || it->e.pending)
		return;
	if (!it->e.first)
		it->e.first = now;
	it->e.last = now;
	r->gen++;
}

int reg_remove(struct reg *r, const char *nick)
{
	struct item *it = find(r, nick);

	if (!it)
		return -ENOENT;
	r->gen++;
	drop(r, it);
	return 0;
}

unsigned reg_remove_key(struct reg *r, const char *fp,
			void (*removed)(void *arg, const struct reg_entry *e), void *arg)
{
	unsigned n = 0;

	for (size_t i = 0; i < r->n;) { /* drop moves the last item into i */
		struct item *it = r->items[i];

		if (strcmp(it->e.fp, fp)) {
			i++;
			continue;
		}
		if (removed)
			removed(arg, &it->e);
		r->gen += !it->e.pending;
		drop(r, it);
		n++;
	}
	return n;
}

bool reg_dirty(const struct reg *r)
{
	return r->gen != r->saved_gen;
}

uint64_t reg_gen(const struct reg *r)
{
	return r->gen;
}

void reg_saved(struct reg *r, uint64_t gen)
{
	r->saved_gen = gen;
}

uint64_t reg_saved_gen(const struct reg *r)
{
	return r->saved_gen;
}

const char *reg_dir(const struct reg *r)
{
	return r->dir;
}

uint64_t reg_bind_gen(const struct reg *r)
{
	return r->bind_gen;
}

/* ---- the file ---- */

static void time_text(int64_t t, char *out)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!t || !gmtime_r(&tt, &tm) ||
	    !strftime(out, REG_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(out, "-");
}

/* "-" (0) or a time as time_text writes it. */
static int time_parse(const char *s, int64_t *t)
{
	struct tm tm = {0};
	int n = 0;

	if (!strcmp(s, "-")) {
		*t = 0;
		return 0;
	}
	if (strlen(s) != REG_TIME_LEN ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != REG_TIME_LEN || tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	*t = (int64_t)timegm(&tm);
	return *t > 0 ? 0 : -EINVAL;
}

/* One line: an entry (*got set), or nothing for a blank line or a comment. */
static int parse_line(char *line, struct reg_entry *e, bool *got)
{
	char *f[5], *save = NULL;
	int n = 0;

	*got = false;
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0] || line[0] == '#')
		return 0;
	for (char *t = strtok_r(line, " \t", &save); t && n < 5;
	     t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	if (n != 4 || !names_nick_valid(f[0]) || !ident_fp_valid(f[1], strlen(f[1])) ||
	    time_parse(f[2], &e->first) || time_parse(f[3], &e->last))
		return -EINVAL;
	memset(e->nick, 0, sizeof(e->nick));
	strcpy(e->nick, f[0]);
	strcpy(e->fp, f[1]);
	e->pending = 0;
	*got = true;
	return 0;
}

static int load(struct reg *r, char *err, size_t errlen)
{
	FILE *f = fopen(r->path, "r");
	char line[REG_LINE_MAX + 2];
	unsigned no = 0;
	int e = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		e = -errno;
		snprintf(err, errlen, "%s: %s (check the state directory's owner)",
			 r->path, strerror(-e));
		return e;
	}
	while (!e && fgets(line, sizeof(line), f)) {
		struct reg_entry ent;
		bool got;

		no++;
		if (!strchr(line, '\n') && !feof(f)) {
			e = -EINVAL;
		} else if (parse_line(line, &ent, &got)) {
			e = -EINVAL;
		} else if (got && find(r, ent.nick)) {
			e = -EEXIST;
		} else if (got) {
			e = add(r, &ent);
		}
	}
	if (e == -EINVAL || e == -EEXIST)
		snprintf(err, errlen,
			 "%s:%u: %s (fix the line, or change the registry with intercomd "
			 "--registry)",
			 r->path, no,
			 e == -EEXIST ? "this nick is on an earlier line already"
				      : "not \"NICK sha256:... FIRST LAST\"");
	else if (e == -ENOSPC)
		snprintf(err, errlen, "%s: more than %d nicks", r->path, IC_REGISTRY_MAX);
	else if (e)
		snprintf(err, errlen, "%s: out of memory", r->path);
	else if (ferror(f))
		e = -EIO;
	if (e == -EIO)
		snprintf(err, errlen, "%s: cannot be read", r->path);
	fclose(f);
	return e == -EEXIST ? -EINVAL : e;
}

static int lock_dir(struct reg *r, enum reg_lock lock, char *err, size_t errlen)
{
	if (lock == REG_ALONE && mkdir(r->dir, 0700) && errno != EEXIST)
		goto fail;
	r->lockfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->lockfd < 0 && lock == REG_READ && errno == ENOENT)
		return 0; /* no state directory yet: nothing registered */
	if (r->lockfd < 0)
		goto fail;
	if (flock(r->lockfd, (lock == REG_ALONE ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK) {
		snprintf(
		    err, errlen,
		    lock == REG_ALONE
			? "%s is in use by a running intercomd: stop intercomd first "
			  "(sudo systemctl stop intercomd), run this again, then sudo "
			  "systemctl start intercomd; intercomd --registry list works "
			  "while it runs"
			: "%s is locked by intercomd --registry add or remove: let it "
			  "finish, then try again",
		    r->dir);
		return -EBUSY;
	}
fail:
	snprintf(err, errlen, "%s: %s", r->dir, strerror(errno));
	return -errno;
}

int reg_open(struct reg **rp, const char *dir, enum reg_lock lock, char *err,
	     size_t errlen)
{
	struct reg *r = calloc(1, sizeof(*r));
	int e = -ENOMEM;

	*rp = NULL;
	if (!r || hmap_init(&r->byname, REG_HASH_BITS)) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return -ENOMEM;
	}
	r->lockfd = -1;
	if (strlen(dir) >= sizeof(r->dir)) {
		snprintf(err, errlen, "%s: path too long", dir);
		e = -ENAMETOOLONG;
		goto out;
	}
	strcpy(r->dir, dir);
	snprintf(r->path, sizeof(r->path), "%s/%s", dir, REG_FILE);
	e = lock_dir(r, lock, err, errlen);
	if (!e)
		e = load(r, err, errlen);
out:
	if (e)
		reg_free(r);
	else
		*rp = r;
	return e;
}

void reg_free(struct reg *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->items[i]);
	free(r->items);
	hmap_deinit(&r->byname);
	if (r->lockfd >= 0)
		close(r->lockfd); /* the lock goes with it */
	free(r);
}

static int by_nick(const void *a, const void *b)
{
	const struct item *x = *(const struct item *const *)a;
	const struct item *y = *(const struct item *const *)b;

	return strcasecmp(x->e.nick, y->e.nick);
}

/* The kept entries, in nick order, as lines. */
static int write_entries(const struct reg *r, FILE *out)
{
	struct item **v = malloc((r->n ? r->n : 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	if (r->n) /* items is NULL until the first */
		memcpy(v, r->items, r->n * sizeof(*v));
	qsort(v, r->n, sizeof(*v), by_nick);
	for (size_t i = 0; i < r->n; i++) {
		char first[REG_TIME_LEN + 1], last[REG_TIME_LEN + 1];

		time_text(v[i]->e.first, first);
		time_text(v[i]->e.last, last);
		fprintf(out, "%s %s %s %s\n", v[i]->e.nick, v[i]->e.fp, first, last);
	}
	free(v);
	return ferror(out) ? -EIO : 0;
}

int reg_print(const struct reg *r, FILE *out)
{
	return write_entries(r, out);
}

static int fill(FILE *f, void *arg)
{
	fputs(header, f);
	return write_entries(arg, f);
}

int reg_save(struct reg *r, char *err, size_t errlen)
{
	uint64_t gen = r->gen;
	int e = fsave_write(r->path, 0600, FSAVE_REPLACE, fill, r);

	if (e) {
		snprintf(err, errlen, "%s: cannot be written: %s", r->path, strerror(-e));
		return e;
	}
	r->saved_gen = gen;
	return 0;
}
