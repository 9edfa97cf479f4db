/* bench_relay: voice relay cost of the real intercomd on loopback.
 *
 * Starts intercomd, logs in N real clients over TCP, registers their UDP voice addresses,
 * has K of them send one 20 ms voice packet (72-byte payload) every 20 ms for D seconds,
 * and prints packets in, copies out (the server's own count), copies delivered/expected
 * at the receivers, server CPU per forwarded copy (/proc/PID/schedstat, else
 * utime+stime from /proc/PID/stat) and
 * the server's peak RSS (VmHWM).
 *
 *   bench_relay [-n N] [-k K] [-d SECONDS] [--server PATH]
 *   bench_relay --matrix          N = 10, 100, 500 with K = 1 and 5, 10 s each
 *   bench_relay --compare [-n N] [-k K] [-d SECONDS]
 *       the same load, in one run, on intercomd, on the bare fan-out floor
 *       (shared/perf/fwdbench.c: batched, and one sendmmsg per packet) and on murmurd
 *       when it is installed (shared/peers/mumble_load.py, Mumble's TCP voice path);
 *       prints CPU per copy for each, delivered/expected, peak RSS and the ratios
 *   --rooms R: K talkers in each of R rooms; --pin: the server on CPU 0, this load
 *   generator on CPU 1
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

struct client {
	int fd, ufd;
	char in[1 << 16];
	size_t in_len;
	uint32_t ssrc;
	uint8_t token[IC_TOKEN_LEN];
	bool voice, joined, registered;
	unsigned joins; /* JOINED lines: #Lobby, then its room */
	int room;	/* with --rooms: its room, joined (and #Lobby left) at login */
	uint16_t seq;
	uint32_t ts;
	uint64_t got;
};

struct result {
	unsigned n, k, rooms;
	double secs;
	uint64_t in, copies_out, delivered, expected;
	double cpu_s, rss_mb,
	    rss_talk_mb; /* peak (VmHWM); at the end of the talk (VmRSS) */
	unsigned long long delay_p50, delay_p99; /* the server's own, in µs */
};

static void send_line(struct client *c, const char *s)
{
	size_t len = strlen(s);

	if (send(c->fd, s, len, MSG_NOSIGNAL) != (ssize_t)len)
		fprintf(stderr, "bench_relay: short send\n");
}

/* Read what a client's TCP socket has; answer PINGs, note VOICE and JOINED. */
static void tcp_drain(struct client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
				 MSG_DONTWAIT);
		char *start = c->in, *nl;

		if (n <= 0)
			return;
		c->in_len += (size_t)n;
		while ((nl = memchr(start, '\n', c->in_len - (size_t)(start - c->in)))) {
			*nl = '\0';
			if (!strncmp(start, "PING: ", 6)) {
				char pong[64];

				snprintf(pong, sizeof(pong), "PONG: %s\n", start + 6);
				send_line(c, pong);
			} else if (!strncmp(start, "VOICE: ", 7)) {
				unsigned port;

				c->voice = !msg_parse_voice(start + 7, &port, &c->ssrc,
							    c->token);
			} else if (!strncmp(start, "JOINED: ", 8)) {
				c->joined = true;
				c->joins++;
				if (c->room >= 0 && !strcmp(start, "JOINED: #Lobby")) {
					/* straight on to its room: a #Lobby of 1000 would
					 * cost every login a USERLIST to everyone */
					char line[64];

					snprintf(line, sizeof(line),
						 "JOIN: #r%d\nPART: #Lobby\n", c->room);
					send_line(c, line);
				}
			} else if (!strncmp(start, "ERROR ", 6)) {
				fprintf(stderr, "bench_relay: server said: %s\n", start);
			}
			start = nl + 1;
		}
		c->in_len -= (size_t)(start - c->in);
		memmove(c->in, start, c->in_len);
	}
}

static void voice_send(struct client *c, unsigned port, size_t len, bool marker)
{
	uint8_t pkt[256], payload[PAYLOAD];
	struct rtp_hdr h = {marker, IC_RTP_PT_OPUS, c->seq++, c->ts, c->ssrc};
	struct sockaddr_in a = bench_lo(port);
	int n;

	memset(payload, 0xa5, sizeof(payload));
	n = rtp_pack(pkt, sizeof(pkt), &h, c->token, payload, len);
	c->ts += 960;
	sendto(c->ufd, pkt, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a));
}

