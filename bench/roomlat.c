/* bench_roomlat: mouth to ear through two boxes' own sound paths (firmware/engine.c:
 * capture, echo canceller, encoder; jitter buffer, decoder, mixer, playback, the code
 * the box runs), each on a synthetic room (bench/room.c) in place of its sound card,
 * joined by a packet path with a fixed delay and optional jitter, in virtual time: no
 * sockets, no sleeping. Prints; asserts nothing.
 *
 *   bench_roomlat [-n CLICKS] [-d NET_MS] [-j JITTER_MS] [-s SEED] [-S STALLS]
 *                 [-N NOISE_DBFS]
 *
 * -N sets both rooms' microphone noise: what the far box sends when nobody talks there,
 * and so what the near box's speaker plays (its canceller runs its preprocessor while
 * the speaker is not quiet).
 *
 * The talker's room hears a click track (clickdelay's: a 3 ms 1.5 kHz burst every
 * 487 ms) as its near talker; the listener's room keeps what its speaker plays. Both
 * rooms count samples on one clock, so a click's delay is its onset in the speaker less
 * its onset in the microphone (onsets at 30 % of the loudest; matched as clickdelay
 * does, bench/clickmatch.h).
 *
 * The boxes are bench/vbox.h's: their engines in virtual time, the sound card, the
 * loop's clock and its wait replaced at link time. Each virtual millisecond both boxes'
 * loops run up to it, then the packets due are handed to voice_receive as client.c's
 * on_voice does. A stall of the listener is its loop not run for 200 ms while the
 * talker's runs; its packets wait as in a socket. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "audio.h"
#include "cfg.h"
#include "clickmatch.h"
#include "engine.h"
#include "log.h"
#include "loop.h"
#include "room.h"
#include "vbox.h"
#include "voice.h"

#define RATE		48000
#define SPS		(RATE / 1000)
#define CLICK_EVERY_MS	487 /* clocked.sh's: not a multiple of any frame */
#define STALL_EVERY_MS	97  /* finer for the stall runs: the spacing is the resolution */
#define CLICK_LEAD_MS	1000
#define WARM_MS		4000  /* -w's default */
#define WARM_DB		(-23) /* the words' level: the rooms' near talker's (room.c) */
#define STALL_MS	200
#define STALL_AT_MS	4000
#define RECOVERY_TOL_MS 10 /* issue 22: back within 10 ms of the p50 */
#define MAX_DELAY_MS	2000
#define MAX_CLKS	2048
#define ECHO_DB		-20 /* each room's echo: no loop of echoes between the boxes */
/* The two boxes' clocks run at one rate here, so every click of a run meets the same
 * phase between the talker's frames and the listener's: each setting pools runs with the
 * listener started this many different ways into a frame (a real pair drifts through
 * all of them). */
#define PHASES 5

/* A device setting: the room's queues as audio_delays reports them. */
struct device {
	const char *name;
	unsigned play_ms, cap_ms;
};

static const struct device devices[] = {
    /* 2 periods of headroom; the card's FIFO about 1 ms (docs/PERFORMANCE.md) */
    {"hw: USB card, 5 ms periods", 10, 1},
    /* the clocked device's exit lines: playback 2 periods, capture 5-7 ms beyond the
     * frame being completed */
    {"ALSA pulse plugin (measured queues)", 10, 6},
};

struct run_cfg {
	const struct device *dev;
	unsigned frame_ms, every_ms, clicks;
	bool aec;
	unsigned phase_ms; /* the listener starts this late */
	long stall_at_ms;  /* -1: none */
};

struct run_res {
	unsigned heard, missed;
	double *d; /* the caller's: each heard click's delay (ms) appended, nd of them */
	size_t nd;
	double hold_ms;
	long recovery_ms; /* -1: never, -2: unknown */
	uint64_t plc, dropped;
};

static struct vbox_net net = {.net_ms = 1};
static double noise_dbfs = 1; /* the rooms' microphone noise (1: the room's default) */
/* The talker speaks this long before its clicks (-w): a call's first words, over which
 * the listener's canceller converges, as it does in a real call before the clicks. */
static unsigned warm_ms = WARM_MS;
static uint32_t seed = 1;

