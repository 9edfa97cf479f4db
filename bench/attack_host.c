/* attack_host.c: bench_attack's scenarios of what one host may cost (server/guard.h),
 * over TLS 1.3 with the real intercomd. Each measures honest boxes logging in (each box
 * a host of its own, 127.0.1.x, with an identity of its own): how many get in, each
 * within IC_BENCH_LOGIN_MS, and how long each took, in a baseline window and then in
 * the attack's, in the same run.
 *
 *   slots     8 addresses (127.0.0.2-9) x 4 connections reopened as the server closes
 *             them: silent (never a byte), then slow (0x16 and nothing more: half
 *             handshakes), then 8 x 32 silent (the connection table nearly full)
 *   sessions  one address (127.0.0.2) logging in sessions with fresh keys, 4 at a time,
 *             holding every one that gets in: how many it holds, and the honest boxes
 *   registry  one address (127.0.0.3) logging in fresh keys under fresh nicks, one
 *             after the other: how many nicks it binds, and an honest box's after it
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attack.h"
#include "benchutil.h"
#include "vclient.h"

#define LOGIN_BOUND_MS 2000 /* the bound on an honest login under attack */
#define BOXES_AT_ONCE  4    /* honest logins in flight */
#define BOX_EVERY_S    0.05 /* a new honest login starts at most this often */
#define ADDRS	       8    /* the attacker's addresses */
#define CONNS_MAX      32   /* its connections per address, at most */
#define BOT_MAX	       64   /* the sessions attacker's clients */

static void *tls_ctx;

/* ---- honest boxes logging in ---- */

struct logins {
	unsigned tried, in_time, failed;
	double ms[4096];
	size_t n;
};

struct box {
	struct vcli c;
	double t0;
	bool used;
};

static struct box boxes[BOXES_AT_ONCE];
static unsigned box_seq;

static void box_start(struct box *b, struct logins *L)
{
	char nick[24], src[32];
	unsigned i = box_seq++;

	snprintf(nick, sizeof(nick), "Box%05u", i);
	snprintf(src, sizeof(src), "127.0.1.%u", 1 + i % 250);
	if (vcli_init(&b->c, nick, src, -1, true) ||
	    vcli_open(&b->c, tls_ctx, attack_port())) {
		vcli_free(&b->c);
		L->tried++;
		L->failed++;
		return;
	}
	b->t0 = bench_mono();
	b->used = true;
	L->tried++;
}

