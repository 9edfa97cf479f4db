/* bench_latency: mouth-to-ear delay and push-to-talk access time through the real
 * intercomd and two real intercom clients in files mode, over many presses.
 *
 *   bench_latency [-r RUNS] [-p PRESSES] [-f 20|10|10:20|20:10]
 *
 * (default 5 runs x 10 presses of each: 20 ms, 10 ms, a 10 ms talker heard by a 20 ms
 * listener and the other way round; TALK:EAR names the talker's and the listener's
 * frame sizes.)
 *
 * Each run starts a listener and a talker. The talker's capture WAV is silence with one
 * click per press, 150 ms after it and at a different place in the frame each time; its
 * push-to-talk is scripted (--talk-after, --talk-for, --talk-every, a period that is not
 * a whole number of frames). Both clients log their audio clock's start and, with
 * --verbose, when each talk spurt's first packet was sent, arrived and was played.
 *
 * Sample i of the capture file enters capture at talker_t0 + i/48 ms (the frame that
 * holds it is complete then); sample j of the playback file leaves playback at
 * listener_t0 + j/48 ms + one frame (files mode writes a frame at the end of the period
 * it covers; a card with no queue would start playing it then). Each click's onset is
 * found in both files, so the total is measured from the audio itself; the parts come
 * from the logs: the frame (the encoder needs all of it), Opus look-ahead,
 * network + server (sent -> arrived), jitter buffer (arrived -> played), and what is
 * left (the clock readings are whole milliseconds). Runs differ in the phase between the
 * two clients' frame clocks, which is what the jitter buffer's hold depends on. Runs
 * take about (PRESSES x 0.6 + 2) s each. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "clickmatch.h"
#include "wav.h"

#define RATE	    48	  /* samples per ms */
#define TALK_AFTER  1.0	  /* s: both logged in and the voice path open */
#define TALK_FOR    0.3	  /* s held per press */
#define TALK_EVERY  0.613 /* s between presses: not a whole number of frames */
#define CLICK_AT    150	  /* ms after the press */
#define MAX_PRESSES 200
#define SEARCH_MS   300 /* where an output click is looked for, after the input one */
#define ONSET	    0.3 /* the onset: the first sample at 30 % of the click's peak */

struct run_log {
	long long t0, look_x10; /* look-ahead in tenths of ms */
	long long ev[4][MAX_PRESSES];
	int nev[4];
};

enum { EV_PRESS, EV_SENT, EV_ARRIVED, EV_PLAYED };

static const char *const ev_text[] = {
    "push-to-talk pressed (scripted) at ",
    "talk spurt's first packet sent at ",
    "talk spurt's first packet arrived at ",
    "its first frame played at ",
};

static int parse_log(const char *path, struct run_log *l)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f)
		return -errno;
	memset(l, 0, sizeof(*l));
	l->t0 = -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p;
		double la;

		if ((p = strstr(line, "audio clock started at ")))
			l->t0 = atoll(p + strlen("audio clock started at "));
		if ((p = strstr(line, "opus look-ahead ")) &&
		    sscanf(p, "opus look-ahead %lf", &la) == 1)
			l->look_x10 = llround(la * 10);
		for (int e = 0; e < 4; e++) {
			if ((p = strstr(line, ev_text[e])) && l->nev[e] < MAX_PRESSES)
				l->ev[e][l->nev[e]++] = atoll(p + strlen(ev_text[e]));
		}
	}
	fclose(f);
	return l->t0 < 0 ? -EINVAL : 0;
}

static int16_t *load_wav(const char *path, size_t *n)
{
	char err[256];
	int16_t *buf;

	if (wav_load(path, &buf, n, err, sizeof(err))) {
		fprintf(stderr, "bench_latency: %s\n", err);
		return NULL;
	}
	return buf;
}

/* The click's onset in pcm[from, to): the first sample at ONSET of the peak there, or -1
 * when nothing stands out of silence. */
static long onset(const int16_t *pcm, size_t n, long from, long to)
{
	int peak = 0;

	if (from < 0)
		from = 0;
	if (to > (long)n)
		to = (long)n;
	for (long i = from; i < to; i++)
		peak = abs(pcm[i]) > peak ? abs(pcm[i]) : peak;
	if (peak < 1000)
		return -1;
	for (long i = from; i < to; i++) {
		if (abs(pcm[i]) >= ONSET * peak)
			return i;
	}
	return -1;
}

