/* impair: a link with faults between intercom clients and intercomd, in user space.
 *
 *   impair --listen ADDR:PORT --to ADDR:PORT [--seed N] [--loss P] [--burst P:LEN]
 *          [--delay MS] [--jitter MS] [--reorder P] [--dup P]
 *          [--flap-at S --flap-for S] [--duration S]
 *
 * It relays TCP connections (lines) and UDP datagrams (voice) from ADDR:PORT to the
 * server, one upstream UDP socket per client so the server sees each client apart, and
 * impairs the datagrams in both directions: random loss P (0-1); loss in bursts (a
 * Gilbert model with average loss P and mean burst LEN packets); a fixed delay plus a
 * uniform random one in [0, jitter] (packets overtake each other when their delays
 * differ by more than their spacing); reordering (P of the packets held back 45 ms more);
 * duplication (P sent twice). A flap cuts the link for a while: datagrams are dropped and
 * TCP stands still both ways, then everything resumes. Seeded: a run can be replayed.
 * Prints what it did on SIGTERM/SIGINT or at the end of --duration.
 *
 * The machine's kernel has no netem (CONFIG_NET_SCH_NETEM is off), so the tests shape
 * their links here instead; see docs/ROBUSTNESS.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FLOWS   64	 /* UDP clients */
#define MAX_PAIRS   64	 /* TCP connections */
#define MAX_PENDING 8192 /* datagrams waiting for their delay */
#define DGRAM_MAX   2048
#define TCP_BUF	    (64 * 1024)

struct flow {
	struct sockaddr_in client;
	int up; /* connected to the server */
};

struct pair {
	int fd[2];	      /* client, server */
	char buf[2][TCP_BUF]; /* buf[0]: client -> server */
	size_t len[2];
};

struct pending {
	uint64_t at;
	int fd;
	bool to_client;
	struct sockaddr_in to;
	size_t len;
	uint8_t data[DGRAM_MAX];
};

struct dir {
	bool bad; /* Gilbert state */
	uint64_t in, sent, lost, dups, held;
};

static struct {
	double loss, burst_p, dup, reorder;
	double burst_len;
	unsigned delay, jitter;
	double flap_at, flap_for, duration;
	uint64_t rng;
} opt = {.rng = 1};

