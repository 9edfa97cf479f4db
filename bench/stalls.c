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

/* all and stolen CPU time so far, in jiffies; 0 when /proc/stat cannot be read */
static int cpu_times(unsigned long long *all, unsigned long long *stolen)
{
	unsigned long long v[10] = {0};
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	fclose(f);
	if (n < 8)
		return -EINVAL;
	*all = 0;
	for (int i = 0; i < n; i++)
		*all += v[i];
	*stolen = v[7];
	return 0;
}

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
	unsigned long long all0 = 0, st0 = 0, all1 = 0, st1 = 0, over5 = 0, over10 = 0,
			   over20 = 0, wakeups = 0;
	struct timespec t0, due, now;
	int e;

	if ((e = set_priority(argc, argv)) < 0) {
		fprintf(stderr,
			"stalls: cannot set the priority asked for: %s (run as root)\n",
			strerror(-e));
		return 1;
	}
	cpu_times(&all0, &st0);
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
	cpu_times(&all1, &st1);
	printf(
	    "stalls: %llu wakeups in %.0f s; the longest %.1f ms late; over 5 ms %llu, "
	    "over 10 ms %llu, over 20 ms %llu; the hypervisor took %.1f %% of the CPUs' "
	    "time (steal)\n",
	    wakeups, secs, worst, over5, over10, over20,
	    all1 > all0 ? 100.0 * (double)(st1 - st0) / (double)(all1 - all0) : 0.0);
	return 0;
}
