#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "benchutil.h"
#include "harness_tls.h"
#include "ident.h"
#include "msg.h"

int harness_rcvbuf;
void *harness_key;
bool harness_anon;
bool harness_registered;

static struct {
	char nick[40];
	void *key;
} nick_keys[512];

static void nick_keys_free(void)
{
	for (size_t i = 0; i < sizeof(nick_keys) / sizeof(nick_keys[0]); i++)
		htls_key_free(nick_keys[i].key);
}

const char *harness_fp_of(void *key, char *out)
{
	assert_int_equal(ident_fingerprint_of(key, out), 0);
	return out;
}

void *harness_nick_key(const char *nick)
{
	size_t i;

	for (i = 0; i < sizeof(nick_keys) / sizeof(nick_keys[0]) && nick_keys[i].key;
	     i++) {
		if (!strcasecmp(nick_keys[i].nick, nick))
			return nick_keys[i].key;
	}
	assert_true(i < sizeof(nick_keys) / sizeof(nick_keys[0]));
	if (i == 0)
		atexit(nick_keys_free);
	snprintf(nick_keys[i].nick, sizeof(nick_keys[i].nick), "%s", nick);
	nick_keys[i].key = htls_key_new();
	assert_non_null(nick_keys[i].key);
	return nick_keys[i].key;
}

static char state_dir[64]; /* this program's servers' identity */

void state_dir_remove(const char *dir)
{
	/* keys, certificates, known_servers and the boxes' own directories in it */
	bench_rmtree(dir);
}

static void own_state_dir_remove(void)
{
	state_dir_remove(state_dir);
}

const char *harness_state_dir(void)
{
	if (!state_dir[0]) {
		snprintf(state_dir, sizeof(state_dir), "/tmp/itest-state-%d",
			 (int)getpid());
		atexit(own_state_dir_remove);
	}
	return state_dir;
}

