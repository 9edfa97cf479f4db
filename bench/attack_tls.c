/* attack_tls.c: floods of TLS records that carry no line, on a logged-in TLS connection
 * from 127.0.0.2, each beside a baseline window measured in the same run:
 *
 *   keyupdate  KeyUpdates asking for one back, as fast as the server takes them (each
 *              costs it a key derivation and a KeyUpdate of its own in answer)
 *   tlsjunk    4 warning alerts (user_cancelled), 31 empty records and one byte of data,
 *              over and over: the most records OpenSSL takes without ending the
 *              connection, each one decrypted
 *
 * The records after the attacker's handshake are sealed by hand with its own traffic
 * keys (tlsforge.c): no honest TLS stack writes them on demand. The attacker is a
 * process of its own (another host: its work never delays the bench's own loop, which
 * timestamps the honest voice), writing as fast as the server takes the bytes and
 * throwing the answers away unread, so the server's answers never make it wait, until
 * the server closes the connection (a flood of records without lines past
 * IC_TLS_OVERHEAD_BURST) or the window ends. One connection, as the attack is defined:
 * an attacker that logs in again each time is a login churn as well (`churn`, and the
 * handshake limits). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attack.h"
#include "tlsctx.h"
#include "tlsforge.h"
#include "vclient.h"

/* Bytes of records sealed at a time, under one connection's keys: more than the server
 * takes from a connection before it closes it (IC_TLS_OVERHEAD_BURST); more are sealed
 * if it does not. */
#define FLOOD_BATCH (256 * 1024)

struct flood {
	bool keyupdates;
	int fd;
	SSL *ssl;
	void *ctx, *key, *cert; /* one identity for every login */
	struct tlsforge *f;
	uint8_t *out; /* FLOOD_BATCH bytes */
	size_t len, off;
	double done;		  /* records in batches sent whole */
	unsigned long long batch; /* records in this one */
	pid_t pid;		  /* the flooding process */
	/* shared with it: what it sent */
	struct flood_count {
		double records, bytes;
		double closed_ms; /* when the server closed it, after the flood began; 0:
				     never */
	} * count;
};

