/* attack_members.c: bench_attack's honest members, plain (protocol 1.0) or TLS 1.3
 * boxes (vclient), the honest talker's probe and the window that measures what they
 * get; see attack.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attack.h"
#include "benchutil.h"
#include "msg.h"
#include "rtp.h"
#include "vclient.h"

#define LOGIN_MS 5000 /* a TLS member's login, on a busy machine */

struct attack_member {
	int fd, ufd;
	char in[1 << 16], last[1 << 12];
	size_t len;
	unsigned uport, lists;
	struct hostile_voice v;
	uint64_t bytes;
	bool dropped;
	struct vcli *vc; /* a TLS member; NULL: plain */
};

static struct attack_member mem[ATTACK_MEMBERS_MAX];
static void *tls_ctx;

/* the honest talker's packets as the members got them, in the window running */
static uint64_t probe_sent, probe_got;
static double *delays;
static size_t ndelays, delays_cap;

struct attack_member *attack_member(unsigned i)
{
	return &mem[i];
}

struct hostile_voice *attack_member_voice(struct attack_member *m)
{
	return &m->v;
}

const char *attack_member_list(const struct attack_member *m, unsigned *lists)
{
	*lists = m->lists;
	return m->last;
}

bool attack_member_dropped(const struct attack_member *m)
{
	return m->dropped || (m->vc && m->vc->st == VCLI_CLOSED);
}

int attack_member_udp(const struct attack_member *m)
{
	return m->vc ? m->vc->ufd : m->ufd;
}

