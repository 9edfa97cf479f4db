#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../support/keycase.h"

#include "conf.h"
#include "listen.h"

static char path[64], err[512];

static void write_file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test-conf-%d.conf", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_defaults(void **state)
{
	struct srv_conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(c.port, 6060);
	assert_int_equal(c.udp_port, LISTEN_UDP_SAME); /* the TCP port's number */
	assert_string_equal(c.bind, "");	       /* every address, both families */
	assert_int_equal(c.max_pending_per_source, 32);
	assert_int_equal(c.max_clients, 256);
	assert_int_equal(c.ping_interval, 15);
	assert_int_equal(c.ping_timeout, 45);
	assert_int_equal(c.ring_timeout, 30);
	assert_true(strlen(c.name) > 0);
}

static void test_set(void **state)
{
	struct srv_conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "port", "1", err, sizeof(err)), 0);
	assert_int_equal(conf_set(&c, "port", "65535", err, sizeof(err)), 0);
	assert_int_equal(c.port, 65535);
	assert_int_equal(conf_set(&c, "port", "0", err, sizeof(err)),
			 0); /* any free one */
	assert_int_equal(c.port, 0);
	assert_int_equal(conf_set(&c, "max_pending_per_source", "0", err, sizeof(err)),
			 0);
	assert_int_equal(c.max_pending_per_source, 0);
	assert_int_equal(conf_set(&c, "max_pending_per_source", "1017", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(conf_set(&c, "max_pending_per_source", "-1", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(conf_set(&c, "port", "65536", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(&c, "port", "12x", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(&c, "port", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(&c, "port", "+5", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(&c, "max_clients", "1000", err, sizeof(err)), 0);
	assert_int_equal(conf_set(&c, "max_clients", "1001", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "from 1 to 1000"));
	assert_int_equal(conf_set(&c, "ring_timeout", "86400", err, sizeof(err)), 0);
	assert_int_equal(conf_set(&c, "ring_timeout", "86401", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(conf_set(&c, "bind", "::1", err, sizeof(err)), 0);
	assert_string_equal(c.bind, "::1");
	assert_int_equal(conf_set(&c, "bind", "localhost", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(&c, "name", "Front door", err, sizeof(err)), 0);
	assert_string_equal(c.name, "Front door");
	assert_int_equal(conf_set(&c, "name", "", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(&c, "name", "bad\x01", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(&c, "verbose", "yes", err, sizeof(err)), 0);
	assert_true(c.std.verbose);
	assert_int_equal(conf_set(&c, "verbose", "maybe", err, sizeof(err)), -EINVAL);
	assert_int_equal(conf_set(&c, "nope", "1", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown key 'nope'");
	/* trusted: addresses and prefixes, checked when set, the bad word named */
	assert_string_equal(c.trusted, "");
	assert_int_equal(
	    conf_set(&c, "trusted", "10.0.0.5, 2001:db8::/48", err, sizeof(err)), 0);
	assert_string_equal(c.trusted, "10.0.0.5, 2001:db8::/48");
	assert_int_equal(conf_set(&c, "trusted", "10.0.0.0/40", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "trusted: '10.0.0.0/40' is not an IPv4 or IPv6"));
	assert_string_equal(c.trusted, "10.0.0.5, 2001:db8::/48"); /* kept */
}

static void test_file(void **state)
{
	struct srv_conf c;

	(void)state;
	conf_defaults(&c);
	write_file(
	    "# intercomd\n\n  port = 7000  \r\nname=Gate House\n\tring_timeout\t=\t5\n");
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.port, 7000);
	assert_string_equal(c.name, "Gate House");
	assert_int_equal(c.ring_timeout, 5);
	write_file("port = 7000\nport 7001\n");
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: expected 'key = value'"));
	write_file("max_clients = lots\n");
	assert_int_equal(conf_load(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: max_clients: 'lots' is not a whole number"));
	{
		char big[700];

		memset(big, 'a', sizeof(big) - 2);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		write_file(big);
		assert_int_equal(conf_load(&c, path, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, ":1: line too long"));
	}
	unlink(path);
	assert_true(conf_load(&c, "/nonexistent/intercomd.conf", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot open"));
}

static void test_args_flags_win(void **state)
{
	struct srv_conf c;
	char *argv[] = {"intercomd", "--port=7100", "--config", path,
			"--name",    "Flag",	    NULL};
	char *bad[] = {"intercomd", "--ping-interval", NULL};
	char *unk[] = {"intercomd", "--prot", "1", NULL};

	(void)state;
	write_file("port = 7000\nname = File\nmax_clients = 9\n");
	conf_defaults(&c);
	assert_int_equal(conf_from_args(&c, 6, argv, err, sizeof(err)), 0);
	assert_int_equal(c.port, 7100);
	assert_string_equal(c.name, "Flag");
	assert_int_equal(c.max_clients, 9);
	conf_defaults(&c);
	assert_int_equal(conf_from_args(&c, 2, bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	conf_defaults(&c);
	assert_int_equal(conf_from_args(&c, 3, unk, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown option '--prot'");
	unlink(path);
}

/* argv (NULL-terminated) through conf_from_args from the defaults. */
static int from_args(struct srv_conf *c, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	conf_defaults(c);
	return conf_from_args(c, argc, argv, err, sizeof(err));
}

/* registration = open|closed, and the --registry words (a command of its own, kept for
 * main): up to the next flag, remove's --key apart. */
static void test_registration(void **state)
{
	struct srv_conf c;
	char *list[] = {"intercomd", "--registry", "list", "--state-dir", "/tmp/x", NULL};
	char *add[] = {"intercomd", "--registry", "add", "Gate", "sha256:00", NULL};
	char *rm3[] = {"intercomd", "--registry",  "remove", "A", "B",
		       "C",	    "--state-dir", "/tmp/y", NULL};
	char *rmkey[] = {"intercomd", "--registry", "remove", "--key", "sha256:00", NULL};
	char *bad[][7] = {
	    /* each NULL-terminated */
	    {"intercomd", "--registry", "remove", NULL},
	    {"intercomd", "--registry", "remove", "--key", NULL},
	    {"intercomd", "--registry", "remove", "--key", "a", "b"},
	    {"intercomd", "--registry", "drop", "Gate", NULL},
	    {"intercomd", "--registry", "list", "Gate", NULL},
	    {"intercomd", "--registry", "add", "Gate", NULL},
	    {"intercomd", "--registry", "add", "--key", "Gate", "fp"},
	    {"intercomd", "--registry", NULL},
	};
	char *flag[] = {"intercomd", "--registration", "closed", NULL};

	(void)state;
	conf_defaults(&c);
	assert_false(c.registration_closed); /* open by default */
	assert_null(c.registry);
	assert_int_equal(conf_set(&c, "registration", "closed", err, sizeof(err)), 0);
	assert_true(c.registration_closed);
	assert_int_equal(conf_set(&c, "registration", "open", err, sizeof(err)), 0);
	assert_false(c.registration_closed);
	assert_int_equal(conf_set(&c, "registration", "off", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "registration: 'off' is not open or closed");
	assert_int_equal(from_args(&c, flag), 0);
	assert_true(c.registration_closed);
	assert_int_equal(from_args(&c, list), 0);
	assert_int_equal(c.registry_n, 1);
	assert_string_equal(c.registry[0], "list");
	assert_string_equal(c.state_dir, "/tmp/x"); /* flags after it still apply */
	assert_int_equal(from_args(&c, add), 0);
	assert_int_equal(c.registry_n, 3);
	assert_string_equal(c.registry[1], "Gate");
	assert_string_equal(c.registry[2], "sha256:00"); /* checked by main */
	assert_int_equal(from_args(&c, rm3), 0);
	assert_int_equal(c.registry_n, 4);
	assert_string_equal(c.registry[3], "C");
	assert_string_equal(c.state_dir, "/tmp/y");
	assert_int_equal(from_args(&c, rmkey), 0);
	assert_int_equal(c.registry_n, 3);
	assert_string_equal(c.registry[1], "--key");
	assert_string_equal(c.registry[2], "sha256:00");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (from_args(&c, bad[i]) != -EINVAL)
			fail_msg("--registry %s %s was taken", bad[i][2],
				 bad[i][3] ? bad[i][3] : "");
		assert_string_equal(err,
				    "--registry: expected list, add NICK FINGERPRINT, "
				    "remove NICK... or remove --key FINGERPRINT");
	}
}

/* Every key of the table (a key added without a line here fails), each with a value it
 * accepts and one it refuses with the key named, what is wrong and the range. */
static const struct keycase every[] = {
    {"port", "7000", "65536", "port: '65536' is not a whole number from 0 to 65535"},
    {"udp_port", "7001", "x", "udp_port: 'x' is not a whole number from 0 to 65535"},
    {"bind", "127.0.0.1", "localhost", "bind: 'localhost' is not an IPv4 or IPv6"},
    {"name", "Gate", "", "name: 1-64 bytes of text without control bytes"},
    {"max_clients", "9", "0", "max_clients: '0' is not a whole number from 1 to 1000"},
    {"ping_interval", "5", "86401",
     "ping_interval: '86401' is not a whole number "
     "from 1 to 86400"},
    {"ping_timeout", "20", "0", "ping_timeout: '0' is not a whole number from 1"},
    {"ring_timeout", "10", "-1", "ring_timeout: '-1' is not a whole number from 1"},
    {"max_pending_per_source", "4", "1017",
     "max_pending_per_source: '1017' is not a whole number from 0 to 1016"},
    {"state_dir", "/tmp/s", "", "state_dir: a path of 1-255 bytes"},
    {"tls_key", "/tmp/k.pem", "", "tls_key: a path of 1-255 bytes"},
    {"tls", "off", "maybe", "tls: 'maybe' is not on/off/yes/no/true/false/1/0"},
    {"server_password", "s3cret", "a\"b",
     "server_password: 1-64 bytes of text without '\"' or control characters"},
    {"guests", "yes", "2", "guests: '2' is not on/off"},
    {"registration", "closed", "off", "registration: 'off' is not open or closed"},
    {"trusted", "10.0.0.0/24, 2001:db8::/48", "kitchen",
     "trusted: 'kitchen' is not an IPv4 or IPv6 address or prefix"},
    {"verbose", "yes", "maybe", "verbose: 'maybe' is not on/off"},
};
#define NEVERY (sizeof(every) / sizeof(every[0]))

static int set_cb(void *obj, const char *key, const char *val, char *e, size_t elen)
{
	return conf_set(obj, key, val, e, elen);
}

static void test_every_key(void **state)
{
	size_t n;
	const struct conftab_key *tab = conf_keys(&n);
	struct srv_conf c;

	(void)state;
	conf_defaults(&c);
	keycase_walk(tab, n, every, NEVERY, set_cb, &c, NULL);
	/* a refused password is not echoed: it may be a typo of the real one */
	assert_int_equal(conf_set(&c, "server_password",
				  "ab\x01"
				  "cd",
				  err, sizeof(err)),
			 -EINVAL);
	assert_null(strstr(err, "ab"));
	/* each good value landed in its own field, the refused ones changed nothing */
	assert_int_equal(c.port, 7000);
	assert_int_equal(c.udp_port, 7001);
	assert_string_equal(c.bind, "127.0.0.1");
	assert_string_equal(c.name, "Gate");
	assert_int_equal(c.max_clients, 9);
	assert_int_equal(c.ping_interval, 5);
	assert_int_equal(c.ping_timeout, 20);
	assert_int_equal(c.ring_timeout, 10);
	assert_int_equal(c.max_pending_per_source, 4);
	assert_string_equal(c.state_dir, "/tmp/s");
	assert_string_equal(c.tls_key, "/tmp/k.pem");
	assert_false(c.tls);
	assert_string_equal(c.password, "s3cret");
	assert_true(c.guests);
	assert_true(c.registration_closed);
	assert_true(c.std.verbose);
}

/* Each key but verbose is a flag too, --key with '-' for '_', through the same checks,
 * the error naming the flag. */
static void test_every_flag(void **state)
{
	size_t n;
	const struct conftab_key *tab = conf_keys(&n);
	int flags = 0;

	(void)state;
	write_file("");
	for (size_t t = 0; t < n; t++) {
		char flag[64];
		char *argv[] = {"intercomd", "--config", path, flag, NULL, NULL};
		struct srv_conf c;
		const struct keycase *k;

		if (!(tab[t].flags & CONFTAB_FLAG))
			continue;
		k = keycase_of(every, NEVERY, tab[t].key);
		conftab_flag_name(&tab[t], flag, sizeof(flag));
		argv[4] = (char *)k->good;
		conf_defaults(&c);
		assert_int_equal(conf_from_args(&c, 5, argv, err, sizeof(err)), 0);
		argv[4] = (char *)k->bad;
		conf_defaults(&c);
		assert_int_equal(conf_from_args(&c, 5, argv, err, sizeof(err)), -EINVAL);
		if (strncmp(err, flag, strlen(flag)) || !strstr(err, k->why))
			fail_msg("%s '%s': '%s' does not say '%s: %s'", flag, k->bad, err,
				 flag, k->why);
		flags++;
	}
	assert_int_equal(flags, (int)n - 1); /* all but verbose */
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	 cmocka_unit_test(test_set),
	    cmocka_unit_test(test_file),	 cmocka_unit_test(test_args_flags_win),
	    cmocka_unit_test(test_registration), cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_every_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
