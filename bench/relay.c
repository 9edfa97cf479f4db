/* bench_relay: voice relay cost of the real intercomd on loopback.
 *
 * Starts intercomd, logs in N real clients over TCP (or TLS), registers their UDP voice
 * addresses, has K of them send one 20 ms voice packet (72-byte payload) every 20 ms for
 * D seconds, and prints packets in, copies out (the server's own count), copies
 * delivered/expected at the receivers, server CPU per forwarded copy
 * (/proc/PID/schedstat, else utime+stime from /proc/PID/stat) and the server's peak RSS
 * (VmHWM).
 *
 *   bench_relay [-n N] [-k K] [-d SECONDS] [--server PATH]
 *   bench_relay --matrix          N = 10, 100, 500 with K = 1 and 5, 10 s each
 *   bench_relay --compare [-n N] [-k K] [-d SECONDS]
 *       the same load, in one run, on intercomd, on the bare fan-out floor
 *       (shared/perf/fwdbench.c: batched, and one sendmmsg per packet) and on murmurd
 *       when it is installed (shared/peers/mumble_load.py, Mumble's TCP voice path);
 *       prints CPU per copy for each, delivered/expected, peak RSS and the ratios
 *   --rooms R: K talkers in each of R rooms; --pin: the server on CPU 0, this load
 *   generator on CPU 1; the clients speak TLS 1.3 and seal their voice (1.1), or with
 *   --plain protocol 1.0 to a --tls off server (--compare runs both); --storm: then
 *   the server restarts and every client
 *   reconnects at once: the time until all are back and talking, and the restarted
 *   server's added delay over it.
 * Each client logs in from a loopback address of its own (127.1.x.y), as boxes are
 * hosts of their own; the server's state directory is a fresh one per run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "tlsctx.h"
#include "vclient.h"
#include "msg.h"
#include "peers.h"
#include "rtp.h"

#ifndef INTERCOMD_PATH
#define INTERCOMD_PATH "intercomd"
#endif
#ifndef FWDBENCH_PATH
#define FWDBENCH_PATH "" /* shared/perf/fwdbench.c was not there at configure time */
#endif
#ifndef MUMBLE_LOAD_PATH
#define MUMBLE_LOAD_PATH ""
#endif

#define PAYLOAD 72

struct result {
	unsigned n, k, rooms;
	double secs;
	uint64_t in, copies_out, delivered, expected;
	double cpu_s, rss_mb,
	    rss_talk_mb; /* peak (VmHWM); at the end of the talk (VmRSS) */
	unsigned long long delay_p50, delay_p99; /* the server's own, in µs */
	uint64_t bad;		 /* received copies that did not open (TLS) */
	double login_s, storm_s; /* all logged in and ready: at first; after restart */
	uint64_t storm_delivered, storm_expected; /* the talk right after the storm */
	unsigned long long storm_p50, storm_p99;  /* the restarted server's delay */
};

/* Poll every socket for up to ms: TCP lines, UDP packets counted. Returns how many
 * sockets had something. */
static int pump(struct vcli *cl, unsigned n, struct pollfd *pfd, int ms)
{
	int r;

	for (unsigned i = 0; i < n; i++) {
		pfd[2 * i] = (struct pollfd){cl[i].fd, vcli_events(&cl[i]), 0};
		pfd[2 * i + 1] = (struct pollfd){cl[i].ufd, POLLIN, 0};
	}
	r = poll(pfd, 2 * n, ms);
	if (r <= 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		if (pfd[2 * i].revents)
			vcli_event(&cl[i], pfd[2 * i].revents);
		if (pfd[2 * i + 1].revents)
			vcli_udp(&cl[i]);
	}
	return r;
}

/* N clients; with rooms, client i joins #r(i % rooms) and K talk in each room, else all
 * stay in #Lobby and K talk there. */
/* --pin: the server on the first CPU, the load generator on the second, so the server's
 * added delay is its own and not the wait for a core the generator holds. */
static bool pin;

static int pin_cpus(pid_t server)
{
	cpu_set_t one, other;

	CPU_ZERO(&one);
	CPU_ZERO(&other);
	CPU_SET(0, &one);
	CPU_SET(1, &other);
	return sched_setaffinity(server, sizeof(one), &one) ||
		       sched_setaffinity(0, sizeof(other), &other)
		   ? -1
		   : 0;
}

