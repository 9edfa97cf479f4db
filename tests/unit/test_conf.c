#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

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

/* registration = open|closed, and the --registry words (an offline command, kept for
 * main). */
static void test_registration(void **state)
{
	struct srv_conf c;
	char *list[] = {"intercomd", "--registry", "list", "--state-dir", "/tmp/x", NULL};
	char *add[] = {"intercomd", "--registry", "add", "Gate", "sha256:00", NULL};
	char *rm_short[] = {"intercomd", "--registry", "remove", NULL};
	char *odd[] = {"intercomd", "--registry", "drop", "Gate", NULL};
	char *flag[] = {"intercomd", "--registration", "closed", NULL};

	(void)state;
	conf_defaults(&c);
	assert_false(c.registration_closed); /* open by default */
	assert_null(c.registry[0]);
	assert_int_equal(conf_set(&c, "registration", "closed", err, sizeof(err)), 0);
	assert_true(c.registration_closed);
	assert_int_equal(conf_set(&c, "registration", "open", err, sizeof(err)), 0);
	assert_false(c.registration_closed);
	assert_int_equal(conf_set(&c, "registration", "off", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "registration: 'off' is not open or closed");
	assert_int_equal(conf_from_args(&c, 3, flag, err, sizeof(err)), 0);
	assert_true(c.registration_closed);
	conf_defaults(&c);
	assert_int_equal(conf_from_args(&c, 5, list, err, sizeof(err)), 0);
	assert_string_equal(c.registry[0], "list");
	assert_null(c.registry[1]);
	assert_string_equal(c.state_dir, "/tmp/x"); /* flags after it still apply */
	conf_defaults(&c);
	assert_int_equal(conf_from_args(&c, 5, add, err, sizeof(err)), 0);
	assert_string_equal(c.registry[0], "add");
	assert_string_equal(c.registry[1], "Gate");
	assert_string_equal(c.registry[2], "sha256:00"); /* checked by main */
	conf_defaults(&c);
	assert_int_equal(conf_from_args(&c, 3, rm_short, err, sizeof(err)), -EINVAL);
	assert_non_null(
	    strstr(err, "expected list, add NICK FINGERPRINT or remove NICK"));
	conf_defaults(&c);
	assert_int_equal(conf_from_args(&c, 4, odd, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	 cmocka_unit_test(test_set),
	    cmocka_unit_test(test_file),	 cmocka_unit_test(test_args_flags_win),
	    cmocka_unit_test(test_registration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
