/* The box in the field: the real intercom against the real intercomd where boxes really
 * fail: a server that goes silent without closing, a name with IPv6 and IPv4 addresses
 * (the server on IPv4 only), a call to a nick that is not online. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* The server freezes (SIGSTOP: its sockets stay open, nothing answers, like a link that
 * stopped forwarding): the box notices within 30 s, and is back once a server runs
 * again on that address. */
static void test_silent_server(void **state)
{
	const char *args[] = {"--playback-file", "/dev/null", "--exit-after", "75", NULL};
	struct srv srv;
	struct proc box;
	uint64_t t0, noticed, back;
	size_t at;

	(void)state;
	srv_start(&srv, NULL);
	client_start(&box, &srv, "Box", args);
	at = proc_wait_log(&box, 0, "status: online #Lobby", WAIT_MS);
	kill(srv.pid, SIGSTOP);
	t0 = now_ms();
	at = proc_wait_log(&box, at, "the server has been silent for 25 s: reconnecting",
			   40000);
	noticed = now_ms() - t0;
	srv_kill9(&srv); /* the frozen one gone, a new one on the same port */
	srv_restart(&srv);
	proc_wait_log(&box, at, "status: online #Lobby\n", 20000); /* the note cleared */
	back = now_ms() - t0;
	print_message(
	    "silent server: noticed after %llu ms, back on the new server after "
	    "%llu ms\n",
	    (unsigned long long)noticed, (unsigned long long)back);
	assert_true(noticed <= 30000);
	assert_true(back <= 35000); /* the deadline, then the first backoff (1 s +25 %) */
	kill(box.pid, SIGTERM);
	proc_wait(&box, WAIT_MS);
	srv_stop(&srv);
}

/* A name with ::1 first and 127.0.0.1 second (Debian's localhost), the server on IPv4
 * only: the box tries the next address and says which one it reached. Runs the client
 * in a private mount namespace with its own /etc/hosts (root only; skipped elsewhere). */
static void test_every_address(void **state)
{
	char hosts[64], wrapper[96], cmd[512], want[128];
	const char *args[] = {"--playback-file", "/dev/null", "--exit-after", "4", NULL};
	const char *prefix[] = {"sh", wrapper, NULL};
	struct srv srv;
	struct proc box;
	FILE *f;

	(void)state;
	snprintf(hosts, sizeof(hosts), "/tmp/itest-hosts-%d", (int)getpid());
	snprintf(wrapper, sizeof(wrapper), "/tmp/itest-hosts-%d.sh", (int)getpid());
	f = fopen(hosts, "w");
	assert_non_null(f);
	fprintf(f, "::1 dualname\n127.0.0.1 dualname\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "unshare -m sh -c 'mount --bind %s /etc/hosts' 2>/dev/null", hosts);
	if (getuid() != 0 || system(cmd) != 0) {
		unlink(hosts);
		skip(); /* no private mount namespace here */
	}
	f = fopen(wrapper, "w");
	assert_non_null(f);
	fprintf(
	    f,
	    "exec unshare -m sh -c 'mount --bind %s /etc/hosts && exec \"$0\" \"$@\"' "
	    "\"$@\"\n",
	    hosts);
	fclose(f);
	srv_start(&srv, NULL); /* --bind 127.0.0.1: IPv4 only */
	client_start_in(&box, prefix, "dualname", srv.port, "Dual", args);
	snprintf(want, sizeof(want), "connected to dualname:%u at 127.0.0.1:%u", srv.port,
		 srv.port);
	proc_wait_log(&box, 0, want, WAIT_MS);
	proc_wait_log(&box, 0, "status: online #Lobby", WAIT_MS);
	assert_int_equal(proc_wait(&box, WAIT_MS), 0);
	srv_stop(&srv);
	unlink(hosts);
	unlink(wrapper);
}

/* Calling a nick that is not online ends at once with the busy tone and says so; it does
 * not ring on. */
static void test_call_absent_nick(void **state)
{
	const char *args[] = {"--playback-file", "/dev/null", "--call", "Ghost",
			      "--exit-after",	 "8",	      NULL};
	struct srv srv;
	struct proc box;
	const char *log, *at;
	int ringbacks = 0;

	(void)state;
	srv_start(&srv, NULL);
	client_start(&box, &srv, "Caller", args);
	proc_wait_log(&box, 0, "Ghost is not online", WAIT_MS);
	assert_int_equal(proc_wait(&box, 15000), 0);
	log = proc_log(&box);
	assert_non_null(strstr(log, "status: online #Lobby | Ghost is not online"));
	assert_non_null(strstr(strstr(log, "Ghost is not online"), "tone: busy"));
	for (at = log; (at = strstr(at, "tone: ringback")); at++)
		ringbacks++;
	assert_int_equal(ringbacks, 1); /* once, for the request; then silence */
	srv_stop(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_call_absent_nick),
	    cmocka_unit_test(test_every_address),
	    cmocka_unit_test(test_silent_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
