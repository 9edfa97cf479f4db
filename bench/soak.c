/* soak: the real intercomd under a seeded, reproducible mix of logins, joins, parts,
 * room messages, instant messages, calls and disconnects from N protocol clients, while
 * K talkers send voice without a pause, for a set time. It checks, and exits 1 if any
 * fails:
 *   - every PRIVMSG and TALK line addressed to a live client arrives there exactly once
 *     and in order (each action waits for the server's answer to a PING from its actor,
 *     so the expected order is known);
 *   - every voice packet a talker sends while a listener's voice room is the talker's
 *     (the listener registered, not in a call) arrives at that listener exactly once;
 *   - the server never drops a client the mix did not disconnect, and never crashes;
 *   - after everyone leaves, the server's resident memory is back within the margin
 *     docs/ROBUSTNESS.md documents (RSS_MARGIN_KB of where it started).
 *
 *   soak [-n CLIENTS] [-k TALKERS] [-d SECONDS] [-s SEED] [--rss-margin KB]
 *        [--server PATH] [--plain]
 *
 * The clients speak TLS 1.3 with identities of their own and seal their voice (1.1),
 * and every copy the server seals for one must open under its key, once; --plain runs
 * protocol 1.0 against --tls off. Prints progress every 10 s and a summary. A short run
 * is a ctest entry; the long one (1000 clients, 10 minutes) is in docs/ROBUSTNESS.md. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "soak.h"
#include "tlsctx.h"

#ifndef INTERCOMD_PATH
#define INTERCOMD_PATH "intercomd"
#endif

#define ROOMS	      20   /* text rooms #r0..#r19 besides the talkers' #v0.. */
#define RSS_MARGIN_KB 2048 /* back within this of the start after everyone leaves */
/* (--rss-margin KB changes it; 0 skips the check, for a sanitizer build whose quarantine
 * keeps freed memory on purpose) */