static pid_t spawn(char *const argv[], const char *logpath)
{
	pid_t pid = fork();

	if (pid == 0) {
		FILE *f = freopen(logpath, "w", stderr);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!f)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait up to 10 s for `what` in the log at path (a client online before the other
 * talks: an order, never a guess of how long it takes). False if it never came. */
static bool wait_log(const char *path, const char *what)
{
	char buf[1 << 14];

	for (int tries = 0; tries < 1000; tries++) {
		FILE *f = fopen(path, "r");
		size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[len] = '\0';
		if (strstr(buf, what))
			return true;
		usleep(10000);
	}
	return false;
}

static int wait_ok(pid_t pid)
{
	int st;

	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0;
}

/* The talker's and the listener's frame sizes. */
struct pair {
	unsigned talk_ms, ear_ms;
};

/* Results of every press of one pair. */
struct series {
	unsigned n;
	double total[MAX_PRESSES * 20], access[MAX_PRESSES * 20], net[MAX_PRESSES * 20],
	    hold[MAX_PRESSES * 20], rest[MAX_PRESSES * 20];
	double look;
	unsigned missed;
};

static int write_clicks(const char *path, unsigned presses, unsigned frame_ms,
			double secs)
{
	char err[256];
	size_t n = (size_t)(secs * 1000 * RATE);
	int16_t *pcm = calloc(n, sizeof(*pcm));
	int e;

	if (!pcm)
		return -ENOMEM;
	for (unsigned k = 0; k < presses; k++) {
		/* a different place in the frame each press: 0.7 frames apart, wrapped */
		double at = (TALK_AFTER + k * TALK_EVERY) * 1000 + CLICK_AT +
			    fmod(k * 0.7 * frame_ms, frame_ms);
		size_t s0 = (size_t)(at * RATE);

		click_put(pcm, n, s0);
	}
	e = wav_save(path, pcm, n, err, sizeof(err));
	free(pcm);
	return e;
}

/* A run's log to stderr, to see why a press was missed where only the output
 * survives (a CI log). */
static void dump_log(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	fprintf(stderr, "---- %s\n", path);
	while (f && fgets(line, sizeof(line), f))
		fputs(line, stderr);
	if (f)
		fclose(f);
}

static bool verbose;
static bool keep; /* a press was missed: the files stay for a look */

static int one_run(const char *dir, unsigned port, unsigned run, unsigned runs,
		   unsigned presses, struct pair fp, struct series *s)
{
	unsigned frame_ms = fp.talk_ms;
	char in[300], out[300], mlog[300], elog[300], sd_m[300], sd_e[300], portarg[32],
	    fm[8], fe[8], ex_m[16], ex_e[16], every[16], after[16], hold_for[16],
	    nick_m[16], nick_e[16];
	double secs = TALK_AFTER + presses * TALK_EVERY + 0.5;
	struct run_log m, e;
	int16_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	pid_t ear, mouth;
	unsigned missed_before = s->missed;
	int err = -1;

	snprintf(in, sizeof(in), "%s/in.wav", dir);
	snprintf(out, sizeof(out), "%s/out.wav", dir);
	snprintf(mlog, sizeof(mlog), "%s/mouth.log", dir);
	snprintf(elog, sizeof(elog), "%s/ear.log", dir);
	/* each box its identity and known_servers (the server's key, trusted on first
	 * use) in the run's directory; one per sub-run, since the sub-runs' nicks on one
	 * key would pass the server's IC_NICKS_PER_KEY and the fifth be refused */
	snprintf(sd_m, sizeof(sd_m), "%s/mouth-state-%u", dir, run);
	snprintf(sd_e, sizeof(sd_e), "%s/ear-state-%u", dir, run);
	snprintf(portarg, sizeof(portarg), "127.0.0.1:%u", port);
	snprintf(fm, sizeof(fm), "%u", fp.talk_ms);
	snprintf(fe, sizeof(fe), "%u", fp.ear_ms);
	snprintf(ex_m, sizeof(ex_m), "%.3f", secs);
	snprintf(ex_e, sizeof(ex_e), "%.3f", secs + 0.6);
	snprintf(every, sizeof(every), "%.3f", TALK_EVERY);
	snprintf(after, sizeof(after), "%.3f", TALK_AFTER);
	snprintf(hold_for, sizeof(hold_for), "%.3f", TALK_FOR);
	snprintf(nick_m, sizeof(nick_m), "Mouth%u", run);
	snprintf(nick_e, sizeof(nick_e), "Ear%u", run);
	if (write_clicks(in, presses, frame_ms, secs))
		return -1;
	{
		char *ev[] = {
		    INTERCOM_PATH, "--server",	   "127.0.0.1", "--nick",
		    nick_e,	   "--frame-ms",   fe,		"--playback-file",
		    out,	   "--exit-after", ex_e,	"--verbose",
		    "--state-dir", sd_e,	   NULL};
		char *mv[] = {INTERCOM_PATH,
			      "--server",
			      "127.0.0.1",
			      "--nick",
			      nick_m,
			      "--frame-ms",
			      fm,
			      "--capture-file",
			      in,
			      "--talk-after",
			      after,
			      "--talk-for",
			      hold_for,
			      "--talk-every",
			      every,
			      "--exit-after",
			      ex_m,
			      "--verbose",
			      "--state-dir",
			      sd_m,
			      NULL};

		ev[2] = mv[2] = portarg;
		ear = spawn(ev, elog);
		/* the listener logs in and opens its voice path first; then a gap that
		 * moves on by 1/runs of a frame each run, so the runs sample every phase
		 * between the two clients' frame clocks */
		if (!wait_log(elog, "status: online #Lobby")) {
			fprintf(stderr,
				"bench_latency: the listener never came online; see "
				"%s\n",
				elog);
			kill(ear, SIGKILL);
			waitpid(ear, NULL, 0);
			return -1;
		}
		usleep(run * fp.ear_ms * 1000 / runs);
		mouth = spawn(mv, mlog);
		if (!wait_ok(mouth) || !wait_ok(ear)) {
			fprintf(stderr, "bench_latency: a client failed; see %s and %s\n",
				mlog, elog);
			return -1;
		}
	}
	if (parse_log(mlog, &m) || parse_log(elog, &e)) {
		fprintf(stderr, "bench_latency: no audio clock start in the logs\n");
		return -1;
	}
	a = load_wav(in, &na);
	b = load_wav(out, &nb);
	if (!a || !b)
		goto out;
	s->look = (double)m.look_x10 / 10;
	for (unsigned k = 0; k < presses && k < (unsigned)m.nev[EV_PRESS]; k++) {
		double at = (TALK_AFTER + k * TALK_EVERY) * 1000 + CLICK_AT;
		long i = onset(a, na, (long)(at * RATE) - 5 * RATE,
			       (long)(at * RATE) + (long)(frame_ms + 10) * RATE);
		/* where that moment falls in the listener's file */
		long j0 = i + (long)(m.t0 - e.t0) * RATE, j;
		double t_in, t_out;

		if (i < 0)
			goto out;
		j = onset(b, nb, j0, j0 + SEARCH_MS * RATE);
		if (j < 0 || k >= (unsigned)e.nev[EV_ARRIVED] ||
		    k >= (unsigned)e.nev[EV_PLAYED] || k >= (unsigned)m.nev[EV_SENT]) {
			/* always said: a miss is what the test fails on */
			fprintf(stderr,
				"  press %u missed: click %s in the playback; %d sent, "
				"%d arrived, %d played so far\n",
				k, j < 0 ? "not found" : "found", m.nev[EV_SENT],
				e.nev[EV_ARRIVED], e.nev[EV_PLAYED]);
			s->missed++;
			keep = true;
			continue;
		}
		t_in = (double)m.t0 + (double)i / RATE;
		t_out = (double)e.t0 + (double)j / RATE + fp.ear_ms;
		s->total[s->n] = t_out - t_in;
		s->access[s->n] = (double)(e.ev[EV_ARRIVED][k] - m.ev[EV_PRESS][k]);
		s->net[s->n] = (double)(e.ev[EV_ARRIVED][k] - m.ev[EV_SENT][k]);
		s->hold[s->n] = (double)(e.ev[EV_PLAYED][k] - e.ev[EV_ARRIVED][k]);
		s->rest[s->n] =
		    s->total[s->n] - frame_ms - s->look - s->net[s->n] - s->hold[s->n];
		if (verbose)
			fprintf(
			    stderr,
			    "  press %u: total %.1f, access %.0f, net %.0f, hold %.0f, "
			    "rest %.1f ms\n",
			    k, s->total[s->n], s->access[s->n], s->net[s->n],
			    s->hold[s->n], s->rest[s->n]);
		s->n++;
	}
	err = 0;
	if (missed_before != s->missed) {
		dump_log(mlog);
		dump_log(elog);
	}
out:
	if (err)
		fprintf(stderr, "bench_latency: no click found in %s\n", in);
	free(a);
	free(b);
	return err;
}

static int cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* p in 0..100, over a sorted copy. */
static double pct(const double *v, unsigned n, double p)
{
	double r;

	static double tmp[MAX_PRESSES * 20];

	if (!n)
		return NAN;
	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_d);
	r = tmp[(unsigned)(p / 100 * (n - 1) + 0.5)];
	return r + 0.0; /* not "-0.0" */
}

