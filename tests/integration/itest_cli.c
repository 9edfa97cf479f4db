/* intercomd's command line and config file: help, version, bad flags and files (exit 2
 * naming the problem), flags winning over the file, clean shutdown on SIGTERM; the
 * identities of intercomd and intercom (--fingerprint, made on first start). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static char out[8192];

static const char *write_conf(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/intercomd-test-%d.conf", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_help_version(void **state)
{
	(void)state;
	assert_int_equal(srv_run(out, sizeof(out), "--help", NULL), 0);
	assert_non_null(strstr(out, "--max-clients"));
	assert_non_null(strstr(out, "--ring-timeout"));
	assert_int_equal(srv_run(out, sizeof(out), "--version", NULL), 0);
	assert_non_null(strstr(out, "intercomd "));
}

static void test_bad_flags(void **state)
{
	(void)state;
	assert_int_equal(srv_run(out, sizeof(out), "--frobnicate", NULL), 2);
	assert_non_null(strstr(out, "unknown option '--frobnicate'"));
	assert_int_equal(srv_run(out, sizeof(out), "--port", "70000", NULL), 2);
	assert_non_null(
	    strstr(out, "--port: port: '70000' is not a whole number from 0 to 65535"));
	assert_int_equal(srv_run(out, sizeof(out), "--max-clients", "1001", NULL), 2);
	assert_non_null(strstr(out, "max_clients"));
	assert_int_equal(srv_run(out, sizeof(out), "--max-clients=0", NULL), 2);
	assert_int_equal(srv_run(out, sizeof(out), "--ping-timeout", "-5", NULL), 2);
	assert_int_equal(srv_run(out, sizeof(out), "--bind", "not-an-address", NULL), 2);
	assert_non_null(strstr(out, "bind"));
	assert_int_equal(srv_run(out, sizeof(out), "--port", NULL), 2);
	assert_non_null(strstr(out, "needs a value"));
	assert_int_equal(
	    srv_run(out, sizeof(out), "--config", "/nonexistent/x.conf", NULL), 2);
	assert_non_null(strstr(out, "/nonexistent/x.conf: cannot open"));
}

static void test_config_file(void **state)
{
	const char *path;
	struct srv srv;
	struct cli c;

	(void)state;
	path = write_conf("# comment\n\nport = 6061\nmax_clients = 10\nbogus = 1\n");
	assert_int_equal(srv_run(out, sizeof(out), "--config", path, NULL), 2);
	assert_non_null(strstr(out, ":5: unknown key 'bogus'"));
	path = write_conf("ring_timeout 30\n");
	assert_int_equal(
	    srv_run(out, sizeof(out), "--config", path, "--check-config", NULL), 2);
	assert_non_null(strstr(out, ":1: expected 'key = value'"));
	path = write_conf("ping_interval = soon\n");
	assert_int_equal(
	    srv_run(out, sizeof(out), "--config", path, "--check-config", NULL), 2);
	assert_non_null(strstr(out, ":1: ping_interval: 'soon'"));
	path = write_conf("name = FromFile\n  max_clients = 1   \nverbose = no\n");
	assert_int_equal(
	    srv_run(out, sizeof(out), "--config", path, "--check-config", NULL), 0);
	{ /* it names what it checked, and says so when no file was read */
		char want[300];

		snprintf(want, sizeof(want), "intercomd: %s: configuration OK", path);
		assert_non_null(strstr(out, want));
		assert_int_equal(srv_run(out, sizeof(out), "--check-config", NULL), 0);
		if (access("/etc/intercom/intercomd.conf", F_OK) == 0)
			assert_non_null(strstr(
			    out, "/etc/intercom/intercomd.conf: configuration OK"));
		else
			assert_non_null(strstr(out, "no configuration file read"));
	}

	/* the file applies (max_clients = 1); flags win over it (--name) */
	srv_start(&srv, "--config", path, "--name", "FromFlag", NULL);
	cli_connect(&c, &srv);
	cli_send(&c, "CONNECT: \"A\" \"\" 1.1.0");
	cli_expect(&c, "ACCEPT: FromFlag");
	cli_close(&c);
	srv_stop(&srv);
	srv_start(&srv, "--config", path, NULL);
	cli_login(&c, &srv, "A");
	{
		struct cli d;

		cli_connect(&d, &srv);
		cli_send(&d, "CONNECT: \"B\" \"\" 1.1.0");
		cli_expect_prefix(&d, "ERROR SERVER_FULL: ");
		cli_close(&d);
	}
	cli_close(&c);
	srv_stop(&srv); /* SIGTERM: exit status 0, asserted */
	unlink(path);
}

static void test_port_in_use(void **state)
{
	struct srv srv;
	char port[16];

	(void)state;
	srv_start(&srv, NULL);
	snprintf(port, sizeof(port), "%u", srv.port);
	assert_int_equal(
	    srv_run(out, sizeof(out), "--bind", "127.0.0.1", "--port", port, NULL), 1);
	assert_non_null(strstr(out, "choose another --port"));
	srv_stop(&srv);
}

/* A second server on the first one's UDP port (another TCP port) must fail, not start
 * beside it and take its voice: on the same address, and on every address (IPv4 and
 * IPv6, the default), which covers the first one's. */
