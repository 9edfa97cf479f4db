/* The key table both programs read their configuration through: each kind of key with a
 * value it takes and one it refuses (the error naming the key, what is wrong and the
 * range), flags spelled from keys, and flag values through the config file's path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conftab.h"

struct t {
	char name[8];
	char opt[8];
	unsigned num;
	bool on;
	int own;
};

static bool no_digits(const char *v)
{
	return *v && !strpbrk(v, "0123456789");
}

static int set_own(void *obj, const struct conftab_key *k, const char *v, char *err,
		   size_t errlen)
{
	if (strcmp(v, "odd") && strcmp(v, "even")) {
		snprintf(err, errlen, "%s: odd or even", k->key);
		return -EINVAL;
	}
	*(int *)conftab_field(obj, k) = !strcmp(v, "odd");
	return 0;
}

static const struct conftab_key tab[] = {
    CONFTAB_TEXT("name", struct t, name, no_digits, CONFTAB_FLAG, "letters only"),
    CONFTAB_TEXT("opt_text", struct t, opt, NULL, CONFTAB_FLAG | CONFTAB_EMPTY_OK,
		 "anything"),
    CONFTAB_UINT("num", struct t, num, 3, 9, 0),
    CONFTAB_BOOL("on", struct t, on, CONFTAB_FLAG, "yes or no"),
    CONFTAB_OWN("own_key", struct t, own, set_own, CONFTAB_FLAG),
};
#define N (sizeof(tab) / sizeof(tab[0]))

static char err[256];

static int set(struct t *o, const char *k, const char *v)
{
	err[0] = '\0';
	return conftab_set(tab, N, o, k, v, err, sizeof(err));
}

static void test_kinds(void **state)
{
	struct t o = {.num = 5};

	(void)state;
	assert_int_equal(set(&o, "name", "abc"), 0);
	assert_string_equal(o.name, "abc");
	assert_int_equal(set(&o, "name", "a1"), -EINVAL);
	assert_string_equal(err, "name: letters only");
	assert_int_equal(set(&o, "name", "abcdefgh"), -EINVAL); /* 8 bytes in 8 */
	assert_string_equal(err, "name: letters only (at most 7 bytes)");
	assert_string_equal(o.name, "abc"); /* a refused value leaves the field */
	assert_int_equal(set(&o, "name", ""), -EINVAL);
	assert_int_equal(set(&o, "opt_text", ""), 0);
	assert_int_equal(set(&o, "opt_text", NULL), 0); /* NULL is "" */
	assert_int_equal(set(&o, "opt_text", "x"), 0);
	assert_string_equal(o.opt, "x");
	assert_int_equal(set(&o, "num", "9"), 0);
	assert_int_equal(o.num, 9);
	assert_int_equal(set(&o, "num", "10"), -EINVAL);
	assert_string_equal(err, "num: '10' is not a whole number from 3 to 9");
	assert_int_equal(set(&o, "num", "2"), -EINVAL);
	assert_int_equal(set(&o, "num", "-4"), -EINVAL);
	assert_int_equal(o.num, 9);
	assert_int_equal(set(&o, "on", "yes"), 0);
	assert_true(o.on);
	assert_int_equal(set(&o, "on", "maybe"), -EINVAL);
	assert_string_equal(err, "on: 'maybe' is not yes or no");
	assert_int_equal(set(&o, "own_key", "odd"), 0);
	assert_int_equal(o.own, 1);
	assert_int_equal(set(&o, "own_key", "prime"), -EINVAL);
	assert_string_equal(err, "own_key: odd or even");
	assert_int_equal(set(&o, "nope", "1"), -EINVAL);
	assert_string_equal(err, "unknown key 'nope'");
	assert_ptr_equal(conftab_find(tab, N, "num"), &tab[2]);
	assert_null(conftab_find(tab, N, "nu"));
}

static int set_cb(void *arg, const char *key, const char *val, char *e, size_t elen)
{
	return conftab_set(tab, N, arg, key, val, e, elen);
}

static int flag(struct t *o, int argc, char **argv, int *i, bool apply)
{
	err[0] = '\0';
	return conftab_flag(tab, N, argc, argv, i, apply ? set_cb : NULL, o, err,
			    sizeof(err));
}

static void test_flags(void **state)
{
	struct t o = {.num = 5};
	char *argv[] = {"prog", "--own-key", "even", "--opt-text=y", "--num",  "4",
			"--on", "--name",    "bad1", "--own-key",    "--onx=1"};
	char name[64];
	int i;

	(void)state;
	conftab_flag_name(&tab[4], name, sizeof(name));
	assert_string_equal(name, "--own-key");
	i = 1;
	assert_int_equal(flag(&o, 11, argv, &i, true), 1);
	assert_int_equal(i, 2); /* past the value */
	assert_int_equal(o.own, 0);
	i = 3;
	assert_int_equal(flag(&o, 11, argv, &i, true), 1);
	assert_string_equal(o.opt, "y");
	i = 4; /* num has no flag */
	assert_int_equal(flag(&o, 11, argv, &i, true), 0);
	assert_int_equal(i, 4);
	i = 6; /* --on takes the next word as its value */
	assert_int_equal(flag(&o, 11, argv, &i, true), -EINVAL);
	assert_string_equal(err, "--on: on: '--name' is not yes or no");
	i = 7;
	assert_int_equal(flag(&o, 11, argv, &i, true), -EINVAL);
	assert_string_equal(err, "--name: name: letters only");
	i = 7; /* without a setter the flag is only stepped over */
	assert_int_equal(flag(&o, 11, argv, &i, false), 1);
	assert_int_equal(i, 8);
	i = 9; /* the last word: its value is missing */
	assert_int_equal(flag(&o, 10, argv, &i, true), -EINVAL);
	assert_string_equal(err, "option '--own-key' needs a value");
	i = 10; /* a flag's name is matched whole */
	assert_int_equal(flag(&o, 11, argv, &i, true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