static void report(struct pair fp, const struct series *s)
{
	unsigned frame_ms = fp.talk_ms;

	if (fp.talk_ms == fp.ear_ms)
		printf("%2u ms frames, %u presses (%u missed):\n", frame_ms, s->n,
		       s->missed);
	else
		printf("%2u ms talker, %2u ms listener, %u presses (%u missed):\n",
		       fp.talk_ms, fp.ear_ms, s->n, s->missed);
	printf("  %-34s %8s %8s\n", "", "p50", "p95");
	printf("  %-34s %5.1f ms %5.1f ms\n", "mouth to ear (from the audio)",
	       pct(s->total, s->n, 50), pct(s->total, s->n, 95));
	printf("  %-34s %5u ms %5u ms\n", "  frame (the encoder's wait)", frame_ms,
	       frame_ms);
	printf("  %-34s %5.1f ms %5.1f ms\n", "  Opus look-ahead", s->look, s->look);
	printf("  %-34s %5.1f ms %5.1f ms\n", "  capture/playback buffering", 0.0, 0.0);
	printf("  %-34s %5.1f ms %5.1f ms\n", "  network + server (sent->arrived)",
	       pct(s->net, s->n, 50), pct(s->net, s->n, 95));
	printf("  %-34s %5.1f ms %5.1f ms\n", "  jitter buffer (arrived->played)",
	       pct(s->hold, s->n, 50), pct(s->hold, s->n, 95));
	printf("  %-34s %5.1f ms %5.1f ms\n", "  rest (ms clock readings)",
	       pct(s->rest, s->n, 50), pct(s->rest, s->n, 95));
	printf("  %-34s %5.1f ms %5.1f ms\n", "push-to-talk access (press->peer)",
	       pct(s->access, s->n, 50), pct(s->access, s->n, 95));
	printf(
	    "  a sound card adds its playback queue (3 periods: %u ms) and its capture:\n"
	    "  bench/clocked.sh measures that path\n",
	    3 * fp.ear_ms);
}