static void test_udp_port_in_use(void **state)
{
	struct srv srv;
	char udp[16];

	(void)state;
	srv_start(&srv, NULL);
	snprintf(udp, sizeof(udp), "%u", srv.udp_port);
	assert_int_equal(srv_run(out, sizeof(out), "--bind", "127.0.0.1", "--port", "0",
				 "--udp-port", udp, NULL),
			 1);
	assert_non_null(strstr(out, "(UDP voice)"));
	assert_non_null(strstr(out, udp));
	assert_non_null(strstr(out, "--udp-port"));
	assert_int_equal(
	    srv_run(out, sizeof(out), "--port", "0", "--udp-port", udp, NULL), 1);
	assert_non_null(strstr(out, "(UDP voice)"));
	srv_stop(&srv);
}

/* The next datagram on fd within WAIT_MS, as a string. */
static const char *notify_recv(int fd)
{
	static char buf[256];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	return buf;
}

/* Under systemd (Type=notify) the server says READY=1 once it is listening, and
 * STOPPING=1 on the way out. */
static void test_tells_the_service_manager(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct srv srv;
	struct cli c;
	int fd;

	(void)state;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/intercomd-notify-%d",
		 (int)getpid());
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	srv_start(&srv, NULL);
	unsetenv("NOTIFY_SOCKET");
	assert_string_equal(notify_recv(fd), "READY=1");
	cli_login(&c, &srv, "Ready");
	cli_close(&c);
	srv_stop(&srv);
	assert_string_equal(notify_recv(fd), "STOPPING=1");
	close(fd);
	unlink(sa.sun_path);
}

/* One line, "sha256:" and 64 lower-case hex digits. */
static void assert_fingerprint_line(const char *text, char *fp)
{
	assert_int_equal(strlen(text), 7 + 64 + 1);
	assert_memory_equal(text, "sha256:", 7);
	for (int i = 7; i < 71; i++)
		assert_non_null(strchr("0123456789abcdef", text[i]));
	assert_int_equal(text[71], '\n');
	memcpy(fp, text, 71);
	fp[71] = '\0';
}

static void test_server_identity(void **state)
{
	char dir[64], bad[96], fp[72], line[200];
	struct srv srv;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/itest-ident-%d/srv", (int)getpid());
	/* --fingerprint makes the key when there is none, prints it alone, and starts no
	 * server; the next run prints the same */
	assert_int_equal(
	    srv_run(out, sizeof(out), "--state-dir", dir, "--fingerprint", NULL), 0);
	assert_fingerprint_line(out, fp);
	assert_int_equal(
	    srv_run(out, sizeof(out), "--state-dir", dir, "--fingerprint", NULL), 0);
	assert_string_equal(strtok(out, "\n"), fp);
	/* a server started on that directory logs the same identity */
	srv_start(&srv, "--state-dir", dir, NULL);
	snprintf(line, sizeof(line), "identity %s (%s/key.pem)", fp, dir);
	assert_non_null(strstr(srv_log(&srv), line));
	srv_stop(&srv);
	/* a key file that is not an Ed25519 key: exit 2 naming it, and it is left alone
	 */
	snprintf(bad, sizeof(bad), "%s/not-a-key.pem", dir);
	f = fopen(bad, "w");
	fputs("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	assert_int_equal(srv_run(out, sizeof(out), "--state-dir", dir, "--tls-key", bad,
				 "--fingerprint", NULL),
			 2);
	assert_non_null(strstr(out, bad));
	assert_int_equal(srv_run(out, sizeof(out), "--bind", "127.0.0.1", "--port", "0",
				 "--state-dir", dir, "--tls-key", bad, NULL),
			 2);
	assert_non_null(strstr(out, "never replaced"));
	/* a state directory it cannot make: exit 1, the directory named */
	assert_int_equal(srv_run(out, sizeof(out), "--state-dir", "/proc/no/such",
				 "--fingerprint", NULL),
			 1);
	assert_non_null(strstr(out, "/proc/no"));
	snprintf(line, sizeof(line), "rm -rf /tmp/itest-ident-%d", (int)getpid());
	assert_int_equal(system(line), 0);
}

/* The box: its own key on first start, --fingerprint prints it, another box another. */
static void test_box_identity(void **state)
{
	char dir[64], fp[72], fp2[72], cmd[256];
	FILE *p;

	(void)state;
	if (!getenv("INTERCOM"))
		skip(); /* a server-only build */
	for (int box = 0; box < 2; box++) {
		snprintf(dir, sizeof(dir), "/tmp/itest-box-%d/%d", (int)getpid(), box);
		for (int run = 0; run < 2; run++) {
			snprintf(cmd, sizeof(cmd), "%s --state-dir %s --fingerprint",
				 getenv("INTERCOM"), dir);
			p = popen(cmd, "r");
			assert_non_null(p);
			assert_non_null(fgets(out, sizeof(out), p));
			assert_int_equal(pclose(p), 0);
			assert_fingerprint_line(out, run ? fp2 : fp);
		}
		assert_string_equal(fp, fp2); /* kept */
		if (box == 0)
			strcpy(out + 4096, fp);
		else
			assert_string_not_equal(fp, out + 4096); /* each box its own */
	}
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/itest-box-%d", (int)getpid());
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_help_version),
	    cmocka_unit_test(test_server_identity),
	    cmocka_unit_test(test_box_identity),
	    cmocka_unit_test(test_bad_flags),
	    cmocka_unit_test(test_config_file),
	    cmocka_unit_test(test_port_in_use),
	    cmocka_unit_test(test_udp_port_in_use),
	    cmocka_unit_test(test_tells_the_service_manager),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
