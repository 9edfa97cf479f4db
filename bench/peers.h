/* peers.h: what bench_relay --compare sets beside intercomd under the same load: the bare
 * UDP fan-out floor (shared/perf/fwdbench.c) and a Mumble server (murmurd, driven by
 * shared/peers/mumble_load.py through its TCP voice path). */
#ifndef IC_PEERS_H
#define IC_PEERS_H

struct peer_result {
	double us_per_copy; /* CPU per forwarded copy */
	double expected, delivered;
	double rss_mb; /* peak, where known */
	unsigned dests;
};

/* The floor: fwdbench MODE ("batch" or "sendmmsg") forwarding K talkers' packets for SECS
 * to min(N - 1, 64) destinations. Returns 0, or -1 if it could not run. */
int peer_floor(const char *fwdbench, const char *mode, unsigned n, unsigned k,
	       double secs, unsigned payload, struct peer_result *r);

/* murmurd under N clients, K talking for SECS (its own temporary config, port and
 * database). Returns 0, or -1 if it could not run. */
int peer_murmur(const char *murmurd, const char *load_py, unsigned n, unsigned k,
		double secs, struct peer_result *r);

#endif