static uint64_t rng = 88172645463325252ull;
static char filler[301];

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int pick(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

/* join a talker's room or a text room */
static bool act_join(struct client *c)
{
	char room[IC_ROOM_MAX + 1];

	if (c->nrooms == IC_ROOMS_PER_CLIENT)
		return false;
	if (pick(2) && n_talkers)
		snprintf(room, sizeof(room), "#v%d", pick(n_talkers));
	else
		snprintf(room, sizeof(room), "#r%d", pick(ROOMS));
	do_join(c, room);
	return true;
}

/* part one of its rooms */
static bool act_part(struct client *c)
{
	char room[IC_ROOM_MAX + 1];

	if (!c->nrooms)
		return false;
	snprintf(room, sizeof(room), "%s", c->rooms[pick(c->nrooms)]);
	voice_pause(c, bench_mono());
	take_tokens(c, 1);
	send_line(c, "PART: %s", room);
	if (barrier(c)) {
		room_del(c, room);
		voice_window(c, bench_mono());
	}
	return true;
}

/* a room message to every other member */
static bool act_room_msg(struct client *c)
{
	static unsigned id;
	char room[IC_ROOM_MAX + 1], text[IC_LINE_MAX];

	if (!c->nrooms)
		return false;
	snprintf(room, sizeof(room), "%s", c->rooms[pick(c->nrooms)]);
	snprintf(text, sizeof(text), "room %u %.*s", ++id, pick(300), filler);
	for (int i = 0; i < n_clients; i++) {
		if (&cl[i] != c && cl[i].st == ON && in_room(&cl[i], room))
			expect(&cl[i], "PRIVMSG %s %s: %s", room, c->nick, text);
	}
	take_tokens(c, 1);
	send_line(c, "PRIVMSG %s: %s", room, text);
	barrier(c);
	return true;
}

/* an instant message, maybe to itself */
static bool act_im(struct client *c)
{
	static unsigned id;
	struct client *to = &cl[pick(n_clients)];

	if (to->st != ON)
		return false;
	id++;
	expect(to, "PRIVMSG %s: im %u", c->nick, id);
	take_tokens(c, 1);
	send_line(c, "PRIVMSG %s: im %u", to->nick, id);
	barrier(c);
	return true;
}

/* a call: request and accept */
static bool act_call(struct client *c)
{
	struct client *to = &cl[n_talkers + pick(n_clients - n_talkers)];

	if (to == c || to->st != ON || c->peer >= 0 || to->peer >= 0)
		return false;
	expect(to, "TALK %s: Request", c->nick);
	take_tokens(c, 1);
	send_line(c, "TALK %s: Request", to->nick);
	if (!barrier(c))
		return true;
	expect(c, "TALK %s: Accept", to->nick);
	voice_pause(c, bench_mono());
	voice_pause(to, bench_mono());
	take_tokens(to, 1);
	send_line(to, "TALK %s: Accept", c->nick);
	if (barrier(to)) {
		c->peer = to->idx;
		to->peer = c->idx;
		voice_window(c, bench_mono());
		voice_window(to, bench_mono());
	}
	return true;
}

/* end its call */
static bool act_end(struct client *c)
{
	struct client *to;

	if (c->peer < 0)
		return false;
	to = &cl[c->peer];
	expect(to, "TALK %s: End", c->nick);
	voice_pause(c, bench_mono());
	voice_pause(to, bench_mono());
	take_tokens(c, 1);
	send_line(c, "TALK %s: End", to->nick);
	if (barrier(c)) {
		c->peer = to->peer = -1;
		voice_window(c, bench_mono());
		voice_window(to, bench_mono());
	}
	return true;
}

static bool act_disconnect(struct client *c)
{
	double until = bench_mono() + WAIT_S;
	struct client *to = c->peer >= 0 ? &cl[c->peer] : NULL;

	voice_pause(c, bench_mono());
	if (to) { /* its call ends with it: the peer is told */
		expect(to, "TALK %s: End", c->nick);
		voice_pause(to, bench_mono());
	}
	c->closing = true;
	take_tokens(c, 1);
	send_line(c, "DISCONNECT");
	while (c->fd >= 0 && bench_mono() < until)
		pump(20);
	if (c->fd >= 0) {
		fail("%s: DISCONNECT did not close the connection", c->nick);
		close_client(c);
	}
	c->peer = -1;
	if (to) {
		to->peer = -1;
		voice_window(to, bench_mono());
	}
	return true;
}

/* The mix: an online client's action by weight (out of 100); returns false when it
 * does not apply (nothing counted). An offline client logs in. */
static const struct action {
	const char *name;
	int weight;
	bool (*run)(struct client *c);
} mix[] = {
    {"join", 25, act_join},
    {"part", 15, act_part},
    {"room msg", 25, act_room_msg},
    {"IM", 15, act_im},
    {"call", 8, act_call},
    {"end call", 5, act_end},
    {"disconnect", 7, act_disconnect},
};
#define N_MIX (sizeof(mix) / sizeof(mix[0]))
static uint64_t done[N_MIX + 1]; /* [0]: logins */

static void random_action(struct client *c)
{
	int w = pick(100);

	if (c->st == OFF) {
		done[0]++;
		if (login(c))
			voice_window(c, bench_mono());
		return;
	}
	for (size_t i = 0; i < N_MIX; w -= mix[i++].weight) {
		if (w < mix[i].weight) {
			done[i + 1] += mix[i].run(c);
			return;
		}
	}
}

struct opts {
	const char *server;
	double secs, rss_margin;
	uint64_t seed;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	int n = 60, k = 4;

	*o = (struct opts){INTERCOMD_PATH, 20, RSS_MARGIN_KB, 1};
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(argv[i], "-n"))
			n = atoi(v), i++;
		else if (!strcmp(argv[i], "-k"))
			k = atoi(v), i++;
		else if (!strcmp(argv[i], "-d"))
			o->secs = atof(v), i++;
		else if (!strcmp(argv[i], "-s"))
			o->seed = strtoull(v, NULL, 10), i++;
		else if (!strcmp(argv[i], "--rss-margin"))
			o->rss_margin = atof(v), i++;
		else if (!strcmp(argv[i], "--server"))
			o->server = v, i++;
		else if (!strcmp(argv[i], "--plain"))
			plain = true;
		else {
			fprintf(
			    stderr,
			    "usage: soak [-n CLIENTS] [-k TALKERS] [-d SECONDS] "
			    "[-s SEED] [--rss-margin KB] [--server PATH] [--plain]\n");
			return -1;
		}
	}
	if (n < 2 || n > IC_CLIENTS_MAX || k < 0 || k > 255 || k >= n) {
		fprintf(stderr, "soak: 2-%d clients, fewer talkers (at most 255)\n",
			IC_CLIENTS_MAX);
		return -1;
	}
	n_clients = n;
	n_talkers = k;
	return 0;
}

