/* bench_attack: what honest clients get from the real intercomd while one host on the
 * LAN attacks it. Each attack runs beside an honest talker heard by every honest member;
 * it prints the talker's packets delivered, their delay (talker's send to a member's
 * receive, loopback and server), members dropped, bytes a second each member received,
 * and the server's CPU share of one core.
 *
 *   bench_attack [--server PATH] [--port N] [-d SECONDS] [-m MEMBERS] [-r KB_PER_S]
 *                [churn|flood|pending|spoof|all]
 *
 *   churn    one host logs in and out as fast as the server answers (CONNECT, PONG,
 *            DISCONNECT), members reading -r kB/s each (default 64)
 *   flood    one logged-in session sends 5000 packets of 1100 bytes a second
 *   pending  one host opens 272 connections and never logs in; can another log in?
 *   spoof    a packet with a member's token from another host; where does voice go?
 *
 * --port N runs the server on a fixed port instead of --port 0 (for a build older than
 * --port 0, to print the figures from before the defences). Hosts are loopback
 * addresses: 127.0.0.1 for the honest, 127.0.0.2 for the attacker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "hostile.h"
#include "msg.h"
#include "rtp.h"

#ifndef INTERCOMD_PATH
#define INTERCOMD_PATH "intercomd"
#endif

#define MAX_MEMBERS 300
#define PROBE_MS    20 /* the honest talker's packet interval */

struct member {
	int fd, ufd;
	char in[1 << 16], last[1 << 12];
	size_t len;
	unsigned uport, lists;
	struct hostile_voice v;
	uint64_t bytes;
	bool dropped;
};

static struct member mem[MAX_MEMBERS];
static unsigned port, fixed_port;
static const char *server = INTERCOMD_PATH;
static pid_t srv_pid;
static double secs = 10;
static unsigned members = 100, kbps = 64;
static char srv_log[64];

/* the honest talker's packets as the members got them */
static uint64_t probe_sent, probe_got;
static double *delays;
static size_t ndelays, delays_cap;

static int connect_from(const char *from, int type)
{
	struct sockaddr_in a = bench_lo(type == SOCK_STREAM ? port : 0);
	int fd = socket(AF_INET, type, 0);

	inet_pton(AF_INET, from, &a.sin_addr);
	if (fd < 0)
		return -1;
	if (type == SOCK_STREAM) {
		struct sockaddr_in b = a;
		int small = 4096; /* a slow link: the kernel does not hide a backlog */

		b.sin_port = 0;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		a = bench_lo(port);
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)) ||
		    connect(fd, (struct sockaddr *)&a, sizeof(a))) {
			close(fd);
			return -1;
		}
	} else if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read m's line up to what starts with `want` (within 2 s); NULL if none. */
static const char *wait_line(struct member *m, const char *want)
{
	static char line[1 << 12];
	uint64_t until = hostile_ms() + 2000;

	for (;;) {
		char *nl = memchr(m->in, '\n', m->len);
		struct pollfd p = {m->fd, POLLIN, 0};
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - m->in);

			snprintf(line, sizeof(line), "%.*s", (int)l, m->in);
			memmove(m->in, nl + 1, m->len - l - 1);
			m->len -= l + 1;
			if (!strncmp(line, want, strlen(want)))
				return line;
			continue;
		}
		if (hostile_ms() >= until || poll(&p, 1, 100) < 0)
			return NULL;
		n = recv(m->fd, m->in + m->len, sizeof(m->in) - m->len, MSG_DONTWAIT);
		if (n == 0)
			return NULL;
		if (n > 0)
			m->len += (size_t)n;
	}
}