static struct flow flows[MAX_FLOWS];
static int nflows;
static struct pair *pairs[MAX_PAIRS];
static struct pending *pend[MAX_PENDING];
static int npend;
static struct dir dirs[2]; /* 0: client -> server, 1: server -> client */
static uint64_t t0;
static volatile sig_atomic_t quit;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double rnd(void) /* xorshift64*: [0, 1) */
{
	opt.rng ^= opt.rng >> 12;
	opt.rng ^= opt.rng << 25;
	opt.rng ^= opt.rng >> 27;
	return (double)((opt.rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static bool flapping(uint64_t now)
{
	double t = (double)(now - t0) / 1000.0;

	return opt.flap_for > 0 && t >= opt.flap_at && t < opt.flap_at + opt.flap_for;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Decide a datagram's fate: queue it (maybe twice) or drop it. */
static void impair(int d, int fd, bool to_client, const struct sockaddr_in *to,
		   const uint8_t *data, size_t len, uint64_t now)
{
	struct dir *st = &dirs[d];
	int copies = 1;

	st->in++;
	if (flapping(now)) {
		st->lost++;
		return;
	}
	if (opt.burst_p > 0) {
		/* good -> bad with p, bad -> good with r = 1/len: loss p/(p+r) on average
		 */
		double r = 1.0 / opt.burst_len, p = opt.burst_p * r / (1.0 - opt.burst_p);

		st->bad = st->bad ? rnd() >= r : rnd() < p;
		if (st->bad) {
			st->lost++;
			return;
		}
	}
	if (opt.loss > 0 && rnd() < opt.loss) {
		st->lost++;
		return;
	}
	if (opt.dup > 0 && rnd() < opt.dup) {
		copies = 2;
		st->dups++;
	}
	for (int c = 0; c < copies && npend < MAX_PENDING; c++) {
		struct pending *p = malloc(sizeof(*p));
		uint64_t delay = opt.delay;

		if (!p)
			return;
		if (opt.jitter)
			delay += (uint64_t)(rnd() * (opt.jitter + 1));
		if (opt.reorder > 0 && rnd() < opt.reorder) {
			delay += 45;
			st->held++;
		}
		p->at = now + delay;
		p->fd = fd;
		p->to_client = to_client;
		if (to)
			p->to = *to;
		p->len = len;
		memcpy(p->data, data, len);
		pend[npend++] = p;
	}
}

static void send_due(uint64_t now)
{
	for (int i = 0; i < npend;) {
		struct pending *p = pend[i];

		if (p->at > now) {
			i++;
			continue;
		}
		if (p->to_client)
			sendto(p->fd, p->data, p->len, 0, (struct sockaddr *)&p->to,
			       sizeof(p->to));
		else
			send(p->fd, p->data, p->len, 0);
		dirs[p->to_client].sent++;
		free(p);
		pend[i] = pend[--npend];
	}
}

static struct flow *flow_for(const struct sockaddr_in *from,
			     const struct sockaddr_in *srv)
{
	for (int i = 0; i < nflows; i++) {
		if (flows[i].client.sin_addr.s_addr == from->sin_addr.s_addr &&
		    flows[i].client.sin_port == from->sin_port)
			return &flows[i];
	}
	if (nflows == MAX_FLOWS)
		return NULL;
	flows[nflows].client = *from;
	flows[nflows].up = socket(AF_INET, SOCK_DGRAM, 0);
	if (flows[nflows].up < 0 ||
	    connect(flows[nflows].up, (const struct sockaddr *)srv, sizeof(*srv)))
		return NULL;
	nonblock(flows[nflows].up);
	return &flows[nflows++];
}

/* Move bytes one way of a TCP pair; returns -1 when that side is done. */
static int pump(struct pair *p, int from)
{
	int to = !from;
	ssize_t n;

	if (p->len[from] < TCP_BUF) {
		n = recv(p->fd[from], p->buf[from] + p->len[from], TCP_BUF - p->len[from],
			 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return -1;
		if (n > 0)
			p->len[from] += (size_t)n;
	}
	if (p->len[from]) {
		n = send(p->fd[to], p->buf[from], p->len[from], MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (n > 0) {
			memmove(p->buf[from], p->buf[from] + n, p->len[from] - (size_t)n);
			p->len[from] -= (size_t)n;
		}
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: impair --listen ADDR:PORT --to ADDR:PORT [--seed N] "
		"[--loss P] [--burst P:LEN] [--delay MS] [--jitter MS] [--reorder P] "
		"[--dup P] [--flap-at S --flap-for S] [--duration S]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lis, srv;
	int tfd, ufd, one = 1;
	bool have_lis = false, have_srv = false;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return usage();
		if (!strcmp(argv[i], "--listen"))
			have_lis = !parse_addr(v, &lis);
		else if (!strcmp(argv[i], "--to"))
			have_srv = !parse_addr(v, &srv);
		else if (!strcmp(argv[i], "--seed"))
			opt.rng = strtoull(v, NULL, 10) * 2654435761u + 1;
		else if (!strcmp(argv[i], "--loss"))
			opt.loss = atof(v);
		else if (!strcmp(argv[i], "--burst")) {
			if (sscanf(v, "%lf:%lf", &opt.burst_p, &opt.burst_len) != 2 ||
			    opt.burst_len < 1 || opt.burst_p >= 1)
				return usage();
		} else if (!strcmp(argv[i], "--delay"))
			opt.delay = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--jitter"))
			opt.jitter = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--reorder"))
			opt.reorder = atof(v);
		else if (!strcmp(argv[i], "--dup"))
			opt.dup = atof(v);
		else if (!strcmp(argv[i], "--flap-at"))
			opt.flap_at = atof(v);
		else if (!strcmp(argv[i], "--flap-for"))
			opt.flap_for = atof(v);
		else if (!strcmp(argv[i], "--duration"))
			opt.duration = atof(v);
		else
			return usage();
		i++;
	}
	if (!have_lis || !have_srv)
		return usage();
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	tfd = socket(AF_INET, SOCK_STREAM, 0);
	ufd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (tfd < 0 || ufd < 0 || bind(tfd, (struct sockaddr *)&lis, sizeof(lis)) ||
	    listen(tfd, 64) || bind(ufd, (struct sockaddr *)&lis, sizeof(lis))) {
		perror("impair: cannot listen");
		return 1;
	}
	nonblock(tfd);
	nonblock(ufd);
	t0 = now_ms();
	printf("impair: ready\n");
	fflush(stdout);
	while (!quit) {
		struct pollfd pfd[2 + MAX_FLOWS + 2 * MAX_PAIRS];
		int n = 0, wait = 5;
		uint64_t now = now_ms();
		bool flap = flapping(now);

		if (opt.duration > 0 && now - t0 >= (uint64_t)(opt.duration * 1000))
			break;
		pfd[n++] = (struct pollfd){tfd, POLLIN, 0};
		pfd[n++] = (struct pollfd){ufd, POLLIN, 0};
		for (int i = 0; i < nflows; i++)
			pfd[n++] = (struct pollfd){flows[i].up, POLLIN, 0};
		for (int i = 0; i < MAX_PAIRS; i++) {
			if (!pairs[i])
				continue;
			for (int s = 0; s < 2; s++)
				pfd[n++] = (struct pollfd){pairs[i]->fd[s],
							   (short)(flap ? 0 : POLLIN), 0};
		}
		poll(pfd, (nfds_t)n, wait);
		now = now_ms();
		if (pfd[0].revents &
		    POLLIN) { /* a new TCP connection: connect it through */
			int c = accept(tfd, NULL, NULL), slot = -1;

			for (int i = 0; i < MAX_PAIRS && c >= 0; i++) {
				if (!pairs[i]) {
					slot = i;
					break;
				}
			}
			if (c >= 0 && slot >= 0 &&
			    (pairs[slot] = calloc(1, sizeof(struct pair)))) {
				int up = socket(AF_INET, SOCK_STREAM, 0);

				if (up < 0 ||
				    connect(up, (struct sockaddr *)&srv, sizeof(srv))) {
					close(c);
					if (up >= 0)
						close(up);
					free(pairs[slot]);
					pairs[slot] = NULL;
				} else {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one,
						   sizeof(one));
					setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one,
						   sizeof(one));
					nonblock(c);
					nonblock(up);
					pairs[slot]->fd[0] = c;
					pairs[slot]->fd[1] = up;
				}
			} else if (c >= 0) {
				close(c);
			}
		}
		for (;;) { /* client -> server datagrams */
			uint8_t buf[DGRAM_MAX];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t r = recvfrom(ufd, buf, sizeof(buf), 0,
					     (struct sockaddr *)&from, &fl);
			struct flow *f;

			if (r < 0)
				break;
			f = flow_for(&from, &srv);
			if (f)
				impair(0, f->up, false, NULL, buf, (size_t)r, now);
		}
		for (int i = 0; i < nflows; i++) { /* server -> client */
			uint8_t buf[DGRAM_MAX];
			ssize_t r;

			while ((r = recv(flows[i].up, buf, sizeof(buf), 0)) >= 0)
				impair(1, ufd, true, &flows[i].client, buf, (size_t)r,
				       now);
		}
		if (!flap) {
			for (int i = 0; i < MAX_PAIRS; i++) {
				if (pairs[i] &&
				    (pump(pairs[i], 0) || pump(pairs[i], 1))) {
					close(pairs[i]->fd[0]);
					close(pairs[i]->fd[1]);
					free(pairs[i]);
					pairs[i] = NULL;
				}
			}
		}
		send_due(now);
	}
	printf(
	    "impair: up %llu in, %llu sent, %llu lost, %llu duplicated, %llu held back; "
	    "down %llu in, %llu sent, %llu lost, %llu duplicated, %llu held back\n",
	    (unsigned long long)dirs[0].in, (unsigned long long)dirs[0].sent,
	    (unsigned long long)dirs[0].lost, (unsigned long long)dirs[0].dups,
	    (unsigned long long)dirs[0].held, (unsigned long long)dirs[1].in,
	    (unsigned long long)dirs[1].sent, (unsigned long long)dirs[1].lost,
	    (unsigned long long)dirs[1].dups, (unsigned long long)dirs[1].held);
	return 0;
}