/* "20", "10", or "TALK:EAR" of those. Returns 0 or -EINVAL. */
static int frame_pair(const char *arg, struct pair *fp)
{
	char *end;
	unsigned long t = strtoul(arg, &end, 10), e = t;

	if (*end == ':')
		e = strtoul(end + 1, &end, 10);
	if (*end || (t != 10 && t != 20) || (e != 10 && e != 20))
		return -EINVAL;
	fp->talk_ms = (unsigned)t;
	fp->ear_ms = (unsigned)e;
	return 0;
}

int main(int argc, char **argv)
{
	struct pair frames[4] = {{20, 20}, {10, 10}, {10, 20}, {20, 10}};
	unsigned runs = 5, presses = 10, nframes = 4, port;
	static struct series s;
	char dir[] = "/tmp/bench_latency.XXXXXX", slog[300], sstate[300];
	const char *const srv_args[] = {"--state-dir", sstate, NULL};
	pid_t srv;
	int opt, ret = 1;

	while ((opt = getopt(argc, argv, "r:p:f:v")) != -1) {
		if (opt == 'v')
			verbose = true;
		else if (opt == 'r')
			runs = (unsigned)atoi(optarg);
		else if (opt == 'p')
			presses = (unsigned)atoi(optarg);
		else if (opt == 'f' && frame_pair(optarg, &frames[0]) == 0) {
			nframes = 1;
		} else {
			fprintf(stderr, "usage: bench_latency [-r RUNS] [-p PRESSES] "
					"[-f 20|10|10:20|20:10] [-v]\n");
			return 2;
		}
	}
	if (!runs || runs > 20 || !presses || presses > MAX_PRESSES) {
		fprintf(stderr, "bench_latency: 1-20 runs of 1-%d presses\n",
			MAX_PRESSES);
		return 2;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(slog, sizeof(slog), "%s/server.log", dir);
	snprintf(sstate, sizeof(sstate), "%s/server-state", dir);
	port = 0;
	srv = bench_start_server(INTERCOMD_PATH, 16, slog, srv_args, &port);
	if (srv < 0) {
		fprintf(stderr, "bench_latency: intercomd did not start; see %s\n", slog);
		return 1;
	}
	for (unsigned f = 0; f < nframes; f++) {
		memset(&s, 0, sizeof(s));
		for (unsigned r = 0; r < runs; r++) {
			fprintf(
			    stderr,
			    "bench_latency: %u ms talker, %u ms listener, run %u of %u\n",
			    frames[f].talk_ms, frames[f].ear_ms, r + 1, runs);
			if (one_run(dir, port, r, runs, presses, frames[f], &s))
				goto out;
		}
		report(frames[f], &s);
	}
	ret = 0;
out:
	kill(srv, SIGTERM);
	waitpid(srv, NULL, 0);
	if (!ret && !keep) {
		bench_rmtree(dir);
	} else {
		fprintf(stderr, "bench_latency: the files are in %s\n", dir);
	}
	return ret;
}
