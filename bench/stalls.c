/* stalls: how late this machine wakes a thread that sleeps a millisecond at a time, as a
 * box's loop does every period: what no buffer shorter than the longest lateness
 * survives. It prints the longest, how many wakeups were late by over 5, 10 and 20 ms
 * (a box's playback headroom is 10 ms), and the share of the CPUs a virtual machine's
 * host took meanwhile (steal, /proc/stat).
 *
 *   bench_stalls [SECONDS] [--fifo PRIO | --nice N]     (default 120 s, this priority)
 *
 * Run it beside bench/clocked.sh at the boxes' priority (`--nice -10`, the unit's), or
 * alone: lateness that comes with steal is the host's, not the boxes'. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "benchutil.h"

static double ms_since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static int set_priority(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--fifo")) {
			struct sched_param sp = {.sched_priority = atoi(argv[i + 1])};

			if (sched_setscheduler(0, SCHED_FIFO, &sp))
				return -errno;
		} else if (!strcmp(argv[i], "--nice") &&
			   setpriority(PRIO_PROCESS, 0, atoi(argv[i + 1])))
			return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 && argv[1][0] != '-' ? atof(argv[1]) : 120, late,
	       worst = 0;
	unsigned long long all0 = 0, st0 = 0, over5 = 0, over10 = 0, over20 = 0,
			   wakeups = 0;
	struct timespec t0, due, now;
	int e;

	if ((e = set_priority(argc, argv)) < 0) {
		fprintf(stderr,
			"stalls: cannot set the priority asked for: %s (run as root)\n",
			strerror(-e));
		return 1;
	}
	bench_cpu_times(&all0, &st0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	due = t0;
	do {
		due.tv_nsec += 1000000;
		if (due.tv_nsec >= 1000000000) {
			due.tv_nsec -= 1000000000;
			due.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		late = ms_since(&due, &now);
		wakeups++;
		worst = late > worst ? late : worst;
		over5 += late > 5;
		over10 += late > 10;
		over20 += late > 20;
		if (late > 1)
			due = now; /* a stall is counted once, not as a run of late
				      wakeups */
	} while (ms_since(&t0, &now) < secs * 1e3);
	printf(
	    "stalls: %llu wakeups in %.0f s; the longest %.1f ms late; over 5 ms %llu, "
	    "over 10 ms %llu, over 20 ms %llu; the hypervisor took %.1f %% of the CPUs' "
	    "time (steal)\n",
	    wakeups, secs, worst, over5, over10, over20, bench_stolen_since(all0, st0));
	return 0;
}