/* the clients speak 1.1 (TLS, sealed voice); --plain: protocol 1.0, --tls off */
static bool tls = true;
/* --storm: after the talk, the server restarts and every client reconnects at once */
static bool storm;

struct srvrun {
	const char *path;
	unsigned max, port;
	char logpath[64], state[64];
	pid_t pid;
};

static int srv_up(struct srvrun *sv)
{
	char portstr[16];
	/* each client logs in from a loopback address of its own (a host of its own, as
	 * boxes are), so the per-source limits see what a LAN shows them */
	const char *extra[] = {"--tls",	  tls ? "on" : "off", "--state-dir",
			       sv->state, "--port",	      portstr,
			       NULL};

	snprintf(portstr, sizeof(portstr), "%u", sv->port);
	sv->pid = bench_start_server(sv->path, sv->max, sv->logpath, extra, &sv->port);
	if (sv->pid < 0) {
		fprintf(stderr, "bench_relay: %s did not start (see %s)\n", sv->path,
			sv->logpath);
		return -1;
	}
	if (pin && pin_cpus(sv->pid))
		fprintf(stderr, "bench_relay: --pin: %s\n", strerror(errno));
	return 0;
}

/* The server's own figures from its log at exit: copies out, added delay. */
static void srv_down(struct srvrun *sv, struct result *res)
{
	FILE *f;
	char line[512];
	unsigned long long a, b, c, d;
	int status;

	kill(sv->pid, SIGTERM);
	waitpid(sv->pid, &status, 0);
	f = fopen(sv->logpath, "r");
	res->copies_out = 0;
	res->delay_p50 = res->delay_p99 = 0;
	while (f && fgets(line, sizeof(line), f)) {
		const char *v = strstr(line, "voice: "),
			   *dl = strstr(line, "added delay");

		if (dl && strstr(dl, " p50 "))
			sscanf(strstr(dl, " p50 "), " p50 %llu us, p99 %llu us",
			       &res->delay_p50, &res->delay_p99);
		if (v && sscanf(v,
				"voice: %llu packets in, %llu dropped, %llu keepalives, "
				"%llu copies out",
				&a, &b, &c, &d) == 4)
			res->copies_out = d;
	}
	if (f)
		fclose(f);
}

/* Connect every closed client (50 at a time, draining as we go: each login sends the
 * room's members a list) and wait until all are in their rooms with their voice address
 * known. Returns the seconds it took, or -1. */
static double login_all(struct vcli *cl, unsigned n, unsigned port, void *ctx,
			unsigned batch, struct pollfd *pfd)
{
	double t0 = bench_mono();
	unsigned ready = 0, opened = 0;

	while (ready < n && bench_mono() - t0 < 60) {
		for (unsigned i = 0; i < n && opened < batch; i++) {
			if (cl[i].st != VCLI_CLOSED || bench_mono() < cl[i].retry_at)
				continue;
			/* refused (too many handshakes at once): again after 200-450 ms,
			 * as a box retries */
			cl[i].retry_at = bench_mono() + 0.2 + (i % 6) * 0.05;
			if (vcli_open(&cl[i], ctx, port)) {
				fprintf(stderr,
					"bench_relay: socket %u: %s (ulimit -n?)\n", i,
					strerror(errno));
				return -1;
			}
			opened++;
		}
		pump(cl, n, pfd, 10);
		ready = opened = 0;
		for (unsigned i = 0; i < n; i++) {
			if (cl[i].st == VCLI_ONLINE && !cl[i].registered &&
			    (cl[i].seq == 0 || bench_mono() - t0 > 1))
				vcli_voice(&cl[i], port, 0,
					   false); /* the voice address */
			ready += cl[i].st == VCLI_ONLINE && cl[i].registered;
			opened += cl[i].st == VCLI_CONNECTING || cl[i].st == VCLI_LOGIN;
		}
	}
	if (ready < n) {
		fprintf(stderr, "bench_relay: only %u of %u clients ready\n", ready, n);
		return -1;
	}
	return bench_mono() - t0;
}

/* The logins' lines still queued in the server would be flushed during the talk,
 * delaying voice: wait until it has been quiet for half a second. */