/* Does the NULL-terminated args hold flag (followed by val, when val is given)? */
static bool has_flag(const char *const *args, const char *flag, const char *val)
{
	for (int i = 0; args[i]; i++) {
		if (!strcmp(args[i], flag) &&
		    (!val || (args[i + 1] && !strcmp(args[i + 1], val))))
			return true;
	}
	return false;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned harness_slowdown(void)
{
	const char *w = getenv("INTERCOMD_WRAP");

	return w && *w ? HARNESS_SLOWDOWN : 1;
}

/* argv = [$INTERCOMD_WRAP words...] $INTERCOMD args...; args is NULL-terminated. */
static void build_argv(char **argv, int max, const char *const *args)
{
	static char wrap[512];
	const char *w = getenv("INTERCOMD_WRAP");
	const char *bin = getenv("INTERCOMD");
	int n = 0;

	assert_non_null(bin);
	if (w && *w) {
		snprintf(wrap, sizeof(wrap), "%s", w);
		for (char *tok = strtok(wrap, " "); tok && n < max / 2;
		     tok = strtok(NULL, " "))
			argv[n++] = tok;
	}
	argv[n++] = (char *)bin;
	for (int i = 0; args[i] && n < max - 1; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
}

/* Collect a NULL-terminated variadic list after `first` into args (room for max). */
static void collect(const char **args, int max, int skip, const char *first, va_list ap)
{
	int n = skip;

	for (const char *a = first; a && n < max - 1; a = va_arg(ap, const char *))
		args[n++] = a;
	args[n] = NULL;
}

/* The server's log so far into buf (size bytes, terminated): all of it, or when it is
 * longer (a churn test logs every login) its first and last quarters of the buffer. */
static void read_log(const char *path, char *buf, size_t size)
{
	static const char cut[] = "\n[... the middle of the log left out ...]\n";
	FILE *f = fopen(path, "r");
	size_t n = 0, q = size / 4;
	long len;

	if (f && !fseek(f, 0, SEEK_END) && (len = ftell(f)) > (long)(size - 1)) {
		rewind(f);
		n = fread(buf, 1, q, f);
		memcpy(buf + n, cut, sizeof(cut) - 1);
		n += sizeof(cut) - 1;
		if (!fseek(f, -(long)q, SEEK_END))
			n += fread(buf + n, 1, q, f);
	} else if (f) {
		rewind(f);
		n = fread(buf, 1, size - 1, f);
	}
	if (f)
		fclose(f);
	buf[n] = '\0';
}

/* Copy the server's log to our stderr (where its lines went before it had a file), then
 * remove the file. */
static char last_log[1 << 16]; /* the log of the server that stopped last */

static void dump_log(struct srv *s)
{
	if (!s->log[0])
		return;
	read_log(s->log, last_log, sizeof(last_log));
	fputs(last_log, stderr);
	unlink(s->log);
	s->log[0] = '\0';
}

/* Fork the server with args, its output to s->log; wait until it logs its ports. */
static bool launch(struct srv *s, const char *const *args)
{
	static int seq;
	static char log[1 << 16];
	char *argv[64];
	uint64_t until = now_ms() + 20000; /* valgrind starts slowly */
	int status;

	snprintf(s->log, sizeof(s->log), "/tmp/itest-srv-%d-%d.log", (int)getpid(),
		 ++seq);
	build_argv(argv, 64, args);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		int fd = open(s->log, O_CREAT | O_TRUNC | O_WRONLY, 0600);

		prctl(PR_SET_PDEATHSIG,
		      SIGKILL); /* a failed test leaves no server behind */
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (now_ms() < until) {
		read_log(s->log, log, sizeof(log));
		if (bench_log_ports(log, &s->port, &s->udp_port))
			return true;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid)
			break;
		usleep(10000);
	}
	if (kill(s->pid, 0) == 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
	}
	dump_log(s);
	return false;
}

/* args = [--bind 127.0.0.1] --port 0 extra... */
static void start_with(struct srv *s, bool loopback, const char *first, va_list ap)
{
	const char *args[48] = {"--bind", "127.0.0.1", "--port", s->portstr};
	int skip = loopback ? 4 : 2;

	/* port 0: the server takes a free port itself and logs it, so no two tests ever
	 * race for one */
	snprintf(s->portstr, sizeof(s->portstr), "0");
	if (!loopback) {
		args[0] = "--port";
		args[1] = s->portstr;
	}
	collect(args, 48, skip, first, ap);
	if (!has_flag(args, "--state-dir", NULL)) {
		int n = 0;

		while (args[n])
			n++;
		assert_true(n + 2 < 48);
		args[n++] = "--state-dir";
		args[n++] = harness_state_dir();
		args[n] = NULL;
	}
	s->plain = has_flag(args, "--tls", "off");
	memcpy(s->args, args, sizeof(s->args));
	if (!launch(s, args))
		fail_msg("intercomd did not start (its log is above)");
	/* a restart after a crash comes back on the same port */
	snprintf(s->portstr, sizeof(s->portstr), "%u", s->port);
}

void srv_start(struct srv *s, ...)
{
	va_list ap;

	va_start(ap, s);
	start_with(s, true, va_arg(ap, const char *), ap);
	va_end(ap);
}

void srv_start_any(struct srv *s, ...)
{
	va_list ap;

	va_start(ap, s);
	start_with(s, false, va_arg(ap, const char *), ap);
	va_end(ap);
}

void srv_stop(struct srv *s)
{
	int status = -1;
	/* valgrind's leak check at exit, on a busy machine, took over 20 s */
	uint64_t until = now_ms() + 60000;

	kill(s->pid, SIGTERM);
	while (now_ms() < until) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid)
			break;
		usleep(10000);
	}
	dump_log(s);
	if (!WIFEXITED(status) && !WIFSIGNALED(status)) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
		fail_msg("intercomd did not stop on SIGTERM");
	}
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int srv_run(char *out, size_t outlen, ...)
{
	char *argv[64];
	const char *args[48];
	int p[2], status;
	size_t got = 0;
	va_list ap;
	pid_t pid;

	va_start(ap, outlen);
	collect(args, 48, 0, va_arg(ap, const char *), ap);
	va_end(ap);
	build_argv(argv, 64, args);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], out + got, outlen - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == outlen - 1)
			break;
	}
	out[got] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void proc_start(struct proc *p, char *const argv[])
{
	static int seq;

	snprintf(p->log, sizeof(p->log), "/tmp/itest-%d-%d.log", (int)getpid(), ++seq);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		int fd = open(p->log, O_CREAT | O_TRUNC | O_WRONLY, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
}

int proc_wait(struct proc *p, int ms)
{
	uint64_t until = now_ms() + (uint64_t)ms;
	int status;

	while (now_ms() < until) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid)
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &status, 0);
	fail_msg("%s did not exit in time; log %s", "process", p->log);
	return -1;
}

