/* conftab.h: a table of typed configuration keys, shared by intercomd and intercom. Each
 * key is text (with its check), a whole number in a range, yes/no, or a setter of its
 * own; the same entry serves the config file's `key = value` and, when the key has one,
 * its flag (--key with '_' spelled '-'). Errors name the key, what is wrong and the
 * range; kv_load adds the file and line. */
#ifndef IC_CONFTAB_H
#define IC_CONFTAB_H

#include <stdbool.h>
#include <stddef.h>

#include "kv.h"

enum conftab_kind { CONFTAB_K_TEXT, CONFTAB_K_UINT, CONFTAB_K_BOOL, CONFTAB_K_OWN };

/* entry flags */
#define CONFTAB_FLAG	 1u /* also a flag: --key, with '_' spelled '-' */
#define CONFTAB_EMPTY_OK 2u /* text: "" is accepted (unset) whatever valid says */

struct conftab_key;

/* A setter of its own: store val into obj (k->off says where, if it wants). Returns 0,
 * or -EINVAL with "key: what is wrong" in err. */
typedef int(conftab_set_h)(void *obj, const struct conftab_key *k, const char *val,
			   char *err, size_t errlen);

struct conftab_key {
	const char *key;
	enum conftab_kind kind;
	unsigned flags;	  /* CONFTAB_FLAG, CONFTAB_EMPTY_OK */
	size_t off, size; /* the field in obj; size: text only (with its NUL) */
	bool (*valid)(const char *v); /* text: NULL = any non-empty text that fits */
	unsigned lo, hi;	      /* whole number: the range accepted */
	const char *what;	      /* text, yes/no: what is accepted, for the error */
	conftab_set_h *set;	      /* own setter */
	int tag;		      /* the caller's, unused by the table */
};

/* Entries, for a table of struct T (field f of T): */
#define CONFTAB_TEXT(k, T, f, ok, fl, msg)                                               \
	{                                                                                \
		.key = (k), .kind = CONFTAB_K_TEXT, .flags = (fl),                       \
		.off = offsetof(T, f), .size = sizeof(((T *)0)->f), .valid = (ok),       \
		.what = (msg)                                                            \
	}
#define CONFTAB_UINT(k, T, f, l, h, fl)                                                  \
	{                                                                                \
		.key = (k), .kind = CONFTAB_K_UINT, .flags = (fl),                       \
		.off = offsetof(T, f), .lo = (l), .hi = (h)                              \
	}
#define CONFTAB_BOOL(k, T, f, fl, msg)                                                   \
	{                                                                                \
		.key = (k), .kind = CONFTAB_K_BOOL, .flags = (fl),                       \
		.off = offsetof(T, f), .what = (msg)                                     \
	}
#define CONFTAB_OWN(k, T, f, fn, fl)                                                     \
	{                                                                                \
		.key = (k), .kind = CONFTAB_K_OWN, .flags = (fl), .off = offsetof(T, f), \
		.set = (fn)                                                              \
	}

/* The entry for key in tab[0..n), or NULL. */
const struct conftab_key *conftab_find(const struct conftab_key *tab, size_t n,
				       const char *key);

/* Set key to val in obj (a NULL val is ""). Returns 0, or -EINVAL with a message in err:
 * "unknown key 'K'", or "K: what is wrong" with the range or what is accepted (a text
 * value is never echoed: it may be a password). */
int conftab_set(const struct conftab_key *tab, size_t n, void *obj, const char *key,
		const char *val, char *err, size_t errlen);

/* k's flag ("--" and the key with '_' spelled '-') into buf. */
void conftab_flag_name(const struct conftab_key *k, char *buf, size_t len);

/* argv[*i] as the flag of one of tab's CONFTAB_FLAG entries ("--flag value" moves *i
 * past the value; "--flag=value"). With set (else the flag is only skipped), its value
 * goes through set(arg, key, value), the same path as a config file's line. Returns 1
 * when it was such a flag, 0 when it is another argument, -EINVAL with a message in err
 * when its value is missing or refused ("--flag: what is wrong"). */
int conftab_flag(const struct conftab_key *tab, size_t n, int argc, char **argv, int *i,
		 kv_set_h *set, void *arg, char *err, size_t errlen);

/* The field k names in obj. */
static inline void *conftab_field(void *obj, const struct conftab_key *k)
{
	return (char *)obj + k->off;
}

#endif