static void settle(struct vcli *cl, unsigned n, struct pollfd *pfd)
{
	for (double quiet = bench_mono(), until = quiet + 30;
	     bench_mono() - quiet < 0.5 && bench_mono() < until;) {
		if (pump(cl, n, pfd, 50) > 0)
			quiet = bench_mono();
	}
}

/* The talkers, staggered across the 20 ms frame, for secs. */
static void talk(struct vcli *cl, unsigned n, unsigned k, unsigned rooms, unsigned port,
		 double secs, struct pollfd *pfd, struct result *res)
{
	unsigned talkers = rooms ? k * rooms : k;
	double interval = 0.020 / talkers, t0 = bench_mono(), next = t0;

	for (unsigned i = 0; i < n; i++)
		cl[i].got = 0;
	res->expected = res->in = 0;
	while (bench_mono() - t0 < secs) {
		double now = bench_mono();

		while (now >= next) {
			unsigned t = (unsigned)(res->in % talkers);
			struct vcli *c = &cl[t];

			vcli_voice(c, port, PAYLOAD, c->seq <= 1);
			/* copies due: everyone else in its room */
			res->expected +=
			    rooms ? (n / rooms + (t % rooms < n % rooms) - 1) : n - 1;
			res->in++;
			next += interval;
		}
		pump(cl, n, pfd, (int)((next - now) * 1000) + 1);
	}
	for (double until = bench_mono() + 0.3; bench_mono() < until;)
		pump(cl, n, pfd, 20);
	res->delivered = 0;
	for (unsigned i = 0; i < n; i++)
		res->delivered += cl[i].got;
}

/* --storm: the server stops and starts again on its port and state directory; every
 * client finds its connection closed and reconnects at once. */
static int restart_storm(struct srvrun *sv, struct vcli *cl, unsigned n, void *ctx,
			 struct pollfd *pfd, struct result *res)
{
	srv_down(sv, res); /* the talk's own figures */
	for (unsigned i = 0; i < n; i++)
		vcli_close(&cl[i]);
	if (srv_up(sv))
		return -1;
	res->storm_s = login_all(cl, n, sv->port, ctx, n, pfd); /* all at once */
	return res->storm_s < 0 ? -1 : 0;
}

static int run(const char *server, unsigned n, unsigned k, unsigned rooms, double secs,
	       struct result *res)
{
	struct vcli *cl = calloc(n, sizeof(*cl));
	struct pollfd *pfd = calloc(2 * n, sizeof(*pfd));
	struct srvrun sv = {.path = server, .max = n < 1000 ? n : 1000};
	void *ctx = tls ? vcli_tls_ctx() : NULL;
	double cpu0;
	int e = -1;

	memset(res, 0, sizeof(*res));
	snprintf(sv.logpath, sizeof(sv.logpath), "/tmp/bench_relay-%d.log",
		 (int)getpid());
	snprintf(sv.state, sizeof(sv.state), "/tmp/bench_relay-%d-state", (int)getpid());
	for (unsigned i = 0; cl && i < n; i++) {
		char nick[16], src[32];

		snprintf(nick, sizeof(nick), "b%u", i);
		snprintf(src, sizeof(src), "127.1.%u.%u", i / 250, i % 250 + 1);
		if (vcli_init(&cl[i], nick, src, rooms ? (int)(i % rooms) : -1, tls))
			goto out;
	}
	if (!cl || !pfd || (tls && !ctx) || srv_up(&sv))
		goto out;
	res->login_s = login_all(cl, n, sv.port, ctx, 50, pfd);
	if (res->login_s < 0)
		goto out;
	settle(cl, n, pfd);
	cpu0 = bench_proc_cpu(sv.pid);
	talk(cl, n, k, rooms, sv.port, secs, pfd, res);
	res->cpu_s = bench_proc_cpu(sv.pid) - cpu0;
	res->rss_mb = bench_proc_kb(sv.pid, "VmHWM:") / 1024.0;
	res->rss_talk_mb = bench_proc_kb(sv.pid, "VmRSS:") / 1024.0;
	for (unsigned i = 0; i < n; i++)
		res->bad += cl[i].bad;
	if (storm && restart_storm(&sv, cl, n, ctx, pfd, res))
		goto out;
	if (storm) { /* talking again: the new server's delay covers the storm too */
		struct result after;

		talk(cl, n, k, rooms, sv.port, 2, pfd, &after);
		srv_down(&sv, &after);
		res->storm_delivered = after.delivered;
		res->storm_expected = after.expected;
		res->storm_p50 = after.delay_p50;
		res->storm_p99 = after.delay_p99;
	} else {
		srv_down(&sv, res);
	}
	e = 0;
	res->n = n;
	res->k = k;
	res->rooms = rooms;
	res->secs = secs;
out:
	if (e && sv.pid > 0)
		kill(sv.pid, SIGTERM);
	for (unsigned i = 0; cl && i < n; i++)
		vcli_free(&cl[i]);
	unlink(sv.logpath);
	bench_rmtree(sv.state);
	tlsctx_free(ctx);
	free(cl);
	free(pfd);
	return e;
}

