/* bench_register: what a new nick's login costs now that its REGISTERED waits for the
 * registry to be on disk (a save in a child process: write, fsync, rename, directory
 * fsync). Against the real intercomd over TLS, each login timed from the TCP connect to
 * the box in #Lobby (handshake, CONNECT, the answer, PONG):
 *
 *   new      N boxes one after another, each a new nick (its answer waits for a save)
 *   bound    the same N boxes again (their nicks bound already: no save to wait for),
 *            the baseline, measured in the same run
 *   burst    new boxes at once, each from an address of its own, as many as the
 *            server handshakes at once (bindings arriving together share saves)
 *
 *   bench_register [--server PATH] [-n N] [-s DIR]
 *
 * -s DIR: where the state directory goes (default /tmp), so the disk under test can be
 * an SD card's. Prints p50, p99 and max in ms, and the burst's time to the last box in.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "vclient.h"

#ifndef INTERCOMD_PATH
#define INTERCOMD_PATH "intercomd"
#endif

#define REG_BENCH_MAX 500 /* boxes a phase, at most (max_clients is 1000 at most) */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* p50, p99 and max of v[0..n) ms, sorted in place */
static void print_ms(const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	printf("%-6s %4zu logins: p50 %6.2f ms, p99 %6.2f ms, max %6.2f ms\n", what, n,
	       v[n / 2], v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], v[n - 1]);
}

/* Open c[0..n) at once and drive them until each is in #Lobby (its time from the open,
 * in ms, into ms[i]). Returns 0, or -1 when one was closed or 30 s went by. */
static int log_in(struct vcli *c, size_t n, void *ctx, unsigned port, double *ms)
{
	static struct pollfd pf[REG_BENCH_MAX];
	double t0 = bench_mono();
	size_t left = n;

	for (size_t i = 0; i < n; i++) {
		ms[i] = -1;
		if (vcli_open(&c[i], ctx, port))
			return -1;
	}
	while (left && bench_mono() - t0 < 30) {
		for (size_t i = 0; i < n; i++) {
			pf[i].fd = c[i].fd;
			pf[i].events = vcli_events(&c[i]);
			pf[i].revents = 0;
		}
		if (poll(pf, n, 100) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (pf[i].revents)
				vcli_event(&c[i], pf[i].revents);
			if (c[i].st == VCLI_CLOSED)
				return -1;
			if (c[i].st == VCLI_ONLINE && ms[i] < 0) {
				ms[i] = (bench_mono() - t0) * 1000;
				left--;
			}
		}
	}
	return left ? -1 : 0;
}

/* One phase: boxes one at a time (or all at once), closed after. */
static int phase(struct vcli *c, size_t n, bool together, void *ctx, unsigned port,
		 double *ms)
{
	int e = 0;

	if (together)
		e = log_in(c, n, ctx, port, ms);
	for (size_t i = 0; !together && !e && i < n; i++) {
		e = log_in(&c[i], 1, ctx, port, &ms[i]);
		vcli_close(&c[i]);
	}
	for (size_t i = 0; together && i < n; i++)
		vcli_close(&c[i]);
	return e;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_register [--server PATH] [-n N] [-s DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = INTERCOMD_PATH, *parent = "/tmp";
	static struct vcli boxes[REG_BENCH_MAX], burst[REG_BENCH_MAX];
	static double ms[REG_BENCH_MAX];
	char dir[256], logpath[300], nick[24], src[24];
	unsigned port = 0;
	size_t n = 100, nb;
	void *ctx;
	pid_t pid;
	int e = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--server") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			parent = argv[++i];
		else
			return usage();
	}
	if (n < 1 || n > REG_BENCH_MAX)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s/bench-register-%d", parent, (int)getpid());
	snprintf(logpath, sizeof(logpath), "%s.log", dir);
	ctx = vcli_tls_ctx();
	pid = ctx ? bench_start_server(
			path, 2 * REG_BENCH_MAX, logpath,
			(const char *const[]){"--tls", "on", "--state-dir", dir, NULL},
			&port)
		  : -1;
	if (pid < 0) {
		fprintf(stderr, "bench_register: intercomd did not start (see %s)\n",
			logpath);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(nick, sizeof(nick), "Box%zu", i);
		vcli_init(&boxes[i], nick, NULL, -1, true);
		/* each a host of its own: one source has 4 handshakes at most */
		snprintf(nick, sizeof(nick), "Burst%zu", i);
		snprintf(src, sizeof(src), "127.0.%zu.%zu", 1 + i / 250, 1 + i % 250);
		vcli_init(&burst[i], nick, src, -1, true);
	}
	printf("intercomd over TLS, state directory in %s, %zu boxes a phase\n", parent,
	       n);
	if (phase(boxes, n, false, ctx, port, ms))
		goto out;
	print_ms("new", ms, n);
	if (phase(boxes, n, false, ctx, port, ms))
		goto out;
	print_ms("bound", ms, n);
	nb = n < IC_TLS_HANDSHAKES_MAX ? n : IC_TLS_HANDSHAKES_MAX;
	if (phase(burst, nb, true, ctx, port, ms))
		goto out;
	print_ms("burst", ms, nb);
	printf("burst: the last of %zu new boxes in after %.2f ms\n", nb, ms[nb - 1]);
	e = 0;
out:
	fflush(stdout);
	if (e)
		fprintf(stderr, "bench_register: a login failed (see %s)\n", logpath);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		vcli_free(&boxes[i]);
		vcli_free(&burst[i]);
	}
	bench_rmtree(dir);
	if (!e)
		unlink(logpath);
	return e;
}
