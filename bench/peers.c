#include "peers.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

/* The number after "key": in text, or -1. */
static double json_num(const char *text, const char *key)
{
	char pat[64];
	const char *at;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	at = strstr(text, pat);
	return at ? atof(at + strlen(pat)) : -1;
}

int peer_floor(const char *fwdbench, const char *mode, unsigned n, unsigned k,
	       double secs, unsigned payload, struct peer_result *r)
{
	char cmd[512], line[1024];
	unsigned dests = n - 1 > 64 ? 64 : n - 1; /* fwdbench fans out to at most 64 */
	unsigned pkts = (unsigned)(k * 50 * secs);
	double per_out = -1;
	long delivered = -1, sent = -1;
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(cmd, sizeof(cmd), "%s %s %u %u %u 2>&1", fwdbench, mode, pkts, dests,
		 payload + 12);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p;

		if ((p = strstr(line, "cpu/out_pkt=")))
			per_out = atof(p + strlen("cpu/out_pkt="));
		if ((p = strstr(line, "delivered=")))
			delivered = atol(p + strlen("delivered="));
		if ((p = strstr(line, "out_sent=")))
			sent = atol(p + strlen("out_sent="));
	}
	if (pclose(f) != 0 || per_out < 0 || sent <= 0)
		return -1;
	r->us_per_copy = per_out;
	r->expected = (double)pkts * dests;
	r->delivered = (double)delivered;
	r->dests = dests;
	return 0;
}

/* A loopback port free right now, for murmurd, which cannot be told to pick one and
 * report it (our own server takes --port 0 instead). Only a bench uses it. */
static unsigned free_port(void)
{
	struct sockaddr_in a = bench_lo(0);
	socklen_t l = sizeof(a);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned p = 0;

	if (u >= 0 && !bind(u, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(u, (struct sockaddr *)&a, &l))
		p = ntohs(a.sin_port);
	if (u >= 0)
		close(u);
	return p;
}

int peer_murmur(const char *murmurd, const char *load_py, unsigned n, unsigned k,
		double secs, struct peer_result *r)
{
	char dir[] = "/tmp/bench-murmur-XXXXXX", ini[128], json[128], cmd[1024],
	     buf[8192];
	unsigned port = free_port();
	pid_t pid;
	FILE *f;
	size_t len;
	int ok = -1, status;

	memset(r, 0, sizeof(*r));
	if (!mkdtemp(dir))
		return -1;
	snprintf(ini, sizeof(ini), "%s/murmur.ini", dir);
	snprintf(json, sizeof(json), "%s/result.json", dir);
	f = fopen(ini, "w");
	if (!f)
		return -1;
	/* the settings shared/peers/README.md gives for a fair load: no limits in the way
	 */
	fprintf(
	    f,
	    "database=%s/murmur.sqlite\nhost=127.0.0.1\nport=%u\nusers=1000\n"
	    "usersperchannel=0\nautobanAttempts=0\nautobanTimeframe=0\nautobanTime=0\n"
	    "bandwidth=558000\nmessageburst=1000\nmessagelimit=1000\ntimeout=120\n"
	    "certrequired=false\nlogfile=%s/murmur.log\nbonjour=false\n",
	    dir, port, dir);
	fclose(f);
	if (geteuid() ==
	    0) { /* murmurd drops to mumble-server, which must own its files */
		snprintf(cmd, sizeof(cmd), "chown -R mumble-server %s 2>/dev/null", dir);
		if (system(cmd) != 0)
			fprintf(stderr,
				"bench_relay: could not hand %s to mumble-server\n", dir);
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 1), dup2(null, 2);
		execl(murmurd, murmurd, "-ini", ini, "-fg", (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	for (int tries = 0; tries < 500; tries++) { /* until it listens */
		struct sockaddr_in a = bench_lo(port);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int up = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

		close(fd);
		if (up)
			break;
		usleep(10000);
	}
	snprintf(cmd, sizeof(cmd),
		 "python3 %s --port %u -n %u -k %u -d %.0f --server-pid %d --json %s "
		 ">%s/load.log 2>&1",
		 load_py, port, n, k, secs, (int)pid, json, dir);
	if (system(cmd) == 0 && (f = fopen(json, "r"))) {
		len = fread(buf, 1, sizeof(buf) - 1, f);
		buf[len] = '\0';
		fclose(f);
		r->us_per_copy = json_num(buf, "us_per_copy");
		r->expected = json_num(buf, "expected_copies");
		r->delivered = json_num(buf, "delivered_copies");
		r->rss_mb = json_num(buf, "server_peak_rss_kb") / 1024.0;
		r->dests = n - 1;
		ok = r->us_per_copy > 0 ? 0 : -1;
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (ok == 0 && system(cmd) != 0)
		fprintf(stderr, "bench_relay: %s left behind\n", dir);
	else if (ok)
		fprintf(stderr, "bench_relay: murmurd run failed: see %s/load.log\n",
			dir);
	return ok;
}