/* The mix for secs, with progress every 10 s; returns the server's peak RSS seen. */
static double run_mix(pid_t pid, double secs, double t0)
{
	double end = bench_mono() + secs, next_report = bench_mono() + 10, peak = 0;

	while (bench_mono() < end) {
		random_action(&cl[n_talkers + pick(n_clients - n_talkers)]);
		pump(0);
		if (bench_mono() >= next_report) {
			double rss = bench_proc_kb(pid, "VmRSS:");
			int on = 0;

			for (int i = 0; i < n_clients; i++)
				on += cl[i].st == ON;
			if (rss > peak)
				peak = rss;
			printf("soak: %4.0f s: %d online, %llu lines checked, %llu voice "
			       "packets judged, %llu failures, server RSS %.0f KiB\n",
			       bench_mono() - t0, on, (unsigned long long)lines_checked,
			       (unsigned long long)voice_judged,
			       (unsigned long long)errors, rss);
			fflush(stdout);
			next_report += 10;
		}
	}
	return peak;
}

/* Let what is in flight arrive, judge the last windows, then everyone leaves. */
static void leave_all(void)
{
	for (double until = bench_mono() + 1; bench_mono() < until;)
		pump(20);
	for (int i = 0; i < n_clients; i++) {
		if (cl[i].elen)
			fail("%s: %u lines never arrived (first: %s)", cl[i].nick,
			     cl[i].elen, cl[i].expect[cl[i].ehead]);
		voice_window(&cl[i], bench_mono());
	}
	n_talkers = 0; /* stop talking */
	tearing_down = true;
	for (int i = 0; i < n_clients; i++) {
		if (cl[i].st == ON) {
			cl[i].closing = true;
			expect_clear(&cl[i]);
			if (cl[i].peer >= 0) {
				cl[cl[i].peer].peer = -1;
				cl[i].peer = -1;
			}
			send_line(&cl[i], "DISCONNECT");
		}
	}
	for (double until = bench_mono() + WAIT_S; bench_mono() < until;) {
		int on = 0;

		for (int i = 0; i < n_clients; i++) {
			on += cl[i].fd >= 0;
			if (cl[i].fd >= 0)
				expect_clear(
				    &cl[i]); /* End lines of calls torn down now */
		}
		if (!on)
			break;
		pump(20);
	}
}