/* Poll every socket for up to ms: TCP lines, UDP packets counted. Returns how many
 * sockets had something. */
static int pump(struct client *cl, unsigned n, struct pollfd *pfd, int ms)
{
	int r;

	for (unsigned i = 0; i < n; i++) {
		pfd[2 * i] = (struct pollfd){cl[i].fd, POLLIN, 0};
		pfd[2 * i + 1] = (struct pollfd){cl[i].ufd, POLLIN, 0};
	}
	r = poll(pfd, 2 * n, ms);
	if (r <= 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		if (pfd[2 * i].revents)
			tcp_drain(&cl[i]);
		if (pfd[2 * i + 1].revents) {
			uint8_t buf[2048];
			ssize_t got;

			while ((got = recv(cl[i].ufd, buf, sizeof(buf), MSG_DONTWAIT)) >=
			       0) {
				if (got > RTP_FIXED_LEN)
					cl[i].got++;
				else
					cl[i].registered = true; /* keepalive answer */
			}
		}
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

static int run(const char *server, unsigned n, unsigned k, unsigned rooms, double secs,
	       struct result *res)
{
	unsigned talkers = rooms ? k * rooms : k;
	struct client *cl = calloc(n, sizeof(*cl));
	struct pollfd *pfd = calloc(2 * n, sizeof(*pfd));
	/* 1000 clients log in from this one address, which a real LAN never sees; they
	 * speak protocol 1.0 (token voice in the clear) */
	static const char *const extra[] = {"--max-pending-per-source", "0", "--tls",
					    "off", NULL};
	unsigned port = 0, ready;
	char logpath[64];
	double t0, cpu0, next, interval;
	uint64_t sent = 0;
	pid_t pid;
	int status;

	snprintf(logpath, sizeof(logpath), "/tmp/bench_relay-%d.log", (int)getpid());
	pid = bench_start_server(server, n < 1000 ? n : 1000, logpath, extra, &port);
	if (pid < 0) {
		fprintf(stderr, "bench_relay: %s did not start (see %s)\n", server,
			logpath);
		return -1;
	}
	if (pin && pin_cpus(pid))
		fprintf(stderr, "bench_relay: --pin: %s\n", strerror(errno));
	/* log in, 50 at a time, draining every socket as we go (each login sends every
	 * #Lobby member a USERLIST) */
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_in a = bench_lo(port), u = bench_lo(0);
		char line[96];

		cl[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		cl[i].ufd = socket(AF_INET, SOCK_DGRAM, 0);
		if (cl[i].fd < 0 || cl[i].ufd < 0 ||
		    connect(cl[i].fd, (struct sockaddr *)&a, sizeof(a)) ||
		    bind(cl[i].ufd, (struct sockaddr *)&u, sizeof(u))) {
			fprintf(stderr, "bench_relay: socket %u: %s (raise ulimit -n?)\n",
				i, strerror(errno));
			return -1;
		}
		cl[i].room = rooms ? (int)(i % rooms) : -1;
		snprintf(line, sizeof(line), "CONNECT: \"b%u\" \"bench\" 1.0.0\n", i);
		send_line(&cl[i], line);
		if (i % 50 == 49)
			pump(cl, i + 1, pfd, 1);
	}
	t0 = bench_mono();
	do {
		pump(cl, n, pfd, 10);
		ready = 0;
		for (unsigned i = 0; i < n; i++) {
			if (cl[i].joined && !cl[i].registered && cl[i].seq == 0)
				voice_send(&cl[i], port, 0,
					   false); /* keepalive: voice address */
			ready += cl[i].registered;
		}
	} while (ready < n && bench_mono() - t0 < 60);
	if (ready < n) {
		fprintf(stderr, "bench_relay: only %u of %u clients ready\n", ready, n);
		return -1;
	}
	if (rooms) { /* each went into its room at login */
		t0 = bench_mono();
		do {
			pump(cl, n, pfd, 10);
			ready = 0;
			for (unsigned i = 0; i < n; i++)
				ready += cl[i].joins >= 2;
		} while (ready < n && bench_mono() - t0 < 60);
		if (ready < n) {
			fprintf(stderr,
				"bench_relay: only %u of %u clients in their rooms\n",
				ready, n);
			return -1;
		}
	}
	/* the logins' lines (every JOINED and PART to the rooms' members) still queued
	 * in the server would be flushed during the talk, delaying voice: wait until the
	 * server has been quiet for half a second */
	for (double quiet = bench_mono(), until = quiet + 30;
	     bench_mono() - quiet < 0.5 && bench_mono() < until;) {
		if (pump(cl, n, pfd, 50) > 0)
			quiet = bench_mono();
	}
	for (unsigned i = 0; i < n; i++)
		cl[i].got = 0;
	/* talk: the talkers, staggered across the 20 ms frame */
	cpu0 = bench_proc_cpu(pid);
	interval = 0.020 / talkers;
	t0 = bench_mono();
	next = t0;
	res->expected = 0;
	while (bench_mono() - t0 < secs) {
		double now = bench_mono();

		while (now >= next) {
			unsigned t = (unsigned)(sent % talkers);
			struct client *c = &cl[t];

			voice_send(c, port, PAYLOAD, c->seq <= 1);
			/* copies due: everyone else in its room */
			res->expected +=
			    rooms ? (n / rooms + (t % rooms < n % rooms) - 1) : n - 1;
			sent++;
			next += interval;
		}
		pump(cl, n, pfd, (int)((next - now) * 1000) + 1);
	}
	for (double until = bench_mono() + 0.3; bench_mono() < until;)
		pump(cl, n, pfd, 20);
	res->cpu_s = bench_proc_cpu(pid) - cpu0;
	res->rss_mb = bench_proc_kb(pid, "VmHWM:") / 1024.0;
	res->rss_talk_mb = bench_proc_kb(pid, "VmRSS:") / 1024.0;
	res->n = n;
	res->k = k;
	res->rooms = rooms;
	res->secs = secs;
	res->in = sent;
	res->delivered = 0;
	for (unsigned i = 0; i < n; i++)
		res->delivered += cl[i].got;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	{
		FILE *f = fopen(logpath, "r");
		char line[512];
		unsigned long long a, b, c, d;

		res->copies_out = 0;
		res->delay_p50 = res->delay_p99 = 0;
		while (f && fgets(line, sizeof(line), f)) {
			const char *v = strstr(line, "voice: ");
			const char *dl = strstr(line, "added delay");

			if (dl && strstr(dl, " p50 "))
				sscanf(strstr(dl, " p50 "), " p50 %llu us, p99 %llu us",
				       &res->delay_p50, &res->delay_p99);
			if (v &&
			    sscanf(
				v,
				"voice: %llu packets in, %llu dropped, %llu keepalives, "
				"%llu copies out",
				&a, &b, &c, &d) == 4)
				res->copies_out = d;
		}
		if (f)
			fclose(f);
		unlink(logpath);
	}
	for (unsigned i = 0; i < n; i++) {
		close(cl[i].fd);
		close(cl[i].ufd);
	}
	free(cl);
	free(pfd);
	return 0;
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
		printf("  %-34s intercomd / this = %.2f\n", "", ours / us);
}

/* intercomd, the floor and murmurd under one load, side by side. */
static int compare(const char *server, unsigned n, unsigned k, unsigned rooms,
		   double secs)
{
	struct peer_result fb, fp, mm;
	struct result r;
	double ours;
	const char *murmurd =
	    access("/usr/sbin/murmurd", X_OK) ? NULL : "/usr/sbin/murmurd";

	if (run(server, n, k, rooms, secs, &r))
		return 1;
	ours = r.copies_out ? r.cpu_s * 1e6 / (double)r.copies_out : 0;
	printf(
	    "\ncompare: N = %u clients, K = %u talkers, 20 ms frames, %d-byte payloads, "
	    "%.0f s\n",
	    n, k, PAYLOAD, secs);
	printf("  %-34s %9s %25s %8s\n", "", "us/copy", "delivered / expected", "");
	printf("  %-34s %9.3f %11llu / %-11llu %7.2f%%\n", "intercomd (UDP)", ours,
	       (unsigned long long)r.delivered, (unsigned long long)r.expected,
	       r.expected ? 100.0 * (double)r.delivered / (double)r.expected : 0.0);
	printf("  %-34s peak RSS %.2f MB\n", "", r.rss_mb);
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
			printf("  %-34s murmurd / intercomd = %.1f\n", "",
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
		else if (!strcmp(argv[i], "--rooms") && i + 1 < argc)
			rooms = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr,
				"usage: bench_relay [-n N] [-k K] [-d SECONDS] [--server "
				"PATH] [--rooms R] [--pin] [--matrix | --compare]\n");
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
