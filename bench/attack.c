/* bench_attack: what honest clients get from the real intercomd while one host on the
 * LAN attacks it. Each attack runs beside an honest talker heard by every honest member;
 * it prints the talker's packets delivered, their delay (talker's send to a member's
 * receive, loopback and server), members dropped, bytes a second each member received,
 * and the server's CPU share of one core.
 *
 *   bench_attack [--server PATH] [--port N] [-d SECONDS] [-m MEMBERS] [-r KB_PER_S]
 *                [SCENARIO|all]
 *
 *   churn    one host logs in and out as fast as the server answers (CONNECT, PONG,
 *            DISCONNECT), members reading -r kB/s each (default 64)
 *   flood    one logged-in session sends 5000 packets of 1100 bytes a second
 *   pending  one host opens 272 connections and never logs in; can another log in?
 *   spoof    a packet with a member's token from another host; where does voice go?
 *   quiet    no attack: two clean windows over TLS (how far apart two baselines are)
 *   slots    (TLS) 8 addresses x 4 silent connections, then 4 half handshakes, then 32
 *            silent, reopened as they close: do honest boxes log in within 2 s?
 *   sessions (TLS) one address logging in sessions with fresh keys: how many it holds
 *   registry (TLS) one address logging in fresh keys under fresh nicks: how many bind
 *
 * (and the scenarios of the other attack_*.c files, listed by --help). The four above
 * speak protocol 1.0 (--tls off); the TLS scenarios log their members in as boxes with
 * identities of their own and sealed voice, and print a baseline window measured in the
 * same run before the attack's.
 *
 * --port N runs the server on a fixed port instead of --port 0 (for a build older than
 * --port 0, to print the figures from before the defences). Hosts are loopback
 * addresses: 127.0.0.1 for the honest, 127.0.0.2 and up for the attacker.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attack.h"
#include "benchutil.h"

#ifndef INTERCOMD_PATH
#define INTERCOMD_PATH "intercomd"
#endif

struct attack_opts attack_opt = {INTERCOMD_PATH, 10, 100, 64, 0};

static unsigned port;
static pid_t srv_pid;
static bool srv_tls;
static char srv_log[64], srv_state[64];

unsigned attack_port(void)
{
	return port;
}

bool attack_server_tls(void)
{
	return srv_tls;
}

pid_t attack_server_pid(void)
{
	return srv_pid;
}

const char *attack_server_log(void)
{
	return srv_log;
}

int attack_start_server(bool tls, const char *const *extra)
{
	const char *args[32] = {"--tls", tls ? "on" : "off"};
	size_t n = 2;

	snprintf(srv_log, sizeof(srv_log), "/tmp/bench_attack-%d.log", (int)getpid());
	snprintf(srv_state, sizeof(srv_state), "/tmp/bench_attack-%d.state",
		 (int)getpid());
	bench_rmtree(srv_state);
	if (tls) {
		args[n++] = "--state-dir";
		args[n++] = srv_state;
	}
	for (; extra && *extra && n < sizeof(args) / sizeof(args[0]) - 1; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	srv_tls = tls;
	port = attack_opt.fixed_port;
	srv_pid = bench_start_server(attack_opt.server, 256, srv_log, args, &port);
	if (srv_pid < 0)
		fprintf(stderr, "bench_attack: %s did not start (see %s)\n",
			attack_opt.server, srv_log);
	return srv_pid < 0 ? -1 : 0;
}

void attack_stop_server(void)
{
	attack_members_close();
	kill(srv_pid, SIGTERM);
	waitpid(srv_pid, NULL, 0);
	bench_rmtree(srv_state);
	if (attack_opt.fixed_port)
		sleep(1); /* an old server's UDP port may linger for the next run */
}

/* No attack: two clean windows over TLS, one after the other, so the spread of the
 * figures themselves is known before an attack's are compared with a baseline. */
static int run_quiet(void)
{
	if (attack_start_server(true, NULL) || attack_login_members())
		return -1;
	attack_window("quiet", NULL, NULL, 0, NULL);
	attack_window("quiet", NULL, NULL, 0, NULL);
	attack_stop_server();
	return 0;
}

static const struct {
	const char *name;
	int (*run)(void);
} runs[] = {
    {"churn", attack_run_churn},       {"flood", attack_run_flood},
    {"pending", attack_run_pending},   {"spoof", attack_run_spoof},
    {"slots", attack_run_slots},       {"sessions", attack_run_sessions},
    {"registry", attack_run_registry}, {"keyupdate", attack_run_keyupdate},
    {"tlsjunk", attack_run_tlsjunk},   {"quiet", run_quiet},
};

static int usage(void)
{
	fprintf(stderr, "usage: bench_attack [--server PATH] [--port N] [-d S] "
			"[-m MEMBERS] [-r KB_PER_S] [SCENARIO|all]\nscenarios:");
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		fprintf(stderr, " %s", runs[i].name);
	fprintf(stderr, "\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *what = "all";
	unsigned m0;
	int r = 0;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--server") && i + 1 < argc)
			attack_opt.server = argv[++i];
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			attack_opt.fixed_port = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-d") && i + 1 < argc)
			attack_opt.secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "-m") && i + 1 < argc)
			attack_opt.members = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			attack_opt.kbps = (unsigned)atoi(argv[++i]);
		else if (argv[i][0] != '-')
			what = argv[i];
		else
			return usage();
	}
	if (attack_opt.members < 2 || attack_opt.members > ATTACK_MEMBERS_MAX - 1 ||
	    attack_opt.secs <= 0) {
		fprintf(stderr, "bench_attack: 2-%d members, a positive duration\n",
			ATTACK_MEMBERS_MAX - 1);
		return 2;
	}
	for (size_t i = 0; strcmp(what, "all"); i++) {
		if (i == sizeof(runs) / sizeof(runs[0]))
			return usage();
		if (!strcmp(what, runs[i].name))
			break;
	}
	m0 = attack_opt.members;
	printf("bench_attack: %s, %.0f s per attack\n", attack_opt.server,
	       attack_opt.secs);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		if (strcmp(what, "all") && strcmp(what, runs[i].name))
			continue;
		attack_opt.members = m0;
		if (runs[i].run())
			r = 1;
	}
	if (r)
		fprintf(stderr, "bench_attack: a run failed; the server's log is %s\n",
			srv_log);
	return r ? 1 : 0;
}
