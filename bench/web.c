/* bench_web: what intercom-web costs per browser user, on the real intercomd and gateway:
 * its memory (VmRSS) before and with N pages online, its CPU while a box talks to N
 * listening pages (the downlink: open, frame, TLS-seal for each page) and while one page
 * talks to the box (the uplink: TLS-open, unframe, seal, send), and the frames relayed,
 * for callgrind's instructions per frame (bench/web_cost.sh).
 *   bench_web [USERS] [SECONDS]        (default 50 users, 5 s a phase)
 * $GW_WRAP (a command, e.g. valgrind's) runs the gateway under it. Figures go to stdout.
 */
#include <errno.h>
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
#include "ws.h"
#include "wsclient.h"

#define USERS_MAX 64
#define FRAME_MS  20
#define OPUS_LEN  60 /* CBR 24 kbit/s, 20 ms: what the page's encoder makes */

static char dir[64];

/* Run argv to its end with its output in out; returns its exit status or -1. */
static int run(char *const argv[], char *out, size_t size)
{
	int p[2], st;
	pid_t pid;
	size_t n = 0;
	ssize_t r;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (n + 1 < size && (r = read(p[0], out + n, size - n - 1)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static pid_t start_gateway(unsigned srv_port, unsigned *port)
{
	static char sp[16], log[128], state[96];
	const char *wrap = getenv("GW_WRAP");
	char *argv[40];
	int n = 0;
	pid_t pid;

	snprintf(sp, sizeof(sp), "%u", srv_port);
	snprintf(log, sizeof(log), "%s/web.log", dir);
	snprintf(state, sizeof(state), "%s/web", dir);
	if (wrap) { /* split on spaces: the bench's own command, never outside input */
		static char w[512];
		snprintf(w, sizeof(w), "%s", wrap);
		for (char *t = strtok(w, " "); t && n < 20; t = strtok(NULL, " "))
			argv[n++] = t;
	}
	char *rest[] = {INTERCOM_WEB_PATH,
			"--config",
			"/dev/null",
			"--state-dir",
			state,
			"--server",
			"127.0.0.1",
			"--server-port",
			sp,
			"--name",
			"127.0.0.1",
			"--port",
			"0",
			"--http-port",
			"0",
			NULL};
	memcpy(argv + n, rest, sizeof(rest));
	pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "w", stderr);

		(void)f;
		execvp(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 3000; i++) { /* 30 s: callgrind starts slowly */
		char buf[4096] = "";
		FILE *f = fopen(log, "r");
		const char *p;

		if (f) {
			size_t r = fread(buf, 1, sizeof(buf) - 1, f);
			buf[r] = 0;
			fclose(f);
		}
		p = strstr(buf, "WebSocket on port ");
		if (p) {
			*port = (unsigned)atoi(p + 18);
			return pid;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	return -1;
}

static int enroll(unsigned port, int i, char *cookie)
{
	char name[16], out[8192], path[128], head[2048], state[96];
	const char *t, *c;

	snprintf(name, sizeof(name), "U%02d", i);
	snprintf(state, sizeof(state), "%s/web", dir);
	char *argv[] = {INTERCOM_WEB_PATH, "--config", "/dev/null", "--state-dir", state,
			"--add-user",	   name,       NULL};
	if (run(argv, out, sizeof(out)) || !(t = strstr(out, "/enroll?t=")))
		return -1;
	snprintf(path, sizeof(path), "/enroll?t=%.64s", t + 10);
	if (wsc_get(port, true, path, "", head, sizeof(head)) != 303 ||
	    !(c = strstr(head, "icw=")))
		return -1;
	snprintf(cookie, 65, "%s", c + 4);
	return 0;
}

/* Drain every page's frames; counts binary (voice) frames. */
static unsigned long drain(struct wsc *w, int n)
{
	unsigned long got = 0;
	int op;

	for (int i = 0; i < n; i++)
		while ((op = wsc_recv(&w[i], 0)) >= 0)
			got += op == WS_OP_BINARY;
	return got;
}

/* Pages [from, n) send line and wait for the answer starting with want. */
static int each(struct wsc *w, int from, int n, const char *line, const char *want)
{
	for (int i = from; i < n; i++)
		if (wsc_text(&w[i], line) || !wsc_expect_prefix(&w[i], want, 10000)) {
			fprintf(stderr, "bench_web: page %d: no %s\n", i, want);
			return -1;
		}
	return 0;
}

static int box_online(struct vcli *box, void *ctx, unsigned port)
{
	struct pollfd pf;
	double t0 = bench_mono();

	if (vcli_init(box, "Box", NULL, 0, true) || vcli_open(box, ctx, port))
		return -1;
	while (box->st != VCLI_ONLINE && bench_mono() - t0 < 30) {
		pf = (struct pollfd){box->fd, vcli_events(box), 0};
		if (poll(&pf, 1, 100) > 0)
			vcli_event(box, pf.revents);
		if (box->st == VCLI_CLOSED)
			return -1;
	}
	vcli_voice(box, port, 0, false); /* its voice address */
	return box->st == VCLI_ONLINE ? 0 : -1;
}

/* Nobody talks for secs: what n pages cost when idle (keepalives, pings, the loop). */
static void idle(struct wsc *w, int n, double secs, pid_t gw)
{
	double t0 = bench_mono(), c0 = bench_proc_cpu(gw);

	while (bench_mono() - t0 < secs) {
		drain(w, n);
		usleep(10000);
	}
	printf("idle: %d pages online, nobody talking: gateway CPU %.2f%% of a core\n", n,
	       100 * (bench_proc_cpu(gw) - c0) / (bench_mono() - t0));
}

/* The box talks (one packet each FRAME_MS) for secs; every page reads. */
static void downlink(struct vcli *box, unsigned port, struct wsc *w, int n, double secs,
		     pid_t gw)
{
	double t0 = bench_mono(), c0 = bench_proc_cpu(gw), next = t0;
	unsigned long sent = 0, got = 0;

	while (bench_mono() - t0 < secs) {
		if (bench_mono() >= next) {
			vcli_voice(box, port, OPUS_LEN, sent == 0);
			sent++;
			next += FRAME_MS / 1000.0;
		}
		got += drain(w, n);
		usleep(1000);
	}
	usleep(200000);
	got += drain(w, n);
	double cpu = bench_proc_cpu(gw) - c0, el = bench_mono() - t0;
	printf(
	    "downlink: a box talks to %d pages: %lu packets sent, %lu frames delivered "
	    "(%.1f%% of %lu); gateway CPU %.2f%% of a core, %.3f%% per listening page\n",
	    n, sent, got, 100.0 * (double)got / (double)(sent * (unsigned long)n),
	    sent * (unsigned long)n, 100 * cpu / el, 100 * cpu / el / n);
}

/* Page 0 talks for secs; the box hears. */
static void uplink(struct vcli *box, struct wsc *w, int n, double secs, pid_t gw)
{
	uint8_t frame[2 + OPUS_LEN] = {1, 1};
	double t0 = bench_mono(), c0 = bench_proc_cpu(gw), next = t0;
	unsigned long sent = 0;
	uint64_t got0 = box->got;

	while (bench_mono() - t0 < secs) {
		if (bench_mono() >= next) {
			frame[1] = sent == 0;
			wsc_send(&w[0], WS_OP_BINARY, frame, sizeof(frame));
			sent++;
			next += FRAME_MS / 1000.0;
		}
		struct pollfd pf = {box->ufd, POLLIN, 0};
		while (poll(&pf, 1, 0) > 0)
			vcli_udp(box);
		drain(w, n);
		usleep(1000);
	}
	usleep(200000);
	struct pollfd pf = {box->ufd, POLLIN, 0};
	while (poll(&pf, 1, 0) > 0)
		vcli_udp(box);
	double cpu = bench_proc_cpu(gw) - c0, el = bench_mono() - t0;
	printf("uplink: one page talks to the box (in a room of their own): %lu frames "
	       "sent, %llu "
	       "heard by the box; "
	       "gateway CPU %.2f%% of a core\n",
	       sent, (unsigned long long)(box->got - got0), 100 * cpu / el);
}

int main(int argc, char **argv)
{
	static struct wsc w[USERS_MAX];
	int n = argc > 1 ? atoi(argv[1]) : 50;
	double secs = argc > 2 ? atof(argv[2]) : 5;
	unsigned port = 0, gport;
	char log[128], cookie[80];
	const char *extra[] = {"--tls", "on", "--state-dir", NULL, NULL};
	char sdir[96];
	struct vcli box;
	pid_t srv, gw;
	double rss0, rss1;
	int rc = 1;

	if (n < 1 || n > USERS_MAX || !(secs > 0)) {
		fprintf(stderr, "usage: bench_web [USERS 1-%d] [SECONDS]\n", USERS_MAX);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/bench-web-%d", (int)getpid());
	snprintf(sdir, sizeof(sdir), "%s/srv", dir);
	snprintf(log, sizeof(log), "%s/intercomd.log", dir);
	extra[3] = sdir;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return 1;
	srv = bench_start_server(INTERCOMD_PATH, 256, log, extra, &port);
	gw = srv > 0 ? start_gateway(port, &gport) : -1;
	if (gw < 0) {
		fprintf(stderr,
			"bench_web: intercomd or intercom-web did not start (%s)\n", dir);
		goto out;
	}
	usleep(300000);
	rss0 = bench_proc_kb(gw, "VmRSS:");
	for (int i = 0; i < n; i++) {
		if (enroll(gport, i, cookie) ||
		    wsc_open(&w[i], gport, cookie, NULL) != 101 ||
		    !wsc_expect_prefix(&w[i], "WEB STATE online", 30000)) {
			fprintf(stderr, "bench_web: page %d did not get online\n", i);
			goto out;
		}
	}
	drain(w, n);
	rss1 = bench_proc_kb(gw, "VmRSS:");
	printf(
	    "memory: gateway VmRSS %.0f kB with no page, %.0f kB with %d pages online: "
	    "%.0f kB per browser user\n",
	    rss0, rss1, n, (rss1 - rss0) / n);
	if (box_online(&box, vcli_tls_ctx(), port)) {
		fprintf(stderr, "bench_web: the box did not get online\n");
		goto out;
	}
	idle(w, n, secs, gw);
	/* the box is in #r0: every page joins it to listen, then all but page 0 leave it,
	 * so that the uplink phase relays to the box alone */
	if (each(w, 0, n, "JOIN: #r0", "JOINED: #r0"))
		goto out;
	downlink(&box, port, w, n, secs, gw);
	if (each(w, 1, n, "PART: #r0", "PARTED: #r0"))
		goto out;
	uplink(&box, w, n, secs, gw);
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		if (w[i].fd > 0)
			wsc_close(&w[i]);
	if (gw > 0) {
		kill(gw, SIGTERM);
		waitpid(gw, NULL, 0);
	}
	if (srv > 0) {
		kill(srv, SIGTERM);
		waitpid(srv, NULL, 0);
	}
	if (getenv("GW_KEEP"))
		printf("files kept in %s\n", dir);
	else
		bench_rmtree(dir);
	return rc;
}
