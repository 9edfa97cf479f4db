/* The man pages stay true to the programs: every flag --help lists, and every key of
 * the configuration table, is in intercomd(8) and intercom(1); every flag of the table
 * is in --help. A key or flag added without its documentation fails here.
 *   test_manpages DOCS_MAN_DIR */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg.h"
#include "conf.h"
#ifdef IC_TEST_WEB
#include "wconf.h"
#endif

static const char *man_dir;

static char *slurp(const char *name)
{
	char path[512];
	FILE *f;
	char *buf = calloc(1, 1 << 17);
	size_t n;

	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/%s", man_dir, name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("%s: cannot open", path);
	n = fread(buf, 1, (1 << 17) - 1, f);
	assert_true(n > 0 && n < (1 << 17) - 1);
	fclose(f);
	return buf;
}

/* flag as troff writes it (\-\-state\-dir), standing whole: not the start of a longer
 * one (\-\-tls in \-\-tls\-key). */
static bool has_flag(const char *text, const char *flag, bool troff)
{
	char t[128];
	size_t n = 0;

	for (const char *f = flag; *f && n + 3 < sizeof(t); f++) {
		if (*f == '-' && troff)
			t[n++] = '\\';
		t[n++] = *f;
	}
	t[n] = '\0';
	for (const char *p = text; (p = strstr(p, t)) != NULL; p++) {
		const char *q = p + n;

		if (!islower((unsigned char)*q) && *q != '-' &&
		    !(q[0] == '\\' && q[1] == '-'))
			return true;
	}
	return false;
}

/* A key's own entry: a line ".B key". */
static bool has_key(const char *man, const char *key)
{
	char line[80];

	snprintf(line, sizeof(line), "\n.B %s\n", key);
	return strstr(man, line) != NULL;
}

/* Every --flag of usage in man; every key of tab in man, its flag in usage and man.
 * min: how many flags usage has at least (a usage text that lost its flags fails). */
static void check(const char *page, const char *usage, const struct conftab_key *tab,
		  size_t n, int min)
{
	char *man = slurp(page);
	int flags = 0;

	for (const char *p = usage; (p = strstr(p, "--")) != NULL;) {
		char flag[64];
		size_t len = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");

		snprintf(flag, sizeof(flag), "%.*s", (int)len, p);
		if (!has_flag(man, flag, true))
			fail_msg("%s: %s (in --help) is not in the man page", page, flag);
		flags++;
		p += len;
	}
	assert_true(flags >= min);
	for (size_t i = 0; i < n; i++) {
		char flag[64];

		if (!has_key(man, tab[i].key))
			fail_msg("%s: key %s has no entry (a line '.B %s')", page,
				 tab[i].key, tab[i].key);
		if (!(tab[i].flags & CONFTAB_FLAG))
			continue;
		conftab_flag_name(&tab[i], flag, sizeof(flag));
		if (!has_flag(usage, flag, false))
			fail_msg("%s is not in --help", flag);
	}
	free(man);
}

static void test_intercomd(void **state)
{
	size_t n;
	const struct conftab_key *tab = conf_keys(&n);

	(void)state;
	check("intercomd.8", conf_usage(), tab, n, 20);
}

static void test_intercom(void **state)
{
	size_t n;
	const struct conftab_key *tab = cfg_keys(&n);

	(void)state;
	check("intercom.1", cfg_usage(), tab, n, 20);
}

#ifdef IC_TEST_WEB
static void test_intercom_web(void **state)
{
	size_t n;
	const struct conftab_key *tab = wconf_keys(&n);

	(void)state;
	check("intercom-web.8", wconf_usage(), tab, n, 15);
}
#endif

/* The check itself: a flag that stands whole, not one that starts a longer one. */
static void test_flag_match(void **state)
{
	(void)state;
	assert_true(has_flag(".BI \\-\\-tls\\-key \" FILE\"", "--tls-key", true));
	assert_false(has_flag(".BI \\-\\-tls\\-key \" FILE\"", "--tls", true));
	assert_true(has_flag(".BR \\-\\-tls \" on|off\"", "--tls", true));
	assert_false(has_flag("  --call-target NICK", "--call", false));
	assert_true(has_flag("  --call NICK", "--call", false));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flag_match),
	    cmocka_unit_test(test_intercomd),
	    cmocka_unit_test(test_intercom),
#ifdef IC_TEST_WEB
	    cmocka_unit_test(test_intercom_web),
#endif
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_manpages DOCS_MAN_DIR\n");
		return 2;
	}
	man_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