const char *proc_log(const struct proc *p)
{
	static char buf[1 << 16];
	FILE *f = fopen(p->log, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

void proc_wait_ok(struct proc *p, int ms)
{
	int st = proc_wait(p, ms);

	if (st)
		fail_msg("%s exited %d; its log:\n%s", p->log, st, proc_log(p));
}

size_t proc_wait_log(const struct proc *p, size_t from, const char *what, int ms)
{
	uint64_t until = now_ms() + (uint64_t)ms;

	do {
		const char *log = proc_log(p), *at;

		if (strlen(log) > from && (at = strstr(log + from, what)))
			return (size_t)(at - log) + strlen(what);
		usleep(10000);
	} while (now_ms() < until);
	fail_msg("'%s' never came in %s:\n%s", what, p->log, proc_log(p));
	return 0;
}

void client_wait_clock(const struct proc *p, unsigned ms)
{
	uint64_t at;

	proc_wait_log(p, 0, "audio clock started at ", WAIT_MS);
	at = log_value(proc_log(p), "audio clock started at ") + ms;
	while (now_ms() < at)
		usleep(10000);
}

void srv_kill9(struct srv *s)
{
	int status;

	kill(s->pid, SIGKILL);
	waitpid(s->pid, &status, 0);
	dump_log(s);
}

void srv_restart(struct srv *s)
{
	unsigned port = s->port;

	if (!launch(s, s->args))
		fail_msg("intercomd did not restart on port %u (its log is above)", port);
	assert_int_equal(s->port, port);
}

const char *srv_log(const struct srv *s)
{
	static char buf[1 << 18];

	if (!s->log[0])
		return last_log;
	read_log(s->log, buf, sizeof(buf));
	return buf;
}

void client_start(struct proc *p, const struct srv *s, const char *nick,
		  const char *const *extra)
{
	client_start_in(p, NULL, "127.0.0.1", s->port, nick, extra);
}

const char *const harness_deployed[] = {"nice", "-n", "-10", NULL};

void client_start_in(struct proc *p, const char *const *prefix, const char *host,
		     unsigned port, const char *nick, const char *const *extra)
{
	static char server[64], box_dir[16][128];
	static unsigned next_box;
	char *argv[48];
	int n = 0;
	bool own_dir = false;

	snprintf(server, sizeof(server), "%s:%u", host, port);
	for (int i = 0; extra[i]; i++)
		own_dir |= !strcmp(extra[i], "--state-dir");
	for (int i = 0; prefix && prefix[i] && n < 8; i++)
		argv[n++] = (char *)prefix[i];
	argv[n++] = getenv("INTERCOM");
	assert_non_null(argv[n - 1]);
	argv[n++] = "--server";
	argv[n++] = server;
	argv[n++] = "--nick";
	argv[n++] = (char *)nick;
	if (!own_dir) {
		/* each box its own identity and known_servers, under this program's state
		 * directory: a pin from another test's server on a reused port never
		 * meets it (one box per nick, so a restarted box is the same box) */
		char *d = box_dir[next_box++ % 16];

		snprintf(d, sizeof(box_dir[0]), "%s/box-%s", harness_state_dir(), nick);
		argv[n++] = "--state-dir";
		argv[n++] = d;
	}
	for (int i = 0; extra[i] && n < 47; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	proc_start(p, argv);
}

unsigned long long log_value(const char *log, const char *key)
{
	const char *at = strstr(log, key);

	if (!at)
		fail_msg("'%s' not in the log:\n%s", key, log);
	return strtoull(at + strlen(key), NULL, 10);
}

unsigned long long assert_heard(const char *ear_log, unsigned long long sent)
{
	const char *v = strstr(ear_log, "voice: sent ");
	unsigned long long got, frames, late, dropped;

	if (!v)
		fail_msg("no voice line in the log:\n%s", ear_log);
	got = log_value(v, "received ");
	frames = log_value(v, "frames ");
	late = log_value(v, "late ");
	dropped = log_value(v, "dropped ");
	print_message("sent %llu: received %llu, played %llu, late %llu, dropped %llu\n",
		      sent, got, frames, late, dropped);
	assert_true(got * 100 >= sent * 95);
	/* accounted for, but for what a box still had queued when it stopped */
	assert_true(frames + late + dropped + HARNESS_QUEUED_MAX >= got);
	assert_true(frames * 100 >= sent * 50);
	return frames;
}

static int pulse_air(const char *cmd, const char *dir)
{
	char line[256];
	int st;

	snprintf(line, sizeof(line), "%s %s %s", getenv("PULSE_AIR"), cmd, dir);
	st = system(line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool pulse_air_start(char *dir, size_t dirlen, const char *name)
{
	char v[128];
	int rc;

	snprintf(dir, dirlen, "/tmp/itest-%s-%d", name, (int)getpid());
	rc = pulse_air("start", dir);
	if (rc == 77)
		return false;
	assert_int_equal(rc, 0);
	/* the boxes find the devices in $HOME/.asoundrc; paplay and parec the server */
	setenv("HOME", dir, 1);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	snprintf(v, sizeof(v), "unix:%s/native", dir);
	setenv("PULSE_SERVER", v, 1);
	return true;
}

int pulse_air_stop(const char *dir, bool started)
{
	char cmd[128];

	if (started)
		pulse_air("stop", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}