int attack_connect_from(const char *from, int type)
{
	struct sockaddr_in a = bench_lo(0), b;
	int fd = socket(AF_INET, type, 0), small = 4096;

	inet_pton(AF_INET, from, &a.sin_addr);
	if (fd < 0)
		return -1;
	if (type != SOCK_STREAM) {
		if (!bind(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		close(fd);
		return -1;
	}
	/* a slow link: the kernel does not hide a backlog */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	b = bench_lo(attack_port());
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    connect(fd, (struct sockaddr *)&b, sizeof(b))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read m's line up to what starts with `want` (within 2 s); NULL if none. */
static const char *wait_line(struct attack_member *m, const char *want)
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

static void say(struct attack_member *m, const char *fmt, const char *arg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), fmt, arg);

	if (n < 0 || (size_t)n >= sizeof(line) ||
	    send(m->fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		m->dropped = true;
}

int attack_plain_login(struct attack_member *m, const char *nick, const char *from)
{
	const char *l;
	uint8_t buf[2048];
	struct pollfd p;

	memset(m, 0, sizeof(*m));
	m->fd = attack_connect_from(from, SOCK_STREAM);
	m->ufd = attack_connect_from(from, SOCK_DGRAM);
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

static uint64_t other_voice; /* packets that were not the talker's */

static void probe_got_one(void *arg, const uint8_t *pkt, size_t len)
{
	uint32_t talker = mem[0].vc ? mem[0].vc->ssrc : mem[0].v.ssrc;
	double at;

	(void)arg;
	if (len < RTP_FIXED_LEN + sizeof(at) || rtp_get_ssrc(pkt) != talker) {
		other_voice++;
		return;
	}
	memcpy(&at, pkt + RTP_FIXED_LEN, sizeof(at));
	probe_got++;
	if (ndelays == delays_cap) {
		double *d = realloc(delays, (delays_cap * 2 + 1024) * sizeof(*d));

		if (!d)
			return;
		delays = d;
		delays_cap = delays_cap * 2 + 1024;
	}
	delays[ndelays++] = (bench_mono() - at) * 1e3;
}

/* Start member i's TLS login unless it is under way or done: at most
 * IC_TLS_HANDSHAKES_PER_SOURCE at once (the server's bound for one address), and one
 * closed before it was online tries again. */
static void tls_login_step(unsigned i, unsigned *busy)
{
	struct vcli *c = mem[i].vc;

	if (c->st == VCLI_ONLINE && c->voice && !c->registered)
		vcli_voice(c, attack_port(), 0, false);
	if (c->st == VCLI_CONNECTING || c->st == VCLI_LOGIN)
		(*busy)++;
	else if (c->st == VCLI_CLOSED && *busy < IC_TLS_HANDSHAKES_PER_SOURCE &&
		 !vcli_open(c, tls_ctx, attack_port()))
		(*busy)++;
}

/* Log every member in over TLS, each with an identity of its own, and have each voice
 * address answered. 0 or -1. */
static int tls_login_all(void)
{
	static struct pollfd p[ATTACK_MEMBERS_MAX];
	double until = bench_mono() + LOGIN_MS / 1000.0 + attack_opt.members * 0.02;
	unsigned n = attack_opt.members, done = 0;

	if (!tls_ctx && !(tls_ctx = vcli_tls_ctx()))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		char nick[24];

		snprintf(nick, sizeof(nick), "Member%03u", i);
		mem[i].vc = calloc(1, sizeof(*mem[i].vc));
		if (!mem[i].vc || vcli_init(mem[i].vc, nick, "127.0.0.1", -1, true))
			return -1;
		mem[i].vc->on_voice = probe_got_one;
	}
	while (done < n && bench_mono() < until) {
		unsigned busy = 0;

		done = 0;
		for (unsigned i = 0; i < n; i++) {
			tls_login_step(i, &busy);
			p[i] = (struct pollfd){mem[i].vc->fd, vcli_events(mem[i].vc), 0};
			done += mem[i].vc->registered;
		}
		if (poll(p, n, 10) < 0)
			return -1;
		for (unsigned i = 0; i < n; i++) {
			if (p[i].revents)
				vcli_event(mem[i].vc, p[i].revents);
			vcli_udp(mem[i].vc);
		}
	}
	return done == n ? 0 : -1;
}

int attack_login_members(void)
{
	if (attack_server_tls())
		return tls_login_all() ? (fprintf(stderr, "bench_attack: the TLS members "
							  "could not all log in\n"),
					  -1)
				       : 0;
	for (unsigned i = 0; i < attack_opt.members; i++) {
		char nick[24];

		snprintf(nick, sizeof(nick), "Member%03u", i);
		if (attack_plain_login(&mem[i], nick, "127.0.0.1")) {
			fprintf(stderr, "bench_attack: member %u could not log in\n", i);
			return -1;
		}
	}
	return 0;
}

void attack_members_close(void)
{
	for (unsigned i = 0; i < ATTACK_MEMBERS_MAX; i++) {
		if (mem[i].vc) {
			vcli_free(mem[i].vc);
			free(mem[i].vc);
			mem[i].vc = NULL;
		}
		if (mem[i].fd > 0)
			close(mem[i].fd);
		if (mem[i].ufd > 0)
			close(mem[i].ufd);
		mem[i].fd = mem[i].ufd = 0;
	}
}

/* The talker (member 0) sends one packet carrying its send time. */
void attack_probe_send(void)
{
	uint8_t pkt[128], payload[80] = {0};
	struct attack_member *t = &mem[0];
	struct rtp_hdr h = {probe_sent == 0, IC_RTP_PT_OPUS, t->v.seq++, t->v.ts,
			    t->v.ssrc};
	double now = bench_mono();
	struct sockaddr_in a = bench_lo(t->uport);
	int n;

	memcpy(payload, &now, sizeof(now));
	if (t->vc) {
		vcli_voice_payload(t->vc, attack_port(), payload, sizeof(payload),
				   probe_sent == 0);
		probe_sent++;
		return;
	}
	t->v.ts += 960;
	n = rtp_pack(pkt, sizeof(pkt), &h, t->v.token, payload, sizeof(payload));
	if (n > 0 &&
	    sendto(t->ufd, pkt, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a)) == n)
		probe_sent++;
}

/* Everything waiting on the members' voice sockets: the talker's packets timed, the
 * rest counted in other_voice. */
static void voice_drain(void)
{
	for (unsigned i = 1; i < attack_opt.members; i++) {
		uint8_t buf[2048];
		ssize_t n;

		if (mem[i].vc) {
			vcli_udp(mem[i].vc);
			continue;
		}
		while ((n = recv(mem[i].ufd, buf, sizeof(buf), MSG_DONTWAIT)) >= 12)
			probe_got_one(NULL, buf, (size_t)n);
	}
}

/* Read up to max bytes of a plain member's lines now (0: all there is), noting #Lobby
 * lists and answering PINGs. */
static void tcp_take(struct attack_member *m, size_t max)
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

void attack_member_take(struct attack_member *m)
{
	tcp_take(m, 0);
}

/* Every member's lines: a plain one reads per_turn bytes, a TLS one what is there. */
static void lines_take(size_t per_turn)
{
	static struct pollfd p[ATTACK_MEMBERS_MAX];
	unsigned n = attack_opt.members;

	if (!mem[0].vc) {
		for (unsigned i = 0; i < n; i++)
			tcp_take(&mem[i], per_turn);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		p[i] = (struct pollfd){mem[i].vc->fd, vcli_events(mem[i].vc), 0};
	if (poll(p, n, 0) <= 0)
		return;
	for (unsigned i = 0; i < n; i++)
		if (p[i].revents)
			vcli_event(mem[i].vc, p[i].revents);
}

/* Until `until` (bench_mono's clock), take voice as it arrives: the delay measured is
 * the network's and the server's, not this loop's. */
static void wait_voice(double until)
{
	static struct pollfd pfd[ATTACK_MEMBERS_MAX];
	unsigned n = attack_opt.members;
	double now;

	for (unsigned i = 1; i < n; i++)
		pfd[i - 1] = (struct pollfd){attack_member_udp(&mem[i]), POLLIN, 0};
	while ((now = bench_mono()) < until) {
		if (poll(pfd, n - 1, (int)((until - now) * 1000) + 1) <= 0)
			return;
		voice_drain();
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

/* The figures of the window that ended at t1 (begun at t0). */
static void figures(const char *name, double t0, double t1, double cpu,
		    struct attack_figures *f)
{
	unsigned n = attack_opt.members;
	uint64_t bytes = 0, maxb = 0;

	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < n; i++) {
		f->dropped += attack_member_dropped(&mem[i]);
		bytes += mem[i].bytes;
		if (mem[i].bytes > maxb)
			maxb = mem[i].bytes;
	}
	qsort(delays, ndelays, sizeof(*delays), cmp_d);
	f->delivered =
	    probe_sent ? 100.0 * (double)probe_got / (double)(probe_sent * (n - 1)) : 0;
	f->p50 = pct(0.5);
	f->p99 = pct(0.99);
	f->server_cpu = 100 * cpu / (t1 - t0);
	printf("%-9s talker delivered %6.2f %%, delay p50 %.2f ms, p99 %.2f ms; members "
	       "dropped %u of %u; received %.1f kB/s each (max %.1f); other voice %.0f "
	       "pkt/s each; server CPU %.1f %%\n",
	       name, f->delivered, f->p50, f->p99, f->dropped, n,
	       (double)bytes / n / (t1 - t0) / 1000, (double)maxb / (t1 - t0) / 1000,
	       (double)other_voice / (n - 1) / (t1 - t0), f->server_cpu);
}

void attack_window(const char *name, void (*attack)(void *), void *arg, size_t per_turn,
		   struct attack_figures *f)
{
	struct attack_figures own;
	double t0 = bench_mono(), next = t0, t1, cpu0, cpu1;

	probe_sent = probe_got = other_voice = 0;
	ndelays = 0;
	for (unsigned i = 0; i < attack_opt.members; i++)
		mem[i].bytes = 0;
	cpu0 = bench_proc_cpu(attack_server_pid());
	while (bench_mono() - t0 < attack_opt.secs) {
		if (attack)
			attack(arg);
		if (bench_mono() >= next) {
			attack_probe_send();
			next += ATTACK_PROBE_MS / 1000.0;
		}
		voice_drain();
		lines_take(per_turn);
		wait_voice(bench_mono() + 0.010);
	}
	t1 = bench_mono();
	cpu1 = bench_proc_cpu(attack_server_pid());
	wait_voice(bench_mono() + 0.3); /* what is still on its way */
	figures(name, t0, t1, cpu1 - cpu0, f ? f : &own);
}
