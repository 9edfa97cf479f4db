/* kv.h: `key = value` configuration files and value parsing, shared by intercomd and
 * intercom. A line starting with '#' is a comment; blank lines are skipped; spaces
 * around keys and values are trimmed. */
#ifndef IC_KV_H
#define IC_KV_H

#include <stdbool.h>
#include <stddef.h>

/* Called for each `key = value`; returns 0, or -EINVAL with a message in err. */
typedef int(kv_set_h)(void *arg, const char *key, const char *val, char *err,
		      size_t errlen);

/* Read path line by line into set. Returns 0, or -EINVAL / -errno with "PATH:LINE: what"
 * (or "PATH: cannot open: why") in err. With missing_ok, an absent file is no error. */
int kv_load(const char *path, bool missing_ok, kv_set_h *set, void *arg, char *err,
	    size_t errlen);

/* A whole decimal number in [lo, hi] (no sign). Returns 0 or -EINVAL. */
int kv_uint(const char *v, unsigned lo, unsigned hi, unsigned *out);

/* yes/no, true/false, on/off, 1/0. Returns 0 or -EINVAL. */
int kv_bool(const char *v, bool *out);

#endif