static void print_header(void)
{
	printf("%5s %5s %3s %9s %11s %11s %11s %9s %9s %7s %7s %7s %8s %8s\n", "N",
	       "rooms", "K", "pkts in", "copies out", "delivered", "expected", "deliv %",
	       "us/copy", "CPU %", "p50 us", "p99 us", "RSS MB", "peak MB");
}

/* K is per room with rooms; the CPU share is of one core over the talk; p50/p99 are
 * the server's own receive -> send delay of relayed voice; RSS at the end of the talk,
 * and the peak (reached during the logins, when output queues wait for slow readers). */
static void print_result(const struct result *r)
{
	printf("%5u %5u %3u %9llu %11llu %11llu %11llu %8.2f%% %9.3f %6.1f%% %7llu %7llu "
	       "%8.2f %8.2f\n",
	       r->n, r->rooms ? r->rooms : 1, r->k, (unsigned long long)r->in,
	       (unsigned long long)r->copies_out, (unsigned long long)r->delivered,
	       (unsigned long long)r->expected,
	       r->expected ? 100.0 * (double)r->delivered / (double)r->expected : 0.0,
	       r->copies_out ? r->cpu_s * 1e6 / (double)r->copies_out : 0.0,
	       100.0 * r->cpu_s / r->secs, r->delay_p50, r->delay_p99, r->rss_talk_mb,
	       r->rss_mb);
	if (r->storm_s > 0)
		printf(
		    "storm: %u %s clients logged in, in their rooms and with voice again "
		    "%.2f s after the server's restart (first login, 50 at a time: "
		    "%.2f s); the restarted server's added delay over the storm and 2 s "
		    "of talk after it: p50 %llu us, p99 %llu us; delivered after it "
		    "%.2f%%\n",
		    r->n, tls ? "TLS" : "plaintext", r->storm_s, r->login_s, r->storm_p50,
		    r->storm_p99,
		    r->storm_expected
			? 100.0 * (double)r->storm_delivered / (double)r->storm_expected
			: 0.0);
	if (tls && r->bad)
		printf("warning: %llu received copies did not open\n",
		       (unsigned long long)r->bad);
	fflush(stdout);
}

static void compare_line(const char *name, double us, double delivered, double expected,
			 double rss_mb, double ours)
{
	printf("  %-34s %9.3f %11.0f / %-11.0f %7.2f%%\n", name, us, delivered, expected,
	       expected > 0 ? 100.0 * delivered / expected : 0.0);
	if (rss_mb > 0)
		printf("  %-34s peak RSS %.2f MB\n", "", rss_mb);
	if (ours > 0 && us > 0)
		printf("  %-34s intercomd encrypted / this = %.2f\n", "", ours / us);
}

