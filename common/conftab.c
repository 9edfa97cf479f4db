#include "conftab.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kv.h"

const struct conftab_key *conftab_find(const struct conftab_key *tab, size_t n,
				       const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(tab[i].key, key))
			return &tab[i];
	}
	return NULL;
}

static int set_text(void *obj, const struct conftab_key *k, const char *v, char *err,
		    size_t errlen)
{
	size_t len = strlen(v);

	if (!(len == 0 && (k->flags & CONFTAB_EMPTY_OK)) &&
	    (k->valid ? !k->valid(v) : !len)) {
		snprintf(err, errlen, "%s: %s", k->key, k->what);
		return -EINVAL;
	}
	if (len >= k->size) {
		snprintf(err, errlen, "%s: %s (at most %zu bytes)", k->key, k->what,
			 k->size - 1);
		return -EINVAL;
	}
	memcpy(conftab_field(obj, k), v, len + 1);
	return 0;
}

int conftab_set(const struct conftab_key *tab, size_t n, void *obj, const char *key,
		const char *v, char *err, size_t errlen)
{
	const struct conftab_key *k = conftab_find(tab, n, key);

	if (!v)
		v = "";
	if (!k) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -EINVAL;
	}
	switch (k->kind) {
	case CONFTAB_K_TEXT:
		return set_text(obj, k, v, err, errlen);
	case CONFTAB_K_UINT:
		if (!kv_uint(v, k->lo, k->hi, conftab_field(obj, k)))
			return 0;
		snprintf(err, errlen, "%s: '%s' is not a whole number from %u to %u",
			 k->key, v, k->lo, k->hi);
		return -EINVAL;
	case CONFTAB_K_BOOL:
		if (!kv_bool(v, conftab_field(obj, k)))
			return 0;
		snprintf(err, errlen, "%s: '%s' is not %s", k->key, v, k->what);
		return -EINVAL;
	case CONFTAB_K_OWN:
		return k->set(obj, k, v, err, errlen);
	}
	snprintf(err, errlen, "%s: no such kind of key", key);
	return -EINVAL;
}

void conftab_flag_name(const struct conftab_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "--%s", k->key);
	for (char *p = buf; *p; p++) {
		if (*p == '_')
			*p = '-';
	}
}

int conftab_flag(const struct conftab_key *tab, size_t n, int argc, char **argv, int *i,
		 kv_set_h *set, void *arg, char *err, size_t errlen)
{
	for (size_t t = 0; t < n; t++) {
		const char *val = NULL;
		char flag[64], msg[300];
		int r;

		if (!(tab[t].flags & CONFTAB_FLAG))
			continue;
		conftab_flag_name(&tab[t], flag, sizeof(flag));
		r = cli_flag(argc, argv, i, flag, &val);
		if (r == 0)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "option '%s' needs a value", argv[*i]);
			return -EINVAL;
		}
		if (set && set(arg, tab[t].key, val, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s: %s", flag, msg);
			return -EINVAL;
		}
		return 1;
	}
	return 0;
}