/* A box's login is over (in, refused, or past the bound): counted, closed. */
static void box_step(struct box *b, struct logins *L, double now)
{
	double ms = (now - b->t0) * 1e3;

	if (!b->used)
		return;
	if (b->c.st == VCLI_ONLINE) {
		if (L->n < sizeof(L->ms) / sizeof(L->ms[0]))
			L->ms[L->n++] = ms;
		L->in_time += ms <= LOGIN_BOUND_MS;
		L->failed += ms > LOGIN_BOUND_MS;
	} else if (b->c.st == VCLI_CLOSED || ms > LOGIN_BOUND_MS) {
		L->failed++;
	} else {
		return;
	}
	vcli_free(&b->c);
	b->used = false;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void logins_print(const char *name, struct logins *L)
{
	double p50 = 0, p99 = 0, max = 0;

	qsort(L->ms, L->n, sizeof(L->ms[0]), cmp_d);
	if (L->n) {
		p50 = L->ms[(L->n - 1) / 2];
		p99 = L->ms[(size_t)((double)(L->n - 1) * 0.99)];
		max = L->ms[L->n - 1];
	}
	printf("  %-28s honest logins %4u: %5.1f %% in within %d ms (login p50 %.1f ms, "
	       "p99 %.1f ms, max %.1f ms)\n",
	       name, L->tried, L->tried ? 100.0 * L->in_time / L->tried : 0.0,
	       LOGIN_BOUND_MS, p50, p99, max);
}

/* Honest boxes log in, BOXES_AT_ONCE at a time, one started every BOX_EVERY_S, for
 * attack_opt.secs, while turn(arg) (NULL: none) runs every pass of about 10 ms. */
static void logins_window(const char *name, void (*turn)(void *), void *arg)
{
	static struct logins L;
	double now = bench_mono(), until = now + attack_opt.secs, next = now;
	struct pollfd p[BOXES_AT_ONCE];

	memset(&L, 0, sizeof(L));
	while ((now = bench_mono()) < until + LOGIN_BOUND_MS / 1e3) {
		unsigned busy = 0;

		for (int i = 0; i < BOXES_AT_ONCE; i++) {
			box_step(&boxes[i], &L, now);
			if (!boxes[i].used && now < until && now >= next) {
				box_start(&boxes[i], &L);
				next = now + BOX_EVERY_S;
			}
			busy += boxes[i].used;
			p[i] = (struct pollfd){
			    boxes[i].used ? boxes[i].c.fd : -1,
			    boxes[i].used ? vcli_events(&boxes[i].c) : 0, 0};
		}
		if (!busy && now >= until)
			break;
		poll(p, BOXES_AT_ONCE, 10);
		for (int i = 0; i < BOXES_AT_ONCE; i++)
			if (boxes[i].used && p[i].revents)
				vcli_event(&boxes[i].c, p[i].revents);
		if (turn)
			turn(arg);
	}
	logins_print(name, &L);
}

static int start_tls(void)
{
	if (!tls_ctx && !(tls_ctx = vcli_tls_ctx()))
		return -1;
	return attack_start_server(true, NULL);
}

/* The server's totals line as it stopped: what its guards did. */
static void print_totals(void)
{
	char line[4096];
	FILE *f = fopen(attack_server_log(), "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *at = strstr(line, "totals: ");

		if (at && (at = strstr(at, "TLS: ")))
			printf("  server: %s", at);
	}
	fclose(f);
}

/* ---- slots: silent and slow connections from 8 addresses ---- */

struct slots {
	int fd[ADDRS][CONNS_MAX];
	unsigned per_addr;
	bool half;	   /* send 0x16 and stop: a half handshake */
	unsigned reopened; /* connections the server closed, opened again */
};

static void slot_open(struct slots *s, int a, int i)
{
	char from[32];

	snprintf(from, sizeof(from), "127.0.0.%d", 2 + a);
	s->fd[a][i] = attack_connect_from(from, SOCK_STREAM);
	if (s->fd[a][i] >= 0 && s->half)
		(void)send(s->fd[a][i], "\x16", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Every connection the server closed is opened again at once. */
static void slots_turn(void *arg)
{
	struct slots *s = arg;

	for (int a = 0; a < ADDRS; a++) {
		for (unsigned i = 0; i < s->per_addr; i++) {
			char b[64];
			ssize_t n = s->fd[a][i] < 0
					? 0
					: recv(s->fd[a][i], b, sizeof(b), MSG_DONTWAIT);

			if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
				continue;
			if (s->fd[a][i] >= 0)
				close(s->fd[a][i]);
			slot_open(s, a, (int)i);
			s->reopened++;
		}
	}
}

static void slots_run(const char *name, unsigned per_addr, bool half)
{
	static struct slots s;

	memset(&s, 0, sizeof(s));
	s.per_addr = per_addr;
	s.half = half;
	for (int a = 0; a < ADDRS; a++)
		for (unsigned i = 0; i < per_addr; i++)
			slot_open(&s, a, (int)i);
	logins_window(name, slots_turn, &s);
	printf("  %-28s attacker connections reopened after the server closed them: %u\n",
	       "", s.reopened);
	for (int a = 0; a < ADDRS; a++)
		for (unsigned i = 0; i < per_addr; i++)
			if (s.fd[a][i] >= 0)
				close(s.fd[a][i]);
}

int attack_run_slots(void)
{
	/* the building's boxes are in (attack_opt.members of them, from the trusted
	 * 127.0.0.1): with 8 x 32 silent connections the table is then full */
	if (start_tls() || attack_login_members())
		return -1;
	printf("slots (TLS, one host on 8 addresses; %u members logged in):\n",
	       attack_opt.members);
	logins_window("baseline", NULL, NULL);
	slots_run("8 x 4 silent", 4, false);
	slots_run("8 x 4 half handshakes", 4, true);
	slots_run("8 x 32 silent", 32, false);
	attack_stop_server();
	print_totals();
	return 0;
}

/* ---- sessions: one address logging in fresh keys ---- */

struct bots {
	struct vcli c[BOT_MAX];
	unsigned seq, refused;
	const char *from;
	bool hold; /* keep what gets in (sessions); else close it (registry) */
	unsigned online, bound;
};

/* One pass of the attacker's clients: at most IC_TLS_HANDSHAKES_PER_SOURCE logins in
 * flight (more would only be refused by the handshake bound), each with a fresh key
 * and nick; what gets in is kept (or closed, counted); what is closed tries again. */
static void bots_turn(void *arg)
{
	struct bots *b = arg;
	struct pollfd p[BOT_MAX];
	unsigned flight = 0;

	b->online = 0;
	for (int i = 0; i < BOT_MAX; i++) {
		struct vcli *c = &b->c[i];

		if (c->st == VCLI_ONLINE && !b->hold) {
			b->bound += c->bound;
			vcli_free(c);
			c->st = VCLI_CLOSED;
			c->key = NULL;
		}
		b->online += c->st == VCLI_ONLINE;
		flight += c->st == VCLI_CONNECTING || c->st == VCLI_LOGIN;
	}
	for (int i = 0; i < BOT_MAX && flight < IC_TLS_HANDSHAKES_PER_SOURCE; i++) {
		struct vcli *c = &b->c[i];
		char nick[24];

		if (c->st != VCLI_CLOSED)
			continue;
		if (c->key) /* it was refused: a new key, a new nick */
			b->refused++;
		vcli_free(c);
		snprintf(nick, sizeof(nick), "Atk%05u", b->seq++);
		if (vcli_init(c, nick, b->from, -1, true))
			continue;
		c->quiet = true;
		if (!vcli_open(c, tls_ctx, attack_port()))
			flight++;
	}
	for (int i = 0; i < BOT_MAX; i++)
		p[i] = (struct pollfd){b->c[i].fd, vcli_events(&b->c[i]), 0};
	poll(p, BOT_MAX, 0);
	for (int i = 0; i < BOT_MAX; i++)
		if (p[i].revents)
			vcli_event(&b->c[i], p[i].revents);
}

/* No client yet, from `from`; hold: keep the sessions that get in. */
static void bots_init(struct bots *b, const char *from, bool hold)
{
	memset(b, 0, sizeof(*b));
	for (int i = 0; i < BOT_MAX; i++)
		b->c[i].fd = b->c[i].ufd = -1;
	b->from = from;
	b->hold = hold;
}

static void bots_free(struct bots *b)
{
	for (int i = 0; i < BOT_MAX; i++)
		vcli_free(&b->c[i]);
}

int attack_run_sessions(void)
{
	static struct bots b;

	if (start_tls())
		return -1;
	bots_init(&b, "127.0.0.2", true);
	printf("sessions (TLS, one address logging in fresh keys, holding each):\n");
	logins_window("baseline", NULL, NULL);
	logins_window("one address's sessions", bots_turn, &b);
	printf("  %-28s the attacker holds %u sessions of the %d it tries to hold (bound "
	       "%d per address); %u logins refused\n",
	       "", b.online, BOT_MAX, IC_SESSIONS_PER_SOURCE, b.refused);
	bots_free(&b);
	attack_stop_server();
	print_totals();
	return 0;
}

/* ---- registry: one address binding fresh nicks ---- */

int attack_run_registry(void)
{
	static struct bots b;
	static struct logins L;
	struct box after;
	double fill_h;

	if (start_tls())
		return -1;
	bots_init(&b, "127.0.0.3", false);
	printf("registry (TLS, one address logging in fresh keys under fresh nicks):\n");
	logins_window("baseline", NULL, NULL);
	logins_window("one address's new nicks", bots_turn, &b);
	bots_turn(&b); /* those that got in last */
	/* past the hourly bound the window's rate says nothing: the hour's does */
	fill_h = b.bound > IC_BINDS_PER_SOURCE
		     ? IC_REGISTRY_MAX / (b.bound / attack_opt.secs) / 3600
		     : (double)IC_REGISTRY_MAX / IC_BINDS_PER_SOURCE;
	printf("  %-28s the attacker logged in %u nicks, %u bound (bound %d an hour per "
	       "address): filling the %d-nick registry from it takes %.3g hours\n",
	       "", b.seq - b.refused, b.bound, IC_BINDS_PER_SOURCE, IC_REGISTRY_MAX,
	       fill_h);
	/* a box on another address binds its nick after it */
	memset(&L, 0, sizeof(L));
	memset(&after, 0, sizeof(after));
	box_start(&after, &L);
	while (after.used && after.c.st != VCLI_ONLINE &&
	       bench_mono() < after.t0 + LOGIN_BOUND_MS / 1e3) {
		struct pollfd p = {after.c.fd, vcli_events(&after.c), 0};

		if (poll(&p, 1, 10) > 0)
			vcli_event(&after.c, p.revents);
	}
	printf("  %-28s an honest box after it: %s\n", "",
	       after.c.st == VCLI_ONLINE && after.c.bound ? "in, its nick bound"
	       : after.c.st == VCLI_ONLINE		  ? "in, NOT bound"
							  : "NOT in");
	if (after.used)
		vcli_free(&after.c);
	bots_free(&b);
	attack_stop_server();
	print_totals();
	return 0;
}