/* intercomd, the floor and murmurd under one load, side by side. */
static int compare(const char *server, unsigned n, unsigned k, unsigned rooms,
		   double secs)
{
	struct peer_result fb, fp, mm;
	struct result r, e;
	double ours, plain;
	const char *murmurd =
	    access("/usr/sbin/murmurd", X_OK) ? NULL : "/usr/sbin/murmurd";

	tls = false;
	if (run(server, n, k, rooms, secs, &r))
		return 1;
	tls = true;
	if (run(server, n, k, rooms, secs, &e))
		return 1;
	plain = r.copies_out ? r.cpu_s * 1e6 / (double)r.copies_out : 0;
	ours = e.copies_out ? e.cpu_s * 1e6 / (double)e.copies_out : 0;
	printf(
	    "\ncompare: N = %u clients, K = %u talkers, 20 ms frames, %d-byte payloads, "
	    "%.0f s\n",
	    n, k, PAYLOAD, secs);
	printf("  %-34s %9s %25s %8s\n", "", "us/copy", "delivered / expected", "");
	compare_line("intercomd, plaintext (--tls off)", plain, (double)r.delivered,
		     (double)r.expected, r.rss_mb, 0);
	compare_line("intercomd, encrypted (TLS)", ours, (double)e.delivered,
		     (double)e.expected, e.rss_mb, 0);
	if (plain > 0)
		printf("  %-34s encrypted / plaintext = %.2f\n", "", ours / plain);
	if (!FWDBENCH_PATH[0]) {
		printf(
		    "  floor: shared/perf/fwdbench.c was not found when configuring\n");
	} else {
		if (!peer_floor(FWDBENCH_PATH, "batch", n, k, secs, PAYLOAD, &fb))
			compare_line("floor, recvmmsg+sendmmsg batches", fb.us_per_copy,
				     fb.delivered, fb.expected, 0, ours);
		if (!peer_floor(FWDBENCH_PATH, "sendmmsg", n, k, secs, PAYLOAD, &fp))
			compare_line("floor, one sendmmsg per packet", fp.us_per_copy,
				     fp.delivered, fp.expected, 0, ours);
		if (n - 1 > 64)
			printf(
			    "  %-34s (the floor fans out to at most 64 destinations)\n",
			    "");
	}
	if (!murmurd || !MUMBLE_LOAD_PATH[0]) {
		printf("  murmurd: not installed (apt-get install mumble-server) or "
		       "shared/peers/mumble_load.py not found\n");
	} else if (!peer_murmur(murmurd, MUMBLE_LOAD_PATH, n, k, secs, &mm)) {
		compare_line("murmurd (TCP voice path, TLS)", mm.us_per_copy,
			     mm.delivered, mm.expected, mm.rss_mb, 0);
		if (ours > 0)
			printf("  %-34s murmurd / intercomd encrypted = %.1f\n", "",
			       mm.us_per_copy / ours);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *server = INTERCOMD_PATH;
	unsigned n = 100, k = 5;
	double secs = 10;
	bool matrix = false, cmp = false;
	unsigned rooms = 0;
	struct rlimit rl;
	struct result r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-k") && i + 1 < argc)
			k = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-d") && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "--server") && i + 1 < argc)
			server = argv[++i];
		else if (!strcmp(argv[i], "--matrix"))
			matrix = true;
		else if (!strcmp(argv[i], "--compare"))
			cmp = true;
		else if (!strcmp(argv[i], "--pin"))
			pin = true;
		else if (!strcmp(argv[i], "--plain"))
			tls = false;
		else if (!strcmp(argv[i], "--storm"))
			storm = true;
		else if (!strcmp(argv[i], "--rooms") && i + 1 < argc)
			rooms = (unsigned)atoi(argv[++i]);
		else {
			fprintf(
			    stderr,
			    "usage: bench_relay [-n N] [-k K] [-d SECONDS] [--server "
			    "PATH] [--rooms R] [--pin] [--plain] [--storm] [--matrix | "
			    "--compare]\n");
			return 2;
		}
	}
	if (n < 2 || n > 1000 || k < 1 || secs <= 0 ||
	    (rooms ? k * rooms > n || n / rooms < 2 : k > n)) {
		fprintf(stderr,
			"bench_relay: need 2 <= N <= 1000, 1 <= K <= N (K per room "
			"with --rooms, 2 or more clients a room), D > 0\n");
		return 2;
	}
	/* two sockets per client */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	printf("bench_relay: %s, 20 ms frames, %d-byte payloads, %.0f s per run\n",
	       server, PAYLOAD, secs);
	print_header();
	if (cmp)
		return compare(server, n, k, rooms, secs);
	if (!matrix) {
		if (run(server, n, k, rooms, secs, &r))
			return 1;
		print_result(&r);
		return 0;
	}
	{
		static const unsigned ns[] = {10, 100, 500}, ks[] = {1, 5};

		for (int i = 0; i < 3; i++) {
			for (int j = 0; j < 2; j++) {
				if (run(server, ns[i], ks[j], 0, secs, &r))
					return 1;
				print_result(&r);
			}
		}
	}
	return 0;
}
