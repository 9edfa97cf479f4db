/* keycase.h: walking a program's key table in a unit test (test_cfg, test_conf): every
 * key has a case here and every case a key, each good value is taken and each bad one
 * refused, the error saying why. Include after cmocka.h. */
#ifndef IC_KEYCASE_H
#define IC_KEYCASE_H

#include <errno.h>
#include <string.h>

#include "conftab.h"

struct keycase {
	const char *key, *good, *bad, *why; /* why: what the bad value's error says */
};

/* The case for key, failing the test when there is none. */
static inline const struct keycase *keycase_of(const struct keycase *kc, size_t nkc,
					       const char *key)
{
	for (size_t i = 0; i < nkc; i++) {
		if (!strcmp(kc[i].key, key))
			return &kc[i];
	}
	fail_msg("key '%s' has no good and bad value in this test", key);
	return NULL;
}

/* Every key of tab has a case (a key added without one fails), and no case is left for
 * a key that is gone; then each through set into obj: good taken, bad refused saying
 * why. A bad value of long is replaced by a text longer than any field. */
static inline void keycase_walk(const struct conftab_key *tab, size_t n,
				const struct keycase *kc, size_t nkc, kv_set_h *set,
				void *obj, const char *long_marker)
{
	char err[512], longv[300];

	for (size_t t = 0; t < n; t++)
		keycase_of(kc, nkc, tab[t].key);
	assert_int_equal(n, nkc);
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	for (size_t i = 0; i < nkc; i++) {
		const char *bad =
		    long_marker && !strcmp(kc[i].bad, long_marker) ? longv : kc[i].bad;

		if (set(obj, kc[i].key, kc[i].good, err, sizeof(err)))
			fail_msg("%s = '%s' refused: %s", kc[i].key, kc[i].good, err);
		assert_int_equal(set(obj, kc[i].key, bad, err, sizeof(err)), -EINVAL);
		if (!strstr(err, kc[i].why))
			fail_msg("%s = '%s': '%s' does not say '%s'", kc[i].key, bad, err,
				 kc[i].why);
	}
}

#endif