static void report(double t0, double rss0, double rss_peak, double rss_end, double margin)
{
	uint64_t total = 0;

	for (size_t i = 0; i <= N_MIX; i++)
		total += done[i];
	printf("soak: %.0f s, %llu actions: login %llu", bench_mono() - t0,
	       (unsigned long long)total, (unsigned long long)done[0]);
	for (size_t i = 0; i < N_MIX; i++)
		printf(", %s %llu", mix[i].name, (unsigned long long)done[i + 1]);
	printf(
	    "\nsoak: lines: %llu checked, each arrived once and in order unless listed "
	    "above\n",
	    (unsigned long long)lines_checked);
	printf(
	    "soak: voice: %llu sent, %llu received, %llu judged (to a live member of the "
	    "talker's room), %llu missing, %llu duplicated, %llu in flight across a "
	    "change\n",
	    (unsigned long long)voice_sent, (unsigned long long)voice_got,
	    (unsigned long long)voice_judged, (unsigned long long)voice_missing,
	    (unsigned long long)voice_dups, (unsigned long long)voice_stray);
	printf("soak: server RSS: %.0f KiB at start, %.0f KiB at peak, %.0f KiB after "
	       "everyone left (margin %.0f KiB)\n",
	       rss0, rss_peak, rss_end, margin);
	if (voice_dups)
		fail("%llu voice packets arrived twice", (unsigned long long)voice_dups);
	printf("soak: %llu passed, %llu failed\n", (unsigned long long)(errors ? 0 : 1),
	       (unsigned long long)(errors ? 1 : 0));
}

static pid_t start_server(const char *server, const char *logpath, const char *state_dir)
{
	const char *extra[] = {
	    "--max-pending-per-source", "0", "--state-dir", state_dir, "--tls",
	    plain ? "off" : "on",	NULL};

	return bench_start_server(server, (unsigned)n_clients, logpath, extra, &port);
}

int main(int argc, char **argv)
{
	struct opts o;
	double t0, rss0, rss_peak, rss_end = 0;
	char logpath[64], state_dir[64];
	struct rlimit rl;
	pid_t pid;
	int status;

	if (parse_args(argc, argv, &o))
		return 2;
	rng ^= o.seed * 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < 300; i++)
		filler[i] = (char)('a' + i % 26);
	/* two sockets a client: raise the descriptor limit to what the system allows */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	tls_ctx = plain ? NULL : vcli_tls_ctx();
	if ((!plain && !tls_ctx) || clients_alloc(n_clients, n_talkers))
		return 1;
	snprintf(logpath, sizeof(logpath), "/tmp/soak-%d.log", (int)getpid());
	snprintf(state_dir, sizeof(state_dir), "/tmp/soak-%d-state", (int)getpid());
	pid = start_server(o.server, logpath, state_dir);
	if (pid < 0) {
		fprintf(stderr, "soak: %s did not start (see %s)\n", o.server, logpath);
		return 1;
	}
	rss0 = bench_proc_kb(pid, "VmRSS:");
	printf("soak: %s, %d clients (%d talking without a pause), %.0f s, seed %llu\n",
	       o.server, n_clients, n_talkers, o.secs, (unsigned long long)o.seed);
	t0 = bench_mono();
	next_voice = t0;
	for (int t = 0; t < n_talkers; t++) { /* talkers: in, and into their own room */
		char room[16];

		if (login(&cl[t])) {
			snprintf(room, sizeof(room), "#v%d", t);
			do_join(&cl[t], room);
		}
	}
	rss_peak = run_mix(pid, o.secs, t0);
	leave_all();
	/* the server gives freed heap back at most once a second (trim_heap): look for
	 * up to 3 s (TLS sessions leave more of it, in more pieces) */
	for (int i = 0; i < 30; i++) {
		usleep(100000);
		rss_end = bench_proc_kb(pid, "VmRSS:");
		if (o.rss_margin <= 0 || rss_end <= rss0 + o.rss_margin)
			break;
	}
	if (bench_proc_kb(pid, "VmHWM:") > rss_peak)
		rss_peak = bench_proc_kb(pid, "VmHWM:");
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	bench_rmtree(state_dir);
	clients_free();
	tlsctx_free(tls_ctx);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("intercomd did not exit cleanly (status 0x%x; log %s)", status,
		     logpath);
	if (o.rss_margin > 0 && rss_end > rss0 + o.rss_margin)
		fail("server RSS %.0f KiB after everyone left, started at %.0f KiB",
		     rss_end, rss0);
	report(t0, rss0, rss_peak, rss_end, o.rss_margin);
	return errors ? 1 : 0;
}
