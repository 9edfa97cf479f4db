#include "benchutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct sockaddr_in bench_lo(unsigned port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	return a;
}

bool bench_log_ports(const char *log, unsigned *tcp, unsigned *udp)
{
	const char *at = strstr(log, "listening on ");

	at = at ? strstr(at, " port ") : NULL;
	/* the whole line: a log read while it is being written may hold half of it */
	return at && strstr(at, "(UDP voice)") &&
	       sscanf(at, " port %u (TCP) and %u (UDP voice)", tcp, udp) == 2;
}

pid_t bench_start_server(const char *path, unsigned max, const char *logpath,
			 const char *const *extra, unsigned *port)
{
	char portstr[16], maxstr[16], log[8192];
	const char *argv[40] = {path,	 "--bind",	  "127.0.0.1", "--port",
				portstr, "--max-clients", maxstr};
	int logfd = open(logpath, O_CREAT | O_TRUNC | O_WRONLY, 0600), n = 7;
	pid_t pid;

	snprintf(portstr, sizeof(portstr), "%u", *port);
	snprintf(maxstr, sizeof(maxstr), "%u", max);
	for (int i = 0; extra && extra[i] && n < 39; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (logfd >= 0)
			dup2(logfd, 2);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	if (logfd >= 0)
		close(logfd);
	if (pid < 0)
		return -1;
	for (int tries = 0; tries < 1000; tries++) { /* wait until it logs its ports */
		FILE *f = fopen(logpath, "r");
		size_t len = f ? fread(log, 1, sizeof(log) - 1, f) : 0;
		unsigned udp;

		if (f)
			fclose(f);
		log[len] = '\0';
		if (bench_log_ports(log, port, &udp))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

double bench_proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	unsigned long long ns;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (f) {
		int ok = fscanf(f, "%llu", &ns) == 1;

		fclose(f);
		if (ok)
			return (double)ns * 1e-9;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double bench_proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	double kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, strlen(field)))
			kb = atof(line + strlen(field));
	}
	fclose(f);
	return kb;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st, (void)type, (void)f;
	(void)remove(path);
	return 0;
}

void bench_rmtree(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int bench_vline(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n;

	if (size == 0)
		return -EMSGSIZE;
	n = vsnprintf(buf, size, fmt, ap);
	if (n < 0 || (size_t)n + 2 > size) { /* no room for the LF and the NUL */
		buf[0] = '\0';
		return n < 0 ? -EINVAL : -EMSGSIZE;
	}
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

int bench_line(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = bench_vline(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int bench_cpu_times(unsigned long long *all, unsigned long long *stolen)
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
	for (int i = 0; i < 8; i++) /* guest time is counted in user time already */
		*all += v[i];
	*stolen = v[7];
	return 0;
}

double bench_stolen_since(unsigned long long all0, unsigned long long st0)
{
	unsigned long long all, st;

	if (bench_cpu_times(&all, &st) < 0 || all <= all0)
		return 0;
	return 100.0 * (double)(st - st0) / (double)(all - all0);
}
