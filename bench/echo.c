/* bench_echo: the echo canceller's figures in the synthetic room (bench/room.c), driven
 * as the client drives a clocked card. Prints; asserts nothing (tests/unit/test_aec.c
 * holds the behaviour).
 *
 *   bench_echo [-f 10|20] [-s FIRST_SEED] [-n SEEDS]   (default: 20 ms frames, seeds 1-5)
 *   bench_echo -c: one 10 s call, for bench/echo_cost.sh to count under callgrind
 *   bench_echo -C: the same call without the canceller (the room alone, for qemu)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "room.h"

static size_t frame = 960;

static int run_with(const struct room_cfg *rc, bool cancel, struct room_rec *rec,
		    double *secs)
{
	struct timespec a, b;
	int e;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	e = room_run(rc, frame, cancel, rec);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	*secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	if (e)
		fprintf(stderr, "bench_echo: out of memory\n");
	return e;
}

static int run(const struct room_cfg *rc, struct room_rec *rec, double *secs)
{
	return run_with(rc, true, rec, secs);
}

/* The far end alone: ERLE once converged, and how long until 15 and 25 dB held. */
static void far_alone(const char *what, struct room_cfg *rc)
{
	struct room_rec r;
	double cpu;

	rc->near_to = 0;
	if (run(rc, &r, &cpu))
		exit(1);
	printf("%-34s ERLE %5.1f dB (3-8 s), 15 dB after %5ld ms, 25 dB after %5ld ms, "
	       "delay measured %ld samples, re-anchored %llu, moved %llu\n",
	       what, room_erle(&r, 3000, 8000), room_time_to(&r, 15, 0, 8000),
	       room_time_to(&r, 25, 0, 8000), r.st.delay,
	       (unsigned long long)r.st.reanchors, (unsigned long long)r.st.moves);
	room_rec_free(&r);
}

/* Both talk from 4 s on: the near talker's level in the output, the echo left in the
 * same room without it taken off. */
static void double_talk(uint32_t seed)
{
	struct room_cfg rc;
	struct room_rec r, e;
	double cpu;

	room_cfg_default(&rc, seed);
	rc.near_to = 0;
	if (run(&rc, &e, &cpu))
		exit(1);
	rc.near_from = 4000;
	rc.near_to = 8000;
	if (run(&rc, &r, &cpu))
		exit(1);
	printf(
	    "double talk (4-8 s): near end %+.2f dB in the output; ERLE before it %.1f "
	    "dB, after it (far alone) %.1f dB\n",
	    room_near_level(&r, &e, 4500, 8000), room_erle(&r, 3000, 4000),
	    room_erle(&e, 4500, 8000));
	room_rec_free(&r);
	room_rec_free(&e);
}

/* One call of COST_SECONDS, both talking half of it, for callgrind to count the
 * canceller's instructions in (aec_capture_audio and aec_playback, inclusive), or
 * without the canceller (the room alone: what qemu's count, which cannot tell
 * functions apart, takes off). */
#define COST_SECONDS 10
static int cost_run(uint32_t seed, bool cancel)
{
	struct room_cfg rc;
	struct room_rec r;
	double cpu;

	room_cfg_default(&rc, seed);
	rc.seconds = COST_SECONDS;
	rc.far_to = rc.near_to = COST_SECONDS * 1000;
	rc.near_from = COST_SECONDS * 500;
	if (run_with(&rc, cancel, &r, &cpu))
		return 1;
	printf("%d s of call %s the canceller: %.1f ms of CPU (the room included)\n",
	       COST_SECONDS, cancel ? "through" : "without", cpu * 1000);
	if (cancel)
		printf("canceller: %s\n", r.settings);
	room_rec_free(&r);
	return 0;
}

/* The far end alone in these rooms (the rest as room_cfg_default). */
static const struct {
	const char *what;
	unsigned play_ms, hidden_ms;
	double rt60;
	bool clip;
} rooms[] = {
    {"far end alone, 40 ms queue:", 40, 0, 0.3, false},
    {"200 ms device buffer:", 200, 0, 0.3, false},
    {"250 ms device buffer:", 250, 0, 0.3, false},
    {"echo 120 ms later than reported:", 40, 120, 0.3, false},
    {"RT60 0.6 s:", 40, 0, 0.6, false},
    {"speaker soft-clipping:", 40, 0, 0.3, true},
};

/* What happens at 4 s of a 10 s call, far end alone: a 40 ms jump of the acoustic delay
 * (the estimator moves the reference) or of the playback queue (the measured delay
 * moves), the 120 ms playback queue lost (an underrun: re-anchored on the xrun count),
 * 30 ms of capture dropped unread (the backend catching up: followed by count), the
 * acoustic delay wandering 1 ms later, a sample at a time, over 2 s (a sound server's
 * loopback settling after an xrun). */