/* One line from the attacker, sealed by hand like the rest. */
static int flood_line(struct flood *fl, const char *line)
{
	uint8_t rec[256 + TLSFORGE_OVERHEAD];
	size_t n = strlen(line) < 256
		       ? tlsforge_record(fl->f, 0x17, line, strlen(line), rec)
		       : 0;

	return n && send(fl->fd, rec, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Read the server's lines until one starts with prefix (within 5 s); its rest into
 * arg. */
static int flood_await(struct flood *fl, const char *prefix, char *arg, size_t arglen)
{
	char in[16384], *p, *nl;
	size_t len = 0;

	for (int tries = 0; tries < 500;) {
		struct pollfd pf = {fl->fd, POLLIN, 0};
		int n = SSL_read(fl->ssl, in + len, (int)(sizeof(in) - 1 - len));

		if (n <= 0) {
			if (SSL_get_error(fl->ssl, n) != SSL_ERROR_WANT_READ)
				return -1;
			tries += poll(&pf, 1, 10) == 0;
			continue;
		}
		len += (size_t)n;
		in[len] = '\0';
		if ((p = strstr(in, prefix)) && (nl = strchr(p, '\n'))) {
			*nl = '\0';
			snprintf(arg, arglen, "%s", p + strlen(prefix));
			return 0;
		}
		if (len > sizeof(in) / 2) { /* lists only: keep the last line's start */
			p = strrchr(in, '\n');
			len = p ? strlen(p + 1) : 0;
			memmove(in, p ? p + 1 : in, len);
		}
	}
	return -1;
}

/* Close the attacker's connection (its identity kept). */
static void flood_hangup(struct flood *fl)
{
	tlsforge_free(fl->f);
	fl->f = NULL;
	SSL_free(fl->ssl);
	fl->ssl = NULL;
	ERR_clear_error();
	if (fl->fd >= 0)
		close(fl->fd);
	fl->fd = -1;
	fl->done += (double)fl->batch * (fl->len ? (double)fl->off / (double)fl->len : 0);
	fl->len = fl->off = 0;
	fl->batch = 0;
}

/* Log the attacker in as a box; from then on every record it sends is sealed here. */
static int flood_login(struct flood *fl)
{
	char ping[64], line[96], pong[64];

	flood_hangup(fl);
	fl->fd = attack_connect_from("127.0.0.2", SOCK_STREAM);
	if (fl->fd < 0 ||
	    !(fl->ssl = vcli_tls_handshake(fl->ctx, fl->fd, fl->key, fl->cert)) ||
	    tlsforge_new(&fl->f, fl->ssl) ||
	    flood_line(fl, "CONNECT: \"Flood\" \"\" 1.1.0\n") ||
	    flood_await(fl, "PING: ", ping, sizeof(ping)))
		return -1;
	/* ACCEPT and VOICE came with the PING; the answer to a PING of ours says the
	 * PONG, and with it the login, went through */
	snprintf(line, sizeof(line), "PONG: %s\nPING: flood\n", ping);
	if (flood_line(fl, line) || flood_await(fl, "PONG: ", pong, sizeof(pong)))
		return -1;
	fcntl(fl->fd, F_SETFL, fcntl(fl->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* The next batch of records. */
static void flood_refill(struct flood *fl)
{
	static const uint8_t user_cancelled[2] = {1, 90};

	fl->done += (double)fl->batch;
	fl->len = fl->off = fl->batch = 0;
	while (fl->len + 64 * (TLSFORGE_OVERHEAD + 2) < FLOOD_BATCH) {
		if (fl->keyupdates) {
			fl->len += tlsforge_key_update(fl->f, true, fl->out + fl->len);
			fl->batch++;
			continue;
		}
		for (int k = 0; k < 4; k++)
			fl->len += tlsforge_record(fl->f, 0x15, user_cancelled, 2,
						   fl->out + fl->len);
		for (int k = 0; k < 31; k++)
			fl->len +=
			    tlsforge_record(fl->f, 0x17, NULL, 0, fl->out + fl->len);
		fl->len += tlsforge_record(fl->f, 0x17, "x", 1, fl->out + fl->len);
		fl->batch += 36;
	}
}

/* Some of the batch went out: count it. */
static void flood_sent(struct flood *fl, size_t n)
{
	fl->off += n;
	fl->count->bytes += (double)n;
	fl->count->records =
	    fl->done + (double)fl->batch * (double)fl->off / (double)fl->len;
}

/* The flooding process: the answers thrown away unread as they come, and records as
 * fast as the server takes them (the socket fills while it does not: the bound at
 * work), until the server closes the connection or the parent stops it. */
static void flood_child(struct flood *fl)
{
	char sink[65536];
	uint64_t t0 = hostile_ms();

	/* another host's CPU, not the measured server's: on a loopback bench the two
	 * share cores, and the attacker yields them */
	(void)setpriority(PRIO_PROCESS, 0, 19);
	for (;;) {
		struct pollfd pf = {fl->fd, POLLIN | POLLOUT, 0};
		ssize_t n = 1;

		if (poll(&pf, 1, -1) < 0)
			break;
		while (n > 0) /* the answers, so the server never waits to write them */
			n = recv(fl->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			break;
		if (!(pf.revents & POLLOUT))
			continue;
		if (fl->off == fl->len)
			flood_refill(fl);
		n = send(fl->fd, fl->out + fl->off,
			 fl->len - fl->off < 65536 ? fl->len - fl->off : 65536,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			flood_sent(fl, (size_t)n);
		else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			break;
	}
	fl->count->closed_ms = (double)(hostile_ms() - t0);
	_exit(0);
}

static int flood_start(struct flood *fl)
{
	fl->count = mmap(NULL, sizeof(*fl->count), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fl->count == MAP_FAILED) {
		fl->count = NULL;
		return -1;
	}
	memset(fl->count, 0, sizeof(*fl->count));
	fl->ctx = vcli_tls_ctx();
	if (!fl->ctx || tlsforge_ctx(fl->ctx) ||
	    vcli_identity(&fl->key, &fl->cert, "Flood") ||
	    !(fl->out = malloc(FLOOD_BATCH)) || flood_login(fl)) {
		fprintf(stderr, "bench_attack: the flooding box could not log in\n");
		return -1;
	}
	fl->pid = fork();
	if (fl->pid == 0)
		flood_child(fl);
	return fl->pid < 0 ? -1 : 0;
}

static void flood_close(struct flood *fl)
{
	if (fl->pid > 0) {
		kill(fl->pid, SIGKILL);
		waitpid(fl->pid, NULL, 0);
	}
	if (fl->count)
		munmap(fl->count, sizeof(*fl->count));
	flood_hangup(fl);
	vcli_identity_free(fl->key, fl->cert);
	tlsctx_free(fl->ctx);
	free(fl->out);
}

static int run_flood(bool keyupdates)
{
	const char *name = keyupdates ? "keyupdate" : "tlsjunk";
	struct attack_figures base, hit;
	struct flood_count got;
	struct flood fl;
	char label[64];
	int r = -1;

	memset(&fl, 0, sizeof(fl));
	fl.fd = -1;
	fl.keyupdates = keyupdates;
	if (attack_start_server(true, NULL))
		return -1;
	if (attack_login_members())
		goto out;
	snprintf(label, sizeof(label), "%s: baseline", name);
	attack_window(label, NULL, NULL, 0, &base);
	if (flood_start(&fl))
		goto out;
	snprintf(label, sizeof(label), "%s: attack", name);
	attack_window(label, NULL, NULL, 0, &hit);
	got = *fl.count;
	if (got.closed_ms > 0)
		snprintf(label, sizeof(label), ", closed by the server after %.0f ms",
			 got.closed_ms);
	else
		snprintf(label, sizeof(label), ", never closed");
	printf("  %s: %.0f records (%.1f MB) written by the attacker%s; honest voice %s, "
	       "p50 %+.1f ms, p99 %+.1f ms from the baseline\n",
	       name, got.records, got.bytes / 1e6, label,
	       hit.delivered >= 100.0 ? "all delivered" : "NOT all delivered",
	       hit.p50 - base.p50, hit.p99 - base.p99);
	r = 0;
out:
	flood_close(&fl);
	attack_stop_server();
	return r;
}

int attack_run_keyupdate(void)
{
	return run_flood(true);
}

int attack_run_tlsjunk(void)
{
	return run_flood(false);
}