/* The talker's words for warm_ms, then clickdelay's click track: a click every
 * every_ms, from CLICK_LEAD_MS after them. */
static void click_track(int16_t *pcm, size_t n, unsigned every_ms, unsigned clicks)
{
	size_t w = (size_t)warm_ms * SPS;

	room_talk(seed * 977u + 3, WARM_DB, pcm, w < n ? w : n);
	for (unsigned k = 0; k < clicks; k++)
		click_put(pcm, n,
			  ((size_t)CLICK_LEAD_MS + warm_ms + (size_t)k * every_ms) * SPS);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* p50 and p95 of d[n] (sorted here). */
static void percentiles(double *d, size_t n, double *p50, double *p95)
{
	qsort(d, n, sizeof(d[0]), cmp_double);
	*p50 = n ? d[n / 2] : 0;
	*p95 = n ? d[n * 95 / 100] : 0;
}

/* The clicks' delays from the talker's microphone to the listener's speaker. */
static void measure(const int16_t *near, const int16_t *spk, size_t n,
		    const struct run_cfg *rc, struct run_res *res)
{
	static long said[MAX_CLKS], heard[MAX_CLKS], delay[MAX_CLKS];
	size_t gap = (size_t)rc->every_ms * SPS / 2;
	/* the clicks only: the words before them, and their echoes, left out */
	size_t skip = ((size_t)warm_ms + CLICK_LEAD_MS / 2) * SPS;
	size_t ns = click_onsets(near + skip, n - skip, 1, gap, said, MAX_CLKS),
	       nh = click_onsets(spk + skip, n - skip, 1, gap, heard, MAX_CLKS);
	long r;

	for (size_t k = 0; k < ns; k++)
		said[k] += (long)skip;
	for (size_t k = 0; k < nh; k++)
		heard[k] += (long)skip;

	res->recovery_ms = -2;
	if (clickmatch(said, ns, heard, nh, (long)MAX_DELAY_MS * SPS, delay) < 0) {
		res->missed = (unsigned)ns;
		return;
	}
	for (size_t k = 0; k < ns; k++) {
		if (delay[k] < 0)
			res->missed++;
		else if (res->nd < MAX_CLKS)
			res->d[res->nd++] = (double)delay[k] / SPS;
		if (getenv("ROOMLAT_EACH") && delay[k] >= 0) /* to see a delay recover */
			printf("\n  at %.3f s: %.1f ms", (double)said[k] / RATE,
			       (double)delay[k] / SPS);
		res->heard += delay[k] >= 0;
	}
	if (rc->stall_at_ms < 0)
		return;
	r = clickrecovery(said, delay, ns, (rc->stall_at_ms + (long)warm_ms) * SPS,
			  RECOVERY_TOL_MS * SPS);
	res->recovery_ms = r >= 0 ? r / SPS : r == -EAGAIN ? -1 : -2;
}

/* The two boxes for rc's clicks, millisecond by millisecond. Returns 0 or -errno. */
static int run(const struct run_cfg *rc, struct run_res *res)
{
	size_t total_ms =
	    warm_ms + CLICK_LEAD_MS + (size_t)rc->clicks * rc->every_ms + 1000;
	size_t n = total_ms * SPS;
	int16_t *near = calloc(n, sizeof(int16_t)), *spk = calloc(n, sizeof(int16_t));
	struct room_tap tt = {near, n, NULL, 0, -1}, lt = {NULL, 0, spk, n, -1};
	struct room_cfg trc, lrc;
	struct voice_stats vs;
	struct vbox t, l;
	struct cfg f;
	int e = -ENOMEM;

	res->heard = res->missed = 0;
	res->recovery_ms = -2;
	memset(&t, 0, sizeof(t));
	memset(&l, 0, sizeof(l));
	t.fd = l.fd = -1;
	if (!near || !spk)
		goto out;
	cfg_defaults(&f);
	f.frame_ms = rc->frame_ms;
	f.echo_cancel = rc->aec;
	room_cfg_default(&trc, seed);
	trc.play_ms = rc->dev->play_ms;
	trc.cap_ms = rc->dev->cap_ms;
	trc.periods = true; /* as the ALSA backend plays: voice may cut into silence */
	trc.echo_db = ECHO_DB;
	if (noise_dbfs <= 0)
		trc.noise_dbfs = noise_dbfs;
	lrc = trc;
	lrc.seed = seed + 1;
	click_track(near, n, rc->every_ms, rc->clicks);
	net.rng = seed * 2654435761u | 1;
	if ((e = vbox_open(&t, &f, &trc, &tt, 1, 0, &net)) ||
	    (e = vbox_open(&l, &f, &lrc, &lt, 2, rc->phase_ms, &net)))
		goto out;
	t.peer = &l;
	l.peer = &t;
	for (uint64_t now = 1; now <= total_ms; now++) {
		uint64_t stall = (uint64_t)rc->stall_at_ms + warm_ms;

		l.stalled =
		    rc->stall_at_ms >= 0 && now > stall && now <= stall + STALL_MS;
		vbox_run(&t, now);
		vbox_run(&l, now);
		vbox_deliver(&t, now);
		vbox_deliver(&l, now);
	}
	measure(near, spk, n, rc, res);
	if (getenv("ROOMLAT_STATS")) { /* each box's exit lines: the talker's first */
		engine_log_stats(t.eng);
		engine_log_stats(l.eng);
	}
	voice_get_stats(l.voice, &vs);
	res->hold_ms = vs.frames ? (double)vs.hold_ms_sum / (double)vs.frames : 0;
	res->plc = vs.plc;
	res->dropped = vs.dropped;
out:
	vbox_close(&t);
	vbox_close(&l);
	free(near);
	free(spk);
	return e;
}

static void print_setting(const struct run_cfg *rc)
{
	printf("%-36s play %2u ms, capture %u ms | %2u ms frames | echo_cancel %-3s |",
	       rc->dev->name, rc->dev->play_ms, rc->dev->cap_ms, rc->frame_ms,
	       rc->aec ? "yes" : "no");
}

/* One setting's clicks, spread over PHASES runs with the listener started at phases
 * across a frame; prints them pooled. Returns 0 or -errno. */
static int latency_setting(struct run_cfg *rc, unsigned clicks)
{
	static double d[MAX_CLKS];
	struct run_res r = {.d = d};
	unsigned heard = 0, missed = 0;
	double p50, p95, hold = 0;
	uint64_t plc = 0, dropped = 0;

	for (unsigned ph = 0; ph < PHASES; ph++) {
		int e;

		rc->clicks = (clicks + PHASES - 1) / PHASES;
		rc->phase_ms = ph * rc->frame_ms / PHASES + 1;
		if ((e = run(rc, &r)))
			return e;
		heard += r.heard;
		missed += r.missed;
		hold += r.hold_ms / PHASES;
		plc += r.plc;
		dropped += r.dropped;
	}
	percentiles(d, r.nd, &p50, &p95);
	print_setting(rc);
	printf(" clicks %u, missed %u: p50 %.1f / p95 %.1f ms, min %.1f, max %.1f (the "
	       "listener: jitter buffer hold %.1f ms, concealed %llu, dropped %llu)\n",
	       heard, missed, p50, p95, r.nd ? d[0] : 0.0, r.nd ? d[r.nd - 1] : 0.0, hold,
	       (unsigned long long)plc, (unsigned long long)dropped);
	fflush(stdout);
	return 0;
}

/* Mouth to ear for each device, frame size and canceller setting. */
static int latency_runs(unsigned clicks)
{
	for (size_t d = 0; d < sizeof(devices) / sizeof(devices[0]); d++) {
		for (unsigned fm = 20; fm >= 10; fm -= 10) {
			for (int aec = 1; aec >= 0; aec--) {
				struct run_cfg rc = {
				    &devices[d], fm, CLICK_EVERY_MS, 0, aec, 0, -1};

				if (latency_setting(&rc, clicks))
					return 1;
			}
		}
	}
	return 0;
}

/* One stall run: prints how long the listener took to come back. Returns the time, -1
 * if it did not (or it could not be read), or -2 when the run failed. */
static long stall_one(struct run_cfg *rc)
{
	static double d[MAX_CLKS];
	struct run_res r = {.d = d};
	double p50, p95;

	if (run(rc, &r))
		return -2;
	percentiles(d, r.nd, &p50, &p95);
	if (r.recovery_ms >= 0)
		printf(" %ld ms (run p50 %.1f)", r.recovery_ms, p50);
	else
		printf(" %s (run p50 %.1f)", r.recovery_ms == -1 ? "never" : "unknown",
		       p50);
	return r.recovery_ms >= 0 ? r.recovery_ms : -1;
}

/* A 200 ms stall of the listener, stalls runs at different phases (of the listener's
 * frames, and of the clicks), for each device and frame size, the canceller on (the
 * default). */
static int stall_runs(unsigned stalls)
{
	unsigned clicks = (STALL_AT_MS + 4000 - CLICK_LEAD_MS) / STALL_EVERY_MS;

	for (size_t d = 0; d < sizeof(devices) / sizeof(devices[0]); d++) {
		for (unsigned fm = 20; fm >= 10; fm -= 10) {
			struct run_cfg rc = {
			    &devices[d], fm, STALL_EVERY_MS, clicks, true, 0, 0};
			long worst = 0;

			print_setting(&rc);
			printf(
			    " %u ms stall, clicks every %u ms: back within %u ms of the "
			    "p50 before it after",
			    STALL_MS, STALL_EVERY_MS, RECOVERY_TOL_MS);
			for (unsigned k = 0; k < stalls; k++) {
				long t;

				rc.phase_ms = k * fm / stalls + 1;
				rc.stall_at_ms =
				    STALL_AT_MS + (long)(k * STALL_EVERY_MS / stalls);
				t = stall_one(&rc);
				if (t == -2)
					return 1;
				worst = t < 0 || worst < 0 ? -1 : t > worst ? t : worst;
			}
			if (worst >= 0)
				printf("; longest %ld ms\n", worst);
			else
				printf("; not back in every run\n");
			fflush(stdout);
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_roomlat [-n CLICKS (>= 50)] [-d NET_MS] [-j JITTER_MS] "
		"[-s SEED] [-S STALLS (0: none)] [-N NOISE_DBFS (-120..0)] [-w WORDS_S "
		"(0..30)]\n");
}

int main(int argc, char **argv)
{
	unsigned clicks = 60, stalls = 5;
	struct room_cfg rcd;
	struct cfg f;
	int o;

	while ((o = getopt(argc, argv, "n:d:j:s:S:N:w:")) != -1) {
		unsigned long v = strtoul(optarg ? optarg : "", NULL, 10);

		if (o == 'n' && v >= 1 && v <= 1000)
			clicks = (unsigned)v;
		else if (o == 'd' && v <= 1000)
			net.net_ms = (unsigned)v;
		else if (o == 'j' && v <= 500)
			net.jitter_ms = (unsigned)v;
		else if (o == 'N' && atof(optarg) <= 0 && atof(optarg) >= -120)
			noise_dbfs = atof(optarg);
		else if (o == 's')
			seed = (uint32_t)v;
		else if (o == 'w' && v <= 30)
			warm_ms = (unsigned)v * 1000;
		else if (o == 'S' && v <= 50)
			stalls = (unsigned)v;
		else {
			usage();
			return 2;
		}
	}
	log_setup("bench_roomlat", getenv("ROOMLAT_STATS") ? LOG_INFO : LOG_ERR);
	cfg_defaults(&f);
	room_cfg_default(&rcd, seed);
	if (noise_dbfs <= 0)
		rcd.noise_dbfs = noise_dbfs;
	printf(
	    "two boxes' engines on synthetic rooms, in virtual time (the figures do not "
	    "depend on the machine's load): %u ms periods, Opus %u bit/s complexity %u "
	    "%s, voice in the clear; network %u ms + jitter 0-%u ms; rooms: echo %d dB, "
	    "noise %.0f dBFS, seed %u; the listener started at %u phases across a frame; "
	    "the talker's words for %u s, then clicks every %u ms\n",
	    f.period_ms, f.bitrate, f.complexity, f.tls ? "CBR" : "VBR", net.net_ms,
	    net.jitter_ms, ECHO_DB, rcd.noise_dbfs, seed, PHASES, warm_ms / 1000,
	    CLICK_EVERY_MS);
	if (latency_runs(clicks))
		goto fail;
	if (stalls && stall_runs(stalls))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "bench_roomlat: out of memory, or the engine could not open\n");
	return 1;
}