enum mishap { JUMP_ACOUSTIC, JUMP_QUEUE, UNDERRUN, DROP, WANDER, MISHAPS };
static const char *const mishap_what[] = {
    "40 ms jump at 4 s, acoustic delay:", "40 ms jump at 4 s, playback queue:",
    "playback underrun at 4 s (120 ms lost):", "capture dropped 30 ms unread at 4 s:",
    "echo 1 ms later over 2 s from 4 s:"};

static int mishap(uint32_t seed, enum mishap m)
{
	struct room_cfg rc;
	struct room_rec r;
	double cpu;

	room_cfg_default(&rc, seed);
	rc.seconds = 10;
	rc.far_to = 10000;
	rc.near_to = 0;
	rc.jump_at_ms = m <= JUMP_QUEUE ? 4000 : 0;
	rc.jump_ms = 40;
	rc.jump_in_queue = m == JUMP_QUEUE;
	rc.play_ms = m == UNDERRUN ? 120 : rc.play_ms;
	rc.underrun_at = m == UNDERRUN ? 4000 : 0;
	rc.drop_at_ms = m == DROP ? 4000 : 0;
	rc.drop_ms = 30;
	rc.wander_at_ms = m == WANDER ? 4000 : 0;
	rc.wander_ms = m == WANDER ? 1 : 0;
	if (run(&rc, &r, &cpu))
		return 1;
	printf("%-40s 15 dB again after %4ld ms, ERLE 6-10 s %.1f dB, aligned %llu "
	       "times (%llu after xruns), moved %llu, %llu drops followed\n",
	       mishap_what[m], room_time_to(&r, 15, 4000, 10000),
	       room_erle(&r, 6000, 10000), (unsigned long long)r.st.reanchors,
	       (unsigned long long)r.st.xruns, (unsigned long long)r.st.moves,
	       (unsigned long long)r.st.drops);
	room_rec_free(&r);
	return 0;
}

/* Every room for one seed. Returns 0, or 1 out of memory. */
static int bench_seed(uint32_t seed)
{
	struct room_cfg rc;
	struct room_rec r;
	double cpu;

	printf("== seed %u\n", seed);
	room_cfg_default(&rc, seed);
	rc.near_to = 0;
	if (run(&rc, &r, &cpu))
		return 1;
	printf("canceller: %s\n", r.settings);
	printf("room: echo %+.0f dB of the played level, near talker %.0f dBFS, far %.0f "
	       "dBFS, RT60 %.1f s, %u ms away, noise %.0f dBFS; %zu ms frames, seed %u\n",
	       rc.echo_db, rc.near_db, rc.far_db, rc.rt60, rc.delay_ms, rc.noise_dbfs,
	       frame / 48, seed);
	printf("CPU: %.1f ms per second of call (the room included)\n",
	       cpu * 1000 / rc.seconds);
	room_rec_free(&r);

	for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++) {
		room_cfg_default(&rc, seed);
		rc.play_ms = rooms[i].play_ms;
		rc.hidden_ms = rooms[i].hidden_ms;
		rc.rt60 = rooms[i].rt60;
		rc.clip = rooms[i].clip;
		far_alone(rooms[i].what, &rc);
	}

	double_talk(seed);

	room_cfg_default(&rc, seed);
	rc.far_to = 0;
	if (run(&rc, &r, &cpu))
		return 1;
	printf("near end alone: %+.2f dB in the output\n",
	       room_near_level(&r, NULL, 1000, 8000));
	room_rec_free(&r);

	room_cfg_default(&rc, seed);
	rc.far_to = rc.near_to = 0;
	if (run(&rc, &r, &cpu))
		return 1;
	printf("silence (noise alone): output %+.1f dB of the microphone\n",
	       room_out_over_mic(&r, 1000, 8000));
	room_rec_free(&r);

	for (int m = 0; m < MISHAPS; m++)
		if (mishap(seed, (enum mishap)m))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t seed = 1, n = 5;
	int cost = 0; /* 1: -c, 2: -C */
	int o;

	while ((o = getopt(argc, argv, "cCf:s:n:")) != -1) {
		if (o == 'c' || o == 'C')
			cost = o == 'c' ? 1 : 2;
		else if (o == 'f')
			frame = (size_t)atoi(optarg) * 48;
		else if (o == 's')
			seed = (uint32_t)strtoul(optarg, NULL, 10);
		else if (o == 'n')
			n = (uint32_t)strtoul(optarg, NULL, 10);
		else
			frame = 0;
	}
	if (frame != 480 && frame != 960) {
		fprintf(
		    stderr,
		    "usage: bench_echo [-c|-C] [-f 10|20] [-s FIRST_SEED] [-n SEEDS]\n");
		return 2;
	}
	if (cost)
		return cost_run(seed, cost == 1);
	for (uint32_t k = 0; k < n; k++)
		if (bench_seed(seed + k))
			return 1;
	return 0;
}
