/* benchutil.h: what the bench programs and the tests share: the clock, loopback
 * addresses, the intercomd they start, what /proc says of it, and the lines they send. */
#ifndef IC_BENCHUTIL_H
#define IC_BENCHUTIL_H

#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Seconds on the monotonic clock. */
double bench_mono(void);
/* 127.0.0.1:port. */
struct sockaddr_in bench_lo(unsigned port);
/* The ports intercomd logged it bound ("listening on ADDR port P (TCP) and U (UDP
 * voice)") in log: true when the whole line is there. */
bool bench_log_ports(const char *log, unsigned *tcp, unsigned *udp);
/* Start intercomd (path) on 127.0.0.1 with --max-clients max, the extra flags
 * (NULL-terminated, or NULL) and its stderr in logpath, on *port (0: the server picks a
 * free one, so no two benches race for a port); waits until it logs its ports and sets
 * *port to the TCP port (also the UDP one). Returns its pid, or -1. */
pid_t bench_start_server(const char *path, unsigned max, const char *logpath,
			 const char *const *extra, unsigned *port);
/* CPU seconds pid has used (/proc/PID/schedstat, else utime + stime). */
double bench_proc_cpu(pid_t pid);
/* Remove dir and everything in it (a run's files and state directories); what cannot
 * be removed stays. */
void bench_rmtree(const char *dir);
/* A /proc/PID/status field in kB ("VmRSS:", "VmHWM:"), or 0. */
double bench_proc_kb(pid_t pid, const char *field);
/* The machine's CPU time so far, in jiffies: all of it, and what a virtual machine's
 * host took (steal, /proc/stat). Returns 0, or -errno / -EINVAL. */
int bench_cpu_times(unsigned long long *all, unsigned long long *stolen);
/* The share of the CPUs' time, in %, stolen since bench_cpu_times gave all0, st0. */
double bench_stolen_since(unsigned long long all0, unsigned long long st0);

/* Format one protocol line into buf (size bytes) and end it with LF, a NUL after it
 * (not counted). Returns the line's length with its LF; -EMSGSIZE when the text, its LF
 * and the NUL do not fit in size (nothing is written past buf[size - 1], and buf holds
 * an empty string when size > 0: no part of the line is to be sent); -EINVAL when the
 * format fails. */
int bench_vline(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int bench_line(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
