/* registry.h: which box key owns which nick on this server (protocol 1.1, section 3;
 * docs/SECURITY.md). Kept in the state directory's "registry" file, one
 * "NICK FINGERPRINT FIRST LAST" per line (ISO 8601 UTC, "-" for never), replaced whole
 * on every write. Nicks compare without regard to case and keep the case they were
 * bound with. No sockets and no clock: times are passed in. */
#ifndef IC_REGISTRY_H
#define IC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ic_limits.h"
#include "ident.h"

#define REG_FILE "registry"

struct reg;

struct reg_entry {
	char nick[IC_NICK_MAX + 1];
	char fp[IDENT_FP_LEN + 1];
	int64_t first, last; /* Unix seconds; 0: never logged in */
	/* nonzero: bound by the login of this session, which has not sent its PONG yet;
	 * written to the file like any binding (its REGISTERED waits for that), and
	 * undone if that login never completes */
	unsigned pending;
	uint64_t
	    gen; /* the change that bound it: on disk once reg_saved_gen reaches it */
};

/* Who may hold the directory while the registry is open. */
enum reg_lock {
	REG_SHARED, /* a running server: the offline commands must wait */
	REG_ALONE,  /* intercomd --registry add, remove: no server may be running */
	REG_READ,   /* intercomd --registry list: beside a running server (shared), a
		       change under way must finish first; never saved */
};

/* Open dir's registry (a missing file is an empty one; dir must exist for REG_SHARED,
 * is made, 0700, for REG_ALONE, and may be missing for REG_READ: nothing registered)
 * and lock dir as `lock` says until reg_free. A running server replaces the file whole
 * (a rename), so a reader sees one save or the next, never half of one.
 * Returns 0; -EBUSY when the lock is held the other way ("stop intercomd first");
 * -EINVAL for a file that is not ours ("PATH:LINE: what"); -ENOSPC past
 * IC_REGISTRY_MAX lines; -errno when dir or the file cannot be read. err says which. */
int reg_open(struct reg **rp, const char *dir, enum reg_lock lock, char *err,
	     size_t errlen);
/* Releases the lock; unsaved changes are lost (reg_save first). NULL is fine. */
void reg_free(struct reg *r);

/* The entry of nick (any case), or NULL. Valid until the next change. */
const struct reg_entry *reg_find(const struct reg *r, const char *nick);

/* How many nicks fp owns, pending ones included. */
unsigned reg_count(const struct reg *r, const char *fp);

/* Bind nick to fp (a change of its own: the entry's gen). pending 0: at once
 * (intercomd --registry add), never logged in;
 * else pending on that session's login (reg_confirm, reg_abandon). A pending binding
 * of nick to the same fp is taken over by the new session (its first login was cut
 * off, and this is the box again). Returns 0; -EEXIST (nick is bound, to fp or not);
 * -EMLINK (fp owns IC_NICKS_PER_KEY nicks); -ENOSPC (IC_REGISTRY_MAX nicks); -ENOMEM. */
int reg_bind(struct reg *r, const char *nick, const char *fp, unsigned pending);

/* Session `pending` logged in: its binding of nick is kept, first and last seen now. */
void reg_confirm(struct reg *r, const char *nick, unsigned pending, int64_t now);
/* Session `pending` never logged in: its binding of nick is undone (a change: a save
 * may have written it). */
void reg_abandon(struct reg *r, const char *nick, unsigned pending);
/* nick's box was seen now (logged in, or left): its last seen time. */
void reg_seen(struct reg *r, const char *nick, int64_t now);

/* Remove nick's binding. Returns 0 or -ENOENT. */
int reg_remove(struct reg *r, const char *nick);

/* Remove every binding of fp, pending ones included, calling removed(arg, entry) for
 * each before it goes (NULL: none). Returns how many were removed (0: fp holds none). */
unsigned reg_remove_key(struct reg *r, const char *fp,
			void (*removed)(void *arg, const struct reg_entry *e), void *arg);

/* True when there are changes reg_save has not written. */
bool reg_dirty(const struct reg *r);
/* The count of changes so far; reg_saved(r, gen): the file now holds those up to gen
 * (a save made elsewhere, such as in a child process, from a copy taken at gen). */
uint64_t reg_gen(const struct reg *r);
void reg_saved(struct reg *r, uint64_t gen);
/* The changes the file holds (what reg_saved or reg_save last set). */
uint64_t reg_saved_gen(const struct reg *r);
/* The change that made the latest binding (0: none yet): a binding's login waits for a
 * save reaching it, so a save is wanted at once while this is past the last tried. */
uint64_t reg_bind_gen(const struct reg *r);

/* The state directory it lives in. */
const char *reg_dir(const struct reg *r);

/* Write every binding (pending ones too), sorted by nick, through fsave_write (synced,
 * renamed into place, the directory synced; as root, owned like the directory: the
 * service's own user must still read it). Returns 0, or the real -errno (-ENOSPC for
 * a full disk) with "PATH: what" in err; the file is then as it was. */
int reg_save(struct reg *r, char *err, size_t errlen);

/* The bindings, sorted by nick, as the file has them. Returns 0 or -EIO. */
int reg_print(const struct reg *r, FILE *out);

#endif