static void say(struct member *m, const char *fmt, const char *arg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), fmt, arg);

	if (send(m->fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		m->dropped = true;
}

/* Log m in as nick from `from`, its voice address registered. 0 or -1. */
static int login(struct member *m, const char *nick, const char *from)
{
	const char *l;
	uint8_t buf[2048];
	struct pollfd p;

	memset(m, 0, sizeof(*m));
	m->fd = connect_from(from, SOCK_STREAM);
	m->ufd = connect_from(from, SOCK_DGRAM);
	if (m->fd < 0 || m->ufd < 0)
		return -1;
	say(m, "CONNECT: \"%s\" \"bench\" 1.0.0\n", nick);
	if (!(l = wait_line(m, "VOICE: ")) ||
	    msg_parse_voice(l + 7, &m->uport, &m->v.ssrc, m->v.token) ||
	    !(l = wait_line(m, "PING: ")))
		return -1;
	say(m, "PONG: %s\n", l + 6);
	if (!wait_line(m, "USERLIST #Lobby: "))
		return -1;
	m->v.fd = m->ufd;
	m->v.port = m->uport;
	hostile_burst(&m->v, 1, 0); /* a keepalive: the voice address */
	p = (struct pollfd){m->ufd, POLLIN, 0};
	if (poll(&p, 1, 2000) <= 0 || recv(m->ufd, buf, sizeof(buf), 0) < 12)
		return -1;
	return 0;
}

static int login_members(void)
{
	for (unsigned i = 0; i < members; i++) {
		char nick[24];

		snprintf(nick, sizeof(nick), "Member%03u", i);
		if (login(&mem[i], nick, "127.0.0.1")) {
			fprintf(stderr, "bench_attack: member %u could not log in\n", i);
			return -1;
		}
	}
	return 0;
}

/* The talker (member 0) sends one packet carrying its send time. */
static void probe_send(void)
{
	uint8_t pkt[128];
	struct rtp_hdr h = {probe_sent == 0, IC_RTP_PT_OPUS, mem[0].v.seq++, mem[0].v.ts,
			    mem[0].v.ssrc};
	double now = bench_mono();
	struct sockaddr_in a = bench_lo(mem[0].uport);
	uint8_t payload[80] = {0};
	int n;

	memcpy(payload, &now, sizeof(now));
	mem[0].v.ts += 960;
	n = rtp_pack(pkt, sizeof(pkt), &h, mem[0].v.token, payload, sizeof(payload));
	if (n > 0 &&
	    sendto(mem[0].ufd, pkt, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a)) == n)
		probe_sent++;
}

/* Everything waiting on the members' voice sockets: the talker's packets timed, the
 * rest counted into *other. */
static void voice_drain(uint64_t *other)
{
	for (unsigned i = 1; i < members; i++) {
		uint8_t buf[2048];
		ssize_t n;

		while ((n = recv(mem[i].ufd, buf, sizeof(buf), MSG_DONTWAIT)) >= 12) {
			uint32_t ssrc = rtp_get_ssrc(buf);
			double at;

			if (ssrc != mem[0].v.ssrc || n < 12 + (ssize_t)sizeof(at)) {
				*other += 1;
				continue;
			}
			memcpy(&at, buf + 12, sizeof(at));
			probe_got++;
			if (ndelays == delays_cap) {
				double *d =
				    realloc(delays, (delays_cap * 2 + 1024) * sizeof(*d));
				if (!d)
					continue;
				delays = d;
				delays_cap = delays_cap * 2 + 1024;
			}
			delays[ndelays++] = (bench_mono() - at) * 1e3;
		}
	}
}

/* Read up to max bytes of m's lines now (0: all there is), noting #Lobby lists. */
static void tcp_take(struct member *m, size_t max)
{
	size_t room = sizeof(m->in) - m->len;
	ssize_t n;
	char *nl;

	if (m->dropped)
		return;
	n = recv(m->fd, m->in + m->len, max && max < room ? max : room, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		m->dropped = true;
	if (n <= 0)
		return;
	m->len += (size_t)n;
	m->bytes += (uint64_t)n;
	while ((nl = memchr(m->in, '\n', m->len))) {
		size_t l = (size_t)(nl - m->in);

		if (!strncmp(m->in, "USERLIST #Lobby: ", 17)) {
			m->lists++;
			snprintf(m->last, sizeof(m->last), "%.*s", (int)l, m->in);
		} else if (!strncmp(m->in, "PING: ", 6)) {
			*nl = '\0';
			say(m, "PONG: %s\n", m->in + 6);
		}
		memmove(m->in, nl + 1, m->len - l - 1);
		m->len -= l + 1;
	}
}

/* Until `until` (bench_mono's clock), take voice as it arrives: the delay measured is
 * the network's and the server's, not this loop's. */
static void wait_voice(double until, uint64_t *other)
{
	static struct pollfd pfd[MAX_MEMBERS];
	double now;

	for (unsigned i = 1; i < members; i++)
		pfd[i - 1] = (struct pollfd){mem[i].ufd, POLLIN, 0};
	while ((now = bench_mono()) < until) {
		if (poll(pfd, members - 1, (int)((until - now) * 1000) + 1) <= 0)
			return;
		voice_drain(other);
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	return ndelays ? delays[(size_t)(p * (double)(ndelays - 1))] : 0;
}

static int start_server(void)
{
	/* its clients speak protocol 1.0 (token voice in the clear) */
	static const char *const plain[] = {"--tls", "off", NULL};

	snprintf(srv_log, sizeof(srv_log), "/tmp/bench_attack-%d.log", (int)getpid());
	port = fixed_port;
	srv_pid = bench_start_server(server, 256, srv_log, plain, &port);
	if (srv_pid < 0)
		fprintf(stderr, "bench_attack: %s did not start (see %s)\n", server,
			srv_log);
	probe_sent = probe_got = 0;
	ndelays = 0;
	return srv_pid < 0 ? -1 : 0;
}

static void stop_server(void)
{
	for (unsigned i = 0; i < MAX_MEMBERS; i++) {
		if (mem[i].fd > 0)
			close(mem[i].fd);
		if (mem[i].ufd > 0)
			close(mem[i].ufd);
		mem[i].fd = mem[i].ufd = 0;
	}
	kill(srv_pid, SIGTERM);
	waitpid(srv_pid, NULL, 0);
	if (fixed_port)
		sleep(1); /* an old server's UDP port may linger for the next run */
}

/* Run the attack's window: the talker every 20 ms, each member reading at most
 * per_turn bytes every turn of about 10 ms (0: all there is), attack(arg) called every
 * turn. Prints the shared figures. */
static void window(const char *name, void (*attack)(void *), void *arg, size_t per_turn)
{
	double t0 = bench_mono(), next = t0, cpu0 = bench_proc_cpu(srv_pid), t1, cpu1;
	uint64_t other = 0, bytes = 0, maxb = 0;
	unsigned dropped = 0;

	while (bench_mono() - t0 < secs) {
		if (attack)
			attack(arg);
		if (bench_mono() >= next) {
			probe_send();
			next += PROBE_MS / 1000.0;
		}
		voice_drain(&other);
		for (unsigned i = 0; i < members; i++)
			tcp_take(&mem[i], per_turn);
		wait_voice(bench_mono() + 0.010, &other);
	}
	t1 = bench_mono();
	cpu1 = bench_proc_cpu(srv_pid);
	usleep(300000);
	voice_drain(&other);
	for (unsigned i = 0; i < members; i++) {
		dropped += mem[i].dropped;
		bytes += mem[i].bytes;
		if (mem[i].bytes > maxb)
			maxb = mem[i].bytes;
	}
	qsort(delays, ndelays, sizeof(*delays), cmp_d);
	printf(
	    "%-8s talker delivered %6.2f %%, delay p50 %.2f ms, p99 %.2f ms; members "
	    "dropped %u of %u; received %.1f kB/s each (max %.1f); other voice %.0f "
	    "pkt/s each; server CPU %.1f %%\n",
	    name,
	    probe_sent ? 100.0 * (double)probe_got / (double)(probe_sent * (members - 1))
		       : 0,
	    pct(0.5), pct(0.99), dropped, members,
	    (double)bytes / members / (t1 - t0) / 1000, (double)maxb / (t1 - t0) / 1000,
	    (double)other / (members - 1) / (t1 - t0), 100 * (cpu1 - cpu0) / (t1 - t0));
}

static int run_churn(void)
{
	int p[2];
	unsigned cycles = 0, right = 0;
	char want[8192] = "USERLIST #Lobby: ";
	pid_t pid;

	if (start_server() || login_members() || pipe(p))
		return -1;
	for (unsigned i = 0; i < members; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sMember%03u",
			 i ? ", " : "", i);
	pid = fork();
	if (pid == 0) {
		unsigned n = hostile_churn(port, "127.0.0.2", (uint64_t)(secs * 1000));

		(void)!write(p[1], &n, sizeof(n));
		_exit(0);
	}
	close(p[1]);
	window("churn", NULL, NULL, kbps * 1000 / 100); /* kB/s in 10 ms turns */
	if (read(p[0], &cycles, sizeof(cycles)) != sizeof(cycles))
		cycles = 0;
	close(p[0]);
	waitpid(pid, NULL, 0);
	usleep(500000);
	for (unsigned i = 0; i < members; i++) {
		tcp_take(&mem[i], 0);
		right += !mem[i].dropped && !strcmp(mem[i].last, want);
	}
	printf(
	    "         (%u members reading %u kB/s; %.0f login cycles a second from one "
	    "host; %.1f lists a second to a member; %u of %u ended with the right "
	    "list)\n",
	    members, kbps, cycles / secs, mem[1].lists / secs, right, members);
	stop_server();
	return 0;
}

struct flood {
	struct hostile_voice v;
	uint64_t start, sent;
};

static void flood_turn(void *arg)
{
	struct flood *f = arg;

	hostile_flood_step(&f->v, f->start, &f->sent, 5000, 1100);
}

static int run_flood(void)
{
	struct member *fm = &mem[MAX_MEMBERS - 1];
	struct flood f;

	if (start_server() || login_members() || login(fm, "Flood", "127.0.0.2"))
		return -1;
	f.v = fm->v;
	f.start = hostile_ms();
	f.sent = 0;
	window("flood", flood_turn, &f, 0);
	printf("         (one session sent %.0f packets of 1100 bytes a second)\n",
	       (double)f.sent / secs);
	stop_server();
	return 0;
}

static int run_pending(void)
{
	static int fds[272];
	unsigned open_after = 0;
	struct member *h = &mem[MAX_MEMBERS - 1];
	int ok;

	if (start_server())
		return -1;
	members = members < 2 ? members : 2; /* a talker and a listener for the probe */
	if (login_members())
		return -1;
	for (int i = 0; i < 272; i++)
		fds[i] = connect_from("127.0.0.2", SOCK_STREAM);
	usleep(500000);
	for (int i = 0; i < 272; i++) {
		char b[256];
		ssize_t n = fds[i] < 0 ? 0 : recv(fds[i], b, sizeof(b), MSG_DONTWAIT);

		open_after += fds[i] >= 0 && n < 0 && errno == EAGAIN;
	}
	ok = !login(h, "Honest", "127.0.0.3");
	printf("pending  272 connections from one host that never log in: %u held open; "
	       "another host's login: %s\n",
	       open_after, ok ? "ok" : "REFUSED");
	for (int i = 0; i < 272; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	stop_server();
	return 0;
}

static int run_spoof(void)
{
	struct hostile_voice s;
	uint8_t buf[2048];
	unsigned at_b = 0, at_attacker = 0;
	int afd;

	members = members < 2 ? members : 2;
	if (start_server() || login_members())
		return -1;
	afd = connect_from("127.0.0.3", SOCK_DGRAM);
	s = mem[1].v; /* member 1's ssrc and token, sniffed */
	s.fd = afd;
	s.seq = (uint16_t)(s.seq + 100);
	hostile_burst(&s, 1, 0);
	hostile_burst(&s, 1, 20);
	usleep(100000);
	for (int i = 0; i < 10; i++)
		probe_send();
	usleep(200000);
	while (recv(mem[1].ufd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		at_b++;
	while (recv(afd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		at_attacker++;
	printf(
	    "spoof    after a packet with a member's token from another host: the member "
	    "heard %u of 10, the attacker %u\n",
	    at_b, at_attacker);
	close(afd);
	stop_server();
	return 0;
}

static const struct {
	const char *name;
	int (*run)(void);
} runs[] = {
    {"churn", run_churn},
    {"flood", run_flood},
    {"pending", run_pending},
    {"spoof", run_spoof},
};

int main(int argc, char **argv)
{
	const char *what = "all";
	unsigned m0;
	int r = 0;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--server") && i + 1 < argc)
			server = argv[++i];
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			fixed_port = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-d") && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "-m") && i + 1 < argc)
			members = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			kbps = (unsigned)atoi(argv[++i]);
		else if (argv[i][0] != '-')
			what = argv[i];
		else {
			fprintf(stderr,
				"usage: bench_attack [--server PATH] [--port N] [-d S] "
				"[-m MEMBERS] [-r KB_PER_S] "
				"[churn|flood|pending|spoof|all]\n");
			return 2;
		}
	}
	if (members < 2 || members > MAX_MEMBERS - 1 || secs <= 0) {
		fprintf(stderr, "bench_attack: 2-%d members, a positive duration\n",
			MAX_MEMBERS - 1);
		return 2;
	}
	m0 = members;
	printf("bench_attack: %s, %.0f s per attack\n", server, secs);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		if (strcmp(what, "all") && strcmp(what, runs[i].name))
			continue;
		members = m0;
		if (runs[i].run())
			r = 1;
	}
	if (r)
		fprintf(stderr, "bench_attack: a run failed; the server's log is %s\n",
			srv_log);
	return r ? 1 : 0;
}
